/*
 * precond.c — precondition.method=steady: the state that a sequential fill
 * of logical units [0, range) followed by `over` uniform random overwrites
 * of that range leads to under greedy GC, built without writing them.
 *
 * Model.  Host writes are striped over the planes in turn and GC is per
 * plane, so every plane is the same system: N_p = range / planes logical
 * units in NB blocks of B units, GC when the plane is down to T free
 * blocks (ssd.ftl.gc_threshold_blocks), victim = fewest valid units.  Its
 * block population h[v] (full blocks with v valid units) is followed with
 * the mean-field (fluid) model of that system: a host write invalidates a
 * uniformly drawn valid unit, so h[v] flows to h[v-1] at rate v h[v] / N_p
 * per host write (the birth-death drift of Van Houdt, "A mean field model
 * for a class of garbage collection algorithms in flash-based solid state
 * drives", SIGMETRICS'13; exact in the limit of many blocks per plane), the
 * written data fills new blocks (h[B]), and greedy GC takes mass from the
 * lowest occupied bin until the plane has T + 1 free blocks again, its
 * valid units refilling new full blocks.  Beside h it follows f[v], the
 * part of h that is still the fill's own blocks (never collected): they
 * invalidate like any block, and a victim taken from bin v is one of them
 * with probability f[v] / h[v].  It starts from the filled state
 * (every written block full and valid, f = h) and runs for over / planes host
 * writes per plane (Euler steps of at most B/4 writes; once h and f
 * no longer move, the rest only adds erases at the last rate), so small
 * overwrite amounts give the transient after the fill and large ones the
 * steady state (whose victim occupancy a solves a = exp(-(1-a) / rho) in
 * the large-block limit, rho = N_p / (NB B): Desnoyers, "Analytic modeling
 * of SSD write performance", SYSTOR'12; Hu et al., SYSTOR'09).
 *
 * Placement.  The fill is laid down implicitly (ftl_fill_implicit(): O(blocks),
 * no table written).  In each plane round(sum f) of the fill's whole
 * blocks, drawn at random, survive with valid counts from f's quantiles
 * (stratified, at a random offset per plane); their invalid units, at
 * uniformly drawn positions (Floyd's subset sampling), are marked as left
 * in the fill bitmap, and their valid ones stay implicit: nothing else is
 * written for them.  Every other fill block was collected (all its bits
 * set).  round(sum (h - f)) blocks of the rest, drawn at random, become
 * new full blocks with counts from h - f's quantiles, nudged by +-1 so the
 * plane holds what the fill put in it; the rest are erased free blocks.
 * The moved units are then placed in logical order (the fill bitmap read
 * in fill order: the mapping is written sequentially) into the new
 * blocks' valid slots (again uniformly drawn positions): an overwritten
 * unit into a random plane (host writes are striped over the planes with
 * random logical units, so logical neighbours land on unrelated dies and
 * blocks), one only moved by GC into its home plane (GC is per plane and
 * keeps a victim's order).  Every unit missing from a survivor was
 * overwritten; of a collected block's units the fraction q that brings the
 * overwritten units to range (1 - exp(-X)), the distinct units that
 * X = over / range capacities of uniform overwrites hit.  Versions: every
 * unit holds version 1 (the fill's), which ssd.verify reads from empty
 * version tables.  Erase counts: the model's erases per plane, spread
 * evenly over the blocks that are not survivors (a survivor was never
 * erased); exact GC spreads them unevenly (no wear levelling model here).
 * The open host and GC blocks of a real run are not modelled: every used
 * block is full, so in a following run the planes' GC blocks fill in step;
 * WAF and mean latency match exact, latency percentiles do not
 * (bench/README.md).
 *
 * Cost: the model is O(B) per step and stops once stationary, independent
 * of the drive size and, past a few capacities, of X; the placement
 * O(blocks x B / 64) for the bitmap, one word of it read per 64 units
 * (the generic path: a bit test per unit), and per moved unit a plane
 * choice and two stores (l2p, sequential; p2l, in runs of a block).  The kernel's zeroing of the table pages those stores touch
 * is most of the time on the 512 GiB preset (bench/README.md).  See
 * README.md (SSD model) for the measured error against exact
 * preconditioning.
 */
