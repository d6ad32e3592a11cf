/* What one check leaves in history: the row observe() makes and every store writes. A plain
 * struct in core so that the pure verdict step needs no store header. */
#ifndef HEALTHTOP_CORE_STORE_ROW_H
#define HEALTHTOP_CORE_STORE_ROW_H

#include <stdbool.h>
#include <stdint.h>
#include "healthtop/core/health_class.h"

/* One stored check. Absent numbers: http_code 0, phases < 0, cert_expiry 0. */
struct store_row {
	int64_t target_id;
	int64_t checked_at_ms;
	enum ht_class cls;
	bool up;              /* counts towards uptime (classify_is_up) */
	long http_code;
	double response_ms;
	double dns_ms;
	double connect_ms;
	double tls_ms;
	double ttfb_ms;
	int64_t cert_expiry;
	const char *reason;
	const char *error;    /* NULL or "" when none */
	const char *url;      /* the URL checked; NULL: the target's URL as stored now */
};

#endif
