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

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use local_apigw::jwt_authorizer;
use local_apigw::local_api::{
    ApiSpec, DEFAULT_AUTHORIZER_CACHE_TTL, Front, LocalApi, LocalApiConfig,
};
use local_apigw::waf_rate_limit::{DEFAULT_LOCAL_REQUESTS_PER_WINDOW, RateLimit};
use local_aws::cognito_local::{
    CognitoClient, CognitoLocal, DEFAULT_COGNITO_ENV_FILE, DEFAULT_COGNITO_PORT, LocalPool,
    UserPoolTemplate,
};
use local_aws::polly_local::PollyLocal;
use local_aws::s3_local;
use local_aws::tables::{
    LOCAL_ACCESS_KEY_ID, LOCAL_REGION, LOCAL_SECRET_ACCESS_KEY, client_for_endpoint, ensure_table,
    load_table_specs, missing_global_indexes, template_path,
};
use local_aws::{DynamoDbLocal, DynamoDbLocalOptions, find_jar_dir};
use local_lambda::binaries::{FUNCTION_BINARIES, function_binary_with_progress};
use local_lambda::runtime_api::LambdaSandbox;
use notes_dev::deletion_feed::DeletionFeed;
use notes_dev::web_client::{
    self, DEFAULT_DEV_WEB_CONFIG_FILE, DEFAULT_WEB_CONFIG_FILE, DEFAULT_WEB_PORT, WebConfig,
    WebServer, WebServerConfig,
};

/// The developer's command line for running the backend's dependencies locally.
#[derive(Debug, Parser)]
#[command(name = "notes-dev")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs DynamoDB Local with the template's tables (`make dynamodb`).
    ///
    /// Starts DynamoDB Local (on a free port unless --port is given; data kept in DIR, or in
    /// memory), creates the tables of template.yaml under their local names (NotesTable ->
    /// notes, PostsTable -> posts) unless they exist or --no-tables is given, prints the
    /// endpoint on stdout and runs until stopped.
    Dynamodb(DynamoDbArgs),
    /// Prints a token of the local user pool (`make token`).
    ///
    /// Prints an ID token (or --access token) for NAME from the local Cognito user pool of
    /// `notes-dev dev` named in FILE (default .local/cognito.env): NAME is signed up (email
    /// NAME@example.com, the local-only password Local-Dev-Passw0rd!) and confirmed if new,
    /// added to the --groups (created if absent), then signed in with USER_PASSWORD_AUTH.
    /// Tokens last an hour.
    Token(TokenArgs),
    /// Runs the whole backend and the web client locally (`make dev`).
    ///
    /// Runs the backend as API Gateway would serve it: DynamoDB Local (reused if one already
    /// listens on the port) with the tables, moto on --cognito-port as the local Cognito
    /// (reused if one already listens there) with the user pool and app client of
    /// template.yaml, whose ids it prints and writes to --cognito-env as shell `export` lines
    /// (its users kept in --users-file across restarts; --in-memory keeps neither tables nor
    /// users), and as the local S3 with the audio bucket (notes-audio), the local Polly on
    /// --polly-port (espeak-ng and lame), the authorizer trusting that pool, every function
    /// binary through the Lambda Runtime API, the authorizer in front (results cached
    /// --cache-ttl seconds, 0 disables), API keys when --api-key is given, and in front of the
    /// REST API the template's WAF web ACL: at most --rate-limit requests per 5 minutes per
    /// Authorization header value (per address without one), the excess answered 429 with
    /// Retry-After (default 100000, which no person or test reaches; the template deploys
    /// PerCallerRequestsPer5Minutes, 1000; 0 serves without it). Browsers may call it from
    /// --allowed-origins (default: the labs' React dev server on port 3000 and this project's
    /// web page on 8080, as localhost and 127.0.0.1). The functions' environment is written to
    /// --functions-env for `make watch`. --api http serves the template's HTTP API instead: API
    /// Gateway's JWT authorizer (the pool's JWKS, iss, aud or client_id, exp, nbf, iat) and
    /// payload format 2.0, no API keys. The web client (web/) is served on --web-port, an
    /// origin of its own, with the configuration of this local stack written to --web-config
    /// and served as /config.js. Ctrl-C stops all.
    Dev(DevFlags),
    /// Writes the web client's config.js for a deployed stack (`make web-config`).
    ///
    /// Writes the web client's config.js for a deployed stack: its API URL (--api rest, the
    /// default: output ApiUrl; --api http: HttpApiUrl), user pool, app client and region, from
    /// `aws cloudformation describe-stacks --stack-name NAME` (the AWS CLI in .venv, with your
    /// credentials) or from that command's saved answer (--outputs FILE). --api-key KEY adds
    /// the x-api-key the REST API wants unless the stack was deployed with
    /// ApiKeyRequired=false (the key is public in the page: it meters, it does not
    /// authenticate).
    WebConfig(WebConfigArgs),
}

