"""`kiji post`, `kiji init` and `--db` handling, through the real binary:
a Markdown file with front matter round-trips (new → get → edit → get),
an edit keeps what the file leaves out, bad files are reported with the
field and the line (exit 2), init refuses an existing file, every command
refuses a --db that does not exist, --db may stand anywhere, and an
article written with `post new` is on the running site and in its search
at once. Also a local image file as eyecatch, stored by content hash."""

import contextlib
import re
import struct
import subprocess
import tempfile
import time
import zlib
from pathlib import Path
from urllib.parse import quote

import kiji

ARTICLE = """---
title: "NATO首脳会議: 新方針で合意"
status: published
date: 2026-01-10T09:30:00+09:00
author: morikawa
category: europe
tags:
  - NATO
  - 首脳会議テスト
sources:
  - title: 首脳会議の声明
    url: https://example.org/statement
  - {title: "Reuters: summit", url: "https://example.com/r?a=1&b=2"}
credit: 写真提供 テスト
excerpt: 首脳会議の要点
comments: false
---

## 合意の内容

加盟国はｚｘｑｐｏｓｔ計画で一致した。**重要**な一歩だ。

<script>alert(1)</script> [罠](javascript:alert(1))
"""


# ---- helpers -----------------------------------------------------------------------

def srv():
    return kiji.server("post_cli", articles=6, comments=1, seed=11)


def run(*args, stdin=None, timeout=60):
    """kiji ARGS as given (no --db added); CompletedProcess with text."""
    cmd = [str(kiji.kiji_bin())] + [str(a) for a in args]
    r = subprocess.run(cmd, cwd=kiji.ROOT, capture_output=True, timeout=timeout,
                       input=stdin.encode() if stdin else None,
                       stdin=None if stdin else subprocess.DEVNULL)
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    bad = kiji.sanitizer_lines(err)
    assert not bad, "sanitizer report from %s:\n%s" % (" ".join(cmd), err[-4000:])
    return subprocess.CompletedProcess(cmd, r.returncode, out, err)


def write(tmp, name, text):
    p = Path(tmp) / name
    p.write_text(text, "utf-8")
    return p


def post_new(s, path):
    r = run("post", "new", "--db", s.db, path)
    assert r.returncode == 0, "post new: exit %d\n%s" % (r.returncode, r.stderr)
    assert re.fullmatch(r"[1-9][0-9]*\n", r.stdout), "post new printed %r" % r.stdout
    return int(r.stdout)


def post_get(s, aid):
    r = run("post", "get", aid, "--db", s.db)
    assert r.returncode == 0, "post get: exit %d\n%s" % (r.returncode, r.stderr)
    return r.stdout


def row(s, aid):
    rows = s.sql("SELECT a.*, COALESCE(u.name, '') AS login, COALESCE(c.slug, '') AS cat"
                 " FROM articles a LEFT JOIN users u ON u.id = a.author_id"
                 " LEFT JOIN categories c ON c.id = a.category_id WHERE a.id = ?", (aid,))
    assert rows, "no article %d" % aid
    return rows[0]


def tags_of(s, aid):
    return [r[0] for r in s.sql("SELECT t.name FROM article_tags x JOIN tags t"
                                " ON t.id = x.tag_id WHERE x.article_id = ? ORDER BY t.name",
                                (aid,))]


def sources_of(s, aid):
    return [tuple(r) for r in s.sql("SELECT title, url FROM sources WHERE article_id = ?"
                                    " ORDER BY pos", (aid,))]


def revisions(s, aid):
    return s.sql("SELECT COUNT(*) FROM revisions WHERE article_id = ?", (aid,))[0][0]


