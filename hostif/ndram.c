#include "hostif/ndram.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/util.h"
#include "workloads/sgd.h"

#define CFG_T struct ndram_params

static const struct cfg_key ndram_keys[] = {
	CFG_KEY_INT("vaults", vaults, "vaults", 16, 1, 1024,
	  "vaults in the stack, one PE array each (TETRIS / HMC: 16)"),
	CFG_KEY_INT("pe_rows", pe_rows, "PEs", 14, 1, 256,
	  "PE array rows per vault (TETRIS: 14 x 14)"),
	CFG_KEY_INT("pe_cols", pe_cols, "PEs", 14, 1, 256,
	  "PE array columns per vault (TETRIS: 14 x 14)"),
	CFG_KEY_DBL("clock_mhz", clock_mhz, "MHz", 500, 1, 10000,
	  "logic-die clock (TETRIS evaluates its PEs at 500 MHz)"),
	CFG_KEY_DBL("pe_util", pe_util, "fraction", 0.5, 0.01, 1,
	  "achieved fraction of peak MACs for dense layers (assumption: small batch "
	  "fully-connected layers keep about half of a 14x14 array busy)"),
	CFG_KEY_DBL("vault_gb_s", vault_gb_s, "GB/s", 10, 0.1, 1000,
	  "in-stack bandwidth per vault (HMC 2.0 as in TETRIS: 10 GB/s x 16 vaults)"),
	CFG_KEY_DBL("capacity_gib", capacity_gib, "GiB", 8, 0.125, 1024,
	  "stack capacity (HMC 2.0: 8 GiB)"),
	CFG_KEY_DBL("link_gb_s", link_gb_s, "GB/s", 60, 0.1, 10000,
	  "host <-> stack SerDes bandwidth (HMC 2.0: 4 links x 15 Gb/s x 16 lanes / 2 directions = 60 GB/s per direction)"),
	CFG_KEY_DBL("buf_kib", buf_kib, "KiB", 133, 1, 1e6,
	  "global buffer per vault (TETRIS: 133 KB)"),
	CFG_KEY_DBL("energy.mac_pj", e_mac_pj, "pJ", 2, 0, 1e4,
	  "16-bit MAC (TETRIS nn_dataflow table, 45 nm)"),
	CFG_KEY_DBL("energy.buf_pj", e_buf_pj, "pJ/word", 14, 0, 1e4,
	  "global buffer access per 16-bit word (TETRIS nn_dataflow)"),
	CFG_KEY_DBL("energy.rf_pj", e_rf_pj, "pJ/word", 0.6, 0, 1e4,
	  "PE register file access per 16-bit word (TETRIS nn_dataflow)"),
	CFG_KEY_DBL("energy.noc_pj", e_noc_pj, "pJ/word", 40, 0, 1e4,
	  "network-on-chip hop per 16-bit word between vaults (TETRIS nn_dataflow)"),
	CFG_KEY_DBL("energy.instack_pj_bit", e_instack_pj_bit, "pJ/bit", 5, 0, 1e4,
	  "DRAM access inside the stack (TETRIS: 5 vs 15 pJ/bit off-chip LPDDR3)"),
	CFG_KEY_DBL("energy.offchip_pj_bit", e_offchip_pj_bit, "pJ/bit", 15, 0, 1e4,
	  "bits crossing the host <-> stack link (TETRIS: off-chip 15 pJ/bit)"),
	CFG_KEY_DBL("energy.static_pj_cycle", static_pj_cycle, "pJ/cycle", 200, 0, 1e9,
	  "static energy per vault per cycle (TETRIS nn_dataflow)"),
	CFG_KEY_INT("rf_per_mac", rf_per_mac, "accesses", 3, 0, 16,
	  "register-file accesses per MAC (2 operand reads + 1 partial-sum update, row-stationary PE)"),
	CFG_KEY_BOOL("zero_skip", zero_skip, 1,
	  "PEs skip zero operands and are charged the MACs they execute (Eyeriss-style zero gating); same default as host.zero_skip"),
	CFG_KEY_ENUM("format", format, WL_NUM_FIXED, wl_num_names,
	  "number format the PEs train in (TETRIS PEs are 16-bit fixed point)"),
	CFG_KEY_INT("int_bits", int_bits, "bits", 3, 0, 31,
	  "integer bits m of Qm.n, sign excluded (Q3.12: 16-bit words as the TETRIS PEs)"),
	CFG_KEY_INT("frac_bits", frac_bits, "bits", 12, 0, 31,
	  "fraction bits n of Qm.n"),
	CFG_KEY_ENUM("rounding", rounding, WL_ROUND_STOCHASTIC, wl_round_names,
	  "rounding of every stored weight (stochastic: Gupta et al. ICML 2015, 16-bit fixed-point training)"),
	CFG_KEY_INT("word_bits", word_bits, "bits", 16, 8, 64,
	  "PE datapath width for digital BNN inference (TETRIS: 16-bit PEs)"),
	CFG_KEY_DBL("word_ops_per_cycle", word_ops_per_cycle, "word-op/cycle", 1, 0.001, 64,
	  "XNOR+popcount+accumulate of one word per PE per cycle (assumption: the 16-bit MAC slot does one)"),
	CFG_KEY_INT("acc_bits", acc_bits, "bits", 16, 2, 64,
	  "PE accumulator width, sums saturate (16-bit PE register)"),
	CFG_END
};

