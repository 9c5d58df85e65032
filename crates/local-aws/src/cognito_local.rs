//! The local stand-in for Cognito: moto in server mode, with the user pool and app client of
//! `template.yaml` created in it through Cognito's own wire API.
//!
//! `make dev`, `make token` and the tests start moto the same way ([`CognitoLocal::start`]) and
//! ask for the pool the same way ([`CognitoClient::ensure_pool`]): looked up by name and created
//! when absent at every start, so calling it twice on one server gives the same ids. moto runs
//! with the HASH id strategies, which make the pool and app client ids depend only on their names
//! and settings: a restarted `make dev` gets the same ids again. With its data kept on disk,
//! `make dev` also keeps the pool's users ([`CognitoLocal::start_keeping_users`]): the same
//! password signs in after a restart and every user keeps their `sub`.
//!
//! What moto does not do like Cognito, measured with moto 5.2.5 (local use only, never a reason to
//! trust a token in production):
//!
//! - every pool signs with one fixed RSA key (kid `dummy`) whose private half ships in the moto
//!   package: anyone can mint tokens this pool's JWKS verifies;
//! - `ConfirmSignUp` and `ConfirmForgotPassword` accept any code, and `ForgotPassword` sends
//!   nothing;
//! - required attributes are not enforced: a sign-up without `email` succeeds;
//! - tokens last 3600 s whatever the client's validity settings say.
//!
//! What moto lacks or bends that the dev kit's moto (`python/moto_server.py`, unless
//! `$MOTO_SERVER` names another executable) does as Cognito does: `RevokeToken` (a browser's
//! sign-out), `ResendConfirmationCode`, the pool's password policy on `ConfirmForgotPassword`
//! (moto's own sets any password), USER_SRP_AUTH with the proof checked and the username in
//! `USER_ID_FOR_SRP` (`python/cognito_srp.py`; moto's own accepts any password and answers the
//! `sub`, which amazon-cognito-identity-js then sends back as an unknown username), TOTP
//! two-factor with a secret of each user's own and every code checked (`python/cognito_totp.py`;
//! moto's own hands every user one fixed secret and accepts any code), and users kept across
//! restarts (`python/cognito_state.py`).
//!
//! It does enforce the pool's password policy on sign-up, refuses a wrong password on
//! `USER_PASSWORD_AUTH` and an unconfirmed user's sign-in, and puts `cognito:groups` in both the ID
//! and the access token.
//!
//! moto runs under the same lifeline supervisor as DynamoDB Local (the devkit's `supervised`
//! module): it stops when the [`CognitoLocal`] is dropped and when this process dies, however it
//! dies.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value as Json, json};
use serde_yaml_ng::Value as Yaml;

use crate::dynamodb_local::free_loopback_port;
use crate::supervised::{NotReady, SpawnError, SupervisedProcess};
use crate::workspace_root;

/// The port `make dev` runs moto on. moto's own default, 5000, is taken by AirPlay on macOS.
pub const DEFAULT_COGNITO_PORT: u16 = 9229;

/// The region of the local pool; pool ids and the token issuer carry it.
pub const LOCAL_COGNITO_REGION: &str = "us-east-1";
/// The file in moto's instance directory where `python/moto_server.py` appends user deletions.
pub const DELETIONS_FILE_NAME: &str = "cognito-deletions.jsonl";

/// Where `make dev` writes the pool's ids for `make token` and for a shell (`source` it).
pub const DEFAULT_COGNITO_ENV_FILE: &str = ".local/cognito.env";

/// The local pool's and app client's names (the template's are `${AWS::StackName}-users` and
/// `${AWS::StackName}-client`; locally the stack is called `notes-local`).
pub const LOCAL_POOL_NAME: &str = "notes-local-users";
/// See [`LOCAL_POOL_NAME`].
pub const LOCAL_CLIENT_NAME: &str = "notes-local-client";

/// Environment variable naming the `moto_server` executable to run instead of the one in `.venv`.
pub const MOTO_SERVER_ENV: &str = "MOTO_SERVER";

/// Environment variable telling the dev kit's moto where to keep the pools' users
/// (`python/cognito_state.py`).
const STATE_FILE_ENV: &str = "NOTES_COGNITO_STATE";

/// How long [`CognitoLocal::start`] waits for moto to answer. It usually needs under a second;
/// the margin is for a loaded two-core machine.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Every request to moto is bounded by this: it answers in milliseconds.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How many lines of moto's output an error message carries.
const LOG_TAIL_LINES: usize = 40;

/// The user pool and app client properties copied from the template into the CreateUserPool and
/// CreateUserPoolClient requests. CloudFormation and the API name them alike; properties not
/// listed here (names, tags, deletion protection, ...) have no local meaning or are not
/// implemented by moto.
const MIRRORED_POOL_PROPERTIES: &[&str] = &[
    "AliasAttributes",
    "UsernameAttributes",
    "AutoVerifiedAttributes",
    "AdminCreateUserConfig",
    "AccountRecoverySetting",
    "Policies",
    "Schema",
    "UsernameConfiguration",
    "MfaConfiguration",
];
/// See [`MIRRORED_POOL_PROPERTIES`].
const MIRRORED_CLIENT_PROPERTIES: &[&str] = &[
    "GenerateSecret",
    "ExplicitAuthFlows",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "AccessTokenValidity",
    "IdTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
];

