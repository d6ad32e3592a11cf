/* The loop's PostgreSQL connection: libpq driven by libev, so no read the loop makes ever waits
 * for the database. A non-blocking connect (PQconnectStartParams, PQconnectPoll with an ev_io on
 * PQsocket, which may change while connecting), one query on the wire at a time
 * (PQsendQueryParams, PQconsumeInput/PQisBusy/PQgetResult when the socket is readable), a
 * deadline timer for the connect and for each query. PQcancel blocks, so a query past its
 * deadline drops the connection instead; the next read after a backoff connects again. Host
 * names are looked up off the loop (store_pg_resolve.c) and handed to libpq as hostaddr. The
 * writer thread keeps its own blocking connection. */
#include "autoconfig.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_priv.h"
#include "store_pg.h"

#define CONNECT_DEADLINE_S 5.0     /* as the writer's connect_timeout */
#define QUERY_DEADLINE_S 15.0      /* as the writer's tcp_user_timeout; a fleet's window takes seconds at most */
#define BACKOFF_MIN_S 0.5
#define BACKOFF_MAX_S 5.0
#define RESOLVE_POLL_S 0.01

enum pga_state { PGA_IDLE, PGA_RESOLVING, PGA_CONNECTING, PGA_SETUP, PGA_READY, PGA_BUSY, PGA_BACKOFF };

struct pga_query {
	struct pga_query *next;
	char *sql;
	int n;
	char **params;
	const char *what;
	store_pga_fn fn;
	void *user;
};

struct store_async {
	struct ev_loop *loop;
	char *conninfo;
	char shown[1024];
	PGconn *conn;
	enum pga_state state;
	ev_io io;
	int fd;
	ev_timer deadline;       /* connect or query */
	ev_timer retry;          /* backoff; polls name resolution meanwhile */
	ev_timer kick;           /* 0 s: a read sent is started from the loop, never inside its send */
	double backoff_s;
	struct pga_query *head, *tail, *busy;
	PGresult *result;        /* the busy query's, until its last result came */
	int fail_rc;             /* while backing off: -1, or -EAGAIN (no schema yet) */
	char error[1536];        /* the last failure, "" once connected */
	struct store_pg_resolve res;   /* the conninfo's host names, looked up off the loop */
	struct store_pg_hosts hosts;   /* the lookups' answer; hostaddr "" when none was needed */
};

static void on_io(struct ev_loop *loop, ev_io *w, int revents);

