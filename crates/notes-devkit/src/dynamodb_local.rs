//! Starts the official DynamoDB Local jar on a loopback port, tied to the lifetime of this process.
//!
//! The jar comes from npm (`amplify-dynamodb-simulator`), so `npm install` at the workspace root
//! is the only setup step besides a Java runtime.
//!
//! The hard requirement is that java never outlives us: tests keep one instance in a `static`
//! (never dropped), and a test binary may be killed with SIGKILL. Without `unsafe` we cannot ask
//! the kernel to signal java when we die (`PR_SET_PDEATHSIG`), so java runs under a small `sh`
//! supervisor whose stdin is a pipe that only this process holds open. The kernel closes that
//! pipe when this process exits, however it exits; the supervisor's `cat` then sees end of file
//! and the supervisor terminates java.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{DevkitError, tail_lines};
use crate::workspace_root;

/// Environment variable that overrides where `DynamoDBLocal.jar` is looked for.
pub const JAR_DIR_ENV: &str = "DYNAMODB_LOCAL_DIR";

/// How long [`DynamoDbLocal::start`] waits for the server to answer. The JVM usually needs one
/// to three seconds; the margin is for a loaded two-core CI machine.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

const JAR_FILE: &str = "DynamoDBLocal.jar";
const NATIVE_LIB_DIR: &str = "DynamoDBLocal_lib";

/// How many lines of java's output an error message carries.
const LOG_TAIL_LINES: usize = 40;

/// The supervisor, run as `sh -c SUPERVISOR_SCRIPT <name> <java> <args>...`.
///
/// Background jobs of a non-interactive shell get `/dev/null` as stdin, so the lifeline pipe is
/// first copied to fd 3 and the watcher reads it from there. The watcher is a background job and
/// the foreground is `wait` on java, because a shell only runs traps between foreground
/// commands: `wait` is interruptible, `cat` is not. So the supervisor exits (with java's status)
/// as soon as java exits on its own, which lets [`DynamoDbLocal::start`] notice a crash at once.
/// When the lifeline closes, the watcher terminates java and removes the instance directory
/// (java's log and working directory): nobody is left to read it.
const SUPERVISOR_SCRIPT: &str = r#"
exec 3<&0
"$@" 3<&- </dev/null &
java_pid=$!
trap 'kill "$java_pid" 2>/dev/null' EXIT
trap 'exit 143' TERM INT HUP
{ cat <&3 >/dev/null; kill "$java_pid" 2>/dev/null; rm -rf "$NOTES_DEVKIT_INSTANCE_DIR"; } &
watcher_pid=$!
exec 3<&-
wait "$java_pid"
status=$?
trap - EXIT
kill "$watcher_pid" 2>/dev/null
exit "$status"
"#;

/// Where npm installs the jar: `<workspace>/node_modules/amplify-dynamodb-simulator/emulator`.
pub fn default_jar_dir() -> PathBuf {
    workspace_root()
        .join("node_modules")
        .join("amplify-dynamodb-simulator")
        .join("emulator")
}

/// The directory holding `DynamoDBLocal.jar`: `$DYNAMODB_LOCAL_DIR` if set, else
/// [`default_jar_dir`]. Fails if the jar is not there.
pub fn find_jar_dir() -> Result<PathBuf, DevkitError> {
    let dir = match std::env::var_os(JAR_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => default_jar_dir(),
    };
    check_jar_dir(&dir)?;
    Ok(dir)
}

fn check_jar_dir(dir: &Path) -> Result<(), DevkitError> {
    let jar = dir.join(JAR_FILE);
    if jar.is_file() {
        Ok(())
    } else {
        Err(DevkitError::JarNotFound { jar })
    }
}

/// How to start DynamoDB Local.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoDbLocalOptions {
    /// Directory holding `DynamoDBLocal.jar` and `DynamoDBLocal_lib` (see [`find_jar_dir`]).
    pub jar_dir: PathBuf,
    /// `None` picks a free loopback port, so that parallel test runs never collide.
    pub port: Option<u16>,
    /// `None` keeps everything in memory (`-inMemory`); `Some(dir)` persists the data in `dir`
    /// (`-dbPath`, created if missing), for a dev server whose data should survive restarts.
    pub data_dir: Option<PathBuf>,
    /// Tune the JVM for steady-state latency rather than start-up: the JIT's top tier, and a
    /// fixed heap whose young generation is large enough that collections (pauses of a few
    /// milliseconds that land on whatever request is in flight) are rare. Off for tests and
    /// development, where start-up time dominates; on for benchmarks.
    pub steady_state: bool,
}

impl DynamoDbLocalOptions {
    /// In memory, on a free port, with the jar from [`find_jar_dir`].
    pub fn in_memory() -> Result<Self, DevkitError> {
        Ok(Self {
            jar_dir: find_jar_dir()?,
            port: None,
            data_dir: None,
            steady_state: false,
        })
    }
}

