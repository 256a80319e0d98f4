/*
 * store.h (every backend): reply notifications by e-mail. Addresses arrive here
 * sealed and blind-indexed (src/mail/ does the cryptography; the key is
 * never in the database); this file keeps subscriptions, the queue of
 * replies waiting for their batch, and the log that makes each mail once
 * and counts the daily limits. A reply is queued by the same transaction
 * that stores or approves it (db_mail_reply), so no writer (server, CLI,
 * the editor's moderation) can approve one without its notification.
 */
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Adds a keyed job in c's transaction; *added when it is new. */
static enum store_err
mail_job(struct conn *c, const char *kind, const char *payload,
    int64_t run_at, const char *key, bool *added)
{
	struct q q = {0};
	enum store_err e;
	if ((e = db_open(&q, c, STMT_JOB_ADD_KEY)) != STORE_OK)
		goto err;
	db_text(&q, ":kind", kind);
	db_text(&q, ":payload", payload);
	db_int(&q, ":run_at", run_at);
	db_text(&q, ":key", key);
	if ((e = db_exec(&q)) == STORE_OK && added)
		*added = db_changes(c) > 0;
err:
	db_close(&q);
	return e;
}

/* COUNT(*) of a statement with :address or :ip and :since. */
static enum store_err
mail_count(struct conn *c, enum stmt id, int64_t address, const char *ip,
    int64_t since, int64_t *n)
{
	struct q q = {0};
	enum store_err e;
	*n = 0;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	if (ip)
		db_text(&q, ":ip", ip);
	else
		db_int(&q, ":address", address);
	db_int(&q, ":since", since);
	if (db_row(&q, &e))
		*n = db_col_int(&q, 0);
err:
	db_close(&q);
	return e;
}

static enum store_err
mail_log_add(struct conn *c, const char *kind, const char *key,
    int64_t address, const char *ip, int64_t now, int64_t *id)
{
	struct q q = {0};
	enum store_err e;
	if ((e = db_open(&q, c, STMT_MAIL_LOG_ADD)) != STORE_OK)
		goto err;
	db_text(&q, ":kind", kind);
	db_text_null(&q, ":key", key);
	db_id(&q, ":address", address);
	db_text(&q, ":ip", ip ? ip : "");
	db_int(&q, ":now", now);
	if ((e = db_exec(&q)) == STORE_OK && id)
		*id = db_last_id(c);
err:
	db_close(&q);
	return e;
}

enum store_err
store_mail_subscribe(store *s, const struct store_mail_sub *in,
    struct store_mail_sub_out *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	int64_t id = 0, confirmed = 0, unsub = 0;
	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return STORE_ERROR;
	if (in->blind == NULL || *in->blind == '\0' || in->sealed_len == 0)
		return STORE_INVALID;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = db_open(&q, c, STMT_MAIL_ADDRESS_ADD)) != STORE_OK)
		goto err;
	db_text(&q, ":blind", in->blind);
	db_blob(&q, ":sealed", in->sealed, in->sealed_len);
	db_int(&q, ":now", in->now);
	if (db_row(&q, &e)) {
		id = db_col_int(&q, 0);
		confirmed = db_col_int(&q, 1);
		unsub = db_col_int(&q, 2);
	} else if (e == STORE_OK) {
		e = STORE_ERROR;
	}
	db_close(&q);
	if (e != STORE_OK)
		goto err;
	if (unsub) {
		if ((e = db_open(&q, c, STMT_MAIL_ADDRESS_RESTART)) != STORE_OK)
			goto err;
		db_blob(&q, ":sealed", in->sealed, in->sealed_len);
		db_int(&q, ":id", id);
		if ((e = db_exec(&q)) != STORE_OK)
			goto err;
		db_close(&q);
		confirmed = 0;
	}
	if ((e = db_open(&q, c, STMT_MAIL_SUBSCRIBE)) != STORE_OK)
		goto err;
	db_int(&q, ":comment", in->comment_id);
	db_int(&q, ":address", id);
	db_int(&q, ":now", in->now);
	if ((e = db_exec(&q)) != STORE_OK)
		goto err;
	db_close(&q);
	out->address_id = id;
	out->confirmed = confirmed > 0;
	if (confirmed)
		goto err;
	/* not confirmed: ask, within the day's limits per address and IP */
	int64_t na = 0, ni = 0, ask = 0;
	if ((e = mail_count(c, STMT_MAIL_ASKED_COUNT, id, NULL, in->since,
	    &na)) != STORE_OK)
		goto err;
	if (in->ip_hash && *in->ip_hash && (e = mail_count(c,
	    STMT_MAIL_ASKED_IP_COUNT, 0, in->ip_hash, in->since, &ni)) !=
	    STORE_OK)
		goto err;
	if (na >= in->ask_max || ni >= in->ask_max)
		goto err;
	if ((e = mail_log_add(c, "asked", NULL, id, in->ip_hash, in->now,
	    &ask)) != STORE_OK)
		goto err;
	char payload[96], key[64];
	snprintf(payload, sizeof(payload), "{\"address\":%" PRId64
	    ",\"ask\":%" PRId64 "}", id, ask);
	snprintf(key, sizeof(key), "mail-confirm:%" PRId64, ask);
	e = mail_job(c, "mail-confirm", payload, in->now, key, &out->asked);
