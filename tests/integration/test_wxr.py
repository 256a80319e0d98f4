"""`kiji import-wxr`, through the real binary, into sites made by
`kiji init`: WordPress's theme unit test export imports with its exact
counts (posts by status, pages, comments by type and status, threads
under their right parents, categories with their parents, tags, authors
without a password), bodies get their paragraphs and pass the sanitiser;
a second run changes nothing; --dry-run writes nothing; a truncated copy
stops with exit 1 and a full run after it completes without duplicates;
billion laughs, an external entity naming /etc/passwd, bytes that
contradict the declared encoding and a file that is not WXR are refused
(exit 1, nothing of /etc/passwd anywhere); a Shift_JIS export of the
http:// namespace form imports with its Japanese title and
percent-encoded slug decoded."""

import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import kiji

FIXTURE = kiji.ROOT.parent / "shared/fixtures/wxr/themeunittestdata.wordpress.xml"
WP = "{https://wordpress.org/export/1.2/}"


def run(*args, check_rc=None):
    cmd = [str(kiji.kiji_bin())] + [str(a) for a in args]
    r = subprocess.run(cmd, cwd=kiji.ROOT, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=300)
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    assert not kiji.sanitizer_lines(err), err[-4000:]
    if check_rc is not None:
        assert r.returncode == check_rc, (cmd, r.returncode, err[-4000:])
    return r.returncode, out, err


def new_site(d, name="site.db"):
    """A new empty site: d/name, or a fresh PostgreSQL database in the
    PostgreSQL pass."""
    db = kiji.new_db(Path(d)) if kiji.PG else Path(d) / name
    run("init", "--db", db, check_rc=0)
    return db


def q(db, sql, *args):
    con = kiji.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def snapshot(db):
    """Every row of the tables an import writes (change_log aside), in
    an order that is total: article_tags' first column repeats, and
    PostgreSQL may hand equal keys back in another order once its
    statistics change between two reads (ORDER BY 1 alone failed once
    under make test on PostgreSQL, and passed on its own)."""
    out = {}
    for t in ("articles", "comments", "categories", "tags", "users",
              "article_tags", "revisions"):
        out[t] = q(db, "SELECT * FROM %s ORDER BY 1, 2" % t)
    return out


def expected():
    """The counts read from the fixture itself (xml.etree, not kiji)."""
    root = ET.parse(FIXTURE).getroot()
    items = list(root.iter("item"))
    e = {"post": 0, "page": 0, "attachment": 0, "future": 0, "draft": 0,
         "comments": 0, "trackback": 0, "pingback": 0, "pending": 0,
         "parents": {}}
    for it in items:
        t = it.find(WP + "post_type").text
        e[t] = e.get(t, 0) + 1
        st = it.find(WP + "status").text
        if t == "post" and st in ("future", "draft"):
            e[st] += 1
        if t not in ("post", "page"):
            continue
        for c in it.findall(WP + "comment"):
            e["comments"] += 1
            ty = c.find(WP + "comment_type").text or "comment"
            if ty in ("trackback", "pingback"):
                e[ty] += 1
            if c.find(WP + "comment_approved").text == "0":
                e["pending"] += 1
            e["parents"][c.find(WP + "comment_id").text] = \
                c.find(WP + "comment_parent").text
    ch = root.find("channel")
    e["categories"] = {
        c.find(WP + "category_nicename").text:
            (c.find(WP + "category_parent").text or "")
        for c in ch.findall(WP + "category")}
    e["tags"] = {t.find(WP + "tag_slug").text for t in ch.findall(WP + "tag")}
    names = {t.find(WP + "tag_name").text for t in ch.findall(WP + "tag")}
    # posts use a few tags the channel does not declare (a tag is the
    # same when its slug or its name is: "content" is "content-2")
    for it in items:
        if it.find(WP + "post_type").text in ("post", "page"):
            for c in it.findall("category"):
                if c.get("domain") == "post_tag" and \
                        c.text not in names:
                    e["tags"].add(c.get("nicename"))
    e["authors"] = len(ch.findall(WP + "author"))
    return e


