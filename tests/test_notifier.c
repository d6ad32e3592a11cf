#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <cmocka.h>
#include "healthtop/core/clock.h"
#include "healthtop/core/health_class.h"
#include "healthtop/notify/notifier.h"

/* A fake receiver: answers on the next loop turn, failing the first `fail_first` posts. */
struct fake {
	struct ev_loop *loop;
	int fail_first, posts;
	char got[64][160];     /* "<url> <name> <new>" per delivered post, in order */
	int ngot;
	int persisted, forgotten;
	int64_t forgotten_ids[64];
	char log[8][256];
	int nlog;
	ev_idle answer;
	struct { notifier_done_fn done; void *ctx; int ok; char line[160]; } q[8];
	int nq;
};

static void on_answer(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct fake *f = w->data;
	int n = f->nq;

	ev_idle_stop(loop, w);
	f->nq = 0;
	for (int i = 0; i < n; i++) {
		if (f->q[i].ok)
			snprintf(f->got[f->ngot++], sizeof(f->got[0]), "%s", f->q[i].line);
		f->q[i].done(f->q[i].ctx, f->q[i].ok, f->q[i].ok ? "HTTP 200" : "HTTP 503");
	}
}

static int fake_post(void *user, const struct notify_dest *d, const char *body, const char *ctype,
		     char hdr[2][256], size_t nhdr, notifier_done_fn done, void *ctx)
{
	struct fake *f = user;
	cJSON *o = cJSON_Parse(body);

	assert_non_null(o);
	assert_true(f->nq < 8);
	snprintf(f->q[f->nq].line, sizeof(f->q[0].line), "%s %s %s", d->url,
		 cJSON_GetObjectItem(o, "name")->valuestring, cJSON_GetObjectItem(o, "new")->valuestring);
	cJSON_Delete(o);
	f->q[f->nq].ok = f->posts++ >= f->fail_first;
	f->q[f->nq].done = done;
	f->q[f->nq].ctx = ctx;
	f->nq++;
	ev_idle_start(f->loop, &f->answer);
	return 0;
}

static void fake_persist(void *user, const struct notifier_msg *m)
{
	((struct fake *)user)->persisted++;
}

static void fake_forget(void *user, const struct notifier_msg *m)
{
	struct fake *f = user;

	f->forgotten_ids[f->forgotten++] = m->id;
}

static void fake_log(void *user, const char *line)
{
	struct fake *f = user;

	if (f->nlog < 8)
		snprintf(f->log[f->nlog++], sizeof(f->log[0]), "%s", line);
}

static char *down_only_projects[] = { "billing", NULL };

static struct notify_dest dests[] = {
	{ .kind = NOTIFY_DEST_WEBHOOK, .key = "http://a", .url = "http://a", .format = NOTIFY_FMT_JSON },
	{ .kind = NOTIFY_DEST_WEBHOOK, .key = "http://b", .url = "http://b", .format = NOTIFY_FMT_JSON,
	  .states = 1u << HT_DOWN, .projects = down_only_projects },
};

static struct notify_event ev(const char *name, const char *project, int from, int to)
{
	int64_t now = clock_wall_ms();

	return (struct notify_event){ name, project, "http://127.0.0.1/health", from, to, "why", now - 1000, now };
}

static void run_until_idle(struct fake *f, struct notifier *n)
{
	for (int i = 0; i < 100000 && notifier_pending(n) > 0; i++)
		ev_run(f->loop, EVRUN_ONCE);
}

static struct notifier *start(struct fake *f, double give_up_s)
{
	struct notifier_io io = { fake_post, fake_persist, fake_forget, fake_log, f };
	struct notifier_timing t = { 0.001, 0.004, give_up_s };

	f->loop = EV_DEFAULT;
	ev_idle_init(&f->answer, on_answer);
	f->answer.data = f;
	return notifier_new(f->loop, dests, 2, &io, &t);
}