err:
	db_close(&q);
	e = db_tx_end(c, &t, e);
	if (e == STORE_OK && out->asked)
		db_job_added(s);
	if (e != STORE_OK)
		memset(out, 0, sizeof(*out));
	return e;
}

enum store_err
store_mail_address_get(store *s, int64_t id, arena *a,
    struct store_mail_address *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_MAIL_ADDRESS_GET)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	if (db_row(&q, &e)) {
		out->id = db_col_int(&q, 0);
		out->blind = db_col_str(a, &q, 1);
		size_t n;
		const void *p = db_col_blob(&q, 2, &n);
		void *copy = arena_alloc(a, n ? n : 1);
		if (p && n)
			memcpy(copy, p, n);
		out->sealed = copy;
		out->sealed_len = n;
		out->created_at = db_col_int(&q, 3);
		out->confirmed_at = db_col_int(&q, 4);
		out->unsubscribed_at = db_col_int(&q, 5);
		out->batch_at = db_col_int(&q, 6);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	db_close(&q);
	return e;
}

/* One UPDATE by :id and :now; *changed whether a row changed. */
static enum store_err
mail_set(struct conn *c, enum stmt id, int64_t row, int64_t now,
    bool *changed)
{
	struct q q = {0};
	enum store_err e;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	db_int(&q, ":id", row);
	if (db_has_param(&q, ":now")) /* not every one */
		db_int(&q, ":now", now);
	if ((e = db_exec(&q)) == STORE_OK && changed)
		*changed = db_changes(c) > 0;
err:
	db_close(&q);
	return e;
}

enum store_err
store_mail_confirm(store *s, int64_t id, int64_t now, bool *changed)
{
	struct conn *c = db_conn_get(s);
	bool ch = false;
	if (changed)
		*changed = false;
	if (c == NULL)
		return STORE_ERROR;
	enum store_err e = mail_set(c, STMT_MAIL_CONFIRM, id, now, &ch);
	if (changed)
		*changed = ch;
	return e;
}

enum store_err
store_mail_unsubscribe(store *s, int64_t id, int64_t now, bool *changed)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	bool ch = false;
	if (changed)
		*changed = false;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = mail_set(c, STMT_MAIL_UNSUBSCRIBE, id, now, &ch)) != STORE_OK)
		goto err;
	/* what waits for this address is not sent any more */
	if ((e = db_open(&q, c, STMT_MAIL_QUEUE_DROP)) != STORE_OK)
		goto err;
	db_int(&q, ":address", id);
	e = db_exec(&q);
err:
	db_close(&q);
	e = db_tx_end(c, &t, e);
	if (e == STORE_OK && changed)
		*changed = ch;
	return e;
}

