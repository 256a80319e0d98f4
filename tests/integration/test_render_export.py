"""kiji render, the static export (issue 16, item 5): every URL of the
sitemap is a file; pages, listings and feeds are the server's bytes for
the same URL (form tokens masked, ?page=N links written as the copy's
/page/N/); a second export after one new comment rewrites only the files
that changed and the article's file shows the comment; the read-only copy
(the default) has no forms and no search; --live-origin points forms,
likes and search at a live kiji, which accepts them (http.origin_allow)
and lets the copy's scripts read its answers (CORS for that origin only);
a pruned change log means a full export; nginx with the generated snippet
serves the copy (feeds with their content types)."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlencode

import kiji

STATIC = "http://static.example"  # the copy's origin in the live tests
TOKEN = re.compile(rb'(name="token" value=")[^"]*(")')
PAGED = re.compile(rb'((?:href|content)="[^"?]*?)(/?)\?page=([0-9]+)"')
REPORT = re.compile(r"kiji render: (full|incremental) export of change \d+ to .*: "
                    r"(\d+) rendered, (\d+) written, (\d+) unchanged, (\d+) removed, "
                    r"(\d+) failed")


def srv():
    # per_page 4: the front page, categories and months have several pages
    return kiji.server("render", articles=24, comments=3, seed=61,
                       settings={"listing.per_page": "4", "comments.rate_per_minute": "0",
                                 "comments.min_fill_seconds": "0"})


def outdir(name):
    d = Path(tempfile.mkdtemp(prefix="kiji-render-%s-" % name))
    return d


def render(s, out, *args):
    """Runs kiji render; returns (mode, rendered, written, unchanged, removed)
    from its report line, and the stdout."""
    r = s.cli("render", "--out", str(out), *args, timeout=300)
    m = REPORT.search(r.stdout)
    assert m, "no report line from kiji render:\n%s\n%s" % (r.stdout, r.stderr)
    assert m.group(6) == "0", "kiji render failed on some URLs:\n%s" % r.stdout
    return (m.group(1),) + tuple(int(m.group(i)) for i in range(2, 6)), r.stdout


def base_url(s):
    return s.config_get("site.base_url").rstrip("/")


def file_of(out, url_path, page=0, feed=False):
    """Where the copy keeps url_path (decoded), as the README says."""
    p = unquote(url_path).lstrip("/")
    if feed:
        return out / p / "index.xml"
    if re.search(r"\.(xml|txt|css|js|svg|png|jpg|webp|gif)$", p):
        return out / p
    d = out / p if p else out
    if page > 1:
        d = d / "page" / str(page)
    return d / "index.html"


def snapshot(out):
    """{relative path: (inode, mtime_ns, size)} of every file."""
    snap = {}
    for root, _, files in os.walk(out):
        for f in files:
            p = Path(root) / f
            st = p.stat()
            snap[str(p.relative_to(out))] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return snap


def sitemap_locs(s, path):
    r = s.get(path)
    assert r.status == 200, "GET %s: %d" % (path, r.status)
    root = ET.fromstring(r.body)
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locs = [e.text for e in root.iter(ns + "loc")]
    if root.tag == ns + "sitemapindex":
        out = []
        for loc in locs:
            out += sitemap_locs(s, "/" + loc.split("/", 3)[3])
        return out
    return locs


def as_copy(body):
    """The server's page as the copy holds it: tokens masked, ?page=N
    links as /page/N/ (page 1 never carries ?page)."""
    body = TOKEN.sub(rb"\1-\2", body)
    return PAGED.sub(lambda m: m.group(1) + b"/page/" + m.group(3) + b'/"', body)


def one_article(s, with_comments=True):
    rows = s.sql("SELECT a.id FROM articles a WHERE a.kind = 'post' AND a.status = 'published'"
                 " AND a.published_at <= ? AND a.comments_open = 1 AND (SELECT COUNT(*)"
                 " FROM comments c WHERE c.article_id = a.id AND c.status = 'approved') %s 0"
                 " ORDER BY a.published_at DESC LIMIT 1"
                 % (">" if with_comments else ">="), (kiji.now_epoch(),))
    assert rows, "no visible article open for comments"
    return rows[0][0]


def post_comment(s, aid, body, token, headers=None):
    f = {"nickname": "静的", "body": body, "parent": "0", "token": token, "url": "",
         "opened": ""}
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or {})
    return s.request("POST", "/articles/%d/comments" % aid, urlencode(f), h)


def token_in(html):
    m = re.search(rb'name="token" value="([^"]+)"', html)
    assert m, "no form token in the page"
    return m.group(1).decode()


# ---- tests ---------------------------------------------------------------------

def test_render_every_sitemap_url_is_a_file():
    s = srv()
    out = outdir("all")
    try:
        (mode, rendered, written, _, _), _ = render(s, out)
        assert mode == "full" and written > 0, (mode, written)
        base = base_url(s)
        locs = sitemap_locs(s, "/sitemap.xml")
        assert len(locs) >= 20, "sitemap lists %d URLs" % len(locs)
        for loc in locs:
            assert loc.startswith(base + "/"), loc
            path = loc[len(base):]
            f = file_of(out, path)
            assert f.is_file(), "%s: no file %s" % (loc, f)
        # and the rest of the public site
        for path, feed in (("/", False), ("/feed", True), ("/feed/atom", True),
                           ("/robots.txt", False), ("/sitemap.xml", False),
                           ("/ranking", False), ("/static/kiji.css", False),
                           ("/static/kiji.js", False)):
            assert file_of(out, path, feed=feed).is_file(), path
        for a in s.sql("SELECT id FROM articles WHERE kind = 'post' AND status = 'published'"
                       " AND published_at <= ?", (kiji.now_epoch(),)):
            assert file_of(out, "/articles/%d/feed" % a[0], feed=True).is_file(), a[0]
        pages = list(out.glob("page/*/index.html"))
        assert pages, "no /page/N/ files of the front page"
        assert list(out.glob("category/*/page/2/index.html")), "no category page 2"
        assert list(out.glob("archive/*/*/index.html")), "no monthly archive"
        media = list(out.glob("media/*"))
        assert media, "no images exported"
        for m in media[:5]:
            r = s.get("/media/" + m.name)
            assert r.status == 200 and r.body == m.read_bytes(), m.name
        assert (out / "nginx-kiji.conf").is_file()
        # nothing of the editor area, the API or search
        for p in ("admin", "api", "search", "views"):
            assert not (out / p).exists(), p
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_render_pages_are_the_servers_bytes():
    s = srv()
    out = outdir("same")
    try:
        # a live kiji at the copy's own origin (nginx in front of both):
        # the forms stay as the server writes them
        render(s, out, "--live-origin", base_url(s))
        aid = one_article(s)
        cat = s.sql("SELECT c.slug FROM articles a JOIN categories c ON c.id = a.category_id"
                    " WHERE a.id = ?", (aid,))[0][0]
        cases = [("/articles/%d" % aid, False, 0), ("/", False, 0), ("/", False, 2),
                 ("/category/%s" % cat, False, 0), ("/category/%s" % cat, False, 2),
                 ("/feed", True, 0), ("/feed/atom", True, 0),
                 ("/articles/%d/feed" % aid, True, 0), ("/sitemap.xml", False, 0),
                 ("/robots.txt", False, 0)]
        for path, feed, page in cases:
            url = path + ("?page=%d" % page if page > 1 else "")
            r = s.get(url)
            assert r.status == 200, "GET %s: %d" % (url, r.status)
            got = file_of(out, path, page, feed).read_bytes()
            want = as_copy(r.body) if r.content_type == "text/html" else r.body
            if r.content_type == "text/html":
                got = TOKEN.sub(rb"\1-\2", got)
            assert got == want, "%s: the copy differs from the server's answer\n" \
                "server: %r\ncopy:   %r" % (url, want[:300], got[:300])
        # the listing links of the copy lead to files of the copy
        front = (out / "index.html").read_text()
        assert 'href="/page/2/"' in front and "?page=" not in front
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_render_incremental_after_one_comment():
    s = srv()
    out = outdir("incr")
    try:
        render(s, out)
        (mode, _, _, _, _), _ = render(s, out)
        assert mode == "incremental", mode
        before = snapshot(out)
        time.sleep(0.02)  # a new mtime is visible
        aid = one_article(s)
        word = "静的書き出し%d" % time.time_ns()
        tok = token_in(s.get("/articles/%d" % aid).body)
        r = post_comment(s, aid, word, tok)
        assert r.status == 303, "comment post: %d %s" % (r.status, r.text[:300])
        (mode, rendered, written, unchanged, removed), stdout = render(s, out, "--verbose")
        assert mode == "incremental", stdout
        after = snapshot(out)
        changed = {p for p in after if p in before and after[p][:2] != before[p][:2]}
        added = set(after) - set(before)
        assert not added and removed == 0, (added, removed)
        art = "articles/%d/index.html" % aid
        assert art in changed, "the article's file was not rewritten"
        assert "articles/%d/feed/index.xml" % aid in changed
        assert word in (out / art).read_text(), "the new comment is not in the article file"
        # the tool's own report names exactly the files that changed
        said = set(re.findall(r"^wrote (.+)$", stdout, re.M)) - {".kiji-export"}
        assert said == changed - {".kiji-export"}, (said ^ changed)
        assert written == len(said), (written, said)
        # only the article, its feed and listings showing its count
        for p in changed:
            if p.startswith("articles/"):
                assert p.startswith("articles/%d/" % aid), "another article rewritten: %s" % p
        n_articles = len([p for p in before if re.fullmatch(r"articles/\d+/index.html", p)])
        assert rendered < len(before) / 2 and n_articles > 10, (rendered, len(before))
        # nothing changed: nothing written but the state
        (mode, _, written, _, _), _ = render(s, out)
        assert mode == "incremental" and written == 0, (mode, written)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_render_incremental_after_one_like_rewrites_the_article_alone():
    s = srv()
    out = outdir("like")
    try:
        render(s, out)
        aid = one_article(s)
        cid = s.sql("SELECT id FROM comments WHERE article_id = ? AND status = 'approved'"
                    " AND type = 'comment' ORDER BY id DESC LIMIT 1", (aid,))[0][0]
        r = s.request("POST", "/comments/%d/like" % cid, b"",
                      {"Accept": "application/json", "X-Forwarded-For": kiji.next_ip()})
        assert r.status == 200, "like: %d %s" % (r.status, r.text[:200])
        count = s.sql("SELECT like_count FROM comments WHERE id = ?", (cid,))[0][0]
        (mode, _, written, _, _), stdout = render(s, out, "--verbose")
        assert mode == "incremental", stdout
        said = set(re.findall(r"^wrote (.+)$", stdout, re.M))
        assert said == {"articles/%d/index.html" % aid}, said
        html = (out / ("articles/%d/index.html" % aid)).read_text()
        li = html[html.index('id="comment-%d"' % cid):]
        m = re.search(r'class="like-count">(\d+)<', li)
        assert m and int(m.group(1)) == count, (m and m.group(1), count)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_render_read_only_copy_has_no_forms_or_search():
    s = srv()
    out = outdir("ro")
    try:
        render(s, out)
        aid = one_article(s)
        html = (out / ("articles/%d/index.html" % aid)).read_text()
        for bad in ('id="comment-form"', 'class="like-form"', 'class="search-form"',
                    'class="reply-link"', 'name="token"', "/views/", "data-live="):
            assert bad not in html, "read-only copy still has %s" % bad
        assert 'data-kiji-static="readonly"' in html
        assert 'class="comment-list"' in html and 'class="like-count' in html
        body = s.sql("SELECT body FROM comments WHERE article_id = ? AND status = 'approved'"
                     " AND type = 'comment' ORDER BY id LIMIT 1", (aid,))[0][0]
        first = body.strip().splitlines()[0][:10]
        assert first in html, "comments are not shown on the read-only copy"
        assert 'class="search-form"' not in (out / "index.html").read_text()
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_render_live_origin_posts_to_the_live_kiji():
    s = srv()
    out = outdir("live")
    live = s.origin
    try:
        render(s, out, "--base-url", STATIC, "--live-origin", live)
        aid = one_article(s)
        html = (out / ("articles/%d/index.html" % aid)).read_bytes()
        assert ('action="%s/articles/%d/comments"' % (live, aid)).encode() in html
        assert ('action="%s/search"' % live).encode() in html
        assert re.search(rb'class="like-form" method="post" action="' + live.encode() +
                         rb'/comments/\d+/like"', html)
        assert ('data-kiji-live="%s"' % live).encode() in html
        assert ('<link rel="canonical" href="%s/articles/%d">' % (STATIC, aid)).encode() in html
        tok = token_in(html)
        word = "live%d" % time.time_ns()
        # not yet allowed: the live kiji refuses the copy's origin
        r = post_comment(s, aid, word, tok, {"Origin": STATIC})
        assert r.status == 403, "cross-origin post without origin_allow: %d" % r.status
        s.config_set("http.origin_allow", STATIC)
        try:
            r = post_comment(s, aid, word, tok, {"Origin": STATIC})
            assert r.status == 303, "post from the copy: %d %s" % (r.status, r.text[:300])
            assert word in s.page("/articles/%d" % aid).text
            # likes from the copy's script: JSON it may read (CORS for it alone)
            cid = s.sql("SELECT id FROM comments WHERE article_id = ? AND status = 'approved'"
                        " ORDER BY id LIMIT 1", (aid,))[0][0]
            r = s.request("POST", "/comments/%d/like" % cid, b"",
                          {"Origin": STATIC, "Accept": "application/json"})
            assert r.status == 200, "like from the copy: %d %s" % (r.status, r.text[:200])
            assert r.header("access-control-allow-origin") == STATIC
            r = s.request("GET", "/api/articles/%d/comments" % aid, None, {"Origin": STATIC})
            assert r.header("access-control-allow-origin") == STATIC
            r = s.request("GET", "/api/articles/%d/comments" % aid, None,
                          {"Origin": "http://evil.example"})
            assert r.header("access-control-allow-origin") is None
            r = s.request("POST", "/comments/%d/like" % cid, b"",
                          {"Origin": "http://evil.example", "Accept": "application/json"})
            assert r.status == 403 and r.header("access-control-allow-origin") is None
        finally:
            s.config_set("http.origin_allow", "")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_render_pruned_change_log_means_a_full_export():
    s = srv()
    out = outdir("pruned")
    try:
        render(s, out)
        aid = one_article(s)
        tok = token_in(s.get("/articles/%d" % aid).body)
        assert post_comment(s, aid, "prune%d" % time.time_ns(), tok).status == 303
        # what the server does once it has read them (site_sync)
        import sqlite3
        con = kiji.connect(s.db)
        try:
            con.execute("DELETE FROM change_log")
            con.commit()
        finally:
            con.close()
        (mode, _, _, _, _), _ = render(s, out)
        assert mode == "full", mode
        (mode, _, _, _, _), _ = render(s, out)
        assert mode == "incremental", mode
        (mode, _, written, _, _), _ = render(s, out, "--full")
        assert mode == "full" and written == 0, (mode, written)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_render_refuses_bad_arguments():
    s = srv()
    r = s.cli("render", check=False)
    assert r.returncode == 2 and "--out" in r.stderr, r.stderr
    for flag in ("--base-url", "--live-origin"):
        r = s.cli("render", "--out", "/tmp/x", flag, "javascript:alert(1)", check=False)
        assert r.returncode == 2, (flag, r.returncode, r.stderr)
    r = s.cli("render", "--help", db=False)
    assert "--live-origin" in r.stdout and "read-only" in r.stdout


def test_render_nginx_serves_the_copy():
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    if nginx is None:
        print("  skip: no nginx")
        return
    s = srv()
    out = outdir("nginx")
    np = Path(tempfile.mkdtemp(prefix="kiji-render-nginx-"))
    proc = None
    try:
        os.chmod(out, 0o755)
        render(s, out)
        port = kiji.free_port()
        (np / "tmp").mkdir()
        (np / "nginx.conf").write_text(
            "worker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
            "events { worker_connections 64; }\nhttp {\n"
            "include /etc/nginx/mime.types;\naccess_log off;\n"
            "client_body_temp_path %s/tmp;\nproxy_temp_path %s/tmp;\n"
            "fastcgi_temp_path %s/tmp;\nuwsgi_temp_path %s/tmp;\nscgi_temp_path %s/tmp;\n"
            "server {\nlisten 127.0.0.1:%d;\ninclude %s/nginx-kiji.conf;\n}\n}\n"
            % ((np,) * 7 + (port, out)))
        proc = subprocess.Popen([nginx, "-c", str(np / "nginx.conf"), "-p", str(np),
                                 "-e", str(np / "error.log"), "-g", "daemon off;"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                r = kiji.request_port(port, "GET", "/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, \
                    "nginx did not start: %s" % (np / "error.log").read_text()
                time.sleep(0.1)
        assert r.status == 200 and r.body == (out / "index.html").read_bytes()
        aid = one_article(s)
        for path, ctype, f in (
                ("/feed", "application/rss+xml", "feed/index.xml"),
                ("/feed/atom", "application/atom+xml", "feed/atom/index.xml"),
                ("/articles/%d/feed" % aid, "application/rss+xml",
                 "articles/%d/feed/index.xml" % aid),
                ("/articles/%d" % aid, "text/html", "articles/%d/index.html" % aid),
                ("/page/2/", "text/html", "page/2/index.html"),
                ("/sitemap.xml", "application/xml", "sitemap.xml")):
            r = kiji.request_port(port, "GET", path)
            assert r.status == 200, "nginx GET %s: %d" % (path, r.status)
            assert r.content_type == ctype, (path, r.header("content-type"))
            assert r.body == (out / f).read_bytes(), path
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(np, ignore_errors=True)
