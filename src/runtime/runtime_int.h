/*
 * runtime/runtime_int.h: the embedded runtime's structures, shared by the runtime's files only.
 *
 * Graph. A job is nodes (operators) and edges. Each node has `par` instances
 * (struct strom_ctx). An edge from A to B is wired as channels: for BY_KEY and BROADCAST
 * every instance of A has a channel to every instance of B; FORWARD connects A[i] to B[i];
 * GLOBAL connects every A[i] to B[0]. Keyed routing reads B's owner table: key -> key
 * group -> owning instance.
 *
 * Channels. A channel carries batches one way through a data ring and returns the emptied
 * batches through a free ring, so that batches are recycled, not reallocated, and the
 * memory of a channel is bounded by twice its capacity. A batch holds up to batch_events
 * events and may end with a watermark or the end-of-stream mark; both come after the
 * batch's events, in order.
 *
 * Scheduling. Worker thread t runs the instances whose thread is t, round robin, each step
 * either producing (a source) or consuming a few input batches. A batch that finds its ring
 * full waits in the producer's overflow list; an instance with a non-empty overflow list is
 * blocked: it consumes and produces nothing until the list has drained (backpressure, with
 * memory bounded by what one step can emit). Idle instances push their partly filled
 * batches so that nothing waits for a batch to fill.
 *
 * Pausing. job->busy counts batches that exist (open, queued, overflowing, or being
 * processed) plus source steps under way. A source step increments busy before it looks at
 * job->paused, and pause sets paused before it waits for busy to be zero (both sequentially
 * consistent), so when pause sees zero no step is under way and none will start: every
 * event has been processed and the control thread may touch any instance's state.
 *
 * Threads: nodes, edges and channels are built by the driving thread before start and then
 * only read; a channel's producer fields belong to the producing instance's thread, its
 * consumer fields to the consuming instance's thread; an instance belongs to its worker
 * thread; owner tables change only while paused.
 */
#ifndef STROM_RUNTIME_INT_H
#define STROM_RUNTIME_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/ring.h"
#include "strom/job.h"

#define STROM_NAME_MAX 64
#define STROM_BATCH_WM 1u  /* the batch ends with a watermark */
#define STROM_BATCH_END 2u /* the batch ends the channel's stream */
#define STROM_BATCH_BARRIER 4u /* the batch ends with checkpoint barrier `barrier` */

struct strom_batch {
    struct strom_batch *next; /* overflow list */
    uint32_t n;
    uint32_t flags;
    int64_t watermark;
    uint64_t barrier;
    struct strom_event ev[];
};

struct strom_chan {
    struct strom_ring data;
    struct strom_ring free;
    struct strom_ctx *from;
    struct strom_ctx *to;
    /* producer side */
    struct strom_batch *open;
    struct strom_batch *ovf_head, *ovf_tail;
    /* consumer side */
    int64_t watermark;
    uint64_t barrier; /* the last barrier that came; > to->barrier_done: input blocked */
    bool ended;
    /* a channel from another process: batches its consumer has returned (remote.c) */
    bool counted;
    _Atomic uint32_t returned;
};

struct strom_edge {
    struct strom_node *from, *to;
    enum strom_partition how;
};

/* One output edge as an instance sees it: the channel to each instance of the target
 * (NULL where the partitioning makes no channel). */
struct strom_out {
    enum strom_partition how;
    struct strom_node *to;
    struct strom_chan **dest; /* to->par entries */
};

struct strom_node {
    char name[STROM_NAME_MAX];
    const struct strom_operator *op;
    void *arg;
    unsigned par;
    unsigned n_in_edges, n_out_edges;
    uint32_t *owner; /* key group -> instance; changed only while paused */
    struct strom_ctx **inst;
    int visit; /* for the cycle check */
};

