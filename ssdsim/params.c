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

#define O(f) offsetof(struct ssd_params, f)

static const char *const iface_names[] = { "pcie", "sata", NULL };
static const char *const gc_names[] = { "greedy", "cost_benefit", NULL };
static const char *const sched_names[] = { "read_first", "fifo", NULL };
static const char *const alloc_names[] = { "static", "dynamic", NULL };

static const struct cfg_key ssd_keys[] = {
	{ "channels", CFG_INT, O(channels), "channels", 8, 1, 256, NULL, NULL,
	  "flash channels (MQSim default device: 8)" },
	{ "ways", CFG_INT, O(ways), "chips/channel", 4, 1, 64, NULL, NULL,
	  "chips (ways) per channel sharing its bus (MQSim: 4)" },
	{ "dies", CFG_INT, O(dies), "dies/chip", 2, 1, 16, NULL, NULL,
	  "dies per chip, each an independent NAND array (MQSim: 2)" },
	{ "planes", CFG_INT, O(planes), "planes/die", 2, 1, 16, NULL, NULL,
	  "planes per die (MQSim: 2)" },
	{ "blocks", CFG_INT, O(blocks), "blocks/plane", 256, 4, 65536, NULL, NULL,
	  "erase blocks per plane (MQSim: 2048; 256 here keeps the default drive at 64 GiB)" },
	{ "pages", CFG_INT, O(pages), "pages/block", 256, 2, 4096, NULL, NULL,
	  "pages per block (MQSim: 256)" },
	{ "page_bytes", CFG_INT, O(page_bytes), "bytes", 8192, 512, 65536, NULL, NULL,
	  "flash page size, a multiple of 512 and of the map unit (MQSim: 8 KiB)" },
	{ "map_unit_bytes", CFG_INT, O(map_unit_bytes), "bytes", 4096, 512, 65536, NULL, NULL,
	  "FTL mapping unit, several per flash page (4 KiB, the host sector cluster of NVMe drives)" },
	{ "nand.t_read_ns", CFG_U64, O(t_read_ns), "ns", 75000, 1, 1e9, NULL, NULL,
	  "array read time tR (MQSim default: 75 us)" },
	{ "nand.t_prog_ns", CFG_U64, O(t_prog_ns), "ns", 750000, 1, 1e9, NULL, NULL,
	  "page program time tPROG (MQSim default: 750 us)" },
	{ "nand.t_erase_ns", CFG_U64, O(t_erase_ns), "ns", 3800000, 1, 1e10, NULL, NULL,
	  "block erase time tBERS (MQSim default: 3.8 ms)" },
	{ "nand.multiplane", CFG_BOOL, O(multiplane), "-", 1, 0, 1, NULL, NULL,
	  "program all planes of a die together and merge same-die reads (ONFI multi-plane)" },
	{ "nand.sched", CFG_ENUM, O(sched), "-", SSD_SCHED_READ_FIRST, 0, 0, NULL, sched_names,
	  "die queue order: host reads before programs/erases/GC (as MQSim), or one FIFO" },
	{ "channel.rate_mts", CFG_DBL, O(channel_mts), "MT/s", 333, 1, 10000, NULL, NULL,
	  "channel transfer rate (MQSim default: 333 MT/s; ONFI 4: 800-1200)" },
	{ "channel.width_bits", CFG_INT, O(channel_width_bits), "bits", 8, 8, 64, NULL, NULL,
	  "channel bus width (ONFI/Toggle: 8 bits)" },
	{ "ctrl.cores", CFG_INT, O(ctrl_cores), "cores", 3, 1, 64, NULL, NULL,
	  "controller cores running the firmware path (SimpleSSD: 3)" },
	{ "ctrl.clock_mhz", CFG_DBL, O(ctrl_clock_mhz), "MHz", 400, 1, 10000, NULL, NULL,
	  "controller core clock (SimpleSSD: 400 MHz Cortex-R class)" },
	{ "ctrl.cycles_per_cmd", CFG_DBL, O(ctrl_cycles_per_cmd), "cycles", 800, 0, 1e9, NULL, NULL,
	  "firmware cycles per host command (assumption: 2 us at 400 MHz for HIL+FTL; override with a measured figure)" },
	{ "ctrl.core_w", CFG_DBL, O(ctrl_core_w), "W", 0.1, 0, 100, NULL, NULL,
	  "power per controller core while the drive is on (energy.md: Cortex-R5 class ~0.1 W)" },
	{ "dram.buffer_mib", CFG_DBL, O(buffer_mib), "MiB", 256, 0.015625, 65536, NULL, NULL,
	  "write-back buffer in the SSD DRAM (MQSim xml: 256 MiB); at least one multi-plane program" },
	{ "dram.write_through", CFG_BOOL, O(write_through), "-", 0, 0, 1, NULL, NULL,
	  "complete writes only when programmed (each request flushed at once, partial pages padded)" },
	{ "dram.bw_mb_s", CFG_DBL, O(dram_mb_s), "MB/s", 6400, 1, 1e6, NULL, NULL,
	  "SSD DRAM bandwidth (DDR3-1600 x32: 6.4 GB/s)" },
	{ "dram.lat_ns", CFG_U64, O(dram_lat_ns), "ns", 50, 0, 1e6, NULL, NULL,
	  "SSD DRAM access latency (DDR3 row miss, ~50 ns)" },
	{ "dram.pj_bit", CFG_DBL, O(dram_pj_bit), "pJ/bit", 15, 0, 1e4, NULL, NULL,
	  "SSD DRAM access energy (energy.md: DDR4 streaming ~15 pJ/bit, DRAMPower-derived)" },
	{ "dram.static_w", CFG_DBL, O(dram_static_w), "W", 0.05, 0, 100, NULL, NULL,
	  "SSD DRAM background power (assumption: one DDR3 device in self-refresh/idle, ~50 mW)" },
	{ "link.iface", CFG_ENUM, O(iface), "-", SSD_IF_PCIE, 0, 0, NULL, iface_names,
	  "host interface" },
	{ "link.pcie_gen", CFG_INT, O(pcie_gen), "gen", 3, 1, 6, NULL, NULL,
	  "PCIe generation (raw per lane: gen1 0.25, gen2 0.5, gen3 0.985, gen4 1.97, gen5 3.94 GB/s)" },
	{ "link.pcie_lanes", CFG_INT, O(pcie_lanes), "lanes", 4, 1, 32, NULL, NULL,
	  "PCIe lanes (NVMe M.2: x4)" },
	{ "link.efficiency", CFG_DBL, O(link_eff), "-", 0.8, 0.01, 1, NULL, NULL,
	  "usable fraction of raw PCIe bandwidth (energy.md: Gen3 x4 ~3.2 of 3.94 GB/s)" },
	{ "link.sata_mb_s", CFG_DBL, O(sata_mb_s), "MB/s", 550, 1, 1e5, NULL, NULL,
	  "usable SATA 6 Gb/s bandwidth (energy.md: ~0.55 GB/s)" },
	{ "link.lat_ns", CFG_U64, O(link_lat_ns), "ns", 1000, 0, 1e9, NULL, NULL,
	  "per-command link latency: doorbell, SQE fetch, CQE post (assumption ~1 us for PCIe)" },
	{ "link.pj_bit", CFG_DBL, O(link_pj_bit), "pJ/bit", 10, 0, 1e4, NULL, NULL,
	  "link energy per bit moved (energy.md: ~5 pJ/bit PHY, ~10 with controller)" },
	{ "ftl.op", CFG_DBL, O(op), "fraction", 0.07, 0.001, 4, NULL, NULL,
	  "over-provisioning, (physical - logical) / logical (client drives: 7 %)" },
	{ "ftl.gc_policy", CFG_ENUM, O(gc_policy), "-", SSD_GC_GREEDY, 0, 0, NULL, gc_names,
	  "victim choice: fewest valid units, or max (1-u)/2u x age (Rosenblum & Ousterhout)" },
	{ "ftl.gc_threshold_blocks", CFG_INT, O(gc_threshold_blocks), "blocks", 2, 1, 1000, NULL, NULL,
	  "GC runs in a plane when its free blocks fall to this count" },
	{ "ftl.alloc_order", CFG_STR, O(alloc_order), "-", 0, 0, 0, "CWDP", NULL,
	  "allocation order, fastest-varying first: a permutation of C(hannel) W(ay) D(ie) P(lane)" },
	{ "ftl.alloc_policy", CFG_ENUM, O(alloc_policy), "-", SSD_ALLOC_STATIC, 0, 0, NULL, alloc_names,
	  "program target: next in alloc_order (static, as MQSim's CWDP) or the least-loaded die (dynamic)" },
	{ "precondition.fill", CFG_DBL, O(pre_fill), "fraction", 0, 0, 1, NULL, NULL,
	  "fraction of the logical space written sequentially before the run (functional, no events)" },
	{ "precondition.overwrite", CFG_DBL, O(pre_overwrite), "x capacity", 0, 0, 100, NULL, NULL,
	  "random overwrites after the fill, in multiples of the logical capacity (reaches GC steady state)" },
	{ "precondition.trace", CFG_BOOL, O(pre_trace), "-", 1, 0, 1, NULL, NULL,
	  "trace replay: before the replay, write functionally every unit the trace reads before it first writes it (else such reads hit unmapped space)" },
	{ "energy.vcc", CFG_DBL, O(vcc), "V", 3.3, 0.5, 5, NULL, NULL,
	  "NAND supply voltage (Micron MT29F, as in SimpleSSD)" },
	{ "energy.i_read_ma", CFG_DBL, O(i_read_ma), "mA", 25, 0, 1000, NULL, NULL,
	  "NAND array read current (Micron MT29F: 25 mA)" },
	{ "energy.i_prog_ma", CFG_DBL, O(i_prog_ma), "mA", 25, 0, 1000, NULL, NULL,
	  "NAND program current (Micron MT29F: 25 mA)" },
	{ "energy.i_erase_ma", CFG_DBL, O(i_erase_ma), "mA", 25, 0, 1000, NULL, NULL,
	  "NAND erase current (Micron MT29F: 25 mA)" },
	{ "energy.i_io_ma", CFG_DBL, O(i_io_ma), "mA", 10, 0, 1000, NULL, NULL,
	  "NAND I/O current during bus transfers (Micron MT29F: 10 mA)" },
	{ "energy.i_standby_ua", CFG_DBL, O(i_standby_ua), "uA", 30, 0, 1e6, NULL, NULL,
	  "NAND standby current per die (Micron MT29F: 30 uA)" },
	{ "verify", CFG_BOOL, O(verify), "-", 0, 0, 1, NULL, NULL,
	  "keep a shadow record of every unit's version and check the mapping at the end" },
	SSD_POWER_KEYS,
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
	return ssd_power_check(p, err);
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
