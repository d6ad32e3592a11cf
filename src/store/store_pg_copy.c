/* COPY for the PostgreSQL room: a growing buffer of COPY data, in text form (the few state
 * changes, id lists) or binary form (results and rollups: no number is printed here and parsed
 * again by the server, which was most of the client's time), and sending one buffer. */
#include "autoconfig.h"
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_priv.h"
#include "store_pg.h"

void sb_put(struct sbuf *b, const void *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void sb_copy_begin(struct sbuf *b)
{
	static const char header[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";   /* signature, flags, extension */

	sb_put(b, header, 19);
}

void sb_copy_end(struct sbuf *b)
{
	sb_i16(b, -1);
}

void sb_tuple(struct sbuf *b, int16_t fields)
{
	sb_i16(b, fields);
}

static void field_len(struct sbuf *b, int32_t n)
{
	uint32_t v = htonl((uint32_t)n);
	sb_put(b, &v, 4);
}

void sb_i16(struct sbuf *b, int16_t v)
{
	uint16_t x = htons((uint16_t)v);

	sb_put(b, &x, 2);
}

void sb_null(struct sbuf *b)
{
	field_len(b, -1);
}

void sb_field_i16(struct sbuf *b, int16_t v)
{
	field_len(b, 2);
	sb_i16(b, v);
}

void sb_i32(struct sbuf *b, int32_t v)
{
	uint32_t x = htonl((uint32_t)v);

	field_len(b, 4);
	sb_put(b, &x, 4);
}

void sb_i64(struct sbuf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;
	unsigned char x[8];

	for (int i = 0; i < 8; i++)
		x[i] = (unsigned char)(u >> (56 - 8 * i));
	field_len(b, 8);
	sb_put(b, x, 8);
}

void sb_f64(struct sbuf *b, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);   /* IEEE 754 both sides: the bits, big-endian */
	unsigned char x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (unsigned char)(u >> (56 - 8 * i));
	field_len(b, 8);
	sb_put(b, x, 8);
}

void sb_bool(struct sbuf *b, bool v)
{
	unsigned char x = v;

	field_len(b, 1);
	sb_put(b, &x, 1);
}

void sb_bytes(struct sbuf *b, const void *p, size_t n)
{
	field_len(b, (int32_t)n);
	sb_put(b, p, n);
}

void sb_str(struct sbuf *b, const char *s)
{
	sb_bytes(b, s, strlen(s));
}

int store_pg_copy_in(struct store *s, const char *sql, const struct sbuf *b, const char *what, struct ht_err *err)
{
	PGconn *c = s->pg->conn;
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COPY_IN;

	PQclear(r);
	if (ok)
		ok = PQputCopyData(c, b->p, (int)b->len) == 1;
	if (PQputCopyEnd(c, ok ? NULL : "healthtop: write failed") != 1)
		ok = false;
	while ((r = PQgetResult(c))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			ok = false;
		PQclear(r);
	}
	return ok ? 0 : store_pg_fail(s, err, what);
}
