"""HTTP/1.1 on the wire, over raw sockets: what the strict HTTP core in
src/http/ must answer to malformed, ambiguous, smuggling, oversized, slow
and numerous requests (RFC 9110/9112).

Every refusal is one response (status line, headers with
`Connection: close`, a short body), then the server closes the
connection: the client sees the whole answer, then EOF, never a silent
close and never a second answer to bytes that followed the bad request.

Servers:
  the shared demo server (kiji.state()) for everything that needs no
      settings;
  "protocol" (kiji.server, stopped by teardown): comment rate limit off
      and http.max_body 65536, for the comment POSTs and body limits;
  private one-off servers (started and stopped inside their test) for
      http.max_connections and http.header_timeout / http.body_timeout.

The client here parses responses itself (Conn, parse_one) so it can see
exactly how many answers came back, in which order, and whether the
connection was then closed."""

import contextlib
import errno
import json
import os
import re
import resource
import select
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from urllib.parse import urlencode

import kiji

RESP_TIMEOUT = 3.0   # seconds to wait for an answer that should come at once
LINGER = 0.5         # seconds to watch a connection after the expected answers
SHORT_BODY = 16384   # a refusal's body is at most this long
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
       "img-src 'self' https: data:; form-action 'self'; frame-ancestors 'self'; "
       "base-uri 'self'; object-src 'none'")
FORM = "application/x-www-form-urlencoded"


# ---- response parsing ------------------------------------------------------------

class Raw(kiji.Response):
    """One parsed response (kiji.Response plus the version and raw head)."""

    def __init__(self, version, status, reason, headers, body, head):
        super().__init__(status, reason, headers, body)
        self.version = version
        self.head = head

    def all(self, name):
        return [v for k, v in self.header_list if k.lower() == name.lower()]

    def tokens(self, name):
        """The comma-separated, lower-cased tokens of every `name` field."""
        out = []
        for v in self.all(name):
            out += [t.strip().lower() for t in v.split(",") if t.strip()]
        return out

    def __repr__(self):
        return "<Raw %d>" % self.status


class Incomplete(Exception):
    pass


class Garbage(Exception):
    pass


def _dechunk(buf, p):
    """Decodes a chunked body at buf[p:]; returns (body, end)."""
    out = []
    while True:
        e = buf.find(b"\r\n", p)
        if e < 0:
            raise Incomplete()
        line = buf[p:e].split(b";", 1)[0].strip()
        if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", line):
            raise Garbage("bad chunk size line %r" % buf[p:e][:80])
        n = int(line, 16)
        p = e + 2
        if n == 0:
            # trailer section up to an empty line
            while True:
                e = buf.find(b"\r\n", p)
                if e < 0:
                    raise Incomplete()
                empty = e == p
                p = e + 2
                if empty:
                    return b"".join(out), p
        if len(buf) < p + n + 2:
            raise Incomplete()
        out.append(buf[p:p + n])
        if buf[p + n:p + n + 2] != b"\r\n":
            raise Garbage("chunk data not followed by CRLF")
        p += n + 2


def parse_one(buf, p, method, eof):
    """Parses the response starting at buf[p:]. Returns (Raw, end).
    Raises Incomplete (more bytes needed) or Garbage (not HTTP). 1xx, 204,
    304 and answers to HEAD have no body; without Content-Length or
    chunked the body runs to EOF."""
    if p >= len(buf):
        raise Incomplete()
    end = buf.find(b"\r\n\r\n", p)
    if end < 0:
        if not buf.startswith(b"HTTP/"[:len(buf) - p], p):
            raise Garbage("not a status line: %r" % buf[p:p + 80])
        if len(buf) - p > 65536:
            raise Garbage("no end of head in 64 KiB")
        raise Incomplete()
    lines = buf[p:end].split(b"\r\n")
    m = re.fullmatch(rb"(HTTP/\d\.\d) ([1-5]\d\d)(?: (.*))?", lines[0])
    if not m:
        raise Garbage("not a status line: %r" % lines[0][:80])
    headers = []
    for ln in lines[1:]:
        k, sep, v = ln.partition(b":")
        if not sep or not k or k != k.strip():
            raise Garbage("bad header line %r" % ln[:80])
        headers.append((k.decode("latin-1"), v.strip(b" \t").decode("latin-1")))
    version = m.group(1).decode()
    status = int(m.group(2))
    reason = (m.group(3) or b"").decode("latin-1")
    low = {}
    for k, v in headers:
        low.setdefault(k.lower(), []).append(v)
    q = end + 4
    te = ",".join(low.get("transfer-encoding", [])).lower()
    if status < 200 or status in (204, 304) or method == "HEAD":
        body = b""
    elif te:
        if te.split(",")[-1].strip() != "chunked":
            raise Garbage("response Transfer-Encoding %r" % te)
        body, q = _dechunk(buf, q)
    elif "content-length" in low:
        vals = low["content-length"]
        if len(set(vals)) != 1 or not vals[0].isdigit():
            raise Garbage("response Content-Length %r" % vals)
        n = int(vals[0])
        if len(buf) < q + n:
            raise Incomplete()
        body = buf[q:q + n]
        q += n
    else:
        if not eof:
            raise Incomplete()
        body = buf[q:]
        q = len(buf)
    return Raw(version, status, reason, headers, body, buf[p:end + 4]), q


# ---- raw connections ---------------------------------------------------------------

def send_all(sock, data, deadline):
    """Sends data on a non-blocking socket before deadline (monotonic).
    Raises OSError (EPIPE, ECONNRESET...) or TimeoutError."""
    view = memoryview(data)
    sent = 0
    p = select.poll()
    p.register(sock, select.POLLOUT)
    while sent < len(view):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("send stalled after %d of %d bytes" % (sent, len(view)))
        if not p.poll(min(left, 0.2) * 1000):
            continue
        try:
            sent += sock.send(view[sent:sent + 262144])
        except BlockingIOError:
            continue
    return sent


