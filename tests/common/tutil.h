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
/* Prints "skip: <why>" (counted by tests/run-all.sh). */
void tu_skip(const char *why);
/* Runs `ndpsim ARGS` ($NDPSIM_BIN or build/ndpsim) through the shell with
 * stderr merged into stdout; stores up to n-1 bytes of output in out and
 * returns the exit code (-1 if it did not exit normally). */
int tu_ndpsim(char *out, unsigned long n, const char *args_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Writes text to a file under tu_tmpdir(); returns the path (static). */
const char *tu_write_file(const char *name, const char *text);
/* Whole file as a NUL-terminated string (caller frees); NULL if unreadable. */
char *tu_slurp(const char *path);
/* Runs a suite in CK_NORMAL mode and returns the process exit code. */
struct Suite;
int tu_run_suite(struct Suite *s);

#endif
