"""kiji serve hardening (issue 13): --user NAME gives root up after binding
and refuses a database NAME cannot write; the Landlock sandbox keeps the
server's writes in the database's directory and its reads to what it
needs, while pages, comments and the job runner go on working.

--user needs root: as another user those tests check only the refusal.
The sandbox tests skip (and say so) on a kernel without Landlock. What
the sandbox allows is shown with the test build's probe
(KIJI_TEST_PROBE_READ / _WRITE / _RESOLVE, src/sys/landlock.c): a thread
started after the sandbox, as the server's workers are, tries them and
logs the outcome.

The binary is run by root from where it is; a checkout under /root out
of nobody's reach does not matter, as nothing is opened by path after the
drop but the database (the sandbox's rule for the executable is made
through /proc/self/exe)."""

import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import kiji
import test_comments as tc
from kiji import Visitor

NOBODY = 65534
SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on every architecture
LANDLOCK_CREATE_RULESET_VERSION = 1
JOB_WAIT = 30.0  # seconds for the runner to publish (it looks every second)


def landlock_abi():
    """The kernel's Landlock ABI version, 0 when it has none."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    v = libc.syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), None,
                     ctypes.c_size_t(0), ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return v if v > 0 else 0


def skip(why):
    print("  skip: " + why)


def site(name):
    return kiji.server(name, start=False, articles=4, comments=1, seed=43,
                       settings={"comments.rate_per_minute": "0"})


def give(paths, uid):
    for p in paths:
        if os.path.exists(p):
            os.chown(p, uid, uid)


def serve(db, port, *args, prefix=()):
    return list(prefix) + [str(kiji.kiji_bin()), "serve", "--db", str(db),
                     "--listen", "127.0.0.1:%d" % port] + list(args)


def refused(cmd):
    """Runs cmd, which must exit 2 by itself; returns its stderr."""
    r = subprocess.run(cmd, cwd="/", stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=30)
    err = r.stderr.decode("utf-8", "replace")
    assert not kiji.sanitizer_lines(err), err[-3000:]
    assert r.returncode == 2, "exit %d (want 2): %s\n%s" % (r.returncode, " ".join(cmd), err)
    return err


class Serve:
    """One kiji serve with the given arguments and environment, stopped by pid."""

    def __init__(self, s, *args, env=None):
        self.port = kiji.free_port()
        self.errf = Path(tempfile.mkstemp(prefix="kiji-harden-", suffix=".stderr")[1])
        e = dict(os.environ)
        e.update(env or {})
        with open(self.errf, "wb") as err:
            self.proc = subprocess.Popen(serve(s.db, self.port, *args), cwd="/",
                                         stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err, env=e)
        s.port = self.port  # the site's requests go to this server
        deadline = time.monotonic() + kiji.START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "kiji serve exited: %s" % self.log()
            try:
                kiji.request_port(self.port, "GET", "/", timeout=2)
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("kiji serve %s did not answer" % " ".join(args))

    def log(self):
        return self.errf.read_text("utf-8", "replace")

    def probes(self):
        """{"read /path": "ok" or the error, ...} from the probe's lines."""
        out = {}
        for ln in self.log().splitlines():
            if ln.startswith("kiji: test probe: "):
                what, _, result = ln[len("kiji: test probe: "):].rpartition(": ")
                out[what] = result
        return out

    def status(self, task=None):
        """/proc/PID[/task/TID]/status as a dict."""
        p = "/proc/%d" % self.proc.pid + ("/task/%s" % task if task else "")
        return dict(ln.split(":", 1) for ln in open(p + "/status").read().splitlines()
                    if ":" in ln)

    def tasks(self):
        return os.listdir("/proc/%d/task" % self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            rc = "killed"
        text = self.log()
        self.errf.unlink()
        assert not kiji.sanitizer_lines(text), text[-3000:]
        assert rc == 0, "kiji serve exit %s\n%s" % (rc, text[-2000:])
        return text


def scheduled(s, seconds):
    """An article scheduled `seconds` from now with `kiji post new`; its id."""
    at = int(time.time()) + seconds
    md = s.tmp / ("soon-%d.md" % at)
    md.write_text("---\ntitle: 直後に公開\nstatus: scheduled\ndate: %s\nauthor: admin\n"
                  "---\n\n本文。\n" % time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                                   time.gmtime(at)), "utf-8")
    aid = int(s.cli("post", "new", str(md)).stdout.strip())
    md.unlink()
    return aid


