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
 * placed it (GC's operations are queued as compact ring entries and made
 * when the die reaches them: flash_gc_op(); with ftl.gc_preempt host
 * programs may pass them, see struct die).  Flash operations (struct fop) come from a pool grown in
 * chunks: no allocation per page or per event once the pool is warm.
 * While s->timed is 0 (preconditioning, or a drive made without an event
 * queue) the FTL keeps its statistics but creates no flash operations.
 */
#ifndef ND_SSD_INT_H
#define ND_SSD_INT_H

#include "ssdsim/ssd.h"

#include "core/evq.h"
#include "core/rng.h"
#include "core/util.h"   /* nd_prefetch_w() */

#define NONE UINT32_MAX
#define PUA_NONE UINT64_MAX

/* A table that costs what is touched: entries in chunks of LT_CHUNK,
 * allocated (zeroed) on the first non-zero store; an absent chunk reads as
 * zeros.  The directory itself is calloc'd, so the kernel maps its pages
 * on first touch too.  Entries are 32-bit, or 64-bit when wide.  Chunks
 * live at their own offset in one reserved (MAP_NORESERVE) mapping of the
 * whole table, so a chunk costs memory only once written; once a table is
 * dense (LT_DENSE_CHUNKS and an eighth of its chunks full, or lt_dense()
 * before a large random overwrite) the mapping is marked for transparent
 * huge pages: fewer page
 * faults and TLB misses on random mapping accesses (measured on the 512 GiB
 * preset, 0.1x overwrite: 5.3 -> 3.5 s user time; the kernel's zeroing
 * stays). */
#define LT_SHIFT 10
#define LT_CHUNK (1u << LT_SHIFT)
#define LT_DENSE_CHUNKS 16384u    /* 64 MiB of 32-bit entries */
/* A chunk of a table indexed by logical unit (ltab.sparse) starts sparse:
 * up to LT_SPARSE (index, value) pairs in 328 bytes from a pool, instead of
 * a 4 or 8 KiB page, so scattered writes on a large drive cost what they
 * write (10^5 random writes on the 16 TiB preset: 439 -> 74 MB of RSS);
 * its LT_SPARSE + 1-th entry makes it a full chunk.  The directory holds
 * such a chunk's address with bit 0 set.  Once a table is dense (huge), new
 * chunks are full at once. */
#define LT_SPARSE 32
struct lt_sparse {
	uint16_t n;
	uint16_t idx[LT_SPARSE];
	uint64_t val[LT_SPARSE];
};
struct ltab {
	void **chunk;
	uint64_t n;
	int wide;
	int sparse;               /* new chunks start sparse (until huge) */
	char *pool;               /* current block of sparse chunks */
	size_t pool_left;         /* sparse chunks still free in it */
	void **pools;             /* every pool block, for lt_fini() */
	size_t n_pools;
	struct lt_sparse *spare;  /* sparse chunks given back (a list through val[0]) */
	char *arena;              /* reserved mapping, NULL: chunks calloc'd */
	size_t arena_bytes;
	int huge;                 /* MADV_HUGEPAGE applied */
	uint64_t *live;           /* indices of the chunks allocated so far */
	uint64_t n_live, cap_live;
	uint64_t n_full;          /* chunks in full form */
};

void lt_init(struct ltab *t, uint64_t n, int wide);
void lt_fini(struct ltab *t);
/* Makes chunk ci a full one (zeroed, or with the entries of its sparse
 * form) and returns it. */
void *lt_chunk_new(struct ltab *t, uint64_t ci);
/* The table will be dense: back it with huge pages (no value changes). */
void lt_dense(struct ltab *t);

static inline int lt_is_sparse(const void *c)
{
	return (int)((uintptr_t)c & 1);
}

/* The sparse chunk a tagged directory entry points to. */
static inline struct lt_sparse *lt_sparse_of(const void *c)
{
	return (struct lt_sparse *)(uintptr_t)((const char *)c - 1);
}

