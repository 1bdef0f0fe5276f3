/*
 * idx.c — IDX reader (plain or gzip, both through zlib's gzread, which passes
 * non-gzip files through unchanged) and the Fashion-MNIST loader.
 *
 * The data buffer grows as bytes actually arrive instead of being sized from
 * the header up front: a corrupt header claiming 10^14 bytes must end in a
 * "truncated" error, not in an allocation abort.  After the data, one more
 * read must hit end of file: it catches trailing bytes and makes zlib check
 * the gzip trailer (CRC and length), which it only does on reaching it.
 */
#include "workloads/idx.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/file.h"
#include "core/util.h"

#define IDX_MAGIC_IMAGES 0x00000803u /* unsigned byte, 3 dimensions */
#define IDX_MAGIC_LABELS 0x00000801u /* unsigned byte, 1 dimension */

/* Sanity bounds on header dimensions: far above any real data set, low
 * enough that a corrupt header is caught before it is believed. */
#define IDX_MAX_N 100000000u
#define IDX_MAX_SAMPLE_BYTES 1000000u

/* First allocation for the data; doubled as data keeps coming. */
#define IDX_INITIAL_CAP (16u << 20)
/* gzread takes an unsigned int length and returns an int. */
#define IDX_MAX_READ (1u << 30)

#define FMNIST_CLASSES 10

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* 0 if the stream is healthy, else an error naming the file: -EIO for a
 * system read error, -EINVAL for corrupt or truncated gzip data. */
static int gz_status(gzFile gz, const char *path, struct nd_err *err)
{
	int errnum = Z_OK;
	const char *msg = gzerror(gz, &errnum);
	if (errnum == Z_OK)
		return 0;
	if (errnum == Z_ERRNO)
		return nd_errf(err, -EIO, "%s: read error: %s", path,
			       strerror(errno));
	/* gzerror() prefixes the path itself; keep one "<path>: " only. */
	size_t plen = strlen(path);
	if (strncmp(msg, path, plen) == 0 && msg[plen] == ':' &&
	    msg[plen + 1] == ' ')
		msg += plen + 2;
	if (errnum == Z_MEM_ERROR)
		return nd_errf(err, -ENOMEM, "%s: gzip: out of memory", path);
	return nd_errf(err, -EINVAL, "%s: corrupt gzip data: %s", path, msg);
}

/* Reads up to want bytes into buf; *got is what arrived before end of file
 * or an error (the caller asks gz_status which). */
static void gz_read_upto(gzFile gz, uint8_t *buf, size_t want, size_t *got)
{
	*got = 0;
	while (*got < want) {
		size_t chunk = want - *got;
		if (chunk > IDX_MAX_READ)
			chunk = IDX_MAX_READ;
		int r = gzread(gz, buf + *got, (unsigned)chunk);
		if (r <= 0)
			break;
		*got += (size_t)r;
	}
}

/* Reads exactly total bytes into a buffer that grows as data arrives, then
 * insists on end of file.  what names the data in messages ("image"). */
static int read_body(gzFile gz, const char *path, const char *what,
		     uint64_t total, uint8_t **out, struct nd_err *err)
{
	size_t cap = total < IDX_INITIAL_CAP ? (size_t)total : IDX_INITIAL_CAP;
	uint8_t *buf = xmalloc(cap);
	size_t got = 0;
	int rc;
	for (;;) {
		size_t n;
		gz_read_upto(gz, buf + got, cap - got, &n);
		got += n;
		if (got < cap || cap == total)
			break;
		cap = (uint64_t)cap * 2 < total ? cap * 2 : (size_t)total;
		buf = xrealloc(buf, cap);
	}
	/* A gzip error explains a short read better than "truncated". */
	if ((rc = gz_status(gz, path, err)) < 0)
		goto fail;
	if (got < total) {
		rc = nd_errf(err, -EINVAL, "%s: truncated: expected %llu bytes "
			     "of %s data, got %zu", path,
			     (unsigned long long)total, what, got);
		goto fail;
	}
	uint8_t scratch[4096];
	uint64_t extra = 0;
	for (;;) {
		int r = gzread(gz, scratch, sizeof scratch);
		if (r <= 0)
			break;
		extra += (uint64_t)r;
	}
	if ((rc = gz_status(gz, path, err)) < 0)
		goto fail;
	if (extra) {
		rc = nd_errf(err, -EINVAL, "%s: %llu trailing bytes after the "
			     "%llu bytes of %s data", path,
			     (unsigned long long)extra,
			     (unsigned long long)total, what);
		goto fail;
	}
	*out = buf;
	return 0;
fail:
	free(buf);
	return rc;
}

/* Loads an unsigned-byte IDX file with ndims dimensions (3 or 1) into
 * dims[] and *data.  what is "image" or "label", for messages. */
static int idx_load(const char *path, uint32_t magic_want, unsigned ndims,
		    const char *what, uint32_t *dims, uint8_t **data,
		    struct nd_err *err)
{
	uint8_t hdr[4 + 4 * 3];
	size_t hdr_bytes = 4 + 4 * (size_t)ndims, got;
	int rc = 0;

	ND_ASSERT(ndims >= 1 && ndims <= 3);
	int fd = nd_open_regular(path, 0, err);   /* no FIFOs, no devices */
	if (fd < 0)
		return fd;
	errno = 0;
	gzFile gz = gzdopen(fd, "rb");
	if (!gz) {
		int e = errno;
		close(fd);
		return nd_errf(err, e ? -e : -EIO, "%s: cannot open: %s", path,
			       e ? strerror(e) : "gzdopen failed");
	}
	gzbuffer(gz, 1u << 17);

