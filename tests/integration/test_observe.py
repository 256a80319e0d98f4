"""Operating kiji (issue 17, logs, metrics, health): the access log (combined
and JSON lines, client addresses through a trusted proxy, masked, sampled,
no secrets, hostile bytes escaped, reopened on SIGHUP), /metrics parsed as
Prometheus text and its counters moving with requests, /metrics refused to
addresses outside metrics.allow (judged on the real peer unless it is a
trusted proxy), --metrics-listen, /healthz and /readyz (503 while the
database cannot be written), and the --theme directory read again on SIGHUP
while requests are being served."""

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import kiji
import test_comments as tc
import admin_client
from kiji import Visitor

CLF_RE = re.compile(
    r'^(?P<ip>\S+) - - \[(?P<time>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000)\] '
    r'"(?P<req>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-) '
    r'"(?P<ref>[^"]*)" "(?P<ua>[^"]*)"$')


# ---- helpers ---------------------------------------------------------------------

def osrv():
    """A server logging to a file beside its database, behind a trusted
    proxy (127.0.0.1), so tests can send client addresses."""
    s = kiji.server("observe", articles=6, comments=2, seed=17, settings={
        "http.trusted_proxies": "127.0.0.1",
        "comments.rate_per_minute": "0",
        "likes.rate_per_minute": "0",
    }, start=False)
    if s.proc is None:
        s.config_set("log.access_file", str(s.tmp / "access.log"))
        s.start()
    return s


def access_path(s):
    return s.tmp / "access.log"


def read_lines(path, since=0, want=None, timeout=5.0):
    """Lines of path after byte offset since (whole lines only); waits
    until there are at least want of them (the server writes at the end
    of its loop turn, right after answering)."""
    deadline = time.monotonic() + timeout
    while True:
        data = path.read_bytes()[since:] if path.exists() else b""
        lines = data.decode("utf-8", "strict").split("\n")
        assert lines[-1] == "", "a partial line at the end of the log: %r" % lines[-1][:200]
        lines = lines[:-1]
        if want is None or len(lines) >= want or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def size_of(path):
    return path.stat().st_size if path.exists() else 0


_marks = [0]


def log_mark(s, path=None):
    """The log's length once every earlier line is in: a request of our
    own is sent and waited for (lines are written at the end of the
    event loop's turn, after the answer went out)."""
    path = path or access_path(s)
    _marks[0] += 1
    tag = "utm_source=mark%d" % _marks[0]
    s.get("/healthz?" + tag)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        data = path.read_bytes() if path.exists() else b""
        i = data.find(tag.encode())
        if i >= 0 and data.find(b"\n", i) >= 0:
            return data.find(b"\n", i) + 1
        time.sleep(0.05)
    raise AssertionError("the mark request was not logged")


def configure(s, key, value):
    """kiji config set, then one request so the server has read it (the
    settings are refreshed before the next request is handled)."""
    s.config_set(key, value)
    s.get("/healthz")


