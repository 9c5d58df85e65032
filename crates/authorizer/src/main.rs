//! Lambda entry point of the TOKEN authorizer: configuration and the pool's keys are loaded once,
//! at init, and reused by every invocation.

use std::process::ExitCode;

use authorizer::runtime::RuntimeApi;
use authorizer::{Config, JwksSource, Verifier};

// No async runtime: the Runtime API client and the JWKS fetch block, and a sandbox serves one
// invocation at a time, so init is only reading the environment and fetching the keys.
fn main() -> ExitCode {
    notes_tracing::init();
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
    match verifier.refresh_keys() {
        Ok(count) => tracing::info!(keys = count, "JWKS loaded"),
        // Start anyway: tokens are refused (401) until the keys can be fetched.
        Err(err) => tracing::error!(error = %err, "JWKS unavailable at init"),
    }
    let error = api.run(|event, _context| authorizer::handle(&verifier, event));
    // As lambda_runtime: a Runtime API that stops answering ends the process, and Lambda starts
    // a new sandbox.
    tracing::error!(%error, "stopping");
    ExitCode::FAILURE
}
