/*
 * src/obs/: the access log's line formats (combined escaping, JSON
 * validity, masked addresses, secrets redacted), writing and reopening
 * the file from several threads, the error log's line, and the metrics
 * exposition (counters, labels, histograms, the collector registry).
 */
#include "t.h"

#include <jansson.h>
#include <pthread.h>
#include <unistd.h>

#include "../../src/obs/obs.h"

/* 2026-01-15T12:34:56.789012Z */
#define T_TIME 1768480496789012LL

static struct obs_access_rec
rec_base(void)
{
	return (struct obs_access_rec){
		.time_us = T_TIME,
		.ip = "192.0.2.77",
		.method = "GET",
		.path = "/articles/42",
		.query = "",
		.minor = 1,
		.status = 200,
		.bytes = 1234,
		.dur_us = 567,
		.cache = 'h',
		.referer = NULL,
		.ua = "Mozilla/5.0",
	};
}

static char *
fmt(const struct obs_access_rec *r, enum obs_format f, bool mask)
{
	static char out[16384];
	buf b;
	buf_init(&b, 0);
	obs_access_format(&b, r, f, mask);
	snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	buf_free(&b);
	return out;
}

static size_t
count_char(const char *s, char c)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == c;
	return n;
}

static void
test_clf_plain(void)
{
	struct obs_access_rec r = rec_base();
	T_STREQ(fmt(&r, OBS_FMT_COMBINED, false),
	    "192.0.2.77 - - [15/Jan/2026:12:34:56 +0000] \"GET /articles/42 "
	    "HTTP/1.1\" 200 1234 \"-\" \"Mozilla/5.0\"\n");
	r.bytes = 0;
	r.minor = 0;
	r.referer = "https://example.com/x";
	T_STREQ(fmt(&r, OBS_FMT_COMBINED, false),
	    "192.0.2.77 - - [15/Jan/2026:12:34:56 +0000] \"GET /articles/42 "
	    "HTTP/1.0\" 200 - \"https://example.com/x\" \"Mozilla/5.0\"\n");
	/* refused before a request line was read */
	r = rec_base();
	r.minor = -1;
	r.path = NULL;
	r.method = NULL;
	r.ua = NULL;
	r.status = 400;
	T_STREQ(fmt(&r, OBS_FMT_COMBINED, false),
	    "192.0.2.77 - - [15/Jan/2026:12:34:56 +0000] \"-\" 400 1234 \"-\" "
	    "\"-\"\n");
}

/* Quotes, backslashes, newlines and raw bytes can neither end a field
 * nor start a line. */
static void
test_clf_hostile(void)
{
	struct obs_access_rec r = rec_base();
	r.ua = "evil\" \"x\\\n127.0.0.1 - - [forged] \"GET / HTTP/1.1\" 200";
	r.referer = "a\rb\x01\x7f\xff";
	r.path = "/a\"b c";
	char *l = fmt(&r, OBS_FMT_COMBINED, false);
	T_CHECK(count_char(l, '\n') == 1 && l[strlen(l) - 1] == '\n');
	/* exactly the six quotes of request, referer and agent */
	T_CHECK(count_char(l, '"') == 6);
	T_CHECK(strstr(l, "\"GET /a\\x22b c HTTP/1.1\"") != NULL);
	T_CHECK(strstr(l, "\"evil\\x22 \\x22x\\x5C\\x0A127.0.0.1 - - [forged] "
	    "\\x22GET / HTTP/1.1\\x22 200\"") != NULL);
	T_CHECK(strstr(l, "\"a\\x0Db\\x01\\x7F\\xFF\"") != NULL);
	/* Japanese bytes as nginx writes them */
	r = rec_base();
	r.ua = "日本";
	l = fmt(&r, OBS_FMT_COMBINED, false);
	T_CHECK(strstr(l, "\"\\xE6\\x97\\xA5\\xE6\\x9C\\xAC\"") != NULL);
}