/// What can go wrong with the local Cognito: starting moto, reading the template, talking to the
/// pool, reading `.local/cognito.env`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CognitoLocalError {
    /// No `moto_server` to run.
    #[error(
        "moto_server not found (looked at ${MOTO_SERVER_ENV}, {venv} and on PATH): run `make setup` \
         (installs moto[server] from requirements-dev.txt into .venv)",
        venv = default_moto_server().display()
    )]
    MotoNotFound,

    /// A temporary file or directory for moto could not be created.
    #[error("could not create {path} for moto")]
    InstanceDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `sh` (which supervises moto) could not be started.
    #[error("could not start `sh` to launch moto")]
    Spawn(#[source] std::io::Error),

    /// The operating system would not give us a loopback port.
    #[error("could not reserve a free port on 127.0.0.1")]
    NoFreePort(#[source] crate::DevkitError),

    /// moto exited before it answered.
    #[error("moto exited during startup ({status}); its last output:\n{log_tail}")]
    Exited { status: String, log_tail: String },

    /// moto runs but did not answer in time.
    #[error("moto did not answer at {endpoint} within {waited:?}; its last output:\n{log_tail}")]
    NotReady {
        endpoint: String,
        waited: Duration,
        log_tail: String,
    },

    /// The template has no user pool and client the local pool can mirror.
    #[error("the SAM template {path} has no user pool the local Cognito can mirror: {problem}")]
    Template { path: PathBuf, problem: String },

    /// The template could not be read or parsed.
    #[error("could not read the SAM template {path}")]
    ReadTemplate {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Nothing answered at the endpoint (or the connection failed).
    #[error("could not reach Cognito at {endpoint} ({operation})")]
    Unreachable {
        operation: &'static str,
        endpoint: String,
        #[source]
        source: Box<ureq::Error>,
    },

    /// The service answered with an error (`__type` without its namespace, e.g.
    /// `InvalidPasswordException`).
    #[error("Cognito {operation} refused: {error_type}: {message}")]
    Service {
        operation: &'static str,
        error_type: String,
        message: String,
    },

    /// The service answered something that is not the operation's JSON output.
    #[error("Cognito {operation} answered HTTP {status} with an unexpected body: {body}")]
    UnexpectedResponse {
        operation: &'static str,
        status: u16,
        body: String,
    },

    /// `.local/cognito.env` (or the given file) could not be read or written.
    #[error("{path}: {problem}")]
    EnvFile { path: PathBuf, problem: String },

    /// Nothing answers at the endpoint named by `.local/cognito.env`.
    #[error("nothing answers at {endpoint}, the local Cognito named in {path}: start `make dev`")]
    NotRunning {
        path: PathBuf,
        endpoint: String,
        #[source]
        source: Box<CognitoLocalError>,
    },

    /// The pool or client named by `.local/cognito.env` no longer exists (moto was restarted).
    #[error(
        "the user pool {pool_id} (app client {client_id}) written to {path} no longer exists at \
         {endpoint}: start `make dev` again, which recreates it and rewrites the file"
    )]
    PoolGone {
        path: PathBuf,
        pool_id: String,
        client_id: String,
        endpoint: String,
    },
}

impl CognitoLocalError {
    /// The service error's type, e.g. `UsernameExistsException`, when the service refused.
    pub fn service_error_type(&self) -> Option<&str> {
        match self {
            Self::Service { error_type, .. } => Some(error_type),
            _ => None,
        }
    }
}

/// `<workspace>/.venv/bin/moto_server`, where `make setup` installs it.
pub fn default_moto_server() -> PathBuf {
    workspace_root()
        .join(".venv")
        .join("bin")
        .join("moto_server")
}

/// `<workspace>/crates/local-aws/python/moto_server.py`: moto's server with `RevokeToken` and
/// `ResendConfirmationCode`.
pub fn moto_launcher() -> PathBuf {
    workspace_root()
        .join("crates")
        .join("local-aws")
        .join("python")
        .join("moto_server.py")
}

/// How moto is started: a program and the arguments that come before moto_server's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MotoCommand {
    /// The executable.
    pub program: PathBuf,
    /// Arguments before `-H HOST -p PORT` (the launcher script, when there is one).
    pub leading_args: Vec<OsString>,
}

