"""Reply notifications by e-mail (issue 16), against an SMTP server of our
own on loopback (smtpsink.py) and the test build's injected clock
(KIJI_TEST_CLOCK_FILE), so batching windows, the daily limit and retry
backoff are crossed by moving the clock instead of waiting.

Double opt-in (a confirmation mail whose link shows a button and only
its POST confirms), a reply to a confirmed subscriber's comment mails
them (text, link, List-Unsubscribe and the RFC 8058 One-Click header), a
reply to an unconfirmed address does not, replies within
mail.batch_seconds go out as one mail, mail.daily_max holds the rest for
the next day, one POST to the unsubscribe link unsubscribes and a bad
signature is refused, and an SMTP server that refuses, answers 451 or
hangs has its mail retried while comment posts are answered at once.
Addresses appear on no page, in no API answer and nowhere in the
database in clear."""

import json
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import kiji
from kiji import Visitor
from smtpsink import SmtpSink

WAIT = 20.0     # seconds for a mail the runner should send now
QUIET = 3.0     # seconds to wait for a mail that must not come
_ctx = {}


# ---- fixtures -------------------------------------------------------------------

def sink():
    if "sink" not in _ctx:
        _ctx["sink"] = SmtpSink().start()
    return _ctx["sink"]


def srv():
    s = kiji.server("mail", start=False, articles=8, comments=2, seed=11,
                    settings={"http.trusted_proxies": "127.0.0.1",
                              "mail.smtp_url": sink().url,
                              "mail.from": "kiji@example.com",
                              "mail.batch_seconds": "0",
                              "site.title": "記事テスト"})
    if not s.env:
        clock = s.tmp / "clock"
        clock.write_text("0\n")
        s.env = {"KIJI_TEST_CLOCK_FILE": str(clock)}
        _ctx["offset"] = 0
    if not s.alive():
        s.start()
    return s


def advance(seconds):
    """Moves the server's clock on (its requests and its job runner)."""
    _ctx["offset"] = _ctx.get("offset", 0) + seconds
    p = Path(srv().env["KIJI_TEST_CLOCK_FILE"])
    tmp = p.with_suffix(".tmp")
    tmp.write_text("%d\n" % _ctx["offset"])
    tmp.replace(p)


def setting(key, value):
    srv().config_set(key, value)
    time.sleep(0.3)  # the server picks it up at its next request / job


def addr():
    return "r%s@example.com" % uuid.uuid4().hex[:10]


def article():
    s = srv()
    ids = [r[0] for r in s.sql(
        "SELECT id FROM articles WHERE kind = 'post' AND status = 'published'"
        " AND comments_open = 1 ORDER BY id")]
    assert ids, "no open article"
    _ctx["rr"] = _ctx.get("rr", 0) + 1
    return ids[_ctx["rr"] % len(ids)]


def token_of(v, aid):
    r = v.get("/articles/%d" % aid)
    assert r.status == 200, r.status
    t = r.doc.select_one("form#comment-form input[name=token]")
    assert t is not None, "no comment form token"
    return t.get("value")


def post(aid, body, nickname="", parent=0, email=None, notify=False, v=None):
    v = v or Visitor(srv(), ip="rotate")
    f = {"nickname": nickname, "body": body, "parent": str(parent),
         "token": token_of(v, aid), "url": "", "opened": ""}
    if email is not None:
        f["email"] = email
    if notify:
        f["notify"] = "1"
    return v.post("/articles/%d/comments" % aid, f)


def posted(r, aid):
    assert r.status == 303, "POST comment: %d\n%s" % (r.status, r.text[:600])
    m = re.fullmatch(r"/articles/%d#comment-([0-9]+)" % aid, r.header("location") or "")
    assert m, r.header("location")
    return int(m.group(1))


def link_in(msg, what):
    m = re.search(r"(https?://\S+/mail/%s\?\S+)" % what, msg.body)
    assert m, "no /mail/%s link in:\n%s" % (what, msg.body)
    u = urlsplit(m.group(1))
    return u.path + "?" + u.query


def mails_to(a):
    return sink().to(a)


def wait_mails(a, n, timeout=WAIT):
    sink().wait(lambda ms: sum(a in m.rcpts for m in ms) >= n, timeout)
    got = mails_to(a)
    assert len(got) >= n, "%d mails to %s, want %d\nsink saw %d connections\n%s" % (
        len(got), a, n, sink().attempts, srv().read_stderr()[-2000:])
    return got