#include "ssdsim/ssd_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Mean-field run of one plane: fills h[0..B] (full blocks per valid
 * count) and f[0..B] (those of them still holding the fill, never
 * collected: a part of h), returns the erases (victims collected) of the
 * plane.  Fill blocks invalidate like any other block, and a victim taken
 * from bin v is a fill block with probability f[v] / h[v]. */
static double model_plane(uint32_t B, uint32_t NB, uint32_t T, double Np, double host,
			  double *h, double *f)
{
	memset(h, 0, (B + 1) * sizeof *h);
	memset(f, 0, (B + 1) * sizeof *f);
	h[B] = f[B] = Np / B;
	double fr = (double)NB - Np / B, erases = 0;
	/* Step: at most B/4 host writes, and small enough that the flow out
	 * of a bin per step (<= B d / N_p) stays below 1/16. */
	double d = B / 4.0;
	if (d > Np / (16.0 * B))
		d = Np / (16.0 * B);
	if (d < 1)
		d = 1;
	uint64_t steps = (uint64_t)ceil(host / d);
	if (!steps)
		return 0;
	d = host / (double)steps;
	const double r = d / Np, add = d / B, want = (double)T + 1;
	uint64_t check = (uint64_t)(Np / d / 8) + 1;   /* every 1/8 capacity */
	double *snap = xcalloc(2 * (B + 1), sizeof *snap);
	double e_snap = 0;
	for (uint64_t st = 0; st < steps; st++) {
		for (uint32_t v = 1; v <= B; v++) {
			double o = r * v * h[v], of = r * v * f[v];
			h[v] -= o;
			h[v - 1] += o;
			f[v] -= of;
			f[v - 1] += of;
		}
		h[B] += add;
		fr -= add;
		for (uint32_t v = 0; fr < want && v < B; v++) {
			if (h[v] <= 0)
				continue;
			double gain = 1.0 - (double)v / B, take = (want - fr) / gain;
			if (take > h[v])
				take = h[v];
			f[v] -= take * (f[v] / h[v]);
			if (f[v] < 0)
				f[v] = 0;
			h[v] -= take;
			h[B] += take * v / B;
			fr += take * gain;
			erases += take;
		}
		if ((st + 1) % check == 0) {
			double diff = 0;
			for (uint32_t v = 0; v <= B; v++)
				diff += fabs(h[v] - snap[v]) + fabs(f[v] - snap[B + 1 + v]);
			if (erases > e_snap && diff < 1e-6 * NB) {
				/* stationary: the remaining writes only add erases */
				erases += (erases - e_snap) / (double)check * (double)(steps - st - 1);
				break;
			}
			memcpy(snap, h, (B + 1) * sizeof *h);
			memcpy(snap + B + 1, f, (B + 1) * sizeof *f);
			e_snap = erases;
		}
	}
	free(snap);
	return erases;
}

/* A fast generator for the placement's many draws (seeded from s->rng):
 * wyrand (Wang Yi's public-domain wyhash PRNG). */
static inline uint64_t wy_next(uint64_t *x)
{
	*x += 0xa0761d6478bd642full;
	__uint128_t m = (__uint128_t)*x * (*x ^ 0xe7037ed1a0b428dbull);
	return (uint64_t)(m >> 64) ^ (uint64_t)m;
}

/* The valid positions of a block of B units holding `need`: a bitmap (1 =
 * valid) of a uniformly drawn subset, by Floyd's algorithm over the smaller
 * of the valid and the invalid set (a block is mostly valid: ~B/10 draws
 * instead of one per slot). */
static void block_mask(uint64_t *mk, uint32_t B, uint32_t need, uint64_t *x)
{
	uint32_t words = (B + 63) / 64, k = need <= B - need ? need : B - need;
	memset(mk, 0, words * sizeof *mk);
	for (uint32_t j = B - k; j < B; j++) {
		uint32_t t = (uint32_t)(((wy_next(x) >> 32) * ((uint64_t)j + 1)) >> 32);
		if ((mk[t >> 6] >> (t & 63)) & 1)
			t = j;
		mk[t >> 6] |= 1ull << (t & 63);
	}
	if (k != need) {
		for (uint32_t w = 0; w < words; w++)
			mk[w] = ~mk[w];
		if (B % 64)
			mk[words - 1] &= (1ull << (B % 64)) - 1;
	}
}

