/*
 * nand.h — NAND cell behaviour beyond one tR / tPROG: page types, program
 * and erase suspend for reads, and raw bit errors with ECC and read retry
 * (the "ssd.nand.*" keys below; public because the parameters live inside
 * struct ssd_params).  Every feature is off by default (cell slc, suspend
 * off, ecc none): the drive then runs exactly the code it ran before.
 *
 * Page types.  An MLC/TLC/QLC word line holds 2/3/4 pages (LSB, CSB, MSB,
 * TSB) that read and program at different speeds.  The type of a page
 * follows from its index p in its block as MQSim (Flash_Chip.h) and
 * SimpleSSD (LatencyMLC/TLC.cc) assign it: MLC p % 2; TLC LSB for p <= 5,
 * CSB for p = 6, 7, then ((p - 8) / 2) % 3 (after Yaakobi et al., ICNC'12);
 * QLC (neither simulator has it) p % 4.  A multi-plane operation takes the
 * slowest of its pages' times.
 *
 * Suspend.  A host read that finds its die programming (erasing) waits
 * t_suspend_ns, runs, and the program resumes after t_resume_ns for the
 * time it had left; an operation is suspended at most max_suspends times.
 *
 * Bit errors.  A page read in a block with N program/erase cycles (the
 * drive's nand.pe_cycles plus the block's erases in this run), data age t
 * (nand.retention_days) and R reads since the block's last erase sees
 *   RBER = base + a_pe w^k_pe + a_ret w^m_ret t^n_ret + a_rd w^m_rd R,
 *   w = 1 + N / 1000,
 * the power-law form of Mielke et al. (IRPS'08: write errors and
 * retention loss grow as powers of the cycle count and of time) with the
 * read-disturb term of Cai et al. (DSN'15: errors grow about linearly with
 * the reads to a block, faster on worn blocks).  Each ECC codeword of
 * cw_bytes data + parity_bytes draws Binomial(bits, RBER) errors from the
 * drive's seeded error stream.  Decoding corrects up to t_hard bits; when
 * a codeword of the read has more, the die re-senses the page with the next
 * read-retry reference voltages (tR + transfer + decode again) up to
 * retry_max times, each retry scaling the RBER above base by retry_scale;
 * codewords still above t_hard get soft decoding (LDPC: soft_senses extra
 * senses + t_soft_dec_ns, corrects up to t_soft bits); the rest are
 * uncorrectable, and their raw errors are the residual errors of the read.
 */
#ifndef ND_SSD_NAND_H
#define ND_SSD_NAND_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/err.h"

enum ssd_cell { SSD_CELL_SLC, SSD_CELL_MLC, SSD_CELL_TLC, SSD_CELL_QLC };
enum ssd_suspend { SSD_SUSP_OFF, SSD_SUSP_PROGRAM, SSD_SUSP_ERASE, SSD_SUSP_BOTH };
enum ssd_ecc { SSD_ECC_NONE, SSD_ECC_BCH, SSD_ECC_LDPC };
enum { SSD_PT_LSB, SSD_PT_CSB, SSD_PT_MSB, SSD_PT_TSB, SSD_PAGE_TYPES };

struct ssd_nand_params {
	int cell;
	uint64_t t_read_pt_ns[SSD_PAGE_TYPES];   /* 0: not given */
	uint64_t t_prog_pt_ns[SSD_PAGE_TYPES];
	int suspend;
	uint64_t t_suspend_ns, t_resume_ns;
	int max_suspends;
	int ecc;
	int cw_bytes, parity_bytes;
	int t_hard, t_soft;
	uint64_t t_dec_ns, t_soft_dec_ns;
	int soft_senses;
	int retry_max;
	double retry_scale;
	double pe_cycles, retention_days;
	double rber_base, rber_pe_coef, rber_pe_exp;
	double rber_ret_coef, rber_ret_pe_exp, rber_ret_exp;
	double rber_rd_coef, rber_rd_pe_exp;
};

/* Bits per cell (page types in use) of a cell type. */
int ssd_cell_bits(int cell);
/* Page type (SSD_PT_*) of page index p within its block. */
int ssd_page_type(int cell, uint32_t p);
/* The RBER model above for N cycles, t days, R reads since erase. */
double ssd_rber(const struct ssd_nand_params *n, double cycles, double days, double reads);

/* Cross-key check of the nand keys (called from the ssd section's check).
 * p is a const struct ssd_params *. */
int ssd_nand_check(const void *p, struct nd_err *err);

/* What the NAND features did in a run (ssd_nand_get()). */
struct ssd_nand_report {
	int cell, suspend, ecc;
	uint64_t reads_by_type[SSD_PAGE_TYPES], progs_by_type[SSD_PAGE_TYPES];
	uint64_t suspensions, suspend_wait_ns;
	uint64_t ecc_page_reads;        /* pages sensed and decoded (first sense) */
	uint64_t codewords;             /* codewords decoded, first sense */
	uint64_t raw_bit_errors;        /* bit errors drawn on the first sense */
	double rber_model_mean;         /* mean model RBER over page reads (ssd_nand_get) */
	double rber_measured;           /* raw_bit_errors / bits read (ssd_nand_get) */
	uint64_t retry_steps;           /* re-senses for read retry */
	uint64_t reads_retried;         /* flash read operations that retried */
	uint64_t flash_read_ops;        /* flash read operations decoded */
	uint64_t soft_decodes;          /* codewords soft-decoded */
	uint64_t uncorrectable_cw;
	uint64_t uncorrectable_pages;
	uint64_t residual_bit_errors;   /* raw errors of uncorrectable codewords */
	double rber_sum;                /* sum of the model RBER over page reads */
};

