/*
 * The related-articles block of an article page, kept per article between
 * renders. Its query (shared tags among each tag's newest articles, the
 * category's newest) was a sixth of a 100-comment render and a third of
 * the server's time on the long tail, and its answer changes only when an
 * article does: a comment or a like, which is what re-renders a hot page,
 * leaves it alone. So the cards are kept, as the ranking is (pages.c):
 *
 * - an entry holds the cards as built (card()), the ids they show (the
 *   page's cache tags, replayed on every use) and the change seq its
 *   render had seen (q->seq, taken before the page's snapshot);
 * - site_sync moves s->related_seq on every change that is not a comment
 *   or a like (an article's text, an article, the settings, everything):
 *   an entry older than that is not used, the same rule as the page
 *   cache's tags, only coarser (any article change, not just those
 *   shown: they are rare beside comments);
 * - an entry lives until the next scheduled article goes live, and ten
 *   minutes at most;
 * - a fixed table, one entry per slot (article id modulo the size): its
 *   memory is bounded (about 8 KB an entry) whatever the site's size.
 *
 * The editor's preview never uses it: what it shows is not saved yet.
 *
 * A first render (the long tail: a crawler, an old article's link) still
 * ranks: each of the article's tags is looked at in its window of newest
 * articles (store_tag_recent), and counting a hundred shared-tag rows and
 * probing each one's visibility was most of the query (52 of 78 µs on a
 * 10,000-article site). The windows are kept too, one slot per tag, under
 * the same rule (built at q->seq, used while no article has changed
 * since); visibility by time is checked at each use, so a scheduled
 * article needs no expiry here. Ranking is store_related_rank, the
 * checks and the category's newest store_related_from.
 */
#include "site_int.h"

#include <stdlib.h>
#include <string.h>

#define RELATED_SLOTS 1024
#define RELATED_MAX_AGE 600 /* s */
#define TAG_SLOTS 1024     /* tag windows: ~1.6 KB a slot */

struct related_slot {
	int64_t id;          /* 0: empty */
	int lang;
	uint64_t seq;        /* the change seq its render had seen */
	int64_t expires;
	arena *a;            /* owns list */
	tv *list;
	int64_t *ids;
	size_t nids;
};

/* One tag's window (store_tag_recent), as of seq. */
struct tag_slot {
	int64_t tag;         /* 0: empty */
	uint64_t seq;
	size_t n;
	struct store_tagged e[STORE_RELATED_DEPTH];
};

struct site_related {
	pthread_mutex_t mu;
	struct related_slot slot[RELATED_SLOTS];
	struct tag_slot tag[TAG_SLOTS];
};

void
site_related_init(site *s)
{
	s->related = xcalloc(1, sizeof(*s->related));
	pthread_mutex_init(&s->related->mu, NULL);
}

static void
slot_clear(struct related_slot *sl)
{
	arena_free(sl->a);
	free(sl->ids);
	memset(sl, 0, sizeof(*sl));
}

void
site_related_free(site *s)
{
	if (s->related == NULL)
		return;
	for (size_t i = 0; i < RELATED_SLOTS; i++)
		slot_clear(&s->related->slot[i]);
	pthread_mutex_destroy(&s->related->mu);
	free(s->related);
	s->related = NULL;
}

void
site_related_note(site *s, uint64_t seq)
{
	uint64_t was = atomic_load(&s->related_seq);
	while (was < seq &&
	    !atomic_compare_exchange_weak(&s->related_seq, &was, seq))
		;
}

/* The kept cards of art for this request, cloned into its arena and its
 * tags added; NULL when there are none worth using. */
static tv *
related_get(struct req *q, int64_t id)
{
	struct site_related *m = q->s->related;
	struct related_slot *sl = &m->slot[(uint64_t)id % RELATED_SLOTS];
	uint64_t need = atomic_load(&q->s->related_seq);
	tv *list = NULL;
	pthread_mutex_lock(&m->mu);
	if (sl->id == id && sl->lang == (int)q->lang && sl->seq >= need &&
	    q->r->now < sl->expires) {
		list = tv_clone(q->r->a, sl->list);
		for (size_t i = 0; i < sl->nids; i++)
			site_tag(q, TAG_CARD(sl->ids[i]));
	}
	pthread_mutex_unlock(&m->mu);
	return list;
}

/* Keeps list (the cards of rel) for article id, when this render saw
 * every article change so far. */
