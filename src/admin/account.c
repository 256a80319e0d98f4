/*
 * Accounts: field rules, Argon2id password hashing (libsodium) behind a
 * process-wide limit of ACCOUNT_HASH_SLOTS concurrent hashes, and login
 * checks that answer in about the same time for every kind of refusal.
 */
#include "admin.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

/* Bytes a display name may take before it is even looked at: 100
 * clusters of up to 16 bytes each. */
#define ACCOUNT_DISPLAY_BYTES (ACCOUNT_DISPLAY_MAX * 16)
/* NFC may grow text (at most threefold); room for that and a NUL. */
#define ACCOUNT_PASSWORD_BUF (3 * ACCOUNT_PASSWORD_MAX + 16)

_Static_assert(ACCOUNT_HASH_MAX == crypto_pwhash_STRBYTES,
    "ACCOUNT_HASH_MAX is libsodium's encoded hash size");
_Static_assert(crypto_pwhash_ALG_DEFAULT == crypto_pwhash_ALG_ARGON2ID13,
    "crypto_pwhash_str must make Argon2id hashes");

/*
 * The hash a missing (or password-less) user is checked against, so an
 * unknown name costs the same Argon2id run as a known one. Made with the
 * same limits as account_hash, from 32 random bytes nobody kept: nothing
 * verifies against it, and nothing is meant to.
 */
static const char account_dummy_hash[] =
    "$argon2id$v=19$m=65536,t=2,p=1$Hi3Go7TDRUhr38kvWhYXYw$"
    "uWvgh6nuaHWqi6b1WoRcXm+r5VUoxrvcyyhPpusQ6yQ";

static const char *const account_err_names[ACCOUNT__MAX] = {
	[ACCOUNT_OK] = "ok",
	[ACCOUNT_BAD_NAME] = "the name must be 1 to 40 of a-z 0-9 _ . -",
	[ACCOUNT_BAD_DISPLAY] = "the display name must be 1 to 100 characters "
	    "on one line",
	[ACCOUNT_BAD_EMAIL] = "not an e-mail address",
	[ACCOUNT_BAD_ROLE] = "the role must be admin, editor or author",
	[ACCOUNT_BAD_PASSWORD] = "the password must be at least 10 characters "
	    "(at most 1024 bytes, no control characters)",
	[ACCOUNT_EXISTS] = "a user with that name exists",
	[ACCOUNT_NOTFOUND] = "no such user",
	[ACCOUNT_DENIED] = "wrong name or password",
	[ACCOUNT_HASH] = "password hashing failed (out of memory?)",
	[ACCOUNT_STORE] = "database error",
};

static const char *const account_roles[ROLE__MAX] = {
	[ROLE_ADMIN] = "admin",
	[ROLE_EDITOR] = "editor",
	[ROLE_AUTHOR] = "author",
};

const char *
account_strerror(enum account_err e)
{
	return (unsigned)e < ACCOUNT__MAX ? account_err_names[e] : "unknown error";
}

/* ---- libsodium and the hashing slots ------------------------------------------ */

static pthread_once_t account_once = PTHREAD_ONCE_INIT;

/* Without randomness no salt is safe; stop rather than hash weakly. */
static void
account_sodium_init(void)
{
	if (sodium_init() < 0) {
		fputs("kiji: libsodium failed to initialise\n", stderr);
		abort();
	}
}

/*
 * A counting semaphore of ACCOUNT_HASH_SLOTS: each Argon2id run takes
 * 64 MiB, so a burst of logins waits here instead of growing the process
 * by 64 MiB per request. running/peak measure what actually ran at once.
 */
static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_cv = PTHREAD_COND_INITIALIZER;
static int slot_used;
static atomic_int slot_running;
static atomic_int slot_peak;

