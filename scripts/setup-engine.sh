#!/usr/bin/env bash
# Make sure a Docker engine with Compose v2 and buildx answers, and change nothing that works.
#
#   bash scripts/setup-engine.sh              # idempotent; exits non-zero with the reason when it can't
#   bash scripts/setup-engine.sh --for-tests  # also the test suite's tools (Compose v1, tmux)
#
# 1. `docker info` already works (Docker Desktop, Docker Engine): the engine is left alone.
# 2. No engine, Debian 12 as root: install bookworm's docker.io for its dependencies (runc,
#    iptables, tini), then run Engine 26 from trixie's docker.io and containerd .debs, unpacked
#    under $ENGINE_DIR and put ahead of /usr/sbin on dockerd's PATH. Bookworm's own engine is
#    20.10 (API 1.41), which lacks healthcheck start_interval and DNSNames. Bookworm's runc is
#    kept: trixie's needs glibc 2.38.
# 3. Compose v2 and buildx: where the CLI lacks them, trixie's docker-compose and docker-buildx
#    binaries are installed as CLI plugins (they run on bookworm).
# 4. With --for-tests only (test.sh, CI), what the suite alone uses, where it is missing and apt
#    can: Compose v1 (`docker-compose` 1.29, bookworm's package; a live test checks that labcheck
#    judges v1 stacks) and tmux (the live test of `labcheck watch`). A learner's quickstart skips
#    both: on a fresh machine their apt install is time spent on nothing the learner uses.
set -euo pipefail
for_tests=false
[ "${1:-}" = --for-tests ] && for_tests=true

ENGINE_DIR=${COMPOSE_LAB_ENGINE_DIR:-/opt/compose-lab/engine}
STATE_DIR=${COMPOSE_LAB_STATE_DIR:-/var/lib/compose-lab}
LOG=${COMPOSE_LAB_DOCKERD_LOG:-/var/log/compose-lab/dockerd.log}
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
SOCK=/var/run/docker.sock

