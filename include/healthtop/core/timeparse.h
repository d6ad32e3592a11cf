/* Times people type on the command line (pure): ISO 8601 or relative to now. */
#ifndef HEALTHTOP_TIMEPARSE_H
#define HEALTHTOP_TIMEPARSE_H

#include <stdint.h>

/* "2026-11-23" (UTC midnight), "2026-11-23T10:00:00Z", "2026-11-23T10:00:00+02:00",
 * "2026-11-23 10:00", fractions of a second; or relative: "90s", "30m", "24h", "7d", "2w" before
 * now_ms. Returns 0 and unix ms in *out, or -1. */
int timeparse(const char *s, int64_t now_ms, int64_t *out);

#endif
