//! The authorizer's own Lambda Runtime API client: the loop that asks Lambda for the next event,
//! runs the handler on it and posts the answer
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>).
//!
//! Written out rather than taken from lambda_runtime because of what that crate links: its hyper
//! client. `cargo lambda build --release` builds every function in one cargo invocation, cargo
//! unifies features across them, and the AWS SDK's HTTP client turns on hyper's HTTP/2 and proxy
//! support, which lambda_runtime then carried into the authorizer: 2,576,840 bytes built alone,
//! 3,079,960 built with the other functions, half a megabyte it never runs. The Runtime API is
//! plain HTTP/1.1 on loopback; ureq, already linked for the JWKS fetch, speaks it, and no feature
//! the other functions enable reaches it. It blocks, which suits a sandbox that serves one
//! invocation at a time, and there is no async runtime to start at init.
//!
//! What lambda_runtime 1.5 does, this does too: one invocation at a time; the same
//! per-invocation span (`Lambda runtime invoke` with `requestId` and `xrayTraceId`), so the JSON
//! log lines look the same and all carry the request id; the same error wire format; the
//! invocation id echoed back; panics caught per invocation; a failing Runtime API ends the loop.
//! Where it differs, it fails closed or keeps serving: an event that is not JSON or is larger than
//! [`MAX_EVENT_BYTES`], and a handler that panicked, are answered `Unauthorized`; an event without
//! a request id is skipped instead of ending the process; the trace id is never exported as
//! `_X_AMZN_TRACE_ID` (setting environment variables at run time is unsound).

use std::panic::{self, AssertUnwindSafe};

use serde::Serialize;
use serde_json::Value;
use ureq::http::HeaderMap;

use crate::Unauthorized;

/// API Gateway's TOKEN events are a few hundred bytes plus a token of at most 8 KiB: anything near
/// this size is not one, and is refused before it is parsed.
pub const MAX_EVENT_BYTES: u64 = 1024 * 1024;

/// The input and output buffers of each connection (and the largest response head accepted).
/// ureq's default is 128 KiB each, for messages whose heads are a few hundred bytes; pages of
/// buffers touched at init are page faults in a cold start (the authorizer's process went from 376
/// to 252 faults with this, the hello world's takes 207; `make bench`). Bodies stream through
/// the buffers, so an event or a JWKS may still be larger.
pub(crate) const BUFFER_BYTES: usize = 16 * 1024;

const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
const DEADLINE_MS: &str = "lambda-runtime-deadline-ms";
const INVOKED_FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
const TRACE_ID: &str = "lambda-runtime-trace-id";
const INVOCATION_ID: &str = "lambda-runtime-invocation-id";
const FUNCTION_ERROR_TYPE: &str = "lambda-runtime-function-error-type";

/// The error type lambda_runtime 1.5 puts in the header of every invocation error (the body
/// carries the real one); kept so that Lambda reports our errors exactly as before.
const INVOCATION_ERROR_TYPE: &str = "unhandled";
/// The error type of a failed init, as lambda_runtime reports it.
pub const INIT_ERROR_TYPE: &str = "Runtime.InitError";

/// The body of every error posted to the Runtime API.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody<'a> {
    pub(crate) error_type: &'a str,
    pub(crate) error_message: &'a str,
}

