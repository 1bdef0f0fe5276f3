/*
 * xbar.h — ReRAM / XNOR-RRAM crossbar tiles running a folded BNN
 * (workloads/bnn.h): the value path (real partial sums with sampled device
 * and circuit noise) and the cost path (energy and latency of every tile
 * pulse and conversion).
 *
 * Mapping (XNOR-RRAM, Sun et al. DATE'18): every binary weight is a pair of
 * complementary cells on a word-line pair (w = +1: WL cell LRS, WLB cell
 * HRS).  A pulse bit b = 1 drives WL, b = 0 drives WLB, so each driven cell is
 * LRS on a match and HRS on a mismatch; with all rows on the column current
 * is  I = matches * I_LRS + mismatches * I_HRS.  A layer of N inputs and M
 * neurons is split over ceil(N / (R - bias_rows)) x ceil(M / C) tiles of
 * R x C weight pairs; the bias rows of a tile hold a share of the neuron's
 * folded threshold so the converter range is centred on the decision point.
 * Each tile column is digitised by a b-bit converter over a configurable
 * range (b = 0: a converter that resolves every level, i.e. unbounded
 * resolution) and the partial sums are added digitally.
 *
 * Units inside the value path: conductances are normalised to G_LRS = 1, so
 * a column current is measured in "matches"; the back end decodes
 * m = (I - r * g_HRS) / (1 - g_HRS) with nominal values and forms the
 * partial sum 2m - r.  Energies are joules, times nanoseconds.
 *
 * Input encoding per layer (see analog/README.md): unary with T pulses
 * (level requantised to T steps, thermometer bits, D = sum_t s_t / T) or
 * bit-serial with k pulses (level requantised to 2^k - 1 steps, D =
 * sum_j 2^j s_j / (2^k - 1)).  Every pulse is a full crossbar read and a
 * conversion, so energy and latency grow with the pulses.
 *
 * Randomness: device-to-device variation, stuck cells and comparator
 * offsets are drawn once per chip instance from stream (seed, chip, layer);
 * read noise is fresh for every pulse from stream (seed, chip, layer,
 * image), so results do not depend on the OpenMP thread count.
 */
#ifndef ND_XBAR_H
#define ND_XBAR_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/energy.h"
#include "core/err.h"
#include "workloads/bnn.h"

enum xbar_enc { XBAR_ENC_UNARY = 0, XBAR_ENC_BITSERIAL = 1 };
enum xbar_ref { XBAR_REF_CENTRED = 0, XBAR_REF_CALIBRATED = 1 };
enum xbar_adc_kind { XBAR_ADC_SAR = 0, XBAR_ADC_FLASH = 1 };

#define XBAR_MAX_ADC_BITS 10

