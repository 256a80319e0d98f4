"""The editor area's gate over real HTTP (issue 11 items 2, 3, 4, 11): login
with one generic failure message, throttling per account+address and per
address (429 + Retry-After; another address still logs in), the session
cookie (random, stored hashed, HttpOnly, SameSite=Lax, Secure on https),
idle and absolute expiry (injected clock), logout, "log out everywhere"
on a password change or disable, CSRF and same-origin refusals that
change nothing, every role limit, and no-store on every admin answer.

Servers of their own (kiji.server):
  "admin": http.trusted_proxies=127.0.0.1, so each Editor sends its own
      X-Forwarded-For address (throttling is per address);
  "admin-clock": the same with KIJI_TEST_CLOCK_FILE, session idle 5 min
      and absolute 1 h, for expiry;
  "admin-https": site.base_url https://..., for the Secure cookie."""

import hashlib
import re
import time

import kiji
from admin_client import Editor, add_user, flash, form_error, user

GENERIC = "ユーザー名またはパスワードが違います。"


def srv():
    return kiji.server("admin", articles=12, comments=3, seed=11,
                       settings={"http.trusted_proxies": "127.0.0.1"})


_clock = {}


def clock_srv():
    s = _clock.get("srv")
    if s is None:
        s = kiji.Server("admin-clock", articles=4, comments=1, seed=12,
                        settings={"http.trusted_proxies": "127.0.0.1",
                                  "admin.session_idle_minutes": "5",
                                  "admin.session_max_hours": "1"})
        s.clock = s.tmp / "clock"
        s.clock.write_text("0")
        s.env = {"KIJI_TEST_CLOCK_FILE": str(s.clock)}
        kiji._servers[s.name] = s
        s.build()
        s.start()
        _clock["srv"] = s
    return s


def set_clock(s, offset):
    """Moves the server's clock offset; it re-reads the file when 100 ms
    have passed since its last read, so wait that long once."""
    s.clock.write_text(str(int(offset)))
    time.sleep(0.25)


def cookie_attrs(r, name):
    for k, v in r.header_list:
        if k.lower() == "set-cookie" and v.startswith(name + "="):
            parts = [p.strip() for p in v.split(";")]
            return parts[0].split("=", 1)[1], [p.lower() for p in parts[1:]]
    return None, None


def logged_in(ed):
    r = ed.get("/admin/")
    return r.status == 200


# ---- login -------------------------------------------------------------------------------

def test_login_right_password():
    s = srv()
    name, pw = user(s, "editor")
    ed = Editor(s)
    r = ed.login(name, pw)
    sid, attrs = cookie_attrs(r, "kiji_s")
    assert sid and re.fullmatch(r"[A-Za-z0-9_-]{43}", sid), "session id %r is not 256 bits" % sid
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs, attrs
    assert "secure" not in attrs, "Secure on an http site: %s" % attrs
    d = ed.page("/admin/")
    assert "表示 %s" % name in d.text, "dashboard does not name the user"
    # Stored hashed, never as sent.
    rows = s.sql("SELECT id_hash FROM sessions")
    hashes = [r[0] for r in rows]
    assert hashlib.sha256(sid.encode()).hexdigest() in hashes, "no SHA-256 of the id stored"
    assert sid not in hashes and not any(sid in (h or "") for h in hashes)
    # The login form page of a logged-in user goes to the dashboard.
    r = ed.get("/admin/login")
    assert r.status == 303 and r.header("location") == "/admin/"


def test_login_wrong_password_is_generic():
    s = srv()
    name, pw = user(s, "editor")
    answers = []
    for n, p in ((name, pw + "x"), ("nobody-here", pw), ("", ""), (name.upper(), pw),
                 (name, "")):
        ed = Editor(s)
        r = ed.post("/admin/login", {"name": n, "password": p})
        assert r.status == 200, "failed login %r: %d" % (n, r.status)
        assert "kiji_s" not in ed.cookies, "a failed login set a session cookie"
        assert form_error(r) == GENERIC, "message %r" % form_error(r)
        answers.append(re.sub(r'value="[^"]*"', "", r.text))
    # Unknown user and wrong password give the same page (bar the typed
    # name, which the form keeps).
    assert len(set(answers)) == 1, "failure pages differ"


