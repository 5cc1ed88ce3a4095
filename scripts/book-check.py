#!/usr/bin/env python3
"""Check the Compose Lab book: a clean build, internal links, and runnable shell blocks.

1. `mdbook build book` must print no warning or error line.
2. Every relative href/src in the built HTML must point at an existing file, and every
   #fragment at an element with that id (or name) in the target page; every `book` link in
   labs/*/lab.toml must land on a page and an anchor of the built book.
3. Every interview question has a 30-second version and two follow-ups, and every phase an
   interview cheat sheet (scripts/interview_check.py), in the sources and in the built pages.
4. Every fenced block whose info string carries `test=<stack>` (see book/README.md) is run
   with `bash -euo pipefail` against that stack, and its `# expect: <regex>` lines are checked.

Exit status: 0 all good, 1 a check failed, 2 the checker could not run.
"""
from __future__ import annotations

import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
SRC = BOOK / "src"
OUT = BOOK / "book"  # replaced in main() by a private build folder, see --out
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
BAD_LOG = re.compile(r"\b(WARN|WARNING|ERROR|error|warning)\b")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
EXPECT = re.compile(r"^\s*#\s*expect:\s?(?P<rx>.*)$")
BLOCK_TIMEOUT = 120
REMAP: dict[str, str] = {}  # host port -> host port, see --remap


def say(msg: str) -> None:
    print(msg, flush=True)


def find_mdbook() -> str:
    exe = shutil.which("mdbook") or str(Path.home() / ".cargo/bin/mdbook")
    if not Path(exe).exists():
        say("error: mdbook not found (cargo install --locked mdbook)")
        sys.exit(2)
    if not (shutil.which("mdbook-quiz") or (Path.home() / ".cargo/bin/mdbook-quiz").exists()):
        say("error: mdbook-quiz not found; book.toml uses it (cargo install --locked mdbook-quiz)")
        sys.exit(2)
    return exe


# ---------------------------------------------------------------- 1. build
def build() -> list[str]:
    exe = find_mdbook()
    env = dict(os.environ, NO_COLOR="1", RUST_LOG="info", MDBOOK_LOG="info")
    started = time.monotonic()
    proc = subprocess.run([exe, "build", str(BOOK), "--dest-dir", str(OUT)], capture_output=True,
                          text=True, env=env)
    took = time.monotonic() - started
    lines = [ANSI.sub("", l) for l in (proc.stdout + proc.stderr).splitlines()]
    problems = [l for l in lines if BAD_LOG.search(l)]
    if proc.returncode != 0:
        problems.append(f"mdbook build exited with status {proc.returncode}")
    ver = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    say(f"build: {ver}, {took:.1f} s, {len(problems)} warning/error line(s)")
    return problems


# ---------------------------------------------------------------- 2. links
class PageParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        for key in ("id", "name"):
            if key in a and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        if tag == "base" and "href" in a:
            self.base = a["href"]
        for key in ("href", "src"):
            if key in a:
                self.refs.append((tag, a[key]))


def is_relative(url: str) -> bool:
    if not url or url.startswith(("//", "data:", "javascript:", "mailto:")):
        return False
    return not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url)


def check_links() -> tuple[list[str], int]:
    pages: dict[Path, PageParser] = {}
    for f in sorted(OUT.rglob("*.html")):
        p = PageParser()
        p.feed(f.read_text(encoding="utf-8", errors="replace"))
        pages[f.resolve()] = p
    problems: list[str] = []
    checked = 0
    for f, p in pages.items():
        rel = f.relative_to(OUT.resolve())
        if p.base == "/":  # 404.html: links are relative to the site root
            basedir = OUT.resolve()
        else:
            basedir = f.parent
        for tag, url in p.refs:
            if not is_relative(url):
                continue
            checked += 1
            parts = urllib.parse.urlsplit(url)
            path = urllib.parse.unquote(parts.path)
            if path.startswith("/"):
                target = (OUT / path.lstrip("/")).resolve()
            elif path:
                target = (basedir / path).resolve()
            else:
                target = f
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{rel}: <{tag}> {url}: no such file {target.relative_to(OUT.resolve()) if OUT.resolve() in target.parents else target}")
                continue
            frag = urllib.parse.unquote(parts.fragment)
            if frag and target.suffix == ".html":
                tp = pages.get(target)
                if tp is not None and frag not in tp.ids:
                    problems.append(f"{rel}: <{tag}> {url}: no element with id '{frag}' in {target.relative_to(OUT.resolve())}")
    leftovers = []
    for f in pages:
        text = f.read_text(encoding="utf-8", errors="replace")
        if "{{#include" in text or "{{#rustdoc_include" in text:
            leftovers.append(f"{f.relative_to(OUT.resolve())}: unexpanded {{{{#include}}}}")
    # An indented {{#include}} (inside a list item) pastes unindented lines, which ends the list
    # and spills the rest of the file out of its code block.
    for md in sorted(SRC.rglob("*.md")):
        for n, line in enumerate(md.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"^\s+\{\{#(include|rustdoc_include)", line):
                leftovers.append(f"{md.relative_to(ROOT)}:{n}: indented {{{{#include}}}} breaks the list it is in; move it out")
    say(f"links: {len(pages)} pages, {checked} relative links checked, {len(problems)} broken")
    return problems + leftovers, checked


