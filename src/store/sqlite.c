/*
 * The SQLite driver (struct db_driver, store_int.h): one connection per
 * thread, opened NOMUTEX with WAL and synchronous=FULL (a write that
 * returned is on disk), the FTS5 tokenizer registered before the schema is
 * touched; statements prepared persistent, values bound SQLITE_STATIC
 * (the caller's memory until reset). Also the file side: mode 0600, the
 * shared flock kiji restore waits on, advice when it cannot be written.
 */
#include "store_int.h"
#include "schema.h"
#include "fts.h"
#include "../obs/obs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#define STORE_BUSY_MS 5000      /* wait this long for another writer */

/* Per connection: WAL survives in the file, the rest is per connection.
 * 4 MiB page cache per thread. Reads go through pread, not mmap: the
 * kernel's page cache holds the file either way, but mapped pages count
 * in kiji's RSS (up to the mmap size per thread) and a big site would
 * look hundreds of MB large. */
static const char store_pragmas[] =
    "PRAGMA journal_mode = WAL;" DB_CONN_PRAGMAS;

#define errf db_errf

/* SQLite result code -> store_err. Extended codes are on, so unique and
 * primary-key violations can be told from CHECK/NOT NULL/foreign keys.
 * SQLite reports ENOSPC and short writes as SQLITE_FULL; other refused
 * writes (EDQUOT, EFBIG, EROFS) come as SQLITE_IOERR, told apart by the
 * system's errno: SQLite's own record of it (sqlite3_system_errno) is not
 * kept on the commit path, so sys is errno as the failed step left it. */
static enum store_err
sq_err_map(void *h, int rc, int sys)
{
	sqlite3 *db = h;
	if (db != NULL && sqlite3_system_errno(db) != 0)
		sys = sqlite3_system_errno(db);
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return STORE_FULL;
	case SQLITE_READONLY:
		return STORE_READONLY;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		if (sys == ENOSPC || sys == EDQUOT || sys == EFBIG)
			return STORE_FULL;
		if (sys == EROFS || sys == EACCES || sys == EPERM)
			return STORE_READONLY;
		return STORE_ERROR;
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return STORE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return STORE_CONFLICT;
		return STORE_INVALID;
	case SQLITE_TOOBIG:
	case SQLITE_MISMATCH:
		return STORE_INVALID;
	default:
		return STORE_ERROR;
	}
}

/* ---- statements ------------------------------------------------------------- */

static int
sq_prepare(void *h, enum stmt id, const char *sql, void **st)
{
	(void)id;
	return sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    (sqlite3_stmt **)st, NULL);
}

static void
sq_finalize(void *st)
{
	sqlite3_finalize(st);
}

static int
sq_param(void *st, const char *name)
{
	return sqlite3_bind_parameter_index(st, name);
}

