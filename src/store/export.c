/*
 * store.h (every backend): the reads `kiji export-wxr` pages through. Every
 * walk is keyset on the primary key (id > last seen, LIMIT n), so a page
 * costs the same at the end of a big site as at its start and memory
 * holds one page; the caller wraps the walk in one read transaction
 * (store_begin) for a consistent snapshot. Comments: comments.c.
 */
#include "store_int.h"

#include <stdio.h>

enum store_err
store_export_article_ids(store *s, int64_t after, int64_t limit, arena *a,
    int64_t **ids, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*ids = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_EXPORT_ARTICLE_IDS)) != STORE_OK)
		goto err;
	db_int(&q, ":after", after);
	db_int(&q, ":limit", limit);
	*ids = db_rows(&q, a, sizeof(**ids), db_id_row, n, &e);
err:
	db_close(&q);
	return e;
}

enum store_err
store_export_tags(store *s, int64_t after, int64_t limit, arena *a,
    struct store_tag **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_EXPORT_TAGS)) != STORE_OK)
		goto err;
	db_int(&q, ":after", after);
	db_int(&q, ":limit", limit);
	*out = db_rows(&q, a, sizeof(**out), db_tag_row, n, &e);
err:
	db_close(&q);
	return e;
}

/* A deferred BEGIN: the snapshot starts at the first read and, the
 * database being in WAL mode, writers (a running server) go on. */
enum store_err
store_snapshot_begin(store *s)
{
	struct conn *c = db_conn_get(s);
	if (c == NULL)
		return STORE_ERROR;
	if (c->in_tx || !db_autocommit(c)) {
		fprintf(stderr, "store: store_snapshot_begin inside a transaction\n");
		return STORE_ERROR;
	}
	return db_conn_run(c, STMT_BEGIN);
}

enum store_err
store_snapshot_end(store *s)
{
	struct conn *c = db_conn_get(s);
	if (c == NULL)
		return STORE_ERROR;
	if (db_autocommit(c))
		return STORE_OK; /* nothing open (or rolled back by an error) */
	return db_conn_run(c, STMT_COMMIT);
}

enum store_err
store_export_author_ids(store *s, arena *a, int64_t **ids, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*ids = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_EXPORT_AUTHOR_IDS)) != STORE_OK)
		goto err;
	*ids = db_rows(&q, a, sizeof(**ids), db_id_row, n, &e);
err:
	db_close(&q);
	return e;
}
