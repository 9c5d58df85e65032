//! `notes-migrate`: moves username-keyed items to the users' `sub` keys. Reads its arguments,
//! runs [`notes_migrate::migrate`] and prints the report as JSON; exits 1 on any failure.

use std::process::ExitCode;

use notes_migrate::{Arguments, USAGE, migrate};

#[tokio::main]
async fn main() -> ExitCode {
    let arguments = match Arguments::parse(std::env::args().skip(1)) {
        Ok(arguments) => arguments,
        Err(message) => {
            eprintln!("notes-migrate: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let client = match notes_dynamodb::client_from_env().await {
        Ok(client) => client,
        Err(error) => {
            eprintln!("notes-migrate: {error}");
            return ExitCode::from(2);
        }
    };
    match migrate(&client, &arguments).await {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("notes-migrate: {message}");
            ExitCode::FAILURE
        }
    }
}
