//! A local stand-in for a Cognito user pool's token side: RSA signing keys, their JWKS served on
//! loopback, and Cognito-shaped ID and access tokens for any username.
//!
//! Its keys are generated on this machine and its issuer is `https://local-issuer.invalid/...`
//! (the `.invalid` top-level domain never resolves), so a production authorizer, which derives
//! its issuer and JWKS URL from the user pool, can never accept these tokens. Only an
//! authorizer whose `TOKEN_ISSUER` and `JWKS_URL` point here does.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use local_aws::DevkitError;

/// The `iss` of local tokens: what the authorizer's `TOKEN_ISSUER` must be set to locally.
pub const LOCAL_ISSUER: &str = "https://local-issuer.invalid/notes-local-pool";
/// The app client id local tokens are issued to (`USER_POOL_CLIENT_IDS` locally).
pub const LOCAL_CLIENT_ID: &str = "notes-local-client";
/// Where the JWKS is served, as Cognito serves it under the issuer.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

const KEY_BITS: usize = 2048;

/// One RSA key pair and its `kid`.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    private_pem: String,
    public_pem: String,
    public: RsaPublicKey,
    encoding: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn issuer_error(what: impl Into<String>) -> DevkitError {
    DevkitError::Issuer(what.into())
}

impl SigningKey {
    /// A fresh 2048-bit key with a random `kid`.
    pub fn generate() -> Result<Self, DevkitError> {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS)
            .map_err(|e| issuer_error(format!("RSA key generation failed: {e}")))?;
        Self::from_private(uuid::Uuid::new_v4().to_string(), &private)
    }

    /// A key from its PKCS#8 PEM.
    pub fn from_pem(kid: &str, pem: &str) -> Result<Self, DevkitError> {
        let private = RsaPrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| issuer_error(format!("not an RSA private key in PKCS#8 PEM: {e}")))?;
        Self::from_private(kid.to_owned(), &private)
    }

    fn from_private(kid: String, private: &RsaPrivateKey) -> Result<Self, DevkitError> {
        let private_pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| issuer_error(format!("PEM encoding failed: {e}")))?
            .to_string();
        let public = private.to_public_key();
        let public_pem = public
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| issuer_error(format!("PEM encoding failed: {e}")))?;
        let encoding = EncodingKey::from_rsa_pem(private_pem.as_bytes())
            .map_err(|e| issuer_error(format!("jsonwebtoken refused the key: {e}")))?;
        Ok(Self {
            kid,
            private_pem,
            public_pem,
            public,
            encoding,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key in PKCS#8 PEM (for tests that sign with custom headers).
    pub fn private_pem(&self) -> &str {
        &self.private_pem
    }

    /// The public key in PEM (used by the attack tests as an HMAC "secret").
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// The public half as a JWK, as Cognito publishes it.
    pub fn jwk(&self) -> Value {
        json!({
            "alg": "RS256",
            "e": URL_SAFE_NO_PAD.encode(self.public.e().to_bytes_be()),
            "kid": self.kid,
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(self.public.n().to_bytes_be()),
            "use": "sig",
        })
    }

    /// Signs arbitrary claims with RS256 and this key's `kid`.
    pub fn sign(&self, claims: &Value) -> Result<String, DevkitError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| issuer_error(format!("signing failed: {e}")))
    }
}

/// A JWKS document holding the given keys.
pub fn jwks(keys: &[&SigningKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Id,
    Access,
}

/// What to put in a token. `TokenSpec::new(username)` is a valid local ID token for one hour.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub username: String,
    /// The permanent id; `user_sub(username)` unless a test plays a username signed up again.
    pub sub: String,
    pub kind: TokenKind,
    pub groups: Vec<String>,
    pub email: Option<String>,
    /// Seconds from now until `exp`; negative for an already expired token.
    pub expires_in: i64,
    pub issuer: String,
    pub client_id: String,
}

impl TokenSpec {
    pub fn new(username: &str) -> Self {
        Self {
            username: username.to_owned(),
            sub: user_sub(username),
            kind: TokenKind::Id,
            groups: Vec::new(),
            email: Some(format!("{username}@example.com")),
            expires_in: 3600,
            issuer: LOCAL_ISSUER.to_owned(),
            client_id: LOCAL_CLIENT_ID.to_owned(),
        }
    }

    pub fn access(mut self) -> Self {
        self.kind = TokenKind::Access;
        self
    }

