#!/usr/bin/env bash
# The architecture check every packaging path runs before anything is uploaded (make build,
# make deploy, and sam build / sam sync through the Makefile's build-<Function> targets).
#
#   scripts/check-bootstraps.sh arch        print the stack's architecture (arm64 or x86_64)
#   scripts/check-bootstraps.sh config      check CargoLambda.toml builds for that architecture
#   scripts/check-bootstraps.sh [FILE...]   check each bootstrap's ELF header (default: the
#                                           bootstrap of every function in template.yaml)
#
# The one architecture setting is template.yaml's Globals > Function > Architectures (a literal,
# not a parameter, so no deploy can keep or override another value). CargoLambda.toml mirrors it
# for a plain `cargo lambda build --release`. A binary for another machine would fail at its
# first invocation (Runtime.InvalidEntrypoint), so a mismatch stops here, naming the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPLATE=${TEMPLATE:-template.yaml}
CARGO_LAMBDA_CONFIG=${CARGO_LAMBDA_CONFIG:-CargoLambda.toml}

fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The single list item under Globals > Function > Architectures.
stack_architecture() {
  local arch
  arch=$(awk '
    /^Globals:/ { globals = 1; next }
    /^[A-Za-z]/ { globals = 0 }
    globals && /^ +Architectures:/ { found = 1; next }
    found { sub(/^ *- */, ""); sub(/ *(#.*)?$/, ""); print; exit }
  ' "$TEMPLATE")
  case "$arch" in
    arm64 | x86_64) printf '%s\n' "$arch" ;;
    *) fail "$TEMPLATE: Globals > Function > Architectures must list arm64 or x86_64 (found '${arch}')" ;;
  esac
}

# What `cargo lambda build` builds for: the [build] section's arm64 = true or x86_64 = true.
config_architecture() {
  [ -f "$CARGO_LAMBDA_CONFIG" ] || { echo none; return; }
  awk '
    /^\[/ { build = ($0 ~ /^\[build\][ \t]*$/); next }
    build && /^[ \t]*arm64[ \t]*=[ \t]*true/ { arm = 1 }
    build && /^[ \t]*x86_64[ \t]*=[ \t]*true/ { x86 = 1 }
    END { if (arm && !x86) print "arm64"; else if (x86 && !arm) print "x86_64"; else print "none" }
  ' "$CARGO_LAMBDA_CONFIG"
}

check_config() {
  local stack config
  stack=$(stack_architecture)
  config=$(config_architecture)
  [ "$config" = "$stack" ] || fail "$TEMPLATE deploys $stack, but $CARGO_LAMBDA_CONFIG builds for ${config/none/the host}: set \`$stack = true\` (and nothing else) under [build] in $CARGO_LAMBDA_CONFIG (docs/deploy.md, Architecture)"
}

# ELF e_machine of a 64-bit little-endian executable: 62 (0x3e) x86_64, 183 (0xb7) aarch64.
machine_of() {
  local file=$1 magic class data machine
  magic=$(od -An -t x1 -N 4 "$file" | tr -d ' \n')
  [ "$magic" = 7f454c46 ] || { echo "not-elf"; return; }
  class=$(od -An -t u1 -j 4 -N 1 "$file" | tr -d ' ')
  data=$(od -An -t u1 -j 5 -N 1 "$file" | tr -d ' ')
  [ "$class" = 2 ] && [ "$data" = 1 ] || { echo "not-64-bit-le"; return; }
  machine=$(od -An -t u2 -j 18 -N 2 --endian=little "$file" | tr -d ' ')
  case "$machine" in
    62) echo x86_64 ;;
    183) echo arm64 ;;
    *) echo "machine-$machine" ;;
  esac
}

# target/lambda/<binary>/bootstrap of every function: the CodeUris under Resources.
template_bootstraps() {
  sed -n 's|^ *CodeUri: *\(target/lambda/[A-Za-z0-9_-]*\)/\{0,1\} *$|\1/bootstrap|p' "$TEMPLATE"
}

check_bootstraps() {
  local stack files=("$@") file built problems=0
  stack=$(stack_architecture)
  if [ ${#files[@]} -eq 0 ]; then
    mapfile -t files < <(template_bootstraps)
    [ ${#files[@]} -gt 0 ] || fail "$TEMPLATE names no target/lambda/<binary>/ CodeUri"
  fi
  for file in "${files[@]}"; do
    if [ ! -f "$file" ]; then
      printf 'error: %s is missing: run `make build` (or `cargo lambda build --release`)\n' "$file" >&2
      problems=1
      continue
    fi
    built=$(machine_of "$file")
    if [ "$built" != "$stack" ]; then
      printf 'error: %s is built for %s, but %s deploys %s: run `make build` (or `cargo lambda build --release`, which reads %s) and deploy again\n' \
        "$file" "$built" "$TEMPLATE" "$stack" "$CARGO_LAMBDA_CONFIG" >&2
      problems=1
    fi
  done
  [ "$problems" = 0 ] || exit 1
}

case "${1:-}" in
  arch) stack_architecture ;;
  config) check_config ;;
  *) check_config; check_bootstraps "$@" ;;
esac
