#!/usr/bin/env bash
# Fault: web is published with -p 8102:80, without an address, so it listens on 0.0.0.0 and ::
# and other machines on the network can reach it.
set -euo pipefail
cd "$(dirname "$0")/../solution"
docker rm -f web >/dev/null
docker run -d --name web \
  --network frontend \
  --label org.compose-lab.lab=phase-2 \
  -p 8102:80 \
  -v "$PWD/nginx/default.conf:/etc/nginx/conf.d/default.conf:ro" \
  --health-cmd 'wget -q -O /dev/null http://127.0.0.1/healthz' \
  --health-interval 10s --health-timeout 3s --health-retries 3 \
  --health-start-period 10s --health-start-interval 1s \
  nginx:alpine
