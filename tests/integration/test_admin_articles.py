"""The article editor, revisions and images of the editor area over real
HTTP (issue 11 items 5 and 6): create, edit and publish through the admin
forms (multipart, as a browser sends them), slugs (unique per kind, made
from Japanese titles), per-object author limits and admin.authors_publish,
409 on a stale base revision with both versions shown and nothing
overwritten, revisions listed, diffed and restored, the trash, the
preview through the real article template (saving nothing), the draft
preview link that needs a login, and uploads: types sniffed from the
bytes (HTML-in-.jpg and SVG refused), PNG dimensions recorded, EXIF GPS
stripped from a JPEG, a 50 MB upload refused with 413 without the
server's memory growing, media served immutable under content-hash names.

One server of its own (kiji.server "admin-articles") trusting 127.0.0.1
as a proxy, so every Editor has its own X-Forwarded-For address."""

import datetime as dt
import re
import select
import socket
import struct
import time
import uuid
import zlib
import zoneinfo

import kiji
from admin_client import Editor, flash, form_error, user


def srv():
    return kiji.server("admin-articles", articles=12, comments=3, seed=21,
                       settings={"http.trusted_proxies": "127.0.0.1"})


def login(s, role, tag=""):
    name, pw = user(s, role, tag.lower())
    ed = Editor(s)
    ed.login(name, pw)
    ed.name = name
    ed.uid = s.sql("SELECT id FROM users WHERE name = ?", (name,))[0][0]
    return ed


# ---- forms -----------------------------------------------------------------------------

def multipart(fields, files=()):
    """(body, content type) of a multipart/form-data form: fields is a
    list of (name, value), files of (name, filename, type, bytes)."""
    b = "----kiji%s" % uuid.uuid4().hex
    out = []
    for k, v in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                    % (b, k)).encode() + str(v).encode("utf-8") + b"\r\n")
    for k, fn, ct, data in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                    "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n" % (b, k, fn, ct)
                    ).encode() + data + b"\r\n")
    out.append(("--%s--\r\n" % b).encode())
    return b"".join(out), "multipart/form-data; boundary=%s" % b


def post_form(ed, path, fields, files=()):
    """POSTs fields (a dict or pairs) as the editor's multipart form, with
    the session's CSRF token."""
    items = list(fields.items()) if isinstance(fields, dict) else list(fields)
    body, ct = multipart([("csrf", ed.csrf or ed.token())] + items, files)
    return ed.post(path, body=body, headers={"Content-Type": ct})


def article_fields(title, body="本文です。", status="draft", **kw):
    """The editor's fields with sensible defaults; sources=[(t, u)] become
    src_* rows (plus one empty row, as the page offers)."""
    f = [("title", title), ("slug", kw.get("slug", "")), ("kind", kw.get("kind", "post")),
         ("category", kw.get("category", "")), ("tags", kw.get("tags", "")),
         ("body", body), ("format", "markdown"), ("excerpt", kw.get("excerpt", "")),
         ("status", status), ("date", kw.get("date", "")),
         ("eyecatch", kw.get("eyecatch", "")), ("eyecatch_credit", kw.get("credit", "")),
         ("id", kw.get("id", "")), ("base_revision", kw.get("base_revision", ""))]
    if kw.get("comments_open", True):
        f.append(("comments_open", "1"))
    srcs = list(kw.get("sources", [])) + [("", "")]
    for i, (t, u) in enumerate(srcs):
        order = kw.get("orders", {}).get(i, i + 1)
        f += [("src_order", order), ("src_title", t), ("src_url", u)]
    return f


def create(ed, title, files=(), **kw):
    """New article through the form: returns its id (asserts the 303)."""
    r = post_form(ed, "/admin/articles/new", article_fields(title, **kw), files)
    assert r.status == 303, "create %r: %d\n%s" % (title, r.status, r.text[:1500])
    m = re.fullmatch(r"/admin/articles/(\d+)", r.header("location") or "")
    assert m, r.header("location")
    return int(m.group(1))


