#!/usr/bin/env bash
# Fault: "api could not reach db, so I put db on every network." It works, and it removes the
# isolation: anything on frontend (web, or whatever an attacker runs there) now reaches db.
set -euo pipefail
docker network connect frontend db
