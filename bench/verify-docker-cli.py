#!/usr/bin/env python3
"""The docker-CLI cross-check of phase-1 and phase-2 (the labs whose check kinds it implements).

It brings up a lab's solution (and each fault), evaluates every check of lab.toml with one
docker command or so per check, applies the `needs` ladder, and compares what fails with the
fault's `fails` and `first_broken`. It is an implementation of those checks independent of
labcheck, the measurement behind the faults' expectations, and the docker-CLI baseline for
labcheck's timings on these labs (labcheck implements every kind: docs/CONTRACTS.md).

    python3 bench/verify-docker-cli.py labs/phase-1            # solution, then every fault
    python3 bench/verify-docker-cli.py labs/phase-2 --only db-published
    python3 bench/verify-docker-cli.py labs/phase-1 --only solution --keep

Exit code 0 when the solution passes everything and every fault fails exactly as declared.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request

HELPER_IMAGE = "busybox"
PREDEFINED_NETWORKS = {"bridge", "host", "none"}


def run(args, check=False, timeout=120, **kw):
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=timeout, **kw)


def inspect(kind, name):
    out = run(["docker", kind, "inspect", name])
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)[0]


class Target:
    """Finds a lab's containers: by compose labels or by container name."""

    def __init__(self, lab, project):
        self.lab = lab
        self.kind = lab["target"]["kind"]
        self.project = project

    def container(self, service):
        if self.kind == "containers":
            return inspect("container", service)
        ids = run(["docker", "ps", "-aq",
                   "--filter", f"label=com.docker.compose.project={self.project}",
                   "--filter", f"label=com.docker.compose.service={service}"]).stdout.split()
        return inspect("container", ids[0]) if ids else None


# Each probe returns (passed, detail).

def p_running(t, c):
    ctr = t.container(c["service"])
    if ctr is None:
        return False, "no container"
    st = ctr["State"]
    return st["Running"] and not st["Restarting"], st["Status"]


def p_healthy(t, c):
    ctr = t.container(c["service"])
    health = ctr["State"].get("Health")
    if not health:
        return False, "no healthcheck"
    last = health["Log"][-1]["Output"].strip()[-120:] if health.get("Log") else ""
    return health["Status"] == "healthy", f"{health['Status']}; last probe: {last!r}"


def p_image_label(t, c):
    img = inspect("image", t.container(c["service"])["Image"])
    value = (img["Config"].get("Labels") or {}).get(c["label"])
    if "equals" in c:
        return value == c["equals"], f"{c['label']}={value!r}"
    return value is not None, f"{c['label']}={value!r}"


def p_image_healthcheck(t, c):
    img = inspect("image", t.container(c["service"])["Image"])
    hc = img["Config"].get("Healthcheck") or {}
    test = hc.get("Test") or []
    return bool(test) and test[0] != "NONE", f"image healthcheck {test!r}"


def p_non_root(t, c):
    ctr = t.container(c["service"])
    user = ctr["Config"].get("User") or ""
    name = user.split(":")[0]
    if name in ("", "root", "0"):
        return False, f"Config.User={user!r} (root)"
    if name.isdigit():
        return True, f"Config.User={user!r}"
    out = run(["docker", "exec", ctr["Id"], "id", "-u"])
    uid = out.stdout.strip()
    return out.returncode == 0 and uid not in ("", "0"), f"Config.User={user!r}, id -u={uid!r}"


def p_absent_paths(t, c):
    ctr = t.container(c["service"])
    present = []
    for path in c["paths"]:
        # The CLI's view of GET /containers/{id}/archive?path=...: fails when the path is absent.
        out = run(["docker", "cp", f"{ctr['Id']}:{path}", "-"])
        if out.returncode == 0:
            present.append(path)
    return not present, f"present: {present}" if present else "all absent"


def p_deps_before_code(t, c):
    ctr = t.container(c["service"])
    out = run(["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", ctr["Image"]])
    layers = list(reversed(out.stdout.splitlines()))  # oldest first

    def is_copy(s):
        return s.startswith(("COPY ", "ADD ")) or "#(nop) COPY" in s or "#(nop) ADD" in s

    def as_list(v):
        return [v] if isinstance(v, str) else list(v)

    installs = [i for i, s in enumerate(layers) if any(x in s for x in as_list(c["install"]))]
    if not installs:
        return False, f"no layer runs {c['install']!r}"
    i = installs[0]
    before = [s for s in layers[:i] if is_copy(s)]
    after = [s for s in layers[i + 1:] if is_copy(s)]
    if not before:
        return False, "nothing copied before the install"
    last = before[-1]
    # The classic builder records `COPY file:<hash> in .` (one file) or `COPY dir:<hash> in .`
    # (a directory or several files), without the source names.
    classic_single_file = "#(nop) COPY file:" in last or "#(nop) ADD file:" in last
    if not any(m in last for m in as_list(c["manifest"])) and not classic_single_file:
        return False, f"copied before install: {last!r}"
    if not after:
        return False, "nothing copied after the install"
    return True, f"{before[-1]!r} < {c['install']!r} < {after[0]!r}"


