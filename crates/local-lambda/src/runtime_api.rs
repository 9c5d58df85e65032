//! A Lambda Runtime API emulator: runs a real function binary as one Lambda sandbox on loopback.
//!
//! The function binaries are built with `lambda_runtime`, which talks HTTP to the Runtime API
//! named by `AWS_LAMBDA_RUNTIME_API`. Serving that protocol (rather than calling the handler in
//! process) tests what is deployed: `main`, configuration from the environment, client
//! construction at init, JSON (de)serialisation of events and responses, and the error path.
//!
//! Like a real sandbox, one process serves one invocation at a time: invocations are queued
//! FIFO and handed out on each `GET /invocation/next`.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use local_aws::error::{DevkitError, tail_lines};

/// How long [`LambdaSandbox::invoke`] waits for an answer; also the deadline handed to the
/// function. Generous compared with the template's 10 s, because a debug build on a loaded
/// machine is slower than a release build in Lambda.
pub const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, as in the template's `Globals`.
pub const MEMORY_SIZE_MB: u32 = 256;

const REGION: &str = "us-east-1";
const ACCOUNT_ID: &str = "123456789012";

/// Lambda accepts 6 MB payloads; leave room for the JSON envelope of an error.
const MAX_BODY_BYTES: usize = 7 * 1024 * 1024;

/// How many lines of function output an error message carries.
const LOG_TAIL_LINES: usize = 200;

/// The result of one invocation.
#[derive(Debug)]
pub struct Invocation {
    pub outcome: Outcome,
    /// From the moment the event was handed to the function to the moment its result was
    /// posted: the handler's duration as Lambda would bill it, without queueing time.
    pub duration: Duration,
}

/// What the function posted for an invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST /invocation/{id}/response`, body parsed as JSON (an empty body is `null`).
    Response(serde_json::Value),
    /// `POST /invocation/{id}/error`.
    Error {
        error_type: String,
        error_message: String,
    },
}

/// What the emulator received for one invocation, before the body is interpreted.
#[derive(Debug)]
enum Posted {
    Response(Bytes),
    Error {
        error_type: String,
        error_message: String,
    },
}

#[derive(Debug)]
struct PostedResult {
    posted: Posted,
    duration: Duration,
}

/// An invocation waiting for the function's next `GET /invocation/next`.
#[derive(Debug)]
struct QueuedInvocation {
    request_id: String,
    payload: Bytes,
    result: oneshot::Sender<PostedResult>,
}

/// An invocation handed out and not yet answered.
#[derive(Debug)]
struct InFlight {
    handed_out_at: Instant,
    result: oneshot::Sender<PostedResult>,
}

/// `POST /init/error` payload.
#[derive(Debug, Clone)]
struct InitError {
    error_type: String,
    error_message: String,
}

/// State shared by the HTTP handlers.
#[derive(Debug)]
struct Emulator {
    function_arn: String,
    spawned_at: Instant,
    /// The receiving end of the FIFO. Behind an async mutex so that only one `next` request
    /// waits on it at a time, which keeps the order strict even if a runtime polled twice.
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<QueuedInvocation>>,
    in_flight: Mutex<HashMap<String, InFlight>>,
    /// When the function first asked for an event, i.e. finished its init.
    first_next_at: OnceLock<Instant>,
    /// When the function first posted a result (response or error): the end of a cold start.
    first_result_at: OnceLock<Instant>,
    init_error: watch::Sender<Option<InitError>>,
}

/// `{"errorType": ..., "errorMessage": ...}` as posted by runtimes; both fields optional so a
/// sloppy runtime still gets its message through.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(rename = "errorType", default)]
    error_type: Option<String>,
    #[serde(rename = "errorMessage", default)]
    error_message: Option<String>,
}

/// Locks a std mutex even if a previous holder panicked: the data (a log buffer, a map of
/// pending invocations) stays usable, and test tooling must not turn one panic into many.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One emulated Runtime API plus one function process, like one Lambda sandbox.
#[derive(Debug)]
pub struct LambdaSandbox {
    function_name: String,
    runtime_api: SocketAddr,
    emulator: Arc<Emulator>,
    queue: mpsc::UnboundedSender<QueuedInvocation>,
    logs: Arc<Mutex<String>>,
    /// `Some(description)` once the process has exited and its output has been read.
    exit: watch::Receiver<Option<String>>,
    /// Dropping or sending on this kills the process.
    stop_process: Option<oneshot::Sender<()>>,
    process_task: Option<JoinHandle<()>>,
    server_task: JoinHandle<()>,
    /// Invocations queued so far.
    invocations: std::sync::atomic::AtomicUsize,
    /// The function's process id, while it runs.
    pid: Option<u32>,
}

