//! The TOKEN authorizer: verifies a Cognito user-pool JWT and answers API Gateway with a policy
//! for the whole stage and the caller's identity as context, or fails with exactly
//! `Unauthorized`. Every check fails closed.

mod config;
mod crypto;
mod jwks;
mod policy;
pub mod runtime;
mod token;
mod verify;

pub use config::{Config, DEFAULT_LEEWAY, MAX_LEEWAY, TokenUses};
pub use crypto::install_rs256_only;
pub use jwks::{JwksError, JwksSource, KeySet};
pub use policy::{AuthorizerResponse, Effect, stage_resource};
pub use token::{MAX_TOKEN_BYTES, bearer_token, parse_header};
pub use verify::{
    INITIAL_FETCH_WAIT, Identity, MAX_KEY_AGE, NO_KEYS_REFETCH_INTERVAL, REFETCH_INTERVAL,
    Rejection, TokenUse, Verifier,
};

use serde::Serialize;
use serde_json::Value;

/// The one error the authorizer answers with. API Gateway turns an authorizer error whose message
/// is exactly `Unauthorized` into a 401 and any other into a 500, so no other error exists. It
/// serialises to the Runtime API error body
/// `{"errorType":"Unauthorized","errorMessage":"Unauthorized"}`, what lambda_runtime sent for the
/// `Diagnostic` this replaces. Why a request was refused goes to the log, never to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthorized;

impl Unauthorized {
    pub const ERROR_TYPE: &'static str = "Unauthorized";
    pub const ERROR_MESSAGE: &'static str = "Unauthorized";
}

impl Serialize for Unauthorized {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        runtime::ErrorBody {
            error_type: Self::ERROR_TYPE,
            error_message: Self::ERROR_MESSAGE,
        }
        .serialize(serializer)
    }
}

/// Handles one `{"type":"TOKEN","authorizationToken":..., "methodArn":...}` event.
///
/// A valid token gets an Allow for the whole stage (so that API Gateway's per-token cache never
/// answers another route with a wrong 403); a valid token that policy refuses (`REQUIRED_GROUP`)
/// gets an explicit Deny (403); anything else is `Unauthorized` (401).
#[tracing::instrument(name = "authorize", skip_all)]
pub fn handle(verifier: &Verifier, event: Value) -> Result<AuthorizerResponse, Unauthorized> {
    let Some(method_arn) = event.get("methodArn").and_then(Value::as_str) else {
        tracing::warn!("event has no methodArn: not a TOKEN authorizer event");
        return Err(Unauthorized);
    };
    let Some(resource) = stage_resource(method_arn) else {
        tracing::warn!("methodArn is not an execute-api ARN");
        return Err(Unauthorized);
    };
    let header = event
        .get("authorizationToken")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let identity = match verifier.verify(header) {
        Ok(identity) => identity,
        Err(rejection) => {
            tracing::info!(reason = %rejection, "token rejected");
            return Err(Unauthorized);
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
