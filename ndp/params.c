/*
 * params.c — the "ndp" config section (in-storage compute units, master,
 * internal bus, SGD variants).  Sources are named in each description;
 * "assumption" marks a value with no measured source, to be overridden.
 */
#include <errno.h>
#include <stddef.h>

#include "ndp/ndp.h"
#include "workloads/sgd.h"

#define CFG_T struct ndp_params

const char *const ndp_algo_names[] = { "sync", "downpour", "easgd", NULL };

static const struct cfg_key ndp_keys[] = {
	CFG_KEY_ENUM("algo", algo, NDP_SYNC, ndp_algo_names,
	  "parallel SGD over the channels: sync, downpour (Dean et al. 2012), easgd (Zhang et al. 2015) — the three of ISP-ML"),
	CFG_KEY_DBL("unit.clock_mhz", unit_clock_mhz, "MHz", 400, 1, 1e5,
	  "per-channel compute unit clock (energy.md: Cortex-R5-class SSD cores, 400-800 MHz; SimpleSSD 400 MHz)"),
	CFG_KEY_DBL("unit.macs_per_cycle", unit_macs_per_cycle, "MAC/cycle", 1, 0.001, 1e6,
	  "fp32 multiply-accumulates per cycle (assumption: one FPU MAC per cycle, a Cortex-R5F-class core)"),
	CFG_KEY_DBL("unit.sram_kib", unit_sram_kib, "KiB", 256, 0, 1e7,
	  "unit SRAM for model, gradient, page buffers, activations; the excess spills to SSD DRAM (assumption: 256 KiB of tightly coupled memory)"),
	CFG_KEY_DBL("unit.mac_pj", unit_mac_pj, "pJ", 4.6, 0, 1e6,
	  "energy per fp32 MAC (energy.md: Horowitz ISSCC'14, 45 nm, fp32 mult 3.7 + add 0.9 pJ)"),
	CFG_KEY_DBL("unit.sram_pj_byte", unit_sram_pj_byte, "pJ/byte", 2.5, 0, 1e6,
	  "unit SRAM energy per byte accessed, one 4-byte operand per MAC plus page data (energy.md: Horowitz, 32 KB SRAM 20 pJ per 64 bits)"),
	CFG_KEY_DBL("unit.static_w", unit_static_w, "W", 0.1, 0, 1e3,
	  "static power per unit over the whole run (energy.md: Cortex-R5-class core ~0.1 W)"),
	CFG_KEY_BOOL("unit.zero_skip", unit_zero_skip, 1,
	  "units skip zero operands (zero pixels, ReLU zeros) and are charged the MACs they execute; same default as host.zero_skip and ndram.zero_skip"),
	CFG_KEY_ENUM("unit.format", unit_format, WL_NUM_FP32, wl_num_names,
	  "number format the units train in: fp32 (a Cortex-R5F FPU) or fixed (Qm.n, unit.int_bits / unit.frac_bits)"),
	CFG_KEY_INT("unit.int_bits", unit_int_bits, "bits", 3, 0, 31,
	  "format = fixed: integer bits m of Qm.n, sign excluded (Q3.12 = 16-bit, Gupta et al. ICML 2015)"),
	CFG_KEY_INT("unit.frac_bits", unit_frac_bits, "bits", 12, 0, 31,
	  "format = fixed: fraction bits n of Qm.n"),
	CFG_KEY_ENUM("unit.rounding", unit_rounding, WL_ROUND_STOCHASTIC, wl_round_names,
	  "format = fixed: rounding of every stored weight (stochastic: Gupta et al. 2015 train 16-bit fixed point at fp32 accuracy with it)"),
	CFG_KEY_INT("unit.word_bits", unit_word_bits, "bits", 32, 8, 64,
	  "integer datapath width for digital BNN inference (Cortex-R5: 32-bit, Arm R5 TRM)"),
	CFG_KEY_DBL("unit.word_ops_per_cycle", unit_word_ops_per_cycle, "word-op/cycle", 0.07, 0.001, 64,
	  "AND+popcount+add word-ops per cycle (assumption: ARMv7-R has no popcount instruction, a SWAR popcount is ~12 instructions, + AND + ADD at ~1 instruction per cycle)"),
	CFG_KEY_DBL("unit.int_op_pj", unit_int_op_pj, "pJ", 0.1, 0, 1e6,
	  "energy per 32-bit integer operation (energy.md: Horowitz ISSCC'14, 45 nm, 32-bit add 0.1 pJ); a BNN word-op costs ops x this + one word from SRAM"),
	CFG_KEY_INT("unit.acc_bits", unit_acc_bits, "bits", 32, 2, 64,
	  "popcount accumulator width; sums saturate (32-bit register)"),
	CFG_KEY_INT("unit.read_ahead", unit_read_ahead, "minibatches", 2, 0, 64,
	  "minibatches of pages read ahead of the one being computed (assumption: double buffering plus one)"),
	CFG_KEY_DBL("master.clock_mhz", master_clock_mhz, "MHz", 400, 1, 1e5,
	  "master (in the controller) clock (energy.md: SimpleSSD controller cores 400 MHz)"),
	CFG_KEY_DBL("master.macs_per_cycle", master_macs_per_cycle, "op/cycle", 1, 0.001, 1e6,
	  "master fp32 operations per cycle for averaging / updates (assumption: one FPU op per cycle)"),
	CFG_KEY_DBL("master.sram_kib", master_sram_kib, "KiB", 256, 0, 1e7,
	  "master SRAM for the global model and one incoming message; the excess spills to SSD DRAM (assumption, as unit.sram_kib)"),
	CFG_KEY_DBL("master.op_pj", master_op_pj, "pJ", 4.6, 0, 1e6,
	  "energy per master operation (energy.md: Horowitz fp32 MAC ~4.6 pJ)"),
	CFG_KEY_DBL("master.static_w", master_static_w, "W", 0.1, 0, 1e3,
	  "master static power, an added core (energy.md: ~0.1 W; 0 if the master is one of ssd.ctrl.cores)"),
	CFG_KEY_DBL("bus.gb_s", bus_gb_s, "GB/s", 3.2, 0.001, 1e4,
	  "unit <-> master bus bandwidth, shared by all units (assumption: 64-bit on-chip bus at the 400 MHz controller clock)"),
	CFG_KEY_U64("bus.lat_ns", bus_lat_ns, "ns", 100, 0, 1e9,
	  "per-message bus latency (assumption: 40 cycles at 400 MHz)"),
	CFG_KEY_DBL("bus.pj_bit", bus_pj_bit, "pJ/bit", 2.5, 0, 1e4,
	  "bus energy per bit (energy.md: on-chip NoC hop 40 pJ per 16-bit word, TETRIS)"),
	CFG_KEY_INT("downpour.n_push", n_push, "steps", 1, 1, 1000000,
	  "Downpour: push accumulated gradients every n_push steps (Dean et al. 2012, Alg. 7.1)"),
	CFG_KEY_INT("downpour.n_fetch", n_fetch, "steps", 1, 1, 1000000,
	  "Downpour: fetch the global model every n_fetch steps (Dean et al. 2012, Alg. 7.1)"),
	CFG_KEY_INT("easgd.tau", tau, "steps", 4, 1, 1000000,
	  "EASGD communication period (Zhang et al. 2015 try 1-64; 4 here)"),
	CFG_KEY_DBL("easgd.beta", beta, "-", 0.9, 0, 1,
	  "EASGD moving rate beta, alpha = beta / channels (Zhang et al. 2015: beta = 0.9)"),
	CFG_KEY_DBL("easgd.alpha", alpha, "-", -1, -1, 1,
	  "EASGD elastic rate alpha; < 0 = beta / channels"),
	CFG_KEY_BOOL("infer", infer, 1,
	  "after training, classify the test set in storage (units read it from flash; only the result crosses the host link)"),
	CFG_KEY_U64("result_bytes", result_bytes, "bytes", 64, 1, 1e9,
	  "size of the inference result sent to the host (assumption: one 64-byte completion-sized message)"),
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