/* Quantile counts of n blocks from a cdf over 0..B at offset u (ascending);
 * their sum. */
static uint64_t quantile_counts(const double *cdf, uint32_t B, uint32_t n, double u, uint32_t *vc)
{
	uint64_t sum = 0;
	uint32_t v = 0;
	for (uint32_t k = 0; k < n; k++) {
		double q = ((double)k + u) / n;
		while (v < B && cdf[v] <= q)
			v++;
		vc[k] = v;
		sum += v;
	}
	return sum;
}

/* cdf[0..B] of the population p[0..B] (cdf[B] = 2: every quantile ends by
 * B); its total. */
static double make_cdf(const double *p, uint32_t B, double *cdf)
{
	double tot = 0, acc = 0;
	for (uint32_t v = 0; v <= B; v++)
		tot += p[v];
	for (uint32_t v = 0; v <= B; v++) {
		acc += p[v];
		cdf[v] = tot > 0 ? acc / tot : 1;
	}
	cdf[B] = 2;
	return tot;
}

static inline double unit_draw(uint64_t *x)
{
	return (double)(wy_next(x) >> 11) * 0x1.0p-53;
}

enum { R_FREE, R_SURV, R_NEW };

/* A plane's new blocks being filled, valid slot by valid slot. */
struct cur {
	uint32_t at, n;   /* next of the plane's new blocks, their number */
	uint32_t w;       /* word of the mask in use */
	uint64_t bits;    /* its valid slots not taken yet */
	uint64_t base;    /* first unit of the block in use */
	uint64_t rem;     /* units the plane still takes */
};

static inline uint64_t cur_take(const ssd *s, struct cur *c, const uint32_t *list, uint64_t *mk,
				uint32_t W, uint64_t *x)
{
	while (!c->bits) {
		if (c->w + 1 < W) {
			c->bits = mk[++c->w];
			continue;
		}
		ND_ASSERT(c->at < c->n);
		uint32_t b = list[c->at++];
		block_mask(mk, s->units_per_block, s->blk[b].valid, x);
		c->base = (uint64_t)b * s->units_per_block;
		c->w = 0;
		c->bits = mk[0];
	}
	uint64_t pua = c->base + c->w * 64 + (uint64_t)__builtin_ctzll(c->bits);
	c->bits &= c->bits - 1;
	return pua;
}

/* Marks units [first, first + n) moved (fill_moved). */
static void moved_range(ssd *s, uint64_t first, uint64_t n)
{
	uint64_t *fm = s->fill_moved;
	for (; n && (first & 63); first++, n--)
		fm[first >> 6] |= 1ull << (first & 63);
	for (; n >= 64; first += 64, n -= 64)
		fm[first >> 6] = ~0ull;
	for (; n; first++, n--)
		fm[first >> 6] |= 1ull << (first & 63);
}

/* Placement of the moved units (precond_steady).  A plane's units are
 * queued and placed MVB at a time: placing each at once scatters the
 * reverse-map stores over every plane's open block, whose lines (all
 * blocks start 2 KiB-aligned, the planes' slots advance together) fall
 * into a few cache sets and evict each other; a batch writes a run of
 * slots of one block. */
enum { MVB = 64 };
struct mv {
	ssd *s;
	struct cur *cu;
	const uint32_t *list;   /* the planes' new blocks, NB a plane */
	uint64_t *mk;           /* the planes' current block masks, W words each */
	const uint8_t *role;
	uint32_t *open, *at;    /* planes with room left, position in open */
	uint32_t *q, *nq;       /* queued logical units, MVB a plane; their number */
	uint32_t *l2p, *p2l;    /* the tables' arenas (32-bit entries), or NULL: lt_set() */
	uint32_t n_open, NB, W;
	int shB;                /* log2 units per block, -1 if not a power of two */
	uint64_t x, q32, placed;   /* q32: q x 2^32 */
};

