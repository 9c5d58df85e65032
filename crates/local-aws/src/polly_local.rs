//! The local stand-in for Amazon Polly: `SynthesizeSpeech` on Polly's REST wire API (restJson1),
//! answered with real speech that espeak-ng speaks and lame encodes to mp3.
//!
//! moto's Polly answers every request with 8 placeholder bytes, which no player accepts and no
//! test can tell from real audio; so this is one of the stand-ins we write ourselves. The dictate
//! function reaches it through the real `aws-sdk-polly` with `AWS_ENDPOINT_URL_POLLY` set to
//! [`PollyLocal::endpoint`]: it cannot tell it from Polly where it can observe Polly at all.
//!
//! What it does like Polly:
//!
//! - `POST /v1/speech` with the JSON members of `SynthesizeSpeech`; a 200 carries the mp3 bytes
//!   with `Content-Type: audio/mpeg`, `x-amzn-RequestCharacters` and `x-amzn-RequestId`;
//! - it accepts the voices of the domain's voice table ([`notes_domain::Voice`]), refuses an
//!   engine the voice does not have (`EngineNotSupportedException`; no `Engine` means `standard`,
//!   as in Polly), and text over [`MAX_CHARS_PER_SYNTHESIS`] characters
//!   (`TextLengthExceededException`);
//! - errors come in the restJson1 shape the SDK parses: the status, an `x-amzn-ErrorType` header
//!   and a JSON body with `__type` and `message`; the SDK takes the code from the header;
//! - the sample rate defaults to Polly's for mp3 (22050 Hz standard, 24000 Hz neural) and
//!   `SampleRate` picks another of Polly's mp3 rates (8000, 16000, 22050, 24000).
//!
//! What it does not do like Polly:
//!
//! - mp3 only: `ogg_vorbis`, `pcm` and `json` (speech marks) are refused with a
//!   `ValidationException` that says so, as are SSML (`TextType: ssml`) and lexicons;
//! - the voice is espeak-ng's, chosen by language only (`espeak_voice` below): Joanna and Joey
//!   sound the same, and the engine changes nothing but the default sample rate;
//! - blank text is refused (`ValidationException`) rather than read as silence: the dictate
//!   function must never send it, and a stand-in that accepted it would hide that bug;
//! - no signature check, no throttling; the character count is Unicode scalar values, which is
//!   what Polly bills for plain text.
//!
//! The text of a request never appears in a log line or a process's command line: espeak-ng
//! reads it on its standard input, and the log has the voice, language, character count, size
//! and time of each synthesis.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

use notes_domain::{Engine, MAX_CHARS_PER_SYNTHESIS, Voice};

use crate::DevkitError;
use crate::error::tail_lines;

/// Polly's REST path of `SynthesizeSpeech`.
pub const SPEECH_PATH: &str = "/v1/speech";
/// `{"syntheses": N, "characters": M}`, for shell scripts that check whether Polly was called.
pub const STATS_PATH: &str = "/_local/stats";
/// How long one synthesis may take. 3000 characters take espeak-ng and lame about two seconds on
/// one core; the margin is for a loaded two-core CI machine.
pub const SYNTHESIS_TIMEOUT: Duration = Duration::from_secs(60);
/// Syntheses at a time. Each one keeps a core busy, and a dev machine or CI runner has few; the
/// rest wait, as Polly's own requests would queue behind its rate limit.
pub const MAX_CONCURRENT_SYNTHESES: usize = 2;

const ESPEAK: &str = "espeak-ng";
const LAME: &str = "lame";
/// What a language espeak-ng has no voice for is read with.
const FALLBACK_ESPEAK_VOICE: &str = "en-us";
/// Constant bitrate of the mp3: Polly's own mp3 is about 48 kbit/s mono, so sizes stay realistic
/// for tests of size limits.
const MP3_BITRATE_KBPS: &str = "48";
/// How long `espeak-ng --voices` may take at start.
const VOICE_LIST_TIMEOUT: Duration = Duration::from_secs(20);
const STDERR_TAIL_LINES: usize = 20;

