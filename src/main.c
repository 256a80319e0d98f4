/*
 * kiji command line: serve, demo, config. Each subcommand parses its own
 * flags (getopt_long); a bad flag or value is one line on stderr and exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "admin/admin.h"
#include "content/content.h"
#include "http/http.h"
#include "jobs/jobs.h"
#include "net/net.h"
#include "net/send.h"
#include "port/port.h"
#include "site/site.h"
#include "store/store.h"
#include "sys/sys.h"
#include "text/text.h"

#define KIJI_VERSION "0.1.0"

enum { EXIT_USAGE = 2 };

#define DEMO_PASSWORD_LEN 16 /* the demo admin's first password */

static const char usage_main[] =
    "usage: kiji <command> [options]\n"
    "\n"
    "commands:\n"
    "  init      create an empty site\n"
    "  serve     serve a site over HTTP\n"
    "  demo      write a deterministic synthetic demo site\n"
    "  config    read and change settings (get, set, list)\n"
    "  comments  moderate comments (list, approve, spam, delete)\n"
    "  post      write articles from Markdown files (new, edit, get, list)\n"
    "  user      manage editor accounts (add, list, passwd, role, disable)\n"
    "  import-wxr  import a WordPress export (WXR) into a site\n"
    "  export-wxr  write the site as a WordPress export (WXR) to stdout\n"
    "  pings     list the TrackBacks, Pingbacks and Webmentions sent\n"
    "  backup    copy a site while it is served\n"
    "  restore   replace a stopped site with a backup\n"
    "\n"
    "Run 'kiji <command> --help' for a command's options. --db FILE may\n"
    "stand anywhere on the line; every command but init and demo needs\n"
    "an existing FILE.\n"
    "kiji --version prints the version.\n";

static const char usage_serve[] =
    "usage: kiji serve --db FILE [--listen ADDR:PORT] [--theme DIR]\n"
    "                  [--user NAME] [--no-sandbox]\n"
    "\n"
    "Serves the site stored in FILE (an SQLite database made by 'kiji init'\n"
    "or 'kiji demo') until SIGINT or SIGTERM. A background thread runs due jobs\n"
    "(scheduled articles go live on time; the links of a published\n"
    "article are notified by Webmention, Pingback or TrackBack; received\n"
    "Webmentions are checked). TrackBacks and Pingbacks are received and\n"
    "checked as they come.\n"
    "\n"
    "  --db FILE           the site's database (required)\n"
    "  --listen ADDR:PORT  address to bind (default 127.0.0.1:8080;\n"
    "                      IPv6 as [::1]:8080)\n"
    "  --theme DIR         read templates/ and static/ from DIR instead of\n"
    "                      the theme compiled into the binary\n"
    "  --user NAME         started as root: bind, then run as NAME for good\n"
    "                      (refused, exit 2, when NAME cannot write FILE,\n"
    "                      its -wal/-shm files or their directory)\n"
    "  --no-sandbox        no Landlock sandbox (for debugging); by default\n"
    "                      writes go only to FILE's directory and reads only\n"
    "                      to what kiji needs (see README, Security)\n"
    "  -h, --help          this help\n";

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

/* The command being run, for messages from shared helpers. */
static const char *cli_cmd = "kiji";

/* Opens (creating when missing: init and demo only) and migrates. */
static store *
open_store_new(const char *path)
{
	buf err;
	buf_init(&err, 4096);
	store *st = store_open(path, &err);
	if (st == NULL)
		fprintf(stderr, "kiji: %s: %s\n", path, buf_cstr(&err));
	buf_free(&err);
	return st;
}

/* Every command but init and demo works on an existing site: a typo in
 * --db must not quietly create an empty one (exit 2). */
static void
require_site(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) != 0 && errno == ENOENT) {
		fprintf(stderr, "kiji %s: %s: no such site (create one with "
		    "'kiji init --db %s')\n", cli_cmd, path, path);
		exit(EXIT_USAGE);
	}
}

static store *
open_store(const char *path)
{
	require_site(path);
	return open_store_new(path);
}

/* The background jobs `kiji serve` runs: the runner's own kinds plus the
 * ones layers above it define (pings out and in). */
static const struct jobs_kind_def serve_jobs[] = {
	{"publish", jobs_publish},
	{"pings", net_send_pings}, /* an article's links → one "ping" each */
	{"ping", net_send_ping},   /* notify one link target */
	{"webmention", site_job_webmention}, /* verify one received */
	{"privacy", site_job_privacy}, /* daily: old commenters' IPs erased */
};

/*
 * The start of kiji serve that makes it hard to misuse (src/sys/): bind
 * while still root, give root up for good (--user), check the database as
 * that user, then the Landlock sandbox, all before the store and the site
 * start their threads (Landlock confines the threads started after it).
 * 0 with the bound socket in *lfd, or the exit status after saying why.
 */
