/*
 * ndram.h — near-DRAM processing in a 3D-stacked memory, TETRIS-style
 * (Gao et al., ASPLOS'17): a logic die under the DRAM stack holds one PE
 * array per vault (14 x 14 PEs, a 133 KB global buffer, a 512 B register
 * file per PE) next to that vault's DRAM channel.  Cost path only: the
 * caller supplies what a job does (MACs, bytes streamed from the stack,
 * words exchanged between vaults, bytes that must first arrive from
 * outside) and gets time and energy.
 *
 * Time of a phase is its slowest stage (compute, in-stack bandwidth, the
 * inter-vault network), as GenStore and DeepStore do for pipelined
 * accelerators; data that must first come from the SSD is charged separately
 * by the caller (it crosses the SSD model).  Energy per action comes from the
 * TETRIS authors' nn_dataflow tables (shared/reference/energy.md): 16-bit
 * MAC 2 pJ, buffer access 14 pJ/word, register file 0.6 pJ/word, NoC hop
 * 40 pJ/word, in-stack DRAM 5 pJ/bit vs 15 pJ/bit off-chip, vault static
 * 200 pJ/cycle.
 */
#ifndef ND_NDRAM_H
#define ND_NDRAM_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/energy.h"

struct ndram_params {
	int vaults;
	int pe_rows, pe_cols;
	double clock_mhz;
	double pe_util;           /* fraction of peak MAC throughput achieved */
	double vault_gb_s;        /* in-stack bandwidth per vault */
	double capacity_gib;      /* stack capacity */
	double link_gb_s;         /* host <-> stack link (SerDes) */
	double buf_kib;           /* global buffer per vault */
	double e_mac_pj, e_buf_pj, e_rf_pj, e_noc_pj;
	double e_instack_pj_bit, e_offchip_pj_bit;
	double static_pj_cycle;   /* per vault */
	int rf_per_mac;           /* register-file accesses per MAC */
	int zero_skip;            /* PEs skip zero operands (costed so) */
	int format, int_bits, frac_bits, rounding;   /* training format, workloads/sgd.h */
	int word_bits;            /* PE datapath width (digital BNN) */
	double word_ops_per_cycle;/* XNOR+popcount word-ops per PE per cycle */
	int acc_bits;             /* PE accumulator width, saturating */
};

extern const struct cfg_section ndram_section;

/* What one phase of work does on the stack. */
struct ndram_job {
	uint64_t macs;            /* 16-bit multiply-accumulates */
	uint64_t stack_bytes;     /* bytes read/written in the DRAM stack */
	uint64_t buf_words;       /* 16-bit words through the global buffers */
	uint64_t noc_words;       /* 16-bit words crossing between vaults */
	uint64_t offchip_bytes;   /* bytes crossing the host <-> stack link */
	int static_by_caller;     /* 1: the caller charges static power over its own span */
};

struct ndram_cost {
	uint64_t t_ns;
	uint64_t t_compute_ns, t_stack_ns, t_noc_ns, t_link_ns;
	const char *bound;        /* "compute", "stack", "noc" or "link" */
};

/* Registers the component/action table in led (component "ndram"). */
void ndram_register(const struct ndram_params *p, struct energy_ledger *led);
/* Charges job to led (after ndram_register) and returns its time.  Static
 * energy is charged for the job's time on every vault. */
void ndram_run(const struct ndram_params *p, const struct ndram_job *job,
	       struct energy_ledger *led, struct ndram_cost *out);
/* Static power of the whole stack (every vault), W. */
double ndram_static_w(const struct ndram_params *p);
/* Peak MACs per second and capacity in bytes, for reports. */
double ndram_peak_macs(const struct ndram_params *p);
uint64_t ndram_capacity_bytes(const struct ndram_params *p);

#endif
