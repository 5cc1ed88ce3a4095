#!/usr/bin/env bash
# The parts of the official postgres entrypoint's contract that labs and learners rely on:
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB (and their _FILE variants), initdb on an empty
# data directory only, /docker-entrypoint-initdb.d/*.sql|*.sql.gz|*.sh run once on that first
# start, trust on the local socket, password auth (scram-sha-256) over TCP, listening on all
# addresses, and dropping root to the postgres user.
set -Eeo pipefail

# VAR from $VAR or from the file named by $VAR_FILE (Docker/Compose secrets).
file_env() {
  local var=$1 file_var="${1}_FILE" def=${2:-} val
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    echo "error: both $var and $file_var are set (but are exclusive)" >&2; exit 1
  fi
  val=$def
  if [ -n "${!var:-}" ]; then val=${!var}; elif [ -n "${!file_var:-}" ]; then val=$(<"${!file_var}"); fi
  export "$var"="$val"
  unset "$file_var"
}

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

# `postgres --version` and friends print and exit: no data directory, no init.
wants_help() {
  local arg
  for arg; do case "$arg" in -'?'|--help|--describe-config|-C|-V|--version) return 0 ;; esac; done
  return 1
}
if [ "$1" = postgres ] && wants_help "$@"; then exec "$@"; fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

psql_init() { psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER" "$@"; }

if [ "$1" = postgres ]; then
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$auth" != trust ]; then
      cat >&2 <<'MSG'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
       (or POSTGRES_HOST_AUTH_METHOD=trust to allow connections without a password)
MSG
      exit 1
    fi
    # shellcheck disable=SC2086
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
      --auth-local=trust --auth-host="$auth" $POSTGRES_INITDB_ARGS >/dev/null
    printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
    printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    # A temporary server on the socket only, so nothing connects over TCP before init is done.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
    if [ "$POSTGRES_DB" != postgres ]; then
      psql_init --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >/dev/null
    fi
    echo
    for f in /docker-entrypoint-initdb.d/*; do
      case "$f" in
        *.sh)     if [ -x "$f" ]; then echo "$0: running $f"; "$f"; else echo "$0: sourcing $f"; . "$f"; fi ;;
        *.sql)    echo "$0: running $f"; psql_init --dbname "$POSTGRES_DB" -f "$f"; echo ;;
        *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | psql_init --dbname "$POSTGRES_DB"; echo ;;
        *)        [ -e "$f" ] && echo "$0: ignoring $f" ;;
      esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo 'PostgreSQL init process complete; ready for start up.'
  else
    echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
  fi
  echo
fi

exec "$@"