def test_login_form_is_plain_html():
    s = srv()
    r = Editor(s).page("/admin/login")
    d = r.doc
    names = {i.get("name") for i in d.select("input")}
    assert {"name", "password"} <= names, names
    form = d.select("form")[0]
    assert form.get("method") == "post" and form.get("action") == "/admin/login"
    assert "<style" not in r.text and " style=" not in r.text and " onclick" not in r.text
    for sc in d.select("script"):
        assert sc.get("src"), "inline script on the login page"
    assert "content-security-policy" in r.headers


# ---- throttling -------------------------------------------------------------------------

def test_throttle_account_and_address():
    s = srv()
    name, pw = user(s, "editor", "thr")
    attacker = kiji.next_ip()
    for i in range(5):
        r = Editor(s, ip=attacker).post("/admin/login", {"name": name, "password": "guess%d" % i})
        assert r.status == 200, "failure %d answered %d" % (i + 1, r.status)
    # The sixth try waits, even with the right password: no hash is checked.
    ed = Editor(s, ip=attacker)
    r = ed.post("/admin/login", {"name": name, "password": pw})
    assert r.status == 429, "6th attempt: %d, want 429" % r.status
    ra = r.header("retry-after")
    assert ra and ra.isdigit() and 0 < int(ra) <= 3600, "Retry-After %r" % ra
    assert "kiji_s" not in ed.cookies
    rows = s.sql("SELECT failures FROM login_failures WHERE key = ?",
                 ("a:%s|%s" % (name, attacker),))
    assert rows and rows[0][0] == 5, "a:%s|%s failures %r" % (name, attacker, rows)
    # The real editor at another address is not locked out.
    Editor(s).login(name, pw)


def test_throttle_per_address_across_accounts():
    s = srv()
    name, pw = user(s, "editor", "thr2")
    attacker = kiji.next_ip()
    for i in range(20):
        r = Editor(s, ip=attacker).post("/admin/login", {
            "name": "guess%02d" % i, "password": "wrong-password"})
        assert r.status == 200, "failure %d from one address: %d" % (i + 1, r.status)
    r = Editor(s, ip=attacker).post("/admin/login", {"name": "guess99", "password": "x" * 12})
    assert r.status == 429 and (r.header("retry-after") or "").isdigit(), r.status
    # That address may not try the real account either; another may.
    r = Editor(s, ip=attacker).post("/admin/login", {"name": name, "password": pw})
    assert r.status == 429
    Editor(s).login(name, pw)


def test_throttle_keys_an_ipv6_64_as_one_address():
    """Issue 13 item 7: the addresses of one /64 are one subscriber's, so
    guesses spread over them are throttled together; the next /64 is not."""
    s = srv()
    name, pw = user(s, "editor", "thr6")
    for i in range(5):
        r = Editor(s, ip="2001:db8:6:4::%x" % (i + 1)).post(
            "/admin/login", {"name": name, "password": "guess%d" % i})
        assert r.status == 200, "failure %d answered %d" % (i + 1, r.status)
    r = Editor(s, ip="2001:db8:6:4:ffff::9").post("/admin/login", {"name": name, "password": pw})
    assert r.status == 429, "6th attempt from the same /64: %d, want 429" % r.status
    rows = s.sql("SELECT failures FROM login_failures WHERE key = ?",
                 ("a:%s|2001:db8:6:4::/64" % name,))
    assert rows and rows[0][0] == 5, "failures of the /64: %r" % rows
    Editor(s, ip="2001:db8:6:5::1").login(name, pw)


