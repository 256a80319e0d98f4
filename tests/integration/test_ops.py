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

SQLITE_ONLY = "a read-only or full database file, kiji backup/restore of the file: PostgreSQL's are the server's and pg_dump's"
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


def user_bin(db):
    """The kiji binary where that user can run it: a checkout under /root
    (as CI may have it) is out of nobody's reach, so root runs a copy kept
    beside the database."""
    if os.geteuid() != 0:
        return str(kiji.kiji_bin())
    copy = Path(db).parent / "kiji-as-user"
    if not copy.exists():
        shutil.copy(kiji.kiji_bin(), copy)
        os.chmod(copy, 0o755)
    return str(copy)


def serve_cmd(db, port):
    return as_user() + [user_bin(db), "serve", "--db", str(db),
                        "--listen", "127.0.0.1:%d" % port]


def serve_refused(db):
    """Runs kiji serve as the bound user; it must exit non-zero by itself.
    Returns its stderr."""
    r = subprocess.run(serve_cmd(db, kiji.free_port()), cwd="/",
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
            self.proc = subprocess.Popen(serve_cmd(db, self.port), cwd="/",
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


# ---- backups and restores ------------------------------------------------------------

def backup_server():
    return kiji.server("ops-backup", articles=20, comments=6, seed=41,
                       settings={"comments.rate_per_minute": "0"})


class Posters:
    """Threads posting comments until stopped (bounded): every 303 is
    logged as (comment id, body) in the order acknowledged."""

    def __init__(self, s, aids, n=2, limit=400):
        self.lock = threading.Lock()
        self.acked = []
        self.bad = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(s, aids, i, limit), daemon=True)
                        for i in range(n)]
        for t in self.threads:
            t.start()

    def _run(self, s, aids, i, limit):
        v = Visitor(s)
        toks = {a: tc.token_of(v, a) for a in aids}
        for seq in range(limit):
            if self.stop.is_set():
                return
            aid = aids[seq % len(aids)]
            body = "backup load %d-%d %s" % (i, seq, tc.mark())
            r = tc.post(v, aid, body, token=toks[aid])
            with self.lock:
                if r.status == 303:
                    self.acked.append((tc.posted(r, aid), body))
                else:
                    self.bad.append((r.status, r.text[:200]))

    def count(self):
        with self.lock:
            return len(self.acked)

    def wait_for(self, n, timeout=60.0):
        deadline = time.monotonic() + timeout
        while self.count() < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.count() >= n, "only %d comments acknowledged" % self.count()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)
        assert not any(t.is_alive() for t in self.threads), "posters did not stop"
        assert not self.bad, "posts refused during the backup: %s" % self.bad[:3]


def open_ro(path):
    return kiji.connect(path, ro=True)


def test_backup_while_serving_holds_every_comment_acknowledged_before_it():
    s = backup_server()
    aids = tc.open_articles(s)[:3]
    out = s.tmp / "copy.db"
    p = Posters(s, aids)
    try:
        p.wait_for(30)
        with p.lock:
            before = list(p.acked)
        r = s.cli("backup", str(out))
        p.wait_for(len(before) + 10)  # the site kept taking comments
    finally:
        p.finish()
    assert "copied to" in r.stderr, r.stderr
    assert (os.stat(out).st_mode & 0o777) == 0o600, "backup mode %o" % (os.stat(out).st_mode & 0o777)
    assert not Path(str(out) + "-wal").exists(), "the backup is not one file"
    con = open_ro(out)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        have = dict(con.execute("SELECT id, body FROM comments").fetchall())
        media = con.execute("SELECT COUNT(*) FROM media").fetchone()[0]
        ips = con.execute("SELECT COUNT(*) FROM comments WHERE ip <> ''").fetchone()[0]
    finally:
        con.close()
    lost = [(cid, body) for cid, body in before if have.get(cid) != body]
    assert not lost, "%d of %d comments acknowledged before the backup missing from it: %s" % (
        len(lost), len(before), lost[:3])
    assert media == s.sql("SELECT COUNT(*) FROM media")[0][0], "images missing from the backup"
    assert ips > 0, "a default backup must keep commenters' addresses (faithful restore)"
    print("    backup: %d comments acknowledged before it, all in the copy; %d during it" % (
        len(before), len(p.acked) - len(before)))

    # an existing OUT is kept unless --force
    r = s.cli("backup", str(out), check=False)
    assert r.returncode == 2 and "exists" in r.stderr, (r.returncode, r.stderr)
    s.cli("backup", "--force", "--without-addresses", str(out))
    con = open_ro(out)
    try:
        left = con.execute("SELECT COUNT(*) FROM comments WHERE ip <> '' OR email <> ''").fetchone()[0]
        n = con.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
    finally:
        con.close()
    assert left == 0 and n >= len(before), "--without-addresses left %d addresses" % left
    some_ip = s.sql("SELECT ip FROM comments WHERE ip <> '' LIMIT 1")[0][0]
    assert some_ip.encode() not in out.read_bytes(), \
        "--without-addresses: %s still in the file's free space" % some_ip


