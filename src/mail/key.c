/*
 * The mail key (mail.h): 32 random bytes in a file beside the database,
 * never in it, so a copy of the database (kiji backup, a leaked dump, an
 * export) holds subscriber addresses only sealed and indexed by a keyed
 * hash. Two subkeys are derived from it (crypto_kdf): one seals
 * (crypto_secretbox), one indexes (keyed BLAKE2b), so neither use can be
 * turned against the other.
 */
#include "mail.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAIL_KDF_CTX "kijimail" /* crypto_kdf_CONTEXTBYTES: 8 */
#define MAIL_SUB_SEAL 1
#define MAIL_SUB_BLIND 2
#define MAIL_KEY_HEX (MAIL_KEY_BYTES * 2)

/* Reads the key file: 64 hex digits, an optional newline. */
static bool
mail_key_read(int fd, const char *path, unsigned char key[MAIL_KEY_BYTES],
    buf *err)
{
	char hex[MAIL_KEY_HEX + 3];
	ssize_t n = read(fd, hex, sizeof(hex) - 1);
	if (n < 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		return false;
	}
	while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
		n--;
	size_t got = 0;
	if (n != MAIL_KEY_HEX || sodium_hex2bin(key, MAIL_KEY_BYTES, hex,
	    (size_t)n, NULL, &got, NULL) != 0 || got != MAIL_KEY_BYTES) {
		buf_printf(err, "%s: not a mail key (64 hex digits)", path);
		return false;
	}
	return true;
}

/* Makes the key file (O_EXCL, 0600, synced); EEXIST when another process
 * made it first (the caller reads that one). */
static int
mail_key_create(const char *path, unsigned char key[MAIL_KEY_BYTES], buf *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		if (e != EEXIST)
			buf_printf(err, "%s: %s", path, strerror(e));
		return e;
	}
	char hex[MAIL_KEY_HEX + 2];
	randombytes_buf(key, MAIL_KEY_BYTES);
	sodium_bin2hex(hex, sizeof(hex) - 1, key, MAIL_KEY_BYTES);
	hex[MAIL_KEY_HEX] = '\n';
	bool ok = write(fd, hex, MAIL_KEY_HEX + 1) == MAIL_KEY_HEX + 1 &&
	    fsync(fd) == 0;
	int e = errno;
	close(fd);
	sodium_memzero(hex, sizeof(hex));
	if (!ok) {
		unlink(path);
		buf_printf(err, "%s: %s", path, strerror(e));
		return e ? e : EIO;
	}
	return 0;
}

/* See mail.h. */
char *
mail_key_path(const char *db, buf *err)
{
	if (db != NULL && (strncmp(db, "postgresql://", 13) == 0 ||
	    strncmp(db, "postgres://", 11) == 0)) {
		const char *k = getenv(MAIL_KEY_ENV);
		if (k == NULL || k[0] != '/') {
			buf_puts(err, "a PostgreSQL site's mail key is the file "
			    MAIL_KEY_ENV " names (an absolute path, the same "
			    "file on every node); " MAIL_KEY_ENV " is not set");
			return NULL;
		}
		return xstrdup(k);
	}
	if (db != NULL && strncmp(db, "sqlite:", 7) == 0)
		db += 7;
	if (db == NULL || *db == '\0') {
		buf_puts(err, "no database file to keep the mail key beside");
		return NULL;
	}
	size_t n = strlen(db) + sizeof(".mailkey");
	char *path = xmalloc(n);
	snprintf(path, n, "%s.mailkey", db);
	return path;
}

bool
mail_key_load(const char *db_path, bool create,
    unsigned char key[MAIL_KEY_BYTES], buf *err)
{
	char *path = mail_key_path(db_path, err);
	if (path == NULL)
		return false;
	bool ok = false;
	for (int tries = 0; tries < 2 && !ok; tries++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			ok = mail_key_read(fd, path, key, err);
			close(fd);
			break;
		}
		if (errno != ENOENT) {
			buf_printf(err, "%s: %s", path, strerror(errno));
			break;
		}
		if (!create) {
			buf_printf(err, "%s: no mail key yet", path);
			break;
		}
		int e = mail_key_create(path, key, err);
		if (e == 0)
			ok = true;
		else if (e != EEXIST)
			break;
		/* EEXIST: made meanwhile by another process; read it */
	}
	free(path);
	return ok;
}

static void
mail_subkey(const unsigned char key[MAIL_KEY_BYTES], uint64_t id,
    unsigned char out[32])
{
	crypto_kdf_derive_from_key(out, 32, id, MAIL_KDF_CTX, key);
}

void
mail_blind(const unsigned char key[MAIL_KEY_BYTES], const char *norm,
    char out[MAIL_BLIND_HEX])
{
	unsigned char sub[32], h[32];
	mail_subkey(key, MAIL_SUB_BLIND, sub);
	crypto_generichash(h, sizeof(h), (const unsigned char *)norm,
	    strlen(norm), sub, sizeof(sub));
	sodium_bin2hex(out, MAIL_BLIND_HEX, h, sizeof(h));
	sodium_memzero(sub, sizeof(sub));
}

void
mail_seal(const unsigned char key[MAIL_KEY_BYTES], const char *addr, buf *out)
{
	unsigned char sub[crypto_secretbox_KEYBYTES];
	unsigned char nonce[crypto_secretbox_NONCEBYTES];
	size_t n = strlen(addr);
	unsigned char *c = xmalloc(n + crypto_secretbox_MACBYTES);
	mail_subkey(key, MAIL_SUB_SEAL, sub);
	randombytes_buf(nonce, sizeof(nonce));
	crypto_secretbox_easy(c, (const unsigned char *)addr, n, nonce, sub);
	buf_put(out, nonce, sizeof(nonce));
	buf_put(out, c, n + crypto_secretbox_MACBYTES);
	sodium_memzero(sub, sizeof(sub));
	free(c);
}

bool
mail_unseal(const unsigned char key[MAIL_KEY_BYTES], const void *sealed,
    size_t n, buf *out)
{
	const unsigned char *s = sealed;
	const size_t head = crypto_secretbox_NONCEBYTES +
	    crypto_secretbox_MACBYTES;
	if (sealed == NULL || n < head || n > head + MAIL_ADDR_MAX)
		return false;
	unsigned char sub[crypto_secretbox_KEYBYTES];
	unsigned char m[MAIL_ADDR_MAX + 1];
	mail_subkey(key, MAIL_SUB_SEAL, sub);
	bool ok = crypto_secretbox_open_easy(m, s + crypto_secretbox_NONCEBYTES,
	    n - crypto_secretbox_NONCEBYTES, s, sub) == 0;
	sodium_memzero(sub, sizeof(sub));
	if (ok)
		buf_put(out, m, n - head);
	return ok;
}
