/*
 * Minimal unit-test harness: each test_*.c is one binary; main() calls
 * T_RUN(fn) per case. Prints "ok name" / "FAIL name: file:line: expr"
 * and, last, "unit <file>: N passed, N failed"; exits 1 on any failure.
 */
#ifndef KIJI_T_H
#define KIJI_T_H

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

#endif
