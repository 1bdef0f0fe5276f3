/*
 * bench_ssd_cmt.c — simulation speed of the SSD model with the cached
 * mapping table (ssd.ftl.mapping=cached, MQSim's 2 MiB CMT) on the
 * MQSim-default preset, the cases of bench_ssd: 10^6 random 4 KiB reads at
 * QD 32 on a filled drive (almost every look-up misses: 262,144 entries for
 * 134 M units), and 10^6 random 4 KiB writes with garbage collection
 * active; simulated requests per second of the event loop and per CPU
 * second, the simulated IOPS and the CMT hit rate.  Compare with the
 * bench_ssd lines of the same names without _cmt (the ideal map).
 */
#include <stdio.h>
#include <string.h>

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
	static const char *const cached[] = { "ssd.ftl.mapping=cached", NULL };
	if (tu_ssd_try_load("configs/mqsim-default.json", cached, sets, &run, &sp, &wp, &err))
		goto fail;
	struct ssd_run_opts o = { .ssd = &sp, .wl = &wp, .seed = run.seed };
	struct ssd_run_result r;
	if (ssd_run(&o, &r, &err))
		goto fail;
	double n = (double)(r.n[0] + r.n[1]);
	uint64_t look = r.st.cmt_hits + r.st.cmt_misses;
	printf("bench %s_req_per_s %.0f req/s\n", name, n / r.wall_sim_s);
	printf("bench %s_req_per_cpu_s %.0f req/s\n", name, n / r.cpu_sim_s);
	printf("bench %s_precondition_cpu_s %.2f s\n", name, r.cpu_s - r.cpu_sim_s);
	printf("bench %s_sim_iops %.0f IOPS\n", name, n / ((double)(r.t_last_ns - r.t_first_ns) * 1e-9));
	printf("bench %s_hit_rate %.4f fraction\n", name,
	       look ? (double)r.st.cmt_hits / (double)look : 0.0);
	printf("bench %s_translation_reads_per_req %.3f pages\n", name,
	       (double)r.st.xlate_read_pages / n);
	printf("bench %s_translation_programs_per_req %.3f pages\n", name,
	       (double)r.st.xlate_prog_pages / n);
	ssd_run_result_free(&r);
	return 0;
fail:
	fprintf(stderr, "bench_ssd_cmt: %s\n", err.msg);
	return 1;
}

int main(void)
{
	const char *reads[] = { "ssd.precondition.fill=1", "workload.pattern=rand",
				"workload.read_ratio=1", "workload.qd=32", "workload.count=1000000", NULL };
	const char *writes[] = { "ssd.precondition.fill=1", "ssd.precondition.overwrite=0.1",
				 "workload.pattern=rand", "workload.read_ratio=0", "workload.qd=32",
				 "workload.count=1000000", NULL };
	return one("ssd_randread_4k_qd32_cmt", reads) || one("ssd_randwrite_4k_gc_cmt", writes);
}
