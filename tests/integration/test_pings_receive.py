"""Pings received: TrackBack 1.2 (/articles/<id>/trackback and
/wp-trackback.php?p=<WordPress id>), Pingback 1.0 (XML-RPC pingback.ping at
/xmlrpc and /xmlrpc.php) and Webmention (/webmention, 202 then a job),
against a kiji of its own whose site.base_url is its real address and
whose fetches may reach loopback (net.allow_loopback=1), with a small
source server on loopback playing the blogs that link (or do not link,
or are gone, broken or slow). Every Pingback fault code is checked in the
parsed methodResponse; the article page announces all three endpoints
(headers, <link>, the TrackBack RDF) and they answer."""

import http.server
import re
import threading
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import admin_client
import kiji

POLL = 20.0  # seconds a webmention job gets to run (the runner looks every second)
SLOW = 4.0   # seconds the slow source sleeps; the server gives up after 2
_ctx = {}


# ---- the source server ---------------------------------------------------------------

class Source:
    """A loopback HTTP server whose pages the tests set: path → (status,
    body, delay). Threads are daemons; stop() shuts it down."""

    def __init__(self):
        self.pages = {}
        self.hits = {}
        self.lock = threading.Lock()
        src = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with src.lock:
                    page = src.pages.get(self.path)
                    src.hits[self.path] = src.hits.get(self.path, 0) + 1
                if page is None:
                    page = (404, "<html><body>not here</body></html>", 0)
                status, body, delay = page
                if delay:
                    time.sleep(delay)
                data = body.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (the slow page)

            def log_message(self, *a):
                pass

        # 127.0.0.2: another host than kiji's 127.0.0.1, as a remote
        # blog is (net_links leaves the source's own host's links out).
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.2", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.2:%d%s" % (self.port, path)

    def page(self, path, status=200, body="", delay=0):
        with self.lock:
            self.pages[path] = (status, body, delay)
        return self.url(path)

    def linking(self, path, target, title="リンク元の記事", text="この記事を紹介します"):
        """A page at path that links to target; its URL."""
        return self.page(path, body=(
            "<!DOCTYPE html><html><head><title>%s</title></head><body>"
            "<article><p>%s: <a href=\"%s\">元の記事</a>。続きはどうぞ。</p>"
            "</article></body></html>" % (title, text, target)))

    def plain(self, path, title="リンクしない記事"):
        return self.page(path, body=(
            "<!DOCTYPE html><html><head><title>%s</title></head><body>"
            "<p>何のリンクもありません。<a href=\"https://example.com/\">外</a></p>"
            "</body></html>" % title))

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<wp:wxr_version>1.2</wp:wxr_version>
<item><title>移転前からの記事</title><link>http://old.example/archives/4242</link>
<dc:creator>admin</dc:creator>
<content:encoded><![CDATA[WordPress 時代の本文です。]]></content:encoded>
<wp:post_id>4242</wp:post_id><wp:post_date_gmt>2020-01-02 03:04:05</wp:post_date_gmt>
<wp:comment_status>open</wp:comment_status><wp:ping_status>open</wp:ping_status>
<wp:post_name>old-post</wp:post_name><wp:status>publish</wp:status>
<wp:post_type>post</wp:post_type></item>
</channel></rss>
"""


def srv():
    """This suite's server: its own demo site, an imported WordPress post
    (id 4242), an article with comments closed, base_url = its address."""
    if "srv" in _ctx:
        return _ctx["srv"]
    s = kiji.server("pings-recv", start=False, articles=6, comments=1, seed=12,
                    settings={"net.allow_loopback": "1",
                              "pings.fetch_timeout": "2",
                              "pings.fetches_per_host_minute": "100000",
                              "http.trusted_proxies": "127.0.0.1"})
    wxr = s.tmp / "old.xml"
    wxr.write_text(WXR, "utf-8")
    s.cli("import-wxr", str(wxr))
    def post(name, title, comments=True):
        md = s.tmp / name
        md.write_text("---\ntitle: %s\nstatus: published\n"
                      "date: 2024-01-01T09:00:00+09:00\nauthor: admin\n"
                      "comments: %s\n---\n\n%sの本文。\n" % (
                          title, "true" if comments else "false", title), "utf-8")
        return int(s.cli("post", "new", str(md)).stdout.strip())
    _ctx["closed"] = post("closed.md", "コメント締め切りの記事", comments=False)
    _ctx["open"] = [post("open%d.md" % i, "ピンを受ける記事その%d" % i)
                    for i in range(6)]
    s.start()
    s.config_set("site.base_url", s.origin)
    _ctx["srv"] = s
    _ctx["src"] = Source()
    return s


def src():
    srv()
    return _ctx["src"]


def open_article(s, n=0):
    """The n-th of this suite's posts with comments open (one per test)."""
    return _ctx["open"][n]


