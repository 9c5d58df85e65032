"""A real Chromium (Debian's package, driven by Playwright) on a page served from an origin of its
own, calling the API `make dev` serves: CORS is enforced by the browser itself, as for users.

scripts/smoke-dev.sh starts `make dev` and passes, in the environment, the API's URL (`NOTES_API`),
the page's origin (`PAGE_ORIGIN`, which that `make dev` allows) and a raw ID token from the local
Cognito pool, obtained with the labs' `aws cognito-idp initiate-auth` (`LABS_ID_TOKEN`)."""

import http.server
import os
import sys
import socket
import threading
import urllib.parse

import pytest
from playwright.sync_api import expect

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import chromium  # noqa: E402  (tests/chromium.py: how every browser test launches Chromium)

# What a page shows after a call through the local gateway (authorizer, then a debug build of a
# function, each a process) takes milliseconds on an idle machine and seconds on a busy one (CI,
# or `make test` beside other work): every expectation waits up to this long for it.
expect.set_options(timeout=int(os.environ.get("BROWSER_EXPECT_TIMEOUT_MS", "30000")))



def _required(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the browser tests through scripts/smoke-dev.sh")
    return value


@pytest.fixture(scope="session")
def api_url():
    return _required("NOTES_API").rstrip("/")


@pytest.fixture(scope="session")
def id_token():
    return _required("LABS_ID_TOKEN")


@pytest.fixture(scope="session")
def page_origin():
    """Serves an empty page on the origin the test's `make dev` allows (127.0.0.1:PORT)."""
    yield from _serve(_required("PAGE_ORIGIN"))


@pytest.fixture(scope="session")
def unlisted_origin():
    """The same page on a free port that `make dev` was not told to allow."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield from _serve(f"http://127.0.0.1:{port}")


def _serve(origin):
    parsed = urllib.parse.urlsplit(origin)

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>labs client</title><p>labs client"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((parsed.hostname, parsed.port), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, page_origin):
    context = browser.new_context()
    page = context.new_page()
    page.goto(page_origin + "/")
    try:
        yield page
    finally:
        context.close()


# ---------------------------------------------------------------------------------------------
# Our own web client (web/), served by `make dev` on an origin of its own (`WEB_URL`, which that
# `make dev` allows), configured by the config.js `make dev` wrote for its local pool.


@pytest.fixture(scope="session")
def web_url():
    return _required("WEB_URL").rstrip("/")


@pytest.fixture(scope="session")
def pool():
    """The local pool's ids and endpoint, from the cognito.env `make dev` wrote (COGNITO_ENV)."""
    values = {}
    with open(_required("COGNITO_ENV"), encoding="utf-8") as env_file:
        for line in env_file:
            line = line.strip()
            if line.startswith("export ") and "=" in line:
                name, value = line[len("export ") :].split("=", 1)
                values[name] = value.strip("'\"")
    return {
        "pool_id": values["CognitoPoolId"],
        "client_id": values["AppClientId"],
        "endpoint": values["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"],
        "region": values.get("AWS_REGION", "us-east-1"),
    }


@pytest.fixture(scope="session")
def cognito(pool):
    """boto3's Cognito client on the local pool: what an administrator (or the labs' CLI) does."""
    import boto3

    return boto3.client(
        "cognito-idp",
        endpoint_url=pool["endpoint"],
        region_name=pool["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture(scope="session")
def screenshot_dir():
    directory = os.environ.get("SCREENSHOT_DIR") or os.path.join("target", "screenshots")
    os.makedirs(directory, exist_ok=True)
    return directory
