/*
 * Time: the site time zone (IANA name, system tz database), Japanese
 * dates, RFC 3339, RFC 1123 and strict ISO 8601 parsing. The C library
 * keeps its zone in the process-wide TZ variable, so the lock below
 * serialises switching it against every conversion that reads it.
 */
#include "text.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TZ_DIR "/usr/share/zoneinfo"
#define TZ_DEFAULT "Asia/Tokyo"
#define TZ_DEFAULT_POSIX "JST-9" /* same rules, for hosts without tzdata */
#define TZ_NAME_MAX 128

/*
 * Clamp for epoch seconds: 0001-01-02 .. 9999-12-30 UTC, so that in any
 * zone the local year keeps four digits and localtime_r cannot fail.
 */
#define TEXT_T_MIN INT64_C(-62135510400)
#define TEXT_T_MAX INT64_C(253402214399)

/*
 * The tz lock state, text's only globals: readers convert, writers switch.
 * glibc's default rwlock lets a steady stream of readers (every page
 * render) starve text_tz_set forever, so prefer the writer where we can.
 */
#ifdef PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
static pthread_rwlock_t tz_lock =
	PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
#else
static pthread_rwlock_t tz_lock = PTHREAD_RWLOCK_INITIALIZER;
#endif
static pthread_once_t tz_once = PTHREAD_ONCE_INIT;
static unsigned tz_gen; /* bumped by every switch, under the write lock */

/*
 * Builds TZ_DIR/name into path when name looks like an IANA zone name:
 * relative, ASCII letters, digits and "/_+-." only, no "..". False otherwise.
 */
static bool
tz_path(const char *name, char *path, size_t size)
{
	if (name == NULL || name[0] == '\0' || name[0] == '/' ||
	    strlen(name) > TZ_NAME_MAX || strstr(name, "..") != NULL)
		return false;
	for (const char *p = name; *p; p++) {
		char c = *p;
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && strchr("/_+-.", c) == NULL)
			return false;
	}
	int r = snprintf(path, size, "%s/%s", TZ_DIR, name);
	return r > 0 && (size_t)r < size;
}

/*
 * True when path is a regular file starting with the TZif magic, so that
 * directories ("Asia") and the database's tables ("zone.tab") are refused
 * rather than silently read by the C library as UTC.
 */
static bool
tz_file_ok(const char *path)
{
	struct stat st;
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return false;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}

/*
 * Points TZ at the zone file (absolute, so TZDIR cannot redirect it) and
 * reloads it. Caller holds the write lock.
 */
static void
tz_apply(const char *path)
{
	char env[sizeof(TZ_DIR) + TZ_NAME_MAX + 3];

	snprintf(env, sizeof(env), ":%s", path);
	setenv("TZ", env, 1);
	tzset();
	tz_gen++;
}

/* pthread_once hook: the site zone is Asia/Tokyo until told otherwise. */
static void
tz_default(void)
{
	char path[sizeof(TZ_DIR) + TZ_NAME_MAX + 2];

	pthread_rwlock_wrlock(&tz_lock);
	if (tz_path(TZ_DEFAULT, path, sizeof(path)) && tz_file_ok(path)) {
		tz_apply(path);
	} else {
		setenv("TZ", TZ_DEFAULT_POSIX, 1);
		tzset();
	}
	pthread_rwlock_unlock(&tz_lock);
}

/* Validates and checks the file outside the lock; only the switch itself
 * excludes readers. */
bool
text_tz_set(const char *name)
{
	char path[sizeof(TZ_DIR) + TZ_NAME_MAX + 2];

	pthread_once(&tz_once, tz_default);
	if (!tz_path(name, path, sizeof(path)) || !tz_file_ok(path))
		return false;
	pthread_rwlock_wrlock(&tz_lock);
	tz_apply(path);
	pthread_rwlock_unlock(&tz_lock);
	return true;
}

/* Clamps t into the range every formatter below can print. */
static time_t
clamp_time(int64_t t)
{
	if (t < TEXT_T_MIN)
		t = TEXT_T_MIN;
	if (t > TEXT_T_MAX)
		t = TEXT_T_MAX;
	return (time_t)t;
}

