#!/usr/bin/env bash
# Installs everything the project needs for development and tests, project-locally, from the
# package registries only: Python tools into .venv (cargo-lambda, ziglang, ...), DynamoDB Local into
# node_modules (the official jar, shipped by amplify-dynamodb-simulator), and the rustup
# components the checks use. Safe to run again: it only does what is missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }
need() {
  command -v "$1" >/dev/null 2>&1 || { printf 'error: %s is required: %s\n' "$1" "$2" >&2; exit 1; }
}

need cargo "install Rust with rustup (https://rustup.rs)"
need python3 "install Python 3.9 or newer"
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
# (`playwright install` downloads its own browsers, which this project does not need).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Chromium for the browser tests (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    printf 'error: the browser tests need Chromium: install the chromium package (or set CHROMIUM=/path/to/chrome)\n' >&2
    exit 1
  fi
fi

# Real speech for the local Polly (crates/notes-devkit/src/polly_local.rs): espeak-ng speaks the
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

# Python tools, reinstalled only when requirements-dev.txt changes.
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
if ! cmp -s requirements-dev.txt .venv/.requirements-installed 2>/dev/null; then
  say "installing Python tools into .venv (requirements-dev.txt)"
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
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
