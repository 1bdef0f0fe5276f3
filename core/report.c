#include "core/report.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/util.h"
#include "core/version.h"

int rep_mkdir_p(const char *dir, struct nd_err *err)
{
	char buf[4096];
	if (strlen(dir) >= sizeof buf)
		return nd_errf(err, -ENAMETOOLONG, "%s: path too long", dir);
	snprintf(buf, sizeof buf, "%s", dir);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) && errno != EEXIST)
				return nd_errf(err, -errno, "%s: cannot create directory: %s",
					       buf, strerror(errno));
			*p = c;
			if (!c)
				break;
		}
	}
	struct stat st;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return nd_errf(err, -ENOTDIR, "%s: not a directory", dir);
	return 0;
}

/* Test-only fault injection: $NDPSIM_FAULT_WRITE names a file (its last
 * path component) whose write fails with -EIO, so tests can fail a command
 * after it has written part of its set. */
static int fault_injected(const char *path)
{
	const char *f = getenv("NDPSIM_FAULT_WRITE");
	if (!f || !*f)
		return 0;
	const char *b = strrchr(path, '/');
	return !strcmp(b ? b + 1 : path, f);
}

int rep_write_atomic(const char *path, const void *data, size_t len,
		     struct nd_err *err)
{
	if (fault_injected(path))
		return nd_errf(err, -EIO, "%s: write: injected failure (NDPSIM_FAULT_WRITE)", path);
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return nd_errf(err, -errno, "%s: %s", tmp, strerror(errno));
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			unlink(tmp);
			return nd_errf(err, -e, "%s: write: %s", tmp, strerror(e));
		}
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) && errno != EINVAL) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return nd_errf(err, -e, "%s: fsync: %s", tmp, strerror(e));
	}
	close(fd);
	if (rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return nd_errf(err, -e, "%s: rename: %s", path, strerror(e));
	}
	return 0;
}

FILE *rep_stream_open(const char *path, char *tmp, size_t tmp_size, int *rc,
		      struct nd_err *err)
{
	if (fault_injected(path)) {
		*rc = nd_errf(err, -EIO, "%s: write: injected failure (NDPSIM_FAULT_WRITE)", path);
		return NULL;
	}
	if ((size_t)snprintf(tmp, tmp_size, "%s.tmp.%ld", path, (long)getpid()) >= tmp_size) {
		*rc = nd_errf(err, -ENAMETOOLONG, "%.200s...: path too long", path);
		return NULL;
	}
	FILE *f = fopen(tmp, "wb");
	if (!f)
		*rc = nd_errf(err, -errno, "%s: cannot create: %s", tmp, strerror(errno));
	return f;
}

int rep_stream_commit(FILE *f, int ok, const char *tmp, const char *path,
		      struct nd_err *err)
{
	int e = ok ? 0 : errno;
	if (fflush(f) != 0 || (fsync(fileno(f)) != 0 && errno != EINVAL)) {
		e = e ? e : errno;
		ok = 0;
	}
	if (fclose(f) != 0) {
		e = e ? e : errno;
		ok = 0;
	}
	if (!ok) {
		remove(tmp);
		return nd_errf(err, -EIO, "%s: write failed: %s", path, e ? strerror(e) : "short write");
	}
	if (rename(tmp, path) != 0) {
		int e2 = errno;
		remove(tmp);
		return nd_errf(err, -e2, "%s: rename failed: %s", path, strerror(e2));
	}
	return 0;
}

struct cJSON *rep_new(const struct cfg_bundle *b, uint64_t seed,
		      struct cJSON *metrics)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "version", NDPSIM_VERSION);
	rep_add_u64(r, "seed", seed);
	cJSON_AddItemToObject(r, "config", b ? cfg_to_json(b) : cJSON_CreateObject());
	cJSON_AddItemToObject(r, "metrics", metrics ? metrics : cJSON_CreateObject());
	return r;
}

