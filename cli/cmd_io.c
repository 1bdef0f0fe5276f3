/*
 * cmd_io.c — `ndpsim io`: read a file for real through io_uring, libaio or
 * pread and report throughput, IOPS, latency percentiles and the crc32
 * (hostif/io.h does the work).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "core/err.h"
#include "core/hist.h"
#include "core/outdir.h"
#include "core/report.h"
#include "core/util.h"
#include "core/version.h"
#include "hostif/io.h"

static const char io_help[] =
	"usage: ndpsim io --file F [--backend uring|aio|sync] [--bs SIZE] [--qd N]\n"
	"                 [--direct] [--expect-crc HEX] [--json] [--out DIR] [--no-fallback] [--no-crc]\n"
	"\n"
	"Reads F once, start to end, with real I/O and reports MB/s (10^6 bytes/s),\n"
	"IOPS, per-request latency percentiles and the crc32 of the file.\n"
	"\n"
	"  --file F          file (or block device) to read\n"
	"  --backend B       uring (io_uring, default), aio (libaio) or sync (pread,\n"
	"                    one request at a time); when the kernel forbids io_uring\n"
	"                    or libaio the next one is used, with a note on stderr\n"
	"  --bs SIZE         block size per request, e.g. 4096, 4k, 128K, 1M (128k)\n"
	"  --qd N            requests kept in flight, 1..4096 (32)\n"
	"  --direct          open with O_DIRECT (bs must be a multiple of 512)\n"
	"  --expect-crc HEX  fail (exit 1) unless the file's crc32 is HEX\n"
	"  --json            print one JSON object instead of the table\n"
	"  --out DIR         also write DIR/report.json ({version, metrics}: the --json\n"
	"                    object), replacing DIR as a whole\n"
	"  --no-fallback     fail instead of falling back to another backend\n"
	"  --no-crc          do not compute the checksum\n"
	"  --help            this text\n"
	"\n"
	"Exit status: 0 ok, 1 the read failed or the checksum differs, 2 bad usage.\n";

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (end == s || *end)
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int parse_crc(const char *s, uint32_t *out)
{
	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		s += 2;
	size_t n = strlen(s);
	if (n < 1 || n > 8 || strspn(s, "0123456789abcdefABCDEF") != n)
		return -EINVAL;
	*out = (uint32_t)strtoul(s, NULL, 16);
	return 0;
}

static double lat_us(const struct hist *h, double q)
{
	return (double)hist_quantile(h, q) / 1e3;
}

static void print_table(const struct hif_io_opts *o, const char *file,
			const struct hif_io_result *r)
{
	const struct hist *h = &r->lat_ns;
	printf("io: %s, %s, bs %zu B, qd %u%s\n", hif_io_backend_long(r->backend),
	       file, o->bs_bytes, r->qd, o->direct ? ", O_DIRECT" : "");
	printf("  read        %llu bytes, %llu requests in %.4f s",
	       (unsigned long long)r->bytes, (unsigned long long)r->blocks, r->wall_s);
	if (r->short_reads)
		printf(" (%llu short reads resubmitted)", (unsigned long long)r->short_reads);
	printf("\n  throughput  %.1f MB/s  %.0f IOPS\n", r->mb_s, r->iops);
	printf("  latency us  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
	       lat_us(h, 0.50), lat_us(h, 0.90), lat_us(h, 0.99), lat_us(h, 0.999),
	       (double)h->max / 1e3);
	if (o->crc)
		printf("  crc32       %08x\n", (unsigned)r->crc32);
}

/* The metrics of one read (the --json object, and report.json's metrics). */
static cJSON *io_json(const struct hif_io_opts *o, const char *file,
		      const struct hif_io_result *r, int crc_checked, int crc_ok)
{
	const struct hist *h = &r->lat_ns;
	char hex[16];
	cJSON *j = cJSON_CreateObject(), *lat;
	ND_ASSERT(j);
	cJSON_AddStringToObject(j, "backend", r->backend);
	cJSON_AddStringToObject(j, "file", file);
	cJSON_AddNumberToObject(j, "bs_bytes", (double)o->bs_bytes);
	cJSON_AddNumberToObject(j, "qd", r->qd);
	cJSON_AddBoolToObject(j, "direct", o->direct);
	cJSON_AddNumberToObject(j, "bytes", (double)r->bytes);
	cJSON_AddNumberToObject(j, "requests", (double)r->blocks);
	cJSON_AddNumberToObject(j, "short_reads", (double)r->short_reads);
	cJSON_AddNumberToObject(j, "wall_s", r->wall_s);
	cJSON_AddNumberToObject(j, "mb_s", r->mb_s);
	cJSON_AddNumberToObject(j, "iops", r->iops);
	lat = cJSON_AddObjectToObject(j, "lat_ns");
	cJSON_AddNumberToObject(lat, "mean", hist_mean(h));
	cJSON_AddNumberToObject(lat, "p50", (double)hist_quantile(h, 0.50));
	cJSON_AddNumberToObject(lat, "p90", (double)hist_quantile(h, 0.90));
	cJSON_AddNumberToObject(lat, "p99", (double)hist_quantile(h, 0.99));
	cJSON_AddNumberToObject(lat, "p999", (double)hist_quantile(h, 0.999));
	cJSON_AddNumberToObject(lat, "max", (double)h->max);
	if (o->crc) {
		snprintf(hex, sizeof hex, "%08x", (unsigned)r->crc32);
		cJSON_AddStringToObject(j, "crc32", hex);
	}
	if (crc_checked)
		cJSON_AddBoolToObject(j, "crc_ok", crc_ok);
	return j;
}

