#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "healthtop/core/config.h"

static const char *fake_env(const char *name)
{
	if (strcmp(name, "API_TOKEN") == 0)
		return "s3cret";
	if (strcmp(name, "EVIL") == 0)
		return "x\r\nX-Injected: 1";
	return NULL;
}

static int parse(const char *text, struct ht_config *cfg, struct ht_err *err)
{
	return config_parse(text, strlen(text), "fleet.json", fake_env, cfg, err);
}

/* Parses text that must fail and checks the whole message. */
static void expect_error(const char *text, const char *msg)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse(text, &cfg, &err), -1);
	assert_string_equal(err.msg, msg);
	assert_int_equal(cfg.ntargets, 0);
}

static const char issue_example[] =
	"{ \"concurrency\": 64,\n"
	"  \"defaults\": { \"interval_s\": 60, \"timeout_ms\": 5000, \"degraded_ms\": 1000, \"path\": \"/health\" },\n"
	"  \"targets\": [\n"
	"    { \"name\": \"api-prod\", \"project\": \"hivesync\", \"url\": \"https://api.example.com\",\n"
	"      \"path\": \"/health/deep\", \"timeout_ms\": 3000, \"headers\": { \"Authorization\": \"Bearer ${API_TOKEN}\" },\n"
	"      \"ca_file\": \"/etc/ssl/private-ca.pem\", \"insecure\": false,\n"
	"      \"tls_expiry_warn_days\": 14, \"heartbeat_stale_s\": 30 },\n"
	"    { \"name\": \"web\", \"url\": \"http://user:pw@web.example.org:8080/\" },\n"
	"    { \"name\": \"raw\", \"url\": \"http://example.net/ping?x=1\", \"path\": \"\" } ] }\n";

static void test_config_issue_example_parses(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse(issue_example, &cfg, &err), 0);
	assert_int_equal(cfg.concurrency, 64);
	assert_int_equal(cfg.ntargets, 3);
	const struct ht_target *t = &cfg.targets[0];
	assert_string_equal(t->name, "api-prod");
	assert_string_equal(t->project, "hivesync");
	assert_string_equal(t->check_url, "https://api.example.com/health/deep");
	assert_int_equal(t->probe.timeout_ms, 3000);
	assert_int_equal(t->rules.degraded_ms, 1000);
	assert_int_equal(t->interval_s, 60);
	assert_string_equal(t->probe.ca_file, "/etc/ssl/private-ca.pem");
	assert_int_equal(t->probe.nheaders, 1);
	assert_string_equal(t->probe.headers[0].name, "Authorization");
	assert_string_equal(t->probe.headers[0].value, "Bearer s3cret");
	config_free(&cfg);
}

static void test_config_project_defaults_to_host_and_path_joins(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse(issue_example, &cfg, &err), 0);
	assert_string_equal(cfg.targets[1].project, "web.example.org");
	/* trailing slash of url and leading slash of path are not doubled */
	assert_string_equal(cfg.targets[1].check_url, "http://user:pw@web.example.org:8080/health");
	config_free(&cfg);
}

static void test_config_empty_path_uses_url_verbatim(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse(issue_example, &cfg, &err), 0);
	assert_string_equal(cfg.targets[2].check_url, "http://example.net/ping?x=1");
	config_free(&cfg);
}

static void test_config_display_url_hides_password(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse(issue_example, &cfg, &err), 0);
	assert_null(strstr(cfg.targets[1].display_url, "pw"));
	assert_non_null(strstr(cfg.targets[1].display_url, "web.example.org:8080/health"));
	config_free(&cfg);
}

static void test_config_defaults_apply_to_every_rule(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };
	const char *text = "{\"targets\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\"}]}";

	assert_int_equal(parse(text, &cfg, &err), 0);
	assert_int_equal(cfg.concurrency, 64);
	assert_int_equal(cfg.targets[0].interval_s, 60);
	assert_int_equal(cfg.targets[0].probe.timeout_ms, 5000);
	assert_int_equal(cfg.targets[0].rules.degraded_ms, 1000);
	assert_int_equal(cfg.targets[0].rules.tls_expiry_warn_days, 14);
	assert_int_equal(cfg.targets[0].rules.heartbeat_stale_s, 30);
	assert_string_equal(cfg.targets[0].check_url, "http://127.0.0.1:1/health");
	config_free(&cfg);
}

