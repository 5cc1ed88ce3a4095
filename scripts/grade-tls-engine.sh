#!/usr/bin/env bash
# A second Docker engine for the `labcheck grade` live tests, reached over TCP with mutual TLS.
#
#   bash scripts/grade-tls-engine.sh start DIR   # certificates, dockerd, busybox loaded; prints env lines
#   bash scripts/grade-tls-engine.sh stop DIR    # stops that dockerd (only the one whose pid is in DIR)
#
# Everything lives in DIR: a CA, server and client certificates made with openssl (the server's
# for IP 127.0.0.2), and the engine's own --data-root, --exec-root, --pidfile and unix socket.
# It listens on tcp://127.0.0.2:2376 (--tlsverify) and DIR/docker.sock, with a default bridge of its
# own (lcgb0; `--bridge none` would make dockerd delete the main engine's docker0) and no
# iptables rules of its own (one rule in DOCKER-USER, see below), so the main engine's networks and
# rules are left alone. Images come
# from the main engine with `docker save | docker load` (no registry).
set -euo pipefail

cmd=${1:?usage: grade-tls-engine.sh start|stop DIR}
dir=${2:?usage: grade-tls-engine.sh start|stop DIR}
ADDR=${GRADE_TLS_ADDR:-127.0.0.2}
PORT=${GRADE_TLS_PORT:-2376}
ENGINE_BIN=${ENGINE_BIN:-/opt/compose-lab/engine/bin}
BRIDGE=lcgb0

# The main engine sets the FORWARD policy to DROP and bridged traffic goes through iptables, so
# containers on this engine's bridges could not talk to each other. Networks whose bridge is
# named lcgb* (the test's compose file names its own) are let through in DOCKER-USER, the chain
# Docker keeps for rules of the host's own; stop removes that one rule again.
FWD_RULE=(DOCKER-USER -i lcgb+ -o lcgb+ -j ACCEPT)

stop() {
  if iptables -C "${FWD_RULE[@]}" 2>/dev/null; then iptables -D "${FWD_RULE[@]}" || true; fi
  if [ -f "$dir/dockerd.pid" ]; then
    local pid
    pid=$(cat "$dir/dockerd.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$dir/dockerd.pid"
  fi
  ip link del "$BRIDGE" 2>/dev/null || true
  # overlay mounts of the second engine's data root, if any survived it
  { grep -F " $dir/" /proc/mounts || true; } | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

certs() {
  local c="$dir/certs"
  mkdir -p "$c"
  cd "$c"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -keyout ca-key.pem -out ca.pem -subj "/CN=labcheck grade test CA" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout server-key.pem -out server.csr -subj "/CN=$ADDR" 2>/dev/null
  printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$ADDR" >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile server.ext -out server-cert.pem 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout key.pem -out client.csr -subj "/CN=grader" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >client.ext
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile client.ext -out cert.pem 2>/dev/null
  # A CA that signed nothing here: a roster entry trusting it must fail with a TLS error.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -keyout other-ca-key.pem -out other-ca.pem -subj "/CN=some other CA" 2>/dev/null
  cd - >/dev/null
}

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  stop
  certs
  mkdir -p "$dir/data" "$dir/exec"
  ip link add "$BRIDGE" type bridge && ip addr add 10.212.0.1/24 dev "$BRIDGE" && ip link set "$BRIDGE" up
  PATH="$ENGINE_BIN:$PATH" setsid "$ENGINE_BIN/dockerd" \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    -H "unix://$dir/docker.sock" -H "tcp://$ADDR:$PORT" \
    --tlsverify --tlscacert "$dir/certs/ca.pem" --tlscert "$dir/certs/server-cert.pem" --tlskey "$dir/certs/server-key.pem" \
    --bridge "$BRIDGE" --iptables=false --ip6tables=false \
    --default-address-pool base=10.213.0.0/16,size=24 \
    >"$dir/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 150); do
    if docker -H "unix://$dir/docker.sock" info >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  docker -H "unix://$dir/docker.sock" info >/dev/null 2>&1 || { tail -20 "$dir/dockerd.log" >&2; echo "the second engine did not start" >&2; exit 1; }
  if iptables -S DOCKER-USER >/dev/null 2>&1 && ! iptables -C "${FWD_RULE[@]}" 2>/dev/null; then
    iptables -I "${FWD_RULE[@]}"
  fi
  docker save busybox:latest | docker -H "unix://$dir/docker.sock" load -q >/dev/null
  echo "DOCKER_HOST=tcp://$ADDR:$PORT"
  echo "DOCKER_CERT_PATH=$dir/certs"
  echo "SOCKET=$dir/docker.sock"
}

case "$cmd" in
  start) start ;;
  stop) dir=$(cd "$dir" 2>/dev/null && pwd || echo "$dir"); stop ;;
  *) echo "usage: grade-tls-engine.sh start|stop DIR" >&2; exit 2 ;;
esac