static int
serve_harden(const char *user, const char *db, const char *theme,
    bool sandbox, const char *listen, int *lfd, buf *err)
{
	struct sys_user su;
	int abi = 0;
	if (user != NULL && sys_user_find(user, &su, err) != SYS_OK)
		die_usage("serve", "%s", buf_cstr(err));
	if ((*lfd = http_bind(listen, err)) < 0) {
		fprintf(stderr, "kiji: %s\n", buf_cstr(err));
		return 1;
	}
	if (user != NULL && sys_user_become(&su, err) != SYS_OK) {
		fprintf(stderr, "kiji serve: --user %s: %s\n", user,
		    buf_cstr(err));
		return 1;
	}
	if (user != NULL && !store_writable(db, err)) {
		fprintf(stderr, "kiji serve: %s: %s\n", db, buf_cstr(err));
		return EXIT_USAGE;
	}
	enum sys_err e = !sandbox ? SYS_OK : sys_sandbox_enter(
	    &(struct sys_sandbox){.db = db, .theme = theme}, &abi, err);
	if (e == SYS_UNSUPPORTED) {
		fprintf(stderr, "kiji: warning: no sandbox: %s\n", buf_cstr(err));
	} else if (e != SYS_OK) {
		fprintf(stderr, "kiji: sandbox: %s (--no-sandbox runs without "
		    "it)\n", buf_cstr(err));
		return 1;
	} else if (sandbox) {
		fprintf(stderr, "kiji: sandbox: Landlock ABI %d; writes only "
		    "beside %s\n", abi, db);
	}
	buf_reset(err);
#ifdef KIJI_TEST_HOOKS
	sys_test_probe();
#endif
	return 0;
}

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"theme", required_argument, NULL, 't'},
		{"user", required_argument, NULL, 'u'},
		{"no-sandbox", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *listen = "127.0.0.1:8080", *theme = NULL;
	const char *user = NULL;
	bool sandbox = true;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'l': listen = optarg; break;
		case 't': theme = optarg; break;
		case 'u': user = optarg; break;
		case 'S': sandbox = false; break;
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

	require_site(db); /* before binding, dropping root and the sandbox */
	buf err;
	buf_init(&err, 4096);
	int lfd = -1, rc = serve_harden(user, db, theme, sandbox, listen, &lfd,
	    &err);
	store *st = rc == 0 ? open_store(db) : NULL;
	if (st == NULL) {
		if (lfd >= 0)
			close(lfd);
		buf_free(&err);
		return rc ? rc : 1;
	}
	rc = 1;
	http_server *srv = NULL;
	jobs_runner *jobs = NULL;
	site *s = site_new(st, theme, &err);
	if (s == NULL) {
		fprintf(stderr, "kiji: theme: %s\n", buf_cstr(&err));
		goto out;
	}
	struct http_config cfg = {0};
	site_http_config(s, &cfg);
	cfg.listen = listen;
	cfg.listen_fd = lfd; /* bound above; the server owns it now */
	lfd = -1;
	/* Uploads are spooled beside the database (same disk, same owner). */
	char *dbcopy = xstrdup(db);
	cfg.tmp_dir = dirname(dbcopy);
	srv = http_start(&cfg, site_handle, s, &err);
	free(dbcopy);
	if (srv == NULL) {
		fprintf(stderr, "kiji: %s: %s\n", listen, buf_cstr(&err));
		goto out;
	}
	/* Scheduled publishing and other background work, on the clock the
	 * requests use (text_now). */
	jobs = jobs_start(st, &(struct jobs_config){.kinds = serve_jobs,
	    .nkinds = sizeof serve_jobs / sizeof serve_jobs[0]}, &err);
	if (jobs == NULL) {
		fprintf(stderr, "kiji: %s\n", buf_cstr(&err));
		goto out;
	}
	if (site_privacy_schedule(st, text_now()) != STORE_OK)
		fprintf(stderr, "kiji: privacy: cannot schedule the daily job; "
		    "old IP addresses stay until the next start\n");
	fprintf(stderr, "kiji: serving %s on http://%s (Ctrl-C stops)\n", db,
	    listen);
	int sig = 0;
	sigwait(&set, &sig);
	fprintf(stderr, "kiji: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	rc = 0;
out:
	if (lfd >= 0)
		close(lfd);
	site_quiesce(s);
	http_stop(srv);
	jobs_stop(jobs); /* after the job in hand; before the store closes */
	site_free(s);
	store_close(st);
	buf_free(&err);
	return rc;
}

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
	store *st = open_store_new(db);
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
	if (ok)
		ok = demo_admin(st);
	buf_free(&err);
	store_close(st);
	return ok ? 0 : 1;
}

static const char usage_import_wxr[] =
    "usage: kiji import-wxr --db FILE EXPORT.xml [--uploads DIR] [--dry-run]\n"
    "\n"
    "Imports a WordPress export (WXR 1.0-1.2, Tools > Export in WordPress)\n"
    "into the site in FILE: posts (published, drafts, scheduled), pages,\n"
    "categories with their hierarchy, tags, authors (as users without a\n"
    "password, role author), featured images, comments with their\n"
    "threads, trackbacks and pingbacks. Bodies are kept as sanitised HTML,\n"
    "[caption] and [gallery] made figures, embeds links, links to the old\n"
    "site's posts, categories, tags and files made kiji URLs; unknown\n"
    "shortcodes stay as text (counted). Attachments keep their original\n"
    "URLs unless --uploads names a copy of the old wp-content/uploads\n"
    "folder: images found there are stored as media (checked, metadata\n"
    "stripped) and their old URLs and attachment pages redirect to them.\n"
    "Nothing is downloaded and no ping or mail is\n"
    "sent. Importing the same file again changes nothing (WordPress ids\n"
    "are kept as legacy ids); a newer export adds and updates what changed.\n"
    "A summary goes to standard error. Exit 1 when the file is broken (not\n"
    "XML, not WXR, truncated, bytes contradicting its encoding, entity\n"
    "declarations): what was imported before stays, and a second run after\n"
    "fixing the file completes it without duplicates.\n"
    "\n"
    "  --db FILE   the site's database (required)\n"
    "  --uploads DIR  the old site's wp-content/uploads folder (a copy)\n"
    "  --dry-run   read the whole file and report the counts; write nothing\n"
    "  -h, --help  this help\n";