def published(s, aid):
    deadline = time.monotonic() + JOB_WAIT
    while time.monotonic() < deadline:
        if s.sql("SELECT status FROM articles WHERE id = ?", (aid,))[0][0] == "published":
            return True
        time.sleep(0.2)
    return False


def comment_works(s):
    aid = tc.open_articles(s)[0]
    body = "hardened " + tc.mark()
    r = tc.post(Visitor(s), aid, body)
    assert r.status == 303, "comment: %d\n%s" % (r.status, r.text[:300])
    assert s.sql("SELECT COUNT(*) FROM comments WHERE body = ?", (body,))[0][0] == 1


# ---- --user ---------------------------------------------------------------------

def test_user_needs_root_and_an_unprivileged_user():
    s = site("harden-args")
    port = kiji.free_port()
    err = refused(serve(s.db, port, "--user", "no-such-user-kiji"))
    assert "no such user" in err, err
    if os.geteuid() != 0:
        err = refused(serve(s.db, port, "--user", "nobody"))
        assert "started as root" in err, err
        return skip("not root: --user itself cannot be tried")
    err = refused(serve(s.db, port, "--user", "root"))
    assert "unprivileged" in err, err
    sp = shutil.which("setpriv")
    assert sp, "no setpriv(1) (util-linux) to run kiji as nobody"
    err = refused(serve(s.db, port, "--user", "nobody", prefix=[
        sp, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]))
    assert "started as root" in err and "uid 65534" in err, err


@kiji.sqlite_only("the database file's owner and modes")
def test_user_refused_until_the_database_is_theirs_then_serves_as_them():
    if os.geteuid() != 0:
        return skip("not root")
    s = site("harden-user")
    db, d = str(s.db), str(s.tmp)
    port = kiji.free_port()
    os.chmod(d, 0o755)
    # everything root's: the directory is what SQLite needs first
    err = refused(serve(db, port, "--user", "nobody"))
    assert "directory %s cannot be written" % d in err and \
        "chown nobody %s" % d in err, "the refusal does not say what to chown:\n" + err
    # the directory given, the database still root's
    give([d], NOBODY)
    err = refused(serve(db, port, "--user", "nobody"))
    assert "cannot be written by this user (nobody" in err and \
        ("chown nobody %s" % db) in err and ("chmod u+rw %s" % db) in err, \
        "the refusal does not say what to chown and chmod:\n" + err
    # a -wal left behind by root counts too
    give([db], NOBODY)
    Path(db + "-wal").touch(0o600)
    os.chown(db + "-wal", 0, 0)
    err = refused(serve(db, port, "--user", "nobody"))
    assert db + "-wal" in err, "a root-owned -wal was not named:\n" + err
    os.unlink(db + "-wal")

    give([db, db + "-shm"], NOBODY)
    aid = scheduled(s, 3)  # written as root: the CLI runs before the chown
    give([db, db + "-wal", db + "-shm"], NOBODY)
    u = Serve(s, "--user", "nobody")
    try:
        st = u.status()
        gid = str(pwd.getpwnam("nobody").pw_gid)
        assert st["Uid"].split() == [str(NOBODY)] * 4, st["Uid"]
        assert st["Gid"].split() == [gid] * 4, st["Gid"]
        assert "0" not in st.get("Groups", "").split(), st["Groups"]
        assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0, st
        s.page("/")
        comment_works(s)
        assert published(s, aid), "the job runner (as nobody) did not publish %d\n%s" % (
            aid, u.log()[-2000:])
        s.page("/articles/%d" % aid)
        # every thread, not just the first: all started after the drop
        for t in u.tasks():
            assert u.status(t)["Uid"].split()[0] == str(NOBODY), t
    finally:
        log = u.stop()
    assert "serving" in log
    # what the server made beside the database is nobody's
    for p in (db, db + "-wal", db + "-shm"):
        if os.path.exists(p):
            assert os.stat(p).st_uid == NOBODY, p


# ---- the Landlock sandbox -------------------------------------------------------------

