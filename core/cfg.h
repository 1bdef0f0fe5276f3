/*
 * cfg.h — configuration: descriptor tables, JSON loading, validation.
 *
 * Each module declares its options once, in a table of struct cfg_key (key,
 * type, unit, default, min, max, description) whose offsets point into the
 * module's own parameter struct.  A table plus a struct forms a section
 * ("ssd", "workload", "ndp", ...); a bundle lists the sections of one run.
 * The loader, the validator, `ndpsim config --dump`, `--set a.b=v` and the
 * echo of the resolved config in every report are all driven by the tables.
 *
 * JSON layout: {"seed": 1, "ssd": {"channels": 8, "nand": {"t_read_ns": ...}}}
 * — a key "nand.t_read_ns" of section "ssd" is the JSON path
 * ssd.nand.t_read_ns.  Objects may nest arbitrarily; a string key
 * "description" is allowed at any level for comments and citations.  Unknown
 * keys, wrong types and out-of-range values are errors that name the file and
 * the JSON path.
 */
#ifndef ND_CFG_H
#define ND_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

struct cJSON;

enum cfg_type {
	CFG_INT,    /* int */
	CFG_U64,    /* uint64_t (times in ns, sizes in bytes, counts) */
	CFG_DBL,    /* double */
	CFG_BOOL,   /* bool (stored as int 0/1) */
	CFG_STR,    /* char[CFG_STR_MAX] */
	CFG_ENUM,   /* int index into names[] */
};

#define CFG_STR_MAX 256

struct cfg_key {
	const char *key;          /* dotted path inside the section */
	enum cfg_type type;
	size_t off;               /* offsetof(params struct, field) */
	const char *unit;         /* "ns", "bytes", "MT/s", "pJ/bit", "-" ... */
	double def;               /* default for numeric / bool / enum index */
	double min, max;          /* inclusive range for numeric types */
	const char *def_str;      /* default for CFG_STR */
	const char *const *names; /* NULL-terminated names for CFG_ENUM */
	const char *help;         /* one line: meaning and source of default */
};

/* Table rows.  Each macro names the fields it fills and checks at compile
 * time that the struct field has the key's type: the _Generic below has one
 * association, the pointer type the loader writes through, so a key declared
 * CFG_KEY_INT over a double field does not compile.  Define CFG_T as the
 * section's parameter struct before the table:
 *
 *   #define CFG_T struct ssd_params
 *   static const struct cfg_key keys[] = {
 *       CFG_KEY_INT("channels", channels, "channels", 8, 1, 256, "help"),
 *       ...
 *       CFG_END
 *   };
 */
#define CFG_OFF_(f, ptype) _Generic(&((CFG_T *)0)->f, ptype: offsetof(CFG_T, f))
#define CFG_KEY_INT(k, f, u, d, lo, hi, h) \
	{ .key = (k), .type = CFG_INT, .off = CFG_OFF_(f, int *), .unit = (u), \
	  .def = (d), .min = (lo), .max = (hi), .help = (h) }
#define CFG_KEY_U64(k, f, u, d, lo, hi, h) \
	{ .key = (k), .type = CFG_U64, .off = CFG_OFF_(f, uint64_t *), .unit = (u), \
	  .def = (d), .min = (lo), .max = (hi), .help = (h) }
#define CFG_KEY_DBL(k, f, u, d, lo, hi, h) \
	{ .key = (k), .type = CFG_DBL, .off = CFG_OFF_(f, double *), .unit = (u), \
	  .def = (d), .min = (lo), .max = (hi), .help = (h) }
#define CFG_KEY_BOOL(k, f, d, h) \
	{ .key = (k), .type = CFG_BOOL, .off = CFG_OFF_(f, int *), .unit = "-", \
	  .def = (d), .min = 0, .max = 1, .help = (h) }
#define CFG_KEY_STR(k, f, u, dstr, h) \
	{ .key = (k), .type = CFG_STR, .off = CFG_OFF_(f, char (*)[CFG_STR_MAX]), \
	  .unit = (u), .def_str = (dstr), .help = (h) }
#define CFG_KEY_ENUM(k, f, d, nm, h) \
	{ .key = (k), .type = CFG_ENUM, .off = CFG_OFF_(f, int *), .unit = "-", \
	  .def = (d), .names = (nm), .help = (h) }

/* CFG_END terminates a table. */
#define CFG_END { .key = NULL }

struct cfg_section {
	const char *name;              /* JSON object name; "" = top level */
	const struct cfg_key *keys;    /* terminated by CFG_END */
	size_t params_size;
	/* Cross-key consistency check after loading (may be NULL).  Fills err
	 * with "<section>.<key>: ..." and returns -EINVAL when inconsistent. */
	int (*check)(const void *params, struct nd_err *err);
};

#define CFG_MAX_SECTIONS 16

/* The sections of one run and the parameter structs they fill.  The bundle
 * does not own the structs. */
struct cfg_bundle {
	size_t n;
	const struct cfg_section *sec[CFG_MAX_SECTIONS];
	void *params[CFG_MAX_SECTIONS];
};

void cfg_bundle_add(struct cfg_bundle *b, const struct cfg_section *sec,
		    void *params);

/* The parameter struct the bundle holds for sec, or NULL. */
void *cfg_bundle_params(const struct cfg_bundle *b, const struct cfg_section *sec);

/* Writes every default of the bundle into the parameter structs. */
void cfg_defaults(const struct cfg_bundle *b);

/* Applies a JSON document on top of the current values.  `src` names the
 * document in messages (a file name, "<embedded>").  Returns 0 or -EINVAL
 * with err naming src and the JSON path. */
int cfg_apply_json(const struct cfg_bundle *b, const struct cJSON *doc,
		   const char *src, struct nd_err *err);
int cfg_apply_text(const struct cfg_bundle *b, const char *text,
		   const char *src, struct nd_err *err);
int cfg_load_file(const struct cfg_bundle *b, const char *path,
		  struct nd_err *err);

/* Applies one "a.b.c=value" override (value parsed by the key's type; enum
 * by name; bool as true/false/1/0).  Returns 0 or -EINVAL. */
int cfg_set(const struct cfg_bundle *b, const char *assignment,
	    struct nd_err *err);

/* Range re-check of every key plus each section's check().  Call after all
 * overrides.  Returns 0 or -EINVAL. */
int cfg_validate(const struct cfg_bundle *b, struct nd_err *err);

/* Finds a key by full JSON path ("ssd.nand.t_read_ns"); NULL if unknown. */
const struct cfg_key *cfg_find(const struct cfg_bundle *b, const char *path,
			       size_t *sec_idx);

/* The resolved configuration as a nested JSON object (caller frees with
 * cJSON_Delete).  Key order follows the tables, so output is stable. */
struct cJSON *cfg_to_json(const struct cfg_bundle *b);

/* Prints every key: path, value, unit, range and description. */
void cfg_dump_help(const struct cfg_bundle *b, FILE *out);

/* Stable 64-bit FNV-1a hash of the resolved config's JSON text. */
uint64_t cfg_hash(const struct cfg_bundle *b);

#endif
