/* What an operator says a good answer is: accepted status codes and JSON body assertions.
 * Pure: no I/O, no globals. */
#ifndef HEALTHTOP_CORE_EXPECT_H
#define HEALTHTOP_CORE_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

#define EXPECT_STATUS_MAX 16
#define EXPECT_JSON_MAX 16

struct status_range {
	int lo, hi;   /* inclusive */
};

struct expect_status {
	struct status_range r[EXPECT_STATUS_MAX];
	size_t n;     /* 0: the default, 200-299 */
};

struct cJSON;

struct expect_json {
	char *pointer;              /* RFC 6901, e.g. "/database/status" */
	struct cJSON *want;         /* owned */
};

/* "200", "200-299" or "2xx" into *out; -1 for anything else or codes outside 100..599. */
int expect_status_parse(const char *s, struct status_range *out);
bool expect_status_accepts(const struct expect_status *e, long code);

/* -1 unless s is a JSON pointer ("" or "/a/b~1c/0"). */
int expect_json_pointer_valid(const char *s);
/* The value at pointer in root, or NULL. */
const struct cJSON *expect_json_lookup(const struct cJSON *root, const char *pointer);
/* Checks every assertion against the parsed body (NULL when it was not JSON). On the first that
 * fails, writes e.g. `/database/status is "down", expected "up"` into why and returns false. */
bool expect_json_holds(const struct cJSON *root, const struct expect_json *e, size_t n, char *why,
		       size_t size);

#endif
