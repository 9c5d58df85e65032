#!/usr/bin/env bash
# Walks the README's "run it locally" commands exactly as a newcomer would type them, on free
# ports: `make dynamodb`, `make watch` (cargo lambda watch) and `make invoke` with fixtures from
# events/, and checks what comes back. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DYNAMODB_PORT=$(free_port)
INVOKE_PORT=$(free_port)
ISSUER_PORT=$(free_port)
logs=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    # make runs its recipe in a child: stop the whole process group.
    kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
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

set -m # own process groups for the background jobs, so cleanup can stop each whole tree
make dynamodb DYNAMODB_PORT="$DYNAMODB_PORT" DYNAMODB_DATA="$logs/data" >"$logs/dynamodb.log" 2>&1 &
pids+=($!)
make issuer ISSUER_PORT="$ISSUER_PORT" >"$logs/issuer.log" 2>&1 &
pids+=($!)
make watch DYNAMODB_PORT="$DYNAMODB_PORT" INVOKE_PORT="$INVOKE_PORT" ISSUER_PORT="$ISSUER_PORT" >"$logs/watch.log" 2>&1 &
pids+=($!)
set +m

wait_for 300 "DynamoDB Local with tables" grep -q "listening on" "$logs/dynamodb.log"
wait_for 120 "the local issuer" grep -q "local issuer" "$logs/issuer.log"
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
allowed=$(make --no-print-directory authorize USER=alice INVOKE_PORT="$INVOKE_PORT" ISSUER_PORT="$ISSUER_PORT")
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["policyDocument"]["Statement"][0]["Effect"]=="Allow" and r["context"]["username"]=="alice", r' "$allowed" \
  || { echo "make authorize USER=alice: expected an Allow for alice, got: $allowed" >&2; tail -n 40 "$logs/watch.log" >&2; exit 1; }
echo "ok  authorizer (make authorize USER=alice) -> Allow, username alice" >&2
refused=$(invoke authorizer events/authorizer-garbage-token.json 2>&1 || true)
grep -q "Unauthorized" <<<"$refused" || { echo "a garbage token was not refused: $refused" >&2; exit 1; }
echo "ok  authorizer events/authorizer-garbage-token.json -> Unauthorized" >&2
echo "README local path works" >&2
