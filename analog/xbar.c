/*
 * xbar.c — crossbar tiles: configuration, chip instances (sampled cells and
 * comparators), the per-pulse value path and the cost path.
 *
 * Two value paths give the same answer when nothing analog is random:
 *  - exact: matches of every tile column counted with XNOR / popcount over
 *    the tile's rows (used when variation, stuck cells, read noise and
 *    comparator offsets are all off);
 *  - analog: column currents summed from per-cell conductances sampled for
 *    the chip, plus read noise, then decoded with nominal values.
 * Both then go through the same converter model and digital accumulation.
 */
#include "analog/xbar.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define XB_CLONES_POP __attribute__((target_clones("popcnt", "default")))
#else
#define XB_CLONES_POP
#endif

/* Hot arithmetic kernels over arrays whose bounds the callers establish run
 * uninstrumented in sanitizer builds (they dominate test time there). */
#if defined(__GNUC__) && !defined(__clang__)
#define ND_HOT __attribute__((no_sanitize("address", "undefined")))
#else
#define ND_HOT
#endif

/* ------------------------------------------------------------------ */
/* Config section "xbar"                                               */

static const char *const enc_names[] = { "unary", "bitserial", NULL };
static const char *const ref_names[] = { "centred", "calibrated", NULL };
static const char *const adc_kind_names[] = { "sar", "flash", NULL };

#define CFG_T struct xbar_params

static const struct cfg_key xbar_keys[] = {
	CFG_KEY_INT("tile.rows", rows, "rows", 128, 2, 1024,
	  "word-line pairs per tile, bias rows included (128 x 128 sub-arrays: XNOR-RRAM, Sun et al. DATE'18)"),
	CFG_KEY_INT("tile.cols", cols, "columns", 128, 1, 1024,
	  "bit lines per tile (XNOR-RRAM DATE'18: 128)"),
	CFG_KEY_INT("tile.bias_rows", bias_rows, "rows", 0, 0, 64,
	  "rows per tile holding the folded batch-norm threshold (lecture seed tile: 5 bias rows under 27 weight rows)"),
	CFG_KEY_DBL("device.r_lrs_ohm", r_lrs_ohm, "ohm", 100e3, 1e2, 1e9,
	  "low-resistance state (NeuroSim default 100 kOhm)"),
	CFG_KEY_DBL("device.r_hrs_ohm", r_hrs_ohm, "ohm", 1.7e6, 1e2, 1e12,
	  "high-resistance state (NeuroSim default 1.7 MOhm; on/off ratio 17)"),
	CFG_KEY_DBL("device.v_read", v_read, "V", 0.5, 0.01, 5.0,
	  "read voltage on a driven word line (NeuroSim, MNSIM: 0.5 V)"),
	CFG_KEY_DBL("device.t_pulse_ns", t_pulse_ns, "ns", 10.0, 0.1, 1e6,
	  "read pulse width, one crossbar read per input pulse (NeuroSim: 10 ns)"),
	CFG_KEY_BOOL("noise.d2d.enable", d2d_on, 0,
	  "device-to-device conductance variation G*(1+N(0,sigma)), fixed per chip instance (NeuroSim model)"),
	CFG_KEY_DBL("noise.d2d.sigma", d2d_sigma, "relative", 0.1, 0.0, 2.0,
	  "relative sigma of device-to-device variation (DESIGN.md user question: sigma = 0.1)"),
	CFG_KEY_BOOL("noise.read.enable", read_on, 0,
	  "cycle-to-cycle read noise, fresh every pulse (CrossSim / aihwkit read noise per MVM)"),
	CFG_KEY_DBL("noise.read.sigma", read_sigma, "relative", 0.05, 0.0, 10.0,
	  "relative sigma of a driven cell's read current per pulse (column sum: Gaussian with the summed variance)"),
	CFG_KEY_BOOL("noise.stuck.enable", stuck_on, 0,
	  "stuck-at-LRS / stuck-at-HRS cells, fixed per chip instance (MNSIM fault model)"),
	CFG_KEY_DBL("noise.stuck.lrs_frac", stuck_lrs, "fraction", 0.01, 0.0, 1.0,
	  "fraction of cells stuck at LRS (MNSIM example: 1 %)"),
	CFG_KEY_DBL("noise.stuck.hrs_frac", stuck_hrs, "fraction", 0.09, 0.0, 1.0,
	  "fraction of cells stuck at HRS (MNSIM example: 9 %)"),
	CFG_KEY_BOOL("noise.onoff.enable", onoff_on, 1,
	  "finite on/off ratio R_HRS/R_LRS (off: HRS conducts nothing, an ideal switch)"),
	CFG_KEY_BOOL("noise.offset.enable", offset_on, 0,
	  "sense-amp / ADC comparator offset, fixed per comparator and chip (XNOR-RRAM: offset costs accuracy)"),
	CFG_KEY_DBL("noise.offset.sigma", offset_sigma, "matches", 0.5, 0.0, 100.0,
	  "comparator offset sigma, in units of one match (I_LRS - I_HRS)"),
	CFG_KEY_INT("adc.bits", adc_bits, "bits", 3, 1, XBAR_MAX_ADC_BITS,
	  "converter resolution per tile column (XNOR-RRAM: 3-bit MLSA; 1 = a sense amp)"),
	CFG_KEY_BOOL("adc.ideal", adc_ideal, 0,
	  "an ideal converter that resolves every partial-sum level (overrides adc.bits; the digital-equivalence limit)"),
	CFG_KEY_ENUM("adc.ref", adc_ref, 1, ref_names,
	  "converter references: centred on the column's mid-scale, or calibrated per tile column and pulse on training images (programmable MLSA references)"),
	CFG_KEY_DBL("adc.range", adc_range, "fraction", 0.25, 0.001, 1.0,
	  "adc.ref=centred: full scale as a fraction of the column swing"),
	CFG_KEY_DBL("adc.range_sd", adc_range_sd, "sigma", 5.0, 0.1, 100.0,
	  "adc.ref=calibrated: full scale in standard deviations of the column's partial sum (5 = +-2.5 sigma)"),
	CFG_KEY_INT("adc.calib_n", adc_calib_n, "images", 2000, 10, 60000,
	  "adc.ref=calibrated: training images used to place the references (never test images)"),
	CFG_KEY_INT("adc.per_tile", adc_per_tile, "converters", 0, 0, 1024,
	  "converters per tile shared by its columns (0 = one per column, as XNOR-RRAM's MLSA per column)"),
	CFG_KEY_DBL("adc.e_pj", adc_e_pj, "pJ", 0, 0, 1e6,
	  "energy per conversion (0 = ISAAC ISCA'16 table: 4b 0.79 .. 10b 2.38 pJ, below 4b extrapolated at 0.2 pJ/bit)"),
	CFG_KEY_DBL("adc.t_ns", adc_t_ns, "ns", 0, 0, 1e6,
	  "conversion time (0 = bits + 1 ns, NeuroSim SAR model)"),
	CFG_KEY_ENUM("encoding.kind", enc, 0, enc_names,
	  "input encoding: unary (rate) with T pulses, or binary-weighted bit-serial with k pulses (GBO, Kim et al. DATE'22)"),
	CFG_KEY_INT("encoding.pulses", pulses, "pulses", 0, 0, 64,
	  "T (unary) or k (bit-serial) for every layer; 0 = native: unary with T = the layer's input steps (exact)"),
	CFG_KEY_STR("encoding.pulses_per_layer", pulses_per_layer, "pulses", "",
	  "comma-separated pulses per layer, overriding encoding.pulses (e.g. a GBO result \"2,1,8\")"),
	CFG_KEY_INT("mc.chips", chips, "chips", 10, 1, 100000,
	  "chip instances in the Monte Carlo (the issue asks for >= 10 per point)"),
	CFG_KEY_INT("mc.test_n", test_n, "images", 0, 0, 10000,
	  "test images evaluated per chip (0 = all 10,000)"),
	CFG_KEY_INT("max_tiles", max_tiles, "tiles", 65536, 1, 1 << 30,
	  "tiles on the chip; a network needing more is an error"),
	CFG_KEY_DBL("energy.e_drive_pj", e_drive_pj, "pJ", 0.42, 0, 1e6,
	  "word-line driver energy per driven line and pulse (ISAAC 1-bit DAC: 0.42 pJ)"),
	CFG_KEY_DBL("energy.e_add_pj", e_add_pj, "pJ", 0.1, 0, 1e6,
	  "digital add of a partial sum / threshold compare (int32 add, 45 nm: Horowitz ISSCC'14)"),
	CFG_KEY_DBL("energy.e_buf_pj_bit", e_buf_pj_bit, "pJ/bit", 0.156, 0, 1e6,
	  "activation buffer access per bit (8 KB SRAM, 10 pJ per 64-bit read: Horowitz ISSCC'14)"),
	CFG_KEY_DBL("energy.t_add_ns", t_add_ns, "ns", 1.0, 0, 1e6,
	  "one digital adder-tree stage (1 GHz logic)"),
	CFG_KEY_ENUM("periph.adc_kind", adc_kind, 0, adc_kind_names,
	  "converter: sar (energy by bits from the ISAAC table, area 2^(b-8) x a_sar8) or flash (2^b - 1 comparators, XNOR-RRAM's MLSA)"),
	CFG_KEY_DBL("periph.e_comp_pj", e_comp_pj, "pJ", 0.025, 0, 1e6,
	  "flash: energy per comparator decision (assumption: a 32 nm latch comparator, ~25 fJ; 3-bit MLSA = 7 decisions)"),
	CFG_KEY_DBL("periph.e_sh_pj", e_sh_pj, "pJ", 0.00098, 0, 1e6,
	  "sample-and-hold per column sample (ISAAC ISCA'16: 10 uW per 1,024 S+H at one sample per 100 ns)"),
	CFG_KEY_DBL("periph.e_ctrl_pj", e_ctrl_pj, "pJ", 1.0, 0, 1e6,
	  "control and row decoder per tile pulse (assumption: ~ two 32-bit register/SRAM accesses, Horowitz ISSCC'14)"),
	CFG_KEY_DBL("periph.e_dma_pj_bit", e_dma_pj_bit, "pJ/bit", 0.054, 0, 1e6,
	  "DMA / on-chip bus feeding inputs and returning scores (ISAAC eDRAM bus: 0.054 pJ per bit)"),
	CFG_KEY_INT("periph.ref_bits", ref_bits, "bits", 8, 1, 32,
	  "adc.ref=calibrated: bits per stored reference value (start and step per layer, pulse, row tile and column)"),
	CFG_KEY_INT("periph.out_bits", out_bits, "bits", 16, 1, 64,
	  "bits per class score returned over the DMA"),
	CFG_KEY_DBL("area.feature_nm", feature_nm, "nm", 32, 1, 1000,
	  "technology feature size F (ISAAC and its periphery figures: 32 nm)"),
	CFG_KEY_DBL("area.cell_f2", cell_f2, "F^2", 12, 1, 1000,
	  "one 1T1R cell (assumption: 12 F^2 for a minimum access transistor; XNOR-RRAM uses two cells per weight)"),
	CFG_KEY_DBL("area.drv_um2", a_drv_um2, "um^2", 0.166, 0, 1e6,
	  "word-line driver / 1-bit DAC (ISAAC: 170 um^2 for 1,024)"),
	CFG_KEY_DBL("area.sh_um2", a_sh_um2, "um^2", 0.039, 0, 1e6,
	  "sample-and-hold (ISAAC: 40 um^2 for 1,024)"),
	CFG_KEY_DBL("area.sar8_um2", a_sar8_um2, "um^2", 1200, 0, 1e9,
	  "8-bit SAR ADC (ISAAC: 9,600 um^2 for 8); other widths scaled by 2^(b-8)"),
	CFG_KEY_DBL("area.comp_um2", a_comp_um2, "um^2", 10, 0, 1e6,
	  "flash comparator / sense amp (assumption: ~10 um^2 at 32 nm)"),
	CFG_KEY_DBL("area.add_um2", a_add_um2, "um^2", 60, 0, 1e6,
	  "shift-add unit, one per converter (ISAAC: 60 um^2)"),
	CFG_KEY_DBL("area.sram_um2_bit", a_sram_um2_bit, "um^2/bit", 0.148, 0, 1e6,
	  "SRAM bit for buffers and stored references (Intel 32 nm 6T cell 0.148 um^2)"),
	CFG_KEY_DBL("area.ctrl_frac", a_ctrl_frac, "fraction", 0.1, 0, 10,
	  "control logic as a fraction of the rest of the tile (assumption)"),
	CFG_KEY_DBL("program.e_write_pj", e_write_pj, "pJ", 5.0, 0, 1e9,
	  "one SET / RESET pulse (metal-oxide RRAM: 0.1-10 pJ per switch, Wong et al. Proc. IEEE 2012)"),
	CFG_KEY_DBL("program.t_write_ns", t_write_ns, "ns", 50, 0.1, 1e9,
	  "one program pulse (RRAM SET/RESET ~10-100 ns, Wong et al. 2012)"),
	CFG_KEY_BOOL("program.noise.enable", prog_on, 0,
	  "programming error: a program pulse lands at G_target (1 + N(0, sigma)) (CrossSim programming error)"),
	CFG_KEY_DBL("program.noise.sigma", prog_sigma, "relative", 0.1, 0, 2,
	  "relative sigma of one program pulse's landing error"),
	CFG_KEY_BOOL("program.verify.enable", wv_on, 0,
	  "write-verify: read after each pulse, correct until within tolerance (Alibart et al., Nanotechnology 2012)"),
	CFG_KEY_DBL("program.verify.tol", wv_tol, "relative", 0.02, 0, 1,
	  "write-verify tolerance |G - G_target| / G_target (Alibart et al. 2012 tune to ~1 %)"),
	CFG_KEY_DBL("program.verify.step", wv_step, "relative", 0.3, 0, 0.99,
	  "sigma of the fraction of the remaining error a correction pulse leaves (residual e' = e x N(0, step))"),
	CFG_KEY_INT("program.verify.max_iter", wv_max_iter, "pulses", 100, 1, 10000,
	  "write-verify iteration cap per cell (correction pulses after the first)"),
	CFG_KEY_BOOL("drift.enable", drift_on, 0,
	  "conductance drift G(t) = G0 (t / t0)^-nu, nu per cell (aihwkit PCM-style drift model)"),
	CFG_KEY_DBL("drift.nu", drift_nu, "-", 0.005, 0, 1,
	  "mean drift exponent (assumption for RRAM, far below PCM's ~0.05; aihwkit PCM preset nu ~ 0.05)"),
	CFG_KEY_DBL("drift.nu_sd", drift_nu_sd, "-", 0.002, 0, 1,
	  "device-to-device sigma of nu (negative draws are clipped at 0)"),
	CFG_KEY_DBL("drift.t_s", drift_t_s, "s", 86400, 1e-9, 1e10,
	  "time since programming at inference (one day)"),
	CFG_KEY_DBL("drift.t0_s", drift_t0_s, "s", 1, 1e-9, 1e10,
	  "reference time t0 of the drift law (aihwkit: 20 s; 1 s here)"),
	CFG_KEY_BOOL("drift.compensate", drift_comp, 1,
	  "global drift compensation: the read-out gain is corrected by the expected (t/t0)^-nu of the mean nu, so only the spread of nu remains (aihwkit GlobalDriftCompensation)"),
	CFG_KEY_BOOL("retention.enable", ret_on, 0,
	  "retention loss: every state relaxes toward the mid conductance, G(t) = Gm + (G0 - Gm) exp(-t / tau) (NeuroSim retention)"),
	CFG_KEY_DBL("retention.tau_s", ret_tau_s, "s", 3.15e9, 1, 1e15,
	  "relaxation time constant (100 years: a 10-year retention spec loses ~10 %)"),
	CFG_KEY_DBL("retention.t_s", ret_t_s, "s", 3.15e8, 0, 1e15,
	  "age of the programmed state (10 years)"),
	CFG_KEY_BOOL("irdrop.enable", ir_on, 0,
	  "IR drop along word and bit lines, first order: a cell at row i, column j sees R_wire (j + 1 + rows - i) in series"),
	CFG_KEY_DBL("irdrop.r_wire_ohm", r_wire_ohm, "ohm", 1.0, 0, 1e6,
	  "wire resistance per cell segment (NeuroSim: ~1-3 ohm per cell pitch at 32 nm)"),
	CFG_END
};