/* Entry k of full chunk c := v. */
static inline void lt_full_put(const struct ltab *t, void *c, uint32_t k, uint64_t v)
{
	if (t->wide)
		((uint64_t *)c)[k] = v;
	else
		((uint32_t *)c)[k] = (uint32_t)v;
}

static inline uint64_t lt_get(const struct ltab *t, uint64_t i)
{
	const void *c = t->chunk[i >> LT_SHIFT];
	if (!c)
		return 0;
	if (__builtin_expect(lt_is_sparse(c), 0)) {
		const struct lt_sparse *sp = lt_sparse_of(c);
		uint16_t k = (uint16_t)(i & (LT_CHUNK - 1));
		for (uint32_t j = 0; j < sp->n; j++)
			if (sp->idx[j] == k)
				return sp->val[j];
		return 0;
	}
	return t->wide ? ((const uint64_t *)c)[i & (LT_CHUNK - 1)] :
			 ((const uint32_t *)c)[i & (LT_CHUNK - 1)];
}

/* lt_set() of a chunk that is sparse or absent (v != 0 when absent). */
void lt_set_slow(struct ltab *t, uint64_t i, uint64_t v);

/* Hint: entry i will be written soon.  With the reserved mapping, chunk
 * ci lives at arena + ci chunk sizes, so entry i's address needs no load
 * of the directory (on a large table a cache miss of its own, which the
 * hint would wait for); a chunk not allocated yet is an untouched page,
 * and a prefetch never faults.  The directory slot, which lt_get() and
 * lt_set() read first, is fetched alongside. */
static inline void lt_prefetch(const struct ltab *t, uint64_t i)
{
	uint32_t esz = t->wide ? 8 : 4;
	if (t->arena) {
		nd_prefetch_w(&t->chunk[i >> LT_SHIFT]);
		nd_prefetch_w(t->arena + i * esz);
		return;
	}
	const char *c = t->chunk[i >> LT_SHIFT];
	if (c && !lt_is_sparse(c))
		nd_prefetch_w(c + (i & (LT_CHUNK - 1)) * esz);
}

static inline void lt_set(struct ltab *t, uint64_t i, uint64_t v)
{
	void *c = t->chunk[i >> LT_SHIFT];
	if (__builtin_expect(!c || lt_is_sparse(c), 0)) {
		if (!c && !v)
			return;
		if (c || t->sparse) {
			lt_set_slow(t, i, v);
			return;
		}
		c = lt_chunk_new(t, i >> LT_SHIFT);
	}
	lt_full_put(t, c, (uint32_t)(i & (LT_CHUNK - 1)), v);
}

struct ssd_power;

enum { OP_READ, OP_PROG, OP_ERASE, OP_GCJOB };
enum { BS_FREE, BS_DIRTY, BS_INFLIGHT };
enum { BLK_FREE, BLK_OPEN, BLK_FULL };
enum { ST_DISPATCH, ST_DATA_IN, ST_LINK, ST_DONE };
enum { ACT_HOST, ACT_GC };

struct fop {
	struct evq_event ev;
	struct fop *next;
	ssd *s;
	uint8_t kind;
	uint8_t xlate;        /* READ of a translation page (cmt.c) */
	uint16_t npages;
	uint32_t die;
	uint32_t xfer_bytes;
	uint32_t nslots;
	uint32_t qseq;        /* gc_preempt: the die's enqueue order */
	uint8_t slc;          /* PROG/READ in SLC mode (slc.c; fills a hole) */
	struct ssd_req *req;
	uint64_t t_start;
	/* nand.c features (all zero when off) */
	uint8_t ptype;        /* PROG: slowest page type of its pages */
	uint8_t nsusp;        /* times suspended */
	uint8_t rounds;       /* READ: re-senses left (retry, soft senses) */
	uint8_t soft;         /* READ: ends with soft decoding */
	uint8_t gc;           /* a GC operation (flash_gc_op()); PROG: ids[0] its page */
	uint32_t resid_bits;  /* READ: raw errors of uncorrectable codewords */
	struct ssd_req *xreq; /* translation READ: the request that issued it */
	struct ssd_req *xwait;/* translation READ: requests that joined it */
	uint32_t xtp;         /* translation READ: its translation page */
	uint32_t uncorr_cw;
	uint64_t t_array;     /* PROG/ERASE: start of the array phase */
	uint64_t t_end;       /* PROG/ERASE: scheduled end */
	uint32_t ids[];       /* PROG: buffer slots to release; READ: pages */
};

