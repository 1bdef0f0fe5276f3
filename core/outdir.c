#include "core/outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/report.h"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
	return rc && errno != ENOENT ? -1 : 0;
}

int rep_rmtree(const char *path)
{
	struct stat st;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) ? -errno : 0;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}

/* "<dir>/<base>" split of out, without trailing slashes. */
static void split(const char *out, char *dir, char *base, size_t n)
{
	char a[4096], b[4096];
	snprintf(a, sizeof a, "%s", out);
	size_t l = strlen(a);
	while (l > 1 && a[l - 1] == '/')
		a[--l] = '\0';
	snprintf(b, sizeof b, "%s", a);
	snprintf(dir, n, "%s", dirname(a));
	snprintf(base, n, "%s", basename(b));
}

/* Removes "<base>.new.*" and "<base>.old.*" left in dir by killed runs. */
static void remove_stale(const char *dir, const char *base)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t bl = strlen(base);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, base, bl) || (strncmp(e->d_name + bl, ".new.", 5) &&
						     strncmp(e->d_name + bl, ".old.", 5)))
			continue;
		char p[8300], fin[8300];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		snprintf(fin, sizeof fin, "%s/%s", dir, base);
		struct stat st;
		/* killed between the two renames of the fallback: the old set is
		 * the current one, put it back */
		if (!strncmp(e->d_name + bl, ".old.", 5) && stat(fin, &st) && !rename(p, fin))
			continue;
		rep_rmtree(p);
	}
	closedir(d);
}

int rep_out_lock(const char *out, int *fd, struct nd_err *err)
{
	char lock[4200];
	*fd = -1;
	if ((size_t)snprintf(lock, sizeof lock, "%s.lock", out) >= sizeof lock)
		return nd_errf(err, -ENAMETOOLONG, "%s: name too long", out);
	int f = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (f < 0)
		return nd_errf(err, -errno, "%s: %s", lock, strerror(errno));
	if (flock(f, LOCK_EX | LOCK_NB)) {
		int e = errno;
		close(f);
		if (e == EWOULDBLOCK)
			return nd_errf(err, -EBUSY, "%s: another ndpsim run is writing this directory (lock %s)",
				       out, lock);
		return nd_errf(err, -e, "%s: lock: %s", lock, strerror(e));
	}
	*fd = f;
	return 0;
}

int rep_outdir_begin(struct rep_outdir *o, const char *out, struct nd_err *err)
{
	memset(o, 0, sizeof *o);
	o->lock_fd = -1;
	if (!out[0] || strlen(out) >= sizeof o->final - 64)
		return nd_errf(err, -EINVAL, "%s: bad output directory name", out);
	char dir[4096], base[4096];
	split(out, dir, base, sizeof dir);
	if (!strcmp(base, "/") || !strcmp(base, ".") || !strcmp(base, ".."))
		return nd_errf(err, -EINVAL, "%s: name a directory of its own for --out", out);
	int rc = rep_mkdir_p(dir, err);
	if (rc)
		return rc;
	if ((size_t)snprintf(NULL, 0, "%s/%s", dir, base) >= sizeof o->final)
		return nd_errf(err, -ENAMETOOLONG, "%s: name too long", out);
	memcpy(o->final, dir, strlen(dir));
	o->final[strlen(dir)] = '/';
	memcpy(o->final + strlen(dir) + 1, base, strlen(base) + 1);
	if ((rc = rep_out_lock(o->final, &o->lock_fd, err)))
		return rc;
	struct stat st;
	if (!stat(o->final, &st) && !S_ISDIR(st.st_mode)) {
		rep_outdir_abort(o);
		return nd_errf(err, -ENOTDIR, "%s: exists and is not a directory", out);
	}
	remove_stale(dir, base);
	snprintf(o->stage, sizeof o->stage, "%s.new.%ld", o->final, (long)getpid());
	if (mkdir(o->stage, 0755)) {
		int e = errno;
		rep_outdir_abort(o);
		return nd_errf(err, -e, "%s: %s", o->stage, strerror(e));
	}
	return 0;
}

static void fsync_dir_of(const char *path)
{
	char a[4096];
	snprintf(a, sizeof a, "%s", path);
	int fd = open(dirname(a), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int rep_outdir_commit(struct rep_outdir *o, struct nd_err *err)
{
	if (o->lock_fd < 0 || !o->stage[0])
		return nd_errf(err, -EINVAL, "%s: output directory not staged", o->final);
	struct stat st;
	int exists = !stat(o->final, &st);
	if (exists) {
		/* one atomic swap: at every instant <out> is the old or the new set */
		if (!renameat2(AT_FDCWD, o->stage, AT_FDCWD, o->final, RENAME_EXCHANGE)) {
			rep_rmtree(o->stage);   /* now the old set */
		} else if (errno == EINVAL || errno == ENOSYS) {
			/* a file system without the swap: two renames; a kill between
			 * them leaves the old set as <out>.old.<pid>, which the next
			 * run's begin puts back */
			char old[4200];
			snprintf(old, sizeof old, "%s.old.%ld", o->final, (long)getpid());
			if (rename(o->final, old) || rename(o->stage, o->final)) {
				int e = errno;
				return nd_errf(err, -e, "%s: cannot replace with %s: %s", o->final,
					       o->stage, strerror(e));
			}
			rep_rmtree(old);
		} else {
			int e = errno;
			return nd_errf(err, -e, "%s: cannot swap in %s: %s", o->final, o->stage,
				       strerror(e));
		}
	} else if (rename(o->stage, o->final)) {
		int e = errno;
		return nd_errf(err, -e, "%s: rename from %s: %s", o->final, o->stage, strerror(e));
	}
	fsync_dir_of(o->final);
	o->stage[0] = '\0';
	close(o->lock_fd);
	o->lock_fd = -1;
	return 0;
}

void rep_outdir_abort(struct rep_outdir *o)
{
	if (o->stage[0]) {
		rep_rmtree(o->stage);
		o->stage[0] = '\0';
	}
	if (o->lock_fd >= 0) {
		close(o->lock_fd);
		o->lock_fd = -1;
	}
}
