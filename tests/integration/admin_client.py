"""A browser-like client for the editor area (/admin/), shared by the
admin integration tests: accounts made with `kiji user add
--password-stdin`, a cookie jar and client address (kiji.Visitor), the
same-origin header a browser sends with every POST, and the CSRF token
read from the page as a browser would submit it.

    ed = admin_client.Editor(srv, ip=kiji.next_ip())
    ed.login("alice", "password1234")       # asserts the 303
    page = ed.page("/admin/comments")        # asserts 200, text/html
    r = ed.submit("/admin/redirects", {"from": "/a", "to": "/b"})
"""

import re
import subprocess

import kiji
from kiji import Visitor

CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def add_user(srv, name, role, password, display_name=None):
    """`kiji user add NAME --role ROLE --password-stdin` on srv's database;
    returns the new user's id."""
    cmd = [str(kiji.kiji_bin()), "user", "add", name, "--role", role,
           "--password-stdin", "--db", str(srv.db)]
    if display_name:
        cmd += ["--display-name", display_name]
    r = subprocess.run(cmd, input=(password + "\n").encode(), capture_output=True,
                       timeout=60, cwd=kiji.ROOT)
    err = r.stderr.decode("utf-8", "replace")
    assert not kiji.sanitizer_lines(err), "sanitizer report from kiji user add:\n" + err
    assert r.returncode == 0, "kiji user add %s: exit %d\n%s" % (name, r.returncode, err)
    rows = srv.sql("SELECT id FROM users WHERE name = ?", (name,))
    assert rows, "kiji user add %s left no row" % name
    return rows[0][0]


_users = {}


def user(srv, role, tag=""):
    """A user of role on srv, made once per (server, role, tag):
    returns (name, password)."""
    key = (srv.name, role, tag)
    if key not in _users:
        name = ("%s%s%d" % (role, tag, len(_users) + 1))[:40]
        pw = "pw-%s-%s-long-enough" % (role, len(_users) + 1)
        add_user(srv, name, role, pw, display_name="表示 %s" % name)
        _users[key] = (name, pw)
    return _users[key]


class Editor(Visitor):
    """One browser: cookies, its own address (X-Forwarded-For; the server
    must trust 127.0.0.1 as a proxy) and Origin on every POST."""

    def __init__(self, srv, ip=None):
        super().__init__(srv, ip=ip or kiji.next_ip())
        self.csrf = None

    def post(self, path, fields=None, body=None, headers=None, origin=True):
        h = {}
        if origin:
            h["Origin"] = self.srv.origin
        h.update(headers or {})
        return super().post(path, fields=fields, body=body, headers=h)

    def login(self, name, password, expect=303):
        r = self.post("/admin/login", {"name": name, "password": password})
        assert r.status == expect, "login %s: %d, want %d\n%s" % (
            name, r.status, expect, r.text[:600])
        if expect == 303:
            assert r.header("location") == "/admin/", r.header("location")
            assert "kiji_s" in self.cookies, "no session cookie after login"
            self.token()
        return r

    def page(self, path, headers=None):
        r = self.get(path, headers)
        assert r.status == 200, "GET %s: %d\n%s" % (path, r.status, r.text[:600])
        assert r.content_type == "text/html", r.header("content-type")
        m = CSRF_RE.search(r.text)
        if m:
            self.csrf = m.group(1)
        return r

    def token(self):
        """The session's CSRF token, as the dashboard's forms carry it."""
        self.page("/admin/")
        assert self.csrf, "no csrf field on the dashboard"
        return self.csrf

    def submit(self, path, fields, **kw):
        """POST a form with the session's token (as the page's form would)."""
        f = {"csrf": self.csrf or self.token()}
        if isinstance(fields, dict):
            f.update(fields)
            items = list(f.items())
        else:
            items = [("csrf", f["csrf"])] + list(fields)
        from urllib.parse import urlencode
        return self.post(path, body=urlencode(items), headers={
            "Content-Type": "application/x-www-form-urlencoded"}, **kw)


def flash(r):
    """The text of the flash message on an admin page, or None."""
    m = re.search(r'<p class="flash" role="status">([^<]*)</p>', r.text)
    return m.group(1) if m else None


def form_error(r):
    m = re.search(r'<p class="form-error" role="alert">([^<]*)</p>', r.text)
    return m.group(1) if m else None