struct die {
	struct fop *rq_head, *rq_tail;   /* host reads */
	struct fop *wq_head, *wq_tail;   /* programs, erases, GC (and all, if FIFO) */
	struct fop *cur;
	struct fop *susp;                /* program/erase suspended for reads */
	uint64_t busy_ns;
	uint32_t chan;
	uint32_t load;                   /* ops queued or running */
	uint32_t next_plane;             /* first plane of the next partial program */
	/* GC operations not made yet (see flash_gc_op()): a ring of encoded
	 * ops in the order GC decided them; an OP_GCJOB placeholder in the
	 * write queue stands for the next `nslots` of them. */
	uint64_t *gcq;
	uint32_t *gcq_seq;               /* gc_preempt: enqueue order of each */
	uint32_t gcq_head, gcq_n, gcq_cap;
	uint32_t qseq;                   /* gc_preempt: ops enqueued so far */
	/* GC moves decided whose destination page is not programmed yet, in
	 * decision order (the order the die programs them): a ring of
	 * (destination unit, unit it was moved from); see ftl_read_pua(). */
	struct gc_mv { uint64_t dst, src; } *mv;
	uint32_t mv_head, mv_n, mv_cap;
	/* A GC program moves upp units except the last page of a victim
	 * (padded): those partial pages, as (GC program number << 32 | units)
	 * in decision order, so ftl_gc_prog_done() pops its moves by count
	 * without reading the ring (long since written, cold).  gcp_dec / gcp_done:
	 * GC programs decided / run on the die. */
	uint64_t *mvp;
	uint32_t mvp_head, mvp_n, mvp_cap;
	uint32_t gcp_dec, gcp_done;
};
/* With ftl.gc_preempt the ring is the die's GC queue (no placeholders):
 * die_kick serves host reads, then host programs, then GC, except while the
 * die is urgent (flash.c: a plane at the hard threshold of erased blocks,
 * or a block taken again before its queued erase ran), when programs,
 * erases and GC moves run in the order they were queued (as without
 * gc_preempt: GC is not preempted).  The FTL still decides a victim's moves at once; only the
 * flash work is deferred.  A read of a moved unit whose destination page is
 * not programmed yet reads the page it was moved from (ftl_read_pua()),
 * which still holds it: the victim is erased only after its moves ran. */

struct chan {
	uint64_t free_ns;
	uint64_t busy_ns;
};

/* All zeros is a free, never erased block: the block table is calloc'd
 * and costs nothing until a block is used. */
struct block {
	uint32_t valid;       /* valid units */
	uint32_t erases;
	uint16_t wp;          /* next page to program (ssd.pages <= 4096) */
	uint16_t gc_pend;     /* GC programs into it decided, not run yet */
	uint8_t state;
	uint8_t erase_q;      /* gc_preempt: erases queued, not run yet */
	uint8_t reused;       /* ... and taken again meanwhile */
	uint8_t lay;          /* a new block of the steady layout (precond.c): a
	                       * zero reverse-map entry there is lay_p2l()'s */
	uint64_t t_write_ns;  /* last program, for cost-benefit age */
	uint64_t seal;        /* order in which it became full (fifo victims) */
};

/* Free blocks of a plane: those erased (a stack, most recent on top) and
 * those never used yet (local indices fresh .. blocks-1, taken in order):
 * the same order as one stack initialised with every block, without
 * writing it. */
