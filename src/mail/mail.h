/*
 * mail: e-mail that kiji writes and sends itself (reply notifications,
 * address confirmations, the owner's comment mails). Four parts, none of
 * which knows about the site or the store:
 *
 *  - addresses (addr.c): the one validator of a reader-given address;
 *  - messages (msg.c): RFC 5322 messages with RFC 2047 headers and a
 *    base64 text/plain; charset=UTF-8 body; a field holding CR or LF is
 *    refused, so no header can be injected;
 *  - the mail key (key.c): subscriber addresses are stored sealed
 *    (crypto_secretbox) and found by a keyed hash (blind index) under a
 *    key kept in a file beside the database, never in it;
 *  - SMTP (smtp.c): libcurl, STARTTLS required unless the server is on
 *    loopback.
 */
#ifndef KIJI_MAIL_H
#define KIJI_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../text/text.h"

#define MAIL_ADDR_MAX 254   /* bytes of an address (RFC 5321 path limit) */
#define MAIL_KEY_BYTES 32   /* the mail key file's secret */
#define MAIL_BLIND_HEX 65   /* a blind index: 32 bytes in hex and NUL */

/* ---- addresses (addr.c) --------------------------------------------------------- */

/*
 * Whether the n bytes at s are one plain address: local@domain, ASCII
 * only, the local part a dot-atom (RFC 5322 atext, no quoted strings or
 * comments), the domain two or more labels of letters, digits and inner
 * hyphens (up to 63 bytes each), at most MAIL_ADDR_MAX bytes in all. No
 * white space, no control bytes, so nothing of it can break a header or
 * an SMTP command. norm (when not NULL) gets the address in lower case,
 * the form the blind index is made of.
 */
bool mail_addr_check(const char *s, size_t n, buf *norm);

/* ---- messages (msg.c) ----------------------------------------------------------- */

struct mail_msg {
	const char *from_name;   /* display name (UTF-8; "" for none) */
	const char *from;        /* address (mail_addr_check) */
	const char *to;          /* address (mail_addr_check) */
	const char *subject;     /* UTF-8, one line */
	const char *body;        /* UTF-8 plain text, lines end in LF */
	const char *id_left;     /* Message-ID's left part: [A-Za-z0-9.-] */
	int64_t date;            /* Date: (epoch seconds, written in UTC) */
	const char *unsubscribe; /* URL for List-Unsubscribe (with One-Click
	                          * List-Unsubscribe-Post), or NULL */
};

/*
 * The message m as sent over SMTP (CRLF line ends, lines under 78
 * bytes, 7-bit): From, To, Subject, Date, Message-ID (<id_left@the From
 * address's domain>), MIME headers, Auto-Submitted, the List-Unsubscribe
 * pair when asked, and the body in base64. false with a reason in err
 * when a field is invalid: an address mail_addr_check refuses, a CR or LF
 * in a one-line field, invalid UTF-8 anywhere, a bad id_left.
 */
bool mail_build(const struct mail_msg *m, buf *out, buf *err);
/* Appends s (valid UTF-8, no CR/LF) as a header value: as it is when it
 * is printable ASCII, else as RFC 2047 "B" encoded words of at most 75
 * bytes, cut only between characters, folded onto continuation lines. */
void mail_header_text(buf *out, const char *s);
/* Appends t as an RFC 5322 date in UTC ("Thu, 03 Dec 2026 17:00:00 +0000"). */
void mail_date(buf *out, int64_t t);

/* ---- the mail key (key.c) ---------------------------------------------------------- */

/* The environment variable naming a PostgreSQL site's mail key file. */
#define MAIL_KEY_ENV "KIJI_MAIL_KEY_FILE"
/*
 * The mail key's file for the database db (malloc'd): FILE.mailkey beside
 * a SQLite file ("sqlite:" dropped); for a postgresql:// URL, which has
 * no file to sit beside, the absolute path $KIJI_MAIL_KEY_FILE names (every
 * node sharing the database needs the same key). NULL with why in err
 * when there is none.
 */
char *mail_key_path(const char *db, buf *err);
/*
 * The mail key of the database at db_path: the file mail_key_path names
 * (64 hex digits). When it is missing and create is set it is made
 * (mode 0600, O_EXCL: two processes agree on one key). false with a
 * reason in err when it cannot be read, is malformed, or is missing and
 * !create.
 */
bool mail_key_load(const char *db_path, bool create,
    unsigned char key[MAIL_KEY_BYTES], buf *err);
/* The blind index of a normalised address: keyed BLAKE2b (a subkey of
 * key) in hex. The same address always gives the same index; without the
 * key an index says nothing of the address. */
void mail_blind(const unsigned char key[MAIL_KEY_BYTES], const char *norm,
    char out[MAIL_BLIND_HEX]);
/* The address sealed: a random nonce and crypto_secretbox (a subkey of
 * key) of addr, as bytes appended to out. */
void mail_seal(const unsigned char key[MAIL_KEY_BYTES], const char *addr,
    buf *out);
/* Opens what mail_seal made into out (text); false when it was not made
 * with this key or was changed. */
bool mail_unseal(const unsigned char key[MAIL_KEY_BYTES], const void *sealed,
    size_t n, buf *out);

/* ---- SMTP (smtp.c) -------------------------------------------------------------------- */

enum mail_err {
	MAIL_OK,
	MAIL_TEMP,   /* try again later: no connection, timeout, 4xx */
	MAIL_PERM,   /* will not work as it is: 5xx, bad URL, no TLS */
	MAIL__MAX
};

struct mail_smtp {
	const char *url;      /* smtp://host[:port] or smtps://host[:port] */
	const char *user;     /* "" for no authentication */
	const char *password;
	long timeout_ms;      /* the whole exchange (0: 30,000) */
};

/* Whether url's host is a loopback address (127.0.0.0/8, ::1,
 * "localhost"): the one case STARTTLS may be skipped. */
bool mail_url_loopback(const char *url);
/*
 * Sends msg (len bytes, as mail_build made it) from from to to through
 * the server c names. smtp:// upgrades with STARTTLS and refuses to go on
 * without it unless the host is loopback; smtps:// is TLS from the start.
 * err gets a one-line reason for anything but MAIL_OK.
 */
enum mail_err mail_send(const struct mail_smtp *c, const char *from,
    const char *to, const char *msg, size_t len, buf *err);

#endif
