/*
 * energy.h — the energy ledger (Accelergy-style component/action table).
 *
 * Dynamic energy = sum over (component, action) of count x energy per action;
 * static energy = sum over components of power x time.  Components and
 * actions are registered once (outside hot paths) and charged through the
 * returned integer handle, so charging is an array update.  Totals are
 * computed in one fixed order — actions within a component, then components —
 * and the report prints exactly those partial sums, so the breakdown adds up
 * to the total by construction.
 */
#ifndef ND_ENERGY_H
#define ND_ENERGY_H

#include <stdint.h>

struct cJSON;

#define EN_MAX_ENTRIES 128

struct en_entry {
	char component[32];
	char action[32];
	double j_per_action;   /* dynamic: J per action; static: W */
	int is_static;
	uint64_t count;        /* actions, or static time in ns */
	double units;          /* for per-unit actions (bytes, bits): the sum */
};

struct energy_ledger {
	int n;
	struct en_entry e[EN_MAX_ENTRIES];
};

void en_init(struct energy_ledger *l);

/* Registers a dynamic action costing j_per_action joules each; returns its
 * handle (>= 0).  Registering the same (component, action) again returns the
 * existing handle.  Aborts if the table is full (a programming error). */
int en_action(struct energy_ledger *l, const char *component,
	      const char *action, double j_per_action);
/* Registers a static power draw of `watts` for a component. */
int en_static(struct energy_ledger *l, const char *component,
	      const char *what, double watts);

/* Charges n actions. */
static inline void en_add(struct energy_ledger *l, int h, uint64_t n)
{
	l->e[h].count += n;
}
/* Charges a fractional quantity (e.g. bytes when the price is per byte). */
static inline void en_add_units(struct energy_ledger *l, int h, double u)
{
	l->e[h].units += u;
}
/* Sets the time a static draw lasted (ns). */
static inline void en_set_time(struct energy_ledger *l, int h, uint64_t t_ns)
{
	l->e[h].count = t_ns;
}

/* 1 if entry i is the first of its component (components are listed in
 * order of first registration). */
int en_is_first_of_component(const struct energy_ledger *l, int i);

/* Energy of one entry in J. */
double en_entry_j(const struct en_entry *e);
/* Total of one component (fixed order); total of all. */
double en_component_j(const struct energy_ledger *l, const char *component);
double en_total_j(const struct energy_ledger *l);

/* Merges src into dst (matching by component/action, adding counts). */
void en_merge(struct energy_ledger *dst, const struct energy_ledger *src);

/* {"total": J, "by_component": {name: J...}, "by_action": [{component,
 * action, count, j_per_action, energy_j}...]}. */
struct cJSON *en_to_json(const struct energy_ledger *l);

#endif
