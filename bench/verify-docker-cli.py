#!/usr/bin/env python3
"""The docker-CLI cross-check of phase-1 and phase-2 (the labs whose check kinds it implements).

It brings up a lab's solution, each fault and each working variant, runs every check of
lab.toml with one docker command or so per check, in lab.toml's order, with its `needs` and
its role, and compares the outcome with lab.toml:
  - the solution: nothing fails, warns or gets a note;
  - a fault: exactly its `fails` fail (none when absent), the first of them in ladder order is
    its `first_broken`; where it declares `warns` / `notes`, exactly those checks warn / pass
    with a note;
  - a `[[variants]]` entry (a working stack written otherwise): nothing fails.
The roles, as labcheck applies them (docs/CONTRACTS.md): a failed hardening check, or a failed
check with `severity = "warn"`, is a WARN (and a need that warns does not block); a failed
diagnosis whose `explains` behaviours all pass is a NOTE (a pass that differs from the
solution), otherwise a FAIL. It is an implementation of the checks independent of labcheck,
and the docker-CLI baseline for labcheck's timings on these labs.

    python3 bench/verify-docker-cli.py labs/phase-1            # solution, faults, variants
    python3 bench/verify-docker-cli.py labs/phase-2 --only db-published
    python3 bench/verify-docker-cli.py labs/phase-1 --only solution --keep

Both labs publish fixed host ports and phase-2 uses fixed container names: run it under the
live lock (`flock /tmp/compose-lab-live.lock ...`), and alone (a case whose containers are
replaced while it runs is reported as a mismatch that says so). A compose lab runs under the
project `hv-<lab id>` (`--project` to change it). Exit code 0 when every case matches, 1 when
one does not, 2 when phase-2's container names are taken by something that is not this lab's.
"""
import argparse
import io
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.error
import urllib.request

HELPER_IMAGE = "busybox"
PREDEFINED_NETWORKS = {"bridge", "host", "none"}


def run(args, timeout=120, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def inspect(kind, name):
    out = run(["docker", kind, "inspect", name], timeout=30)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)[0]


class Missing(Exception):
    """A check's container does not exist: the check is skipped (as labcheck does)."""


class Target:
    """Finds a lab's containers: by compose labels (the learner's service names mapped to the
    lab's by `[target.match]`), or by container name."""

    def __init__(self, lab, project):
        self.lab = lab
        self.kind = lab["target"]["kind"]
        self.project = project
        self.services = lab["target"]["services" if self.kind == "compose" else "containers"]
        self.ids = {}      # lab service -> short container id
        self.renamed = {}  # lab service -> the learner's service, where they differ

    def refresh(self):
        """One `docker ps` of the project; the roles of `[target.match]` for missing names."""
        if self.kind != "compose":
            out = run(["docker", "ps", "-a", "--format", "{{.Names}} {{.ID}}"], timeout=30)
            ids = dict(line.split() for line in out.stdout.splitlines())
            self.ids = {s: ids[s] for s in self.services if s in ids}
            return
        out = run(["docker", "ps", "-a", "--filter",
                   f"label=com.docker.compose.project={self.project}",
                   "--format", '{{.ID}} {{.Label "com.docker.compose.service"}}'], timeout=30)
        by_service = {}
        for line in out.stdout.splitlines():
            cid, _, svc = line.partition(" ")
            by_service.setdefault(svc, cid)
        mapping = {s: s for s in self.services if s in by_service}
        missing = [s for s in self.services if s not in mapping]
        others = [s for s in by_service if s not in self.services]
        if missing and others:
            infos = json.loads(run(["docker", "inspect", *[by_service[s] for s in others]],
                                   timeout=30).stdout or "[]")
            info = dict(zip(others, infos))
            for s in missing:
                rule = self.lab["target"].get("match", {}).get(s)
                fits = [o for o in others if rule and o not in mapping.values()
                        and self.plays(rule, info[o], mapping)]
                if len(fits) == 1:
                    mapping[s] = fits[0]
        self.ids = {s: by_service[y] for s, y in mapping.items()}
        self.renamed = {s: y for s, y in mapping.items() if s != y}

    @staticmethod
    def plays(rule, ctr, mapping):
        """Every field of the role holds: image (in the image reference or a label), port
        (exposed or published), mount (in a mount's source or destination), depends_on
        (compose's depends_on label)."""
        labels = ctr["Config"].get("Labels") or {}
        if "image" in rule:
            want = rule["image"].lower()
            if want not in ctr["Config"]["Image"].lower() and \
                    not any(want in v.lower() for v in labels.values()):
                return False
        if "port" in rule:
            ports = set(ctr["Config"].get("ExposedPorts") or {}) | \
                set(ctr["NetworkSettings"].get("Ports") or {})
            if f"{rule['port']}/tcp" not in ports:
                return False
        if "mount" in rule and not any(rule["mount"] in m.get(k, "") for m in ctr["Mounts"]
                                       for k in ("Source", "Destination")):
            return False
        deps = {d.split(":")[0] for d in
                labels.get("com.docker.compose.depends_on", "").split(",") if d}
        return all(mapping.get(d, d) in deps for d in rule.get("depends_on", []))

    def exists(self, service):
        return service in self.ids

    def container(self, service):
        ctr = inspect("container", self.ids[service]) if service in self.ids else None
        if ctr is None:
            raise Missing(service)
        return ctr

    def yours(self, name):
        """The learner's name where a lab service's name is used as a host name or a value."""
        return self.renamed.get(name, name)


