/*
 * WordPress's text forms: percent-encoded slugs and paths, and its dates
 * ("YYYY-MM-DD HH:MM:SS", in GMT or in the site's zone).
 */
#include "port.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes %XX (any hex case) into a copy; WordPress stores non-ASCII slugs
 * percent-encoded. Invalid UTF-8 afterwards: "". */
const char *
port_pct_decode(arena *a, const char *s)
{
	size_t n = strlen(s), k = 0;
	char *o = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1])
		    && isxdigit((unsigned char)s[i + 2])) {
			char hx[3] = {s[i + 1], s[i + 2], 0};
			o[k++] = (char)strtol(hx, NULL, 16);
			i += 2;
		} else {
			o[k++] = s[i];
		}
	}
	o[k] = '\0';
	return text_utf8_valid(o, k) ? o : "";
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
port_days(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD HH:MM:SS" as epoch seconds read as UTC; false for
 * 0000-00-00 and anything malformed. */
static bool
port_parse_date(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, se = 0;
	if (s == NULL || sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi,
	    &se) < 3)
		return false;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
		return false;
	*out = port_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return true;
}

/* A date given in GMT, else the local one in the site zone, else 0. */
int64_t
port_wp_date(const char *gmt, const char *local)
{
	int64_t t;
	if (port_parse_date(gmt, &t))
		return t;
	if (!port_parse_date(local, &t))
		return 0;
	/* local → UTC: the zone's offset at that moment, twice for DST edges */
	struct text_tm tm;
	int64_t u = t;
	for (int k = 0; k < 2; k++) {
		text_localtime(u, &tm);
		u = t - tm.gmtoff;
	}
	return u < 0 ? 0 : u;
}

