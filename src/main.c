/*
 * kiji command line: serve, demo, config. Each subcommand parses its own
 * flags (getopt_long); a bad flag or value is one line on stderr and exit 2.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "site/site.h"
#include "store/store.h"
#include "text/text.h"

#define KIJI_VERSION "0.1.0"

enum { EXIT_USAGE = 2 };

static const char usage_main[] =
    "usage: kiji <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve     serve a site over HTTP\n"
    "  demo      write a deterministic synthetic demo site\n"
    "  config    read and change settings (get, set, list)\n"
    "  comments  moderate comments (list, approve, spam, delete)\n"
    "\n"
    "Run 'kiji <command> --help' for a command's options.\n"
    "kiji --version prints the version.\n";

static const char usage_serve[] =
    "usage: kiji serve --db FILE [--listen ADDR:PORT] [--theme DIR]\n"
    "\n"
    "Serves the site stored in FILE (an SQLite database, created mode 0600\n"
    "if missing) until SIGINT or SIGTERM.\n"
    "\n"
    "  --db FILE           the site's database (required)\n"
    "  --listen ADDR:PORT  address to bind (default 127.0.0.1:8080;\n"
    "                      IPv6 as [::1]:8080)\n"
    "  --theme DIR         read templates/ and static/ from DIR instead of\n"
    "                      the theme compiled into the binary\n"
    "  -h, --help          this help\n";

static const char usage_demo[] =
    "usage: kiji demo --db FILE [--articles N] [--comments M] [--seed S]\n"
    "                 [--now ISO8601]\n"
    "\n"
    "Writes a deterministic synthetic Japanese news site into FILE, which\n"
    "must not hold a site yet. The same seed and --now give the same site.\n"
    "\n"
    "  --db FILE       database to create (required)\n"
    "  --articles N    number of articles (default 200, 1..1000000)\n"
    "  --comments M    average comments per article (default 12, 0..10000)\n"
    "  --seed S        random seed (default 1)\n"
    "  --now TIME      the moment the site is generated at, e.g.\n"
    "                  2026-01-15T12:00:00Z (default: the current time)\n"
    "  -h, --help      this help\n";

static const char usage_config[] =
    "usage: kiji config --db FILE list\n"
    "       kiji config --db FILE get KEY\n"
    "       kiji config --db FILE set KEY VALUE\n"
    "\n"
    "Reads and changes the site's settings. A running server picks changes\n"
    "up without a restart. 'list' shows every key with its value and default.\n"
    "\n"
    "  --db FILE   the site's database (required)\n"
    "  -h, --help  this help\n";

/* One-line usage error: exit 2 as documented. */
static _Noreturn void
die_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "kiji %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see 'kiji %s --help')\n", cmd);
	va_end(ap);
	exit(EXIT_USAGE);
}

