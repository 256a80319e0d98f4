"""WordPress's theme unit test export, imported with `kiji import-wxr`
into a site made by `kiji init` and served: the old permalinks of its
posts (their <link>, /?p=ID and /archives/ID) answer 301 to kiji pages
that show the right titles."""

import html
import http.client
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import kiji

FIXTURE = kiji.ROOT.parent / "shared/fixtures/wxr/themeunittestdata.wordpress.xml"
WP = "{https://wordpress.org/export/1.2/}"


def _cli(*args):
    r = subprocess.run([str(kiji.kiji_bin())] + [str(a) for a in args], cwd=kiji.ROOT,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    err = r.stderr.decode("utf-8", "replace")
    assert not kiji.sanitizer_lines(err), err[-4000:]
    assert r.returncode == 0, (args, r.returncode, err[-2000:])


def _published_posts():
    """(title, link path, WordPress id) of every published post."""
    out = []
    for item in ET.parse(str(FIXTURE)).getroot().iter("item"):
        if item.findtext(WP + "post_type") != "post" or \
                item.findtext(WP + "status") != "publish":
            continue
        title = (item.findtext("title") or "").strip()
        link = urlsplit(item.findtext("link") or "")
        if title and link.path not in ("", "/") and not link.query:
            out.append((title, link.path, item.findtext(WP + "post_id")))
    return out


def _get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.getheader("Location"), r.read().decode("utf-8", "replace")
    finally:
        c.close()


def test_fixture_permalinks_answer_301_to_the_right_article():
    posts = _published_posts()
    assert len(posts) >= 20, "fixture has %d published posts with a permalink" % len(posts)
    with tempfile.TemporaryDirectory(prefix="kiji-wxr-links-") as d:
        db = Path(d) / "site.db"
        _cli("init", "--db", db)
        _cli("import-wxr", "--db", db, FIXTURE)
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
                    _get(port, "/robots.txt")
                    break
                except OSError:
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.1)
            checked = 0
            for title, path, wp_id in posts[:20]:
                for old in (path, "/?p=%s" % wp_id, "/archives/%s" % wp_id):
                    st, loc, _ = _get(port, old)
                    assert st == 301, "%s (%s): %d, want 301" % (old, title, st)
                    assert loc and loc.startswith("/articles/"), (old, loc)
                    st, _, body = _get(port, loc)
                    assert st == 200, "%s -> %s: %d" % (old, loc, st)
                    shown = html.unescape(body)
                    assert title in shown, "%s -> %s does not show %r" % (old, loc, title)
                    checked += 1
            assert checked == 60, checked
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log = (Path(d) / "serve.stderr").read_text("utf-8", "replace")
            assert not kiji.sanitizer_lines(log), log[-4000:]
