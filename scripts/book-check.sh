#!/usr/bin/env bash
# Build the book with no warnings, check its internal links and the labs' book links, and run
# its runnable blocks against the live lab stacks (see book/README.md).
# Usage: scripts/book-check.sh [--no-run] [--only phase-3] [--keep] [--list] [--remap 8080=18080]
#
# mdbook 0.5.4 and mdbook-quiz 0.5.0 are installed with cargo into ~/.cargo/bin when missing
# (about 5 minutes, once), so a clean CI machine needs only a Rust toolchain.
set -euo pipefail
export PATH="$HOME/.cargo/bin:$PATH"
need=()
command -v mdbook >/dev/null || need+=(mdbook@0.5.4)
command -v mdbook-quiz >/dev/null || need+=(mdbook-quiz@0.5.0)
if [ ${#need[@]} -gt 0 ]; then
  command -v cargo >/dev/null || { echo "book-check: ${need[*]} missing and no cargo to install them" >&2; exit 2; }
  echo "book-check: installing ${need[*]} with cargo (once)" >&2
  for crate in "${need[@]}"; do
    cargo install --locked --quiet "$crate" >&2 || { echo "book-check: cargo install $crate failed" >&2; exit 2; }
  done
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
