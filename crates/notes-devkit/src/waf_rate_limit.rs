//! The local AWS WAF rate-based rules of template.yaml's `RestApiWebAcl`: each caller (the
//! `Authorization` header's exact value, or the client's IP address for a request without one)
//! may send at most `requests` per `window`; beyond it the request is answered 429 before API
//! Gateway, the authorizer or a function sees it, with the web ACL's own JSON body and
//! `Retry-After`. The local API (`make dev`) puts it in front of the REST API, as the template
//! associates the web ACL with the REST stage only (WAF cannot be attached to an HTTP API).
//!
//! What differs from WAF, on purpose: WAF counts in the background and starts blocking some
//! seconds after a caller crosses the limit, so a fast caller gets a few more requests through;
//! here the request that crosses it is the first refused, so tests are exact. Both count every
//! request a caller sends, refused ones too, over a rolling window (here in whole seconds).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// WAF's default evaluation window (`EvaluationWindowSec: 300`), which the template keeps: its
/// limit parameter is named per five minutes.
pub const WAF_WINDOW: Duration = Duration::from_secs(300);

/// The limit `make dev` applies unless told otherwise: far above what a person, the browser
/// tests or Schemathesis (one token, at most three minutes) send through one token, so only a
/// test that sets a lower one meets it. The deployed default is the template's
/// `PerCallerRequestsPer5Minutes` (see [`tests`]).
pub const DEFAULT_LOCAL_REQUESTS_PER_WINDOW: u32 = 100_000;

/// The `Retry-After` of a refused request: the whole window, as the web ACL's fixed custom
/// response says; a caller that waits that long without sending has a whole budget again.
pub const RETRY_AFTER_SECONDS: u64 = WAF_WINDOW.as_secs();

/// One limit: at most `requests` per `window` for each caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

impl RateLimit {
    /// `requests` per WAF's five-minute window.
    pub fn per_five_minutes(requests: u32) -> Self {
        Self {
            requests,
            window: WAF_WINDOW,
        }
    }

    /// The JSON body of a refused request: the template's `CustomResponseBodies` content with
    /// this limit in it.
    pub fn refusal_body(&self) -> String {
        refusal_body(self.requests)
    }
}

/// The web ACL's 429 body for a limit of `requests` per five minutes (template.yaml's
/// `RestApiWebAcl` `CustomResponseBodies` `TooManyRequests`, with the parameter substituted;
/// a unit test holds them equal).
pub fn refusal_body(requests: u32) -> String {
    format!(
        "{{\"message\": \"Too many requests: at most {requests} every 5 minutes from one \
         signed-in session or, without one, one address. Wait a few minutes, then try again.\"}}"
    )
}

/// Who a request is counted against, as the web ACL's two rules key it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// The `Authorization` header's value, as sent (WAF's text transformation `NONE`).
    Authorization(Vec<u8>),
    /// The client's address, for a request without an `Authorization` header (or an empty one).
    Address(IpAddr),
}

impl Caller {
    /// The caller of a request with this `Authorization` header (if any) from `peer`.
    pub fn of(authorization: Option<&[u8]>, peer: IpAddr) -> Self {
        match authorization {
            Some(value) if !value.is_empty() => Self::Authorization(value.to_vec()),
            _ => Self::Address(peer),
        }
    }
}

/// The requests of one caller in the window: (whole seconds since the limiter started, count).
#[derive(Default)]
struct Counts {
    seconds: VecDeque<(u64, u32)>,
    total: u64,
}

impl Counts {
    fn forget_before(&mut self, oldest: u64) {
        while let Some(&(second, count)) = self.seconds.front() {
            if second >= oldest {
                break;
            }
            self.total -= u64::from(count);
            self.seconds.pop_front();
        }
    }

    fn add(&mut self, second: u64) {
        match self.seconds.back_mut() {
            Some((last, count)) if *last == second => *count = count.saturating_add(1),
            _ => self.seconds.push_back((second, 1)),
        }
        self.total += 1;
    }
}

/// The callers' counts. Memory is bounded by the window: at most one entry per second per
/// caller, and callers silent for a whole window are dropped.
pub struct RateLimiter {
    limit: RateLimit,
    started: Instant,
    callers: Mutex<HashMap<Caller, Counts>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the callers: their keys are tokens.
        f.debug_struct("RateLimiter")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// Sweep silent callers once the map holds this many, so a client that sends a new
/// `Authorization` value with every request cannot grow it without bound.
const SWEEP_AT_CALLERS: usize = 10_000;

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            started: Instant::now(),
            callers: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Counts a request of `caller` now; `true` if it is within the limit, `false` if it is to
    /// be refused.
    pub fn admit(&self, caller: Caller) -> bool {
        self.admit_at(caller, Instant::now())
    }

