#!/usr/bin/env bash
# Contract tests for the image kit: each look-alike must keep the parts of the official image's
# behaviour that the labs and learners rely on. Runs real containers; needs a Docker engine.
#
#   bash images/tests/contract.sh [image ...]     # default: every image in the kit
#
# Prints one line per assertion and ends with "contract: N passed, N failed"; exits 1 on failure.
set -uo pipefail
cd "$(dirname "$0")"
id="ck$$"
net="$id-net"
pass=0 fail=0

ok()   { pass=$((pass + 1)); printf '  ok   %s\n' "$1"; }
bad()  { fail=$((fail + 1)); printf '  FAIL %s\n' "$1"; [ -n "${2:-}" ] && printf '       %s\n' "${2:0:400}"; }
# check NAME CMD...: passes when the command exits 0
check() { local name=$1 out; shift; if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$out"; fi; }
# expect NAME REGEX CMD...: passes when the command succeeds and its output matches REGEX
expect() {
  local name=$1 re=$2 out; shift 2
  if out=$("$@" 2>&1) && grep -Eq -- "$re" <<<"$out"; then ok "$name"; else bad "$name" "wanted /$re/, got: $out"; fi
}
# refuse NAME CMD...: passes when the command fails
refuse() { local name=$1 out; shift; if out=$("$@" 2>&1); then bad "$name" "expected failure, got: $out"; else ok "$name"; fi; }

cleanup() {
  docker ps -aq --filter "label=compose-lab.contract=$id" | xargs -r docker rm -f >/dev/null 2>&1
  docker volume ls -q --filter "label=compose-lab.contract=$id" | xargs -r docker volume rm >/dev/null 2>&1
  docker network rm "$net" >/dev/null 2>&1
  docker image rm "$id-pyreq" >/dev/null 2>&1
  rm -rf "$tmp"
}
tmp=$(mktemp -d)
trap cleanup EXIT
docker network create --label "compose-lab.contract=$id" "$net" >/dev/null

run() { docker run -d --label "compose-lab.contract=$id" --network "$net" "$@"; }
# wait_for SECONDS CMD...: retry until the command succeeds
wait_for() { local n=$(($1 * 5)); shift; for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
lookalike() { expect "$1 is labelled as a look-alike" '^true$' docker image inspect -f '{{index .Config.Labels "org.compose-lab.lookalike"}}' "$1"; }

test_postgres() {
  local img=postgres:15-alpine db="$id-pg" vol="$id-pgdata"
  echo "$img"
  lookalike $img
  expect "$img is PostgreSQL 15" '^postgres \(PostgreSQL\) 15\.' docker run --rm $img postgres --version
  check "pg_isready and psql are on PATH" docker run --rm $img sh -c 'command -v pg_isready && command -v psql'
  mkdir -p "$tmp/initdb"
  printf 'CREATE TABLE users (name text);\nINSERT INTO users VALUES ($$ada$$), ($$linus$$);\nCREATE TABLE init_runs (at timestamptz DEFAULT now());\nINSERT INTO init_runs DEFAULT VALUES;\n' >"$tmp/initdb/01-schema.sql"
  printf '#!/bin/sh\npsql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "CREATE TABLE from_sh (ok int)"\n' >"$tmp/initdb/02-more.sh"
  chmod +x "$tmp/initdb/02-more.sh"
  docker volume create --label "compose-lab.contract=$id" "$vol" >/dev/null
  run --name "$db" -e POSTGRES_USER=lab -e POSTGRES_PASSWORD=s3cret -e POSTGRES_DB=labdb \
    -v "$vol:/var/lib/postgresql/data" -v "$tmp/initdb:/docker-entrypoint-initdb.d:ro" $img >/dev/null
  if wait_for 30 docker exec "$db" pg_isready -U lab -d labdb -h 127.0.0.1; then ok "accepts TCP connections after first start"
  else bad "accepts TCP connections after first start" "$(docker logs "$db" 2>&1 | tail -5)"; return; fi
  expect "POSTGRES_USER/PASSWORD/DB create the role and database" '^labdb\|lab$' \
    docker exec "$db" psql -U lab -d labdb -Atc 'select current_database(), current_user'
  expect "*.sql in /docker-entrypoint-initdb.d ran" '^2$' docker exec "$db" psql -U lab -d labdb -Atc 'select count(*) from users'
  check "*.sh in /docker-entrypoint-initdb.d ran" docker exec "$db" psql -U lab -d labdb -Atc 'select * from from_sh'
  check "trust on the local socket (no password)" docker exec -e PGPASSWORD= "$db" psql -U lab -d labdb -w -Atc 'select 1'
  check "password auth over TCP with the right password" \
    docker run --rm --network "$net" -e PGPASSWORD=s3cret $img psql -h "$db" -U lab -d labdb -w -Atc 'select 1'
  refuse "password auth over TCP refuses a wrong password" \
    docker run --rm --network "$net" -e PGPASSWORD=wrong $img psql -h "$db" -U lab -d labdb -w -Atc 'select 1'
  check "data lives in /var/lib/postgresql/data" docker exec "$db" test -s /var/lib/postgresql/data/PG_VERSION
  expect "server runs as the postgres user" '^postgres$' docker exec "$db" sh -c 'ps -o user= -p 1 2>/dev/null || stat -c %U /proc/1'
  docker rm -f "$db" >/dev/null
  run --name "$db" -e POSTGRES_USER=lab -e POSTGRES_PASSWORD=s3cret -e POSTGRES_DB=labdb \
    -v "$vol:/var/lib/postgresql/data" -v "$tmp/initdb:/docker-entrypoint-initdb.d:ro" $img >/dev/null
  wait_for 30 docker exec "$db" pg_isready -U lab -d labdb -h 127.0.0.1
  expect "init scripts run on the first start only" '^1$' docker exec "$db" psql -U lab -d labdb -Atc 'select count(*) from init_runs'
  docker run --rm $img true >/dev/null 2>&1
  local nopw="$id-nopw"
  docker run --name "$nopw" --label "compose-lab.contract=$id" $img >"$tmp/nopw.log" 2>&1
  expect "refuses to start without POSTGRES_PASSWORD" 'superuser password is not specified' cat "$tmp/nopw.log"
  printf 'filepw\n' >"$tmp/pw"
  run --name "$id-pgfile" -e POSTGRES_PASSWORD_FILE=/run/secrets/pw -v "$tmp/pw:/run/secrets/pw:ro" $img >/dev/null
  wait_for 30 docker exec "$id-pgfile" pg_isready -h 127.0.0.1
  check "POSTGRES_PASSWORD_FILE sets the password (secrets)" \
    docker run --rm --network "$net" -e PGPASSWORD=filepw $img psql -h "$id-pgfile" -U postgres -w -Atc 'select 1'
}

test_redis() {
  local img=redis:7-alpine r="$id-redis"
  echo "$img"
  lookalike $img
  expect "$img is Redis 7" 'v=7\.' docker run --rm $img redis-server --version
  run --name "$r" $img >/dev/null
  if wait_for 15 docker exec "$r" redis-cli ping; then ok "redis-cli ping answers"; else bad "redis-cli ping answers" "$(docker logs "$r" 2>&1 | tail -3)"; fi
  expect "reachable by name from another container (protected mode off)" '^PONG$' \
    docker run --rm --network "$net" $img redis-cli -h "$r" ping
  expect "working directory is /data" '^/data$' docker exec "$r" pwd
  check "SAVE writes /data/dump.rdb" docker exec "$r" sh -c 'redis-cli set k v >/dev/null && redis-cli save >/dev/null && test -s /data/dump.rdb'
}

test_nginx() {
  local img=nginx:alpine n="$id-nginx"
  echo "$img"
  lookalike $img
  check "nginx -t accepts the default configuration" docker run --rm $img nginx -t
  check "conf.d/default.conf exists" docker run --rm $img test -f /etc/nginx/conf.d/default.conf
  mkdir -p "$tmp/html" && echo 'lab-static-page' >"$tmp/html/index.html"
  printf 'server {\n  listen 80;\n  location /ping { return 200 "lab-conf-d\\n"; }\n  location / { root /usr/share/nginx/html; }\n}\n' >"$tmp/default.conf"
  run --name "$n" -v "$tmp/html:/usr/share/nginx/html:ro" -v "$tmp/default.conf:/etc/nginx/conf.d/default.conf:ro" $img >/dev/null
  wait_for 15 docker run --rm --network "$net" alpine wget -qO- "http://$n/ping"
  expect "serves /usr/share/nginx/html" 'lab-static-page' docker run --rm --network "$net" alpine wget -qO- "http://$n/"
  expect "uses a mounted conf.d/default.conf" 'lab-conf-d' docker run --rm --network "$net" alpine wget -qO- "http://$n/ping"
  expect "logs requests to stdout" 'GET /ping' docker logs "$n"
}

test_python() {
  local img=python:3.11-slim
  echo "$img"
  lookalike $img
  expect "python is 3.11" '^Python 3\.11\.' docker run --rm $img python --version
  expect "pip is on PATH" '^pip ' docker run --rm $img pip --version
  expect "python:3.12-slim says what is really inside" 'really 3\.11' \
    docker image inspect -f '{{index .Config.Labels "org.compose-lab.really"}}' python:3.12-slim
  mkdir -p "$tmp/pyapp"
  printf 'six==1.16.0\n' >"$tmp/pyapp/requirements.txt"
  printf 'FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD ["python", "-c", "import six; print(six.__version__)"]\n' >"$tmp/pyapp/Dockerfile"
  check "pip install -r requirements.txt (pinned) works inside a build" docker build -q -t "$id-pyreq" "$tmp/pyapp"
  expect "the installed package imports at run time" '^1\.16\.0$' docker run --rm "$id-pyreq"
}

test_pgadmin() {
  local img=dpage/pgadmin4:9.18 pga="$id-pgadmin" alt="$id-pgadmin-env" email=admin@lab.example
  echo "$img"
  lookalike $img
  expect "$img holds pgAdmin 9.18" '^9\.18$' docker run --rm --entrypoint python3 $img -c 'import version; print(version.APP_VERSION)'
  expect "image user is pgadmin, uid 5050" '^uid=5050\(pgadmin\) gid=5050\(pgadmin\)' docker run --rm --entrypoint id $img
  expect "/var/lib/pgadmin is a volume" '/var/lib/pgadmin' docker image inspect -f '{{json .Config.Volumes}}' $img
  printf 'pgadmin-file-pw\n' >"$tmp/pga_pw" && chmod 0644 "$tmp/pga_pw"
  printf '{"Servers": {"1": {"Name": "contract-db", "Group": "Servers", "Host": "db", "Port": 5432, "MaintenanceDB": "postgres", "Username": "lab"}}}\n' >"$tmp/servers.json"
  # Logs in the way a browser does (CSRF token from /login, cookies) and lists the servers.
  cat >"$tmp/pga_login.py" <<'PY'
import http.cookiejar, json, re, sys, urllib.parse, urllib.request
base, email, password = sys.argv[1:4]
web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
token = re.search(r'"csrfToken": "([^"]+)"', web.open(base + "/login", timeout=10).read().decode()).group(1)
form = {"csrf_token": token, "email": email, "password": password, "language": "en", "internal_button": "Login"}
landed = web.open(base + "/authenticate/login", urllib.parse.urlencode(form).encode(), timeout=10).geturl()
if not landed.endswith("/browser/"):
    sys.exit("login refused, landed on " + landed)
ask = urllib.request.Request(base + "/browser/server/nodes/1/", headers={"X-pgA-CSRFToken": token})
nodes = json.load(web.open(ask, timeout=10))["result"]
print("logged in; servers:", ", ".join(n["label"] for n in nodes))
PY
  run --name "$pga" -e PGADMIN_DEFAULT_EMAIL=$email -e PGADMIN_DEFAULT_PASSWORD_FILE=/run/secrets/pga_pw \
    -e 'PGADMIN_CONFIG_LOGIN_BANNER="contract banner"' -e GUNICORN_THREADS=2 \
    -v "$tmp/pga_pw:/run/secrets/pga_pw:ro" -v "$tmp/servers.json:/pgadmin4/servers.json:ro" \
    -v "$tmp/pga_login.py:/tmp/pga_login.py:ro" $img >/dev/null
  run --name "$alt" -e PGADMIN_DEFAULT_EMAIL=$email -e PGADMIN_DEFAULT_PASSWORD=pgadmin-env-pw \
    -e PGADMIN_LISTEN_PORT=5050 -e GUNICORN_THREADS=2 $img >/dev/null
  local nopw nofile
  nopw=$(docker run --rm -e PGADMIN_DEFAULT_EMAIL=$email $img 2>&1) && nopw="exit 0: $nopw"
  nofile=$(docker run --rm -e PGADMIN_DEFAULT_EMAIL=$email -e PGADMIN_DEFAULT_PASSWORD_FILE=/run/secrets/absent $img 2>&1) && nofile="exit 0: $nofile"
  expect "no password: exits with a clear error" '^pgadmin: set PGADMIN_DEFAULT_EMAIL and PGADMIN_DEFAULT_PASSWORD \(or PGADMIN_DEFAULT_PASSWORD_FILE' echo "$nopw"
  expect "missing password file: exits naming the file" 'PGADMIN_DEFAULT_PASSWORD_FILE=/run/secrets/absent: no such file' echo "$nofile"
  if wait_for 60 docker run --rm --network "$net" alpine wget -q -O /dev/null "http://$pga/misc/ping"; then ok "/misc/ping answers on port 80"
  else bad "/misc/ping answers on port 80" "$(docker logs "$pga" 2>&1 | tail -5)"; return; fi
  expect "/misc/ping says PING" '^PING$' docker run --rm --network "$net" alpine wget -q -O - "http://$pga/misc/ping"
  expect "every gunicorn process runs as uid 5050" '^5050 $' \
    sh -c "docker top '$pga' -o pid,uid,comm | awk '\$3 == \"gunicorn\" { print \$2 }' | sort -u | tr '\\n' ' '"
  check "wget is on PATH (for healthchecks)" docker exec "$pga" wget -q -O /dev/null http://127.0.0.1/misc/ping
  expect "PGADMIN_DEFAULT_PASSWORD_FILE: login works; servers.json loaded" '^logged in; servers: contract-db$' \
    docker exec "$pga" python3 /tmp/pga_login.py http://127.0.0.1 $email pgadmin-file-pw
  refuse "a wrong password is refused" docker exec "$pga" python3 /tmp/pga_login.py http://127.0.0.1 $email wrong-password
  expect "PGADMIN_CONFIG_* reaches pgAdmin's config" 'contract banner' docker exec "$pga" python3 -c \
    "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1/login', timeout=5).read().decode())"
  expect "X-Script-Name: pages are served under the proxy's prefix" '/pgadmin/static/' docker exec "$pga" python3 -c \
    "import urllib.request as u; print(u.urlopen(u.Request('http://127.0.0.1/pgadmin/login', headers={'X-Script-Name': '/pgadmin'}), timeout=5).read().decode())"
  check "its configuration database is in /var/lib/pgadmin" docker exec "$pga" test -s /var/lib/pgadmin/pgadmin4.db
  if wait_for 60 docker run --rm --network "$net" alpine wget -q -O /dev/null "http://$alt:5050/misc/ping"; then ok "PGADMIN_LISTEN_PORT=5050 and a plain PGADMIN_DEFAULT_PASSWORD work"
  else bad "PGADMIN_LISTEN_PORT=5050 and a plain PGADMIN_DEFAULT_PASSWORD work" "$(docker logs "$alt" 2>&1 | tail -5)"; fi
}

test_alpine() {
  local img=alpine
  echo "$img"
  lookalike $img
  for tool in sh ping getent wget nc nslookup; do
    check "alpine has $tool" docker run --rm $img sh -c "command -v $tool"
  done
  run --name "$id-peer" busybox sleep 60 >/dev/null
  expect "getent resolves a container name on a user-defined network" "$id-peer" docker run --rm --network "$net" $img getent hosts "$id-peer"
  check "ping reaches a container by name" docker run --rm --network "$net" $img ping -c 1 -W 2 "$id-peer"
}

test_busybox() {
  local img=busybox
  echo "$img"
  lookalike $img
  for tool in sh nslookup nc wget sleep; do
    check "busybox has $tool" docker run --rm $img sh -c "command -v $tool"
  done
}

test_rust() {
  local img=rust:1-slim-bookworm
  echo "$img"
  lookalike $img
  check "cargo builds and runs a program" docker run --rm $img sh -c \
    'cd /tmp && cargo new -q hello && cd hello && cargo run -q --offline | grep -q "Hello, world!"'
}

test_debian() {
  local img=debian:bookworm-slim
  echo "$img"
  lookalike $img
  expect "$img is Debian 12" '^12\.' docker run --rm $img cat /etc/debian_version
  check "trusts the host's extra CA certificates" docker run --rm -v /usr/local/share/ca-certificates:/host-ca:ro $img \
    sh -c 'for c in /host-ca/*.crt; do [ -e "$c" ] || continue; grep -qF "$(sed -n 2p "$c")" /etc/ssl/certs/ca-certificates.crt || exit 1; done'
}

docker info >/dev/null 2>&1 || { echo "contract: no Docker engine answers (run scripts/setup-engine.sh)"; echo "contract: 0 passed, 1 failed"; exit 1; }
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(debian postgres redis nginx python pgadmin alpine busybox rust)
for i in "${images[@]}"; do "test_$i"; done
echo "contract: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
