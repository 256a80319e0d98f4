"""Embeds in imported WordPress bodies (issue 12): `content.embeds`.

A site of its own (`kiji init`, then `kiji import-wxr` of a tiny export
whose post has a YouTube URL alone on a line, an X URL alone on a line,
an [embed] and an [audio] shortcode and a URL inside a sentence, and
whose page has a YouTube embed URL). Stored and served bodies hold plain
links: the embeds in <p class="embed">, nothing else marked, never an
iframe. With the setting off (the default) the CSP has no frame-src and
no page asks for players. Setting it to youtube on the running server
changes nothing yet (the CSP is read at start, and pages ask for players
only while the CSP lets them in); after a restart the CSP of HTML answers
has frame-src 'self' https://www.youtube-nocookie.com and the article and
page carry data-embeds="youtube", while the stored HTML is unchanged.
Setting it back to off takes the flag off at once, even from a page the
cache held. A value other than off|youtube is refused.
"""

import re

import kiji

YT = "https://www.youtube.com/watch?v=ex8fMxXJDJw"
YT_SHORT = "https://youtu.be/ex8fMxXJDJw"
YT_EMBED = "https://www.youtube.com/embed/ex8fMxXJDJw"
X = "https://x.com/kiji_test/status/1234567890"
MP3 = "https://ex.jp/a.mp3"
FRAME_SRC = "frame-src 'self' https://www.youtube-nocookie.com"

POST_BODY = ("intro paragraph\n\n" + YT + "\n\n" + X + "\n\n"
             "[embed]" + YT_SHORT + "[/embed]\n\n"
             "[audio " + MP3 + "]\n\n"
             "see https://youtu.be/ex8fMxXJDJw inline")
PAGE_BODY = "a page\n\n" + YT_EMBED + "\n"

WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>old</title><link>https://old.example</link>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>https://old.example</wp:base_site_url>
<wp:base_blog_url>https://old.example</wp:base_blog_url>
<item><title>Embeds post</title><dc:creator>taro</dc:creator>
<content:encoded><![CDATA[%s]]></content:encoded>
<wp:post_id>10</wp:post_id><wp:post_name>embeds-post</wp:post_name>
<wp:post_date>2020-01-02 12:04:05</wp:post_date>
<wp:post_date_gmt>2020-01-02 03:04:05</wp:post_date_gmt>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>
<item><title>Embeds page</title><dc:creator>taro</dc:creator>
<content:encoded><![CDATA[%s]]></content:encoded>
<wp:post_id>20</wp:post_id><wp:post_name>embeds-page</wp:post_name>
<wp:post_date>2020-01-03 12:04:05</wp:post_date>
<wp:post_date_gmt>2020-01-03 03:04:05</wp:post_date_gmt>
<wp:status>publish</wp:status><wp:post_type>page</wp:post_type></item>
</channel></rss>
""" % (POST_BODY, PAGE_BODY)

_ctx = {}


def srv():
    """The site: made by `kiji init`, the export imported, served."""
    s = _ctx.get("srv")
    if s is not None:
        return s
    s = kiji.Server("embeds")
    kiji._servers["embeds"] = s  # stopped and removed by teardown()
    s.cli("init")
    p = s.tmp / "embeds.xml"
    p.write_text(WXR, encoding="utf-8")
    s.cli("import-wxr", p)
    s.start()
    _ctx["srv"] = s
    return s


def stored(legacy_id):
    rows = srv().sql("SELECT id, body_html FROM articles WHERE legacy_id = ?",
                     (legacy_id,))
    assert len(rows) == 1, "legacy id %s: %d rows" % (legacy_id, len(rows))
    return rows[0][0], rows[0][1]


def link(url):
    """A link as the sanitiser writes it (the importer's, then rel)."""
    return '<a href="%s" rel="nofollow noopener">%s</a>' % (url, url)


def page_path():
    r = srv().get("/?page_id=20")
    assert r.status == 301, "/?page_id=20: %d" % r.status
    return r.header("Location")


def csp(r):
    v = r.header("Content-Security-Policy")
    assert v, "no Content-Security-Policy on %r" % r
    return v


def flags(html):
    return re.findall(r'<article class="entry[^"]*"[^>]*>', html)


def check_stored_unchanged():
    _, post = stored("10")
    _, pg = stored("20")
    for h in (post, pg):
        assert "<iframe" not in h and "youtube-nocookie" not in h, h
    assert post.count('class="embed"') == 3, post
    assert pg.count('class="embed"') == 1, pg


def test_embeds_stored_as_marked_links():
    _, post = stored("10")
    _, pg = stored("20")
    assert '<p class="embed">' + link(YT) + "</p>" in post, post
    assert '<p class="embed">' + link(X) + "</p>" in post, post
    assert '<p class="embed">' + link(YT_SHORT) + "</p>" in post, post
    # media and a URL inside a sentence: not embeds
    assert "<p>" + link(MP3) + "</p>" in post, post
    assert "see https://youtu.be/ex8fMxXJDJw inline" in post, post
    assert '<p class="embed">' + link(YT_EMBED) + "</p>" in pg, pg
    check_stored_unchanged()


def test_embeds_off_by_default():
    s = srv()
    assert s.config_get("content.embeds") == "off"
    aid, _ = stored("10")
    r = s.page("/articles/%d" % aid)
    assert "frame-src" not in csp(r), csp(r)
    assert '<p class="embed">' + link(YT) + "</p>" in r.text
    assert '<p class="embed">' + link(X) + "</p>" in r.text
    assert "<iframe" not in r.text and "data-embeds" not in r.text, flags(r.text)
    p = s.page(page_path())
    assert "frame-src" not in csp(p)
    assert '<p class="embed">' + link(YT_EMBED) + "</p>" in p.text
    assert "data-embeds" not in p.text, flags(p.text)


def test_embeds_bad_value_refused():
    r = srv().cli("config", "set", "content.embeds", "vimeo", check=False)
    assert r.returncode != 0 and "off|youtube" in r.stderr, (r.returncode, r.stderr)
    assert srv().config_get("content.embeds") == "off"


def test_embeds_youtube_after_restart():
    s = srv()
    aid, _ = stored("10")
    path = "/articles/%d" % aid
    s.page(path)
    s.page(path)  # now from the page cache
    s.config_set("content.embeds", "youtube")
    # the running server's CSP was made at start: no player yet
    for _ in range(2):
        r = s.page(path)
        assert "frame-src" not in csp(r) and "data-embeds" not in r.text, \
            (csp(r), flags(r.text))
    problems = s.stop()
    assert not problems, problems
    s.start()
    r = s.page(path)
    assert FRAME_SRC in csp(r), csp(r)
    assert csp(r).count("frame-src") == 1
    fl = flags(r.text)
    assert len(fl) == 1 and 'data-embeds="youtube"' in fl[0], fl
    # still links in the HTML; kiji.js makes the players
    assert '<p class="embed">' + link(YT) + "</p>" in r.text
    assert "<iframe" not in r.text
    p = s.page(page_path())
    assert FRAME_SRC in csp(p)
    fl = flags(p.text)
    assert len(fl) == 1 and 'data-embeds="youtube"' in fl[0], fl
    # every HTML answer has the one policy; listings carry no flag
    front = s.page("/")
    assert FRAME_SRC in csp(front) and "data-embeds" not in front.text
    js = s.get("/static/kiji.js")
    assert js.status == 200 and "youtube-nocookie.com/embed/" in js.text
    check_stored_unchanged()


def test_embeds_off_applies_at_once():
    s = srv()
    if s.config_get("content.embeds") != "youtube":  # run alone (-k)
        s.config_set("content.embeds", "youtube")
        assert not s.stop()
        s.start()
    aid, _ = stored("10")
    path = "/articles/%d" % aid
    for _ in range(2):  # the second from the cache
        assert 'data-embeds="youtube"' in s.page(path).text
    s.config_set("content.embeds", "off")
    r = s.page(path)
    assert "data-embeds" not in r.text, flags(r.text)
    assert "data-embeds" not in s.page(page_path()).text
    # the policy itself waits for the next start
    assert FRAME_SRC in csp(r)
    assert not s.stop()
    s.start()
    assert "frame-src" not in csp(s.page(path))
