/*
 * tests/unit/testops.h: operators shared by the runtime tests.
 *
 * gen: a source; instance i of p emits events i, i+p, ... of a fixed sequence (so every
 *   parallelism emits the same set), each call up to 500 events then a watermark. An
 *   optional gate lets the test hold the source at an event count.
 * wsum: per-key sums over tumbling windows of event time (plain records + timers).
 * bins: per key and window, a histogram of values in a malloc'd array (a codec record),
 *   emitted at each window end (timers).
 */
#ifndef STROM_TESTOPS_H
#define STROM_TESTOPS_H

#include <stdatomic.h>
#include <stdint.h>

#include "strom/job.h"
#include "strom/sink.h"

struct tgen {
    uint64_t events, keys;
    int64_t per_tick;         /* events per unit of event time */
    _Atomic uint64_t gate;    /* emit only events with number < gate (0 = no gate) */
    _Atomic uint64_t emitted; /* events emitted so far, all instances */
};

/* The sequence: event number i. */
struct strom_event tgen_event(const struct tgen *g, uint64_t i);

extern const struct strom_operator tgen_op;
extern const struct strom_operator twsum_op; /* window of 100 time units */
extern const struct strom_operator tbins_op;

/* A sink format: "time,key,v0,v1\n". */
int t_format_row(FILE *f, const struct strom_event *ev, void *arg);

/* Build source -> op (by key) -> sink (global) in a new job; op is twsum_op or tbins_op. */
int t_build_chain(struct strom_job **job, const struct strom_job_config *cfg, struct tgen *g,
                  unsigned par, const struct strom_operator *op, struct strom_file_sink *sink);

#define TWSUM_WINDOW 100

#endif
