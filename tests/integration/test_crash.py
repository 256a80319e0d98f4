"""Durability (issue 3, item 6): a comment or like answered 303/201/200
survives `kill -9` right after, and the server really runs SQLite with
WAL and synchronous=FULL.

test_every_acknowledged_comment_survives_sigkill: a server of its own
(rate limits off with `kiji config set` before it starts), several threads
posting comments and liking without pause, SIGKILL once at least 500 posts
were acknowledged, restart, then every acknowledged comment must be there
exactly once with its text, nothing twice, every acknowledged like kept.

test_server_runs_with_synchronous_full: PRAGMA synchronous is per
connection, so it cannot be read from outside. What it does can: with
synchronous=FULL in WAL mode SQLite syncs the WAL at every commit (with
NORMAL only at checkpoints). The server runs with a small LD_PRELOAD shim
(built here with cc) that logs every fsync/fdatasync and the file it is
for; N acknowledged comments and likes posted one after another must show
at least N syncs of site.db-wal."""

import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid

import kiji
import test_comments as tc
from kiji import Visitor

TARGET = 500        # acknowledged comments before the kill
POSTERS = 6         # threads posting comments
LIKERS = 2          # threads liking
DEADLINE = 90.0     # seconds to reach TARGET

SHIM_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void say(const char *what, int fd)
{
	const char *log = getenv("KIJI_SYNC_LOG");
	char link[64], target[512], line[640];
	ssize_t n = -1;
	int lfd, len;
	if (log == NULL)
		return;
	if (fd >= 0) {
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof target - 1);
	}
	target[n > 0 ? n : 0] = '\0';
	len = snprintf(line, sizeof line, "%s %s\n", what, target);
	lfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0)
		return;
	if (write(lfd, line, (size_t)len) < 0) {
		/* nothing to do: the test reads what arrived */
	}
	close(lfd);
}

__attribute__((constructor)) static void loaded(void) { say("loaded", -1); }

int fdatasync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	int r = real(fd);
	say("fdatasync", fd);
	return r;
}

