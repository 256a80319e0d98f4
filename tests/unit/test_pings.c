/*
 * Outgoing pings against real database files: the pings rows of
 * sqlite_pings.c (add once per article and target, get, update, lists
 * per article and of all, paging, kind and status names, rows going with
 * their article), store_job_add_key (a key is used once, pending or
 * done), and the job handlers of net/send.c where no remote server is
 * needed: "pings" lists an article's links (own site left out, at most
 * NET_SEND_LINKS_MAX) into pending rows and one "ping" job each, twice
 * adds nothing, a settled target is not queued again; "ping" records a
 * refused loopback target, retries a closed port (attempts and reason
 * kept), gives up after NET_SEND_TRIES_MAX and sends nothing for an
 * article taken back.
 */
#include "../../src/content/content.h"
#include "../../src/net/net.h"
#include "../../src/net/send.h"
#include "t_db.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW ((int64_t)1700000000) /* 2023-11-14 22:13:20 UTC */

/* Saves a Markdown post through content_save (a new one when id is 0,
 * else an edit of id); returns its id (0 when refused). */
static int64_t
article(store *s, int64_t id, const char *body, enum store_status st)
{
	arena *a = arena_new(0);
	struct content_input in = {0};
	struct content_result res;
	in.id = id;
	in.kind = KIND_POST;
	in.title = "Links of the day";
	in.body = body;
	in.body_format = FORMAT_MARKDOWN;
	in.status = st;
	in.published_at = NOW - 3600;
	in.comments_open = true;
	in.now = NOW;
	enum content_err e = content_save(s, &in, a, &res);
	if (e != CONTENT_OK)
		printf("  content_save: %d %s\n", e,
		    res.message_en ? res.message_en : "");
	T_CHECK(e == CONTENT_OK);
	arena_free(a);
	return e == CONTENT_OK ? res.id : 0;
}

/* The jobs of kind (ids 1, 2, … until one is missing): how many, the
 * first max of them in out (strings in a). */
static size_t
jobs_of(store *s, const char *kind, arena *a, struct store_job *out,
    size_t max)
{
	size_t n = 0;
	for (int64_t id = 1; id < 10000; id++) {
		struct store_job j;
		if (store_job_get(s, id, a, &j) != STORE_OK)
			break;
		if (strcmp(j.kind, kind) != 0)
			continue;
		if (n < max)
			out[n] = j;
		n++;
	}
	return n;
}

/* A loopback TCP port nobody listens on (bound, then closed); 0 when
 * none could be had. */
static int
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* ---- store rows ---------------------------------------------------------- */