def art_url(s, aid):
    return "%s/articles/%d" % (s.origin, aid)


def fresh_ip():
    return {"X-Forwarded-For": kiji.next_ip()}


def pings_of(s, aid, url=None):
    q = "SELECT * FROM comments WHERE article_id = ? AND type <> 'comment'"
    args = [aid]
    if url is not None:
        q += " AND url = ?"
        args.append(url)
    return [dict(r) for r in s.sql(q, args)]


_n = [0]


def uniq(prefix):
    _n[0] += 1
    return "/%s-%d-%d" % (prefix, _n[0], int(time.time() * 1000) % 100000)


# ---- TrackBack ------------------------------------------------------------------------

def trackback(s, path, fields, headers=None):
    h = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    h.update(headers or fresh_ip())
    r = s.request("POST", path, body=urlencode(fields), headers=h)
    assert r.status == 200, "POST %s: %d\n%s" % (path, r.status, r.text[:400])
    assert r.content_type == "text/xml", r.header("content-type")
    root = ET.fromstring(r.body)
    assert root.tag == "response", r.text
    err = root.findtext("error")
    return int(err), root.findtext("message")


def test_trackback_received_and_listed():
    s, so = srv(), src()
    aid = open_article(s)
    page = s.page("/articles/%d" % aid)  # cached before the ping
    assert "ブログ・トラックバック" not in page.text
    url = so.linking(uniq("tb-ok"), art_url(s, aid))
    err, msg = trackback(s, "/articles/%d/trackback" % aid, {
        "url": url, "title": "紹介記事のタイトル", "excerpt": "抜粋 <b>です</b>",
        "blog_name": "ブログ・トラックバック"})
    assert err == 0, msg
    rows = pings_of(s, aid, url)
    assert len(rows) == 1 and rows[0]["type"] == "trackback", rows
    assert rows[0]["status"] == "approved" and rows[0]["nickname"] == "ブログ・トラックバック"
    assert "紹介記事のタイトル" in rows[0]["body"] and "抜粋 <b>です</b>" in rows[0]["body"]
    # The page shows it at once (the cached copy was dropped), escaped.
    p = s.page("/articles/%d" % aid)
    assert any(a.get("href") == url and a.text().strip() == "ブログ・トラックバック"
               for a in p.doc.select("li.trackback a")), p.text[-3000:]
    assert "抜粋 &lt;b&gt;です&lt;/b&gt;" in p.text
    assert "この記事へのトラックバックはありません。" not in p.text


def test_trackback_refusals():
    s, so = srv(), src()
    aid = open_article(s, 1)
    path = "/articles/%d/trackback" % aid
    # No url.
    err, msg = trackback(s, path, {"title": "urlなし"})
    assert err == 1 and msg, msg
    # Not http(s).
    err, msg = trackback(s, path, {"url": "javascript:alert(1)"})
    assert err == 1, msg
    # The source does not link here.
    url = so.plain(uniq("tb-nolink"))
    err, msg = trackback(s, path, {"url": url, "blog_name": "無関係"})
    assert err == 1 and "link" in msg, msg
    assert not pings_of(s, aid, url)
    # A source that does not exist.
    err, msg = trackback(s, path, {"url": so.url(uniq("tb-404"))})
    assert err == 1, msg
    # Duplicates (any ping type from the same source) are refused.
    url = so.linking(uniq("tb-dup"), art_url(s, aid))
    assert trackback(s, path, {"url": url, "blog_name": "一度目"})[0] == 0
    err, msg = trackback(s, path, {"url": url, "blog_name": "二度目"})
    assert err == 1 and "already" in msg, msg
    assert len(pings_of(s, aid, url)) == 1
    # Comments closed: refused without fetching.
    closed = _ctx["closed"]
    url = so.linking(uniq("tb-closed"), art_url(s, closed))
    err, msg = trackback(s, "/articles/%d/trackback" % closed, {"url": url})
    assert err == 1, msg
    assert not pings_of(s, closed)
    assert so.hits.get(url[url.index("/", 8):], 0) == 0
    # No such article.
    err, msg = trackback(s, "/articles/99999999/trackback", {"url": url})
    assert err == 1, msg
    # Text that is not clean is refused with an answer, not a crash.
    err, msg = trackback(s, path, {"url": so.url("/x"), "title": "制御\x01文字"})
    assert err == 1, msg
    s.assert_alive()


