/*
 * host.c — host interface: command fetch over the link, controller cores,
 * the request stages (dispatch, data in, flash, link out, done) and the
 * read path (buffer hits, page reads merged into multi-plane reads).
 */
#include "ssdsim/ssd_int.h"
#include "ssdsim/power_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static void req_event(evq *q, struct evq_event *ev);

uint64_t host_dram_reserve(ssd *s, uint64_t bytes)
{
	uint64_t t = nd_max_u64(evq_now(s->q), s->dram_free);
	s->dram_free = t + nd_xfer_ns(bytes, s->dram_bps);
	en_add_units(s->led, s->e_dram, (double)bytes);
	return s->dram_free + s->p.dram_lat_ns;
}

static void sched_req(ssd *s, struct ssd_req *r, uint64_t t, int stage)
{
	r->priv.stage = (uint8_t)stage;
	int rc = evq_schedule(s->q, &r->priv.ev, t, req_event);
	ND_ASSERT(rc == 0);
}

static void complete(ssd *s, struct ssd_req *r)
{
	r->t_done_ns = evq_now(s->q);
	if (s->pw && r->path == SSD_PATH_HOST)
		power_cmd_end(s, r);
	if (s->slc && r->path == SSD_PATH_HOST)
		slc_host_end(s);
	r->done(s, r);
}

/* All flash and buffer work of a request is done (or scheduled to be done by
 * t_data_ns): move on to the host link or complete. */
void host_finish_stage(ssd *s, struct ssd_req *r)
{
	uint64_t now = evq_now(s->q);
	uint64_t t = nd_max_u64(now, r->priv.t_data_ns);
	if (r->path == SSD_PATH_INTERNAL || r->is_write) {
		if (t > now)
			sched_req(s, r, t, ST_DONE);
		else
			complete(s, r);
		return;
	}
	sched_req(s, r, t, ST_LINK);
}

/* Reads: group units into page reads, same-die pages into multi-plane ops. */
static void dispatch_read(ssd *s, struct ssd_req *r, uint64_t first, uint64_t n)
{
	uint32_t ub = (uint32_t)s->p.map_unit_bytes;
	struct fop *ops[64];
	uint32_t nops = 0;
	uint64_t hit_bytes = 0;
	uint64_t u = first % s->n_lpn;   /* (first + i) % n_lpn, without a division each */
	for (uint64_t i = 0; i < n; i++, u = u + 1 == s->n_lpn ? 0 : u + 1) {
		uint32_t lpn = (uint32_t)u;
		s->st.host_read_units += r->path == SSD_PATH_HOST;
		s->st.read_units++;
		if (buf_find(s, lpn) != NONE) {
			s->st.buffer_read_hits++;
			hit_bytes += ub;
			continue;
		}
		uint64_t pua = ftl_read_pua(s, lpn);   /* GC may not have moved it yet */
		if (pua == PUA_NONE) {
			s->st.unmapped_reads++;
			continue;
		}
		uint32_t page = pua_page_fast(s, pua), plane = page_plane_fast(s, page);
		uint32_t die = plane_die_fast(s, plane);
		struct fop *f = NULL;
		for (uint32_t k = 0; k < nops && !f; k++) {
			if (ops[k]->die != die)
				continue;
			for (uint32_t j = 0; j < ops[k]->npages; j++)
				if (ops[k]->ids[j] == page)
					f = ops[k];
			if (f || !s->p.multiplane || ops[k]->npages >= (uint32_t)s->p.planes)
				continue;
			int clash = 0;
			for (uint32_t j = 0; j < ops[k]->npages; j++)
				clash |= page_plane_fast(s, ops[k]->ids[j]) == plane;
			if (!clash) {
				f = ops[k];
				f->ids[f->npages++] = page;
				s->st.flash_read_pages++;
			}
		}
		if (!f) {
			if (nops == ND_ARRAY_LEN(ops)) {
				/* Very large request: queue what we have and go on. */
				for (uint32_t k = 0; k < nops; k++)
					flash_enqueue(s, ops[k], 1);
				nops = 0;
			}
			f = flash_new_op(s, OP_READ, die);
			f->req = r;
			f->ids[f->npages++] = page;
			s->st.flash_read_pages++;
			r->priv.pending++;
			ops[nops++] = f;
		}
		f->xfer_bytes += ub;
	}
	if (hit_bytes)
		r->priv.t_data_ns = nd_max_u64(r->priv.t_data_ns, host_dram_reserve(s, hit_bytes));
	for (uint32_t k = 0; k < nops; k++)
		flash_enqueue(s, ops[k], 1);
}

