/* export_csv_cell() and export_row(): hostile names, URLs and reasons never break a CSV line or
 * a JSONL object, never carry a control byte, never start a spreadsheet formula, and a cell
 * reads back as the sanitized text. */
#include "autoconfig.h"
#include <cjson/cJSON.h>
#include "fuzz_util.h"
#include "healthtop/core/sanitize.h"
#include "healthtop/export/export_format.h"
#include "healthtop/store/store.h"

#define NCOLUMNS 12
#define CELL_ROOM (1024 * 2 + 4)   /* what export_format.c gives one cell */
#define LINE_ROOM 65536

/* Undoes RFC 4180 quoting of one field starting at *p; returns it (malloc'd), moves *p past it. */
static char *csv_field(const char **p)
{
	const char *s = *p;
	char *out = malloc(strlen(s) + 1);
	size_t o = 0;

	FUZZ_CHECK(out != NULL);
	if (*s == '"') {
		for (s++;; s++) {
			FUZZ_CHECK(*s != '\0');   /* an unterminated quote */
			if (*s == '"') {
				if (s[1] != '"')
					break;
				s++;
			}
			out[o++] = *s;
		}
		s++;
		FUZZ_CHECK(*s == ',' || *s == '\r' || *s == '\0');
	} else {
		for (; *s && *s != ',' && *s != '\r'; s++) {
			FUZZ_CHECK(*s != '"');   /* a bare quote inside an unquoted field */
			out[o++] = *s;
		}
	}
	out[o] = '\0';
	*p = s;
	return out;
}

static void check_cell(const char *in)
{
	char cell[CELL_ROOM], clean[1024], expect[1100];
	const char *p = cell;
	size_t n = export_csv_cell(in, cell, sizeof(cell));

	FUZZ_CHECK(n < sizeof(cell) && strlen(cell) == n);
	FUZZ_CHECK(!fuzz_has_control(cell, n));
	char *back = csv_field(&p);
	FUZZ_CHECK(*p == '\0');
	FUZZ_CHECK(back[0] == '\0' || !strchr("=+-@\t\r", back[0]));
	sanitize_text(in, strlen(in), clean, sizeof(clean), false);
	snprintf(expect, sizeof(expect), "%s%s", in[0] && strchr("=+-@\t\r", in[0]) ? "'" : "",
		 clean);
	FUZZ_CHECK(strcmp(back, expect) == 0);
	free(back);
}

/* A smaller room than the writer gives: bounded, terminated, never past the end. */
static void check_small_cell(const char *in, size_t size)
{
	char *out = malloc(size);

	FUZZ_CHECK(out != NULL);
	size_t n = export_csv_cell(in, out, size);
	if (size >= 4)
		FUZZ_CHECK(n < size && strlen(out) == n);
	else
		FUZZ_CHECK(n == 0);
	free(out);
}

static void check_csv_line(const struct store_result *r, const char *line, size_t len)
{
	const char *text[NCOLUMNS] = { [1] = r->project, [2] = r->name, [3] = r->url, [11] = r->reason };
	const char *p = line;

	FUZZ_CHECK(len >= 2 && strlen(line) == len);
	FUZZ_CHECK(line[len - 2] == '\r' && line[len - 1] == '\n');
	FUZZ_CHECK(!fuzz_has_control(line, len - 2));
	for (int i = 0; i < NCOLUMNS; i++) {
		char *f = csv_field(&p);
		if (text[i])
			FUZZ_CHECK(f[0] == '\0' || !strchr("=+-@\t\r", f[0]));
		free(f);
		FUZZ_CHECK(*p == (i + 1 < NCOLUMNS ? ',' : '\r'));
		p++;
	}
}

static void check_jsonl_line(const char *line, size_t len)
{
	FUZZ_CHECK(len >= 1 && strlen(line) == len && line[len - 1] == '\n');
	FUZZ_CHECK(!fuzz_has_control(line, len - 1));
	cJSON *o = cJSON_ParseWithLength(line, len);
	FUZZ_CHECK(cJSON_IsObject(o));
	FUZZ_CHECK(cJSON_GetArraySize(o) == NCOLUMNS);
	/* A latency is absent (null) or one a clock could measure: never 300 digits. */
	static const char *const ms_keys[] = { "response_ms", "dns_ms", "connect_ms", "tls_ms",
						 "ttfb_ms" };
	for (size_t i = 0; i < sizeof(ms_keys) / sizeof(ms_keys[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, ms_keys[i]);
		FUZZ_CHECK(cJSON_IsNull(v) ||
			   (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1e12));
	}
	cJSON_Delete(o);
}

static void write_row(const struct store_result *r, enum export_format fmt)
{
	char *buf = calloc(1, LINE_ROOM);
	FILE *f;

	FUZZ_CHECK(buf != NULL);
	f = fmemopen(buf, LINE_ROOM, "w");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(export_row(f, fmt, r) == 0);
	long len = ftell(f);
	FUZZ_CHECK(fclose(f) == 0 && len > 0 && len < LINE_ROOM);
	if (fmt == EXPORT_CSV)
		check_csv_line(r, buf, (size_t)len);
	else
		check_jsonl_line(buf, (size_t)len);
	free(buf);
}

/* Input: 8 bytes time, 1 class, 4 http code, 5 x 8 bytes latencies, 1 cell room, then the
 * project, name, URL and reason separated by NUL bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct store_result r = { 0 };   /* poller, location: none (as SQLite) */

	r.checked_at_ms = (int64_t)fuzz_take_u64(&in, 8);
	r.cls = (enum ht_class)(fuzz_take_u64(&in, 1) % HT_CLASS_COUNT);
	r.http_code = (long)(int32_t)fuzz_take_u64(&in, 4);
	r.response_ms = fuzz_take_double(&in);
	r.dns_ms = fuzz_take_double(&in);
	r.connect_ms = fuzz_take_double(&in);
	r.tls_ms = fuzz_take_double(&in);
	r.ttfb_ms = fuzz_take_double(&in);
	/* Any double, infinities and NaNs included: JSONL writes null where CSV leaves the cell
	 * empty (fuzz/regressions/export/jsonl-infinite-latency). */
	size_t room = 1 + fuzz_take_u64(&in, 1) % 64;
	char *project = fuzz_take_string(&in), *name = fuzz_take_string(&in);
	char *url = fuzz_take_string(&in), *reason = fuzz_take_string(&in);
	r.project = project;
	r.name = name;
	r.url = url;
	r.reason = reason;

	check_cell(reason);
	check_small_cell(reason, room);
	write_row(&r, EXPORT_CSV);
	write_row(&r, EXPORT_JSONL);
	free(project);
	free(name);
	free(url);
	free(reason);
	return 0;
}
