/*
 * The SQLite schema, one migration per array entry, applied in order and
 * never edited once released: a change is a new entry at the end.
 *
 * Kept close to portable SQL so pg.c can mirror it table for table:
 * enums are TEXT with CHECK constraints (the strings sqlite.c maps its
 * enums to), times are BIGINT epoch seconds (UTC), ids are INTEGER PRIMARY
 * KEY (SQLite's rowid alias; BIGSERIAL/identity on PostgreSQL), BLOB is
 * BYTEA there. Optional references (no author, no category, no parent) are
 * NULL, which the store maps to and from 0.
 */
#include "schema.h"

#include <stddef.h>

/* Version 1: everything the first release needs, and the columns later
 * features (admin, WordPress import, scheduling, several authors) use. */
static const char schema_v1[] =
    "CREATE TABLE settings ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ");"

    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  display_name TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'author')),"
    "  pass_hash TEXT NOT NULL DEFAULT '',"
    "  created_at BIGINT NOT NULL"
    ");"

    "CREATE TABLE categories ("
    "  id INTEGER PRIMARY KEY,"
    "  parent_id INTEGER REFERENCES categories(id),"
    "  slug TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX categories_parent ON categories(parent_id);"

    "CREATE TABLE tags ("
    "  id INTEGER PRIMARY KEY,"
    "  slug TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL"
    ");"

    /* Small columns first and the big texts last: SQLite reads a row up to
     * the column it needs, so filters and listings never walk the overflow
     * pages of body and body_html. slug is not unique: WordPress pages may
     * share one under different parents, and drafts often have none. guid
     * is always filled by the store; comment_count is kept by the store. */
    "CREATE TABLE articles ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL DEFAULT 'post' CHECK (kind IN ('post', 'page')),"
    "  status TEXT NOT NULL"
    "    CHECK (status IN ('draft', 'scheduled', 'published', 'trash')),"
    "  published_at BIGINT NOT NULL DEFAULT 0,"
    "  updated_at BIGINT NOT NULL DEFAULT 0,"
    "  author_id INTEGER REFERENCES users(id),"
    "  category_id INTEGER REFERENCES categories(id),"
    "  comments_open INTEGER NOT NULL DEFAULT 1 CHECK (comments_open IN (0, 1)),"
    "  comment_count BIGINT NOT NULL DEFAULT 0,"
    "  body_format TEXT NOT NULL DEFAULT 'markdown'"
    "    CHECK (body_format IN ('markdown', 'html')),"
    "  guid TEXT UNIQUE,"
    "  legacy_id TEXT NOT NULL DEFAULT '',"
    "  slug TEXT NOT NULL DEFAULT '',"
    "  title TEXT NOT NULL,"
    "  eyecatch TEXT NOT NULL DEFAULT '',"
    "  eyecatch_credit TEXT NOT NULL DEFAULT '',"
    "  excerpt TEXT NOT NULL DEFAULT '',"
    "  body_text TEXT NOT NULL DEFAULT '',"
    "  body TEXT NOT NULL,"
    "  body_html TEXT NOT NULL DEFAULT ''"
    ");"
    /* front page, date archives, adjacent, popular, count: the visibility
     * rule and the post filter are answered from the index alone */
    "CREATE INDEX articles_status_published"
    "  ON articles(status, kind, published_at);"
    /* category archives, related */
    "CREATE INDEX articles_category_published"
    "  ON articles(category_id, status, kind, published_at);"
    "CREATE INDEX articles_author ON articles(author_id);"
    "CREATE INDEX articles_slug ON articles(slug);"
    /* WordPress import: old post ID -> article */
    "CREATE INDEX articles_legacy ON articles(legacy_id);"

    "CREATE TABLE article_tags ("
    "  article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,"
    "  tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (article_id, tag_id)"
    ");"
    /* tag archives, shared-tag counts for related */
    "CREATE INDEX article_tags_tag ON article_tags(tag_id, article_id);"

    "CREATE TABLE sources ("
    "  article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL,"
    "  title TEXT NOT NULL,"
    "  url TEXT NOT NULL,"
    "  PRIMARY KEY (article_id, pos)"
    ");"

    "CREATE TABLE revisions ("
    "  id INTEGER PRIMARY KEY,"
    "  article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,"
    "  title TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  body_format TEXT NOT NULL CHECK (body_format IN ('markdown', 'html')),"
    "  created_at BIGINT NOT NULL,"
    "  author_id INTEGER REFERENCES users(id)"
    ");"
    "CREATE INDEX revisions_article ON revisions(article_id, created_at);"

    "CREATE TABLE redirects ("
    "  from_path TEXT PRIMARY KEY,"
    "  to_path TEXT NOT NULL"
    ");"

    /* parent_id is always the true parent (same article, checked by the
     * store); display depth is the template's business. */
    "CREATE TABLE comments ("
    "  id INTEGER PRIMARY KEY,"
    "  article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,"
    "  parent_id INTEGER REFERENCES comments(id),"
    "  type TEXT NOT NULL DEFAULT 'comment'"
    "    CHECK (type IN ('comment', 'trackback', 'pingback')),"
    "  nickname TEXT NOT NULL DEFAULT '',"
    "  email TEXT NOT NULL DEFAULT '',"
    "  url TEXT NOT NULL DEFAULT '',"
    "  ip TEXT NOT NULL DEFAULT '',"
    "  visitor_id TEXT NOT NULL DEFAULT '',"
    "  created_at BIGINT NOT NULL,"
    "  status TEXT NOT NULL"
    "    CHECK (status IN ('pending', 'approved', 'spam', 'trash')),"
    "  like_count BIGINT NOT NULL DEFAULT 0,"
    "  legacy_id TEXT NOT NULL DEFAULT '',"
    "  body TEXT NOT NULL"
    ");"
    /* an article's thread */
    "CREATE INDEX comments_article ON comments(article_id, status, created_at);"
    /* the moderation queue */
    "CREATE INDEX comments_status ON comments(status, created_at);"
    "CREATE INDEX comments_parent ON comments(parent_id);"

    "CREATE TABLE likes ("
    "  comment_id INTEGER NOT NULL REFERENCES comments(id) ON DELETE CASCADE,"
    "  visitor_id TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  PRIMARY KEY (comment_id, visitor_id)"
    ");"

    /* day is a UTC day number, epoch seconds / 86400 */
    "CREATE TABLE views_daily ("
    "  article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,"
    "  day INTEGER NOT NULL,"
    "  count BIGINT NOT NULL,"
    "  PRIMARY KEY (article_id, day)"
    ");"
    /* popular: covering, so the ranking never touches the table */
    "CREATE INDEX views_daily_day ON views_daily(day, article_id, count);"

    "CREATE TABLE media ("
    "  name TEXT PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  data BLOB NOT NULL,"
    "  mtime BIGINT NOT NULL"
    ");"

    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  payload TEXT NOT NULL DEFAULT '',"
    "  run_at BIGINT NOT NULL,"
    "  lease_until BIGINT NOT NULL DEFAULT 0,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  done_at BIGINT"
    ");"
    /* the worker's "what is due" scan sees only pending jobs */
    "CREATE INDEX jobs_due ON jobs(run_at) WHERE done_at IS NULL;";

