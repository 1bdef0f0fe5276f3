/*
 * plat_ndram.c — near-DRAM processing in a TETRIS-style stack
 * (hostif/ndram.h).
 *
 * Training: the data set is read from the SSD over the host path and
 * crosses the host <-> stack link (once when it fits in the stack, every
 * epoch otherwise, an epoch then taking max(compute, stream)).  The PEs run
 * their own SGD: the shared step of workloads/sgd.h in the stack's format
 * (ndram.format, Q3.12 stochastic by default), in the host's channel order
 * (ndp_replay), so its accuracy curve is its own — at fp32 it would be the
 * host's bit for bit, in 16 or 8 bits it is what those bits compute.  Per
 * step the stack does the step's executed MACs, reads its samples from the
 * stack DRAM, moves inputs and the model through the vault buffers and
 * all-reduces the gradient over the vault network (ring: 2 (V-1) x n_params
 * words); time is the slowest of those stages (ndram_run).
 *
 * Inference: the test set over PCIe and the link into the stack, then the
 * binarized network on the PEs' datapath (bnn_dp: ndram.word_bits,
 * ndram.acc_bits), word-ops at ndram.word_ops_per_cycle per PE.
 *
 * The stack's static power is one static draw (on for the whole wall time
 * like every other part).
 */
#include <math.h>
#include <string.h>

#include "core/progress.h"
#include "core/util.h"
#include "hostif/compare.h"
#include "hostif/ndram.h"
#include "hostif/platform.h"
#include "workloads/bnn.h"
#include "workloads/bnn_dp.h"

static const char *ndram_unsupported(const struct hif_ctx *x, int wl)
{
	return NULL;
}

static double static_w_of(const struct energy_ledger *l)
{
	double w = 0;
	for (int i = 0; i < l->n; i++)
		if (l->e[i].is_static)
			w += l->e[i].j_per_action;
	return w;
}

static double dynamic_j_of(const struct energy_ledger *l)
{
	double j = 0;
	for (int i = 0; i < l->n; i++)
		if (!l->e[i].is_static)
			j += en_entry_j(&l->e[i]);
	return j;
}

/* The link into the stack: charged in r, returns its time. */
static uint64_t link_in(const struct ndram_params *p, struct hif_result *r, uint64_t bytes)
{
	int k = en_action(&r->led, "ndram", "link_byte", p->e_offchip_pj_bit * 8e-12);
	en_add(&r->led, k, bytes);
	return (uint64_t)ceil((double)bytes / (p->link_gb_s * 1e9) * 1e9);
}

/* The model's test accuracy at a curve point: computed (and recorded), or
 * replayed from rv at *i. */
static double value_acc(const struct hif_ctx *x, const struct ndp_replay *R,
			const struct ndp_value *rv, struct ndp_value *wv, uint64_t *i)
{
	if (rv) {
		ND_ASSERT(*i < rv->nacc);
		return rv->acc[(*i)++];
	}
	double a = (double)wl_mlp_correct(&R->m, R->step.params, x->te) / x->te->n;
	if (wv)
		ndp_value_push_acc(wv, a);
	return a;
}

