/*
 * Comment fragments: the HTML of each comment's box (the theme's
 * comment_box template), kept between renders of the page.
 *
 * A hot article under a stream of comments is rendered again after each
 * few of them (the page cache's refresh), and with 2,000 comments that
 * render was 3.6 ms, most of it making every comment's box again: its
 * body as HTML, its dates, its daily ID, its template. Each box is now
 * made once and stitched into the page: a new comment costs one box.
 *
 * A box is kept under the hash of everything it is made of (frag_key):
 * the comment's text, name, time, state, likes, address (its daily ID),
 * the reader's like, the article, the language, the time zone and the
 * theme. So an edit, a moderation or a like makes another key and the
 * old box is never found again: nothing has to be told to forget it.
 * XXH3's 128 bits make two different boxes under one key a chance of
 * about 2^-100 over a lifetime of renders (xxhash, a Debian package).
 *
 * Bounded: a fixed two-way table (FRAG_SETS x 2 slots), a box of more
 * than FRAG_MAX bytes is not kept, and the kept bytes stay under
 * FRAG_BUDGET (a new box that would pass it only replaces one). Its
 * counters are in /metrics.
 *
 * Kept only for an article rendered again: a crawler walking the archive
 * renders each page once, and keeping its boxes would only churn the
 * table (and the allocator) for nothing. site_frags_admit remembers the
 * last article seen in each of FRAG_SEEN slots, as the page cache's
 * probation does for pages.
 */
#include "site_int.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define FRAG_SETS 8192
#define FRAG_WAYS 2
#define FRAG_MAX 16384
#define FRAG_BUDGET (24u << 20)
#define FRAG_SEEN 4096

struct frag {
	uint64_t k0, k1; /* 0, 0: empty */
	char *html;
	uint32_t n;
	bool used;       /* found since the set last chose a victim */
};

struct site_frags {
	pthread_mutex_t mu;
	size_t bytes;
	struct frag slot[FRAG_SETS][FRAG_WAYS];
	_Atomic uint64_t hits, misses;
	_Atomic int64_t seen[FRAG_SEEN]; /* article ids rendered */
};

void
site_frags_init(site *s)
{
	s->frags = xcalloc(1, sizeof(*s->frags));
	pthread_mutex_init(&s->frags->mu, NULL);
}

void
site_frags_free(site *s)
{
	struct site_frags *f = s->frags;
	if (f == NULL)
		return;
	for (size_t i = 0; i < FRAG_SETS; i++)
		for (size_t w = 0; w < FRAG_WAYS; w++)
			free(f->slot[i][w].html);
	pthread_mutex_destroy(&f->mu);
	free(f);
	s->frags = NULL;
}

bool
site_frags_admit(site *s, int64_t article_id)
{
	_Atomic int64_t *p = &s->frags->seen[(uint64_t)article_id % FRAG_SEEN];
	return atomic_exchange_explicit(p, article_id, memory_order_relaxed) ==
	    article_id;
}

static void
key_str(buf *b, const char *s)
{
	buf_puts(b, s ? s : "");
	buf_putc(b, '\0'); /* fields stay apart */
}

static void
key_int(buf *b, int64_t v)
{
	buf_put(b, (const char *)&v, sizeof(v));
}

bool
site_frag_key(const struct req *q, uint64_t theme, const struct store_comment *c,
    int64_t article_id, bool liked, buf *scratch, struct site_frag_key *k)
{
	buf_reset(scratch);
	key_int(scratch, (int64_t)theme);
	key_int(scratch, q->lang);
	key_int(scratch, article_id);
	key_int(scratch, c->id);
	key_int(scratch, c->created_at);
	key_int(scratch, c->like_count);
	key_int(scratch, c->status);
	key_int(scratch, c->placeholder);
	key_int(scratch, liked);
	key_str(scratch, q->c->str[CONF_TIMEZONE]);
	key_str(scratch, q->c->str[CONF_DAILY_ID]);
	key_str(scratch, c->nickname);
	key_str(scratch, c->ip);
	key_str(scratch, c->body);
	if (scratch->err)
		return false;
	XXH128_hash_t d = XXH3_128bits(scratch->ptr, scratch->len);
	k->k0 = d.low64;
	k->k1 = d.high64 | (d.low64 == 0); /* never the empty slot's 0, 0 */
	return true;
}

static struct frag *
frag_set(struct site_frags *f, const struct site_frag_key *k)
{
	return f->slot[k->k0 % FRAG_SETS];
}

tv *
site_frag_get(site *s, const struct site_frag_key *k, arena *a)
{
	struct site_frags *f = s->frags;
	tv *v = NULL;
	pthread_mutex_lock(&f->mu);
	struct frag *set = frag_set(f, k);
	for (size_t w = 0; w < FRAG_WAYS; w++)
		if (set[w].k0 == k->k0 && set[w].k1 == k->k1) {
			set[w].used = true;
			v = tv_html_trusted(a, set[w].html, set[w].n);
			break;
		}
	pthread_mutex_unlock(&f->mu);
	atomic_fetch_add_explicit(v ? &f->hits : &f->misses, 1,
	    memory_order_relaxed);
	return v;
}

void
site_frag_put(site *s, const struct site_frag_key *k, const char *html,
    size_t n)
{
	struct site_frags *f = s->frags;
	if (n > FRAG_MAX)
		return;
	char *copy = xmalloc(n + 1);
	memcpy(copy, html, n);
	copy[n] = '\0';
	pthread_mutex_lock(&f->mu);
	struct frag *set = frag_set(f, k), *to = NULL;
	for (size_t w = 0; w < FRAG_WAYS && to == NULL; w++)
		if (set[w].k0 == k->k0 && set[w].k1 == k->k1)
			to = &set[w]; /* another thread made it too */
	for (size_t w = 0; w < FRAG_WAYS && to == NULL; w++)
		if (set[w].html == NULL)
			to = &set[w];
	for (size_t w = 0; w < FRAG_WAYS && to == NULL; w++)
		if (!set[w].used)
			to = &set[w];
	if (to == NULL) { /* both found since: the first goes, the rest age */
		to = &set[0];
		for (size_t w = 1; w < FRAG_WAYS; w++)
			set[w].used = false;
	}
	if (f->bytes - to->n + n > FRAG_BUDGET) {
		pthread_mutex_unlock(&f->mu);
		free(copy);
		return;
	}
	char *old = to->html;
	f->bytes = f->bytes - to->n + n;
	*to = (struct frag){.k0 = k->k0, .k1 = k->k1, .html = copy,
	    .n = (uint32_t)n};
	pthread_mutex_unlock(&f->mu);
	free(old);
}

void
site_frags_stats(const site *s, struct site_frag_stats *st)
{
	struct site_frags *f = s->frags;
	st->hits = atomic_load(&f->hits);
	st->misses = atomic_load(&f->misses);
	pthread_mutex_lock(&f->mu);
	st->bytes = f->bytes;
	pthread_mutex_unlock(&f->mu);
}
