margin=$1; secs=$2; server=$3; shift 3; pids=
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  ( nslookup "$1" $server 2>&1 | sed "s/^/lookup $1: /" ) &
  shift
done
shift
for t in "$@"; do
  ( if out=$(nc -w "$secs" "${t%:*}" "${t##*:}" -e true 2>&1); then echo "reached $t"; else echo "failed $t ${out:-no answer}"; fi ) &
  pids="$pids $!"
done
if [ -n "$pids" ]; then
  nc -w 1 127.0.0.1 "${1##*:}" -e true >/dev/null 2>&1
  sleep "$margin"
  echo cut
  kill $pids 2>/dev/null
fi
wait
exit 0
