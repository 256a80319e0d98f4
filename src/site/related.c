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
 * ranks, and what it reads is kept too, under the same rule (built at
 * q->seq, used while no article has changed since):
 *
 * - each tag's window of newest articles (store_tag_recent), one slot
 *   per tag: counting a hundred shared-tag rows and probing each one's
 *   visibility was most of the query (52 of 78 µs on a 10,000-article
 *   site). Visibility by time is checked at each use, so a scheduled
 *   article needs no expiry there;
 * - each article's card, one slot per article as for the blocks (the
 *   category's newest and the tags' favourites are on many pages): a
 *   card's row is read past the article's body (its text for the
 *   excerpt), the dearest part of what was left.
 *
 * Only the category's newest few ids are read on each first render
 * (store_category_recent); store_related_rank and store_related_merge
 * choose, as store_related does for the preview.
 */
#include "site_int.h"

#include <stdlib.h>
#include <string.h>

#define RELATED_SLOTS 1024
#define RELATED_MAX_AGE 600 /* s */
#define TAG_SLOTS 1024     /* tag windows: ~1.6 KB a slot */
#define CARD_SLOTS 4096    /* cards: ~1 KB a slot */

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
	struct related_slot slot[RELATED_SLOTS]; /* blocks by article */
	struct related_slot card[CARD_SLOTS];    /* cards by article */
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
	for (size_t i = 0; i < CARD_SLOTS; i++)
		slot_clear(&s->related->card[i]);
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

/* What is kept for article id in slots (its block, or its card), cloned
 * into this request's arena and its cards' tags added; NULL when there
 * is nothing worth using. */
static tv *
related_get(struct req *q, struct related_slot *slots, size_t nslots,
    int64_t id)
{
	struct site_related *m = q->s->related;
	struct related_slot *sl = &slots[(uint64_t)id % nslots];
	uint64_t need = atomic_load(&q->s->related_seq);
	tv *v = NULL;
	pthread_mutex_lock(&m->mu);
	if (sl->id == id && sl->lang == (int)q->lang && sl->seq >= need &&
	    q->r->now < sl->expires) {
		v = tv_clone(q->r->a, sl->list);
		for (size_t i = 0; i < sl->nids; i++)
			site_tag(q, TAG_CARD(sl->ids[i]));
	}
	pthread_mutex_unlock(&m->mu);
	return v;
}

int64_t
site_keep_until(struct req *q, int64_t max_age)
{
	site *s = q->s;
	if (q->seq < atomic_load(&s->related_seq))
		return 0; /* read from a state some change has since replaced */
	int64_t now = q->r->now, expires = now + max_age;
	int64_t pub = site_next_publish(s, now);
	if (pub > now && pub < expires)
		expires = pub;
	return expires;
}

/* Keeps v (showing the cards of ids) for article id in slots, when this
 * render saw every article change so far. */
static void
related_put(struct req *q, struct related_slot *slots, size_t nslots,
    int64_t id, const tv *v, const int64_t *ids, size_t nids)
{
	site *s = q->s;
	int64_t expires = site_keep_until(q, RELATED_MAX_AGE);
	if (expires == 0)
		return;
	struct related_slot n = {
		.id = id,
		.lang = (int)q->lang,
		.seq = q->seq,
		.expires = expires,
		.a = arena_new(slots == s->related->card ? 2048 : 8192),
		.ids = xcalloc(nids ? nids : 1, sizeof(int64_t)),
		.nids = nids,
	};
	n.list = tv_clone(n.a, v);
	if (nids > 0)
		memcpy(n.ids, ids, nids * sizeof(*ids));
	struct site_related *m = s->related;
	struct related_slot *sl = &slots[(uint64_t)id % nslots];
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
		if (*n > 0)
			memcpy(sl->e, w, *n * sizeof(*w));
	}
	pthread_mutex_unlock(&m->mu);
	return STORE_OK;
}

