//! Request bodies: JSON only, at most 64 KiB, with errors that name the offending field.

use lambda_http::http::header;
use lambda_http::{Body, Request};
use serde::Deserialize as _;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// The largest body accepted. The biggest valid request (a 20,000-character post, or a note of
/// 10,000 four-byte characters, escaped) fits with room to spare.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Decodes the JSON body into `T`: 415 for a non-JSON content type, 413 when too large, 400 for
/// a missing body, invalid JSON, or a field of the wrong type (the message names the field).
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    check_content_type(request)?;
    let bytes: &[u8] = match request.body() {
        Body::Empty => {
            return Err(ApiError::BadRequest(
                "a JSON object is required as the request body".into(),
            ));
        }
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => return Err(ApiError::BadRequest("unsupported request body".into())),
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    // serde would also read a struct from a JSON array (one element per field), and skips
    // unknown fields without serde_json's nesting limit: both are refused up front.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::BadRequest(
            "a JSON object is required as the request body".into(),
        ));
    }
    if nesting_depth(bytes) > MAX_NESTING {
        return Err(ApiError::BadRequest(format!(
            "request body is nested more than {MAX_NESTING} levels deep"
        )));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(describe)?;
    deserializer
        .end()
        .map_err(|err| ApiError::BadRequest(format!("request body is not valid JSON: {err}")))?;
    Ok(value)
}

/// For a field that must not be sent at all: `true` whenever the key is present, whatever its
/// value (`null` included). Use with `#[serde(default, deserialize_with = "...")]` on a `bool`.
pub fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Deeper than any body of this API needs (ours are flat objects).
const MAX_NESTING: usize = 32;

/// The deepest nesting of objects and arrays, ignoring brackets inside strings.
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn describe(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.is_data() && path != "." {
        ApiError::BadRequest(format!("{path}: {inner}"))
    } else if inner.is_data() {
        ApiError::BadRequest(format!("request body: {inner}"))
    } else {
        ApiError::BadRequest(format!("request body is not valid JSON: {inner}"))
    }
}

/// No Content-Type is tolerated (many lab clients omit it); anything but JSON in UTF-8 is a 415.
fn check_content_type(request: &Request) -> Result<(), ApiError> {
    let Some(value) = request.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let value = value.to_str().map_err(|_| ApiError::UnsupportedMediaType)?;
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if !json {
        return Err(ApiError::UnsupportedMediaType);
    }
    for parameter in parts {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("charset")
            && !value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        #[serde(rename = "Note")]
        note: Option<String>,
        #[serde(rename = "Version")]
        version: Option<u64>,
    }

    fn request(content_type: Option<&str>, body: Body) -> Request {
        let mut request = Request::new(body);
        if let Some(value) = content_type {
            request
                .headers_mut()
                .insert(header::CONTENT_TYPE, value.parse().unwrap());
        }
        request
    }

    #[test]
    fn body_outcomes() {
        let json = Some("application/json");
        let cases: Vec<(Option<&str>, Body, u16, &str)> = vec![
            (json, Body::from(r#"{"Note":"hi"}"#), 200, "valid"),
            (None, Body::from(r#"{"Note":"hi"}"#), 200, "no content type"),
            (
                Some("application/json; charset=UTF-8"),
                Body::from(r#"{"Note":"hi"}"#),
                200,
                "utf-8 charset",
            ),
            (
                Some("application/vnd.api+json"),
                Body::from(r#"{"Note":"hi"}"#),
                200,
                "+json type",
            ),
            (
                Some("text/plain"),
                Body::from(r#"{"Note":"hi"}"#),
                415,
                "text/plain",
            ),
            (
                Some("application/x-www-form-urlencoded"),
                Body::from("Note=hi"),
                415,
                "form",
            ),
            (
                Some("application/json; charset=latin1"),
                Body::from(r#"{"Note":"hi"}"#),
                415,
                "other charset",
            ),
            (json, Body::Empty, 400, "no body"),
            (json, Body::from("   "), 400, "blank body"),
            (json, Body::from("{"), 400, "truncated JSON"),
            (json, Body::from("not json"), 400, "not JSON"),
            (
                json,
                Body::from(r#"{"Note":"hi"} {}"#),
                400,
                "trailing data",
            ),
            (json, Body::from("[1,2]"), 400, "array"),
            (json, Body::from("null"), 400, "null"),
            (json, Body::from(r#"{"Note":5}"#), 400, "wrong type"),
            (
                json,
                Body::from(r#"{"Note":"a","Note":"b"}"#),
                400,
                "duplicate key",
            ),
            (json, Body::from(r#"{"Version":1e400}"#), 400, "huge number"),
            (
                json,
                Body::from(r#"{"Version":-1}"#),
                400,
                "negative version",
            ),
            (
                json,
                Body::from("[".repeat(200) + &"]".repeat(200)),
                400,
                "deeply nested",
            ),
            (
                json,
                Body::Binary(vec![b'{', 0xff, 0xfe, b'}']),
                400,
                "invalid UTF-8",
            ),
            (
                json,
                Body::Binary(br#"{"Note":"hi"}"#.to_vec()),
                200,
                "base64 body decoded by the runtime",
            ),
            (
                json,
                Body::from(format!(r#"{{"Note":"{}"}}"#, "x".repeat(MAX_BODY_BYTES))),
                413,
                "over 64 KiB",
            ),
        ];
        for (content_type, body, expected, why) in cases {
            let outcome = json_body::<Sample>(&request(content_type, body));
            let status = match &outcome {
                Ok(_) => 200,
                Err(err) => err.status().as_u16(),
            };
            assert_eq!(status, expected, "{why}: {outcome:?}");
        }
    }

    #[test]
    fn type_errors_name_the_field() {
        let err =
            json_body::<Sample>(&request(None, Body::from(r#"{"Version":"three"}"#))).unwrap_err();
        assert!(err.to_string().starts_with("Version:"), "{err}");
    }

    #[test]
    fn exactly_64_kib_is_accepted() {
        let filler = "x".repeat(MAX_BODY_BYTES - r#"{"Note":""}"#.len());
        let body = format!(r#"{{"Note":"{filler}"}}"#);
        assert_eq!(body.len(), MAX_BODY_BYTES);
        assert!(json_body::<Sample>(&request(None, Body::from(body))).is_ok());
    }
}