def base_revision(ed, aid):
    """The base_revision the edit page carries (and checks it is the
    newest stored revision)."""
    r = ed.page("/admin/articles/%d" % aid)
    m = re.search(r'name="base_revision" value="(\d+)"', r.text)
    assert m, "no base_revision on the edit page"
    return int(m.group(1))


def save(ed, aid, title, **kw):
    if "base_revision" not in kw:
        kw["base_revision"] = base_revision(ed, aid)
    kw["id"] = aid
    files = kw.pop("files", ())
    return post_form(ed, "/admin/articles/%d" % aid, article_fields(title, **kw), files)


def row(s, aid):
    rows = s.sql("SELECT * FROM articles WHERE id = ?", (aid,))
    return rows[0] if rows else None


def count_articles(s):
    return s.sql("SELECT COUNT(*) FROM articles")[0][0]


# ---- images built here (zlib, struct) -------------------------------------------------------

def png(w, h, extra_chunks=(), seed=0):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    raw = b"".join(b"\x00" + bytes(((x * 40 + y * 7 + seed) % 256) for x in range(w * 3))
                   for y in range(h))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    for t, d in extra_chunks:
        out += chunk(t, d)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpeg_with_gps(w, h, secret):
    """A structurally valid baseline JPEG whose APP1 Exif carries a GPS
    IFD with secret in it (the bytes a phone photo would leak)."""
    def seg(marker, payload):
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload
    # TIFF header, IFD0 with one entry pointing at a GPS IFD holding an
    # ASCII GPSLatitudeRef-like entry whose value is the secret.
    sec = secret.encode() + b"\x00"
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8)
    ifd0 = struct.pack(">H", 1) + struct.pack(">HHII", 0x8825, 4, 1, 26) + struct.pack(">I", 0)
    gps = struct.pack(">H", 1) + struct.pack(">HHII", 0x0001, 2, len(sec), 44) + struct.pack(">I", 0)
    exif = b"Exif\x00\x00" + tiff + ifd0 + gps + sec
    dqt = seg(0xDB, b"\x00" + bytes(range(1, 65)))
    sof = seg(0xC0, struct.pack(">BHHB", 8, h, w, 1) + b"\x01\x11\x00")
    dht = seg(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00")
    sos = seg(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return (b"\xff\xd8" + seg(0xE1, exif) + dqt + sof + dht + sos +
            b"\x12\x34\x56\x00\x78" + b"\xff\xd9")


def media_row(s, name):
    rows = s.sql("SELECT name, type, width, height, filename, uploader_id, data "
                 "FROM media WHERE name = ?", (name,))
    return rows[0] if rows else None


def upload(ed, filename, ctype, data, field="file"):
    return post_form(ed, "/admin/media", [], [(field, filename, ctype, data)])


def uploaded_name(r):
    m = re.fullmatch(r"/admin/media\?uploaded=([0-9a-f]{32}\.[a-z]+)", r.header("location") or "")
    assert m, "upload: %d %s\n%s" % (r.status, r.header("location"), r.text[:800])
    return m.group(1)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


# ---- create, edit, publish --------------------------------------------------------------------

def test_create_edit_publish():
    s = srv()
    ed = login(s, "editor")
    cat = s.sql("SELECT id, slug FROM categories ORDER BY id LIMIT 1")[0]
    body = "## 見出し\n\n最初の段落です。\n\n[リンク](https://example.com/a)"
    aid = create(ed, "Admin Created Article", body=body, category=cat[0],
                 tags="新タグ甲, 新タグ乙、既存", sources=[("出典A", "https://a.example/1"),
                                                  ("出典B", "https://b.example/2")],
                 orders={0: 2, 1: 1})
    a = row(s, aid)
    assert a["status"] == "draft" and a["author_id"] == ed.uid, dict(a)
    assert a["slug"] == "admin-created-article", a["slug"]
    assert "<h2>見出し</h2>" in a["body_html"], a["body_html"]
    # order fields reorder the rows; the empty row is dropped
    srcs = s.sql("SELECT title, url FROM sources WHERE article_id = ? ORDER BY pos", (aid,))
    assert [tuple(x) for x in srcs] == [("出典B", "https://b.example/2"),
                                        ("出典A", "https://a.example/1")], [tuple(x) for x in srcs]
    tags = {r[0] for r in s.sql("SELECT t.name FROM tags t JOIN article_tags x ON "
                                "x.tag_id = t.id WHERE x.article_id = ?", (aid,))}
    assert tags == {"新タグ甲", "新タグ乙", "既存"}, tags
    assert s.get("/articles/%d" % aid).status == 404, "a draft is public"
    # the edit page holds what was saved; the list finds it
    r = ed.page("/admin/articles/%d" % aid)
    assert "Admin Created Article" in r.text and "出典B" in r.text
    assert r.header("cache-control") == "no-store", r.header("cache-control")
    assert flash(r) is None or flash(r)
    lst = ed.page("/admin/articles?status=draft&q=created")
    assert 'href="/admin/articles/%d"' % aid in lst.text, "draft not in the filtered list"
    assert 'href="/admin/articles/%d"' % aid not in ed.page(
        "/admin/articles?status=published&q=created").text
    assert 'href="/admin/articles/%d"' % aid in ed.page(
        "/admin/articles?category=%d" % cat[0]).text
    assert 'href="/admin/articles/%d"' % aid not in ed.page(
        "/admin/articles?kind=page").text
    # publish: live on the article page and the front page
    r = save(ed, aid, "Admin Created Article", body=body + "\n\n追記しました。",
             status="published", category=cat[0], sources=[("出典B", "https://b.example/2")])
    assert r.status == 303, r.text[:1500]
    a = row(s, aid)
    assert a["status"] == "published" and abs(a["published_at"] - time.time()) < 120
    page = s.page("/articles/%d" % aid)
    assert "追記しました。" in page.text and "Admin Created Article" in page.text
    assert 'href="/articles/%d"' % aid in s.page("/").text, "published article not on /"
    # an edit keeps its publish time to the second (the form shows minutes)
    pub = a["published_at"]
    r = save(ed, aid, "Admin Created Article (2)", body=body, status="published",
             category=cat[0], date=dt.datetime.fromtimestamp(pub, kiji.JST).strftime("%Y-%m-%dT%H:%M"))
    assert r.status == 303, r.text[:1000]
    assert row(s, aid)["published_at"] == pub


def test_scheduled_date_in_site_zone():
    s = srv()
    ed = login(s, "editor")
    aid = create(ed, "Scheduled In Tokyo", status="scheduled", date="2099-01-02T09:30")
    a = row(s, aid)
    want = int(dt.datetime(2099, 1, 2, 9, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")).timestamp())
    assert a["status"] == "scheduled" and a["published_at"] == want, (a["status"], a["published_at"], want)
    r = ed.page("/admin/articles/%d" % aid)
    assert 'value="2099-01-02T09:30"' in r.text, "the date is not shown in the site zone"
    n = count_articles(s)
    r = post_form(ed, "/admin/articles/new", article_fields("Bad Date", status="scheduled",
                                                            date="2099-02-30T09:00"))
    assert r.status == 422 and form_error(r), r.status
    r = post_form(ed, "/admin/articles/new", article_fields("Past Schedule", status="scheduled",
                                                            date="2001-01-01T00:00"))
    assert r.status == 422 and "未来" in (form_error(r) or ""), (r.status, form_error(r))
    assert "Past Schedule" in r.text, "the typed title was not kept"
    assert count_articles(s) == n


def test_slugs_unique_per_kind_and_japanese():
    s = srv()
    ed = login(s, "editor")
    a1 = create(ed, "Slug Twin Title")
    a2 = create(ed, "Slug Twin Title")
    p1 = create(ed, "Slug Twin Title", kind="page")
    assert row(s, a1)["slug"] == "slug-twin-title"
    assert row(s, a2)["slug"] == "slug-twin-title-2"
    assert row(s, p1)["slug"] == "slug-twin-title", "slugs are unique per kind"
    ja = create(ed, "日本語だけのタイトル")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(-\d+)?", row(s, ja)["slug"]), row(s, ja)["slug"]
    # a typed slug that is taken is refused, with the form kept
    n = count_articles(s)
    r = post_form(ed, "/admin/articles/new", article_fields("Other Title", slug="slug-twin-title"))
    assert r.status == 422, r.status
    assert "スラッグ" in (form_error(r) or ""), form_error(r)
    assert 'value="Other Title"' in r.text
    assert count_articles(s) == n
    # an edited slug sticks
    r = save(ed, a2, "Slug Twin Title", slug="renamed-by-hand")
    assert r.status == 303 and row(s, a2)["slug"] == "renamed-by-hand"


# ---- authors ------------------------------------------------------------------------------------

def test_author_limits():
    s = srv()
    a = login(s, "author", "A")
    b = login(s, "author", "B")
    mine = create(a, "Author A Draft")
    assert row(s, mine)["author_id"] == a.uid
    # authors_publish is 0 by default: no publishing, no scheduling
    assert s.config_get("admin.authors_publish") == "0"
    page = a.page("/admin/articles/new")
    assert 'value="published"' not in page.text and 'value="scheduled"' not in page.text
    n = count_articles(s)
    r = post_form(a, "/admin/articles/new", article_fields("Author Publishes", status="published"))
    assert r.status == 403 and form_error(r), (r.status, form_error(r))
    assert count_articles(s) == n, "a refused publish saved something"
    r = save(a, mine, "Author A Draft", status="published")
    assert r.status == 403, r.status
    r = save(a, mine, "Author A Draft", status="scheduled", date="2099-03-01T10:00")
    assert r.status == 403, r.status
    assert row(s, mine)["status"] == "draft"
    # another author's article: not listed, not opened, not changed
    assert 'href="/admin/articles/%d"' % mine not in b.page("/admin/articles").text
    for path in ("/admin/articles/%d", "/admin/articles/%d/preview",
                 "/admin/articles/%d/revisions"):
        assert b.get(path % mine).status == 403, path
    rev = s.sql("SELECT MAX(id) FROM revisions WHERE article_id = ?", (mine,))[0][0]
    r = save(b, mine, "Hijacked", base_revision=rev)
    assert r.status == 403, r.status
    r = post_form(b, "/admin/articles/%d/trash" % mine, [])
    assert r.status == 403
    assert row(s, mine)["title"] == "Author A Draft" and row(s, mine)["status"] == "draft"
    # ?author= cannot widen an author's list
    other = login(s, "editor")
    theirs = create(other, "Editor Owned Article")
    assert 'href="/admin/articles/%d"' % theirs not in b.page(
        "/admin/articles?author=%d" % other.uid).text
    # deleting for good is for editors
    assert post_form(a, "/admin/articles/%d/delete" % mine, []).status == 403
    # with admin.authors_publish 1 the same author may publish
    s.config_set("admin.authors_publish", "1")
    try:
        r = save(a, mine, "Author A Draft", status="published")
        assert r.status == 303, (r.status, form_error(r))
        assert row(s, mine)["status"] == "published"
    finally:
        s.config_set("admin.authors_publish", "0")
    # back at 0: the author may still fix a typo without unpublishing
    time.sleep(0.1)
    r = save(a, mine, "Author A Draft (typo fixed)", status="published")
    assert r.status == 303, (r.status, form_error(r))
    assert row(s, mine)["status"] == "published"


# ---- two editors -----------------------------------------------------------------------------------

def test_conflict_409_shows_both_and_overwrites_nothing():
    s = srv()
    e1 = login(s, "editor", "C1")
    e2 = login(s, "editor", "C2")
    aid = create(e1, "Conflict Article", body="元の本文。\n")
    stale = base_revision(e1, aid)
    r = save(e2, aid, "Conflict Article", body="二人目が先に保存した本文。\n")
    assert r.status == 303
    r = save(e1, aid, "Conflict Article (mine)", body="一人目の本文（上書きしない）。\n",
             base_revision=stale)
    assert r.status == 409, r.status
    assert "二人目が先に保存した本文。" in r.text, "their version is not shown"
    assert r.text.count("一人目の本文（上書きしない）。") >= 2, "your text is not kept and shown"
    assert 'class="compare-col theirs"' in r.text and 'class="compare-col yours"' in r.text
    a = row(s, aid)
    assert a["body"] == "二人目が先に保存した本文。\n" and a["title"] == "Conflict Article"
    newest = s.sql("SELECT MAX(id) FROM revisions WHERE article_id = ?", (aid,))[0][0]
    m = re.search(r'name="base_revision" value="(\d+)"', r.text)
    assert m and int(m.group(1)) == newest, "the 409 form is not based on the newest revision"
    # saving again from the 409 page is a deliberate choice: it goes through
    r = save(e1, aid, "Conflict Article (mine)", body="一人目の本文（上書きしない）。\n",
             base_revision=newest)
    assert r.status == 303
    assert row(s, aid)["body"] == "一人目の本文（上書きしない）。\n"


# ---- revisions --------------------------------------------------------------------------------------

def test_revisions_list_diff_restore():
    s = srv()
    ed = login(s, "editor", "R")
    v1 = "一行目\n二行目\n三行目\n"
    v2 = "一行目\n二行目を直した\n三行目\n四行目\n"
    aid = create(ed, "Revision Article", body=v1)
    assert save(ed, aid, "Revision Article v2", body=v2).status == 303
    revs = s.sql("SELECT id, author_id FROM revisions WHERE article_id = ? ORDER BY id", (aid,))
    assert len(revs) == 2 and all(r[1] == ed.uid for r in revs)
    r = ed.page("/admin/articles/%d/revisions" % aid)
    for rid, _ in revs:
        assert "/admin/articles/%d/revisions/%d" % (aid, rid) in r.text
    assert r.text.count("表示 %s" % ed.name) >= 2, "the author of each revision is not shown"
    d = ed.page("/admin/articles/%d/revisions/%d" % (aid, revs[0][0]))
    assert re.search(r'<tr class="del">.*?二行目</td>', d.text), "deleted line not marked"
    assert re.search(r'<tr class="add">.*?二行目を直した</td>', d.text), "added line not marked"
    assert re.search(r'<tr class="add">.*?四行目</td>', d.text)
    assert re.search(r'<tr class="same">.*?一行目</td>', d.text)
    side = ed.page("/admin/articles/%d/revisions/%d?view=side" % (aid, revs[0][0]))
    assert side.text.count("compare-body") == 2
    # another revision's id under this article is a 404
    assert ed.get("/admin/articles/%d/revisions/%d" % (aid + 100000, revs[0][0])).status == 404
    r = post_form(ed, "/admin/articles/%d/revisions/%d/restore" % (aid, revs[0][0]), [])
    assert r.status == 303, r.status
    a = row(s, aid)
    assert a["body"] == v1 and a["title"] == "Revision Article"
    assert s.sql("SELECT COUNT(*) FROM revisions WHERE article_id = ?", (aid,))[0][0] == 3
    # a restore without the token changes nothing
    before = s.sql("SELECT COUNT(*) FROM revisions WHERE article_id = ?", (aid,))[0][0]
    body, ct = multipart([("csrf", "wrong")])
    r = ed.post("/admin/articles/%d/revisions/%d/restore" % (aid, revs[1][0]), body=body,
                headers={"Content-Type": ct})
    assert r.status == 403
    assert s.sql("SELECT COUNT(*) FROM revisions WHERE article_id = ?", (aid,))[0][0] == before


def test_long_texts_are_shown_side_by_side():
    s = srv()
    ed = login(s, "editor", "L")
    big1 = "".join("行 %d\n" % i for i in range(2500))
    big2 = big1.replace("行 7\n", "行 七\n")
    aid = create(ed, "Long Revision", body=big1)
    assert save(ed, aid, "Long Revision", body=big2).status == 303
    rid = s.sql("SELECT MIN(id) FROM revisions WHERE article_id = ?", (aid,))[0][0]
    r = ed.page("/admin/articles/%d/revisions/%d" % (aid, rid))
    assert "compare-body" in r.text and '<table class="diff">' not in r.text


# ---- trash ----------------------------------------------------------------------------------------------

def test_trash_restore_delete():
    s = srv()
    ed = login(s, "editor", "T")
    aid = create(ed, "Trash Me", status="published")
    assert s.get("/articles/%d" % aid).status == 200
    # deleting for good needs the trash first
    assert post_form(ed, "/admin/articles/%d/delete" % aid, []).status == 409
    r = post_form(ed, "/admin/articles/%d/trash" % aid, [])
    assert r.status == 303 and row(s, aid)["status"] == "trash"
    assert s.get("/articles/%d" % aid).status == 404
    assert 'href="/admin/articles/%d"' % aid in ed.page("/admin/articles?status=trash").text
    assert 'href="/admin/articles/%d"' % aid not in ed.page("/admin/articles").text
    r = post_form(ed, "/admin/articles/%d/restore" % aid, [])
    assert r.status == 303 and row(s, aid)["status"] == "published"
    assert s.get("/articles/%d" % aid).status == 200
    assert post_form(ed, "/admin/articles/%d/trash" % aid, []).status == 303
    r = post_form(ed, "/admin/articles/%d/delete" % aid, [])
    assert r.status == 303 and row(s, aid) is None
    assert ed.get("/admin/articles/%d" % aid).status == 404


# ---- preview ---------------------------------------------------------------------------------------------

def test_preview_uses_the_article_template_and_saves_nothing():
    s = srv()
    ed = login(s, "editor", "P")
    n = count_articles(s)
    r = post_form(ed, "/admin/articles/preview", article_fields(
        "Preview Only Title", body="## 小見出し\n\nプレビューの本文。",
        sources=[("参考の記事", "https://example.org/x")], tags="プレビュータグ"))
    assert r.status == 200, (r.status, r.text[:800])
    for cls in ('class="entry"', 'class="entry-title"', 'class="entry-body"',
                'class="entry-meta"', 'class="sources"', 'class="site-header"',
                'class="preview-banner"'):
        assert cls in r.text, "preview lacks %s" % cls
    assert "<h2>小見出し</h2>" in r.text and "Preview Only Title" in r.text
    assert '<meta name="robots" content="noindex">' in r.text
    assert r.header("cache-control") == "no-store"
    assert 'id="comment-form"' not in r.text and "data-id=" not in r.text
    assert count_articles(s) == n, "a preview saved an article"
    assert not s.sql("SELECT 1 FROM tags WHERE name = 'プレビュータグ'"), "a preview made a tag"
    # a stored draft: its author (or an editor) sees it, nobody else
    aid = create(ed, "Draft For Preview Link", body="下書きの本文。")
    link = "/admin/articles/%d/preview" % aid
    r = ed.page(link)
    assert "下書きの本文。" in r.text and 'class="entry-title"' in r.text
    anon = kiji.Visitor(s)
    r = anon.get(link)
    assert r.status == 303 and r.header("location") == "/admin/login", r.status
    assert "下書きの本文。" not in r.text
    other = login(s, "author", "P2")
    assert other.get(link).status == 403
    assert s.get("/articles/%d" % aid).status == 404
    # a preview of an edit leaves the stored article as it was
    r = post_form(ed, "/admin/articles/preview", article_fields(
        "Changed In Preview", body="変更後", id=aid))
    assert r.status == 200 and "変更後" in r.text
    assert row(s, aid)["title"] == "Draft For Preview Link"


# ---- images -------------------------------------------------------------------------------------------------

def test_upload_sniffing():
    s = srv()
    ed = login(s, "author", "U")
    n = s.sql("SELECT COUNT(*) FROM media")[0][0]
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    r = upload(ed, "photo.jpg", "image/jpeg", html)
    assert r.status == 415, r.status
    assert "HTML" in (form_error(r) or "") and "JPEG" in form_error(r), form_error(r)
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    r = upload(ed, "logo.svg", "image/svg+xml", svg)
    assert r.status == 415, r.status
    r = upload(ed, "disguised.png", "image/png", b"\x00\x01garbage bytes" * 10)
    assert r.status == 415 and form_error(r)
    r = upload(ed, "broken.png", "image/png", png(4, 4)[:40])
    assert r.status == 422 and form_error(r), r.status
    r = upload(ed, "", "application/octet-stream", b"")
    assert r.status == 422
    assert s.sql("SELECT COUNT(*) FROM media")[0][0] == n, "a refused upload was stored"
    # a real PNG: stored by content hash with its size, name and uploader
    data = png(7, 3, extra_chunks=[(b"tEXt", b"Comment\x00secret-place")], seed=1)
    r = upload(ed, "some/folder/地図.png", "application/octet-stream", data)
    name = uploaded_name(r)
    m = media_row(s, name)
    assert m["type"] == "image/png" and (m["width"], m["height"]) == (7, 3), dict(m)
    assert m["filename"] == "地図.png" and m["uploader_id"] == ed.uid, dict(m)
    assert b"secret-place" not in m["data"], "PNG text chunk kept"
    lib = ed.page("/admin/media?uploaded=" + name)
    assert "/media/" + name in lib.text and "![](/media/%s)" % name in lib.text
    assert 'width="7" height="3"' in lib.text
    # the same bytes again: the same name, one row
    assert uploaded_name(upload(ed, "again.png", "image/png", data)) == name
    assert s.sql("SELECT COUNT(*) FROM media WHERE name = ?", (name,))[0][0] == 1
    # a JPEG from a phone: EXIF with GPS goes, the image stays
    jpg = jpeg_with_gps(32, 24, "GPS-35.6812N-139.7671E")
    assert b"GPS-35.6812N" in jpg
    name = uploaded_name(upload(ed, "phone.jpg", "image/jpeg", jpg))
    m = media_row(s, name)
    assert name.endswith(".jpg") and (m["width"], m["height"]) == (32, 24)
    assert b"GPS-35.6812N" not in m["data"] and b"Exif" not in m["data"], "EXIF kept"
    r = s.get("/media/" + name)
    assert r.status == 200 and r.content_type == "image/jpeg"
    assert b"GPS-35.6812N" not in r.body and r.body.startswith(b"\xff\xd8")


def test_media_served_immutable():
    s = srv()
    ed = login(s, "editor", "M")
    name = uploaded_name(upload(ed, "x.png", "image/png", png(5, 5, seed=9)))
    r = s.get("/media/" + name)
    assert r.status == 200 and r.content_type == "image/png"
    assert r.header("cache-control") == "public, max-age=31536000, immutable", r.header("cache-control")
    assert r.body == media_row(s, name)["data"]
    # names that are not content hashes (the demo's) keep a short life
    demo = s.sql("SELECT name FROM media WHERE name LIKE 'demo-%' LIMIT 1")
    if demo:
        r = s.get("/media/" + demo[0][0])
        assert "immutable" not in (r.header("cache-control") or "")


def test_eyecatch_upload_in_the_editor_gets_width_and_height():
    s = srv()
    ed = login(s, "editor", "E")
    img = png(12, 8, seed=5)
    aid = create(ed, "Eyecatch Article", status="published", credit="撮影: 編集部",
                 files=[("eyecatch_file", "eye.png", "image/png", img)])
    a = row(s, aid)
    m = re.fullmatch(r"/media/([0-9a-f]{32}\.png)", a["eyecatch"])
    assert m, a["eyecatch"]
    page = s.page("/articles/%d" % aid)
    assert re.search(r'<figure class="eyecatch"><img src="%s" alt="" width="12" height="8">'
                     % re.escape(a["eyecatch"]), page.text), "eyecatch <img> without its size"
    assert "撮影: 編集部" in page.text
    # picking from the library sets the URL without an upload
    other = uploaded_name(upload(ed, "pick.png", "image/png", png(6, 4, seed=6)))
    r = save(ed, aid, "Eyecatch Article", status="published",
             files=[], eyecatch=a["eyecatch"])
    assert r.status == 303
    fields = article_fields("Eyecatch Article", status="published", id=aid,
                            base_revision=base_revision(ed, aid), eyecatch=a["eyecatch"])
    fields.append(("eyecatch_pick", "/media/" + other))
    r = post_form(ed, "/admin/articles/%d" % aid, fields)
    assert r.status == 303 and row(s, aid)["eyecatch"] == "/media/" + other
    # a bad file in the editor: refused with the typed text kept
    r = save(ed, aid, "Typed Title Kept", status="published",
             files=[("eyecatch_file", "evil.jpg", "image/jpeg", b"<html>no</html>")])
    assert r.status == 415 and 'value="Typed Title Kept"' in r.text
    assert row(s, aid)["title"] == "Eyecatch Article"


def test_upload_over_the_limit():
    s = srv()
    ed = login(s, "editor", "B")
    pid = s.proc.pid
    cookie = "; ".join("%s=%s" % kv for kv in ed.cookies.items())
    size = 50 * 1024 * 1024
    before = rss_kib(pid)
    # declared: refused from the head, before any of the body is read
    body_head, ct = multipart([("csrf", ed.csrf)], [("file", "big.png", "image/png", b"")])
    head = ("POST /admin/media HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n"
            "Cookie: %s\r\nX-Forwarded-For: %s\r\nContent-Type: %s\r\n"
            "Content-Length: %d\r\n\r\n" % (s.port, s.origin, cookie, ed.ip, ct, size))
    with socket.create_connection(("127.0.0.1", s.port), timeout=20) as c:
        c.sendall(head.encode() + body_head[:200])
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = c.recv(65536)
            if not chunk:
                break
            resp += chunk
    assert resp.startswith(b"HTTP/1.1 413"), resp[:200]
    # chunked: refused mid-body once past the route's limit; the file
    # part was spooled to disk, never held in memory
    with socket.create_connection(("127.0.0.1", s.port), timeout=20) as c:
        c.sendall(("POST /admin/media HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n"
                   "Cookie: %s\r\nX-Forwarded-For: %s\r\nContent-Type: %s\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n" % (s.port, s.origin, cookie, ed.ip, ct)
                   ).encode())
        pre = body_head[:body_head.rindex(b"\r\n--")]
        c.sendall(b"%x\r\n%s\r\n" % (len(pre), pre))
        block = png(1, 1) + b"\x00" * (1024 * 1024 - len(png(1, 1)))
        sent, resp = 0, b""
        while sent < size:
            r, _, _ = select.select([c], [], [], 0)
            if r:
                break
            try:
                c.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            except OSError:
                break
            sent += len(block)
        c.settimeout(10)
        try:
            while b"\r\n\r\n" not in resp:
                chunk = c.recv(65536)
                if not chunk:
                    break
                resp += chunk
        except OSError:
            pass
    assert resp.startswith(b"HTTP/1.1 413"), (sent, resp[:200])
    assert sent < size, "the whole 50 MB went in before a refusal"
    after = rss_kib(pid)
    assert after - before < 20 * 1024, "RSS grew %d KiB for a refused 50 MB upload" % (after - before)
    s.assert_alive()
    # under the route's limit but over admin.upload_max (read live): 413 too
    s.config_set("admin.upload_max", "65536")
    try:
        time.sleep(0.1)
        r = upload(ed, "big.png", "image/png", png(200, 200, seed=3) + b"\x00" * 70000)
        assert r.status == 413 and form_error(r), r.status
    finally:
        s.config_set("admin.upload_max", "10485760")
