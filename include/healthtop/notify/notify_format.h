/* What a notification says, in each destination's format. Pure: no I/O, no clock. */
#ifndef HEALTHTOP_NOTIFY_FORMAT_H
#define HEALTHTOP_NOTIFY_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One change of displayed state. Strings are already sanitized (no control bytes). */
struct notify_event {
	const char *name;
	const char *project;
	const char *url;        /* never carries a password: the display URL */
	int old_cls;            /* ht_class, or -1 when unknown (first result) */
	int new_cls;
	const char *reason;
	int64_t since_ms;       /* when the previous state began (0: unknown) */
	int64_t at_ms;          /* when the new state was confirmed */
};

enum notify_format { NOTIFY_JSON, NOTIFY_SLACK, NOTIFY_NTFY };

#define NOTIFY_ENV_COUNT 8

/* "api is down: HTTP 503" or "api recovered (healthy) after 12m" */
void notify_message(const struct notify_event *e, char *out, size_t size);
/* "12m", "3h 5m", "2d 4h" */
void notify_duration(int64_t seconds, char *out, size_t size);

/* The request body (malloc'd, NUL-terminated) and its content type; for ntfy also the Title and
 * Priority headers ("Title: ...") into hdr[2] (each up to hdrsize). NULL when out of memory. */
char *notify_body(const struct notify_event *e, enum notify_format fmt, const char **content_type,
		  char hdr[2][256], size_t *nhdr);

/* HEALTHTOP_NAME=..., HEALTHTOP_PROJECT, _URL, _OLD, _NEW, _REASON, _SINCE, _DURATION_S: the
 * environment an exec destination runs with. Each entry malloc'd; free with notify_env_free. */
int notify_env(const struct notify_event *e, char *env[NOTIFY_ENV_COUNT + 1]);
void notify_env_free(char *env[NOTIFY_ENV_COUNT + 1]);

#endif
