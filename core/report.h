/*
 * report.h — result files: report.json, CSV, the stdout table, plots.
 *
 * Every file is written to "<name>.tmp.<pid>" and renamed into place, so a
 * crash or a bad input never leaves a half-written or clobbered result.
 * report.json has the stable top-level keys `version`, `seed`, `config` (the
 * resolved configuration) and `metrics`; it holds no timestamps, so the same
 * config and seed give a byte-identical file.
 */
#ifndef ND_REPORT_H
#define ND_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"

struct cJSON;
struct cfg_bundle;

/* Creates a directory and its parents (mkdir -p).  0 or -errno + err. */
int rep_mkdir_p(const char *dir, struct nd_err *err);

/* Writes `len` bytes to path atomically (temp file + fsync + rename).
 * Test hook: when $NDPSIM_FAULT_WRITE equals the file name of path (no
 * directory), fails with -EIO instead (tests/test_cli.c). */
int rep_write_atomic(const char *path, const void *data, size_t len,
		     struct nd_err *err);

/* The same for a file written as a stream (model files): rep_stream_open()
 * creates path's temporary, its name in tmp[tmp_size]; NULL with *rc =
 * -errno and err set on failure (the same $NDPSIM_FAULT_WRITE hook).
 * rep_stream_commit() flushes, fsyncs and closes f, then renames the
 * temporary over path when ok and every step succeeded; otherwise removes
 * it and leaves path alone.  Returns 0, or -EIO (a failed write: ok == 0 or
 * the flush / fsync / close failed) or -errno of the rename, err naming
 * path. */
FILE *rep_stream_open(const char *path, char *tmp, size_t tmp_size, int *rc,
		      struct nd_err *err);
int rep_stream_commit(FILE *f, int ok, const char *tmp, const char *path,
		      struct nd_err *err);

/* Builds {"version", "seed", "config", "metrics"}; takes ownership of
 * metrics.  Caller frees with cJSON_Delete. */
struct cJSON *rep_new(const struct cfg_bundle *b, uint64_t seed,
		      struct cJSON *metrics);

/* Pretty-prints json to dir/name atomically. */
int rep_write_json(const char *dir, const char *name, const struct cJSON *json,
		   struct nd_err *err);

/* CSV built in memory then written atomically. */
struct rep_csv;
struct rep_csv *rep_csv_new(const char *header);   /* header without '\n' */
void rep_csv_row(struct rep_csv *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int rep_csv_write(struct rep_csv *c, const char *dir, const char *name,
		  struct nd_err *err);
void rep_csv_free(struct rep_csv *c);

/* Runs gnuplot on a script (written next to the data as <name>.gp) when
 * gnuplot is installed; returns 0 if a plot was made, 1 if gnuplot is
 * missing (not an error), -errno on failure: gnuplot failed, or a file the
 * script names in "set output '<file>'" is missing or cut short after it
 * (gnuplot exits 0 when its write fails; a PNG must end in IEND, an SVG in
 * </svg>).  Those files are removed before gnuplot runs. */
int rep_gnuplot(const char *dir, const char *name, const char *script,
		struct nd_err *err);
/* rep_set_plots(0): from now on rep_gnuplot() writes the script but does not
 * run gnuplot (returns 1): `--no-plot`, and every sweep point. */
void rep_set_plots(int on);

/* JSON number helpers that keep integers integral in the output. */
void rep_add_u64(struct cJSON *obj, const char *key, uint64_t v);
void rep_add_dbl(struct cJSON *obj, const char *key, double v);
/* A JSON number that reads back as exactly v (null for NaN / inf). */
struct cJSON *rep_num(double v);

#endif