def test_success_clears_account_failures():
    s = srv()
    name, pw = user(s, "editor", "clr")
    ip = kiji.next_ip()
    for i in range(4):
        assert Editor(s, ip=ip).post("/admin/login", {"name": name, "password": "no%d" % i}).status == 200
    Editor(s, ip=ip).login(name, pw)
    assert not s.sql("SELECT 1 FROM login_failures WHERE key = ?", ("a:%s|%s" % (name, ip),))
    for i in range(4):
        assert Editor(s, ip=ip).post("/admin/login", {"name": name, "password": "no%d" % i}).status == 200
    Editor(s, ip=ip).login(name, pw)


# ---- sessions -------------------------------------------------------------------------

def test_logout_ends_the_session():
    s = srv()
    name, pw = user(s, "editor")
    ed = Editor(s)
    ed.login(name, pw)
    sid = ed.cookies["kiji_s"]
    h = hashlib.sha256(sid.encode()).hexdigest()
    assert s.sql("SELECT 1 FROM sessions WHERE id_hash = ?", (h,))
    # Without the token: refused, still logged in.
    r = ed.post("/admin/logout", {})
    assert r.status == 403 and logged_in(ed)
    r = ed.submit("/admin/logout", {})
    assert r.status == 303 and r.header("location") == "/admin/login"
    assert "kiji_s" not in ed.cookies, "logout did not clear the cookie"
    assert not s.sql("SELECT 1 FROM sessions WHERE id_hash = ?", (h,)), "session row kept"
    # A copy of the old cookie is worthless.
    thief = Editor(s)
    thief.cookies["kiji_s"] = sid
    r = thief.get("/admin/")
    assert r.status == 303 and r.header("location") == "/admin/login"
    assert flash(Editor(s).get("/admin/login")) is None


def test_password_change_logs_out_everywhere():
    s = srv()
    aname, apw = user(s, "admin")
    uid = add_user(s, "everywhere1", "editor", "first-password-1")
    a, b = Editor(s), Editor(s)
    a.login("everywhere1", "first-password-1")
    b.login("everywhere1", "first-password-1")
    adm = Editor(s)
    adm.login(aname, apw)
    adm.page("/admin/users/%d" % uid)
    r = adm.submit("/admin/users/%d" % uid, {
        "display_name": "Everywhere", "email": "", "role": "editor",
        "password": "second-password-2"})
    assert r.status == 303, "password reset: %d\n%s" % (r.status, r.text[:500])
    for e in (a, b):
        r = e.get("/admin/")
        assert r.status == 303, "a session survived the password change"
    Editor(s).login("everywhere1", "first-password-1", expect=200)
    Editor(s).login("everywhere1", "second-password-2")
    assert logged_in(adm), "the admin was logged out by another user's reset"


def test_disabled_user_is_out():
    s = srv()
    aname, apw = user(s, "admin")
    uid = add_user(s, "disableme", "author", "disable-me-pass")
    ed = Editor(s)
    ed.login("disableme", "disable-me-pass")
    adm = Editor(s)
    adm.login(aname, apw)
    r = adm.submit("/admin/users/%d" % uid, {
        "display_name": "disableme", "email": "", "role": "author",
        "password": "", "disabled": "1"})
    assert r.status == 303
    assert ed.get("/admin/").status == 303, "a disabled user's session survived"
    r = Editor(s).post("/admin/login", {"name": "disableme", "password": "disable-me-pass"})
    assert r.status == 200 and form_error(r) == GENERIC
    # An admin cannot lock themself out.
    me = s.sql("SELECT id FROM users WHERE name = ?", (aname,))[0][0]
    r = adm.submit("/admin/users/%d" % me, {
        "display_name": "x", "email": "", "role": "editor", "password": ""})
    assert r.status == 422 and logged_in(adm)
    assert s.sql("SELECT role FROM users WHERE id = ?", (me,))[0][0] == "admin"