/// `$MOTO_SERVER` if set (run as is), else the `moto_server` of [`default_moto_server`] or of
/// `PATH`, run as [`moto_launcher`] under the Python beside it (the one moto is installed in), so
/// that the operations it adds work; the bare `moto_server` only when that Python or the launcher is
/// missing.
pub fn find_moto_server() -> Result<MotoCommand, CognitoLocalError> {
    if let Some(path) = std::env::var_os(MOTO_SERVER_ENV).filter(|p| !p.is_empty()) {
        return Ok(MotoCommand {
            program: PathBuf::from(path),
            leading_args: Vec::new(),
        });
    }
    let on_path = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("moto_server"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let moto_server = std::iter::once(default_moto_server())
        .chain(on_path)
        .find(|candidate| candidate.is_file())
        .ok_or(CognitoLocalError::MotoNotFound)?;
    let python = moto_server.with_file_name("python");
    let launcher = moto_launcher();
    Ok(if python.is_file() && launcher.is_file() {
        MotoCommand {
            program: python,
            leading_args: vec![launcher.into_os_string()],
        }
    } else {
        MotoCommand {
            program: moto_server,
            leading_args: Vec::new(),
        }
    })
}

/// A running moto. Dropping it stops moto; so does the end of this process.
#[derive(Debug)]
pub struct CognitoLocal {
    endpoint: String,
    port: u16,
    /// moto under its supervisor, in a private working directory that holds its log.
    process: SupervisedProcess,
}

impl CognitoLocal {
    /// Starts `moto_server -H 127.0.0.1 -p PORT` (on `port`, or a free port when `None`) and waits
    /// (up to [`STARTUP_TIMEOUT`]) until it answers a Cognito request.
    pub fn start(port: Option<u16>) -> Result<Self, CognitoLocalError> {
        Self::start_keeping_users(port, None)
    }

    /// [`CognitoLocal::start`], keeping the pools' users (passwords, `sub`s, groups, refresh
    /// tokens) in `state_file` across restarts when one is given: the dev kit's moto writes them
    /// there after every change and restores them when the same pool is created again
    /// (`python/cognito_state.py`). `make dev` passes `.local/cognito/users.json` unless it runs
    /// in memory.
    pub fn start_keeping_users(
        port: Option<u16>,
        state_file: Option<&Path>,
    ) -> Result<Self, CognitoLocalError> {
        let moto_server = find_moto_server()?;
        // moto runs in a private working directory: the file gets an absolute path.
        let state_file = match state_file {
            Some(file) => Some(absolute_state_file(file)?),
            None => None,
        };
        // A port probed as free can be taken before moto binds it; when we chose it, retry.
        let attempts = if port.is_some() { 1 } else { 3 };
        let mut last_error = None;
        for _ in 0..attempts {
            let port = match port {
                Some(port) => port,
                None => free_loopback_port().map_err(CognitoLocalError::NoFreePort)?,
            };
            match Self::start_on_port(&moto_server, port, state_file.as_deref()) {
                Ok(instance) => return Ok(instance),
                Err(CognitoLocalError::Exited { status, log_tail })
                    if log_tail.contains("Address already in use") =>
                {
                    last_error = Some(CognitoLocalError::Exited { status, log_tail });
                }
                Err(error) => return Err(error),
            }
        }
        Err(last_error.unwrap_or(CognitoLocalError::Exited {
            status: "not started".to_owned(),
            log_tail: "(no output)".to_owned(),
        }))
    }

    fn start_on_port(
        moto_server: &MotoCommand,
        port: u16,
        state_file: Option<&Path>,
    ) -> Result<Self, CognitoLocalError> {
        let mut arguments = moto_server.leading_args.clone();
        arguments.extend([
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string().into(),
        ]);
        // Pool and app client ids from their names and settings: the same ids after a restart,
        // so the page's configuration and tokens issued before it stay valid.
        let mut env = vec![
            ("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "HASH"),
            ("MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY", "HASH"),
        ];
        let state_file_text = state_file.map(|file| file.to_string_lossy().into_owned());
        if let Some(file) = &state_file_text {
            env.push((STATE_FILE_ENV, file));
        }
        let process = SupervisedProcess::spawn(
            "notes-devkit-cognito-local",
            &moto_server.program,
            &arguments,
            &env,
        )
        .map_err(|error| match error {
            SpawnError::Prepare { path, source, .. } => {
                CognitoLocalError::InstanceDir { path, source }
            }
            SpawnError::Spawn(source) => CognitoLocalError::Spawn(source),
        })?;
        let mut instance = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            process,
        };
        instance.wait_until_ready(STARTUP_TIMEOUT)?;
        tracing::debug!(endpoint = %instance.endpoint, "moto (local Cognito) is ready");
        Ok(instance)
    }

    /// `http://127.0.0.1:<port>`, the Cognito endpoint URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Where this moto records each `AdminDeleteUser` as the CloudTrail event EventBridge would
    /// deliver (one JSON object a line; `python/moto_server.py`), for
    /// [`DeletionFeed`](crate::deletion_feed::DeletionFeed).
    pub fn deletions_file(&self) -> PathBuf {
        self.process.instance_dir().join(DELETIONS_FILE_NAME)
    }

    /// The TCP port moto listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A client for this server, in [`LOCAL_COGNITO_REGION`].
    pub fn client(&self) -> CognitoClient {
        CognitoClient::new(&self.endpoint)
    }

    /// The last lines moto printed, for diagnostics.
    pub fn log_tail(&self) -> String {
        self.process.log_tail(LOG_TAIL_LINES)
    }

    fn wait_until_ready(&mut self, timeout: Duration) -> Result<(), CognitoLocalError> {
        let client = CognitoClient::with_timeout(&self.endpoint, Duration::from_millis(500));
        match self.process.wait_until_ready(timeout, || client.answers()) {
            Ok(()) => Ok(()),
            Err(NotReady::Exited(status)) => Err(CognitoLocalError::Exited {
                status: status.to_string(),
                log_tail: self.log_tail(),
            }),
            Err(NotReady::TimedOut) => Err(CognitoLocalError::NotReady {
                endpoint: self.endpoint.clone(),
                waited: timeout,
                log_tail: self.log_tail(),
            }),
        }
    }
}

/// `file` made absolute (its directory created), for a process that runs elsewhere.
fn absolute_state_file(file: &Path) -> Result<PathBuf, CognitoLocalError> {
    let directory = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let instance_dir_error = |source| CognitoLocalError::InstanceDir {
        path: directory.clone(),
        source,
    };
    std::fs::create_dir_all(&directory).map_err(instance_dir_error)?;
    let directory = std::fs::canonicalize(&directory).map_err(instance_dir_error)?;
    Ok(match file.file_name() {
        Some(name) => directory.join(name),
        None => directory.join("users.json"),
    })
}

/// The user pool and app client settings of `template.yaml`, as CreateUserPool and
/// CreateUserPoolClient request members (without the names and the pool id).
#[derive(Debug, Clone, PartialEq)]
pub struct UserPoolTemplate {
    pool: serde_json::Map<String, Json>,
    client: serde_json::Map<String, Json>,
}

impl UserPoolTemplate {
    /// Reads the one `AWS::Cognito::UserPool` of the template and the
    /// `AWS::Cognito::UserPoolClient` that refers to it.
    pub fn from_template(path: &Path) -> Result<Self, CognitoLocalError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| CognitoLocalError::ReadTemplate {
                path: path.to_path_buf(),
                source: Box::new(source),
            })?;
        Self::parse(&text).map_err(|problem| match problem {
            TemplateProblem::Yaml(source) => CognitoLocalError::ReadTemplate {
                path: path.to_path_buf(),
                source: Box::new(source),
            },
            TemplateProblem::Shape(problem) => CognitoLocalError::Template {
                path: path.to_path_buf(),
                problem,
            },
        })
    }

    fn parse(text: &str) -> Result<Self, TemplateProblem> {
        let document: Yaml = serde_yaml_ng::from_str(text).map_err(TemplateProblem::Yaml)?;
        let resources = document
            .get("Resources")
            .and_then(Yaml::as_mapping)
            .ok_or_else(|| TemplateProblem::Shape("no Resources".to_owned()))?;
        let of_type = |wanted: &str| -> Vec<(String, &Yaml)> {
            resources
                .iter()
                .filter(|(_, resource)| resource.get("Type").and_then(Yaml::as_str) == Some(wanted))
                .filter_map(|(id, resource)| Some((id.as_str()?.to_owned(), resource)))
                .collect()
        };
        let pools = of_type("AWS::Cognito::UserPool");
        let [(pool_id, pool)] = pools.as_slice() else {
            return Err(TemplateProblem::Shape(format!(
                "expected exactly one AWS::Cognito::UserPool, found {}",
                pools.len()
            )));
        };
        let clients: Vec<_> = of_type("AWS::Cognito::UserPoolClient")
            .into_iter()
            .filter(|(_, client)| refers_to(client, pool_id))
            .collect();
        let [(client_id, client)] = clients.as_slice() else {
            return Err(TemplateProblem::Shape(format!(
                "expected exactly one AWS::Cognito::UserPoolClient with UserPoolId !Ref {pool_id}, \
                 found {}",
                clients.len()
            )));
        };
        Ok(Self {
            pool: mirrored(pool, pool_id, MIRRORED_POOL_PROPERTIES)?,
            client: mirrored(client, client_id, MIRRORED_CLIENT_PROPERTIES)?,
        })
    }

    /// The CreateUserPool request for a pool called `name`.
    pub fn create_user_pool_request(&self, name: &str) -> Json {
        let mut request = self.pool.clone();
        request.insert("PoolName".to_owned(), json!(name));
        Json::Object(request)
    }

    /// The CreateUserPoolClient request for a client called `name` of pool `pool_id`.
    pub fn create_client_request(&self, pool_id: &str, name: &str) -> Json {
        let mut request = self.client.clone();
        request.insert("UserPoolId".to_owned(), json!(pool_id));
        request.insert("ClientName".to_owned(), json!(name));
        Json::Object(request)
    }
}