def probe_env(outside):
    """A file and a directory outside the sandbox that file modes alone
    would allow (0644 file, 0777 directory), plus what kiji must read."""
    secret = outside / "elsewhere.txt"
    secret.write_text("not kiji's\n")
    os.chmod(secret, 0o644)
    os.chmod(outside, 0o777)
    reads = [str(secret), "/usr/share/zoneinfo/UTC", "/etc/hosts"]
    if os.path.exists("/etc/ssl/certs/ca-certificates.crt"):
        reads.append("/etc/ssl/certs/ca-certificates.crt")
    return {"KIJI_TEST_PROBE_READ": ":".join(reads),
            "KIJI_TEST_PROBE_WRITE": str(outside / "written"),
            "KIJI_TEST_PROBE_RESOLVE": "localhost"}


@kiji.needs_hooks
def test_sandbox_confines_reads_and_writes_while_the_site_works():
    abi = landlock_abi()
    if not abi:
        return skip("this kernel has no Landlock (kiji serve warns and runs "
                    "unconfined there)")
    s = site("harden-sandbox")
    outside = Path(tempfile.mkdtemp(prefix="kiji-harden-out-"))
    try:
        env = probe_env(outside)
        aid = scheduled(s, 3)
        u = Serve(s, env=env)
        try:
            assert "sandbox: Landlock ABI %d" % abi in u.log(), u.log()
            p = u.probes()
            secret = env["KIJI_TEST_PROBE_READ"].split(":")[0]
            assert p.get("read " + secret) == "Permission denied", p
            assert p.get("write " + env["KIJI_TEST_PROBE_WRITE"]) == "Permission denied", p
            assert not (outside / "written").exists()
            for need in env["KIJI_TEST_PROBE_READ"].split(":")[1:]:
                assert p.get("read " + need) == "ok", (need, p)
            assert p.get("resolve localhost") == "ok", p
            # every thread was started inside it (Landlock and no_new_privs
            # go together, per thread)
            for t in u.tasks():
                assert u.status(t)["NoNewPrivs"].strip() == "1", t
            s.page("/")
            assert s.get("/feed").status == 200
            comment_works(s)
            assert published(s, aid), "the job runner did not publish %d in the " \
                "sandbox\n%s" % (aid, u.log()[-2000:])
            s.page("/articles/%d" % aid)
        finally:
            u.stop()

        # the same probes without it: the refusals above were Landlock's
        u = Serve(s, "--no-sandbox", env=env)
        try:
            p = u.probes()
            assert p.get("read " + secret) == "ok", p
            assert p.get("write " + env["KIJI_TEST_PROBE_WRITE"]) == "ok", p
            assert "sandbox: Landlock" not in u.log(), u.log()
            assert u.status()["NoNewPrivs"].strip() == "0"
        finally:
            u.stop()
    finally:
        shutil.rmtree(outside, ignore_errors=True)


@kiji.needs_hooks
def test_sandbox_with_user_and_theme():
    """--user and the sandbox together, with --theme read from its own
    directory: the theme is allowed, its neighbours are not."""
    if os.geteuid() != 0:
        return skip("not root")
    if not landlock_abi():
        return skip("this kernel has no Landlock")
    s = site("harden-theme")
    theme = Path(tempfile.mkdtemp(prefix="kiji-harden-theme-"))
    try:
        shutil.copytree(kiji.ROOT / "templates", theme / "templates")
        shutil.copytree(kiji.ROOT / "static", theme / "static")
        beside = Path(str(theme) + "-beside.txt")
        beside.write_text("x\n")
        os.chmod(beside, 0o644)
        for p in [theme] + list(theme.rglob("*")):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        give([s.tmp, s.db, str(s.db) + "-wal", str(s.db) + "-shm"], NOBODY)
        u = Serve(s, "--user", "nobody", "--theme", str(theme), env={
            "KIJI_TEST_PROBE_READ": "%s:%s" % (theme / "templates", beside)})
        try:
            p = u.probes()
            assert p.get("read %s" % beside) == "Permission denied", p
            assert p.get("read %s" % (theme / "templates")) == "ok", p
            s.page("/")
            comment_works(s)
        finally:
            u.stop()
            beside.unlink()
    finally:
        shutil.rmtree(theme, ignore_errors=True)
