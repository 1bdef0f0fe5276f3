/*
 * ssd.h — discrete-event model of a multi-channel NAND SSD.
 *
 * Geometry: channels x ways (chips per channel) x dies x planes x blocks x
 * pages of page_bytes, mapped in units of map_unit_bytes (several units per
 * flash page).  Timing (all integer ns): a read holds its die for tR and
 * then, still holding the die (the page register is busy until read out),
 * the channel for the transfer; a program holds the die, moves its data over
 * the channel, then holds the die for tPROG; an erase holds the die for
 * tBERS.  Multi-plane operations on one die share one tR / tPROG.  Host
 * commands cross a PCIe/SATA link (per-command latency + bandwidth, one
 * resource per direction), take a controller core for the firmware path and
 * use the DRAM write-back buffer (reads of buffered data hit it).  The FTL
 * maps pages (page-level, one entry per map unit), allocates in a
 * configurable channel/way/die/plane order, and reclaims space with greedy
 * or cost-benefit garbage collection triggered by a free-block threshold.
 *
 * Contention: every resource (die, channel, link direction, controller core,
 * DRAM) keeps its next-free time; only real completions become events.  The
 * model charges the energy ledger for every action (see ssd_energy docs in
 * configs/README.md); with ssd.power.enable it also models controller, PHY
 * and idle power and enforces an NVMe power state's cap (power.h).
 */
#ifndef ND_SSD_H
#define ND_SSD_H

#include <stdint.h>
#include <stdio.h>

#include "core/cfg.h"
#include "core/energy.h"
#include "core/err.h"
#include "core/evq.h"
#include "ssdsim/nand.h"
#include "ssdsim/power.h"

enum ssd_iface { SSD_IF_PCIE, SSD_IF_SATA };
enum ssd_gc_policy {
	SSD_GC_GREEDY, SSD_GC_COST_BENEFIT, SSD_GC_RANDOM, SSD_GC_FIFO, SSD_GC_DCHOICES
};
enum ssd_sched { SSD_SCHED_READ_FIRST, SSD_SCHED_FIFO };
enum ssd_alloc { SSD_ALLOC_STATIC, SSD_ALLOC_DYNAMIC };
enum ssd_mapping { SSD_MAP_IDEAL, SSD_MAP_CACHED };
/* precondition.method: functional overwrites with GC, or the model state */
enum ssd_pre_method { SSD_PRE_EXACT, SSD_PRE_STEADY };
enum ssd_slc_full { SSD_SLC_DIRECT, SSD_SLC_FOLD };

/* SLC write cache (slc.c; Samsung TurboWrite / WD nCache style): host
 * programs run in SLC mode while the cache has room and are folded into
 * TLC (an SLC read + a TLC program of the page) when the host is idle. */
struct ssd_slc_params {
	int enable;
	uint64_t static_bytes;    /* SLC bytes always available */
	double dynamic_frac;      /* + SLC bytes per byte of unwritten logical space */
	uint64_t t_prog_ns, t_read_ns;
	int when_full;            /* enum ssd_slc_full */
};

struct ssd_params {
	/* geometry */
	int channels, ways, dies, planes, blocks, pages;
	int page_bytes, map_unit_bytes;
	/* NAND timing */
	uint64_t t_read_ns, t_prog_ns, t_erase_ns;
	double channel_mts;
	int channel_width_bits;
	int multiplane;
	int sched;
	/* controller */
	int ctrl_cores;
	double ctrl_clock_mhz;
	double ctrl_cycles_per_cmd;
	double ctrl_core_w;
	/* DRAM buffer */
	double buffer_mib;
	int write_through;
	double dram_mb_s;
	uint64_t dram_lat_ns;
	double dram_pj_bit;
	double dram_static_w;
	double dram_capacity_mib; /* holds buffer + CMT (checked with mapping=cached) */
	/* host link */
	int iface;
	int pcie_gen, pcie_lanes;
	double link_eff;
	double sata_mb_s;
	uint64_t link_lat_ns;
	double link_pj_bit;
	/* FTL */
	double op;
	int gc_policy;
	int gc_threshold_blocks;
	int gc_window;             /* d of d_choices */
	int gc_preempt;
	int wl_dynamic, wl_static, wl_threshold;
	int gc_hard_threshold_blocks;
	int copyback;
	char alloc_order[CFG_STR_MAX];
	int alloc_policy;
	/* cached mapping table (DFTL; cmt.c) */
	int mapping;              /* enum ssd_mapping */
	uint64_t cmt_bytes;
	int cmt_entry_bytes, tpage_entry_bytes;
	/* preconditioning (functional, no events) */
	double pre_fill;
	double pre_overwrite;
	int pre_trace;            /* trace replay: write what is read before written */
	int pre_method;           /* enum ssd_pre_method */
	/* NAND energy (V x I x t) */
	double vcc;
	double i_read_ma, i_prog_ma, i_erase_ma, i_io_ma, i_standby_ua;
	int verify;
	/* drive power model and budget (power.h) */
	struct ssd_power_params pw;
	/* page types, suspend, bit errors (nand.h) */
	struct ssd_nand_params nx;
	struct ssd_slc_params slc;
};

