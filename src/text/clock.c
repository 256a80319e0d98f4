/*
 * text_now: the one wall clock for visibility and scheduling. In test
 * builds it can be moved forward by a file, so an integration test can
 * let a scheduled time pass without waiting for it (see text.h).
 */
#include "text.h"

#include <time.h>

#ifdef KIJI_TEST_HOOKS
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CLOCK_REREAD_NS 100000000LL /* 0.1 s */
#define CLOCK_MAX_OFFSET (100LL * 366 * 86400) /* a century either way */

static pthread_mutex_t clock_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t clock_offset;      /* seconds added to time(NULL) */
static int64_t clock_read_ns = -1; /* monotonic time of the last read */

/* Monotonic nanoseconds: the re-read interval must not follow the
 * (possibly injected) wall clock. */
static int64_t
clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The offset in path: one decimal integer, optionally signed and followed
 * by white space. A missing or malformed file keeps the old offset (a
 * test rewriting the file may be caught half-way). */
static void
clock_read(const char *path)
{
	char b[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return;
	b[n] = '\0';
	char *end;
	errno = 0;
	long long v = strtoll(b, &end, 10);
	while (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r')
		end++;
	if (end == b || *end != '\0' || errno || v > CLOCK_MAX_OFFSET ||
	    v < -CLOCK_MAX_OFFSET)
		return;
	clock_offset = v;
}

int64_t
text_now(void)
{
	const char *path = getenv("KIJI_TEST_CLOCK_FILE");
	if (path == NULL || *path == '\0')
		return (int64_t)time(NULL);
	pthread_mutex_lock(&clock_mu);
	int64_t t = clock_mono_ns();
	if (clock_read_ns < 0 || t - clock_read_ns >= CLOCK_REREAD_NS) {
		clock_read(path);
		clock_read_ns = t;
	}
	int64_t off = clock_offset;
	pthread_mutex_unlock(&clock_mu);
	return (int64_t)time(NULL) + off;
}

#else

int64_t
text_now(void)
{
	return (int64_t)time(NULL);
}

#endif
