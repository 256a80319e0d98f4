/*
 * Search recall across backends: one random site of Japanese, ASCII and
 * mixed-width text (full-width Latin and digits, half-width katakana,
 * capitals) written to a SQLite store and, with KIJI_TEST_PG, to a
 * PostgreSQL one. Every distinct 1- to 4-character substring of the
 * NFKC-casefolded text that is all CJK or all letters/digits is searched,
 * and again in another width and case (ｱ for ア, Ａ for a); each answer
 * must equal a brute-force scan of the folded text of the visible posts
 * (any CJK substring; a word prefix where a word begins), and PostgreSQL's
 * must equal SQLite's: the same ids in the same order newest first, the
 * same set best first, the same totals. Prints what it measured.
 */
#include "../../src/store/store.h"
#include "t_db.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define NOW ((int64_t)1700000000)
#define DAY ((int64_t)86400)
#define R_DOCS 36
#define R_SEED 20261203

static uint64_t r_state = R_SEED;

static uint64_t
r_rand(void)
{
	r_state ^= r_state << 13;
	r_state ^= r_state >> 7;
	r_state ^= r_state << 17;
	return r_state;
}

/* The CJK characters the texts are made of (few, so that substrings
 * repeat across posts), and the half-width form of those that have one. */
static const int32_t r_cjk_pool[] = {
	0x3042, 0x3044, 0x3046, 0x304B, 0x306E, 0x306B,  /* あいうかのに */
	0x7C73, 0x56FD, 0x8ECD, 0x4E2D, 0x9732, 0x65E5,  /* 米国軍中露日 */
	0x672C, 0x30A2, 0x30A4, 0x30AB, 0x30F3, 0x30FC,  /* 本アイカンー */
};
static int32_t
r_halfwidth(int32_t c)
{
	switch (c) {
	case 0x30A2: return 0xFF71; /* ｱ */
	case 0x30A4: return 0xFF72; /* ｲ */
	case 0x30AB: return 0xFF76; /* ｶ */
	case 0x30F3: return 0xFF9D; /* ﾝ */
	case 0x30FC: return 0xFF70; /* ｰ */
	default: return 0;
	}
}

/* Word characters: a few letters and digits, in any width and case. */
static const char r_word_pool[] = "abcxy123";
static const char *const r_seps[] = {
	" ", "\xE3\x80\x81", "\xE3\x80\x82", "\xE3\x83\xBB", "-", "/", "\n",
	"\xEF\xBC\x88", "\xEF\xBC\x89", "",
};

static bool
r_is_cjk(int32_t c)
{
	for (size_t i = 0; i < sizeof(r_cjk_pool) / sizeof(*r_cjk_pool); i++)
		if (r_cjk_pool[i] == c)
			return true;
	return false;
}

static bool
r_is_word(int32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static void
r_put(buf *b, int32_t c)
{
	utf8proc_uint8_t u[4];
	buf_put(b, u, (size_t)utf8proc_encode_char(c, u));
}

/* A word character as written: capital, full-width, or both. */
static int32_t
r_word_form(char ch, unsigned how)
{
	int32_t c = (unsigned char)ch;
	if ((how & 1) && c >= 'a' && c <= 'z')
		c -= 32;
	if (how & 2)
		c = c >= 'a' ? 0xFF41 + (c - 'a') : c >= 'A' ?
		    0xFF21 + (c - 'A') : 0xFF10 + (c - '0');
	return c;
}

/* Random text of nseg runs of CJK or word characters, separated or not. */
static void
r_text(buf *b, int nseg)
{
	for (int s = 0; s < nseg; s++) {
		int len = 1 + (int)(r_rand() % 6);
		bool cjk = r_rand() % 100 < 55;
		for (int i = 0; i < len; i++) {
			if (cjk) {
				int32_t c = r_cjk_pool[r_rand() %
				    (sizeof(r_cjk_pool) / sizeof(*r_cjk_pool))];
				if (r_halfwidth(c) && r_rand() % 4 == 0)
					c = r_halfwidth(c);
				r_put(b, c);
			} else {
				unsigned how = (r_rand() % 4 == 0 ? 1 : 0) |
				    (r_rand() % 5 == 0 ? 2 : 0);
				r_put(b, r_word_form(r_word_pool[r_rand() %
				    (sizeof(r_word_pool) - 1)], how));
			}
		}
		buf_puts(b, r_seps[r_rand() % (sizeof(r_seps) / sizeof(*r_seps))]);
	}
}

/* One post: what was written, its folded text, and whether readers see it. */
struct r_doc {
	int64_t id;
	bool visible;
	buf title, body;   /* as written */
	buf ftitle, fbody; /* text_nfkc_fold */
};

/* The code point before byte i of s (0 at the start). */
static int32_t
r_prev_cp(const char *s, size_t i)
{
	if (i == 0)
		return 0;
	size_t j = i - 1;
	while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80)
		j--;
	utf8proc_int32_t c = 0;
	utf8proc_iterate((const utf8proc_uint8_t *)s + j,
	    (utf8proc_ssize_t)(i - j), &c);
	return c;
}

