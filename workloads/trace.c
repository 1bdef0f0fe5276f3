/*
 * trace.c — DiskSim ASCII, blkparse text and MSR Cambridge CSV readers.
 *
 * All three readers share one loop: getline() (so a line of any length is
 * read whole, and a last line without '\n' still counts), skip blank and
 * comment lines, hand the line to a per-format parser that appends at most
 * one request.  Times are kept absolute while reading and made relative at
 * the end, after an optional stable sort, so that the result never goes back
 * in time even when the trace file does (merged per-CPU blkparse output and
 * some MSR files are not perfectly sorted).  Numbers are parsed by hand or
 * with strtoull plus an end-pointer check: no sign, no leading blank, no
 * trailing garbage, no silent wrap-around.
 */
#include "workloads/trace.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/file.h"
#include "core/util.h"

/* Longest trace line accepted: real disksim / blkparse / MSR lines are under
 * 200 bytes; a newline-free file (/dev/zero, a binary) stops here with its
 * line number instead of being read whole. */
#define WL_TRACE_LINE_MAX 65536

#define SECTOR_BYTES 512u

/* Longest slice of an offending token quoted back in a message, so that a
 * binary file fed by mistake does not flood the terminal. */
#define TOKQ "%.40s"

struct reader {
	const char *path;
	size_t line;              /* 1-based number of the line being parsed */
	struct nd_err *err;
	struct wl_ioreq *req;
	size_t n, cap;
	/* Multiplier from the format's time unit to ns, applied after times
	 * are made relative: MSR filetimes are 100 ns ticks, and ~1.3e17 ticks
	 * since 1601 times 100 is already close to UINT64_MAX. */
	uint64_t t_unit_ns;
};

int wl_trace_fmt_parse(const char *name, enum wl_trace_fmt *fmt)
{
	static const struct {
		const char *name;
		enum wl_trace_fmt fmt;
	} tab[] = {
		{ "disksim", WL_TRACE_DISKSIM },
		{ "blkparse", WL_TRACE_BLKPARSE },
		{ "msr", WL_TRACE_MSR },
	};
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < ND_ARRAY_LEN(tab); i++) {
		if (strcmp(name, tab[i].name) == 0) {
			*fmt = tab[i].fmt;
			return 0;
		}
	}
	return -EINVAL;
}

static int bad(struct reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Formats "<path>:<line>: <what>" into r->err and returns -EINVAL. */
static int bad(struct reader *r, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return nd_errf(r->err, -EINVAL, "%s:%zu: %s", r->path, r->line, what);
}

/* Plain unsigned decimal integer: digits only, no sign or blanks (strtoull
 * alone would accept " -5" and wrap it).  0, -EINVAL or -ERANGE. */
static int parse_u64(const char *s, uint64_t *v)
{
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long x = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*v = x;
	return 0;
}

/* Unsigned fixed-point decimal "int[.frac]" scaled by 10^frac_digits, so
 * "1.5" with frac_digits = 9 gives 1500000000.  Fraction digits beyond
 * frac_digits are rounded half up.  Exact, unlike going through a double,
 * which loses nanoseconds past 2^53 ns (about 104 days).  0, -EINVAL or
 * -ERANGE. */
static int parse_fixed(const char *s, unsigned frac_digits, uint64_t *v)
{
	uint64_t x = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	unsigned got = 0;
	int round_up = 0;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			unsigned d = (unsigned)(*p - '0');
			if (got < frac_digits) {
				if (x > (UINT64_MAX - d) / 10)
					return -ERANGE;
				x = x * 10 + d;
				got++;
			} else if (got == frac_digits) {
				round_up = d >= 5;
				got++; /* only the first dropped digit decides */
			}
		}
	}
	if (*p != '\0')
		return -EINVAL;
	for (unsigned i = got; i < frac_digits; i++) {
		if (x > UINT64_MAX / 10)
			return -ERANGE;
		x *= 10;
	}
	if (round_up) {
		if (x == UINT64_MAX)
			return -ERANGE;
		x++;
	}
	*v = x;
	return 0;
}

/* Parses an unsigned integer field, or reports "bad <name> '<tok>'". */
static int field_u64(struct reader *r, const char *tok, const char *name,
		     uint64_t *v)
{
	int rc = parse_u64(tok, v);
	if (rc == -ERANGE)
		return bad(r, "%s '" TOKQ "' is too large", name, tok);
	if (rc < 0)
		return bad(r, "%s '" TOKQ "' is not a non-negative integer",
			   name, tok);
	return 0;
}

