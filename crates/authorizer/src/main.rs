//! Lambda entry point of the TOKEN authorizer: configuration and the pool's keys are loaded once,
//! at init, and reused by every invocation.

use authorizer::{Config, JwksSource, Verifier};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

// One invocation at a time per sandbox: a single-threaded runtime starts faster and is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    notes_tracing::init();
    authorizer::install_rs256_only();
    let config = Config::from_env()?;
    let verifier = Verifier::new(config.clone(), JwksSource::http(&config.jwks_url));
    match verifier.refresh_keys() {
        Ok(count) => tracing::info!(keys = count, "JWKS loaded"),
        // Start anyway: tokens are refused (401) until the keys can be fetched.
        Err(err) => tracing::error!(error = %err, "JWKS unavailable at init"),
    }
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        authorizer::handle(&verifier, event.payload)
    }))
    .await
}
