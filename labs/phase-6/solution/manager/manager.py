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


# ANCHOR: verdict
def verdict(attrs):
    """Why this container needs a restart, or None. `attrs` is the inspect document.

    A container that Docker's restart policy is handling shows status "restarting", not
    "exited", so an "exited" container is one that nothing else will bring back.
    """
    state = attrs["State"]
    status = state.get("Status")
    if status == "running":
        if state.get("Health", {}).get("Status") == "unhealthy":
            return "unhealthy"
        return None
    if status == "dead":
        return "dead"
    if status == "exited" and state.get("ExitCode", 0) != 0:
        return f"exited({state['ExitCode']})"
    return None  # running and healthy/starting, restarting (Docker's policy), created, paused, or a clean stop
# ANCHOR_END: verdict


def main():
    history = {}   # container id -> list of restart times
    quiet_until = {}
    client = None
    project = None
    log("start", watch=WATCH, poll=POLL, grace=GRACE)
    while True:
        try:
            if client is None:
                client = docker.DockerClient(base_url=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"), timeout=10)
                project = own_project(client)
                log("connected", project=project, engine=client.version().get("Version"))
            listed = client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
            now = time.time()
            for c in listed:
                service = c.labels.get(SERVICE_LABEL)
                if service not in WATCH or now < quiet_until.get(c.id, 0):
                    continue
                reason = verdict(c.attrs)
                if reason is None:
                    continue
                recent = [t for t in history.get(c.id, []) if now - t < WINDOW]
                if len(recent) >= MAX_RESTARTS:
                    log("give-up", service=service, container=c.name, reason=reason, restarts=len(recent))
                    quiet_until[c.id] = now + WINDOW
                    continue
                log("restart", service=service, container=c.name, reason=reason)
                try:
                    c.restart(timeout=5)
                    recent.append(now)
                    history[c.id] = recent
                    quiet_until[c.id] = time.time() + GRACE
                    log("restarted", service=service, container=c.name)
                except NotFound:
                    log("gone", service=service, container=c.name)
            with open(HEARTBEAT, "w") as f:
                f.write(str(now))
        except DockerException as exc:
            log("docker-error", error=str(exc)[:300])
            client = None
        except Exception as exc:  # keep healing even if one pass hits something unexpected
            log("error", error=f"{type(exc).__name__}: {exc}"[:300])
        time.sleep(POLL)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