static void test_config_target_header_overrides_default_header(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };
	const char *text =
		"{\"defaults\":{\"headers\":{\"X-Team\":\"ops\",\"Authorization\":\"none\"}},"
		"\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"headers\":{\"authorization\":\"Bearer ${API_TOKEN}\"}}]}";

	assert_int_equal(parse(text, &cfg, &err), 0);
	assert_int_equal(cfg.targets[0].probe.nheaders, 2);
	assert_string_equal(cfg.targets[0].probe.headers[0].value, "ops");
	assert_string_equal(cfg.targets[0].probe.headers[1].value, "Bearer s3cret");
	config_free(&cfg);
}

static void test_config_negative_timeout_names_line_and_field(void **state)
{
	expect_error("{\n\"targets\": [\n"
		     "{\"name\":\"a\",\"url\":\"http://h\"},\n{\"name\":\"b\",\"url\":\"http://h\"},\n"
		     "{\"name\":\"c\",\"url\":\"http://h\"},\n"
		     "{\"name\":\"d\",\"url\":\"http://h\",\n \"timeout_ms\": -5}]}",
		     "fleet.json:7: targets[3].timeout_ms: -5 is not an integer 1..600000");
}

static void test_config_non_integer_is_quoted(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"timeout_ms\":\"fast\"}]}",
		     "fleet.json:1: targets[0].timeout_ms: \"fast\" is not an integer 1..600000");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"interval_s\":1.5}]}",
		     "fleet.json:1: targets[0].interval_s: 1.5 is not an integer 1..86400");
}

static void test_config_file_scheme_is_rejected(void **state)
{
	expect_error("{\"targets\":[\n\n\n{\"name\":\"a\",\"url\":\"file:///etc/passwd\"}]}",
		     "fleet.json:4: targets[0].url: scheme \"file\" is not one of http, https, grpc, grpcs, tcp, tls");
}

/* grpc, tcp and tls checks take the URL as written: the path setting (default /health) is HTTP's. */
static void test_config_other_kinds_keep_their_url(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse("{\"targets\":[{\"name\":\"g\",\"url\":\"grpc://127.0.0.1:50051/my.Svc\"},"
			       "{\"name\":\"gs\",\"url\":\"grpcs://h:443\"},"
			       "{\"name\":\"t\",\"url\":\"tcp://db:5432\"},"
			       "{\"name\":\"s\",\"url\":\"tls://ldap:636\",\"path\":\"/health\"}]}",
			       &cfg, &err), 0);
	assert_int_equal(cfg.ntargets, 4);
	assert_string_equal(cfg.targets[0].check_url, "grpc://127.0.0.1:50051/my.Svc");
	assert_string_equal(cfg.targets[1].check_url, "grpcs://h:443");
	assert_string_equal(cfg.targets[2].check_url, "tcp://db:5432");
	assert_string_equal(cfg.targets[3].check_url, "tls://ldap:636");
	assert_string_equal(cfg.targets[0].display_url, "grpc://127.0.0.1:50051/my.Svc");
	assert_string_equal(cfg.targets[2].display_url, "tcp://db:5432");
	config_free(&cfg);
}

static void test_config_other_kinds_need_a_port(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"tcp://db\"}]}",
		     "fleet.json:1: targets[0].url: \"tcp://db\" needs a port (tcp://host:port)");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"grpc://h/svc\"}]}",
		     "fleet.json:1: targets[0].url: \"grpc://h/svc\" needs a port (grpc://host:port)");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"tls://h:636/x\"}]}",
		     "fleet.json:1: targets[0].url: \"tls://h:636/x\": a tls check takes no path");
}

