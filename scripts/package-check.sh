#!/usr/bin/env bash
# The deploy paths docs/deploy.md shows, run offline as a user runs them: `cargo lambda build
# --release` (for the stack's architecture, CargoLambda.toml), the ELF check make deploy runs
# before upload, and `sam build` (whose Makefile targets run that same build and check). tests/package
# then `sam package`s both into moto's S3 and opens every function's zip: one executable
# bootstrap for the template's architecture, nothing else; and checks that a stale `sam build`
# is never what gets packaged.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}

# A previous run's artifacts must not stand in for this one's.
rm -rf target/lambda .aws-sam
cargo lambda build --release
scripts/check-bootstraps.sh
sam build
# -s: the tests print the zip sizes of each flow.
python -m pytest -q -s -p no:cacheprovider tests/package
