"""Live comments over server-sent events (issue 16 item 2), with raw
sockets: GET /articles/<id>/events answers text/event-stream with a retry
hint and heartbeats; a new approved comment reaches every listener of the
article once, rendered as the page renders it; a comment moderated away
sends a removal; Last-Event-ID (and ?since=, the change number a cached
page carries as data-seq) resumes with exactly what was missed, and a
resume point the log no longer reaches gets a reset; 1,000 idle
listeners are held and the caps answer 429 with Retry-After.

Servers of their own (kiji.server):
  "sse": http.trusted_proxies=127.0.0.1 (each post from its own
      X-Forwarded-For address; loopback exempt from the per-address caps),
      comments.live_heartbeat=1, http.max_streams=1000, an NG word that
      holds a comment for moderation;
  "sse-ip": http.streams_per_ip=4, no trusted proxy: the per-address cap."""

import json
import re
import resource
import selectors
import socket
import sqlite3
import time
import uuid

import kiji
from kiji import Visitor

HOLD = "保留語"
MAX_STREAMS = 1000


def srv():
    return kiji.server("sse", articles=8, comments=3, seed=11, settings={
        "http.trusted_proxies": "127.0.0.1", "comments.live_heartbeat": "1",
        "http.max_streams": str(MAX_STREAMS), "comments.ngwords": HOLD})


def open_articles(s):
    return [r[0] for r in s.sql(
        "SELECT id FROM articles WHERE kind = 'post' AND status = 'published' "
        "AND published_at <= ? AND comments_open = 1 ORDER BY id", (kiji.now_epoch(),))]


def art(s, i):
    ids = open_articles(s)
    assert ids, "%s: no open article" % s.name
    return ids[i % len(ids)]


def mark():
    return "m" + uuid.uuid4().hex[:12]


def post_comment(s, aid, body, parent=0):
    """Posts through the form as a fresh visitor; the new comment's id."""
    v = Visitor(s, ip="rotate")
    r = v.page("/articles/%d" % aid)
    tok = r.doc.select_one("form#comment-form input[name=token]").get("value")
    r = v.post("/articles/%d/comments" % aid, {
        "nickname": "live", "body": body, "parent": str(parent), "token": tok,
        "url": "", "opened": ""})
    assert r.status == 303, "POST comment: %d\n%s" % (r.status, r.text[:300])
    m = re.search(r"#comment-(\d+)$", r.header("location") or "")
    assert m, "Location %r" % r.header("location")
    return int(m.group(1))


def page_seq(s, aid):
    r = s.page("/articles/%d" % aid)
    sec = r.doc.select_one("section#comments")
    assert sec is not None and sec.get("data-live") == "/articles/%d/events" % aid, \
        "section#comments without data-live: %r" % (sec and sec.attrs)
    return int(sec.get("data-seq"))


# ---- a raw-socket event-stream client --------------------------------------------

class Listener:
    """One GET /articles/<id>/events on its own socket: the head, then the
    chunked body decoded and split into events and heartbeat lines."""

    def __init__(self, port, path, headers=None, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        h = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: "
                           "text/event-stream\r\n%s\r\n" % (path, h)).encode())
        self.raw = b""
        self.body = b""
        self.text = ""
        self.status = None
        self.headers = {}
        self.events = []
        self.heartbeats = 0
        self.retry = None
        self.closed = False
        self.chunked = False

    def feed(self, data):
        """Takes bytes off the wire; returns nothing."""
        if not data:
            self.closed = True
            return
        self.raw += data
        if self.status is None:
            i = self.raw.find(b"\r\n\r\n")
            if i < 0:
                return
            head = self.raw[:i].decode("latin-1").split("\r\n")
            self.raw = self.raw[i + 4:]
            self.status = int(head[0].split()[1])
            for ln in head[1:]:
                k, _, v = ln.partition(":")
                self.headers[k.strip().lower()] = v.strip()
            self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        if self.chunked:
            while True:
                i = self.raw.find(b"\r\n")
                if i < 0:
                    break
                n = int(self.raw[:i].split(b";")[0], 16)
                if len(self.raw) < i + 2 + n + 2:
                    break
                self.body += self.raw[i + 2:i + 2 + n]
                self.raw = self.raw[i + 2 + n + 2:]
                if n == 0:
                    self.closed = True
        else:
            self.body += self.raw
            self.raw = b""
        self.text += self.body.decode("utf-8")  # events are whole UTF-8
        self.body = b""
        while "\n\n" in self.text:
            block, _, self.text = self.text.partition("\n\n")
            ev = {}
            data = []
            for ln in block.split("\n"):
                if ln.startswith(":"):
                    self.heartbeats += 1
                    continue
                k, _, v = ln.partition(":")
                v = v[1:] if v.startswith(" ") else v
                if k == "data":
                    data.append(v)
                elif k == "retry":
                    self.retry = int(v)
                elif k in ("id", "event"):
                    ev[k] = v
            if data:
                ev["data"] = json.loads("\n".join(data))
                self.events.append(ev)

    def pump(self, seconds, until=None):
        """Reads for up to seconds, or until until(self) holds."""
        end = time.monotonic() + seconds
        while not self.closed and time.monotonic() < end:
            if until is not None and self.status is not None and until(self):
                return True
            self.sock.settimeout(max(0.01, min(0.2, end - time.monotonic())))
            try:
                self.feed(self.sock.recv(65536))
            except socket.timeout:
                pass
        return until(self) if until is not None else True

    def ids(self, kind):
        return [e["data"]["id"] for e in self.events if e.get("event") == kind]

    def close(self):
        self.sock.close()


