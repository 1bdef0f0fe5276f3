/*
 * trace.h — block I/O trace readers.
 *
 * Formats:
 *  - disksim: DiskSim ASCII as used by MQSim and SSDsim, one request a line
 *    `arrival_time_ns device start_sector size_sectors type` (type 1 = read,
 *    0 = write; sector = 512 B; the device field is read and ignored).
 *  - blkparse: blkparse text output; issued (`D`) events whose RWBS field
 *    carries R or W and whose size is > 0 become requests; `D N 0 (...)`
 *    (no data), other actions and blkparse's closing summary block are
 *    skipped, not errors.  Time is seconds.nanoseconds.
 *  - msr: MSR Cambridge CSV `Timestamp,Hostname,DiskNumber,Type,Offset,Size,
 *    ResponseTime` (Timestamp in Windows filetime 100 ns units, Offset and
 *    Size in bytes, Type Read/Write).
 * Times are made relative to the first request (first request at t = 0).
 * Malformed lines are errors "<file>:<line>: what is wrong".
 */
#ifndef ND_WL_TRACE_H
#define ND_WL_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct wl_ioreq {
	uint64_t t_ns;        /* arrival, relative to the first request */
	uint64_t off_bytes;
	uint32_t len_bytes;
	uint8_t is_write;
};

enum wl_trace_fmt { WL_TRACE_DISKSIM, WL_TRACE_BLKPARSE, WL_TRACE_MSR };

struct wl_trace {
	size_t n;
	struct wl_ioreq *req;   /* owned; free with wl_trace_free() */
	size_t n_reads, n_writes;
	uint64_t max_end_bytes; /* max(off + len) over all requests */
};

/* "disksim" | "blkparse" | "msr" -> fmt.  0 or -EINVAL. */
int wl_trace_fmt_parse(const char *name, enum wl_trace_fmt *fmt);
/* Reads a whole trace.  0, or -EINVAL / -ENOENT / -EIO with err set; on
 * error *out is left empty. */
int wl_trace_load(const char *path, enum wl_trace_fmt fmt,
		  struct wl_trace *out, struct nd_err *err);
void wl_trace_free(struct wl_trace *t);

#endif
