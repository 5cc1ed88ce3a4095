#!/usr/bin/env bash
# Phase 2 reference setup, plain docker commands and no Compose:
#
#   host 127.0.0.1:8102 -> web (frontend) -> api (frontend + backend) -> db (backend)
#
# Two user-defined bridge networks give name resolution through Docker's embedded DNS
# (127.0.0.11) and keep db out of reach of anything that is only on frontend.
# Run it from anywhere; ./down.sh removes everything it creates.
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

# 1. Two user-defined bridge networks (the driver is bridge by default; said here for clarity).
docker network create --driver bridge --label "$LAB_LABEL" frontend
docker network create --driver bridge --label "$LAB_LABEL" backend

# 2. The database, on backend only, with no published port: only containers on backend can
#    reach it, by its name "db". The health check lets us wait until it accepts connections.
#    It asks over TCP (-h 127.0.0.1): on first start the image runs a temporary server on the
#    Unix socket only while it initialises, and a socket probe would call that "ready".
docker run -d --name db \
  --network backend \
  --label "$LAB_LABEL" \
  --env-file db.env \
  --health-cmd 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"' \
  --health-interval 10s --health-timeout 3s --health-retries 5 \
  --health-start-period 30s --health-start-interval 1s \
  postgres:15-alpine

# 3. The api: built here, started on backend, then connected to frontend as well.
#    (Engine 25 and later also accept two --network flags on one docker run.)
docker build --quiet -t compose-lab/phase-2-api:latest api
docker run -d --name api \
  --network backend \
  --label "$LAB_LABEL" \
  -e DB_HOST=db \
  compose-lab/phase-2-api:latest
docker network connect frontend api

# 4. The web proxy, on frontend only, and the only container with a published port, bound to
#    the loopback address so that other machines cannot reach it.
docker run -d --name web \
  --network frontend \
  --label "$LAB_LABEL" \
  -p 127.0.0.1:8102:80 \
  -v "$PWD/nginx/default.conf:/etc/nginx/conf.d/default.conf:ro" \
  --health-cmd 'wget -q -O /dev/null http://127.0.0.1/healthz' \
  --health-interval 10s --health-timeout 3s --health-retries 3 \
  --health-start-period 10s --health-start-interval 1s \
  nginx:alpine

# 5. Wait until all three report healthy (60 s at most).
for name in db api web; do
  for _ in $(seq 1 300); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$name")
    [ "$status" = healthy ] && break
    sleep 0.2
  done
  echo "$name: $status"
  [ "$status" = healthy ] || { echo "$name did not become healthy; see: docker logs $name" >&2; exit 1; }
done
echo "Ready: curl http://127.0.0.1:8102/api/db"