/// Which of the template's APIs to serve, or to configure the page for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ApiKind {
    /// The REST API: the authorizer binary, payload format 1.0, API keys.
    Rest,
    /// The HTTP API: API Gateway's JWT authorizer, payload format 2.0.
    Http,
}

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

#[derive(Debug, Args)]
struct DynamoDbArgs {
    /// The port to listen on; 0 or none for any free port, as for a socket bind.
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,
    /// Keep the data in DIR (in memory without it).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Keep the data in memory, whatever --data-dir says.
    #[arg(long)]
    in_memory: bool,
    /// Create no tables.
    #[arg(long)]
    no_tables: bool,
}

impl DynamoDbArgs {
    /// The port asked for; `None` for any free port.
    fn port(&self) -> Option<u16> {
        self.port.filter(|port| *port != 0)
    }

    fn data_dir(&self) -> Option<PathBuf> {
        if self.in_memory {
            None
        } else {
            self.data_dir.clone()
        }
    }
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
    // Usage errors exit with 2 and the usage, --help with 0: clap's own conventions.
    let result = match Cli::parse().command {
        Command::Dynamodb(args) => dynamodb(args).await,
        Command::Token(args) => pool_token(args).await,
        Command::Dev(flags) => run_dev(flags).await,
        Command::WebConfig(args) => write_deployed_web_config(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => failure(&*error),
    }
}

async fn dynamodb(args: DynamoDbArgs) -> Result<(), DevError> {
    let data_dir = args.data_dir();
    let options = DynamoDbLocalOptions {
        steady_state: false,
        jar_dir: find_jar_dir()?,
        port: args.port(),
        data_dir: data_dir.clone(),
    };
    let dynamodb_local =
        tokio::task::spawn_blocking(move || DynamoDbLocal::start(&options)).await??;
    let endpoint = dynamodb_local.endpoint().to_owned();
    if !args.no_tables {
        let client = client_for_endpoint(&endpoint).await;
        for (logical_id, spec) in &load_table_specs(&template_path())? {
            let name = local_table_name(logical_id);
            if ensure_table(&client, spec, &name).await? {
                eprintln!("created table {name} ({logical_id})");
            } else {
                eprintln!("table {name} ({logical_id}) already exists");
            }
        }
    }
    // Only the endpoint goes to stdout, so scripts can read it as the first line.
    println!("{endpoint}");
    let storage = match &data_dir {
        Some(dir) => format!("data in {}", dir.display()),
        None => "in memory".to_owned(),
    };
    eprintln!("DynamoDB Local is listening on {endpoint} ({storage}); stop it with Ctrl-C");
    // Keep the instance (and its lifeline) until we are stopped.
    tokio::signal::ctrl_c().await?;
    drop(dynamodb_local);
    Ok(())
}

/// What `notes-dev token` signs in with: a user of the local Cognito pool named in `env_file`
/// (`make token`, with `make dev`). Tokens no pool would issue (expired, forged, other
/// algorithms) are minted only inside the tests, by `notes_testkit::issuer`.
#[derive(Debug, Args)]
struct TokenArgs {
    /// The file `notes-dev dev` wrote the local pool's ids to.
    #[arg(long = "pool", value_name = "FILE", default_value = DEFAULT_COGNITO_ENV_FILE)]
    env_file: PathBuf,
    /// The user to sign in (signed up first if new).
    #[arg(long = "user", value_name = "NAME", value_parser = non_blank_username)]
    username: String,
    /// Groups to add the user to (created if absent).
    #[arg(long, value_name = "G1,G2", value_parser = group_list, default_value = "")]
    groups: GroupList,
    /// Print the access token instead of the ID token.
    #[arg(long)]
    access: bool,
}

/// The groups of `--groups`, trimmed, empty names dropped.
#[derive(Debug, Clone, Default)]
struct GroupList(Vec<String>);

fn group_list(value: &str) -> Result<GroupList, String> {
    Ok(GroupList(
        value
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect(),
    ))
}

fn non_blank_username(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("expects a username".to_owned());
    }
    Ok(value.to_owned())
}