/*
 * v2: a change log written by triggers, so every writer (the server, the
 * CLI in another process, later other nodes) leaves a record of what it
 * changed; servers read it to invalidate exactly the cached pages that
 * show it. comment_count/like_count bookkeeping is split out so a like
 * does not look like an article edit.
 */
static const char schema_v2[] =
    "CREATE TABLE change_log ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind TEXT NOT NULL CHECK (kind IN ('comment','like','article','settings','all')),"
    "  article_id BIGINT NOT NULL DEFAULT 0"
    ");"
    "CREATE TRIGGER change_comment_add AFTER INSERT ON comments BEGIN"
    "  INSERT INTO change_log(kind, article_id) VALUES ('comment', NEW.article_id);"
    " END;"
    "CREATE TRIGGER change_comment_status AFTER UPDATE OF status, body, nickname"
    "  ON comments BEGIN"
    "  INSERT INTO change_log(kind, article_id) VALUES ('comment', NEW.article_id);"
    " END;"
    "CREATE TRIGGER change_comment_like AFTER UPDATE OF like_count ON comments BEGIN"
    "  INSERT INTO change_log(kind, article_id) VALUES ('like', NEW.article_id);"
    " END;"
    "CREATE TRIGGER change_comment_del AFTER DELETE ON comments BEGIN"
    "  INSERT INTO change_log(kind, article_id) VALUES ('comment', OLD.article_id);"
    " END;"
    "CREATE TRIGGER change_article_add AFTER INSERT ON articles BEGIN"
    "  INSERT INTO change_log(kind, article_id) VALUES ('article', NEW.id);"
    " END;"
    "CREATE TRIGGER change_article_edit AFTER UPDATE OF kind, title, slug,"
    "  body_html, excerpt, status, published_at, updated_at, author_id,"
    "  category_id, eyecatch, eyecatch_credit, comments_open ON articles BEGIN"
    "  INSERT INTO change_log(kind, article_id) VALUES ('article', NEW.id);"
    " END;"
    "CREATE TRIGGER change_article_del AFTER DELETE ON articles BEGIN"
    "  INSERT INTO change_log(kind, article_id) VALUES ('article', OLD.id);"
    " END;"
    "CREATE TRIGGER change_settings_add AFTER INSERT ON settings BEGIN"
    "  INSERT INTO change_log(kind) VALUES ('settings');"
    " END;"
    "CREATE TRIGGER change_settings_edit AFTER UPDATE ON settings BEGIN"
    "  INSERT INTO change_log(kind) VALUES ('settings');"
    " END;"
    "CREATE TRIGGER change_category_add AFTER INSERT ON categories BEGIN"
    "  INSERT INTO change_log(kind) VALUES ('all');"
    " END;"
    "CREATE TRIGGER change_category_edit AFTER UPDATE ON categories BEGIN"
    "  INSERT INTO change_log(kind) VALUES ('all');"
    " END;";

