#!/usr/bin/env python3
"""Writes the HTTP API (payload format 2.0) fixtures in events/, one per route and a few variants,
from `sam local generate-event apigateway http-api-proxy`: SAM's own event, then what API Gateway
sets for the route (its `routeKey`, path parameters, the query, the request's headers) and what
the JWT authorizer hands over (the token's claims, as strings, in `authorizer.jwt.claims`).

    .venv/bin/python scripts/http-api-fixtures.py          # (re)write events/http-*.json
    .venv/bin/python scripts/http-api-fixtures.py --check  # fail if a fixture differs

`make test` runs the check (tests/deploy), so the fixtures cannot drift from what this script
and SAM generate; the function binaries are tested with them (crates/e2e, http_api.rs).
"""

import base64
import json
import os
import pathlib
import subprocess
import sys
from urllib.parse import parse_qsl

ROOT = pathlib.Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
STAGE = "Prod"
API_ID = "abcdef1234"
HOST = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
POOL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
CLIENT = "4example5client6id"
# Fixed times, so that regenerating gives the same files.
TIME, EPOCH = "23/Nov/2026:20:15:15 +0000", 1795464915000

ID_CLAIMS = {
    "sub": "0f8d4c1e-4b6a-4f7e-9d1c-2a3b4c5d6e7f",
    "cognito:username": "alice",
    "email": "alice@example.com",
    "email_verified": "true",
    "aud": CLIENT,
    "iss": POOL,
    "token_use": "id",
    "auth_time": "1795464900",
    "iat": "1795464900",
    "exp": "1795468500",
}
ACCESS_CLAIMS = {
    "sub": "0f8d4c1e-4b6a-4f7e-9d1c-2a3b4c5d6e7f",
    "username": "alice",
    "client_id": CLIENT,
    "iss": POOL,
    "token_use": "access",
    "scope": "aws.cognito.signin.user.admin",
    "auth_time": "1795464900",
    "iat": "1795464900",
    "exp": "1795468500",
}

# name, method, route path, concrete path, query, body, extra: base64 / claims / content type
FIXTURES = [
    ("http-list-notes.json", "GET", "/notes", "/notes", "", None, {}),
    ("http-list-notes-access-token.json", "GET", "/notes", "/notes", "limit=5", None, {"claims": ACCESS_CLAIMS}),
    ("http-search-notes.json", "GET", "/notes/search", "/notes/search", "text=MILK", None, {}),
    ("http-get-note.json", "GET", "/notes/{id}", "/notes/1", "", None, {}),
    ("http-create-note.json", "POST", "/notes", "/notes", "", {"Note": "Buy milk"}, {}),
    ("http-update-note.json", "POST", "/notes", "/notes", "", {"NoteId": 1, "Note": "Buy oat milk"}, {}),
    ("http-create-note-base64.json", "POST", "/notes", "/notes", "", {"Note": "Sent base64-encoded by a binary-media API"}, {"base64": True}),
    ("http-dictate-note.json", "POST", "/notes/{id}", "/notes/1", "", {"VoiceId": "Joanna"}, {}),
    ("http-delete-note.json", "DELETE", "/notes/{id}", "/notes/1", "", None, {}),
    ("http-delete-account.json", "DELETE", "/account", "/account", "", None, {}),
    ("http-create-post.json", "POST", "/post", "/post", "", {"title": "Hello board", "contents": "The first post on the board."}, {}),
    ("http-list-posts.json", "GET", "/post", "/post", "limit=10", None, {}),
    ("http-list-notes-no-claims.json", "GET", "/notes", "/notes", "", None, {"claims": {}}),
]


def sam_event(method, path, body):
    """SAM CLI's http-api-proxy event for this method, path, stage and body."""
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    sam = ROOT / ".venv/bin/sam"
    command = [str(sam) if sam.exists() else "sam", "local", "generate-event", "apigateway", "http-api-proxy",
               "--method", method, "--path", path.lstrip("/"), "--stage", STAGE, "--body", body]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout)


def route_parameters(route, path):
    names = route.strip("/").split("/")
    values = path.strip("/").split("/")
    return {n[1:-1]: v for n, v in zip(names, values) if n.startswith("{")}


def fixture(method, route, path, query, body, extra):
    text = json.dumps(body) if body is not None else ""
    event = sam_event(method, path, text)
    raw_path = f"/{STAGE}{path}"
    headers = {
        "accept": "application/json",
        "authorization": "Bearer <checked by API Gateway's JWT authorizer; not read by the function>",
        "host": HOST,
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": "Root=1-5e66d96f-7491f09xmpl79d18acf3d050",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if body is not None:
        headers["content-type"] = "application/json"
    event.update({
        "routeKey": f"{method} {route}",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
    })
    # What SAM's sample carries that this API never sends: cookies, stage variables, mTLS.
    for absent in ("cookies", "stageVariables"):
        event.pop(absent, None)
    if query:
        params = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            params[name] = f"{params[name]},{value}" if name in params else value
        event["queryStringParameters"] = params
    else:
        event.pop("queryStringParameters", None)
    parameters = route_parameters(route, path)
    if parameters:
        event["pathParameters"] = parameters
    else:
        event.pop("pathParameters", None)
    if body is None:
        event.pop("body", None)
        event["isBase64Encoded"] = False
    elif extra.get("base64"):
        event["body"] = base64.b64encode(text.encode()).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = text
        event["isBase64Encoded"] = False
    context = event["requestContext"]
    context.pop("authentication", None)
    context.update({
        "apiId": API_ID,
        "domainName": HOST,
        "domainPrefix": API_ID,
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": f"{method} {route}",
        "stage": STAGE,
        "time": TIME,
        "timeEpoch": EPOCH,
    })
    context["http"].update({"method": method, "path": raw_path, "sourceIp": "203.0.113.10", "userAgent": "curl/8.5.0"})
    context["authorizer"] = {"jwt": {"claims": extra.get("claims", ID_CLAIMS), "scopes": None}}
    return event


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for name, *spec in FIXTURES:
        text = json.dumps(fixture(*spec), indent=2) + "\n"
        path = EVENTS / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        sys.exit(f"out of date (run scripts/http-api-fixtures.py): {', '.join(stale)}")


if __name__ == "__main__":
    main()
