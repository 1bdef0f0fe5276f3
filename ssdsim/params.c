/*
 * params.c — the "ssd" config section.  Defaults are MQSim's default device
 * (FAST'18, its ssdconfig.xml) except blocks per plane (256 instead of 2048,
 * so the default drive is 64 GiB and preconditions in a second); the full
 * MQSim device is configs/mqsim-default.json.  Energy currents are Micron
 * MT29F-class datasheet values as used by SimpleSSD.  See configs/README.md.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/util.h"
#include "ssdsim/ssd.h"

#define CFG_T struct ssd_params

static const char *const iface_names[] = { "pcie", "sata", NULL };
static const char *const gc_names[] = { "greedy", "cost_benefit", "random", "fifo", "d_choices",
					 NULL };
static const char *const sched_names[] = { "read_first", "fifo", NULL };
static const char *const alloc_names[] = { "static", "dynamic", NULL };
static const char *const mapping_names[] = { "ideal", "cached", NULL };
static const char *const slc_full_names[] = { "direct", "fold", NULL };
static const char *const pre_method_names[] = { "exact", "steady", NULL };

static const struct cfg_key ssd_keys[] = {
	CFG_KEY_INT("channels", channels, "channels", 8, 1, 256,
	  "flash channels (MQSim default device: 8)"),
	CFG_KEY_INT("ways", ways, "chips/channel", 4, 1, 64,
	  "chips (ways) per channel sharing its bus (MQSim: 4)"),
	CFG_KEY_INT("dies", dies, "dies/chip", 2, 1, 16,
	  "dies per chip, each an independent NAND array (MQSim: 2)"),
	CFG_KEY_INT("planes", planes, "planes/die", 2, 1, 16,
	  "planes per die (MQSim: 2)"),
	CFG_KEY_INT("blocks", blocks, "blocks/plane", 256, 4, 65536,
	  "erase blocks per plane (MQSim: 2048; 256 here keeps the default drive at 64 GiB)"),
	CFG_KEY_INT("pages", pages, "pages/block", 256, 2, 4096,
	  "pages per block (MQSim: 256)"),
	CFG_KEY_INT("page_bytes", page_bytes, "bytes", 8192, 512, 65536,
	  "flash page size, a multiple of 512 and of the map unit (MQSim: 8 KiB)"),
	CFG_KEY_INT("map_unit_bytes", map_unit_bytes, "bytes", 4096, 512, 65536,
	  "FTL mapping unit, several per flash page (4 KiB, the host sector cluster of NVMe drives)"),
	CFG_KEY_U64("nand.t_read_ns", t_read_ns, "ns", 75000, 1, 1e9,
	  "array read time tR (MQSim default: 75 us)"),
	CFG_KEY_U64("nand.t_prog_ns", t_prog_ns, "ns", 750000, 1, 1e9,
	  "page program time tPROG (MQSim default: 750 us)"),
	CFG_KEY_U64("nand.t_erase_ns", t_erase_ns, "ns", 3800000, 1, 1e10,
	  "block erase time tBERS (MQSim default: 3.8 ms)"),
	CFG_KEY_BOOL("nand.multiplane", multiplane, 1,
	  "program all planes of a die together and merge same-die reads (ONFI multi-plane)"),
	CFG_KEY_ENUM("nand.sched", sched, SSD_SCHED_READ_FIRST, sched_names,
	  "die queue order: host reads before programs/erases/GC (as MQSim), or one FIFO"),
	CFG_KEY_DBL("channel.rate_mts", channel_mts, "MT/s", 333, 1, 10000,
	  "channel transfer rate (MQSim default: 333 MT/s; ONFI 4: 800-1200)"),
	CFG_KEY_INT("channel.width_bits", channel_width_bits, "bits", 8, 8, 64,
	  "channel bus width (ONFI/Toggle: 8 bits)"),
	CFG_KEY_INT("ctrl.cores", ctrl_cores, "cores", 3, 1, 64,
	  "controller cores running the firmware path (SimpleSSD: 3)"),
	CFG_KEY_DBL("ctrl.clock_mhz", ctrl_clock_mhz, "MHz", 400, 1, 10000,
	  "controller core clock (SimpleSSD: 400 MHz Cortex-R class)"),
	CFG_KEY_DBL("ctrl.cycles_per_cmd", ctrl_cycles_per_cmd, "cycles", 800, 0, 1e9,
	  "firmware cycles per host command (assumption: 2 us at 400 MHz for HIL+FTL; override with a measured figure)"),
	CFG_KEY_DBL("ctrl.core_w", ctrl_core_w, "W", 0.1, 0, 100,
	  "power per controller core while the drive is on (energy.md: Cortex-R5 class ~0.1 W)"),
	CFG_KEY_DBL("dram.buffer_mib", buffer_mib, "MiB", 256, 0.015625, 65536,
	  "write-back buffer in the SSD DRAM (MQSim xml: 256 MiB); at least one multi-plane program"),
	CFG_KEY_BOOL("dram.write_through", write_through, 0,
	  "complete writes only when programmed (each request flushed at once, partial pages padded)"),
	CFG_KEY_DBL("dram.bw_mb_s", dram_mb_s, "MB/s", 6400, 1, 1e6,
	  "SSD DRAM bandwidth (DDR3-1600 x32: 6.4 GB/s)"),
	CFG_KEY_U64("dram.lat_ns", dram_lat_ns, "ns", 50, 0, 1e6,
	  "SSD DRAM access latency (DDR3 row miss, ~50 ns)"),
	CFG_KEY_DBL("dram.pj_bit", dram_pj_bit, "pJ/bit", 15, 0, 1e4,
	  "SSD DRAM access energy (energy.md: DDR4 streaming ~15 pJ/bit, DRAMPower-derived)"),
	CFG_KEY_DBL("dram.static_w", dram_static_w, "W", 0.05, 0, 100,
	  "SSD DRAM background power (assumption: one DDR3 device in self-refresh/idle, ~50 mW)"),
	CFG_KEY_DBL("dram.capacity_mib", dram_capacity_mib, "MiB", 512, 1, 1048576,
	  "SSD DRAM size; the write buffer plus the CMT must fit (checked with ftl.mapping=cached; Samsung 970 EVO 500 GB datasheet: 512 MB LPDDR4)"),
	CFG_KEY_ENUM("link.iface", iface, SSD_IF_PCIE, iface_names,
	  "host interface"),
	CFG_KEY_INT("link.pcie_gen", pcie_gen, "gen", 3, 1, 6,
	  "PCIe generation (raw per lane: gen1 0.25, gen2 0.5, gen3 0.985, gen4 1.97, gen5 3.94 GB/s)"),
	CFG_KEY_INT("link.pcie_lanes", pcie_lanes, "lanes", 4, 1, 32,
	  "PCIe lanes (NVMe M.2: x4)"),
	CFG_KEY_DBL("link.efficiency", link_eff, "-", 0.8, 0.01, 1,
	  "usable fraction of raw PCIe bandwidth (energy.md: Gen3 x4 ~3.2 of 3.94 GB/s)"),
	CFG_KEY_DBL("link.sata_mb_s", sata_mb_s, "MB/s", 550, 1, 1e5,
	  "usable SATA 6 Gb/s bandwidth (energy.md: ~0.55 GB/s)"),
	CFG_KEY_U64("link.lat_ns", link_lat_ns, "ns", 1000, 0, 1e9,
	  "per-command link latency: doorbell, SQE fetch, CQE post (assumption ~1 us for PCIe)"),
	CFG_KEY_DBL("link.pj_bit", link_pj_bit, "pJ/bit", 10, 0, 1e4,
	  "link energy per bit moved (energy.md: ~5 pJ/bit PHY, ~10 with controller)"),
	CFG_KEY_DBL("ftl.op", op, "fraction", 0.07, 0.001, 4,
	  "over-provisioning, (physical - logical) / logical (client drives: 7 %)"),
	CFG_KEY_ENUM("ftl.gc_policy", gc_policy, SSD_GC_GREEDY, gc_names,
	  "victim choice among full blocks with an invalid unit: greedy (fewest valid; first such), "
	  "cost_benefit (max (1-u)/2u x age, Rosenblum & Ousterhout SOSP'91), random (uniform), fifo "
	  "(longest full), d_choices (fewest valid of gc_window uniform draws, MQSim's RGA; Van Houdt "
	  "SIGMETRICS'13)"),
	CFG_KEY_INT("ftl.gc_window", gc_window, "blocks", 8, 1, 65536,
	  "d_choices: blocks drawn (uniformly, with replacement) per victim choice (MQSim's RGA "
	  "policy has the same set-size parameter; 8 is an assumption: d = 1 is random, large d "
	  "approaches greedy)"),
	CFG_KEY_BOOL("ftl.copyback", copyback, 0,
	  "GC moves with the die's copyback (internal data move: read into the page register, "
	  "program from it, same plane), so no channel transfer (ONFI copyback read/program; "
	  "MQSim Use_Copyback_for_GC); off: data crosses the channel both ways"),
	CFG_KEY_INT("ftl.gc_threshold_blocks", gc_threshold_blocks, "blocks", 2, 1, 1000,
	  "GC runs in a plane when its free blocks fall to this count (with gc_preempt: the soft "
	  "threshold, GC in the background)"),
	CFG_KEY_BOOL("ftl.gc_preempt", gc_preempt, 0,
	  "preemptible GC (MQSim, Tavakkol et al. FAST'18, Preemptible_GC_Enabled; semi-preemptive GC, "
	  "Lee et al. ISPASS'11): a die serves queued host operations before GC page "
	  "moves while its planes keep more than gc_hard_threshold_blocks erased blocks (also with "
	  "nand.ecc on: a GC read draws its bit errors when its die starts it); off: GC operations "
	  "queue in order with host programs"),
	CFG_KEY_INT("ftl.gc_hard_threshold_blocks", gc_hard_threshold_blocks, "blocks", 1, 0, 1000,
	  "gc_preempt: at or below this many erased free blocks in a plane (erases still queued "
	  "not counted) its die runs programs, erases and GC moves in queue order, GC not preempted "
	  "(MQSim's GC_Hard_Threshold is a fraction; 1 block is an assumption)"),
	CFG_KEY_BOOL("ftl.wl.dynamic", wl_dynamic, 0,
	  "dynamic wear levelling: a plane opens its least-worn erased block (MQSim "
	  "Dynamic_Wearleveling_Enabled; Chang, DAC'07 survey); off: the most recently erased"),
	CFG_KEY_BOOL("ftl.wl.static", wl_static, 0,
	  "static wear levelling: after a GC victim, if the plane's erase-count spread exceeds "
	  "wl.threshold, its least-worn full block (cold data) is collected like a victim, the moves "
	  "counted in WAF (MQSim Static_Wearleveling_Enabled; Chang et al. 'Endurance enhancement "
	  "of flash-memory storage systems', DAC'07)"),
	CFG_KEY_INT("ftl.wl.threshold", wl_threshold, "erases", 16, 1, 100000,
	  "static wear levelling: erase-count spread (most-worn minus least-worn full block) of a "
	  "plane that triggers a migration (MQSim Static_Wearleveling_Threshold default 100; 16 is "
	  "an assumption for short runs)"),
	CFG_KEY_STR("ftl.alloc_order", alloc_order, "-", "CWDP",
	  "allocation order, fastest-varying first: a permutation of C(hannel) W(ay) D(ie) P(lane)"),
	CFG_KEY_ENUM("ftl.alloc_policy", alloc_policy, SSD_ALLOC_STATIC, alloc_names,
	  "program target: next in alloc_order (static, as MQSim's CWDP) or the least-loaded die (dynamic)"),
	CFG_KEY_ENUM("ftl.mapping", mapping, SSD_MAP_IDEAL, mapping_names,
	  "page map: whole table in DRAM at no cost (ideal), or DFTL's cached mapping table with translation pages in flash (cached; Gupta et al. ASPLOS'09, MQSim's CMT)"),
	CFG_KEY_U64("ftl.cmt_bytes", cmt_bytes, "bytes", 2097152, 1, 1e12,
	  "cached mapping table size in SSD DRAM, ftl.mapping=cached (MQSim ssdconfig.xml CMT_Capacity: 2 MiB)"),
	CFG_KEY_INT("ftl.cmt_entry_bytes", cmt_entry_bytes, "bytes", 8, 4, 64,
	  "DRAM per cached mapping entry (DFTL: 4-byte logical + 4-byte physical page number)"),
	CFG_KEY_INT("ftl.tpage_entry_bytes", tpage_entry_bytes, "bytes", 4, 2, 64,
	  "bytes per entry in a translation page; page_bytes / this entries per page (DFTL: 4-byte physical page number)"),
	CFG_KEY_DBL("precondition.fill", pre_fill, "fraction", 0, 0, 1,
	  "fraction of the logical space written sequentially before the run (functional, no events)"),
	CFG_KEY_DBL("precondition.overwrite", pre_overwrite, "x capacity", 0, 0, 100,
	  "random overwrites after the fill, in multiples of the logical capacity (reaches GC steady state)"),
	CFG_KEY_ENUM("precondition.method", pre_method, SSD_PRE_EXACT, pre_method_names,
	  "how precondition.overwrite is reached: exact (every overwrite written functionally with "
	  "real GC) or steady (the block valid-count distribution of a mean-field model of uniform "
	  "random overwrites under greedy GC, Van Houdt SIGMETRICS'13 / Desnoyers SYSTOR'12, placed "
	  "directly, the fill's uncollected blocks kept implicit; greedy and cost_benefit only, needs precondition.fill > 0; see "
	  "ssdsim/precond.c)"),
	CFG_KEY_BOOL("precondition.trace", pre_trace, 1,
	  "trace replay: before the replay, write functionally every unit the trace reads before it first writes it (else such reads hit unmapped space)"),
	CFG_KEY_DBL("energy.vcc", vcc, "V", 3.3, 0.5, 5,
	  "NAND supply voltage (Micron MT29F, as in SimpleSSD)"),
	CFG_KEY_DBL("energy.i_read_ma", i_read_ma, "mA", 25, 0, 1000,
	  "NAND array read current (Micron MT29F: 25 mA)"),
	CFG_KEY_DBL("energy.i_prog_ma", i_prog_ma, "mA", 25, 0, 1000,
	  "NAND program current (Micron MT29F: 25 mA)"),
	CFG_KEY_DBL("energy.i_erase_ma", i_erase_ma, "mA", 25, 0, 1000,
	  "NAND erase current (Micron MT29F: 25 mA)"),
	CFG_KEY_DBL("energy.i_io_ma", i_io_ma, "mA", 10, 0, 1000,
	  "NAND I/O current during bus transfers (Micron MT29F: 10 mA)"),
	CFG_KEY_DBL("energy.i_standby_ua", i_standby_ua, "uA", 30, 0, 1e6,
	  "NAND standby current per die (Micron MT29F: 30 uA)"),
	/* SLC write cache (slc.c) */
	CFG_KEY_BOOL("slc.enable", slc.enable, 0,
	  "SLC write cache (Samsung TurboWrite, WD nCache): host programs run in SLC mode "
	  "(slc.t_prog_ns) while the cache has room; the cached pages are folded into TLC (an SLC "
	  "read + a TLC program each, counted in WAF) when no host command is outstanding"),
	CFG_KEY_U64("slc.static_bytes", slc.static_bytes, "bytes", 0, 0, 1e15,
	  "static SLC cache, always available (Samsung 980 PRO 1 TB data sheet: 6 GB TurboWrite "
	  "default region)"),
	CFG_KEY_DBL("slc.dynamic_frac", slc.dynamic_frac, "fraction", 0, 0, 1,
	  "dynamic SLC cache, in SLC bytes per byte of unwritten logical space (Samsung 980 PRO "
	  "1 TB data sheet: 108 GB Intelligent TurboWrite region on the empty 1000 GB drive: 0.108)"),
	CFG_KEY_U64("slc.t_prog_ns", slc.t_prog_ns, "ns", 250000, 1, 1e9,
	  "page program time in SLC mode (HP 'SSD technology differences between SLC, MLC and TLC "
	  "NAND' white paper, shared/reference/ssd.md: SLC 200-300 us)"),
	CFG_KEY_U64("slc.t_read_ns", slc.t_read_ns, "ns", 25000, 1, 1e9,
	  "array read time of a page programmed in SLC mode and not folded yet (same white paper: "
	  "SLC tR 25 us)"),
	CFG_KEY_ENUM("slc.when_full", slc.when_full, SSD_SLC_DIRECT, slc_full_names,
	  "cache full: host programs go straight to TLC (direct, the 980 PRO's 'after TurboWrite' "
	  "speed), or the die first folds as many of its oldest cached pages (fold)"),
	CFG_KEY_BOOL("verify", verify, 0,
	  "keep a shadow record of every unit's version and check the mapping at the end"),
	SSD_POWER_KEYS,
	SSD_NAND_KEYS,
	CFG_END
};

