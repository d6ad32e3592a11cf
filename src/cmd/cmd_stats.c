#include "autoconfig.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "healthtop/core/clock.h"
#include "healthtop/cmd/cli.h"
#include "healthtop/cmd/cmd.h"
#include "healthtop/cmd/cmd_io.h"
#include "healthtop/cmd/check_report.h"
#include "healthtop/core/sanitize.h"
#include "healthtop/core/history_stats.h"
#include "healthtop/core/id_index.h"
#include "healthtop/store/store.h"
#include "healthtop/core/timeparse.h"
#include "healthtop/ui/ui_layout.h"

#define MAX_SELECT 1024

struct stats_opts {
	struct cli_common common;
	const char *since, *until;
	const char *targets[MAX_SELECT];
	size_t ntargets;
	bool json;
};

struct row {
	int64_t id;
	char *name, *project;
	int64_t first_seen;
	struct stats_target st;
	struct stats_change *changes;
	size_t nchanges, cap;
};

struct table {
	struct row *rows;
	size_t n, cap;
	struct id_index by_id;   /* rows by target id: totals and changes come by id */
	const struct stats_opts *o;
};

static const char usage[] =
	"usage: healthtop stats [--db PATH | --demo] [--since T] [--until T] [--target NAME]... [--format table|json]\n";

static int parse_opts(int argc, char **argv, struct stats_opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' }, { "demo", no_argument, NULL, 'D' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' }, { "target", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (cli_common_opt(ch, optarg, &o->common))
			continue;
		switch (ch) {
		case 's': o->since = optarg; break;
		case 'u': o->until = optarg; break;
		case 't':
			if (o->ntargets == MAX_SELECT) {
				fprintf(stderr, "healthtop stats: at most %d --target\n", MAX_SELECT);
				return -1;
			}
			o->targets[o->ntargets++] = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0) {
				fprintf(stderr, "healthtop stats: --format: \"%s\" is not table or json\n", optarg);
				return -1;
			}
			o->json = strcmp(optarg, "json") == 0;
			break;
		case 'h': fputs(usage, stdout); exit(HT_EXIT_OK);
		default:
			return cli_opt_error("healthtop stats", ch, argv, usage);
		}
	}
	if (cli_no_operands("healthtop stats", argc, argv, usage) < 0)
		return -1;
	return 0;
}

static bool selected(const struct stats_opts *o, const char *name)
{
	for (size_t i = 0; i < o->ntargets; i++)
		if (strcmp(o->targets[i], name) == 0)
			return true;
	return o->ntargets == 0;
}

static int add_target(void *user, const struct store_target *t)
{
	struct table *tb = user;

	if (!selected(tb->o, t->name))
		return 0;
	if (tb->n == tb->cap) {
		size_t cap = tb->cap ? tb->cap * 2 : 64;
		struct row *nr = realloc(tb->rows, cap * sizeof(*nr));
		if (!nr)
			return -1;
		tb->rows = nr;
		tb->cap = cap;
	}
	struct row *r = &tb->rows[tb->n++];
	memset(r, 0, sizeof(*r));
	r->st.min_ms = r->st.max_ms = -1;
	r->id = t->id;
	r->name = strdup(t->name);
	r->project = strdup(t->project);
	return r->name && r->project ? 0 : -1;
}

static struct row *find(struct table *tb, int64_t id)
{
	size_t at = id_index_find(&tb->by_id, id);

	return at == SIZE_MAX ? NULL : &tb->rows[at];
}

static int64_t row_id(const void *tb, size_t i)
{
	return ((const struct table *)tb)->rows[i].id;
}

static void add_totals(void *user, const struct store_totals *t)
{
	struct row *r = find(user, t->target_id);

	if (!r)
		return;
	memcpy(r->st.counts, t->counts, sizeof(r->st.counts));
	r->st.up = t->up;
	r->st.latency = t->latency;
	r->st.min_ms = t->min_ms;
	r->st.max_ms = t->max_ms;
}

static double quantile(const struct row *r, double q)
{
	return stats_quantile(&r->st.latency, q, r->st.min_ms, r->st.max_ms);
}

