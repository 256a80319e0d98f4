"""kiji behind a TLS front end (issue 17, item 4): Debian's nginx runs
contrib/nginx.conf, TLS and HTTP/2 included, in front of a real kiji on
loopback, and Caddy runs contrib/Caddyfile.

The nginx config is the file itself with only what a test must change:
ports (free loopback ones), the IPv6 listens dropped, the certificate (a
self-signed one for 127.0.0.1 made with openssl), wrapped in a main
config of its own (pid, logs and temp paths in a temp dir). nginx runs in
the foreground and is stopped by the pid in its pid file.

Client addresses: every address in 127.0.0.0/8 is this machine's, so a
client binds 127.0.0.X and nginx sees a peer other than itself (nginx
reaches kiji from 127.0.0.1, kiji's one trusted proxy). What kiji takes
as the client address shows in the comment it stores and in the per-IP
like limit; a forged X-Forwarded-For from the client must change neither.
TODO(logm): once the access log lands, also check the address it prints
for a request made through nginx."""

import atexit
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import kiji
import test_comments as tc
from kiji import Visitor

CONTRIB = kiji.ROOT / "contrib"
NOBODY = 65534
START_WAIT = 15.0   # seconds for nginx or caddy to answer
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
MIB = 1 << 20


def skip(why):
    print("  skip: " + why)


def srv():
    return kiji.server("proxy", articles=8, comments=2, seed=17, settings={
        "http.trusted_proxies": "127.0.0.1",
        "likes.rate_burst": "2", "likes.rate_per_minute": "1"})


def wait_port(port, proc, what, log):
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("%s exited with %s:\n%s" % (what, proc.returncode,
                                                           Path(log).read_text()[-3000:]))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("%s did not listen on %d" % (what, port))


# ---- nginx ---------------------------------------------------------------------------

