"""Likes (issue 3, item 4): POST /comments/<cid>/like and /unlike are
idempotent per visitor, the visitor is the signed kiji_v cookie (not the
address) that the article page's view beacon hands out, a request without
one is its address's visitor (issue 13), and counts stay exact when many
visitors like and unlike at once.

Own server "likes": shipped defaults except http.trusted_proxies=127.0.0.1,
so each visitor can have its own address (X-Forwarded-For) and the per-IP
like limit (burst 60) stays on without limiting the test."""

import json
import threading

import kiji
import test_comments as tc
from kiji import Visitor, next_ip

JSON = {"Accept": "application/json"}


def srv():
    return kiji.server("likes", articles=6, comments=3, seed=11,
                       settings={"http.trusted_proxies": "127.0.0.1"})


def fresh_comment(text="いいねの的"):
    s = srv()
    ids = tc.open_articles(s)
    assert ids, "likes demo has no article open for comments"
    aid = ids[0]
    cid = tc.new_comment(Visitor(s, ip=next_ip()), aid, "%s %s" % (text, tc.mark()))
    return aid, cid


BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def reader(aid, ip=None):
    """A reader who has opened /articles/<aid>: the page's script sent the
    view beacon, which handed out the kiji_v cookie."""
    v = Visitor(srv(), ip=ip or next_ip())
    r = v.request("POST", "/views/%d" % aid, body=b"", headers={"User-Agent": BROWSER})
    assert r.status == 204, "view beacon: %d" % r.status
    assert "kiji_v" in v.cookies, "the view beacon handed out no kiji_v cookie"
    return v


def address_vid(ip):
    """The visitor id the server gives requests without a cookie from ip."""
    aid, cid = fresh_comment("住所の的")
    like(Visitor(srv(), ip=ip), cid)
    rows = srv().sql("SELECT visitor_id FROM likes WHERE comment_id = ?", (cid,))
    assert len(rows) == 1, "one cookieless like made %d rows" % len(rows)
    return rows[0][0]


def like(v, cid, verb="like", as_json=True):
    """One like/unlike; returns the JSON answer (as_json) or None (303)."""
    r = v.post("/comments/%d/%s" % (cid, verb), body=b"", headers=JSON if as_json else None)
    if as_json:
        assert r.status == 200, "%s %d: %d %s" % (verb, cid, r.status, r.text[:200])
        j = json.loads(r.text)
        assert set(j) == {"id", "count", "liked"} and j["id"] == cid, "answer %r" % j
        assert j["liked"] is (verb == "like"), "%s answered liked=%r" % (verb, j["liked"])
        return j
    assert r.status == 303, "%s %d (form): %d" % (verb, cid, r.status)
    return None


def db_state(cid):
    s = srv()
    count = s.sql("SELECT like_count FROM comments WHERE id = ?", (cid,))[0][0]
    rows = s.sql("SELECT visitor_id FROM likes WHERE comment_id = ?", (cid,))
    vids = [r[0] for r in rows]
    assert len(vids) == len(set(vids)), "a visitor has two like rows on %d" % cid
    return count, set(vids)


def page_count(aid, cid, v=None):
    v = v or Visitor(srv(), ip=next_ip())
    li = tc.li_of(v.page("/articles/%d" % aid).doc, cid)
    assert li is not None, "comment %d not on /articles/%d" % (cid, aid)
    c = tc.own(li, "span.like-count")
    assert len(c) == 1, "comment %d: %d span.like-count" % (cid, len(c))
    form = tc.own(li, "form.like-form")[0]
    return int(c[0].text().strip()), form.get("action")


def vid(v):
    return v.cookies["kiji_v"].split(".")[0]


# ---- idempotency ----------------------------------------------------------------------

def test_like_twice_counts_once():
    aid, cid = fresh_comment()
    v = reader(aid)
    assert like(v, cid)["count"] == 1
    assert like(v, cid)["count"] == 1, "a second like counted"
    like(v, cid, as_json=False)  # the form, too
    assert db_state(cid) == (1, {vid(v)}), "DB after liking three times: %r" % (db_state(cid),)
    n, action = page_count(aid, cid, v)
    assert (n, action) == (1, "/comments/%d/unlike" % cid), "page: %r" % ((n, action),)


