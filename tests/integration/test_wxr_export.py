"""`kiji export-wxr`, through the real binary. A demo site (plus a page,
WordPress-imported HTML articles whose ids collide with native ones,
e-mail addresses, a pingback, a trashed comment and article, a body and
a comment holding "]]>" and CR LF) is exported and imported into an
empty site: every article and comment comes back field by field, with
its thread, and a second import changes nothing. WordPress's theme unit
test export goes WordPress → kiji → WXR → kiji with the same counts and
threads. The file has what WordPress's importer reads (its parsers
match the wp:, content:, excerpt: and dc: prefixes), is well-formed
UTF-8 without control characters, names no commenter's e-mail or IP
address unless --with-emails, and is the same bytes twice. Memory stays
flat as the site grows (a looser check: no timing asserts)."""

import os
import re
import sqlite3
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import kiji

FIXTURE = kiji.ROOT.parent / "shared/fixtures/wxr/themeunittestdata.wordpress.xml"
WPNS = "https://wordpress.org/export/1.2/"
WP = "{%s}" % WPNS
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
EXCERPT = "{%sexcerpt/}" % WPNS
DC = "{http://purl.org/dc/elements/1.1/}"


def run(*args, check_rc=0, stdout_path=None, env=None):
    cmd = [str(kiji.kiji_bin())] + [str(a) for a in args]
    out_f = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    try:
        r = subprocess.run(cmd, cwd=kiji.ROOT, stdin=subprocess.DEVNULL,
                           stdout=out_f, stderr=subprocess.PIPE,
                           timeout=300, env=env)
    finally:
        if stdout_path:
            out_f.close()
    err = r.stderr.decode("utf-8", "replace")
    assert not kiji.sanitizer_lines(err), err[-4000:]
    if check_rc is not None:
        assert r.returncode == check_rc, (cmd, r.returncode, err[-4000:])
    out = r.stdout.decode("utf-8", "replace") if r.stdout else ""
    return r.returncode, out, err


def q(db, sql, *args):
    con = sqlite3.connect(str(db))
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def ex(db, sql, *args):
    con = sqlite3.connect(str(db))
    try:
        con.execute(sql, args)
        con.commit()
    finally:
        con.close()


def new_site(d, name):
    db = Path(d) / name
    run("init", "--db", db)
    return db


def export(db, path, emails=False):
    args = ["export-wxr", "--db", db] + (["--with-emails"] if emails else [])
    _, _, err = run(*args, stdout_path=path)
    assert "posts" in err, err
    return Path(path).read_bytes()


