/* The dashboard: ncursesw on the libev loop. */
#ifndef HEALTHTOP_UI_H
#define HEALTHTOP_UI_H

#include <ev.h>
#include "healthtop/core/err.h"
#include "healthtop/monitor/monitor.h"
#include "healthtop/ui/theme.h"

/* Can the dashboard be drawn here? Not without a terminal on stdin and stdout, nor on one
 * whose TERM is unknown or cannot move the cursor (TERM=dumb). Draws nothing; -1 with err. */
int ui_check_terminal(struct ht_err *err);

/* Takes the terminal, runs until the user quits (or SIGTERM/SIGINT/SIGHUP), restores the
 * terminal. Returns 0, or -1 with err set when the terminal cannot be used. */
int ui_run(struct ev_loop *loop, struct monitor *m, const struct theme *theme, bool color,
	   struct ht_err *err);

#endif
