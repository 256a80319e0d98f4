#!/usr/bin/python3
"""Live comment fan-out load for bench/sse.sh: holds N listeners of one
article's event stream (GET /articles/<id>/events) on raw non-blocking
sockets, measures the server's RSS before and after they are open, then
posts one comment a second through the JSON API for S seconds and times,
for each comment, the moment its 201 answer came back (the comment is
committed by then) to the moment the last listener had its event.

    sse_load.py --port P --pid PID --article ID --listeners N --seconds S

Prints on stdout:
    SSE listeners=N opened=N rss0_kib=X rss1_kib=X per_listener_b=X
        posts=N complete=N p50_ms=X p99_ms=X max_ms=X first_p50_ms=X
        send_p50_ms=X server_cpu_ms=X client_cpu_ms=X
where complete counts the comments every listener received (exactly once),
p50/p99/max are over answer-to-last-listener times, first_p50 the same to
the first listener, send_p50 from the moment the post was sent;
server_cpu_ms and client_cpu_ms the CPU time each used per comment while
they were posted (the server's includes taking the post). The client
reads every socket itself (one process, epoll), so its own reading time is
part of the figures. Bounded: connecting gives up after 60 s, each comment
is waited for at most 10 s, nothing runs past S + 70 s. Stdlib only;
127.0.0.1 only.
"""

import argparse
import http.client
import json
import os
import re
import resource
import selectors
import socket
import sys
import time


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def cpu_s(pid):
    """User + system CPU seconds the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        f = f.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def token(port, article):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/api/articles/%d/comments" % article,
              headers={"Accept": "application/json"})
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        sys.exit("sse_load: GET token: HTTP %d" % r.status)
    return json.loads(body)["token"]


class Conn:
    __slots__ = ("sock", "buf", "open", "seen")

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.open = False
        self.seen = {}  # comment id -> times seen


ID_RE = re.compile(rb'event: comment\ndata: \{"id":(\d+),')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--article", type=int, required=True)
    ap.add_argument("--listeners", type=int, default=5000)
    ap.add_argument("--seconds", type=int, default=20)
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.listeners + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    tok = token(a.port, a.article)
    # the live thread and a first stream exist before the baseline
    warm = socket.create_connection(("127.0.0.1", a.port))
    warm.sendall(b"GET /articles/%d/events HTTP/1.1\r\nHost: x\r\n\r\n" % a.article)
    warm.recv(4096)
    time.sleep(0.5)
    rss0 = rss_kib(a.pid)

    sel = selectors.DefaultSelector()
    conns = []
    req = b"GET /articles/%d/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % a.article
    deadline = time.monotonic() + 60
    for _ in range(a.listeners):
        s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        s.sendall(req)
        s.setblocking(False)
        c = Conn(s)
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    pending = {}    # comment id -> (answer time, listeners still to get it)
    lat, first, sendlat = [], [], []

    def pump(until):
        while time.monotonic() < until:
            evs = sel.select(timeout=0.05)
            now = time.monotonic()
            for key, _ in evs:
                c = key.data
                try:
                    d = c.sock.recv(16384)
                except BlockingIOError:
                    continue
                if not d:
                    sel.unregister(c.sock)
                    continue
                c.buf += d
                if not c.open and b"\r\n\r\n" in c.buf and b"retry:" in c.buf:
                    c.open = c.buf.startswith(b"HTTP/1.1 200")
                # whole events only; a cut one waits for its end
                i = c.buf.rfind(b"\n\n")
                if i < 0:
                    continue
                done, c.buf = c.buf[:i + 2], c.buf[i + 2:]
                for m in ID_RE.finditer(done):
                    cid = int(m.group(1))
                    c.seen[cid] = c.seen.get(cid, 0) + 1
                    p = pending.get(cid)
                    if p is not None:
                        p[1] -= 1
                        if p[3] is None:
                            p[3] = now
                        if p[1] == 0:
                            lat.append(now - p[0])
                            sendlat.append(now - p[2])
                            first.append(p[3] - p[0])
                            del pending[cid]
            if not pending and all(c.open for c in conns):
                return

    pump(deadline)
    opened = sum(1 for c in conns if c.open)
    time.sleep(1.0)
    rss1 = rss_kib(a.pid)

    post = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
    posts = 0
    cpu0, own0 = cpu_s(a.pid), time.process_time()
    t_end = time.monotonic() + a.seconds
    k = 0
    while time.monotonic() < t_end:
        due = time.monotonic() + 1.0
        k += 1
        body = json.dumps({"nickname": "ベンチ", "token": tok, "parent": 0,
                           "body": "ライブ配信の測定コメント %d" % k},
                          ensure_ascii=False).encode()
        t_send = time.monotonic()
        post.request("POST", "/api/articles/%d/comments" % a.article, body,
                     {"Content-Type": "application/json", "Accept": "application/json",
                      "X-Forwarded-For": "10.9.%d.%d" % (k // 250, k % 250 + 1)})
        r = post.getresponse()
        rb = r.read()
        t_ans = time.monotonic()
        if r.status != 201:
            sys.exit("sse_load: post %d: HTTP %d %s" % (k, r.status, rb[:200]))
        posts += 1
        cid = json.loads(rb)["id"]
        # events read before the answer came count from the answer (0)
        got = sum(1 for c in conns if c.seen.get(cid))
        pending[cid] = [t_ans, opened - got, t_send, t_ans if got else None]
        if pending[cid][1] <= 0:
            lat.append(0.0)
            sendlat.append(t_ans - t_send)
            first.append(0.0)
            del pending[cid]
        pump(min(due, time.monotonic() + 10))
        wait = due - time.monotonic()
        if wait > 0:  # a comment a second, however fast it went out
            time.sleep(wait)
    pump(time.monotonic() + 10)
    cpu1, own1 = cpu_s(a.pid), time.process_time()
    post.close()
    complete = sum(1 for cid in set(x for c in conns for x in c.seen)
                   if sum(1 for c in conns if c.seen.get(cid) == 1) == opened)
    for c in conns:
        c.sock.close()
    warm.close()

    def pct(v, p):
        if not v:
            return float("nan")
        v = sorted(v)
        return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] * 1000

    print("SSE listeners=%d opened=%d rss0_kib=%d rss1_kib=%d per_listener_b=%d "
          "posts=%d complete=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f first_p50_ms=%.1f "
          "send_p50_ms=%.1f server_cpu_ms=%.1f client_cpu_ms=%.1f" % (
              a.listeners, opened, rss0, rss1,
              (rss1 - rss0) * 1024 // max(1, opened), posts, complete,
              pct(lat, 50), pct(lat, 99), pct(lat, 100), pct(first, 50), pct(sendlat, 50),
              (cpu1 - cpu0) * 1000 / max(1, posts), (own1 - own0) * 1000 / max(1, posts)))


if __name__ == "__main__":
    main()