static void
test_json_valid(void)
{
	struct obs_access_rec r = rec_base();
	r.ua = "q\"uote\\ \n\t\x01 日本 \xff\xc3";
	r.referer = "https://example.com/?a=1";
	r.query = "page=2";
	r.cache = 'm';
	char *l = fmt(&r, OBS_FMT_JSON, false);
	T_CHECK(count_char(l, '\n') == 1 && l[strlen(l) - 1] == '\n');
	json_error_t je;
	json_t *j = json_loads(l, 0, &je);
	T_CHECK(j != NULL);
	if (j == NULL) {
		printf("  %s: %s\n", je.text, l);
		return;
	}
	T_STREQ(json_string_value(json_object_get(j, "time")),
	    "2026-01-15T12:34:56.789012Z");
	T_STREQ(json_string_value(json_object_get(j, "ip")), "192.0.2.77");
	T_STREQ(json_string_value(json_object_get(j, "method")), "GET");
	T_STREQ(json_string_value(json_object_get(j, "path")),
	    "/articles/42?page=2");
	T_CHECK(json_integer_value(json_object_get(j, "status")) == 200);
	T_CHECK(json_integer_value(json_object_get(j, "bytes")) == 1234);
	T_CHECK(json_integer_value(json_object_get(j, "duration_us")) == 567);
	T_STREQ(json_string_value(json_object_get(j, "cache")), "miss");
	T_STREQ(json_string_value(json_object_get(j, "referer")),
	    "https://example.com/?a=1");
	/* the agent comes back as sent, bytes that are not UTF-8 spelled */
	T_STREQ(json_string_value(json_object_get(j, "user_agent")),
	    "q\"uote\\ \n\t\x01 日本 \\xFF\\xC3");
	json_decref(j);
	r.cache = 0;
	r.minor = -1;
	j = json_loads(fmt(&r, OBS_FMT_JSON, false), 0, &je);
	T_CHECK(j != NULL);
	T_STREQ(json_string_value(json_object_get(j, "cache")), "-");
	T_STREQ(json_string_value(json_object_get(j, "path")), "-");
	json_decref(j);
}

static void
test_ip_mask(void)
{
	char out[OBS_IP_MAX];
	T_STREQ(obs_ip_mask("192.0.2.77", out), "192.0.2.0");
	T_STREQ(obs_ip_mask("10.1.2.255", out), "10.1.2.0");
	T_STREQ(obs_ip_mask("::ffff:198.51.100.9", out), "198.51.100.0");
	T_STREQ(obs_ip_mask("2001:db8:1234:5678:9abc::1", out), "2001:db8:1234::");
	T_STREQ(obs_ip_mask("[2001:db8:aa:bb::7]", out), "2001:db8:aa::");
	T_STREQ(obs_ip_mask("::1", out), "::");
	T_STREQ(obs_ip_mask("unknown", out), "-");
	T_STREQ(obs_ip_mask("", out), "-");
	T_STREQ(obs_ip_mask(NULL, out), "-");
	T_STREQ(obs_ip_mask("1.2.3.4\n5", out), "-");
	struct obs_access_rec r = rec_base();
	r.ip = "2001:db8:1234:5678::9";
	char *l = fmt(&r, OBS_FMT_COMBINED, true);
	T_CHECK(strncmp(l, "2001:db8:1234:: - - [", 21) == 0);
	T_CHECK(strstr(l, "5678") == NULL);
	l = fmt(&r, OBS_FMT_JSON, true);
	T_CHECK(strstr(l, "\"ip\":\"2001:db8:1234::\"") != NULL);
}

static void
test_redaction(void)
{
	struct obs_access_rec r = rec_base();
	r.query = "page=2&token=abc123&reset_key=k1&Password=hunter2&q=ok&csrf";
	char *l = fmt(&r, OBS_FMT_COMBINED, false);
	T_CHECK(strstr(l, "/articles/42?page=2&token=[redacted]&reset_key="
	    "[redacted]&Password=[redacted]&q=ok&csrf HTTP/1.1") != NULL);
	T_CHECK(strstr(l, "abc123") == NULL && strstr(l, "hunter2") == NULL &&
	    strstr(l, "k1") == NULL);
	/* the editor area: no query at all, however the path was spelled */
	r.path = "/admin/comments";
	r.query = "q=someone@example.com&page=3";
	l = fmt(&r, OBS_FMT_COMBINED, false);
	T_CHECK(strstr(l, "\"GET /admin/comments?[redacted] HTTP/1.1\"") != NULL);
	r.path = "/%61dmin/comments";
	r.private_query = true;
	l = fmt(&r, OBS_FMT_JSON, false);
	T_CHECK(strstr(l, "someone") == NULL);
	/* a path that only starts like it keeps its query */
	r.path = "/administrivia";
	r.private_query = false;
	r.query = "page=2";
	T_CHECK(strstr(fmt(&r, OBS_FMT_COMBINED, false),
	    "/administrivia?page=2 ") != NULL);
	/* referers: another site's secrets, and our own editor area */
	r = rec_base();
	r.referer = "https://mail.example/read?session=s3cr3t&id=9";
	l = fmt(&r, OBS_FMT_COMBINED, false);
	T_CHECK(strstr(l, "\"https://mail.example/read?session=[redacted]&id=9\"")
	    != NULL);
	r.referer = "https://news.example/admin/articles?q=draft+title";
	l = fmt(&r, OBS_FMT_COMBINED, false);
	T_CHECK(strstr(l, "\"https://news.example/admin/articles?[redacted]\"")
	    != NULL);
}

