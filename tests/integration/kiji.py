"""Shared fixture for the integration suite.

setup() builds one deterministic demo site per run in a temp dir with
`kiji demo`, starts `kiji serve` on a free loopback port and waits for it;
teardown() stops it (SIGTERM, SIGKILL after 5 s) and checks the sanitizer
output of every kiji process. Tests use get()/head()/post() (http.client, no
redirects followed), page() (GET + parsed DOM) and model() (the SQLite file
opened read-only, normalised into plain Python objects).

With KIJI_TEST_PG set (a base URL from tests/pg/cluster.sh), every site
lives in a fresh PostgreSQL database instead of a file: new_db() makes it,
connect() opens either kind with the sqlite3 calls the tests use, and a
test module that checks something only SQLite has sets SQLITE_ONLY (a
reason), a single test carries @sqlite_only(reason), which run.py honours
by leaving them out of the PostgreSQL pass. Tests that need the ASan
build's test hooks carry @needs_hooks, left out of a run of a binary
without them (the PostgreSQL pass runs the release build).

The server reads the real clock, so the demo's --now is the current UTC
time truncated to the minute: scheduled posts stay in the future and the
visibility the tests compute (with the real time) matches the server's.
"""

import atexit
import datetime as dt
import http.client
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import zoneinfo
from pathlib import Path

import htmldom

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = 250
COMMENTS = 10
SEED = 20260115
START_TIMEOUT = 20.0
HTTP_TIMEOUT = 30.0
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")
JST = zoneinfo.ZoneInfo("Asia/Tokyo")

_state = None
PG = os.environ.get("KIJI_TEST_PG", "")
_db_seq = [0]
def scratch(prefix):
    """A temporary directory removed when this run ends (kiji serve's
    logs beside a PostgreSQL site, which has no directory of its own)."""
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d


if PG and not os.environ.get("KIJI_MAIL_KEY_FILE"):
    # a PostgreSQL site's mail key is the file KIJI_MAIL_KEY_FILE names (every
    # kiji this run starts inherits it); one per run, made on first need
    os.environ["KIJI_MAIL_KEY_FILE"] = os.path.join(
        scratch("kiji-it-key-"), "mailkey")


def sqlite_only(reason):
    """Marks one test as checking what only SQLite has (its file, its
    pragmas): run.py leaves it out of the PostgreSQL pass, saying why."""
    def mark(fn):
        fn.sqlite_only = reason
        return fn
    return mark


def needs_hooks(fn):
    """Marks a test that drives the server through the test hooks
    (KIJI_TEST_CLOCK_FILE, the sandbox probes: the ASan build only):
    run.py leaves it out when KIJI_BIN has none, saying so."""
    fn.needs_hooks = True
    return fn


def has_hooks():
    """Whether the kiji under test was built with the test hooks."""
    try:
        return b"KIJI_TEST_CLOCK_FILE" in kiji_bin().read_bytes()
    except OSError:
        return False


def integrity_ok(con):
    """SQLite's integrity_check on con is ok; on PostgreSQL, whose crash
    recovery replays its own WAL, that the site's tables answer."""
    if isinstance(con, _PgCon):
        return con.execute("SELECT count(*) FROM articles").fetchone() is not None
    return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


class PgUrl(str):
    """A site's PostgreSQL database, where a test would hold a Path."""

    def exists(self):
        return True


def _pg_url(base, dbname):
    """base with its database name replaced by dbname."""
    head, _, tail = base.partition("?")
    head = head.rsplit("/", 1)[0] + "/" + dbname
    return head + ("?" + tail if tail else "")


def new_db(tmp):
    """Where a new site's database goes: tmp/site.db, or under KIJI_TEST_PG
    a fresh PostgreSQL database named for this process and a counter."""
    if not PG:
        return tmp / "site.db"
    import psycopg2
    _db_seq[0] += 1
    name = "kiji_it_%d_%d" % (os.getpid(), _db_seq[0])
    con = psycopg2.connect(PG)
    try:
        con.autocommit = True
        con.cursor().execute("CREATE DATABASE %s" % name)
    finally:
        con.close()
    return PgUrl(_pg_url(PG, name))


