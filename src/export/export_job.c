/* The export job: its rows are read and written by a thread of its own (the store's reads
 * block: on PostgreSQL a slow or vanished server held the loop, and every check, for as long as
 * TCP waited), and the loop only gives the finished file its name and reports. One mutex guards
 * what the two share: the row count, whether the thread is done, and whether the job was
 * cancelled (then the thread cleans up alone). */
#include "autoconfig.h"
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "healthtop/export/export_format.h"
#include "healthtop/export/export_job.h"

/* Rows per read: between two, a cancel is seen and progress is counted. */
#define EXPORT_SLICE_ROWS 2000
#define EXPORT_PROGRESS_S 1.0

struct export_job {
	struct ev_loop *loop;
	char *db_path;
	struct store_query query;
	FILE *f;
	const char **names;
	char path[512];       /* final name */
	char tmp[528];        /* where rows go until the last one is written */
	char label[32];
	bool tmp_made;        /* the temporary file exists and is ours to remove */
	size_t targets;
	export_job_report_fn report;
	void *user;
	ev_async done;
	ev_timer progress;
	pthread_t thread;
	pthread_mutex_t mu;
	/* guarded by mu */
	size_t rows;
	bool finished, cancelled;
	int rc;               /* the thread's outcome: 0 written and synced, -1 failed (err) */
	struct ht_err err;
};

static void report(struct export_job *j, bool finished, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void report(struct export_job *j, bool finished, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (j->report)
		j->report(j->user, msg, finished);
}

struct writing {
	struct export_job *j;
	size_t rows;
};

static int write_row(void *user, const struct store_result *row)
{
	struct writing *w = user;

	if (export_row(w->j->f, EXPORT_CSV, row) < 0)
		return -1;
	w->rows++;
	return 0;
}

static void free_names(const char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free((char *)names[i]);
	free(names);
}

/* What is left once the thread and the loop are both done with the job. */
static void job_free(struct export_job *j)
{
	if (j->f)
		fclose(j->f);   /* only on failure paths: the data is being thrown away */
	if (j->tmp_made)
		unlink(j->tmp);
	pthread_mutex_destroy(&j->mu);
	free(j->db_path);
	free_names(j->names);
	free(j);
}

/* The last row is written: flush, close, then give the file its name. link() refuses to
 * replace a file that appeared meanwhile; rename() is the fallback where links are not
 * supported. */
static int sync_file(struct export_job *j, struct ht_err *err)
{
	FILE *f = j->f;

	j->f = NULL;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		ht_err_set(err, "%s: %s", j->path, strerror(errno));
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0) {
		ht_err_set(err, "%s: %s", j->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int publish(struct export_job *j, struct ht_err *err)
{
	if (link(j->tmp, j->path) == 0) {
		unlink(j->tmp);
	} else if (errno == EEXIST || rename(j->tmp, j->path) != 0) {
		ht_err_set(err, "%s: %s", j->path, strerror(errno));
		return -1;
	}
	j->tmp_made = false;
	return 0;
}

/* The thread: every row into the temporary file, synced. */
static int write_all(struct export_job *j, struct ht_err *err)
{
	struct store *reader = NULL;
	struct store_cursor *c = NULL;
	struct writing w = { j, 0 };
	int rc = store_open_readonly(j->db_path, &reader, err) < 0 || !(c = store_export_begin(reader, &j->query, err))
			 ? -1 : 1;

	while (rc == 1) {
		pthread_mutex_lock(&j->mu);
		j->rows = w.rows;
		bool stop = j->cancelled;
		pthread_mutex_unlock(&j->mu);
		if (stop)
			break;
		rc = store_export_step(c, EXPORT_SLICE_ROWS, write_row, &w, err);
	}
	if (rc > 0 || (rc < 0 && err->msg[0] == '\0'))
		ht_err_set(err, "%s", strerror(errno ? errno : EIO));
	store_export_end(c);
	store_close(reader);
	pthread_mutex_lock(&j->mu);
	j->rows = w.rows;
	pthread_mutex_unlock(&j->mu);
	return rc == 0 ? sync_file(j, err) : -1;
}

static void *run(void *arg)
{
	struct export_job *j = arg;
	struct ht_err err = { "" };
	int rc = write_all(j, &err);

	pthread_mutex_lock(&j->mu);
	bool cancelled = j->cancelled;
	j->finished = true;
	j->rc = rc;
	j->err = err;
	pthread_mutex_unlock(&j->mu);
	if (cancelled)
		job_free(j);   /* the loop let go of it: nobody else will */
	else
		ev_async_send(j->loop, &j->done);
	return NULL;
}

static void stop_watchers(struct export_job *j)
{
	ev_async_stop(j->loop, &j->done);
	ev_timer_stop(j->loop, &j->progress);
}

static void on_done(struct ev_loop *loop, ev_async *w, int revents)
{
	struct export_job *j = w->data;

	(void)loop;
	(void)revents;
	pthread_mutex_lock(&j->mu);
	bool finished = j->finished;
	pthread_mutex_unlock(&j->mu);
	if (!finished)
		return;
	pthread_join(j->thread, NULL);
	stop_watchers(j);
	if (j->rc == 0 && publish(j, &j->err) == 0)
		report(j, true, "exported %zu results (%s, %zu targets) to %s", j->rows, j->label, j->targets, j->path);
	else
		report(j, true, "export to %s failed: %s", j->path, j->err.msg);
	job_free(j);
}

static void on_progress(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct export_job *j = w->data;

	(void)loop;
	(void)revents;
	pthread_mutex_lock(&j->mu);
	size_t rows = j->rows;
	pthread_mutex_unlock(&j->mu);
	report(j, false, "exporting to %s: %zu results so far", j->path, rows);
}

static int name_files(struct export_job *j, const char *dir, struct ht_err *err)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];
	const char *d = dir ? dir : ".";
	const char *sep = dir ? "/" : "";

	if (!localtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) == 0) {
		ht_err_set(err, "cannot format the time");
		return -1;
	}
	if ((size_t)snprintf(j->path, sizeof(j->path), "%s%shealthtop-%s.csv", dir ? dir : "", sep, stamp) >= sizeof(j->path) ||
	    (size_t)snprintf(j->tmp, sizeof(j->tmp), "%s/.healthtop-%s.csv.XXXXXX", d, stamp) >= sizeof(j->tmp)) {
		ht_err_set(err, "export directory name too long");
		return -1;
	}
	if (access(j->path, F_OK) == 0) {
		ht_err_set(err, "%s already exists", j->path);
		return -1;
	}
	return 0;
}

