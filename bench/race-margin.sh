#!/usr/bin/env bash
# How short may the race's margin be? labcheck proves a connection is blocked by racing it
# against a local reference connection inside a helper, and cutting it MARGIN after the
# reference was answered (checker/src/probe/race.sh, the same script). This races a REACHABLE
# address RUNS times per margin and counts the races where its answer came after the cut: each
# such miss would have been taken for a blocked connection.
#
# usage: bench/race-margin.sh [RUNS] [MARGIN_S ...]     (default: 200 runs of 0.01 0.02 0.05 0.1)
# LOAD=N adds N busy loops on the host for the duration (the CI machines have 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
shift || true
margins=("${@:-0.01 0.02 0.05 0.1}")
read -r -a margins <<<"${margins[*]}"
tag="lc-race-$$"
hogs=()
cleanup() {
    for p in "${hogs[@]}"; do kill "$p" 2>/dev/null || true; done
    docker rm -f "$tag-srv" "$tag-helper" >/dev/null 2>&1 || true
    docker network rm "$tag" >/dev/null 2>&1 || true
}
trap cleanup EXIT

docker network create "$tag" >/dev/null
# a listener that accepts every connection (busybox httpd)
docker run -d --name "$tag-srv" --network "$tag" busybox httpd -f -p 7000 >/dev/null
docker run -d --name "$tag-helper" --network "$tag" \
    -v "$PWD/checker/src/probe/race.sh:/race.sh:ro" busybox sleep 3600 >/dev/null
ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$tag-srv")

for _ in $(seq 1 "${LOAD:-0}"); do
    (while :; do :; done) &
    hogs+=("$!")
done

echo "racing $ip:7000 (reachable) $runs times per margin; LOAD=${LOAD:-0}"
for m in "${margins[@]}"; do
    misses=0
    for _ in $(seq 1 "$runs"); do
        out=$(docker exec "$tag-helper" sh /race.sh "$m" 3 "" -- "$ip:7000")
        grep -q "^reached $ip:7000$" <<<"$out" || misses=$((misses + 1))
    done
    echo "margin ${m}s: $misses of $runs answers came after the cut"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
