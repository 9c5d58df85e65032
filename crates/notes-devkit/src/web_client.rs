//! The web client's side of the dev kit: its configuration file (`config.js`, written by
//! `make dev` for the local stack and by `make web-config` from a deployed stack's outputs) and
//! the static server `make dev` serves `web/` with, on an origin of its own, so that the browser
//! checks CORS against the API exactly as it does for a deployed page, and sends the page's
//! Content-Security-Policy as a header naming that `make dev`'s own loopback origins.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use tokio::sync::oneshot;

use crate::DevkitError;
use crate::workspace_root;

/// The port `make dev` serves the page on (`WEB_PORT`); its origin is among the default allowed
/// origins of the local API.
pub const DEFAULT_WEB_PORT: u16 = 8080;

/// Where `make web-config` writes a deployed stack's configuration for the page (not tracked).
pub const DEFAULT_WEB_CONFIG_FILE: &str = "web/config.js";

/// Where `make dev` writes the local stack's configuration, served as `/config.js`: apart from
/// [`DEFAULT_WEB_CONFIG_FILE`], so a `make dev` never overwrites a deployed stack's.
pub const DEFAULT_DEV_WEB_CONFIG_FILE: &str = ".local/web/config.js";

/// The URL path the page loads Cognito's browser library from, and the file behind it, installed
/// by `npm ci` (package.json): served from there, never committed.
pub const COGNITO_LIBRARY_PATH: &str = "vendor/amazon-cognito-identity.min.js";
const COGNITO_LIBRARY_FILE: &str =
    "node_modules/amazon-cognito-identity-js/dist/amazon-cognito-identity.min.js";

/// The file of Cognito's browser library in this workspace.
pub fn cognito_library_file() -> PathBuf {
    workspace_root().join(COGNITO_LIBRARY_FILE)
}

/// Which of the stack's two front doors the page calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// The REST API (`ApiUrl`): the TOKEN authorizer, and an API key unless the stack was
    /// deployed with `ApiKeyRequired=false`.
    Rest,
    /// The HTTP API (`HttpApiUrl`): API Gateway's JWT authorizer, no API key.
    Http,
}

/// What a stack's outputs document lacks or holds wrong for the page.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebConfigError {
    /// Not a `describe-stacks` answer of exactly one stack, nor an `Outputs` list.
    #[error(
        "expected the output of `aws cloudformation describe-stacks --stack-name NAME` (one stack \
         with Outputs): {0}"
    )]
    NotStackOutputs(String),
    /// An output the page needs is absent (an older template, or another stack).
    #[error("the stack has no output {0}: is it this project's template.yaml, deployed?")]
    MissingOutput(&'static str),
    /// An output is there but is not what the template produces.
    #[error("the stack's output {output} is not usable: {problem}")]
    InvalidOutput {
        output: &'static str,
        problem: String,
    },
}

/// The page's configuration: what `config.js` defines as `window.NOTES_CONFIG`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    api_url: String,
    api_key: Option<String>,
    region: String,
    user_pool_id: String,
    client_id: String,
    cognito_endpoint: Option<String>,
}

impl WebConfig {
    /// The configuration of a page talking to `make dev`: the local API and the local pool, whose
    /// Cognito endpoint the library must be told (against AWS it derives it from the region).
    pub fn local(
        api_url: &str,
        api_key: Option<&str>,
        user_pool_id: &str,
        client_id: &str,
        cognito_endpoint: &str,
    ) -> Self {
        Self {
            api_url: api_url.trim_end_matches('/').to_owned(),
            api_key: api_key.map(str::to_owned),
            region: region_of_pool(user_pool_id)
                .unwrap_or("us-east-1")
                .to_owned(),
            user_pool_id: user_pool_id.to_owned(),
            client_id: client_id.to_owned(),
            cognito_endpoint: Some(cognito_endpoint.trim_end_matches('/').to_owned()),
        }
    }

