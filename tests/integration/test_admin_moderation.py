"""The editor area's pages over real HTTP (issue 11 items 7, 8, 9):
the moderation queue (tabs, who/where/when/why, per article, bulk and
one-click actions, editing a comment, bans of an address, a range and a
visitor id), the "deleted" placeholder that keeps replies in place,
`kiji comments list` columns, categories and tags (slug change → 301,
parent, delete with reassignment), the redirects table (by hand, and
honoured by the public site), settings with the CLI's rules, users.

Server of its own: "moderation" (http.trusted_proxies=127.0.0.1 so each
reader has its own address; no comment rate limit)."""

import json
import re
import uuid

import kiji
from admin_client import Editor, add_user, flash, form_error, user
from kiji import Visitor


def srv():
    return kiji.server("moderation", articles=16, comments=3, seed=21,
                       settings={"http.trusted_proxies": "127.0.0.1",
                                 "comments.rate_per_minute": "0"})


def editor(s=None, role="editor"):
    s = s or srv()
    name, pw = user(s, role)
    ed = Editor(s)
    ed.login(name, pw)
    return ed


def mark():
    return "m" + uuid.uuid4().hex[:12]


_rr = [0]


def article(s):
    ids = [r[0] for r in s.sql(
        "SELECT id FROM articles WHERE kind = 'post' AND status = 'published' "
        "AND published_at <= ? AND comments_open = 1 ORDER BY id", (kiji.now_epoch(),))]
    assert ids, "no open article"
    _rr[0] += 1
    return ids[_rr[0] % len(ids)]


def comment(v, aid, body, nickname="", parent=0):
    """Posts from the article's own form; returns the new comment's id."""
    r = v.page("/articles/%d" % aid)
    t = r.doc.select_one("form#comment-form input[name=token]")
    assert t is not None, "no comment form token"
    r = v.post("/articles/%d/comments" % aid, {
        "nickname": nickname, "body": body, "parent": str(parent),
        "token": t.get("value"), "url": "", "opened": ""})
    assert r.status == 303, "comment post: %d\n%s" % (r.status, r.text[:400])
    m = re.search(r"#comment-(\d+)$", r.header("location") or "")
    assert m, r.header("location")
    return int(m.group(1))


def status_of(s, cid):
    return s.sql("SELECT status FROM comments WHERE id = ?", (cid,))[0][0]


def reason_of(s, cid):
    return s.sql("SELECT pending_reason FROM comments WHERE id = ?", (cid,))[0][0]


class setting:
    """key=value for the block (via the CLI), then back to what it was."""

    def __init__(self, s, key, value):
        self.s, self.key, self.value = s, key, value

    def __enter__(self):
        self.old = self.s.config_get(self.key)
        self.s.config_set(self.key, self.value)

    def __exit__(self, *exc):
        self.s.config_set(self.key, self.old)
        return False


def row_of(page, cid):
    return page.doc.select_one("tr#c%d" % cid)


# ---- the queue ------------------------------------------------------------------------

def test_queue_shows_who_where_when_why():
    s = srv()
    ed = editor(s)
    aid = article(s)
    title = s.sql("SELECT title FROM articles WHERE id = ?", (aid,))[0][0]
    ip = kiji.next_ip()
    v = Visitor(s, ip=ip)
    m = mark()
    with setting(s, "comments.moderation", "first"):
        cid = comment(v, aid, "初めての投稿 " + m, nickname="初投稿さん")
    assert status_of(s, cid) == "pending" and reason_of(s, cid) == "first"
    p = ed.page("/admin/comments")
    tr = row_of(p, cid)
    assert tr is not None, "pending comment not in the queue"
    text = tr.text_norm()
    visitor_id = s.sql("SELECT visitor_id FROM comments WHERE id = ?", (cid,))[0][0]
    for want in (m, "初投稿さん", ip, visitor_id, title, "初めてのコメント"):
        assert want in text, "queue row lacks %r: %s" % (want, text)
    assert re.search(r"\d{4}年 ?\d+月 ?\d+日 \d\d:\d\d", text), "no time in the row"
    # NG word and moderation=all have their own reasons.
    with setting(s, "comments.ngwords", "禁句"):
        c2 = comment(Visitor(s, ip=kiji.next_ip()), aid, "禁句を含む " + mark())
    assert reason_of(s, c2) == "ngword"
    with setting(s, "comments.moderation", "all"):
        c3 = comment(v, aid, "全部承認制 " + mark())
    assert reason_of(s, c3) == "all"
    p = ed.page("/admin/comments?status=pending")
    assert "NGワード" in row_of(p, c2).text_norm()
    assert "すべて承認制" in row_of(p, c3).text_norm()
    # The tabs count what they show.
    n_pending = s.sql("SELECT COUNT(*) FROM comments WHERE status = 'pending'")[0][0]
    assert ("承認待ち (%d)" % n_pending) in p.text
    # Per article.
    other = [r[0] for r in s.sql("SELECT id FROM comments WHERE article_id <> ? "
                                 "AND status = 'approved' LIMIT 1", (aid,))][0]
    pa = ed.page("/admin/comments?status=all&article=%d" % aid)
    assert row_of(pa, cid) is not None and row_of(pa, other) is None
    assert title in pa.text
    for bad in ("/admin/comments?status=nope", "/admin/comments?page=0",
                "/admin/comments?page=9999"):
        assert ed.get(bad).status == 404, bad


