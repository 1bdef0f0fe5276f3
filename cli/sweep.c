#include "cli/sweep.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analog/gbo.h"
#include "analog/xbar.h"
#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/registry.h"
#include "core/file.h"
#include "core/report.h"
#include "core/util.h"
#include "hostif/compare.h"
#include "hostif/ndram.h"
#include "hostif/host.h"
#include "ndp/ndp.h"
#include "ssdsim/ssd.h"
#include "workloads/bnn.h"
#include "workloads/synth.h"

const struct cli_cmd *sweep_cmd_find(const char *name)
{
	for (size_t i = 0; i < cli_ncmds; i++)
		if (cli_cmds[i].sweep_as && !strcmp(cli_cmds[i].sweep_as, name))
			return &cli_cmds[i];
	return NULL;
}

const char *sweep_cmd_names(void)
{
	static char buf[512];
	size_t u = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < cli_ncmds && u < sizeof buf; i++)
		if (cli_cmds[i].sweep_as)
			u += (size_t)snprintf(buf + u, sizeof buf - u, "%s%s", u ? ", " : "",
					      cli_cmds[i].sweep_as);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

void sweep_fmt_num(double v, char *buf, size_t n)
{
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, n, "%.0f", v);
		return;
	}
	snprintf(buf, n, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, n, "%.17g", v);
}

void sweep_fmt_scalar(const cJSON *v, char *buf, size_t n)
{
	if (cJSON_IsNumber(v))
		sweep_fmt_num(v->valuedouble, buf, n);
	else if (cJSON_IsString(v))
		snprintf(buf, n, "%s", v->valuestring);
	else if (cJSON_IsBool(v))
		snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if (n)
		buf[0] = '\0';
}

