/* Every key of the dashboard in one table (pure), like htop's Action.c: the key handling, the
 * help screen and the hint line are all read from it, so they cannot drift apart. */
#ifndef HEALTHTOP_UI_KEYS_H
#define HEALTHTOP_UI_KEYS_H

#include <stdbool.h>
#include <stddef.h>

enum key_cmd {
	CMD_NONE,
	CMD_DOWN, CMD_UP, CMD_FIRST, CMD_LAST, CMD_PAGE_DOWN, CMD_PAGE_UP,
	CMD_OPEN, CMD_BACK, CMD_FILTER, CMD_CLEAR_FILTER, CMD_SORT, CMD_WINDOW,
	CMD_FORCE, CMD_FORCE_ALL, CMD_EXPORT, CMD_HELP, CMD_QUIT,
	CMD_FILTER_KEEP, CMD_FILTER_CANCEL, CMD_FILTER_ERASE,
	CMD_REVERSE, CMD_HIDE_HEALTHY, CMD_MUTE, CMD_MUTE_PROJECT, CMD_PROMPT_OK, CMD_PROMPT_CANCEL,
	CMD_MOUSE,   /* handled by the loop (getmouse); here for the help screen */
};

/* Mode bits, one per enum view_mode. */
#define KEYS_LIST   (1u << 0)
#define KEYS_DETAIL (1u << 1)
#define KEYS_HELP   (1u << 2)
#define KEYS_FILTER (1u << 3)
#define KEYS_PROMPT (1u << 4)

struct ui_key {
	unsigned modes;      /* KEYS_* where this key does cmd */
	int key;             /* curses key code */
	enum key_cmd cmd;
	const char *name;    /* as people read it: "j", "Down", "Enter" */
	const char *help;    /* help screen text; on the first key of a command, NULL on the others */
	const char *hint;    /* hint line word ("help"); NULL: not in the hint line */
	const char *brief;   /* the hint for narrow screens */
};

extern const struct ui_key ui_keys[];
extern const size_t ui_nkeys;

/* What key does in the mode (a KEYS_* bit); CMD_NONE when nothing. */
enum key_cmd keys_lookup(unsigned mode, int key);

/* The help screen's line i for the mode: "j Down      move down"; false past the last. Keys
 * of one command share its line. */
bool keys_help_line(unsigned mode, size_t i, char *buf, size_t size);

/* What the hint line shows after a command's word: "s:sort=status". */
struct keys_state {
	const char *sort;
	const char *window;
	const char *filter;   /* "" when none */
	const char *healthy;  /* "shown" or "hidden"; NULL: "shown" */
};

/* The hint line for the mode in at most `width` columns: full words, else closer together, else
 * the brief words, else fewer hints; quitting is always the last one shown. */
void keys_hint_line(unsigned mode, const struct keys_state *st, int width, char *buf, size_t size);

#endif
