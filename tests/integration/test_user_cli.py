"""`kiji user`: add (password from stdin, or asked twice without echo on
a terminal), list, passwd (ends sessions: cred_epoch grows), role,
disable/enable; bad names, roles, e-mails and passwords refused with exit
status 2 and nothing written; and the admin account `kiji demo` makes."""

import os
import re
import select
import subprocess
import time

import kiji

PTY_TIMEOUT = 30.0


def srv():
    return kiji.server("usercli", start=False, articles=3, comments=1, seed=3)


def run(s, *args, stdin=None, db_last=False):
    """kiji ARGS with --db (after the subcommand, or last), stdin bytes;
    CompletedProcess with text output. Sanitizer reports fail the test."""
    rest = [str(a) for a in args[1:]]
    db = ["--db", str(s.db)]
    cmd = [str(kiji.kiji_bin()), args[0]] + (rest + db if db_last else db + rest)
    r = subprocess.run(cmd, cwd=kiji.ROOT, input=stdin if stdin is not None else b"",
                       capture_output=True, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    assert not kiji.sanitizer_lines(err), "sanitizer report from %s:\n%s" % (cmd, err)
    return subprocess.CompletedProcess(cmd, r.returncode, out, err)


def users(s):
    """name -> (role, display, email, state) from `kiji user list`."""
    r = run(s, "user", "list")
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        assert len(f) == 5, "list line %r has %d fields, want 5" % (line, len(f))
        out[f[0]] = tuple(f[1:])
    return out


def row(s, name):
    rows = s.sql("SELECT * FROM users WHERE name = ?", (name,))
    return dict(rows[0]) if rows else None


def test_add_with_password_stdin_and_list():
    s = srv()
    r = run(s, "user", "add", "kisha", "--role", "author", "--display-name", "記者 太郎",
            "--email", "kisha@example.jp", "--password-stdin", stdin=b"tokudane-2026\n")
    assert r.returncode == 0, r.stderr
    u = row(s, "kisha")
    assert u is not None
    assert u["role"] == "author" and u["display_name"] == "記者 太郎"
    assert u["email"] == "kisha@example.jp" and u["disabled"] == 0
    assert u["pass_hash"].startswith("$argon2id$v=19$m=65536,t=2,p=1$"), u["pass_hash"]
    assert "tokudane" not in u["pass_hash"]
    assert users(s)["kisha"] == ("author", "記者 太郎", "kisha@example.jp", "active")
    # --db may come after the verb; the display name defaults to the login
    r = run(s, "user", "add", "desk2", "--role", "editor", "--password-stdin",
            stdin=b"another long one\r\n", db_last=True)
    assert r.returncode == 0, r.stderr
    assert users(s)["desk2"] == ("editor", "desk2", "-", "active")
    # already there: refused, exit 1, nothing changed
    before = row(s, "kisha")
    r = run(s, "user", "add", "kisha", "--role", "admin", "--password-stdin",
            stdin=b"tokudane-2027\n")
    assert r.returncode == 1 and "exists" in r.stderr, (r.returncode, r.stderr)
    assert row(s, "kisha") == before


def test_bad_values_exit_2_and_write_nothing():
    s = srv()
    count = len(s.sql("SELECT id FROM users"))
    cases = [
        (["Kisha", "--role", "author"], b"long enough pw\n", "name"),
        (["ki sha", "--role", "author"], b"long enough pw\n", "name"),
        (["a" * 41, "--role", "author"], b"long enough pw\n", "name"),
        (["kisha3", "--role", "root"], b"long enough pw\n", "role"),
        (["kisha3", "--role", "Admin"], b"long enough pw\n", "role"),
        (["kisha3"], b"long enough pw\n", "role"),
        (["kisha3", "--role", "author", "--email", "not-mail"], b"long enough pw\n", "e-mail"),
        (["kisha3", "--role", "author"], b"short\n", "password"),
        (["kisha3", "--role", "author"], b"\n", "password"),
        (["kisha3", "--role", "author"], b"x" * 1100 + b"\n", "password"),
        (["kisha3", "--role", "author"], b"bad \xff utf-8 pass\n", "password"),
        (["kisha3", "--role", "author", "--display-name", "a\tb"], b"long enough pw\n",
         "display"),
    ]
    for args, pw, what in cases:
        r = run(s, "user", "add", *args, "--password-stdin", stdin=pw)
        assert r.returncode == 2, "%s: exit %d, want 2\n%s" % (args, r.returncode, r.stderr)
        assert what in r.stderr, "%s: message does not name the %s: %r" % (args, what, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    # no --password-stdin and stdin is not a terminal: refused, not hung
    r = run(s, "user", "add", "kisha4", "--role", "author", stdin=b"long enough pw\n")
    assert r.returncode == 2 and "terminal" in r.stderr, (r.returncode, r.stderr)
    r = run(s, "user", "passwd", "admin", stdin=b"long enough pw\n")
    assert r.returncode == 2 and "terminal" in r.stderr, (r.returncode, r.stderr)
    for args in (["frobnicate"], ["list", "extra"], ["passwd"], ["role", "admin"],
                 ["role", "admin", "overlord"], ["add", "x", "--role"], ["--nope", "list"]):
        r = run(s, "user", *args)
        assert r.returncode == 2, "%s: exit %d, want 2" % (args, r.returncode)
    assert len(s.sql("SELECT id FROM users")) == count


def test_passwd_bumps_cred_epoch():
    s = srv()
    if row(s, "henshu") is None:
        r = run(s, "user", "add", "henshu", "--role", "editor", "--password-stdin",
                stdin=b"first password\n")
        assert r.returncode == 0, r.stderr
    u0 = row(s, "henshu")
    r = run(s, "user", "passwd", "henshu", "--password-stdin", stdin=b"second password\n")
    assert r.returncode == 0, r.stderr
    u1 = row(s, "henshu")
    assert u1["cred_epoch"] == u0["cred_epoch"] + 1
    assert u1["pass_hash"] != u0["pass_hash"]
    assert u1["pass_hash"].startswith("$argon2id$")
    # a refused new password changes nothing
    r = run(s, "user", "passwd", "henshu", "--password-stdin", stdin=b"short\n")
    assert r.returncode == 2
    assert row(s, "henshu") == u1
    r = run(s, "user", "passwd", "nobody", "--password-stdin", stdin=b"long enough pw\n")
    assert r.returncode == 1 and "no such user" in r.stderr, (r.returncode, r.stderr)


def test_role_disable_enable():
    s = srv()
    if row(s, "tsuushin") is None:
        r = run(s, "user", "add", "tsuushin", "--role", "author", "--password-stdin",
                stdin=b"wire service!\n")
        assert r.returncode == 0, r.stderr
    e0 = row(s, "tsuushin")["cred_epoch"]
    assert run(s, "user", "role", "tsuushin", "editor").returncode == 0
    assert users(s)["tsuushin"][0] == "editor"
    assert run(s, "user", "disable", "tsuushin").returncode == 0
    u = row(s, "tsuushin")
    assert u["disabled"] == 1 and u["cred_epoch"] == e0 + 1  # sessions end
    assert users(s)["tsuushin"][3] == "disabled"
    assert run(s, "user", "enable", "tsuushin").returncode == 0
    u = row(s, "tsuushin")
    assert u["disabled"] == 0 and u["cred_epoch"] == e0 + 1
    assert run(s, "user", "disable", "nobody").returncode == 1


def _read_until(fd, want, buf):
    deadline = time.monotonic() + PTY_TIMEOUT
    while want not in buf and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


def _pty_add(s, name, first, second):
    master, slave = os.openpty()
    cmd = [str(kiji.kiji_bin()), "user", "add", name, "--role", "author", "--db", str(s.db)]
    p = subprocess.Popen(cmd, cwd=kiji.ROOT, stdin=slave, stdout=slave, stderr=slave,
                         close_fds=True, start_new_session=True)
    os.close(slave)
    out = b""
    try:
        out = _read_until(master, b"New password: ", out)
        assert b"New password: " in out, out
        os.write(master, first + b"\n")
        out = _read_until(master, b"Again: ", out)
        assert b"Again: " in out, out
        os.write(master, second + b"\n")
        p.wait(timeout=PTY_TIMEOUT)
        try:
            while True:
                r, _, _ = select.select([master], [], [], 0.2)
                if not r:
                    break
                chunk = os.read(master, 4096)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    return p.returncode, out.decode("utf-8", "replace")


def test_terminal_prompt_twice_without_echo():
    s = srv()
    rc, out = _pty_add(s, "tty1", b"typed-on-a-tty", b"typed-on-a-tty")
    assert rc == 0, out
    assert "typed-on-a-tty" not in out, "the password was echoed: %r" % out
    assert row(s, "tty1")["pass_hash"].startswith("$argon2id$")
    rc, out = _pty_add(s, "tty2", b"typed-on-a-tty", b"typed-on-a-ttY")
    assert rc == 2 and "differ" in out, (rc, out)
    assert row(s, "tty2") is None


def test_demo_makes_an_admin_with_a_random_password():
    s = srv()
    db = s.tmp / "demo2.db"
    outs = []
    for i in range(2):
        p = db.with_name("demo%d.db" % (i + 2))
        r = subprocess.run([str(kiji.kiji_bin()), "demo", "--db", str(p), "--articles", "2",
                            "--comments", "0"], cwd=kiji.ROOT, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=120)
        err = r.stderr.decode("utf-8", "replace")
        assert r.returncode == 0 and not kiji.sanitizer_lines(err), err
        lines = [ln for ln in err.splitlines() if ln.startswith("admin: ")]
        assert len(lines) == 1, err
        m = re.fullmatch(r"admin: http://127\.0\.0\.1:8080/admin/ user admin password "
                         r"([a-km-zA-HJ-NP-Z2-9]{16})", lines[0])
        assert m, lines[0]
        assert m.group(1) not in r.stdout.decode(), "password on stdout"
        outs.append(m.group(1))
        con = subprocess.run([str(kiji.kiji_bin()), "user", "--db", str(p), "list"],
                             capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        listed = dict(ln.split("\t", 1) for ln in con.stdout.decode().splitlines())
        assert listed.get("admin", "").startswith("admin\t"), listed
    assert outs[0] != outs[1], "two demos printed the same password"
