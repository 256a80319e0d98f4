/*
 * Private to src/store/: full-text search on SQLite FTS5. sqlite_fts.c
 * owns the tokenizer glue and the MATCH expression; sqlite_search.c the
 * statements (index upkeep, the search page: db_sqlite's fts_* members);
 * sqlite.c calls store_fts_register on every connection it opens. The
 * neutral side (parsing, snippets) is fts.c.
 */
#ifndef KIJI_STORE_FTS_H
#define KIJI_STORE_FTS_H

#include <sqlite3.h>

#include "store.h"

struct conn;

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

/* sqlite_search.c: db_sqlite's fts_page, fts_index and fts_rebuild
 * (store_int.h says what each does). */
enum store_err sqlite_fts_page(struct conn *c, const struct text_query *q,
    enum store_search_sort sort, int64_t now, int64_t offset, int64_t limit,
    arena *a, struct store_hit **out, size_t *n, int64_t *total);
enum store_err sqlite_fts_index(struct conn *c, const int64_t *ids, size_t n);
enum store_err sqlite_fts_rebuild(struct conn *c);

#endif