/* Section "xbar". */
struct xbar_params {
	int rows, cols, bias_rows;        /* tile geometry */
	double r_lrs_ohm, r_hrs_ohm;
	double v_read;                    /* V */
	double t_pulse_ns;
	/* non-idealities: each has an enable switch and a magnitude */
	int d2d_on;       double d2d_sigma;      /* relative, per cell, per chip */
	int read_on;      double read_sigma;     /* relative, per cell, per pulse */
	int stuck_on;     double stuck_lrs, stuck_hrs;  /* fractions of cells */
	int onoff_on;                     /* finite on/off ratio (else HRS = 0 S) */
	int offset_on;    double offset_sigma;   /* matches, per comparator */
	/* converter */
	int adc_bits;                     /* 1..XBAR_MAX_ADC_BITS */
	int adc_ideal;                    /* resolve every level (as bits = 0 before) */
	int adc_ref;                      /* enum xbar_ref */
	double adc_range;                 /* centred: fraction of the column swing */
	double adc_range_sd;              /* calibrated: full scale in sigmas */
	int adc_calib_n;
	int adc_per_tile;                 /* converters shared by a tile's columns */
	double adc_e_pj;                  /* 0 = ISAAC table by bits */
	double adc_t_ns;                  /* 0 = bits + 1 ns (SAR, NeuroSim) */
	/* input encoding */
	int enc;                          /* enum xbar_enc */
	int pulses;                       /* T (unary) or k (bit-serial); 0 = native */
	char pulses_per_layer[CFG_STR_MAX];  /* "1,4,2" overrides pulses */
	/* Monte Carlo */
	int chips;
	int test_n;                       /* 0 = all 10,000 test images */
	int max_tiles;                    /* chip capacity */
	/* cost path */
	double e_drive_pj;                /* per word-line drive */
	double e_add_pj;                  /* per digital partial-sum add */
	double e_buf_pj_bit;              /* SRAM buffer per bit */
	double t_add_ns;                  /* digital add stage */
	/* periphery (NeuroSim / ISAAC-class; analog/README.md) */
	int adc_kind;                     /* enum xbar_adc_kind */
	double e_comp_pj;                 /* flash: per comparator decision */
	double e_sh_pj;                   /* sample-and-hold per column sample */
	double e_ctrl_pj;                 /* control / decoder per tile pulse */
	double e_dma_pj_bit;              /* DMA feeding the chip, per bit */
	int ref_bits;                     /* bits per stored reference value */
	int out_bits;                     /* bits per class score sent back */
	/* area */
	double feature_nm;                /* F */
	double cell_f2;                   /* one 1T1R cell in F^2 */
	double a_drv_um2;                 /* word-line driver / 1-bit DAC */
	double a_sh_um2;                  /* sample-and-hold */
	double a_sar8_um2;                /* SAR ADC at 8 bits (scaled 2^(b-8)) */
	double a_comp_um2;                /* flash comparator */
	double a_add_um2;                 /* shift-add unit (one per converter) */
	double a_sram_um2_bit;            /* buffers and reference storage */
	double a_ctrl_frac;               /* control as a fraction of the tile */
	/* weight programming and write-verify */
	double e_write_pj;                /* one SET / RESET pulse */
	double t_write_ns;                /* one program pulse */
	int prog_on;    double prog_sigma;     /* programming error of a pulse */
	int wv_on;      double wv_tol;         /* write-verify tolerance (relative) */
	double wv_step;                   /* residual error fraction per correction pulse */
	int wv_max_iter;
	/* conductance drift, retention, IR drop */
	int drift_on;   double drift_nu, drift_nu_sd, drift_t_s, drift_t0_s;
	int drift_comp;                   /* global drift compensation of the read-out */
	int ret_on;     double ret_tau_s, ret_t_s;
	int ir_on;      double r_wire_ohm;
};
extern const struct cfg_section xbar_section;

/* Per-layer encoding resolved against a model: pulses T_l (unary) or k_l. */
struct xbar_enc_plan {
	int nl;
	int enc[BNN_MAX_LAYERS];
	int pulses[BNN_MAX_LAYERS];
};

/* Resolves the encoding of p for model m ("native": unary with T = the
 * layer's input steps, which is exact).  Returns 0 or -EINVAL naming
 * xbar.pulses_per_layer. */
int xbar_plan(const struct xbar_params *p, const struct bnn_model *m,
	      struct xbar_enc_plan *plan, struct nd_err *err);

/* Checks that model m can be mapped with p (tiles, capacity).  Returns 0
 * or -EINVAL with a message naming the key. */
int xbar_check_mapping(const struct xbar_params *p, const struct bnn_model *m,
		       struct nd_err *err);

/* Action counts of an evaluation (the cost path's input). */
struct xbar_layer_counts {
	uint64_t tile_pulses;     /* tile reads (all rows on) */
	uint64_t row_drives;      /* word lines driven */
	uint64_t lrs_reads;       /* driven cells read in LRS (from the sensed current) */
	uint64_t hrs_reads;
	uint64_t conversions;     /* converter operations */
	uint64_t adds;            /* digital partial-sum additions */
	uint64_t acts;            /* threshold / activation / score evaluations */
	uint64_t buf_bits;        /* activation bits read and written (in + out) */
	uint64_t in_bits;         /* input-buffer bits read (one per row and pulse) */
	uint64_t out_bits;        /* output-buffer bits written */
};
struct xbar_counts {
	uint64_t images;
	int nl;
	struct xbar_layer_counts l[BNN_MAX_LAYERS];
};
/* d += s, field by field (images and every layer's counts). */
void xbar_counts_add(struct xbar_counts *d, const struct xbar_counts *s);

/* One chip instance: the model programmed into tiles with its own sampled
 * conductances, stuck cells and comparator offsets. */
typedef struct xbar_chip xbar_chip;

/* Programs model m (borrowed; must outlive the chip) into a chip instance
 * number `chip`.  Returns 0, or -EINVAL when the mapping is impossible. */
int xbar_chip_create(const struct xbar_params *p, const struct bnn_model *m,
		     uint64_t seed, uint64_t chip, xbar_chip **out,
		     struct nd_err *err);
void xbar_chip_destroy(xbar_chip *c);