	gz_read_upto(gz, hdr, hdr_bytes, &got);
	if ((rc = gz_status(gz, path, err)) < 0)
		goto out;
	if (got >= 4 && be32(hdr) != magic_want) {
		uint32_t m = be32(hdr);
		const char *hint = "";
		if (m == IDX_MAGIC_IMAGES)
			hint = " (this is an IDX image file)";
		else if (m == IDX_MAGIC_LABELS)
			hint = " (this is an IDX label file)";
		rc = nd_errf(err, -EINVAL, "%s: bad magic 0x%08x, expected "
			     "0x%08x for IDX %s data%s", path, (unsigned)m,
			     (unsigned)magic_want, what, hint);
		goto out;
	}
	if (got < hdr_bytes) {
		rc = nd_errf(err, -EINVAL, "%s: truncated header: expected %zu "
			     "bytes, got %zu", path, hdr_bytes, got);
		goto out;
	}

	for (unsigned i = 0; i < ndims; i++) {
		dims[i] = be32(hdr + 4 + 4 * i);
		if (dims[i] == 0) {
			rc = nd_errf(err, -EINVAL, "%s: dimension %u is 0",
				     path, i);
			goto out;
		}
	}
	if (dims[0] > IDX_MAX_N) {
		rc = nd_errf(err, -EINVAL, "%s: %u samples is not plausible "
			     "(max %u); corrupt header?", path, dims[0],
			     IDX_MAX_N);
		goto out;
	}
	/* Two 32-bit factors cannot overflow 64 bits; with both bounds the
	 * total stays below 10^14. */
	uint64_t sample_bytes = ndims == 3 ? (uint64_t)dims[1] * dims[2] : 1;
	if (sample_bytes > IDX_MAX_SAMPLE_BYTES) {
		rc = nd_errf(err, -EINVAL, "%s: %u x %u %ss are not plausible "
			     "(max %u bytes each); corrupt header?", path,
			     dims[1], dims[2], what, IDX_MAX_SAMPLE_BYTES);
		goto out;
	}
	uint64_t total = dims[0] * sample_bytes;
	if (total > SIZE_MAX) {
		rc = nd_errf(err, -EINVAL, "%s: %llu bytes of %s data do not "
			     "fit in memory", path, (unsigned long long)total,
			     what);
		goto out;
	}
	rc = read_body(gz, path, what, total, data, err);
out:
	gzclose(gz);
	return rc;
}

int wl_idx_load_images(const char *path, uint8_t **pixels, uint32_t *n,
		       uint32_t *rows, uint32_t *cols, struct nd_err *err)
{
	uint32_t dims[3];
	uint8_t *data;
	int rc = idx_load(path, IDX_MAGIC_IMAGES, 3, "image", dims, &data, err);
	if (rc < 0)
		return rc;
	*pixels = data;
	*n = dims[0];
	*rows = dims[1];
	*cols = dims[2];
	return 0;
}

int wl_idx_load_labels(const char *path, uint8_t **labels, uint32_t *n,
		       struct nd_err *err)
{
	uint32_t dims[1];
	uint8_t *data;
	int rc = idx_load(path, IDX_MAGIC_LABELS, 1, "label", dims, &data, err);
	if (rc < 0)
		return rc;
	*labels = data;
	*n = dims[0];
	return 0;
}

static int join_path(char *buf, size_t size, const char *dir,
		     const char *name, struct nd_err *err)
{
	int len = snprintf(buf, size, "%s/%s", dir, name);
	if (len < 0 || (size_t)len >= size)
		return nd_errf(err, -ENAMETOOLONG, "%s/%s: path too long", dir,
			       name);
	return 0;
}

int wl_fmnist_load(const char *dir, int train, struct wl_dataset *out,
		   struct nd_err *err)
{
	const char *split = train ? "train" : "t10k";
	char name[64], img_path[PATH_MAX], lbl_path[PATH_MAX];
	struct wl_dataset d = { 0 };
	uint32_t n_labels = 0;
	int rc;

	memset(out, 0, sizeof *out);
	snprintf(name, sizeof name, "%s-images-idx3-ubyte.gz", split);
	if ((rc = join_path(img_path, sizeof img_path, dir, name, err)) < 0)
		return rc;
	snprintf(name, sizeof name, "%s-labels-idx1-ubyte.gz", split);
	if ((rc = join_path(lbl_path, sizeof lbl_path, dir, name, err)) < 0)
		return rc;

	if ((rc = wl_idx_load_images(img_path, &d.pixels, &d.n, &d.rows,
				     &d.cols, err)) < 0)
		goto fail;
	if ((rc = wl_idx_load_labels(lbl_path, &d.labels, &n_labels, err)) < 0)
		goto fail;
	if (n_labels != d.n) {
		rc = nd_errf(err, -EINVAL, "%s: %u labels for the %u images "
			     "of %s", lbl_path, n_labels, d.n, img_path);
		goto fail;
	}
	for (uint32_t i = 0; i < d.n; i++) {
		if (d.labels[i] >= FMNIST_CLASSES) {
			rc = nd_errf(err, -EINVAL, "%s: label %u of sample %u "
				     "is out of range 0..%d", lbl_path,
				     (unsigned)d.labels[i], i,
				     FMNIST_CLASSES - 1);
			goto fail;
		}
	}
	*out = d;
	return 0;
fail:
	wl_dataset_free(&d);
	return rc;
}

void wl_dataset_free(struct wl_dataset *d)
{
	if (!d)
		return;
	free(d->pixels);
	free(d->labels);
	memset(d, 0, sizeof *d);
}

const char *wl_fmnist_default_dir(void)
{
	const char *s = getenv("NDPSIM_FMNIST_DIR");
	return s && *s ? s : "/usr/share/datasets/fashion-mnist";
}
