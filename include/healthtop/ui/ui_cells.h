/* What the cells of a target's row say (pure): the displayed class and its glyph, a displayed
 * change under way, how long the target has been in its shown state, a mute and its time left.
 * Read from the target's state and config; no curses, no clock (now is passed in). */
#ifndef HEALTHTOP_UI_CELLS_H
#define HEALTHTOP_UI_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "healthtop/core/config.h"
#include "healthtop/core/soft_state.h"
#include "healthtop/core/target_state.h"

/* "●" "▲" "✖" "○" (or "+" "!" "X" "?"), and "healthy" "degraded" "down" "pending"; any class
 * out of range (-1: not checked yet) is pending. */
const char *cells_glyph(int cls, bool utf8);
const char *cells_word(int cls);

/* The anti-flap rules the target's displayed state follows (one place to read them). */
struct soft_rules cells_soft_rules(const struct ht_target *t);

/* The class on screen: the displayed (anti-flap) class once there is one, else the last raw
 * class; -1 before the first result. */
int cells_shown_class(const struct target_state *s);

/* When the shown class began: shown_since_ms, else the last change of class recorded, else
 * the oldest result held (it has been so at least that long); 0 before the first result. */
int64_t cells_shown_since(const struct target_state *s);

/* The FOR cell, "down 12m"; "" before the first result. */
void cells_for(const struct target_state *s, int64_t now_ms, char *buf, size_t size);

/* A displayed change not yet confirmed: true with the status cell ("▲ degraded 2/3", fitted
 * to width) and the class it moves toward in *toward. */
bool cells_pending(const struct target_state *s, const struct ht_target *t, bool utf8, int width,
		   int *toward, char *buf, size_t size);

/* Muted at now_ms: true with "muted 45m" (the time left, rounded up). */
bool cells_muted(const struct target_state *s, int64_t now_ms, char *buf, size_t size);

#endif