static void test_config_unknown_key_suggests_near_miss(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\n\"timout_ms\":5}]}",
		     "fleet.json:2: targets[0].timout_ms: unknown key \"timout_ms\" (did you mean \"timeout_ms\"?)");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"timeout\":5}]}",
		     "fleet.json:1: targets[0].timeout: unknown key \"timeout\" (did you mean \"timeout_ms\"?)");
	expect_error("{\"colour\":1,\"targets\":[]}",
		     "fleet.json:1: colour: unknown key \"colour\"");
}

static void test_config_duplicate_names_are_rejected(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"},\n"
		     "{\"name\":\"b\",\"url\":\"http://h\"},\n{\"name\":\"a\",\"url\":\"http://h\"}]}",
		     "fleet.json:3: targets[2].name: \"a\" is already the name of targets[0]");
}

static void test_config_missing_url(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\"}]}", "fleet.json:1: targets[0]: missing \"url\"");
}

static void test_config_syntax_error_names_line_and_column(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse("{\n  \"targets\": [\n    {\"name\": \"a\",, }\n]}", &cfg, &err), -1);
	assert_non_null(strstr(err.msg, "fleet.json:3:"));
	assert_non_null(strstr(err.msg, "JSON syntax error"));
}

static void test_config_trailing_garbage_is_a_syntax_error(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}]}\n}", &cfg, &err), -1);
	assert_non_null(strstr(err.msg, "fleet.json:2:1: JSON syntax error"));
}

/* A config saved half-way (an editor, a copy cut short) used to be blamed on its last byte:
 * `fleet.json:2:1: JSON syntax error near " "`, which says nothing an operator can act on. */
static void test_config_cut_short_says_the_file_ends_too_early(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse("{ \"targets\": [ \n", &cfg, &err), -1);
	assert_string_equal(err.msg, "fleet.json:2:1: JSON syntax error: the file ends inside an "
			    "object or array (a missing } or ]?)");
	assert_int_equal(parse("{\"targets\":[{\"name\": }]}", &cfg, &err), -1);
	assert_null(strstr(err.msg, "ends inside"));
}

static void test_config_unset_variable_is_an_error(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"headers\":{\"X-Key\":\"${NOPE}\"}}]}",
		     "fleet.json:1: targets[0].headers.X-Key: environment variable NOPE is not set");
}

static void test_config_header_injection_through_env_is_refused(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"headers\":{\"X-Key\":\"${EVIL}\"}}]}",
		     "fleet.json:1: targets[0].headers.X-Key: value contains a line break");
}

static void test_config_control_characters_in_name_are_refused(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\\u001b[31m\",\"url\":\"http://h\"}]}",
		     "fleet.json:1: targets[0].name: \"a\\u001b[31m\" contains control characters or invalid UTF-8");
}

static void test_config_needs_targets(void **state)
{
	expect_error("{\"targets\":[]}", "fleet.json:1: targets: must be a non-empty array of targets");
	expect_error("[]", "fleet.json:1: the top level must be an object");
}

static void test_config_duplicate_key_is_refused(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\n\"name\":\"b\"}]}",
		     "fleet.json:1: targets[0].name: key appears twice");
}

static void test_config_load_reports_missing_file(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(config_load("/nonexistent/fleet.json", &cfg, &err), -1);
	assert_string_equal(err.msg, "/nonexistent/fleet.json: cannot open: No such file or directory");
}

/* cJSON skips a form feed as a space; the line walker used to spin on it (issue 9 §2). */
static void test_config_control_byte_outside_string_names_line_and_column(void **state)
{
	expect_error("{\"targets\":[\n\f{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\"}],\"bogus\":1}\n",
		     "fleet.json:2:1: control character 0x0C outside a string near \"\xEF\xBF\xBD{\"name\":\"a\",\"url\":\"\"");
}

