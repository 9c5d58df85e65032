//! The local API: the backend on loopback as API Gateway serves it. Routes, CORS and the stage
//! come from `template.yaml`; every request runs through the `authorizer` binary (with API
//! Gateway's per-token result cache) and, when allowed, becomes the REST proxy event that the
//! function binary receives through the Lambda Runtime API, exactly as deployed. It serves at
//! the root, as a custom domain mapped to the stage would (`/notes`, not `/Prod/notes`), and
//! describes the request the way API Gateway does (`Host`, `X-Forwarded-*`,
//! `requestContext.path`), so that the URLs a function builds from them (`Location`, `Link`)
//! lead back here. In front of the REST API, the template's WAF web ACL: a per-caller rate
//! limit (`waf_rate_limit`).

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;

use notes_http::AllowedOrigins;

use crate::gateway::{AuthorizerDecision, decide};
use crate::jwt_authorizer::JwtAuthorizer;
use crate::waf_rate_limit::{Caller, RETRY_AFTER_SECONDS, RateLimit, RateLimiter};
use local_aws::DevkitError;
use local_lambda::runtime_api::{LambdaSandbox, Outcome};

/// API Gateway's payload limit for REST APIs.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// The authorizer result TTL the template deploys by default (its `AuthorizerCacheSeconds`):
/// a token expired or revoked a moment ago still works for at most this long.
pub const DEFAULT_AUTHORIZER_CACHE_TTL: Duration = Duration::from_secs(60);

const ACCOUNT_ID: &str = "123456789012";
const REGION: &str = "us-east-1";
const API_ID: &str = "localapi01";

/// One route of the template: an `Api` event of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    /// API Gateway resource path, e.g. `/notes/{id}`.
    pub path: String,
    /// Logical id of the function serving it.
    pub function: String,
    /// The Cargo binary of that function (the last part of its `CodeUri`, `target/lambda/<binary>/`).
    pub binary: String,
}

/// What the template says about the API: its routes, its authorizer function and its CORS.
#[derive(Debug, Clone)]
pub struct ApiSpec {
    pub routes: Vec<Route>,
    /// Binary of the API's default authorizer.
    pub authorizer_binary: String,
    pub stage: String,
    /// The `AllowedOrigin` parameter's default.
    pub allowed_origin: String,
    pub allow_methods: String,
    pub allow_headers: String,
    pub max_age: String,
}

#[derive(Deserialize)]
struct Template {
    #[serde(rename = "Parameters", default)]
    parameters: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(rename = "Resources")]
    resources: BTreeMap<String, serde_yaml_ng::Value>,
}

fn unquote(value: &str) -> String {
    value.trim().trim_matches('\'').to_owned()
}

/// The Cargo binary a function of the template runs. Its `CodeUri` is where `cargo lambda build`
/// leaves that binary (`target/lambda/<binary>/`), so the directory name is the binary's name.
fn function_binary(resource: &serde_yaml_ng::Value) -> Option<String> {
    let code_uri = text(resource, &["Properties", "CodeUri"])?;
    let binary = code_uri
        .strip_prefix("target/lambda/")?
        .trim_end_matches('/');
    let valid = !binary.is_empty()
        && binary
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then(|| binary.to_owned())
}