def test_wp_trackback_php_on_imported_article():
    s, so = srv(), src()
    rows = s.sql("SELECT id, comments_open FROM articles WHERE legacy_id = '4242'")
    assert rows, "the WXR import left no article with legacy_id 4242"
    aid = rows[0][0]
    url = so.linking(uniq("wp-tb"), art_url(s, aid))
    err, msg = trackback(s, "/wp-trackback.php?p=4242", {
        "url": url, "blog_name": "昔からの読者", "excerpt": "移転おめでとう"})
    assert err == 0, msg
    r = pings_of(s, aid, url)
    assert len(r) == 1 and r[0]["type"] == "trackback", r
    # An unknown WordPress id: error 1, answered directly (no redirect).
    err, msg = trackback(s, "/wp-trackback.php?p=999999", {"url": url})
    assert err == 1, msg
    err, msg = trackback(s, "/wp-trackback.php", {"url": url})
    assert err == 1, msg
    # A source that links to the old permalink form (/?p=4242) of this
    # site counts as linking to the article.
    url2 = so.linking(uniq("wp-tb-old"), "%s/?p=4242" % s.origin)
    err, msg = trackback(s, "/wp-trackback.php?p=4242", {"url": url2})
    assert err == 0, msg


# ---- Pingback ---------------------------------------------------------------------------

def call(method, *params):
    ps = "".join("<param><value><string>%s</string></value></param>" % (
        p.replace("&", "&amp;").replace("<", "&lt;")) for p in params)
    return ('<?xml version="1.0"?><methodCall><methodName>%s</methodName>'
            "<params>%s</params></methodCall>" % (method, ps))


def xmlrpc(s, body, path="/xmlrpc", headers=None):
    """POSTs a methodCall; returns (0, string) or (faultCode, faultString)."""
    h = {"Content-Type": "text/xml"}
    h.update(headers or fresh_ip())
    r = s.request("POST", path, body=body, headers=h)
    assert r.status == 200, "POST %s: %d\n%s" % (path, r.status, r.text[:400])
    assert r.content_type == "text/xml", r.header("content-type")
    root = ET.fromstring(r.body)
    assert root.tag == "methodResponse", r.text
    fault = root.find("fault")
    if fault is None:
        v = root.find("params/param/value")
        assert v is not None, r.text
        return 0, "".join(v.itertext())
    members = {}
    for m in fault.iter("member"):
        val = m.find("value")
        inner = list(val)
        members[m.findtext("name")] = inner[0].text if inner else val.text
    code = int(members["faultCode"])
    assert code != 0 or members.get("faultString"), r.text
    return code, members.get("faultString") or ""


def pingback(s, source, target, **kw):
    return xmlrpc(s, call("pingback.ping", source, target), **kw)


def test_pingback_received():
    s, so = srv(), src()
    aid = open_article(s, 2)
    target = art_url(s, aid)
    source = so.linking(uniq("pb-ok"), target, title="ピンバック元の記事タイトル",
                        text="ピンバックの抜粋")
    code, msg = pingback(s, source, target)
    assert code == 0 and msg, (code, msg)
    rows = pings_of(s, aid, source)
    assert len(rows) == 1 and rows[0]["type"] == "pingback", rows
    assert rows[0]["nickname"] == "ピンバック元の記事タイトル", rows
    assert "ピンバックの抜粋" in rows[0]["body"], rows
    p = s.page("/articles/%d" % aid)
    assert "ピンバック元の記事タイトル" in p.text
    # /xmlrpc.php is the same door, and a target in a legacy form (the
    # imported post's /?p=4242) is the article it leads to.
    old = s.sql("SELECT id FROM articles WHERE legacy_id = '4242'")[0][0]
    t2 = "%s/?p=4242" % s.origin
    source2 = so.linking(uniq("pb-legacy"), t2)
    code, msg = pingback(s, source2, t2, path="/xmlrpc.php")
    assert code == 0, (code, msg)
    assert len(pings_of(s, old, source2)) == 1