/* Brute force over folded text t: a CJK query anywhere, a word query
 * where a word begins (no letter or digit before it). */
static bool
r_has(const buf *t, const char *q, bool word)
{
	size_t n = strlen(q);
	const char *p = t->ptr, *end = t->ptr + t->len;
	if (t->len == 0)
		return false;
	while (p < end && (p = memmem(p, (size_t)(end - p), q, n)) != NULL) {
		if (!word || !r_is_word(r_prev_cp(t->ptr,
		    (size_t)(p - t->ptr))))
			return true;
		p++;
	}
	return false;
}

/* The queries: distinct strings, with their kind. */
struct r_query {
	char *q;
	bool word;
	size_t chars;
};

static int
r_query_cmp(const void *a, const void *b)
{
	return strcmp(((const struct r_query *)a)->q,
	    ((const struct r_query *)b)->q);
}

/* Adds every 1..4 code point substring of folded t that is all CJK or
 * all word characters to *v. */
static void
r_substrings(const buf *t, struct r_query **v, size_t *n, size_t *cap)
{
	int32_t cp[4096];
	size_t off[4097], m = 0, i = 0;
	while (i < t->len && m < 4096) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(
		    (const utf8proc_uint8_t *)t->ptr + i,
		    (utf8proc_ssize_t)(t->len - i), &c);
		if (k <= 0)
			break;
		off[m] = i;
		cp[m++] = c;
		i += (size_t)k;
	}
	off[m] = i;
	for (size_t s = 0; s < m; s++)
		for (size_t len = 1; len <= 4 && s + len <= m; len++) {
			bool cjk = r_is_cjk(cp[s + len - 1]);
			if (!cjk && !r_is_word(cp[s + len - 1]))
				break;
			if (cjk != r_is_cjk(cp[s]))
				break;
			if (*n == *cap) {
				*cap = *cap ? *cap * 2 : 1024;
				*v = realloc(*v, *cap * sizeof(**v));
			}
			(*v)[(*n)++] = (struct r_query){
				strndup(t->ptr + off[s], off[s + len] - off[s]),
				!cjk, len};
		}
}

/* The same query in another width and case: katakana half-width where
 * they have a form, words full-width capitals; NULL when nothing
 * changes. */
static char *
r_variant(const char *q)
{
	buf b;
	bool changed = false;
	size_t i = 0, n = strlen(q);
	buf_init(&b, 0);
	while (i < n) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(
		    (const utf8proc_uint8_t *)q + i, (utf8proc_ssize_t)(n - i), &c);
		int32_t h = r_halfwidth(c);
		if (h) {
			c = h;
			changed = true;
		} else if (r_is_word(c)) {
			c = r_word_form((char)c, 3);
			changed = true;
		}
		r_put(&b, c);
		i += (size_t)k;
	}
	char *out = changed ? strdup(buf_cstr(&b)) : NULL;
	buf_free(&b);
	return out;
}