static uint64_t fnv_more(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t sweep_hash_json(const cJSON *json)
{
	char *t = cJSON_PrintUnformatted(json);
	/* same FNV-1a as cfg_hash() */
	uint64_t h = fnv_more(0xcbf29ce484222325ULL, t ? t : "", t ? strlen(t) : 0);
	free(t);
	return h;
}

uint64_t sweep_hash_args(uint64_t h, char *const *args, int n)
{
	for (int i = 0; i < n; i++) {
		h = fnv_more(h, "", 1);
		h = fnv_more(h, args[i], strlen(args[i]));
	}
	return h;
}

void sweep_json_exact(cJSON *o)
{
	for (cJSON *it = o ? o->child : NULL, *next; it; it = next) {
		next = it->next;
		if (cJSON_IsNumber(it) && cJSON_IsObject(o))
			cJSON_ReplaceItemInObjectCaseSensitive(o, it->string, rep_num(it->valuedouble));
		else if (cJSON_IsNumber(it))
			cJSON_ReplaceItemViaPointer(o, it, rep_num(it->valuedouble));
		else if (cJSON_IsObject(it) || cJSON_IsArray(it))
			sweep_json_exact(it);
	}
}

void sweep_hash_hex(uint64_t h, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int sweep_hash_parse(const char *hex, uint64_t *out)
{
	if (strlen(hex) != 16)
		return -1;
	uint64_t h = 0;
	for (int i = 0; i < 16; i++) {
		char c = hex[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		h = h << 4 | (uint64_t)d;
	}
	*out = h;
	return 0;
}

/* Reads a whole file (fd >= 0: from offset 0 of fd).  *missing is set when
 * path does not exist. */
static int slurp(const char *path, int fd, char **out, size_t *len, int *missing,
		 struct nd_err *err)
{
	int own = fd < 0;
	*out = NULL;
	*len = 0;
	if (missing)
		*missing = 0;
	if (own) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT && missing) {
				*missing = 1;
				return 0;
			}
			return nd_errf(err, errno == ENOENT ? -ENOENT : -EIO, "%s: %s", path,
				       strerror(errno));
		}
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t r = pread(fd, buf + n, cap - n - 1, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			if (own)
				close(fd);
			return nd_errf(err, -EIO, "%s: read: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (own)
		close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int line_of(const char *text, const char *pos)
{
	int line = 1;
	for (const char *p = text; p < pos && *p; p++)
		line += *p == '\n';
	return line;
}

/* ------------------------------------------------------------------ */
/* Grid loading and validation                                         */

struct gload {
	struct sweep_grid *g;
	struct cfg_bundle base, scratch;
	char **seen;                  /* every key named so far */
	int nseen;
	struct nd_err *err;
};

static void bundle_alloc(struct cfg_bundle *b, const struct cli_cmd *c)
{
	cli_bundle_alloc(b, c);
}

static void bundle_release(struct cfg_bundle *b)
{
	cli_bundle_free(b);
}

static void bundle_copy(struct cfg_bundle *dst, const struct cfg_bundle *src)
{
	for (size_t i = 0; i < src->n; i++)
		memcpy(dst->params[i], src->params[i], src->sec[i]->params_size);
}

/* "(top level), ssd., workload." for messages. */
static void section_list(const struct cli_cmd *c, char *buf, size_t n)
{
	size_t u = 0;
	buf[0] = '\0';
	for (int i = 0; i < CLI_MAX_SECTIONS && c->sections[i] && u < n; i++) {
		const char *s = c->sections[i]->name;
		u += (size_t)snprintf(buf + u, n - u, "%s%s%s", i ? ", " : "",
				      s[0] ? s : "(top level: seed, threads)", s[0] ? "." : "");
	}
}

/* The cfg_key for path in the subcommand's bundle; names the grid file and
 * `where` ("grid", "zip[0]", "set") when there is none. */
static const struct cfg_key *need_key(struct gload *L, const char *where, const char *path)
{
	const struct cfg_key *k = cfg_find(&L->base, path, NULL);
	if (k)
		return k;
	/* a key of another module: every registered section, and those of the
	 * other sweepable subcommands */
	struct cfg_bundle all;
	cli_bundle_all(&all);
	int elsewhere = cfg_find(&all, path, NULL) != NULL;
	cli_bundle_free(&all);
	for (size_t c = 0; c < cli_ncmds && !elsewhere; c++) {
		bundle_alloc(&all, &cli_cmds[c]);
		elsewhere = cfg_find(&all, path, NULL) != NULL;
		bundle_release(&all);
	}
	if (elsewhere) {
		char secs[256];
		section_list(L->g->cmd, secs, sizeof secs);
		nd_errf(L->err, -EINVAL, "%s: %s: %s: not a key of command '%s' (its keys: %s)",
			L->g->src, where, path, L->g->cmd->sweep_as, secs);
	} else {
		nd_errf(L->err, -EINVAL, "%s: %s: %s: unknown key (see 'ndpsim config --dump')",
			L->g->src, where, path);
	}
	return NULL;
}

static int note_key(struct gload *L, const char *where, const char *path, int may_repeat)
{
	for (int i = 0; i < L->nseen; i++)
		if (!strcmp(L->seen[i], path)) {
			if (may_repeat)
				return 0;
			return nd_errf(L->err, -EINVAL, "%s: %s: %s: key given twice (grid, zip, set or --set)",
				       L->g->src, where, path);
		}
	L->seen = xrealloc(L->seen, sizeof *L->seen * (size_t)(L->nseen + 1));
	L->seen[L->nseen++] = xstrdup(path);
	return 0;
}

/* Replaces the "--set <path>: " that cfg_set puts in front of its message by
 * the grid's own location: "<grid file>: <where>: <label>: ...". */
static int reprefix(struct gload *L, const char *where, const char *path,
		    const char *label)
{
	char pre[300], msg[sizeof L->err->msg];
	snprintf(pre, sizeof pre, "--set %s: ", path);
	const char *m = L->err->msg;
	if (!strncmp(m, pre, strlen(pre)))
		m += strlen(pre);
	snprintf(msg, sizeof msg, "%s", m);
	return nd_errf(L->err, L->err->code ? L->err->code : -EINVAL, "%s: %s: %s: %s",
		       L->g->src, where, label, msg);
}

/* The "key=value" text that applies JSON value v to key k (type-checked the
 * way a config file is); NULL with err when v has the wrong type. */
static char *assignment(struct gload *L, const char *where, const char *label,
			const char *path, const struct cfg_key *k, const cJSON *v)
{
	char val[CFG_STR_MAX + 32];
	char *shown = cJSON_PrintUnformatted(v);
	const char *want = NULL;
	switch (k->type) {
	case CFG_INT: case CFG_U64: case CFG_DBL:
		if (cJSON_IsNumber(v))
			sweep_fmt_num(v->valuedouble, val, sizeof val);
		else
			want = "a number";
		break;
	case CFG_BOOL:
		if (cJSON_IsBool(v))
			snprintf(val, sizeof val, "%s", cJSON_IsTrue(v) ? "true" : "false");
		else
			want = "true or false";
		break;
	case CFG_STR: case CFG_ENUM:
		if (cJSON_IsString(v) && strlen(v->valuestring) < CFG_STR_MAX)
			snprintf(val, sizeof val, "%s", v->valuestring);
		else
			want = cJSON_IsString(v) ? "a shorter string" : "a string";
		break;
	}
	if (want) {
		nd_errf(L->err, -EINVAL, "%s: %s: %s: expected %s (%s), got %s", L->g->src, where,
			label, want, k->unit, shown ? shown : "?");
		free(shown);
		return NULL;
	}
	free(shown);
	size_t n = strlen(path) + strlen(val) + 2;
	char *a = xmalloc(n);
	snprintf(a, n, "%s=%s", path, val);
	return a;
}

/* Expands a value list or a range into a fresh array. */
static cJSON *expand(struct gload *L, const char *where, const char *path,
		     const struct cfg_key *k, const cJSON *spec)
{
	if (cJSON_IsArray(spec)) {
		if (!cJSON_GetArraySize(spec)) {
			nd_errf(L->err, -EINVAL, "%s: %s: %s: empty list of values", L->g->src,
				where, path);
			return NULL;
		}
		return cJSON_Duplicate(spec, 1);
	}
	if (!cJSON_IsObject(spec)) {
		nd_errf(L->err, -EINVAL,
			"%s: %s: %s: expected a list of values or a range {\"from\", \"to\", \"step\" | \"times\"}",
			L->g->src, where, path);
		return NULL;
	}
	if (k->type != CFG_INT && k->type != CFG_U64 && k->type != CFG_DBL) {
		nd_errf(L->err, -EINVAL, "%s: %s: %s: a range needs a numeric key; list the values",
			L->g->src, where, path);
		return NULL;
	}
	const cJSON *from = NULL, *to = NULL, *step = NULL, *times = NULL;
	for (const cJSON *it = spec->child; it; it = it->next) {
		const cJSON **slot = !strcmp(it->string, "from") ? &from : !strcmp(it->string, "to") ? &to
				   : !strcmp(it->string, "step") ? &step : !strcmp(it->string, "times") ? &times
				   : NULL;
		if (!slot || !cJSON_IsNumber(it)) {
			nd_errf(L->err, -EINVAL, "%s: %s: %s: range: %s \"%s\" (a range is {\"from\": number, \"to\": number, \"step\" or \"times\": number})",
				L->g->src, where, path, slot ? "non-numeric" : "unknown field", it->string);
			return NULL;
		}
		*slot = it;
	}
	if (!from || !to || !step == !times) {
		nd_errf(L->err, -EINVAL, "%s: %s: %s: range needs \"from\", \"to\" and one of \"step\" or \"times\"",
			L->g->src, where, path);
		return NULL;
	}
	double a = from->valuedouble, b = to->valuedouble;
	const char *bad = NULL;
	if (!(a <= b))
		bad = "\"from\" is above \"to\"";
	else if (step && !(step->valuedouble > 0))
		bad = "\"step\" must be > 0";
	else if (times && !(times->valuedouble > 1))
		bad = "\"times\" must be > 1";
	else if (times && !(a > 0))
		bad = "a \"times\" range needs \"from\" > 0";
	if (bad) {
		nd_errf(L->err, -EINVAL, "%s: %s: %s: range: %s", L->g->src, where, path, bad);
		return NULL;
	}
	cJSON *arr = cJSON_CreateArray();
	for (long i = 0;; i++) {
		double v = step ? a + (double)i * step->valuedouble : a * pow(times->valuedouble, (double)i);
		double tol = step ? 1e-9 * step->valuedouble : 1e-12 * b;
		if (v > b + tol)
			break;
		if (i >= 100000) {
			cJSON_Delete(arr);
			nd_errf(L->err, -EINVAL, "%s: %s: %s: range has more than 100000 values",
				L->g->src, where, path);
			return NULL;
		}
		/* 12 significant digits: 0.07 + 2 * 0.07 is 0.21, not 0.21000000000000002 */
		char t[64];
		snprintf(t, sizeof t, "%.12g", v);
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(strtod(t, NULL)));
	}
	return arr;
}

/* Adds swept key `path` with values `spec` on axis `axis`; every value is
 * applied to a scratch copy of the base so that type, range and enum names
 * fail here, naming the key. */
static int add_key(struct gload *L, const char *where, const char *path,
		   const cJSON *spec, int axis, int may_repeat)
{
	const struct cfg_key *k = need_key(L, where, path);
	if (!k)
		return -EINVAL;
	int rc = note_key(L, where, path, may_repeat);
	if (rc)
		return rc;
	cJSON *vals = expand(L, where, path, k, spec);
	if (!vals)
		return -EINVAL;
	int n = cJSON_GetArraySize(vals);
	for (int i = 0; i < n; i++) {
		char label[300];
		snprintf(label, sizeof label, "%s[%d]", path, i);
		char *a = assignment(L, where, label, path, k, cJSON_GetArrayItem(vals, i));
		if (!a) {
			cJSON_Delete(vals);
			return -EINVAL;
		}
		bundle_copy(&L->scratch, &L->base);
		rc = cfg_set(&L->scratch, a, L->err);
		free(a);
		if (rc) {
			cJSON_Delete(vals);
			return reprefix(L, where, path, label);
		}
	}
	struct sweep_grid *g = L->g;
	g->keys = xrealloc(g->keys, sizeof *g->keys * (size_t)(g->nkeys + 1));
	g->keys[g->nkeys].path = xstrdup(path);
	g->keys[g->nkeys].vals = vals;
	g->keys[g->nkeys].axis = axis;
	g->nkeys++;
	return 0;
}

static int add_fixed(struct gload *L, const char *a)
{
	struct sweep_grid *g = L->g;
	g->fixed = xrealloc(g->fixed, sizeof *g->fixed * (size_t)(g->nfixed + 1));
	g->fixed[g->nfixed++] = xstrdup(a);
	return 0;
}

/* A list of options (the grid's or a point's "args") into *v. */
static int read_args(struct gload *L, const cJSON *args, const char *where, char ***v, int *n)
{
	struct sweep_grid *g = L->g;
	if (args && !cJSON_IsArray(args))
		return nd_errf(L->err, -EINVAL, "%s: %s: expected a list of strings", g->src, where);
	for (const cJSON *it = args ? args->child : NULL; it; it = it->next) {
		if (!cJSON_IsString(it))
			return nd_errf(L->err, -EINVAL, "%s: %s: expected a list of strings", g->src, where);
		static const char *const owned[] = { "--out", "--config", "--set", "--seed",
						     "--quiet", "-q", "--help", "-h" };
		for (size_t o = 0; o < ND_ARRAY_LEN(owned); o++) {
			size_t k = strlen(owned[o]);
			if (!strncmp(it->valuestring, owned[o], k) &&
			    (it->valuestring[k] == '\0' || it->valuestring[k] == '='))
				return nd_errf(L->err, -EINVAL, "%s: %s: %s is set by the sweep (config keys go in \"set\" or \"grid\")",
					       g->src, where, owned[o]);
		}
		*v = xrealloc(*v, sizeof **v * (size_t)(*n + 1));
		(*v)[(*n)++] = xstrdup(it->valuestring);
	}
	return 0;
}

/* "points": one axis of entries, each naming some keys and maybe "args";
 * the keys an entry leaves out take the base value. */
static int load_points(struct gload *L, const cJSON *pts)
{
	struct sweep_grid *g = L->g;
	struct nd_err *err = L->err;
	if (!cJSON_IsArray(pts) || !cJSON_GetArraySize(pts))
		return nd_errf(err, -EINVAL, "%s: points: expected a non-empty list of objects {\"key\": value, ..., \"args\": [...]}",
			       g->src);
	int ne = cJSON_GetArraySize(pts);
	g->nentries = ne;
	g->eargs = xcalloc((size_t)ne, sizeof *g->eargs);
	g->neargs = xcalloc((size_t)ne, sizeof *g->neargs);
	const char **ukey = NULL;
	int nu = 0, e = 0, rc = 0;
	for (const cJSON *ent = pts->child; ent; ent = ent->next, e++) {
		char where[32];
		snprintf(where, sizeof where, "points[%d]", e);
		if (!cJSON_IsObject(ent))
			return free(ukey), nd_errf(err, -EINVAL, "%s: %s: expected an object", g->src, where);
		for (const cJSON *it = ent->child; it; it = it->next) {
			if (!strcmp(it->string, "args")) {
				char w[48];
				snprintf(w, sizeof w, "%s.args", where);
				if ((rc = read_args(L, it, w, &g->eargs[e], &g->neargs[e])))
					return free(ukey), rc;
				continue;
			}
			if (!need_key(L, where, it->string))
				return free(ukey), -EINVAL;
			int seen = 0;
			for (int u = 0; u < nu && !seen; u++)
				seen = !strcmp(ukey[u], it->string);
			if (!seen) {
				ukey = xrealloc(ukey, sizeof *ukey * (size_t)(nu + 1));
				ukey[nu++] = it->string;
			}
		}
	}
	if (!nu)
		return nd_errf(err, -EINVAL, "%s: points: no entry names a config key", g->src);
	cJSON *basej = cfg_to_json(&L->base);
	for (int u = 0; u < nu && !rc; u++) {
		cJSON *vals = cJSON_CreateArray();
		for (const cJSON *ent = pts->child; ent; ent = ent->next) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(ent, ukey[u]);
			if (!v)
				v = sweep_json_path(basej, ukey[u]);
			ND_ASSERT(v != NULL);   /* need_key found it in the bundle */
			cJSON_AddItemToArray(vals, cJSON_Duplicate(v, 1));
		}
		/* a point's key overrides --set / "set", not a grid key */
		rc = add_key(L, "points", ukey[u], vals, g->naxes, 1);
		cJSON_Delete(vals);
	}
	cJSON_Delete(basej);
	free(ukey);
	g->pts_axis = g->naxes++;
	return rc;
}

static int load_top(struct gload *L, const cJSON *doc, const char *base,
		    const char *const *cli_sets, int ncli)
{
	struct sweep_grid *g = L->g;
	struct nd_err *err = L->err;
	if (!cJSON_IsObject(doc))
		return nd_errf(err, -EINVAL, "%s: top level must be a JSON object", g->src);
	static const char *const fields[] = { "description", "command", "args", "set", "grid", "zip",
					      "points" };
	for (const cJSON *it = doc->child; it; it = it->next) {
		size_t f;
		for (f = 0; f < ND_ARRAY_LEN(fields); f++)
			if (!strcmp(it->string, fields[f]))
				break;
		if (f == ND_ARRAY_LEN(fields))
			return nd_errf(err, -EINVAL, "%s: %s: unknown field (a grid has: command, args, set, grid, zip, points, description)",
				       g->src, it->string);
	}
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(doc, "command");
	if (!cJSON_IsString(cmd))
		return nd_errf(err, -EINVAL, "%s: command: missing or not a string (one of: %s)",
			       g->src, sweep_cmd_names());
	g->cmd = sweep_cmd_find(cmd->valuestring);
	if (!g->cmd)
		return nd_errf(err, -EINVAL, "%s: command: unknown command '%s' (sweepable: %s)",
			       g->src, cmd->valuestring, sweep_cmd_names());

	int rc = read_args(L, cJSON_GetObjectItemCaseSensitive(doc, "args"), "args", &g->args,
			   &g->nargs);
	if (rc)
		return rc;

	bundle_alloc(&L->base, g->cmd);
	bundle_alloc(&L->scratch, g->cmd);
	cfg_defaults(&L->base);
	if (base && (rc = cfg_load_file(&L->base, base, err)))
		return rc;
	for (int i = 0; i < ncli; i++) {
		char key[256];
		const char *eq = strchr(cli_sets[i], '=');
		size_t kl = eq ? (size_t)(eq - cli_sets[i]) : strlen(cli_sets[i]);
		snprintf(key, sizeof key, "%.*s", (int)(kl < sizeof key ? kl : sizeof key - 1), cli_sets[i]);
		if ((rc = cfg_set(&L->base, cli_sets[i], err)))
			return rc;
		note_key(L, "--set", key, 1);
		add_fixed(L, cli_sets[i]);
	}
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(doc, "set");
	if (set && !cJSON_IsObject(set))
		return nd_errf(err, -EINVAL, "%s: set: expected an object {\"key\": value}", g->src);
	for (const cJSON *it = set ? set->child : NULL; it; it = it->next) {
		const struct cfg_key *k = need_key(L, "set", it->string);
		if (!k || (rc = note_key(L, "set", it->string, 0)))
			return -EINVAL;
		char *a = assignment(L, "set", it->string, it->string, k, it);
		if (!a)
			return -EINVAL;
		rc = cfg_set(&L->base, a, err);
		if (!rc)
			add_fixed(L, a);
		free(a);
		if (rc)
			return reprefix(L, "set", it->string, it->string);
	}

	const cJSON *pts = cJSON_GetObjectItemCaseSensitive(doc, "points");
	if (pts && (rc = load_points(L, pts)))
		return rc;
	const cJSON *grid = cJSON_GetObjectItemCaseSensitive(doc, "grid");
	if (grid && !cJSON_IsObject(grid))
		return nd_errf(err, -EINVAL, "%s: grid: expected an object {\"key\": [values] | {range}}", g->src);
	for (const cJSON *it = grid ? grid->child : NULL; it; it = it->next)
		if ((rc = add_key(L, "grid", it->string, it, g->naxes++, 0)))
			return rc;
	const cJSON *zip = cJSON_GetObjectItemCaseSensitive(doc, "zip");
	if (zip && !cJSON_IsArray(zip))
		return nd_errf(err, -EINVAL, "%s: zip: expected a list of objects {\"key\": [values], ...}", g->src);
	int z = 0;
	for (const cJSON *grp = zip ? zip->child : NULL; grp; grp = grp->next, z++) {
		char where[32];
		snprintf(where, sizeof where, "zip[%d]", z);
		if (!cJSON_IsObject(grp) || !grp->child)
			return nd_errf(err, -EINVAL, "%s: %s: expected a non-empty object {\"key\": [values], ...}",
				       g->src, where);
		int first = g->nkeys;
		for (const cJSON *it = grp->child; it; it = it->next) {
			if ((rc = add_key(L, where, it->string, it, g->naxes, 0)))
				return rc;
			int n0 = cJSON_GetArraySize(g->keys[first].vals);
			int n = cJSON_GetArraySize(g->keys[g->nkeys - 1].vals);
			if (n != n0)
				return nd_errf(err, -EINVAL, "%s: %s: %s: %d values, but %s has %d (keys of one zip move together)",
					       g->src, where, it->string, n, g->keys[first].path, n0);
		}
		g->naxes++;
	}
	if (!g->nkeys)
		return nd_errf(err, -EINVAL, "%s: no swept keys: give \"grid\", \"zip\" or \"points\"", g->src);
	if (g->nfixed + g->nkeys > CLI_MAX_SETS)
		return nd_errf(err, -EINVAL, "%s: %d fixed and swept keys; a point takes at most %d",
			       g->src, g->nfixed + g->nkeys, CLI_MAX_SETS);
	return 0;
}

static int cmp_hash_idx(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Expands the axes into points, validates each one, hashes it. */
static int make_points(struct gload *L)
{
	struct sweep_grid *g = L->g;
	size_t len[64];
	if (g->naxes > 64)
		return nd_errf(L->err, -EINVAL, "%s: more than 64 axes", g->src);
	double total = 1;
	for (int a = 0; a < g->naxes; a++)
		for (int k = 0; k < g->nkeys; k++)
			if (g->keys[k].axis == a) {
				len[a] = (size_t)cJSON_GetArraySize(g->keys[k].vals);
				total *= (double)len[a];
				break;
			}
	if (total > SWEEP_MAX_POINTS)
		return nd_errf(L->err, -EINVAL, "%s: %.0f points; at most %d", g->src, total,
			       SWEEP_MAX_POINTS);
	g->npoints = (size_t)total;
	g->pts = xcalloc(g->npoints, sizeof *g->pts);
	for (size_t p = 0; p < g->npoints; p++) {
		struct sweep_point *pt = &g->pts[p];
		size_t digit[64], rem = p;
		for (int a = g->naxes - 1; a >= 0; a--) {   /* last axis varies fastest */
			digit[a] = rem % len[a];
			rem /= len[a];
		}
		pt->sets = xcalloc((size_t)g->nkeys, sizeof *pt->sets);
		pt->point = cJSON_CreateObject();
		pt->dup_of = -1;
		if (g->pts_axis >= 0) {
			pt->args = g->eargs[digit[g->pts_axis]];
			pt->nargs = g->neargs[digit[g->pts_axis]];
		}
		bundle_copy(&L->scratch, &L->base);
		for (int k = 0; k < g->nkeys; k++) {
			const struct sweep_key *sk = &g->keys[k];
			const cJSON *v = cJSON_GetArrayItem(sk->vals, (int)digit[sk->axis]);
			const struct cfg_key *ck = cfg_find(&L->base, sk->path, NULL);
			pt->sets[k] = assignment(L, "grid", sk->path, sk->path, ck, v);
			ND_ASSERT(pt->sets[k]);   /* checked in add_key */
			cJSON_AddItemToObject(pt->point, sk->path, cJSON_Duplicate(v, 1));
			int rc = cfg_set(&L->scratch, pt->sets[k], L->err);
			ND_ASSERT(rc == 0);
		}
		int rc = cfg_validate(&L->scratch, L->err);
		if (rc) {
			char msg[sizeof L->err->msg];
			snprintf(msg, sizeof msg, "%s", L->err->msg);
			return nd_errf(L->err, rc, "%s: point %zu (%s): %s", g->src, p,
				       sweep_point_label(g, p), msg);
		}
		pt->hash = sweep_hash_args(cfg_hash(&L->scratch), pt->args, pt->nargs);
	}
	/* identical configs (e.g. a value listed twice) run once */
	uint64_t *hi = xmalloc(2 * sizeof *hi * g->npoints);
	for (size_t p = 0; p < g->npoints; p++) {
		hi[2 * p] = g->pts[p].hash;
		hi[2 * p + 1] = p;
	}
	qsort(hi, g->npoints, 2 * sizeof *hi, cmp_hash_idx);
	size_t run_first = 0;
	for (size_t p = 1; p < g->npoints; p++) {
		if (hi[2 * p] == hi[2 * p - 2])
			g->pts[hi[2 * p + 1]].dup_of = (long)hi[2 * run_first + 1];
		else
			run_first = p;
	}
	free(hi);
	return 0;
}

static int grid_from_json(const cJSON *doc, const char *base, const char *const *cli_sets,
			  int ncli_sets, struct sweep_grid *g, struct nd_err *err);

int sweep_grid_load(const char *path, const char *base,
		    const char *const *cli_sets, int ncli_sets,
		    struct sweep_grid *g, struct nd_err *err)
{
	memset(g, 0, sizeof *g);
	g->src = xstrdup(path);
	g->pts_axis = -1;
	char *text;
	size_t len;
	/* a grid is a few kB; the cap stops /dev/zero-like input early */
	int rc = nd_read_file(path, SWEEP_GRID_MAX_BYTES, &text, &len, err);
	if (rc == -EFBIG)
		return nd_errf(err, -EINVAL, "%s: grid larger than %d MiB", path,
			       SWEEP_GRID_MAX_BYTES >> 20);
	if (rc)
		return rc;
	if (strlen(text) != len) {
		free(text);
		return nd_errf(err, -EINVAL, "%s: contains a NUL byte", path);
	}
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithOpts(text, &end, 1);
	if (!doc) {
		const char *at = end ? end : cJSON_GetErrorPtr();
		rc = nd_errf(err, -EINVAL, "%s:%d: malformed JSON near \"%.20s\"", path,
			     at ? line_of(text, at) : 0, at ? at : "");
		free(text);
		return rc;
	}
	free(text);
	rc = grid_from_json(doc, base, cli_sets, ncli_sets, g, err);
	cJSON_Delete(doc);
	return rc;
}

int sweep_grid_load_json(const cJSON *doc, const char *src, const char *base,
			 const char *const *cli_sets, int ncli_sets,
			 struct sweep_grid *g, struct nd_err *err)
{
	memset(g, 0, sizeof *g);
	g->src = xstrdup(src);
	g->pts_axis = -1;
	return grid_from_json(doc, base, cli_sets, ncli_sets, g, err);
}

static int grid_from_json(const cJSON *doc, const char *base, const char *const *cli_sets,
			  int ncli_sets, struct sweep_grid *g, struct nd_err *err)
{
	struct gload L = { .g = g, .err = err };
	int rc = load_top(&L, doc, base, cli_sets, ncli_sets);
	if (!rc)
		rc = make_points(&L);
	g->base = L.base;   /* kept: the fixed part of every point's config */
	bundle_release(&L.scratch);
	for (int i = 0; i < L.nseen; i++)
		free(L.seen[i]);
	free(L.seen);
	return rc;
}

void sweep_grid_free(struct sweep_grid *g)
{
	if (!g)
		return;
	for (size_t p = 0; p < g->npoints; p++) {
		for (int k = 0; g->pts[p].sets && k < g->nkeys; k++)
			free(g->pts[p].sets[k]);
		free(g->pts[p].sets);
		cJSON_Delete(g->pts[p].point);
	}
	free(g->pts);
	for (int k = 0; k < g->nkeys; k++) {
		free(g->keys[k].path);
		cJSON_Delete(g->keys[k].vals);
	}
	free(g->keys);
	for (int i = 0; i < g->nargs; i++)
		free(g->args[i]);
	free(g->args);
	for (int i = 0; i < g->nfixed; i++)
		free(g->fixed[i]);
	free(g->fixed);
	for (int e = 0; e < g->nentries; e++) {
		for (int a = 0; a < g->neargs[e]; a++)
			free(g->eargs[e][a]);
		free(g->eargs[e]);
	}
	free(g->eargs);
	free(g->neargs);
	free(g->src);
	bundle_release(&g->base);
	memset(g, 0, sizeof *g);
}

/* ------------------------------------------------------------------ */
/* Running a point                                                     */

char **sweep_point_argv(const struct sweep_grid *g, size_t i, const char *base,
			const char *out_dir, int *argc)
{
	size_t cap = 16 + (size_t)g->nargs + (size_t)g->pts[i].nargs +
		     2 * (size_t)(g->nfixed + g->nkeys);
	char **v = xcalloc(cap, sizeof *v);
	int n = 0;
	char *words = xstrdup(g->cmd->sweep_as), *save = NULL;
	for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
		v[n++] = xstrdup(w);
	free(words);
	for (int a = 0; a < g->nargs; a++)
		v[n++] = xstrdup(g->args[a]);
	for (int a = 0; a < g->pts[i].nargs; a++)
		v[n++] = xstrdup(g->pts[i].args[a]);
	if (base) {
		v[n++] = xstrdup("--config");
		v[n++] = xstrdup(base);
	}
	for (int f = 0; f < g->nfixed; f++) {
		v[n++] = xstrdup("--set");
		v[n++] = xstrdup(g->fixed[f]);
	}
	for (int k = 0; k < g->nkeys; k++) {
		v[n++] = xstrdup("--set");
		v[n++] = xstrdup(g->pts[i].sets[k]);
	}
	v[n++] = xstrdup("--out");
	v[n++] = xstrdup(out_dir);
	v[n++] = xstrdup("--quiet");
	v[n] = NULL;
	ND_ASSERT((size_t)n < cap);
	*argc = n;
	return v;
}

void sweep_argv_free(char **argv)
{
	for (char **p = argv; p && *p; p++)
		free(*p);
	free(argv);
}

const char *sweep_point_label(const struct sweep_grid *g, size_t i)
{
	static char buf[1024];
	size_t u = 0;
	buf[0] = '\0';
	for (int k = 0; k < g->nkeys && u < sizeof buf; k++)
		u += (size_t)snprintf(buf + u, sizeof buf - u, "%s%s", k ? " " : "",
				      g->pts[i].sets[k]);
	for (int a = 0; a < g->pts[i].nargs && u < sizeof buf; a++)
		u += (size_t)snprintf(buf + u, sizeof buf - u, " %s", g->pts[i].args[a]);
	return buf;
}

/* The first path where a and b differ ("ssd.verify") and how. */
static int json_diff(const cJSON *a, const cJSON *b, const char *prefix, char *where, size_t wn,
		     char *what, size_t hn)
{
	if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
		for (const cJSON *x = a->child; x; x = x->next) {
			char p[512];
			snprintf(p, sizeof p, "%s%s%s", prefix, prefix[0] ? "." : "", x->string);
			const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (!y) {
				snprintf(where, wn, "%s", p);
				snprintf(what, hn, "missing in the report");
				return 1;
			}
			if (json_diff(x, y, p, where, wn, what, hn))
				return 1;
		}
		for (const cJSON *y = b->child; y; y = y->next)
			if (!cJSON_GetObjectItemCaseSensitive(a, y->string)) {
				snprintf(where, wn, "%s%s%s", prefix, prefix[0] ? "." : "", y->string);
				snprintf(what, hn, "not a key of the point");
				return 1;
			}
		return 0;
	}
	if (cJSON_Compare(a, b, 1))
		return 0;
	char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
	snprintf(where, wn, "%s", prefix);
	snprintf(what, hn, "point has %.300s, the run used %.300s", ta ? ta : "?", tb ? tb : "?");
	free(ta);
	free(tb);
	return 1;
}

char *sweep_result_line(const struct sweep_grid *g, size_t i, const cJSON *report,
			struct nd_err *err)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(report, "config");
	const cJSON *met = cJSON_GetObjectItemCaseSensitive(report, "metrics");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(report, "version");
	if (!cJSON_IsObject(cfg) || !cJSON_IsObject(met)) {
		nd_errf(err, -EINVAL, "report.json has no \"config\" or \"metrics\" object");
		return NULL;
	}
	char want[17], got[17];
	sweep_hash_hex(g->pts[i].hash, want);
	sweep_hash_hex(sweep_hash_args(sweep_hash_json(cfg), g->pts[i].args, g->pts[i].nargs), got);
	if (strcmp(want, got)) {
		/* name the first key where the run's config left the point's */
		struct cfg_bundle b;
		bundle_alloc(&b, g->cmd);
		bundle_copy(&b, &g->base);
		for (int k = 0; k < g->nkeys; k++)
			cfg_set(&b, g->pts[i].sets[k], NULL);
		cJSON *mine = cfg_to_json(&b);
		bundle_release(&b);
		char where[512] = "", what[700] = "";
		json_diff(mine, cfg, "", where, sizeof where, what, sizeof what);
		cJSON_Delete(mine);
		nd_errf(err, -EBADMSG, "report.json: the run's config (hash %s) is not the point's (%s): %s%s%s"
			" (an option in \"args\" that changes a key? put the key in \"set\")",
			got, want, where[0] ? where : "sections differ", where[0] ? ": " : "", what);
		return NULL;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "hash", want);
	cJSON_AddStringToObject(o, "command", g->cmd->sweep_as);
	if (g->nargs || g->pts[i].nargs) {   /* the grid's, then the point's own */
		cJSON *a = cJSON_AddArrayToObject(o, "args");
		for (int k = 0; k < g->nargs; k++)
			cJSON_AddItemToArray(a, cJSON_CreateString(g->args[k]));
		for (int k = 0; k < g->pts[i].nargs; k++)
			cJSON_AddItemToArray(a, cJSON_CreateString(g->pts[i].args[k]));
	}
	cJSON_AddItemToObject(o, "point", cJSON_Duplicate(g->pts[i].point, 1));
	if (cJSON_IsString(ver))
		cJSON_AddStringToObject(o, "version", ver->valuestring);
	/* numbers as the report has them (cJSON alone prints 15 digits when they
	 * come close: the last bit of a sum would be lost) */
	cJSON *cd = cJSON_Duplicate(cfg, 1), *md = cJSON_Duplicate(met, 1);
	sweep_json_exact(cd);
	sweep_json_exact(md);
	cJSON_AddItemToObject(o, "config", cd);
	cJSON_AddItemToObject(o, "metrics", md);
	char *t = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	size_t n = strlen(t);
	t = xrealloc(t, n + 2);
	t[n] = '\n';
	t[n + 1] = '\0';
	return t;
}

/* ------------------------------------------------------------------ */
/* results.jsonl                                                       */

int sweep_results_read(const char *path, int fd, struct sweep_results *r,
		       struct nd_err *err)
{
	memset(r, 0, sizeof *r);
	char *buf;
	size_t len;
	int missing;
	int rc = slurp(path, fd, &buf, &len, &missing, err);
	if (rc || missing)
		return rc;
	r->file_len = len;
	size_t cap = 0, lineno = 0;
	char *p = buf;
	for (;;) {
		char *nl = memchr(p, '\n', len - (size_t)(p - buf));
		if (!nl)
			break;
		lineno++;
		*nl = '\0';
		r->good_len = (size_t)(nl - buf) + 1;
		char *s = p;
		p = nl + 1;
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s)
			continue;
		cJSON *j = strlen(s) == (size_t)(nl - s) ? cJSON_Parse(s) : NULL;
		const cJSON *h = j ? cJSON_GetObjectItemCaseSensitive(j, "hash") : NULL;
		uint64_t hv;
		if (!cJSON_IsString(h) || sweep_hash_parse(h->valuestring, &hv)) {
			cJSON_Delete(j);
			free(buf);
			sweep_results_free(r);
			return nd_errf(err, -EINVAL, "%s:%zu: not a sweep result line (remove or fix it)",
				       path, lineno);
		}
		if (r->n == cap) {
			cap = cap ? 2 * cap : 64;
			r->hash = xrealloc(r->hash, cap * sizeof *r->hash);
			r->line = xrealloc(r->line, cap * sizeof *r->line);
		}
		r->hash[r->n] = hv;
		r->line[r->n++] = j;
	}
	free(buf);
	return 0;
}