/* Only len bytes are the text: what follows in memory must not change the verdict. */
static void test_config_reads_nothing_past_len(void **state)
{
	static const char text[] = "{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}]} \n  ";
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(config_parse(text, strlen(text) - 2, "fleet.json", fake_env, &cfg, &err), 0);
	config_free(&cfg);
	char *exact = malloc(strlen(text) - 2);
	assert_non_null(exact);
	memcpy(exact, text, strlen(text) - 2);   /* no NUL: valgrind/ASan see any read past it */
	assert_int_equal(config_parse(exact, strlen(text) - 2, "fleet.json", fake_env, &cfg, &err), 0);
	config_free(&cfg);
	free(exact);
}

/* Issue 9 §3: an invalid URL's password used to be quoted in the error message. */
static void test_config_invalid_url_masks_its_password(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://user:s3cret@ho st/\"}]}",
		     "fleet.json:1: targets[0].url: \"http://user:***@ho st/\" is not a valid URL (Bad hostname)");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://user:s3cret@h/\\u001b\"}]}",
		     "fleet.json:1: targets[0].url: \"http://user:***@h/\xEF\xBF\xBD\" contains control characters or invalid UTF-8");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://u:pw@h/\xEE\"}]}",
		     "fleet.json:1: targets[0].url: \"http://u:***@h/\xEF\xBF\xBD\" contains control characters or invalid UTF-8");
}

/* Issue 9 §4: a key name is part of the field path, and the path reached stderr raw. */
static void test_config_key_names_in_messages_are_sanitized(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}],\"\\u001b]0;x\":1}",
		     "fleet.json:1: \xEF\xBF\xBD]0;x: unknown key \"\xEF\xBF\xBD]0;x\"");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"headers\":{\"X\\u009b31m\":\"v\"}}]}",
		     "fleet.json:1: targets[0].headers.X\xEF\xBF\xBD" "31m: header name has a character not allowed in HTTP");
}

/* Found by fuzz/fuzz_config.c (fuzz/regressions/config/env-name-escape-in-message): a header
 * value's "${...}" that is not a variable name was quoted raw after the path. */
static void test_config_values_quoted_in_messages_are_sanitized(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"headers\":{\"X\":\"${A\\u001b[2J}\"}}]}",
		     "fleet.json:1: targets[0].headers.X: \"${A\xEF\xBF\xBD[2J}\" is not a variable name");
}

static void test_config_header_given_twice_in_any_case_is_refused(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\n\"headers\":{\"X-Key\":\"1\",\"x-key\":\"2\"}}]}",
		     "fleet.json:2: targets[0].headers.x-key: header given twice (names are case-insensitive)");
}

/* 50 000 headers used to parse for 18 s (a quadratic search); now the count is bounded first. */
static void test_config_header_count_is_bounded(void **state)
{
	char text[4096] = "{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"headers\":{";

	for (int i = 0; i <= HT_HEADERS_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s\"H%d\":\"v\"", i ? "," : "", i);
	strcat(text, "}}]}");
	expect_error(text, "fleet.json:1: targets[0].headers: 65 headers: at most 64 are allowed");
	text[strlen(text) - strlen(",\"H64\":\"v\"}}]}")] = '\0';
	strcat(text, "}}]}");
	struct ht_config cfg;
	struct ht_err err = { "" };
	assert_int_equal(parse(text, &cfg, &err), 0);
	assert_int_equal(cfg.targets[0].probe.nheaders, 64);
	config_free(&cfg);
}


static void test_config_alert_rules_default_to_the_seed_table(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}]}", &cfg, &err), 0);
	const struct ht_target *t = &cfg.targets[0];
	assert_int_equal(t->rules.expect_status.n, 0);
	assert_false(t->rules.timeout_is_down);
	assert_false(t->rules.server_error_is_down);
	assert_int_equal(t->rules.nexpect_json, 0);
	assert_int_equal(t->soft.failures_before_down, 1);
	assert_int_equal(t->soft.successes_before_healthy, 1);
	assert_int_equal(t->retry_interval_s, 10);
	config_free(&cfg);
}

