/*
 * kiji backup and kiji restore: consistent copies of a served site.
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"

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
    "                        the copy and drop reply-mail subscribers (a\n"
    "                        restore then lacks them)\n"
    "  -h, --help            this help\n"
    "\n"
    "A PostgreSQL site (--db postgresql://...) is backed up with pg_dump;\n"
    "kiji backup says how and copies nothing.\n";

static const char usage_restore[] =
    "usage: kiji restore --db FILE BACKUP.db\n"
    "\n"
    "Replaces the site in FILE (created if missing) with BACKUP.db, made by\n"
    "'kiji backup'. BACKUP.db must pass SQLite's integrity check and come\n"
    "from this kiji or an older one (it is migrated). Refused while a kiji\n"
    "server (or another kiji command) has FILE open: stop it first.\n"
    "\n"
    "  --db FILE   the site's database (required)\n"
    "  -h, --help  this help\n"
    "\n"
    "A PostgreSQL site is restored with pg_restore; kiji restore says how.\n";

/* A PostgreSQL site is backed up and restored with PostgreSQL's own
 * tools, which know its roles, its sequences and its consistency far
 * better than a copy made here would: say how, exit 2. */
static int
backup_pg(const char *cmd, const char *url, bool restore)
{
	fprintf(stderr, "kiji %s: %s is a PostgreSQL database: %s with "
	    "PostgreSQL's tools, e.g.\n"
	    "  pg_dump -Fc -f site.dump '%s'\n"
	    "  pg_restore --clean --if-exists --no-owner -d '%s' site.dump\n"
	    "or copy the site into a SQLite file (kiji migrate --from '%s' "
	    "--to site.db). The mail key is not in the database: back up "
	    "its file too.\n", cmd, url, restore ? "restore it" : "back it up",
	    url, url, url);
	return EXIT_USAGE;
}

/* kiji backup and kiji restore: the store does the work (store_backup,
 * store_restore); exit 1 with its reason on failure. */
int
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
		default: die_getopt(cmd, c, argv);
		}
	}
	if (restore && (o.force || o.without_addresses))
		die_usage(cmd, "--force and --without-addresses are backup options");
	need_db(cmd, db);
	if (store_url_is_pg(db))
		return backup_pg(cmd, db, restore);
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
