/*
 * progress.h — progress line on stderr for long phases, shown only when
 * stderr is a terminal (and never in tests or CI logs).
 */
#ifndef ND_PROGRESS_H
#define ND_PROGRESS_H

#include <stdint.h>

struct progress {
	const char *what;
	uint64_t total;
	double t_last;
	int enabled;
};

void progress_begin(struct progress *p, const char *what, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p);

#endif
