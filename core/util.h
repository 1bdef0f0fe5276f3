/*
 * util.h — allocation wrappers, always-on assertions and small helpers
 * shared by every module.
 *
 * Allocation never returns NULL: on failure the process prints the size it
 * asked for and aborts (Redis-style zmalloc).  Assertions stay on in release
 * builds: an internal invariant that breaks is a bug to stop on, not to hide.
 */
#ifndef ND_UTIL_H
#define ND_UTIL_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Test-only fault injection: after `n` further successful allocations the
 * next xmalloc/xcalloc/xrealloc fails as if the system were out of memory.
 * -1 disables it (the default). */
void xalloc_fail_after(long n);

/* Prints the failed assertion and aborts.  noreturn and cold: the code
 * around an assertion keeps no state for the failure path (registers
 * saved, values kept live) and lays the call out of the way. */
__attribute__((noreturn, cold)) void nd_assert_fail(const char *expr, const char *file, int line);
#define ND_ASSERT(e) ((e) ? (void)0 : nd_assert_fail(#e, __FILE__, __LINE__))

#define ND_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline uint64_t nd_max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static inline uint64_t nd_min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* A prefetch hint for data about to be written (kept in the outer cache
 * levels), that the optimiser keeps.  GCC takes __builtin_prefetch for a
 * const call, so its modref pass finds a function whose only effect is
 * prefetches pure and deletes every call to it: GCC 12 at -O2 dropped all
 * of lt_prefetch() (each use inlined from a pure static helper) and every
 * ftl_prefetch_home() call inside ftl.c.  The empty volatile asm taking the
 * address makes the hint an effect; it emits no instruction. */
static inline void nd_prefetch_w(const void *p)
{
	__builtin_prefetch(p, 1, 1);
	__asm__ __volatile__("" : : "r"(p));
}

/* Ceiling of a / b for b > 0. */
static inline uint64_t nd_div_ceil(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* Time to move `bytes` at `bytes_per_s`, in integer nanoseconds, rounded up
 * so that a transfer never takes zero time. */
uint64_t nd_xfer_ns(uint64_t bytes, double bytes_per_s);

/* Wall-clock seconds from a monotonic clock (for progress and benchmarks
 * only; never part of a simulated result). */
double nd_wall_s(void);
/* CPU seconds (user + system) this process has used, all threads (for
 * benchmarks and run summaries only). */
double nd_cpu_s(void);

#endif
