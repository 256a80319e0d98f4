"""`kiji import-wxr --uploads DIR` on WordPress's theme unit test export,
with an uploads folder the test builds (small real PNG files, stdlib only,
at the paths the fixture's attachment URLs name; one carries a text chunk
that must be stripped, one is HTML under an image's name, the audio and
video files are not images): the images become media rows, featured
images and gallery/caption images point at /media/, [caption] posts show
<figure>/<figcaption>, [gallery] posts their images, embed posts a plain
link, a body link to a post later in the file points at /articles/<id>,
modified dates become updated_at; served, /wp-content/uploads/ paths and
their -300x200 size variants and the attachment pages answer 301 to the
media (or, for a file not imported, to the post it belongs to); a second
run changes nothing, revisions included."""

import hashlib
import http.client
import os
import re
import signal
import sqlite3
import struct
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import kiji

FIXTURE = kiji.ROOT.parent / "shared/fixtures/wxr/themeunittestdata.wordpress.xml"
WP = "{https://wordpress.org/export/1.2/}"
BROKEN = "2008/06/windmill.jpg"   # HTML under an image's name: refused
SECRET = b"GPS 35.6N 139.7E secret"


def _chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))


def png(seed, extra=b""):
    """A 4x3 RGB PNG whose pixels depend on seed (so hashes differ)."""
    c = hashlib.sha256(seed.encode()).digest()
    rows = b"".join(b"\x00" + c[y * 12:y * 12 + 12] for y in range(3))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 3, 8, 2, 0, 0, 0))
            + extra + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b""))


def attachments():
    """{id: (rel path, link path, parent id)} of the fixture's attachments."""
    out = {}
    for it in ET.parse(str(FIXTURE)).getroot().iter("item"):
        if it.findtext(WP + "post_type") != "attachment":
            continue
        url = it.findtext(WP + "attachment_url")
        link = urlsplit(it.findtext("link"))
        out[it.findtext(WP + "post_id")] = (
            urlsplit(url).path.lstrip("/"),
            link.path if not link.query else "",
            it.findtext(WP + "post_parent"))
    return out


def build_uploads(d):
    up = Path(d) / "uploads"
    for rel, _, _ in attachments().values():
        p = up / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if rel == BROKEN:
            p.write_bytes(b"<html><body>not an image</body></html>")
        elif rel == "2008/06/canola2.jpg":
            p.write_bytes(png(rel, _chunk(b"tEXt", b"Comment\x00" + SECRET)))
        elif rel.endswith((".jpg", ".gif", ".png")):
            p.write_bytes(png(rel))
        else:
            p.write_bytes(b"ID3 not an image: " + rel.encode())
    return up