/*
 * v3: full-text search (store/fts.c). FTS5 over titles and plain-text
 * bodies with our n-gram tokenizer (registered on every connection; a
 * connection without it cannot open the table), bm25-ranked, detail=full
 * for phrase matching. External content from a view, so the text is
 * stored once: published and scheduled articles, visibility being applied
 * at query time (a scheduled post goes live without a write).
 * sqlite_articles.c keeps the index in step on every article write (FTS5 cannot be written
 * from triggers while trusted_schema is off); the rebuild indexes the
 * articles already there.
 */
static const char schema_v3[] =
    "CREATE VIEW articles_fts_source AS"
    "  SELECT id, title, body_text AS body FROM articles"
    "  WHERE status IN ('published', 'scheduled');"
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, body,"
    "  content = 'articles_fts_source', content_rowid = 'id',"
    "  tokenize = 'kiji_ngram');"
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild');"
    /* The visibility rule and the recency boost for every match, by id,
     * from this narrow index instead of the wide article rows (whose
     * bodies fill a page each): a tenth of the time for a common word. */
    "CREATE INDEX articles_id_visibility"
    "  ON articles(id, status, kind, published_at);";

/*
 * v4: the editor area (issue 11). Accounts get an e-mail, a disabled flag
 * and a credentials epoch (sessions made before a password change stop
 * working: "log out everywhere"); sessions are stored by the SHA-256 of
 * their cookie value, never the value; login failures are counted per key
 * (account+address, address) for throttling. Revisions keep every field
 * an editor can change (meta: JSON of category, tags, sources, eyecatch,
 * credit, excerpt, status, date, slug, comments_open) so a restore is
 * complete. Articles remember the status they had before the trash.
 * Comments say why they are pending; bans hold IPs, ranges and visitor
 * ids; media get dimensions for <img width height>; jobs get a dedup key
 * (a retried job never acts twice) and their last error.
 */
