/*
 * Listing totals kept between renders. A listing's page links need the
 * number of visible posts it holds: a COUNT over the date index, linear in
 * the site (6.6 ms at 100,000 articles on SQLite), and paid again at each
 * re-render of the front page, which every comment on one of its articles
 * stales (the cards show comment counts). The total changes only when an
 * article does, or when a scheduled one goes live, so it is kept under
 * related.c's rule:
 *
 * - an entry holds the total and the change seq its render had seen
 *   (q->seq, taken before the store's snapshot);
 * - site_sync moves s->related_seq on every change that is not a comment
 *   or a like: an entry older than that is not used (tag membership
 *   changes with its article's save, as related.c's tag windows assume);
 * - an entry lives until the next scheduled article goes live, and ten
 *   minutes at most;
 * - a fixed table, one entry per slot (a hash of the filter): bounded
 *   whatever the number of categories, tags and months.
 *
 * A render that finds no entry reads the total with its page in one read
 * transaction, as before, and keeps it.
 */
#include "site_int.h"

#include <stdlib.h>
#include <string.h>

#define COUNT_SLOTS 512
#define COUNT_MAX_AGE 600 /* s */

struct count_slot {
	struct store_filter f;
	bool used;
	uint64_t seq;        /* the change seq its render had seen */
	int64_t expires;
	int64_t total;
};

struct site_counts {
	pthread_mutex_t mu;
	struct count_slot slot[COUNT_SLOTS];
};

void
site_counts_init(site *s)
{
	s->counts = xcalloc(1, sizeof(*s->counts));
	pthread_mutex_init(&s->counts->mu, NULL);
}

void
site_counts_free(site *s)
{
	if (s->counts == NULL)
		return;
	pthread_mutex_destroy(&s->counts->mu);
	free(s->counts);
	s->counts = NULL;
}

static bool
same_filter(const struct store_filter *a, const struct store_filter *b)
{
	return a->category_id == b->category_id && a->tag_id == b->tag_id &&
	    a->from == b->from && a->until == b->until;
}

static struct count_slot *
count_slot(struct site_counts *m, const struct store_filter *f)
{
	uint64_t h = 1469598103934665603ULL;
	const int64_t v[] = { f->category_id, f->tag_id, f->from, f->until };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		h ^= (uint64_t)v[i];
		h *= 1099511628211ULL;
		h ^= h >> 29;
	}
	return &m->slot[h % COUNT_SLOTS];
}

bool
site_count_get(struct req *q, const struct store_filter *f, int64_t *total)
{
	struct site_counts *m = q->s->counts;
	uint64_t need = atomic_load(&q->s->related_seq);
	bool ok = false;
	pthread_mutex_lock(&m->mu);
	struct count_slot *sl = count_slot(m, f);
	if (sl->used && same_filter(&sl->f, f) && sl->seq >= need &&
	    q->r->now < sl->expires) {
		*total = sl->total;
		ok = true;
	}
	pthread_mutex_unlock(&m->mu);
	return ok;
}

void
site_count_put(struct req *q, const struct store_filter *f, int64_t total)
{
	int64_t expires = site_keep_until(q, COUNT_MAX_AGE);
	if (expires == 0)
		return;
	struct site_counts *m = q->s->counts;
	pthread_mutex_lock(&m->mu);
	*count_slot(m, f) = (struct count_slot){ .f = *f, .used = true,
	    .seq = q->seq, .expires = expires, .total = total };
	pthread_mutex_unlock(&m->mu);
}
