/* Shared by the body formats (body.c: JSON, body_text.c: Kubernetes text): one way to record a
 * component, so every format's components read the same in the reason and the detail view. */
#ifndef HEALTHTOP_BODY_PRIV_H
#define HEALTHTOP_BODY_PRIV_H

#include "healthtop/core/body.h"

/* A component that is not ok makes the body degraded, never down: the service itself answered.
 * detail (may be NULL) replaces the state in the reason. */
void body_add_component(struct body_report *out, const char *name, const char *state,
			enum ht_class cls, const char *detail);

/* Kubernetes' verbose health text (`[+]name ok`, `[-]name failed: reason`). False, with out
 * untouched, when the body has no such line. */
bool body_text_assess(const char *body, size_t len, struct body_report *out);

#endif