# A small WordPress export: HTML bodies, a post whose WordPress id (5)
# is also a native article id of the demo, an e-mail, a reply, a
# pingback.
WP_SMALL = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="https://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:wp="https://wordpress.org/export/1.2/"><channel>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:author><wp:author_login>oldwp</wp:author_login>
<wp:author_display_name>Old WP</wp:author_display_name></wp:author>
<item><title>旧ブログの記事 &amp; &lt;HTML&gt;</title>
<link>https://old.example.com/2019/05/old-post/</link>
<dc:creator>oldwp</dc:creator>
<content:encoded><![CDATA[<p>First <b>bold</b> paragraph.</p>

<p>Second with <a href="https://example.org/x">a link</a>.</p>]]></content:encoded>
<excerpt:encoded><![CDATA[旧い抜粋]]></excerpt:encoded>
<wp:post_id>5</wp:post_id>
<wp:post_date>2019-05-01 10:00:00</wp:post_date>
<wp:post_date_gmt>2019-05-01 01:00:00</wp:post_date_gmt>
<wp:comment_status>closed</wp:comment_status>
<wp:post_name>old-post</wp:post_name><wp:status>publish</wp:status>
<wp:post_type>post</wp:post_type>
<wp:comment><wp:comment_id>900</wp:comment_id>
<wp:comment_author>読者A</wp:comment_author>
<wp:comment_author_email>reader-a@mail.example.jp</wp:comment_author_email>
<wp:comment_author_url>https://a.example.jp/</wp:comment_author_url>
<wp:comment_author_IP>198.51.100.7</wp:comment_author_IP>
<wp:comment_date_gmt>2019-05-02 01:00:00</wp:comment_date_gmt>
<wp:comment_content>top</wp:comment_content>
<wp:comment_approved>1</wp:comment_approved><wp:comment_type></wp:comment_type>
<wp:comment_parent>0</wp:comment_parent></wp:comment>
<wp:comment><wp:comment_id>901</wp:comment_id>
<wp:comment_author>読者B</wp:comment_author>
<wp:comment_author_email>reader-b@mail.example.jp</wp:comment_author_email>
<wp:comment_date_gmt>2019-05-03 01:00:00</wp:comment_date_gmt>
<wp:comment_content>reply</wp:comment_content>
<wp:comment_approved>0</wp:comment_approved><wp:comment_type>comment</wp:comment_type>
<wp:comment_parent>900</wp:comment_parent></wp:comment>
<wp:comment><wp:comment_id>902</wp:comment_id>
<wp:comment_author>Some blog</wp:comment_author>
<wp:comment_author_url>https://blog.example.net/p/1</wp:comment_author_url>
<wp:comment_date_gmt>2019-05-04 01:00:00</wp:comment_date_gmt>
<wp:comment_content>[...] a ping [...]</wp:comment_content>
<wp:comment_approved>1</wp:comment_approved><wp:comment_type>pingback</wp:comment_type>
<wp:comment_parent>0</wp:comment_parent></wp:comment>
</item>
<item><title>About</title><link>https://old.example.com/about/</link>
<content:encoded><![CDATA[<p>About us</p>]]></content:encoded>
<wp:post_id>6</wp:post_id>
<wp:post_date_gmt>2018-01-01 00:00:00</wp:post_date_gmt>
<wp:post_name>about</wp:post_name><wp:status>publish</wp:status>
<wp:post_type>page</wp:post_type></item>
</channel></rss>
"""

PAGE_MD = """---
title: 編集方針
slug: policy
kind: page
status: published
date: 2024-04-01T09:00:00+09:00
---
私たちの**編集方針**です。
"""

CHILD_MD = """---
title: 編集部員
slug: staff
kind: page
parent: policy
status: published
date: 2024-04-02T09:00:00+09:00
---
編集部の紹介。
"""


def build_site(d):
    """The source site: demo plus what the demo does not make."""
    a = Path(d) / "a.db"
    run("demo", "--db", a, "--articles", 40, "--comments", 8, "--seed", 1)
    small = Path(d) / "small.xml"
    small.write_text(WP_SMALL, encoding="utf-8")
    run("import-wxr", "--db", a, small)
    page = Path(d) / "page.md"
    page.write_text(PAGE_MD, encoding="utf-8")
    run("post", "new", "--db", a, page)
    child = Path(d) / "child.md"
    child.write_text(CHILD_MD, encoding="utf-8")
    run("post", "new", "--db", a, child)
    ex(a, "UPDATE articles SET menu_order = 3 WHERE slug = 'staff'")
    # commenters' addresses (the demo leaves them empty)
    ex(a, "UPDATE comments SET email = 'c' || id || '@mail.example.com'"
          " WHERE type = 'comment' AND email = '' AND id % 3 = 0")
    n = lambda sql: q(a, sql)[0][0]  # noqa: E731
    native = "legacy_id = '' AND kind = 'post' AND status = 'published'"
    # one comment goes to the trash
    ex(a, "UPDATE comments SET status = 'trash' WHERE id = (SELECT MIN(id)"
          " FROM comments WHERE status = 'approved' AND type = 'comment'"
          " AND id NOT IN (SELECT parent_id FROM comments"
          " WHERE parent_id IS NOT NULL))")
    # what XML must carry carefully: "]]>", CR LF, markup characters
    art = q(a, "SELECT MIN(id) FROM articles WHERE " + native)[0][0]
    ex(a, "UPDATE articles SET body = body || char(13) || char(10) ||"
          " 'a ]]> b ]]]]> c & <d>', title = title || ' & <x> \"q\" ]]> end'"
          " WHERE id = ?", art)
    com = q(a, "SELECT MAX(id) FROM comments WHERE type = 'comment'"
               " AND status = 'approved'")[0][0]
    ex(a, "UPDATE comments SET body = body || char(13) || char(10) ||"
          " ']]> & <b>' WHERE id = ?", com)
    # a trashed article stays out of the export
    trash = q(a, "SELECT MAX(id) FROM articles WHERE " + native)[0][0]
    ex(a, "UPDATE articles SET status = 'trash' WHERE id = ?", trash)
    # the demo has all of this (checked, so the round trip means it)
    assert n("SELECT COUNT(*) FROM sources") > 40
    assert n("SELECT COUNT(*) FROM articles WHERE eyecatch_credit <> ''") > 30
    assert n("SELECT COUNT(*) FROM comments WHERE parent_id IS NOT NULL") > 20
    assert n("SELECT COUNT(*) FROM comments WHERE type = 'trackback'") >= 1
    assert n("SELECT COUNT(*) FROM comments WHERE type = 'pingback'") >= 1
    assert n("SELECT COUNT(*) FROM comments WHERE like_count > 0") > 20
    for st in ("published", "draft", "scheduled", "trash"):
        assert n("SELECT COUNT(*) FROM articles WHERE status = '%s'" % st) >= 1, st
    for st in ("approved", "pending", "spam", "trash"):
        assert n("SELECT COUNT(*) FROM comments WHERE status = '%s'" % st) >= 1, st
    assert n("SELECT COUNT(*) FROM articles WHERE comments_open = 0") >= 1
    assert n("SELECT COUNT(*) FROM articles WHERE kind = 'page'") == 3
    assert n("SELECT COUNT(*) FROM articles WHERE parent_id IS NOT NULL") == 1
    assert n("SELECT COUNT(*) FROM articles WHERE body_format = 'html'") == 2
    assert n("SELECT COUNT(*) FROM articles WHERE id = 5 AND legacy_id = ''") == 1
    return a, trash


ART_COLS = ("id, kind, title, slug, status, published_at, body, body_format,"
            " excerpt, eyecatch, eyecatch_credit, comments_open, legacy_id,"
            " guid, updated_at, COALESCE(parent_id, 0), menu_order,"
            " COALESCE((SELECT slug FROM categories c"
            " WHERE c.id = a.category_id), ''),"
            " COALESCE((SELECT name FROM users u WHERE u.id = a.author_id), '')")


def articles(db):
    """key → fields; the key is what the importer matches on (the
    WordPress id, else the exporting site's guid)."""
    out = {}
    for r in q(db, "SELECT " + ART_COLS + " FROM articles a"
                   " WHERE status <> 'trash'"):
        (aid, kind, title, slug, status, pub, body, fmt, excerpt, eye,
         credit, open_, legacy, guid, upd, parent, order, cat, author) = r
        tags = sorted(t for (t,) in q(
            db, "SELECT t.name FROM article_tags x JOIN tags t"
                " ON t.id = x.tag_id WHERE x.article_id = ?", aid))
        sources = q(db, "SELECT title, url FROM sources WHERE article_id = ?"
                        " ORDER BY pos", aid)
        out[(kind, legacy or guid)] = {
            "id": aid, "guid": guid, "title": title, "slug": slug,
            "status": status, "published_at": pub, "body": body,
            "format": fmt, "excerpt": excerpt, "eyecatch": eye,
            "credit": credit, "comments_open": open_, "category": cat,
            "author": author, "tags": tags, "sources": sources,
            "updated_at": upd, "parent": parent, "menu_order": order}
    # the parent as its key, comparable across sites
    ids = {v["id"]: k for k, v in out.items()}
    for v in out.values():
        v["parent"] = ids.get(v["parent"]) if v["parent"] else None
    return out


def comments(db, art_key_of):
    """(article key, comment key) → fields, with the parent's key."""
    rows = q(db, "SELECT c.id, c.article_id, c.parent_id, c.type, c.status,"
                 " c.nickname, c.email, c.url, c.ip, c.body, c.created_at,"
                 " c.like_count, c.legacy_id, c.pending_reason, a.guid"
                 " FROM comments c JOIN articles a ON a.id = c.article_id"
                 " WHERE a.status <> 'trash'")
    keys = {}
    for r in rows:
        cid, guid, legacy = r[0], r[14], r[12]
        keys[cid] = legacy or "%s#comment-%d" % (guid, cid)
    out = {}
    for r in rows:
        (cid, aid, parent, ty, st, nick, email, url, ip, body, t, likes,
         _legacy, reason, _guid) = r
        out[(art_key_of[aid], keys[cid])] = {
            "parent": keys[parent] if parent else None, "type": ty,
            "status": st, "nickname": nick, "email": email, "url": url,
            "ip": ip, "body": body, "created_at": t, "like_count": likes,
            "pending_reason": reason}
    return out


def key_map(arts):
    return {v["id"]: k for k, v in arts.items()}


def compare_sites(a, b, emails):
    aa, bb = articles(a), articles(b)
    # every article comes back under the key it was exported with
    assert set(aa) == set(bb), (set(aa) ^ set(bb))
    for k, va in aa.items():
        vb = bb[k]
        for f in ("title", "slug", "status", "published_at", "body",
                  "format", "excerpt", "eyecatch", "credit",
                  "comments_open", "category", "author", "tags", "sources",
                  "updated_at", "parent", "menu_order"):
            assert va[f] == vb[f], (k, f, va[f], vb[f])
    ca = comments(a, key_map(aa))
    cb = comments(b, key_map(bb))
    assert set(ca) == set(cb), (set(ca) ^ set(cb))
    assert len(cb) == q(a, "SELECT COUNT(*) FROM comments c JOIN articles x"
                           " ON x.id = c.article_id"
                           " WHERE x.status <> 'trash'")[0][0]
    for k, va in ca.items():
        vb = cb[k]
        for f in ("parent", "type", "status", "nickname", "url", "body",
                  "created_at", "like_count", "pending_reason"):
            assert va[f] == vb[f], (k, f, va[f], vb[f])
        if emails:
            assert (vb["email"], vb["ip"]) == (va["email"], va["ip"]), k
        else:
            assert (vb["email"], vb["ip"]) == ("", ""), k
    return aa, ca


def snapshot(db):
    return {t: q(db, "SELECT * FROM %s ORDER BY 1" % t)
            for t in ("articles", "comments", "categories", "tags", "users",
                      "article_tags", "sources", "revisions")}


def test_wxr_export_round_trip_exact():
    with tempfile.TemporaryDirectory() as d:
        a, trash = build_site(d)
        x1 = Path(d) / "with.xml"
        export(a, x1, emails=True)
        b = new_site(d, "b.db")
        _, _, err = run("import-wxr", "--db", b, x1)
        assert " 0 failed" in err and "without their parent" in err, err
        aa, ca = compare_sites(a, b, emails=True)
        # the trashed article was left out, and only it
        assert q(b, "SELECT COUNT(*) FROM articles")[0][0] == len(aa)
        tguid = q(a, "SELECT guid FROM articles WHERE id = ?", trash)[0][0]
        assert q(b, "SELECT COUNT(*) FROM articles WHERE legacy_id = ?",
                 tguid)[0][0] == 0
        # the WordPress-imported items keep their WordPress ids, apart
        # from the native article 5 (matched on its guid)
        assert ("post", "5") in aa and ("page", "6") in aa
        assert q(b, "SELECT COUNT(*) FROM articles WHERE legacy_id = '5'")[0][0] == 1
        assert any(v["type"] == "pingback" for v in ca.values())
        # a second import changes nothing; one with a changed like count
        # and status updates just that comment
        before = snapshot(b)
        _, _, err = run("import-wxr", "--db", b, x1)
        assert " 0 imported" in err and " 0 updated" in err, err
        assert snapshot(b) == before
        cid = q(a, "SELECT MAX(id) FROM comments WHERE status = 'approved'"
                   " AND type = 'comment'")[0][0]
        ex(a, "UPDATE comments SET like_count = like_count + 7 WHERE id = ?", cid)
        x2 = Path(d) / "newer.xml"
        export(a, x2, emails=True)
        _, _, err = run("import-wxr", "--db", b, x2)
        assert "1 updated" in err, err
        compare_sites(a, b, emails=True)
        # without --with-emails nothing of the addresses arrives
        x0 = Path(d) / "without.xml"
        export(a, x0)
        c = new_site(d, "c.db")
        run("import-wxr", "--db", c, x0)
        compare_sites(a, c, emails=False)


def fixture_shape(db):
    n = lambda sql: q(db, sql)[0][0]  # noqa: E731
    shape = {
        "kinds": q(db, "SELECT kind, status, COUNT(*) FROM articles"
                       " GROUP BY 1, 2 ORDER BY 1, 2"),
        "ctypes": q(db, "SELECT type, status, COUNT(*) FROM comments"
                        " GROUP BY 1, 2 ORDER BY 1, 2"),
        "categories": dict(q(db, "SELECT c.slug, COALESCE(p.slug, '')"
                                 " FROM categories c LEFT JOIN categories p"
                                 " ON p.id = c.parent_id")),
        "tags": n("SELECT COUNT(*) FROM tags"),
        "legacy": sorted(q(db, "SELECT kind, legacy_id FROM articles")),
        "parents": sorted(q(db, "SELECT c.legacy_id, COALESCE(p.legacy_id, '')"
                                " FROM comments c LEFT JOIN comments p"
                                " ON p.id = c.parent_id")),
        "depth": n("WITH RECURSIVE d(id, n) AS (SELECT id, 1 FROM comments"
                   " WHERE parent_id IS NULL UNION ALL SELECT c.id, d.n + 1"
                   " FROM comments c JOIN d ON c.parent_id = d.id)"
                   " SELECT MAX(n) FROM d"),
    }
    return shape


def test_wxr_export_fixture_through_kiji():
    assert FIXTURE.is_file(), FIXTURE
    with tempfile.TemporaryDirectory() as d:
        f1 = new_site(d, "f1.db")
        run("import-wxr", "--db", f1, FIXTURE)
        x = Path(d) / "f1.xml"
        export(f1, x, emails=True)
        f2 = new_site(d, "f2.db")
        _, _, err = run("import-wxr", "--db", f2, x)
        assert "58 imported" in err and "33 imported" in err, err
        s1, s2 = fixture_shape(f1), fixture_shape(f2)
        assert s1 == s2
        assert s2["depth"] == 10 and len(s2["parents"]) == 33
        assert len(s2["categories"]) == 68 and s2["tags"] == 113
        compare_sites(f1, f2, emails=True)


def test_wxr_export_structure():
    """What WordPress's importer (wordpress-importer's WXR_Parser_SimpleXML
    and WXR_Parser_XML) reads, checked on the file: its XML parser matches
    prefixed names, so the prefixes are WordPress's own."""
    with tempfile.TemporaryDirectory() as d:
        a, _ = build_site(d)
        raw = export(a, Path(d) / "x.xml", emails=True)
        text = raw.decode("utf-8")  # strict: well-formed UTF-8
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]", text)
        assert "\r" not in text and "&#13;" in text  # CR escaped, not raw
        head = text[:text.index("<channel>")]
        for prefix, uri in (("excerpt", WPNS + "excerpt/"),
                            ("content", "http://purl.org/rss/1.0/modules/content/"),
                            ("wfw", "http://wellformedweb.org/CommentAPI/"),
                            ("dc", "http://purl.org/dc/elements/1.1/"),
                            ("wp", WPNS)):
            assert 'xmlns:%s="%s"' % (prefix, uri) in head, prefix
        for tag in ("<wp:post_id>", "<content:encoded>", "<excerpt:encoded>",
                    "<dc:creator>", "<wp:comment_id>", "<wp:postmeta>"):
            assert tag in text, tag
        root = ET.fromstring(raw)
        assert root.tag == "rss" and root.get("version") == "2.0"
        ch = root.find("channel")
        assert ch is not None
        assert ch.findtext(WP + "wxr_version") == "1.2"
        assert ch.findtext(WP + "base_site_url").startswith("http")
        assert ch.findtext(WP + "base_blog_url").startswith("http")
        assert ch.findtext("title") and ch.findtext("link")
        for au in ch.findall(WP + "author"):
            assert au.findtext(WP + "author_login")
            assert au.find(WP + "author_display_name") is not None
        seen, term_ids = set(), set()
        for c in ch.findall(WP + "category"):
            nice = c.findtext(WP + "category_nicename")
            parent = c.findtext(WP + "category_parent") or ""
            assert nice and c.findtext(WP + "cat_name")
            assert not parent or parent in seen, (nice, parent)  # parents first
            seen.add(nice)
            term_ids.add(c.findtext(WP + "term_id"))
        tags = ch.findall(WP + "tag")
        assert tags
        for t in tags:
            assert t.findtext(WP + "tag_slug") and t.findtext(WP + "tag_name")
            term_ids.add(t.findtext(WP + "term_id"))
        assert len(term_ids) == len(seen) + len(tags)  # one table of terms
        date = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        items = ch.findall("item")
        assert len(items) == q(a, "SELECT COUNT(*) FROM articles"
                                  " WHERE status <> 'trash'")[0][0]
        ncom = 0
        for it in items:
            for f in ("title", "link", "guid"):
                assert it.find(f) is not None, f
            assert it.find(DC + "creator") is not None
            assert it.find(CONTENT + "encoded") is not None
            assert it.find(EXCERPT + "encoded") is not None
            for f in ("post_id", "post_date", "post_date_gmt", "post_type",
                      "status", "post_name", "post_parent", "menu_order",
                      "comment_status", "ping_status", "is_sticky",
                      "post_password"):
                assert it.find(WP + f) is not None, f
            assert it.findtext(WP + "post_id").isdigit()
            assert date.match(it.findtext(WP + "post_date"))
            assert it.findtext(WP + "post_type") in ("post", "page")
            assert it.findtext(WP + "status") in ("publish", "draft", "future")
            assert it.findtext(WP + "comment_status") in ("open", "closed")
            for c in it.findall("category"):
                assert c.get("domain") in ("category", "post_tag")
                assert c.get("nicename") and c.text
            keys = [m.findtext(WP + "meta_key") for m in it.findall(WP + "postmeta")]
            assert "_kiji_sources" in keys and "_kiji_legacy_id" in keys
            ids = set()
            for c in it.findall(WP + "comment"):
                ncom += 1
                for f in ("comment_id", "comment_author", "comment_author_email",
                          "comment_author_url", "comment_author_IP",
                          "comment_date", "comment_date_gmt", "comment_content",
                          "comment_approved", "comment_type", "comment_parent",
                          "comment_user_id"):
                    assert c.find(WP + f) is not None, f
                assert c.findtext(WP + "comment_approved") in ("1", "0", "spam", "trash")
                assert c.findtext(WP + "comment_type") in ("comment", "trackback", "pingback")
                assert date.match(c.findtext(WP + "comment_date_gmt"))
                p = c.findtext(WP + "comment_parent")
                assert p == "0" or p in ids  # its parent is in the item, before it
                ids.add(c.findtext(WP + "comment_id"))
                mk = [m.findtext(WP + "meta_key") for m in c.findall(WP + "commentmeta")]
                assert "_kiji_like_count" in mk
        assert ncom == q(a, "SELECT COUNT(*) FROM comments c JOIN articles x"
                            " ON x.id = c.article_id WHERE x.status <> 'trash'")[0][0]
        # a "]]>" inside a text is split across two CDATA sections
        assert "]]]]><![CDATA[>" in text


