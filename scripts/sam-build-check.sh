#!/usr/bin/env bash
# `sam build` exactly as a user runs it before `sam deploy` (samconfig.toml's settings), then
# checks that every function of the template got a `bootstrap` and that all of them were built
# in the workspace's one shared Cargo target directory.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}

sam build
functions=$(python3 - <<'PY'
import sys
sys.path.insert(0, "tests/deploy")
from conftest import functions, load_template
print(" ".join(functions(load_template())))
PY
)
for function in $functions; do
  artifact=".aws-sam/build/$function/bootstrap"
  if [ ! -x "$artifact" ]; then
    echo "sam build produced no executable $artifact" >&2
    exit 1
  fi
  printf 'ok  %-22s %s (%s bytes)\n' "$function" "$artifact" "$(stat -c %s "$artifact")" >&2
done
# One shared target directory: no function crate got a target/ of its own.
if compgen -G "crates/*/target" >/dev/null; then
  echo "a crate has its own target directory: the build did not share the workspace's" >&2
  exit 1
fi
