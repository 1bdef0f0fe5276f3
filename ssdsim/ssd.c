/*
 * ssd.c — the SSD model's life cycle: geometry, tables, energy handles,
 * statistics and drain.  The model itself is split along its seams; see
 * ssd_int.h.
 */
#include "ssdsim/ssd_int.h"
#include "ssdsim/power_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

uint64_t ssd_capacity_bytes(const ssd *s) { return s->n_lpn * (uint64_t)s->p.map_unit_bytes; }

uint32_t ssd_unit_bytes(const ssd *s) { return (uint32_t)s->p.map_unit_bytes; }

int ssd_n_dies(const ssd *s) { return (int)s->n_dies; }

uint64_t ssd_channel_busy_ns(const ssd *s, int c) { return s->ch[c].busy_ns; }

uint64_t ssd_die_busy_ns(const ssd *s, int d) { return s->die[d].busy_ns; }

int ssd_create(const struct ssd_params *p, evq *q, struct energy_ledger *led,
	       uint64_t seed, ssd **out, struct nd_err *err)
{
	*out = NULL;
	ssd *s = xcalloc(1, sizeof *s);
	s->p = *p;
	s->q = q;
	if (!led) {
		s->own_led = xmalloc(sizeof *s->own_led);
		en_init(s->own_led);
		led = s->own_led;
	}
	s->led = led;
	rng_seed(&s->rng, seed, 0x55d);
	s->upp = (uint32_t)(p->page_bytes / p->map_unit_bytes);
	s->n_dies = (uint32_t)(p->channels * p->ways * p->dies);
	s->n_planes = s->n_dies * (uint32_t)p->planes;
	s->n_blocks = s->n_planes * (uint32_t)p->blocks;
	s->units_per_block = (uint32_t)p->pages * s->upp;
	s->n_units_phys = (uint64_t)s->n_blocks * s->units_per_block;
	/* Logical space: physical / (1 + op), less the blocks held back for
	 * the GC threshold and the two open blocks of every plane. */
	uint64_t reserve = (uint64_t)s->n_planes * (uint64_t)(p->gc_threshold_blocks + 2) *
			   s->units_per_block;
	uint64_t lpn = (uint64_t)((double)s->n_units_phys / (1.0 + p->op));
	if (lpn + reserve > s->n_units_phys)
		lpn = s->n_units_phys - reserve;
	s->n_lpn = lpn;
	s->prog_units = s->upp * (p->multiplane ? (uint32_t)p->planes : 1);
	if (s->prog_units > 1024) {
		uint32_t n = s->prog_units;
		free(s);
		return nd_errf(err, -EINVAL, "ssd: %u map units per program; at most 1024", n);
	}
	if (p->mapping == SSD_MAP_CACHED) {
		/* Translation pages: one flash page (upp units) per
		 * page_bytes / tpage_entry_bytes entries, out of the spare space. */
		uint64_t per_tp = (uint64_t)(p->page_bytes / p->tpage_entry_bytes);
		s->n_tunits = (s->n_lpn + per_tp - 1) / per_tp * s->upp;
		if (s->n_lpn + s->n_tunits > UINT32_MAX - 2 ||
		    s->n_lpn + s->n_tunits + reserve > s->n_units_phys) {
			uint64_t t = s->n_tunits;
			free(s->own_led);
			free(s);
			return nd_errf(err, -EINVAL,
				       "ssd.ftl.op: no room for the %llu map units of translation pages "
				       "(ssd.ftl.mapping=cached); raise ssd.ftl.op",
				       (unsigned long long)t);
		}
	}
	s->ch_bps = ssd_channel_bytes_per_s(p);
	s->link_bps = ssd_link_bytes_per_s(p);
	s->dram_bps = p->dram_mb_s * 1e6;
	s->t_xfer_unit_ns = nd_xfer_ns((uint64_t)p->map_unit_bytes, s->ch_bps);
	s->ctrl_ns = (uint64_t)llround(p->ctrl_cycles_per_cmd * 1000.0 / p->ctrl_clock_mhz);

	s->die = xcalloc(s->n_dies, sizeof *s->die);
	for (uint32_t d = 0; d < s->n_dies; d++)
		s->die[d].chan = d / (uint32_t)(p->ways * p->dies);
	s->ch = xcalloc((size_t)p->channels, sizeof *s->ch);
	s->core_free = xcalloc((size_t)p->ctrl_cores, sizeof *s->core_free);
	ftl_init(s);
	if (p->mapping == SSD_MAP_CACHED)
		cmt_init(s);

	s->bcap = (uint32_t)(p->buffer_mib * 1048576.0 / p->map_unit_bytes);
	s->bs = xcalloc(s->bcap, sizeof *s->bs);
	s->bfree = xmalloc(s->bcap * sizeof *s->bfree);
	for (uint32_t i = 0; i < s->bcap; i++)
		s->bfree[i] = s->bcap - 1 - i;
	s->nbfree = s->bcap;
	s->fifo = xmalloc(s->bcap * sizeof *s->fifo);
	uint32_t hs = 16;
	while (hs < 2 * s->bcap)
		hs *= 2;
	s->hash = xmalloc(hs * sizeof *s->hash);
	memset(s->hash, 0xff, hs * sizeof *s->hash);
	s->hmask = hs - 1;
	s->fop_size = (sizeof(struct fop) + s->prog_units * sizeof(uint32_t) + 7) & ~(size_t)7;

	/* Energy table: NAND V x I x t per operation, I/O current per byte. */
	double v = p->vcc;
	s->e_read = en_action(led, "nand", "read_page", v * p->i_read_ma * 1e-3 * (double)p->t_read_ns * 1e-9);
	s->e_prog = en_action(led, "nand", "program_page", v * p->i_prog_ma * 1e-3 * (double)p->t_prog_ns * 1e-9);
	s->e_erase = en_action(led, "nand", "erase_block", v * p->i_erase_ma * 1e-3 * (double)p->t_erase_ns * 1e-9);
	s->e_chan = en_action(led, "channel", "byte", v * p->i_io_ma * 1e-3 / s->ch_bps);
	s->e_dram = en_action(led, "ssd_dram", "byte", p->dram_pj_bit * 8e-12);
	s->e_link = en_action(led, "host_link", "byte", p->link_pj_bit * 8e-12);
	s->e_st_nand = en_static(led, "static", "nand_standby", v * p->i_standby_ua * 1e-6 * s->n_dies);
	s->e_st_ctrl = en_static(led, "static", "controller_cores", p->ctrl_core_w * p->ctrl_cores);
	s->e_st_dram = en_static(led, "static", "ssd_dram_background", p->dram_static_w);
	power_create(s);
	nand_init(s, seed);
	slc_init(s);

	s->timed = q != NULL;
	ftl_precondition(s);
	if (s->failed) {
		int rc = ssd_status(s, err);
		ssd_destroy(s);
		return rc;
	}
	ssd_reset_stats(s);
	*out = s;
	return 0;
}

