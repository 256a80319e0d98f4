/*
 * SQLite's side of full-text search: the n-gram tokenizer
 * (src/text/ngram.c) registered with FTS5, and the reader's parsed query
 * turned into a MATCH expression we build ourselves. sqlite_search.c runs
 * the statements; fts.c (every backend) parses queries and cuts snippets.
 */
#include "fts.h"

#include <string.h>

/* ---- the tokenizer ---------------------------------------------------- */

/* FTS5 wants an object per tokenizer instance; ours has no state. */
static struct fts_instance {
	int unused;
} fts_instance;

/* Our tokenizer takes no arguments: tokenize='kiji_ngram'. */
static int
fts_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
	(void)ctx;
	(void)argv;
	if (argc > 0)
		return SQLITE_ERROR;
	*out = (Fts5Tokenizer *)&fts_instance;
	return SQLITE_OK;
}

static void
fts_delete(Fts5Tokenizer *t)
{
	(void)t;
}

/* FTS5's callback and its context, for fts_token. */
struct fts_sink {
	void *ctx;
	int (*xToken)(void *, int, const char *, int, int, int);
};

/* One of our tokens to FTS5; its nonzero answer stops the tokenizer. */
static int
fts_token(void *ctx, const struct text_ngram_tok *t)
{
	struct fts_sink *k = ctx;
	return k->xToken(k->ctx, t->colocated ? FTS5_TOKEN_COLOCATED : 0, t->tok,
	    (int)t->len, (int)t->start, (int)t->end);
}

/*
 * Queries (FTS5_TOKENIZE_QUERY, with or without PREFIX) get query mode:
 * the strings store_fts_expr quoted come back as exactly the tokens they
 * were. Documents and auxiliary functions get index mode.
 */
static int
fts_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int n,
    int (*xToken)(void *, int, const char *, int, int, int))
{
	struct fts_sink k = {ctx, xToken};
	(void)t;
	if (n <= 0 || text == NULL)
		return SQLITE_OK;
	return text_ngram(text, (size_t)n,
	    (flags & FTS5_TOKENIZE_QUERY) ? NGRAM_QUERY : NGRAM_INDEX,
	    fts_token, &k);
}

/* The fts5_api pointer of db, NULL when FTS5 is missing. */
static fts5_api *
fts_api(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return api;
}

/* Per connection: the tokenizer lives in the connection, not the file. */
int
store_fts_register(sqlite3 *db)
{
	static fts5_tokenizer tok = {fts_create, fts_delete, fts_tokenize};
	fts5_api *api = fts_api(db);
	if (api == NULL || api->iVersion < 2)
		return SQLITE_ERROR;
	return api->xCreateTokenizer(api, STORE_FTS_TOKENIZER, NULL, &tok, NULL);
}

/* ---- the MATCH expression ---------------------------------------------- */

/* A token as an FTS5 string: "..." with '"' doubled. Our tokens never
 * hold one (they are letters, digits and CJK), but nothing here relies on
 * that. */
static void
fts_quote(buf *out, const char *s)
{
	buf_putc(out, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(out, '"');
		buf_putc(out, *s);
	}
	buf_putc(out, '"');
}

/* Each quoted token reaches the tokenizer again in query mode and comes
 * back as itself: a word, a lone CJK character, or one bigram. */
void
store_fts_expr(buf *out, const struct text_query *q)
{
	for (size_t i = 0; i < q->nph; i++) {
		const struct text_query_phrase *ph = &q->ph[i];
		if (i > 0)
			buf_puts(out, " AND ");
		for (size_t j = 0; j < ph->ntok; j++) {
			if (j > 0)
				buf_puts(out, " + ");
			fts_quote(out, ph->tok[j]);
		}
		if (ph->kind == TEXT_QUERY_WORDS)
			buf_puts(out, " *");
	}
}
