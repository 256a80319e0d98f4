/*
 * kiji migrate's store side: a whole site copied from one store to
 * another, on the neutral db_* API alone, so any pair of drivers works
 * (SQLite to SQLite, SQLite to PostgreSQL and back). One entry per table
 * of the schema in foreign-key order; each is read a page at a time in key
 * order (keyset: the page's last key is where the next starts) and written
 * back row by row, ids kept, a page per transaction. Values travel as text
 * (NULL stays NULL; both databases turn "42" into an integer where the
 * column wants one), blobs as bytes. Every row is hashed on the way
 * (BLAKE2b over its columns, in C: no database function takes part), the
 * copy is hashed again when done, and the two are compared table by table.
 */
#include "store_int.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define COPY_PAGE 1000        /* rows a page, and a write transaction */
#define COPY_KEYS 2           /* key columns at most (composite keys) */
#define COPY_SUM_SHOW 8       /* checksum bytes the report shows */

/* One table: its statements and the shape of a row. */
struct copy_table {
	const char *name;
	enum stmt read, write;
	int nkey;                  /* leading columns that are the key */
	unsigned intkeys;          /* bit i: key column i is an integer */
	unsigned blobs;            /* bit i: column i is a BLOB (NOT NULL) */
	int parent;                /* column naming a row of this table that
	                            * may come later (-1: none), fixed by: */
	enum stmt fix;
	const char *const *cols;   /* parameter names, the read's order */
	int ncols;
};

static const char *const settings_cols[] = {
	":key", ":value"
};
static const char *const users_cols[] = {
	":id", ":name", ":display_name", ":role", ":pass_hash", ":created_at",
	":email", ":disabled", ":cred_epoch"
};
static const char *const categories_cols[] = {
	":id", ":parent_id", ":slug", ":name", ":description"
};
static const char *const tags_cols[] = {
	":id", ":slug", ":name"
};
static const char *const articles_cols[] = {
	":id", ":kind", ":status", ":published_at", ":updated_at",
	":author_id", ":category_id", ":comments_open", ":comment_count",
	":body_format", ":guid", ":legacy_id", ":slug", ":title", ":eyecatch",
	":eyecatch_credit", ":excerpt", ":body_text", ":body", ":body_html",
	":trashed_from", ":trashed_at", ":parent_id", ":menu_order"
};
static const char *const article_tags_cols[] = {
	":article_id", ":tag_id"
};
static const char *const sources_cols[] = {
	":article_id", ":pos", ":title", ":url"
};
static const char *const revisions_cols[] = {
	":id", ":article_id", ":title", ":body", ":body_format",
	":created_at", ":author_id", ":meta"
};
static const char *const comments_cols[] = {
	":id", ":article_id", ":parent_id", ":type", ":nickname", ":email",
	":url", ":ip", ":visitor_id", ":created_at", ":status", ":like_count",
	":legacy_id", ":body", ":pending_reason"
};
static const char *const likes_cols[] = {
	":comment_id", ":visitor_id", ":created_at"
};
static const char *const views_daily_cols[] = {
	":article_id", ":day", ":count"
};
static const char *const redirects_cols[] = {
	":from_path", ":to_path"
};
static const char *const sessions_cols[] = {
	":id_hash", ":user_id", ":csrf", ":cred_epoch", ":created_at",
	":seen_at", ":ip", ":user_agent"
};
static const char *const login_failures_cols[] = {
	":key", ":failures", ":last_at"
};
static const char *const bans_cols[] = {
	":id", ":kind", ":value", ":note", ":created_at"
};
static const char *const media_cols[] = {
	":rowid", ":name", ":type", ":data", ":mtime", ":width", ":height", ":filename",
	":uploader_id"
};
static const char *const jobs_cols[] = {
	":id", ":kind", ":payload", ":run_at", ":lease_until", ":attempts",
	":done_at", ":dedup_key", ":last_error"
};
static const char *const pings_cols[] = {
	":id", ":article_id", ":target", ":kind", ":endpoint", ":status",
	":attempts", ":last_error", ":created_at", ":updated_at"
};
static const char *const mail_addresses_cols[] = {
	":id", ":blind", ":sealed", ":created_at", ":confirmed_at",
	":unsubscribed_at", ":batch_at"
};
static const char *const mail_subscriptions_cols[] = {
	":comment_id", ":address_id", ":created_at"
};
static const char *const mail_queue_cols[] = {
	":id", ":address_id", ":comment_id", ":queued_at", ":sent_at"
};
static const char *const mail_log_cols[] = {
	":id", ":kind", ":dedup_key", ":address_id", ":ip_hash", ":at"
};
static const char *const change_log_cols[] = {
	":seq", ":kind", ":article_id", ":scope", ":comment_id"
};

