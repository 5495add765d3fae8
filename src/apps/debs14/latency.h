/*
 * apps/debs14/latency.h: the latency of output rows, for the benchmark: from reading the
 * row that triggers an output to writing the output row.
 *
 * The source notes the wall time at which it read the first load row of each new second
 * (the row that reaches Q1's update points up to that second and completes Q2's previous
 * second), and once more at the end of the input. A sink that writes a row of event time x
 * looks up its trigger: the first noted second >= x for Q1 (update point b is reached by
 * the first row at or after b), > x for Q2 (second t is complete when a later one starts).
 *
 * Threads: the triggers have one writer (the source) and any number of readers (the
 * sinks): entries live in fixed chunks that never move, and the count is published with
 * release and read with acquire. A histogram belongs to one sink's thread until the run
 * ends; then they are merged.
 */
#ifndef STROM_APPS_DEBS14_LATENCY_H
#define STROM_APPS_DEBS14_LATENCY_H

#include <stdint.h>

struct strom_debs_triggers;

int strom_debs_triggers_new(struct strom_debs_triggers **out);
void strom_debs_triggers_free(struct strom_debs_triggers *t);
/* Seconds must rise from call to call; -ENOSPC when the table is full (then nothing is
 * noted, and later rows simply have no latency measured). */
int strom_debs_triggers_add(struct strom_debs_triggers *t, int64_t second, uint64_t wall_ns);
/* The wall time of the first noted second >= x (strict: > x); 0 if there is none yet. */
uint64_t strom_debs_triggers_find(const struct strom_debs_triggers *t, int64_t x, int strict);

/* Latencies in a log-linear histogram: 16 buckets per power of two, so a percentile is
 * within about 6 % of the exact one. */
#define STROM_DEBS_LAT_BUCKETS (64 * 16)
struct strom_debs_latency {
    uint64_t count, sum_ns;
    uint64_t bucket[STROM_DEBS_LAT_BUCKETS];
};

void strom_debs_latency_add(struct strom_debs_latency *l, uint64_t ns);
void strom_debs_latency_merge(struct strom_debs_latency *dst, const struct strom_debs_latency *src);
/* The p-th percentile (0 < p <= 100), as the lower bound of its bucket; 0 if empty. */
uint64_t strom_debs_latency_percentile(const struct strom_debs_latency *l, double p);
uint64_t strom_debs_now_ns(void);

#endif
