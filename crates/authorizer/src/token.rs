//! Reading a token before any cryptography: the `Authorization` header's shape, the size limit,
//! the three base64url parts and the header's `alg` and `kid`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::Rejection;

/// Cognito tokens are 1-2 KiB, more with many groups; anything over 8 KiB is refused unread.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The token from an `Authorization` value: `Bearer <jwt>` (any case) or a bare `<jwt>`.
pub fn bearer_token(header: &str) -> Result<&str, Rejection> {
    let header = header.trim();
    let token = match header.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return Err(Rejection::Malformed("unexpected authorization scheme")),
        None if header.eq_ignore_ascii_case("bearer") => "",
        None => header,
    };
    if token.is_empty() {
        return Err(Rejection::Malformed("no token"));
    }
    Ok(token)
}

/// What the header says about how to verify the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    pub kid: String,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    kid: Option<String>,
}

/// Checks the token's shape and reads its header: three non-empty base64url parts, at most
/// [`MAX_TOKEN_BYTES`], a JSON header with `alg` RS256 (never `none` or HS*) and a `kid`.
pub fn parse_header(token: &str) -> Result<TokenHeader, Rejection> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Rejection::Oversized);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed("not three dot-separated parts"));
    };
    for part in [header, claims, signature] {
        if part.is_empty()
            || !part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Rejection::Malformed("a part is empty or not base64url"));
        }
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| Rejection::Malformed("header is not base64url"))?;
    let raw: RawHeader = serde_json::from_slice(&bytes)
        .map_err(|_| Rejection::Malformed("header is not a JWT header"))?;
    if raw.alg != "RS256" {
        return Err(Rejection::UnsupportedAlgorithm);
    }
    match raw.kid {
        Some(kid) if !kid.is_empty() && kid.len() <= 256 => Ok(TokenHeader { kid }),
        _ => Err(Rejection::Malformed("header has no usable kid")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn bearer_forms() {
        let cases: &[(&str, Option<&str>)] = &[
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("BEARER   abc  ", Some("abc")),
            ("abc", Some("abc")),
            ("Bearer", None),
            ("Bearer ", None),
            ("", None),
            ("   ", None),
            ("Basic dXNlcjpwYXNz", None),
        ];
        for (header, expected) in cases {
            assert_eq!(bearer_token(header).ok(), *expected, "{header:?}");
        }
    }

    #[test]
    fn header_shapes() {
        let good = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256","kid":"k1"}"#),
            b64("{}"),
            "c2ln"
        );
        assert_eq!(parse_header(&good).unwrap().kid, "k1");
        let cases = [
            (
                format!("{}.{}", b64(r#"{"alg":"RS256","kid":"k1"}"#), b64("{}")),
                "two parts",
            ),
            (format!("{good}.extra"), "four parts"),
            (
                format!("{}.{}.", b64(r#"{"alg":"RS256","kid":"k1"}"#), b64("{}")),
                "empty signature",
            ),
            (
                format!("{}.{}.c2ln", b64(r#"{"alg":"none","kid":"k1"}"#), b64("{}")),
                "alg none",
            ),
            (
                format!(
                    "{}.{}.c2ln",
                    b64(r#"{"alg":"HS256","kid":"k1"}"#),
                    b64("{}")
                ),
                "HS256",
            ),
            (
                format!(
                    "{}.{}.c2ln",
                    b64(r#"{"alg":"RS512","kid":"k1"}"#),
                    b64("{}")
                ),
                "RS512",
            ),
            (
                format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#), b64("{}")),
                "no kid",
            ),
            (
                format!("{}.{}.c2ln", b64(r#"{"alg":"RS256","kid":""}"#), b64("{}")),
                "empty kid",
            ),
            (
                format!("{}.{}.c2ln", b64(r#"{"alg":"RS256","kid":7}"#), b64("{}")),
                "numeric kid",
            ),
            (
                format!("{}.{}.c2ln", b64("[]"), b64("{}")),
                "header not an object",
            ),
            ("a+b.c/d.e=f".to_owned(), "standard base64 alphabet"),
            (
                format!(
                    "{}.{}.{}",
                    "x".repeat(4000),
                    "y".repeat(4000),
                    "z".repeat(300)
                ),
                "over 8 KiB",
            ),
        ];
        for (token, why) in cases {
            assert!(parse_header(&token).is_err(), "{why}");
        }
    }
}