/* Converter references (start and step of the bins, in matches) of every
 * layer, pulse, row tile and column, for one model, plan and config: centred
 * on mid-scale, or (adc.ref = calibrated) placed at mean -/+ range_sd/2
 * standard deviations of the exact partial sums of n calibration images
 * (training images).  They are a design-time setting shared by all chip
 * instances.  Returns 0 or -EINVAL (mapping). */
typedef struct xbar_refs xbar_refs;
int xbar_refs_create(const struct xbar_params *p, const struct bnn_model *m,
		     const struct xbar_enc_plan *plan, const uint8_t *pixels,
		     long n, xbar_refs **out, struct nd_err *err);
void xbar_refs_destroy(xbar_refs *r);
/* The reference of (layer l, pulse, row tile rt, column col): the start
 * of the converter's bins and their step, in matches. */
void xbar_refs_get(const xbar_refs *r, int l, int pulse, int rt, int col,
		   int32_t *start, int32_t *step);
/* Action counts of the calibration run that placed the references (zero
 * when they are centred): a one-time cost, priced with xbar_cost(). */
const struct xbar_counts *xbar_refs_calib_counts(const xbar_refs *r);

/* Runs n images through the chip with the given encoding plan and the refs
 * made for that plan (OpenMP over images).  preds may be NULL; counts (may
 * be NULL) are accumulated.  Returns the number of correct predictions. */
long xbar_chip_eval(const xbar_chip *c, const struct xbar_enc_plan *plan,
		    const xbar_refs *refs, const uint8_t *pixels,
		    const uint8_t *labels, long n, uint8_t *preds,
		    struct xbar_counts *counts);

/* One layer of a chip on its own, for networks whose layers are applied
 * many times per image (analog/xbar_conv.h: an unrolled conv layer per
 * output position).  The scratch belongs to one thread.  xbar_layer_run
 * feeds nk <= XBAR_LAYER_BLK input vectors lev[e] (layer l's n_in levels,
 * 0..qin[l]) through layer l's tiles with the plan's encoding, drawing the
 * read noise of vector e from stream (seed, chip, l, item[e]); dq[e]
 * receives the n_out decoded D_Q values.  The tile actions are added to
 * cnt->l[l] (cnt may be NULL). */
#define XBAR_LAYER_BLK 8
typedef struct xbar_scratch xbar_scratch;
xbar_scratch *xbar_scratch_create(const xbar_chip *c);
void xbar_scratch_destroy(xbar_scratch *s);   /* NULL is fine */
void xbar_layer_run(const xbar_chip *c, const struct xbar_enc_plan *plan,
		    const xbar_refs *refs, int l, const uint8_t *const *lev,
		    const uint64_t *item, int nk, double *const *dq,
		    xbar_scratch *s, struct xbar_counts *cnt);

/* Calibrated references for networks run vector by vector through
 * xbar_layer_run() (analog/xbar_conv.c): xbar_calib_create() makes the
 * noise-free chip instance xbar_calib_chip() (every device effect off, the
 * configured converter); xbar_layer_run() on it with a scratch from
 * xbar_calib_scratch() (one per thread; refs may be NULL) records the
 * exact partial sums' sum and square of every (layer, pulse, row tile,
 * column) instead of converting them; xbar_calib_merge() adds a scratch's
 * sums (s may be NULL) and action counts (cnt may be NULL; caller
 * serialises), and
 * xbar_calib_finish() places the references as xbar_refs_create() does,
 * from samples[l] vectors seen by layer l (images x positions), frees k
 * and returns the references (their xbar_refs_calib_counts() are the
 * merged counts).  xbar_calib_needed() is 0 when p's references are not
 * calibrated (centred, or a converter resolving every level): then
 * finish needs no samples and returns the centred references. */
typedef struct xbar_calib xbar_calib;
int xbar_calib_create(const struct xbar_params *p, const struct bnn_model *m,
		      const struct xbar_enc_plan *plan, xbar_calib **out,
		      struct nd_err *err);
int xbar_calib_needed(const xbar_calib *k);
const xbar_chip *xbar_calib_chip(const xbar_calib *k);
xbar_scratch *xbar_calib_scratch(const xbar_calib *k);
void xbar_calib_merge(xbar_calib *k, const xbar_scratch *s, const struct xbar_counts *cnt);
xbar_refs *xbar_calib_finish(xbar_calib *k, const long *samples);
void xbar_calib_destroy(xbar_calib *k);   /* without finishing; NULL is fine */