impl LambdaSandbox {
    /// Spawns `binary` (`kill_on_drop`) with the given extra environment plus the Lambda
    /// environment: `AWS_LAMBDA_RUNTIME_API` (this emulator), `AWS_LAMBDA_FUNCTION_NAME` (the
    /// file stem of `binary`), memory size, version, log group and stream, `JSON` log format,
    /// `AWS_REGION`/`AWS_DEFAULT_REGION=us-east-1` unless `env` sets them, and
    /// `AWS_LAMBDA_LOG_LEVEL=INFO` unless `RUST_LOG` or `AWS_LAMBDA_LOG_LEVEL` is set (here or
    /// in `env`). The rest of the environment is inherited. stdout and stderr are captured
    /// (see [`Self::logs`]).
    pub async fn start(binary: &Path, env: &[(String, String)]) -> Result<Self, DevkitError> {
        Self::start_with_args(binary, &[], env).await
    }

    /// [`Self::start`] with command-line arguments, for stand-ins such as `sh -c '...'`.
    pub async fn start_with_args(
        binary: &Path,
        args: &[String],
        env: &[(String, String)],
    ) -> Result<Self, DevkitError> {
        let function_name = binary
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .filter(|stem| !stem.is_empty())
            .unwrap_or_else(|| "function".to_owned());
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(DevkitError::BindRuntimeApi)?;
        let runtime_api = listener.local_addr().map_err(DevkitError::BindRuntimeApi)?;

        let (queue, queue_receiver) = mpsc::unbounded_channel();
        let (init_error, _) = watch::channel(None);
        let emulator = Arc::new(Emulator {
            function_arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"),
            spawned_at: Instant::now(),
            queue: tokio::sync::Mutex::new(queue_receiver),
            in_flight: Mutex::new(HashMap::new()),
            first_next_at: OnceLock::new(),
            first_result_at: OnceLock::new(),
            init_error,
        });
        // The listener is already bound, so a function that starts faster than the server task
        // simply waits in the accept backlog.
        let server = axum::serve(listener, router(Arc::clone(&emulator)));
        let server_task = tokio::spawn(async move {
            if let Err(error) = server.await {
                tracing::warn!(%error, "Runtime API emulator stopped");
            }
        });

        let mut command = Command::new(binary);
        command
            .args(args)
            .env("AWS_REGION", REGION)
            .env("AWS_DEFAULT_REGION", REGION);
        // lambda_runtime reads AWS_LAMBDA_LOG_LEVEL before RUST_LOG: only default it when the
        // developer has not asked for a level either way.
        let log_level_given = ["AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"]
            .iter()
            .any(|name| std::env::var_os(name).is_some() || env.iter().any(|(key, _)| key == name));
        if !log_level_given {
            command.env("AWS_LAMBDA_LOG_LEVEL", "INFO");
        }
        command.envs(env.iter().map(|(key, value)| (key, value)));
        // Set last: these describe the sandbox itself and must not be overridden by accident.
        command
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &function_name)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                MEMORY_SIZE_MB.to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function_name}"),
            )
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("[$LATEST]{}", uuid::Uuid::new_v4().simple()),
            )
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(source) => {
                server_task.abort();
                return Err(DevkitError::SpawnFunction {
                    binary: binary.to_path_buf(),
                    source,
                });
            }
        };

        let pid = child.id();
        let logs = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(tokio::spawn(capture(
                stdout,
                Arc::clone(&logs),
                function_name.clone(),
            )));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(tokio::spawn(capture(
                stderr,
                Arc::clone(&logs),
                function_name.clone(),
            )));
        }

        let (exit_sender, exit) = watch::channel(None);
        let (stop_process, stop_requested) = oneshot::channel::<()>();
        let process_task = tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                // A send or a dropped sender: either way the sandbox is going away.
                _ = stop_requested => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            // Let the readers drain the pipes, so the exit report carries the last words. A
            // grandchild could keep a pipe open forever, hence the bound.
            for reader in readers {
                let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
            }
            let description = match status {
                Ok(status) => status.to_string(),
                Err(error) => format!("exit status unknown: {error}"),
            };
            let _ = exit_sender.send(Some(description));
        });

        Ok(Self {
            function_name,
            runtime_api,
            emulator,
            queue,
            logs,
            exit,
            stop_process: Some(stop_process),
            process_task: Some(process_task),
            server_task,
            invocations: std::sync::atomic::AtomicUsize::new(0),
            pid,
        })
    }

    /// The function name (the binary's file stem).
    pub fn function_name(&self) -> &str {
        &self.function_name
    }

    /// The emulator's address, as given to the function in `AWS_LAMBDA_RUNTIME_API`.
    pub fn runtime_api_address(&self) -> SocketAddr {
        self.runtime_api
    }

    /// Queues one invocation and waits (up to [`INVOKE_TIMEOUT`]) for the function to post its
    /// response or error.
    ///
    /// Fails, with the exit status or init error and the captured output, if the process exits
    /// or reports an init error first. May be called concurrently: invocations queue, FIFO.
    pub async fn invoke(&self, payload: &serde_json::Value) -> Result<Invocation, DevkitError> {
        self.invoke_with_timeout(payload, INVOKE_TIMEOUT).await
    }

    /// How many invocations were queued on this sandbox so far.
    pub fn invocations(&self) -> usize {
        self.invocations.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// [`Self::invoke`] with another timeout (counted from the call, queueing included).
    pub async fn invoke_with_timeout(
        &self,
        payload: &serde_json::Value,
        timeout: Duration,
    ) -> Result<Invocation, DevkitError> {
        self.invocations
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (result_sender, result) = oneshot::channel();
        let queued = QueuedInvocation {
            request_id: uuid::Uuid::new_v4().to_string(),
            payload: Bytes::from(payload.to_string()),
            result: result_sender,
        };
        if self.queue.send(queued).is_err() {
            return Err(self.stopped());
        }

        let mut init_error = self.emulator.init_error.subscribe();
        let mut exit = self.exit.clone();
        // Biased towards the result: a function that answers and then exits has answered.
        // The arms only say what happened: the watch values are read after the select, so no
        // borrow of them is held across an await (the future must stay Send).
        enum Waited<T> {
            Posted(T),
            InitFailed,
            Exited,
            TimedOut,
        }
        let waited = tokio::select! {
            biased;
            posted = result => Waited::Posted(posted),
            _ = init_error.wait_for(Option::is_some) => Waited::InitFailed,
            _ = exit.wait_for(Option::is_some) => Waited::Exited,
            () = tokio::time::sleep(timeout) => Waited::TimedOut,
        };
        let posted = match waited {
            Waited::Posted(posted) => posted.map_err(|_| self.stopped())?,
            Waited::InitFailed => {
                let failure = self.emulator.init_error.borrow().clone();
                return Err(self.init_failed(failure).await);
            }
            Waited::Exited => {
                let status = self.exit.borrow().clone().unwrap_or_default();
                return Err(self.exited(status));
            }
            Waited::TimedOut => {
                return Err(DevkitError::InvokeTimeout {
                    function: self.function_name.clone(),
                    waited: timeout,
                    logs: self.log_tail(),
                });
            }
        };

        let outcome = match posted.posted {
            Posted::Response(body) if body.iter().all(u8::is_ascii_whitespace) => {
                Outcome::Response(serde_json::Value::Null)
            }
            Posted::Response(body) => {
                Outcome::Response(serde_json::from_slice(&body).map_err(|source| {
                    DevkitError::InvalidFunctionResponse {
                        function: self.function_name.clone(),
                        body: String::from_utf8_lossy(&body).into_owned(),
                        source,
                    }
                })?)
            }
            Posted::Error {
                error_type,
                error_message,
            } => Outcome::Error {
                error_type,
                error_message,
            },
        };
        Ok(Invocation {
            outcome,
            duration: posted.duration,
        })
    }

    /// Everything the function printed so far (stdout and stderr, interleaved by line).
    pub fn logs(&self) -> String {
        lock(&self.logs).clone()
    }

    /// Time from spawn to the first `GET /invocation/next` (the function's init), once known.
    pub fn init_duration(&self) -> Option<Duration> {
        self.emulator
            .first_next_at
            .get()
            .map(|first_next_at| first_next_at.duration_since(self.emulator.spawned_at))
    }

    /// Time from spawn to the first result posted: a cold start as the caller sees it (process
    /// start, init, and the first invocation), once known.
    pub fn cold_start(&self) -> Option<Duration> {
        self.emulator
            .first_result_at
            .get()
            .map(|at| at.duration_since(self.emulator.spawned_at))
    }

    /// The function's process id.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The process's peak resident set size so far (`VmHWM`, Linux only), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid?)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Kills the function process, waits for it, and stops the emulator.
    pub async fn stop(mut self) {
        if let Some(stop_process) = self.stop_process.take() {
            let _ = stop_process.send(());
        }
        if let Some(process_task) = self.process_task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), process_task).await;
        }
        self.server_task.abort();
    }

    fn log_tail(&self) -> String {
        tail_lines(&self.logs(), LOG_TAIL_LINES)
    }

    fn stopped(&self) -> DevkitError {
        DevkitError::SandboxStopped {
            function: self.function_name.clone(),
        }
    }

    fn exited(&self, status: String) -> DevkitError {
        DevkitError::FunctionExited {
            function: self.function_name.clone(),
            status,
            logs: self.log_tail(),
        }
    }

    async fn init_failed(&self, failure: Option<InitError>) -> DevkitError {
        // A runtime exits right after reporting an init error; give it a moment so the report
        // includes its last output.
        let mut exit = self.exit.clone();
        let _ = tokio::time::timeout(Duration::from_secs(2), exit.wait_for(Option::is_some)).await;
        let failure = failure.unwrap_or(InitError {
            error_type: "Unknown".to_owned(),
            error_message: String::new(),
        });
        DevkitError::FunctionInitError {
            function: self.function_name.clone(),
            error_type: failure.error_type,
            error_message: failure.error_message,
            logs: self.log_tail(),
        }
    }
}

