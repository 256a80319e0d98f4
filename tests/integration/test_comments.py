"""Reader comments over real HTTP (issue 3): posting from the form and the
JSON API, every refusal with the reader's text re-shown, normalisation and
auto-links, replies, moderation, NG words, rate limits and proxies, live
settings, the moderation CLI, the comment feed and what caches must do.

Servers of their own (kiji.server):
  "comments": the shipped defaults except http.trusted_proxies=127.0.0.1,
      so every visitor can send its own X-Forwarded-For address and gets a
      bucket of its own while the rate limits stay on, and one NG word
      (HOLD) with the default action, so a test can have a pending comment
      without switching the moderation mode;
  "defaults": nothing changed at all (rate limit, proxies, moderation);
  "threads": six worker threads, for settings reaching every thread.
Tests that change a setting put it back when they end."""

import datetime as dt
import json
import re
import socket
import subprocess
import time
import unicodedata
import uuid
import xml.etree.ElementTree as ET

import htmldom
import kiji
from kiji import Visitor, next_ip

JST = kiji.JST
REL = {"nofollow", "ugc", "noopener"}
HOLD = "保留語"  # NG word of the "comments" server: holds a comment for moderation
_rr = [0]


# ---- fixtures -------------------------------------------------------------------

def srv():
    return kiji.server("comments", articles=30, comments=4, seed=3,
                       settings={"http.trusted_proxies": "127.0.0.1", "comments.ngwords": HOLD})


def dsrv():
    return kiji.server("defaults", articles=8, comments=2, seed=5)


def open_articles(s):
    return [r[0] for r in s.sql(
        "SELECT id FROM articles WHERE kind = 'post' AND status = 'published' "
        "AND published_at <= ? AND comments_open = 1 ORDER BY published_at DESC, id DESC",
        (kiji.now_epoch(),))]


def article(s=None):
    """The next open article, round robin, so comments spread out."""
    s = s or srv()
    ids = open_articles(s)
    assert ids, "%s: no visible article open for comments" % s.name
    _rr[0] += 1
    return ids[_rr[0] % len(ids)]


def mark():
    """A unique word to find one test's comment by."""
    return "m" + uuid.uuid4().hex[:12]


def visitor(s=None, ip="rotate"):
    return Visitor(s or srv(), ip=ip)


def setting(s, key, value):
    """Context manager: key=value for the block, then the server's own
    value back (what it was built with, else the shipped default)."""
    class _Ctx:
        def __enter__(self):
            own_ = dict(s.settings)
            self.old = own_[key] if key in own_ else DEFAULTS.get(key)
            if self.old is None:
                self.old = s.config_get(key)
            s.config_set(key, value)
            return self

        def __exit__(self, *exc):
            s.config_set(key, self.old)
            return False
    return _Ctx()


# ---- posting helpers ---------------------------------------------------------------

def token_of(v, aid):
    r = v.page("/articles/%d" % aid)
    t = r.doc.select_one("form#comment-form input[name=token]")
    assert t is not None and t.get("value"), "/articles/%d: no token in form#comment-form" % aid
    return t.get("value")


def post(v, aid, body, nickname="", parent=0, token=None, omit=(), **extra):
    if token is None:
        token = token_of(v, aid)
    f = {"nickname": nickname, "body": body, "parent": str(parent), "token": token,
         "url": "", "opened": ""}
    f.update(extra)
    for k in omit:
        f.pop(k, None)
    return v.post("/articles/%d/comments" % aid, f)


def posted(r, aid):
    """The new comment's id from a 303 answer."""
    assert r.status == 303, "POST comment: %d, want 303\n%s" % (r.status, _err_text(r))
    loc = r.header("location") or ""
    m = re.fullmatch(r"/articles/%d#comment-([1-9][0-9]*)" % aid, loc)
    assert m, "Location %r, want /articles/%d#comment-<id>" % (loc, aid)
    return int(m.group(1))


def new_comment(v, aid, body, **kw):
    return posted(post(v, aid, body, **kw), aid)


def _err_text(r):
    try:
        e = r.doc.select_one("p.form-error")
        if e is not None:
            return "form-error: " + e.text_norm()
    except Exception:
        pass
    return r.text[:400]


def li_of(doc, cid):
    return doc.select_one("li#comment-%d" % cid)


def own(li, selector):
    return [n for n in li.select(selector) if n.closest("li.comment") is li]


def body_div(li):
    b = own(li, "div.comment-body")
    assert len(b) == 1, "comment %s: %d div.comment-body" % (li.get("id"), len(b))
    return b[0]


def shown_text(div):
    """The comment text as shown: paragraphs joined by a blank line; the
    formatter puts a newline after every <br>, so a p's text keeps its lines."""
    ps = [p for p in div.children if p.tag == "p"]
    stray = [n for n in div.children if n.tag not in (None, "p")]
    assert not stray, "comment body has elements other than p: %r" % stray
    loose = "".join(n.data for n in div.children if n.tag is None).strip()
    assert not loose, "comment body has text outside <p>: %r" % loose
    return "\n\n".join(p.text() for p in ps)


def author_of(li):
    a = own(li, "span.comment-author")
    assert len(a) == 1, "comment %s: %d span.comment-author" % (li.get("id"), len(a))
    return a[0].text()


def row(s, cid):
    rows = s.sql("SELECT * FROM comments WHERE id = ?", (cid,))
    assert rows, "comment %d is not in the database" % cid
    return rows[0]


def count_with(s, text):
    return s.sql("SELECT COUNT(*) FROM comments WHERE body LIKE ? OR nickname LIKE ?",
                 ("%" + text + "%", "%" + text + "%"))[0][0]


def heading_count(doc):
    c = doc.select_one("section#comments h2 span.count")
    assert c is not None, "no section#comments h2 span.count"
    return int(re.sub(r"[^0-9]", "", c.text()) or "0")


def nfc_clean(s, multiline=True):
    """What the server stores: CRLF/CR -> LF (single line: white space ->
    space), NFC, trimmed of ASCII white space and U+3000."""
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        s = s.replace("\n", " ").replace("\t", " ")
    s = unicodedata.normalize("NFC", s)
    return s.strip(" \n\t\u3000")


def assert_form_error(r, status, aid, nickname, body, parent=0, says=None):
    """A 4xx Japanese page that re-shows the form with what was typed."""
    assert r.status == status, "status %d, want %d\n%s" % (r.status, status, _err_text(r))
    assert r.content_type == "text/html", "Content-Type %r" % r.header("content-type")
    assert "no-store" in (r.header("cache-control") or ""), \
        "error page Cache-Control %r, want no-store" % r.header("cache-control")
    d = r.doc
    html = d.select_one("html")
    assert html is not None and html.get("lang") == "ja", "error page is not lang=ja"
    e = d.select_one("p.form-error")
    assert e is not None, "no p.form-error on the %d page" % status
    assert kiji.has_japanese(e.text()), "p.form-error %r is not Japanese" % e.text_norm()
    if says:
        assert says in e.text(), "p.form-error %r does not say %r" % (e.text_norm(), says)
    f = d.select_one("form#comment-form")
    assert f is not None, "the %d page has no form#comment-form" % status
    assert f.get("action") == "/articles/%d/comments" % aid, "form action %r" % f.get("action")
    n = f.select_one("input[name=nickname]")
    assert n is not None and n.get("value", "") == nickname, \
        "nickname re-shown as %r, typed %r" % (n and n.get("value"), nickname)
    t = f.select_one("textarea[name=body]")
    assert t is not None and t.text() == body, \
        "body re-shown as %r, typed %r" % (t and t.text()[:200], body[:200])
    p = f.select_one("input[name=parent]")
    assert p is not None and p.get("value") == str(parent), \
        "parent re-shown as %r, want %d" % (p and p.get("value"), parent)
    tok = f.select_one("input[name=token]")
    assert tok is not None and tok.get("value"), "the re-shown form has no token"
    return e.text_norm()


def api_get(v, aid):
    r = v.get("/api/articles/%d/comments" % aid, headers={"Accept": "application/json"})
    assert r.status == 200, "GET /api/articles/%d/comments: %d\n%s" % (aid, r.status, r.text[:300])
    assert r.content_type == "application/json", "Content-Type %r" % r.header("content-type")
    return json.loads(r.text)


def api_post(v, aid, obj, headers=None):
    return v.post_json("/api/articles/%d/comments" % aid, obj, headers=headers)


def api_fields(v, aid, body, **kw):
    o = {"nickname": "", "body": body, "parent": 0, "token": api_get(v, aid)["token"],
         "url": "", "opened": ""}
    o.update(kw)
    return o


def api_error(r, status, code):
    assert r.status == status, "API: %d, want %d\n%s" % (r.status, status, r.text[:300])
    assert r.content_type == "application/json", "API error Content-Type %r" % r.header("content-type")
    j = json.loads(r.text)
    assert set(j) == {"error"} and isinstance(j["error"], dict), "API error body %r" % j
    codes = code if isinstance(code, tuple) else (code,)
    assert j["error"].get("code") in codes, "API error code %r, want %r" % (j["error"].get("code"), code)
    msg = j["error"].get("message")
    assert isinstance(msg, str) and kiji.has_japanese(msg), "API error message %r" % msg
    return j