static int xbar_check(const void *params, struct nd_err *err)
{
	const struct xbar_params *p = params;
	if (p->bias_rows >= p->rows)
		return nd_errf(err, -EINVAL,
			       "xbar.tile.bias_rows: %d bias rows leave no weight rows in a %d-row tile",
			       p->bias_rows, p->rows);
	if (p->r_hrs_ohm <= p->r_lrs_ohm)
		return nd_errf(err, -EINVAL,
			       "xbar.device.r_hrs_ohm: HRS (%g ohm) must exceed LRS (%g ohm)",
			       p->r_hrs_ohm, p->r_lrs_ohm);
	if (p->stuck_lrs + p->stuck_hrs > 1.0)
		return nd_errf(err, -EINVAL,
			       "xbar.noise.stuck: lrs_frac + hrs_frac = %g exceeds 1",
			       p->stuck_lrs + p->stuck_hrs);
	if (p->adc_per_tile > p->cols)
		return nd_errf(err, -EINVAL,
			       "xbar.adc.per_tile: %d converters for %d columns", p->adc_per_tile, p->cols);
	return 0;
}

const struct cfg_section xbar_section = {
	"xbar", xbar_keys, sizeof(struct xbar_params), xbar_check
};

/* ------------------------------------------------------------------ */
/* Geometry, encoding plan, checks                                     */

/* Converter bits in force: 0 = ideal (every level resolved). */
#define XB_BITS(p) ((p)->adc_ideal ? 0 : (p)->adc_bits)

static int data_rows(const struct xbar_params *p) { return p->rows - p->bias_rows; }

/* Rows and columns of layer l: the folded layer's (an unrolled conv layer
 * of analog/xbar_conv.c has n_in != dim[l]), or the dims of a model given
 * by its shape only. */
static int lay_in(const struct bnn_model *m, int l)
{
	return m->layer[l].n_in ? m->layer[l].n_in : m->dim[l];
}

static int lay_out(const struct bnn_model *m, int l)
{
	return m->layer[l].n_out ? m->layer[l].n_out : m->dim[l + 1];
}

int xbar_row_tiles(const struct xbar_params *p, const struct bnn_model *m, int l)
{
	return (lay_in(m, l) + data_rows(p) - 1) / data_rows(p);
}

int xbar_col_tiles(const struct xbar_params *p, const struct bnn_model *m, int l)
{
	return (lay_out(m, l) + p->cols - 1) / p->cols;
}

static int ceil_log2(int v)
{
	int b = 0;
	while ((1 << b) < v)
		b++;
	return b;
}

int xbar_layer_bits(const struct xbar_params *p, const struct bnn_model *m, int l)
{
	if (XB_BITS(p))
		return XB_BITS(p);
	/* a converter that resolves every level of the fullest tile: r + 1 levels */
	int r = data_rows(p) < lay_in(m, l) ? data_rows(p) : lay_in(m, l);
	return ceil_log2(r + p->bias_rows + 1);
}

int xbar_plan(const struct xbar_params *p, const struct bnn_model *m,
	      struct xbar_enc_plan *plan, struct nd_err *err)
{
	plan->nl = m->nl;
	for (int l = 0; l < m->nl; l++) {
		plan->enc[l] = p->enc;
		if (p->pulses)
			plan->pulses[l] = p->pulses;
		else if (p->enc == XBAR_ENC_UNARY)
			plan->pulses[l] = m->qin[l];
		else
			plan->pulses[l] = ceil_log2(m->qin[l] + 1);
		if (p->enc == XBAR_ENC_BITSERIAL && plan->pulses[l] > 16)
			return nd_errf(err, -EINVAL, "xbar.encoding.pulses: bit-serial k = %d exceeds 16",
				       plan->pulses[l]);
	}
	const char *s = p->pulses_per_layer;
	if (!*s)
		return 0;
	int l = 0;
	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || v < 1 || v > 64)
			return nd_errf(err, -EINVAL,
				       "xbar.encoding.pulses_per_layer: \"%s\": pulse counts must be integers in 1..64",
				       p->pulses_per_layer);
		if (l >= m->nl)
			return nd_errf(err, -EINVAL,
				       "xbar.encoding.pulses_per_layer: \"%s\" lists more than the model's %d layers",
				       p->pulses_per_layer, m->nl);
		if (p->enc == XBAR_ENC_BITSERIAL && v > 16)
			return nd_errf(err, -EINVAL, "xbar.encoding.pulses_per_layer: bit-serial k = %ld exceeds 16", v);
		plan->pulses[l++] = (int)v;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return nd_errf(err, -EINVAL, "xbar.encoding.pulses_per_layer: \"%s\": unexpected '%c'",
				       p->pulses_per_layer, *s);
	}
	if (l != m->nl)
		return nd_errf(err, -EINVAL,
			       "xbar.encoding.pulses_per_layer: \"%s\" gives %d layers, the model has %d",
			       p->pulses_per_layer, l, m->nl);
	return 0;
}