enum TemplateProblem {
    Yaml(serde_yaml_ng::Error),
    Shape(String),
}

/// True if the client's `UserPoolId` is `!Ref <pool>` (or `{"Ref": <pool>}`).
fn refers_to(client: &Yaml, pool: &str) -> bool {
    match client.get("Properties").and_then(|p| p.get("UserPoolId")) {
        Some(Yaml::Tagged(tagged)) => tagged.tag == "Ref" && tagged.value.as_str() == Some(pool),
        Some(Yaml::Mapping(mapping)) => {
            mapping.get("Ref").and_then(Yaml::as_str) == Some(pool) && mapping.len() == 1
        }
        _ => false,
    }
}

/// The listed properties of a resource, as JSON. Intrinsic functions (`!Ref`, `!Sub`, ...) have
/// no local value, so one in a mirrored property is an error naming it.
fn mirrored(
    resource: &Yaml,
    logical_id: &str,
    names: &[&str],
) -> Result<serde_json::Map<String, Json>, TemplateProblem> {
    let mut request = serde_json::Map::new();
    let Some(properties) = resource.get("Properties") else {
        return Ok(request);
    };
    for name in names {
        let Some(value) = properties.get(*name) else {
            continue;
        };
        if contains_intrinsic(value) {
            return Err(TemplateProblem::Shape(format!(
                "{logical_id}.{name} uses an intrinsic function (!Ref, !Sub, !If, ...): only \
                 literal values can be mirrored locally"
            )));
        }
        let json = serde_json::to_value(value).map_err(|e| {
            TemplateProblem::Shape(format!("{logical_id}.{name} is not plain data: {e}"))
        })?;
        request.insert((*name).to_owned(), json);
    }
    Ok(request)
}