def p_env(t, c):
    ctr = t.container(c["service"])
    env = dict(e.split("=", 1) for e in ctr["Config"]["Env"])
    if c["var"] not in env:
        return False, f"{c['var']} unset"
    value = env[c["var"]]
    if "equals" in c:
        return value == c["equals"], f"{c['var']}={value!r}"
    if "not" in c:
        return value not in c["not"], f"{c['var']} is {'one of ' + repr(c['not']) if value in c['not'] else 'set'}"
    return True, "set"


def p_published(t, c):
    ctr = t.container(c["service"])
    binds = (ctr["NetworkSettings"]["Ports"] or {}).get(f"{c['container_port']}/tcp") or []
    if not binds:
        return False, "not published"
    ok = True
    if "host_port" in c:
        ok &= all(b["HostPort"] == str(c["host_port"]) for b in binds)
    if "host_ip" in c:
        ok &= all(b["HostIp"] == c["host_ip"] for b in binds)
    return ok, ", ".join(f"{b['HostIp']}:{b['HostPort']}" for b in binds)


def p_not_published(t, c):
    ctr = t.container(c["service"])
    ports = ctr["NetworkSettings"]["Ports"] or {}
    bound = {p: b for p, b in ports.items() if b}
    if "container_port" in c:
        bound = {p: b for p, b in bound.items() if p == f"{c['container_port']}/tcp"}
    return not bound, f"published: {sorted(bound)}" if bound else "not published"


def p_http(t, c):
    try:
        with urllib.request.urlopen(c["url"], timeout=5) as r:
            status, body = r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode(errors="replace")
    except OSError as e:
        return False, f"{e}"
    ok = status == c.get("status", 200) and c.get("body_contains", "") in body
    return ok, f"{status} {body.strip()[:100]!r}"


def p_network(t, c):
    net = inspect("network", c["network"])
    if net is None:
        return False, "no such network"
    default = (net.get("Options") or {}).get("com.docker.network.bridge.default_bridge") == "true"
    ok = net["Driver"] == c.get("driver", "bridge") and net["Name"] not in PREDEFINED_NETWORKS \
        and not default
    return ok, f"driver={net['Driver']} name={net['Name']}"


def networks_of(ctr):
    return set(ctr["NetworkSettings"]["Networks"])


def p_attached(t, c):
    nets = networks_of(t.container(c["service"]))
    want = set(c["networks"])
    ok = want <= nets and (not c.get("only", False) or nets == want)
    return ok, f"on {sorted(nets)}"


def p_network_excludes(t, c):
    net = inspect("network", c["network"])
    names = {v["Name"] for v in (net.get("Containers") or {}).values()}
    found = sorted(names & set(c["services"]))
    return not found, f"on {c['network']}: {found}" if found else "none of them"


def p_shared_network(t, c):
    a = networks_of(t.container(c["service"])) - PREDEFINED_NETWORKS
    b = networks_of(t.container(c["peer"])) - PREDEFINED_NETWORKS
    return bool(a & b), f"shared: {sorted(a & b)}"


def helper(netns, script):
    return run(["docker", "run", "--rm", "--network", netns, HELPER_IMAGE, "sh", "-c", script],
               timeout=30)


def p_resolves(t, c):
    ctr = t.container(c["from"])
    out = helper(f"container:{ctr['Id']}", f"nslookup {c['name']} 127.0.0.11")
    addrs = [l.split()[-1] for l in out.stdout.splitlines()[2:] if l.startswith("Address")]
    return out.returncode == 0 and bool(addrs), f"{c['name']} -> {addrs}"


def p_tcp(t, c):
    ctr = t.container(c["from"])
    out = helper(f"container:{ctr['Id']}", f"nc -w 2 {c['host']} {c['port']} </dev/null")
    return out.returncode == 0, (out.stderr.strip() or "connected")[:120]


def p_isolated(t, c):
    target = t.container(c["service"])
    via = c.get("via", "name")
    if via == "name":
        name = c.get("name", c["service"])
        ips = {n["IPAddress"] for n in target["NetworkSettings"]["Networks"].values()}
        out = helper(c["network"], f"nslookup {name} 127.0.0.11")
        answers = {l.split()[-1] for l in out.stdout.splitlines()[2:] if l.startswith("Address")}
        # Unknown names are forwarded to the host's resolvers, which may know another `db`:
        # only an answer with one of the container's own addresses breaks the isolation.
        leaked = sorted(answers & ips)
        return not leaked, f"{name} -> {leaked} from {c['network']}" if leaked else \
            f"{name} does not resolve to {c['service']} from {c['network']}"
    ips = [n["IPAddress"] for n in target["NetworkSettings"]["Networks"].values() if n["IPAddress"]]
    reached = []
    for ip in ips:
        out = helper(c["network"], f"nc -w 2 {ip} {c['port']} </dev/null")
        if out.returncode == 0:
            reached.append(ip)
    return not reached, f"reached {reached}" if reached else f"none of {ips} reachable"