/* Monte Carlo over chips 0..chips-1: correct[c] for each chip. */
struct xbar_mc {
	int chips;
	long n;
	long *correct;
	double mean, sd, min, max;   /* accuracy over chips */
	struct xbar_counts counts;   /* of chip 0 */
};
int xbar_monte_carlo(const struct xbar_params *p, const struct bnn_model *m,
		     const struct xbar_enc_plan *plan, const xbar_refs *refs,
		     uint64_t seed,
		     const uint8_t *pixels, const uint8_t *labels, long n,
		     struct xbar_mc *out, struct nd_err *err);
void xbar_mc_free(struct xbar_mc *mc);

/* Cost path: energy ledger, latency and throughput from counts.  Every
 * ledger component sits on the crossbar chip and is named "xbar.<part>":
 * wl_driver (drive per driven word line and pulse), array (read_lrs /
 * read_hrs per driven cell), sample_hold (per column sample), adc
 * (sar_<b>b / flash_<b>b per conversion), shift_add (per partial-sum
 * add), activation (per threshold / score), in_buffer / out_buffer (per
 * bit), control (per tile pulse), ref_store (stored converter references
 * read per conversion, adc.ref = calibrated only), dma (per input bit in
 * and score bit out). */
struct xbar_cost {
	struct energy_ledger ledger;  /* whole evaluation */
	double j_per_image;
	double ops_per_image;         /* 2 x MACs of the network */
	double tops_per_w;
	double latency_ns;            /* one image, layers in sequence */
	double images_per_s;          /* layers pipelined over images */
	double layer_ns[BNN_MAX_LAYERS];
	long tiles;
	/* per layer (DMA excluded: it belongs to the network) */
	double layer_j[BNN_MAX_LAYERS];        /* per image */
	double layer_ops[BNN_MAX_LAYERS];
	double layer_tops_per_w[BNN_MAX_LAYERS];
	double layer_tops_per_mm2[BNN_MAX_LAYERS];  /* the layer alone at its rate */
	double dma_j;                 /* per image */
	double chip_mm2;
	double tops_per_mm2;          /* network, pipelined throughput */
};
void xbar_cost(const struct xbar_params *p, const struct bnn_model *m,
	       const struct xbar_enc_plan *plan, const struct xbar_counts *cnt,
	       struct xbar_cost *out);

/* Prices (J per action) of layer l: what xbar_cost() charges. */
struct xbar_prices {
	int bits;
	double drive, lrs, hrs, sh, conv, add, act, buf_bit, ctrl, ref_read, dma_bit;
};
void xbar_prices(const struct xbar_params *p, const struct bnn_model *m, int l,
		 struct xbar_prices *pr);

/* Bits per input pixel level sent to the chip. */
int xbar_input_bits(const struct bnn_model *m);

/* Converter energy (J per conversion) and area (um^2) for b bits and
 * periph.adc_kind: SAR from the ISAAC table / 2^(b-8) x area.sar8_um2,
 * flash (2^b - 1) comparators. */
double xbar_conv_energy_j(const struct xbar_params *p, int bits);
double xbar_conv_area_um2(const struct xbar_params *p, int bits);

/* Area of one tile (um^2) by part, for converters of `bits`. */
struct xbar_tile_area {
	double cells, drivers, sh, adc, shift_add, buffers, control, total;
};
void xbar_tile_area(const struct xbar_params *p, int bits, struct xbar_tile_area *a);

/* Area of the network's chip: tiles per layer, utilisation (weights /
 * weight cells of its tiles), mm^2 per tile and per layer (tiles plus
 * stored references), global activation buffer, chip total. */
struct xbar_area {
	long tiles[BNN_MAX_LAYERS];
	double util[BNN_MAX_LAYERS];
	double tile_mm2[BNN_MAX_LAYERS];
	double ref_mm2[BNN_MAX_LAYERS];
	double layer_mm2[BNN_MAX_LAYERS];
	uint64_t ref_bits;
	double global_buf_mm2;
	double chip_mm2;
};
void xbar_area(const struct xbar_params *p, const struct bnn_model *m,
	       const struct xbar_enc_plan *plan, struct xbar_area *out);

/* One-time weight programming of chip instance `chip`: every cell (two per
 * weight, plus bias cells) gets a program pulse; with write-verify
 * (program.verify.*) a verify read after every pulse and correction pulses
 * until within tolerance (the same draws as xbar_chip_create()).  Rows of
 * cells are written one at a time with all columns of a tile in parallel,
 * tiles in parallel.  Ledger: "xbar.program" write_pulse / verify_read. */
