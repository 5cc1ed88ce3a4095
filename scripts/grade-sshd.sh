#!/usr/bin/env bash
# An sshd on a loopback address for the `labcheck grade` ssh:// live test.
#
#   bash scripts/grade-sshd.sh start DIR [ADDR] [PORT]   # keys, known_hosts, sshd; prints env lines
#   bash scripts/grade-sshd.sh stop DIR                  # stops that sshd (only the one whose pid is in DIR)
#
# DIR gets a host key, a client key (id_ed25519) authorised for the current user, a known_hosts
# file with the host key, and the sshd's own config and pid file. sshd listens only on ADDR:PORT
# (default 127.0.0.4:2222), allows only public keys, and allows forwarding unix sockets, which is
# how labcheck reaches the engine's socket on the far side (ssh -L local.sock:/var/run/docker.sock).
# Installs Debian's openssh-server when sshd is missing (CI machines start without it).
set -euo pipefail

cmd=${1:?usage: grade-sshd.sh start|stop DIR [ADDR] [PORT]}
dir=${2:?usage: grade-sshd.sh start|stop DIR [ADDR] [PORT]}
ADDR=${3:-127.0.0.4}
PORT=${4:-2222}

stop() {
  if [ -f "$dir/sshd.pid" ]; then
    local pid
    pid=$(cat "$dir/sshd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$dir/sshd.pid"
  fi
}

start() {
  if [ ! -x /usr/sbin/sshd ]; then
    echo "installing openssh-server (Debian) for the ssh:// grading test" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq openssh-server >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq openssh-server >/dev/null; }
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  stop
  mkdir -p /run/sshd
  chmod 0755 /run/sshd
  rm -f "$dir"/host_key* "$dir"/id_ed25519*
  ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" -C "grade test host"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/id_ed25519" -C "grade test client"
  cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
  chmod 600 "$dir/authorized_keys" "$dir/id_ed25519" "$dir/host_key"
  local host_entry=$ADDR
  [ "$PORT" = 22 ] || host_entry="[$ADDR]:$PORT"
  echo "$host_entry $(cut -d' ' -f1,2 "$dir/host_key.pub")" >"$dir/known_hosts"
  cat >"$dir/sshd_config" <<EOF
ListenAddress $ADDR
Port $PORT
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
StrictModes no
UsePAM no
X11Forwarding no
PrintMotd no
EOF
  /usr/sbin/sshd -t -f "$dir/sshd_config"
  /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
  for _ in $(seq 1 50); do
    [ -s "$dir/sshd.pid" ] && break
    sleep 0.1
  done
  [ -s "$dir/sshd.pid" ] || { cat "$dir/sshd.log" >&2; echo "sshd did not start" >&2; exit 1; }
  echo "SSH_ENDPOINT=ssh://$(id -un)@$ADDR:$PORT"
  echo "SSH_IDENTITY=$dir/id_ed25519"
  echo "SSH_KNOWN_HOSTS=$dir/known_hosts"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: grade-sshd.sh start|stop DIR [ADDR] [PORT]" >&2; exit 2 ;;
esac
