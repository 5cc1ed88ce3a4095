#!/usr/bin/env bash
# Build the offline image kit: local look-alikes of the official images the labs name, made from
# Debian packages with no registry, and tagged with the official names so every lab's compose
# file is exactly what a learner writes online.
#
#   bash scripts/images.sh            # build what changed (skips images whose inputs are unchanged)
#   bash scripts/images.sh --force    # rebuild everything
#   bash scripts/images.sh --list     # print the kit: tags and what is really inside
#
# Each look-alike is labelled org.compose-lab.lookalike=true, org.compose-lab.really=<contents>,
# and org.compose-lab.kit-hash=<hash of its inputs>; an image is rebuilt only when that hash
# changes (its folder, the kit image its Dockerfile is FROM, or for the base the host's extra CA
# certificates). An image built FROM another kit image comes after it in KIT.
set -euo pipefail
cd "$(dirname "$0")/../images"

# folder | tags (first one is checked for the hash) | what is really inside
# pgadmin comes last: it is the one image that needs PyPI. An image that fails to build is
# reported and the others are still built; the script then exits 1.
KIT=(
  "base|compose-lab/base:bookworm debian:bookworm-slim debian:bookworm|Debian 12 bookworm minbase (debootstrap), host CA certificates trusted"
  "busybox|busybox:latest busybox:1.35|BusyBox 1.35 static, from Debian bookworm"
  "alpine|alpine:latest alpine:3|Debian bookworm with busybox tools (sh, ping, getent, wget, nc, nslookup); not Alpine Linux"
  "postgres|postgres:15-alpine postgres:15|PostgreSQL 15 from Debian bookworm"
  "redis|redis:7-alpine redis:7|Redis 7.0 from Debian bookworm"
  "nginx|nginx:alpine nginx:latest|nginx 1.22 from Debian bookworm"
  "python|python:3.11-slim python:3.11|Python 3.11 from Debian bookworm"
  "rust|rust:1-slim-bookworm rust:1-slim|Rust RUSTC_VERSION copied from the build host's toolchain (no rustup, no docs)"
  "pgadmin|dpage/pgadmin4:9.18 dpage/pgadmin4:9 dpage/pgadmin4:latest|pgAdmin 4 9.18 from PyPI with gunicorn, on the kit's python:3.11-slim (Debian bookworm); PostgreSQL 15 client tools, no Postfix"
)
# Tags that Debian can't match: the same image, relabelled with what is really inside.
ALIASES=(
  "python:3.11-slim|python:3.12-slim|Python 3.11 from Debian bookworm (tagged 3.12-slim for labs that name it; really 3.11)"
)

force=false
case "${1:-}" in
  --force) force=true ;;
  --list) for e in "${KIT[@]}" "${ALIASES[@]}"; do IFS='|' read -r _ tags really <<<"$e"; printf '%-40s %s\n' "$tags" "$really"; done; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--force|--list]" >&2; exit 2 ;;
esac

label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }

# The hash of everything an image is made from.
inputs_hash() {
  local dir=$1
  {
    (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    if [ "$dir" = base ]; then cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true
    elif [ -f "$dir/Dockerfile" ]; then
      docker image inspect -f '{{.Id}}' "$(awk '$1 == "FROM" { print $2; exit }' "$dir/Dockerfile")"
    fi
    if [ "$dir" = rust ]; then rustc -V; fi
  } | sha256sum | cut -c1-16
}

total_start=$(date +%s)
failed=()
for entry in "${KIT[@]}"; do
  IFS='|' read -r dir tags really <<<"$entry"
  read -r -a tag_list <<<"$tags"
  first=${tag_list[0]}
  if [ "$dir" = rust ]; then
    # Only the workbook's own stack needs it (to build labcheck); it is made from the host's Rust.
    # A rustup toolchain is self-contained; a distribution's rustc (sysroot /usr) is not copyable.
    sysroot=$(rustc --print sysroot 2>/dev/null || true)
    if [ -z "$sysroot" ] || [ "$sysroot" = /usr ] || [ ! -x "$sysroot/bin/cargo" ]; then
      printf 'images: %-28s skipped: no rustup toolchain on this host (only the root stack needs it)\n' "$first"; continue
    fi
    really=${really/RUSTC_VERSION/$(rustc -V | cut -d' ' -f2)}
  fi
  hash=$(inputs_hash "$dir")
  if ! $force && [ "$(label "$first" org.compose-lab.kit-hash)" = "$hash" ]; then
    for t in "${tag_list[@]:1}"; do docker tag "$first" "$t"; done
    printf 'images: %-28s up to date\n' "$first"
    continue
  fi
  start=$(date +%s)
  labels=("org.compose-lab.lookalike=true" "org.compose-lab.really=$really" "org.compose-lab.kit-hash=$hash")
  if [ ! -f "$dir/make.sh" ]; then
    args=()
    for l in "${labels[@]}"; do args+=(--label "$l"); done
    for t in "${tag_list[@]}"; do args+=(-t "$t"); done
    if ! docker build -q "${args[@]}" "$dir" >/dev/null; then
      printf 'images: %-28s FAILED: `docker build images/%s` (its error is above)\n' "$first" "$dir" >&2
      if [ "$dir" = pgadmin ]; then
        echo "images: pgAdmin is installed from PyPI during the build: can pip reach it (proxy, PIP_INDEX_URL)?" >&2
      fi
      failed+=("$first")
      continue
    fi
  else
    quoted=()
    for l in "${labels[@]}"; do quoted+=("${l%%=*}=\"${l#*=}\""); done
    bash "$dir/make.sh" "$first" "${quoted[@]}"
    for t in "${tag_list[@]:1}"; do docker tag "$first" "$t"; done
  fi
  printf 'images: %-28s built in %ss\n' "$first" "$(($(date +%s) - start))"
done

for entry in "${ALIASES[@]}"; do
  IFS='|' read -r from tag really <<<"$entry"
  hash=$(docker image inspect -f '{{.Id}}' "$from" | cut -c8-23)
  if ! $force && [ "$(label "$tag" org.compose-lab.kit-hash)" = "$hash" ]; then
    printf 'images: %-28s up to date\n' "$tag"; continue
  fi
  printf 'FROM %s\n' "$from" | docker build -q -t "$tag" \
    --label "org.compose-lab.really=$really" --label "org.compose-lab.kit-hash=$hash" - >/dev/null
  printf 'images: %-28s tagged from %s\n' "$tag" "$from"
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'images: %s of the kit failed to build: %s\n' "${#failed[@]}" "${failed[*]}" >&2
  exit 1
fi
printf 'images: kit ready in %ss\n' "$(($(date +%s) - total_start))"
