#!/usr/bin/env bash
# Fault: api is on frontend only (the `docker network connect backend api` step was missed, or
# api was started with --network frontend alone). web reaches api, but api cannot find db.
set -euo pipefail
docker network disconnect backend api
