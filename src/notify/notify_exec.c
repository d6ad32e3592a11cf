#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "healthtop/notify/notify_exec.h"

extern char **environ;

struct job {
	struct notify_exec *x;
	char **argv, **envp;
	notify_exec_done_fn fn;
	void *user;
	pid_t pid;
	ev_child child;
	ev_timer kill_timer;
	int killed;
	struct job *next;   /* in the queue */
};

struct notify_exec {
	struct ev_loop *loop;
	unsigned max_running, running;
	double kill_after_s;
	struct job *head, *tail;   /* waiting */
	size_t queued;
	struct job **live;         /* running, max_running slots */
};

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static char **strv_dup(char *const *v, char *const *base, size_t extra)
{
	size_t n = strv_len(v), k = 0;
	char **out = calloc(n + extra + 1, sizeof(*out));

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(out[k++] = strdup(v[i])))
			goto oom;
	/* inherited entries follow, unless env already names them */
	for (size_t i = 0; base && base[i] && k < n + extra; i++) {
		const char *eq = strchr(base[i], '=');
		size_t klen = eq ? (size_t)(eq - base[i]) + 1 : strlen(base[i]);
		bool shadowed = false;
		for (size_t j = 0; j < n && !shadowed; j++)
			shadowed = strncmp(v[j], base[i], klen) == 0;
		if (!shadowed && !(out[k++] = strdup(base[i])))
			goto oom;
	}
	return out;
oom:
	strv_free(out);
	return NULL;
}

static void job_free(struct job *j)
{
	strv_free(j->argv);
	strv_free(j->envp);
	free(j);
}

static void start_next(struct notify_exec *x);

static void finish(struct job *j, int ok, const char *why)
{
	struct notify_exec *x = j->x;

	ev_child_stop(x->loop, &j->child);
	ev_timer_stop(x->loop, &j->kill_timer);
	for (unsigned i = 0; i < x->max_running; i++)
		if (x->live[i] == j)
			x->live[i] = NULL;
	x->running--;
	if (j->fn)
		j->fn(j->user, ok, why);
	job_free(j);
	start_next(x);
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	struct job *j = w->data;
	char why[64];
	int st = w->rstatus;

	if (j->killed)
		snprintf(why, sizeof(why), "killed after %g s", j->x->kill_after_s);
	else if (WIFEXITED(st))
		snprintf(why, sizeof(why), "exit %d", WEXITSTATUS(st));
	else
		snprintf(why, sizeof(why), "signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	finish(j, !j->killed && WIFEXITED(st) && WEXITSTATUS(st) == 0, why);
}

/* The whole process group goes: a hook's own children must not outlive it. */
static void on_kill_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct job *j = t->data;

	j->killed = 1;
	kill(-j->pid, SIGKILL);
}

static int spawn(struct job *j, char *why, size_t size)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	/* a hook writes nowhere near the dashboard's terminal or the daemon's log lines */
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	rc = posix_spawnp(&j->pid, j->argv[0], &fa, &at, j->argv, j->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		snprintf(why, size, "cannot run %s: %s", j->argv[0], strerror(rc));
	return rc == 0 ? 0 : -1;
}

static void start(struct notify_exec *x, struct job *j)
{
	char why[300];

	x->running++;
	for (unsigned i = 0; i < x->max_running; i++)
		if (!x->live[i]) {
			x->live[i] = j;
			break;
		}
	if (spawn(j, why, sizeof(why)) < 0) {
		finish(j, 0, why);
		return;
	}
	ev_child_init(&j->child, on_child, j->pid, 0);
	j->child.data = j;
	ev_child_start(x->loop, &j->child);
	ev_timer_init(&j->kill_timer, on_kill_timer, x->kill_after_s, 0.0);
	j->kill_timer.data = j;
	ev_timer_start(x->loop, &j->kill_timer);
}

static void start_next(struct notify_exec *x)
{
	while (x->running < x->max_running && x->head) {
		struct job *j = x->head;
		x->head = j->next;
		if (!x->head)
			x->tail = NULL;
		x->queued--;
		start(x, j);
	}
}

struct notify_exec *notify_exec_new(struct ev_loop *loop, unsigned max_running, double kill_after_s)
{
	struct notify_exec *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->loop = loop;
	x->max_running = max_running ? max_running : NOTIFY_EXEC_MAX_RUNNING;
	x->kill_after_s = kill_after_s > 0 ? kill_after_s : NOTIFY_EXEC_KILL_AFTER_S;
	x->live = calloc(x->max_running, sizeof(*x->live));
	if (!x->live) {
		free(x);
		return NULL;
	}
	return x;
}

int notify_exec_run(struct notify_exec *x, char *const argv[], char *const env[], notify_exec_done_fn fn,
		    void *user)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j || !argv || !argv[0])
		goto fail;
	j->x = x;
	j->fn = fn;
	j->user = user;
	j->argv = strv_dup(argv, NULL, 0);
	j->envp = strv_dup(env, environ, strv_len(environ));
	if (!j->argv || !j->envp)
		goto fail;
	if (x->tail)
		x->tail->next = j;
	else
		x->head = j;
	x->tail = j;
	x->queued++;
	start_next(x);
	return 0;
fail:
	if (j)
		job_free(j);
	return -1;
}

unsigned notify_exec_running(const struct notify_exec *x)
{
	return x->running;
}

size_t notify_exec_queued(const struct notify_exec *x)
{
	return x->queued;
}

void notify_exec_free(struct notify_exec *x)
{
	if (!x)
		return;
	while (x->head) {
		struct job *j = x->head;
		x->head = j->next;
		if (j->fn)
			j->fn(j->user, 0, "not run: shutting down");
		job_free(j);
	}
	x->queued = 0;
	for (unsigned i = 0; i < x->max_running; i++) {
		struct job *j = x->live[i];
		if (!j)
			continue;
		kill(-j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
		ev_child_stop(x->loop, &j->child);
		ev_timer_stop(x->loop, &j->kill_timer);
		if (j->fn)
			j->fn(j->user, 0, "killed: shutting down");
		job_free(j);
	}
	free(x->live);
	free(x);
}