def test_kiji_comments_list_columns():
    s = srv()
    aid = article(s)
    ip = kiji.next_ip()
    m = mark()
    with setting(s, "comments.moderation", "all"):
        cid = comment(Visitor(s, ip=ip), aid, "CLIで見る " + m, nickname="CLI")
    title = s.sql("SELECT title FROM articles WHERE id = ?", (aid,))[0][0]
    out = s.cli("comments", "list").stdout
    line = [ln for ln in out.splitlines() if ln.startswith("%d\t" % cid)]
    assert line, "kiji comments list lacks %d" % cid
    f = line[0].split("\t")
    assert f[1] == "pending" and f[2] == "article %d" % aid and f[4] == "CLI" and m in f[5], f
    assert f[6] == title[:40] or title.startswith(f[6].rstrip("…")), "title column %r" % f[6]
    assert f[7] == ip and f[8] == "all", f


def test_bulk_and_single_actions():
    s = srv()
    ed = editor(s)
    aid = article(s)
    with setting(s, "comments.moderation", "all"):
        ids = [comment(Visitor(s, ip=kiji.next_ip()), aid, "一括 %s" % mark()) for _ in range(3)]
    ed.page("/admin/comments")
    back = "/admin/comments?status=pending"
    r = ed.submit("/admin/comments/bulk", [("action", "approved"), ("back", back)] +
                  [("id", str(i)) for i in ids[:2]])
    assert r.status == 303 and r.header("location") == back, (r.status, r.header("location"))
    assert [status_of(s, i) for i in ids] == ["approved", "approved", "pending"]
    f = flash(ed.page(back))
    assert f and "2" in f, "flash %r" % f
    page = Visitor(s).page("/articles/%d" % aid).text
    body0 = s.sql("SELECT body FROM comments WHERE id = ?", (ids[0],))[0][0]
    assert body0 in page, "bulk-approved comment not on the public page"
    # One row's own button (formaction ?only=).
    r = ed.submit("/admin/comments/bulk?only=%d" % ids[2], [("action", "spam"), ("back", back)])
    assert r.status == 303 and status_of(s, ids[2]) == "spam"
    r = ed.submit("/admin/comments/bulk", [("action", "trash")] + [("id", str(i)) for i in ids[:2]])
    assert r.status == 303 and [status_of(s, i) for i in ids[:2]] == ["trash", "trash"]
    assert body0 not in Visitor(s).page("/articles/%d" % aid).text
    # Nothing ticked: nothing happens; a made-up action is refused.
    assert ed.submit("/admin/comments/bulk", [("action", "approved")]).status == 303
    r = ed.submit("/admin/comments/bulk", [("action", "delete-all"), ("id", str(ids[0]))])
    assert r.status == 400 and status_of(s, ids[0]) == "trash"
    # A return path elsewhere is not followed.
    r = ed.submit("/admin/comments/bulk", [("action", "approved"), ("id", str(ids[0])),
                                          ("back", "https://evil.example/")])
    assert r.header("location") == "/admin/comments"


