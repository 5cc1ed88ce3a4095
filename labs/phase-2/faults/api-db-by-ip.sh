#!/usr/bin/env bash
# Fault: api is given db's IP address instead of its name. It works today; after db is
# recreated it may get another address, and api breaks. Names are what the embedded DNS is for.
set -euo pipefail
db_ip=$(docker inspect -f '{{with index .NetworkSettings.Networks "backend"}}{{.IPAddress}}{{end}}' db)
docker rm -f api >/dev/null
docker run -d --name api \
  --network backend \
  --label org.compose-lab.lab=phase-2 \
  -e DB_HOST="$db_ip" \
  compose-lab/phase-2-api:latest
docker network connect frontend api
