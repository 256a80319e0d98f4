#!/usr/bin/python3
"""Paced comment poster for bench/breaking.sh: posts comments to one
article through the JSON API (POST /api/articles/<id>/comments) at a
fixed rate for a bounded time, as readers of a breaking story would.

    poster.py --port P --article ID --rate N --seconds S [--token T]

Pacing is a shared schedule (a token bucket refilled at --rate, burst of
one): post k is due at start + k/rate; a worker that is late sends at
once, and a post more than a second overdue is skipped and counted as
missed, so a slow server shows as a rate below target, never as a burst
afterwards. Several keep-alive connections (one per worker thread) keep
the rate when one answer takes longer than the interval. Nothing is sent
after --seconds; a request that hangs gives up after 10 s.

Prints one line on stdout:
    POSTER target=R seconds=S ok=N other=N errors=N missed=N rate=R
           p50_ms=X p99_ms=X
where ok counts 201 answers (comments accepted) and rate is ok/seconds.
Stdlib only; 127.0.0.1 only.
"""

import argparse
import http.client
import json
import sys
import threading
import time


def fetch_token(port, article):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", "/api/articles/%d/comments" % article,
                  headers={"Accept": "application/json"})
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit("poster: GET token: HTTP %d" % r.status)
        return json.loads(body)["token"]
    finally:
        c.close()


class Schedule:
    """Hands out post slots: (index, due time) or None when time is up."""

    def __init__(self, rate, seconds):
        self.interval = 1.0 / rate
        self.lock = threading.Lock()
        self.k = 0
        self.missed = 0
        self.start = time.monotonic()
        self.end = self.start + seconds

    def take(self):
        with self.lock:
            now = time.monotonic()
            while True:
                due = self.start + self.k * self.interval
                if due >= self.end:
                    return None
                self.k += 1
                if now - due <= 1.0:
                    return self.k, due
                self.missed += 1


def worker(port, article, token, sched, stats, tag):
    conn = None
    cookies = {}
    while True:
        slot = sched.take()
        if slot is None:
            break
        k, due = slot
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        body = json.dumps({
            "nickname": "速報読者%d" % (k % 97),
            "body": "%s コメント%d: 続報を待っています。現地の状況はどうなっているのか。" % (tag, k),
            "token": token,
            "parent": 0,
        }, ensure_ascii=False).encode("utf-8")
        hdrs = {"Content-Type": "application/json", "Accept": "application/json"}
        if cookies:
            hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in cookies.items())
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/api/articles/%d/comments" % article, body, hdrs)
            r = conn.getresponse()
            r.read()
            for k_, v in r.getheaders():
                if k_.lower() == "set-cookie":
                    name, _, val = v.split(";", 1)[0].partition("=")
                    cookies[name.strip()] = val.strip()
            dt = time.monotonic() - t0
            with stats["lock"]:
                stats["lat"].append(dt)
                if r.status == 201:
                    stats["ok"] += 1
                else:
                    stats["other"] += 1
                    stats["codes"][r.status] = stats["codes"].get(r.status, 0) + 1
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            with stats["lock"]:
                stats["errors"] += 1
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--article", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--token", default="")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--tag", default="bench")
    a = ap.parse_args()
    if not (0 < a.rate <= 10000 and 0 < a.seconds <= 600):
        raise SystemExit("poster: --rate in (0, 10000], --seconds in (0, 600]")
    token = a.token or fetch_token(a.port, a.article)
    # One connection per ~8 posts/s: enough that answers of up to ~100 ms
    # keep the rate.
    n = a.workers or max(2, min(32, int(a.rate / 8) + 1))
    stats = {"lock": threading.Lock(), "ok": 0, "other": 0, "errors": 0,
             "lat": [], "codes": {}}
    sched = Schedule(a.rate, a.seconds)
    ts = [threading.Thread(target=worker, daemon=True,
                           args=(a.port, a.article, token, sched, stats, a.tag))
          for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=a.seconds + 30)
    secs = max(time.monotonic() - sched.start, 1e-9)
    lat = sorted(stats["lat"])

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0.0
    codes = ",".join("%d:%d" % kv for kv in sorted(stats["codes"].items()))
    print("POSTER target=%g seconds=%.2f ok=%d other=%d errors=%d missed=%d "
          "rate=%.1f p50_ms=%.1f p99_ms=%.1f workers=%d codes=%s" % (
              a.rate, secs, stats["ok"], stats["other"], stats["errors"],
              sched.missed, stats["ok"] / secs, pct(0.5), pct(0.99), n,
              codes or "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