struct xbar_program {
	uint64_t cells, pulses, verifies;
	uint64_t capped;              /* cells still outside tolerance at the cap */
	double mean_pulses;           /* per cell */
	double time_ns;
	double e_pulse_j, e_verify_j;
	double energy_j;
	struct energy_ledger ledger;
};
int xbar_program_cost(const struct xbar_params *p, const struct bnn_model *m,
		      uint64_t seed, uint64_t chip, struct xbar_program *out,
		      struct nd_err *err);

/* Adds the programming cost spread over `runs` inferences to lg:
 * component "xbar.program", actions <action>_amort, count = count / runs. */
void xbar_program_amortise(const struct xbar_program *pr, long runs,
			   struct energy_ledger *lg);

/* Energy of one conversion in J for b bits (ISAAC table, or the override). */
double xbar_adc_energy_j(const struct xbar_params *p, int bits);

/* Column noise of one pulse in partial-sum (D) units used by GBO's software
 * noise model: read noise of a tile column, averaged over typical rows,
 * summed over the layer's row tiles; and the static (per-chip) part. */
void xbar_noise_model(const struct xbar_params *p, const struct bnn_model *m,
		      int layer, double *sd_read, double *sd_static);

/* The same for one neuron of a layer with n_in inputs on p's tiles (fc,
 * or a conv layer unrolled to n_in = k x k x c_in rows), in D units (a
 * +1/-1 weight times a full-scale input is 1): read noise of one pulse
 * (T unary pulses average it to sd_read / sqrt(T)) and the static per-chip
 * part (variation; comparator offsets when xbar.noise.offset is on). */
void xbar_preact_sd(const struct xbar_params *p, int n_in, double *sd_read,
		    double *sd_static);

/* Noise injection into pre-activations: z[b * m + j] += sd * N(0, 1) for
 * rows b < rows, j < m.  Row b draws its m normals in order from stream
 * (seed, stream, b), so any OpenMP thread count gives the same values.
 * sd = 0 leaves z untouched.  The hook of noise-aware training for any
 * layer whose pre-activations are sums of tile columns (rows = images, or
 * images x output positions of a conv layer). */
void xbar_perturb_preact(float *z, long rows, int m, double sd, uint64_t seed,
			 uint64_t stream);

/* Noise-aware training (bnn.noise_aware.*): the training forward pass
 * adds, to every pre-activation of layer l, N(0, sd_l^2) with sd_l^2 =
 * sd_read^2 / T + sd_static^2 from xbar_preact_sd() for the tiles of xp and
 * the training sigmas (bnn.noise_aware.d2d_sigma / read_sigma, T =
 * bnn.noise_aware.pulses) — the software noise model GBO optimises against,
 * redrawn every step, row and neuron. */
struct xbar_bnn_noise {
	struct xbar_params p;         /* tiles and devices with the training sigmas */
	int pulses;
	uint64_t seed;
};
void xbar_bnn_noise_init(struct xbar_bnn_noise *nz, const struct xbar_params *xp,
			 const struct bnn_params *bp, uint64_t seed);
/* Standard deviation (D units) the hook adds to a layer with n_in inputs. */
double xbar_bnn_noise_sd(const struct xbar_bnn_noise *nz, int n_in);
/* The bnn_noise_hook function; arg is a struct xbar_bnn_noise. */
void xbar_bnn_noise_fn(void *arg, int layer, int n_in, float *z, long rows, int m,
		       uint64_t step);

/* Trains bp's network: bnn_train_noisy() with the hook above when
 * bnn.noise_aware.enable, plain bnn_train() otherwise.  Returns as
 * bnn_train(). */
int xbar_bnn_train(const struct bnn_params *bp, const struct xbar_params *xp,
		   uint64_t seed, const struct wl_dataset *train,
		   const struct wl_dataset *test, bnn_epoch_fn cb, void *arg,
		   struct bnn_model **out, struct nd_err *err);

/* For each stream j < nr: out[j][k] = rng_normal_zig(r[j]) for k = 0 ..
 * n-1, i.e. the values and the stream position rng_normal_zig_fill(r[j],
 * out[j], n) gives, two streams at a time in one loop (the read noise of
 * the images of an evaluation block). */
struct rng;
void xbar_normal_fill_multi(struct rng *const *r, int nr, double *const *out, int n);

/* Number of row tiles / column tiles of layer l. */
int xbar_row_tiles(const struct xbar_params *p, const struct bnn_model *m, int l);
int xbar_col_tiles(const struct xbar_params *p, const struct bnn_model *m, int l);

/* Effective converter bits of layer l (resolves bits = 0). */
int xbar_layer_bits(const struct xbar_params *p, const struct bnn_model *m, int l);

#endif
