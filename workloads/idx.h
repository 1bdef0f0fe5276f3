/*
 * idx.h — IDX data files (MNIST / Fashion-MNIST), plain or gzip-compressed.
 *
 * IDX: big-endian magic 0x00000803 (3-D unsigned-byte images) or 0x00000801
 * (1-D unsigned-byte labels), then one big-endian uint32 per dimension, then
 * the bytes.  Readers check magic, dimensions and length; a truncated or
 * corrupt file is an error naming the file and what is wrong.
 */
#ifndef ND_WL_IDX_H
#define ND_WL_IDX_H

#include <stdint.h>

#include "core/err.h"

struct wl_dataset {
	uint32_t n;          /* samples */
	uint32_t rows, cols; /* 28 x 28 for Fashion-MNIST */
	uint8_t *pixels;     /* n * rows * cols, row-major, 0..255 */
	uint8_t *labels;     /* n, 0..9 */
};

/* Each returns 0, or a negative errno with err naming the file. */
int wl_idx_load_images(const char *path, uint8_t **pixels, uint32_t *n,
		       uint32_t *rows, uint32_t *cols, struct nd_err *err);
int wl_idx_load_labels(const char *path, uint8_t **labels, uint32_t *n,
		       struct nd_err *err);

/* Loads the train (train != 0) or test split of Fashion-MNIST from dir
 * ({train,t10k}-{images-idx3,labels-idx1}-ubyte.gz); checks that image and
 * label counts agree and that labels are < 10. */
int wl_fmnist_load(const char *dir, int train, struct wl_dataset *out,
		   struct nd_err *err);
void wl_dataset_free(struct wl_dataset *d);

/* $NDPSIM_FMNIST_DIR, or /usr/share/datasets/fashion-mnist (Debian's
 * dataset-fashion-mnist package). */
const char *wl_fmnist_default_dir(void);

#endif
