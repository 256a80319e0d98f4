/*
 * Comment views (site/cview.c): which comments make a thread, the order
 * of threads in each sort, time order inside a thread, the page count,
 * the one spelling of each view's URL, and reading ?csort= / ?cpage=.
 */
#include "../../src/site/site_int.h"
#include "t.h"

/* A comment with only what threading reads. */
static struct store_comment
c(int64_t id, int64_t parent, int64_t t, int64_t likes)
{
	return (struct store_comment){.id = id, .parent_id = parent,
	    .created_at = t, .like_count = likes, .type = CTYPE_COMMENT,
	    .status = CSTATUS_APPROVED};
}

/* The comment ids of t in display order, as "1 2 | 3" (| between threads). */
static const char *
shown(arena *a, const struct cthreads *t, const struct store_comment *cs)
{
	buf b;
	buf_init(&b, 4096);
	for (size_t r = 0; r < t->nthreads; r++) {
		if (r)
			buf_puts(&b, " |");
		for (size_t j = t->start[r]; j < t->start[r + 1]; j++)
			buf_printf(&b, "%s%lld", j == t->start[r] && r == 0 ? "" :
			    " ", (long long)cs[t->order[j]].id);
	}
	const char *s = arena_printf(a, "%s", buf_cstr(&b));
	buf_free(&b);
	return s;
}

/* Time order, as the store gives it: 1 (3 likes) with replies 2 and 4
 * (4 under 2), 3 (7 likes), 5 (3 likes) with reply 6, 7 replying to a
 * comment not shown (its own thread, as the page puts it at the top). */
static const struct store_comment *
sample(size_t *n)
{
	static struct store_comment cs[7];
	cs[0] = c(1, 0, 100, 3);
	cs[1] = c(2, 1, 110, 9);
	cs[2] = c(3, 0, 120, 7);
	cs[3] = c(4, 2, 130, 0);
	cs[4] = c(5, 0, 140, 3);
	cs[5] = c(6, 5, 150, 1);
	cs[6] = c(7, 99, 160, 2);
	*n = 7;
	return cs;
}

static void
test_threads_old(void)
{
	arena *a = arena_new(0);
	size_t n;
	const struct store_comment *cs = sample(&n);
	struct cthreads t;
	cthreads_build(&t, cs, n, CSORT_OLD, a);
	T_CHECK(t.nthreads == 4);
	T_STREQ(shown(a, &t, cs), "1 2 4 | 3 | 5 6 | 7");
	T_CHECK(t.norphans == 1); /* 7: its parent is not shown */
	T_CHECK(t.thread_of[3] == 0 && t.thread_of[6] == 3);
	arena_free(a);
}

static void
test_threads_new(void)
{
	arena *a = arena_new(0);
	size_t n;
	const struct store_comment *cs = sample(&n);
	struct cthreads t;
	cthreads_build(&t, cs, n, CSORT_NEW, a);
	/* newest thread first; replies still oldest first under it */
	T_STREQ(shown(a, &t, cs), "7 | 5 6 | 3 | 1 2 4");
	T_CHECK(t.thread_of[0] == 3 && t.thread_of[1] == 3 && t.thread_of[6] == 0);
	arena_free(a);
}

static void
test_threads_likes(void)
{
	arena *a = arena_new(0);
	size_t n;
	const struct store_comment *cs = sample(&n);
	struct cthreads t;
	cthreads_build(&t, cs, n, CSORT_LIKES, a);
	/* the first comment's likes rank a thread (2's 9 do not lift 1);
	 * equal likes: the older thread first */
	T_STREQ(shown(a, &t, cs), "3 | 1 2 4 | 5 6 | 7");
	arena_free(a);
}

static void
test_threads_placeholder(void)
{
	arena *a = arena_new(0);
	struct store_comment cs[3] = {c(1, 0, 10, 50), c(2, 1, 20, 1),
	    c(3, 0, 30, 2)};
	cs[0].placeholder = true; /* a deleted parent: its likes are not shown */
	struct cthreads t;
	cthreads_build(&t, cs, 3, CSORT_LIKES, a);
	T_STREQ(shown(a, &t, cs), "3 | 1 2");
	arena_free(a);
}

static void
test_threads_empty(void)
{
	arena *a = arena_new(0);
	struct cthreads t;
	cthreads_build(&t, NULL, 0, CSORT_NEW, a);
	T_CHECK(t.nthreads == 0 && t.start[0] == 0);
	T_CHECK(cthreads_pages(0, 10) == 1);
	arena_free(a);
}

static void
test_pages(void)
{
	T_CHECK(cthreads_pages(7, 0) == 1);
	T_CHECK(cthreads_pages(7, 7) == 1);
	T_CHECK(cthreads_pages(7, 3) == 3);
	T_CHECK(cthreads_pages(9, 3) == 3);
	T_CHECK(cthreads_pages(10, 3) == 4);
	T_CHECK(cthreads_pages(1, 1000) == 1);
}

