/* Colour schemes in one place: role -> colours and attributes, from themes/NAME.theme files. */
#ifndef HEALTHTOP_THEME_H
#define HEALTHTOP_THEME_H

#include <stddef.h>
#include "healthtop/core/err.h"

enum theme_role {
	ROLE_HEALTHY, ROLE_DEGRADED, ROLE_DOWN, ROLE_PENDING,
	ROLE_HEADER, ROLE_TITLE, ROLE_PROJECT, ROLE_SELECTED, ROLE_STATUSLINE, ROLE_DIM,
	ROLE_MUTED,   /* the "muted 45m" marker */
	ROLE_COUNT
};

enum theme_attr { THEME_BOLD = 1, THEME_DIM = 2, THEME_UNDERLINE = 4, THEME_REVERSE = 8 };

struct theme_style {
	short fg;           /* -1: terminal default; 0-255 */
	short bg;
	unsigned attrs;     /* enum theme_attr bits */
};

struct theme {
	struct theme_style roles[ROLE_COUNT];
};

extern const char *const theme_role_names[ROLE_COUNT];

/* The built-in default (the same as themes/default.theme). */
void theme_default(struct theme *t);
/* No colour at all: attributes only (used for NO_COLOR and terminals without colour). */
void theme_mono(struct theme *t);

/* Parses "role = FG [BG] [ATTR...]" lines over the default theme (pure). Errors name
 * source:line. */
int theme_parse(const char *text, size_t len, const char *source, struct theme *t, struct ht_err *err);

/* NAME as a path (with a '/'), else NAME.theme in $XDG_CONFIG_HOME/healthtop/themes,
 * $HEALTHTOP_THEMES, the installed themes directory and ./themes; "default" and "mono" are
 * built in. */
int theme_load(const char *name, struct theme *t, struct ht_err *err);

#endif
