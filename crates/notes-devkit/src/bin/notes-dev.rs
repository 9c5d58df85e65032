//! `notes-dev`: the developer's command line for running the backend's dependencies locally.
//!
//! - `notes-dev dynamodb` runs DynamoDB Local in the foreground with the template's tables,
//!   prints its endpoint as the first line on stdout, and runs until stopped; java stops with it
//!   however it is stopped (Ctrl-C, `kill`, `kill -9`).
//! - `notes-dev token --user NAME` prints an ID token of the local Cognito user pool that
//!   `notes-dev dev` wrote to `--pool FILE` (`make token`).
//! - `notes-dev dev` runs the whole backend locally: DynamoDB Local, moto as the local Cognito
//!   with the template's user pool and moto's S3 with the audio bucket, the local Polly (real
//!   speech), every function binary behind the local API on 127.0.0.1:4000, and the web client on
//!   127.0.0.1:8080 with its `config.js` (`make dev`).
//! - `notes-dev web-config` writes the web client's `config.js` for a deployed stack, from its
//!   CloudFormation outputs (`make web-config`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use notes_devkit::binaries::{FUNCTION_BINARIES, function_binary_with_progress};
use notes_devkit::cognito_local::{
    CognitoClient, CognitoLocal, DEFAULT_COGNITO_ENV_FILE, DEFAULT_COGNITO_PORT, LocalPool,
    UserPoolTemplate,
};
use notes_devkit::deletion_feed::DeletionFeed;
use notes_devkit::jwt_authorizer;
use notes_devkit::local_api::{
    ApiSpec, DEFAULT_AUTHORIZER_CACHE_TTL, Front, LocalApi, LocalApiConfig,
};
use notes_devkit::polly_local::PollyLocal;
use notes_devkit::runtime_api::LambdaSandbox;
use notes_devkit::s3_local;
use notes_devkit::tables::{
    LOCAL_ACCESS_KEY_ID, LOCAL_REGION, LOCAL_SECRET_ACCESS_KEY, client_for_endpoint, ensure_table,
    load_table_specs, missing_global_indexes, template_path,
};
use notes_devkit::waf_rate_limit::{DEFAULT_LOCAL_REQUESTS_PER_WINDOW, RateLimit};
use notes_devkit::web_client::{
    self, DEFAULT_DEV_WEB_CONFIG_FILE, DEFAULT_WEB_CONFIG_FILE, DEFAULT_WEB_PORT, WebConfig,
    WebServer, WebServerConfig,
};
use notes_devkit::{DynamoDbLocal, DynamoDbLocalOptions, find_jar_dir};

const USAGE: &str = "\
usage: notes-dev dynamodb [--port PORT] [--data-dir DIR | --in-memory] [--no-tables]
       notes-dev token [--pool .local/cognito.env] --user NAME [--access] [--groups G1,G2]
       notes-dev dev [--port 4000] [--dynamodb-port 8000] [--cognito-port 9229]
                     [--polly-port 9230] [--cognito-env .local/cognito.env]
                     [--functions-env .local/functions.env] [--api rest|http]
                     [--data-dir .local/dynamodb] [--users-file .local/cognito/users.json]
                     [--in-memory] [--api-key KEY] [--cache-ttl 60] [--rate-limit 100000]
                     [--allowed-origins ORIGIN,ORIGIN,... | '*'] [--web-port 8080]
                     [--web-config .local/web/config.js]
       notes-dev web-config (--stack NAME | --outputs FILE) [--api rest|http] [--api-key KEY]
                     [--out web/config.js]

  dynamodb  Starts DynamoDB Local (on a free port unless --port is given; data kept in DIR, or
            in memory), creates the tables of template.yaml under their local names
            (NotesTable -> notes, PostsTable -> posts) unless they exist or --no-tables is
            given, prints the endpoint on stdout and runs until stopped.
  token     Prints an ID token (or --access token) for NAME from the local Cognito user pool
            of `notes-dev dev` named in FILE (default .local/cognito.env): NAME is signed up
            (email NAME@example.com, the local-only password Local-Dev-Passw0rd!) and confirmed
            if new, added to the --groups (created if absent), then signed in with
            USER_PASSWORD_AUTH. Tokens last an hour.
  dev       Runs the backend as API Gateway would serve it: DynamoDB Local (reused if one
            already listens on the port) with the tables, moto on --cognito-port as the local
            Cognito (reused if one already listens there) with the user pool and app client
            of template.yaml, whose ids it prints and writes to --cognito-env as shell
            `export` lines (its users kept in --users-file across restarts; --in-memory keeps
            neither tables nor users), and as the local S3 with the audio bucket (notes-audio), the local
            Polly on --polly-port (espeak-ng and lame), the authorizer trusting that pool, every function
            binary through the Lambda Runtime API, the authorizer in front (results cached
            --cache-ttl seconds, 0 disables), API keys when --api-key is given, and in front of
            the REST API the template's WAF web ACL: at most --rate-limit requests per 5 minutes
            per Authorization header value (per address without one), the excess answered 429
            with Retry-After (default 100000, which no person or test reaches; the template
            deploys PerCallerRequestsPer5Minutes, 1000; 0 serves without it). Browsers may call
            it from --allowed-origins (default: the labs' React dev server on port 3000 and this
            project's web page on 8080, as localhost and 127.0.0.1). The functions'
            environment is written to --functions-env for `make watch`. --api http serves the
            template's HTTP API instead: API Gateway's JWT authorizer (the pool's JWKS, iss,
            aud or client_id, exp, nbf, iat) and payload format 2.0, no API keys. The web
            client (web/) is served on --web-port, an origin of its own, with the configuration
            of this local stack written to --web-config and served as /config.js. Ctrl-C stops
            all.
  web-config
            Writes the web client's config.js for a deployed stack: its API URL (--api rest,
            the default: output ApiUrl; --api http: HttpApiUrl), user pool, app client and
            region, from `aws cloudformation describe-stacks --stack-name NAME` (the AWS CLI in
            .venv, with your credentials) or from that command's saved answer (--outputs FILE).
            --api-key KEY adds the x-api-key the REST API wants unless the stack was deployed
            with ApiKeyRequired=false (the key is public in the page: it meters, it does not
            authenticate).";