struct plane {
	uint32_t *free_blk;   /* stack of erased free blocks (local indices) */
	uint32_t nstack;
	uint32_t fresh;       /* first never-used block */
	uint32_t nfree;       /* nstack + blocks - fresh */
	uint32_t active[2];   /* open block for host data / GC data, NONE */
	uint32_t free_pend;   /* gc_preempt: free blocks whose erase has not run */
	uint32_t reuse_pend;  /* open or full blocks whose erase has not run */
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

	/* FTL.  l2p holds physical unit + 1 (0: see fill_n), p2l logical unit
	 * + 1 (0: none, or the fill's unit, see ftl_p2l()). */
	struct ltab l2p, p2l;
	struct block *blk;
	struct plane *pl;
	uint32_t *alloc_seq;        /* die*planes+plane targets in order */
	uint32_t *alloc_pos;        /* target -> position in alloc_seq */
	uint32_t alloc_n, alloc_cur;
	int placed;                 /* any unit placed yet (else pristine) */
	/* Implicit sequential fill: logical units [0, fill_n) not written since
	 * sit where the fill order put them (ftl_fill_pua()). */
	uint64_t fill_n;
	/* One bit per physical unit, set once the fill unit whose home it is
	 * has left it (written again or moved by GC): the same fact as that
	 * unit's l2p entry being non-zero, kept where GC reads it in victim
	 * order (one cache line per 512 units) instead of a random l2p load.
	 * Allocated with the fill; untouched pages stay unmapped. */
	uint64_t *fill_moved;
	/* precondition.method=steady: where the units that left their fill
	 * home before the run are (a home with its fill_moved bit set and a
	 * zero l2p entry), computed from the home (precond.c), NULL otherwise */
	struct lay *lay;
	uint64_t plane_pages;                /* blocks x pages */
	int sh_prog, sh_upp, sh_alloc;       /* log2 when a power of two, else -1 */
	int sh_pp, sh_planes;                /* same for plane_pages, planes */
	int sh_pages, sh_blocks;             /* same for pages, blocks (ftl_init) */
	int sh_ub;                           /* same for map_unit_bytes */
	/* wear: blocks per erase count, for min/max/mean without a scan */
	uint64_t *erase_cnt;
	uint32_t erase_cnt_n, erase_min, erase_max;
	uint64_t erase_sum;
	uint64_t seal_next;         /* blocks filled so far (struct block seal) */

	/* verify: writes per logical unit after the fill; version per physical
	 * unit (0 on an implicit fill home: version 1) */
	int verify;
	struct ltab ver_l, ver_p;

	/* resources */
	struct die *die;
	struct chan *ch;
	uint64_t *core_free;
	uint64_t h2d_free, d2h_free, dram_free;
	/* host.c link_xfer(): the last size's transfer time (a division) */
	uint32_t link_memo_bytes;
	uint64_t link_memo_ns;

	/* buffer */
	struct bslot *bs;
	uint32_t bcap;
	uint32_t *bfree;            /* stack of free slots */
	uint32_t nbfree;
	uint32_t *fifo;             /* dirty slots in order */
	uint32_t fifo_head, fifo_n;
	/* lpn -> slot, open addressing: entries lpn << 32 | slot, all ones
	 * when empty; the lpn kept in the entry so a probe or a deletion's
	 * shift reads no slot (each a cache miss: the buffer cycles through
	 * all its slots between two uses of one) */
	uint64_t *hash;
	uint32_t hmask;
	struct ssd_req *wait_head, *wait_tail;

	/* fop pool */
	size_t fop_size;
	struct fop **fop_stack;     /* free ops (see flash.c) */
	size_t fop_n, fop_cap;
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

	/* ftl.mapping=cached (cmt.c), NULL with ideal.  Translation page t
	 * is held by logical units n_lpn + t * upp .. + upp - 1 (one flash
	 * page), mapped, placed and garbage-collected like data; n_tunits of
	 * them (0 with ideal). */
	struct cmt *cmt;
	uint64_t n_tunits;