    fn admit_at(&self, caller: Caller, now: Instant) -> bool {
        let second = now.saturating_duration_since(self.started).as_secs();
        let window = self.limit.window.as_secs().max(1);
        // The window is the current second and the window-1 before it.
        let oldest = (second + 1).saturating_sub(window);
        // A poisoned lock means another request panicked mid-count; the counts are still
        // consistent enough for a local limit, so keep serving rather than refuse everyone.
        let mut callers = match self.callers.lock() {
            Ok(callers) => callers,
            Err(poisoned) => poisoned.into_inner(),
        };
        if callers.len() >= SWEEP_AT_CALLERS {
            callers.retain(|_, counts| {
                counts.forget_before(oldest);
                counts.total > 0
            });
        }
        let counts = callers.entry(caller).or_default();
        counts.forget_before(oldest);
        counts.add(second);
        counts.total <= u64::from(self.limit.requests)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use std::net::Ipv4Addr;

    fn limiter(requests: u32, seconds: u64) -> RateLimiter {
        RateLimiter::new(RateLimit {
            requests,
            window: Duration::from_secs(seconds),
        })
    }

    fn token(value: &str) -> Caller {
        Caller::Authorization(value.as_bytes().to_vec())
    }

    #[test]
    fn one_caller_over_the_limit_is_refused_and_the_others_are_not() {
        let limiter = limiter(3, 300);
        let now = limiter.started;
        for n in 1..=3 {
            assert!(limiter.admit_at(token("a"), now), "request {n} of 3");
        }
        assert!(!limiter.admit_at(token("a"), now), "the 4th is refused");
        assert!(
            limiter.admit_at(token("b"), now),
            "another token has its own budget"
        );
        let address = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(limiter.admit_at(Caller::Address(address), now));
    }

    #[test]
    fn the_window_rolls_and_refused_requests_count() {
        let limiter = limiter(2, 10);
        let at = |s: u64| limiter.started + Duration::from_secs(s);
        assert!(limiter.admit_at(token("a"), at(0)));
        assert!(limiter.admit_at(token("a"), at(5)));
        assert!(!limiter.admit_at(token("a"), at(9)), "3 in 10 s");
        // At 10 s the request of second 0 has left the window, but the refused one of 9 s
        // still counts (WAF counts every request it sees): 5 s and 9 s fill it.
        assert!(!limiter.admit_at(token("a"), at(10)));
        // At 20 s the window (11 to 20 s) holds this request only.
        assert!(limiter.admit_at(token("a"), at(20)));
    }

    #[test]
    fn the_caller_is_the_authorization_value_else_the_address() {
        let address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(
            Caller::of(Some(b"Bearer x"), address),
            token("Bearer x"),
            "the header as sent, no transformation"
        );
        assert_ne!(Caller::of(Some(b"bearer x"), address), token("Bearer x"));
        assert_eq!(Caller::of(None, address), Caller::Address(address));
        assert_eq!(Caller::of(Some(b""), address), Caller::Address(address));
    }

    #[test]
    fn silent_callers_are_swept() {
        let limiter = limiter(5, 10);
        let at = |s: u64| limiter.started + Duration::from_secs(s);
        for n in 0..SWEEP_AT_CALLERS {
            assert!(limiter.admit_at(token(&n.to_string()), at(0)));
        }
        assert!(limiter.admit_at(token("late"), at(30)));
        assert_eq!(limiter.callers.lock().unwrap().len(), 1);
    }

    /// The template's web ACL and this emulation answer alike: the same default window, the
    /// same body, the same Retry-After, and the local default above the deployed one.
    #[test]
    fn answers_as_the_templates_web_acl() {
        let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(
            &std::fs::read_to_string(crate::tables::template_path()).unwrap(),
        )
        .unwrap();
        let deployed: u32 = template["Parameters"]["PerCallerRequestsPer5Minutes"]["Default"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(deployed > 0, "the web ACL is on by default");
        assert!(DEFAULT_LOCAL_REQUESTS_PER_WINDOW > deployed);
        let acl = &template["Resources"]["RestApiWebAcl"]["Properties"];
        let body = &acl["CustomResponseBodies"]["TooManyRequests"];
        assert_eq!(body["ContentType"].as_str(), Some("APPLICATION_JSON"));
        let content = match &body["Content"] {
            serde_yaml_ng::Value::Tagged(sub) => sub.value.as_str().unwrap().to_owned(),
            other => panic!("Content is a !Sub: {other:?}"),
        };
        for requests in [10, deployed] {
            let substituted =
                content.replace("${PerCallerRequestsPer5Minutes}", &requests.to_string());
            assert_eq!(substituted, refusal_body(requests));
            let parsed: serde_json::Value = serde_json::from_str(&substituted).unwrap();
            assert!(parsed["message"].as_str().unwrap().contains("Wait"));
        }
        let rules = acl["Rules"].as_sequence().unwrap();
        assert_eq!(rules.len(), 2, "one rule per token, one per address");
        for rule in rules {
            let statement = &rule["Statement"]["RateBasedStatement"];
            assert_eq!(
                statement["EvaluationWindowSec"].as_u64(),
                Some(WAF_WINDOW.as_secs())
            );
            let response = &rule["Action"]["Block"]["CustomResponse"];
            assert_eq!(response["ResponseCode"].as_u64(), Some(429));
            assert_eq!(
                response["CustomResponseBodyKey"].as_str(),
                Some("TooManyRequests")
            );
            let retry_after = response["ResponseHeaders"]
                .as_sequence()
                .unwrap()
                .iter()
                .find(|h| h["Name"].as_str() == Some("Retry-After"))
                .and_then(|h| h["Value"].as_str())
                .unwrap();
            assert_eq!(retry_after, RETRY_AFTER_SECONDS.to_string());
        }
    }
}
