/*
 * tutil.h — helpers shared by the Check test programs.
 * Tests run from the project root (make check does this).
 */
#ifndef ND_TUTIL_H
#define ND_TUTIL_H

/* $NDPSIM_SHARED or "../shared": the read-only shared folder beside the
 * checkout (sample traces, reference figures). */
const char *tu_shared_dir(void);
/* A scratch directory under build/ (created on first use; real disk, so
 * O_DIRECT works). Returns a static string. */
const char *tu_tmpdir(void);
/* Marks the running test case as skipped: prints "skip: <why>" and records
 * the case (Check runs each case in a child process of its own, CK_FORK), so
 * that tu_run_suite() counts skipped cases apart from passed ones and
 * tests/run-all.sh prints them as skipped.  The caller returns from the case
 * right after.  A case that calls it several times is one skipped case. */
void tu_skip(const char *why);
/* The same for a case that needs something `make deps` installs (need is a
 * word: "dataset", "mpi", "gnuplot").  When that word is listed in
 * $NDPSIM_REQUIRE (CI sets it), the case fails instead of skipping: a suite
 * that must run here may not skip. */
void tu_skip_need(const char *need, const char *why);
/* Runs a shell command line; stores up to n-1 bytes of its stdout in out
 * (out may be NULL) and returns its exit code (-1 if it did not exit
 * normally or could not start). */
int tu_sh(char *out, unsigned long n, const char *cmd);
/* Runs `ndpsim ARGS` ($NDPSIM_BIN or build/ndpsim) through the shell with
 * stderr merged into stdout; stores up to n-1 bytes of output in out and
 * returns the exit code (-1 if it did not exit normally). */
int tu_ndpsim(char *out, unsigned long n, const char *args_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The built-in defaults of one config section (core/cfg.h) into p. */
struct cfg_section;
void tu_defaults(const struct cfg_section *sec, void *p);
/* Writes text to a file under tu_tmpdir(); returns the path (static). */
const char *tu_write_file(const char *name, const char *text);
/* Whole file as a NUL-terminated string (caller frees); NULL if unreadable. */
char *tu_slurp(const char *path);
/* The Fashion-MNIST training and test sets (workloads/idx.h), loaded once
 * per process from wl_fmnist_default_dir() and kept until exit.  Returns 1
 * with *train / *test set, or 0 (message on stderr) when the data set is
 * not installed: the caller skips (tu_skip_need("dataset", ...)). */
struct wl_dataset;
int tu_fmnist(const struct wl_dataset **train, const struct wl_dataset **test);
/* Runs a suite in CK_NORMAL mode and returns the process exit code: 0 when
 * every case passed, 1 when one failed, 77 when every case skipped (the
 * automake / liburing convention).  Prints "tutil: N cases, N skipped". */
struct Suite;
int tu_run_suite(struct Suite *s);

#endif
