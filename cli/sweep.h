/*
 * sweep.h — what-if sweeps: the grid file, its points, and results.jsonl.
 *
 * A grid file names the subcommand that runs every point and the config keys
 * it varies (README section "Sweeps", docs/sweeps.md):
 *
 *   {"command": "ssd",                       subcommand of one point
 *    "args": ["--verify"],                   extra options for every point
 *    "set":  {"workload.count": 50000},      fixed keys for every point
 *    "grid": {"ssd.channels": [4, 8, 16],    cartesian product ...
 *             "ssd.channel.rate_mts": {"from": 400, "to": 1200, "step": 400}},
 *    "zip":  [{"ssd.nand.t_read_ns": [50000, 75000],   ... times keys that
 *              "ssd.nand.t_prog_ns": [600000, 1200000]}],   move together
 *    "points": [{"ssd.channels": 4}, {"ssd.channels": 8,  ... times a list of
 *                "ssd.ways": 2, "args": ["--verify"]}]}     points, one by one
 *
 * "points" is one axis whose entries each name some keys (a key an entry
 * leaves out takes the base value: defaults, --config, --set, "set") and,
 * with "args", options of that point alone (`train --where host`); it is
 * how `train --grid` runs the two differently shaped parts of its grid.  A
 * point key may override a --set or "set" key; it may not be a grid or zip
 * key.
 *
 * Every key is checked against the config tables of that subcommand and every
 * value is applied (type, range, enum name) and every point validated as a
 * whole (cross-key checks) before anything runs; errors name the grid file
 * and the key.  A point is identified by the hash of its resolved config:
 * FNV-1a over the compact JSON text of the `config` object that the point's
 * report.json holds (cfg_hash() of the subcommand's bundle), printed as 16
 * hex digits.  A point with its own "args" hashes them too (FNV-1a continued
 * over a NUL and each argument), so `train` in storage and on the host with
 * the same config are two points.
 *
 * results.jsonl holds one line per finished point:
 *   {"hash", "command", ["args"], "point", "version", "config", "metrics"}
 * Only complete lines (ending in '\n') count; a trailing partial line is
 * what a killed writer can leave behind.
 */
#ifndef ND_SWEEP_H
#define ND_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "core/cfg.h"
#include "cli/registry.h"
#include "core/err.h"

struct cJSON;

#define SWEEP_MAX_POINTS 1000000
/* Size cap of a grid file (bytes): a grid is a few kB; the cap stops
 * /dev/zero-like input early.  Also used by `train --grid`. */
#define SWEEP_GRID_MAX_BYTES (16 << 20)

/* A subcommand that can run a sweep point is a row of the command table
 * (cli/registry.h) with sweep_as set: how a grid names it ("ssd", "xbar
 * eval": words after the first are leading arguments) and the sections it
 * loads, in load order (so that the point hash equals the hash of its
 * report's config). */

/* NULL when name is not a sweepable subcommand (matched against sweep_as). */
const struct cli_cmd *sweep_cmd_find(const char *name);
/* Comma-separated names of the sweepable subcommands (static string). */
const char *sweep_cmd_names(void);

/* One swept key and its expanded values. */
struct sweep_key {
	char *path;                 /* "ssd.channels" */
	struct cJSON *vals;         /* array of values, owned */
	int axis;                   /* index of the axis it moves with */
};

struct sweep_point {
	uint64_t hash;
	char **sets;                /* "key=value" per swept key */
	struct cJSON *point;        /* {"key": value, ...}, owned */
	long dup_of;                /* -1, or an earlier point with the same hash */
	char **args;                /* options of this point alone ("points" args), borrowed */
	int nargs;
};

struct sweep_grid {
	char *src;                        /* the grid file's path */
	const struct cli_cmd *cmd;
	char **args;                      /* extra arguments for every point */
	int nargs;
	char **fixed;                     /* "key=value": CLI --set/--seed then the grid's "set" */
	int nfixed;
	struct sweep_key *keys;           /* grid keys, then zip keys */
	int nkeys;
	int naxes;
	size_t npoints;
	struct sweep_point *pts;
	struct cfg_bundle base;           /* defaults + base file + fixed keys (owned) */
	int pts_axis;                     /* axis of "points", -1 without */
	int nentries;                     /* entries of "points" */
	char ***eargs;                    /* per entry: its "args" (owned) */
	int *neargs;
};

/* Loads the grid file at path and checks it against the subcommand's config:
 * defaults, then the base config file (NULL for none), then the `cli_sets`
 * ("key=value"), then the grid's "set", then each point's keys; every point
 * must validate.  Fills g (free with sweep_grid_free, also after a failure).
 * Returns 0 or -EINVAL (-ENOENT, -EIO) with err naming the file and key. */