/* ---- writing ------------------------------------------------------------------ */

static int
lines_of(const char *path, int *bad)
{
	FILE *f = fopen(path, "r");
	int n = 0;
	char line[4096];
	*bad = 0;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t k = strlen(line);
		if (k == 0 || line[k - 1] != '\n' ||
		    strncmp(line, "192.0.2.77 - - [", 16) != 0 ||
		    strstr(line, "\" 200 1234 \"-\" \"Mozilla/5.0\"\n") == NULL)
			(*bad)++;
		n++;
	}
	fclose(f);
	return n;
}

static void *
writer_thread(void *arg)
{
	int n = *(int *)arg;
	struct obs_access_rec r = rec_base();
	for (int i = 0; i < n; i++) {
		if (obs_access_want())
			obs_access_log(&r);
		if (i % 7 == 0)
			obs_access_flush();
	}
	return NULL; /* the rest is written as the thread ends */
}

static void
run_writers(int nthreads, int each)
{
	pthread_t th[8];
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, writer_thread, &each);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
}

static void
test_file_and_reopen(void)
{
	char dir[] = "/tmp/kiji-obs-XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char path[256], moved[256];
	snprintf(path, sizeof(path), "%s/access.log", dir);
	snprintf(moved, sizeof(moved), "%s/access.log.1", dir);
	buf err;
	buf_init(&err, 4096);
	T_CHECK(obs_access_open(path, &err));
	struct obs_access_conf c = {.on = true, .format = OBS_FMT_COMBINED,
	    .sample = 1};
	obs_access_set(&c);
	run_writers(4, 500);
	int bad = 0;
	T_CHECK(lines_of(path, &bad) == 2000);
	T_CHECK(bad == 0);
	/* logrotate: rename, then SIGHUP's reopen; new lines go to a new file */
	T_CHECK(rename(path, moved) == 0);
	T_CHECK(obs_access_reopen(&err));
	run_writers(2, 100);
	T_CHECK(lines_of(moved, &bad) == 2000 && bad == 0);
	T_CHECK(lines_of(path, &bad) == 200 && bad == 0);
	/* one in ten, exactly, whichever thread answers */
	c.sample = 10;
	obs_access_set(&c);
	run_writers(4, 250);
	T_CHECK(lines_of(path, &bad) == 300 && bad == 0);
	/* off: nothing */
	c.on = false;
	obs_access_set(&c);
	T_CHECK(!obs_access_want());
	T_CHECK(obs_access_dropped() == 0);
	obs_access_close();
	/* a file that cannot be opened is an error with its name */
	buf_reset(&err);
	char nodir[300];
	snprintf(nodir, sizeof(nodir), "%s/none/access.log", dir);
	T_CHECK(!obs_access_open(nodir, &err));
	T_CHECK(strstr(buf_cstr(&err), "none/access.log") != NULL);
	obs_access_close();
	unlink(path);
	unlink(moved);
	rmdir(dir);
	buf_free(&err);
}

/* ---- error log ------------------------------------------------------------------ */

static void
test_error_log_line(void)
{
	buf b;
	buf_init(&b, 0);
	obs_log_format(&b, OBS_ERROR, false, "store: disk full");
	T_STREQ(buf_cstr(&b), "kiji: error: store: disk full\n");
	buf_reset(&b);
	obs_log_format(&b, OBS_WARN, false, "x");
	T_STREQ(buf_cstr(&b), "kiji: warning: x\n");
	buf_reset(&b);
	obs_log_format(&b, OBS_INFO, false, "serving");
	T_STREQ(buf_cstr(&b), "kiji: serving\n");
	buf_reset(&b);
	obs_log_format(&b, OBS_ERROR, true, "a\nkiji: forged\x1b[31m");
	T_STREQ(buf_cstr(&b), "<3>a\\x0akiji: forged\\x1b[31m\n");
	buf_reset(&b);
	obs_log_format(&b, OBS_DEBUG, true, "d");
	T_STREQ(buf_cstr(&b), "<7>d\n");
	buf_free(&b);
	enum obs_level l;
	T_CHECK(obs_level_parse("warn", &l) && l == OBS_WARN);
	T_CHECK(!obs_level_parse("verbose", &l));
	obs_log_level_set(OBS_WARN);
	T_CHECK(obs_log_enabled(OBS_ERROR) && obs_log_enabled(OBS_WARN));
	T_CHECK(!obs_log_enabled(OBS_INFO) && !obs_log_enabled(OBS_DEBUG));
	obs_log_level_set(OBS_INFO);
}

