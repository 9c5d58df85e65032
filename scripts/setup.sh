#!/usr/bin/env bash
# Installs what the project needs, project-locally, from the package registries only.
#
#   scripts/setup.sh deploy   what deploying needs (make build, make deploy, make web-config):
#                             Rust with the rustup target of the stack's architecture, and in
#                             .venv cargo-lambda, zig, the SAM CLI and the AWS CLI
#                             (requirements-deploy.txt). No Java, browser or test tool.
#   scripts/setup.sh          everything make test and make dev need besides: a Java runtime and
#                             DynamoDB Local, Chromium, espeak-ng and lame, groff, the test tools
#                             (requirements-dev.txt), node_modules, rustfmt and clippy.
#
# Safe to run again: it only does what is missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-all}
case "$MODE" in
  deploy | all) ;;
  *) printf 'usage: scripts/setup.sh [deploy]\n' >&2; exit 2 ;;
esac

say() { printf '==> %s\n' "$*" >&2; }
need() {
  command -v "$1" >/dev/null 2>&1 || { printf 'error: %s is required: %s\n' "$1" "$2" >&2; exit 1; }
}

# ------------------------------------------------------------------ the deploy tools ----------
need cargo "install Rust with rustup (https://rustup.rs)"
need python3 "install Python 3.9 or newer (the SAM CLI and the AWS CLI run on it)"

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
if ! cmp -s requirements-deploy.txt .venv/.requirements-deploy-installed 2>/dev/null; then
  say "installing the deploy tools into .venv (requirements-deploy.txt: cargo-lambda, zig, SAM CLI, AWS CLI)"
  .venv/bin/pip install --disable-pip-version-check --no-input -r requirements-deploy.txt
  cp requirements-deploy.txt .venv/.requirements-deploy-installed
fi

# cargo lambda cross-compiles with zig, but needs the Rust standard library of the stack's
# architecture (template.yaml; scripts/check-bootstraps.sh reads it).
case "$(scripts/check-bootstraps.sh arch)" in
  arm64) rust_target=aarch64-unknown-linux-gnu ;;
  x86_64) rust_target=x86_64-unknown-linux-gnu ;;
esac
if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed 2>/dev/null | grep -qx "$rust_target"; then
    say "adding the Rust target ${rust_target} (the stack's architecture)"
    rustup target add "$rust_target"
  fi
else
  say "no rustup: make sure your Rust toolchain has the ${rust_target} standard library"
fi

if [ "$MODE" = deploy ]; then
  say "deploy tools ready: cargo, .venv/bin (cargo-lambda, zig, sam, aws), Rust target ${rust_target}"
  exit 0
fi

# ------------------------------------------------------------------ test and dev tools --------
need npm "install Node.js 18 or newer (it brings npm)"
need curl "the README walkthrough and its test use curl"
if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing a Java runtime for DynamoDB Local (apt)"
    apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    printf 'error: java is required to run DynamoDB Local: install a JRE 17 or newer\n' >&2
    exit 1
  fi
fi

# A real browser for the browser tests (tests/browser): Debian's Chromium, driven by Playwright
# (`playwright install` downloads its own browsers, which this project does not need). CHROMIUM
# names another Chrome or Chromium binary, which tests/browser then launches instead.
if [ -n "${CHROMIUM:-}" ]; then
  [ -x "$CHROMIUM" ] || { printf 'error: CHROMIUM=%s is not an executable\n' "$CHROMIUM" >&2; exit 1; }
elif ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Chromium for the browser tests (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    printf 'error: the browser tests need Chromium: install the chromium package (or set CHROMIUM=/path/to/chrome)\n' >&2
    exit 1
  fi
fi

# The deploy guide's test (tests/deploy/test_deploy_guide.py) checks each `aws` command of
# docs/deploy.md against the AWS CLI's own help, which renders through groff (or mandoc).
if ! command -v groff >/dev/null 2>&1 && ! command -v mandoc >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing groff-base for the AWS CLI's help pages (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends groff-base >/dev/null
  else
    printf 'error: the deploy guide test needs groff (or mandoc): install the Debian package groff-base\n' >&2
    exit 1
  fi
fi

# Real speech for the local Polly (crates/local-aws/src/polly_local.rs): espeak-ng speaks the
# text as WAV and lame encodes it to mp3, as Polly returns it.
if ! command -v espeak-ng >/dev/null 2>&1 || ! command -v lame >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing espeak-ng and lame for the local Polly (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends espeak-ng lame >/dev/null
  else
    printf 'error: the local Polly needs espeak-ng and lame: install the Debian packages espeak-ng and lame\n' >&2
    exit 1
  fi
fi

# Python test tools, reinstalled only when requirements-dev.txt changes.
if ! cmp -s requirements-dev.txt .venv/.requirements-installed 2>/dev/null; then
  say "installing Python tools into .venv (requirements-dev.txt)"
  .venv/bin/pip install --disable-pip-version-check --no-input -r requirements-dev.txt
  cp requirements-dev.txt .venv/.requirements-installed
fi

# DynamoDB Local, the web client's Cognito library and axe-core, reinstalled only when
# package-lock.json changes.
if ! cmp -s package-lock.json node_modules/.package-lock-installed 2>/dev/null; then
  say "installing DynamoDB Local, amazon-cognito-identity-js and axe-core into node_modules (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.package-lock-installed
fi

# The checks need rustfmt and clippy; a minimal rustup profile has neither.
if command -v rustup >/dev/null 2>&1; then
  for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
      say "adding rustup component ${component}"
      rustup component add "${component}"
    fi
  done
fi
say "tools ready: .venv/bin (cargo-lambda), node_modules (DynamoDB Local), $(java -version 2>&1 | head -1)"