enum store_err
db_mail_reply(struct conn *c, int64_t id, int64_t now, bool *queued)
{
	struct q q = {0};
	enum store_err e;
	struct {
		int64_t queue, address;
	} rows[16];
	size_t n = 0;
	*queued = false;
	/* most parents have no subscriber: a plain lookup says so, where
	 * the insert's RETURNING costs SQLite a temporary table each time */
	if ((e = db_open(&q, c, STMT_MAIL_REPLY_WATCHED)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	bool watched = db_row(&q, &e);
	db_close(&q);
	if (!watched)
		goto err;
	if ((e = db_open(&q, c, STMT_MAIL_QUEUE_REPLY)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	db_int(&q, ":now", now);
	/* one parent has one subscription (comment_id is its key) */
	while (db_row(&q, &e))
		if (n < sizeof(rows) / sizeof(rows[0])) {
			rows[n].queue = db_col_int(&q, 0);
			rows[n].address = db_col_int(&q, 1);
			n++;
		}
	db_close(&q);
	for (size_t i = 0; e == STORE_OK && i < n; i++) {
		bool opened = false;
		if ((e = mail_set(c, STMT_MAIL_BATCH_OPEN, rows[i].address, now,
		    &opened)) != STORE_OK || !opened)
			continue; /* a batch on its way takes this one too */
		char payload[64], key[80];
		snprintf(payload, sizeof(payload), "{\"address\":%" PRId64 "}",
		    rows[i].address);
		snprintf(key, sizeof(key), "mail-replies:%" PRId64 ":q%" PRId64,
		    rows[i].address, rows[i].queue);
		bool added = false;
		e = mail_job(c, "mail-replies", payload, now, key, &added);
		*queued = *queued || added;
	}
err:
	db_close(&q);
	return e;
}

/* One MAIL_WAITING row. */
static void
mail_reply_read(struct q *st, arena *a, void *row)
{
	struct store_mail_reply *r = row;
	r->queue_id = db_col_int(st, 0);
	r->comment_id = db_col_int(st, 1);
	r->queued_at = db_col_int(st, 2);
	r->article_id = db_col_int(st, 3);
	r->nickname = db_col_str(a, st, 4);
	r->body = db_col_str(a, st, 5);
	r->article_title = db_col_str(a, st, 6);
	r->parent_body = db_col_str(a, st, 7);
	r->skip = db_col_int(st, 8) != 0;
}

enum store_err
store_mail_waiting(store *s, int64_t address_id, size_t limit, arena *a,
    struct store_mail_reply **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_MAIL_WAITING)) == STORE_OK) {
		db_int(&q, ":address", address_id);
		db_int(&q, ":limit", (int64_t)limit);
		*out = db_rows(&q, a, sizeof(**out), mail_reply_read, n, &e);
	}
	db_close(&q);
	return e;
}

enum store_err
store_mail_batch_done(store *s, int64_t address_id, int64_t last_queue_id,
    const char *key, int64_t now)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	int64_t next = 0;
	bool added = false;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if (key && (e = mail_log_add(c, "reply", key, address_id, NULL, now,
	    NULL)) != STORE_OK)
		goto err;
	if ((e = db_open(&q, c, STMT_MAIL_QUEUE_SENT)) != STORE_OK)
		goto err;
	db_int(&q, ":address", address_id);
	db_int(&q, ":last", last_queue_id);
	db_int(&q, ":now", now);
	if ((e = db_exec(&q)) != STORE_OK)
		goto err;
	db_close(&q);
	/* replies that came while this batch was on its way: the next one */
	if ((e = db_open(&q, c, STMT_MAIL_NEXT_WAITING)) != STORE_OK)
		goto err;
	db_int(&q, ":address", address_id);
	if (db_row(&q, &e))
		next = db_col_int(&q, 0);
	db_close(&q);
	if (e != STORE_OK)
		goto err;
	if (next > 0) {
		char payload[64], k[80];
		snprintf(payload, sizeof(payload), "{\"address\":%" PRId64 "}",
		    address_id);
		snprintf(k, sizeof(k), "mail-replies:%" PRId64 ":q%" PRId64,
		    address_id, next);
		e = mail_job(c, "mail-replies", payload, now, k, &added);
	} else {
		e = mail_set(c, STMT_MAIL_BATCH_CLOSE, address_id, now, NULL);
	}
err:
	db_close(&q);
	e = db_tx_end(c, &t, e);
	if (e == STORE_OK && added)
		db_job_added(s);
	return e;
}

enum store_err
store_mail_logged(store *s, const char *key, bool *yes)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*yes = false;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_MAIL_LOGGED)) == STORE_OK) {
		db_text(&q, ":key", key);
		if (db_row(&q, &e))
			*yes = db_col_int(&q, 0) != 0;
	}
	db_close(&q);
	return e;
}

enum store_err
store_mail_log(store *s, const char *kind, const char *key,
    int64_t address_id, int64_t now)
{
	struct conn *c = db_conn_get(s);
	if (c == NULL)
		return STORE_ERROR;
	return mail_log_add(c, kind, key, address_id, NULL, now, NULL);
}

enum store_err
store_mail_sent_count(store *s, int64_t address_id, const char *kind,
    int64_t since, int64_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_MAIL_SENT_COUNT)) == STORE_OK) {
		db_int(&q, ":address", address_id);
		db_text(&q, ":kind", kind);
		db_int(&q, ":since", since);
		if (db_row(&q, &e))
			*n = db_col_int(&q, 0);
	}
	db_close(&q);
	return e;
}

enum store_err
store_mail_prune(store *s, int64_t before, int64_t ips_before)
{
	/* NOTFOUND: nothing that old, which is fine */
	enum store_err e = db_exec_int(s, STMT_MAIL_LOG_PRUNE, ":before", before);
	if (e == STORE_OK || e == STORE_NOTFOUND)
		e = db_exec_int(s, STMT_MAIL_IP_FORGET, ":before", ips_before);
	return e == STORE_NOTFOUND ? STORE_OK : e;
}

const char *
store_path(store *s)
{
	return s ? s->path : NULL;
}