fn text(value: &serde_yaml_ng::Value, path: &[&str]) -> Option<String> {
    let mut current = value;
    for key in path {
        current = current.get(*key)?;
    }
    match current {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Tagged(tagged) => match &tagged.value {
            serde_yaml_ng::Value::String(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

impl ApiSpec {
    /// Reads the routes and API settings from a SAM template.
    pub fn from_template(path: &Path) -> Result<Self, DevkitError> {
        let invalid = |why: String| DevkitError::Template {
            path: path.to_owned(),
            problem: why,
        };
        let source =
            std::fs::read_to_string(path).map_err(|e| invalid(format!("cannot read: {e}")))?;
        let template: Template = serde_yaml_ng::from_str(&source)
            .map_err(|e| invalid(format!("not a template: {e}")))?;
        let mut routes = Vec::new();
        let mut authorizer_function = None;
        let mut stage = "Prod".to_owned();
        let mut cors = (String::new(), String::new(), String::new());
        for (name, resource) in &template.resources {
            match text(resource, &["Type"]).as_deref() {
                Some("AWS::Serverless::Function") => {
                    let binary = function_binary(resource).ok_or_else(|| {
                        invalid(format!(
                            "{name}: CodeUri is not cargo lambda's output, target/lambda/<binary>/"
                        ))
                    })?;
                    if let Some(events) = resource
                        .get("Properties")
                        .and_then(|p| p.get("Events"))
                        .and_then(|e| e.as_mapping())
                    {
                        for event in events.values() {
                            if text(event, &["Type"]).as_deref() != Some("Api") {
                                continue;
                            }
                            let (Some(method), Some(route_path)) = (
                                text(event, &["Properties", "Method"]),
                                text(event, &["Properties", "Path"]),
                            ) else {
                                return Err(invalid(format!(
                                    "{name} has an Api event without Path or Method"
                                )));
                            };
                            routes.push(Route {
                                method: method.to_ascii_uppercase(),
                                path: route_path,
                                function: name.clone(),
                                binary: binary.clone(),
                            });
                        }
                    }
                }
                Some("AWS::Serverless::Api") => {
                    let props = resource.get("Properties");
                    if let Some(props) = props {
                        if let Some(default) = text(props, &["Auth", "DefaultAuthorizer"]) {
                            authorizer_function =
                                text(props, &["Auth", "Authorizers", &default, "FunctionArn"]).map(
                                    |arn| arn.split('.').next().unwrap_or_default().to_owned(),
                                );
                        }
                        if let Some(s) = text(props, &["StageName"]) {
                            stage = s;
                        }
                        cors = (
                            text(props, &["Cors", "AllowMethods"])
                                .map(|v| unquote(&v))
                                .unwrap_or_default(),
                            text(props, &["Cors", "AllowHeaders"])
                                .map(|v| unquote(&v))
                                .unwrap_or_default(),
                            text(props, &["Cors", "MaxAge"])
                                .map(|v| unquote(&v))
                                .unwrap_or_default(),
                        );
                    }
                }
                _ => {}
            }
        }
        // `StageName: !Ref StageName` loses its tag: resolve parameters by their defaults.
        let parameter = |name: &str| {
            template
                .parameters
                .get(name)
                .and_then(|p| text(p, &["Default"]))
        };
        if let Some(default) = parameter(&stage) {
            stage = default;
        }
        let authorizer_function = authorizer_function
            .ok_or_else(|| invalid("the API has no default authorizer".into()))?;
        let authorizer_binary = template
            .resources
            .get(&authorizer_function)
            .and_then(function_binary)
            .ok_or_else(|| {
                invalid(format!(
                    "authorizer {authorizer_function}: CodeUri is not target/lambda/<binary>/"
                ))
            })?;
        Ok(Self {
            routes,
            authorizer_binary,
            stage,
            allowed_origin: parameter("AllowedOrigin").unwrap_or_else(|| "*".into()),
            allow_methods: cors.0,
            allow_headers: cors.1,
            max_age: cors.2,
        })
    }

    /// The route for a method and path, with its path parameters. Static segments win over
    /// `{parameters}`, as in API Gateway.
    pub fn find(&self, method: &str, path: &str) -> RouteMatch<'_> {
        let segments: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let mut best: Option<(&Route, HashMap<String, String>, usize)> = None;
        let mut path_exists = false;
        for route in &self.routes {
            let pattern: Vec<&str> = route
                .path
                .trim_matches('/')
                .split('/')
                .filter(|s| !s.is_empty())
                .collect();
            if pattern.len() != segments.len() {
                continue;
            }
            let mut parameters = HashMap::new();
            let mut statics = 0;
            let matched = pattern.iter().zip(&segments).all(|(p, s)| {
                if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    parameters.insert(name.to_owned(), percent_decode(s));
                    true
                } else {
                    statics += 1;
                    p == s
                }
            });
            if !matched {
                continue;
            }
            path_exists = true;
            if route.method != method {
                continue;
            }
            if best.as_ref().is_none_or(|(_, _, s)| statics > *s) {
                best = Some((route, parameters, statics));
            }
        }
        match best {
            Some((route, parameters, _)) => RouteMatch::Found(route, parameters),
            None if path_exists => RouteMatch::PathOnly,
            None => RouteMatch::None,
        }
    }
}

#[derive(Debug)]
pub enum RouteMatch<'a> {
    Found(&'a Route, HashMap<String, String>),
    /// The path exists with other methods (preflight is answered for it).
    PathOnly,
    None,
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes.get(i), bytes.get(i + 1..i + 3)) {
            (Some(b'%'), Some(hex)) => match std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                }
                None => {
                    out.push(b'%');
                    i += 1;
                }
            },
            (Some(byte), _) => {
                out.push(*byte);
                i += 1;
            }
            (None, _) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How to run the local API.
#[derive(Debug, Clone)]
pub struct LocalApiConfig {
    /// Loopback port; 0 picks a free one.
    pub port: u16,
    pub spec: ApiSpec,
    /// Where the function binaries are (e.g. `target/debug`).
    pub binaries_dir: PathBuf,
    /// Environment of the DynamoDB functions (tables, endpoint, region, credentials).
    pub function_env: Vec<(String, String)>,
    /// Environment of the authorizer (issuer, JWKS URL, client ids).
    pub authorizer_env: Vec<(String, String)>,
    /// When set, `x-api-key` must carry this value (else 403, as API Gateway answers).
    pub api_key: Option<String>,
    /// Authorizer result cache per token; zero disables it.
    pub authorizer_cache_ttl: Duration,
    /// The web origins allowed to read responses (`*` or comma-separated), overriding the
    /// template's `AllowedOrigin` default: the functions get it as `ALLOWED_ORIGINS`, and the
    /// gateway's own answers (preflight, 401/403/413/502) echo a listed request origin the same
    /// way.
    pub allowed_origin: Option<String>,
    /// Which of the template's front doors to serve.
    pub front: Front,
    /// The template's WAF web ACL in front of the REST API: each caller's requests per window,
    /// the excess answered 429. `None` serves without one (`PerCallerRequestsPer5Minutes=0`);
    /// the HTTP API cannot have one.
    pub rate_limit: Option<RateLimit>,
}

/// The two front doors of template.yaml.
#[derive(Debug, Clone, Default)]
pub enum Front {
    /// The REST API (`NotesApi`): the TOKEN authorizer binary (with its result cache), API keys
    /// when configured, payload format 1.0.
    #[default]
    Rest,
    /// The HTTP API (`NotesHttpApi`): API Gateway's own JWT authorizer against the pool, no API
    /// keys, payload format 2.0.
    Http(Arc<JwtAuthorizer>),
}

/// Marks a response the gateway made itself (not a function's), which gets its CORS headers
/// in `serve`, where the request's `Origin` is known.
#[derive(Debug, Clone, Copy)]
struct GatewayAnswer;

struct CachedDecision {
    outcome: Outcome,
    until: Instant,
}

struct Gateway {
    spec: ApiSpec,
    /// Where the API listens: the `Host` of a request that names none (HTTP/1.0).
    address: SocketAddr,
    allowed_origins: AllowedOrigins,
    api_key: Option<String>,
    cache_ttl: Duration,
    cache: Mutex<HashMap<String, CachedDecision>>,
    authorizer: LambdaSandbox,
    functions: HashMap<String, LambdaSandbox>,
    front: Front,
    rate_limiter: Option<RateLimiter>,
}

/// A running local API; dropping it stops the server and the function processes.
pub struct LocalApi {
    address: SocketAddr,
    task: JoinHandle<()>,
    gateway: Arc<Gateway>,
}

impl std::fmt::Debug for LocalApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalApi")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl LocalApi {
    /// Starts one sandbox per function binary (and one for the authorizer) and serves the API.
    pub async fn start(config: LocalApiConfig) -> Result<Self, DevkitError> {
        let origin = config
            .allowed_origin
            .clone()
            .unwrap_or_else(|| config.spec.allowed_origin.clone());
        let allowed_origins = AllowedOrigins::parse("ALLOWED_ORIGINS", &origin)
            .map_err(|e| DevkitError::LocalApi(format!("allowed origins: {e}")))?;
        if matches!(config.front, Front::Http(_)) && config.api_key.is_some() {
            return Err(DevkitError::LocalApi(
                "an HTTP API has no API keys: serve the REST API to require one".into(),
            ));
        }
        if matches!(config.front, Front::Http(_)) && config.rate_limit.is_some() {
            return Err(DevkitError::LocalApi(
                "WAF cannot be associated with an HTTP API, so it has no per-caller rate limit: \
                 serve the REST API to have one"
                    .into(),
            ));
        }
        if config.rate_limit.is_some_and(|limit| limit.requests == 0) {
            return Err(DevkitError::LocalApi(
                "a per-caller rate limit of 0 requests would refuse everything: give none instead"
                    .into(),
            ));
        }
        let mut function_env = config.function_env.clone();
        function_env.push(("ALLOWED_ORIGINS".into(), origin.clone()));
        let authorizer = LambdaSandbox::start(
            &config.binaries_dir.join(&config.spec.authorizer_binary),
            &config.authorizer_env,
        )
        .await?;
        let mut functions = HashMap::new();
        for route in &config.spec.routes {
            if !functions.contains_key(&route.binary) {
                let sandbox =
                    LambdaSandbox::start(&config.binaries_dir.join(&route.binary), &function_env)
                        .await?;
                functions.insert(route.binary.clone(), sandbox);
            }
        }
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
            .await
            .map_err(|e| {
                DevkitError::LocalApi(format!("cannot listen on 127.0.0.1:{}: {e}", config.port))
            })?;
        let address = listener
            .local_addr()
            .map_err(|e| DevkitError::LocalApi(format!("no local address: {e}")))?;
        let gateway = Arc::new(Gateway {
            spec: config.spec,
            address,
            allowed_origins,
            api_key: config.api_key,
            cache_ttl: config.authorizer_cache_ttl,
            cache: Mutex::new(HashMap::new()),
            authorizer,
            functions,
            front: config.front,
            rate_limiter: config.rate_limit.map(RateLimiter::new),
        });
        let app = Router::new()
            .fallback(serve)
            .with_state(Arc::clone(&gateway));
        let task = tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(error) = axum::serve(listener, service).await {
                tracing::error!(%error, "local API stopped");
            }
        });
        Ok(Self {
            address,
            task,
            gateway,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Everything the function processes printed, by binary (the authorizer under its name).
    pub fn logs(&self) -> BTreeMap<String, String> {
        let mut logs: BTreeMap<String, String> = self
            .gateway
            .functions
            .iter()
            .map(|(name, sandbox)| (name.clone(), sandbox.logs()))
            .collect();
        logs.insert(
            self.gateway.spec.authorizer_binary.clone(),
            self.gateway.authorizer.logs(),
        );
        logs
    }

    /// How many times the authorizer was invoked (to observe the cache).
    pub fn authorizer_invocations(&self) -> usize {
        self.gateway.authorizer.invocations()
    }
}

impl Drop for LocalApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The web ACL's answer to a caller over its limit: its custom response, 429 with the JSON body
/// and `Retry-After` of template.yaml's `RestApiWebAcl` (CORS headers added in `serve`, as the
/// web ACL's response headers add them in AWS).
fn too_many_requests(limit: RateLimit) -> Response {
    let mut response = Response::new(Body::from(limit.refusal_body()));
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response.extensions_mut().insert(GatewayAnswer);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

fn gateway_error(status: StatusCode, message: &str) -> Response {
    let mut response = Response::new(Body::from(json!({ "message": message }).to_string()));
    *response.status_mut() = status;
    response.extensions_mut().insert(GatewayAnswer);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        HeaderName::from_static("x-amzn-errortype"),
        HeaderValue::from_static(match status.as_u16() {
            401 => "UnauthorizedException",
            403 => "AccessDeniedException",
            404 => "NotFoundException",
            413 => "RequestTooLargeException",
            _ => "InternalServerErrorException",
        }),
    );
    response
}

async fn serve(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let origin = request.headers().get(header::ORIGIN).cloned();
    let (mut response, route) = handle(&gateway, peer, request, &request_id).await;
    // The functions add their own CORS headers (ALLOWED_ORIGINS); the gateway's own answers get
    // them here, as the template's GatewayResponses and CORS preflight add them in AWS.
    if response.extensions().get::<GatewayAnswer>().is_some() {
        gateway
            .allowed_origins
            .apply(origin.as_ref(), response.headers_mut());
    }
    // One line per request, as API Gateway's access log: never the token, never the body.
    let line = json!({
        "requestId": request_id,
        "method": method.as_str(),
        "path": path,
        "route": route,
        "status": response.status().as_u16(),
        "latencyMs": started.elapsed().as_millis() as u64,
    });
    println!("{line}");
    response
}

async fn handle(
    gateway: &Gateway,
    peer: SocketAddr,
    request: Request<Body>,
    request_id: &str,
) -> (Response, Option<String>) {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    // WAF decides before API Gateway does anything: preflight, unknown routes and requests the
    // authorizer would refuse count and are refused alike.
    if let Some(limiter) = &gateway.rate_limiter {
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        if !limiter.admit(Caller::of(authorization, peer.ip())) {
            return (too_many_requests(limiter.limit()), None);
        }
    }
    let matched = gateway.spec.find(parts.method.as_str(), &path);

    if parts.method == Method::OPTIONS && !matches!(matched, RouteMatch::None) {
        return (preflight(gateway), Some(format!("OPTIONS {path}")));
    }
    let (route, path_parameters) = match matched {
        RouteMatch::Found(route, parameters) => (route, parameters),
        // What API Gateway answers for a method or path it does not have.
        RouteMatch::PathOnly | RouteMatch::None => {
            let answer = match gateway.front {
                Front::Rest => gateway_error(StatusCode::FORBIDDEN, "Missing Authentication Token"),
                Front::Http(_) => gateway_error(StatusCode::NOT_FOUND, "Not Found"),
            };
            return (answer, None);
        }
    };
    let route_name = format!("{} {}", route.method, route.path);
    let body = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return (
                gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Too Long"),
                Some(route_name),
            );
        }
    };

    if let Front::Http(jwt) = &gateway.front {
        let event = match authorize_jwt(jwt, &parts.headers).await {
            Ok(claims) => http_event(
                gateway,
                route,
                &parts,
                &path,
                path_parameters,
                &body,
                claims,
                peer,
                request_id,
            ),
            Err(mut refused) => {
                refused
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return (refused, Some(route_name));
            }
        };
        return (
            invoke_function(gateway, route, &event).await,
            Some(route_name),
        );
    }

    // The TOKEN authorizer: no Authorization header is a 401 without invoking it.
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if token.is_empty() {
        return (
            gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"),
            Some(route_name),
        );
    }
    let method_arn = format!(
        "arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{}/{}/{}",
        gateway.spec.stage,
        route.method,
        path.trim_start_matches('/')
    );
    let outcome = match authorize(gateway, &token, &method_arn).await {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::error!(%error, "authorizer invocation failed");
            return (
                gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
                Some(route_name),
            );
        }
    };
    let context = match decide(&outcome, &method_arn) {
        AuthorizerDecision::Allow(context) => context,
        AuthorizerDecision::Unauthorized => {
            return (
                gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"),
                Some(route_name),
            );
        }
        AuthorizerDecision::Deny => {
            return (
                gateway_error(
                    StatusCode::FORBIDDEN,
                    "User is not authorized to access this resource with an explicit deny",
                ),
                Some(route_name),
            );
        }
    };
    if let Some(expected) = &gateway.api_key {
        let given = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok());
        if given != Some(expected.as_str()) {
            return (
                gateway_error(StatusCode::FORBIDDEN, "Forbidden"),
                Some(route_name),
            );
        }
    }

    let event = proxy_event(
        gateway,
        route,
        &parts,
        &path,
        path_parameters,
        &body,
        context,
        peer,
        request_id,
    );
    (
        invoke_function(gateway, route, &event).await,
        Some(route_name),
    )
}