static const char schema_v4[] =
    "ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0"
    "  CHECK (disabled IN (0, 1));"
    "ALTER TABLE users ADD COLUMN cred_epoch BIGINT NOT NULL DEFAULT 0;"

    "CREATE TABLE sessions ("
    "  id_hash TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  csrf TEXT NOT NULL,"
    "  cred_epoch BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  seen_at BIGINT NOT NULL,"
    "  ip TEXT NOT NULL DEFAULT '',"
    "  user_agent TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX sessions_user ON sessions(user_id);"

    "CREATE TABLE login_failures ("
    "  key TEXT PRIMARY KEY,"
    "  failures INTEGER NOT NULL,"
    "  last_at BIGINT NOT NULL"
    ");"

    "ALTER TABLE revisions ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE articles ADD COLUMN trashed_from TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE articles ADD COLUMN trashed_at BIGINT NOT NULL DEFAULT 0;"

    "ALTER TABLE comments ADD COLUMN pending_reason TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE bans ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('ip', 'range', 'visitor')),"
    "  value TEXT NOT NULL,"
    "  note TEXT NOT NULL DEFAULT '',"
    "  created_at BIGINT NOT NULL,"
    "  UNIQUE (kind, value)"
    ");"

    "ALTER TABLE media ADD COLUMN width INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE media ADD COLUMN height INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE media ADD COLUMN filename TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE media ADD COLUMN uploader_id INTEGER REFERENCES users(id);"

    "ALTER TABLE jobs ADD COLUMN dedup_key TEXT;"
    "ALTER TABLE jobs ADD COLUMN last_error TEXT NOT NULL DEFAULT '';"
    "CREATE UNIQUE INDEX jobs_dedup ON jobs(dedup_key) WHERE dedup_key IS NOT NULL;"
    "CREATE TRIGGER change_redirect_add AFTER INSERT ON redirects BEGIN"
    "  INSERT INTO change_log(kind) VALUES ('all');"
    " END;"
    "CREATE TRIGGER change_tag_edit AFTER UPDATE ON tags BEGIN"
    "  INSERT INTO change_log(kind) VALUES ('all');"
    " END;";

/*
 * v5: WordPress move-in and pings (issue 12). Pages get a parent (their
 * hierarchy, /pages/parent/child); outgoing pings are recorded one row per
 * (article, target link); media remember the WordPress upload path they
 * were imported from.
 */
static const char schema_v5[] =
    /* -- pages (hierarchy) -- */
    /* a page's parent page (NULL: top level) and its place among its
     * siblings; deleting a parent lifts its children to the top. Slugs
     * are unique among siblings (content_save), found by the index. */
    "ALTER TABLE articles ADD COLUMN parent_id INTEGER"
    "  REFERENCES articles(id) ON DELETE SET NULL;"
    "ALTER TABLE articles ADD COLUMN menu_order BIGINT NOT NULL DEFAULT 0;"
    "CREATE INDEX articles_parent_slug ON articles(parent_id, slug);"
    /* moving a page changes its URL and its parent's list of children */
    "DROP TRIGGER change_article_edit;"
    "CREATE TRIGGER change_article_edit AFTER UPDATE OF kind, title, slug,"
    "  body_html, excerpt, status, published_at, updated_at, author_id,"
    "  category_id, eyecatch, eyecatch_credit, comments_open, parent_id,"
    "  menu_order ON articles BEGIN"
    "  INSERT INTO change_log(kind, article_id) VALUES ('article', NEW.id);"
    " END;"
    /* -- outgoing pings -- */
    "CREATE TABLE pings ("
    "  id INTEGER PRIMARY KEY,"
    "  article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,"
    "  target TEXT NOT NULL,"
    "  kind TEXT NOT NULL DEFAULT '' CHECK (kind IN ('', 'webmention',"
    "    'pingback', 'trackback', 'none')),"
    "  endpoint TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending',"
    "    'sent', 'failed', 'none')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  UNIQUE (article_id, target)"
    ");"
    /* the admin's list: newest activity first */
    "CREATE INDEX pings_updated ON pings(updated_at DESC, id DESC);"
    /* -- import: a re-import finds each comment by its WordPress id
     * without walking every comment of its article (a thread of
     * thousands made a second import quadratic) -- */
    "CREATE INDEX comments_legacy ON comments(article_id, legacy_id)"
    "  WHERE legacy_id <> '';";

