/* grpc_health_decode() and grpc_health_encode(): any reply bytes give a status or one clean
 * reason, never a read past the length; a reply we frame ourselves, with the status among
 * unknown fields a newer server may add, decodes to exactly that status; any service name
 * encodes to a frame that says its own length, or is refused when longer than 255 bytes. */
#include "autoconfig.h"
#include "fuzz_util.h"
#include "healthtop/core/grpc_health.h"
#include "healthtop/core/sanitize.h"

#define FRAME_ROOM 4096

static size_t put_varint(uint64_t v, unsigned char *out)
{
	size_t n = 0;

	do {
		out[n++] = (unsigned char)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

static void check_names(long v)
{
	char buf[32];
	const char *s = grpc_serving_name(v, buf, sizeof(buf));

	FUZZ_CHECK(s != NULL && s[0] != '\0' && sanitize_is_clean(s));
	s = grpc_code_name(v, buf, sizeof(buf));
	FUZZ_CHECK(s != NULL && s[0] != '\0' && sanitize_is_clean(s));
}

/* Whatever the server sent: 0 and a status an int32 holds, or -1 and a clean reason. */
static void check_raw(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);   /* exactly size bytes: ASan sees overreads */
	char why[128] = "";
	long status = -12345;

	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data, size);
	int rc = grpc_health_decode(copy, size, &status, why, sizeof(why));
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0)
		FUZZ_CHECK(status >= INT32_MIN && status <= INT32_MAX);
	else
		FUZZ_CHECK(why[0] != '\0' && sanitize_is_clean(why));
	check_names(status);
	free(copy);
}

/* Unknown fields (numbers 2..31, every wire type a parser must step over) from the input, then
 * the status field: the status we put is the one read back. */
static void check_framed(struct fuzz_input *in)
{
	unsigned char *f = malloc(FRAME_ROOM);
	size_t n = GRPC_FRAME_PREFIX;
	int32_t want = (int32_t)fuzz_take_u64(in, 4);
	char why[128] = "";
	long got = -1;

	FUZZ_CHECK(f != NULL);
	for (int fields = 0; in->n > 0 && fields < 16; fields++) {
		unsigned kind = (unsigned)fuzz_take_u64(in, 1);
		unsigned field = 2 + kind % 30, wire = (kind >> 5) % 4;
		static const unsigned wires[] = { 0, 1, 2, 5 };
		n += put_varint((uint64_t)field << 3 | wires[wire], f + n);
		if (wires[wire] == 0) {
			n += put_varint(fuzz_take_u64(in, 8), f + n);
		} else {
			size_t len = wires[wire] == 1 ? 8 : wires[wire] == 5 ? 4 : fuzz_take_u64(in, 1) % 64;
			if (wires[wire] == 2)
				n += put_varint(len, f + n);
			for (size_t i = 0; i < len; i++)
				f[n++] = (unsigned char)fuzz_take_u64(in, 1);
		}
	}
	f[n++] = 0x08;   /* field 1, varint: an enum is sent as a sign-extended int32 */
	n += put_varint((uint64_t)(int64_t)want, f + n);
	size_t msg = n - GRPC_FRAME_PREFIX;
	f[0] = 0;
	f[1] = (unsigned char)(msg >> 24);
	f[2] = (unsigned char)(msg >> 16);
	f[3] = (unsigned char)(msg >> 8);
	f[4] = (unsigned char)msg;
	FUZZ_CHECK(n <= FRAME_ROOM);
	FUZZ_CHECK(grpc_health_decode(f, n, &got, why, sizeof(why)) == 0);
	FUZZ_CHECK(got == want);
	/* The same frame cut short anywhere is refused, never read past its end. */
	size_t cut = n - 1 - (size_t)(fuzz_take_u64(in, 2) % n);
	unsigned char *shorter = malloc(cut ? cut : 1);
	FUZZ_CHECK(shorter != NULL);
	memcpy(shorter, f, cut);
	FUZZ_CHECK(grpc_health_decode(shorter, cut, &got, why, sizeof(why)) == -1);
	FUZZ_CHECK(why[0] != '\0' && sanitize_is_clean(why));
	free(shorter);
	free(f);
}

static void check_encode(struct fuzz_input *in)
{
	char *service = fuzz_take_string(in);
	size_t slen = strlen(service);
	unsigned char out[GRPC_FRAME_PREFIX + 3 + GRPC_SERVICE_MAX];
	size_t room = 1 + (size_t)fuzz_take_u64(in, 2) % sizeof(out);
	int n = grpc_health_encode(service, out, room);

	if (slen > GRPC_SERVICE_MAX) {
		FUZZ_CHECK(n == -1);
	} else {
		size_t need = GRPC_FRAME_PREFIX + (slen ? 1 + (slen < 128 ? 1 : 2) + slen : 0);
		FUZZ_CHECK(n == (need <= room ? (int)need : -1));
		if (n > 0) {
			uint32_t len = (uint32_t)out[1] << 24 | (uint32_t)out[2] << 16 |
				       (uint32_t)out[3] << 8 | out[4];
			FUZZ_CHECK(out[0] == 0 && len == (uint32_t)n - GRPC_FRAME_PREFIX);
			FUZZ_CHECK(slen == 0 || memcmp(out + n - slen, service, slen) == 0);
		}
	}
	free(service);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };

	check_raw(data, size);
	check_encode(&in);
	check_framed(&in);
	return 0;
}
