#!/bin/sh
# The parts of the official dpage/pgadmin4 entrypoint's contract that compose files rely on:
#   - PGADMIN_CONFIG_<NAME>=<python value> lines are written to /pgadmin4/config_distro.py once,
#     when that file is empty (config_local.py, if mounted, still wins);
#   - on the first start only (no /var/lib/pgadmin/pgadmin4.db yet): the initial user from
#     PGADMIN_DEFAULT_EMAIL and PGADMIN_DEFAULT_PASSWORD, or PGADMIN_DEFAULT_PASSWORD_FILE (a
#     Compose or Swarm secret), then the servers in PGADMIN_SERVER_JSON_FILE
#     (default /pgadmin4/servers.json) and the preferences in PGADMIN_PREFERENCES_JSON_FILE;
#   - gunicorn with one worker (pgAdmin keeps sessions in memory) and GUNICORN_THREADS threads,
#     on PGADMIN_LISTEN_ADDRESS:PGADMIN_LISTEN_PORT ([::]:80, or 443 with PGADMIN_ENABLE_TLS and
#     /certs/server.{cert,key}), or on unix:/run/pgadmin/pgadmin.sock with PGADMIN_ENABLE_SOCK.
# PGADMIN_DISABLE_POSTFIX is accepted and changes nothing: this image has no Postfix.
set -e

die() { echo "pgadmin: $*" >&2; exit 1; }

if [ ! -s /pgadmin4/config_distro.py ]; then
  {
    echo "CA_FILE = '/etc/ssl/certs/ca-certificates.crt'"
    echo "LOG_FILE = '/dev/null'"
    echo "HELP_PATH = '../../docs/en_US/_build/html/'"
    echo "DEFAULT_BINARY_PATHS = {'pg': '/usr/lib/postgresql/15/bin', 'pg-15': '/usr/lib/postgresql/15/bin'}"
    # Values are Python literals, as in the official image: 'text', True/False, 123.
    env | grep '^PGADMIN_CONFIG_' | while IFS= read -r line; do
      name=${line%%=*}
      echo "${name#PGADMIN_CONFIG_} = ${line#*=}"
    done
  } >/pgadmin4/config_distro.py
fi

if [ ! -f /var/lib/pgadmin/pgadmin4.db ]; then
  if [ -n "${PGADMIN_DEFAULT_PASSWORD_FILE:-}" ]; then
    [ -z "${PGADMIN_DEFAULT_PASSWORD:-}" ] ||
      die "both PGADMIN_DEFAULT_PASSWORD and PGADMIN_DEFAULT_PASSWORD_FILE are set; use one"
    [ -r "$PGADMIN_DEFAULT_PASSWORD_FILE" ] ||
      die "PGADMIN_DEFAULT_PASSWORD_FILE=$PGADMIN_DEFAULT_PASSWORD_FILE: no such file, or not readable by uid $(id -u)"
    PGADMIN_DEFAULT_PASSWORD=$(cat "$PGADMIN_DEFAULT_PASSWORD_FILE")
  fi
  if [ -z "${PGADMIN_DEFAULT_EMAIL:-}" ] || [ -z "${PGADMIN_DEFAULT_PASSWORD:-}" ]; then
    die "set PGADMIN_DEFAULT_EMAIL and PGADMIN_DEFAULT_PASSWORD (or PGADMIN_DEFAULT_PASSWORD_FILE, e.g. /run/secrets/pgadmin_password) for the first start"
  fi
  case $PGADMIN_DEFAULT_EMAIL in
    *@*.*) ;;
    *) die "PGADMIN_DEFAULT_EMAIL='$PGADMIN_DEFAULT_EMAIL' is not an email address" ;;
  esac
  # Create the configuration database and the initial user: importing the app is enough.
  PGADMIN_SETUP_EMAIL=$PGADMIN_DEFAULT_EMAIL PGADMIN_SETUP_PASSWORD=$PGADMIN_DEFAULT_PASSWORD \
    python3 -c 'import run_pgadmin'
  [ -f /var/lib/pgadmin/pgadmin4.db ] || die "the configuration database was not created (see the errors above)"

  servers=${PGADMIN_SERVER_JSON_FILE:-/pgadmin4/servers.json}
  if [ -f "$servers" ]; then
    if [ "${PGADMIN_CONFIG_SERVER_MODE:-}" = False ]; then
      python3 /pgadmin4/setup.py load-servers "$servers" --replace
    else
      python3 /pgadmin4/setup.py load-servers "$servers" --user "$PGADMIN_DEFAULT_EMAIL" --replace
    fi
  fi
  prefs=${PGADMIN_PREFERENCES_JSON_FILE:-/pgadmin4/preferences.json}
  if [ -f "$prefs" ]; then
    python3 /pgadmin4/setup.py set-prefs "$PGADMIN_DEFAULT_EMAIL" --input-file "$prefs"
  fi
fi
# The server never needs the password again: keep it out of gunicorn's environment.
unset PGADMIN_DEFAULT_PASSWORD PGADMIN_SETUP_PASSWORD

# A request may last as long as a session (SESSION_EXPIRATION_TIME is in days).
timeout=$(python3 -c 'import config; print(int(config.SESSION_EXPIRATION_TIME * 86400))')

if [ -n "${PGADMIN_ENABLE_SOCK:-}" ]; then
  bind=unix:/run/pgadmin/pgadmin.sock
elif [ -n "${PGADMIN_ENABLE_TLS:-}" ]; then
  bind="${PGADMIN_LISTEN_ADDRESS:-[::]}:${PGADMIN_LISTEN_PORT:-443}"
  set -- --keyfile /certs/server.key --certfile /certs/server.cert
else
  bind="${PGADMIN_LISTEN_ADDRESS:-[::]}:${PGADMIN_LISTEN_PORT:-80}"
fi

exec gunicorn --bind "$bind" --workers 1 --threads "${GUNICORN_THREADS:-25}" \
  --timeout "$timeout" --limit-request-line "${GUNICORN_LIMIT_REQUEST_LINE:-8190}" \
  --access-logfile "${GUNICORN_ACCESS_LOGFILE:--}" "$@" run_pgadmin:app
