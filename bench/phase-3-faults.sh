#!/usr/bin/env bash
# Cross-check of labs/phase-3/lab.toml's [[faults]]: for the solution and for each fault file,
# bring the stack up, run the checks, and compare what fails with what lab.toml says
# (`fails` exactly, and `first_broken`). The checks are run by the docker-CLI script
# (bench/phase-3-docker-cli.sh), and by labcheck too when LABCHECK names a built binary
# (its JSON report is compared the same way).
#
# usage: bench/phase-3-faults.sh [FAULT-NAME...]     (default: the solution, then every fault)
# Exit 0 when every case matches, 1 otherwise. Always tears its stacks down.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lab="$root/labs/phase-3"
solution="$lab/solution/compose.yaml"
cli="$root/bench/phase-3-docker-cli.sh"
project="phase3-faults-$$"
labcheck="${LABCHECK:-}"
mismatches=0

# The files of the current case: `down` needs them too, or it leaves behind the networks that
# only a fault file declares (split-networks).
files=(-f "$solution")
down() { docker compose "${files[@]}" -p "$project" down -v --remove-orphans >/dev/null 2>&1; }
# At the end: the last case's stack, and the web image built under this run's project name.
trap 'down; docker image rm "$project-web" >/dev/null 2>&1' EXIT

# expected NAME: "first_broken|fail1 fail2 ..." from lab.toml ("|" for the solution).
expected() {
    python3 - "$lab/lab.toml" "$1" <<'EOF'
import sys, tomllib
lab = tomllib.load(open(sys.argv[1], "rb"))
name = sys.argv[2]
if name == "solution":
    print("|")
else:
    f = next(f for f in lab["faults"] if f["file"] == f"faults/{name}.yml")
    # a fault may only warn or note (first_broken and fails absent): nothing fails then
    print(f.get("first_broken", "") + "|" + " ".join(f.get("fails", [])))
EOF
}

# ladder_order: the check ids in lab.toml order, to find the first failing one.
order=$(python3 -c "import sys,tomllib; print(' '.join(c['id'] for c in tomllib.load(open(sys.argv[1],'rb'))['checks']))" "$lab/lab.toml")
first_of() { local id; for id in $order; do [[ " $1 " == *" $id "* ]] && { echo "$id"; return; }; done; }
sorted() { tr ' ' '\n' <<<"$1" | grep . | sort | tr '\n' ' ' | sed 's/ $//'; }

# Wait until the stack has settled: web running and PostgreSQL accepting TCP connections
# inside db (checked directly, so this works for the fault without a healthcheck too).
settle() {
    local i db web
    for i in $(seq 60); do
        db=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter label=com.docker.compose.service=db)
        web=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter label=com.docker.compose.service=web)
        if [ -n "$db" ] && [ -n "$web" ] &&
           docker exec "$db" sh -c 'pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"' 2>/dev/null; then
            sleep 1   # let gunicorn bind and web's first healthcheck run
            return 0
        fi
        sleep 0.5
    done
    echo "   (stack did not settle in 30 s)"
}

run_case() {
    local name=$1 exp want_first want_fails got got_first out
    case_bad=0
    down                                  # the previous case, with its own files
    files=(-f "$solution")
    [ "$name" = solution ] || files+=(-f "$lab/faults/$name.yml")
    exp=$(expected "$name") || { echo "?? $name: not in lab.toml"; mismatches=$((mismatches + 1)); return; }
    want_first=${exp%%|*}; want_fails=$(sorted "${exp#*|}")
    [ "$name" = bind-mount ] && rm -rf "$lab/solution/pgdata"
    local t0=$(date +%s%N)
    # Other phase-3 stacks (a learner's, another test's) may hold 127.0.0.1:8080 for a while:
    # wait for it rather than report a failure that lab.toml has nothing to do with.
    local try err
    for try in $(seq 40); do
        if err=$(docker compose "${files[@]}" -p "$project" up -d --build 2>&1); then break; fi
        if [[ "$err" == *"already allocated"* ]]; then
            [ "$try" = 1 ] && echo "   (127.0.0.1:8080 is taken by another stack: waiting for it)"
            sleep 3
            continue
        fi
        echo "   (up reported an error; checking what is running)"
        break
    done
    settle
    local up_ms=$(( ($(date +%s%N) - t0) / 1000000 ))

    out=$("$cli" "$project" 2>&1)
    got=$(sorted "$(sed -n 's/^FAIL \([^:]*\):.*/\1/p' <<<"$out" | tr '\n' ' ')")
    got_first=$(first_of "$got")
    if [ "$got" = "$want_fails" ] && [ "$got_first" = "$want_first" ]; then
        echo "ok $name (script, settled in ${up_ms} ms): fails [${got}]"
    else
        echo "MISMATCH $name (script): fails [${got}] first ${got_first:-none}; lab.toml says [${want_fails}] first ${want_first:-none}"
        grep -E '^(FAIL|SKIP)' <<<"$out" | sed 's/^/     /'
        echo "     -- docker compose ps -a; logs --tail 15:"
        docker compose "${files[@]}" -p "$project" ps -a 2>&1 | sed 's/^/     /'
        docker compose "${files[@]}" -p "$project" logs --no-color --tail 15 2>&1 | sed 's/^/     /'
        case_bad=1
    fi

    if [ -n "$labcheck" ]; then
        out=$(cd "$root" && "$labcheck" phase-3 --project "$project" --format json 2>&1)
        read -r got_first got < <(python3 -c '
import json, sys
try:
    r = json.loads(sys.stdin.read())
except ValueError:
    print("unparsable"); sys.exit()
print(r.get("first_broken") or "-", " ".join(c["id"] for c in r["checks"] if c["status"] == "fail"))' <<<"$out")
        [ "$got_first" = - ] && got_first=""
        got=$(sorted "$got")
        if [ "$got" = "$want_fails" ] && [ "$got_first" = "$want_first" ]; then
            echo "ok $name (labcheck): fails [${got}]"
        else
            echo "MISMATCH $name (labcheck): fails [${got}] first ${got_first:-none}; lab.toml says [${want_fails}]"
            (cd "$root" && NO_COLOR=1 "$labcheck" phase-3 --project "$project" 2>&1) | sed 's/^/     /'
            case_bad=1
        fi
    fi
    if [ "$name" = bind-mount ]; then
        down
        docker run --rm -v "$lab/solution:/s" busybox rm -rf /s/pgdata   # owned by postgres's uid
    fi
    mismatches=$((mismatches + case_bad))
}

# The solution publishes 127.0.0.1:8080, so only one phase-3 stack can run at a time.
for i in $(seq 60); do
    curl -s -o /dev/null --max-time 2 http://127.0.0.1:8080/ || break
    [ "$i" = 1 ] && echo "127.0.0.1:8080 answers (another phase-3 stack?): waiting up to 3 minutes"
    [ "$i" = 60 ] && { echo "127.0.0.1:8080 is still taken: stop the other stack first" >&2; exit 2; }
    sleep 3
done

cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
    cases=(solution)
    for f in "$lab"/faults/*.yml; do cases+=("$(basename "$f" .yml)"); done
fi
for c in "${cases[@]}"; do run_case "$c"; done
echo "$(( ${#cases[@]} - mismatches )) passed, $mismatches failed"
[ "$mismatches" -eq 0 ]
