/* body_text_assess(): Kubernetes' verbose health text (`[+]name ok`, `[-]name failed: why`).
 * Checked by counting: every such line, and only those, is a component; any failed one makes the
 * body degraded (never down) with a clean reason; CRLF line ends read like LF; and a name or
 * reason from printable UTF-8 is never cut inside a character. */
#include "autoconfig.h"
#include "fuzz_util.h"
#include "core/body_priv.h"
#include "healthtop/core/sanitize.h"

#define REPLACEMENT "\xEF\xBF\xBD"

struct tally {
	size_t seen, failed;
};

/* An independent count of the component lines: split on '\n', one trailing '\r' dropped, and
 * "[+]" or "[-]" followed by a name (not a space or the end). */
static struct tally count_lines(const char *body, size_t len)
{
	struct tally t = { 0, 0 };

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(body + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - body) : len, n = end - pos;
		const char *l = body + pos;
		if (n && l[n - 1] == '\r')
			n--;
		if (n >= 4 && l[0] == '[' && (l[1] == '+' || l[1] == '-') && l[2] == ']' &&
		    l[3] != ' ' && l[3] != '\t') {
			t.seen++;
			t.failed += l[1] == '-';
		}
		pos = end + 1;
	}
	return t;
}

static bool clean(const char *s, size_t size)
{
	return fuzz_terminated(s, size) && sanitize_is_clean(s);
}

/* True when the text is printable UTF-8 apart from line ends and tabs: sanitizing it then adds
 * no replacement character, and neither may any cut the parser makes. */
static bool printable_utf8(const char *body, size_t len)
{
	char *out = malloc(3 * len + 1);

	FUZZ_CHECK(out != NULL);
	sanitize_text(body, len, out, 3 * len + 1, false);
	bool ok = !strstr(out, REPLACEMENT);
	free(out);
	return ok;
}

static void check_report(const struct body_report *r, struct tally t, bool printable)
{
	FUZZ_CHECK(!r->parsed && !r->has_status);
	FUZZ_CHECK(r->ncomps_seen == t.seen);
	FUZZ_CHECK(r->ncomps == (t.seen < BODY_MAX_COMPONENTS ? t.seen : BODY_MAX_COMPONENTS));
	/* The service answered: a failed check makes it degraded, never down. */
	FUZZ_CHECK(r->cls == (t.failed ? HT_DEGRADED : HT_HEALTHY));
	FUZZ_CHECK(clean(r->reason, sizeof(r->reason)));
	FUZZ_CHECK((r->reason[0] != '\0') == (t.failed > 0));
	FUZZ_CHECK(!printable || !strstr(r->reason, REPLACEMENT));
	for (size_t i = 0; i < r->ncomps; i++) {
		const struct body_component *c = &r->comps[i];
		FUZZ_CHECK(clean(c->name, sizeof(c->name)) && c->name[0] != '\0');
		FUZZ_CHECK(!printable || !strstr(c->name, REPLACEMENT));
		FUZZ_CHECK(strcmp(c->state, c->cls == HT_HEALTHY ? "ok" : "failed") == 0);
		FUZZ_CHECK(c->cls == HT_HEALTHY || c->cls == HT_DEGRADED);
	}
}

static bool same_report(const struct body_report *a, const struct body_report *b)
{
	if (a->cls != b->cls || a->ncomps != b->ncomps || a->ncomps_seen != b->ncomps_seen ||
	    strcmp(a->reason, b->reason) != 0)
		return false;
	for (size_t i = 0; i < a->ncomps; i++)
		if (strcmp(a->comps[i].name, b->comps[i].name) != 0 ||
		    strcmp(a->comps[i].state, b->comps[i].state) != 0 || a->comps[i].cls != b->comps[i].cls)
			return false;
	return true;
}

/* The same text with CRLF line ends gives the same report. */
static void check_crlf(const char *body, size_t len, const struct body_report *lf)
{
	char *crlf = malloc(2 * len + 1);
	struct body_report *r = malloc(sizeof(*r));
	size_t n = 0;

	FUZZ_CHECK(crlf != NULL && r != NULL);
	for (size_t i = 0; i < len; i++) {
		if (body[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = body[i];
	}
	FUZZ_CHECK(body_text_assess(crlf, n, r));
	FUZZ_CHECK(same_report(r, lf));
	free(r);
	free(crlf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;   /* exactly size bytes, no terminator */
	struct body_report *r = malloc(sizeof(*r)), *untouched = malloc(sizeof(*r));

	FUZZ_CHECK(r != NULL && untouched != NULL);
	memset(r, 0xA5, sizeof(*r));
	memcpy(untouched, r, sizeof(*r));
	bool any = body_text_assess(body, size, r);
	/* A NUL cuts a line short for the parser; the count above knows nothing of that. */
	if (!memchr(body, '\0', size)) {
		struct tally t = count_lines(body, size);
		FUZZ_CHECK(any == (t.seen > 0));
		if (any) {
			check_report(r, t, printable_utf8(body, size));
			if (!memchr(body, '\r', size))
				check_crlf(body, size, r);
		}
	}
	if (!any)
		FUZZ_CHECK(memcmp(r, untouched, sizeof(*r)) == 0);
	else
		FUZZ_CHECK(clean(r->reason, sizeof(r->reason)));
	free(untouched);
	free(r);
	return 0;
}