fn contains_intrinsic(value: &Yaml) -> bool {
    match value {
        Yaml::Tagged(_) => true,
        Yaml::Sequence(items) => items.iter().any(contains_intrinsic),
        Yaml::Mapping(mapping) => mapping.iter().any(|(key, value)| {
            key.as_str()
                .is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
                || contains_intrinsic(value)
        }),
        _ => false,
    }
}

/// A client of Cognito's JSON 1.1 wire API (`X-Amz-Target:
/// AWSCognitoIdentityProviderService.<Operation>`), for the local pool. Blocking: call it from
/// `spawn_blocking` in async code. Requests carry a fake, unsigned `Authorization` header naming
/// the region, which moto reads the region from and does not check.
#[derive(Debug, Clone)]
pub struct CognitoClient {
    endpoint: String,
    region: String,
    agent: ureq::Agent,
}

impl CognitoClient {
    /// A client for `endpoint` (`http://127.0.0.1:PORT`) in [`LOCAL_COGNITO_REGION`].
    pub fn new(endpoint: &str) -> Self {
        Self::with_timeout(endpoint, REQUEST_TIMEOUT)
    }

    fn with_timeout(endpoint: &str, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            // Cognito's errors are JSON bodies with a 4xx status: read them, do not fail on them.
            .http_status_as_error(false)
            // Loopback: an HTTP(S)_PROXY of the developer's must not see these requests.
            .proxy(None)
            .build()
            .new_agent();
        Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region: LOCAL_COGNITO_REGION.to_owned(),
            agent,
        }
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// True if a Cognito request gets a Cognito answer.
    fn answers(&self) -> bool {
        self.call("ListUserPools", &json!({"MaxResults": 1}))
            .is_ok_and(|output| output.get("UserPools").is_some())
    }

