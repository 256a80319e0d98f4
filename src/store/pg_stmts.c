/*
 * PostgreSQL's dialect of the statement table (db_driver.sql of pg.c): by
 * enum stmt, the statements whose portable SQL (stmts.c) PostgreSQL 15
 * does not run as SQLite does; NULL takes the portable one. Same named
 * parameters (pg.c numbers them), same result columns in the same order.
 *
 * What changes, and why:
 * - Parameters PostgreSQL cannot type from their use (":x IS NULL", a
 *   parameter in a SELECT list or under LEAST/GREATEST, ":a + :b") are
 *   cast. An INSERT whose new id the store reads (db_last_id) says
 *   RETURNING id. Scalar MIN/MAX are LEAST/GREATEST; instr is strpos;
 *   json_each is json_array_elements_text; "x IS :p" is IS NOT DISTINCT
 *   FROM; INDEXED BY goes; CROSS JOIN ... ON is JOIN (PostgreSQL's CROSS
 *   JOIN takes no ON; without ON it stays).
 * - Text columns are COLLATE "C" (schema_pg.c), so ORDER BY and
 *   comparisons of text are bytewise as in SQLite, and lower() folds
 *   ASCII only; a parameter lowered gets COLLATE "C" for the same reason.
 *   No ORDER BY here sorts a column that can be NULL (where SQLite puts
 *   NULLs first ascending and PostgreSQL last); every order that needs a
 *   tiebreaker has SQLite's id one. LIKE below matches digits and
 *   punctuation only, where case does not arise. Integer division stays
 *   integer (bigint / bigint).
 * - A boolean expression read as a column stays boolean (pg.c reads t/f
 *   as 1/0).
 *
 * SQLite-only statements, NULL here and never prepared on PostgreSQL:
 * INTEGRITY_CHECK, QUICK_CHECK, SECURE_DELETE and JOURNAL_MEMORY (backups,
 * restores and kiji doctor work on the SQLite file: sqlite_backup.c,
 * sqlite_doctor.c; PostgreSQL has pg_dump and amcheck for those).
 * Full-text search (pg_search.c) has statements of its own over
 * search_docs under the FTS_* and SEARCH* ids it runs (FTS_INDEX,
 * FTS_UNINDEX, FTS_INDEX_MANY, SEARCH, SEARCH_IDS, SEARCH_WALK,
 * SEARCH_REBUILD, at the
 * end of the table); SEARCH_TOP, SEARCH_HIDDEN, SEARCH_PROBE and
 * SEARCH_ROW are SQLite's newest-first machinery, NULL and never
 * prepared here.
 */
#include "store_int.h"
#include "stmt_cols.h"

/* ART_ANY with its optional parameters typed */
#define PG_ART_ANY                                                            \
	"(a.status = :status OR (:status::text IS NULL"                       \
	" AND a.status <> 'trash'))"                                          \
	" AND (:kind::text IS NULL OR a.kind = :kind)"

/* ART_ADMIN: strpos for instr (no LIKE wildcards to escape); the search
 * text lowered by ASCII only, as SQLite's lower() and the C columns */
#define PG_ART_ADMIN                                                          \
	PG_ART_ANY " AND (:category = 0 OR a.category_id = :category)"        \
	" AND (:author = 0 OR a.author_id = :author)"                         \
	" AND (:text = '' OR strpos(lower(a.title),"                          \
	" lower(:text::text COLLATE \"C\")) > 0"                              \
	" OR strpos(a.slug, lower(:text::text COLLATE \"C\")) > 0)"

/* ART_PAGE with each row of the page fetched by its key: the page's
 * size is a parameter, which a generic plan takes for a tenth of the
 * rows, and PostgreSQL then joined the page to every article by hash.
 * A lateral subquery that cannot be flattened (OFFSET 0) is a lookup a
 * row. */