static int
cmd_import_wxr(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"dry-run", no_argument, NULL, 'n'},
		{"uploads", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	struct port_wxr_opts o = {0};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'n': o.dry_run = true; break;
		case 'u': o.uploads = optarg; break;
		case 'h': fputs(usage_import_wxr, stdout); return 0;
		case ':': die_usage("import-wxr", "%s needs a value", argv[optind - 1]);
		default: die_usage("import-wxr", "unknown option %s", argv[optind - 1]);
		}
	}
	if (db == NULL)
		die_usage("import-wxr", "--db FILE is required");
	if (optind >= argc)
		die_usage("import-wxr", "say which export file to import");
	if (optind + 1 < argc)
		die_usage("import-wxr", "unexpected argument %s", argv[optind + 1]);
	o.path = argv[optind];
	o.progress = isatty(STDERR_FILENO);
	if (access(o.path, R_OK) != 0) {
		fprintf(stderr, "kiji import-wxr: %s: %s\n", o.path, strerror(errno));
		return 1;
	}
	struct stat up;
	if (o.uploads && (stat(o.uploads, &up) != 0 || !S_ISDIR(up.st_mode))) {
		fprintf(stderr, "kiji import-wxr: --uploads %s: not a folder\n",
		    o.uploads);
		return 1;
	}
	store *st = open_store(db);
	if (st == NULL)
		return 1;
	struct port_wxr_stats stats;
	buf err;
	buf_init(&err, 4096);
	bool ok = port_wxr_import(st, &o, &stats, &err);
	port_wxr_summary(&stats, o.dry_run, stderr);
	if (!ok)
		fprintf(stderr, "kiji import-wxr: stopped: %s\n", buf_cstr(&err));
	buf_free(&err);
	store_close(st);
	return ok ? 0 : 1;
}

static const char usage_export_wxr[] =
    "usage: kiji export-wxr --db FILE [--with-emails] > EXPORT.xml\n"
    "\n"
    "Writes the site in FILE to standard output as a WordPress export (WXR\n"
    "1.2), which WordPress's importer and 'kiji import-wxr' read: authors,\n"
    "categories (parents first), tags, then every post and page (drafts\n"
    "and scheduled ones too; not the trash) with its comments, threads,\n"
    "trackbacks and pingbacks. What WordPress has no place for (the\n"
    "Markdown source, sources, the eyecatch and its credit, like counts)\n"
    "goes along as _kiji_* postmeta, so a kiji site imports it exactly.\n"
    "Without --with-emails, commenters' e-mail and IP addresses and the\n"
    "authors' e-mail addresses are left out (written empty). A summary\n"
    "goes to standard error; exit 1 when the site cannot be read or the\n"
    "output cannot be written.\n"
    "\n"
    "  --db FILE      the site's database (required)\n"
    "  --with-emails  include commenters' e-mail and IP addresses\n"
    "  -h, --help     this help\n";

static int
cmd_export_wxr(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"with-emails", no_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	struct port_export_opts o = {0};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'e': o.with_emails = true; break;
		case 'h': fputs(usage_export_wxr, stdout); return 0;
		case ':': die_usage("export-wxr", "%s needs a value", argv[optind - 1]);
		default: die_usage("export-wxr", "unknown option %s", argv[optind - 1]);
		}
	}
	if (db == NULL)
		die_usage("export-wxr", "--db FILE is required");
	if (optind < argc)
		die_usage("export-wxr", "unexpected argument %s (the export goes "
		    "to standard output)", argv[optind]);
	store *st = open_store(db);
	if (st == NULL)
		return 1;
	struct site_conf *conf = conf_load(st);
	if (conf == NULL) {
		fprintf(stderr, "kiji export-wxr: cannot read the settings\n");
		store_close(st);
		return 1;
	}
	o.title = conf->str[CONF_TITLE];
	o.description = conf->str[CONF_TAGLINE];
	o.base_url = conf->str[CONF_BASE_URL];
	o.lang = conf->str[CONF_LANG];
	o.timezone = conf->str[CONF_TIMEZONE];
	o.generator = "kiji/" KIJI_VERSION;
	o.progress = isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO);
	struct port_export_stats stats;
	buf err;
	buf_init(&err, 4096);
	bool ok = port_wxr_export(st, &o, stdout, &stats, &err);
	if (ok)
		fprintf(stderr, "kiji export-wxr: %lld posts, %lld pages, %lld "
		    "comments, %lld categories, %lld tags, %lld authors%s\n",
		    (long long)stats.posts, (long long)stats.pages,
		    (long long)stats.comments, (long long)stats.categories,
		    (long long)stats.tags, (long long)stats.authors,
		    o.with_emails ? " (with e-mail and IP addresses)" : "");
	else
		fprintf(stderr, "kiji export-wxr: %s\n", buf_cstr(&err));
	buf_free(&err);
	conf_free(conf);
	store_close(st);
	return ok ? 0 : 1;
}