def parse_prom(text):
    """A small parser of the Prometheus text format 0.0.4: returns
    (samples, types) with samples {(name, frozenset(labels)): value}.
    Asserts what the format requires: HELP and TYPE before a family's
    samples, each family once, label values quoted and escaped."""
    samples, types, seen_family, order = {}, {}, set(), []
    label_re = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')
    for ln in text.split("\n"):
        if ln == "":
            continue
        if ln.startswith("# HELP "):
            name = ln.split(" ", 3)[2]
            assert name not in seen_family, "family %s twice" % name
            seen_family.add(name)
            continue
        if ln.startswith("# TYPE "):
            _, _, name, typ = ln.split(" ")
            assert typ in ("counter", "gauge", "histogram", "summary", "untyped"), ln
            types[name] = typ
            order.append(name)
            continue
        assert not ln.startswith("#"), "stray comment: %r" % ln
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', ln)
        assert m, "not a sample line: %r" % ln
        name, labels_s, value = m.group(1), m.group(3) or "", m.group(4)
        labels = {}
        pos = 0
        while pos < len(labels_s):
            lm = label_re.match(labels_s, pos)
            assert lm, "bad labels in %r" % ln
            labels[lm.group(1)] = re.sub(r'\\(.)', lambda x: {"n": "\n"}.get(x.group(1), x.group(1)),
                                         lm.group(2))
            pos = lm.end()
        base = re.sub(r'_(bucket|sum|count)$', "", name)
        fam = name if name in types else base
        assert fam in types, "sample %s before its TYPE" % name
        assert order[-1] == fam, "sample %s outside its family's block" % name
        v = float(value.replace("+Inf", "inf"))
        key = (name, frozenset(labels.items()))
        assert key not in samples, "duplicate sample %r" % (key,)
        samples[key] = v
    return samples, types


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(s, headers=None, port=None):
    r = kiji.request_port(port or s.port, "GET", "/metrics", headers=headers)
    assert r.status == 200, "/metrics: %d\n%s" % (r.status, r.text[:300])
    assert r.header("content-type").startswith("text/plain; version=0.0.4"), r.header("content-type")
    assert "no-store" in (r.header("cache-control") or "")
    return parse_prom(r.text)