/// A running DynamoDB Local. Dropping it stops java; so does the end of this process.
#[derive(Debug)]
pub struct DynamoDbLocal {
    endpoint: String,
    port: u16,
    /// Write end of the lifeline pipe. Never written to: its only job is to be closed, by
    /// `Drop` or by the kernel when this process exits, which tells the supervisor to stop java.
    lifeline: Option<ChildStdin>,
    /// The `sh` supervisor (java is its child).
    supervisor: Child,
    /// A private temporary directory: java's working directory (DynamoDB Local writes a
    /// metadata file into it, which must not land in the developer's tree) and its log.
    instance_dir: PathBuf,
    /// java's stdout and stderr, read back for error messages.
    log_file: PathBuf,
}

impl DynamoDbLocal {
    /// Starts DynamoDB Local and waits (up to [`STARTUP_TIMEOUT`]) until it answers HTTP.
    ///
    /// Runs `java -Djava.library.path=<dir>/DynamoDBLocal_lib -jar <dir>/DynamoDBLocal.jar
    /// -sharedDb -disableTelemetry -port <port> (-inMemory | -dbPath <dir>)`. `-sharedDb` makes
    /// the region and credentials of the clients irrelevant: every client sees the same tables.
    /// The jar has no option to choose the bind address, so it listens on all interfaces; we
    /// only ever connect over loopback.
    pub fn start(options: &DynamoDbLocalOptions) -> Result<Self, DevkitError> {
        check_jar_dir(&options.jar_dir)?;
        let java = find_java()?;
        if let Some(data_dir) = &options.data_dir {
            std::fs::create_dir_all(data_dir).map_err(|source| DevkitError::CreateDataDir {
                path: data_dir.clone(),
                source,
            })?;
        }

        // A port we probed as free can be taken by someone else before java binds it. When we
        // chose the port, that race is ours to absorb, so try a few different ports.
        let attempts = if options.port.is_some() { 1 } else { 3 };
        let mut last_error = None;
        for _ in 0..attempts {
            let port = match options.port {
                Some(port) => port,
                None => free_loopback_port()?,
            };
            match Self::start_on_port(options, &java, port) {
                Ok(instance) => return Ok(instance),
                Err(error @ DevkitError::DynamoDbLocalExited { .. })
                    if options.port.is_none() && mentions_port_in_use(&error) =>
                {
                    last_error = Some(error);
                }
                Err(error) => return Err(error),
            }
        }
        Err(
            last_error.unwrap_or(DevkitError::NoFreePort(std::io::Error::other(
                "every attempt to bind a free port failed",
            ))),
        )
    }

    fn start_on_port(
        options: &DynamoDbLocalOptions,
        java: &Path,
        port: u16,
    ) -> Result<Self, DevkitError> {
        let instance_dir = std::env::temp_dir().join(format!(
            "notes-devkit-dynamodb-local-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let log_file = instance_dir.join("output.log");
        let create_log = |source| DevkitError::CreateLogFile {
            path: log_file.clone(),
            source,
        };
        let remove_instance_dir = || {
            let _ = std::fs::remove_dir_all(&instance_dir);
        };
        std::fs::create_dir_all(&instance_dir).map_err(create_log)?;
        let logs = File::create(&log_file).and_then(|stdout_log| {
            let stderr_log = stdout_log.try_clone()?;
            Ok((stdout_log, stderr_log))
        });
        let (stdout_log, stderr_log) = logs.map_err(|source| {
            remove_instance_dir();
            create_log(source)
        })?;

        let mut arguments: Vec<OsString> = vec![
            "-c".into(),
            SUPERVISOR_SCRIPT.into(),
            // `$0` of the script: the name sh uses in its own error messages.
            "notes-devkit-dynamodb-local".into(),
            java.into(),
        ];
        let mut library_path = OsString::from("-Djava.library.path=");
        library_path.push(options.jar_dir.join(NATIVE_LIB_DIR));
        arguments.push(library_path);
        // Start-up time dominates a test run; the JIT's top tier only pays off in long runs.
        if options.steady_state {
            for flag in ["-Xms1g", "-Xmx1g", "-Xmn768m", "-XX:+UseParallelGC"] {
                arguments.push(flag.into());
            }
        } else {
            arguments.push("-XX:TieredStopAtLevel=1".into());
        }
        arguments.push("-jar".into());
        arguments.push(options.jar_dir.join(JAR_FILE).into());
        arguments.push("-sharedDb".into());
        // Telemetry would try to reach the internet from every test run.
        arguments.push("-disableTelemetry".into());
        arguments.push("-port".into());
        arguments.push(port.to_string().into());
        match &options.data_dir {
            Some(data_dir) => {
                arguments.push("-dbPath".into());
                arguments.push(data_dir.into());
            }
            None => arguments.push("-inMemory".into()),
        }

        let mut supervisor = Command::new("sh")
            .args(&arguments)
            .env("NOTES_DEVKIT_INSTANCE_DIR", &instance_dir)
            .current_dir(&instance_dir)
            .stdin(Stdio::piped())
            .stdout(stdout_log)
            .stderr(stderr_log)
            .spawn()
            .map_err(|source| {
                remove_instance_dir();
                DevkitError::SpawnDynamoDbLocal(source)
            })?;
        let lifeline = supervisor.stdin.take();
        // From here on, `Drop` cleans up whatever happens below.
        let mut instance = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            lifeline,
            supervisor,
            instance_dir,
            log_file,
        };
        instance.wait_until_ready(STARTUP_TIMEOUT)?;
        tracing::debug!(endpoint = %instance.endpoint, "DynamoDB Local is ready");
        Ok(instance)
    }

    /// `http://127.0.0.1:<port>`, ready to be used as an SDK endpoint URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The TCP port DynamoDB Local listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The last lines java printed, for diagnostics.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read(&self.log_file)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        tail_lines(&text, LOG_TAIL_LINES)
    }

