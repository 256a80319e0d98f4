"""TrackBacks in the sender's charset: old Japanese blogs ping in EUC-JP,
Shift_JIS or ISO-2022-JP and name it in the Content-Type (or, some
services, in a charset field). Against a kiji of its own (base_url its
real address, fetches allowed to loopback) with a small source server on
127.0.0.2 whose pages link to the article: the Japanese title, excerpt and
blog name arrive as UTF-8 in the article's trackback list; bytes invalid
for the declared charset, an unknown charset, invalid UTF-8 without a
charset and an over-long field are all answered with TrackBack's XML
(error 1), never the HTML 400 page, and store nothing."""

import http.server
import threading
import time
import xml.etree.ElementTree as ET
from urllib.parse import quote_from_bytes

import kiji

_ctx = {}


class Source:
    """Loopback pages that link to a target (path → HTML); stop() ends it."""

    def __init__(self):
        self.pages = {}
        self.hits = {}
        self.lock = threading.Lock()
        src = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with src.lock:
                    body = src.pages.get(self.path)
                    src.hits[self.path] = src.hits.get(self.path, 0) + 1
                status = 200 if body is not None else 404
                data = (body or "<p>not here</p>").encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def log_message(self, *a):
                pass

        # another host than kiji's 127.0.0.1, as a remote blog is
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.2", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.2:%d%s" % (self.port, path)

    def linking(self, path, target):
        with self.lock:
            self.pages[path] = (
                "<!DOCTYPE html><html><head><title>昔のブログ</title></head><body>"
                "<p>紹介: <a href=\"%s\">元の記事</a></p></body></html>" % target)
        return self.url(path)

    def hit(self, url):
        with self.lock:
            return self.hits.get(url[url.index("/", 8):], 0)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def srv():
    if "srv" in _ctx:
        return _ctx["srv"], _ctx["src"]
    s = kiji.server("pings-charset", start=False, articles=3, comments=1, seed=21,
                    settings={"net.allow_loopback": "1",
                              "pings.fetch_timeout": "2",
                              "pings.fetches_per_host_minute": "100000",
                              "http.trusted_proxies": "127.0.0.1"})
    md = s.tmp / "tb.md"
    md.write_text("---\ntitle: 文字コードの記事\nstatus: published\n"
                  "date: 2024-01-01T09:00:00+09:00\nauthor: admin\n---\n\n本文。\n",
                  "utf-8")
    _ctx["aid"] = int(s.cli("post", "new", str(md)).stdout.strip())
    s.start()
    s.config_set("site.base_url", s.origin)
    _ctx["srv"] = s
    _ctx["src"] = Source()
    return s, _ctx["src"]


_n = [0]


def uniq(prefix):
    _n[0] += 1
    return "/%s-%d-%d" % (prefix, _n[0], int(time.time() * 1000) % 100000)


def form(fields, charset):
    """An urlencoded body with each value encoded in charset (Python's
    codec name), %-escaped byte by byte, as an old blog tool sends it."""
    out = []
    for k, v in fields:
        b = v if isinstance(v, bytes) else v.encode(charset)
        out.append("%s=%s" % (k, quote_from_bytes(b, safe="")))
    return "&".join(out).encode("ascii")


def post_tb(s, path, body, ctype):
    """POSTs a TrackBack; returns (error, message) from the XML answer,
    which must come with status 200 whatever the outcome."""
    r = s.request("POST", path, body=body, headers={
        "Content-Type": ctype, "X-Forwarded-For": kiji.next_ip()})
    assert r.status == 200, "POST %s: %d\n%s" % (path, r.status, r.text[:400])
    assert r.content_type == "text/xml", (r.header("content-type"), r.text[:400])
    root = ET.fromstring(r.body)
    assert root.tag == "response", r.text
    return int(root.findtext("error")), root.findtext("message")