# Each probe returns (verdict, detail); verdict True (pass), False (fail) or None (cannot
# tell, which labcheck reports as a warning).

def p_running(t, c):
    if not t.exists(c["service"]):
        return False, "no container"
    st = t.container(c["service"])["State"]
    return st["Running"] and not st["Restarting"], st["Status"]


def p_healthy(t, c):
    health = t.container(c["service"])["State"].get("Health")
    if not health:
        return False, "no healthcheck"
    last = health["Log"][-1]["Output"].strip()[-120:] if health.get("Log") else ""
    return health["Status"] == "healthy", f"{health['Status']}; last probe: {last!r}"


def image_of(t, service):
    return inspect("image", t.container(service)["Image"])


def p_image_label(t, c):
    value = (image_of(t, c["service"])["Config"].get("Labels") or {}).get(c["label"])
    if "equals" in c:
        return value == c["equals"], f"{c['label']}={value!r}"
    return value is not None, f"{c['label']}={value!r}"


def p_image_healthcheck(t, c):
    test = (image_of(t, c["service"])["Config"].get("Healthcheck") or {}).get("Test") or []
    return bool(test) and test[0] != "NONE", f"image healthcheck {test!r}"


def p_non_root(t, c):
    ctr = t.container(c["service"])
    user = ctr["Config"].get("User") or ""
    name = user.split(":")[0].strip()
    if name in ("", "root", "0"):
        return False, f"Config.User={user!r} (root)"
    if name.isdigit():
        return True, f"Config.User={user!r}"
    # A name: its uid in the container's /etc/passwd (the archive API, as `docker cp`), else
    # `id -u` in the container; if neither answers it passes unverified.
    out = subprocess.run(["docker", "cp", f"{ctr['Id']}:/etc/passwd", "-"],
                         capture_output=True, timeout=30)
    if out.returncode == 0:
        with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
            passwd = tar.extractfile(tar.getmembers()[0]).read().decode(errors="replace")
        uids = [f[2] for f in (l.split(":") for l in passwd.splitlines())
                if len(f) > 2 and f[0] == name]
        if uids:
            return uids[0] != "0", f"{name} has uid {uids[0]} in /etc/passwd"
    out = run(["docker", "exec", ctr["Id"], "id", "-u"], timeout=30)
    if out.returncode == 0:
        uid = out.stdout.strip()
        return uid != "0", f"Config.User={user!r}, id -u={uid!r}"
    return True, f"Config.User={user!r} (uid not verified)"


