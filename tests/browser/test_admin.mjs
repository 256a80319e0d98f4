// Browser test of the editor area (issue 11) in Debian's Chromium: an
// editor logs in, writes an article with an uploaded eyecatch image and a
// 参考 row (added with the page's JS), previews it in a new tab through the
// public article template, publishes it and finds it on the front page with
// its image; then a reader's comment held for moderation
// (comments.moderation all) is approved in /admin/comments and appears on
// the article for everyone. At 390 and 1280 px the editor and the
// moderation queue are checked for horizontal overflow and saved as
// docs/admin-editor-<w>.png and docs/admin-comments-<w>.png; no admin page
// may log an error. Own demo site and server (KIJI_BIN, default
// build/asan/kiji). Prints "ok name" / "FAIL name" and last
// "browser: N passed, N failed".

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import {
  ROOT, BIN, reporter, assert, runMain, freePort, fetchText, kiji, buildDemo,
  startServer, waitForServer, stopServer, launchChromium, sanitizerLines, teardown
} from './lib.mjs';

const DOCS = path.join(ROOT, 'docs');
const WIDTHS = [390, 1280];
const HARD_TIMEOUT_MS = 420_000;
const EDITOR = 'deskeditor';
const PASSWORD = 'browser-test-password-1';
const TITLE = 'ブラウザで書いた記事 Browser Written';
const COMMENT = 'モデレーション待ちのコメントです（ブラウザテスト）。';

const rep = reporter();
const { ok, fail, check } = rep;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiji-browser-admin-'));
let server = null;
let context = null;

// ---- a PNG made here: 600x315, colour bands ----------------------------------------------

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function makePng(w, h) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    const row = y * (w * 3 + 1);
    for (let x = 0; x < w; x++) {
      const o = row + 1 + x * 3;
      raw[o] = 30 + ((x * 180) / w) | 0;
      raw[o + 1] = 60 + ((y * 120) / h) | 0;
      raw[o + 2] = 140;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// ---- pages ------------------------------------------------------------------------------------

// A page that records console errors, page errors, failed requests and
// HTTP errors (the test's own expected refusals are not made in it).
async function watchedPage(width) {
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  // ERR_ABORTED: a lazy image still loading when the page is left
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') {
      page.errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
    }
  });
  page.on('response', (r) => { if (r.status() >= 400) page.errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.setViewportSize({ width, height: 900 });
  return page;
}

async function noOverflow(page, what) {
  const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert(sw <= iw + 1, `${what}: page is ${sw}px wide in a ${iw}px viewport`);
}

async function shot(page, name) {
  fs.mkdirSync(DOCS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(DOCS, name), fullPage: true, timeout: 30_000 });
}

// ---- the steps -----------------------------------------------------------------------------------

async function login(page, base) {
  await page.goto(`${base}/admin/articles/new`);
  assert(new URL(page.url()).pathname === '/admin/login', `not sent to the login page: ${page.url()}`);
  await page.fill('#login-name', EDITOR);
  await page.fill('#login-password', PASSWORD);
  await Promise.all([page.waitForURL(`${base}/admin/`), page.click('form.login-form button[type=submit]')]);
}

async function writeArticle(page, base, pngPath) {
  await page.goto(`${base}/admin/articles/new`);
  await page.fill('#e-title', TITLE);
  await page.fill('#e-body', '## ブラウザの見出し\n\nエディタから書いた本文です。\n\n- 一つ目\n- 二つ目\n');
  await page.selectOption('#e-cat', { index: 1 });
  await page.fill('#e-tags', 'ブラウザ, テスト');
  // the JS row tools: two rows filled, the second moved up, one added
  const rows = page.locator('#sources .source-row');
  const before = await rows.count();
  await rows.nth(0).locator('input[name=src_title]').fill('一つ目の参考');
  await rows.nth(0).locator('input[name=src_url]').fill('https://example.com/first');
  await rows.nth(1).locator('input[name=src_title]').fill('二つ目の参考');
  await rows.nth(1).locator('input[name=src_url]').fill('https://example.com/second');
  await rows.nth(1).locator('button.row-up').click();
  const order = await page.$$eval('#sources .source-row', (rs) => rs.map((r) => [
    r.querySelector('input[name=src_title]').value, r.querySelector('input[name=src_order]').value]));
  assert(order[0][0] === '二つ目の参考' && order[1][0] === '一つ目の参考',
    `move up did not move the row: ${JSON.stringify(order)}`);
  assert(order[0][1] === '1' && order[1][1] === '2', `order fields not renumbered: ${JSON.stringify(order)}`);
  await page.click('#sources button.add-row');
  assert(await rows.count() === before + 1, 'add row did not add a row');
  await rows.nth(before).locator('button.row-remove').click();
  assert(await rows.count() === before, 'remove did not remove the row');
  await page.setInputFiles('#e-file', pngPath);
  await page.fill('#e-credit', '撮影: ブラウザテスト');
}

