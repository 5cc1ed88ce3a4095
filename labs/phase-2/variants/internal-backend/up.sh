#!/usr/bin/env bash
# Working variant: backend is an internal bridge (no route out of the host), db also answers
# to the alias `database`, and api is configured with that alias (DB_HOST=database) and
# started on frontend first, then connected to backend. Everything works; the lab's solution
# uses the name db, so labcheck notes the difference. Remove it with ../../solution/down.sh.
set -euo pipefail
cd "$(dirname "$0")"
LAB=org.compose-lab.lab=phase-2

docker network create --driver bridge --label "$LAB" frontend
docker network create --driver bridge --internal --label "$LAB" backend

docker run -d --name db --network backend --network-alias database --label "$LAB" \
  --env-file ../../solution/db.env \
  --health-cmd 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"' \
  --health-interval 2s --health-retries 30 \
  postgres:15-alpine

docker build --quiet -t compose-lab/phase-2-api:latest ../../solution/api
docker run -d --name api --network frontend --label "$LAB" -e DB_HOST=database \
  compose-lab/phase-2-api:latest
docker network connect backend api

docker run -d --name web --network frontend --label "$LAB" -p 127.0.0.1:8102:80 \
  -v "$PWD/../../solution/nginx/default.conf:/etc/nginx/conf.d/default.conf:ro" \
  --health-cmd 'wget -q -O /dev/null http://127.0.0.1/healthz' --health-interval 2s \
  nginx:alpine

for name in db api web; do
  for _ in $(seq 1 60); do
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$name")" = healthy ] && break
    sleep 1
  done
  docker inspect -f '{{.Name}} {{.State.Health.Status}}' "$name"
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$name")" = healthy ]
done