/* Copies a struct tm into the module's own broken-down form. */
static void
tm_export(const struct tm *tm, struct text_tm *out)
{
	out->year = tm->tm_year + 1900;
	out->mon = tm->tm_mon + 1;
	out->mday = tm->tm_mday;
	out->hour = tm->tm_hour;
	out->min = tm->tm_min;
	out->sec = tm->tm_sec;
	out->wday = tm->tm_wday;
	out->gmtoff = tm->tm_gmtoff;
}

/* Broken-down UTC time of t (clamped); gmtime_r ignores the site zone. */
static void
utc_time(int64_t t, struct text_tm *out)
{
	struct tm tm;
	time_t tt = clamp_time(t);

	gmtime_r(&tt, &tm);
	tm_export(&tm, out);
	out->gmtoff = 0;
}

/*
 * UTC hours this thread converted, when the zone's offset held through
 * all of the hour: a small table indexed by the hour's number. glibc's
 * localtime_r is slow past a zone file's last transition (it parses the
 * POSIX rule string on every call: Asia/Tokyo today), and a page converts
 * one or two instants per comment and card, mostly in the same hours;
 * inside such an hour, local time is UTC time plus the offset.
 */
#define TZ_MEMO 256
struct tz_memo {
	bool ok;
	unsigned gen;   /* tz_gen it was made under */
	int64_t lo, hi; /* [lo, hi): one aligned UTC hour */
	long off;
};
static _Thread_local struct tz_memo tz_memos[TZ_MEMO];

static struct tz_memo *
tz_memo_at(int64_t t)
{
	int64_t hour = (t - ((t % 3600) + 3600) % 3600) / 3600;
	return &tz_memos[(uint64_t)hour % TZ_MEMO];
}

static bool
tm_same(const struct text_tm *a, const struct text_tm *b)
{
	return a->year == b->year && a->mon == b->mon && a->mday == b->mday &&
	    a->hour == b->hour && a->min == b->min && a->sec == b->sec &&
	    a->wday == b->wday && a->gmtoff == b->gmtoff;
}

/* t's local time as UTC arithmetic: t + off, broken down with the
 * proleptic Gregorian civil-from-days of H. Hinnant (what gmtime_r
 * computes, without its call and loops). Callers keep t + off well
 * inside the clamp range. */