static void
related_put(struct req *q, int64_t id, const tv *list,
    const struct store_article *rel, size_t nrel)
{
	site *s = q->s;
	if (q->seq < atomic_load(&s->related_seq))
		return; /* built from a state some change has since replaced */
	int64_t now = q->r->now, expires = now + RELATED_MAX_AGE;
	int64_t pub = site_next_publish(s, now);
	if (pub > now && pub < expires)
		expires = pub;
	struct related_slot n = {
		.id = id,
		.lang = (int)q->lang,
		.seq = q->seq,
		.expires = expires,
		.a = arena_new(8192),
		.ids = xcalloc(nrel ? nrel : 1, sizeof(int64_t)),
		.nids = nrel,
	};
	n.list = tv_clone(n.a, list);
	for (size_t i = 0; i < nrel; i++)
		n.ids[i] = rel[i].id;
	struct site_related *m = s->related;
	struct related_slot *sl = &m->slot[(uint64_t)id % RELATED_SLOTS];
	pthread_mutex_lock(&m->mu);
	struct related_slot old = *sl;
	*sl = n;
	pthread_mutex_unlock(&m->mu);
	slot_clear(&old);
}

/* The window of tag, from its slot when no article has changed since it
 * was read, else from the store (and kept). */
static enum store_err
tag_window(struct req *q, int64_t tag, const struct store_tagged **out,
    size_t *n)
{
	struct site_related *m = q->s->related;
	struct tag_slot *sl = &m->tag[(uint64_t)tag % TAG_SLOTS];
	uint64_t need = atomic_load(&q->s->related_seq);
	struct store_tagged *w = NULL;
	pthread_mutex_lock(&m->mu);
	if (sl->tag == tag && sl->seq >= need) {
		*n = sl->n;
		w = arena_alloc(q->r->a, (sl->n ? sl->n : 1) * sizeof(*w));
		memcpy(w, sl->e, sl->n * sizeof(*w));
	}
	pthread_mutex_unlock(&m->mu);
	if (w != NULL) {
		*out = w;
		return STORE_OK;
	}
	enum store_err e = store_tag_recent(q->s->st, tag, STORE_RELATED_DEPTH,
	    q->r->a, &w, n);
	if (e != STORE_OK)
		return e;
	*out = w;
	if (q->seq < need || *n > STORE_RELATED_DEPTH)
		return STORE_OK; /* read from a state since replaced */
	pthread_mutex_lock(&m->mu);
	if (sl->tag != tag || sl->seq < q->seq) {
		sl->tag = tag;
		sl->seq = q->seq;
		sl->n = *n;
		memcpy(sl->e, w, *n * sizeof(*w));
	}
	pthread_mutex_unlock(&m->mu);
	return STORE_OK;
}

/* store_related with the tag windows kept (tag_window). */
static enum store_err
related_read(struct req *q, const struct store_article *art, size_t limit,
    struct store_article **rel, size_t *nrel)
{
	arena *a = q->r->a;
	size_t nt = art->ntags;
	const struct store_tagged **wins = arena_alloc(a, (nt ? nt : 1) * sizeof(*wins));
	size_t *nwin = arena_alloc(a, (nt ? nt : 1) * sizeof(*nwin));
	for (size_t i = 0; i < nt; i++) {
		enum store_err e = tag_window(q, art->tags[i].id, &wins[i],
		    &nwin[i]);
		if (e != STORE_OK)
			return e;
	}
	struct store_related_cand *cand;
	size_t nc = store_related_rank(art, wins, nwin, nt, q->r->now, limit,
	    a, &cand);
	return store_related_from(q->s->st, art, q->r->now, limit, cand, nc,
	    a, rel, nrel);
}

tv *
site_view_related(struct req *q, const struct store_article *art, bool keep)
{
	size_t limit = (size_t)q->c->num[CONF_RELATED_COUNT];
	tv *list = keep && art->id > 0 ? related_get(q, art->id) : NULL;
	if (list != NULL)
		return list;
	list = tv_list(q->r->a);
	struct store_article *rel = NULL;
	size_t nrel = 0;
	if (art->category_id == 0 || limit == 0)
		return list; /* (no category: no related articles) */
	/* the editor's preview reads the windows afresh: nothing kept */
	if ((keep ? related_read(q, art, limit, &rel, &nrel) :
	    store_related(q->s->st, art, q->r->now, limit, q->r->a, &rel,
	    &nrel)) != STORE_OK)
		return list;
	for (size_t i = 0; i < nrel; i++)
		tv_push(list, site_card(q, &rel[i]));
	if (keep && art->id > 0)
		related_put(q, art->id, list, rel, nrel);
	return list;
}
