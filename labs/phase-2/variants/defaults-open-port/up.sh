#!/usr/bin/env bash
# Working variant: written from the chapter in the learner's own way. api relies on its default
# DB_HOST (db) and joins both networks in one `docker run` (Engine 25+), db's settings are -e
# flags, the healthchecks are written differently, and web is published as `-p 8102:80`, on
# every interface (a warning, not a failure). Remove it with ../../solution/down.sh.
set -euo pipefail
cd "$(dirname "$0")"
LAB=org.compose-lab.lab=phase-2

docker network create --label "$LAB" frontend
docker network create --label "$LAB" backend

docker run -d --name db --network backend --label "$LAB" \
  -e POSTGRES_USER=app -e POSTGRES_PASSWORD=phase2-dev-password -e POSTGRES_DB=app \
  --health-cmd 'pg_isready -h localhost -U app' --health-interval 2s --health-retries 30 \
  postgres:15-alpine

docker build --quiet -t compose-lab/phase-2-api:latest ../../solution/api
docker run -d --name api --network backend --network frontend --label "$LAB" \
  compose-lab/phase-2-api:latest

docker run -d --name web --network frontend --label "$LAB" -p 8102:80 \
  -v "$PWD/../../solution/nginx/default.conf:/etc/nginx/conf.d/default.conf:ro" \
  --health-cmd 'wget -qO- http://127.0.0.1/ >/dev/null' --health-interval 2s --health-retries 15 \
  nginx:alpine

for name in db api web; do
  for _ in $(seq 1 60); do
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$name")" = healthy ] && break
    sleep 1
  done
  docker inspect -f '{{.Name}} {{.State.Health.Status}}' "$name"
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$name")" = healthy ]
done
