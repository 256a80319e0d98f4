// Helpers shared by the browser test scripts (test_article.mjs,
// test_comments.mjs): paths, the "ok name" / "FAIL name" reporter, the kiji
// binary (demo site, serve), a free loopback port and Debian's Chromium.
// Nothing here keeps state between calls: the reporter and each server are
// objects the caller holds.

import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const BIN = path.resolve(ROOT, process.env.KIJI_BIN || 'build/asan/kiji');
export const SANITIZER = ['ERROR: AddressSanitizer', 'runtime error:', 'LeakSanitizer'];
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];

// ---- reporting --------------------------------------------------------------------------

// Counts and prints results: ok(name), fail(name, why), check(name, async fn)
// (true when fn did not throw); passed and failed are the counts so far.
export function reporter() {
  const r = { passed: 0, failed: 0 };
  r.ok = (name) => { r.passed++; console.log(`ok ${name}`); };
  r.fail = (name, why) => {
    r.failed++;
    console.log(`FAIL ${name}`);
    if (why) console.log(String(why).split('\n').map((l) => '  ' + l).join('\n'));
  };
  r.check = async (name, fn) => {
    try {
      await fn();
      r.ok(name);
      return true;
    } catch (e) {
      r.fail(name, e && e.stack ? e.stack : e);
      return false;
    }
  };
  r.summary = () => `browser: ${r.passed} passed, ${r.failed} failed`;
  return r;
}

export function assert(cond, msg) { if (!cond) throw new Error(msg); }

// Runs main(): an exception is the failure "unexpected error"; then prints
// the summary line and exits (1 if anything failed). Past timeoutMs it fails
// "hard timeout" (`${what} ran over N s`), calls onTimeout (kill children),
// prints the summary and exits 1.
export function runMain(rep, main, { timeoutMs, what, onTimeout = () => {} }) {
  const watchdog = setTimeout(() => {
    rep.fail('hard timeout', `${what} ran over ${timeoutMs / 1000} s`);
    onTimeout();
    console.log(rep.summary());
    process.exit(1);
  }, timeoutMs);

  main()
    .catch((e) => rep.fail('unexpected error', e && e.stack ? e.stack : e))
    .finally(() => {
      clearTimeout(watchdog);
      console.log(rep.summary());
      process.exit(rep.failed ? 1 : 0);
    });
}

// ---- small things -----------------------------------------------------------------------

export function sanitizerLines(text) {
  return text.split('\n').filter((l) => SANITIZER.some((m) => l.includes(m)));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function fetchText(url, ms = 15000) {
  const r = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(ms) });
  return { status: r.status, text: await r.text() };
}

// ---- kiji -------------------------------------------------------------------------------

// Runs `kiji args...` to the end; returns its stdout. Throws if it did not
// exit 0 or wrote a sanitizer report (the message names it `kiji ${what}`).
export function kiji(args, timeout = 300_000, what = args.join(' ')) {
  const r = spawnSync(BIN, args, { cwd: ROOT, timeout, encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new Error(`kiji ${args[0]}: ${r.error.message}`);
  if (r.status !== 0 || sanitizerLines(r.stderr).length) {
    throw new Error(`kiji ${what} exited ${r.status}:\n${r.stderr.slice(-3000)}`);
  }
  return r.stdout;
}

// `kiji demo` into db, "now" being the current minute (UTC).
export function buildDemo(db, { articles, comments, seed }, what) {
  const now = new Date();
  now.setUTCSeconds(0, 0);
  const nowArg = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const args = ['demo', '--db', db, '--articles', String(articles), '--comments', String(comments),
    '--seed', String(seed), '--now', nowArg];
  return kiji(args, 300_000, what);
}

// Spawns `kiji serve` on 127.0.0.1:port, stderr to dir/serve.stderr. Returns
// the handle {proc, errPath, port, exit} (exit: {code, sig} once it exited)
// at once; waitForServer(handle) waits until it answers.
export function startServer(db, port, dir) {
  const errPath = path.join(dir, 'serve.stderr');
  const errFd = fs.openSync(errPath, 'w');
  const proc = spawn(BIN, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`], {
    cwd: ROOT, stdio: ['ignore', 'ignore', errFd] });
  fs.closeSync(errFd);
  const srv = { proc, errPath, port, exit: null };
  proc.on('exit', (code, sig) => { srv.exit = { code, sig }; });
  return srv;
}

export async function waitForServer(srv) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (srv.exit) {
      throw new Error(`kiji serve exited (${JSON.stringify(srv.exit)}):\n` +
        fs.readFileSync(srv.errPath, 'utf8').slice(-3000));
    }
    try {
      await fetchText(`http://127.0.0.1:${srv.port}/`, 2000);
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`kiji serve did not answer on port ${srv.port} within 20 s`);
}

// SIGTERM (SIGKILL after 5 s) and the problems found: an early exit, a
// non-zero exit, a sanitizer report on stderr. [] for a null handle.
export async function stopServer(srv) {
  if (!srv) return [];
  const problems = [];
  if (srv.exit) {
    problems.push(`kiji serve had exited before the end: ${JSON.stringify(srv.exit)}`);
  } else {
    srv.proc.kill('SIGTERM');
    const t0 = Date.now();
    while (!srv.exit && Date.now() - t0 < 5000) await sleep(50);
    if (!srv.exit) {
      srv.proc.kill('SIGKILL');
      while (!srv.exit) await sleep(50);
      problems.push('kiji serve ignored SIGTERM for 5 s; killed');
    } else if (srv.exit.code !== 0) {
      problems.push(`kiji serve exit after SIGTERM: ${JSON.stringify(srv.exit)} (want 0)`);
    }
  }
  const err = fs.existsSync(srv.errPath) ? fs.readFileSync(srv.errPath, 'utf8') : '';
  if (sanitizerLines(err).length) problems.push('sanitizer report:\n' + err.slice(-6000));
  return problems;
}

// ---- chromium ---------------------------------------------------------------------------

// Debian's Chromium, headless, with its profile in dir/profile.
// The end of every test file: the server stopped and its exit checked
// (clean, no sanitizer report) when it had come up; the temp dir removed.
export async function teardown(rep, server, up, tmp) {
  const problems = await stopServer(server);
  if (up) {
    if (problems.length) rep.fail('teardown: clean exit, no sanitizer reports', problems.join('\n'));
    else rep.ok('teardown: clean exit, no sanitizer reports');
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

export function launchChromium(dir) {
  return chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}