def test_edit_comment_text():
    s = srv()
    ed = editor(s)
    aid = article(s)
    cid = comment(Visitor(s, ip=kiji.next_ip()), aid, "誤字がありまs " + mark())
    p = ed.page("/admin/comments/%d/edit" % cid)
    assert "誤字がありまs" in p.text
    m = mark()
    r = ed.submit("/admin/comments/%d/edit" % cid, {"body": "誤字を直しました\r\n二行目 " + m})
    assert r.status == 303
    assert s.sql("SELECT body FROM comments WHERE id = ?", (cid,))[0][0] == "誤字を直しました\n二行目 " + m
    assert m in Visitor(s).page("/articles/%d" % aid).text, "edit not shown on the article"
    for bad, want in (("   ", 422), ("制御\x01文字", 422)):
        r = ed.submit("/admin/comments/%d/edit" % cid, {"body": bad})
        assert r.status == want, (bad, r.status)
        assert form_error(r)
    assert m in s.sql("SELECT body FROM comments WHERE id = ?", (cid,))[0][0]
    assert ed.get("/admin/comments/99999999/edit").status == 404


# ---- bans ----------------------------------------------------------------------------------

def _ban(ed, kind, value):
    p = ed.page("/admin/bans?kind=%s&value=%s" % (kind, value))
    assert ('value="%s"' % value) in p.text, "ban form not prefilled"
    r = ed.submit("/admin/bans", {"kind": kind, "value": value, "note": "test"})
    assert r.status == 303, "ban %s %s: %d\n%s" % (kind, value, r.status, r.text[:300])


def test_ban_ip_range_and_visitor():
    s = srv()
    ed = editor(s)
    aid = article(s)
    # An address.
    bad_ip = kiji.next_ip()
    _ban(ed, "ip", bad_ip)
    c = comment(Visitor(s, ip=bad_ip), aid, "禁止IPから " + mark())
    assert status_of(s, c) == "spam" and reason_of(s, c) == "ban"
    assert status_of(s, comment(Visitor(s, ip=kiji.next_ip()), aid, "他のIP " + mark())) == "approved"
    # A range.
    _ban(ed, "range", "192.0.2.0/24")
    c = comment(Visitor(s, ip="192.0.2.77"), aid, "範囲内 " + mark())
    assert status_of(s, c) == "spam"
    c = comment(Visitor(s, ip="192.0.3.77"), aid, "範囲外 " + mark())
    assert status_of(s, c) == "approved"
    # A visitor id, whatever address it comes from.
    v = Visitor(s, ip=kiji.next_ip())
    first = comment(v, aid, "ふつう " + mark())
    vid = s.sql("SELECT visitor_id FROM comments WHERE id = ?", (first,))[0][0]
    _ban(ed, "visitor", vid)
    v.ip = kiji.next_ip()
    c = comment(v, aid, "別のIPから同じ人 " + mark())
    assert status_of(s, c) == "spam"
    # The list shows them; bad values are refused; a ban can be lifted.
    p = ed.page("/admin/bans")
    for want in (bad_ip, "192.0.2.0/24", vid):
        assert want in p.text
    for kind, value in (("ip", "999.1.1.1"), ("ip", "10.0.0.0/8"), ("range", "10.0.0.1"),
                        ("range", "10.0.0.0/33"), ("visitor", "<script>"), ("nope", "1.2.3.4")):
        r = ed.submit("/admin/bans", {"kind": kind, "value": value, "note": ""})
        assert r.status == 422, (kind, value, r.status)
    r = ed.submit("/admin/bans", {"kind": "ip", "value": bad_ip, "note": ""})
    assert r.status == 409, "a duplicate ban: %d" % r.status
    ban_id = s.sql("SELECT id FROM bans WHERE kind = 'ip' AND value = ?", (bad_ip,))[0][0]
    assert ed.submit("/admin/bans/%d/delete" % ban_id, {}).status == 303
    c = comment(Visitor(s, ip=bad_ip), aid, "解除後 " + mark())
    assert status_of(s, c) == "approved"


# ---- the deleted placeholder ---------------------------------------------------------------

