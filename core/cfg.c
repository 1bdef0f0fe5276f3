#include "core/cfg.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/util.h"

void cfg_bundle_add(struct cfg_bundle *b, const struct cfg_section *sec,
		    void *params)
{
	ND_ASSERT(b->n < CFG_MAX_SECTIONS);
	b->sec[b->n] = sec;
	b->params[b->n] = params;
	b->n++;
}

void *cfg_bundle_params(const struct cfg_bundle *b, const struct cfg_section *sec)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->sec[i] == sec)
			return b->params[i];
	return NULL;
}

static void *field(void *params, const struct cfg_key *k)
{
	return (char *)params + k->off;
}

static int enum_index(const struct cfg_key *k, const char *name)
{
	for (int i = 0; k->names[i]; i++)
		if (!strcmp(k->names[i], name))
			return i;
	return -1;
}

static void enum_list(const struct cfg_key *k, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; k->names[i] && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s",
					 i ? ", " : "", k->names[i]);
}

void cfg_defaults(const struct cfg_bundle *b)
{
	for (size_t s = 0; s < b->n; s++) {
		void *p = b->params[s];
		memset(p, 0, b->sec[s]->params_size);
		for (const struct cfg_key *k = b->sec[s]->keys; k->key; k++) {
			void *f = field(p, k);
			switch (k->type) {
			case CFG_INT: case CFG_BOOL: case CFG_ENUM:
				*(int *)f = (int)k->def;
				break;
			case CFG_U64:
				*(uint64_t *)f = (uint64_t)k->def;
				break;
			case CFG_DBL:
				*(double *)f = k->def;
				break;
			case CFG_STR:
				snprintf((char *)f, CFG_STR_MAX, "%s",
					 k->def_str ? k->def_str : "");
				break;
			}
		}
	}
}

static void full_path(const struct cfg_section *sec, const struct cfg_key *k,
		      char *buf, size_t n)
{
	if (sec->name[0])
		snprintf(buf, n, "%s.%s", sec->name, k->key);
	else
		snprintf(buf, n, "%s", k->key);
}

/* Checks a numeric value against the key's range and integrality. */
static int check_num(const struct cfg_key *k, double v, const char *where,
		     struct nd_err *err)
{
	if (isnan(v))
		return nd_errf(err, -EINVAL, "%s: not a number", where);
	if ((k->type == CFG_INT || k->type == CFG_U64) && v != floor(v))
		return nd_errf(err, -EINVAL, "%s: expected an integer, got %g",
			       where, v);
	if (v < k->min || v > k->max)
		return nd_errf(err, -EINVAL,
			       "%s: %.17g is out of range [%.17g, %.17g] (%s)",
			       where, v, k->min, k->max, k->unit);
	return 0;
}

static int store_num(const struct cfg_key *k, void *params, double v,
		     const char *where, struct nd_err *err)
{
	int rc = check_num(k, v, where, err);
	if (rc)
		return rc;
	void *f = field(params, k);
	if (k->type == CFG_INT)
		*(int *)f = (int)v;
	else if (k->type == CFG_U64)
		*(uint64_t *)f = (uint64_t)v;
	else
		*(double *)f = v;
	return 0;
}

static int set_from_json(const struct cfg_key *k, void *params,
			 const cJSON *it, const char *where, struct nd_err *err)
{
	void *f = field(params, k);
	switch (k->type) {
	case CFG_INT: case CFG_U64: case CFG_DBL:
		if (!cJSON_IsNumber(it))
			return nd_errf(err, -EINVAL, "%s: expected a number (%s)",
				       where, k->unit);
		return store_num(k, params, it->valuedouble, where, err);
	case CFG_BOOL:
		if (!cJSON_IsBool(it))
			return nd_errf(err, -EINVAL,
				       "%s: expected true or false", where);
		*(int *)f = cJSON_IsTrue(it) ? 1 : 0;
		return 0;
	case CFG_STR:
		if (!cJSON_IsString(it))
			return nd_errf(err, -EINVAL, "%s: expected a string",
				       where);
		if (strlen(it->valuestring) >= CFG_STR_MAX)
			return nd_errf(err, -EINVAL,
				       "%s: string longer than %d bytes", where,
				       CFG_STR_MAX - 1);
		snprintf((char *)f, CFG_STR_MAX, "%s", it->valuestring);
		return 0;
	case CFG_ENUM: {
		char names[512];
		enum_list(k, names, sizeof names);
		if (!cJSON_IsString(it))
			return nd_errf(err, -EINVAL,
				       "%s: expected one of: %s", where, names);
		int i = enum_index(k, it->valuestring);
		if (i < 0)
			return nd_errf(err, -EINVAL,
				       "%s: unknown value \"%s\" (one of: %s)",
				       where, it->valuestring, names);
		*(int *)f = i;
		return 0;
	}
	}
	return nd_errf(err, -EINVAL, "%s: bad key type", where);
}

