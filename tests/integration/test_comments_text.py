"""What a comment's text and nickname may hold (issue 13, items 1, 5, 6):
work bounded before normalising (a long run of combining marks is a fast
422, and sizes count raw bytes too), DEL, C1 controls and noncharacters
400, nicknames that impersonate (bidi controls, invisible names, look-
alikes of the default name or of a staff account) 422, every nickname
inside <bdi>, and NG words matched over a folded form.

Own server "ctext": shipped defaults except http.trusted_proxies=127.0.0.1
(a fresh address per visitor, so the per-IP rate limit stays on without
limiting the test) and a staff account with a known display name."""

import json
import subprocess
import urllib.parse

import kiji
import test_comments as tc
from kiji import Visitor, next_ip

STAFF = "編集部 Taro"  # display name of the staff account the server adds


def srv():
    s = kiji.server("ctext", articles=6, comments=2, seed=13,
                    settings={"http.trusted_proxies": "127.0.0.1"})
    if not s.sql("SELECT 1 FROM users WHERE name = 'ctext_staff'"):
        r = subprocess.run([str(kiji.kiji_bin()), "user", "--db", str(s.db), "add",
                            "ctext_staff", "--role", "editor", "--display-name", STAFF,
                            "--password-stdin"], input="correct horse battery\n",
                           text=True, capture_output=True, timeout=60)
        assert r.returncode == 0, "kiji user add: %s" % r.stderr
    return s


def aid_of(s):
    ids = tc.open_articles(s)
    assert ids, "ctext: no article open for comments"
    return ids[0]


def v(s):
    return Visitor(s, ip=next_ip())


def marks(n):
    """'a' and n combining marks, U+0301 and U+0316 alternating (their
    classes differ, so canonical reordering has work to do)."""
    return "a" + "".join("\u0301" if i % 2 == 0 else "\u0316" for i in range(n))


# ---- item 1: bounded work -------------------------------------------------------------

def test_long_mark_run_is_a_fast_422_then_comments_still_work():
    s = srv()
    aid = aid_of(s)
    m = tc.mark()
    body = marks(2 * 65536) + " " + m
    # with the largest body limit the raw bytes fit: the run itself is refused
    with tc.setting(s, "comments.max_body", "100000"):
        r = tc.post(v(s), aid, body)
        assert r.status == 422, "128k marks: %d\n%s" % (r.status, tc._err_text(r))
        t = tc.post(v(s), aid, body[:40] + m)  # 39 marks: past 30 too
        tc.assert_form_error(t, 422, aid, "", body[:40] + m, says="30")
        ok = "a" + "\u0301\u0316" * 15 + " 普通のコメント " + m  # 30 marks
        cid = tc.new_comment(v(s), aid, ok)
        assert tc.row(s, cid)["body"] == tc.nfc_clean(ok)
    # with the default limit (4000) the raw bytes alone refuse it
    r = tc.post(v(s), aid, body)
    assert r.status == 422, "128k marks, default limit: %d" % r.status
    assert tc.count_with(s, m) == 1
    cid = tc.new_comment(v(s), aid, "その直後の普通のコメント " + tc.mark())
    assert tc.row(s, cid)["status"] == "approved"
    s.assert_alive()


def test_one_character_of_100000_marks_is_not_short():
    s = srv()
    aid = aid_of(s)
    vi = v(s)
    body = "a" + "\u0301" * 100000
    r = tc.api_post(vi, aid, tc.api_fields(vi, aid, body))
    tc.api_error(r, 422, ("body_too_long", "too_many_marks"))
    # a 32 KB nickname of one "character" is too long as well
    nick = "a" + "\u0301" * 16000
    r = tc.post(v(s), aid, "本文 " + tc.mark(), nickname=nick)
    assert r.status in (413, 422), "32 KB nickname: %d" % r.status  # 413: form field cap
    r = tc.api_post(vi, aid, tc.api_fields(vi, aid, "本文", nickname=nick))
    tc.api_error(r, 422, "nickname_too_long")


def test_api_long_mark_run_is_422_too_many_marks():
    s = srv()
    aid = aid_of(s)
    vi = v(s)
    r = tc.api_post(vi, aid, tc.api_fields(vi, aid, marks(31) + " x"))
    tc.api_error(r, 422, "too_many_marks")
    r = tc.api_post(vi, aid, tc.api_fields(vi, aid, "本文", nickname=marks(40)))
    tc.api_error(r, 422, "too_many_marks")


def test_search_query_with_long_mark_run_answers():
    s = srv()
    r = v(s).get("/search?q=" + urllib.parse.quote(marks(300)))
    assert r.status == 200, "search with a mark run: %d" % r.status
    s.assert_alive()


# ---- item 5: controls, noncharacters, nicknames ----------------------------------------

def test_del_c1_and_noncharacters_are_400():
    s = srv()
    aid = aid_of(s)
    m = tc.mark()
    for bad in ("\x7f", "\x85", "\x9b", "\ufffe", "\uffff", "\ufdd0", "\U0001ffff"):
        body = "本文%s%s" % (bad, m)
        r = tc.post(v(s), aid, body, nickname="ctl")
        tc.assert_form_error(r, 400, aid, "ctl", body)
        r = tc.post(v(s), aid, "本文 " + m, nickname="名%s前" % bad)
        assert r.status == 400, "nickname with U+%04X: %d" % (ord(bad), r.status)
    assert tc.count_with(s, m) == 0