def test_spammed_parent_keeps_replies_in_place():
    s = srv()
    ed = editor(s)
    aid = article(s)
    pm, rm, gm = mark(), mark(), mark()
    parent = comment(Visitor(s, ip=kiji.next_ip()), aid, "親コメント " + pm, nickname="親の名前")
    reply = comment(Visitor(s, ip=kiji.next_ip()), aid, "返信 " + rm, parent=parent)
    grand = comment(Visitor(s, ip=kiji.next_ip()), aid, "孫 " + gm, parent=reply)
    for action in ("spam", "trash"):
        r = ed.submit("/admin/comments/bulk", [("action", action), ("id", str(parent))])
        assert r.status == 303 and status_of(s, parent) == action
        page = Visitor(s).page("/articles/%d" % aid)
        d = page.doc
        ph = d.select_one("li#comment-%d" % parent)
        assert ph is not None, "%s parent vanished: its replies lost their place" % action
        assert "deleted" in ph.classes
        assert "削除されました" in ph.text_norm()
        assert pm not in page.text and "親の名前" not in page.text, "placeholder leaks the text"
        assert not [f for f in ph.select("form.like-form") if f.closest("li.comment") is ph]
        li = d.select_one("li#comment-%d" % reply)
        assert li is not None and li.closest("ol.children") is not None
        assert li.ancestors and ph in li.ancestors(), "reply moved out from under its parent"
        g = d.select_one("li#comment-%d" % grand)
        assert g is not None and li in g.ancestors()
        assert rm in page.text and gm in page.text
        # The JSON API nests the same way, with nothing of the text.
        api = json.loads(Visitor(s).get("/api/articles/%d/comments" % aid).text)
        top = [c for c in api["comments"] if c["id"] == parent]
        assert top and top[0]["status"] == "deleted" and top[0]["body"] == "" and \
            top[0]["author"] == "", top
        assert [c["id"] for c in top[0]["replies"]] == [reply]
        # Not in the comment feed.
        assert pm not in Visitor(s).get("/articles/%d/feed" % aid).text
    # Without visible replies a spammed comment is simply gone.
    ed.submit("/admin/comments/bulk", [("action", "spam"), ("id", str(reply)), ("id", str(grand))])
    d = Visitor(s).page("/articles/%d" % aid).doc
    assert d.select_one("li#comment-%d" % parent) is None
    assert d.select_one("li#comment-%d" % reply) is None
    ed.submit("/admin/comments/bulk", [("action", "approved"), ("id", str(parent)),
                                       ("id", str(reply)), ("id", str(grand))])
    page = Visitor(s).page("/articles/%d" % aid)
    assert pm in page.text and "削除されました" not in page.doc.select_one(
        "li#comment-%d" % parent).text_norm()


# ---- categories, tags, redirects --------------------------------------------------------

def test_category_create_rename_slug_301_and_delete():
    s = srv()
    ed = editor(s)
    ed.page("/admin/categories")
    r = ed.submit("/admin/categories", {"name": "テスト分類", "slug": "test-cat", "parent": "0"})
    assert r.status == 303, r.text[:400]
    cat = s.sql("SELECT id FROM categories WHERE slug = 'test-cat'")[0][0]
    r = ed.submit("/admin/categories", {"name": "子分類", "slug": "test-child", "parent": str(cat)})
    assert r.status == 303
    child = s.sql("SELECT id, parent_id FROM categories WHERE slug = 'test-child'")[0]
    assert child[1] == cat
    # Refusals: taken slug, bad slug, Japanese name without a slug, a loop.
    for f in ({"name": "x", "slug": "test-cat"}, {"name": "x", "slug": "bad_slug!"},
              {"name": "日本語だけ", "slug": ""}, {"name": "", "slug": "empty-name"},
              {"name": "x", "slug": "日本語スラッグ"}):
        r = ed.submit("/admin/categories", dict(f, parent="0"))
        assert r.status == 422, (f, r.status)
        assert form_error(r)
    r = ed.submit("/admin/categories/%d" % cat, {"name": "テスト分類", "slug": "test-cat",
                                                  "parent": str(child[0]), "description": ""})
    assert r.status == 422, "a category under its own child: %d" % r.status
    # Put an article in it, then rename the slug.
    aid = article(s)
    old_cat = s.sql("SELECT category_id FROM articles WHERE id = ?", (aid,))[0][0]
    with_write(s, "UPDATE articles SET category_id = ? WHERE id = ?", (cat, aid))
    assert Visitor(s).get("/category/test-cat").status == 200
    r = ed.submit("/admin/categories/%d" % cat, {"name": "改名分類", "slug": "renamed-cat",
                                                  "parent": "0", "description": "説明"})
    assert r.status == 303, r.text[:400]
    r = Visitor(s).get("/category/test-cat")
    assert r.status == 301 and r.header("location") == "/category/renamed-cat", (
        r.status, r.header("location"))
    r = Visitor(s).get("/category/test-cat/feed")
    assert r.status == 301 and r.header("location") == "/category/renamed-cat/feed"
    p = Visitor(s).page("/category/renamed-cat")
    assert "改名分類" in p.text
    # Delete with reassignment: the article moves, the URL follows.
    r = ed.submit("/admin/categories/%d/delete" % cat, {"reassign": str(child[0])})
    assert r.status == 303
    assert not s.sql("SELECT 1 FROM categories WHERE id = ?", (cat,))
    assert s.sql("SELECT category_id FROM articles WHERE id = ?", (aid,))[0][0] == child[0]
    assert s.sql("SELECT parent_id FROM categories WHERE id = ?", (child[0],))[0][0] is None
    r = Visitor(s).get("/category/renamed-cat")
    assert r.status == 301 and r.header("location") == "/category/test-child"
    r = Visitor(s).get("/category/test-cat")  # the older name follows too
    assert r.status == 301
    with_write(s, "UPDATE articles SET category_id = ? WHERE id = ?", (old_cat or None, aid))