struct ssd;
void ssd_nand_get(const struct ssd *s, struct ssd_nand_report *r);
struct cJSON;
/* Report object; NULL when every NAND feature is off. */
struct cJSON *ssd_nand_json(const struct ssd_nand_report *r);

/* The key rows of the "ssd" section for these features (spliced into the
 * section's table in params.c, where CFG_T is struct ssd_params). */
#define SSD_NAND_KEYS \
	CFG_KEY_ENUM("nand.cell", nx.cell, SSD_CELL_SLC, ssd_cell_names, \
	  "cell type: slc uses nand.t_read_ns / t_prog_ns for every page; mlc/tlc/qlc use the per-page-type times (page type from the page's index in its block, as MQSim and SimpleSSD)"), \
	CFG_KEY_U64("nand.t_read_lsb_ns", nx.t_read_pt_ns[0], "ns", 0, 0, 1e9, \
	  "tR of LSB pages (mlc/tlc/qlc; 0: not given. SimpleSSD MLC: 40 us)"), \
	CFG_KEY_U64("nand.t_read_csb_ns", nx.t_read_pt_ns[1], "ns", 0, 0, 1e9, \
	  "tR of CSB pages (tlc/qlc; 0: not given)"), \
	CFG_KEY_U64("nand.t_read_msb_ns", nx.t_read_pt_ns[2], "ns", 0, 0, 1e9, \
	  "tR of MSB pages (mlc/tlc/qlc; 0: not given. SimpleSSD MLC: 65 us)"), \
	CFG_KEY_U64("nand.t_read_tsb_ns", nx.t_read_pt_ns[3], "ns", 0, 0, 1e9, \
	  "tR of TSB pages (qlc; 0: not given)"), \
	CFG_KEY_U64("nand.t_prog_lsb_ns", nx.t_prog_pt_ns[0], "ns", 0, 0, 1e9, \
	  "tPROG of LSB pages (mlc/tlc/qlc; 0: not given. SimpleSSD MLC: 500 us)"), \
	CFG_KEY_U64("nand.t_prog_csb_ns", nx.t_prog_pt_ns[1], "ns", 0, 0, 1e9, \
	  "tPROG of CSB pages (tlc/qlc; 0: not given)"), \
	CFG_KEY_U64("nand.t_prog_msb_ns", nx.t_prog_pt_ns[2], "ns", 0, 0, 1e9, \
	  "tPROG of MSB pages (mlc/tlc/qlc; 0: not given. SimpleSSD MLC: 1300 us)"), \
	CFG_KEY_U64("nand.t_prog_tsb_ns", nx.t_prog_pt_ns[3], "ns", 0, 0, 1e9, \
	  "tPROG of TSB pages (qlc; 0: not given)"), \
	CFG_KEY_ENUM("nand.suspend", nx.suspend, SSD_SUSP_OFF, ssd_suspend_names, \
	  "let host reads suspend a running program, erase, or both (ONFI 4 / vendor program-erase suspend; MQSim CMD_Suspension_Support); needs nand.sched read_first"), \
	CFG_KEY_U64("nand.t_suspend_ns", nx.t_suspend_ns, "ns", 20000, 0, 1e8, \
	  "time from the suspend command until the die accepts the read (assumption: tens of us, the order of MQSim's Suspend_Program_Time and Wu & He, FAST'12)"), \
	CFG_KEY_U64("nand.t_resume_ns", nx.t_resume_ns, "ns", 1000, 0, 1e8, \
	  "overhead of resuming the suspended operation, added to its remaining time (assumption: ~1 us, a resume command and bias set-up)"), \
	CFG_KEY_INT("nand.max_suspends", nx.max_suspends, "suspensions", 3, 0, 1000, \
	  "most times one program or erase may be suspended; reads after that wait (assumption: bounds the program's latency, as vendor firmware does; 0 disables)"), \
	CFG_KEY_ENUM("nand.ecc.type", nx.ecc, SSD_ECC_NONE, ssd_ecc_names, \
	  "none: no bit errors modelled; bch: hard decoding only (t_hard); ldpc: hard, then soft decoding (t_soft)"), \
	CFG_KEY_INT("nand.ecc.cw_bytes", nx.cw_bytes, "bytes", 1024, 256, 16384, \
	  "data bytes per ECC codeword (1 KiB BCH/LDPC sectors of client controllers; a divisor of ssd.map_unit_bytes)"), \
	CFG_KEY_INT("nand.ecc.parity_bytes", nx.parity_bytes, "bytes", 128, 1, 16384, \
	  "parity bytes per codeword (assumption: 12.5 % of a 1 KiB codeword, within a 16 KiB + 2 KiB page's spare area)"), \
	CFG_KEY_INT("nand.ecc.t_hard", nx.t_hard, "bits", 72, 0, 1 << 20, \
	  "bit errors per codeword hard decoding corrects (BCH t; assumption 72 bits per 1 KiB, the class of BCH engines of MLC controllers; BCH needs t x ceil(log2(bits)) parity bits)"), \
	CFG_KEY_INT("nand.ecc.t_soft", nx.t_soft, "bits", 144, 0, 1 << 20, \
	  "bit errors per codeword soft LDPC decoding corrects (ldpc only; assumption: about 2x hard, Zhao et al., FAST'13 LDPC-in-SSD)"), \
	CFG_KEY_U64("nand.ecc.t_dec_ns", nx.t_dec_ns, "ns", 0, 0, 1e8, \
	  "hard-decision decode time after a page's data is across the channel (assumption 0: pipelined with the transfer; a measured figure can be set)"), \
	CFG_KEY_U64("nand.ecc.t_soft_dec_ns", nx.t_soft_dec_ns, "ns", 10000, 0, 1e9, \
	  "soft-decision decode time of a read that needs it (assumption: ~10 us of iterative LDPC decoding, Zhao et al., FAST'13)"), \
	CFG_KEY_INT("nand.ecc.soft_senses", nx.soft_senses, "senses", 2, 0, 16, \
	  "extra array senses (tR + transfer each) for soft information (Zhao et al., FAST'13: 2-6 extra reference levels)"), \
	CFG_KEY_INT("nand.retry.max_steps", nx.retry_max, "steps", 8, 0, 64, \
	  "read-retry steps before soft decoding: each re-senses with the next reference voltages (assumption: vendor retry tables hold ~8-15 entries; Park et al., ASPLOS'21)"), \
	CFG_KEY_DBL("nand.retry.rber_scale", nx.retry_scale, "-", 0.6, 0, 1, \
	  "factor on the RBER above base per retry step (assumption: moving the reference voltage towards the shifted distributions; Cai et al., HPCA'15 report large RBER cuts at the optimum)"), \
	CFG_KEY_DBL("nand.pe_cycles", nx.pe_cycles, "cycles", 0, 0, 1e6, \
	  "program/erase cycles every block has before the run (drive age; blocks add their erases of the run)"), \
	CFG_KEY_DBL("nand.retention_days", nx.retention_days, "days", 0, 0, 36500, \
	  "age of the data read (time since programmed), the same for every read: runs last seconds, so data written during the run is treated alike (a simplification)"), \
	CFG_KEY_DBL("nand.rber.base", nx.rber_base, "-", 1e-6, 0, 0.5, \
	  "RBER of a fresh, just-written block (assumption: order of Mielke et al. IRPS'08 and Cai et al. Proc. IEEE 2017 fresh-MLC figures)"), \
	CFG_KEY_DBL("nand.rber.pe_coef", nx.rber_pe_coef, "-", 5e-6, 0, 0.5, \
	  "a_pe: write (cycling) error term at w = 1; a_pe x 4^k_pe = 8e-5 at 3000 cycles with the defaults (assumption: Mielke et al. IRPS'08 power law, ~1e-4 at 3k cycles for 2x-nm MLC)"), \
	CFG_KEY_DBL("nand.rber.pe_exp", nx.rber_pe_exp, "-", 2, 0, 10, \
	  "k_pe: power of wear w in the write-error term (Mielke et al. IRPS'08: exponents between 1 and 2.5)"), \
	CFG_KEY_DBL("nand.rber.ret_coef", nx.rber_ret_coef, "-", 2e-5, 0, 0.5, \
	  "a_ret: retention-error coefficient at w = 1, 1 day (assumption: ~3e-3 at 3000 cycles and 1 year, the order of Cai et al. HPCA'15 2Y-nm MLC)"), \
	CFG_KEY_DBL("nand.rber.ret_pe_exp", nx.rber_ret_pe_exp, "-", 1, 0, 10, \
	  "m_ret: power of wear in the retention term (Mielke et al. IRPS'08: retention loss grows with prior cycling)"), \
	CFG_KEY_DBL("nand.rber.ret_exp", nx.rber_ret_exp, "-", 0.6, 0, 5, \
	  "n_ret: power of the data age in days (Mielke et al. IRPS'08; sub-linear growth with time)"), \
	CFG_KEY_DBL("nand.rber.rd_coef", nx.rber_rd_coef, "1/read", 1e-9, 0, 1, \
	  "a_rd: read-disturb errors per read to the block since its erase, at w = 1 (assumption: order of Cai et al. DSN'15, ~1e-4 after 100k reads)"), \
	CFG_KEY_DBL("nand.rber.rd_pe_exp", nx.rber_rd_pe_exp, "-", 1, 0, 10, \
	  "m_rd: power of wear in the read-disturb term (Cai et al. DSN'15: worn blocks disturb faster)")

extern const char *const ssd_cell_names[];
extern const char *const ssd_suspend_names[];
extern const char *const ssd_ecc_names[];

#endif
