#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

int nd_open_regular(const char *path, int extra_flags, struct nd_err *err)
{
	/* O_NONBLOCK: opening a FIFO without a writer would wait forever */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | extra_flags);
	if (fd < 0) {
		int e = errno;
		if (e == EINVAL && (extra_flags & O_DIRECT))
			return nd_errf(err, -EINVAL, "%s: the file system does not support O_DIRECT", path);
		return nd_errf(err, -e, "%s: %s", path, strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st)) {
		int e = errno;
		close(fd);
		return nd_errf(err, -e, "%s: %s", path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return nd_errf(err, -EISDIR, "%s: is a directory, not a regular file", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return nd_errf(err, -EINVAL, "%s: not a regular file (%s)", path,
			       S_ISFIFO(st.st_mode) ? "a FIFO"
			       : S_ISCHR(st.st_mode) ? "a character device"
			       : S_ISBLK(st.st_mode) ? "a block device" : "a socket");
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return nd_errf(err, -e, "%s: %s", path, strerror(e));
	}
	return fd;
}

FILE *nd_fopen_regular(const char *path, int *rc, struct nd_err *err)
{
	int fd = nd_open_regular(path, 0, err);
	if (fd < 0) {
		*rc = fd;
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		int e = errno;
		close(fd);
		*rc = nd_errf(err, -e, "%s: %s", path, strerror(e));
	}
	return f;
}

int nd_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
		 struct nd_err *err)
{
	*out = NULL;
	int fd = nd_open_regular(path, 0, err);
	if (fd < 0)
		return fd;
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	int rc = 0;
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max_bytes + 1) {
				rc = nd_errf(err, -EFBIG, "%s: larger than %zu bytes", path, max_bytes);
				break;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = nd_errf(err, -errno, "%s: read: %s", path, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!rc && n > max_bytes)
		rc = nd_errf(err, -EFBIG, "%s: larger than %zu bytes", path, max_bytes);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

ssize_t nd_getline_max(char **line, size_t *cap, FILE *f, size_t max_len)
{
	if (!*line || *cap < 128) {
		*cap = 128;
		*line = xrealloc(*line, *cap);
	}
	size_t n = 0;
	int c;
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (n >= max_len)
			return -E2BIG;
		if (n + 1 >= *cap) {
			*cap *= 2;
			*line = xrealloc(*line, *cap);
		}
		(*line)[n++] = (char)c;
	}
	if (c == EOF && ferror(f))
		return -EIO;
	if (c == EOF && n == 0)
		return -1;
	(*line)[n] = '\0';
	return (ssize_t)n;
}