// The JS live preview: the form posted as you type, shown in a frame.
async function livePreview(page) {
  await page.click('button.live-toggle');
  const frame = page.frameLocator('.live-preview iframe');
  await frame.locator('h1.entry-title').waitFor({ timeout: 15_000 });
  assert(await frame.locator('h1.entry-title').textContent() === TITLE, 'live preview title');
  await page.fill('#e-title', TITLE + ' ライブ');
  await frame.locator('h1.entry-title', { hasText: 'ライブ' }).waitFor({ timeout: 15_000 });
  await page.fill('#e-title', TITLE);
  await page.click('button.live-toggle');
  assert(await page.locator('.live-preview').count() === 0, 'live preview did not close');
}

async function preview(page, base) {
  const [tab] = await Promise.all([
    page.context().waitForEvent('page'),
    page.click('button.preview-button'),
  ]);
  await tab.waitForLoadState('load');
  assert(new URL(tab.url()).pathname === '/admin/articles/preview', `preview opened ${tab.url()}`);
  const title = await tab.locator('article.entry h1.entry-title').textContent();
  assert(title === TITLE, `preview title ${JSON.stringify(title)}`);
  assert(await tab.locator('.preview-banner').isVisible(), 'no preview banner');
  assert(await tab.locator('.entry-body h2').textContent() === 'ブラウザの見出し', 'body not rendered');
  const srcs = await tab.$$eval('ul.sources li a', (as) => as.map((a) => a.textContent));
  assert(JSON.stringify(srcs) === JSON.stringify(['二つ目の参考', '一つ目の参考']),
    `sources in the preview: ${JSON.stringify(srcs)}`);
  const img = tab.locator('figure.eyecatch img');
  assert(await img.count() === 1, 'no eyecatch in the preview');
  const natural = await img.evaluate((i) => i.complete && i.naturalWidth);
  assert(natural === 600, `eyecatch did not load in the preview (naturalWidth ${natural})`);
  assert(await tab.locator('#comment-form').count() === 0, 'the preview has a comment form');
  const r = await fetchText(`${base}/`);
  assert(!r.text.includes(TITLE), 'the preview published the article');
  await tab.close();
}

async function publish(page, base) {
  await page.selectOption('#e-status', 'published');
  await Promise.all([page.waitForURL(/\/admin\/articles\/\d+$/), page.click('.editor-buttons button.primary')]);
  const flash = await page.locator('p.flash').textContent();
  assert(flash && flash.includes('保存'), `no saved message: ${flash}`);
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  assert(await page.locator('#e-title').inputValue() === TITLE, 'the saved title is not in the form');
  assert(await page.locator('img.eyecatch-current').count() === 1, 'no eyecatch shown in the editor');
  return id;
}

async function onFrontPage(page, base, id) {
  await page.goto(`${base}/`);
  const link = page.locator(`a[href="/articles/${id}"]`).first();
  assert(await link.count() > 0, 'the article is not on the front page');
  await Promise.all([page.waitForURL(`${base}/articles/${id}`), link.click()]);
  assert(await page.locator('h1.entry-title').textContent() === TITLE, 'article title');
  const img = page.locator('figure.eyecatch img');
  const [w, h, nw] = await img.evaluate((i) => [i.getAttribute('width'), i.getAttribute('height'),
    i.complete && i.naturalWidth]);
  assert(w === '600' && h === '315', `eyecatch <img> width/height ${w}x${h}, want 600x315`);
  assert(nw === 600, `eyecatch did not load (naturalWidth ${nw})`);
  assert(await page.locator('p.eyecatch-credit').textContent().then((t) => t.includes('撮影: ブラウザテスト')),
    'no eyecatch credit');
}

async function postComment(page, base, id) {
  await page.goto(`${base}/articles/${id}`);
  await page.locator('#comment-form input[name=nickname]').fill('読者');
  await page.locator('#comment-form textarea[name=body]').fill(COMMENT);
  await page.locator('#comment-form button[type=submit]').click();
  await page.locator('li.comment', { hasText: COMMENT }).waitFor({ timeout: 15_000 });
  const r = await fetchText(`${base}/articles/${id}`);
  assert(!r.text.includes(COMMENT), 'a held comment is shown to everyone');
}

