/*
 * test_idx.c — IDX reader and Fashion-MNIST loader: the installed data set
 * (skipped when absent) and crafted bad files, each of which must give an
 * error that names the file and the problem, never a crash.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/util.h"
#include "tests/common/tutil.h"
#include "workloads/idx.h"

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static char *tmp_path(const char *name)
{
	static char path[4][1024];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof path[0], "%s/%s", tu_tmpdir(), name);
	return p;
}

static const char *write_plain(const char *name, const void *data, size_t len)
{
	const char *path = tmp_path(name);
	FILE *fp = fopen(path, "wb");
	ck_assert_msg(fp != NULL, "cannot create %s", path);
	ck_assert(fwrite(data, 1, len, fp) == len);
	ck_assert(fclose(fp) == 0);
	return path;
}

static const char *write_gz(const char *name, const void *data, size_t len)
{
	const char *path = tmp_path(name);
	gzFile gz = gzopen(path, "wb");
	ck_assert_msg(gz != NULL, "cannot create %s", path);
	ck_assert(gzwrite(gz, data, (unsigned)len) == (int)len);
	ck_assert(gzclose(gz) == Z_OK);
	return path;
}

/* IDX image file bytes: header for n x rows x cols, then `data_len`
 * pixel bytes with value (i * 7) mod 256.  Returns the total length. */
static size_t make_images(uint8_t *buf, uint32_t n, uint32_t rows,
			  uint32_t cols, size_t data_len)
{
	put_be32(buf, 0x803);
	put_be32(buf + 4, n);
	put_be32(buf + 8, rows);
	put_be32(buf + 12, cols);
	for (size_t i = 0; i < data_len; i++)
		buf[16 + i] = (uint8_t)(i * 7);
	return 16 + data_len;
}

static size_t make_labels(uint8_t *buf, uint32_t n, const uint8_t *labels,
			  size_t len)
{
	put_be32(buf, 0x801);
	put_be32(buf + 4, n);
	if (len)
		memcpy(buf + 8, labels, len);
	return 8 + len;
}

/* Loading path as images must fail with rc and a message naming the file
 * and containing `what`. */
static void expect_images_err(const char *path, int rc, const char *what)
{
	struct nd_err err = { 0 };
	uint8_t *px = NULL;
	uint32_t n = 7, rows = 7, cols = 7;
	int got = wl_idx_load_images(path, &px, &n, &rows, &cols, &err);
	ck_assert_msg(got == rc, "%s: expected %d, got %d (%s)", path, rc, got,
		      err.msg);
	ck_assert_int_eq(err.code, rc);
	ck_assert_msg(strstr(err.msg, path) != NULL, "'%s' lacks the path",
		      err.msg);
	ck_assert_msg(strstr(err.msg, what) != NULL, "'%s' lacks '%s'",
		      err.msg, what);
	ck_assert(px == NULL && n == 7 && rows == 7 && cols == 7);
}

static void expect_labels_err(const char *path, int rc, const char *what)
{
	struct nd_err err = { 0 };
	uint8_t *lb = NULL;
	uint32_t n = 7;
	int got = wl_idx_load_labels(path, &lb, &n, &err);
	ck_assert_msg(got == rc, "%s: expected %d, got %d (%s)", path, rc, got,
		      err.msg);
	ck_assert_msg(strstr(err.msg, path) != NULL, "'%s' lacks the path",
		      err.msg);
	ck_assert_msg(strstr(err.msg, what) != NULL, "'%s' lacks '%s'",
		      err.msg, what);
	ck_assert(lb == NULL && n == 7);
}

