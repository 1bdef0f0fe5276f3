/*
 * plat_xbar.c — the ReRAM / XNOR-RRAM crossbar (analog/xbar.h): binarized
 * inference only.  The test set comes over PCIe into host DRAM and is fed to
 * the chip; the chip runs the network in analog with its sampled device
 * variation and read noise (Monte Carlo over chip instances), and its
 * ledger (xbar_cost) is tagged as the crossbar chip.
 *
 * Periphery and programming energy (drivers, sample-and-hold, shift-add,
 * buffers, control, DMA, write-verify) belong to analog/: when xbar_cost()
 * charges them they arrive through the same merged ledger, tagged here;
 * nothing in this file needs to change beyond the note.
 */
#include <string.h>

#include "analog/xbar.h"
#include "hostif/compare.h"
#include "hostif/host.h"
#include "hostif/platform.h"
#include "workloads/bnn.h"

static const char *xbar_unsupported(const struct hif_ctx *x, int wl)
{
	return wl == HIF_WL_TRAIN ? "not supported: the crossbar runs binarized inference, it does not train"
				  : NULL;
}

static int xbar_infer(const struct hif_ctx *x, struct hif_result *r, struct nd_err *err)
{
	long n = x->n_infer;
	uint64_t bytes = (uint64_t)n * 785u, t_io;
	int rc = hif_read_dataset(x, r, bytes, 0, &t_io, err);
	if (rc)
		return rc;
	/* Into host DRAM by DMA, out of it to the chip. */
	int k = en_action(&r->led, "host_dram", "byte", x->host->dram_pj_bit * 8e-12);
	en_add(&r->led, k, 2 * bytes);
	hif_tag(r, "host_dram", HIF_AT_HOST_DRAM);
	struct xbar_params xp = *x->xbar;
	if (x->cmp->xbar_noise) {
		xp.d2d_on = 1;
		xp.read_on = 1;
	}
	const struct bnn_model *m = x->bnn_model;
	struct xbar_enc_plan plan;
	xbar_refs *refs = NULL;
	struct xbar_mc mc;
	memset(&mc, 0, sizeof mc);
	if ((rc = xbar_plan(&xp, m, &plan, err)))
		return rc;
	struct hif_memo *memo = x->memo;
	if (memo && memo->reuse_xbar && memo->have_xbar) {
		/* Re-charge: the value path's outcome (accuracies over chips and
		 * chip 0's action counts) as recorded; only the prices below
		 * change. */
		mc = memo->xbar;
		memo->replayed |= HIF_REPLAYED_XBAR;
	} else {
		long nc_img = xp.adc_calib_n < (int)x->tr->n ? xp.adc_calib_n : (long)x->tr->n;
		if ((rc = xbar_refs_create(&xp, m, &plan, x->tr->pixels, nc_img, &refs, err)))
			return rc;
		rc = xbar_monte_carlo(&xp, m, &plan, refs, x->run->seed, x->te->pixels, x->te->labels,
				      n, &mc, err);
		xbar_refs_destroy(refs);
		if (rc) {
			xbar_mc_free(&mc);
			return rc;
		}
		if (memo && memo->record) {
			memo->xbar = mc;
			memo->xbar.correct = NULL;
			memo->have_xbar = 1;
		}
	}
	struct xbar_cost cost;
	xbar_cost(&xp, m, &plan, &mc.counts, &cost);
	hif_merge(r, &cost.ledger, HIF_AT_XBAR);
	/* Programming the weights (write-verify) once, shared by
	 * compare.infer_runs passes over the test set. */
	struct xbar_program prog;
	if ((rc = xbar_program_cost(&xp, m, x->run->seed, 0, &prog, err))) {
		xbar_mc_free(&mc);
		return rc;
	}
	struct energy_ledger amort;
	en_init(&amort);
	xbar_program_amortise(&prog, x->cmp->infer_runs, &amort);
	hif_merge(r, &amort, HIF_AT_XBAR);
	double t_x = (double)n / cost.images_per_s;
	r->wall_s = (double)t_io * 1e-9 + t_x;
	r->offload_ns = (uint64_t)(r->wall_s * 1e9);
	r->acc = mc.mean;
	r->acc_sd = mc.sd;
	hif_acc_interval(r, mc.chips, mc.mean, mc.sd);
	r->b_link = bytes;
	r->b_host_dram = 2 * bytes;
	snprintf(r->format, sizeof r->format, "analog, binary weights");
	snprintf(r->note, sizeof r->note,
		 "analog%s, %d chip instances: accuracy %.2f %% (95 %% interval %.2f-%.2f, sd %.2f); "
		 "%.1f TOPS/W; programming %.3g J once, 1/%d of it charged here",
		 x->cmp->xbar_noise ? " with variation + read noise" : ", ideal", mc.chips,
		 100 * mc.mean, 100 * r->acc_lo, 100 * r->acc_hi, 100 * mc.sd, cost.tops_per_w,
		 prog.energy_j, x->cmp->infer_runs);
	xbar_mc_free(&mc);
	return 0;
}

const struct hif_platform hif_plat_xbar = {
	"memory: ReRAM crossbar", xbar_unsupported, NULL, xbar_infer
};
