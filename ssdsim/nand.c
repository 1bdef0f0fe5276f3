/*
 * nand.c — page types, the RBER model, ECC decoding and read retry (the
 * model is described in nand.h); the timing of suspend lives with the die
 * queues in flash.c.
 */
#include "ssdsim/ssd_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "core/util.h"

const char *const ssd_cell_names[] = { "slc", "mlc", "tlc", "qlc", NULL };
const char *const ssd_suspend_names[] = { "off", "program", "erase", "both", NULL };
const char *const ssd_ecc_names[] = { "none", "bch", "ldpc", NULL };

static const char *const pt_names[] = { "lsb", "csb", "msb", "tsb" };

int ssd_cell_bits(int cell) { return cell + 1; }

int ssd_page_type(int cell, uint32_t p)
{
	switch (cell) {
	case SSD_CELL_MLC:
		return p % 2 ? SSD_PT_MSB : SSD_PT_LSB;
	case SSD_CELL_TLC:
		return p <= 5 ? SSD_PT_LSB : p <= 7 ? SSD_PT_CSB : (int)(((p - 8) >> 1) % 3);
	case SSD_CELL_QLC:
		return (int)(p % 4);
	default:
		return SSD_PT_LSB;
	}
}

/* The t-th page type a cell uses (t < bits per cell): MLC has LSB, MSB. */
static int pt_index(int cell, int t)
{
	if (cell == SSD_CELL_MLC && t == 1)
		return SSD_PT_MSB;
	return t;
}

double ssd_rber(const struct ssd_nand_params *n, double cycles, double days, double reads)
{
	double w = 1.0 + cycles / 1000.0;
	double r = n->rber_base + n->rber_pe_coef * pow(w, n->rber_pe_exp);
	if (days > 0)
		r += n->rber_ret_coef * pow(w, n->rber_ret_pe_exp) * pow(days, n->rber_ret_exp);
	r += n->rber_rd_coef * pow(w, n->rber_rd_pe_exp) * reads;
	return r < 0.5 ? r : 0.5;
}

static int ceil_log2(uint64_t x)
{
	int b = 0;
	while ((1ull << b) < x)
		b++;
	return b;
}

int ssd_nand_check(const void *vp, struct nd_err *err)
{
	const struct ssd_params *p = vp;
	const struct ssd_nand_params *n = &p->nx;
	if (n->cell != SSD_CELL_SLC) {
		int bits = ssd_cell_bits(n->cell);
		for (int t = 0; t < bits; t++) {
			int k = pt_index(n->cell, t);
			if (!n->t_read_pt_ns[k])
				return nd_errf(err, -EINVAL, "ssd.nand.t_read_%s_ns: missing (0) for "
					       "nand.cell %s", pt_names[k], ssd_cell_names[n->cell]);
		}
		for (int t = 0; t < bits; t++) {
			int k = pt_index(n->cell, t);
			if (!n->t_prog_pt_ns[k])
				return nd_errf(err, -EINVAL, "ssd.nand.t_prog_%s_ns: missing (0) for "
					       "nand.cell %s", pt_names[k], ssd_cell_names[n->cell]);
		}
	}
	if (n->suspend != SSD_SUSP_OFF) {
		if (p->sched != SSD_SCHED_READ_FIRST)
			return nd_errf(err, -EINVAL, "ssd.nand.suspend: %s needs ssd.nand.sched "
				       "read_first (reads must queue apart to suspend a program)",
				       ssd_suspend_names[n->suspend]);
		if (p->pw.enable)
			return nd_errf(err, -EINVAL, "ssd.nand.suspend: not modelled together with "
				       "ssd.power.enable (the budget would count the suspended "
				       "operation's current during the read)");
	}
	if (n->ecc != SSD_ECC_NONE) {
		uint64_t bits = 8ull * (uint64_t)(n->cw_bytes + n->parity_bytes);
		if (p->map_unit_bytes % n->cw_bytes)
			return nd_errf(err, -EINVAL, "ssd.nand.ecc.cw_bytes: %d does not divide "
				       "ssd.map_unit_bytes (%d)", n->cw_bytes, p->map_unit_bytes);
		if ((uint64_t)n->t_hard >= bits)
			return nd_errf(err, -EINVAL, "ssd.nand.ecc.t_hard: %d bits is not less than "
				       "the codeword's %llu bits", n->t_hard, (unsigned long long)bits);
		if (n->ecc == SSD_ECC_BCH) {
			/* A binary BCH code over GF(2^m), n < 2^m, needs up to m
			 * parity bits per corrected bit. */
			uint64_t need = (uint64_t)n->t_hard * (uint64_t)ceil_log2(bits + 1);
			if (need > 8ull * (uint64_t)n->parity_bytes)
				return nd_errf(err, -EINVAL, "ssd.nand.ecc.t_hard: BCH correcting %d "
					       "bits of a %llu-bit codeword needs %llu parity bits; "
					       "nand.ecc.parity_bytes gives %d", n->t_hard,
					       (unsigned long long)bits, (unsigned long long)need,
					       8 * n->parity_bytes);
		}
		if (n->ecc == SSD_ECC_LDPC) {
			if ((uint64_t)n->t_soft >= bits)
				return nd_errf(err, -EINVAL, "ssd.nand.ecc.t_soft: %d bits is not less "
					       "than the codeword's %llu bits", n->t_soft,
					       (unsigned long long)bits);
			if (n->t_soft < n->t_hard)
				return nd_errf(err, -EINVAL, "ssd.nand.ecc.t_soft: %d is below "
					       "nand.ecc.t_hard (%d)", n->t_soft, n->t_hard);
		}
		if (n->retry_max + (n->ecc == SSD_ECC_LDPC ? n->soft_senses : 0) > 250)
			return nd_errf(err, -EINVAL, "ssd.nand.retry.max_steps: %d retries plus "
				       "soft senses exceed 250 per read", n->retry_max);
	}
	return 0;
}