static int
sq_bind_int(void *st, int i, int64_t v)
{
	return sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static int
sq_bind_null(void *st, int i)
{
	return sqlite3_bind_null(st, i);
}

static int
sq_bind_text(void *st, int i, const char *v)
{
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static int
sq_bind_blob(void *st, int i, const void *p, size_t n)
{
	/* a NULL pointer would bind SQL NULL, not an empty blob */
	return n ? sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC)
		 : sqlite3_bind_zeroblob(st, i, 0);
}

static int
sq_step(void *st)
{
	int rc = sqlite3_step(st);
	return rc == SQLITE_ROW ? DB_ROW : rc == SQLITE_DONE ? DB_DONE : rc;
}

static void
sq_reset(void *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int64_t
sq_col_int(void *st, int i)
{
	return sqlite3_column_int64(st, i);
}

static double
sq_col_double(void *st, int i)
{
	return sqlite3_column_double(st, i);
}

static const char *
sq_col_text(void *st, int i, size_t *n)
{
	const char *p = (const char *)sqlite3_column_text(st, i);
	*n = p ? (size_t)sqlite3_column_bytes(st, i) : 0;
	return p;
}

static const void *
sq_col_blob(void *st, int i, size_t *n)
{
	const void *p = sqlite3_column_blob(st, i);
	*n = (size_t)sqlite3_column_bytes(st, i);
	return p != NULL ? p : *n == 0 ? "" : NULL;
}

/* ---- connections ------------------------------------------------------------ */

static void
sq_close(void *h)
{
	if (sqlite3_close(h) != SQLITE_OK)
		obs_error("store: close: %s", sqlite3_errmsg(h));
}

static bool
sq_autocommit(void *h)
{
	return sqlite3_get_autocommit(h) != 0;
}

static bool
sq_idle(void *h)
{
	if (!sqlite3_get_autocommit(h))
		return false;
	for (sqlite3_stmt *p = sqlite3_next_stmt(h, NULL); p != NULL;
	    p = sqlite3_next_stmt(h, p))
		if (sqlite3_stmt_busy(p))
			return false;
	return true;
}

static int64_t
sq_changes(void *h)
{
	return sqlite3_changes(h);
}

static int64_t
sq_last_id(void *h)
{
	return sqlite3_last_insert_rowid(h);
}

static const char *
sq_errmsg(void *h)
{
	return sqlite3_errmsg(h);
}

/* The integer a PRAGMA answers (0 when it does not). */
static int64_t
sq_pragma_int(void *h, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Runs a script of statements (a migration) in the caller's transaction. */
static int
sq_script(void *h, const char *sql, buf *err)
{
	char *msg = NULL;
	/* A migration that edits CREATE TABLE text (schema.c, v12) runs
	 * outside defensive mode, moves schema_version on so that every
	 * connection parses the schema again, and has it parsed here before
	 * the caller commits: an edit SQLite cannot read fails the migration
	 * instead of leaving a database nothing can open. Scripts are the
	 * build's own migrations, never input. */
	bool edit = strstr(sql, "PRAGMA writable_schema = ON") != NULL;
	int64_t cookie = 0;
	if (edit) {
		sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 0, NULL);
		cookie = sq_pragma_int(h, "PRAGMA schema_version");
	}
	int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK && edit) {
		char bump[64];
		snprintf(bump, sizeof(bump), "PRAGMA schema_version = %" PRId64 ";",
		    cookie + 1);
		rc = sqlite3_exec(h, bump, NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(h, "SELECT count(*) FROM sqlite_master;",
			    NULL, NULL, &msg);
	}
	if (edit)
		sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (rc != SQLITE_OK)
		errf(err, "%s", msg ? msg : sqlite3_errmsg(h));
	sqlite3_free(msg);
	return rc;
}

/* A batch's page cache (store_fts_defer); 0 the usual 4 MB of
 * DB_CONN_PRAGMAS. SQLite shrinks the cache to a smaller size at once.
 * A batch with a big cache also lets FTS5 gather a quarter of it (at
 * most 64 MB) in memory before it writes a segment. Its default, 1 MB,
 * made several small segments of each 500-article commit, each merged
 * again later: 6% of the 10,000-article demo's instructions. FTS5 keeps
 * the setting in its config table, so the batch's end puts 1 MB back. */
static void
sq_bulk(void *h, int cache_mib)
{
	char sql[128];
	bool big = cache_mib > 4;
	int hash_mib = big ? cache_mib / 4 : 1;
	if (hash_mib < 1 || hash_mib > 64)
		hash_mib = hash_mib < 1 ? 1 : 64;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d;",
	    big ? cache_mib * 1024 : 4096);
	sqlite3_exec(h, sql, NULL, NULL, NULL);
	snprintf(sql, sizeof(sql), "INSERT INTO articles_fts(articles_fts, rank)"
	    " VALUES ('hashsize', %d)", hash_mib * 1048576);
	sqlite3_exec(h, sql, NULL, NULL, NULL);
}

/* PRAGMA data_version: moves when another connection committed. */
static int64_t
sq_data_version(struct conn *c)
{
	struct q q = {0};
	enum store_err e;
	int64_t v = -1;
	if (db_open(&q, c, STMT_DATA_VERSION) == STORE_OK && db_row(&q, &e))
		v = db_col_int(&q, 0);
	db_close(&q);
	return v;
}

/* The name of the user this process runs as, for advice that must say
 * whom to give the files to; its number when the name cannot be looked
 * up (kiji serve's sandbox keeps /etc/passwd out of reach). */
static void
run_as(char *name, size_t size)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (getpwuid_r(geteuid(), &pw, tmp, sizeof tmp, &res) == 0 &&
	    res != NULL && strlen(pw.pw_name) < size)
		snprintf(name, size, "%s", pw.pw_name);
	else
		snprintf(name, size, "%u", (unsigned)geteuid());
}

/* The advice for a database this user cannot write, appended to err: the
 * chown and chmod that fix it, naming the files that exist. */