def flatten(cs):
    out = []
    for c in cs:
        out.append(c)
        out.extend(flatten(c["replies"]))
    return out


def xmllint(data):
    r = subprocess.run(["xmllint", "--noout", "-"], input=data, capture_output=True, timeout=30)
    assert r.returncode == 0, "xmllint: %s" % r.stderr.decode("utf-8", "replace")[:1000]


# ---- posting --------------------------------------------------------------------------

def test_post_form_answers_303_and_comment_is_shown():
    s = srv()
    aid = article()
    v = visitor()
    before = heading_count(v.page("/articles/%d" % aid).doc)
    m = mark()
    r = post(v, aid, "記事を読みました。%s" % m, nickname="山田")
    cid = posted(r, aid)
    ck = [val for k, val in r.header_list if k.lower() == "set-cookie" and val.startswith("kiji_v=")]
    assert len(ck) == 1, "no (or several) kiji_v Set-Cookie on the first post: %r" % r.header_list
    attrs = [a.strip().lower() for a in ck[0].split(";")[1:]]
    assert "httponly" in attrs and "path=/" in attrs and "samesite=lax" in attrs, \
        "kiji_v cookie attributes %r" % ck[0]
    assert not any(val.startswith("kiji_p=") for k, val in r.header_list
                   if k.lower() == "set-cookie"), "kiji_p set for an approved comment"
    d = v.page("/articles/%d" % aid).doc
    li = li_of(d, cid)
    assert li is not None, "li#comment-%d not on the page after the 303" % cid
    assert "pending" not in li.classes, "an approved comment is marked pending"
    assert author_of(li) == "山田"
    assert shown_text(body_div(li)) == "記事を読みました。%s" % m
    t = own(li, "time.comment-date")
    assert len(t) == 1 and t[0].text().strip() == kiji.ja_date(kiji.now_epoch(), JST), \
        "comment date %r" % (t and t[0].text())
    lc = own(li, "span.like-count")
    assert len(lc) == 1 and lc[0].text().strip() == "0", "like count %r" % (lc and lc[0].text())
    rl = own(li, "a.reply-link")
    assert len(rl) == 1 and rl[0].get("href").endswith("?replytocom=%d#respond" % cid)
    assert heading_count(d) == before + 1, "comment count %d, want %d" % (heading_count(d), before + 1)
    c = row(s, cid)
    assert (c["article_id"], c["status"], c["nickname"], c["parent_id"] or 0) == (aid, "approved", "山田", 0)
    # another reader sees it too (moderation: none by default)
    d2 = visitor().page("/articles/%d" % aid).doc
    assert li_of(d2, cid) is not None, "another visitor does not see the approved comment"


def test_returning_visitor_keeps_one_visitor_id():
    s = srv()
    aid = article()
    v = visitor()
    c1 = new_comment(v, aid, "一回目 " + mark())
    vid = v.cookies.get("kiji_v")
    assert vid, "no kiji_v cookie after the first post"
    r = post(v, aid, "二回目 " + mark())
    c2 = posted(r, aid)
    assert not any(k.lower() == "set-cookie" and val.startswith("kiji_v=")
                   for k, val in r.header_list), "kiji_v set again for a visitor who has one"
    ids = {row(s, c)["visitor_id"] for c in (c1, c2)}
    assert len(ids) == 1 and "" not in ids, "visitor ids %r, want one" % ids
    assert vid.startswith(next(iter(ids))), "the cookie does not carry the stored visitor id"


def test_forged_visitor_cookie_is_replaced():
    s = srv()
    aid = article()
    v = visitor()
    v.cookies["kiji_v"] = "0" * 32 + "." + "0" * 32
    r = post(v, aid, "偽クッキー " + mark())
    cid = posted(r, aid)
    new = v.cookies.get("kiji_v")
    assert new and new != "0" * 32 + "." + "0" * 32, "a forged kiji_v was accepted"
    assert row(s, cid)["visitor_id"] != "0" * 32, "comment stored under the forged visitor id"


def test_empty_nickname_becomes_default_name():
    s = srv()
    aid = article()
    v = visitor()
    d = v.page("/articles/%d" % aid).doc
    ph = d.select_one("form#comment-form input[name=nickname]").get("placeholder")
    assert ph == "名無しさん", "nickname placeholder %r" % ph
    for nick in ("", "  \u3000 "):
        cid = new_comment(v, aid, "名前なし " + mark(), nickname=nick)
        assert row(s, cid)["nickname"] == "名無しさん", "stored nickname %r" % row(s, cid)["nickname"]
        li = li_of(v.page("/articles/%d" % aid).doc, cid)
        assert author_of(li) == "名無しさん", "shown nickname %r for %r" % (author_of(li), nick)


def test_default_name_setting_applies_without_restart():
    s = srv()
    aid = article()
    with setting(s, "comments.default_name", "匿名希望"):
        v = visitor()
        cid = new_comment(v, aid, "匿名 " + mark())
        assert author_of(li_of(v.page("/articles/%d" % aid).doc, cid)) == "匿名希望"
    cid = new_comment(visitor(), aid, "戻した " + mark())
    assert row(s, cid)["nickname"] == "名無しさん"


def test_text_is_stored_nfc_with_lf_and_trimmed():
    s = srv()
    aid = article()
    m = mark()
    body = "\r\n  \u3000cafe\u0301 \u304b\u3099\r\n2行目 ｶﾀｶﾅ①\r\n\r\n\r\n段落2 %s  \u3000\r\n\r\n" % m
    nick = " Zoe\u0308\r\n山田\t太郎 "
    v = visitor()
    cid = new_comment(v, aid, body, nickname=nick)
    c = row(s, cid)
    want = "café が\n2行目 ｶﾀｶﾅ①\n\n\n段落2 %s" % m
    assert c["body"] == want, "stored body %r, want %r" % (c["body"], want)
    assert unicodedata.is_normalized("NFC", c["body"])
    assert c["nickname"] == "Zoë 山田 太郎", "stored nickname %r" % c["nickname"]
    li = li_of(v.page("/articles/%d" % aid).doc, cid)
    assert author_of(li) == "Zoë 山田 太郎"
    # blank-line runs make one paragraph break; NFKC is not applied (ｶﾀｶﾅ① kept)
    assert shown_text(body_div(li)) == "café が\n2行目 ｶﾀｶﾅ①\n\n段落2 %s" % m


def test_paragraphs_and_line_breaks():
    aid = article()
    v = visitor()
    cid = new_comment(v, aid, "一行目\n二行目\n\n二段落目\n\n\n\n三段落目")
    div = body_div(li_of(v.page("/articles/%d" % aid).doc, cid))
    ps = [p for p in div.children if p.tag == "p"]
    assert len(ps) == 3, "%d paragraphs, want 3: %r" % (len(ps), [p.text() for p in ps])
    assert [e.tag for e in ps[0].child_elements()] == ["br"], "first paragraph %r" % ps[0].children
    assert ps[0].text() == "一行目\n二行目" and ps[1].text() == "二段落目" and ps[2].text() == "三段落目"
    assert not ps[1].child_elements() and not ps[2].child_elements()


def test_urls_are_auto_linked_nofollow():
    aid = article()
    v = visitor()
    body = ("参考 https://example.jp/です。\n"
            "括弧 (https://example.com/wiki/A_(b)) と <https://example.org/q?a=1&b=2>.\n"
            "末尾 http://example.net/path, 以上!\n"
            "だめ javascript:alert(1) ftp://example.com/x www.example.com https:// http:///x")
    cid = new_comment(v, aid, body)
    div = body_div(li_of(v.page("/articles/%d" % aid).doc, cid))
    links = [(a.get("href"), a.text(), set((a.get("rel") or "").split())) for a in div.select("a")]
    want = ["https://example.jp/", "https://example.com/wiki/A_(b)",
            "https://example.org/q?a=1&b=2", "http://example.net/path"]
    assert [h for h, _, _ in links] == want, "links %r, want %r" % ([h for h, _, _ in links], want)
    for h, text, rel in links:
        assert text == h, "link text %r != href %r" % (text, h)
        assert rel == REL, "link rel %r, want %r" % (rel, REL)
    for a in div.select("a"):
        assert set(a.attrs) == {"href", "rel"}, "link attributes %r" % a.attrs
    assert shown_text(div) == body, "text around the links changed: %r" % shown_text(div)


# ---- refusals: each re-shows the form with what was typed ------------------------------

def test_empty_body_is_422_with_form_refilled():
    s = srv()
    aid = article()
    nick = "空本文" + mark()
    r = post(visitor(), aid, " \r\n\u3000 \r\n", nickname=nick)
    assert_form_error(r, 422, aid, nick, " \r\n\u3000 \r\n", says="本文")
    assert count_with(s, nick) == 0