static void test_config_alert_rules_inherit_from_defaults_and_override(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };
	const char *text =
		"{\"defaults\":{\"expect_status\":[200,\"300-399\",\"4xx\"],\"on_timeout\":\"down\","
		"\"expect_json\":{\"/database/status\":\"up\",\"/n\":3},\"failures_before_down\":3,"
		"\"successes_before_healthy\":2,\"retry_interval_s\":5},"
		"\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"},"
		"{\"name\":\"b\",\"url\":\"http://h\",\"expect_status\":\"204\",\"on_timeout\":\"degraded\","
		"\"on_5xx\":\"down\",\"expect_json\":{\"/ok\":true},\"failures_before_down\":1,"
		"\"retry_interval_s\":1}]}";

	assert_int_equal(parse(text, &cfg, &err), 0);
	const struct ht_target *a = &cfg.targets[0], *b = &cfg.targets[1];
	assert_int_equal(a->rules.expect_status.n, 3);
	assert_true(expect_status_accepts(&a->rules.expect_status, 302));
	assert_true(expect_status_accepts(&a->rules.expect_status, 418));
	assert_false(expect_status_accepts(&a->rules.expect_status, 204));
	assert_true(a->rules.timeout_is_down);
	assert_false(a->rules.server_error_is_down);
	assert_int_equal(a->rules.nexpect_json, 2);
	assert_string_equal(a->rules.expect_json[0].pointer, "/database/status");
	assert_string_equal(a->rules.expect_json[0].want->valuestring, "up");
	assert_int_equal(a->soft.failures_before_down, 3);
	assert_int_equal(a->soft.successes_before_healthy, 2);
	assert_int_equal(a->retry_interval_s, 5);
	assert_int_equal(b->rules.expect_status.n, 1);
	assert_true(expect_status_accepts(&b->rules.expect_status, 204));
	assert_false(expect_status_accepts(&b->rules.expect_status, 200));
	assert_false(b->rules.timeout_is_down);
	assert_true(b->rules.server_error_is_down);
	assert_int_equal(b->rules.nexpect_json, 1);
	assert_string_equal(b->rules.expect_json[0].pointer, "/ok");
	assert_int_equal(b->soft.failures_before_down, 1);
	assert_int_equal(b->soft.successes_before_healthy, 2);
	assert_int_equal(b->retry_interval_s, 1);
	config_free(&cfg);
	assert_null(cfg.targets);
}

/* quorum: the fleet's at the top, then defaults, then each target (issue 13's locations). */
static void test_config_quorum_inherits_and_is_validated(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };

	assert_int_equal(parse("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}]}", &cfg, &err), 0);
	assert_int_equal(cfg.targets[0].quorum, 1);
	config_free(&cfg);
	assert_int_equal(parse("{\"quorum\":3,\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"},"
			       "{\"name\":\"b\",\"url\":\"http://h\",\"quorum\":2}]}", &cfg, &err), 0);
	assert_int_equal(cfg.targets[0].quorum, 3);
	assert_int_equal(cfg.targets[1].quorum, 2);
	config_free(&cfg);
	assert_int_equal(parse("{\"quorum\":3,\"defaults\":{\"quorum\":2},\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}]}",
			       &cfg, &err), 0);
	assert_int_equal(cfg.targets[0].quorum, 2);
	config_free(&cfg);
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\n\"quorum\":0}]}",
		     "fleet.json:2: targets[0].quorum: 0 is not an integer 1..64");
	expect_error("{\"quorum\":65,\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}]}",
		     "fleet.json:1: quorum: 65 is not an integer 1..64");
	expect_error("{\"defaults\":{\"quorum\":\"2\"},\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}]}",
		     "fleet.json:1: defaults.quorum: \"2\" is not an integer 1..64");
}