static void
test_store_rows(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_ping p, q, *list;
	size_t n;
	int64_t total;
	bool added = false;
	if (s == NULL) {
		T_CHECK(s != NULL);
		arena_free(a);
		return;
	}
	int64_t id = article(s, 0, "one", STATUS_PUBLISHED);
	int64_t other = article(s, 0, "two", STATUS_PUBLISHED);
	T_CHECK(id > 0 && other > 0 && id != other);

	/* a new row: pending, undiscovered */
	T_CHECK(store_ping_add(s, id, "https://a.example/1", NOW, a, &p,
	    &added) == STORE_OK);
	T_CHECK(added);
	T_CHECK(p.id > 0 && p.article_id == id);
	T_STREQ(p.target, "https://a.example/1");
	T_CHECK(p.kind == PKIND_UNKNOWN && p.status == PSTATUS_PENDING);
	T_CHECK(p.attempts == 0 && p.created_at == NOW && p.updated_at == NOW);
	T_STREQ(p.endpoint, "");
	T_STREQ(p.last_error, "");

	/* an attempt's outcome; adding again returns the row as it stands */
	p.kind = PKIND_PINGBACK;
	p.endpoint = "https://a.example/xmlrpc";
	p.status = PSTATUS_SENT;
	p.attempts = 2;
	p.updated_at = NOW + 5;
	T_CHECK(store_ping_update(s, &p) == STORE_OK);
	T_CHECK(store_ping_add(s, id, "https://a.example/1", NOW + 9, a, &q,
	    &added) == STORE_OK);
	T_CHECK(!added);
	T_CHECK(q.id == p.id && q.status == PSTATUS_SENT &&
	    q.kind == PKIND_PINGBACK && q.attempts == 2);
	T_STREQ(q.endpoint, "https://a.example/xmlrpc");
	T_STREQ(q.last_error, "");
	T_CHECK(q.created_at == NOW && q.updated_at == NOW + 5);

	/* the same target from another article is another row */
	T_CHECK(store_ping_add(s, other, "https://a.example/1", NOW + 1, a, &q,
	    &added) == STORE_OK && added && q.id != p.id);
	T_CHECK(q.article_id == other && q.status == PSTATUS_PENDING);

	/* a failure with its reason, read back by get */
	T_CHECK(store_ping_add(s, id, "https://b.example/", NOW + 2, a, &q,
	    &added) == STORE_OK && added);
	q.kind = PKIND_WEBMENTION;
	q.endpoint = "https://b.example/wm";
	q.status = PSTATUS_FAILED;
	q.attempts = 1;
	q.last_error = "webmention endpoint: HTTP 400";
	q.updated_at = NOW + 7;
	T_CHECK(store_ping_update(s, &q) == STORE_OK);
	T_CHECK(store_ping_get(s, id, "https://b.example/", a, &p) ==
	    STORE_OK);
	T_CHECK(p.id == q.id && p.attempts == 1 && p.updated_at == NOW + 7);
	T_STREQ(p.last_error, "webmention endpoint: HTTP 400");
	T_STREQ(p.endpoint, "https://b.example/wm");
	T_CHECK(p.status == PSTATUS_FAILED && p.kind == PKIND_WEBMENTION);
	T_STREQ(p.article_title, "");
	T_CHECK(store_ping_get(s, id, "https://c.example/", a, &p) ==
	    STORE_NOTFOUND);
	T_CHECK(store_ping_get(s, other, "https://b.example/", a, &p) ==
	    STORE_NOTFOUND);

	/* refusals */
	T_CHECK(store_ping_add(s, 9999, "https://a.example/", NOW, a, &p,
	    NULL) == STORE_NOTFOUND);
	T_CHECK(store_ping_add(s, id, "", NOW, a, &p, NULL) == STORE_INVALID);
	T_CHECK(store_ping_add(s, 0, "https://a.example/", NOW, a, &p,
	    NULL) == STORE_INVALID);
	q.kind = PKIND__MAX;
	T_CHECK(store_ping_update(s, &q) == STORE_INVALID);
	q.kind = PKIND_WEBMENTION;
	q.status = PSTATUS__MAX;
	T_CHECK(store_ping_update(s, &q) == STORE_INVALID);
	q.status = PSTATUS_FAILED;
	T_CHECK(store_ping_get(s, id, "https://b.example/", a, &p) ==
	    STORE_OK && p.status == PSTATUS_FAILED);

	/* every article's, newest activity first, with the title */
	T_CHECK(store_pings_list(s, 0, 0, 10, a, &list, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 3 && total == 3);
	if (n == 3) {
		T_STREQ(list[0].target, "https://b.example/");
		T_CHECK(list[0].updated_at == NOW + 7);
		T_CHECK(list[1].article_id == id);
		T_STREQ(list[1].target, "https://a.example/1");
		T_CHECK(list[2].article_id == other);
		T_STREQ(list[0].article_title, "Links of the day");
		T_STREQ(list[2].article_title, "Links of the day");
	}
	/* one article's, and pages */
	T_CHECK(store_pings_list(s, id, 0, 10, a, &list, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 2 && total == 2);
	for (size_t i = 0; i < n; i++)
		T_CHECK(list[i].article_id == id);
	T_CHECK(store_pings_list(s, id, 1, 10, a, &list, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 1 && total == 2);
	if (n == 1)
		T_STREQ(list[0].target, "https://a.example/1");
	T_CHECK(store_pings_list(s, 0, 0, 1, a, &list, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 1 && total == 3);
	T_CHECK(store_pings_list(s, 0, 5, 10, a, &list, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 0 && total == 3);
	T_CHECK(store_pings_list(s, 9999, 0, 10, a, &list, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 0 && total == 0);
	T_CHECK(store_pings_list(s, 0, -1, 1, a, &list, &n, &total) ==
	    STORE_INVALID);
	T_CHECK(store_pings_list(s, 0, 0, -1, a, &list, &n, &total) ==
	    STORE_INVALID);

	/* names */
	T_STREQ(store_ping_kind_name(PKIND_UNKNOWN), "");
	T_STREQ(store_ping_kind_name(PKIND_WEBMENTION), "webmention");
	T_STREQ(store_ping_kind_name(PKIND_PINGBACK), "pingback");
	T_STREQ(store_ping_kind_name(PKIND_TRACKBACK), "trackback");
	T_STREQ(store_ping_kind_name(PKIND_NONE), "none");
	T_CHECK(store_ping_kind_name(PKIND__MAX) == NULL);
	T_STREQ(store_ping_status_name(PSTATUS_PENDING), "pending");
	T_STREQ(store_ping_status_name(PSTATUS_SENT), "sent");
	T_STREQ(store_ping_status_name(PSTATUS_FAILED), "failed");
	T_STREQ(store_ping_status_name(PSTATUS_NONE), "none");
	T_CHECK(store_ping_status_name(PSTATUS__MAX) == NULL);

	/* rows go with their article (trash keeps them, delete does not) */
	T_CHECK(content_trash(s, id, NOW) == CONTENT_OK);
	T_CHECK(store_pings_list(s, 0, 0, 10, a, &list, &n, &total) ==
	    STORE_OK && n == 3 && total == 3);
	T_CHECK(content_delete(s, id) == CONTENT_OK);
	T_CHECK(store_pings_list(s, 0, 0, 10, a, &list, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 1 && total == 1 && list[0].article_id == other);
	T_CHECK(store_ping_get(s, id, "https://b.example/", a, &p) ==
	    STORE_NOTFOUND);
	T_CHECK(store_ping_update(s, &q) == STORE_NOTFOUND);
	T_CHECK(store_ping_add(s, id, "https://b.example/", NOW, a, &p,
	    NULL) == STORE_NOTFOUND);

	arena_free(a);
	store_close(s);
}

/* ---- store_job_add_key --------------------------------------------------- */

static void
test_job_add_key(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_job j[4], c;
	bool added = false;
	if (s == NULL) {
		T_CHECK(s != NULL);
		arena_free(a);
		return;
	}
	T_CHECK(store_job_add_key(s, "pings", "{\"article\":1}", NOW,
	    "pings:1:aa", &added) == STORE_OK && added);
	/* pending: the second call neither adds nor moves it */
	T_CHECK(store_job_add_key(s, "pings", "{\"article\":1}", NOW + 5,
	    "pings:1:aa", &added) == STORE_OK && !added);
	T_CHECK(jobs_of(s, "pings", a, j, 4) == 1);
	T_CHECK(j[0].run_at == NOW && j[0].attempts == 0 && j[0].done_at == 0);
	T_STREQ(j[0].dedup_key, "pings:1:aa");
	T_STREQ(j[0].payload, "{\"article\":1}");

	/* done: still used */
	T_CHECK(store_job_claim(s, NOW, 60, a, &c) == STORE_OK);
	T_CHECK(c.id == j[0].id);
	T_CHECK(store_job_done(s, &c, NOW + 1) == STORE_OK);
	T_CHECK(store_job_add_key(s, "pings", "{\"article\":1}", NOW + 9,
	    "pings:1:aa", &added) == STORE_OK && !added);
	T_CHECK(store_job_get(s, c.id, a, &c) == STORE_OK &&
	    c.done_at == NOW + 1);
	T_CHECK(jobs_of(s, "pings", a, j, 4) == 1);

	/* a new key adds another; NULL added is fine */
	T_CHECK(store_job_add_key(s, "pings", "{\"article\":1}", NOW + 9,
	    "pings:1:bb", &added) == STORE_OK && added);
	T_CHECK(jobs_of(s, "pings", a, j, 4) == 2);
	T_CHECK(store_job_add_key(s, "pings", "{\"article\":1}", NOW + 9,
	    "pings:1:bb", NULL) == STORE_OK);
	T_CHECK(jobs_of(s, "pings", a, j, 4) == 2);
	if (jobs_of(s, "pings", a, j, 4) == 2) {
		T_STREQ(j[1].dedup_key, "pings:1:bb");
		T_CHECK(j[1].run_at == NOW + 9 && j[1].done_at == 0);
	}

	/* no kind, no key */
	T_CHECK(store_job_add_key(s, "", "{}", NOW, "k", NULL) ==
	    STORE_INVALID);
	T_CHECK(store_job_add_key(s, "x", "{}", NOW, "", NULL) ==
	    STORE_INVALID);
	T_CHECK(jobs_of(s, "x", a, j, 4) == 0);

	arena_free(a);
	store_close(s);
}

/* ---- the "pings" handler ------------------------------------------------- */

static void
test_pings_handler(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_ping *list, p;
	struct store_job j[8];
	size_t n;
	int64_t total;
	buf err;
	buf_init(&err, 0);
	if (s == NULL) {
		T_CHECK(s != NULL);
		arena_free(a);
		buf_free(&err);
		return;
	}
	T_CHECK(store_setting_set(s, "site.base_url", "https://kiji.test/") ==
	    STORE_OK);
	/* two outside targets: our own site (relative or absolute), a repeat
	 * and a mailto: are left out */
	int64_t id = article(s, 0,
	    "See [a](https://blog.example.net/a) "
	    "and [self](/articles/1) "
	    "and [tag](https://kiji.test/tag/x) "
	    "and [b 2](http://other.example.org/b?x=1&y=2) "
	    "and [again](https://blog.example.net/a) "
	    "and [mail](mailto:a@b.example)", STATUS_PUBLISHED);
	T_CHECK(id > 0);
	const char *payload = arena_printf(a, "{\"article\":%lld}",
	    (long long)id);

	T_CHECK(net_send_pings(s, payload, NOW, &err) == JOBS_OK);
	T_CHECK(err.len == 0);
	T_CHECK(store_pings_list(s, id, 0, 10, a, &list, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 2);
	T_CHECK(jobs_of(s, "ping", a, j, 8) == 2);
	bool seen_a = false, seen_b = false;
	for (size_t i = 0; i < n; i++) {
		T_CHECK(list[i].status == PSTATUS_PENDING);
		T_CHECK(list[i].kind == PKIND_UNKNOWN && list[i].attempts == 0);
		T_CHECK(list[i].created_at == NOW);
		if (strcmp(list[i].target, "https://blog.example.net/a") == 0)
			seen_a = true;
		if (strcmp(list[i].target,
		    "http://other.example.org/b?x=1&y=2") == 0)
			seen_b = true;
	}
	T_CHECK(seen_a && seen_b);
	/* one job per target, in link order, due now, each with its key */
	T_STREQ(j[0].payload, arena_printf(a,
	    "{\"article\":%lld,\"target\":\"https://blog.example.net/a\"}",
	    (long long)id));
	T_STREQ(j[1].payload, arena_printf(a,
	    "{\"article\":%lld,\"target\":\"http://other.example.org/b?x=1&y=2\"}",
	    (long long)id));
	const char *prefix = arena_printf(a, "ping:%lld:", (long long)id);
	for (size_t i = 0; i < 2; i++) {
		T_CHECK(strncmp(j[i].dedup_key, "ping:", 5) == 0);
		T_CHECK(strncmp(j[i].dedup_key, prefix, strlen(prefix)) == 0);
		T_CHECK(strlen(j[i].dedup_key) == strlen(prefix) + 16);
		T_CHECK(j[i].run_at == NOW && j[i].done_at == 0);
	}
	T_CHECK(strcmp(j[0].dedup_key, j[1].dedup_key) != 0);

	/* twice: nothing more */
	T_CHECK(net_send_pings(s, payload, NOW + 1, &err) == JOBS_OK);
	T_CHECK(store_pings_list(s, id, 0, 10, a, &list, &n, &total) ==
	    STORE_OK && n == 2);
	T_CHECK(jobs_of(s, "ping", a, j, 8) == 2);

	/* an edit that adds a link: only the new target; a target told
	 * already (sent) is not queued again */
	T_CHECK(store_ping_get(s, id, "https://blog.example.net/a", a, &p) ==
	    STORE_OK);
	p.status = PSTATUS_SENT;
	p.kind = PKIND_WEBMENTION;
	p.endpoint = "https://blog.example.net/wm";
	p.attempts = 1;
	p.updated_at = NOW + 2;
	T_CHECK(store_ping_update(s, &p) == STORE_OK);
	/* a row settled without a job of its own (no endpoint found) */
	T_CHECK(store_ping_add(s, id, "https://fourth.example/d", NOW + 2, a,
	    &p, NULL) == STORE_OK);
	p.status = PSTATUS_NONE;
	p.kind = PKIND_NONE;
	p.attempts = 1;
	T_CHECK(store_ping_update(s, &p) == STORE_OK);
	T_CHECK(article(s, id,
	    "See [a](https://blog.example.net/a) "
	    "and [c](https://third.example/c#frag) "
	    "and [d](https://fourth.example/d)", STATUS_PUBLISHED) == id);
	T_CHECK(net_send_pings(s, payload, NOW + 3, &err) == JOBS_OK);
	T_CHECK(store_pings_list(s, id, 0, 10, a, &list, &n, &total) ==
	    STORE_OK && n == 4);
	T_CHECK(jobs_of(s, "ping", a, j, 8) == 3);
	T_STREQ(j[2].payload, arena_printf(a,
	    "{\"article\":%lld,\"target\":\"https://third.example/c\"}",
	    (long long)id));
	T_CHECK(store_ping_get(s, id, "https://blog.example.net/a", a, &p) ==
	    STORE_OK && p.status == PSTATUS_SENT && p.attempts == 1);
	T_CHECK(store_ping_get(s, id, "https://fourth.example/d", a, &p) ==
	    STORE_OK && p.status == PSTATUS_NONE && p.attempts == 1);
	T_CHECK(err.len == 0);

	/* malformed payloads fail for good */
	T_CHECK(net_send_pings(s, "{\"article\":\"x\"}", NOW, &err) ==
	    JOBS_FAIL);
	T_CHECK(strstr(buf_cstr(&err), "payload") != NULL);
	buf_reset(&err);
	T_CHECK(net_send_pings(s, "[", NOW, &err) == JOBS_FAIL);
	T_CHECK(strstr(buf_cstr(&err), "payload") != NULL);
	buf_reset(&err);
	T_CHECK(net_send_pings(s, "{\"article\":0}", NOW, &err) == JOBS_FAIL);
	buf_reset(&err);
	T_CHECK(net_send_pings(s, "{}", NOW, &err) == JOBS_FAIL);
	buf_reset(&err);
	T_CHECK(net_send_pings(s, "", NOW, &err) == JOBS_FAIL);
	buf_reset(&err);
	/* a deleted article: nobody to tell */
	T_CHECK(net_send_pings(s, "{\"article\":424242}", NOW, &err) ==
	    JOBS_OK);
	T_CHECK(err.len == 0);
	/* a draft: not live, nothing listed */
	int64_t draft = article(s, 0, "[d](https://draft.example/)",
	    STATUS_DRAFT);
	T_CHECK(draft > 0);
	T_CHECK(net_send_pings(s, arena_printf(a, "{\"article\":%lld}",
	    (long long)draft), NOW, &err) == JOBS_OK);
	T_CHECK(store_pings_list(s, draft, 0, 10, a, &list, &n, &total) ==
	    STORE_OK && n == 0);
	T_CHECK(jobs_of(s, "ping", a, j, 8) == 3);

	/* "ping" payloads need the target too */
	T_CHECK(net_send_ping(s, "{\"article\":1}", NOW, &err) == JOBS_FAIL);
	T_CHECK(strstr(buf_cstr(&err), "target") != NULL);
	buf_reset(&err);
	T_CHECK(net_send_ping(s, "{\"article\":1,\"target\":\"\"}", NOW,
	    &err) == JOBS_FAIL);
	buf_reset(&err);
	T_CHECK(net_send_ping(s, "{\"target\":\"https://x.example/\"}", NOW,
	    &err) == JOBS_FAIL);
	buf_reset(&err);
	/* no such row (its article was deleted): done, nothing to do */
	T_CHECK(net_send_ping(s,
	    "{\"article\":424242,\"target\":\"https://x.example/\"}", NOW,
	    &err) == JOBS_OK);
	T_CHECK(err.len == 0);
	/* a row that is no longer pending is left alone */
	T_CHECK(net_send_ping(s, arena_printf(a,
	    "{\"article\":%lld,\"target\":\"https://blog.example.net/a\"}",
	    (long long)id), NOW + 4, &err) == JOBS_OK);
	T_CHECK(store_ping_get(s, id, "https://blog.example.net/a", a, &p) ==
	    STORE_OK && p.status == PSTATUS_SENT && p.attempts == 1 &&
	    p.updated_at == NOW + 2);

	buf_free(&err);
	arena_free(a);
	store_close(s);
}

/* At most NET_SEND_LINKS_MAX targets per article: the first ones. */
static void
test_pings_links_max(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_ping *list, p;
	struct store_job j[1];
	size_t n;
	int64_t total;
	buf body, err;
	buf_init(&body, 0);
	buf_init(&err, 0);
	if (s == NULL) {
		T_CHECK(s != NULL);
		goto out;
	}
	for (int i = 0; i < NET_SEND_LINKS_MAX + 10; i++)
		buf_printf(&body, "[l%d](https://site%d.example/) ", i, i);
	int64_t id = article(s, 0, buf_cstr(&body), STATUS_PUBLISHED);
	T_CHECK(id > 0);
	T_CHECK(net_send_pings(s, arena_printf(a, "{\"article\":%lld}",
	    (long long)id), NOW, &err) == JOBS_OK);
	T_CHECK(store_pings_list(s, id, 0, 100, a, &list, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == NET_SEND_LINKS_MAX && total == NET_SEND_LINKS_MAX);
	T_CHECK(jobs_of(s, "ping", a, j, 1) == NET_SEND_LINKS_MAX);
	T_CHECK(store_ping_get(s, id, "https://site0.example/", a, &p) ==
	    STORE_OK);
	T_CHECK(store_ping_get(s, id, arena_printf(a, "https://site%d.example/",
	    NET_SEND_LINKS_MAX - 1), a, &p) == STORE_OK);
	T_CHECK(store_ping_get(s, id, arena_printf(a, "https://site%d.example/",
	    NET_SEND_LINKS_MAX), a, &p) == STORE_NOTFOUND);
	store_close(s);
out:
	buf_free(&body);
	buf_free(&err);
	arena_free(a);
}

/* ---- the "ping" handler's failures --------------------------------------- */

static void
test_ping_failures(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	buf err;
	struct store_ping p;
	int port = closed_port();
	buf_init(&err, 0);
	T_CHECK(port > 0);
	if (s == NULL || port <= 0) {
		T_CHECK(s != NULL);
		if (s != NULL)
			store_close(s);
		goto out;
	}
	const char *target = arena_printf(a, "http://127.0.0.1:%d/post", port);
	int64_t id = article(s, 0, arena_printf(a, "[x](%s)", target),
	    STATUS_PUBLISHED);
	T_CHECK(id > 0);
	const char *payload = arena_printf(a,
	    "{\"article\":%lld,\"target\":\"%s\"}", (long long)id, target);
	T_CHECK(store_ping_add(s, id, target, NOW, a, &p, NULL) == STORE_OK);

	/* loopback is not an address kiji connects to: refused, final */
	T_CHECK(net_send_ping(s, payload, NOW + 1, &err) == JOBS_OK);
	T_CHECK(store_ping_get(s, id, target, a, &p) == STORE_OK);
	T_CHECK(p.status == PSTATUS_FAILED && p.attempts == 1);
	T_CHECK(p.updated_at == NOW + 1);
	T_CHECK(strncmp(p.last_error, "target: ", 8) == 0);
	T_CHECK(p.kind == PKIND_UNKNOWN);
	T_STREQ(p.endpoint, "");
	/* a failed row is not tried again */
	T_CHECK(net_send_ping(s, payload, NOW + 2, &err) == JOBS_OK);
	T_CHECK(store_ping_get(s, id, target, a, &p) == STORE_OK);
	T_CHECK(p.attempts == 1 && p.updated_at == NOW + 1);

	/* allowed (tests only), the closed port is network trouble: retry,
	 * counted, the reason kept in the row and in err */
	T_CHECK(store_setting_set(s, "net.allow_loopback", "1") == STORE_OK);
	p.status = PSTATUS_PENDING;
	p.attempts = 0;
	p.last_error = "";
	T_CHECK(store_ping_update(s, &p) == STORE_OK);
	T_CHECK(net_send_ping(s, payload, NOW + 3, &err) == JOBS_RETRY);
	T_CHECK(err.len > 0);
	T_CHECK(strstr(buf_cstr(&err), target) != NULL);
	T_CHECK(store_ping_get(s, id, target, a, &p) == STORE_OK);
	T_CHECK(p.status == PSTATUS_PENDING && p.attempts == 1);
	T_CHECK(p.updated_at == NOW + 3);
	T_CHECK(*p.last_error != '\0');
	T_CHECK(strncmp(p.last_error, "target: ", 8) == 0);
	buf_reset(&err);
	T_CHECK(net_send_ping(s, payload, NOW + 4, &err) == JOBS_RETRY);
	T_CHECK(store_ping_get(s, id, target, a, &p) == STORE_OK);
	T_CHECK(p.status == PSTATUS_PENDING && p.attempts == 2);
	buf_reset(&err);

	/* the last allowed attempt: given up, failed for good */
	p.attempts = NET_SEND_TRIES_MAX - 1;
	T_CHECK(store_ping_update(s, &p) == STORE_OK);
	T_CHECK(net_send_ping(s, payload, NOW + 5, &err) == JOBS_FAIL);
	T_CHECK(err.len > 0);
	T_CHECK(store_ping_get(s, id, target, a, &p) == STORE_OK);
	T_CHECK(p.status == PSTATUS_FAILED &&
	    p.attempts == NET_SEND_TRIES_MAX);
	T_CHECK(strncmp(p.last_error, "target: ", 8) == 0);
	T_CHECK(strstr(p.last_error, "gave up") != NULL);
	buf_reset(&err);

	/* an article taken back before its ping runs: failed, nothing sent
	 * (a fetch of the closed port would have been a retry) */
	const char *t2 = arena_printf(a, "http://127.0.0.1:%d/other", port);
	T_CHECK(store_ping_add(s, id, t2, NOW, a, &p, NULL) == STORE_OK);
	T_CHECK(content_trash(s, id, NOW + 6) == CONTENT_OK);
	T_CHECK(net_send_ping(s, arena_printf(a,
	    "{\"article\":%lld,\"target\":\"%s\"}", (long long)id, t2), NOW + 6,
	    &err) == JOBS_OK);
	T_CHECK(err.len == 0);
	T_CHECK(store_ping_get(s, id, t2, a, &p) == STORE_OK);
	T_CHECK(p.status == PSTATUS_FAILED && p.attempts == 1 &&
	    p.updated_at == NOW + 6);
	T_STREQ(p.last_error, "the article is no longer published");
	T_CHECK(p.kind == PKIND_UNKNOWN);
	T_STREQ(p.endpoint, "");
	/* the article deleted: its rows went, the job is a no-op */
	T_CHECK(content_delete(s, id) == CONTENT_OK);
	T_CHECK(net_send_ping(s, payload, NOW + 7, &err) == JOBS_OK);
	T_CHECK(err.len == 0);
	T_CHECK(store_ping_get(s, id, target, a, &p) == STORE_NOTFOUND);

	store_close(s);
out:
	buf_free(&err);
	arena_free(a);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "pings"))
		return 1;
	if (!net_init()) {
		printf("net_init failed\n");
		rmdir(t_dir);
		return 1;
	}
	T_RUN(test_store_rows);
	T_RUN(test_job_add_key);
	T_RUN(test_pings_handler);
	T_RUN(test_pings_links_max);
	T_RUN(test_ping_failures);
	net_cleanup();
	t_tmpdir_remove(t_dir);
	T_DONE();
}