	/* nand.c: bit-error stream and per-block reads since erase (ECC on) */
	struct rng err_rng;
	uint32_t *rd_cnt, *rd_epoch;
	int e_read_pt[SSD_PAGE_TYPES], e_prog_pt[SSD_PAGE_TYPES];
	/* RBER = rber_a[e] + rber_b[e] x reads for blocks with e < 64 erases
	 * in the run (rber_ok[e]: computed) */
	double rber_a[64], rber_b[64];
	uint8_t rber_ok[64];

	struct slc *slc;            /* ssd.slc.enable (slc.c), else NULL */
};


/* x / d, a shift when d is a power of two (sh = log2 d, else -1): the
 * address helpers below run several times per unit moved, and a 64-bit
 * division costs tens of cycles. */
static inline uint64_t div_fast(uint64_t x, uint32_t d, int sh)
{
	return sh >= 0 ? x >> sh : x / d;
}

static inline uint32_t div_fast32(uint32_t x, uint32_t d, int sh)
{
	return sh >= 0 ? x >> sh : x / d;
}

/* (The shifts are set by ftl_init(), before any address is used.) */

/* The map unit holding byte offset x. */
static inline uint64_t unit_of(const ssd *s, uint64_t x)
{
	return div_fast(x, (uint32_t)s->p.map_unit_bytes, s->sh_ub);
}

/* Unit u of a request (offset wrapped below the capacity, so u wraps past
 * the last logical unit at most once) as a logical unit number. */
static inline uint32_t req_lpn(const ssd *s, uint64_t u)
{
	return (uint32_t)(u < s->n_lpn ? u : u % s->n_lpn);
}

static inline uint32_t pua_page(const ssd *s, uint64_t pua)
{
	return (uint32_t)div_fast(pua, s->upp, s->sh_upp);
}

static inline uint32_t page_block(const ssd *s, uint32_t pg)
{
	return div_fast32(pg, (uint32_t)s->p.pages, s->sh_pages);
}

static inline uint32_t block_plane(const ssd *s, uint32_t b)
{
	return div_fast32(b, (uint32_t)s->p.blocks, s->sh_blocks);
}

static inline uint32_t plane_die(const ssd *s, uint32_t pl)
{
	return div_fast32(pl, (uint32_t)s->p.planes, s->sh_planes);
}

static inline uint32_t pua_die(const ssd *s, uint64_t pua)
{
	return plane_die(s, block_plane(s, page_block(s, pua_page(s, pua))));
}

static inline uint32_t hslot(const ssd *s, uint32_t lpn)
{
	return (uint32_t)((lpn * 0x9e3779b1u) & s->hmask);
}

static inline uint32_t buf_find(const ssd *s, uint32_t lpn)
{
	if (s->nbfree == s->bcap)
		return NONE;   /* empty buffer: skip the (cache-missing) probe */
	for (uint32_t i = hslot(s, lpn);; i = (i + 1) & s->hmask) {
		uint64_t e = s->hash[i];
		if ((uint32_t)e == NONE)
			return NONE;
		if ((uint32_t)(e >> 32) == lpn)
			return (uint32_t)e;
	}
}

/* Where the implicit fill put logical unit u (< fill_n): program g = u / P
 * went to target alloc_seq[g % alloc_n], round g / alloc_n, which is the
 * page index in each of the target's planes; blocks were taken in order. */
/* The read path's names for the same (pua_page() and block_plane(
 * page_block()) shift as well since the GC work): page and plane of a unit. */
static inline uint32_t pua_page_fast(const ssd *s, uint64_t pua)
{
	return pua_page(s, pua);
}

static inline uint32_t page_plane_fast(const ssd *s, uint32_t page)
{
	return (uint32_t)(s->sh_pp >= 0 ? page >> s->sh_pp : page / s->plane_pages);
}

static inline uint32_t plane_die_fast(const ssd *s, uint32_t plane)
{
	return plane_die(s, plane);
}

