/* The probe engine's reused parts: the admission queue (a ring of waiting checks) and the jobs
 * kept from finished checks for the next ones. */
#include "autoconfig.h"
#include <stdlib.h>
#include <string.h>
#include "probe_priv.h"

/* A finished job is kept for the next check (up to one per concurrent slot): a sweep makes
 * no malloc per check for its job. */
void probe_job_free(struct probe_job *j)
{
	struct probe *p = j->p;

	probe_job_release(j);
	probe_result_fini(&j->res);
	if (p->nspare < p->concurrency) {
		j->next = p->spare;
		p->spare = j;
		p->nspare++;
	} else {
		free(j);
	}
}

static void free_spares(struct probe *p)
{
	struct probe_job *j;

	while ((j = p->spare)) {
		p->spare = j->next;
		free(j);
	}
	p->nspare = 0;
}

int probe_queue_push(struct job_queue *q, struct queued e)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct queued *n = malloc(cap * sizeof(*n));
		if (!n)
			return -1;
		for (size_t i = 0; i < q->n; i++)
			n[i] = q->q[(q->head + i) % q->cap];
		free(q->q);
		q->q = n;
		q->cap = cap;
		q->head = 0;
	}
	q->q[(q->head + q->n) % q->cap] = e;
	q->n++;
	return 0;
}

struct queued probe_queue_pop(struct job_queue *q)
{
	struct queued e = q->q[q->head];

	q->head = (q->head + 1) % q->cap;
	q->n--;
	return e;
}

struct probe_job *probe_job_new(struct probe *p, probe_done_fn done, void *user)
{
	struct probe_job *j = p->spare;

	if (j) {
		p->spare = j->next;
		p->nspare--;
		memset(j, 0, sizeof(*j));
	} else if (!(j = calloc(1, sizeof(*j)))) {
		return NULL;
	}
	j->p = p;
	j->done = done;
	j->user = user;
	j->res.total_ms = j->res.dns_ms = j->res.connect_ms = j->res.tls_ms = j->res.ttfb_ms = -1;
	return j;
}

void probe_pool_fini(struct probe *p)
{
	while (p->queue.n) {
		struct queued e = probe_queue_pop(&p->queue);
		if (e.job)
			probe_job_free(e.job);
	}
	free(p->queue.q);
	p->queue = (struct job_queue){ NULL, 0, 0, 0 };
	free_spares(p);
}