PROBES = {name[2:]: fn for name, fn in globals().items() if name.startswith("p_")}


def evaluate(lab, target):
    results = {}
    for c in lab["checks"]:
        blocked = [n for n in c.get("needs", []) if results.get(n, ("",))[0] != "pass"]
        if blocked:
            results[c["id"]] = ("skip", f"needs {blocked}")
            continue
        t0 = time.monotonic()
        try:
            ok, detail = PROBES[c["kind"]](target, c)
        except Exception as e:  # a probe that cannot run is a failure of that check
            ok, detail = False, f"probe error: {e!r}"
        results[c["id"]] = ("pass" if ok else "FAIL", f"{detail} [{time.monotonic() - t0:.2f}s]")
    return results


def wait_settled(target, services, timeout):
    """Wait until every container is healthy (or has no healthcheck), or timeout."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        states = []
        for s in services:
            ctr = target.container(s)
            if ctr is None:
                states.append("absent")
                continue
            h = ctr["State"].get("Health")
            states.append(h["Status"] if h else ("running" if ctr["State"]["Running"] else "down"))
        if all(s in ("healthy", "running") for s in states):
            return time.monotonic() - t0, states
        time.sleep(0.2)
    return None, states


class ComposeLab:
    def __init__(self, root, lab):
        self.root, self.lab = root, lab
        self.project = "t-" + lab["id"]
        self.target = Target(lab, self.project)
        self.services = lab["target"]["services"]

    def files(self, fault):
        f = ["-f", str(self.root / "solution/compose.yaml")]
        return f + (["-f", str(self.root / fault)] if fault else [])

    def up(self, fault):
        out = run(["docker", "compose", *self.files(fault), "-p", self.project, "up", "-d",
                   "--build"], timeout=600)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])

    def down(self, fault):
        run(["docker", "compose", *self.files(fault), "-p", self.project, "down", "-v",
             "--remove-orphans"])


class ScriptLab:
    def __init__(self, root, lab):
        self.root, self.lab = root, lab
        self.target = Target(lab, None)
        self.services = lab["target"]["containers"]

    def up(self, fault):
        for script in [self.lab["live"]["up"]] + ([fault] if fault else []):
            out = run(["bash", str(self.root / script)], timeout=600)
            if out.returncode != 0:
                raise RuntimeError(f"{script}: {out.stdout[-1000:]}{out.stderr[-2000:]}")

    def down(self, fault):
        run(["bash", str(self.root / self.lab["live"]["down"])])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lab_dir")
    ap.add_argument("--only", help="'solution' or a fault file stem")
    ap.add_argument("--keep", action="store_true", help="leave the stack running")
    ap.add_argument("--settle", type=float, default=60, help="seconds to wait for health")
    args = ap.parse_args()
    root = pathlib.Path(args.lab_dir).resolve()
    lab = tomllib.loads((root / "lab.toml").read_text())
    runner = (ComposeLab if lab["target"]["kind"] == "compose" else ScriptLab)(root, lab)

    variants = [(None, "solution", [], None)] + [
        (f["file"], pathlib.Path(f["file"]).stem, f["fails"], f["first_broken"])
        for f in lab.get("faults", [])]
    if args.only:
        variants = [v for v in variants if v[1] == args.only]
    bad = 0
    for fault, name, want_fails, want_first in variants:
        t0 = time.monotonic()
        runner.down(fault)
        try:
            try:
                runner.up(fault)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"== {name}: ERROR bringing it up: {str(e).strip()[-600:]}")
                bad += 1
                continue
            t_up = time.monotonic() - t0
            # A fault that breaks health never settles: give the app a few seconds to start.
            breaks_health = any("health" in f for f in want_fails)
            settle = min(args.settle, 8) if breaks_health else args.settle
            t_health, states = wait_settled(runner.target, runner.services, settle)
            t1 = time.monotonic()
            results = evaluate(lab, runner.target)
            t_checks = time.monotonic() - t1
        finally:
            if not args.keep:
                runner.down(fault)
        fails = [i for i, (s, _) in results.items() if s == "FAIL"]
        first = fails[0] if fails else None
        ok = set(fails) == set(want_fails) and first == want_first
        bad += not ok
        health = f"{t_health:.1f}s" if t_health is not None else f"not settled {states}"
        print(f"== {name}: {'OK' if ok else 'MISMATCH'}  up {t_up:.1f}s, healthy after {health}, "
              f"{len(results)} checks in {t_checks:.1f}s")
        for cid, (status, detail) in results.items():
            print(f"   {status:4} {cid:28} {detail}")
        if not ok:
            print(f"   expected fails={list(want_fails)} first={want_first}; got fails={fails}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