async function approve(page, base, id) {
  await page.goto(`${base}/admin/comments?status=pending`);
  const rowSel = `tr:has(p.comment-text:text-is("${COMMENT}"))`;
  const row = page.locator(rowSel);
  assert(await row.count() === 1, 'the pending comment is not in the queue');
  await Promise.all([page.waitForLoadState('load'),
    row.locator('button[value=approved]').click()]);
  await page.waitForURL(/\/admin\/comments/);
  const r = await fetchText(`${base}/articles/${id}`);
  assert(r.text.includes(COMMENT), 'the approved comment is not on the article');
}

function userAdd() {
  const r = spawnSync(BIN, ['user', 'add', EDITOR, '--role', 'editor', '--display-name', '編集 デスク',
    '--password-stdin', '--db', path.join(tmp, 'site.db')], { cwd: ROOT, input: PASSWORD + '\n',
    encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0 || sanitizerLines(r.stderr).length) {
    throw new Error(`kiji user add: ${r.status}\n${r.stderr}`);
  }
}

async function main() {
  const db = path.join(tmp, 'site.db');
  let up = false;
  try {
    await check('setup: demo site, editor account and server', async () => {
      assert(fs.existsSync(BIN), `kiji binary not found: ${BIN}`);
      buildDemo(db, { articles: 20, comments: 3, seed: 17 }, 'demo');
      kiji(['config', 'set', 'comments.moderation', 'all', '--db', db]);
      kiji(['config', 'set', 'comments.min_fill_seconds', '0', '--db', db]);
      userAdd();
      const port = await freePort();
      server = startServer(db, port, tmp);
      await waitForServer(server);
      up = true;
    });
    if (rep.failed) return;
    const base = `http://127.0.0.1:${server.port}`;
    const pngPath = path.join(tmp, 'eyecatch.png');
    fs.writeFileSync(pngPath, makePng(600, 315));
    await check('setup: launch chromium', async () => { context = await launchChromium(tmp); });
    if (!context) return;

    const page = await watchedPage(1280);
    let id = null;
    await check('admin: log in', () => login(page, base));
    await check('admin: write an article with an image', () => writeArticle(page, base, pngPath));
    await check('admin: live preview follows the form', () => livePreview(page));
    await check('admin: preview in a new tab (real template, nothing saved)', () => preview(page, base));
    await check('admin: publish', async () => { id = await publish(page, base); });
    if (id) {
      await check('site: the article on the front page, eyecatch sized', () => onFrontPage(page, base, id));
      await check('site: a reader comment is held for moderation', () => postComment(page, base, id));
    }
    for (const w of WIDTHS) {
      if (!id) break;
      await check(`admin@${w}: editor fits and is saved as a screenshot`, async () => {
        const p = await watchedPage(w);
        await p.goto(`${base}/admin/articles/${id}`);
        await noOverflow(p, 'editor');
        assert(await p.locator('#e-body').isVisible(), 'body field not visible');
        await shot(p, `admin-editor-${w}.png`);
        assert(p.errors.length === 0, p.errors.join('\n'));
        await p.close();
      });
      await check(`admin@${w}: moderation queue fits and is saved as a screenshot`, async () => {
        const p = await watchedPage(w);
        await p.goto(`${base}/admin/comments?status=pending`);
        await noOverflow(p, 'queue');
        await shot(p, `admin-comments-${w}.png`);
        assert(p.errors.length === 0, p.errors.join('\n'));
        await p.close();
      });
      await check(`admin@${w}: articles list and media library fit`, async () => {
        const p = await watchedPage(w);
        for (const u of ['/admin/articles', '/admin/media', `/admin/articles/${id}/revisions`]) {
          await p.goto(base + u);
          await noOverflow(p, u);
        }
        assert(p.errors.length === 0, p.errors.join('\n'));
        await p.close();
      });
    }
    if (id) await check('admin: approve the comment; it shows on the article', () => approve(page, base, id));
    await check('admin: no console or page errors', async () => {
      assert(page.errors.length === 0, page.errors.join('\n'));
    });
  } finally {
    if (context) await context.close().catch(() => {});
    await teardown(rep, server, up, tmp);
    server = null;
  }
}

runMain(rep, main, {
  timeoutMs: HARD_TIMEOUT_MS,
  what: 'the admin browser test',
  onTimeout: () => { if (server) server.proc.kill('SIGKILL'); },
});
