/* cmd_ssd.c — `ndpsim ssd`: the SSD model on a synthetic workload or a trace. */
#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/registry.h"
#include "core/outdir.h"
#include "core/report.h"
#include "core/util.h"
#include "ssdsim/run.h"

static const char help[] =
	"usage: ndpsim ssd [--config FILE] [--set KEY=VALUE]... [--trace FILE --format disksim|blkparse|msr]\n"
	"                  [--verify] [--no-plot] [--out DIR] [--seed N] [--quiet]\n"
	"Simulates the SSD of the config on its synthetic workload (keys under workload.,\n"
	"e.g. --set workload.count=1e6 --set workload.qd=32 --set workload.read_ratio=0.7)\n"
	"or replays a block trace.  Writes report.json, latency CSVs, utilization.csv and\n"
	"latency_cdf.png to DIR (default results/ssd); with wear levelling on also the\n"
	"erase-count histogram, erase_counts.csv and erase_counts.png.\n"
	"  --trace FILE     replay a trace (at its own times unless workload.replay=closed)\n"
	"  --format F       trace format: disksim (MQSim/SSDsim ASCII), blkparse, msr\n"
	"  --verify         check at the end that every written unit maps to its latest version\n"
	"  --no-plot        write the gnuplot script but do not run gnuplot\n"
	"%s";

int cmd_ssd(int argc, char **argv)
{
	struct cli_common c = { 0 };
	struct nd_err err = { 0 };
	const char *trace_path = NULL, *fmt_name = NULL;
	int verify = 0;
	for (int i = 1; i < argc;) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf(help, cli_common_help);
			return 0;
		}
		if (!strcmp(a, "--no-plot")) {
			rep_set_plots(0);
			i++;
			continue;
		}
		if (!strcmp(a, "--verify")) {
			verify = 1;
			i++;
			continue;
		}
		if (!strcmp(a, "--trace") || !strcmp(a, "--format")) {
			if (i + 1 >= argc)
				return cli_usage_error("ssd", "%s needs a value", a);
			if (!strcmp(a, "--trace"))
				trace_path = argv[i + 1];
			else
				fmt_name = argv[i + 1];
			i += 2;
			continue;
		}
		int k = cli_common_opt(&c, argc, argv, &i, &err);
		if (k < 0)
			return cli_usage_error("ssd", "%s", err.msg);
		if (k == 0)
			return cli_usage_error("ssd", "unknown option '%s'", a);
	}
	if (fmt_name && !trace_path)
		return cli_usage_error("ssd", "--format needs --trace");
	enum wl_trace_fmt fmt = WL_TRACE_DISKSIM;
	if (trace_path && !fmt_name)
		return cli_usage_error("ssd", "--trace needs --format disksim|blkparse|msr");
	if (fmt_name && wl_trace_fmt_parse(fmt_name, &fmt))
		return cli_usage_error("ssd", "unknown trace format '%s' (disksim, blkparse, msr)",
				       fmt_name);

	struct run_params run;
	struct ssd_params sp;
	struct wl_params wp;
	struct cfg_bundle b;
	const struct cli_param pool[] = {
		{ &run_section, &run }, { &ssd_section, &sp }, { &wl_section, &wp },
	};
	cli_bundle_cmd(&b, "ssd", pool, ND_ARRAY_LEN(pool));   /* sections: cli/registry.c */
	if (cli_load(&b, &c, &err))
		return cli_error(&err);
	cli_apply_run(&run);

	struct wl_trace tr = { 0 };
	if (trace_path && wl_trace_load(trace_path, fmt, &tr, &err))
		return cli_error(&err);
	const char *out = c.out_dir ? c.out_dir : "results/ssd";
	/* written beside out and swapped in whole at the end: a failed or
	 * killed run leaves the previous results as they were */
	struct rep_outdir od;
	if (rep_outdir_begin(&od, out, &err)) {
		wl_trace_free(&tr);
		return cli_error(&err);
	}
	if (verify)
		sp.verify = 1;
	struct ssd_run_opts o = {
		.ssd = &sp, .wl = &wp, .trace = trace_path ? &tr : NULL,
		.seed = run.seed, .verify = verify, .progress = !c.quiet,
	};
	struct ssd_run_result r;
	int rc = ssd_run(&o, &r, &err);
	wl_trace_free(&tr);
	if (rc) {
		ssd_run_result_free(&r);
		rep_outdir_abort(&od);
		return rc == -EBADMSG ? (fprintf(stderr, "ndpsim: %s\n", err.msg), 1) : cli_error(&err);
	}
	char warn[512];
	if (ssd_run_unmapped_warning(&r, warn, sizeof warn))
		fprintf(stderr, "ndpsim: %s\n", warn);
	cJSON *rep = rep_new(&b, run.seed, ssd_run_metrics(&r));
	if (trace_path) {
		cJSON *t = cJSON_AddObjectToObject(rep, "trace");
		cJSON_AddStringToObject(t, "file", trace_path);
		cJSON_AddStringToObject(t, "format", fmt_name);
	}
	rc = rep_write_json(od.stage, "report.json", rep, &err);
	cJSON_Delete(rep);
	if (!rc)
		rc = ssd_run_write_files(&r, od.stage, &err);
	if (!rc)
		rc = rep_outdir_commit(&od, &err);
	else
		rep_outdir_abort(&od);
	if (!c.quiet && !rc) {
		printf("ndpsim %s — ssd, seed %llu%s%s\n", "ssd", (unsigned long long)run.seed,
		       trace_path ? ", trace " : "", trace_path ? trace_path : "");
		ssd_run_print(&r, stdout);
		printf("  results in %s/ (report.json has the resolved config)\n", out);
	}
	ssd_run_result_free(&r);
	return rc ? cli_error(&err) : 0;
}