static void mv_flush(struct mv *m, uint32_t p)
{
	ssd *s = m->s;
	struct cur c = m->cu[p];   /* a local copy: the table stores cannot alias it */
	const uint32_t *list = m->list + (size_t)p * m->NB, W = m->W, n = m->nq[p];
	uint64_t *mk = m->mk + (size_t)p * W, x = m->x;
	const uint32_t *q = m->q + (size_t)p * MVB;
	uint32_t *l2p = m->l2p, *p2l = m->p2l;
	if (l2p && p2l) {
		for (uint32_t i = 0; i < n; i++) {
			uint64_t pua = cur_take(s, &c, list, mk, W, &x);
			p2l[pua] = q[i] + 1;
			l2p[q[i]] = (uint32_t)(pua + 1);
		}
	} else {
		for (uint32_t i = 0; i < n; i++) {
			uint64_t pua = cur_take(s, &c, list, mk, W, &x);
			if (p2l)
				p2l[pua] = q[i] + 1;
			else
				lt_set(&s->p2l, pua, (uint64_t)q[i] + 1);
			if (l2p)
				l2p[q[i]] = (uint32_t)(pua + 1);
			else
				lt_set(&s->l2p, q[i], pua + 1);
		}
	}
	m->cu[p] = c;   /* rem included: counted down at queueing, not here */
	m->x = x;
	m->placed += n;
	m->nq[p] = 0;
}

/* Whether the block holding fill home `home` is a survivor. */
static inline __attribute__((always_inline)) uint32_t mv_surv(const struct mv *m, uint64_t home)
{
	uint32_t hb = (uint32_t)(m->shB >= 0 ? home >> m->shB : home / m->s->units_per_block);
	return m->role[hb] == R_SURV;
}

/* Logical unit u, whose fill home (in plane `plane`, in a survivor when
 * surv, see mv_surv()) it has left: one overwritten (every unit of a
 * survivor, a fraction q of a collected block's) to a random plane with
 * room, one only moved by GC to its home plane while it has room. */
static inline __attribute__((always_inline)) void mv_place(struct mv *m, uint64_t u, uint32_t surv,
							   uint32_t plane)
{
	/* one draw, and a select: the choice is a coin flip, which as a
	 * branch is mispredicted half the time */
	uint64_t c = wy_next(&m->x);
	uint32_t any = surv | (uint32_t)((c >> 32) < m->q32) | (uint32_t)(m->cu[plane].rem == 0);
	uint32_t rp = m->open[((c & 0xffffffffu) * m->n_open) >> 32];
	uint32_t dp = plane ^ ((plane ^ rp) & (0u - any));
	uint32_t n = m->nq[dp];
	m->q[(size_t)dp * MVB + n] = (uint32_t)u;
	m->nq[dp] = ++n;
	if (n == MVB)
		mv_flush(m, dp);
	if (!--m->cu[dp].rem) {   /* full: out of the open list */
		uint32_t last = m->open[--m->n_open];
		m->open[m->at[dp]] = last;
		m->at[last] = m->at[dp];
	}
}

