/*
 * kiji comments and kiji pings: moderation and sent pings from the
 * command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

int
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
			int k = parse_choice("comments", "--status", names, 5, optarg);
			status = k == 4 ? CSTATUS__MAX : (enum store_cstatus)k;
			break;
		}
		case 'l':
			if (!parse_num(optarg, 1, 10000, &limit))
				die_usage("comments", "--limit must be 1..10000, not '%s'", optarg);
			break;
		case 'h': fputs(usage_comments, stdout); return 0;
		default: die_getopt("comments", c, argv);
		}
	}
	need_db("comments", db);
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

int
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
		default: die_getopt("pings", c, argv);
		}
	}
	need_db("pings", db);
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