def test_pingback_faults():
    s, so = srv(), src()
    aid = open_article(s, 3)
    target = art_url(s, aid)
    # -32700: not XML / not a methodCall.
    assert xmlrpc(s, "this is not xml")[0] == -32700
    assert xmlrpc(s, "<?xml version=\"1.0\"?><notacall/>")[0] == -32700
    # -32601: another method.
    assert xmlrpc(s, call("wp.getUsersBlogs", "a", "b"))[0] == -32601
    # -32602: pingback.ping with one param.
    assert xmlrpc(s, call("pingback.ping", so.url("/x")))[0] == -32602
    # 0: source and target the same.
    assert pingback(s, target, target)[0] == 0
    # 16: the source does not exist (404), or is not an http(s) URL.
    assert pingback(s, so.url(uniq("pb-404")), target)[0] == 16
    assert pingback(s, "ftp://example.com/x", target)[0] == 16
    # 17: the source does not link to the target.
    assert pingback(s, so.plain(uniq("pb-nolink")), target)[0] == 17
    # 32: on this site but no such article.
    assert pingback(s, so.linking(uniq("pb-32"), s.origin + "/articles/99999999"),
                    s.origin + "/articles/99999999")[0] == 32
    assert pingback(s, so.linking(uniq("pb-32b"), s.origin + "/no/such/page"),
                    s.origin + "/no/such/page")[0] == 32
    # 33: not this site's; an article with comments closed.
    assert pingback(s, so.linking(uniq("pb-33"), "https://example.com/articles/1"),
                    "https://example.com/articles/1")[0] == 33
    closed = art_url(s, _ctx["closed"])
    assert pingback(s, so.linking(uniq("pb-33b"), closed), closed)[0] == 33
    # 48: already registered (by any ping type from the same source).
    source = so.linking(uniq("pb-48"), target)
    assert pingback(s, source, target)[0] == 0
    assert pingback(s, source, target)[0] == 48
    assert len(pings_of(s, aid, source)) == 1
    # 50: the source answers 500, or too slowly.
    assert pingback(s, so.page(uniq("pb-500"), 500, "oops"), target)[0] == 50
    t0 = time.monotonic()
    assert pingback(s, so.page(uniq("pb-slow"), 200, "<a href=\"%s\">x</a>" % target,
                               delay=SLOW), target)[0] == 50
    assert time.monotonic() - t0 < SLOW + 2
    s.assert_alive()


def test_pingback_denied():
    """49: an NG word (ng_action reject), a banned address, too many pings
    from one address; TrackBack answers error 1 for the same."""
    s, so = srv(), src()
    aid = open_article(s, 4)
    target = art_url(s, aid)
    s.config_set("comments.ngwords", "禁止語テスト")
    s.config_set("comments.ng_action", "reject")
    try:
        source = so.linking(uniq("pb-ng"), target, title="禁止語テストを含む題")
        assert pingback(s, source, target)[0] == 49
        assert not pings_of(s, aid, source)
        err, msg = trackback(s, "/articles/%d/trackback" % aid,
                             {"url": so.linking(uniq("tb-ng"), target),
                              "blog_name": "禁止語テストのブログ"})
        assert err == 1, msg
    finally:
        s.config_set("comments.ng_action", "pending")
        s.config_set("comments.ngwords", "")
    # A banned address.
    name, pw = admin_client.user(s, "admin", "pings")
    ed = admin_client.Editor(s)
    ed.login(name, pw)
    bad = kiji.next_ip()
    r = ed.submit("/admin/bans", {"kind": "ip", "value": bad, "note": "pings"})
    assert r.status == 303, (r.status, r.text[:300])
    source = so.linking(uniq("pb-ban"), target)
    assert pingback(s, source, target, headers={"X-Forwarded-For": bad})[0] == 49
    err, msg = trackback(s, "/articles/%d/trackback" % aid, {"url": source},
                         headers={"X-Forwarded-For": bad})
    assert err == 1, msg
    assert not pings_of(s, aid, source)
    # The comments' rate limit (5 at once per address by default).
    one = {"X-Forwarded-For": kiji.next_ip()}
    codes = [pingback(s, so.url("/x"), target, headers=one)[0] for _ in range(7)]
    assert 49 in codes, codes


# ---- Webmention -------------------------------------------------------------------------

def webmention(s, source, target, headers=None):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or fresh_ip())
    return s.request("POST", "/webmention",
                     body=urlencode({"source": source, "target": target}), headers=h)


def wait_for(fn, what):
    deadline = time.monotonic() + POLL
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("waited %.0f s for %s" % (POLL, what))


