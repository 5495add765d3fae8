/* apps/debs14/latency.c: trigger times and latency histograms (see latency.h). */
#include "apps/debs14/latency.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define CHUNK 4096
#define CHUNKS 4096 /* 16.7 million seconds: half a year of data */

struct entry {
    int64_t second;
    uint64_t wall_ns;
};

struct strom_debs_triggers {
    struct entry *chunk[CHUNKS];
    _Atomic uint64_t count;
};

int strom_debs_triggers_new(struct strom_debs_triggers **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void strom_debs_triggers_free(struct strom_debs_triggers *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < CHUNKS; i++)
        free(t->chunk[i]);
    free(t);
}

static inline const struct entry *at(const struct strom_debs_triggers *t, uint64_t i)
{
    return &t->chunk[i / CHUNK][i % CHUNK];
}

int strom_debs_triggers_add(struct strom_debs_triggers *t, int64_t second, uint64_t wall_ns)
{
    uint64_t n = atomic_load_explicit(&t->count, memory_order_relaxed);
    if (n == (uint64_t)CHUNK * CHUNKS)
        return -ENOSPC;
    if (!t->chunk[n / CHUNK] && !(t->chunk[n / CHUNK] = malloc(CHUNK * sizeof(struct entry))))
        return -ENOMEM;
    t->chunk[n / CHUNK][n % CHUNK] = (struct entry){second, wall_ns};
    /* release: a reader that sees the count sees the entry (and its chunk pointer) */
    atomic_store_explicit(&t->count, n + 1, memory_order_release);
    return 0;
}

uint64_t strom_debs_triggers_find(const struct strom_debs_triggers *t, int64_t x, int strict)
{
    uint64_t n = atomic_load_explicit(&((struct strom_debs_triggers *)t)->count,
                                      memory_order_acquire);
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int64_t s = at(t, mid)->second;
        if (strict ? s <= x : s < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n ? at(t, lo)->wall_ns : 0;
}

static unsigned bucket_of(uint64_t ns)
{
    unsigned e;
    if (ns < 16)
        return (unsigned)ns;
    e = 63u - (unsigned)__builtin_clzll(ns); /* >= 4 */
    return (e - 3) * 16 + (unsigned)((ns >> (e - 4)) & 15);
}

static uint64_t bucket_low(unsigned b)
{
    unsigned e = b / 16 + 3, m = b % 16;
    if (b < 16)
        return b;
    return ((uint64_t)16 + m) << (e - 4);
}

void strom_debs_latency_add(struct strom_debs_latency *l, uint64_t ns)
{
    unsigned b = bucket_of(ns);
    l->bucket[b < STROM_DEBS_LAT_BUCKETS ? b : STROM_DEBS_LAT_BUCKETS - 1]++;
    l->count++;
    l->sum_ns += ns;
}

void strom_debs_latency_merge(struct strom_debs_latency *dst, const struct strom_debs_latency *src)
{
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    for (unsigned b = 0; b < STROM_DEBS_LAT_BUCKETS; b++)
        dst->bucket[b] += src->bucket[b];
}

uint64_t strom_debs_latency_percentile(const struct strom_debs_latency *l, double p)
{
    uint64_t want = (uint64_t)(p / 100.0 * (double)l->count + 0.5), seen = 0;
    if (!l->count)
        return 0;
    if (want < 1)
        want = 1;
    for (unsigned b = 0; b < STROM_DEBS_LAT_BUCKETS; b++) {
        seen += l->bucket[b];
        if (seen >= want)
            return bucket_low(b);
    }
    return bucket_low(STROM_DEBS_LAT_BUCKETS - 1);
}

uint64_t strom_debs_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
