"""Logins under load: password checks (Argon2id, tens of milliseconds
each) run on their own threads while the request waits suspended, so a
burst of login attempts neither stalls readers on the event loops nor
queues unbounded work (past a few dozen waiting checks: 429)."""

import threading
import time

import admin_client
import kiji


def srv():
    return kiji.server("admin-load", articles=4, comments=1, seed=31,
                       settings={"http.trusted_proxies": "127.0.0.1"})


def _burst(s, n, name, results):
    """n concurrent wrong-password logins for name, each from its own
    address; appends (status, retry_after) per answer."""
    def one():
        ed = admin_client.Editor(s, ip=kiji.next_ip())
        r = ed.post("/admin/login", {"name": name, "password": "wrong-password-123"})
        results.append((r.status, r.header("retry-after")))
    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    return threads


def test_readers_are_served_while_logins_are_checked():
    s = srv()
    name, pw = admin_client.user(s, "editor", "load")
    results = []
    threads = _burst(s, 24, name, results)
    # While two dozen Argon2id checks are queued, a reader still gets the
    # front page at once: no event loop is busy hashing.
    slow = []
    for _ in range(5):
        t0 = time.monotonic()
        r = s.request("GET", "/robots.txt", timeout=10)
        took = time.monotonic() - t0
        assert r.status == 200, r.status
        slow.append(took)
    for t in threads:
        t.join(60)
    assert min(slow) < 1.0, "readers waited %r s behind password checks" % slow
    assert len(results) == 24, "%d answers of 24" % len(results)
    assert all(st in (200, 429) for st, _ in results), results
    # The right password still works afterwards, from another address.
    admin_client.Editor(s, ip=kiji.next_ip()).login(name, pw)


def test_too_many_waiting_checks_get_429():
    s = srv()
    name, _ = admin_client.user(s, "author", "flood")
    results = []
    for t in _burst(s, 60, name, results):
        t.join(120)
    assert len(results) == 60, "%d answers of 60" % len(results)
    busy = [ra for st, ra in results if st == 429]
    assert busy, "60 concurrent logins, none refused as busy: %r" % results
    assert all(ra for ra in busy), "429 without Retry-After: %r" % results
    assert all(st in (200, 429) for st, _ in results), results