def test_webmention_accepted_verified_updated_deleted():
    s, so = srv(), src()
    aid = open_article(s, 5)
    target = art_url(s, aid)
    path = uniq("wm")
    source = so.linking(path, target, title="ウェブメンションの元記事")
    r = webmention(s, source, target)
    assert r.status == 202, (r.status, r.text)
    rows = wait_for(lambda: pings_of(s, aid, source), "the webmention to be stored")
    assert len(rows) == 1 and rows[0]["type"] == "pingback", rows
    assert rows[0]["nickname"] == "ウェブメンションの元記事"
    assert "ウェブメンションの元記事" in s.page("/articles/%d" % aid).text
    # A burst of the same pair queues one job while it is pending.
    jobs = s.sql("SELECT id FROM jobs WHERE kind = 'webmention'")
    for _ in range(3):
        assert webmention(s, source, target).status == 202
    assert len(s.sql("SELECT id FROM jobs WHERE kind = 'webmention'")) == len(jobs)
    # The source changes its title: sent again, the mention follows.
    so.linking(path, target, title="改題したウェブメンション")
    assert webmention(s, source, target).status == 202
    wait_for(lambda: [r for r in pings_of(s, aid, source)
                      if r["nickname"] == "改題したウェブメンション"], "the update")
    assert len(pings_of(s, aid, source)) == 1
    # The source is deleted (410): the mention goes.
    so.page(path, 410, "gone")
    assert webmention(s, source, target).status == 202
    wait_for(lambda: not pings_of(s, aid, source), "the deletion")
    assert "改題したウェブメンション" not in s.page("/articles/%d" % aid).text
    # A source that exists but no longer links also removes it.
    path2 = uniq("wm2")
    source2 = so.linking(path2, target, title="もう一つの元記事")
    assert webmention(s, source2, target).status == 202
    wait_for(lambda: pings_of(s, aid, source2), "the second mention")
    so.plain(path2)
    assert webmention(s, source2, target).status == 202
    wait_for(lambda: not pings_of(s, aid, source2), "the unlinked mention to go")


def test_webmention_refused():
    s, so = srv(), src()
    aid = open_article(s, 5)
    target = art_url(s, aid)
    source = so.linking(uniq("wm-bad"), target)
    for src_, tgt, why in [
            (target, target, "source = target"),
            (source, "https://example.com/articles/%d" % aid, "target not ours"),
            (source, s.origin + "/articles/99999999", "no such article"),
            (source, art_url(s, _ctx["closed"]), "comments closed"),
            ("javascript:alert(1)", target, "source not http(s)"),
            (source, "", "no target")]:
        r = webmention(s, src_, tgt)
        assert r.status == 400, (why, r.status, r.text)
        assert r.content_type == "text/plain" and r.text.strip(), (why, r.text)


# ---- discovery ----------------------------------------------------------------------------

def test_discovery_on_article_page():
    s = srv()
    aid = open_article(s, 1)
    base = s.origin
    s.config_set("cache.ttl", "60")  # a settings change empties the cache
    seen = []
    for attempt in range(2):  # a miss, then the cached copy: same headers
        r = s.page("/articles/%d" % aid)
        seen.append(r.header("x-cache"))
        assert r.header("x-pingback") == base + "/xmlrpc", r.header_list
        link = r.header("link") or ""
        assert ("<%s/webmention>" % base) in link and 'rel="webmention"' in link, link
    assert seen == ["miss", "hit"], seen
    links = {(n.get("rel"), n.get("href")) for n in r.doc.select("link")}
    assert ("pingback", base + "/xmlrpc") in links, links
    assert ("webmention", base + "/webmention") in links, links
    # The TrackBack RDF, inside an HTML comment, naming this article.
    m = re.search(r"<!--\s*(<rdf:RDF.*?</rdf:RDF>)\s*-->", r.text, re.S)
    assert m, "no TrackBack RDF block"
    rdf = ET.fromstring(m.group(1))
    d = rdf.find("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description")
    assert d is not None
    assert d.get("{http://purl.org/dc/elements/1.1/}identifier") == "%s/articles/%d" % (base, aid)
    ping = d.get("{http://madskills.com/public/xml/rss/module/trackback/}ping")
    assert ping == "%s/articles/%d/trackback" % (base, aid)
    title = s.sql("SELECT title FROM articles WHERE id = ?", (aid,))[0][0]
    assert d.get("{http://purl.org/dc/elements/1.1/}title") == title
    shown = r.doc.select_one("p.trackback-url code")
    assert shown is not None and shown.text() == ping, r.text[-2000:]
    # The advertised endpoints answer.
    path = ping[len(base):]
    assert trackback(s, path, {"title": "x"})[0] == 1
    assert xmlrpc(s, "junk", path="/xmlrpc")[0] == -32700
    assert s.request("POST", "/webmention", body=b"",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}
                     ).status == 400
    # A closed article announces no TrackBack URL.
    r = s.page("/articles/%d" % _ctx["closed"])
    assert "rdf:RDF" not in r.text and "/trackback" not in r.text


def test_zz_stop_source():
    if "src" in _ctx:
        _ctx.pop("src").stop()
