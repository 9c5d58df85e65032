//! Verifying a token: signature with the pool's key, time claims with a small leeway, issuer,
//! token use and audience, and the claims the functions need. Keys are cached across
//! invocations; an unknown `kid` refreshes them at most once per interval.

use std::sync::{Condvar, Mutex};
use std::thread::Scope;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::token::{bearer_token, parse_header};
use crate::{Config, JwksSource, KeySet};

/// At most one JWKS fetch per interval for unknown `kid`s: key rotation is picked up within
/// seconds, and a flood of tokens with random `kid`s cannot hammer Cognito (or us).
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// The same limit while the authorizer has no keys at all (the JWKS was down at init): every
/// request is refused until the keys come, so try sooner; one fetch a second per sandbox is
/// still nothing to the JWKS endpoint.
pub const NO_KEYS_REFETCH_INTERVAL: Duration = Duration::from_secs(1);
/// How long an invocation waits for the key fetch started at init before it is refused (no
/// keys): as long as a fetch on an invocation may take (jwks::FETCH_TIMEOUT), the bound there was
/// when init fetched before asking for the first event.
pub const INITIAL_FETCH_WAIT: Duration = Duration::from_secs(2);
/// Keys are refreshed after this age even without an unknown `kid`, so a key Cognito has
/// withdrawn stops being accepted by long-lived sandboxes too.
pub const MAX_KEY_AGE: Duration = Duration::from_secs(3600);

/// Why a token was refused. For the log only: the caller always gets `Unauthorized`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("token larger than 8 KiB")]
    Oversized,
    #[error("algorithm is not RS256")]
    UnsupportedAlgorithm,
    #[error("no key with this kid in the user pool's JWKS")]
    UnknownKey,
    #[error("the user pool's JWKS is unavailable and no key is cached")]
    KeysUnavailable,
    #[error("signature or claims invalid: {0}")]
    Invalid(String),
    #[error("token expired")]
    Expired,
    #[error("token not valid yet")]
    NotYetValid,
    #[error("wrong issuer")]
    WrongIssuer,
    #[error("token_use not accepted")]
    WrongTokenUse,
    #[error("audience or client_id not accepted")]
    WrongAudience,
    #[error("claim {0} missing or empty")]
    MissingClaim(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Id,
    Access,
}

impl TokenUse {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Access => "access",
        }
    }
}

/// Who the token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub sub: String,
    pub username: String,
    pub token_use: TokenUse,
    pub email: Option<String>,
    pub scope: Option<String>,
    pub groups: Vec<String>,
}

/// The claims we read, with the types Cognito gives them; any other type fails decoding.
#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    iat: Option<u64>,
    token_use: Option<String>,
    aud: Option<String>,
    client_id: Option<String>,
    #[serde(rename = "cognito:username")]
    cognito_username: Option<String>,
    username: Option<String>,
    email: Option<String>,
    scope: Option<String>,
    #[serde(rename = "cognito:groups")]
    groups: Option<Vec<String>>,
}

#[derive(Debug)]
struct KeyCache {
    keys: KeySet,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

/// Verifies tokens for one user pool. Built once at init, shared by all invocations.
#[derive(Debug)]
pub struct Verifier {
    config: Config,
    source: JwksSource,
    cache: Mutex<KeyCache>,
    refetch_interval: Duration,
    validation: Validation,
    /// Whether the fetch started at init is still running: until it ends, [`Verifier::verify`]
    /// waits for it (never answers with no keys while they may be on their way).
    initial_fetch_running: Mutex<bool>,
    initial_fetch_ended: Condvar,
}

/// Marks the initial fetch as ended when dropped, however the fetch ended (a panic included), so
/// that no invocation waits forever: with no keys, it is refused.
struct InitialFetchEnds<'a>(&'a Verifier);

impl Drop for InitialFetchEnds<'_> {
    fn drop(&mut self) {
        if let Ok(mut running) = self.0.initial_fetch_running.lock() {
            *running = false;
        }
        self.0.initial_fetch_ended.notify_all();
    }
}

impl Verifier {
    pub fn new(config: Config, source: JwksSource) -> Self {
        Self::with_refetch_interval(config, source, REFETCH_INTERVAL)
    }