#define TABLE(t, E, nkey, intkeys, blobs, parent, fix)                        \
	{#t, STMT_COPY_READ_##E, STMT_COPY_WRITE_##E, nkey, intkeys, blobs,   \
	    parent, fix, t##_cols, (int)(sizeof(t##_cols) / sizeof(t##_cols[0]))}

/* Foreign-key order: a row's references are copied before it (a parent
 * of the same table may come later: see fix). COPY_COUNTS counts them in
 * this order. The change log comes last (see copy_tables_run). */
static const struct copy_table copy_tables[] = {
	TABLE(settings, SETTINGS, 1, 0, 0, -1, STMT__MAX),
	TABLE(users, USERS, 1, 1, 0, -1, STMT__MAX),
	TABLE(categories, CATEGORIES, 1, 1, 0, 1, STMT_COPY_FIX_CATEGORY_PARENT),
	TABLE(tags, TAGS, 1, 1, 0, -1, STMT__MAX),
	TABLE(articles, ARTICLES, 1, 1, 0, 22, STMT_COPY_FIX_ARTICLE_PARENT),
	TABLE(article_tags, ARTICLE_TAGS, 2, 3, 0, -1, STMT__MAX),
	TABLE(sources, SOURCES, 2, 3, 0, -1, STMT__MAX),
	TABLE(revisions, REVISIONS, 1, 1, 0, -1, STMT__MAX),
	TABLE(comments, COMMENTS, 1, 1, 0, 2, STMT_COPY_FIX_COMMENT_PARENT),
	TABLE(likes, LIKES, 2, 1, 0, -1, STMT__MAX),
	TABLE(views_daily, VIEWS_DAILY, 2, 3, 0, -1, STMT__MAX),
	TABLE(redirects, REDIRECTS, 1, 0, 0, -1, STMT__MAX),
	TABLE(sessions, SESSIONS, 1, 0, 0, -1, STMT__MAX),
	TABLE(login_failures, LOGIN_FAILURES, 1, 0, 0, -1, STMT__MAX),
	TABLE(bans, BANS, 1, 1, 0, -1, STMT__MAX),
	TABLE(media, MEDIA, 1, 1, 1u << 3, -1, STMT__MAX),
	TABLE(jobs, JOBS, 1, 1, 0, -1, STMT__MAX),
	TABLE(pings, PINGS, 1, 1, 0, -1, STMT__MAX),
	TABLE(mail_addresses, MAIL_ADDRESSES, 1, 1, 1u << 2, -1, STMT__MAX),
	TABLE(mail_subscriptions, MAIL_SUBSCRIPTIONS, 1, 1, 0, -1, STMT__MAX),
	TABLE(mail_queue, MAIL_QUEUE, 1, 1, 0, -1, STMT__MAX),
	TABLE(mail_log, MAIL_LOG, 1, 1, 0, -1, STMT__MAX),
	TABLE(change_log, CHANGE_LOG, 1, 1, 0, -1, STMT__MAX),
};

#undef TABLE

#define COPY_N ((int)(sizeof(copy_tables) / sizeof(copy_tables[0])))

/*
 * A table's checksum: each row hashed alone (BLAKE2b-256 over its columns,
 * each as a NULL mark or its length and bytes), the row hashes added up as
 * four 64-bit lanes. A sum does not depend on the order rows come in:
 * PostgreSQL sorts text keys by the database's collation, SQLite by bytes,
 * and the same rows must give the same checksum on both.
 */
struct copy_sum {
	int64_t rows;
	uint64_t lane[4];
};

/* Adds the current row of q (table t's read) to sum. */
static void
copy_sum_row(struct copy_sum *sum, const struct copy_table *t, struct q *q)
{
	crypto_generichash_state h;
	unsigned char out[32];

	crypto_generichash_init(&h, NULL, 0, sizeof(out));
	for (int i = 0; i < t->ncols; i++) {
		size_t n;
		const void *p = t->blobs & (1u << i) ? db_col_blob(q, i, &n)
						     : db_col_text(q, i, &n);
		unsigned char head[9] = {p != NULL};
		for (int k = 0; k < 8; k++)
			head[1 + k] = (unsigned char)((uint64_t)n >> (8 * k));
		crypto_generichash_update(&h, head, p != NULL ? 9 : 1);
		if (p != NULL && n > 0)
			crypto_generichash_update(&h, p, n);
	}
	crypto_generichash_final(&h, out, sizeof(out));
	for (int l = 0; l < 4; l++) {
		uint64_t v = 0;
		for (int k = 0; k < 8; k++)
			v |= (uint64_t)out[l * 8 + k] << (8 * k);
		sum->lane[l] += v;
	}
	sum->rows++;
}

/* The checksum proper: BLAKE2b of the row count and the lanes. */
static void
copy_sum_final(const struct copy_sum *sum, unsigned char out[32])
{
	unsigned char in[40];
	uint64_t v[5] = {(uint64_t)sum->rows, sum->lane[0], sum->lane[1],
	    sum->lane[2], sum->lane[3]};
	for (int i = 0; i < 5; i++)
		for (int k = 0; k < 8; k++)
			in[i * 8 + k] = (unsigned char)(v[i] >> (8 * k));
	crypto_generichash(out, 32, in, sizeof(in), NULL, 0);
}

/* ---- walking a table ---------------------------------------------------------- */

/* What a walk calls for each row, and at the end of each page (e: how the
 * page went; what it returns is how the walk goes on). */
typedef enum store_err copy_row_fn(void *ctx, struct q *q);
typedef enum store_err copy_page_fn(void *ctx, enum store_err e);

/* The key of the last row read, kept across pages as text. */
struct copy_key {
	bool have;
	buf v[COPY_KEYS];
};

/* Whether q's current row has key k (the row a page starts with again). */
static bool
copy_key_same(const struct copy_table *t, const struct copy_key *k,
    struct q *q)
{
	for (int i = 0; i < t->nkey; i++) {
		size_t n;
		const char *p = db_col_text(q, i, &n);
		if (p == NULL || n != k->v[i].len ||
		    memcmp(p, buf_cstr((buf *)&k->v[i]), n) != 0)
			return false;
	}
	return true;
}

/* Binds where the next page starts: the last key, or below every key
 * for the first page: the empty string, or the smallest 32-bit integer
 * (a key column may be INTEGER on PostgreSQL, which refuses a bigint
 * bound to it; ids count from 1, positions and days from 0). */
static void
copy_key_bind(const struct copy_table *t, const struct copy_key *k,
    struct q *q)
{
	static const char *const names[COPY_KEYS] = {":k0", ":k1"};
	for (int i = 0; i < t->nkey; i++) {
		const char *v = k->have ? buf_cstr((buf *)&k->v[i]) : "";
		if (t->intkeys & (1u << i))
			db_int(q, names[i], k->have ? strtoll(v, NULL, 10)
			    : INT32_MIN);
		else
			db_text(q, names[i], v);
	}
	db_int(q, ":limit", COPY_PAGE);
}

/*
 * Reads every row of table t on c in key order, a page at a time, adding
 * each to sum and handing it to row (when not NULL); page (when not NULL)
 * ends each page. Pages start at the last key seen (>=) so that no key,
 * not even '', lies below the first page; that row is skipped.
 */
static enum store_err
copy_walk(struct conn *c, const struct copy_table *t, struct copy_sum *sum,
    copy_row_fn *row, copy_page_fn *page, void *ctx)
{
	struct copy_key k = {0};
	struct q q = {0};
	enum store_err e = STORE_OK;
	bool more = true;

	for (int i = 0; i < COPY_KEYS; i++)
		buf_init(&k.v[i], 0);
	while (more && e == STORE_OK) {
		int64_t got = 0;
		if ((e = db_open(&q, c, t->read)) != STORE_OK)
			break;
		copy_key_bind(t, &k, &q);
		while (e == STORE_OK && db_row(&q, &e)) {
			if (got++ == 0 && k.have && copy_key_same(t, &k, &q))
				continue;
			copy_sum_row(sum, t, &q);
			if (row != NULL && (e = row(ctx, &q)) != STORE_OK)
				break;
			for (int i = 0; i < t->nkey; i++) {
				size_t n;
				const char *p = db_col_text(&q, i, &n);
				buf_reset(&k.v[i]);
				buf_put(&k.v[i], p ? p : "", n);
				if (k.v[i].err)
					e = STORE_ERROR;
			}
			k.have = true;
		}
		db_close(&q);
		more = got == COPY_PAGE;
		if (page != NULL)
			e = page(ctx, e);
	}
	db_close(&q);
	for (int i = 0; i < COPY_KEYS; i++)
		buf_free(&k.v[i]);
	return e;
}

/* The row counts of every table (COPY_COUNTS), in copy_tables' order. */
static enum store_err
copy_counts(struct conn *c, int64_t counts[COPY_N])
{
	struct q q = {0};
	enum store_err e = db_open(&q, c, STMT_COPY_COUNTS);
	if (e == STORE_OK && db_row(&q, &e))
		for (int i = 0; i < COPY_N; i++)
			counts[i] = db_col_int(&q, i);
	else if (e == STORE_OK)
		e = STORE_ERROR; /* a count always answers */
	db_close(&q);
	return e;
}

/* ---- the copy ------------------------------------------------------------------ */

/* A parent row (same table) that comes after its child: set afterwards. */
struct copy_fix {
	int64_t id, parent;
};

/* One run of store_copy. */
struct copy_run {
	struct conn *from, *to;
	const struct copy_table *t;
	struct tx tx;                  /* the page being written on to */
	struct store_copy_progress p;
	store_copy_progress_fn *cb;
	void *ctx;
	arena *a;
	struct copy_fix *fix;          /* t's parents to set afterwards */
	size_t nfix, capfix;
};

/* Binds column i of the source row in q to the write w: text (NULL kept
 * as NULL) or bytes. Pointers stay the source row's until w is closed. */
static void
copy_bind(const struct copy_table *t, int i, struct q *q, struct q *w,
    bool null)
{
	size_t n;
	if (t->blobs & (1u << i)) {
		const void *p = db_col_blob(q, i, &n);
		db_blob(w, t->cols[i], p, n);
		return;
	}
	const char *v = null ? NULL : db_col_text(q, i, &n);
	if (v == NULL)
		db_id(w, t->cols[i], 0); /* 0 is NULL */
	else
		db_text(w, t->cols[i], v);
}

/* copy_walk's row: writes the source row to the destination, opening the
 * page's transaction first. A parent with a later id than its child is
 * written NULL and remembered. */
static enum store_err
copy_row(void *ctx, struct q *q)
{
	struct copy_run *r = ctx;
	const struct copy_table *t = r->t;
	struct q w = {0};
	enum store_err e;
	bool later = false;

	if (!r->tx.active &&
	    (e = db_tx_begin(r->to, true, &r->tx)) != STORE_OK)
		return e;
	if (t->parent >= 0 && db_col_text(q, t->parent, NULL) != NULL) {
		int64_t id = db_col_int(q, 0), parent = db_col_int(q, t->parent);
		if ((later = parent >= id)) {
			r->fix = db_grow(r->a, r->fix, r->nfix, &r->capfix,
			    sizeof(*r->fix));
			r->fix[r->nfix++] = (struct copy_fix){id, parent};
		}
	}
	if ((e = db_open(&w, r->to, t->write)) != STORE_OK)
		return e;
	for (int i = 0; i < t->ncols; i++)
		copy_bind(t, i, q, &w, later && i == t->parent);
	e = db_exec(&w);
	db_close(&w);
	r->p.table_done++;
	r->p.done++;
	return e;
}

/* copy_walk's page end: the triggers' change log rows go (the source's
 * log is copied last), the page commits (or rolls back on an error), the
 * progress is told. */
static enum store_err
copy_page(void *ctx, enum store_err e)
{
	struct copy_run *r = ctx;
	if (e == STORE_OK && r->tx.active && r->t->read != STMT_COPY_READ_CHANGE_LOG)
		e = db_conn_run(r->to, STMT_COPY_CHANGES_CLEAR);
	e = db_tx_end(r->to, &r->tx, e);
	if (e == STORE_OK && r->cb != NULL)
		r->cb(r->ctx, &r->p);
	return e;
}

/* Sets the parents remembered while copying table t, in one transaction. */
static enum store_err
copy_fixes(struct copy_run *r)
{
	struct tx tx = {0};
	struct q q = {0};
	enum store_err e = STORE_OK;
	if (r->nfix == 0)
		return STORE_OK;
	if ((e = db_tx_begin(r->to, true, &tx)) != STORE_OK)
		return e;
	for (size_t i = 0; i < r->nfix && e == STORE_OK; i++) {
		if ((e = db_open(&q, r->to, r->t->fix)) != STORE_OK)
			break;
		db_int(&q, ":id", r->fix[i].id);
		db_int(&q, ":parent", r->fix[i].parent);
		e = db_exec(&q);
		db_close(&q);
	}
	if (e == STORE_OK)
		e = db_conn_run(r->to, STMT_COPY_CHANGES_CLEAR);
	r->nfix = 0;
	return db_tx_end(r->to, &tx, e);
}

/* ---- checking and reporting ------------------------------------------------------ */

/* Whether two tables' checksums (and so their rows) agree. */
static bool
copy_sum_equal(const struct copy_sum *a, const struct copy_sum *b)
{
	unsigned char x[32], y[32];
	copy_sum_final(a, x);
	copy_sum_final(b, y);
	return a->rows == b->rows && memcmp(x, y, sizeof(x)) == 0;
}

/* The report, a line per table: rows on both sides, the checksum (its
 * first bytes in hex) and ok or MISMATCH; STORE_ERROR, the tables named
 * in err, when any differs. */
static enum store_err
copy_report(const struct copy_sum *from, const struct copy_sum *to,
    buf *report, buf *err)
{
	int bad = 0;
	buf_printf(report, "%-20s %10s %10s  %s\n", "table", "source",
	    "copy", "checksum");
	for (int i = 0; i < COPY_N; i++) {
		unsigned char x[32], y[32];
		char hx[2 * COPY_SUM_SHOW + 1], hy[2 * COPY_SUM_SHOW + 1];
		bool ok = copy_sum_equal(&from[i], &to[i]);
		copy_sum_final(&from[i], x);
		copy_sum_final(&to[i], y);
		sodium_bin2hex(hx, sizeof(hx), x, COPY_SUM_SHOW);
		sodium_bin2hex(hy, sizeof(hy), y, COPY_SUM_SHOW);
		buf_printf(report, "%-20s %10" PRId64 " %10" PRId64 "  %s  ",
		    copy_tables[i].name, from[i].rows, to[i].rows, hx);
		if (ok)
			buf_puts(report, "ok\n");
		else
			buf_printf(report, "MISMATCH (copy: %s)\n", hy);
		if (!ok) {
			db_errf(err, "%s%s", bad++ ? ", " : "the copy differs "
			    "from the source in: ", copy_tables[i].name);
		}
	}
	return bad ? STORE_ERROR : STORE_OK;
}

/* Checksums every table of the store on c into sums (progress told as
 * checking). */
static enum store_err
copy_sum_all(struct conn *c, struct copy_sum *sums, const int64_t *counts,
    store_copy_progress_fn *cb, void *ctx)
{
	struct store_copy_progress p = {.checking = true};
	enum store_err e = STORE_OK;
	for (int i = 0; i < COPY_N; i++)
		p.total += counts[i];
	for (int i = 0; i < COPY_N && e == STORE_OK; i++) {
		p.table = copy_tables[i].name;
		p.table_total = counts[i];
		e = copy_walk(c, &copy_tables[i], &sums[i], NULL, NULL, NULL);
		p.table_done = sums[i].rows;
		p.done += sums[i].rows;
		if (e == STORE_OK && cb != NULL)
			cb(ctx, &p);
	}
	return e;
}

/* ---- store.h ------------------------------------------------------------------- */

/* See store.h. */
bool
store_url_is_pg(const char *url)
{
	return url != NULL && (strncmp(url, "postgresql://", 13) == 0 ||
	    strncmp(url, "postgres://", 11) == 0);
}

/* See store.h. */
const char *
store_file(const char *url)
{
	if (url == NULL || store_url_is_pg(url))
		return NULL;
	return strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
}

/* See store.h: the driver's fts_rebuild in a write transaction (SQLite
 * rebuilds FTS5 from its view, PostgreSQL makes search_docs' rows). */
enum store_err
store_search_reindex(store *s)
{
	struct conn *c = db_conn_get(s);
	struct tx tx = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, true, &tx)) != STORE_OK)
		return e;
	e = s->drv->fts_rebuild(c);
	return db_tx_end(c, &tx, e);
}