    /// The configuration of a page talking to a deployed stack, from the answer of
    /// `aws cloudformation describe-stacks --stack-name NAME` (or just its `Outputs` list).
    pub fn from_stack_outputs(
        document: &Json,
        front: Front,
        api_key: Option<&str>,
    ) -> Result<Self, WebConfigError> {
        let outputs = match document {
            Json::Array(outputs) => outputs,
            Json::Object(map) => match map
                .get("Stacks")
                .and_then(Json::as_array)
                .map(Vec::as_slice)
            {
                Some([stack]) => {
                    stack
                        .get("Outputs")
                        .and_then(Json::as_array)
                        .ok_or_else(|| {
                            WebConfigError::NotStackOutputs("the stack has no Outputs".into())
                        })?
                }
                Some(stacks) => {
                    return Err(WebConfigError::NotStackOutputs(format!(
                        "{} stacks in the document",
                        stacks.len()
                    )));
                }
                None => {
                    return Err(WebConfigError::NotStackOutputs(
                        "no Stacks list in the document".into(),
                    ));
                }
            },
            _ => {
                return Err(WebConfigError::NotStackOutputs(
                    "not a JSON object or list".into(),
                ));
            }
        };
        let output = |key: &'static str| -> Result<String, WebConfigError> {
            outputs
                .iter()
                .find(|o| o.get("OutputKey").and_then(Json::as_str) == Some(key))
                .and_then(|o| o.get("OutputValue").and_then(Json::as_str))
                .map(str::to_owned)
                .ok_or(WebConfigError::MissingOutput(key))
        };
        let url_output = match front {
            Front::Rest => "ApiUrl",
            Front::Http => "HttpApiUrl",
        };
        let api_url = output(url_output)?;
        if !api_url.starts_with("https://") {
            return Err(WebConfigError::InvalidOutput {
                output: url_output,
                problem: format!("{api_url:?} is not an https:// URL"),
            });
        }
        let user_pool_id = output("UserPoolId")?;
        let region = region_of_pool(&user_pool_id)
            .ok_or_else(|| WebConfigError::InvalidOutput {
                output: "UserPoolId",
                problem: format!("{user_pool_id:?} is not <region>_<id>"),
            })?
            .to_owned();
        let client_id = output("UserPoolClientId")?;
        if client_id.is_empty() || !client_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(WebConfigError::InvalidOutput {
                output: "UserPoolClientId",
                problem: format!("{client_id:?} is not an app client id"),
            });
        }
        Ok(Self {
            api_url: api_url.trim_end_matches('/').to_owned(),
            api_key: api_key.filter(|k| !k.is_empty()).map(str::to_owned),
            region,
            user_pool_id,
            client_id,
            cognito_endpoint: None,
        })
    }

    /// The API's base URL, without a trailing slash.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// `config.js`: a classic script (loaded before the page's modules) defining a frozen
    /// `window.NOTES_CONFIG`. The values are JSON, so any text in them stays a string literal.
    pub fn to_config_js(&self) -> String {
        let value = json!({
            "apiUrl": self.api_url,
            "apiKey": self.api_key.clone().unwrap_or_default(),
            "region": self.region,
            "userPoolId": self.user_pool_id,
            "clientId": self.client_id,
            "cognitoEndpoint": self.cognito_endpoint,
        });
        let pretty = serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string());
        format!(
            "// The web client's configuration, generated ({origin}); do not edit: it is rewritten.\n\
             window.NOTES_CONFIG = Object.freeze({pretty});\n",
            origin = if self.cognito_endpoint.is_some() {
                "by `make dev` for the local stack"
            } else {
                "by `make web-config` from a deployed stack's outputs"
            }
        )
    }

    /// Writes [`Self::to_config_js`] to `path` (its directory created if needed) through a
    /// temporary file and a rename, so a page loading meanwhile never reads half of it.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let temporary = path.with_extension(format!("js.{}.tmp", std::process::id()));
        std::fs::write(&temporary, self.to_config_js())?;
        std::fs::rename(&temporary, path)
    }
}