void nand_init(ssd *s, uint64_t seed)
{
	const struct ssd_nand_params *n = &s->p.nx;
	if (n->cell != SSD_CELL_SLC) {
		double v = s->p.vcc;
		for (int t = 0; t < ssd_cell_bits(n->cell); t++) {
			int k = pt_index(n->cell, t);
			char nm[32];
			snprintf(nm, sizeof nm, "read_page_%s", pt_names[k]);
			s->e_read_pt[k] = en_action(s->led, "nand", nm, v * s->p.i_read_ma * 1e-3 *
						    (double)n->t_read_pt_ns[k] * 1e-9);
			snprintf(nm, sizeof nm, "program_page_%s", pt_names[k]);
			s->e_prog_pt[k] = en_action(s->led, "nand", nm, v * s->p.i_prog_ma * 1e-3 *
						    (double)n->t_prog_pt_ns[k] * 1e-9);
		}
	}
	if (n->ecc != SSD_ECC_NONE) {
		/* Own stream: the drive's other draws stay what they were. */
		rng_seed(&s->err_rng, seed, 0xecc);
		s->rd_cnt = xcalloc(s->n_blocks, sizeof *s->rd_cnt);
		s->rd_epoch = xcalloc(s->n_blocks, sizeof *s->rd_epoch);
	}
}

void nand_fini(ssd *s)
{
	free(s->rd_cnt);
	free(s->rd_epoch);
	s->rd_cnt = s->rd_epoch = NULL;
}

uint64_t nand_read_ns(ssd *s, const struct fop *f)
{
	const struct ssd_nand_params *n = &s->p.nx;
	if (n->cell == SSD_CELL_SLC)
		return s->p.t_read_ns;
	uint64_t t = 0;
	for (uint32_t j = 0; j < f->npages; j++) {
		int k = ssd_page_type(n->cell, f->ids[j] % (uint32_t)s->p.pages);
		s->st.nand.reads_by_type[k]++;
		if (n->t_read_pt_ns[k] > t)
			t = n->t_read_pt_ns[k];
	}
	return t;
}

uint64_t nand_prog_ns(ssd *s, const struct fop *f)
{
	const struct ssd_nand_params *n = &s->p.nx;
	if (n->cell == SSD_CELL_SLC)
		return s->p.t_prog_ns;
	int k = f->ptype;
	s->st.nand.progs_by_type[k] += f->npages;
	return n->t_prog_pt_ns[k];
}

