#!/usr/bin/env bash
# The workbook's own stack, used the way a learner with only Docker uses it: `docker compose up -d`
# serves the book on localhost:3000, and `docker compose run --rm labcheck phase-3` checks a
# phase-3 stack from inside a container. Ends with "root-stack: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
lab=labs/phase-3
proj=rs-phase-3
pass=0 fail=0
ok()  { pass=$((pass + 1)); printf '  ok   %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf '  FAIL %s\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | tail -n 25 | sed 's/^/       /'; }
# expect_exit NAME CODE REGEX CMD...: the command exits CODE and its output matches REGEX
expect_exit() {
  local name=$1 code=$2 re=$3 out rc; shift 3
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$code" ] && grep -Eq -- "$re" <<<"$out"; then ok "$name"; else bad "$name (exit $rc, wanted $code and /$re/)" "$out"; fi
}
learner_stack() { docker compose -f "$lab/solution/compose.yaml" -p "$proj" "$@"; }
cleanup() {
  learner_stack down -v --remove-orphans >/dev/null 2>&1
  docker compose down --remove-orphans >/dev/null 2>&1
}
trap cleanup EXIT

echo "images"
# Both images in one build, side by side (the labcheck image is in the "tools" profile, which
# `up` would not build; `run` would build it later, alone). The book's mdbook-quiz stage is
# already in the build cache when scripts/book-check.sh ran first.
start=$(date +%s)
# Both builds download crates (cargo's registry, in a cache mount): on a fresh machine a slow
# mirror once timed out one index fetch ("Operation too slow"), so a failed build is tried once
# more, and the report says why.
retried="" rc=0
out=$(docker compose --profile tools build 2>&1) || rc=$?
if [ $rc -ne 0 ]; then
  retried=", retried once after: $(grep -m1 -E 'failed to download|Timeout was reached|error' <<<"$out" | sed 's/^ *//' | cut -c1-160)"
  rc=0
  out=$(docker compose --profile tools build 2>&1) || rc=$?
fi
if [ $rc -eq 0 ]; then
  ok "docker compose --profile tools build builds the book and labcheck images ($(($(date +%s) - start))s$retried)"
else
  bad "docker compose --profile tools build" "$out"
fi

echo "book server"
start=$(date +%s)
if out=$(docker compose up -d --wait --wait-timeout 180 2>&1); then
  ok "docker compose up -d starts the book, healthy ($(($(date +%s) - start))s)"
else
  bad "docker compose up -d builds and starts the book" "$out"
fi
expect_exit "the book's front page is served on localhost:3000" 0 'Compose Lab' curl -fsS http://localhost:3000/
expect_exit "phase 3 is served, with the real lab compose file included" 0 'postgres:15-alpine' \
  curl -fsS http://localhost:3000/phase-3/walkthrough.html
expect_exit "the port is published on loopback only" 0 '^127\.0\.0\.1:3000$' docker compose port book 80
expect_exit "the healthcheck reports healthy" 0 '^healthy$' \
  docker inspect -f '{{.State.Health.Status}}' "$(docker compose ps -q book)"

echo "labcheck in a container"
expect_exit "no stack: one clear message" 1 'docker compose up' \
  docker compose run --rm labcheck phase-3 --project "$proj"
if out=$(learner_stack up -d --build --wait --wait-timeout 120 2>&1); then ok "phase-3 solution is up and healthy"; else bad "phase-3 solution is up" "$out"; fi
expect_exit "the solution passes every check" 0 'passed' \
  docker compose run --rm labcheck phase-3 --project "$proj"
expect_exit "json output from the container" 0 '"id": *"phase-3"' \
  docker compose run --rm labcheck phase-3 --project "$proj" --format json
docker compose -f "$lab/solution/compose.yaml" -f "$lab/faults/db-localhost.yml" -p "$proj" up -d >/dev/null 2>&1
expect_exit "a broken stack (db-localhost fault) fails at web-db-host" 1 'web-db-host' \
  docker compose run --rm labcheck phase-3 --project "$proj" --format tap

echo "root-stack: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
