/*
 * Comment views, the parts that need no request and no store: the sort
 * names, the one URL of each view, reading ?csort= and ?cpage= (outside
 * input: fuzz/fuzz_cview.c), and the grouping of an article's comments
 * into threads in each order (cpage.c puts them on the page).
 */
#include "site_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const csort_names[CSORT__MAX] = {
	[CSORT_OLD] = "old",
	[CSORT_NEW] = "new",
	[CSORT_LIKES] = "likes",
};

int
csort_parse(const char *s)
{
	for (int i = 0; s && i < CSORT__MAX; i++)
		if (strcmp(s, csort_names[i]) == 0)
			return i;
	return -1;
}

const char *
csort_name(enum csort s)
{
	return s < CSORT__MAX ? csort_names[s] : csort_names[CSORT_OLD];
}

/* ---- threads (pure: no request, no store) --------------------------------- */

/* id → index among the comments seen so far (open addressing; ids > 0). */
struct cidx {
	int64_t *keys;
	size_t *vals;
	size_t mask;
};

static void
cidx_init(struct cidx *m, arena *a, size_t n)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	m->keys = arena_alloc(a, cap * sizeof(*m->keys)); /* zeroed */
	m->vals = arena_alloc(a, cap * sizeof(*m->vals));
	m->mask = cap - 1;
}

static size_t
cidx_slot(const struct cidx *m, int64_t k)
{
	size_t i = (size_t)((uint64_t)k * 0x9E3779B97F4A7C15ULL) & m->mask;
	while (m->keys[i] != 0 && m->keys[i] != k)
		i = (i + 1) & m->mask;
	return i;
}

/* A thread's sort key: its first comment's. */
struct croot {
	size_t idx;
	int64_t created_at, id, likes;
};

static int
croot_new_first(const void *x, const void *y)
{
	const struct croot *a = x, *b = y;
	if (a->created_at != b->created_at)
		return a->created_at < b->created_at ? 1 : -1;
	return (a->id < b->id) - (a->id > b->id);
}

/* Most liked first; among equals the older thread, as the default shows. */
static int
croot_likes_first(const void *x, const void *y)
{
	const struct croot *a = x, *b = y;
	if (a->likes != b->likes)
		return a->likes < b->likes ? 1 : -1;
	if (a->created_at != b->created_at)
		return a->created_at < b->created_at ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

void
cthreads_build(struct cthreads *t, const struct store_comment *cs, size_t n,
    enum csort s, arena *a)
{
	size_t n1 = n ? n : 1;
	size_t *root = arena_alloc(a, n1 * sizeof(*root)); /* comment → root */
	struct croot *roots = arena_alloc(a, n1 * sizeof(*roots));
	size_t nroots = 0;
	struct cidx m;
	t->norphans = 0;
	cidx_init(&m, a, n);
	/* A parent met earlier puts a comment in its thread; the page's tree
	 * (pages.c) attaches replies by the same rule. */
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		bool in = false;
		if (cs[i].parent_id > 0) {
			k = cidx_slot(&m, cs[i].parent_id);
			in = m.keys[k] == cs[i].parent_id;
		}
		if (in) {
			root[i] = root[m.vals[k]];
		} else {
			if (cs[i].parent_id > 0)
				t->norphans++;
			root[i] = i;
			roots[nroots++] = (struct croot){i, cs[i].created_at,
			    cs[i].id, cs[i].placeholder ? 0 : cs[i].like_count};
		}
		if (cs[i].id > 0) {
			k = cidx_slot(&m, cs[i].id);
			m.keys[k] = cs[i].id;
			m.vals[k] = i;
		}
	}
	/* Roots come in time order: that is CSORT_OLD already. */
	if (s == CSORT_NEW)
		qsort(roots, nroots, sizeof(*roots), croot_new_first);
	else if (s == CSORT_LIKES)
		qsort(roots, nroots, sizeof(*roots), croot_likes_first);
	size_t *rank = arena_alloc(a, n1 * sizeof(*rank)); /* root idx → thread */
	for (size_t r = 0; r < nroots; r++)
		rank[roots[r].idx] = r;
	t->nthreads = nroots;
	t->thread_of = arena_alloc(a, n1 * sizeof(*t->thread_of));
	t->start = arena_alloc(a, (nroots + 1) * sizeof(*t->start));
	t->order = arena_alloc(a, n1 * sizeof(*t->order));
	/* Counting sort by thread: stable, so each thread keeps time order. */
	for (size_t i = 0; i < n; i++) {
		t->thread_of[i] = rank[root[i]];
		t->start[t->thread_of[i] + 1]++;
	}
	for (size_t r = 0; r < nroots; r++)
		t->start[r + 1] += t->start[r];
	size_t *fill = arena_alloc(a, (nroots + 1) * sizeof(*fill));
	memcpy(fill, t->start, (nroots + 1) * sizeof(*fill));
	for (size_t i = 0; i < n; i++)
		t->order[fill[t->thread_of[i]]++] = i;
}

int64_t
cthreads_pages(size_t nthreads, int64_t per)
{
	if (per <= 0 || nthreads == 0)
		return 1;
	return ((int64_t)nthreads + per - 1) / per;
}

const char *
cpage_url(arena *a, int64_t article_id, enum csort s, enum csort def,
    int64_t page)
{
	long long id = (long long)article_id, pg = (long long)page;
	if (s != def && page > 1)
		return arena_printf(a, "/articles/%lld?csort=%s&cpage=%lld", id,
		    csort_name(s), pg);
	if (s != def)
		return arena_printf(a, "/articles/%lld?csort=%s", id,
		    csort_name(s));
	if (page > 1)
		return arena_printf(a, "/articles/%lld?cpage=%lld", id, pg);
	return arena_printf(a, "/articles/%lld", id);
}

/* A page number (?page=, ?cpage=): 1..999999 in its one decimal
 * spelling; 0 when not. The one reading of every paged URL. */
int64_t
site_page_number(const char *p)
{
	int64_t v = 0;
	if (*p == '\0' || *p == '0' || strlen(p) > 6)
		return 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	return v;
}

enum cview_verdict
cview_args(const struct http_kv *args, size_t n, enum csort def,
    struct cview *v)
{
	size_t isort = 0, ipage = 0;
	const char *sort = NULL, *page = NULL;
	v->sort = def;
	v->page = 1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(args[i].name, "csort") == 0) {
			if (sort != NULL)
				return CVIEW_NOTFOUND; /* one view, one spelling */
			sort = args[i].value;
			isort = i;
		} else if (strcmp(args[i].name, "cpage") == 0) {
			if (page != NULL)
				return CVIEW_NOTFOUND;
			page = args[i].value;
			ipage = i;
		}
	}
	bool moved = false;
	if (sort != NULL) {
		int s = csort_parse(sort);
		if (s < 0)
			return CVIEW_NOTFOUND;
		moved = s == (int)def;
		v->sort = (enum csort)s;
	}
	if (page != NULL) {
		if ((v->page = site_page_number(page)) == 0) {
			v->page = 1;
			return CVIEW_NOTFOUND;
		}
		moved = moved || v->page == 1;
	}
	if (sort != NULL && page != NULL && ipage < isort)
		moved = true;
	return moved ? CVIEW_MOVED : CVIEW_OK;
}