    fn wait_until_ready(&mut self, timeout: Duration) -> Result<(), DevkitError> {
        let started = Instant::now();
        loop {
            // A crashed java (bad jar, port taken, old Java) makes the supervisor exit: report
            // that at once instead of waiting for the timeout.
            if let Ok(Some(status)) = self.supervisor.try_wait() {
                return Err(DevkitError::DynamoDbLocalExited {
                    status: status.to_string(),
                    log_tail: self.log_tail(),
                });
            }
            if answers_http(self.port) {
                return Ok(());
            }
            if started.elapsed() >= timeout {
                return Err(DevkitError::DynamoDbLocalNotReady {
                    endpoint: self.endpoint.clone(),
                    waited: timeout,
                    log_tail: self.log_tail(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        // Closing the lifeline is the normal way to stop java (see the module docs); the
        // supervisor then exits with java. Only if that takes too long is sh killed outright.
        drop(self.lifeline.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.supervisor.try_wait() {
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(Some(_)) => break,
                Ok(None) | Err(_) => {
                    let _ = self.supervisor.kill();
                    let _ = self.supervisor.wait();
                    break;
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.instance_dir);
    }
}

/// `$JAVA_HOME/bin/java` if it exists, else the first `java` on `PATH`.
fn find_java() -> Result<PathBuf, DevkitError> {
    let from_java_home = std::env::var_os("JAVA_HOME")
        .filter(|home| !home.is_empty())
        .map(|home| PathBuf::from(home).join("bin").join("java"));
    let on_path = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("java"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    from_java_home
        .into_iter()
        .chain(on_path)
        .find(|candidate| is_executable_file(candidate))
        .ok_or(DevkitError::JavaNotFound)
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Asks the kernel for a free port by binding port 0, then releases it for java to bind.
pub fn free_loopback_port() -> Result<u16, DevkitError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(DevkitError::NoFreePort)
}

fn mentions_port_in_use(error: &DevkitError) -> bool {
    match error {
        DevkitError::DynamoDbLocalExited { log_tail, .. } => {
            log_tail.contains("Address already in use") || log_tail.contains("BindException")
        }
        _ => false,
    }
}

/// True once something on `port` answers an HTTP POST with an HTTP status line.
///
/// An open port alone is not enough: the JVM's HTTP server accepts connections a moment before
/// DynamoDB Local can serve requests. Any status (DynamoDB Local answers 400 to this empty
/// request) proves the request path works.
fn answers_http(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else {
        return false;
    };
    let timeouts_set = stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .and_then(|()| stream.set_write_timeout(Some(Duration::from_secs(2))));
    if timeouts_set.is_err() {
        return false;
    }
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut received = Vec::new();
    let mut buffer = [0_u8; 64];
    while received.len() < 8 {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => received.extend(buffer.iter().take(read)),
        }
    }
    received.starts_with(b"HTTP/1.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_without_the_jar_is_reported_with_the_jar_path() {
        let dir = std::env::temp_dir().join("notes-devkit-no-jar-here");
        let result = check_jar_dir(&dir);
        assert!(
            matches!(&result, Err(DevkitError::JarNotFound { jar }) if *jar == dir.join(JAR_FILE)),
            "expected JarNotFound naming the jar, got {result:?}"
        );
    }

    #[test]
    fn the_default_jar_dir_is_under_node_modules_of_the_workspace() {
        let dir = default_jar_dir();
        assert!(dir.starts_with(workspace_root()), "{}", dir.display());
        assert!(
            dir.ends_with("node_modules/amplify-dynamodb-simulator/emulator"),
            "{}",
            dir.display()
        );
    }

    #[test]
    fn nothing_listening_is_not_ready() {
        // The port was free a moment ago, so nothing answers there.
        let port = free_loopback_port().unwrap_or(1);
        assert!(!answers_http(port));
    }

    #[test]
    fn port_in_use_is_recognised_in_java_output() {
        let error = DevkitError::DynamoDbLocalExited {
            status: "exit status: 1".to_owned(),
            log_tail: "java.net.BindException: Address already in use".to_owned(),
        };
        assert!(mentions_port_in_use(&error));
        let other = DevkitError::DynamoDbLocalExited {
            status: "exit status: 1".to_owned(),
            log_tail: "UnsupportedClassVersionError".to_owned(),
        };
        assert!(!mentions_port_in_use(&other));
    }
}