static void
tm_shifted(int64_t t, long off, struct text_tm *out)
{
	int64_t u = t + off;
	int64_t z = u >= 0 ? u / 86400 : -((-u + 86399) / 86400);
	int64_t secs = u - z * 86400;
	out->hour = (int)(secs / 3600);
	out->min = (int)(secs / 60 % 60);
	out->sec = (int)(secs % 60);
	out->wday = (int)(((z % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	out->year = (int)(yoe + era * 400 + (mon <= 2));
	out->mon = mon;
	out->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	out->gmtoff = off;
}

/*
 * Remembers tt's hour when plain arithmetic gives what localtime_r gave at
 * tt and at both ends of the hour: same offset at the ends (no change of
 * offset inside, short of two that cancel within an hour, which no zone
 * has), and no leap-second correction ("right/" zones never qualify).
 * Caller holds the read lock.
 */
static void
tz_memo_fill(time_t tt, const struct text_tm *got)
{
	int64_t lo = (int64_t)tt - (((int64_t)tt % 3600) + 3600) % 3600;
	int64_t hi = lo + 3600;
	struct tm tm;
	struct text_tm at, calc;
	struct tz_memo *m = tz_memo_at(tt);

	m->ok = false;
	if (lo < TEXT_T_MIN + 2 * 86400 || hi > TEXT_T_MAX - 2 * 86400)
		return;
	tm_shifted(tt, got->gmtoff, &calc);
	if (!tm_same(&calc, got))
		return;
	for (int k = 0; k < 2; k++) {
		time_t e = (time_t)(k == 0 ? lo : hi - 1);
		if (localtime_r(&e, &tm) == NULL)
			return;
		tm_export(&tm, &at);
		tm_shifted(e, got->gmtoff, &calc);
		if (!tm_same(&calc, &at))
			return;
	}
	m->gen = tz_gen;
	m->lo = lo;
	m->hi = hi;
	m->off = got->gmtoff;
	m->ok = true;
}

/* localtime_r under the read lock, so a zone switch is never half-seen. */
void
text_localtime(int64_t t, struct text_tm *out)
{
	struct tm tm;
	time_t tt = clamp_time(t);

	pthread_once(&tz_once, tz_default);
	pthread_rwlock_rdlock(&tz_lock);
	const struct tz_memo *m = tz_memo_at(tt);
	if (m->ok && m->gen == tz_gen && (int64_t)tt >= m->lo &&
	    (int64_t)tt < m->hi) {
		long off = m->off;
		pthread_rwlock_unlock(&tz_lock);
		tm_shifted(tt, off, out);
		return;
	}
	bool ok = localtime_r(&tt, &tm) != NULL;
	if (ok) {
		tm_export(&tm, out);
		tz_memo_fill(tt, out);
	}
	pthread_rwlock_unlock(&tz_lock);
	if (!ok)
		utc_time(t, out); /* unreachable after clamping; be total */
}

/* Appends v as decimal, zero-padded to width digits. Dates are formatted
 * by hand: pages show two per comment and printf was a fifth of the
 * render time of a 100-comment page. */
static void
date_num(char **p, long v, int width)
{
	if (v >= 0 && v < 100 && width <= 2) { /* all but years */
		if (v >= 10 || width == 2)
			*(*p)++ = (char)('0' + v / 10);
		*(*p)++ = (char)('0' + v % 10);
		return;
	}
	char tmp[24];
	int n = 0;
	bool neg = v < 0;
	unsigned long u = neg ? (unsigned long)-v : (unsigned long)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && n < 20);
	while (n < width && n < 20)
		tmp[n++] = '0';
	if (neg)
		*(*p)++ = '-';
	while (n)
		*(*p)++ = tmp[--n];
}

/* "2022年 1月 09日" into s (TEXT_DATE_MAX bytes); returns its length. */
static size_t
date_ja_s(char *s, const struct text_tm *tm)
{
	char *p = s;
	date_num(&p, tm->year, 1);
	memcpy(p, "年 ", 4);
	p += 4;
	date_num(&p, tm->mon, 1);
	memcpy(p, "月 ", 4);
	p += 4;
	date_num(&p, tm->mday, 2);
	memcpy(p, "日", 3);
	p += 3;
	return (size_t)(p - s);
}

static void
date_ja(buf *out, const struct text_tm *tm)
{
	char s[TEXT_DATE_MAX];
	buf_put(out, s, date_ja_s(s, tm));
}

/*
 * Offsets that are not whole minutes (local mean time before a zone
 * adopted standard time, e.g. Tokyo +09:18:59 before 1888) have no
 * RFC 3339 form; such instants are written in UTC with "Z" instead.
 */
static size_t
date_rfc3339_s(char *s, const struct text_tm *local, int64_t t)
{
	struct text_tm tm = *local;
	bool utc = tm.gmtoff % 60 != 0;
	if (utc)
		utc_time(t, &tm);
	char *p = s;
	date_num(&p, tm.year, 4);
	*p++ = '-';
	date_num(&p, tm.mon, 2);
	*p++ = '-';
	date_num(&p, tm.mday, 2);
	*p++ = 'T';
	date_num(&p, tm.hour, 2);
	*p++ = ':';
	date_num(&p, tm.min, 2);
	*p++ = ':';
	date_num(&p, tm.sec, 2);
	if (utc) {
		*p++ = 'Z';
	} else {
		long off = tm.gmtoff < 0 ? -tm.gmtoff : tm.gmtoff;
		*p++ = tm.gmtoff < 0 ? '-' : '+';
		date_num(&p, off / 3600, 2);
		*p++ = ':';
		date_num(&p, off / 60 % 60, 2);
	}
	return (size_t)(p - s);
}

static void
date_rfc3339(buf *out, const struct text_tm *local, int64_t t)
{
	char s[TEXT_DATE_MAX];
	buf_put(out, s, date_rfc3339_s(s, local, t));
}

/* "2022年 1月 09日": the comment-date form readers know from the seed page. */
void
text_ja_date(buf *out, int64_t t)
{
	struct text_tm tm;

	text_localtime(t, &tm);
	date_ja(out, &tm);
}

/* "2022年 1月 09日 13:05" */
void
text_ja_datetime(buf *out, int64_t t)
{
	struct text_tm tm;

	text_localtime(t, &tm);
	buf_printf(out, "%d年 %d月 %02d日 %02d:%02d", tm.year, tm.mon,
	    tm.mday, tm.hour, tm.min);
}

/*
 * Offsets that are not whole minutes (local mean time before a zone
 * adopted standard time, e.g. Tokyo +09:18:59 before 1888) have no
 * RFC 3339 form; such instants are written in UTC with "Z" instead.
 */
void
text_rfc3339(buf *out, int64_t t)
{
	struct text_tm tm;

	text_localtime(t, &tm);
	date_rfc3339(out, &tm, t);
}

/* Both forms a page shows for one instant, with one zone conversion. */
void
text_dates(buf *ja, buf *iso, int64_t t)
{
	struct text_tm tm;

	text_localtime(t, &tm);
	date_ja(ja, &tm);
	date_rfc3339(iso, &tm, t);
}

/* text_dates into two arrays of TEXT_DATE_MAX bytes (not terminated), for
 * callers that copy the bytes anyway: no buffer growth per date. */
void
text_dates_s(char *ja, size_t *nja, char *iso, size_t *niso, int64_t t)
{
	struct text_tm tm;

	text_localtime(t, &tm);
	*nja = date_ja_s(ja, &tm);
	*niso = date_rfc3339_s(iso, &tm, t);
}

/* English names from our own tables: strftime would follow the locale. */
void
text_http_date(buf *out, int64_t t)
{
	static const char wday_en[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char mon_en[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	struct text_tm tm;

	utc_time(t, &tm);
	buf_printf(out, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    wday_en[tm.wday], tm.mday, mon_en[tm.mon - 1], tm.year, tm.hour,
	    tm.min, tm.sec);
}

/* Reads exactly n ASCII digits at s into *v; false on anything else. */
static bool
digits(const char *s, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

/* Days in month mon (1..12) of year y, Gregorian leap rules. */
static int
month_days(int y, int mon)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mon == 2 && leap ? 29 : days[mon - 1];
}

/*
 * Strict: exactly "YYYY-MM-DD" (UTC midnight) or
 * "YYYY-MM-DDTHH:MM[:SS]" + "Z" or "±HH:MM"; upper-case T and Z, no
 * fractions, no leap second, no surrounding space. *out is set only on
 * success.
 */
bool
text_parse_iso8601(const char *s, int64_t *out)
{
	int y, mon, d, h = 0, min = 0, sec = 0, oh = 0, om = 0;
	long off = 0;

	if (s == NULL || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mon) || s[7] != '-' || !digits(s + 8, 2, &d))
		return false;
	if (mon < 1 || mon > 12 || d < 1 || d > month_days(y, mon))
		return false;

	const char *p = s + 10;
	if (*p != '\0') {
		if (p[0] != 'T' || !digits(p + 1, 2, &h) || p[3] != ':' ||
		    !digits(p + 4, 2, &min))
			return false;
		p += 6;
		if (*p == ':') {
			if (!digits(p + 1, 2, &sec))
				return false;
			p += 3;
		}
		if (h > 23 || min > 59 || sec > 59)
			return false;
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			if (!digits(p + 1, 2, &oh) || p[3] != ':' ||
			    !digits(p + 4, 2, &om) || oh > 23 || om > 59)
				return false;
			off = (long)oh * 3600 + om * 60;
			if (*p == '-')
				off = -off;
			p += 6;
		} else {
			return false;
		}
		if (*p != '\0')
			return false;
	}

	struct tm tm = {
		.tm_year = y - 1900,
		.tm_mon = mon - 1,
		.tm_mday = d,
		.tm_hour = h,
		.tm_min = min,
		.tm_sec = sec,
	};
	*out = (int64_t)timegm(&tm) - off;
	return true;
}