/// Where espeak-ng names a variety differently from Polly or has none: the espeak-ng voices to
/// try, best first, after the Polly code itself. Checked against espeak-ng 1.51 (Debian 12); a
/// later espeak-ng that adds a variety (say `en-au`) gets it through the Polly code itself.
const NEAREST_ESPEAK_VOICES: &[(&str, &[&str])] = &[
    // No Welsh English in espeak-ng: of its British accents (RP, Lancaster, Scottish, West
    // Midlands), the West Midlands one is from the region bordering Wales.
    ("en-GB-WLS", &["en-gb-x-gbcwmd", "en-gb"]),
    // No Australian, New Zealand, South African, Irish or Indian English: all are non-rhotic
    // and closer to British English than to espeak-ng's American default.
    ("en-AU", &["en-gb"]),
    ("en-NZ", &["en-gb"]),
    ("en-ZA", &["en-gb"]),
    ("en-IE", &["en-gb"]),
    ("en-IN", &["en-gb"]),
    // Mexican and US Spanish: espeak-ng's Latin American Spanish.
    ("es-MX", &["es-419", "es"]),
    ("es-US", &["es-419", "es"]),
    // No Canadian French, and no plain `fr` either (only fr-fr, fr-be, fr-ch).
    ("fr-CA", &["fr-fr"]),
    // Polly's Modern Standard Arabic: espeak-ng's one Arabic voice.
    ("arb", &["ar"]),
];