def check_lab_links() -> list[str]:
    """Every `book = "page.html#anchor"` in labs/*/lab.toml must land on a page and an element
    of the built book: that is where labcheck sends a learner whose check failed."""
    import tomllib
    problems: list[str] = []
    checked = 0
    ids: dict[Path, set[str]] = {}
    for lab in sorted((ROOT / "labs").glob("*/lab.toml")):
        rel = lab.relative_to(ROOT)
        try:
            data = tomllib.loads(lab.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError) as e:
            problems.append(f"{rel}: cannot read: {e}")
            continue
        refs = [("lab", data.get("book"))] + [(c.get("id", "?"), c.get("book")) for c in data.get("checks", [])]
        for who, ref in refs:
            if not ref:
                continue
            checked += 1
            page, _, frag = ref.partition("#")
            target = (OUT / page).resolve()
            if not target.exists():
                problems.append(f"{rel}: {who}: book page {page} does not exist")
                continue
            if frag:
                if target not in ids:
                    pp = PageParser()
                    pp.feed(target.read_text(encoding="utf-8", errors="replace"))
                    ids[target] = pp.ids
                if frag not in ids[target]:
                    problems.append(f"{rel}: {who}: no anchor #{frag} in {page}")
    labs = len(list((ROOT / "labs").glob("*/lab.toml")))
    say(f"lab links: {checked} book links in {labs} lab.toml file(s), {len(problems)} broken")
    return problems


# ---------------------------------------------------------------- 3. interview practice
def check_interview_practice() -> list[str]:
    """Every interview question has its 30-second version and two follow-ups, every phase a
    cheat sheet, and the built pages render them (scripts/interview_check.py)."""
    import interview_check
    problems = interview_check.self_test()
    found, counts = interview_check.check_sources()
    problems += found + interview_check.check_html(OUT, counts)
    total = sum(counts.values())
    say(f"interview practice: {total} questions in {len(counts)} phases, {2 * total} follow-ups, "
        f"{len(problems)} problem(s)")
    return problems


def check_fault_table() -> list[str]:
    """The instructors' appendix lists every lab's faults in a table (`| phase-N | `a`, `b` |`);
    it must name exactly the [[faults]] of each labs/*/lab.toml, so a drill never misses one."""
    import tomllib
    page = SRC / "appendix" / "instructors.md"
    rows: dict[str, set[str]] = {}
    for line in page.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*(phase-\d+)\s*\|(.*)\|\s*$", line)
        if m:
            rows[m.group(1)] = set(re.findall(r"`([^`]+)`", m.group(2)))
    problems: list[str] = []
    for lab in sorted((ROOT / "labs").glob("*/lab.toml")):
        data = tomllib.loads(lab.read_text(encoding="utf-8"))
        want = {Path(f["file"]).stem for f in data.get("faults", [])}
        have = rows.get(lab.parent.name, set())
        if want != have:
            problems.append(f"{page.relative_to(ROOT)}: faults of {lab.parent.name}: missing "
                            f"{sorted(want - have)}, not in lab.toml {sorted(have - want)}")
    say(f"fault table: {len(rows)} lab row(s) in {page.relative_to(ROOT)}, {len(problems)} wrong")
    return problems


# ---------------------------------------------------------------- 4. runnable blocks
@dataclass
class Block:
    file: Path
    line: int
    stack: str
    code: str
    expects: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}"


def summary_order() -> list[Path]:
    order: list[Path] = []
    for m in re.finditer(r"\]\(([^)]+\.md)\)", (SRC / "SUMMARY.md").read_text()):
        p = (SRC / m.group(1)).resolve()
        if p.exists() and p not in order:
            order.append(p)
    for p in sorted(SRC.rglob("*.md")):
        if p.resolve() not in order and p.name != "SUMMARY.md":
            order.append(p.resolve())
    return order