static void add_change(void *user, int64_t id, int64_t at, int from, int to)
{
	struct row *r = find(user, id);

	if (!r)
		return;
	if (r->nchanges == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct stats_change *nc = realloc(r->changes, cap * sizeof(*nc));
		if (!nc)
			return;
		r->changes = nc;
		r->cap = cap;
	}
	r->changes[r->nchanges++] = (struct stats_change){ at, from, to };
}

static void duration(int64_t ms, bool ongoing, char *buf, size_t size)
{
	int64_t s = ms / 1000;

	if (ms <= 0)
		snprintf(buf, size, "-");
	else if (s < 3600)
		snprintf(buf, size, "%lldm%02llds%s", (long long)(s / 60), (long long)(s % 60), ongoing ? " (now)" : "");
	else
		snprintf(buf, size, "%lldh%02lldm%s", (long long)(s / 3600), (long long)(s % 3600 / 60), ongoing ? " (now)" : "");
}

static void print_table(const struct table *tb, const char *source, const char *range)
{
	printf("%s, from %s data\n", range, source);
	printf("%-24s %-14s %7s %8s %7s %7s %7s %7s %8s %6s %7s  %s\n", "NAME", "PROJECT", "CHECKS", "UPTIME",
	       "P50", "P95", "P99", "HEALTHY", "DEGRADED", "DOWN", "CHANGES", "LONGEST OUTAGE");
	for (size_t i = 0; i < tb->n; i++) {
		const struct row *r = &tb->rows[i];
		char up[16] = "-", p[3][16], out[48], name[400], proj[400], clean[2][300];
		double q[3] = { 0.50, 0.95, 0.99 };
		uint32_t total = r->st.counts[0] + r->st.counts[1] + r->st.counts[2];
		if (total)
			snprintf(up, sizeof(up), "%.2f%%", stats_uptime(&r->st));
		for (int k = 0; k < 3; k++)
			layout_latency(quantile(r, q[k]), p[k], sizeof(p[k]));
		duration(r->st.longest_outage_ms, r->st.outage_ongoing, out, sizeof(out));
		/* The database is a file like any other: its text is untrusted. */
		sanitize_text(r->name, strlen(r->name), clean[0], sizeof(clean[0]), false);
		sanitize_text(r->project, strlen(r->project), clean[1], sizeof(clean[1]), false);
		layout_fit(clean[0], 24, false, name, sizeof(name));
		layout_fit(clean[1], 14, false, proj, sizeof(proj));
		printf("%s %s %7u %8s %7s %7s %7s %7u %8u %6u %7u  %s\n", name, proj, total, up, p[0], p[1], p[2],
		       r->st.counts[0], r->st.counts[1], r->st.counts[2], r->st.changes, out);
	}
}

static cJSON *number_or_null(double v)
{
	return v < 0 ? cJSON_CreateNull() : cJSON_CreateNumber(round(v * 100) / 100);
}

static int print_json(const struct table *tb, const char *source, int64_t since, int64_t until)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char when[40];

	if (!root)
		return -1;
	clock_iso8601(since, false, when, sizeof(when));
	if (since <= 0)
		cJSON_AddNullToObject(root, "since");
	else
		cJSON_AddStringToObject(root, "since", when);
	if (until == INT64_MAX)
		cJSON_AddNullToObject(root, "until");
	else {
		clock_iso8601(until, false, when, sizeof(when));
		cJSON_AddStringToObject(root, "until", when);
	}
	cJSON_AddStringToObject(root, "source", source);
	arr = cJSON_AddArrayToObject(root, "targets");
	for (size_t i = 0; arr && i < tb->n; i++) {
		const struct row *r = &tb->rows[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", r->name);
		cJSON_AddStringToObject(o, "project", r->project);
		cJSON_AddNumberToObject(o, "checks", r->st.counts[0] + r->st.counts[1] + r->st.counts[2]);
		cJSON_AddItemToObject(o, "uptime_pct", number_or_null(stats_uptime(&r->st)));
		cJSON_AddItemToObject(o, "p50_ms", number_or_null(quantile(r, 0.50)));
		cJSON_AddItemToObject(o, "p95_ms", number_or_null(quantile(r, 0.95)));
		cJSON_AddItemToObject(o, "p99_ms", number_or_null(quantile(r, 0.99)));
		cJSON_AddNumberToObject(o, "healthy", r->st.counts[0]);
		cJSON_AddNumberToObject(o, "degraded", r->st.counts[1]);
		cJSON_AddNumberToObject(o, "down", r->st.counts[2]);
		cJSON_AddNumberToObject(o, "state_changes", r->st.changes);
		cJSON_AddNumberToObject(o, "longest_outage_s", (double)(r->st.longest_outage_ms / 1000));
		cJSON_AddBoolToObject(o, "outage_ongoing", r->st.outage_ongoing);
		cJSON_AddItemToArray(arr, o);
	}
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -1;
	puts(text);
	cJSON_free(text);
	return 0;
}

