/* The "notify" list: what each destination becomes, and a FILE:LINE message for each mistake. */
#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "healthtop/core/config.h"
#include "healthtop/core/health_class.h"
#include "healthtop/core/notify_dest.h"

static const char *fake_env(const char *name)
{
	return strcmp(name, "NTFY_TOKEN") == 0 ? "tk1" : NULL;
}

#define TARGETS \
	"\"targets\": [\n" \
	"  { \"name\": \"api\", \"project\": \"shop\", \"url\": \"http://127.0.0.1:1/\" },\n" \
	"  { \"name\": \"db\", \"project\": \"core\", \"url\": \"http://127.0.0.1:2/\" } ]"

static int parse(const char *text, struct ht_config *cfg, struct ht_err *err)
{
	return config_parse(text, strlen(text), "fleet.json", fake_env, cfg, err);
}

static void expect_error(const char *text, const char *msg)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse(text, &cfg, &err), -1);
	assert_string_equal(err.msg, msg);
}

static void test_notify_config_destinations_as_written(void **state)
{
	static const char text[] = "{ " TARGETS ",\n"
		"\"notify\": [\n"
		"  { \"exec\": [\"/usr/local/bin/page\", \"--team\", \"ops\"], \"states\": [\"down\"] },\n"
		"  { \"webhook\": \"https://ntfy.example/alerts-secret\", \"format\": \"ntfy\",\n"
		"    \"headers\": { \"Authorization\": \"Bearer ${NTFY_TOKEN}\" }, \"projects\": [\"shop\"] },\n"
		"  { \"webhook\": \"http://127.0.0.1:9/hook\", \"targets\": [\"db\"] } ] }\n";
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse(text, &cfg, &err), 0);
	assert_int_equal(cfg.nnotify, 3);
	const struct notify_dest *x = &cfg.notify[0], *n = &cfg.notify[1], *j = &cfg.notify[2];
	assert_int_equal(x->kind, NOTIFY_DEST_EXEC);
	assert_string_equal(x->argv[0], "/usr/local/bin/page");
	assert_string_equal(x->argv[2], "ops");
	assert_null(x->argv[3]);
	assert_int_equal(x->states, 1u << HT_DOWN);
	assert_int_equal(n->kind, NOTIFY_DEST_WEBHOOK);
	assert_int_equal(n->format, NOTIFY_FMT_NTFY);
	assert_int_equal(n->nheaders, 1);
	assert_string_equal(n->headers[0].value, "Bearer tk1");
	assert_string_equal(n->projects[0], "shop");
	assert_null(n->targets);
	assert_int_equal(j->format, NOTIFY_FMT_JSON);
	assert_int_equal(j->states, 0);   /* every change */
	assert_true(notify_dest_wants(j, "db", "core", HT_HEALTHY));
	assert_false(notify_dest_wants(j, "api", "shop", HT_DOWN));
	config_free(&cfg);
}

/* The key names the queue a message waits in: stable across runs, never the secret path. */
static void test_notify_config_keys_are_stable_and_keep_secrets(void **state)
{
	static const char text[] = "{ " TARGETS ",\n"
		"\"notify\": [ { \"webhook\": \"https://hooks.example/T0/B0/secretpart\", \"format\": \"slack\" },\n"
		"              { \"webhook\": \"https://hooks.example/T0/B0/secretpart\", \"format\": \"slack\" } ] }\n";
	struct ht_config a, b;
	struct ht_err err = { "" };

	assert_int_equal(parse(text, &a, &err), 0);
	assert_int_equal(parse(text, &b, &err), 0);
	assert_string_equal(a.notify[0].key, b.notify[0].key);
	assert_null(strstr(a.notify[0].key, "secretpart"));
	assert_non_null(strstr(a.notify[0].key, "https://hooks.example"));
	assert_string_not_equal(a.notify[0].key, a.notify[1].key);   /* two queues */
	config_free(&a);
	config_free(&b);
}

static void test_notify_config_errors_name_the_line(void **state)
{
	expect_error("{ " TARGETS ",\n\"notify\": { } }", "fleet.json:4: notify: must be an array of destinations");
	expect_error("{ " TARGETS ",\n\"notify\": [\n {\"exec\": [\"/bin/true\"], \"webhook\": \"http://x/\"} ] }",
		     "fleet.json:5: notify[0]: needs exactly one of \"exec\" and \"webhook\"");
	expect_error("{ " TARGETS ",\n\"notify\": [\n {\"exec\": []} ] }",
		     "fleet.json:5: notify[0].exec: must be a non-empty array of strings");
	expect_error("{ " TARGETS ",\n\"notify\": [\n {\"webhook\": \"ftp://x/\"} ] }",
		     "fleet.json:5: notify[0].webhook: must be an http:// or https:// URL");
	expect_error("{ " TARGETS ",\n\"notify\": [\n {\"webhook\": \"http://x/\",\n \"format\": \"xml\"} ] }",
		     "fleet.json:6: notify[0].format: must be \"json\", \"slack\" or \"ntfy\"");
	expect_error("{ " TARGETS ",\n\"notify\": [\n {\"webhook\": \"http://x/\", \"states\": [\"bad\"]} ] }",
		     "fleet.json:5: notify[0].states[0]: must be \"down\", \"degraded\" or \"healthy\"");
	expect_error("{ " TARGETS ",\n\"notify\": [\n {\"webhook\": \"http://x/\", \"targets\": [\"apx\"]} ] }",
		     "fleet.json:5: notify[0].targets[0]: no target is named \"apx\"");
	expect_error("{ " TARGETS ",\n\"notify\": [\n {\"webhook\": \"http://x/\", \"projects\": [\"shoop\"]} ] }",
		     "fleet.json:5: notify[0].projects[0]: no target has the project \"shoop\"");
	expect_error("{ " TARGETS ",\n\"notify\": [\n {\"webhok\": \"http://x/\"} ] }",
		     "fleet.json:5: notify[0].webhok: unknown key \"webhok\" (did you mean \"webhook\"?)");
	expect_error("{ " TARGETS ",\n\"notify\": [\n {\"exec\": [\"/bin/true\"], \"format\": \"json\"} ] }",
		     "fleet.json:5: notify[0]: \"format\" and \"headers\" are for webhooks, not exec");
	expect_error("{ " TARGETS ",\n\"notify\": [\n {\"webhook\": \"http://x/\", \"headers\": {\"A\": \"${NOPE}\"}} ] }",
		     "fleet.json:5: notify[0].headers.A: environment variable NOPE is not set");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_config_destinations_as_written),
		cmocka_unit_test(test_notify_config_keys_are_stable_and_keep_secrets),
		cmocka_unit_test(test_notify_config_errors_name_the_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