/// A running local Polly. Dropping it, or [`PollyLocal::stop`], shuts it down: the port closes
/// at once, idle keep-alive connections are closed, and a synthesis in flight still gets its
/// answer.
#[derive(Debug)]
pub struct PollyLocal {
    address: SocketAddr,
    state: Arc<PollyState>,
    /// Sending or dropping it starts axum's graceful shutdown. Graceful rather than aborting the
    /// server task: axum serves each connection in a task of its own, and only the graceful path
    /// closes them, so an SDK client's pooled connection cannot outlive an "outage".
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

#[derive(Debug)]
struct PollyState {
    /// The languages of espeak-ng's own voices, lower case (`en-us`, `en-gb-x-gbcwmd`, `de`...).
    espeak_languages: HashSet<String>,
    permits: Semaphore,
    syntheses: AtomicUsize,
    characters: AtomicUsize,
}

impl PollyLocal {
    /// Serves on `127.0.0.1:port`: `None` or `Some(0)` for a free port; a fixed port lets a test
    /// stop the server and start it again on the same endpoint (an outage and a recovery).
    /// Fails if espeak-ng or lame is missing ([`check_tools`]).
    pub async fn start(port: Option<u16>) -> Result<Self, DevkitError> {
        check_tools()?;
        let espeak_languages = list_espeak_languages().await?;
        let port = port.unwrap_or(0);
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|source| DevkitError::BindPollyLocal { port, source })?;
        let address = listener
            .local_addr()
            .map_err(|source| DevkitError::BindPollyLocal { port, source })?;
        let state = Arc::new(PollyState {
            espeak_languages,
            permits: Semaphore::new(MAX_CONCURRENT_SYNTHESES),
            syntheses: AtomicUsize::new(0),
            characters: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route(SPEECH_PATH, post(synthesize_speech))
            .route(STATS_PATH, get(stats))
            .fallback(unknown_operation)
            .with_state(Arc::clone(&state));
        let (shutdown, shutdown_requested) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // A send and a dropped sender both mean "stop".
            let signal = async {
                let _sent_or_dropped = shutdown_requested.await;
            };
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::error!(%error, "local Polly stopped");
            }
        });
        tracing::debug!(
            %address,
            espeak_languages = state.espeak_languages.len(),
            "local Polly is ready"
        );
        Ok(Self {
            address,
            state,
            shutdown,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_POLLY`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Successful syntheses since this server started (a restarted server counts from 0).
    pub fn synthesis_count(&self) -> usize {
        self.state.syntheses.load(Ordering::SeqCst)
    }

    /// Characters synthesized since this server started, as billed by Polly.
    pub fn characters(&self) -> usize {
        self.state.characters.load(Ordering::SeqCst)
    }

    /// Shuts down and returns once the port is closed and every connection has ended, so that
    /// the port can be bound again at once and no client still holds a connection to it. Waits
    /// for a synthesis in flight (at most [`SYNTHESIS_TIMEOUT`]).
    pub async fn stop(self) {
        let Self {
            shutdown, mut task, ..
        } = self;
        let _receiver_gone = shutdown.send(());
        // axum drops the listener as soon as it sees the signal, then waits for the connections.
        if tokio::time::timeout(SYNTHESIS_TIMEOUT + Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
            let _cancelled = task.await;
        }
    }
}

/// Checks that `espeak-ng` and `lame` are on PATH, naming the ones that are not.
pub fn check_tools() -> Result<(), DevkitError> {
    let missing: Vec<&str> = [ESPEAK, LAME]
        .into_iter()
        .filter(|tool| !is_on_path(tool))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DevkitError::SpeechToolsNotFound {
            missing: missing.join(" and "),
        })
    }
}

fn is_on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| is_executable_file(&dir.join(program)))
    })
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

async fn list_espeak_languages() -> Result<HashSet<String>, DevkitError> {
    let problem = |problem: String| DevkitError::SpeechVoices { problem };
    let run = Command::new(ESPEAK)
        .arg("--voices")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(VOICE_LIST_TIMEOUT, run)
        .await
        .map_err(|_| {
            problem(format!(
                "`{ESPEAK} --voices` took more than {VOICE_LIST_TIMEOUT:?}"
            ))
        })?
        .map_err(|error| problem(format!("could not run `{ESPEAK} --voices`: {error}")))?;
    if !output.status.success() {
        return Err(problem(format!(
            "`{ESPEAK} --voices` exited with {}; its stderr:\n{}",
            output.status,
            tail_lines(&String::from_utf8_lossy(&output.stderr), STDERR_TAIL_LINES)
        )));
    }
    let languages = parse_voice_list(&String::from_utf8_lossy(&output.stdout));
    if languages.is_empty() {
        return Err(problem(format!(
            "`{ESPEAK} --voices` listed no voices (is the espeak-ng-data package complete?)"
        )));
    }
    Ok(languages)
}

/// The languages of `espeak-ng --voices`, whose columns are
/// `Pty Language Age/Gender VoiceName File [Other Languages]`.
fn parse_voice_list(listing: &str) -> HashSet<String> {
    listing
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut columns = line.split_whitespace();
            let language = columns.nth(1)?;
            let file = columns.nth(2);
            // MBROLA voices (files under `mb/`) are listed whether or not the separate mbrola
            // program and its voice data are installed; the Debian packages we install do not
            // bring them, so only espeak-ng's own voices count.
            if file.is_some_and(|file| file.starts_with("mb/")) {
                return None;
            }
            Some(language.to_ascii_lowercase())
        })
        .collect()
}

/// The espeak-ng voice for a Polly language code: the code itself if espeak-ng has it (`en-us`,
/// `en-gb`, `pt-br`, `fr-be`), else the nearest variety ([`NEAREST_ESPEAK_VOICES`]), else the
/// primary language (`de-AT` → `de`, `cmn-CN` → `cmn`, `ja-JP` → `ja`), else American English.
fn espeak_voice(polly_language: &str, available: &HashSet<String>) -> String {
    let code = polly_language.to_ascii_lowercase();
    let primary = code.split('-').next().unwrap_or_default().to_owned();
    let nearest = NEAREST_ESPEAK_VOICES
        .iter()
        .find(|(polly, _)| polly.eq_ignore_ascii_case(polly_language))
        .map(|(_, voices)| *voices)
        .unwrap_or_default();
    std::iter::once(code.as_str())
        .chain(nearest.iter().copied())
        .chain(std::iter::once(primary.as_str()))
        .find(|candidate| available.contains(*candidate))
        .unwrap_or(FALLBACK_ESPEAK_VOICE)
        .to_owned()
}

/// The members of a `SynthesizeSpeech` request (restJson1 names).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireRequest {
    text: Option<String>,
    voice_id: Option<String>,
    output_format: Option<String>,
    engine: Option<String>,
    text_type: Option<String>,
    sample_rate: Option<String>,
    language_code: Option<String>,
    #[serde(default)]
    lexicon_names: Vec<String>,
    #[serde(default)]
    speech_mark_types: Vec<String>,
}

/// A request that passed validation: what to synthesize and how.
#[derive(Debug, PartialEq, Eq)]
struct SpeechRequest {
    text: String,
    voice: Voice,
    /// The request's `LanguageCode`, else the voice's language.
    language: String,
    sample_rate: u32,
    /// Billed characters.
    characters: usize,
}

/// An error answer: the status, the restJson1 error code and a message that never quotes the
/// text.
#[derive(Debug, PartialEq, Eq)]
struct PollyError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl PollyError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    fn service_failure() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceFailureException",
            "the local Polly could not synthesize speech (its log has the cause)",
        )
    }

    fn into_response(self, request_id: &str) -> Response {
        let body = json!({ "__type": self.code, "message": self.message }).to_string();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            HeaderName::from_static("x-amzn-errortype"),
            HeaderValue::from_static(self.code),
        );
        insert_request_id(&mut response, request_id);
        response
    }
}

fn insert_request_id(response: &mut Response, request_id: &str) {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-amzn-requestid"), value);
    }
}

/// Checks a request body as Polly would, in the order that makes the most specific complaint.
fn validate(body: &[u8]) -> Result<SpeechRequest, PollyError> {
    // serde_json's message can quote the offending value; the position is enough to find it.
    let request: WireRequest = serde_json::from_slice(body).map_err(|error| {
        PollyError::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            format!(
                "the body is not a SynthesizeSpeech JSON document ({:?} error at line {}, column {})",
                error.classify(),
                error.line(),
                error.column()
            ),
        )
    })?;

    match request.output_format.as_deref() {
        Some("mp3") => {}
        Some(format @ ("ogg_vorbis" | "pcm" | "json")) => {
            return Err(PollyError::validation(format!(
                "OutputFormat {format} is not served by the local Polly: it only makes mp3"
            )));
        }
        Some(_) => {
            return Err(PollyError::validation(
                "OutputFormat must be one of json, mp3, ogg_vorbis, pcm",
            ));
        }
        None => return Err(PollyError::validation("OutputFormat is required")),
    }

    let voice_id = request
        .voice_id
        .ok_or_else(|| PollyError::validation("VoiceId is required"))?;
    let voice =
        Voice::parse(&voice_id).map_err(|error| PollyError::validation(error.to_string()))?;

    match request.text_type.as_deref() {
        None | Some("text") => {}
        Some("ssml") => {
            return Err(PollyError::validation(
                "TextType ssml is not supported by the local Polly (espeak-ng reads plain text \
                 here): send TextType text",
            ));
        }
        Some(_) => return Err(PollyError::validation("TextType must be ssml or text")),
    }

    // Polly's default engine is standard, also for a voice that only has the neural one.
    let engine = match request.engine.as_deref() {
        None => Engine::Standard,
        Some(engine) => Engine::parse(engine).map_err(|_| {
            PollyError::validation(
                "Engine must be standard or neural (the engines of the local Polly's voice table)",
            )
        })?,
    };
    if voice.engine(engine) != engine {
        return Err(PollyError::new(
            StatusCode::BAD_REQUEST,
            "EngineNotSupportedException",
            format!("This voice does not support the selected engine: {engine}"),
        ));
    }

    let text = request
        .text
        .ok_or_else(|| PollyError::validation("Text is required"))?;
    if text.trim().is_empty() {
        return Err(PollyError::validation("Text must not be empty or blank"));
    }
    let characters = text.chars().count();
    if characters > MAX_CHARS_PER_SYNTHESIS {
        return Err(PollyError::new(
            StatusCode::BAD_REQUEST,
            "TextLengthExceededException",
            format!(
                "Maximum text length has been exceeded: {characters} characters, the limit is \
                 {MAX_CHARS_PER_SYNTHESIS}"
            ),
        ));
    }

    let sample_rate = match request.sample_rate.as_deref() {
        None => match engine {
            Engine::Standard => 22_050,
            Engine::Neural => 24_000,
        },
        Some("8000") => 8_000,
        Some("16000") => 16_000,
        Some("22050") => 22_050,
        Some("24000") => 24_000,
        Some(_) => {
            return Err(PollyError::new(
                StatusCode::BAD_REQUEST,
                "InvalidSampleRateException",
                "SampleRate for mp3 must be one of 8000, 16000, 22050, 24000",
            ));
        }
    };

    if !request.lexicon_names.is_empty() {
        return Err(PollyError::new(
            StatusCode::NOT_FOUND,
            "LexiconNotFoundException",
            "the local Polly stores no lexicons: send no LexiconNames",
        ));
    }
    if !request.speech_mark_types.is_empty() {
        return Err(PollyError::new(
            StatusCode::BAD_REQUEST,
            "MarksNotSupportedForFormatException",
            "SpeechMarkTypes require OutputFormat json",
        ));
    }

    let language = match request.language_code {
        None => voice.language().to_owned(),
        Some(code)
            if !code.is_empty()
                && code.len() <= 16
                && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            code
        }
        Some(_) => {
            return Err(PollyError::validation(
                "LanguageCode must be a language code such as en-US",
            ));
        }
    };

    Ok(SpeechRequest {
        text,
        voice,
        language,
        sample_rate,
        characters,
    })
}

async fn synthesize_speech(State(state): State<Arc<PollyState>>, body: Bytes) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let request = match validate(&body) {
        Ok(request) => request,
        Err(error) => {
            tracing::info!(
                request_id,
                error_type = error.code,
                message = error.message,
                "local Polly refused a request"
            );
            return error.into_response(&request_id);
        }
    };
    let espeak_voice = espeak_voice(&request.language, &state.espeak_languages);
    let started = Instant::now();
    let synthesis = async {
        // Held until the synthesis ends: the semaphore is never closed, so this only waits.
        let _permit = state
            .permits
            .acquire()
            .await
            .map_err(|_| tool_failure(ESPEAK, "the synthesis queue was closed".to_owned()))?;
        speak(&request.text, &espeak_voice, request.sample_rate).await
    };
    let outcome = match tokio::time::timeout(SYNTHESIS_TIMEOUT, synthesis).await {
        Ok(outcome) => outcome,
        // Dropping the synthesis future killed both processes (`kill_on_drop`).
        Err(_) => Err(tool_failure(
            ESPEAK,
            format!("espeak-ng and lame took more than {SYNTHESIS_TIMEOUT:?}"),
        )),
    };
    let milliseconds = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Ok(mp3) => {
            state.syntheses.fetch_add(1, Ordering::SeqCst);
            state
                .characters
                .fetch_add(request.characters, Ordering::SeqCst);
            tracing::info!(
                request_id,
                voice = request.voice.id(),
                language = request.language,
                espeak_voice,
                characters = request.characters,
                sample_rate = request.sample_rate,
                bytes = mp3.len(),
                milliseconds,
                "local Polly synthesized speech"
            );
            let mut response = Response::new(Body::from(mp3));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/mpeg"));
            headers.insert(
                HeaderName::from_static("x-amzn-requestcharacters"),
                HeaderValue::from(request.characters),
            );
            insert_request_id(&mut response, &request_id);
            response
        }
        Err(failure) => {
            tracing::error!(
                request_id,
                voice = request.voice.id(),
                language = request.language,
                espeak_voice,
                characters = request.characters,
                milliseconds,
                tool = failure.tool,
                problem = failure.problem,
                "local Polly could not synthesize speech"
            );
            PollyError::service_failure().into_response(&request_id)
        }
    }
}

async fn stats(State(state): State<Arc<PollyState>>) -> Response {
    axum::Json(json!({
        "syntheses": state.syntheses.load(Ordering::SeqCst),
        "characters": state.characters.load(Ordering::SeqCst),
    }))
    .into_response()
}

async fn unknown_operation() -> Response {
    PollyError::new(
        StatusCode::NOT_FOUND,
        "UnknownOperationException",
        format!(
            "the local Polly serves only POST {SPEECH_PATH} (SynthesizeSpeech) and GET {STATS_PATH}"
        ),
    )
    .into_response(&uuid::Uuid::new_v4().to_string())
}

/// Why espeak-ng or lame failed; logged, never sent to the caller.
#[derive(Debug)]
struct ToolFailure {
    tool: &'static str,
    problem: String,
}

fn tool_failure(tool: &'static str, problem: String) -> ToolFailure {
    ToolFailure { tool, problem }
}

/// espeak-ng speaks `text` as WAV, lame encodes it as constant-bitrate mp3 at `sample_rate`.
async fn speak(text: &str, espeak_voice: &str, sample_rate: u32) -> Result<Vec<u8>, ToolFailure> {
    // `-b 1`: the input is UTF-8 whatever the locale of the process says.
    let wav = run_tool(
        ESPEAK,
        &["-v", espeak_voice, "-b", "1", "--stdin", "--stdout"],
        text.as_bytes(),
    )
    .await?;
    let resample_khz = match sample_rate {
        8_000 => "8",
        16_000 => "16",
        24_000 => "24",
        _ => "22.05",
    };
    // `-t`: no Xing/Info frame. lame cannot seek back on a pipe to fill it in anyway, and
    // without it the pieces of a long note concatenate into a clean stream. `-q 7`: lame's
    // fast encoder (a third less CPU than its default for the same bitrate and frames; speech
    // from espeak-ng loses nothing audible), so a long note stays within the dictate function's
    // deadline on a busy machine.
    let mp3 = run_tool(
        LAME,
        &[
            "--quiet",
            "-t",
            "-q",
            "7",
            "-b",
            MP3_BITRATE_KBPS,
            "--resample",
            resample_khz,
            "-",
            "-",
        ],
        &wav,
    )
    .await?;
    if mp3.is_empty() {
        return Err(tool_failure(LAME, "wrote no audio".to_owned()));
    }
    Ok(mp3)
}

/// Runs `tool` with `input` on its standard input and returns its standard output. Input and
/// output are pumped at the same time, so that neither process blocks on a full pipe.
async fn run_tool(
    tool: &'static str,
    arguments: &[&str],
    input: &[u8],
) -> Result<Vec<u8>, ToolFailure> {
    let mut child = Command::new(tool)
        .args(arguments)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A synthesis that times out (its future dropped) must not leave the process running.
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| tool_failure(tool, format!("could not be started: {error}")))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| tool_failure(tool, "has no standard input pipe".to_owned()))?;
    let feed = async move {
        let written = stdin.write_all(input).await;
        // Closing the pipe is how both tools learn that the input is complete.
        drop(stdin);
        written
    };
    let (written, output) = tokio::join!(feed, child.wait_with_output());
    let output =
        output.map_err(|error| tool_failure(tool, format!("could not be waited for: {error}")))?;
    if !output.status.success() {
        return Err(tool_failure(
            tool,
            format!(
                "exited with {}; its stderr:\n{}",
                output.status,
                tail_lines(&String::from_utf8_lossy(&output.stderr), STDERR_TAIL_LINES)
            ),
        ));
    }
    written.map_err(|error| tool_failure(tool, format!("did not take all its input: {error}")))?;
    Ok(output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Languages `espeak-ng --voices` lists in espeak-ng 1.51 (Debian 12): every one a Polly
    /// language could map to, and the other English varieties.
    fn espeak_1_51() -> HashSet<String> {
        [
            "af",
            "am",
            "an",
            "ar",
            "as",
            "az",
            "ba",
            "be",
            "bg",
            "bn",
            "bpy",
            "bs",
            "ca",
            "cmn",
            "cmn-latn-pinyin",
            "cs",
            "cv",
            "cy",
            "da",
            "de",
            "el",
            "en-029",
            "en-gb",
            "en-gb-scotland",
            "en-gb-x-gbclan",
            "en-gb-x-gbcwmd",
            "en-gb-x-rp",
            "en-us",
            "en-us-nyc",
            "eo",
            "es",
            "es-419",
            "et",
            "eu",
            "fa",
            "fi",
            "fr-be",
            "fr-ch",
            "fr-fr",
            "ga",
            "gd",
            "he",
            "hi",
            "hr",
            "hu",
            "hy",
            "id",
            "is",
            "it",
            "ja",
            "ka",
            "kk",
            "kn",
            "ko",
            "lt",
            "lv",
            "mk",
            "ml",
            "mr",
            "ms",
            "mt",
            "nb",
            "ne",
            "nl",
            "pa",
            "pl",
            "pt",
            "pt-br",
            "ro",
            "ru",
            "sk",
            "sl",
            "sq",
            "sr",
            "sv",
            "sw",
            "ta",
            "te",
            "th",
            "tr",
            "uk",
            "ur",
            "vi",
            "yue",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect()
    }

    #[test]
    fn the_voice_list_keeps_espeak_voices_and_drops_mbrola_ones() {
        let listing = "\
Pty Language       Age/Gender VoiceName          File                 Other Languages
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 3  en-uk           --/M      english-mb-en1     mb/mb-en1            (en-gb 3)(en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  en-gb-x-gbcwmd  --/M      English_(West_Midlands) gmw/en-GB-x-gbcwmd   (en-gb 9)(en 9)
 9  en              --/F      en-german-1        mb/mb-de1-en
 5  de              --/M      German             gmw/de
";
        let mut languages: Vec<String> = parse_voice_list(listing).into_iter().collect();
        languages.sort();
        assert_eq!(languages, ["de", "en-gb", "en-gb-x-gbcwmd", "en-us"]);
    }

    #[test]
    fn polly_languages_map_to_the_nearest_espeak_voice() {
        let available = espeak_1_51();
        let cases = [
            ("en-US", "en-us", "exact"),
            ("en-GB", "en-gb", "exact"),
            ("en-GB-WLS", "en-gb-x-gbcwmd", "no Welsh English"),
            ("en-AU", "en-gb", "no Australian English"),
            ("en-IN", "en-gb", "no Indian English"),
            ("pt-BR", "pt-br", "exact"),
            ("pt-PT", "pt", "primary language"),
            ("fr-FR", "fr-fr", "exact"),
            ("fr-CA", "fr-fr", "no Canadian French and no plain fr"),
            ("es-MX", "es-419", "Latin American Spanish"),
            ("es-ES", "es", "primary language"),
            ("de-CH", "de", "primary language"),
            ("arb", "ar", "Modern Standard Arabic"),
            ("ar-AE", "ar", "primary language"),
            ("cmn-CN", "cmn", "primary language"),
            ("yue-CN", "yue", "primary language"),
            ("xx-YY", "en-us", "unknown: the fallback"),
        ];
        for (polly, expected, why) in cases {
            assert_eq!(espeak_voice(polly, &available), expected, "{polly}: {why}");
        }
        // Without the West Midlands voice, plain British English.
        let mut fewer = available.clone();
        fewer.remove("en-gb-x-gbcwmd");
        assert_eq!(espeak_voice("en-GB-WLS", &fewer), "en-gb");
    }

    #[test]
    fn every_voice_of_the_table_gets_an_espeak_voice_of_its_language() {
        let available = espeak_1_51();
        for voice in Voice::all() {
            let chosen = espeak_voice(voice.language(), &available);
            let polly_primary = voice.language().split('-').next().unwrap();
            let espeak_primary = chosen.split('-').next().unwrap();
            // `arb` is the one Polly code whose primary subtag espeak-ng spells differently.
            let expected_primary = if polly_primary == "arb" {
                "ar"
            } else {
                polly_primary
            };
            assert_eq!(
                espeak_primary,
                expected_primary,
                "{voice} ({}) is read with {chosen}",
                voice.language()
            );
        }
    }

    fn body(members: serde_json::Value) -> Vec<u8> {
        let mut request =
            json!({ "Text": "Buy milk.", "VoiceId": "Joanna", "OutputFormat": "mp3" });
        if let (Some(request), Some(members)) = (request.as_object_mut(), members.as_object()) {
            for (key, value) in members {
                request.insert(key.clone(), value.clone());
            }
        }
        request.to_string().into_bytes()
    }

    #[test]
    fn a_valid_request_gets_polly_s_defaults() {
        let request = validate(&body(json!({}))).unwrap();
        assert_eq!(request.text, "Buy milk.");
        assert_eq!(request.voice.id(), "Joanna");
        assert_eq!(request.language, "en-US");
        assert_eq!(request.sample_rate, 22_050, "standard engine by default");
        assert_eq!(request.characters, 9);

        let neural = validate(&body(json!({ "Engine": "neural", "TextType": "text" }))).unwrap();
        assert_eq!(neural.sample_rate, 24_000);
        let chosen = validate(&body(
            json!({ "SampleRate": "8000", "LanguageCode": "en-GB" }),
        ))
        .unwrap();
        assert_eq!(
            (chosen.sample_rate, chosen.language.as_str()),
            (8_000, "en-GB")
        );
        let accents = validate(&body(json!({ "Text": "ééé" }))).unwrap();
        assert_eq!(accents.characters, 3, "characters, not bytes");
    }

    #[test]
    fn invalid_requests_get_polly_s_error_codes() {
        let cases: Vec<(Vec<u8>, StatusCode, &str, &str)> = vec![
            (
                b"{not json".to_vec(),
                StatusCode::BAD_REQUEST,
                "SerializationException",
                "malformed",
            ),
            (
                body(json!({ "OutputFormat": "ogg_vorbis" })),
                StatusCode::BAD_REQUEST,
                "ValidationException",
                "ogg",
            ),
            (
                body(json!({ "OutputFormat": "wav" })),
                StatusCode::BAD_REQUEST,
                "ValidationException",
                "wav",
            ),
            (
                body(json!({ "VoiceId": "Bob" })),
                StatusCode::BAD_REQUEST,
                "ValidationException",
                "voice",
            ),
            (
                body(json!({ "TextType": "ssml" })),
                StatusCode::BAD_REQUEST,
                "ValidationException",
                "ssml",
            ),
            (
                body(json!({ "Text": "" })),
                StatusCode::BAD_REQUEST,
                "ValidationException",
                "empty",
            ),
            (
                body(json!({ "Text": " \n " })),
                StatusCode::BAD_REQUEST,
                "ValidationException",
                "blank",
            ),
            (
                body(json!({ "Text": "a".repeat(MAX_CHARS_PER_SYNTHESIS + 1) })),
                StatusCode::BAD_REQUEST,
                "TextLengthExceededException",
                "3001 characters",
            ),
            (
                body(json!({ "Engine": "generative" })),
                StatusCode::BAD_REQUEST,
                "ValidationException",
                "unknown engine",
            ),
            (
                body(json!({ "VoiceId": "Kevin" })),
                StatusCode::BAD_REQUEST,
                "EngineNotSupportedException",
                "a neural-only voice with the default engine",
            ),
            (
                body(json!({ "VoiceId": "Nicole", "Engine": "neural" })),
                StatusCode::BAD_REQUEST,
                "EngineNotSupportedException",
                "a standard-only voice with neural",
            ),
            (
                body(json!({ "SampleRate": "44100" })),
                StatusCode::BAD_REQUEST,
                "InvalidSampleRateException",
                "sample rate",
            ),
            (
                body(json!({ "LexiconNames": ["mine"] })),
                StatusCode::NOT_FOUND,
                "LexiconNotFoundException",
                "lexicons",
            ),
            (
                body(json!({ "SpeechMarkTypes": ["word"] })),
                StatusCode::BAD_REQUEST,
                "MarksNotSupportedForFormatException",
                "speech marks",
            ),
            (
                body(json!({ "LanguageCode": "en US; rm" })),
                StatusCode::BAD_REQUEST,
                "ValidationException",
                "language code",
            ),
        ];
        for (body, status, code, why) in cases {
            let error = validate(&body).unwrap_err();
            assert_eq!(
                (error.status, error.code),
                (status, code),
                "{why}: {}",
                error.message
            );
        }
        let length = validate(&body(json!({ "Text": "secret ".repeat(500) }))).unwrap_err();
        assert!(!length.message.contains("secret"), "{}", length.message);
    }

    #[test]
    fn missing_tools_are_named_with_how_to_install_them() {
        let message = DevkitError::SpeechToolsNotFound {
            missing: "espeak-ng and lame".to_owned(),
        }
        .to_string();
        for expected in [
            "espeak-ng and lame on PATH",
            "Debian packages",
            "scripts/setup.sh",
        ] {
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn error_responses_carry_the_code_where_the_sdk_reads_it() {
        let response = PollyError::validation("VoiceId is required").into_response("req-1");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let headers = response.headers();
        assert_eq!(headers["x-amzn-ErrorType"], "ValidationException");
        assert_eq!(headers["x-amzn-RequestId"], "req-1");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    }
}
