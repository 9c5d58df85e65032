#!/usr/bin/env bash
# Bounded fuzzing (`make fuzz`, and the test command with a shorter budget): every cargo-fuzz
# target under fuzz/ runs for FUZZ_SECONDS (default 60) with AddressSanitizer, seeded from
# events/ and fuzz/seeds/. A crash, a leak or a timeout fails the run; the reproducer is left
# in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
tools="$PWD/.local/tools"
export PATH="$tools/bin:$PATH"

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "==> installing the nightly toolchain (cargo fuzz needs it)" >&2
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz into .local/tools" >&2
  cargo install --locked --root "$tools" cargo-fuzz
fi

seed() { # seed <target> <files...>
  local corpus="fuzz/corpus/$1"; shift
  mkdir -p "$corpus"
  cp "$@" "$corpus/"
}
seed authorizer_event events/authorizer*.json fuzz/seeds/authorizer-*.json
seed http_event $(ls events/*.json | grep -v authorizer)

for target in $(cargo +nightly fuzz list --fuzz-dir fuzz); do
  echo "==> fuzzing $target for ${seconds}s" >&2
  log="fuzz/artifacts/$target.log"
  mkdir -p fuzz/artifacts
  if ! cargo +nightly fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz target $target failed: reproducer and log in fuzz/artifacts/" >&2
    exit 1
  fi
  grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" >&2 || true
done