static void check_split(const char *dir, int train, uint32_t n_want)
{
	struct wl_dataset d;
	struct nd_err err = { 0 };
	int rc = wl_fmnist_load(dir, train, &d, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(d.n, n_want);
	ck_assert_uint_eq(d.rows, 28);
	ck_assert_uint_eq(d.cols, 28);
	/* Fashion-MNIST is balanced: n / 10 samples of each class. */
	uint32_t hist[10] = { 0 }, sum = 0;
	for (uint32_t i = 0; i < d.n; i++)
		hist[d.labels[i]]++;
	for (int c = 0; c < 10; c++) {
		ck_assert_uint_eq(hist[c], n_want / 10);
		sum += hist[c];
	}
	ck_assert_uint_eq(sum, n_want);
	/* Real images, not a zero buffer: some pixels saturate, most of the
	 * 28x28 border is background. */
	uint64_t px_sum = 0;
	uint32_t n_max = 0;
	for (size_t i = 0; i < (size_t)d.n * 784; i++) {
		px_sum += d.pixels[i];
		n_max += d.pixels[i] == 255;
	}
	ck_assert_uint_gt(n_max, 0);
	double mean = (double)px_sum / ((double)d.n * 784);
	ck_assert_msg(mean > 50 && mean < 100, "mean pixel %f", mean);
	wl_dataset_free(&d);
	ck_assert(d.pixels == NULL && d.labels == NULL && d.n == 0);
}

START_TEST(test_fmnist_real)
{
	const char *dir = wl_fmnist_default_dir();
	char probe[1024];
	snprintf(probe, sizeof probe, "%s/train-labels-idx1-ubyte.gz", dir);
	if (access(probe, R_OK) != 0) {
		tu_skip_need("dataset", "Fashion-MNIST not installed (dataset-fashion-mnist)");
		return;
	}
	check_split(dir, 1, 60000);
	check_split(dir, 0, 10000);
}
END_TEST

START_TEST(test_default_dir)
{
	const char *old = getenv("NDPSIM_FMNIST_DIR");
	char *saved = old ? xstrdup(old) : NULL;
	unsetenv("NDPSIM_FMNIST_DIR");
	ck_assert_str_eq(wl_fmnist_default_dir(),
			 "/usr/share/datasets/fashion-mnist");
	setenv("NDPSIM_FMNIST_DIR", "", 1);
	ck_assert_str_eq(wl_fmnist_default_dir(),
			 "/usr/share/datasets/fashion-mnist");
	setenv("NDPSIM_FMNIST_DIR", "/tmp/fm", 1);
	ck_assert_str_eq(wl_fmnist_default_dir(), "/tmp/fm");
	if (saved)
		setenv("NDPSIM_FMNIST_DIR", saved, 1);
	else
		unsetenv("NDPSIM_FMNIST_DIR");
	free(saved);
}
END_TEST

START_TEST(test_small_ok)
{
	uint8_t buf[64];
	size_t len = make_images(buf, 2, 3, 4, 24);
	const char *paths[2] = {
		write_plain("img-ok.idx", buf, len),
		write_gz("img-ok.idx.gz", buf, len),
	};
	for (int k = 0; k < 2; k++) {
		struct nd_err err = { 0 };
		uint8_t *px;
		uint32_t n, rows, cols;
		int rc = wl_idx_load_images(paths[k], &px, &n, &rows, &cols,
					    &err);
		ck_assert_msg(rc == 0, "%s", err.msg);
		ck_assert_uint_eq(n, 2);
		ck_assert_uint_eq(rows, 3);
		ck_assert_uint_eq(cols, 4);
		ck_assert_mem_eq(px, buf + 16, 24);
		free(px);
	}
	uint8_t lbuf[16];
	static const uint8_t lab[] = { 9, 0, 3 };
	len = make_labels(lbuf, 3, lab, 3);
	struct nd_err err = { 0 };
	uint8_t *lb;
	uint32_t n;
	ck_assert_int_eq(wl_idx_load_labels(write_gz("lbl-ok.gz", lbuf, len),
					    &lb, &n, &err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(lb, lab, 3);
	free(lb);
}
END_TEST

START_TEST(test_bad_magic)
{
	uint8_t buf[64];
	size_t len = make_images(buf, 2, 3, 4, 24);
	put_be32(buf, 0x804);
	expect_images_err(write_plain("magic.idx", buf, len), -EINVAL,
			  "bad magic 0x00000804");
	expect_images_err(write_gz("magic.idx.gz", buf, len), -EINVAL,
			  "bad magic 0x00000804");

	/* A label file given as images (and the reverse) says so. */
	uint8_t lbuf[16];
	static const uint8_t lab[] = { 1, 2 };
	len = make_labels(lbuf, 2, lab, 2);
	expect_images_err(write_gz("swap-l.gz", lbuf, len), -EINVAL,
			  "this is an IDX label file");
	len = make_images(buf, 2, 3, 4, 24);
	expect_labels_err(write_gz("swap-i.gz", buf, len), -EINVAL,
			  "this is an IDX image file");

	/* Random text is read through (not gzip) and fails the magic. */
	static const char txt[] = "hello, this is not an IDX file at all\n";
	expect_images_err(write_plain("text.idx", txt, sizeof txt - 1), -EINVAL,
			  "bad magic");
}
END_TEST

START_TEST(test_truncated)
{
	uint8_t buf[64];
	size_t len = make_images(buf, 2, 3, 4, 20);
	expect_images_err(write_plain("trunc.idx", buf, len), -EINVAL,
			  "truncated: expected 24 bytes of image data, got 20");
	expect_images_err(write_gz("trunc.idx.gz", buf, len), -EINVAL,
			  "truncated: expected 24 bytes of image data, got 20");

	uint8_t lbuf[16];
	static const uint8_t lab[] = { 1, 2 };
	len = make_labels(lbuf, 5, lab, 2);
	expect_labels_err(write_gz("trunc-l.gz", lbuf, len), -EINVAL,
			  "truncated: expected 5 bytes of label data, got 2");

	/* Header cut after the magic and one dimension. */
	len = make_images(buf, 2, 3, 4, 24);
	expect_images_err(write_plain("hdr.idx", buf, 10), -EINVAL,
			  "truncated header: expected 16 bytes, got 10");
	expect_images_err(write_gz("hdr.idx.gz", buf, 10), -EINVAL,
			  "truncated header: expected 16 bytes, got 10");
	expect_images_err(write_plain("empty.idx", buf, 0), -EINVAL,
			  "truncated header: expected 16 bytes, got 0");
	expect_labels_err(write_plain("hdr-l.idx", lbuf, 6), -EINVAL,
			  "truncated header: expected 8 bytes, got 6");

	/* A header claiming 10^8 x 28 x 28 (78 GB) over 24 bytes of data
	 * must end in "truncated", not in an allocation abort. */
	len = make_images(buf, 100000000, 28, 28, 24);
	expect_images_err(write_gz("huge.idx.gz", buf, len), -EINVAL,
			  "truncated: expected 78400000000 bytes");
}
END_TEST

START_TEST(test_trailing)
{
	uint8_t buf[64];
	size_t len = make_images(buf, 2, 3, 4, 27);
	expect_images_err(write_plain("trail.idx", buf, len), -EINVAL,
			  "3 trailing bytes after the 24 bytes of image data");
	expect_images_err(write_gz("trail.idx.gz", buf, len), -EINVAL,
			  "3 trailing bytes");
	uint8_t lbuf[16];
	static const uint8_t lab[] = { 1, 2, 3 };
	len = make_labels(lbuf, 2, lab, 3);
	expect_labels_err(write_plain("trail-l.idx", lbuf, len), -EINVAL,
			  "1 trailing bytes after the 2 bytes of label data");
}
END_TEST

START_TEST(test_bad_dims)
{
	uint8_t buf[64];
	size_t len = make_images(buf, 0, 3, 4, 0);
	expect_images_err(write_plain("dim0.idx", buf, len), -EINVAL,
			  "dimension 0 is 0");
	len = make_images(buf, 2, 3, 0, 0);
	expect_images_err(write_plain("dim2.idx", buf, len), -EINVAL,
			  "dimension 2 is 0");
	len = make_images(buf, 100000001, 28, 28, 0);
	expect_images_err(write_plain("dimn.idx", buf, len), -EINVAL,
			  "100000001 samples is not plausible");
	/* rows * cols would overflow 32 bits */
	len = make_images(buf, 1, 0xffffffffu, 0xffffffffu, 0);
	expect_images_err(write_plain("dimrc.idx", buf, len), -EINVAL,
			  "not plausible");
	uint8_t lbuf[16];
	len = make_labels(lbuf, 0, NULL, 0);
	expect_labels_err(write_plain("dim-l.idx", lbuf, len), -EINVAL,
			  "dimension 0 is 0");
}
END_TEST

START_TEST(test_gzip_corrupt)
{
	/* gzip magic followed by garbage */
	uint8_t junk[200];
	junk[0] = 0x1f;
	junk[1] = 0x8b;
	junk[2] = 8;
	memset(junk + 3, 0, 7);
	for (size_t i = 10; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	expect_images_err(write_plain("garbage.gz", junk, sizeof junk),
			  -EINVAL, "corrupt gzip data");

	/* A valid gzip file cut in half */
	static uint8_t img[16 + 4000];
	size_t len = make_images(img, 10, 20, 20, 4000);
	const char *path = write_gz("cut.gz", img, len);
	struct stat st;
	ck_assert(stat(path, &st) == 0);
	ck_assert(truncate(path, st.st_size / 2) == 0);
	expect_images_err(path, -EINVAL, "corrupt gzip data");

	/* A flipped CRC in the gzip trailer: all the data arrives, but the
	 * stream is still corrupt. */
	path = write_gz("crc.gz", img, len);
	FILE *fp = fopen(path, "r+b");
	ck_assert_ptr_nonnull(fp);
	ck_assert(fseek(fp, -8, SEEK_END) == 0);
	int c = fgetc(fp);
	ck_assert(fseek(fp, -8, SEEK_END) == 0);
	fputc(c ^ 0xff, fp);
	ck_assert(fclose(fp) == 0);
	expect_images_err(path, -EINVAL, "corrupt gzip data");
}
END_TEST

START_TEST(test_missing)
{
	const char *path = tmp_path("no-such-file.gz");
	expect_images_err(path, -ENOENT, "No such file or directory");
	expect_labels_err(path, -ENOENT, "No such file or directory");
	struct wl_dataset d;
	struct nd_err err = { 0 };
	ck_assert_int_eq(wl_fmnist_load(tmp_path("no-such-dir"), 1, &d, &err),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no-such-dir/train-images"));
	ck_assert(d.pixels == NULL && d.labels == NULL && d.n == 0);
}
END_TEST

/* A fake Fashion-MNIST directory with 3 tiny images per split. */
static const char *fake_fmnist(const char *dir_name, uint32_t n_labels,
			       const uint8_t *labels)
{
	char *dir = tmp_path(dir_name);
	mkdir(dir, 0755);
	uint8_t buf[64], lbuf[16];
	char name[1100];
	size_t len = make_images(buf, 3, 2, 2, 12);
	snprintf(name, sizeof name, "%s/t10k-images-idx3-ubyte.gz", dir_name);
	write_gz(name, buf, len);
	len = make_labels(lbuf, n_labels, labels, n_labels);
	snprintf(name, sizeof name, "%s/t10k-labels-idx1-ubyte.gz", dir_name);
	write_gz(name, lbuf, len);
	return dir;
}

START_TEST(test_fmnist_checks)
{
	static const uint8_t good[] = { 0, 9, 4 };
	struct wl_dataset d;
	struct nd_err err = { 0 };
	const char *dir = fake_fmnist("fm-ok", 3, good);
	ck_assert_msg(wl_fmnist_load(dir, 0, &d, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(d.n, 3);
	ck_assert_uint_eq(d.rows, 2);
	ck_assert_mem_eq(d.labels, good, 3);
	wl_dataset_free(&d);
	wl_dataset_free(NULL);

	/* The train split is not there. */
	ck_assert_int_eq(wl_fmnist_load(dir, 1, &d, &err), -ENOENT);

	static const uint8_t bad[] = { 0, 12, 4 };
	dir = fake_fmnist("fm-label12", 3, bad);
	ck_assert_int_eq(wl_fmnist_load(dir, 0, &d, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "fm-label12/t10k-labels-idx1-ubyte.gz") &&
		      strstr(err.msg, "label 12 of sample 1 is out of range"),
		      "%s", err.msg);
	ck_assert(d.pixels == NULL && d.labels == NULL && d.n == 0);

	dir = fake_fmnist("fm-count", 2, good);
	ck_assert_int_eq(wl_fmnist_load(dir, 0, &d, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "fm-count/t10k-labels-idx1-ubyte.gz") &&
		      strstr(err.msg, "2 labels for the 3 images"),
		      "%s", err.msg);
	ck_assert(d.pixels == NULL && d.labels == NULL && d.n == 0);
}
END_TEST

static Suite *idx_suite(void)
{
	Suite *s = suite_create("idx");
	TCase *tc = tcase_create("idx");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fmnist_real);
	tcase_add_test(tc, test_default_dir);
	tcase_add_test(tc, test_small_ok);
	tcase_add_test(tc, test_bad_magic);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_trailing);
	tcase_add_test(tc, test_bad_dims);
	tcase_add_test(tc, test_gzip_corrupt);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_fmnist_checks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(idx_suite());
}
