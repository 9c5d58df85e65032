//! The HTTP API's built-in JWT authorizer, as `make dev API=http` runs it: the checks API Gateway
//! documents for a JWT authorizer, in its order, against the local pool's JWKS. No Lambda
//! authorizer is involved, as in AWS.
//!
//! API Gateway's workflow: the token is the identity source's value, bare or after `Bearer `;
//! its header names an RSA algorithm and a `kid` found in the issuer's JWKS; the signature
//! verifies; `iss` is the configured issuer; `aud` (ID tokens) or, without `aud`, `client_id`
//! (access tokens) is one of the configured audiences; `exp` is in the future, `nbf` and `iat`
//! in the past. Any failure is a 401 `{"message":"Unauthorized"}`. The claims of a valid token
//! reach the function as strings in `requestContext.authorizer.jwt.claims`.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// Why a token was refused: for the dev server's log, never sent to the caller (API Gateway
/// answers every refusal with the same body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no token in the Authorization header")]
    Missing,
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    #[error("the token's algorithm {0:?} is not an RSA algorithm")]
    Algorithm(Algorithm),
    #[error("no key with the token's kid in the issuer's JWKS")]
    UnknownKey,
    #[error("the issuer's JWKS could not be fetched: {0}")]
    Jwks(String),
    #[error("the signature or a claim is invalid: {0}")]
    Invalid(String),
    #[error("neither aud nor client_id is one of the audiences")]
    Audience,
    #[error("the token was issued in the future (iat)")]
    IssuedInTheFuture,
}

/// A JWT authorizer: the issuer and audiences of template.yaml's `CognitoJwt`, and where the
/// issuer's keys are (moto's per-pool JWKS URL stands in for `<issuer>/.well-known/jwks.json`).
#[derive(Debug)]
pub struct JwtAuthorizer {
    issuer: String,
    audiences: Vec<String>,
    jwks_url: String,
    keys: Mutex<Option<JwkSet>>,
    agent: ureq::Agent,
}

impl JwtAuthorizer {
    pub fn new(issuer: &str, audiences: &[String], jwks_url: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .new_agent();
        Self {
            issuer: issuer.to_owned(),
            audiences: audiences.to_vec(),
            jwks_url: jwks_url.to_owned(),
            keys: Mutex::new(None),
            agent,
        }
    }

    /// The claims of a token API Gateway would accept, as the strings it hands to the function.
    /// Blocking (it may fetch the JWKS): call it from a blocking task.
    pub fn authorize(&self, authorization: Option<&str>) -> Result<Map<String, Value>, Refusal> {
        let token = authorization
            .map(str::trim)
            .map(|value| value.strip_prefix("Bearer ").unwrap_or(value).trim())
            .filter(|token| !token.is_empty())
            .ok_or(Refusal::Missing)?;
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| Refusal::Malformed(e.to_string()))?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
        ) {
            return Err(Refusal::Algorithm(header.alg));
        }
        let kid = header.kid.ok_or(Refusal::UnknownKey)?;
        let key = self.key(&kid)?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        // The audience is checked below: API Gateway takes `client_id` when there is no `aud`.
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss"]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| Refusal::Invalid(e.to_string()))?
            .claims;
        let audience = match claims.get("aud") {
            Some(Value::String(aud)) => Some(aud.as_str()),
            Some(_) => None,
            None => claims.get("client_id").and_then(Value::as_str),
        };
        if !audience.is_some_and(|aud| self.audiences.iter().any(|a| a == aud)) {
            return Err(Refusal::Audience);
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if claims
            .get("iat")
            .and_then(Value::as_u64)
            .is_some_and(|iat| iat > now)
        {
            return Err(Refusal::IssuedInTheFuture);
        }
        Ok(as_gateway_claims(claims))
    }

    /// The key for `kid`, fetching the JWKS the first time and again for a kid it lacks (a
    /// rotated key), as API Gateway does.
    fn key(&self, kid: &str) -> Result<DecodingKey, Refusal> {
        let cached = self
            .keys
            .lock()
            .ok()
            .and_then(|keys| keys.as_ref().and_then(|set| set.find(kid).cloned()));
        let jwk = match cached {
            Some(jwk) => jwk,
            None => {
                let text = self
                    .agent
                    .get(&self.jwks_url)
                    .call()
                    .and_then(|mut response| response.body_mut().read_to_string())
                    .map_err(|e| Refusal::Jwks(e.to_string()))?;
                let set: JwkSet =
                    serde_json::from_str(&text).map_err(|e| Refusal::Jwks(e.to_string()))?;
                let found = set.find(kid).cloned();
                if let Ok(mut keys) = self.keys.lock() {
                    *keys = Some(set);
                }
                found.ok_or(Refusal::UnknownKey)?
            }
        };
        DecodingKey::from_jwk(&jwk).map_err(|e| Refusal::Invalid(e.to_string()))
    }
}

