// Browser test of the article page: builds a demo site, serves it with kiji,
// opens one article in Debian's Chromium at 390 px and 1280 px, checks every
// part of the page is visible, that nothing logs an error, and saves
// screenshots to build/screenshots/article-<width>.png.
// Prints "ok name" / "FAIL name" lines and last "browser: N passed, N failed".

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT, BIN, reporter, assert, runMain, sleep, freePort, fetchText, buildDemo,
  startServer, waitForServer, stopServer, launchChromium, teardown
} from './lib.mjs';

const SHOTS = path.join(ROOT, 'build', 'screenshots');
const WIDTHS = [390, 1280];
const HARD_TIMEOUT_MS = 420_000;

const rep = reporter();
const { ok, fail, check } = rep;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiji-browser-'));
let server = null;
let context = null;

// The article with the most parts: figure caption, sources, nested comments,
// 6 related, both neighbours. Chosen from the HTML of the listed articles.
async function pickArticle(base) {
  const ids = [];
  for (const p of ['/', '/?page=2', '/?page=3']) {
    const r = await fetchText(base + p);
    if (r.status !== 200) continue;
    for (const m of r.text.matchAll(/class="card-title" href="\/articles\/(\d+)"/g)) ids.push(m[1]);
  }
  assert(ids.length, 'no article links (a.card-title) on the front page');
  let best = null;
  for (const id of ids.slice(0, 30)) {
    const r = await fetchText(`${base}/articles/${id}`);
    if (r.status !== 200) continue;
    const h = r.text;
    const score = [
      /<figcaption[^>]*>\s*出典/.test(h),
      /class="sources"/.test(h),
      /class="children"/.test(h),
      (h.match(/class="related-title"/g) || []).length >= 6,
      /rel="prev"/.test(h) && /rel="next"/.test(h),
      /class="eyecatch-credit"/.test(h),
      /class="trackback"/.test(h),
    ].filter(Boolean).length;
    if (!best || score > best.score) best = { id, score };
    if (score === 7) break;
  }
  assert(best, 'no article page answered 200');
  return best.id;
}

// Every part the reader sees: [name, selector, expected count or null].
function parts() {
  return [
    ['category label', 'a.cat-label', 1],
    ['title', 'article.entry h1.entry-title', 1],
    ['date', 'article.entry time.entry-date', 1],
    ['author', 'article.entry span.entry-author', 1],
    ['eyecatch image', 'figure.eyecatch img', 1],
    ['body', 'article.entry div.entry-body', 1],
    ['figure caption', 'div.entry-body figure figcaption', null],
    ['sources', 'ul.sources > li', null],
    ['eyecatch credit', 'p.eyecatch-credit', 1],
    ['prev link', 'nav.prev-next a[rel="prev"]', 1],
    ['next link', 'nav.prev-next a[rel="next"]', 1],
    ['related (6)', 'section#related ol.related > li', 6],
    ['comments', 'section#comments li.comment', null],
    ['comment form', 'form#comment-form', 1],
    ['trackbacks section', 'section#trackbacks', 1],
    ['ranking (5)', 'aside#ranking ol.ranking > li', 5],
    ['PAGE TOP', 'a#page-top', 1],
  ];
}

