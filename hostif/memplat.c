#include "hostif/memplat.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "core/util.h"
#include "ssdsim/run.h"
#include "workloads/model.h"

int hif_mem_train(const struct hif_mem_opts *o, struct ndp_result *r,
		  struct hif_mem_extra *extra, struct nd_err *err)
{
	memset(r, 0, sizeof *r);
	const struct ndp_result *h = o->host_result;
	const struct ndram_params *np = o->ndram;
	snprintf(r->where, sizeof r->where, "memory");
	snprintf(r->algo, sizeof r->algo, "sgd");
	snprintf(r->model, sizeof r->model, "%s", h->model);
	en_init(&r->led);

	struct wl_mlp m;
	int rc = ndp_model_setup(o->train, &m, err);
	if (rc)
		return rc;
	uint64_t samples = (uint64_t)o->n_train * (uint64_t)o->train->amplify;
	uint64_t B = (uint64_t)ihp_batch(o->host, o->train, o->ssd);
	uint64_t batches = nd_div_ceil(samples, B);
	uint64_t data_bytes = h->data_bytes;

	/* One epoch on the stack. */
	struct ndram_job ep = { 0 };
	ep.macs = samples * (wl_mlp_macs_fwd(&m) + wl_mlp_macs_bwd(&m));
	/* accuracy evaluations on the test set, as the host does them */
	ep.macs += (uint64_t)o->train->evals_per_epoch * o->n_test * wl_mlp_macs_fwd(&m);
	ep.stack_bytes = samples * 785u + (uint64_t)o->train->evals_per_epoch * o->n_test * 785u;
	ep.buf_words = samples * (uint64_t)m.dim[0] + batches * 2 * m.n_params;
	ep.noc_words = batches * 2 * (uint64_t)(np->vaults - 1) * m.n_params;
	struct energy_ledger ep_led;
	en_init(&ep_led);
	ndram_register(np, &ep_led);
	struct ndram_cost c;
	ndram_run(np, &ep, &ep_led, &c);
	extra->bound = c.bound;

	/* The trip from the SSD, simulated. */
	struct ssd_run_result lr;
	/* The data set sits at the start of the drive, as ndp_layout_place
	 * puts it. */
	rc = ssd_run_read_window(o->ssd, data_bytes, 0, 32, o->seed, &lr, err);
	if (rc) {
		ssd_run_result_free(&lr);
		return rc;
	}
	struct energy_ledger load_led = lr.led;
	uint64_t t_load = lr.t_drain_ns;
	int h_link = en_action(&load_led, "ndram", "link_byte", np->e_offchip_pj_bit * 8e-12);
	en_add(&load_led, h_link, data_bytes);
	uint64_t t_link = (uint64_t)ceil((double)data_bytes / (np->link_gb_s * 1e9) * 1e9);
	if (t_link > t_load)
		t_load = t_link;
	int fits = data_bytes <= ndram_capacity_bytes(np);
	uint64_t t_epoch = fits ? c.t_ns : nd_max_u64(c.t_ns, t_load);
	double e_epoch = en_total_j(&ep_led), e_load = en_total_j(&load_led);

	/* Re-time the host's trajectory. */
	double max_ep = 0;
	for (int i = 0; i < h->npt; i++) {
		const struct ndp_point *hp = &h->pt[i];
		double e = hp->epochs;
		struct ndp_point p = *hp;
		double loads = fits ? 1.0 : ceil(e);
		p.t_ns = (fits ? t_load : 0) + (uint64_t)llround(e * (double)t_epoch);
		p.energy_j = (fits ? e_load : loads * e_load) + e * e_epoch;
		ndp_result_point(r, &p);
		max_ep = fmax(max_ep, e);
	}
	uint64_t n_epochs = (uint64_t)ceil(max_ep);
	uint64_t loads = fits ? 1 : n_epochs;
	/* Ledger of the whole run: the load ledger times the loads, the epoch
	 * ledger times the epochs (counts are integers: whole epochs). */
	for (int i = 0; i < load_led.n; i++) {
		struct en_entry e = load_led.e[i];
		int k = e.is_static ? en_static(&r->led, e.component, e.action, e.j_per_action)
				    : en_action(&r->led, e.component, e.action, e.j_per_action);
		r->led.e[k].count += e.count * loads;
		r->led.e[k].units += e.units * (double)loads;
	}
	for (int i = 0; i < ep_led.n; i++) {
		struct en_entry e = ep_led.e[i];
		int k = en_action(&r->led, e.component, e.action, e.j_per_action);
		r->led.e[k].count += e.count * n_epochs;
	}
	r->channels = o->ssd->channels;
	r->n_params = m.n_params;
	r->final_acc = h->final_acc;
	r->epochs = h->epochs;
	r->t_end_ns = r->npt ? r->pt[r->npt - 1].t_ns : 0;
	r->samples = h->samples;
	r->data_bytes = data_bytes;
	r->st = lr.st;
	r->st.channel_bytes *= loads;
	r->host_link_bytes = data_bytes * loads;
	r->host_dram_bytes = 0;
	extra->stack_bytes = ep.stack_bytes * n_epochs;
	ndp_result_target(r, o->train->target_acc);
	ssd_run_result_free(&lr);
	return 0;
}
