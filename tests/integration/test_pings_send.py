"""Outgoing pings through the real binary: a site made by `kiji init`
(net.allow_loopback=1, site.base_url its own address) and a small
loopback HTTP server playing other blogs. One announces Webmention in a
Link header, one Pingback in X-Pingback (and answers XML-RPC), one
TrackBack in an RDF block in its page, one answers 500 the first time
(the runner retries it after its backoff: the test build's clock file
moves time on instead of waiting), one refuses with 400 and one announces
nothing. An article published with `kiji post new` that links to them
(and to itself) makes each endpoint receive exactly one correct ping
(source = the article's URL, target = the link); the pings table and
`kiji pings list` say sent / failed / none; the admin's /admin/pings
lists them; saving the same file again sends nothing; an edit that adds
a link pings only that one; a restart repeats nothing; a WordPress
import (`kiji import-wxr`) of a post linking to a blog sends nothing."""

import http.server
import os
import re
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs

import kiji

WAIT = 60.0  # seconds for the runner to get through its jobs

_ctx = {}


# ---- the other blogs ------------------------------------------------------------

class Blogs:
    """A loopback HTTP server with a few blog posts and their endpoints;
    records every request (method, path, headers, body)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.log = []
        self.hits = {}
        blogs = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, status, body=b"", ctype="text/html; charset=utf-8",
                      headers=()):
                if isinstance(body, str):
                    body = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _record(self, body=b""):
                with blogs.lock:
                    blogs.log.append({"method": self.command, "path": self.path,
                                      "ctype": self.headers.get("Content-Type", ""),
                                      "body": body})
                    key = (self.command, self.path)
                    blogs.hits[key] = blogs.hits.get(key, 0) + 1
                    return blogs.hits[key]

            def do_GET(self):
                n = self._record()
                base = blogs.url("")
                page = "<!DOCTYPE html><html><head><title>%s</title></head>" \
                       "<body><p>a post</p></body></html>" % self.path
                if self.path in ("/wm/post", "/wm/post2", "/wm/post3", "/imp/post"):
                    self._send(200, page, headers=[
                        ("Link", '<%swm/endpoint>; rel="webmention"' % base)])
                elif self.path == "/pb/post":
                    self._send(200, page, headers=[("X-Pingback", base + "pb/xmlrpc")])
                elif self.path == "/tb/post":
                    me = base + "tb/post"
                    rdf = ('<!--\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
                           ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
                           ' xmlns:trackback="http://madskills.com/public/xml/rss/module/trackback/">'
                           '<rdf:Description rdf:about="%s" dc:identifier="%s" dc:title="tb"'
                           ' trackback:ping="%stb/ping/7" /></rdf:RDF>\n-->' % (me, me, base))
                    self._send(200, page.replace("<body>", "<body>" + rdf))
                elif self.path == "/flaky/post":
                    if n == 1:
                        self._send(500, "busy", ctype="text/plain")
                    else:
                        self._send(200, page, headers=[
                            ("Link", '<%sflaky/endpoint>; rel="webmention"' % base)])
                elif self.path == "/refuse/post":
                    self._send(200, page, headers=[
                        ("Link", '<%srefuse/endpoint>; rel="webmention"' % base)])
                elif self.path == "/none/post":
                    self._send(200, page)
                else:
                    self._send(404, "no", ctype="text/plain")

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if 0 < n <= 1 << 20 else b""
                self._record(body)
                if self.path == "/wm/endpoint":
                    self._send(202, "accepted", ctype="text/plain")
                elif self.path == "/flaky/endpoint":
                    self._send(201, "", headers=[("Location", blogs.url("wm/1"))])
                elif self.path == "/refuse/endpoint":
                    self._send(400, "target does not accept webmentions",
                               ctype="text/plain")
                elif self.path == "/pb/xmlrpc":
                    self._send(200, '<?xml version="1.0"?><methodResponse><params>'
                               '<param><value><string>thanks</string></value></param>'
                               '</params></methodResponse>', ctype="text/xml")
                elif self.path == "/tb/ping/7":
                    self._send(200, '<?xml version="1.0" encoding="utf-8"?>'
                               '<response><error>0</error></response>', ctype="text/xml")
                else:
                    self._send(404, "no", ctype="text/plain")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        # "localhost", not 127.0.0.1: kiji leaves links to its own host
        # (127.0.0.1) out of what it notifies
        return "http://localhost:%d/%s" % (self.port, path)

    def posts(self, path):
        with self.lock:
            return [e for e in self.log if e["method"] == "POST" and e["path"] == path]

    def requests(self, prefix):
        with self.lock:
            return [e for e in self.log if e["path"].startswith(prefix)]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class InitServer(kiji.Server):
    """A kiji site made by `kiji init` (no demo content)."""

    def build(self):
        self.cli("init", "--db", str(self.db), "--title", "送信テスト", db=False)
        for k, v in self.settings:
            self.config_set(k, v)
        return self


def setup():
    if "srv" in _ctx:
        return _ctx["srv"], _ctx["blogs"]
    blogs = Blogs()
    _ctx["blogs"] = blogs
    s = InitServer("pings-send", settings={"net.allow_loopback": "1",
                                           "http.trusted_proxies": "127.0.0.1"})
    kiji._servers["pings-send"] = s  # teardown stops it
    clock = s.tmp / "clock"
    clock.write_text("0\n")
    s.env = {"KIJI_TEST_CLOCK_FILE": str(clock)}
    s.build()
    s.start()
    s.config_set("site.base_url", s.origin)
    _ctx["srv"] = s
    return s, blogs


def set_offset(s, seconds):
    p = Path(s.env["KIJI_TEST_CLOCK_FILE"])
    tmp = p.with_suffix(".tmp")
    tmp.write_text("%d\n" % seconds)
    tmp.replace(p)


def pings(s, aid):
    return {r["target"]: dict(r) for r in s.sql(
        "SELECT * FROM pings WHERE article_id = ?", (aid,))}


def wait_for(what, cond, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s" % what)


def write_post(s, name, title, links, extra=""):
    body = "\n\n".join("- [%s](%s)" % (t, u) for t, u in links)
    md = s.tmp / name
    md.write_text("---\ntitle: %s\nstatus: published\n---\n\n%s\n\n%s\n"
                  % (title, body, extra), "utf-8")
    return md


def targets(blogs):
    return {k: blogs.url(k + "/post") for k in ("wm", "pb", "tb", "flaky", "refuse", "none")}


def published(s, blogs):
    """The article of this suite, published with links to every blog and
    to itself; waits until the runner has been through its pings."""
    if "aid" in _ctx:
        return _ctx["aid"]
    t = targets(blogs)
    links = [("Webmention のブログ", t["wm"]), ("Pingback のブログ", t["pb"]),
             ("TrackBack のブログ", t["tb"]), ("不調なブログ", t["flaky"]),
             ("断るブログ", t["refuse"]), ("何もないブログ", t["none"]),
             ("自分のサイト", s.origin + "/")]
    md = write_post(s, "linking.md", "他のブログへのリンク集", links)
    _ctx["md"] = md
    aid = int(s.cli("post", "new", str(md)).stdout.strip())
    _ctx["aid"] = aid

    def settled():
        rows = pings(s, aid)
        if len(rows) != 6:
            return False
        fl = rows.get(t["flaky"])
        others = [r for u, r in rows.items() if u != t["flaky"]]
        return all(r["status"] != "pending" for r in others) and fl and fl["attempts"] >= 1
    wait_for("the first round of pings", settled)
    fl = pings(s, aid)[t["flaky"]]
    if fl["status"] == "pending":  # else a slow machine took the 30 s
        assert fl["attempts"] == 1, fl
        assert "HTTP 500" in fl["last_error"], fl
        # the runner's backoff (30 s) passes on the injected clock
        set_offset(s, 3600)
    wait_for("the retried ping", lambda: pings(s, aid)[t["flaky"]]["status"] == "sent")
    return aid


# ---- tests ------------------------------------------------------------------------

@kiji.needs_hooks
def test_pings_each_target_gets_one_correct_ping():
    s, blogs = setup()
    aid = published(s, blogs)
    t = targets(blogs)
    source = "%s/articles/%d" % (s.origin, aid)

    wm = blogs.posts("/wm/endpoint")
    assert len(wm) == 1, wm
    assert wm[0]["ctype"].startswith("application/x-www-form-urlencoded"), wm[0]
    f = parse_qs(wm[0]["body"].decode(), strict_parsing=True)
    assert f == {"source": [source], "target": [t["wm"]]}, f

    pb = blogs.posts("/pb/xmlrpc")
    assert len(pb) == 1, pb
    call = ET.fromstring(pb[0]["body"])
    assert call.findtext("methodName") == "pingback.ping"
    params = [v.findtext("string") if v.find("string") is not None else v.text
              for v in call.iter("value")]
    assert params == [source, t["pb"]], params

    tb = blogs.posts("/tb/ping/7")
    assert len(tb) == 1, tb
    assert tb[0]["ctype"].startswith("application/x-www-form-urlencoded"), tb[0]
    f = parse_qs(tb[0]["body"].decode("utf-8"))
    assert f["url"] == [source], f
    assert f["title"] == ["他のブログへのリンク集"], f
    assert f["blog_name"] == ["送信テスト"], f
    assert f.get("excerpt") and f["excerpt"][0].strip(), f

    # the flaky blog: its page fetched twice (500, then 200), notified once
    assert len([e for e in blogs.requests("/flaky/post") if e["method"] == "GET"]) == 2
    fl = blogs.posts("/flaky/endpoint")
    assert len(fl) == 1, fl
    assert parse_qs(fl[0]["body"].decode()) == {"source": [source], "target": [t["flaky"]]}
    assert len(blogs.posts("/refuse/endpoint")) == 1
    # nothing for the blog without an endpoint, nor for kiji itself
    assert [e["method"] for e in blogs.requests("/none/")] == ["GET"]
    kiji_self = s.sql("SELECT count(*) FROM pings WHERE target LIKE ?", (s.origin + "%",))
    assert kiji_self[0][0] == 0


@kiji.needs_hooks
def test_pings_recorded_and_listed():
    s, blogs = setup()
    aid = published(s, blogs)
    t = targets(blogs)
    rows = pings(s, aid)
    want = {"wm": ("sent", "webmention"), "pb": ("sent", "pingback"),
            "tb": ("sent", "trackback"), "flaky": ("sent", "webmention"),
            "refuse": ("failed", "webmention"), "none": ("none", "none")}
    for k, (status, kind) in want.items():
        r = rows[t[k]]
        assert (r["status"], r["kind"]) == (status, kind), (k, r)
    assert rows[t["wm"]]["endpoint"] == blogs.url("wm/endpoint")
    assert rows[t["pb"]]["endpoint"] == blogs.url("pb/xmlrpc")
    assert rows[t["tb"]]["endpoint"] == blogs.url("tb/ping/7")
    assert rows[t["flaky"]]["attempts"] == 2 and rows[t["flaky"]]["last_error"] == ""
    assert rows[t["wm"]]["attempts"] == 1 and rows[t["wm"]]["last_error"] == ""
    ref = rows[t["refuse"]]
    assert ref["attempts"] == 1 and "HTTP 400" in ref["last_error"], ref
    assert "does not accept" in ref["last_error"], ref

    out = s.cli("pings", "list", "--article", str(aid)).stdout
    lines = [ln.split("\t") for ln in out.splitlines()]
    assert len(lines) == 6, out
    got = {ln[3]: ln for ln in lines}
    for k, (status, kind) in want.items():
        ln = got[t[k]]
        assert ln[0] == str(aid) and ln[1] == status and ln[2] == kind, ln
    assert got[t["flaky"]][4] == "2" and got[t["flaky"]][5] == "-"
    assert "HTTP 400" in got[t["refuse"]][5]
    assert len(s.cli("pings", "list").stdout.splitlines()) >= 6
    r = s.cli("pings", "list", "--article", "x", check=False)
    assert r.returncode == 2 and "article ID" in r.stderr
    # the ping jobs are done (not given up): one per target that was queued
    jobs = s.sql("SELECT kind, done_at, last_error FROM jobs WHERE kind IN ('pings', 'ping')")
    assert all(j["done_at"] is not None for j in jobs), [dict(j) for j in jobs]
    assert len([j for j in jobs if j["kind"] == "ping"]) == 6


@kiji.needs_hooks
def test_pings_admin_page():
    s, blogs = setup()
    aid = published(s, blogs)
    t = targets(blogs)
    from admin_client import Editor, user
    name, pw = user(s, "editor")
    ed = Editor(s)
    ed.login(name, pw)
    r = ed.page("/admin/pings")
    assert 'href="/admin/pings"' in r.text  # in the nav
    for k in ("wm", "pb", "tb", "flaky", "refuse", "none"):
        assert t[k] in r.text, k
    assert r.text.count('class="ping-sent"') >= 4, r.text[:2000]
    assert 'class="ping-failed"' in r.text and "HTTP 400" in r.text
    assert 'class="ping-none"' in r.text
    assert "他のブログへのリンク集" in r.text
    one = ed.page("/admin/pings?article=%d" % aid)
    assert one.text.count("<tr class=\"ping-") == len(pings(s, aid))
    assert ed.get("/admin/pings?article=x").status == 404
    assert ed.get("/admin/pings?page=99").status == 404
    # the article's edit page lists its pings too
    e = ed.page("/admin/articles/%d" % aid)
    assert t["wm"] in e.text and 'class="ping-failed"' in e.text
    # authors may not open the list
    aname, apw = user(s, "author")
    au = Editor(s)
    au.login(aname, apw)
    assert au.get("/admin/pings").status == 403


@kiji.needs_hooks
def test_pings_same_save_sends_nothing_edit_sends_new_link_only():
    s, blogs = setup()
    aid = published(s, blogs)
    md = _ctx["md"]
    before = len(blogs.log)
    jobs_before = s.sql("SELECT count(*) FROM jobs")[0][0]
    s.cli("post", "edit", str(aid), str(md))
    assert s.sql("SELECT count(*) FROM jobs")[0][0] == jobs_before
    # a new link: only it is notified
    text = md.read_text("utf-8") + "\n- [新しいリンク](%s)\n" % blogs.url("wm/post2")
    md.write_text(text, "utf-8")
    s.cli("post", "edit", str(aid), str(md))
    wait_for("the new link's ping",
             lambda: pings(s, aid).get(blogs.url("wm/post2"), {}).get("status") == "sent")
    new = blogs.log[before:]
    assert [(e["method"], e["path"]) for e in new] == [
        ("GET", "/wm/post2"), ("POST", "/wm/endpoint")], new
    assert parse_qs(new[1]["body"].decode())["target"] == [blogs.url("wm/post2")]


@kiji.needs_hooks
def test_pings_restart_and_import_send_nothing():
    s, blogs = setup()
    aid = published(s, blogs)
    wxr = s.tmp / "old.xml"
    wxr.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:wp="http://wordpress.org/export/1.2/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>old</title>'
        '<wp:wxr_version>1.2</wp:wxr_version>'
        '<item><title>昔の記事</title><wp:post_id>77</wp:post_id>'
        '<wp:post_type>post</wp:post_type><wp:status>publish</wp:status>'
        '<wp:post_date_gmt>2015-01-02 03:04:05</wp:post_date_gmt>'
        '<content:encoded><![CDATA[<p>昔のリンク <a href="%s">ここ</a></p>]]>'
        '</content:encoded></item></channel></rss>\n' % blogs.url("imp/post"), "utf-8")
    s.cli("import-wxr", str(wxr))
    imported = s.sql("SELECT id FROM articles WHERE legacy_id = '77'")
    assert len(imported) == 1
    iid = imported[0][0]
    assert s.sql("SELECT count(*) FROM jobs WHERE kind = 'pings' AND payload = ?",
                 ('{"article":%d}' % iid,))[0][0] == 0

    seen = len(blogs.log)
    problems = s.stop()
    assert not problems, problems
    s.start()
    s.config_set("site.base_url", s.origin)
    # a sentinel article: once its ping arrives, the runner has been
    # through everything that was due before it
    md = write_post(s, "sentinel.md", "再起動のあと", [("後の記事", blogs.url("wm/post3"))])
    sid = int(s.cli("post", "new", str(md)).stdout.strip())
    wait_for("the sentinel's ping",
             lambda: pings(s, sid).get(blogs.url("wm/post3"), {}).get("status") == "sent")
    new = [(e["method"], e["path"]) for e in blogs.log[seen:]]
    assert new == [("GET", "/wm/post3"), ("POST", "/wm/endpoint")], new
    assert blogs.requests("/imp/") == []
    assert pings(s, iid) == {}
    assert len(pings(s, aid)) == 7
