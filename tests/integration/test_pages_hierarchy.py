"""Pages and their hierarchy (issue 12, item 2): a page (kind page) lives
at /pages/<slug>[/<slug>…] with its own template: title, body, the
breadcrumbs of its ancestors and the list of its subpages, none of a
news article's blocks (neighbours, related, popular ranking), comments
only when it takes them. /articles/<id> of a page answers 301 to it;
links to it (sitemap, the editor's view link) use that URL; pages stay out
of listings and feeds. The parent comes from `kiji post` front matter
(`parent:` a page path or id) or the editor's parent select, which never
offers the page itself or a page below it. WordPress's nested page
permalinks of the theme unit test export answer 301 to the right page.
"""

import html
import re
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import kiji
from admin_client import Editor, form_error, user

FIXTURE = kiji.ROOT.parent / "shared/fixtures/wxr/themeunittestdata.wordpress.xml"
WP = "{https://wordpress.org/export/1.2/}"

PAGE = """---
title: "{title}"
kind: page
slug: "{slug}"
status: {status}
date: 2025-01-10T09:00:00+09:00
comments: {comments}
{extra}---

{body}
"""

_ctx = {}


def srv():
    return kiji.server("pages-tree", articles=6, comments=1, seed=5,
                       settings={"http.trusted_proxies": "127.0.0.1",
                                 "comments.moderation": "none"})


def post_file(s, text, *args):
    """`kiji post new` (or args, e.g. ("edit", id)) of a file with text:
    the CompletedProcess (unchecked)."""
    with tempfile.TemporaryDirectory(prefix="kiji-pages-") as d:
        p = Path(d) / "page.md"
        p.write_text(text, "utf-8")
        return s.cli("post", *(args or ("new",)), p, check=False)


def new_page(s, title, slug, parent=None, status="published", comments="false",
             body="本文です。"):
    extra = "parent: \"%s\"\n" % parent if parent is not None else ""
    r = post_file(s, PAGE.format(title=title, slug=slug, status=status,
                                 comments=comments, extra=extra, body=body))
    assert r.returncode == 0, "post new %s: exit %d\n%s" % (slug, r.returncode, r.stderr)
    return int(r.stdout)


def tree():
    """about / company / team, and a draft under about (made once)."""
    if not _ctx:
        s = srv()
        _ctx["about"] = new_page(s, "私たちについて", "about")
        _ctx["company"] = new_page(s, "会社概要", "company", parent="about")
        _ctx["team"] = new_page(s, "チーム紹介", "team", parent="/pages/about/company",
                                comments="true", body="チームの**紹介**です。")
        _ctx["draft"] = new_page(s, "準備中", "draft-child", parent=str(_ctx["about"]),
                                 status="draft")
    return _ctx


def links(doc, sel):
    return [(a.get("href"), a.text_norm()) for a in doc.select(sel)]


def moved(s, path, want):
    r = s.request("GET", path)
    assert r.status == 301, "%s: %d, want 301" % (path, r.status)
    assert r.header("Location") == want, "%s: Location %r, want %r" % (
        path, r.header("Location"), want)
    return r


# ---- the page ------------------------------------------------------------------------

def test_nested_page_title_breadcrumbs_subpages():
    t = tree()
    s = srv()
    r = s.page("/pages/about/company")
    doc = r.doc
    assert doc.select_one("h1.entry-title").text_norm() == "会社概要"
    assert "本文です。" in r.text
    assert links(doc, "nav.breadcrumbs a") == [("/pages/about", "私たちについて")]
    assert links(doc, "#subpages a") == [("/pages/about/company/team", "チーム紹介")]
    # no news-article blocks, no ranking beside it; comments closed and none
    for sel in ("nav.prev-next", "#related", "aside#ranking", "#comments",
                "form#comment-form", "ul.entry-tags"):
        assert doc.select_one(sel) is None, "%s on a page" % sel
    canon = doc.select_one("link[rel=canonical]")
    assert canon is not None and canon.get("href").endswith("/pages/about/company")
    assert 'property="og:type" content="website"' in r.text
    # the top page: no breadcrumbs; its visible subpages only (no draft)
    doc = s.page("/pages/about").doc
    assert doc.select_one("nav.breadcrumbs") is None
    assert links(doc, "#subpages a") == [("/pages/about/company", "会社概要")]
    # the deepest: both ancestors, no subpages, comments open
    doc = s.page("/pages/about/company/team").doc
    assert links(doc, "nav.breadcrumbs a") == [("/pages/about", "私たちについて"),
                                              ("/pages/about/company", "会社概要")]
    assert doc.select_one("#subpages") is None
    f = doc.select_one("form#comment-form")
    assert f is not None and f.get("action") == "/articles/%d/comments" % t["team"]
    assert doc.select_one("div.entry-body strong").text() == "紹介"


