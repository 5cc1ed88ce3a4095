#!/usr/bin/env bash
# Build the book with no warnings, check its internal links, run its runnable blocks.
# Usage: scripts/book-check.sh [--no-run] [--only phase-3] [--keep] [--list]
set -euo pipefail
export PATH="$HOME/.cargo/bin:$PATH"
exec python3 "$(dirname "$0")/book-check.py" "$@"
