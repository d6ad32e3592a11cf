#include "autoconfig.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "healthtop/core/grpc_health.h"

#define TAG_SERVICE 0x0a   /* field 1, wire type 2 (length-delimited) */
#define WIRE_VARINT 0
#define WIRE_I64 1
#define WIRE_LEN 2
#define WIRE_I32 5
#define VARINT_MAX_BYTES 10

static size_t put_varint(uint64_t v, unsigned char *out)
{
	size_t n = 0;

	do {
		out[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

int grpc_health_encode(const char *service, unsigned char *out, size_t size)
{
	size_t slen = service ? strlen(service) : 0;
	unsigned char len_bytes[VARINT_MAX_BYTES];
	size_t msg_len = 0, vlen = 0;

	if (slen > GRPC_SERVICE_MAX)
		return -1;
	if (slen) {   /* proto3 leaves an empty string out altogether */
		vlen = put_varint(slen, len_bytes);
		msg_len = 1 + vlen + slen;
	}
	if (size < GRPC_FRAME_PREFIX + msg_len)
		return -1;
	out[0] = 0;   /* not compressed */
	out[1] = (unsigned char)(msg_len >> 24);
	out[2] = (unsigned char)(msg_len >> 16);
	out[3] = (unsigned char)(msg_len >> 8);
	out[4] = (unsigned char)msg_len;
	if (slen) {
		out[GRPC_FRAME_PREFIX] = TAG_SERVICE;
		memcpy(out + GRPC_FRAME_PREFIX + 1, len_bytes, vlen);
		memcpy(out + GRPC_FRAME_PREFIX + 1 + vlen, service, slen);
	}
	return (int)(GRPC_FRAME_PREFIX + msg_len);
}

/* 0 and the value, or -1 when the bytes end inside it or it runs over 64 bits. */
static int get_varint(const unsigned char *p, size_t len, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*pos >= len)
			return -1;
		unsigned char b = p[(*pos)++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* Steps over a field we do not know (a newer server may add some). */
static int skip_field(const unsigned char *p, size_t len, size_t *pos, unsigned wire)
{
	uint64_t n;

	switch (wire) {
	case WIRE_VARINT:
		return get_varint(p, len, pos, &n);
	case WIRE_I64:
		n = 8;
		break;
	case WIRE_I32:
		n = 4;
		break;
	case WIRE_LEN:
		if (get_varint(p, len, pos, &n) < 0)
			return -1;
		break;
	default:
		return -1;   /* groups (3, 4) are long gone; anything else is not protobuf */
	}
	if (n > len - *pos)
		return -1;
	*pos += (size_t)n;
	return 0;
}

static int fail(char *why, size_t size, const char *text)
{
	snprintf(why, size, "%s", text);
	return -1;
}

static int decode_message(const unsigned char *p, size_t len, long *status, char *why, size_t wsize)
{
	size_t pos = 0;

	*status = GRPC_SERVING_UNKNOWN;
	while (pos < len) {
		uint64_t key, v;
		if (get_varint(p, len, &pos, &key) < 0)
			return fail(why, wsize, "malformed health response (bad field key)");
		unsigned field = (unsigned)(key >> 3), wire = (unsigned)(key & 7);
		if (field == 0)
			return fail(why, wsize, "malformed health response (field 0)");
		if (field == 1 && wire == WIRE_VARINT) {
			if (get_varint(p, len, &pos, &v) < 0)
				return fail(why, wsize, "malformed health response (bad status)");
			*status = (long)(int32_t)v;   /* an enum is an int32 on the wire */
		} else if (skip_field(p, len, &pos, wire) < 0) {
			return fail(why, wsize, "malformed health response (bad field)");
		}
	}
	return 0;
}

int grpc_health_decode(const unsigned char *buf, size_t len, long *status, char *why, size_t why_size)
{
	if (!buf || len < GRPC_FRAME_PREFIX)
		return fail(why, why_size, "no health response message");
	if (buf[0] != 0)   /* we never offered an encoding, so a compressed reply is an error */
		return fail(why, why_size, "health response is compressed or malformed");
	uint32_t msg_len = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 | buf[4];
	if (msg_len > len - GRPC_FRAME_PREFIX)
		return fail(why, why_size, "health response message is cut short");
	return decode_message(buf + GRPC_FRAME_PREFIX, msg_len, status, why, why_size);
}

const char *grpc_serving_name(long status, char *buf, size_t size)
{
	static const char *const names[] = { "UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" };

	if (status >= 0 && status < (long)(sizeof(names) / sizeof(names[0])))
		return names[status];
	snprintf(buf, size, "status %ld", status);
	return buf;
}

const char *grpc_code_name(long code, char *buf, size_t size)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
		"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
		"UNAUTHENTICATED",
	};

	if (code >= 0 && code < (long)(sizeof(names) / sizeof(names[0])))
		return names[code];
	snprintf(buf, size, "CODE_%ld", code);
	return buf;
}
