"""kiji doctor (issue 17, item 7): a sound site gets OK lines and exit 0;
a bad mode, a wrong owner, a directory kiji cannot write, a corrupted
database, a time zone that does not load, a malformed base URL and a
proxy in front without http.trusted_proxies each get their FAIL line
with the fix, and exit 1. Warnings (plain http, a low open-file limit)
keep exit 0.

Sites are made with `kiji init` in temp dirs; the user kiji "runs as" is
given with --user (root runs these tests here: root is not bound by
modes, so the directory check is made for nobody, as --user nobody)."""

import os
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

import kiji

SQLITE_ONLY = "doctor's checks of SQLite files it makes itself (test_pg_cli checks it on PostgreSQL)"
import test_comments as tc

NOBODY = 65534


def me():
    import pwd
    return pwd.getpwuid(os.geteuid()).pw_name


def doctor(db, *args, preexec=None):
    """Runs kiji doctor; (exit status, {check: [(level, text, fix)]})."""
    cmd = [str(kiji.kiji_bin()), "doctor", "--db", str(db)] + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL, preexec_fn=preexec)
    assert not kiji.sanitizer_lines(r.stderr), r.stderr[-3000:]
    checks, last = {}, None
    for ln in r.stdout.splitlines():
        # "LEVEL NAME         text": level in 4 columns, name in 12
        if ln[:4].strip() in ("OK", "WARN", "FAIL") and ln[4] == " ":
            last = [ln[:4].strip(), ln[18:], ""]
            checks.setdefault(ln[5:17].strip(), []).append(last)
        elif ln.startswith("     fix: ") and last is not None:
            last[2] = ln[len("     fix: "):]
    assert r.stdout.splitlines()[-1] == "%d failed, %d warnings" % (
        sum(1 for v in checks.values() for x in v if x[0] == "FAIL"),
        sum(1 for v in checks.values() for x in v if x[0] == "WARN")), r.stdout
    return r.returncode, checks, r.stdout


def levels(checks, name):
    return [x[0] for x in checks.get(name, [])]


def fails(checks, name):
    return [x for x in checks.get(name, []) if x[0] == "FAIL"]