static void test_each_destination_gets_what_it_wants_once_in_order(void **state)
{
	struct fake f = { .fail_first = 0 };
	struct notifier *n = start(&f, 3600);
	struct notify_event e1 = ev("api", "billing", HT_HEALTHY, HT_DOWN);
	struct notify_event e2 = ev("web", "shop", HT_HEALTHY, HT_DOWN);
	struct notify_event e3 = ev("api", "billing", HT_DOWN, HT_HEALTHY);

	notifier_announce(n, &e1);
	notifier_announce(n, &e2);
	notifier_announce(n, &e3);
	run_until_idle(&f, n);
	/* a: all three; b: only billing going down. Lanes run side by side, so compare per lane. */
	char *a[3], *b[1];
	int na = 0, nb = 0;
	for (int i = 0; i < f.ngot; i++) {
		if (strncmp(f.got[i], "http://a", 8) == 0)
			a[na++] = f.got[i];
		else
			b[nb++] = f.got[i];
	}
	assert_int_equal(na, 3);
	assert_int_equal(nb, 1);
	assert_string_equal(a[0], "http://a api down");
	assert_string_equal(a[1], "http://a web down");
	assert_string_equal(a[2], "http://a api healthy");
	assert_string_equal(b[0], "http://b api down");
	assert_int_equal(f.forgotten, 4);
	notifier_free(n);
}

static void test_a_failing_receiver_gets_every_message_later_once_in_order(void **state)
{
	struct fake f = { .fail_first = 5 };
	struct notifier *n = start(&f, 3600);
	struct notify_event e1 = ev("api", "shop", HT_HEALTHY, HT_DEGRADED);
	struct notify_event e2 = ev("api", "shop", HT_DEGRADED, HT_HEALTHY);

	notifier_announce(n, &e1);
	notifier_announce(n, &e2);
	run_until_idle(&f, n);
	assert_int_equal(f.ngot, 2);
	assert_string_equal(f.got[0], "http://a api degraded");
	assert_string_equal(f.got[1], "http://a api healthy");
	assert_int_equal(f.posts, 7);           /* 5 failures, then one each */
	assert_int_equal(f.forgotten, 2);
	assert_true(f.forgotten_ids[0] < f.forgotten_ids[1]);
	assert_true(f.nlog >= 1);
	assert_non_null(strstr(f.log[0], "HTTP 503"));
	notifier_free(n);
}

static void test_gives_up_after_its_time_and_says_so(void **state)
{
	struct fake f = { .fail_first = 1000 };
	struct notifier *n = start(&f, 0);
	struct notify_event e1 = ev("api", "shop", HT_HEALTHY, HT_DOWN);

	notifier_announce(n, &e1);
	run_until_idle(&f, n);
	assert_int_equal(f.ngot, 0);
	assert_int_equal(f.forgotten, 1);
	assert_non_null(strstr(f.log[f.nlog - 1], "gave up"));
	notifier_free(n);
}

static void test_restored_messages_go_out_and_unknown_destinations_are_ignored(void **state)
{
	struct fake f = { 0 };
	struct notifier *n = start(&f, 3600);
	struct notify_event e1 = ev("api", "shop", HT_HEALTHY, HT_DOWN);

	notifier_restore(n, "http://gone", &e1, 7, 1000, 2);
	notifier_restore(n, "http://a", &e1, 8, 1000, 2);
	assert_int_equal(notifier_pending(n), 1);
	run_until_idle(&f, n);
	assert_int_equal(f.ngot, 1);
	assert_int_equal(f.persisted, 0);   /* it was durable already */
	assert_int_equal(f.forgotten_ids[0], 8);
	notifier_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_destination_gets_what_it_wants_once_in_order),
		cmocka_unit_test(test_a_failing_receiver_gets_every_message_later_once_in_order),
		cmocka_unit_test(test_gives_up_after_its_time_and_says_so),
		cmocka_unit_test(test_restored_messages_go_out_and_unknown_destinations_are_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