    /// As [`Verifier::new`], with another minimum interval between key fetches (tests).
    pub fn with_refetch_interval(
        config: Config,
        source: JwksSource,
        refetch_interval: Duration,
    ) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = vec![Algorithm::RS256];
        validation.leeway = config.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[config.issuer.as_str()]);
        // Cognito access tokens carry no `aud`: the audience is checked per token use below.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        Self {
            config,
            source,
            cache: Mutex::new(KeyCache {
                keys: KeySet::default(),
                fetched_at: None,
                last_attempt: None,
            }),
            refetch_interval,
            validation,
            initial_fetch_running: Mutex::new(false),
            initial_fetch_ended: Condvar::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Fetches the keys now (at init). Blocking. On failure the verifier still starts: every
    /// token is refused until a later fetch succeeds.
    pub fn refresh_keys(&self) -> Result<usize, crate::JwksError> {
        self.mark_attempt();
        let keys = self.source.fetch()?;
        let count = keys.len();
        self.store_keys(keys);
        Ok(count)
    }

    /// Starts the init fetch of the keys on a thread of `scope` and returns at once, so that the
    /// fetch (a DNS lookup, TCP and TLS handshakes with Cognito, then the request) overlaps with
    /// the rest of init and the runtime's first poll for an event instead of delaying them: the
    /// authorizer's cold start was 1.8× a hello world's while it fetched first (`make bench`).
    /// Fails closed all the same: [`Verifier::verify`] waits for this fetch to end (at most
    /// [`INITIAL_FETCH_WAIT`]), then a token is checked against the keys it brought, or refused
    /// if there are none. Logs the outcome, as `main` did.
    pub fn fetch_keys_in_background<'scope, 'env>(&'env self, scope: &'scope Scope<'scope, 'env>) {
        if let Ok(mut running) = self.initial_fetch_running.lock() {
            *running = true;
        }
        let spawned = std::thread::Builder::new()
            .name("jwks-init".into())
            .spawn_scoped(scope, move || {
                let _ends = InitialFetchEnds(self);
                self.initial_fetch();
            });
        if let Err(error) = spawned {
            // No thread (resource limits): fetch here, before the first poll, as it used to.
            tracing::warn!(%error, "no thread for the JWKS fetch; fetching before the first event");
            let _ends = InitialFetchEnds(self);
            self.initial_fetch();
        }
    }

    fn initial_fetch(&self) {
        self.mark_attempt();
        let fetched = self.source.fetch_at_init().map(|keys| {
            let count = keys.len();
            self.store_keys(keys);
            count
        });
        match fetched {
            Ok(count) => tracing::info!(keys = count, "JWKS loaded"),
            // Serve anyway: tokens are refused (401) until the keys can be fetched.
            Err(err) => tracing::error!(error = %err, "JWKS unavailable at init"),
        }
    }

    /// Blocks while the fetch started at init runs, at most [`INITIAL_FETCH_WAIT`]. If that
    /// passes, the fetch is taken as this request's attempt, so the token is refused at once (no
    /// keys) rather than after a second fetch; requests a second later try again.
    fn wait_for_initial_fetch(&self) {
        let Ok(running) = self.initial_fetch_running.lock() else {
            return;
        };
        match self
            .initial_fetch_ended
            .wait_timeout_while(running, INITIAL_FETCH_WAIT, |running| *running)
        {
            Ok((still_running, waited)) if waited.timed_out() && *still_running => {
                drop(still_running);
                tracing::error!("the JWKS fetch started at init is still running");
                self.mark_attempt();
            }
            // Ended, or a poisoned lock: go on, and with no keys the token is refused.
            _ => {}
        }
    }

    fn mark_attempt(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.last_attempt = Some(Instant::now());
        }
    }

    fn store_keys(&self, keys: KeySet) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.keys = keys;
            cache.fetched_at = Some(Instant::now());
        }
    }

    /// The key for `kid`, and whether a refetch is due (unknown kid or stale keys) and allowed.
    fn lookup(&self, kid: &str) -> (Option<jsonwebtoken::DecodingKey>, bool) {
        let Ok(mut cache) = self.cache.lock() else {
            return (None, false);
        };
        let key = cache.keys.get(kid).cloned();
        let interval = if cache.keys.is_empty() {
            self.refetch_interval.min(NO_KEYS_REFETCH_INTERVAL)
        } else {
            self.refetch_interval
        };
        let stale = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= MAX_KEY_AGE);
        let allowed = cache.last_attempt.is_none_or(|at| at.elapsed() >= interval);
        let refetch = (key.is_none() || stale) && allowed;
        if refetch {
            // Claimed under the lock: concurrent invocations do not fetch at the same time.
            cache.last_attempt = Some(Instant::now());
        }
        (key, refetch)
    }

    fn key_for(&self, kid: &str) -> Result<jsonwebtoken::DecodingKey, Rejection> {
        let (cached, refetch) = self.lookup(kid);
        if refetch {
            // Blocking is fine: a sandbox serves one invocation at a time, so nothing else could
            // run meanwhile, and the fetch is rare and bounded by its own timeouts.
            match self.source.fetch() {
                Ok(keys) => {
                    let key = keys.get(kid).cloned();
                    self.store_keys(keys);
                    return key.ok_or(Rejection::UnknownKey);
                }
                Err(err) => {
                    // Keep serving with the cached keys: a JWKS outage must not lock out
                    // callers whose keys we already have.
                    tracing::error!(error = %err, "JWKS refresh failed");
                    if cached.is_none() && self.no_keys() {
                        return Err(Rejection::KeysUnavailable);
                    }
                }
            }
        }
        cached.ok_or(if self.no_keys() {
            Rejection::KeysUnavailable
        } else {
            Rejection::UnknownKey
        })
    }

    fn no_keys(&self) -> bool {
        self.cache
            .lock()
            .map(|cache| cache.keys.is_empty())
            .unwrap_or(true)
    }

    /// Verifies the value of an `Authorization` header and returns the caller's identity.
    ///
    /// Blocking: an unknown `kid` or stale keys may fetch the JWKS (see [`REFETCH_INTERVAL`]).
    pub fn verify(&self, authorization: &str) -> Result<Identity, Rejection> {
        // Before anything else, so that no answer (and no log line of an invocation) comes
        // before the init fetch has ended and said so in the log.
        self.wait_for_initial_fetch();
        let token = bearer_token(authorization)?;
        let header = parse_header(token)?;
        let key = self.key_for(&header.kid)?;
        let data =
            jsonwebtoken::decode::<Claims>(token, &key, &self.validation).map_err(|err| {
                use jsonwebtoken::errors::ErrorKind;
                match err.kind() {
                    ErrorKind::ExpiredSignature => Rejection::Expired,
                    ErrorKind::ImmatureSignature => Rejection::NotYetValid,
                    ErrorKind::InvalidIssuer => Rejection::WrongIssuer,
                    ErrorKind::MissingRequiredClaim(claim) if claim == "sub" => {
                        Rejection::MissingClaim("sub")
                    }
                    ErrorKind::MissingRequiredClaim(_) => {
                        Rejection::Invalid("a required claim is missing".into())
                    }
                    ErrorKind::InvalidSignature => Rejection::Invalid("bad signature".into()),
                    // Serde's messages can quote claim values: keep them out of the log.
                    ErrorKind::Json(_) => Rejection::Invalid("claims have unexpected types".into()),
                    other => Rejection::Invalid(format!("{other:?}")),
                }
            })?;
        self.check_claims(data.claims)
    }

    fn check_claims(&self, claims: Claims) -> Result<Identity, Rejection> {
        let leeway = self.config.leeway.as_secs();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        match claims.iat {
            None => return Err(Rejection::MissingClaim("iat")),
            Some(iat) if iat > now.saturating_add(leeway) => return Err(Rejection::NotYetValid),
            Some(_) => {}
        }
        let sub = non_empty(claims.sub).ok_or(Rejection::MissingClaim("sub"))?;
        let token_use = match claims.token_use.as_deref() {
            Some("id") if self.config.token_uses.id => TokenUse::Id,
            Some("access") if self.config.token_uses.access => TokenUse::Access,
            Some(_) => return Err(Rejection::WrongTokenUse),
            None => return Err(Rejection::MissingClaim("token_use")),
        };
        let (audience, username) = match token_use {
            TokenUse::Id => (claims.aud, claims.cognito_username),
            TokenUse::Access => (claims.client_id, claims.username),
        };
        let audience = audience.ok_or(Rejection::WrongAudience)?;
        if !self.config.client_ids.contains(&audience) {
            return Err(Rejection::WrongAudience);
        }
        let username = non_empty(username).ok_or(Rejection::MissingClaim("username"))?;
        Ok(Identity {
            sub,
            username,
            token_use,
            email: non_empty(claims.email),
            scope: non_empty(claims.scope),
            groups: claims.groups.unwrap_or_default(),
        })
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}