def test_page_paths_that_are_not_pages():
    tree()
    s = srv()
    for p in ("/pages/company", "/pages/about/nope", "/pages/about/draft-child",
              "/pages/about/company/team/x", "/pages/team", "/pages/",
              "/pages/about//company", "/pages/about/company/team/a/b/c/d/e/f"):
        r = s.get(p)
        assert r.status == 404, "%s: %d, want 404" % (p, r.status)
    moved(s, "/pages/about/company/", "/pages/about/company")
    s.assert_alive()


def test_articles_url_of_a_page_redirects():
    t = tree()
    s = srv()
    moved(s, "/articles/%d" % t["company"], "/pages/about/company")
    moved(s, "/articles/%d?replytocom=1" % t["team"],
          "/pages/about/company/team?replytocom=1")
    assert s.get("/articles/%d" % t["draft"]).status == 404
    post = s.sql("SELECT id FROM articles WHERE kind = 'post' AND status = 'published'"
                 " ORDER BY id LIMIT 1")[0][0]
    s.page("/articles/%d" % post)


def test_cached_and_invalidated():
    t = tree()
    s = srv()
    s.page("/pages/about/company")
    r = s.page("/pages/about/company")
    assert r.header("X-Cache") == "hit", r.header("X-Cache")
    # a subpage's new title shows on its parent at once
    r = post_file(s, PAGE.format(title="チームと役割", slug="team", status="published",
                                 comments="true", extra="parent: about/company\n",
                                 body="x"), "edit", t["team"])
    assert r.returncode == 0, r.stderr
    doc = s.page("/pages/about/company").doc
    assert links(doc, "#subpages a") == [("/pages/about/company/team", "チームと役割")]


def test_comment_on_a_page():
    t = tree()
    s = srv()
    v = kiji.Visitor(s)
    doc = v.page("/pages/about/company/team").doc
    tok = doc.select_one("form#comment-form input[name=token]").get("value")
    r = v.post("/articles/%d/comments" % t["team"],
               {"nickname": "読者", "body": "ページへのコメント", "parent": "0",
                "token": tok, "url": "", "opened": ""})
    assert r.status == 303, (r.status, r.text[:500])
    assert re.fullmatch(r"/articles/%d#comment-\d+" % t["team"], r.header("Location"))
    doc = s.page("/pages/about/company/team").doc
    assert "ページへのコメント" in doc.select_one("ol.comment-list").text()


def test_sitemap_lists_pages_feeds_and_listings_do_not():
    tree()
    s = srv()
    sm = s.get("/sitemap.xml")
    assert sm.status == 200
    locs = re.findall(r"<loc>([^<]+)</loc>", sm.text)
    paths = [urlsplit(u).path for u in locs]
    for p in ("/pages/about", "/pages/about/company", "/pages/about/company/team"):
        assert p in paths, "%s not in the sitemap" % p
    assert "/pages/about/draft-child" not in paths
    assert len(paths) == len(set(paths))
    for path in ("/feed", "/feed/atom", "/"):
        body = s.get(path).text
        assert "会社概要" not in body and "/pages/" not in body, path


# ---- front matter and the editor -------------------------------------------------------

def test_front_matter_parent_refusals():
    t = tree()
    s = srv()
    r = post_file(s, PAGE.format(title="X", slug="x", status="published", comments="false",
                                 extra="parent: about/nope\n", body="x"))
    assert r.returncode == 2 and "parent" in r.stderr, (r.returncode, r.stderr)
    # a loop: about under its own grandchild
    r = post_file(s, PAGE.format(title="私たちについて", slug="about", status="published",
                                 comments="false", extra="parent: about/company/team\n",
                                 body="x"), "edit", t["about"])
    assert r.returncode == 2 and "parent" in r.stderr, (r.returncode, r.stderr)
    s.page("/pages/about")


def test_editor_parent_select_and_view_link():
    t = tree()
    s = srv()
    name, pw = user(s, "editor", "pages")
    ed = Editor(s)
    ed.login(name, pw)
    r = ed.page("/admin/articles/%d" % t["company"])
    opts = {o.get("value"): o for o in r.doc.select("select[name=parent] option")}
    assert str(t["about"]) in opts and "selected" in opts[str(t["about"])].attrs
    assert str(t["company"]) not in opts, "a page cannot be its own parent"
    assert str(t["team"]) not in opts, "nor sit under its own subpage"
    assert str(t["draft"]) in opts
    view = [a.get("href") for a in r.doc.select("p.article-links a")]
    assert "/pages/about/company" in view, view
    # the list's view link too
    r = ed.page("/admin/articles?kind=page")
    assert 'href="/pages/about/company/team"' in r.text
    # a new page under team, through the form
    fields = {"csrf": ed.csrf or ed.token(), "title": "採用情報", "slug": "jobs",
              "kind": "page", "parent": str(t["team"]), "menu_order": "3",
              "body": "募集中", "format": "markdown", "status": "published",
              "src_title": "", "src_url": "", "src_order": "1"}
    r = ed.post("/admin/articles/new", fields)
    assert r.status == 303, (r.status, form_error(r))
    jobs = int(r.header("Location").rsplit("/", 1)[1])
    row = s.sql("SELECT parent_id, menu_order FROM articles WHERE id = ?", (jobs,))[0]
    assert row[0] == t["team"] and row[1] == 3
    s.page("/pages/about/company/team/jobs")
    # moving about under jobs would make a loop: refused, with why
    fields.update({"title": "私たちについて", "slug": "about", "parent": str(jobs),
                   "id": str(t["about"])})
    r = ed.post("/admin/articles/%d" % t["about"], fields)
    assert r.status == 422, r.status
    assert "親ページ" in (form_error(r) or ""), form_error(r)
    assert s.sql("SELECT parent_id FROM articles WHERE id = ?", (t["about"],))[0][0] is None


