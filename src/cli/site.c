/*
 * kiji init and kiji demo: the two commands that create a site.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../admin/admin.h"
#include "../site/site.h"
#include "cli.h"

#define DEMO_PASSWORD_LEN 16 /* the demo admin's first password */

static const char usage_demo[] =
    "usage: kiji demo --db FILE [--articles N] [--comments M] [--seed S]\n"
    "                 [--now ISO8601]\n"
    "\n"
    "Writes a deterministic synthetic Japanese news site into FILE, which\n"
    "must not hold a site yet. The same seed and --now give the same site.\n"
    "Also creates the user 'admin' with a random password, printed once.\n"
    "\n"
    "  --db FILE       database to create (required)\n"
    "  --articles N    number of articles (default 200, 1..1000000)\n"
    "  --comments M    average comments per article (default 12, 0..10000)\n"
    "  --seed S        random seed (default 1)\n"
    "  --now TIME      the moment the site is generated at, e.g.\n"
    "                  2026-01-15T12:00:00Z (default: the current time)\n"
    "  -h, --help      this help\n";

/*
 * The demo's administrator: "admin" with a random password, printed once
 * (it is stored only as its hash). The admin URL follows site.base_url.
 */
static bool
demo_admin(store *st)
{
	char pw[DEMO_PASSWORD_LEN + 1];
	buf base;
	account_random_password(pw, DEMO_PASSWORD_LEN);
	struct account_new u = {.name = "admin", .display_name = "管理者",
	    .role = ROLE_ADMIN, .password = pw};
	enum account_err e = account_add(st, &u, NULL);
	if (e != ACCOUNT_OK) {
		fprintf(stderr, "kiji demo: cannot add the admin user: %s\n",
		    account_strerror(e));
		return false;
	}
	buf_init(&base, 4096);
	if (store_setting_get(st, "site.base_url", &base) != STORE_OK ||
	    base.len == 0) {
		buf_reset(&base);
		buf_puts(&base, "http://127.0.0.1:8080");
	}
	while (base.len > 0 && base.ptr[base.len - 1] == '/')
		base.ptr[--base.len] = '\0';
	fprintf(stderr, "admin: %s/admin/ user admin password %s\n",
	    buf_cstr(&base), pw);
	buf_free(&base);
	return true;
}

int
cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"articles", required_argument, NULL, 'a'},
		{"comments", required_argument, NULL, 'c'},
		{"seed", required_argument, NULL, 's'},
		{"now", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	struct site_demo_opts o = {.articles = 200, .comments = 12, .seed = 1,
	    .now = (int64_t)time(NULL)};
	long long v;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'a':
			if (!parse_num(optarg, 1, 1000000, &v))
				die_usage("demo", "--articles must be 1..1000000, not '%s'", optarg);
			o.articles = v;
			break;
		case 'c':
			if (!parse_num(optarg, 0, 10000, &v))
				die_usage("demo", "--comments must be 0..10000, not '%s'", optarg);
			o.comments = v;
			break;
		case 's':
			if (!parse_num(optarg, 0, LLONG_MAX, &v))
				die_usage("demo", "--seed must be a non-negative number, not '%s'", optarg);
			o.seed = (uint64_t)v;
			break;
		case 'n':
			if (!text_parse_iso8601(optarg, &o.now))
				die_usage("demo", "--now must be ISO 8601 like 2026-01-15T12:00:00Z, not '%s'", optarg);
			break;
		case 'h': fputs(usage_demo, stdout); return 0;
		default: die_getopt("demo", c, argv);
		}
	}
	if (optind < argc)
		die_usage("demo", "unexpected argument %s", argv[optind]);
	need_db("demo", db);
	o.progress = isatty(STDERR_FILENO);
	store *st = open_store_new(db);
	if (st == NULL)
		return 1;
	int64_t n = 0;
	if (store_articles_count(st, INT64_MAX, &n) == STORE_OK && n > 0) {
		fprintf(stderr, "kiji demo: %s already holds a site (%lld articles)\n",
		    db_shown(db), (long long)n);
		store_close(st);
		return 1;
	}
	buf err;
	buf_init(&err, 4096);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool ok = site_demo(st, &o, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!ok)
		fprintf(stderr, "kiji demo: %s\n", buf_cstr(&err));
	else
		fprintf(stderr, "kiji demo: wrote %lld articles to %s in %.2f s\n",
		    (long long)o.articles, db_shown(db),
		    (double)(t1.tv_sec - t0.tv_sec) +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (ok)
		ok = demo_admin(st);
	buf_free(&err);
	store_close(st);
	return ok ? 0 : 1;
}