int xbar_check_mapping(const struct xbar_params *p, const struct bnn_model *m,
		       struct nd_err *err)
{
	long tiles = 0;
	for (int l = 0; l < m->nl; l++) {
		if (XB_BITS(p) == 0 && p->rows + 1 > (1 << XBAR_MAX_ADC_BITS))
			return nd_errf(err, -EINVAL,
				       "xbar.tile.rows: %d rows need a %d-bit converter to resolve every level; at most %d bits are modelled",
				       p->rows, ceil_log2(p->rows + 1), XBAR_MAX_ADC_BITS);
		tiles += (long)xbar_row_tiles(p, m, l) * xbar_col_tiles(p, m, l);
	}
	if (tiles > p->max_tiles)
		return nd_errf(err, -EINVAL,
			       "xbar.max_tiles: the %d-layer network needs %ld tiles of %dx%d, the chip has %d",
			       m->nl, tiles, p->rows, p->cols, p->max_tiles);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Chip instance                                                       */

/* Converter of one row tile: bins of `step` matches starting at `start`. */
struct xadc {
	int r;          /* rows in the tile (data + bias) */
	int bits;       /* 0 = every level */
	int levels;     /* 2^bits */
	int step;
	int start;
};

#define XB_CB 64   /* columns per block of delta: 4 registers of 16 floats */

/* Index of delta(i, j): column block cb = j / XB_CB of nc columns holds
 * rows 0..n_in-1 contiguously, nc floats each, so the rows of one row
 * tile and column block are one contiguous run. */
static inline size_t delta_at(int n_in, int no, int i, int j)
{
	int cb = j / XB_CB, nc = no - cb * XB_CB < XB_CB ? no - cb * XB_CB : XB_CB;
	return (size_t)cb * XB_CB * (size_t)n_in + (size_t)i * (size_t)nc + (size_t)(j - cb * XB_CB);
}

struct xlayer {
	int n_in, n_out, rt;
	int q;                    /* input steps */
	struct xadc *adc;         /* rt */
	int32_t *bias_v;          /* rt * n_out: programmed bias (D units) */
	int32_t *bias_m;          /* rt * n_out: bias cells that match */
	float *delta;             /* n_in * n_out, analog only: gA - gB, in column
				   * blocks of XB_CB (delta_at()); 64-byte aligned */
	float *cbase;             /* rt * n_out, analog only: sum gB + bias currents;
				   * 64-byte aligned */
	void *delta_mem, *cbase_mem;  /* the allocations behind them */
	float *off;               /* rt * n_out * ncomp, offsets (matches) */
	int ncomp;
	uint64_t *rmask_lo, *rmask_hi;  /* per row tile: first / last word masks */
	int *w_lo, *w_hi;         /* per row tile: word range [w_lo, w_hi] */
};

struct xbar_chip {
	const struct bnn_model *m;
	struct xbar_params p;
	uint64_t seed, chip;
	int analog;               /* any per-cell randomness */
	double g_h;               /* HRS conductance / LRS conductance */
	double read_scale;        /* read sigma factor incl. d2d second moment */
	struct xlayer L[BNN_MAX_LAYERS];
};

/* Stream ids: one per (purpose, chip, layer, image). */
static uint64_t stream_id(uint64_t kind, uint64_t chip, int layer, uint64_t item)
{
	return (kind << 60) ^ (chip << 36) ^ ((uint64_t)layer << 30) ^ item;
}

#define ST_CELLS 1u
#define ST_OFFS 2u
#define ST_READ 3u
#define ST_PROG 4u
#define ST_DRIFT 5u
#define ST_NAT 6u     /* noise-aware training: (step, layer) */

/* Programming of one cell: the first pulse lands at relative error e =
 * sigma N(0,1); with write-verify every further pulse leaves a fraction
 * step N(0,1) of the remaining error, until |e| <= tol or the cap.
 * *pulses gets the program pulses (verifies: one per pulse with
 * write-verify on).  Returns e. */
static double prog_cell(struct rng *r, const struct xbar_params *p, uint32_t *pulses)
{
	*pulses = 1;
	if (!(p->prog_on && p->prog_sigma > 0))
		return 0.0;
	double e = p->prog_sigma * rng_normal(r);
	if (!p->wv_on)
		return e;
	for (int it = 0; it < p->wv_max_iter && fabs(e) > p->wv_tol; it++) {
		e *= p->wv_step * rng_normal(r);
		(*pulses)++;
	}
	return e;
}

/* The static device effects applied to a programmed cell, each from its own
 * stream so that switching one on never moves another's draws. */
struct cell_fx {
	struct rng prog, drift;
	int on_prog, on_drift, on_ret, on_ir;
	double ln_t, ret_f, gm, ir_k;
	int rows;
};

static void fx_init(struct cell_fx *fx, const struct xbar_params *p, double gh,
		    uint64_t seed, uint64_t chip, int l)
{
	memset(fx, 0, sizeof *fx);
	fx->on_prog = p->prog_on && p->prog_sigma > 0;
	fx->on_drift = p->drift_on && (p->drift_nu > 0 || p->drift_nu_sd > 0);
	fx->on_ret = p->ret_on && p->ret_t_s > 0;
	fx->on_ir = p->ir_on && p->r_wire_ohm > 0;
	rng_seed(&fx->prog, seed, stream_id(ST_PROG, chip, l, 0));
	rng_seed(&fx->drift, seed, stream_id(ST_DRIFT, chip, l, 0));
	fx->ln_t = log(p->drift_t_s / p->drift_t0_s);
	fx->ret_f = exp(-p->ret_t_s / p->ret_tau_s);
	fx->gm = 0.5 * (1.0 + gh);
	fx->ir_k = p->r_wire_ohm / p->r_lrs_ohm;
	fx->rows = p->rows;
}

/* g (normalised to G_LRS) of a cell at row `row`, column `col` of its tile. */
static double cell_effects(struct cell_fx *fx, const struct xbar_params *p, double g,
			   int row, int col)
{
	if (fx->on_prog) {
		uint32_t n;
		g *= 1.0 + prog_cell(&fx->prog, p, &n);
		if (g < 0)
			g = 0;
	}
	if (fx->on_drift) {
		double nu = p->drift_nu;
		if (p->drift_nu_sd > 0)
			nu += p->drift_nu_sd * rng_normal(&fx->drift);
		if (nu < 0)
			nu = 0;
		g *= exp(-nu * fx->ln_t);
		if (p->drift_comp)   /* gain correction of the column read-out */
			g *= exp(p->drift_nu * fx->ln_t);
	}
	if (fx->on_ret)
		g = fx->gm + (g - fx->gm) * fx->ret_f;
	if (fx->on_ir)
		g /= 1.0 + g * fx->ir_k * (double)(col + 1 + fx->rows - row);
	return g;
}

static int fx_any(const struct xbar_params *p)
{
	return (p->prog_on && p->prog_sigma > 0) ||
	       (p->drift_on && (p->drift_nu > 0 || p->drift_nu_sd > 0)) ||
	       (p->ret_on && p->ret_t_s > 0) || (p->ir_on && p->r_wire_ohm > 0);
}

static double nominal_state(struct rng *r, const struct xbar_params *p,
			    double g_nom, double g_h)
{
	if (p->stuck_on) {
		double u = rng_uniform(r);
		if (u < p->stuck_lrs)
			g_nom = 1.0;
		else if (u < p->stuck_lrs + p->stuck_hrs)
			g_nom = g_h;
	}
	if (p->d2d_on && p->d2d_sigma > 0) {
		g_nom *= 1.0 + p->d2d_sigma * rng_normal(r);
		if (g_nom < 0)
			g_nom = 0;
	}
	return g_nom;
}

static void adc_setup(struct xadc *a, const struct xbar_params *p, int r)
{
	a->r = r;
	a->bits = XB_BITS(p);
	if (!a->bits) {
		a->levels = r + 1;
		a->step = 1;
		a->start = 0;
		return;
	}
	a->levels = 1 << a->bits;
	double s = p->adc_range * (r + 1) / a->levels;
	a->step = s < 1.0 ? 1 : (int)floor(s + 0.5);
	int span = a->levels * a->step;
	a->start = (int)floor((r + 1 - span) / 2.0);
}

/* Converts a decoded column value mhat (matches, real) to the
 * reconstructed value (matches). off: this column's comparator offsets. */
static inline double adc_convert(const struct xadc *a, int start, int step,
				 double mhat, const float *off, int ncomp)
{
	if (!a->bits || ncomp <= 1) {
		if (off)
			mhat += (double)off[0];
		if (!a->bits) {
			double v = floor(mhat + 0.5);
			return v < 0 ? 0 : (v > a->r ? a->r : v);
		}
		double c = floor((mhat - (start - 0.5)) / step);
		if (c < 0)
			c = 0;
		if (c > a->levels - 1)
			c = a->levels - 1;
		return start + c * step + (step - 1) * 0.5;
	}
	/* flash: count comparators whose (offset) reference lies below */
	int code = 0;
	for (int k = 1; k < a->levels; k++)
		code += mhat >= start - 0.5 + k * step + (double)off[k - 1];
	return start + code * step + (step - 1) * 0.5;
}

/* n bytes at a 64-byte boundary (a zmm load of a delta row never splits a
 * cache line: unaligned, the column currents ran at half speed); *mem gets
 * the allocation to free. */
static void *xb_align64(size_t n, void **mem)
{
	*mem = xmalloc(n + 64);
	return (void *)(((uintptr_t)*mem + 63) & ~(uintptr_t)63);
}

void xbar_chip_destroy(xbar_chip *c)
{
	if (!c)
		return;
	for (int l = 0; l < BNN_MAX_LAYERS; l++) {
		struct xlayer *L = &c->L[l];
		free(L->adc);
		free(L->bias_v);
		free(L->bias_m);
		free(L->delta_mem);
		free(L->cbase_mem);
		free(L->off);
		free(L->rmask_lo);
		free(L->rmask_hi);
		free(L->w_lo);
		free(L->w_hi);
	}
	free(c);
}

int xbar_chip_create(const struct xbar_params *p, const struct bnn_model *m,
		     uint64_t seed, uint64_t chip, xbar_chip **out,
		     struct nd_err *err)
{
	*out = NULL;
	int rc = xbar_check_mapping(p, m, err);
	if (rc)
		return rc;
	xbar_chip *c = xcalloc(1, sizeof *c);
	c->m = m;
	c->p = *p;
	c->seed = seed;
	c->chip = chip;
	c->analog = (p->d2d_on && p->d2d_sigma > 0) || (p->read_on && p->read_sigma > 0) ||
		    (p->stuck_on && p->stuck_lrs + p->stuck_hrs > 0) ||
		    (p->offset_on && p->offset_sigma > 0) || fx_any(p);
	c->g_h = p->onoff_on ? p->r_lrs_ohm / p->r_hrs_ohm : 0.0;
	c->read_scale = p->read_on ? p->read_sigma : 0.0;
	if (p->d2d_on)
		c->read_scale *= sqrt(1.0 + p->d2d_sigma * p->d2d_sigma);
	int R = data_rows(p), B = p->bias_rows;
	for (int l = 0; l < m->nl; l++) {
		const struct bnn_layer *ml = &m->layer[l];
		struct xlayer *L = &c->L[l];
		L->n_in = ml->n_in;
		L->n_out = ml->n_out;
		L->q = m->qin[l];
		L->rt = xbar_row_tiles(p, m, l);
		int rt = L->rt, no = L->n_out;
		L->adc = xcalloc((size_t)rt, sizeof *L->adc);
		L->bias_v = xcalloc((size_t)rt * no, sizeof(int32_t));
		L->bias_m = xcalloc((size_t)rt * no, sizeof(int32_t));
		L->rmask_lo = xcalloc((size_t)rt, sizeof(uint64_t));
		L->rmask_hi = xcalloc((size_t)rt, sizeof(uint64_t));
		L->w_lo = xcalloc((size_t)rt, sizeof(int));
		L->w_hi = xcalloc((size_t)rt, sizeof(int));
		for (int t = 0; t < rt; t++) {
			int i0 = t * R, i1 = (t + 1) * R < L->n_in ? (t + 1) * R : L->n_in;
			adc_setup(&L->adc[t], p, i1 - i0 + B);
			L->w_lo[t] = i0 >> 6;
			L->w_hi[t] = (i1 - 1) >> 6;
			L->rmask_lo[t] = ~0ull << (i0 & 63);
			L->rmask_hi[t] = (i1 & 63) ? ~0ull >> (64 - (i1 & 63)) : ~0ull;
		}
		/* bias cells: binary layers get a share of -thresh, centring
		 * each tile's range on the decision point */
		for (int j = 0; j < no; j++)
			for (int t = 0; t < rt; t++) {
				int v = -(B & 1);
				if (B && ml->kind == BNN_OUT_BINARY) {
					double want = -(double)ml->thresh[j] / L->q / rt;
					int vv = (int)floor((want + B) / 2.0 + 0.5) * 2 - B;
					v = vv < -B ? -B + 0 : (vv > B ? B : vv);
				}
				L->bias_v[(size_t)t * no + j] = v;
				L->bias_m[(size_t)t * no + j] = (v + B) / 2;
			}
		if (p->offset_on && p->offset_sigma > 0) {
			int bits = XB_BITS(p);
			L->ncomp = bits >= 1 && bits <= 6 ? (1 << bits) - 1 : 1;
			L->off = xmalloc(sizeof(float) * (size_t)rt * no * L->ncomp);
			struct rng r;
			rng_seed(&r, seed, stream_id(ST_OFFS, chip, l, 0));
			for (size_t k = 0; k < (size_t)rt * no * L->ncomp; k++)
				L->off[k] = (float)(p->offset_sigma * rng_normal(&r));
		}
		if (!c->analog)
			continue;
		/* per-cell conductances (normalised to G_LRS = 1) */
		L->delta = xb_align64(sizeof(float) * (size_t)L->n_in * no, &L->delta_mem);
		L->cbase = xb_align64(sizeof(float) * (size_t)rt * no, &L->cbase_mem);
		memset(L->cbase, 0, sizeof(float) * (size_t)rt * no);
		double *cb = xcalloc((size_t)rt * no, sizeof(double));
		struct rng r;
		rng_seed(&r, seed, stream_id(ST_CELLS, chip, l, 0));
		double gh = c->g_h;
		struct cell_fx fx;
		fx_init(&fx, p, gh, seed, chip, l);
		for (int j = 0; j < no; j++) {
			int col = j % p->cols;
			for (int i = 0; i < L->n_in; i++) {
				int w = bnn_w(ml, j, i);
				double ga = nominal_state(&r, p, w > 0 ? 1.0 : gh, gh);
				double gb = nominal_state(&r, p, w > 0 ? gh : 1.0, gh);
				ga = cell_effects(&fx, p, ga, i % R, col);
				gb = cell_effects(&fx, p, gb, i % R, col);
				L->delta[delta_at(L->n_in, no, i, j)] = (float)(ga - gb);
				cb[(size_t)(i / R) * no + j] += gb;
			}
			for (int t = 0; t < rt; t++) {
				int mb = L->bias_m[(size_t)t * no + j];
				int r0 = L->adc[t].r - B;
				for (int k = 0; k < B; k++)
					cb[(size_t)t * no + j] +=
						cell_effects(&fx, p, nominal_state(&r, p, k < mb ? 1.0 : gh, gh),
							     r0 + k, col);
			}
		}
		for (size_t k = 0; k < (size_t)rt * no; k++)
			L->cbase[k] = (float)cb[k];
		free(cb);
	}
	*out = c;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Value path                                                          */

/* Converter references of every (layer, pulse, row tile, column). */
struct xbar_refs {
	struct xbar_counts calib;  /* action counts of the calibration run */
	int nl;
	int pulses[BNN_MAX_LAYERS];
	int rt[BNN_MAX_LAYERS], no[BNN_MAX_LAYERS];   /* row tiles, columns */
	int32_t *start[BNN_MAX_LAYERS], *step[BNN_MAX_LAYERS];
	double *rstep[BNN_MAX_LAYERS];   /* 1.0 / step */
};

#define XB_BLK 32  /* images evaluated together: a delta block is reused */

struct ximg {
	uint8_t *la, *lb;         /* levels in / out */
	uint8_t *u;               /* requantised levels */
	uint64_t *bits;           /* pulse bit vector */
	float *cur;               /* rt * n_out currents */
	double *acc;              /* n_out */
	double *mh;               /* n_out: decoded columns of a row tile */
	double *z;                /* n_out: read-noise normals of a row tile */
	struct rng rng;           /* read noise of (chip, layer, image) */
};

struct xwork {
	int64_t *ssum[BNN_MAX_LAYERS], *ssq[BNN_MAX_LAYERS];  /* calibration */
	struct ximg im[XB_BLK];
	struct xbar_counts cnt;
};

XB_CLONES_POP
ND_HOT
static void exact_matches(const struct xlayer *L, const struct bnn_layer *ml,
			  const uint64_t *bits, float *cur)
{
	int no = L->n_out, W = ml->words;
	for (int t = 0; t < L->rt; t++) {
		int w0 = L->w_lo[t], w1 = L->w_hi[t];
		for (int j = 0; j < no; j++) {
			const uint64_t *wr = ml->wbits + (size_t)j * W;
			int c = 0;
			for (int k = w0; k <= w1; k++) {
				uint64_t x = ~(wr[k] ^ bits[k]);
				if (k == w0)
					x &= L->rmask_lo[t];
				if (k == w1)
					x &= L->rmask_hi[t];
				c += __builtin_popcountll(x);
			}
			cur[(size_t)t * no + j] = (float)(c + L->bias_m[(size_t)t * no + j]);
		}
	}
}

/* Static column currents (normalised) of one pulse, one row tile and one
 * column block of nc <= XB_CB columns for one image: cur = base + the
 * delta rows of the driven rows (delta: the column block's rows, nc floats
 * each), XB_CB = 64 columns held in four registers (independent add
 * chains: each column's sum is one serial chain, so the latency of a
 * float add is hidden only across columns); the image's set bits are
 * walked with count-trailing-zeros.  Every current is still cbase plus its
 * tile's driven rows in increasing row order, one float add each, so the
 * sums are those of the plain row-by-row loop.  The block of delta one row
 * tile x 64 columns (32 KiB at 128 rows) is contiguous and is reused by
 * every image of the evaluation block while it sits in L1 (the caller
 * walks blocks outside, images inside). */
typedef float xv16f __attribute__((vector_size(64)));
typedef float xv16fu __attribute__((vector_size(64), aligned(4)));
#define XV_LOAD(p) (*(const xv16fu *)(const void *)(p))
#define XV_STORE(p, v) (*(xv16fu *)(void *)(p) = (v))

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define XB_CLONES_CUR __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define XB_CLONES_CUR
#endif

XB_CLONES_CUR
ND_HOT
static void cur_block(const float *restrict delta, const float *restrict base,
		      const uint64_t *restrict bits, int i0, int i1, int nc,
		      float *restrict cur)
{
	int w0 = i0 >> 6, w1 = (i1 - 1) >> 6;
	if (nc == XB_CB) {
		xv16f a0 = XV_LOAD(base), a1 = XV_LOAD(base + 16);
		xv16f a2 = XV_LOAD(base + 32), a3 = XV_LOAD(base + 48);
		for (int w = w0; w <= w1; w++) {
			uint64_t x = bits[w];
			if (w == w0)
				x &= ~0ull << (i0 & 63);
			if (w == w1 && (i1 & 63))
				x &= ~0ull >> (64 - (i1 & 63));
			while (x) {
				int i = w * 64 + __builtin_ctzll(x);
				x &= x - 1;
				const float *d = delta + (size_t)i * XB_CB;
				a0 += XV_LOAD(d);
				a1 += XV_LOAD(d + 16);
				a2 += XV_LOAD(d + 32);
				a3 += XV_LOAD(d + 48);
			}
		}
		XV_STORE(cur, a0);
		XV_STORE(cur + 16, a1);
		XV_STORE(cur + 32, a2);
		XV_STORE(cur + 48, a3);
		return;
	}
	for (int j = 0; j < nc; j++)
		cur[j] = base[j];
	for (int w = w0; w <= w1; w++) {
		uint64_t x = bits[w];
		if (w == w0)
			x &= ~0ull << (i0 & 63);
		if (w == w1 && (i1 & 63))
			x &= ~0ull >> (64 - (i1 & 63));
		while (x) {
			int i = w * 64 + __builtin_ctzll(x);
			x &= x - 1;
			const float *d = delta + (size_t)i * (size_t)nc;
			for (int j = 0; j < nc; j++)
				cur[j] += d[j];
		}
	}
}

/* Currents of row tile t for nk images: im[k].cur[0..n_out). */
static void analog_currents(const struct xbar_chip *c, const struct xlayer *L, int t,
			    struct ximg *im, int nk)
{
	int no = L->n_out, R = data_rows(&c->p);
	int i0 = t * R, i1 = (t + 1) * R < L->n_in ? (t + 1) * R : L->n_in;
	const float *base = L->cbase + (size_t)t * (size_t)no;
	for (int c0 = 0; c0 < no; c0 += XB_CB) {
		int nc = no - c0 < XB_CB ? no - c0 : XB_CB;
		const float *d = L->delta + (size_t)c0 * (size_t)L->n_in;
		for (int k = 0; k < nk; k++)
			cur_block(d, base + c0, im[k].bits, i0, i1, nc, im[k].cur + c0);
	}
}

/* Decoded matches of the columns of one row tile from their sensed
 * currents (nominal values): mh[j] = (cur[j] - r g_HRS) / (1 - g_HRS);
 * with read noise (z != NULL: standard normals, one per column) the fresh
 * per-pulse noise of the driven cells, whose variance follows the clamped
 * estimate of the column's matches.  Returns the LRS reads (rounded
 * clamped matches).  The AVX2 form below does the same IEEE operations in
 * the same order lane by lane (max / min written as the C ternaries), so
 * the two agree bit for bit. */
/* always inlined: the AVX2 forms below finish their tails with it, and a
 * call from AVX code into a function compiled for SSE stalled on the
 * state transition (16 % of the CNN's noisy evaluation, perf); inlined,
 * the same scalar IEEE operations are emitted with VEX encodings. */
ND_HOT __attribute__((always_inline))
static inline uint64_t decode_gen(double gh, double r, double inv, double scale,
			   const float *restrict cur, const double *restrict z,
			   double *restrict mh, int j0, int no)
{
	uint64_t lrs = 0;
	double rgh = r * gh;
	for (int j = j0; j < no; j++) {
		double m = ((double)cur[j] - rgh) * inv;
		double ms = 0.0 > m ? 0.0 : m;
		ms = r < ms ? r : ms;
		lrs += (uint64_t)(int)(ms + 0.5);
		if (z) {
			double var = ms + (r - ms) * gh * gh;
			m += scale * sqrt(var) * inv * z[j];
		}
		mh[j] = m;
	}
	return lrs;
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2")))
ND_HOT
static uint64_t decode_avx2(double gh, double r, double inv, double scale,
			    const float *restrict cur, const double *restrict z,
			    double *restrict mh, int no)
{
	const __m256d vrgh = _mm256_set1_pd(r * gh), vinv = _mm256_set1_pd(inv);
	const __m256d vr = _mm256_set1_pd(r), zero = _mm256_setzero_pd();
	const __m256d half = _mm256_set1_pd(0.5), vgh = _mm256_set1_pd(gh);
	const __m256d vs = _mm256_set1_pd(scale);
	__m128i cnt = _mm_setzero_si128();
	int j = 0;
	for (; j + 4 <= no; j += 4) {
		__m256d m = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(cur + j)), vrgh), vinv);
		/* MAX(a, b) = a > b ? a : b, MIN(a, b) = a < b ? a : b */
		__m256d ms = _mm256_min_pd(vr, _mm256_max_pd(zero, m));
		cnt = _mm_add_epi32(cnt, _mm256_cvttpd_epi32(_mm256_add_pd(ms, half)));
		if (z) {
			__m256d var = _mm256_add_pd(ms, _mm256_mul_pd(_mm256_mul_pd(_mm256_sub_pd(vr, ms), vgh), vgh));
			__m256d d = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(vs, _mm256_sqrt_pd(var)), vinv),
						  _mm256_loadu_pd(z + j));
			m = _mm256_add_pd(m, d);
		}
		_mm256_storeu_pd(mh + j, m);
	}
	int32_t c4[4];
	_mm_storeu_si128((__m128i *)(void *)c4, cnt);
	uint64_t lrs = (uint64_t)c4[0] + (uint64_t)c4[1] + (uint64_t)c4[2] + (uint64_t)c4[3];
	return lrs + decode_gen(gh, r, inv, scale, cur, z, mh, j, no);
}

