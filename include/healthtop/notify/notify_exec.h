/* Exec destinations: a program run without a shell, the change in its environment, at most a few
 * at once, killed when it overstays. Children are reaped on the loop (ev_child). */
#ifndef HEALTHTOP_NOTIFY_EXEC_H
#define HEALTHTOP_NOTIFY_EXEC_H

#include <ev.h>
#include <stddef.h>

#define NOTIFY_EXEC_MAX_RUNNING 4
#define NOTIFY_EXEC_KILL_AFTER_S 10.0

struct notify_exec;

/* ok: the program exited 0. why: "exit 3", "killed after 10 s", "cannot run: ..." */
typedef void (*notify_exec_done_fn)(void *user, int ok, const char *why);

/* loop must be the default loop (libev reaps children there). */
struct notify_exec *notify_exec_new(struct ev_loop *loop, unsigned max_running, double kill_after_s);
/* Runs argv[0] (a path, or a name looked up in PATH) with argv and the process environment plus
 * env (which wins on equal names). Queued while max_running are running. argv and env are copied. */
int notify_exec_run(struct notify_exec *x, char *const argv[], char *const env[], notify_exec_done_fn fn,
		    void *user);
unsigned notify_exec_running(const struct notify_exec *x);
size_t notify_exec_queued(const struct notify_exec *x);
/* Kills what still runs (reporting each as failed) and frees. */
void notify_exec_free(struct notify_exec *x);

#endif
