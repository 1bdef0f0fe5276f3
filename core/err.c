#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int nd_verrf(struct nd_err *e, int code, const char *fmt, va_list ap)
{
	if (!e)
		return code;
	e->code = code;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	return code;
}

int nd_errf(struct nd_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	nd_verrf(e, code, fmt, ap);
	va_end(ap);
	return code;
}

void nd_err_prefix(struct nd_err *e, const char *fmt, ...)
{
	if (!e)
		return;
	char pre[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	size_t np = strlen(pre), cap = sizeof e->msg;
	if (np + 2 >= cap)
		return;
	size_t nm = strlen(e->msg);
	if (np + 2 + nm >= cap)
		nm = cap - np - 3;
	memmove(e->msg + np + 2, e->msg, nm);
	e->msg[np + 2 + nm] = '\0';
	memcpy(e->msg, pre, np);
	e->msg[np] = ':';
	e->msg[np + 1] = ' ';
}

void nd_err_clear(struct nd_err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

int nd_err_exit_code(const struct nd_err *e)
{
	switch (e ? -e->code : 0) {
	case EINVAL: case ENOENT: case ERANGE: case EBADMSG: case ENOTDIR:
	case EISDIR: case E2BIG: case ENOTSUP:
		return 2;
	default:
		return 1;
	}
}