static void
test_urls(void)
{
	arena *a = arena_new(0);
	T_STREQ(cpage_url(a, 7, CSORT_OLD, CSORT_OLD, 1), "/articles/7");
	T_STREQ(cpage_url(a, 7, CSORT_OLD, CSORT_OLD, 3), "/articles/7?cpage=3");
	T_STREQ(cpage_url(a, 7, CSORT_NEW, CSORT_OLD, 1),
	    "/articles/7?csort=new");
	T_STREQ(cpage_url(a, 7, CSORT_LIKES, CSORT_OLD, 12),
	    "/articles/7?csort=likes&cpage=12");
	/* with another default, "old" is the one spelled out */
	T_STREQ(cpage_url(a, 7, CSORT_OLD, CSORT_NEW, 2),
	    "/articles/7?csort=old&cpage=2");
	T_STREQ(cpage_url(a, 7, CSORT_NEW, CSORT_NEW, 1), "/articles/7");
	arena_free(a);
}

static void
test_parse(void)
{
	T_CHECK(csort_parse("old") == CSORT_OLD);
	T_CHECK(csort_parse("new") == CSORT_NEW);
	T_CHECK(csort_parse("likes") == CSORT_LIKES);
	T_CHECK(csort_parse("Old") == -1);
	T_CHECK(csort_parse("") == -1);
	T_CHECK(csort_parse("likes ") == -1);
	T_CHECK(csort_parse(NULL) == -1);
	T_STREQ(csort_name(CSORT_LIKES), "likes");
}

/* cview_args on "name=value&..." (no decoding: tests spell values plainly). */
static enum cview_verdict
args(const char *qs, enum csort def, struct cview *v)
{
	static char copy[256];
	struct http_kv kv[8];
	size_t n = 0;
	snprintf(copy, sizeof(copy), "%s", qs);
	for (char *p = *copy ? copy : NULL, *next; p && n < 8; p = next) {
		next = strchr(p, '&');
		if (next)
			*next++ = '\0';
		char *eq = strchr(p, '=');
		*eq = '\0';
		kv[n++] = (struct http_kv){p, eq + 1, strlen(eq + 1)};
	}
	return cview_args(kv, n, def, v);
}

static void
test_args(void)
{
	struct cview v;
	T_CHECK(args("", CSORT_OLD, &v) == CVIEW_OK);
	T_CHECK(v.sort == CSORT_OLD && v.page == 1);
	T_CHECK(args("utm_source=x&replytocom=3", CSORT_NEW, &v) == CVIEW_OK);
	T_CHECK(v.sort == CSORT_NEW && v.page == 1);
	T_CHECK(args("csort=new", CSORT_OLD, &v) == CVIEW_OK && v.sort == CSORT_NEW);
	T_CHECK(args("cpage=2", CSORT_OLD, &v) == CVIEW_OK && v.page == 2);
	T_CHECK(args("csort=likes&cpage=999999", CSORT_OLD, &v) == CVIEW_OK);
	T_CHECK(v.sort == CSORT_LIKES && v.page == 999999);
	T_CHECK(args("x=1&csort=likes&y=2&cpage=3", CSORT_OLD, &v) == CVIEW_OK);
	/* defaults spelled out, or the other order: the canonical URL */
	T_CHECK(args("csort=old", CSORT_OLD, &v) == CVIEW_MOVED);
	T_CHECK(args("cpage=1", CSORT_OLD, &v) == CVIEW_MOVED && v.page == 1);
	T_CHECK(args("csort=new&cpage=1", CSORT_OLD, &v) == CVIEW_MOVED);
	T_CHECK(v.sort == CSORT_NEW && v.page == 1);
	T_CHECK(args("cpage=2&csort=new", CSORT_OLD, &v) == CVIEW_MOVED);
	T_CHECK(v.sort == CSORT_NEW && v.page == 2);
	T_CHECK(args("csort=new", CSORT_NEW, &v) == CVIEW_MOVED);
	T_CHECK(args("csort=old", CSORT_NEW, &v) == CVIEW_OK && v.sort == CSORT_OLD);
	/* no such view */
	const char *bad[] = {"csort=", "csort=bogus", "csort=NEW", "cpage=",
	    "cpage=0", "cpage=01", "cpage=+2", "cpage=2x", "cpage=-1",
	    "cpage=1000000", "cpage=99999999999999999999", "cpage= 2",
	    "csort=new&csort=new", "cpage=2&cpage=3", "csort=old&csort=new",
	    "cpage=1&cpage=1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_CHECK(args(bad[i], CSORT_OLD, &v) == CVIEW_NOTFOUND);
		T_CHECK(v.page >= 1 && v.page <= 999999);
	}
}

int
main(void)
{
	T_RUN(test_threads_old);
	T_RUN(test_threads_new);
	T_RUN(test_threads_likes);
	T_RUN(test_threads_placeholder);
	T_RUN(test_threads_empty);
	T_RUN(test_pages);
	T_RUN(test_urls);
	T_RUN(test_parse);
	T_RUN(test_args);
	T_DONE();
}