/// Invokes the route's function with `event`; its error, or a response that is not one, is API
/// Gateway's 502.
async fn invoke_function(gateway: &Gateway, route: &Route, event: &Value) -> Response {
    let Some(function) = gateway.functions.get(&route.binary) else {
        return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
    };
    let response = match function.invoke(event).await {
        Ok(invocation) => match invocation.outcome {
            Outcome::Response(value) => proxy_response(&value),
            Outcome::Error { .. } => None,
        },
        Err(error) => {
            tracing::error!(%error, function = %route.binary, "function invocation failed");
            None
        }
    };
    response.unwrap_or_else(|| gateway_error(StatusCode::BAD_GATEWAY, "Internal server error"))
}

/// The HTTP API's JWT authorizer on the request's Authorization header: the claims, or the 401
/// API Gateway answers (the reason goes to the dev server's log only).
async fn authorize_jwt(
    jwt: &Arc<JwtAuthorizer>,
    headers: &HeaderMap,
) -> Result<Map<String, Value>, Response> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let jwt = Arc::clone(jwt);
    match tokio::task::spawn_blocking(move || jwt.authorize(authorization.as_deref())).await {
        Ok(Ok(claims)) => Ok(claims),
        Ok(Err(refusal)) => {
            tracing::info!(%refusal, "JWT authorizer: 401");
            Err(gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"))
        }
        Err(error) => {
            tracing::error!(%error, "JWT authorizer task failed");
            Err(gateway_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
            ))
        }
    }
}