struct strom_ctx {
    struct strom_job *job;
    struct strom_node *node;
    unsigned idx;
    unsigned global_idx; /* in job->all */
    unsigned thread;
    unsigned proc;       /* the process that runs it (distributed runs; else 0) */
    struct strom_kstate *ks;
    void *local;
    struct strom_chan **in;
    unsigned n_in, next_in, n_ended;
    struct strom_out *out;
    unsigned n_out;
    unsigned n_ovf; /* batches in overflow lists of this instance's output channels */
    int64_t watermark;
    uint64_t barrier_done; /* the last barrier this instance snapshotted and passed on */
    unsigned n_barrier;    /* inputs on which the next barrier has come */
    bool opened, source_done, finished;
    bool msg_set; /* the operator explained its failure with strom_ctx_fail */
    uint64_t events_in, stalls;
};

struct strom_job {
    struct strom_job_config cfg;
    size_t batch_bytes;
    struct strom_node **nodes; /* in the order added; topologically sorted at start */
    unsigned n_nodes, cap_nodes;
    struct strom_edge *edges;
    unsigned n_edges, cap_edges;
    struct strom_chan **chans;
    unsigned n_chans;
    struct strom_ctx **all; /* every instance */
    unsigned n_all;

    pthread_t *threads;
    unsigned n_threads_started;
    bool started, joined;
    bool quiesced; /* paused and nothing in flight: key groups may move */
    _Atomic int stop;
    _Atomic unsigned running; /* worker threads that have not exited */
    _Atomic int paused;
    _Atomic long busy;
    _Atomic int result;
    _Atomic uint64_t batches;
    pthread_mutex_t err_lock; /* guards errmsg, failed and result's first setting */
    bool failed;
    double t_start, seconds;
    char errmsg[512];
    struct strom_cp *cp; /* checkpoints, NULL when off (checkpoint.c) */
    struct strom_remote *remote; /* distributed runs, NULL when not (remote.c) */
    const char *cp_dir;
    _Atomic uint64_t barrier_req; /* the barrier sources are to inject next, 0 none */
};

/* job.c */
int strom_rt__set_error(struct strom_job *job, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The job has failed with rc: stop it; the message set before stays. */
int strom_rt__fail(struct strom_job *job, int rc);
struct strom_node *strom_rt__find(struct strom_job *job, const char *name);
double strom_rt__now(void);

/* exec.c */
int strom_rt__start_threads(struct strom_job *job);
struct strom_batch *strom_rt__batch_get(struct strom_chan *ch);
void strom_rt__send(struct strom_ctx *ctx, struct strom_chan *ch);
int strom_rt__mark_all(struct strom_ctx *ctx, uint32_t flag, int64_t watermark);
int strom_rt__mark_barrier(struct strom_ctx *ctx, uint64_t n);

/* exec.c: a consumed batch goes back to its channel's free ring */
void strom_rt__batch_done(struct strom_job *job, struct strom_chan *ch, struct strom_batch *b);
void strom_rt__backoff(unsigned idle);

/* remote.c: distributed runs (strom_job_set_distributed) */
bool strom_rt__local(const struct strom_ctx *c); /* c runs in this process */
int strom_rt__remote_place(struct strom_job *job);  /* at wiring: every instance's process */
int strom_rt__remote_start(struct strom_job *job);  /* the sender and receiver threads */
void strom_rt__remote_join(struct strom_job *job);
void strom_rt__remote_free(struct strom_job *job);
/* The wire form of a batch (the byte table is in remote.c): encode returns the length;
 * decode checks every field against len and the job's batch size, 0 or STROM_E_CORRUPT. */
size_t strom_rt__batch_encode(const struct strom_batch *b, uint8_t *out);
int strom_rt__batch_decode(const uint8_t *p, size_t len, unsigned max_events,
                           struct strom_batch *b);
#define STROM_BATCH_WIRE_HDR 24
#define STROM_EVENT_WIRE 40

/* checkpoint.c */
int strom_rt__cp_restore(struct strom_job *job);
int strom_rt__cp_start(struct strom_job *job);
void strom_rt__cp_stop(struct strom_job *job);
int strom_rt__cp_finished(struct strom_job *job);
void strom_rt__cp_free(struct strom_job *job);
/* Snapshot ctx at barrier n, hand the blob to the checkpoint thread, pass the barrier on. */
int strom_rt__barrier(struct strom_ctx *ctx, uint64_t n);

#endif
