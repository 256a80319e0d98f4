/*
 * libFuzzer target for src/site/cview.c: ?csort= / ?cpage= read from an
 * arbitrary query string (urlencoded, as the HTTP core decodes it), and
 * the threading of comments whose ids, parents, times and likes come
 * from the input. Asserts the contracts the page and the cache key rely
 * on: a view is a known sort and a page in 1..999999; the canonical URL
 * of a view (cpage_url) reads back as that view, canonically (OK); and
 * the threads are a permutation of the comments, each thread's comments
 * in input order, every reply in its parent's thread when the parent
 * came before it, and the replies whose parent is not there counted.
 *
 * fuzz/Makefile links only the layers below site/, so cview.c (which
 * needs just text/ and store/'s types) is compiled in here.
 */
#include "../src/site/cview.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_cview: %s:%d: %s\n", __FILE__, \
			    __LINE__, #expr);                              \
			abort();                                           \
		}                                                          \
	} while (0)

#define FZ_MAX_PAIRS 64
#define FZ_MAX_COMMENTS 512

static void
fz_args(const char *s, size_t n, enum csort def, arena *a)
{
	struct http_kv *kv;
	size_t nkv;
	struct cview v;
	if (!http_parse_urlencoded(s, n, a, FZ_MAX_PAIRS, &kv, &nkv))
		return;
	enum cview_verdict e = cview_args(kv, nkv, def, &v);
	CHECK(e == CVIEW_OK || e == CVIEW_MOVED || e == CVIEW_NOTFOUND);
	CHECK(v.sort < CSORT__MAX);
	CHECK(v.page >= 1 && v.page <= 999999);
	if (e == CVIEW_NOTFOUND)
		return;
	/* the canonical spelling reads back as the same view */
	const char *u = cpage_url(a, 42, v.sort, def, v.page);
	const char *qs = strchr(u, '?');
	struct http_kv *kv2;
	size_t n2;
	struct cview v2;
	CHECK(http_parse_urlencoded(qs ? qs + 1 : "", qs ? strlen(qs + 1) : 0,
	    a, FZ_MAX_PAIRS, &kv2, &n2));
	CHECK(cview_args(kv2, n2, def, &v2) == CVIEW_OK);
	CHECK(v2.sort == v.sort && v2.page == v.page);
}

/* Comments from 4 bytes each: parent (an earlier comment, none, or an
 * unknown id), a time step, likes, a placeholder bit. */
static void
fz_threads(const uint8_t *d, size_t n, enum csort s, arena *a)
{
	size_t nc = n / 4;
	if (nc > FZ_MAX_COMMENTS)
		nc = FZ_MAX_COMMENTS;
	struct store_comment *cs = arena_alloc(a, (nc ? nc : 1) * sizeof(*cs));
	int64_t t = 1000;
	for (size_t i = 0; i < nc; i++) {
		const uint8_t *p = d + 4 * i;
		t += p[1] & 3; /* equal times too */
		cs[i].id = (int64_t)i + 1;
		cs[i].parent_id = p[0] == 0 ? 0 : p[0] == 255 ? 100000 :
		    (int64_t)(p[0] % (i + 1)); /* 0 or an earlier id */
		cs[i].created_at = t;
		cs[i].like_count = p[2];
		cs[i].placeholder = p[3] & 1;
	}
	struct cthreads th;
	cthreads_build(&th, cs, nc, s, a);
	CHECK(th.nthreads <= nc);
	CHECK(th.start[0] == 0 && th.start[th.nthreads] == nc);
	char *seen = arena_alloc(a, nc + 1);
	for (size_t r = 0; r < th.nthreads; r++) {
		CHECK(th.start[r] < th.start[r + 1]); /* no empty thread */
		for (size_t j = th.start[r]; j < th.start[r + 1]; j++) {
			size_t i = th.order[j];
			CHECK(i < nc && !seen[i]);
			seen[i] = 1;
			CHECK(th.thread_of[i] == r);
			if (j > th.start[r])
				CHECK(i > th.order[j - 1]); /* input order */
		}
	}
	size_t orphans = 0;
	for (size_t i = 0; i < nc; i++) {
		int64_t p = cs[i].parent_id;
		if (p > 0 && p < cs[i].id)
			CHECK(th.thread_of[i] == th.thread_of[p - 1]);
		orphans += p == 100000;
	}
	CHECK(th.norphans == orphans);
	int64_t per = n ? d[0] % 8 : 0;
	int64_t pages = cthreads_pages(th.nthreads, per);
	CHECK(pages >= 1);
	if (per > 0 && th.nthreads > 0)
		CHECK((pages - 1) * per < (int64_t)th.nthreads &&
		    pages * per >= (int64_t)th.nthreads);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	arena *a = arena_new(0);
	enum csort s = (enum csort)(data[0] % CSORT__MAX);
	fz_args((const char *)data + 1, size - 1, s, a);
	fz_threads(data + 1, size - 1, s, a);
	arena_free(a);
	return 0;
}
