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
 * valid units refilling new full blocks.  It starts from the filled state
 * (every written block full and valid) and runs for over / planes host
 * writes per plane (Euler steps of at most B/4 writes; once the population
 * no longer moves, the rest only adds erases at the last rate), so small
 * overwrite amounts give the transient after the fill and large ones the
 * steady state (whose victim occupancy a solves a = exp(-(1-a) / rho) in
 * the large-block limit, rho = N_p / (NB B): Desnoyers, "Analytic modeling
 * of SSD write performance", SYSTOR'12; Hu et al., SYSTOR'09).
 *
 * Placement.  Each plane gets round(sum h) full blocks whose valid counts
 * are the model's quantiles (stratified, at a random offset per plane),
 * nudged by +-1 so the plane holds exactly its share of the range, at
 * random local block indices; the rest are erased free blocks.  A full
 * block's valid units sit at uniformly drawn positions (Floyd's subset
 * sampling), and valid physical units, taken in physical order, hold the
 * logical units of a keyed pseudo-random permutation of the range (three
 * rounds of multiply-add / xor-shift on the next power of two, cycle
 * walking), so logical neighbours land on unrelated dies and blocks as
 * random overwrites leave them.  Every unit is explicit (no implicit fill),
 * with version 1 when ssd.verify is on.  Erase counts: the model's erases
 * per plane, spread evenly over its blocks (the freshly erased free blocks
 * take the remainder); exact GC spreads them unevenly (no wear levelling
 * model here).  The open host and GC blocks of a real run are not
 * modelled: every used block is full, so in a following run the planes'
 * GC blocks fill in step; WAF and mean latency match exact, latency
 * percentiles do not (bench/README.md).
 *
 * Cost: the model is O(B) per step and stops once stationary, independent
 * of the drive size and, past a few capacities, of X; the placement
 * O(physical units) with one random store (the l2p entry) per logical
 * unit.  See README.md (SSD model) for the measured error against
 * exact preconditioning.
 */
#include "ssdsim/ssd_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Mean-field run of one plane: fills h[0..B] (full blocks per valid
 * count), returns the erases (victims collected) of the plane. */