class Conn:
    """A raw client connection (non-blocking socket) that parses the
    responses it reads. methods (queued by send) tell the parser which
    answers are to HEAD."""

    def __init__(self, port, src=None, timeout=RESP_TIMEOUT):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if src:
                self.sock.bind((src, 0))
            self.sock.settimeout(timeout)
            self.sock.connect(("127.0.0.1", port))
            self.sock.setblocking(False)
        except BaseException:
            self.sock.close()
            raise
        self.started = time.monotonic()
        self.buf = b""
        self.pos = 0
        self.methods = []
        self.nfinal = 0
        self.responses = []
        self.eof = False
        self.reset = False
        self.garbage = None
        self.send_error = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self.sock.close()

    @property
    def closed(self):
        return self.eof or self.reset

    def send(self, data, methods=(), timeout=5.0):
        """Queues methods and sends data; a send error (the server closed
        early) is recorded in send_error, not raised. True when all sent."""
        self.methods.extend(methods)
        try:
            send_all(self.sock, data, time.monotonic() + timeout)
            return True
        except (OSError, TimeoutError) as e:
            self.send_error = e
            return False

    def recv_once(self, deadline):
        """One read, waiting at most until deadline."""
        if self.closed:
            return
        p = select.poll()
        p.register(self.sock, select.POLLIN)
        left = max(0.0, deadline - time.monotonic())
        if not p.poll(left * 1000):
            return
        try:
            data = self.sock.recv(262144)
        except BlockingIOError:
            return
        except (ConnectionResetError, ConnectionAbortedError):
            self.reset = True
            return
        if not data:
            self.eof = True
        else:
            self.buf += data

    def parse(self):
        """Parses what is buffered; returns the new responses."""
        got = []
        while self.garbage is None:
            method = self.methods[self.nfinal] if self.nfinal < len(self.methods) else "GET"
            try:
                r, self.pos = parse_one(self.buf, self.pos, method, self.closed)
            except Incomplete:
                break
            except Garbage as e:
                self.garbage = str(e)
                break
            got.append(r)
            if r.status >= 200:
                self.nfinal += 1
        self.responses += got
        return got

    def read(self, n=1, timeout=RESP_TIMEOUT, linger=0.0, interim=False):
        """Reads until n more final responses (any response when interim)
        were parsed, EOF or timeout; then watches linger more seconds
        (unless closed) for EOF or extra bytes. Returns the new responses."""
        got = []

        def enough():
            return len([r for r in got if interim or r.status >= 200]) >= n

        deadline = time.monotonic() + timeout
        got += self.parse()
        while not enough() and not self.closed and time.monotonic() < deadline:
            self.recv_once(deadline)
            got += self.parse()
        if linger and not self.closed:
            end = time.monotonic() + linger
            while not self.closed and time.monotonic() < end:
                self.recv_once(end)
                got += self.parse()
        got += self.parse()
        return got

    @property
    def extra(self):
        return self.buf[self.pos:]

    def state(self):
        s = []
        if self.garbage:
            s.append("unparseable bytes (%s)" % self.garbage)
        elif self.extra:
            s.append("%d unparsed bytes %r" % (len(self.extra), self.extra[:80]))
        if self.send_error:
            s.append("send failed: %s" % self.send_error)
        s.append("then EOF" if self.eof else "then reset" if self.reset
                 else "connection still open")
        return ", ".join(s)


def show(rs, c=None):
    """A one-line account of what a connection received."""
    parts = []
    for r in rs:
        hs = ", ".join("%s: %s" % kv for kv in r.header_list if kv[0].lower() in (
            "connection", "content-length", "transfer-encoding", "content-type", "allow",
            "location", "content-range"))
        parts.append("%s %d %s [%s] body %r" % (r.version, r.status, r.reason, hs,
                                               r.body[:100]))
    if not rs:
        parts.append("no response")
    if c is not None:
        parts.append(c.state())
    return "; ".join(parts)


def exchange(port, data, methods=(), expect=None, timeout=RESP_TIMEOUT, linger=LINGER,
             src=None):
    """Connects (from src when given), sends data, reads until `expect`
    final responses (then watches `linger` s more) or, without expect,
    until EOF or timeout. Returns (responses, the closed Conn)."""
    with Conn(port, src, timeout=timeout) as c:
        c.send(data, methods)
        if expect is None:
            rs = c.read(n=1 << 30, timeout=timeout)
        else:
            rs = c.read(n=expect, timeout=timeout, linger=linger)
    return rs, c


def roundtrip(port, data, methods=(), expect=None, timeout=RESP_TIMEOUT, src=None):
    """(responses, closed_by_server) for data sent on a fresh connection."""
    rs, c = exchange(port, data, methods, expect, timeout, src=src)
    return rs, c.closed


def refusal(port, data, status, what, methods=(), timeout=RESP_TIMEOUT):
    """Problems (a list of strings) with how data was refused: want exactly
    one `status` response with Connection: close and a short body, then the
    connection closed by the server."""
    return refused(port, data, status, what, methods, timeout)[0]


def refused(port, data, status, what, methods=(), timeout=RESP_TIMEOUT):
    """(problems, the response or None): see refusal()."""
    rs, c = exchange(port, data, methods, expect=1, timeout=timeout)
    if len(rs) != 1 or rs[0].status != status:
        return ["%s: want one %d then close, got: %s" % (what, status, show(rs, c))], None
    r = rs[0]
    probs = []
    if "close" not in r.tokens("connection"):
        probs.append("%s: %d without Connection: close: %s" % (what, status, show(rs, c)))
    if not c.closed:
        probs.append("%s: %d but the server did not close the connection: %s" % (
            what, status, show(rs, c)))
    if c.extra:
        probs.append("%s: bytes after the %d: %s" % (what, status, show(rs, c)))
    framed = r.header("content-length") is not None or r.header("transfer-encoding")
    if not framed or not 0 < len(r.body) <= SHORT_BODY:
        probs.append("%s: %d body not a short framed body (%d bytes, Content-Length %r)" % (
            what, status, len(r.body), r.header("content-length")))
    return probs, r


def check_refusals(port, cases, methods=()):
    """cases: (what, data, status); asserts every one is refused right."""
    probs = []
    for what, data, status in cases:
        probs += refusal(port, data, status, what, methods)
    assert not probs, "%d problem(s):\n%s" % (len(probs), "\n".join(probs))


def req(port, method="GET", target="/", headers=(), body=b"", version="HTTP/1.1",
        close=True, host=True):
    """Request bytes: request line, Host (127.0.0.1:port), headers (pairs
    or raw lines), Connection: close when close, then body as is."""
    lines = ["%s %s %s" % (method, target, version)]
    if host:
        lines.append("Host: 127.0.0.1:%d" % port)
    for h in headers:
        lines.append(h if isinstance(h, str) else "%s: %s" % h)
    if close:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (body.encode() if isinstance(body, str) else body)