void sweep_results_free(struct sweep_results *r)
{
	for (size_t i = 0; i < r->n; i++)
		cJSON_Delete(r->line[i]);
	free(r->line);
	free(r->hash);
	memset(r, 0, sizeof *r);
}

long sweep_results_find(const struct sweep_results *r, uint64_t h)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->hash[i] == h)
			return (long)i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* JSON paths and leaves                                               */

const cJSON *sweep_json_path(const cJSON *obj, const char *path)
{
	if (!cJSON_IsObject(obj) || !*path)
		return NULL;
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, path);
	if (it)
		return it;
	char part[256];
	for (const char *dot = strchr(path, '.'); dot; dot = strchr(dot + 1, '.')) {
		size_t n = (size_t)(dot - path);
		if (n >= sizeof part)
			break;
		memcpy(part, path, n);
		part[n] = '\0';
		const cJSON *child = cJSON_GetObjectItemCaseSensitive(obj, part);
		const cJSON *r = child ? sweep_json_path(child, dot + 1) : NULL;
		if (r)
			return r;
	}
	return NULL;
}

void sweep_json_leaves(const cJSON *obj, const char *prefix,
		       void (*fn)(const char *name, const cJSON *v, void *arg), void *arg)
{
	if (!cJSON_IsObject(obj))
		return;
	for (const cJSON *it = obj->child; it; it = it->next) {
		char name[512];
		snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] ? "." : "", it->string);
		if (cJSON_IsNumber(it) || cJSON_IsBool(it))
			fn(name, it, arg);
		else if (cJSON_IsObject(it))
			sweep_json_leaves(it, name, fn, arg);
	}
}
