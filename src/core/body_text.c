/* Kubernetes' verbose health text, as /livez?verbose and /readyz?verbose write it (pure):
 *   [+]ping ok
 *   [-]etcd failed: reason withheld
 *   readyz check failed
 * Each [+]/[-] line is a component, exactly like a JSON body's; other lines are ignored. */
#include "autoconfig.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "healthtop/core/sanitize.h"
#include "body_priv.h"

#define LINE_MAX_KEPT 256   /* a longer line is judged on what fits: name and the reason's start */

/* One "[+]name ok" / "[-]name failed: reason" line; false when the line is not one. */
static bool text_line(const char *line, struct body_report *out)
{
	char name[64], detail[160];
	bool ok;

	if (strncmp(line, "[+]", 3) == 0)
		ok = true;
	else if (strncmp(line, "[-]", 3) == 0)
		ok = false;
	else
		return false;
	line += 3;
	size_t n = strcspn(line, " \t");
	if (n == 0)
		return false;
	snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), line);
	const char *rest = line + n + strspn(line + n, " \t");
	if (ok) {
		body_add_component(out, name, "ok", HT_HEALTHY, NULL);
		return true;
	}
	if (strncmp(rest, "failed", 6) == 0) {
		rest += 6;
		rest += strspn(rest, ": \t");
	}
	if (!rest[0])
		rest = "failed";
	sanitize_text(rest, strlen(rest), detail, sizeof(detail), false);   /* it is the server's text */
	body_add_component(out, name, "failed", HT_DEGRADED, detail);
	return true;
}

bool body_text_assess(const char *body, size_t len, struct body_report *out)
{
	struct body_report r;
	char line[LINE_MAX_KEPT];
	size_t pos = 0;
	bool any = false;

	memset(&r, 0, sizeof(r));
	r.cls = HT_HEALTHY;
	while (pos < len) {
		const char *nl = memchr(body + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - body) : len;
		size_t n = end - pos;
		if (n && body[end - 1] == '\r')
			n--;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, body + pos, n);
		line[n] = '\0';
		if (memchr(line, '\0', n) == NULL && text_line(line, &r))
			any = true;
		pos = end + 1;
	}
	if (any)
		*out = r;
	return any;
}
