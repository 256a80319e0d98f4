/*
 * kiji serve: bind (or take systemd's socket), harden (src/sys/), start the
 * site, the HTTP server and the jobs runner; at SIGINT or SIGTERM drain
 * gracefully (serve_life.c) and stop.
 */
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "../mail/mail.h"
#include "../net/send.h"
#include "../site/site.h"
#include "../sys/sys.h"
#include "cli.h"
#include "serve_life.h"

static const char usage_serve[] =
    "usage: kiji serve --db FILE [--listen ADDR:PORT] [--theme DIR]\n"
    "                  [--user NAME] [--no-sandbox] [--drain-timeout S]\n"
    "                  [--takeover] [--metrics-listen ADDR:PORT]\n"
    "\n"
    "Serves the site stored in FILE (an SQLite database made by 'kiji init'\n"
    "or 'kiji demo', or a postgresql:// URL) until SIGINT or SIGTERM, then\n"
    "stops gracefully: no new connections, idle ones closed, requests in\n"
    "flight answered (with Connection: close), event streams ended with a\n"
    "retry hint, comments written, then exit 0. A background thread runs\n"
    "due jobs (scheduled articles go live on time; the links of a published\n"
    "article are notified by Webmention, Pingback or TrackBack; received\n"
    "Webmentions are checked; reply notification mails are sent, see\n"
    "mail.smtp_url). TrackBacks and Pingbacks are received and\n"
    "checked as they come. SIGHUP reopens the access log (log.access_file)\n"
    "and reads the --theme directory again.\n"
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
    "                      writes go only to FILE's directory ($TMPDIR and\n"
    "                      KIJI_MAIL_KEY_FILE's for PostgreSQL) and reads only\n"
    "                      to what kiji needs (see README, Security)\n"
    "  --drain-timeout S   at a stop, wait at most S seconds for requests\n"
    "                      in flight (default 10, 0..3600)\n"
    "  --takeover          bind ADDR:PORT even though a server listens\n"
    "                      there: a kiji about to be stopped, which drains\n"
    "                      while this one takes the new connections\n"
    "                      (SO_REUSEPORT)\n"
    "  --metrics-listen ADDR:PORT  also serve /metrics, /healthz and /readyz\n"
    "                      (and nothing else) on this address, to anyone\n"
    "                      who reaches it (metrics.allow is not applied)\n"
    "  -h, --help          this help\n"
    "\n"
    "Under systemd: a socket passed by socket activation (LISTEN_FDS, one\n"
    "TCP listening socket) is served instead of --listen; with\n"
    "NOTIFY_SOCKET set, READY=1, STOPPING=1 and (WatchdogSec=) WATCHDOG=1\n"
    "are sent, the last only while the event loops are seen turning.\n";

/* The background jobs `kiji serve` runs: the runner's own kinds plus the
 * ones layers above it define (pings out and in). */
static const struct jobs_kind_def serve_jobs[] = {
	{"publish", jobs_publish},
	{"pings", net_send_pings}, /* an article's links → one "ping" each */
	{"ping", net_send_ping},   /* notify one link target */
	{"webmention", site_job_webmention}, /* verify one received */
	{"privacy", site_job_privacy}, /* daily: old commenters' IPs erased */
	{"mail-confirm", site_job_mail_confirm}, /* reply notifications */
	{"mail-replies", site_job_mail_replies},
	{"mail-owner", site_job_mail_owner},
};

/* Where uploads are spooled when the database is a server's, not a
 * file to spool beside: $TMPDIR, else /tmp (systemd's PrivateTmp= makes
 * that the service's own). */
static const char *
serve_spool_dir(void)
{
	const char *t = getenv("TMPDIR");
	return t != NULL && t[0] == '/' ? t : "/tmp";
}

/*
 * The start of kiji serve that makes it hard to misuse (src/sys/): bind
 * while still root, give root up for good (--user), check the database as
 * that user, then the Landlock sandbox, all before the store and the site
 * start their threads (Landlock confines the threads started after it).
 * 0 with the bound socket in *lfd, or the exit status after saying why.
 */
