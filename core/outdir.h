/*
 * outdir.h — a results directory replaced as a whole.
 *
 * A command writes its files (report.json, CSVs, figures) into a staging
 * directory beside the one the user named, "<out>.new.<pid>", and commits it
 * by swapping it into place in one atomic rename (renameat2 RENAME_EXCHANGE
 * when <out> exists, rename() otherwise); the old set is then removed.  So a
 * run that is killed, or fails on bad input, leaves the old set untouched,
 * and a reader never sees a new report.json beside an old figure.  A lock on
 * "<out>.lock" (flock, taken without waiting) keeps two runs from writing
 * the same --out at once: the second one fails with -EBUSY and a message.
 * Staging directories left by killed runs are removed by the next run that
 * holds the lock.
 */
#ifndef ND_OUTDIR_H
#define ND_OUTDIR_H

#include "core/err.h"

struct rep_outdir {
	char final[4096];   /* the directory the user named */
	char stage[4160];   /* where to write until commit */
	int lock_fd;
};

/* Takes the lock and creates an empty staging directory (and the parents of
 * <out>).  Returns 0, -EBUSY (another run holds <out>) or -errno, with err
 * naming the path.  On success write into o->stage. */
int rep_outdir_begin(struct rep_outdir *o, const char *out, struct nd_err *err);

/* Swaps the staged set into place, removes the old one and drops the lock.
 * Returns 0 or -errno (the staged set is then left where it is, named in
 * err, and <out> is unchanged). */
int rep_outdir_commit(struct rep_outdir *o, struct nd_err *err);

/* Removes the staged set and drops the lock (failure paths; o may be one
 * whose begin failed or that was committed: then it does nothing). */
void rep_outdir_abort(struct rep_outdir *o);

/* The lock alone, for outputs that are not replaced as a whole (a sweep's
 * directory grows point by point; calibrate writes a profile file): takes
 * "<out>.lock" without waiting, as rep_outdir_begin() does, and stores its
 * fd in *fd (close it to drop the lock; it is O_CLOEXEC).  Returns 0,
 * -EBUSY with "another ndpsim run is writing <out>" in err, or -errno. */
int rep_out_lock(const char *out, int *fd, struct nd_err *err);

/* Removes a directory tree (rm -rf).  0 or -errno. */
int rep_rmtree(const char *path);

#endif
