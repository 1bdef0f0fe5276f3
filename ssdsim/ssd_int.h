/*
 * ssd_int.h — the SSD model's private layout, shared by the files of
 * ssdsim/ and never included from outside it.
 *
 *   ssd.c     life cycle, statistics, drain
 *   host.c    host interface: link, controller cores, request stages, reads
 *   buffer.c  DRAM write-back buffer: admission, flush into programs
 *   ftl.c     page-mapping FTL + GC: placement, victims, erase, functional
 *             writes and preconditioning (works without an event queue)
 *   flash.c   flash scheduler: operation pool, die queues, channel timing
 *   verify.c  integrity check of the shadow version record
 *
 * The FTL updates its mapping when a program or a GC relocation is
 * *decided*; the corresponding flash operations are queued on the die in
 * that same order, so a later read of the unit queues behind the write that
 * placed it.  Flash operations (struct fop) come from a pool grown in
 * chunks: no allocation per page or per event once the pool is warm.
 * While s->timed is 0 (preconditioning, or a drive made without an event
 * queue) the FTL keeps its statistics but creates no flash operations.
 */
#ifndef ND_SSD_INT_H
#define ND_SSD_INT_H

#include "ssdsim/ssd.h"

#include "core/evq.h"
#include "core/rng.h"

#define NONE UINT32_MAX

struct ssd_power;

enum { OP_READ, OP_PROG, OP_ERASE };
enum { BS_FREE, BS_DIRTY, BS_INFLIGHT };
enum { BLK_FREE, BLK_OPEN, BLK_FULL };
enum { ST_DISPATCH, ST_DATA_IN, ST_LINK, ST_DONE };
enum { ACT_HOST, ACT_GC };

struct fop {
	struct evq_event ev;
	struct fop *next;
	ssd *s;
	uint8_t kind;
	uint16_t npages;
	uint32_t die;
	uint32_t xfer_bytes;
	uint32_t nslots;
	struct ssd_req *req;
	uint64_t t_start;
	uint32_t ids[];       /* PROG: buffer slots to release; READ: pages */
};

struct die {
	struct fop *rq_head, *rq_tail;   /* host reads */
	struct fop *wq_head, *wq_tail;   /* programs, erases, GC (and all, if FIFO) */
	struct fop *cur;
	uint64_t busy_ns;
	uint32_t chan;
	uint32_t load;                   /* ops queued or running */
	uint32_t next_plane;             /* first plane of the next partial program */
};

struct chan {
	uint64_t free_ns;
	uint64_t busy_ns;
};

struct block {
	uint32_t valid;       /* valid units */
	uint32_t erases;
	uint32_t wp;          /* next page to program */
	uint8_t state;
	uint64_t t_write_ns;  /* last program, for cost-benefit age */
};

struct plane {
	uint32_t *free_blk;   /* stack of free block indices (local) */
	uint32_t nfree;
	uint32_t active[2];   /* open block for host data / GC data, NONE */
};

struct bslot {
	uint32_t lpn;
	uint32_t ver;
	uint8_t state;
};

struct ssd {
	struct ssd_params p;
	evq *q;
	struct energy_ledger *led;
	struct energy_ledger *own_led;  /* made here when the caller gave none */
	struct rng rng;

	/* geometry */
	uint32_t upp;               /* map units per page */
	uint32_t n_dies, n_planes, n_blocks;
	uint64_t n_units_phys, n_lpn;
	uint32_t units_per_block;
	uint32_t prog_units;        /* units per host program operation */
	uint64_t t_xfer_unit_ns;    /* one map unit over a channel */
	uint64_t ctrl_ns;
	double ch_bps, link_bps, dram_bps;

	/* FTL */
	uint32_t *l2p;
	uint32_t *p2l;
	struct block *blk;
	struct plane *pl;
	uint32_t *alloc_seq;        /* die*planes+plane targets in order */
	uint32_t alloc_n, alloc_cur;

	/* verify */
	uint32_t *ver_l, *ver_p;

	/* resources */
	struct die *die;
	struct chan *ch;
	uint64_t *core_free;
	uint64_t h2d_free, d2h_free, dram_free;

	/* buffer */
	struct bslot *bs;
	uint32_t bcap;
	uint32_t *bfree;            /* stack of free slots */
	uint32_t nbfree;
	uint32_t *fifo;             /* dirty slots in order */
	uint32_t fifo_head, fifo_n;
	uint32_t *hash;             /* lpn -> slot, open addressing */
	uint32_t hmask;
	struct ssd_req *wait_head, *wait_tail;

	/* fop pool */
	size_t fop_size;
	struct fop *fop_free;
	void **chunks;
	size_t nchunks;

	struct ssd_stats st;
	int timed;                  /* 0 while preconditioning */
	int failed;                 /* out of space: no placement from now on */
	char fail_msg[256];

	/* energy handles */
	int e_read, e_prog, e_erase, e_chan, e_dram, e_link;
	int e_st_nand, e_st_ctrl, e_st_dram;

	struct ssd_power *pw;       /* power model, NULL when off (power.c) */
};


static inline uint32_t pua_page(const ssd *s, uint32_t pua) { return pua / s->upp; }

static inline uint32_t page_block(const ssd *s, uint32_t pg) { return pg / (uint32_t)s->p.pages; }

static inline uint32_t block_plane(const ssd *s, uint32_t b) { return b / (uint32_t)s->p.blocks; }

static inline uint32_t plane_die(const ssd *s, uint32_t pl) { return pl / (uint32_t)s->p.planes; }

static inline uint32_t pua_die(const ssd *s, uint32_t pua)
{
	return plane_die(s, block_plane(s, page_block(s, pua_page(s, pua))));
}

static inline uint32_t hslot(const ssd *s, uint32_t lpn)
{
	return (uint32_t)((lpn * 0x9e3779b1u) & s->hmask);
}

static inline uint32_t buf_find(const ssd *s, uint32_t lpn)
{
	for (uint32_t i = hslot(s, lpn);; i = (i + 1) & s->hmask) {
		uint32_t v = s->hash[i];
		if (v == NONE)
			return NONE;
		if (s->bs[v].lpn == lpn)
			return v;
	}
}

/* ---- ftl.c */
/* Places up to prog_units units (lpns[i], versions vers[i]) in one program
 * on the next target; returns its flash operation (NULL untimed). */
struct fop *ftl_program(ssd *s, const uint32_t *lpns, const uint32_t *vers, uint32_t n);
void ftl_erase_block(ssd *s, uint32_t b);
void ftl_precondition(ssd *s);
void ftl_build_alloc_seq(ssd *s);

/* ---- flash.c */
struct fop *flash_new_op(ssd *s, int kind, uint32_t die);
/* Queues f on its die (read_q: the host-read queue under read_first). */
void flash_enqueue(ssd *s, struct fop *f, int read_q);

/* ---- buffer.c */
void buf_release(ssd *s, uint32_t slot);
/* Issues programs for dirty units: full programs only, or all when forced;
 * programs issued for a write-through request count towards owner. */
void buf_flush(ssd *s, int force, struct ssd_req *owner);
/* Admits as many of r's units as there is room for; 1 when all are in. */
int buf_admit(ssd *s, struct ssd_req *r);
void buf_admit_waiters(ssd *s);

/* ---- host.c */
/* DRAM transfer of bytes; returns when the data is there. */
uint64_t host_dram_reserve(ssd *s, uint64_t bytes);
/* All flash and buffer work of r is done: on to the link, or complete. */
void host_finish_stage(ssd *s, struct ssd_req *r);

#endif
