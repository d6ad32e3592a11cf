/* Shared by the config parser's files (config.c: the document and its rules; config_rules.c:
 * what a good answer is and anti-flap; config_headers.c: request headers and ${VAR};
 * config_url.c: the target URL); not part of the public API. */
#ifndef HEALTHTOP_CONFIG_PRIV_H
#define HEALTHTOP_CONFIG_PRIV_H

#include <cjson/cJSON.h>
#include "healthtop/core/config.h"

#define HEADER_VALUE_MAX 8192

struct pctx {
	const char *text;
	size_t len;
	const char *source;
	ht_getenv_fn env;
	struct ht_err *err;
};

/* What a target inherits from "defaults" for judging answers and anti-flap, besides ht_rules
 * (which holds expect_status, on_timeout and on_5xx by value). */
struct alert_inherit {
	const cJSON *expect_json;   /* as written: each target builds its own copy */
	char expect_json_path[256];
	struct soft_rules soft;
	int retry_interval_s;
	int quorum;
};

/* Sets c->err to "FILE:LINE: path: what" (the path sanitized) and returns -1. */
int config_fail(struct pctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A URL for an error message: its password masked, short and printable. */
void config_quote_url(const char *url, char *out, size_t size);

/* Adds the headers of `obj` (at `path`) to t; a name already there is replaced. */
int config_add_headers(struct pctx *c, const cJSON *obj, const char *path, struct ht_probe_opts *t);

/* Checks url, builds check_url and display_url, and fills project from the host if unset. */
int config_set_urls(struct pctx *c, const char *path, const char *url, const char *upath,
		    struct ht_target *t);

/* `key` of obj as an integer min..max into *out; absent: *out unchanged. */
int config_get_int(struct pctx *c, const cJSON *obj, const char *key, const char *path, int min, int max,
		   int *out);
/* The offending value as it stood in the file, short and printable. */
void config_quote_value(const cJSON *item, char *out, size_t size);

/* Reads expect_status, on_timeout, on_5xx, expect_json, failures_before_down,
 * successes_before_healthy and retry_interval_s of obj (at path) over what *rules and *in hold. */
int config_get_alert_rules(struct pctx *c, const cJSON *obj, const char *path, struct ht_rules *rules,
			   struct alert_inherit *in);
/* Gives t its own expect_json assertions and its anti-flap settings. */
int config_set_alert_rules(struct pctx *c, const struct alert_inherit *in, struct ht_target *t);
void config_free_alert_rules(struct ht_rules *rules);

/* config_keys.c: an object's keys are all in allowed, none twice; else a message naming it. */
int config_check_keys(struct pctx *c, const cJSON *obj, const char *path, const char *const *allowed);
/* config.c's string check, for the parser's other files. */
int config_get_string(struct pctx *c, const cJSON *obj, const char *key, const char *path, size_t max,
		      bool allow_empty, const char **out);

/* config_notify.c: the "notify" list (targets already parsed). */
int config_parse_notify(struct pctx *c, const cJSON *root, struct ht_config *cfg);
void config_notify_free(struct ht_config *cfg);

/* Targets of one project hold one string of its name (a fleet has few projects and many
 * targets). Best effort: without memory for the index each keeps its own. */
void config_share_projects(struct ht_config *cfg);

#endif
