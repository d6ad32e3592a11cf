#ifndef HEALTHTOP_CORE_PATHS_H
#define HEALTHTOP_CORE_PATHS_H
/* Where healthtop keeps its files, by the XDG base-directory rules. */
#include <stddef.h>

enum paths_kind {
	PATHS_CONFIG, /* $XDG_CONFIG_HOME or ~/.config */
	PATHS_STATE,  /* $XDG_STATE_HOME or ~/.local/state */
};

/* "<base>/healthtop/<file>" into buf; NULL when neither the XDG variable (absolute) nor HOME is
 * set, or the path does not fit. */
char *paths_xdg(enum paths_kind kind, const char *file, char *buf, size_t size);

#endif
