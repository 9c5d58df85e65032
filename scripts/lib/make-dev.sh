# Sourced by the test scripts that need a throwaway `make dev` (smoke-dev.sh, schemathesis.sh,
# smoke-local-invoke.sh): free loopback ports, an in-memory `make dev` in a process group of its
# own, its pool's ids in the run's own directory (so a developer's .local/cognito.env and a
# `make dev` on the default ports stay untouched), and a stop that waits until the whole group
# has exited. Every start writes logs of its own (DEV_LOG, REQUESTS_LOG): a start never shares a
# file with a previous one that is still exiting.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

MAKE_DEV_STARTS=0

# start_make_dev WORK_DIR [VARIABLE=value ...]: starts `make dev` with the extra make variables,
# waits until it serves, and sets PORT (the API's), DEV_PID, COGNITO_ENV and FUNCTIONS_ENV (for
# `make watch`), and WEB_URL, the web client's page (on WEB_PORT if set, else a free port; its
# config.js in WORK_DIR, so a developer's own `make dev` keeps its own). Its request log and its
# own output go to REQUESTS_LOG and DEV_LOG, files of this start in WORK_DIR.
start_make_dev() {
  local work=$1
  shift
  MAKE_DEV_STARTS=$((MAKE_DEV_STARTS + 1))
  export DEV_LOG="$work/dev-$MAKE_DEV_STARTS.log"
  export REQUESTS_LOG="$work/requests-$MAKE_DEV_STARTS.log"
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
    >"$REQUESTS_LOG" 2>"$DEV_LOG" &
  DEV_PID=$!
  set +m
  # A first start may build for many minutes on a busy machine: cargo's progress is in DEV_LOG.
  for _ in $(seq 1 4800); do
    grep -qa "notes API on" "$DEV_LOG" && break
    kill -0 "$DEV_PID" 2>/dev/null || { cat "$DEV_LOG" >&2; echo "make dev exited" >&2; return 1; }
    sleep 0.25
  done
  grep -qa "notes API on" "$DEV_LOG" || { cat "$DEV_LOG" >&2; echo "make dev did not come up in 20 minutes" >&2; return 1; }
}

# stop_make_dev: Ctrl-C to the whole group, as a developer stops it, then waits until make and
# every process it started (notes-dev, java, moto, the functions) have exited: the next start
# may take the same ports and data directory. Killed after a minute, and then it is an error.
stop_make_dev() {
  [ -n "${DEV_PID:-}" ] || return 0
  local pid=$DEV_PID
  DEV_PID=
  kill -INT -- -"$pid" 2>/dev/null || kill -INT "$pid" 2>/dev/null || true
  # make is this shell's child: `wait` reaps it (a zombie would still count as alive). A watchdog
  # ends the group if it has not stopped within a minute.
  ( sleep 60; kill -KILL -- -"$pid" 2>/dev/null ) &
  local watchdog=$!
  wait "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 600); do
    kill -0 -- -"$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
  if kill -0 -- -"$pid" 2>/dev/null; then
    kill -KILL -- -"$pid" 2>/dev/null || true
    echo "make dev (process group $pid) did not exit within a minute of Ctrl-C" >&2
    return 1
  fi
}