/* Refuses a destination with any row in any table, naming them in err. */
static enum store_err
copy_check_empty(struct conn *to, buf *err)
{
	int64_t counts[COPY_N];
	enum store_err e = copy_counts(to, counts);
	int full = 0;
	if (e != STORE_OK) {
		db_errf(err, "cannot count the destination's rows: %s",
		    store_strerror(e));
		return e;
	}
	for (int i = 0; i < COPY_N; i++)
		if (counts[i] != 0)
			db_errf(err, "%s%s (%" PRId64 " rows)", full++ ? ", " :
			    "the destination is not empty: ", copy_tables[i].name,
			    counts[i]);
	if (full) {
		db_errf(err, "; copy into a new, empty database");
		return STORE_CONFLICT;
	}
	return STORE_OK;
}

/* The copy itself, table by table inside the source's read snapshot;
 * the source's checksums into from[], progress told. */
static enum store_err
copy_tables_run(struct copy_run *r, struct copy_sum *from, buf *err)
{
	int64_t counts[COPY_N];
	struct tx snap = {0};
	enum store_err e;

	/* one snapshot of the source for the counts and every table */
	if ((e = db_tx_begin(r->from, false, &snap)) != STORE_OK)
		goto err;
	if ((e = copy_counts(r->from, counts)) != STORE_OK)
		goto err;
	for (int i = 0; i < COPY_N; i++)
		r->p.total += counts[i];
	for (int i = 0; i < COPY_N && e == STORE_OK; i++) {
		r->t = &copy_tables[i];
		r->p.table = r->t->name;
		r->p.table_done = 0;
		r->p.table_total = counts[i];
		e = copy_walk(r->from, r->t, &from[i], copy_row, copy_page, r);
		if (e == STORE_OK)
			e = copy_fixes(r);
		if (e != STORE_OK)
			db_errf(err, "copying %s: %s", r->t->name,
			    store_strerror(e));
	}
err:
	e = db_tx_end(r->from, &snap, e);
	if (e != STORE_OK && err != NULL && err->len == 0)
		db_errf(err, "reading the source: %s", store_strerror(e));
	return e;
}