void nand_charge_read(ssd *s, const struct fop *f)
{
	const struct ssd_nand_params *n = &s->p.nx;
	if (n->cell == SSD_CELL_SLC) {
		en_add(s->led, s->e_read, f->npages);
		return;
	}
	for (uint32_t j = 0; j < f->npages; j++)
		en_add(s->led, s->e_read_pt[ssd_page_type(n->cell,
				f->ids[j] % (uint32_t)s->p.pages)], 1);
}

void nand_charge_prog(ssd *s, const struct fop *f)
{
	if (s->p.nx.cell == SSD_CELL_SLC)
		en_add(s->led, s->e_prog, f->npages);
	else
		en_add(s->led, s->e_prog_pt[f->ptype], f->npages);
}

/* Binomial(n, p) from the error stream: inversion of the CDF (exact; O(mean)
 * steps) while the mean is moderate, else the normal approximation (mean >
 * 500: far beyond any ECC limit anyway).  p0 = (1 - p)^n, passed in so a
 * page's codewords compute it once. */
static uint32_t binom_p0(struct rng *r, uint32_t n, double p, double p0)
{
	double mean = n * p;
	double u = rng_uniform(r);
	if (p <= 0)
		return 0;
	if (mean > 500) {
		double x = mean + sqrt(mean * (1 - p)) * rng_normal(r);
		return x < 0 ? 0 : x > n ? n : (uint32_t)llround(x);
	}
	double q = p / (1 - p);
	double pk = p0, cdf = pk;
	uint32_t k = 0;
	while (u > cdf && k < n) {
		pk *= (double)(n - k) / (double)(k + 1) * q;
		k++;
		cdf += pk;
		if (pk < 1e-300 && (double)k > mean)
			break;   /* the remaining tail is below double precision */
	}
	return k;
}

static double binom_zero(uint32_t n, double p) { return exp((double)n * log1p(-p)); }

static uint32_t binom(struct rng *r, uint32_t n, double p)
{
	return binom_p0(r, n, p, binom_zero(n, p));
}

/* RBER of a read of block b now (counts the read for read disturb). */
static double block_rber(ssd *s, uint32_t b)
{
	const struct ssd_nand_params *n = &s->p.nx;
	if (s->rd_epoch[b] != s->blk[b].erases) {
		s->rd_epoch[b] = s->blk[b].erases;
		s->rd_cnt[b] = 0;
	}
	uint32_t e = s->blk[b].erases;
	double reads = (double)s->rd_cnt[b]++;
	if (e >= 64)
		return ssd_rber(n, n->pe_cycles + e, n->retention_days, reads);
	if (!s->rber_ok[e]) {
		/* ssd_rber() split into its read-independent part and slope:
		 * the same operations in the same order, so the same bits. */
		double w = 1.0 + (n->pe_cycles + e) / 1000.0;
		double a = n->rber_base + n->rber_pe_coef * pow(w, n->rber_pe_exp);
		if (n->retention_days > 0)
			a += n->rber_ret_coef * pow(w, n->rber_ret_pe_exp) *
			     pow(n->retention_days, n->rber_ret_exp);
		s->rber_a[e] = a;
		s->rber_b[e] = n->rber_rd_coef * pow(w, n->rber_rd_pe_exp);
		s->rber_ok[e] = 1;
	}
	double r = s->rber_a[e] + s->rber_b[e] * reads;
	return r < 0.5 ? r : 0.5;
}

/* Decoding state of one read operation while its codewords are drawn. */
struct draw {
	uint32_t bits, retries, soft;
	uint8_t bad_page[64];
};

/* Draws one codeword of page j (model RBER rber, (1 - rber)^bits p0): its
 * retry steps and decoding; returns its residual errors (0 if decoded). */