void host_read_flash(ssd *s, struct ssd_req *r)
{
	uint64_t first = unit_of(s, r->off_bytes);
	uint64_t n = unit_of(s, r->off_bytes + r->len_bytes - 1) - first + 1;
	/* Count ops before enqueueing any, so an op finishing at once cannot
	 * complete the request early. */
	r->priv.pending = 1;
	dispatch_read(s, r, first, n);
	/* Flash data passes through the DRAM buffer on its way out. */
	if (r->path == SSD_PATH_HOST)
		en_add_units(s->led, s->e_dram, (double)r->len_bytes);
	if (--r->priv.pending == 0)
		host_finish_stage(s, r);
}

static void dispatch(ssd *s, struct ssd_req *r)
{
	uint64_t first = unit_of(s, r->off_bytes);
	uint64_t last = unit_of(s, r->off_bytes + r->len_bytes - 1);
	uint64_t n = last - first + 1;
	r->priv.t_data_ns = evq_now(s->q);
	if (!r->is_write) {
		/* With a cached mapping table, misses read their translation
		 * pages first (cmt.c calls host_read_flash() after them). */
		if (s->cmt && cmt_read_lookup(s, r, first, n))
			return;
		host_read_flash(s, r);
		return;
	}
	r->priv.units_left = (uint32_t)n;
	r->priv.next_unit = first;
	r->priv.pending = 1;
	int all_in = !s->wait_head && buf_admit(s, r);
	r->priv.pending--;
	if (!all_in) {
		r->priv.wait_next = NULL;
		if (s->wait_tail)
			s->wait_tail->priv.wait_next = r;
		else
			s->wait_head = r;
		s->wait_tail = r;
		return;
	}
	if (r->priv.pending == 0)
		host_finish_stage(s, r);
}

/* Moves bytes over one direction of the host link (free_ns: its next-free
 * time); returns when they are across. */
static uint64_t link_xfer(ssd *s, uint64_t *free_ns, uint64_t *stat, uint32_t bytes)
{
	uint64_t t = nd_max_u64(evq_now(s->q), *free_ns);
	if (bytes != s->link_memo_bytes) {   /* requests mostly share a size */
		s->link_memo_bytes = bytes;
		s->link_memo_ns = nd_xfer_ns(bytes, s->link_bps);
	}
	*free_ns = t + s->link_memo_ns;
	*stat += bytes;
	en_add_units(s->led, s->e_link, (double)bytes);
	return *free_ns;
}

static void req_event(evq *q, struct evq_event *ev)
{
	struct ssd_req *r = container_of(ev, struct ssd_req, priv.ev);
	ssd *s = r->priv.owner;
	switch (r->priv.stage) {
	case ST_DISPATCH:
		if (r->is_write && r->path == SSD_PATH_HOST) {
			/* The controller pulls the data over the host link. */
			sched_req(s, r, link_xfer(s, &s->h2d_free, &s->st.link_bytes_h2d,
						  r->len_bytes), ST_DATA_IN);
			return;
		}
		dispatch(s, r);
		return;
	case ST_DATA_IN:
		dispatch(s, r);
		return;
	case ST_LINK:
		sched_req(s, r, link_xfer(s, &s->d2h_free, &s->st.link_bytes_d2h,
					  r->len_bytes), ST_DONE);
		return;
	default:
		complete(s, r);
		return;
	}
}

int ssd_submit(ssd *s, struct ssd_req *r)
{
	if (r->len_bytes == 0 || !s->q)
		return -EINVAL;
	uint64_t now = evq_now(s->q);
	r->priv.owner = s;
	r->t_submit_ns = now;
	r->t_done_ns = 0;
	r->resid_bit_errors = 0;
	r->uncorrectable_cw = 0;
	r->priv.pending = 0;
	r->priv.units_left = 0;
	r->priv.xjoined = 0;
	r->priv.t_data_ns = now;
	r->priv.ev.slot = 0;
	uint64_t cap = ssd_capacity_bytes(s);
	if (r->off_bytes >= cap)
		r->off_bytes %= cap;
	if (r->path == SSD_PATH_INTERNAL) {
		s->st.internal_read_bytes += r->is_write ? 0 : r->len_bytes;
		dispatch(s, r);
		return 0;
	}
	if (s->slc)
		slc_host_begin(s);
	/* Command fetch over the link, then a controller core runs the
	 * firmware path (earliest-free core). */
	uint64_t t_cmd = now + s->p.link_lat_ns + (s->pw ? power_cmd_begin(s, r) : 0);
	int best = 0;
	for (int i = 1; i < s->p.ctrl_cores; i++)
		if (s->core_free[i] < s->core_free[best])
			best = i;
	uint64_t start = nd_max_u64(t_cmd, s->core_free[best]);
	s->core_free[best] = start + s->ctrl_ns;
	sched_req(s, r, s->core_free[best], ST_DISPATCH);
	return 0;
}
