/*
 * Search latency: store_search (first page of results, with snippets, as
 * /search serves it) for random 1-, 2- and 4-character kana/kanji queries
 * taken from a demo site's own text, against a brute-force scan of the
 * same text (NFKC-casefolded, in memory, memmem over every visible post)
 * timed in the same run as the reference. Prints one line per figure:
 *
 * search_p50_1char 812 us (ratio 0.210 to brute force 3870 us, 10000 posts)
 *
 * where ratio = search / brute force (below 1: the index is faster).
 * Queries are drawn twice: at random positions of the text (as often as
 * readers meet them, so mostly common ones), and as *_distinct lines
 * uniformly among the distinct runs (rarer ones). Each in both orders:
 * newest first (the default, the plain names) and best first (*_relevance,
 * bm25-ranked; newest first counts matches up to STORE_SEARCH_COUNT_MAX
 * and says "more" past it, best first counts them all). Also the index
 * size and the mean number of matches (by the brute force). Builds the
 * demo site (seeded, deterministic) when the database does not exist yet.
 *
 *   search_bench [--db FILE|URL] [--articles N] [--queries N] [--seed S]
 *
 * With a postgresql:// URL it measures PostgreSQL's search (pg_search.c)
 * instead, building the same demo site there when it has no posts, and
 * gives search_docs' sizes from the server.
 *
 * A measuring tool, not part of kiji: it reads SQLite's own page counts
 * for the sizes, which no store call offers.
 */
#include "../src/site/site.h"
#include "../src/store/fts.h"
#include "../src/store/store.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

#define BENCH_NOW ((int64_t)1767225600) /* 2026-01-01T00:00:00Z */
#define BENCH_PAGE 10

struct doc {
	int64_t id;
	buf text; /* title "\n" body, NFKC-casefolded */
};

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static bool
is_kana_kanji(int32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3041 && c <= 0x3096) ||
	    (c >= 0x30A1 && c <= 0x30FA) || c == 0x30FC;
}

/* A run of exactly len kana/kanji characters at a random spot, or false. */
static bool
pick(const struct doc *d, size_t len, char *out, size_t cap)
{
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)d->text.ptr;
	if (d->text.len == 0)
		return false;
	size_t i = next_rand() % d->text.len, j, got = 0;
	while (i > 0 && (s[i] & 0xC0) == 0x80)
		i--;
	for (j = i; got < len && j < d->text.len; got++) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(s + j,
		    (utf8proc_ssize_t)(d->text.len - j), &c);
		if (k <= 0 || !is_kana_kanji(c))
			return false;
		j += (size_t)k;
	}
	if (got != len || j - i >= cap)
		return false;
	memcpy(out, s + i, j - i);
	out[j - i] = '\0';
	return true;
}

/* Every distinct run of len kana/kanji characters in the corpus, in an
 * open-addressing set (keys of at most 4 such characters fit in 16 bytes). */
struct grams {
	char (*key)[16];
	size_t cap, n;
};

static void
grams_add(struct grams *g, const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	if (g->n * 2 >= g->cap) {
		struct grams bigger = {0};
		bigger.cap = g->cap ? g->cap * 2 : 4096;
		bigger.key = calloc(bigger.cap, sizeof(*bigger.key));
		for (size_t i = 0; i < g->cap; i++)
			if (g->key[i][0])
				grams_add(&bigger, g->key[i], strlen(g->key[i]));
		free(g->key);
		*g = bigger;
	}
	for (size_t i = h & (g->cap - 1);; i = (i + 1) & (g->cap - 1)) {
		if (g->key[i][0] == '\0') {
			memcpy(g->key[i], s, len);
			g->key[i][len] = '\0';
			g->n++;
			return;
		}
		if (memcmp(g->key[i], s, len) == 0 && g->key[i][len] == '\0')
			return;
	}
}

/* Collects the distinct len-character runs of every doc. */
static void
grams_collect(struct grams *g, const struct doc *docs, size_t n, size_t len)
{
	for (size_t d = 0; d < n; d++) {
		const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)docs[d].text.ptr;
		size_t tl = docs[d].text.len, at[5] = {0}, k = 0;
		for (size_t i = 0; i < tl;) {
			utf8proc_int32_t c;
			utf8proc_ssize_t w = utf8proc_iterate(s + i,
			    (utf8proc_ssize_t)(tl - i), &c);
			if (w <= 0) {
				i++;
				k = 0;
				continue;
			}
			if (!is_kana_kanji(c)) {
				i += (size_t)w;
				k = 0;
				continue;
			}
			/* at[] holds the starts of the last len characters */
			if (k == len) {
				memmove(at, at + 1, (len - 1) * sizeof(*at));
				k--;
			}
			at[k++] = i;
			i += (size_t)w;
			if (k == len && i - at[0] < 16)
				grams_add(g, (const char *)s + at[0], i - at[0]);
		}
	}
}

/* A uniformly random key of the set. */
static const char *
grams_pick(const struct grams *g)
{
	for (;;) {
		size_t i = next_rand() % g->cap;
		if (g->key[i][0])
			return g->key[i];
	}
}

