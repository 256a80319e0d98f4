#!/usr/bin/python3
"""Soak (issue 13): one `kiji serve` on a demo site, legitimate readers,
posters and likers together with every abuse case at once, for a bounded
time; prints readers' latency, RSS and open files over time.

  tests/soak/soak.py [--duration 600] [--kiji build/rel/kiji] [--every 30]

`make soak` runs ten minutes on the release build (AddressSanitizer's
quarantine grows RSS by design, so figures come from the release build);
tests/integration/test_soak.py runs one minute on the ASan build for
correctness only. Stdlib only.

Legitimate clients come through 127.0.0.1, a trusted proxy, each with an
X-Forwarded-For address of its own (as readers behind nginx would):
  readers  keep-alive GETs of the front page, articles, categories, feeds,
           search; every answer must be 200 or 304
  posters  open an article, post a comment with its form token: 303
  likers   open an article, like a comment: 200
Abusers connect from 127.0.0.2 to 127.0.0.5 (other addresses, no proxy):
  slowloris    headers one byte every few seconds
  idle         keep-alive connections opened and left alone
  oversized    a 100 MB Content-Length on the comment form
  malformed    garbage request heads
  flood        ?page=N, ?x=random, ?replytocom=N on cached pages
  marks        comment bodies of 'a' + 64k combining marks
  stuffing     cookieless likes without Origin; view beacons with random
               User-Agents
Abusers may get any answer but a 500 (an internal error) or a dead
server. The last line is
`soak: N passed, N failed`: the checks are no 5xx and no failed request
for legitimate clients, the server alive, a clean exit on SIGTERM.
"""

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTICLES = 120


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.lat = []            # readers' latencies (s) in this interval
        self.counts = {}         # name -> count
        self.bad = []            # legitimate failures (first few kept)
        self.nbad = 0

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def fail(self, what):
        with self.lock:
            self.nbad += 1
            if len(self.bad) < 20:
                self.bad.append(what)


