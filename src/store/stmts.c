/*
 * The portable statement table: every SQL statement kiji runs, indexed by
 * enum stmt (store_int.h), in the SQL SQLite speaks; a driver's own table
 * (db_driver.sql: pg_stmts.c) replaces the statements its dialect writes
 * differently. db.c prepares each lazily once per connection; the area
 * files name them by STMT_*.
 */
#include "store_int.h"
#include "stmt_cols.h"

/* ---- the statement table ------------------------------------------------ */

#define S(id, sql) [STMT_##id] = { #id, sql }

const struct db_stmt db_stmts[STMT__MAX] = {
	S(BEGIN, "BEGIN"),
	/* writers take the lock up front: a deferred transaction that read
	 * first cannot wait for it (SQLITE_BUSY_SNAPSHOT) */
	S(BEGIN_IMMEDIATE, "BEGIN IMMEDIATE"),
	S(COMMIT, "COMMIT"),
	S(ROLLBACK, "ROLLBACK"),
	S(SAVEPOINT, "SAVEPOINT store_op"),
	S(RELEASE, "RELEASE store_op"),
	S(ROLLBACK_TO, "ROLLBACK TO store_op"),
	S(DATA_VERSION, "PRAGMA data_version"),
	S(JOURNAL_MODE, "PRAGMA journal_mode"),
	S(SYNCHRONOUS, "PRAGMA synchronous"),

	S(MIGRATIONS_INIT,
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"),
	/* SQLite's IMMEDIATE transactions already take turns (migrate) */
	S(MIGRATE_LOCK, "SELECT 0"),
	S(MIGRATE_UNLOCK, "SELECT 0"),
	S(MIGRATIONS_MAX,
	    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"),
	/* backups and restores (sqlite_backup.c): at most 20 problems */
	S(INTEGRITY_CHECK, "PRAGMA integrity_check(20)"),
	/* freed cells are zeroed, so blanked addresses leave no trace */
	S(SECURE_DELETE, "PRAGMA secure_delete = ON"),
	/* a copy's journal never reaches the disk (with the old values) */
	S(JOURNAL_MEMORY, "PRAGMA journal_mode = MEMORY"),
	S(FORGET_ADDRESSES,
	    "UPDATE comments SET email = '', ip = ''"
	    " WHERE email <> '' OR ip <> ''"),
	/* privacy.ip_days: commenters' addresses kept only so long */
	S(COMMENTS_FORGET_IPS,
	    "UPDATE comments SET ip = '' WHERE ip <> '' AND created_at < :before"),
	/* kiji doctor: a read-only look (sqlite_doctor.c) */
	S(QUICK_CHECK, "PRAGMA quick_check(20)"),
	S(DOCTOR_SETTING, "SELECT value FROM settings WHERE key = :key"),
	/* the newest comments with an address, and how many of them came
	 * from this machine (a proxy in front that kiji does not trust) */
	S(DOCTOR_RECENT_IPS,
	    "SELECT COUNT(*), COALESCE(SUM(ip LIKE '127.%' OR ip = '::1'), 0)"
	    " FROM (SELECT ip FROM comments WHERE ip <> ''"
	    " ORDER BY id DESC LIMIT :n)"),
	/* kiji doctor: the database engine's version */
	S(SERVER_VERSION, "SELECT 'SQLite ' || sqlite_version()"),
	/* a write transaction's lock, taken right after BEGIN_IMMEDIATE by a
	 * driver whose dialect writes it (db_begin_write); SQLite's BEGIN
	 * IMMEDIATE is the lock already, so this is never run there */
	S(WRITE_LOCK, "SELECT 1"),
	/* whether the database has kiji's schema (its migrations table) */
	S(SCHEMA_PRESENT,
	    "SELECT COUNT(*) FROM sqlite_master"
	    " WHERE type = 'table' AND name = 'schema_migrations'"),
	/* /readyz: a real write (page 1 to the WAL, fsync) that changes
	 * nothing: the application id kiji files carry ('kiji') */
	S(PROBE_WRITE, "PRAGMA application_id = 1802070633"),
	S(JOBS_WAITING, "SELECT COUNT(*) FROM jobs WHERE done_at IS NULL"),
	S(JOBS_DUE, "SELECT COUNT(*) FROM jobs WHERE done_at IS NULL"
	    " AND run_at <= :now"),
	S(MIGRATION_HAS, "SELECT 1 FROM schema_migrations WHERE version = :v"),
	S(MIGRATION_RECORD,
	    "INSERT INTO schema_migrations(version, applied_at) VALUES (:v, :now)"),

	S(SETTING_GET, "SELECT value FROM settings WHERE key = :key"),
	S(SETTING_SET,
	    "INSERT INTO settings(key, value) VALUES (:key, :value) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
	/* the first value stays: two processes making one at once agree */
	S(SETTING_ADD,
	    "INSERT INTO settings(key, value) VALUES (:key, :value) "
	    "ON CONFLICT(key) DO NOTHING"),
	S(SETTINGS_ALL, "SELECT key, value FROM settings ORDER BY key"),

	S(USER_ADD,
	    "INSERT INTO users(name, display_name, role, pass_hash, email, "
	    "disabled, created_at) "
	    "VALUES (:name, :display, :role, :hash, :email, :disabled, :now)"),
	S(USER_GET, "SELECT " USER_COLS " FROM users WHERE id = :id"),
	S(USER_BY_NAME, "SELECT " USER_COLS " FROM users WHERE name = :name"),
	S(USER_LIST, "SELECT " USER_COLS " FROM users ORDER BY name"),
	/* a new password ends every session made with the old one */
	S(USER_SET_PASSWORD,
	    "UPDATE users SET pass_hash = :hash, cred_epoch = cred_epoch + 1 "
	    "WHERE id = :id"),
	S(USER_SET_ROLE, "UPDATE users SET role = :role WHERE id = :id"),
	/* disabling ends the user's sessions too */
	S(USER_SET_DISABLED,
	    "UPDATE users SET disabled = :disabled, "
	    "cred_epoch = cred_epoch + :disabled WHERE id = :id"),
	S(USER_SET_EMAIL, "UPDATE users SET email = :email WHERE id = :id"),
	S(USER_SET_DISPLAY,
	    "UPDATE users SET display_name = :display WHERE id = :id"),

	S(CATEGORY_ADD,
	    "INSERT INTO categories(parent_id, slug, name, description) "
	    "VALUES (:parent, :slug, :name, :description)"),
	S(CATEGORY_BY_SLUG,
	    "SELECT " CATEGORY_COLS " FROM categories WHERE slug = :slug"),
	S(CATEGORY_GET, "SELECT " CATEGORY_COLS " FROM categories WHERE id = :id"),
	S(CATEGORIES, "SELECT " CATEGORY_COLS " FROM categories ORDER BY name, id"),

	S(TAG_ADD, "INSERT INTO tags(slug, name) VALUES (:slug, :name)"),
	S(TAG_BY_SLUG, "SELECT id, slug, name FROM tags WHERE slug = :slug"),

	S(ARTICLE_ADD,
	    "INSERT INTO articles(kind, title, slug, body, body_format, "
	    "body_html, body_text, excerpt, status, published_at, updated_at, "
	    "author_id, category_id, eyecatch, eyecatch_credit, comments_open, "
	    "guid, legacy_id, parent_id, menu_order) VALUES (:kind, :title, "
	    ":slug, :body, :format, :html, :text, :excerpt, :status, "
	    ":published, :updated, :author, :category, :eyecatch, :credit, "
	    ":open, :guid, :legacy, :parent, :order)"),
	/* comment_count is the store's; an empty guid keeps the old one */
	S(ARTICLE_UPDATE,
	    "UPDATE articles SET kind = :kind, title = :title, slug = :slug, "
	    "body = :body, body_format = :format, body_html = :html, "
	    "body_text = :text, excerpt = :excerpt, status = :status, "
	    "published_at = :published, updated_at = :updated, "
	    "author_id = :author, category_id = :category, "
	    "eyecatch = :eyecatch, eyecatch_credit = :credit, "
	    "comments_open = :open, guid = COALESCE(:guid, guid), "
	    "legacy_id = :legacy, parent_id = :parent, menu_order = :order "
	    "WHERE id = :id"),
	S(SOURCES_DELETE, "DELETE FROM sources WHERE article_id = :id"),
	S(SOURCE_ADD,
	    "INSERT INTO sources(article_id, pos, title, url) "
	    "VALUES (:id, :pos, :title, :url)"),
	S(ARTICLE_TAGS_DELETE, "DELETE FROM article_tags WHERE article_id = :id"),
	S(ARTICLE_TAG_ADD,
	    "INSERT INTO article_tags(article_id, tag_id) VALUES (:id, :tag) "
	    "ON CONFLICT DO NOTHING"),
	S(REVISION_ADD,
	    "INSERT INTO revisions(article_id, title, body, body_format, "
	    "created_at, author_id, meta) "
	    "VALUES (:id, :title, :body, :format, :created, :author, :meta)"),
	/* ---- the save path (content/) ---- */
	S(REVISION_LATEST,
	    "SELECT COALESCE(MAX(id), 0) FROM revisions WHERE article_id = :id"),
	S(REVISIONS,
	    "SELECT " REV_COLS("''") " FROM revisions r" REV_JOINS
	    " WHERE r.article_id = :id ORDER BY r.id DESC"
	    " LIMIT :limit OFFSET :offset"),
	S(REVISIONS_COUNT, "SELECT COUNT(*) FROM revisions WHERE article_id = :id"),
	S(REVISION_GET,
	    "SELECT " REV_COLS("r.body") " FROM revisions r" REV_JOINS
	    " WHERE r.id = :id"),
	S(ARTICLE_SLUG_OWNER,
	    "SELECT id FROM articles WHERE slug = :slug AND kind = :kind"
	    " AND id <> :except ORDER BY id LIMIT 1"),
	S(ARTICLE_STATE,
	    "SELECT status, published_at FROM articles WHERE id = :id"),
	S(ARTICLE_BY_LEGACY,
	    "SELECT id FROM articles WHERE legacy_id = :legacy AND kind = :kind"
	    " AND legacy_id <> '' ORDER BY id LIMIT 1"),
	/* old WordPress URLs: visible articles only, by the indexes on
	 * legacy_id and slug; pages before posts, as WordPress resolves them */
	S(LEGACY_BY_ID,
	    "SELECT a.id FROM articles a WHERE a.legacy_id = :legacy"
	    " AND a.legacy_id <> '' AND " VISIBLE " ORDER BY a.id LIMIT 1"),
	S(LEGACY_BY_SLUG,
	    "SELECT a.id, a.kind, a.published_at FROM articles a"
	    " WHERE a.slug IN (:s0, :s1, :s2) AND a.slug <> '' AND " VISIBLE
	    " ORDER BY a.kind = 'page' DESC, a.id LIMIT :limit"),
	/* ---- pages (pages.c): the hierarchy, bounded by :max ---- */
	S(PAGE_CHAIN,
	    "WITH RECURSIVE up(id, depth) AS ("
	    " SELECT id, 0 FROM articles WHERE id = :id AND kind = 'page'"
	    " UNION ALL SELECT a.parent_id, up.depth + 1 FROM up"
	    " JOIN articles a ON a.id = up.id"
	    " WHERE a.parent_id IS NOT NULL AND up.depth + 1 < :max)"
	    " SELECT " PAGE_COLS " FROM up JOIN articles a ON a.id = up.id"
	    " ORDER BY up.depth DESC"),
	S(PAGE_CHILD,
	    "SELECT a.id FROM articles a WHERE a.kind = 'page'"
	    " AND a.parent_id IS :parent AND a.slug IN (:s0, :s1, :s2)"
	    " AND a.slug <> '' AND a.status <> 'trash' ORDER BY a.id LIMIT 1"),
	S(PAGE_CHILDREN,
	    "SELECT " PAGE_COLS " FROM articles a WHERE a.parent_id = :parent"
	    " AND a.kind = 'page' AND " VISIBLE PAGE_ORDER " LIMIT :limit"),
	S(PAGES_ALL,
	    "SELECT " PAGE_COLS " FROM articles a WHERE a.kind = 'page'"
	    " AND a.status <> 'trash'" PAGE_ORDER " LIMIT :limit"),
	S(PAGE_HEIGHT,
	    "WITH RECURSIVE down(id, depth) AS (SELECT :id, 0"
	    " UNION ALL SELECT a.id, down.depth + 1 FROM down"
	    " JOIN articles a ON a.parent_id = down.id"
	    " WHERE a.kind = 'page' AND down.depth < :max)"
	    " SELECT MAX(depth) FROM down"),
	S(PAGE_SLUG_OWNER,
	    "SELECT id FROM articles WHERE kind = 'page' AND parent_id IS :parent"
	    " AND slug = :slug AND id <> :except ORDER BY id LIMIT 1"),
	S(PAGE_STAMPS,
	    "SELECT a.id, MAX(a.updated_at, a.published_at) FROM articles a"
	    " WHERE a.kind = 'page' AND " VISIBLE
	    " ORDER BY a.id LIMIT :limit OFFSET :offset"),
	S(PAGES_COUNT,
	    "SELECT COUNT(*) FROM articles a WHERE a.kind = 'page' AND " VISIBLE),
	S(ARTICLES_ANY,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS " WHERE " ART_ANY
	    " ORDER BY a.id DESC LIMIT :limit OFFSET :offset"),
	S(ARTICLES_ANY_COUNT, "SELECT COUNT(*) FROM articles a WHERE " ART_ANY),
	/* the editor area's list: ART_ANY and its filters */
	S(ARTICLES_ADMIN,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS " WHERE " ART_ADMIN
	    " ORDER BY a.id DESC LIMIT :limit OFFSET :offset"),
	S(ARTICLES_ADMIN_COUNT,
	    "SELECT COUNT(*) FROM articles a WHERE " ART_ADMIN),
	S(TAG_BY_NAME,
	    "SELECT id, slug, name FROM tags WHERE name = :name ORDER BY id LIMIT 1"),
	S(ARTICLE_PUBLISH_DUE,
	    "UPDATE articles SET status = 'published' WHERE id = :id"
	    " AND status = 'scheduled' AND published_at <= :now"),
	S(ARTICLE_TRASH,
	    "UPDATE articles SET trashed_from = status, trashed_at = :now,"
	    " status = 'trash' WHERE id = :id AND status <> 'trash'"),
	S(ARTICLE_RESTORE,
	    "UPDATE articles SET status = CASE WHEN trashed_from IN"
	    " ('draft', 'scheduled', 'published') THEN trashed_from"
	    " ELSE 'draft' END, trashed_from = '', trashed_at = 0"
	    " WHERE id = :id AND status = 'trash' RETURNING status, published_at"),
	/* batch mode: the deferred articles' entries in one statement, in
	 * rowid order (what FTS5 appends fastest) */
	S(FTS_INDEX_MANY,
	    "INSERT INTO articles_fts(rowid, title, body)"
	    " SELECT id, title, body FROM articles_fts_source"
	    " WHERE id IN (SELECT value FROM json_each(:ids)) ORDER BY id"),

	S(ARTICLE_GET,
	    "SELECT " ART_FULL " FROM articles a" ART_JOINS
	    " WHERE a.id = :id AND " VISIBLE),
	S(ARTICLE_GET_ANY,
	    "SELECT " ART_FULL " FROM articles a" ART_JOINS " WHERE a.id = :id"),
	S(ARTICLE_HEAD,
	    "SELECT " ART_HEAD " FROM articles a" ART_JOINS
	    " WHERE a.id = :id AND " VISIBLE),
	S(ARTICLE_SOURCES,
	    "SELECT title, url FROM sources WHERE article_id = :id ORDER BY pos"),
	S(ARTICLE_TAGS,
	    "SELECT t.id, t.slug, t.name FROM article_tags x "
	    "JOIN tags t ON t.id = x.tag_id WHERE x.article_id = :id "
	    "ORDER BY t.name, t.id"),

	/*
	 * One statement per filter shape so each gets its own index. The
	 * page's ids are chosen first, from the index alone, and only those
	 * rows are read: sorting or skipping (OFFSET) whole rows would drag
	 * every body_text through the sorter. Tag listings start from the
	 * tag's rows (CROSS JOIN fixes the loop order in SQLite and is plain
	 * SQL elsewhere), so a rare tag never scans the whole date index.
	 */
	S(LIST_ALL, ART_PAGE(
	    "SELECT a.id AS id FROM articles a WHERE " VISIBLE_POST ART_RANGE
	    ART_ORDER " LIMIT :limit OFFSET :offset")),
	S(LIST_CAT, ART_PAGE(
	    "SELECT a.id AS id FROM articles a WHERE a.category_id = :cat AND "
	    VISIBLE_POST ART_RANGE ART_ORDER " LIMIT :limit OFFSET :offset")),
	S(LIST_TAG, ART_PAGE(
	    "SELECT a.id AS id FROM article_tags x CROSS JOIN articles a"
	    " WHERE x.tag_id = :tag AND a.id = x.article_id"
	    " AND (:cat = 0 OR a.category_id = :cat) AND " VISIBLE_POST ART_RANGE
	    ART_ORDER " LIMIT :limit OFFSET :offset")),
	S(COUNT_ALL,
	    "SELECT COUNT(*) FROM articles a WHERE " VISIBLE_POST ART_RANGE),
	S(COUNT_CAT,
	    "SELECT COUNT(*) FROM articles a WHERE a.category_id = :cat AND "
	    VISIBLE_POST ART_RANGE),
	S(COUNT_TAG,
	    "SELECT COUNT(*) FROM article_tags x CROSS JOIN articles a"
	    " WHERE x.tag_id = :tag AND a.id = x.article_id"
	    " AND (:cat = 0 OR a.category_id = :cat) AND "
	    VISIBLE_POST ART_RANGE),

	/*
	 * (published_at, id) order, ties broken by id both ways. The
	 * previous one spells the visibility rule's time bound as one bound,
	 * MIN(:t, :now): given two upper bounds SQLite's planner walks the
	 * index from one of them, and from :now it stepped over every newer
	 * article first (1.4 ms for an old article of 10,000; now 8 us).
	 */
	S(ADJ_PREV,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS " WHERE"
	    " a.status = 'published' AND a.kind = 'post'"
	    " AND a.published_at <= MIN(:t, :now)"
	    " AND (a.published_at < :t OR a.id < :id)" ART_ORDER " LIMIT 1"),
	S(ADJ_NEXT,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS " WHERE " VISIBLE_POST
	    " AND a.published_at >= :t AND (a.published_at > :t OR a.id > :id)"
	    " ORDER BY a.published_at, a.id LIMIT 1"),

	/* A category's newest visible posts but one, ids and dates (related
	 * articles: store_related_merge) */
	S(CATEGORY_RECENT,
	    "SELECT a.id, a.published_at FROM articles a"
	    " WHERE a.category_id = :cat AND a.id <> :id AND " VISIBLE_POST
	    ART_ORDER " LIMIT :lim"),
	/* Light rows of the visible posts among :ids (a JSON array), in its
	 * order */
	S(ARTICLES_BY_IDS,
	    "SELECT " ART_LIGHT " FROM json_each(:ids) j"
	    " JOIN articles a ON a.id = j.value" ART_JOINS
	    " WHERE " VISIBLE_POST " ORDER BY j.key"),
	/* A tag's newest articles by id, whatever their state (the window
	 * related articles are counted in; a tag on a thousand articles
	 * would otherwise be walked whole for every page): what ranking them
	 * needs, visibility checked by the caller at its own time. */
	S(TAG_RECENT,
	    "SELECT t.article_id, COALESCE(a.category_id, 0), a.published_at,"
	    " CASE WHEN a.status = 'published' AND a.kind = 'post' THEN 1"
	    " ELSE 0 END FROM article_tags t JOIN articles a ON a.id = t.article_id"
	    " WHERE t.tag_id = :tag ORDER BY t.article_id DESC LIMIT :lim"),
	/* ranked on ids and sums first; whole rows only for the winners */
	S(POPULAR,
	    "SELECT " ART_LIGHT ", top.views FROM (SELECT a.id AS id, v.views AS views"
	    " FROM (SELECT article_id, SUM(count) AS views FROM views_daily"
	    " WHERE day >= :from AND day < :until GROUP BY article_id) AS v"
	    " JOIN articles a ON a.id = v.article_id WHERE " VISIBLE_POST
	    " ORDER BY v.views DESC, a.published_at DESC, a.id DESC LIMIT :lim)"
	    " AS top JOIN articles a ON a.id = top.id" ART_JOINS
	    " ORDER BY top.views DESC, a.published_at DESC, a.id DESC"),
	S(VIEWS_ADD,
	    "INSERT INTO views_daily(article_id, day, count) "
	    "VALUES (:id, :day, :n) ON CONFLICT(article_id, day) "
	    "DO UPDATE SET count = views_daily.count + excluded.count"),
	S(ARTICLES_COUNT, "SELECT COUNT(*) FROM articles a WHERE " VISIBLE_POST),
	S(ARTICLE_VISIBLE,
	    "SELECT 1 FROM articles a WHERE a.id = :id AND " VISIBLE_POST),
	/* feeds want the rendered body but never the source */
	S(FEED_ALL,
	    "SELECT " ART_COLS("''", "a.body_html", "a.body_text") " FROM articles a" ART_JOINS
	    " WHERE " VISIBLE_POST ART_ORDER " LIMIT :limit"),
	S(FEED_CAT,
	    "SELECT " ART_COLS("''", "a.body_html", "a.body_text") " FROM articles a" ART_JOINS
	    " WHERE a.category_id = :cat AND " VISIBLE_POST ART_ORDER
	    " LIMIT :limit"),
	/* sitemap: a change is an edit or, for a scheduled post, going live */
	S(STAMPS_ARTICLES,
	    "SELECT a.id, MAX(a.updated_at, a.published_at) FROM articles a"
	    " WHERE " VISIBLE_POST ART_ORDER " LIMIT :limit OFFSET :offset"),
	S(STAMPS_CATEGORIES,
	    "SELECT a.category_id, MAX(MAX(a.updated_at, a.published_at))"
	    " FROM articles a WHERE a.category_id IS NOT NULL AND " VISIBLE_POST
	    " GROUP BY a.category_id ORDER BY a.category_id"),
	S(STAMPS_CHUNKS,
	    "SELECT (:skip + rn) / :per AS k, MAX(t) FROM ("
	    " SELECT ROW_NUMBER() OVER (ORDER BY a.published_at DESC, a.id DESC)"
	    " - 1 AS rn, MAX(a.updated_at, a.published_at) AS t"
	    " FROM articles a WHERE " VISIBLE_POST ") AS r GROUP BY k ORDER BY k"),

	S(COMMENT_STATE,
	    "SELECT article_id, status FROM comments WHERE id = :id"),
	S(COMMENT_ADD,
	    "INSERT INTO comments(article_id, parent_id, type, nickname, email, "
	    "url, ip, visitor_id, body, created_at, status, like_count, "
	    "legacy_id, pending_reason) VALUES (:article, :parent, :type, "
	    ":nickname, :email, :url, :ip, :visitor, :body, :created, :status, "
	    ":likes, :legacy, :reason)"),
	S(COMMENT_GET, "SELECT " COMMENT_COLS " FROM comments WHERE id = :id"),
	/* What a reader sees, and above it every spam or trashed ancestor
	 * of something they see, as a placeholder (last column 1): replies
	 * keep their place under "deleted" instead of jumping to the top. */
	S(COMMENTS_FOR_ARTICLE,
	    "WITH RECURSIVE shown(id, parent_id) AS ("
	    " SELECT id, parent_id FROM comments WHERE article_id = :article"
	    " AND (status = 'approved' OR"
	    " (status = 'pending' AND visitor_id = :visitor))"
	    " AND (:type IS NULL OR type = :type)),"
	    " up(id) AS (SELECT parent_id FROM shown WHERE parent_id IS NOT NULL"
	    " UNION SELECT c.parent_id FROM comments c JOIN up ON c.id = up.id"
	    " WHERE c.status IN ('spam', 'trash') AND c.parent_id IS NOT NULL)"
	    " SELECT " COMMENT_COLS_SHOWN ", 0 AS hidden FROM comments"
	    " WHERE id IN (SELECT id FROM shown)"
	    " UNION ALL SELECT " COMMENT_COLS_HIDDEN ", 1 FROM comments"
	    " WHERE id IN (SELECT id FROM up) AND article_id = :article"
	    " AND status IN ('spam', 'trash')"
	    " ORDER BY created_at, id"),
	/* The first half of the above alone, for the usual article where
	 * every shown reply's parent is shown too (no placeholders): both
	 * halves walk comments_article in (created_at, id) order, merged
	 * without a sort. store_comments_for_article falls back to the
	 * full statement when a parent is missing. */
	S(COMMENTS_SHOWN,
	    "SELECT " COMMENT_COLS_SHOWN ", 0 FROM comments"
	    " WHERE article_id = :article AND status = 'approved'"
	    " AND (:type IS NULL OR type = :type)"
	    " UNION ALL SELECT " COMMENT_COLS_SHOWN ", 0 FROM comments"
	    " WHERE article_id = :article AND status = 'pending'"
	    " AND visitor_id = :visitor AND (:type IS NULL OR type = :type)"
	    " ORDER BY created_at, id"),
	/* COMMENTS_SHOWN's rows with only what places them in threads
	 * (site/cview.c): the comment pages of a long discussion read the
	 * text of one page's comments only (COMMENTS_BY_IDS). */
	S(COMMENT_PLACES,
	    "SELECT id, COALESCE(parent_id, 0), type, created_at, status,"
	    " like_count FROM comments"
	    " WHERE article_id = :article AND status = 'approved'"
	    " UNION ALL SELECT id, COALESCE(parent_id, 0), type, created_at,"
	    " status, like_count FROM comments"
	    " WHERE article_id = :article AND status = 'pending'"
	    " AND visitor_id = :visitor ORDER BY created_at, id"),
	/* :ids is a JSON array of comment ids (json_each: one prepared
	 * statement for any number of them); rows in the array's order. */
	S(COMMENTS_BY_IDS,
	    "SELECT c.id, c.article_id, COALESCE(c.parent_id, 0), c.type,"
	    " c.nickname, '', c.url, c.ip, '', c.body, c.created_at, c.status,"
	    " c.like_count, '', '', 0"
	    " FROM json_each(:ids) j JOIN comments c ON c.id = j.value"
	    " WHERE c.article_id = :article AND (c.status = 'approved' OR"
	    " (c.status = 'pending' AND c.visitor_id = :visitor))"
	    " ORDER BY j.key"),
	S(COMMENT_SET_STATUS, "UPDATE comments SET status = :status WHERE id = :id"),
	S(CHANGES_SINCE,
	    "SELECT seq, kind, article_id, scope, comment_id FROM change_log"
	    " WHERE seq > :after ORDER BY seq LIMIT :limit"),
	S(CHANGES_LAST, "SELECT COALESCE(MAX(seq), 0) FROM change_log"),
	/* up to :upto, but never past a node seen since :since that has
	 * not read that far */
	S(CHANGES_PRUNE,
	    "DELETE FROM change_log WHERE seq <= :upto AND seq <= COALESCE("
	    "(SELECT MIN(seq) FROM change_readers WHERE seen_at >= :since),"
	    " :upto)"),
	S(CHANGES_FIRST, "SELECT COALESCE(MIN(seq), 0) FROM change_log"),
	S(CHANGES_COMMENTS,
	    "SELECT seq, kind, article_id, scope, comment_id FROM change_log"
	    " WHERE kind = 'comment' AND article_id = :article AND seq > :after"
	    " AND seq <= :upto ORDER BY seq LIMIT :limit"),
	/* AUTOINCREMENT: sqlite_sequence keeps the newest seq given, also
	 * once pruning has emptied the log */
	S(CHANGES_SPAN,
	    "SELECT (SELECT COALESCE(MIN(seq), 0) FROM change_log),"
	    " COALESCE((SELECT seq FROM sqlite_sequence"
	    " WHERE name = 'change_log'), 0)"),
	S(CHANGE_READER_SET,
	    "INSERT INTO change_readers(node, seq, seen_at)"
	    " VALUES (:node, :seq, :now) ON CONFLICT(node) DO UPDATE"
	    " SET seq = excluded.seq, seen_at = excluded.seen_at"),
	/* nodes gone (stopped, restarted under a new name) hold nothing */
	S(CHANGE_READERS_PRUNE, "DELETE FROM change_readers WHERE seen_at < :since"),
	S(NEXT_PUBLISH,
	    "SELECT COALESCE(MIN(published_at), 0) FROM articles"
	    " WHERE status IN ('published', 'scheduled') AND published_at > :now"),
	S(COMMENTS_BY_STATUS,
	    "SELECT " COMMENT_COLS " FROM comments"
	    " WHERE (:status IS NULL OR status = :status)"
	    " ORDER BY created_at DESC, id DESC LIMIT :limit"),
	S(VISITOR_APPROVED,
	    "SELECT EXISTS (SELECT 1 FROM comments WHERE visitor_id = :visitor"
	    " AND status = 'approved')"),
	S(VISITOR_LIKES,
	    "SELECT l.comment_id FROM likes l JOIN comments c ON c.id = l.comment_id"
	    " WHERE l.visitor_id = :visitor AND c.article_id = :article"
	    " ORDER BY l.comment_id"),
	S(COMMENT_COUNT_ADJ,
	    "UPDATE articles SET comment_count = comment_count + :delta "
	    "WHERE id = :id"),

	S(LIKE_COUNT, "SELECT like_count FROM comments WHERE id = :id"),
	S(LIKE_ADD,
	    "INSERT INTO likes(comment_id, visitor_id, created_at) "
	    "VALUES (:id, :visitor, :now) ON CONFLICT DO NOTHING"),
	S(LIKE_DEL, "DELETE FROM likes WHERE comment_id = :id AND visitor_id = :visitor"),
	S(LIKE_INC, "UPDATE comments SET like_count = like_count + 1 WHERE id = :id"),
	/* historic counts (import, demo) may exceed the rows in likes */
	S(LIKE_DEC,
	    "UPDATE comments SET like_count = CASE WHEN like_count > 0 "
	    "THEN like_count - 1 ELSE 0 END WHERE id = :id"),

	S(REDIRECT_ADD, "INSERT INTO redirects(from_path, to_path) VALUES (:from, :to)"),
	S(REDIRECT_GET, "SELECT to_path FROM redirects WHERE from_path = :from"),

	/* ---- editor area (admin/) ---- */
	S(REDIRECT_SET,
	    "INSERT INTO redirects(from_path, to_path) VALUES (:from, :to)"
	    " ON CONFLICT(from_path) DO UPDATE SET to_path = excluded.to_path"),
	S(REDIRECT_DELETE, "DELETE FROM redirects WHERE from_path = :from"),
	S(REDIRECTS_PAGE,
	    "SELECT from_path, to_path FROM redirects ORDER BY from_path"
	    " LIMIT :limit OFFSET :offset"),
	S(REDIRECTS_COUNT, "SELECT COUNT(*) FROM redirects"),
	/* the session records the user's credentials epoch of its birth */
	S(SESSION_ADD,
	    "INSERT INTO sessions(id_hash, user_id, csrf, cred_epoch, created_at,"
	    " seen_at, ip, user_agent) SELECT :hash, id, :csrf, cred_epoch, :now,"
	    " :now, :ip, :ua FROM users WHERE id = :user"),
	S(SESSION_GET,
	    "SELECT s.user_id, s.csrf, s.created_at, s.seen_at,"
	    " s.cred_epoch < u.cred_epoch, u.disabled, u.role, u.name,"
	    " u.display_name FROM sessions s JOIN users u ON u.id = s.user_id"
	    " WHERE s.id_hash = :hash"),
	S(SESSION_TOUCH, "UPDATE sessions SET seen_at = :now WHERE id_hash = :hash"),
	S(SESSION_DELETE, "DELETE FROM sessions WHERE id_hash = :hash"),
	S(SESSIONS_PRUNE,
	    "DELETE FROM sessions WHERE seen_at < :idle OR created_at < :created"),
	S(LOGIN_FAILURES_GET,
	    "SELECT failures, last_at FROM login_failures WHERE key = :key"),
	S(LOGIN_FAIL,
	    "INSERT INTO login_failures(key, failures, last_at) VALUES (:key, 1,"
	    " :now) ON CONFLICT(key) DO UPDATE SET failures = CASE WHEN"
	    " login_failures.last_at < :forget THEN 1 ELSE"
	    " login_failures.failures + 1 END, last_at = :now"),
	S(LOGIN_CLEAR, "DELETE FROM login_failures WHERE key = :key"),
	S(LOGIN_PRUNE, "DELETE FROM login_failures WHERE last_at < :before"),
	S(COMMENT_COUNTS,
	    "SELECT status, COUNT(*) FROM comments"
	    " WHERE :article = 0 OR article_id = :article GROUP BY status"),
	/* the page's rows first (index on status, created_at), titles after */
	S(COMMENTS_QUEUE,
	    "SELECT x.*, COALESCE(a.title, '') FROM (SELECT " COMMENT_COLS
	    " FROM comments WHERE (:status IS NULL OR status = :status)"
	    " AND (:article = 0 OR article_id = :article)"
	    " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset) AS x"
	    " LEFT JOIN articles a ON a.id = x.article_id"
	    " ORDER BY x.created_at DESC, x.id DESC"),
	S(COMMENTS_QUEUE_COUNT,
	    "SELECT COUNT(*) FROM comments WHERE (:status IS NULL OR status = :status)"
	    " AND (:article = 0 OR article_id = :article)"),
	S(COMMENT_SET_BODY, "UPDATE comments SET body = :body WHERE id = :id"),
	S(COMMENT_BY_LEGACY,
	    "SELECT id FROM comments WHERE article_id = :article"
	    " AND legacy_id = :legacy AND legacy_id <> '' ORDER BY id LIMIT 1"),
	/* received pings: one per (article, source URL), whatever its type */
	S(COMMENT_PING_FIND,
	    "SELECT " COMMENT_COLS " FROM comments WHERE article_id = :article"
	    " AND url = :url AND type <> 'comment' ORDER BY id LIMIT 1"),
	S(COMMENT_PING_UPDATE,
	    "UPDATE comments SET nickname = :nickname, body = :body"
	    " WHERE id = :id AND type <> 'comment'"),
	S(COMMENT_PING_DELETE,
	    "DELETE FROM comments WHERE id = :id AND type <> 'comment'"
	    " AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = :id)"),
	S(COMMENT_SET_LIKES,
	    "UPDATE comments SET like_count = :likes WHERE id = :id"),
	/* the export walks everything by primary key, a page at a time
	 * (keyset, not OFFSET: each page costs the same) */
	S(EXPORT_ARTICLE_IDS,
	    "SELECT id FROM articles WHERE id > :after AND status <> 'trash'"
	    " ORDER BY id LIMIT :limit"),
	S(EXPORT_AUTHOR_IDS,
	    "SELECT DISTINCT author_id FROM articles WHERE author_id IS NOT NULL"
	    " AND status <> 'trash' ORDER BY author_id"),
	S(EXPORT_COMMENTS,
	    "SELECT " COMMENT_COLS " FROM comments WHERE article_id = :article"
	    " AND id > :after ORDER BY id LIMIT :limit"),
	S(EXPORT_TAGS,
	    "SELECT id, slug, name FROM tags WHERE id > :after ORDER BY id"
	    " LIMIT :limit"),
	S(ARTICLE_STATUS_COUNTS, "SELECT status, COUNT(*) FROM articles GROUP BY status"),
	S(BAN_ADD,
	    "INSERT INTO bans(kind, value, note, created_at)"
	    " VALUES (:kind, :value, :note, :now)"),
	S(BAN_DELETE, "DELETE FROM bans WHERE id = :id"),
	S(BANS,
	    "SELECT id, kind, value, note, created_at FROM bans"
	    " ORDER BY created_at DESC, id DESC LIMIT :limit"),
	S(BAN_RANGES,
	    "SELECT id, kind, value, note, created_at FROM bans"
	    " WHERE kind = 'range' ORDER BY id"),
	S(BAN_EXACT,
	    "SELECT EXISTS (SELECT 1 FROM bans WHERE (kind = 'ip' AND value = :ip)"
	    " OR (kind = 'visitor' AND value = :visitor))"),
	S(CATEGORY_UPDATE,
	    "UPDATE categories SET parent_id = :parent, slug = :slug, name = :name,"
	    " description = :description WHERE id = :id"),
	S(CATEGORY_REASSIGN,
	    "UPDATE articles SET category_id = :to WHERE category_id = :id"),
	S(CATEGORY_REPARENT,
	    "UPDATE categories SET parent_id = :parent WHERE parent_id = :id"),
	S(CATEGORY_DELETE, "DELETE FROM categories WHERE id = :id"),
	S(CATEGORY_USAGE,
	    "SELECT category_id, COUNT(*) FROM articles"
	    " WHERE category_id IS NOT NULL GROUP BY category_id"),
	/* deletes of categories and tags have no trigger: say it here */
	S(CHANGE_ALL, "INSERT INTO change_log(kind) VALUES ('all')"),
	S(CHANGE_ARTICLE,
	    "INSERT INTO change_log(kind, article_id) VALUES ('article', :id)"),
	S(CHANGE_ARTICLE_TEXT,
	    "INSERT INTO change_log(kind, article_id, scope)"
	    " VALUES ('article', :id, 'text')"),
	S(ARTICLE_TAG_IDS,
	    "SELECT tag_id FROM article_tags WHERE article_id = :id ORDER BY tag_id"),
	S(TAG_GET, "SELECT id, slug, name FROM tags WHERE id = :id"),
	S(TAG_UPDATE, "UPDATE tags SET slug = :slug, name = :name WHERE id = :id"),
	S(TAG_REASSIGN,
	    "INSERT INTO article_tags(article_id, tag_id) SELECT article_id, :to"
	    " FROM article_tags WHERE tag_id = :id ON CONFLICT DO NOTHING"),
	S(TAG_DELETE, "DELETE FROM tags WHERE id = :id"),
	S(TAGS_PAGE,
	    "SELECT t.id, t.slug, t.name, (SELECT COUNT(*) FROM article_tags x"
	    " WHERE x.tag_id = t.id) FROM tags t ORDER BY t.name, t.id"
	    " LIMIT :limit OFFSET :offset"),
	S(TAGS_COUNT, "SELECT COUNT(*) FROM tags"),

	S(MEDIA_PUT,
	    "INSERT INTO media(name, type, data, mtime) "
	    "VALUES (:name, :type, :data, :mtime) ON CONFLICT(name) DO UPDATE "
	    "SET type = excluded.type, data = excluded.data, mtime = excluded.mtime"),
	S(MEDIA_GET, "SELECT type, data, mtime FROM media WHERE name = :name"),
	/* same name, same bytes (content hash): keep the blob, fill in what
	 * an older row lacks */
	S(MEDIA_ADD,
	    "INSERT INTO media(name, type, data, mtime, width, height, filename,"
	    " uploader_id) VALUES (:name, :type, :data, :mtime, :width, :height,"
	    " :filename, :uploader) ON CONFLICT(name) DO UPDATE SET"
	    " width = excluded.width, height = excluded.height,"
	    " filename = CASE WHEN media.filename = '' THEN excluded.filename"
	    " ELSE media.filename END,"
	    " uploader_id = COALESCE(media.uploader_id, excluded.uploader_id)"),
	S(MEDIA_META,
	    "SELECT " MEDIA_COLS " FROM media m" MEDIA_JOINS
	    " WHERE m.name = :name"),
	/* rowid order is upload order and needs no sort: only the page's
	 * rows are read (their columns sit after the blob) */
	S(MEDIA_LIST,
	    "SELECT " MEDIA_COLS " FROM media m" MEDIA_JOINS
	    " ORDER BY m.rowid DESC LIMIT :limit OFFSET :offset"),
	S(MEDIA_COUNT, "SELECT COUNT(*) FROM media"),

	S(JOB_ADD,
	    "INSERT INTO jobs(kind, payload, run_at) VALUES (:kind, :payload, :run_at)"),
	/* One job per key: scheduling again moves it (new time and payload)
	 * and makes it pending afresh. A runner holding the old claim loses
	 * it (attempts and lease no longer match), so its outcome is not
	 * written over the new schedule. */
	S(JOB_SCHEDULE,
	    "INSERT INTO jobs(kind, payload, run_at, dedup_key)"
	    " VALUES (:kind, :payload, :run_at, :key)"
	    " ON CONFLICT(dedup_key) WHERE dedup_key IS NOT NULL DO UPDATE SET"
	    " kind = excluded.kind, payload = excluded.payload,"
	    " run_at = excluded.run_at, lease_until = 0, attempts = 0,"
	    " done_at = NULL, last_error = ''"
	    " RETURNING id"),
	/* the runner's cheap look before it takes the write lock */
	S(JOB_DUE,
	    "SELECT EXISTS (SELECT 1 FROM jobs WHERE done_at IS NULL"
	    " AND run_at <= :now AND lease_until < :now)"),
	/* Claims the oldest due job that nobody holds; run inside BEGIN
	 * IMMEDIATE, so two runners (processes, nodes) never both get it. A
	 * claim that was never finished (the runner died) expires with its
	 * lease and the job is claimed again: at least once. */
	S(JOB_CLAIM,
	    "UPDATE jobs SET lease_until = :now + :lease, attempts = attempts + 1"
	    " WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL"
	    " AND run_at <= :now AND lease_until < :now ORDER BY run_at, id"
	    " LIMIT 1) RETURNING " JOB_COLS),
	/* finishing needs the claim still held: same attempt, same lease */
	S(JOB_DONE,
	    "UPDATE jobs SET done_at = :now, last_error = ''"
	    " WHERE id = :id AND attempts = :attempts AND lease_until = :lease"
	    " AND done_at IS NULL"),
	S(JOB_FAIL,
	    "UPDATE jobs SET last_error = :error, run_at = :run_at,"
	    " lease_until = 0, done_at = :done"
	    " WHERE id = :id AND attempts = :attempts AND lease_until = :lease"
	    " AND done_at IS NULL"),
	S(JOB_GET, "SELECT " JOB_COLS " FROM jobs WHERE id = :id"),
	/* a key that was ever used is kept: done jobs are not run again */
	S(JOB_ADD_KEY,
	    "INSERT INTO jobs(kind, payload, run_at, dedup_key)"
	    " VALUES (:kind, :payload, :run_at, :key)"
	    " ON CONFLICT(dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING"),

	/* outgoing pings (pings.c); ping_read's order */
	S(PING_ADD,
	    "INSERT INTO pings(article_id, target, created_at, updated_at)"
	    " VALUES (:article, :target, :now, :now)"
	    " ON CONFLICT(article_id, target) DO NOTHING"),
	S(PING_GET,
	    "SELECT " PING_COLS ", '' FROM pings p"
	    " WHERE p.article_id = :article AND p.target = :target"),
	S(PING_UPDATE,
	    "UPDATE pings SET kind = :kind, endpoint = :endpoint,"
	    " status = :status, attempts = :attempts, last_error = :error,"
	    " updated_at = :now WHERE id = :id"),
	S(PINGS_LIST,
	    "SELECT " PING_COLS ", COALESCE(a.title, '') FROM pings p"
	    " LEFT JOIN articles a ON a.id = p.article_id"
	    " WHERE (:article = 0 OR p.article_id = :article)"
	    " ORDER BY p.updated_at DESC, p.id DESC LIMIT :limit OFFSET :offset"),
	S(PINGS_COUNT,
	    "SELECT COUNT(*) FROM pings WHERE (:article = 0 OR article_id = :article)"),

	/*
	 * Full-text search (fts.c). The index holds exactly the rows of the
	 * view articles_fts_source (published and scheduled articles), with
	 * the values the view shows: so every statement that changes an
	 * article's title, body_text or status, or deletes one, runs between
	 * FTS_UNINDEX (old values out) and FTS_INDEX (new values in) for it
	 * (fts_sync; in batch mode an article added in the batch is indexed
	 * by FTS_INDEX_MANY at the commit instead, and skipped until then).
	 */
	S(FTS_UNINDEX,
	    "INSERT INTO articles_fts(articles_fts, rowid, title, body)"
	    " SELECT 'delete', id, title, body FROM articles_fts_source"
	    " WHERE id = :id"),
	S(FTS_INDEX,
	    "INSERT INTO articles_fts(rowid, title, body)"
	    " SELECT id, title, body FROM articles_fts_source WHERE id = :id"),
	/* The page: bm25 next to the MATCH (the only place FTS5 defines
	 * it), the visibility rule and the recency boost (x2 today, x1.5 at
	 * 30 days, fading) from a narrow index, a top-N sort; whole rows
	 * for the page only; over the rowids from :lo up (the newest
	 * matches: sqlite_search.c). */
	S(SEARCH,
	    "SELECT " ART_LIGHT ", page.score FROM (SELECT a.id AS id,"
	    " bm25(articles_fts, 4.0, 1.0) * (1.0 + 1.0 / (1.0 +"
	    " MAX(:now - a.published_at, 0) / 2592000.0)) AS score"
	    " FROM articles_fts CROSS JOIN articles a"
	    " INDEXED BY articles_id_visibility"
	    " WHERE articles_fts MATCH :q AND articles_fts.rowid >= :lo"
	    " AND a.id = articles_fts.rowid AND "
	    VISIBLE_POST " ORDER BY score, a.published_at DESC, a.id DESC"
	    " LIMIT :limit OFFSET :offset) AS page"
	    " JOIN articles a ON a.id = page.id" ART_JOINS
	    " ORDER BY page.score, a.published_at DESC, a.id DESC"),
	/*
	 * Newest first (sqlite_search.c): the top of the rowid space; the
	 * matching rowids of one range, from the index alone (no article
	 * row, no bm25); the posts the index holds that are not VISIBLE_POST
	 * (scheduled, pages, future posts: the three index ranges of
	 * articles_status_published that complement VISIBLE_POST within the
	 * view articles_fts_source, so the count is matches minus these);
	 * the visible posts newest first from that same index; one post's
	 * visibility and date; one hit.
	 */
	S(SEARCH_TOP, "SELECT COALESCE(MAX(id), 0) FROM articles"),
	S(SEARCH_IDS,
	    "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q"
	    " AND rowid >= :lo AND rowid <= :hi"),
	S(SEARCH_HIDDEN,
	    "SELECT a.id FROM articles a WHERE a.status = 'scheduled'"
	    " UNION ALL SELECT a.id FROM articles a"
	    " WHERE a.status = 'published' AND a.kind = 'page'"
	    " UNION ALL SELECT a.id FROM articles a WHERE a.status = 'published'"
	    " AND a.kind = 'post' AND a.published_at > :now"),
	S(SEARCH_WALK,
	    "SELECT a.id FROM articles a INDEXED BY articles_status_published"
	    " WHERE " VISIBLE_POST ART_ORDER),
	S(SEARCH_PROBE,
	    "SELECT a.published_at FROM articles a"
	    " INDEXED BY articles_id_visibility WHERE a.id = :id AND "
	    VISIBLE_POST),
	S(SEARCH_ROW,
	    "SELECT " ART_LIGHT ", 0.0 FROM articles a" ART_JOINS
	    " WHERE a.id = :id"),
	S(ARTICLE_DELETE, "DELETE FROM articles WHERE id = :id"),
	/*
	 * The site's recent comments: approved comments on visible posts
	 * (pages stay out of listings) newest first from comments_status
	 * (status, created_at, rowid) in index order, each article found by
	 * its key (CROSS JOIN keeps comments the outer loop: with no
	 * statistics the planner walked every post for the count, and for
	 * each the approved comments); LIMIT ends the walk, so a page reads
	 * offset + limit entries (plus those on hidden articles and pings),
	 * never the whole table. The count is bounded the same way.
	 */
	S(COMMENTS_RECENT,
	    "SELECT c.id, c.created_at, c.nickname, c.body, a.id, a.kind,"
	    " a.title, a.slug, COALESCE(a.parent_id, 0)"
	    " FROM comments c INDEXED BY comments_status"
	    " CROSS JOIN articles a ON a.id = c.article_id"
	    " WHERE c.status = 'approved' AND c.type = 'comment' AND "
	    VISIBLE_POST " ORDER BY c.created_at DESC, c.id DESC LIMIT :limit OFFSET :offset"),
	S(COMMENTS_RECENT_COUNT,
	    "SELECT COUNT(*) FROM (SELECT 1"
	    " FROM comments c INDEXED BY comments_status"
	    " CROSS JOIN articles a ON a.id = c.article_id"
	    " WHERE c.status = 'approved' AND c.type = 'comment' AND "
	    VISIBLE_POST " LIMIT :max)"),
	/* reply notifications by e-mail (mail.c) */
	S(MAIL_ADDRESS_ADD,
	    "INSERT INTO mail_addresses(blind, sealed, created_at)"
	    " VALUES (:blind, :sealed, :now)"
	    " ON CONFLICT(blind) DO UPDATE SET blind = excluded.blind"
	    " RETURNING id, confirmed_at, unsubscribed_at"),
	S(MAIL_ADDRESS_GET,
	    "SELECT id, blind, sealed, created_at, confirmed_at,"
	    " unsubscribed_at, batch_at FROM mail_addresses WHERE id = :id"),
	/* subscribing again after an unsubscribe starts over: unconfirmed,
	 * under a fresh seal */
	S(MAIL_ADDRESS_RESTART,
	    "UPDATE mail_addresses SET confirmed_at = 0, unsubscribed_at = 0,"
	    " sealed = :sealed WHERE id = :id"),
	S(MAIL_SUBSCRIBE,
	    "INSERT INTO mail_subscriptions(comment_id, address_id, created_at)"
	    " VALUES (:comment, :address, :now)"
	    " ON CONFLICT(comment_id) DO NOTHING"),
	S(MAIL_ASKED_COUNT,
	    "SELECT COUNT(*) FROM mail_log WHERE address_id = :address"
	    " AND kind = 'asked' AND at >= :since"),
	S(MAIL_ASKED_IP_COUNT,
	    "SELECT COUNT(*) FROM mail_log WHERE ip_hash = :ip"
	    " AND kind = 'asked' AND at >= :since"),
	S(MAIL_LOG_ADD,
	    "INSERT INTO mail_log(kind, dedup_key, address_id, ip_hash, at)"
	    " VALUES (:kind, :key, :address, :ip, :now)"
	    " ON CONFLICT(dedup_key) DO NOTHING"),
	S(MAIL_LOGGED, "SELECT EXISTS (SELECT 1 FROM mail_log"
	    " WHERE dedup_key = :key)"),
	S(MAIL_SENT_COUNT,
	    "SELECT COUNT(*) FROM mail_log WHERE address_id = :address"
	    " AND kind = :kind AND at >= :since"),
	S(MAIL_CONFIRM,
	    "UPDATE mail_addresses SET confirmed_at = :now"
	    " WHERE id = :id AND confirmed_at = 0 AND unsubscribed_at = 0"),
	S(MAIL_UNSUBSCRIBE,
	    "UPDATE mail_addresses SET unsubscribed_at = :now, confirmed_at = 0"
	    " WHERE id = :id AND unsubscribed_at = 0"),
	S(MAIL_QUEUE_DROP,
	    "DELETE FROM mail_queue WHERE address_id = :address AND sent_at = 0"),
	/* whether the parent of reply :id has a subscription at all */
	S(MAIL_REPLY_WATCHED,
	    "SELECT 1 FROM comments r"
	    " JOIN mail_subscriptions s ON s.comment_id = r.parent_id"
	    " WHERE r.id = :id"),
	/* the subscribers of the parent of an approved reader reply; a
	 * reply queued before (approved, unapproved, approved again) is not
	 * queued twice */
	S(MAIL_QUEUE_REPLY,
	    "INSERT INTO mail_queue(address_id, comment_id, queued_at)"
	    " SELECT s.address_id, r.id, :now FROM comments r"
	    " JOIN mail_subscriptions s ON s.comment_id = r.parent_id"
	    " JOIN mail_addresses m ON m.id = s.address_id"
	    " WHERE r.id = :id AND r.type = 'comment' AND r.status = 'approved'"
	    " AND m.confirmed_at > 0 AND m.unsubscribed_at = 0"
	    " ON CONFLICT(address_id, comment_id) DO NOTHING"
	    " RETURNING id, address_id"),
	/* a batch whose job was given up (SMTP down for hours) is opened
	 * again after two days; a batch waiting for tomorrow is younger */
	S(MAIL_BATCH_OPEN,
	    "UPDATE mail_addresses SET batch_at = :now"
	    " WHERE id = :id AND (batch_at = 0 OR batch_at < :now - 172800)"),
	/* waiting replies oldest first; skip: no longer approved, or the
	 * subscriber's own reply */
	S(MAIL_WAITING,
	    "SELECT q.id, q.comment_id, q.queued_at, r.article_id,"
	    " r.nickname, r.body, COALESCE(a.title, ''), COALESCE(p.body, ''),"
	    " (r.status <> 'approved' OR EXISTS (SELECT 1 FROM"
	    " mail_subscriptions o WHERE o.comment_id = r.id"
	    " AND o.address_id = q.address_id))"
	    " FROM mail_queue q JOIN comments r ON r.id = q.comment_id"
	    " LEFT JOIN comments p ON p.id = r.parent_id"
	    " LEFT JOIN articles a ON a.id = r.article_id"
	    " WHERE q.address_id = :address AND q.sent_at = 0"
	    " ORDER BY q.id LIMIT :limit"),
	S(MAIL_QUEUE_SENT,
	    "UPDATE mail_queue SET sent_at = :now WHERE address_id = :address"
	    " AND sent_at = 0 AND id <= :last"),
	S(MAIL_NEXT_WAITING,
	    "SELECT MIN(id) FROM mail_queue WHERE address_id = :address"
	    " AND sent_at = 0"),
	S(MAIL_BATCH_CLOSE,
	    "UPDATE mail_addresses SET batch_at = 0 WHERE id = :id"),
	S(MAIL_LOG_PRUNE, "DELETE FROM mail_log WHERE at < :before"),
	S(MAIL_IP_FORGET,
	    "UPDATE mail_log SET ip_hash = '' WHERE ip_hash <> '' AND at < :before"),
	/* a copy without addresses has no subscribers either, sealed or
	 * not (children first: a raw copy enforces no foreign keys) */
	S(MAIL_FORGET_QUEUE, "DELETE FROM mail_queue"),
	S(MAIL_FORGET_SUBS, "DELETE FROM mail_subscriptions"),
	S(MAIL_FORGET_LOG, "DELETE FROM mail_log"),
	S(MAIL_FORGET_ADDRESSES, "DELETE FROM mail_addresses"),

	/*
	 * kiji migrate (copy.c). Each table is read in key order a page at a
	 * time: keys >= the last one seen (the caller skips that row again),
	 * starting from the smallest id or '' so no key is out of reach; the
	 * key columns come first. Each row is written back with every column
	 * and its own id. COPY_COUNTS: every table's rows in copy.c's order.
	 */
	S(COPY_COUNTS,
	    "SELECT (SELECT COUNT(*) FROM settings), (SELECT COUNT(*)"
	    " FROM users), (SELECT COUNT(*) FROM categories), (SELECT"
	    " COUNT(*) FROM tags), (SELECT COUNT(*) FROM articles),"
	    " (SELECT COUNT(*) FROM article_tags), (SELECT COUNT(*)"
	    " FROM sources), (SELECT COUNT(*) FROM revisions), (SELECT"
	    " COUNT(*) FROM comments), (SELECT COUNT(*) FROM likes),"
	    " (SELECT COUNT(*) FROM views_daily), (SELECT COUNT(*) FROM"
	    " redirects), (SELECT COUNT(*) FROM sessions), (SELECT"
	    " COUNT(*) FROM login_failures), (SELECT COUNT(*) FROM"
	    " bans), (SELECT COUNT(*) FROM media), (SELECT COUNT(*)"
	    " FROM jobs), (SELECT COUNT(*) FROM pings), (SELECT"
	    " COUNT(*) FROM mail_addresses), (SELECT COUNT(*) FROM"
	    " mail_subscriptions), (SELECT COUNT(*) FROM mail_queue),"
	    " (SELECT COUNT(*) FROM mail_log), (SELECT COUNT(*) FROM"
	    " change_log)"),
	S(COPY_READ_SETTINGS,
	    "SELECT key, value FROM settings WHERE key >= :k0 ORDER BY"
	    " key LIMIT :limit"),
	S(COPY_WRITE_SETTINGS,
	    "INSERT INTO settings (key, value) VALUES (:key, :value)"),
	S(COPY_READ_USERS,
	    "SELECT id, name, display_name, role, pass_hash,"
	    " created_at, email, disabled, cred_epoch FROM users WHERE"
	    " id >= :k0 ORDER BY id LIMIT :limit"),
	S(COPY_WRITE_USERS,
	    "INSERT INTO users (id, name, display_name, role,"
	    " pass_hash, created_at, email, disabled, cred_epoch)"
	    " VALUES (:id, :name, :display_name, :role, :pass_hash,"
	    " :created_at, :email, :disabled, :cred_epoch)"),
	S(COPY_READ_CATEGORIES,
	    "SELECT id, parent_id, slug, name, description FROM"
	    " categories WHERE id >= :k0 ORDER BY id LIMIT :limit"),
	S(COPY_WRITE_CATEGORIES,
	    "INSERT INTO categories (id, parent_id, slug, name,"
	    " description) VALUES (:id, :parent_id, :slug, :name,"
	    " :description)"),
	S(COPY_READ_TAGS,
	    "SELECT id, slug, name FROM tags WHERE id >= :k0 ORDER BY"
	    " id LIMIT :limit"),
	S(COPY_WRITE_TAGS,
	    "INSERT INTO tags (id, slug, name) VALUES (:id, :slug,"
	    " :name)"),
	S(COPY_READ_ARTICLES,
	    "SELECT id, kind, status, published_at, updated_at,"
	    " author_id, category_id, comments_open, comment_count,"
	    " body_format, guid, legacy_id, slug, title, eyecatch,"
	    " eyecatch_credit, excerpt, body_text, body, body_html,"
	    " trashed_from, trashed_at, parent_id, menu_order FROM"
	    " articles WHERE id >= :k0 ORDER BY id LIMIT :limit"),
	S(COPY_WRITE_ARTICLES,
	    "INSERT INTO articles (id, kind, status, published_at,"
	    " updated_at, author_id, category_id, comments_open,"
	    " comment_count, body_format, guid, legacy_id, slug, title,"
	    " eyecatch, eyecatch_credit, excerpt, body_text, body,"
	    " body_html, trashed_from, trashed_at, parent_id,"
	    " menu_order) VALUES (:id, :kind, :status, :published_at,"
	    " :updated_at, :author_id, :category_id, :comments_open,"
	    " :comment_count, :body_format, :guid, :legacy_id, :slug,"
	    " :title, :eyecatch, :eyecatch_credit, :excerpt,"
	    " :body_text, :body, :body_html, :trashed_from,"
	    " :trashed_at, :parent_id, :menu_order)"),
	S(COPY_READ_ARTICLE_TAGS,
	    "SELECT article_id, tag_id FROM article_tags WHERE"
	    " (article_id, tag_id) >= (:k0, :k1) ORDER BY article_id,"
	    " tag_id LIMIT :limit"),
	S(COPY_WRITE_ARTICLE_TAGS,
	    "INSERT INTO article_tags (article_id, tag_id) VALUES"
	    " (:article_id, :tag_id)"),
	S(COPY_READ_SOURCES,
	    "SELECT article_id, pos, title, url FROM sources WHERE"
	    " (article_id, pos) >= (:k0, :k1) ORDER BY article_id, pos"
	    " LIMIT :limit"),
	S(COPY_WRITE_SOURCES,
	    "INSERT INTO sources (article_id, pos, title, url) VALUES"
	    " (:article_id, :pos, :title, :url)"),
	S(COPY_READ_REVISIONS,
	    "SELECT id, article_id, title, body, body_format,"
	    " created_at, author_id, meta FROM revisions WHERE id >="
	    " :k0 ORDER BY id LIMIT :limit"),
	S(COPY_WRITE_REVISIONS,
	    "INSERT INTO revisions (id, article_id, title, body,"
	    " body_format, created_at, author_id, meta) VALUES (:id,"
	    " :article_id, :title, :body, :body_format, :created_at,"
	    " :author_id, :meta)"),
	S(COPY_READ_COMMENTS,
	    "SELECT id, article_id, parent_id, type, nickname, email,"
	    " url, ip, visitor_id, created_at, status, like_count,"
	    " legacy_id, body, pending_reason FROM comments WHERE id >="
	    " :k0 ORDER BY id LIMIT :limit"),
	S(COPY_WRITE_COMMENTS,
	    "INSERT INTO comments (id, article_id, parent_id, type,"
	    " nickname, email, url, ip, visitor_id, created_at, status,"
	    " like_count, legacy_id, body, pending_reason) VALUES (:id,"
	    " :article_id, :parent_id, :type, :nickname, :email, :url,"
	    " :ip, :visitor_id, :created_at, :status, :like_count,"
	    " :legacy_id, :body, :pending_reason)"),
	S(COPY_READ_LIKES,
	    "SELECT comment_id, visitor_id, created_at FROM likes WHERE"
	    " (comment_id, visitor_id) >= (:k0, :k1) ORDER BY"
	    " comment_id, visitor_id LIMIT :limit"),
	S(COPY_WRITE_LIKES,
	    "INSERT INTO likes (comment_id, visitor_id, created_at)"
	    " VALUES (:comment_id, :visitor_id, :created_at)"),
	S(COPY_READ_VIEWS_DAILY,
	    "SELECT article_id, day, count FROM views_daily WHERE"
	    " (article_id, day) >= (:k0, :k1) ORDER BY article_id, day"
	    " LIMIT :limit"),
	S(COPY_WRITE_VIEWS_DAILY,
	    "INSERT INTO views_daily (article_id, day, count) VALUES"
	    " (:article_id, :day, :count)"),
	S(COPY_READ_REDIRECTS,
	    "SELECT from_path, to_path FROM redirects WHERE from_path"
	    " >= :k0 ORDER BY from_path LIMIT :limit"),
	S(COPY_WRITE_REDIRECTS,
	    "INSERT INTO redirects (from_path, to_path) VALUES"
	    " (:from_path, :to_path)"),
	S(COPY_READ_SESSIONS,
	    "SELECT id_hash, user_id, csrf, cred_epoch, created_at,"
	    " seen_at, ip, user_agent FROM sessions WHERE id_hash >="
	    " :k0 ORDER BY id_hash LIMIT :limit"),
	S(COPY_WRITE_SESSIONS,
	    "INSERT INTO sessions (id_hash, user_id, csrf, cred_epoch,"
	    " created_at, seen_at, ip, user_agent) VALUES (:id_hash,"
	    " :user_id, :csrf, :cred_epoch, :created_at, :seen_at, :ip,"
	    " :user_agent)"),
	S(COPY_READ_LOGIN_FAILURES,
	    "SELECT key, failures, last_at FROM login_failures WHERE"
	    " key >= :k0 ORDER BY key LIMIT :limit"),
	S(COPY_WRITE_LOGIN_FAILURES,
	    "INSERT INTO login_failures (key, failures, last_at) VALUES"
	    " (:key, :failures, :last_at)"),
	S(COPY_READ_BANS,
	    "SELECT id, kind, value, note, created_at FROM bans WHERE"
	    " id >= :k0 ORDER BY id LIMIT :limit"),
	S(COPY_WRITE_BANS,
	    "INSERT INTO bans (id, kind, value, note, created_at)"
	    " VALUES (:id, :kind, :value, :note, :created_at)"),
	/* media in upload order (the rowid the admin's list sorts by), the
	 * rowid kept: PostgreSQL's dialect names it id */
	S(COPY_READ_MEDIA,
	    "SELECT rowid, name, type, data, mtime, width, height,"
	    " filename, uploader_id FROM media WHERE rowid >= :k0"
	    " ORDER BY rowid LIMIT :limit"),
	S(COPY_WRITE_MEDIA,
	    "INSERT INTO media (rowid, name, type, data, mtime, width,"
	    " height, filename, uploader_id) VALUES (:rowid, :name,"
	    " :type, :data, :mtime, :width, :height, :filename,"
	    " :uploader_id)"),
	S(COPY_READ_JOBS,
	    "SELECT id, kind, payload, run_at, lease_until, attempts,"
	    " done_at, dedup_key, last_error FROM jobs WHERE id >= :k0"
	    " ORDER BY id LIMIT :limit"),
	S(COPY_WRITE_JOBS,
	    "INSERT INTO jobs (id, kind, payload, run_at, lease_until,"
	    " attempts, done_at, dedup_key, last_error) VALUES (:id,"
	    " :kind, :payload, :run_at, :lease_until, :attempts,"
	    " :done_at, :dedup_key, :last_error)"),
	S(COPY_READ_PINGS,
	    "SELECT id, article_id, target, kind, endpoint, status,"
	    " attempts, last_error, created_at, updated_at FROM pings"
	    " WHERE id >= :k0 ORDER BY id LIMIT :limit"),
	S(COPY_WRITE_PINGS,
	    "INSERT INTO pings (id, article_id, target, kind, endpoint,"
	    " status, attempts, last_error, created_at, updated_at)"
	    " VALUES (:id, :article_id, :target, :kind, :endpoint,"
	    " :status, :attempts, :last_error, :created_at,"
	    " :updated_at)"),
	S(COPY_READ_MAIL_ADDRESSES,
	    "SELECT id, blind, sealed, created_at, confirmed_at,"
	    " unsubscribed_at, batch_at FROM mail_addresses WHERE id >="
	    " :k0 ORDER BY id LIMIT :limit"),
	S(COPY_WRITE_MAIL_ADDRESSES,
	    "INSERT INTO mail_addresses (id, blind, sealed, created_at,"
	    " confirmed_at, unsubscribed_at, batch_at) VALUES (:id,"
	    " :blind, :sealed, :created_at, :confirmed_at,"
	    " :unsubscribed_at, :batch_at)"),
	S(COPY_READ_MAIL_SUBSCRIPTIONS,
	    "SELECT comment_id, address_id, created_at FROM"
	    " mail_subscriptions WHERE comment_id >= :k0 ORDER BY"
	    " comment_id LIMIT :limit"),
	S(COPY_WRITE_MAIL_SUBSCRIPTIONS,
	    "INSERT INTO mail_subscriptions (comment_id, address_id,"
	    " created_at) VALUES (:comment_id, :address_id,"
	    " :created_at)"),
	S(COPY_READ_MAIL_QUEUE,
	    "SELECT id, address_id, comment_id, queued_at, sent_at FROM"
	    " mail_queue WHERE id >= :k0 ORDER BY id LIMIT :limit"),
	S(COPY_WRITE_MAIL_QUEUE,
	    "INSERT INTO mail_queue (id, address_id, comment_id,"
	    " queued_at, sent_at) VALUES (:id, :address_id,"
	    " :comment_id, :queued_at, :sent_at)"),
	S(COPY_READ_MAIL_LOG,
	    "SELECT id, kind, dedup_key, address_id, ip_hash, at FROM"
	    " mail_log WHERE id >= :k0 ORDER BY id LIMIT :limit"),
	S(COPY_WRITE_MAIL_LOG,
	    "INSERT INTO mail_log (id, kind, dedup_key, address_id,"
	    " ip_hash, at) VALUES (:id, :kind, :dedup_key, :address_id,"
	    " :ip_hash, :at)"),
	S(COPY_READ_CHANGE_LOG,
	    "SELECT seq, kind, article_id, scope, comment_id FROM"
	    " change_log WHERE seq >= :k0 ORDER BY seq LIMIT :limit"),
	S(COPY_WRITE_CHANGE_LOG,
	    "INSERT INTO change_log (seq, kind, article_id, scope,"
	    " comment_id) VALUES (:seq, :kind, :article_id, :scope,"
	    " :comment_id)"),
	/* the triggers' rows written while copying; the source's own
	 * change log is copied last, its sequence numbers kept */
	S(COPY_CHANGES_CLEAR, "DELETE FROM change_log"),
	/* a parent written after its child (a later id) is set afterwards */
	S(COPY_FIX_CATEGORY_PARENT,
	    "UPDATE categories SET parent_id = :parent WHERE id = :id"),
	S(COPY_FIX_ARTICLE_PARENT,
	    "UPDATE articles SET parent_id = :parent WHERE id = :id"),
	S(COPY_FIX_COMMENT_PARENT,
	    "UPDATE comments SET parent_id = :parent WHERE id = :id"),
	/* new rows continue past the copied ids: SQLite's INTEGER PRIMARY
	 * KEY takes MAX(id) + 1 by itself; the change log's AUTOINCREMENT
	 * counter goes back to the copied log's last seq (the triggers
	 * moved it while copying). PostgreSQL's dialect sets every identity
	 * sequence (setval) instead. */
	S(COPY_SEQUENCES,
	    "UPDATE sqlite_sequence SET seq ="
	    " (SELECT COALESCE(MAX(seq), 0) FROM change_log)"
	    " WHERE name = 'change_log'"),
	/* the whole search index made anew from the articles (after a copy) */
	S(SEARCH_REBUILD,
	    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')"),
};

#undef S