def p_absent_paths(t, c):
    ctr = t.container(c["service"])
    present = []
    for path in c["paths"]:
        # The CLI's view of GET /containers/{id}/archive?path=...: it fails when the path is absent.
        out = subprocess.run(["docker", "cp", f"{ctr['Id']}:{path}", "-"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
        err = out.stderr.decode(errors="replace")
        if out.returncode == 0:
            present.append(path)
        elif "Could not find the file" not in err and "No such" not in err:
            return None, f"cannot tell for {path}: {err.strip()[:120]}"
    return not present, f"present: {present}" if present else "all absent"


def copy_step(created_by):
    """A COPY/ADD step of `docker history`: ("named", sources, from_stage) for BuildKit's
    record, ("file"|"dir"|"multi",) for the classic builder's; None for any other step."""
    s = created_by.strip()
    if "#(nop) " in s:
        words = [w for w in s.split("#(nop) ", 1)[1].split() if not w.startswith("--")]
        if not words or words[0] not in ("COPY", "ADD"):
            return None
        src = words[1] if len(words) > 1 else ""
        return ("file",) if src.startswith("file:") else \
            ("dir",) if src.startswith("dir:") else ("multi",)
    word, _, args = s.partition(" ")
    if word.upper() not in ("COPY", "ADD"):
        return None
    args = args.strip().removesuffix("# buildkit").strip()
    from_stage = False
    while args.startswith("--"):
        flag, _, args = args[2:].partition(" ")
        from_stage |= flag.startswith("from=")
        args = args.strip()
    words = []
    if args.startswith("["):
        try:
            words = json.loads(args)
        except ValueError:
            words = []
    words = (words or args.split())[:-1]  # the last word is the destination
    # BuildKit drops --from= from the record: absolute sources only is a copy from a stage.
    from_stage |= bool(words) and all(w.startswith("/") for w in words)
    return ("named", words, from_stage)


def is_run(created_by):
    s = created_by.strip()
    return s.startswith("RUN ") or (s.startswith("/bin/sh -c ") and "#(nop)" not in s)


def p_deps_before_code(t, c):
    def as_list(v):
        return [v] if isinstance(v, str) else list(v)

    image = t.container(c["service"])["Image"]
    out = run(["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image], timeout=30)
    layers = list(reversed(out.stdout.splitlines()))  # oldest first
    return deps_verdict(layers, as_list(c["install"]), as_list(c["manifest"]))


def deps_verdict(layers, install, manifest):
    """The deps_before_code rule of docs/CONTRACTS.md on an image's history, oldest first."""
    copies = [copy_step(s) for s in layers]
    installs = [i for i, s in enumerate(layers)
                if copies[i] is None and any(x in s for x in install)]
    if not installs:
        # A multi-stage image: the dependencies come from another stage before the code.
        staged = [i for i, cp in enumerate(copies) if cp and cp[0] == "named" and cp[2]]
        if staged and any(cp and cp[0] == "named" and not cp[2] for cp in copies[staged[0] + 1:]):
            return True, f"dependencies from another stage: {layers[staged[0]]!r}"
        return False, f"no layer runs {install!r}"
    # Installs before any COPY (a base image's tools) do not count.
    after_copy = [i for i in installs if any(copies[:i])]
    if not after_copy:
        return any(copies[installs[0]:]), "installs before anything is copied in"
    i = after_copy[0]
    nearest = max(k for k in range(i) if copies[k])
    start = next((k + 1 for k in range(nearest - 1, -1, -1) if is_run(layers[k])), nearest)
    for k in range(nearest, start - 1, -1):
        cp = copies[k]
        if cp is None or cp == ("file",) or (cp[0] == "named" and cp[2]):
            continue
        if cp == ("multi",):
            return None, f"classic builder, names not recorded: {layers[k]!r}"
        if cp == ("dir",) or not cp[1] or \
                any(not any(m in s for m in manifest) for s in cp[1]):
            return False, f"{layers[k]!r} comes before {layers[i]!r}"
    after = [s for s, cp in zip(layers[i + 1:], copies[i + 1:]) if cp]
    if not after:
        return False, f"nothing copied after {layers[i]!r}"
    return True, f"{layers[nearest]!r} < {layers[i]!r} < {after[0]!r}"


def p_env(t, c):
    env = dict(e.split("=", 1) for e in t.container(c["service"])["Config"]["Env"] or [])
    var = c["var"]
    if var not in env:
        return False, f"{var} unset"
    value = env[var]
    if "equals" in c:
        return value == t.yours(c["equals"]), f"{var}={value!r}"
    if "not" in c:
        return value not in c["not"], f"{var}={value!r}" if value in c["not"] else f"{var} is set"
    return True, f"{var} is set"


def bindings(ctr, port):
    return (ctr["NetworkSettings"]["Ports"] or {}).get(f"{port}/tcp") or []


def p_published(t, c):
    binds = bindings(t.container(c["service"]), c["container_port"])
    if not binds:
        return False, "not published"
    ok = True  # every binding of the port must match
    if "host_port" in c:
        ok &= all(b["HostPort"] == str(c["host_port"]) for b in binds)
    if "host_ip" in c:
        ok &= all(b["HostIp"] == c["host_ip"] for b in binds)
    return ok, ", ".join(f"{b['HostIp']}:{b['HostPort']}" for b in binds)


def p_not_published(t, c):
    ports = t.container(c["service"])["NetworkSettings"]["Ports"] or {}
    bound = {p: b for p, b in ports.items() if b}
    if "container_port" in c:
        bound = {p: b for p, b in bound.items() if p == f"{c['container_port']}/tcp"}
    return not bound, f"published: {sorted(bound)}" if bound else "not published"


def p_serves(t, c):
    """GET the path on whatever host port the service publishes for the container port."""
    ctr = t.container(c["service"])
    binds = [b for b in bindings(ctr, c["container_port"]) if b["HostPort"]]
    if not binds:
        ports = ctr["NetworkSettings"]["Ports"] or {}
        return False, f"{c['container_port']}/tcp not published; publishes " \
            f"{sorted(p for p, b in ports.items() if b)}"
    ip = binds[0]["HostIp"]
    host = "127.0.0.1" if ip in ("", "0.0.0.0", "::") else f"[{ip}]" if ":" in ip else ip
    path = c.get("path", "/")
    url = f"http://{host}:{binds[0]['HostPort']}{path if path.startswith('/') else '/' + path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            status, body = r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode(errors="replace")
    except OSError as e:
        return False, f"GET {url}: {e}"
    ok = status == c.get("status", 200) and c.get("body_contains", "") in body
    return ok, f"GET {url} -> {status} {body.strip()[:80]!r}"


def p_network(t, c):
    net = inspect("network", c["network"])
    if net is None:
        return False, "no such network"
    default = (net.get("Options") or {}).get("com.docker.network.bridge.default_bridge") == "true"
    ok = net["Driver"] == c.get("driver", "bridge") and net["Name"] not in PREDEFINED_NETWORKS \
        and not default
    return ok, f"driver={net['Driver']} name={net['Name']} internal={net['Internal']}"


def networks_of(ctr):
    return set(ctr["NetworkSettings"]["Networks"])


def p_attached(t, c):
    nets = networks_of(t.container(c["service"]))
    want = set(c["networks"])
    ok = want <= nets and (not c.get("only", False) or nets == want)
    return ok, f"on {sorted(nets)}"


def p_network_excludes(t, c):
    # One inspect of the network; absent containers count as not on it.
    net = inspect("network", c["network"])
    on = (net or {}).get("Containers") or {}
    found = [s for s in c["services"] if s in t.ids and any(full.startswith(t.ids[s]) for full in on)]
    return not found, f"on {c['network']}: {found}" if found else "none of them"


def p_shared_network(t, c):
    a = networks_of(t.container(c["service"])) - PREDEFINED_NETWORKS
    b = networks_of(t.container(c["peer"])) - PREDEFINED_NETWORKS
    return bool(a & b), f"shared: {sorted(a & b)}" if a & b else f"{sorted(a)} / {sorted(b)}"


def helper(netns, script):
    return run(["docker", "run", "--rm", "--network", netns, HELPER_IMAGE, "sh", "-c", script],
               timeout=30)


def nslookup_answers(out):
    # busybox: "Server:" and "Address: 127.0.0.11:53" first, then the answers.
    return [l.split()[-1] for l in out.stdout.splitlines()[2:] if l.startswith("Address")]


def p_resolves(t, c):
    ctr = t.container(c["from"])
    name = t.yours(c["name"])
    addrs = nslookup_answers(helper(f"container:{ctr['Id']}", f"nslookup {name} 127.0.0.11"))
    return bool(addrs), f"{name} -> {addrs}"


def p_tcp(t, c):
    ctr = t.container(c["from"])
    out = helper(f"container:{ctr['Id']}", f"nc -w 2 {t.yours(c['host'])} {c['port']} </dev/null")
    return out.returncode == 0, (out.stderr.strip() or "connected")[:120]


def p_isolated(t, c):
    """A helper on the network alone gets none of the service's addresses (via name) or
    cannot connect to any of them (via ip)."""
    target = t.container(c["service"])
    ips = [n["IPAddress"] for n in target["NetworkSettings"]["Networks"].values() if n["IPAddress"]]
    if c.get("via", "name") == "name":
        name = t.yours(c.get("name", c["service"]))
        answers = nslookup_answers(helper(c["network"], f"nslookup {name} 127.0.0.11"))
        # Unknown names are forwarded to the host's resolvers, which may know another `db`:
        # only an answer with one of the container's own addresses breaks the isolation.
        leaked = sorted(set(answers) & set(ips))
        return not leaked, f"{name} -> {leaked} from {c['network']}" if leaked else \
            f"{name} -> {answers}, none of {ips}"
    if not ips:
        return False, f"{c['service']} has no address to try"
    wait = c.get("timeout", 2)
    reached = [ip for ip in ips
               if helper(c["network"], f"nc -w {wait} {ip} {c['port']} </dev/null").returncode == 0]
    return not reached, f"reached {reached}" if reached else f"none of {ips} reachable"


PROBES = {name[2:]: fn for name, fn in globals().items() if name.startswith("p_")}
# The fields that name containers; a check on a missing one is skipped, except these kinds.
UNIT_FIELDS = ("service", "from", "peer")
JUDGES_MISSING = {"running", "network_excludes"}


def evaluate(lab, target):
    """Every check in lab.toml's order: (status, detail) with PASS/FAIL/WARN/SKIP, then NOTE."""
    target.refresh()
    results = {}
    for c in lab["checks"]:
        blocked = [n for n in c.get("needs", [])
                   if results.get(n, ("SKIP",))[0] not in ("PASS", "WARN")]
        missing = [c[f] for f in UNIT_FIELDS if f in c and not target.exists(c[f])]
        if blocked:
            results[c["id"]] = ("SKIP", f"needs {blocked}")
            continue
        if missing and c["kind"] not in JUDGES_MISSING:
            results[c["id"]] = ("SKIP", f"no container: {missing}")
            continue
        t0 = time.monotonic()
        try:
            ok, detail = PROBES[c["kind"]](target, c)
        except Missing as e:
            ok, detail = False, f"container {e} went away"
        except Exception as e:  # a probe that cannot run is a failure of that check
            ok, detail = False, f"probe error: {e!r}"
        warns = c.get("role") == "hardening" or c.get("severity") == "warn"
        status = "PASS" if ok else "WARN" if ok is None or warns else "FAIL"
        results[c["id"]] = (status, f"{detail} [{time.monotonic() - t0:.2f}s]")
    # A failed diagnosis whose behaviours all pass: a note (the stack works its own way).
    for c in lab["checks"]:
        if c.get("role") == "diagnosis" and results[c["id"]][0] == "FAIL" and \
                all(results[b][0] == "PASS" for b in c["explains"]):
            results[c["id"]] = ("NOTE", results[c["id"]][1])
    return results


def settled(target):
    """None once every lab container runs and is healthy (or has no healthcheck)."""
    target.refresh()
    states = []
    for s in target.services:
        try:
            st = target.container(s)["State"]
        except Missing:
            states.append(f"{s} absent")
            continue
        h = st.get("Health")
        state = h["Status"] if h else ("running" if st["Running"] else st["Status"])
        if state not in ("healthy", "running"):
            states.append(f"{s} {state}")
    return states or None


class ComposeLab:
    def __init__(self, root, lab, project):
        self.root, self.lab, self.project = root, lab, project
        self.target = Target(lab, project)
        self.files = []

    def compose(self, *args, timeout=120):
        f = [a for p in self.files for a in ("-f", str(p))]
        return run(["docker", "compose", *f, "-p", self.project, *args],
                   timeout=timeout, cwd=self.root)

    def up(self, case):
        kind, spec = case
        self.files = [self.root / spec / "compose.yaml"] if kind == "variant" else \
            [self.root / "solution/compose.yaml"] + ([self.root / spec] if kind == "fault" else [])
        self.down()
        out = self.compose("up", "-d", "--build", "--remove-orphans", timeout=600)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])

    def down(self):
        # --rmi local: the images named after the project (a variant's), none of the kit's.
        self.compose("--profile", "*", "down", "-v", "--remove-orphans", "--timeout", "2",
                     "--rmi", "local")

    def check_free(self):
        return None


class ScriptLab:
    def __init__(self, root, lab, _project):
        self.root, self.lab = root, lab
        self.target = Target(lab, None)

    def bash(self, script):
        out = run(["bash", str(self.root / script)], timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"{script}: {out.stdout[-1000:]}{out.stderr[-2000:]}")

    def up(self, case):
        kind, spec = case
        self.down()
        if kind == "variant":
            self.bash(f"{spec}/up.sh")
            return
        self.bash(self.lab["live"]["up"])
        if kind == "fault":  # [live] faults = "after_up"
            self.bash(spec)

    def down(self):
        run(["bash", str(self.root / self.lab["live"]["down"])])

    def check_free(self):
        """The down script removes containers by name: only this lab's may hold the names."""
        taken = []
        for name in self.target.services:
            ctr = inspect("container", name)
            if ctr and (ctr["Config"].get("Labels") or {}).get("org.compose-lab.lab") != \
                    self.lab["id"]:
                taken.append(name)
        return taken or None


def expectations(lab):
    """(name, case, want): want has fails, first, and warns/notes (None: not compared)."""
    yield "solution", ("solution", None), dict(fails=[], first=None, warns=[], notes=[])
    for f in lab.get("faults", []):
        yield pathlib.Path(f["file"]).stem, ("fault", f["file"]), dict(
            fails=f.get("fails", []), first=f.get("first_broken"),
            warns=f.get("warns"), notes=f.get("notes"))
    for v in lab.get("variants", []):
        yield pathlib.Path(v["dir"]).name, ("variant", v["dir"]), dict(
            fails=[], first=None, warns=None, notes=None)


def verdict(results, want):
    """The differences between a run and what lab.toml declares (empty when it matches)."""
    of = lambda s: [i for i, (st, _) in results.items() if st == s]  # noqa: E731
    fails = of("FAIL")
    got = dict(fails=fails, first=fails[0] if fails else None, warns=of("WARN"), notes=of("NOTE"))
    diffs = []
    for key in ("fails", "warns", "notes"):
        if want[key] is not None and set(got[key]) != set(want[key]):
            diffs.append(f"{key}: expected {sorted(want[key])}, got {sorted(got[key])}")
    if got["first"] != want["first"]:
        diffs.append(f"first broken: expected {want['first']}, got {got['first']}")
    return diffs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lab_dir")
    ap.add_argument("--only", help="'solution', a fault file stem or a variant folder name")
    ap.add_argument("--keep", action="store_true", help="leave the (last) stack running")
    ap.add_argument("--project", help="compose project (default hv-<lab id>)")
    ap.add_argument("--settle", type=float, default=60,
                    help="seconds to wait for health and for the declared outcome")
    args = ap.parse_args()
    root = pathlib.Path(args.lab_dir).resolve()
    lab = tomllib.loads((root / "lab.toml").read_text())
    runner = (ComposeLab if lab["target"]["kind"] == "compose" else ScriptLab)(
        root, lab, args.project or f"hv-{lab['id']}")
    taken = runner.check_free()
    if taken:
        print(f"containers named {taken} exist and are not {lab['id']}'s: not touching them")
        sys.exit(2)
    kinds = {c["id"]: c["kind"] for c in lab["checks"]}
    cases = [c for c in expectations(lab) if not args.only or c[0] == args.only]
    if not cases:
        sys.exit(f"no case named {args.only!r}")
    bad, check_runs = 0, []
    for i, (name, case, want) in enumerate(cases):
        t0 = time.monotonic()
        try:
            try:
                runner.up(case)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"== {name}: ERROR bringing it up: {str(e).strip()[-600:]}")
                bad += 1
                continue
            t_up = time.monotonic() - t0
            runner.target.refresh()
            built = dict(runner.target.ids)  # to tell if someone else replaces them meanwhile
            # A case whose health check is declared broken never settles: give it a few seconds.
            breaks_health = any(kinds[f] == "healthy" for f in want["fails"])
            deadline = time.monotonic() + args.settle
            settle_by = time.monotonic() + (min(args.settle, 8) if breaks_health else args.settle)
            while (states := settled(runner.target)) and time.monotonic() < settle_by:
                time.sleep(0.3)
            t_settled = time.monotonic() - t0 - t_up
            # Then the checks, again each second until they show what lab.toml declares (a
            # stack still starting), as labcheck's live tests do, or the deadline passes.
            attempts = 0
            while True:
                attempts += 1
                t1 = time.monotonic()
                results = evaluate(lab, runner.target)
                t_checks = time.monotonic() - t1
                diffs = verdict(results, want)
                if not diffs or time.monotonic() > deadline:
                    break
                time.sleep(1)
            check_runs.append(t_checks)
            if runner.target.ids != built:
                diffs.append(f"the containers changed during the run ({built} -> "
                             f"{runner.target.ids}): did another run take the same names?")
        finally:
            if not (args.keep and i == len(cases) - 1):
                runner.down()
        bad += bool(diffs)
        health = f"settled after {t_settled:.1f}s" if not states else \
            f"not settled after {t_settled:.1f}s ({', '.join(states)})"
        renamed = "".join(f", treating your service `{y}` as {s}"
                          for s, y in runner.target.renamed.items())
        print(f"== {name}: {'MISMATCH' if diffs else 'OK'}  up {t_up:.1f}s, {health}{renamed}; "
              f"{len(results)} checks in {t_checks:.2f}s (attempt {attempts})")
        for cid, (status, detail) in results.items():
            print(f"   {status:4} {cid:28} {detail}")
        for d in diffs:
            print(f"   MISMATCH {d}")
    if check_runs:
        print(f"\n{len(cases) - bad}/{len(cases)} cases as declared. One run of the "
              f"{len(lab['checks'])} checks with the docker CLI: median "
              f"{statistics.median(check_runs):.2f}s, min {min(check_runs):.2f}s, max "
              f"{max(check_runs):.2f}s over {len(check_runs)} runs; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