@contextlib.contextmanager
def serving(*args):
    """`kiji ARGS` (a serve command line without --listen) on a free port;
    yields the port once it answers, stops it (SIGTERM, exit 0) after."""
    port = kiji.free_port()
    p = subprocess.Popen([str(kiji.kiji_bin())] + [str(a) for a in args]
                         + ["--listen", "127.0.0.1:%d" % port], cwd=kiji.ROOT,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        ok = False
        for _ in range(200):
            try:
                ok = kiji.request_port(port, "GET", "/", timeout=2).status == 200
                break
            except OSError:
                if p.poll() is not None:
                    break
                time.sleep(0.1)
        assert ok, "kiji %s did not answer" % " ".join(map(str, args))
        yield port
    finally:
        p.terminate()
        _, err = p.communicate(timeout=10)
    assert p.returncode == 0, "serve exit %s" % p.returncode
    assert not kiji.sanitizer_lines(err.decode("utf-8", "replace"))


def png_1x1():
    """A real 1x1 RGB PNG, with a tEXt chunk that must not survive."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    text = b"Comment\x00GPS 35.6812,139.7671"
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"tEXt", text)
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


# ---- round trip ----------------------------------------------------------------------

def test_post_new_get_edit_round_trip():
    s = srv()
    with tempfile.TemporaryDirectory() as tmp:
        aid = post_new(s, write(tmp, "a.md", ARTICLE))
        r = row(s, aid)
        assert r["title"] == "NATO首脳会議: 新方針で合意"
        assert r["status"] == "published" and r["kind"] == "post"
        assert r["published_at"] == 1768005000  # 2026-01-10T00:30:00Z
        assert r["login"] == "morikawa" and r["cat"] == "europe"
        assert r["eyecatch_credit"] == "写真提供 テスト"
        assert r["excerpt"] == "首脳会議の要点"
        assert r["comments_open"] == 0
        # a Japanese title: its date (JST), "-N" when taken
        assert re.fullmatch(r"2026-01-10(-[0-9]+)?", r["slug"]), r["slug"]
        assert r["body"].startswith("## 合意の内容") and r["body"].endswith("alert(1))")
        assert "<script" not in r["body_html"] and "javascript:" not in r["body_html"]
        assert "<strong>重要</strong>" in r["body_html"]
        assert tags_of(s, aid) == sorted(["NATO", "首脳会議テスト"])
        assert sources_of(s, aid) == [("首脳会議の声明", "https://example.org/statement"),
                                      ("Reuters: summit", "https://example.com/r?a=1&b=2")]
        assert revisions(s, aid) == 1

        out = post_get(s, aid)
        for line in ["title: 'NATO首脳会議: 新方針で合意'", "status: published",
                     "date: 2026-01-10T09:30:00+09:00", "author: morikawa",
                     "category: europe", "comments: false", "kind: post",
                     "format: markdown", "slug: " + r["slug"]]:
            assert line + "\n" in out, "%r not in:\n%s" % (line, out)
        assert out.endswith("[罠](javascript:alert(1))\n")

        # what get prints, edited back unchanged, changes no field
        before = dict(row(s, aid))
        p = write(tmp, "b.md", out)
        r2 = run("post", "edit", aid, p, "--db", s.db)
        assert r2.returncode == 0, r2.stderr
        after = dict(row(s, aid))
        for k in before:
            if k not in ("updated_at",):
                assert before[k] == after[k], "%s: %r → %r" % (k, before[k], after[k])
        assert tags_of(s, aid) == sorted(["NATO", "首脳会議テスト"])
        assert len(sources_of(s, aid)) == 2
        assert revisions(s, aid) == 2
        assert post_get(s, aid) == out


def test_post_edit_keeps_what_the_file_leaves_out():
    s = srv()
    with tempfile.TemporaryDirectory() as tmp:
        aid = post_new(s, write(tmp, "a.md", ARTICLE))
        slug = row(s, aid)["slug"]
        r = run("post", "edit", aid, write(tmp, "e.md", "---\ntitle: 題名だけ変える\n---\n"),
                "--db", s.db)
        assert r.returncode == 0, r.stderr
        a = row(s, aid)
        assert a["title"] == "題名だけ変える"
        assert a["login"] == "morikawa" and a["cat"] == "europe"
        assert a["published_at"] == 1768005000 and a["status"] == "published"
        assert a["body"].startswith("## 合意の内容")  # an empty body keeps the body
        assert a["slug"] == slug
        assert len(sources_of(s, aid)) == 2 and len(tags_of(s, aid)) == 2
        # an empty list clears, a new body replaces
        r = run("post", "edit", aid, write(tmp, "f.md", "---\ntags: []\ncategory: \"\"\n"
                                           "---\n新しい本文\n"), "--db", s.db)
        assert r.returncode == 0, r.stderr
        a = row(s, aid)
        assert tags_of(s, aid) == [] and a["cat"] == "" and a["body"] == "新しい本文"
        assert len(sources_of(s, aid)) == 2 and a["title"] == "題名だけ変える"
        assert revisions(s, aid) == 3
        r = run("post", "edit", "999999", write(tmp, "g.md", "---\ntitle: x\n---\n"),
                "--db", s.db)
        assert r.returncode == 1 and "no such article" in r.stderr


def test_post_errors_name_field_and_line():
    s = srv()
    cases = [
        ("---\ntitle: x\nstatus: published\ndate: 2026-12-03 09:00\n---\n",
         ":4: date: not ISO 8601 with an offset"),
        ("---\ntitle: x\nauthor: nobody-here\n---\n", ":3: author: no user named 'nobody-here'"),
        ("---\ntitle: x\n\ncategory: no-such-cat\n---\n",
         ":4: category: no category with the slug 'no-such-cat'"),
        ("---\ntitle: x\nstatus: scheduled\n---\n", ":3: date: a scheduled article needs a date"),
        ("---\ntitle: x\nstatus: scheduled\ndate: 2001-01-01T00:00:00Z\n---\n",
         ":4: date: a scheduled article needs a date in the future"),
        ("---\nslug: only-a-slug\n---\nbody\n", ":1: title: required"),
        ("---\ntitle: x\nsources:\n  - title: ok\n    url: https://example.com/\n"
         "  - title: bad\n    url: javascript:alert(1)\n---\n",
         ":6: sources: a source URL must be http(s)"),
        ("---\ntitle: x\ntags:\n  - a\n  - \"" + "タ" * 101 + "\"\n---\n",
         ":5: tags: a tag is longer than 100 characters"),
        ("---\ntitle: x\nsubtitle: y\n---\n", ":3: subtitle: unknown key"),
        ("---\ntitle: x\neyecatch: missing.png\n---\n", ":3: eyecatch: "),
        ("---\ntitle: x\n", ":1: front matter has no closing"),
        ("---\ntitle: x\n---\n\n\n\xff\xfe\n", ":6: not UTF-8"),
    ]
    n_before = s.sql("SELECT COUNT(*) FROM articles")[0][0]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (text, want) in enumerate(cases):
            p = Path(tmp) / ("bad%d.md" % i)
            p.write_bytes(text.encode("utf-8", "surrogateescape")
                          if "\xff" not in text else text.encode("latin-1"))
            r = run("post", "new", "--db", s.db, p)
            assert r.returncode == 2, "case %d: exit %d\n%s" % (i, r.returncode, r.stderr)
            assert r.stdout == "", "case %d printed %r" % (i, r.stdout)
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1, "case %d: %r" % (i, r.stderr)
            assert lines[0].startswith(str(p) + ":"), "case %d: %r" % (i, lines[0])
            assert want in lines[0], "case %d: %r lacks %r" % (i, lines[0], want)
        big = Path(tmp) / "big.md"
        big.write_bytes(b"---\ntitle: x\n---\n" + b"a" * (4 << 20))
        r = run("post", "new", "--db", s.db, big)
        assert r.returncode == 2 and "larger than" in r.stderr
        r = run("post", "new", "--db", s.db, Path(tmp) / "nope.md")
        assert r.returncode == 2 and "No such file" in r.stderr
    assert s.sql("SELECT COUNT(*) FROM articles")[0][0] == n_before


def test_post_list_and_usage():
    s = srv()
    with tempfile.TemporaryDirectory() as tmp:
        aid = post_new(s, write(tmp, "d.md", "---\ntitle: Draft list check\n---\nx\n"))
    r = run("post", "list", "--db", s.db, "--status", "draft")
    assert r.returncode == 0, r.stderr
    lines = [ln.split("\t") for ln in r.stdout.splitlines()]
    mine = [ln for ln in lines if ln[0] == str(aid)]
    assert mine == [[str(aid), "draft", "post", "-", "draft-list-check", "Draft list check"]]
    assert all(ln[1] == "draft" for ln in lines)
    r = run("post", "list", "--db", s.db)
    ids = [int(ln.split("\t")[0]) for ln in r.stdout.splitlines()]
    assert ids == sorted(ids, reverse=True) and aid in ids
    assert len(ids) == s.sql("SELECT COUNT(*) FROM articles WHERE status <> 'trash'")[0][0]
    for args in (["post", "--db", s.db], ["post", "--db", s.db, "publish", "x"],
                 ["post", "--db", s.db, "get", "abc"], ["post", "--db", s.db, "list", "--status", "x"],
                 ["post", "--db", s.db, "new"], ["post", "new", "x.md"]):
        r = run(*args)
        assert r.returncode == 2, "%s: exit %d" % (args, r.returncode)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run("post", "--help")
    assert r.returncode == 0 and "front matter" in r.stdout and "kiji post" in r.stdout
    r = run("--help")
    assert "init" in r.stdout and "post" in r.stdout


# ---- the article on the site ------------------------------------------------------------

def test_post_new_is_on_the_site_and_in_search():
    s = srv()
    with tempfile.TemporaryDirectory() as tmp:
        text = ARTICLE.replace("ｚｘｑｐｏｓｔ", "ｚｘｑｓｉｔｅ").replace(
            "2026-01-10T09:30:00+09:00", "2026-01-11T09:30:00+09:00")
        aid = post_new(s, write(tmp, "site.md", text))
    r = s.page("/articles/%d" % aid)
    assert "NATO首脳会議: 新方針で合意" in r.text
    assert "<strong>重要</strong>" in r.text and "javascript:alert" not in r.text
    assert "https://example.org/statement" in r.text
    r = s.page("/search?q=" + quote("zxqsite"))  # full-width in the body, NFKC
    assert "/articles/%d\"" % aid in r.text, r.text[:2000]
    r = s.page("/")
    assert "/articles/%d\"" % aid in r.text

    # a scheduled one is not shown, and waits as a publish job
    with tempfile.TemporaryDirectory() as tmp:
        aid2 = post_new(s, write(tmp, "later.md", "---\ntitle: Later zxqlater\n"
                                 "status: scheduled\ndate: 2099-01-01T00:00:00+09:00\n---\n"
                                 "zxqlater body\n"))
    assert s.get("/articles/%d" % aid2).status == 404
    assert "/articles/%d\"" % aid2 not in s.page("/search?q=zxqlater").text
    jobs = s.sql("SELECT kind, payload, run_at, dedup_key FROM jobs WHERE dedup_key = ?",
                 ("publish:%d" % aid2,))
    assert [tuple(j) for j in jobs] == [("publish", '{"article":%d}' % aid2, 4070876400,
                                         "publish:%d" % aid2)]


def test_post_eyecatch_file_is_stored_by_hash():
    s = srv()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "img").mkdir()
        (Path(tmp) / "img" / "eye.png").write_bytes(png_1x1())
        (Path(tmp) / "img" / "fake.jpg").write_bytes(b"<html><script>x</script></html>")
        aid = post_new(s, write(tmp, "e.md", "---\ntitle: Eyecatch\neyecatch: img/eye.png\n"
                                "status: published\n---\nbody\n"))
        eye = row(s, aid)["eyecatch"]
        assert re.fullmatch(r"/media/[0-9a-f]{32}\.png", eye), eye
        r = s.get(eye)
        assert r.status == 200 and r.content_type == "image/png"
        assert r.body.startswith(b"\x89PNG") and b"GPS" not in r.body
        r = run("post", "new", "--db", s.db, write(tmp, "f.md", "---\ntitle: Fake\n\n"
                                                   "eyecatch: img/fake.jpg\n---\n"))
        assert r.returncode == 2 and ":4: eyecatch:" in r.stderr, r.stderr


# ---- init and --db ----------------------------------------------------------------------

def test_init_creates_a_site_and_refuses_an_existing_file():
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "new.db"
        r = run("init", "--db", db, "--title", "空のサイト", "--base-url",
                "https://news.example.com")
        assert r.returncode == 0, r.stderr
        assert db.exists() and (db.stat().st_mode & 0o777) == 0o600
        r = run("config", "get", "site.title", "--db", db)
        assert r.returncode == 0 and r.stdout == "空のサイト\n"
        assert run("--db", db, "config", "get", "site.base_url").stdout == \
            "https://news.example.com\n"
        size = db.stat().st_size
        r = run("init", "--db", db)
        assert r.returncode == 2 and "already exists" in r.stderr
        assert db.stat().st_size == size
        empty = Path(tmp) / "empty.db"
        empty.write_bytes(b"")
        assert run("init", "--db", empty).returncode == 2
        r = run("init", "--db", Path(tmp) / "x.db", "--base-url", "not a url")
        assert r.returncode == 2 and not (Path(tmp) / "x.db").exists()
        # an empty site serves, takes a post and shows it
        with serving("serve", "--db", db) as port:
            r = kiji.request_port(port, "GET", "/")
            assert "空のサイト" in r.text
            p = write(tmp, "first.md", "---\ntitle: First post\nstatus: published\n---\n"
                      "Hello zxqfirst\n")
            r = run("post", "new", p, "--db", db)
            assert r.returncode == 0 and r.stdout == "1\n", r.stderr
            assert run("post", "list", "--db", db).stdout.startswith("1\tpublished\tpost\t")
            r = kiji.request_port(port, "GET", "/articles/1")
            assert r.status == 200 and "First post" in r.text
            r = kiji.request_port(port, "GET", "/search?q=zxqfirst")
            assert '/articles/1"' in r.text


def test_every_command_refuses_a_missing_db():
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "typo.db"
        for args in (["serve", "--db", db, "--listen", "127.0.0.1:1"],
                     ["config", "--db", db, "list"],
                     ["comments", "--db", db, "list"],
                     ["user", "--db", db, "list"],
                     ["post", "--db", db, "list"],
                     ["--db", db, "post", "get", "1"]):
            r = run(*args)
            assert r.returncode == 2, "%s: exit %d %s" % (args[0], r.returncode, r.stderr)
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and "no such site" in lines[0] and str(db) in lines[0], \
                "%s: %r" % (args[0], r.stderr)
            assert not db.exists(), "%s created %s" % (args[0], db)
            assert not Path(str(db) + "-wal").exists()


def test_db_may_stand_anywhere():
    s = srv()
    want = run("config", "--db", s.db, "get", "site.title").stdout
    assert want.strip()
    for args in (["--db", s.db, "config", "get", "site.title"],
                 ["config", "get", "site.title", "--db", s.db],
                 ["config", "get", "--db", s.db, "site.title"],
                 ["--db=%s" % s.db, "config", "get", "site.title"],
                 ["config", "get", "site.title", "--db=%s" % s.db]):
        r = run(*args)
        assert r.returncode == 0 and r.stdout == want, "%s: %d %r %r" % (
            args, r.returncode, r.stdout, r.stderr)
    listed = run("post", "list", "--db", s.db).stdout
    assert listed and run("--db", s.db, "post", "list").stdout == listed
    assert run("comments", "list", "--db", s.db).returncode == 0
    assert run("--db", s.db, "user", "list").returncode == 0
    # and serve, with --db before the command name
    with serving("--db", s.db, "serve") as port:
        assert kiji.request_port(port, "GET", "/").status == 200