static int field_time(struct reader *r, const char *tok, unsigned frac_digits,
		      const char *name, uint64_t *v)
{
	int rc = parse_fixed(tok, frac_digits, v);
	if (rc == -ERANGE)
		return bad(r, "%s '" TOKQ "' is too large", name, tok);
	if (rc < 0)
		return bad(r, "%s '" TOKQ "' is not a non-negative number",
			   name, tok);
	return 0;
}

/* Appends one request after checking that its byte range is representable:
 * off + len must fit in 64 bits and len in the 32-bit len_bytes field. */
static int add_req(struct reader *r, uint64_t t, uint64_t off, uint64_t len,
		   int is_write)
{
	if (len > UINT32_MAX)
		return bad(r, "request size %llu bytes is too large (max %u)",
			   (unsigned long long)len, (unsigned)UINT32_MAX);
	if (off > UINT64_MAX - len)
		return bad(r, "request end offset overflows 64 bits");
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		ND_ASSERT(cap > r->cap && cap <= SIZE_MAX / sizeof *r->req);
		r->req = xrealloc(r->req, cap * sizeof *r->req);
		r->cap = cap;
	}
	r->req[r->n++] = (struct wl_ioreq){
		.t_ns = t,
		.off_bytes = off,
		.len_bytes = (uint32_t)len,
		.is_write = (uint8_t)(is_write != 0),
	};
	return 0;
}

/* Sectors to bytes with an overflow check. */
static int sectors_to_bytes(struct reader *r, uint64_t sectors,
			    const char *name, uint64_t *bytes)
{
	if (sectors > UINT64_MAX / SECTOR_BYTES)
		return bad(r, "%s %llu x 512 bytes overflows 64 bits",
			   name, (unsigned long long)sectors);
	*bytes = sectors * SECTOR_BYTES;
	return 0;
}

/* Splits s in place at blanks.  Stores up to max token pointers and returns
 * the total number of tokens, which may exceed max (extra fields). */
static size_t split_ws(char *s, char **tok, size_t max)
{
	size_t n = 0;
	char *p = s;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n < max)
			tok[n] = p;
		n++;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/* ---- DiskSim ASCII: time_ns device sector size_sectors type ----------- */

static int parse_disksim(struct reader *r, char *line)
{
	char *tok[5];
	size_t nt = split_ws(line, tok, 5);
	if (nt != 5)
		return bad(r, "expected 5 fields 'time_ns device sector "
			      "size_sectors type', got %zu", nt);
	uint64_t t = 0, dev = 0, sector = 0, size = 0, off = 0, len = 0;
	int rc;
	if ((rc = field_time(r, tok[0], 0, "arrival time", &t)) < 0 ||
	    (rc = field_u64(r, tok[1], "device", &dev)) < 0 ||
	    (rc = field_u64(r, tok[2], "start sector", &sector)) < 0 ||
	    (rc = field_u64(r, tok[3], "size", &size)) < 0)
		return rc;
	if (size == 0)
		return bad(r, "size is 0 sectors");
	if (strcmp(tok[4], "0") != 0 && strcmp(tok[4], "1") != 0)
		return bad(r, "type '" TOKQ "' is not 0 (write) or 1 (read)",
			   tok[4]);
	if ((rc = sectors_to_bytes(r, sector, "start sector", &off)) < 0 ||
	    (rc = sectors_to_bytes(r, size, "size", &len)) < 0)
		return rc;
	return add_req(r, t, off, len, tok[4][0] == '0');
}

/* ---- blkparse ---------------------------------------------------------- */

/* "maj,min": the first field of every blkparse event line. */
static int is_dev_token(const char *s)
{
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != ',')
		return 0;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '\0';
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Recognises the lines of blkparse's closing summary (and its "Input file
 * ... added" banner), which carry no events.  Anything else that is not an
 * event line is reported rather than skipped, so that a file in the wrong
 * format fails loudly instead of yielding an empty or partial trace. */
static int blk_is_summary(const char *line)
{
	if (starts_with(line, "CPU") && isdigit((unsigned char)line[3]) &&
	    strstr(line, " (") && ends_with(line, "):"))
		return 1;
	if (starts_with(line, "Total (") && ends_with(line, "):"))
		return 1;
	if (starts_with(line, "Throughput (") || starts_with(line, "Events (") ||
	    starts_with(line, "Skips:"))
		return 1;
	if (starts_with(line, "Input file ") && ends_with(line, " added"))
		return 1;
	/* Per-CPU / total counters: " Reads Queued:  0,  0KiB ...". */
	if (line[0] == ' ' || line[0] == '\t') {
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (isalpha((unsigned char)*p) && strchr(p, ':'))
			return 1;
	}
	return 0;
}