def test_unlike_twice_and_unlike_without_like():
    aid, cid = fresh_comment()
    v = reader(aid)
    like(v, cid)
    assert like(v, cid, "unlike")["count"] == 0
    assert like(v, cid, "unlike")["count"] == 0, "a second unlike went below zero or changed it"
    other = reader(aid)
    like(reader(aid), cid)
    assert like(other, cid, "unlike")["count"] == 1, "unlike by a visitor who never liked"
    assert db_state(cid)[0] == 1
    assert page_count(aid, cid)[0] == 1


def test_the_visitor_is_the_cookie_not_the_address():
    aid, cid = fresh_comment()
    a = reader(aid)
    like(a, cid)
    for _ in range(3):  # the same reader from other addresses (phone, wifi, ...)
        a.ip = next_ip()
        assert like(a, cid)["count"] == 1, "the same cookie from another address counted again"
    shared = next_ip()  # readers behind one carrier NAT, each having opened the page
    others = [reader(aid, ip=shared) for _ in range(3)]
    for i, o in enumerate(others):
        assert like(o, cid)["count"] == 2 + i, "readers sharing an address are counted as one"
    assert db_state(cid) == (4, {vid(a)} | {vid(o) for o in others})


def test_requests_without_cookie_are_their_address():
    """A like mints no visitor: without a cookie the address is the
    visitor, so cookie-less likes count once per address however many
    are sent, and a cookie-less unlike only undoes the address's own."""
    aid, cid = fresh_comment()
    s = srv()
    for i in range(2):  # two addresses: two visitors
        v = Visitor(s, ip=next_ip())
        r = v.post("/comments/%d/like" % cid, body=b"", headers=JSON)
        assert r.status == 200 and json.loads(r.text)["count"] == 1 + i, "%d %s" % (r.status, r.text)
        assert "kiji_v" not in v.cookies, "a like handed out a visitor cookie"
    ip = next_ip()
    for _ in range(30):
        r = Visitor(s, ip=ip).post("/comments/%d/like" % cid, body=b"", headers=JSON)
        assert r.status == 200, "cookie-less like: %d" % r.status
    assert db_state(cid)[0] == 3, "30 cookie-less likes from one address: %r" % (db_state(cid),)
    assert like(Visitor(s, ip=next_ip()), cid, "unlike")["count"] == 3, \
        "a cookie-less unlike from another address removed someone's like"
    assert like(Visitor(s, ip=ip), cid, "unlike")["count"] == 2, "the address's unlike did nothing"


def test_forged_cookie_is_not_a_visitor():
    aid, cid = fresh_comment()
    s = srv()
    forged = "ab" * 16 + "." + "cd" * 16
    ip = next_ip()
    v = Visitor(s, ip=ip)
    v.cookies["kiji_v"] = forged
    assert like(v, cid)["count"] == 1
    count, vids = db_state(cid)
    assert "ab" * 16 not in vids, "a like was stored under the forged visitor id"
    # the forged cookie was worth exactly what no cookie is: the address
    assert like(Visitor(s, ip=ip), cid)["count"] == 1, "the forged cookie made a second visitor"
    assert vids == {address_vid(ip)}, "the forged cookie's like is not the address's"


# ---- concurrency ------------------------------------------------------------------------

