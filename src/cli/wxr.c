/*
 * kiji import-wxr and kiji export-wxr: moving to and from WordPress.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../port/port.h"
#include "../site/site.h"
#include "cli.h"

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

int
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
		default: die_getopt("import-wxr", c, argv);
		}
	}
	need_db("import-wxr", db);
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

int
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
		default: die_getopt("export-wxr", c, argv);
		}
	}
	need_db("export-wxr", db);
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