    /// One operation: its JSON input, its JSON output or the service's error.
    pub fn call(&self, operation: &'static str, input: &Json) -> Result<Json, CognitoLocalError> {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=local/20240101/{}/cognito-idp/aws4_request, \
             SignedHeaders=host;x-amz-target, Signature=0",
            self.region
        );
        let unreachable = |source| CognitoLocalError::Unreachable {
            operation,
            endpoint: self.endpoint.clone(),
            source: Box::new(source),
        };
        let mut response = self
            .agent
            .post(&format!("{}/", self.endpoint))
            .header(
                "X-Amz-Target",
                &format!("AWSCognitoIdentityProviderService.{operation}"),
            )
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("Authorization", &authorization)
            .send(input.to_string())
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(unreachable)?;
        let parsed: Option<Json> = serde_json::from_str(&body).ok();
        match parsed {
            Some(output @ Json::Object(_)) if (200..300).contains(&status) => Ok(output),
            Some(error) if status >= 400 && error.get("__type").is_some() => {
                let error_type = error
                    .get("__type")
                    .and_then(Json::as_str)
                    .unwrap_or_default();
                // AWS sends `namespace#Type`, moto the bare type.
                let error_type = error_type.rsplit('#').next().unwrap_or(error_type);
                let message = error
                    .get("message")
                    .or_else(|| error.get("Message"))
                    .and_then(Json::as_str)
                    .unwrap_or_default();
                Err(CognitoLocalError::Service {
                    operation,
                    error_type: error_type.to_owned(),
                    message: message.to_owned(),
                })
            }
            _ => Err(CognitoLocalError::UnexpectedResponse {
                operation,
                status,
                body: body.chars().take(500).collect(),
            }),
        }
    }

    /// The pool called [`LOCAL_POOL_NAME`] with its client [`LOCAL_CLIENT_NAME`], created from
    /// the template's settings when absent, reused when present: idempotent.
    pub fn ensure_pool(&self, template: &UserPoolTemplate) -> Result<LocalPool, CognitoLocalError> {
        let pool_id = match self.find_pool(LOCAL_POOL_NAME)? {
            Some(pool_id) => pool_id,
            None => {
                let created = self.call(
                    "CreateUserPool",
                    &template.create_user_pool_request(LOCAL_POOL_NAME),
                )?;
                string_at(&created, "CreateUserPool", &["UserPool", "Id"])?
            }
        };
        let client_id = match self.find_client(&pool_id, LOCAL_CLIENT_NAME)? {
            Some(client_id) => client_id,
            None => {
                let created = self.call(
                    "CreateUserPoolClient",
                    &template.create_client_request(&pool_id, LOCAL_CLIENT_NAME),
                )?;
                string_at(
                    &created,
                    "CreateUserPoolClient",
                    &["UserPoolClient", "ClientId"],
                )?
            }
        };
        Ok(LocalPool::new(self.clone(), pool_id, client_id))
    }

    fn find_pool(&self, name: &str) -> Result<Option<String>, CognitoLocalError> {
        let mut next_token: Option<String> = None;
        loop {
            let mut input = json!({"MaxResults": 60});
            if let (Some(token), Some(fields)) = (&next_token, input.as_object_mut()) {
                fields.insert("NextToken".to_owned(), json!(token));
            }
            let page = self.call("ListUserPools", &input)?;
            let found = page
                .get("UserPools")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .find(|pool| pool.get("Name").and_then(Json::as_str) == Some(name))
                .and_then(|pool| pool.get("Id").and_then(Json::as_str));
            if let Some(id) = found {
                return Ok(Some(id.to_owned()));
            }
            match page.get("NextToken").and_then(Json::as_str) {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    fn find_client(&self, pool_id: &str, name: &str) -> Result<Option<String>, CognitoLocalError> {
        let mut next_token: Option<String> = None;
        loop {
            let mut input = json!({"UserPoolId": pool_id, "MaxResults": 60});
            if let (Some(token), Some(fields)) = (&next_token, input.as_object_mut()) {
                fields.insert("NextToken".to_owned(), json!(token));
            }
            let page = self.call("ListUserPoolClients", &input)?;
            let found = page
                .get("UserPoolClients")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .find(|client| client.get("ClientName").and_then(Json::as_str) == Some(name))
                .and_then(|client| client.get("ClientId").and_then(Json::as_str));
            if let Some(id) = found {
                return Ok(Some(id.to_owned()));
            }
            match page.get("NextToken").and_then(Json::as_str) {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(None),
            }
        }
    }
}

fn string_at(
    output: &Json,
    operation: &'static str,
    path: &[&str],
) -> Result<String, CognitoLocalError> {
    path.iter()
        .try_fold(output, |value, key| value.get(key))
        .and_then(Json::as_str)
        .map(str::to_owned)
        .ok_or_else(|| CognitoLocalError::UnexpectedResponse {
            operation,
            status: 200,
            body: format!("no {} in {output}", path.join(".")),
        })
}

/// The tokens of one sign-in. `Debug` does not show them.
#[derive(Clone)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
    /// Seconds until both expire.
    pub expires_in: u64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// The local user pool and its app client: what an authorizer, the AWS CLI and `make token` need
/// to reach it.
#[derive(Debug, Clone)]
pub struct LocalPool {
    client: CognitoClient,
    pool_id: String,
    client_id: String,
}

impl LocalPool {
    fn new(client: CognitoClient, pool_id: String, client_id: String) -> Self {
        Self {
            client,
            pool_id,
            client_id,
        }
    }

    pub fn pool_id(&self) -> &str {
        &self.pool_id
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The Cognito endpoint URL (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> &str {
        self.client.endpoint()
    }

    pub fn region(&self) -> &str {
        &self.client.region
    }

    /// Where the pool publishes its signing keys, as Cognito does under the issuer.
    pub fn jwks_url(&self) -> String {
        format!(
            "{}/{}/.well-known/jwks.json",
            self.client.endpoint, self.pool_id
        )
    }

    /// The `iss` of the pool's tokens: the real Cognito form, as moto writes it.
    pub fn issuer(&self) -> String {
        format!(
            "https://cognito-idp.{}.amazonaws.com/{}",
            self.client.region, self.pool_id
        )
    }

    /// The authorizer's environment for trusting this pool's tokens: the pool and client as in
    /// AWS, the keys fetched from moto (the issuer is derived from region and pool as in AWS).
    pub fn authorizer_env(&self) -> Vec<(String, String)> {
        [
            ("USER_POOL_ID", self.pool_id.clone()),
            ("AWS_REGION", self.client.region.clone()),
            ("USER_POOL_CLIENT_IDS", self.client_id.clone()),
            ("JWKS_URL", self.jwks_url()),
        ]
        .map(|(name, value)| (name.to_owned(), value))
        .to_vec()
    }

    /// What the functions that manage users (`account`, `purge`) need to reach this pool through
    /// the Cognito SDK: the pool and moto's endpoint, in moto's region.
    pub fn user_admin_env(&self) -> Vec<(String, String)> {
        [
            ("USER_POOL_ID", self.pool_id.clone()),
            (
                "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
                self.client.endpoint.clone(),
            ),
        ]
        .map(|(name, value)| (name.to_owned(), value))
        .to_vec()
    }

    /// The lines of `.local/cognito.env`: sourced by a shell, they let the AWS CLI reach the
    /// pool with the names the labs use (`$CognitoPoolId`, `$AppClientId`). The endpoint is set
    /// for Cognito only, so other `aws` commands in that shell are not sent to moto; the region
    /// twice, since AWS CLI v1 reads `AWS_DEFAULT_REGION` and the SDKs `AWS_REGION`.
    pub fn env_file_contents(&self) -> String {
        format!(
            "# The local Cognito user pool (moto) of `make dev`; `source` this file, then e.g.\n\
             #   aws cognito-idp sign-up --client-id $AppClientId ...\n\
             # Rewritten at every start of `make dev`. Local only: moto signs every pool's tokens\n\
             # with one key that ships with moto.\n\
             export CognitoPoolId={pool}\n\
             export AppClientId={client}\n\
             export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER={endpoint}\n\
             export AWS_REGION={region}\n\
             export AWS_DEFAULT_REGION={region}\n\
             export AWS_ACCESS_KEY_ID=local\n\
             export AWS_SECRET_ACCESS_KEY=local\n",
            pool = self.pool_id,
            client = self.client_id,
            endpoint = self.client.endpoint,
            region = self.client.region,
        )
    }

    /// Writes [`LocalPool::env_file_contents`] to `path`, creating its directory.
    pub fn write_env_file(&self, path: &Path) -> Result<(), CognitoLocalError> {
        let problem = |what: &str, error: std::io::Error| CognitoLocalError::EnvFile {
            path: path.to_path_buf(),
            problem: format!("{what}: {error}"),
        };
        for value in [&self.pool_id, &self.client_id, &self.client.endpoint] {
            if !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b))
            {
                return Err(CognitoLocalError::EnvFile {
                    path: path.to_path_buf(),
                    problem: format!("{value:?} cannot be written unquoted"),
                });
            }
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| problem("cannot create its directory", e))?;
        }
        std::fs::write(path, self.env_file_contents()).map_err(|e| problem("cannot write it", e))
    }

    /// The pool written to `path` by `make dev`, checked to still exist.
    pub fn from_env_file(path: &Path) -> Result<Self, CognitoLocalError> {
        let text = std::fs::read_to_string(path).map_err(|error| CognitoLocalError::EnvFile {
            path: path.to_path_buf(),
            problem: if error.kind() == std::io::ErrorKind::NotFound {
                "not found: start `make dev` first (it runs the local Cognito and writes this file)"
                    .to_owned()
            } else {
                format!("cannot read it: {error}")
            },
        })?;
        let value = |name: &str| {
            text.lines()
                .map(str::trim)
                .filter(|line| !line.starts_with('#'))
                .map(|line| line.strip_prefix("export ").unwrap_or(line))
                .filter_map(|line| line.split_once('='))
                .find(|(key, _)| key.trim() == name)
                .map(|(_, value)| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .ok_or_else(|| CognitoLocalError::EnvFile {
                    path: path.to_path_buf(),
                    problem: format!("no {name}=...: start `make dev`, which rewrites it"),
                })
        };
        let pool = Self::new(
            CognitoClient::new(&value("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")?),
            value("CognitoPoolId")?,
            value("AppClientId")?,
        );
        let found = pool.client.call(
            "DescribeUserPoolClient",
            &json!({"UserPoolId": pool.pool_id, "ClientId": pool.client_id}),
        );
        match found {
            Ok(_) => Ok(pool),
            Err(error) if error.service_error_type() == Some("ResourceNotFoundException") => {
                Err(CognitoLocalError::PoolGone {
                    path: path.to_path_buf(),
                    pool_id: pool.pool_id,
                    client_id: pool.client_id,
                    endpoint: pool.client.endpoint,
                })
            }
            Err(error @ CognitoLocalError::Unreachable { .. }) => {
                Err(CognitoLocalError::NotRunning {
                    path: path.to_path_buf(),
                    endpoint: pool.client.endpoint,
                    source: Box::new(error),
                })
            }
            Err(error) => Err(error),
        }
    }

    /// Signs `username` up with `email` and confirms it as an administrator would. Idempotent:
    /// an existing user is confirmed (again) and otherwise left as it is, password included.
    /// Returns whether the user was created.
    pub fn ensure_user(
        &self,
        username: &str,
        email: &str,
        password: &str,
    ) -> Result<bool, CognitoLocalError> {
        let signed_up = self.client.call(
            "SignUp",
            &json!({
                "ClientId": self.client_id,
                "Username": username,
                "Password": password,
                "UserAttributes": [{"Name": "email", "Value": email}],
            }),
        );
        let created = match signed_up {
            Ok(_) => true,
            Err(error) if error.service_error_type() == Some("UsernameExistsException") => false,
            Err(error) => return Err(error),
        };
        self.client.call(
            "AdminConfirmSignUp",
            &json!({"UserPoolId": self.pool_id, "Username": username}),
        )?;
        Ok(created)
    }

    /// Creates `group` if absent and adds `username` to it, so that the user's next tokens
    /// carry it in `cognito:groups`. Idempotent.
    pub fn ensure_group_member(
        &self,
        username: &str,
        group: &str,
    ) -> Result<(), CognitoLocalError> {
        let created = self.client.call(
            "CreateGroup",
            &json!({"UserPoolId": self.pool_id, "GroupName": group}),
        );
        match created {
            Ok(_) => {}
            Err(error) if error.service_error_type() == Some("GroupExistsException") => {}
            Err(error) => return Err(error),
        }
        self.client.call(
            "AdminAddUserToGroup",
            &json!({"UserPoolId": self.pool_id, "GroupName": group, "Username": username}),
        )?;
        Ok(())
    }

    /// Signs in with `USER_PASSWORD_AUTH`, as `aws cognito-idp initiate-auth` does.
    pub fn sign_in(&self, username: &str, password: &str) -> Result<Tokens, CognitoLocalError> {
        const OPERATION: &str = "InitiateAuth";
        let output = self.client.call(
            OPERATION,
            &json!({
                "ClientId": self.client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": username, "PASSWORD": password},
            }),
        )?;
        Ok(Tokens {
            id_token: string_at(&output, OPERATION, &["AuthenticationResult", "IdToken"])?,
            access_token: string_at(&output, OPERATION, &["AuthenticationResult", "AccessToken"])?,
            expires_in: output
                .pointer("/AuthenticationResult/ExpiresIn")
                .and_then(Json::as_u64)
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real_template() -> UserPoolTemplate {
        let result = UserPoolTemplate::from_template(&crate::template_path());
        assert!(result.is_ok(), "{result:?}");
        result.unwrap_or_else(|_| UserPoolTemplate {
            pool: serde_json::Map::new(),
            client: serde_json::Map::new(),
        })
    }

    #[test]
    fn the_real_template_pool_and_client_are_mirrored() {
        let template = real_template();
        let pool = template.create_user_pool_request("p");
        let cases = [
            ("/PoolName", json!("p"), "the local name"),
            (
                "/Policies/PasswordPolicy/MinimumLength",
                json!(12),
                "length",
            ),
            (
                "/Policies/PasswordPolicy/RequireLowercase",
                json!(true),
                "lower",
            ),
            (
                "/Policies/PasswordPolicy/RequireUppercase",
                json!(true),
                "upper",
            ),
            (
                "/Policies/PasswordPolicy/RequireNumbers",
                json!(true),
                "number",
            ),
            (
                "/Policies/PasswordPolicy/RequireSymbols",
                json!(true),
                "symbol",
            ),
            ("/AliasAttributes", json!(["email"]), "sign in by email"),
            (
                "/AutoVerifiedAttributes",
                json!(["email"]),
                "verified email",
            ),
            ("/Schema/0/Name", json!("email"), "email attribute"),
            ("/Schema/0/Required", json!(true), "email required"),
            (
                "/MfaConfiguration",
                json!("OPTIONAL"),
                "two-factor is each user's choice",
            ),
        ];
        for (pointer, expected, why) in cases {
            assert_eq!(
                pool.pointer(pointer),
                Some(&expected),
                "pool {pointer}: {why}"
            );
        }
        assert!(
            pool.get("UserPoolName").is_none(),
            "the !Sub name is not copied"
        );

        let client = template.create_client_request("us-east-1_x", "c");
        let cases = [
            ("/UserPoolId", json!("us-east-1_x"), "the pool"),
            ("/ClientName", json!("c"), "the local name"),
            ("/GenerateSecret", json!(false), "a public client"),
            (
                "/ExplicitAuthFlows",
                json!([
                    "ALLOW_USER_PASSWORD_AUTH",
                    "ALLOW_USER_SRP_AUTH",
                    "ALLOW_REFRESH_TOKEN_AUTH"
                ]),
                "the CLI's and the web client's flows",
            ),
            ("/IdTokenValidity", json!(60), "an hour"),
            ("/AccessTokenValidity", json!(60), "an hour"),
            ("/TokenValidityUnits/IdToken", json!("minutes"), "units"),
        ];
        for (pointer, expected, why) in cases {
            assert_eq!(
                client.pointer(pointer),
                Some(&expected),
                "client {pointer}: {why}"
            );
        }
    }

    const POOL_AND_CLIENT: &str = r#"
Resources:
  Pool:
    Type: AWS::Cognito::UserPool
    Properties:
      UserPoolName: !Sub "${AWS::StackName}-users"
      Policies:
        PasswordPolicy:
          MinimumLength: 12
  Client:
    Type: AWS::Cognito::UserPoolClient
    Properties:
      UserPoolId: !Ref Pool
      ExplicitAuthFlows: [ALLOW_USER_PASSWORD_AUTH]
"#;

    #[test]
    fn templates_the_local_pool_cannot_mirror_are_errors_that_say_why() {
        let parse = |text: &str| match UserPoolTemplate::parse(text) {
            Ok(_) => "ok".to_owned(),
            Err(TemplateProblem::Yaml(e)) => format!("yaml: {e}"),
            Err(TemplateProblem::Shape(problem)) => problem,
        };
        let cases = [
            (POOL_AND_CLIENT.to_owned(), "ok", "a pool and its client"),
            (
                POOL_AND_CLIENT.replace("!Ref Pool", "!Ref Other"),
                "exactly one AWS::Cognito::UserPoolClient",
                "a client of another pool",
            ),
            (
                POOL_AND_CLIENT.replace("MinimumLength: 12", "MinimumLength: !Ref Length"),
                "Pool.Policies uses an intrinsic function",
                "an intrinsic in a mirrored property",
            ),
            (
                POOL_AND_CLIENT.replace("AWS::Cognito::UserPool\n", "AWS::S3::Bucket\n"),
                "exactly one AWS::Cognito::UserPool",
                "no pool",
            ),
            ("Resources: [".to_owned(), "yaml:", "not YAML"),
        ];
        for (text, expected, why) in cases {
            let got = parse(&text);
            assert!(got.contains(expected), "{why}: {got}");
        }
    }

    #[test]
    fn the_env_file_reads_back_and_exports_what_the_aws_cli_reads() {
        let pool = LocalPool::new(
            CognitoClient::new("http://127.0.0.1:9229/"),
            "us-east-1_abc123".to_owned(),
            "client42".to_owned(),
        );
        let contents = pool.env_file_contents();
        for line in [
            "export CognitoPoolId=us-east-1_abc123\n",
            "export AppClientId=client42\n",
            "export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=http://127.0.0.1:9229\n",
            "export AWS_REGION=us-east-1\n",
        ] {
            assert!(contents.contains(line), "{line} in {contents}");
        }
        assert_eq!(
            pool.authorizer_env(),
            [
                ("USER_POOL_ID", "us-east-1_abc123"),
                ("AWS_REGION", "us-east-1"),
                ("USER_POOL_CLIENT_IDS", "client42"),
                (
                    "JWKS_URL",
                    "http://127.0.0.1:9229/us-east-1_abc123/.well-known/jwks.json"
                ),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert_eq!(
            pool.issuer(),
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc123"
        );
    }

    #[test]
    fn a_missing_env_file_says_to_start_make_dev() {
        let path = std::env::temp_dir().join("notes-devkit-no-such-cognito.env");
        let message = LocalPool::from_env_file(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("make dev"), "{message}");
        assert!(
            message.contains("notes-devkit-no-such-cognito.env"),
            "{message}"
        );
    }
}