static inline uint64_t ftl_fill_pua(const ssd *s, uint64_t u)
{
	uint64_t g = div_fast(u, s->prog_units, s->sh_prog);
	uint32_t within = (uint32_t)(u - g * s->prog_units);
	uint32_t k = (uint32_t)div_fast(within, s->upp, s->sh_upp), j = within - k * s->upp;
	uint64_t r = div_fast(g, s->alloc_n, s->sh_alloc);
	uint32_t pos = (uint32_t)(g - r * s->alloc_n);
	uint32_t plane = s->alloc_seq[pos] + k;
	return (s->plane_pages * plane + r) * s->upp + j;
}

static inline int fill_moved_get(const ssd *s, uint64_t pua)
{
	return (int)(s->fill_moved[pua >> 6] >> (pua & 63)) & 1;
}

/* precond.c, the steady layout: the unit of fill home `home` that left it
 * before the run (fill_moved set, l2p entry 0) sits at lay_l2p(home);
 * lay_p2l(pua) is the fill unit that slot pua of a layout block (struct
 * block lay) holds, NONE if it is no slot or its unit has moved since. */
uint64_t lay_l2p(const ssd *s, uint64_t home);
uint32_t lay_p2l(const ssd *s, uint64_t pua);
void lay_free(ssd *s);
/* The fill unit whose home is pua (maybe >= fill_n: none). */
uint64_t ftl_fill_unit_at(const ssd *s, uint64_t pua);

/* Physical unit of logical unit lpn, PUA_NONE if unmapped. */
static inline uint64_t ftl_l2p(const ssd *s, uint32_t lpn)
{
	uint64_t v = lt_get(&s->l2p, lpn);
	if (v)
		return v - 1;
	if (lpn >= s->fill_n)
		return PUA_NONE;
	uint64_t h = ftl_fill_pua(s, lpn);
	if (__builtin_expect(s->lay != NULL, 0) && fill_moved_get(s, h))
		return lay_l2p(s, h);
	return h;
}

static inline void fill_moved_set(ssd *s, uint64_t pua)
{
	s->fill_moved[pua >> 6] |= 1ull << (pua & 63);
}

/* Logical unit held (validly) by physical unit pua, NONE if none.  A zero
 * entry may be a fill home: valid while that logical unit has not moved. */
uint32_t ftl_p2l_fill(const ssd *s, uint64_t pua);
static inline uint32_t ftl_p2l(const ssd *s, uint64_t pua)
{
	uint64_t v = lt_get(&s->p2l, pua);
	if (v)
		return (uint32_t)(v - 1);
	return s->fill_n ? ftl_p2l_fill(s, pua) : NONE;
}

/* Where a read of lpn finds its data now: its l2p unit, or, while the GC
 * move that put it there has not been programmed yet, the unit it was moved
 * from (PUA_NONE if unmapped). */
uint64_t ftl_read_pua_pend(const ssd *s, uint64_t pua);
/* A die without pending GC moves (mv_n == 0, the die table is small and
 * hot) needs no look at the block (a cache miss on a large drive):
 * ftl_read_pua_pend() would find no move to follow. */
static inline uint64_t ftl_read_pua(const ssd *s, uint32_t lpn)
{
	uint64_t pua = ftl_l2p(s, lpn);
	if (pua != PUA_NONE &&
	    __builtin_expect(s->die[plane_die_fast(s, page_plane_fast(s, pua_page_fast(s, pua)))].mv_n, 0) &&
	    s->blk[page_block(s, pua_page(s, pua))].gc_pend)
		return ftl_read_pua_pend(s, pua);
	return pua;
}

/* Next version of lpn (verify on), 0 otherwise. */
static inline uint32_t ftl_ver_next(ssd *s, uint32_t lpn)
{
	if (!s->verify)
		return 0;
	uint64_t v = lt_get(&s->ver_l, lpn) + 1;
	lt_set(&s->ver_l, lpn, v);
	return (uint32_t)v + (lpn < s->fill_n);
}

/* ---- cmt.c: cached mapping table (DFTL).  The l2p table stays the
 * functional truth; the CMT decides what a look-up costs. */
void cmt_init(ssd *s);
void cmt_fini(ssd *s);
/* Entries the CMT holds (0: no CMT). */
uint64_t cmt_entries(const ssd *s);
/* Host/internal read r of units [first, first + n): looks each unit up;
 * returns 1 if r waits for translation reads (cmt_xlate_done() then calls
 * host_read_flash()), 0 if it may read its data now. */