/* ---- metrics -------------------------------------------------------------------- */

static void
test_prom_text(void)
{
	buf b, l;
	buf_init(&b, 0);
	buf_init(&l, 0);
	obs_prom_family(&b, "kiji_x_total", "counter", "Things.\nback\\slash");
	obs_prom_label(&l, "route", "/articles/{id}");
	obs_prom_label(&l, "why", "a\"b\\c\nd");
	obs_prom_u64(&b, "kiji_x_total", buf_cstr(&l), 7);
	obs_prom_double(&b, "kiji_y", NULL, 0.25);
	obs_prom_double(&b, "kiji_z", NULL, 3);
	T_STREQ(buf_cstr(&b),
	    "# HELP kiji_x_total Things.\\nback\\\\slash\n"
	    "# TYPE kiji_x_total counter\n"
	    "kiji_x_total{route=\"/articles/{id}\",why=\"a\\\"b\\\\c\\nd\"} 7\n"
	    "kiji_y 0.25\n"
	    "kiji_z 3\n");
	buf_free(&b);
	buf_free(&l);
}

static void
test_prom_hist(void)
{
	static const uint64_t le[] = {1000, 5000, 100000};
	struct obs_hist h;
	obs_hist_init(&h, le, 3, 1e6);
	obs_hist_observe(&h, 500);
	obs_hist_observe(&h, 1000);
	obs_hist_observe(&h, 4000);
	obs_hist_observe(&h, 2000000);
	buf b;
	buf_init(&b, 0);
	obs_prom_hist(&b, "kiji_t_seconds", "route=\"/\"", &h);
	T_STREQ(buf_cstr(&b),
	    "kiji_t_seconds_bucket{route=\"/\",le=\"0.001\"} 2\n"
	    "kiji_t_seconds_bucket{route=\"/\",le=\"0.005\"} 3\n"
	    "kiji_t_seconds_bucket{route=\"/\",le=\"0.1\"} 3\n"
	    "kiji_t_seconds_bucket{route=\"/\",le=\"+Inf\"} 4\n"
	    "kiji_t_seconds_sum{route=\"/\"} 2.0055\n"
	    "kiji_t_seconds_count{route=\"/\"} 4\n");
	buf_reset(&b);
	obs_hist_init(&h, le, 3, 1);
	obs_hist_observe(&h, 3);
	obs_prom_hist(&b, "kiji_n", NULL, &h);
	T_STREQ(buf_cstr(&b),
	    "kiji_n_bucket{le=\"1000\"} 1\nkiji_n_bucket{le=\"5000\"} 1\n"
	    "kiji_n_bucket{le=\"100000\"} 1\nkiji_n_bucket{le=\"+Inf\"} 1\n"
	    "kiji_n_sum 3\nkiji_n_count 1\n");
	buf_free(&b);
}

static obs_counter t_hits;

static void
t_collect(void *ctx, buf *out)
{
	obs_prom_family(out, (const char *)ctx, "counter", "Test.");
	obs_prom_u64(out, (const char *)ctx, NULL, obs_get(&t_hits));
}

static void
test_registry(void)
{
	buf b;
	buf_init(&b, 0);
	obs_metrics_add(t_collect, "kiji_test_hits_total");
	obs_add(&t_hits, 3);
	obs_metrics_render(&b);
	T_CHECK(strstr(buf_cstr(&b), "\nkiji_test_hits_total 3\n") != NULL);
	T_CHECK(strstr(buf_cstr(&b), "\nprocess_resident_memory_bytes ") != NULL);
	T_CHECK(strstr(buf_cstr(&b), "\nprocess_open_fds ") != NULL);
	T_CHECK(strstr(buf_cstr(&b), "\nprocess_start_time_seconds ") != NULL);
	obs_add(&t_hits, 1);
	buf_reset(&b);
	obs_metrics_render(&b);
	T_CHECK(strstr(buf_cstr(&b), "\nkiji_test_hits_total 4\n") != NULL);
	obs_metrics_remove(t_collect, "kiji_test_hits_total");
	buf_reset(&b);
	obs_metrics_render(&b);
	T_CHECK(strstr(buf_cstr(&b), "kiji_test_hits_total") == NULL);
	buf_free(&b);
}

int
main(void)
{
	T_RUN(test_clf_plain);
	T_RUN(test_clf_hostile);
	T_RUN(test_json_valid);
	T_RUN(test_ip_mask);
	T_RUN(test_redaction);
	T_RUN(test_file_and_reopen);
	T_RUN(test_error_log_line);
	T_RUN(test_prom_text);
	T_RUN(test_prom_hist);
	T_RUN(test_registry);
	T_DONE();
}