/// A token of the local pool for `username`, who is signed up and confirmed first if new.
async fn pool_token(args: TokenArgs) -> Result<(), DevError> {
    let TokenArgs {
        env_file,
        username,
        groups: GroupList(groups),
        access,
    } = args;
    let tokens = tokio::task::spawn_blocking(move || {
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
                Err(local_aws::CognitoLocalError::Service {
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
    .await??;
    println!(
        "{}",
        if access {
            tokens.access_token
        } else {
            tokens.id_token
        }
    );
    Ok(())
}

/// What `make dev` runs with, as the steps use it (from [`DevFlags`]).
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

/// `notes-dev dev`'s flags as typed; [`DevArgs`] is what they mean.
#[derive(Debug, Args)]
struct DevFlags {
    /// The local API's port.
    #[arg(long, value_name = "PORT", default_value_t = 4000)]
    port: u16,
    /// DynamoDB Local's port (one already listening there is reused).
    #[arg(long, value_name = "PORT", default_value_t = 8000)]
    dynamodb_port: u16,
    /// moto's port: the local Cognito and S3 (one already listening there is reused).
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_COGNITO_PORT)]
    cognito_port: u16,
    /// The local Polly's port.
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_POLLY_PORT)]
    polly_port: u16,
    /// Where the local pool's ids are written, as shell `export` lines.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_COGNITO_ENV_FILE)]
    cognito_env: PathBuf,
    /// Where the functions' environment is written for `make watch`.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_FUNCTIONS_ENV_FILE)]
    functions_env: PathBuf,
    /// Which of the template's APIs to serve.
    #[arg(long, value_enum, default_value_t = ApiKind::Rest)]
    api: ApiKind,
    /// Where DynamoDB Local keeps its data.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Where the local pool's users are kept across restarts.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_USERS_FILE)]
    users_file: PathBuf,
    /// Keep neither tables nor users: everything in memory.
    #[arg(long)]
    in_memory: bool,
    /// Require this API key (x-api-key); empty for none.
    #[arg(long, value_name = "KEY")]
    api_key: Option<String>,
    /// How long the authorizer's results are cached, in seconds (default 60); 0 disables.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = seconds)]
    cache_ttl: Option<Duration>,
    /// Requests per caller per 5 minutes in front of the REST API; 0 for none.
    // A negative number is a bad value of this flag (named in the error), not another flag.
    #[arg(long, value_name = "N", allow_negative_numbers = true, default_value_t = DEFAULT_LOCAL_REQUESTS_PER_WINDOW)]
    rate_limit: u32,
    /// The web origins browsers may call the API from: ORIGIN,ORIGIN,... or '*'.
    #[arg(long, value_name = "ORIGINS", value_parser = allowed_origins, default_value = DEFAULT_DEV_ORIGINS)]
    allowed_origins: String,
    /// The web client's port.
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_WEB_PORT)]
    web_port: u16,
    /// Where the web client's configuration for this stack is written (served as /config.js).
    #[arg(long, value_name = "FILE", default_value = DEFAULT_DEV_WEB_CONFIG_FILE)]
    web_config: PathBuf,
}

/// Where `make dev` keeps DynamoDB Local's data.
const DEFAULT_DATA_DIR: &str = ".local/dynamodb";

