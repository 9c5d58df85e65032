//! JSON responses with the headers every response carries.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

/// A JSON response. Serialising our own response types cannot fail; if it ever did, the caller
/// gets an opaque 500 rather than a panic.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(json) => with_common_headers(status, Body::Text(json), true),
        Err(err) => {
            tracing::error!(error = %err, "response did not serialise");
            json_message(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// A response without a body, e.g. 204 after a delete.
pub fn empty_response(status: StatusCode) -> Response<Body> {
    with_common_headers(status, Body::Empty, false)
}

/// `{"message": "..."}`: the shape of every error body, as API Gateway's own errors have it.
pub(crate) fn json_message(status: StatusCode, message: &str) -> Response<Body> {
    json_response_unchecked(status, &serde_json::json!({ "message": message }))
}

fn json_response_unchecked(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    with_common_headers(status, Body::Text(value.to_string()), true)
}

pub(crate) fn with_common_headers(status: StatusCode, body: Body, json: bool) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if json {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    // Notes are private to their owner: no shared cache may keep them.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `ETag: "3"`: the note's version, for the client to send back as `If-Match`.
pub fn set_etag(response: &mut Response<Body>, version: notes_domain::Version) {
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, value);
    }
}
