#!/usr/bin/env python3
"""Check the shape of the book's interview practice (run by scripts/book-check.py, or alone).

Every book/src/phase-*/interview.md question (`### N. ...`, numbered 1, 2, 3, ... in order) must
have, in this order:
  1. `<details><summary>30-second version</summary>`: two or three sentences, at most 90 words;
  2. `<details><summary>Model answer</summary>`;
  3. `<details><summary>Two follow-ups</summary>`: exactly two items `- **Question?** Answer.`
Every phase folder with an interview page must have a cheat-sheet.md, listed in SUMMARY.md right
after that interview page, with at least one table, no Compose v1 command and no `version:` key.
After a build, each interview page's HTML must hold one rendered fold of each kind per question.

Usage: scripts/interview_check.py [--self-test]
Exit status: 0 all good, 1 a problem was found.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "book" / "src"
SHORT, MODEL, FOLLOW = "30-second version", "Model answer", "Two follow-ups"
FOLDS = (SHORT, MODEL, FOLLOW)
MAX_WORDS = 90              # about what a candidate says in 30 seconds
MAX_CHEAT_LINES = 150       # a cheat sheet is one page, not a chapter
QUESTION = re.compile(r"^### (\d+)\. \S", re.M)
FOLD = re.compile(r"<details><summary>(?P<name>[^<]+)</summary>\n(?P<body>.*?)\n</details>", re.S)
FOLLOW_UP = re.compile(r"^- \*\*(?P<q>[^*]+\?)\*\* (?P<a>\S.*)$")
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
COMPOSE_V1 = re.compile(r"\bdocker-compose\s+(up|down|ps|run|exec|logs|build|config|start|stop|rm|pull)\b")
VERSION_KEY = re.compile(r"^\s*version:\s*['\"]?\d", re.M)


def check_question(where: str, text: str) -> list[str]:
    """Problems of one question's text, from its heading to the next heading."""
    folds = [(m.group("name").strip(), m.group("body").strip()) for m in FOLD.finditer(text)]
    names = [n for n, _ in folds]
    if names != list(FOLDS):
        return [f"{where}: folds are {names}, want {list(FOLDS)} in that order"]
    problems = []
    short = " ".join(folds[0][1].split())
    words, sentences = len(short.split()), len(SENTENCE_END.findall(short))
    if words > MAX_WORDS:
        problems.append(f"{where}: 30-second version has {words} words (at most {MAX_WORDS})")
    if sentences not in (2, 3):
        problems.append(f"{where}: 30-second version has {sentences} sentence(s), want 2 or 3")
    items = re.split(r"\n(?=- )", folds[2][1])
    items = [" ".join(i.split()) for i in items if i.strip()]
    good = [i for i in items if FOLLOW_UP.match(i)]
    if len(items) != 2 or len(good) != 2:
        problems.append(f"{where}: want exactly two follow-ups as '- **Question?** Answer.', found "
                        f"{len(good)} well-formed of {len(items)} item(s)")
    if not folds[1][1]:
        problems.append(f"{where}: empty model answer")
    return problems


def check_page(page: Path) -> tuple[list[str], int]:
    """Problems of one interview page, and its number of questions."""
    text = page.read_text(encoding="utf-8")
    rel = page.relative_to(SRC.parent.parent) if SRC.parent.parent in page.parents else page
    heads = list(QUESTION.finditer(text))
    problems = []
    if not heads:
        return [f"{rel}: no questions (### N. ...)"], 0
    for i, h in enumerate(heads):
        n = int(h.group(1))
        if n != i + 1:
            problems.append(f"{rel}: question {i + 1} is numbered {n}")
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        body = text[h.end():end]
        body = body.split("\n## ", 1)[0]  # a section heading ends the question too
        problems += check_question(f"{rel} question {n}", body)
    return problems, len(heads)


def check_cheat_sheet(folder: Path, summary: str) -> list[str]:
    sheet = folder / "cheat-sheet.md"
    phase = folder.name
    if not sheet.exists():
        return [f"book/src/{phase}: no cheat-sheet.md next to interview.md"]
    problems = []
    text = sheet.read_text(encoding="utf-8")
    lines = summary.splitlines()
    at = [i for i, l in enumerate(lines) if f"({phase}/interview.md)" in l]
    if not at or at[0] + 1 >= len(lines) or f"({phase}/cheat-sheet.md)" not in lines[at[0] + 1]:
        problems.append(f"SUMMARY.md: {phase}/cheat-sheet.md must come right after {phase}/interview.md")
    if not re.search(r"^\|.*\|\s*$\n^\|[-:| ]+\|\s*$", text, re.M):
        problems.append(f"book/src/{phase}/cheat-sheet.md: no table")
    if len(text.splitlines()) > MAX_CHEAT_LINES:
        problems.append(f"book/src/{phase}/cheat-sheet.md: {len(text.splitlines())} lines, more than one page ({MAX_CHEAT_LINES})")
    return problems