/* The related cards of art as store_related chooses them, with the tag
 * windows and the cards kept; the ids shown into *ids. NULL on a store
 * error. */
static tv *
related_cards(struct req *q, const struct store_article *art, size_t limit,
    int64_t **shown, size_t *nshown)
{
	arena *a = q->r->a;
	store *st = q->s->st;
	struct site_related *m = q->s->related;
	size_t nt = art->ntags;
	const struct store_tagged **wins = arena_alloc(a, (nt ? nt : 1) * sizeof(*wins));
	size_t *nwin = arena_alloc(a, (nt ? nt : 1) * sizeof(*nwin));
	for (size_t i = 0; i < nt; i++)
		if (tag_window(q, art->tags[i].id, &wins[i], &nwin[i]) !=
		    STORE_OK)
			return NULL;
	struct store_related_cand *bt, *bd;
	size_t nbt = store_related_rank(art, wins, nwin, nt, q->r->now, limit,
	    a, &bt), nbd;
	if (store_category_recent(st, art, q->r->now, limit, a, &bd, &nbd) !=
	    STORE_OK)
		return NULL;
	int64_t *ids;
	size_t n = store_related_merge(bt, nbt, bd, nbd, limit, a, &ids);
	/* the kept cards, then the others' rows in one read */
	tv **cards = arena_alloc(a, (n ? n : 1) * sizeof(*cards));
	int64_t *miss = arena_alloc(a, (n ? n : 1) * sizeof(*miss));
	size_t nmiss = 0;
	for (size_t i = 0; i < n; i++)
		if ((cards[i] = related_get(q, m->card, CARD_SLOTS, ids[i])) ==
		    NULL)
			miss[nmiss++] = ids[i];
	struct store_article *rows = NULL;
	size_t nrows = 0;
	if (nmiss > 0 && store_articles_by_ids(st, miss, nmiss, q->r->now, a,
	    &rows, &nrows) != STORE_OK)
		return NULL;
	for (size_t r = 0; r < nrows; r++)
		for (size_t i = 0; i < n; i++)
			if (cards[i] == NULL && ids[i] == rows[r].id) {
				cards[i] = site_card(q, &rows[r]);
				related_put(q, m->card, CARD_SLOTS, ids[i],
				    cards[i], &ids[i], 1);
				break;
			}
	/* in the chosen order; one no longer visible is left out */
	tv *list = tv_list(a);
	*shown = arena_alloc(a, (n ? n : 1) * sizeof(**shown));
	*nshown = 0;
	for (size_t i = 0; i < n; i++)
		if (cards[i] != NULL) {
			tv_push(list, cards[i]);
			(*shown)[(*nshown)++] = ids[i];
		}
	return list;
}

tv *
site_view_related(struct req *q, const struct store_article *art, bool keep)
{
	size_t limit = (size_t)q->c->num[CONF_RELATED_COUNT];
	struct site_related *m = q->s->related;
	tv *list = keep && art->id > 0 ?
	    related_get(q, m->slot, RELATED_SLOTS, art->id) : NULL;
	if (list != NULL)
		return list;
	if (art->category_id == 0 || limit == 0)
		return tv_list(q->r->a); /* (no category: no related articles) */
	if (keep && art->id > 0) {
		int64_t *ids;
		size_t n;
		if ((list = related_cards(q, art, limit, &ids, &n)) == NULL)
			return tv_list(q->r->a);
		related_put(q, m->slot, RELATED_SLOTS, art->id, list, ids, n);
		return list;
	}
	/* the editor's preview: what it shows is not saved, nothing kept */
	list = tv_list(q->r->a);
	struct store_article *rel = NULL;
	size_t nrel = 0;
	if (store_related(q->s->st, art, q->r->now, limit, q->r->a, &rel,
	    &nrel) == STORE_OK)
		for (size_t i = 0; i < nrel; i++)
			tv_push(list, site_card(q, &rel[i]));
	return list;
}
