//! The local Lambda service: the real function binaries, run over the real Lambda Runtime API.
//!
//! - [`runtime_api`] emulates the Lambda Runtime API so that the real function binaries can be
//!   invoked over the real protocol, one sandbox per function process.
//! - [`binaries`] finds (and builds, with the one dev build command) the workspace's function
//!   binaries.
//!
//! Never deployed; its errors are the dev kit's [`local_aws::DevkitError`].

pub mod binaries;
pub mod runtime_api;

pub use runtime_api::{Invocation, LambdaSandbox, Outcome};