/// What the Runtime API says about an invocation, besides the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// `Lambda-Runtime-Aws-Request-Id`: where the answer goes, and on every log line.
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms`: when Lambda stops the invocation, in ms since the epoch.
    pub deadline_ms: Option<u64>,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: Option<String>,
    /// `Lambda-Runtime-Trace-Id`: logged as the span's `xrayTraceId`, nothing else.
    pub xray_trace_id: Option<String>,
    /// `Lambda-Runtime-Invocation-Id`, echoed back with the answer so that Lambda can refuse an
    /// answer to an invocation that has already timed out.
    pub invocation_id: Option<String>,
}

impl Context {
    /// `None` without a usable request id: there would be nowhere to post the answer.
    fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        Some(Self {
            request_id: text(REQUEST_ID)?,
            deadline_ms: text(DEADLINE_MS).and_then(|ms| ms.parse().ok()),
            invoked_function_arn: text(INVOKED_FUNCTION_ARN),
            xray_trace_id: text(TRACE_ID),
            invocation_id: text(INVOCATION_ID),
        })
    }

    /// lambda_runtime's per-invocation span, field for field, so that every line logged while
    /// an invocation is handled carries its request id.
    fn span(&self) -> tracing::Span {
        match &self.xray_trace_id {
            Some(trace_id) => tracing::info_span!(
                "Lambda runtime invoke",
                requestId = self.request_id.as_str(),
                xrayTraceId = trace_id.as_str()
            ),
            None => {
                tracing::info_span!(
                    "Lambda runtime invoke",
                    requestId = self.request_id.as_str()
                )
            }
        }
    }
}

/// Why the loop stopped, or the Runtime API could not be used at all.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "AWS_LAMBDA_RUNTIME_API is not set: this binary runs under the Lambda Runtime API (in \
         Lambda, or locally under an emulator such as the devkit's LambdaSandbox)"
    )]
    NotInLambda,
    #[error("the Lambda Runtime API request {request} failed: {source}")]
    Transport {
        request: &'static str,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("the Lambda Runtime API answered {request} with HTTP {status}")]
    Status { request: &'static str, status: u16 },
}

fn transport(request: &'static str) -> impl FnOnce(ureq::Error) -> RuntimeError {
    move |source| RuntimeError::Transport {
        request,
        source: Box::new(source),
    }
}

/// A client of one Runtime API endpoint.
#[derive(Debug, Clone)]
pub struct RuntimeApi {
    /// `http://{AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`.
    base_url: String,
    agent: ureq::Agent,
}

impl RuntimeApi {
    /// The endpoint Lambda names in `AWS_LAMBDA_RUNTIME_API`, read once, at init.
    pub fn from_env() -> Result<Self, RuntimeError> {
        std::env::var("AWS_LAMBDA_RUNTIME_API")
            .ok()
            .map(|address| address.trim().to_owned())
            .filter(|address| !address.is_empty())
            .map(|address| Self::new(&address))
            .ok_or(RuntimeError::NotInLambda)
    }

    /// A client of the Runtime API at `address` (`host:port`).
    pub fn new(address: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            // `next` waits for as long as no event comes (the sandbox may even be frozen
            // meanwhile): no timeout of any kind, which is ureq's default, stated because it
            // matters.
            .timeout_global(None)
            // The Runtime API is on loopback: never through a proxy the environment may name.
            .proxy(None)
            // Statuses are handled here: an error status on `next` ends the loop, one on a
            // posted answer is logged (as lambda_runtime does).
            .http_status_as_error(false)
            .input_buffer_size(BUFFER_BYTES)
            .output_buffer_size(BUFFER_BYTES)
            .max_response_header_size(BUFFER_BYTES)
            .build()
            .new_agent();
        // Lambda names `host:port`; emulators may give a whole base URL instead (cargo lambda
        // watch: `http://[::]:9000/.rt`), which lambda_runtime accepts too.
        let base = if address.contains("://") {
            address.trim_end_matches('/').to_owned()
        } else {
            format!("http://{address}")
        };
        Self {
            base_url: format!("{base}/2018-06-01/runtime"),
            agent,
        }
    }