/// API Gateway hands every claim to the function as a string: numbers and booleans as their
/// JSON text, arrays (`cognito:groups`) as `[a b]`.
fn as_gateway_claims(claims: Map<String, Value>) -> Map<String, Value> {
    claims
        .into_iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text,
                Value::Array(items) => {
                    let items: Vec<String> = items
                        .iter()
                        .map(|item| match item {
                            Value::String(text) => text.clone(),
                            other => other.to_string(),
                        })
                        .collect();
                    format!("[{}]", items.join(" "))
                }
                other => other.to_string(),
            };
            (name, Value::String(text))
        })
        .collect()
}

/// The configuration `make dev API=http` reads from the pool: issuer, audiences, JWKS URL.
pub fn for_pool(pool: &local_aws::LocalPool) -> JwtAuthorizer {
    JwtAuthorizer::new(
        &pool.issuer(),
        &[pool.client_id().to_owned()],
        &pool.jwks_url(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use notes_testkit::issuer::{JwksServer, SigningKey, TokenSpec, jwks, unix_now};
    use serde_json::json;

    const ISSUER: &str = notes_testkit::issuer::LOCAL_ISSUER;

    fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
        claims.get(name).and_then(Value::as_str)
    }

    async fn authorizer(key: &SigningKey) -> (JwksServer, JwtAuthorizer) {
        let server = JwksServer::start(jwks(&[key])).await.unwrap();
        let authorizer = JwtAuthorizer::new(ISSUER, &["notes-local-client".into()], &server.url());
        (server, authorizer)
    }

    fn check(
        authorizer: &JwtAuthorizer,
        header: Option<&str>,
    ) -> Result<Map<String, Value>, Refusal> {
        std::thread::scope(|scope| scope.spawn(|| authorizer.authorize(header)).join().unwrap())
    }

    // Two workers: the blocking check waits on one while the JWKS server answers on the other.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn accepts_id_and_access_tokens_bare_or_bearer_and_hands_claims_as_strings() {
        let key = SigningKey::generate().unwrap();
        let (_server, authorizer) = authorizer(&key).await;
        let mut spec = TokenSpec::new("alice");
        spec.groups = vec!["admins".into(), "staff".into()];
        let id = spec.mint(&key).unwrap();
        let claims = check(&authorizer, Some(&id)).unwrap();
        assert_eq!(claim(&claims, "cognito:username"), Some("alice"));
        assert_eq!(claim(&claims, "cognito:groups"), Some("[admins staff]"));
        assert!(claim(&claims, "exp").unwrap().parse::<i64>().is_ok());
        let access = TokenSpec::new("bob").access().mint(&key).unwrap();
        let claims = check(&authorizer, Some(&format!("Bearer {access}"))).unwrap();
        assert_eq!(claim(&claims, "username"), Some("bob"));
    }

    // Two workers: the blocking check waits on one while the JWKS server answers on the other.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_what_api_gateway_refuses() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let (_server, authorizer) = authorizer(&key).await;
        let expired = TokenSpec {
            expires_in: -10,
            ..TokenSpec::new("alice")
        };
        let foreign = other.sign(&TokenSpec::new("alice").claims()).unwrap();
        let mut wrong_audience = TokenSpec::new("alice").claims();
        wrong_audience["aud"] = json!("someone-else");
        let mut future = TokenSpec::new("alice").claims();
        future["iat"] = json!(unix_now() + 3600);
        let mut not_yet = TokenSpec::new("alice").claims();
        not_yet["nbf"] = json!(unix_now() + 3600);
        let mut wrong_issuer = TokenSpec::new("alice").claims();
        wrong_issuer["iss"] = json!("https://cognito-idp.us-east-1.amazonaws.com/other");
        let cases = [
            (None, "no header"),
            (Some("Bearer ".to_owned()), "empty"),
            (Some("not-a-jwt".to_owned()), "garbage"),
            (Some(expired.mint(&key).unwrap()), "expired"),
            (Some(foreign), "signed by another key"),
            (Some(key.sign(&wrong_audience).unwrap()), "another audience"),
            (Some(key.sign(&future).unwrap()), "issued in the future"),
            (Some(key.sign(&not_yet).unwrap()), "not yet valid"),
            (Some(key.sign(&wrong_issuer).unwrap()), "another issuer"),
        ];
        for (header, what) in cases {
            assert!(
                check(&authorizer, header.as_deref()).is_err(),
                "{what} was accepted"
            );
        }
    }
}