def check_counts(db, e):
    def n(sql, *a):
        return q(db, sql, *a)[0][0]
    # the numbers, and the file's own
    assert e["post"] == 58 and e["page"] == 21 and e["attachment"] == 37
    assert n("SELECT COUNT(*) FROM articles WHERE kind='post'") == 58
    assert n("SELECT COUNT(*) FROM articles WHERE kind='post' AND status='scheduled'") == 1
    assert n("SELECT COUNT(*) FROM articles WHERE kind='post' AND status='draft'") == 1
    assert n("SELECT COUNT(*) FROM articles WHERE kind='post' AND status='published'") == 56
    assert n("SELECT COUNT(*) FROM articles WHERE kind='page'") == 21
    assert n("SELECT COUNT(*) FROM articles WHERE legacy_id = ''") == 0
    assert n("SELECT COUNT(DISTINCT legacy_id || kind) FROM articles") == 79
    assert n("SELECT COUNT(*) FROM articles WHERE body_format <> 'html'") == 0
    assert n("SELECT COUNT(*) FROM comments") == 33 == e["comments"]
    assert n("SELECT COUNT(*) FROM comments WHERE type='trackback'") == 2
    assert n("SELECT COUNT(*) FROM comments WHERE type='pingback'") == 2
    assert n("SELECT COUNT(*) FROM comments WHERE status='pending'") == 3
    assert n("SELECT COUNT(*) FROM categories") == 68 == len(e["categories"])
    # 110 declared in the channel + 3 that posts use without declaring
    assert n("SELECT COUNT(*) FROM tags") == len(e["tags"]) == 113
    assert n("SELECT COUNT(*) FROM users") == e["authors"] == 2
    assert n("SELECT COUNT(*) FROM users WHERE pass_hash <> '' OR role <> 'author'") == 0
    # every comment under its right parent (by WordPress id), 10 deep
    rows = q(db, "SELECT c.legacy_id, COALESCE(p.legacy_id, '0') FROM comments c"
             " LEFT JOIN comments p ON p.id = c.parent_id")
    assert {a: b for a, b in rows} == e["parents"]
    depth = n("WITH RECURSIVE d(id, n) AS (SELECT id, 1 FROM comments"
              " WHERE parent_id IS NULL UNION ALL SELECT c.id, d.n + 1"
              " FROM comments c JOIN d ON c.parent_id = d.id)"
              " SELECT MAX(n) FROM d")
    assert depth == 10, depth
    # category hierarchy by slug
    rows = q(db, "SELECT c.slug, COALESCE(p.slug, '') FROM categories c"
             " LEFT JOIN categories p ON p.id = c.parent_id")
    assert dict(rows) == e["categories"]
    # paragraphs added before the sanitiser; no script survives
    assert n("SELECT COUNT(*) FROM articles WHERE body_html LIKE '%<p>%'") > 40
    assert n("SELECT COUNT(*) FROM articles WHERE body_html LIKE '%<script%'") == 0
    # featured images as the attachments' original URLs
    assert n("SELECT COUNT(*) FROM articles WHERE eyecatch LIKE 'http%'") >= 1
    # the future post keeps its date (2030, in GMT from the file)
    assert n("SELECT published_at FROM articles WHERE status='scheduled'") == 1893524418


def test_wxr_fixture_counts_and_idempotent():
    assert FIXTURE.is_file(), FIXTURE
    e = expected()
    with tempfile.TemporaryDirectory() as d:
        db = new_site(d)
        _, _, err = run("import-wxr", "--db", db, FIXTURE, check_rc=0)
        assert "58 imported" in err and "nav_menu_item 70" in err, err
        assert "37 seen" in err, err
        check_counts(db, e)
        before = snapshot(db)
        # --db may stand after the file; the second run changes nothing
        _, _, err = run("import-wxr", FIXTURE, "--db", db, check_rc=0)
        assert "58 unchanged" in err and "33 unchanged" in err, err
        assert snapshot(db) == before


def test_wxr_dry_run_writes_nothing():
    with tempfile.TemporaryDirectory() as d:
        db = new_site(d)
        before = snapshot(db)
        _, _, err = run("import-wxr", "--dry-run", "--db", db, FIXTURE,
                        check_rc=0)
        assert "dry run" in err and "58 to import" in err, err
        assert "33 to import" in err, err
        assert snapshot(db) == before


def test_wxr_truncated_then_complete():
    e = expected()
    with tempfile.TemporaryDirectory() as d:
        db = new_site(d)
        cut = Path(d) / "cut.xml"
        cut.write_bytes(FIXTURE.read_bytes()[:300000])
        rc, _, err = run("import-wxr", "--db", db, cut)
        assert rc == 1 and "stopped" in err, err
        run("import-wxr", "--db", db, FIXTURE, check_rc=0)
        check_counts(db, e)