def test_bidi_control_in_nickname_is_422():
    s = srv()
    aid = aid_of(s)
    for ctl in ("\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"):
        nick = ctl + "んさし無名"
        body = "本文 " + tc.mark()
        r = tc.post(v(s), aid, body, nickname=nick)
        tc.assert_form_error(r, 422, aid, nick, body, says="方向")
        vi = v(s)
        tc.api_error(tc.api_post(vi, aid, tc.api_fields(vi, aid, body, nickname=nick)),
                     422, "nickname_bidi")


def test_invisible_nickname_is_422():
    s = srv()
    aid = aid_of(s)
    for nick in ("\u200b", "\u3164", "\u2800", "\u00a0", "\u115f\u1160", "\uffa0",
                 "\u2800\u200b\u00a0", "\u2060", "\u00ad"):
        body = "本文 " + tc.mark()
        r = tc.post(v(s), aid, body, nickname=nick)
        tc.assert_form_error(r, 422, aid, nick, body, says="見えない")


def test_nickname_confusable_with_default_name_is_422():
    s = srv()
    aid = aid_of(s)
    for nick in ("名無しさん\u200b", "名無し さん", "\u200d名無しさん", "名無しさん。",
                 "名無し\u3000さん"):
        body = "本文 " + tc.mark()
        r = tc.post(v(s), aid, body, nickname=nick)
        tc.assert_form_error(r, 422, aid, nick, body, says="名無しさん")
    # the default name itself is fine: it is what an empty field gives
    cid = tc.new_comment(v(s), aid, "本文 " + tc.mark(), nickname="名無しさん")
    assert tc.row(s, cid)["nickname"] == "名無しさん"
    cid = tc.new_comment(v(s), aid, "本文 " + tc.mark(), nickname="名無しさん2号")
    assert tc.row(s, cid)["nickname"] == "名無しさん2号"
    # whatever the setting says
    with tc.setting(s, "comments.default_name", "匿名希望"):
        r = tc.post(v(s), aid, "本文 " + tc.mark(), nickname="匿名\u200b希望")
        assert r.status == 422, "look-alike of the new default name: %d" % r.status


def test_nickname_confusable_with_staff_is_422():
    s = srv()
    aid = aid_of(s)
    # the name itself, its case, spacing, a Cyrillic о, a zero-width space
    for nick in (STAFF, "管理者", "編集部 TARO", "編集部Taro", "編集部 Tar\u043e", "編集部 Ta\u200bro"):
        body = "本文 " + tc.mark()
        r = tc.post(v(s), aid, body, nickname=nick)
        tc.assert_form_error(r, 422, aid, nick, body, says="運営者")
    cid = tc.new_comment(v(s), aid, "本文 " + tc.mark(), nickname="編集部ファン")
    assert tc.row(s, cid)["nickname"] == "編集部ファン"


def test_every_nickname_is_inside_bdi():
    s = srv()
    aid = aid_of(s)
    cid = tc.new_comment(v(s), aid, "本文 " + tc.mark(), nickname="アラビア \u05e9\u05dc\u05d5\u05dd")
    d = v(s).page("/articles/%d" % aid).doc
    lis = d.select("li.comment")
    assert lis, "no comments on /articles/%d" % aid
    for li in lis:
        a = tc.own(li, "span.comment-author")
        assert len(a) == 1
        b = a[0].select("bdi")
        assert len(b) == 1 and b[0].text() == a[0].text(), \
            "comment %s: author %r not wholly inside <bdi> (%r)" % (
                li.get("id"), a[0].text(), [x.text() for x in b])
    assert tc.author_of(tc.li_of(d, cid)) == "アラビア \u05e9\u05dc\u05d5\u05dd"
    for tb in d.select("li.trackback"):
        assert tb.select_one("a bdi") is not None, "trackback name not inside <bdi>"
    # the API's rendered comment too
    vi = v(s)
    r = tc.api_post(vi, aid, tc.api_fields(vi, aid, "本文 " + tc.mark(), nickname="名前"))
    assert r.status == 201, r.text[:300]
    assert '<bdi>名前</bdi>' in json.loads(r.text)["html"]


# ---- item 6: NG words over a folded form ---------------------------------------------------

def test_ng_words_match_kana_separators_lookalikes_and_zero_width():
    s = srv()
    aid = aid_of(s)
    with tc.setting(s, "comments.ngwords", "ばか\nscam"):
        cases = [("バカ", "pending"), ("ば か", "pending"), ("ば・か", "pending"),
                 ("ば\u3000か", "pending"), ("ば\nか", "pending"), ("ば\u200bか", "pending"),
                 ("ﾊﾞｶ", "pending"), ("\u0455\u0441\u0430m", "pending"),
                 ("S.C.A.M", "pending"), ("s\u200dcam", "pending"),
                 ("はか", "approved"), ("scan", "approved")]
        for text, want in cases:
            cid = tc.new_comment(v(s), aid, "%s です %s" % (text, tc.mark()))
            got = tc.row(s, cid)["status"]
            assert got == want, "%r with NG words ばか, scam: %s, want %s" % (text, got, want)
        cid = tc.new_comment(v(s), aid, "普通の本文 " + tc.mark(), nickname="バ・カ")
        assert tc.row(s, cid)["status"] == "pending", "NG word in the nickname not caught"
        with tc.setting(s, "comments.ng_action", "reject"):
            body = "ば　か " + tc.mark()
            r = tc.post(v(s), aid, body, nickname="n")
            tc.assert_form_error(r, 422, aid, "n", body)