def test_body_too_long_is_422_and_says_the_limit():
    s = srv()
    aid = article()
    m = mark()
    body = m + "あ" * (4001 - len(m))
    r = post(visitor(), aid, body, nickname="長文")
    assert_form_error(r, 422, aid, "長文", body, says="4000")
    assert count_with(s, m) == 0
    # the limit itself is allowed
    m2 = mark()
    cid = new_comment(visitor(), aid, m2 + "あ" * (4000 - len(m2)))
    assert len(row(s, cid)["body"]) == 4000


def test_nickname_too_long_is_422_and_says_the_limit():
    s = srv()
    aid = article()
    m = mark()
    nick = "名" * 41
    body = "名前が長い " + m
    assert_form_error(post(visitor(), aid, body, nickname=nick), 422, aid, nick, body, says="40")
    assert count_with(s, m) == 0
    cid = new_comment(visitor(), aid, body, nickname="名" * 40)
    assert row(s, cid)["nickname"] == "名" * 40


def test_body_limit_setting_applies_without_restart():
    s = srv()
    aid = article()
    with setting(s, "comments.max_body", "20"):
        body = "あ" * 21
        assert_form_error(post(visitor(), aid, body), 422, aid, "", body, says="20")
        new_comment(visitor(), aid, "い" * 20)


def test_unknown_parent_is_422():
    aid = article()
    body = "返信先なし " + mark()
    r = post(visitor(), aid, body, nickname="n", parent=99999999)
    assert_form_error(r, 422, aid, "n", body, parent=99999999)


def test_malformed_parent_is_422():
    s = srv()
    aid = article()
    body = "返信先が数字でない " + mark()
    r = post(visitor(), aid, body, parent="12x")
    assert r.status == 422, "parent=12x: %d" % r.status
    assert count_with(s, body) == 0


def test_parent_from_another_article_is_422():
    s = srv()
    a1 = article()
    a2 = article()
    assert a1 != a2
    other = new_comment(visitor(), a2, "別の記事 " + mark())
    body = "よその記事への返信 " + mark()
    r = post(visitor(), a1, body, parent=other)
    assert_form_error(r, 422, a1, "", body, parent=other)
    assert count_with(s, body) == 0


def test_parent_not_approved_is_422():
    s = srv()
    aid = article()
    pend = new_comment(visitor(), aid, HOLD + " 保留中 " + mark())
    assert row(s, pend)["status"] == "pending"
    spam = new_comment(visitor(), aid, "スパムにされる " + mark())
    s.cli("comments", "spam", spam)
    for parent in (pend, spam):
        body = "承認されていない親への返信 " + mark()
        r = post(visitor(), aid, body, parent=parent)
        assert_form_error(r, 422, aid, "", body, parent=parent)
        assert count_with(s, body) == 0


def test_missing_token_is_403():
    s = srv()
    aid = article()
    body = "トークンなし " + mark()
    assert_form_error(post(visitor(), aid, body, omit=("token",)), 403, aid, "", body)
    assert_form_error(post(visitor(), aid, body, token=""), 403, aid, "", body)
    assert count_with(s, body) == 0


def test_bad_token_is_403():
    s = srv()
    aid = article()
    body = "不正トークン " + mark()
    hour = kiji.now_epoch() // 3600
    good = s.mint_token(aid, hour)
    for tok in ("abc", "%d.%s" % (hour, "0" * 32), good[:-1] + ("0" if good[-1] != "0" else "1"),
                good.upper(), "0" + good, good + "0"):
        assert_form_error(post(visitor(), aid, body, token=tok), 403, aid, "", body)
    assert count_with(s, body) == 0


def test_token_of_another_article_is_403():
    s = srv()
    a1, a2 = article(), article()
    body = "他記事のトークン " + mark()
    v = visitor()
    r = post(v, a1, body, token=token_of(v, a2))
    assert_form_error(r, 403, a1, "", body)
    assert count_with(s, body) == 0


def test_expired_token_is_403_and_48_hours_still_work():
    s = srv()
    aid = article()
    v = visitor()
    hour = kiji.now_epoch() // 3600
    page_tok = token_of(v, aid)
    assert page_tok == s.mint_token(aid, int(page_tok.split(".")[0])), \
        "test's token minting does not match the server's"
    body = "期限切れ " + mark()
    for h in (hour - 49, hour - 500, hour + 3):
        r = post(v, aid, body, token=s.mint_token(aid, h))
        assert_form_error(r, 403, aid, "", body, says="有効期限")
    assert count_with(s, body) == 0
    # a page served from a cache 47 hours ago still posts
    new_comment(v, aid, "47時間前のページ " + mark(), token=s.mint_token(aid, hour - 47))


def test_honeypot_is_400():
    s = srv()
    aid = article()
    body = "ボット " + mark()
    r = post(visitor(), aid, body, nickname="bot", url="http://spam.example/")
    assert_form_error(r, 400, aid, "bot", body)
    assert count_with(s, body) == 0


def test_too_fast_is_429():
    s = srv()
    aid = article()
    body = "早すぎ " + mark()
    now = int(time.time())
    for opened in (now, now - 1, now + 60):
        r = post(visitor(), aid, body, opened=str(opened))
        assert_form_error(r, 429, aid, "", body)
    assert count_with(s, body) == 0
    new_comment(visitor(), aid, "ゆっくり " + mark(), opened=str(now - 10))


def test_malformed_fill_stamp_is_400():
    s = srv()
    aid = article()
    body = "スタンプ不正 " + mark()
    for opened in ("abc", "-5", "0", "12.5"):
        r = post(visitor(), aid, body, opened=opened)
        assert r.status == 400, "opened=%r: %d" % (opened, r.status)
    assert count_with(s, body) == 0