static int parse_blkparse(struct reader *r, char *line)
{
	if (blk_is_summary(line))
		return 0;
	char *tok[11];
	size_t nt = split_ws(line, tok, 11);
	if (!is_dev_token(tok[0]))
		return bad(r, "not a blkparse event line (expected "
			      "'maj,min cpu seq sec.nsec pid action ...')");
	if (nt < 6)
		return bad(r, "truncated event line: expected at least "
			      "'maj,min cpu seq sec.nsec pid action'");
	uint64_t cpu = 0, seq = 0, t = 0, pid = 0;
	int rc;
	if ((rc = field_u64(r, tok[1], "cpu", &cpu)) < 0 ||
	    (rc = field_u64(r, tok[2], "sequence number", &seq)) < 0 ||
	    (rc = field_time(r, tok[3], 9, "time", &t)) < 0 ||
	    (rc = field_u64(r, tok[4], "pid", &pid)) < 0)
		return rc;
	/* Only issued requests count: Q/G/I/M/C... describe the same I/O at
	 * other stages of the block layer and would count it several times. */
	if (strcmp(tok[5], "D") != 0)
		return 0;
	if (nt < 7)
		return bad(r, "D event without an RWBS field");
	const char *rwbs = tok[6];
	for (const char *p = rwbs; *p; p++)
		if (!isupper((unsigned char)*p))
			return bad(r, "bad RWBS field '" TOKQ "'", rwbs);
	/* D = discard and E = secure erase carry no data to read or write;
	 * N = no data, F alone = flush. */
	int is_write = strchr(rwbs, 'W') != NULL;
	int is_read = strchr(rwbs, 'R') != NULL;
	if (strchr(rwbs, 'D') || strchr(rwbs, 'E') || (!is_write && !is_read))
		return 0;
	if (nt < 8 || tok[7][0] == '[') {
		/* An empty preflush prints no sector: "D FWS [jbd2]". */
		if (strchr(rwbs, 'F'))
			return 0;
		return bad(r, "%s event without 'sector + nsectors'", rwbs);
	}
	/* SCSI pass-through: "D R 8 (12 ...)" gives bytes and a CDB, no
	 * block address to replay. */
	if (nt >= 9 && tok[8][0] == '(')
		return 0;
	uint64_t sector = 0, nsec = 0, off = 0, len = 0;
	if ((rc = field_u64(r, tok[7], "sector", &sector)) < 0)
		return rc;
	if (nt < 10 || strcmp(tok[8], "+") != 0)
		return bad(r, "expected 'sector + nsectors' after RWBS '%s'",
			   rwbs);
	if ((rc = field_u64(r, tok[9], "nsectors", &nsec)) < 0)
		return rc;
	if (nt > 10 && tok[10][0] != '[')
		return bad(r, "unexpected '" TOKQ "' after 'sector + nsectors' "
			      "(expected '[process]')", tok[10]);
	if (nsec == 0)
		return 0;
	if ((rc = sectors_to_bytes(r, sector, "sector", &off)) < 0 ||
	    (rc = sectors_to_bytes(r, nsec, "nsectors", &len)) < 0)
		return rc;
	return add_req(r, t, off, len, is_write);
}

/* ---- MSR Cambridge CSV ------------------------------------------------- */

#define MSR_FIELDS 7

static int parse_msr(struct reader *r, char *line)
{
	/* The published files have no header, but copies often gain one. */
	if (r->n == 0 && strncasecmp(line, "Timestamp,", 10) == 0)
		return 0;
	char *f[MSR_FIELDS];
	size_t nf = 0;
	for (char *p = line;;) {
		if (nf == MSR_FIELDS)
			return bad(r, "more than %d comma-separated fields",
				   MSR_FIELDS);
		f[nf++] = p;
		char *c = strchr(p, ',');
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
	}
	if (nf != MSR_FIELDS)
		return bad(r, "expected %d fields 'Timestamp,Hostname,"
			      "DiskNumber,Type,Offset,Size,ResponseTime', "
			      "got %zu", MSR_FIELDS, nf);
	uint64_t ts = 0, disk = 0, off = 0, size = 0, resp = 0;
	int rc;
	if ((rc = field_u64(r, f[0], "Timestamp", &ts)) < 0 ||
	    (rc = field_u64(r, f[2], "DiskNumber", &disk)) < 0 ||
	    (rc = field_u64(r, f[4], "Offset", &off)) < 0 ||
	    (rc = field_u64(r, f[5], "Size", &size)) < 0 ||
	    (rc = field_u64(r, f[6], "ResponseTime", &resp)) < 0)
		return rc;
	if (f[1][0] == '\0')
		return bad(r, "empty Hostname");
	int is_write;
	if (strcasecmp(f[3], "Write") == 0)
		is_write = 1;
	else if (strcasecmp(f[3], "Read") == 0)
		is_write = 0;
	else
		return bad(r, "Type '" TOKQ "' is not Read or Write", f[3]);
	if (size == 0)
		return bad(r, "Size is 0 bytes");
	return add_req(r, ts, off, size, is_write);
}