static void
readonly_advice(const char *path, buf *err)
{
	char user[64], side[PATH_MAX];
	char *copy = xstrdup(path);
	run_as(user, sizeof user);
	errf(err, "cannot be written by this user (%s, uid %u): kiji needs to "
	    "write the database, its -wal and -shm files and their directory; "
	    "give them to the user kiji runs as (chown %s", user,
	    (unsigned)geteuid(), user);
	for (int i = 0; i < 3; i++) {
		snprintf(side, sizeof side, "%s%s", path,
		    i == 0 ? "" : i == 1 ? "-wal" : "-shm");
		if (i == 0 || access(side, F_OK) == 0)
			errf(err, " %s", side);
	}
	errf(err, " %s && chmod u+rw %s) or run kiji as their owner",
	    dirname(copy), path);
	free(copy);
}

/* Once a process, before its first connection: no memory statistics.
 * With them on (SQLite's default) every allocation SQLite makes takes one
 * process-wide mutex, and the worker threads queued on it: a query that
 * sorts or groups (related articles) allocates dozens of times. kiji never
 * reads sqlite3_memory_used(). Too late (another caller initialised
 * SQLite first) is harmless: it answers SQLITE_MISUSE and nothing changes. */
static void
sq_global_init(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Opens a connection for s and sets it up. SQLite opens a file it may not
 * write read-only without a word: the first connection (store_open)
 * refuses that; a later one says so in *readonly and is kept for reading. */
static void *
sq_open(store *s, bool first, bool *readonly, buf *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *msg = NULL;
	int rc;

	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sq_global_init);
	/* NOMUTEX: a connection never leaves its thread */
	rc = sqlite3_open_v2(s->path, &db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		errf(err, "%s: %s", s->path,
		    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto err;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, STORE_BUSY_MS);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* the schema's FTS5 table names our tokenizer */
	if ((rc = store_fts_register(db)) != SQLITE_OK) {
		errf(err, "%s: cannot register the search tokenizer (FTS5): %s",
		    s->path, sqlite3_errstr(rc));
		goto err;
	}
	if (sqlite3_exec(db, store_pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		errf(err, "%s: %s", s->path, msg ? msg : "pragmas failed");
		goto err;
	}
	/* WAL can be refused (e.g. no shared memory on the file system); the
	 * durability promise rests on it, so say so instead of carrying on. */
	if (sqlite3_prepare_v2(db, db_stmts[STMT_JOURNAL_MODE].sql, -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_text(st, 0) == NULL ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		errf(err, "%s: cannot use WAL journal mode", s->path);
		goto err;
	}
	sqlite3_finalize(st);
	st = NULL;
	*readonly = sqlite3_db_readonly(db, "main") == 1;
	if (*readonly && first) {
		readonly_advice(s->path, err);
		goto err;
	}
	return db;
err:
	sqlite3_finalize(st);
	sqlite3_free(msg);
	if (db != NULL)
		sq_close(db);
	return NULL;
}

/* See store_int.h. */
struct sqlite3 *
db_sqlite_handle(void *h)
{
	return h;
}

/* ---- open, migrate, close ------------------------------------------------------- */

/*
 * Creates the database file mode 0600 before SQLite sees it (SQLite would
 * use the umask, and the file holds secrets); an existing empty file is
 * new too and gets the same mode. SQLite gives -wal/-shm the file's mode.
 */
bool
db_file_create(const char *path, buf *err)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		/* the umask could only have removed bits; make it exact */
		if (fchmod(fd, 0600) != 0) {
			errf(err, "%s: chmod: %s", path, strerror(errno));
			close(fd);
			return false;
		}
		close(fd);
		return true;
	}
	if (errno != EEXIST) {
		errf(err, "%s: %s", path, strerror(errno));
		return false;
	}
	if (stat(path, &st) != 0) {
		errf(err, "%s: %s", path, strerror(errno));
		return false;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0 &&
	    (st.st_mode & 07777) != 0600 && chmod(path, 0600) != 0) {
		errf(err, "%s: chmod: %s", path, strerror(errno));
		return false;
	}
	return true;
}

/*
 * See store.h. Whether this user may write what SQLite needs: the
 * directory (the -wal and -shm files are made there, uploads are spooled
 * there) and the files that exist. Said plainly here, because SQLite
 * itself would open an unwritable file read-only and fail only at the
 * first write. access(2) checks the real ids: right after kiji serve
 * --user has dropped root, both are the target user's.
 */
bool
store_writable(const char *path, buf *err)
{
	char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	char side[PATH_MAX];
	bool ok = true;
	if (access(dir, W_OK | X_OK) != 0) {
		const char *why = strerror(errno);
		char user[64];
		run_as(user, sizeof user);
		errf(err, "the directory %s cannot be written by this user (%s, "
		    "uid %u): %s; SQLite keeps the database's -wal and -shm "
		    "files beside it, so give the directory to the user kiji "
		    "runs as (chown %s %s && chmod u+rwx %s; every directory "
		    "above it must be searchable by %s)", dir, user,
		    (unsigned)geteuid(), why, user, dir, dir, user);
		ok = false;
	}
	for (int i = 0; ok && i < 3; i++) {
		snprintf(side, sizeof side, "%s%s", path,
		    i == 0 ? "" : i == 1 ? "-wal" : "-shm");
		if (access(side, F_OK) == 0 && access(side, W_OK) != 0) {
			int saved = errno;
			readonly_advice(path, err);
			errf(err, " (%s: %s)", side, strerror(saved));
			ok = false;
		}
	}
	free(copy);
	return ok;
}

/* See sqlite_int.h. */
int
db_file_lock(const char *path, int op, buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, op | LOCK_NB) == 0)
		return fd;
	int saved = errno;
	if (saved != EWOULDBLOCK)
		errf(err, "%s: flock: %s", path, strerror(saved));
	close(fd);
	errno = saved;
	return -1;
}

