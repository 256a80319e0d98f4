"""Restarts without dropping readers (issue 17, item 5; README "Operating
kiji", Restarts): SIGTERM lets requests in flight finish, a second kiji
takes over while the first drains, and systemd hears READY, STOPPING and
the watchdog.

Each test runs its own `kiji serve` processes on a demo site built once
(kiji.server(..., start=False)), some on a listening socket made here and
passed as systemd passes it (LISTEN_FDS=1, LISTEN_PID set by the shell
that then execs kiji, the socket as descriptor 3), with NOTIFY_SOCKET a
datagram socket of the test's.

The load (Load) counts a request failed when it gets no complete 200.
One case is not a failure but a retry, counted apart: a request on a
kept-alive connection that the server closed before any byte of an
answer. HTTP/1.1 clients retry that request on a new connection (RFC
9112, 9.3.1; browsers and curl do), and it cannot be avoided by a server
that lets idle connections go; a fresh connection gets no such grace.
"""

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True

import kiji  # noqa: E402
import test_comments as tc  # noqa: E402
from urllib.parse import urlencode

EXIT_WAIT = 30.0   # s: a drain plus the rest of the stop, under ASan


# ---- processes ---------------------------------------------------------------------

class Proc:
    """One `kiji serve` of a test; stop() is SIGTERM and its exit status."""

    def __init__(self, db, args=(), env=None, listen_sock=None, tag="p"):
        self.tmp = (Path(kiji.scratch("kiji-restart-"))
                    if isinstance(db, kiji.PgUrl) else Path(db).parent)
        self.err_path = self.tmp / ("serve-%s-%d.stderr" % (tag, time.monotonic_ns()))
        cmd = [str(kiji.kiji_bin()), "serve", "--db", str(db)] + [str(a) for a in args]
        full_env = dict(os.environ)
        full_env.update(env or {})
        fds = ()
        if listen_sock is not None:
            # As systemd: the socket as descriptor 3, LISTEN_PID the pid
            # kiji will have (the shell's, which execs it).
            fd = listen_sock.fileno()
            # bash: dash takes only one-digit descriptors in a
            # redirection, and inside the whole suite fd is often >9.
            move = "" if fd == 3 else "exec 3<&%d %d<&-; " % (fd, fd)
            cmd = ["/bin/bash", "-c", move + 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"',
                   "bash"] + cmd
            fds = (fd,)
        err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=kiji.ROOT, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=err,
                                     env=full_env, pass_fds=fds)
        err.close()

    def stderr(self):
        return self.err_path.read_text("utf-8", "replace")

    def wait_serving(self, timeout=kiji.START_TIMEOUT):
        """Until the "serving" line (the server is up, READY=1 follows)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if "kiji: serving " in self.stderr():
                return self
            assert self.proc.poll() is None, "kiji serve exited (%s):\n%s" % (
                self.proc.returncode, self.stderr()[-3000:])
            time.sleep(0.05)
        raise AssertionError("kiji serve not serving after %.0f s:\n%s" % (
            timeout, self.stderr()[-3000:]))

    def term(self):
        self.proc.send_signal(signal.SIGTERM)

    def wait_exit(self):
        """The exit status after SIGTERM, with no sanitizer report."""
        try:
            rc = self.proc.wait(timeout=EXIT_WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError("kiji serve still running %.0f s after SIGTERM:\n%s" % (
                EXIT_WAIT, self.stderr()[-3000:]))
        bad = kiji.sanitizer_lines(self.stderr())
        assert not bad, "sanitizer report:\n%s" % self.stderr()[-6000:]
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Notes:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET; what it
    receives, in order."""

    def __init__(self, directory):
        self.path = str(Path(directory) / ("notify-%d.sock" % time.monotonic_ns()))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.msgs = []
        self._stop = False
        self._th = threading.Thread(target=self._run, daemon=True)
        self._th.start()

    def _run(self):
        while not self._stop:
            try:
                self.msgs.append(self.sock.recv(4096).decode("utf-8", "replace"))
            except socket.timeout:
                continue
            except OSError:
                return

    def fields(self):
        """Each message as a list of its KEY=VALUE lines."""
        return [m.split("\n") for m in list(self.msgs)]

    def first(self, line):
        """Index of the first message holding line, or -1."""
        for i, f in enumerate(self.fields()):
            if line in f:
                return i
        return -1

    def count(self, line):
        return sum(1 for f in self.fields() if line in f)

    def wait_for(self, line, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.first(line) < 0:
            time.sleep(0.02)
        return self.first(line) >= 0

    def close(self):
        self._stop = True
        self._th.join(timeout=5)
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def listen_socket():
    """A listening TCP socket on a free loopback port, as kiji.socket
    would make (Backlog= defaults to SOMAXCONN)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(4096)
    return s


# ---- load ------------------------------------------------------------------------------

class Load:
    """Threads sending GETs until stopped (at most max_requests, max_s),
    half over kept-alive connections, half each on a fresh one."""

    def __init__(self, port, paths, threads=4, max_requests=3000, max_s=90.0, pause=0.004):
        self.port = port
        self.paths = paths
        self.max_requests = max_requests
        self.max_s = max_s
        self.pause = pause
        self.lock = threading.Lock()
        self.sent = 0
        self.ok = 0
        self.retried = 0
        self.failures = []
        self.closes = 0     # answers with Connection: close (a drain)
        self._stop = threading.Event()
        self._ths = [threading.Thread(target=self._run, args=(i,), daemon=True)
                     for i in range(threads)]

    def start(self):
        self.t0 = time.monotonic()
        for t in self._ths:
            t.start()
        return self

    def _take(self):
        with self.lock:
            if (self._stop.is_set() or self.sent >= self.max_requests
                    or time.monotonic() - self.t0 > self.max_s):
                return False
            self.sent += 1
            return True

    def _once(self, conn, path):
        """One request on conn; the response, or raises."""
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        r = conn.getresponse()
        body = r.read()
        return r, body

    def _check(self, r, body, path):
        if r.status != 200 or not body:
            return "GET %s: status %d, %d bytes" % (path, r.status, len(body))
        return None

    def _run(self, i):
        keep = i % 2 == 0
        conn, used = None, 0
        k = 0
        while self._take():
            path = self.paths[(i * 7 + k) % len(self.paths)]
            k += 1
            err = None
            try:
                if conn is None or not keep:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    used = 0
                try:
                    r, body = self._once(conn, path)
                except (http.client.RemoteDisconnected, ConnectionResetError,
                        BrokenPipeError, ConnectionAbortedError) as e:
                    if not (keep and used > 0):
                        raise
                    # closed before any answer, on a reused connection:
                    # the client's retry, on a new one
                    with self.lock:
                        self.retried += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    used = 0
                    r, body = self._once(conn, path)
                used += 1
                err = self._check(r, body, path)
                if r.getheader("Connection", "").lower() == "close":
                    with self.lock:
                        self.closes += 1
                    conn.close()
                    conn = None
                elif not keep:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                err = "GET %s (%s connection): %r" % (path, "kept-alive" if keep and used
                                                      else "fresh", e)
                if conn is not None:
                    conn.close()
                conn = None
            with self.lock:
                if err is None:
                    self.ok += 1
                else:
                    self.failures.append(err)
            time.sleep(self.pause)
        if conn is not None:
            conn.close()

    def stop(self):
        self._stop.set()
        for t in self._ths:
            t.join(timeout=60)
        return self

    def summary(self):
        return "%d requests: %d ok, %d failed, %d retried after an idle close, %d told " \
               "Connection: close" % (self.sent, self.ok, len(self.failures), self.retried,
                                      self.closes)


def site():
    return kiji.server("restart", start=False, articles=12, comments=3, seed=17,
                       settings={"comments.rate_per_minute": "0",
                                 "http.trusted_proxies": "127.0.0.1"})


def paths_of(s):
    ids = tc.open_articles(s)
    return ["/"] + ["/articles/%d" % a for a in ids[:6]] + ["/feed"]


def wait_answering(port, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            kiji.request_port(port, "GET", "/", timeout=2)
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
    raise AssertionError("nothing answers on port %d" % port)


# ---- tests --------------------------------------------------------------------------------

def test_sigterm_finishes_requests_in_flight_and_says_so_to_systemd():
    """Requests under way at SIGTERM are answered in full (Connection:
    close), a comment posted during the drain is in the database, an idle
    kept-alive connection is let go, the exit status is 0; systemd hears
    READY=1, WATCHDOG=1 (WATCHDOG_USEC small) and STOPPING=1 in order."""
    s = site()
    port = kiji.free_port()
    notes = Notes(s.tmp)
    p = Proc(s.db, ["--listen", "127.0.0.1:%d" % port, "--drain-timeout", "20"],
             env={"NOTIFY_SOCKET": notes.path, "WATCHDOG_USEC": "200000"}, tag="drain")
    try:
        p.wait_serving()
        wait_answering(port)
        assert notes.wait_for("READY=1"), "no READY=1: %r\n%s" % (notes.msgs, p.stderr())
        time.sleep(0.5)
        assert notes.count("WATCHDOG=1") >= 2, "WATCHDOG_USEC=200000: %r" % notes.msgs

        # A comment whose body is half sent when SIGTERM comes.
        aid = tc.open_articles(s)[0]
        page = kiji.request_port(port, "GET", "/articles/%d" % aid)
        token = page.doc.select_one("form#comment-form input[name=token]").get("value")
        word = tc.mark()
        body = urlencode({"nickname": "drain", "body": "during the drain " + word,
                          "parent": "0", "token": token, "url": "", "opened": ""}).encode()
        post = socket.create_connection(("127.0.0.1", port), timeout=30)
        post.sendall(("POST /articles/%d/comments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\n"
                      "Content-Length: %d\r\n\r\n" % (aid, len(body))).encode()
                     + body[:10])
        # A head half sent, and a connection kept alive after an answer.
        head = socket.create_connection(("127.0.0.1", port), timeout=30)
        head.sendall(b"GET /feed HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        idle = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        idle.request("GET", "/")
        r = idle.getresponse()
        assert r.status == 200 and r.read()
        time.sleep(0.3)

        p.term()
        assert notes.wait_for("STOPPING=1"), "no STOPPING=1: %r" % notes.msgs
        # the idle connection is let go at once
        idle.sock.settimeout(5)
        assert idle.sock.recv(1) == b"", "an idle kept-alive connection was not closed"
        idle.close()
        time.sleep(0.5)  # still in flight, well after SIGTERM
        assert p.proc.poll() is None, "exited with requests in flight:\n%s" % p.stderr()

        post.sendall(body[10:])
        resp = http.client.HTTPResponse(post)
        resp.begin()
        resp.read()
        assert resp.status == 303, "comment during the drain: %d" % resp.status
        assert resp.getheader("Connection", "").lower() == "close", resp.getheaders()
        loc = resp.getheader("Location") or ""
        cid = int(loc.rsplit("#comment-", 1)[1])
        post.close()

        head.sendall(b"\r\n")
        resp = http.client.HTTPResponse(head)
        resp.begin()
        data = resp.read()
        assert resp.status == 200 and b"<rss" in data, "/feed during the drain: %d" % resp.status
        assert resp.getheader("Connection", "").lower() == "close"
        head.close()

        rc = p.wait_exit()
        assert rc == 0, "exit status %s after SIGTERM\n%s" % (rc, p.stderr())
        err = p.stderr()
        assert "SIGTERM, stopping: finishing" in err, err
        assert "still open" not in err, err
        rows = s.sql("SELECT body FROM comments WHERE id = ?", (cid,))
        assert rows and word in rows[0][0], "the comment answered 303 during the drain is not stored"
        ready, stopping = notes.first("READY=1"), notes.first("STOPPING=1")
        assert 0 <= ready < stopping, "READY=1 then STOPPING=1: %r" % notes.msgs
        assert any(ln.startswith("STATUS=") for f in notes.fields() for ln in f), notes.msgs
    finally:
        p.kill()
        notes.close()


def test_drain_timeout_bounds_the_stop():
    """A request that never completes holds the stop only --drain-timeout
    seconds; the exit is still 0."""
    s = site()
    port = kiji.free_port()
    p = Proc(s.db, ["--listen", "127.0.0.1:%d" % port, "--drain-timeout", "1"], tag="bound")
    try:
        p.wait_serving()
        wait_answering(port)
        stuck = socket.create_connection(("127.0.0.1", port), timeout=30)
        stuck.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.2)
        p.term()
        assert p.wait_exit() == 0, p.stderr()
        assert "1 connections still open after 1 s; closing them" in p.stderr(), p.stderr()
        stuck.close()
    finally:
        p.kill()


def test_restart_under_load_with_socket_activation_fails_no_request():
    """systemctl restart with kiji.socket: the socket stays open (here, in
    the test, as in systemd), the old kiji drains and exits, a new one is
    started on the same socket; connections made meanwhile wait in its
    queue. No request fails."""
    s = site()
    ls = listen_socket()
    port = ls.getsockname()[1]
    notes = Notes(s.tmp)
    env = {"NOTIFY_SOCKET": notes.path}
    a = Proc(s.db, ["--listen", "127.0.0.1:1"], env=env, listen_sock=ls, tag="sa1")
    b = None
    load = None
    try:
        a.wait_serving()
        assert "on http://127.0.0.1:%d " % port in a.stderr(), \
            "not serving the passed socket:\n%s" % a.stderr()
        load = Load(port, paths_of(s)).start()
        time.sleep(1.0)
        a.term()
        assert a.wait_exit() == 0, a.stderr()
        b = Proc(s.db, [], env=env, listen_sock=ls, tag="sa2").wait_serving()
        time.sleep(1.0)
        load.stop()
        print("  socket activation restart: %s" % load.summary())
        assert load.ok > 100, load.summary()
        assert not load.failures, "%s\n%s" % (load.summary(), "\n".join(load.failures[:10]))
        b.term()
        assert b.wait_exit() == 0, b.stderr()
        assert notes.count("READY=1") == 2 and notes.count("STOPPING=1") == 2, notes.msgs
    finally:
        if load is not None:
            load.stop()
        a.kill()
        if b is not None:
            b.kill()
        ls.close()
        notes.close()


def test_socket_activation_refuses_what_is_not_a_tcp_listener():
    s = site()
    for kind in ("udp", "unbound"):
        if kind == "udp":
            sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sk.bind(("127.0.0.1", 0))
        else:
            sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        p = Proc(s.db, [], listen_sock=sk, tag="bad-" + kind)
        try:
            rc = p.proc.wait(timeout=30)
            assert rc == 1, "%s socket: exit %s\n%s" % (kind, rc, p.stderr())
            assert "not a listening TCP socket" in p.stderr(), p.stderr()
        finally:
            p.kill()
            sk.close()


def test_takeover_refused_without_flag_then_shares_the_port():
    """A second kiji on a port in use is refused unless --takeover; with
    it, both serve until the first is stopped."""
    s = site()
    port = kiji.free_port()
    listen = "127.0.0.1:%d" % port
    a = Proc(s.db, ["--listen", listen], tag="own")
    b = c = None
    try:
        a.wait_serving()
        b = Proc(s.db, ["--listen", listen], tag="refused")
        assert b.proc.wait(timeout=30) == 1, b.stderr()
        assert "in use by another server" in b.stderr() and "--takeover" in b.stderr(), \
            b.stderr()
        c = Proc(s.db, ["--listen", listen, "--takeover"], tag="takeover").wait_serving()
        a.term()
        assert a.wait_exit() == 0, a.stderr()
        r = kiji.request_port(port, "GET", "/")
        assert r.status == 200
        c.term()
        assert c.wait_exit() == 0, c.stderr()
    finally:
        for p in (a, b, c):
            if p is not None:
                p.kill()


def test_socket_activation_with_user_and_sandbox():
    """Started as root with a passed socket, --user nobody and the
    sandbox: it serves the socket as nobody, and its notifications reach
    a NOTIFY_SOCKET path from inside the sandbox."""
    if os.geteuid() != 0:
        print("  skip: not root (--user needs it)")
        return
    s = kiji.server("restart-user", start=False, articles=4, comments=1, seed=19)
    for path in (s.tmp, s.db, str(s.db) + "-wal", str(s.db) + "-shm"):
        if os.path.exists(path):
            os.chown(path, 65534, 65534)
    ls = listen_socket()
    port = ls.getsockname()[1]
    notes = Notes(s.tmp)
    os.chmod(notes.path, 0o666)  # as systemd's own
    p = Proc(s.db, ["--user", "nobody"], env={"NOTIFY_SOCKET": notes.path},
             listen_sock=ls, tag="user")
    try:
        p.wait_serving()
        err = p.stderr()
        assert "kiji: sandbox: Landlock" in err or "no sandbox" in err, err
        r = kiji.request_port(port, "GET", "/")
        assert r.status == 200, r.status
        status = Path("/proc/%d/status" % p.proc.pid).read_text()
        uids = [ln.split()[1:] for ln in status.splitlines() if ln.startswith("Uid:")][0]
        assert uids == ["65534"] * 4, "not running as nobody: %r" % uids
        assert notes.wait_for("READY=1"), "no READY=1 from the sandbox: %r\n%s" % (
            notes.msgs, p.stderr())
        p.term()
        assert p.wait_exit() == 0, p.stderr()
        assert notes.wait_for("STOPPING=1"), notes.msgs
    finally:
        p.kill()
        ls.close()
        notes.close()


def takeover_under_load(db, paths):
    """A kiji serving under load, a second one started with --takeover on
    its port, the first stopped: the load's summary."""
    port = kiji.free_port()
    listen = "127.0.0.1:%d" % port
    a = Proc(db, ["--listen", listen], tag="old")
    b = None
    load = None
    try:
        a.wait_serving()
        wait_answering(port)
        load = Load(port, paths).start()
        time.sleep(1.0)
        b = Proc(db, ["--listen", listen, "--takeover"], tag="new").wait_serving()
        time.sleep(0.3)
        a.term()
        assert a.wait_exit() == 0, a.stderr()
        time.sleep(1.0)
        load.stop()
        b.term()
        assert b.wait_exit() == 0, b.stderr()
        return load
    finally:
        if load is not None:
            load.stop()
        for p in (a, b):
            if p is not None:
                p.kill()


@kiji.sqlite_only("kiji runs in a network namespace of its own, where the test cluster on 127.0.0.1 cannot be reached")
def test_restart_under_load_with_so_reuseport_takeover_fails_no_request():
    """kiji serve --takeover beside a kiji under load, which is then
    stopped: no request fails. Run in a network namespace of its own with
    net.ipv4.tcp_migrate_req=1 (what the Debian package sets): without it
    a connection the kernel has queued on the old socket when it closes is
    reset (kiji takes what is queued just before closing, which leaves
    that to a few microseconds; README, Restarts, has the measurements)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        print("  skip: a network namespace needs root, unshare(1) and ip(8)")
        return
    s = site()
    script = ("ip link set lo up && echo 1 > /proc/sys/net/ipv4/tcp_migrate_req && "
              "exec \"$@\"")
    env = dict(os.environ)
    env["KIJI_BIN"] = str(kiji.kiji_bin())
    r = subprocess.run(["unshare", "--net", "sh", "-c", script, "sh", sys.executable,
                        str(Path(__file__)), "takeover", str(s.db)] + paths_of(s),
                       cwd=kiji.ROOT, env=env, capture_output=True, timeout=110)
    out = r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")
    assert r.returncode == 0, "takeover in a namespace: exit %d\n%s" % (r.returncode, out[-4000:])
    print("  " + out.strip().splitlines()[-1])


if __name__ == "__main__":
    # The namespace side of the test above: python3 test_restart.py
    # takeover DB PATH...
    import sys as _sys
    _sys.dont_write_bytecode = True
    load = takeover_under_load(_sys.argv[2], _sys.argv[3:])
    if load.failures or load.ok < 100:
        print("\n".join(load.failures[:10]))
        print("SO_REUSEPORT takeover: %s" % load.summary())
        _sys.exit(1)
    print("SO_REUSEPORT takeover (tcp_migrate_req=1): %s" % load.summary())
