"""`kiji import-wxr` on exports with one enormous text: 100 MB of one text
node, and a long CDATA section (libxml2's reader is quadratic on those, so
the importer cuts the file off after a node's worth of bytes). Both are
refused with a clear message and exit 1, nothing is written, and a normal
import into the same site works afterwards. Memory is measured by `make
bench` (bench/import.sh), not here: the ASan build's RSS says little."""

import tempfile
from pathlib import Path

import kiji
from test_wxr import new_site, q, run

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wp="http://wordpress.org/export/1.2/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel><title>t</title>'
        '<wp:wxr_version>1.2</wp:wxr_version>\n')
ITEM = ('<item><title>%s</title><wp:post_id>%d</wp:post_id>'
        '<wp:post_type>post</wp:post_type><wp:status>publish</wp:status>'
        '<wp:post_date_gmt>2020-01-02 03:04:05</wp:post_date_gmt>'
        '<content:encoded>%s</content:encoded></item>\n')
TAIL = '</channel></rss>\n'


def write_huge(path, megabytes, cdata):
    chunk = ("<p>あいうえおかきくけこ</p>" if cdata else "あいうえおかきくけこ") * 4000
    b = chunk.encode()
    head, tail = (ITEM % ("huge", 2, "\0")).split("\0")
    with open(path, "wb") as f:
        f.write((HEAD + head).encode())
        f.write(b"<![CDATA[" if cdata else b"")
        n = 0
        while n < megabytes << 20:
            f.write(b)
            n += len(b)
        f.write(b"]]>" if cdata else b"")
        f.write((tail + TAIL).encode())


def check_refused(megabytes, cdata):
    with tempfile.TemporaryDirectory() as d:
        db = new_site(d)
        f = Path(d) / "huge.xml"
        write_huge(f, megabytes, cdata)
        rc, out, err = run("import-wxr", "--db", db, f)
        assert rc == 1, (rc, err[-2000:])
        assert "longer than 4 MiB" in err or "huge text node" in err, err[-2000:]
        assert q(db, "SELECT count(*) FROM articles") == [(0,)]
        ok = Path(d) / "ok.xml"
        ok.write_text(HEAD + ITEM % ("小さな記事", 3, "<p>本文</p>") + TAIL,
                      encoding="utf-8")
        run("import-wxr", "--db", db, ok, check_rc=0)
        assert q(db, "SELECT title FROM articles") == [("小さな記事",)]


def test_wxr_100mb_text_node_refused():
    check_refused(100, cdata=False)


def test_wxr_huge_cdata_refused_without_quadratic_parse():
    # 12 MB of CDATA: libxml2's reader alone would take about 20 s here
    check_refused(12, cdata=True)
