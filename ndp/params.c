/*
 * params.c — the "ndp" config section (in-storage compute units, master,
 * internal bus, SGD variants).  Sources are named in each description;
 * "assumption" marks a value with no measured source, to be overridden.
 */
#include <errno.h>
#include <stddef.h>

#include "ndp/ndp.h"
#include "workloads/sgd.h"

#define O(f) offsetof(struct ndp_params, f)

const char *const ndp_algo_names[] = { "sync", "downpour", "easgd", NULL };

static const struct cfg_key ndp_keys[] = {
	{ "algo", CFG_ENUM, O(algo), "-", NDP_SYNC, 0, 0, NULL, ndp_algo_names,
	  "parallel SGD over the channels: sync, downpour (Dean et al. 2012), easgd (Zhang et al. 2015) — the three of ISP-ML" },
	{ "unit.clock_mhz", CFG_DBL, O(unit_clock_mhz), "MHz", 400, 1, 1e5, NULL, NULL,
	  "per-channel compute unit clock (energy.md: Cortex-R5-class SSD cores, 400-800 MHz; SimpleSSD 400 MHz)" },
	{ "unit.macs_per_cycle", CFG_DBL, O(unit_macs_per_cycle), "MAC/cycle", 1, 0.001, 1e6, NULL, NULL,
	  "fp32 multiply-accumulates per cycle (assumption: one FPU MAC per cycle, a Cortex-R5F-class core)" },
	{ "unit.sram_kib", CFG_DBL, O(unit_sram_kib), "KiB", 256, 0, 1e7, NULL, NULL,
	  "unit SRAM for model, gradient, page buffers, activations; the excess spills to SSD DRAM (assumption: 256 KiB of tightly coupled memory)" },
	{ "unit.mac_pj", CFG_DBL, O(unit_mac_pj), "pJ", 4.6, 0, 1e6, NULL, NULL,
	  "energy per fp32 MAC (energy.md: Horowitz ISSCC'14, 45 nm, fp32 mult 3.7 + add 0.9 pJ)" },
	{ "unit.sram_pj_byte", CFG_DBL, O(unit_sram_pj_byte), "pJ/byte", 2.5, 0, 1e6, NULL, NULL,
	  "unit SRAM energy per byte accessed, one 4-byte operand per MAC plus page data (energy.md: Horowitz, 32 KB SRAM 20 pJ per 64 bits)" },
	{ "unit.static_w", CFG_DBL, O(unit_static_w), "W", 0.1, 0, 1e3, NULL, NULL,
	  "static power per unit over the whole run (energy.md: Cortex-R5-class core ~0.1 W)" },
	{ "unit.zero_skip", CFG_BOOL, O(unit_zero_skip), "-", 1, 0, 1, NULL, NULL,
	  "units skip zero operands (zero pixels, ReLU zeros) and are charged the MACs they execute; same default as host.zero_skip and ndram.zero_skip" },
	{ "unit.format", CFG_ENUM, O(unit_format), "-", WL_NUM_FP32, 0, 0, NULL, wl_num_names,
	  "number format the units train in: fp32 (a Cortex-R5F FPU) or fixed (Qm.n, unit.int_bits / unit.frac_bits)" },
	{ "unit.int_bits", CFG_INT, O(unit_int_bits), "bits", 3, 0, 31, NULL, NULL,
	  "format = fixed: integer bits m of Qm.n, sign excluded (Q3.12 = 16-bit, Gupta et al. ICML 2015)" },
	{ "unit.frac_bits", CFG_INT, O(unit_frac_bits), "bits", 12, 0, 31, NULL, NULL,
	  "format = fixed: fraction bits n of Qm.n" },
	{ "unit.rounding", CFG_ENUM, O(unit_rounding), "-", WL_ROUND_STOCHASTIC, 0, 0, NULL, wl_round_names,
	  "format = fixed: rounding of every stored weight (stochastic: Gupta et al. 2015 train 16-bit fixed point at fp32 accuracy with it)" },
	{ "unit.word_bits", CFG_INT, O(unit_word_bits), "bits", 32, 8, 64, NULL, NULL,
	  "integer datapath width for digital BNN inference (Cortex-R5: 32-bit, Arm R5 TRM)" },
	{ "unit.word_ops_per_cycle", CFG_DBL, O(unit_word_ops_per_cycle), "word-op/cycle", 0.07, 0.001, 64, NULL, NULL,
	  "AND+popcount+add word-ops per cycle (assumption: ARMv7-R has no popcount instruction, a SWAR popcount is ~12 instructions, + AND + ADD at ~1 instruction per cycle)" },
	{ "unit.int_op_pj", CFG_DBL, O(unit_int_op_pj), "pJ", 0.1, 0, 1e6, NULL, NULL,
	  "energy per 32-bit integer operation (energy.md: Horowitz ISSCC'14, 45 nm, 32-bit add 0.1 pJ); a BNN word-op costs ops x this + one word from SRAM" },
	{ "unit.acc_bits", CFG_INT, O(unit_acc_bits), "bits", 32, 2, 64, NULL, NULL,
	  "popcount accumulator width; sums saturate (32-bit register)" },
	{ "unit.read_ahead", CFG_INT, O(unit_read_ahead), "minibatches", 2, 0, 64, NULL, NULL,
	  "minibatches of pages read ahead of the one being computed (assumption: double buffering plus one)" },
	{ "master.clock_mhz", CFG_DBL, O(master_clock_mhz), "MHz", 400, 1, 1e5, NULL, NULL,
	  "master (in the controller) clock (energy.md: SimpleSSD controller cores 400 MHz)" },
	{ "master.macs_per_cycle", CFG_DBL, O(master_macs_per_cycle), "op/cycle", 1, 0.001, 1e6, NULL, NULL,
	  "master fp32 operations per cycle for averaging / updates (assumption: one FPU op per cycle)" },
	{ "master.sram_kib", CFG_DBL, O(master_sram_kib), "KiB", 256, 0, 1e7, NULL, NULL,
	  "master SRAM for the global model and one incoming message; the excess spills to SSD DRAM (assumption, as unit.sram_kib)" },
	{ "master.op_pj", CFG_DBL, O(master_op_pj), "pJ", 4.6, 0, 1e6, NULL, NULL,
	  "energy per master operation (energy.md: Horowitz fp32 MAC ~4.6 pJ)" },
	{ "master.static_w", CFG_DBL, O(master_static_w), "W", 0.1, 0, 1e3, NULL, NULL,
	  "master static power, an added core (energy.md: ~0.1 W; 0 if the master is one of ssd.ctrl.cores)" },
	{ "bus.gb_s", CFG_DBL, O(bus_gb_s), "GB/s", 3.2, 0.001, 1e4, NULL, NULL,
	  "unit <-> master bus bandwidth, shared by all units (assumption: 64-bit on-chip bus at the 400 MHz controller clock)" },
	{ "bus.lat_ns", CFG_U64, O(bus_lat_ns), "ns", 100, 0, 1e9, NULL, NULL,
	  "per-message bus latency (assumption: 40 cycles at 400 MHz)" },
	{ "bus.pj_bit", CFG_DBL, O(bus_pj_bit), "pJ/bit", 2.5, 0, 1e4, NULL, NULL,
	  "bus energy per bit (energy.md: on-chip NoC hop 40 pJ per 16-bit word, TETRIS)" },
	{ "downpour.n_push", CFG_INT, O(n_push), "steps", 1, 1, 1000000, NULL, NULL,
	  "Downpour: push accumulated gradients every n_push steps (Dean et al. 2012, Alg. 7.1)" },
	{ "downpour.n_fetch", CFG_INT, O(n_fetch), "steps", 1, 1, 1000000, NULL, NULL,
	  "Downpour: fetch the global model every n_fetch steps (Dean et al. 2012, Alg. 7.1)" },
	{ "easgd.tau", CFG_INT, O(tau), "steps", 4, 1, 1000000, NULL, NULL,
	  "EASGD communication period (Zhang et al. 2015 try 1-64; 4 here)" },
	{ "easgd.beta", CFG_DBL, O(beta), "-", 0.9, 0, 1, NULL, NULL,
	  "EASGD moving rate beta, alpha = beta / channels (Zhang et al. 2015: beta = 0.9)" },
	{ "easgd.alpha", CFG_DBL, O(alpha), "-", -1, -1, 1, NULL, NULL,
	  "EASGD elastic rate alpha; < 0 = beta / channels" },
	{ "infer", CFG_BOOL, O(infer), "-", 1, 0, 1, NULL, NULL,
	  "after training, classify the test set in storage (units read it from flash; only the result crosses the host link)" },
	{ "result_bytes", CFG_U64, O(result_bytes), "bytes", 64, 1, 1e9, NULL, NULL,
	  "size of the inference result sent to the host (assumption: one 64-byte completion-sized message)" },
	CFG_END
};

static int ndp_check(const void *params, struct nd_err *err)
{
	const struct ndp_params *p = params;
	struct wl_numfmt f = { p->unit_format, p->unit_int_bits, p->unit_frac_bits, p->unit_rounding };
	return wl_numfmt_check(&f, "ndp.unit", err);
}

const struct cfg_section ndp_section = {
	"ndp", ndp_keys, sizeof(struct ndp_params), ndp_check
};
