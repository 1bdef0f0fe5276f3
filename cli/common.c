#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

const char cli_common_help[] =
	"  --config FILE    JSON config applied over the built-in defaults\n"
	"  --set KEY=VALUE  override one key (repeatable), e.g. --set ssd.channels=16\n"
	"  --host NAME      a host preset, configs/hosts/NAME.json (server, laptop; applied after --config)\n"
	"  --host-profile F a host profile written by `ndpsim calibrate` (applied after --host)\n"
	"  --seed N         random seed (same as --set seed=N)\n"
	"  --out DIR        write report.json, CSVs and plots to DIR\n"
	"  --quiet          no progress and no table on stdout\n";

int cli_common_opt(struct cli_common *c, int argc, char **argv, int *i,
		   struct nd_err *err)
{
	const char *a = argv[*i];
	const char *names[] = { "--config", "--set", "--out", "--seed", "--host-profile", "--host" };
	for (size_t k = 0; k < ND_ARRAY_LEN(names); k++) {
		size_t n = strlen(names[k]);
		const char *val = NULL;
		int used = 1;
		if (!strcmp(a, names[k])) {
			if (*i + 1 >= argc)
				return nd_errf(err, -EINVAL, "%s needs a value", a), -1;
			val = argv[*i + 1];
			used = 2;
		} else if (!strncmp(a, names[k], n) && a[n] == '=') {
			val = a + n + 1;
		} else {
			continue;
		}
		switch (k) {
		case 0: c->config_path = val; break;
		case 1:
			if (c->nsets >= CLI_MAX_SETS)
				return nd_errf(err, -EINVAL, "too many --set options"), -1;
			c->sets[c->nsets++] = val;
			break;
		case 2: c->out_dir = val; break;
		case 4: c->host_profile = val; break;
		case 5: c->host_preset = val; break;
		case 3: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(val, &end, 10);
			if (end == val || *end || errno || val[0] == '-')
				return nd_errf(err, -EINVAL, "--seed: \"%s\" is not a non-negative integer", val), -1;
			c->seed_given = 1;
			c->seed = v;
			break;
		}
		}
		*i += used;
		return 1;
	}
	if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
		c->quiet = 1;
		*i += 1;
		return 1;
	}
	return 0;
}

const char *cli_opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

int cli_load(const struct cfg_bundle *b, const struct cli_common *c,
	     struct nd_err *err)
{
	cfg_defaults(b);
	int rc;
	if (c->config_path && (rc = cfg_load_file(b, c->config_path, err)))
		return rc;
	if (c->host_preset) {
		const char *n = c->host_preset;
		int ok = *n != '\0';
		for (const char *q = n; *q; q++)
			ok &= (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-' || *q == '_';
		char path[300];
		snprintf(path, sizeof path, "configs/hosts/%.200s.json", n);
		if (!ok || access(path, R_OK))
			return nd_errf(err, -EINVAL, "%s: no such host preset (--host %s; the presets are the "
				       "files in configs/hosts/, e.g. server, laptop)", path, n);
		if ((rc = cfg_load_file(b, path, err)))
			return rc;
	}
	if (c->host_profile && (rc = cfg_load_file(b, c->host_profile, err)))
		return rc;
	for (int i = 0; i < c->nsets; i++)
		if ((rc = cfg_set(b, c->sets[i], err)))
			return rc;
	if (c->seed_given) {
		char s[64];
		snprintf(s, sizeof s, "seed=%llu", (unsigned long long)c->seed);
		if ((rc = cfg_set(b, s, err)))
			return rc;
	}
	return cfg_validate(b, err);
}

int cli_error(const struct nd_err *err)
{
	fprintf(stderr, "ndpsim: %s\n", err->msg[0] ? err->msg : "error");
	return nd_err_exit_code(err);
}

int cli_usage_error(const char *sub, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ndpsim %s: ", sub);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ndpsim %s --help'.\n", sub);
	return 2;
}

void cli_apply_run(const struct run_params *r)
{
	hif_run_apply(r);
}

int cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (shift && (!strcmp(end, "B") || !strcmp(end, "iB")))
		end += strlen(end);
	if (*end)
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}
