"""Scheduled publishing by the job runner, with the test build's injected
clock (KIJI_TEST_CLOCK_FILE: an offset in seconds the server adds to the
real time, for its requests and its job runner alike).

A scheduled article is absent from /, /feed and /search while its time is
ahead; the clock file is moved past its time and then, with no HTTP
request at all, the runner publishes it (seen in the database); the very
next requests show it on /, in /feed and in /search, although / had been
cached before the publish time."""

import json
import re
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

import kiji

WAIT = 30.0  # seconds the runner gets to notice (it looks every second)
TITLE_WORD = "ハヤブサ定期便"

_ctx = {}


def srv():
    """The server of this suite; its clock file lives in its temp dir."""
    s = kiji.server("schedule", start=False, articles=12, comments=2, seed=5)
    if not s.env:
        clock = s.tmp / "clock"
        clock.write_text("0\n")
        s.env = {"KIJI_TEST_CLOCK_FILE": str(clock)}
    return s


def set_offset(seconds):
    """Moves the server's clock to real time + seconds (atomically: the
    server never reads half a file)."""
    p = Path(srv().env["KIJI_TEST_CLOCK_FILE"])
    tmp = p.with_suffix(".tmp")
    tmp.write_text("%d\n" % seconds)
    tmp.replace(p)


def publish_jobs(s, aid):
    """The publish jobs of article aid (payload {"article": aid})."""
    out = []
    for r in s.sql("SELECT * FROM jobs WHERE kind = 'publish'"):
        try:
            p = json.loads(r["payload"])
        except ValueError:
            continue
        if isinstance(p, dict) and p.get("article") == aid:
            out.append(dict(r))
    return out


def post_new(s, title, at, name):
    """A scheduled article written with `kiji post new` (the save path
    writes its publish job); returns its id."""
    md = s.tmp / name
    iso = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(at))
    md.write_text("---\ntitle: %s\nstatus: scheduled\ndate: %s\nauthor: admin\n"
                  "---\n\n%sの本文。\n" % (title, iso, title), "utf-8")
    aid = int(s.cli("post", "new", str(md)).stdout.strip())
    rows = s.sql("SELECT status, published_at FROM articles WHERE id = ?", (aid,))
    assert rows and rows[0]["status"] == "scheduled", rows and dict(rows[0])
    assert rows[0]["published_at"] == at, (rows[0]["published_at"], at)
    assert any(j["done_at"] is None and j["run_at"] == at for j in publish_jobs(s, aid)), \
        "no pending publish job for article %d: %s" % (aid, publish_jobs(s, aid))
    return aid


def scheduled_article(s):
    """(id, publish time, a word of its title) of this suite's article,
    scheduled two days ahead of the real clock."""
    if "article" not in _ctx:
        at = int(time.time()) + 2 * 86400
        aid = post_new(s, "%s、予定どおり公開" % TITLE_WORD, at, "scheduled.md")
        _ctx["article"] = (aid, at, TITLE_WORD)
    return _ctx["article"]


def linked(text, aid):
    return re.search(r"/articles/%d(?![0-9])" % aid, text) is not None


def front(s):
    """The ids listed on / and its X-Cache header (hit or miss)."""
    r = s.page("/")
    ids = kiji.ids_from_links(r.doc.select("ol.article-cards > li.card a.card-title"))
    return ids, r.header("x-cache")


def front_ids(s):
    return front(s)[0]


def search_ids(s, word):
    d = s.page("/search?q=" + quote(word, safe="")).doc
    return kiji.ids_from_links(d.select("ol.search-results > li.card a.card-title"))


@kiji.needs_hooks
def test_scheduled_article_goes_live_with_no_request():
    s = srv()
    set_offset(0)
    aid, at, word = scheduled_article(s)
    if not s.alive():
        s.start()

    # Before its time: nowhere, and / is now in the page cache.
    assert aid not in front_ids(s), "scheduled article %d on / before its time" % aid
    ids, cache = front(s)
    assert aid not in ids
    assert cache == "hit", "/ was not cached before the publish time (X-Cache %s)" % cache
    r = s.get("/feed")
    assert r.status == 200 and not linked(r.text, aid), "scheduled article in /feed"
    assert aid not in search_ids(s, word), "scheduled article found by search"
    r = s.get("/articles/%d" % aid)
    assert r.status == 404, "scheduled article page answered %d" % r.status

    # Past its time, by the server's clock only; no request from here on
    # until the runner has published it.
    set_offset(at - int(time.time()) + 5)
    deadline = time.monotonic() + WAIT
    status = None
    while time.monotonic() < deadline:
        status = s.sql("SELECT status FROM articles WHERE id = ?", (aid,))[0][0]
        if status == "published":
            break
        time.sleep(0.2)
    assert status == "published", (
        "the runner did not publish article %d within %.0f s (status %s); is "
        "KIJI_BIN a test build (SANITIZE=1, -DKIJI_TEST_HOOKS)?\n%s"
        % (aid, WAIT, status, s.read_stderr()[-2000:]))
    jobs = publish_jobs(s, aid)
    assert jobs and all(j["done_at"] is not None and j["last_error"] == ""
                        for j in jobs), jobs
    pub = s.sql("SELECT published_at FROM articles WHERE id = ?", (aid,))[0][0]
    assert pub == at, "published_at moved from %d to %d" % (at, pub)

    # The first requests after it: / (cached before) shows it at the top,
    # and so do the feed, search and the article page.
    ids, cache = front(s)
    assert ids and ids[0] == aid, "/ after the publish time: %s (want %d first, X-Cache %s)" % (
        ids, aid, cache)
    assert cache == "miss", "the cached / outlived the publish (X-Cache %s)" % cache
    r = s.get("/feed")
    assert r.status == 200 and linked(r.text, aid), "published article not in /feed"
    assert aid in search_ids(s, word), "published article not found by /search?q=%s" % word
    s.page("/articles/%d" % aid)
    s.assert_alive()