/* The shared lock every open store holds on its file: kiji restore takes
 * it exclusively, so it never writes under a server, and a server does not
 * start in the middle of a restore. The kernel drops it when the process
 * dies, kill -9 included. flock(2) locks are apart from the POSIX locks
 * SQLite takes; the descriptor stays open until store_close, after
 * SQLite's (closing any descriptor of the file drops POSIX locks). */
static bool
file_lock_shared(store *s, buf *err)
{
	s->lock_fd = db_file_lock(s->path, LOCK_SH, err);
	if (s->lock_fd < 0 && errno == EWOULDBLOCK)
		errf(err, "%s is being restored (kiji restore holds it); try "
		    "again when the restore has finished", s->path);
	return s->lock_fd >= 0;
}

/* See store_int.h: the writability check, the file (0600) and its lock.
 * An in-memory database is refused: every thread would get its own. */
bool
db_sqlite_prepare_file(store *s, buf *err)
{
	if (strcmp(s->path, ":memory:") == 0) {
		errf(err, "an in-memory database cannot be shared; use a file");
		return false;
	}
	if (!sqlite3_threadsafe()) {
		errf(err, "SQLite was built without thread support");
		return false;
	}
	return store_writable(s->path, err) &&
	    db_file_create(s->path, err) && file_lock_shared(s, err);
}

/* What is actually in force on this thread's connection, for tests and
 * the operator's status page. */
enum store_err
store_durability(store *s, buf *journal_mode, int *synchronous)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_JOURNAL_MODE)) != STORE_OK)
		goto err;
	if (!db_row(&q, &e)) {
		if (e == STORE_OK)
			e = STORE_ERROR; /* a pragma always answers */
		goto err;
	}
	buf_reset(journal_mode);
	buf_puts(journal_mode, db_col_text(&q, 0, NULL));
	db_close(&q);
	if ((e = db_open(&q, c, STMT_SYNCHRONOUS)) != STORE_OK)
		goto err;
	if (!db_row(&q, &e)) {
		if (e == STORE_OK)
			e = STORE_ERROR;
		goto err;
	}
	*synchronous = (int)db_col_int(&q, 0);
err:
	db_close(&q);
	return e;
}

const struct db_driver db_sqlite = {
	.name = "sqlite",
	.sql = NULL,
	.open = sq_open,
	.close = sq_close,
	.idle = sq_idle,
	.autocommit = sq_autocommit,
	.changes = sq_changes,
	.last_id = sq_last_id,
	.errmsg = sq_errmsg,
	.err_map = sq_err_map,
	.script = sq_script,
	.bulk = sq_bulk,
	.data_version = sq_data_version,
	.schema_version = store_schema_version,
	.migration = store_schema_migration,
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.param = sq_param,
	.bind_int = sq_bind_int,
	.bind_null = sq_bind_null,
	.bind_text = sq_bind_text,
	.bind_blob = sq_bind_blob,
	.step = sq_step,
	.reset = sq_reset,
	.col_int = sq_col_int,
	.col_double = sq_col_double,
	.col_text = sq_col_text,
	.col_blob = sq_col_blob,
	.fts_index = sqlite_fts_index,
	.fts_rebuild = sqlite_fts_rebuild,
	.fts_page = sqlite_fts_page,
};
