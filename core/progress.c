#include "core/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "core/util.h"

void progress_begin(struct progress *p, const char *what, uint64_t total)
{
	p->what = what;
	p->total = total;
	p->t_last = 0;
	p->enabled = isatty(2);
}

void progress_update(struct progress *p, uint64_t done)
{
	if (!p->enabled)
		return;
	double now = nd_wall_s();
	if (now - p->t_last < 0.2)
		return;
	p->t_last = now;
	if (p->total)
		fprintf(stderr, "\r%s: %5.1f %% (%llu / %llu)   ", p->what,
			100.0 * (double)done / (double)p->total,
			(unsigned long long)done, (unsigned long long)p->total);
	else
		fprintf(stderr, "\r%s: %llu   ", p->what, (unsigned long long)done);
	fflush(stderr);
}

void progress_end(struct progress *p)
{
	if (p->enabled)
		fprintf(stderr, "\r%s: done%40s\n", p->what, "");
}