impl Drop for LambdaSandbox {
    fn drop(&mut self) {
        // Dropping `stop_process` makes the process task kill the function; the child is also
        // `kill_on_drop` in case the runtime itself is shutting down.
        drop(self.stop_process.take());
        self.server_task.abort();
    }
}

/// Appends each line of `stream` to `logs` (and to tracing, for `RUST_LOG=debug` sessions).
async fn capture(stream: impl AsyncRead + Unpin, logs: Arc<Mutex<String>>, function_name: String) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                tracing::debug!(function = %function_name, "{text}");
                let mut logs = lock(&logs);
                logs.push_str(text);
                logs.push('\n');
            }
        }
    }
}

fn router(emulator: Arc<Emulator>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/response",
            post(invocation_response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(emulator)
}

/// The Runtime API's error shape, for requests the emulator rejects.
fn runtime_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "errorType": error_type, "errorMessage": message })),
    )
        .into_response()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({ "status": "OK" })),
    )
        .into_response()
}

/// `GET /invocation/next`: long-polls until an invocation is queued.
async fn next_invocation(State(emulator): State<Arc<Emulator>>) -> Response {
    let _ = emulator.first_next_at.get_or_init(Instant::now);
    let next = emulator.queue.lock().await.recv().await;
    let Some(invocation) = next else {
        return runtime_error(
            StatusCode::GONE,
            "SandboxStopped",
            "the sandbox is shutting down",
        );
    };

    let deadline_ms = (SystemTime::now() + INVOKE_TIMEOUT)
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let trace_id = trace_id();
    lock(&emulator.in_flight).insert(
        invocation.request_id.clone(),
        InFlight {
            handed_out_at: Instant::now(),
            result: invocation.result,
        },
    );

    let mut headers = HeaderMap::new();
    let mut insert = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    insert("lambda-runtime-aws-request-id", &invocation.request_id);
    insert("lambda-runtime-deadline-ms", &deadline_ms.to_string());
    insert(
        "lambda-runtime-invoked-function-arn",
        &emulator.function_arn,
    );
    insert("lambda-runtime-trace-id", &trace_id);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    (StatusCode::OK, headers, invocation.payload).into_response()
}

