/*
 * Accounts (admin/account.c) against a real database: field rules,
 * Argon2id hashing and verification, wrong passwords, disabled and
 * password-less users, cred_epoch bumps, the store's account calls and
 * the process-wide limit of two concurrent hashes.
 */
#include "../../src/admin/admin.h"
#include "t_db.h"

#include <pthread.h>
#include <unistd.h>

static void
test_names(void)
{
	char long41[42], long40[41];
	memset(long41, 'a', 41);
	long41[41] = '\0';
	memset(long40, 'b', 40);
	long40[40] = '\0';
	T_CHECK(account_name_valid("admin"));
	T_CHECK(account_name_valid("a"));
	T_CHECK(account_name_valid("ed.itor_2-x"));
	T_CHECK(account_name_valid(long40));
	T_CHECK(!account_name_valid(long41));
	T_CHECK(!account_name_valid(""));
	T_CHECK(!account_name_valid(NULL));
	T_CHECK(!account_name_valid("Admin"));      /* upper case */
	T_CHECK(!account_name_valid("a b"));
	T_CHECK(!account_name_valid("a/b"));
	T_CHECK(!account_name_valid("a@b"));
	T_CHECK(!account_name_valid("さくら"));
	T_CHECK(!account_name_valid("a\nb"));
}

static void
test_emails_roles(void)
{
	T_CHECK(account_email_valid(""));
	T_CHECK(account_email_valid(NULL));
	T_CHECK(account_email_valid("desk@example.jp"));
	T_CHECK(account_email_valid("first.last+tag@mail.example.co.jp"));
	T_CHECK(!account_email_valid("desk"));
	T_CHECK(!account_email_valid("desk@localhost"));
	T_CHECK(!account_email_valid("@example.jp"));
	T_CHECK(!account_email_valid("a@@example.jp"));
	T_CHECK(!account_email_valid("a@b@example.jp"));
	T_CHECK(!account_email_valid(".a@example.jp"));
	T_CHECK(!account_email_valid("a.@example.jp"));
	T_CHECK(!account_email_valid("a..b@example.jp"));
	T_CHECK(!account_email_valid("a b@example.jp"));
	T_CHECK(!account_email_valid("a@-example.jp"));
	T_CHECK(!account_email_valid("a@example..jp"));
	T_CHECK(!account_email_valid("a@example.jp\r\nBcc: x@y.jp"));
	T_CHECK(!account_email_valid("\"a\"@example.jp"));

	enum store_role r = ROLE__MAX;
	T_CHECK(account_role_parse("admin", &r) && r == ROLE_ADMIN);
	T_CHECK(account_role_parse("editor", &r) && r == ROLE_EDITOR);
	T_CHECK(account_role_parse("author", &r) && r == ROLE_AUTHOR);
	T_CHECK(!account_role_parse("root", &r));
	T_CHECK(!account_role_parse("Admin", &r));
	T_CHECK(!account_role_parse(NULL, &r));
	T_STREQ(account_role_name(ROLE_EDITOR), "editor");
	T_CHECK(account_role_name(ROLE__MAX) == NULL);
}