async fn authorize(
    gateway: &Gateway,
    token: &str,
    method_arn: &str,
) -> Result<Outcome, DevkitError> {
    if !gateway.cache_ttl.is_zero()
        && let Ok(cache) = gateway.cache.lock()
        && let Some(cached) = cache.get(token)
        && cached.until > Instant::now()
    {
        return Ok(cached.outcome.clone());
    }
    let event = json!({ "type": "TOKEN", "authorizationToken": token, "methodArn": method_arn });
    let outcome = gateway.authorizer.invoke(&event).await?.outcome;
    // API Gateway caches the policy (Allow or Deny), not a failure.
    if !gateway.cache_ttl.is_zero()
        && matches!(outcome, Outcome::Response(_))
        && let Ok(mut cache) = gateway.cache.lock()
    {
        cache.retain(|_, entry| entry.until > Instant::now());
        cache.insert(
            token.to_owned(),
            CachedDecision {
                outcome: outcome.clone(),
                until: Instant::now() + gateway.cache_ttl,
            },
        );
    }
    Ok(outcome)
}

fn preflight(gateway: &Gateway) -> Response {
    let mut response = Response::new(Body::empty());
    response.extensions_mut().insert(GatewayAnswer);
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::ACCESS_CONTROL_ALLOW_METHODS,
            &gateway.spec.allow_methods,
        ),
        (
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            &gateway.spec.allow_headers,
        ),
        (header::ACCESS_CONTROL_MAX_AGE, &gateway.spec.max_age),
    ] {
        if let Ok(value) = HeaderValue::from_str(value)
            && !value.is_empty()
        {
            headers.insert(name, value);
        }
    }
    response
}

