//! The TOKEN authorizer: verifies a Cognito user-pool JWT and answers API Gateway with a policy
//! for the whole stage and the caller's identity as context, or fails with exactly
//! `Unauthorized`. Every check fails closed.

mod config;
mod crypto;
mod jwks;
mod policy;
mod token;
mod verify;

pub use config::{Config, DEFAULT_LEEWAY, MAX_LEEWAY, TokenUses};
pub use crypto::install_rs256_only;
pub use jwks::{JwksError, JwksSource, KeySet};
pub use policy::{AuthorizerResponse, Effect, stage_resource};
pub use token::{MAX_TOKEN_BYTES, bearer_token, parse_header};
pub use verify::{
    Identity, MAX_KEY_AGE, NO_KEYS_REFETCH_INTERVAL, REFETCH_INTERVAL, Rejection, TokenUse,
    Verifier,
};

use lambda_runtime::Diagnostic;
use serde_json::Value;

/// The error API Gateway turns into a 401: the message must be exactly `Unauthorized`.
pub fn unauthorized() -> Diagnostic {
    Diagnostic {
        error_type: "Unauthorized".into(),
        error_message: "Unauthorized".into(),
    }
}

/// Handles one `{"type":"TOKEN","authorizationToken":..., "methodArn":...}` event.
///
/// A valid token gets an Allow for the whole stage (so that API Gateway's per-token cache never
/// answers another route with a wrong 403); a valid token that policy refuses (`REQUIRED_GROUP`)
/// gets an explicit Deny (403); anything else is `Unauthorized` (401).
#[tracing::instrument(name = "authorize", skip_all)]
pub async fn handle(verifier: &Verifier, event: Value) -> Result<AuthorizerResponse, Diagnostic> {
    let Some(method_arn) = event.get("methodArn").and_then(Value::as_str) else {
        tracing::warn!("event has no methodArn: not a TOKEN authorizer event");
        return Err(unauthorized());
    };
    let Some(resource) = stage_resource(method_arn) else {
        tracing::warn!("methodArn is not an execute-api ARN");
        return Err(unauthorized());
    };
    let header = event
        .get("authorizationToken")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let identity = match verifier.verify(header).await {
        Ok(identity) => identity,
        Err(rejection) => {
            tracing::info!(reason = %rejection, "token rejected");
            return Err(unauthorized());
        }
    };
    let effect = match verifier.config().required_group.as_deref() {
        Some(group) if !identity.groups.iter().any(|g| g == group) => {
            tracing::info!(
                required_group = group,
                "token valid but caller not in the required group"
            );
            Effect::Deny
        }
        _ => Effect::Allow,
    };
    Ok(AuthorizerResponse::new(&identity, effect, resource))
}
