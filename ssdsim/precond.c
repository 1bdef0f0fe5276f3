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
 * plane holds what it is given below; the rest are erased free blocks.
 * Every unit missing from a survivor was overwritten; so were, of a
 * collected block's units, as many (at uniformly drawn positions) as make
 * each plane's overwritten units its share of range (1 - exp(-X)), the
 * distinct units that X = over / range capacities of uniform overwrites
 * hit; the rest only GC moved.
 *
 * Layout.  No mapping entry is written for a moved unit either: where it
 * is follows from its home (struct lay, lay_l2p(), lay_p2l()).  The
 * overwritten homes, in physical order, are striped over the planes in
 * turn (number k to plane k % P: host writes are striped over the planes
 * and their logical units are random, so logical neighbours land on
 * unrelated dies); a plane's GC-moved homes stay in their plane, in order
 * (GC is per plane and keeps a victim's order).  A plane's new blocks'
 * valid slots (uniformly drawn positions), in block order, take its
 * GC-moved units first, then its overwritten ones.  Three bitmaps over the
 * physical units (overwritten homes, GC-moved homes, slots) with per-block
 * prefix counts, and a directory of those per 1024 items, answer both
 * directions by a rank or select in one or two blocks.  The
 * run then writes a unit's entry when it moves it, as for the fill.
 * Versions: every unit holds version 1 (the fill's), which ssd.verify
 * reads from empty version tables.  Erase counts: the model's erases per
 * plane, spread evenly over the blocks that are not survivors (a survivor
 * was never erased); exact GC spreads them unevenly (no wear levelling
 * model here).  The open host and GC blocks of a real run are not
 * modelled: every used block is full, so in a following run the planes'
 * GC blocks fill in step; WAF and mean latency match exact, latency
 * percentiles do not (bench/README.md).
 *
 * Cost: the model is O(B) per step and stops once stationary, independent
 * of the drive size and, past a few capacities, of X; the placement
 * O(blocks x B / 64) word stores into four bitmaps plus a draw per
 * overwritten unit of a collected block (or per GC-moved one, whichever
 * is fewer) and per invalid slot of a block: no per-unit table store, so
 * the memory touched is the bitmaps (4 bits a physical unit).  A lookup of
 * a unit still in the layout costs a rank, a directory step and a select,
 * about five cache misses (~0.5 us on the preset) instead of one table load.  See README.md (SSD model) for the
 * measured error against exact preconditioning.
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

enum { R_FREE, R_SURV, R_DROP };

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

/* ---- the layout: where the moved units are, without a table entry each */
struct lay {
	uint64_t *ov;    /* fill homes whose unit was overwritten: in a host slot */
	uint64_t *gc;    /* fill homes whose unit only GC moved: in a GC slot of its plane */
	uint64_t *sm;    /* slots of the new blocks that hold a unit */
	/* set bits of ov, gc, sm in the blocks before b (n_blocks + 1 each) */
	uint64_t *opre, *gpre, *spre;
	/* dir[J >> LAY_DIR_SH]: the block holding item (J >> LAY_DIR_SH) <<
	 * LAY_DIR_SH of opre, gpre, spre (pre_find()'s start) */
	uint32_t *odir, *gdir, *sdir;
	uint64_t *gn;    /* per plane: its GC-moved units, in slots 0 .. gn-1 */
	uint64_t n_ov;
	uint32_t B, NB, P;
};

/* Set bits of bm in [a, b). */
static uint64_t bits_rank(const uint64_t *bm, uint64_t a, uint64_t b)
{
	if (a >= b)
		return 0;
	uint64_t wa = a >> 6, wb = b >> 6;
	if (wa == wb)
		return (uint64_t)__builtin_popcountll((bm[wa] >> (a & 63)) & ((1ull << (b - a)) - 1));
	uint64_t n = (uint64_t)__builtin_popcountll(bm[wa] >> (a & 63));
	for (uint64_t w = wa + 1; w < wb; w++)
		n += (uint64_t)__builtin_popcountll(bm[w]);
	if (b & 63)
		n += (uint64_t)__builtin_popcountll(bm[wb] & ((1ull << (b & 63)) - 1));
	return n;
}

/* Position of set bit j (from 0) of bm at or after a (it exists). */
static uint64_t bits_select(const uint64_t *bm, uint64_t a, uint64_t j)
{
	uint64_t w = a >> 6, x = bm[w] & (~0ull << (a & 63));
	for (;;) {
		uint64_t c = (uint64_t)__builtin_popcountll(x);
		if (j < c)
			break;
		j -= c;
		x = bm[++w];
	}
	for (; j; j--)
		x &= x - 1;
	return w * 64 + (uint64_t)__builtin_ctzll(x);
}

/* ORs the n (<= 64) low bits of v into bm at bit a. */
static void bits_put(uint64_t *bm, uint64_t a, uint64_t v, uint32_t n)
{
	if (n < 64)
		v &= (1ull << n) - 1;
	if (!v)
		return;
	bm[a >> 6] |= v << (a & 63);
	if ((a & 63) && (a & 63) + n > 64)
		bm[(a >> 6) + 1] |= v >> (64 - (a & 63));
}

/* Block mask mk (B bits, block_mask()) into bm at bit a, complemented
 * when inv. */
static void mask_put(uint64_t *bm, uint64_t a, const uint64_t *mk, uint32_t B, int inv)
{
	for (uint32_t w = 0; w * 64 < B; w++)
		bits_put(bm, a + w * 64, inv ? ~mk[w] : mk[w], B - w * 64 < 64 ? B - w * 64 : 64);
}

static inline int bit_get(const uint64_t *bm, uint64_t a)
{
	return (int)(bm[a >> 6] >> (a & 63)) & 1;
}

/* The block that holds item J (< pre[n_blocks]) of a prefix count: from
 * its directory's block, forward (a block holds up to B items and a
 * directory entry spans 2^LAY_DIR_SH, so a step or two; a binary search
 * over a plane's blocks was a dependent cache miss per step). */
enum { LAY_DIR_SH = 10 };
static inline uint32_t pre_find(const uint64_t *pre, const uint32_t *dir, uint64_t J)
{
	uint32_t b = dir[J >> LAY_DIR_SH];
	while (pre[b + 1] <= J)
		b++;
	return b;
}

static uint32_t *dir_build(const uint64_t *pre, uint32_t nb)
{
	uint64_t n = (pre[nb] >> LAY_DIR_SH) + 1;
	uint32_t *dir = xmalloc(n * sizeof *dir), b = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t J = i << LAY_DIR_SH;
		while (b + 1 < nb && pre[b + 1] <= J)
			b++;
		dir[i] = b;
	}
	return dir;
}

/* Slot j of plane q's new blocks (in block order). */
static uint64_t slot_at(const struct lay *L, uint32_t q, uint64_t j)
{
	uint64_t J = L->spre[(size_t)q * L->NB] + j;
	uint32_t b = pre_find(L->spre, L->sdir, J);
	return bits_select(L->sm, (uint64_t)b * L->B, J - L->spre[b]);
}

/* The layout is a pure function of a home: an overwritten unit is number
 * k of the overwritten homes (in physical order) and sits in the host part
 * of plane k % P, at k / P (host writes are striped over the planes in
 * turn); a unit only GC moved is number j of its plane's GC-moved homes
 * and sits at slot j of that plane (GC keeps a victim's order). */
uint64_t lay_l2p(const ssd *s, uint64_t home)
{
	const struct lay *L = s->lay;
	uint32_t b = (uint32_t)(home / L->B);
	uint64_t first = (uint64_t)b * L->B;
	if (bit_get(L->ov, home)) {
		uint64_t k = L->opre[b] + bits_rank(L->ov, first, home);
		uint32_t q = (uint32_t)(k % L->P);
		return slot_at(L, q, L->gn[q] + k / L->P);
	}
	ND_ASSERT(bit_get(L->gc, home));
	uint32_t q = b / L->NB;
	uint64_t j = L->gpre[b] - L->gpre[(size_t)q * L->NB] + bits_rank(L->gc, first, home);
	return slot_at(L, q, j);
}

uint32_t lay_p2l(const ssd *s, uint64_t pua)
{
	const struct lay *L = s->lay;
	if (!bit_get(L->sm, pua))
		return NONE;
	uint32_t b = (uint32_t)(pua / L->B), q = b / L->NB;
	uint64_t j = L->spre[b] + bits_rank(L->sm, (uint64_t)b * L->B, pua) - L->spre[(size_t)q * L->NB];
	uint64_t home, u;
	if (j < L->gn[q]) {
		uint64_t G = L->gpre[(size_t)q * L->NB] + j;
		uint32_t hb = pre_find(L->gpre, L->gdir, G);
		home = bits_select(L->gc, (uint64_t)hb * L->B, G - L->gpre[hb]);
	} else {
		uint64_t k = (j - L->gn[q]) * L->P + q;
		ND_ASSERT(k < L->n_ov);
		uint32_t hb = pre_find(L->opre, L->odir, k);
		home = bits_select(L->ov, (uint64_t)hb * L->B, k - L->opre[hb]);
	}
	u = ftl_fill_unit_at(s, home);
	return lt_get(&s->l2p, u) ? NONE : (uint32_t)u;   /* moved since */
}

void lay_free(ssd *s)
{
	struct lay *L = s->lay;
	if (!L)
		return;
	free(L->ov);
	free(L->gc);
	free(L->sm);
	free(L->opre);
	free(L->gpre);
	free(L->spre);
	free(L->odir);
	free(L->gdir);
	free(L->sdir);
	free(L->gn);
	free(L);
	s->lay = NULL;
}

/* Per plane, between the two passes of precond_steady(). */
struct pst {
	uint64_t np, S, H, C, ov;   /* fill units, survivors' valid, their holes, the rest, overwritten */
	uint32_t nf, used;
};

void precond_steady(ssd *s, uint64_t range, uint64_t over)
{
	const uint32_t B = s->units_per_block, NB = (uint32_t)s->p.blocks, pages = (uint32_t)s->p.pages;
	const uint32_t T = (uint32_t)s->p.gc_threshold_blocks, P = s->n_planes, W = (B + 63) / 64;
	const uint32_t cap = NB - T - 1;
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
	uint32_t *cand = xmalloc((size_t)s->n_blocks * sizeof *cand);
	uint32_t *vf = xmalloc((size_t)s->n_blocks * sizeof *vf), *vn = xmalloc(NB * sizeof *vn);
	uint64_t *mk = xmalloc(W * sizeof *mk);
	struct pst *ps = xcalloc(P, sizeof *ps);
	struct lay *L = xcalloc(1, sizeof *L);
	const size_t words = (size_t)((s->n_units_phys + 63) / 64);
	L->ov = xcalloc(words, sizeof *L->ov);
	L->gc = xcalloc(words, sizeof *L->gc);
	L->sm = xcalloc(words, sizeof *L->sm);
	L->opre = xcalloc((size_t)s->n_blocks + 1, sizeof *L->opre);
	L->gpre = xcalloc((size_t)s->n_blocks + 1, sizeof *L->gpre);
	L->spre = xcalloc((size_t)s->n_blocks + 1, sizeof *L->spre);
	L->gn = xcalloc(P, sizeof *L->gn);
	L->B = B;
	L->NB = NB;
	L->P = P;
	memset(s->erase_cnt, 0, s->erase_cnt_n * sizeof *s->erase_cnt);
	s->erase_sum = 0;
	s->erase_max = 0;
	/* Every overwritten unit left its home: those of a survivor (its
	 * holes) and, of a collected block's, as many as make each plane's
	 * share of the distinct units X = over / range capacities of uniform
	 * overwrites hit, range (1 - exp(-X)); the rest of a collected block's
	 * units GC moved. */
	const double dist = (double)range * -expm1(-(double)over / (double)range);
	const uint64_t share = (uint64_t)llround(dist / P);

	/* Pass 1: the survivors, the model's fill population, at random among
	 * the whole fill blocks, with valid counts from f's quantiles
	 * (ascending); the plane's overwritten units. */
	for (uint32_t p = 0; p < P; p++) {
		struct pst *t = &ps[p];
		const uint32_t base = p * NB;
		uint32_t nc = 0, *cd = cand + base;
		t->used = s->pl[p].fresh;
		for (uint32_t i = 0; i < t->used; i++) {
			struct block *bk = &s->blk[base + i];
			t->np += bk->valid;
			if (bk->state == BLK_FULL && bk->valid == B)
				cd[nc++] = i;
		}
		uint32_t nf = (uint32_t)llround(tot_f);
		nf = nf > nc ? nc : nf;
		nf = nf > cap ? cap : nf;
		for (uint32_t i = 0; i < nf; i++) {
			uint32_t j = i + (uint32_t)(wy_next(&x) % (nc - i)), c = cd[i];
			cd[i] = cd[j];
			cd[j] = c;
		}
		t->nf = nf;
		t->S = quantile_counts(cdf_f, B, nf, unit_draw(&x), vf + base);
		t->H = (uint64_t)nf * B - t->S;
		t->C = t->np - t->S - t->H;
		t->ov = share < t->H ? t->H : share > t->H + t->C ? t->H + t->C : share;
		L->n_ov += t->ov;
	}

	/* Pass 2, per plane: the survivors' and collected blocks' bits, the new
	 * blocks, free blocks and erase counts. */
	for (uint32_t p = 0; p < P; p++) {
		struct pst *t = &ps[p];
		struct plane *pl = &s->pl[p];
		const uint32_t base = p * NB, nf = t->nf, *cd = cand + base, *vfp = vf + base;
		/* the overwritten units it takes, striped: its turn of n_ov */
		const uint64_t hn = L->n_ov / P + (p < L->n_ov % P);
		uint64_t gn = t->C - (t->ov - t->H), np_new = gn + hn;
		/* New blocks: the model's number, at least enough for what the
		 * plane holds beyond its survivors, and room for both below the
		 * GC reserve (rounding can break that: then the emptiest
		 * survivors are dropped: collected, their valid units GC-moved). */
		uint32_t lo = 0, nn = (uint32_t)llround(tot_n);
		for (;;) {
			uint64_t need = (np_new + B - 1) / B;
			uint32_t room = cap - (nf - lo);
			if (need <= room) {
				nn = nn < need ? (uint32_t)need : nn;
				nn = nn > room ? room : nn;
				break;
			}
			ND_ASSERT(lo < nf);
			np_new += vfp[lo];
			gn += vfp[lo];
			lo++;
		}
		/* Survivors: valid positions uniformly drawn; their holes were
		 * overwritten.  Dropped ones: every unit left. */
		for (uint32_t k = 0; k < nf; k++) {
			const uint32_t b = base + cd[k];
			const int surv = k >= lo;
			role[b] = surv ? R_SURV : R_DROP;
			if (surv)
				s->blk[b].valid = vfp[k];
			const uint64_t a0 = (uint64_t)b * B;
			block_mask(mk, B, vfp[k], &x);
			mask_put(L->ov, a0, mk, B, 1);
			if (surv) {
				mask_put(s->fill_moved, a0, mk, B, 1);
			} else {
				moved_range(s, a0, B);
				mask_put(L->gc, a0, mk, B, 0);
			}
			L->opre[b + 1] = B - vfp[k];
			L->gpre[b + 1] = surv ? 0 : vfp[k];
		}
		/* Collected fill blocks: every fill unit left, a stochastically
		 * rounded part of the plane's remaining overwritten ones in each
		 * (at uniformly drawn positions), GC moved the rest. */
		uint64_t rem_k = t->ov - t->H, rem_c = t->C;
		for (uint32_t i = 0; i < t->used; i++) {
			const uint32_t b = base + i;
			if (role[b] != R_FREE)
				continue;
			const uint32_t cb = s->blk[b].valid;
			const uint64_t a0 = (uint64_t)b * B;
			moved_range(s, a0, B);
			uint64_t kb = rem_k;
			if (rem_c > cb) {
				kb = (uint64_t)((double)rem_k * cb / (double)rem_c + unit_draw(&x));
				uint64_t lo_k = rem_k > rem_c - cb ? rem_k - (rem_c - cb) : 0;
				kb = kb < lo_k ? lo_k : kb > cb ? cb : kb;
				kb = kb > rem_k ? rem_k : kb;
			}
			if (cb == B) {
				block_mask(mk, B, (uint32_t)kb, &x);
				mask_put(L->ov, a0, mk, B, 0);
				mask_put(L->gc, a0, mk, B, 1);
			} else {   /* the fill's last block of the plane: its real homes */
				uint64_t need = kb, left = cb;
				for (uint32_t j = 0; j < B; j++) {
					if (ftl_fill_unit_at(s, a0 + j) >= range)
						continue;
					ND_ASSERT(left > 0);
					uint64_t *bm = (uint64_t)(unit_draw(&x) * (double)left) < need ? L->ov : L->gc;
					need -= bm == L->ov;
					left--;
					bits_put(bm, a0 + j, 1, 1);
				}
				ND_ASSERT(left == 0 && need == 0);
			}
			L->opre[b + 1] = kb;
			L->gpre[b + 1] = cb - kb;
			rem_k -= kb;
			rem_c -= cb;
		}
		ND_ASSERT(rem_k == 0 && rem_c == 0);
		/* New blocks: the last nn of the others, with counts from the
		 * model's new population summing to what the plane holds, in
		 * random order, valid slots uniformly drawn; the rest are free.
		 * Erases: the model's, spread evenly over the blocks that were
		 * not survivors (a survivor is a fill block never erased). */
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
			uint32_t j = (uint32_t)(wy_next(&x) % k), c = vn[k - 1];
			vn[k - 1] = vn[j];
			vn[j] = c;
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
					uint32_t v = vn[got++];
					bk->valid = v;
					bk->state = BLK_FULL;
					bk->wp = (uint16_t)pages;
					bk->seal = ++s->seal_next;
					bk->lay = 1;
					block_mask(mk, B, v, &x);
					mask_put(L->sm, (uint64_t)b * B, mk, B, 0);
					L->spre[b + 1] = v;
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
		ND_ASSERT(got == nn && sum == np_new);
		pl->fresh = NB;
		pl->nfree = pl->nstack;
		pl->active[0] = pl->active[1] = NONE;
		L->gn[p] = gn;
	}
	for (uint32_t d = 0; d < s->n_dies; d++)
		s->die[d].next_plane = 0;
	for (uint32_t b = 0; b < s->n_blocks; b++) {
		L->opre[b + 1] += L->opre[b];
		L->gpre[b + 1] += L->gpre[b];
		L->spre[b + 1] += L->spre[b];
	}
	ND_ASSERT(L->opre[s->n_blocks] == L->n_ov);
	L->odir = dir_build(L->opre, s->n_blocks);
	L->gdir = dir_build(L->gpre, s->n_blocks);
	L->sdir = dir_build(L->spre, s->n_blocks);
	s->lay = L;
	s->erase_min = 0;
	while (!s->erase_cnt[s->erase_min])
		s->erase_min++;
	s->alloc_cur = 0;
	s->placed = 1;
	free(ps);
	free(mk);
	free(vn);
	free(vf);
	free(cand);
	free(role);
	free(h);
	free(f);
	free(nw);
	free(cdf_f);
	free(cdf_n);
}
