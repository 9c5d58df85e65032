//! The HTTP edge shared by every function: who the caller is (from the authorizer context only),
//! JSON bodies and query parameters, opaque cursors and the `Link` header that carries them, the
//! one mapping from errors to responses, and the Lambda runtime loop with tracing set up.

mod body;
mod config;
mod cors;
mod cursor;
mod error;
mod idempotency;
mod identity;
mod link;
mod request;
mod response;
mod runtime;
mod views;

#[cfg(feature = "testing")]
pub mod fixtures;

pub use body::{MAX_BODY_BYTES, json_body, present};
pub use config::{ConfigError, flag_env, number_env, optional_env, required_env};
pub use cors::{AllowedOrigins, EXPOSED_HEADERS};
pub use cursor::{decode_note_cursor, decode_post_cursor, encode_note_cursor, encode_post_cursor};
pub use error::{ApiError, error_chain};
pub use idempotency::{
    DEFAULT_WINDOW, IDEMPOTENCY_KEY_HEADER, Idempotency, REPLAYED_HEADER, idempotency_key,
    idempotency_window_from_env,
};
pub use identity::{Caller, caller};
pub use link::set_next_link;
pub use notes_tracing::LogConfig;
pub use request::{
    if_match_version, location_of, page_size, path_parameter, request_path, single_query,
};
pub use response::{empty_response, json_response, set_etag};
pub use runtime::{HttpConfig, init_tracing, request_from_event, run};
pub use views::{NoteView, PostView};

/// Re-exported so function crates name one HTTP toolkit.
pub use lambda_http::{Body, Request, RequestExt, Response, http};
