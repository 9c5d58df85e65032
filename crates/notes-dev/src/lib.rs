//! The `notes-dev` command line's library half: what it serves besides the stand-ins.
//!
//! - [`deletion_feed`] delivers the local pool's user deletions to the `purge` function, as
//!   EventBridge delivers CloudTrail's records in AWS.
//! - [`web_client`] serves the web client (`web/`) with its `config.js`, and writes that
//!   configuration for a local stack or a deployed one (`make web-config`).
//!
//! The binary (`src/main.rs`) is `make dev`, `make token`, `make dynamodb` and `make web-config`.

pub mod deletion_feed;
pub mod web_client;
