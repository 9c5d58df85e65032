//! Integration tests of the tables the test kit creates from the template in DynamoDB Local.

// The workspace denies these lints to keep panics out of code that serves requests. In a test,
// panicking on a broken expectation is how the test fails, so this binary allows them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod tables;
