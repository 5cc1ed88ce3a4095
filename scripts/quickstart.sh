#!/usr/bin/env bash
# From a fresh machine to a checked lab: a Docker engine, the part of the offline image kit the
# lab needs, labcheck, then the lab's reference stack, checked.
#
#   bash scripts/quickstart.sh [lab]          # lab: phase-1 .. phase-6 (or 1 .. 6); default phase-3
#   bash scripts/quickstart.sh --down [lab]   # remove that lab's reference stack again
#
# labcheck compiles (CPU) while the engine and the kit are made (mostly apt and disk), side by
# side. It is built with the `quick` profile (Cargo.toml): about half the compile time of
# --release, and the same check speed, since labcheck waits on the engine rather than computing.
set -euo pipefail
cd "$(dirname "$0")/.."

down=false
[ "${1:-}" = --down ] && { down=true; shift; }
lab=${1:-phase-3}
[[ $lab =~ ^[0-9]+$ ]] && lab=phase-$lab
spec=labs/$lab/lab.toml
[ -f "$spec" ] || { echo "quickstart: no lab '$lab' (labs/*/lab.toml: $(ls labs | tr '\n' ' '))" >&2; exit 2; }
labcheck=${CARGO_TARGET_DIR:-target}/quick/labcheck

# One field of the lab's lab.toml, as shell words (python3's tomllib: no TOML parsing in bash).
#   live up|down: the [live] scripts of a plain-containers lab (empty for a compose lab)
#   after_up:     one line per [live] after_up step, the words of a `docker compose` call
#   faults:       one line per [[faults]]: file TAB summary
spec_get() {
  python3 - "$spec" "$@" <<'PY'
import shlex, sys, tomllib
spec = tomllib.load(open(sys.argv[1], "rb"))
live = spec.get("live", {})
what = sys.argv[2]
if what == "live":
    print(live.get(sys.argv[3], ""))
elif what == "after_up":
    for step in live.get("after_up", []):
        print(shlex.join(step))
elif what == "faults":
    for f in spec.get("faults", []):
        print(f"{f['file']}\t{f['summary']}")
PY
}

up_script=$(spec_get live up) down_script=$(spec_get live down)
compose=(docker compose -f "labs/$lab/solution/compose.yaml")
stack_down() {
  if [ -n "$down_script" ]; then bash "labs/$lab/$down_script"
  else "${compose[@]}" down -v --remove-orphans; fi
}
if $down; then stack_down; exit 0; fi

t0=$(date +%s)
since() { printf '%ss' "$(($(date +%s) - t0))"; }
# labcheck: compiled in the background while the engine and the images are made.
cargo_log=$(mktemp)
trap 'rm -f "$cargo_log"' EXIT
echo "quickstart: building labcheck (cargo, profile quick) in the background"
cargo build --profile quick --locked -q -p labcheck >"$cargo_log" 2>&1 &
cargo_pid=$!

bash scripts/setup-engine.sh
echo "quickstart: engine ready after $(since)"
bash scripts/images.sh "$lab"
echo "quickstart: images ready after $(since)"
if ! wait "$cargo_pid"; then
  cat "$cargo_log" >&2
  echo "quickstart: building labcheck failed (above)" >&2
  exit 1
fi
echo "quickstart: labcheck built after $(since)"

echo "quickstart: bringing up labs/$lab/solution"
if [ -n "$up_script" ]; then
  bash "labs/$lab/$up_script"
else
  "${compose[@]}" up -d --build --wait --wait-timeout 120
  # The lab's set-up steps (a migration, a backup, --scale), as the live tests run them.
  while IFS= read -r step; do
    [ -n "$step" ] || continue
    echo "quickstart: docker compose $step"
    eval "set -- $step"
    "${compose[@]}" "$@" </dev/null # `run` would read the rest of the steps as its input
  done < <(spec_get after_up)
fi
echo "quickstart: checking it"
"$labcheck" "$lab" --wait 60s
echo "quickstart: $lab checked green after $(since)"

# The closing hints: this lab's own faults, from its lab.toml.
mapfile -t faults < <(spec_get faults)
first=${faults[0]%%$'\t'*}
if [ -n "$up_script" ]; then
  try="bash labs/$lab/$first"
else
  try="docker compose -f labs/$lab/solution/compose.yaml -f labs/$lab/$first up -d"
fi
cat <<MSG

The $lab reference stack is up and checked. Next:
  # the debugging ladder, step by step
  $labcheck explain $lab
  # break the stack with one of the faults below, and see what labcheck says
  $try
  $labcheck $lab
  # clean up
  bash scripts/quickstart.sh --down $lab
  # the book, at http://localhost:3000
  docker compose up -d
The faults of $lab (labs/$lab/lab.toml), each one mistake to find:
MSG
for f in "${faults[@]}"; do printf '  %-36s %s\n' "${f%%$'\t'*}" "${f#*$'\t'}"; done
