//! CORS on every function response: which web origins may read our answers. A browser client
//! (the labs' React app on its dev server or an S3 website, our own page) calls from another
//! origin; without `Access-Control-Allow-Origin` it sees a network error instead of our JSON,
//! and without `Access-Control-Expose-Headers` its script cannot read `ETag` or `Link`.

use lambda_http::http::{HeaderMap, HeaderValue, header};

use crate::ConfigError;

/// The response headers a browser script may read besides the CORS-safelisted ones: the
/// version (`ETag`), a new note's `Location`, the next page (`Link`), when to retry
/// (`Retry-After`) and whether a create was replayed (`Idempotent-Replayed`).
pub const EXPOSED_HEADERS: &str = "ETag, Location, Link, Retry-After, Idempotent-Replayed";

/// The origins allowed to read responses, from `ALLOWED_ORIGINS` (comma-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `*`: any origin (tokens travel in a header, never in cookies, so this leaks nothing a
    /// page could not already send; still, naming the origins is the better default).
    Any,
    /// Exact `scheme://host[:port]` origins; the request's `Origin`, when listed, is echoed.
    List(Vec<HeaderValue>),
}

impl AllowedOrigins {
    /// Parses `*` or a comma-separated list of origins such as
    /// `http://localhost:3000,https://notes.example.com`.
    pub fn parse(name: &'static str, value: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid { name, reason };
        let value = value.trim();
        if value == "*" {
            return Ok(Self::Any);
        }
        let mut origins = Vec::new();
        for origin in value.split(',').map(str::trim) {
            if !is_origin(origin) {
                return Err(invalid(format!(
                    "{origin:?} is not an origin: write scheme://host[:port], without a path \
                     or trailing slash, or a single *"
                )));
            }
            let header =
                HeaderValue::from_str(origin).map_err(|_| invalid(format!("{origin:?}")))?;
            if !origins.contains(&header) {
                origins.push(header);
            }
        }
        Ok(Self::List(origins))
    }

    /// Whether a page on `origin` may read the answers.
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Self::Any => true,
            Self::List(origins) => origins.iter().any(|listed| listed == origin),
        }
    }

    /// Adds the CORS headers for a request that came with `request_origin`.
    ///
    /// A listed origin is echoed with `Vary: Origin`, so a cache never hands one origin's answer
    /// to another; an unlisted or absent one gets no `Access-Control-Allow-Origin`, which makes
    /// the browser withhold the response from the calling script.
    pub fn apply(&self, request_origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        match self {
            Self::Any => {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
            }
            Self::List(origins) => {
                headers.append(header::VARY, HeaderValue::from_static("Origin"));
                if let Some(origin) = request_origin.filter(|origin| origins.contains(origin)) {
                    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                }
            }
        }
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
}

/// `scheme://host[:port]` with an http(s) scheme, a host of letters, digits, dots and dashes, and
/// an optional numeric port: what a browser sends in `Origin`.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    if scheme != "http" && scheme != "https" {
        return false;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok = port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.chars().all(|c| c.is_ascii_digit())
    });
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers_for(allowed: &AllowedOrigins, origin: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let origin = origin.map(|o| HeaderValue::from_str(o).unwrap());
        allowed.apply(origin.as_ref(), &mut headers);
        headers
    }

    #[test]
    fn a_listed_origin_is_echoed_with_vary() {
        let allowed = AllowedOrigins::parse(
            "ALLOWED_ORIGINS",
            "http://localhost:3000, http://127.0.0.1:8080",
        )
        .unwrap();
        for origin in ["http://localhost:3000", "http://127.0.0.1:8080"] {
            let headers = headers_for(&allowed, Some(origin));
            assert_eq!(
                headers
                    .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                    .map(|v| v.as_bytes()),
                Some(origin.as_bytes()),
                "{origin}"
            );
            assert_eq!(
                headers.get(header::VARY).map(|v| v.as_bytes()),
                Some(&b"Origin"[..])
            );
            assert_eq!(
                headers
                    .get(header::ACCESS_CONTROL_EXPOSE_HEADERS)
                    .map(|v| v.as_bytes()),
                Some(EXPOSED_HEADERS.as_bytes())
            );
        }
    }

    #[test]
    fn an_unlisted_or_missing_origin_gets_no_allow_origin_but_still_vary() {
        let allowed = AllowedOrigins::parse("ALLOWED_ORIGINS", "http://localhost:3000").unwrap();
        for origin in [
            Some("http://evil.example"),
            Some("http://localhost:3001"),
            None,
        ] {
            let headers = headers_for(&allowed, origin);
            assert!(
                headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
                "{origin:?}"
            );
            assert_eq!(
                headers.get(header::VARY).map(|v| v.as_bytes()),
                Some(&b"Origin"[..])
            );
        }
    }

    #[test]
    fn allows_names_exactly_the_listed_origins() {
        let listed =
            AllowedOrigins::parse("ALLOWED_ORIGINS", "http://127.0.0.1:8080,https://a.example")
                .unwrap();
        for (origin, expected) in [
            ("http://127.0.0.1:8080", true),
            ("https://a.example", true),
            ("http://localhost:8080", false),
            ("http://127.0.0.1:8081", false),
            ("https://a.example/", false),
        ] {
            assert_eq!(listed.allows(origin), expected, "{origin}");
        }
        assert!(AllowedOrigins::Any.allows("https://anything.example"));
    }

    #[test]
    fn star_allows_any_origin() {
        let allowed = AllowedOrigins::parse("ALLOWED_ORIGINS", " * ").unwrap();
        assert_eq!(allowed, AllowedOrigins::Any);
        let headers = headers_for(&AllowedOrigins::Any, Some("http://anything.example"));
        assert_eq!(
            headers
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .map(|v| v.as_bytes()),
            Some(&b"*"[..])
        );
    }

    #[test]
    fn malformed_lists_are_refused_naming_the_variable() {
        for value in [
            "",
            "localhost:3000",
            "http://localhost:3000/",
            "http://localhost:3000/app",
            "ftp://example.com",
            "http://",
            "http://host:port",
            "http://a.example,,http://b.example",
            "http://a.example, *",
        ] {
            let result = AllowedOrigins::parse("ALLOWED_ORIGINS", value);
            assert!(
                matches!(
                    result,
                    Err(ConfigError::Invalid {
                        name: "ALLOWED_ORIGINS",
                        ..
                    })
                ),
                "{value:?} gave {result:?}"
            );
        }
    }
}