def test_invalid_utf8_is_400():
    s = srv()
    aid = article()
    v = visitor()
    tok = token_of(v, aid)
    m = mark()
    for bad in ("%FF%FE", "%C3%28", "%ED%A0%80", "%F4%90%80%80", "%C0%AF"):
        raw = "nickname=x&body=%s%s&parent=0&token=%s&url=" % (m, bad, tok)
        r = v.post("/articles/%d/comments" % aid, body=raw,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 400, "body with %s: %d" % (bad, r.status)
        assert kiji.has_japanese(r.text), "400 page for invalid UTF-8 is not Japanese"
    assert count_with(s, m) == 0
    s.assert_alive()


def test_nul_byte_is_400():
    s = srv()
    aid = article()
    m = mark()
    for nick, body in (("", m + "a\0b"), ("a\0b", m)):
        r = post(visitor(), aid, body, nickname=nick)
        assert r.status == 400, "NUL in %s: %d" % ("body" if "\0" in body else "nickname", r.status)
    assert count_with(s, m) == 0


def test_control_character_is_400_with_form_refilled():
    s = srv()
    aid = article()
    m = mark()
    body = "制御文字\x01\x1b[31m " + m
    r = post(visitor(), aid, body, nickname="ctl")
    assert_form_error(r, 400, aid, "ctl", body)
    assert count_with(s, m) == 0


def test_unknown_article_is_404():
    v = visitor()
    tok = token_of(v, article())
    for p in ("/articles/99999999/comments", "/articles/0/comments", "/articles/abc/comments"):
        r = v.post(p, {"nickname": "", "body": "x", "parent": "0", "token": tok, "url": ""})
        assert r.status == 404, "POST %s: %d" % (p, r.status)


def test_comments_closed_is_403():
    s = srv()
    closed = [r[0] for r in s.sql(
        "SELECT id FROM articles WHERE kind = 'post' AND status = 'published' "
        "AND published_at <= ? AND comments_open = 0", (kiji.now_epoch(),))]
    assert closed, "the demo (seed 3) has no visible article with comments closed"
    aid = closed[0]
    v = visitor()
    d = v.page("/articles/%d" % aid).doc
    assert d.select_one("form#comment-form") is None, "closed article shows the comment form"
    assert d.select_one("p.comments-closed") is not None, "no p.comments-closed"
    body = "締切後 " + mark()
    r = post(v, aid, body, token=s.mint_token(aid, kiji.now_epoch() // 3600))
    assert r.status == 403, "closed article: %d" % r.status
    assert count_with(s, body) == 0


def test_ng_word_reject_is_422():
    s = srv()
    aid = article()
    with setting(s, "comments.ngwords", "禁止語,forbidden"), \
            setting(s, "comments.ng_action", "reject"):
        for nick, body in (("", "これは禁止語です " + mark()), ("", "FORBIDDEN " + mark()),
                           ("ＦＯＲＢＩＤＤＥＮ", "名前がNG " + mark())):
            r = post(visitor(), aid, body, nickname=nick)
            assert_form_error(r, 422, aid, nick, body)
            assert count_with(s, body) == 0
        new_comment(visitor(), aid, "問題ない " + mark())


def test_oversized_declared_body_is_413_before_it_is_read():
    s = srv()
    aid = article()
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    try:
        head = ("POST /articles/%d/comments HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: %d\r\n\r\n" % (aid, s.port, 4 * 1024 * 1024 + 1))
        sock.sendall(head.encode() + b"body=" + b"a" * 1000)
        data = b""
        t0 = time.monotonic()
        while b"\r\n\r\n" not in data and time.monotonic() - t0 < 10:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    line = data.split(b"\r\n", 1)[0]
    assert re.match(rb"HTTP/1\.[01] 413 ", line), \
        "4 MiB declared, 1 KB sent: answer %r, want 413 before the body is read" % line
    s.assert_alive()


def test_oversized_sent_body_is_413():
    s = srv()
    aid = article()
    v = visitor()
    body = "a" * (1024 * 1024 + 10)
    try:
        r = v.post("/articles/%d/comments" % aid, {"body": body, "token": token_of(v, aid)})
        assert r.status == 413, "1 MiB + 10 byte form: %d" % r.status
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused while still sending: also not read whole
    s.assert_alive()


# ---- replies ---------------------------------------------------------------------------------

def test_reply_is_nested_under_its_parent():
    s = srv()
    aid = article()
    v = visitor()
    parent = new_comment(v, aid, "親 " + mark(), nickname="親")
    reply = new_comment(visitor(), aid, "子 " + mark(), nickname="子", parent=parent)
    assert row(s, reply)["parent_id"] == parent
    d = v.page("/articles/%d" % aid).doc
    pl, rl = li_of(d, parent), li_of(d, reply)
    assert rl.closest("li.comment") is pl, "reply %d is not inside li#comment-%d" % (reply, parent)
    assert rl.parent.tag == "ol" and "children" in rl.parent.classes
    assert (pl.get("data-depth"), rl.get("data-depth")) == ("1", "2")


def test_replytocom_presets_parent_without_js():
    s = srv()
    aid = article()
    v = visitor()
    parent = new_comment(v, aid, "返信される " + mark(), nickname="返信先の人")
    d = v.page("/articles/%d?replytocom=%d" % (aid, parent)).doc
    f = d.select_one("div#respond form#comment-form")
    assert f.select_one("input[name=parent]").get("value") == str(parent), "parent not preset"
    rt = d.select_one("#respond p.reply-to")
    assert rt is not None and "返信先の人" in rt.text(), "no reply-to note naming the parent"
    cancel = rt.select_one("a.cancel-reply")
    assert cancel is not None and cancel.get("href") == "/articles/%d#respond" % aid
    # submit the form as the page gives it
    fields = {}
    for i in f.select("input[name]"):
        fields[i.get("name")] = i.get("value", "")
    fields["nickname"] = "返信者"
    fields["body"] = "フォームからの返信 " + mark()
    cid = posted(v.post(f.get("action"), fields), aid)
    assert row(s, cid)["parent_id"] == parent
    # a replytocom that is not a comment of this article presets nothing
    other = new_comment(visitor(), article(), "他記事 " + mark())
    for q in ("99999999", str(other), "abc", "-1"):
        d = v.page("/articles/%d?replytocom=%s" % (aid, q)).doc
        got = d.select_one("form#comment-form input[name=parent]").get("value")
        assert got == "0", "replytocom=%s presets parent %r" % (q, got)
        assert d.select_one("#respond p.reply-to") is None


def _chain(aid, n):
    """n comments, each replying to the one before; their ids."""
    ids = []
    for i in range(n):
        ids.append(new_comment(visitor(), aid, "階層%d %s" % (i + 1, mark()),
                               parent=ids[-1] if ids else 0))
    return ids


def test_display_depth_default_5_true_parent_stored():
    s = srv()
    aid = article()
    ids = _chain(aid, 7)
    for i in range(1, 7):
        assert row(s, ids[i])["parent_id"] == ids[i - 1], "true parent not stored"
    d = visitor().page("/articles/%d" % aid).doc
    depths = [li_of(d, c).get("data-depth") for c in ids]
    assert depths == ["1", "2", "3", "4", "5", "5", "5"], "data-depth %r" % depths
    for c in ids[5:]:
        holder = li_of(d, c).closest("li.comment")
        assert holder is li_of(d, ids[3]), "reply at depth > 5 is not shown under the depth-4 comment"
    # the API keeps the true tree
    j = api_get(visitor(), aid)
    node = next(c for c in j["comments"] if c["id"] == ids[0])
    for c in ids[1:]:
        assert len(node["replies"]) == 1 and node["replies"][0]["id"] == c, "API tree is not the true tree"
        node = node["replies"][0]


def test_display_depth_setting_applies_without_restart():
    s = srv()
    aid = article()
    ids = _chain(aid, 3)
    with setting(s, "comments.display_depth", "2"):
        d = visitor().page("/articles/%d" % aid).doc
        assert [li_of(d, c).get("data-depth") for c in ids] == ["1", "2", "2"]
        assert li_of(d, ids[2]).closest("li.comment") is li_of(d, ids[0])
    d = visitor().page("/articles/%d" % aid).doc
    assert [li_of(d, c).get("data-depth") for c in ids] == ["1", "2", "3"]


def test_reply_to_deleted_parent_is_still_shown():
    s = srv()
    aid = article()
    pm = mark()
    parent = new_comment(visitor(), aid, "消される親 " + pm)
    reply = new_comment(visitor(), aid, "残る返信 " + mark(), parent=parent)
    s.cli("comments", "delete", parent)
    r = visitor().page("/articles/%d" % aid)
    d = r.doc
    # Issue 11: the reply keeps its place under a "deleted" placeholder
    # that shows nothing of what the parent said.
    ph = li_of(d, parent)
    assert ph is not None and "deleted" in ph.classes, "no placeholder for the deleted parent"
    assert pm not in r.text, "deleted comment's text still shown"
    li = li_of(d, reply)
    assert li is not None, "the reply of a deleted comment disappeared"
    assert ph in li.ancestors(), "the reply left its deleted parent"


# ---- moderation ------------------------------------------------------------------------------

def _pending_cookie_has(v, aid):
    return str(aid) in (v.cookies.get("kiji_p") or "").split(".")


def test_moderation_all_pending_shown_only_to_its_author():
    s = srv()
    aid = article()
    author, other = visitor(), visitor()
    other.page("/articles/%d" % aid)
    new_comment(other, aid, "他の人の既存コメント " + mark())  # other has a kiji_v of its own
    before = heading_count(visitor().page("/articles/%d" % aid).doc)
    m = mark()
    with setting(s, "comments.moderation", "all"):
        r = post(author, aid, "承認待ち " + m, nickname="待つ人")
        cid = posted(r, aid)
    assert row(s, cid)["status"] == "pending"
    assert _pending_cookie_has(author, aid), "no kiji_p cookie naming article %d: %r" % (
        aid, author.cookies)
    li = li_of(author.page("/articles/%d" % aid).doc, cid)
    assert li is not None, "the author does not see their pending comment"
    assert "pending" in li.classes, "the author's pending comment lacks class pending"
    note = own(li, "p.pending-note")
    assert note and kiji.has_japanese(note[0].text()), "no p.pending-note"
    assert not own(li, "form.like-form") and not own(li, "a.reply-link"), \
        "a pending comment offers like/reply controls"
    for who, v in (("another visitor", other), ("a new visitor", visitor())):
        r = v.page("/articles/%d" % aid)
        assert m not in r.text and li_of(r.doc, cid) is None, "%s sees the pending comment" % who
        assert heading_count(r.doc) == before, "pending comment counted for %s" % who
        j = api_get(v, aid)
        assert cid not in [c["id"] for c in flatten(j["comments"])], "%s gets it from the API" % who
    j = api_get(author, aid)
    mine = [c for c in flatten(j["comments"]) if c["id"] == cid]
    assert mine and mine[0]["status"] == "pending", "API for the author: %r" % mine
    assert m not in visitor().get("/articles/%d/feed" % aid).text, "pending comment in the feed"


def test_moderation_first_holds_only_a_first_comment():
    s = srv()
    aid = article()
    with setting(s, "comments.moderation", "first"):
        v = visitor()
        first = new_comment(v, aid, "初投稿 " + mark())
        assert row(s, first)["status"] == "pending", "a first comment was not held"
        s.cli("comments", "approve", first)
        assert row(s, first)["status"] == "approved"
        second = new_comment(v, aid, "二回目 " + mark())
        assert row(s, second)["status"] == "approved", "a known poster's comment was held"
        assert li_of(visitor().page("/articles/%d" % aid).doc, second) is not None
        stranger = new_comment(visitor(), aid, "別の初投稿 " + mark())
        assert row(s, stranger)["status"] == "pending", "another new visitor was not held"


def test_moderation_none_is_the_default():
    s = dsrv()
    assert s.config_get("comments.moderation") == "none"
    aid = article(s)
    v = visitor(s, ip=None)
    cid = new_comment(v, aid, "既定設定での投稿 " + mark())
    assert row(s, cid)["status"] == "approved"
    assert li_of(visitor(s, ip=None).page("/articles/%d" % aid).doc, cid) is not None


def test_ng_words_match_full_and_half_width():
    s = srv()
    aid = article()
    words = "ばか\nＮＧワード, spam ,バカ," + HOLD
    with setting(s, "comments.ngwords", words):
        cases = [("これはngワードです", "pending"), ("ＳＰＡＭ！", "pending"),
                 ("Spam", "pending"), ("ﾊﾞｶ", "pending"), ("ばか", "pending"),
                 ("ＮＧわーど", "pending"),  # kana folded (issue 13)
                 ("ＮＧわど", "approved"), ("まじめな意見", "approved")]
        for text, want in cases:
            v = visitor()
            cid = new_comment(v, aid, "%s %s" % (text, mark()))
            got = row(s, cid)["status"]
            assert got == want, "%r with NG words %r: %s, want %s" % (text, words, got, want)
            if want == "pending":
                assert _pending_cookie_has(v, aid), "no kiji_p after an NG-word hold"
        cid = new_comment(visitor(), aid, "本文は普通 " + mark(), nickname="ＢＡＫＡ spam")
        assert row(s, cid)["status"] == "pending", "NG word in the nickname not caught"
    cid = new_comment(visitor(), aid, "spam と書いても通る " + mark())
    assert row(s, cid)["status"] == "approved", "NG words still active after clearing them"


# ---- the moderation CLI -----------------------------------------------------------------------

def _cli_list(s, *args):
    out = s.cli("comments", "list", *args).stdout
    rows = {}
    for line in out.splitlines():
        f = line.split("\t")
        assert len(f) >= 6, "kiji comments list line %r" % line
        rows[int(f[0])] = f
    return rows


def _pending_comment(s, aid, text):
    v = visitor()
    cid = new_comment(v, aid, HOLD + " " + text, nickname="CLI確認")
    assert row(s, cid)["status"] == "pending"
    return v, cid


def test_cli_list_shows_pending():
    s = srv()
    aid = article()
    m = mark()
    _, cid = _pending_comment(s, aid, "一覧に出る " + m)
    rows = _cli_list(s)
    assert cid in rows, "kiji comments list (default: pending) lacks %d" % cid
    f = rows[cid]
    assert f[1] == "pending" and f[2] == "article %d" % aid and f[4] == "CLI確認" and m in f[5], \
        "list line %r" % f
    assert cid in _cli_list(s, "--status", "pending")
    assert cid not in _cli_list(s, "--status", "approved")
    assert cid in _cli_list(s, "--status", "all", "--limit", "10000")


def test_cli_approve_shows_it_to_everyone():
    s = srv()
    aid = article()
    m = mark()
    _, cid = _pending_comment(s, aid, "承認される " + m)
    before = heading_count(visitor().page("/articles/%d" % aid).doc)
    assert li_of(visitor().page("/articles/%d" % aid).doc, cid) is None
    s.cli("comments", "approve", cid)
    d = visitor().page("/articles/%d" % aid).doc
    li = li_of(d, cid)
    assert li is not None and "pending" not in li.classes, "approved comment not shown to others"
    assert heading_count(d) == before + 1
    assert m in visitor().get("/articles/%d/feed" % aid).text, "approved comment not in the feed"
    assert cid in _cli_list(s, "--status", "approved")


def test_cli_spam_hides_it():
    s = srv()
    aid = article()
    m = mark()
    author = visitor()
    cid = new_comment(author, aid, "スパム判定 " + m)
    before = heading_count(visitor().page("/articles/%d" % aid).doc)
    s.cli("comments", "spam", cid)
    for v in (author, visitor()):
        r = v.page("/articles/%d" % aid)
        assert m not in r.text, "a comment marked spam is still shown"
    assert heading_count(visitor().page("/articles/%d" % aid).doc) == before - 1
    assert cid not in [c["id"] for c in flatten(api_get(author, aid)["comments"])]
    assert m not in visitor().get("/articles/%d/feed" % aid).text
    assert _cli_list(s, "--status", "spam")[cid][1] == "spam"


def test_cli_delete_hides_it():
    s = srv()
    aid = article()
    m = mark()
    cid = new_comment(visitor(), aid, "削除される " + m)
    s.cli("comments", "delete", cid)
    assert m not in visitor().page("/articles/%d" % aid).text, "a deleted comment is still shown"
    assert _cli_list(s, "--status", "trash")[cid][1] == "trash"
    # likes on it are refused
    r = visitor().post("/comments/%d/like" % cid, body=b"")
    assert r.status == 404, "like of a deleted comment: %d" % r.status


def test_cli_bad_ids_fail():
    s = srv()
    r = s.cli("comments", "approve", "99999999", check=False)
    assert r.returncode != 0, "approving a missing comment exits 0"
    for args in (("approve", "abc"), ("approve",), ("frobnicate", "1"),
                 ("list", "--status", "nope")):
        r = s.cli("comments", *args, check=False)
        assert r.returncode != 0, "kiji comments %s exits 0" % " ".join(args)
        assert r.stderr.strip(), "kiji comments %s says nothing on stderr" % " ".join(args)


# ---- settings -----------------------------------------------------------------------------------

DEFAULTS = {
    "comments.default_name": "名無しさん", "comments.display_depth": "5",
    "comments.moderation": "none", "comments.ngwords": "", "comments.ng_action": "pending",
    "comments.rate_per_minute": "6", "comments.rate_burst": "5",
    "comments.token_hours": "48", "comments.min_fill_seconds": "3",
    "comments.daily_id": "0", "comments.max_nickname": "40", "comments.max_body": "4000",
    "likes.rate_per_minute": "120", "likes.rate_burst": "60",
    "http.max_body": "1048576", "http.trusted_proxies": "",
}


def test_config_list_and_get_show_the_defaults():
    s = dsrv()
    out = s.cli("config", "list").stdout
    for k, v in DEFAULTS.items():
        m = re.search(r"^%s[ \t]+(.*?)\s*$" % re.escape(k), out, re.M)
        assert m, "kiji config list lacks %s" % k
        assert m.group(1) == v, "config list %s = %r, want %r" % (k, m.group(1), v)
    for k in ("comments.default_name", "comments.rate_per_minute"):
        assert s.config_get(k) == DEFAULTS[k], "config get %s = %r" % (k, s.config_get(k))


def test_config_set_refuses_bad_values():
    s = dsrv()
    for k, v in (("comments.moderation", "sometimes"), ("comments.rate_per_minute", "-1"),
                 ("comments.display_depth", "0"), ("no.such.key", "1")):
        r = s.cli("config", "set", k, v, check=False)
        assert r.returncode != 0, "config set %s %s exits 0" % (k, v)
        assert r.stderr.strip(), "config set %s %s: no message on stderr" % (k, v)
    out = s.cli("config", "list").stdout
    for k in ("comments.moderation", "comments.rate_per_minute", "comments.display_depth"):
        m = re.search(r"^%s[ \t]+(.*?)\s*$" % re.escape(k), out, re.M)
        assert m and m.group(1) == DEFAULTS[k], "%s changed by a refused set: %r" % (
            k, m and m.group(1))


def test_config_change_reaches_every_worker_thread():
    """A setting changed right after start is seen by the very next requests,
    whichever worker thread serves them (each thread has its own SQLite
    connection and data_version)."""
    s = kiji.server("threads", articles=4, comments=1, settings={"http.threads": "6"})
    for i in range(3):
        title = "設定反映テスト%d" % i
        s.config_set("site.title", title)
        stale = 0
        for _ in range(12):
            if title not in s.get("/").text:
                stale += 1
        assert stale == 0, "round %d: %d of 12 requests after `kiji config set site.title` " \
            "still showed the old title" % (i, stale)


def test_daily_id_setting():
    s = srv()
    aid = article()
    ip1, ip2 = next_ip(), next_ip()
    with setting(s, "comments.daily_id", "1"):
        a = new_comment(visitor(ip=ip1), aid, "ID1 " + mark())
        b = new_comment(visitor(ip=ip1), aid, "ID1 again " + mark())
        c = new_comment(visitor(ip=ip2), aid, "ID2 " + mark())
        d = visitor().page("/articles/%d" % aid).doc
        ids = {}
        for cid in (a, b, c):
            sp = own(li_of(d, cid), "span.daily-id")
            assert len(sp) == 1, "comment %d: %d span.daily-id" % (cid, len(sp))
            m = re.fullmatch(r"ID:([A-Za-z0-9+/]{8})", sp[0].text().strip())
            assert m, "daily id %r" % sp[0].text()
            ids[cid] = m.group(1)
        assert ids[a] == ids[b], "same address, same day, different ids"
        assert ids[a] != ids[c], "different addresses, same id"
        assert ip1 not in d.select_one("section#comments").text(), "the address itself is shown"
    d = visitor().page("/articles/%d" % aid).doc
    assert not d.select("span.daily-id"), "daily ids shown with comments.daily_id=0"


# ---- rate limits and proxies -------------------------------------------------------------------

def _post_until_429(s, v, aid, n=8):
    tok = token_of(v, aid)
    got = []
    for i in range(n):
        body = "連投%d %s" % (i, mark())
        r = post(v, aid, body, nickname="連投", token=tok)
        got.append(r.status)
        if r.status == 429:
            return got, r, body
        assert r.status == 303, "post %d: %d\n%s" % (i, r.status, _err_text(r))
    return got, None, None


def test_trusted_proxy_client_address_from_x_forwarded_for():
    s = srv()
    aid = article()
    ip = next_ip()
    cid = new_comment(visitor(ip=ip), aid, "XFF " + mark())
    assert row(s, cid)["ip"] == ip, "stored ip %r, want %r (X-Forwarded-For from a trusted proxy)" % (
        row(s, cid)["ip"], ip)
    # the right-most address that is not a trusted proxy is the client
    ip2 = next_ip()
    cid = new_comment(visitor(ip="203.0.113.9, %s, 127.0.0.1" % ip2), aid, "XFF chain " + mark())
    assert row(s, cid)["ip"] == ip2, "stored ip %r, want %r" % (row(s, cid)["ip"], ip2)


def test_rate_limit_per_client_behind_trusted_proxy():
    s = srv()
    aid = article()
    ip = next_ip()
    got, r, body = _post_until_429(s, visitor(ip=ip), aid)
    assert r is not None, "no 429 after %d posts from one address: %r" % (len(got), got)
    assert got[:-1] == [303] * 5, "posts before the 429: %r, want 5 x 303 (burst 5)" % got
    ra = r.header("retry-after")
    assert ra and ra.isdigit() and 1 <= int(ra) <= 10, "Retry-After %r, want 1..10 s" % ra
    assert_form_error(r, 429, aid, "連投", body)
    # another reader behind the same proxy is not limited
    new_comment(visitor(ip=next_ip()), aid, "別の人 " + mark())


def test_rate_limit_setting_applies_without_restart():
    s = srv()
    aid = article()
    with setting(s, "comments.rate_per_minute", "0"):
        got, r, _ = _post_until_429(s, visitor(ip=next_ip()), aid, n=8)
        assert r is None, "rate_per_minute=0 still limits: %r" % got


def test_untrusted_peer_x_forwarded_for_is_ignored():
    s = dsrv()
    aid = article(s)
    r = post(visitor(s, ip="198.51.100.7"), aid, "偽XFF " + mark())
    if r.status == 303:
        cid = posted(r, aid)
        assert row(s, cid)["ip"] == "127.0.0.1", "stored ip %r: X-Forwarded-For believed from an " \
            "untrusted peer" % row(s, cid)["ip"]
    else:
        assert r.status == 429, "post: %d" % r.status
    statuses = []
    for i in range(7):  # a fresh address each time must not buy a fresh bucket
        r = post(visitor(s, ip=next_ip()), aid, "XFF回避 %d %s" % (i, mark()))
        statuses.append(r.status)
        if r.status == 429:
            break
    assert statuses[-1] == 429, "7 posts with 7 X-Forwarded-For addresses from an untrusted " \
        "peer were never limited: %r" % statuses


def test_rate_limit_with_default_settings_429_retry_after():
    s = dsrv()
    assert (s.config_get("comments.rate_per_minute"), s.config_get("comments.rate_burst")) == ("6", "5")
    aid = article(s)
    got, r, body = _post_until_429(s, visitor(s, ip=None), aid, n=7)
    assert r is not None, "no 429 within 7 posts on default settings: %r" % got
    assert len(got) <= 6, "more than the burst of 5 accepted: %r" % got
    ra = r.header("retry-after")
    assert ra and ra.isdigit() and 1 <= int(ra) <= 10, "Retry-After %r, want 1..10" % ra
    assert_form_error(r, 429, aid, "連投", body)
    assert count_with(s, body) == 0
    # the JSON API shares the bucket
    v = visitor(s, ip=None)
    r = api_post(v, aid, api_fields(v, aid, "API連投 " + mark()))
    api_error(r, 429, "rate_limited")
    assert (r.header("retry-after") or "").isdigit(), "API 429 without Retry-After"


def test_like_rate_limit_with_default_settings():
    s = dsrv()
    rows = s.sql("SELECT id FROM comments WHERE status = 'approved' AND type = 'comment' "
                 "ORDER BY id LIMIT 1")
    assert rows, "the defaults demo has no approved comment"
    cid = rows[0][0]
    statuses = []
    for i in range(70):  # burst 60
        r = Visitor(s).post("/comments/%d/like" % cid, body=b"", headers={"Accept": "application/json"})
        statuses.append(r.status)
        if r.status == 429:
            break
    assert statuses[-1] == 429, "70 likes from one address were never limited"
    ok = statuses.count(200)
    # the bucket refills at 2 a second while the loop runs
    assert 60 <= ok < 66 and ok == len(statuses) - 1, \
        "%d likes accepted before the 429, want the burst of 60: %r" % (ok, statuses)
    assert (r.header("retry-after") or "").isdigit(), "like 429 without Retry-After"
    api_error(r, 429, "rate_limited")


# ---- JSON API -------------------------------------------------------------------------------------

def test_api_get_tree_matches_database():
    s = srv()
    aid = article()
    p = new_comment(visitor(), aid, "API親 " + mark())
    new_comment(visitor(), aid, "API子 " + mark(), parent=p)
    v = visitor()
    j = api_get(v, aid)
    assert set(j) == {"article", "count", "token", "comments_open", "comments"}, "keys %r" % set(j)
    assert j["article"] == aid and j["comments_open"] is True
    assert re.fullmatch(r"-?\d+\.[0-9a-f]{32}", j["token"]), "token %r" % j["token"]
    rows = {r["id"]: r for r in s.sql(
        "SELECT * FROM comments WHERE article_id = ? AND status = 'approved' AND type = 'comment'",
        (aid,))}
    seen = {}

    def walk(cs, parent):
        for c in cs:
            assert set(c) == {"id", "parent", "author", "date", "body", "like_count", "status",
                              "replies"}, "comment keys %r" % set(c)
            r = rows.get(c["id"])
            assert r is not None, "API lists %d, not an approved comment of %d" % (c["id"], aid)
            assert c["parent"] == (r["parent_id"] or 0), "comment %d parent" % c["id"]
            if parent:
                assert c["parent"] == parent, "comment %d nested under %d, parent %d" % (
                    c["id"], parent, c["parent"])
            else:  # top level: no parent, or one that is not shown
                assert c["parent"] == 0 or c["parent"] not in rows, \
                    "reply %d of shown comment %d is at the top level" % (c["id"], c["parent"])
            assert c["author"] == r["nickname"] and c["body"] == r["body"]
            assert c["like_count"] == r["like_count"] and c["status"] == "approved"
            d = dt.datetime.fromisoformat(c["date"])
            assert d.utcoffset() == dt.timedelta(hours=9), "date %r not in +09:00" % c["date"]
            assert int(d.timestamp()) == r["created_at"], "date %r != created_at" % c["date"]
            seen[c["id"]] = c
            walk(c["replies"], c["id"])
    walk(j["comments"], 0)
    assert set(seen) == set(rows), "API comments differ from the DB: missing %s" % (
        sorted(set(rows) - set(seen)))


def test_api_count_equals_comments_listed_and_page_heading():
    s = srv()
    tb = [r[0] for r in s.sql("SELECT DISTINCT article_id FROM comments WHERE type != 'comment' "
                              "AND status = 'approved'")]
    vis = set(open_articles(s))
    cands = [a for a in tb if a in vis] or [article()]
    aid = cands[0]
    j = api_get(visitor(), aid)
    listed = len(flatten(j["comments"]))
    shown = heading_count(visitor().page("/articles/%d" % aid).doc)
    assert j["count"] == listed == shown, \
        "/api/articles/%d/comments: count %d, comments listed %d, page heading %d " \
        "(article has trackbacks)" % (aid, j["count"], listed, shown)


def test_api_post_201_with_rendered_comment():
    s = srv()
    aid = article()
    v = visitor()
    m = mark()
    r = api_post(v, aid, api_fields(v, aid, "APIから投稿 <b>%s</b>\nhttps://example.jp/x" % m,
                                     nickname="API太郎"))
    assert r.status == 201, "API POST: %d %s" % (r.status, r.text[:300])
    assert r.content_type == "application/json"
    j = json.loads(r.text)
    assert set(j) == {"id", "parent", "status", "url", "html"}, "keys %r" % set(j)
    cid = j["id"]
    assert j["parent"] == 0 and j["status"] == "approved"
    assert j["url"] == "/articles/%d#comment-%d" % (aid, cid) == r.header("location"), \
        "url %r, Location %r" % (j["url"], r.header("location"))
    assert "kiji_v" in v.cookies, "no kiji_v cookie from the API"
    li = htmldom.parse(j["html"]).select_one("li.comment#comment-%d" % cid)
    assert li is not None, "html is not li.comment#comment-%d: %r" % (cid, j["html"][:200])
    assert author_of(li) == "API太郎"
    assert shown_text(body_div(li)) == "APIから投稿 <b>%s</b>\nhttps://example.jp/x" % m
    assert not body_div(li).select("b"), "the API html lets <b> through"
    assert li_of(visitor().page("/articles/%d" % aid).doc, cid) is not None
    assert row(s, cid)["body"] == "APIから投稿 <b>%s</b>\nhttps://example.jp/x" % m


def test_api_post_reply_and_pending():
    s = srv()
    aid = article()
    p = new_comment(visitor(), aid, "API返信先 " + mark())
    v = visitor()
    r = api_post(v, aid, api_fields(v, aid, "API返信 " + mark(), parent=p))
    assert r.status == 201, r.text[:300]
    j = json.loads(r.text)
    assert j["parent"] == p and row(s, j["id"])["parent_id"] == p
    v = visitor()
    r = api_post(v, aid, api_fields(v, aid, HOLD + " API保留 " + mark()))
    assert r.status == 201, r.text[:300]
    j = json.loads(r.text)
    assert j["status"] == "pending" and row(s, j["id"])["status"] == "pending"
    assert "pending" in htmldom.parse(j["html"]).select_one("li.comment").classes
    assert _pending_cookie_has(v, aid), "API: no kiji_p cookie for a held comment"


def _api_case(build, status, code):
    def t():
        s = srv()
        aid = article()
        v = visitor()
        obj, headers, path_aid = build(s, aid, v)
        r = v.post_json("/api/articles/%d/comments" % path_aid, obj, headers=headers)
        api_error(r, status, code)
        if isinstance(obj, dict) and "API拒否" in str(obj.get("body")):
            assert count_with(s, obj["body"]) == 0, "refused comment stored anyway"
    return t


def _f(**kw):
    def build(s, aid, v):
        o = api_fields(v, aid, "API拒否 " + mark())
        for k, val in kw.items():
            if val is _DROP:
                o.pop(k)
            elif callable(val):
                o[k] = val(s, aid)
            else:
                o[k] = val
        return o, None, aid
    return build


_DROP = object()
_HOUR = lambda: kiji.now_epoch() // 3600  # noqa: E731

API_ERRORS = [
    ("bad_json", lambda s, a, v: ("{\"body\": ", None, a), 400, "bad_json"),
    ("not_an_object", lambda s, a, v: ("[\"body\"]", None, a), 400, "bad_json"),
    ("duplicate_keys", lambda s, a, v: ('{"body":"a","body":"b","token":"%s"}' % api_get(v, a)["token"],
                                         None, a), 400, "bad_json"),
    ("body_not_a_string", _f(body=5), 400, "bad_json"),
    ("parent_not_a_number", _f(parent="3"), 400, "bad_json"),
    ("negative_parent", _f(parent=-1), 400, "bad_json"),
    ("empty_body", _f(body=" \n "), 422, "empty_body"),
    ("body_too_long", _f(body="x" * 4001), 422, "body_too_long"),
    ("nickname_too_long", _f(nickname="n" * 41), 422, "nickname_too_long"),
    ("unknown_parent", _f(parent=99999999), 422, "unknown_parent"),
    ("missing_token", _f(token=_DROP), 403, "token_missing"),
    ("bad_token", _f(token="1.abc"), 403, "token_invalid"),
    ("expired_token", _f(token=lambda s, a: s.mint_token(a, _HOUR() - 49)), 403, "token_expired"),
    ("honeypot", _f(url="http://spam.example/"), 400, "rejected"),
    ("too_fast", _f(opened=lambda s, a: str(int(time.time()))), 429, "too_fast"),
    ("nul_in_body", _f(body="a\u0000b"), 400, ("invalid_text", "bad_json")),
    ("control_char", _f(nickname="a\u0007b"), 400, "invalid_text"),
    ("lone_surrogate", lambda s, a, v: ('{"body":"\\ud800","token":"%s"}' % api_get(v, a)["token"],
                                         None, a), 400, "bad_json"),
    ("invalid_utf8", lambda s, a, v: (b'{"body":"\xff\xfe","token":"x"}', None, a), 400, "bad_json"),
    ("unknown_article", lambda s, a, v: ({"body": "x", "token": "1.x"}, None, 99999999), 404,
     "not_found"),
]

for _name, _build, _status, _code in API_ERRORS:
    globals()["test_api_error_" + _name] = _api_case(_build, _status, _code)


def test_api_cross_origin_is_403():
    s = srv()
    aid = article()
    for origin in ("https://evil.example", "null", "http://127.0.0.1:%d.evil.example" % s.port,
                   "ftp://127.0.0.1:%d" % s.port, "http://127.0.0.1:%d/" % s.port,
                   "http://localhost:%d" % s.port, "https://127.0.0.1:8080.evil"):
        v = visitor()
        body = "越境 " + mark()
        r = api_post(v, aid, api_fields(v, aid, body), headers={"Origin": origin})
        api_error(r, 403, "cross_origin")
        assert count_with(s, body) == 0, "cross-origin comment stored (Origin %s)" % origin


def test_api_same_origin_is_accepted():
    s = srv()
    aid = article()
    base = s.config_get("site.base_url")
    base_origin = re.match(r"^(https?://[^/]+)", base).group(1)
    for origin in (None, s.origin, base_origin):
        v = visitor()
        h = {"Origin": origin} if origin else None
        r = api_post(v, aid, api_fields(v, aid, "同一オリジン " + mark()), headers=h)
        assert r.status == 201, "Origin %r: %d %s" % (origin, r.status, r.text[:200])
    # reached under another name (a proxy in front): the Host the browser addressed
    for origin in ("http://kiji.example", "https://kiji.example"):
        v = visitor()
        r = api_post(v, aid, api_fields(v, aid, "別名 " + mark()),
                     headers={"Host": "kiji.example", "Origin": origin})
        assert r.status == 201, "Host kiji.example, Origin %s: %d %s" % (origin, r.status, r.text[:200])


def test_api_comments_closed_is_403():
    s = srv()
    closed = [r[0] for r in s.sql(
        "SELECT id FROM articles WHERE kind = 'post' AND status = 'published' "
        "AND published_at <= ? AND comments_open = 0", (kiji.now_epoch(),))]
    assert closed, "the demo (seed 3) has no visible article with comments closed"
    v = visitor()
    j = api_get(v, closed[0])
    assert j["comments_open"] is False, "comments_open %r for a closed article" % j["comments_open"]
    r = api_post(v, closed[0], {"body": "締切 " + mark(), "token": j["token"]})
    api_error(r, 403, "comments_closed")


def test_api_unknown_article_get_404():
    r = visitor().get("/api/articles/99999999/comments")
    assert r.status == 404 and r.content_type == "application/json"
    assert json.loads(r.text)["error"]["code"] == "not_found"


# ---- likes (the basics; concurrency is in test_likes) -------------------------------------------

def opened(v, aid):
    """The reader v opens /articles/<aid>: the page's view beacon hands out
    the kiji_v cookie (the GIF one without JavaScript; a like never does)."""
    r = v.get("/views/%d.gif" % aid, headers={"User-Agent": "Mozilla/5.0 (X11; rv:128.0) Firefox/128.0"})
    assert r.status == 200, "view beacon: %d" % r.status
    assert "kiji_v" in v.cookies, "the view beacon handed out no kiji_v"
    return v


def test_like_without_js_303_and_toggle_shown():
    s = srv()
    aid = article()
    cid = new_comment(visitor(), aid, "いいね対象 " + mark())
    v = opened(visitor(), aid)
    r = v.post("/comments/%d/like" % cid, body=b"")
    assert r.status == 303, "like: %d" % r.status
    assert r.header("location") == "/articles/%d#comment-%d" % (aid, cid), r.header("location")
    li = li_of(v.page("/articles/%d" % aid).doc, cid)
    f = own(li, "form.like-form")[0]
    assert f.get("action") == "/comments/%d/unlike" % cid, "liker's form action %r" % f.get("action")
    assert f.select_one("button").get("aria-pressed") == "true"
    assert own(li, "span.like-count")[0].text().strip() == "1"
    li = li_of(visitor().page("/articles/%d" % aid).doc, cid)
    f = own(li, "form.like-form")[0]
    assert f.get("action") == "/comments/%d/like" % cid and \
        f.select_one("button").get("aria-pressed") == "false"
    assert own(li, "span.like-count")[0].text().strip() == "1"
    r = v.post("/comments/%d/unlike" % cid, body=b"")
    assert r.status == 303
    li = li_of(v.page("/articles/%d" % aid).doc, cid)
    assert own(li, "span.like-count")[0].text().strip() == "0"
    assert own(li, "form.like-form")[0].get("action") == "/comments/%d/like" % cid


def test_like_json_answer():
    s = srv()
    aid = article()
    cid = new_comment(visitor(), aid, "JSONいいね " + mark())
    v = opened(visitor(), aid)
    h = {"Accept": "application/json"}
    r = v.post("/comments/%d/like" % cid, body=b"", headers=h)
    assert r.status == 200 and r.content_type == "application/json", "%d %s" % (r.status, r.content_type)
    assert json.loads(r.text) == {"id": cid, "count": 1, "liked": True}, r.text
    r = v.post("/comments/%d/unlike" % cid, body=b"", headers=h)
    assert json.loads(r.text) == {"id": cid, "count": 0, "liked": False}, r.text
    assert row(s, cid)["like_count"] == 0


def test_like_of_missing_or_pending_comment_is_404():
    s = srv()
    aid = article()
    pend = new_comment(visitor(), aid, HOLD + " 保留中にいいね " + mark())
    for cid in (99999999, pend):
        for verb in ("like", "unlike"):
            r = visitor().post("/comments/%d/%s" % (cid, verb), body=b"")
            assert r.status == 404, "%s %d: %d" % (verb, cid, r.status)
    assert row(s, pend)["like_count"] == 0


# ---- the comment feed ------------------------------------------------------------------------------

def test_comment_feed_is_well_formed_and_lists_the_new_comment():
    s = srv()
    aid = article()
    m = mark()
    body = "フィード <&> \"引用\" ]]> %s\n二行目" % m
    cid = new_comment(visitor(), aid, body, nickname="フィード<太郎>&")
    r = visitor().get("/articles/%d/feed" % aid)
    assert r.status == 200, "feed: %d" % r.status
    assert r.content_type == "application/rss+xml", "feed Content-Type %r" % r.header("content-type")
    xmllint(r.body)
    root = ET.fromstring(r.body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    ch = root.find("channel")
    items = ch.findall("item")
    assert items, "the feed has no items"
    link = items[0].findtext("link")
    assert link and link.endswith("/articles/%d#comment-%d" % (aid, cid)), \
        "newest item links %r, want the new comment %d" % (link, cid)
    it = items[0]
    assert it.findtext("description") == body, "description %r" % it.findtext("description")
    dc = "{http://purl.org/dc/elements/1.1/}creator"
    assert it.findtext(dc) == "フィード<太郎>&", "dc:creator %r" % it.findtext(dc)
    assert it.findtext("title").startswith("フィード<太郎>&: ")
    assert it.findtext("guid") == link
    pub = it.findtext("pubDate")
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} (GMT|[+-]\d{4})", pub), \
        "pubDate %r is not RFC 822" % pub
    ids = [int(re.search(r"#comment-(\d+)$", i.findtext("link")).group(1)) for i in items]
    approved = {r[0] for r in s.sql("SELECT id FROM comments WHERE article_id = ? AND "
                                    "status = 'approved' AND type = 'comment'", (aid,))}
    assert set(ids) <= approved, "feed lists comments that are not approved: %s" % (set(ids) - approved)
    assert len(ids) == min(50, len(approved)), "feed has %d items, %d approved" % (len(ids), len(approved))
    assert visitor().get("/articles/99999999/feed").status == 404


# ---- caches ------------------------------------------------------------------------------------------

def test_new_comment_and_like_show_on_the_next_request():
    s = srv()
    aid = open_articles(s)[0]  # the newest: on the front page
    reader = visitor()
    for _ in range(3):  # warm whatever caches there are
        reader.page("/articles/%d" % aid)
        reader.page("/")
    n0 = heading_count(reader.page("/articles/%d" % aid).doc)
    card0 = _card_count(reader.page("/").doc, aid)
    cid = new_comment(visitor(), aid, "すぐ出る " + mark())
    d = reader.page("/articles/%d" % aid).doc
    assert li_of(d, cid) is not None, "a new comment is not on the next request's page"
    assert heading_count(d) == n0 + 1
    assert _card_count(reader.page("/").doc, aid) == card0 + 1, "front page comment count is stale"
    assert cid in [c["id"] for c in flatten(api_get(reader, aid)["comments"])]
    liker = visitor()
    r = liker.post("/comments/%d/like" % cid, body=b"", headers={"Accept": "application/json"})
    assert json.loads(r.text)["count"] == 1
    li = li_of(reader.page("/articles/%d" % aid).doc, cid)
    assert own(li, "span.like-count")[0].text().strip() == "1", "a like is not on the next request"
    s.cli("comments", "spam", cid)
    assert li_of(reader.page("/articles/%d" % aid).doc, cid) is None, \
        "a comment moderated away by the CLI is still on the next request"


def _card_count(doc, aid):
    for li in doc.select("ol.article-cards > li.card"):
        t = li.select_one("a.card-title")
        if t is not None and t.get("href") == "/articles/%d" % aid:
            c = li.select_one("span.comment-count")
            assert c is not None, "card without span.comment-count"
            return int(re.sub(r"[^0-9]", "", c.text()) or "0")
    raise AssertionError("article %d is not on the front page" % aid)


def test_pending_comment_never_shown_to_another_visitor():
    s = srv()
    aid = article()
    author = visitor()
    m = mark()
    cid = new_comment(author, aid, HOLD + " 他人に見せない " + m)
    assert row(s, cid)["status"] == "pending"
    others = [visitor() for _ in range(3)]
    others[0].cookies["kiji_p"] = author.cookies.get("kiji_p", str(aid))  # the marker alone
    others[1].cookies["kiji_p"] = str(aid)
    new_comment(others[1], aid, "自分のクッキーを持つ人 " + mark())
    others[2].cookies["kiji_v"] = author.cookies["kiji_v"][:32] + "." + "f" * 32  # forged MAC
    for rnd in range(3):  # interleaved, so a cache filled by the author would show
        assert m in author.page("/articles/%d" % aid).text, "the author lost sight of it"
        for i, o in enumerate(others + [visitor()]):
            r = o.page("/articles/%d" % aid)
            assert m not in r.text, "visitor %d sees another's pending comment (round %d)" % (i, rnd)
            r = o.get("/api/articles/%d/comments" % aid)
            assert m not in r.text, "visitor %d gets another's pending comment from the API" % i


def test_pending_comment_not_cached_when_the_marker_cookie_is_gone():
    """The author keeps the signed visitor cookie but not the kiji_p marker
    (it lists 20 articles at most and lives 14 days): the page that shows
    them their pending comment must not be stored for everybody."""
    s = srv()
    aid = article()
    author = visitor()
    m = mark()
    cid = new_comment(author, aid, HOLD + " 目印なし " + m)
    assert row(s, cid)["status"] == "pending"
    del author.cookies["kiji_p"]
    r = author.page("/articles/%d" % aid)
    if m in r.text:  # shown to its author: then only to them
        cc = (r.header("cache-control") or "").lower()
        assert "private" in cc or "no-store" in cc or "cookie" in (r.header("vary") or "").lower(), \
            "/articles/%d shows the reader's pending comment with Cache-Control %r" % (
                aid, r.header("cache-control"))
    for i in range(3):
        r = visitor().page("/articles/%d" % aid)
        assert m not in r.text, "another visitor sees the pending comment %d after its author " \
            "(without kiji_p) loaded the page (X-Cache: %s)" % (cid, r.header("x-cache"))


def test_page_with_a_pending_comment_is_not_publicly_cacheable():
    """The issue's "whatever caches pages" includes the CDN kiji is meant to
    run behind: the page that shows a reader their own pending comment must
    not be marked for shared caches (public / s-maxage without Vary: Cookie)."""
    s = srv()
    aid = article()
    author = visitor()
    new_comment(author, aid, HOLD + " CDNに乗せない " + mark())
    r = author.page("/articles/%d" % aid)
    cc = (r.header("cache-control") or "").lower()
    vary = (r.header("vary") or "").lower()
    private = "private" in cc or "no-store" in cc or "cookie" in vary
    assert private, "/articles/%d with the reader's pending comment: Cache-Control %r, Vary %r " \
        "- a shared cache may serve it to everyone" % (aid, r.header("cache-control"), r.header("vary"))


def test_conditional_get_is_not_304_after_a_new_comment_or_like():
    s = srv()
    aid = article()
    reader = visitor()
    r = reader.page("/articles/%d" % aid)
    r = reader.page("/articles/%d" % aid)
    etag = r.header("etag")
    if etag:
        r = reader.get("/articles/%d" % aid, headers={"If-None-Match": etag})
        assert r.status == 304, "unchanged page with its own ETag: %d, want 304" % r.status
    cid = new_comment(visitor(), aid, "ETag更新 " + mark())
    r = reader.get("/articles/%d" % aid, headers={"If-None-Match": etag or '"x"'})
    assert r.status == 200 and li_of(r.doc, cid) is not None, \
        "If-None-Match of the page before the comment: %d, comment %s" % (
            r.status, "shown" if r.status == 200 and li_of(r.doc, cid) else "not shown")
    etag2 = r.header("etag")
    visitor().post("/comments/%d/like" % cid, body=b"", headers={"Accept": "application/json"})
    r = reader.get("/articles/%d" % aid, headers={"If-None-Match": etag2 or '"x"'})
    assert r.status == 200, "If-None-Match of the page before the like: %d, want 200" % r.status
    assert own(li_of(r.doc, cid), "span.like-count")[0].text().strip() == "1"