def _run_threads(fns, timeout=60):
    errors = []
    barrier = threading.Barrier(len(fns))

    def wrap(fn):
        def run():
            try:
                barrier.wait(timeout=timeout)
                fn()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
        return run
    ts = [threading.Thread(target=wrap(f), daemon=True) for f in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
    assert not any(t.is_alive() for t in ts), "threads still running after %d s" % timeout
    assert not errors, "%d thread errors, first: %s" % (len(errors), errors[0])


def test_one_visitor_liking_concurrently_counts_once():
    aid, cid = fresh_comment()
    s = srv()
    v = reader(aid)  # v now has its cookie
    cookie = dict(v.cookies)

    def one(verb):
        def f():
            w = Visitor(s, ip=next_ip())
            w.cookies = dict(cookie)
            like(w, cid, verb)
        return f
    _run_threads([one("like") for _ in range(12)])
    assert db_state(cid) == (1, {vid(v)}), "12 concurrent likes by one visitor: %r" % (db_state(cid),)
    _run_threads([one("unlike") for _ in range(12)])
    assert db_state(cid) == (0, set()), "12 concurrent unlikes by one visitor: %r" % (db_state(cid),)


def test_20_visitors_like_and_unlike_concurrently_end_exact():
    """20 visitors (20 cookies), each on its own thread, like and unlike two
    comments in interleaved steps; visitors 0-12 end liking A (13 likes),
    visitors 13-19 end liking B (7). Every count must be exact."""
    aid, a = fresh_comment("A")
    _, b = fresh_comment("B")
    s = srv()
    visitors = [reader(aid) for _ in range(20)]
    final = {a: set(range(13)), b: set(range(13, 20))}
    answers = {}

    def plan(i):
        steps = []
        for k in range(3):  # like/unlike back and forth, ending where planned
            steps += [("like", a), ("like", b), ("unlike", a), ("like", a), ("unlike", b)]
        steps += [("like" if i in final[a] else "unlike", a),
                  ("like" if i in final[b] else "unlike", b)]
        return steps

    def worker(i):
        def f():
            v = visitors[i]
            for n, (verb, cid) in enumerate(plan(i)):
                as_json = (i + n) % 4 != 0  # one in four through the form (303)
                j = like(v, cid, verb, as_json)
                if j is not None:
                    assert 0 <= j["count"] <= 20, "count %d out of range" % j["count"]
                    answers[(i, cid)] = j
        return f
    _run_threads([worker(i) for i in range(20)])

    for cid, want in final.items():
        count, vids = db_state(cid)
        want_vids = {vid(visitors[i]) for i in want}
        assert vids == want_vids, "comment %d liked by %d visitors in the DB, want %d" % (
            cid, len(vids), len(want))
        assert count == len(want), "comment %d like_count %d, want %d" % (cid, count, len(want))
        n, action = page_count(aid, cid)
        assert n == len(want), "comment %d shows %d likes, want %d" % (cid, n, len(want))
        api = {c["id"]: c for c in tc.flatten(tc.api_get(Visitor(s, ip=next_ip()), aid)["comments"])}
        assert api[cid]["like_count"] == len(want), "API like_count %d, want %d" % (
            api[cid]["like_count"], len(want))
    # each visitor's own page shows their state: unlike where they like
    for i in (0, 12, 13, 19):
        for cid, want in final.items():
            n, action = page_count(aid, cid, visitors[i])
            verb = "unlike" if i in want else "like"
            assert action == "/comments/%d/%s" % (cid, verb), \
                "visitor %d sees %s on comment %d, want %s" % (i, action, cid, verb)


# ---- caches ---------------------------------------------------------------------------

def test_liked_state_never_served_to_another_visitor():
    """The liker's page shows their own state (unlike, aria-pressed=true);
    another reader's must not - also when the liker's request lacks the
    kiji_p marker cookie (it keeps 20 articles for 14 days) and is the first
    to load the page after the like emptied the cache."""
    aid, c1 = fresh_comment()
    _, c2 = fresh_comment()
    s = srv()
    liker = Visitor(s, ip=next_ip())
    like(liker, c1)
    assert page_count(aid, c1, liker)[1] == "/comments/%d/unlike" % c1, "the liker sees no unlike"
    for _ in range(2):
        assert page_count(aid, c1)[1] == "/comments/%d/like" % c1, \
            "another visitor is served the liker's state"
    like(liker, c2)  # drops the cached page
    liker.cookies.pop("kiji_p", None)
    page_count(aid, c2, liker)  # the first load after the like, without the marker
    for _ in range(2):
        for cid in (c1, c2):
            n, action = page_count(aid, cid)
            assert action == "/comments/%d/like" % cid, \
                "another visitor is served the liker's state (%s) after the liker loaded the " \
                "page without the kiji_p cookie" % action
