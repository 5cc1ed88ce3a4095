#!/usr/bin/env bash
# The phase-3 checks as an instructor would script them with the docker CLI: the same checks,
# the same ladder, the same pass conditions and the same roles as labs/phase-3/lab.toml, one
# docker (or curl) call per check. It is the baseline that bench/phase-3.sh times labcheck
# against.
#
# usage: bench/phase-3-docker-cli.sh [-q] [PROJECT]     (PROJECT defaults to phase-3)
# Prints one line per check, in ladder order, after the roles are applied: PASS; FAIL with the
# reason; SKIP with the failed need; WARN (a hardening check, or `severity = "warn"`, that
# failed); NOTE (a diagnosis that differs from the solution while the behaviours it explains
# work). Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 no project.
set -u

quiet=0
if [ "${1:-}" = "-q" ]; then quiet=1; shift; fi
project="${1:-phase-3}"

declare -A result=() reason=()
order=()
pass() { result[$1]=pass; order+=("$1"); }
fail() { result[$1]=fail; reason[$1]=$2; order+=("$1"); }
# ready ID NEED...: true when every need passed; otherwise records ID as skipped.
ready() {
    local id=$1 need; shift
    for need in "$@"; do
        if [ "${result[$need]:-}" != pass ]; then
            result[$id]=skip; reason[$id]="needs $need"; order+=("$id"); return 1
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

if ready depends-on-healthy web-running; then
    deps=$(docker inspect --format '{{index .Config.Labels "com.docker.compose.depends_on"}}' "$web" 2>&1)
    if [[ ",$deps," == *",db:service_healthy:"* ]]; then pass depends-on-healthy
    else fail depends-on-healthy "depends_on: ${deps:-none}"; fi
fi

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

if ready db-resolves web-running db-running; then
    if out=$(docker exec "$web" getent hosts db 2>&1); then pass db-resolves
    else fail db-resolves "getent hosts db: ${out:-no answer}"; fi
fi

if ready db-port-reachable db-resolves; then
    if out=$(docker exec "$web" timeout 3 bash -c 'exec 3<>/dev/tcp/db/5432' 2>&1); then
        pass db-port-reachable
    else fail db-port-reachable "tcp db:5432: ${out:-timed out}"; fi
fi

# One `docker port` of web: the host port the lab wants, the address it is bound to, and the
# port the HTTP checks use (whatever the learner published).
web_ports=""
[ -n "$web" ] && web_ports=$(docker port "$web" 5000/tcp 2>/dev/null)
if ready web-published web-running; then
    if grep -q ':8080$' <<<"$web_ports"; then pass web-published
    else fail web-published "5000/tcp -> ${web_ports:-nothing}"; fi
fi

if ready web-loopback web-running; then
    if [ -n "$web_ports" ] && ! grep -qv '^127\.0\.0\.1:' <<<"$web_ports"; then pass web-loopback
    else fail web-loopback "5000/tcp -> ${web_ports:-nothing}"; fi
fi

if ready db-not-published db-running; then
    ports=$(docker port "$db" 2>&1)
    if [ -z "$ports" ]; then pass db-not-published
    else fail db-not-published "published: $(tr '\n' ' ' <<<"$ports")"; fi
fi

if ready web-db-host web-running; then
    value=$(docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$web" 2>&1 | sed -n 's/^DB_HOST=//p')
    if [ "$value" = db ]; then pass web-db-host
    else fail web-db-host "DB_HOST=${value:-(unset)}"; fi
fi

# http: status and body, from the host, on the port web really publishes.
check_http() {
    local id=$1 path=$2 want=$3 body code url
    if [ -z "$web_ports" ]; then fail "$id" "5000/tcp is not published"; return; fi
    url="http://$(head -n 1 <<<"$web_ports" | sed 's/^0\.0\.0\.0:/127.0.0.1:/; s/^\[::\]:/127.0.0.1:/')$path"
    body=$(curl -sS --max-time 5 -w '\n%{http_code}' "$url" 2>&1)
    code=${body##*$'\n'}; body=${body%$'\n'*}
    if [ "$code" = 200 ] && [[ "$body" == *"$want"* ]]; then pass "$id"
    else fail "$id" "GET $url -> $code $(head -c 200 <<<"$body")"; fi
}

if ready healthz-ok db-port-reachable; then
    check_http healthz-ok /healthz '"status":"ok"'
fi

if ready users-endpoint healthz-ok; then
    check_http users-endpoint /users '"email"'
fi

if ready db-volume db-running; then
    mount=$(docker inspect --format '{{range .Mounts}}{{if eq .Destination "/var/lib/postgresql/data"}}{{.Type}} {{.Name}}{{end}}{{end}}' "$db" 2>&1)
    if [[ "$mount" == "volume "?* ]]; then pass db-volume
    else fail db-volume "/var/lib/postgresql/data: ${mount:-not mounted}"; fi
fi

# psql inside db, with the container's own POSTGRES_* credentials.
psql_db() { docker exec "$db" sh -c 'psql -X -q -t -A -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$0"' "$1" 2>&1; }

if ready users-seeded db-healthy; then
    if rows=$(psql_db "SELECT id FROM users") && [ "$(grep -c . <<<"$rows")" -ge 1 ]; then pass users-seeded
    else fail users-seeded "$(head -c 200 <<<"${rows:-no rows}")"; fi
fi

if ready users-seed-rows users-seeded; then
    want='ada@example.com, grace@example.com, linus@example.com, margaret@example.com'
    got=$(psql_db "SELECT string_agg(email, ', ' ORDER BY email) FROM users")
    if [ "$got" = "$want" ]; then pass users-seed-rows
    else fail users-seed-rows "rows: $got"; fi
fi

# The roles, as lab.toml gives them: hardening and `severity = "warn"` warn; a diagnosis whose
# behaviours all pass is a note (the stack works its own way), otherwise a failure.
declare -A explains=(
    [depends-on-healthy]="healthz-ok" [shared-network]="db-resolves"
    [web-db-host]="healthz-ok users-endpoint" [db-volume]="users-seeded"
)
warns=" web-loopback db-not-published users-seed-rows "
failed=0
for id in "${order[@]}"; do
    r=${result[$id]}
    if [ "$r" = fail ] && [[ "$warns" == *" $id "* ]]; then r=warn
    elif [ "$r" = fail ] && [ -n "${explains[$id]:-}" ]; then
        r=note
        for b in ${explains[$id]}; do [ "${result[$b]}" = pass ] || r=fail; done
    fi
    [ "$r" = fail ] && failed=1
    [ "$quiet" = 1 ] && continue
    case $r in
        pass) echo "PASS $id" ;;
        skip) echo "SKIP $id (${reason[$id]})" ;;
        *) echo "${r^^} $id: ${reason[$id]}" ;;
    esac
done

exit $failed
