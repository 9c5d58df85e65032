//! `notes-dev`: the developer's command line for running the backend's dependencies locally.
//!
//! `notes-dev dynamodb` runs DynamoDB Local in the foreground with the template's tables, prints
//! its endpoint as the first line on stdout, and runs until stopped; java stops with it however
//! it is stopped (Ctrl-C, `kill`, `kill -9`).

use std::path::PathBuf;
use std::process::ExitCode;

use notes_devkit::tables::{client_for_endpoint, ensure_table, load_table_specs, template_path};
use notes_devkit::{DynamoDbLocal, DynamoDbLocalOptions, find_jar_dir};

const USAGE: &str = "\
usage: notes-dev dynamodb [--port PORT] [--data-dir DIR | --in-memory] [--no-tables]

  Starts DynamoDB Local (on a free port unless --port is given; data kept in DIR, or in memory),
  creates the tables of template.yaml under their local names (NotesTable -> notes,
  PostsTable -> posts) unless they exist or --no-tables is given, prints the endpoint on stdout
  and runs until stopped.";

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