def test_wxr_export_emails_only_when_asked():
    with tempfile.TemporaryDirectory() as d:
        a, _ = build_site(d)
        emails = {e for (e,) in q(a, "SELECT email FROM comments WHERE email <> ''")}
        ips = {i for (i,) in q(a, "SELECT ip FROM comments WHERE ip <> ''")}
        assert len(emails) > 10 and "reader-a@mail.example.jp" in emails
        without = export(a, Path(d) / "x0.xml").decode("utf-8")
        assert "@mail.example" not in without
        for e in emails:
            assert e not in without, e
        for ip in ips:
            assert ">%s<" % ip not in without, ip
        assert "198.51.100.7" not in without
        with_ = export(a, Path(d) / "x1.xml", emails=True).decode("utf-8")
        for e in emails:
            assert e in with_, e
        assert "198.51.100.7" in with_


def test_wxr_export_deterministic_and_usage():
    with tempfile.TemporaryDirectory() as d:
        a = Path(d) / "a.db"
        run("demo", "--db", a, "--articles", 20, "--comments", 4)
        one = export(a, Path(d) / "1.xml")
        two = export(a, Path(d) / "2.xml")
        assert one == two and len(one) > 10000
        assert export(a, Path(d) / "3.xml", emails=True) == \
            export(a, Path(d) / "4.xml", emails=True)
        _, out, _ = run("export-wxr", "--help")
        assert "--with-emails" in out
        rc, _, err = run("export-wxr", "--db", a, "out.xml", check_rc=2)
        assert "unexpected argument" in err
        rc, _, err = run("export-wxr", "--db", Path(d) / "missing.db",
                         check_rc=2)
        assert "no such site" in err


