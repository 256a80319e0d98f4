/*
 * Minimal unit-test harness: each test_*.c is one binary; main() calls
 * T_RUN(fn) per case. Prints "ok name" / "FAIL name: file:line: expr"
 * and, last, "unit <file>: N passed, N failed"; exits 1 on any failure.
 * Also temporary directories (t_tmpdir, t_tmpdir_remove); the tests that
 * need a store include t_db.h as well.
 */
#ifndef KIJI_T_H
#define KIJI_T_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_pass, t_fail, t_cur_failed;
static const char *t_cur;

#define T_CHECK(expr)                                                       \
	do {                                                                \
		if (!(expr)) {                                              \
			printf("FAIL %s: %s:%d: %s\n", t_cur, __FILE__,     \
			    __LINE__, #expr);                               \
			t_cur_failed = 1;                                   \
		}                                                           \
	} while (0)

#define T_STREQ(a, b)                                                       \
	do {                                                                \
		const char *t_a_ = (a), *t_b_ = (b);                        \
		if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_)) {   \
			printf("FAIL %s: %s:%d: %s == %s\n  got:  [%s]\n  want: [%s]\n", \
			    t_cur, __FILE__, __LINE__, #a, #b,              \
			    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)"); \
			t_cur_failed = 1;                                   \
		}                                                           \
	} while (0)

#define T_RUN(fn)                                                           \
	do {                                                                \
		t_cur = #fn;                                                \
		t_cur_failed = 0;                                           \
		fn();                                                       \
		if (t_cur_failed) {                                         \
			t_fail++;                                           \
		} else {                                                    \
			t_pass++;                                           \
			printf("ok %s\n", #fn);                             \
		}                                                           \
	} while (0)

#define T_DONE()                                                            \
	do {                                                                \
		printf("unit %s: %d passed, %d failed\n", __FILE__, t_pass, \
		    t_fail);                                                \
		return t_fail ? 1 : 0;                                      \
	} while (0)

/* Makes a fresh private directory /tmp/kiji-<name>-XXXXXX into dir (n
 * bytes); false, with the reason printed, when it cannot. */
static inline bool
t_tmpdir(char *dir, size_t n, const char *name)
{
	int len = snprintf(dir, n, "/tmp/kiji-%s-XXXXXX", name);
	if (len < 0 || (size_t)len >= n) {
		printf("t_tmpdir: name too long: %s\n", name);
		return false;
	}
	if (mkdtemp(dir) == NULL) {
		printf("mkdtemp /tmp/kiji-%s-XXXXXX: %s\n", name, strerror(errno));
		return false;
	}
	return true;
}

/* nftw's callback for t_tmpdir_remove: children come before their
 * directory (FTW_DEPTH), so remove() sees each directory empty. */
static inline int
t_tmpdir_rm1(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Removes dir and everything below it (links are not followed). */
static inline void
t_tmpdir_remove(const char *dir)
{
	nftw(dir, t_tmpdir_rm1, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