@kiji.needs_hooks
def test_publish_survives_a_restart_and_runs_once():
    """A job that came due while no server ran is run when one starts; a
    publish job run a second time (as after a crash) changes nothing."""
    s = srv()
    aid, at, word = scheduled_article(s)
    if s.sql("SELECT status FROM articles WHERE id = ?", (aid,))[0][0] != "published":
        test_scheduled_article_goes_live_with_no_request()
    s.stop()
    # while it is down: one more scheduled article, and article aid's job
    # pending again as a runner that died before recording it leaves it
    later = at + 86400
    bid = post_new(s, "ハヤブサ続報、停止中に予定", later, "later.md")
    con = kiji.connect(s.db)
    try:
        for j in publish_jobs(s, aid):
            con.execute("UPDATE jobs SET done_at = NULL, lease_until = 0 WHERE id = ?",
                        (j["id"],))
        con.commit()
    finally:
        con.close()
    attempts = {j["id"]: j["attempts"] for j in publish_jobs(s, aid)}
    before = s.sql("SELECT status, published_at, updated_at FROM articles WHERE id = ?",
                   (aid,))[0]
    set_offset(later - int(time.time()) + 5)
    s.start()
    deadline = time.monotonic() + WAIT
    pending = None
    while time.monotonic() < deadline:
        pending = s.sql("SELECT COUNT(*) FROM jobs WHERE kind = 'publish'"
                        " AND done_at IS NULL")[0][0]
        if pending == 0:
            break
        time.sleep(0.2)
    assert pending == 0, "%d publish jobs still pending\n%s" % (pending, s.read_stderr()[-2000:])
    st = s.sql("SELECT status FROM articles WHERE id = ?", (bid,))[0][0]
    assert st == "published", "article %d: %s" % (bid, st)
    after = s.sql("SELECT status, published_at, updated_at FROM articles WHERE id = ?",
                  (aid,))[0]
    assert tuple(after) == tuple(before), "publishing again changed article %d" % aid
    for j in publish_jobs(s, aid):
        assert j["attempts"] == attempts[j["id"]] + 1 and j["last_error"] == "", j
    ids = front_ids(s)
    assert ids[:2] == [bid, aid], "/ after the restart: %s (want %d, %d first)" % (ids, bid, aid)


@kiji.needs_hooks
def test_publish_drops_a_page_cached_after_its_time():
    """/ rendered and cached after an article's time but before its job ran
    (the runner lags by up to a second) is dropped when the job publishes
    it: the status change reaches the server through the change log."""
    s = srv()
    if not s.alive():
        set_offset(0)
        s.start()
    offset = int(Path(s.env["KIJI_TEST_CLOCK_FILE"]).read_text())
    at = int(time.time()) + offset + 86400
    cid = post_new(s, "ハヤブサ号外、遅れて公開", at, "late.md")
    # hold its job back, so / is cached past its time without it
    con = kiji.connect(s.db)
    try:
        jobs = publish_jobs(s, cid)
        con.execute("DELETE FROM jobs WHERE id IN (%s)" % ",".join(
            str(j["id"]) for j in jobs))
        con.commit()
        set_offset(at - int(time.time()) + 5)
        time.sleep(0.3)  # the server re-reads the clock file every 0.1 s
        ids, _ = front(s)
        assert cid not in ids, "article %d on / with no publish" % cid
        ids, cache = front(s)
        assert cid not in ids and cache == "hit", (ids, cache)
        # the job, as the save path writes it, from another process
        j = jobs[0]
        con.execute("INSERT INTO jobs(kind, payload, run_at, dedup_key) VALUES (?, ?, ?, ?)",
                    (j["kind"], j["payload"], j["run_at"], j["dedup_key"]))
        con.commit()
    finally:
        con.close()
    deadline = time.monotonic() + WAIT
    status = None
    while time.monotonic() < deadline:
        status = s.sql("SELECT status FROM articles WHERE id = ?", (cid,))[0][0]
        if status == "published":
            break
        time.sleep(0.2)
    assert status == "published", "article %d: %s\n%s" % (cid, status, s.read_stderr()[-2000:])
    ids, cache = front(s)
    assert ids and ids[0] == cid and cache == "miss", (
        "/ after the publish: %s, X-Cache %s (want %d first, a miss)" % (ids, cache, cid))
