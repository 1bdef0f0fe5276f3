#include "core/energy.h"

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "core/report.h"
#include "core/util.h"

void en_init(struct energy_ledger *l) { memset(l, 0, sizeof *l); }

static int find(const struct energy_ledger *l, const char *c, const char *a)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].component, c) && !strcmp(l->e[i].action, a))
			return i;
	return -1;
}

static int add(struct energy_ledger *l, const char *c, const char *a,
	       double v, int is_static)
{
	int i = find(l, c, a);
	if (i >= 0) {
		l->e[i].j_per_action = v;
		return i;
	}
	ND_ASSERT(l->n < EN_MAX_ENTRIES);
	ND_ASSERT(strlen(c) < sizeof l->e[0].component && strlen(a) < sizeof l->e[0].action);
	struct en_entry *e = &l->e[l->n];
	memset(e, 0, sizeof *e);
	snprintf(e->component, sizeof e->component, "%s", c);
	snprintf(e->action, sizeof e->action, "%s", a);
	e->j_per_action = v;
	e->is_static = is_static;
	return l->n++;
}

int en_action(struct energy_ledger *l, const char *component,
	      const char *action, double j_per_action)
{
	return add(l, component, action, j_per_action, 0);
}

int en_static(struct energy_ledger *l, const char *component,
	      const char *what, double watts)
{
	return add(l, component, what, watts, 1);
}

double en_entry_j(const struct en_entry *e)
{
	if (e->is_static)
		return e->j_per_action * (double)e->count * 1e-9;
	return e->j_per_action * ((double)e->count + e->units);
}

double en_component_j(const struct energy_ledger *l, const char *component)
{
	double s = 0;
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].component, component))
			s += en_entry_j(&l->e[i]);
	return s;
}

int en_is_first_of_component(const struct energy_ledger *l, int i)
{
	for (int j = 0; j < i; j++)
		if (!strcmp(l->e[j].component, l->e[i].component))
			return 0;
	return 1;
}

double en_total_j(const struct energy_ledger *l)
{
	double t = 0;
	for (int i = 0; i < l->n; i++)
		if (en_is_first_of_component(l, i))
			t += en_component_j(l, l->e[i].component);
	return t;
}

void en_merge(struct energy_ledger *dst, const struct energy_ledger *src)
{
	for (int i = 0; i < src->n; i++) {
		const struct en_entry *s = &src->e[i];
		int h = add(dst, s->component, s->action, s->j_per_action, s->is_static);
		dst->e[h].count += s->count;
		dst->e[h].units += s->units;
	}
}

struct cJSON *en_to_json(const struct energy_ledger *l)
{
	cJSON *o = cJSON_CreateObject();
	rep_add_dbl(o, "total", en_total_j(l));
	cJSON *bc = cJSON_AddObjectToObject(o, "by_component");
	for (int i = 0; i < l->n; i++)
		if (en_is_first_of_component(l, i))
			rep_add_dbl(bc, l->e[i].component, en_component_j(l, l->e[i].component));
	cJSON *ba = cJSON_AddArrayToObject(o, "by_action");
	for (int i = 0; i < l->n; i++) {
		const struct en_entry *e = &l->e[i];
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "component", e->component);
		cJSON_AddStringToObject(a, "action", e->action);
		if (e->is_static) {
			rep_add_dbl(a, "watts", e->j_per_action);
			cJSON_AddNumberToObject(a, "time_ns", (double)e->count);
		} else {
			rep_add_dbl(a, "count", (double)e->count + e->units);
			rep_add_dbl(a, "j_per_action", e->j_per_action);
		}
		rep_add_dbl(a, "energy_j", en_entry_j(e));
		cJSON_AddItemToArray(ba, a);
	}
	return o;
}
