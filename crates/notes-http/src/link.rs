//! Pagination links: a page that has a next one says where it is in a `Link: <URL>; rel="next"`
//! header (RFC 8288, as GitHub's API pages), so that the body can be the bare JSON array the
//! labs' client expects. The URL is the request's own, absolute, with its query parameters and
//! the opaque cursor in `next`.

use lambda_http::http::{HeaderValue, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

/// Sets `Link: <URL>; rel="next"`: this request's URL with the `carried` query parameters it was
/// given (in that order, so that equal requests get equal links) and `next=<cursor>`.
pub fn set_next_link(
    response: &mut Response<Body>,
    request: &Request,
    carried: &[&str],
    cursor: &str,
) {
    let url = next_page_url(request, carried, cursor);
    // Every byte of the URL is encoded to visible ASCII, so this cannot fail; if it ever did,
    // the page would merely look like the last one.
    if let Ok(value) = HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")) {
        response.headers_mut().insert(header::LINK, value);
    }
}

/// The next page's URL. Absolute where the request names its host: the scheme API Gateway saw
/// (`X-Forwarded-Proto`: `http` or `https`, else `https`), the `Host` header as lambda_http
/// parsed it into the request URI (so it is a valid host name, or API Gateway's `domainName`),
/// and the path as the client called it (`called_path`). A relative reference (which RFC 8288
/// also allows) when there is no host.
pub(crate) fn next_page_url(request: &Request, carried: &[&str], cursor: &str) -> String {
    let query = request.query_string_parameters_ref();
    let mut pairs: Vec<(&str, &str)> = carried
        .iter()
        .filter_map(|name| Some((*name, query?.first(name)?)))
        .collect();
    pairs.push(("next", cursor));
    let query = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode_component(name), encode_component(value)))
        .collect::<Vec<_>>()
        .join("&");
    let path = encode_path(&called_path(request));
    let origin = request.uri().host().map(|host| {
        let port = request
            .uri()
            .port_u16()
            .map(|port| format!(":{port}"))
            .unwrap_or_default();
        format!("{}://{host}{port}", forwarded_scheme(request))
    });
    format!("{}{path}?{query}", origin.unwrap_or_default())
}

/// The path as the client called it, stage included (`/Prod/notes` on the execute-api domain,
/// `/notes` on a custom domain mapped at its root): API Gateway's `requestContext.path`, else
/// the request path.
pub(crate) fn called_path(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) => context.path.clone(),
        _ => None,
    }
    .unwrap_or_else(|| request.uri().path().to_owned())
}

/// `http` only when API Gateway (or the local API) says the client used it; anything else
/// (absent, garbage, another scheme) is `https`, what API Gateway serves.
fn forwarded_scheme(request: &Request) -> &'static str {
    let given = request
        .headers()
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .map(str::trim);
    match given {
        Some(scheme) if scheme.eq_ignore_ascii_case("http") => "http",
        _ => "https",
    }
}

/// RFC 3986 percent-encoding of a query name or value: every byte but the unreserved characters.
/// A space becomes `%20`, never `+`, so that no decoder can read it two ways.
fn encode_component(text: &str) -> String {
    encode(text, |byte| {
        byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
    })
}

/// A path with everything outside RFC 3986's path characters encoded, so that it can neither
/// end the `<…>` of the header nor start a query; `%` is kept, as the path is already encoded.
fn encode_path(path: &str) -> String {
    encode(path, |byte| {
        byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            )
    })
}

