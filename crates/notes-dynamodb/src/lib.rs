//! DynamoDB adapter: implements the notes-domain storage ports with aws-sdk-dynamodb, and the
//! SDK configuration (HTTP client, timeouts, retries) every function builds once at init.
//!
//! Table layouts are defined in `template.yaml` (the one source the tests and local tooling also
//! read); the attribute names used here must match it.

mod account;
mod client;
mod error;
mod idempotency;
mod notes;
mod posts;
mod usage;
mod warm_up;

pub use account::{AccountTables, DynamoAccountData};
pub use client::{
    AwsConfig, CONNECT_TIMEOUT, MAX_ATTEMPTS, OPERATION_ATTEMPT_TIMEOUT, OPERATION_TIMEOUT,
    client_from_env, dynamodb_client, sdk_config, timeouts_for,
};
pub use idempotency::DynamoIdempotency;
pub use notes::{CREATE_MAX_ATTEMPTS, DynamoNotes, SEARCH_MAX_QUERIES};
pub use posts::DynamoPosts;
pub use usage::DynamoSpeechBudget;
pub use warm_up::{
    CONNECT_AT_INIT_DEFAULT, CONNECT_AT_INIT_VARIABLE, InvalidConnectAtInit, WarmUpCall,
    open_connection_at_init,
};