def subscribe(a, aid=None):
    """A comment by a confirmed subscriber a; its id and article."""
    aid = aid or article()
    cid = posted(post(aid, "購読者のコメント", nickname="購読者", email=a,
                      notify=True), aid)
    conf = wait_mails(a, 1)[0]
    r = Visitor(srv()).request("POST", link_in(conf, "confirm"), body=b"")
    assert r.status == 200, r.status
    return cid, aid


def confirmed(a_id):
    return srv().sql("SELECT confirmed_at FROM mail_addresses WHERE id = ?",
                     (a_id,))[0][0] > 0


def address_id(cid):
    rows = srv().sql("SELECT address_id FROM mail_subscriptions WHERE comment_id = ?", (cid,))
    assert rows, "comment %d has no subscription" % cid
    return rows[0][0]


# ---- the form and the API ----------------------------------------------------------

def test_mail_form_fields():
    s = srv()
    aid = article()
    r = s.page("/articles/%d" % aid)
    form = r.doc.select_one("form#comment-form")
    assert form.select_one("input[name=email]") is not None, "no e-mail field"
    box = form.select_one("input[name=notify]")
    assert box is not None and box.get("type") == "checkbox"
    assert "返信をメールで受け取る" in r.text
    # a bad address: 422 with what the reader typed kept
    bad = "not an address@@example.com"
    r = post(aid, "本文 bad mail", email=bad, notify=True)
    assert r.status == 422, r.status
    assert r.doc.select_one("input[name=email]").get("value") == bad
    assert r.doc.select_one("input[name=notify]").get("checked") is not None
    # CR/LF or a header in the address is refused, never mailed
    r = post(aid, "本文 inject", email="a@example.com\r\nBcc: x@example.com", notify=True)
    assert r.status in (400, 422), r.status
    # the API: notify without an address, a non-boolean notify
    v = Visitor(s, ip="rotate")
    tok = json.loads(v.get("/api/articles/%d/comments" % aid).body)["token"]
    r = v.post_json("/api/articles/%d/comments" % aid,
                    {"body": "api notify", "token": tok, "notify": True})
    assert r.status == 422 and json.loads(r.body)["error"]["code"] == "email_required", r.text
    r = v.post_json("/api/articles/%d/comments" % aid,
                    {"body": "api notify", "token": tok, "email": "x@example.com",
                     "notify": "yes"})
    assert r.status == 400, r.status
    r = v.post_json("/api/articles/%d/comments" % aid,
                    {"body": "api bad", "token": tok, "email": "x@@example", "notify": True})
    assert r.status == 422 and json.loads(r.body)["error"]["code"] == "invalid_email", r.text


def test_mail_double_opt_in():
    s = srv()
    a = addr()
    aid = article()
    cid = posted(post(aid, "確認のテスト", email=a, notify=True), aid)
    conf = wait_mails(a, 1)[0]
    assert "確認" in conf.subject, conf.subject
    assert conf.header("Message-ID") and conf.header("Date")
    a_id = address_id(cid)
    assert not confirmed(a_id)
    path = link_in(conf, "confirm")
    # the GET only shows a button; a crawler that follows the link confirms nothing
    r = Visitor(s).get(path)
    assert r.status == 200, r.status
    f = r.doc.select_one("form[method=post]")
    assert f is not None and f.select_one("button") is not None
    assert not confirmed(a_id), "a GET confirmed the address"
    # a changed signature is refused
    bad = re.sub(r"s=([0-9a-f])", lambda m: "s=" + ("1" if m.group(1) != "1" else "2"), path)
    r = Visitor(s).request("POST", bad, body=b"")
    assert r.status == 403 and not confirmed(a_id)
    r = Visitor(s).request("POST", f.get("action"), body=b"")
    assert r.status == 200 and confirmed(a_id)
    # the address is nowhere in clear: not in the database, page or API
    raw = kiji.db_bytes(s.db)
    assert a.encode() not in raw, "the address is stored in clear"
    assert a not in s.page("/articles/%d" % aid).text
    assert a not in s.get("/api/articles/%d/comments" % aid).text
    assert a not in s.get("/articles/%d/feed" % aid).text
    key = kiji.mail_key_file(s.db)
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600


