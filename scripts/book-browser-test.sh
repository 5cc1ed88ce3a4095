#!/usr/bin/env bash
# Test the built book in a real browser (headless Chromium, driven by playwright-core):
#   - every page with a ```mermaid block renders all its diagrams as SVG, without mermaid errors;
#   - the search box finds pages (results appear, and link to the right chapter);
#   - the mdbook-quiz quizzes render and start;
#   - no page requests anything from outside 127.0.0.1 (the book works offline);
#   - every page loads with its styles and no broken images;
#   - no JavaScript errors on any page.
# Screenshots (a phase page with a diagram, search results, a quiz) go to $SHOT_DIR.
#
# Usage: scripts/book-browser-test.sh [--no-build]   (--no-build: test a copy of book/book as it is)
# Needs: chromium, node and npm (Debian packages; installed with apt-get when missing and run as
# root), playwright-core (installed with npm on first use into $BOOK_TEST_CACHE, default
# ~/.cache/compose-lab/book-browser), mdbook and mdbook-quiz (see scripts/book-check.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/book-browser-test.XXXXXX)
OUT="$WORK/book"     # a private build: other builds of book/book running meanwhile cannot interfere
SHOT_DIR=${SHOT_DIR:-$ROOT/target/book-screenshots}
CACHE=${BOOK_TEST_CACHE:-$HOME/.cache/compose-lab/book-browser}
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
PLAYWRIGHT_VERSION=1.65.1
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf 'book-browser-test: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

# On a clean Debian CI machine (as root), fetch what is missing from Debian's archive, once.
missing=()
[ -n "$CHROMIUM" ] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  say "installing ${missing[*]} with apt-get (once)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; } \
    || die "apt-get install ${missing[*]} failed"
  CHROMIUM=$(command -v chromium || true)
fi
[ -n "$CHROMIUM" ] || die "chromium not found (apt-get install chromium)"
command -v node >/dev/null || die "node not found (apt-get install nodejs npm)"

trap 'rm -rf "$WORK"' EXIT
if [ "${1:-}" != "--no-build" ] && ! command -v mdbook-quiz >/dev/null; then
  bash "$ROOT/scripts/book-check.sh" --list >/dev/null   # installs mdbook and mdbook-quiz when missing
fi
if [ "${1:-}" = "--no-build" ]; then
  [ -f "$ROOT/book/book/index.html" ] || die "no built book in book/book"
  cp -a "$ROOT/book/book" "$OUT"
else
  mdbook build "$ROOT/book" --dest-dir "$OUT" >/dev/null 2>&1 || die "mdbook build failed; run scripts/book-check.sh"
fi
[ -f "$OUT/index.html" ] || die "no built book in $OUT"

