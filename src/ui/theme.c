#include "autoconfig.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "healthtop/core/paths.h"
#include "healthtop/core/sanitize.h"
#include "healthtop/ui/theme.h"

#ifndef HT_THEMEDIR
#define HT_THEMEDIR "/usr/local/share/healthtop/themes"
#endif
#define THEME_MAX_BYTES 65536
/* Every ASCII space but the newline that ends a line: a CR is space, so a theme saved with CRLF
 * line ends reads like the same file with LF ends. */
#define THEME_SPACE " \t\r\v\f"
/* Room for a word quoted in a message: 40 bytes, cut on a character boundary. */
#define QUOTE_ROOM 41

const char *const theme_role_names[ROLE_COUNT] = {
	"healthy", "degraded", "down", "pending", "header", "title", "project", "selected",
	"statusline", "dim", "muted",
};

static const char *const colour_names[8] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

static const struct { const char *name; unsigned bit; } attr_names[] = {
	{ "bold", THEME_BOLD }, { "dim", THEME_DIM }, { "underline", THEME_UNDERLINE },
	{ "reverse", THEME_REVERSE }, { "normal", 0 },
};

void theme_default(struct theme *t)
{
	static const struct theme def = { {
		[ROLE_HEALTHY] = { 2, -1, 0 },
		[ROLE_DEGRADED] = { 3, -1, THEME_BOLD },
		[ROLE_DOWN] = { 1, -1, THEME_BOLD },
		[ROLE_PENDING] = { -1, -1, THEME_DIM },
		[ROLE_HEADER] = { 0, 6, 0 },
		[ROLE_TITLE] = { 0, 2, 0 },
		[ROLE_PROJECT] = { 6, -1, THEME_BOLD },
		[ROLE_SELECTED] = { 0, 6, 0 },
		[ROLE_STATUSLINE] = { -1, -1, 0 },
		[ROLE_DIM] = { -1, -1, THEME_DIM },
		[ROLE_MUTED] = { 5, -1, 0 },   /* a theme file without "muted" keeps this */
	} };
	*t = def;
}

void theme_mono(struct theme *t)
{
	for (int r = 0; r < ROLE_COUNT; r++)
		t->roles[r] = (struct theme_style){ -1, -1, 0 };
	t->roles[ROLE_DOWN].attrs = THEME_BOLD;
	t->roles[ROLE_DEGRADED].attrs = THEME_UNDERLINE;
	t->roles[ROLE_PENDING].attrs = THEME_DIM;
	t->roles[ROLE_HEADER].attrs = THEME_REVERSE;
	t->roles[ROLE_TITLE].attrs = THEME_REVERSE;
	t->roles[ROLE_PROJECT].attrs = THEME_BOLD;
	t->roles[ROLE_SELECTED].attrs = THEME_REVERSE;
	t->roles[ROLE_DIM].attrs = THEME_DIM;
	t->roles[ROLE_MUTED].attrs = THEME_DIM;
}

/* "default", a colour name, "bright-NAME", or 0..255. */
static int parse_colour(const char *w, short *out)
{
	char *end;
	long n;

	if (strcasecmp(w, "default") == 0) {
		*out = -1;
		return 0;
	}
	for (int i = 0; i < 8; i++) {
		if (strcasecmp(w, colour_names[i]) == 0) {
			*out = (short)i;
			return 0;
		}
		if (strncasecmp(w, "bright-", 7) == 0 && strcasecmp(w + 7, colour_names[i]) == 0) {
			*out = (short)(i + 8);
			return 0;
		}
	}
	n = strtol(w, &end, 10);
	if (*w && !*end && n >= 0 && n <= 255) {
		*out = (short)n;
		return 0;
	}
	return -1;
}

static int parse_attr(const char *w, unsigned *attrs)
{
	for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++) {
		if (strcasecmp(w, attr_names[i].name) == 0) {
			*attrs |= attr_names[i].bit;
			return 0;
		}
	}
	return -1;
}

/* A word of the file as a message may quote it: the message goes to a terminal, so no byte of the
 * file may steer it (controls become U+FFFD). */
static const char *quote(const char *w, char *room)
{
	sanitize_text(w, strlen(w), room, QUOTE_ROOM, false);
	return room;
}

