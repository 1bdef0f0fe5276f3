/*
 * verify.c — integrity check of the shadow version record (ssd.verify).
 */
#include "ssdsim/ssd_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

int ssd_verify(ssd *s, struct nd_err *err)
{
	if (!s->ver_l)
		return nd_errf(err, -EINVAL, "ssd_verify: ssd.verify was off");
	uint64_t lost = 0, stale = 0, orphan = 0, buffered = 0;
	char first[256] = "";
	for (uint64_t l = 0; l < s->n_lpn; l++) {
		if (!s->ver_l[l])
			continue;
		uint32_t b = buf_find(s, (uint32_t)l);
		if (b != NONE && s->bs[b].ver == s->ver_l[l]) {
			buffered++;
			continue;
		}
		uint32_t pua = s->l2p[l];
		if (pua == NONE || s->p2l[pua] != l) {
			if (!lost++ && !first[0])
				snprintf(first, sizeof first, "unit %llu is unmapped", (unsigned long long)l);
		} else if (s->ver_p[pua] != s->ver_l[l]) {
			if (!stale++ && !first[0])
				snprintf(first, sizeof first, "unit %llu holds version %u, latest is %u",
					 (unsigned long long)l, s->ver_p[pua], s->ver_l[l]);
		}
	}
	uint64_t valid_total = 0;
	for (uint64_t u = 0; u < s->n_units_phys; u++) {
		uint32_t l = s->p2l[u];
		if (l == NONE)
			continue;
		valid_total++;
		if (l >= s->n_lpn || s->l2p[l] != u) {
			if (!orphan++ && !first[0])
				snprintf(first, sizeof first, "physical unit %llu is valid but orphaned",
					 (unsigned long long)u);
		}
	}
	uint64_t counted = 0;
	for (uint32_t b = 0; b < s->n_blocks; b++)
		counted += s->blk[b].valid;
	if (lost || stale || orphan || counted != valid_total)
		return nd_errf(err, -EBADMSG,
			       "verify: %llu lost, %llu stale, %llu orphaned mappings; block valid "
			       "counts %llu vs %llu valid units (first: %s)",
			       (unsigned long long)lost, (unsigned long long)stale,
			       (unsigned long long)orphan, (unsigned long long)counted,
			       (unsigned long long)valid_total, first);
	(void)buffered;
	return 0;
}
