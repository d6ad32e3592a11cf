#include "autoconfig.h"
#include <stdarg.h>
#include <stdio.h>
#include "healthtop/core/err.h"

void ht_err_set(struct ht_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}