/// `us-east-1` of `us-east-1_AbCdEf123`: a user pool id starts with its region.
fn region_of_pool(user_pool_id: &str) -> Option<&str> {
    let (region, id) = user_pool_id.split_once('_')?;
    let region_ok = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let id_ok = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric());
    (region_ok && id_ok).then_some(region)
}

/// `/config.js` while `make dev` starts (its configuration is written once the backend answers):
/// the page shows that the backend is starting and loads itself when the real one is served.
pub const BACKEND_STARTING_SCRIPT: &str = "// make dev is starting the local backend; this file becomes the page's configuration then.\n\
     window.NOTES_BACKEND_STARTING = true;\n";

/// The page's Content-Security-Policy, sent as a response header (a `<meta>` policy cannot say
/// `frame-ancestors`, and one file cannot name each deployment's origins). `connect` lists the
/// origins the page may call (the API, Cognito), `media` those it plays audio from (the presigned
/// URLs' S3). The stack's CloudFront response headers policy sends the same directives with the
/// deployment's origins (template.yaml `WebResponseHeadersPolicy`; tests/deploy compares them).
pub fn content_security_policy(connect: &[&str], media: &[&str]) -> String {
    let list = |origins: &[&str]| {
        if origins.is_empty() {
            "'none'".to_owned()
        } else {
            origins.join(" ")
        }
    };
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         media-src {media}; connect-src {connect}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'",
        media = list(media),
        connect = list(connect),
    )
}

/// The policy of `make dev`'s page: its own origin (`/config.js`, polled while the backend
/// starts), the local API, and moto (Cognito, and S3 for the dictated audio); loopback only.
pub fn local_content_security_policy(api_port: u16, cognito_port: u16) -> String {
    let api = format!("http://127.0.0.1:{api_port}");
    let moto = format!("http://127.0.0.1:{cognito_port}");
    content_security_policy(&["'self'", &api, &moto], &[&moto])
}

/// What [`WebServer::start`] serves.
#[derive(Debug, Clone)]
pub struct WebServerConfig {
    /// `127.0.0.1:port`; 0 for a free one.
    pub port: u16,
    /// The static files (`web/`).
    pub root: PathBuf,
    /// The generated configuration, served as `/config.js` (wherever it was written).
    pub config_file: PathBuf,
    /// Cognito's browser library, served as `/vendor/amazon-cognito-identity.min.js`.
    pub cognito_library: PathBuf,
    /// The `Content-Security-Policy` header of every answer ([`local_content_security_policy`]).
    pub content_security_policy: String,
}

/// The page's static server: `web/` as it is (no build step), `config.js` and the Cognito
/// library from where they live. Stops when dropped.
#[derive(Debug)]
pub struct WebServer {
    address: SocketAddr,
    _shutdown: oneshot::Sender<()>,
}

impl WebServer {
    /// Binds `127.0.0.1:port` and serves in the background. Fails, naming what is missing, if the
    /// root or the Cognito library is not there.
    pub async fn start(config: WebServerConfig) -> Result<Self, DevkitError> {
        if !config.root.join("index.html").is_file() {
            return Err(DevkitError::WebClientMissing {
                path: config.root.join("index.html"),
                hint: "the web client's static files",
            });
        }
        if !config.cognito_library.is_file() {
            return Err(DevkitError::WebClientMissing {
                path: config.cognito_library.clone(),
                hint: "amazon-cognito-identity-js, installed by `make setup` (npm ci)",
            });
        }
        let port = config.port;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|source| DevkitError::BindWebServer { port, source })?;
        let address = listener
            .local_addr()
            .map_err(|source| DevkitError::BindWebServer { port, source })?;
        let content_security_policy = HeaderValue::from_str(&config.content_security_policy)
            .map_err(|_| {
                DevkitError::InvalidContentSecurityPolicy(config.content_security_policy.clone())
            })?;
        let app = Router::new()
            .fallback(serve_file)
            .with_state(Arc::new(Served {
                config,
                content_security_policy,
            }));
        let (shutdown, shutdown_requested) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let signal = async {
                let _sent_or_dropped = shutdown_requested.await;
            };
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::error!(%error, "web client server stopped");
            }
        });
        Ok(Self {
            address,
            _shutdown: shutdown,
        })
    }

    /// `http://127.0.0.1:PORT`: the page's origin (no trailing slash), to allow in CORS.
    pub fn origin(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.address.port()
    }
}