static uint32_t draw_cw(ssd *s, struct fop *f, struct draw *d, double rber, double p0)
{
	const struct ssd_nand_params *n = &s->p.nx;
	struct ssd_nand_report *st = &s->st.nand;
	uint32_t e = binom_p0(&s->err_rng, d->bits, rber, p0);
	st->raw_bit_errors += e;
	st->codewords++;
	uint32_t step = 0;
	double excess = rber - n->rber_base;
	while (e > (uint32_t)n->t_hard && step < (uint32_t)n->retry_max) {
		step++;
		excess *= n->retry_scale;
		e = binom(&s->err_rng, d->bits, n->rber_base + excess);
	}
	if (step > d->retries)
		d->retries = step;
	if (e <= (uint32_t)n->t_hard)
		return 0;
	if (n->ecc == SSD_ECC_LDPC) {
		d->soft = 1;
		st->soft_decodes++;
		if (e <= (uint32_t)n->t_soft)
			return 0;
	}
	f->uncorr_cw++;
	f->resid_bits += e;
	return e;
}

void nand_draw_errors(ssd *s, struct fop *f)
{
	const struct ssd_nand_params *n = &s->p.nx;
	struct ssd_nand_report *st = &s->st.nand;
	struct draw d = { .bits = 8u * (uint32_t)(n->cw_bytes + n->parity_bytes) };
	uint32_t ub = (uint32_t)s->p.map_unit_bytes;
	uint32_t cpu = ub / (uint32_t)n->cw_bytes;       /* codewords per unit */
	uint32_t nunits = f->xfer_bytes / ub;
	double rber[64], p0[64];
	uint32_t np = f->npages < 64 ? f->npages : 64;
	for (uint32_t j = 0; j < np; j++) {
		rber[j] = block_rber(s, page_block(s, f->ids[j]));
		p0[j] = binom_zero(d.bits, rber[j]);
		st->rber_sum += rber[j];
		st->ecc_page_reads++;
		d.bad_page[j] = 0;
	}
	f->resid_bits = 0;
	f->uncorr_cw = 0;
	uint32_t drawn = 0;
	struct ssd_req *r = f->req;
	if (r && np > 1) {
		/* Which of the request's units this operation carries: those not
		 * in the buffer whose page it reads (as dispatch_read() grouped
		 * them, by ftl_read_pua(); nothing has changed since, the op is
		 * queued in the same event).  Each draws its codewords at its page's RBER. */
		uint64_t u0 = r->off_bytes / ub, u1 = (r->off_bytes + r->len_bytes - 1) / ub;
		for (uint64_t u = u0; u <= u1 && drawn < nunits; u++) {
			uint32_t lpn = (uint32_t)(u % s->n_lpn);
			if (buf_find(s, lpn) != NONE)
				continue;
			uint64_t pua = ftl_read_pua(s, lpn);
			if (pua == PUA_NONE)
				continue;
			uint32_t pg = pua_page(s, pua), j = 0;
			while (j < np && f->ids[j] != pg)
				j++;
			if (j == np)
				continue;
			uint32_t resid = 0;
			for (uint32_t c = 0; c < cpu; c++)
				resid += draw_cw(s, f, &d, rber[j], p0[j]);
			d.bad_page[j] |= resid > 0;
			drawn++;
			if (r->unit_errors)
				r->unit_errors(r, u, resid);
		}
	} else if (r) {
		/* One page: every unit of the request that is not buffered. */
		uint64_t u0 = r->off_bytes / ub, u1 = (r->off_bytes + r->len_bytes - 1) / ub;
		for (uint64_t u = u0; u <= u1 && drawn < nunits; u++) {
			uint32_t lpn = (uint32_t)(u % s->n_lpn);
			uint64_t pua;
			if (buf_find(s, lpn) != NONE || (pua = ftl_read_pua(s, lpn)) == PUA_NONE ||
			    pua_page(s, pua) != f->ids[0])
				continue;
			uint32_t resid = 0;
			for (uint32_t c = 0; c < cpu; c++)
				resid += draw_cw(s, f, &d, rber[0], p0[0]);
			d.bad_page[0] |= resid > 0;
			drawn++;
			if (r->unit_errors)
				r->unit_errors(r, u, resid);
		}
	}
	/* GC reads (no request), and any unit not matched above (a request
	 * split over more than 64 operations): codewords on the op's pages in
	 * turn. */
	for (uint32_t k = drawn; k < nunits; k++) {
		uint32_t j = (k - drawn) % np, resid = 0;
		for (uint32_t c = 0; c < cpu; c++)
			resid += draw_cw(s, f, &d, rber[j], p0[j]);
		d.bad_page[j] |= resid > 0;
	}
	for (uint32_t j = 0; j < np; j++)
		st->uncorrectable_pages += d.bad_page[j];
	st->flash_read_ops++;
	st->retry_steps += d.retries;
	st->reads_retried += d.retries > 0;
	st->uncorrectable_cw += f->uncorr_cw;
	st->residual_bit_errors += f->resid_bits;
	f->rounds = (uint8_t)(d.retries + (d.soft ? (uint32_t)n->soft_senses : 0));
	f->soft = (uint8_t)d.soft;
}