static uint64_t decode_cols(double gh, double r, double inv, double scale,
			    const float *cur, const double *z, double *mh, int no)
{
	static int have = -1;   /* racy but idempotent */
	if (have < 0) {
		__builtin_cpu_init();
		have = __builtin_cpu_supports("avx2") ? 1 : 0;
	}
	if (have)
		return decode_avx2(gh, r, inv, scale, cur, z, mh, no);
	return decode_gen(gh, r, inv, scale, cur, z, mh, 0, no);
}
#else
static uint64_t decode_cols(double gh, double r, double inv, double scale,
			    const float *cur, const double *z, double *mh, int no)
{
	return decode_gen(gh, r, inv, scale, cur, z, mh, 0, no);
}
#endif

/* Converter of the columns of one row tile (no per-comparator offsets):
 * adc_convert() in a form that vectorises: clamp, then truncate (floor for
 * the non-negative values left), x / 1 == x; IEEE operations lane by lane,
 * so the vector and scalar forms agree bit for bit.
 * acc[j] += wt * (2 qh - r - bias_j). */
__attribute__((always_inline))
static inline void convert_acc_gen(const struct xadc *a, const int32_t *restrict st,
			    const int32_t *restrict sp, const double *restrict mh,
			    const int32_t *restrict bias, double wt, double *restrict acc,
			    int j0, int no)
{
	double r = a->r, lm = a->levels - 1;
	for (int j = j0; j < no; j++) {
		double stj = a->bits ? (double)st[j] : 0.0, spj = a->bits ? (double)sp[j] : 1.0;
		double hi = a->bits ? lm : r;
		double v = (mh[j] - (stj - 0.5)) / spj;
		v = v < 0.0 ? 0.0 : v;
		v = v > hi ? hi : v;
		double k = (double)(int)v;
		double qh = stj + k * spj + (spj - 1.0) * 0.5;
		acc[j] += wt * (2.0 * qh - r - (double)bias[j]);
	}
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2")))
ND_HOT
static void convert_acc_avx2(const struct xadc *a, const int32_t *restrict st,
			     const int32_t *restrict sp, const double *restrict rsp,
			     const double *restrict mh,
			     const int32_t *restrict bias, double wt, double *restrict acc,
			     int no)
{
	const __m256d vr = _mm256_set1_pd(a->r), zero = _mm256_setzero_pd();
	const __m256d hi = _mm256_set1_pd(a->bits ? a->levels - 1 : a->r);
	const __m256d half = _mm256_set1_pd(0.5), one = _mm256_set1_pd(1.0);
	const __m256d two = _mm256_set1_pd(2.0), vw = _mm256_set1_pd(wt);
	const __m256d absm = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
	const __m256d eps = _mm256_set1_pd(0x1.0p-40);
	int j = 0;
	for (; j + 4 <= no; j += 4) {
		__m256d stj = a->bits ? _mm256_cvtepi32_pd(_mm_loadu_si128((const __m128i *)(const void *)(st + j))) : zero;
		__m256d spj = a->bits ? _mm256_cvtepi32_pd(_mm_loadu_si128((const __m128i *)(const void *)(sp + j))) : one;
		__m256d x = _mm256_sub_pd(_mm256_loadu_pd(mh + j), _mm256_sub_pd(stj, half)), v = x;
		if (a->bits) {
			/* k needs only floor(fl(x / sp)): q = x * fl(1 / sp) lies
			 * within 2^-51 |q| of fl(x / sp), so unless an integer lies
			 * within |q| 2^-40 of q, floor(q) is that floor; near one
			 * (about never) the exact quotient decides.  No divide in
			 * the common case (the divider is shared with decode's
			 * sqrt).  x / 1 == x needs none (bits = 0). */
			__m256d q = _mm256_mul_pd(x, _mm256_loadu_pd(rsp + j));
			__m256d e = _mm256_mul_pd(_mm256_and_pd(q, absm), eps);
			__m256d f1 = _mm256_floor_pd(_mm256_sub_pd(q, e));
			__m256d f2 = _mm256_floor_pd(_mm256_add_pd(q, e));
			if (__builtin_expect(_mm256_movemask_pd(_mm256_cmp_pd(f1, f2, _CMP_NEQ_OQ)) != 0, 0))
				v = _mm256_div_pd(x, spj);
			else
				v = f2;
		}
		/* max/min return the second operand when the first is not
		 * greater / less: the C ternaries of convert_acc_gen() */
		v = _mm256_max_pd(v, zero);
		v = _mm256_min_pd(v, hi);
		__m256d k = _mm256_cvtepi32_pd(_mm256_cvttpd_epi32(v));
		__m256d qh = _mm256_add_pd(_mm256_add_pd(stj, _mm256_mul_pd(k, spj)),
					   _mm256_mul_pd(_mm256_sub_pd(spj, one), half));
		__m256d bj = _mm256_cvtepi32_pd(_mm_loadu_si128((const __m128i *)(const void *)(bias + j)));
		__m256d d = _mm256_sub_pd(_mm256_sub_pd(_mm256_mul_pd(two, qh), vr), bj);
		_mm256_storeu_pd(acc + j, _mm256_add_pd(_mm256_loadu_pd(acc + j), _mm256_mul_pd(vw, d)));
	}
	convert_acc_gen(a, st, sp, mh, bias, wt, acc, j, no);
}

static void convert_acc(const struct xadc *a, const int32_t *st, const int32_t *sp,
			const double *rsp, const double *mh, const int32_t *bias, double wt,
			double *acc, int no)
{
	static int have = -1;   /* racy but idempotent */
	if (have < 0) {
		__builtin_cpu_init();
		have = __builtin_cpu_supports("avx2") ? 1 : 0;
	}
	if (have)
		convert_acc_avx2(a, st, sp, rsp, mh, bias, wt, acc, no);
	else
		convert_acc_gen(a, st, sp, mh, bias, wt, acc, 0, no);
}
#else
static void convert_acc(const struct xadc *a, const int32_t *st, const int32_t *sp,
			const double *rsp, const double *mh, const int32_t *bias, double wt,
			double *acc, int no)
{
	(void)rsp;
	convert_acc_gen(a, st, sp, mh, bias, wt, acc, 0, no);
}
#endif

/* Read-noise normals: xbar_normal_fill_multi() returns exactly the values
 * and stream positions of rng_normal_zig_fill() (core/rng.c;
 * Marsaglia-Tsang ziggurat, 128 strips) on each of several streams (one
 * per image), faster: two images' streams run interleaved in one loop (a
 * stream's xoshiro256** draws form a serial chain, two independent chains
 * keep more of the core busy), the state in registers, the fast path --
 * strip i = b & 127, x = u zx[i] with u = (b >> 11) 2^-52 - 1, accepted
 * when |x| < zx[i+1], about 97.2 % of the draws -- inline, and the wedge /
 * tail in core/rng.c's rng_zig_finish(), with its tables (rng_zig_x());
 * test_xbar checks the two fills agree bit for bit over millions of
 * draws, tails included.
 * (Eight streams in AVX-512 lanes were tried: the 2.8 % of lanes leaving
 * the fast path and the 128-entry table lookups, by gather or permutes,
 * made it slower than this.) */
#define XZ_N 128   /* strips */

static inline uint64_t xz_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* rng_normal_zig_fill() of two streams at once: their xoshiro chains are
 * independent, so the two interleaved keep more of the core busy than
 * one serial chain does. */
ND_HOT
static void normal_fill2(const double *xz_x, struct rng *ra, struct rng *rb,
			 double *restrict oa, double *restrict ob, int n)
{
	uint64_t a0 = ra->s[0], a1 = ra->s[1], a2 = ra->s[2], a3 = ra->s[3];
	uint64_t b0 = rb->s[0], b1 = rb->s[1], b2 = rb->s[2], b3 = rb->s[3];
	const double *zx1 = xz_x + 1;
	for (int k = 0; k < n; k++) {
		uint64_t da = xz_rotl(a1 * 5, 7) * 9, db = xz_rotl(b1 * 5, 7) * 9;
		uint64_t ta = a1 << 17, tb = b1 << 17;
		a2 ^= a0;
		b2 ^= b0;
		a3 ^= a1;
		b3 ^= b1;
		a1 ^= a2;
		b1 ^= b2;
		a0 ^= a3;
		b0 ^= b3;
		a2 ^= ta;
		b2 ^= tb;
		a3 = xz_rotl(a3, 45);
		b3 = xz_rotl(b3, 45);
		unsigned ia = (unsigned)(da & (XZ_N - 1)), ib = (unsigned)(db & (XZ_N - 1));
		double xa = ((double)(da >> 11) * 0x1.0p-52 - 1.0) * xz_x[ia];
		double xb = ((double)(db >> 11) * 0x1.0p-52 - 1.0) * xz_x[ib];
		if (__builtin_expect(!(fabs(xa) < zx1[ia]), 0)) {
			struct rng st = { { a0, a1, a2, a3 } };
			xa = rng_zig_finish(&st, da);
			a0 = st.s[0];
			a1 = st.s[1];
			a2 = st.s[2];
			a3 = st.s[3];
		}
		if (__builtin_expect(!(fabs(xb) < zx1[ib]), 0)) {
			struct rng st = { { b0, b1, b2, b3 } };
			xb = rng_zig_finish(&st, db);
			b0 = st.s[0];
			b1 = st.s[1];
			b2 = st.s[2];
			b3 = st.s[3];
		}
		oa[k] = xa;
		ob[k] = xb;
	}
	ra->s[0] = a0;
	ra->s[1] = a1;
	ra->s[2] = a2;
	ra->s[3] = a3;
	rb->s[0] = b0;
	rb->s[1] = b1;
	rb->s[2] = b2;
	rb->s[3] = b3;
}

void xbar_normal_fill_multi(struct rng *const *r, int nr, double *const *out, int n)
{
	const double *zx = rng_zig_x();
	int j = 0;
	for (; j + 2 <= nr; j += 2)
		normal_fill2(zx, r[j], r[j + 1], out[j], out[j + 1], n);
	if (j < nr)
		rng_normal_zig_fill(r[j], out[j], n);
}

/* Every column of one row tile for one image and pulse: decode (with the
 * fresh read noise z[0..no), drawn by the caller in column order),
 * convert, accumulate wt * partial sum into acc.  mh: scratch of no
 * values.  Returns the LRS reads. */
ND_HOT
static uint64_t post_tile(const struct xbar_chip *c, const struct xadc *a,
			  const int32_t *st, const int32_t *sp, const double *rsp, const float *cur,
			  const int32_t *bias, const float *off, int ncomp, double wt,
			  double *acc, int no, double *mh, const double *z)
{
	double r = a->r, inv = 1.0 / (1.0 - c->g_h);
	uint64_t lrs = 0;
	if (!c->analog) {
		for (int j = 0; j < no; j++) {
			lrs += (uint64_t)cur[j];
			mh[j] = (double)cur[j];
		}
	} else {
		lrs = decode_cols(c->g_h, r, inv, c->read_scale, cur,
				  c->read_scale > 0 ? z : NULL, mh, no);
	}
	if (a->bits && ncomp > 1 && off) {
		for (int j = 0; j < no; j++) {
			double qh = adc_convert(a, st[j], sp[j], mh[j], off + (size_t)j * ncomp, ncomp);
			acc[j] += wt * (2.0 * qh - r - bias[j]);
		}
		return lrs;
	}
	if (off)
		for (int j = 0; j < no; j++)
			mh[j] += (double)off[(size_t)j * ncomp];
	convert_acc(a, st, sp, rsp, mh, bias, wt, acc, no);
	return lrs;
}

/* Calibration run (exact chip): record the statistics of the partial sums. */
static uint64_t calib_tile(const struct xbar_chip *c, const struct xadc *a,
			   const float *cur, const int32_t *bias, double wt,
			   int64_t *ssum, int64_t *ssq, double *acc, int no)
{
	double r = a->r;
	uint64_t lrs = 0;
	ND_ASSERT(!c->analog);
	for (int j = 0; j < no; j++) {
		double mh = (double)cur[j];
		lrs += (uint64_t)cur[j];
		int64_t mi = (int64_t)mh;
		ssum[j] += mi;
		ssq[j] += mi * mi;
		acc[j] += wt * (2.0 * mh - r - bias[j]);
	}
	return lrs;
}

/* Pulse t's bit vector of n requantised levels u: unary bit i = [t < u[i]]
 * (thermometer), bit-serial bit i = bit t of u[i] (t <= 7).  The AVX2
 * form takes 32 levels per compare / shift and movemask. */
__attribute__((always_inline))
static inline void pulse_bits_gen(const uint8_t *u, int i0, int n, int unary, int t, uint64_t *bits)
{
	for (int i = i0; i < n; i++) {
		unsigned b = unary ? (unsigned)t < u[i] : ((unsigned)u[i] >> t) & 1u;
		bits[i >> 6] |= (uint64_t)b << (i & 63);
	}
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target("avx2")))
static void pulse_bits_avx2(const uint8_t *u, int n, int unary, int t, uint64_t *bits)
{
	const __m256i flip = _mm256_set1_epi8((char)0x80);
	const __m256i vt = _mm256_set1_epi8((char)(t ^ 0x80));
	int i = 0;
	for (; i + 32 <= n; i += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(u + i));
		/* unsigned u > t as a signed compare of both with the top bit
		 * flipped; bit t of every byte moved to its bit 7 */
		__m256i s = unary ? _mm256_cmpgt_epi8(_mm256_xor_si256(v, flip), vt)
				  : _mm256_slli_epi64(v, 7 - t);
		uint64_t mk = (uint32_t)_mm256_movemask_epi8(s);
		bits[i >> 6] |= mk << (i & 63);
	}
	pulse_bits_gen(u, i, n, unary, t, bits);
}