def compose_v1(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    rel = f"book/src/{path.parent.name}/{path.name}"
    found = [f"{rel}: Compose v1 command '{m.group(0)}'; use 'docker compose'" for m in COMPOSE_V1.finditer(text)]
    found += [f"{rel}: a 'version:' key; Compose v2 files have none" for _ in VERSION_KEY.finditer(text)]
    return found


def check_sources(src: Path = SRC) -> tuple[list[str], dict[str, int]]:
    """Problems in the markdown sources, and the number of questions per phase."""
    summary = (src / "SUMMARY.md").read_text(encoding="utf-8")
    problems: list[str] = []
    counts: dict[str, int] = {}
    for page in sorted(src.glob("*/interview.md")):
        p, n = check_page(page)
        problems += p
        counts[page.parent.name] = n
        problems += check_cheat_sheet(page.parent, summary)
        problems += compose_v1(page)
        if (page.parent / "cheat-sheet.md").exists():
            problems += compose_v1(page.parent / "cheat-sheet.md")
    return problems, counts


def check_html(out: Path, counts: dict[str, int]) -> list[str]:
    """In the built book, every question's three folds must render as <details> elements."""
    problems = []
    for phase, n in counts.items():
        page = out / phase / "interview.html"
        if not page.exists():
            problems.append(f"{phase}/interview.html: not built")
            continue
        html = page.read_text(encoding="utf-8")
        for name in FOLDS:
            got = html.count(f"<details><summary>{name}</summary>")
            if got != n:
                problems.append(f"{phase}/interview.html: {got} rendered '{name}' fold(s) for {n} questions")
        if not (out / phase / "cheat-sheet.html").exists():
            problems.append(f"{phase}/cheat-sheet.html: not built")
    return problems


# ---------------------------------------------------------------- self-test
GOOD = """### 1. Why?

<details><summary>30-second version</summary>

First sentence here. Second sentence here.

</details>

<details><summary>Model answer</summary>

The long answer.

</details>

<details><summary>Two follow-ups</summary>

- **How would you prove it?** With a command.
- **What breaks?** The other thing.

</details>
"""


def self_test() -> list[str]:
    """The checker must accept a good question and reject each kind of damage."""
    cases = {
        "good": (GOOD, False),
        "no 30-second version": (re.sub(r"<details><summary>30-second version</summary>.*?</details>\n", "", GOOD, flags=re.S), True),
        "no model answer": (re.sub(r"<details><summary>Model answer</summary>.*?</details>\n", "", GOOD, flags=re.S), True),
        "no follow-ups": (re.sub(r"<details><summary>Two follow-ups</summary>.*?</details>\n", "", GOOD, flags=re.S), True),
        "one follow-up": (GOOD.replace("- **What breaks?** The other thing.\n", ""), True),
        "three follow-ups": (GOOD.replace("- **What breaks?**", "- **Why not?** Because.\n- **What breaks?**"), True),
        "follow-up without an answer": (GOOD.replace("** The other thing.", "**"), True),
        "follow-up not a question": (GOOD.replace("What breaks?", "What breaks"), True),
        "folds out of order": (GOOD.replace("30-second version", "TMP").replace("Model answer", "30-second version").replace("TMP", "Model answer"), True),
        "one sentence": (GOOD.replace("First sentence here. Second", "First sentence here; second"), True),
        "too long": (GOOD.replace("Second sentence here.", "Second " + "word " * MAX_WORDS + "end."), True),
    }
    failures = []
    for name, (text, bad) in cases.items():
        found = check_question("self-test", text.split("\n", 1)[1])
        if bool(found) != bad:
            failures.append(f"self-test '{name}': expected {'a problem' if bad else 'none'}, got {found}")
    if check_page_text("### 1. A\n" + GOOD.split("\n", 1)[1] + "\n### 3. B\n" + GOOD.split("\n", 1)[1]) == []:
        failures.append("self-test 'numbering gap': not reported")
    if not COMPOSE_V1.search("run docker-compose up -d") or COMPOSE_V1.search("a docker-compose.yml file"):
        failures.append("self-test 'compose v1': wrong match")
    return failures


def check_page_text(text: str) -> list[str]:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "interview.md"
        p.write_text(text, encoding="utf-8")
        return check_page(p)[0]


def main() -> int:
    problems = self_test()
    if "--self-test" not in sys.argv:
        found, counts = check_sources()
        problems += found
        total = sum(counts.values())
        print(f"interview practice: {total} questions ({', '.join(f'{k}: {v}' for k, v in counts.items())}), "
              f"{2 * total} follow-ups, {len(problems)} problem(s)")
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