class Soak:
    def __init__(self, kiji, duration, every):
        self.kiji = kiji
        self.duration = duration
        self.every = every
        self.stop = threading.Event()
        self.st = Stats()
        self.tmp = tempfile.mkdtemp(prefix="kiji-soak-")
        self.db = os.path.join(self.tmp, "site.db")
        self.port = free_port()
        self.proc = None
        self.ip_n = 0
        self.ip_lock = threading.Lock()

    # ---- the server ----

    def cli(self, *args):
        r = subprocess.run([self.kiji] + list(args) + ["--db", self.db],
                           capture_output=True, timeout=300, cwd=ROOT)
        if r.returncode != 0:
            raise SystemExit("soak: kiji %s failed: %s" % (args[0], r.stderr.decode()[-2000:]))
        return r.stdout.decode()

    def start(self):
        self.cli("demo", "--articles", str(ARTICLES), "--comments", "20", "--seed", "5")
        for k, v in (("http.trusted_proxies", "127.0.0.1"),
                     ("comments.moderation", "none"),
                     ("http.header_timeout", "5"),
                     # the access log stays on under abuse, but at one line
                     # in 100 a ten-minute run does not fill the disk
                     ("log.access_sample", "100")):
            self.cli("config", "set", k, v)
        self.log = open(os.path.join(self.tmp, "serve.log"), "wb")
        self.proc = subprocess.Popen(
            [self.kiji, "serve", "--db", self.db, "--listen", "127.0.0.1:%d" % self.port],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.get_status("/") == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("soak: the server did not answer")
        self.origin = "http://127.0.0.1:%d" % self.port
        import sqlite3
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        now = int(time.time())
        self.aids = [r[0] for r in con.execute(
            "SELECT id FROM articles WHERE kind='post' AND status='published'"
            " AND published_at <= ? AND comments_open = 1 ORDER BY id", (now,))]
        self.cids = [r[0] for r in con.execute(
            "SELECT id FROM comments WHERE status='approved' AND type='comment'"
            " ORDER BY id LIMIT 200")]
        self.cats = [r[0] for r in con.execute("SELECT slug FROM categories")]
        con.close()

    def get_status(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            return r.status
        finally:
            c.close()

    def next_ip(self):
        with self.ip_lock:
            self.ip_n += 1
            n = self.ip_n
        return "10.%d.%d.%d" % ((n >> 16) & 255, (n >> 8) & 255, n & 255 or 1)

    def proc_figures(self):
        pid = self.proc.pid
        rss = 0
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
            fds = len(os.listdir("/proc/%d/fd" % pid))
        except OSError:
            return None, None
        return rss / 1024, fds

    def cache_mib(self):
        """The page cache's bytes from /metrics (loopback may read it):
        what part of RSS is the cache filling towards its budget."""
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            c.request("GET", "/metrics")
            body = c.getresponse().read().decode("utf-8", "replace")
            c.close()
        except (OSError, http.client.HTTPException):
            return 0
        for line in body.splitlines():
            if line.startswith("kiji_cache_bytes "):
                return float(line.split()[1]) / (1 << 20)
        return 0

    # ---- legitimate clients ----

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)

    def reader(self, seed):
        rnd = random.Random(seed)
        ip = self.next_ip()
        c = self.conn()
        while not self.stop.is_set():
            k = rnd.random()
            if k < 0.6:
                path = "/articles/%d" % rnd.choice(self.aids[:30])
            elif k < 0.7:
                path = "/"
            elif k < 0.8:
                path = "/category/%s" % rnd.choice(self.cats)
            elif k < 0.9:
                path = "/feed"
            else:
                path = "/search?q=" + urllib.parse.quote(rnd.choice(["政府", "経済", "記事"]))
            t0 = time.monotonic()
            try:
                c.request("GET", path, headers={"X-Forwarded-For": ip})
                r = c.getresponse()
                r.read()
            except (OSError, http.client.HTTPException) as e:
                if not self.stop.is_set():
                    self.st.fail("reader %s: %r" % (path, e))
                c.close()
                c = self.conn()
                continue
            dt = time.monotonic() - t0
            with self.st.lock:
                self.st.lat.append(dt)
            self.st.add("read")
            if r.status not in (200, 304):
                self.st.fail("reader %s: %d" % (path, r.status))
            if r.getheader("Connection", "").lower() == "close":
                c.close()
                c = self.conn()
        c.close()

    def visit(self, aid, ip):
        """Opens an article as a browser does: (cookies, form token)."""
        c = self.conn()
        try:
            c.request("GET", "/articles/%d" % aid, headers={"X-Forwarded-For": ip})
            r = c.getresponse()
            body = r.read().decode("utf-8", "replace")
            cookies = "; ".join(v.split(";", 1)[0] for k, v in r.getheaders()
                                if k.lower() == "set-cookie")
            m = re.search(r'name="token" value="([^"]+)"', body)
            return r.status, cookies, (m.group(1) if m else "")
        finally:
            c.close()

    def post(self, path, fields, ip, cookies="", accept=None):
        body = urllib.parse.urlencode(fields).encode()
        h = {"Content-Type": "application/x-www-form-urlencoded",
             "X-Forwarded-For": ip, "Origin": self.origin}
        if cookies:
            h["Cookie"] = cookies
        if accept:
            h["Accept"] = accept
        c = self.conn()
        try:
            c.request("POST", path, body=body, headers=h)
            r = c.getresponse()
            r.read()
            return r.status
        finally:
            c.close()

    def poster(self, seed):
        rnd = random.Random(seed)
        n = 0
        while not self.stop.wait(rnd.uniform(0.2, 0.6)):
            ip = self.next_ip()
            aid = rnd.choice(self.aids[:30])
            try:
                st, cookies, tok = self.visit(aid, ip)
                n += 1
                status = self.post("/articles/%d/comments" % aid,
                                   {"nickname": "soak", "body": "ソーク %d-%d" % (seed, n),
                                    "parent": "0", "token": tok, "url": "", "opened": ""},
                                   ip, cookies)
            except (OSError, http.client.HTTPException) as e:
                if not self.stop.is_set():
                    self.st.fail("poster: %r" % (e,))
                continue
            self.st.add("post")
            if status != 303:
                self.st.fail("poster: %d" % status)

    def liker(self, seed):
        rnd = random.Random(seed)
        while not self.stop.wait(rnd.uniform(0.1, 0.3)):
            ip = self.next_ip()
            aid = rnd.choice(self.aids[:30])
            try:
                st, cookies, _ = self.visit(aid, ip)
                cid = rnd.choice(self.cids)
                status = self.post("/comments/%d/like" % cid, {}, ip, cookies,
                                   accept="application/json")
            except (OSError, http.client.HTTPException) as e:
                if not self.stop.is_set():
                    self.st.fail("liker: %r" % (e,))
                continue
            self.st.add("like")
            if status != 200:
                self.st.fail("liker: %d" % status)

    # ---- abusers (answers other than 5xx are fine) ----

    def sock(self, src):
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", self.port))
        return s

    def answer_status(self, s):
        """The status of the first answer on s (0: closed without one)."""
        data = b""
        try:
            while b"\r\n" not in data and len(data) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            return 0
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        return int(m.group(1)) if m else 0

    def abuse_status(self, what, status):
        self.st.add(what)
        if status == 500:  # 505 for HTTP/9.9 and 503 when shedding are answers
            self.st.fail("%s got %d" % (what, status))

    def slowloris(self, src):
        socks = []
        while not self.stop.is_set():
            while len(socks) < 40:
                try:
                    s = self.sock(src)
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                    socks.append(s)
                except OSError:
                    break
            self.stop.wait(2)
            alive = []
            for s in socks:
                try:
                    s.sendall(b"X")
                    alive.append(s)
                except OSError:
                    s.close()
                    self.st.add("slowloris_cut")
            socks = alive
        for s in socks:
            s.close()

    def idle(self, src):
        socks = []
        while not self.stop.is_set():
            while len(socks) < 200:
                try:
                    s = self.sock(src)
                    s.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                    socks.append(s)
                except OSError:
                    break
            self.stop.wait(3)
            self.st.add("idle_held", len(socks))
            keep = []
            for s in socks:
                s.setblocking(False)
                try:
                    if s.recv(65536) == b"":
                        s.close()
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    s.close()
                    continue
                keep.append(s)
            socks = keep
        for s in socks:
            s.close()

    def oversized(self, src):
        rnd = random.Random(7)
        while not self.stop.wait(0.3):
            try:
                s = self.sock(src)
                s.sendall(b"POST /articles/%d/comments HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/x-www-form-urlencoded\r\n"
                          b"Content-Length: 100000000\r\n\r\n" % rnd.choice(self.aids))
                try:
                    s.sendall(b"body=" + b"x" * 65536)
                except OSError:
                    pass
                self.abuse_status("oversized", self.answer_status(s))
                s.close()
            except OSError:
                pass

    def malformed(self, src):
        rnd = random.Random(11)
        heads = [b"GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                 b"\x00\x01\x02 garbage\r\n\r\n",
                 b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n" % (b"a" * 20000),
                 b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                 b"GET / HTTP/9.9\r\n\r\n",
                 b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 70000 + b"\r\n\r\n"]
        while not self.stop.wait(0.05):
            try:
                s = self.sock(src)
                s.sendall(rnd.choice(heads))
                self.abuse_status("malformed", self.answer_status(s))
                s.close()
            except OSError:
                pass

    def flood(self, src):
        rnd = random.Random(13)
        while not self.stop.is_set():
            aid = rnd.choice(self.aids)
            path = rnd.choice(["/articles/%d?page=%d" % (aid, rnd.randrange(10**7)),
                               "/?x=%d" % rnd.randrange(10**9),
                               "/feed?page=%d" % rnd.randrange(10**7),
                               "/articles/%d?replytocom=%d" % (aid, rnd.randrange(10**6))])
            try:
                s = self.sock(src)
                s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                          % path.encode())
                self.abuse_status("flood", self.answer_status(s))
                s.close()
            except OSError:
                pass

    def marks(self, src):
        body = urllib.parse.urlencode({
            "nickname": "a" + "\u0301" * 4000, "body": "a" + "\u0301\u0316" * 32768,
            "parent": "0", "token": "x", "url": "", "opened": ""}).encode()
        while not self.stop.wait(0.5):
            try:
                s = self.sock(src)
                s.sendall(b"POST /articles/%d/comments HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/x-www-form-urlencoded\r\n"
                          b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                          % (self.aids[0], len(body)) + body)
                self.abuse_status("marks", self.answer_status(s))
                s.close()
            except OSError:
                pass

    def stuffing(self, src):
        rnd = random.Random(17)
        while not self.stop.wait(0.02):
            if rnd.random() < 0.5:
                req = b"POST /comments/%d/like HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n" \
                      b"Connection: close\r\n\r\n" % rnd.choice(self.cids)
            else:
                req = b"POST /views/%d HTTP/1.1\r\nHost: x\r\nUser-Agent: bot-%d\r\n" \
                      b"Content-Length: 0\r\nConnection: close\r\n\r\n" % (
                          rnd.choice(self.aids), rnd.randrange(10**9))
            try:
                s = self.sock(src)
                s.sendall(req)
                self.abuse_status("stuffing", self.answer_status(s))
                s.close()
            except OSError:
                pass

    # ---- the run ----

    def run(self):
        self.start()
        t0 = time.monotonic()
        threads = []

        def spawn(fn, *a):
            t = threading.Thread(target=fn, args=a, daemon=True)
            t.start()
            threads.append(t)

        for i in range(4):
            spawn(self.reader, i)
        for i in range(2):
            spawn(self.poster, 100 + i)
        spawn(self.liker, 200)
        spawn(self.slowloris, "127.0.0.2")
        spawn(self.idle, "127.0.0.3")
        spawn(self.oversized, "127.0.0.4")
        spawn(self.malformed, "127.0.0.4")
        spawn(self.flood, "127.0.0.5")
        spawn(self.marks, "127.0.0.5")
        spawn(self.stuffing, "127.0.0.5")
        print("soak: %d s against %s (pid %d), figures every %d s" % (
            self.duration, self.kiji, self.proc.pid, self.every))
        print("%6s %8s %8s %8s %8s %9s %9s %7s %s" % (
            "t(s)", "reads/s", "p50 ms", "p99 ms", "max ms", "RSS MiB",
            "cache MiB", "fds", "legit failures"))
        ok = True
        last = t0
        while True:
            left = t0 + self.duration - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(self.every, left))
            if self.proc.poll() is not None:
                self.st.fail("the server died (exit %s)" % self.proc.returncode)
                break
            now = time.monotonic()
            with self.st.lock:
                lat = sorted(self.st.lat)
                self.st.lat = []
                nbad = self.st.nbad
            rss, fds = self.proc_figures()

            def q(p):
                return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0
            print("%6.0f %8.0f %8.1f %8.1f %8.1f %9.1f %9.1f %7s %d" % (
                now - t0, len(lat) / max(now - last, 1e-9), q(0.5), q(0.99),
                lat[-1] * 1000 if lat else 0, rss or 0, self.cache_mib(),
                fds, nbad), flush=True)
            last = now
        self.stop.set()
        for t in threads:
            t.join(20)
        alive = self.proc.poll() is None
        if alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = "timeout"
        else:
            rc = self.proc.returncode
        self.log.close()
        with open(os.path.join(self.tmp, "serve.log"), "rb") as f:
            log = f.read().decode("utf-8", "replace")
        print("counts: " + ", ".join("%s %d" % kv for kv in sorted(self.st.counts.items())))
        checks = [
            ("no 5xx or failed request for legitimate clients", self.st.nbad == 0,
             "; ".join(self.st.bad[:8])),
            ("legitimate traffic flowed", all(self.st.counts.get(k, 0) > 0
                                              for k in ("read", "post", "like")), ""),
            ("the server stayed up", alive, ""),
            ("clean exit on SIGTERM", rc == 0, "exit %s" % rc),
            ("no sanitizer report", not any(m in log for m in (
                "AddressSanitizer", "runtime error:", "LeakSanitizer")), log[-2000:]),
        ]
        npass = nfail = 0
        for name, good, why in checks:
            print("%s %s%s" % ("ok  " if good else "FAIL", name, "" if good or not why else ": " + why))
            npass += good
            nfail += not good
        if nfail == 0 and not os.environ.get("KIJI_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("soak: files kept in %s" % self.tmp)
        print("soak: %d passed, %d failed" % (npass, nfail))
        return nfail == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=600)
    ap.add_argument("--every", type=int, default=30)
    ap.add_argument("--kiji", default=os.path.join(ROOT, "build/rel/kiji"))
    a = ap.parse_args()
    ok = Soak(os.path.abspath(a.kiji), a.duration, a.every).run()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