static int join(char *buf, size_t n, const char *dir, const char *name,
		struct nd_err *err)
{
	if ((size_t)snprintf(buf, n, "%s/%s", dir, name) >= n)
		return nd_errf(err, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
	return 0;
}

int rep_write_json(const char *dir, const char *name, const struct cJSON *json,
		   struct nd_err *err)
{
	char path[4096];
	int rc = join(path, sizeof path, dir, name, err);
	if (rc)
		return rc;
	char *text = cJSON_Print(json);
	if (!text)
		return nd_errf(err, -ENOMEM, "%s: cannot format JSON", path);
	size_t n = strlen(text);
	text = xrealloc(text, n + 2);
	text[n] = '\n';
	text[n + 1] = '\0';
	rc = rep_write_atomic(path, text, n + 1, err);
	free(text);
	return rc;
}

struct rep_csv {
	char *buf;
	size_t len, cap;
};

static void csv_append(struct rep_csv *c, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void csv_append(struct rep_csv *c, const char *fmt, va_list ap)
{
	for (;;) {
		va_list cp;
		va_copy(cp, ap);
		int n = vsnprintf(c->buf + c->len, c->cap - c->len, fmt, cp);
		va_end(cp);
		if (n >= 0 && (size_t)n + 2 < c->cap - c->len) {
			c->len += (size_t)n;
			c->buf[c->len++] = '\n';
			c->buf[c->len] = '\0';
			return;
		}
		c->cap = c->cap * 2 + (size_t)(n > 0 ? n : 0) + 2;
		c->buf = xrealloc(c->buf, c->cap);
	}
}

static void csv_appendf(struct rep_csv *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void csv_appendf(struct rep_csv *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	csv_append(c, fmt, ap);
	va_end(ap);
}

struct rep_csv *rep_csv_new(const char *header)
{
	struct rep_csv *c = xcalloc(1, sizeof *c);
	c->cap = 4096;
	c->buf = xmalloc(c->cap);
	c->buf[0] = '\0';
	csv_appendf(c, "%s", header);
	return c;
}

void rep_csv_row(struct rep_csv *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	csv_append(c, fmt, ap);
	va_end(ap);
}

int rep_csv_write(struct rep_csv *c, const char *dir, const char *name,
		  struct nd_err *err)
{
	char path[4096];
	int rc = join(path, sizeof path, dir, name, err);
	return rc ? rc : rep_write_atomic(path, c->buf, c->len, err);
}

void rep_csv_free(struct rep_csv *c)
{
	if (!c)
		return;
	free(c->buf);
	free(c);
}

static int have_gnuplot(void)
{
	const char *path = getenv("PATH");
	if (!path)
		return 0;
	char *dup = xstrdup(path), *save = NULL;
	int found = 0;
	for (char *d = strtok_r(dup, ":", &save); d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		char p[4096];
		snprintf(p, sizeof p, "%s/gnuplot", d);
		found = access(p, X_OK) == 0;
	}
	free(dup);
	return found;
}

static int plots_on = 1;

void rep_set_plots(int on)
{
	plots_on = on;
}

/* Whether the figure at path is whole: a PNG ends in its IEND chunk, an SVG
 * in </svg>, anything else is not empty.  gnuplot exits 0 when it cannot
 * write its output (a full disk, ulimit -f), leaving no file or a cut one. */
static int figure_whole(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	char tail[64] = "";
	ssize_t n = 0;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		off_t at = st.st_size > (off_t)sizeof tail - 1 ? st.st_size - (off_t)sizeof tail + 1 : 0;
		n = pread(fd, tail, sizeof tail - 1, at);
	}
	close(fd);
	if (n <= 0)
		return 0;
	size_t l = strlen(path);
	if (l > 4 && !strcmp(path + l - 4, ".png"))
		return n >= 8 && !memcmp(tail + n - 8, "IEND\xae\x42\x60\x82", 8);
	if (l > 4 && !strcmp(path + l - 4, ".svg")) {
		tail[n] = '\0';
		return strstr(tail, "</svg>") != NULL;
	}
	return 1;
}

/* Every file a script names in "set output '<file>'": removed before gnuplot
 * runs (check 0), checked whole after it (check 1). */
static int each_output(const char *dir, const char *script, int check, struct nd_err *err)
{
	static const char tag[] = "set output '";
	for (const char *p = strstr(script, tag); p; p = strstr(p + 1, tag)) {
		const char *f = p + sizeof tag - 1, *q = strchr(f, '\'');
		if (!q || q == f || (size_t)(q - f) >= 300)
			continue;
		char file[320], path[4096];
		snprintf(file, sizeof file, "%.*s", (int)(q - f), f);
		int rc = join(path, sizeof path, dir, file, err);
		if (rc)
			return rc;
		if (!check)
			unlink(path);   /* a figure of an earlier run must not pass for this one's */
		else if (!figure_whole(path)) {
			unlink(path);   /* no cut figure left for a reader to take as whole */
			return nd_errf(err, -EIO, "%s: gnuplot did not write the whole figure (disk full? "
				       "file size limit?)", path);
		}
	}
	return 0;
}

int rep_gnuplot(const char *dir, const char *name, const char *script,
		struct nd_err *err)
{
	char gp[4096];
	char file[300];
	snprintf(file, sizeof file, "%s.gp", name);
	int rc = join(gp, sizeof gp, dir, file, err);
	if (rc)
		return rc;
	rc = rep_write_atomic(gp, script, strlen(script), err);
	if (rc)
		return rc;
	if (!plots_on || !have_gnuplot())
		return 1;
	if ((rc = each_output(dir, script, 0, err)))
		return rc;
	pid_t pid = fork();
	if (pid < 0)
		return nd_errf(err, -errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (chdir(dir))
			_exit(127);
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			close(fd);
		}
		execlp("gnuplot", "gnuplot", file, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return nd_errf(err, -errno, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return nd_errf(err, -EIO, "%s: gnuplot failed", gp);
	return each_output(dir, script, 1, err);
}

void rep_add_u64(struct cJSON *obj, const char *key, uint64_t v)
{
	cJSON_AddNumberToObject(obj, key, (double)v);
}

struct cJSON *rep_num(double v)
{
	/* cJSON prints 15 significant digits when they come "close enough" to
	 * the value, which breaks exact sums in reports; print the shortest
	 * form that reads back as exactly v instead. */
	if (!isfinite(v))
		return cJSON_CreateNull();
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return cJSON_CreateNumber(v);
	char buf[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return cJSON_CreateRaw(buf);
}

void rep_add_dbl(struct cJSON *obj, const char *key, double v)
{
	cJSON_AddItemToObject(obj, key, rep_num(v));
}