void precond_steady(ssd *s, uint64_t range, uint64_t over)
{
	const uint32_t B = s->units_per_block, NB = (uint32_t)s->p.blocks, pages = (uint32_t)s->p.pages;
	const uint32_t T = (uint32_t)s->p.gc_threshold_blocks, P = s->n_planes, W = (B + 63) / 64;
	double *h = xmalloc((B + 1) * sizeof *h), *f = xmalloc((B + 1) * sizeof *f);
	double *nw = xmalloc((B + 1) * sizeof *nw);
	double *cdf_f = xmalloc((B + 1) * sizeof *cdf_f), *cdf_n = xmalloc((B + 1) * sizeof *cdf_n);
	double erases = model_plane(B, NB, T, (double)range / P, (double)over / P, h, f);
	for (uint32_t v = 0; v <= B; v++)
		nw[v] = h[v] > f[v] ? h[v] - f[v] : 0;
	const double tot_f = make_cdf(f, B, cdf_f), tot_n = make_cdf(nw, B, cdf_n);
	uint64_t x = rng_u64(&s->rng);

	/* The fill, implicit: blocks 0 .. fresh-1 of every plane hold it. */
	ftl_fill_implicit(s, range);

	uint64_t e_plane = (uint64_t)llround(erases);
	uint8_t *role = xcalloc(s->n_blocks, 1);
	uint32_t *list = xmalloc((size_t)P * NB * sizeof *list);   /* new blocks, per plane */
	uint32_t *cand = xmalloc(NB * sizeof *cand), *vf = xmalloc(NB * sizeof *vf);
	uint32_t *vn = xmalloc(NB * sizeof *vn);
	uint64_t *mk = xmalloc((size_t)P * W * sizeof *mk);
	struct cur *cu = xcalloc(P, sizeof *cu);
	uint64_t s_inv = 0, c_units = 0, moved = 0;
	memset(s->erase_cnt, 0, s->erase_cnt_n * sizeof *s->erase_cnt);
	s->erase_sum = 0;
	s->erase_max = 0;
	for (uint32_t p = 0; p < P; p++) {
		struct plane *pl = &s->pl[p];
		const uint32_t base = p * NB, used = pl->fresh, cap = NB - T - 1;
		uint64_t np = 0;
		uint32_t nc = 0;
		for (uint32_t i = 0; i < used; i++) {
			struct block *bk = &s->blk[base + i];
			np += bk->valid;
			if (bk->state == BLK_FULL && bk->valid == B)
				cand[nc++] = i;   /* whole fill blocks may survive */
		}
		/* Survivors: the model's fill population, at random among the
		 * whole fill blocks. */
		uint32_t nf = (uint32_t)llround(tot_f);
		if (nf > nc)
			nf = nc;
		if (nf > cap)
			nf = cap;
		for (uint32_t i = 0; i < nf; i++) {
			uint32_t j = i + (uint32_t)(wy_next(&x) % (nc - i));
			uint32_t t = cand[i];
			cand[i] = cand[j];
			cand[j] = t;
		}
		uint64_t surv = quantile_counts(cdf_f, B, nf, unit_draw(&x), vf);
		/* New blocks: the model's number, at least enough for what the
		 * plane holds beyond its survivors, and room for both below the
		 * GC reserve (rounding can break that: then the emptiest
		 * survivors are dropped). */
		uint32_t lo = 0, nn = (uint32_t)llround(tot_n);
		for (;;) {
			uint64_t need = (np - surv + B - 1) / B;
			uint32_t room = cap - (nf - lo);
			if (need <= room) {
				if (nn < need)
					nn = (uint32_t)need;
				if (nn > room)
					nn = room;
				break;
			}
			ND_ASSERT(lo < nf);
			surv -= vf[lo++];
		}
		for (uint32_t k = lo; k < nf; k++) {
			uint32_t b = base + cand[k];
			role[b] = R_SURV;
			s->blk[b].valid = vf[k];
			s_inv += B - vf[k];
			block_mask(mk, B, vf[k], &x);
			for (uint32_t w = 0; w < W; w++) {
				uint64_t inv = ~mk[w];
				if (w == W - 1 && B % 64)
					inv &= (1ull << (B % 64)) - 1;
				uint64_t u0 = (uint64_t)b * B + w * 64;
				if (B % 64 == 0)   /* then u0 is word-aligned */
					s->fill_moved[u0 >> 6] = inv;
				else
					for (; inv; inv &= inv - 1)
						fill_moved_set(s, u0 + (uint64_t)__builtin_ctzll(inv));
			}
		}
		/* Collected fill blocks: every fill unit has left. */
		for (uint32_t i = 0; i < used; i++) {
			uint32_t b = base + i;
			if (role[b] == R_SURV)
				continue;
			c_units += s->blk[b].valid;
			moved_range(s, (uint64_t)b * B, B);
		}
		/* New blocks: the last nn of the others, with counts from the
		 * model's new population summing to what the plane still holds,
		 * in random order; the rest are free.  (A block's index means
		 * nothing to the model; taking the new blocks together keeps the
		 * reverse-map pages their units touch together: at small X, with
		 * random indices, every page of the table would be touched and
		 * zeroed by the kernel.)  Erases: the model's, spread evenly over
		 * the blocks that were not survivors (a survivor is a fill block
		 * never erased). */
		uint64_t np_new = np - surv;
		quantile_counts(cdf_n, B, nn, unit_draw(&x), vn);
		uint64_t sum = 0;
		for (uint32_t k = 0; k < nn; k++)
			sum += vn[k];
		uint32_t i = nn ? (uint32_t)(wy_next(&x) % nn) : 0;
		while (sum < np_new) {
			if (vn[i] < B)
				vn[i]++, sum++;
			i = i + 1 == nn ? 0 : i + 1;
		}
		while (sum > np_new) {
			if (vn[i] > 0)
				vn[i]--, sum--;
			i = i + 1 == nn ? 0 : i + 1;
		}
		for (uint32_t k = nn; k > 1; k--) {
			uint32_t j = (uint32_t)(wy_next(&x) % k), t = vn[k - 1];
			vn[k - 1] = vn[j];
			vn[j] = t;
		}
		uint32_t pool = NB - (nf - lo), left = pool, want = nn, got = 0;
		uint32_t e_base = (uint32_t)(e_plane / pool), e_rem = (uint32_t)(e_plane % pool);
		uint32_t e_off = (uint32_t)(wy_next(&x) % pool), pi = 0;
		pl->nstack = 0;
		for (uint32_t lb = 0; lb < NB; lb++) {
			uint32_t b = base + lb;
			struct block *bk = &s->blk[b];
			uint32_t e = 0;
			if (role[b] != R_SURV) {
				e = e_base + ((pi + e_off) % pool < e_rem);
				pi++;
				if (left <= want) {
					role[b] = R_NEW;
					list[base + got] = b;
					bk->valid = vn[got++];
					bk->state = BLK_FULL;
					bk->wp = (uint16_t)pages;
					bk->seal = ++s->seal_next;
					want--;
				} else {
					bk->state = BLK_FREE;
					bk->wp = 0;
					bk->valid = 0;
					pl->free_blk[pl->nstack++] = lb;
				}
				left--;
			}
			bk->erases = e;
			bk->t_write_ns = 0;
			ftl_erase_hist_fit(s, e);
			s->erase_cnt[e]++;
			s->erase_sum += e;
			if (e > s->erase_max)
				s->erase_max = e;
		}
		ND_ASSERT(got == nn);
		pl->fresh = NB;
		pl->nfree = pl->nstack;
		pl->active[0] = pl->active[1] = NONE;
		cu[p].n = nn;
		cu[p].w = W - 1;
		cu[p].rem = np_new;
		moved += np_new;
	}
	for (uint32_t d = 0; d < s->n_dies; d++)
		s->die[d].next_plane = 0;

	/* The moved units, in logical order (so the mapping is written
	 * sequentially).  One that was overwritten goes to a random plane's
	 * next valid slot (host writes are striped, their logical units
	 * random); one only moved by GC stays in its home plane (GC is per
	 * plane and keeps a victim's order).  Every unit left in a survivor
	 * was overwritten; of those of a collected block, the fraction q that
	 * makes the overwritten units in all number range (1 - exp(-X)), the
	 * expected distinct units hit by X = over / range capacities. */
	double dist = (double)range * -expm1(-(double)over / (double)range);
	double q = c_units ? (dist - (double)s_inv) / (double)c_units : 0;
	q = q < 0 ? 0 : q > 1 ? 1 : q;
	const uint64_t q32 = (uint64_t)(q * 0x1.0p32);   /* q = 1: 2^32, above every draw */
	/* Tables.  The mapping is written all over once moved >= range / 16
	 * (huge pages: fewer faults), the reverse map only in the new blocks,
	 * the top of every plane's part: below half the range its chunks stay
	 * on 4 KiB pages (hold), so only what is written is zeroed.  A dense
	 * table's chunks are all allocated first (an address in the arena, no
	 * page touched) and its entries stored straight into the arena. */
	const int dense_l = moved >= range / 16, dense_p = moved >= range / 2;
	struct mv m = { .s = s, .cu = cu, .list = list, .mk = mk, .role = role, .x = x, .q32 = q32,
			.NB = NB, .W = W, .shB = B & (B - 1) ? -1 : __builtin_ctz(B) };
	if (dense_l)
		lt_dense(&s->l2p);
	if (dense_p)
		lt_dense(&s->p2l);
	else
		s->p2l.hold = 1;
	if (dense_l && s->l2p.arena && !s->l2p.wide) {
		lt_all_full(&s->l2p, range);
		m.l2p = (uint32_t *)(void *)s->l2p.arena;
	}
	if (dense_p && s->p2l.arena && !s->p2l.wide) {
		lt_all_full(&s->p2l, s->n_units_phys);
		m.p2l = (uint32_t *)(void *)s->p2l.arena;
	}
	m.open = xmalloc(P * sizeof *m.open);
	m.q = xmalloc((size_t)P * MVB * sizeof *m.q);
	m.nq = xcalloc(P, sizeof *m.nq);
	m.at = xmalloc(P * sizeof *m.at);
	for (uint32_t p = 0; p < P; p++)
		if (cu[p].rem) {
			m.at[p] = m.n_open;
			m.open[m.n_open++] = p;
		}
	const uint32_t PU = s->prog_units, upp = s->upp, npl = PU / upp;
	if (!(upp & (upp - 1)) && upp <= 64 && s->plane_pages * upp % 64 == 0) {
		/* The fill bits of one plane's page r are upp bits at (plane x
		 * plane_pages + r) x upp: a word holds R = 64 / upp rounds of it.
		 * The words are taken R rounds at a time, target by target, and
		 * only their set bits visited: the scan costs a word per 64 units
		 * and the rest is per moved unit.  Within R rounds the order is
		 * not the logical one, but the mapping entries written stay
		 * within R x alloc_n x PU units (32 KiB of the table on the
		 * preset), which the cache holds.  (Reading the planes' bits
		 * round by round instead made every load a conflict miss: they sit
		 * a plane's bitmap apart, a power of two on most geometries.) */
		const uint32_t R = 64 / upp;
		const uint64_t step = (uint64_t)s->alloc_n * PU;   /* units a round */
		/* unit of bit b of a word: its first unit + off[b] */
		uint64_t off[64];
		for (uint32_t b = 0; b < 64; b++)
			off[b] = (b / upp) * step + (b & (upp - 1));
		/* a word's R pages lie in one block when R divides the pages
		 * of a block: one survivor test a word */
		const int one_blk = pages % R == 0;
		for (uint64_t r0 = 0; r0 * step < range; r0 += R) {
			const int last = (r0 + R) * step > range;   /* units past the range */
			for (uint32_t pos = 0; pos < s->alloc_n; pos++)
				for (uint32_t k = 0; k < npl; k++) {
					const uint32_t plane = s->alloc_seq[pos] + k;
					const uint64_t bit = (s->plane_pages * plane + r0) * upp;
					const uint64_t ub = r0 * step + (uint64_t)pos * PU + k * upp;
					uint64_t bits = s->fill_moved[bit >> 6];
					if (!bits)
						continue;
					if (one_blk && !last) {
						const uint32_t sv = mv_surv(&m, bit);
						for (; bits; bits &= bits - 1)
							mv_place(&m, ub + off[__builtin_ctzll(bits)], sv, plane);
						continue;
					}
					for (; bits; bits &= bits - 1) {
						uint32_t b = (uint32_t)__builtin_ctzll(bits);
						uint64_t u = ub + off[b];
						if (u >= range)
							break;
						mv_place(&m, u, mv_surv(&m, bit + b), plane);
					}
				}
		}
	} else {
		uint64_t r = 0;
		uint32_t pos = 0;
		for (uint64_t u0 = 0; u0 < range; u0 += PU) {
			const uint32_t t = s->alloc_seq[pos];
			const uint32_t nu = range - u0 < PU ? (uint32_t)(range - u0) : PU;
			for (uint32_t w = 0; w < nu; w++) {
				const uint32_t k = w / upp, j = w - k * upp, plane = t + k;
				const uint64_t home = (s->plane_pages * plane + r) * upp + j;
				if (fill_moved_get(s, home))
					mv_place(&m, u0 + w, mv_surv(&m, home), plane);
			}
			if (++pos == s->alloc_n) {
				pos = 0;
				r++;
			}
		}
	}
	for (uint32_t p = 0; p < P; p++)
		mv_flush(&m, p);
	ND_ASSERT(m.placed == moved && m.n_open == 0);
	s->p2l.hold = 0;
	s->erase_min = 0;
	while (!s->erase_cnt[s->erase_min])
		s->erase_min++;
	s->alloc_cur = 0;
	s->placed = 1;
	free(m.open);
	free(m.at);
	free(m.q);
	free(m.nq);
	free(cu);
	free(mk);
	free(vn);
	free(vf);
	free(cand);
	free(list);
	free(role);
	free(h);
	free(f);
	free(nw);
	free(cdf_f);
	free(cdf_n);
}
