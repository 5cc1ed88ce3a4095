#!/usr/bin/env bash
# Phase 2 starter. It runs as it is, and `labcheck phase-2` will show you what is wrong:
# every container lands on the default bridge, where names do not resolve, and the ports
# are published too widely. Work through the TODOs, run ./down.sh, then ./up.sh again.
#
# The goal:  host 127.0.0.1:8102 -> web (frontend) -> api (frontend + backend) -> db (backend)
set -euo pipefail
cd "$(dirname "$0")"

LAB_LABEL=org.compose-lab.lab=phase-2

for name in web api db; do
  if docker container inspect "$name" >/dev/null 2>&1; then
    echo "A container named '$name' already exists. Run ./down.sh first." >&2
    exit 1
  fi
done
for net in frontend backend; do
  if docker network inspect "$net" >/dev/null 2>&1; then
    echo "A network named '$net' already exists. Run ./down.sh first." >&2
    exit 1
  fi
done

# TODO (frontend-network, backend-network): create two user-defined bridge networks,
# frontend and backend. Label them with "$LAB_LABEL" so you can find them later.

# TODO (db-networks): db belongs on backend, and nowhere else.
# TODO (db-not-published): does anything here need 5432 on the host? api does not.
docker run -d --name db \
  --label "$LAB_LABEL" \
  --env-file db.env \
  -p 5432:5432 \
  --health-cmd 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"' \
  --health-interval 10s --health-timeout 3s --health-retries 5 \
  --health-start-period 30s --health-start-interval 1s \
  postgres:15-alpine

# TODO (api-networks): api talks to db and is reached by web: which networks does it need?
# `docker network connect <network> <container>` adds a network to a running container.
# TODO (api-uses-db-name): DB_HOST must be a name that Docker's DNS can answer.
docker build --quiet -t compose-lab/phase-2-api:latest api
docker run -d --name api \
  --label "$LAB_LABEL" \
  -e DB_HOST=localhost \
  compose-lab/phase-2-api:latest

# TODO (web-networks): web only needs to reach api.
# TODO (web-published): this publishes on every interface of the host; allow 127.0.0.1 only.
docker run -d --name web \
  --label "$LAB_LABEL" \
  -p 8102:80 \
  -v "$PWD/nginx/default.conf:/etc/nginx/conf.d/default.conf:ro" \
  --health-cmd 'wget -q -O /dev/null http://127.0.0.1/healthz' \
  --health-interval 10s --health-timeout 3s --health-retries 3 \
  --health-start-period 10s --health-start-interval 1s \
  nginx:alpine

echo "Started. Now try: curl -s http://127.0.0.1:8102/api/db ; labcheck phase-2"
