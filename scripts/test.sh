#!/usr/bin/env bash
# The project's test command (`make test`, and so CI): installs what is missing, checks
# formatting and lints, runs every test against one DynamoDB Local started for the run, then
# walks the README's local-invoke path (make dynamodb / watch / invoke) with cargo lambda.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

step() { printf '\n==> %s\n' "$*" >&2; }

scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "web client: unit tests of its pure modules (node --test tests/web/)"
node --test tests/web/

step "starting one DynamoDB Local for the test run"
# The dev binaries, built once with the command every dev target and test uses (DEV_BUILD).
make --no-print-directory dev-binaries
run_dir=$(mktemp -d)
cleanup() {
  # Killing notes-dev closes java's lifeline, so DynamoDB Local stops with it.
  [ -n "${ddb_pid:-}" ] && kill "$ddb_pid" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT
target/debug/notes-dev dynamodb --in-memory --no-tables >"$run_dir/endpoint" 2>"$run_dir/dynamodb.log" &
ddb_pid=$!
for _ in $(seq 1 240); do
  [ -s "$run_dir/endpoint" ] && break
  kill -0 "$ddb_pid" 2>/dev/null || { cat "$run_dir/dynamodb.log" >&2; exit 1; }
  sleep 0.25
done
NOTES_TEST_DYNAMODB_ENDPOINT=$(head -n 1 "$run_dir/endpoint")
[ -n "$NOTES_TEST_DYNAMODB_ENDPOINT" ] || { echo "DynamoDB Local did not start" >&2; cat "$run_dir/dynamodb.log" >&2; exit 1; }
export NOTES_TEST_DYNAMODB_ENDPOINT
echo "DynamoDB Local: $NOTES_TEST_DYNAMODB_ENDPOINT" >&2

step "cargo test --workspace"
cargo test --workspace --all-features 2>&1 | tee "$run_dir/cargo-test.log"

step "deploy path, offline: cfn-lint, sam validate --lint, template tests"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
cfn-lint template.yaml
sam validate --lint
python -m pytest -q tests/deploy

step "README run command and walkthrough: make dev, every walkthrough command, the labs' client in Chromium"
scripts/smoke-dev.sh

step "openapi.yaml is exact: Schemathesis (--checks all) against make dev, bounded"
scripts/schemathesis.sh

step "README local path: make dev, make watch, make invoke, make authorize"
scripts/smoke-local-invoke.sh

step "deploy packages: cargo lambda build / sam build, then sam package into moto's S3, every zip opened"
scripts/package-check.sh

step "fuzzing (bounded): make fuzz with FUZZ_SECONDS=${FUZZ_SECONDS:-30}"
FUZZ_SECONDS=${FUZZ_SECONDS:-30} scripts/fuzz.sh

step "nothing unchanged is rebuilt: the dev build after every test compiles nothing"
# Every test above built with the dev build's command and a shell's environment; a build here
# that compiles means the next `make dev` or `make token` would compile too.
rebuild=$(make --no-print-directory -B dev-binaries 2>&1)
if grep -q "Compiling" <<<"$rebuild"; then
  echo "the dev build compiled again after the tests (differing features or environment):" >&2
  echo "$rebuild" >&2
  exit 1
fi
echo "ok  make dev after make test compiles nothing" >&2

step "all checks passed"
# One closing line for the whole run (cargo prints one per test binary, the last being doc-tests).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$run_dir/cargo-test.log"