static void one_line(const char *msg, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = msg ? msg : ""; *p && o + 1 < size; p++) {
		if (*p == '\n' || *p == '\t') {
			if (o > 0 && out[o - 1] != ' ')
				out[o++] = ' ';
		} else {
			out[o++] = *p;
		}
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

static void query_free(struct pga_query *q)
{
	for (int i = 0; q && i < q->n; i++)
		free(q->params[i]);
	if (q) {
		free(q->params);
		free(q->sql);
	}
	free(q);
}

static void watch(struct store_async *a, int events)
{
	int fd = a->conn ? PQsocket(a->conn) : -1;

	/* the socket may change while connecting (libpq tries the next address) */
	if (ev_is_active(&a->io) && (fd != a->fd || (a->io.events & (EV_READ | EV_WRITE)) != events))
		ev_io_stop(a->loop, &a->io);
	if (fd < 0 || ev_is_active(&a->io))
		return;
	a->fd = fd;
	ev_io_set(&a->io, fd, events);
	ev_io_start(a->loop, &a->io);
}

static void drop_conn(struct store_async *a)
{
	ev_io_stop(a->loop, &a->io);
	ev_timer_stop(a->loop, &a->deadline);
	a->fd = -1;
	PQclear(a->result);
	a->result = NULL;
	PQfinish(a->conn);   /* non-blocking: the Terminate message goes or not, it never waits */
	a->conn = NULL;
}

/* Every query waiting (and the one on the wire) fails with the message; reads are re-asked by
 * their owners' next tick, so nothing piles up while the database is away. */
static void fail_all(struct store_async *a, int rc, const char *msg)
{
	struct pga_query *q = a->busy, *next;

	a->busy = NULL;
	if (q) {
		q->next = a->head;
		a->head = q;
	}
	q = a->head;
	a->head = a->tail = NULL;
	for (; q; q = next) {
		next = q->next;
		q->fn(q->user, NULL, rc, msg);
		query_free(q);
	}
}

static void fail_conn(struct store_async *a, int rc, const char *what, const char *why)
{
	char line[300];

	one_line(why, line, sizeof(line));
	snprintf(a->error, sizeof(a->error), "%s: %s: %s", a->shown, what, line);
	drop_conn(a);
	a->state = PGA_BACKOFF;
	a->fail_rc = rc;
	ev_timer_set(&a->retry, rc == -EAGAIN ? BACKOFF_MIN_S : a->backoff_s, 0.0);
	ev_timer_start(a->loop, &a->retry);
	if (rc != -EAGAIN)
		a->backoff_s = a->backoff_s * 2 < BACKOFF_MAX_S ? a->backoff_s * 2 : BACKOFF_MAX_S;
	fail_all(a, rc, a->error);
}

static void start_deadline(struct store_async *a, double s)
{
	ev_timer_stop(a->loop, &a->deadline);
	ev_timer_set(&a->deadline, s, 0.0);
	ev_timer_start(a->loop, &a->deadline);
}

static void flush_then_watch(struct store_async *a)
{
	int f = PQflush(a->conn);

	if (f < 0)
		fail_conn(a, -1, "sending a query", PQerrorMessage(a->conn));
	else
		watch(a, f ? EV_READ | EV_WRITE : EV_READ);
}

static void send_next(struct store_async *a)
{
	struct pga_query *q = a->head;

	if (a->state != PGA_READY || !q)
		return;
	a->head = q->next;
	if (!a->head)
		a->tail = NULL;
	a->busy = q;
	a->state = PGA_BUSY;
	if (!PQsendQueryParams(a->conn, q->sql, q->n, NULL, (const char *const *)q->params, NULL, NULL, 0)) {
		fail_conn(a, -1, q->what, PQerrorMessage(a->conn));
		return;
	}
	start_deadline(a, QUERY_DEADLINE_S);
	flush_then_watch(a);
}

/* The session as the writer's (UTC, quiet), read-only, and the schema there to read. */
static void send_setup(struct store_async *a)
{
	static const char sql[] =
		"SET client_min_messages = warning; SET TIME ZONE 'UTC'; SET default_transaction_read_only = on;"
		" SELECT CASE WHEN to_regclass('schema_version') IS NULL THEN 0"
		" ELSE (SELECT coalesce(max(version), 0) FROM schema_version) END";

	a->state = PGA_SETUP;
	if (!PQsendQuery(a->conn, sql)) {
		fail_conn(a, -1, "configuring the session", PQerrorMessage(a->conn));
		return;
	}
	start_deadline(a, CONNECT_DEADLINE_S);
	flush_then_watch(a);
}

static void setup_done(struct store_async *a, PGresult *r)
{
	int version = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) ? (int)store_pg_i64(r, 0, 0) : -1;
	char msg[160];

	if (version < 0) {
		fail_conn(a, -1, "configuring the session", r ? PQresultErrorMessage(r) : PQerrorMessage(a->conn));
		return;
	}
	if (version != STORE_PG_SCHEMA_VERSION) {
		/* like a missing file: the writer creates or migrates it, maybe now */
		snprintf(msg, sizeof(msg), "schema version %d, this healthtop reads %d", version, STORE_PG_SCHEMA_VERSION);
		fail_conn(a, version < STORE_PG_SCHEMA_VERSION ? -EAGAIN : -1, "reading", msg);
		return;
	}
	ev_timer_stop(a->loop, &a->deadline);
	a->error[0] = '\0';
	a->backoff_s = BACKOFF_MIN_S;
	a->state = PGA_READY;
	watch(a, EV_READ);   /* a server that closes the connection is noticed while idle too */
	send_next(a);
}

