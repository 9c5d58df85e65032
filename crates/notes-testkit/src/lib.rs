//! What the tests of the other crates import, as rust-analyzer keeps `test-utils`: real
//! dependencies on loopback, one helper each.
//!
//! - [`testing`]: one shared DynamoDB Local per test process and a fresh set of the template's
//!   tables per test ([`fresh_tables`]), one `call()` of a function under the Runtime API
//!   emulator, an HTTP request helper, the dictation stand-ins for a test ([`testing::TestAudio`]).
//! - [`account_data`]: everything one user owns across the tables and the audio bucket, read
//!   back to check that an account's deletion left nothing behind.
//! - [`issuer`]: tokens no pool would issue (expired, forged, other algorithms) from a local RSA
//!   key, and the JWKS server that publishes it.
//!
//! The stand-ins themselves live in `local-aws`, the Lambda emulator in `local-lambda`: a test
//! names those only for what this crate does not wrap.

pub mod account_data;
pub mod issuer;
pub mod testing;

pub use testing::{TestTables, fresh_tables, shared_dynamodb_endpoint};