int cmt_read_lookup(ssd *s, struct ssd_req *r, uint64_t first, uint64_t n);
/* A translation read that request r waited for completed. */
void cmt_xlate_done(ssd *s, struct ssd_req *r);
/* Translation read f completes: no longer in flight; returns the requests
 * that joined it (cmt_xlate_wake() them once the die is kicked). */
struct ssd_req *cmt_xlate_detach(ssd *s, struct fop *f);
void cmt_xlate_wake(ssd *s, struct ssd_req *chain);
/* Data unit lpn (< n_lpn) was placed by a program (place()). */
void cmt_placed(ssd *s, uint32_t lpn);
/* GC moved logical unit lpn (data or translation). */
__attribute__((cold)) void cmt_gc_moved(ssd *s, uint32_t lpn);
/* Safe point (end of ftl_program): rewrites the translation pages that
 * write-backs and GC left pending (timed only). */
void cmt_flush(ssd *s);
/* Functional writes of [first, first + n) (n_lpn: all) ended: writes every
 * translation page they changed, untimed. */
void cmt_functional_sync(ssd *s, uint64_t first, uint64_t n);

/* ---- ftl.c */
/* Places up to prog_units units (lpns[i], versions vers[i]) in one program
 * on the next target; returns its flash operation (NULL untimed). */
struct fop *ftl_program(ssd *s, const uint32_t *lpns, const uint32_t *vers, uint32_t n);
/* Prefetch hint: the old home of lpn (its mapping entry should be cached). */
void ftl_prefetch_home(const ssd *s, uint32_t lpn);
void ftl_erase_block(ssd *s, uint32_t b);
/* GC victim of the plane under ssd.ftl.gc_policy (NONE: no full block with
 * an invalid unit); exposed for the tests. */
uint32_t ftl_pick_victim(ssd *s, uint32_t plane);
/* Collects victim v of plane now (as gc_plane does); exposed for the tests.
 * -1 if the drive failed meanwhile. */
int ftl_gc_collect(ssd *s, uint32_t plane, uint32_t v);
/* GC program of flash page `page` on die has run (flash.c): its moves are
 * done, reads find the units there from now on. */
void ftl_gc_prog_done(ssd *s, uint32_t die, uint32_t page);
void ftl_precondition(ssd *s);

/* Sequential functional write of [0, n) on a pristine drive, the mapping
 * left implicit (ftl_fill_pua()); O(planes + blocks). */
void ftl_fill_implicit(ssd *s, uint64_t n);
/* Room in the wear histogram (erase_cnt) for erase count e. */
void ftl_erase_hist_fit(ssd *s, uint32_t e);

/* ---- precond.c: precondition.method=steady.  On a pristine drive, sets
 * the state that `over` uniform random overwrites of logical units
 * [0, range) after a sequential fill of that range lead to under greedy GC:
 * per-plane block valid counts from a mean-field model, the fill's blocks
 * that GC has not collected kept implicit (their invalid units marked in
 * fill_moved), every other unit in the layout (lay_l2p()), erase counts; no
 * GC run, no mapping entry written.  Cost O(physical units / 64) bitmap
 * words plus a draw per overwritten or GC-moved unit of a collected block
 * (the fewer) and per empty slot (precond.c). */
void precond_steady(ssd *s, uint64_t range, uint64_t over);
void ftl_build_alloc_seq(ssd *s);
void ftl_init(ssd *s);
void ftl_fini(ssd *s);

/* ---- flash.c */
struct fop *flash_new_op(ssd *s, int kind, uint32_t die);
/* Queues f on its die (read_q: the host-read queue under read_first). */
void flash_enqueue(ssd *s, struct fop *f, int read_q);
/* Queues a GC operation on die: OP_READ of flash page `page` carrying
 * nvalid units over the channel, OP_PROG of page (nvalid 1: its data
 * crosses the channel, 0: copyback), or OP_ERASE.  Its struct
 * fop is made only when the die reaches it (the same queue order and timing
 * as making it now), so a victim's hundreds of moves cost a few bytes each
 * until they run, not a cold operation apiece (also with bit errors: a GC
 * read draws its errors when the die starts it, see die_kick()). */
