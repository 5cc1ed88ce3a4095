#!/usr/bin/env bash
# Benchmark: labcheck against the docker-CLI script that an instructor would write
# (bench/phase-3-docker-cli.sh). Both run the same phase-3 checks on the same live stack.
#
# usage: bench/phase-3.sh [RUNS]          (default 20 runs each, after 2 warm-up runs)
# env:   BENCH_TOOL=loop|hyperfine        loop (default) interleaves the two commands, fairer
#                                         while others load the machine; hyperfine runs all
#                                         runs of one command, then all of the other
#        LABCHECK=path/to/labcheck        (default: target/release/labcheck, built if missing)
#        TARGET_RATIO=0.25                the goal for labcheck's mean / the script's mean
#        STRICT=1                         exit 1 when the ratio misses the goal
# It brings up the solution stack under a unique project name, checks that both tools pass on
# it, times them side by side, prints mean, median and standard deviation of each and the ratio,
# and always tears the stack down.
set -euo pipefail

runs="${1:-20}"
target_ratio="${TARGET_RATIO:-0.25}"
root="$(cd "$(dirname "$0")/.." && pwd)"
compose_file="$root/labs/phase-3/solution/compose.yaml"
cli_script="$root/bench/phase-3-docker-cli.sh"
project="phase3-bench-$$"
labcheck="${LABCHECK:-$root/target/release/labcheck}"
work="$(mktemp -d)"

compose() { docker compose -f "$compose_file" -p "$project" "$@"; }
now_ns() { date +%s%N; }

cleanup() {
    compose down -v --remove-orphans --rmi local >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

docker info >/dev/null 2>&1 || { echo "no Docker engine answers (docker info)" >&2; exit 2; }

if [ ! -x "$labcheck" ]; then
    echo "== building labcheck (release)"
    (cd "$root" && cargo build --release --quiet -p labcheck)
fi

echo "== stack: project $project"
compose build --quiet
# The solution publishes 127.0.0.1:8080, so only one phase-3 stack can run at a time: wait
# (up to 2 minutes) while another one holds the port.
for try in $(seq 40); do
    start=$(now_ns)
    if err=$(compose up -d --wait --wait-timeout 60 2>&1); then break; fi
    if [[ "$err" == *"already allocated"* ]]; then
        [ "$try" = 1 ] && echo "127.0.0.1:8080 is taken by another stack: waiting for it"
        compose down -v >/dev/null 2>&1; sleep 3; continue
    fi
    echo "the solution stack did not become healthy:" >&2; echo "$err" >&2
    compose ps -a >&2; compose logs --tail 20 >&2; exit 2
done
up_ms=$(( ($(now_ns) - start) / 1000000 ))
echo "up -d --wait (build cached, new volume, initdb): ${up_ms} ms to all services healthy"

# Both must pass on the solution before their times mean anything.
cd "$root"
if ! "$labcheck" phase-3 --project "$project" >"$work/labcheck.out" 2>&1; then
    echo "labcheck does not pass on the solution stack:" >&2; cat "$work/labcheck.out" >&2; exit 1
fi
if ! "$cli_script" "$project" >"$work/cli.out" 2>&1; then
    echo "the docker-CLI script does not pass on the solution stack:" >&2; cat "$work/cli.out" >&2; exit 1
fi
echo "both pass: labcheck, and the script ($(grep -c '^PASS' "$work/cli.out") PASS lines)"

labcheck_cmd="$labcheck phase-3 --project $project"
script_cmd="$cli_script -q $project"

# stats FILE...: "mean median sd" in ms for each file of nanosecond samples.
stats() {
    python3 - "$@" <<'EOF'
import statistics, sys
for f in sys.argv[1:]:
    xs = [int(l) / 1e6 for l in open(f) if l.strip()]
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    print(f"{statistics.mean(xs):.1f} {statistics.median(xs):.1f} {sd:.1f}", end=" ")
print()
EOF
}

if [ "${BENCH_TOOL:-loop}" = hyperfine ] && command -v hyperfine >/dev/null; then
    echo "== hyperfine: $runs runs each, 2 warm-up (all runs of one command, then the other)"
    hyperfine --warmup 2 --runs "$runs" --style basic --export-json "$work/times.json" \
        -n labcheck "$labcheck_cmd" -n docker-cli-script "$script_cmd" >"$work/hyperfine.out"
    python3 - "$work/times.json" "$work/lab.ns" "$work/cli.ns" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
for name, out in (("labcheck", sys.argv[2]), ("docker-cli-script", sys.argv[3])):
    open(out, "w").write("".join(f"{int(t * 1e9)}\n" for t in r[name]["times"]))
EOF
else
    # Interleaved (A, B, A, B, ...), so both face the same load on a shared machine.
    echo "== $runs runs each, interleaved, after 2 warm-up runs each"
    for _ in 1 2; do $labcheck_cmd >/dev/null 2>&1; $script_cmd >/dev/null 2>&1; done
    : >"$work/lab.ns"; : >"$work/cli.ns"
    for _ in $(seq "$runs"); do
        t=$(now_ns); $labcheck_cmd >/dev/null 2>&1 || { echo "labcheck failed during the run" >&2; exit 1; }
        echo $(( $(now_ns) - t )) >>"$work/lab.ns"
        t=$(now_ns); $script_cmd >/dev/null 2>&1 || { echo "the script failed during the run" >&2; exit 1; }
        echo $(( $(now_ns) - t )) >>"$work/cli.ns"
    done
fi
read -r lab_mean lab_median lab_sd cli_mean cli_median cli_sd < <(stats "$work/lab.ns" "$work/cli.ns")

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf '%-18s mean %7.1f ms   median %7.1f ms   sd %6.1f ms\n' \
    labcheck "$lab_mean" "$lab_median" "$lab_sd" "docker-cli script" "$cli_mean" "$cli_median" "$cli_sd"
ratio=$(python3 -c "print(f'{$lab_mean / $cli_mean:.3f}')")
ratio_median=$(python3 -c "print(f'{$lab_median / $cli_median:.3f}')")
verdict=$(python3 -c "print('meets' if $ratio <= $target_ratio else 'MISSES')")
echo "ratio labcheck/script: $ratio of the means ($verdict the goal of <= $target_ratio), $ratio_median of the medians"

# Where labcheck's time goes, from its own JSON report (median of 5 runs): the probes run
# concurrently, so the slowest one is the critical path.
for _ in 1 2 3 4 5; do
    "$labcheck" phase-3 --project "$project" --format json >"$work/report.$_.json" 2>/dev/null || true
done
python3 - "$work"/report.*.json <<'EOF'
import json, statistics, sys
reports = [json.load(open(f)) for f in sys.argv[1:]]
total = statistics.median(r["duration_ms"] for r in reports)
per = {}
for r in reports:
    for c in r["checks"]:
        per.setdefault(c["id"], []).append(c["duration_ms"])
slow = sorted(((statistics.median(v), k) for k, v in per.items()), reverse=True)[:4]
print(f"labcheck's own report: {total:.0f} ms inside the process; slowest probes: "
      + ", ".join(f"{k} {ms:.0f} ms" for ms, k in slow))
EOF
if [ "${STRICT:-0}" = 1 ] && [ "$verdict" = MISSES ]; then exit 1; fi
