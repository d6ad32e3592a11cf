/* The monitor's plain accessors: what the screen, the daemon and /metrics read. */
#include "autoconfig.h"
#include "monitor/monitor_priv.h"

bool monitor_in_flight(const struct monitor *m, size_t i)
{
	return sched_in_flight(m->sched, i);
}

unsigned monitor_concurrency(const struct monitor *m)
{
	return probe_concurrency(m->probe);
}

size_t monitor_count(const struct monitor *m)
{
	return m->n;
}

const struct ht_target *monitor_target(const struct monitor *m, size_t i)
{
	return &m->cfg->targets[i];
}

const struct target_state *monitor_state(const struct monitor *m, size_t i)
{
	return &m->states[i];
}

uint64_t monitor_live_results(const struct monitor *m, size_t i)
{
	return i < m->n ? m->live[i] : 0;
}

int64_t monitor_last_result_ms(const struct monitor *m)
{
	return m->last_result_ms;
}