def one(port, data, methods=(), timeout=RESP_TIMEOUT, what="request", src=None):
    """The single final response to data (sent with Connection: close)."""
    rs, c = exchange(port, data, methods, expect=1, timeout=timeout, linger=0, src=src)
    final = [r for r in rs if r.status >= 200]
    assert final, "%s: no response: %s" % (what, show(rs, c))
    return final[0]


def shared_port():
    return kiji.state().port


# ---- servers and comments --------------------------------------------------------

def proto():
    """Comment rate limit off, bodies up to 64 KiB."""
    return kiji.server("protocol", articles=10, comments=2, seed=41,
                       settings={"comments.rate_per_minute": "0", "http.max_body": "65536"})


@contextlib.contextmanager
def private_server(name, settings):
    """A server of this test's own, stopped (and checked) when the block ends."""
    s = kiji.Server(name, articles=6, comments=1, seed=43, settings=settings)
    problems = []
    try:
        s.build()
        s.start()
        yield s
    finally:
        problems = s.stop()
        if os.environ.get("KIJI_KEEP_TMP"):
            print("kept", s.tmp)
        else:
            shutil.rmtree(s.tmp, ignore_errors=True)
    assert not problems, "\n".join(problems)


def sql(db, query, args=()):
    con = kiji.connect(db, ro=True)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def open_article(db):
    rows = sql(db, "SELECT id FROM articles WHERE kind = 'post' AND status = 'published' "
               "AND published_at <= ? AND comments_open = 1 ORDER BY id", (kiji.now_epoch(),))
    assert rows, "%s: no visible article open for comments" % db
    return rows[0][0]


def token(port, aid):
    r = kiji.request_port(port, "GET", "/api/articles/%d/comments" % aid)
    assert r.status == 200, "GET /api/articles/%d/comments: %d" % (aid, r.status)
    return json.loads(r.body)["token"]


def marker():
    return "proto" + uuid.uuid4().hex[:12]


def form(port, aid, mark):
    """A valid urlencoded comment form with mark in its body."""
    return urlencode({"nickname": "", "body": "プロトコル試験 %s" % mark, "parent": "0",
                      "token": token(port, aid), "url": "", "opened": ""}).encode()


def stored(db, mark, wait=0.0):
    """Comments whose body holds mark (waits up to `wait` s for one)."""
    end = time.monotonic() + wait
    while True:
        n = sql(db, "SELECT count(*) FROM comments WHERE body LIKE ?", ("%" + mark + "%",))[0][0]
        if n or time.monotonic() >= end:
            return n
        time.sleep(0.05)


def comment_path(aid):
    return "/articles/%d/comments" % aid


def chunked(data, sizes=(7, 11)):
    """data in chunks of the given sizes (then the rest), plus last-chunk."""
    out = b""
    p = 0
    for n in sizes:
        if p >= len(data):
            break
        out += b"%x\r\n%s\r\n" % (len(data[p:p + n]), data[p:p + n])
        p += n
    if p < len(data):
        out += b"%x\r\n%s\r\n" % (len(data) - p, data[p:])
    return out + b"0\r\n\r\n"


def vmrss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- 1. request line ---------------------------------------------------------------

def test_request_line_syntax_refused():
    port = shared_port()
    h = b"Host: 127.0.0.1\r\n\r\n"
    check_refusals(port, [
        ("no version", b"GET /\r\n\r\n", 400),
        ("two spaces", b"GET  / HTTP/1.1\r\n" + h, 400),
        ("trailing space", b"GET / HTTP/1.1 \r\n" + h, 400),
        ("lower-case http", b"GET / http/1.1\r\n" + h, 400),
        ("HTTP/1.10", b"GET / HTTP/1.10\r\n" + h, 400),
    ])


def test_request_line_versions_505():
    port = shared_port()
    h = b"Host: 127.0.0.1\r\n\r\n"
    check_refusals(port, [
        ("HTTP/2.0", b"GET / HTTP/2.0\r\n" + h, 505),
        ("HTTP/9.9", b"GET / HTTP/9.9\r\n" + h, 505),
    ])


def test_unknown_methods_501():
    port = shared_port()
    h = b"Host: 127.0.0.1\r\n\r\n"
    check_refusals(port, [
        ("FOO", b"FOO / HTTP/1.1\r\n" + h, 501),
        ("lower-case get", b"get / HTTP/1.1\r\n" + h, 501),
    ])


def test_known_unserved_methods_405_with_allow():
    port = shared_port()
    probs = []
    for m in ("PUT", "DELETE", "OPTIONS", "PATCH"):
        data = b"%s / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % m.encode()
        p, r = refused(port, data, 405, m)
        probs += p
        if r is not None:
            if "get" not in r.tokens("allow"):
                probs.append("%s: 405 Allow %r, want a list with GET" % (m, r.all("allow")))
    assert not probs, "\n".join(probs)


def test_absolute_form_targets():
    port = shared_port()
    check_refusals(port, [
        ("absolute-form to another host",
         b"GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n", 400),
    ])
    data = ("GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Connection: close\r\n\r\n" % (port, port)).encode()
    r = one(port, data, what="absolute-form to this server")
    assert r.status == 200, "GET http://127.0.0.1:%d/: %s" % (port, show([r]))


def test_request_line_over_8k_414():
    port = shared_port()
    data = b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    check_refusals(port, [("9 KB request line", data, 414)])


def test_tls_client_hello_400():
    port = shared_port()
    # A TLS 1.2/1.3 ClientHello record as a browser sends it to an http port.
    hello = (b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" + bytes(range(32)) +
             b"\x20" + bytes(range(32, 64)) +
             b"\x00\x08\x13\x01\x13\x02\x13\x03\xc0\x2f\x01\x00\x00\x73"
             b"\x00\x00\x00\x0e\x00\x0c\x00\x00\x09localhost"
             b"\x00\x0a\x00\x04\x00\x02\x00\x1d\x00\x0d\x00\x04\x00\x02\x04\x03"
             b"\x00\x2b\x00\x03\x02\x03\x04\x00\x33\x00\x26\x00\x24\x00\x1d\x00\x20" +
             bytes(range(64, 96)))
    check_refusals(port, [("TLS ClientHello", hello, 400)])


# ---- 2. header fields --------------------------------------------------------------