/* Waits for a free slot; then counts the caller as running. */
static void
slot_acquire(void)
{
	pthread_once(&account_once, account_sodium_init);
	pthread_mutex_lock(&slot_mu);
	while (slot_used >= ACCOUNT_HASH_SLOTS)
		pthread_cond_wait(&slot_cv, &slot_mu);
	slot_used++;
	pthread_mutex_unlock(&slot_mu);
	int now = atomic_fetch_add(&slot_running, 1) + 1;
	int peak = atomic_load(&slot_peak);
	while (now > peak && !atomic_compare_exchange_weak(&slot_peak, &peak, now))
		;
}

static void
slot_release(void)
{
	atomic_fetch_sub(&slot_running, 1);
	pthread_mutex_lock(&slot_mu);
	slot_used--;
	pthread_cond_signal(&slot_cv);
	pthread_mutex_unlock(&slot_mu);
}

int
account_hash_peak(void)
{
	return atomic_load(&slot_peak);
}

void
account_hash_peak_reset(void)
{
	atomic_store(&slot_peak, 0);
}

/* ---- field rules ------------------------------------------------------------------ */

bool
account_name_valid(const char *name)
{
	size_t n = 0;
	if (name == NULL)
		return false;
	for (; name[n] != '\0'; n++) {
		char c = name[n];
		if (n >= ACCOUNT_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-'))
			return false;
	}
	return n > 0;
}

/* RFC 5322 atext, the characters a dot-atom local part may hold. */
static bool
email_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

/*
 * A plain address: dot-atom local part (no quoted strings, no comments)
 * of at most 64 bytes, '@', a host name of at least two labels of
 * letters, digits and inner hyphens. What mail to an editor needs, and
 * nothing a header could be smuggled through.
 */
bool
account_email_valid(const char *email)
{
	if (email == NULL || *email == '\0')
		return true;
	size_t len = strlen(email);
	const char *at = strchr(email, '@');
	if (len > ACCOUNT_EMAIL_MAX || at == NULL || strchr(at + 1, '@'))
		return false;
	size_t local = (size_t)(at - email);
	if (local == 0 || local > 64 || email[0] == '.' || at[-1] == '.')
		return false;
	for (size_t i = 0; i < local; i++) {
		if (email[i] == '.') {
			if (email[i + 1] == '.')
				return false;
		} else if (!email_atext(email[i])) {
			return false;
		}
	}
	const char *d = at + 1;
	int labels = 0;
	for (;;) {
		size_t n = 0;
		while ((d[n] >= 'a' && d[n] <= 'z') || (d[n] >= 'A' && d[n] <= 'Z') ||
		    (d[n] >= '0' && d[n] <= '9') || d[n] == '-')
			n++;
		if (n == 0 || n > 63 || d[0] == '-' || d[n - 1] == '-')
			return false;
		labels++;
		if (d[n] == '\0')
			break;
		if (d[n] != '.')
			return false;
		d += n + 1;
	}
	return labels >= 2;
}

bool
account_role_parse(const char *s, enum store_role *out)
{
	for (int i = 0; s != NULL && i < ROLE__MAX; i++) {
		if (strcmp(s, account_roles[i]) == 0) {
			*out = (enum store_role)i;
			return true;
		}
	}
	return false;
}

const char *
account_role_name(enum store_role r)
{
	return (unsigned)r < ROLE__MAX ? account_roles[r] : NULL;
}

/*
 * The password as hashed: valid UTF-8 without control characters, at most
 * ACCOUNT_PASSWORD_MAX bytes, NFC (the same password typed on another
 * device or IME may arrive decomposed). The minimum length applies only
 * when a password is set (check_min), not when one is tried.
 */
static bool
account_password_norm(const char *pw, bool check_min, buf *out)
{
	if (pw == NULL)
		return false;
	size_t n = strnlen(pw, ACCOUNT_PASSWORD_MAX + 1);
	if (n > ACCOUNT_PASSWORD_MAX || !text_utf8_valid(pw, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
			return false;
	if (!text_nfc(out, pw, n) || out->err)
		return false;
	if (check_min) {
		size_t cps = 0;
		for (size_t i = 0; i < out->len; i++)
			cps += ((unsigned char)out->ptr[i] & 0xC0) != 0x80;
		if (cps < ACCOUNT_PASSWORD_MIN)
			return false;
	}
	return true;
}

/* The display name as stored: NFC, trimmed, one line, 1..100 grapheme
 * clusters. NULL when it breaks a rule. */
static const char *
account_display_norm(const char *s, buf *out)
{
	size_t n = strnlen(s, ACCOUNT_DISPLAY_BYTES + 1);
	if (n > ACCOUNT_DISPLAY_BYTES || !text_clean(s, n) ||
	    memchr(s, '\n', n) || memchr(s, '\r', n) || memchr(s, '\t', n))
		return NULL;
	buf nfc;
	buf_init(&nfc, ACCOUNT_DISPLAY_BYTES + 64);
	bool ok = text_nfc(&nfc, s, n) && !nfc.err;
	if (ok)
		text_squash_space(out, buf_cstr(&nfc), nfc.len);
	buf_free(&nfc);
	if (!ok || out->err || out->len == 0 ||
	    text_graphemes(out->ptr, out->len) > ACCOUNT_DISPLAY_MAX)
		return NULL;
	return buf_cstr(out);
}

static enum account_err
account_store_err(enum store_err e)
{
	switch (e) {
	case STORE_OK: return ACCOUNT_OK;
	case STORE_NOTFOUND: return ACCOUNT_NOTFOUND;
	case STORE_CONFLICT: return ACCOUNT_EXISTS;
	default: return ACCOUNT_STORE;
	}
}

/* ---- hashing ------------------------------------------------------------------------ */

/* Passwords do not linger in freed memory. */
static void
account_wipe(buf *b)
{
	if (b->ptr != NULL)
		sodium_memzero(b->ptr, b->cap);
	buf_free(b);
}

enum account_err
account_hash(const char *password, char out[ACCOUNT_HASH_MAX])
{
	buf pw;
	enum account_err e = ACCOUNT_OK;
	buf_init(&pw, ACCOUNT_PASSWORD_BUF);
	if (!account_password_norm(password, true, &pw)) {
		e = ACCOUNT_BAD_PASSWORD;
		goto out;
	}
	slot_acquire();
	if (crypto_pwhash_str(out, buf_cstr(&pw), pw.len,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		e = ACCOUNT_HASH;
	slot_release();
out:
	account_wipe(&pw);
	return e;
}

/* Checks an already normalised password; an unusable stored hash is
 * replaced by the dummy, so the time spent does not tell. */
static bool
account_check_norm(const char *hash, const char *pw, size_t n)
{
	bool usable = hash != NULL && *hash != '\0' &&
	    strnlen(hash, ACCOUNT_HASH_MAX) < ACCOUNT_HASH_MAX;
	slot_acquire();
	bool ok = crypto_pwhash_str_verify(usable ? hash : account_dummy_hash,
	    pw, n) == 0;
	slot_release();
	return ok && usable;
}

bool
account_hash_check(const char *hash, const char *password)
{
	buf pw;
	bool ok = false;
	buf_init(&pw, ACCOUNT_PASSWORD_BUF);
	if (account_password_norm(password, false, &pw))
		ok = account_check_norm(hash, buf_cstr(&pw), pw.len);
	account_wipe(&pw);
	return ok;
}

/* ---- accounts ----------------------------------------------------------------------- */

enum account_err
account_add(store *st, const struct account_new *in, int64_t *id)
{
	char hash[ACCOUNT_HASH_MAX];
	buf disp;
	arena *a = arena_new(0);
	struct store_user u = {0}, old;
	enum account_err e;

	buf_init(&disp, ACCOUNT_DISPLAY_BYTES + 64);
	if (!account_name_valid(in->name)) {
		e = ACCOUNT_BAD_NAME;
		goto out;
	}
	if (account_role_name(in->role) == NULL) {
		e = ACCOUNT_BAD_ROLE;
		goto out;
	}
	u.display_name = in->display_name && *in->display_name
	    ? account_display_norm(in->display_name, &disp) : in->name;
	if (u.display_name == NULL) {
		e = ACCOUNT_BAD_DISPLAY;
		goto out;
	}
	if (!account_email_valid(in->email)) {
		e = ACCOUNT_BAD_EMAIL;
		goto out;
	}
	/* a taken name is answered before the expensive hash */
	enum store_err se = store_user_by_name(st, in->name, a, &old);
	if (se != STORE_NOTFOUND) {
		e = se == STORE_OK ? ACCOUNT_EXISTS : ACCOUNT_STORE;
		goto out;
	}
	if ((e = account_hash(in->password, hash)) != ACCOUNT_OK)
		goto out;
	u.name = in->name;
	u.role = in->role;
	u.pass_hash = hash;
	u.email = in->email ? in->email : "";
	e = account_store_err(store_user_add(st, &u, id));
out:
	buf_free(&disp);
	arena_free(a);
	return e;
}

/*
 * Every path spends one Argon2id verification (against the dummy hash when
 * there is no usable user) except inputs refused for their own shape —
 * over-long or malformed passwords — whose refusal says nothing about
 * which users exist.
 */
enum account_err
account_verify(store *st, const char *name, const char *password, arena *a,
    struct store_user *out)
{
	struct store_user u = {0};
	bool found = false;
	enum account_err e = ACCOUNT_DENIED;
	buf pw;

	buf_init(&pw, ACCOUNT_PASSWORD_BUF);
	if (!account_password_norm(password, false, &pw))
		goto out;
	if (account_name_valid(name)) {
		enum store_err se = store_user_by_name(st, name, a, &u);
		if (se == STORE_OK)
			found = true;
		else if (se != STORE_NOTFOUND)
			e = ACCOUNT_STORE;
	}
	bool ok = account_check_norm(found ? u.pass_hash : NULL, buf_cstr(&pw),
	    pw.len);
	if (e == ACCOUNT_STORE)
		goto out;
	if (found && ok && !u.disabled) {
		*out = u;
		e = ACCOUNT_OK;
	}
out:
	account_wipe(&pw);
	return e;
}

enum account_err
account_set_password(store *st, int64_t user_id, const char *password)
{
	char hash[ACCOUNT_HASH_MAX];
	enum account_err e = account_hash(password, hash);
	if (e != ACCOUNT_OK)
		return e;
	return account_store_err(store_user_set_password(st, user_id, hash));
}

enum account_err
account_set_role(store *st, int64_t user_id, enum store_role role)
{
	if (account_role_name(role) == NULL)
		return ACCOUNT_BAD_ROLE;
	return account_store_err(store_user_set_role(st, user_id, role));
}

enum account_err
account_set_disabled(store *st, int64_t user_id, bool disabled)
{
	return account_store_err(store_user_set_disabled(st, user_id, disabled));
}

enum account_err
account_set_email(store *st, int64_t user_id, const char *email)
{
	if (!account_email_valid(email))
		return ACCOUNT_BAD_EMAIL;
	return account_store_err(store_user_set_email(st, user_id, email));
}

enum account_err
account_set_display_name(store *st, int64_t user_id, const char *display_name)
{
	buf disp;
	buf_init(&disp, ACCOUNT_DISPLAY_BYTES + 64);
	const char *d = display_name ? account_display_norm(display_name, &disp)
				     : NULL;
	enum account_err e = d == NULL ? ACCOUNT_BAD_DISPLAY
	    : account_store_err(store_user_set_display_name(st, user_id, d));
	buf_free(&disp);
	return e;
}

/* 56 characters: no 0/O/o, 1/l/I; 16 of them carry about 93 bits. */
void
account_random_password(char *out, size_t len)
{
	static const char alphabet[] =
	    "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	pthread_once(&account_once, account_sodium_init);
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	out[len] = '\0';
}
