/*
 * verify.c — integrity check of the shadow version record (ssd.verify).
 */
#include "ssdsim/ssd_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Every written logical unit must map (explicitly or as a fill home) to a
 * physical unit that maps back to it and holds its latest version; every
 * valid physical unit must be the one its logical unit maps to; and the
 * per-block valid counts, kept incrementally by the FTL, must add up to the
 * valid units found here. */
int ssd_verify(ssd *s, struct nd_err *err)
{
	if (!s->verify)
		return nd_errf(err, -EINVAL, "ssd_verify: ssd.verify was off");
	uint64_t lost = 0, stale = 0, orphan = 0;
	char first[256] = "";
	for (uint64_t l = 0; l < s->n_lpn; l++) {
		uint32_t latest = (uint32_t)lt_get(&s->ver_l, l) + (l < s->fill_n);
		if (!latest)
			continue;
		uint32_t b = buf_find(s, (uint32_t)l);
		if (b != NONE && s->bs[b].ver == latest)
			continue;   /* the buffer holds the latest copy */
		uint64_t pua = ftl_l2p(s, (uint32_t)l);
		if (pua == PUA_NONE || ftl_p2l(s, pua) != l) {
			if (!lost++ && !first[0])
				snprintf(first, sizeof first, "unit %llu is unmapped", (unsigned long long)l);
			continue;
		}
		uint64_t v = lt_get(&s->ver_p, pua);
		uint32_t held = v ? (uint32_t)v : 1;   /* 0: a fill home, version 1 */
		if (held != latest && !stale++ && !first[0])
			snprintf(first, sizeof first, "unit %llu holds version %u, latest is %u",
				 (unsigned long long)l, held, latest);
	}
	uint64_t valid_total = 0;
	for (uint64_t u = 0; u < s->n_units_phys; u++) {
		if (!s->fill_n && !s->p2l.chunk[u >> LT_SHIFT]) {
			u |= LT_CHUNK - 1;   /* an untouched region holds nothing */
			continue;
		}
		uint32_t l = ftl_p2l(s, u);
		if (l == NONE)
			continue;
		valid_total++;
		if (l >= s->n_lpn + s->n_tunits || ftl_l2p(s, l) != u) {
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
	return 0;
}
