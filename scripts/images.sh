#!/usr/bin/env bash
# Build the offline image kit: local look-alikes of the official images the labs name, made from
# Debian packages with no registry, and tagged with the official names so every lab's compose
# file is exactly what a learner writes online.
#
#   bash scripts/images.sh            # build what changed (skips images whose inputs are unchanged)
#   bash scripts/images.sh --force    # rebuild everything
#   bash scripts/images.sh phase-3    # only what labs/phase-3 needs (also: --lab phase-3, or 3)
#   bash scripts/images.sh --list [LAB]  # print the kit (or a lab's part of it): tags and contents
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

force=false list=false lab=
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=true ;;
    --list) list=true ;;
    --lab) lab=${2:?--lab needs a lab, e.g. phase-3}; shift ;;
    phase-[0-9]*|[0-9]) lab=$1 ;;
    *) echo "usage: $0 [--force] [--list] [--lab] [phase-N]" >&2; exit 2 ;;
  esac
  shift
done
[[ $lab =~ ^[0-9]+$ ]] && lab=phase-$lab
if [ -n "$lab" ] && [ ! -f "../labs/$lab/lab.toml" ]; then
  echo "images: no lab $lab (labs/$lab/lab.toml)" >&2; exit 2
fi

# A reference without a tag means :latest, as for docker.
normalize() { local r=${1//[\"\']/}; [[ ${r##*/} == *:* ]] && echo "$r" || echo "$r:latest"; }
# The kit folder that makes TAG (for an alias: the folder of the image it is tagged from).
dir_of_tag() {
  local e dir tags t
  for e in "${ALIASES[@]}"; do IFS='|' read -r dir t _ <<<"$e"; [ "$t" = "$1" ] && set -- "$dir"; done
  for e in "${KIT[@]}"; do
    IFS='|' read -r dir tags _ <<<"$e"
    for t in $tags; do [ "$t" = "$1" ] && { echo "$dir"; return; }; done
  done
  return 0 # not a kit image (e.g. a lab's own compose-lab/phase-1-app)
}
# The kit folder an image's Dockerfile is FROM (none for the imported base and busybox).
dep_of() { [ -f "$1/Dockerfile" ] && dir_of_tag "$(awk '$1 == "FROM" { print $2; exit }' "$1/Dockerfile")" || true; }
# The kit images a lab names: compose files' image:, Dockerfiles' FROM, and, in the lab's shell
# scripts (phase 2 is made with docker run), any word that is a kit tag.
lab_tags() {
  local d=../labs/$1 all=() e tags
  for e in "${KIT[@]}" "${ALIASES[@]}"; do IFS='|' read -r _ tags _ <<<"$e"; all+=($tags); done
  {
    grep -rhoE --include='*.yml' --include='*.yaml' '^[[:space:]]*image:[[:space:]]*[^[:space:]#]+' "$d" | awk '{ print $NF }'
    grep -rhE --include='Dockerfile*' '^[[:space:]]*FROM[[:space:]]' "$d" | awk '{ for (i = 2; i <= NF; i++) if ($i !~ /^--/) { print $i; break } }'
    grep -rhoE --include='*.sh' '[^[:space:]"'\'']+' "$d" | grep -Fx "$(printf '%s\n' "${all[@]}")"
  } | while read -r ref; do normalize "$ref"; done | sort -u
}

# The folders to build, dependencies included, in KIT order.
wanted=()
if [ -z "$lab" ]; then
  for e in "${KIT[@]}"; do wanted+=("${e%%|*}"); done
else
  # busybox too: labcheck runs its probes in a helper container from it when a lab's image
  # lacks the tool (nslookup, nc), e.g. the stock nginx and postgres images.
  declare -A need=([busybox]=1)
  for t in $(lab_tags "$lab"); do
    d=$(dir_of_tag "$t")
    while [ -n "$d" ] && [ -z "${need[$d]:-}" ]; do need[$d]=1; d=$(dep_of "$d"); done
  done
  for e in "${KIT[@]}"; do [ -n "${need[${e%%|*}]:-}" ] && wanted+=("${e%%|*}"); done
fi
in_wanted() { local w; for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

if $list; then
  for e in "${KIT[@]}" "${ALIASES[@]}"; do
    IFS='|' read -r dir tags really <<<"$e"
    in_wanted "$(dir_of_tag "${tags%% *}")" && printf '%-40s %s\n' "$tags" "$really"
  done
  exit 0
fi
[ -n "$lab" ] && echo "images: $lab needs ${wanted[*]}"
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

# build_one DIR: build (or find up to date) one kit image; its exit status is the build's.
build_one() {
  local dir=$1 entry tags really tag_list first hash start labels args quoted l t
  for entry in "${KIT[@]}"; do [ "${entry%%|*}" = "$dir" ] && break; done
  IFS='|' read -r dir tags really <<<"$entry"
  read -r -a tag_list <<<"$tags"
  first=${tag_list[0]}
  if [ "$dir" = rust ]; then
    # Only the workbook's own stack needs it (to build labcheck); it is made from the host's Rust.
    # A rustup toolchain is self-contained; a distribution's rustc (sysroot /usr) is not copyable.
    sysroot=$(rustc --print sysroot 2>/dev/null || true)
    if [ -z "$sysroot" ] || [ "$sysroot" = /usr ] || [ ! -x "$sysroot/bin/cargo" ]; then
      printf 'images: %-28s skipped: no rustup toolchain on this host (only the root stack needs it)\n' "$first"; return 0
    fi
    really=${really/RUSTC_VERSION/$(rustc -V | cut -d' ' -f2)}
  fi
  hash=$(inputs_hash "$dir")
  if ! $force && [ "$(label "$first" org.compose-lab.kit-hash)" = "$hash" ]; then
    for t in "${tag_list[@]:1}"; do docker tag "$first" "$t"; done
    printf 'images: %-28s up to date\n' "$first"
    return 0
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
      return 1
    fi
  else
    quoted=()
    for l in "${labels[@]}"; do quoted+=("${l%%=*}=\"${l#*=}\""); done
    bash "$dir/make.sh" "$first" "${quoted[@]}" || {
      printf 'images: %-28s FAILED: `images/%s/make.sh` (its error is above)\n' "$first" "$dir" >&2; return 1; }
    for t in "${tag_list[@]:1}"; do docker tag "$first" "$t"; done
  fi
  printf 'images: %-28s built in %ss\n' "$first" "$(($(date +%s) - start))"
}

# Build side by side: an image starts once the kit image it is FROM is built, with at most
# IMAGES_JOBS builds at a time. The builds wait mostly on apt, PyPI and disk, not on the CPU, so
# 3 at a time suits a 2-core machine. An image whose dependency failed is not tried.
jobs_max=${IMAGES_JOBS:-3}
total_start=$(date +%s)
failed=()
declare -A state=() pid_dir=()
for d in "${wanted[@]}"; do state[$d]=pending; done
running=0
while :; do
  for d in "${wanted[@]}"; do
    [ "${state[$d]}" = pending ] || continue
    dep=$(dep_of "$d") dep_state=done
    [ -z "$dep" ] || dep_state=${state[$dep]:-done}
    if [ "$dep_state" = failed ]; then
      state[$d]=failed; failed+=("$d (its base failed)"); continue
    fi
    [ "$dep_state" = done ] && [ "$running" -lt "$jobs_max" ] || continue
    build_one "$d" & pid_dir[$!]=$d; state[$d]=running; running=$((running + 1))
  done
  [ "$running" -gt 0 ] || break
  rc=0; wait -n -p pid || rc=$?
  d=${pid_dir[$pid]}; running=$((running - 1))
  if [ "$rc" -eq 0 ]; then state[$d]=done; else state[$d]=failed; failed+=("$d"); fi
done

for entry in "${ALIASES[@]}"; do
  IFS='|' read -r from tag really <<<"$entry"
  [ "${state[$(dir_of_tag "$from")]:-}" = done ] || continue
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