static int parse_line(char *line, const char *source, int lineno, struct theme *t, struct ht_err *err)
{
	char *eq = strchr(line, '='), *save = NULL, *w;
	struct theme_style st = { -1, -1, 0 };
	int role = -1, nwords = 0;
	char q[QUOTE_ROOM];

	if (!eq) {
		ht_err_set(err, "%s:%d: expected \"role = FG [BG] [ATTR...]\"", source, lineno);
		return -1;
	}
	*eq = '\0';
	w = strtok_r(line, THEME_SPACE, &save);
	for (int r = 0; w && r < ROLE_COUNT; r++)
		if (strcmp(w, theme_role_names[r]) == 0)
			role = r;
	if (role < 0) {
		ht_err_set(err, "%s:%d: unknown role \"%s\" (roles: healthy degraded down pending header "
			   "title project selected statusline dim)", source, lineno, quote(w ? w : "", q));
		return -1;
	}
	for (w = strtok_r(eq + 1, THEME_SPACE ",", &save); w;
	     w = strtok_r(NULL, THEME_SPACE ",", &save), nwords++) {
		short c;
		if (nwords < 2 && parse_colour(w, &c) == 0)
			*(nwords == 0 ? &st.fg : &st.bg) = c;
		else if (parse_attr(w, &st.attrs) == 0)
			nwords = 2;   /* colours come before attributes */
		else {
			ht_err_set(err, "%s:%d: %s: \"%s\" is not a colour or an attribute", source, lineno,
				   theme_role_names[role], quote(w, q));
			return -1;
		}
	}
	t->roles[role] = st;
	return 0;
}

int theme_parse(const char *text, size_t len, const char *source, struct theme *t, struct ht_err *err)
{
	int lineno = 0;

	theme_default(t);
	for (size_t i = 0; i < len;) {
		char line[512];
		size_t end = i;
		while (end < len && text[end] != '\n')
			end++;
		size_t n = end - i;
		lineno++;
		if (n >= sizeof(line)) {
			ht_err_set(err, "%s:%d: line too long", source, lineno);
			return -1;
		}
		memcpy(line, text + i, n);
		line[n] = '\0';
		i = end + 1;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (*p && parse_line(p, source, lineno, t, err) < 0)
			return -1;
	}
	return 0;
}

static int load_file(const char *path, struct theme *t, struct ht_err *err)
{
	FILE *f = fopen(path, "rb");
	char *text;
	size_t n;

	if (!f)
		return -errno;
	text = malloc(THEME_MAX_BYTES);
	if (!text) {
		fclose(f);
		ht_err_set(err, "%s: out of memory", path);
		return -1;
	}
	n = fread(text, 1, THEME_MAX_BYTES, f);
	fclose(f);
	int rc = n == THEME_MAX_BYTES ? (ht_err_set(err, "%s: larger than 64 KiB", path), -1)
				      : theme_parse(text, n, path, t, err);
	free(text);
	return rc < 0 ? -1 : 0;
}

int theme_load(const char *name, struct theme *t, struct ht_err *err)
{
	const char *dirs[4] = { NULL, getenv("HEALTHTOP_THEMES"), HT_THEMEDIR, "themes" };
	char xdg[1024], path[1200];

	if (strchr(name, '/')) {
		int rc = load_file(name, t, err);
		if (rc < -1)
			ht_err_set(err, "%s: cannot open theme: %s", name, strerror(-rc));
		return rc < 0 ? -1 : 0;
	}
	dirs[0] = paths_xdg(PATHS_CONFIG, "themes", xdg, sizeof(xdg));
	for (size_t i = 0; i < 4; i++) {
		if (!dirs[i] || !dirs[i][0])
			continue;
		snprintf(path, sizeof(path), "%s/%s.theme", dirs[i], name);
		int rc = load_file(path, t, err);
		if (rc >= -1)
			return rc;   /* found: loaded, or a clear error naming file:line */
	}
	if (strcmp(name, "default") == 0) {
		theme_default(t);
		return 0;
	}
	if (strcmp(name, "mono") == 0) {
		theme_mono(t);
		return 0;
	}
	ht_err_set(err, "theme \"%s\" not found (looked for %s.theme in ~/.config/healthtop/themes, "
		   "$HEALTHTOP_THEMES, %s and ./themes)", name, name, HT_THEMEDIR);
	return -1;
}