    /// The claims Cognito puts in this kind of token.
    pub fn claims(&self) -> Value {
        let now = unix_now();
        let sub = &self.sub;
        // The claims both kinds of Cognito token carry, then what differs.
        let mut claims = json!({
            "sub": sub,
            "auth_time": now,
            "iss": self.issuer,
            "exp": now + self.expires_in,
            "iat": now,
            "jti": uuid::Uuid::new_v4().to_string(),
            "origin_jti": uuid::Uuid::new_v4().to_string(),
        });
        let specific = match self.kind {
            TokenKind::Id => json!({
                "cognito:username": self.username,
                "aud": self.client_id,
                "email_verified": true,
                "token_use": "id",
            }),
            TokenKind::Access => json!({
                "client_id": self.client_id,
                "username": self.username,
                "token_use": "access",
                "scope": "aws.cognito.signin.user.admin",
            }),
        };
        if let (Some(map), Value::Object(specific)) = (claims.as_object_mut(), specific) {
            map.extend(specific);
        }
        if let (TokenKind::Id, Some(email), Some(map)) =
            (self.kind, &self.email, claims.as_object_mut())
        {
            map.insert("email".into(), email.clone().into());
        }
        if !self.groups.is_empty()
            && let Some(map) = claims.as_object_mut()
        {
            map.insert("cognito:groups".into(), json!(self.groups));
        }
        claims
    }

    pub fn mint(&self, key: &SigningKey) -> Result<String, DevkitError> {
        key.sign(&self.claims())
    }
}

/// A stable, UUID-shaped `sub` per username, as Cognito gives each user one.
pub fn user_sub(username: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("notes-local:{username}").as_bytes(),
    )
    .to_string()
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

#[derive(Debug)]
struct JwksState {
    document: RwLock<Value>,
    fetches: AtomicUsize,
    available: AtomicBool,
}

/// Serves a JWKS document on loopback, counting fetches; the document can be swapped (key
/// rotation) and the endpoint taken down (503) and brought back.
#[derive(Debug)]
pub struct JwksServer {
    address: SocketAddr,
    state: Arc<JwksState>,
    task: JoinHandle<()>,
}

impl JwksServer {
    /// Serves `document` on a free loopback port.
    pub async fn start(document: Value) -> Result<Self, DevkitError> {
        Self::start_on(0, document).await
    }

    /// Serves `document` on the given loopback port (0 for any free one).
    pub async fn start_on(port: u16, document: Value) -> Result<Self, DevkitError> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|e| issuer_error(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
        let address = listener
            .local_addr()
            .map_err(|e| issuer_error(format!("no local address: {e}")))?;
        let state = Arc::new(JwksState {
            document: RwLock::new(document),
            fetches: AtomicUsize::new(0),
            available: AtomicBool::new(true),
        });
        let app = Router::new()
            .route(JWKS_PATH, get(serve_jwks))
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "JWKS server stopped");
            }
        });
        Ok(Self {
            address,
            state,
            task,
        })
    }

    /// The JWKS URL, for the authorizer's `JWKS_URL`.
    pub fn url(&self) -> String {
        format!("http://{}{JWKS_PATH}", self.address)
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Replaces the served document (key rotation).
    pub fn set_document(&self, document: Value) {
        if let Ok(mut current) = self.state.document.write() {
            *current = document;
        }
    }

    /// Makes the endpoint answer 503 (`false`) or serve again (`true`).
    pub fn set_available(&self, available: bool) {
        self.state.available.store(available, Ordering::SeqCst);
    }

    /// How many times the JWKS was requested.
    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_jwks(State(state): State<Arc<JwksState>>) -> Response {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    if !state.available.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let body = state
        .document
        .read()
        .map(|document| document.to_string())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The authorizer's environment for tokens from this issuer (plus the JWKS URL).
pub fn authorizer_env(jwks_url: &str) -> Vec<(String, String)> {
    [
        ("TOKEN_ISSUER", LOCAL_ISSUER),
        ("JWKS_URL", jwks_url),
        ("USER_POOL_CLIENT_IDS", LOCAL_CLIENT_ID),
        ("AWS_REGION", local_aws::tables::LOCAL_REGION),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_cognito_shape() {
        let key = SigningKey::generate().unwrap();
        let id = TokenSpec {
            groups: vec!["editors".into()],
            ..TokenSpec::new("alice")
        }
        .claims();
        assert_eq!(id["cognito:username"], "alice");
        assert_eq!(id["token_use"], "id");
        assert_eq!(id["aud"], LOCAL_CLIENT_ID);
        assert_eq!(id["cognito:groups"], json!(["editors"]));
        assert_eq!(id["sub"], user_sub("alice"));
        let access = TokenSpec::new("alice").access().claims();
        assert_eq!(access["username"], "alice");
        assert_eq!(access["client_id"], LOCAL_CLIENT_ID);
        assert!(access.get("aud").is_none());

        let token = TokenSpec::new("alice").mint(&key).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        assert_eq!(jwks(&[&key])["keys"][0]["kid"], key.kid());
    }
}
