/*
 * kiji migrate --from A --to B: a whole site moved between databases (a
 * SQLite file, sqlite:FILE, or a postgresql:// URL on either side) by
 * store_copy, with a progress bar on stderr and, on stdout, the per-table
 * report (rows on both sides, checksum, ok or MISMATCH). The mail key is
 * a file (beside a SQLite database, or $KIJI_MAIL_KEY_FILE for PostgreSQL)
 * and never goes into one: it is copied to B's key file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "../mail/mail.h"

static const char usage_migrate[] =
    "usage: kiji migrate --from A --to B [--quiet]\n"
    "       kiji migrate --check --from A --to B\n"
    "\n"
    "Copies the whole site in A into B, which must be empty (a new file, or\n"
    "a new PostgreSQL database): articles, pages, comments, likes, images,\n"
    "settings and the site secret, users, sessions, redirects, jobs, pings,\n"
    "reply-mail rows and the change log, ids kept. Then it reads B back and\n"
    "prints, per table, the rows on both sides and a checksum of their\n"
    "content, and ok or MISMATCH; exit 1 on any mismatch. A and B are each\n"
    "a SQLite file (or sqlite:FILE) or a postgresql:// URL. Stop the server\n"
    "of A first: what it writes meanwhile is not copied.\n"
    "\n"
    "The mail key never goes into a database: it is the file A.mailkey\n"
    "beside a SQLite file, and for a PostgreSQL site the file named by the\n"
    "KIJI_MAIL_KEY_FILE environment variable. It is copied to B's (mode 0600)\n"
    "when B has none yet; B being PostgreSQL without KIJI_MAIL_KEY_FILE set, the\n"
    "message says which file to keep.\n"
    "\n"
    "  --from A    the site to copy (it must exist)\n"
    "  --to B      where to copy it (a missing file is created)\n"
    "  --check     copy nothing: compare A and B table by table\n"
    "  --quiet     no progress on stderr\n"
    "  -h, --help  this help\n";

/* How the progress is shown. */
struct migrate_ui {
	bool tty;                 /* a bar on a terminal, lines otherwise */
	const char *last;         /* the table the last line was about */
	bool last_checking;       /* reading back has been said */
};

/* store_copy's progress: on a terminal one line redrawn (the table, its
 * rows, a bar of all rows); otherwise a line per table done. */
static void
migrate_progress(void *ctx, const struct store_copy_progress *p)
{
	struct migrate_ui *ui = ctx;
	const char *verb = p->checking ? "checking" : "copying";
	if (ui->tty) {
		char bar[31];
		int fill = p->total > 0 ? (int)(p->done * 30 / p->total) : 30;
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[30] = '\0';
		fprintf(stderr, "\r\033[K%s %-18s %9" PRId64 "/%-9" PRId64
		    " [%s] %3d%%", verb, p->table, p->table_done,
		    p->table_total, bar, p->total > 0 ?
		    (int)(p->done * 100 / p->total) : 100);
		fflush(stderr);
		return;
	}
	if (p->checking) {
		if (!ui->last_checking)
			fputs("kiji migrate: reading the copy back\n", stderr);
		ui->last_checking = true;
		return;
	}
	if (p->table_done < p->table_total || ui->last == p->table)
		return;
	fprintf(stderr, "kiji migrate: %s %s: %" PRId64 " rows (%" PRId64
	    "/%" PRId64 ")\n", verb, p->table, p->table_done, p->done,
	    p->total);
	ui->last = p->table;
}

/* The file of a SQLite site ("sqlite:" dropped); NULL for PostgreSQL. */
static const char *
migrate_file(const char *url)
{
	return store_file(url);
}

/* Whether path exists (errno kept otherwise). */
static bool
exists(const char *path)
{
	struct stat sb;
	return path != NULL && stat(path, &sb) == 0;
}

/* The mail key file of the site at url (mail_key_path: beside a file, or
 * $KIJI_MAIL_KEY_FILE for PostgreSQL); NULL when it has none. malloc'd. */
static char *
mailkey_of(const char *url)
{
	buf err;
	buf_init(&err, 0);
	char *p = mail_key_path(url, &err);
	buf_free(&err);
	return p;
}

/*
 * Before copying: when A's mail key exists and B already has one, they
 * must be the same key (B's sealed addresses would be unreadable
 * otherwise). false after saying why.
 */
static bool
mailkey_check(const char *from, const char *to)
{
	unsigned char a[MAIL_KEY_BYTES], b[MAIL_KEY_BYTES];
	char *pa = mailkey_of(from), *pb = mailkey_of(to);
	bool ok = true;
	buf err;
	if (!exists(pa) || !exists(pb)) {
		free(pa);
		free(pb);
		return true;
	}
	buf_init(&err, 0);
	if (!mail_key_load(from, false, a, &err) ||
	    !mail_key_load(to, false, b, &err)) {
		fprintf(stderr, "kiji migrate: %s\n", buf_cstr(&err));
		ok = false;
	} else if (sodium_memcmp(a, b, sizeof a) != 0) {
		fprintf(stderr, "kiji migrate: %s already exists and holds "
		    "another mail key than %s; remove it (if it is not needed) "
		    "or copy into a new database\n", pb, pa);
		ok = false;
	}
	sodium_memzero(a, sizeof a);
	sodium_memzero(b, sizeof b);
	buf_free(&err);
	free(pa);
	free(pb);
	return ok;
}

/* Writes key to path as the mail key file does: 64 hex digits and a
 * newline, O_EXCL, mode 0600, synced. */