static void test_config_alert_rules_are_validated_with_line(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\n\"expect_status\":[200,\"2xy\"]}]}",
		     "fleet.json:2: targets[0].expect_status[1]: \"2xy\" is not a status code 100..599, a range like"
		     " \"200-299\" or a class like \"2xx\"");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\n\"expect_status\":[]}]}",
		     "fleet.json:2: targets[0].expect_status: must list 1..16 status codes or ranges");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"expect_status\":700}]}",
		     "fleet.json:1: targets[0].expect_status: 700 is not a status code 100..599, a range like"
		     " \"200-299\" or a class like \"2xx\"");
	expect_error("{\"defaults\":{\n\"on_5xx\":\"critical\"},\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}]}",
		     "fleet.json:2: defaults.on_5xx: \"critical\" is not \"degraded\" or \"down\"");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"on_timeout\":true}]}",
		     "fleet.json:1: targets[0].on_timeout: true is not \"degraded\" or \"down\"");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\n\"expect_json\":{\"database\":\"up\"}}]}",
		     "fleet.json:2: targets[0].expect_json.database: \"database\" is not a JSON pointer"
		     " (\"/a/b\", ~0 for ~ and ~1 for /)");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"expect_json\":[1]}]}",
		     "fleet.json:1: targets[0].expect_json: must be an object of 1..16 \"/json/pointer\": expected value");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\n\"failures_before_down\":11}]}",
		     "fleet.json:2: targets[0].failures_before_down: 11 is not an integer 1..10");
	expect_error("{\"defaults\":{\"successes_before_healthy\":0},\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}]}",
		     "fleet.json:1: defaults.successes_before_healthy: 0 is not an integer 1..10");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"retry_interval_s\":0}]}",
		     "fleet.json:1: targets[0].retry_interval_s: 0 is not an integer 1..86400");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"expect_stauts\":[200]}]}",
		     "fleet.json:1: targets[0].expect_stauts: unknown key \"expect_stauts\" (did you mean \"expect_status\"?)");
	expect_error("{\"defaults\":{\"failures_before_dwn\":2},\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}]}",
		     "fleet.json:1: defaults.failures_before_dwn: unknown key \"failures_before_dwn\""
		     " (did you mean \"failures_before_down\"?)");
}

static void test_config_reuse_connections_is_off_unless_asked(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };
	const char *text =
		"{\"defaults\":{\"reuse_connections\":true},"
		"\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"},"
		"{\"name\":\"b\",\"url\":\"http://h\",\"reuse_connections\":false}]}";

	assert_int_equal(parse(issue_example, &cfg, &err), 0);
	assert_false(cfg.targets[0].probe.reuse_connections);
	config_free(&cfg);
	assert_int_equal(parse(text, &cfg, &err), 0);
	assert_true(cfg.targets[0].probe.reuse_connections);    /* from defaults */
	assert_false(cfg.targets[1].probe.reuse_connections);   /* the target's own word wins */
	config_free(&cfg);
}

static void test_config_reuse_connections_must_be_a_boolean(void **state)
{
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\n\"reuse_connections\":\"yes\"}]}",
		     "fleet.json:2: targets[0].reuse_connections: \"yes\" is not true or false");
	expect_error("{\"defaults\":{\n\n\"reuse_connections\":1},\"targets\":[{\"name\":\"a\",\"url\":\"http://h\"}]}",
		     "fleet.json:3: defaults.reuse_connections: 1 is not true or false");
	expect_error("{\"targets\":[{\"name\":\"a\",\"url\":\"http://h\",\"reuse_connection\":true}]}",
		     "fleet.json:1: targets[0].reuse_connection: unknown key \"reuse_connection\""
		     " (did you mean \"reuse_connections\"?)");
}

/* Issue 12 (memory at 100 000 targets): a project's name is one string for all its targets,
 * and a URL that reads the same checked and shown is one string; a password keeps them apart. */