fn seconds(value: &str) -> Result<Duration, String> {
    value
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| format!("expects seconds, got {value:?}"))
}

/// Checked while parsing so a typo stops `make dev` at once, with the reason and the flag.
fn allowed_origins(value: &str) -> Result<String, String> {
    notes_http::AllowedOrigins::parse("ALLOWED_ORIGINS", value).map_err(|e| e.to_string())?;
    Ok(value.to_owned())
}

impl From<DevFlags> for DevArgs {
    fn from(flags: DevFlags) -> Self {
        let kept = !flags.in_memory;
        DevArgs {
            port: flags.port,
            dynamodb_port: flags.dynamodb_port,
            cognito_port: flags.cognito_port,
            cognito_env: flags.cognito_env,
            polly_port: flags.polly_port,
            functions_env: flags.functions_env,
            http_api: flags.api == ApiKind::Http,
            data_dir: kept.then_some(flags.data_dir),
            users_file: kept.then_some(flags.users_file),
            api_key: flags.api_key.filter(|key| !key.is_empty()),
            cache_ttl: flags.cache_ttl.unwrap_or(DEFAULT_AUTHORIZER_CACHE_TTL),
            rate_limit: flags.rate_limit,
            allowed_origins: flags.allowed_origins,
            web_port: flags.web_port,
            web_config: flags.web_config,
        }
    }
}

/// An error of a command, with its cause chain: only reported, once, by [`failure`].
type DevError = Box<dyn std::error::Error + Send + Sync>;

/// One line of progress: `make dev` never goes quiet for long without saying what it waits for.
fn progress(message: &str) {
    eprintln!("==> {message}");
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
///
/// Everything `make dev` needs runs in this one process: Ctrl-C (or any exit) stops all of it.
async fn run_dev(flags: DevFlags) -> Result<(), DevError> {
    let args = DevArgs::from(flags);
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
        root: local_aws::workspace_root().join("web"),
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
/// dev` runs it first). Run any other way (`cargo run -p notes-dev`), it builds them, with
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

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["stack", "outputs"])))]
struct WebConfigArgs {
    /// Ask CloudFormation (the AWS CLI) for this stack's outputs (samconfig.toml's stack_name).
    #[arg(long, value_name = "NAME", value_parser = non_empty_stack_name)]
    stack: Option<String>,
    /// A saved `describe-stacks` answer.
    #[arg(long, value_name = "FILE")]
    outputs: Option<PathBuf>,
    /// Which of the stack's APIs the page calls.
    #[arg(long, value_enum, default_value_t = ApiKind::Rest)]
    api: ApiKind,
    /// The REST API's key, sent as x-api-key.
    #[arg(long, value_name = "KEY")]
    api_key: Option<String>,
    /// Where to write the page's configuration.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_WEB_CONFIG_FILE)]
    out: PathBuf,
}

fn non_empty_stack_name(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("expects the stack's name (samconfig.toml's stack_name)".to_owned());
    }
    Ok(value.to_owned())
}

impl WebConfigArgs {
    fn front(&self) -> web_client::Front {
        match self.api {
            ApiKind::Rest => web_client::Front::Rest,
            ApiKind::Http => web_client::Front::Http,
        }
    }
}

/// `make web-config`: the page's `config.js` for a deployed stack.
async fn write_deployed_web_config(args: WebConfigArgs) -> Result<(), DevError> {
    let text = match (&args.outputs, &args.stack) {
        (Some(path), _) => std::fs::read_to_string(path).map_err(|e| {
            format!(
                "could not read the stack outputs file {}: {e}",
                path.display()
            )
        })?,
        (None, Some(name)) => describe_stack(name)?,
        // clap's group requires one of the two.
        (None, None) => return Err("web-config needs --stack NAME or --outputs FILE".into()),
    };
    let document = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| format!("the stack outputs are not JSON: {e}"))?;
    let front = args.front();
    let config = WebConfig::from_stack_outputs(&document, front, args.api_key.as_deref())?;
    config.write(&args.out).map_err(|error| -> DevError {
        format!("could not write {}: {error}", args.out.display()).into()
    })?;
    eprintln!(
        "wrote {out}: API {api}{key_note}\n\
         serve web/ (with it) from an origin listed in the stack's AllowedOrigin parameter; \
         `make web-dist` gathers the files to upload (for the stack's own hosting, \
         HostWebClient=true, `make publish-web` does it all)",
        out = args.out.display(),
        api = config.api_url(),
        key_note = match (front, args.api_key.as_deref().filter(|k| !k.is_empty())) {
            (web_client::Front::Rest, None) => {
                " (no API key: the REST API refuses the page with 403 unless the stack was \
                 deployed with ApiKeyRequired=false; or pass API_KEY=..., or use API=http)"
            }
            _ => "",
        },
    );
    Ok(())
}

