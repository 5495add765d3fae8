/*
 * strom/sink.h: the ordered file sink.
 *
 * It buffers the events it receives and, each time its watermark advances to w, writes the
 * events with time <= w sorted by (time, key, v[0], v[1], v[2]), one line each through the
 * format callback; at the end it writes what is left, sorted the same way. Since an operator that
 * emits on watermarks emits the same set of events before each watermark whatever the
 * parallelism, the file is then the same bytes whatever the parallelism.
 *
 * Use it with parallelism 1. The file is created (truncated) when the job starts.
 */
#ifndef STROM_SINK_H
#define STROM_SINK_H

#include <stddef.h>
#include <stdio.h>

#include "strom/operator.h"

/* Writes one line for ev into f; returns 0 or a negative error code. */
typedef int (*strom_format_fn)(FILE *f, const struct strom_event *ev, void *arg);

struct strom_file_sink {
    const char *path;
    strom_format_fn format;
    void *format_arg;
    /* Filled by the sink: rows written. */
    unsigned long long rows;
};

/* The descriptor: add it with strom_job_add(job, name, &strom_file_sink_op, &sink, 1). */
extern const struct strom_operator strom_file_sink_op;

#endif