def cli(*args):
    r = subprocess.run([str(kiji.kiji_bin())] + [str(a) for a in args], cwd=kiji.ROOT,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    err = r.stderr.decode("utf-8", "replace")
    assert not kiji.sanitizer_lines(err), err[-4000:]
    assert r.returncode == 0, (args, r.returncode, err[-2000:])
    return err


def q(db, sql, *a):
    con = sqlite3.connect(str(db))
    try:
        return con.execute(sql, a).fetchall()
    finally:
        con.close()


def snapshot(db):
    out = {}
    for t in ("articles", "comments", "categories", "tags", "users",
              "article_tags", "revisions", "redirects", "media"):
        out[t] = q(db, "SELECT * FROM %s ORDER BY 1" % t)
    return out


def body(db, wp_id):
    rows = q(db, "SELECT body_html FROM articles WHERE legacy_id = ? AND kind = 'post'",
             wp_id)
    assert len(rows) == 1, wp_id
    return rows[0][0]


def article_id(db, wp_id):
    return q(db, "SELECT id FROM articles WHERE legacy_id = ? AND kind = 'post'",
             wp_id)[0][0]


def _get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.getheader("Location"), r.getheader("Content-Type"), r.read()
    finally:
        c.close()


def serve(d, db):
    port = kiji.free_port()
    err = open(Path(d) / "serve.stderr", "wb")
    p = subprocess.Popen([str(kiji.kiji_bin()), "serve", "--db", str(db), "--listen",
                          "127.0.0.1:%d" % port], cwd=kiji.ROOT,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    deadline = time.monotonic() + 20
    while True:
        try:
            _get(port, "/robots.txt")
            return p, port
        except OSError:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)


def stop(d, p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    log = (Path(d) / "serve.stderr").read_text("utf-8", "replace")
    assert not kiji.sanitizer_lines(log), log[-4000:]


def test_wxr_uploads_bodies_links_and_redirects():
    att = attachments()
    images = [a for a, (rel, _, _) in att.items()
              if rel.endswith((".jpg", ".gif", ".png")) and rel != BROKEN]
    with tempfile.TemporaryDirectory(prefix="kiji-wxr-media-") as d:
        up = build_uploads(d)
        db = Path(d) / "site.db"
        cli("init", "--db", db)
        err = cli("import-wxr", "--db", db, "--uploads", up, FIXTURE)
        assert "58 imported" in err, err
        # two files share content? no: every image differs, one refused
        media = q(db, "SELECT name, type, width, height, filename, data FROM media")
        assert len(media) == len(images), (len(media), len(images), err)
        assert all(m[1] == "image/png" and (m[2], m[3]) == (4, 3) for m in media)
        assert not any(SECRET in m[5] for m in media), "text chunk kept"
        assert "%d copied from --uploads" % len(images) in err, err
        assert "1 not a JPEG, PNG, WebP or GIF image" not in err  # 3: mp3, mov, html
        assert re.search(r"3 not a JPEG, PNG, WebP or GIF image", err), err
        assert re.search(r"shortcodes  \d+ converted", err), err
        assert "[simple] 1" in err, err  # [simple boat]: unknown, kept, counted
        assert re.search(r"links       \d+ to the old site", err), err
        rows = dict(q(db, "SELECT from_path, to_path FROM redirects"
                      " WHERE from_path LIKE '/wp-content/uploads/%'"))
        canola = rows["/wp-content/uploads/2008/06/canola2.jpg"]
        assert canola.startswith("/media/") and canola.endswith(".png"), canola
        assert "/wp-content/uploads/" + BROKEN not in rows
        # featured images now point at the media
        assert q(db, "SELECT COUNT(*) FROM articles WHERE eyecatch LIKE '/media/%'")[0][0] >= 5
        # [caption] (1163): a figure whose caption and image survive
        b = body(db, "1163")
        assert re.search(r'<figure class="wp-caption alignnone"><a href="/media/[0-9a-f]+'
                         r'\.png"><img src="/media/[0-9a-f]+\.png"', b), b[:600]
        assert '<figcaption class="wp-caption-text">Bell on wharf in San Francisco' \
               '</figcaption></figure>' in b, b[:600]
        # the old attribute form (568)
        assert "<figcaption class=\"wp-caption-text\">Chunk of resinous" in body(db, "568")
        # [gallery] (555, without ids: the post's attachments)
        g = body(db, "555")
        assert g.count('<ul class="gallery">') == 10, g[:400]
        assert canola in g and "Lorem ipsum dolor sit amet" in g
        # [gallery ids="755,757,758,760,766,763"] (1031): those in the
        # file (763 is not), in their order
        g = body(db, "1031")
        assert g.count("<li><figure>") == 5, g[:400]
        assert g.index("Golden Gate") < g.index("Boardwalk") < g.index("Beach at Big Sur")
        # embeds alone on a line (YouTube, Twitter): plain links
        assert '<a href="https://www.youtube.com/watch?v=SQEQr7c0-dw" rel="nofollow ' \
               'noopener">https://www.youtube.com/watch?v=SQEQr7c0-dw</a>' in body(db, "1161")
        assert '<a href="https://twitter.com/nacin/status/319508408669708289"' \
            in body(db, "1179")
        assert "<iframe" not in "".join(r[0] for r in q(db, "SELECT body_html FROM articles"))
        # [audio URL]: a link to the file (not an image: original URL kept)
        assert '<a href="https://wpthemetestdata.files.wordpress.com/2008/06/' \
               'originaldixielandjazzbandwithalbernard-stlouisblues.mp3"' in body(db, "587")
        # Gutenberg's block comments are gone
        assert q(db, "SELECT COUNT(*) FROM articles WHERE body_html LIKE '%<!--%'")[0][0] == 0
        # a link to a post later in the file (1734 → 1747, whose date in
        # the link differs: found by its slug)
        assert '<a href="/articles/%d">' % article_id(db, "1747") in body(db, "1734")
        # gallery blocks' links to attachment pages: the media
        assert "post-format-gallery/canola2" not in body(db, "1752")
        # modified dates: wp:post_modified_gmt, else the post's date
        assert q(db, "SELECT updated_at FROM articles WHERE legacy_id = '163'"
                 " AND kind = 'post'")[0][0] == 1673853412  # 2023-01-16 07:16:52Z
        assert q(db, "SELECT updated_at = published_at FROM articles"
                 " WHERE legacy_id = '1163'")[0][0] == 1

        before = snapshot(db)
        err = cli("import-wxr", "--db", db, "--uploads", up, FIXTURE)
        assert "58 unchanged" in err and "%d there already" % len(images) in err, err
        assert snapshot(db) == before
        # without --uploads, a second run keeps the media too
        cli("import-wxr", "--db", db, FIXTURE)
        assert snapshot(db) == before

        p, port = serve(d, db)
        try:
            st, loc, _, _ = _get(port, "/wp-content/uploads/2008/06/canola2.jpg")
            assert (st, loc) == (301, canola)
            st, loc, _, _ = _get(port, "/wp-content/uploads/2008/06/canola2-300x200.jpg")
            assert (st, loc) == (301, canola)
            st, _, ctype, data = _get(port, canola)
            assert st == 200 and ctype == "image/png" and data.startswith(b"\x89PNG")
            st, _, _, _ = _get(port, "/wp-content/uploads/2008/06/nothing-300x200.jpg")
            assert st == 404
            # attachment pages: the permalink form and ?attachment_id=
            rel, link, parent = att["611"]
            assert rel == "2008/06/canola2.jpg"
            st, loc, _, _ = _get(port, link)
            assert (st, loc) == (301, canola), link
            st, loc, _, _ = _get(port, "/?attachment_id=611")
            assert (st, loc) == (301, canola)
            # the refused file's page goes to the post it belongs to
            broken = [a for a, v in att.items() if v[0] == BROKEN][0]
            st, loc, _, _ = _get(port, "/?attachment_id=%s" % broken)
            assert (st, loc) == (301, "/articles/%d" % article_id(db, att[broken][2]))
            st, _, _, _ = _get(port, "/?attachment_id=999999")
            assert st == 404
            # the later post's link is followed to the right page
            st, _, _, page = _get(port, "/articles/%d" % article_id(db, "1734"))
            assert st == 200 and b'href="/articles/%d"' % article_id(db, "1747") in page
        finally:
            stop(d, p)