static int ndram_train(const struct hif_ctx *x, struct hif_result *r, struct nd_err *err)
{
	const struct ndram_params *p = x->ndram;
	const struct ndp_train_params *tp = x->train;
	struct wl_numfmt fmt = { p->format, p->int_bits, p->frac_bits, p->rounding };
	int rc = wl_numfmt_check(&fmt, "ndram", err);
	if (rc)
		return rc;
	struct ndp_replay R;
	if ((rc = ndp_replay_init(&R, tp, x->ssd, x->tr, p->zero_skip, &fmt, x->run->seed, err)))
		return rc;
	wl_numfmt_name(&fmt, r->format, sizeof r->format);
	/* The steps, their samples and work, the losses and the evaluation
	 * points follow from the data order and the format alone: kept, or
	 * replayed (platform.h, struct hif_memo); only ndram_run re-prices. */
	struct hif_memo *memo = x->memo;
	const struct ndp_value *rv = NULL;
	struct ndp_value *wv = NULL;
	uint64_t v_acc = 0;
	if (memo && memo->reuse_ndram && memo->have_ndram) {
		rv = &memo->ndram;
		memo->replayed |= HIF_REPLAYED_NDRAM;
	} else if (memo && memo->record) {
		wv = &memo->ndram;
		ndp_value_free(wv);
		memo->have_ndram = 0;
	}
	uint64_t data_bytes = R.L.data_bytes, t_read;
	struct hif_result load;
	hif_result_init(&load);
	if ((rc = hif_read_dataset(x, &load, data_bytes, 0, &t_read, err)))
		goto out;
	uint64_t t_link = link_in(p, &load, data_bytes);
	uint64_t t_load = nd_max_u64(t_read, t_link);
	int fits = data_bytes <= ndram_capacity_bytes(p);

	ndram_register(p, &r->led);
	en_static(&r->led, "ndram", "static", ndram_static_w(p));
	hif_tag(r, "ndram", HIF_AT_STACK);
	hif_merge(r, &load.led, HIF_AT_DRIVE);   /* the first load */
	/* Energy at time t of the curve: what was charged so far + every
	 * static draw of the platform x t (the system boundary adds the host). */
	double p_static = static_w_of(&r->led);

	uint64_t n_slots = R.L.n_slots;
	uint64_t eval_every = nd_max_u64(1, n_slots / (uint64_t)tp->evals_per_epoch);
	uint64_t next_eval = eval_every, applied = 0;
	uint64_t t = fits ? t_load : 0;
	double loss = 0;
	uint64_t loss_n = 0;
	int V = p->vaults;
	size_t np = R.m.n_params;
	struct progress prog;
	memset(&prog, 0, sizeof prog);
	if (x->progress)
		progress_begin(&prog, "near-DRAM training", n_slots * (uint64_t)tp->epochs);
	struct ndp_point pt0 = { 0, 0, value_acc(x, &R, rv, wv, &v_acc), 0, dynamic_j_of(&r->led) };
	struct ndp_result cv;
	memset(&cv, 0, sizeof cv);
	ndp_result_point(&cv, &pt0);
	for (int e = 0; e < tp->epochs; e++) {
		if (!rv)
			ndp_replay_epoch(&R, e);
		uint64_t t_ep = 0;
		if (e > 0 && !fits)
			hif_merge(r, &load.led, HIF_AT_DRIVE);   /* streamed again */
		for (uint32_t k = 0; k < R.S; k++) {
			uint64_t slot = (uint64_t)e * R.S + k, n, ops;
			if (rv) {
				ND_ASSERT(slot < rv->nstep);
				n = rv->n[slot];
				ops = rv->ops[slot];
				loss = rv->loss[slot];   /* the running sum, as it stood */
			} else {
				struct wl_sgd_count c = { 0 };
				n = ndp_replay_step(&R, k, e, &loss, &c);
				ops = c.macs + c.elem_ops;
				if (wv)
					ndp_value_set_step(wv, slot, (uint32_t)n, ops, loss);
			}
			loss_n += n;
			struct ndram_job job = {
				.macs = ops,
				.stack_bytes = n * 785u,
				.buf_words = n * (uint64_t)R.m.dim[0] + 2 * np,
				.noc_words = 2 * (uint64_t)(V - 1) * np,
				.static_by_caller = 1,
			};
			struct ndram_cost nc;
			ndram_run(p, &job, &r->led, &nc);
			r->bound = nc.bound;
			t_ep += nc.t_ns;
			applied += n;
			if (applied >= next_eval || (e == tp->epochs - 1 && k == R.S - 1)) {
				uint64_t tt = t + (fits ? t_ep : nd_max_u64(t_ep, t_load));
				struct ndp_point q = {
					.t_ns = tt, .epochs = (double)applied / (double)n_slots,
					.acc = value_acc(x, &R, rv, wv, &v_acc),
					.loss = loss_n ? loss / (double)loss_n : 0,
					.energy_j = dynamic_j_of(&r->led) + p_static * (double)tt * 1e-9,
				};
				ndp_result_point(&cv, &q);
				loss = 0;
				loss_n = 0;
				next_eval = (applied / eval_every + 1) * eval_every;
				progress_update(&prog, applied);
			}
		}
		t += fits ? t_ep : nd_max_u64(t_ep, t_load);
	}
	progress_end(&prog);
	ND_ASSERT(!rv || (v_acc == rv->nacc && rv->nstep == (uint64_t)tp->epochs * R.S));
	if (wv)
		memo->have_ndram = 1;
	ndp_result_target(&cv, tp->target_acc);
	r->acc = cv.pt[cv.npt - 1].acc;
	r->target_reached = cv.target_reached;
	if (cv.target_reached) {
		r->t_target_s = (double)cv.t_target_ns * 1e-9;
		r->e_target_j = cv.e_target_j;
	}
	r->wall_s = (double)t * 1e-9;
	r->curve = cv.pt;
	r->ncurve = cv.npt;
	cv.pt = NULL;
	uint64_t loads = fits ? 1 : (uint64_t)tp->epochs;
	r->b_link = data_bytes * loads;
	r->b_stack = (uint64_t)tp->epochs * n_slots * 785u;
	r->offload_ns = t;
	snprintf(r->note, sizeof r->note, "own SGD in %s on the vault PEs; step %s-bound%s",
		 r->format, r->bound ? r->bound : "-",
		 r->target_reached ? "" : "; this format does not reach the target");
	ndp_result_free(&cv);
out:
	hif_result_free(&load);
	ndp_replay_free(&R);
	return rc;
}

