#!/usr/bin/env bash
# Fault: db is started with -p 5432:5432, out of habit or "to connect from my laptop". api never
# needed it (containers talk over the network, not through published ports), and the database
# now listens on every interface of the host.
set -euo pipefail
cd "$(dirname "$0")/../solution"
docker rm -f -v db >/dev/null
docker run -d --name db \
  --network backend \
  --label org.compose-lab.lab=phase-2 \
  --env-file db.env \
  -p 5432:5432 \
  --health-cmd 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"' \
  --health-interval 10s --health-timeout 3s --health-retries 5 \
  --health-start-period 30s --health-start-interval 1s \
  postgres:15-alpine
