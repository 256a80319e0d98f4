/*
 * Private to src/store/: full-text search on SQLite FTS5. fts.c owns the
 * tokenizer glue, the MATCH expression and the snippets; the sqlite*.c
 * files own the statements (index upkeep, the search page), and sqlite.c
 * calls store_fts_register on every connection it opens.
 */
#ifndef KIJI_STORE_FTS_H
#define KIJI_STORE_FTS_H

#include <sqlite3.h>

#include "store.h"

/* The name the schema's FTS5 table names in tokenize='...'. */
#define STORE_FTS_TOKENIZER "kiji_ngram"

/* Registers the n-gram tokenizer on db; before the schema is touched,
 * since the FTS5 table cannot be opened without it. A SQLite result code. */
int store_fts_register(sqlite3 *db);

/*
 * Writes q as an FTS5 MATCH expression that passes no user syntax through:
 * every token is a double-quoted string (any '"' doubled), the tokens of a
 * phrase are joined with '+', a word phrase's last token gets '*', and
 * phrases are joined with AND. Appends nothing when q has no phrases.
 */
void store_fts_expr(buf *out, const struct text_query *q);

/*
 * sqlite_search.c: one page of visible posts matching the MATCH expression
 * expr, in sort's order, as light rows (store_articles_list) but with
 * body_text whole and score set (0 newest first); snippets are left empty.
 * *total (when not NULL) counts the visible matches as store_search_sorted does.
 */
enum store_err store_fts_page(store *s, const char *expr,
    enum store_search_sort sort, int64_t now, int64_t offset, int64_t limit,
    arena *a, struct store_hit **out, size_t *n, int64_t *total);

#endif