def with_write(s, q, args=()):
    import sqlite3
    con = kiji.connect(s.db)
    try:
        con.execute(q, args)
        con.commit()
    finally:
        con.close()


def test_tag_rename_and_delete():
    s = srv()
    ed = editor(s)
    r = ed.submit("/admin/tags", {"name": "試験タグ", "slug": "test-tag"})
    assert r.status == 303
    tid = s.sql("SELECT id FROM tags WHERE slug = 'test-tag'")[0][0]
    other = s.sql("SELECT id, slug FROM tags WHERE id <> ? ORDER BY id LIMIT 1", (tid,))[0]
    aid = article(s)
    with_write(s, "INSERT INTO article_tags(article_id, tag_id) VALUES (?, ?)", (aid, tid))
    ed.page("/admin/tags")
    ed.page("/admin/tags/%d" % tid)
    r = ed.submit("/admin/tags/%d" % tid, {"name": "試験タグ改", "slug": "test-tag-2"})
    assert r.status == 303
    r = Visitor(s).get("/tag/test-tag")
    assert r.status == 301 and r.header("location") == "/tag/test-tag-2"
    assert Visitor(s).get("/tag/test-tag-2").status == 200
    r = ed.submit("/admin/tags/%d/delete" % tid, {"reassign": str(other[0])})
    assert r.status == 303
    assert not s.sql("SELECT 1 FROM tags WHERE id = ?", (tid,))
    assert s.sql("SELECT 1 FROM article_tags WHERE article_id = ? AND tag_id = ?", (aid, other[0]))
    r = Visitor(s).get("/tag/test-tag-2")
    assert r.status == 301 and r.header("location") == "/tag/%s" % other[1]


def test_redirects_by_hand_are_honoured():
    s = srv()
    ed = editor(s)
    aid = article(s)
    assert Visitor(s).get("/old/wp/post-1").status == 404
    r = ed.submit("/admin/redirects", {"from": "/old/wp/post-1", "to": "/articles/%d" % aid})
    assert r.status == 303
    r = Visitor(s).get("/old/wp/post-1")
    assert r.status == 301 and r.header("location") == "/articles/%d" % aid
    assert Visitor(s).request("HEAD", "/old/wp/post-1").status == 301
    # Japanese paths are matched decoded, however they were typed.
    r = ed.submit("/admin/redirects", {"from": "/%E6%97%A7/記事", "to": "https://example.org/新"})
    assert r.status == 303
    r = Visitor(s).get("/%E6%97%A7/%E8%A8%98%E4%BA%8B")
    assert r.status == 301 and r.header("location") == "https://example.org/%E6%96%B0"
    assert "/旧/記事" in ed.page("/admin/redirects").text
    for f in ({"from": "no-slash", "to": "/"}, {"from": "//evil", "to": "/"},
              {"from": "/x", "to": "javascript:alert(1)"}, {"from": "/x", "to": "//evil.example"},
              {"from": "/admin/", "to": "/"}, {"from": "/a b", "to": "/"}):
        r = ed.submit("/admin/redirects", f)
        assert r.status == 422, (f, r.status)
    r = ed.submit("/admin/redirects", {"from": "/old/wp/post-1", "to": "/"})
    assert r.status == 409
    assert ed.submit("/admin/redirects/delete", {"from": "/old/wp/post-1"}).status == 303
    assert Visitor(s).get("/old/wp/post-1").status == 404
    assert ed.submit("/admin/redirects/delete", {"from": "/never-there"}).status == 404


# ---- settings and users --------------------------------------------------------------------