/*
 * v6: an edit that changes only an article's text (body, excerpt, eyecatch,
 * updated date, comments open) is logged with scope 'text': servers then
 * refresh the pages that show that article (its page, listings and feeds
 * showing it, related cards, sitemaps) instead of every page. Title, slug,
 * dates, status, kind, author, category, parent and order change other
 * pages' order and links: those stay site-wide. The triggers log real
 * changes only; the save path logs its tags (site-wide) and sources.
 */
static const char schema_v6[] =
    "ALTER TABLE change_log ADD COLUMN scope TEXT NOT NULL DEFAULT '';"
    "DROP TRIGGER change_article_edit;"
    "CREATE TRIGGER change_article_edit AFTER UPDATE OF kind, status, "
    "  published_at, author_id, category_id, parent_id, menu_order, "
    "  title, slug, body_html, excerpt, updated_at, eyecatch, "
    "  eyecatch_credit, comments_open ON articles WHEN OLD.kind IS NOT "
    "  NEW.kind OR OLD.status IS NOT NEW.status OR OLD.published_at IS "
    "  NOT NEW.published_at OR OLD.author_id IS NOT NEW.author_id OR "
    "  OLD.category_id IS NOT NEW.category_id OR OLD.parent_id IS NOT "
    "  NEW.parent_id OR OLD.menu_order IS NOT NEW.menu_order OR "
    "  OLD.title IS NOT NEW.title OR OLD.slug IS NOT NEW.slug BEGIN "
    "  INSERT INTO change_log(kind, article_id) VALUES ('article', "
    "  NEW.id); END;"
    "CREATE TRIGGER change_article_text AFTER UPDATE OF body_html, "
    "  excerpt, updated_at, eyecatch, eyecatch_credit, comments_open ON "
    "  articles WHEN NOT (OLD.kind IS NOT NEW.kind OR OLD.status IS NOT "
    "  NEW.status OR OLD.published_at IS NOT NEW.published_at OR "
    "  OLD.author_id IS NOT NEW.author_id OR OLD.category_id IS NOT "
    "  NEW.category_id OR OLD.parent_id IS NOT NEW.parent_id OR "
    "  OLD.menu_order IS NOT NEW.menu_order OR OLD.title IS NOT "
    "  NEW.title OR OLD.slug IS NOT NEW.slug) AND (OLD.body_html IS NOT "
    "  NEW.body_html OR OLD.excerpt IS NOT NEW.excerpt OR "
    "  OLD.updated_at IS NOT NEW.updated_at OR OLD.eyecatch IS NOT "
    "  NEW.eyecatch OR OLD.eyecatch_credit IS NOT NEW.eyecatch_credit "
    "  OR OLD.comments_open IS NOT NEW.comments_open) BEGIN INSERT INTO "
    "  change_log(kind, article_id, scope) VALUES ('article', NEW.id, "
    "  'text'); END;";

/* Related articles test a few dozen candidates' category and visibility
 * by id: from the index, not from rows of several KB each (one page read
 * apiece on a site too big for the page cache). */
static const char schema_v7[] =
    "DROP INDEX articles_id_visibility;"
    "CREATE INDEX articles_id_visibility"
    "  ON articles(id, status, kind, published_at, category_id);";