#define PG_ART_PAGE(ids)                                                      \
	"SELECT " ART_LIGHT " FROM (" ids ") AS page"                         \
	" CROSS JOIN LATERAL (SELECT * FROM articles x WHERE x.id = page.id"  \
	" OFFSET 0) AS a" ART_JOINS ART_ORDER

/* VISIBLE_POST ART_RANGE for a listing read in date order (see
 * LIST_ALL) */
#define PG_LIST_WHERE                                                         \
	"a.status = 'published' AND a.kind = 'post'"                          \
	" AND a.published_at <= LEAST(:now::bigint, :until::bigint - 1)"      \
	" AND (a.published_at, a.id) >= (:from::bigint, 0)"

/* the later of an article's edit and publication (sitemaps) */
#define PG_STAMP "GREATEST(a.updated_at, a.published_at)"

#define P(id, sql) [STMT_##id] = sql

/*
 * Search (pg_search.c): a row of search_docs matches when its grams hold
 * every gram of the query (the GIN index) and its token stream holds
 * every pattern of :pats (the phrases the grams do not decide); :grams
 * comes space-separated, :pats and :score (every phrase's pattern, for
 * best first's occurrences) newline-separated (neither occurs inside
 * one).
 */
#define PG_MATCH                                                              \
	"d.grams @> string_to_array(:grams, ' ') AND NOT EXISTS (SELECT 1"    \
	" FROM unnest(string_to_array(:pats, chr(10))) AS p(s)"               \
	" WHERE strpos(d.norm, p.s) = 0)"
#define PG_MATCHES                                                            \
	" FROM search_docs d JOIN articles a ON a.id = d.article_id"         \
	" WHERE " PG_MATCH " AND " VISIBLE_POST
/* Occurrences of pattern p.s in text t (exact: what replace() takes out
 * is a multiple of its length). */
#define PG_OCC(t) "((length(" t ") - length(replace(" t ", p.s, '')))"      \
	" / length(p.s))"
/* Best first: per phrase tf = 4 x in the title + 1 x in the body (the
 * title is norm up to its '\n'), saturated as bm25's term frequency
 * (k1 1.2), summed, negated (lower first, as bm25) and times the
 * recency boost of SQLite's SEARCH (x2 today, x1.5 at 30 days, fading). */
#define PG_SCORE                                                              \
	"-(SELECT SUM(2.2 * f.tf / (f.tf + 1.2)) FROM (SELECT"                \
	" (3 * " PG_OCC("split_part(m.norm, chr(10), 1)") " + "               \
	PG_OCC("m.norm") ")::float8 AS tf"                                    \
	" FROM unnest(string_to_array(:score, chr(10))) AS p(s)) AS f)"       \
	" * (1.0 + 1.0 / (1.0 + GREATEST(:now::bigint - m.published_at, 0)"   \
	" / 2592000.0))::float8"