void ssd_nand_get(const ssd *s, struct ssd_nand_report *r)
{
	*r = s->st.nand;
	r->cell = s->p.nx.cell;
	r->suspend = s->p.nx.suspend;
	r->ecc = s->p.nx.ecc;
	r->rber_model_mean = r->ecc_page_reads ? r->rber_sum / (double)r->ecc_page_reads : 0;
	double bits = (double)r->codewords * 8.0 * (s->p.nx.cw_bytes + s->p.nx.parity_bytes);
	r->rber_measured = bits > 0 ? (double)r->raw_bit_errors / bits : 0;
}

cJSON *ssd_nand_json(const struct ssd_nand_report *r)
{
	if (r->cell == SSD_CELL_SLC && r->suspend == SSD_SUSP_OFF && r->ecc == SSD_ECC_NONE)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "cell", ssd_cell_names[r->cell]);
	if (r->cell != SSD_CELL_SLC) {
		cJSON *rd = cJSON_AddObjectToObject(o, "page_reads_by_type");
		cJSON *pg = cJSON_AddObjectToObject(o, "page_programs_by_type");
		for (int t = 0; t < ssd_cell_bits(r->cell); t++) {
			int k = pt_index(r->cell, t);
			cJSON_AddNumberToObject(rd, pt_names[k], (double)r->reads_by_type[k]);
			cJSON_AddNumberToObject(pg, pt_names[k], (double)r->progs_by_type[k]);
		}
	}
	cJSON_AddStringToObject(o, "suspend", ssd_suspend_names[r->suspend]);
	if (r->suspend != SSD_SUSP_OFF) {
		cJSON_AddNumberToObject(o, "suspensions", (double)r->suspensions);
	}
	cJSON_AddStringToObject(o, "ecc", ssd_ecc_names[r->ecc]);
	if (r->ecc != SSD_ECC_NONE) {
		cJSON_AddNumberToObject(o, "ecc_page_reads", (double)r->ecc_page_reads);
		cJSON_AddNumberToObject(o, "codewords", (double)r->codewords);
		cJSON_AddNumberToObject(o, "rber_model_mean", r->rber_model_mean);
		cJSON_AddNumberToObject(o, "rber_measured", r->rber_measured);
		cJSON_AddNumberToObject(o, "raw_bit_errors", (double)r->raw_bit_errors);
		cJSON_AddNumberToObject(o, "flash_read_ops", (double)r->flash_read_ops);
		cJSON_AddNumberToObject(o, "reads_retried", (double)r->reads_retried);
		cJSON_AddNumberToObject(o, "retry_steps", (double)r->retry_steps);
		cJSON_AddNumberToObject(o, "retries_per_read", r->flash_read_ops ?
					(double)r->retry_steps / (double)r->flash_read_ops : 0);
		cJSON_AddNumberToObject(o, "soft_decoded_codewords", (double)r->soft_decodes);
		cJSON_AddNumberToObject(o, "uncorrectable_codewords", (double)r->uncorrectable_cw);
		cJSON_AddNumberToObject(o, "uncorrectable_pages", (double)r->uncorrectable_pages);
		cJSON_AddNumberToObject(o, "residual_bit_errors", (double)r->residual_bit_errors);
	}
	return o;
}