static int is_perm_cwdp(const char *s)
{
	if (strlen(s) != 4)
		return 0;
	const char *want = "CWDP";
	for (int i = 0; i < 4; i++)
		if (!strchr(s, want[i]))
			return 0;
	return 1;
}

static int ssd_check(const void *vp, struct nd_err *err)
{
	const struct ssd_params *p = vp;
	if (p->page_bytes % 512)
		return nd_errf(err, -EINVAL, "ssd.page_bytes: %d is not a multiple of 512",
			       p->page_bytes);
	if (p->map_unit_bytes % 512)
		return nd_errf(err, -EINVAL, "ssd.map_unit_bytes: %d is not a multiple of 512",
			       p->map_unit_bytes);
	if (p->page_bytes % p->map_unit_bytes)
		return nd_errf(err, -EINVAL,
			       "ssd.page_bytes: %d is not a multiple of ssd.map_unit_bytes (%d)",
			       p->page_bytes, p->map_unit_bytes);
	if (!is_perm_cwdp(p->alloc_order))
		return nd_errf(err, -EINVAL,
			       "ssd.ftl.alloc_order: \"%s\" is not a permutation of CWDP",
			       p->alloc_order);
	/* Flash pages and logical units are 32-bit numbers in the model;
	 * physical map units use 64-bit entries when they pass 2^32 - 2 (the
	 * report then says map_entry_bits 64). */
	long double pages = (long double)p->channels * p->ways * p->dies * p->planes *
			    p->blocks * p->pages;
	long double units = pages * (p->page_bytes / p->map_unit_bytes);
	if (pages >= 4294967295.0L)
		return nd_errf(err, -EINVAL,
			       "ssd.blocks: geometry has %.0Lf flash pages; at most 2^32-2 are supported "
			       "(fewer blocks or pages, or larger pages)", pages);
	if (units / (1.0L + (long double)p->op) >= 4294967295.0L)
		return nd_errf(err, -EINVAL,
			       "ssd.blocks: geometry has %.0Lf logical map units; at most 2^32-2 are "
			       "supported (larger ssd.map_unit_bytes or fewer blocks)",
			       units / (1.0L + (long double)p->op));
	if (p->gc_threshold_blocks + 2 >= p->blocks)
		return nd_errf(err, -EINVAL,
			       "ssd.ftl.gc_threshold_blocks: %d leaves no room in %d blocks per plane",
			       p->gc_threshold_blocks, p->blocks);
	if (p->gc_preempt && p->gc_hard_threshold_blocks >= p->gc_threshold_blocks)
		return nd_errf(err, -EINVAL,
			       "ssd.ftl.gc_hard_threshold_blocks: %d must be below "
			       "ssd.ftl.gc_threshold_blocks (%d) with ssd.ftl.gc_preempt on",
			       p->gc_hard_threshold_blocks, p->gc_threshold_blocks);
	double prog_bytes = (double)p->page_bytes * (p->multiplane ? p->planes : 1);
	if (p->buffer_mib * 1048576.0 < prog_bytes)
		return nd_errf(err, -EINVAL,
			       "ssd.dram.buffer_mib: %g MiB is smaller than one program (%g bytes)",
			       p->buffer_mib, prog_bytes);
	/* Spare blocks per plane must cover the GC reserve plus the open blocks. */
	double spare = (double)p->blocks * p->op / (1.0 + p->op);
	if (spare < p->gc_threshold_blocks + 2)
		return nd_errf(err, -EINVAL,
			       "ssd.ftl.op: %g leaves %.1f spare blocks per plane; GC needs at least %d "
			       "(threshold + 2 open blocks)", p->op, spare, p->gc_threshold_blocks + 2);
	if (p->pre_method == SSD_PRE_STEADY && p->pre_overwrite > 0) {
		if (p->gc_policy != SSD_GC_GREEDY && p->gc_policy != SSD_GC_COST_BENEFIT)
			return nd_errf(err, -EINVAL,
				       "ssd.precondition.method: steady models greedy GC (and cost_benefit, "
				       "which picks as greedy while preconditioning); use exact with "
				       "ssd.ftl.gc_policy=%s", gc_names[p->gc_policy]);
		if (p->pre_fill <= 0)
			return nd_errf(err, -EINVAL,
				       "ssd.precondition.method: steady models overwrites of a filled "
				       "range; set ssd.precondition.fill > 0 (e.g. 1) or use exact");
	}
	if (p->mapping == SSD_MAP_CACHED) {
		double dram = p->dram_capacity_mib * 1048576.0, buf = p->buffer_mib * 1048576.0;
		if ((double)p->cmt_bytes + buf > dram)
			return nd_errf(err, -EINVAL,
				       "ssd.ftl.cmt_bytes: %llu bytes of CMT plus the %g MiB write buffer "
				       "(ssd.dram.buffer_mib) do not fit in the %g MiB SSD DRAM "
				       "(ssd.dram.capacity_mib); shrink either or raise the DRAM",
				       (unsigned long long)p->cmt_bytes, p->buffer_mib,
				       p->dram_capacity_mib);
		if (p->cmt_bytes < (uint64_t)p->cmt_entry_bytes)
			return nd_errf(err, -EINVAL,
				       "ssd.ftl.cmt_bytes: %llu bytes hold no %d-byte entry "
				       "(ssd.ftl.cmt_entry_bytes)", (unsigned long long)p->cmt_bytes,
				       p->cmt_entry_bytes);
		if (p->page_bytes % p->tpage_entry_bytes)
			return nd_errf(err, -EINVAL,
				       "ssd.ftl.tpage_entry_bytes: %d does not divide ssd.page_bytes (%d)",
				       p->tpage_entry_bytes, p->page_bytes);
	}
	if (p->slc.enable && p->slc.t_prog_ns >= p->t_prog_ns)
		return nd_errf(err, -EINVAL,
			       "ssd.slc.t_prog_ns: %llu ns is not below the TLC/MLC program time "
			       "(ssd.nand.t_prog_ns %llu ns); an SLC-mode program is the fast one",
			       (unsigned long long)p->slc.t_prog_ns, (unsigned long long)p->t_prog_ns);
	if (p->slc.enable && p->slc.t_read_ns >= p->t_read_ns)
		return nd_errf(err, -EINVAL,
			       "ssd.slc.t_read_ns: %llu ns is not below the array read time "
			       "(ssd.nand.t_read_ns %llu ns)",
			       (unsigned long long)p->slc.t_read_ns, (unsigned long long)p->t_read_ns);
	int rc = ssd_power_check(p, err);
	return rc ? rc : ssd_nand_check(p, err);
}

const struct cfg_section ssd_section = {
	"ssd", ssd_keys, sizeof(struct ssd_params), ssd_check
};

double ssd_link_bytes_per_s(const struct ssd_params *p)
{
	if (p->iface == SSD_IF_SATA)
		return p->sata_mb_s * 1e6;
	static const double raw_gb_s[] = { 0, 0.25, 0.5, 0.985, 1.969, 3.938, 7.877 };
	return raw_gb_s[p->pcie_gen] * 1e9 * p->pcie_lanes * p->link_eff;
}

double ssd_channel_bytes_per_s(const struct ssd_params *p)
{
	return p->channel_mts * 1e6 * (p->channel_width_bits / 8.0);
}