static const char usage_comments[] =
    "usage: kiji comments --db FILE list [--status STATUS] [--limit N]\n"
    "       kiji comments --db FILE approve|spam|delete ID...\n"
    "\n"
    "Moderates reader comments. 'list' shows the newest comments with the\n"
    "given status (pending by default; approved, spam, trash or all),\n"
    "one per line, tab-separated: id, status, \"article N\", date, name,\n"
    "text (cut), article title, IP address, why it is pending (first,\n"
    "ngword, all; ban for a banned poster's spam; - when none).\n"
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
		int64_t total;
		/* The moderation queue's read: with the article's title. */
		if (store_comments_queue(st, status, 0, 0, limit, a, &cs, &n,
		    &total) != STORE_OK) {
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
			buf title;
			buf_init(&title, 1 << 16);
			text_truncate(&title, cs[i].article_title,
			    strlen(cs[i].article_title), 40);
			printf("%lld\t%s\tarticle %lld\t%s\t%s\t%s\t%s\t%s\t%s\n",
			    (long long)cs[i].id, names[cs[i].status],
			    (long long)cs[i].article_id, buf_cstr(&d), cs[i].nickname,
			    buf_cstr(&cut), buf_cstr(&title),
			    *cs[i].ip ? cs[i].ip : "-",
			    *cs[i].pending_reason ? cs[i].pending_reason : "-");
			buf_free(&title);
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

static const char usage_pings[] =
    "usage: kiji pings --db FILE list [--article ID]\n"
    "\n"
    "Lists the notifications sent for the links of published articles\n"
    "(Webmention, else Pingback, else TrackBack, as the target announces),\n"
    "newest first, one per line, tab-separated: article id, status\n"
    "(pending, sent, failed, none: no endpoint), kind (- before\n"
    "discovery), target, attempts, last error (- when none).\n"
    "\n"
    "  --db FILE     the site's database (required)\n"
    "  --article ID  only this article's\n"
    "  -h, --help    this help\n";

#define PINGS_PAGE 500 /* rows read at a time */

static int
cmd_pings(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"article", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	long long article = 0;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'a':
			if (!parse_num(optarg, 1, INT64_MAX, &article))
				die_usage("pings", "'%s' is not an article ID", optarg);
			break;
		case 'h': fputs(usage_pings, stdout); return 0;
		case ':': die_usage("pings", "%s needs a value", argv[optind - 1]);
		default: die_usage("pings", "unknown option %s", argv[optind - 1]);
		}
	}
	if (db == NULL)
		die_usage("pings", "--db FILE is required");
	if (optind >= argc)
		die_usage("pings", "say list");
	if (strcmp(argv[optind], "list") != 0)
		die_usage("pings", "unknown subcommand %s", argv[optind]);
	if (optind + 1 < argc)
		die_usage("pings", "unexpected argument %s", argv[optind + 1]);
	store *st = open_store(db);
	if (st == NULL)
		return 1;
	int rc = 0;
	int64_t total = 0;
	for (int64_t off = 0; rc == 0 && (off == 0 || off < total);
	    off += PINGS_PAGE) {
		arena *a = arena_new(0);
		struct store_ping *ps;
		size_t n;
		if (store_pings_list(st, article, off, PINGS_PAGE, a, &ps, &n,
		    &total) != STORE_OK) {
			fprintf(stderr, "kiji pings: cannot read the pings\n");
			rc = 1;
		}
		for (size_t i = 0; rc == 0 && i < n; i++) {
			const char *k = store_ping_kind_name(ps[i].kind);
			printf("%lld\t%s\t%s\t%s\t%lld\t%s\n",
			    (long long)ps[i].article_id,
			    store_ping_status_name(ps[i].status),
			    k && *k ? k : "-", ps[i].target,
			    (long long)ps[i].attempts,
			    *ps[i].last_error ? ps[i].last_error : "-");
		}
		arena_free(a);
		if (n == 0)
			break;
	}
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

static const char usage_user[] =
    "usage: kiji user --db FILE add NAME --role ROLE [--display-name X]\n"
    "                 [--email E] [--password-stdin]\n"
    "       kiji user --db FILE list\n"
    "       kiji user --db FILE passwd NAME [--password-stdin]\n"
    "       kiji user --db FILE role NAME ROLE\n"
    "       kiji user --db FILE disable|enable NAME\n"
    "\n"
    "Manages the accounts of the admin area (/admin/). NAME is 1 to 40 of\n"
    "a-z 0-9 _ . - ; ROLE is admin (everything), editor (all articles,\n"
    "categories, comments) or author (own articles). A password has at\n"
    "least 10 characters; it is asked twice without echo on a terminal, or\n"
    "read as one line from standard input with --password-stdin. A new\n"
    "password or 'disable' logs the user out everywhere. 'list' prints\n"
    "name, role, display name, e-mail and state, tab-separated.\n"
    "\n"
    "  --db FILE           the site's database (required)\n"
    "  --role ROLE         admin | editor | author (add)\n"
    "  --display-name X    the name shown on articles (default: NAME)\n"
    "  --email E           e-mail address (optional)\n"
    "  --password-stdin    read the password from standard input\n"
    "  -h, --help          this help\n";