static const struct cfg_key *find_in(const struct cfg_section *sec,
				     const char *key)
{
	for (const struct cfg_key *k = sec->keys; k->key; k++)
		if (!strcmp(k->key, key))
			return k;
	return NULL;
}

/* Is `prefix` a proper dotted prefix of some key ("nand" of "nand.t_read_ns")? */
static int has_prefix(const struct cfg_section *sec, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const struct cfg_key *k = sec->keys; k->key; k++)
		if (!strncmp(k->key, prefix, n) && k->key[n] == '.')
			return 1;
	return 0;
}

/* cJSON keeps every member of an object, duplicates included: a key given
 * twice would silently take its last value. */
static int dup_before(const cJSON *obj, const cJSON *it)
{
	for (const cJSON *o = obj->child; o && o != it; o = o->next)
		if (!strcmp(o->string, it->string))
			return 1;
	return 0;
}

static int walk(const struct cfg_bundle *b, size_t s, const cJSON *obj,
		const char *prefix, const char *src, struct nd_err *err)
{
	const struct cfg_section *sec = b->sec[s];
	for (const cJSON *it = obj->child; it; it = it->next) {
		char key[256], where[512];
		if (prefix[0])
			snprintf(key, sizeof key, "%s.%s", prefix, it->string);
		else
			snprintf(key, sizeof key, "%s", it->string);
		if (sec->name[0])
			snprintf(where, sizeof where, "%s: %s.%s", src, sec->name, key);
		else
			snprintf(where, sizeof where, "%s: %s", src, key);
		if (dup_before(obj, it))
			return nd_errf(err, -EINVAL, "%s: duplicate key", where);
		if (!strcmp(it->string, "description") && cJSON_IsString(it))
			continue;
		const struct cfg_key *k = find_in(sec, key);
		if (k) {
			int rc = set_from_json(k, b->params[s], it, where, err);
			if (rc)
				return rc;
			continue;
		}
		if (has_prefix(sec, key)) {
			if (!cJSON_IsObject(it))
				return nd_errf(err, -EINVAL,
					       "%s: expected an object", where);
			int rc = walk(b, s, it, key, src, err);
			if (rc)
				return rc;
			continue;
		}
		return nd_errf(err, -EINVAL, "%s: unknown key", where);
	}
	return 0;
}

