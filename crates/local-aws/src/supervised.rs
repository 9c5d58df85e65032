//! Runs a local server (DynamoDB Local's java, moto) under a small `sh` supervisor, so that it
//! never outlives the process that started it.
//!
//! The hard requirement is that the server never outlives us: tests keep one instance in a
//! `static` (never dropped), and a test binary may be killed with SIGKILL. Without `unsafe` we
//! cannot ask the kernel to signal the server when we die (`PR_SET_PDEATHSIG`), so the server
//! runs under a small `sh` supervisor whose stdin is a pipe that only this process holds open.
//! The kernel closes that pipe when this process exits, however it exits; the supervisor's `cat`
//! then sees end of file and the supervisor terminates the server.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::tail_lines;

/// The supervisor, run as `sh -c SUPERVISOR_SCRIPT <name> <program> <args>...`.
///
/// Background jobs of a non-interactive shell get `/dev/null` as stdin, so the lifeline pipe is
/// first copied to fd 3 and the watcher reads it from there. The watcher is a background job and
/// the foreground is `wait` on the server, because a shell only runs traps between foreground
/// commands: `wait` is interruptible, `cat` is not. So the supervisor exits (with the server's
/// status) as soon as the server exits on its own, which lets a launcher notice a crash at once.
/// When the lifeline closes, the watcher terminates the server and removes the instance
/// directory (the server's log and working directory): nobody is left to read it.
const SUPERVISOR_SCRIPT: &str = r#"
exec 3<&0
"$@" 3<&- </dev/null &
child_pid=$!
trap 'kill "$child_pid" 2>/dev/null' EXIT
trap 'exit 143' TERM INT HUP
{ cat <&3 >/dev/null; kill "$child_pid" 2>/dev/null; rm -rf "$NOTES_DEVKIT_INSTANCE_DIR"; } &
watcher_pid=$!
exec 3<&-
wait "$child_pid"
status=$?
trap - EXIT
kill "$watcher_pid" 2>/dev/null
exit "$status"
"#;

/// How long `Drop` lets the supervisor stop the server before killing `sh` outright.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why [`SupervisedProcess::spawn`] failed; each launcher maps it to its own error type.
#[derive(Debug)]
pub(crate) enum SpawnError {
    /// The instance directory, or the log file in it, could not be created. `path` is the one
    /// that failed; `log_file` is where the log was to be, whichever failed.
    Prepare {
        path: PathBuf,
        log_file: PathBuf,
        source: io::Error,
    },
    /// `sh` could not be started.
    Spawn(io::Error),
}

/// Why [`SupervisedProcess::wait_until_ready`] gave up.
#[derive(Debug)]
pub(crate) enum NotReady {
    /// The server exited (and with it the supervisor) before it answered.
    Exited(ExitStatus),
    /// The server runs but did not answer in time.
    TimedOut,
}

/// A server running under the supervisor. Dropping it stops the server and removes its instance
/// directory; so does the end of this process.
#[derive(Debug)]
pub(crate) struct SupervisedProcess {
    /// Write end of the lifeline pipe. Never written to: its only job is to be closed, by
    /// `Drop` or by the kernel when this process exits, which tells the supervisor to stop the
    /// server.
    lifeline: Option<ChildStdin>,
    /// The `sh` supervisor (the server is its child).
    supervisor: Child,
    /// A private temporary directory: the server's working directory (DynamoDB Local writes a
    /// metadata file into it, which must not land in the developer's tree) and its log.
    instance_dir: PathBuf,
    /// The server's stdout and stderr, read back for error messages.
    log_file: PathBuf,
}

