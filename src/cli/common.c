/*
 * The helpers every command shares: usage errors, numbers, opening
 * the site's database.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* One-line usage error: exit 2 as documented. */
_Noreturn void
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

_Noreturn void
die_getopt(const char *cmd, int c, char **argv)
{
	if (c == ':')
		die_usage(cmd, "%s needs a value", argv[optind - 1]);
	die_usage(cmd, "unknown option %s", argv[optind - 1]);
}

void
need_db(const char *cmd, const char *db)
{
	if (db == NULL)
		die_usage(cmd, "--db FILE or --db postgresql://... is required");
}

/* See cli.h: one of two buffers, so two can be in one message. */
const char *
db_shown(const char *db)
{
	static _Thread_local char b[2][512];
	static _Thread_local int i;
	i ^= 1;
	return store_url_safe(db, b[i], sizeof b[i]);
}

int
parse_choice(const char *cmd, const char *flag, const char *const *names,
    int n, const char *arg)
{
	char list[256]; /* on the stack: die_usage exits, nothing to free */
	size_t len = 0;
	for (int k = 0; k < n; k++)
		if (strcmp(names[k], arg) == 0)
			return k;
	list[0] = '\0';
	for (int k = 0; k < n && len < sizeof list; k++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
		    names[k], k == n - 1 ? "" : k == n - 2 ? " or " : ", ");
	die_usage(cmd, "%s must be %s, not '%s'", flag, list, arg);
}

/* Parses a whole decimal number in [min, max]. */
bool
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
const char *cli_cmd = "kiji";

/* Opens (creating when missing: init and demo only) and migrates. */
store *
open_store_new(const char *path)
{
	buf err;
	buf_init(&err, 4096);
	store *st = store_open(path, &err);
	if (st == NULL)
		fprintf(stderr, "kiji: %s: %s\n", db_shown(path), buf_cstr(&err));
	buf_free(&err);
	return st;
}

/* Every command but init and demo works on an existing site: a typo in
 * --db must not quietly create an empty one (exit 2). A SQLite file must
 * exist; a PostgreSQL database must hold kiji's schema (it is looked at
 * without writing: store_open_inspect), and one that cannot be reached
 * is exit 1. */
void
require_site(const char *path)
{
	struct stat sb;
	const char *file = store_file(path);
	if (file != NULL) {
		if (stat(file, &sb) != 0 && errno == ENOENT) {
			fprintf(stderr, "kiji %s: %s: no such site (create one "
			    "with 'kiji init --db %s')\n", cli_cmd, path, path);
			exit(EXIT_USAGE);
		}
		return;
	}
	struct store_facts f;
	buf err;
	buf_init(&err, 1024);
	store *st = store_open_inspect(path, &f, &err);
	if (st == NULL) {
		if (f.backend[0]) /* reached, no site */
			fprintf(stderr, "kiji %s: %s: %s (create one with 'kiji "
			    "init --db URL')\n", cli_cmd, db_shown(path),
			    buf_cstr(&err));
		else /* the message names the URL */
			fprintf(stderr, "kiji %s: %s\n", cli_cmd, buf_cstr(&err));
		exit(f.backend[0] ? EXIT_USAGE : 1);
	}
	store_close(st);
	buf_free(&err);
}

store *
open_store(const char *path)
{
	require_site(path);
	return open_store_new(path);
}
