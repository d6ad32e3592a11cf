#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>

#include "healthtop/core/paths.h"

char *paths_xdg(enum paths_kind kind, const char *file, char *buf, size_t size)
{
	const char *xdg = getenv(kind == PATHS_CONFIG ? "XDG_CONFIG_HOME" : "XDG_STATE_HOME");
	const char *home = getenv("HOME");
	const char *rel = kind == PATHS_CONFIG ? ".config" : ".local/state";
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s/healthtop/%s", xdg, file);
	else if (home && home[0])
		n = snprintf(buf, size, "%s/%s/healthtop/%s", home, rel, file);
	else
		return NULL;
	return (n > 0 && (size_t)n < size) ? buf : NULL;
}