@kiji.needs_hooks
def test_session_idle_expiry():
    s = clock_srv()
    name, pw = user(s, "editor")
    ed = Editor(s)
    set_clock(s, 0)
    ed.login(name, pw)
    set_clock(s, 240)   # 4 min idle: still in (and seen again)
    assert logged_in(ed), "logged out after 4 of 5 idle minutes"
    set_clock(s, 240 + 280)  # 4 min 40 s since the last request
    assert logged_in(ed), "logged out before the idle limit"
    sid = ed.cookies["kiji_s"]
    set_clock(s, 240 + 280 + 320)  # 5 min 20 s idle
    r = ed.get("/admin/")
    assert r.status == 303 and r.header("location") == "/admin/login", "idle session still valid"
    assert "kiji_s" not in ed.cookies, "the dead session's cookie was not cleared"
    assert not s.sql("SELECT 1 FROM sessions WHERE id_hash = ?",
                     (hashlib.sha256(sid.encode()).hexdigest(),)), "dead session row kept"
    lp = ed.page("/admin/login")
    assert "有効期限" in (flash(lp) or ""), "no expired message on the login page"
    set_clock(s, 0)


@kiji.needs_hooks
def test_session_absolute_expiry():
    s = clock_srv()
    name, pw = user(s, "editor")
    ed = Editor(s)
    set_clock(s, 0)
    ed.login(name, pw)
    # Busy all along: a request every 4 minutes (3 at the end) ...
    for t in list(range(240, 3600, 240)) + [3540]:
        set_clock(s, t)
        assert logged_in(ed), "logged out at +%d s although busy" % t
    set_clock(s, 3660)      # ... yet 61 minutes after login, 2 minutes idle
    r = ed.get("/admin/")
    assert r.status == 303, "session older than admin.session_max_hours still valid"
    set_clock(s, 0)


def test_secure_cookie_on_https_site():
    s = kiji.server("admin-https", articles=3, comments=1, seed=13,
                    settings={"site.base_url": "https://news.example"})
    name, pw = user(s, "editor")
    ed = Editor(s)
    r = ed.post("/admin/login", {"name": name, "password": pw},
                headers={"Origin": "https://news.example"})
    assert r.status == 303, r.status
    _, attrs = cookie_attrs(r, "kiji_s")
    assert "secure" in attrs and "httponly" in attrs and "samesite=lax" in attrs, attrs


# ---- CSRF and origin ----------------------------------------------------------------------

def _redirects(s):
    return s.sql("SELECT from_path, to_path FROM redirects ORDER BY from_path")


def test_csrf_refusals_change_nothing():
    s = srv()
    aname, apw = user(s, "admin")
    ed = Editor(s)
    ed.login(aname, apw)
    other = Editor(s)
    other.login(aname, apw)
    assert other.csrf != ed.csrf, "two sessions share a CSRF token"
    before = _redirects(s)
    title = s.sql("SELECT value FROM settings WHERE key = 'site.title'")
    form = {"from": "/csrf-test-old", "to": "/"}
    cases = [
        ("no token", dict(form), {}),
        ("wrong token", dict(form, csrf="A" * 43), {}),
        ("other session's token", dict(form, csrf=other.csrf), {}),
        ("empty token", dict(form, csrf=""), {}),
    ]
    for what, fields, h in cases:
        r = ed.post("/admin/redirects", fields, headers=h)
        assert r.status == 403, "%s: %d" % (what, r.status)
        assert "何も変更されていません" in r.text, "%s: page does not say nothing changed" % what
    good = dict(form, csrf=ed.csrf)
    for what, h in (("cross-site Origin", {"Origin": "https://evil.example"}),
                    ("null Origin", {"Origin": "null"}),
                    ("look-alike Origin", {"Origin": s.origin + ".evil.example"}),
                    ("cross-site fetch", {"Sec-Fetch-Site": "cross-site"}),
                    ("same-site fetch", {"Sec-Fetch-Site": "same-site"})):
        r = ed.post("/admin/redirects", good, headers=h, origin=False)
        assert r.status == 403, "%s: %d" % (what, r.status)
    # Neither Origin nor Sec-Fetch-Site: refused too.
    r = ed.post("/admin/redirects", good, origin=False)
    assert r.status == 403, "no Origin and no Sec-Fetch-Site: %d" % r.status
    r = ed.post("/admin/settings", {"csrf": "nope", "site.title": "Hacked"})
    assert r.status == 403
    assert _redirects(s) == before, "a refused POST changed the redirects"
    assert s.sql("SELECT value FROM settings WHERE key = 'site.title'") == title
    # The same form with the token and a same-origin marker goes through.
    r = ed.post("/admin/redirects", good, origin=False, headers={"Sec-Fetch-Site": "same-origin"})
    assert r.status == 303, "a good POST: %d" % r.status
    assert ("/csrf-test-old", "/") in [tuple(x) for x in _redirects(s)]
    assert ed.submit("/admin/redirects/delete", {"from": "/csrf-test-old"}).status == 303