/* The terminal settings to put back if a signal ends a no-echo prompt. */
static struct termios user_tty_saved;
static volatile sig_atomic_t user_tty_dirty;

static void
user_tty_restore(int sig)
{
	if (user_tty_dirty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &user_tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Reads one line (without its newline) from stdin into out; false when
 * it is longer than ACCOUNT_PASSWORD_MAX bytes, holds a NUL, or there is
 * no line. On a terminal (prompt not NULL) echo is off before the prompt
 * shows, so nothing typed after it is echoed.
 */
static bool
user_read_line(char *out, size_t cap, const char *prompt)
{
	bool noecho = prompt != NULL;
	struct termios t;
	bool ok = false;
	if (noecho) {
		if (tcgetattr(STDIN_FILENO, &user_tty_saved) != 0)
			return false;
		t = user_tty_saved;
		t.c_lflag &= ~(tcflag_t)ECHO;
		t.c_lflag |= ECHONL;
		signal(SIGINT, user_tty_restore);
		signal(SIGTERM, user_tty_restore);
		signal(SIGTSTP, SIG_IGN);
		user_tty_dirty = 1;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) != 0)
			goto out;
		fputs(prompt, stderr);
		fflush(stderr);
	}
	size_t n = 0;
	int c;
	while ((c = getchar()) != EOF && c != '\n') {
		if (c == '\0' || n + 1 >= cap) {
			/* drain the rest of the line; refuse the whole */
			while ((c = getchar()) != EOF && c != '\n')
				;
			n = cap;
			break;
		}
		out[n++] = (char)c;
	}
	if (n < cap && (c == '\n' || n > 0)) {
		if (n > 0 && out[n - 1] == '\r')
			n--;
		out[n] = '\0';
		ok = true;
	}
out:
	if (noecho) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &user_tty_saved);
		user_tty_dirty = 0;
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGTSTP, SIG_DFL);
	}
	return ok;
}

/* The new password for add/passwd: one line of stdin, or asked twice on
 * the terminal. Exits 2 when it cannot be had. */
static void
user_password(bool from_stdin, char *pw, size_t cap)
{
	if (from_stdin) {
		if (!user_read_line(pw, cap, NULL))
			die_usage("user", "no password line on standard input (at "
			    "most %d bytes)", ACCOUNT_PASSWORD_MAX);
		return;
	}
	if (!isatty(STDIN_FILENO))
		die_usage("user", "standard input is not a terminal: give "
		    "--password-stdin to read the password from it");
	char *again = xmalloc(cap);
	bool ok = user_read_line(pw, cap, "New password: ");
	if (ok)
		ok = user_read_line(again, cap, "Again: ");
	bool same = ok && strcmp(pw, again) == 0;
	sodium_memzero(again, cap);
	free(again);
	if (!ok)
		die_usage("user", "no password given");
	if (!same)
		die_usage("user", "the two passwords differ");
}

/* Account errors that mean "bad value" exit 2; the rest 1. */
static int
user_fail(const char *what, enum account_err e)
{
	fprintf(stderr, "kiji user: %s: %s\n", what, account_strerror(e));
	switch (e) {
	case ACCOUNT_BAD_NAME:
	case ACCOUNT_BAD_DISPLAY:
	case ACCOUNT_BAD_EMAIL:
	case ACCOUNT_BAD_ROLE:
	case ACCOUNT_BAD_PASSWORD:
		return EXIT_USAGE;
	default:
		return 1;
	}
}