/* mkstemp creates the file 0600; fchmod says so again in case a libc honours the umask. */
static int open_tmp(struct export_job *j, struct ht_err *err)
{
	int fd = mkstemp(j->tmp);

	if (fd < 0) {
		ht_err_set(err, "%s: %s", j->path, strerror(errno));
		return -1;
	}
	j->tmp_made = true;
	if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || !(j->f = fdopen(fd, "w"))) {
		ht_err_set(err, "%s: %s", j->path, strerror(errno));
		close(fd);
		return -1;
	}
	export_header(j->f, EXPORT_CSV);
	return 0;
}

static const char **copy_names(const char *const *names, size_t *n)
{
	size_t k = 0;
	const char **out;

	while (names && names[k])
		k++;
	if (!(out = calloc(k + 1, sizeof(*out))))
		return NULL;
	for (size_t i = 0; i < k; i++)   /* the thread may outlive the caller's strings (a quit) */
		if (!(out[i] = strdup(names[i]))) {
			free_names(out);
			return NULL;
		}
	*n = k;
	return out;
}

int export_job_start(struct ev_loop *loop, const struct export_job_spec *spec,
		     export_job_report_fn report_fn, void *user, struct export_job **out, struct ht_err *err)
{
	struct export_job *j = calloc(1, sizeof(*j));
	struct store_query q = spec->query;
	size_t n = 0;

	*out = NULL;
	if (!j || !(j->names = copy_names(spec->query.names, &n))) {
		free(j);
		ht_err_set(err, "out of memory");
		return -1;
	}
	j->loop = loop;
	j->report = report_fn;
	j->user = user;
	j->targets = spec->ntargets;
	pthread_mutex_init(&j->mu, NULL);
	snprintf(j->label, sizeof(j->label), "%s", spec->label ? spec->label : "");
	ev_async_init(&j->done, on_done);
	j->done.data = j;
	ev_timer_init(&j->progress, on_progress, EXPORT_PROGRESS_S, EXPORT_PROGRESS_S);
	j->progress.data = j;
	if (spec->query.names)
		q.names = j->names;
	j->query = q;
	if (!(j->db_path = strdup(spec->db_path))) {
		ht_err_set(err, "out of memory");
		job_free(j);
		return -1;
	}
	if (name_files(j, spec->dir, err) < 0 || open_tmp(j, err) < 0) {
		job_free(j);
		return -1;
	}
	ev_async_start(loop, &j->done);
	ev_timer_start(loop, &j->progress);
	if ((errno = pthread_create(&j->thread, NULL, run, j)) != 0) {
		ht_err_set(err, "cannot start the export: %s", strerror(errno));
		stop_watchers(j);
		job_free(j);
		return -1;
	}
	*out = j;
	return 0;
}

const char *export_job_path(const struct export_job *j)
{
	return j->path;
}

/* The thread may be waiting on the database: it is not waited for. It sees the flag after its
 * read and frees the job; the temporary file goes now, so none is left behind at exit. */
void export_job_cancel(struct export_job *j)
{
	if (!j)
		return;
	stop_watchers(j);
	pthread_mutex_lock(&j->mu);
	bool finished = j->finished;
	j->cancelled = true;
	if (!finished && j->tmp_made) {
		unlink(j->tmp);
		j->tmp_made = false;
	}
	pthread_mutex_unlock(&j->mu);
	if (finished) {
		pthread_join(j->thread, NULL);
		job_free(j);
	} else {
		pthread_detach(j->thread);
	}
}
