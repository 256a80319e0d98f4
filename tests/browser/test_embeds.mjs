// Browser test of content.embeds (issue 12) in Debian's Chromium: a site
// made by `kiji init` imports a tiny WordPress export whose post has embed
// links (URLs alone on a line, [embed]) to YouTube videos in each form
// (watch?v=, youtu.be/, m.youtube.com, /embed/), and others that must stay
// links: X, Vimeo, malformed ids (too short, too long, a bad character), a
// look-alike host, a port, /shorts/, and a YouTube link in an ordinary
// paragraph. With content.embeds=youtube (set before the server starts,
// as the CSP is read at start) kiji.js replaces exactly the four video
// links with iframes of the exact youtube-nocookie src and attributes, and
// the CSP lets them load (no console error). Then with the setting off
// (applied to the running server) nothing is replaced. Nothing is loaded
// from the network: youtube-nocookie.com is answered by a route with a
// stub page, every other outside request is aborted and counted as a
// failure. Prints "ok name" / "FAIL name", last "browser: N passed, N failed".

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BIN, reporter, assert, runMain, freePort, kiji, startServer, waitForServer,
  stopServer, launchChromium, teardown
} from './lib.mjs';

const HARD_TIMEOUT_MS = 150_000;
const NOCOOKIE = 'https://www.youtube-nocookie.com/embed/';

// [URL alone on a line, the video id kiji.js must take from it or null]
const EMBEDS = [
  ['https://www.youtube.com/watch?v=ex8fMxXJDJw', 'ex8fMxXJDJw'],
  ['https://x.com/kiji_test/status/1234567890', null],
  ['https://youtu.be/aB3_-x9Zq0Q', 'aB3_-x9Zq0Q'],
  ['https://m.youtube.com/watch?v=dQw4w9WgXcQ&t=30', 'dQw4w9WgXcQ'],
  ['https://youtu.be/short123', null],
  ['https://www.youtube.com/watch?v=ex8fMxXJDJwX', null],
  ['https://www.youtube.com/watch?v=ex8fMx.JDJw', null],
  ['https://youtube.com.evil.example/watch?v=ex8fMxXJDJw', null],
  ['https://www.youtube.com:8443/watch?v=ex8fMxXJDJw', null],
  ['https://www.youtube.com/shorts/ex8fMxXJDJw', null],
  ['https://vimeo.com/76979871', null],
];
const SHORTCODE = ['https://www.youtube.com/embed/M7lc1UVf-VE', 'M7lc1UVf-VE'];
const ALL = [...EMBEDS, SHORTCODE];
const PLAIN = 'https://youtu.be/ex8fMxXJDJw'; // in a paragraph: never a player

const BODY = ['Embeds follow.', ...EMBEDS.map((e) => e[0]),
  `[embed]${SHORTCODE[0]}[/embed]`,
  `Watch <a href="${PLAIN}">this video</a> here.`].join('\n\n');

