/*
 * platform.c — what every platform shares: where-tags, the data-set read,
 * and the system boundary (system and marginal energy).  See platform.h.
 */
#include "hostif/platform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "hostif/compare.h"
#include "hostif/host.h"
#include "ssdsim/run.h"

const char *const hif_where_names[] = { "host_package", "host_dram", "link", "drive",
					"memory_stack", "crossbar_chip", NULL };

void hif_result_init(struct hif_result *r)
{
	memset(r, 0, sizeof *r);
	r->supported = 1;
	en_init(&r->led);
	en_init(&r->sys);
	en_init(&r->marg);
	snprintf(r->format, sizeof r->format, "fp32");
}

void hif_result_free(struct hif_result *r)
{
	free(r->curve);
	r->curve = NULL;
	r->ncurve = 0;
}

void hif_memo_free(struct hif_memo *m)
{
	if (!m)
		return;
	ihp_value_free(&m->host);
	ndp_value_free(&m->storage);
	ndp_value_free(&m->ndram);
	m->have_host = m->have_xbar = m->have_storage = m->have_ndram = 0;
}

void hif_tag(struct hif_result *r, const char *comp, int at)
{
	if (hif_where_of(r, comp) != HIF_AT_N)
		return;
	ND_ASSERT(r->ncomp < HIF_MAX_COMP);
	snprintf(r->comp[r->ncomp], sizeof r->comp[0], "%s", comp);
	r->comp_at[r->ncomp++] = at;
}

int hif_where_of(const struct hif_result *r, const char *comp)
{
	for (int i = 0; i < r->ncomp; i++)
		if (!strcmp(r->comp[i], comp))
			return r->comp_at[i];
	return HIF_AT_N;
}

/* The host-side names every model uses. */
static int where_by_name(const char *comp, int rest)
{
	if (!strcmp(comp, "host_cpu"))
		return HIF_AT_HOST_PKG;
	if (!strcmp(comp, "host_dram"))
		return HIF_AT_HOST_DRAM;
	if (!strcmp(comp, "host_link"))
		return HIF_AT_LINK;
	return rest;
}

void hif_merge(struct hif_result *r, const struct energy_ledger *src, int rest)
{
	en_merge(&r->led, src);
	for (int i = 0; i < src->n; i++)
		hif_tag(r, src->e[i].component, where_by_name(src->e[i].component, rest));
}

void hif_from_ndp(struct hif_result *r, const struct ndp_result *n, int rest)
{
	hif_merge(r, &n->led, rest);
	r->acc = n->final_acc;
	r->target_reached = n->target_reached;
	r->wall_s = (double)n->t_end_ns * 1e-9;
	if (n->target_reached) {
		r->t_target_s = (double)n->t_target_ns * 1e-9;
		r->e_target_j = n->e_target_j;
	}
	r->b_flash = n->st.channel_bytes;
	r->b_link = n->host_link_bytes;
	r->b_host_dram = n->host_dram_bytes;
	r->curve = xmalloc((size_t)(n->npt ? n->npt : 1) * sizeof *r->curve);
	memcpy(r->curve, n->pt, (size_t)n->npt * sizeof *n->pt);
	r->ncurve = n->npt;
}

int hif_read_dataset(const struct hif_ctx *x, struct hif_result *r, uint64_t bytes,
		     int internal, uint64_t *t_ns, struct nd_err *err)
{
	/* In storage every channel's unit keeps reads in flight. */
	int qd = internal ? 8 * x->ssd->channels : 32;
	struct ssd_run_result sr;
	int rc = ssd_run_read_window(x->ssd, bytes, internal, qd, x->run->seed, &sr, err);
	if (!rc) {
		hif_merge(r, &sr.led, HIF_AT_DRIVE);
		*t_ns = sr.t_drain_ns;
		r->b_flash += sr.st.channel_bytes;
	}
	ssd_run_result_free(&sr);
	return rc;
}

double hif_t975(int df)
{
	/* t(0.975, df), df = 1..30 (any statistics table, e.g. NIST/SEMATECH
	 * e-Handbook 1.3.6.7.2). */
	static const double t[30] = {
		12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
		2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
	};
	if (df < 1)
		return 0;
	return df <= 30 ? t[df - 1] : 1.96 + 2.4 / df;
}

void hif_acc_interval(struct hif_result *r, int n, double mean, double sd)
{
	double h = n > 1 ? hif_t975(n - 1) * sd / sqrt((double)n) : 0;
	r->acc_n = n;
	r->acc_mean = mean;
	r->acc_lo = mean - h;
	r->acc_hi = mean + h;
}

static uint64_t s_to_ns(double s)
{
	return (uint64_t)llround(s * 1e9);
}

void hif_result_finish(const struct hif_ctx *x, struct hif_result *r)
{
	const struct ihp_params *h = x->host;
	int sleeps = h->sleep_w >= 0 && r->offload_ns > 0;
	uint64_t T = s_to_ns(r->wall_s) + (sleeps ? h->wake_ns : 0);
	uint64_t off = sleeps ? nd_min_u64(r->offload_ns, s_to_ns(r->wall_s)) : 0;
	r->sys_wall_s = (double)T * 1e-9;
	r->sys = r->led;
	struct energy_ledger *s = &r->sys;
	/* Every static draw of the platform is on for the whole wall time. */
	for (int i = 0; i < s->n; i++)
		if (s->e[i].is_static && strcmp(s->e[i].component, "host_cpu"))
			s->e[i].count = T;
	r->added_w = 0;
	int have_idle = 0;
	for (int i = 0; i < s->n; i++)
		have_idle |= s->e[i].is_static && !strcmp(s->e[i].component, "host_cpu") &&
			     !strcmp(s->e[i].action, "idle");
	int k = en_static(s, "host_cpu", "idle", h->p_idle_w);
	en_set_time(s, k, T - off);
	if (!have_idle)
		r->added_w += h->p_idle_w;
	if (sleeps) {
		k = en_static(s, "host_cpu", "sleep", h->sleep_w);
		en_set_time(s, k, off);
	}
	k = en_static(s, "host_dram", "background", h->dram_idle_w);
	en_set_time(s, k, T);
	r->added_w += h->dram_idle_w;
	hif_tag(r, "host_cpu", HIF_AT_HOST_PKG);
	hif_tag(r, "host_dram", HIF_AT_HOST_DRAM);

	/* The idle machine: the host idle (not asleep) and every other static
	 * draw; marginal = system - that x T, entry by entry. */
	r->marg = *s;
	r->idle_w = h->p_idle_w;
	k = en_static(&r->marg, "host_cpu", "minus_idle", -h->p_idle_w);
	en_set_time(&r->marg, k, T);
	for (int i = 0; i < s->n; i++) {
		const struct en_entry *e = &s->e[i];
		if (!e->is_static || !strcmp(e->component, "host_cpu"))
			continue;
		char act[32];
		snprintf(act, sizeof act, "-%s", e->action);
		k = en_static(&r->marg, e->component, act, -e->j_per_action);
		en_set_time(&r->marg, k, T);
		r->idle_w += e->j_per_action;
	}
	if (r->target_reached) {
		r->sys_target_j = r->e_target_j + r->added_w * r->t_target_s;
		r->marg_target_j = r->sys_target_j - r->idle_w * r->t_target_s;
	}
}