def has_comment(cid, kind="comment"):
    return lambda li: cid in li.ids(kind)


# ---- tests -------------------------------------------------------------------------

def test_stream_head_retry_and_heartbeats():
    s = srv()
    aid = art(s, 0)
    li = Listener(s.port, "/articles/%d/events" % aid)
    try:
        assert li.pump(8, lambda x: x.heartbeats >= 2), \
            "no two heartbeats in 8 s (comments.live_heartbeat=1): %r" % li.events
        assert li.status == 200, li.status
        assert li.headers.get("content-type", "").startswith("text/event-stream"), li.headers
        assert li.headers.get("cache-control") == "no-store", li.headers
        assert li.headers.get("x-accel-buffering") == "no", li.headers
        assert li.retry is not None and li.retry >= 1000, "retry hint %r" % li.retry
        assert li.events == [], "a fresh stream replayed %r" % li.events
    finally:
        li.close()
    # never from the page cache, whatever the query
    for bad in ("abc", "-1", "1e3", "0x10", "1234567890123456789", "%201"):
        r = s.get("/articles/%d/events?since=%s" % (aid, bad))
        assert r.status == 400, "?since=%s: %d" % (bad, r.status)
    for bad in ("abc", "-5", "1 2", "99999999999999999999"):
        r = s.get("/articles/%d/events" % aid, headers={"Last-Event-ID": bad})
        assert r.status == 400, "Last-Event-ID %r: %d" % (bad, r.status)
    r = s.get("/articles/999999/events")
    assert r.status == 404, "unknown article: %d" % r.status


def test_two_listeners_get_a_new_comment_once_each():
    s = srv()
    aid = art(s, 1)
    a = Listener(s.port, "/articles/%d/events" % aid)
    b = Listener(s.port, "/articles/%d/events" % aid)
    try:
        for li in (a, b):
            assert li.pump(5, lambda x: x.retry is not None), "stream did not open"
        m = re.search(r"^kiji_live_listeners (\d+)$", s.get("/metrics").text, re.M)
        assert m and int(m.group(1)) >= 2, "kiji_live_listeners: %r" % (m and m.group(0))
        word = mark()
        cid = post_comment(s, aid, "live " + word)
        for li in (a, b):
            assert li.pump(10, has_comment(cid)), "comment %d not received: %r" % (cid, li.events)
        for li in (a, b):
            li.pump(1.5)  # anything more would come now
            assert li.ids("comment").count(cid) == 1, "comment %d received %d times" % (
                cid, li.ids("comment").count(cid))
            ev = [e for e in li.events if e["data"]["id"] == cid][0]
            # the page's own rendering, with the change number as id
            assert int(ev["id"]) > 0
            html = ev["data"]["html"]
            assert 'id="comment-%d"' % cid in html and word in html, html[:300]
            assert ev["data"]["parent"] == 0
        # the same <li> the page now shows
        page = s.page("/articles/%d" % aid).text
        assert ev["data"]["html"].split("\n")[0] in page
        # a reply names its parent
        rid = post_comment(s, aid, "reply " + mark(), parent=cid)
        assert a.pump(10, has_comment(rid)), "reply not received"
        ev = [e for e in a.events if e["data"]["id"] == rid][0]
        assert ev["data"]["parent"] == cid
        # a comment on another article is not sent here
        other = art(s, 2)
        assert other != aid
        oid = post_comment(s, other, "elsewhere " + mark())
        a.pump(1.5)
        assert oid not in a.ids("comment"), "comment of article %d sent to %d" % (other, aid)
    finally:
        a.close()
        b.close()