def test_restore_refused_while_served_checks_the_backup_and_works_when_stopped():
    s = kiji.server("ops-restore", articles=8, comments=3, seed=43,
                    settings={"comments.rate_per_minute": "0"})
    aid = tc.open_articles(s)[0]
    b = s.tmp / "b.db"
    s.cli("backup", str(b))
    n_backup = s.sql("SELECT COUNT(*) FROM comments")[0][0]
    later = "after the backup " + tc.mark()
    cid = tc.new_comment(Visitor(s), aid, later)

    r = s.cli("restore", str(b), check=False)
    assert r.returncode != 0 and "in use" in r.stderr, \
        "restore while serving: exit %d\n%s" % (r.returncode, r.stderr)
    assert s.sql("SELECT body FROM comments WHERE id = ?", (cid,))[0][0] == later, \
        "a refused restore changed the database"

    bad = s.tmp / "newer.db"
    shutil.copy(b, bad)
    con = sqlite3.connect(str(bad))
    con.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (999, 0)")
    con.commit()
    con.close()
    broken = s.tmp / "broken.db"
    data = bytearray(b.read_bytes())
    for off in range(4096 * 3, len(data) - 4096, 4096 * 7):  # pages, not the header
        data[off:off + 64] = b"\xff" * 64
    broken.write_bytes(bytes(data))

    s.kill()  # kill -9: the kernel drops its lock
    r = s.cli("restore", str(bad), check=False)
    assert r.returncode != 0 and "newer kiji" in r.stderr, (r.returncode, r.stderr)
    r = s.cli("restore", str(broken), check=False)
    assert r.returncode != 0 and r.stderr.strip(), "a damaged backup was restored"
    assert s.sql("SELECT COUNT(*) FROM comments WHERE id = ?", (cid,))[0][0] == 1, \
        "a refused restore changed the database"

    r = s.cli("restore", str(b))
    assert "restored from" in r.stderr, r.stderr
    s.start()
    assert s.sql("SELECT COUNT(*) FROM comments")[0][0] == n_backup
    page = Visitor(s).page("/articles/%d" % aid).text
    assert later not in page, "the restored site still shows a comment made after the backup"
    assert s.sql("PRAGMA integrity_check")[0][0] == "ok"
    # and it takes new comments
    tc.new_comment(Visitor(s), aid, "after the restore " + tc.mark())


# ---- privacy: commenters' addresses, the site secret --------------------------------

DAY = 86400


def _aged(s, days, ip):
    """Makes one comment `days` old with address ip; returns its id."""
    con = kiji.connect(s.db)
    try:
        cid = con.execute("SELECT id FROM comments WHERE type = 'comment' AND ip NOT LIKE '198.51.100.%' "
                          "ORDER BY id LIMIT 1").fetchone()[0]
        con.execute("UPDATE comments SET created_at = ?, ip = ? WHERE id = ?",
                    (int(time.time()) - days * DAY, ip, cid))
        con.commit()
    finally:
        con.close()
    return cid


