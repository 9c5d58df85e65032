//! Integration tests of the DynamoDB adapter against the official DynamoDB Local: real queries,
//! conditional writes and pagination, on tables created from template.yaml. A fresh pair of
//! tables per test keeps the tests independent.

// Test code: a failed unwrap is a failed test, with the value in the message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod idempotency;
mod notes;
mod posts;
mod usage;

use notes_domain::UserId;
use notes_testkit::testing::{TestTables, fresh_tables};

async fn tables() -> TestTables {
    fresh_tables()
        .await
        .expect("DynamoDB Local and the template's tables")
}

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}