static void pulse_bits(const uint8_t *u, int n, int unary, int t, uint64_t *bits)
{
	static int have = -1;   /* racy but idempotent */
	memset(bits, 0, sizeof(uint64_t) * (size_t)((n + 63) / 64));
	if (have < 0) {
		__builtin_cpu_init();
		have = __builtin_cpu_supports("avx2") ? 1 : 0;
	}
	if (have)
		pulse_bits_avx2(u, n, unary, t, bits);
	else
		pulse_bits_gen(u, 0, n, unary, t, bits);
}
#else
static void pulse_bits(const uint8_t *u, int n, int unary, int t, uint64_t *bits)
{
	memset(bits, 0, sizeof(uint64_t) * (size_t)((n + 63) / 64));
	pulse_bits_gen(u, 0, n, unary, t, bits);
}
#endif

/* One layer for nk images: levels la -> D_Q per neuron (in acc). */
static void run_layer(const struct xbar_chip *c, const struct xbar_refs *refs,
		      int l, int enc, int pulses, struct xwork *w, int nk)
{
	const struct xlayer *L = &c->L[l];
	const struct bnn_layer *ml = &c->m->layer[l];
	struct xbar_layer_counts *k = &w->cnt.l[l];
	int no = L->n_out, n = L->n_in, q = L->q;
	int K = enc == XBAR_ENC_UNARY ? pulses : (1 << pulses) - 1;
	uint8_t req[256];   /* round(lev * K / q) for the levels 0..q */
	for (int v = 0; v <= q; v++)
		req[v] = (uint8_t)(((unsigned)v * (unsigned)K * 2u + (unsigned)q) / (2u * (unsigned)q));
	for (int e = 0; e < nk; e++) {
		struct ximg *im = &w->im[e];
		for (int i = 0; i < n; i++)
			im->u[i] = req[im->la[i]];
		for (int j = 0; j < no; j++)
			im->acc[j] = 0;
	}
	for (int t = 0; t < pulses; t++) {
		for (int e = 0; e < nk; e++)
			pulse_bits(w->im[e].u, n, enc == XBAR_ENC_UNARY, t, w->im[e].bits);
		double wt = enc == XBAR_ENC_UNARY ? 1.0 : (double)(1u << t);
		if (!c->analog)
			for (int e = 0; e < nk; e++)
				exact_matches(L, ml, w->im[e].bits, w->im[e].cur);
		/* row tile by row tile: the analog currents of one row tile for
		 * every image of the block (each delta block read once from
		 * memory per block), then their conversion; each image still
		 * draws its read noise in (pulse, row tile, column) order */
		for (int rt = 0; rt < L->rt; rt++) {
			const struct xadc *a = &L->adc[rt];
			size_t ij0 = (size_t)rt * no, ri0 = ((size_t)t * L->rt + rt) * no;
			if (c->analog)
				analog_currents(c, L, rt, w->im, nk);
			if (c->analog && c->read_scale > 0) {
				/* the read noise of the columns, drawn in column order */
				struct rng *rs[XB_BLK];
				double *zs[XB_BLK];
				for (int e = 0; e < nk; e++) {
					rs[e] = &w->im[e].rng;
					zs[e] = w->im[e].z;
				}
				xbar_normal_fill_multi(rs, nk, zs, no);
			}
			for (int e = 0; e < nk; e++) {
				struct ximg *im = &w->im[e];
				const float *cur = c->analog ? im->cur : im->cur + ij0;
				uint64_t lrs;
				if (w->ssum[l])
					lrs = calib_tile(c, a, cur, L->bias_v + ij0, wt,
							 w->ssum[l] + ri0, w->ssq[l] + ri0, im->acc, no);
				else
					lrs = post_tile(c, a, refs->start[l] + ri0, refs->step[l] + ri0,
							refs->rstep[l] + ri0,
							cur, L->bias_v + ij0,
							L->off ? L->off + ij0 * (size_t)L->ncomp : NULL,
							L->ncomp, wt, im->acc, no, im->mh, im->z);
				k->lrs_reads += lrs;
				k->hrs_reads += (uint64_t)a->r * (uint64_t)no - lrs;
				k->row_drives += (uint64_t)a->r * (uint64_t)((no + c->p.cols - 1) / c->p.cols);
			}
		}
		for (int e = 0; e < nk; e++) {
			k->tile_pulses += (uint64_t)L->rt * (uint64_t)((no + c->p.cols - 1) / c->p.cols);
			k->conversions += (uint64_t)L->rt * (uint64_t)no;
			k->adds += (uint64_t)L->rt * (uint64_t)no;
			k->buf_bits += (uint64_t)n;
			k->in_bits += (uint64_t)n;
		}
	}
	/* decoded sum -> D_Q units of the layer (exact when K == q) */
	if (K != q)
		for (int e = 0; e < nk; e++) {
			double *acc = w->im[e].acc;
			for (int j = 0; j < no; j++)
				acc[j] = acc[j] * q / K;
		}
	k->acts += (uint64_t)no * (uint64_t)nk;
}

/* Images img0 .. img0+nk-1: predictions into pred[0..nk). */
static void eval_block(const struct xbar_chip *c, const struct xbar_enc_plan *plan,
		       const struct xbar_refs *refs, const uint8_t *pixels, long img0,
		       int nk, struct xwork *w, int *pred)
{
	const struct bnn_model *m = c->m;
	int ob = 0;
	while ((1 << ob) <= m->q)
		ob++;
	for (int e = 0; e < nk; e++)
		bnn_input_levels(m, pixels + (size_t)(img0 + e) * 784, w->im[e].la);
	for (int l = 0; l < m->nl; l++) {
		if (c->read_scale > 0)
			for (int e = 0; e < nk; e++)
				rng_seed(&w->im[e].rng, c->seed,
					 stream_id(ST_READ, c->chip, l, (uint64_t)(img0 + e)));
		run_layer(c, refs, l, plan->enc[l], plan->pulses[l], w, nk);
		const struct bnn_layer *L = &m->layer[l];
		for (int e = 0; e < nk; e++) {
			struct ximg *im = &w->im[e];
			if (L->kind == BNN_OUT_SCORE) {
				double bs = -(double)INFINITY;
				pred[e] = 0;
				for (int j = 0; j < L->n_out; j++) {
					double s = bnn_score(m, l, j, im->acc[j]);
					if (s > bs) {
						bs = s;
						pred[e] = j;
					}
				}
			} else {
				for (int j = 0; j < L->n_out; j++)
					im->lb[j] = (uint8_t)bnn_act_level(m, l, j, im->acc[j]);
				w->cnt.l[l].buf_bits += (uint64_t)L->n_out * (uint64_t)ob;
				w->cnt.l[l].out_bits += (uint64_t)L->n_out * (uint64_t)ob;
				uint8_t *t = im->la;
				im->la = im->lb;
				im->lb = t;
			}
		}
	}
}