/// The server's state: its configuration and the policy header, checked once at start.
struct Served {
    config: WebServerConfig,
    content_security_policy: HeaderValue,
}

/// One static file: GET and HEAD only, no directory listings, nothing outside the root.
async fn serve_file(State(served): State<Arc<Served>>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "method not allowed\n",
        )
            .into_response();
    }
    let config = &served.config;
    let Some(file) = resolve(config, uri.path()) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let body = match tokio::fs::read(&file).await {
        Ok(body) => body,
        // `make dev` writes the page's configuration once the backend answers; until then the
        // page learns that it is starting (and waits for it), not that it has no configuration.
        Err(error)
            if error.kind() == std::io::ErrorKind::NotFound && file == config.config_file =>
        {
            BACKEND_STARTING_SCRIPT.as_bytes().to_vec()
        }
        Err(_) => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
    };
    let mut response = if method == Method::HEAD {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(body))
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&file)),
    );
    // The page is edited while `make dev` runs: the browser revalidates every file.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The whole policy, frame-ancestors 'none' included (the page is never framed:
    // clickjacking), which a `<meta>` policy could not say.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        served.content_security_policy.clone(),
    );
    response
}

/// The file behind a URL path, or `None` for anything that is not a plain relative file name
/// (`..`, encoded characters, hidden files, a trailing slash but the root's).
fn resolve(config: &WebServerConfig, path: &str) -> Option<PathBuf> {
    let relative = path.strip_prefix('/')?;
    let relative = if relative.is_empty() {
        "index.html"
    } else {
        relative
    };
    if relative == "config.js" {
        return Some(config.config_file.clone());
    }
    if relative == COGNITO_LIBRARY_PATH {
        return Some(config.cognito_library.clone());
    }
    let plain = relative.split('/').all(|segment| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    });
    let candidate = Path::new(relative);
    if !plain
        || !candidate
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let file = config.root.join(candidate);
    file.is_file().then_some(file)
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "webmanifest") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(front_url: &str, pool: &str, client: &str) -> Json {
        json!({"Stacks": [{"StackName": "notes", "Outputs": [
            {"OutputKey": "ApiUrl", "OutputValue": front_url},
            {"OutputKey": "HttpApiUrl", "OutputValue": "https://h1.execute-api.eu-west-1.amazonaws.com/Prod"},
            {"OutputKey": "UserPoolId", "OutputValue": pool},
            {"OutputKey": "UserPoolClientId", "OutputValue": client},
        ]}]})
    }

    #[test]
    fn stack_outputs_become_a_config_or_a_clear_refusal() {
        let good = outputs(
            "https://r1.execute-api.eu-west-1.amazonaws.com/Prod/",
            "eu-west-1_AbC123",
            "4abc567",
        );
        let rest = WebConfig::from_stack_outputs(&good, Front::Rest, Some("k")).unwrap();
        assert_eq!(
            rest.api_url(),
            "https://r1.execute-api.eu-west-1.amazonaws.com/Prod"
        );
        assert_eq!(
            rest.region, "eu-west-1",
            "the region comes from the pool id"
        );
        assert_eq!(rest.api_key.as_deref(), Some("k"));
        assert_eq!(
            rest.cognito_endpoint, None,
            "AWS: the library's own endpoint"
        );
        let http = WebConfig::from_stack_outputs(&good, Front::Http, Some("")).unwrap();
        assert_eq!(
            http.api_url(),
            "https://h1.execute-api.eu-west-1.amazonaws.com/Prod"
        );
        assert_eq!(http.api_key, None, "an empty key is no key");

        let cases: Vec<(Json, &str)> = vec![
            (json!({"Stacks": []}), "0 stacks"),
            (json!({"Nope": 1}), "no Stacks"),
            (json!("text"), "not a JSON object"),
            (
                outputs("http://plain.example/Prod", "eu-west-1_AbC123", "4abc567"),
                "is not an https:// URL",
            ),
            (
                outputs("https://a.example/Prod", "AbC123", "4abc567"),
                "is not <region>_<id>",
            ),
            (
                outputs("https://a.example/Prod", "eu-west-1_AbC123", "4abc 567"),
                "is not an app client id",
            ),
            (
                json!({"Stacks": [{"Outputs": [{"OutputKey": "ApiUrl", "OutputValue": "https://a.example"}]}]}),
                "no output UserPoolId",
            ),
        ];
        for (document, expected) in cases {
            let message = WebConfig::from_stack_outputs(&document, Front::Rest, None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                message.contains(expected),
                "{document}: expected {expected:?} in {message:?}"
            );
        }
    }

    #[test]
    fn config_js_is_a_script_defining_frozen_json() {
        let config = WebConfig::local(
            "http://127.0.0.1:4000/",
            None,
            "us-east-1_x1",
            "c1",
            "http://127.0.0.1:9229",
        );
        let script = config.to_config_js();
        let json_text = script
            .split_once("Object.freeze(")
            .and_then(|(_, rest)| rest.rsplit_once(");"))
            .map(|(json_text, _)| json_text)
            .unwrap_or_default();
        let value: Json = serde_json::from_str(json_text).unwrap();
        assert_eq!(
            value,
            json!({"apiUrl": "http://127.0.0.1:4000", "apiKey": "", "region": "us-east-1",
                   "userPoolId": "us-east-1_x1", "clientId": "c1",
                   "cognitoEndpoint": "http://127.0.0.1:9229"})
        );
        assert!(script.starts_with("// "), "{script}");
        assert!(script.contains("window.NOTES_CONFIG = Object.freeze("));
    }

    #[test]
    fn only_plain_files_under_the_root_are_served() {
        let root = std::env::temp_dir().join(format!("web-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(root.join("js")).unwrap();
        std::fs::write(root.join("index.html"), "<!doctype html>").unwrap();
        std::fs::write(root.join("js").join("app.js"), "").unwrap();
        std::fs::write(root.join(".env"), "secret").unwrap();
        let config = WebServerConfig {
            port: 0,
            root: root.clone(),
            config_file: PathBuf::from("/elsewhere/config.js"),
            cognito_library: PathBuf::from("/elsewhere/lib.js"),
            content_security_policy: String::new(),
        };
        let cases = [
            ("/", Some(root.join("index.html"))),
            ("/index.html", Some(root.join("index.html"))),
            ("/js/app.js", Some(root.join("js").join("app.js"))),
            ("/config.js", Some(PathBuf::from("/elsewhere/config.js"))),
            (
                "/vendor/amazon-cognito-identity.min.js",
                Some(PathBuf::from("/elsewhere/lib.js")),
            ),
            ("/js/", None),
            ("/js", None),
            ("/../Cargo.toml", None),
            ("/js/../index.html", None),
            ("/%2e%2e/Cargo.toml", None),
            ("/.env", None),
            ("/missing.js", None),
            ("//etc/passwd", None),
        ];
        for (path, expected) in cases {
            assert_eq!(resolve(&config, path), expected, "{path}");
        }
        let _ = std::fs::remove_dir_all(root);
    }
}
