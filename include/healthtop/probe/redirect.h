/* Which redirects a check may follow: never from https to http, and never to another host when
 * the target has configured headers (libcurl strips only Authorization there, not an API key). */
#ifndef HEALTHTOP_REDIRECT_H
#define HEALTHTOP_REDIRECT_H

#include <stddef.h>
#include "healthtop/core/config.h"

/* Writes into why (size bytes) the reason the redirect from t's check URL to `to` must not be
 * followed, or "" when it may be. `to` is shown escaped (no raw byte from a Location header). */
void redirect_judge(const struct ht_target *t, const char *to, char *why, size_t size);

#endif