static int collect(struct store *s, struct table *tb, int64_t since, int64_t until, const char **source,
		   struct ht_err *err)
{
	if (store_targets(s, add_target, tb, err) != 0)
		return -1;
	if (id_index_init(&tb->by_id, tb->n, row_id, tb) < 0) {
		ht_err_set(err, "out of memory");
		return -1;
	}
	if (store_aggregate(s, since, until, add_totals, tb, source, err) < 0 ||
	    store_changes(s, until, add_change, tb, err) < 0)
		return -1;
	int64_t now = clock_wall_ms();
	for (size_t i = 0; i < tb->n; i++) {
		struct row *r = &tb->rows[i];
		r->first_seen = store_first_seen(s, r->id);
		stats_walk(&r->st, r->changes, r->nchanges, since, until, r->first_seen, now);
	}
	return 0;
}

static int print_stats(const struct table *tb, const struct stats_opts *o, const char *source,
		       int64_t since, int64_t until)
{
	char range[128] = "all history";

	if (o->since)
		snprintf(range, sizeof(range), "since %s", o->since);
	if (o->json)
		return print_json(tb, source, since, until);
	print_table(tb, source, range);
	return 0;
}

static void free_table(struct table *tb)
{
	for (size_t i = 0; i < tb->n; i++) {
		free(tb->rows[i].name);
		free(tb->rows[i].project);
		free(tb->rows[i].changes);
	}
	free(tb->rows);
	id_index_fini(&tb->by_id);
}

int cmd_stats(int argc, char **argv)
{
	static const char cmd[] = "healthtop stats";
	struct stats_opts o = { .json = false };
	struct table tb = { .o = &o };
	struct store *s = NULL;
	struct ht_err err = { "" };
	const char *source = "raw";
	int64_t since = 0, until = INT64_MAX, now = clock_wall_ms();
	int rc = HT_EXIT_FAILED;

	if (parse_opts(argc, argv, &o) < 0)
		return HT_EXIT_USAGE;
	if ((o.since && timeparse(o.since, now, &since) < 0) || (o.until && timeparse(o.until, now, &until) < 0)) {
		fprintf(stderr, "%s: \"%s\" is not a time (2026-11-23, 2026-11-23T10:00:00Z, 24h, 7d)\n", cmd,
			o.since && timeparse(o.since, now, &since) < 0 ? o.since : o.until);
		return HT_EXIT_USAGE;
	}
	if (until <= since) {   /* as export says: an empty range is a typo, not a table of zeros */
		fprintf(stderr, "%s: --until: \"%s\" is not after --since\n", cmd, o.until);
		return HT_EXIT_USAGE;
	}
	if (cmd_history_open(cmd, &o.common, &s) < 0)
		return HT_EXIT_FAILED;
	/* A name that selects nothing is a mistake, not an empty table. */
	if (cmd_history_names(cmd, s, o.targets, o.ntargets, false) == 0) {
		if (collect(s, &tb, since, until, &source, &err) < 0)
			fprintf(stderr, "%s: %s\n", cmd, err.msg);
		else if (print_stats(&tb, &o, source, since, until) < 0)
			fprintf(stderr, "%s: out of memory\n", cmd);
		else if (cmd_output_close(cmd, stdout, "standard output", ferror(stdout) ? errno : 0) == 0)
			rc = HT_EXIT_OK;
	}
	free_table(&tb);
	store_close(s);
	return rc;
}