if [ ! -f "$CACHE/node_modules/playwright-core/package.json" ]; then
  say "installing playwright-core $PLAYWRIGHT_VERSION into $CACHE (once)"
  mkdir -p "$CACHE"
  (cd "$CACHE" && npm install --silent --no-audit --no-fund --no-save "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null) \
    || die "npm install playwright-core failed"
fi

mkdir -p "$SHOT_DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$OUT" >/dev/null 2>&1 &
SERVER=$!
JS="$WORK/test.js"
PROFILE="$WORK/profile"    # a fresh Chromium profile every run
mkdir -p "$PROFILE"
cleanup() { kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/index.html', timeout=1)" 2>/dev/null && break
  sleep 0.1
done

# Pages that contain mermaid diagrams, from the built HTML.
MERMAID_PAGES=$(cd "$OUT" && grep -rl --include='*.html' 'class="language-mermaid"' . | sed 's|^\./||' | sort | tr '\n' ' ')
QUIZ_PAGES=$(cd "$OUT" && grep -rl --include='*.html' 'class="quiz-placeholder"' . | sed 's|^\./||' | sort | tr '\n' ' ')
ALL_PAGES=$(cd "$OUT" && find . -name '*.html' ! -name 'toc.html' | sed 's|^\./||' | sort | tr '\n' ' ')

cat >"$JS" <<'EOF'
const { chromium } = require('playwright-core');
const [base, shots, exe, profile, mermaidPages, quizPages, allPages] = process.argv.slice(2);
const failures = [];
const fail = (msg) => { failures.push(msg); console.log(`  FAIL ${msg}`); };
const ok = (msg) => console.log(`  ok   ${msg}`);

(async () => {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: exe,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const external = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    external.push(route.request().url());
    return route.abort();
  });
  const page = context.pages()[0] || await context.newPage();
  const jsErrors = [];
  // Requests can fail with ERR_NETWORK_CHANGED while Docker creates or removes interfaces on
  // this host (other stacks starting and stopping). That is the machine, not the book: such a
  // step is retried, and counted.
  let netChanged = 0, retries = 0;
  page.on('requestfailed', (r) => { if (/ERR_NETWORK_CHANGED/.test(r.failure()?.errorText || '')) netChanged++; });
  page.on('pageerror', (e) => jsErrors.push(`${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/ERR_NETWORK_CHANGED/.test(m.text())) jsErrors.push(`${page.url()}: console: ${m.text()}`);
  });
  async function step(fn) {
    for (let attempt = 1; ; attempt++) {
      netChanged = 0;
      const errorsBefore = jsErrors.length;
      let result, error;
      try { result = await fn(); } catch (e) { error = e; }
      if (netChanged === 0 || attempt >= 6) {
        if (error) throw error;
        return result;
      }
      retries++;
      jsErrors.length = errorsBefore;  // errors of an attempt cut short by the network do not count
      await page.waitForTimeout(300);
    }
  }
  async function open(path) {
    await page.goto(`${base}/${path}`, { waitUntil: 'load', timeout: 20000 });
  }

  // 1. Mermaid: every diagram on every page renders to SVG, with no mermaid error output.
  let diagrams = 0;
  for (const path of mermaidPages.split(' ').filter(Boolean)) {
    const { state, r } = await step(async () => {
    await open(path);
    const state = await page.waitForFunction(
      () => document.documentElement.getAttribute('data-mermaid'), null, { timeout: 20000 }
    ).then((h) => h.jsonValue()).catch(() => 'timeout');
    const r = await page.evaluate(() => ({
      blocks: document.querySelectorAll('div.mermaid').length,
      svgs: document.querySelectorAll('div.mermaid svg').length,
      left: document.querySelectorAll('code.language-mermaid').length,
      errors: [...document.querySelectorAll('div.mermaid')].filter((d) => /Syntax error|Parse error/i.test(d.textContent)).length,
    }));
    return { state, r };
    });
    diagrams += r.svgs;
    if (state !== 'rendered' || r.blocks === 0 || r.svgs !== r.blocks || r.left !== 0 || r.errors !== 0) {
      fail(`mermaid on ${path}: state=${state}, ${r.svgs}/${r.blocks} rendered, ${r.left} left as code, ${r.errors} errors`);
    } else {
      ok(`mermaid on ${path}: ${r.svgs} diagram(s) rendered`);
    }
  }
  console.log(`mermaid: ${diagrams} diagram(s) on ${mermaidPages.split(' ').filter(Boolean).length} page(s)`);

  // Screenshot: a phase page, scrolled to its first diagram.
  await step(async () => {
    await open('phase-3/index.html');
    await page.waitForFunction(() => document.documentElement.getAttribute('data-mermaid') === 'rendered', null, { timeout: 20000 });
  });
  const first = page.locator('div.mermaid').first();
  await first.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${shots}/phase-3-diagram.png` });
  await first.screenshot({ path: `${shots}/phase-3-diagram-element.png` });

  // 2. Search, as a reader uses it: open the search bar, type, wait for results.
  const searches = [
    { q: 'service_healthy', expect: /phase-3\// },
    { q: '127.0.0.11', expect: /phase-2\// },
    { q: 'dockerignore', expect: /phase-1\// },
  ];
  for (const s of searches) {
    const n = await step(async () => {
      await open('index.html');
      await page.click('#mdbook-search-toggle');
      await page.locator('#mdbook-searchbar').pressSequentially(s.q, { delay: 20 });  // real key events, as a reader types
      return page.waitForFunction(
        () => document.querySelectorAll('#mdbook-searchresults li').length, null, { timeout: 15000 }
      ).then((h) => h.jsonValue()).catch(() => 0);
    });
    const links = await page.$$eval('#mdbook-searchresults li a', (as) => as.map((a) => a.getAttribute('href')));
    const header = await page.textContent('#mdbook-searchresults-header').catch(() => '');
    if (n > 0 && links.some((h) => s.expect.test(h))) {
      ok(`search "${s.q}": ${n} result(s), header "${header.trim()}", first ${links[0]}`);
    } else {
      fail(`search "${s.q}": ${n} result(s), none matching ${s.expect} (${links.slice(0, 5).join(', ')})`);
    }
    if (s.q === 'service_healthy') await page.screenshot({ path: `${shots}/search-results.png` });
  }
  // A search URL (what a shared link looks like) shows results too.
  const viaUrl = await step(async () => {
    await open('index.html?search=healthcheck');
    return page.waitForFunction(
      () => document.querySelectorAll('#mdbook-searchresults li').length, null, { timeout: 15000 }
    ).then((h) => h.jsonValue()).catch(() => 0);
  });
  if (viaUrl > 0) ok(`search via ?search=healthcheck: ${viaUrl} result(s)`);
  else fail('search via ?search=healthcheck: no results');

  // 3. Quizzes render (mdbook-quiz) and start.
  for (const path of quizPages.split(' ').filter(Boolean)) {
    const quiz = page.locator('.quiz-placeholder').first();
    try {
      await step(async () => {
        await open(path);
        await quiz.getByRole('button', { name: 'Start' }).click({ timeout: 15000 });
        await quiz.locator('input, textarea').first().waitFor({ timeout: 10000 });
      });
      ok(`quiz on ${path}: rendered and started`);
      if (path === 'phase-3/index.html') {
        await quiz.scrollIntoViewIfNeeded();
        await page.screenshot({ path: `${shots}/phase-3-quiz.png` });
      }
    } catch (e) {
      fail(`quiz on ${path}: ${e.message.split('\n')[0]}`);
    }
  }

  // 4. Every page of the book loads, with its styles, and no broken images.
  let pagesOk = 0;
  for (const path of allPages.split(' ').filter(Boolean)) {
    const r = await step(async () => {
      const resp = await page.goto(`${base}/${path}`, { waitUntil: 'load', timeout: 20000 });
      return page.evaluate((status) => ({
        status,
        styled: getComputedStyle(document.querySelector('#mdbook-sidebar') || document.body).position !== 'static',
        brokenImgs: [...document.images].filter((i) => i.complete && i.naturalWidth === 0).map((i) => i.src),
        title: document.title,
      }), resp ? resp.status() : 0);
    });
    if (r.status !== 200 || !r.styled || r.brokenImgs.length) {
      fail(`page ${path}: status ${r.status}, styled ${r.styled}, broken images ${r.brokenImgs.join(', ')}`);
    } else {
      pagesOk++;
    }
  }
  ok(`${pagesOk} page(s) loaded with styles and no broken images`);

  // 5. Offline and error-free.
  if (external.length) fail(`requests outside 127.0.0.1: ${[...new Set(external)].join(', ')}`);
  else ok('no request left 127.0.0.1');
  if (jsErrors.length) fail(`JavaScript errors:\n    ${jsErrors.join('\n    ')}`);
  else ok('no JavaScript errors');

  console.log(`steps retried after ERR_NETWORK_CHANGED: ${retries}`);
  await context.close();
  console.log(failures.length ? `\nFAILED: ${failures.length} problem(s)\n  ${failures.join('\n  ')}` : '\nbrowser test passed');
  console.log(`screenshots: ${shots}`);
  process.exit(failures.length ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
EOF

say "serving $OUT on http://127.0.0.1:$PORT with $($CHROMIUM --version 2>/dev/null | head -n1)"
NODE_PATH="$CACHE/node_modules" node "$JS" "http://127.0.0.1:$PORT" "$SHOT_DIR" "$CHROMIUM" "$PROFILE" "$MERMAID_PAGES" "$QUIZ_PAGES" "$ALL_PAGES"