void ssd_destroy(ssd *s)
{
	if (!s)
		return;
	power_destroy(s);
	nand_fini(s);
	for (size_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s->fop_stack);
	cmt_fini(s);
	slc_fini(s);
	ftl_fini(s);
	for (uint32_t d = 0; s->die && d < s->n_dies; d++)
		free(s->die[d].gcq), free(s->die[d].gcq_seq), free(s->die[d].mv);
	free(s->die);
	free(s->ch);
	free(s->core_free);
	free(s->bs);
	free(s->bfree);
	free(s->fifo);
	free(s->hash);
	free(s->own_led);
	free(s);
}

void ssd_drain(ssd *s)
{
	if (!s->q)
		return;
	evq_run(s->q, UINT64_MAX);
	buf_flush(s, 1, NULL);
	evq_run(s->q, UINT64_MAX);
	ND_ASSERT(!s->wait_head);
}

void ssd_reset_stats(ssd *s)
{
	memset(&s->st, 0, sizeof s->st);
	for (uint32_t d = 0; d < s->n_dies; d++)
		s->die[d].busy_ns = 0;
	for (int c = 0; c < s->p.channels; c++)
		s->ch[c].busy_ns = 0;
	for (int i = 0; i < s->led->n; i++) {
		s->led->e[i].count = 0;
		s->led->e[i].units = 0;
	}
	power_reset(s);
}

void ssd_get_stats(const ssd *s, struct ssd_stats *st)
{
	*st = s->st;
	st->map_entry_bits = s->l2p.wide ? 64 : 32;
	st->phys_units = s->n_units_phys;
	st->mapping = s->p.mapping;
	st->cmt_entries = cmt_entries(s);
	st->erase_min = s->erase_min;
	st->erase_max = s->erase_max;
	st->erase_mean = (double)((long double)s->erase_sum / s->n_blocks);
	st->erase_hist_n = 0;
	if (s->p.wl_dynamic || s->p.wl_static) {
		uint32_t w = s->erase_max / SSD_ERASE_HIST + 1;
		memset(st->erase_hist, 0, sizeof st->erase_hist);
		for (uint32_t e = 0; e <= s->erase_max; e++)
			st->erase_hist[e / w] += s->erase_cnt[e];
		st->erase_hist_width = w;
		st->erase_hist_n = s->erase_max / w + 1;
	}
	slc_get_stats(s, st);
	st->waf = st->host_write_units ?
		(double)st->prog_units_written / (double)st->host_write_units : 0.0;
}

void ssd_account_static(ssd *s, uint64_t t_ns)
{
	en_set_time(s->led, s->e_st_nand, t_ns);
	en_set_time(s->led, s->e_st_ctrl, t_ns);
	en_set_time(s->led, s->e_st_dram, t_ns);
	power_account(s, t_ns);
}
