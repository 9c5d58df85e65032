#!/usr/bin/env bash
# Walks the README's "invoke single functions" commands exactly as a newcomer would type them, on
# free ports: `make dev` (for its services), `make watch` (cargo lambda watch) and `make invoke`
# with fixtures from events/, `make authorize` with a token of the local pool, and checks what
# comes back. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

# shellcheck source=scripts/lib/make-dev.sh
source scripts/lib/make-dev.sh
INVOKE_PORT=$(free_port)
logs=$(mktemp -d)
watch_pid=
cleanup() {
  # make runs its recipe in a child: stop the whole process group.
  [ -n "$watch_pid" ] && { kill -- -"$watch_pid" 2>/dev/null || kill "$watch_pid" 2>/dev/null || true; }
  stop_make_dev
  rm -rf "$logs"
}
trap cleanup EXIT

wait_for() { # wait_for <seconds> <description> <command...>
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 4))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  echo "timed out waiting for $what" >&2
  tail -n 50 "$logs"/*.log >&2
  return 1
}

# Before make dev: make watch says what it needs.
if out=$(make --no-print-directory watch FUNCTIONS_ENV="$logs/none.env" 2>&1); then
  echo "make watch without make dev should refuse to start" >&2; exit 1
fi
grep -q "start make dev first" <<<"$out" || { echo "make watch without make dev: unclear error: $out" >&2; exit 1; }

start_make_dev "$logs"
echo "ok  make dev (its services: DynamoDB Local, moto's Cognito and S3, the local Polly)" >&2
set -m # an own process group for make watch, so cleanup can stop its whole tree
make watch INVOKE_PORT="$INVOKE_PORT" FUNCTIONS_ENV="$FUNCTIONS_ENV" >"$logs/watch.log" 2>&1 &
watch_pid=$!
set +m
wait_for 120 "cargo lambda watch" bash -c "exec 3<>/dev/tcp/127.0.0.1/$INVOKE_PORT"

invoke() { # invoke <function> <event> -> response JSON on stdout
  make --no-print-directory invoke FN="$1" EVENT="$2" INVOKE_PORT="$INVOKE_PORT"
}
expect_status() { # expect_status <function> <event> <status>
  local out
  out=$(invoke "$1" "$2")
  if ! python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r["statusCode"]==int(sys.argv[2]) else 1)' "$out" "$3"; then
    echo "make invoke FN=$1 EVENT=$2: expected status $3, got: $out" >&2
    tail -n 40 "$logs/watch.log" >&2
    exit 1
  fi
  echo "ok  $1 $2 -> $3" >&2
  printf '%s' "$out"
}

expect_status createUpdate events/create-note.json 201 >/dev/null
expect_status createUpdate events/update-note.json 201 >/dev/null
expect_status list events/list-notes.json 200 | grep -q '"Buy oat milk' || { echo "list did not return the note just written" >&2; exit 1; }
expect_status list events/search-notes.json 200 >/dev/null
expect_status list events/list-notes-no-identity.json 401 >/dev/null
expect_status delete events/delete-note.json 204 >/dev/null
expect_status delete events/delete-note.json 404 >/dev/null
expect_status post events/create-post.json 201 >/dev/null
expect_status post events/list-posts.json 200 >/dev/null
# Dictate: alice's note 1 (written again, as it was just deleted), read aloud by the local Polly
# and kept in moto's S3.
expect_status createUpdate events/update-note.json 201 >/dev/null
url=$(expect_status dictate events/dictate-note.json 200 | python3 -c 'import json,sys; print(json.loads(json.load(sys.stdin)["body"]))')
curl -sf -o "$logs/note.mp3" "$url" || { echo "the presigned URL of make invoke FN=dictate did not download" >&2; exit 1; }
head -c 3 "$logs/note.mp3" | od -An -tx1 | grep -Eq "ff f[23bf]|49 44 33" || { echo "make invoke FN=dictate: not an mp3" >&2; exit 1; }
echo "ok  the presigned URL downloads an mp3 ($(wc -c <"$logs/note.mp3") bytes)" >&2
expect_status dictate events/dictate-note-unknown-voice.json 400 >/dev/null
expect_status dictate events/dictate-note-other-user.json 404 >/dev/null
allowed=$(make --no-print-directory authorize USER=alice INVOKE_PORT="$INVOKE_PORT" COGNITO_ENV="$COGNITO_ENV")
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["policyDocument"]["Statement"][0]["Effect"]=="Allow" and r["context"]["username"]=="alice", r' "$allowed" \
  || { echo "make authorize USER=alice: expected an Allow for alice, got: $allowed" >&2; tail -n 40 "$logs/watch.log" >&2; exit 1; }
echo "ok  authorizer (make authorize USER=alice) -> Allow, username alice" >&2
# An expected outcome reads as one: no error exit, no "Start a thread" from cargo lambda.
refused=$(invoke authorizer events/authorizer-garbage-token.json 2>&1) \
  || { echo "make invoke of a refused token must not fail like a crash: $refused" >&2; exit 1; }
grep -q "^Unauthorized: the authorizer refused the token" <<<"$refused" || { echo "a garbage token was not reported as refused: $refused" >&2; exit 1; }
if grep -q "Start a thread" <<<"$refused"; then echo "make invoke of a refused token reads as a crash: $refused" >&2; exit 1; fi
echo "ok  authorizer events/authorizer-garbage-token.json -> Unauthorized (an outcome, exit 0)" >&2
allowed_line=$(make --no-print-directory authorize USER=alice INVOKE_PORT="$INVOKE_PORT" COGNITO_ENV="$COGNITO_ENV" 2>&1 >/dev/null | grep '^Allow: ' || true)
[ -n "$allowed_line" ] || { echo "make authorize did not say Allow in a line of its own" >&2; exit 1; }
echo "ok  make authorize says: $allowed_line" >&2
echo "README local path works" >&2
