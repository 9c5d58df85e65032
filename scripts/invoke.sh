#!/usr/bin/env bash
# `make invoke` and `make authorize`: one event to one function served by `make watch` (cargo
# lambda watch), with the answer on stdout. The authorizer's three outcomes read as outcomes:
# an Allow or a Deny policy is summed up in one line (on stderr) before the policy itself, and a
# refused token, which the authorizer answers with the error "Unauthorized" (API Gateway's 401),
# is reported as that outcome, not as a crash of cargo lambda.
#
# usage: scripts/invoke.sh FUNCTION INVOKE_PORT (--data-file FILE | --data-ascii JSON)
set -uo pipefail
fn=$1 port=$2
shift 2
echo "==> invoking $fn through make watch on 127.0.0.1:$port (a function's first call waits while make watch compiles it: its progress shows in make watch's terminal)" >&2
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
cargo lambda invoke "$fn" --invoke-port "$port" "$@" >"$out" 2>"$err"
status=$?
if [ "$fn" != authorizer ]; then
  cat "$out"
  cat "$err" >&2
  exit "$status"
fi
if [ "$status" -eq 0 ]; then
  python3 - "$out" <<'PY' >&2
import json, sys
try:
    answer = json.load(open(sys.argv[1]))
    statement = answer["policyDocument"]["Statement"][0]
    effect, resource = statement["Effect"], statement["Resource"]
except (ValueError, KeyError, IndexError, TypeError):
    sys.exit(0)  # not a policy: shown as it is below
who = (answer.get("context") or {}).get("username") or answer.get("principalId", "?")
if isinstance(resource, list):
    resource = ", ".join(resource)
verdict = "may call" if effect == "Allow" else "may not call"
print(f"{effect}: {who} {verdict} {resource} (API Gateway {'runs the function' if effect == 'Allow' else 'answers 403'})")
PY
  cat "$out"
  exit 0
fi
# The authorizer's way of saying 401: the error message "Unauthorized", exactly.
if grep -qs "Unauthorized" "$out" "$err"; then
  echo "Unauthorized: the authorizer refused the token, so API Gateway answers 401 {\"message\":\"Unauthorized\"} and no function runs" >&2
  echo '{"errorMessage":"Unauthorized"}'
  exit 0
fi
cat "$out"
cat "$err" >&2
exit "$status"
