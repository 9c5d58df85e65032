//! Integration tests of notes-devkit against the real things: DynamoDB Local (java), moto as the
//! local Cognito, the local Polly (espeak-ng, lame), and the Runtime API emulator driven over HTTP
//! by a stand-in for a function.

// The workspace denies these lints to keep panics out of code that serves requests. In a test,
// panicking on a broken expectation is how the test fails, so this binary allows them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cognito_local;
mod deletion_feed;
mod dynamodb_local;
mod fake_runtime_client;
mod polly_local;
mod runtime_api;
mod tables;
mod web_client;