impl SupervisedProcess {
    /// Starts `program args...` under the supervisor, in a fresh instance directory
    /// `<temp>/<name>-<uuid>` that also holds its log, with `env` added to its environment.
    /// `name` is also the supervisor's `$0`, the name sh uses in its own error messages.
    pub(crate) fn spawn(
        name: &str,
        program: &Path,
        args: &[OsString],
        env: &[(&str, &str)],
    ) -> Result<Self, SpawnError> {
        let instance_dir =
            std::env::temp_dir().join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
        let log_file = instance_dir.join("output.log");
        let prepare_error = |path: &Path, source| SpawnError::Prepare {
            path: path.to_path_buf(),
            log_file: log_file.clone(),
            source,
        };
        let remove_instance_dir = || {
            let _ = std::fs::remove_dir_all(&instance_dir);
        };
        std::fs::create_dir_all(&instance_dir)
            .map_err(|source| prepare_error(&instance_dir, source))?;
        let logs = File::create(&log_file).and_then(|stdout_log| {
            let stderr_log = stdout_log.try_clone()?;
            Ok((stdout_log, stderr_log))
        });
        let (stdout_log, stderr_log) = logs.map_err(|source| {
            remove_instance_dir();
            prepare_error(&log_file, source)
        })?;

        let mut supervisor = Command::new("sh")
            .arg("-c")
            .arg(SUPERVISOR_SCRIPT)
            .arg(name)
            .arg(program)
            .args(args)
            .env("NOTES_DEVKIT_INSTANCE_DIR", &instance_dir)
            .envs(env.iter().copied())
            .current_dir(&instance_dir)
            .stdin(Stdio::piped())
            .stdout(stdout_log)
            .stderr(stderr_log)
            .spawn()
            .map_err(|source| {
                remove_instance_dir();
                SpawnError::Spawn(source)
            })?;
        let lifeline = supervisor.stdin.take();
        // From here on, `Drop` cleans up whatever happens to the caller.
        Ok(Self {
            lifeline,
            supervisor,
            instance_dir,
            log_file,
        })
    }

    /// The server's private working directory (`NOTES_DEVKIT_INSTANCE_DIR` in its environment).
    pub(crate) fn instance_dir(&self) -> &Path {
        &self.instance_dir
    }

    /// The supervisor's exit status if it has exited, which it does as soon as the server does.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.supervisor.try_wait().ok().flatten()
    }

    /// Polls `answers` until it is true, the server exits, or `timeout` passes.
    ///
    /// A crashed server (bad jar, port taken, missing module) makes the supervisor exit: that is
    /// reported at once instead of after the timeout.
    pub(crate) fn wait_until_ready(
        &mut self,
        timeout: Duration,
        mut answers: impl FnMut() -> bool,
    ) -> Result<(), NotReady> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return Err(NotReady::Exited(status));
            }
            if answers() {
                return Ok(());
            }
            if started.elapsed() >= timeout {
                return Err(NotReady::TimedOut);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last `max_lines` lines the server printed, for diagnostics.
    pub(crate) fn log_tail(&self, max_lines: usize) -> String {
        let text = std::fs::read(&self.log_file)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        tail_lines(&text, max_lines)
    }
}

impl Drop for SupervisedProcess {
    fn drop(&mut self) {
        // Closing the lifeline is the normal way to stop the server (see the module docs); the
        // supervisor then exits with it. Only if that takes too long is sh killed outright.
        drop(self.lifeline.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_that_exits_on_its_own_ends_the_supervisor_with_its_status_and_output() {
        let process = SupervisedProcess::spawn(
            "notes-devkit-supervised-test-exit",
            Path::new("sh"),
            &[
                "-c".into(),
                "echo \"said $NOTES_DEVKIT_SUPERVISED_TEST\"; exit 3".into(),
            ],
            &[("NOTES_DEVKIT_SUPERVISED_TEST", "visible")],
        );
        assert!(process.is_ok(), "{process:?}");
        let Ok(mut process) = process else { return };
        let ready = process.wait_until_ready(Duration::from_secs(10), || false);
        assert!(
            matches!(&ready, Err(NotReady::Exited(status)) if status.code() == Some(3)),
            "the supervisor exits with the child's status: {ready:?}"
        );
        assert!(
            process.log_tail(5).contains("said visible"),
            "the log holds the child's output, with the extra environment: {}",
            process.log_tail(5)
        );
    }

    #[test]
    fn dropping_stops_a_running_child_through_the_lifeline_and_removes_the_instance_dir() {
        let process = SupervisedProcess::spawn(
            "notes-devkit-supervised-test-drop",
            Path::new("sleep"),
            &["60".into()],
            &[],
        );
        assert!(process.is_ok(), "{process:?}");
        let Ok(mut process) = process else { return };
        let ready = process.wait_until_ready(Duration::from_millis(300), || false);
        assert!(matches!(ready, Err(NotReady::TimedOut)), "{ready:?}");
        let instance_dir = process.instance_dir.clone();
        assert!(instance_dir.is_dir(), "{}", instance_dir.display());

        let started = Instant::now();
        drop(process);
        assert!(
            started.elapsed() < STOP_TIMEOUT,
            "the lifeline stopped the child, sh was not killed after the timeout"
        );
        assert!(!instance_dir.exists(), "{}", instance_dir.display());
    }
}
