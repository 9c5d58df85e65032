#!/usr/bin/env bash
# The README's first command and its walkthrough, exactly as written: `make dev` (on free ports,
# in memory, so nothing of the developer's is touched), then every line of the README block
# between <!-- walkthrough:start --> and <!-- walkthrough:end --> against it. Lines ending in
# `# NNN` must answer with that HTTP status. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port); DYNAMODB_PORT=$(free_port); ISSUER_PORT=$(free_port)
work=$(mktemp -d)
dev_pid=
cleanup() {
  [ -n "$dev_pid" ] && { kill -INT -- -"$dev_pid" 2>/dev/null || kill "$dev_pid" 2>/dev/null || true; }
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT

set -m
make dev PORT="$PORT" DYNAMODB_PORT="$DYNAMODB_PORT" ISSUER_PORT="$ISSUER_PORT" IN_MEMORY=1 >"$work/requests.log" 2>"$work/dev.log" &
dev_pid=$!
set +m
for _ in $(seq 1 1200); do
  grep -q "notes API on" "$work/dev.log" && break
  kill -0 "$dev_pid" 2>/dev/null || { cat "$work/dev.log" >&2; echo "make dev exited" >&2; exit 1; }
  sleep 0.25
done
grep -q "notes API on" "$work/dev.log" || { cat "$work/dev.log" >&2; echo "make dev did not come up" >&2; exit 1; }
echo "ok  make dev: API on 127.0.0.1:$PORT" >&2

# The walkthrough, turned into a checked script: the README's API address becomes this run's.
python3 - "$PORT" >"$work/walkthrough.sh" <<'PY'
import re, shlex, sys
port = sys.argv[1]
readme = open("README.md").read()
block = readme.split("<!-- walkthrough:start -->", 1)[1].split("<!-- walkthrough:end -->", 1)[0]
code = re.search(r"```sh\n(.*?)```", block, re.S).group(1)
print("set -euo pipefail")
checked = 0
for number, line in enumerate(code.splitlines(), 1):
    line = line.replace("http://127.0.0.1:4000", f"http://127.0.0.1:{port}")
    expect = re.search(r"#\s*(\d{3})\b[^'\"]*$", line)
    if line.lstrip().startswith("curl") and expect:
        command = line[: expect.start()].rstrip()
        status = expect.group(1)
        print(f"got=$({command} -o /dev/null -w '%{{http_code}}')")
        print(f"if [ \"$got\" != {status} ]; then echo {shlex.quote(f'README walkthrough line {number}: expected {status}, got')} \"$got: \"{shlex.quote(line)} >&2; exit 1; fi")
        print(f"echo {shlex.quote(f'ok  {status}  ' + line.split('#')[0].strip()[:90])} >&2")
        checked += 1
    else:
        print(line)
if checked < 10:
    sys.exit(f"the README walkthrough has only {checked} checked commands")
PY
bash "$work/walkthrough.sh"
# The request log: one JSON line per request, and no token in it.
lines=$(grep -c '"latencyMs"' "$work/requests.log" || true)
[ "$lines" -ge 10 ] || { echo "expected a request log line per request, got $lines" >&2; exit 1; }
if grep -q "eyJ" "$work/requests.log"; then echo "a token reached the request log" >&2; exit 1; fi
echo "ok  README walkthrough: every command answered as documented; $lines request log lines" >&2