/* Every hit of q in sort's order: ids into ids (up to cap), their count,
 * and the total; false when the search failed. */
static bool
r_search(store *s, const char *q, enum store_search_sort sort, int64_t *ids,
    size_t cap, size_t *n, int64_t *total)
{
	arena *a = arena_new(0);
	struct store_hit *h;
	size_t got = 0;
	enum store_err e = store_search_sorted(s, q, sort, NOW, 0, 100000, a,
	    &h, &got, total);
	*n = 0;
	for (size_t i = 0; e == STORE_OK && i < got && i < cap; i++)
		ids[(*n)++] = h[i].article.id;
	arena_free(a);
	return e == STORE_OK;
}

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Whether two id lists are equal, in order or as sets. */
static bool
r_same(int64_t *a, size_t na, int64_t *b, size_t nb, bool as_sets)
{
	if (na != nb)
		return false;
	if (as_sets) {
		qsort(a, na, sizeof(*a), id_cmp);
		qsort(b, nb, sizeof(*b), id_cmp);
	}
	return na == 0 || memcmp(a, b, na * sizeof(*a)) == 0;
}

/* Writes the docs into s (same order, so the same ids on a fresh store). */
static void
r_fill(store *s, struct r_doc *docs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum store_status st = i % 9 == 4 ? STATUS_DRAFT :
		    i % 11 == 7 ? STATUS_SCHEDULED : STATUS_PUBLISHED;
		int64_t at = st == STATUS_SCHEDULED ? NOW + DAY :
		    NOW - (int64_t)((i * 7919) % n) * DAY / 3;
		struct store_article a = {
			.kind = KIND_POST, .title = buf_cstr(&docs[i].title),
			.body = buf_cstr(&docs[i].body),
			.body_format = FORMAT_MARKDOWN, .body_html = "",
			.body_text = buf_cstr(&docs[i].body), .status = st,
			.published_at = at, .updated_at = at,
			.comments_open = true,
		};
		T_CHECK(store_article_add(s, &a) == STORE_OK);
		T_CHECK(docs[i].id == 0 || docs[i].id == a.id);
		docs[i].id = a.id;
		docs[i].visible = st == STATUS_PUBLISHED;
	}
}

