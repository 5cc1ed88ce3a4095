#!/usr/bin/env bash
# Build the rust look-alike from the host's toolchain (see Dockerfile).
#   make.sh TAG LABEL...
set -euo pipefail
tag=$1; shift
sysroot=$(rustc --print sysroot)
args=()
for l in "$@"; do l=${l//\"/}; args+=(--label "$l"); done
docker build -q --build-context toolchain="$sysroot" -t "$tag" "${args[@]}" "$(dirname "$0")" >/dev/null