def pings_of(s, aid, url):
    return [dict(r) for r in s.sql(
        "SELECT * FROM comments WHERE article_id = ? AND type = 'trackback' "
        "AND url = ?", (aid, url))]


def check_listed(s, aid, url, blog, title, excerpt):
    rows = pings_of(s, aid, url)
    assert len(rows) == 1, rows
    assert rows[0]["nickname"] == blog, rows
    assert title in rows[0]["body"] and excerpt in rows[0]["body"], rows
    p = s.page("/articles/%d" % aid)
    assert any(a.get("href") == url and a.text().strip() == blog
               for a in p.doc.select("li.trackback a")), p.text[-3000:]
    assert excerpt in p.text


def tb_path():
    return "/articles/%d/trackback" % _ctx["aid"]


def art_url(s):
    return "%s/articles/%d" % (s.origin, _ctx["aid"])


def test_trackback_euc_jp():
    s, so = srv()
    url = so.linking(uniq("euc"), art_url(s))
    blog, title, excerpt = "旧ブログ・ＥＵＣ", "ＥＵＣで書いた記事", "①まで含む抜粋ｶﾅ"
    body = form([("url", url), ("title", title), ("excerpt", excerpt),
                 ("blog_name", blog)], "euc_jis_2004")
    err, msg = post_tb(s, tb_path(), body,
                       "application/x-www-form-urlencoded; charset=EUC-JP")
    assert err == 0, msg
    check_listed(s, _ctx["aid"], url, blog, title, excerpt)


def test_trackback_shift_jis():
    s, so = srv()
    # '~' in the source URL must stay '~' (strict SJIS would make it ‾)
    url = so.linking(uniq("~sjis"), art_url(s))
    blog, title, excerpt = "シフトJISの日記", "ｼﾌﾄJISで書いた記事", "トラックバック送信テスト～"
    body = form([("url", url), ("title", title), ("excerpt", excerpt),
                 ("blog_name", blog)], "cp932")
    err, msg = post_tb(s, tb_path(), body,
                       "application/x-www-form-urlencoded; charset=Shift_JIS")
    assert err == 0, msg
    check_listed(s, _ctx["aid"], url, blog, title, excerpt)


def test_trackback_iso_2022_jp_and_charset_field():
    s, so = srv()
    url = so.linking(uniq("jis"), art_url(s))
    body = form([("url", url), ("title", "JISの記事"), ("excerpt", "七ビットの抜粋"),
                 ("blog_name", "JISブログ")], "iso2022_jp")
    err, msg = post_tb(s, tb_path(), body,
                       "application/x-www-form-urlencoded; charset=iso-2022-jp")
    assert err == 0, msg
    check_listed(s, _ctx["aid"], url, "JISブログ", "JISの記事", "七ビットの抜粋")
    # A charset field (some Japanese services) when the header names none.
    url = so.linking(uniq("field"), art_url(s))
    body = form([("charset", "EUC-JP"), ("url", url), ("title", "欄で宣言"),
                 ("excerpt", "欄の抜粋"), ("blog_name", "欄ブログ")], "euc_jp")
    err, msg = post_tb(s, tb_path(), body, "application/x-www-form-urlencoded")
    assert err == 0, msg
    check_listed(s, _ctx["aid"], url, "欄ブログ", "欄で宣言", "欄の抜粋")


def test_trackback_bytes_invalid_for_charset():
    s, so = srv()
    aid = _ctx["aid"]
    cases = [
        # a lead byte with no trail byte, in EUC-JP
        ("application/x-www-form-urlencoded; charset=EUC-JP", b"\xc6\xfc\xcb", "EUC-JP"),
        # a lead byte followed by a space, in Shift_JIS
        ("application/x-www-form-urlencoded; charset=Shift_JIS", b"\x82 ", "Shift_JIS"),
        # Shift_JIS bytes with no charset: not UTF-8, and nothing else is tried
        ("application/x-www-form-urlencoded", "日本語".encode("cp932"), "UTF-8"),
    ]
    for ctype, bad, name in cases:
        url = so.linking(uniq("bad"), art_url(s))
        body = form([("url", url), ("title", bad), ("blog_name", "broken")], "ascii")
        err, msg = post_tb(s, tb_path(), body, ctype)
        assert err == 1 and name in msg, (ctype, msg)
        assert not pings_of(s, aid, url)
        assert so.hit(url) == 0, "fetched the source of a refused ping"
    s.assert_alive()


