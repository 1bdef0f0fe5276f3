/*
 * plat_host.c — the host platform: training is ihp_train() (hostif/host.h)
 * over the page cache and PCIe; inference is bnn.c's bnn_predict() (the
 * host's own 64-bit XNOR/popcount code) on the test set read over PCIe into
 * DRAM, costed as the word-ops that code runs at host.bnn_gops per core.
 */
#include <math.h>
#include <string.h>

#include "hostif/compare.h"
#include "hostif/host.h"
#include "hostif/platform.h"
#include "workloads/bnn.h"
#include "workloads/bnn_dp.h"

static const char *host_unsupported(const struct hif_ctx *x, int wl)
{
	return NULL;
}

static int host_train(const struct hif_ctx *x, struct hif_result *r, struct nd_err *err)
{
	struct ndp_result n;
	struct ihp_run_opts o = { .train = x->train, .host = x->host, .ssd = x->ssd,
				  .train_set = x->tr, .test_set = x->te, .seed = x->run->seed,
				  .progress = x->progress };
	struct hif_memo *memo = x->memo;
	if (memo && memo->reuse_host && memo->have_host) {
		o.replay = &memo->host;
		memo->replayed |= HIF_REPLAYED_HOST;
	} else if (memo && memo->record) {
		ihp_value_free(&memo->host);
		o.record = &memo->host;
	}
	int rc = ihp_train(&o, &n, err);
	if (!rc && o.record)
		memo->have_host = 1;
	if (!rc) {
		hif_from_ndp(r, &n, HIF_AT_DRIVE);
		snprintf(r->note, sizeof r->note, "fp32 SGD on %d cores at %.3g GFLOP/s per core",
			 x->host->cores, ihp_gflops(x->host, x->train));
	}
	ndp_result_free(&n);
	return rc;
}

static int host_infer(const struct hif_ctx *x, struct hif_result *r, struct nd_err *err)
{
	const struct ihp_params *h = x->host;
	long n = x->n_infer;
	uint64_t bytes = (uint64_t)n * 785u, t_io;
	int rc = hif_read_dataset(x, r, bytes, 0, &t_io, err);
	if (rc)
		return rc;
	long ok = bnn_predict(x->bnn_model, x->te->pixels, n, x->te->labels, NULL);
	r->acc = (double)ok / (double)n;
	double ops = (double)bnn_dp_host_word_ops(x->bnn_model) * (double)n;
	uint64_t t_cpu = ihp_bnn_ns(h, ops);
	/* All cores busy for t_cpu: the package draws p_active_w instead of
	 * p_idle_w (the idle part is the system boundary's). */
	int k = en_action(&r->led, "host_cpu", "busy_ns", (h->p_active_w - h->p_idle_w) * 1e-9);
	en_add(&r->led, k, t_cpu);
	k = en_action(&r->led, "host_dram", "byte", h->dram_pj_bit * 8e-12);
	en_add(&r->led, k, 2 * bytes);   /* DMA in, read by the CPU */
	hif_tag(r, "host_cpu", HIF_AT_HOST_PKG);
	hif_tag(r, "host_dram", HIF_AT_HOST_DRAM);
	r->wall_s = (double)(t_io + t_cpu) * 1e-9;
	r->b_link = bytes;
	r->b_host_dram = 2 * bytes;
	snprintf(r->format, sizeof r->format, "binary, 64-bit words");
	snprintf(r->note, sizeof r->note, "bnn_predict on %d cores, %.3g G word-ops/s per core",
		 h->cores, h->bnn_gops);
	return 0;
}

const struct hif_platform hif_plat_host = {
	"host", host_unsupported, host_train, host_infer
};
