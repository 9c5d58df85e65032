#!/usr/bin/env bash
# `make screenshots`: runs the web client's browser tests (tests/browser/test_web_client.py)
# against a fresh, throwaway `make dev`, then copies the screenshots the README shows into
# docs/screenshots/. The tests take their screenshots in `make test` too (target/screenshots/).
# Extra arguments go to pytest (e.g. -k journey).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

# shellcheck source=scripts/lib/make-dev.sh
source scripts/lib/make-dev.sh
work=$(mktemp -d)
cleanup() {
  stop_make_dev
  rm -rf "$work"
}
trap cleanup EXIT
WEB_PORT=$(free_port)
# The tests' other origin (the page that tries to frame ours), served by the tests themselves and
# allowed by this make dev as smoke-dev.sh allows it.
PAGE_ORIGIN="http://127.0.0.1:$(free_port)"
start_make_dev "$work" ORIGINS="http://127.0.0.1:$WEB_PORT,$PAGE_ORIGIN" WEB_PORT="$WEB_PORT"
shots="$work/screenshots"
NOTES_API="http://127.0.0.1:$PORT" PAGE_ORIGIN="$PAGE_ORIGIN" SCREENSHOT_DIR="$shots" \
  python -m pytest -q -p no:cacheprovider tests/browser/test_web_client.py "$@"
mkdir -p docs/screenshots
for name in journey-03-dictated journey-04-board conflict-01-view phone-01-notes dark-01-phone cards-01-collapsed mfa-01-setup; do
  if [ -f "$shots/$name.png" ]; then
    cp "$shots/$name.png" "docs/screenshots/$name.png"
    echo "docs/screenshots/$name.png" >&2
  fi
done