def test_last_event_id_resumes_with_exactly_what_was_missed():
    s = srv()
    aid = art(s, 3)
    li = Listener(s.port, "/articles/%d/events" % aid)
    try:
        c1 = post_comment(s, aid, "first " + mark())
        assert li.pump(10, has_comment(c1))
        last = li.events[-1]["id"]
    finally:
        li.close()
    # while away: two new comments, and c1 moderated away
    c2 = post_comment(s, aid, "second " + mark())
    c3 = post_comment(s, aid, "third " + mark())
    s.cli("comments", "spam", str(c1))
    li = Listener(s.port, "/articles/%d/events" % aid, {"Last-Event-ID": last})
    try:
        assert li.pump(10, lambda x: c3 in x.ids("comment") and c1 in x.ids("remove")), \
            "resume from %s: %r" % (last, li.events)
        li.pump(1.5)
        assert li.ids("comment") == [c2, c3], "resumed comments %r, want [%d, %d]" % (
            li.ids("comment"), c2, c3)
        assert li.ids("remove") == [c1], li.ids("remove")
        ids = [int(e["id"]) for e in li.events]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), "ids %r" % ids
        at_c2 = [e["id"] for e in li.events if e["data"]["id"] == c2][0]
    finally:
        li.close()
    # from c2's event: only what came after it
    li = Listener(s.port, "/articles/%d/events" % aid, {"Last-Event-ID": at_c2})
    try:
        li.pump(2)
        assert li.ids("comment") == [c3] and li.ids("remove") == [c1], li.events
    finally:
        li.close()
    # up to date: nothing replayed
    li = Listener(s.port, "/articles/%d/events" % aid,
                  {"Last-Event-ID": str(page_seq(s, aid))})
    try:
        li.pump(1.5)
        assert li.events == [], "replayed %r to an up-to-date reader" % li.events
    finally:
        li.close()


def test_page_seq_resumes_a_cached_page_without_a_gap():
    s = srv()
    aid = art(s, 4)
    seq = page_seq(s, aid)
    again = page_seq(s, aid)  # from the cache now: the same number
    assert again == seq, "cached page data-seq %d, rendered %d" % (again, seq)
    c = post_comment(s, aid, "while the page was open " + mark())
    # the reader connects late with the page's number: gets the comment
    li = Listener(s.port, "/articles/%d/events?since=%d" % (aid, seq))
    try:
        assert li.pump(10, has_comment(c)), "since=%d: %r" % (seq, li.events)
        li.pump(1)
        assert li.ids("comment") == [c], li.ids("comment")
    finally:
        li.close()
    # Last-Event-ID (the browser's own resume point) wins over ?since=
    last = str(page_seq(s, aid))
    li = Listener(s.port, "/articles/%d/events?since=%d" % (aid, seq),
                  {"Last-Event-ID": last})
    try:
        li.pump(1.5)
        assert li.events == [], li.events
    finally:
        li.close()


def test_resume_from_before_the_log_sends_reset_then_goes_on():
    s = srv()
    aid = art(s, 7)
    c0 = post_comment(s, aid, "before the gap " + mark())
    # the log no longer reaches back to 1 (as after pruning)
    top = s.sql("SELECT MAX(seq) FROM change_log")[0][0]
    con = kiji.connect(s.db)
    try:
        con.execute("DELETE FROM change_log WHERE seq < ?", (top - 2,))
        con.commit()
    finally:
        con.close()
    li = Listener(s.port, "/articles/%d/events" % aid, {"Last-Event-ID": "1"})
    try:
        assert li.pump(5, lambda x: any(e.get("event") == "reset" for e in x.events)), \
            "no reset for a resume point the log no longer holds: %r" % li.events
        reset = [e for e in li.events if e.get("event") == "reset"][0]
        assert "id" not in reset, "a reset carries an id: %r" % reset
        assert c0 not in li.ids("comment"), "replayed across the gap: %r" % li.events
        c1 = post_comment(s, aid, "after the reset " + mark())
        assert li.pump(10, has_comment(c1)), "the stream did not go on after reset"
    finally:
        li.close()


