#!/usr/bin/env bash
# `make bench`: builds the functions as they are deployed (cargo lambda, release profile, zips)
# and the baselines under bench/baselines (Python 3.11 + boto3 with awslambdaric, Node 20 + AWS
# SDK v3 with aws-lambda-ric, a hello-world lambda_runtime binary), runs crates/notes-bench (plain HTTP
# and TLS to the local services, own time apart from theirs, the bill), and puts the tables in the
# docs/benchmarks.md between the bench markers. A benchmark: it prints figures, it does not pass or fail on
# them (the targets are reported as met or not). Its figures are times: run it on an otherwise
# idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

step() { printf '\n==> %s\n' "$*" >&2; }

scripts/setup.sh

step "release build of the functions, as deployed but for this machine: cargo lambda build --release"
# The benchmark runs the functions here, so it builds them for this machine's architecture, not
# the stack's (CargoLambda.toml pins that one, and cargo lambda offers no flag over it): the
# pin is set aside for these two builds and put back whatever happens. The stack's own
# bootstraps in target/lambda are rebuilt by the next `make build` (and checked before upload).
case "$(uname -m)" in
  x86_64) host_arch=--x86-64 ;;
  aarch64 | arm64) host_arch=--arm64 ;;
  *) echo "make bench runs on x86_64 or aarch64 only" >&2; exit 1 ;;
esac
mv CargoLambda.toml target/CargoLambda.toml.bench
trap 'mv target/CargoLambda.toml.bench CargoLambda.toml' EXIT
cargo lambda build --release "$host_arch"
# Their zips, for the sizes only, in a directory of their own: a bootstrap.zip left beside a
# bootstrap in target/lambda/<function>/ would be uploaded by `sam deploy` with it.
cargo lambda build --release "$host_arch" --output-format zip --lambda-dir target/lambda-zip
mv target/CargoLambda.toml.bench CargoLambda.toml
trap - EXIT

step "baseline: hello-world lambda_runtime binary (same release profile)"
(cd bench/baselines/rust-hello && cargo lambda build --release && cargo lambda build --release --output-format zip)

step "baseline: Python 3.11 + boto3 + awslambdaric"
python_dir=bench/baselines/python
if ! "$python_dir/.venv/bin/python" -c 'import awslambdaric, boto3' 2>/dev/null; then
  python3.11 -m venv "$python_dir/.venv" 2>/dev/null || python3 -m venv "$python_dir/.venv"
  "$python_dir/.venv/bin/pip" install --quiet -r "$python_dir/requirements.txt"
fi
"$python_dir/.venv/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
  || echo "warning: the Python baseline is not running on Python 3.11" >&2

step "baseline: Node 20 + AWS SDK v3 + aws-lambda-ric"
node_dir=bench/baselines/node
if [ ! -f "$node_dir/node_modules/aws-lambda-ric/dist/rapid-client.node" ]; then
  # aws-lambda-ric compiles its native Runtime API client on install: it needs a C++ toolchain,
  # cmake, autoconf, automake and libtool.
  missing=()
  for tool in cmake autoconf automake libtool g++ make; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get install -y -qq cmake autoconf automake libtool g++ make >/dev/null
    else
      echo "aws-lambda-ric needs: ${missing[*]} (e.g. apt-get install cmake autoconf automake libtool g++ make)" >&2
      exit 1
    fi
  fi
  (cd "$node_dir" && npm ci --no-audit --no-fund)
fi

step "benchmark"
# No Lambda sandbox has these, and every subject inherits this environment: with SSL_CERT_DIR our
# functions would read a whole certificate directory besides the run's CA, and the baselines would
# load bundles they are not given. Each subject gets only the CA variable of its TLS run.
unset SSL_CERT_FILE SSL_CERT_DIR AWS_CA_BUNDLE NODE_EXTRA_CA_CERTS REQUESTS_CA_BUNDLE CURL_CA_BUNDLE
# The binary itself, not `cargo run`: cargo sets SSL_CERT_FILE and SSL_CERT_DIR in its own
# environment when they are unset (openssl-probe) and would hand them on.
cargo build --quiet --release -p notes-bench
target/release/notes-bench "$@"

step "docs/benchmarks.md"
python3 - <<'PY'
import pathlib, re
readme = pathlib.Path("docs/benchmarks.md")
table = pathlib.Path("bench/results/results.md").read_text().strip()
text = readme.read_text()
start, end = "<!-- bench:start -->", "<!-- bench:end -->"
if start not in text or end not in text:
    raise SystemExit("docs/benchmarks.md lacks the bench markers")
before, rest = text.split(start, 1)
_, after = rest.split(end, 1)
readme.write_text(f"{before}{start}\n{table}\n{end}{after}")
print("docs/benchmarks.md: results table updated")
PY