def _pg_params(sql):
    """sqlite3's '?' placeholders as psycopg2's %s; a '?' or '%' inside a
    quoted literal stays what it is."""
    out, quote = [], None
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        else:
            out.append("%%" if ch == "%" else ch)
    return "".join(out)


def db_bytes(db):
    """Everything the site's database holds, as bytes, for tests that look
    for what must not be stored in clear: a SQLite file and its WAL, or a
    PostgreSQL database's pg_dump."""
    if isinstance(db, PgUrl):
        dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
        return subprocess.run([dump, "--data-only", str(db)], check=True,
                              capture_output=True, timeout=60).stdout
    raw = Path(db).read_bytes()
    wal = Path(str(db) + "-wal")
    return raw + (wal.read_bytes() if wal.exists() else b"")


def mail_key_file(db):
    """The site's mail key file: beside a SQLite file, or KIJI_MAIL_KEY_FILE's
    for PostgreSQL."""
    if isinstance(db, PgUrl):
        return Path(os.environ["KIJI_MAIL_KEY_FILE"])
    return Path(str(db) + ".mailkey")


class _PgRow(tuple):
    """A row as sqlite3 gives one: a tuple (hashable, comparable), read by
    index or, as sqlite3.Row, by column name; BYTEA as bytes."""

    def __new__(cls, values, names):
        r = super().__new__(cls, (bytes(v) if isinstance(v, memoryview) else v
                                  for v in values))
        r._names = names
        return r

    def __getitem__(self, k):
        if isinstance(k, str):
            return tuple.__getitem__(self, self._names.index(k))
        return tuple.__getitem__(self, k)

    def keys(self):
        return list(self._names)


def _pg_row(cur, row):
    """row (from cur) as a _PgRow; None stays None."""
    if row is None:
        return None
    return _PgRow(row, [d[0] for d in cur.description])


class _PgCursor:
    def __init__(self, cur, insert):
        self.cur = cur
        self.rowcount = cur.rowcount
        self._insert = insert

    @property
    def lastrowid(self):
        """The id the last INSERT drew from its table's identity (not
        lastval(): the change log's triggers draw after it), as sqlite3's
        lastrowid."""
        if not self._insert:
            return None
        c = self.cur.connection.cursor()
        c.execute("SELECT currval(pg_get_serial_sequence(%s, 'id'))",
                  (self._insert,))
        return c.fetchone()[0]

    def fetchone(self):
        return _pg_row(self.cur, self.cur.fetchone())

    def fetchall(self):
        return [_pg_row(self.cur, r) for r in self.cur.fetchall()]

    def __iter__(self):
        return iter(self.fetchall() if self.cur.description else [])


class _PgCon:
    """The part of sqlite3.Connection the tests use, on PostgreSQL: '?'
    placeholders, rows by index and by name, commit, close, with."""

    def __init__(self, url, ro):
        import psycopg2
        self.con = psycopg2.connect(url)
        self.con.autocommit = ro
        self.row_factory = None

    def execute(self, sql, args=()):
        cur = self.con.cursor()
        cur.execute(_pg_params(sql), tuple(args))
        m = re.match(r"\s*INSERT\s+INTO\s+(\w+)", sql, re.I)
        return _PgCursor(cur, m.group(1) if m else None)

    def executescript(self, sql):
        self.con.cursor().execute(sql)

    def commit(self):
        self.con.commit()

    def close(self):
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.con.commit()
        else:
            self.con.rollback()
        return False


def connect(db, ro=False, timeout=10):
    """A connection to a site's database (a file or a PgUrl); read-only
    asks SQLite for mode=ro."""
    if isinstance(db, PgUrl):
        return _PgCon(db, ro)
    if ro:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=timeout)
    else:
        con = sqlite3.connect(str(db), timeout=timeout)
    return con


class SetupError(Exception):
    pass


def kiji_bin():
    b = os.environ.get("KIJI_BIN", "build/asan/kiji")
    p = Path(b)
    return p if p.is_absolute() else ROOT / p


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sanitizer_lines(text):
    return [ln for ln in text.splitlines() if any(m in ln for m in SANITIZER_MARKS)]


