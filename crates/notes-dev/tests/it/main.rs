//! Integration tests of notes-dev's web client server and its configuration.

// The workspace denies these lints to keep panics out of code that serves requests. In a test,
// panicking on a broken expectation is how the test fails, so this binary allows them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod deletion_feed;
mod dynamodb_command;
mod web_client;
