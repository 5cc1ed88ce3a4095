#!/usr/bin/env bash
# The phase-3 checks as an instructor would script them with the docker CLI: the same checks,
# the same ladder and the same pass conditions as labs/phase-3/lab.toml, one docker (or curl)
# call per check. It is the baseline that bench/phase-3.sh times labcheck against.
#
# usage: bench/phase-3-docker-cli.sh [-q] [PROJECT]     (PROJECT defaults to phase-3)
# Prints one line per check (PASS, FAIL with the reason, SKIP with the failed need).
# Exit codes: 0 all passed, 1 a check failed, 2 the project was not found.
set -u

quiet=0
if [ "${1:-}" = "-q" ]; then quiet=1; shift; fi
project="${1:-phase-3}"
base_url="${PHASE3_URL:-http://127.0.0.1:8080}"

declare -A result=()
failed=0
say() { [ "$quiet" = 1 ] || printf '%s\n' "$*"; }
pass() { result[$1]=pass; say "PASS $1"; }
fail() { result[$1]=fail; failed=1; say "FAIL $1: $2"; }
# ready ID NEED...: true when every need passed; otherwise records ID as skipped.
ready() {
    local id=$1 need; shift
    for need in "$@"; do
        if [ "${result[$need]:-}" != pass ]; then
            result[$id]=skip; say "SKIP $id (needs $need)"; return 1
        fi
    done
}

# Find the project's containers by their compose labels (never by container name).
web="" db=""
while read -r service id; do
    case "$service" in web) web=$id ;; db) db=$id ;; esac
done < <(docker ps -a --filter "label=com.docker.compose.project=$project" \
            --format '{{.Label "com.docker.compose.service"}} {{.ID}}')
if [ -z "$web" ] && [ -z "$db" ]; then
    echo "no containers of compose project '$project'" >&2
    exit 2
fi

# running: the container is running and not restarting.
check_running() {
    local id=$1 cid=$2 state
    if [ -z "$cid" ]; then fail "$id" "no container"; return; fi
    state=$(docker inspect --format '{{.State.Status}} {{.State.Restarting}}' "$cid" 2>&1)
    if [ "$state" = "running false" ]; then pass "$id"; else fail "$id" "state: $state"; fi
}

check_running db-running "$db"

if ready db-healthy db-running; then
    health=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}no healthcheck{{end}}' "$db" 2>&1)
    if [ "$health" = healthy ]; then pass db-healthy; else fail db-healthy "$health"; fi
fi

check_running web-running "$web"

if ready shared-network web-running db-running; then
    # One inspect of both containers: each line lists one container's networks.
    nets=$(docker inspect --format '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}' "$web" "$db" 2>&1)
    web_nets=$(sed -n 1p <<<"$nets"); db_nets=$(sed -n 2p <<<"$nets")
    common=""
    for n in $web_nets; do
        case "$n" in bridge|host|none) continue ;; esac   # not user-defined: no service DNS
        for m in $db_nets; do [ "$n" = "$m" ] && common=$n; done
    done
    if [ -n "$common" ]; then pass shared-network
    else fail shared-network "web on [${web_nets% }], db on [${db_nets% }]"; fi
fi

if ready db-resolves shared-network; then
    if out=$(docker exec "$web" getent hosts db 2>&1); then pass db-resolves
    else fail db-resolves "getent hosts db: ${out:-no answer}"; fi
fi

if ready db-port-reachable db-resolves; then
    if out=$(docker exec "$web" timeout 3 bash -c 'exec 3<>/dev/tcp/db/5432' 2>&1); then
        pass db-port-reachable
    else fail db-port-reachable "tcp db:5432: ${out:-timed out}"; fi
fi

if ready depends-on-healthy web-running; then
    deps=$(docker inspect --format '{{index .Config.Labels "com.docker.compose.depends_on"}}' "$web" 2>&1)
    if [[ ",$deps," == *",db:service_healthy:"* ]]; then pass depends-on-healthy
    else fail depends-on-healthy "depends_on: ${deps:-none}"; fi
fi

if ready web-db-host db-port-reachable; then
    value=$(docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$web" 2>&1 | sed -n 's/^DB_HOST=//p')
    if [ "$value" = db ]; then pass web-db-host
    else fail web-db-host "DB_HOST=${value:-(unset)}"; fi
fi

if ready db-not-published db-running; then
    ports=$(docker port "$db" 2>&1)
    if [ -z "$ports" ]; then pass db-not-published
    else fail db-not-published "published: $(tr '\n' ' ' <<<"$ports")"; fi
fi

if ready web-published web-running; then
    ports=$(docker port "$web" 5000/tcp 2>&1)
    if grep -qx '127.0.0.1:8080' <<<"$ports"; then pass web-published
    else fail web-published "5000/tcp -> ${ports:-nothing}"; fi
fi

if ready db-volume db-running; then
    mount=$(docker inspect --format '{{range .Mounts}}{{if eq .Destination "/var/lib/postgresql/data"}}{{.Type}} {{.Name}}{{end}}{{end}}' "$db" 2>&1)
    if [[ "$mount" == "volume "?* ]]; then pass db-volume
    else fail db-volume "/var/lib/postgresql/data: ${mount:-not mounted}"; fi
fi

# http: status and body, from the host.
check_http() {
    local id=$1 url=$2 want=$3 body code
    body=$(curl -sS --max-time 5 -w '\n%{http_code}' "$url" 2>&1)
    code=${body##*$'\n'}; body=${body%$'\n'*}
    if [ "$code" = 200 ] && [[ "$body" == *"$want"* ]]; then pass "$id"
    else fail "$id" "GET $url -> $code $(head -c 200 <<<"$body")"; fi
}

if ready healthz-ok web-published web-db-host; then
    check_http healthz-ok "$base_url/healthz" '"status":"ok"'
fi

if ready users-endpoint healthz-ok; then
    check_http users-endpoint "$base_url/users" 'ada@example.com'
fi

if ready users-seeded db-healthy; then
    # psql inside db, with the container's own POSTGRES_* credentials.
    rows=$(docker exec "$db" sh -c 'psql -X -q -t -A -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "SELECT id FROM users"' 2>&1)
    if [ $? -eq 0 ] && [ "$(grep -c . <<<"$rows")" -ge 3 ]; then pass users-seeded
    else fail users-seeded "$(head -c 200 <<<"$rows")"; fi
fi

exit $failed
