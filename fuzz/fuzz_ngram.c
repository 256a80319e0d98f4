/*
 * libFuzzer target for the search tokenizer (src/text/ngram.c) and the
 * query side (text_query_parse, store_fts_expr in src/store/fts.c).
 * Arbitrary bytes go through the tokenizer in both modes, whose token
 * invariants are checked (offsets inside the input and on its character
 * boundaries, colocation only in documents, bounded words, valid UTF-8
 * tokens). Valid input is also parsed as a query: every token must come
 * back as itself when tokenised again (what FTS5 does with the quoted
 * expression), the expression must be accepted by a real FTS5 table using
 * our tokenizer, and the input indexed as a document must match its own
 * query.
 */
#include "../src/store/fts.h"
#include "../src/text/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                         \
	do {                                                                \
		if (!(expr)) {                                              \
			fprintf(stderr, "fuzz_ngram: %s:%d: %s\n", __FILE__, \
			    __LINE__, #expr);                               \
			abort();                                            \
		}                                                           \
	} while (0)

struct inv {
	const uint8_t *s;
	size_t n;
	enum text_ngram_mode mode;
	size_t count;
	size_t last_start;
};

/* True when byte i of s is not inside a UTF-8 sequence's tail. */
static bool
boundary(const uint8_t *s, size_t n, size_t i)
{
	return i == n || (s[i] & 0xC0) != 0x80 || i == 0;
}

static int
check_tok(void *ctx, const struct text_ngram_tok *t)
{
	struct inv *v = ctx;
	CHECK(t->len > 0);
	CHECK(t->start < t->end && t->end <= v->n);
	CHECK(text_utf8_valid(t->tok, t->len));
	CHECK(t->kind == NGRAM_WORD || t->kind == NGRAM_UNI ||
	    t->kind == NGRAM_BI);
	if (t->kind == NGRAM_WORD)
		CHECK(t->len <= TEXT_NGRAM_WORD_MAX);
	if (v->mode == NGRAM_QUERY)
		CHECK(!t->colocated);
	else
		CHECK(t->colocated == (t->kind == NGRAM_BI));
	CHECK(!t->colocated || v->count > 0);
	/* tokens come in source order (a bigram starts where its unigram
	 * did) */
	CHECK(v->count == 0 || t->start >= v->last_start);
	if (text_utf8_valid((const char *)v->s, v->n)) {
		CHECK(boundary(v->s, v->n, t->start));
		CHECK(boundary(v->s, v->n, t->end));
	}
	v->last_start = t->start;
	v->count++;
	return 0;
}

/* Exactly one token, equal to want. */
struct same {
	const char *want;
	size_t n;
	bool ok;
};

static int
same_tok(void *ctx, const struct text_ngram_tok *t)
{
	struct same *s = ctx;
	s->n++;
	s->ok = strlen(s->want) == t->len && memcmp(s->want, t->tok, t->len) == 0;
	return 0;
}

/* One in-memory FTS5 table with our tokenizer, made on first use. */
static sqlite3 *
fts_db(void)
{
	static sqlite3 *db;
	if (db != NULL)
		return db;
	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(store_fts_register(db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(title, body,"
	    " tokenize = '" STORE_FTS_TOKENIZER "')", NULL, NULL, NULL) ==
	    SQLITE_OK);
	return db;
}

/* Indexes s, runs the expression built from s, and checks s matches. */
static void
check_fts(const char *s, size_t n, const char *expr)
{
	sqlite3 *db = fts_db();
	sqlite3_stmt *st = NULL;
	CHECK(sqlite3_exec(db, "DELETE FROM t", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "INSERT INTO t(rowid, title, body)"
	    " VALUES (1, '', ?1)", -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, s, (int)n, SQLITE_STATIC);
	CHECK(sqlite3_step(st) == SQLITE_DONE);
	sqlite3_finalize(st);
	CHECK(sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1",
	    -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		fprintf(stderr, "fuzz_ngram: [%s] did not match its text: %s\n",
		    expr, sqlite3_errmsg(db));
	CHECK(rc == SQLITE_ROW);
	sqlite3_finalize(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	struct inv v = {.s = data, .n = size, .mode = NGRAM_INDEX};
	CHECK(text_ngram((const char *)data, size, NGRAM_INDEX, check_tok,
	    &v) == 0);
	v = (struct inv){.s = data, .n = size, .mode = NGRAM_QUERY};
	CHECK(text_ngram((const char *)data, size, NGRAM_QUERY, check_tok,
	    &v) == 0);

	arena *a = arena_new(0);
	struct text_query q;
	bool valid = text_utf8_valid((const char *)data, size);
	CHECK(text_query_parse(a, (const char *)data, size, &q) == valid);
	if (!valid || memchr(data, 0, size) != NULL) {
		arena_free(a);
		return 0;
	}
	size_t ntok = 0;
	CHECK(q.nph <= TEXT_QUERY_MAX_PHRASES);
	for (size_t i = 0; i < q.nph; i++) {
		CHECK(q.ph[i].ntok > 0);
		CHECK(q.ph[i].kind != TEXT_QUERY_UNIGRAM || q.ph[i].ntok == 1);
		for (size_t k = 0; k < q.ph[i].ntok; k++) {
			const char *t = q.ph[i].tok[k];
			struct same s = {.want = t};
			text_ngram(t, strlen(t), NGRAM_QUERY, same_tok, &s);
			if (s.n != 1 || !s.ok)
				fprintf(stderr, "fuzz_ngram: token [%s] is not "
				    "stable\n", t);
			CHECK(s.n == 1 && s.ok);
			ntok++;
		}
	}
	CHECK(ntok <= TEXT_QUERY_MAX_TOKENS);
	buf e;
	buf_init(&e, 0);
	store_fts_expr(&e, &q);
	CHECK(!e.err);
	CHECK((e.len == 0) == (q.nph == 0));
	if (e.len > 0)
		check_fts((const char *)data, size, buf_cstr(&e));
	buf_free(&e);
	arena_free(a);
	return 0;
}