def test_settings_use_the_cli_rules():
    s = srv()
    ed = editor(s, role="admin")
    p = ed.page("/admin/settings")
    keys = set(re.findall(r'name="([a-z_]+\.[a-z_.]+)"', p.text))
    listed = set(re.findall(r"^([a-z_]+\.[a-z_.]+)\s", s.cli("config", "list").stdout, re.M))
    assert listed and listed <= keys, "settings page lacks %s" % sorted(listed - keys)
    for g in ("site", "comments", "http", "admin"):
        assert 'id="group-%s"' % g in p.text, "no group %s" % g
    old = s.config_get("listing.per_page")
    old_ex = s.config_get("listing.excerpt_length")
    r = ed.submit("/admin/settings", {"listing.per_page": "0", "listing.excerpt_length": "80"})
    assert r.status == 422
    cli = s.cli("config", "set", "listing.per_page", "0", check=False)
    assert cli.returncode != 0
    why = cli.stderr.split(": ")[-1].strip()
    assert why in r.text, "admin reason differs from the CLI's %r" % why
    assert s.config_get("listing.per_page") == old
    assert s.config_get("listing.excerpt_length") == old_ex, "half a group was saved"
    r = ed.submit("/admin/settings", {"site.title": "管理画面から変えた", "site.lang": "ja"})
    assert r.status == 303
    assert s.config_get("site.title") == "管理画面から変えた"
    assert "管理画面から変えた" in Visitor(s).page("/").text, "public site did not pick it up"
    r = ed.submit("/admin/settings", {"no.such.key": "1"})
    assert r.status == 400
    ed.submit("/admin/settings", {"site.title": "kiji"})


def test_a_password_setting_is_never_shown():
    """mail.smtp_password: config get/list and the settings page say only
    whether it is set; the page's empty field leaves it as it is; a new
    value replaces it."""
    s = srv()
    pw = "smtp-secret-%s" % uuid.uuid4().hex[:8]
    s.config_set("mail.smtp_password", pw)
    try:
        assert s.config_get("mail.smtp_password") == "(set, hidden)"
        assert pw not in s.cli("config", "list").stdout, "config list shows the password"
        ed = editor(s, role="admin")
        p = ed.page("/admin/settings")
        assert pw not in p.text, "the settings page shows the password"
        assert re.search(r'<input[^>]*type="password"[^>]*name="mail\.smtp_password"[^>]*value=""',
                         p.text), "no empty password field"
        r = ed.submit("/admin/settings", {"mail.smtp_password": "", "site.title": "kiji"})
        assert r.status == 303
        assert s.sql("SELECT value FROM settings WHERE key = 'mail.smtp_password'")[0][0] == pw, \
            "an empty field changed the stored password"
        r = ed.submit("/admin/settings", {"mail.smtp_password": pw + "-new"})
        assert r.status == 303
        assert s.sql("SELECT value FROM settings WHERE key = 'mail.smtp_password'")[0][0] == \
            pw + "-new", "a new password was not stored"
    finally:
        s.config_set("mail.smtp_password", "")


def test_users_add_role_and_login():
    s = srv()
    adm = editor(s, role="admin")
    ed_name = "madebyadmin"
    r = adm.submit("/admin/users", {"name": ed_name, "display_name": "作られた人",
                                    "email": "made@example.org", "role": "author",
                                    "password": "short"})
    assert r.status == 422 and form_error(r)
    r = adm.submit("/admin/users", {"name": ed_name, "display_name": "作られた人",
                                    "email": "made@example.org", "role": "author",
                                    "password": "long-enough-pw"})
    assert r.status == 303, r.text[:400]
    r = adm.submit("/admin/users", {"name": ed_name, "display_name": "x", "email": "",
                                    "role": "author", "password": "long-enough-pw"})
    assert r.status == 422, "a taken name: %d" % r.status
    uid = s.sql("SELECT id, role, email FROM users WHERE name = ?", (ed_name,))[0]
    assert uid[1] == "author" and uid[2] == "made@example.org"
    e = Editor(s)
    e.login(ed_name, "long-enough-pw")
    assert e.get("/admin/comments").status == 403
    r = adm.submit("/admin/users/%d" % uid[0], {"display_name": "作られた人", "email": "new@example.org",
                                                 "role": "editor", "password": ""})
    assert r.status == 303
    assert e.get("/admin/comments").status == 200, "role change not effective"
    assert s.sql("SELECT email FROM users WHERE id = ?", (uid[0],))[0][0] == "new@example.org"
    assert "new@example.org" in adm.page("/admin/users").text