const char *const db_pg_sql[STMT__MAX] = {
	/*
	 * No up-front write lock: writers run READ COMMITTED and meet on
	 * row locks (and the change log's advisory lock, schema_pg.c).
	 */
	P(BEGIN_IMMEDIATE, "BEGIN"),
	/* nodes starting together on a new database: one migrates, the
	 * others wait (CREATE TABLE IF NOT EXISTS is not safe at once); a
	 * session lock, gone with the connection */
	P(MIGRATE_LOCK, "SELECT pg_advisory_lock(1802070634)"),
	P(MIGRATE_UNLOCK, "SELECT pg_advisory_unlock(1802070634)"),
	/*
	 * A write transaction takes the change log's advisory lock (the one
	 * its seq trigger takes, schema_pg.c) first, before any row lock, as
	 * SQLite's BEGIN IMMEDIATE takes the write lock: taken at the first
	 * logged change instead, a comment (logged, then its article's
	 * comment_count to update) and an editor's save (the article row
	 * locked, then logged) each waited for the other's lock (deadlock
	 * detected, the save answered 503: test_crash_mixed).
	 */
	P(WRITE_LOCK, "SELECT pg_advisory_xact_lock(1802070633)"),
	/*
	 * A read transaction sees one snapshot from its first statement on,
	 * as SQLite's deferred BEGIN does (READ COMMITTED would give each
	 * statement its own: an article's comment count read before a
	 * comment commits and its list read after it would disagree).
	 */
	P(BEGIN, "BEGIN ISOLATION LEVEL REPEATABLE READ"),
	/* what moves when another node commits: the change log's head */
	P(DATA_VERSION, "SELECT COALESCE(MAX(seq), 0) FROM change_log"),
	/* what stands for SQLite's journal mode: whether a commit waits for
	 * its WAL record to be flushed ("synchronous_commit on") */
	P(JOURNAL_MODE,
	    "SELECT 'synchronous_commit ' || current_setting('synchronous_commit')"),
	/* SQLite's FULL (2) unless commits are not waited for */
	P(SYNCHRONOUS,
	    "SELECT CASE current_setting('synchronous_commit')"
	    " WHEN 'off' THEN 0 ELSE 2 END"),
	P(SERVER_VERSION,
	    "SELECT 'PostgreSQL ' || current_setting('server_version')"),
	P(SCHEMA_PRESENT,
	    "SELECT COUNT(*) FROM (SELECT to_regclass('schema_migrations') AS t)"
	    " AS r WHERE t IS NOT NULL"),
	P(DOCTOR_RECENT_IPS,
	    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN ip LIKE '127.%'"
	    " OR ip = '::1' THEN 1 ELSE 0 END), 0)"
	    " FROM (SELECT ip FROM comments WHERE ip <> ''"
	    " ORDER BY id DESC LIMIT :n) AS r"),
	/* /readyz: a transaction id makes the commit a real WAL record,
	 * flushed; refused on a read-only server or standby */
	P(PROBE_WRITE, "SELECT pg_current_xact_id()"),

	/* :disabled typed once: integer (the column), added to a bigint */
	P(USER_SET_DISABLED,
	    "UPDATE users SET disabled = :disabled, "
	    "cred_epoch = cred_epoch + :disabled::integer WHERE id = :id"),
	P(USER_ADD,
	    "INSERT INTO users(name, display_name, role, pass_hash, email, "
	    "disabled, created_at) "
	    "VALUES (:name, :display, :role, :hash, :email, :disabled, :now)"
	    " RETURNING id"),
	P(CATEGORY_ADD,
	    "INSERT INTO categories(parent_id, slug, name, description) "
	    "VALUES (:parent, :slug, :name, :description) RETURNING id"),
	P(TAG_ADD,
	    "INSERT INTO tags(slug, name) VALUES (:slug, :name) RETURNING id"),
	P(ARTICLE_ADD,
	    "INSERT INTO articles(kind, title, slug, body, body_format, "
	    "body_html, body_text, excerpt, status, published_at, updated_at, "
	    "author_id, category_id, eyecatch, eyecatch_credit, comments_open, "
	    "guid, legacy_id, parent_id, menu_order) VALUES (:kind, :title, "
	    ":slug, :body, :format, :html, :text, :excerpt, :status, "
	    ":published, :updated, :author, :category, :eyecatch, :credit, "
	    ":open, :guid, :legacy, :parent, :order) RETURNING id"),
	P(REVISION_ADD,
	    "INSERT INTO revisions(article_id, title, body, body_format, "
	    "created_at, author_id, meta) "
	    "VALUES (:id, :title, :body, :format, :created, :author, :meta)"
	    " RETURNING id"),

	/* ---- pages ---- */
	P(PAGE_CHILD,
	    "SELECT a.id FROM articles a WHERE a.kind = 'page'"
	    " AND a.parent_id IS NOT DISTINCT FROM :parent::bigint"
	    " AND a.slug IN (:s0, :s1, :s2)"
	    " AND a.slug <> '' AND a.status <> 'trash' ORDER BY a.id LIMIT 1"),
	P(PAGE_HEIGHT,
	    "WITH RECURSIVE down(id, depth) AS (SELECT :id::bigint, 0"
	    " UNION ALL SELECT a.id, down.depth + 1 FROM down"
	    " JOIN articles a ON a.parent_id = down.id"
	    " WHERE a.kind = 'page' AND down.depth < :max)"
	    " SELECT MAX(depth) FROM down"),
	P(PAGE_SLUG_OWNER,
	    "SELECT id FROM articles WHERE kind = 'page'"
	    " AND parent_id IS NOT DISTINCT FROM :parent::bigint"
	    " AND slug = :slug AND id <> :except ORDER BY id LIMIT 1"),
	P(PAGE_STAMPS,
	    "SELECT a.id, " PG_STAMP " FROM articles a"
	    " WHERE a.kind = 'page' AND " VISIBLE
	    " ORDER BY a.id LIMIT :limit OFFSET :offset"),
	P(ARTICLES_ANY,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS " WHERE " PG_ART_ANY
	    " ORDER BY a.id DESC LIMIT :limit OFFSET :offset"),
	P(ARTICLES_ANY_COUNT,
	    "SELECT COUNT(*) FROM articles a WHERE " PG_ART_ANY),
	P(ARTICLES_ADMIN,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS
	    " WHERE " PG_ART_ADMIN
	    " ORDER BY a.id DESC LIMIT :limit OFFSET :offset"),
	P(ARTICLES_ADMIN_COUNT,
	    "SELECT COUNT(*) FROM articles a WHERE " PG_ART_ADMIN),

	/* ---- listings ---- */
	/*
	 * Reads in (published_at, id) order walk articles_status_published
	 * or articles_category_published (v4: both end with id) and stop at
	 * the LIMIT. A prepared statement soon runs a generic plan, costed
	 * without the values, and PostgreSQL takes a lower and an upper bound
	 * on one column for a narrow range (0.5% of the rows): it then
	 * fetched every visible article, sorted them and kept 20 (or 1). So
	 * each read has one upper bound on the date (LEAST of the two) and
	 * its lower bound as a row comparison on (published_at, id), which
	 * is an index bound as well and is not paired with the upper one.
	 * Same rows as SQLite's: published_at >= :from is (published_at, id)
	 * >= (:from, 0) as ids are positive, and < :until is <= :until - 1
	 * (:until is at least 1).
	 */
	P(ADJ_PREV,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS " WHERE"
	    " a.status = 'published' AND a.kind = 'post'"
	    " AND a.published_at <= LEAST(:t::bigint, :now::bigint)"
	    " AND (a.published_at < :t OR a.id < :id)" ART_ORDER " LIMIT 1"),
	P(ADJ_NEXT,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS " WHERE"
	    " a.status = 'published' AND a.kind = 'post'"
	    " AND a.published_at <= :now"
	    " AND (a.published_at, a.id) > (:t::bigint, :id::bigint)"
	    " ORDER BY a.published_at, a.id LIMIT 1"),
	P(LIST_ALL, PG_ART_PAGE(
	    "SELECT a.id AS id FROM articles a WHERE " PG_LIST_WHERE
	    ART_ORDER " LIMIT :limit OFFSET :offset")),
	P(LIST_CAT, PG_ART_PAGE(
	    "SELECT a.id AS id FROM articles a WHERE a.category_id = :cat AND "
	    PG_LIST_WHERE ART_ORDER " LIMIT :limit OFFSET :offset")),
	P(ARTICLES_BY_IDS,
	    "SELECT " ART_LIGHT " FROM json_array_elements_text(:ids::json)"
	    " WITH ORDINALITY AS j(value, key)"
	    " JOIN articles a ON a.id = j.value::bigint" ART_JOINS
	    " WHERE " VISIBLE_POST " ORDER BY j.key"),
	/* SUM of bigint is numeric here: back to bigint */
	P(POPULAR,
	    "SELECT " ART_LIGHT ", top.views FROM (SELECT a.id AS id,"
	    " v.views AS views"
	    " FROM (SELECT article_id, SUM(count)::bigint AS views"
	    " FROM views_daily"
	    " WHERE day >= :from AND day < :until GROUP BY article_id) AS v"
	    " JOIN articles a ON a.id = v.article_id WHERE " VISIBLE_POST
	    " ORDER BY v.views DESC, a.published_at DESC, a.id DESC LIMIT :lim)"
	    " AS top JOIN articles a ON a.id = top.id" ART_JOINS
	    " ORDER BY top.views DESC, a.published_at DESC, a.id DESC"),
	P(STAMPS_ARTICLES,
	    "SELECT a.id, " PG_STAMP " FROM articles a"
	    " WHERE " VISIBLE_POST ART_ORDER " LIMIT :limit OFFSET :offset"),
	P(STAMPS_CATEGORIES,
	    "SELECT a.category_id, MAX(" PG_STAMP ")"
	    " FROM articles a WHERE a.category_id IS NOT NULL AND " VISIBLE_POST
	    " GROUP BY a.category_id ORDER BY a.category_id"),
	P(STAMPS_CHUNKS,
	    "SELECT (:skip::bigint + rn) / :per::bigint AS k, MAX(t) FROM ("
	    " SELECT ROW_NUMBER() OVER (ORDER BY a.published_at DESC, a.id DESC)"
	    " - 1 AS rn, " PG_STAMP " AS t"
	    " FROM articles a WHERE " VISIBLE_POST ") AS r GROUP BY k ORDER BY k"),

	/* ---- comments ---- */
	P(COMMENT_ADD,
	    "INSERT INTO comments(article_id, parent_id, type, nickname, email, "
	    "url, ip, visitor_id, body, created_at, status, like_count, "
	    "legacy_id, pending_reason) VALUES (:article, :parent, :type, "
	    ":nickname, :email, :url, :ip, :visitor, :body, :created, :status, "
	    ":likes, :legacy, :reason) RETURNING id"),
	P(COMMENTS_FOR_ARTICLE,
	    "WITH RECURSIVE shown(id, parent_id) AS ("
	    " SELECT id, parent_id FROM comments WHERE article_id = :article"
	    " AND (status = 'approved' OR"
	    " (status = 'pending' AND visitor_id = :visitor))"
	    " AND (:type::text IS NULL OR type = :type)),"
	    " up(id) AS (SELECT parent_id FROM shown WHERE parent_id IS NOT NULL"
	    " UNION SELECT c.parent_id FROM comments c JOIN up ON c.id = up.id"
	    " WHERE c.status IN ('spam', 'trash') AND c.parent_id IS NOT NULL)"
	    " SELECT " COMMENT_COLS_SHOWN ", 0 AS hidden FROM comments"
	    " WHERE id IN (SELECT id FROM shown)"
	    " UNION ALL SELECT " COMMENT_COLS_HIDDEN ", 1 FROM comments"
	    " WHERE id IN (SELECT id FROM up) AND article_id = :article"
	    " AND status IN ('spam', 'trash')"
	    " ORDER BY created_at, id"),
	P(COMMENTS_SHOWN,
	    "SELECT " COMMENT_COLS_SHOWN ", 0 FROM comments"
	    " WHERE article_id = :article AND status = 'approved'"
	    " AND (:type::text IS NULL OR type = :type)"
	    " UNION ALL SELECT " COMMENT_COLS_SHOWN ", 0 FROM comments"
	    " WHERE article_id = :article AND status = 'pending'"
	    " AND visitor_id = :visitor AND (:type::text IS NULL OR type = :type)"
	    " ORDER BY created_at, id"),
	/* :ids is a JSON array of comment ids; rows in the array's order */
	P(COMMENTS_BY_IDS,
	    "SELECT c.id, c.article_id, COALESCE(c.parent_id, 0), c.type,"
	    " c.nickname, '', c.url, c.ip, '', c.body, c.created_at, c.status,"
	    " c.like_count, '', '', 0"
	    " FROM json_array_elements_text(:ids::json) WITH ORDINALITY"
	    " AS j(value, key) JOIN comments c ON c.id = j.value::bigint"
	    " WHERE c.article_id = :article AND (c.status = 'approved' OR"
	    " (c.status = 'pending' AND c.visitor_id = :visitor))"
	    " ORDER BY j.key"),
	/* the newest seq ever given: the sequence (no sqlite_sequence), or
	 * a copied row above it */
	P(CHANGES_SPAN,
	    "SELECT (SELECT COALESCE(MIN(seq), 0) FROM change_log),"
	    " COALESCE(GREATEST((SELECT last_value FROM change_log_seq"
	    " WHERE is_called), (SELECT MAX(seq) FROM change_log)), 0)"),
	P(COMMENTS_BY_STATUS,
	    "SELECT " COMMENT_COLS " FROM comments"
	    " WHERE (:status::text IS NULL OR status = :status)"
	    " ORDER BY created_at DESC, id DESC LIMIT :limit"),

	/* ---- editor area ---- */
	P(SESSION_ADD,
	    "INSERT INTO sessions(id_hash, user_id, csrf, cred_epoch, created_at,"
	    " seen_at, ip, user_agent) SELECT :hash::text, id, :csrf::text,"
	    " cred_epoch, :now::bigint, :now::bigint, :ip::text, :ua::text"
	    " FROM users WHERE id = :user"),
	P(COMMENTS_QUEUE,
	    "SELECT x.*, COALESCE(a.title, '') FROM (SELECT " COMMENT_COLS
	    " FROM comments WHERE (:status::text IS NULL OR status = :status)"
	    " AND (:article = 0 OR article_id = :article)"
	    " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset) AS x"
	    " LEFT JOIN articles a ON a.id = x.article_id"
	    " ORDER BY x.created_at DESC, x.id DESC"),
	P(COMMENTS_QUEUE_COUNT,
	    "SELECT COUNT(*) FROM comments"
	    " WHERE (:status::text IS NULL OR status = :status)"
	    " AND (:article = 0 OR article_id = :article)"),
	P(BAN_ADD,
	    "INSERT INTO bans(kind, value, note, created_at)"
	    " VALUES (:kind, :value, :note, :now) RETURNING id"),
	P(TAG_REASSIGN,
	    "INSERT INTO article_tags(article_id, tag_id)"
	    " SELECT article_id, :to::bigint"
	    " FROM article_tags WHERE tag_id = :id ON CONFLICT DO NOTHING"),
	/* upload order: media.id stands for SQLite's rowid */
	P(MEDIA_LIST,
	    "SELECT " MEDIA_COLS " FROM media m" MEDIA_JOINS
	    " ORDER BY m.id DESC LIMIT :limit OFFSET :offset"),

	/* ---- jobs ---- */
	/* SKIP LOCKED: READ COMMITTED would let a second runner, waiting
	 * on the row, claim the same job again once the first commits */
	/*
	 * The keyed job inserts without using up an id when the key is
	 * taken (PostgreSQL draws the identity before ON CONFLICT decides,
	 * SQLite does not): an existing key is moved (JOB_SCHEDULE) or left
	 * alone (JOB_ADD_KEY) first, and only a new key reaches the INSERT;
	 * ON CONFLICT stays for two writers racing on the same new key.
	 */
	P(JOB_SCHEDULE,
	    "WITH moved AS (UPDATE jobs SET kind = :kind, payload = :payload,"
	    " run_at = :run_at, lease_until = 0, attempts = 0, done_at = NULL,"
	    " last_error = '' WHERE dedup_key = :key RETURNING id),"
	    " added AS (INSERT INTO jobs(kind, payload, run_at, dedup_key)"
	    " SELECT CAST(:kind AS TEXT), CAST(:payload AS TEXT),"
	    " CAST(:run_at AS BIGINT), CAST(:key AS TEXT)"
	    " WHERE NOT EXISTS (SELECT 1 FROM moved)"
	    " ON CONFLICT(dedup_key) WHERE dedup_key IS NOT NULL DO UPDATE SET"
	    " kind = excluded.kind, payload = excluded.payload,"
	    " run_at = excluded.run_at, lease_until = 0, attempts = 0,"
	    " done_at = NULL, last_error = '' RETURNING id)"
	    " SELECT id FROM moved UNION ALL SELECT id FROM added"),
	P(JOB_ADD_KEY,
	    "INSERT INTO jobs(kind, payload, run_at, dedup_key)"
	    " SELECT CAST(:kind AS TEXT), CAST(:payload AS TEXT),"
	    " CAST(:run_at AS BIGINT), CAST(:key AS TEXT)"
	    " WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE dedup_key = :key)"
	    " ON CONFLICT(dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING"),
	P(JOB_CLAIM,
	    "UPDATE jobs SET lease_until = :now::bigint + :lease::bigint,"
	    " attempts = attempts + 1"
	    " WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL"
	    " AND run_at <= :now AND lease_until < :now ORDER BY run_at, id"
	    " LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " JOB_COLS),

	/* ---- the site's recent comments: no INDEXED BY, JOIN for CROSS
	 * JOIN ... ON (the planner picks the order here) ---- */
	P(COMMENTS_RECENT,
	    "SELECT c.id, c.created_at, c.nickname, c.body, a.id, a.kind,"
	    " a.title, a.slug, COALESCE(a.parent_id, 0)"
	    " FROM comments c JOIN articles a ON a.id = c.article_id"
	    " WHERE c.status = 'approved' AND c.type = 'comment' AND "
	    VISIBLE_POST " ORDER BY c.created_at DESC, c.id DESC"
	    " LIMIT :limit OFFSET :offset"),
	P(COMMENTS_RECENT_COUNT,
	    "SELECT COUNT(*) FROM (SELECT 1"
	    " FROM comments c JOIN articles a ON a.id = c.article_id"
	    " WHERE c.status = 'approved' AND c.type = 'comment' AND "
	    VISIBLE_POST " LIMIT :max) AS r"),

	/* ---- reply notifications by e-mail ---- */
	P(MAIL_LOG_ADD,
	    "INSERT INTO mail_log(kind, dedup_key, address_id, ip_hash, at)"
	    " VALUES (:kind, :key, :address, :ip, :now)"
	    " ON CONFLICT(dedup_key) DO NOTHING RETURNING id"),
	P(MAIL_QUEUE_REPLY,
	    "INSERT INTO mail_queue(address_id, comment_id, queued_at)"
	    " SELECT s.address_id, r.id, :now::bigint FROM comments r"
	    " JOIN mail_subscriptions s ON s.comment_id = r.parent_id"
	    " JOIN mail_addresses m ON m.id = s.address_id"
	    " WHERE r.id = :id AND r.type = 'comment' AND r.status = 'approved'"
	    " AND m.confirmed_at > 0 AND m.unsubscribed_at = 0"
	    " ON CONFLICT(address_id, comment_id) DO NOTHING"
	    " RETURNING id, address_id"),

	/* ---- kiji migrate (copy.c) ---- */
	/* media in upload order: id stands for SQLite's rowid */
	P(COPY_READ_MEDIA,
	    "SELECT id, name, type, data, mtime, width, height,"
	    " filename, uploader_id FROM media WHERE id >= :k0"
	    " ORDER BY id LIMIT :limit"),
	P(COPY_WRITE_MEDIA,
	    "INSERT INTO media (id, name, type, data, mtime, width,"
	    " height, filename, uploader_id) VALUES (:rowid, :name,"
	    " :type, :data, :mtime, :width, :height, :filename,"
	    " :uploader_id)"),
	/* every identity and the change log's sequence past the copied ids */
	P(COPY_SEQUENCES,
	    "SELECT setval(pg_get_serial_sequence('users', 'id'), COALESCE((SELECT MAX(id) FROM users), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('categories', 'id'), COALESCE((SELECT MAX(id) FROM categories), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('tags', 'id'), COALESCE((SELECT MAX(id) FROM tags), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('articles', 'id'), COALESCE((SELECT MAX(id) FROM articles), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('revisions', 'id'), COALESCE((SELECT MAX(id) FROM revisions), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('comments', 'id'), COALESCE((SELECT MAX(id) FROM comments), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('bans', 'id'), COALESCE((SELECT MAX(id) FROM bans), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('media', 'id'), COALESCE((SELECT MAX(id) FROM media), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('jobs', 'id'), COALESCE((SELECT MAX(id) FROM jobs), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('pings', 'id'), COALESCE((SELECT MAX(id) FROM pings), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('mail_addresses', 'id'), COALESCE((SELECT MAX(id) FROM mail_addresses), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('mail_queue', 'id'), COALESCE((SELECT MAX(id) FROM mail_queue), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('mail_log', 'id'), COALESCE((SELECT MAX(id) FROM mail_log), 0) + 1, false),"
	    " setval(pg_get_serial_sequence('change_log', 'seq'), COALESCE((SELECT MAX(seq) FROM change_log), 0) + 1, false)"),

	/* ---- full-text search (pg_search.c) ---- */
	P(FTS_UNINDEX, "DELETE FROM search_docs WHERE article_id = :id"),
	/* the upsert of one article's row, made in C */
	P(FTS_INDEX,
	    "INSERT INTO search_docs(article_id, grams, norm)"
	    " VALUES (:id, string_to_array(:grams, ' '), :norm)"
	    " ON CONFLICT(article_id) DO UPDATE"
	    " SET grams = EXCLUDED.grams, norm = EXCLUDED.norm"),
	/* the text to index of the articles in :ids (an array literal):
	 * those SQLite's articles_fts_source shows */
	P(FTS_INDEX_MANY,
	    "SELECT id, title, body_text FROM articles"
	    " WHERE id = ANY(CAST(:ids AS BIGINT[]))"
	    " AND status IN ('published', 'scheduled') ORDER BY id"),
	/* the index anew: the rows of articles no longer published or
	 * scheduled go, and the ids of those that are come back (pg_search.c
	 * makes their rows) */
	P(SEARCH_REBUILD,
	    "WITH gone AS (DELETE FROM search_docs WHERE article_id NOT IN"
	    " (SELECT id FROM articles WHERE status IN ('published',"
	    " 'scheduled'))) SELECT id FROM articles"
	    " WHERE status IN ('published', 'scheduled') ORDER BY id"),
	/* the visible matches, counted up to :max */
	P(SEARCH_IDS,
	    "SELECT COUNT(*) FROM (SELECT 1" PG_MATCHES " LIMIT :max) AS m"),
	/* newest first: the page's ids, then their rows */
	P(SEARCH_WALK,
	    "SELECT " ART_LIGHT ", 0.0::float8 FROM (SELECT a.id" PG_MATCHES
	    ART_ORDER " LIMIT :limit OFFSET :offset) AS page"
	    " JOIN articles a ON a.id = page.id" ART_JOINS ART_ORDER),
	/* best first over the newest (by id, as SQLite's rowid range)
	 * :max visible matches */
	P(SEARCH,
	    "SELECT " ART_LIGHT ", page.score FROM (SELECT m.id, m.published_at,"
	    " " PG_SCORE " AS score FROM (SELECT a.id, a.published_at, d.norm"
	    PG_MATCHES " ORDER BY a.id DESC LIMIT :max) AS m"
	    " ORDER BY score, m.published_at DESC, m.id DESC"
	    " LIMIT :limit OFFSET :offset) AS page"
	    " JOIN articles a ON a.id = page.id" ART_JOINS
	    " ORDER BY page.score, a.published_at DESC, a.id DESC"),
};

#undef P
