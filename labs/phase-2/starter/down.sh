#!/usr/bin/env bash
# Remove what up.sh (or a fault script) created: the containers web, api and db (with db's
# anonymous data volume), then the networks frontend and backend. Safe to run twice.
set -uo pipefail
for name in web api db; do
  docker rm -f -v "$name" >/dev/null 2>&1 && echo "removed container $name"
done
for net in frontend backend; do
  docker network rm "$net" >/dev/null 2>&1 && echo "removed network $net"
done
exit 0
