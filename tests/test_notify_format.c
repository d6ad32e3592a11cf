#include "autoconfig.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <cmocka.h>
#include "healthtop/core/health_class.h"
#include "healthtop/notify/notify_format.h"

/* 2026-11-24T10:00:00Z and twelve minutes later */
#define T0 1795514400000LL
#define T1 (T0 + 12 * 60 * 1000)

static const struct notify_event down = { "api", "hivesync", "http://127.0.0.1:8080/health", HT_HEALTHY,
					  HT_DOWN, "HTTP 503 \"unavailable\"", T0, T1 };
static const struct notify_event recovered = { "api", "hivesync", "http://127.0.0.1:8080/health", HT_DOWN,
					       HT_HEALTHY, "HTTP 200", T0, T1 };

static void test_json_is_the_documented_object(void **state)
{
	const char *ctype;
	char hdr[2][256];
	size_t nhdr;
	char *body = notify_body(&down, NOTIFY_JSON, &ctype, hdr, &nhdr);
	cJSON *o = cJSON_Parse(body);

	assert_non_null(o);
	assert_string_equal(ctype, "application/json");
	assert_int_equal(nhdr, 0);
	assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring, "api");
	assert_string_equal(cJSON_GetObjectItem(o, "project")->valuestring, "hivesync");
	assert_string_equal(cJSON_GetObjectItem(o, "old")->valuestring, "healthy");
	assert_string_equal(cJSON_GetObjectItem(o, "new")->valuestring, "down");
	assert_string_equal(cJSON_GetObjectItem(o, "reason")->valuestring, "HTTP 503 \"unavailable\"");
	assert_string_equal(cJSON_GetObjectItem(o, "since")->valuestring, "2026-11-24T10:00:00Z");
	assert_string_equal(cJSON_GetObjectItem(o, "at")->valuestring, "2026-11-24T10:12:00Z");
	assert_int_equal(cJSON_GetObjectItem(o, "duration_s")->valueint, 720);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "recovered")));
	cJSON_Delete(o);
	free(body);
}

static void test_recovery_says_how_long_it_lasted(void **state)
{
	char msg[256];

	notify_message(&recovered, msg, sizeof(msg));
	assert_string_equal(msg, "api (hivesync) recovered: resolved after 12m");
	notify_message(&down, msg, sizeof(msg));
	assert_string_equal(msg, "api (hivesync) is down: HTTP 503 \"unavailable\"");
}

static void test_slack_is_an_incoming_webhook_text(void **state)
{
	const char *ctype;
	char hdr[2][256];
	size_t nhdr;
	char *body = notify_body(&recovered, NOTIFY_SLACK, &ctype, hdr, &nhdr);
	cJSON *o = cJSON_Parse(body);

	assert_non_null(o);
	assert_non_null(strstr(cJSON_GetObjectItem(o, "text")->valuestring, "resolved after 12m"));
	cJSON_Delete(o);
	free(body);
}

static void test_ntfy_is_plain_text_with_title_and_priority(void **state)
{
	const char *ctype;
	char hdr[2][256];
	size_t nhdr;
	char *body = notify_body(&down, NOTIFY_NTFY, &ctype, hdr, &nhdr);

	assert_string_equal(body, "api (hivesync) is down: HTTP 503 \"unavailable\"");
	assert_int_equal(nhdr, 2);
	assert_string_equal(hdr[0], "Title: healthtop: api down");
	assert_string_equal(hdr[1], "Priority: urgent");
	free(body);
}

static void test_exec_environment(void **state)
{
	char *env[NOTIFY_ENV_COUNT + 1];

	assert_int_equal(notify_env(&recovered, env), 0);
	assert_string_equal(env[0], "HEALTHTOP_NAME=api");
	assert_string_equal(env[1], "HEALTHTOP_PROJECT=hivesync");
	assert_string_equal(env[2], "HEALTHTOP_URL=http://127.0.0.1:8080/health");
	assert_string_equal(env[3], "HEALTHTOP_OLD=down");
	assert_string_equal(env[4], "HEALTHTOP_NEW=healthy");
	assert_string_equal(env[5], "HEALTHTOP_REASON=HTTP 200");
	assert_string_equal(env[6], "HEALTHTOP_SINCE=2026-11-24T10:00:00Z");
	assert_string_equal(env[7], "HEALTHTOP_DURATION_S=720");
	assert_null(env[8]);
	notify_env_free(env);
}

static void test_durations_read_like_a_person_writes_them(void **state)
{
	char d[32];

	notify_duration(42, d, sizeof(d));
	assert_string_equal(d, "42s");
	notify_duration(3 * 3600 + 5 * 60, d, sizeof(d));
	assert_string_equal(d, "3h 5m");
	notify_duration(2 * 86400 + 4 * 3600, d, sizeof(d));
	assert_string_equal(d, "2d 4h");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_is_the_documented_object),
		cmocka_unit_test(test_recovery_says_how_long_it_lasted),
		cmocka_unit_test(test_slack_is_an_incoming_webhook_text),
		cmocka_unit_test(test_ntfy_is_plain_text_with_title_and_priority),
		cmocka_unit_test(test_exec_environment),
		cmocka_unit_test(test_durations_read_like_a_person_writes_them),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