static int
cmd_user(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"role", required_argument, NULL, 'r'},
		{"display-name", required_argument, NULL, 'n'},
		{"email", required_argument, NULL, 'e'},
		{"password-stdin", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *role_s = NULL, *display = NULL, *email = NULL;
	bool pw_stdin = false;
	int c;
	opterr = 0;
	/* options may follow the verb and the name: kiji user add bob --role author */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'r': role_s = optarg; break;
		case 'n': display = optarg; break;
		case 'e': email = optarg; break;
		case 'p': pw_stdin = true; break;
		case 'h': fputs(usage_user, stdout); return 0;
		case ':': die_usage("user", "%s needs a value", argv[optind - 1]);
		default: die_usage("user", "unknown option %s", argv[optind - 1]);
		}
	}
	if (db == NULL)
		die_usage("user", "--db FILE is required");
	if (optind >= argc)
		die_usage("user", "say add, list, passwd, role, disable or enable");
	const char *verb = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	enum store_role role = ROLE_AUTHOR;
	bool is_add = strcmp(verb, "add") == 0;
	bool is_passwd = strcmp(verb, "passwd") == 0;
	bool is_role = strcmp(verb, "role") == 0;
	if (strcmp(verb, "list") == 0) {
		if (nargs != 0)
			die_usage("user", "list takes no arguments");
	} else if (is_add || is_passwd || strcmp(verb, "disable") == 0 ||
	    strcmp(verb, "enable") == 0 || is_role) {
		if (nargs != (is_role ? 2 : 1))
			die_usage("user", "%s takes %s", verb,
			    is_role ? "NAME ROLE" : "NAME");
		if (!account_name_valid(args[0]))
			die_usage("user", "bad name '%s': %s", args[0],
			    account_strerror(ACCOUNT_BAD_NAME));
	} else {
		die_usage("user", "unknown subcommand %s", verb);
	}
	if (is_role)
		role_s = args[1];
	if ((is_add || is_role) && role_s == NULL)
		die_usage("user", "--role admin|editor|author is required");
	if (role_s != NULL && (!(is_add || is_role) ||
	    !account_role_parse(role_s, &role)))
		die_usage("user", is_add || is_role
		    ? "the role must be admin, editor or author, not '%s'"
		    : "--role '%s' only goes with add", role_s);
	if ((display != NULL || email != NULL) && !is_add)
		die_usage("user", "--display-name and --email go with add");
	if (email != NULL && !account_email_valid(email))
		die_usage("user", "--email '%s' is not an e-mail address", email);
	if (pw_stdin && !is_add && !is_passwd)
		die_usage("user", "--password-stdin goes with add and passwd");

	/* the password is read (and checked) before the database is touched */
	char *pw = NULL;
	size_t pwcap = ACCOUNT_PASSWORD_MAX + 2;
	if (is_add || is_passwd) {
		pw = xmalloc(pwcap);
		user_password(pw_stdin, pw, pwcap);
	}
	store *st = open_store(db);
	if (st == NULL) {
		free(pw);
		return 1;
	}
	int rc = 0;
	arena *a = arena_new(0);
	struct store_user u;
	enum account_err e = ACCOUNT_OK;
	if (verb[0] == 'l') {
		struct store_user *us;
		size_t n;
		if (store_user_list(st, a, &us, &n) != STORE_OK) {
			fprintf(stderr, "kiji user: cannot read the users\n");
			rc = 1;
		}
		for (size_t i = 0; rc == 0 && i < n; i++)
			printf("%s\t%s\t%s\t%s\t%s\n", us[i].name,
			    account_role_name(us[i].role), us[i].display_name,
			    *us[i].email ? us[i].email : "-",
			    us[i].disabled ? "disabled" : "active");
	} else if (is_add) {
		struct account_new in = {.name = args[0], .display_name = display,
		    .role = role, .email = email, .password = pw};
		e = account_add(st, &in, NULL);
		if (e != ACCOUNT_OK)
			rc = user_fail(args[0], e);
		else
			fprintf(stderr, "kiji user: added %s (%s)\n", args[0],
			    account_role_name(role));
	} else {
		enum store_err se = store_user_by_name(st, args[0], a, &u);
		if (se != STORE_OK) {
			rc = user_fail(args[0], se == STORE_NOTFOUND
			    ? ACCOUNT_NOTFOUND : ACCOUNT_STORE);
		} else {
			e = is_passwd ? account_set_password(st, u.id, pw)
			    : is_role ? account_set_role(st, u.id, role)
			    : account_set_disabled(st, u.id, verb[0] == 'd');
			if (e != ACCOUNT_OK)
				rc = user_fail(args[0], e);
			else if (is_passwd)
				fprintf(stderr, "kiji user: new password for %s; "
				    "its sessions have ended\n", args[0]);
		}
	}
	if (pw != NULL) {
		sodium_memzero(pw, pwcap);
		free(pw);
	}
	arena_free(a);
	store_close(st);
	return rc;
}

static const char usage_init[] =
    "usage: kiji init --db FILE [--title T] [--base-url URL]\n"
    "\n"
    "Creates an empty site in FILE, a new SQLite database (mode 0600); an\n"
    "existing FILE is refused. Then add an account ('kiji user add'),\n"
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

static int
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
		case ':': die_usage("init", "%s needs a value", argv[optind - 1]);
		default: die_usage("init", "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("init", "unexpected argument %s", argv[optind]);
	if (db == NULL)
		die_usage("init", "--db FILE is required");
	init_setting_check("site.title", title);
	init_setting_check("site.base_url", base);
	/* O_EXCL: never a site over an existing file, even an empty one */
	int fd = open(db, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "kiji init: %s: %s\n", db, errno == EEXIST ?
		    "already exists (kiji init only creates new sites)" :
		    strerror(errno));
		return errno == EEXIST ? EXIT_USAGE : 1;
	}
	close(fd);
	store *st = open_store_new(db);
	bool ok = st != NULL;
	if (ok && title != NULL)
		ok = store_setting_set(st, "site.title", title) == STORE_OK;
	if (ok && base != NULL)
		ok = store_setting_set(st, "site.base_url", base) == STORE_OK;
	store_close(st);
	if (!ok) {
		char p[PATH_MAX];
		fprintf(stderr, "kiji init: could not create the site in %s\n", db);
		unlink(db);
		snprintf(p, sizeof(p), "%s-wal", db);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", db);
		unlink(p);
		return 1;
	}
	fprintf(stderr, "kiji init: created an empty site in %s\n", db);
	return 0;
}

