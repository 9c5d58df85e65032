//! Reading the parts of a request the functions need: the path, path and query parameters, and
//! the `If-Match` precondition.

use lambda_http::http::header;
use lambda_http::{Request, RequestExt};
use notes_domain::{PageSize, Version};

use crate::ApiError;

/// The request path without the stage and without a trailing slash, e.g. `/notes/search`.
pub fn request_path(request: &Request) -> &str {
    let path = request.uri().path();
    match path.strip_suffix('/') {
        Some("") | None => path,
        Some(trimmed) => trimmed,
    }
}

/// A path parameter (`{id}` in `/notes/{id}`), as API Gateway decoded it.
pub fn path_parameter<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.path_parameters_ref()?.first(name)
}

/// A query parameter that may appear at most once.
pub fn single_query<'a>(request: &'a Request, name: &str) -> Result<Option<&'a str>, ApiError> {
    let Some(values) = request
        .query_string_parameters_ref()
        .and_then(|query| query.all(name))
    else {
        return Ok(None);
    };
    match values.as_slice() {
        [] => Ok(None),
        [value] => Ok(Some(value)),
        _ => Err(ApiError::BadRequest(format!(
            "query parameter `{name}` may only be given once"
        ))),
    }
}

/// `?limit=`: an integer from 1 to 100, 25 when absent.
pub fn page_size(request: &Request) -> Result<PageSize, ApiError> {
    match single_query(request, "limit")? {
        None => Ok(PageSize::DEFAULT),
        Some(raw) => {
            let value = raw.trim().parse::<i64>().map_err(|_| {
                ApiError::BadRequest(format!(
                    "limit must be an integer from 1 to {}",
                    PageSize::MAX
                ))
            })?;
            Ok(PageSize::new(value)?)
        }
    }
}

/// The version an `If-Match` header expects: `"3"` (an ETag as we send it) or a bare `3`.
pub fn if_match_version(request: &Request) -> Result<Option<Version>, ApiError> {
    let mut values = request.headers().get_all(header::IF_MATCH).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::BadRequest(
            "If-Match may only be given once".into(),
        ));
    }
    let invalid = || {
        ApiError::BadRequest(
            "If-Match must be the note's version as returned in its ETag, e.g. \"3\"".into(),
        )
    };
    let text = value.to_str().map_err(|_| invalid())?.trim();
    let unquoted = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if unquoted.is_empty() || !unquoted.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let number = unquoted.parse::<u64>().map_err(|_| invalid())?;
    Ok(Some(Version::new(number)?))
}

/// Where a created resource can be read: the collection path as the client called it (with the
/// stage, e.g. `/Prod/notes`) followed by the id.
pub fn location_of(request: &Request, id: &str) -> String {
    let collection = crate::link::called_path(request);
    format!("{}/{id}", collection.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;
    use std::collections::HashMap;

    fn with_query(pairs: &[(&str, &str)]) -> Request {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            map.entry((*k).to_owned())
                .or_default()
                .push((*v).to_owned());
        }
        Request::new(Body::Empty).with_query_string_parameters(map)
    }

    type Query<'a> = &'a [(&'a str, &'a str)];

    #[test]
    fn limits() {
        let cases: &[(Query, Option<u8>, &str)] = &[
            (&[], Some(25), "default"),
            (&[("limit", "1")], Some(1), "minimum"),
            (&[("limit", "100")], Some(100), "maximum"),
            (&[("limit", "0")], None, "zero"),
            (&[("limit", "101")], None, "above maximum"),
            (&[("limit", "-5")], None, "negative"),
            (&[("limit", "99999999999999999999999")], None, "huge"),
            (&[("limit", "ten")], None, "not a number"),
            (&[("limit", "1.5")], None, "fraction"),
            (&[("limit", "")], None, "empty"),
            (&[("limit", "5"), ("limit", "6")], None, "repeated"),
        ];
        for (query, expected, why) in cases {
            let got = page_size(&with_query(query)).ok().map(PageSize::get);
            assert_eq!(got, *expected, "{why}");
        }
    }

    #[test]
    fn if_match() {
        type Expected = Result<Option<u64>, ()>;
        let cases: &[(&[&str], Expected, &str)] = &[
            (&[], Ok(None), "absent"),
            (&["\"3\""], Ok(Some(3)), "quoted ETag"),
            (&["7"], Ok(Some(7)), "bare number"),
            (&["\"0\""], Err(()), "zero"),
            (&["*"], Err(()), "wildcard"),
            (&["W/\"3\""], Err(()), "weak ETag"),
            (&["abc"], Err(()), "garbage"),
            (&["\"1\"", "\"2\""], Err(()), "twice"),
            (&["99999999999999999999999"], Err(()), "overflow"),
        ];
        for (values, expected, why) in cases {
            let mut request = Request::new(Body::Empty);
            for value in *values {
                request
                    .headers_mut()
                    .append(header::IF_MATCH, value.parse().unwrap());
            }
            let got = if_match_version(&request)
                .map(|v| v.map(Version::get))
                .map_err(|_| ());
            assert_eq!(got, *expected, "{why}");
        }
    }
}
