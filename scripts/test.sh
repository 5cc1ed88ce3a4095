#!/usr/bin/env bash
# The full test suite: the same command for contributors, README.md and CI (.ci/run).
#
#   bash scripts/test.sh
#
# Stages run in order and each prints its time. It makes sure a Docker engine and the image kit
# exist first (both idempotent and quick when already there), because most tests run real stacks.
# Live tests fail, never skip, when no engine answers.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

failed=()
timings=()
stage() {
  local name=$1 start rc
  shift
  printf '\n==> %s\n' "$name"
  start=$(date +%s%N)
  "$@"
  rc=$?
  local ms=$((($(date +%s%N) - start) / 1000000)) secs
  secs=$(printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)))
  timings+=("$(printf '%-26s %7ss  %s' "$name" "$secs" "$([ $rc -eq 0 ] && echo ok || echo FAILED)")")
  printf '<== %s: %ss, %s\n' "$name" "$secs" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")"
  [ $rc -eq 0 ] || failed+=("$name")
  return $rc
}
summary() {
  printf '\nStage timings:\n'
  printf '  %s\n' "${timings[@]}"
  if [ ${#failed[@]} -gt 0 ]; then printf 'FAILED stages: %s\n' "${failed[*]}"; exit 1; fi
  echo "All stages passed."
}
trap summary EXIT

# Without an engine nothing else means anything: stop here.
stage "engine" bash scripts/setup-engine.sh --for-tests || exit 1
# cargo compiles (CPU) while the image kit is built and contract-tested (mostly downloads, disk
# and short containers), side by side; the "cargo build" stage then waits for it.
cargo_log=$(mktemp)
cargo build --workspace --all-targets --locked >"$cargo_log" 2>&1 &
cargo_pid=$!
cargo_done() {
  local rc=0
  wait "$cargo_pid" || rc=$?
  cat "$cargo_log"
  rm -f "$cargo_log"
  return $rc
}
stage "image kit" bash scripts/images.sh || { cargo_done >/dev/null; exit 1; }
stage "image contracts" bash images/tests/contract.sh
stage "cargo build (beside the kit)" cargo_done || exit 1
stage "cargo fmt" cargo fmt --all -- --check
stage "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
# The binary the build stage made: `cargo run` would build it again without the dev-dependencies'
# features (which `--all-targets` unifies in), about 45 s for nothing.
stage "lab specs (labcheck lint)" "${CARGO_TARGET_DIR:-target}/debug/labcheck" lint
stage "cargo test" cargo test --workspace --locked -- --test-threads=2
# A new user's first run, for a compose lab with a custom image (phase 3), the plain-docker lab
# brought up by a script (phase 2) and the largest stack (phase 5); each is torn down after.
quickstart() {
  local rc=0
  bash scripts/quickstart.sh "$1" || rc=$?
  bash scripts/quickstart.sh --down "$1" >/dev/null || rc=1
  return $rc
}
for lab in phase-2 phase-3 phase-5; do stage "quickstart $lab" quickstart "$lab"; done
if [ -x scripts/book-check.sh ] || [ -f scripts/book-check.sh ]; then
  stage "book" bash scripts/book-check.sh
fi
if [ -f scripts/book-browser-test.sh ]; then
  stage "book in a browser" bash scripts/book-browser-test.sh
fi
# The class dashboard of 100 learners x 40 checks, in the same browser (after the book's test,
# which installs it).
stage "dashboard in a browser" bash scripts/dashboard-browser-test.sh
if [ -f scripts/root-stack-test.sh ]; then
  stage "root stack" bash scripts/root-stack-test.sh
fi
