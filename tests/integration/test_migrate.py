"""kiji migrate (issue 15, item 4): a demo site copied into a new file
serves the same bytes (front page, an article with its comments and their
replies, its comment feed, an image), the report says ok for every table
and the command exits 0; a second run into the now full file is refused
(exit 2) without touching it; the mail key comes along, mode 0600. With
KIJI_TEST_PG (a base URL, tests/pg/cluster.sh) the same site goes file ->
PostgreSQL -> file and the checksums of the first file and the last agree;
otherwise that test says it skipped."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import kiji

TOKEN = re.compile(rb'(name="token" value=")[^"]*(")')
ROW = re.compile(r"^(\w+)\s+(\d+)\s+(\d+)\s+([0-9a-f]{16})\s+(ok|MISMATCH.*)$", re.M)
TABLES = 23


def migrate(*args, check=True):
    """kiji migrate ARGS; the CompletedProcess (text)."""
    cmd = [str(kiji.kiji_bin()), "migrate"] + [str(a) for a in args]
    r = subprocess.run(cmd, cwd=kiji.ROOT, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=300)
    assert not kiji.sanitizer_lines(r.stderr), r.stderr[-4000:]
    if check:
        assert r.returncode == 0, "%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode,
                                                       r.stdout, r.stderr)
    return r


def report(out):
    """The report's rows: {table: (source rows, copy rows, checksum, verdict)}."""
    rows = {m.group(1): (int(m.group(2)), int(m.group(3)), m.group(4), m.group(5))
            for m in ROW.finditer(out)}
    assert len(rows) == TABLES, "want %d tables in the report:\n%s" % (TABLES, out)
    return rows


def site():
    s = kiji.server("migrate-src", start=False, articles=16, comments=5, seed=15)
    return s


def copy_server(name, db):
    """A server (not started) for the database at db; stopped by teardown."""
    c = kiji.Server(name)
    c.db = Path(db)
    kiji._servers[name] = c
    return c


def same(a, b, path):
    ra, rb = a.get(path), b.get(path)
    assert ra.status == 200 and rb.status == 200, "%s: %d / %d" % (path, ra.status, rb.status)
    ba, bb = TOKEN.sub(rb"\1-\2", ra.body), TOKEN.sub(rb"\1-\2", rb.body)
    assert ba == bb, "%s differs between the site and its copy" % path


@kiji.sqlite_only("a SQLite site file copied to another file with its .mailkey")
def test_migrate_file_to_file():
    src = site()
    # a reply-mail key beside the site: it must follow the copy
    key = Path(str(src.db) + ".mailkey")
    key.write_text("ab" * 32 + "\n")
    os.chmod(key, 0o600)
    copy = copy_server("migrate-copy", src.tmp / "copy.db")
    r = migrate("--from", src.db, "--to", "sqlite:%s" % copy.db)
    rows = report(r.stdout)
    for t, (n, m, _, verdict) in rows.items():
        assert verdict == "ok" and n == m, "%s: %s" % (t, rows[t])
    assert rows["articles"][0] >= 16 and rows["comments"][0] > 0 and rows["media"][0] > 0
    ck = Path(str(copy.db) + ".mailkey")
    assert ck.read_text() == key.read_text(), "mail key not copied"
    assert ck.stat().st_mode & 0o777 == 0o600
    # --check compares without copying (before the servers write: each
    # makes its secret and runs its jobs)
    r = migrate("--check", "--from", src.db, "--to", copy.db)
    assert all(v[3] == "ok" for v in report(r.stdout).values())

    src.start()
    copy.start()
    aid, = src.sql("SELECT id FROM articles WHERE status = 'published' AND kind = 'post'"
                   " AND id IN (SELECT article_id FROM comments WHERE parent_id IS NOT NULL"
                   " AND status = 'approved') ORDER BY id LIMIT 1")[0]
    img, = src.sql("SELECT name FROM media ORDER BY name LIMIT 1")[0]
    for path in ("/", "/articles/%d" % aid, "/articles/%d/feed" % aid, "/feed",
                 "/sitemap.xml", "/media/%s" % img):
        same(src, copy, path)

    # the copy is full now: a second run is refused and changes nothing
    before = copy.sql("SELECT COUNT(*) FROM comments")[0][0]
    r = migrate("--from", src.db, "--to", copy.db, check=False)
    assert r.returncode == 2, r.stderr
    assert "the destination is not empty" in r.stderr
    assert copy.sql("SELECT COUNT(*) FROM comments")[0][0] == before


def psql(base, sql):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", base, "-c", sql],
                   check=True, capture_output=True, timeout=60)


def test_migrate_through_postgresql():
    base = os.environ.get("KIJI_TEST_PG", "")
    if not base:
        print("skip: test_migrate_through_postgresql (KIJI_TEST_PG not set)")
        return
    src = site()
    schema = "migrate_%d" % os.getpid()
    psql(base, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s" % (schema, schema))
    url = "%s%soptions=-csearch_path%%3D%s" % (base, "&" if "?" in base else "?", schema)
    back = src.tmp / "back.db"
    try:
        one = report(migrate("--from", src.db, "--to", url).stdout)
        two = report(migrate("--from", url, "--to", back).stdout)
        for t in one:
            assert one[t][3] == "ok" and two[t][3] == "ok", (t, one[t], two[t])
            assert one[t][:3] == two[t][:3], "%s: %s -> %s" % (t, one[t], two[t])
        r = migrate("--check", "--from", src.db, "--to", back)
        assert all(v[3] == "ok" for v in report(r.stdout).values())
    finally:
        psql(base, "DROP SCHEMA IF EXISTS %s CASCADE" % schema)
