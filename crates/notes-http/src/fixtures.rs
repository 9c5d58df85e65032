//! Test support: the event fixtures in `events/` (the same files `sam local invoke -e` and
//! `cargo lambda invoke --data-file` take), loaded the way the runtime decodes them. Compiled
//! only with the `testing` feature.

// Test support only: a fixture of an unexpected shape should fail the test on the spot.
#![allow(clippy::indexing_slicing)]

use std::path::PathBuf;

use lambda_http::Request;
use serde_json::Value;

/// `events/<name>` in the workspace.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(name)
}

/// The fixture as raw JSON, for invoking a binary through the Runtime API.
pub fn fixture_json(name: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let path = fixture_path(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read fixture {}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// The fixture as the HTTP request a handler receives.
pub fn fixture_request(name: &str) -> Result<Request, Box<dyn std::error::Error>> {
    let path = fixture_path(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read fixture {}: {e}", path.display()))?;
    Ok(lambda_http::request::from_str(&text)?)
}

/// Status and JSON body of a response (`null` for an empty body).
pub fn status_and_json(response: &lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    let body = response.body().as_ref();
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).unwrap_or(Value::Null)
    };
    (response.status().as_u16(), json)
}

/// The same event as if the TOKEN authorizer had let `username` through.
/// The `sub` the fixtures give a username: alice's, bob's and carol's as in `events/`, `sub-of-<name>`
/// for anyone else. Tests that seed or read the store directly key it by this, as the
/// functions do.
pub fn sub_of(username: &str) -> String {
    match username {
        "alice" => "0f8d4c1e-4b6a-4f7e-9d1c-2a3b4c5d6e7f".to_owned(),
        "bob" => "7c1d2e3f-0a9b-4c8d-8e7f-6a5b4c3d2e1f".to_owned(),
        "carol" => "3c4d5e6f-0000-4000-8000-00000000ca01".to_owned(),
        other => format!("sub-of-{other}"),
    }
}

pub fn as_user(mut event: Value, username: &str) -> Value {
    if let Some(context) = event
        .get_mut("requestContext")
        .and_then(Value::as_object_mut)
    {
        context.insert(
            "authorizer".into(),
            serde_json::json!({ "principalId": sub_of(username), "sub": sub_of(username), "username": username }),
        );
    }
    event
}

/// Sets (or replaces) one query parameter of a REST proxy event.
pub fn with_query(mut event: Value, name: &str, value: &str) -> Value {
    for (key, single) in [
        ("queryStringParameters", true),
        ("multiValueQueryStringParameters", false),
    ] {
        if !event.get(key).is_some_and(Value::is_object) {
            event[key] = serde_json::json!({});
        }
        event[key][name] = if single {
            Value::from(value)
        } else {
            serde_json::json!([value])
        };
    }
    event
}

/// Replaces the body of a REST proxy event.
pub fn with_body(mut event: Value, body: &str) -> Value {
    event["body"] = Value::from(body);
    event["isBase64Encoded"] = Value::from(false);
    event
}

/// Sets one header of a REST proxy event (both header maps, as API Gateway fills both).
pub fn with_header(mut event: Value, name: &str, value: &str) -> Value {
    event["headers"][name] = Value::from(value);
    event["multiValueHeaders"][name] = serde_json::json!([value]);
    event
}

/// The URL of the `rel="next"` entry of a `Link` header (RFC 8288), if there is one.
pub fn next_link(link_header: &str) -> Option<&str> {
    let mut rest = link_header;
    loop {
        let start = rest.find('<')?;
        let end = start + rest.get(start..)?.find('>')?;
        let url = rest.get(start + 1..end)?;
        let after = rest.get(end + 1..)?;
        let params_end = after.find('<').unwrap_or(after.len());
        let params = after.get(..params_end)?;
        let is_next = params
            .split(';')
            .map(|param| param.trim().trim_end_matches(',').trim())
            .any(|param| param.eq_ignore_ascii_case("rel=\"next\"") || param == "rel=next");
        if is_next {
            return Some(url);
        }
        rest = after.get(params_end..)?;
    }
}

/// The event of the request a link names: `event` with the link's query parameters (decoded)
/// in place of its own, as API Gateway would fill them for a client following the link.
pub fn following(mut event: Value, url: &str) -> Value {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let decoded: lambda_http::aws_lambda_events::query_map::QueryMap =
        query.parse().unwrap_or_default();
    let mut single = serde_json::Map::new();
    let mut multi = serde_json::Map::new();
    for (name, _) in decoded.iter() {
        let values: Vec<&str> = decoded.all(name).unwrap_or_default();
        if let Some(last) = values.last() {
            single.insert(name.to_owned(), Value::from(*last));
        }
        multi.insert(name.to_owned(), serde_json::json!(values));
    }
    event["queryStringParameters"] = Value::Object(single);
    event["multiValueQueryStringParameters"] = Value::Object(multi);
    event
}

/// A proxy integration response as the function returned it to the Runtime API.
#[derive(Debug, Clone)]
pub struct ProxyResponse {
    pub status: u16,
    /// Header names in lower case.
    pub headers: std::collections::HashMap<String, String>,
    /// The body parsed as JSON, or `Null` when empty.
    pub body: Value,
}

impl ProxyResponse {
    /// Reads a REST (`multiValueHeaders`) or HTTP API (`headers`) proxy response.
    pub fn parse(value: &Value) -> Result<Self, String> {
        let status = value["statusCode"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| format!("no statusCode in {value}"))?;
        let mut headers = std::collections::HashMap::new();
        for key in ["headers", "multiValueHeaders"] {
            if let Some(map) = value[key].as_object() {
                for (name, v) in map {
                    let text = match v {
                        Value::Array(values) => values
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", "),
                        other => other.as_str().unwrap_or_default().to_owned(),
                    };
                    headers.insert(name.to_ascii_lowercase(), text);
                }
            }
        }
        let body = match value["body"].as_str() {
            None | Some("") => Value::Null,
            Some(text) => {
                serde_json::from_str(text).map_err(|e| format!("body is not JSON ({e}): {text}"))?
            }
        };
        Ok(Self {
            status,
            headers,
            body,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The next page's URL from the `Link` header; `None` on the last page.
    pub fn next_link(&self) -> Option<&str> {
        self.header("link").and_then(next_link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_link_among_others() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "<https://a.example/p?next=1>; rel=\"next\"",
                Some("https://a.example/p?next=1"),
            ),
            (
                "<https://a.example/p?page=1>; rel=\"prev\", <https://a.example/p?page=3>; rel=\"next\"",
                Some("https://a.example/p?page=3"),
            ),
            ("</relative?next=x>; rel=next", Some("/relative?next=x")),
            ("<https://a.example/p>; rel=\"last\"", None),
            ("garbage", None),
            ("", None),
        ];
        for (header, expected) in cases {
            assert_eq!(next_link(header), *expected, "{header}");
        }
    }

    #[test]
    fn following_a_link_replaces_the_query_with_the_decoded_one() {
        let event = with_query(serde_json::json!({}), "limit", "5");
        let event = following(
            event,
            "https://a.example/Prod/notes/search?text=milk%20%26%20bread&next=abc",
        );
        assert_eq!(event["queryStringParameters"]["text"], "milk & bread");
        assert_eq!(
            event["multiValueQueryStringParameters"]["next"],
            serde_json::json!(["abc"])
        );
        assert!(
            event["queryStringParameters"].get("limit").is_none(),
            "{event}"
        );
    }
}
