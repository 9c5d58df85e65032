# Sourced by the test scripts that need a throwaway `make dev` (smoke-dev.sh, schemathesis.sh):
# free loopback ports, an in-memory `make dev` in a process group of its own, its pool's ids in
# the run's own directory (so a developer's .local/cognito.env and a `make dev` on the default
# ports stay untouched), and a stop that takes the whole group down.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_make_dev WORK_DIR [VARIABLE=value ...]: starts `make dev` with the extra make variables,
# waits until it serves, and sets PORT (the API's), DEV_PID, COGNITO_ENV and FUNCTIONS_ENV (for
# `make watch`), and WEB_URL, the web client's page (on WEB_PORT if set, else a free port; its
# config.js in WORK_DIR, so a developer's own `make dev` keeps its own). Its request log and
# its own output go to WORK_DIR/requests.log and WORK_DIR/dev.log.
start_make_dev() {
  local work=$1
  shift
  PORT=$(free_port)
  local dynamodb_port cognito_port polly_port
  dynamodb_port=$(free_port)
  cognito_port=$(free_port)
  polly_port=$(free_port)
  export COGNITO_ENV="$work/cognito.env"
  export FUNCTIONS_ENV="$work/functions.env"
  local web_port=${WEB_PORT:-$(free_port)}
  export WEB_URL="http://127.0.0.1:$web_port"
  set -m
  make dev PORT="$PORT" DYNAMODB_PORT="$dynamodb_port" COGNITO_PORT="$cognito_port" POLLY_PORT="$polly_port" \
    FUNCTIONS_ENV="$FUNCTIONS_ENV" WEB_PORT="$web_port" DEV_WEB_CONFIG="$work/web/config.js" IN_MEMORY=1 "$@" \
    >"$work/requests.log" 2>"$work/dev.log" &
  DEV_PID=$!
  set +m
  for _ in $(seq 1 1200); do
    grep -q "notes API on" "$work/dev.log" && break
    kill -0 "$DEV_PID" 2>/dev/null || { cat "$work/dev.log" >&2; echo "make dev exited" >&2; return 1; }
    sleep 0.25
  done
  grep -q "notes API on" "$work/dev.log" || { cat "$work/dev.log" >&2; echo "make dev did not come up" >&2; return 1; }
}

# stop_make_dev: Ctrl-C to the whole group, as a developer stops it.
stop_make_dev() {
  if [ -n "${DEV_PID:-}" ]; then
    kill -INT -- -"$DEV_PID" 2>/dev/null || kill "$DEV_PID" 2>/dev/null || true
    sleep 1
  fi
}
