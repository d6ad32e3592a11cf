/* An export of stored results to a CSV file, run a slice per loop turn from a read-only
 * connection of its own, so the checks and the screen never wait for it. No terminal here: the
 * dashboard starts a job and shows the messages it reports. */
#ifndef HEALTHTOP_EXPORT_JOB_H
#define HEALTHTOP_EXPORT_JOB_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include "healthtop/core/err.h"
#include "healthtop/store/store.h"

struct export_job;

/* Progress and the outcome, for people. `finished`: the job has freed itself; the pointer
 * returned by export_job_start is no longer valid. */
typedef void (*export_job_report_fn)(void *user, const char *msg, bool finished);

struct export_job_spec {
	const char *db_path;
	struct store_query query;   /* the job copies the names (its thread may outlive them) */
	size_t ntargets;            /* for the final message */
	const char *label;          /* e.g. the window, "24h", for the final message */
	const char *dir;            /* where the file goes; NULL: the current directory */
};

/* Opens the database and a temporary file beside the final one (created 0600 whatever the
 * umask), and starts writing on the next idle loop turns. The final name,
 * healthtop-YYYYmmdd-HHMMSS.csv, appears only once every row is written: a reader never sees
 * half a file, and an existing file is never replaced. */
int export_job_start(struct ev_loop *loop, const struct export_job_spec *spec,
		     export_job_report_fn report, void *user, struct export_job **out, struct ht_err *err);

/* The final file name (it does not exist until the job completes). */
const char *export_job_path(const struct export_job *j);

/* Stops a running job, removes its temporary file and frees it (no report). */
void export_job_cancel(struct export_job *j);

#endif