/*
 * v8: the change log names the comment a 'comment' row is about, and
 * marks the row its insert wrote (scope 'new'), so live readers
 * (site/live.c) learn from the log itself which comment to show or take
 * away, and a reader coming back after a gap is sent exactly the rows it
 * missed. Every writer (server, CLI, other nodes) logs the same way.
 */
static const char schema_v8[] =
    "ALTER TABLE change_log ADD COLUMN comment_id BIGINT NOT NULL DEFAULT 0;"
    "DROP TRIGGER change_comment_add;"
    "CREATE TRIGGER change_comment_add AFTER INSERT ON comments BEGIN"
    "  INSERT INTO change_log(kind, article_id, comment_id, scope)"
    "  VALUES ('comment', NEW.article_id, NEW.id, 'new');"
    " END;"
    "DROP TRIGGER change_comment_status;"
    "CREATE TRIGGER change_comment_status AFTER UPDATE OF status, body, nickname"
    "  ON comments BEGIN"
    "  INSERT INTO change_log(kind, article_id, comment_id)"
    "  VALUES ('comment', NEW.article_id, NEW.id);"
    " END;"
    "DROP TRIGGER change_comment_del;"
    "CREATE TRIGGER change_comment_del AFTER DELETE ON comments BEGIN"
    "  INSERT INTO change_log(kind, article_id, comment_id)"
    "  VALUES ('comment', OLD.article_id, OLD.id);"
    " END;"
    "CREATE INDEX change_log_article ON change_log(article_id, seq)"
    "  WHERE kind = 'comment';";
/*
 * v9: reply notifications by e-mail (issue 16). An address is stored
 * sealed (nonce + crypto_secretbox) and found by its blind index (keyed
 * BLAKE2b of the lower-cased address), both under the mail key, which
 * lives in a file beside the database and never in it: a copy of this
 * file alone gives no address. A subscription ties a comment to an
 * address; replies to it wait in mail_queue (one row per address and
 * reply) until their batch is sent; mail_log holds one row per mail sent
 * (its dedup key: a retried job never sends twice) and per confirmation
 * asked for, for the daily limits. batch_at marks an address whose
 * batch job is on its way (0: none), so each batch gets one job.
 */
static const char schema_v9[] =
    "CREATE TABLE mail_addresses ("
    "  id INTEGER PRIMARY KEY,"
    "  blind TEXT NOT NULL UNIQUE,"
    "  sealed BLOB NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  confirmed_at BIGINT NOT NULL DEFAULT 0,"
    "  unsubscribed_at BIGINT NOT NULL DEFAULT 0,"
    "  batch_at BIGINT NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE mail_subscriptions ("
    "  comment_id INTEGER PRIMARY KEY REFERENCES comments(id) ON DELETE CASCADE,"
    "  address_id INTEGER NOT NULL REFERENCES mail_addresses(id)"
    "    ON DELETE CASCADE,"
    "  created_at BIGINT NOT NULL"
    ");"
    "CREATE INDEX mail_subscriptions_address ON mail_subscriptions(address_id);"
    "CREATE TABLE mail_queue ("
    "  id INTEGER PRIMARY KEY,"
    "  address_id INTEGER NOT NULL REFERENCES mail_addresses(id)"
    "    ON DELETE CASCADE,"
    "  comment_id INTEGER NOT NULL REFERENCES comments(id) ON DELETE CASCADE,"
    "  queued_at BIGINT NOT NULL,"
    "  sent_at BIGINT NOT NULL DEFAULT 0,"
    "  UNIQUE (address_id, comment_id)"
    ");"
    "CREATE INDEX mail_queue_waiting ON mail_queue(address_id, id)"
    "  WHERE sent_at = 0;"
    "CREATE INDEX mail_queue_comment ON mail_queue(comment_id);"
    "CREATE TABLE mail_log ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('confirm', 'asked', 'reply',"
    "    'owner')),"
    "  dedup_key TEXT UNIQUE,"
    "  address_id INTEGER REFERENCES mail_addresses(id) ON DELETE CASCADE,"
    "  ip_hash TEXT NOT NULL DEFAULT '',"
    "  at BIGINT NOT NULL"
    ");"
    "CREATE INDEX mail_log_address ON mail_log(address_id, kind, at);"
    "CREATE INDEX mail_log_ip ON mail_log(ip_hash, kind, at)"
    "  WHERE ip_hash <> '';";

