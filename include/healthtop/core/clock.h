#ifndef HEALTHTOP_CORE_CLOCK_H
#define HEALTHTOP_CORE_CLOCK_H
/* Wall-clock time and its one text form, shared by every room that stamps or prints a time. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t clock_wall_ms(void);
/* 2026-11-23T10:00:00Z, or with milliseconds 2026-11-23T10:00:00.123Z when with_ms. */
void clock_iso8601(int64_t unix_ms, bool with_ms, char *buf, size_t size);

#endif