static double model_plane(uint32_t B, uint32_t NB, uint32_t T, double Np, double host,
			  double *h)
{
	memset(h, 0, (B + 1) * sizeof *h);
	h[B] = Np / B;
	double f = (double)NB - Np / B, erases = 0;
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
	double *snap = xcalloc(B + 1, sizeof *snap);
	double e_snap = 0;
	for (uint64_t st = 0; st < steps; st++) {
		for (uint32_t v = 1; v <= B; v++) {
			double o = r * v * h[v];
			h[v] -= o;
			h[v - 1] += o;
		}
		h[B] += add;
		f -= add;
		for (uint32_t v = 0; f < want && v < B; v++) {
			if (h[v] <= 0)
				continue;
			double gain = 1.0 - (double)v / B, take = (want - f) / gain;
			if (take > h[v])
				take = h[v];
			h[v] -= take;
			h[B] += take * v / B;
			f += take * gain;
			erases += take;
		}
		if ((st + 1) % check == 0) {
			double diff = 0;
			for (uint32_t v = 0; v <= B; v++)
				diff += fabs(h[v] - snap[v]);
			if (erases > e_snap && diff < 1e-6 * NB) {
				/* stationary: the remaining writes only add erases */
				erases += (erases - e_snap) / (double)check * (double)(steps - st - 1);
				break;
			}
			memcpy(snap, h, (B + 1) * sizeof *h);
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

/* Keyed bijection of [0, n): three rounds of (x a + c) mod 2^k, x ^= x >> s
 * on k = ceil(log2 n) bits, walked until it falls below n. */
struct perm {
	uint64_t n, mask, mul[3], add[3];
	int sh;
};

static void perm_init(struct perm *p, uint64_t n, struct rng *rng)
{
	int k = 1;
	while (k < 63 && (1ull << k) < n)
		k++;
	p->n = n;
	p->mask = (1ull << k) - 1;
	p->sh = (k + 1) / 2;
	for (int i = 0; i < 3; i++) {
		p->mul[i] = (rng_u64(rng) | 1) & p->mask;
		if (!p->mul[i])
			p->mul[i] = 1;
		p->add[i] = rng_u64(rng) & p->mask;
	}
}

static inline uint64_t perm_at(const struct perm *p, uint64_t x)
{
	const uint64_t m = p->mask;
	const int sh = p->sh;
	do {
		x = (x * p->mul[0] + p->add[0]) & m;
		x ^= x >> sh;
		x = (x * p->mul[1] + p->add[1]) & m;
		x ^= x >> sh;
		x = (x * p->mul[2] + p->add[2]) & m;
		x ^= x >> sh;
	} while (x >= p->n);
	return x;
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

/* A table about to be written densely: its chunks for [0, n) allocated,
 * entries stored straight into the arena (chunk ci lives at offset ci
 * there, see struct ltab), or through lt_set() without an arena. */
struct tab {
	struct ltab *t;
	char *base;
	int wide;
};

static void tab_init(struct tab *w, struct ltab *t, uint64_t n)
{
	for (uint64_t ci = 0; ci < (n + LT_CHUNK - 1) >> LT_SHIFT; ci++)
		if (!t->chunk[ci])
			(void)lt_chunk_new(t, ci);
	w->t = t;
	w->base = t->arena;
	w->wide = t->wide;
}

static inline void tab_set(struct tab *w, uint64_t i, uint64_t v)
{
	if (!w->base)
		lt_set(w->t, i, v);
	else if (w->wide)
		((uint64_t *)(void *)w->base)[i] = v;
	else
		((uint32_t *)(void *)w->base)[i] = (uint32_t)v;
}

static inline void tab_prefetch(const struct tab *w, uint64_t i)
{
	if (w->base)
		__builtin_prefetch(w->base + i * (w->wide ? 8 : 4), 1, 1);
}

/* Valid counts of the plane's n_full full blocks: the model's quantiles at
 * offset u, then +-1 until they sum to np. */
static void plane_counts(const double *cdf, uint32_t B, uint32_t n_full, uint64_t np, double u,
			 uint32_t *vc, uint64_t *x)
{
	uint64_t sum = 0;
	uint32_t v = 0;
	for (uint32_t k = 0; k < n_full; k++) {
		double q = ((double)k + u) / n_full;
		while (v < B && cdf[v] <= q)
			v++;
		vc[k] = v;
		sum += v;
	}
	uint32_t i = n_full ? (uint32_t)(wy_next(x) % n_full) : 0;
	while (sum < np) {
		if (vc[i] < B)
			vc[i]++, sum++;
		i = i + 1 == n_full ? 0 : i + 1;
	}
	while (sum > np) {
		if (vc[i] > 0)
			vc[i]--, sum--;
		i = i + 1 == n_full ? 0 : i + 1;
	}
}

void precond_steady(ssd *s, uint64_t range, uint64_t over)
{
	const uint32_t B = s->units_per_block, NB = (uint32_t)s->p.blocks, pages = (uint32_t)s->p.pages;
	const uint32_t T = (uint32_t)s->p.gc_threshold_blocks, P = s->n_planes;
	double *h = xmalloc((B + 1) * sizeof *h), *cdf = xmalloc((B + 1) * sizeof *cdf);
	double erases = model_plane(B, NB, T, (double)range / P, (double)over / P, h);
	double tot = 0;
	for (uint32_t v = 0; v <= B; v++)
		tot += h[v];
	double acc = 0;
	for (uint32_t v = 0; v <= B; v++) {
		acc += h[v];
		cdf[v] = acc / tot;
	}
	cdf[B] = 2;   /* rounding: every quantile ends by B */
	uint64_t x = rng_u64(&s->rng);
	struct perm pm;
	perm_init(&pm, range, &s->rng);
	lt_dense(&s->l2p);
	lt_dense(&s->p2l);
	if (s->verify) {
		lt_dense(&s->ver_l);
		lt_dense(&s->ver_p);
	}
	uint64_t e_plane = (uint64_t)llround(erases);
	uint32_t *vc = xmalloc(NB * sizeof *vc), *order = xmalloc(NB * sizeof *order);
	uint32_t *ecount = xmalloc(NB * sizeof *ecount), *vb = xmalloc(NB * sizeof *vb);
	/* Every entry of the range (and nearly every physical one) will be
	 * written: allocate the chunks now and store straight into the
	 * arena.  The l2p stores are random, one cache miss each: the logical
	 * units of the next PF valid slots are drawn ahead and their entries
	 * prefetched, so several misses are in flight (measured below in
	 * bench/README.md: the stall on that store was 57 % of the time). */
	struct tab tl, tp, tvl = { 0 }, tvp = { 0 };
	tab_init(&tl, &s->l2p, range);
	tab_init(&tp, &s->p2l, s->n_units_phys);
	if (s->verify) {
		tab_init(&tvl, &s->ver_l, range);
		tab_init(&tvp, &s->ver_p, s->n_units_phys);
	}
#ifndef PRE_PF
#define PRE_PF 64
#endif
	enum { PF = PRE_PF };
	uint64_t lq[PF], ahead = 0;
	for (; ahead < PF && ahead < range; ahead++) {
		lq[ahead] = perm_at(&pm, ahead);
		tab_prefetch(&tl, lq[ahead]);
	}
	uint64_t next = 0;   /* logical units placed so far (permutation index) */
	const int fast = tl.base && tp.base && !tl.wide && !tp.wide && !s->verify;
	uint64_t *mk = xmalloc((B + 63) / 64 * sizeof *mk);
	uint64_t emax = e_plane / NB + (e_plane % NB != 0);
	if (emax + 1 >= s->erase_cnt_n) {
		uint32_t n = s->erase_cnt_n;
		while (emax + 1 >= n)
			n *= 2;
		s->erase_cnt = xrealloc(s->erase_cnt, n * sizeof *s->erase_cnt);
		s->erase_cnt_n = n;
	}
	memset(s->erase_cnt, 0, s->erase_cnt_n * sizeof *s->erase_cnt);
	s->erase_sum = 0;
	for (uint32_t p = 0; p < P; p++) {
		uint64_t np = range / P + (p < range % P);
		uint64_t lo = (np + B - 1) / B;
		uint64_t n_full = (uint64_t)llround(tot);
		if (n_full > NB - T - 1)
			n_full = NB - T - 1;
		if (n_full < lo)
			n_full = lo;
		ND_ASSERT(n_full <= NB);
		plane_counts(cdf, B, (uint32_t)n_full, np,
			     (double)(wy_next(&x) >> 11) * 0x1.0p-53, vc, &x);
		/* random local indices: order[k] holds the k-th count; the
		 * free blocks are order[n_full ..] */
		for (uint32_t i = 0; i < NB; i++)
			order[i] = i;
		for (uint32_t i = NB - 1; i > 0; i--) {
			uint32_t j = (uint32_t)(wy_next(&x) % (i + 1));
			uint32_t t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (uint32_t i = 0; i < NB; i++)   /* free blocks take the remainder */
			ecount[order[NB - 1 - i]] = (uint32_t)(e_plane / NB + (i < e_plane % NB));
		struct plane *pl = &s->pl[p];
		pl->nstack = 0;
		for (uint32_t k = (uint32_t)n_full; k < NB; k++)
			pl->free_blk[pl->nstack++] = order[k];
		pl->fresh = NB;
		pl->nfree = pl->nstack;
		pl->active[0] = pl->active[1] = NONE;
		/* full blocks in local order, so the tables fill in physical order */
		for (uint32_t i = 0; i < NB; i++)
			vb[i] = UINT32_MAX;   /* free */
		for (uint32_t k = 0; k < n_full; k++)
			vb[order[k]] = vc[k];
		for (uint32_t lb = 0; lb < NB; lb++) {
			uint32_t b = p * NB + lb;
			struct block *bk = &s->blk[b];
			bk->erases = ecount[lb];
			s->erase_cnt[ecount[lb]]++;
			s->erase_sum += ecount[lb];
			if (vb[lb] == UINT32_MAX) {
				bk->state = BLK_FREE;
				bk->wp = 0;
				bk->valid = 0;
				continue;
			}
			uint32_t need = vb[lb];
			bk->state = BLK_FULL;
			bk->wp = (uint16_t)pages;
			bk->valid = need;
			bk->t_write_ns = 0;
			bk->seal = ++s->seal_next;
			uint64_t base = (uint64_t)b * B;
			block_mask(mk, B, need, &x);
			for (uint32_t w = 0; w < (B + 63) / 64; w++)
				for (uint64_t bits = mk[w]; bits; bits &= bits - 1) {
					uint64_t pua = base + w * 64 + (uint64_t)__builtin_ctzll(bits);
					uint64_t l = lq[next++ % PF];
					if (ahead < range) {
						uint64_t ln = perm_at(&pm, ahead);
						lq[ahead++ % PF] = ln;
						tab_prefetch(&tl, ln);
						if (!fast && s->verify)
							tab_prefetch(&tvl, ln);
					}
					if (fast) {   /* 32-bit entries in arenas, no verify */
						((uint32_t *)(void *)tp.base)[pua] = (uint32_t)(l + 1);
						((uint32_t *)(void *)tl.base)[l] = (uint32_t)(pua + 1);
						continue;
					}
					tab_set(&tp, pua, l + 1);
					tab_set(&tl, l, pua + 1);
					if (s->verify) {
						tab_set(&tvp, pua, 1);
						tab_set(&tvl, l, 1);
					}
				}
		}
	}
	ND_ASSERT(next == range);
	s->erase_min = 0;
	while (!s->erase_cnt[s->erase_min])
		s->erase_min++;
	s->erase_max = (uint32_t)emax;
	while (s->erase_max && !s->erase_cnt[s->erase_max])
		s->erase_max--;
	s->alloc_cur = 0;
	s->placed = 1;
	free(vc);
	free(order);
	free(ecount);
	free(vb);
	free(mk);
	free(h);
	free(cdf);
}
