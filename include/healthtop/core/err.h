/* Error messages for people: every fallible function fills one of these. */
#ifndef HEALTHTOP_ERR_H
#define HEALTHTOP_ERR_H

struct ht_err {
	char msg[512];
};

void ht_err_set(struct ht_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
