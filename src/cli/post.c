/*
 * kiji post: articles written as Markdown files with front matter.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../content/content.h"
#include "cli.h"

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

int
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
			int k = parse_choice("post", "--status", names, 5, optarg);
			status = (enum store_status)k; /* "all" is STATUS__MAX */
			status_given = true;
			break;
		}
		case 'h': fputs(usage_post, stdout); return 0;
		default: die_getopt("post", c, argv);
		}
	}
	need_db("post", db);
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
