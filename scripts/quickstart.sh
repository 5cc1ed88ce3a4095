#!/usr/bin/env bash
# From a fresh machine to a checked lab: make sure a Docker engine and the offline image kit
# exist, build labcheck, bring up the phase-3 reference stack, and check it.
#
#   bash scripts/quickstart.sh [lab]      # default lab: phase-3
set -euo pipefail
cd "$(dirname "$0")/.."
lab=${1:-phase-3}

bash scripts/setup-engine.sh
bash scripts/images.sh
cargo build --release --locked -q -p labcheck
echo "quickstart: bringing up labs/$lab/solution"
docker compose -f "labs/$lab/solution/compose.yaml" up -d --build --wait --wait-timeout 120
echo "quickstart: checking it"
target/release/labcheck "$lab" --wait 60s
cat <<MSG

The $lab reference stack is up and checked. Next:
  target/release/labcheck explain $lab       # the debugging ladder, step by step
  docker compose -f labs/$lab/solution/compose.yaml -f labs/$lab/faults/db-localhost.yml up -d
  target/release/labcheck $lab               # see what a broken stack looks like
  docker compose -f labs/$lab/solution/compose.yaml down -v   # clean up
  docker compose up -d                       # the book, at http://localhost:3000
MSG
