#!/usr/bin/env bash
# Fault: db started without --network, so it lands on the default bridge. There Docker's DNS
# does not answer for container names, and db shares no network with api: api cannot find it.
set -euo pipefail
cd "$(dirname "$0")/../solution"
docker rm -f -v db >/dev/null
docker run -d --name db \
  --label org.compose-lab.lab=phase-2 \
  --env-file db.env \
  --health-cmd 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"' \
  --health-interval 10s --health-timeout 3s --health-retries 5 \
  --health-start-period 30s --health-start-interval 1s \
  postgres:15-alpine