def extract_blocks() -> list[Block]:
    blocks: list[Block] = []
    for f in summary_order():
        lines = f.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            m = FENCE.match(lines[i])
            if not m:
                i += 1
                continue
            fence, info = m.group("fence"), m.group("info").strip()
            start = i
            body: list[str] = []
            i += 1
            while i < len(lines) and not re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[i]):
                body.append(lines[i])
                i += 1
            i += 1
            attrs = [a.strip() for a in re.split(r"[,\s]+", info) if a.strip()]
            stack = next((a.split("=", 1)[1] for a in attrs if a.startswith("test=")), None)
            if stack is None:
                continue
            expects = [EXPECT.match(l).group("rx") for l in body if EXPECT.match(l)]
            blocks.append(Block(f, start + 1, stack, "\n".join(body) + "\n", expects))
    return blocks


def docker(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def lab_solution(name: str) -> Path:
    return ROOT / "labs" / name / "solution"


def stack_running(name: str) -> bool:
    """A compose lab runs as project <name> with every service running; a script lab (up.sh)
    labels its containers org.compose-lab.lab=<name>."""
    compose = lab_solution(name) / "compose.yaml"
    if compose.exists():
        want = docker("compose", "-f", str(compose), "-p", name, "config", "--services")
        have = docker("compose", "-p", name, "ps", "--services", "--status", "running")
        if want.returncode != 0 or have.returncode != 0:
            return False
        return bool(want.stdout.split()) and set(want.stdout.split()) <= set(have.stdout.split())
    r = docker("ps", "-q", "--filter", f"label=org.compose-lab.lab={name}")
    return r.returncode == 0 and bool(r.stdout.strip())


def remap_override(name: str, remap: dict[str, str]) -> Path | None:
    """For a shared engine where another stack holds a lab's host port: an override file that
    publishes the same container ports on other host ports (see --remap)."""
    if not remap:
        return None
    compose = lab_solution(name) / "compose.yaml"
    r = docker("compose", "-f", str(compose), "-p", name, "config", "--format", "json")
    if r.returncode != 0:
        return None
    cfg = json.loads(r.stdout)
    lines = ["services:"]
    for svc, spec in cfg.get("services", {}).items():
        ports = spec.get("ports") or []
        if not any(str(p.get("published")) in remap for p in ports):
            continue
        lines.append(f"  {svc}:")
        lines.append("    ports: !override")
        for p in ports:
            pub = remap.get(str(p.get("published")), str(p.get("published")))
            ip = f"{p['host_ip']}:" if p.get("host_ip") else ""
            lines.append(f"      - \"{ip}{pub}:{p['target']}/{p.get('protocol', 'tcp')}\"")
    if len(lines) == 1:
        return None
    f = Path(f"/tmp/book-check-{name}-remap.yaml")
    f.write_text("\n".join(lines) + "\n")
    return f


def stack_up(name: str) -> str | None:
    sol = lab_solution(name)
    compose, up = sol / "compose.yaml", sol / "up.sh"
    started = time.monotonic()
    if compose.exists():
        how = compose
        # Another stack may hold the lab's host port for a while (a shared engine): retry.
        for attempt in range(1, 13):
            files = ["-f", str(compose)]
            override = remap_override(name, REMAP)
            if override:
                files += ["-f", str(override)]
            r = docker("compose", *files, "-p", name, "up", "-d", "--build", "--wait",
                       "--wait-timeout", "180", timeout=600)
            if r.returncode == 0 or "port is already allocated" not in r.stderr:
                break
            say(f"stack {name}: a host port is taken by another stack; retrying in 10 s ({attempt}/12)")
            time.sleep(10)
    elif up.exists():
        how = up
        r = subprocess.run(["bash", str(up)], capture_output=True, text=True, timeout=600, cwd=sol)
    else:
        return f"{sol.relative_to(ROOT)} has neither compose.yaml nor up.sh"
    if r.returncode != 0:
        return f"{how.relative_to(ROOT)} failed:\n{r.stdout}{r.stderr}"
    say(f"stack {name}: started from {how.relative_to(ROOT)} in {time.monotonic() - started:.1f} s")
    return None


def stack_down(name: str) -> None:
    sol = lab_solution(name)
    compose, down = sol / "compose.yaml", sol / "down.sh"
    if compose.exists():
        r = docker("compose", "-f", str(compose), "-p", name, "down", "-v", "--remove-orphans", timeout=300)
    elif down.exists():
        r = subprocess.run(["bash", str(down)], capture_output=True, text=True, timeout=300, cwd=sol)
    else:
        say(f"stack {name}: no way to tear it down")
        return
    say(f"stack {name}: torn down ({'ok' if r.returncode == 0 else r.stderr.strip()})")


def run_block(b: Block) -> list[str]:
    try:
        code = b.code
        for src, dst in REMAP.items():
            code = re.sub(rf"(?<=:){src}\b", dst, code)
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", code], capture_output=True,
                              text=True, timeout=BLOCK_TIMEOUT, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return [f"{b.where}: timed out after {BLOCK_TIMEOUT} s"]
    out = (proc.stdout + proc.stderr).splitlines()
    problems = []
    if proc.returncode != 0:
        problems.append(f"{b.where}: exit status {proc.returncode}")
    for rx in b.expects:
        for src, dst in REMAP.items():
            rx = re.sub(rf"(?<=:){src}\b", dst, rx)
        try:
            pat = re.compile(rx)
        except re.error as e:
            problems.append(f"{b.where}: bad expect regex {rx!r}: {e}")
            continue
        if not any(pat.search(l) for l in out):
            problems.append(f"{b.where}: no output line matches {rx!r}")
    if problems:
        shown = "\n".join("    | " + l for l in out[-25:]) or "    | (no output)"
        problems[-1] += "\n" + shown
    return problems


def run_blocks(blocks: list[Block], only: set[str] | None, keep: bool) -> tuple[list[str], int]:
    if only:
        blocks = [b for b in blocks if b.stack in only]
    if not blocks:
        return [], 0
    r = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    if r.returncode != 0:
        say("error: the Docker engine does not answer (docker info); use --no-run to skip the blocks")
        sys.exit(2)
    say(f"engine: Docker {r.stdout.strip()}")
    problems: list[str] = []
    started: list[str] = []
    ran = 0
    per_stack: dict[str, list[int]] = {}
    try:
        for stack in dict.fromkeys(b.stack for b in blocks):
            mine = [b for b in blocks if b.stack == stack]
            if stack != "engine":
                if not stack_running(stack):
                    err = stack_up(stack)
                    started.append(stack)
                    if err:
                        problems.append(f"stack {stack}: {err}")
                        say(f"stack {stack}: could not start; its {len(mine)} block(s) not run")
                        continue
                else:
                    say(f"stack {stack}: already running, used as is")
            for b in mine:
                t0 = time.monotonic()
                res = run_block(b)
                ran += 1
                ok = not res
                per_stack.setdefault(stack, [0, 0])[0 if ok else 1] += 1
                say(f"  {'ok  ' if ok else 'FAIL'} {b.where} [{stack}] {time.monotonic() - t0:.1f} s")
                problems += res
            if stack in started and not keep:
                # Done with this stack: free its ports and memory before the next one starts.
                started.remove(stack)
                stack_down(stack)
    finally:
        if not keep:
            for s in started:
                stack_down(s)
    counts = ", ".join(f"{s}: {p} passed, {f} failed" for s, (p, f) in per_stack.items())
    say(f"runnable blocks: {ran} run ({counts})")
    return problems, ran


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-run", action="store_true", help="build and links only; skip runnable blocks")
    ap.add_argument("--only", action="append", metavar="STACK", help="run only the blocks of this stack (repeatable)")
    ap.add_argument("--keep", action="store_true", help="leave stacks the checker started running")
    ap.add_argument("--list", action="store_true", help="list the runnable blocks and exit")
    ap.add_argument("--remap", action="append", metavar="PORT=PORT", default=[],
                    help="shared engines only: publish the labs' host port PORT on another port, "
                         "and rewrite ':PORT' in the blocks and expects accordingly")
    ap.add_argument("--out", metavar="DIR", help="build into DIR (default: a fresh temporary folder, "
                    "so that other builds running at the same time cannot change what is checked)")
    args = ap.parse_args()
    global OUT
    if args.out:
        OUT = Path(args.out).resolve()
    else:
        import tempfile
        OUT = Path(tempfile.mkdtemp(prefix="book-check-")) / "book"
    for item in args.remap:
        src, _, dst = item.partition("=")
        if not (src.isdigit() and dst.isdigit()):
            ap.error(f"--remap wants PORT=PORT, got {item!r}")
        REMAP[src] = dst
    if REMAP:
        say("remapped host ports: " + ", ".join(f"{a} -> {b}" for a, b in REMAP.items()))

    blocks = extract_blocks()
    if args.list:
        for b in blocks:
            say(f"{b.where} [{b.stack}] {len(b.expects)} expect(s)")
        say(f"{len(blocks)} runnable block(s)")
        return 0
    problems = build()
    if not (OUT / "index.html").exists():
        problems.append("no book/book/index.html after the build")
        for p in problems:
            say("  " + p)
        return 1
    link_problems, _ = check_links()
    problems += link_problems
    problems += check_lab_links()
    problems += check_interview_practice()
    problems += check_fault_table()
    say(f"runnable blocks in the sources: {len(blocks)}")
    if not args.no_run:
        run_problems, _ = run_blocks(blocks, set(args.only) if args.only else None, args.keep)
        problems += run_problems
    if not args.out:
        shutil.rmtree(OUT.parent, ignore_errors=True)
    if problems:
        say(f"\nFAILED: {len(problems)} problem(s)")
        for p in problems:
            say("  " + p)
        return 1
    say("\nbook check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
