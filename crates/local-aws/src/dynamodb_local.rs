//! Starts the official DynamoDB Local jar on a loopback port, tied to the lifetime of this process.
//!
//! The jar comes from npm (`amplify-dynamodb-simulator`), so `npm install` at the workspace root
//! is the only setup step besides a Java runtime.
//!
//! The hard requirement is that java never outlives us: tests keep one instance in a `static`
//! (never dropped), and a test binary may be killed with SIGKILL. So java runs under the
//! lifeline supervisor of the devkit's `supervised` module, which stops it when this process
//! exits, however it exits.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::DevkitError;
use crate::supervised::{NotReady, SpawnError, SupervisedProcess};
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
    /// java under its supervisor, in a private working directory (DynamoDB Local writes a
    /// metadata file into it, which must not land in the developer's tree) that holds its log.
    process: SupervisedProcess,
}

/// Creates `data_dir` if missing and answers its absolute, canonical path: the form DynamoDB
/// Local needs, since it does not run in the caller's working directory.
fn absolute_data_dir(data_dir: &Path) -> Result<PathBuf, DevkitError> {
    let create_error = |source| DevkitError::CreateDataDir {
        path: data_dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(create_error)?;
    std::fs::canonicalize(data_dir).map_err(create_error)
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
        // java runs in a private working directory of its own (see `process`), so a relative
        // `-dbPath` would name a directory there that does not exist: it gets the absolute path.
        let options = &DynamoDbLocalOptions {
            data_dir: match &options.data_dir {
                Some(data_dir) => Some(absolute_data_dir(data_dir)?),
                None => None,
            },
            ..options.clone()
        };

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
        let mut library_path = OsString::from("-Djava.library.path=");
        library_path.push(options.jar_dir.join(NATIVE_LIB_DIR));
        let mut arguments: Vec<OsString> = vec![library_path];
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

        let process =
            SupervisedProcess::spawn("notes-devkit-dynamodb-local", java, &arguments, &[])
                .map_err(|error| match error {
                    SpawnError::Prepare {
                        log_file, source, ..
                    } => DevkitError::CreateLogFile {
                        path: log_file,
                        source,
                    },
                    SpawnError::Spawn(source) => DevkitError::SpawnDynamoDbLocal(source),
                })?;
        // From here on, `Drop` cleans up whatever happens below.
        let mut instance = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            process,
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
        self.process.log_tail(LOG_TAIL_LINES)
    }

    fn wait_until_ready(&mut self, timeout: Duration) -> Result<(), DevkitError> {
        let port = self.port;
        // A crashed java (bad jar, port taken, old Java) is reported at once, not at the timeout.
        match self
            .process
            .wait_until_ready(timeout, || answers_http(port))
        {
            Ok(()) => Ok(()),
            Err(NotReady::Exited(status)) => Err(DevkitError::DynamoDbLocalExited {
                status: status.to_string(),
                log_tail: self.log_tail(),
            }),
            Err(NotReady::TimedOut) => Err(DevkitError::DynamoDbLocalNotReady {
                endpoint: self.endpoint.clone(),
                waited: timeout,
                log_tail: self.log_tail(),
            }),
        }
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