int cfg_apply_json(const struct cfg_bundle *b, const cJSON *doc,
		   const char *src, struct nd_err *err)
{
	if (!cJSON_IsObject(doc))
		return nd_errf(err, -EINVAL, "%s: top level must be a JSON object",
			       src);
	size_t root = SIZE_MAX;
	for (size_t s = 0; s < b->n; s++)
		if (!b->sec[s]->name[0])
			root = s;
	for (const cJSON *it = doc->child; it; it = it->next) {
		if (dup_before(doc, it))
			return nd_errf(err, -EINVAL, "%s: %s: duplicate key", src,
				       it->string);
		if (!strcmp(it->string, "description") && cJSON_IsString(it))
			continue;
		size_t s;
		for (s = 0; s < b->n; s++)
			if (b->sec[s]->name[0] && !strcmp(b->sec[s]->name, it->string))
				break;
		if (s < b->n) {
			if (!cJSON_IsObject(it))
				return nd_errf(err, -EINVAL,
					       "%s: %s: expected an object", src,
					       it->string);
			int rc = walk(b, s, it, "", src, err);
			if (rc)
				return rc;
			continue;
		}
		const struct cfg_key *k = root < b->n ? find_in(b->sec[root], it->string) : NULL;
		if (!k)
			return nd_errf(err, -EINVAL, "%s: %s: unknown key", src,
				       it->string);
		char where[512];
		snprintf(where, sizeof where, "%s: %s", src, it->string);
		int rc = set_from_json(k, b->params[root], it, where, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Line of a byte offset, for JSON syntax errors. */
static int line_of(const char *text, const char *pos)
{
	int line = 1;
	for (const char *p = text; p < pos && *p; p++)
		if (*p == '\n')
			line++;
	return line;
}

/* cJSON decodes "\u0000" into a NUL that silently cuts the string short;
 * finds such an escape inside a string literal (NULL if there is none). */
static const char *find_nul_escape(const char *text)
{
	int in_str = 0;
	for (const char *p = text; *p; p++) {
		if (!in_str) {
			in_str = *p == '"';
			continue;
		}
		if (*p == '"') {
			in_str = 0;
		} else if (*p == '\\' && p[1]) {
			if (p[1] == 'u' && !strncmp(p + 2, "0000", 4))
				return p;
			p++;   /* the escaped character */
		}
	}
	return NULL;
}

int cfg_apply_text(const struct cfg_bundle *b, const char *text,
		   const char *src, struct nd_err *err)
{
	const char *nul = find_nul_escape(text);
	if (nul)
		return nd_errf(err, -EINVAL, "%s:%d: a string contains \\u0000 (NUL)",
			       src, line_of(text, nul));
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithOpts(text, &end, 1);
	if (!doc) {
		const char *at = end ? end : cJSON_GetErrorPtr();
		return nd_errf(err, -EINVAL, "%s:%d: malformed JSON near \"%.20s\"",
			       src, at ? line_of(text, at) : 0, at ? at : "");
	}
	int rc = cfg_apply_json(b, doc, src, err);
	cJSON_Delete(doc);
	return rc;
}

int cfg_load_file(const struct cfg_bundle *b, const char *path,
		  struct nd_err *err)
{
	char *buf;
	size_t n;
	int rc = nd_read_file(path, 64u << 20, &buf, &n, err);
	if (rc == -EFBIG)
		return nd_errf(err, -EINVAL, "%s: config larger than 64 MiB", path);
	if (rc)
		return rc;
	if (strlen(buf) != n)
		rc = nd_errf(err, -EINVAL, "%s: contains a NUL byte", path);
	else
		rc = cfg_apply_text(b, buf, path, err);
	free(buf);
	return rc;
}

const struct cfg_key *cfg_find(const struct cfg_bundle *b, const char *path,
			       size_t *sec_idx)
{
	for (size_t s = 0; s < b->n; s++) {
		const struct cfg_section *sec = b->sec[s];
		const char *key = path;
		if (sec->name[0]) {
			size_t n = strlen(sec->name);
			if (strncmp(path, sec->name, n) || path[n] != '.')
				continue;
			key = path + n + 1;
		}
		const struct cfg_key *k = find_in(sec, key);
		if (k) {
			if (sec_idx)
				*sec_idx = s;
			return k;
		}
	}
	return NULL;
}

/* One or more decimal digits at p: the character after them, or NULL. */
static const char *digits(const char *p)
{
	const char *q = p;
	while (*q >= '0' && *q <= '9')
		q++;
	return q == p ? NULL : q;
}

/* The JSON number grammar (what a config file accepts): strtod alone would
 * also take hex ("0x10"), "inf", "nan" and leading blanks. */
static int is_json_number(const char *v)
{
	const char *p = v;
	if (*p == '-' || *p == '+')
		p++;
	if (!(p = digits(p)))
		return 0;
	if (*p == '.' && !(p = digits(p + 1)))
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(p = digits(p)))
			return 0;
	}
	return *p == '\0';
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

int cfg_set(const struct cfg_bundle *b, const char *assignment,
	    struct nd_err *err)
{
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment)
		return nd_errf(err, -EINVAL,
			       "--set %s: expected key=value", assignment);
	char path[256];
	size_t plen = (size_t)(eq - assignment);
	if (plen >= sizeof path)
		return nd_errf(err, -EINVAL, "--set: key too long");
	memcpy(path, assignment, plen);
	path[plen] = '\0';
	const char *val = eq + 1;
	size_t s;
	const struct cfg_key *k = cfg_find(b, path, &s);
	char where[300];
	snprintf(where, sizeof where, "--set %s", path);
	if (!k)
		return nd_errf(err, -EINVAL, "%s: unknown key (see 'ndpsim config --dump')",
			       where);
	void *f = field(b->params[s], k);
	switch (k->type) {
	case CFG_INT: case CFG_U64: case CFG_DBL: {
		char *end;
		errno = 0;
		double v = strtod(val, &end);
		if (end == val || *end || errno || !is_json_number(val))
			return nd_errf(err, -EINVAL, "%s: \"%s\" is not a number",
				       where, val);
		return store_num(k, b->params[s], v, where, err);
	}
	case CFG_BOOL:
		if (parse_bool(val, (int *)f))
			return nd_errf(err, -EINVAL,
				       "%s: expected true or false, got \"%s\"",
				       where, val);
		return 0;
	case CFG_STR:
		if (strlen(val) >= CFG_STR_MAX)
			return nd_errf(err, -EINVAL, "%s: value too long", where);
		snprintf((char *)f, CFG_STR_MAX, "%s", val);
		return 0;
	case CFG_ENUM: {
		int i = enum_index(k, val);
		if (i < 0) {
			char names[512];
			enum_list(k, names, sizeof names);
			return nd_errf(err, -EINVAL,
				       "%s: unknown value \"%s\" (one of: %s)",
				       where, val, names);
		}
		*(int *)f = i;
		return 0;
	}
	}
	return nd_errf(err, -EINVAL, "%s: bad key type", where);
}

static double num_value(const struct cfg_key *k, void *params)
{
	void *f = field(params, k);
	switch (k->type) {
	case CFG_INT: case CFG_BOOL: case CFG_ENUM: return *(int *)f;
	case CFG_U64: return (double)*(uint64_t *)f;
	case CFG_DBL: return *(double *)f;
	case CFG_STR: return 0;
	}
	return 0;
}

int cfg_validate(const struct cfg_bundle *b, struct nd_err *err)
{
	for (size_t s = 0; s < b->n; s++) {
		const struct cfg_section *sec = b->sec[s];
		for (const struct cfg_key *k = sec->keys; k->key; k++) {
			if (k->type == CFG_STR || k->type == CFG_BOOL || k->type == CFG_ENUM)
				continue;
			char where[300];
			full_path(sec, k, where, sizeof where);
			int rc = check_num(k, num_value(k, b->params[s]), where, err);
			if (rc)
				return rc;
		}
		if (sec->check) {
			int rc = sec->check(b->params[s], err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Finds or creates the nested object for a dotted path's parent and returns
 * the last component through *leaf. */
static cJSON *nest(cJSON *obj, const char *path, const char **leaf)
{
	const char *p = path;
	const char *dot;
	while ((dot = strchr(p, '.'))) {
		char part[128];
		size_t n = (size_t)(dot - p);
		if (n >= sizeof part)
			n = sizeof part - 1;
		memcpy(part, p, n);
		part[n] = '\0';
		cJSON *child = cJSON_GetObjectItemCaseSensitive(obj, part);
		if (!child)
			child = cJSON_AddObjectToObject(obj, part);
		obj = child;
		p = dot + 1;
	}
	*leaf = p;
	return obj;
}

struct cJSON *cfg_to_json(const struct cfg_bundle *b)
{
	cJSON *root = cJSON_CreateObject();
	for (size_t s = 0; s < b->n; s++) {
		const struct cfg_section *sec = b->sec[s];
		cJSON *base = root;
		if (sec->name[0]) {
			base = cJSON_GetObjectItemCaseSensitive(root, sec->name);
			if (!base)
				base = cJSON_AddObjectToObject(root, sec->name);
		}
		for (const struct cfg_key *k = sec->keys; k->key; k++) {
			const char *leaf;
			cJSON *o = nest(base, k->key, &leaf);
			void *f = field(b->params[s], k);
			switch (k->type) {
			case CFG_INT: cJSON_AddNumberToObject(o, leaf, *(int *)f); break;
			case CFG_U64: cJSON_AddNumberToObject(o, leaf, (double)*(uint64_t *)f); break;
			case CFG_DBL: cJSON_AddNumberToObject(o, leaf, *(double *)f); break;
			case CFG_BOOL: cJSON_AddBoolToObject(o, leaf, *(int *)f); break;
			case CFG_STR: cJSON_AddStringToObject(o, leaf, (char *)f); break;
			case CFG_ENUM: cJSON_AddStringToObject(o, leaf, k->names[*(int *)f]); break;
			}
		}
	}
	return root;
}

void cfg_dump_help(const struct cfg_bundle *b, FILE *out)
{
	for (size_t s = 0; s < b->n; s++) {
		const struct cfg_section *sec = b->sec[s];
		fprintf(out, "# %s\n", sec->name[0] ? sec->name : "(top level)");
		for (const struct cfg_key *k = sec->keys; k->key; k++) {
			char path[300], val[CFG_STR_MAX + 8], range[128] = "";
			full_path(sec, k, path, sizeof path);
			void *f = field(b->params[s], k);
			switch (k->type) {
			case CFG_INT: snprintf(val, sizeof val, "%d", *(int *)f); break;
			case CFG_U64: snprintf(val, sizeof val, "%llu", (unsigned long long)*(uint64_t *)f); break;
			case CFG_DBL: snprintf(val, sizeof val, "%.10g", *(double *)f); break;
			case CFG_BOOL: snprintf(val, sizeof val, "%s", *(int *)f ? "true" : "false"); break;
			case CFG_STR: snprintf(val, sizeof val, "\"%s\"", (char *)f); break;
			case CFG_ENUM: snprintf(val, sizeof val, "%s", k->names[*(int *)f]); break;
			}
			if (k->type == CFG_ENUM)
				enum_list(k, range, sizeof range);
			else if (k->type != CFG_STR && k->type != CFG_BOOL)
				snprintf(range, sizeof range, "%.10g..%.10g", k->min, k->max);
			fprintf(out, "%-36s = %-14s [%s] {%s}\n    %s\n", path, val,
				k->unit, range, k->help);
		}
	}
}

uint64_t cfg_hash(const struct cfg_bundle *b)
{
	cJSON *j = cfg_to_json(b);
	char *t = cJSON_PrintUnformatted(j);
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const char *p = t; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	free(t);
	cJSON_Delete(j);
	return h;
}
