/*
 * bench_ssd.c — simulation speed of the SSD model (simulated requests per
 * wall-clock second of the event loop, preconditioning excluded) on the
 * MQSim-default preset: 10^6 random 4 KiB reads at QD 32 on a filled drive,
 * and 10^6 random 4 KiB writes with garbage collection active; and the
 * rate of random-overwrite preconditioning (functional, with GC) in map
 * units per second; each also per CPU-second of the thread (the machine is
 * shared).  ssd_overwrite_steady*: the same rate with
 * precondition.method=steady (ssdsim/precond.c) at 3, 1 and 0.1 capacities.  Whole-process figures are bench_ssd_proc.
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
	if (tu_ssd_try_load("configs/mqsim-default.json", sets, NULL, &run, &sp, &wp, &err))
		goto fail;
	struct ssd_run_opts o = { .ssd = &sp, .wl = &wp, .seed = run.seed };
	struct ssd_run_result r;
	if (ssd_run(&o, &r, &err))
		goto fail;
	double n = (double)(r.n[0] + r.n[1]);
	printf("bench %s_req_per_s %.0f req/s\n", name, n / r.wall_sim_s);
	printf("bench %s_req_per_cpu_s %.0f req/s\n", name, n / r.cpu_sim_s);
	/* the event queue's work per request (read: ~5 events, see bench/README.md) */
	printf("bench %s_events_per_req %.2f events\n", name, (double)r.events / n);
	printf("bench %s_precondition_s %.2f s\n", name, r.wall_s - r.wall_sim_s);
	printf("bench %s_precondition_cpu_s %.2f s\n", name, r.cpu_s - r.cpu_sim_s);
	if (sp.pre_overwrite > 0) {
		double units = sp.pre_overwrite * (double)r.capacity_bytes / sp.map_unit_bytes;
		printf("bench %s_overwrite_units_per_s %.0f units/s\n", name,
		       units / (r.wall_s - r.wall_sim_s));
		printf("bench %s_overwrite_units_per_cpu_s %.0f units/s\n", name,
		       units / (r.cpu_s - r.cpu_sim_s));
	}
	printf("bench %s_sim_iops %.0f IOPS\n", name, n / ((double)(r.t_last_ns - r.t_first_ns) * 1e-9));
	if (r.st.gc_count)
		printf("bench %s_gc_runs %llu runs\n", name, (unsigned long long)r.st.gc_count);
	ssd_run_result_free(&r);
	return 0;
fail:
	fprintf(stderr, "bench_ssd: %s\n", err.msg);
	return 1;
}

/* precondition.method=steady on the filled preset, X capacities of
 * overwrites, one request: overwritten units (X x capacity) per second of
 * preconditioning, wall and thread CPU (table zeroing by the kernel
 * included: it is the process's work). */
static int steady(const char *name, const char *x)
{
	char over[64];
	snprintf(over, sizeof over, "ssd.precondition.overwrite=%s", x);
	const char *sets[] = { "ssd.precondition.fill=1", over, "ssd.precondition.method=steady",
			       "workload.count=1", NULL };
	struct run_params run;
	struct ssd_params sp;
	struct wl_params wp;
	struct nd_err err = { 0 };
	if (tu_ssd_try_load("configs/mqsim-default.json", sets, NULL, &run, &sp, &wp, &err))
		goto fail;
	struct ssd_run_opts o = { .ssd = &sp, .wl = &wp, .seed = run.seed };
	struct ssd_run_result r;
	if (ssd_run(&o, &r, &err))
		goto fail;
	double units = sp.pre_overwrite * (double)r.capacity_bytes / sp.map_unit_bytes;
	printf("bench %s_units_per_s %.0f units/s\n", name, units / (r.wall_s - r.wall_sim_s));
	printf("bench %s_units_per_cpu_s %.0f units/s\n", name, units / (r.cpu_s - r.cpu_sim_s));
	/* the other reading of "units per second": logical units of the
	 * preconditioned range (the fill) per second, whatever X */
	double range = sp.pre_fill * (double)r.capacity_bytes / sp.map_unit_bytes;
	printf("bench %s_range_units_per_s %.0f units/s\n", name, range / (r.wall_s - r.wall_sim_s));
	printf("bench %s_precondition_s %.2f s\n", name, r.wall_s - r.wall_sim_s);
	printf("bench %s_precondition_cpu_s %.2f s\n", name, r.cpu_s - r.cpu_sim_s);
	ssd_run_result_free(&r);
	return 0;
fail:
	fprintf(stderr, "bench_ssd: %s\n", err.msg);
	return 1;
}

/* bench_ssd [NAME]: only the benchmarks whose name contains NAME. */
int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : "";
	const char *reads[] = { "ssd.precondition.fill=1", "workload.pattern=rand",
				"workload.read_ratio=1", "workload.qd=32", "workload.count=1000000", NULL };
	const char *writes[] = { "ssd.precondition.fill=1", "ssd.precondition.overwrite=0.1",
				 "workload.pattern=rand", "workload.read_ratio=0", "workload.qd=32",
				 "workload.count=1000000", NULL };
	int rc = 0;
	if (strstr("ssd_randread_4k_qd32", only))
		rc |= one("ssd_randread_4k_qd32", reads);
	if (strstr("ssd_randwrite_4k_gc", only))
		rc |= one("ssd_randwrite_4k_gc", writes);
	/* steady state (3 capacities), then 1 and the write bench's 0.1 */
	if (strstr("ssd_overwrite_steady", only))
		rc |= steady("ssd_overwrite_steady", "3");
	if (strstr("ssd_overwrite_steady_x1", only))
		rc |= steady("ssd_overwrite_steady_x1", "1");
	if (strstr("ssd_overwrite_steady_x0.1", only))
		rc |= steady("ssd_overwrite_steady_x0.1", "0.1");
	return rc;
}
