"""Self-healing manager for the phase-6 stack.

Every POLL seconds it lists the containers of its own compose project through the Docker
Engine API (the mounted /var/run/docker.sock) and restarts, per container:
  - an UNHEALTHY container (its healthcheck failed `retries` times): Docker's restart policy
    never acts on health, only on exits, so this is the case the manager exists for;
  - an EXITED (or dead) container with a non-zero exit code that Docker's restart policy is
    not restarting. Exit code 0 is a deliberate stop (`docker compose stop`): left alone.
After restarting a container it leaves that container alone for GRACE seconds, so the
healthcheck can pass again, and it never restarts more than MAX_RESTARTS times per WINDOW.

Configuration (environment):
  WATCH         comma-separated compose services to heal (default: frontend,backend,gateway)
  POLL          seconds between passes (default 2)
  GRACE         seconds to leave a restarted container alone (default 15)
  MAX_RESTARTS  restarts allowed per container per WINDOW seconds (default 5 per 300)
  HEARTBEAT     file touched after every successful pass; the healthcheck reads its age
"""
import json
import os
import socket
import sys
import time

import docker
from docker.errors import DockerException, NotFound

WATCH = [s.strip() for s in os.environ.get("WATCH", "frontend,backend,gateway").split(",") if s.strip()]
POLL = float(os.environ.get("POLL", "2"))
GRACE = float(os.environ.get("GRACE", "15"))
MAX_RESTARTS = int(os.environ.get("MAX_RESTARTS", "5"))
WINDOW = float(os.environ.get("WINDOW", "300"))
HEARTBEAT = os.environ.get("HEARTBEAT", "/tmp/manager-heartbeat")

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


def log(event, **fields):
    print(json.dumps({"ts": round(time.time(), 3), "event": event, **fields}), flush=True)


def own_project(client):
    """The compose project this manager belongs to: from PROJECT, else its own labels."""
    if os.environ.get("PROJECT"):
        return os.environ["PROJECT"]
    me = client.containers.get(socket.gethostname())
    return me.labels[PROJECT_LABEL]


def verdict(attrs):
    """Why this container needs a restart, or None. `attrs` is `docker inspect`'s document.

    TODO: return a reason for a running container whose State.Health.Status is "unhealthy",
          and for an exited (or dead) container with a non-zero ExitCode. Leave alone a
          clean stop (exit code 0) and a container that Docker is restarting itself.
    """
    return None


def main():
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", timeout=10)
    project = own_project(client)
    log("connected", project=project)
    while True:
        # TODO: list ALL containers of this project (filter on the compose project label),
        #       skip services not in WATCH, ask verdict(), restart the ones that need it
        #       (container.restart(timeout=5)) and log what you did.
        # TODO: after a restart, leave that container alone for GRACE seconds, and give up
        #       after MAX_RESTARTS restarts in WINDOW seconds (no restart loops).
        # TODO: survive a Docker API error (log it, reconnect on the next pass).
        # TODO: touch HEARTBEAT after every complete pass, for the healthcheck.
        time.sleep(POLL)


if __name__ == "__main__":
    main()
