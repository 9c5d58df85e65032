//! `notes-dev`: the developer's command line for running the backend's dependencies locally.
//!
//! - `notes-dev dynamodb` runs DynamoDB Local in the foreground with the template's tables,
//!   prints its endpoint as the first line on stdout, and runs until stopped; java stops with it
//!   however it is stopped (Ctrl-C, `kill`, `kill -9`).
//! - `notes-dev issuer` serves the local issuer's JWKS (a stand-in for a Cognito user pool).
//! - `notes-dev token --user NAME` prints a token from the local issuer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use notes_devkit::issuer::{JwksServer, SigningKey, TokenSpec, authorizer_env, jwks};
use notes_devkit::tables::{client_for_endpoint, ensure_table, load_table_specs, template_path};
use notes_devkit::{DynamoDbLocal, DynamoDbLocalOptions, find_jar_dir};

const USAGE: &str = "\
usage: notes-dev dynamodb [--port PORT] [--data-dir DIR | --in-memory] [--no-tables]
       notes-dev issuer [--port PORT] [--dir DIR]
       notes-dev token --user NAME [--access] [--groups G1,G2] [--expires-in SECONDS] [--dir DIR]

  dynamodb  Starts DynamoDB Local (on a free port unless --port is given; data kept in DIR, or
            in memory), creates the tables of template.yaml under their local names
            (NotesTable -> notes, PostsTable -> posts) unless they exist or --no-tables is
            given, prints the endpoint on stdout and runs until stopped.
  issuer    Serves the local issuer's JWKS on 127.0.0.1:PORT (default 9100) and prints the
            authorizer settings that trust it. The signing key is kept in DIR
            (default .local/issuer), created on first use.
  token     Prints an ID token (or --access token) for NAME, signed with the key in DIR,
            valid for --expires-in seconds (default 3600; negative for an expired one).";

const DEFAULT_ISSUER_DIR: &str = ".local/issuer";
const DEFAULT_ISSUER_PORT: u16 = 9100;

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
        Some("issuer") => match parse_issuer_args(arguments) {
            Ok((port, dir)) => issuer(port, &dir).await,
            Err(message) => usage_error(&message),
        },
        Some("token") => match parse_token_args(arguments) {
            Ok((spec, dir)) => token(&spec, &dir),
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

fn parse_issuer_args(
    mut arguments: impl Iterator<Item = String>,
) -> Result<(u16, PathBuf), String> {
    let mut port = DEFAULT_ISSUER_PORT;
    let mut dir = PathBuf::from(DEFAULT_ISSUER_DIR);
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--port" => {
                let value = arguments.next().ok_or("--port expects a port number")?;
                port = value
                    .parse()
                    .map_err(|_| format!("--port expects a port number, got {value:?}"))?;
            }
            "--dir" => dir = PathBuf::from(arguments.next().ok_or("--dir expects a directory")?),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok((port, dir))
}

fn parse_token_args(
    mut arguments: impl Iterator<Item = String>,
) -> Result<(TokenSpec, PathBuf), String> {
    let mut spec: Option<TokenSpec> = None;
    let mut access = false;
    let mut groups = Vec::new();
    let mut expires_in = None;
    let mut dir = PathBuf::from(DEFAULT_ISSUER_DIR);
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--user" => {
                let user = arguments.next().ok_or("--user expects a username")?;
                if user.trim().is_empty() {
                    return Err("--user expects a username".into());
                }
                spec = Some(TokenSpec::new(&user));
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
            "--expires-in" => {
                let value = arguments.next().ok_or("--expires-in expects seconds")?;
                expires_in = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| format!("--expires-in expects seconds, got {value:?}"))?,
                );
            }
            "--dir" => dir = PathBuf::from(arguments.next().ok_or("--dir expects a directory")?),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    let mut spec = spec.ok_or("--user is required")?;
    if access {
        spec = spec.access();
    }
    spec.groups = groups;
    if let Some(expires_in) = expires_in {
        spec.expires_in = expires_in;
    }
    Ok((spec, dir))
}

async fn issuer(port: u16, dir: &Path) -> ExitCode {
    let key = match SigningKey::load_or_create(dir) {
        Ok(key) => key,
        Err(error) => return failure(&error),
    };
    let server = match JwksServer::start_on(port, jwks(&[&key])).await {
        Ok(server) => server,
        Err(error) => return failure(&error),
    };
    println!("{}", server.url());
    eprintln!(
        "local issuer: JWKS on {} (key {} in {})",
        server.url(),
        key.kid(),
        dir.display()
    );
    eprintln!("an authorizer trusts it with:");
    for (name, value) in authorizer_env(&server.url()) {
        eprintln!("  {name}={value}");
    }
    eprintln!("tokens: notes-dev token --user alice   (or: make token USER=alice)");
    if let Err(error) = tokio::signal::ctrl_c().await {
        return failure(&error);
    }
    ExitCode::SUCCESS
}

fn token(spec: &TokenSpec, dir: &Path) -> ExitCode {
    let key = match SigningKey::load_or_create(dir) {
        Ok(key) => key,
        Err(error) => return failure(&error),
    };
    match spec.mint(&key) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => failure(&error),
    }
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
    fn local_table_names_match_the_makefile() {
        assert_eq!(local_table_name("NotesTable"), "notes");
        assert_eq!(local_table_name("PostsTable"), "posts");
        assert_eq!(local_table_name("IdempotencyTable"), "idempotency");
    }

    #[test]
    fn token_arguments() {
        let args = |list: &[&str]| parse_token_args(list.iter().map(|s| (*s).to_owned()));
        let (spec, dir) = args(&[
            "--user",
            "alice",
            "--access",
            "--groups",
            "a, b",
            "--expires-in",
            "-5",
        ])
        .unwrap();
        assert_eq!(spec.username, "alice");
        assert_eq!(spec.kind, notes_devkit::issuer::TokenKind::Access);
        assert_eq!(spec.groups, ["a", "b"]);
        assert_eq!(spec.expires_in, -5);
        assert_eq!(dir, PathBuf::from(DEFAULT_ISSUER_DIR));
        assert!(args(&[]).is_err(), "--user is required");
        assert!(args(&["--user", " "]).is_err());
        assert!(args(&["--user", "a", "--expires-in", "soon"]).is_err());
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