def test_moderation_sends_remove_and_approval_sends_comment():
    s = srv()
    aid = art(s, 5)
    li = Listener(s.port, "/articles/%d/events" % aid)
    try:
        c = post_comment(s, aid, "to be removed " + mark())
        assert li.pump(10, has_comment(c))
        s.cli("comments", "spam", str(c))  # another process: via the change log
        assert li.pump(10, has_comment(c, "remove")), "no remove for %d: %r" % (c, li.events)
        held = post_comment(s, aid, "held " + HOLD + " " + mark())
        li.pump(1.5)
        assert held not in li.ids("comment") and held not in li.ids("remove"), \
            "a held comment was announced: %r" % li.events
        s.cli("comments", "approve", str(held))
        assert li.pump(10, has_comment(held)), "approved %d not sent: %r" % (held, li.events)
        s.cli("comments", "delete", str(held))
        assert li.pump(10, has_comment(held, "remove")), "deleted %d: %r" % (held, li.events)
    finally:
        li.close()


def _raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def test_thousand_idle_listeners_and_the_overall_cap():
    s = srv()
    assert _raise_nofile(MAX_STREAMS + 200) >= MAX_STREAMS + 100, "open-file limit too low"
    aid = art(s, 6)
    sel = selectors.DefaultSelector()
    ls = []
    try:
        deadline = time.monotonic() + 60
        for _ in range(MAX_STREAMS):
            li = Listener(s.port, "/articles/%d/events" % aid)
            li.sock.setblocking(False)
            sel.register(li.sock, selectors.EVENT_READ, li)
            ls.append(li)

        def pump_all(done, until):
            while time.monotonic() < until and not all(done(x) for x in ls):
                for key, _ in sel.select(timeout=0.2):
                    try:
                        key.data.feed(key.fileobj.recv(65536))
                    except BlockingIOError:
                        pass
        pump_all(lambda x: x.retry is not None, deadline)
        opened = sum(1 for x in ls if x.status == 200 and x.retry is not None)
        assert opened == MAX_STREAMS, "%d of %d streams opened" % (opened, MAX_STREAMS)
        # one more: the overall cap
        over = s.get("/articles/%d/events" % aid)
        assert over.status in (429, 503), "stream %d: %d" % (MAX_STREAMS + 1, over.status)
        assert over.header("retry-after"), "no Retry-After on %d" % over.status
        # every held listener still gets a new comment, once
        c = post_comment(s, aid, "to a thousand " + mark())
        pump_all(lambda x: c in x.ids("comment"), time.monotonic() + 30)
        got = sum(1 for x in ls if x.ids("comment") == [c])
        assert got == MAX_STREAMS, "%d of %d listeners got comment %d once" % (
            got, MAX_STREAMS, c)
        s.assert_alive()
    finally:
        for li in ls:
            sel.unregister(li.sock)
            li.close()
        sel.close()
    # the slots come back once the readers left
    end = time.monotonic() + 10
    while time.monotonic() < end:
        li = Listener(s.port, "/articles/%d/events" % aid)
        ok = li.pump(2, lambda x: x.retry is not None) and li.status == 200
        li.close()
        if ok:
            break
        time.sleep(0.2)
    assert ok, "no stream slot free after 1,000 readers left"


def test_per_address_cap_answers_429():
    s = kiji.server("sse-ip", articles=4, comments=1, seed=12,
                    settings={"http.streams_per_ip": "4"})
    aid = art(s, 0)
    ls = [Listener(s.port, "/articles/%d/events" % aid) for _ in range(4)]
    try:
        for li in ls:
            assert li.pump(5, lambda x: x.retry is not None) and li.status == 200
        over = Listener(s.port, "/articles/%d/events" % aid)
        over.pump(5, lambda x: x.status is not None)
        assert over.status == 429, "fifth stream from one address: %s" % over.status
        ra = over.headers.get("retry-after", "")
        assert ra.isdigit() and int(ra) > 0, "Retry-After %r" % ra
        over.close()
    finally:
        for li in ls:
            li.close()