void xbar_counts_add(struct xbar_counts *d, const struct xbar_counts *s)
{
	d->images += s->images;
	for (int l = 0; l < BNN_MAX_LAYERS; l++) {
		d->l[l].tile_pulses += s->l[l].tile_pulses;
		d->l[l].row_drives += s->l[l].row_drives;
		d->l[l].lrs_reads += s->l[l].lrs_reads;
		d->l[l].hrs_reads += s->l[l].hrs_reads;
		d->l[l].conversions += s->l[l].conversions;
		d->l[l].adds += s->l[l].adds;
		d->l[l].acts += s->l[l].acts;
		d->l[l].buf_bits += s->l[l].buf_bits;
		d->l[l].in_bits += s->l[l].in_bits;
		d->l[l].out_bits += s->l[l].out_bits;
	}
}

static long chip_eval(const xbar_chip *c, const struct xbar_enc_plan *plan,
		      const struct xbar_refs *refs, const uint8_t *pixels,
		      const uint8_t *labels, long n, uint8_t *preds,
		      struct xbar_counts *counts, struct xbar_refs *calib_sums)
{
	const struct bnn_model *m = c->m;
	int mw = 0, mrt = 0;
	for (int l = 0; l <= m->nl; l++)
		if (m->dim[l] > mw)
			mw = m->dim[l];
	for (int l = 0; l < m->nl; l++)
		if (c->L[l].rt * m->dim[l + 1] > mrt)
			mrt = c->L[l].rt * m->dim[l + 1];
	long correct = 0;
	struct xbar_counts total;
	memset(&total, 0, sizeof total);
	total.nl = m->nl;
	size_t nref[BNN_MAX_LAYERS];
	for (int l = 0; l < m->nl; l++)
		nref[l] = (size_t)plan->pulses[l] * (size_t)c->L[l].rt * (size_t)c->L[l].n_out;
	long nblk = (n + XB_BLK - 1) / XB_BLK;
#ifdef _OPENMP
#pragma omp parallel reduction(+:correct)
#endif
	{
		struct xwork w;
		memset(&w, 0, sizeof w);
		for (int e = 0; e < XB_BLK; e++) {
			struct ximg *im = &w.im[e];
			im->la = xmalloc((size_t)mw);
			im->lb = xmalloc((size_t)mw);
			im->u = xmalloc((size_t)mw);
			im->bits = xmalloc(sizeof(uint64_t) * (size_t)(mw / 64 + 1));
			im->cur = xmalloc(sizeof(float) * (size_t)mrt);
			im->acc = xmalloc(sizeof(double) * (size_t)mw);
			im->mh = xmalloc(sizeof(double) * (size_t)mw);
			im->z = xmalloc(sizeof(double) * (size_t)mw);
		}
		if (calib_sums)
			for (int l = 0; l < m->nl; l++) {
				w.ssum[l] = xcalloc(nref[l], sizeof(int64_t));
				w.ssq[l] = xcalloc(nref[l], sizeof(int64_t));
			}
		/* dynamic: a block's results do not depend on the thread that
		 * runs it (per-image streams, integer counts and sums), and on a
		 * shared machine a preempted thread no longer holds the others
		 * at the end of a static share */
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
		for (long bi = 0; bi < nblk; bi++) {
			long i0 = bi * XB_BLK;
			int nk = n - i0 < XB_BLK ? (int)(n - i0) : XB_BLK, pr[XB_BLK];
			eval_block(c, plan, refs, pixels, i0, nk, &w, pr);
			for (int e = 0; e < nk; e++) {
				if (preds)
					preds[i0 + e] = (uint8_t)pr[e];
				if (labels && labels[i0 + e] == pr[e])
					correct++;
			}
			w.cnt.images += (uint64_t)nk;
		}
		/* integer counts and sums: the total does not depend on the order */
#ifdef _OPENMP
#pragma omp critical(xbar_counts)
#endif
		{
			xbar_counts_add(&total, &w.cnt);
			if (calib_sums)
				for (int l = 0; l < m->nl; l++)
					for (size_t k = 0; k < nref[l]; k++) {
						((int64_t *)calib_sums->start[l])[k] += w.ssum[l][k];
						((int64_t *)calib_sums->step[l])[k] += w.ssq[l][k];
					}
		}
		for (int l = 0; l < m->nl; l++) {
			free(w.ssum[l]);
			free(w.ssq[l]);
		}
		for (int e = 0; e < XB_BLK; e++) {
			free(w.im[e].la);
			free(w.im[e].lb);
			free(w.im[e].u);
			free(w.im[e].bits);
			free(w.im[e].cur);
			free(w.im[e].acc);
			free(w.im[e].mh);
			free(w.im[e].z);
		}
	}
	if (counts) {
		counts->nl = m->nl;
		xbar_counts_add(counts, &total);
	}
	return correct;
}

long xbar_chip_eval(const xbar_chip *c, const struct xbar_enc_plan *plan,
		    const xbar_refs *refs, const uint8_t *pixels,
		    const uint8_t *labels, long n, uint8_t *preds,
		    struct xbar_counts *counts)
{
	ND_ASSERT(refs && refs->nl == c->m->nl);
	for (int l = 0; l < c->m->nl; l++)
		ND_ASSERT(refs->pulses[l] == plan->pulses[l]);
	return chip_eval(c, plan, refs, pixels, labels, n, preds, counts, NULL);
}

/* One layer on its own (analog/xbar_conv.c runs unrolled conv layers
 * through it): the same run_layer() as a whole-network evaluation. */
_Static_assert(XBAR_LAYER_BLK <= XB_BLK, "xbar_layer_run blocks fit the work buffers");
struct xbar_scratch {
	struct xwork w;
	int nl;
};

xbar_scratch *xbar_scratch_create(const xbar_chip *c)
{
	xbar_scratch *s = xcalloc(1, sizeof *s);
	int mw = 0, mrt = 0;
	for (int l = 0; l < c->m->nl; l++) {
		const struct xlayer *L = &c->L[l];
		mw = L->n_in > mw ? L->n_in : mw;
		mw = L->n_out > mw ? L->n_out : mw;
		mrt = L->rt * L->n_out > mrt ? L->rt * L->n_out : mrt;
	}
	for (int e = 0; e < XBAR_LAYER_BLK; e++) {
		struct ximg *im = &s->w.im[e];
		im->la = xmalloc((size_t)mw);
		im->u = xmalloc((size_t)mw);
		im->bits = xmalloc(sizeof(uint64_t) * (size_t)(mw / 64 + 1));
		im->cur = xmalloc(sizeof(float) * (size_t)mrt);
		im->acc = xmalloc(sizeof(double) * (size_t)mw);
		im->mh = xmalloc(sizeof(double) * (size_t)mw);
		im->z = xmalloc(sizeof(double) * (size_t)mw);
	}
	s->nl = c->m->nl;
	return s;
}

void xbar_scratch_destroy(xbar_scratch *s)
{
	if (!s)
		return;
	for (int e = 0; e < XBAR_LAYER_BLK; e++) {
		free(s->w.im[e].la);
		free(s->w.im[e].u);
		free(s->w.im[e].bits);
		free(s->w.im[e].cur);
		free(s->w.im[e].acc);
		free(s->w.im[e].mh);
		free(s->w.im[e].z);
	}
	for (int l = 0; l < BNN_MAX_LAYERS; l++) {
		free(s->w.ssum[l]);
		free(s->w.ssq[l]);
	}
	free(s);
}

void xbar_layer_run(const xbar_chip *c, const struct xbar_enc_plan *plan,
		    const xbar_refs *refs, int l, const uint8_t *const *lev,
		    const uint64_t *item, int nk, double *const *dq,
		    xbar_scratch *s, struct xbar_counts *cnt)
{
	ND_ASSERT(nk >= 1 && nk <= XBAR_LAYER_BLK && l >= 0 && l < c->m->nl);
	/* a calibration scratch records statistics and needs no references */
	ND_ASSERT(s->w.ssum[l] ? !c->analog : refs && refs->pulses[l] == plan->pulses[l]);
	struct xwork *w = &s->w;
	const struct xlayer *L = &c->L[l];
	memset(&w->cnt.l[l], 0, sizeof w->cnt.l[l]);
	for (int e = 0; e < nk; e++) {
		memcpy(w->im[e].la, lev[e], (size_t)L->n_in);
		if (c->read_scale > 0)
			rng_seed(&w->im[e].rng, c->seed, stream_id(ST_READ, c->chip, l, item[e]));
	}
	run_layer(c, refs, l, plan->enc[l], plan->pulses[l], w, nk);
	for (int e = 0; e < nk; e++)
		memcpy(dq[e], w->im[e].acc, sizeof(double) * (size_t)L->n_out);
	if (cnt) {
		struct xbar_layer_counts *d = &cnt->l[l];
		const struct xbar_layer_counts *k = &w->cnt.l[l];
		d->tile_pulses += k->tile_pulses;
		d->row_drives += k->row_drives;
		d->lrs_reads += k->lrs_reads;
		d->hrs_reads += k->hrs_reads;
		d->conversions += k->conversions;
		d->adds += k->adds;
		d->acts += k->acts;
		d->buf_bits += k->buf_bits;
		d->in_bits += k->in_bits;
		d->out_bits += k->out_bits;
	}
}

void xbar_refs_get(const xbar_refs *r, int l, int pulse, int rt, int col,
		   int32_t *start, int32_t *step)
{
	ND_ASSERT(l >= 0 && l < r->nl && pulse >= 0 && pulse < r->pulses[l] &&
		  rt >= 0 && rt < r->rt[l] && col >= 0 && col < r->no[l]);
	size_t k = ((size_t)pulse * (size_t)r->rt[l] + (size_t)rt) * (size_t)r->no[l] + (size_t)col;
	*start = r->start[l][k];
	*step = r->step[l][k];
}

const struct xbar_counts *xbar_refs_calib_counts(const xbar_refs *r)
{
	return &r->calib;
}

void xbar_refs_destroy(xbar_refs *r)
{
	if (!r)
		return;
	for (int l = 0; l < r->nl; l++) {
		free(r->start[l]);
		free(r->step[l]);
		free(r->rstep[l]);
	}
	free(r);
}

/* The references of every layer from the int64 sums in r (placed by
 * calibration: samples[l] vectors seen by layer l) or, uncalibrated,
 * centred on mid-scale; the sums are replaced by the int32 references. */
static void refs_place(const struct xbar_params *p, const xbar_chip *c, xbar_refs *r,
		       int calib, const long *samples)
{
	for (int l = 0; l < r->nl; l++) {
		const struct xlayer *L = &c->L[l];
		int no = L->n_out;
		size_t nref = (size_t)r->pulses[l] * (size_t)L->rt * (size_t)no;
		long n = samples ? samples[l] : 0;
		int64_t *s1 = (int64_t *)(void *)r->start[l], *s2 = (int64_t *)(void *)r->step[l];
		int32_t *st = xmalloc(sizeof(int32_t) * nref);
		int32_t *sp = xmalloc(sizeof(int32_t) * nref);
		for (size_t k = 0; k < nref; k++) {
			int t = (int)((k / (size_t)no) % (size_t)L->rt);
			const struct xadc *a = &L->adc[t];
			if (!calib || n <= 0) {
				st[k] = a->start;
				sp[k] = a->step;
				continue;
			}
			double mu = (double)s1[k] / (double)n;
			double var = (double)s2[k] / (double)n - mu * mu;
			double sd = var > 0 ? sqrt(var) : 0.0;
			double stp = p->adc_range_sd * sd / a->levels;
			int step = stp < 1.0 ? 1 : (int)floor(stp + 0.5);
			int span = a->levels * step;
			st[k] = (int32_t)floor(mu - (span - 1) / 2.0 + 0.5);
			sp[k] = step;
		}
		free(r->start[l]);
		free(r->step[l]);
		r->start[l] = st;
		r->step[l] = sp;
		free(r->rstep[l]);
		r->rstep[l] = xmalloc(sizeof(double) * nref);
		for (size_t k = 0; k < nref; k++)
			r->rstep[l][k] = 1.0 / (double)sp[k];
	}
}

/* A noise-free instance of the chip (it gives the exact partial sums) and
 * zeroed int64 sums of every (layer, pulse, row tile, column). */