/// The web origins `make dev` serves by default: the labs' client's dev server (create-react-app
/// listens on 3000, which is why the API itself defaults to 4000) and our own page's origin.
const DEFAULT_DEV_ORIGINS: &str =
    "http://localhost:3000,http://127.0.0.1:3000,http://localhost:8080,http://127.0.0.1:8080";

/// Where `make dev` writes its functions' environment for `make watch`.
const DEFAULT_FUNCTIONS_ENV_FILE: &str = ".local/functions.env";

/// Where `make dev` keeps the local pool's users across restarts (beside `.local/dynamodb`).
const DEFAULT_USERS_FILE: &str = ".local/cognito/users.json";

/// The local Polly of `make dev` (next to moto's 9229).
const DEFAULT_POLLY_PORT: u16 = 9230;

/// The password `notes-dev token --pool` gives the users it signs up. Local only (it is in the
/// source and the docs); it satisfies the template's policy: 12+ characters, lower, upper,
/// digit and symbol.
const DEV_PASSWORD: &str = "Local-Dev-Passw0rd!";

struct DynamoDbArgs {
    port: Option<u16>,
    data_dir: Option<PathBuf>,
    create_tables: bool,
}

fn parse_dynamodb_args(
    mut arguments: impl Iterator<Item = String>,
) -> Result<DynamoDbArgs, String> {
    let mut parsed = DynamoDbArgs {
        port: None,
        data_dir: None,
        create_tables: true,
    };
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--port" => {
                let value = arguments.next().ok_or("--port expects a port number")?;
                let port = value
                    .parse::<u16>()
                    .map_err(|_| format!("--port expects a port number, got {value:?}"))?;
                // 0 means "any free port", as for a socket bind.
                parsed.port = (port != 0).then_some(port);
            }
            "--data-dir" => {
                let value = arguments.next().ok_or("--data-dir expects a directory")?;
                parsed.data_dir = Some(PathBuf::from(value));
            }
            "--in-memory" => parsed.data_dir = None,
            "--no-tables" => parsed.create_tables = false,
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(parsed)
}

/// The local name of a template table: `NotesTable` -> `notes`. The same names are in the
/// Makefile's environment for `cargo lambda watch`.
fn local_table_name(logical_id: &str) -> String {
    logical_id
        .strip_suffix("Table")
        .unwrap_or(logical_id)
        .to_ascii_lowercase()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut arguments = std::env::args().skip(1);
    match arguments.next().as_deref() {
        Some("dynamodb") => match parse_dynamodb_args(arguments) {
            Ok(args) => dynamodb(args).await,
            Err(message) => usage_error(&message),
        },
        Some("dev") => match parse_dev_args(arguments) {
            Ok(args) => dev(args).await,
            Err(message) => usage_error(&message),
        },
        Some("web-config") => match parse_web_config_args(arguments) {
            Ok(args) => write_deployed_web_config(args).await,
            Err(message) => usage_error(&message),
        },
        Some("token") => match parse_token_args(arguments) {
            Ok(TokenArgs {
                env_file,
                username,
                groups,
                access,
            }) => pool_token(&env_file, &username, &groups, access).await,
            Err(message) => usage_error(&message),
        },
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => usage_error(&format!("unknown command {other:?}")),
        None => usage_error("a command is required"),
    }
}

async fn dynamodb(args: DynamoDbArgs) -> ExitCode {
    let jar_dir = match find_jar_dir() {
        Ok(jar_dir) => jar_dir,
        Err(error) => return failure(&error),
    };
    let options = DynamoDbLocalOptions {
        steady_state: false,
        jar_dir,
        port: args.port,
        data_dir: args.data_dir.clone(),
    };
    let dynamodb_local =
        match tokio::task::spawn_blocking(move || DynamoDbLocal::start(&options)).await {
            Ok(Ok(dynamodb_local)) => dynamodb_local,
            Ok(Err(error)) => return failure(&error),
            Err(error) => return failure(&error),
        };
    let endpoint = dynamodb_local.endpoint().to_owned();
    if args.create_tables {
        let specs = match load_table_specs(&template_path()) {
            Ok(specs) => specs,
            Err(error) => return failure(&error),
        };
        let client = client_for_endpoint(&endpoint).await;
        for (logical_id, spec) in &specs {
            let name = local_table_name(logical_id);
            match ensure_table(&client, spec, &name).await {
                Ok(true) => eprintln!("created table {name} ({logical_id})"),
                Ok(false) => eprintln!("table {name} ({logical_id}) already exists"),
                Err(error) => return failure(&error),
            }
        }
    }
    // Only the endpoint goes to stdout, so scripts can read it as the first line.
    println!("{endpoint}");
    let storage = match &args.data_dir {
        Some(dir) => format!("data in {}", dir.display()),
        None => "in memory".to_owned(),
    };
    eprintln!("DynamoDB Local is listening on {endpoint} ({storage}); stop it with Ctrl-C");
    // Keep the instance (and its lifeline) until we are stopped.
    if let Err(error) = tokio::signal::ctrl_c().await {
        return failure(&error);
    }
    drop(dynamodb_local);
    ExitCode::SUCCESS
}

/// What `notes-dev token` signs in with: a user of the local Cognito pool named in `env_file`
/// (`make token`, with `make dev`). Tokens no pool would issue (expired, forged, other
/// algorithms) are minted only inside the tests, by `notes_devkit::issuer`.
#[derive(Debug)]
struct TokenArgs {
    env_file: PathBuf,
    username: String,
    groups: Vec<String>,
    access: bool,
}