int fsync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	int r = real(fd);
	say("fsync", fd);
	return r;
}
"""


def crash_server():
    return kiji.server("crash", articles=6, comments=1, seed=13,
                       settings={"comments.rate_per_minute": "0",
                                 "likes.rate_per_minute": "0",
                                 "visitors.rate_per_minute": "0"})


class Log:
    def __init__(self):
        self.lock = threading.Lock()
        self.comments = []   # (cid, aid, body) answered 303
        self.likes = []      # (cid, visitor id) answered 200
        self.unexpected = []  # answers other than 303/200 before the kill
        self.killed = threading.Event()


def _poster(s, i, aids, tokens, log):
    v = Visitor(s)
    for seq in range(4000):
        if log.killed.is_set():
            return
        aid = aids[(i + seq) % len(aids)]
        body = "crash %d-%d %s" % (i, seq, uuid.uuid4().hex)
        try:
            r = v.post("/articles/%d/comments" % aid,
                       {"nickname": "crash%d" % i, "body": body, "parent": "0",
                        "token": tokens[aid], "url": ""})
        except OSError:
            if log.killed.is_set():
                return
            time.sleep(0.01)
            continue
        if r.status == 303:
            m = re.fullmatch(r"/articles/%d#comment-(\d+)" % aid, r.header("location") or "")
            with log.lock:
                if m:
                    log.comments.append((int(m.group(1)), aid, body))
                else:
                    log.unexpected.append("303 to %r" % r.header("location"))
        elif not log.killed.is_set():
            with log.lock:
                log.unexpected.append("post: %d %s" % (r.status, r.text[:120]))


def _liker(s, i, cids, log):
    for seq in range(4000):
        if log.killed.is_set():
            return
        cid = cids[(i * 7 + seq) % len(cids)]
        v = Visitor(s)
        try:
            # a new reader: the page's view beacon hands out its kiji_v
            v.request("POST", "/views/1", body=b"", headers={"User-Agent": "Mozilla/5.0"})
            r = v.post("/comments/%d/like" % cid, body=b"", headers={"Accept": "application/json"})
        except OSError:
            if log.killed.is_set():
                return
            continue
        if r.status == 200 and "kiji_v" in v.cookies:
            with log.lock:
                log.likes.append((cid, v.cookies["kiji_v"].split(".")[0]))
        elif not log.killed.is_set():
            with log.lock:
                log.unexpected.append("like: %d %s" % (r.status, r.text[:120]))


def test_every_acknowledged_comment_survives_sigkill():
    s = crash_server()
    assert s.config_get("comments.rate_per_minute") == "0"
    aids = tc.open_articles(s)[:3]
    assert aids, "crash demo has no article open for comments"
    tokens = {a: tc.token_of(Visitor(s), a) for a in aids}
    like_targets = [r[0] for r in s.sql(
        "SELECT id FROM comments WHERE status = 'approved' AND type = 'comment' ORDER BY id LIMIT 8")]
    assert like_targets, "crash demo has no approved comment to like"
    log = Log()
    threads = [threading.Thread(target=_poster, args=(s, i, aids, tokens, log), daemon=True)
               for i in range(POSTERS)]
    threads += [threading.Thread(target=_liker, args=(s, i, like_targets, log), daemon=True)
                for i in range(LIKERS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    while time.monotonic() - t0 < DEADLINE:
        with log.lock:
            n = len(log.comments)
        if n >= TARGET + 20 or not any(t.is_alive() for t in threads):
            break
        time.sleep(0.02)
    elapsed = time.monotonic() - t0
    s.kill()  # SIGKILL while the posters are still sending
    log.killed.set()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "poster threads did not stop after the kill"
    acked = list(log.comments)
    assert not log.unexpected, "answers other than 303/200 before the kill: %s" % log.unexpected[:5]
    assert len(acked) >= TARGET, "only %d comments acknowledged in %.0f s (want >= %d)" % (
        len(acked), elapsed, TARGET)

    s.start()  # the same database after the crash
    s.assert_alive()
    con = kiji.connect(s.db, ro=True)
    try:
        assert kiji.integrity_ok(con), "integrity_check"
        rows = con.execute("SELECT id, article_id, body, status FROM comments "
                           "WHERE body LIKE 'crash %'").fetchall()
        like_rows = set(con.execute("SELECT comment_id, visitor_id FROM likes").fetchall())
        counts = dict(con.execute("SELECT id, like_count FROM comments WHERE id IN (%s)" %
                                  ",".join(str(c) for c in like_targets)).fetchall())
        per = dict(con.execute("SELECT comment_id, COUNT(*) FROM likes GROUP BY comment_id").fetchall())
    finally:
        con.close()
    by_id = {r[0]: r for r in rows}
    by_body = {}
    for r in rows:
        by_body.setdefault(r[2], []).append(r[0])
    twice = {b: ids for b, ids in by_body.items() if len(ids) > 1}
    assert not twice, "%d comment texts stored more than once, e.g. %r" % (
        len(twice), next(iter(twice.items())))
    missing = [c for c, _, _ in acked if c not in by_id]
    assert not missing, "%d of %d acknowledged comments lost by kill -9, e.g. %s" % (
        len(missing), len(acked), missing[:10])
    ids = [c for c, _, _ in acked]
    assert len(ids) == len(set(ids)), "the same comment id acknowledged twice"
    for cid, aid, body in acked:
        r = by_id[cid]
        assert (r[1], r[2], r[3]) == (aid, body, "approved"), \
            "comment %d after restart: %r, acknowledged as (%d, %r)" % (cid, r[1:], aid, body)
    lost_likes = [lk for lk in log.likes if lk not in like_rows]
    assert not lost_likes, "%d of %d acknowledged likes lost, e.g. %s" % (
        len(lost_likes), len(log.likes), lost_likes[:5])
    for cid in like_targets:
        assert counts[cid] >= per.get(cid, 0), \
            "comment %d: like_count %d < %d like rows after the crash" % (cid, counts[cid], per.get(cid, 0))
    # and the restarted server shows them
    aid = aids[0]
    shown = {int(li.get("id")[8:]) for li in
             Visitor(s).page("/articles/%d" % aid).doc.select("li.comment")}
    want = {c for c, a, _ in acked if a == aid}
    assert want <= shown, "%d acknowledged comments of /articles/%d not shown after restart" % (
        len(want - shown), aid)
    print("    crash: %d comments acknowledged in %.1f s (%.0f/s, %d threads), %d likes; "
          "after kill -9: %d/%d comments and %d/%d likes found, %d committed but "
          "unacknowledged, 0 twice" % (
              len(acked), elapsed, len(acked) / max(elapsed, 1e-9), POSTERS, len(log.likes),
              len(acked) - len(missing), len(acked), len(log.likes) - len(lost_likes),
              len(log.likes), len(rows) - len(acked)))


def _build_shim(dirpath):
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    assert cc, "no C compiler (cc) to build the fsync-logging shim"
    src = dirpath / "syncshim.c"
    so = dirpath / "syncshim.so"
    src.write_text(SHIM_C)
    r = subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(so), str(src), "-ldl"],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, "building the shim failed:\n%s" % r.stderr.decode()[-2000:]
    return so


@kiji.sqlite_only("fsyncs of site.db-wal seen through an LD_PRELOAD shim; PostgreSQL's durability is synchronous_commit, shown by kiji doctor and test_store")
def test_server_runs_with_synchronous_full():
    s = kiji.server("sync", start=False, articles=4, comments=1, seed=17,
                    settings={"comments.rate_per_minute": "0", "likes.rate_per_minute": "0"})
    if not s.alive():
        so = _build_shim(s.tmp)
        logf = s.tmp / "sync.log"
        asan = os.environ.get("ASAN_OPTIONS", "")
        s.env = {"LD_PRELOAD": str(so), "KIJI_SYNC_LOG": str(logf),
                 # the shim comes before the ASan runtime in the library list
                 "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}
        s.start()
    logf = s.tmp / "sync.log"
    con = kiji.connect(s.db, ro=True)
    try:
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        con.close()
    assert mode == "wal", "journal_mode is %r, want wal" % mode

    def wal_syncs():
        text = logf.read_text() if logf.exists() else ""
        assert "loaded" in text, "the LD_PRELOAD shim was not loaded by kiji serve"
        return sum(1 for ln in text.splitlines()
                   if ln.split(" ", 1)[0] in ("fsync", "fdatasync") and ln.endswith("site.db-wal"))

    aid = tc.open_articles(s)[0]
    v = Visitor(s)
    tok = tc.token_of(v, aid)
    n0 = wal_syncs()
    n = 20
    cids = [tc.new_comment(v, aid, "sync %d %s" % (i, tc.mark()), token=tok) for i in range(n)]
    n1 = wal_syncs()
    assert n1 - n0 >= n, "%d comments acknowledged one after another, %d syncs of the WAL: " \
        "commits are not synced (synchronous is not FULL)" % (n, n1 - n0)
    for cid in cids[:10]:
        r = Visitor(s).post("/comments/%d/like" % cid, body=b"", headers={"Accept": "application/json"})
        assert r.status == 200, "like: %d" % r.status
    n2 = wal_syncs()
    assert n2 - n1 >= 10, "10 likes acknowledged, %d syncs of the WAL" % (n2 - n1)
    print("    sync: %d comments -> %d WAL syncs, 10 likes -> %d WAL syncs (journal_mode=%s)" % (
        n, n1 - n0, n2 - n1, mode))