class State:
    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="kiji-it-"))
        self.db = new_db(self.tmp)
        self.port = None
        self.proc = None
        self.stderr_path = self.tmp / "serve.stderr"
        self.stdout_path = self.tmp / "serve.stdout"
        self.demo_stderr = ""
        now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
        self.now = now
        self.now_arg = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        self._model = None


def setup():
    """Builds the demo site and starts the server. Raises SetupError."""
    global _state
    if _state is not None:
        return _state
    binp = kiji_bin()
    if not os.access(binp, os.X_OK):
        raise SetupError("kiji binary not found or not executable: %s" % binp)
    st = State()
    _state = st
    cmd = [str(binp), "demo", "--db", str(st.db), "--articles", str(ARTICLES),
           "--comments", str(COMMENTS), "--seed", str(SEED), "--now", st.now_arg]
    try:
        r = subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise SetupError("kiji demo took more than 600 s")
    st.demo_stderr = r.stderr.decode("utf-8", "replace")
    if r.returncode != 0 or sanitizer_lines(st.demo_stderr):
        raise SetupError("kiji demo failed (exit %d): %s\n%s" % (
            r.returncode, " ".join(cmd), st.demo_stderr[-4000:]))
    if not st.db.exists():
        raise SetupError("kiji demo exited 0 but wrote no %s" % st.db)
    coalesce_off(binp, st.db)
    start_server(st)
    return st


# The tests read a page right after another client's write and expect to
# see it. kiji's default (cache.coalesce 4) may keep a page that changes
# faster than it renders for other readers a few ms more (README, "page
# cache"); the suite turns that off except where it tests it
# (test_breaking.py), so that "the next fetch shows it" stays exact.
COALESCE_OFF = ("cache.coalesce", "0")


def coalesce_off(binp, db):
    r = subprocess.run([str(binp), "config", "--db", str(db), "set", *COALESCE_OFF],
                       cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        raise SetupError("kiji config set %s failed: %s" % (
            " ".join(COALESCE_OFF), r.stderr.decode("utf-8", "replace")))


def start_server(st):
    st.port = free_port()
    cmd = [str(kiji_bin()), "serve", "--db", str(st.db),
           "--listen", "127.0.0.1:%d" % st.port]
    out = open(st.stdout_path, "wb")
    err = open(st.stderr_path, "wb")
    st.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL,
                               stdout=out, stderr=err)
    out.close()
    err.close()
    deadline = time.monotonic() + START_TIMEOUT
    last = None
    while time.monotonic() < deadline:
        if st.proc.poll() is not None:
            raise SetupError("kiji serve exited with %s before answering:\n%s" % (
                st.proc.returncode, read_stderr()[-4000:]))
        try:
            c = http.client.HTTPConnection("127.0.0.1", st.port, timeout=2)
            c.request("GET", "/")
            c.getresponse().read()
            c.close()
            return
        except OSError as e:
            last = e
            time.sleep(0.1)
        except http.client.HTTPException as e:
            last = e
            time.sleep(0.1)
    raise SetupError("kiji serve did not answer on port %d within %.0f s (%s)" % (
        st.port, START_TIMEOUT, last))


def read_stderr():
    if _state is None or not _state.stderr_path.exists():
        return ""
    return _state.stderr_path.read_text("utf-8", "replace")


def teardown():
    """Stops the server; returns a list of problems (empty when clean)."""
    global _state
    st = _state
    problems = stop_servers()
    if st is None:
        return problems
    if st.proc is not None:
        if st.proc.poll() is not None:
            problems.append("kiji serve had already exited (status %s) before teardown"
                            % st.proc.returncode)
        else:
            st.proc.send_signal(signal.SIGTERM)
            try:
                st.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                st.proc.kill()
                st.proc.wait(timeout=10)
                problems.append("kiji serve ignored SIGTERM for 5 s; killed")
            # LeakSanitizer only reports on a normal exit; a server that
            # exits on SIGTERM by the default action would hide leaks.
            if st.proc.returncode not in (0,):
                problems.append("kiji serve exit status after SIGTERM: %s (want 0)"
                                % st.proc.returncode)
        bad = sanitizer_lines(read_stderr())
        if bad:
            problems.append("sanitizer report from kiji serve:\n" + read_stderr()[-6000:])
    if os.environ.get("KIJI_KEEP_TMP"):
        print("kept", st.tmp)
    else:
        shutil.rmtree(st.tmp, ignore_errors=True)
    _state = None
    return problems