/// What API Gateway adds to the request's headers, and the host the client called: that host,
/// the scheme and port it used, its address at the end of X-Forwarded-For. The client's own
/// X-Forwarded-Proto/-Port are replaced, as API Gateway replaces them. (Names are lower case
/// like every copied header, so that each replaces the client's value instead of joining it.)
fn gateway_added_headers(
    gateway: &Gateway,
    parts: &axum::http::request::Parts,
    peer: SocketAddr,
) -> (String, [(&'static str, String); 4]) {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| gateway.address.to_string(), str::to_owned);
    let forwarded_for = match parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
    {
        Some(given) => format!("{given}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    let added = [
        ("host", host.clone()),
        ("x-forwarded-proto", "http".to_owned()),
        ("x-forwarded-port", gateway.address.port().to_string()),
        ("x-forwarded-for", forwarded_for),
    ];
    (host, added)
}

/// The query's name/value pairs, decoded as API Gateway decodes them (`+` is a space).
fn query_pairs(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    raw.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (
            percent_decode(&key.replace('+', " ")),
            percent_decode(&value.replace('+', " ")),
        )
    })
}

/// The event's `body` and `isBase64Encoded`: text as is, anything else base64, none as null.
fn event_body(body: &Bytes) -> (Value, bool) {
    if body.is_empty() {
        (Value::Null, false)
    } else {
        match std::str::from_utf8(body) {
            Ok(text) => (Value::from(text), false),
            Err(_) => (Value::from(STANDARD.encode(body)), true),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn proxy_event(
    gateway: &Gateway,
    route: &Route,
    parts: &axum::http::request::Parts,
    path: &str,
    path_parameters: HashMap<String, String>,
    body: &Bytes,
    authorizer: Value,
    peer: SocketAddr,
    request_id: &str,
) -> Value {
    let mut headers = Map::new();
    let mut multi_headers: Map<String, Value> = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(name.as_str().to_owned(), Value::from(value.clone()));
        match multi_headers
            .get_mut(name.as_str())
            .and_then(Value::as_array_mut)
        {
            Some(values) => values.push(Value::from(value)),
            None => {
                multi_headers.insert(name.as_str().to_owned(), json!([value]));
            }
        }
    }
    let (host, added) = gateway_added_headers(gateway, parts, peer);
    for (name, value) in added {
        headers.insert(name.to_owned(), Value::from(value.clone()));
        multi_headers.insert(name.to_owned(), json!([value]));
    }
    let mut query = Map::new();
    let mut multi_query: Map<String, Value> = Map::new();
    for (key, value) in query_pairs(parts.uri.query().unwrap_or_default()) {
        query.insert(key.clone(), Value::from(value.clone()));
        match multi_query.get_mut(&key).and_then(Value::as_array_mut) {
            Some(values) => values.push(Value::from(value)),
            None => {
                multi_query.insert(key, json!([value]));
            }
        }
    }
    let (body, is_base64) = event_body(body);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let source_ip = peer.ip().to_string();
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let api_key = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let none_if_empty = |map: Map<String, Value>| {
        if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        }
    };
    json!({
        "resource": route.path,
        "path": path,
        "httpMethod": route.method,
        "headers": none_if_empty(headers),
        "multiValueHeaders": none_if_empty(multi_headers),
        "queryStringParameters": none_if_empty(query),
        "multiValueQueryStringParameters": none_if_empty(multi_query),
        "pathParameters": if path_parameters.is_empty() { Value::Null } else { json!(path_parameters) },
        "stageVariables": null,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "resourceId": "local",
            "stage": gateway.spec.stage,
            "requestId": request_id,
            "requestTimeEpoch": now.as_millis() as u64,
            "identity": { "sourceIp": source_ip, "userAgent": user_agent, "apiKey": api_key },
            "domainName": host,
            // The path as the client called it: API Gateway puts the stage here on its
            // execute-api domain, and not on a custom domain, which is what this server is.
            "path": path,
            "resourcePath": route.path,
            "httpMethod": route.method,
            "apiId": API_ID,
            "protocol": "HTTP/1.1",
            "authorizer": authorizer,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    })
}

/// The HTTP API's payload format 2.0 event for a request: header values of one name joined by
/// commas and names in lower case, cookies apart, the raw query as sent, the JWT authorizer's
/// claims. The stage is `$default`, as on a custom domain mapped at the root (this server), so
/// the function builds its URLs (`Location`, `Link`) without a stage prefix.
#[allow(clippy::too_many_arguments)]
fn http_event(
    gateway: &Gateway,
    route: &Route,
    parts: &axum::http::request::Parts,
    path: &str,
    path_parameters: HashMap<String, String>,
    body: &Bytes,
    claims: Map<String, Value>,
    peer: SocketAddr,
    request_id: &str,
) -> Value {
    let mut headers: Map<String, Value> = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == header::COOKIE {
            cookies.extend(value.split(';').map(|c| Value::from(c.trim())));
            continue;
        }
        let joined = match headers.get(name.as_str()).and_then(Value::as_str) {
            Some(before) => format!("{before},{value}"),
            None => value,
        };
        headers.insert(name.as_str().to_owned(), Value::from(joined));
    }
    let (host, added) = gateway_added_headers(gateway, parts, peer);
    for (name, value) in added {
        headers.insert(name.to_owned(), Value::from(value));
    }
    let source_ip = peer.ip().to_string();
    let raw_query = parts.uri.query().unwrap_or_default().to_owned();
    let mut query: Map<String, Value> = Map::new();
    for (key, value) in query_pairs(&raw_query) {
        let joined = match query.get(&key).and_then(Value::as_str) {
            Some(before) => format!("{before},{value}"),
            None => value,
        };
        query.insert(key, Value::from(joined));
    }
    let (body, is_base64) = event_body(body);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let route_key = format!("{} {}", route.method, route.path);
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "authorizer": { "jwt": { "claims": claims, "scopes": null } },
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or_default(),
            "http": {
                "method": route.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "timeEpoch": now.as_millis() as u64,
        },
        "isBase64Encoded": is_base64,
    });
    if let Some(map) = event.as_object_mut() {
        if !cookies.is_empty() {
            map.insert("cookies".into(), Value::Array(cookies));
        }
        if !query.is_empty() {
            map.insert("queryStringParameters".into(), Value::Object(query));
        }
        if !path_parameters.is_empty() {
            map.insert("pathParameters".into(), json!(path_parameters));
        }
        if !body.is_null() {
            map.insert("body".into(), body);
        }
    }
    event
}