/// `aws cloudformation describe-stacks --stack-name NAME`, with the AWS CLI of `.venv` (or of
/// `PATH`) and the caller's own credentials and region.
fn describe_stack(name: &str) -> Result<String, String> {
    let venv_aws = local_aws::workspace_root().join(".venv/bin/aws");
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

/// Prints the error and its cause chain, once, where the command ends.
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

    /// Parses a command line after `notes-dev`, the error rendered as clap prints it.
    fn parse(list: &[&str]) -> Result<Command, String> {
        Cli::try_parse_from(std::iter::once("notes-dev").chain(list.iter().copied()))
            .map(|cli| cli.command)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn dev_arguments() {
        let args = |list: &[&str]| match parse(&[&["dev"][..], list].concat())? {
            Command::Dev(args) => Ok(DevArgs::from(args)),
            other => Err(format!("not dev: {other:?}")),
        };
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
        let args = |list: &[&str]| match parse(&[&["web-config"][..], list].concat())? {
            Command::WebConfig(args) => Ok(args),
            other => Err(format!("not web-config: {other:?}")),
        };
        let stack = args(&["--stack", "notes-app"]).unwrap();
        assert_eq!(stack.stack.as_deref(), Some("notes-app"));
        assert_eq!(
            stack.front(),
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
        assert_eq!(file.outputs.as_deref(), Some(Path::new("o.json")));
        assert_eq!(
            (file.front(), file.api_key.as_deref(), file.out),
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
        let args = |list: &[&str]| match parse(&[&["token"][..], list].concat())? {
            Command::Token(args) => Ok(args),
            other => Err(format!("not token: {other:?}")),
        };
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
        assert_eq!(parsed.groups.0, ["a", "b"]);
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
        let args = |list: &[&str]| match parse(&[&["dynamodb"][..], list].concat())? {
            Command::Dynamodb(args) => Ok(args),
            other => Err(format!("not dynamodb: {other:?}")),
        };
        let parsed = args(&["--port", "0", "--in-memory", "--no-tables"]).unwrap();
        assert_eq!(parsed.port(), None);
        assert_eq!(parsed.data_dir(), None);
        assert!(parsed.no_tables);
        let parsed = args(&["--port", "8000", "--data-dir", ".local/dynamodb"]).unwrap();
        assert_eq!(parsed.port(), Some(8000));
        assert_eq!(parsed.data_dir(), Some(PathBuf::from(".local/dynamodb")));
        assert!(args(&["--port", "http"]).is_err());
        assert!(args(&["--bogus"]).is_err());
    }

    #[test]
    fn usage_errors_exit_with_2_and_help_with_0() {
        for (list, code, why) in [
            (&["notes-dev"][..], 2, "a command is required"),
            (&["notes-dev", "serve"][..], 2, "an unknown command"),
            (
                &["notes-dev", "dev", "--port"][..],
                2,
                "a flag without its value",
            ),
            (&["notes-dev", "--help"][..], 0, "--help"),
            (&["notes-dev", "help"][..], 0, "help"),
            (&["notes-dev", "dev", "-h"][..], 0, "a command's -h"),
        ] {
            let error = Cli::try_parse_from(list).err();
            assert_eq!(error.map(|e| e.exit_code()), Some(code), "{why}");
        }
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