async function testWidth(url, width) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const loc = m.location();
    errors.push(`console: ${m.text()}${loc && loc.url ? ` (${loc.url})` : ''}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  // The view beacon (navigator.sendBeacon, POST /views/<id>). HeadlessChrome
  // counts as a bot, so the server answers 204 without counting the view.
  const beacons = [];
  page.on('request', (q) => {
    if (/\/views\/\d+$/.test(new URL(q.url()).pathname)) beacons.push(q);
  });
  await page.setViewportSize({ width, height: 900 });
  const tag = `article@${width}`;
  let loaded = false;
  await check(`${tag}: loads`, async () => {
    const r = await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    assert(r && r.status() === 200, `status ${r && r.status()}`);
    loaded = true;
  });
  if (!loaded) { await page.close(); return; }
  await page.waitForTimeout(300);
  await check(`${tag}: view beacon sent`, async () => {
    for (let i = 0; i < 50 && beacons.length === 0; i++) await sleep(100);
    assert(beacons.length === 1, `${beacons.length} POST /views/<id> beacons, want 1`);
    const q = beacons[0];
    assert(q.method() === 'POST', `beacon method ${q.method()}`);
    const id = new URL(url).pathname.split('/').pop();
    assert(new URL(q.url()).pathname === `/views/${id}`, `beacon to ${q.url()}`);
    const r = await q.response();
    assert(r && r.status() === 204, `beacon answered ${r && r.status()}, want 204`);
  });
  for (const [name, sel, count] of parts()) {
    await check(`${tag}: ${name} visible`, async () => {
      const loc = page.locator(sel);
      const n = await loc.count();
      assert(n > 0, `no element matches ${sel}`);
      if (count !== null) assert(n === count, `${n} elements match ${sel}, want ${count}`);
      for (let i = 0; i < n; i++) {
        assert(await loc.nth(i).isVisible(), `${sel} #${i + 1} of ${n} is not visible`);
      }
      const box = await loc.first().boundingBox();
      assert(box && box.width > 0 && box.height > 0, `${sel} has an empty box`);
    });
  }
  await check(`${tag}: Japanese text renders with a real font`, async () => {
    // Draws a kana and a code point no font has (U+10FFFD): identical pixels
    // mean the kana is a missing-glyph box too, i.e. no CJK font is installed
    // (Debian: fonts-ipafont-gothic or fonts-noto-cjk).
    const same = await page.evaluate(() => {
      const draw = (t) => {
        const c = document.createElement('canvas');
        c.width = 64; c.height = 64;
        const g = c.getContext('2d');
        g.font = '40px sans-serif';
        g.fillText(t, 8, 48);
        return Array.from(g.getImageData(0, 0, 64, 64).data).join(',');
      };
      return draw('あ') === draw(String.fromCodePoint(0x10FFFD));
    });
    assert(!same, 'no font with Japanese glyphs: text shows as boxes (install fonts-ipafont-gothic)');
  });
  await check(`${tag}: no horizontal scrolling`, async () => {
    const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert(sw <= iw + 1, `page is ${sw}px wide in a ${iw}px viewport`);
  });
  await check(`${tag}: PAGE TOP returns to the top`, async () => {
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.locator('a#page-top').click();
    await page.waitForFunction(() => window.scrollY < 5, null, { timeout: 5000 });
  });
  await check(`${tag}: screenshot`, async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, `article-${width}.png`), fullPage: true,
      timeout: 30_000 });
  });
  await page.waitForTimeout(300);
  await check(`${tag}: no console or page errors`, async () => {
    assert(errors.length === 0, errors.join('\n'));
  });
  await page.close();
}

async function main() {
  const db = path.join(tmp, 'site.db');
  let up = false;
  try {
    await check('setup: demo site and server', async () => {
      assert(fs.existsSync(BIN), `kiji binary not found: ${BIN}`);
      buildDemo(db, { articles: 60, comments: 8, seed: 7 }, 'demo');
      const port = await freePort();
      server = startServer(db, port, tmp);
      await waitForServer(server);
      up = true;
      process.env.KIJI_BASE = `http://127.0.0.1:${port}`;
    });
    if (rep.failed) return;
    const base = process.env.KIJI_BASE;
    let id = null;
    await check('setup: pick an article', async () => { id = await pickArticle(base); });
    if (!id) return;
    await check('setup: launch chromium', async () => { context = await launchChromium(tmp); });
    if (!context) return;
    for (const w of WIDTHS) await testWidth(`${base}/articles/${id}`, w);
  } finally {
    if (context) await context.close().catch(() => {});
    await teardown(rep, server, up, tmp);
    server = null;
  }
}

runMain(rep, main, {
  timeoutMs: HARD_TIMEOUT_MS,
  what: 'the browser test',
  onTimeout: () => { if (server) server.proc.kill('SIGKILL'); },
});