def _wait_job_done(s, key):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = s.sql("SELECT done_at, last_error FROM jobs WHERE dedup_key = ?", (key,))
        if rows and rows[0][0]:
            assert rows[0][1] == "", "job %s failed: %s" % (key, rows[0][1])
            return
        time.sleep(0.1)
    raise AssertionError("job %s did not run within 30 s" % key)


def test_commenters_ip_addresses_are_erased_after_privacy_ip_days():
    s = kiji.server("ops-privacy", start=False, articles=6, comments=4, seed=47)
    assert s.config_get("privacy.ip_days") == "90"
    old = _aged(s, 91, "198.51.100.91")
    recent = _aged(s, 89, "198.51.100.89")
    s.start()
    today = int(time.time()) // DAY
    _wait_job_done(s, "privacy:%d" % today)
    ip = dict((r[0], r[1]) for r in s.sql("SELECT id, ip FROM comments WHERE id IN (?, ?)", (old, recent)))
    assert ip[old] == "", "a 91-day-old comment keeps its IP address %r" % ip[old]
    assert ip[recent] == "198.51.100.89", "an 89-day-old comment lost its IP address"
    stale = s.sql("SELECT COUNT(*) FROM comments WHERE ip <> '' AND created_at < ?",
                  (int(time.time()) - 90 * DAY,))[0][0]
    assert stale == 0, "%d comments older than 90 days keep their IP address" % stale
    nxt = s.sql("SELECT run_at FROM jobs WHERE dedup_key = ?", ("privacy:%d" % (today + 1),))
    assert nxt and nxt[0][0] == (today + 1) * DAY, "tomorrow's privacy job is not scheduled: %r" % nxt

    # 0 keeps them: the next run (a new day's job, here added by a restart
    # after the day's key is made to look new) leaves addresses alone
    s.stop()
    s.config_set("privacy.ip_days", "0")
    kept = _aged(s, 400, "198.51.100.40")
    con = kiji.connect(s.db)
    con.execute("DELETE FROM jobs WHERE dedup_key = ?", ("privacy:%d" % today,))
    con.commit()
    con.close()
    s.start()
    _wait_job_done(s, "privacy:%d" % today)
    assert s.sql("SELECT ip FROM comments WHERE id = ?", (kept,))[0][0] == "198.51.100.40", \
        "privacy.ip_days=0 erased an address"
    r = s.cli("config", "set", "privacy.ip_days", "-1", check=False)
    assert r.returncode != 0, "privacy.ip_days=-1 accepted"


def test_site_secret_never_shown():
    import admin_client
    s = kiji.server("ops-secret", articles=4, comments=2, seed=53,
                    settings={"http.trusted_proxies": "127.0.0.1"})
    secret = s.secret().hex()
    shown = {}
    shown["config list"] = s.cli("config", "list").stdout
    r = s.cli("config", "get", "secret.key", check=False)
    assert r.returncode != 0, "config get secret.key answered"
    shown["config get secret.key"] = r.stdout + r.stderr
    r = s.cli("config", "set", "secret.key", "00" * 32, check=False)
    assert r.returncode != 0, "config set secret.key accepted"
    shown["export-wxr"] = s.cli("export-wxr").stdout
    name, pw = admin_client.user(s, "admin", "secret")
    ed = admin_client.Editor(s)
    ed.login(name, pw)
    shown["/admin/settings"] = ed.page("/admin/settings").text
    v = Visitor(s)
    aid = tc.open_articles(s)[0]
    tc.new_comment(v, aid, "secret test " + tc.mark())
    shown["article page"] = v.page("/articles/%d" % aid).text
    shown["serve log"] = s.read_stderr()
    for where, text in shown.items():
        assert secret.lower() not in text.lower(), "the site secret appears in %s" % where
        assert secret[:16].lower() not in text.lower(), "part of the site secret appears in %s" % where
    assert "secret.key" not in shown["config list"], "config list names secret.key"
