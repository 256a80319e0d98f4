"""Crash safety under mixed writes (issue 13): one site, 20 rounds; in
each round the server takes concurrent comments, likes, editor saves of
existing articles and newly published articles, and is killed with
SIGKILL at a random moment (seeded, so a failure can be replayed). After
every round, on the restarted server: PRAGMA integrity_check is ok; every
write that was acknowledged (303 for a comment or a save, 200 for a like)
is there exactly once; an edited article carries its last acknowledged
title or the one still in flight at the kill; and the counters agree with
the rows (each article's comment_count with its approved comments, each
test comment's like_count with its likes)."""

import random
import re
import sqlite3
import threading
import time
import uuid

import kiji
import test_comments as tc
from admin_client import Editor, user
from kiji import Visitor
from test_admin_articles import create, save

ROUNDS = 20
POSTERS = 3
LIKERS = 2
LOAD_MIN, LOAD_MAX = 0.4, 2.0   # seconds of load before the kill
SEED = 1313


def mixed_server():
    return kiji.server("crash-mixed", articles=8, comments=2, seed=31,
                       settings={"comments.rate_per_minute": "0",
                                 "likes.rate_per_minute": "0",
                                 "visitors.rate_per_minute": "0",
                                 "comments.moderation": "none",
                                 "http.trusted_proxies": "127.0.0.1"})


class Round:
    def __init__(self):
        self.lock = threading.Lock()
        self.comments = []        # (cid, body) answered 303
        self.likes = []           # (cid, visitor id) answered 200
        self.created = []         # (aid, title) answered 303
        self.edits = {}           # aid -> last acknowledged title
        self.inflight = {}        # aid -> title of the save being sent
        self.errors = []          # unexpected answers before the kill
        self.killed = threading.Event()

    def note(self, what):
        if not self.killed.is_set():
            with self.lock:
                self.errors.append(what)


def _poster(s, rd, i, aids, n):
    v = Visitor(s, ip=kiji.next_ip())
    tokens = {}
    for seq in range(100000):
        if rd.killed.is_set():
            return
        aid = aids[(i + seq) % len(aids)]
        body = "mix %d %d-%d %s" % (n, i, seq, uuid.uuid4().hex[:12])
        try:
            if aid not in tokens:
                tokens[aid] = tc.token_of(v, aid)
            r = v.post("/articles/%d/comments" % aid,
                       {"nickname": "mix%d" % i, "body": body, "parent": "0",
                        "token": tokens[aid], "url": "", "opened": ""},
                       headers={"Origin": s.origin})
        except (OSError, AssertionError):
            if rd.killed.is_set():
                return
            time.sleep(0.01)
            continue
        m = re.fullmatch(r"/articles/%d#comment-(\d+)" % aid, r.header("location") or "")
        if r.status == 303 and m:
            with rd.lock:
                rd.comments.append((int(m.group(1)), body))
        else:
            rd.note("comment: %d %s" % (r.status, r.text[:120]))


def _liker(s, rd, i, cids):
    for seq in range(100000):
        if rd.killed.is_set():
            return
        cid = cids[(i * 5 + seq) % len(cids)]
        v = Visitor(s, ip=kiji.next_ip())
        try:
            # a new reader: the page's view beacon hands out its kiji_v
            v.request("POST", "/views/1", body=b"", headers={"User-Agent": "Mozilla/5.0"})
            r = v.post("/comments/%d/like" % cid, body=b"",
                       headers={"Accept": "application/json", "Origin": s.origin})
        except OSError:
            if rd.killed.is_set():
                return
            continue
        if r.status == 200 and "kiji_v" in v.cookies:
            with rd.lock:
                rd.likes.append((cid, v.cookies["kiji_v"].split(".")[0]))
        else:
            rd.note("like: %d %s" % (r.status, r.text[:120]))


