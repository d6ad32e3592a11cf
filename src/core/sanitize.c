#include "autoconfig.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "healthtop/core/sanitize.h"

#define REPLACEMENT "\xEF\xBF\xBD"   /* U+FFFD */

/* Length of the valid UTF-8 sequence at p (1..4), its code point in *cp; 0 if invalid. */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c = p[0];
	size_t len;
	uint32_t min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		len = 2; c &= 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3; c &= 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4; c &= 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

/* Characters that move the cursor, recolour the terminal or reorder text on screen. */
static int is_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF;
}

size_t sanitize_text(const char *in, size_t inlen, char *out, size_t outsize, bool ascii_only)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;

	if (outsize == 0)
		return 0;
	/* Most text is plain printable ASCII: copy it in one go. */
	size_t plain = 0;
	while (plain < inlen && plain + 1 < outsize && p[plain] >= 0x20 && p[plain] < 0x7F)
		plain++;
	memcpy(out, in, plain);
	o = plain;
	for (size_t i = plain; i < inlen;) {
		uint32_t cp = 0;
		size_t len = utf8_decode(p + i, inlen - i, &cp);
		const char *put = (const char *)p + i;
		size_t putlen = len;

		if (len == 0) {
			len = 1;
			put = ascii_only ? "?" : REPLACEMENT;
			putlen = strlen(put);
		} else if (cp == '\t' || cp == '\n' || cp == '\r') {
			put = " ";
			putlen = 1;
		} else if (is_unsafe(cp) || (ascii_only && cp >= 0x80)) {
			put = ascii_only ? "?" : REPLACEMENT;
			putlen = strlen(put);
		}
		if (o + putlen >= outsize)
			break;
		memcpy(out + o, put, putlen);
		o += putlen;
		i += len;
	}
	out[o] = '\0';
	return o;
}

bool sanitize_is_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = utf8_decode(p + i, n - i, &cp);

		if (len == 0 || is_unsafe(cp))
			return false;
		i += len;
	}
	return true;
}

size_t sanitize_cut(const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;

	if (len <= max)
		return len;
	/* back off the continuation bytes of the character that straddles the limit */
	while (max > 0 && (p[max] & 0xC0) == 0x80)
		max--;
	return max;
}

void sanitize_trim_cut(char *s)
{
	size_t n = strlen(s), k = n;
	uint32_t cp;

	while (k > 0 && n - k < 4 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
		k--;
	if (k > 0 && (unsigned char)s[k - 1] >= 0xC0)
		k--;
	else if (k == n)
		return;   /* ends on a whole ASCII character */
	if (utf8_decode((const unsigned char *)s + k, n - k, &cp) == 0)
		s[k] = '\0';
}

size_t sanitize_url(const char *in, char *out, size_t outsize)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (outsize == 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool plain = *p > 0x20 && *p < 0x7F && *p != '"' && *p != '\\';
		size_t need = plain ? 1 : 3;
		if (o + need >= outsize)
			break;   /* never half an escape */
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 0xF];
		}
	}
	out[o] = '\0';
	return o;
}

/* Start of the authority in a URL-like text: after "scheme://", else the start. */
static const char *authority_of(const char *url)
{
	const char *sep = strstr(url, "://");

	return sep ? sep + 3 : url;
}

size_t sanitize_mask_password(const char *url, char *out, size_t outsize)
{
	const char *auth = authority_of(url);
	size_t alen = strcspn(auth, "/?#");
	const char *at = NULL, *colon;

	for (const char *p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p;   /* the last one: a password may hold '@' unencoded */
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	int n;

	if (!colon)
		n = snprintf(out, outsize, "%s", url);
	else
		n = snprintf(out, outsize, "%.*s***%s", (int)(colon + 1 - url), url, at);
	if (n < 0 || (size_t)n >= outsize)
		sanitize_trim_cut(out);   /* cut: not inside a character */
	return strlen(out);
}
