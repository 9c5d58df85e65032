//! Development and test tooling for the notes backend: real dependencies on loopback.
//!
//! The pieces, each usable on its own:
//!
//! - [`dynamodb_local`] starts the official DynamoDB Local jar (installed by npm) on a free
//!   loopback port, tied to the lifetime of the current process.
//! - [`tables`] reads the DynamoDB table definitions from `template.yaml`, the single source of
//!   truth for the schema, and creates the same tables in DynamoDB Local.
//! - [`cognito_local`] starts moto as the local Cognito and creates in it the user pool and app
//!   client of `template.yaml`.
//! - [`runtime_api`] emulates the Lambda Runtime API so that the real function binaries can be
//!   invoked over the real protocol, one sandbox per function process.
//! - [`deletion_feed`] delivers the local pool's user deletions to the `purge` function, as
//!   EventBridge delivers CloudTrail's records in AWS.
//! - [`s3_local`] creates the audio bucket in moto's S3 (the same moto server as Cognito).
//! - [`polly_local`] serves Amazon Polly's `SynthesizeSpeech` on a loopback port with real
//!   speech (espeak-ng, encoded to mp3 by lame), for the dictate function's real SDK.
//! - [`jwt_authorizer`] checks tokens as an HTTP API's JWT authorizer does (`make dev API=http`).
//! - [`waf_rate_limit`] is the REST API's WAF web ACL: a per-caller rate limit in front of the
//!   local API.
//! - [`mp3`] checks that bytes are MPEG Layer III audio and measures how long they play.
//!
//! [`testing`] combines them into the helpers that the integration tests of the other crates
//! use: one shared DynamoDB Local per test process and a fresh set of tables per test.
//!
//! This crate is never deployed. It still follows the house rules (no panics, actionable
//! errors) because a confusing failure in test tooling costs as much time as one in production.

pub mod account_data;
pub mod binaries;
pub mod cognito_local;
pub mod deletion_feed;
pub mod dynamodb_local;
pub mod error;
pub mod gateway;
pub mod issuer;
pub mod jwt_authorizer;
pub mod local_api;
pub mod mp3;
pub mod polly_local;
pub mod runtime_api;
pub mod s3_local;
mod supervised;
pub mod tables;
pub mod testing;
pub mod waf_rate_limit;
pub mod web_client;

use std::path::{Path, PathBuf};

pub use cognito_local::{
    CognitoClient, CognitoLocal, CognitoLocalError, LocalPool, UserPoolTemplate,
};
pub use dynamodb_local::{DynamoDbLocal, DynamoDbLocalOptions, find_jar_dir};
pub use error::DevkitError;
pub use runtime_api::{Invocation, LambdaSandbox, Outcome};
pub use tables::{
    TableSpec, client_for_endpoint, count_items, create_table, ensure_table, env_var_for_table,
    load_table_specs, template_path,
};
pub use testing::{TestTables, fresh_tables, shared_dynamodb_endpoint};

/// The workspace root (two levels above this crate's `CARGO_MANIFEST_DIR`, resolved at compile
/// time).
///
/// Resolved at compile time on purpose: tests run with the crate directory as the working
/// directory, a dev server may run from anywhere, and both must find the same `template.yaml`
/// and `node_modules`.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `crates/notes-devkit` -> workspace root. If the crate were ever moved to a shallower
    // place, fall back to the manifest directory rather than panicking.
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_root_contains_the_template_and_the_workspace_manifest() {
        let root = workspace_root();
        assert!(
            root.join("template.yaml").is_file(),
            "no template.yaml in {}",
            root.display()
        );
        assert!(
            root.join("Cargo.toml").is_file(),
            "no Cargo.toml in {}",
            root.display()
        );
    }
}