static void test_config_targets_share_alike_strings(void **state)
{
	struct ht_config cfg;
	struct ht_err err = { "" };
	const char *text = "{\"targets\":["
		"{\"name\":\"a\",\"project\":\"shop\",\"url\":\"http://h1/x\"},"
		"{\"name\":\"b\",\"project\":\"core\",\"url\":\"http://h2/\"},"
		"{\"name\":\"c\",\"project\":\"shop\",\"url\":\"http://u:secret@h3/\"},"
		"{\"name\":\"d\",\"url\":\"http://h4/\",\"path\":\"\"}]}";

	assert_int_equal(parse(text, &cfg, &err), 0);
	assert_ptr_equal(cfg.targets[0].project, cfg.targets[2].project);
	assert_ptr_not_equal(cfg.targets[0].project, cfg.targets[1].project);
	assert_string_equal(cfg.targets[0].check_url, "http://h1/x/health");
	assert_ptr_equal(cfg.targets[0].display_url, cfg.targets[0].check_url);
	assert_string_equal(cfg.targets[2].display_url, "http://u@h3/health");
	assert_string_equal(cfg.targets[2].check_url, "http://u:secret@h3/health");
	assert_string_equal(cfg.targets[3].project, "h4");
	assert_ptr_equal(cfg.targets[3].check_url, cfg.targets[3].url);   /* no path added */
	assert_ptr_equal(cfg.targets[3].display_url, cfg.targets[3].url);
	config_free(&cfg);   /* each string once: valgrind and ASan runs would say otherwise */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_issue_example_parses),
		cmocka_unit_test(test_config_project_defaults_to_host_and_path_joins),
		cmocka_unit_test(test_config_empty_path_uses_url_verbatim),
		cmocka_unit_test(test_config_display_url_hides_password),
		cmocka_unit_test(test_config_defaults_apply_to_every_rule),
		cmocka_unit_test(test_config_target_header_overrides_default_header),
		cmocka_unit_test(test_config_negative_timeout_names_line_and_field),
		cmocka_unit_test(test_config_non_integer_is_quoted),
		cmocka_unit_test(test_config_file_scheme_is_rejected),
		cmocka_unit_test(test_config_other_kinds_keep_their_url),
		cmocka_unit_test(test_config_other_kinds_need_a_port),
		cmocka_unit_test(test_config_unknown_key_suggests_near_miss),
		cmocka_unit_test(test_config_duplicate_names_are_rejected),
		cmocka_unit_test(test_config_missing_url),
		cmocka_unit_test(test_config_syntax_error_names_line_and_column),
		cmocka_unit_test(test_config_trailing_garbage_is_a_syntax_error),
		cmocka_unit_test(test_config_cut_short_says_the_file_ends_too_early),
		cmocka_unit_test(test_config_unset_variable_is_an_error),
		cmocka_unit_test(test_config_header_injection_through_env_is_refused),
		cmocka_unit_test(test_config_control_characters_in_name_are_refused),
		cmocka_unit_test(test_config_needs_targets),
		cmocka_unit_test(test_config_duplicate_key_is_refused),
		cmocka_unit_test(test_config_load_reports_missing_file),
		cmocka_unit_test(test_config_control_byte_outside_string_names_line_and_column),
		cmocka_unit_test(test_config_reads_nothing_past_len),
		cmocka_unit_test(test_config_invalid_url_masks_its_password),
		cmocka_unit_test(test_config_key_names_in_messages_are_sanitized),
		cmocka_unit_test(test_config_values_quoted_in_messages_are_sanitized),
		cmocka_unit_test(test_config_header_given_twice_in_any_case_is_refused),
		cmocka_unit_test(test_config_header_count_is_bounded),
		cmocka_unit_test(test_config_alert_rules_default_to_the_seed_table),
		cmocka_unit_test(test_config_alert_rules_inherit_from_defaults_and_override),
		cmocka_unit_test(test_config_alert_rules_are_validated_with_line),
		cmocka_unit_test(test_config_quorum_inherits_and_is_validated),
		cmocka_unit_test(test_config_reuse_connections_is_off_unless_asked),
		cmocka_unit_test(test_config_reuse_connections_must_be_a_boolean),
		cmocka_unit_test(test_config_targets_share_alike_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