extern const struct cfg_section ssd_section;

/* Link bandwidth in bytes/s implied by the parameters. */
double ssd_link_bytes_per_s(const struct ssd_params *p);
/* Channel bandwidth in bytes/s (MT/s x bus width). */
double ssd_channel_bytes_per_s(const struct ssd_params *p);

typedef struct ssd ssd;
struct ssd_req;
typedef void (*ssd_done_fn)(ssd *s, struct ssd_req *r);

enum ssd_path {
	SSD_PATH_HOST,     /* host command: link + controller + buffer/flash */
	SSD_PATH_INTERNAL, /* in-storage consumer: flash -> channel only */
};

/* The SSD's bookkeeping inside a request: set up by ssd_submit(), never to
 * be read or written by callers. */
struct ssd_req_priv {
	struct evq_event ev;
	ssd *owner;
	uint8_t stage;
	struct ssd_req *wait_next;
	uint32_t pending;
	uint32_t units_left;   /* write units not yet admitted to the buffer */
	uint64_t next_unit;
	uint64_t t_data_ns;
	uint32_t xlate_left;   /* translation reads the data reads wait for */
	uint8_t xjoined;       /* waits on another request's translation read */
};

/* A request.  The caller owns the memory, fills the fields up to t_done_ns
 * and keeps it alive until done() is called. */
struct ssd_req {
	uint64_t off_bytes;
	uint32_t len_bytes;
	uint8_t is_write;
	uint8_t path;          /* enum ssd_path */
	ssd_done_fn done;
	void *arg;
	/* Optional (NULL: none; callers zero the request), reads with
	 * nand.ecc.type on: called once for every map unit the request reads
	 * from flash (logical unit number, raw bit errors left in it after
	 * decoding: 0 when all its codewords decoded), when its flash read is
	 * queued, so before done(); consumers apply them at done(). */
	void (*unit_errors)(struct ssd_req *r, uint64_t unit, uint32_t resid_bits);
	uint64_t t_submit_ns;  /* set by ssd_submit */
	uint64_t t_done_ns;    /* set before done() */
	/* Reads with nand.ecc.type on, set before done(): raw bit errors left
	 * in the data returned (those of its uncorrectable codewords) and the
	 * count of such codewords; 0 when every codeword decoded. */
	uint32_t resid_bit_errors;
	uint32_t uncorrectable_cw;
	struct ssd_req_priv priv;   /* the SSD's; do not touch */
};

/* Creates the drive.  q and led are borrowed and must outlive the drive.
 * q may be NULL: an FTL-only drive (no timing, no events; ssd_submit()
 * refuses) for placing data and preconditioning: ssd_write_functional(),
 * ssd_unit_channel(), ssd_get_stats(), ssd_verify() work as on a timed
 * drive.  led may be NULL (the drive keeps a ledger of its own).
 * Preconditioning from the parameters is done here.  Returns 0 or -EINVAL
 * (impossible geometry) / -ENOSPC (preconditioning ran out of space, see
 * ssd_status) with err set. */
int ssd_create(const struct ssd_params *p, evq *q, struct energy_ledger *led,
	       uint64_t seed, ssd **out, struct nd_err *err);
void ssd_destroy(ssd *s);

/* Logical capacity in bytes (map units x unit size). */
uint64_t ssd_capacity_bytes(const ssd *s);
uint32_t ssd_unit_bytes(const ssd *s);

