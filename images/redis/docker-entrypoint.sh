#!/bin/sh
# As the official redis entrypoint: flags or a .conf file mean redis-server; without a config
# file, protected mode is off (the container network is the boundary); drop root to redis.
set -e
case "$1" in -*|*.conf) set -- redis-server "$@" ;; esac
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
if [ "$1" = redis-server ]; then
  case "${2:-}" in
    *.conf|-v|--version|-h|--help) ;;
    *) shift; set -- redis-server --protected-mode no "$@" ;;
  esac
fi
exec "$@"
