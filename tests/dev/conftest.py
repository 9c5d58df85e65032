"""`make dev` as a user runs it: the README's command with its default flags (data kept in
`.local/dynamodb`, users in `.local/cognito`), on free loopback ports so a developer's own
`make dev` on the default ports is left alone, its files for `make token` and `make watch` in the
test's own directory, stopped with Ctrl-C as a person stops it.

Every start writes its own log; a stop waits until every process of the start has exited (make,
notes-dev, java, moto, the function binaries) before the next start, so two runs never share a
port, a data directory or a log file. Run by scripts/smoke-dev.sh (`make test`)."""

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A first start may build (minutes on two busy cores); a warm one answers in seconds.
START_TIMEOUT_S = float(os.environ.get("MAKE_DEV_START_TIMEOUT", "1200"))
STOP_TIMEOUT_S = 60


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url, timeout=2):
    """Whether anything answers HTTP at `url` (any status)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


class MakeDev:
    """One `make dev`: `start()` it, `stop()` it, as often as needed, on the same ports."""

    def __init__(self, work_dir, name, **variables):
        self.work_dir = work_dir
        self.name = name
        self.ports = {
            "PORT": free_port(),
            "DYNAMODB_PORT": free_port(),
            "COGNITO_PORT": free_port(),
            "POLLY_PORT": free_port(),
            "WEB_PORT": free_port(),
        }
        self.variables = {
            **{k: str(v) for k, v in self.ports.items()},
            "COGNITO_ENV": os.path.join(work_dir, f"{name}-cognito.env"),
            "FUNCTIONS_ENV": os.path.join(work_dir, f"{name}-functions.env"),
            "DEV_WEB_CONFIG": os.path.join(work_dir, f"{name}-web", "config.js"),
            **variables,
        }
        self.api_url = f"http://127.0.0.1:{self.ports['PORT']}"
        self.web_url = f"http://127.0.0.1:{self.ports['WEB_PORT']}"
        self.process = None
        self.starts = 0
        self.log_path = None
        self._lines = []
        self._lock = threading.Lock()

    def command(self):
        return ["make", "dev", *(f"{k}={v}" for k, v in self.variables.items())]

    def start(self, wait=True):
        """Starts `make dev` (its output in a log of this start's own) and, with `wait`, returns
        once it says the API is on, with the seconds that took."""
        assert self.process is None, "stop() the previous start first"
        self.starts += 1
        self.log_path = os.path.join(self.work_dir, f"{self.name}-start-{self.starts}.log")
        with self._lock:
            self._lines = []
        began = time.monotonic()
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            # A process group of its own: Ctrl-C goes to make and everything it started.
            start_new_session=True,
        )
        threading.Thread(target=self._read, args=(self.process, self.log_path), daemon=True).start()
        if wait:
            self.wait_for("notes API on", START_TIMEOUT_S)
        return time.monotonic() - began

    def _read(self, process, log_path):
        with open(log_path, "w", encoding="utf-8") as log:
            for line in process.stderr:
                log.write(line)
                log.flush()
                with self._lock:
                    self._lines.append(line.rstrip("\n"))

    def lines(self):
        with self._lock:
            return list(self._lines)

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines()):
                return
            if self.process.poll() is not None:
                time.sleep(0.5)  # let the reader thread take the last lines
                pytest.fail(f"make dev exited ({self.process.returncode}) before {text!r}:\n" + self.tail())
            time.sleep(0.1)
        pytest.fail(f"make dev did not print {text!r} within {timeout:.0f} s:\n" + self.tail())

    def tail(self, count=60):
        return "\n".join(self.lines()[-count:])

    def stop(self):
        """Ctrl-C, then waits until make and every process it started have exited."""
        if self.process is None:
            return
        group = self.process.pid
        try:
            os.killpg(group, signal.SIGINT)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait()
            pytest.fail(f"make dev did not stop within {STOP_TIMEOUT_S} s of Ctrl-C:\n" + self.tail())
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.killpg(group, signal.SIGKILL)
            pytest.fail("a process of make dev outlived it by a minute")
        self.process = None


@pytest.fixture
def work_dir(tmp_path):
    return str(tmp_path)