/// An X-Ray trace header in the format Lambda uses (`Root=1-<epoch hex>-<96-bit hex>`).
fn trace_id() -> String {
    let epoch_seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    // 64 random hex digits: 24 for the root id, an independent 16 for the parent segment.
    let random = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let root = random.get(..24).unwrap_or_default();
    let parent = random.get(32..48).unwrap_or_default();
    format!("Root=1-{epoch_seconds:08x}-{root};Parent={parent};Sampled=0")
}

fn take_in_flight(emulator: &Emulator, request_id: &str) -> Option<InFlight> {
    lock(&emulator.in_flight).remove(request_id)
}

fn unknown_request_id(request_id: &str) -> Response {
    runtime_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        &format!("no invocation {request_id} is waiting for a result"),
    )
}

/// `POST /invocation/{id}/response`.
async fn invocation_response(
    State(emulator): State<Arc<Emulator>>,
    UrlPath(request_id): UrlPath<String>,
    body: Bytes,
) -> Response {
    let Some(in_flight) = take_in_flight(&emulator, &request_id) else {
        return unknown_request_id(&request_id);
    };
    let _ = emulator.first_result_at.get_or_init(Instant::now);
    // The caller may have timed out and gone away; the result is then simply dropped.
    let _ = in_flight.result.send(PostedResult {
        posted: Posted::Response(body),
        duration: in_flight.handed_out_at.elapsed(),
    });
    accepted()
}

