/* Host names of a conninfo looked up without blocking the loop: libpq's PQconnectStart calls
 * getaddrinfo itself, which waits for a slow DNS server. getaddrinfo_a runs the lookups on
 * glibc's own threads; the loop polls them (store_pg_async.c) and hands libpq the addresses as
 * hostaddr, host kept (TLS names and .pgpass use it). Socket paths and numeric addresses need no
 * lookup. A name with several addresses becomes as many host entries, tried in turn (as libpq
 * tries a name's addresses), unless the ports are a list that must line up with the hosts. */
#define _GNU_SOURCE   /* getaddrinfo_a */
#include "autoconfig.h"
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_pg.h"

#define ADDRS_PER_NAME 4

static bool needs_lookup(const char *h)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return h[0] && h[0] != '/' && h[0] != '@' && inet_pton(AF_INET, h, buf) != 1 && inet_pton(AF_INET6, h, buf) != 1;
}

static void free_hosts(struct store_pg_resolve *r)
{
	for (size_t i = 0; i < r->nhosts; i++)
		free(r->hosts[i]);
	r->nhosts = 0;
}

/* Splits the conninfo's host list (else PGHOST's); true when a name in it needs a lookup. */
static bool hosts_to_resolve(struct store_pg_resolve *r, const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	const char *host = NULL;
	bool any = false, addr = false;

	for (PQconninfoOption *o = opts; o && o->keyword; o++) {
		if (strcmp(o->keyword, "host") == 0 && o->val)
			host = o->val;
		r->port_list |= strcmp(o->keyword, "port") == 0 && o->val && strchr(o->val, ',');
		addr |= strcmp(o->keyword, "hostaddr") == 0 && o->val && o->val[0];
	}
	if (!host)
		host = getenv("PGHOST");
	for (const char *p = host; !addr && p && *p && r->nhosts < STORE_PG_HOSTS_MAX;) {
		size_t len = strcspn(p, ",");
		if ((r->hosts[r->nhosts] = strndup(p, len)))
			any |= needs_lookup(r->hosts[r->nhosts++]);
		p += len + (p[len] == ',');
	}
	PQconninfoFree(opts);
	return any;
}

int store_pg_resolve_start(struct store_pg_resolve *r, const char *conninfo, char *why, size_t size)
{
	static const struct addrinfo hints = { .ai_socktype = SOCK_STREAM };

	memset(r, 0, sizeof(*r));
	if (!hosts_to_resolve(r, conninfo)) {
		free_hosts(r);
		return 0;
	}
	r->gai = calloc(r->nhosts, sizeof(*r->gai));
	r->list = calloc(r->nhosts, sizeof(*r->list));
	for (size_t i = 0; r->gai && r->list && i < r->nhosts; i++) {
		r->gai[i] = (struct gaicb){ .ar_name = r->hosts[i], .ar_request = &hints };
		r->list[i] = &r->gai[i];
	}
	if (!r->gai || !r->list || getaddrinfo_a(GAI_NOWAIT, r->list, (int)r->nhosts, NULL) != 0) {
		snprintf(why, size, "cannot start looking up the host name");
		free(r->gai);
		free(r->list);
		free_hosts(r);
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 1;
}

static void put(char *out, size_t size, size_t *o, const char *item)
{
	*o += (size_t)snprintf(out + *o, size - *o, "%s%s", *o ? "," : "", item);
	if (*o >= size)
		*o = size - 1;
}

/* The addresses of host i, as many host entries (libpq tries them in turn, as it would have
 * tried the name's addresses); one when the ports are a list that must line up with hosts. */
static void put_addresses(const struct store_pg_resolve *r, size_t i, struct store_pg_hosts *out, size_t *oh,
			  size_t *oa)
{
	char seen[ADDRS_PER_NAME][INET6_ADDRSTRLEN];
	size_t n = 0;

	for (struct addrinfo *ai = r->gai[i].ar_result; ai && n < (r->port_list ? 1u : ADDRS_PER_NAME); ai = ai->ai_next) {
		char ip[INET6_ADDRSTRLEN];
		bool dup = false;
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof(ip), NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		for (size_t k = 0; k < n; k++)
			dup |= strcmp(seen[k], ip) == 0;
		if (dup)
			continue;
		snprintf(seen[n++], sizeof(seen[0]), "%s", ip);
		put(out->host, sizeof(out->host), oh, r->hosts[i]);
		put(out->hostaddr, sizeof(out->hostaddr), oa, ip);
	}
}

int store_pg_resolve_poll(struct store_pg_resolve *r, struct store_pg_hosts *out, char *why, size_t wsize)
{
	size_t oh = 0, oa = 0;

	for (size_t i = 0; i < r->nhosts; i++)
		if (gai_error(&r->gai[i]) == EAI_INPROGRESS)
			return 0;
	out->host[0] = out->hostaddr[0] = '\0';
	for (size_t i = 0; i < r->nhosts; i++) {
		const char *h = r->hosts[i];
		size_t before = oa;
		if (!needs_lookup(h)) {   /* as given; a socket directory has no address ("") */
			put(out->host, sizeof(out->host), &oh, h);
			put(out->hostaddr, sizeof(out->hostaddr), &oa, h[0] == '/' || h[0] == '@' ? "" : h);
			continue;
		}
		put_addresses(r, i, out, &oh, &oa);
		if (oa == before) {
			snprintf(why, wsize, "could not translate host name \"%s\" to address: %s", h,
				 gai_strerror(gai_error(&r->gai[i])));
			return -1;
		}
	}
	return 1;
}

void store_pg_resolve_end(struct store_pg_resolve *r)
{
	bool leak = false;

	for (size_t i = 0; r->gai && i < r->nhosts; i++) {
		if (gai_error(&r->gai[i]) == EAI_INPROGRESS && gai_cancel(&r->gai[i]) != EAI_CANCELED)
			leak = true;   /* glibc's thread still writes into it: its few bytes are left to it */
		else if (r->gai[i].ar_result)
			freeaddrinfo(r->gai[i].ar_result);
	}
	if (!leak) {
		free(r->gai);
		free(r->list);
		free_hosts(r);
	}
	memset(r, 0, sizeof(*r));
}
