//! The Lambda event loop for HTTP functions. Events are decoded here rather than by
//! `lambda_http::run`, so that an event which is not an API Gateway proxy request gets a 400 JSON
//! response instead of a runtime error (which API Gateway would turn into a bare 502).

use std::convert::Infallible;
use std::future::Future;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt as _;
use lambda_http::{Adapter, Body, Request, Response, service_fn};
use serde_json::value::RawValue;

use crate::cors::AllowedOrigins;
use crate::{ApiError, ConfigError, optional_env};

/// Settings every HTTP function shares, read once at init.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `ALLOWED_ORIGINS` (comma-separated, or `*`): the web origins whose scripts may read every
    /// response, errors included. Unset: no CORS headers.
    pub allowed_origins: Option<AllowedOrigins>,
    /// `REQUIRED_GROUP`: the Cognito group a caller must be in. The REST API's TOKEN authorizer
    /// enforces it before any function runs; the HTTP API's JWT authorizer checks no groups, so
    /// the functions check the token's `cognito:groups` claim themselves (`caller_in_group`).
    pub required_group: Option<String>,
}

impl HttpConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let allowed_origins = optional_env("ALLOWED_ORIGINS")?
            .map(|value| AllowedOrigins::parse("ALLOWED_ORIGINS", &value))
            .transpose()?;
        let required_group = optional_env("REQUIRED_GROUP")?.map(|group| group.trim().to_owned());
        Ok(Self {
            allowed_origins,
            required_group,
        })
    }
}

/// JSON logs when Lambda's log format is JSON (the template sets it), with the request id of the
/// invocation on every line (the runtime opens a span carrying it around each invocation).
pub fn init_tracing(config: &notes_tracing::LogConfig) {
    notes_tracing::init(config);
}

/// Runs the HTTP handler for every invocation until the sandbox is shut down, with the edge
/// settings `config` (read in `main` with the rest of the function's configuration). The
/// handler's errors become responses here, in one place.
pub async fn run<'a, F, Fut>(config: HttpConfig, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Clone + Send + 'a,
    Fut: Future<Output = Result<Response<Body>, ApiError>> + Send + 'a,
{
    let http = service_fn(move |request: Request| {
        let handler = handler.clone();
        let config = config.clone();
        async move {
            let method = request.method().clone();
            let path = request.uri().path().to_owned();
            let origin = request.headers().get(header::ORIGIN).cloned();
            let allowed = match &config.required_group {
                Some(group) => crate::identity::caller_in_group(&request, group),
                None => Ok(()),
            };
            let response = match allowed {
                Ok(()) => handler(request).await,
                Err(error) => Err(error),
            }
            .unwrap_or_else(ApiError::into_response);
            tracing::info!(
                method = %method,
                path = %path,
                status = response.status().as_u16(),
                "request handled"
            );
            Ok::<_, Infallible>(finish(response, &config, origin.as_ref()))
        }
    });
    let adapter = Adapter::from(http);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let adapter = adapter.clone();
        async move {
            let LambdaEvent { payload, context } = event;
            if request_from_event(payload.get()).is_none() {
                tracing::warn!("event is not an API Gateway proxy request");
                return Ok(bad_event());
            }
            match serde_json::from_str::<LambdaRequest>(payload.get()) {
                Ok(request) => {
                    let response = match adapter.oneshot(LambdaEvent::new(request, context)).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    };
                    Ok::<_, lambda_runtime::Error>(serde_json::to_value(response)?)
                }
                Err(_) => Ok(bad_event()),
            }
        }
    }))
    .await
}

fn finish(
    mut response: Response<Body>,
    config: &HttpConfig,
    origin: Option<&HeaderValue>,
) -> Response<Body> {
    if let Some(allowed) = &config.allowed_origins {
        allowed.apply(origin, response.headers_mut());
    }
    response
}

/// The HTTP request an API Gateway event stands for; `None` when it is not a proxy event or
/// cannot be turned into a request.
///
/// lambda_http 1.3 converts with `Url::parse(..).unwrap()` on the path and the Host header
/// (request.rs, `build_request_uri`): an event whose Host is not a valid host name (found by
/// fuzzing: `ex%cute-api...`) panics there, which the runtime would report as a function error
/// and API Gateway as a bare 502. The conversion is tried here, on a copy of the event, so such
/// an event gets a 400 like any other malformed request. (Parsing twice costs microseconds;
/// events are a few KiB.)
pub fn request_from_event(event: &str) -> Option<Request> {
    let decoded = serde_json::from_str::<LambdaRequest>(event).ok()?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || Request::from(decoded))).ok()
}

/// A REST-proxy-shaped 400, the only shape we can answer in when the event is unreadable.
fn bad_event() -> serde_json::Value {
    serde_json::json!({
        "statusCode": StatusCode::BAD_REQUEST.as_u16(),
        "headers": { "Content-Type": "application/json" },
        "body": serde_json::json!({
            "message": "the event is not a valid API Gateway proxy request"
        }).to_string(),
        "isBase64Encoded": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_lambda_http_cannot_convert_are_detected() {
        let event = |host: &str, path: &str| {
            serde_json::json!({
                "resource": "/notes", "path": path, "httpMethod": "GET",
                "headers": { "Host": host }, "multiValueHeaders": { "Host": [host] },
                "requestContext": { "httpMethod": "GET", "stage": "Prod" },
                "body": null, "isBase64Encoded": false
            })
            .to_string()
        };
        assert!(
            request_from_event(&event("abc.execute-api.us-east-1.amazonaws.com", "/notes"))
                .is_some()
        );
        assert!(
            request_from_event(&event("ex%cute-api.us-east-1.amazonaws.com", "/notes")).is_none(),
            "invalid Host"
        );
        assert!(request_from_event("{\"not\": \"an event\"}").is_none());
    }
}