def test_header_field_syntax_refused():
    port = shared_port()
    rl = b"GET / HTTP/1.1\r\n"
    check_refusals(port, [
        ("space before colon in Host", rl + b"Host : x\r\n\r\n", 400),
        ("space before colon", rl + b"Host: x\r\nX-A : b\r\n\r\n", 400),
        ("obs-fold with space", rl + b"Host: x\r\nX-A: a\r\n b\r\n\r\n", 400),
        ("obs-fold with tab", rl + b"Host: x\r\nX-A: a\r\n\tb\r\n\r\n", 400),
        ("bare CR in a value", rl + b"Host: x\r\nX-A: a\rb\r\n\r\n", 400),
        ("NUL in a value", rl + b"Host: x\r\nX-A: a\x00b\r\n\r\n", 400),
        ("0x01 in a value", rl + b"Host: x\r\nX-A: a\x01b\r\n\r\n", 400),
        ("bare LF line endings", b"GET / HTTP/1.1\nHost: x\n\n", 400),
    ])


def test_nul_in_target_refused():
    port = shared_port()
    check_refusals(port, [
        ("raw NUL in the target", b"GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("%00 in the path", b"GET /articles/1%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("%00 alone", b"GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ])


def test_too_many_or_too_large_header_fields_431():
    port = shared_port()
    many = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: v\r\n" % i for i in range(100)) + b"\r\n"
    big = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-Big-%02d: %s\r\n" % (i, b"a" * 1000) for i in range(40)) + b"\r\n"
    check_refusals(port, [
        ("101 header lines", many, 431),
        ("40 KB of header fields", big, 431),
    ])


# ---- 3. Host -----------------------------------------------------------------------

def test_host_rules():
    port = shared_port()
    check_refusals(port, [
        ("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\n\r\n", 400),
        ("two Host fields", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ])
    r = one(port, b"GET / HTTP/1.0\r\n\r\n", what="HTTP/1.0 without Host")
    assert r.status == 200, "HTTP/1.0 without Host: %s" % show([r])


# ---- 4. Content-Length -------------------------------------------------------------

def _post_head(port, aid, fields, version="HTTP/1.1"):
    """POST comment head lines (no Connection: close) as bytes."""
    lines = ["POST %s %s" % (comment_path(aid), version), "Host: 127.0.0.1:%d" % port,
             "Content-Type: " + FORM] + list(fields)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def test_conflicting_content_lengths_400_and_not_stored():
    s = proto()
    aid = open_article(s.db)
    probs = []
    for label, cl in (("two fields", lambda n: ["Content-Length: %d" % n,
                                                "Content-Length: %d" % (n + 1)]),
                      ("list", lambda n: ["Content-Length: %d, %d" % (n, n + 1)])):
        mark = marker()
        body = form(s.port, aid, mark)
        # n + 1 bytes: a server picking either value finds a whole form
        data = _post_head(s.port, aid, cl(len(body))) + body + b"&"
        probs += refusal(s.port, data, 400, "Content-Length %s differing" % label, ["POST"])
        time.sleep(0.2)
        if stored(s.db, mark):
            probs.append("Content-Length %s differing: the comment was stored" % label)
    assert not probs, "\n".join(probs)


def test_identical_content_lengths_accepted():
    s = proto()
    aid = open_article(s.db)
    probs = []
    for label, cl in (("twice", lambda n: ["Content-Length: %d" % n,
                                           "Content-Length: %d" % n]),
                      ("n, n", lambda n: ["Content-Length: %d, %d" % (n, n)])):
        mark = marker()
        body = form(s.port, aid, mark)
        data = _post_head(s.port, aid, cl(len(body)) + ["Connection: close"]) + body
        r = one(s.port, data, ["POST"], what=label)
        if r.status != 303:
            probs.append("Content-Length %s: %s, want 303" % (label, show([r])))
        elif stored(s.db, mark, wait=2) != 1:
            probs.append("Content-Length %s: 303 but the comment is not stored once" % label)
    assert not probs, "\n".join(probs)


def test_malformed_content_length_400():
    s = proto()
    aid = open_article(s.db)
    probs = []
    for label, val in (("+n", "+%d"), ("-1", "-1"), ("0x10", "0x10"), ("n n", "%d %d"),
                       ("empty", ""), ("20 digits", "99999999999999999999")):
        mark = marker()
        body = form(s.port, aid, mark)
        v = val % ((len(body),) * val.count("%d")) if "%d" in val else val
        data = _post_head(s.port, aid, ["Content-Length: " + v]) + body
        probs += refusal(s.port, data, 400, "Content-Length %r" % v, ["POST"])
        time.sleep(0.1)
        if stored(s.db, mark):
            probs.append("Content-Length %r: the comment was stored" % v)
    assert not probs, "\n".join(probs)


def test_content_length_over_limit_413_at_once():
    port = shared_port()
    aid = open_article(kiji.state().db)
    data = _post_head(port, aid, ["Content-Length: 10000000"])
    t0 = time.monotonic()
    probs = refusal(port, data, 413, "Content-Length 10 MB, no body sent", ["POST"])
    took = time.monotonic() - t0
    assert not probs, "\n".join(probs)
    assert took < 2.0, "the 413 took %.2f s without any body sent (want it at once)" % took


# ---- 5. Transfer-Encoding ------------------------------------------------------------

def test_chunked_comment_post_accepted():
    s = proto()
    aid = open_article(s.db)
    probs = []
    for te in ("chunked", "Chunked"):
        mark = marker()
        data = _post_head(s.port, aid, ["Transfer-Encoding: " + te, "Connection: close"]) + \
            chunked(form(s.port, aid, mark))
        r = one(s.port, data, ["POST"], what="TE " + te)
        if r.status != 303:
            probs.append("Transfer-Encoding: %s: %s, want 303" % (te, show([r])))
        elif stored(s.db, mark, wait=2) != 1:
            probs.append("Transfer-Encoding: %s: 303 but the comment is not stored" % te)
    assert not probs, "\n".join(probs)


def test_transfer_encoding_refusals():
    s = proto()
    aid = open_article(s.db)
    marks = []

    def post(fields, version="HTTP/1.1"):
        m = marker()
        marks.append(m)
        return _post_head(s.port, aid, fields, version) + chunked(form(s.port, aid, m))

    cases = [
        ("gzip, chunked", post(["Transfer-Encoding: gzip, chunked"]), 501),
        ("foo", post(["Transfer-Encoding: foo"]), 501),
        ("chunked, identity", post(["Transfer-Encoding: chunked, identity"]), 400),
        ("chunked in two fields", post(["Transfer-Encoding: chunked",
                                        "Transfer-Encoding: chunked"]), 400),
        ("chunked, chunked", post(["Transfer-Encoding: chunked, chunked"]), 400),
        ("space before colon", post(["Transfer-Encoding : chunked"]), 400),
        ("on HTTP/1.0", post(["Transfer-Encoding: chunked"], "HTTP/1.0"), 400),
    ]
    probs = []
    for what, data, st in cases:
        probs += refusal(s.port, data, st, "Transfer-Encoding " + what, ["POST"])
    time.sleep(0.2)
    for m in marks:
        if stored(s.db, m):
            probs.append("a refused Transfer-Encoding post was stored (%s)" % m)
    assert not probs, "\n".join(probs)


SMUGGLED = b"0\r\n\r\nGET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n"


def test_transfer_encoding_with_content_length_400_no_smuggling():
    port = shared_port()
    s = proto()
    aid = open_article(s.db)
    n = len(SMUGGLED)
    cases = [
        (s.port, "POST, CL then TE", _post_head(s.port, aid, [
            "Content-Length: %d" % n, "Transfer-Encoding: chunked"]) + SMUGGLED),
        (s.port, "POST, TE then CL", _post_head(s.port, aid, [
            "Transfer-Encoding: chunked", "Content-Length: %d" % n]) + SMUGGLED),
        (port, "GET with both", ("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n" % n).encode() + SMUGGLED),
    ]
    probs = []
    for p, what, data in cases:
        # refusal() already insists on exactly one response and nothing after it
        probs += refusal(p, data, 400, what, ["POST"])
    assert not probs, "\n".join(probs)


# ---- 6. chunk syntax ------------------------------------------------------------------

def test_chunk_syntax_refused():
    s = proto()
    aid = open_article(s.db)
    head = _post_head(s.port, aid, ["Transfer-Encoding: chunked"])
    check_refusals(s.port, [
        ("chunk size overflow", head + b"fffffffffffffffffff\r\n" + b"a" * 64, 400),
        ("chunk size zz", head + b"zz\r\nhello\r\n0\r\n\r\n", 400),
        ("chunk extension over 1 KiB",
         head + b"5;" + b"a" * 1100 + b"\r\nhello\r\n0\r\n\r\n", 400),
        ("chunk data without CRLF", head + b"5\r\nhelloXX0\r\n\r\n", 400),
    ], ["POST"])


def test_chunk_extensions_and_trailers_accepted():
    s = proto()
    aid = open_article(s.db)
    probs = []
    for what in ("extension", "trailers"):
        mark = marker()
        body = form(s.port, aid, mark)
        if what == "extension":
            enc = b"%x;a=b\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        else:
            enc = b"%x\r\n%s\r\n0\r\nX-Trailer: 1\r\nX-Other: two\r\n\r\n" % (len(body), body)
        data = _post_head(s.port, aid, ["Transfer-Encoding: chunked", "Connection: close"]) + enc
        r = one(s.port, data, ["POST"], what=what)
        if r.status != 303:
            probs.append("chunked with %s: %s, want 303" % (what, show([r])))
        elif stored(s.db, mark, wait=2) != 1:
            probs.append("chunked with %s: 303 but not stored" % what)
    assert not probs, "\n".join(probs)


# ---- 7. pipelining -----------------------------------------------------------------------

def test_pipelined_gets_answered_in_order():
    port = shared_port()
    a = req(port, "GET", "/", close=False)
    b = req(port, "GET", "/robots.txt", close=False)
    with Conn(port) as c:
        c.send(a + b, ["GET", "GET"])
        rs = c.read(2, linger=LINGER)
        assert [r.status for r in rs] == [200, 200], "two pipelined GETs: %s" % show(rs, c)
        assert rs[0].content_type == "text/html" and rs[1].content_type == "text/plain", \
            "answers out of order (want / then /robots.txt): %s" % show(rs, c)
        assert not c.closed and not c.extra, "after two pipelined GETs: %s" % show(rs, c)
        c.send(req(port, "GET", "/robots.txt", close=False), ["GET"])
        rs2 = c.read(1)
        assert [r.status for r in rs2] == [200], \
            "a third GET on the same connection: %s" % show(rs2, c)


def test_pipelined_garbage_stops_the_connection():
    port = shared_port()
    data = req(port, "GET", "/", close=False) + b"@@ not http @@\r\n\r\n" + \
        req(port, "GET", "/robots.txt", close=False)
    rs, c = exchange(port, data, expect=3)
    assert [r.status for r in rs] == [200, 400], \
        "good / garbage / good: want 200, 400 then EOF; got %s" % show(rs, c)
    assert "close" in rs[1].tokens("connection"), "the 400 lacks Connection: close: %s" % show(rs)
    assert c.closed and not c.extra, "after the 400: %s" % show(rs, c)


# ---- 8. HTTP/1.0 and HEAD --------------------------------------------------------------

def test_http10_keep_alive():
    port = shared_port()
    data = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    with Conn(port) as c:
        c.send(data, ["GET"])
        rs = c.read(1, linger=LINGER)
        assert [r.status for r in rs] == [200], "HTTP/1.0 keep-alive: %s" % show(rs, c)
        assert "keep-alive" in rs[0].tokens("connection"), \
            "HTTP/1.0 keep-alive answer without Connection: keep-alive: %s" % show(rs, c)
        assert not c.closed, "HTTP/1.0 keep-alive: %s" % show(rs, c)
        c.send(b"GET /robots.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", ["GET"])
        rs2 = c.read(1)
        assert [r.status for r in rs2] == [200], \
            "second HTTP/1.0 request on the same connection: %s" % show(rs2, c)


def test_http10_closes_by_default():
    port = shared_port()
    rs, c = exchange(port, b"GET / HTTP/1.0\r\n\r\n", expect=1)
    assert [r.status for r in rs] == [200], "HTTP/1.0 GET: %s" % show(rs, c)
    assert c.eof, "HTTP/1.0 without keep-alive: the server should close: %s" % show(rs, c)


def test_head_has_no_body_and_keeps_the_connection():
    port = shared_port()
    with Conn(port) as c:
        c.send(req(port, "HEAD", "/", close=False), ["HEAD"])
        rs = c.read(1, linger=LINGER)
        assert [r.status for r in rs] == [200], "HEAD /: %s" % show(rs, c)
        assert not c.extra and not c.closed, "after HEAD / (body bytes?): %s" % show(rs, c)
        hl = rs[0].header("content-length")
        c.send(req(port, "GET", "/", close=False), ["GET"])
        rs2 = c.read(1)
        assert [r.status for r in rs2] == [200], "GET / after HEAD: %s" % show(rs2, c)
        g = rs2[0]
        assert hl is not None and hl == g.header("content-length") and \
            int(hl) == len(g.body), "HEAD Content-Length %r, GET Content-Length %r, " \
            "GET body %d bytes" % (hl, g.header("content-length"), len(g.body))


# ---- 9. Expect ------------------------------------------------------------------------------

def test_expect_100_continue():
    s = proto()
    aid = open_article(s.db)
    mark = marker()
    body = form(s.port, aid, mark)
    head = _post_head(s.port, aid, ["Content-Length: %d" % len(body),
                                    "Expect: 100-continue", "Connection: close"])
    with Conn(s.port) as c:
        c.send(head, ["POST"])
        first = c.read(1, timeout=2.0, interim=True)
        assert first and first[0].status == 100, \
            "no 100 Continue within 2 s of the head: %s" % show(first, c)
        assert first[0].version == "HTTP/1.1", "interim %r" % first[0].head
        c.send(body)
        rs = c.read(1)
        final = [r for r in first + rs if r.status >= 200]
        assert [r.status for r in final] == [303], \
            "after 100 Continue and the body: %s" % show(first + rs, c)
    assert stored(s.db, mark, wait=2) == 1, "303 after 100 Continue but the comment is not stored"


def test_expect_100_over_limit_413_without_continue():
    s = proto()
    aid = open_article(s.db)
    data = _post_head(s.port, aid, ["Content-Length: 1048576", "Expect: 100-continue"])
    probs = refusal(s.port, data, 413, "Expect: 100-continue, Content-Length 1 MB", ["POST"])
    assert not probs, "\n".join(probs)


def test_expect_other_417():
    s = proto()
    aid = open_article(s.db)
    mark = marker()
    body = form(s.port, aid, mark)
    data = _post_head(s.port, aid, ["Content-Length: %d" % len(body),
                                    "Expect: something-else"]) + body
    probs = refusal(s.port, data, 417, "Expect: something-else", ["POST"])
    time.sleep(0.2)
    if stored(s.db, mark):
        probs.append("Expect: something-else: the comment was stored")
    assert not probs, "\n".join(probs)


# ---- 10. body limits -----------------------------------------------------------------------

def test_chunked_body_over_limit_413_before_the_end():
    s = proto()  # http.max_body 65536
    aid = open_article(s.db)
    head = _post_head(s.port, aid, ["Transfer-Encoding: chunked"])
    total = 200
    progress = {"sent": 0, "error": None}
    with Conn(s.port) as c:
        c.send(head, ["POST"])

        def sender():
            chunk = b"400\r\n" + b"body=" + b"a" * 1019 + b"\r\n"
            end = time.monotonic() + 20
            try:
                for _ in range(total):
                    send_all(c.sock, chunk, end)
                    progress["sent"] += 1
                    time.sleep(0.005)
                send_all(c.sock, b"0\r\n\r\n", end)
            except (OSError, TimeoutError) as e:
                progress["error"] = e

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        deadline = time.monotonic() + 15
        rs = []
        sent_at = alive_at = None
        while not rs and not c.closed and time.monotonic() < deadline:
            c.recv_once(min(deadline, time.monotonic() + 0.05))
            rs = [r for r in c.parse() if r.status >= 200]
            if rs:
                sent_at, alive_at = progress["sent"], t.is_alive()
        if not rs:
            rs = [r for r in c.read(1, timeout=1) if r.status >= 200]
            sent_at, alive_at = progress["sent"], t.is_alive()
        t.join(timeout=10)
        assert rs and rs[0].status == 413, \
            "chunked body past http.max_body: %s (chunks sent %d, send error %s)" % (
                show(rs, c), progress["sent"], progress["error"])
        assert alive_at and sent_at < total, \
            "the 413 came only after the client sent all %d chunks (at %d, sender %s)" % (
                total, sent_at, "running" if alive_at else "done")
        assert "close" in rs[0].tokens("connection"), "413 without close: %s" % show(rs, c)


def _multipart_upload(port, pid, aid, tok, use_chunked):
    """POSTs a multipart form with a 50 MB file part from a thread; returns
    (responses, conn, rss growth in kB, sender progress)."""
    boundary = "kijiProtocolBoundary" + uuid.uuid4().hex[:8]
    pre = ("--{b}\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{t}\r\n"
           "--{b}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nbig upload\r\n"
           "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
           "Content-Type: application/octet-stream\r\n\r\n").format(b=boundary, t=tok).encode()
    post = ("\r\n--%s--\r\n" % boundary).encode()
    size = 50 * 1024 * 1024
    block = b"\xa5" * (256 * 1024)
    framing = ["Transfer-Encoding: chunked"] if use_chunked else \
        ["Content-Length: %d" % (len(pre) + size + len(post))]
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Content-Type: multipart/form-data; boundary=%s\r\n%s\r\n\r\n" % (
                comment_path(aid), port, boundary, "\r\n".join(framing))).encode()

    def frame(b):
        return b"%x\r\n%s\r\n" % (len(b), b) if use_chunked else b

    progress = {"sent": 0, "error": None, "done": False}
    rss0 = vmrss_kb(pid)
    peak = [rss0]
    with Conn(port) as c:
        c.send(head, ["POST"])

        def sender():
            end = time.monotonic() + 30
            try:
                send_all(c.sock, frame(pre), end)
                n = 0
                while n < size:
                    send_all(c.sock, frame(block), end)
                    n += len(block)
                    progress["sent"] = n
                send_all(c.sock, frame(post) + (b"0\r\n\r\n" if use_chunked else b""), end)
                progress["done"] = True
            except (OSError, TimeoutError) as e:
                progress["error"] = e

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        deadline = time.monotonic() + 30
        rs = []
        while not rs and not c.closed and time.monotonic() < deadline:
            c.recv_once(min(deadline, time.monotonic() + 0.05))
            rs = [r for r in c.parse() if r.status >= 200]
            peak.append(vmrss_kb(pid))
        rs += [r for r in c.read(1, timeout=0.5, linger=LINGER) if r.status >= 200]
        t.join(timeout=30)
        for _ in range(5):
            peak.append(vmrss_kb(pid))
            time.sleep(0.05)
    return rs, c, max(peak) - rss0, progress


def test_multipart_50mb_content_length_413_small_rss():
    s = proto()
    aid = open_article(s.db)
    rs, c, grew, prog = _multipart_upload(s.port, s.proc.pid, aid, token(s.port, aid), False)
    assert rs and rs[0].status == 413, "50 MB multipart (Content-Length): %s, sent %d bytes" % (
        show(rs, c), prog["sent"])
    assert grew < 20 * 1024, "server VmRSS grew by %.1f MB during a refused 50 MB upload" % (
        grew / 1024)


def test_multipart_50mb_chunked_413_small_rss():
    s = proto()
    aid = open_article(s.db)
    rs, c, grew, prog = _multipart_upload(s.port, s.proc.pid, aid, token(s.port, aid), True)
    assert rs and rs[0].status == 413, "50 MB multipart (chunked): %s, sent %d bytes" % (
        show(rs, c), prog["sent"])
    assert grew < 20 * 1024, "server VmRSS grew by %.1f MB during a refused 50 MB upload" % (
        grew / 1024)


# ---- 11. connection budget --------------------------------------------------------------

def open_idle(port, sources, per_source, deadline):
    """per_source idle connections from each source address, in order,
    in batches of non-blocking connects. Returns (sockets, failures)."""
    socks, failed = [], 0
    for src in sources:
        made = 0
        while made < per_source and time.monotonic() < deadline:
            batch = {}
            for _ in range(min(50, per_source - made)):
                made += 1
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    s.setblocking(False)
                    s.bind((src, 0))
                    err = s.connect_ex(("127.0.0.1", port))
                except OSError:
                    s.close()
                    failed += 1
                    continue
                if err not in (0, errno.EINPROGRESS):
                    s.close()
                    failed += 1
                    continue
                batch[s.fileno()] = s
            p = select.poll()
            for fd in batch:
                p.register(fd, select.POLLOUT)
            done = []
            while batch and time.monotonic() < deadline:
                for fd, _ev in p.poll(100):
                    s = batch.pop(fd, None)
                    if s is None:
                        continue
                    p.unregister(fd)
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                        done.append(s)
                    else:
                        s.close()
                        failed += 1
            for s in batch.values():
                s.close()
                failed += 1
            socks += done
    return socks, failed


def closed_by_server(socks, wait):
    """For each socket: 'eof', 'reset', 'data' or None (still idle) after
    waiting up to `wait` s for events."""
    out = [None] * len(socks)
    idx = {s.fileno(): i for i, s in enumerate(socks)}
    p = select.poll()
    for s in socks:
        p.register(s, select.POLLIN)
    end = time.monotonic() + wait
    while time.monotonic() < end:
        evs = p.poll(max(0.0, end - time.monotonic()) * 1000)
        if not evs:
            break
        for fd, _ev in evs:
            i = idx[fd]
            try:
                d = socks[i].recv(4096, socket.MSG_DONTWAIT)
                out[i] = "eof" if not d else "data"
            except BlockingIOError:
                continue
            except OSError:
                out[i] = "reset"
            p.unregister(fd)
        if all(o is not None for o in out):
            break
    return out


def _timed_get(port, src, limit):
    """GET / from src with `limit` s for connect and answer together:
    (status or None, what was received, seconds)."""
    t0 = time.monotonic()
    try:
        rs, c = exchange(port, req(port, "GET", "/"), expect=1, timeout=limit, linger=0,
                         src=src)
    except OSError as e:
        return None, "connect failed: %s" % e, time.monotonic() - t0
    took = time.monotonic() - t0
    final = [r for r in rs if r.status >= 200]
    return (final[0].status if final else None), show(rs, c), took


def test_2000_idle_connections_do_not_block_a_new_client():
    raise_nofile()
    port = shared_port()
    srcs = ["127.0.0.%d" % i for i in range(2, 12)]
    socks = []
    try:
        socks, failed = open_idle(port, srcs, 200, time.monotonic() + 30)
        status, desc, took = _timed_get(port, "127.0.0.50", 1.0)
        assert status == 200 and took < 1.0, \
            "GET / from 127.0.0.50 with %d idle connections open (%d failed to connect): " \
            "%s after %.2f s" % (len(socks), failed, desc, took)
    finally:
        for s in socks:
            s.close()


def test_max_connections_sheds_idle_connections():
    raise_nofile()
    with private_server("maxconn", {"http.max_connections": "300"}) as s:
        socks = []
        try:
            socks, failed = open_idle(s.port, ["127.0.0.2", "127.0.0.3", "127.0.0.4"], 200,
                                      time.monotonic() + 30)
            status, desc, took = _timed_get(s.port, "127.0.0.60", 2.0)
            assert status == 200 and took < 2.0, \
                "GET / from 127.0.0.60 with %d idle connections open (max 300; %d failed to " \
                "connect): %s after %.2f s" % (len(socks), failed, desc, took)
            states = closed_by_server(socks, 1.0)
            early = states[:300]
            shut = sum(1 for x in early if x in ("eof", "reset"))
            assert shut > 0, \
                "none of the 300 earliest idle connections was closed by the server " \
                "(of %d open: %d eof, %d reset, %d data, %d idle)" % (
                    len(socks), states.count("eof"), states.count("reset"),
                    states.count("data"), states.count(None))
        finally:
            for x in socks:
                x.close()
        s.assert_alive()


# ---- 12. slow clients ---------------------------------------------------------------------

class _Slow:
    def __init__(self, kind, conn, payload):
        self.kind = kind
        self.conn = conn
        self.payload = payload
        self.i = 0
        self.done_at = None


def test_slow_clients_time_out_while_others_are_served():
    with private_server("slow", {"http.header_timeout": "2", "http.body_timeout": "2"}) as s:
        aid = open_article(s.db)
        head_msg = ("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: %s\r\n\r\n" % (
            s.port, "slow" * 50)).encode()
        body_head = _post_head(s.port, aid, ["Content-Length: 1000"])
        slow = []
        normal = []
        try:
            for _ in range(20):
                slow.append(_Slow("head", Conn(s.port), head_msg))
            for _ in range(5):
                c = Conn(s.port)
                c.send(body_head, ["POST"])
                slow.append(_Slow("body", c, b"a" * 1000))
            t0 = time.monotonic()

            def normal_gets():
                for k in range(5):
                    time.sleep(max(0.0, t0 + 0.5 + 0.8 * k - time.monotonic()))
                    st = time.monotonic()
                    try:
                        rs, c = exchange(s.port, req(s.port, "GET", "/"), expect=1,
                                         timeout=1.0, linger=0)
                        normal.append((show(rs, c), [r.status for r in rs],
                                       time.monotonic() - st))
                    except OSError as e:
                        normal.append(("connect: %s" % e, [], time.monotonic() - st))

            g = threading.Thread(target=normal_gets, daemon=True)
            g.start()
            by_fd = {x.conn.sock.fileno(): x for x in slow}
            next_tick = t0
            while time.monotonic() < t0 + 6.5 and any(x.done_at is None for x in slow):
                now = time.monotonic()
                if now >= next_tick:
                    for x in slow:
                        if x.done_at is None and x.i < len(x.payload) and \
                                x.conn.send_error is None:
                            try:
                                x.conn.sock.send(x.payload[x.i:x.i + 1])
                                x.i += 1
                            except BlockingIOError:
                                pass
                            except OSError as e:
                                x.conn.send_error = e
                    next_tick += 0.5
                p = select.poll()
                for x in slow:
                    if x.done_at is None:
                        p.register(x.conn.sock, select.POLLIN)
                for fd, _ev in p.poll(max(0.0, next_tick - time.monotonic()) * 1000):
                    x = by_fd[fd]
                    x.conn.recv_once(time.monotonic())
                    x.conn.parse()
                    if x.conn.responses or x.conn.closed:
                        x.done_at = time.monotonic()
            g.join(timeout=5)
        finally:
            for x in slow:
                x.conn.close()
        probs = []
        for i, x in enumerate(slow):
            c = x.conn
            what = "slow %s #%d (%d bytes sent)" % (x.kind, i, x.i)
            final = [r for r in c.responses if r.status >= 200]
            if x.done_at is None or x.done_at - c.started > 5.0:
                probs.append("%s: no 408 or close within 5 s: %s" % (what, show(c.responses, c)))
            elif x.kind == "body" and [r.status for r in final] != [408]:
                probs.append("%s: want 408, got %s" % (what, show(c.responses, c)))
            elif x.kind == "head" and final and final[0].status != 408:
                probs.append("%s: want 408 or a close, got %s" % (what, show(c.responses, c)))
        if len(normal) != 5:
            probs.append("only %d of 5 normal GETs ran" % len(normal))
        for desc, sts, took in normal:
            if sts != [200] or took >= 1.0:
                probs.append("normal GET / among slow clients: %s after %.2f s" % (desc, took))
        assert not probs, "\n".join(probs)


# ---- 13. security headers -------------------------------------------------------------

def _security_problems(what, r):
    p = []
    if r.all("content-security-policy") != [CSP]:
        p.append("%s (%d): Content-Security-Policy %r" % (
            what, r.status, r.all("content-security-policy")))
    if r.all("x-content-type-options") != ["nosniff"]:
        p.append("%s (%d): X-Content-Type-Options %r" % (
            what, r.status, r.all("x-content-type-options")))
    if r.all("referrer-policy") != ["strict-origin-when-cross-origin"]:
        p.append("%s (%d): Referrer-Policy %r" % (what, r.status, r.all("referrer-policy")))
    return p


def test_security_headers_on_html_answers():
    port = shared_port()
    aid = open_article(kiji.state().db)
    probs = []
    for what, data, st in (
            ("/", req(port, "GET", "/"), 200),
            ("/articles/1", req(port, "GET", "/articles/1"), 200),
            ("404 page", req(port, "GET", "/no-such-page-protocol"), 404),
            ("400 malformed", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
            ("413", _post_head(port, aid, ["Content-Length: 10000000"]), 413)):
        r = one(port, data, what=what)
        if r.status != st:
            probs.append("%s: status %d, want %d" % (what, r.status, st))
        probs += _security_problems(what, r)
    assert not probs, "\n".join(probs)


def test_404_does_not_reflect_script():
    port = shared_port()
    probs = []
    for what, target, want in (
            ("raw", "/<script>alert(1)</script>", (400, 404)),
            ("percent-encoded", "/%3Cscript%3Ealert(1)%3C/script%3E", (404,))):
        r = one(port, req(port, "GET", target), what=what)
        if r.status not in want:
            probs.append("%s %s: status %d, want %s" % (what, target, r.status, want))
        if b"<script>alert" in r.body.lower():
            probs.append("%s %s: the body reflects <script>alert" % (what, target))
        probs += _security_problems("%s %s" % (what, target), r)
    assert not probs, "\n".join(probs)


# ---- 14. ranges on media ---------------------------------------------------------------

def test_media_ranges():
    port = shared_port()
    page = one(port, req(port, "GET", "/articles/1"), what="/articles/1")
    assert page.status == 200, "/articles/1: %s" % show([page])
    srcs = [n.get("src") for n in page.doc.select("img")
            if (n.get("src") or "").startswith("/media/")]
    assert srcs, "/articles/1 has no <img src=\"/media/...\">"
    url = srcs[0]
    full = one(port, req(port, "GET", url), what=url)
    assert full.status == 200 and full.body, "GET %s: %s" % (url, show([full]))
    assert "bytes" in full.tokens("accept-ranges"), "GET %s: Accept-Ranges %r" % (
        url, full.all("accept-ranges"))
    n = len(full.body)
    etag = full.header("etag")

    r = one(port, req(port, "GET", url, [("Range", "bytes=0-9")]), what="bytes=0-9")
    assert r.status == 206, "Range bytes=0-9: %s" % show([r])
    assert r.header("content-range") == "bytes 0-9/%d" % n, \
        "Range bytes=0-9: Content-Range %r, want 'bytes 0-9/%d'" % (r.header("content-range"), n)
    assert r.body == full.body[:10], "Range bytes=0-9 body %r, want %r" % (r.body, full.body[:10])

    r = one(port, req(port, "GET", url, [("Range", "bytes=-5")]), what="bytes=-5")
    assert r.status == 206, "Range bytes=-5: %s" % show([r])
    assert r.header("content-range") == "bytes %d-%d/%d" % (n - 5, n - 1, n), \
        "Range bytes=-5: Content-Range %r" % r.header("content-range")
    assert r.body == full.body[-5:], "Range bytes=-5 body %r, want %r" % (r.body, full.body[-5:])

    r = one(port, req(port, "GET", url, [("Range", "bytes=%d-" % n)]), what="bytes=n-")
    assert r.status == 416, "Range bytes=%d- (past the end): %s" % (n, show([r]))
    assert r.header("content-range") == "bytes */%d" % n, \
        "416 Content-Range %r, want 'bytes */%d'" % (r.header("content-range"), n)

    other = '"not-%s"' % uuid.uuid4().hex[:8]
    assert other != etag
    r = one(port, req(port, "GET", url, [("Range", "bytes=0-9"), ("If-Range", other)]),
            what="If-Range other")
    assert r.status == 200 and r.body == full.body, \
        "Range with If-Range %s (ETag is %s): %s, want the whole 200" % (other, etag, show([r]))