def test_mail_reply_notifies():
    s = srv()
    a = addr()
    cid, aid = subscribe(a)
    before = len(mails_to(a))
    rid = posted(post(aid, "返信の本文です\n二行目", nickname="返信者", parent=cid), aid)
    m = wait_mails(a, before + 1)[-1]
    assert "返信者" in m.subject, m.subject
    assert m.msg["From"].addresses[0].display_name == "記事テスト", m.header("From")
    assert m.msg["From"].addresses[0].addr_spec == "kiji@example.com"
    assert "返信の本文です\n二行目" in m.body.replace("\r\n", "\n"), m.body
    assert "/articles/%d#comment-%d" % (aid, rid) in m.body
    assert m.header("Content-Type").startswith("text/plain") and "utf-8" in m.header(
        "Content-Type").lower()
    unsub = m.header("List-Unsubscribe")
    assert unsub and "/mail/unsubscribe?" in unsub, unsub
    assert m.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<kiji\.[0-9a-f]{32}@example\.com>", m.header("Message-ID")), \
        m.header("Message-ID")
    # raw headers are 7-bit: the Japanese subject went as RFC 2047
    assert b"=?UTF-8?B?" in m.data.split(b"\r\n\r\n", 1)[0]
    # a reply to a reply (not to the subscriber's comment) mails nobody
    n = len(mails_to(a))
    posted(post(aid, "孫の返信", parent=rid), aid)
    time.sleep(QUIET)
    assert len(mails_to(a)) == n


def test_mail_reply_to_unconfirmed_does_not_notify():
    s = srv()
    a = addr()
    aid = article()
    cid = posted(post(aid, "未確認の購読", email=a, notify=True), aid)
    wait_mails(a, 1)  # the confirmation only
    posted(post(aid, "未確認への返信", parent=cid), aid)
    time.sleep(QUIET)
    assert len(mails_to(a)) == 1, mails_to(a)
    assert s.sql("SELECT COUNT(*) FROM mail_queue WHERE address_id = ?",
                 (address_id(cid),))[0][0] == 0


def test_mail_pending_reply_notifies_when_approved():
    s = srv()
    a = addr()
    cid, aid = subscribe(a)
    n = len(mails_to(a))
    setting("comments.moderation", "all")
    try:
        rid = posted(post(aid, "承認待ちの返信", parent=cid), aid)
    finally:
        setting("comments.moderation", "none")
    time.sleep(QUIET)
    assert len(mails_to(a)) == n, "a pending reply was mailed"
    s.cli("comments", "approve", str(rid))
    m = wait_mails(a, n + 1)[-1]
    assert "承認待ちの返信" in m.body


@kiji.needs_hooks
def test_mail_batching():
    s = srv()
    a = addr()
    cid, aid = subscribe(a)
    n = len(mails_to(a))
    setting("mail.batch_seconds", "120")
    try:
        posted(post(aid, "まとめ一通目", parent=cid), aid)
        posted(post(aid, "まとめ二通目", parent=cid), aid)
        time.sleep(QUIET)
        assert len(mails_to(a)) == n, "sent before the batch window ended"
        advance(125)
        m = wait_mails(a, n + 1)[-1]
        time.sleep(1.5)
        assert len(mails_to(a)) == n + 1, "more than one mail for one batch"
        assert "まとめ一通目" in m.body and "まとめ二通目" in m.body, m.body
        assert "2" in m.subject, m.subject
    finally:
        setting("mail.batch_seconds", "0")


@kiji.needs_hooks
def test_mail_daily_cap():
    s = srv()
    # start of a fresh UTC day on the server's clock, with room left in it
    now = int(time.time()) + _ctx.get("offset", 0)
    advance(86400 - now % 86400 + 60)
    a = addr()
    cid, aid = subscribe(a)
    n = len(mails_to(a))
    setting("mail.daily_max", "2")
    try:
        for i in range(2):
            posted(post(aid, "上限テスト%d" % i, parent=cid), aid)
            wait_mails(a, n + i + 1)
        posted(post(aid, "上限を超えた返信", parent=cid), aid)
        time.sleep(QUIET)
        assert len(mails_to(a)) == n + 2, "daily_max passed"
        advance(86400)
        m = wait_mails(a, n + 3)[-1]
        assert "上限を超えた返信" in m.body
    finally:
        setting("mail.daily_max", "10")


