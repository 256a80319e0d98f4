"""The command line on a postgresql:// site (issue 15): kiji init makes a
site in an empty database and refuses one that holds a site, a command on
a database without a site or that cannot be reached says so (exit 2 and
1), kiji doctor reports the server, the schema and synchronous_commit and
skips SQLite's file checks saying so, and no message shows the URL's
password. Runs only in the PostgreSQL pass (KIJI_TEST_PG)."""

import re
import subprocess

import kiji

PG_ONLY = "every check here is of a postgresql:// site"


def run(*args):
    r = subprocess.run([str(kiji.kiji_bin())] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL, cwd=kiji.ROOT)
    assert not kiji.sanitizer_lines(r.stderr), r.stderr[-3000:]
    return r


def with_password(url):
    """url with a password in its authority (trust auth ignores it)."""
    return re.sub(r"^(postgres(?:ql)?://[^@/:]+)@", r"\1:s3cr3tpw@", url)


def test_init_doctor_and_errors_on_postgresql():
    from pathlib import Path
    db = kiji.new_db(Path(kiji.scratch("kiji-pgcli-")))
    pw = with_password(str(db))
    assert pw != str(db), "no user in the test URL to put a password on"
    # no site yet: refused, nothing created
    r = run("config", "--db", pw, "list")
    assert r.returncode == 2 and "no kiji site" in r.stderr, r.stderr
    r = run("init", "--db", pw, "--title", "PG")
    assert r.returncode == 0, r.stderr
    r = run("init", "--db", pw)
    assert r.returncode == 2 and "already holds a kiji site" in r.stderr, r.stderr
    r = run("config", "--db", pw, "get", "site.title")
    assert r.returncode == 0 and r.stdout.strip() == "PG", (r.stdout, r.stderr)
    r = run("doctor", "--db", pw)
    out = r.stdout
    assert r.returncode == 0, out
    assert re.search(r"^OK   database .*PostgreSQL \d+", out, re.M), out
    assert re.search(r"^OK   schema +version \d+ \(this kiji's\)", out, re.M), out
    assert re.search(r"^OK   durability +synchronous_commit on$", out, re.M), out
    for check in ("files", "integrity", "disk"):
        assert re.search(r"^OK   %s +skipped" % check, out, re.M), out
    assert ":***@" in out
    # a database that is not there: exit 1, the password blanked
    gone = re.sub(r"/[^/?]+(\?|$)", r"/kiji_no_such_db\1", pw, count=1)
    r = run("post", "--db", gone, "list")
    assert r.returncode == 1 and "kiji_no_such_db" in r.stderr, r.stderr
    for out in (r.stderr, run("doctor", "--db", gone).stdout):
        assert "s3cr3tpw" not in out and ":***@" in out, out