# ---- WordPress's nested page permalinks -------------------------------------------------

def _fixture_pages():
    """{WordPress id: (title, slug, parent id, link path)} of the published pages."""
    out = {}
    for item in ET.parse(str(FIXTURE)).getroot().iter("item"):
        if item.findtext(WP + "post_type") != "page" or \
                item.findtext(WP + "status") != "publish":
            continue
        out[item.findtext(WP + "post_id")] = (
            (item.findtext("title") or "").strip(),
            unquote(item.findtext(WP + "post_name") or ""),
            item.findtext(WP + "post_parent") or "0",
            urlsplit(item.findtext("link") or "").path)
    return out


def _want(pages, wp_id):
    """The decoded /pages/ path a WordPress page should live at."""
    chain = []
    while wp_id in pages and len(chain) < 10:
        chain.insert(0, pages[wp_id][1])
        wp_id = pages[wp_id][2]
    return "/pages/" + "/".join(chain)


def test_wxr_fixture_nested_pages():
    pages = _fixture_pages()
    assert "Level 3" in [p[0] for p in pages.values()]
    with tempfile.TemporaryDirectory(prefix="kiji-wxr-pages-") as d:
        db = Path(d) / "site.db"

        def cli(*args):
            r = subprocess.run([str(kiji.kiji_bin())] + [str(a) for a in args],
                               cwd=kiji.ROOT, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=300)
            err = r.stderr.decode("utf-8", "replace")
            assert not kiji.sanitizer_lines(err), err[-4000:]
            assert r.returncode == 0, (args, r.returncode, err[-2000:])
            return r

        cli("init", "--db", db)
        cli("import-wxr", "--db", db, FIXTURE)
        import sqlite3
        con = sqlite3.connect(str(db))
        revs = con.execute("SELECT COUNT(*) FROM revisions").fetchone()[0]
        parents = con.execute("SELECT a.legacy_id, p.legacy_id FROM articles a"
                              " LEFT JOIN articles p ON p.id = a.parent_id"
                              " WHERE a.kind = 'page'").fetchall()
        con.close()
        got = {k: v or "0" for k, v in parents}
        for wp_id, (_, _, parent, _) in pages.items():
            assert got.get(wp_id) == parent, (wp_id, got.get(wp_id), parent)
        # a second import of the same file changes nothing
        cli("import-wxr", "--db", db, FIXTURE)
        con = sqlite3.connect(str(db))
        assert con.execute("SELECT COUNT(*) FROM revisions").fetchone()[0] == revs
        con.close()

        port = kiji.free_port()
        err = open(Path(d) / "serve.stderr", "wb")
        p = subprocess.Popen([str(kiji.kiji_bin()), "serve", "--db", str(db), "--listen",
                              "127.0.0.1:%d" % port], cwd=kiji.ROOT,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    kiji.request_port(port, "GET", "/robots.txt")
                    break
                except OSError:
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.1)
            checked = nested = 0
            for wp_id, (title, slug, parent, link) in pages.items():
                want = _want(pages, wp_id)
                olds = ["/?page_id=%s" % wp_id]
                if link not in ("", "/") and "//" not in link:
                    olds.append(quote(unquote(link)))
                for old in olds:
                    r = kiji.request_port(port, "GET", old)
                    assert r.status == 301, "%s (%s): %d" % (old, title, r.status)
                    loc = r.header("Location")
                    assert unquote(loc) == want, (old, loc, want)
                    r = kiji.request_port(port, "GET", loc)
                    assert r.status == 200, (loc, r.status)
                    assert title in html.unescape(r.text), (loc, title)
                    checked += 1
                nested += parent != "0"
            assert checked >= 2 * len(pages) - 2 and nested >= 10, (checked, nested)
            r = kiji.request_port(port, "GET", "/level-1/level-2/level-3/")
            assert r.header("Location") == "/pages/level-1/level-2/level-3"
            r = kiji.request_port(port, "GET", "/pages/level-1/level-2")
            assert 'href="/pages/level-1/level-2/level-3"' in r.text
            assert 'href="/pages/level-1"' in r.text
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log = (Path(d) / "serve.stderr").read_text("utf-8", "replace")
            assert not kiji.sanitizer_lines(log), log[-4000:]