def state():
    if _state is None:
        raise SetupError("fixture not set up")
    return _state


def server_alive():
    return _state is not None and _state.proc is not None and _state.proc.poll() is None


# ---- HTTP ----------------------------------------------------------------------

class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.header_list = headers
        self.headers = {}
        for k, v in headers:
            self.headers.setdefault(k.lower(), v)
        self.body = body
        self._doc = None

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self):
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def doc(self):
        if self._doc is None:
            self._doc = htmldom.parse(self.body)
        return self._doc

    def __repr__(self):
        return "<Response %d %s, %d bytes>" % (self.status, self.content_type, len(self.body))


def request(method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
    """One request on a fresh connection; path is sent as is (no quoting)."""
    return request_port(state().port, method, path, body, headers, timeout)


def request_port(port, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
    """request() to the server on 127.0.0.1:port (see Server)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = {"Connection": "close"}
        hdrs.update(headers or {})
        skip_host = any(k.lower() == "host" for k in hdrs)
        c.putrequest(method, path, skip_host=skip_host, skip_accept_encoding=True)
        for k, v in hdrs.items():
            c.putheader(k, v)
        if body is not None:
            if isinstance(body, str):
                body = body.encode("utf-8")
            c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        r = c.getresponse()
        data = r.read()
        return Response(r.status, r.reason, r.getheaders(), data)
    finally:
        c.close()


def get(path, headers=None):
    return request("GET", path, headers=headers)


def head(path, headers=None):
    return request("HEAD", path, headers=headers)


def post(path, fields=None, body=None, headers=None):
    from urllib.parse import urlencode
    h = dict(headers or {})
    if fields is not None:
        body = urlencode(fields)
        h.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return request("POST", path, body=body or b"", headers=h)


def page(path, headers=None):
    """GET path, assert 200 text/html, return the Response (use .doc)."""
    r = get(path, headers)
    assert r.status == 200, "GET %s: status %d, want 200\n%s" % (path, r.status, r.text[:500])
    assert r.content_type == "text/html", "GET %s: Content-Type %r" % (
        path, r.header("content-type"))
    return r


def assert_alive():
    """The server still answers GET / with 200 and is still running."""
    assert server_alive(), "kiji serve is no longer running (exit %s)\n%s" % (
        _state.proc.poll() if _state and _state.proc else None, read_stderr()[-3000:])
    r = get("/")
    assert r.status == 200, "GET / after a bad request: %d" % r.status


def ids_from_links(nodes, attr="href"):
    out = []
    for n in nodes:
        m = re.fullmatch(r"/articles/([1-9][0-9]*)", n.get(attr) or "")
        assert m, "link %r is not /articles/<id>" % n.get(attr)
        out.append(int(m.group(1)))
    return out


def has_japanese(s):
    return re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", s) is not None


def ja_date(epoch, tz=JST):
    """'2022年 1月 09日' for an epoch in tz (the site's date form)."""
    d = dt.datetime.fromtimestamp(epoch, tz)
    return "%d年 %d月 %02d日" % (d.year, d.month, d.day)


def now_epoch():
    return int(time.time())


# ---- database ------------------------------------------------------------------

STATUS = ["draft", "scheduled", "published", "trash"]
KIND = ["post", "page"]
CTYPE = ["comment", "trackback", "pingback"]
CSTATUS = ["pending", "approved", "spam", "trash"]


def _enum(v, names):
    if v is None:
        return None
    if isinstance(v, int):
        return names[v] if 0 <= v < len(names) else str(v)
    s = str(v).strip().lower()
    if s.isdigit():
        i = int(s)
        return names[i] if i < len(names) else s
    return s


def _epoch(v):
    if v is None or v == "":
        return None
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).strip()
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    s = s.replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    d = dt.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return int(d.timestamp())


def _pick(row, *names, default=None):
    for n in names:
        if n in row.keys():
            return row[n]
    return default


class Obj(dict):
    __getattr__ = dict.get


class Model:
    """The demo site's rows, read once through a read-only connection."""

    def __init__(self, path):
        self.con = connect(path, ro=True)
        self.con.row_factory = sqlite3.Row
        if isinstance(path, PgUrl):
            self.tables = {r[0] for r in self.con.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()")}
        else:
            self.tables = {r[0] for r in self.con.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table','view')")}
        self._load()

    def table(self, *names, required=True):
        for n in names:
            if n in self.tables:
                return n
        if required:
            raise AssertionError("none of the tables %s in the database (have: %s)" % (
                names, ", ".join(sorted(self.tables))))
        return None

    def columns(self, table):
        if isinstance(self.con, _PgCon):
            return [r[0] for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = ?"
                " ORDER BY ordinal_position", (table,))]
        return [r[1] for r in self.con.execute("PRAGMA table_info(%s)" % table)]

    def _load(self):
        # settings
        self.settings = {}
        t = self.table("settings", "setting", "options", required=False)
        if t:
            cols = self.columns(t)
            k = "key" if "key" in cols else ("name" if "name" in cols else cols[0])
            v = "value" if "value" in cols else cols[1]
            for r in self.con.execute("SELECT %s, %s FROM %s" % (k, v, t)):
                self.settings[r[0]] = r[1]
        # categories
        self.categories = {}
        for r in self.con.execute("SELECT * FROM %s" % self.table("categories", "category")):
            c = Obj(id=r["id"], slug=r["slug"], name=r["name"],
                    parent_id=_pick(r, "parent_id", default=0) or 0)
            self.categories[c.id] = c
        self.cat_by_slug = {c.slug: c for c in self.categories.values()}
        # users
        self.users = {}
        t = self.table("users", "user", required=False)
        if t:
            for r in self.con.execute("SELECT * FROM %s" % t):
                self.users[r["id"]] = Obj(id=r["id"], name=_pick(r, "name", "login"),
                                          display_name=_pick(r, "display_name", "name"))
        # articles
        self.articles = {}
        for r in self.con.execute("SELECT * FROM %s" % self.table("articles", "article", "posts")):
            a = Obj(
                id=r["id"],
                kind=_enum(_pick(r, "kind", default=0), KIND),
                title=r["title"],
                slug=_pick(r, "slug"),
                body=_pick(r, "body", default="") or "",
                body_html=_pick(r, "body_html", default="") or "",
                body_text=_pick(r, "body_text", default="") or "",
                excerpt=_pick(r, "excerpt", default="") or "",
                status=_enum(r["status"], STATUS),
                published_at=_epoch(r["published_at"]),
                author_id=_pick(r, "author_id", "user_id"),
                category_id=_pick(r, "category_id", default=0) or 0,
                eyecatch=_pick(r, "eyecatch", default="") or "",
                eyecatch_credit=_pick(r, "eyecatch_credit", default="") or "",
            )
            self.articles[a.id] = a
        # sources
        self.sources = {}
        t = self.table("sources", "article_sources", "source", required=False)
        if t:
            cols = self.columns(t)
            order = next((c for c in ("position", "pos", "ord", "ordinal", "seq",
                                      "sort_order", "sort", "idx", "n", "rank")
                          if c in cols), "id" if "id" in cols else "rowid")
            for r in self.con.execute(
                    "SELECT article_id, title, url FROM %s ORDER BY article_id, %s"
                    % (t, order)):
                self.sources.setdefault(r[0], []).append((r[1], r[2]))
        # comments
        self.comments = {}
        for r in self.con.execute("SELECT * FROM %s" % self.table("comments", "comment")):
            c = Obj(
                id=r["id"],
                article_id=r["article_id"],
                parent_id=_pick(r, "parent_id", default=0) or 0,
                type=_enum(_pick(r, "type", "ctype", default=0), CTYPE),
                status=_enum(r["status"], CSTATUS),
                like_count=_pick(r, "like_count", "likes", default=0) or 0,
                created_at=_epoch(_pick(r, "created_at", "date")),
                nickname=_pick(r, "nickname", "author"),
                url=_pick(r, "url", default="") or "",
            )
            self.comments[c.id] = c
        # tags (optional, for related ordering)
        self.article_tags = {}
        t = self.table("article_tags", "articles_tags", "post_tags", required=False)
        if t:
            cols = self.columns(t)
            tc = "tag_id" if "tag_id" in cols else cols[1]
            for r in self.con.execute("SELECT article_id, %s FROM %s" % (tc, t)):
                self.article_tags.setdefault(r[0], set()).add(r[1])

    # ---- derived ----------------------------------------------------------
    def setting(self, key, default=None):
        return self.settings.get(key, default)

    def visible(self, a, now=None):
        now = now_epoch() if now is None else now
        return (a.status == "published" and a.published_at is not None
                and a.published_at <= now)

    def visible_posts(self, now=None):
        """Visible posts, newest first (published_at DESC, id DESC)."""
        v = [a for a in self.articles.values() if a.kind == "post" and self.visible(a, now)]
        v.sort(key=lambda a: (a.published_at, a.id), reverse=True)
        return v

    def approved_comments(self, article_id, types=("comment",)):
        return [c for c in self.comments.values()
                if c.article_id == article_id and c.status == "approved" and c.type in types]

    def comment_depth(self, c):
        d = 1
        seen = set()
        while c.parent_id:
            if c.id in seen:
                raise AssertionError("comment parent cycle at %d" % c.id)
            seen.add(c.id)
            c = self.comments[c.parent_id]
            d += 1
        return d

    def ancestor_at(self, c, depth):
        """c's ancestor (or c itself) at the given 1-based depth."""
        chain = [c]
        while chain[-1].parent_id:
            chain.append(self.comments[chain[-1].parent_id])
        chain.reverse()  # chain[0] is top level
        return chain[depth - 1]

    def display_depth_limit(self):
        for k in ("comments.thread_depth", "comments.depth", "comments.max_depth",
                  "comments.display_depth", "comment.depth", "thread_comments_depth"):
            v = self.settings.get(k)
            if v not in (None, ""):
                try:
                    return int(v)
                except ValueError:
                    pass
        return 5


def model():
    st = state()
    if st._model is None:
        st._model = Model(st.db)
    return st._model


# ---- more servers, each with its own database and settings -------------------------
#
# The shared demo server above runs the shipped defaults. Suites that need
# other settings (moderation, rate limits off, trusted proxies ...) or that
# kill their server start their own with server(name, settings={...}); every
# one is stopped, and checked for sanitizer reports, by teardown().

_servers = {}
_ip_counter = [0]
_ip_lock = threading.Lock()


def next_ip():
    """A client address never used before in this run (10.0.0.0/8), for
    X-Forwarded-For behind a trusted proxy: a fresh rate-limit bucket."""
    with _ip_lock:
        _ip_counter[0] += 1
        n = _ip_counter[0]
    hi, lo = divmod(n, 254)  # host part 1..254
    return "10.%d.%d.%d" % ((hi >> 8) & 255, hi & 255, lo + 1)


class Server:
    """One `kiji serve` on its own demo database. settings are applied with
    `kiji config set` before the server starts."""

    def __init__(self, name, articles=12, comments=4, seed=7, settings=None, env=None):
        self.name = name
        self.env = env  # extra environment variables for `kiji serve`
        self.serve_args = []  # extra arguments for `kiji serve`
        self.tmp = Path(tempfile.mkdtemp(prefix="kiji-it-%s-" % name))
        self.db = new_db(self.tmp)
        self.articles = articles
        self.comments = comments
        self.seed = seed
        settings = dict(settings or {})
        settings.setdefault(*COALESCE_OFF)
        self.settings = list(settings.items())
        self.port = None
        self.proc = None
        self.starts = 0
        self.expected_exit = False
        self._secret = None

    # ---- life cycle ----------------------------------------------------------
    def build(self):
        now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
        r = self.cli("demo", "--db", str(self.db), "--articles", str(self.articles),
                     "--comments", str(self.comments), "--seed", str(self.seed),
                     "--now", now.strftime("%Y-%m-%dT%H:%M:%SZ"), db=False, timeout=300)
        if not self.db.exists():
            raise SetupError("%s: kiji demo wrote no database\n%s" % (self.name, r.stderr))
        for k, v in self.settings:
            self.config_set(k, v)
        return self

    def cli(self, *args, check=True, db=True, timeout=60):
        """Runs `kiji ARGS` (with --db after the subcommand when db is true);
        returns the CompletedProcess (text). Raises on a non-zero exit or a
        sanitizer report when check is true."""
        cmd = [str(kiji_bin()), args[0]]
        if db:
            cmd += ["--db", str(self.db)]
        cmd += [str(a) for a in args[1:]]
        r = subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        res = subprocess.CompletedProcess(cmd, r.returncode, out, err)
        if sanitizer_lines(err):
            raise AssertionError("sanitizer report from %s:\n%s" % (" ".join(cmd), err[-4000:]))
        if check and r.returncode != 0:
            raise AssertionError("%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode,
                                                         out[-2000:], err[-2000:]))
        if PG and db and self.proc is not None and self.proc.poll() is None:
            self.synced()
        return res

    def synced(self, limit=2.0):
        """On PostgreSQL a running server hears of another process's commit
        by a notification a moment after it (README: within about 10 ms),
        where SQLite's next request sees it at once: waits until /readyz
        says every change in the log has been acted on, so that a test's
        next request sees what the CLI wrote, as on SQLite. Bounded; a
        server that cannot be ready (its database made unwritable on
        purpose) is left to the test."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                if self.get("/readyz").status == 200:
                    return
            except OSError:
                return
            time.sleep(0.005)

    def config_set(self, key, value):
        self.cli("config", "set", key, str(value))

    def config_get(self, key):
        return self.cli("config", "get", key).stdout.strip()

    @property
    def stderr_path(self):
        return self.tmp / ("serve.%d.stderr" % self.starts)

    def start(self):
        self.starts += 1
        self.port = free_port()
        self.expected_exit = False
        cmd = [str(kiji_bin()), "serve", "--db", str(self.db),
               "--listen", "127.0.0.1:%d" % self.port] + list(self.serve_args)
        err = open(self.stderr_path, "wb")
        env = None
        if self.env:
            env = dict(os.environ)
            env.update(self.env)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=err, env=env)
        err.close()
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError("%s: kiji serve exited with %s before answering:\n%s" % (
                    self.name, self.proc.returncode, self.read_stderr()[-4000:]))
            try:
                self.request("GET", "/", timeout=2)
                return self
            except (OSError, http.client.HTTPException) as e:
                last = e
                time.sleep(0.1)
        raise SetupError("%s: kiji serve did not answer on port %d within %.0f s (%s)" % (
            self.name, self.port, START_TIMEOUT, last))

    def read_stderr(self):
        p = self.stderr_path
        return p.read_text("utf-8", "replace") if p.exists() else ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL, as a crash would; the exit is expected."""
        if self.alive():
            self.expected_exit = True
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=20)

    def stop(self):
        """SIGTERM (SIGKILL after 5 s); returns a list of problems."""
        problems = []
        if self.proc is None:
            return problems
        if self.proc.poll() is not None:
            if not self.expected_exit:
                problems.append("%s: kiji serve had already exited (status %s)" % (
                    self.name, self.proc.returncode))
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                problems.append("%s: kiji serve ignored SIGTERM for 5 s; killed" % self.name)
            if self.proc.returncode != 0:
                problems.append("%s: kiji serve exit status after SIGTERM: %s (want 0)" % (
                    self.name, self.proc.returncode))
        for i in range(1, self.starts + 1):
            p = self.tmp / ("serve.%d.stderr" % i)
            text = p.read_text("utf-8", "replace") if p.exists() else ""
            if sanitizer_lines(text):
                problems.append("%s: sanitizer report from kiji serve (start %d):\n%s" % (
                    self.name, i, text[-6000:]))
        self.proc = None
        return problems

    def assert_alive(self):
        assert self.alive(), "%s: kiji serve is no longer running (exit %s)\n%s" % (
            self.name, self.proc and self.proc.poll(), self.read_stderr()[-3000:])

    # ---- HTTP ------------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
        return request_port(self.port, method, path, body, headers, timeout)

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def page(self, path, headers=None):
        r = self.get(path, headers)
        assert r.status == 200, "GET %s: status %d, want 200\n%s" % (path, r.status, r.text[:500])
        assert r.content_type == "text/html", "GET %s: Content-Type %r" % (
            path, r.header("content-type"))
        return r

    @property
    def origin(self):
        return "http://127.0.0.1:%d" % self.port

    # ---- database ---------------------------------------------------------------
    def sql(self, query, args=()):
        """Rows of a query on a fresh read-only connection (sees every commit)."""
        con = connect(self.db, ro=True)
        try:
            con.row_factory = sqlite3.Row
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def secret(self):
        if self._secret is None:
            rows = self.sql("SELECT value FROM settings WHERE key = 'secret.key'")
            assert rows, "%s: no secret.key in settings" % self.name
            self._secret = bytes.fromhex(rows[0][0])
        return self._secret

    def mint_token(self, article_id, hour):
        """A form token for article_id and an hour number, made the way the
        server makes them (guard.c: keyed BLAKE2b-128 over "form\\0",
        article id and hour as little-endian int64)."""
        import hashlib
        import struct
        mac = hashlib.blake2b(b"form\0" + struct.pack("<qq", article_id, hour),
                              digest_size=16, key=self.secret()).hexdigest()
        return "%d.%s" % (hour, mac)

    def visible_posts(self):
        """Ids of visible posts, newest first."""
        return [r[0] for r in self.sql(
            "SELECT id FROM articles WHERE kind = 'post' AND status = 'published' "
            "AND published_at <= ? ORDER BY published_at DESC, id DESC", (now_epoch(),))]


def server(name, start=True, **kw):
    """The extra server called name, built (and started unless start is
    false) on first use; teardown() stops it."""
    s = _servers.get(name)
    if s is None:
        s = Server(name, **kw)
        _servers[name] = s
        s.build()
        if start:
            s.start()
    return s


def stop_servers():
    problems = []
    for name in list(_servers):
        s = _servers.pop(name)
        try:
            problems.extend(s.stop())
        finally:
            if os.environ.get("KIJI_KEEP_TMP"):
                print("kept", s.tmp)
            else:
                shutil.rmtree(s.tmp, ignore_errors=True)
    return problems


class Visitor:
    """One reader: a cookie jar, and (behind a trusted proxy) an address
    sent as X-Forwarded-For. ip="rotate" sends a fresh address each
    request."""

    def __init__(self, srv, ip=None):
        self.srv = srv
        self.ip = ip
        self.cookies = {}

    def request(self, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
        h = {}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if self.ip == "rotate":
            h["X-Forwarded-For"] = next_ip()
        elif self.ip:
            h["X-Forwarded-For"] = self.ip
        h.update(headers or {})
        r = self.srv.request(method, path, body, h, timeout)
        for k, v in r.header_list:
            if k.lower() != "set-cookie":
                continue
            nv = v.split(";", 1)[0]
            name, _, val = nv.partition("=")
            name = name.strip()
            if re.search(r";\s*max-age=0\b", v, re.I) or val == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = val.strip()
        return r

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def page(self, path, headers=None):
        r = self.get(path, headers)
        assert r.status == 200, "GET %s: status %d, want 200\n%s" % (path, r.status, r.text[:500])
        return r

    def post(self, path, fields=None, body=None, headers=None):
        from urllib.parse import urlencode
        h = dict(headers or {})
        if fields is not None:
            body = urlencode(fields)
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return self.request("POST", path, body=body if body is not None else b"", headers=h)

    def post_json(self, path, obj, headers=None):
        import json
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        h.update(headers or {})
        body = obj if isinstance(obj, (bytes, str)) else json.dumps(obj, ensure_ascii=False)
        return self.request("POST", path, body=body, headers=h)