static int refs_begin(const struct xbar_params *p, const struct bnn_model *m,
		      const struct xbar_enc_plan *plan, xbar_chip **cp, xbar_refs **rp,
		      struct nd_err *err)
{
	struct xbar_params q = *p;
	q.d2d_on = q.read_on = q.stuck_on = q.offset_on = 0;
	q.prog_on = q.drift_on = q.ret_on = q.ir_on = 0;
	xbar_chip *c;
	int rc = xbar_chip_create(&q, m, 0, 0, &c, err);
	if (rc)
		return rc;
	xbar_refs *r = xcalloc(1, sizeof *r);
	r->nl = m->nl;
	for (int l = 0; l < m->nl; l++) {
		r->pulses[l] = plan->pulses[l];
		r->rt[l] = c->L[l].rt;
		r->no[l] = c->L[l].n_out;
		size_t nref = (size_t)plan->pulses[l] * (size_t)c->L[l].rt * (size_t)c->L[l].n_out;
		/* int64 sums during calibration, int32 references after */
		r->start[l] = xcalloc(nref, sizeof(int64_t));
		r->step[l] = xcalloc(nref, sizeof(int64_t));
	}
	*cp = c;
	*rp = r;
	return 0;
}

int xbar_refs_create(const struct xbar_params *p, const struct bnn_model *m,
		     const struct xbar_enc_plan *plan, const uint8_t *pixels,
		     long n, xbar_refs **out, struct nd_err *err)
{
	*out = NULL;
	xbar_chip *c;
	xbar_refs *r;
	int rc = refs_begin(p, m, plan, &c, &r, err);
	if (rc)
		return rc;
	int calib = p->adc_ref == XBAR_REF_CALIBRATED && XB_BITS(p) > 0;
	if (calib && n > 0)
		chip_eval(c, plan, NULL, pixels, NULL, n, NULL, &r->calib, r);
	long samples[BNN_MAX_LAYERS];
	for (int l = 0; l < m->nl; l++)
		samples[l] = n;
	refs_place(p, c, r, calib, samples);
	xbar_chip_destroy(c);
	*out = r;
	return 0;
}

/* Calibration of networks run layer by layer (analog/xbar.h). */
struct xbar_calib {
	struct xbar_params p;
	xbar_chip *chip;           /* noise-free instance */
	xbar_refs *refs;           /* int64 sums until xbar_calib_finish() */
	int on;                    /* statistics recorded (calibrated references) */
};

int xbar_calib_create(const struct xbar_params *p, const struct bnn_model *m,
		      const struct xbar_enc_plan *plan, xbar_calib **out,
		      struct nd_err *err)
{
	*out = NULL;
	xbar_calib *k = xcalloc(1, sizeof *k);
	k->p = *p;
	k->on = p->adc_ref == XBAR_REF_CALIBRATED && XB_BITS(p) > 0;
	int rc = refs_begin(p, m, plan, &k->chip, &k->refs, err);
	if (rc) {
		free(k);
		return rc;
	}
	k->refs->calib.nl = m->nl;
	*out = k;
	return 0;
}

int xbar_calib_needed(const xbar_calib *k)
{
	return k->on;
}

const xbar_chip *xbar_calib_chip(const xbar_calib *k)
{
	return k->chip;
}

xbar_scratch *xbar_calib_scratch(const xbar_calib *k)
{
	xbar_scratch *s = xbar_scratch_create(k->chip);
	for (int l = 0; l < k->refs->nl; l++) {
		size_t nref = (size_t)k->refs->pulses[l] * (size_t)k->chip->L[l].rt *
			      (size_t)k->chip->L[l].n_out;
		s->w.ssum[l] = xcalloc(nref, sizeof(int64_t));
		s->w.ssq[l] = xcalloc(nref, sizeof(int64_t));
	}
	return s;
}

void xbar_calib_merge(xbar_calib *k, const xbar_scratch *s, const struct xbar_counts *cnt)
{
	xbar_refs *r = k->refs;
	for (int l = 0; l < r->nl; l++) {
		size_t nref = (size_t)r->pulses[l] * (size_t)k->chip->L[l].rt *
			      (size_t)k->chip->L[l].n_out;
		int64_t *s1 = (int64_t *)(void *)r->start[l], *s2 = (int64_t *)(void *)r->step[l];
		if (!s)
			break;
		ND_ASSERT(s->w.ssum[l]);
		for (size_t i = 0; i < nref; i++) {
			s1[i] += s->w.ssum[l][i];
			s2[i] += s->w.ssq[l][i];
		}
	}
	if (cnt)
		xbar_counts_add(&r->calib, cnt);
}

xbar_refs *xbar_calib_finish(xbar_calib *k, const long *samples)
{
	xbar_refs *r = k->refs;
	refs_place(&k->p, k->chip, r, k->on, samples);
	xbar_chip_destroy(k->chip);
	free(k);
	return r;
}

void xbar_calib_destroy(xbar_calib *k)
{
	if (!k)
		return;
	xbar_chip_destroy(k->chip);
	xbar_refs_destroy(k->refs);
	free(k);
}

int xbar_monte_carlo(const struct xbar_params *p, const struct bnn_model *m,
		     const struct xbar_enc_plan *plan, const xbar_refs *refs,
		     uint64_t seed,
		     const uint8_t *pixels, const uint8_t *labels, long n,
		     struct xbar_mc *out, struct nd_err *err)
{
	memset(out, 0, sizeof *out);
	out->chips = p->chips;
	out->n = n;
	out->correct = xcalloc((size_t)p->chips, sizeof(long));
	double s = 0, ss = 0;
	out->min = 1;
	out->max = 0;
	for (int ch = 0; ch < p->chips; ch++) {
		xbar_chip *c;
		int rc = xbar_chip_create(p, m, seed, (uint64_t)ch, &c, err);
		if (rc) {
			xbar_mc_free(out);
			return rc;
		}
		out->correct[ch] = xbar_chip_eval(c, plan, refs, pixels, labels, n, NULL,
						  ch == 0 ? &out->counts : NULL);
		xbar_chip_destroy(c);
		double a = (double)out->correct[ch] / (double)n;
		s += a;
		ss += a * a;
		if (a < out->min)
			out->min = a;
		if (a > out->max)
			out->max = a;
	}
	out->mean = s / p->chips;
	double var = p->chips > 1 ? (ss - s * s / p->chips) / (p->chips - 1) : 0.0;
	out->sd = var > 0 ? sqrt(var) : 0.0;
	return 0;
}

void xbar_mc_free(struct xbar_mc *mc)
{
	if (!mc)
		return;
	free(mc->correct);
	mc->correct = NULL;
}

/* ------------------------------------------------------------------ */
/* Cost path                                                           */

double xbar_adc_energy_j(const struct xbar_params *p, int bits)
{
	if (p->adc_e_pj > 0)
		return p->adc_e_pj * 1e-12;
	/* ISAAC (ISCA'16, 32 nm) per-conversion energies, 4..10 bits; 9 b
	 * interpolated; below 4 b extrapolated at the 4->5 b slope. */
	static const double pj[] = { 0, 0.19, 0.39, 0.59, 0.79, 0.99, 1.20, 1.42, 1.67, 2.025, 2.38 };
	if (bits < 1)
		bits = 1;
	if (bits > XBAR_MAX_ADC_BITS)
		bits = XBAR_MAX_ADC_BITS;
	return pj[bits] * 1e-12;
}

double xbar_conv_energy_j(const struct xbar_params *p, int bits)
{
	if (p->adc_kind == XBAR_ADC_FLASH && p->adc_e_pj <= 0)
		return (double)((1 << bits) - 1) * p->e_comp_pj * 1e-12;
	return xbar_adc_energy_j(p, bits);
}

double xbar_conv_area_um2(const struct xbar_params *p, int bits)
{
	if (p->adc_kind == XBAR_ADC_FLASH)
		return (double)((1 << bits) - 1) * p->a_comp_um2;
	return p->a_sar8_um2 * pow(2.0, bits - 8);
}

/* Stored converter references of layer l (start and step per pulse, row
 * tile and column) when they are calibrated; 0 otherwise. */
static uint64_t layer_refs(const struct xbar_params *p, const struct bnn_model *m,
			   const struct xbar_enc_plan *plan, int l)
{
	if (p->adc_ref != XBAR_REF_CALIBRATED || XB_BITS(p) == 0)
		return 0;
	return 2ull * (uint64_t)plan->pulses[l] * (uint64_t)xbar_row_tiles(p, m, l) *
	       (uint64_t)lay_out(m, l);
}

void xbar_prices(const struct xbar_params *p, const struct bnn_model *m, int l,
		 struct xbar_prices *pr)
{
	double t = p->t_pulse_ns * 1e-9, v2 = p->v_read * p->v_read;
	int bits = xbar_layer_bits(p, m, l);
	pr->bits = bits;
	pr->drive = p->e_drive_pj * 1e-12;
	pr->lrs = v2 / p->r_lrs_ohm * t;
	pr->hrs = p->onoff_on ? v2 / p->r_hrs_ohm * t : 0.0;
	pr->sh = p->e_sh_pj * 1e-12;
	pr->conv = xbar_conv_energy_j(p, bits);
	pr->add = p->e_add_pj * 1e-12;
	pr->act = p->e_add_pj * 1e-12;
	pr->buf_bit = p->e_buf_pj_bit * 1e-12;
	pr->ctrl = p->e_ctrl_pj * 1e-12;
	pr->ref_read = (p->adc_ref == XBAR_REF_CALIBRATED && XB_BITS(p) > 0) ?
		       2.0 * p->ref_bits * p->e_buf_pj_bit * 1e-12 : 0.0;
	pr->dma_bit = p->e_dma_pj_bit * 1e-12;
}

int xbar_input_bits(const struct bnn_model *m)
{
	int b = 0;
	while ((1 << b) <= m->qin[0])
		b++;
	return b;
}

void xbar_cost(const struct xbar_params *p, const struct bnn_model *m,
	       const struct xbar_enc_plan *plan, const struct xbar_counts *cnt,
	       struct xbar_cost *out)
{
	memset(out, 0, sizeof *out);
	struct energy_ledger *lg = &out->ledger;
	en_init(lg);
	/* every component sits on the crossbar chip: "xbar." */
	struct xbar_prices p0;
	xbar_prices(p, m, 0, &p0);
	int h_drv = en_action(lg, "xbar.wl_driver", "drive", p0.drive);
	int h_lrs = en_action(lg, "xbar.array", "read_lrs", p0.lrs);
	int h_hrs = en_action(lg, "xbar.array", "read_hrs", p0.hrs);
	int h_sh = en_action(lg, "xbar.sample_hold", "sample", p0.sh);
	int h_add = en_action(lg, "xbar.shift_add", "accumulate", p0.add);
	int h_act = en_action(lg, "xbar.activation", "threshold", p0.act);
	int h_in = en_action(lg, "xbar.in_buffer", "read_bit", p0.buf_bit);
	int h_out = en_action(lg, "xbar.out_buffer", "write_bit", p0.buf_bit);
	int h_ctl = en_action(lg, "xbar.control", "tile_pulse", p0.ctrl);
	/* stored references are re-read for every pulse of a multi-pulse
	 * layer; a one-pulse layer keeps them in the converter's reference
	 * latches (their storage is charged as area) */
	int h_ref = -1;
	for (int l = 0; l < m->nl; l++)
		if (p0.ref_read > 0 && plan->pulses[l] > 1)
			h_ref = en_action(lg, "xbar.ref_store", "read_refs", p0.ref_read);
	int h_dma = en_action(lg, "xbar.dma", "bit", p0.dma_bit);
	double slowest = 0;
	for (int l = 0; l < m->nl; l++) {
		const struct xbar_layer_counts *k = &cnt->l[l];
		struct xbar_prices pr;
		xbar_prices(p, m, l, &pr);
		char act[32];
		snprintf(act, sizeof act, "%s_%db", p->adc_kind == XBAR_ADC_FLASH ? "flash" : "sar",
			 pr.bits);
		int h_adc = en_action(lg, "xbar.adc", act, pr.conv);
		en_add(lg, h_drv, k->row_drives);
		en_add(lg, h_lrs, k->lrs_reads);
		en_add(lg, h_hrs, k->hrs_reads);
		en_add(lg, h_sh, k->conversions);
		en_add(lg, h_adc, k->conversions);
		en_add(lg, h_add, k->adds);
		en_add(lg, h_act, k->acts);
		en_add(lg, h_in, k->in_bits);
		en_add(lg, h_out, k->out_bits);
		en_add(lg, h_ctl, k->tile_pulses);
		double ref = plan->pulses[l] > 1 ? pr.ref_read : 0.0;
		if (ref > 0)
			en_add(lg, h_ref, k->conversions);
		double lj = pr.drive * (double)k->row_drives + pr.lrs * (double)k->lrs_reads +
			    pr.hrs * (double)k->hrs_reads + (pr.sh + pr.conv + ref) * (double)k->conversions +
			    pr.add * (double)k->adds + pr.act * (double)k->acts +
			    pr.buf_bit * (double)(k->in_bits + k->out_bits) + pr.ctrl * (double)k->tile_pulses;
		out->layer_j[l] = cnt->images ? lj / (double)cnt->images : 0.0;
		out->layer_ops[l] = 2.0 * lay_in(m, l) * lay_out(m, l);
		out->layer_tops_per_w[l] = out->layer_j[l] > 0 ? out->layer_ops[l] / out->layer_j[l] * 1e-12 : 0.0;
		out->ops_per_image += out->layer_ops[l];
		out->tiles += (long)xbar_row_tiles(p, m, l) * xbar_col_tiles(p, m, l);
		/* latency: every tile of the layer in parallel; per pulse one
		 * read, then the columns of a tile share its converters */
		int cols_used = lay_out(m, l) < p->cols ? lay_out(m, l) : p->cols;
		int rounds = p->adc_per_tile ? (cols_used + p->adc_per_tile - 1) / p->adc_per_tile : 1;
		double t_conv = p->adc_t_ns > 0 ? p->adc_t_ns : pr.bits + 1.0;
		int rt = xbar_row_tiles(p, m, l);
		double ns = plan->pulses[l] * (p->t_pulse_ns + rounds * t_conv) +
			    p->t_add_ns * (ceil_log2(rt) + 1);
		out->layer_ns[l] = ns;
		out->latency_ns += ns;
		if (ns > slowest)
			slowest = ns;
	}
	/* inputs in, class scores out */
	uint64_t dma_bits = cnt->images * ((uint64_t)m->dim[0] * (uint64_t)xbar_input_bits(m) +
					   (uint64_t)m->dim[m->nl] * (uint64_t)p->out_bits);
	en_add(lg, h_dma, dma_bits);
	out->dma_j = cnt->images ? p0.dma_bit * (double)dma_bits / (double)cnt->images : 0.0;
	double total = en_total_j(lg);
	out->j_per_image = cnt->images ? total / (double)cnt->images : 0.0;
	out->tops_per_w = out->j_per_image > 0 ? out->ops_per_image / out->j_per_image * 1e-12 : 0.0;
	out->images_per_s = slowest > 0 ? 1e9 / slowest : 0.0;
	struct xbar_area ar;
	xbar_area(p, m, plan, &ar);
	out->chip_mm2 = ar.chip_mm2;
	out->tops_per_mm2 = ar.chip_mm2 > 0 ? out->ops_per_image * out->images_per_s * 1e-12 / ar.chip_mm2 : 0.0;
	for (int l = 0; l < m->nl; l++)
		out->layer_tops_per_mm2[l] = ar.layer_mm2[l] > 0 && out->layer_ns[l] > 0 ?
			out->layer_ops[l] * (1e9 / out->layer_ns[l]) * 1e-12 / ar.layer_mm2[l] : 0.0;
}

