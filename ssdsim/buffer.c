/*
 * buffer.c — the DRAM write-back buffer: admits written units (overwrites
 * of a dirty unit stay in place), flushes them into full programs, releases
 * slots when a program completes and wakes writers waiting for room.
 */
#include "ssdsim/ssd_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static void buf_hash_set(ssd *s, uint32_t lpn, uint32_t slot)
{
	for (uint32_t i = hslot(s, lpn);; i = (i + 1) & s->hmask) {
		uint64_t e = s->hash[i];
		if ((uint32_t)e == NONE || (uint32_t)(e >> 32) == lpn) {
			s->hash[i] = (uint64_t)lpn << 32 | slot;
			return;
		}
	}
}

/* Removes lpn's entry if it points at slot (backward-shift deletion). */
static void buf_hash_del(ssd *s, uint32_t lpn, uint32_t slot)
{
	uint32_t i = hslot(s, lpn);
	for (;; i = (i + 1) & s->hmask) {
		uint64_t e = s->hash[i];
		if ((uint32_t)e == NONE)
			return;
		if ((uint32_t)(e >> 32) == lpn)
			break;
	}
	if ((uint32_t)s->hash[i] != slot)
		return;
	uint32_t j = i;
	for (;;) {
		s->hash[i] = UINT64_MAX;
		for (;;) {
			j = (j + 1) & s->hmask;
			uint64_t e = s->hash[j];
			if ((uint32_t)e == NONE)
				return;
			uint32_t h = hslot(s, (uint32_t)(e >> 32));
			/* Move e back to i if its home is not in (i, j]. */
			if (i <= j ? (h <= i || h > j) : (h <= i && h > j))
				break;
		}
		s->hash[i] = s->hash[j];
		i = j;
	}
}

void buf_release(ssd *s, uint32_t slot)
{
	struct bslot *b = &s->bs[slot];
	ND_ASSERT(b->state == BS_INFLIGHT);
	buf_hash_del(s, b->lpn, slot);
	b->state = BS_FREE;
	s->bfree[s->nbfree++] = slot;
}

/* The buffer cycles through all its slots (768 KiB of them on the MQSim
 * preset) and its hash (1 MiB) between two uses of one, so releasing a
 * program's units one by one is a chain of misses: slot, then the hash
 * line its unit points at, then the next slot.  The slots are fetched when
 * the program starts (buf_prefetch_slots()), and all the hash lines here
 * before the first release, so their misses overlap. */
void buf_release_all(ssd *s, const uint32_t *slots, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		nd_prefetch_w(&s->hash[hslot(s, s->bs[slots[i]].lpn)]);
	for (uint32_t i = 0; i < n; i++)
		buf_release(s, slots[i]);
}

void buf_prefetch_slots(const ssd *s, const uint32_t *slots, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		nd_prefetch_w(&s->bs[slots[i]]);
}

/* Issues programs for dirty buffered units: full program units only, or
 * everything (the last page padded) when forced.  Programs issued for a
 * write-through request count towards its completion. */
void buf_flush(ssd *s, int force, struct ssd_req *owner)
{
	uint32_t lp[1024], vr[1024], slots[1024];
	while (s->fifo_n >= s->prog_units || (force && s->fifo_n > 0)) {
		uint32_t n = s->fifo_n < s->prog_units ? s->fifo_n : s->prog_units;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t b = s->fifo[s->fifo_head];
			if (++s->fifo_head == s->bcap)
				s->fifo_head = 0;
			s->fifo_n--;
			s->bs[b].state = BS_INFLIGHT;
			slots[i] = b;
			lp[i] = s->bs[b].lpn;
			vr[i] = s->bs[b].ver;
		}
		struct fop *f = ftl_program(s, lp, vr, n);
		f->nslots = n;
		memcpy(f->ids, slots, n * sizeof *slots);
		if (owner) {
			f->req = owner;
			owner->priv.pending++;
		}
		flash_enqueue(s, f, 0);
	}
}

/* Admits as many of r's units into the buffer as there is room for.
 * Returns 1 when all are in. */
int buf_admit(ssd *s, struct ssd_req *r)
{
	uint32_t ub = (uint32_t)s->p.map_unit_bytes;
	uint32_t admitted = 0;
	while (r->priv.units_left) {
		uint32_t lpn = req_lpn(s, r->priv.next_unit);
		uint32_t b = buf_find(s, lpn);
		if (b != NONE && s->bs[b].state == BS_DIRTY && !s->p.write_through) {
			/* Overwrite in place: no new space needed. */
			s->bs[b].ver = ftl_ver_next(s, lpn);
		} else {
			if (s->nbfree == 0)
				break;
			b = s->bfree[--s->nbfree];
			s->bs[b].lpn = lpn;
			s->bs[b].ver = ftl_ver_next(s, lpn);
			s->bs[b].state = BS_DIRTY;
			buf_hash_set(s, lpn, b);
			uint32_t at = s->fifo_head + s->fifo_n;   /* < 2 bcap */
			s->fifo[at < s->bcap ? at : at - s->bcap] = b;
			s->fifo_n++;
		}
		s->st.host_write_units++;
		r->priv.next_unit++;
		r->priv.units_left--;
		admitted++;
	}
	if (admitted)
		r->priv.t_data_ns = nd_max_u64(r->priv.t_data_ns, host_dram_reserve(s, (uint64_t)admitted * ub));
	if (s->p.write_through)
		buf_flush(s, 1, r);
	else
		buf_flush(s, 0, NULL);
	return r->priv.units_left == 0;
}

/* Writers waiting for buffer room are admitted a program's worth at a
 * time, each then programmed at once: for the next program's writers
 * fetch the mapping entry and hash slot of their first unit (these are
 * random places in tables of hundreds of MiB and 1 MiB), and for this
 * program's the old home the entry fetched last time points at
 * (ftl_prefetch_home()), so the misses of ftl_program() and of the hash
 * probes overlap the work before them instead of stalling it.  Hints
 * only: nothing here changes the model. */
static void prefetch_waiters(ssd *s)
{
	struct ssd_req *r = s->wait_head;
	for (uint32_t i = 0; r && i < 2 * s->prog_units; i++, r = r->priv.wait_next) {
		uint32_t lpn = req_lpn(s, r->priv.next_unit);
		if (i < s->prog_units) {
			ftl_prefetch_home(s, lpn);
		} else {
			lt_prefetch(&s->l2p, lpn);
			nd_prefetch_w(&s->hash[hslot(s, lpn)]);
		}
	}
}

void buf_admit_waiters(ssd *s)
{
	if (s->wait_head && s->nbfree && s->timed)
		prefetch_waiters(s);
	while (s->wait_head && s->nbfree) {
		struct ssd_req *r = s->wait_head;
		if (!buf_admit(s, r))
			break;
		s->wait_head = r->priv.wait_next;
		if (!s->wait_head)
			s->wait_tail = NULL;
		if (r->priv.pending == 0)
			host_finish_stage(s, r);
	}
}