static const char usage_init[] =
    "usage: kiji init --db FILE [--title T] [--base-url URL]\n"
    "\n"
    "Creates an empty site in FILE, a new SQLite database (mode 0600); an\n"
    "existing FILE is refused. FILE may be a postgresql:// URL instead: the\n"
    "tables are made in that (empty, UTF-8) database, and one that holds a\n"
    "site already is refused. Then add an account ('kiji user add'),\n"
    "write articles ('kiji post new') and serve it ('kiji serve').\n"
    "\n"
    "  --db FILE        the database to create (required)\n"
    "  --title T        the site's title (site.title)\n"
    "  --base-url URL   its public address, e.g. https://news.example.com\n"
    "                   (site.base_url: canonical links, feeds, sitemap)\n"
    "  -h, --help       this help\n";

/* Checks a setting given on the command line as `kiji config set` would. */
static void
init_setting_check(const char *key, const char *value)
{
	buf why;
	buf_init(&why, 512);
	enum conf_key k = conf_find(key);
	if (value != NULL && k != CONF__MAX && !conf_valid(k, value, &why))
		die_usage("init", "%s: %s", key, buf_cstr(&why));
	buf_free(&why);
}

/* kiji init on PostgreSQL: the database (made by createdb) must be
 * reachable and hold no kiji site yet; 0, or the exit status after
 * saying why. */
static int
init_pg_check(const char *db)
{
	struct store_facts f;
	buf err;
	buf_init(&err, 1024);
	store *st = store_open_inspect(db, &f, &err);
	int rc = 0;
	if (st != NULL) {
		fprintf(stderr, "kiji init: %s already holds a kiji site (kiji "
		    "init only creates new sites)\n", db_shown(db));
		rc = EXIT_USAGE;
	} else if (f.backend[0] == '\0') {
		fprintf(stderr, "kiji init: %s: %s (create the database first: "
		    "createdb -E UTF8 -T template0 NAME)\n", db_shown(db),
		    buf_cstr(&err));
		rc = 1;
	}
	store_close(st);
	buf_free(&err);
	return rc;
}

int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"title", required_argument, NULL, 't'},
		{"base-url", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *title = NULL, *base = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 't': title = optarg; break;
		case 'b': base = optarg; break;
		case 'h': fputs(usage_init, stdout); return 0;
		default: die_getopt("init", c, argv);
		}
	}
	if (optind < argc)
		die_usage("init", "unexpected argument %s", argv[optind]);
	need_db("init", db);
	init_setting_check("site.title", title);
	init_setting_check("site.base_url", base);
	const char *file = store_file(db);
	if (file == NULL) {
		int rc = init_pg_check(db);
		if (rc != 0)
			return rc;
	} else {
		/* O_EXCL: never a site over an existing file, even an empty
		 * one */
		int fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			fprintf(stderr, "kiji init: %s: %s\n", file,
			    errno == EEXIST ? "already exists (kiji init only "
			    "creates new sites)" : strerror(errno));
			return errno == EEXIST ? EXIT_USAGE : 1;
		}
		close(fd);
	}
	store *st = open_store_new(db);
	bool ok = st != NULL;
	if (ok && title != NULL)
		ok = store_setting_set(st, "site.title", title) == STORE_OK;
	if (ok && base != NULL)
		ok = store_setting_set(st, "site.base_url", base) == STORE_OK;
	store_close(st);
	if (!ok) {
		char p[PATH_MAX];
		fprintf(stderr, "kiji init: could not create the site in %s\n",
		    db_shown(db));
		if (file == NULL)
			return 1;
		unlink(file);
		snprintf(p, sizeof(p), "%s-wal", file);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", file);
		unlink(p);
		return 1;
	}
	fprintf(stderr, "kiji init: created an empty site in %s\n",
	    db_shown(db));
	return 0;
}