def _editor(s, rd, ed, n, edit_ids):
    for seq in range(100000):
        if rd.killed.is_set():
            return
        try:
            if seq % 2 == 0:
                title = "crash round %d new %d %s" % (n, seq, uuid.uuid4().hex[:8])
                aid = create(ed, title, status="published", body="速報 %d" % seq)
                with rd.lock:
                    rd.created.append((aid, title))
            else:
                aid = edit_ids[seq // 2 % len(edit_ids)]
                title = "edited round %d %d %s" % (n, seq, uuid.uuid4().hex[:8])
                with rd.lock:
                    rd.inflight[aid] = title
                r = save(ed, aid, title, status="published")
                if r.status == 303:
                    with rd.lock:
                        rd.edits[aid] = title
                else:
                    rd.note("save: %d %s" % (r.status, r.text[:200]))
        except (OSError, AssertionError) as e:
            if rd.killed.is_set():
                return
            rd.note("editor: %r" % (e,))
            time.sleep(0.05)


def like_drift(con, cids):
    """(comment id, like_count minus its like rows) of the given comments
    and of every test comment. The demo gives its comments like counts
    without rows; a write may never change that difference."""
    return con.execute(
        "SELECT c.id, c.like_count - (SELECT COUNT(*) FROM likes l"
        " WHERE l.comment_id = c.id) FROM comments c"
        " WHERE c.body LIKE 'mix %%' OR c.id IN (%s)"
        % ",".join(str(c) for c in cids)).fetchall()


def _check(s, rd, n, like_cids):
    con = kiji.connect(s.db, ro=True)
    try:
        assert kiji.integrity_ok(con), \
            "round %d: integrity_check failed" % n
        bodies = {}
        for cid, body in con.execute("SELECT id, body FROM comments WHERE body LIKE 'mix %'"):
            bodies.setdefault(body, []).append(cid)
        likes = set(con.execute("SELECT comment_id, visitor_id FROM likes"))
        titles = dict(con.execute("SELECT id, title FROM articles"))
        bad_counts = con.execute(
            "SELECT * FROM (SELECT a.id, a.comment_count, (SELECT COUNT(*)"
            " FROM comments c WHERE c.article_id = a.id"
            " AND c.status = 'approved') AS n FROM articles a) AS t"
            " WHERE comment_count <> n").fetchall()
        bad_likes = [r for r in like_drift(con, like_cids) if r[1] != like_cids.get(r[0], 0)]
    finally:
        con.close()
    twice = {b: ids for b, ids in bodies.items() if len(ids) > 1}
    assert not twice, "round %d: comments stored twice: %r" % (n, list(twice.items())[:3])
    lost = [c for c, b in rd.comments if bodies.get(b) != [c]]
    assert not lost, "round %d: %d of %d acknowledged comments lost, e.g. %s" % (
        n, len(lost), len(rd.comments), lost[:5])
    lost_likes = [lk for lk in rd.likes if lk not in likes]
    assert not lost_likes, "round %d: %d acknowledged likes lost" % (n, len(lost_likes))
    for aid, title in rd.created:
        assert titles.get(aid) is not None, "round %d: published article %d lost" % (n, aid)
    created_titles = [t for t in titles.values() if t.startswith("crash round %d new" % n)]
    assert len(created_titles) == len(set(created_titles)), \
        "round %d: an article was created twice" % n
    for aid, title in rd.edits.items():
        ok = {title, rd.inflight.get(aid)}
        assert titles.get(aid) in ok, "round %d: article %d is %r after the kill, " \
            "acknowledged as %r (in flight %r)" % (n, aid, titles.get(aid), title,
                                                   rd.inflight.get(aid))
    assert not bad_counts, "round %d: comment_count disagrees with the rows: %s" % (
        n, bad_counts[:5])
    assert not bad_likes, "round %d: like_count moved apart from the likes " \
        "(comment, like_count - rows): %s" % (n, bad_likes[:5])


def test_sigkill_during_mixed_writes_loses_nothing():
    s = mixed_server()
    rnd = random.Random(SEED)
    aids = tc.open_articles(s)[:4]
    assert aids, "no article open for comments"
    edit_ids = aids[:2]
    like_cids = [r[0] for r in s.sql(
        "SELECT id FROM comments WHERE status = 'approved' AND type = 'comment'"
        " ORDER BY id LIMIT 6")]
    assert like_cids, "no approved comment to like"
    con = kiji.connect(s.db, ro=True)
    try:
        drift = dict(like_drift(con, like_cids))
    finally:
        con.close()
    name, pw = user(s, "editor", "crash")
    totals = [0, 0, 0, 0]
    for n in range(ROUNDS):
        if not s.alive():
            s.start()
        ed = Editor(s)
        ed.login(name, pw)
        rd = Round()
        threads = [threading.Thread(target=_poster, args=(s, rd, i, aids, n), daemon=True)
                   for i in range(POSTERS)]
        threads += [threading.Thread(target=_liker, args=(s, rd, i, like_cids), daemon=True)
                     for i in range(LIKERS)]
        threads.append(threading.Thread(target=_editor, args=(s, rd, ed, n, edit_ids),
                                        daemon=True))
        for t in threads:
            t.start()
        time.sleep(rnd.uniform(LOAD_MIN, LOAD_MAX))
        rd.killed.set()  # what fails from here on is the kill's doing
        s.kill()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads), "round %d: threads did not stop" % n
        assert not rd.errors, "round %d: unexpected answers before the kill: %s" % (
            n, rd.errors[:5])
        s.start()
        s.assert_alive()
        _check(s, rd, n, drift)
        totals[0] += len(rd.comments)
        totals[1] += len(rd.likes)
        totals[2] += len(rd.created)
        totals[3] += len(rd.edits)
    assert totals[0] > ROUNDS and totals[1] > ROUNDS and totals[2] > 0, \
        "too little load to mean anything: %s" % totals
    print("    crash-mixed: %d rounds, acknowledged %d comments, %d likes, %d new "
          "articles, %d edits; all found after kill -9, counters exact" % (
              ROUNDS, *totals))
