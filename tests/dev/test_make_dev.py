"""`make dev` exactly as the README types it (default flags: data kept on disk), stopped with
Ctrl-C and started again: the notes and the users are still there, the same password signs in,
the restart compiles nothing, `make token` answers at once, and a page opened while the backend
starts says so and loads by itself once it is up (in Chromium).

Figures (restart and `make token` seconds) are printed, not asserted: a busy CI machine must not
fail a benchmark. What is asserted is what a user would see."""

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from conftest import ROOT, MakeDev, answers, free_port

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import chromium  # noqa: E402  (tests/chromium.py: how every browser test launches Chromium)
from playwright.sync_api import expect

PASSWORD = "Correct-Horse-9!"


def read_env(path):
    values = {}
    with open(path, encoding="utf-8") as env_file:
        for line in env_file:
            line = line.strip()
            if line.startswith("export ") and "=" in line:
                name, value = line[len("export ") :].split("=", 1)
                values[name] = value.strip("'\"")
    return values


def cognito_of(dev):
    env = read_env(dev.variables["COGNITO_ENV"])
    client = boto3.client(
        "cognito-idp",
        endpoint_url=env["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"],
        region_name=env.get("AWS_REGION", "us-east-1"),
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return client, env["CognitoPoolId"], env["AppClientId"]


def sign_in(dev, username, password=PASSWORD):
    client, _, client_id = cognito_of(dev)
    result = client.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return result["AuthenticationResult"]["IdToken"]


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def call(dev, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(dev.api_url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def make_token(dev, username):
    began = time.monotonic()
    result = subprocess.run(
        ["make", "-s", "token", f"USER={username}", f"COGNITO_ENV={dev.variables['COGNITO_ENV']}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    assert "Compiling" not in result.stderr, "make token compiled something:\n" + result.stderr
    return result.stdout.strip(), elapsed


def test_notes_and_users_survive_a_restart_of_make_dev_as_the_readme_types_it(work_dir):
    dev = MakeDev(work_dir, "kept")
    assert not any("IN_MEMORY" in part for part in dev.command()), "the default, data-kept mode"
    try:
        first_start = dev.start()
        assert any(".local/dynamodb" in line for line in dev.lines()), dev.tail()
        client, pool_id, client_id = cognito_of(dev)
        username = f"restart-{uuid.uuid4().hex[:8]}"
        client.sign_up(
            ClientId=client_id,
            Username=username,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        )
        client.admin_confirm_sign_up(UserPoolId=pool_id, Username=username)
        token = sign_in(dev, username)
        sub = claims(token)["sub"]
        text = f"kept across restarts {uuid.uuid4().hex}"
        status, created = call(dev, token, "POST", "/notes", {"Note": text})
        assert status in (200, 201), created
        dev.stop()

        restart = dev.start()
        # The page's address is announced once the backend answers.
        assert answers(dev.api_url + "/notes"), "the API answers when make dev says it is on"
        assert answers(dev.web_url + "/"), "the page answers when make dev says it is on"
        restarted_lines = "\n".join(dev.lines())
        assert "Compiling" not in restarted_lines, "the restart compiled something:\n" + restarted_lines
        # The same password signs in; the user is the same person (same sub), with their notes.
        token = sign_in(dev, username)
        assert claims(token)["sub"] == sub, "the user kept their sub"
        status, notes = call(dev, token, "GET", "/notes")
        assert status == 200, notes
        assert text in [note["Note"] for note in notes], "the note survived the restart"
        # The name is still taken: signing up again does not make a second user with that name.
        client, pool_id, client_id = cognito_of(dev)
        with pytest.raises(client.exceptions.UsernameExistsException):
            client.sign_up(
                ClientId=client_id,
                Username=username,
                Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
            )
        # A wrong password is still refused after the restart.
        with pytest.raises(client.exceptions.NotAuthorizedException):
            sign_in(dev, username, "Wrong-Horse-9!!")
        # make token right after the restart: no compile, an answer in seconds.
        token_user = f"token-{uuid.uuid4().hex[:8]}"
        make_token(dev, token_user)  # signs the user up
        token, token_seconds = make_token(dev, token_user)
        assert claims(token)["cognito:username"] == token_user
        print(
            f"\nfigures: first start {first_start:.1f} s, restart to serving {restart:.1f} s, "
            f"make token after a restart {token_seconds:.2f} s"
        )
    finally:
        dev.stop()


class GatedProxy:
    """A TCP proxy that accepts at once but forwards nothing until `open()`: a DynamoDB Local
    that takes as long to come up as the test needs, so the page can be seen while make dev
    is still starting."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.gate = threading.Event()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def open(self):
        self.gate.set()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        self.gate.wait()
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return

        def pump(source, sink):
            try:
                while chunk := source.recv(65536):
                    sink.sendall(chunk)
            except OSError:
                pass
            finally:
                for end in (source, sink):
                    try:
                        end.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)

    def close(self):
        self.listener.close()


def test_a_page_opened_while_make_dev_starts_says_so_and_loads_by_itself(work_dir, browser):
    # A real DynamoDB Local behind a gate: make dev reuses what listens on its DYNAMODB_PORT.
    notes_dev = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "notes-dev")
    dynamodb = subprocess.Popen(
        [notes_dev, "dynamodb", "--in-memory", "--no-tables"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    proxy = None
    dev = None
    try:
        endpoint = dynamodb.stdout.readline().strip()
        assert endpoint.startswith("http://127.0.0.1:"), endpoint
        proxy = GatedProxy(int(endpoint.rsplit(":", 1)[1]))
        dev = MakeDev(work_dir, "gated", DYNAMODB_PORT=proxy.port, IN_MEMORY=1)
        dev.start(wait=False)
        deadline = time.monotonic() + 600
        while not answers(dev.web_url + "/config.js", timeout=1):
            assert dev.process.poll() is None, "make dev exited:\n" + dev.tail()
            assert time.monotonic() < deadline, "the page was never served:\n" + dev.tail()
            time.sleep(0.1)
        context = browser.new_context()
        page = context.new_page()
        page.goto(dev.web_url + "/")
        boot = page.locator("#boot")
        expect(boot).to_contain_text("starting", timeout=30_000)
        expect(boot).to_contain_text("loads by itself")
        assert not any("web client on" in line for line in dev.lines()), (
            "the page's address is announced only once the backend answers:\n" + dev.tail()
        )
        proxy.open()
        dev.wait_for("notes API on", 600)
        # No reload by the test: the page notices the backend is up and loads itself.
        expect(page.get_by_role("form", name="Sign in")).to_be_visible(timeout=30_000)
        expect(boot).to_be_hidden()
        context.close()
    finally:
        if dev is not None:
            dev.stop()
        if proxy is not None:
            proxy.close()
        dynamodb.terminate()
        dynamodb.wait(timeout=60)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = chromium.launch(playwright)
        try:
            yield launched
        finally:
            launched.close()


def test_the_readme_s_commands_are_the_ones_tested(work_dir):
    """The README's first screen shows `make dev`, one curl line with a token and `make test`:
    the curl line runs here exactly as written (the API's port made this run's), against make
    dev in its default mode."""
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    commands = [line for block in blocks for line in block.strip().splitlines()]
    assert commands[0] == "make dev" and commands[-1] == "make test", commands
    curls = [c for c in commands if c.startswith("curl ")]
    assert len(curls) == 1, commands
    dev = MakeDev(work_dir, "readme")
    try:
        dev.start()
        line = curls[0].replace("http://127.0.0.1:4000", dev.api_url)
        result = subprocess.run(
            ["bash", "-c", line],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "COGNITO_ENV": dev.variables["COGNITO_ENV"]},
        )
        assert result.returncode == 0, result.stderr
        assert isinstance(json.loads(result.stdout), list), result.stdout
    finally:
        dev.stop()


def call_with_headers(dev, token, path):
    """A GET with this token: (status, headers, JSON body)."""
    request = urllib.request.Request(dev.api_url + path)
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"null")


def test_make_dev_rate_limit_refuses_one_caller_and_not_the_others(work_dir):
    """Issue 22, finding 4, through `make dev`: `RATE_LIMIT` is the REST API's per-caller limit
    (the template's WAF web ACL). One token over it is refused with the web ACL's 429 while
    another token still gets its answers; before, one caller could spend a budget all shared."""
    limit = 10
    dev = MakeDev(work_dir, "limited", IN_MEMORY="1", RATE_LIMIT=str(limit))
    try:
        dev.start()
        assert any(f"per-caller limit {limit} requests per 5 minutes" in line for line in dev.lines()), dev.tail()
        first, _ = make_token(dev, f"greedy-{uuid.uuid4().hex[:8]}")
        second, _ = make_token(dev, f"patient-{uuid.uuid4().hex[:8]}")
        for n in range(limit):
            status, _, body = call_with_headers(dev, first, "/notes")
            assert status == 200, (n, body)
        status, headers, body = call_with_headers(dev, first, "/notes")
        assert status == 429, body
        assert headers["Retry-After"] == "300"
        assert body["message"].startswith(f"Too many requests: at most {limit} every 5 minutes"), body
        status, _, body = call_with_headers(dev, second, "/notes")
        assert status == 200, body
    finally:
        dev.stop()


def test_make_dynamodb_as_typed_keeps_its_tables_in_the_default_data_dir(work_dir):
    """`make dynamodb` (data in `.local/dynamodb`, relative to the checkout, while java runs in a
    directory of its own): the endpoint first on stdout, the template's tables, Ctrl-C stops it."""
    port = free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "dynamodb", f"DYNAMODB_PORT={port}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        endpoint = process.stdout.readline().strip()
        assert endpoint == f"http://127.0.0.1:{port}", endpoint + process.stderr.read()
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        assert {"notes", "posts", "idempotency"} <= set(client.list_tables()["TableNames"])
        assert os.path.isdir(os.path.join(ROOT, ".local", "dynamodb")), "the data is in the checkout's .local/dynamodb"
    finally:
        # Ctrl-C reaches make and notes-dev alike (make then reports the interrupt itself).
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
    deadline = time.monotonic() + 60
    while answers(f"http://127.0.0.1:{port}/", timeout=1):
        assert time.monotonic() < deadline, "DynamoDB Local outlived make dynamodb"
        time.sleep(0.2)