static const char usage_backup[] =
    "usage: kiji backup --db FILE [--force] [--without-addresses] OUT.db\n"
    "\n"
    "Copies the site in FILE to OUT.db (mode 0600) while it is being served:\n"
    "one consistent snapshot, images included (they live in the database);\n"
    "writers are not held up. The copy holds everything the database holds,\n"
    "commenters' e-mail and IP addresses too: keep it as safe as FILE.\n"
    "\n"
    "  --db FILE             the site's database (required)\n"
    "  --force               replace OUT.db if it exists\n"
    "  --without-addresses   blank commenters' e-mail and IP addresses in\n"
    "                        the copy (a restore then lacks them)\n"
    "  -h, --help            this help\n";

static const char usage_restore[] =
    "usage: kiji restore --db FILE BACKUP.db\n"
    "\n"
    "Replaces the site in FILE (created if missing) with BACKUP.db, made by\n"
    "'kiji backup'. BACKUP.db must pass SQLite's integrity check and come\n"
    "from this kiji or an older one (it is migrated). Refused while a kiji\n"
    "server (or another kiji command) has FILE open: stop it first.\n"
    "\n"
    "  --db FILE   the site's database (required)\n"
    "  -h, --help  this help\n";

/* kiji backup and kiji restore: the store does the work (store_backup,
 * store_restore); exit 1 with its reason on failure. */
static int
cmd_backup_restore(int argc, char **argv, bool restore)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"force", no_argument, NULL, 'f'},
		{"without-addresses", no_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = restore ? "restore" : "backup", *db = NULL;
	struct store_backup_opts o = {0};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'f': o.force = true; break;
		case 'w': o.without_addresses = true; break;
		case 'h': fputs(restore ? usage_restore : usage_backup, stdout);
			return 0;
		case ':': die_usage(cmd, "%s needs a value", argv[optind - 1]);
		default: die_usage(cmd, "unknown option %s", argv[optind - 1]);
		}
	}
	if (restore && (o.force || o.without_addresses))
		die_usage(cmd, "--force and --without-addresses are backup options");
	if (db == NULL)
		die_usage(cmd, "--db FILE is required");
	if (optind + 1 != argc)
		die_usage(cmd, "say one %s file", restore ? "BACKUP.db" : "OUT.db");
	const char *file = argv[optind];
	struct stat sb;
	if (!restore && stat(db, &sb) != 0) {
		fprintf(stderr, "kiji backup: %s: no such site\n", db);
		return EXIT_USAGE;
	}
	buf err;
	buf_init(&err, 4096);
	enum store_err e = restore ? store_restore(db, file, &err) :
	    store_backup(db, file, &o, &err);
	if (e == STORE_OK && restore) {
		store *st = open_store(db); /* migrates an older backup */
		e = st != NULL ? STORE_OK : STORE_ERROR;
		store_close(st);
	}
	if (e != STORE_OK && err.len > 0)
		fprintf(stderr, "kiji %s: %s\n", cmd, buf_cstr(&err));
	else if (e == STORE_OK)
		fprintf(stderr, "kiji %s: %s %s\n", cmd, restore ?
		    "restored from" : "copied to", file);
	buf_free(&err);
	return e == STORE_OK ? 0 : e == STORE_CONFLICT ? EXIT_USAGE : 1;
}

static const char usage_post[] =
    "usage: kiji post --db FILE new FILE.md\n"
    "       kiji post --db FILE edit ID FILE.md\n"
    "       kiji post --db FILE get ID\n"
    "       kiji post --db FILE list [--status S]\n"
    "\n"
    "Writes articles from Markdown files with YAML front matter between\n"
    "'---' lines: title, slug, kind (post|page), status (draft|scheduled|\n"
    "published), date (ISO 8601 with an offset, e.g.\n"
    "2026-12-03T09:00:00+09:00; required for scheduled), author (a login\n"
    "name), category (a slug), tags (a list), sources (a list of {title,\n"
    "url}), eyecatch (a /media/ or http(s) URL, or an image file to\n"
    "upload, relative to FILE.md), credit, excerpt, comments (true|false),\n"
    "format (markdown|html), parent (a page's parent page: an id, or a\n"
    "path like about/company); then the body. 'new' prints the new article's\n"
    "id; 'edit' replaces what the file gives and keeps the rest; 'get'\n"
    "prints an article in the same format; 'list' prints id, status,\n"
    "kind, date, slug and title, tab-separated, newest first. A bad file\n"
    "or field is reported as FILE.md:LINE: field: why (exit 2).\n"
    "\n"
    "  --db FILE    the site's database (required)\n"
    "  --status S   draft | scheduled | published | trash | all (list;\n"
    "               default: all but the trash)\n"
    "  -h, --help   this help\n";

/* A content error as an exit status: the file's fault 2, else 1. */
static int
post_exit(enum content_err ce, buf *err)
{
	if (ce == CONTENT_OK)
		return 0;
	if (ce == CONTENT_INVALID)
		fprintf(stderr, "%s\n", buf_cstr(err)); /* FILE:LINE: ... */
	else
		fprintf(stderr, "kiji post: %s\n", buf_cstr(err));
	return ce == CONTENT_INVALID ? EXIT_USAGE : 1;
}

