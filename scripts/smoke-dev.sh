#!/usr/bin/env bash
# The README's first command and the walkthrough of docs/local-development.md, exactly as written:
# `make dev` (on free ports, in memory, so nothing of the developer's is touched), then every line
# of the block
# between <!-- walkthrough:start --> and <!-- walkthrough:end --> against it. Lines ending in
# `# NNN` must answer with that HTTP status. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

# shellcheck source=scripts/lib/make-dev.sh
source scripts/lib/make-dev.sh
# The browser tests' page is served from an origin of its own, which this make dev also allows
# (beside its defaults), so the browser enforces CORS exactly as for a deployed stack.
PAGE_ORIGIN="http://127.0.0.1:$(free_port)"
# Our web client: `make dev` serves it on WEB_PORT, an origin that is allowed too (as 127.0.0.1
# only: the tests load it as localhost to meet a real CORS refusal).
WEB_PORT=$(free_port)
ORIGINS="http://localhost:3000,http://127.0.0.1:3000,$PAGE_ORIGIN,http://127.0.0.1:$WEB_PORT"
SCREENSHOTS=${SCREENSHOT_DIR:-target/screenshots}
work=$(mktemp -d)
cleanup() {
  stop_make_dev
  rm -rf "$work"
}
trap cleanup EXIT
# One front door: make dev API=<rest|http>, the walkthrough, the labs' client in Chromium.
check_front_door() {
  local api=$1
  start_make_dev "$work" ORIGINS="$ORIGINS" API="$api"
  echo "ok  make dev API=$api: API on 127.0.0.1:$PORT" >&2
  # Progress while it starts; the page's address once everything answers, before the rest.
  local first
  first=$(grep -a -m1 -E '^(web client on|notes API on)' "$DEV_LOG" || true)
  case "$first" in
    "web client on $WEB_URL/"*) echo "ok  make dev announces the web client's address first, once the backend answers: $WEB_URL/" >&2 ;;
    *) echo "make dev must announce the web client's address before the rest; its first line was: $first" >&2; exit 1 ;;
  esac
  grep -aq '^==> starting DynamoDB Local' "$DEV_LOG" || { echo "make dev did not say what it was starting:" >&2; cat "$DEV_LOG" >&2; exit 1; }

  # The walkthrough, turned into a checked script: its API address becomes this run's.
  python3 - "$PORT" "$api" >"$work/walkthrough.sh" <<'PY'
import os, re, shlex, sys
port, api = sys.argv[1], sys.argv[2]
cognito_env = os.environ["COGNITO_ENV"]
readme = open("docs/local-development.md").read()
block = readme.split("<!-- walkthrough:start -->", 1)[1].split("<!-- walkthrough:end -->", 1)[0]
code = re.search(r"```sh\n(.*?)```", block, re.S).group(1)
print("set -euo pipefail")
checked = 0
for number, line in enumerate(code.splitlines(), 1):
    line = line.replace("http://127.0.0.1:4000", f"http://127.0.0.1:{port}")
    line = line.replace(".local/cognito.env", cognito_env)
    # `# 403` is the status; `# 403 (HTTP API: 404)` names the HTTP API's where it differs.
    expect = re.search(r"#\s*(\d{3})\b(?:\s*\(HTTP API: (\d{3})\))?[^'\"]*$", line)
    if line.lstrip().startswith("curl") and expect:
        command = line[: expect.start()].rstrip()
        status = expect.group(2) if api == "http" and expect.group(2) else expect.group(1)
        print(f"got=$({command} -o /dev/null -w '%{{http_code}}')")
        print(f"if [ \"$got\" != {status} ]; then echo {shlex.quote(f'walkthrough line {number}: expected {status}, got')} \"$got: \"{shlex.quote(line)} >&2; exit 1; fi")
        print(f"echo {shlex.quote(f'ok  {status}  ' + line.split('#')[0].strip()[:90])} >&2")
        checked += 1
    else:
        print(line)
if checked < 10:
    sys.exit(f"the walkthrough has only {checked} checked commands")
PY
  bash "$work/walkthrough.sh"
  # The request log: one JSON line per request, and no token in it.
  lines=$(grep -c '"latencyMs"' "$REQUESTS_LOG" || true)
  [ "$lines" -ge 10 ] || { echo "expected a request log line per request, got $lines" >&2; exit 1; }
  if grep -q "eyJ" "$REQUESTS_LOG"; then echo "a token reached the request log" >&2; exit 1; fi
  echo "ok  walkthrough (docs/local-development.md) ($api API): every command answered as documented; $lines request log lines" >&2

  # The labs' web client in a real Chromium, from another origin, with a raw ID token that the
  # labs' own CLI flow gets from the local pool.
  # shellcheck disable=SC1090
  source "$COGNITO_ENV"
  aws cognito-idp sign-up --client-id "$AppClientId" --username labs-student --password 'Correct-Horse-9!' \
    --user-attributes Name=email,Value=labs-student@example.com >/dev/null
  aws cognito-idp admin-confirm-sign-up --user-pool-id "$CognitoPoolId" --username labs-student
  LABS_ID_TOKEN=$(aws cognito-idp initiate-auth --auth-flow USER_PASSWORD_AUTH --client-id "$AppClientId" \
    --auth-parameters 'USERNAME=labs-student,PASSWORD=Correct-Horse-9!' --query AuthenticationResult.IdToken --output text)
  # Both browser suites in one pytest process (one Chromium): the labs' client replayed, and our
  # web client (web/), each against this front door.
  NOTES_API="http://127.0.0.1:$PORT" PAGE_ORIGIN="$PAGE_ORIGIN" LABS_ID_TOKEN="$LABS_ID_TOKEN" \
    SCREENSHOT_DIR="$SCREENSHOTS/$api" \
    python -m pytest -q -p no:cacheprovider --durations=5 tests/browser
  echo "ok  the labs' web client ($api API), replayed in Chromium from $PAGE_ORIGIN" >&2
  echo "ok  our web client ($api API) in Chromium from $WEB_URL; screenshots in $SCREENSHOTS/$api" >&2
  stop_make_dev
}

check_front_door rest
check_front_door http

# make dev exactly as the README types it (data kept on disk), stopped and started again: notes
# and users survive, nothing recompiles, make token answers at once; and a page opened while it
# starts says so and loads by itself (Chromium).
python -m pytest -q -s -p no:cacheprovider tests/dev
