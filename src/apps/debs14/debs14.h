/*
 * apps/debs14/debs14.h: the DEBS 2014 job: its source, and building and running the whole
 * job (source -> Q1 -> the ten Q1 files; Q2 when asked) into an output directory.
 *
 *   source (1) --by house--> q1 (p) --port 2s / 2s+1--> q1-house-Nmin.csv / q1-plug-Nmin.csv
 *        |---by house--> q2plug (p) --by house--> q2house (p) --> q2-1h.csv / q2-24h.csv
 *                          \--global--> q2global (1) --broadcast--/
 *        \--> rejects.csv (written by the source, in line order)
 *
 * Ownership: struct strom_debs_run owns its job, its files and its sinks; free it with
 * strom_debs_run_free. Threads: the driving thread may read the source's progress
 * counters while the job runs; everything else only after strom_debs_run_wait.
 */
#ifndef STROM_APPS_DEBS14_H
#define STROM_APPS_DEBS14_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "apps/debs14/latency.h"
#include "apps/debs14/parse.h"
#include "strom/job.h"
#include "strom/sink.h"

/* The source's configuration and what it reports (the arg of strom_debs_source_op). */
struct strom_debs_source {
    int fd;        /* borrowed */
    uint32_t t0;
    const char *rejects_path; /* rejects.csv, or NULL */
    struct strom_debs_triggers *triggers; /* for latency measurement, or NULL */
    /* progress, readable from another thread while the job runs */
    _Atomic uint64_t bytes, lines;
    /* after the run */
    uint64_t load_rows;
    struct strom_debs_stats stats;
};

extern const struct strom_operator strom_debs_source_op;

#define STROM_DEBS_Q1 1u
#define STROM_DEBS_Q2 2u
#define STROM_DEBS_STREAMS 12

struct strom_debs_conf {
    const char *input;   /* a path, or "-" for standard input */
    const char *out_dir; /* created if missing */
    unsigned queries;    /* STROM_DEBS_Q1 | STROM_DEBS_Q2 */
    unsigned threads;    /* 0: one per core */
    unsigned parallelism; /* instances of each query operator; 0: = threads */
    unsigned key_groups; /* 0: the engine's default */
    uint32_t t0;
    int latency;         /* measure the latency of output rows */
    /* Checkpoints (exactly-once): a directory, or NULL for none. The input must then be a
     * file (it is read again from a checkpoint's position). */
    const char *checkpoint_dir;
    double checkpoint_interval; /* seconds; 0 = the engine's default */
    void (*log)(void *arg, const char *msg); /* checkpoints taken, resumed, passed over */
    void *log_arg;
    /* A distributed run (strom_job_set_distributed), or NULL: this process runs the
     * instances placed on it. The operators are "source", "q1", "q2plug", "q2global",
     * "q2house" and one "sink-NAME" per output file. */
    const struct strom_dist_config *dist;
};

struct strom_debs_run;

/* Opens the input, creates the output files and builds the job; err says what failed and
 * where ("cannot open input /x.csv: No such file or directory"). */
int strom_debs_run_new(struct strom_debs_run **out, const struct strom_debs_conf *conf,
                       char *err, size_t errlen);
/* With a checkpoint directory: 1 when it records that this job (same input, same options)
 * finished; then there is nothing to run. */
int strom_debs_run_finished_before(const struct strom_debs_run *run);
int strom_debs_run_start(struct strom_debs_run *run);
/* Waits for the end and closes the files; 0, or why the job failed (message in err). */
int strom_debs_run_wait(struct strom_debs_run *run, char *err, size_t errlen);
void strom_debs_run_free(struct strom_debs_run *run);

/* Progress while running: bytes and lines read, and the input's size (0 if unknown, as for
 * a pipe). */
void strom_debs_run_progress(const struct strom_debs_run *run, uint64_t *bytes,
                             uint64_t *lines, uint64_t *size);

/* After the run. */
const struct strom_debs_source *strom_debs_run_source(const struct strom_debs_run *run);
struct strom_job *strom_debs_run_job(struct strom_debs_run *run);
/* Stream k (0 .. STROM_DEBS_STREAMS-1): its file name and rows written; NULL name when
 * the stream is not part of this run. */
const char *strom_debs_stream_name(unsigned k);
/* With conf.latency: the latency of all output rows (merged); NULL otherwise. */
const struct strom_debs_latency *strom_debs_run_latency(struct strom_debs_run *run);
int strom_debs_run_stream(const struct strom_debs_run *run, unsigned k, const char **path,
                          unsigned long long *rows);

#endif
