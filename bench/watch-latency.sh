#!/usr/bin/env bash
# Benchmark: `labcheck watch` on the phase-3 solution stack at rest.
#  1. event-to-redraw latency: a harmless Docker event on the project (`docker kill -s WINCH`
#     on web, which Flask ignores: the stack stays at rest) to the moment watch has written the
#     new verdict (its plain report, stdout a pipe), from the engine's own event timestamp;
#  2. idle CPU: watch on a terminal (tmux, so its 1 s redraw of "3 s ago" is counted) for
#     IDLE_S seconds, from /proc/<pid>/stat (utime + stime).
#
# usage: bench/watch-latency.sh [EVENTS]     (default 10 events, 2 s apart)
# env:   LABCHECK=path/to/labcheck            (default: target/debug/labcheck)
#        IDLE_S=30                            idle measurement length
# Goals (issue 13): latency <= 300 ms, idle CPU < 1% of a core. Prints each latency, the
# median and the worst, and the idle CPU. Brings the stack up under its own project name
# while holding /tmp/compose-lab-live.lock (it publishes 127.0.0.1:8080) and tears it down.
set -euo pipefail

events="${1:-10}"
idle_s="${IDLE_S:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
labcheck="${LABCHECK:-$root/target/debug/labcheck}"
project="h-watch-bench-$$"
compose_file="$root/labs/phase-3/solution/compose.yaml"
work="$(mktemp -d)"
session="hwbench$$"
compose() { docker compose -f "$compose_file" -p "$project" "$@"; }

cleanup() {
    [ -n "${watch_pid:-}" ] && pkill -f "labcheck watch phase-3 -p $project" 2>/dev/null || true
    tmux kill-session -t "$session" 2>/dev/null || true
    compose down -v --remove-orphans >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

[ -x "$labcheck" ] || { echo "no labcheck at $labcheck (cargo build -p labcheck, or set LABCHECK)" >&2; exit 2; }
docker info >/dev/null 2>&1 || { echo "no Docker engine answers (docker info)" >&2; exit 2; }

exec 9>/tmp/compose-lab-live.lock
flock 9
compose up -d --wait --quiet-pull >/dev/null 2>&1
"$labcheck" phase-3 -p "$project" >/dev/null || { echo "the solution stack does not pass" >&2; exit 1; }
web="$(compose ps -q web)"

# 1. latency: every line of watch's output stamped when it arrives
stamp='import sys, time
for line in sys.stdin.buffer:
    sys.stdout.write("%d %s" % (time.time_ns(), line.decode(errors="replace")))
    sys.stdout.flush()'
( cd "$root/labs/phase-3/solution" && exec "$labcheck" watch phase-3 -p "$project" </dev/null ) \
    | python3 -u -c "$stamp" >"$work/out" &
watch_pid=$!
for _ in $(seq 100); do grep -q "── labcheck watch" "$work/out" 2>/dev/null && break; sleep 0.1; done
sleep 2
lat=()
for i in $(seq "$events"); do
    since="$(date +%s.%N)"
    docker kill -s WINCH "$web" >/dev/null
    sleep 2
    ev_ns="$(docker events --since "$since" --until "$(date +%s.%N)" \
        --filter "container=$web" --filter event=kill --format '{{.TimeNano}}' | head -n 1)"
    drawn_ns="$(awk -v t="$ev_ns" '$2 == "──" && $3 == "labcheck" && $1 > t { print $1; exit }' "$work/out")"
    [ -n "$drawn_ns" ] || { echo "event $i: no redraw after the event" >&2; continue; }
    ms=$(( (drawn_ns - ev_ns) / 1000000 ))
    lat+=("$ms")
    echo "event $i: ${ms} ms"
done
# Ctrl-C to watch itself: killing only the stamping end of the pipe would leave watch running
# (it writes again only after the next run), and `wait` on the pipeline waits for it.
pkill -INT -f "labcheck watch phase-3 -p $project" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
watch_pid=
if [ "${#lat[@]}" -gt 0 ]; then
    sorted=($(printf '%s\n' "${lat[@]}" | sort -n))
    n=${#sorted[@]}
    echo "latency: median ${sorted[$((n / 2))]} ms, worst ${sorted[$((n - 1))]} ms over $n events (goal <= 300 ms)"
fi

# 2. idle CPU, on a terminal
tmux new-session -d -s "$session" -x 160 -y 50 \
    "cd '$root/labs/phase-3/solution' && '$labcheck' watch phase-3 -p '$project'"
sleep 3
pid="$(pgrep -f "labcheck watch phase-3 -p $project" | head -n 1)"
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
t0="$(ticks)"
sleep "$idle_s"
t1="$(ticks)"
hz="$(getconf CLK_TCK)"
echo "idle CPU: $(awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$idle_s" 'BEGIN { printf "%.2f", 100 * d / hz / s }')% of a core over ${idle_s} s ($((t1 - t0)) ticks at ${hz}/s; goal < 1%)"
tmux send-keys -t "$session" C-c
sleep 1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
