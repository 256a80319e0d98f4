// Browser test of reply notifications (issue 16) in Debian's Chromium: with
// mail on, the comment form shows the e-mail field and the
// 「返信をメールで受け取る」 box; a comment posted with both (through the
// page's script, without a reload) gets its confirmation mail, and the
// mailed link opens a page whose button confirms the address.
// Own demo site and server (KIJI_BIN, default build/asan/kiji) mailing to a
// few lines of SMTP server on a loopback port (below). Prints "ok name" /
// "FAIL name" and last "browser: N passed, N failed".

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  BIN, reporter, assert, runMain, sleep, freePort, kiji, buildDemo,
  startServer, waitForServer, stopServer, launchChromium, teardown
} from './lib.mjs';

const HARD_TIMEOUT_MS = 180_000;
const MIN_FILL_MS = 3300; // comments.min_fill_seconds (3) and a margin
const ADDRESS = `browser.${Date.now()}@example.com`;

const rep = reporter();
const { ok, fail, check } = rep;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiji-browser-mail-'));
let server = null;
let context = null;
let sink = null;

// A loopback SMTP server that keeps every message: enough of RFC 5321 for
// libcurl (no STARTTLS offered, which kiji allows on loopback only).
function smtpSink(port) {
  const mails = [];
  const srv = net.createServer((c) => {
    let buf = '';
    let data = null;
    let rcpt = [];
    c.setEncoding('latin1');
    c.write('220 sink ESMTP\r\n');
    c.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (data !== null) {
          if (line === '.') {
            mails.push({ rcpt, text: Buffer.from(data.join('\r\n'), 'latin1').toString('utf8') });
            data = null;
            c.write('250 queued\r\n');
          } else {
            data.push(line.startsWith('..') ? line.slice(1) : line);
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') c.write('250 sink\r\n');
        else if (verb === 'MAIL') { rcpt = []; c.write('250 OK\r\n'); }
        else if (verb === 'RCPT') { rcpt.push(line.split(':')[1].trim().replace(/[<>]/g, '')); c.write('250 OK\r\n'); }
        else if (verb === 'DATA') { data = []; c.write('354 go on\r\n'); }
        else if (verb === 'QUIT') { c.end('221 bye\r\n'); }
        else c.write('250 OK\r\n');
      }
    });
    c.on('error', () => {});
  });
  srv.listen(port, '127.0.0.1');
  return { srv, mails };
}

// The decoded body of a base64 text/plain message.
function bodyOf(text) {
  const i = text.indexOf('\r\n\r\n');
  return Buffer.from(text.slice(i + 4).replace(/\r\n/g, ''), 'base64').toString('utf8');
}

async function pickArticle(base) {
  const r = await fetch(`${base}/`, { signal: AbortSignal.timeout(15000) });
  const m = (await r.text()).match(/href="\/articles\/(\d+)"/);
  assert(m, 'no article on the front page');
  return Number(m[1]);
}

async function testSubscribe(base, id) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  let navs = 0;
  await check('the form has the e-mail field and the notify box', async () => {
    const r = await page.goto(`${base}/articles/${id}`, { waitUntil: 'load' });
    assert(r.status() === 200, `GET article: ${r.status()}`);
    const f = await page.evaluate(() => ({
      email: document.querySelector('#comment-form input[name=email]')?.type,
      notify: document.querySelector('#comment-form input[name=notify]')?.type,
      label: document.querySelector('#comment-form .notify')?.textContent.trim(),
    }));
    assert(f.email === 'email' && f.notify === 'checkbox', `fields ${JSON.stringify(f)}`);
    assert(f.label === '返信をメールで受け取る', `label ${JSON.stringify(f.label)}`);
  });
  page.on('framenavigated', (fr) => { if (fr === page.mainFrame()) navs++; });
  await page.evaluate(() => { window.__kijiMarker = 'still here'; });
  await check('posting with notify asks for a confirmation, without a reload', async () => {
    const before = await page.evaluate(() => document.querySelectorAll('li.comment').length);
    await page.locator('#comment-form input[name=nickname]').fill('通知希望');
    await page.locator('#comment-form textarea[name=body]').fill(`返信が欲しいコメント ${Date.now()}`);
    await page.locator('#comment-form input[name=email]').fill(ADDRESS);
    await page.locator('#comment-form input[name=notify]').check();
    await sleep(MIN_FILL_MS);
    await page.locator('#comment-form button[type=submit]').click();
    await page.waitForFunction((n) => document.querySelectorAll('li.comment').length > n, before);
    assert(await page.evaluate(() => window.__kijiMarker) === 'still here', 'the page was reloaded');
    assert(navs === 0 && errors.length === 0, `navigations ${navs}, errors ${errors.join('; ')}`);
    const t0 = Date.now();
    while (!sink.mails.some((m) => m.rcpt.includes(ADDRESS)) && Date.now() - t0 < 20_000) await sleep(200);
    assert(sink.mails.some((m) => m.rcpt.includes(ADDRESS)), 'no confirmation mail');
  });
  await check('the mailed link confirms with one button', async () => {
    const m = sink.mails.find((x) => x.rcpt.includes(ADDRESS));
    const link = bodyOf(m.text).match(/https?:\/\/\S+(\/mail\/confirm\?\S+)/);
    assert(link, 'no confirmation link in the mail');
    const r = await page.goto(`${base}${link[1]}`, { waitUntil: 'load' });
    assert(r.status() === 200, `GET confirm link: ${r.status()}`);
    await page.locator('form[method=post] button').click();
    await page.waitForLoadState('load');
    const h = await page.evaluate(() => document.querySelector('h1')?.textContent.trim());
    assert(h === '確認しました', `after the button: ${JSON.stringify(h)}`);
  });
  await page.close();
}

async function main() {
  const db = path.join(tmp, 'site.db');
  let up = false;
  try {
    let base = null;
    await check('setup: demo site, SMTP sink, settings and server', async () => {
      assert(fs.existsSync(BIN), `kiji binary not found: ${BIN}`);
      buildDemo(db, { articles: 6, comments: 2, seed: 31 });
      const sport = await freePort();
      sink = smtpSink(sport);
      for (const [k, v] of [['mail.smtp_url', `smtp://127.0.0.1:${sport}`],
        ['mail.from', 'kiji@example.com'], ['mail.batch_seconds', '0']]) {
        kiji(['config', '--db', db, 'set', k, v], 60_000);
      }
      const port = await freePort();
      server = startServer(db, port, tmp);
      await waitForServer(server);
      up = true;
      base = `http://127.0.0.1:${port}`;
    });
    if (!base) return;
    let id = null;
    await check('setup: pick an article', async () => { id = await pickArticle(base); });
    if (!id) return;
    await check('setup: launch chromium', async () => { context = await launchChromium(tmp); });
    if (!context) return;
    await testSubscribe(base, id);
  } finally {
    if (context) await context.close().catch(() => {});
    if (sink) sink.srv.close();
    await teardown(rep, server, up, tmp);
    server = null;
  }
}

runMain(rep, main, {
  timeoutMs: HARD_TIMEOUT_MS,
  what: 'test_mail.mjs',
  onTimeout: () => { if (server) server.proc.kill('SIGKILL'); },
});