    /// Reports a failed init (`POST /runtime/init/error`), after which the process should exit.
    pub fn init_error(&self, message: &str) -> Result<(), RuntimeError> {
        let body = json_bytes(&ErrorBody {
            error_type: INIT_ERROR_TYPE,
            error_message: message,
        });
        let response = self
            .agent
            .post(&format!("{}/init/error", self.base_url))
            .header(FUNCTION_ERROR_TYPE, INIT_ERROR_TYPE)
            .send(&body[..])
            .map_err(transport("init/error"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(RuntimeError::Status {
                request: "init/error",
                status: status.as_u16(),
            })
        }
    }

    /// Serves invocations one after the other, for as long as the Runtime API answers; returns
    /// only the error that ended the loop.
    pub fn run<T, H>(&self, mut handler: H) -> RuntimeError
    where
        T: Serialize,
        H: FnMut(Value, &Context) -> Result<T, Unauthorized>,
    {
        loop {
            if let Err(error) = self.serve_next(&mut handler) {
                return error;
            }
        }
    }

    /// Waits for one invocation, answers it, and returns.
    fn serve_next<T, H>(&self, handler: &mut H) -> Result<(), RuntimeError>
    where
        T: Serialize,
        H: FnMut(Value, &Context) -> Result<T, Unauthorized>,
    {
        let mut next = self
            .agent
            .get(&format!("{}/invocation/next", self.base_url))
            .call()
            .map_err(transport("invocation/next"))?;
        if !next.status().is_success() {
            return Err(RuntimeError::Status {
                request: "invocation/next",
                status: next.status().as_u16(),
            });
        }
        let Some(context) = Context::from_headers(next.headers()) else {
            // Nowhere to post an answer: Lambda times the invocation out, the sandbox serves on.
            tracing::error!("an invocation without Lambda-Runtime-Aws-Request-Id was skipped");
            return Ok(());
        };
        let span = context.span();
        let _in_span = span.enter();
        let answer = match next
            .body_mut()
            .with_config()
            .limit(MAX_EVENT_BYTES)
            .read_to_vec()
        {
            Ok(event) => answer(&event, &context, handler),
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                tracing::warn!(
                    limit = MAX_EVENT_BYTES,
                    "event larger than any TOKEN authorizer event"
                );
                Err(Unauthorized)
            }
            Err(error) => return Err(transport("invocation/next")(error)),
        };
        self.post_answer(&context, answer)
    }

    /// Posts the handler's response, or the error, for the invocation `context` names.
    fn post_answer(
        &self,
        context: &Context,
        answer: Result<Vec<u8>, Unauthorized>,
    ) -> Result<(), RuntimeError> {
        let (which, label, body, error_type) = match answer {
            Ok(response) => ("response", "invocation/response", response, None),
            Err(Unauthorized) => (
                "error",
                "invocation/error",
                json_bytes(&Unauthorized),
                Some(INVOCATION_ERROR_TYPE),
            ),
        };
        let mut request = self.agent.post(&format!(
            "{}/invocation/{}/{which}",
            self.base_url,
            path_segment(&context.request_id)
        ));
        if let Some(error_type) = error_type {
            request = request.header(FUNCTION_ERROR_TYPE, error_type);
        }
        if let Some(invocation_id) = &context.invocation_id {
            request = request.header(INVOCATION_ID, invocation_id);
        }
        let posted = request.send(&body[..]).map_err(transport(label))?;
        if !posted.status().is_success() {
            // As lambda_runtime: the invocation is lost (a 410 means it timed out meanwhile), the
            // sandbox is not.
            tracing::error!(
                status = posted.status().as_u16(),
                request = label,
                "the Lambda Runtime API refused the answer"
            );
        }
        Ok(())
    }
}

/// Runs the handler on one event: the JSON response to post, or `Unauthorized`.
fn answer<T, H>(event: &[u8], context: &Context, handler: &mut H) -> Result<Vec<u8>, Unauthorized>
where
    T: Serialize,
    H: FnMut(Value, &Context) -> Result<T, Unauthorized>,
{
    let event: Value = serde_json::from_slice(event).map_err(|error| {
        // serde_json reports a position and a category, never the input: safe to log.
        tracing::warn!(%error, "event is not JSON");
        Unauthorized
    })?;
    // Unwind safety: what a panic can leave half-updated is the verifier's key cache, behind a
    // mutex that poisons, and a poisoned cache serves no key, so later tokens fail closed.
    let response = panic::catch_unwind(AssertUnwindSafe(|| handler(event, context)))
        .unwrap_or_else(|_| {
            tracing::error!("the handler panicked");
            Err(Unauthorized)
        })?;
    serde_json::to_vec(&response).map_err(|error| {
        tracing::error!(%error, "the response could not be serialised");
        Unauthorized
    })
}

/// An error body (or any value of ours) as JSON. Strings into memory: this cannot fail.
fn json_bytes(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The request id as one URL path segment. Lambda's are UUIDs; anything else is percent-encoded
/// rather than trusted to build the URL (dots too, so that no id is a `..` segment).
fn path_segment(request_id: &str) -> String {
    let mut segment = String::with_capacity(request_id.len());
    for byte in request_id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') {
            segment.push(char::from(byte));
        } else {
            segment.push_str(&format!("%{byte:02X}"));
        }
    }
    segment
}