def test_login_refuses_cross_origin():
    s = srv()
    name, pw = user(s, "editor")
    ed = Editor(s)
    r = ed.post("/admin/login", {"name": name, "password": pw},
                headers={"Origin": "https://evil.example"})
    assert r.status == 403 and "kiji_s" not in ed.cookies


def test_anonymous_is_sent_to_login():
    s = srv()
    anon = Editor(s)
    for p in ("/admin/", "/admin/comments", "/admin/settings", "/admin/users",
              "/admin/categories", "/admin/redirects"):
        r = anon.get(p)
        assert r.status == 303 and r.header("location") == "/admin/login", (p, r.status)
    for p in ("/admin/comments/bulk", "/admin/settings", "/admin/redirects"):
        r = anon.post(p, {"csrf": "x"})
        assert r.status == 403, (p, r.status)
    # A junk or unknown session cookie is dropped, not trusted.
    anon.cookies["kiji_s"] = "A" * 43
    r = anon.get("/admin/")
    assert r.status == 303


# ---- roles -----------------------------------------------------------------------------

def nav_links(r):
    return set(re.findall(r'<li><a class="(?:current)?" href="(/admin/[a-z]*)"', r.text))


def test_author_limits():
    s = srv()
    name, pw = user(s, "author")
    ed = Editor(s)
    ed.login(name, pw)
    d = ed.page("/admin/")
    links = nav_links(d)
    assert "/admin/articles" in links, links
    for hidden in ("/admin/comments", "/admin/settings", "/admin/users", "/admin/categories",
                   "/admin/redirects"):
        assert hidden not in links, "author's nav shows %s" % hidden
    for p in ("/admin/settings", "/admin/users", "/admin/comments", "/admin/comments?status=spam",
              "/admin/categories", "/admin/tags", "/admin/redirects", "/admin/bans",
              "/admin/comments/1/edit", "/admin/users/1"):
        r = ed.get(p)
        assert r.status == 403, "author GET %s: %d" % (p, r.status)
        assert r.header("cache-control") == "no-store"
    pending = s.sql("SELECT id, status FROM comments ORDER BY id LIMIT 3")
    for p, f in (("/admin/comments/bulk", [("action", "spam")] + [("id", str(c[0])) for c in pending]),
                 ("/admin/settings", {"site.title": "Author was here"}),
                 ("/admin/users", {"name": "authormade", "role": "admin",
                                   "password": "0123456789ab"}),
                 ("/admin/categories", {"name": "Author cat", "slug": "author-cat"})):
        r = ed.submit(p, f)
        assert r.status == 403, "author POST %s: %d" % (p, r.status)
    assert s.sql("SELECT id, status FROM comments ORDER BY id LIMIT 3") == pending
    assert not s.sql("SELECT 1 FROM users WHERE name = 'authormade'")
    assert not s.sql("SELECT 1 FROM categories WHERE slug = 'author-cat'")
    assert s.sql("SELECT value FROM settings WHERE key = 'site.title'") != [("Author was here",)]


