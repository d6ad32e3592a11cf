#include "autoconfig.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "healthtop/core/timeparse.h"

static int relative(const char *s, int64_t now_ms, int64_t *out)
{
	char *end;
	long long n = strtoll(s, &end, 10);
	int64_t unit;

	if (end == s || n < 0 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 3600 * 1000; break;
	case 'd': unit = 86400 * 1000LL; break;
	case 'w': unit = 7 * 86400 * 1000LL; break;
	default: return -1;
	}
	if (n > 1000000)
		return -1;
	*out = now_ms - n * unit;
	return 0;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm): no time zone involved. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int zone(const char *p, int64_t *offset_ms)
{
	int hh, mm = 0;

	*offset_ms = 0;
	if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0'))
		return 0;
	if (*p != '+' && *p != '-')
		return -1;
	int sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 2, &hh) < 0)
		return -1;
	if (*p == ':')
		p++;
	if (*p && digits(&p, 2, &mm) < 0)
		return -1;
	if (*p || hh > 23 || mm > 59)
		return -1;
	*offset_ms = sign * ((int64_t)hh * 3600 + mm * 60) * 1000;
	return 0;
}

static int iso(const char *p, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	int64_t offset;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
	    digits(&p, 2, &d) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) < 0)
				return -1;
			if (*p == '.' || *p == ',') {
				int scale = 100;
				for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
					ms += (*p - '0') * scale;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
	}
	if (zone(p, &offset) < 0)
		return -1;
	*out = (days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec) * 1000 +
	       ms - offset;
	return 0;
}

int timeparse(const char *s, int64_t now_ms, int64_t *out)
{
	if (!s || !*s)
		return -1;
	if (strlen(s) >= 10 && s[4] == '-')
		return iso(s, out);
	return relative(s, now_ms, out);
}