int sweep_grid_load(const char *path, const char *base,
		    const char *const *cli_sets, int ncli_sets,
		    struct sweep_grid *g, struct nd_err *err);
/* The same from a parsed grid (src names it in messages): for commands that
 * build their grid (`train --grid`, `xbar noise-sweep`). */
int sweep_grid_load_json(const struct cJSON *doc, const char *src, const char *base,
			 const char *const *cli_sets, int ncli_sets,
			 struct sweep_grid *g, struct nd_err *err);
void sweep_grid_free(struct sweep_grid *g);

/* Runs the points of g not yet in DIR/results.jsonl, as `ndpsim sweep` does
 * (fork workers, MPI ranks, resume after a kill, summary.csv); DIR is o->out.
 * Collective under MPI (every rank calls it with the same grid).  Returns the
 * exit code: 0, 1 (a point failed: run again to retry), 2 (bad input); the
 * message is printed. */
struct sweep_opts {
	const char *out;            /* the sweep directory */
	const char *config_path;    /* base config of every point, or NULL */
	int jobs;                   /* points at once (0: online CPUs) */
	int quiet;
	int child_close_fd;         /* closed in every point worker (the caller's lock on
				       its --out, which a dying worker must not hold), or -1 */
};
int sweep_engine(struct sweep_grid *g, const struct sweep_opts *o);
/* MPI for commands that run a sweep (no-ops in a build without MPI). */
void sweep_mpi_init(void);
void sweep_mpi_fini(void);
int sweep_mpi_rank(void);
int sweep_mpi_max(int v);   /* the largest v over the ranks (collective) */

/* The argv that runs point i: the command's words, the grid's args,
 * "--config base" when base, "--set k=v" for the fixed and swept keys,
 * "--out out_dir --quiet".  NULL-terminated; free with sweep_argv_free. */
char **sweep_point_argv(const struct sweep_grid *g, size_t i, const char *base,
			const char *out_dir, int *argc);
void sweep_argv_free(char **argv);

/* "k1=v1 k2=v2" of point i, for messages (static buffer). */
const char *sweep_point_label(const struct sweep_grid *g, size_t i);

/* FNV-1a of the compact JSON text of json: the point hash of a config. */
uint64_t sweep_hash_json(const struct cJSON *json);
/* h continued over a NUL and each of args (h itself when n is 0). */
uint64_t sweep_hash_args(uint64_t h, char *const *args, int n);
void sweep_hash_hex(uint64_t h, char out[17]);
/* Every number below o printed exactly (rep_num: the shortest text that
 * reads back as the same double), as report.json prints them. */
void sweep_json_exact(struct cJSON *o);
int sweep_hash_parse(const char *hex, uint64_t *out);

/* Builds the results.jsonl line (with its '\n'; caller frees) of point i from
 * the point's parsed report.json.  Returns NULL with err when the report has
 * no config/metrics or its config hash differs from the point's. */
char *sweep_result_line(const struct sweep_grid *g, size_t i,
			const struct cJSON *report, struct nd_err *err);

/* The complete lines of a results.jsonl. */
struct sweep_results {
	size_t n;
	uint64_t *hash;             /* per line */
	struct cJSON **line;        /* per line, owned */
	size_t good_len;            /* bytes up to the end of the last complete line */
	size_t file_len;            /* bytes in the file */
};

/* Reads path (a missing file is empty) or, when fd >= 0, the open file fd.
 * A trailing partial line is left out (good_len < file_len tells).  A
 * complete line that is not a result is an error naming path:line. */
int sweep_results_read(const char *path, int fd, struct sweep_results *r,
		       struct nd_err *err);
void sweep_results_free(struct sweep_results *r);
/* Index of the line with hash h, or -1. */
long sweep_results_find(const struct sweep_results *r, uint64_t h);

/* The item at a dotted path ("read.lat_ns.p99") below obj, or NULL.  A key
 * that itself contains dots ("ssd.channels" in "point") matches too. */
const struct cJSON *sweep_json_path(const struct cJSON *obj, const char *path);

/* Calls fn(name, value, arg) for every number and bool leaf below obj
 * (objects only; arrays are skipped), names dotted from prefix. */
void sweep_json_leaves(const struct cJSON *obj, const char *prefix,
		       void (*fn)(const char *name, const struct cJSON *v, void *arg),
		       void *arg);

/* Shortest text that reads back as the same double (%.15g, else %.17g). */
void sweep_fmt_num(double v, char *buf, size_t n);
/* A JSON scalar as CSV / label text (numbers as above, strings raw,
 * true/false); "" for anything else. */
void sweep_fmt_scalar(const struct cJSON *v, char *buf, size_t n);

#endif