static void query_done(struct store_async *a, PGresult *r)
{
	struct pga_query *q = a->busy;
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	char msg[1536], line[400];

	ev_timer_stop(a->loop, &a->deadline);
	a->busy = NULL;
	a->state = PGA_READY;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		q->fn(q->user, r, 0, NULL);
	} else {
		one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(a->conn), line, sizeof(line));
		snprintf(msg, sizeof(msg), "%s: %s: %s", a->shown, q->what, line);
		q->fn(q->user, NULL, -1, msg);
	}
	query_free(q);
	if (a->state != PGA_READY)
		return;   /* the callback sent the next query already */
	watch(a, EV_READ);
	send_next(a);
}

/* Everything the server sent so far; a statement's results end with a NULL. */
static void read_results(struct store_async *a)
{
	PGresult *r;

	if (!PQconsumeInput(a->conn)) {
		fail_conn(a, -1, a->busy ? a->busy->what : "reading", PQerrorMessage(a->conn));
		return;
	}
	while ((a->state == PGA_BUSY || a->state == PGA_SETUP) && !PQisBusy(a->conn)) {
		if ((r = PQgetResult(a->conn))) {
			PQclear(a->result);   /* the setup's SETs come first: the last result is the one */
			a->result = r;
			continue;
		}
		r = a->result;
		a->result = NULL;
		if (a->state == PGA_SETUP)
			setup_done(a, r);
		else
			query_done(a, r);
		PQclear(r);
	}
}