/* Where each node (each kiji process that reads the change log: site.c)
 * has read the log to, and when it last said so: the log is pruned only
 * past every node seen in the last hour. Positions of running processes,
 * not site content: kiji migrate leaves them behind. */
static const char schema_v10[] =
    "CREATE TABLE change_readers ("
    "  node TEXT PRIMARY KEY,"
    "  seq BIGINT NOT NULL,"
    "  seen_at BIGINT NOT NULL"
    ");";

/* v11: an author's display name shows on every page that lists or shows
 * their articles (bylines, feeds): changing it is a site-wide change, as
 * a category's name is. Without it the page cache kept the old name. */
static const char schema_v11[] =
    "CREATE TRIGGER change_user_display AFTER UPDATE OF display_name ON users"
    "  WHEN OLD.display_name IS NOT NEW.display_name BEGIN"
    "  INSERT INTO change_log(kind) VALUES ('all');"
    " END;";

/* v12: SQLite 3.40 checks "CHECK (x IN ('a', 'b', 'c'))" (three values or
 * more) by building a temporary table of the list for every row it
 * writes: two zeroed pages and a b-tree, about 1.5 us a check. A comment
 * met three of them (its type and status, its change_log row's kind):
 * a fifth of the demo build's instructions, and the same on every post.
 * The same constraint written with OR costs a few comparisons. SQLite's
 * documented way to change a CHECK without rebuilding the table is to
 * edit its CREATE TABLE text under writable_schema in one transaction,
 * with schema_version moved on (sq_script does that for a script that
 * turns writable_schema on, and has the schema parsed again before the
 * commit). Every row already meets the new text: it is the same
 * constraint. Tables written rarely keep their lists. */
static const char schema_v12[] =
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_master SET sql = replace(replace(sql,"
    "  'CHECK (type IN (''comment'', ''trackback'', ''pingback''))',"
    "  'CHECK (type = ''comment'' OR type = ''trackback'' OR"
    " type = ''pingback'')'),"
    "  'CHECK (status IN (''pending'', ''approved'', ''spam'', ''trash''))',"
    "  'CHECK (status = ''pending'' OR status = ''approved'' OR"
    " status = ''spam'' OR status = ''trash'')')"
    " WHERE type = 'table' AND name = 'comments';"
    "UPDATE sqlite_master SET sql = replace(sql,"
    "  'CHECK (kind IN (''comment'',''like'',''article'',''settings'',''all''))',"
    "  'CHECK (kind = ''comment'' OR kind = ''like'' OR kind = ''article''"
    " OR kind = ''settings'' OR kind = ''all'')')"
    " WHERE type = 'table' AND name = 'change_log';"
    "UPDATE sqlite_master SET sql = replace(sql,"
    "  'CHECK (status IN (''draft'', ''scheduled'', ''published'', ''trash''))',"
    "  'CHECK (status = ''draft'' OR status = ''scheduled'' OR"
    " status = ''published'' OR status = ''trash'')')"
    " WHERE type = 'table' AND name = 'articles';"
    "PRAGMA writable_schema = OFF;";

static const char *const schema_migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	schema_v5,
	schema_v6,
	schema_v7,
	schema_v8,
	schema_v9,
	schema_v10,
	schema_v11,
	schema_v12,
};

#define SCHEMA_N ((int)(sizeof(schema_migrations) / sizeof(schema_migrations[0])))

/* The migration list is data; sqlite.c owns applying it. */
const char *
store_schema_migration(int v)
{
	return v >= 1 && v <= SCHEMA_N ? schema_migrations[v - 1] : NULL;
}

/* Highest version this build can create. */
int
store_schema_version(void)
{
	return SCHEMA_N;
}