def test_editor_limits():
    s = srv()
    name, pw = user(s, "editor")
    ed = Editor(s)
    ed.login(name, pw)
    links = nav_links(ed.page("/admin/"))
    assert {"/admin/articles", "/admin/comments", "/admin/categories", "/admin/redirects"} <= links
    assert "/admin/settings" not in links and "/admin/users" not in links, links
    for p in ("/admin/comments", "/admin/categories", "/admin/tags", "/admin/redirects",
              "/admin/bans"):
        ed.page(p)
    for p in ("/admin/settings", "/admin/users", "/admin/users/1"):
        assert ed.get(p).status == 403, p
    r = ed.submit("/admin/settings", {"site.title": "Editor was here"})
    assert r.status == 403
    r = ed.submit("/admin/users", {"name": "editormade", "role": "admin",
                                   "password": "0123456789ab"})
    assert r.status == 403
    assert not s.sql("SELECT 1 FROM users WHERE name = 'editormade'")


def test_admin_sees_everything():
    s = srv()
    name, pw = user(s, "admin")
    ed = Editor(s)
    ed.login(name, pw)
    links = nav_links(ed.page("/admin/"))
    assert {"/admin/articles", "/admin/comments", "/admin/categories", "/admin/redirects",
            "/admin/settings", "/admin/users"} <= links, links
    for p in ("/admin/settings", "/admin/users", "/admin/comments", "/admin/bans"):
        ed.page(p)


# ---- caching ------------------------------------------------------------------------------

def test_every_admin_answer_is_no_store():
    s = srv()
    name, pw = user(s, "admin")
    ed = Editor(s)
    anon = Editor(s)
    seen = []
    for who, p in ((anon, "/admin/login"), (anon, "/admin/"), (anon, "/admin/settings")):
        seen.append((p, who.get(p)))
    r = ed.login(name, pw)
    seen.append(("POST /admin/login", r))
    seen.append(("POST bad login", Editor(s).post("/admin/login", {"name": "x", "password": "y"})))
    for p in ("/admin/", "/admin", "/admin/comments", "/admin/comments?status=all",
              "/admin/bans", "/admin/categories", "/admin/tags", "/admin/redirects",
              "/admin/settings", "/admin/users", "/admin/comments/999999/edit",
              "/admin/comments?status=bogus"):
        seen.append((p, ed.get(p)))
    seen.append(("POST no token", ed.post("/admin/redirects", {"from": "/x", "to": "/"})))
    seen.append(("POST logout", ed.submit("/admin/logout", {})))
    for p, r in seen:
        assert r.header("cache-control") == "no-store", "%s (%d): Cache-Control %r" % (
            p, r.status, r.header("cache-control"))
        if r.content_type == "text/html" and r.body:
            assert "content-security-policy" in r.headers, p
    # The public site still caches.
    assert Editor(s).get("/").header("cache-control") != "no-store"


def test_display_name_change_shows_on_cached_pages():
    """An author's display name is on every page of theirs (the byline,
    the listings, the feeds): renaming them makes those pages stale, even
    ones the page cache holds, as renaming a category does."""
    s = srv()
    aname, apw = user(s, "admin")
    uid = add_user(s, "renamed1", "author", "renamed-pass-123", display_name="旧い筆名")
    f = s.tmp / "renamed.md"
    f.write_text("---\ntitle: 筆名の記事\nauthor: renamed1\nstatus: published\n---\n本文。\n",
                 "utf-8")
    aid = int(s.cli("post", "new", str(f)).stdout.strip())
    url = "/articles/%d" % aid
    for _ in range(2):  # cached
        r = s.get(url)
        assert r.status == 200 and "旧い筆名" in r.text
    assert r.header("x-cache") == "hit", "the page is not cached: %s" % r.header("x-cache")
    adm = Editor(s)
    adm.login(aname, apw)
    r = adm.submit("/admin/users/%d" % uid, {
        "display_name": "新しい筆名", "email": "", "role": "author", "password": ""})
    assert r.status == 303, "rename: %d\n%s" % (r.status, r.text[:500])
    s.synced()
    r = s.get(url)
    assert r.status == 200
    assert "新しい筆名" in r.text and "旧い筆名" not in r.text, \
        "the cached page kept the old display name"