/// Replaces the default panic hook, which prints the panic message: a message can quote the data
/// the code choked on (slicing a `str` at a bad index quotes the string, a token included), and
/// tokens never reach the log. This one logs where the panic happened, inside the invocation's
/// span; the invocation is then answered `Unauthorized` (see [`RuntimeApi::run`]).
pub fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|location| format!("{}:{}", location.file(), location.line()));
        tracing::error!(
            location = location.as_deref().unwrap_or("unknown"),
            "panicked"
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::thread;

    use serde_json::json;

    /// What the fake hands out on one `GET /invocation/next`.
    struct Next {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    }

    fn event(request_id: &str, event: &Value) -> Next {
        Next {
            status: 200,
            headers: vec![(REQUEST_ID, request_id.to_owned())],
            body: event.to_string().into_bytes(),
        }
    }

    /// A request the runtime made, as the fake received it.
    #[derive(Debug)]
    struct Received {
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Received {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        }

        fn json(&self) -> Value {
            serde_json::from_slice(&self.body).unwrap()
        }

        /// `METHOD path`, relative to the Runtime API's base URL.
        fn line(&self) -> String {
            let path = self.path.trim_start_matches("/2018-06-01/runtime/");
            format!("{} {path}", self.method)
        }
    }

    /// A fake Runtime API on a free loopback port: hands out `events` in order, one per
    /// `next`, answers everything posted with `post_status`, and closes the `next` after the last
    /// event unanswered, which ends [`RuntimeApi::run`]. It also stops after an `init/error`,
    /// like Lambda (the process exits then). Returns the address and, once it has stopped, what
    /// it received.
    fn fake_runtime_api(
        events: Vec<Next>,
        post_status: u16,
    ) -> (String, thread::JoinHandle<Vec<Received>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = thread::spawn(move || {
            let mut events = events.into_iter();
            let mut received = Vec::new();
            for stream in listener.incoming() {
                let stream = stream.unwrap();
                // A connection closed without a request is the test saying it is done.
                let Some(request) = read_request(&stream) else {
                    return received;
                };
                let path = request.path.clone();
                received.push(request);
                if path.ends_with("/invocation/next") {
                    match events.next() {
                        Some(next) => respond(&stream, next.status, &next.headers, &next.body),
                        None => return received,
                    }
                } else {
                    respond(&stream, post_status, &[], br#"{"status":"OK"}"#);
                    if path.ends_with("/init/error") {
                        return received;
                    }
                }
            }
            received
        });
        (address, server)
    }

    fn read_request(stream: &TcpStream) -> Option<Received> {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap();
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .map_or(0, |(_, value)| value.parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        Some(Received {
            method,
            path,
            headers,
            body,
        })
    }

    /// Stops the fake if it is still waiting (the loop ended early), and returns what it got.
    fn stop(address: &str, server: thread::JoinHandle<Vec<Received>>) -> Vec<Received> {
        drop(TcpStream::connect(address));
        server.join().unwrap()
    }

    fn respond(mut stream: &TcpStream, status: u16, headers: &[(&str, String)], body: &[u8]) {
        let mut head = format!(
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        // The runtime may stop reading early (an oversized event): not the fake's problem.
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body);
    }

    /// Runs the loop against the fake until the fake stops; returns what it received.
    fn run_against(
        events: Vec<Next>,
        handler: impl FnMut(Value, &Context) -> Result<Value, Unauthorized>,
    ) -> (Vec<Received>, RuntimeError) {
        let (address, server) = fake_runtime_api(events, 202);
        let error = RuntimeApi::new(&address).run(handler);
        (stop(&address, server), error)
    }

    const UNAUTHORIZED_BODY: &str = r#"{"errorType":"Unauthorized","errorMessage":"Unauthorized"}"#;

    /// An invocation error exactly as lambda_runtime 1.5 posted a `Diagnostic`.
    fn assert_unauthorized(received: &Received, request_id: &str, why: &str) {
        assert_eq!(
            received.line(),
            format!("POST invocation/{request_id}/error"),
            "{why}"
        );
        assert_eq!(
            std::str::from_utf8(&received.body).unwrap(),
            UNAUTHORIZED_BODY,
            "{why}"
        );
        assert_eq!(
            received.header(FUNCTION_ERROR_TYPE),
            Some("unhandled"),
            "{why}"
        );
    }

    #[test]
    fn posts_the_handlers_response_or_its_error_and_ends_when_the_api_goes_away() {
        let (received, error) = run_against(
            vec![
                event("req-1", &json!({"allow": true})),
                event("req-2", &json!({"allow": false})),
            ],
            |event, _| match event["allow"].as_bool() {
                Some(true) => Ok(json!({"principalId": "alice"})),
                _ => Err(Unauthorized),
            },
        );
        let lines: Vec<String> = received.iter().map(Received::line).collect();
        assert_eq!(
            lines,
            [
                "GET invocation/next",
                "POST invocation/req-1/response",
                "GET invocation/next",
                "POST invocation/req-2/error",
                "GET invocation/next",
            ]
        );
        assert_eq!(received[1].json(), json!({"principalId": "alice"}));
        assert_eq!(received[1].header(FUNCTION_ERROR_TYPE), None);
        assert_unauthorized(&received[3], "req-2", "handler error");
        assert!(
            matches!(
                error,
                RuntimeError::Transport {
                    request: "invocation/next",
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn events_that_are_not_json_or_too_large_are_refused_without_calling_the_handler() {
        let oversized = vec![b' '; usize::try_from(MAX_EVENT_BYTES).unwrap() + 1];
        let cases: [(&str, Vec<u8>, &str); 4] = [
            ("not-json", b"Bearer eyJ".to_vec(), "not JSON"),
            ("empty", Vec::new(), "an empty body"),
            (
                "truncated",
                br#"{"type":"TOKEN""#.to_vec(),
                "truncated JSON",
            ),
            ("oversized", oversized, "over MAX_EVENT_BYTES"),
        ];
        let mut events: Vec<Next> = cases
            .iter()
            .map(|(id, body, _)| Next {
                status: 200,
                headers: vec![(REQUEST_ID, (*id).to_owned())],
                body: body.clone(),
            })
            .collect();
        events.push(event("fine", &json!({})));
        let mut calls = 0;
        let (received, _) = run_against(events, |_, _| {
            calls += 1;
            Ok(json!("ok"))
        });
        let posts: Vec<&Received> = received.iter().filter(|r| r.method == "POST").collect();
        for ((id, _, why), posted) in cases.iter().zip(&posts) {
            assert_unauthorized(posted, id, why);
        }
        assert_eq!(posts.len(), cases.len() + 1);
        assert_eq!(posts[cases.len()].line(), "POST invocation/fine/response");
        assert_eq!(calls, 1, "only the JSON event reached the handler");
    }

    #[test]
    fn a_panicking_handler_is_answered_unauthorized_and_the_loop_goes_on() {
        let mut calls = 0;
        let (received, _) = run_against(
            vec![event("boom", &json!({})), event("after", &json!({}))],
            |_, _| {
                calls += 1;
                if calls == 1 {
                    panic!("a bug in the handler");
                }
                Ok(json!("still serving"))
            },
        );
        let posts: Vec<&Received> = received.iter().filter(|r| r.method == "POST").collect();
        assert_eq!(posts.len(), 2);
        assert_unauthorized(posts[0], "boom", "panicking handler");
        assert_eq!(posts[1].line(), "POST invocation/after/response");
        assert_eq!(posts[1].json(), json!("still serving"));
    }

    #[test]
    fn an_invocation_without_a_request_id_is_skipped_and_the_next_is_served() {
        let missing = Next {
            status: 200,
            headers: vec![(DEADLINE_MS, "1700000000000".to_owned())],
            body: b"{}".to_vec(),
        };
        let blank = Next {
            status: 200,
            headers: vec![(REQUEST_ID, "  ".to_owned())],
            body: b"{}".to_vec(),
        };
        let mut calls = 0;
        let (received, _) = run_against(vec![missing, blank, event("r", &json!({}))], |_, _| {
            calls += 1;
            Ok(json!(null))
        });
        let lines: Vec<String> = received.iter().map(Received::line).collect();
        assert_eq!(
            lines,
            [
                "GET invocation/next",
                "GET invocation/next",
                "GET invocation/next",
                "POST invocation/r/response",
                "GET invocation/next",
            ]
        );
        assert_eq!(calls, 1);
    }

    #[test]
    fn the_handler_gets_the_invocations_context_and_the_invocation_id_is_echoed() {
        let headers = vec![
            (
                REQUEST_ID,
                "8476a536-e9f4-11e8-9739-2dfe598c3fcd".to_owned(),
            ),
            (DEADLINE_MS, "1542409706888".to_owned()),
            (
                INVOKED_FUNCTION_ARN,
                "arn:aws:lambda:us-east-1:123456789012:function:authorizer".to_owned(),
            ),
            (
                TRACE_ID,
                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
                    .to_owned(),
            ),
            (INVOCATION_ID, "inv-1".to_owned()),
        ];
        let mut seen = None;
        let (received, _) = run_against(
            vec![Next {
                status: 200,
                headers,
                body: b"{}".to_vec(),
            }],
            |_, context| {
                seen = Some(context.clone());
                Err(Unauthorized)
            },
        );
        assert_eq!(
            seen,
            Some(Context {
                request_id: "8476a536-e9f4-11e8-9739-2dfe598c3fcd".to_owned(),
                deadline_ms: Some(1_542_409_706_888),
                invoked_function_arn: Some(
                    "arn:aws:lambda:us-east-1:123456789012:function:authorizer".to_owned()
                ),
                xray_trace_id: Some(
                    "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
                        .to_owned()
                ),
                invocation_id: Some("inv-1".to_owned()),
            })
        );
        assert_eq!(received[1].header(INVOCATION_ID), Some("inv-1"));
    }

    #[test]
    fn a_refused_answer_is_logged_and_the_loop_goes_on() {
        let (address, server) = fake_runtime_api(
            vec![event("late", &json!({})), event("next", &json!({}))],
            410,
        );
        let mut calls = 0;
        let error = RuntimeApi::new(&address).run(|_, _| {
            calls += 1;
            Ok(json!({}))
        });
        let received = stop(&address, server);
        assert_eq!(calls, 2, "both invocations were handled");
        assert_eq!(received.len(), 5);
        assert!(matches!(error, RuntimeError::Transport { .. }), "{error}");
    }

    #[test]
    fn the_runtime_api_failing_ends_the_loop() {
        let refused = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().to_string()
        };
        let error = RuntimeApi::new(&refused).run(|_, _| Ok(json!({})));
        assert!(
            matches!(
                error,
                RuntimeError::Transport {
                    request: "invocation/next",
                    ..
                }
            ),
            "connection refused: {error}"
        );

        let (received, error) = run_against(
            vec![Next {
                status: 500,
                headers: vec![(REQUEST_ID, "r".to_owned())],
                body: Vec::new(),
            }],
            |_, _| Ok(json!({})),
        );
        assert!(
            matches!(
                error,
                RuntimeError::Status {
                    request: "invocation/next",
                    status: 500
                }
            ),
            "HTTP 500 on next: {error}"
        );
        assert_eq!(received.len(), 1, "nothing posted after a failed next");
    }

    #[test]
    fn init_errors_are_posted_as_lambda_runtime_does() {
        let (address, server) = fake_runtime_api(Vec::new(), 202);
        RuntimeApi::new(&address)
            .init_error("environment variable USER_POOL_ID: not set")
            .unwrap();
        let received = stop(&address, server);
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].line(), "POST init/error");
        assert_eq!(
            received[0].header(FUNCTION_ERROR_TYPE),
            Some("Runtime.InitError")
        );
        assert_eq!(
            received[0].json(),
            json!({
                "errorType": "Runtime.InitError",
                "errorMessage": "environment variable USER_POOL_ID: not set"
            })
        );
    }

    #[test]
    fn request_ids_are_one_path_segment() {
        let cases = [
            (
                "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
                "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
                "a UUID",
            ),
            ("a/b", "a%2Fb", "a slash"),
            ("..", "%2E%2E", "a parent segment"),
            ("a b?c#d", "a%20b%3Fc%23d", "URL syntax"),
            ("é", "%C3%A9", "non-ASCII"),
        ];
        for (request_id, segment, why) in cases {
            assert_eq!(path_segment(request_id), segment, "{why}");
        }
    }

    #[test]
    fn unauthorized_serialises_to_lambda_runtimes_diagnostic() {
        assert_eq!(
            serde_json::to_string(&Unauthorized).unwrap(),
            UNAUTHORIZED_BODY
        );
    }
}
