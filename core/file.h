/*
 * file.h — reading user-named input files safely.
 *
 * Every input a user names (config, trace, grid, data set, model, a file to
 * read for real I/O) goes through these: they refuse anything but a regular
 * file without blocking on it (a FIFO or a terminal would hang open() or
 * read() forever), cap the size or the line length with a located error, and
 * report failures as -errno with a message naming the path.
 */
#ifndef ND_FILE_H
#define ND_FILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/err.h"

/* Opens path read-only (O_CLOEXEC | extra_flags, e.g. O_DIRECT) and checks
 * that it is a regular file; the open itself never blocks.  Returns the fd,
 * or -errno (-ENOENT when missing, -EISDIR for a directory, -EINVAL for any other
 * non-regular file) with err
 * naming path. */
int nd_open_regular(const char *path, int extra_flags, struct nd_err *err);

/* The same as a stdio stream ("r"); NULL with *rc = -errno on failure. */
FILE *nd_fopen_regular(const char *path, int *rc, struct nd_err *err);

/* Reads a regular file whole into a NUL-terminated buffer (caller frees).
 * Returns 0, or -EFBIG when it is larger than max_bytes, or another -errno;
 * err names path.  *len may be NULL. */
int nd_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
		 struct nd_err *err);

/* Reads one line (without its '\n') into *line (grown as getline does, up
 * to max_len + 1 bytes).  Returns its length, -1 at end of file, -E2BIG when
 * the line is longer than max_len (the rest of it is not read), -EIO on a
 * read error.  A NUL byte inside the line is kept, so callers can compare
 * the length with strlen() to refuse binary input. */
ssize_t nd_getline_max(char **line, size_t *cap, FILE *f, size_t max_len);

#endif