def hostile(d, name, text, enc="utf-8"):
    p = Path(d) / name
    p.write_bytes(text.encode(enc) if isinstance(text, str) else text)
    return p


LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "lollollollollollollollollollol">
""" + "".join(' <!ENTITY %s "%s">\n' % (chr(ord("b") + i), ("&%s;" % chr(ord("a") + i)) * 10)
              for i in range(9)) + """]>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<item><title>&j;</title><wp:post_id>1</wp:post_id><wp:post_type>post</wp:post_type>
<wp:status>publish</wp:status></item></channel></rss>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<item><title>leak &xxe;</title><wp:post_id>1</wp:post_id>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">&xxe;</content:encoded>
<wp:post_type>post</wp:post_type><wp:status>publish</wp:status></item></channel></rss>
"""


def test_wxr_hostile_files_refused():
    with tempfile.TemporaryDirectory() as d:
        db = new_site(d)
        before = snapshot(db)
        cases = [
            hostile(d, "laughs.xml", LAUGHS),
            hostile(d, "xxe.xml", XXE),
            hostile(d, "badutf8.xml", b'<?xml version="1.0" encoding="UTF-8"?>\n'
                    b'<rss version="2.0" xmlns:wp="https://wordpress.org/export/1.1/">'
                    b'<channel><item><title>\xff\xfe</title><wp:post_id>1</wp:post_id>'
                    b'<wp:post_type>post</wp:post_type></item></channel></rss>\n'),
            hostile(d, "badeuc.xml", b'<?xml version="1.0" encoding="EUC-JP"?>\n'
                    b'<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.0/">'
                    b'<channel><item><title>\xff\xff</title><wp:post_id>1</wp:post_id>'
                    b'<wp:post_type>post</wp:post_type></item></channel></rss>\n'),
            hostile(d, "html.xml", "<html><body>not an export</body></html>"),
            hostile(d, "rss.xml", '<rss version="2.0"><channel><item><title>x'
                    '</title></item></channel></rss>'),
        ]
        passwd = Path("/etc/passwd").read_text().splitlines()[0]
        for p in cases:
            rc, out, err = run("import-wxr", "--db", db, p)
            assert rc == 1, (p.name, rc, err)
            assert "stopped: " in err, (p.name, err)
            assert passwd not in out and passwd not in err, p.name
        assert snapshot(db) == before
        assert passwd.encode() not in kiji.db_bytes(db)


def test_wxr_shift_jis_http_namespace():
    body = ('<?xml version="1.0" encoding="Shift_JIS"?>\n'
            '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.0/"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            '<item><title>日本語の記事</title><dc:creator>taro</dc:creator>'
            '<content:encoded><![CDATA[一行目\n二行目\n\n次の段落]]></content:encoded>'
            '<wp:post_id>5</wp:post_id><wp:post_name>%e6%97%a5%E6%9C%AC</wp:post_name>'
            '<wp:post_date>2010-01-02 12:04:05</wp:post_date>'
            '<wp:post_date_gmt>2010-01-02 03:04:05</wp:post_date_gmt>'
            '<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>'
            '</item><item><title>下書き</title><wp:post_id>6</wp:post_id>'
            '<wp:post_date>2010-01-02 12:04:05</wp:post_date>'
            '<wp:post_date_gmt>0000-00-00 00:00:00</wp:post_date_gmt>'
            '<wp:status>pending</wp:status><wp:post_type>post</wp:post_type>'
            '</item></channel></rss>\n')
    with tempfile.TemporaryDirectory() as d:
        db = new_site(d)
        p = hostile(d, "sjis.xml", body, enc="shift_jis")
        run("import-wxr", "--db", db, p, check_rc=0)
        rows = q(db, "SELECT title, slug, published_at, body_html, legacy_id"
                 " FROM articles WHERE legacy_id = '5'")
        assert len(rows) == 1
        # no GMT date: the local one, in the site's zone (Asia/Tokyo)
        assert q(db, "SELECT status, published_at FROM articles"
                 " WHERE legacy_id = '6'") == [("draft", 1262401445)]
        title, slug, pub, html, legacy = rows[0]
        assert (title, slug, pub, legacy) == ("日本語の記事", "日本", 1262401445, "5")
        assert "<p>一行目<br" in html and "<p>次の段落</p>" in html, html
        # WXR 1.0 lists no authors: the creator becomes one
        assert q(db, "SELECT name, pass_hash FROM users") == [("taro", "")]
