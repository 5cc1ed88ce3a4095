#!/usr/bin/env bash
# The class dashboard (grades/index.html) of 100 learners x 40 checks in a real browser
# (headless Chromium driven by playwright-core, as scripts/book-browser-test.sh does), opened from
# disk with JavaScript off:
#   - it loads with no request outside the file; its size and load time are printed;
#   - every learner's row is shown, and each status filter (a CSS :checked rule, no script)
#     shows exactly the rows of that status;
#   - scrolled to the far corner of the heat map, the check names and learner ids stay in view
#     (sticky headers).
# Screenshots go to $SHOT_DIR: the page as opened, filtered, and scrolled.
#
# Usage: scripts/dashboard-browser-test.sh
# Needs: chromium, node, playwright-core (installed with npm on first use into $BOOK_TEST_CACHE,
# shared with the book's browser test), cargo (the page is made by the test grade_dashboard).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHOT_DIR=${SHOT_DIR:-$ROOT/target/dashboard-screenshots}
CACHE=${BOOK_TEST_CACHE:-$HOME/.cache/compose-lab/book-browser}
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
PLAYWRIGHT_VERSION=1.65.1
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf 'dashboard-browser-test: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

[ -n "$CHROMIUM" ] || die "chromium not found (apt-get install chromium)"
command -v node >/dev/null || die "node not found (apt-get install nodejs npm)"
if [ ! -f "$CACHE/node_modules/playwright-core/package.json" ]; then
  say "installing playwright-core $PLAYWRIGHT_VERSION into $CACHE (once)"
  mkdir -p "$CACHE"
  (cd "$CACHE" && npm install --silent --no-audit --no-fund --no-save "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null) \
    || die "npm install playwright-core failed"
fi

say "making the 100 x 40 page (cargo test --test grade_dashboard a_class_of_100_by_40)"
(cd "$ROOT" && cargo test -q -p labcheck --test grade_dashboard a_class_of_100_by_40 >/dev/null 2>&1) \
  || die "the test that makes the page failed: cargo test -p labcheck --test grade_dashboard"
PAGE="$TARGET/tmp/dashboard-100x40/index.html"
[ -f "$PAGE" ] || die "no page at $PAGE"
mkdir -p "$SHOT_DIR"
WORK=$(mktemp -d /tmp/dashboard-browser-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/test.js" <<'EOF'
const { chromium } = require(process.env.PLAYWRIGHT);
const fs = require('fs');
const fail = (m) => { console.error('FAIL: ' + m); process.exitCode = 1; };
(async () => {
  const ctx = await chromium.launchPersistentContext(process.env.PROFILE, {
    executablePath: process.env.CHROMIUM, args: ['--no-sandbox'],
    viewport: { width: 1440, height: 900 }, javaScriptEnabled: false });
  const page = ctx.pages()[0] || await ctx.newPage();
  const outside = [];
  page.on('request', (r) => { if (!r.url().startsWith('file://')) outside.push(r.url()); });
  const url = 'file://' + process.env.PAGE;
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'load' });
    times.push(Date.now() - t0);
  }
  times.sort((a, b) => a - b);
  const bytes = fs.statSync(process.env.PAGE).size;
  console.log(`page: ${bytes} bytes (${(bytes / 1024).toFixed(0)} KiB); load (goto to the load event, file://, 5 runs): median ${times[2]} ms, min ${times[0]} ms, max ${times[4]} ms`);
  if (outside.length) fail('requests outside the file: ' + outside.join(', '));
  await page.screenshot({ path: process.env.SHOT_DIR + '/dashboard-100x40.png' });

  const rows = page.locator('table.heat tbody tr');
  const shown = async () => {
    let n = 0;
    for (const tr of await rows.all()) if (await tr.isVisible()) n++;
    return n;
  };
  const total = await rows.count();
  if (total !== 100) fail(`${total} learner rows, not 100`);
  if ((await shown()) !== 100) fail('not every row is shown at first');
  for (const [id, cls] of [['f', 'hf'], ['w', 'hw'], ['u', 'ru'], ['ok', 'rok'], ['mv', 'mv']]) {
    await page.locator(`label[for=show-${id}]`).click();
    const want = await page.locator(`table.heat tbody tr.${cls}`).count();
    const got = await shown();
    console.log(`filter ${id}: ${got} rows shown, ${want} have the status`);
    if (got !== want) fail(`filter ${id} shows ${got} rows, ${want} have .${cls}`);
    if (id === 'f') await page.screenshot({ path: process.env.SHOT_DIR + '/dashboard-100x40-failing.png' });
  }
  await page.locator('label[for=show-all]').click();
  if ((await shown()) !== 100) fail('"all" does not bring every row back');

  // Sticky headers: scroll the heat map to its far corner; names stay at its edges.
  await page.goto(url + '#grid', { waitUntil: 'load' });
  const scroller = page.locator('div.scroll');
  let box = await scroller.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 40; i++) await page.mouse.wheel(400, 400);
  await page.waitForTimeout(300);
  box = await scroller.boundingBox();
  const head = await page.locator('table.heat th.ck').last().boundingBox();
  const first = await page.locator('table.heat tbody th').last().boundingBox();
  console.log(`scrolled: last check header top ${Math.round(head.y - box.y)} px below the map's top; last learner id ${Math.round(first.x - box.x)} px from its left`);
  if (Math.abs(head.y - box.y) > 3) fail('the check names scrolled away');
  if (Math.abs(first.x - box.x) > 3) fail('the learner ids scrolled away');
  await page.screenshot({ path: process.env.SHOT_DIR + '/dashboard-100x40-scrolled.png' });
  await ctx.close();
})().catch((e) => { console.error(e); process.exit(1); });
EOF

mkdir -p "$WORK/profile"
PLAYWRIGHT="$CACHE/node_modules/playwright-core" CHROMIUM="$CHROMIUM" PAGE="$PAGE" \
  SHOT_DIR="$SHOT_DIR" PROFILE="$WORK/profile" node "$WORK/test.js"
say "screenshots in $SHOT_DIR"
