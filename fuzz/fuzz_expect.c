/* expect_status_parse()/expect_status_accepts() and the JSON pointer (expect_json_pointer_valid,
 * expect_json_lookup, expect_json_holds). Input: a status text, NUL, a pointer, NUL, a JSON text.
 * A status range parses only from one of the forms docs/config.md gives and accepts exactly its
 * codes; every value of a JSON document is found again at the pointer written for it, and a
 * failed assertion explains itself in one clean line. */
#include "autoconfig.h"
#include <cjson/cJSON.h>
#include "fuzz_util.h"
#include "healthtop/core/expect.h"
#include "healthtop/core/sanitize.h"

#define MAX_NODES 256
#define POINTER_ROOM 4096

static void check_status(const char *s)
{
	struct status_range r = { -7, -7 };
	char form[32];

	if (expect_status_parse(s, &r) < 0)
		return;
	FUZZ_CHECK(r.lo >= 100 && r.lo <= r.hi && r.hi <= 599);
	/* "200", "200-299" or "2xx", written exactly so: nothing else parses. */
	bool known = false;
	snprintf(form, sizeof(form), "%d", r.lo);
	known |= r.lo == r.hi && strcmp(s, form) == 0;
	snprintf(form, sizeof(form), "%d-%d", r.lo, r.hi);
	known |= strcmp(s, form) == 0;
	snprintf(form, sizeof(form), "%cxx", '0' + r.lo / 100);
	known |= r.lo % 100 == 0 && r.hi == r.lo + 99 && strcmp(s, form) == 0;
	FUZZ_CHECK(known);
	struct expect_status e = { .n = 1 };
	e.r[0] = r;
	for (long code = r.lo - 2; code <= r.hi + 2; code++)
		FUZZ_CHECK(expect_status_accepts(&e, code) == (code >= r.lo && code <= r.hi));
	e.n = 0;   /* no expect_status: 2xx */
	FUZZ_CHECK(expect_status_accepts(&e, r.lo) == (r.lo >= 200 && r.lo <= 299));
}

/* The RFC 6901 pointer to a member key or array index under `prefix`. */
static bool extend(char *out, size_t room, const char *prefix, const char *key, int index)
{
	size_t n = strlen(prefix);

	if (n + 2 >= room)
		return false;
	memcpy(out, prefix, n);
	out[n++] = '/';
	if (!key)
		return (size_t)snprintf(out + n, room - n, "%d", index) < room - n;
	for (const char *k = key; *k; k++) {
		if (n + 3 >= room)
			return false;
		if (*k == '~' || *k == '/') {
			out[n++] = '~';
			out[n++] = *k == '~' ? '0' : '1';
		} else {
			out[n++] = *k;
		}
	}
	out[n] = '\0';
	return true;
}

/* Every value reachable by a pointer (members a key names first, as lookup means) is found there. */
static void check_paths(const cJSON *root, const cJSON *node, const char *ptr, int *budget)
{
	char *child_ptr;
	int i = 0;

	if (--*budget < 0)
		return;
	FUZZ_CHECK(expect_json_pointer_valid(ptr) == 0);
	FUZZ_CHECK(expect_json_lookup(root, ptr) == node);
	child_ptr = malloc(POINTER_ROOM);
	FUZZ_CHECK(child_ptr != NULL);
	for (const cJSON *c = node->child; c; c = c->next, i++) {
		if (cJSON_IsObject(node) && cJSON_GetObjectItemCaseSensitive(node, c->string) != c)
			continue;
		if (extend(child_ptr, POINTER_ROOM, ptr, cJSON_IsObject(node) ? c->string : NULL, i))
			check_paths(root, c, child_ptr, budget);
	}
	free(child_ptr);
}

/* Is `v` the document itself or inside it? */
static bool inside(const cJSON *node, const cJSON *v)
{
	if (node == v)
		return true;
	for (const cJSON *c = node->child; c; c = c->next)
		if (inside(c, v))
			return true;
	return false;
}

static void check_pointer(const char *ptr, const cJSON *root)
{
	int valid = expect_json_pointer_valid(ptr);
	const cJSON *found = expect_json_lookup(root, ptr);
	struct expect_json e = { (char *)ptr, cJSON_CreateString("fuzz-want") };
	char why[160];

	FUZZ_CHECK(valid == 0 || valid == -1);
	FUZZ_CHECK(valid == 0 || ptr[0] != '\0');
	FUZZ_CHECK(!found || (root && inside(root, found)));
	FUZZ_CHECK(e.want != NULL);
	memset(why, 'x', sizeof(why));
	why[sizeof(why) - 1] = '\0';
	bool holds = expect_json_holds(root, &e, 1, why, sizeof(why));
	FUZZ_CHECK(holds == (found && cJSON_IsString(found) && strcmp(found->valuestring, "fuzz-want") == 0));
	if (!holds)
		FUZZ_CHECK(fuzz_terminated(why, sizeof(why)) && why[0] != '\0' && sanitize_is_clean(why));
	cJSON_Delete(e.want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	char *status = fuzz_take_string(&in), *ptr = fuzz_take_string(&in);
	cJSON *root = cJSON_ParseWithLength((const char *)in.p, in.n);
	int budget = MAX_NODES;

	check_status(status);
	check_pointer(ptr, root);
	if (root)
		check_paths(root, root, "", &budget);
	cJSON_Delete(root);
	free(status);
	free(ptr);
	return 0;
}