static void connect_step(struct store_async *a)
{
	switch (PQconnectPoll(a->conn)) {
	case PGRES_POLLING_READING:
		watch(a, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		watch(a, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(a->conn, 1) < 0)
			fail_conn(a, -1, "cannot connect", PQerrorMessage(a->conn));
		else
			send_setup(a);
		break;
	default:
		fail_conn(a, -1, "cannot connect", PQerrorMessage(a->conn));
	}
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct store_async *a = w->data;

	if (a->state == PGA_CONNECTING) {
		connect_step(a);
		return;
	}
	if ((revents & EV_WRITE) && (a->state == PGA_BUSY || a->state == PGA_SETUP)) {
		flush_then_watch(a);
		if (!a->conn)
			return;
	}
	if (revents & EV_READ)
		read_results(a);
}

static void start_connect(struct store_async *a)
{
	const char *keys[] = { "connect_timeout", "application_name", "keepalives_idle", "keepalives_interval",
			       "keepalives_count", "tcp_user_timeout", "dbname", NULL, NULL, NULL };
	const char *vals[] = { "5", "healthtop", "10", "5", "3", "15000", a->conninfo, NULL, NULL, NULL };

	if (a->hosts.host[0]) {   /* after dbname, so they win: the names and their addresses */
		keys[7] = "host";
		vals[7] = a->hosts.host;
		keys[8] = "hostaddr";
		vals[8] = a->hosts.hostaddr;
	}
	a->conn = PQconnectStartParams(keys, vals, 1);
	if (!a->conn || PQstatus(a->conn) == CONNECTION_BAD) {
		fail_conn(a, -1, "cannot connect", a->conn ? PQerrorMessage(a->conn) : "out of memory");
		return;
	}
	a->state = PGA_CONNECTING;
	start_deadline(a, CONNECT_DEADLINE_S);
	watch(a, EV_WRITE);   /* as libpq's docs say: the first poll waits for writability */
}

static void resolved(struct store_async *a)
{
	char why[400];
	int rc = store_pg_resolve_poll(&a->res, &a->hosts, why, sizeof(why));

	if (rc == 0)
		return;
	ev_timer_stop(a->loop, &a->retry);
	store_pg_resolve_end(&a->res);
	ev_timer_stop(a->loop, &a->deadline);
	if (rc < 0)
		fail_conn(a, -1, "cannot connect", why);
	else
		start_connect(a);
}

static void on_retry(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct store_async *a = t->data;

	if (a->state == PGA_RESOLVING) {
		resolved(a);
		return;
	}
	ev_timer_stop(loop, t);
	a->state = PGA_IDLE;
	if (a->head)
		store_pga_kick(a);
}

static void on_deadline(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct store_async *a = t->data;
	char why[64];

	if (a->state == PGA_RESOLVING) {
		ev_timer_stop(loop, &a->retry);
		store_pg_resolve_end(&a->res);
	}
	snprintf(why, sizeof(why), "no answer within %.0f s", a->state == PGA_BUSY ? QUERY_DEADLINE_S : CONNECT_DEADLINE_S);
	fail_conn(a, -1, a->state == PGA_BUSY && a->busy ? a->busy->what : "cannot connect", why);
}

static void on_kick(struct ev_loop *loop, ev_timer *t, int revents)
{
	store_pga_kick(t->data);
}

void store_pga_kick(struct store_async *a)
{
	char why[128];
	int rc;

	if (a->state == PGA_IDLE) {
		a->hosts.host[0] = a->hosts.hostaddr[0] = '\0';
		if ((rc = store_pg_resolve_start(&a->res, a->conninfo, why, sizeof(why))) < 0) {
			fail_conn(a, -1, "cannot connect", why);
		} else if (rc == 0) {
			start_connect(a);
		} else {
			a->state = PGA_RESOLVING;
			start_deadline(a, CONNECT_DEADLINE_S);
			ev_timer_set(&a->retry, RESOLVE_POLL_S, RESOLVE_POLL_S);
			ev_timer_start(a->loop, &a->retry);
		}
	} else if (a->state == PGA_READY) {
		send_next(a);
	}
}

int store_pga_send(struct store_async *a, const char *sql, int n, const char *const *params, const char *what,
		   store_pga_fn fn, void *user, struct ht_err *err)
{
	struct pga_query *q;

	if (a->state == PGA_BACKOFF) {   /* the last attempt failed: say so now, connect again later */
		ht_err_set(err, "%s", a->error);
		return a->fail_rc;
	}
	if (!(q = calloc(1, sizeof(*q))) || !(q->sql = strdup(sql)) || !(q->params = calloc((size_t)n + 1, sizeof(char *)))) {
		query_free(q);
		ht_err_set(err, "out of memory");
		return -1;
	}
	for (q->n = 0; q->n < n; q->n++)
		if (params[q->n] && !(q->params[q->n] = strdup(params[q->n]))) {
			query_free(q);
			ht_err_set(err, "out of memory");
			return -1;
		}
	*q = (struct pga_query){ NULL, q->sql, n, q->params, what, fn, user };
	if (a->tail)
		a->tail->next = q;
	else
		a->head = q;
	a->tail = q;
	/* not now: a connect that fails at once would call done before the caller's send returned */
	if (!ev_is_active(&a->kick))
		ev_timer_start(a->loop, &a->kick);
	return 0;
}

int store_async_new(struct ev_loop *loop, const char *conninfo, struct store_async **out, struct ht_err *err)
{
	struct store_async *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a || !(a->conninfo = strdup(conninfo))) {
		free(a);
		ht_err_set(err, "out of memory");
		return -1;
	}
	a->loop = loop;
	a->fd = -1;
	a->backoff_s = BACKOFF_MIN_S;
	store_db_shown(conninfo, a->shown, sizeof(a->shown));
	ev_init(&a->io, on_io);
	a->io.data = a;
	ev_init(&a->deadline, on_deadline);
	a->deadline.data = a;
	ev_init(&a->retry, on_retry);
	a->retry.data = a;
	ev_timer_init(&a->kick, on_kick, 0.0, 0.0);
	a->kick.data = a;
	*out = a;
	return 0;
}

void store_async_free(struct store_async *a)
{
	if (!a)
		return;
	if (a->state == PGA_RESOLVING)
		store_pg_resolve_end(&a->res);
	ev_timer_stop(a->loop, &a->retry);
	ev_timer_stop(a->loop, &a->kick);
	drop_conn(a);
	a->state = PGA_BACKOFF;   /* a callback that asks again is told at once */
	a->fail_rc = -ECANCELED;
	snprintf(a->error, sizeof(a->error), "closing");
	fail_all(a, -ECANCELED, "closing");
	free(a->conninfo);
	free(a);
}