class Nginx:
    """nginx with contrib/nginx.conf in front of the "proxy" kiji."""

    def __init__(self, upstream_port):
        self.tmp = Path(tempfile.mkdtemp(prefix="kiji-nginx-"))
        os.chmod(self.tmp, 0o711)  # workers (nobody, under root) reach temp dirs
        self.tls_port = kiji.free_port()
        self.http_port = kiji.free_port()
        self.cert = self.tmp / "cert.pem"
        key = self.tmp / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(self.cert)],
                       check=True, capture_output=True, timeout=60)
        site = (CONTRIB / "nginx.conf").read_text("utf-8")
        site = self.derive(site, upstream_port, key)
        self.log = self.tmp / "error.log"
        self.pidfile = self.tmp / "nginx.pid"
        conf = self.tmp / "nginx.conf"
        conf.write_text(
            "pid %s;\nerror_log %s warn;\nworker_processes 1;\n"
            "events { worker_connections 256; }\n"
            "http {\n access_log %s;\n client_body_temp_path %s/body;\n"
            " proxy_temp_path %s/proxy;\n fastcgi_temp_path %s/fcgi;\n"
            " uwsgi_temp_path %s/uwsgi;\n scgi_temp_path %s/scgi;\n%s\n}\n" % (
                self.pidfile, self.log, self.tmp / "access.log", self.tmp, self.tmp,
                self.tmp, self.tmp, self.tmp, site), "utf-8")
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(self.tmp), "-c", str(conf), "-e", str(self.log),
             "-g", "daemon off;"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / "stderr", "wb"))
        wait_port(self.tls_port, self.proc, "nginx", self.tmp / "stderr")
        wait_port(self.http_port, self.proc, "nginx", self.tmp / "stderr")

    def derive(self, site, upstream_port, key):
        """contrib/nginx.conf with test ports and certificate; every change
        is asserted to apply, so an edit of the file cannot silently make
        the test run something else."""
        subs = [
            (r"server 127\.0\.0\.1:8080;", "server 127.0.0.1:%d;" % upstream_port),
            (r"\n\s*listen \[::\]:80;", ""),
            (r"\n\s*listen \[::\]:443 ssl http2;", ""),
            (r"listen 80;", "listen 127.0.0.1:%d;" % self.http_port),
            (r"listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % self.tls_port),
            (r"ssl_certificate\s+\S+;", "ssl_certificate %s;" % self.cert),
            (r"ssl_certificate_key\s+\S+;", "ssl_certificate_key %s;" % key),
        ]
        for pat, rep in subs:
            site, n = re.subn(pat, rep, site)
            assert n == 1, "contrib/nginx.conf: %r matched %d times" % (pat, n)
        return site

    def stop(self):
        """Stops nginx by the pid in its pid file (graceful SIGQUIT)."""
        if self.proc is None:
            return
        pid = int(self.pidfile.read_text().strip()) if self.pidfile.exists() else None
        assert pid == self.proc.pid, "nginx pid file says %s, started %d" % (
            pid, self.proc.pid)
        os.kill(pid, signal.SIGQUIT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None
        if not os.environ.get("KIJI_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def errors(self):
        return self.log.read_text("utf-8", "replace") if self.log.exists() else ""


_nginx = []


def nginx():
    if not _nginx:
        if shutil.which("nginx") is None:
            raise AssertionError("no nginx (scripts/deps.sh test installs nginx-light)")
        _nginx.append(Nginx(srv().port))
        atexit.register(_nginx[0].stop)
    return _nginx[0]


class Front:
    """A client of the front end from its own loopback address: the
    srv argument of kiji.Visitor, so Visitor and test_comments helpers work
    through the proxy."""

    def __init__(self, source, port=None, tls=True):
        self.source = source
        self.tls = tls
        self.port = port
        self.name = "via-proxy"

    def connect(self, timeout):
        if not self.tls:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                              source_address=(self.source, 0))
        ctx = ssl.create_default_context(cafile=str(nginx().cert))
        return http.client.HTTPSConnection("127.0.0.1", self.port or nginx().tls_port,
                                           timeout=timeout, context=ctx,
                                           source_address=(self.source, 0))

    def request(self, method, path, body=None, headers=None, timeout=30):
        c = self.connect(timeout)
        try:
            c.putrequest(method, path, skip_accept_encoding=True)
            for k, v in (headers or {}).items():
                c.putheader(k, v)
            if body is not None:
                if isinstance(body, str):
                    body = body.encode("utf-8")
                c.putheader("Content-Length", str(len(body)))
            c.endheaders(body)
            r = c.getresponse()
            return kiji.Response(r.status, r.reason, r.getheaders(), r.read())
        finally:
            c.close()


def direct(source, method, path, headers=None, body=None):
    """A request straight to kiji from a chosen loopback address."""
    f = Front(source, port=srv().port, tls=False)
    return f.request(method, path, body=body, headers=headers)


def cookies_set(r):
    return [v for k, v in r.header_list if k.lower() == "set-cookie"]


def post_forged(v, aid, body, xff):
    """Posts a comment as v with a forged X-Forwarded-For; its id."""
    from urllib.parse import urlencode
    token = tc.token_of(v, aid)
    r = v.request("POST", "/articles/%d/comments" % aid, body=urlencode(
        {"nickname": "", "body": body, "parent": "0", "token": token, "url": "",
         "opened": ""}), headers={"Content-Type": "application/x-www-form-urlencoded",
                                  "X-Forwarded-For": xff})
    return tc.posted(r, aid)


def article_id():
    ids = tc.open_articles(srv())
    assert ids, "proxy demo has no article open for comments"
    return ids[0]


# ---- tests ---------------------------------------------------------------------------

def test_proxy_plain_http_redirects_to_https():
    n = nginx()
    r = Front("127.0.0.11", port=n.http_port, tls=False).request("GET", "/articles/1?x=1")
    assert r.status == 301, "plain http: %d" % r.status
    assert (r.header("location") or "").startswith("https://") and \
        r.header("location").endswith("/articles/1?x=1"), r.header("location")


def test_proxy_serves_pages_over_tls():
    nginx()
    aid = article_id()
    r = Visitor(Front("127.0.0.12")).page("/articles/%d" % aid)
    assert r.content_type == "text/html"
    assert r.header("strict-transport-security"), "no HSTS from the TLS end"
    # kiji's own headers pass through untouched
    direct_r = direct("127.0.0.1", "GET", "/articles/%d" % aid)
    for h in ("content-security-policy", "cache-control", "etag"):
        assert r.header(h) == direct_r.header(h), "%s: %r through nginx, %r direct" % (
            h, r.header(h), direct_r.header(h))


def test_proxy_client_address_is_the_real_peer_not_a_forged_header():
    """A comment posted through nginx from 127.0.0.23 with a forged
    X-Forwarded-For is stored with 127.0.0.23."""
    nginx()
    aid = article_id()
    v = Visitor(Front("127.0.0.23"))
    cid = post_forged(v, aid, "proxy %s" % tc.mark(), "198.51.100.7")
    rows = srv().sql("SELECT ip FROM comments WHERE id = ?", (cid,))
    assert rows and rows[0][0] == "127.0.0.23", "comment stored with ip %r" % (
        rows and rows[0][0])


def test_proxy_rate_limit_is_keyed_by_the_forwarded_address():
    """likes.rate_burst is 2 on this server: from one client address the
    third like is 429 however its forged X-Forwarded-For changes, and a
    second client address has its own allowance."""
    nginx()
    aid = article_id()
    cid = tc.new_comment(Visitor(Front("127.0.0.30")), aid, "的 %s" % tc.mark())
    codes = []
    for i, verb in enumerate(("like", "unlike", "like")):
        r = Front("127.0.0.31").request(
            "POST", "/comments/%d/%s" % (cid, verb), body=b"",
            headers={"Accept": "application/json",
                     "X-Forwarded-For": "203.0.113.%d" % (i + 1)})
        codes.append(r.status)
    assert codes == [200, 200, 429], "likes from one address through nginx: %r" % codes
    r = Front("127.0.0.32").request("POST", "/comments/%d/like" % cid, body=b"",
                                    headers={"Accept": "application/json",
                                             "X-Forwarded-For": "203.0.113.1"})
    assert r.status == 200, "another address through nginx: %d" % r.status


def test_proxy_conditional_get_is_304():
    nginx()
    aid = article_id()
    front = Front("127.0.0.40")
    path = "/articles/%d" % aid
    r = front.request("GET", path)
    etag = r.header("etag")
    assert r.status == 200 and etag, "GET %s through nginx: %d, ETag %r" % (
        path, r.status, etag)
    r2 = front.request("GET", path, headers={"If-None-Match": etag})
    assert r2.status == 304 and r2.body == b"", "If-None-Match through nginx: %d" % r2.status
    assert r2.header("etag") == etag
    # compressed variant: kiji's own gzip passes through, not nginx's
    r3 = front.request("GET", path, headers={"Accept-Encoding": "gzip"})
    d3 = direct("127.0.0.1", "GET", path, headers={"Accept-Encoding": "gzip"})
    assert r3.header("content-encoding") == d3.header("content-encoding")
    assert r3.header("etag") == d3.header("etag"), "nginx changed the gzip ETag"


def test_proxy_https_makes_cookies_secure():
    """The view beacon hands out the kiji_v cookie: through the TLS end
    (X-Forwarded-Proto https from the trusted proxy) it is Secure; straight
    from a client it is not, even when the client claims https itself."""
    nginx()
    aid = article_id()
    beacon = ("POST", "/views/%d" % aid)
    r = Front("127.0.0.50").request(*beacon, body=b"", headers={"User-Agent": BROWSER})
    sc = [c for c in cookies_set(r) if c.startswith("kiji_v=")]
    assert r.status == 204 and sc, "view beacon through nginx: %d %r" % (r.status, sc)
    assert re.search(r";\s*Secure\b", sc[0]), "cookie over https without Secure: %s" % sc[0]

    def beacon_direct(source, xfp):
        h = {"User-Agent": BROWSER}
        h.update({"X-Forwarded-Proto": v for v in xfp[:1]})
        f = Front(source, port=srv().port, tls=False)
        c = f.connect(10)
        try:
            c.putrequest(*beacon)
            for k, v in h.items():
                c.putheader(k, v)
            for v in xfp[1:]:
                c.putheader("X-Forwarded-Proto", v)
            c.putheader("Content-Length", "0")
            c.endheaders()
            resp = c.getresponse()
            resp.read()
            got = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"
                   and v.startswith("kiji_v=")]
        finally:
            c.close()
        assert got, "no kiji_v cookie from %s" % source
        return bool(re.search(r";\s*Secure\b", got[0]))

    assert beacon_direct("127.0.0.1", ["https"]), "trusted proxy, https: no Secure"
    assert not beacon_direct("127.0.0.1", []), "plain request: Secure"
    assert not beacon_direct("127.0.0.1", ["http"]), "trusted proxy, http: Secure"
    assert not beacon_direct("127.0.0.51", ["https"]), \
        "a client (not a trusted proxy) claiming https got Secure"
    assert not beacon_direct("127.0.0.1", ["https", "https"]), \
        "two X-Forwarded-Proto headers were believed"


def _probe(front_or_port, path, size, body):
    """POST path with Content-Length size: the whole body when body is
    true, else the head only (an answer must come from the head). The
    status, or None when nothing came back within the bound."""
    if isinstance(front_or_port, Front):
        c = front_or_port.connect(20)
    else:
        c = http.client.HTTPConnection("127.0.0.1", front_or_port, timeout=20)
    try:
        c.putrequest("POST", path)
        c.putheader("Content-Type", "application/x-www-form-urlencoded")
        c.putheader("Content-Length", str(size))
        c.endheaders()
        if body:
            chunk = b"a" * MIB
            left = size
            try:
                while left:
                    n = min(left, len(chunk))
                    c.send(chunk[:n])
                    left -= n
            except (BrokenPipeError, ConnectionResetError):
                pass  # answered before the end: read the answer
        return c.getresponse().status
    except (socket.timeout, ConnectionResetError, http.client.HTTPException):
        return None
    finally:
        c.close()


def test_proxy_body_limits_match_kijis():
    """The same bodies straight to kiji and through nginx: refused (413)
    in the same cases, passed to kiji (its own answer) in the others.
    kiji: http.max_body 1 MiB; image upload admin.upload_max 10 MiB +
    64 KiB; an article form 10 MiB + 7 MiB."""
    nginx()
    aid = article_id()
    cases = [  # path, bytes, refused by kiji, send the body
        ("/articles/%d/comments" % aid, MIB + 1, True, False),
        ("/admin/media", 2 * MIB, False, True),
        ("/admin/articles/new", 16 * MIB, False, True),
        ("/admin/media", 12 * MIB, True, True),
        ("/admin/media", 19 * MIB, True, False),
    ]
    for path, size, refused, body in cases:
        d = _probe(srv().port, path, size, body)
        p = _probe(Front("127.0.0.60"), path, size, body)
        assert (d == 413) == refused, "%s %d bytes straight to kiji: %s" % (path, size, d)
        assert p is not None and p < 500, "%s %d bytes through nginx: %s\n%s" % (
            path, size, p, nginx().errors()[-2000:])
        assert (p == 413) == refused, "%s %d bytes: %s through nginx, %s straight" % (
            path, size, p, d)
        if not refused:
            assert p == d, "%s %d bytes: %s through nginx, %s straight" % (path, size, p, d)


def test_proxy_event_stream_passes_unbuffered():
    """A live-comment stream reaches the reader through nginx as events
    happen (skips while kiji has no stream route)."""
    nginx()
    aid = article_id()
    path = "/articles/%d/events" % aid
    if direct("127.0.0.1", "HEAD", path).status == 404:
        return skip("kiji has no %s stream yet; nothing to pass through" % path)
    c = Front("127.0.0.70").connect(30)
    try:
        c.request("GET", path, headers={"Accept": "text/event-stream"})
        r = c.getresponse()
        assert r.status == 200 and r.getheader("content-type", "").startswith(
            "text/event-stream"), "stream through nginx: %d %s" % (
                r.status, r.getheader("content-type"))
        tc.new_comment(Visitor(Front("127.0.0.71")), aid, "live %s" % tc.mark())
        line = r.fp.readline()  # kept by nginx until its buffer filled, if buffered
        assert line, "nothing came through the stream"
    finally:
        c.close()


def test_proxy_nginx_logged_no_errors_and_stops_by_pid_file():
    n = nginx()
    # its 413s (the body-limit test) are logged as errors: expected
    bad = [ln for ln in n.errors().splitlines() if ("[error]" in ln or "[crit]" in ln
           or "[emerg]" in ln) and "client intended to send too large body" not in ln]
    n.stop()
    _nginx.clear()
    assert not bad, "nginx error log:\n%s" % "\n".join(bad[-20:])


# ---- Caddy ---------------------------------------------------------------------------

def test_caddyfile_adapts():
    caddy = shutil.which("caddy")
    if caddy is None:
        return skip("no caddy (Debian package caddy): contrib/Caddyfile not checked")
    tmp = Path(tempfile.mkdtemp(prefix="kiji-caddy-"))
    try:
        env = dict(os.environ, HOME=str(tmp), XDG_DATA_HOME=str(tmp),
                   XDG_CONFIG_HOME=str(tmp))
        r = subprocess.run([caddy, "adapt", "--config", str(CONTRIB / "Caddyfile"),
                            "--adapter", "caddyfile"], capture_output=True, text=True,
                           env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "reverse_proxy" in r.stdout and '"dial":"127.0.0.1:8080"' in r.stdout
        warn = [ln for ln in r.stderr.splitlines() if '"level":"warn"' in ln]
        assert not warn, "caddy adapt warns:\n%s" % "\n".join(warn)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_caddy_in_front_passes_the_client_address():
    """contrib/Caddyfile's site block served over plain http on a test
    port: the client address kiji stores is the real peer."""
    caddy = shutil.which("caddy")
    if caddy is None:
        return skip("no caddy (Debian package caddy)")
    tmp = Path(tempfile.mkdtemp(prefix="kiji-caddy-"))
    # A free port may be taken between the pick and Caddy's bind (the
    # suite runs many servers): on an early exit, again on a new port.
    for attempt in range(3):
        port = kiji.free_port()
        text = (CONTRIB / "Caddyfile").read_text("utf-8")
        text, n1 = re.subn(r"^example\.com \{", "http://127.0.0.1:%d {" % port, text,
                           flags=re.M)
        text, n2 = re.subn(r"127\.0\.0\.1:8080", "127.0.0.1:%d" % srv().port, text)
        assert n1 == 1 and n2 == 1, "contrib/Caddyfile changed shape (%d, %d)" % (n1, n2)
        conf = tmp / "Caddyfile"
        conf.write_text("{\n\tadmin off\n\tauto_https off\n}\n\n" + text, "utf-8")
        env = dict(os.environ, HOME=str(tmp), XDG_DATA_HOME=str(tmp), XDG_CONFIG_HOME=str(tmp))
        log = tmp / "caddy.log"
        with open(log, "wb") as lf:
            proc = subprocess.Popen([caddy, "run", "--config", str(conf), "--adapter",
                                     "caddyfile"], env=env, stdin=subprocess.DEVNULL,
                                    stdout=lf, stderr=subprocess.STDOUT)
        try:
            wait_port(port, proc, "caddy", log)
            break
        except AssertionError:
            if proc.poll() is None or attempt == 2:
                proc.kill()
                proc.wait(timeout=10)
                raise
    try:
        aid = article_id()
        v = Visitor(Front("127.0.0.80", port=port, tls=False))
        cid = post_forged(v, aid, "caddy %s" % tc.mark(), "198.51.100.9")
        rows = srv().sql("SELECT ip FROM comments WHERE id = ?", (cid,))
        assert rows[0][0] == "127.0.0.80", "through caddy, stored ip %r" % rows[0][0]
        # a body over kiji's limit is refused at the front, as by kiji
        st = _probe(Front("127.0.0.81", port=port, tls=False),
                    "/articles/%d/comments" % aid, MIB + 1, True)
        # 413 when kiji reads the Content-Length first; Caddy 2.6 says 502
        # when its own max_size cuts the body first (a race between the
        # two; later Caddy answers 413). Refused either way.
        assert st in (413, 502), "1 MiB + 1 through caddy: %s" % st
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