/* See store.h. */
enum store_err
store_copy(store *from, store *to, store_copy_progress_fn *cb, void *ctx,
    buf *report, buf *err)
{
	struct copy_sum sfrom[COPY_N], sto[COPY_N];
	struct copy_run r = {.cb = cb, .ctx = ctx};
	enum store_err e;
	int64_t counts[COPY_N];

	memset(sfrom, 0, sizeof(sfrom));
	memset(sto, 0, sizeof(sto));
	if (sodium_init() < 0)
		return STORE_ERROR;
	if (from == to || (from->drv == to->drv &&
	    strcmp(from->path, to->path) == 0)) {
		db_errf(err, "the source and the destination are the same "
		    "database");
		return STORE_INVALID;
	}
	if ((r.from = db_conn_get(from)) == NULL ||
	    (r.to = db_conn_get(to)) == NULL)
		return STORE_ERROR;
	if ((e = copy_check_empty(r.to, err)) != STORE_OK)
		return e;
	r.a = arena_new(0);
	e = copy_tables_run(&r, sfrom, err);
	arena_free(r.a);
	if (e != STORE_OK)
		return e;
	/* new rows continue past the copied ids (the change log's too) */
	if ((e = db_conn_run(r.to, STMT_COPY_SEQUENCES)) != STORE_OK) {
		db_errf(err, "setting the destination's sequences: %s",
		    store_strerror(e));
		return e;
	}
	if ((e = store_search_reindex(to)) != STORE_OK) {
		db_errf(err, "building the destination's search index: %s",
		    store_strerror(e));
		return e;
	}
	for (int i = 0; i < COPY_N; i++)
		counts[i] = sfrom[i].rows;
	if ((e = copy_sum_all(r.to, sto, counts, cb, ctx)) != STORE_OK) {
		db_errf(err, "reading the copy back: %s", store_strerror(e));
		return e;
	}
	return copy_report(sfrom, sto, report, err);
}

/* See store.h. */
enum store_err
store_copy_verify(store *a, store *b, store_copy_progress_fn *cb, void *ctx,
    buf *report, buf *err)
{
	struct copy_sum sa[COPY_N], sb[COPY_N];
	int64_t counts[COPY_N];
	struct conn *ca = db_conn_get(a), *cb_ = db_conn_get(b);
	struct tx snap = {0};
	enum store_err e;

	memset(sa, 0, sizeof(sa));
	memset(sb, 0, sizeof(sb));
	if (sodium_init() < 0 || ca == NULL || cb_ == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(ca, false, &snap)) == STORE_OK &&
	    (e = copy_counts(ca, counts)) == STORE_OK)
		e = copy_sum_all(ca, sa, counts, cb, ctx);
	e = db_tx_end(ca, &snap, e);
	if (e == STORE_OK && (e = db_tx_begin(cb_, false, &snap)) == STORE_OK)
		e = copy_sum_all(cb_, sb, counts, cb, ctx);
	e = db_tx_end(cb_, &snap, e);
	if (e != STORE_OK) {
		db_errf(err, "reading: %s", store_strerror(e));
		return e;
	}
	return copy_report(sa, sb, report, err);
}
