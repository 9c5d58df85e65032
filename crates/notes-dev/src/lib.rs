//! The `notes-dev` command line's library half: what it serves besides the stand-ins.
//!
//! - [`web_client`] serves the web client (`web/`) with its `config.js`, and writes that
//!   configuration for a local stack or a deployed one (`make web-config`).
//!
//! The binary (`src/main.rs`) is `make dev`, `make token`, `make dynamodb` and `make web-config`.

pub mod web_client;
