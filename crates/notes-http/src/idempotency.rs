//! The `Idempotency-Key` header on create requests: the first request with a key runs and its
//! response is recorded; a retry within the window gets that response again (marked
//! `Idempotent-Replayed: true`) and stores nothing; the same key with a different request is 422;
//! a retry while the first is still running is 409 with `Retry-After`. Behaviour as in the IETF
//! draft "The Idempotency-Key HTTP Header Field"; storage as in Powertools for AWS Lambda (see
//! notes-domain's idempotency module).
//!
//! Keys are scoped to the function and the caller: user B can never receive user A's response by
//! guessing A's key, and one key sent to `POST /notes` and `POST /post` names two requests.

use std::future::Future;
use std::time::Duration;

use lambda_http::http::{HeaderName, HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use notes_domain::{
    ClaimOutcome, IdempotencyClaim, IdempotencyKey, IdempotencyStore, RecordedResponse, Timestamp,
    UserId,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ApiError;
use crate::config::{ConfigError, optional_env};
use crate::response::with_common_headers;

pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Set on a replayed response, as Stripe and others do, so a client can tell.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// Headers of a response that are part of what is replayed; the rest (CORS, caching) are added
/// anew to every response anyway.
const RECORDED_HEADERS: &[&str] = &["content-type", "etag", "location"];

/// Powertools' default, and long enough for any client's retry schedule.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3_600);
const MIN_WINDOW_SECONDS: u64 = 60;
/// A week; the record's TTL attribute is the expiry, so longer only grows the table.
const MAX_WINDOW_SECONDS: u64 = 7 * 24 * 3_600;
/// How long an unfinished attempt holds its key when the invocation's deadline is unknown. Above
/// the functions' timeout (10 s in template.yaml): an attempt can never outlive it.
const FALLBACK_IN_PROGRESS: Duration = Duration::from_secs(30);
/// Margin after the invocation's deadline before a retry may take over its key.
const DEADLINE_MARGIN: Duration = Duration::from_secs(1);

/// The idempotency store and the replay window, built once at init.
#[derive(Debug)]
pub struct Idempotency<I> {
    store: I,
    window: Duration,
}

impl<I: IdempotencyStore> Idempotency<I> {
    pub fn new(store: I, window: Duration) -> Self {
        Self { store, window }
    }

    pub fn store(&self) -> &I {
        &self.store
    }

    /// Runs `work` (the request's effect) at most once per key within the window. Without an
    /// `Idempotency-Key` header, `work` simply runs. `payload` is what the request asks for,
    /// already validated: a retry must ask for the same, or gets 422.
    ///
    /// Only success is recorded: after a failure the key is released, so the client's retry
    /// runs afresh (a 409 or a 503 is worth retrying; replaying it forever would not be).
    pub async fn run<P, F>(
        &self,
        request: &Request,
        scope: &'static str,
        user: &UserId,
        payload: &P,
        work: F,
    ) -> Result<Response<Body>, ApiError>
    where
        P: Serialize + ?Sized,
        F: Future<Output = Result<Response<Body>, ApiError>>,
    {
        let Some(key) = idempotency_key(request)? else {
            return work.await;
        };
        let now = Timestamp::now();
        let claim = IdempotencyClaim {
            id: record_id(scope, user, &key),
            owner: user.clone(),
            payload_hash: payload_hash(scope, payload)?,
            now,
            expires_at: now.plus(self.window),
            in_progress_until: in_progress_until(request, now),
        };
        match self.store.claim(&claim).await? {
            ClaimOutcome::Acquired => {}
            ClaimOutcome::Completed {
                payload_hash,
                response,
            } if payload_hash == claim.payload_hash => {
                tracing::info!(status = response.status, "idempotent replay");
                return Ok(replay(&response));
            }
            ClaimOutcome::InProgress { payload_hash } if payload_hash == claim.payload_hash => {
                return Err(ApiError::InProgress);
            }
            ClaimOutcome::Completed { .. } | ClaimOutcome::InProgress { .. } => {
                return Err(ApiError::Unprocessable(
                    "this Idempotency-Key was already used for a different request: \
                     use a new key for a new request"
                        .into(),
                ));
            }
        }

        let outcome = work.await;
        match &outcome {
            Ok(response) if response.status().is_success() => {
                if let Err(error) = self.store.complete(&claim, &record(response)).await {
                    // The write is done and acknowledged below; only its replay is lost. Until the
                    // in-progress record expires a retry gets 409, after that it runs again.
                    tracing::error!(error = %error, "could not record the response for replay");
                }
            }
            _ => {
                if let Err(error) = self.store.release(&claim).await {
                    // The key frees itself when the in-progress record expires.
                    tracing::warn!(error = %error, "could not release the idempotency key");
                }
            }
        }
        outcome
    }
}

/// The replay window from `IDEMPOTENCY_WINDOW_SECONDS` (default one hour).
pub fn idempotency_window_from_env() -> Result<Duration, ConfigError> {
    parse_window(optional_env(WINDOW_VARIABLE)?)
}

const WINDOW_VARIABLE: &str = "IDEMPOTENCY_WINDOW_SECONDS";

fn parse_window(value: Option<String>) -> Result<Duration, ConfigError> {
    let Some(value) = value else {
        return Ok(DEFAULT_WINDOW);
    };
    match value.trim().parse::<u64>() {
        Ok(seconds) if (MIN_WINDOW_SECONDS..=MAX_WINDOW_SECONDS).contains(&seconds) => {
            Ok(Duration::from_secs(seconds))
        }
        _ => Err(ConfigError::Invalid {
            name: WINDOW_VARIABLE,
            reason: format!(
                "must be a number of seconds from {MIN_WINDOW_SECONDS} to {MAX_WINDOW_SECONDS}"
            ),
        }),
    }
}

/// The request's key: absent, or exactly one valid value. The IETF draft sends it as a quoted
/// string; a bare token (as Stripe's clients send it) is accepted too.
pub fn idempotency_key(request: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = request.headers().get_all(IDEMPOTENCY_KEY_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::BadRequest(
            "Idempotency-Key may only be given once".into(),
        ));
    }
    let text = value.to_str().map_err(|_| {
        ApiError::BadRequest("Idempotency-Key must be visible ASCII characters only".into())
    })?;
    let text = text.trim();
    let unquoted = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    Ok(Some(IdempotencyKey::parse(unquoted)?))
}

/// `scope#<hex sha256 of caller and key>`: the caller and key are length-prefixed, so no two
/// different pairs give the same input, and the record does not spell out either.
fn record_id(scope: &str, user: &UserId, key: &IdempotencyKey) -> String {
    let mut hasher = Sha256::new();
    hasher.update((user.as_str().len() as u64).to_be_bytes());
    hasher.update(user.as_str().as_bytes());
    hasher.update(key.as_str().as_bytes());
    format!("{scope}#{}", hex(&hasher.finalize()))
}

fn payload_hash<P: Serialize + ?Sized>(scope: &str, payload: &P) -> Result<String, ApiError> {
    let json = serde_json::to_vec(payload).map_err(|error| ApiError::Internal(Box::new(error)))?;
    let mut hasher = Sha256::new();
    hasher.update(scope.as_bytes());
    hasher.update([0]);
    hasher.update(&json);
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Until the invocation's deadline (a retry cannot be running this attempt after it), or a fixed
/// bound when the deadline is unknown.
fn in_progress_until(request: &Request, now: Timestamp) -> Timestamp {
    let now_ms = u64::try_from(now.unix_millis()).unwrap_or(0);
    let deadline = request
        .lambda_context_ref()
        .map(|context| context.deadline)
        .filter(|&deadline| deadline > now_ms)
        .map(|deadline| Duration::from_millis(deadline - now_ms))
        .filter(|remaining| *remaining <= Duration::from_secs(15 * 60));
    now.plus(deadline.map_or(FALLBACK_IN_PROGRESS, |remaining| {
        remaining + DEADLINE_MARGIN
    }))
}

fn record(response: &Response<Body>) -> RecordedResponse {
    let headers = RECORDED_HEADERS
        .iter()
        .filter_map(|&name| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Body::Empty => String::new(),
        // Body is non-exhaustive; our handlers only ever answer with text.
        _ => String::new(),
    };
    RecordedResponse {
        status: response.status().as_u16(),
        headers,
        body,
    }
}

fn replay(recorded: &RecordedResponse) -> Response<Body> {
    let status = StatusCode::from_u16(recorded.status).unwrap_or(StatusCode::OK);
    let mut response = with_common_headers(status, Body::Text(recorded.body.clone()), false);
    let headers = response.headers_mut();
    for (name, value) in &recorded.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::header;
    use notes_domain::testing::UntouchableStore;

    fn request_with_keys(keys: &[&[u8]]) -> Request {
        let mut request = Request::new(Body::Empty);
        for key in keys {
            request.headers_mut().append(
                IDEMPOTENCY_KEY_HEADER,
                HeaderValue::from_bytes(key).unwrap(),
            );
        }
        request
    }

    #[test]
    fn keys_are_read_quoted_or_bare_once() {
        assert_eq!(idempotency_key(&request_with_keys(&[])).unwrap(), None);
        for (sent, expected) in [
            (&b"abc-123"[..], "abc-123"),
            (b"\"abc-123\"", "abc-123"),
            (b"  abc  ", "abc"),
        ] {
            let key = idempotency_key(&request_with_keys(&[sent]))
                .unwrap()
                .unwrap();
            assert_eq!(key.as_str(), expected);
        }
        let long = "k".repeat(256);
        for bad in [
            &[&b""[..]][..],
            &[b"\"\""],
            &[b"a b"],
            &[b"caf\xc3\xa9"],
            &[long.as_bytes()],
            &[b"one", b"two"],
        ] {
            let error = idempotency_key(&request_with_keys(bad)).unwrap_err();
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{bad:?}");
            assert!(error.to_string().contains("Idempotency-Key"), "{error}");
        }
    }

    #[test]
    fn records_are_scoped_to_function_and_caller_and_hide_both() {
        let alice = UserId::parse("alice").unwrap();
        let bob = UserId::parse("bob").unwrap();
        let key = IdempotencyKey::parse("k1").unwrap();
        let id = record_id("post", &alice, &key);
        assert!(id.starts_with("post#") && id.len() == 5 + 64, "{id}");
        assert!(!id.contains("alice") && !id.contains("k1"));
        assert_ne!(id, record_id("post", &bob, &key));
        assert_ne!(id, record_id("createUpdate", &alice, &key));
        assert_ne!(
            record_id(
                "post",
                &UserId::parse("ab").unwrap(),
                &IdempotencyKey::parse("c").unwrap()
            ),
            record_id(
                "post",
                &UserId::parse("a").unwrap(),
                &IdempotencyKey::parse("bc").unwrap()
            ),
        );
        assert_eq!(
            payload_hash("post", &("t", "c")).unwrap(),
            payload_hash("post", &("t", "c")).unwrap()
        );
        assert_ne!(
            payload_hash("post", &("t", "c")).unwrap(),
            payload_hash("post", &("t", "d")).unwrap()
        );
    }

    #[test]
    fn a_replay_is_the_recorded_response_marked_as_such() {
        let mut original =
            with_common_headers(StatusCode::CREATED, Body::Text(r#"{"id":7}"#.into()), true);
        original
            .headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/Prod/post/7"));
        let replayed = replay(&record(&original));
        assert_eq!(replayed.status(), StatusCode::CREATED);
        assert_eq!(replayed.body(), original.body());
        for name in [
            header::CONTENT_TYPE,
            header::LOCATION,
            header::CACHE_CONTROL,
        ] {
            assert_eq!(
                replayed.headers()[&name],
                original.headers()[&name],
                "{name}"
            );
        }
        assert_eq!(replayed.headers()[REPLAYED_HEADER], "true");
        assert!(!original.headers().contains_key(REPLAYED_HEADER));
    }

    #[test]
    fn in_progress_lasts_until_the_deadline_or_a_fixed_bound() {
        let now = Timestamp::now();
        let request = Request::new(Body::Empty);
        assert_eq!(
            in_progress_until(&request, now),
            now.plus(FALLBACK_IN_PROGRESS)
        );
        let mut context = lambda_http::Context::default();
        context.deadline = u64::try_from(now.unix_millis()).unwrap() + 4_000;
        let request = Request::new(Body::Empty).with_lambda_context(context);
        assert_eq!(
            in_progress_until(&request, now),
            now.plus(Duration::from_millis(5_000))
        );
    }

    #[tokio::test]
    async fn without_a_key_the_store_is_not_involved_and_a_bad_key_runs_nothing() {
        let idempotency = Idempotency::new(UntouchableStore::default(), DEFAULT_WINDOW);
        let user = UserId::parse("alice").unwrap();
        let response = idempotency
            .run(&request_with_keys(&[]), "post", &user, &1, async {
                Ok(with_common_headers(StatusCode::CREATED, Body::Empty, false))
            })
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(idempotency.store.calls(), 0);

        let mut ran = false;
        let error = idempotency
            .run(&request_with_keys(&[b"a b"]), "post", &user, &1, async {
                ran = true;
                Ok(with_common_headers(StatusCode::CREATED, Body::Empty, false))
            })
            .await
            .unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(!ran, "the work must not run with an invalid key");
        assert_eq!(idempotency.store.calls(), 0);
    }

    #[test]
    fn the_window_is_a_bounded_number_of_seconds() {
        assert_eq!(parse_window(None).unwrap(), DEFAULT_WINDOW);
        assert_eq!(
            parse_window(Some(" 120 ".into())).unwrap(),
            Duration::from_secs(120)
        );
        for bad in ["59", "604801", "1h", "-1", "1.5"] {
            let error = parse_window(Some(bad.into())).unwrap_err().to_string();
            assert!(error.contains(WINDOW_VARIABLE), "{bad}: {error}");
        }
    }
}
