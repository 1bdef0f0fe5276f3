/*
 * bench_ssd_nand.c — simulation speed with the NAND error model (issue 11):
 * 300k random 4 KiB reads at QD 32 on the filled default drive, with ECC
 * off (the baseline event loop), on a fresh drive (ldpc, no wear) and on
 * an aged one (5000 P/E cycles, 2 years retention: ~3 % of codewords need
 * read retry).  Prints the simulated requests per second of the event loop
 * (wall and CPU time of the whole run, preconditioning included, for the
 * loaded machine), and the aged drive's RBER, retries per read and p99 /
 * p99.9 read latency.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "core/util.h"
#include "cli/cli.h"
#include "core/cfg.h"
#include "ssdsim/run.h"
#include "tests/common/tu_ssd.h"

static int one(const char *name, const char *const *sets)
{
	struct run_params run;
	struct ssd_params sp;
	struct wl_params wp;
	struct nd_err err = { 0 };
	static const char *const common[] = { "ssd.precondition.fill=1", "workload.pattern=rand",
					      "workload.read_ratio=1", "workload.qd=32",
					      "workload.count=300000", NULL };
	if (tu_ssd_try_load(NULL, common, sets, &run, &sp, &wp, &err))
		goto fail;
	struct ssd_run_opts o = { .ssd = &sp, .wl = &wp, .seed = run.seed };
	struct ssd_run_result r;
	double c0 = nd_cpu_s();
	if (ssd_run(&o, &r, &err))
		goto fail;
	double cpu = nd_cpu_s() - c0;
	double n = (double)(r.n[0] + r.n[1]);
	printf("bench %s_req_per_s %.0f req/s\n", name, n / r.wall_sim_s);
	printf("bench %s_cpu_s %.2f s\n", name, cpu);
	printf("bench %s_wall_s %.2f s\n", name, r.wall_s);
	const struct ssd_nand_report *e = &r.st.nand;
	if (e->ecc != SSD_ECC_NONE) {
		printf("bench %s_rber %.3g -\n", name, e->rber_measured);
		printf("bench %s_retries_per_read %.4f steps\n", name,
		       e->flash_read_ops ? (double)e->retry_steps / (double)e->flash_read_ops : 0.0);
		printf("bench %s_uncorrectable_cw %llu codewords\n", name,
		       (unsigned long long)e->uncorrectable_cw);
	}
	printf("bench %s_read_p99 %.1f us\n", name, (double)hist_quantile(&r.lat[0], 0.99) / 1e3);
	printf("bench %s_read_p999 %.1f us\n", name, (double)hist_quantile(&r.lat[0], 0.999) / 1e3);
	ssd_run_result_free(&r);
	return 0;
fail:
	fprintf(stderr, "bench_ssd_nand: %s\n", err.msg);
	return 1;
}

int main(void)
{
	const char *off[] = { NULL };
	const char *fresh[] = { "ssd.nand.ecc.type=ldpc", NULL };
	const char *aged[] = { "ssd.nand.ecc.type=ldpc", "ssd.nand.pe_cycles=5000",
			       "ssd.nand.retention_days=730", NULL };
	return one("nand_ecc_off_randread", off) || one("nand_ecc_fresh_randread", fresh) ||
	       one("nand_ecc_aged_randread", aged);
}