void flash_gc_op(ssd *s, uint32_t die, int kind, uint32_t page, uint32_t nvalid);

/* ---- nand.c */
void nand_init(ssd *s, uint64_t seed);
void nand_fini(ssd *s);
/* tR of a read of f's pages (slowest page type); counts the types. */
uint64_t nand_read_ns(ssd *s, const struct fop *f);
/* tPROG of a program of page type pt. */
uint64_t nand_prog_ns(ssd *s, const struct fop *f);
/* Charges one sense / one program of f to the energy ledger. */
void nand_charge_read(ssd *s, const struct fop *f);
void nand_charge_prog(ssd *s, const struct fop *f);
/* Draws the bit errors of read f (a host or translation read when it is
 * queued, a GC read when its die starts it): sets rounds, soft,
 * resid_bits, uncorr_cw and the statistics; calls its request's
 * unit_errors for every unit it carries. */
void nand_draw_errors(ssd *s, struct fop *f);

/* The slower-to-program of page type `cur` and flash page pg's type. */
static inline uint8_t nand_prog_slower(const ssd *s, uint8_t cur, uint32_t pg)
{
	if (s->p.nx.cell == SSD_CELL_SLC)
		return 0;
	int t = ssd_page_type(s->p.nx.cell, pg % (uint32_t)s->p.pages);
	return s->p.nx.t_prog_pt_ns[t] > s->p.nx.t_prog_pt_ns[cur] ? (uint8_t)t : cur;
}

/* ---- slc.c: SLC write cache.  The mapping gives a unit its final page
 * when it is written; an SLC-mode program of that page is what the cache
 * changes (time), and folding later charges the SLC read and the TLC program
 * of the page on its die.  All no-ops unless s->slc. */
void slc_init(ssd *s);
void slc_fini(ssd *s);
/* A host program of n units (need pages) on die is about to be placed:
 * 1 if it runs in SLC mode (room in the cache; with when_full=fold the
 * die's oldest cached pages are queued for folding first), 0 for TLC. */
int slc_admit(ssd *s, uint32_t die, const uint32_t *lpns, uint32_t n, uint32_t need);
/* Flash page pg of die was programmed in SLC mode (after slc_admit() 1). */
void slc_mark(ssd *s, uint32_t die, uint32_t pg);
/* Block b was erased: its pages leave the cache. */
void slc_erased(ssd *s, uint32_t b);
/* Read f: if every page of it is an unfolded SLC page (or f is a fold
 * read), charges the SLC-mode sense and returns slc.t_read_ns; else 0. */
uint64_t slc_read_ns(ssd *s, const struct fop *f);
/* SLC-mode program f: charges it, returns slc.t_prog_ns. */
uint64_t slc_prog_ns(ssd *s, const struct fop *f);
/* Die di has nothing queued: queue a fold of its oldest cached page if the
 * host is idle (called by die_kick before it picks an operation). */
void slc_die_idle(ssd *s, uint32_t di);
/* A host command arrives / completes (host idle: folding may start). */
void slc_host_begin(ssd *s);
void slc_host_end(ssd *s);
void slc_get_stats(const ssd *s, struct ssd_stats *st);

/* ---- buffer.c */
void buf_release(ssd *s, uint32_t slot);
/* Releases the n slots of a completed program (as buf_release() each, in
 * order; their misses overlapped). */
void buf_release_all(ssd *s, const uint32_t *slots, uint32_t n);
/* Prefetch hint: the program holding these slots has started. */
void buf_prefetch_slots(const ssd *s, const uint32_t *slots, uint32_t n);
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
/* Reads r's data from the buffer and flash (after its translation). */
void host_read_flash(ssd *s, struct ssd_req *r);

#endif