static int ndram_check(const void *params, struct nd_err *err)
{
	const struct ndram_params *p = params;
	struct wl_numfmt f = { p->format, p->int_bits, p->frac_bits, p->rounding };
	return wl_numfmt_check(&f, "ndram", err);
}

const struct cfg_section ndram_section = {
	"ndram", ndram_keys, sizeof(struct ndram_params), ndram_check
};

double ndram_peak_macs(const struct ndram_params *p)
{
	return (double)p->vaults * p->pe_rows * p->pe_cols * p->clock_mhz * 1e6;
}

double ndram_static_w(const struct ndram_params *p)
{
	return p->vaults * p->static_pj_cycle * 1e-12 * p->clock_mhz * 1e6;
}

uint64_t ndram_capacity_bytes(const struct ndram_params *p)
{
	return (uint64_t)(p->capacity_gib * 1073741824.0);
}

void ndram_register(const struct ndram_params *p, struct energy_ledger *led)
{
	en_action(led, "ndram", "mac", p->e_mac_pj * 1e-12);
	en_action(led, "ndram", "rf_word", p->e_rf_pj * 1e-12);
	en_action(led, "ndram", "buffer_word", p->e_buf_pj * 1e-12);
	en_action(led, "ndram", "noc_word", p->e_noc_pj * 1e-12);
	en_action(led, "ndram", "stack_dram_byte", p->e_instack_pj_bit * 8e-12);
	en_action(led, "ndram", "link_byte", p->e_offchip_pj_bit * 8e-12);
	en_action(led, "ndram", "static_vault_cycle", p->static_pj_cycle * 1e-12);
}

static uint64_t secs_ns(double s) { return (uint64_t)ceil(s * 1e9); }

void ndram_run(const struct ndram_params *p, const struct ndram_job *job,
	       struct energy_ledger *led, struct ndram_cost *c)
{
	memset(c, 0, sizeof *c);
	c->t_compute_ns = secs_ns((double)job->macs / (ndram_peak_macs(p) * p->pe_util));
	c->t_stack_ns = secs_ns((double)job->stack_bytes / (p->vaults * p->vault_gb_s * 1e9));
	/* Each vault's router moves one 16-bit word per cycle and port. */
	c->t_noc_ns = secs_ns((double)job->noc_words / (p->vaults * p->clock_mhz * 1e6));
	c->t_link_ns = secs_ns((double)job->offchip_bytes / (p->link_gb_s * 1e9));
	c->t_ns = c->t_compute_ns;
	c->bound = "compute";
	if (c->t_stack_ns > c->t_ns) {
		c->t_ns = c->t_stack_ns;
		c->bound = "stack";
	}
	if (c->t_noc_ns > c->t_ns) {
		c->t_ns = c->t_noc_ns;
		c->bound = "noc";
	}
	if (c->t_link_ns > c->t_ns) {
		c->t_ns = c->t_link_ns;
		c->bound = "link";
	}
	int h;
	h = en_action(led, "ndram", "mac", p->e_mac_pj * 1e-12);
	en_add(led, h, job->macs);
	h = en_action(led, "ndram", "rf_word", p->e_rf_pj * 1e-12);
	en_add(led, h, job->macs * (uint64_t)p->rf_per_mac);
	h = en_action(led, "ndram", "buffer_word", p->e_buf_pj * 1e-12);
	en_add(led, h, job->buf_words);
	h = en_action(led, "ndram", "noc_word", p->e_noc_pj * 1e-12);
	en_add(led, h, job->noc_words);
	h = en_action(led, "ndram", "stack_dram_byte", p->e_instack_pj_bit * 8e-12);
	en_add(led, h, job->stack_bytes);
	h = en_action(led, "ndram", "link_byte", p->e_offchip_pj_bit * 8e-12);
	en_add(led, h, job->offchip_bytes);
	if (job->static_by_caller)
		return;
	h = en_action(led, "ndram", "static_vault_cycle", p->static_pj_cycle * 1e-12);
	uint64_t cycles = (uint64_t)((double)c->t_ns * 1e-9 * p->clock_mhz * 1e6);
	en_add(led, h, cycles * (uint64_t)p->vaults);
}