def test_mail_unsubscribe_one_click():
    s = srv()
    a = addr()
    cid, aid = subscribe(a)
    posted(post(aid, "配信停止前の返信", parent=cid), aid)
    m = wait_mails(a, 2)[-1]
    url = m.header("List-Unsubscribe").strip("<>")
    u = urlsplit(url)
    path = u.path + "?" + u.query
    a_id = address_id(cid)
    # a bad signature changes nothing
    bad = path[:-1] + ("0" if path[-1] != "0" else "1")
    r = Visitor(s).request("POST", bad, body=b"List-Unsubscribe=One-Click",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 403
    assert s.sql("SELECT unsubscribed_at FROM mail_addresses WHERE id = ?", (a_id,))[0][0] == 0
    # the GET only asks
    r = Visitor(s).get(path)
    assert r.status == 200 and r.doc.select_one("form[method=post] button") is not None
    assert s.sql("SELECT unsubscribed_at FROM mail_addresses WHERE id = ?", (a_id,))[0][0] == 0
    # RFC 8058: one POST from a mail provider, another origin, no cookie, no token
    r = Visitor(s).request("POST", path, body=b"List-Unsubscribe=One-Click",
                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                    "Origin": "https://mail.example.net"})
    assert r.status == 200, r.status
    assert s.sql("SELECT unsubscribed_at FROM mail_addresses WHERE id = ?", (a_id,))[0][0] > 0
    n = len(mails_to(a))
    posted(post(aid, "配信停止後の返信", parent=cid), aid)
    time.sleep(QUIET)
    assert len(mails_to(a)) == n, "mailed after unsubscribing"


def test_mail_confirmation_limits():
    """At most mail.confirm_max (3) confirmation mails a day per address,
    and per poster's address, however many comments ask."""
    s = srv()
    aid = article()
    a = addr()
    for i in range(5):
        posted(post(aid, "確認の上限 %d" % i, email=a, notify=True), aid)
    wait_mails(a, 3)
    time.sleep(QUIET)
    assert len(mails_to(a)) == 3, mails_to(a)
    v = Visitor(s, ip="203.0.113.%d" % (uuid.uuid4().int % 200 + 20))
    addrs = [addr() for _ in range(4)]
    for x in addrs:
        posted(post(aid, "同じIPから", email=x, notify=True, v=v), aid)
    sink().wait(lambda ms: sum(m.rcpts[0] in addrs for m in ms) >= 3, WAIT)
    time.sleep(QUIET)
    assert sum(len(mails_to(x)) for x in addrs) == 3


@kiji.needs_hooks
def test_mail_smtp_failures_retried_post_not_blocked():
    s = srv()
    sk = sink()
    owner = addr()
    setting("mail.owner_address", owner)
    setting("mail.owner_notify", "all")
    aid = article()
    try:
        # 1. connection refused: the post is answered, the job retried later
        closed = kiji.free_port()
        setting("mail.smtp_url", "smtp://127.0.0.1:%d" % closed)
        c1 = posted(post(aid, "接続拒否のテスト"), aid)
        job = wait_job(s, "mail-owner:%d" % c1, lambda j: j["attempts"] >= 1 and j["last_error"])
        assert job["done_at"] is None, job
        # 2. 451 from the server
        sk.mode = "451"
        setting("mail.smtp_url", sk.url)
        c2 = posted(post(aid, "451のテスト"), aid)
        job = wait_job(s, "mail-owner:%d" % c2, lambda j: "451" in j["last_error"])
        assert job["done_at"] is None, job
        # 3. a server that holds the connection without a word: posts are
        # still answered while the runner waits on it
        sk.mode = "stall"
        seen = sk.attempts
        advance(61)  # both jobs' backoff (30 s) is over: the runner connects
        sk.wait(lambda ms: sk.attempts > seen, 10)
        assert sk.attempts > seen, "the runner did not retry"
        c3 = posted(post(aid, "停止中の投稿"), aid)
        # the server answers again: every mail goes out, once each
        sk.mode = "ok"
        for k in range(4):
            advance(130)
            got = sk.wait(lambda ms: sum(owner in m.rcpts for m in ms) >= 3, 8)
            if sum(owner in m.rcpts for m in got) >= 3:
                break
        mine = mails_to(owner)
        bodies = "\n".join(m.body for m in mine)
        for t in ("接続拒否のテスト", "451のテスト", "停止中の投稿"):
            assert bodies.count(t) == 1, "%s: %d mails\n%s" % (t, bodies.count(t), bodies)
        for c in (c1, c2, c3):
            j = wait_job(s, "mail-owner:%d" % c, lambda j: j["done_at"] is not None)
            assert j["last_error"] == "", j
    finally:
        sk.mode = "ok"
        setting("mail.smtp_url", sk.url)
        setting("mail.owner_notify", "none")