/* ---- common driver ----------------------------------------------------- */

/* Stable bottom-up merge sort by t_ns: requests with equal times keep their
 * file order, which a replay must preserve (qsort is not stable).
 * O(n log n) time, n extra elements. */
static void sort_by_time(struct wl_ioreq *a, size_t n)
{
	struct wl_ioreq *tmp = xmalloc(n * sizeof *tmp);
	struct wl_ioreq *src = a, *dst = tmp;
	for (size_t w = 1; w < n; w = w > n / 2 ? n : 2 * w) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = nd_min_u64(lo + w, n);
			size_t hi = nd_min_u64(mid + w, n);
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				dst[k++] = src[j].t_ns < src[i].t_ns ? src[j++]
								     : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
			if (hi == n)
				break;
		}
		struct wl_ioreq *s = src;
		src = dst;
		dst = s;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
	free(tmp);
}

typedef int (*line_fn)(struct reader *r, char *line);

static int read_lines(struct reader *r, FILE *fp, line_fn fn)
{
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t len;
	int rc = 0;
	while ((len = nd_getline_max(&line, &line_cap, fp, WL_TRACE_LINE_MAX)) >= 0) {
		r->line++;
		if ((size_t)len != strlen(line)) {
			rc = bad(r, "contains a NUL byte (binary file?)");
			break;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		if ((rc = fn(r, line)) < 0)
			break;
	}
	if (len == -E2BIG) {
		r->line++;
		rc = bad(r, "line longer than %d bytes (not a trace?)", WL_TRACE_LINE_MAX);
	}
	if (rc == 0 && ferror(fp))
		rc = nd_errf(r->err, -EIO, "%s: read error: %s", r->path,
			     strerror(errno));
	free(line);
	return rc;
}

int wl_trace_load(const char *path, enum wl_trace_fmt fmt,
		  struct wl_trace *out, struct nd_err *err)
{
	static const line_fn fns[] = {
		[WL_TRACE_DISKSIM] = parse_disksim,
		[WL_TRACE_BLKPARSE] = parse_blkparse,
		[WL_TRACE_MSR] = parse_msr,
	};
	memset(out, 0, sizeof *out);
	if ((unsigned)fmt >= ND_ARRAY_LEN(fns))
		return nd_errf(err, -EINVAL, "%s: unknown trace format %d",
			       path, (int)fmt);

	struct reader r = {
		.path = path,
		.err = err,
		.t_unit_ns = fmt == WL_TRACE_MSR ? 100 : 1,
	};
	int rc = 0;
	FILE *fp = nd_fopen_regular(path, &rc, err);
	if (!fp)
		return rc;
	if ((rc = read_lines(&r, fp, fns[fmt])) < 0)
		goto out;
	if (r.n == 0) {
		rc = nd_errf(err, -EINVAL, "%s: no I/O requests found "
			     "(is it a %s trace?)", path,
			     fmt == WL_TRACE_DISKSIM ? "disksim"
			     : fmt == WL_TRACE_BLKPARSE ? "blkparse" : "msr");
		goto out;
	}

	int sorted = 1;
	for (size_t i = 1; i < r.n && sorted; i++)
		sorted = r.req[i].t_ns >= r.req[i - 1].t_ns;
	if (!sorted)
		sort_by_time(r.req, r.n);

	uint64_t t0 = r.req[0].t_ns;
	for (size_t i = 0; i < r.n; i++) {
		struct wl_ioreq *q = &r.req[i];
		uint64_t dt = q->t_ns - t0;
		if (dt > UINT64_MAX / r.t_unit_ns) {
			rc = nd_errf(err, -EINVAL, "%s: trace spans more than "
				     "2^64 ns", path);
			goto out;
		}
		q->t_ns = dt * r.t_unit_ns;
		if (q->is_write)
			out->n_writes++;
		else
			out->n_reads++;
		out->max_end_bytes = nd_max_u64(out->max_end_bytes,
						q->off_bytes + q->len_bytes);
	}
	out->n = r.n;
	out->req = r.req;
	r.req = NULL;
out:
	fclose(fp);
	free(r.req);
	if (rc < 0)
		memset(out, 0, sizeof *out);
	return rc;
}

void wl_trace_free(struct wl_trace *t)
{
	if (!t)
		return;
	free(t->req);
	memset(t, 0, sizeof *t);
}
