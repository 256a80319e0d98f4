"""Operating a site (issue 13): a database kiji cannot write, a full disk,
backups and restores, how long commenters' IP addresses are kept, and the
site secret staying out of sight.

Read-only: tests may run as root, for whom file modes stop nothing, so the
server then runs as `nobody` through setpriv(1) (util-linux, on every
Debian); as another user the modes alone do it.

Disk full: the server's RLIMIT_FSIZE is lowered under it with prlimit(2)
(resource.prlimit, the soft limit: no privileges, no special file
system), just past the end of the WAL and its next frame header, so the
next page written there is cut short as on a full disk (SQLite's
SQLITE_FULL, as for ENOSPC); raising it again is freeing space."""

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import kiji
import test_comments as tc
from kiji import Visitor

NOBODY = 65534
WAL_FRAME_HEAD = 24      # bytes before each page in the WAL


# ---- running as a user that file modes apply to -----------------------------------

def as_user():
    """Command prefix that runs kiji as a user file modes bind (root is not
    bound by them): setpriv to nobody when root, nothing otherwise."""
    if os.geteuid() != 0:
        return []
    sp = shutil.which("setpriv")
    assert sp, "running as root and no setpriv(1) to drop to nobody (util-linux)"
    return [sp, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]


def give(paths):
    """Makes paths belong to the user as_user() runs as."""
    if os.geteuid() == 0:
        for p in paths:
            if os.path.exists(p):
                os.chown(p, NOBODY, NOBODY)


def serve_cmd(db, port):
    return as_user() + [str(kiji.kiji_bin()), "serve", "--db", str(db),
                        "--listen", "127.0.0.1:%d" % port]


def serve_refused(db):
    """Runs kiji serve as the bound user; it must exit non-zero by itself.
    Returns its stderr."""
    r = subprocess.run(serve_cmd(db, kiji.free_port()), cwd=kiji.ROOT,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    err = r.stderr.decode("utf-8", "replace")
    assert not kiji.sanitizer_lines(err), err[-3000:]
    assert r.returncode != 0, "kiji serve started on a database it cannot write:\n%s" % err
    return err


class UserServer:
    """kiji serve as the bound user, stopped by pid."""

    def __init__(self, db):
        self.port = kiji.free_port()
        self.errf = Path(str(db) + ".serve-user.stderr")
        with open(self.errf, "wb") as err:
            self.proc = subprocess.Popen(serve_cmd(db, self.port), cwd=kiji.ROOT,
                                         stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + kiji.START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "kiji serve exited: %s" % self.errf.read_text()
            try:
                kiji.request_port(self.port, "GET", "/", timeout=2)
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("kiji serve (as nobody) did not answer")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            rc = "killed"
        text = self.errf.read_text("utf-8", "replace")
        assert not kiji.sanitizer_lines(text), text[-3000:]
        assert rc == 0, "kiji serve exit %s\n%s" % (rc, text[-2000:])


# ---- a database kiji cannot write ----------------------------------------------------

def test_read_only_database_is_refused_at_start_and_fixing_it_needs_no_more():
    s = kiji.server("ops-ro", start=False, articles=4, comments=1, seed=31,
                    settings={"comments.rate_per_minute": "0"})
    db = s.db
    side = [str(db) + "-wal", str(db) + "-shm"]
    give([s.tmp, db] + side)
    os.chmod(db, 0o400)
    err = serve_refused(db)
    assert "cannot be written by this user" in err and "chown" in err, \
        "read-only database: the refusal does not say what is wrong and how to fix it:\n" + err
    os.chmod(db, 0o600)

    os.chmod(s.tmp, 0o500)  # the directory: -wal/-shm and uploads go there
    try:
        err = serve_refused(db)
    finally:
        os.chmod(s.tmp, 0o700)
    assert "directory" in err and "cannot be written" in err and "chown" in err, \
        "unwritable directory: the refusal does not say so:\n" + err

    # fixed: the same user serves and saves comments
    u = UserServer(db)
    s.port = u.port  # s itself never started: its requests go to u
    try:
        aid = tc.open_articles(s)[0]
        body = "after the fix " + tc.mark()
        r = tc.post(Visitor(s), aid, body)
        assert r.status == 303, "comment after fixing permissions: %d\n%s" % (r.status, r.text[:300])
    finally:
        u.stop()
    assert s.sql("SELECT COUNT(*) FROM comments WHERE body = ?", (body,))[0][0] == 1


# ---- a full disk ------------------------------------------------------------------

def full_server():
    return kiji.server("ops-full", articles=4, comments=1, seed=37,
                       settings={"comments.rate_per_minute": "0",
                                 "likes.rate_per_minute": "0"})


def test_disk_full_is_said_plainly_keeps_the_text_and_recovers_without_restart():
    s = full_server()
    aid = tc.open_articles(s)[0]
    v = Visitor(s)
    tok = tc.token_of(v, aid)
    tc.new_comment(v, aid, "before " + tc.mark(), token=tok)
    pid = s.proc.pid
    # the next frame's header fits, its page does not (nor does any write
    # starting past it, should the WAL restart from its beginning)
    limit = os.path.getsize(str(s.db) + "-wal") + WAL_FRAME_HEAD + 100
    assert os.path.getsize(s.stderr_path) < limit - 4096, "serve's log is too long already"
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    refused = None
    try:
        # the WAL grows a few pages a comment: at most a few posts fit
        for i in range(200):
            body = "full %d %s\n二行目" % (i, tc.mark())
            r = tc.post(v, aid, body, nickname="満杯", token=tok)
            if r.status != 303:
                refused = (r, body)
                break
        assert refused, "200 comments saved past RLIMIT_FSIZE=%d" % limit
        r, body = refused
        msg = tc.assert_form_error(r, 503, aid, "満杯", body)
        assert "混み合" not in msg and "保存できません" in msg, \
            "disk full told the poster %r (want a plain 'cannot save')" % msg
        api = tc.api_post(v, aid, tc.api_fields(v, aid, "api " + tc.mark()))
        tc.api_error(api, 503, "cannot_save")
        assert s.get("/articles/%d" % aid).status == 200, "reading stopped with the disk full"
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    # space is back: the same server saves again
    again = "again " + tc.mark()
    cid = tc.new_comment(v, aid, again, token=tok)
    assert s.sql("SELECT body FROM comments WHERE id = ?", (cid,))[0][0] == again
    s.assert_alive()
    log = s.read_stderr()
    assert "no space left" in log, "the log does not say the disk is full:\n" + log[-2000:]
    assert "without store_begin" not in log, "misleading rollback message:\n" + log[-2000:]
    rows = s.sql("SELECT COUNT(*) FROM comments WHERE body = ?", (body,))
    assert rows[0][0] == 0, "the refused comment was stored anyway"