static void
test_hash_verify(void)
{
	char h[ACCOUNT_HASH_MAX], h2[ACCOUNT_HASH_MAX];
	T_CHECK(account_hash("correct horse battery", h) == ACCOUNT_OK);
	T_CHECK(strncmp(h, "$argon2id$", 10) == 0);
	T_CHECK(account_hash_check(h, "correct horse battery"));
	T_CHECK(!account_hash_check(h, "correct horse batterY"));
	T_CHECK(!account_hash_check(h, ""));
	T_CHECK(!account_hash_check("", "correct horse battery"));
	T_CHECK(!account_hash_check("garbage", "correct horse battery"));
	/* salted: the same password hashes differently each time */
	T_CHECK(account_hash("correct horse battery", h2) == ACCOUNT_OK);
	T_CHECK(strcmp(h, h2) != 0);
	T_CHECK(account_hash_check(h2, "correct horse battery"));

	/* NFC: a decomposed が (か + U+3099) is the same password as が */
	T_CHECK(account_hash("パスワードはがぎぐげご", h) == ACCOUNT_OK);
	T_CHECK(account_hash_check(h,
	    "パスワードは\xe3\x81\x8b\xe3\x82\x99ぎぐげご"));

	/* the rules: 10 characters (not bytes), no controls, bounded */
	T_CHECK(account_hash("short", h) == ACCOUNT_BAD_PASSWORD);
	T_CHECK(account_hash("123456789", h) == ACCOUNT_BAD_PASSWORD);
	T_CHECK(account_hash("1234567890", h) == ACCOUNT_OK);
	T_CHECK(account_hash("あいうえお", h) == ACCOUNT_BAD_PASSWORD); /* 15 bytes */
	T_CHECK(account_hash("あいうえおかきくけこ", h) == ACCOUNT_OK);
	T_CHECK(account_hash("tab\tinside password", h) == ACCOUNT_BAD_PASSWORD);
	T_CHECK(account_hash("bad utf8 \xff\xfe here", h) == ACCOUNT_BAD_PASSWORD);
	T_CHECK(account_hash(NULL, h) == ACCOUNT_BAD_PASSWORD);
	char big[ACCOUNT_PASSWORD_MAX + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_CHECK(account_hash(big, h) == ACCOUNT_BAD_PASSWORD);
	big[ACCOUNT_PASSWORD_MAX] = '\0';
	T_CHECK(account_hash(big, h) == ACCOUNT_OK);
}

static void
test_add_verify(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_user u;
	int64_t id = 0;
	struct account_new in = {.name = "sato", .display_name = "  佐藤　一郎 ",
	    .role = ROLE_EDITOR, .email = "sato@example.jp",
	    .password = "sakura-saku-2026"};
	T_CHECK(s != NULL);
	T_CHECK(account_add(s, &in, &id) == ACCOUNT_OK);
	T_CHECK(id > 0);

	memset(&u, 0, sizeof(u));
	T_CHECK(account_verify(s, "sato", "sakura-saku-2026", a, &u) == ACCOUNT_OK);
	T_CHECK(u.id == id);
	T_STREQ(u.name, "sato");
	T_STREQ(u.display_name, "佐藤 一郎"); /* trimmed, spaces squashed */
	T_STREQ(u.email, "sato@example.jp");
	T_CHECK(u.role == ROLE_EDITOR);
	T_CHECK(!u.disabled);
	T_CHECK(u.cred_epoch == 0);
	T_CHECK(u.created_at > 0);
	T_CHECK(strncmp(u.pass_hash, "$argon2id$", 10) == 0);

	/* every refusal is the same answer */
	T_CHECK(account_verify(s, "sato", "sakura-saku-2025", a, &u) == ACCOUNT_DENIED);
	T_CHECK(account_verify(s, "sato", "", a, &u) == ACCOUNT_DENIED);
	T_CHECK(account_verify(s, "nobody", "sakura-saku-2026", a, &u) == ACCOUNT_DENIED);
	T_CHECK(account_verify(s, "Not A Name!", "sakura-saku-2026", a, &u) == ACCOUNT_DENIED);
	T_CHECK(account_verify(s, NULL, "sakura-saku-2026", a, &u) == ACCOUNT_DENIED);
	T_CHECK(account_verify(s, "sato", NULL, a, &u) == ACCOUNT_DENIED);

	/* a user with no password (the demo's authors) cannot log in */
	struct store_user bare = {.name = "desk", .display_name = "編集部",
	    .role = ROLE_AUTHOR};
	T_CHECK(store_user_add(s, &bare, NULL) == STORE_OK);
	T_CHECK(account_verify(s, "desk", "", a, &u) == ACCOUNT_DENIED);
	T_CHECK(account_verify(s, "desk", "anything at all", a, &u) == ACCOUNT_DENIED);

	/* the name is taken; bad fields are named */
	T_CHECK(account_add(s, &in, NULL) == ACCOUNT_EXISTS);
	struct account_new bad = in;
	bad.name = "Sato";
	T_CHECK(account_add(s, &bad, NULL) == ACCOUNT_BAD_NAME);
	bad = in;
	bad.name = "sato2";
	bad.role = ROLE__MAX;
	T_CHECK(account_add(s, &bad, NULL) == ACCOUNT_BAD_ROLE);
	bad.role = ROLE_AUTHOR;
	bad.email = "not-an-address";
	T_CHECK(account_add(s, &bad, NULL) == ACCOUNT_BAD_EMAIL);
	bad.email = NULL;
	bad.password = "too short";
	T_CHECK(account_add(s, &bad, NULL) == ACCOUNT_BAD_PASSWORD);
	bad.password = "long enough now";
	bad.display_name = "two\nlines";
	T_CHECK(account_add(s, &bad, NULL) == ACCOUNT_BAD_DISPLAY);
	bad.display_name = "   ";
	T_CHECK(account_add(s, &bad, NULL) == ACCOUNT_BAD_DISPLAY);
	bad.display_name = NULL; /* defaults to the login name */
	T_CHECK(account_add(s, &bad, NULL) == ACCOUNT_OK);
	T_CHECK(store_user_by_name(s, "sato2", a, &u) == STORE_OK);
	T_STREQ(u.display_name, "sato2");
	T_STREQ(u.email, "");
	T_CHECK(u.role == ROLE_AUTHOR);

	/* list: every user, by name */
	struct store_user *list;
	size_t n = 0;
	T_CHECK(store_user_list(s, a, &list, &n) == STORE_OK);
	T_CHECK(n == 3);
	if (n == 3) {
		T_STREQ(list[0].name, "desk");
		T_STREQ(list[1].name, "sato");
		T_STREQ(list[2].name, "sato2");
	}
	arena_free(a);
	store_close(s);
}

static void
test_password_epoch_disable(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_user u;
	int64_t id = 0;
	struct account_new in = {.name = "chief", .role = ROLE_ADMIN,
	    .password = "first password"};
	T_CHECK(account_add(s, &in, &id) == ACCOUNT_OK);

	/* a new password: the old one stops working, the epoch moves on */
	T_CHECK(account_set_password(s, id, "second password") == ACCOUNT_OK);
	T_CHECK(account_verify(s, "chief", "first password", a, &u) == ACCOUNT_DENIED);
	T_CHECK(account_verify(s, "chief", "second password", a, &u) == ACCOUNT_OK);
	T_CHECK(u.cred_epoch == 1);
	T_CHECK(account_set_password(s, id, "third password") == ACCOUNT_OK);
	T_CHECK(store_user_get(s, id, a, &u) == STORE_OK);
	T_CHECK(u.cred_epoch == 2);
	T_CHECK(account_set_password(s, id, "short") == ACCOUNT_BAD_PASSWORD);
	T_CHECK(account_set_password(s, 9999, "long enough pw") == ACCOUNT_NOTFOUND);

	/* disabled: refused with the right password too; sessions end */
	T_CHECK(account_set_disabled(s, id, true) == ACCOUNT_OK);
	T_CHECK(account_verify(s, "chief", "third password", a, &u) == ACCOUNT_DENIED);
	T_CHECK(store_user_get(s, id, a, &u) == STORE_OK);
	T_CHECK(u.disabled);
	T_CHECK(u.cred_epoch == 3);
	T_CHECK(account_set_disabled(s, id, false) == ACCOUNT_OK);
	T_CHECK(account_verify(s, "chief", "third password", a, &u) == ACCOUNT_OK);
	T_CHECK(!u.disabled);
	T_CHECK(u.cred_epoch == 3); /* enabling does not bump */
	T_CHECK(account_set_disabled(s, 9999, true) == ACCOUNT_NOTFOUND);

	/* role, e-mail, display name */
	T_CHECK(account_set_role(s, id, ROLE_AUTHOR) == ACCOUNT_OK);
	T_CHECK(account_set_role(s, id, ROLE__MAX) == ACCOUNT_BAD_ROLE);
	T_CHECK(account_set_email(s, id, "chief@example.com") == ACCOUNT_OK);
	T_CHECK(account_set_email(s, id, "chief at example") == ACCOUNT_BAD_EMAIL);
	T_CHECK(account_set_display_name(s, id, "編集長") == ACCOUNT_OK);
	T_CHECK(account_set_display_name(s, id, "") == ACCOUNT_BAD_DISPLAY);
	T_CHECK(account_set_role(s, 9999, ROLE_EDITOR) == ACCOUNT_NOTFOUND);
	T_CHECK(store_user_get(s, id, a, &u) == STORE_OK);
	T_CHECK(u.role == ROLE_AUTHOR);
	T_STREQ(u.email, "chief@example.com");
	T_STREQ(u.display_name, "編集長");
	T_CHECK(u.cred_epoch == 3); /* none of these end sessions */
	T_CHECK(account_set_email(s, id, "") == ACCOUNT_OK);
	T_CHECK(store_user_by_name(s, "chief", a, &u) == STORE_OK);
	T_STREQ(u.email, "");
	T_CHECK(store_user_by_name(s, "nobody", a, &u) == STORE_NOTFOUND);
	arena_free(a);
	store_close(s);
}

static void
test_random_password(void)
{
	char p1[17], p2[17];
	account_random_password(p1, 16);
	account_random_password(p2, 16);
	T_CHECK(strlen(p1) == 16);
	T_CHECK(strcmp(p1, p2) != 0);
	T_CHECK(strpbrk(p1, "0O1lIo") == NULL);
	for (int i = 0; i < 16; i++)
		T_CHECK((p1[i] >= 'a' && p1[i] <= 'z') ||
		    (p1[i] >= 'A' && p1[i] <= 'Z') || (p1[i] >= '2' && p1[i] <= '9'));
	char h[ACCOUNT_HASH_MAX];
	T_CHECK(account_hash(p1, h) == ACCOUNT_OK); /* long enough to use */
}

/* ---- the two-hash limit ---------------------------------------------------- */

#define HASHERS 6

static pthread_barrier_t hash_barrier;
static char hash_out[HASHERS][ACCOUNT_HASH_MAX];
static const char *hash_stored;

static void *
hasher(void *arg)
{
	int i = (int)(intptr_t)arg;
	pthread_barrier_wait(&hash_barrier);
	if (i % 2 == 0)
		account_hash("many at once please", hash_out[i]);
	else
		strcpy(hash_out[i], account_hash_check(hash_stored,
		    "many at once please") ? "ok" : "bad");
	return NULL;
}

/* Six threads hash and verify at the same moment: the counter kept
 * around the Argon2id calls never sees more than two at once, and does
 * see two (the slots are used, not serialised to one). */
static void
test_hash_slots(void)
{
	char stored[ACCOUNT_HASH_MAX];
	pthread_t th[HASHERS];
	T_CHECK(account_hash("many at once please", stored) == ACCOUNT_OK);
	hash_stored = stored;
	account_hash_peak_reset();
	pthread_barrier_init(&hash_barrier, NULL, HASHERS);
	for (int i = 0; i < HASHERS; i++)
		pthread_create(&th[i], NULL, hasher, (void *)(intptr_t)i);
	for (int i = 0; i < HASHERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&hash_barrier);
	T_CHECK(account_hash_peak() <= ACCOUNT_HASH_SLOTS);
	T_CHECK(account_hash_peak() == 2);
	for (int i = 0; i < HASHERS; i++) {
		if (i % 2 == 0)
			T_CHECK(account_hash_check(hash_out[i], "many at once please"));
		else
			T_STREQ(hash_out[i], "ok");
	}
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "accounts"))
		return 1;
	T_RUN(test_names);
	T_RUN(test_emails_roles);
	T_RUN(test_hash_verify);
	T_RUN(test_add_verify);
	T_RUN(test_password_epoch_disable);
	T_RUN(test_random_password);
	T_RUN(test_hash_slots);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
