/* cmd_run.c — `ndpsim run`: the main job, host vs storage vs memory. */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analog/xbar.h"
#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/registry.h"
#include "core/outdir.h"
#include "core/report.h"
#include "core/util.h"
#include "hostif/compare.h"
#include "hostif/ndram.h"
#include "hostif/host.h"
#include "hostif/sensitivity.h"
#include "ndp/ndp.h"
#include "workloads/bnn.h"

static const char help[] =
	"usage: ndpsim run [--config FILE] [--host NAME] [--set KEY=VALUE]... [--out DIR] [--seed N] [--quiet]\n"
	"                  [--sensitivity] [--no-plot]\n"
	"The main job: host vs storage vs memory on Fashion-MNIST.\n"
	"  train  logistic regression / MLP (train.*) for train.epochs on the host (host.*),\n"
	"         in storage (ndp.*, ssd.*) and in a near-DRAM stack (ndram.*), each with its own\n"
	"         SGD in its own number format; time and energy to train.target_acc;\n"
	"  infer  the binarized network (bnn.*) on the test set: bnn_predict on the host, the\n"
	"         units' and the PEs' integer datapaths, analog on the ReRAM crossbar (xbar.*).\n"
	"Every row: system energy (the whole machine on for the row's wall time: host package,\n"
	"host DRAM, drive, link, stack, chip) and marginal energy (system minus the same\n"
	"machine's idle draw); the verdict names the winner under each.  --host NAME takes a\n"
	"host preset from configs/hosts/ (server = the defaults, laptop).\n"
	"Prints the table, writes report.json, platforms.csv, energy.csv, curve_*.csv and\n"
	"energy/time/accuracy figures to DIR (default results/run).  compare.workloads=train|infer\n"
	"limits the run to one half.  Every key: ndpsim config --dump.\n"
	"  --sensitivity  then vary each assumption of compare.sensitivity_keys (default: the\n"
	"                 built-in list of hostif/sensitivity.c) at x0.5 and x2, one at a time:\n"
	"                 winner and lead per question and view, a 'sensitivity' section in\n"
	"                 report.json, sensitivity.csv and the tornado figure sensitivity.png\n"
	"  --no-plot      write the gnuplot scripts but do not run gnuplot\n"
	"%s";

int cmd_run(int argc, char **argv)
{
	struct cli_common c = { 0 };
	struct nd_err err = { 0 };
	int sens = 0;
	for (int i = 1; i < argc;) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf(help, cli_common_help);
			return 0;
		}
		if (!strcmp(argv[i], "--sensitivity") || !strcmp(argv[i], "--no-plot")) {
			if (argv[i][2] == 's')
				sens = 1;
			else
				rep_set_plots(0);
			i++;
			continue;
		}
		int k = cli_common_opt(&c, argc, argv, &i, &err);
		if (k < 0)
			return cli_usage_error("run", "%s", err.msg);
		if (k == 0)
			return cli_usage_error("run", "unknown option '%s'", argv[i]);
	}
	struct run_params run;
	struct ssd_params sp;
	struct ndp_train_params tp;
	struct ndp_params np;
	struct ihp_params hp;
	struct ndram_params dp;
	struct bnn_params bp;
	struct xbar_params xp;
	struct hif_compare_params cp;
	struct cfg_bundle b;
	const struct cli_param pool[] = {
		{ &run_section, &run }, { &ssd_section, &sp }, { &ndp_train_section, &tp },
		{ &ndp_section, &np }, { &ihp_section, &hp }, { &ndram_section, &dp },
		{ &bnn_section, &bp }, { &xbar_section, &xp }, { &hif_compare_section, &cp },
	};
	cli_bundle_cmd(&b, "run", pool, ND_ARRAY_LEN(pool));   /* sections: cli/registry.c */
	if (cli_load(&b, &c, &err))
		return cli_error(&err);
	cli_apply_run(&run);
	/* Every sensitivity key is checked before anything runs or is written. */
	struct hif_sens *sv = sens ? xmalloc(sizeof *sv) : NULL;
	if (sv && hif_sens_prepare(&b, sv, &err)) {
		free(sv);
		return cli_error(&err);
	}
	const char *out = c.out_dir ? c.out_dir : "results/run";
	/* staged beside out and swapped in whole (core/outdir.h) */
	struct rep_outdir od;
	if (rep_outdir_begin(&od, out, &err)) {
		free(sv);
		return cli_error(&err);
	}
	struct hif_compare res;
	memset(&res, 0, sizeof res);
	struct hif_data data;
	struct hif_memo memo;
	memset(&memo, 0, sizeof memo);
	memo.record = 1;
	int progress = !c.quiet && isatty(2);
	int rc = hif_data_load(&b, progress, &data, &err);
	if (!rc) {
		struct hif_compare_opts o = { .progress = progress, .memo = sv ? &memo : NULL };
		rc = hif_compare_run_on(&b, &data, &o, &res, &err);
		if (!rc && sv)
			rc = hif_sens_run(&b, &data, &res, &memo, progress, sv, &err);
		hif_data_free(&data);
	}
	if (rc) {
		hif_compare_free(&res);
		hif_memo_free(&memo);
		free(sv);
		rep_outdir_abort(&od);
		return cli_error(&err);
	}
	cJSON *metrics = hif_compare_metrics(&res);
	if (sv)
		cJSON_AddItemToObject(metrics, "sensitivity", hif_sens_json(sv));
	cJSON *rep = rep_new(&b, run.seed, metrics);
	rc = rep_write_json(od.stage, "report.json", rep, &err);
	cJSON_Delete(rep);
	if (!rc)
		rc = hif_compare_write_files(&res, od.stage, &err);
	if (!rc && sv)
		rc = hif_sens_write_files(sv, od.stage, &err);
	if (!rc)
		rc = rep_outdir_commit(&od, &err);
	else
		rep_outdir_abort(&od);
	if (!c.quiet && !rc) {
		printf("ndpsim run — host vs storage vs memory, seed %llu\n",
		       (unsigned long long)run.seed);
		hif_compare_print(&res, stdout);
		if (sv)
			hif_sens_print(sv, stdout);
		printf("\n  results, figures and the resolved config in %s/\n", out);
	}
	hif_compare_free(&res);
	hif_memo_free(&memo);
	free(sv);
	return rc ? cli_error(&err) : 0;
}