/// Turns a Lambda proxy integration response into an HTTP response; `None` if it is not one.
fn proxy_response(value: &Value) -> Option<Response> {
    let status =
        StatusCode::from_u16(u16::try_from(value.get("statusCode")?.as_u64()?).ok()?).ok()?;
    let body = match value.get("body").and_then(Value::as_str) {
        None => Vec::new(),
        Some(text) if value.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => {
            STANDARD.decode(text).ok()?
        }
        Some(text) => text.as_bytes().to_vec(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let mut headers = HeaderMap::new();
    if let Some(map) = value.get("headers").and_then(Value::as_object) {
        for (name, v) in map {
            if let (Ok(name), Some(Ok(v))) = (
                HeaderName::from_bytes(name.as_bytes()),
                v.as_str().map(HeaderValue::from_str),
            ) {
                headers.insert(name, v);
            }
        }
    }
    if let Some(map) = value.get("multiValueHeaders").and_then(Value::as_object) {
        for (name, values) in map {
            let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
                continue;
            };
            headers.remove(&name);
            for v in values.as_array().into_iter().flatten() {
                if let Some(Ok(v)) = v.as_str().map(HeaderValue::from_str) {
                    headers.append(name.clone(), v);
                }
            }
        }
    }
    *response.headers_mut() = headers;
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ApiSpec {
        ApiSpec::from_template(&local_aws::tables::template_path()).unwrap()
    }

    #[test]
    fn reads_routes_and_api_settings_from_the_template() {
        let spec = spec();
        let mut routes: Vec<(String, String, String)> = spec
            .routes
            .iter()
            .map(|r| (r.method.clone(), r.path.clone(), r.binary.clone()))
            .collect();
        routes.sort();
        let expected = [
            ("DELETE", "/account", "account"),
            ("DELETE", "/notes/{id}", "delete"),
            ("GET", "/notes", "list"),
            ("GET", "/notes/search", "list"),
            ("GET", "/notes/{id}", "list"),
            ("GET", "/post", "post"),
            ("POST", "/notes", "createUpdate"),
            ("POST", "/notes/{id}", "dictate"),
            ("POST", "/post", "post"),
        ];
        let expected: Vec<(String, String, String)> = expected
            .iter()
            .map(|(m, p, b)| ((*m).into(), (*p).into(), (*b).into()))
            .collect();
        assert_eq!(routes, expected);
        assert_eq!(spec.authorizer_binary, "authorizer");
        assert_eq!(spec.stage, "Prod");
        assert_eq!(spec.allowed_origin, "http://localhost:3000");
        assert!(spec.allow_headers.contains("Authorization"));
        assert!(spec.allow_methods.contains("DELETE"));
    }

    #[test]
    fn matching_prefers_static_segments_and_decodes_parameters() {
        let spec = spec();
        let binary = |m: RouteMatch<'_>| match m {
            RouteMatch::Found(route, params) => {
                Some((route.binary.clone(), route.path.clone(), params))
            }
            _ => None,
        };
        let (_, path, _) = binary(spec.find("GET", "/notes/search")).unwrap();
        assert_eq!(path, "/notes/search");
        let (_, path, params) = binary(spec.find("GET", "/notes/a%23b")).unwrap();
        assert_eq!(path, "/notes/{id}");
        assert_eq!(params["id"], "a#b");
        let (name, _, _) = binary(spec.find("DELETE", "/notes/1")).unwrap();
        assert_eq!(name, "delete");
        assert!(matches!(spec.find("PUT", "/notes"), RouteMatch::PathOnly));
        assert!(matches!(spec.find("GET", "/nope"), RouteMatch::None));
        assert!(matches!(
            spec.find("GET", "/notes/1/extra"),
            RouteMatch::None
        ));
    }

    #[test]
    fn the_local_authorizer_cache_lasts_as_long_as_the_template_default() {
        let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(
            &std::fs::read_to_string(local_aws::tables::template_path()).unwrap(),
        )
        .unwrap();
        let default = template["Parameters"]["AuthorizerCacheSeconds"]["Default"]
            .as_u64()
            .unwrap();
        assert_eq!(DEFAULT_AUTHORIZER_CACHE_TTL.as_secs(), default);
        assert!(
            default <= 60,
            "issue 22: a revoked token works for at most a minute"
        );
    }
}
