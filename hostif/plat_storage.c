/*
 * plat_storage.c — in-storage processing: training is ndp_train() (ndp/ndp.h)
 * on the channel units; inference reads the test set over the internal
 * path and classifies it on the units' integer datapath (bnn_dp with
 * ndp.unit.word_bits / acc_bits), then sends the count to the host.  The
 * drive's, the units' and the master's static power run for the whole wall
 * time (hif_result_finish extends every static draw).
 */
#include <math.h>
#include <string.h>

#include "core/util.h"
#include "hostif/compare.h"
#include "hostif/platform.h"
#include "ndp/ndp.h"
#include "ssdsim/ssd.h"
#include "workloads/bnn.h"
#include "workloads/bnn_dp.h"

static const char *storage_unsupported(const struct hif_ctx *x, int wl)
{
	return NULL;
}

static int storage_train(const struct hif_ctx *x, struct hif_result *r, struct nd_err *err)
{
	struct ndp_params np = *x->ndp;
	np.infer = 0;   /* inference is its own row */
	struct ndp_result n;
	struct ndp_run_opts o = { .train = x->train, .ndp = &np, .ssd = x->ssd,
				  .train_set = x->tr, .test_set = x->te, .seed = x->run->seed,
				  .progress = x->progress };
	/* Sync SGD's value path does not depend on the timing: kept / replayed
	 * (platform.h, struct hif_memo). */
	struct hif_memo *memo = x->memo;
	if (memo && np.algo == NDP_SYNC) {
		if (memo->reuse_storage && memo->have_storage) {
			o.replay = &memo->storage;
			memo->replayed |= HIF_REPLAYED_STORAGE;
		} else if (memo->record) {
			o.record = &memo->storage;
			memo->have_storage = 0;
		}
	}
	int rc = ndp_train(&o, &n, err);
	if (!rc && o.record)
		memo->have_storage = 1;
	if (!rc) {
		hif_from_ndp(r, &n, HIF_AT_DRIVE);
		r->b_internal = n.bus_bytes;
		r->offload_ns = n.t_end_ns;
		struct wl_numfmt f = { np.unit_format, np.unit_int_bits, np.unit_frac_bits,
				       np.unit_rounding };
		wl_numfmt_name(&f, r->format, sizeof r->format);
		snprintf(r->note, sizeof r->note, "%s SGD on %d channel units", n.algo, n.channels);
	}
	ndp_result_free(&n);
	return rc;
}

static int storage_infer(const struct hif_ctx *x, struct hif_result *r, struct nd_err *err)
{
	const struct ndp_params *np = x->ndp;
	long n = x->n_infer;
	uint64_t bytes = (uint64_t)n * 785u, t_io;
	int rc = hif_read_dataset(x, r, bytes, 1, &t_io, err);
	if (rc)
		return rc;
	struct bnn_dp dp = { np->unit_word_bits, np->unit_acc_bits };
	if ((rc = bnn_dp_check(&dp, "ndp.unit", err)))
		return rc;
	uint64_t sat = 0;
	long ok = bnn_dp_predict(x->bnn_model, &dp, x->te->pixels, n, x->te->labels, NULL, &sat);
	r->acc = (double)ok / (double)n;
	uint64_t ops = bnn_dp_word_ops(x->bnn_model, &dp) * (uint64_t)n;
	double rate = x->ssd->channels * np->unit_word_ops_per_cycle * np->unit_clock_mhz * 1e6;
	uint64_t t_u = (uint64_t)ceil((double)ops / rate * 1e9);
	/* A word-op: AND, popcount, add (3 integer ops) and one weight word
	 * from the unit's SRAM. */
	double e_op = 3 * np->unit_int_op_pj * 1e-12 +
		      np->unit_sram_pj_byte * 1e-12 * (double)np->unit_word_bits / 8;
	int k = en_action(&r->led, "isp_unit", "bnn_word_op", e_op);
	en_add(&r->led, k, ops);
	k = en_static(&r->led, "isp_unit", "static", np->unit_static_w * x->ssd->channels);
	k = en_static(&r->led, "isp_master", "static", np->master_static_w);
	k = en_action(&r->led, "host_link", "byte", x->ssd->link_pj_bit * 8e-12);
	en_add(&r->led, k, np->result_bytes);
	hif_tag(r, "isp_unit", HIF_AT_DRIVE);
	hif_tag(r, "isp_master", HIF_AT_DRIVE);
	hif_tag(r, "host_link", HIF_AT_LINK);
	uint64_t t_res = x->ssd->link_lat_ns +
			 nd_xfer_ns(np->result_bytes, ssd_link_bytes_per_s(x->ssd));
	r->wall_s = (double)(t_io + t_u + t_res) * 1e-9;
	r->offload_ns = t_io + t_u + t_res;
	r->b_link = np->result_bytes;
	r->b_internal = bytes;
	snprintf(r->format, sizeof r->format, "binary, %d-bit words, %d-bit accumulator",
		 dp.word_bits, dp.acc_bits);
	snprintf(r->note, sizeof r->note, "BNN on %d channel units (%d-bit words, %.3g word-ops/cycle%s)",
		 x->ssd->channels, dp.word_bits, np->unit_word_ops_per_cycle,
		 sat ? "; accumulator saturated" : "");
	return 0;
}

const struct hif_platform hif_plat_storage = {
	"storage", storage_unsupported, storage_train, storage_infer
};