say() { printf 'setup-engine: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

# apt-get against trixie alone, with its own lists, so the host's sources and packages are untouched.
trixie_apt() {
  local d="$STATE_DIR/trixie-apt"
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
  echo "deb http://deb.debian.org/debian trixie main" >"$d/sources.list"
  apt-get -q -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o APT::Get::List-Cleanup=0 \
    -o APT::Sandbox::User=root "$@"
}

# Unpack the named trixie packages into $ENGINE_DIR (once per package version).
unpack_trixie() {
  local work="$STATE_DIR/debs"
  mkdir -p "$work" "$ENGINE_DIR"
  [ -f "$STATE_DIR/trixie-apt/lists/.updated" ] || { trixie_apt update >/dev/null && touch "$STATE_DIR/trixie-apt/lists/.updated"; }
  (cd "$work" && trixie_apt download "$@" >/dev/null)
  local deb
  for pkg in "$@"; do
    deb=$(ls -t "$work/${pkg}"_*.deb | head -n1)
    dpkg-deb -x "$deb" "$ENGINE_DIR/root"
  done
}

# apt-get install from the host's own sources, refreshing its package lists once per run.
apt_updated=false
apt_install() {
  $apt_updated || { timeout 600 apt-get -q update >/dev/null; apt_updated=true; }
  # No init system starts services here; keep the package scripts from trying.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -q install -y --no-install-recommends "$@" >/dev/null
  rm -f /usr/sbin/policy-rc.d
}

have_plugin() { docker "$1" version >/dev/null 2>&1; }

install_plugins() {
  local missing=()
  have_plugin compose || missing+=(docker-compose)
  have_plugin buildx || missing+=(docker-buildx)
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root "install ${missing[*]}"
  need_debian "install ${missing[*]}"
  say "adding CLI plugins from trixie: ${missing[*]}"
  unpack_trixie "${missing[@]}"
  mkdir -p "$PLUGIN_DIR"
  for p in "${missing[@]}"; do
    install -m 0755 "$ENGINE_DIR/root/usr/libexec/docker/cli-plugins/$p" "$PLUGIN_DIR/$p"
  done
  have_plugin compose || die "docker compose still missing after installing the plugin"
  have_plugin buildx || die "docker buildx still missing after installing the plugin"
}

# Is `docker-compose` Compose v1? Its output is read whole: under pipefail, `| grep -q` fails
# when grep exits before docker-compose has written its last line (it then dies of SIGPIPE).
compose_v1() {
  local v
  v=$(docker-compose version 2>/dev/null) || return 1
  [[ $v == *"version 1."* ]]
}

# Compose v1, for the live test of v1 stacks (learners never need it).
install_compose_v1() {
  compose_v1 && return 0
  if [ "$(id -u)" -ne 0 ] || ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
    say "note: docker-compose v1 is missing (the live test of Compose v1 stacks will fail); on Debian 12: apt-get install docker-compose"
    return 0
  fi
  say "installing Compose v1 (bookworm's docker-compose 1.29) for the live tests"
  apt_install docker-compose
  compose_v1 || die "docker-compose v1 still missing after apt-get install docker-compose"
}

# tmux, through which the live test of `labcheck watch` reads its redraws as a terminal would.
install_tmux() {
  command -v tmux >/dev/null && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    say "note: tmux is missing (the live test of labcheck watch will fail): apt-get install tmux"
    return 0
  fi
  say "installing tmux for the live test of labcheck watch"
  apt_install tmux
}

need_root() { [ "$(id -u)" -eq 0 ] || die "cannot $1: not root. Install Docker Engine with Compose v2 yourself, or rerun as root."; }
need_debian() {
  grep -q '^VERSION_CODENAME=\(bookworm\|trixie\)' /etc/os-release 2>/dev/null && command -v apt-get >/dev/null ||
    die "cannot $1 automatically: this script knows Debian 12/13 only. Install Docker Engine (with Compose v2) for your system."
}

start_engine() {
  need_root "start a Docker engine"
  need_debian "install a Docker engine"
  if ! command -v runc >/dev/null || ! command -v iptables >/dev/null; then
    say "installing bookworm's docker.io for runc, iptables and tini"
    apt_install docker.io iptables ca-certificates
  fi
  [ -x "$ENGINE_DIR/root/usr/sbin/dockerd" ] || { say "unpacking Engine 26 from trixie's docker.io and containerd"; unpack_trixie docker.io containerd; }
  local bin="$ENGINE_DIR/bin"
  mkdir -p "$bin" "$(dirname "$LOG")"
  for b in usr/sbin/dockerd usr/sbin/docker-proxy usr/bin/docker-init usr/bin/containerd usr/bin/containerd-shim-runc-v2; do
    ln -sf "$ENGINE_DIR/root/$b" "$bin/$(basename "$b")"
  done
  # A dockerd that is alive but not answering yet is waited for; a stale pid file from a killed
  # one is removed, since it would stop the new one.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then rm -f /var/run/docker.pid; fi
  if [ ! -f /var/run/docker.pid ]; then
    say "starting dockerd (log: $LOG)"
    PATH="$bin:$PATH" nohup setsid "$bin/dockerd" --host "unix://$SOCK" >>"$LOG" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do
    engine_answers && return 0
    sleep 0.5
  done
  tail -n 20 "$LOG" >&2 || true
  die "dockerd did not answer on $SOCK within 30 s; its log is $LOG"
}

command -v docker >/dev/null || {
  need_root "install the docker CLI"; need_debian "install the docker CLI"
  say "installing the docker CLI (bookworm's docker.io)"
  apt_install docker.io
}
if engine_answers; then
  say "engine answers; leaving it as it is"
else
  start_engine
fi
install_plugins
if $for_tests; then
  install_compose_v1
  install_tmux
fi
say "ready: $(docker version --format 'Engine {{.Server.Version}} (API {{.Server.APIVersion}})'), $(docker compose version --short | sed 's/^/Compose /'), buildx $(docker buildx version | awk '{print $2}')"
