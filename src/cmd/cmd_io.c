#include "autoconfig.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "healthtop/cmd/cmd_io.h"

/* Says how to get a history where none is yet: the commands that write one, or the demo's. */
static void no_history_hint(const char *cmd, const struct cli_common *o, const char *db)
{
	char demo[1024];
	struct stat st;

	fprintf(stderr, "%s: no history at %s yet: 'healthtop check -c FILE' or the dashboard records one\n",
		cmd, db);
	if (o->demo || o->db || !store_default_path("demo.db", demo, sizeof(demo)))
		return;
	fprintf(stderr, "%s: the demo fleet keeps its own history%s: add --demo to read %s\n", cmd,
		stat(demo, &st) == 0 ? "" : " (after 'healthtop --demo')", demo);
}

int cmd_history_open(const char *cmd, const struct cli_common *o, struct store **out)
{
	struct ht_err err = { "" };
	char buf[1024];
	const char *db = cli_db_path(o, buf, sizeof(buf));
	int rc;

	*out = NULL;
	if (!db)
		return -1;
	rc = store_open_readonly(db, out, &err);
	if (rc == -ENOENT)
		no_history_hint(cmd, o, db);
	else if (rc < 0)
		fprintf(stderr, "%s: %s\n", cmd, err.msg);
	return rc < 0 ? -1 : 0;
}

struct name_search {
	const char *name;
	bool project;
	bool found;
};

static int match_target(void *user, const struct store_target *t)
{
	struct name_search *q = user;

	q->found = strcmp(q->project ? t->project : t->name, q->name) == 0;
	return q->found;   /* stop at the first */
}

int cmd_history_names(const char *cmd, struct store *s, const char *const *names, size_t n, bool projects)
{
	struct ht_err err = { "" };
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		struct name_search q = { names[i], projects, false };
		if (store_targets(s, match_target, &q, &err) < 0) {
			fprintf(stderr, "%s: %s\n", cmd, err.msg);
			return -1;
		}
		if (!q.found) {
			fprintf(stderr, "%s: no %s named \"%s\" in the history: nothing selected\n", cmd,
				projects ? "project" : "target", names[i]);
			rc = -1;
		}
	}
	return rc;
}

int cmd_output_close(const char *cmd, FILE *f, const char *name, int write_errno)
{
	int e = write_errno;

	if (fflush(f) != 0 && e == 0)
		e = errno;
	bool failed = e != 0 || ferror(f);
	if (f != stdout && fclose(f) != 0 && !failed) {
		failed = true;
		e = errno;
	}
	if (!failed)
		return 0;
	if (e != EPIPE)
		fprintf(stderr, "%s: writing %s: %s\n", cmd, name, e ? strerror(e) : "write error");
	return -1;
}