def _peak_kib(db, path):
    """The export's own peak RSS (wait4 on that one child)."""
    env = dict(os.environ)
    # ASan keeps freed memory in quarantine (RSS would grow with work
    # done, not with memory held); leave it small for this measurement
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                           ":quarantine_size_mb=1:malloc_context_size=2").lstrip(":")
    with open(path, "wb") as out:
        p = subprocess.Popen([str(kiji.kiji_bin()), "export-wxr", "--db",
                              str(db)], stdout=out, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, env=env)
        _, status, ru = os.wait4(p.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return ru.ru_maxrss


def test_wxr_export_memory_flat():
    with tempfile.TemporaryDirectory() as d:
        small, big = Path(d) / "s.db", Path(d) / "b.db"
        run("demo", "--db", small, "--articles", 30, "--comments", 5)
        run("demo", "--db", big, "--articles", 1500, "--comments", 20)
        rs = _peak_kib(small, Path(d) / "s.xml")
        rb = _peak_kib(big, Path(d) / "b.xml")
        sizes = (Path(d) / "s.xml").stat().st_size, (Path(d) / "b.xml").stat().st_size
        assert sizes[1] > 40 * sizes[0], sizes
        # the big file is tens of MB; the process grows by far less
        assert rb - rs < 48 * 1024, (rs, rb, sizes)
