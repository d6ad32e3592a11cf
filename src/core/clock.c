#include "autoconfig.h"

#include <stdio.h>
#include <time.h>

#include "healthtop/core/clock.h"

int64_t clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_iso8601(int64_t unix_ms, bool with_ms, char *buf, size_t size)
{
	time_t s = (time_t)(unix_ms / 1000);
	struct tm tm;
	char base[32];

	if (!gmtime_r(&s, &tm)) {
		snprintf(buf, size, "?");
		return;
	}
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_ms)
		snprintf(buf, size, "%s.%03dZ", base, (int)(unix_ms % 1000));
	else
		snprintf(buf, size, "%sZ", base);
}