def site(base_url="https://news.example.org"):
    """A fresh site in its own temp dir (mode 0700), base_url set."""
    d = Path(tempfile.mkdtemp(prefix="kiji-doctor-"))
    db = d / "site.db"
    for args in (["init", "--db", str(db)],
                 ["config", "--db", str(db), "set", "site.base_url", base_url]):
        r = subprocess.run([str(kiji.kiji_bin())] + args, capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
    return d, db


def test_doctor_sound_site_is_all_ok():
    d, db = site()
    try:
        rc, c, out = doctor(db, "--user", me())
        assert rc == 0, out
        for name in ("files", "integrity", "durability", "time zone", "proxy", "base_url"):
            assert c.get(name) and set(levels(c, name)) == {"OK"}, "%s:\n%s" % (name, out)
        assert "quick_check: ok" in c["integrity"][0][1]
        assert "journal_mode wal, synchronous FULL" in c["durability"][0][1], out
        # doctor writes nothing: no -wal or -shm left beside a closed site
        assert sorted(p.name for p in d.iterdir()) == ["site.db"], list(d.iterdir())
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_doctor_world_readable_database_fails():
    d, db = site()
    try:
        os.chmod(db, 0o644)
        rc, c, out = doctor(db, "--user", me())
        assert rc == 1, out
        f = fails(c, "files")
        assert len(f) == 1 and "mode 0644" in f[0][1] and f[0][2] == "chmod 0600 %s" % db, out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_doctor_wrong_owner_and_unwritable_directory_fail():
    d, db = site()
    try:
        rc, c, out = doctor(db, "--user", "nobody")
        assert rc == 1, out
        f = fails(c, "files")
        assert any("owned by %s; kiji runs as nobody" % me() in x[1] and
                   x[2] == "chown nobody %s" % db for x in f), out
        assert any(x[1].startswith("directory %s: nobody cannot create" % d) for x in f), out
        if os.geteuid() == 0:
            # owned by nobody but the directory read-only: only that fails
            for p in (d, db):
                os.chown(p, NOBODY, NOBODY)
            os.chmod(d, 0o555)
            rc, c, out = doctor(db, "--user", "nobody")
            assert rc == 1, out
            f = fails(c, "files")
            assert len(f) == 1 and "nobody cannot create files" in f[0][1], out
            os.chmod(d, 0o700)
            rc, c, out = doctor(db, "--user", "nobody")
            assert not fails(c, "files"), out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_doctor_corrupted_database_fails_integrity():
    d, db = site()
    try:
        size = db.stat().st_size
        page = 4096
        assert size >= 8 * page, "site.db is only %d bytes" % size
        with open(db, "r+b") as f:  # overwrite b-tree pages past the schema
            f.seek(4 * page)
            f.write(b"\xa5" * (3 * page))
        rc, c, out = doctor(db, "--user", me())
        assert rc == 1, out
        f = fails(c, "integrity")
        assert len(f) == 1 and "quick_check" in f[0][1] and "restore" in f[0][2], out
        # a file that is no database at all
        db.write_bytes(b"not a database, just text\n" * 200)
        os.chmod(db, 0o600)
        rc, c, out = doctor(db, "--user", me())
        assert rc == 1 and "not a database" in fails(c, "integrity")[0][1], out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_doctor_missing_database_fails():
    rc, c, out = doctor("/nonexistent-kiji/site.db", "--user", me())
    assert rc == 1 and fails(c, "database"), out
    assert "kiji init --db /nonexistent-kiji/site.db" in fails(c, "database")[0][2]


def test_doctor_time_zone_that_does_not_load_fails():
    d, db = site()
    try:
        subprocess.run([str(kiji.kiji_bin()), "config", "--db", str(db), "set",
                        "site.timezone", "Asia/Atlantis"], check=True, capture_output=True,
                       timeout=60)
        rc, c, out = doctor(db, "--user", me())
        assert rc == 1 and 'site.timezone "Asia/Atlantis" does not load' in \
            fails(c, "time zone")[0][1], out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_doctor_base_url_checks():
    for url, level, says in (
            ("https://news.example.org/", "FAIL", "a trailing /"),
            ("https://news example.org", "FAIL", "spaces"),
            ("https://news.example.org:99999", "FAIL", "port"),
            ("https://user@news.example.org", "FAIL", "user name"),
            ("http://news.example.org", "WARN", "plain http"),
            ("http://127.0.0.1:8080", "WARN", "this machine"),
            ("https://news.example.org:8443/site", "OK", "site.base_url")):
        d, db = site(url)
        try:
            rc, c, out = doctor(db, "--user", me())
            got = c["base_url"][0]
            assert got[0] == level and says in got[1], "%s: %s" % (url, out)
            assert rc == (1 if level == "FAIL" else 0), out
        finally:
            shutil.rmtree(d, ignore_errors=True)


def test_doctor_low_open_file_limit_warns():
    d, db = site()
    try:
        def low():
            resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))
        rc, c, out = doctor(db, "--user", me(), preexec=low)
        if "this shell's hard limit" not in out:
            return print("  skip: a kiji unit is installed here; doctor reads its "
                         "LimitNOFILE instead")
        assert rc == 0 and levels(c, "open files") == ["WARN"], out
        assert "200" in c["open files"][0][1] and "10064" in c["open files"][0][1], out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_doctor_proxy_without_trusted_proxies_fails():
    """Found two ways: a proxy config naming kiji's address, and comments
    that all came from this machine (what kiji records for everyone when
    it does not believe the proxy)."""
    d, db = site()
    try:
        nginx_conf = kiji.ROOT / "contrib" / "nginx.conf"
        rc, c, out = doctor(db, "--user", me(), "--proxy-config", nginx_conf)
        assert rc == 1, out
        f = fails(c, "proxy")
        assert f and "proxies to 127.0.0.1:8080" in f[0][1] and \
            "http.trusted_proxies 127.0.0.1" in f[0][2], out
        rc, c, out = doctor(db, "--user", me(), "--proxy-config", nginx_conf,
                            "--listen", "127.0.0.1:9999")
        assert levels(c, "proxy") == ["OK"], out  # not kiji's address
        subprocess.run([str(kiji.kiji_bin()), "config", "--db", str(db), "set",
                        "http.trusted_proxies", "127.0.0.1"], check=True,
                       capture_output=True, timeout=60)
        rc, c, out = doctor(db, "--user", me(), "--proxy-config", nginx_conf)
        assert rc == 0 and levels(c, "proxy") == ["OK"], out
    finally:
        shutil.rmtree(d, ignore_errors=True)

    s = kiji.server("doctor", articles=3, comments=0, seed=23,
                    settings={"comments.rate_burst": "50"})
    aid = tc.open_articles(s)[0]
    for i in range(5):
        tc.new_comment(kiji.Visitor(s), aid, "loopback %d %s" % (i, tc.mark()))
    rc, c, out = doctor(s.db, "--user", me())
    f = fails(c, "proxy")
    assert rc == 1 and f and "the last 5 comments all came from this machine" in f[0][1], out