/// Reads `{"errorType","errorMessage"}`, falling back to the error-type header and the raw
/// body, so that whatever a runtime sends ends up in the test's failure message.
fn parse_error_body(headers: &HeaderMap, body: &[u8]) -> InitError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let header_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    InitError {
        error_type: parsed
            .error_type
            .or(header_type)
            .unwrap_or_else(|| "Unknown".to_owned()),
        error_message: parsed
            .error_message
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
    }
}

/// `POST /invocation/{id}/error`.
async fn invocation_error(
    State(emulator): State<Arc<Emulator>>,
    UrlPath(request_id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(in_flight) = take_in_flight(&emulator, &request_id) else {
        return unknown_request_id(&request_id);
    };
    let _ = emulator.first_result_at.get_or_init(Instant::now);
    let error = parse_error_body(&headers, &body);
    let _ = in_flight.result.send(PostedResult {
        posted: Posted::Error {
            error_type: error.error_type,
            error_message: error.error_message,
        },
        duration: in_flight.handed_out_at.elapsed(),
    });
    accepted()
}

/// `POST /init/error`.
async fn init_error(
    State(emulator): State<Arc<Emulator>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error = parse_error_body(&headers, &body);
    emulator.init_error.send_replace(Some(error));
    accepted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_look_like_lambda_ones() {
        let trace = trace_id();
        let parts: Vec<&str> = trace.split(';').collect();
        assert_eq!(parts.len(), 3, "{trace}");
        let root = parts.first().copied().unwrap_or_default();
        let root_fields: Vec<&str> = root.trim_start_matches("Root=").split('-').collect();
        assert_eq!(
            root_fields
                .iter()
                .map(|field| field.len())
                .collect::<Vec<_>>(),
            [1, 8, 24],
            "{trace}"
        );
        assert!(
            parts
                .get(1)
                .is_some_and(|part| part.len() == "Parent=".len() + 16)
        );
    }

    #[test]
    fn error_bodies_are_read_leniently() {
        let with_header = {
            let mut headers = HeaderMap::new();
            headers.insert(
                "lambda-runtime-function-error-type",
                HeaderValue::from_static("Runtime.InitError"),
            );
            headers
        };
        let cases: [(&HeaderMap, &[u8], &str, &str, &str); 3] = [
            (
                &HeaderMap::new(),
                br#"{"errorType":"Boom","errorMessage":"it broke"}"#,
                "Boom",
                "it broke",
                "the documented shape",
            ),
            (
                &with_header,
                br#"{"errorMessage":"no type"}"#,
                "Runtime.InitError",
                "no type",
                "type from the header",
            ),
            (
                &HeaderMap::new(),
                b"plain text",
                "Unknown",
                "plain text",
                "not JSON at all",
            ),
        ];
        for (headers, body, error_type, error_message, why) in cases {
            let error = parse_error_body(headers, body);
            assert_eq!(error.error_type, error_type, "{why}");
            assert_eq!(error.error_message, error_message, "{why}");
        }
    }
}