fn parse_token_args(mut arguments: impl Iterator<Item = String>) -> Result<TokenArgs, String> {
    let mut username = None;
    let mut access = false;
    let mut groups = Vec::new();
    let mut env_file = PathBuf::from(DEFAULT_COGNITO_ENV_FILE);
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--user" => {
                let user = arguments.next().ok_or("--user expects a username")?;
                if user.trim().is_empty() {
                    return Err("--user expects a username".into());
                }
                username = Some(user);
            }
            "--access" => access = true,
            "--groups" => {
                let value = arguments.next().ok_or("--groups expects G1,G2,...")?;
                groups = value
                    .split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "--pool" => {
                env_file = PathBuf::from(
                    arguments
                        .next()
                        .ok_or("--pool expects the file `notes-dev dev` wrote")?,
                )
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(TokenArgs {
        env_file,
        username: username.ok_or("--user is required")?,
        groups,
        access,
    })
}

/// A token of the local pool for `username`, who is signed up and confirmed first if new.
async fn pool_token(env_file: &Path, username: &str, groups: &[String], access: bool) -> ExitCode {
    let env_file = env_file.to_path_buf();
    let username = username.to_owned();
    let groups = groups.to_vec();
    let signed_in = tokio::task::spawn_blocking(move || {
        let pool = LocalPool::from_env_file(&env_file)?;
        let email = format!("{username}@example.com");
        let created = pool.ensure_user(&username, &email, DEV_PASSWORD)?;
        for group in &groups {
            pool.ensure_group_member(&username, group)?;
        }
        match pool.sign_in(&username, DEV_PASSWORD) {
            Err(error)
                if !created && error.service_error_type() == Some("NotAuthorizedException") =>
            {
                Err(notes_devkit::CognitoLocalError::Service {
                    operation: "InitiateAuth",
                    error_type: "NotAuthorizedException".to_owned(),
                    message: format!(
                        "{username} already exists with a password other than make token's \
                         (signed up by hand?): sign in with `aws cognito-idp initiate-auth`, \
                         or choose another USER"
                    ),
                })
            }
            other => other,
        }
    })
    .await;
    match signed_in {
        Ok(Ok(tokens)) => {
            println!(
                "{}",
                if access {
                    tokens.access_token
                } else {
                    tokens.id_token
                }
            );
            ExitCode::SUCCESS
        }
        Ok(Err(error)) => failure(&error),
        Err(error) => failure(&error),
    }
}

struct DevArgs {
    port: u16,
    dynamodb_port: u16,
    cognito_port: u16,
    cognito_env: PathBuf,
    polly_port: u16,
    functions_env: PathBuf,
    /// Serve the HTTP API (JWT authorizer, payload format 2.0) instead of the REST API.
    http_api: bool,
    data_dir: Option<PathBuf>,
    /// Where the local pool's users are kept across restarts; `None` in memory.
    users_file: Option<PathBuf>,
    api_key: Option<String>,
    cache_ttl: Duration,
    /// Requests per caller per 5 minutes in front of the REST API; 0 for none.
    rate_limit: u32,
    allowed_origins: String,
    web_port: u16,
    web_config: PathBuf,
}

fn parse_dev_args(mut arguments: impl Iterator<Item = String>) -> Result<DevArgs, String> {
    let mut parsed = DevArgs {
        port: 4000,
        dynamodb_port: 8000,
        cognito_port: DEFAULT_COGNITO_PORT,
        cognito_env: PathBuf::from(DEFAULT_COGNITO_ENV_FILE),
        polly_port: DEFAULT_POLLY_PORT,
        functions_env: PathBuf::from(DEFAULT_FUNCTIONS_ENV_FILE),
        http_api: false,
        data_dir: Some(PathBuf::from(".local/dynamodb")),
        users_file: Some(PathBuf::from(DEFAULT_USERS_FILE)),
        api_key: None,
        cache_ttl: DEFAULT_AUTHORIZER_CACHE_TTL,
        rate_limit: DEFAULT_LOCAL_REQUESTS_PER_WINDOW,
        allowed_origins: DEFAULT_DEV_ORIGINS.to_owned(),
        web_port: DEFAULT_WEB_PORT,
        web_config: PathBuf::from(DEFAULT_DEV_WEB_CONFIG_FILE),
    };
    let port = |value: Option<String>, flag: &str| -> Result<u16, String> {
        let value = value.ok_or(format!("{flag} expects a port number"))?;
        value
            .parse()
            .map_err(|_| format!("{flag} expects a port number, got {value:?}"))
    };
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--port" => parsed.port = port(arguments.next(), "--port")?,
            "--dynamodb-port" => parsed.dynamodb_port = port(arguments.next(), "--dynamodb-port")?,
            "--cognito-port" => parsed.cognito_port = port(arguments.next(), "--cognito-port")?,
            "--polly-port" => parsed.polly_port = port(arguments.next(), "--polly-port")?,
            "--web-port" => parsed.web_port = port(arguments.next(), "--web-port")?,
            "--web-config" => {
                parsed.web_config =
                    PathBuf::from(arguments.next().ok_or("--web-config expects a file name")?)
            }
            "--api" => {
                parsed.http_api = match arguments.next().as_deref() {
                    Some("rest") => false,
                    Some("http") => true,
                    _ => return Err("--api expects rest or http".into()),
                }
            }
            "--functions-env" => {
                parsed.functions_env = PathBuf::from(
                    arguments
                        .next()
                        .ok_or("--functions-env expects a file name")?,
                )
            }
            "--cognito-env" => {
                parsed.cognito_env = PathBuf::from(
                    arguments
                        .next()
                        .ok_or("--cognito-env expects a file name")?,
                )
            }
            "--data-dir" => {
                parsed.data_dir = Some(PathBuf::from(
                    arguments.next().ok_or("--data-dir expects a directory")?,
                ))
            }
            "--users-file" => {
                parsed.users_file = Some(PathBuf::from(
                    arguments.next().ok_or("--users-file expects a file name")?,
                ))
            }
            "--in-memory" => {
                parsed.data_dir = None;
                parsed.users_file = None;
            }
            "--api-key" => {
                let key = arguments.next().ok_or("--api-key expects a value")?;
                parsed.api_key = (!key.is_empty()).then_some(key);
            }
            "--cache-ttl" => {
                let value = arguments.next().ok_or("--cache-ttl expects seconds")?;
                let seconds = value
                    .parse::<u64>()
                    .map_err(|_| format!("--cache-ttl expects seconds, got {value:?}"))?;
                parsed.cache_ttl = Duration::from_secs(seconds);
            }
            "--rate-limit" => {
                let value = arguments
                    .next()
                    .ok_or("--rate-limit expects requests per 5 minutes")?;
                parsed.rate_limit = value.parse::<u32>().map_err(|_| {
                    format!(
                        "--rate-limit expects requests per 5 minutes (0 for none), got {value:?}"
                    )
                })?;
            }
            "--allowed-origins" => {
                let value = arguments
                    .next()
                    .ok_or("--allowed-origins expects ORIGIN,ORIGIN,... or *")?;
                // Checked here so a typo stops `make dev` at once, with the reason.
                notes_http::AllowedOrigins::parse("ALLOWED_ORIGINS", &value)
                    .map_err(|e| format!("--allowed-origins: {e}"))?;
                parsed.allowed_origins = value;
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(parsed)
}

/// An error of `make dev`, with its cause chain; printed by [`failure`].
type DevError = Box<dyn std::error::Error + Send + Sync>;

/// One line of progress: `make dev` never goes quiet for long without saying what it waits for.
fn progress(message: &str) {
    eprintln!("==> {message}");
}

/// Everything `make dev` needs, in one process: Ctrl-C (or any exit) stops all of it.
async fn dev(args: DevArgs) -> ExitCode {
    match run_dev(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => failure(&*error),
    }
}

/// The services `make dev` runs, kept alive (and stopped when dropped) together.
struct DevStack {
    _dynamodb: Option<DynamoDbLocal>,
    _cognito: Option<CognitoLocal>,
    _deletions: Option<DeletionFeed>,
    dynamodb_endpoint: String,
    pool: LocalPool,
    polly: PollyLocal,
    api: LocalApi,
    stage: String,
    binaries_dir: PathBuf,
}

/// `make dev`, step by step. The page's server comes first (a taken port stops everything before
/// anything else starts) and answers "starting" until the backend is up; its address is announced
/// only then, with the configuration it needs.
async fn run_dev(args: DevArgs) -> Result<(), DevError> {
    let web = start_web_server(&args).await?;
    let (dynamodb, dynamodb_endpoint) = start_dynamodb(&args).await?;
    let mut function_env = ensure_tables(&dynamodb_endpoint).await?;
    let (cognito, pool) = start_cognito(&args).await?;
    function_env.extend(pool.user_admin_env());
    let polly = start_dictation(&args, &pool, &mut function_env).await?;
    write_watch_env(&args, &pool, &function_env)?;
    let binaries_dir = function_binaries_dir()?;
    let deletions = start_purge(cognito.as_ref(), &binaries_dir, &function_env).await?;
    let (api, stage) = start_api(&args, &pool, &binaries_dir, function_env).await?;
    let stack = DevStack {
        _dynamodb: dynamodb,
        _cognito: cognito,
        _deletions: deletions,
        dynamodb_endpoint,
        pool,
        polly,
        api,
        stage,
        binaries_dir,
    };
    configure_page(&args, &stack)?;
    announce(&args, &web, &stack);
    tokio::signal::ctrl_c().await?;
    eprintln!("stopping");
    Ok(())
}

async fn start_web_server(args: &DevArgs) -> Result<WebServer, DevError> {
    // A previous run's configuration would point the page at services not started yet.
    if let Err(error) = std::fs::remove_file(&args.web_config)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        return Err(error.into());
    }
    Ok(WebServer::start(WebServerConfig {
        port: args.web_port,
        root: notes_devkit::workspace_root().join("web"),
        config_file: args.web_config.clone(),
        cognito_library: web_client::cognito_library_file(),
        // The ports are the arguments', known before the services start: the policy names this
        // `make dev`'s API and moto (Cognito and S3), nothing else.
        content_security_policy: web_client::local_content_security_policy(
            args.port,
            args.cognito_port,
        ),
    })
    .await?)
}

/// DynamoDB Local on its port, or the one already listening there (e.g. `make dynamodb`).
async fn start_dynamodb(args: &DevArgs) -> Result<(Option<DynamoDbLocal>, String), DevError> {
    let endpoint = format!("http://127.0.0.1:{}", args.dynamodb_port);
    if std::net::TcpStream::connect(("127.0.0.1", args.dynamodb_port)).is_ok() {
        progress(&format!(
            "reusing the DynamoDB Local already listening on {endpoint}"
        ));
        return Ok((None, endpoint));
    }
    progress(&format!(
        "starting DynamoDB Local on {endpoint} ({})",
        storage_note(&args.data_dir)
    ));
    let options = DynamoDbLocalOptions {
        steady_state: false,
        jar_dir: find_jar_dir()?,
        port: Some(args.dynamodb_port),
        data_dir: args.data_dir.clone(),
    };
    let started = tokio::task::spawn_blocking(move || DynamoDbLocal::start(&options)).await??;
    Ok((Some(started), endpoint))
}

/// The template's tables (created if absent), and the functions' environment that names them.
async fn ensure_tables(dynamodb_endpoint: &str) -> Result<Vec<(String, String)>, DevError> {
    let client = client_for_endpoint(dynamodb_endpoint).await;
    let mut function_env = vec![
        (
            "AWS_ENDPOINT_URL_DYNAMODB".to_owned(),
            dynamodb_endpoint.to_owned(),
        ),
        ("AWS_REGION".to_owned(), LOCAL_REGION.to_owned()),
        (
            "AWS_ACCESS_KEY_ID".to_owned(),
            LOCAL_ACCESS_KEY_ID.to_owned(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_owned(),
            LOCAL_SECRET_ACCESS_KEY.to_owned(),
        ),
        ("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()),
    ];
    for (logical_id, spec) in &load_table_specs(&template_path())? {
        let name = local_table_name(logical_id);
        if ensure_table(&client, spec, &name).await? {
            progress(&format!("created table {name}"));
        } else {
            let missing = missing_global_indexes(&client, spec, &name).await?;
            if !missing.is_empty() {
                progress(&format!(
                    "table {name} was kept from before template.yaml added its index {}: \
                     deleting an account fails locally until the table is made again (stop make \
                     dev and delete .local/dynamodb, which loses your local notes and posts, or \
                     use make dev IN_MEMORY=1)",
                    missing.join(", ")
                ));
            }
        }
        function_env.push((spec.env_var(), name));
    }
    Ok(function_env)
}

/// The local Cognito: moto (or the one already listening on the port) with the template's user
/// pool and app client, whose ids go to `--cognito-env`.
async fn start_cognito(args: &DevArgs) -> Result<(Option<CognitoLocal>, LocalPool), DevError> {
    let port = args.cognito_port;
    let reusing = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    let (cognito, endpoint) = if reusing {
        let endpoint = format!("http://127.0.0.1:{port}");
        progress(&format!(
            "reusing the Cognito stand-in already listening on {endpoint}"
        ));
        (None, endpoint)
    } else {
        let users_file = args.users_file.clone();
        progress(&format!(
            "starting the local Cognito and S3 (moto) on 127.0.0.1:{port} ({})",
            match &users_file {
                Some(file) => format!("users kept in {}", file.display()),
                None => "users in memory".to_owned(),
            }
        ));
        let started = tokio::task::spawn_blocking(move || {
            CognitoLocal::start_keeping_users(Some(port), users_file.as_deref())
        })
        .await??;
        let endpoint = started.endpoint().to_owned();
        (Some(started), endpoint)
    };
    let ensured = tokio::task::spawn_blocking(move || {
        let template = UserPoolTemplate::from_template(&template_path())?;
        CognitoClient::new(&endpoint).ensure_pool(&template)
    })
    .await?;
    let pool = match ensured {
        Ok(pool) => pool,
        Err(error) if reusing => {
            return Err(format!(
                "port {port} is taken by something that is not a working moto: stop it or choose \
                 another port (make dev COGNITO_PORT=...): {error}"
            )
            .into());
        }
        Err(error) => return Err(error.into()),
    };
    pool.write_env_file(&args.cognito_env)?;
    Ok((cognito, pool))
}

/// Dictation: the audio bucket in moto's S3, and the local Polly with real speech.
async fn start_dictation(
    args: &DevArgs,
    pool: &LocalPool,
    function_env: &mut Vec<(String, String)>,
) -> Result<PollyLocal, DevError> {
    let s3_endpoint = pool.endpoint().to_owned();
    let bucket = s3_local::LOCAL_AUDIO_BUCKET;
    tokio::task::spawn_blocking({
        let endpoint = s3_endpoint.clone();
        move || s3_local::ensure_bucket(&endpoint, bucket)
    })
    .await??;
    progress(&format!(
        "starting the local Polly on 127.0.0.1:{}",
        args.polly_port
    ));
    let polly = PollyLocal::start(Some(args.polly_port))
        .await
        .map_err(|error| -> DevError {
            format!("{error} (the local Polly's port is set with make dev POLLY_PORT=...)").into()
        })?;
    function_env.extend(s3_local::audio_env(&s3_endpoint, bucket));
    function_env.push(("AWS_ENDPOINT_URL_POLLY".to_owned(), polly.endpoint()));
    Ok(polly)
}

/// The `purge` function, fed the pool's user deletions as EventBridge feeds it in AWS: an
/// `aws cognito-idp admin-delete-user` against the local pool erases that user's data. Only with
/// a moto this run started (a reused one records its deletions where this run cannot know).
async fn start_purge(
    cognito: Option<&CognitoLocal>,
    binaries_dir: &Path,
    function_env: &[(String, String)],
) -> Result<Option<DeletionFeed>, DevError> {
    let Some(cognito) = cognito else {
        progress("user deletions are not purged locally: the Cognito stand-in was already running");
        return Ok(None);
    };
    let purge = LambdaSandbox::start(&binaries_dir.join("purge"), function_env).await?;
    Ok(Some(DeletionFeed::start(cognito.deletions_file(), purge)))
}

/// The same environment for `make watch` (cargo lambda watch --env-file), so single functions
/// invoked there use these very services, and its authorizer this pool.
fn write_watch_env(
    args: &DevArgs,
    pool: &LocalPool,
    function_env: &[(String, String)],
) -> Result<(), DevError> {
    let mut watch_env = function_env.to_vec();
    watch_env.extend(pool.authorizer_env());
    watch_env.push(("ALLOWED_ORIGINS".to_owned(), args.allowed_origins.clone()));
    Ok(write_functions_env(&args.functions_env, &watch_env)?)
}

/// Where the function binaries are: beside this binary, built by the same `cargo build` (`make
/// dev` runs it first). Run any other way (`cargo run -p notes-devkit`), it builds them, with
/// cargo's progress in the terminal.
fn function_binaries_dir() -> Result<PathBuf, DevError> {
    let beside = std::env::current_exe()?
        .parent()
        .map(Path::to_path_buf)
        .ok_or("this binary has no directory")?;
    if FUNCTION_BINARIES
        .iter()
        .all(|name| beside.join(name).is_file())
    {
        return Ok(beside);
    }
    progress("building the function binaries (cargo build)");
    let path = function_binary_with_progress("authorizer")?;
    Ok(path
        .parent()
        .map(Path::to_path_buf)
        .ok_or("the function binaries have no directory")?)
}

/// The local API Gateway: the template's routes, the authorizer (REST) or JWT authorizer (HTTP
/// API), every function binary through the Lambda Runtime API.
async fn start_api(
    args: &DevArgs,
    pool: &LocalPool,
    binaries_dir: &Path,
    function_env: Vec<(String, String)>,
) -> Result<(LocalApi, String), DevError> {
    let spec = ApiSpec::from_template(&template_path())?;
    let stage = spec.stage.clone();
    progress(&format!(
        "starting the functions behind the local API on 127.0.0.1:{}",
        args.port
    ));
    let api = LocalApi::start(LocalApiConfig {
        port: args.port,
        spec,
        binaries_dir: binaries_dir.to_path_buf(),
        function_env,
        authorizer_env: pool.authorizer_env(),
        api_key: args.api_key.clone(),
        authorizer_cache_ttl: args.cache_ttl,
        allowed_origin: Some(args.allowed_origins.clone()),
        rate_limit: per_caller_limit(args),
        front: if args.http_api {
            Front::Http(Arc::new(jwt_authorizer::for_pool(pool)))
        } else {
            Front::Rest
        },
    })
    .await?;
    Ok((api, stage))
}

/// The web ACL's limit in front of the REST API; none on the HTTP API, which WAF cannot front.
fn per_caller_limit(args: &DevArgs) -> Option<RateLimit> {
    (!args.http_api && args.rate_limit > 0).then(|| RateLimit::per_five_minutes(args.rate_limit))
}

/// The page's configuration for this stack: from now on the page (even one opened while the
/// backend was starting) loads.
fn configure_page(args: &DevArgs, stack: &DevStack) -> Result<(), DevError> {
    WebConfig::local(
        &stack.api.url(),
        args.api_key.as_deref(),
        stack.pool.pool_id(),
        stack.pool.client_id(),
        stack.pool.endpoint(),
    )
    .write(&args.web_config)
    .map_err(|error| -> DevError {
        format!(
            "could not write the web client's configuration to {}: {error}",
            args.web_config.display()
        )
        .into()
    })
}

fn storage_note(data_dir: &Option<PathBuf>) -> String {
    match data_dir {
        Some(dir) => format!("data kept in {}", dir.display()),
        None => "in memory: IN_MEMORY=1".to_owned(),
    }
}

/// What runs where, printed once everything answers: the page's address first.
fn announce(args: &DevArgs, web: &WebServer, stack: &DevStack) {
    let web_origin_allowed =
        notes_http::AllowedOrigins::parse("ALLOWED_ORIGINS", &args.allowed_origins)
            .map(|origins| origins.allows(&web.origin()))
            .unwrap_or(false);
    let url = stack.api.url();
    eprintln!(
        "\nweb client on {web_url}/  (sign up there; the local pool accepts any confirmation code){web_warning}\n\
         notes API on {url} ({front}; request log on stdout)\n\
         \x20 DynamoDB Local  {dynamodb_endpoint} ({storage})\n\
         \x20 local Cognito   {cognito} (moto; local only: its signing key ships with moto)\n\
         \x20   user pool     {pool_id}\n\
         \x20   app client    {client_id}\n\
         \x20   users         {users}\n\
         \x20   for the CLI   source {env_file}   ($CognitoPoolId, $AppClientId, endpoint)\n\
         \x20 local S3        {s3_endpoint}/{bucket} (moto: dictated audio)\n\
         \x20 local Polly     {polly} (espeak-ng + lame: real speech)\n\
         \x20 functions       authorizer, list, createUpdate, delete, post, dictate from {bins}\n\
         \x20 API key         {key_note}\n\
         \x20 page config     {web_config_file} (served as {web_url}/config.js)\n\
         \x20 authorizer cache {ttl} s\n\
         \x20 per-caller limit {rate_note}\n\n\
         get a token:  make token USER=alice   (signs alice up in the pool if new)\n\
         try:          curl -H \"Authorization: Bearer $(make -s token USER=alice)\" {url}/notes\n\
         stop:         Ctrl-C\n",
        web_url = web.origin(),
        web_config_file = args.web_config.display(),
        web_warning = if web_origin_allowed {
            String::new()
        } else {
            format!(
                "\n  warning: {origin} is not among the allowed origins, so the page's API calls \
                 fail (CORS): add it to ORIGINS",
                origin = web.origin()
            )
        },
        front = if args.http_api {
            "the HTTP API: API Gateway's JWT authorizer on the local pool, payload format 2.0"
                .to_owned()
        } else {
            format!(
                "the REST API, stage {stage}: the authorizer binary, payload format 1.0",
                stage = stack.stage
            )
        },
        dynamodb_endpoint = stack.dynamodb_endpoint,
        storage = storage_note(&args.data_dir),
        cognito = stack.pool.endpoint(),
        pool_id = stack.pool.pool_id(),
        client_id = stack.pool.client_id(),
        users = match &args.users_file {
            Some(file) => format!("kept in {} (restarts keep them)", file.display()),
            None => "in memory (gone when make dev stops)".to_owned(),
        },
        env_file = args.cognito_env.display(),
        s3_endpoint = stack.pool.endpoint(),
        bucket = s3_local::LOCAL_AUDIO_BUCKET,
        polly = stack.polly.endpoint(),
        bins = stack.binaries_dir.display(),
        key_note = match &args.api_key {
            Some(_) => "required (x-api-key)".to_owned(),
            None => "not required (--api-key KEY / API_KEY=KEY to require one)".to_owned(),
        },
        ttl = args.cache_ttl.as_secs(),
        rate_note = match per_caller_limit(args) {
            Some(limit) => format!(
                "{} requests per 5 minutes per Authorization header, else per address (RATE_LIMIT=N)",
                limit.requests
            ),
            None if args.http_api => "none: WAF cannot front an HTTP API".to_owned(),
            None => "none (RATE_LIMIT=0)".to_owned(),
        },
    );
}

struct WebConfigArgs {
    source: StackSource,
    front: web_client::Front,
    api_key: Option<String>,
    out: PathBuf,
}

enum StackSource {
    /// Ask CloudFormation (the AWS CLI) for this stack's outputs.
    Stack(String),
    /// A saved `describe-stacks` answer.
    File(PathBuf),
}

fn parse_web_config_args(
    mut arguments: impl Iterator<Item = String>,
) -> Result<WebConfigArgs, String> {
    let mut source = None;
    let mut front = web_client::Front::Rest;
    let mut api_key = None;
    let mut out = PathBuf::from(DEFAULT_WEB_CONFIG_FILE);
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--stack" => {
                let name = arguments.next().filter(|n| !n.is_empty());
                source = Some(StackSource::Stack(name.ok_or(
                    "--stack expects the stack's name (samconfig.toml's stack_name)",
                )?));
            }
            "--outputs" => {
                let file = arguments.next().ok_or("--outputs expects a file")?;
                source = Some(StackSource::File(PathBuf::from(file)));
            }
            "--api" => {
                front = match arguments.next().as_deref() {
                    Some("rest") => web_client::Front::Rest,
                    Some("http") => web_client::Front::Http,
                    _ => return Err("--api expects rest or http".into()),
                }
            }
            "--api-key" => {
                api_key = Some(arguments.next().ok_or("--api-key expects a value")?);
            }
            "--out" => out = PathBuf::from(arguments.next().ok_or("--out expects a file")?),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    let source = source.ok_or("web-config needs --stack NAME or --outputs FILE")?;
    Ok(WebConfigArgs {
        source,
        front,
        api_key,
        out,
    })
}

/// `make web-config`: the page's `config.js` for a deployed stack.
async fn write_deployed_web_config(args: WebConfigArgs) -> ExitCode {
    let document = match &args.source {
        StackSource::File(path) => std::fs::read_to_string(path).map_err(|e| {
            format!(
                "could not read the stack outputs file {}: {e}",
                path.display()
            )
        }),
        StackSource::Stack(name) => describe_stack(name),
    };
    let document = match document.and_then(|text| {
        serde_json::from_str::<serde_json::Value>(&text)
            .map_err(|e| format!("the stack outputs are not JSON: {e}"))
    }) {
        Ok(document) => document,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let config = match WebConfig::from_stack_outputs(&document, args.front, args.api_key.as_deref())
    {
        Ok(config) => config,
        Err(error) => return failure(&error),
    };
    if let Err(error) = config.write(&args.out) {
        eprintln!("could not write {}", args.out.display());
        return failure(&error);
    }
    eprintln!(
        "wrote {out}: API {api}{key_note}\n\
         serve web/ (with it) from an origin listed in the stack's AllowedOrigin parameter; \
         `make web-dist` gathers the files to upload (for the stack's own hosting, \
         HostWebClient=true, `make publish-web` does it all)",
        out = args.out.display(),
        api = config.api_url(),
        key_note = match (
            args.front,
            args.api_key.as_deref().filter(|k| !k.is_empty())
        ) {
            (web_client::Front::Rest, None) => {
                " (no API key: the REST API refuses the page with 403 unless the stack was \
                 deployed with ApiKeyRequired=false; or pass API_KEY=..., or use API=http)"
            }
            _ => "",
        },
    );
    ExitCode::SUCCESS
}

/// `aws cloudformation describe-stacks --stack-name NAME`, with the AWS CLI of `.venv` (or of
/// `PATH`) and the caller's own credentials and region.
fn describe_stack(name: &str) -> Result<String, String> {
    let venv_aws = notes_devkit::workspace_root().join(".venv/bin/aws");
    let aws = if venv_aws.is_file() {
        venv_aws
    } else {
        PathBuf::from("aws")
    };
    let output = std::process::Command::new(&aws)
        .args([
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            name,
            "--output",
            "json",
        ])
        .output()
        .map_err(|e| {
            format!(
                "could not run {} (make setup installs it): {e}",
                aws.display()
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "`aws cloudformation describe-stacks --stack-name {name}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8(output.stdout).map_err(|_| "the AWS CLI answered non-UTF-8 output".into())
}

/// Writes `KEY=VALUE` lines (the format of `cargo lambda watch --env-file`), de-duplicated with
/// the last value winning, as the variables would be for a process.
fn write_functions_env(path: &Path, env: &[(String, String)]) -> std::io::Result<()> {
    let mut merged: Vec<(String, String)> = Vec::new();
    for (name, value) in env {
        merged.retain(|(existing, _)| existing != name);
        merged.push((name.clone(), value.clone()));
    }
    let mut text = String::from(
        "# The functions' environment under `make dev`, for `make watch` (cargo lambda watch\n\
         # --env-file). Rewritten at every start of `make dev`; local only.\n",
    );
    for (name, value) in merged {
        text.push_str(&format!("{name}={value}\n"));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("{message}\n{USAGE}");
    ExitCode::from(2)
}

fn failure(error: &dyn std::error::Error) -> ExitCode {
    eprintln!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_table_names_are_the_logical_ids_without_table() {
        assert_eq!(local_table_name("NotesTable"), "notes");
        assert_eq!(local_table_name("PostsTable"), "posts");
        assert_eq!(local_table_name("IdempotencyTable"), "idempotency");
    }

    #[test]
    fn dev_arguments() {
        let args = |list: &[&str]| parse_dev_args(list.iter().map(|s| (*s).to_owned()));
        let defaults = args(&[]).unwrap();
        assert_eq!(
            (defaults.port, defaults.dynamodb_port, defaults.cognito_port),
            (4000, 8000, 9229)
        );
        assert_eq!(defaults.cognito_env, PathBuf::from(".local/cognito.env"));
        assert_eq!(defaults.data_dir, Some(PathBuf::from(".local/dynamodb")));
        assert_eq!(
            defaults.users_file,
            Some(PathBuf::from(".local/cognito/users.json")),
            "users are kept beside the data by default"
        );
        assert!(defaults.api_key.is_none());
        assert_eq!(defaults.allowed_origins, DEFAULT_DEV_ORIGINS);
        assert!(
            matches!(
                notes_http::AllowedOrigins::parse("ALLOWED_ORIGINS", DEFAULT_DEV_ORIGINS),
                Ok(notes_http::AllowedOrigins::List(list)) if list.len() == 4
            ),
            "the default origins parse"
        );
        let origins = args(&["--allowed-origins", "https://notes.example.com"]).unwrap();
        assert_eq!(origins.allowed_origins, "https://notes.example.com");
        let bad = args(&["--allowed-origins", "notes.example.com/"]).err();
        assert!(
            bad.is_some_and(|e| e.contains("--allowed-origins")),
            "a malformed origin stops make dev with the flag named"
        );
        let custom = args(&[
            "--cognito-port",
            "9300",
            "--cognito-env",
            "/tmp/c.env",
            "--port",
            "3001",
            "--in-memory",
            "--api-key",
            "k",
            "--cache-ttl",
            "0",
        ])
        .unwrap();
        assert_eq!(custom.port, 3001);
        assert_eq!(custom.cognito_port, 9300);
        assert_eq!(custom.cognito_env, PathBuf::from("/tmp/c.env"));
        assert!(
            args(&["--issuer-port", "9100"]).is_err(),
            "make dev no longer runs the local issuer"
        );
        assert!(custom.data_dir.is_none());
        assert!(
            custom.users_file.is_none(),
            "--in-memory keeps no users either"
        );
        assert_eq!(custom.api_key.as_deref(), Some("k"));
        assert_eq!(custom.cache_ttl, Duration::ZERO);
        assert!(
            args(&["--api-key", ""]).unwrap().api_key.is_none(),
            "an empty key means none"
        );
        assert!(args(&["--port", "x"]).is_err());
        assert!(args(&["--cache-ttl", "-1"]).is_err());
        assert_eq!(
            per_caller_limit(&defaults),
            Some(RateLimit::per_five_minutes(
                DEFAULT_LOCAL_REQUESTS_PER_WINDOW
            )),
            "the REST API has the web ACL's limit by default"
        );
        let low = args(&["--rate-limit", "10"]).unwrap();
        assert_eq!(
            per_caller_limit(&low),
            Some(RateLimit::per_five_minutes(10))
        );
        assert_eq!(
            per_caller_limit(&args(&["--rate-limit", "0"]).unwrap()),
            None
        );
        assert_eq!(
            per_caller_limit(&args(&["--api", "http"]).unwrap()),
            None,
            "WAF cannot front an HTTP API"
        );
        for bad in ["-1", "many", "1e3"] {
            let error = args(&["--rate-limit", bad]).err();
            assert!(
                error.is_some_and(|e| e.contains("--rate-limit")),
                "--rate-limit {bad}"
            );
        }
        assert_eq!(
            (defaults.web_port, defaults.web_config.clone()),
            (8080, PathBuf::from(".local/web/config.js")),
            "the page on 8080, one of the default origins"
        );
        let web = args(&["--web-port", "8099", "--web-config", "/tmp/w/config.js"]).unwrap();
        assert_eq!(
            (web.web_port, web.web_config),
            (8099, PathBuf::from("/tmp/w/config.js"))
        );
        assert!(args(&["--web-port"]).is_err());
    }

    #[test]
    fn web_config_arguments() {
        let args = |list: &[&str]| parse_web_config_args(list.iter().map(|s| (*s).to_owned()));
        let stack = args(&["--stack", "notes-app"]).unwrap();
        assert!(matches!(&stack.source, StackSource::Stack(name) if name == "notes-app"));
        assert_eq!(
            stack.front,
            web_client::Front::Rest,
            "the REST API by default"
        );
        assert_eq!(stack.out, PathBuf::from("web/config.js"));
        let file = args(&[
            "--outputs",
            "o.json",
            "--api",
            "http",
            "--api-key",
            "k",
            "--out",
            "x.js",
        ])
        .unwrap();
        assert!(matches!(&file.source, StackSource::File(path) if path == Path::new("o.json")));
        assert_eq!(
            (file.front, file.api_key.as_deref(), file.out),
            (web_client::Front::Http, Some("k"), PathBuf::from("x.js"))
        );
        for (bad, why) in [
            (&[][..], "a stack or an outputs file is required"),
            (&["--stack", ""][..], "an empty stack name"),
            (
                &["--stack", "s", "--api", "soap"][..],
                "an unknown front door",
            ),
            (&["--stack", "s", "--region"][..], "an unknown flag"),
        ] {
            assert!(args(bad).is_err(), "{why}");
        }
    }

    #[test]
    fn token_arguments() {
        let args = |list: &[&str]| parse_token_args(list.iter().map(|s| (*s).to_owned()));
        let parsed = args(&[
            "--pool",
            "/tmp/c.env",
            "--user",
            "bob",
            "--groups",
            "a, b",
            "--access",
        ])
        .unwrap();
        assert_eq!(parsed.env_file, PathBuf::from("/tmp/c.env"));
        assert_eq!(parsed.username, "bob");
        assert_eq!(parsed.groups, ["a", "b"]);
        assert!(parsed.access);
        let parsed = args(&["--user", "alice"]).unwrap();
        assert_eq!(parsed.env_file, PathBuf::from(DEFAULT_COGNITO_ENV_FILE));
        assert!(!parsed.access);
        assert!(args(&[]).is_err(), "--user is required");
        assert!(args(&["--user", " "]).is_err());
        assert!(
            args(&["--user", "a", "--expires-in", "5"]).is_err(),
            "the pool decides how long its tokens last"
        );
    }

    #[test]
    fn arguments() {
        let args = |list: &[&str]| parse_dynamodb_args(list.iter().map(|s| (*s).to_owned()));
        let parsed = args(&["--port", "0", "--in-memory", "--no-tables"]).unwrap();
        assert_eq!(parsed.port, None);
        assert!(!parsed.create_tables);
        let parsed = args(&["--port", "8000", "--data-dir", ".local/dynamodb"]).unwrap();
        assert_eq!(parsed.port, Some(8000));
        assert_eq!(parsed.data_dir, Some(PathBuf::from(".local/dynamodb")));
        assert!(args(&["--port", "http"]).is_err());
        assert!(args(&["--bogus"]).is_err());
    }
}