static int ndram_infer(const struct hif_ctx *x, struct hif_result *r, struct nd_err *err)
{
	const struct ndram_params *p = x->ndram;
	long n = x->n_infer;
	uint64_t bytes = (uint64_t)n * 785u, t_io;
	int rc = hif_read_dataset(x, r, bytes, 0, &t_io, err);
	if (rc)
		return rc;
	struct bnn_dp dp = { p->word_bits, p->acc_bits };
	if ((rc = bnn_dp_check(&dp, "ndram", err)))
		return rc;
	uint64_t sat = 0;
	long ok = bnn_dp_predict(x->bnn_model, &dp, x->te->pixels, n, x->te->labels, NULL, &sat);
	r->acc = (double)ok / (double)n;
	uint64_t ops = bnn_dp_word_ops(x->bnn_model, &dp) * (uint64_t)n;
	ndram_register(p, &r->led);
	en_static(&r->led, "ndram", "static", ndram_static_w(p));
	hif_tag(r, "ndram", HIF_AT_STACK);
	uint64_t t_link = link_in(p, r, bytes);
	/* A word-op occupies a PE's MAC slot for 1 / word_ops_per_cycle. */
	struct ndram_job job = { .macs = (uint64_t)ceil((double)ops / p->word_ops_per_cycle),
				 .stack_bytes = 2 * bytes, .buf_words = ops,
				 .static_by_caller = 1 };
	struct ndram_cost nc;
	ndram_run(p, &job, &r->led, &nc);
	uint64_t t = nd_max_u64(t_io, t_link) + nc.t_ns;
	r->wall_s = (double)t * 1e-9;
	r->offload_ns = t;
	r->b_link = bytes;
	r->b_stack = 2 * bytes;
	r->bound = nc.bound;
	snprintf(r->format, sizeof r->format, "binary, %d-bit words, %d-bit accumulator",
		 dp.word_bits, dp.acc_bits);
	snprintf(r->note, sizeof r->note, "BNN on the vault PEs (%d-bit words, %s-bound%s)",
		 dp.word_bits, nc.bound, sat ? "; accumulator saturated" : "");
	return 0;
}

const struct hif_platform hif_plat_ndram = {
	"memory: near-DRAM", ndram_unsupported, ndram_train, ndram_infer
};