/* Submits at the current simulated time.  Offsets beyond the capacity wrap.
 * Returns 0 or -EINVAL for a zero-length request or an FTL-only drive. */
int ssd_submit(ssd *s, struct ssd_req *r);

/* Writes map units [first, first + n) functionally (no time, no events), as
 * if written long ago: used to place data sets and to precondition. */
void ssd_write_functional(ssd *s, uint64_t first_unit, uint64_t n);

/* Writes the listed map units (each < capacity) functionally, packed into
 * full programs in list order; as ssd_write_functional(). */
void ssd_write_functional_list(ssd *s, const uint64_t *units, size_t n);

/* Channel (0..channels-1) that holds a logical unit now, -1 if unmapped or
 * buffered only. */
int ssd_unit_channel(const ssd *s, uint64_t unit);

/* 0 while the drive works; -ENOSPC with err set once a plane ran out of
 * space (more valid data than garbage collection can make room around: the
 * over-provisioning is too small for this workload).  After a failure no
 * more data is placed, requests still complete so the event loop ends, and
 * every result of the run is void: callers check this after a run. */
int ssd_status(const ssd *s, struct nd_err *err);

/* Writes every buffered unit to flash (partial pages padded) and runs the
 * event queue until the drive is idle. */
void ssd_drain(ssd *s);

/* Clears the statistics (after preconditioning or a warm-up). */
void ssd_reset_stats(ssd *s);

/* Integrity check of the shadow record (params.verify must be on): every
 * written logical unit maps to a valid physical unit holding its latest
 * version and no valid physical unit is orphaned.  Returns 0, or -EBADMSG
 * with err describing the first problems and the counts. */
int ssd_verify(ssd *s, struct nd_err *err);

struct ssd_stats {
	uint64_t host_read_units, host_write_units;
	uint64_t buffer_read_hits, unmapped_reads;
	uint64_t read_units;       /* read map units, host and in-storage paths */
	uint64_t flash_read_pages, flash_prog_pages, flash_erases;
	uint64_t prog_units_written, gc_units_moved, gc_count;
	uint64_t wl_migrations;    /* static wear levelling: blocks migrated */
	/* With wear levelling on (else n 0): blocks per erase-count bin, bin k
	 * holding erase counts [k w, (k + 1) w), w = erase_hist_width. */
#define SSD_ERASE_HIST 32
	uint32_t erase_hist_n, erase_hist_width;
	uint64_t erase_hist[SSD_ERASE_HIST];
	uint64_t pad_units;
	uint64_t erase_min, erase_max;
	double erase_mean;
	double waf;
	uint64_t internal_read_bytes;
	uint64_t link_bytes_h2d, link_bytes_d2h;
	uint64_t channel_bytes;
	uint32_t map_entry_bits;   /* 32, or 64 when physical units pass 2^32 - 2 */
	uint64_t phys_units;       /* physical map units of the geometry */
	struct ssd_nand_report nand;   /* nand.h features (zeros when off) */
	/* ftl.mapping=cached (zeros with ideal): CMT look-ups of host and
	 * in-storage reads and of placed writes (GC moves not counted), and
	 * translation-page flash traffic (reads before data reads, for
	 * write misses and before write-backs; programs of write-backs) */
	int mapping;
	uint64_t cmt_entries, cmt_hits, cmt_misses;
	uint64_t xlate_read_pages, xlate_prog_pages;
	/* ssd.slc (zeros when off): host programs in SLC mode, host programs
	 * straight to TLC (cache full), pages and units folded SLC -> TLC,
	 * flash reads served from SLC pages, cache size (pages) at the end */
	int slc_on;
	uint64_t slc_prog_pages, slc_direct_pages, slc_fold_pages, slc_fold_units;
	uint64_t slc_read_pages, slc_cap_pages, slc_cached_pages;
};
void ssd_get_stats(const ssd *s, struct ssd_stats *st);

/* Busy time of channel c / die d since the last reset, ns. */
uint64_t ssd_channel_busy_ns(const ssd *s, int c);
uint64_t ssd_die_busy_ns(const ssd *s, int d);
int ssd_n_dies(const ssd *s);

/* Sets the static energy entries to the elapsed time t_ns. */
void ssd_account_static(ssd *s, uint64_t t_ns);

#endif
