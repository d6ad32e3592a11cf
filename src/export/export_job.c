#include "autoconfig.h"
#include <errno.h>
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

/* Rows per loop turn: small enough that a key press waits at most a few milliseconds. */
#define EXPORT_SLICE_ROWS 2000

struct export_job {
	struct ev_loop *loop;
	struct store *reader;
	struct store_cursor *cursor;
	FILE *f;
	const char **names;
	char path[512];       /* final name */
	char tmp[528];        /* where rows go until the last one is written */
	char label[32];
	bool tmp_made;        /* the temporary file exists and is ours to remove */
	size_t rows, targets;
	export_job_report_fn report;
	void *user;
	ev_idle idle;
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

static int write_one(void *user, const struct store_result *row)
{
	struct export_job *j = user;

	if (export_row(j->f, EXPORT_CSV, row) < 0)
		return -1;
	j->rows++;
	return 0;
}

static void job_free(struct export_job *j)
{
	ev_idle_stop(j->loop, &j->idle);
	store_export_end(j->cursor);
	store_close(j->reader);
	if (j->f)
		fclose(j->f);   /* only on failure paths: the data is being thrown away */
	if (j->tmp_made)
		unlink(j->tmp);
	free(j->names);
	free(j);
}

/* The last row is written: flush, close, then give the file its name. link() refuses to
 * replace a file that appeared meanwhile; rename() is the fallback where links are not
 * supported. */
static int publish(struct export_job *j, struct ht_err *err)
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
	if (link(j->tmp, j->path) == 0) {
		unlink(j->tmp);
	} else if (errno == EEXIST || rename(j->tmp, j->path) != 0) {
		ht_err_set(err, "%s: %s", j->path, strerror(errno));
		return -1;
	}
	j->tmp_made = false;
	return 0;
}

static void on_slice(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct export_job *j = w->data;
	struct ht_err err = { "" };
	int rc = store_export_step(j->cursor, EXPORT_SLICE_ROWS, write_one, j, &err);

	(void)loop;
	(void)revents;
	if (rc == 1) {
		report(j, false, "exporting to %s: %zu results so far", j->path, j->rows);
		return;
	}
	if (rc > 0 || (rc < 0 && err.msg[0] == '\0'))
		ht_err_set(&err, "%s", strerror(errno ? errno : EIO));
	if (rc == 0 && publish(j, &err) == 0)
		report(j, true, "exported %zu results (%s, %zu targets) to %s", j->rows, j->label, j->targets, j->path);
	else
		report(j, true, "export to %s failed: %s", j->path, err.msg);
	job_free(j);
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
	for (size_t i = 0; i < k; i++)
		out[i] = names[i];
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
	snprintf(j->label, sizeof(j->label), "%s", spec->label ? spec->label : "");
	ev_idle_init(&j->idle, on_slice);
	j->idle.data = j;
	if (spec->query.names)
		q.names = j->names;
	if (name_files(j, spec->dir, err) < 0 || store_open_readonly(spec->db_path, &j->reader, err) < 0 ||
	    !(j->cursor = store_export_begin(j->reader, &q, err)) || open_tmp(j, err) < 0) {
		job_free(j);
		return -1;
	}
	ev_idle_start(loop, &j->idle);
	*out = j;
	return 0;
}

const char *export_job_path(const struct export_job *j)
{
	return j->path;
}

void export_job_cancel(struct export_job *j)
{
	if (j)
		job_free(j);
}