/* The option name if a is one of the options that take a value. */
static const char *value_opt(const char *a)
{
	static const char *const names[] = {
		"--file", "--backend", "--bs", "--qd", "--expect-crc", "--out",
	};
	for (size_t k = 0; k < ND_ARRAY_LEN(names); k++) {
		size_t n = strlen(names[k]);
		if (!strncmp(a, names[k], n) && (a[n] == '\0' || a[n] == '='))
			return names[k];
	}
	return NULL;
}

int cmd_io(int argc, char **argv)
{
	struct hif_io_opts o;
	struct nd_err err = { 0 };
	struct hif_io_result *res = NULL;
	hif_reader *r = NULL;
	const char *file = NULL, *out = NULL;
	struct rep_outdir od = { .lock_fd = -1 };
	int json = 0, want_crc = 0, rc = 0;
	uint32_t expect = 0;

	hif_io_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v, *name;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(io_help, stdout);
			return 0;
		} else if (!strcmp(a, "--direct")) {
			o.direct = 1;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--no-fallback")) {
			o.fallback = 0;
		} else if (!strcmp(a, "--no-crc")) {
			o.crc = 0;
		} else if ((name = value_opt(a)) != NULL) {
			int missing = 0;
			v = cli_opt_value(argc, argv, &i, name, &missing);
			if (!v || !*v)
				return cli_usage_error("io", "option %s needs a value", name);
			if (!strcmp(name, "--file")) {
				file = v;
			} else if (!strcmp(name, "--out")) {
				out = v;
			} else if (!strcmp(name, "--backend")) {
				if (!hif_io_backend_long(v))
					return cli_usage_error("io",
						"unknown backend '%s' (expected uring, aio or sync)", v);
				o.backend = v;
			} else if (!strcmp(name, "--bs")) {
				uint64_t bs;
				if (cli_parse_size(v, &bs) < 0 || bs == 0 || bs > HIF_IO_BS_MAX_BYTES)
					return cli_usage_error("io",
						"--bs '%s': expected a size from 1 to 64M such as 4096, 4k, 128K or 1M", v);
				o.bs_bytes = (size_t)bs;
			} else if (!strcmp(name, "--qd")) {
				unsigned long qd;
				if (parse_uint(v, HIF_IO_QD_MAX, &qd) < 0 || qd == 0)
					return cli_usage_error("io",
						"--qd '%s': expected a whole number from 1 to %u", v,
						HIF_IO_QD_MAX);
				o.qd = (unsigned)qd;
			} else {
				if (parse_crc(v, &expect) < 0)
					return cli_usage_error("io",
						"--expect-crc '%s': expected up to 8 hex digits", v);
				want_crc = 1;
			}
		} else {
			return cli_usage_error("io", "unknown option '%s'", a);
		}
	}
	if (!file)
		return cli_usage_error("io", "--file F is required");
	if (want_crc && !o.crc)
		return cli_usage_error("io", "--expect-crc and --no-crc exclude each other");

	/* report.json is staged and swapped in whole (core/outdir.h) */
	if (out && rep_outdir_begin(&od, out, &err) < 0) {
		rc = cli_error(&err);
		goto out;
	}
	if (hif_io_open(file, &o, &r, &err) < 0) {
		rc = cli_error(&err);
		goto out;
	}
	res = xmalloc(sizeof *res);
	if (hif_io_read_all(r, res, &err) < 0) {
		rc = cli_error(&err);
		goto out;
	}
	int crc_ok = !want_crc || res->crc32 == expect;
	if (out) {
		cJSON *rep = cJSON_CreateObject();
		ND_ASSERT(rep);
		cJSON_AddStringToObject(rep, "version", NDPSIM_VERSION);
		cJSON_AddItemToObject(rep, "metrics", io_json(&o, file, res, want_crc, crc_ok));
		int w = rep_write_json(od.stage, "report.json", rep, &err);
		cJSON_Delete(rep);
		if (w || rep_outdir_commit(&od, &err)) {
			rc = cli_error(&err);
			goto out;
		}
	}
	if (json) {
		cJSON *j = io_json(&o, file, res, want_crc, crc_ok);
		char *text = cJSON_Print(j);
		ND_ASSERT(text);
		puts(text);
		free(text);
		cJSON_Delete(j);
	} else {
		print_table(&o, file, res);
		if (out)
			printf("  report      %s/report.json\n", out);
	}
	if (!crc_ok) {
		fprintf(stderr, "ndpsim: %s: checksum mismatch: crc32 %08x, expected %08x\n",
			file, (unsigned)res->crc32, (unsigned)expect);
		rc = 1;
	}
out:
	rep_outdir_abort(&od);
	free(res);
	hif_io_close(r);
	return rc;
}