def test_mail_starttls_required_off_loopback():
    """A server that is not on loopback must offer STARTTLS: without it
    nothing is sent and the job is given up with the reason. The sink is
    reached as ::ffff:127.0.0.1, which kiji does not count as loopback
    (only 127.0.0.0/8, ::1 and localhost are), the one spelling of a
    non-loopback server that never leaves this machine."""
    import socket
    s = srv()
    sk = sink()
    try:
        c = socket.create_connection(("::ffff:127.0.0.1", sk.port), timeout=5)
        c.close()
    except OSError as e:
        print("  (no IPv6 socket to ::ffff:127.0.0.1 here: %s; not checked)" % e)
        return
    owner = addr()
    setting("mail.owner_address", owner)
    setting("mail.owner_notify", "all")
    setting("mail.smtp_url", "smtp://[::ffff:127.0.0.1]:%d" % sk.port)
    try:
        aid = article()
        cid = posted(post(aid, "TLSなしの送信"), aid)
        j = wait_job(s, "mail-owner:%d" % cid, lambda j: j["done_at"] is not None)
        assert "STARTTLS" in j["last_error"] or "TLS" in j["last_error"], j
        assert mails_to(owner) == [], "mail sent without TLS to a remote server"
    finally:
        setting("mail.smtp_url", sk.url)
        setting("mail.owner_notify", "none")


def wait_job(s, key, cond, timeout=WAIT):
    end = time.monotonic() + timeout
    j = None
    while time.monotonic() < end:
        rows = s.sql("SELECT * FROM jobs WHERE dedup_key = ?", (key,))
        j = dict(rows[0]) if rows else None
        if j and cond(j):
            return j
        time.sleep(0.2)
    raise AssertionError("job %s: %r\n%s" % (key, j, s.read_stderr()[-2000:]))


def test_mail_wxr_export_has_no_addresses():
    s = srv()
    a = addr()
    subscribe(a)
    # even --with-emails (commenters' addresses) has no subscriber's
    out = s.cli("export-wxr", "--with-emails").stdout
    assert "<rss" in out and a not in out


@kiji.needs_hooks
def test_mail_log_pruned_by_the_privacy_job():
    """The daily privacy job forgets the posters' address hashes of the
    mail log after two days and the log itself after thirty."""
    import sqlite3
    s = srv()
    now = int(time.time()) + _ctx.get("offset", 0)
    con = kiji.connect(s.db)
    try:
        con.execute("INSERT INTO mail_log(kind, dedup_key, ip_hash, at) VALUES"
                    " ('asked', NULL, 'feedface', ?), ('reply', 'old-one', '', ?),"
                    " ('asked', NULL, 'cafebabe', ?)",
                    (now - 3 * 86400, now - 40 * 86400, now))
        con.commit()
    finally:
        con.close()
    advance(86400)  # the next day's privacy job comes due
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        left = s.sql("SELECT COUNT(*) FROM mail_log WHERE ip_hash = 'feedface'"
                     " OR dedup_key = 'old-one'")[0][0]
        if left == 0:
            break
        time.sleep(0.3)
    assert left == 0, "old mail log rows kept\n%s" % s.read_stderr()[-1500:]
    # a day-old hash still serves today's limit: kept
    assert s.sql("SELECT COUNT(*) FROM mail_log WHERE ip_hash = 'cafebabe'")[0][0] == 1


@kiji.sqlite_only("kiji backup copies a SQLite file; PostgreSQL's is pg_dump")
def test_mail_backup_without_addresses_drops_subscribers():
    """kiji backup copies the sealed addresses (not the key file);
    --without-addresses drops the subscribers altogether."""
    import sqlite3
    s = srv()
    a = addr()
    subscribe(a)
    full, bare = s.tmp / "full.db", s.tmp / "bare.db"
    s.cli("backup", str(full))
    s.cli("backup", "--without-addresses", str(bare))
    assert not Path(str(full) + ".mailkey").exists()
    for path, want_some in ((full, True), (bare, False)):
        con = sqlite3.connect(str(path))
        try:
            n = [con.execute("SELECT COUNT(*) FROM %s" % t).fetchone()[0]
                 for t in ("mail_addresses", "mail_subscriptions", "mail_log")]
        finally:
            con.close()
        assert (min(n) > 0) if want_some else (max(n) == 0), (path.name, n)
        assert a.encode() not in path.read_bytes()
