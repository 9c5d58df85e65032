//! Integration tests of local-aws against the real things: DynamoDB Local (java), moto as the
//! local Cognito and S3, the local Polly (espeak-ng, lame).

// The workspace denies these lints to keep panics out of code that serves requests. In a test,
// panicking on a broken expectation is how the test fails, so this binary allows them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cognito_local;
mod dynamodb_local;
mod polly_local;
