//! The local API Gateway: the template's REST and HTTP APIs in front of the real function
//! binaries (run by `local-lambda`), as `make dev` and the end-to-end tests serve them.
//!
//! - [`local_api`] serves the template's routes on a loopback port: the REST API with the
//!   authorizer binary, or the HTTP API with its JWT authorizer; CORS and API keys.
//! - [`gateway`] is what API Gateway does with an authorizer's answer (allow, deny, context).
//! - [`jwt_authorizer`] checks tokens as an HTTP API's JWT authorizer does (`make dev API=http`).
//! - [`waf_rate_limit`] is the REST API's WAF web ACL: a per-caller rate limit in front of the
//!   local API.
//!
//! Never deployed; its errors are the dev kit's [`local_aws::DevkitError`].

pub mod gateway;
pub mod jwt_authorizer;
pub mod local_api;
pub mod waf_rate_limit;