fn encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if keep(byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::query_map::QueryMap;
    use std::collections::HashMap;

    /// A REST proxy event as API Gateway sends it, with the given host, scheme and query.
    fn request(host: Option<&str>, proto: Option<&str>, query: &[(&str, &str)]) -> Request {
        let mut headers = serde_json::Map::new();
        if let Some(host) = host {
            headers.insert("Host".into(), host.into());
        }
        if let Some(proto) = proto {
            headers.insert("X-Forwarded-Proto".into(), proto.into());
        }
        let single: HashMap<&str, &str> = query.iter().copied().collect();
        let multi: HashMap<&str, Vec<&str>> = query.iter().map(|(k, v)| (*k, vec![*v])).collect();
        let event = serde_json::json!({
            "resource": "/notes/search", "path": "/notes/search", "httpMethod": "GET",
            "headers": headers,
            "multiValueHeaders": headers.iter().map(|(k, v)| (k.clone(), serde_json::json!([v]))).collect::<serde_json::Map<_, _>>(),
            "queryStringParameters": single, "multiValueQueryStringParameters": multi,
            "requestContext": { "httpMethod": "GET", "stage": "Prod", "path": "/Prod/notes/search" },
            "body": null, "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    /// The query of a URL, decoded by an independent decoder (form_urlencoded, via QueryMap).
    fn decoded_query(url: &str) -> QueryMap {
        url.split_once('?').unwrap().1.parse().unwrap()
    }

    #[test]
    fn the_next_url_is_the_request_url_with_its_parameters_and_the_cursor() {
        let host = "abc123.execute-api.us-east-1.amazonaws.com";
        let cases: &[(Option<&str>, Option<&str>, &str, &str)] = &[
            (
                Some(host),
                Some("https"),
                "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/notes/search",
                "API Gateway",
            ),
            (
                Some("127.0.0.1:3000"),
                Some("http"),
                "http://127.0.0.1:3000/Prod/notes/search",
                "the local API, port kept",
            ),
            (
                Some(host),
                None,
                "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/notes/search",
                "no X-Forwarded-Proto: https",
            ),
            (
                Some(host),
                Some("javascript"),
                "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/notes/search",
                "another scheme is never echoed",
            ),
            (
                Some(host),
                Some("HTTP"),
                "http://abc123.execute-api.us-east-1.amazonaws.com/Prod/notes/search",
                "in any case",
            ),
            (
                Some("evil.example@abc123.example"),
                Some("https"),
                "https://abc123.example/Prod/notes/search",
                "userinfo smuggled in Host is dropped",
            ),
            (
                None,
                None,
                "/Prod/notes/search",
                "no host: a relative reference",
            ),
        ];
        let query = [("text", "milk"), ("limit", "2")];
        for (host, proto, base, why) in cases {
            let url = next_page_url(&request(*host, *proto, &query), &["limit", "text"], "CUR");
            assert_eq!(url, format!("{base}?limit=2&text=milk&next=CUR"), "{why}");
        }
    }

    #[test]
    fn query_values_are_encoded_so_that_they_decode_to_what_was_sent() {
        let texts = [
            "milk & bread",
            "a+b=c",
            "100%",
            "#hash?",
            "Straße 🦀",
            "<>\"';,/",
            "",
        ];
        for text in texts {
            let url = next_page_url(
                &request(Some("h.example"), None, &[("text", text)]),
                &["limit", "text"],
                "eyJ2IjoxfQ",
            );
            let (_, query) = url.split_once('?').unwrap();
            assert!(
                query.bytes().all(|b| b.is_ascii_graphic() && b != b'#'),
                "{text:?}: {query}"
            );
            assert!(!query.contains('+'), "{text:?}: a space is %20, not +");
            let decoded = decoded_query(&url);
            assert_eq!(decoded.first("text"), Some(text), "{text:?}: {url}");
            assert_eq!(decoded.first("next"), Some("eyJ2IjoxfQ"));
            assert_eq!(
                decoded.first("limit"),
                None,
                "absent parameters stay absent"
            );
        }
    }

    #[test]
    fn the_header_names_the_next_page() {
        let mut response = Response::new(Body::Empty);
        let request = request(Some("h.example"), Some("https"), &[("limit", "1")]);
        set_next_link(&mut response, &request, &["limit"], "abc_-");
        assert_eq!(
            response.headers()[header::LINK],
            "<https://h.example/Prod/notes/search?limit=1&next=abc_->; rel=\"next\""
        );
    }

    #[test]
    fn paths_cannot_break_out_of_the_link() {
        assert_eq!(encode_path("/Prod/notes"), "/Prod/notes");
        assert_eq!(encode_path("/a b>c?d#e"), "/a%20b%3Ec%3Fd%23e");
        assert_eq!(encode_path("/already%20encoded"), "/already%20encoded");
    }
}
