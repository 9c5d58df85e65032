//! The audio bucket on S3, as the domain's `AudioStore` (dictate: store, find, presign) and
//! `AudioRemover` (delete: every audio of a deleted note). Its own crate so that the delete
//! function gets S3 without Polly, and both functions build the S3 client the same way.

mod audio;
mod sdk_error;

pub use audio::{REMOVAL_PAGE_SIZE, S3Audio};
pub use sdk_error::speech_error;