def test_trackback_unknown_charset():
    s, so = srv()
    aid = _ctx["aid"]
    for cs in ("KOI8-R", "x-bogus-charset", "UTF-16"):
        url = so.linking(uniq("cs"), art_url(s))
        body = form([("url", url), ("title", "abc"), ("blog_name", "x")], "ascii")
        err, msg = post_tb(s, tb_path(), body,
                           "application/x-www-form-urlencoded; charset=%s" % cs)
        assert err == 1 and "nsupported charset" in msg and cs in msg, msg
        assert not pings_of(s, aid, url)
    # the same on WordPress's door
    old = s.request("POST", "/wp-trackback.php?p=1", body=b"url=x",
                    headers={"Content-Type": "application/x-www-form-urlencoded; "
                             "charset=KOI8-R", "X-Forwarded-For": kiji.next_ip()})
    assert old.status == 200 and old.content_type == "text/xml", old.text[:300]
    assert b"<error>1</error>" in old.body and b"charset" in old.body


def test_trackback_form_refusals_are_xml():
    s, so = srv()
    euc = "application/x-www-form-urlencoded; charset=EUC-JP"
    # limits count bytes as sent: a title of 4000 EUC-JP bytes passes
    # (6000 once UTF-8), one of 4098 is over its 4096
    ok = so.linking(uniq("long-ok"), art_url(s))
    err, msg = post_tb(s, tb_path(), form([("url", ok), ("title", "あ" * 2000)],
                                          "euc_jp"), euc)
    assert err == 0, msg
    url = so.linking(uniq("long"), art_url(s))
    err, msg = post_tb(s, tb_path(), form([("url", url), ("title", "あ" * 2049)],
                                          "euc_jp"), euc)
    assert err == 1 and "too long" in msg and "title at most 4096" in msg, msg
    # a url on two lines; a form that is not urlencoded
    err, msg = post_tb(s, tb_path(), b"url=http%3A%2F%2Fa%0Ab",
                       "application/x-www-form-urlencoded")
    assert err == 1, msg
    err, msg = post_tb(s, tb_path(), b'{"url": "x"}', "application/json")
    assert err == 1 and "urlencoded" in msg, msg
    # missing url, in Shift_JIS
    err, msg = post_tb(s, tb_path(), form([("title", "URLなし")], "cp932"),
                       "application/x-www-form-urlencoded; charset=Shift_JIS")
    assert err == 1 and "url" in msg, msg
    # a body over the route's limit is still the HTTP core's 413
    r = s.request("POST", tb_path(), body=b"excerpt=" + b"x" * 40000, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Forwarded-For": kiji.next_ip()})
    assert r.status == 413, r.status
    assert not pings_of(s, _ctx["aid"], url)
    s.assert_alive()


def test_comments_stay_utf8_only():
    """The comment form does not take other charsets: EUC-JP bytes are
    refused with 400 whatever the Content-Type says."""
    s, _ = srv()
    aid = _ctx["aid"]
    r = s.request("POST", "/articles/%d/comments" % aid,
                  body=form([("nickname", "名無し"), ("body", "本文")], "euc_jp"),
                  headers={"Content-Type": "application/x-www-form-urlencoded; "
                           "charset=EUC-JP", "X-Forwarded-For": kiji.next_ip()})
    assert r.status == 400, (r.status, r.text[:300])


def test_zz_stop_source():
    if "src" in _ctx:
        _ctx.pop("src").stop()
