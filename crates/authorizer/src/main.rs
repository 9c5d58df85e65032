//! Lambda entry point of the TOKEN authorizer: configuration and the pool's keys are loaded once,
//! from init on, and reused by every invocation.

use std::process::ExitCode;

use authorizer::runtime::RuntimeApi;
use authorizer::{Config, JwksSource, Verifier};

// No async runtime: the Runtime API client and the JWKS fetch block, and a sandbox serves one
// invocation at a time, so init is only reading the environment and starting the key fetch.
fn main() -> ExitCode {
    // Logging is configured first, so that a refused configuration below is logged.
    notes_tracing::init(&notes_tracing::LogConfig::from_env());
    authorizer::runtime::install_panic_hook();
    let api = match RuntimeApi::from_env() {
        Ok(api) => api,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    authorizer::install_rs256_only();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(%error, "invalid configuration");
            if let Err(report) = api.init_error(&error.to_string()) {
                tracing::error!(error = %report, "the init error could not be reported");
            }
            return ExitCode::FAILURE;
        }
    };
    let verifier = Verifier::new(config.clone(), JwksSource::http(&config.jwks_url));
    // The keys are fetched on a thread while this one goes on to ask Lambda for the first event;
    // a token waits for that fetch (Verifier::fetch_keys_in_background says why).
    let error = std::thread::scope(|scope| {
        verifier.fetch_keys_in_background(scope);
        api.run(|event, _context| authorizer::handle(&verifier, event))
    });
    // As lambda_runtime: a Runtime API that stops answering ends the process, and Lambda starts
    // a new sandbox.
    tracing::error!(%error, "stopping");
    ExitCode::FAILURE
}