/* Parses a whole decimal number in [min, max]. */
static bool
parse_num(const char *s, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static store *
open_store(const char *path)
{
	buf err;
	buf_init(&err, 4096);
	store *st = store_open(path, &err);
	if (st == NULL)
		fprintf(stderr, "kiji: %s: %s\n", path, buf_cstr(&err));
	buf_free(&err);
	return st;
}

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"theme", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *listen = "127.0.0.1:8080", *theme = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'l': listen = optarg; break;
		case 't': theme = optarg; break;
		case 'h': fputs(usage_serve, stdout); return 0;
		case ':': die_usage("serve", "%s needs a value", argv[optind - 1]);
		default: die_usage("serve", "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("serve", "unexpected argument %s", argv[optind]);
	if (db == NULL)
		die_usage("serve", "--db FILE is required");

	/* Block the stop signals in every thread; main waits for them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	store *st = open_store(db);
	if (st == NULL)
		return 1;
	buf err;
	buf_init(&err, 4096);
	int rc = 1;
	http_server *srv = NULL;
	site *s = site_new(st, theme, &err);
	if (s == NULL) {
		fprintf(stderr, "kiji: theme: %s\n", buf_cstr(&err));
		goto out;
	}
	struct http_config cfg = {0};
	site_http_config(s, &cfg);
	cfg.listen = listen;
	/* Uploads are spooled beside the database (same disk, same owner). */
	char *dbcopy = xstrdup(db);
	cfg.tmp_dir = dirname(dbcopy);
	srv = http_start(&cfg, site_handle, s, &err);
	free(dbcopy);
	if (srv == NULL) {
		fprintf(stderr, "kiji: %s: %s\n", listen, buf_cstr(&err));
		goto out;
	}
	fprintf(stderr, "kiji: serving %s on http://%s (Ctrl-C stops)\n", db,
	    listen);
	int sig = 0;
	sigwait(&set, &sig);
	fprintf(stderr, "kiji: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	rc = 0;
out:
	site_quiesce(s);
	http_stop(srv);
	site_free(s);
	store_close(st);
	buf_free(&err);
	return rc;
}

static int
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
		case ':': die_usage("demo", "%s needs a value", argv[optind - 1]);
		default: die_usage("demo", "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("demo", "unexpected argument %s", argv[optind]);
	if (db == NULL)
		die_usage("demo", "--db FILE is required");
	o.progress = isatty(STDERR_FILENO);
	store *st = open_store(db);
	if (st == NULL)
		return 1;
	int64_t n = 0;
	if (store_articles_count(st, INT64_MAX, &n) == STORE_OK && n > 0) {
		fprintf(stderr, "kiji demo: %s already holds a site (%lld articles)\n",
		    db, (long long)n);
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
		    (long long)o.articles, db,
		    (double)(t1.tv_sec - t0.tv_sec) +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	buf_free(&err);
	store_close(st);
	return ok ? 0 : 1;
}

static const char usage_comments[] =
    "usage: kiji comments --db FILE list [--status STATUS] [--limit N]\n"
    "       kiji comments --db FILE approve|spam|delete ID...\n"
    "\n"
    "Moderates reader comments. 'list' shows the newest comments with the\n"
    "given status (pending by default; approved, spam, trash or all).\n"
    "'delete' moves a comment to the trash. A running server shows the\n"
    "change on the next request.\n"
    "\n"
    "  --db FILE     the site's database (required)\n"
    "  --status S    pending | approved | spam | trash | all (list only)\n"
    "  --limit N     how many to list (default 50, 1..10000)\n"
    "  -h, --help    this help\n";

static int
cmd_comments(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"status", required_argument, NULL, 's'},
		{"limit", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const names[] = {"pending", "approved", "spam",
	    "trash", "all"};
	const char *db = NULL;
	enum store_cstatus status = CSTATUS_PENDING;
	long long limit = 50;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 's': {
			int k = 0;
			while (k < 5 && strcmp(names[k], optarg) != 0)
				k++;
			if (k == 5)
				die_usage("comments", "--status must be pending, approved, spam, trash or all, not '%s'", optarg);
			status = k == 4 ? CSTATUS__MAX : (enum store_cstatus)k;
			break;
		}
		case 'l':
			if (!parse_num(optarg, 1, 10000, &limit))
				die_usage("comments", "--limit must be 1..10000, not '%s'", optarg);
			break;
		case 'h': fputs(usage_comments, stdout); return 0;
		case ':': die_usage("comments", "%s needs a value", argv[optind - 1]);
		default: die_usage("comments", "unknown option %s", argv[optind - 1]);
		}
	}
	if (db == NULL)
		die_usage("comments", "--db FILE is required");
	if (optind >= argc)
		die_usage("comments", "say list, approve, spam or delete");
	const char *verb = argv[optind++];
	enum store_cstatus to = CSTATUS_TRASH;
	if (strcmp(verb, "list") == 0) {
		if (optind < argc)
			die_usage("comments", "unexpected argument %s", argv[optind]);
	} else if (strcmp(verb, "approve") == 0) {
		to = CSTATUS_APPROVED;
	} else if (strcmp(verb, "spam") == 0) {
		to = CSTATUS_SPAM;
	} else if (strcmp(verb, "delete") == 0) {
		to = CSTATUS_TRASH;
	} else {
		die_usage("comments", "unknown subcommand %s", verb);
	}
	if (verb[0] != 'l' && optind >= argc)
		die_usage("comments", "%s needs at least one comment ID", verb);
	long long id;
	for (int i = optind; verb[0] != 'l' && i < argc; i++)
		if (!parse_num(argv[i], 1, INT64_MAX, &id))
			die_usage("comments", "'%s' is not a comment ID", argv[i]);
	store *st = open_store(db);
	if (st == NULL)
		return 1;
	int rc = 0;
	arena *a = arena_new(0);
	if (verb[0] == 'l') {
		struct store_comment *cs;
		size_t n;
		if (store_comments_by_status(st, status, (size_t)limit, a, &cs, &n) !=
		    STORE_OK) {
			fprintf(stderr, "kiji comments: cannot read comments\n");
			rc = 1;
		}
		for (size_t i = 0; rc == 0 && i < n; i++) {
			buf d;
			buf_init(&d, 128);
			text_ja_datetime(&d, cs[i].created_at);
			buf one;
			buf_init(&one, 1 << 16);
			text_squash_space(&one, cs[i].body, strlen(cs[i].body));
			buf cut;
			buf_init(&cut, 1 << 16);
			text_truncate(&cut, buf_cstr(&one), one.len, 60);
			printf("%lld\t%s\tarticle %lld\t%s\t%s\t%s\n",
			    (long long)cs[i].id, names[cs[i].status],
			    (long long)cs[i].article_id, buf_cstr(&d), cs[i].nickname,
			    buf_cstr(&cut));
			buf_free(&d);
			buf_free(&one);
			buf_free(&cut);
		}
	} else {
		for (int i = optind; i < argc; i++) {
			parse_num(argv[i], 1, INT64_MAX, &id);
			enum store_err e = store_comment_set_status(st, id, to);
			if (e != STORE_OK) {
				fprintf(stderr, "kiji comments: %s %lld: %s\n", verb, id,
				    store_strerror(e));
				rc = 1;
			}
		}
	}
	arena_free(a);
	store_close(st);
	return rc;
}

/* Prints one setting line for 'config list'. */
static void
config_print(const struct site_conf *c, enum conf_key k)
{
	const struct conf_def *d = &conf_defs[k];
	printf("%-24s %s", d->key, c->str[k]);
	if (strcmp(c->str[k], d->def) != 0)
		printf("   (default: %s)", d->def);
	printf("\n    %s\n", d->help);
}

static int
cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'h': fputs(usage_config, stdout); return 0;
		case ':': die_usage("config", "%s needs a value", argv[optind - 1]);
		default: die_usage("config", "unknown option %s", argv[optind - 1]);
		}
	}
	if (db == NULL)
		die_usage("config", "--db FILE is required");
	if (optind >= argc)
		die_usage("config", "say list, get KEY or set KEY VALUE");
	const char *verb = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	enum conf_key k = CONF__MAX;
	if (strcmp(verb, "list") == 0) {
		if (nargs != 0)
			die_usage("config", "list takes no arguments");
	} else if (strcmp(verb, "get") == 0 || strcmp(verb, "set") == 0) {
		if (nargs != (verb[0] == 'g' ? 1 : 2))
			die_usage("config", "%s takes %s", verb,
			    verb[0] == 'g' ? "KEY" : "KEY VALUE");
		k = conf_find(args[0]);
		if (k == CONF__MAX)
			die_usage("config", "unknown key %s (kiji config list shows them)",
			    args[0]);
	} else {
		die_usage("config", "unknown subcommand %s", verb);
	}
	store *st = open_store(db);
	if (st == NULL)
		return 1;
	int rc = 0;
	struct site_conf *conf = conf_load(st);
	if (verb[0] == 'l') {
		for (int i = 0; i < CONF__MAX; i++)
			config_print(conf, (enum conf_key)i);
	} else if (verb[0] == 'g') {
		printf("%s\n", conf->str[k]);
	} else {
		buf why;
		buf_init(&why, 512);
		if (!conf_valid(k, args[1], &why)) {
			fprintf(stderr, "kiji config: %s: %s\n", args[0], buf_cstr(&why));
			rc = EXIT_USAGE;
		} else if (store_setting_set(st, args[0], args[1]) != STORE_OK) {
			fprintf(stderr, "kiji config: could not save %s\n", args[0]);
			rc = 1;
		}
		buf_free(&why);
	}
	conf_free(conf);
	store_close(st);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("kiji %s\n", KIJI_VERSION);
		return 0;
	}
	/* Subcommands see argv from their own name on. */
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "demo") == 0)
		return cmd_demo(argc - 1, argv + 1);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(argc - 1, argv + 1);
	if (strcmp(cmd, "comments") == 0)
		return cmd_comments(argc - 1, argv + 1);
	fprintf(stderr, "kiji: unknown command %s (see 'kiji --help')\n", cmd);
	return EXIT_USAGE;
}
