//! The user pool's signing keys: fetched from its JWKS document and kept as decoding keys.

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::DecodingKey;
use serde::Deserialize;

/// A JWKS document larger than this is not Cognito's (it publishes two small keys).
const MAX_JWKS_BYTES: u64 = 64 * 1024;
/// Fetching keys happens at init and, rarely, on an unknown `kid`; a stalled endpoint must not
/// eat the authorizer's whole timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("JWKS could not be fetched: {0}")]
    Fetch(String),
    #[error("JWKS is not a valid key set: {0}")]
    Invalid(String),
}

/// The usable signing keys, by `kid`: RSA keys meant for signatures (`use` = `sig`) and, when
/// the JWK names an algorithm, RS256 only.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, DecodingKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl KeySet {
    pub fn from_json(bytes: &[u8]) -> Result<Self, JwksError> {
        let document: JwksDocument =
            serde_json::from_slice(bytes).map_err(|e| JwksError::Invalid(e.to_string()))?;
        let mut keys = HashMap::new();
        for jwk in document.keys {
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            let usable = jwk.kty.as_deref() == Some("RSA")
                && jwk.use_.as_deref() == Some("sig")
                && jwk.alg.as_deref().is_none_or(|alg| alg == "RS256");
            if !usable {
                continue;
            }
            match DecodingKey::from_rsa_components(&n, &e) {
                Ok(key) => {
                    keys.insert(kid, key);
                }
                Err(err) => tracing::warn!(kid = %kid, error = %err, "skipping an unreadable JWK"),
            }
        }
        Ok(Self { keys })
    }

    pub fn get(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Where keys come from: the pool's JWKS URL, or a fixed set (fuzzing, tests).
#[derive(Debug, Clone)]
pub enum JwksSource {
    Http { url: String, agent: ureq::Agent },
    Static(KeySet),
}

impl JwksSource {
    pub fn http(url: impl Into<String>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(FETCH_TIMEOUT))
            .http_status_as_error(true)
            // Small buffers, as the Runtime API client's (crate::runtime::BUFFER_BYTES says why).
            .input_buffer_size(crate::runtime::BUFFER_BYTES)
            .output_buffer_size(crate::runtime::BUFFER_BYTES)
            .max_response_header_size(crate::runtime::BUFFER_BYTES)
            .build()
            .new_agent();
        Self::Http {
            url: url.into(),
            agent,
        }
    }

    /// Fetches the key set. Blocking, bounded by `FETCH_TIMEOUT`.
    pub fn fetch(&self) -> Result<KeySet, JwksError> {
        self.fetch_bounded(Bounds::Whole)
    }

    /// Fetches the key set at init, on the authorizer's own thread, while nothing waits for it
    /// yet: connecting and the answer are bounded as in [`JwksSource::fetch`], the DNS lookup
    /// is left to the resolver's own limits. ureq bounds a lookup by running it on a thread of
    /// its own; starting that thread was half the fetch's time in a cold start (`make bench`).
    /// An invocation waits for this fetch at most `verify::INITIAL_FETCH_WAIT`.
    pub fn fetch_at_init(&self) -> Result<KeySet, JwksError> {
        self.fetch_bounded(Bounds::PerPhase)
    }

    fn fetch_bounded(&self, bounds: Bounds) -> Result<KeySet, JwksError> {
        match self {
            Self::Static(keys) => Ok(keys.clone()),
            Self::Http { url, agent } => {
                let request = agent.get(url);
                let request = match bounds {
                    Bounds::Whole => request,
                    Bounds::PerPhase => request
                        .config()
                        .timeout_global(None)
                        .timeout_send_request(Some(FETCH_TIMEOUT))
                        .timeout_recv_response(Some(FETCH_TIMEOUT))
                        .timeout_recv_body(Some(FETCH_TIMEOUT))
                        .build(),
                };
                let mut response = request
                    .call()
                    .map_err(|e| JwksError::Fetch(e.to_string()))?;
                let bytes = response
                    .body_mut()
                    .with_config()
                    .limit(MAX_JWKS_BYTES)
                    .read_to_vec()
                    .map_err(|e| JwksError::Fetch(e.to_string()))?;
                KeySet::from_json(&bytes)
            }
        }
    }
}

/// How a fetch is bounded in time.
#[derive(Debug, Clone, Copy)]
enum Bounds {
    /// All of it within `FETCH_TIMEOUT`, the lookup included.
    Whole,
    /// Connecting within `CONNECT_TIMEOUT`, each phase of the exchange within `FETCH_TIMEOUT`.
    PerPhase,
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real 2048-bit modulus is not needed to test the filtering: these components decode.
    const N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";
    const E: &str = "AQAB";

    fn jwk(kid: &str, kty: &str, use_: &str, alg: Option<&str>) -> serde_json::Value {
        let mut key = serde_json::json!({ "kid": kid, "kty": kty, "use": use_, "n": N, "e": E });
        if let Some(alg) = alg {
            key["alg"] = alg.into();
        }
        key
    }

    #[test]
    fn keeps_only_rsa_signing_keys_for_rs256() {
        let document = serde_json::json!({ "keys": [
            jwk("good", "RSA", "sig", Some("RS256")),
            jwk("no-alg", "RSA", "sig", None),
            jwk("encryption", "RSA", "enc", Some("RS256")),
            jwk("other-alg", "RSA", "sig", Some("RS512")),
            jwk("ec", "EC", "sig", Some("ES256")),
            { "kid": "no-modulus", "kty": "RSA", "use": "sig", "e": E },
        ]});
        let keys = KeySet::from_json(document.to_string().as_bytes()).unwrap();
        assert!(keys.get("good").is_some());
        assert!(keys.get("no-alg").is_some());
        for refused in ["encryption", "other-alg", "ec", "no-modulus"] {
            assert!(keys.get(refused).is_none(), "{refused}");
        }
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn rejects_documents_that_are_not_key_sets() {
        for bad in ["", "{}", "[]", r#"{"keys": 5}"#, "<html>"] {
            assert!(KeySet::from_json(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }
}