void xbar_tile_area(const struct xbar_params *p, int bits, struct xbar_tile_area *a)
{
	double f2 = p->feature_nm * p->feature_nm * 1e-6;   /* um^2 */
	int nadc = p->adc_per_tile ? p->adc_per_tile : p->cols;
	a->cells = 2.0 * p->rows * p->cols * p->cell_f2 * f2;
	a->drivers = 2.0 * p->rows * p->a_drv_um2;
	a->sh = (double)p->cols * p->a_sh_um2;
	a->adc = nadc * xbar_conv_area_um2(p, bits);
	a->shift_add = nadc * p->a_add_um2;
	/* input bits of one pulse and the partial sums of the columns (32 b) */
	a->buffers = ((double)p->rows + 32.0 * p->cols) * p->a_sram_um2_bit;
	double rest = a->cells + a->drivers + a->sh + a->adc + a->shift_add + a->buffers;
	a->control = p->a_ctrl_frac * rest;
	a->total = rest + a->control;
}

void xbar_area(const struct xbar_params *p, const struct bnn_model *m,
	       const struct xbar_enc_plan *plan, struct xbar_area *out)
{
	memset(out, 0, sizeof *out);
	int mw = 0;
	for (int l = 0; l <= m->nl; l++)
		if (m->dim[l] > mw)
			mw = m->dim[l];
	double um2 = 0;
	for (int l = 0; l < m->nl; l++) {
		struct xbar_tile_area ta;
		xbar_tile_area(p, xbar_layer_bits(p, m, l), &ta);
		long tiles = (long)xbar_row_tiles(p, m, l) * xbar_col_tiles(p, m, l);
		double refs = (double)layer_refs(p, m, plan, l) * p->ref_bits * p->a_sram_um2_bit;
		out->tiles[l] = tiles;
		out->tile_mm2[l] = ta.total * 1e-6;
		out->ref_mm2[l] = refs * 1e-6;
		out->layer_mm2[l] = (tiles * ta.total + refs) * 1e-6;
		out->util[l] = (double)lay_in(m, l) * lay_out(m, l) /
			       ((double)tiles * (p->rows - p->bias_rows) * p->cols);
		um2 += tiles * ta.total + refs;
		out->ref_bits += layer_refs(p, m, plan, l) * (uint64_t)p->ref_bits;
	}
	/* global activation buffer: two layers' worth of 8-bit levels */
	out->global_buf_mm2 = 2.0 * mw * 8 * p->a_sram_um2_bit * 1e-6;
	out->chip_mm2 = um2 * 1e-6 + out->global_buf_mm2;
}

/* Programs one cell: counts its pulses, the row's slowest cell, and a cell
 * left outside tolerance at the cap. */
static void count_cell(struct rng *r, const struct xbar_params *p,
		       struct xbar_program *out, uint32_t *rowmax)
{
	uint32_t n;
	double e = prog_cell(r, p, &n);
	out->pulses += n;
	out->cells++;
	if (n > *rowmax)
		*rowmax = n;
	if (p->wv_on && fabs(e) > p->wv_tol)
		out->capped++;
}

int xbar_program_cost(const struct xbar_params *p, const struct bnn_model *m,
		      uint64_t seed, uint64_t chip, struct xbar_program *out,
		      struct nd_err *err)
{
	memset(out, 0, sizeof *out);
	int rc = xbar_check_mapping(p, m, err);
	if (rc)
		return rc;
	int R = data_rows(p), B = p->bias_rows;
	double t_verify = p->t_pulse_ns + (p->adc_t_ns > 0 ? p->adc_t_ns : XB_BITS(p) + 1.0);
	double gh = p->onoff_on ? p->r_lrs_ohm / p->r_hrs_ohm : 0.0;
	double slowest = 0;
	for (int l = 0; l < m->nl; l++) {
		const struct bnn_layer *ml = &m->layer[l];
		int rt = xbar_row_tiles(p, m, l), ct = xbar_col_tiles(p, m, l), no = ml->n_out;
		/* rows of cells (WL and WLB of each weight row, then bias rows)
		 * are written one at a time, all columns of a tile in parallel:
		 * a row takes as many pulse slots as its slowest cell */
		size_t nrow = (size_t)rt * ct * (size_t)(2 * R + B);
		uint32_t *rowmax = xcalloc(nrow, sizeof(uint32_t));
		struct rng r;
		rng_seed(&r, seed, stream_id(ST_PROG, chip, l, 0));
		for (int j = 0; j < no; j++) {
			size_t tc = (size_t)(j / p->cols);
			for (int i = 0; i < ml->n_in; i++)
				for (int side = 0; side < 2; side++) {
					size_t k = ((size_t)(i / R) * ct + tc) * (size_t)(2 * R + B) +
						   (size_t)(2 * (i % R) + side);
					count_cell(&r, p, out, &rowmax[k]);
				}
			for (int t = 0; t < rt; t++)
				for (int kb = 0; kb < B; kb++) {
					size_t k = ((size_t)t * ct + tc) * (size_t)(2 * R + B) + (size_t)(2 * R + kb);
					count_cell(&r, p, out, &rowmax[k]);
				}
		}
		/* tiles program in parallel: the layer's slowest tile */
		for (size_t tile = 0; tile < (size_t)rt * ct; tile++) {
			double ns = 0;
			for (size_t k = 0; k < (size_t)(2 * R + B); k++) {
				uint32_t n = rowmax[tile * (size_t)(2 * R + B) + k];
				ns += n * (p->t_write_ns + (p->wv_on ? t_verify : 0.0));
			}
			if (ns > slowest)
				slowest = ns;
		}
		free(rowmax);
	}
	out->verifies = p->wv_on ? out->pulses : 0;
	out->time_ns = slowest;
	/* a verify is one read of the cell: driver, the cell at the mean of
	 * its states, a sample and a conversion */
	struct xbar_prices pr;
	xbar_prices(p, m, 0, &pr);
	out->e_pulse_j = p->e_write_pj * 1e-12;
	out->e_verify_j = pr.drive + 0.5 * (pr.lrs + (p->onoff_on ? pr.lrs * gh : 0.0)) + pr.sh + pr.conv;
	en_init(&out->ledger);
	int hw = en_action(&out->ledger, "xbar.program", "write_pulse", out->e_pulse_j);
	en_add(&out->ledger, hw, out->pulses);
	if (p->wv_on) {
		int hv = en_action(&out->ledger, "xbar.program", "verify_read", out->e_verify_j);
		en_add(&out->ledger, hv, out->verifies);
	}
	out->energy_j = en_total_j(&out->ledger);
	out->mean_pulses = out->cells ? (double)out->pulses / (double)out->cells : 0.0;
	return 0;
}

void xbar_program_amortise(const struct xbar_program *pr, long runs,
			   struct energy_ledger *lg)
{
	if (runs < 1)
		runs = 1;
	for (int i = 0; i < pr->ledger.n; i++) {
		const struct en_entry *e = &pr->ledger.e[i];
		char act[32];
		snprintf(act, sizeof act, "%.22s_amort", e->action);
		int h = en_action(lg, "xbar.program", act, e->j_per_action);
		en_add_units(lg, h, ((double)e->count + e->units) / (double)runs);
	}
}

void xbar_preact_sd(const struct xbar_params *p, int n_in, double *sd_read,
		    double *sd_static)
{
	double gh = p->onoff_on ? p->r_lrs_ohm / p->r_hrs_ohm : 0.0;
	int rt = (n_in + data_rows(p) - 1) / data_rows(p);
	int r = (n_in + rt - 1) / rt + p->bias_rows;
	/* a tile column with about half its driven cells in LRS */
	double cells = 0.5 * r * (1.0 + gh * gh);
	double sig_r = p->read_on ? p->read_sigma : 0.0;
	double sig_d = p->d2d_on ? p->d2d_sigma : 0.0;
	double per_tile_read = sig_r * sqrt(cells * (1.0 + sig_d * sig_d)) / (1.0 - gh);
	double per_tile_static = sig_d * sqrt(cells) / (1.0 - gh);
	if (p->offset_on)
		per_tile_static = sqrt(per_tile_static * per_tile_static + p->offset_sigma * p->offset_sigma);
	/* D units: 2 per match; row tiles add independently */
	*sd_read = 2.0 * per_tile_read * sqrt((double)rt);
	*sd_static = 2.0 * per_tile_static * sqrt((double)rt);
}

void xbar_noise_model(const struct xbar_params *p, const struct bnn_model *m,
		      int layer, double *sd_read, double *sd_static)
{
	xbar_preact_sd(p, m->dim[layer], sd_read, sd_static);
}

void xbar_perturb_preact(float *z, long rows, int m, double sd, uint64_t seed,
			 uint64_t stream)
{
	if (!(sd > 0) || rows <= 0 || m <= 0)
		return;
	/* the stream's own seed; rows are the sub-streams */
	struct rng h;
	rng_seed(&h, seed, stream);
	uint64_t s2 = rng_u64(&h);
#ifdef _OPENMP
#pragma omp parallel
#endif
	{
		double *e = xmalloc(sizeof(double) * (size_t)m);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
		for (long b = 0; b < rows; b++) {
			struct rng r;
			rng_seed(&r, s2, (uint64_t)b);
			rng_normal_zig_fill(&r, e, m);
			float *zb = z + (size_t)b * (size_t)m;
			for (int j = 0; j < m; j++)
				zb[j] = (float)((double)zb[j] + sd * e[j]);
		}
		free(e);
	}
}

void xbar_bnn_noise_init(struct xbar_bnn_noise *nz, const struct xbar_params *xp,
			 const struct bnn_params *bp, uint64_t seed)
{
	nz->p = *xp;
	nz->p.d2d_on = bp->na_d2d_sigma > 0;
	nz->p.d2d_sigma = bp->na_d2d_sigma;
	nz->p.read_on = bp->na_read_sigma > 0;
	nz->p.read_sigma = bp->na_read_sigma;
	nz->p.offset_on = 0;
	nz->pulses = bp->na_pulses;
	nz->seed = seed;
}

double xbar_bnn_noise_sd(const struct xbar_bnn_noise *nz, int n_in)
{
	double sr, ss;
	xbar_preact_sd(&nz->p, n_in, &sr, &ss);
	return sqrt(sr * sr / nz->pulses + ss * ss);
}

void xbar_bnn_noise_fn(void *arg, int layer, int n_in, float *z, long rows, int m,
		       uint64_t step)
{
	const struct xbar_bnn_noise *nz = arg;
	xbar_perturb_preact(z, rows, m, xbar_bnn_noise_sd(nz, n_in), nz->seed,
			    stream_id(ST_NAT, step, layer, 0));
}

int xbar_bnn_train(const struct bnn_params *bp, const struct xbar_params *xp,
		   uint64_t seed, const struct wl_dataset *train,
		   const struct wl_dataset *test, bnn_epoch_fn cb, void *arg,
		   struct bnn_model **out, struct nd_err *err)
{
	if (!bp->na_on)
		return bnn_train(bp, seed, train, test, cb, arg, out, err);
	struct xbar_bnn_noise nz;
	xbar_bnn_noise_init(&nz, xp, bp, seed);
	struct bnn_noise_hook hook = { xbar_bnn_noise_fn, &nz };
	return bnn_train_noisy(bp, seed, train, test, cb, arg, &hook, out, err);
}