class Proc:
    """kiji serve started here (for options kiji.Server does not pass),
    stopped by its pid."""

    def __init__(self, db, args=(), stdout=None):
        self.port = kiji.free_port()
        self.errf = (Path(kiji.scratch("kiji-proc-")) / "stderr"
                     if isinstance(db, kiji.PgUrl) else Path(str(db) + ".proc.stderr"))
        self.outf = Path(stdout) if stdout else None
        cmd = [str(kiji.kiji_bin()), "serve", "--db", str(db),
               "--listen", "127.0.0.1:%d" % self.port] + [str(a) for a in args]
        with open(self.errf, "wb") as err:
            out = open(self.outf, "wb") if self.outf else subprocess.DEVNULL
            self.proc = subprocess.Popen(cmd, cwd=kiji.ROOT, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)
            if self.outf:
                out.close()
        deadline = time.monotonic() + kiji.START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "kiji serve exited:\n" + self.stderr()
            try:
                kiji.request_port(self.port, "GET", "/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("kiji serve did not answer")

    def stderr(self):
        return self.errf.read_text("utf-8", "replace") if self.errf.exists() else ""

    def get(self, path, headers=None):
        return kiji.request_port(self.port, "GET", path, headers=headers)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        text = self.stderr()
        assert not kiji.sanitizer_lines(text), text[-4000:]
        assert self.proc.returncode == 0, "exit %s\n%s" % (self.proc.returncode, text[-2000:])


def wait_for(pred, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


# ---- the access log ------------------------------------------------------------

def by_tag(path, start, tags, timeout=5.0):
    """The one line of each tag (a unique utm_source value) after offset
    start. Threads write their lines at the end of their own loop turns,
    so lines of requests made one after another may come in any order."""
    deadline = time.monotonic() + timeout
    while True:
        lines = read_lines(path, start)
        found = {}
        for t in tags:
            hits = [ln for ln in lines if "utm_source=%s " % t in ln or
                    "utm_source=%s\"" % t in ln or "utm_source=%s&" % t in ln]
            assert len(hits) <= 1, "%s logged %d times: %s" % (t, len(hits), hits)
            if hits:
                found[t] = hits[0]
        if len(found) == len(tags) or time.monotonic() > deadline:
            missing = [t for t in tags if t not in found]
            assert not missing, "no line for %s in:\n%s" % (missing, "\n".join(lines))
            return [found[t] for t in tags]
        time.sleep(0.05)


def test_access_log_combined_lines_match_the_answers():
    s = osrv()
    aid = tc.open_articles(s)[0]
    path = access_path(s)
    start = log_mark(s)
    sent = []
    for i, (method, p, hdrs) in enumerate([
            ("GET", "/", {"X-Forwarded-For": "203.0.113.7"}),
            ("GET", "/articles/%d" % aid, {"X-Forwarded-For": "203.0.113.8",
                                           "Referer": "https://example.org/from"}),
            ("GET", "/articles/%d" % aid, {"X-Forwarded-For": "203.0.113.8"}),
            ("GET", "/no/such/page", {"User-Agent": 'evil" \\agent \xe9'}),
            ("GET", "/static/does-not-exist.css", {}),
            ("HEAD", "/", {})]):
        target = "%s?utm_source=c%d" % (p, i)
        r = s.request(method, target, headers=hdrs)
        sent.append((method, target, hdrs, r))
    lines = by_tag(path, start, ["c%d" % i for i in range(len(sent))])
    for (method, target, hdrs, r), ln in zip(sent, lines):
        m = CLF_RE.match(ln)
        assert m, "not a combined log line: %r" % ln
        assert m.group("req") == "%s %s HTTP/1.1" % (method, target), ln
        assert int(m.group("status")) == r.status, (ln, r.status)
        want_bytes = len(r.body) if method == "GET" else 0
        assert m.group("bytes") == (str(want_bytes) if want_bytes else "-"), (ln, len(r.body))
        assert m.group("ip") == hdrs.get("X-Forwarded-For", "127.0.0.1"), ln
        assert m.group("ref") == hdrs.get("Referer", "-"), ln
    # the hostile agent: its quote and bytes escaped, one line, no forgery
    assert lines[3].endswith('"evil\\x22 \\x5Cagent \\xE9"'), lines[3]


def test_access_log_json_lines_with_cache_and_duration():
    s = osrv()
    aid = tc.open_articles(s)[1]
    configure(s, "log.format", "json")
    try:
        path = access_path(s)
        start = log_mark(s)
        s.get("/articles/%d?utm_source=j0" % aid, headers={"X-Forwarded-For": "2001:db8:5:6::7"})
        s.get("/articles/%d?utm_source=j1" % aid, headers={
            "User-Agent": "a\tb \u65e5\u672c \"q\"".encode(), "X-Forwarded-For": "198.51.100.20"})
        s.get("/healthz?utm_source=j2")
        recs = [json.loads(ln) for ln in by_tag(path, start, ["j0", "j1", "j2"])]
        for rec in recs:
            assert set(rec) >= {"time", "ip", "method", "path", "status", "bytes",
                                "duration_us", "cache", "referer", "user_agent"}, rec
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", rec["time"]), rec
            assert isinstance(rec["duration_us"], int) and rec["duration_us"] >= 0, rec
        assert recs[0]["ip"] == "2001:db8:5:6::7" and recs[1]["ip"] == "198.51.100.20"
        assert recs[0]["path"] == "/articles/%d?utm_source=j0" % aid and recs[0]["status"] == 200
        # tracking parameters share the page's cache entry: the second is a hit
        assert recs[0]["cache"] in ("hit", "miss") and recs[1]["cache"] == "hit", recs
        assert recs[1]["user_agent"] == "a\tb \u65e5\u672c \"q\"", recs[1]
        assert recs[2]["cache"] == "-" and recs[2]["bytes"] == 3, recs[2]
    finally:
        configure(s, "log.format", "combined")


def test_access_log_masks_addresses_when_asked():
    s = osrv()
    configure(s, "log.ip_mask", "1")
    try:
        path = access_path(s)
        start = log_mark(s)
        s.get("/?utm_source=m0", headers={"X-Forwarded-For": "203.0.113.77"})
        s.get("/?utm_source=m1", headers={"X-Forwarded-For": "2001:db8:abcd:12:34::9"})
        lines = by_tag(path, start, ["m0", "m1"])
        assert lines[0].startswith("203.0.113.0 - - ["), lines[0]
        assert lines[1].startswith("2001:db8:abcd:: - - ["), lines[1]
        assert "203.0.113.77" not in "".join(lines) and "abcd:12" not in "".join(lines)
    finally:
        configure(s, "log.ip_mask", "0")


def test_access_log_samples_one_request_in_n():
    s = osrv()
    path = access_path(s)
    start = log_mark(s)
    configure(s, "log.access_sample", "5")
    try:
        for i in range(50):
            s.get("/?utm_source=sample%d" % i)
        time.sleep(0.5)  # every line is in (written right after each answer)
        lines = [ln for ln in read_lines(path, start) if "utm_source=sample" in ln]
    finally:
        configure(s, "log.access_sample", "1")
    # one shared count: exactly one in five, whichever thread answered
    assert len(lines) == 10, "log.access_sample 5: %d lines for 50 requests" % len(lines)


def test_access_log_holds_no_password_cookie_token_or_secret():
    s = osrv()
    path = access_path(s)
    start = log_mark(s)
    name, pw = admin_client.user(s, "admin", "log")
    ed = admin_client.Editor(s)
    ed.login(name, pw)
    ed.page("/admin/comments?status=pending&q=someone%40example.com")
    session = ed.cookies["kiji_s"]
    csrf = ed.csrf
    # a reader comments (form token, visitor cookie) and asks for a URL
    # carrying a token as a reset link would
    v = Visitor(s, ip="rotate")
    aid = tc.open_articles(s)[0]
    token = tc.token_of(v, aid)
    tc.new_comment(v, aid, "log test " + tc.mark(), token=token)
    v.get("/articles/%d?token=reset-abcdef123456&page=1" % aid,
          headers={"Referer": "https://mail.example/read?session=mailsess999"})
    lines = read_lines(path, start, want=6)
    text = "\n".join(lines)
    assert "/admin/login" in text and "/admin/comments?[redacted]" in text, text
    secret = s.secret().hex()
    for bad, what in [(pw, "the password"), (session, "the session cookie"),
                      (csrf, "the CSRF token"), (token, "the comment form token"),
                      (token.split(".")[-1], "the form token's MAC"),
                      ("reset-abcdef123456", "a token in a query"),
                      ("mailsess999", "a session in the referer"),
                      ("someone", "an admin search"), (secret, "the site secret")]:
        assert bad and bad not in text, "%s is in the access log:\n%s" % (what, text)
    for k, c in v.cookies.items():
        if k == "kiji_w":
            continue  # the site's change number (public), digits that any line may hold
        assert c not in text, "a reader's cookie %s is in the access log" % k


def test_access_log_reopened_on_sighup():
    s = osrv()
    path = access_path(s)
    rotated = s.tmp / "access.log.1"
    s.get("/?utm_source=before")
    read_lines(path, 0, want=1)
    os.rename(path, rotated)
    s.get("/?utm_source=still-old")  # the old file until SIGHUP
    wait_for(lambda: "utm_source=still-old" in rotated.read_text("utf-8"),
             "the line written to the renamed file")
    errlen = len(s.read_stderr())
    s.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "access log reopened" in s.read_stderr()[errlen:], "the SIGHUP line")
    s.get("/?utm_source=after")
    new = read_lines(path, 0, want=1)
    old = rotated.read_text("utf-8")
    assert any("utm_source=after" in ln for ln in new), new
    assert "utm_source=still-old" in old and "utm_source=after" not in old
    assert all(CLF_RE.match(ln) for ln in new), new
    s.assert_alive()


def test_access_log_to_standard_output_by_default():
    s = kiji.server("observe-stdout", articles=3, comments=1, seed=19, start=False)
    out = s.tmp / "stdout.log"
    p = Proc(s.db, stdout=out)
    try:
        p.get("/")
        p.get("/no/such")
        lines = wait_for(lambda: [ln for ln in out.read_text("utf-8").splitlines()
                                  if '"GET /no/such HTTP/1.1" 404' in ln], "the 404 line")
        assert CLF_RE.match(lines[0]), lines
    finally:
        p.stop()


# ---- metrics ---------------------------------------------------------------------

def test_metrics_parse_and_counters_move():
    s = osrv()
    aid = tc.open_articles(s)[2]
    before, types = scrape(s)
    for name, typ in [("kiji_http_requests_total", "counter"),
                      ("kiji_http_request_duration_seconds", "histogram"),
                      ("kiji_http_connections_open", "gauge"),
                      ("kiji_http_streams_open", "gauge"),
                      ("kiji_cache_hits_total", "counter"),
                      ("kiji_cache_misses_total", "counter"),
                      ("kiji_cache_evictions_total", "counter"),
                      ("kiji_cache_bytes", "gauge"),
                      ("kiji_commit_batch_size", "histogram"),
                      ("kiji_commit_fsync_seconds", "histogram"),
                      ("kiji_comments_accepted_total", "counter"),
                      ("kiji_comments_refused_total", "counter"),
                      ("kiji_likes_accepted_total", "counter"),
                      ("kiji_rate_limited_total", "counter"),
                      ("kiji_jobs_due", "gauge"),
                      ("kiji_jobs_runs_total", "counter"),
                      ("process_resident_memory_bytes", "gauge"),
                      ("process_open_fds", "gauge"),
                      ("process_start_time_seconds", "gauge")]:
        assert types.get(name) == typ, "%s: TYPE %r, want %s" % (name, types.get(name), typ)
    art = dict(method="GET", route="/articles/{id}", status="200")
    for _ in range(5):
        assert s.get("/articles/%d" % aid).status == 200
    assert s.get("/nothing/here").status == 404
    v = Visitor(s, ip="rotate")
    tc.new_comment(v, aid, "metrics " + tc.mark())
    r = tc.post(v, aid, "", token=tc.token_of(v, aid))  # empty body: refused
    assert r.status == 422, r.status
    after, _ = scrape(s)
    d = lambda name, **l: metric(after, name, **l) - metric(before, name, **l)
    # token_of read the article twice more (200, maybe not the cache)
    assert d("kiji_http_requests_total", **art) == 7, d("kiji_http_requests_total", **art)
    assert d("kiji_http_requests_total", method="any", route="unmatched", status="404") == 1
    assert d("kiji_http_requests_total", method="POST", route="/articles/{id}/comments",
             status="303") == 1
    assert d("kiji_http_requests_total", method="POST", route="/articles/{id}/comments",
             status="422") == 1
    lat = dict(method="GET", route="/articles/{id}")
    assert d("kiji_http_request_duration_seconds_count", **lat) == 7
    assert metric(after, "kiji_http_request_duration_seconds_bucket", le="+Inf", **lat) == \
        metric(after, "kiji_http_request_duration_seconds_count", **lat)
    assert d("kiji_cache_hits_total") >= 4, d("kiji_cache_hits_total")
    assert d("kiji_comments_accepted_total", status="approved") == 1
    assert d("kiji_comments_refused_total", reason="empty_body") == 1
    assert d("kiji_commit_batch_size_count") >= 1 and d("kiji_commit_fsync_seconds_count") >= 1
    assert metric(after, "kiji_http_connections_open") >= 1
    assert metric(after, "process_open_fds") > 3
    assert metric(after, "process_resident_memory_bytes") > 1 << 20


def test_metrics_count_likes_and_rate_limit_refusals():
    s = kiji.server("observe-rate", articles=4, comments=3, seed=23, settings={
        "http.trusted_proxies": "127.0.0.1", "likes.rate_per_minute": "1",
        "likes.rate_burst": "1"})
    cid = s.sql("SELECT id FROM comments WHERE status = 'approved' LIMIT 1")[0][0]
    before, _ = scrape(s)
    v = Visitor(s, ip="198.51.100.44")
    hdr = {"Accept": "application/json"}
    assert v.post("/comments/%d/like" % cid, {}, headers=hdr).status == 200
    assert v.post("/comments/%d/like" % cid, {}, headers=hdr).status == 429
    assert v.post("/comments/999999/like", {}, headers=hdr).status == 404
    after, _ = scrape(s)
    d = lambda name, **l: metric(after, name, **l) - metric(before, name, **l)
    assert d("kiji_likes_accepted_total", action="like") == 1
    assert d("kiji_likes_refused_total", reason="rate_limited") == 1
    assert d("kiji_likes_refused_total", reason="not_found") == 1
    assert d("kiji_rate_limited_total", limit="like") == 1


def test_metrics_refused_outside_metrics_allow():
    s = osrv()
    # through the trusted proxy: judged by the client it names
    r = s.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status == 404 and "kiji_http" not in r.text, r.status
    configure(s, "metrics.allow", "10.0.0.0/8")
    try:
        # the direct peer 127.0.0.1 is no longer allowed
        r = s.get("/metrics")
        assert r.status == 404 and "kiji_http" not in r.text, r.status
        assert "no-store" in (r.header("cache-control") or "")
        r = s.get("/metrics", headers={"X-Forwarded-For": "10.20.30.40"})
        assert r.status == 200 and "kiji_http_requests_total" in r.text, r.status
    finally:
        configure(s, "metrics.allow", "127.0.0.0/8 ::1")
    assert s.get("/metrics").status == 200
    # a bad value is refused by kiji config
    r = s.cli("config", "set", "metrics.allow", "10.0.0.0/8 not-an-address", check=False)
    assert r.returncode != 0 and "not an address" in r.stderr, r.stderr


def test_metrics_claims_of_an_untrusted_peer_are_not_believed():
    s = kiji.server("observe-untrusted", articles=3, comments=1, seed=29,
                    settings={"metrics.allow": "10.0.0.0/8"})
    r = s.get("/metrics", headers={"X-Forwarded-For": "10.0.0.1"})
    assert r.status == 404, "X-Forwarded-For from a peer that is no trusted proxy was believed"


def test_metrics_listen_serves_only_operations_on_its_own_address():
    s = kiji.server("observe-mlisten", articles=3, comments=1, seed=31, start=False,
                    settings={"metrics.allow": "10.0.0.0/8"})
    mport = kiji.free_port()
    p = Proc(s.db, ["--metrics-listen", "127.0.0.1:%d" % mport])
    try:
        samples, _ = scrape(s, port=mport)
        assert metric(samples, "process_open_fds") > 0
        assert kiji.request_port(mport, "GET", "/healthz").status == 200
        assert kiji.request_port(mport, "GET", "/readyz").status == 200
        assert kiji.request_port(mport, "GET", "/").status == 404
        assert p.get("/metrics").status == 404  # the site's address: metrics.allow
        assert p.get("/").status == 200
    finally:
        p.stop()


# ---- health ------------------------------------------------------------------------

def test_healthz_and_readyz_answer_plainly_and_are_never_cached():
    s = osrv()
    for path, body in [("/healthz", "ok\n"), ("/readyz", "ready\n")]:
        r = s.get(path)
        assert r.status == 200 and r.text == body, (path, r.status, r.text)
        assert "no-store" in (r.header("cache-control") or ""), path
        assert r.header("x-cache") is None, path


def test_a_burst_of_connections_is_spread_over_the_event_loops():
    """64 connects at once (as wrk or a proxy's pool opens them): each of
    the four loops gets its share, not whichever one the kernel woke; and
    a request on each is answered by whichever loop holds it."""
    import socket
    s = kiji.server("loops", articles=3, comments=1, seed=41,
                    settings={"http.threads": "4"})
    socks = [socket.create_connection(("127.0.0.1", s.port), timeout=10)
             for _ in range(64)]
    try:
        loops = {}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            samples, _ = scrape(s)
            loops = {dict(k[1])["loop"]: v for k, v in samples.items()
                     if k[0] == "kiji_http_loop_connections"}
            if sum(loops.values()) >= 64:  # (the scrape's own is one more)
                break
            time.sleep(0.05)
        assert sorted(loops) == ["0", "1", "2", "3"], loops
        assert sum(loops.values()) in (64, 65), loops
        assert max(loops.values()) - min(loops.values()) <= 4, loops
        for c in socks:
            c.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        for c in socks:
            head = c.recv(64)
            assert head.startswith(b"HTTP/1.1 200 "), head
    finally:
        for c in socks:
            c.close()
    s.assert_alive()


@kiji.sqlite_only("the WAL file made unwritable under the server")
def test_readyz_503_while_the_database_cannot_be_written():
    s = kiji.server("observe-full", articles=3, comments=1, seed=37)
    assert s.get("/readyz").status == 200
    pid = s.proc.pid
    limit = os.path.getsize(str(s.db) + "-wal") + 24 + 100
    time.sleep(1.1)  # the last probe's result is kept a second
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        r = wait_for(lambda: (lambda x: x if x.status == 503 else None)(s.get("/readyz")),
                     "/readyz to say 503 with the disk full")
        assert "cannot be written" in r.text and "disk full" in r.text, r.text
        assert s.get("/healthz").status == 200  # alive all the same
        assert s.get("/").status == 200
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    wait_for(lambda: s.get("/readyz").status == 200, "/readyz to recover")
    s.assert_alive()


# ---- the theme, read again on SIGHUP ----------------------------------------------

def _theme_copy(dst):
    for sub in ("templates", "static"):
        shutil.copytree(kiji.ROOT / sub, dst / sub)


def _set_marker(theme, marker):
    """The article template with an HTML comment naming marker."""
    t = theme / "templates" / "article.html"
    text = t.read_text("utf-8")
    text = re.sub(r"<!-- theme-marker \w+ -->\n?", "", text)
    t.write_text("<!-- theme-marker %s -->\n" % marker + text, "utf-8")


def test_theme_read_again_on_sighup_while_serving():
    s = kiji.server("observe-theme", articles=6, comments=3, seed=41, start=False)
    theme = s.tmp / "theme"
    _theme_copy(theme)
    _set_marker(theme, "v0")
    p = Proc(s.db, ["--theme", theme])
    aids = tc.open_articles(s)
    stop = threading.Event()
    failures, seen = [], set()
    lock = threading.Lock()

    def reader(i):
        n = 0
        while not stop.is_set() and n < 2000:
            n += 1
            path = "/articles/%d" % aids[(i + n) % len(aids)] if n % 3 else "/static/kiji.css"
            try:
                r = p.get(path)
            except OSError as e:
                with lock:
                    failures.append("%s: %s" % (path, e))
                continue
            if r.status != 200:
                with lock:
                    failures.append("%s: %d" % (path, r.status))
            m = re.search(r"<!-- theme-marker (\w+) -->", r.text) if "articles" in path else None
            if m:
                with lock:
                    seen.add(m.group(1))

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    try:
        for t in threads:
            t.start()
        for k in range(1, 6):
            time.sleep(0.3)
            _set_marker(theme, "v%d" % k)
            errlen = len(p.stderr())
            p.signal(signal.SIGHUP)
            wait_for(lambda: "theme %s read again" % theme in p.stderr()[errlen:],
                     "reload %d" % k)
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    try:
        assert not failures, "requests failed during theme reloads: %s" % failures[:10]
        r = p.get("/articles/%d" % aids[0])
        assert "<!-- theme-marker v5 -->" in r.text, "the last theme is not the one shown"
        assert len(seen) >= 2, "the readers saw only %s" % seen
        # a broken theme is refused; the one loaded stays
        bad = theme / "templates" / "article.html"
        good = bad.read_text("utf-8")
        bad.write_text(good + "{{#unclosed}}", "utf-8")
        errlen = len(p.stderr())
        p.signal(signal.SIGHUP)
        wait_for(lambda: "keeping the one loaded" in p.stderr()[errlen:], "the refusal")
        r = p.get("/articles/%d" % aids[1])
        assert r.status == 200 and "<!-- theme-marker v5 -->" in r.text
        bad.write_text(good, "utf-8")
    finally:
        p.stop()