const WXR = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<item><title>Embeds</title><dc:creator>taro</dc:creator>
<content:encoded><![CDATA[${BODY}]]></content:encoded>
<wp:post_id>10</wp:post_id><wp:post_name>embeds</wp:post_name>
<wp:post_date>2020-01-02 12:04:05</wp:post_date>
<wp:post_date_gmt>2020-01-02 03:04:05</wp:post_date_gmt>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>
</channel></rss>
`;

const rep = reporter();
const { ok, fail, check } = rep;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiji-browser-embeds-'));
let server = null;
let context = null;
const outside = []; // requests that would have left the machine
let stubbed = 0;    // youtube-nocookie requests answered by the stub

function eq(got, want, what) {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`${what}:\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`);
  }
}

// What each p.embed in the article holds, in order.
function embedsIn(page) {
  return page.$$eval('article.entry p.embed', (ps) => ps.map((p) => {
    const el = p.firstElementChild;
    if (!el) return { tag: null };
    const attrs = {};
    for (const a of el.attributes) attrs[a.name] = a.value;
    return { tag: el.tagName.toLowerCase(), n: p.children.length, attrs };
  }));
}

async function openArticle(url) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors };
}

async function testOn(url) {
  const { page, errors } = await openArticle(url);
  await check('on: the article carries data-embeds="youtube"', async () => {
    eq(await page.getAttribute('article.entry', 'data-embeds'), 'youtube', 'data-embeds');
  });
  await check('on: exactly the YouTube video links become nocookie iframes', async () => {
    await page.waitForFunction((n) => document.querySelectorAll('p.embed > iframe').length >= n,
      ALL.filter((e) => e[1]).length, { timeout: 10_000 });
    const got = await embedsIn(page);
    eq(got.length, ALL.length, 'p.embed count');
    ALL.forEach(([href, id], i) => {
      const g = got[i];
      assert(g.n === 1, `p.embed ${i} holds ${g.n} elements`);
      if (!id) {
        eq([g.tag, g.attrs.href], ['a', href], `${href} stays a link`);
        return;
      }
      eq(g.tag, 'iframe', `${href} becomes an iframe`);
      eq(g.attrs, {
        sandbox: 'allow-scripts allow-same-origin allow-presentation allow-popups',
        src: NOCOOKIE + id,
        title: 'YouTube',
        loading: 'lazy',
        referrerpolicy: 'strict-origin-when-cross-origin',
        allow: 'encrypted-media; picture-in-picture; fullscreen',
        width: '560',
        height: '315',
      }, `iframe for ${href}`);
    });
  });
  await check('on: a YouTube link in an ordinary paragraph stays a link', async () => {
    const n = await page.$$eval(`article.entry p:not(.embed) > a[href="${PLAIN}"]`, (a) => a.length);
    eq(n, 1, 'plain links');
    eq(await page.$$eval('iframe', (f) => f.length), ALL.filter((e) => e[1]).length, 'iframes on the page');
  });
  await check('on: the CSP lets the players load (stub answered, no error)', async () => {
    for (const f of await page.$$('p.embed > iframe')) await f.scrollIntoViewIfNeeded();
    const want = ALL.filter((e) => e[1]).map((e) => NOCOOKIE + e[1]).sort();
    const deadline = Date.now() + 10_000;
    let loaded = [];
    while (Date.now() < deadline) {
      loaded = page.frames().filter((f) => f.url().startsWith(NOCOOKIE)).map((f) => f.url()).sort();
      if (loaded.length === want.length) break;
      await page.waitForTimeout(100);
    }
    eq(loaded, want, 'frames loaded');
    for (const f of page.frames().filter((fr) => fr.url().startsWith(NOCOOKIE))) {
      eq(await f.title(), 'stub player', `title in ${f.url()}`);
    }
    assert(stubbed >= want.length, `stub answered ${stubbed} requests`);
    eq(errors, [], 'console/page errors');
  });
  await page.close();
}

async function testOff(url) {
  const before = stubbed;
  const { page, errors } = await openArticle(url);
  await check('off: no flag, nothing replaced, every embed stays a link', async () => {
    eq(await page.getAttribute('article.entry', 'data-embeds'), null, 'data-embeds');
    await page.waitForTimeout(300); // the script ran at DOMContentLoaded; give it room
    const got = await embedsIn(page);
    eq(got.map((g) => [g.tag, g.attrs.href]), ALL.map((e) => ['a', e[0]]), 'p.embed contents');
    eq(await page.$$eval('iframe', (f) => f.length), 0, 'iframes');
    eq(stubbed, before, 'requests to youtube-nocookie');
    eq(errors, [], 'console/page errors');
  });
  await page.close();
}

async function main() {
  const db = path.join(tmp, 'site.db');
  let up = false;
  let base = null;
  let url = null;
  try {
    await check('setup: kiji init, import, content.embeds=youtube, serve', async () => {
      assert(fs.existsSync(BIN), `kiji binary not found: ${BIN}`);
      const wxr = path.join(tmp, 'embeds.xml');
      fs.writeFileSync(wxr, WXR);
      kiji(['init', '--db', db]);
      kiji(['import-wxr', '--db', db, wxr]);
      kiji(['config', '--db', db, 'set', 'content.embeds', 'youtube']);
      const port = await freePort();
      server = startServer(db, port, tmp);
      await waitForServer(server);
      up = true;
      base = `http://127.0.0.1:${port}`;
      const r = await fetch(`${base}/?p=10`, { redirect: 'manual' });
      assert(r.status === 301, `/?p=10: ${r.status}`);
      url = base + r.headers.get('location');
      const stored = fs.readFileSync(db).includes('<iframe');
      assert(!stored, 'the database holds an <iframe');
    });
    if (rep.failed) return;
    await check('setup: launch chromium, keep it off the network', async () => {
      context = await launchChromium(tmp);
      await context.route('**/*', (route) => {
        const u = new URL(route.request().url());
        if (u.hostname === '127.0.0.1') return route.continue();
        if (u.origin === 'https://www.youtube-nocookie.com') {
          stubbed++;
          return route.fulfill({ status: 200, contentType: 'text/html',
            body: '<!doctype html><title>stub player</title><p>stub' });
        }
        outside.push(u.href);
        return route.abort();
      });
    });
    if (!context) return;
    await testOn(url);
    await check('off: set on the running server', async () => {
      kiji(['config', '--db', db, 'set', 'content.embeds', 'off']);
    });
    await testOff(url);
    await check('nothing requested from the network', async () => eq(outside, [], 'outside requests'));
  } finally {
    if (context) await context.close().catch(() => {});
    await teardown(rep, server, up, tmp);
    server = null;
  }
}

runMain(rep, main, {
  timeoutMs: HARD_TIMEOUT_MS,
  what: 'the embeds browser test',
  onTimeout: () => { if (server) server.proc.kill('SIGKILL'); },
});