static int
cmd_post(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"status", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const names[] = {"draft", "scheduled", "published",
	    "trash", "all"};
	const char *db = NULL;
	enum store_status status = STATUS__MAX;
	bool status_given = false;
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
				die_usage("post", "--status must be draft, scheduled, published, trash or all, not '%s'", optarg);
			status = (enum store_status)k; /* "all" is STATUS__MAX */
			status_given = true;
			break;
		}
		case 'h': fputs(usage_post, stdout); return 0;
		case ':': die_usage("post", "%s needs a value", argv[optind - 1]);
		default: die_usage("post", "unknown option %s", argv[optind - 1]);
		}
	}
	if (db == NULL)
		die_usage("post", "--db FILE is required");
	if (optind >= argc)
		die_usage("post", "say new, edit, get or list");
	const char *verb = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	long long id = 0;
	int want = strcmp(verb, "new") == 0 ? 1 : strcmp(verb, "edit") == 0 ? 2
	    : strcmp(verb, "get") == 0 ? 1 : strcmp(verb, "list") == 0 ? 0 : -1;
	if (want < 0)
		die_usage("post", "unknown subcommand %s", verb);
	if (nargs != want)
		die_usage("post", "%s takes %s", verb, want == 0 ? "no arguments"
		    : verb[0] == 'n' ? "FILE.md" : verb[0] == 'e' ? "ID FILE.md"
		    : "ID");
	if ((verb[0] == 'e' || verb[0] == 'g') &&
	    !parse_num(args[0], 1, INT64_MAX, &id))
		die_usage("post", "'%s' is not an article ID", args[0]);
	if (status_given && verb[0] != 'l')
		die_usage("post", "--status goes with list");
	store *st = open_store(db);
	if (st == NULL)
		return 1;
	buf err, out;
	buf_init(&err, 8192);
	buf_init(&out, 0);
	enum content_err ce;
	int64_t saved = 0;
	if (verb[0] == 'n' || verb[0] == 'e') {
		ce = content_post_save(st, args[nargs - 1], id, text_now(), &saved,
		    &err);
		if (ce == CONTENT_OK)
			printf("%lld\n", (long long)saved);
	} else if (verb[0] == 'g') {
		ce = content_post_get(st, id, &out, &err);
		if (ce == CONTENT_OK)
			fwrite(out.ptr ? out.ptr : "", 1, out.len, stdout);
	} else {
		ce = content_post_list(st, status, stdout);
		if (ce != CONTENT_OK)
			buf_puts(&err, "cannot read the articles");
	}
	int rc = post_exit(ce, &err);
	buf_free(&err);
	buf_free(&out);
	store_close(st);
	return rc;
}

/*
 * `--db FILE` may stand anywhere on the line, before the command name or
 * after it: every `--db FILE` and `--db=FILE` (up to a "--") moves to
 * just after the command name, where the command's getopt meets it first
 * (also those that stop at their first operand). Returns false when no
 * command name is left.
 */
static bool
cli_hoist_db(int argc, char **argv)
{
	char **rest = xcalloc((size_t)argc + 1, sizeof(*rest));
	char **dbs = xcalloc((size_t)argc + 1, sizeof(*dbs));
	int nr = 0, nd = 0;
	bool end = false;
	for (int i = 1; i < argc; i++) {
		end = end || strcmp(argv[i], "--") == 0;
		if (!end && strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			dbs[nd++] = argv[i];
			dbs[nd++] = argv[++i];
		} else if (!end && strncmp(argv[i], "--db=", 5) == 0) {
			dbs[nd++] = argv[i];
		} else {
			rest[nr++] = argv[i];
		}
	}
	int k = 1;
	if (nr > 0)
		argv[k++] = rest[0];
	for (int i = 0; i < nd; i++)
		argv[k++] = dbs[i];
	for (int i = 1; i < nr; i++)
		argv[k++] = rest[i];
	free(rest);
	free(dbs);
	return nr > 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2 || !cli_hoist_db(argc, argv)) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	cli_cmd = cmd;
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("kiji %s\n", KIJI_VERSION);
		return 0;
	}
	/* A write past RLIMIT_FSIZE must fail (EFBIG: the store answers
	 * STORE_FULL) rather than kill the process. */
	signal(SIGXFSZ, SIG_IGN);
	/* libcurl's global state, set up once before any thread starts */
	if (!net_init()) {
		fputs("kiji: libcurl initialisation failed\n", stderr);
		return 1;
	}
	atexit(net_cleanup);
	/* Subcommands see argv from their own name on. */
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(cmd, "post") == 0)
		return cmd_post(argc - 1, argv + 1);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "demo") == 0)
		return cmd_demo(argc - 1, argv + 1);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(argc - 1, argv + 1);
	if (strcmp(cmd, "comments") == 0)
		return cmd_comments(argc - 1, argv + 1);
	if (strcmp(cmd, "import-wxr") == 0)
		return cmd_import_wxr(argc - 1, argv + 1);
	if (strcmp(cmd, "export-wxr") == 0)
		return cmd_export_wxr(argc - 1, argv + 1);
	if (strcmp(cmd, "user") == 0)
		return cmd_user(argc - 1, argv + 1);
	if (strcmp(cmd, "pings") == 0)
		return cmd_pings(argc - 1, argv + 1);
	if (strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0)
		return cmd_backup_restore(argc - 1, argv + 1, cmd[0] == 'r');
	fprintf(stderr, "kiji: unknown command %s (see 'kiji --help')\n", cmd);
	return EXIT_USAGE;
}