static int
serve_harden(const char *user, const char *db, const char *theme,
    bool sandbox, const char *listen, bool takeover, int *lfd, char *name,
    buf *err)
{
	struct sys_user su;
	int abi = 0;
	if (user != NULL && sys_user_find(user, &su, err) != SYS_OK)
		die_usage("serve", "%s", buf_cstr(err));
	int rc = serve_listen(listen, takeover, lfd, name, SERVE_LISTEN_NAME,
	    err);
	if (rc != 0)
		return rc;
	if (user != NULL && sys_user_become(&su, err) != SYS_OK) {
		fprintf(stderr, "kiji serve: --user %s: %s\n", user,
		    buf_cstr(err));
		return 1;
	}
	const char *file = store_file(db);
	if (user != NULL && file != NULL && !store_writable(file, err)) {
		fprintf(stderr, "kiji serve: %s: %s\n", file, buf_cstr(err));
		return EXIT_USAGE;
	}
	char *logf = sandbox ? site_access_log_file(db) : NULL;
	struct sys_sandbox sb = {.db = file, .theme = theme, .log_file = logf};
	if (file == NULL) {
		sb.spool = serve_spool_dir();
		sb.mail_key = getenv(MAIL_KEY_ENV);
	}
	enum sys_err e = !sandbox ? SYS_OK : sys_sandbox_enter(&sb, &abi, err);
	free(logf);
	if (e == SYS_UNSUPPORTED) {
		fprintf(stderr, "kiji: warning: no sandbox: %s\n", buf_cstr(err));
	} else if (e != SYS_OK) {
		fprintf(stderr, "kiji: sandbox: %s (--no-sandbox runs without "
		    "it)\n", buf_cstr(err));
		return 1;
	} else if (sandbox && file != NULL) {
		fprintf(stderr, "kiji: sandbox: Landlock ABI %d; writes only "
		    "beside %s\n", abi, file);
	} else if (sandbox) {
		fprintf(stderr, "kiji: sandbox: Landlock ABI %d; writes only "
		    "in %s%s%s\n", abi, sb.spool, sb.mail_key ? " and beside " :
		    "", sb.mail_key ? sb.mail_key : "");
	}
	buf_reset(err);
#ifdef KIJI_TEST_HOOKS
	sys_test_probe();
#endif
	return 0;
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"theme", required_argument, NULL, 't'},
		{"user", required_argument, NULL, 'u'},
		{"no-sandbox", no_argument, NULL, 'S'},
		{"drain-timeout", required_argument, NULL, 'D'},
		{"takeover", no_argument, NULL, 'T'},
		{"metrics-listen", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *listen = "127.0.0.1:8080", *theme = NULL;
	const char *user = NULL, *mlisten = NULL;
	bool sandbox = true, takeover = false;
	long long drain_s = SERVE_DRAIN_DEFAULT;
	char name[SERVE_LISTEN_NAME];
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'l': listen = optarg; break;
		case 't': theme = optarg; break;
		case 'u': user = optarg; break;
		case 'S': sandbox = false; break;
		case 'T': takeover = true; break;
		case 'm': mlisten = optarg; break;
		case 'D':
			if (!parse_num(optarg, 0, 3600, &drain_s))
				die_usage("serve", "--drain-timeout: want 0..3600 "
				    "seconds, not '%s'", optarg);
			break;
		case 'h': fputs(usage_serve, stdout); return 0;
		default: die_getopt("serve", c, argv);
		}
	}
	if (optind < argc)
		die_usage("serve", "unexpected argument %s", argv[optind]);
	need_db("serve", db);

	/* Block the stop signals in every thread; main waits for them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP); /* reopen logs, re-read the theme */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	require_site(db); /* before binding, dropping root and the sandbox */
	buf err;
	buf_init(&err, 4096);
	int mfd = mlisten ? http_bind(mlisten, &err) : -1;
	if (mlisten && mfd < 0) {
		fprintf(stderr, "kiji: --metrics-listen: %s\n", buf_cstr(&err));
		buf_free(&err);
		return 1;
	}
	int lfd = -1, rc = serve_harden(user, db, theme, sandbox, listen,
	    takeover, &lfd, name, &err);
	store *st = rc == 0 ? open_store(db) : NULL;
	if (st == NULL) {
		if (lfd >= 0)
			close(lfd);
		if (mfd >= 0)
			close(mfd);
		buf_free(&err);
		return rc ? rc : 1;
	}
	rc = 1;
	http_server *srv = NULL, *msrv = NULL;
	jobs_runner *jobs = NULL;
	sys_watchdog *wd = NULL;
	site *s = site_new(st, theme, &err);
	if (s == NULL) {
		fprintf(stderr, "kiji: theme: %s\n", buf_cstr(&err));
		goto out;
	}
	if (!site_observe_start(s, &err)) {
		fprintf(stderr, "kiji: access log: %s\n", buf_cstr(&err));
		goto out;
	}
	struct http_config cfg = {0};
	site_http_config(s, &cfg);
	cfg.listen = name; /* --listen, or systemd's socket */
	cfg.listen_fd = lfd; /* bound above; the server owns it now */
	lfd = -1;
	/* Uploads are spooled beside the database (same disk, same owner),
	 * or in the temporary directory for PostgreSQL. */
	char *dbcopy = xstrdup(store_file(db) ? store_file(db) :
	    serve_spool_dir());
	cfg.tmp_dir = store_file(db) ? dirname(dbcopy) : dbcopy;
	srv = http_start(&cfg, site_handle, s, &err);
	free(dbcopy);
	if (srv == NULL) {
		fprintf(stderr, "kiji: %s: %s\n", name, buf_cstr(&err));
		goto out;
	}
	if (mfd >= 0 && (msrv = site_metrics_start(s, mlisten, mfd, &err)) ==
	    NULL) {
		mfd = -1; /* the server closed it */
		fprintf(stderr, "kiji: %s: %s\n", mlisten, buf_cstr(&err));
		goto out;
	}
	mfd = -1;
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
	fprintf(stderr, "kiji: serving %s on http://%s (Ctrl-C stops)\n",
	    db_shown(db), name);
	wd = serve_ready(srv, db_shown(db), name);
	int sig = 0;
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		site_on_sighup(s);
	serve_drain(srv, sig, (unsigned)drain_s);
	rc = 0;
out:
	if (lfd >= 0)
		close(lfd);
	if (mfd >= 0)
		close(mfd);
	sys_watchdog_stop(wd);
	site_quiesce(s);
	http_stop(msrv);
	http_stop(srv);
	site_observe_stop(s);
	jobs_stop(jobs); /* after the job in hand; before the store closes */
	site_free(s);
	store_close(st);
	buf_free(&err);
	return rc;
}