/* The brute force: every visible post whose text holds q. */
static size_t
brute(const struct doc *docs, size_t n, const char *q)
{
	size_t len = strlen(q), hits = 0;
	for (size_t i = 0; i < n; i++)
		if (docs[i].text.len &&
		    memmem(docs[i].text.ptr, docs[i].text.len, q, len) != NULL)
			hits++;
	return hits;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double
pct(double *v, size_t n, double p)
{
	size_t k = (size_t)(p * (double)(n - 1) + 0.5);
	return v[k < n ? k : n - 1];
}

/* One page count query's answer in bytes, -1 when it fails. */
static int64_t
sql_bytes(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Index, text and file sizes. dbstat counts whole pages per table; when
 * this SQLite lacks it, the FTS5 blocks' own bytes stand in. */
static void
sizes(const char *path, size_t ndocs, size_t text_bytes)
{
	sqlite3 *db = NULL;
	struct stat stt;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return;
	store_fts_register(db);
	int64_t idx = sql_bytes(db, "SELECT SUM(pgsize) FROM dbstat"
	    " WHERE name LIKE 'articles\\_fts\\_%' ESCAPE '\\'");
	const char *how = "dbstat pages";
	if (idx < 0) {
		idx = sql_bytes(db, "SELECT (SELECT SUM(length(block)) FROM"
		    " articles_fts_data) + (SELECT SUM(length(sz)) FROM"
		    " articles_fts_docsize)");
		how = "FTS5 blocks";
	}
	int64_t articles = sql_bytes(db, "SELECT SUM(pgsize) FROM dbstat"
	    " WHERE name = 'articles'");
	sqlite3_close(db);
	int64_t file = stat(path, &stt) == 0 ? (int64_t)stt.st_size : -1;
	printf("search_index_bytes %" PRId64 " bytes (%.1f MiB by %s, for %zu "
	    "visible posts holding %.1f MiB of title+body text; articles table "
	    "%.1f MiB, database file %.1f MiB)\n", idx, (double)idx / 1048576.0,
	    how,
	    ndocs, (double)text_bytes / 1048576.0,
	    (double)articles / 1048576.0, (double)file / 1048576.0);
}

/* PostgreSQL: search_docs (its rows, TOAST and GIN index) and articles,
 * by the server's own counts. */
static void
pg_sizes(const char *url, size_t ndocs, size_t text_bytes)
{
	PGconn *pg = PQconnectdb(url);
	PGresult *r = PQexec(pg, "SELECT pg_total_relation_size('search_docs'),"
	    " pg_relation_size('search_docs_grams'),"
	    " pg_total_relation_size('articles'), pg_database_size("
	    "current_database())");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		double v[4];
		for (int i = 0; i < 4; i++)
			v[i] = strtod(PQgetvalue(r, 0, i), NULL) / 1048576.0;
		printf("search_index_bytes %s bytes (%.1f MiB: search_docs with"
		    " its TOAST and indexes, of which the GIN index %.1f MiB, for"
		    " %zu visible posts holding %.1f MiB of title+body text;"
		    " articles %.1f MiB, database %.1f MiB)\n",
		    PQgetvalue(r, 0, 0), v[0], v[1], ndocs,
		    (double)text_bytes / 1048576.0, v[2], v[3]);
	}
	PQclear(r);
	PQfinish(pg);
}

/*
 * Times nq queries of len characters: picked at random positions of the
 * text (so as often as readers would meet them: mostly common ones), or,
 * when distinct, uniformly among the distinct runs (mostly rare ones).
 */
static void
measure(store *st, const struct doc *docs, size_t n, size_t len,
    bool distinct, enum store_search_sort sort, size_t nq, uint64_t seed,
    arena *one, double *ts, double *tb)
{
	struct grams g = {0};
	size_t done = 0, hits = 0;
	int warm = 3; /* the first queries only warm caches */
	int64_t total;
	char q[64];

	rng = seed * 2654435761u + len * 7 + distinct;
	if (distinct)
		grams_collect(&g, docs, n, len);
	for (long tries = 0; done < nq && tries < 1000000; tries++) {
		if (distinct)
			snprintf(q, sizeof(q), "%s", grams_pick(&g));
		else if (!pick(&docs[next_rand() % n], len, q, sizeof(q)))
			continue;
		struct store_hit *h;
		size_t k;
		arena_reset(one);
		double t0 = now_us();
		enum store_err e = store_search_sorted(st, q, sort, BENCH_NOW, 0,
		    BENCH_PAGE, one, &h, &k, &total);
		double t1 = now_us();
		size_t b = brute(docs, n, q);
		double t2 = now_us();
		if (e != STORE_OK) {
			fprintf(stderr, "search_bench: %s: %s\n", q,
			    store_strerror(e));
			exit(1);
		}
		/* newest first counts to STORE_SEARCH_COUNT_MAX, then "more" */
		bool capped = sort == SEARCH_NEWEST &&
		    total == STORE_SEARCH_COUNT_MAX + 1;
		if (capped ? b <= STORE_SEARCH_COUNT_MAX : (size_t)total != b)
			fprintf(stderr, "search_bench: %s: index %" PRId64
			    ", brute force %zu\n", q, total, b);
		if (warm > 0) {
			warm--;
			continue;
		}
		ts[done] = t1 - t0;
		tb[done] = t2 - t1;
		hits += b;
		done++;
	}
	free(g.key);
	if (done == 0)
		return;
	qsort(ts, done, sizeof(*ts), cmp_double);
	qsort(tb, done, sizeof(*tb), cmp_double);
	static const struct {
		const char *name;
		double p;
	} ps[] = {{"p50", 0.50}, {"p99", 0.99}};
	const char *sfx = sort == SEARCH_RELEVANCE ?
	    (distinct ? "_distinct_relevance" : "_relevance") :
	    (distinct ? "_distinct" : "");
	for (size_t p = 0; p < 2; p++) {
		double s = pct(ts, done, ps[p].p), b = pct(tb, done, ps[p].p);
		printf("search_%s_%zuchar%s %.0f us (ratio %.3f to brute force"
		    " %.0f us, %zu posts)\n", ps[p].name, len, sfx, s, s / b, b,
		    n);
	}
	printf("search_hits_%zuchar%s %.1f posts (mean matches of %zu posts, "
	    "%zu queries %s)\n", len, sfx, (double)hits / (double)done, n,
	    done, distinct ? "drawn from the distinct runs" :
	    "drawn at random text positions");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	const char *path = "build/bench/search-10000.db";
	int64_t narticles = 10000;
	size_t nq = 200;
	uint64_t seed = 20260101;
	buf err;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--db") == 0)
			path = argv[i + 1];
		else if (strcmp(argv[i], "--articles") == 0)
			narticles = strtoll(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--queries") == 0)
			nq = (size_t)strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0)
			seed = strtoull(argv[i + 1], NULL, 10);
		else {
			fprintf(stderr, "usage: search_bench [--db FILE] "
			    "[--articles N] [--queries N] [--seed S]\n");
			return 2;
		}
	}
	if (nq < 1)
		nq = 1;
	buf_init(&err, 0);
	bool pg = strncmp(path, "postgresql://", 13) == 0 ||
	    strncmp(path, "postgres://", 11) == 0;
	bool fresh = !pg && access(path, F_OK) != 0;
	store *st = store_open(path, &err);
	if (st == NULL) {
		fprintf(stderr, "search_bench: %s\n", buf_cstr(&err));
		return 1;
	}
	int64_t have = 0;
	store_articles_count(st, BENCH_NOW, &have);
	if (fresh || have == 0) {
		struct site_demo_opts o = {narticles, 3, seed, BENCH_NOW,
		    isatty(2) != 0};
		double t0 = now_us();
		if (!site_demo(st, &o, &err)) {
			fprintf(stderr, "search_bench: demo: %s\n", buf_cstr(&err));
			return 1;
		}
		fprintf(stderr, "search_bench: built %s (%" PRId64 " articles, "
		    "indexed as they were written) in %.1f s\n", path, narticles,
		    (now_us() - t0) / 1e6);
	}

	/* the reference text: every visible post, title and whole body */
	arena *a = arena_new(0);
	struct store_article *list;
	size_t n = 0, text_bytes = 0;
	int64_t total;
	if (store_articles_list(st, NULL, BENCH_NOW, 0, INT64_MAX / 2, a, &list,
	    &n, &total) != STORE_OK || n == 0) {
		fprintf(stderr, "search_bench: no visible posts in %s\n", path);
		return 1;
	}
	struct doc *docs = calloc(n, sizeof(*docs));
	arena *one = arena_new(0);
	for (size_t i = 0; i < n; i++) {
		struct store_article full;
		arena_reset(one);
		if (store_article_get(st, list[i].id, BENCH_NOW, one, &full) !=
		    STORE_OK)
			continue;
		docs[i].id = full.id;
		buf_init(&docs[i].text, 0);
		text_nfkc_fold(&docs[i].text, full.title, strlen(full.title));
		buf_putc(&docs[i].text, '\n');
		text_nfkc_fold(&docs[i].text, full.body_text,
		    strlen(full.body_text));
		text_bytes += strlen(full.title) + strlen(full.body_text);
	}
	if (pg)
		pg_sizes(path, n, text_bytes);
	else
		sizes(path, n, text_bytes);

	static const size_t lens[] = {1, 2, 4};
	double *ts = calloc(nq, sizeof(*ts)), *tb = calloc(nq, sizeof(*tb));
	for (int sort = 0; sort < SEARCH__MAX; sort++)
		for (int mode = 0; mode < 2; mode++)
			for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]);
			    li++)
				measure(st, docs, n, lens[li], mode == 1,
				    (enum store_search_sort)sort, nq, seed, one,
				    ts, tb);
	free(ts);
	free(tb);
	for (size_t i = 0; i < n; i++)
		buf_free(&docs[i].text);
	free(docs);
	arena_free(one);
	arena_free(a);
	buf_free(&err);
	store_close(st);
	return 0;
}
