/*
 * store.h (every backend): what operations ask of a running store:
 * forgetting old addresses, the write probe of /readyz and the job
 * counts of /metrics.
 */
#include "store_int.h"

/* One statement: the index-free scan is fine once a day. */
enum store_err
store_comments_forget_ips(store *s, int64_t before, int64_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (n != NULL)
		*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_COMMENTS_FORGET_IPS)) != STORE_OK)
		goto err;
	db_int(&q, ":before", before);
	if ((e = db_exec(&q)) == STORE_OK && n != NULL)
		*n = db_changes(c);
err:
	db_close(&q);
	return e;
}

enum store_err
store_probe_write(store *s)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_PROBE_WRITE)) == STORE_OK)
		e = db_exec(&q);
	db_close(&q);
	return e;
}

enum store_err
store_jobs_pending(store *s, int64_t now, int64_t *waiting, int64_t *due)
{
	enum store_err e = db_one_int(s, STMT_JOBS_WAITING, NULL, 0, waiting);
	if (e == STORE_OK)
		e = db_one_int(s, STMT_JOBS_DUE, ":now", now, due);
	return e;
}