static void
test_recall_backends(void)
{
	char path[T_PATH_MAX];
	store *sq = t_db_open_at(t_db_path(path, sizeof(path)));
	store *pg = t_pg() ? t_db_open() : NULL;
	struct r_doc docs[R_DOCS];
	struct r_query *qs = NULL;
	size_t nq = 0, qcap = 0, chars = 0;

	T_CHECK(sq != NULL && (!t_pg() || pg != NULL));
	if (sq == NULL || (t_pg() && pg == NULL))
		return;
	memset(docs, 0, sizeof(docs));
	for (size_t i = 0; i < R_DOCS; i++) {
		buf_init(&docs[i].title, 0);
		buf_init(&docs[i].body, 0);
		buf_init(&docs[i].ftitle, 0);
		buf_init(&docs[i].fbody, 0);
		r_text(&docs[i].title, 2 + (int)(r_rand() % 3));
		r_text(&docs[i].body, 10 + (int)(r_rand() % 20));
		T_CHECK(text_nfkc_fold(&docs[i].ftitle, docs[i].title.ptr,
		    docs[i].title.len));
		T_CHECK(text_nfkc_fold(&docs[i].fbody, docs[i].body.ptr,
		    docs[i].body.len));
		chars += text_graphemes(docs[i].body.ptr, docs[i].body.len) +
		    text_graphemes(docs[i].title.ptr, docs[i].title.len);
		r_substrings(&docs[i].ftitle, &qs, &nq, &qcap);
		r_substrings(&docs[i].fbody, &qs, &nq, &qcap);
	}
	r_fill(sq, docs, R_DOCS);
	if (pg != NULL)
		r_fill(pg, docs, R_DOCS);
	/* distinct queries */
	qsort(qs, nq, sizeof(*qs), r_query_cmp);
	size_t m = 0;
	for (size_t i = 0; i < nq; i++) {
		if (m > 0 && strcmp(qs[m - 1].q, qs[i].q) == 0) {
			free(qs[i].q);
			continue;
		}
		qs[m++] = qs[i];
	}
	nq = m;

	size_t bylen[5] = {0}, nword = 0, nvar = 0, hits = 0, diff = 0;
	int64_t want[R_DOCS], a1[R_DOCS], a2[R_DOCS], b1[R_DOCS], b2[R_DOCS];
	for (size_t i = 0; i < nq; i++) {
		const struct r_query *q = &qs[i];
		size_t nwant = 0, n1, n2, n3, n4;
		int64_t t1, t2, t3, t4;
		for (size_t k = 0; k < R_DOCS; k++)
			if (docs[k].visible && (r_has(&docs[k].ftitle, q->q,
			    q->word) || r_has(&docs[k].fbody, q->q, q->word)))
				want[nwant++] = docs[k].id;
		bylen[q->chars]++;
		nword += q->word;
		hits += nwant;
		char *var = r_variant(q->q);
		const char *forms[2] = {q->q, var};
		for (int f = 0; f < (var ? 2 : 1); f++) {
			const char *text = forms[f];
			nvar += f;
			bool ok = r_search(sq, text, SEARCH_NEWEST, a1, R_DOCS,
			    &n1, &t1) && r_search(sq, text, SEARCH_RELEVANCE,
			    b1, R_DOCS, &n3, &t3);
			T_CHECK(ok);
			/* PostgreSQL's answer, newest first in the same order */
			if (pg != NULL) {
				T_CHECK(r_search(pg, text, SEARCH_NEWEST, a2,
				    R_DOCS, &n2, &t2) && r_search(pg, text,
				    SEARCH_RELEVANCE, b2, R_DOCS, &n4, &t4));
				if (!r_same(a1, n1, a2, n2, false) || t1 != t2 ||
				    !r_same(b1, n3, b2, n4, true) || t3 != t4) {
					if (diff++ < 5)
						printf("[%s]: PostgreSQL %zu hits,"
						    " SQLite %zu\n", text, n2, n1);
				}
			}
			/* both equal the brute force, as sets */
			int64_t w[R_DOCS];
			memcpy(w, want, nwant * sizeof(*w));
			if (!r_same(a1, n1, w, nwant, true) ||
			    t1 != (int64_t)nwant || n3 != nwant) {
				if (diff++ < 5)
					printf("[%s]: index %zu hits, brute"
					    " force %zu\n", text, n1, nwant);
			}
		}
		free(var);
	}
	T_CHECK(diff == 0);
	printf("recall: %d posts (%zu characters; drafts and future posts among them),"
	    " %zu distinct queries (1 char: %zu, 2: %zu, 3: %zu, 4: %zu;"
	    " %zu Latin/digit, %zu CJK) + %zu width/case variants;\n"
	    "  %zu expected hits; %zu differences between SQLite and the"
	    " brute force%s\n",
	    R_DOCS, chars, nq, bylen[1], bylen[2], bylen[3], bylen[4],
	    nword, nq - nword, nvar, hits, diff,
	    pg ? " or PostgreSQL and SQLite (order newest first, set best"
	    " first, totals)" : " (no KIJI_TEST_PG: PostgreSQL not compared)");
	T_CHECK(bylen[1] > 0 && bylen[2] > 0 && bylen[3] > 0 && bylen[4] > 0);
	for (size_t i = 0; i < nq; i++)
		free(qs[i].q);
	free(qs);
	for (size_t i = 0; i < R_DOCS; i++) {
		buf_free(&docs[i].title);
		buf_free(&docs[i].body);
		buf_free(&docs[i].ftitle);
		buf_free(&docs[i].fbody);
	}
	store_close(sq);
	t_db_remove(path);
	if (pg != NULL)
		store_close(pg);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "search_recall"))
		return 1;
	T_RUN(test_recall_backends);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
