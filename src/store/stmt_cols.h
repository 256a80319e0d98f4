/*
 * Private to stmts.c and pg_stmts.c: the column lists and filters the
 * statement tables share, so both dialects read the same columns in the
 * same order (the area files read them by position).
 */
#ifndef KIJI_STORE_STMT_COLS_H
#define KIJI_STORE_STMT_COLS_H

/*
 * THE visibility rule for every public read: published and its time has
 * come. Listings additionally want posts, not pages. Every statement
 * aliases articles as "a" so these paste in anywhere.
 */
#define VISIBLE "a.status = 'published' AND a.published_at <= :now"
#define VISIBLE_POST VISIBLE " AND a.kind = 'post'"

/* Article columns in art_col order; listings blank body and body_html. */
#define ART_COLS(body, html, text)                                            \
	"a.id, a.kind, a.title, a.slug, " body ", a.body_format, " html ", "  \
	text ", a.excerpt, a.status, a.published_at, a.updated_at, "         \
	"COALESCE(a.author_id, 0), COALESCE(a.category_id, 0), a.eyecatch, "  \
	"a.eyecatch_credit, a.comments_open, COALESCE(a.guid, ''), "          \
	"a.legacy_id, COALESCE(a.parent_id, 0), a.menu_order, "              \
	"COALESCE(u.display_name, ''), COALESCE(c.slug, ''), "                \
	"COALESCE(c.name, ''), a.comment_count"
#define ART_FULL ART_COLS("a.body", "a.body_html", "a.body_text")
#define ART_LIGHT ART_COLS("''", "''", "a.body_text")
/* The row without its texts (what a comment or like post checks) */
#define ART_HEAD ART_COLS("''", "''", "''")
#define ART_JOINS                                                             \
	" LEFT JOIN users u ON u.id = a.author_id"                            \
	" LEFT JOIN categories c ON c.id = a.category_id"
#define ART_RANGE " AND a.published_at >= :from AND a.published_at < :until"
#define ART_ORDER " ORDER BY a.published_at DESC, a.id DESC"
/* Whole light rows for a page of ids chosen by the subquery. */
#define ART_PAGE(ids)                                                         \
	"SELECT " ART_LIGHT " FROM (" ids ") AS page"                         \
	" JOIN articles a ON a.id = page.id" ART_JOINS ART_ORDER

#define COMMENT_COLS                                                          \
	"id, article_id, COALESCE(parent_id, 0), type, nickname, email, url, "\
	"ip, visitor_id, body, created_at, status, like_count, legacy_id, "   \
	"pending_reason"
/* The same columns for a placeholder: nothing of what was said or who
 * said it (the comment was spammed or trashed). */
#define COMMENT_COLS_HIDDEN                                                   \
	"id, article_id, COALESCE(parent_id, 0), type, '', '', '', '', '', "  \
	"'', created_at, status, 0, legacy_id, ''"

/* The same columns for what readers see (the article page, its API and
 * feed): nothing they are never shown, so nothing to copy per row. */
#define COMMENT_COLS_SHOWN                                                    \
	"id, article_id, COALESCE(parent_id, 0), type, nickname, '', url, "   \
	"ip, '', body, created_at, status, like_count, '', ''"

#define CATEGORY_COLS "id, COALESCE(parent_id, 0), slug, name, description"

/* page_read's order: struct store_page, visible at :now */
#define PAGE_COLS                                                             \
	"a.id, COALESCE(a.parent_id, 0), a.menu_order, a.slug, a.title, "     \
	"(" VISIBLE ")"
#define PAGE_ORDER " ORDER BY a.menu_order, a.title, a.id"

/* rev_read's order; a list leaves the bodies out */
#define REV_COLS(body)                                                        \
	"r.id, r.article_id, r.title, " body ", r.body_format, r.created_at, "\
	"COALESCE(r.author_id, 0), r.meta, COALESCE(u.display_name, '')"
#define REV_JOINS " LEFT JOIN users u ON u.id = r.author_id"
/* store_articles_any's filter: NULL status is everything but the trash */
#define ART_ANY                                                               \
	"(a.status = :status OR (:status IS NULL AND a.status <> 'trash'))"   \
	" AND (:kind IS NULL OR a.kind = :kind)"

/* the editor area's article list: ART_ANY, a category, an author and a
 * substring of the title or slug (instr: no LIKE wildcards to escape) */
#define ART_ADMIN                                                             \
	ART_ANY " AND (:category = 0 OR a.category_id = :category)"           \
	" AND (:author = 0 OR a.author_id = :author)"                         \
	" AND (:text = '' OR instr(lower(a.title), lower(:text)) > 0"         \
	" OR instr(a.slug, lower(:text)) > 0)"

/* media_read's order */
#define MEDIA_COLS                                                            \
	"m.name, m.type, m.width, m.height, m.filename,"                      \
	" COALESCE(m.uploader_id, 0), m.mtime, COALESCE(u.display_name, '')"
#define MEDIA_JOINS " LEFT JOIN users u ON u.id = m.uploader_id"

/* user_read's order */
#define USER_COLS                                                             \
	"id, name, display_name, role, pass_hash, email, disabled, "          \
	"cred_epoch, created_at"

/* job_read's order */
#define JOB_COLS                                                              \
	"id, kind, payload, run_at, lease_until, attempts, "                  \
	"COALESCE(done_at, 0), COALESCE(dedup_key, ''), last_error"

/* ping_read's order (pings.c) */
#define PING_COLS                                                             \
	"p.id, p.article_id, p.target, p.kind, p.endpoint, p.status, "        \
	"p.attempts, p.last_error, p.created_at, p.updated_at"

#endif
