/* Host names of a conninfo looked up without blocking the loop: libpq's PQconnectStart calls
 * getaddrinfo itself, which waits for a slow DNS server. getaddrinfo_a runs the lookups on
 * glibc's own threads; the loop polls them (store_pg_async.c) and hands libpq the addresses as
 * hostaddr, host kept (TLS names and .pgpass use it). Socket paths and numeric addresses need no
 * lookup. Only the first address of a name is tried (libpq would try each). */
#define _GNU_SOURCE   /* getaddrinfo_a */
#include "autoconfig.h"
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_pg.h"

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

int store_pg_resolve_poll(struct store_pg_resolve *r, char *hostaddr, size_t size, char *why, size_t wsize)
{
	size_t o = 0;

	for (size_t i = 0; i < r->nhosts; i++)
		if (gai_error(&r->gai[i]) == EAI_INPROGRESS)
			return 0;
	hostaddr[0] = '\0';
	for (size_t i = 0; i < r->nhosts; i++) {
		char ip[INET6_ADDRSTRLEN] = "";
		const char *h = r->hosts[i];
		struct addrinfo *ai = r->gai[i].ar_result;
		if (needs_lookup(h) && (!ai || getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof(ip), NULL, 0,
							  NI_NUMERICHOST) != 0)) {
			snprintf(why, wsize, "could not translate host name \"%s\" to address: %s", h,
				 gai_strerror(gai_error(&r->gai[i])));
			return -1;
		}
		/* one address per host, in order; "" for a socket directory */
		o += (size_t)snprintf(hostaddr + o, size - o, "%s%s", i ? "," : "",
				      needs_lookup(h) ? ip : h[0] == '/' || h[0] == '@' ? "" : h);
		if (o >= size)
			o = size - 1;
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
