/* The fleet configuration: JSON → struct ht_config, with FILE:LINE errors. */
#ifndef HEALTHTOP_CONFIG_H
#define HEALTHTOP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "healthtop/core/err.h"
#include "healthtop/core/expect.h"
#include "healthtop/core/quorum.h"
#include "healthtop/core/soft_state.h"

#define HT_CONFIG_MAX_BYTES (16u * 1024 * 1024)
#define HT_NAME_MAX 128
#define HT_HEADERS_MAX 64   /* per target, defaults included */

struct ht_header {
	char *name;
	char *value;   /* ${VAR} already expanded: never stored or logged */
};

/* How a target is fetched: only the probe reads these. */
struct ht_probe_opts {
	int timeout_ms;
	struct ht_header *headers;
	size_t nheaders;
	char *ca_file;
	int ca_file_line;   /* for messages about ca_file */
	bool insecure;
	bool reuse_connections;   /* opt-in: keep-alive between checks (phases 0 when reused) */
};

/* How what came back is judged: only classification reads these. Zeroed rules are the
 * defaults (2xx accepted, a timeout or a 5xx degraded, no body assertion). */
struct ht_rules {
	int degraded_ms;
	int tls_expiry_warn_days;
	int heartbeat_stale_s;
	struct expect_status expect_status;   /* n 0: 200-299 */
	bool timeout_is_down;                 /* on_timeout: "down" (default "degraded") */
	bool server_error_is_down;            /* on_5xx: "down" (default "degraded") */
	struct expect_json *expect_json;      /* owned by the config; NULL when none */
	size_t nexpect_json;
};

struct ht_target {
	char *name;
	char *project;
	/* The three URLs are one string when they read alike (no path added, no password): at
	 * 100 000 targets, two copies less are 10 MB. config_free knows. */
	char *url;          /* as configured */
	char *check_url;    /* url + path: what is fetched */
	char *display_url;  /* check_url without any password: what is shown and stored */
	bool project_shared;   /* project is an earlier target's string (config_share_projects) */
	int interval_s;
	struct ht_probe_opts probe;
	struct ht_rules rules;
	struct soft_rules soft;   /* anti-flap: results needed before the displayed class changes */
	int retry_interval_s;     /* the next check while a change is pending (0: interval_s) */
	uint8_t quorum;           /* locations that must agree a target is down (1..QUORUM_MAX) */
};

struct ht_retention {
	int raw_days;       /* raw results */
	int hourly_days;    /* hourly rollups */
	int daily_days;     /* daily rollups and state changes; 0 = forever */
};

struct notify_dest;

struct ht_config {
	char *source;       /* file name used in messages */
	int concurrency;
	struct ht_retention retention;
	struct ht_target *targets;
	size_t ntargets;
	struct notify_dest *notify;   /* "notify": where changes of state are announced */
	size_t nnotify;
};

typedef const char *(*ht_getenv_fn)(const char *name);

/* Parses and validates a config text (pure: no file or network access; environment variables
 * come through `env`). On error fills err with "SOURCE:LINE: field: problem" and returns -1. */
int config_parse(const char *text, size_t len, const char *source, ht_getenv_fn env,
		 struct ht_config *cfg, struct ht_err *err);

/* Reads `path`, parses it with the process environment, and checks that every ca_file is
 * readable. */
int config_load(const char *path, struct ht_config *cfg, struct ht_err *err);

void config_free(struct ht_config *cfg);

/* $XDG_CONFIG_HOME/healthtop/config.json (or ~/.config/...). Returns buf or NULL. */
char *config_default_path(char *buf, size_t size);

#endif
