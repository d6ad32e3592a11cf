/* The standard gRPC health check's two messages, by hand (pure): grpc.health.v1.HealthCheckRequest
 * { string service = 1; } and HealthCheckResponse { ServingStatus status = 1; }, each framed as a
 * gRPC length-prefixed message (1 byte "compressed" flag, 4 bytes big-endian length). Tiny and
 * fixed, so no protobuf compiler is needed. */
#ifndef HEALTHTOP_GRPC_HEALTH_H
#define HEALTHTOP_GRPC_HEALTH_H

#include <stddef.h>

#define GRPC_FRAME_PREFIX 5
#define GRPC_SERVICE_MAX 255   /* a service name longer than this is refused, not cut */

enum grpc_serving {
	GRPC_SERVING_UNKNOWN = 0,
	GRPC_SERVING_SERVING = 1,
	GRPC_SERVING_NOT_SERVING = 2,
	GRPC_SERVING_SERVICE_UNKNOWN = 3,   /* only Watch sends it; Check says NOT_FOUND instead */
};

/* Writes the framed request for `service` ("" = the server as a whole). Returns its length, or
 * -1 when the name is too long or out has no room. */
int grpc_health_encode(const char *service, unsigned char *out, size_t size);

/* Reads one framed response. 0 and *status (any value the server sent; an absent field is
 * UNKNOWN, as proto3 says), or -1 with `why` filled when the bytes are not such a message. */
int grpc_health_decode(const unsigned char *buf, size_t len, long *status, char *why, size_t why_size);

/* "SERVING", "NOT_SERVING"...; "status N" for a value the enum does not have (buf holds it). */
const char *grpc_serving_name(long status, char *buf, size_t size);

/* The canonical name of a grpc-status code ("NOT_FOUND", "UNAVAILABLE"...), "CODE_N" beyond. */
const char *grpc_code_name(long code, char *buf, size_t size);

#endif
