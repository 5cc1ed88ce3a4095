#!/bin/sh
# As the official nginx entrypoint: when starting nginx, render /etc/nginx/templates/*.template
# into conf.d with envsubst (only the variables that are set), then run /docker-entrypoint.d/*.sh.
set -e
if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
  if [ -d /etc/nginx/templates ]; then
    vars=$(printf '${%s} ' $(env | cut -d= -f1))
    for t in /etc/nginx/templates/*.template; do
      [ -e "$t" ] || continue
      out=/etc/nginx/conf.d/$(basename "$t" .template)
      echo "$0: rendering $t to $out"
      envsubst "$vars" <"$t" >"$out"
    done
  fi
  for s in /docker-entrypoint.d/*.sh; do
    [ -x "$s" ] && { echo "$0: running $s"; "$s"; }
  done
fi
exec "$@"