static bool
mailkey_write(const char *path, const unsigned char key[MAIL_KEY_BYTES])
{
	char hex[MAIL_KEY_BYTES * 2 + 2];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "kiji migrate: %s: %s\n", path, strerror(errno));
		return false;
	}
	sodium_bin2hex(hex, sizeof(hex) - 1, key, MAIL_KEY_BYTES);
	hex[MAIL_KEY_BYTES * 2] = '\n';
	bool ok = fchmod(fd, 0600) == 0 &&
	    write(fd, hex, sizeof(hex) - 1) == (ssize_t)(sizeof(hex) - 1) &&
	    fsync(fd) == 0;
	int e = errno;
	close(fd);
	sodium_memzero(hex, sizeof hex);
	if (!ok) {
		unlink(path);
		fprintf(stderr, "kiji migrate: %s: %s\n", path, strerror(e));
	}
	return ok;
}

/* After the copy: the mail key follows the site to B's key file (beside
 * a file, or $KIJI_MAIL_KEY_FILE for PostgreSQL); where B has none to name,
 * the operator is told what to do. false on failure. */
static bool
mailkey_move(const char *from_url, const char *to_url)
{
	char *pa = mailkey_of(from_url), *pb = mailkey_of(to_url);
	unsigned char key[MAIL_KEY_BYTES];
	bool ok = true;
	buf err;

	if (pa == NULL) {
		fprintf(stderr, "kiji migrate: no mail key came with the "
		    "PostgreSQL site (" MAIL_KEY_ENV " is not set): if its "
		    "reply-mail addresses were sealed, put its key file at %s "
		    "(mode 0600)\n", pb ? pb : "the new site's key path");
	} else if (!exists(pa)) {
		/* the site never sealed an address */
	} else if (pb == NULL) {
		fprintf(stderr, "kiji migrate: the mail key was NOT copied: it "
		    "never goes into a database. Serve the PostgreSQL site "
		    "with " MAIL_KEY_ENV "=%s (or a copy of it, mode 0600, the "
		    "same on every node), or its reply mail cannot open the "
		    "subscribers' addresses\n", pa);
	} else if (!exists(pb) && strcmp(pa, pb) != 0) {
		buf_init(&err, 0);
		if (!mail_key_load(from_url, false, key, &err)) {
			fprintf(stderr, "kiji migrate: %s\n", buf_cstr(&err));
			ok = false;
		} else if ((ok = mailkey_write(pb, key))) {
			fprintf(stderr, "kiji migrate: mail key copied to %s\n",
			    pb);
		}
		sodium_memzero(key, sizeof key);
		buf_free(&err);
	} /* else the same key: mailkey_check said so */
	free(pa);
	free(pb);
	return ok;
}

/* Removes a SQLite file this run created, and SQLite's files beside it,
 * so a failed copy can be run again into the same name. */
static void
remove_created(const char *file)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[4096];
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof p, "%s%s", file, sfx[i]);
		unlink(p);
	}
}

/* kiji migrate: see usage_migrate. Exit 0 when every table agrees, 1 on a
 * mismatch or failure, 2 for a usage error or a destination not empty. */
int
cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"check", no_argument, NULL, 'c'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *from = NULL, *to = NULL;
	bool check = false, quiet = false, created = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'c': check = true; break;
		case 'q': quiet = true; break;
		case 'h': fputs(usage_migrate, stdout); return 0;
		default: die_getopt("migrate", c, argv);
		}
	}
	if (optind != argc)
		die_usage("migrate", "unexpected argument %s", argv[optind]);
	if (from == NULL || to == NULL)
		die_usage("migrate", "--from A and --to B are both required");
	const char *ffile = migrate_file(from), *tfile = migrate_file(to);
	if (ffile != NULL && !exists(ffile)) {
		fprintf(stderr, "kiji migrate: %s: no such site\n", ffile);
		return EXIT_USAGE;
	}
	if (ffile == NULL)
		require_site(from); /* a database without a site is no source */
	if (tfile == NULL && check)
		require_site(to);
	if (tfile != NULL && !exists(tfile)) {
		if (check) {
			fprintf(stderr, "kiji migrate: %s: no such site\n", tfile);
			return EXIT_USAGE;
		}
		created = true;
	}
	if (!check && !mailkey_check(from, to))
		return 1;

	store *a = open_store_new(from), *b = a ? open_store_new(to) : NULL;
	struct migrate_ui ui = {.tty = isatty(2) == 1};
	enum store_err e = STORE_ERROR;
	buf report, err;
	buf_init(&report, 0);
	buf_init(&err, 4096);
	if (a != NULL && b != NULL)
		e = (check ? store_copy_verify : store_copy)(a, b,
		    quiet ? NULL : migrate_progress, &ui, &report, &err);
	if (ui.tty && !quiet)
		fputs("\r\033[K", stderr);
	store_close(b);
	store_close(a);
	fputs(buf_cstr(&report), stdout);
	fflush(stdout);
	if (e != STORE_OK && err.len > 0)
		fprintf(stderr, "kiji migrate: %s\n", buf_cstr(&err));
	bool copied = e == STORE_OK || report.len > 0;
	if (e != STORE_OK && created && !copied)
		remove_created(tfile);
	if (e == STORE_OK && !check && !mailkey_move(from, to))
		e = STORE_ERROR;
	if (e == STORE_OK)
		fprintf(stderr, "kiji migrate: %s: every table agrees\n",
		    check ? "compared" : "copied");
	buf_free(&report);
	buf_free(&err);
	return e == STORE_OK ? 0 : e == STORE_CONFLICT ? EXIT_USAGE : 1;
}
