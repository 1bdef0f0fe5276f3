/*
 * err.h — user-facing error messages.
 *
 * Functions that can fail because of user input (a config, a trace, a data
 * file) take a `struct nd_err *` and fill it with a message of the form
 * "<file>[:line | json.path]: what is wrong" before returning a negative
 * errno (-EINVAL for bad input, -EIO for I/O, -ENOMEM, ...).  The CLI prints
 * "ndpsim: <msg>" and exits with nd_err_exit_code(): 2 for bad input, 1 for a
 * failed run.
 */
#ifndef ND_ERR_H
#define ND_ERR_H

#include <stdarg.h>

struct nd_err {
	int code;        /* negative errno of the failure, 0 if none */
	char msg[768];
};

/* Sets e->code = code and formats the message.  Returns code, so callers can
 * write `return nd_errf(e, -EINVAL, "%s:%d: bad field", path, line);`.
 * e may be NULL (the message is dropped). */
int nd_errf(struct nd_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int nd_verrf(struct nd_err *e, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Prepends "prefix: " to an existing message (e.g. a file name). */
void nd_err_prefix(struct nd_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void nd_err_clear(struct nd_err *e);

/* 2 for bad usage / bad input (-EINVAL, -ENOENT, -ERANGE, -EBADMSG...),
 * 1 for anything else. */
int nd_err_exit_code(const struct nd_err *e);

#endif
