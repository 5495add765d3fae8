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
#include "strom/state.h"

#define STROM_NAME_MAX 64
#define STROM_BATCH_WM 1u      /* the batch ends with a watermark */
#define STROM_BATCH_END 2u     /* the batch ends the channel's stream */
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
    unsigned proc; /* the process that runs it (distributed runs; else 0) */
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
    _Atomic unsigned running; /* worker threads that have not exited (not the remote ones) */
    _Atomic int paused;
    _Atomic long busy;
    _Atomic int result;
    _Atomic uint64_t batches;
    pthread_mutex_t err_lock; /* guards errmsg, failed and result's first setting */
    bool failed;
    double t_start, seconds;
    char errmsg[512];
    struct strom_cp *cp;         /* checkpoints, NULL when off (checkpoint.c) */
    struct strom_remote *remote; /* distributed runs, NULL when not (remote.c) */
    unsigned credit_kick;        /* distributed: returns of a channel between wakes (remote.c) */
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
bool strom_rt__local(const struct strom_ctx *c);   /* c runs in this process */
int strom_rt__remote_place(struct strom_job *job); /* at wiring: every instance's process */
int strom_rt__remote_start(struct strom_job *job); /* the sender and receiver threads */
void strom_rt__remote_wake(struct strom_job *job);  /* credits are due: wake the receiver */
void strom_rt__remote_join(struct strom_job *job);
void strom_rt__remote_free(struct strom_job *job);
/* The wire form of a batch (the byte table is in remote.c): encode returns the length;
 * decode checks every field against len and the job's batch size, 0 or STROM_E_CORRUPT. */
size_t strom_rt__batch_encode(const struct strom_batch *b, uint8_t *out);
/* The next batch of a bundle of len bytes from *off (remote.c): 1 with its channel and
 * bytes, *off moved past it; 0 at the end; STROM_E_CORRUPT. */
int strom_rt__bundle_next(const uint8_t *p, size_t len, size_t *off, uint32_t *chan,
                          const uint8_t **batch, size_t *blen);
/* The next (channel, count) of a credits message: 1, 0 at the end, STROM_E_CORRUPT (an
 * empty message is too). */
int strom_rt__credits_next(const uint8_t *p, size_t len, size_t *off, uint32_t *chan,
                           uint32_t *n);
int strom_rt__batch_decode(const uint8_t *p, size_t len, unsigned max_events,
                           struct strom_batch *b);
#define STROM_BATCH_WIRE_HDR 24
#define STROM_EVENT_WIRE 40

/* Control messages between the processes of a distributed run, on channel
 * STROM_CHAN_CTL | kind (strom/job.h): their wire forms are in remote.c, the checkpoint
 * protocol they carry in checkpoint.c. */
enum strom_ctl_kind {
    STROM_CTL_ABORT = 1, /* any -> any: the sender's job failed, with code */
    STROM_CTL_HELLO,     /* p -> committer: p resumed from checkpoint n (0: a fresh start) */
    STROM_CTL_BEGIN,     /* committer -> p: checkpoint n has begun */
    STROM_CTL_BLOBS,     /* p -> committer: a fragment of the export of p's blobs of n */
    STROM_CTL_COMMITTED, /* committer -> p: checkpoint n is complete */
    STROM_CTL_DONE,      /* p -> committer: p has ended, its output committed (code 0) or not */
    STROM_CTL_KINDS
};
#define STROM_CTL_MAX 4096     /* bytes of a control message, at most */
#define STROM_CTL_BLOBS_HDR 16 /* a BLOBS message before its fragment */

struct strom_ctl {
    uint32_t kind;
    uint32_t from;       /* the sending process */
    uint64_t n;          /* HELLO, BEGIN, BLOBS, COMMITTED */
    int32_t code;        /* ABORT (< 0), DONE (<= 0) */
    bool last;           /* BLOBS: the export's last fragment */
    const uint8_t *data; /* BLOBS: the fragment (borrowed), len bytes */
    size_t len;
};

/* remote.c: encode writes m's payload to out (STROM_CTL_MAX bytes of room) and returns its
 * length; decode checks the payload of a message of kind against len, procs and self (a
 * known kind, the exact length, a sender that is another process, codes, flags), 0 or
 * STROM_E_CORRUPT. m->data then points into p. */
size_t strom_rt__ctl_encode(const struct strom_ctl *m, uint8_t *out);
int strom_rt__ctl_decode(uint32_t kind, const uint8_t *p, size_t len, unsigned procs, unsigned self,
                         struct strom_ctl *m);
/* Queue m (encoded now, from this process) for process proc; the receiver thread sends it,
 * in the order queued. 0 or -ENOMEM. Any thread. */
int strom_rt__ctl_send(struct strom_job *job, unsigned proc, struct strom_ctl *m);
/* This process's control protocol is over: the receiver thread may end once the messages
 * queued are sent and its channels are done. */
void strom_rt__ctl_done(struct strom_job *job);
unsigned strom_rt__self(const struct strom_job *job);  /* 0 when not distributed */
unsigned strom_rt__procs(const struct strom_job *job); /* 1 when not distributed */

/* checkpoint.c and restore.c: a job's checkpoints (the protocol is in checkpoint.c) */

/* An instance's snapshot at barrier n, from its worker to the checkpoint thread. */
struct cp_blob {
    struct cp_blob *next;
    unsigned inst; /* index in job->all */
    uint64_t n;
    struct strom_buf buf;
    size_t local_off, local_len; /* the operator's bytes inside buf */
    double seconds;              /* the instance's time serializing it */
};

/* A control message for the checkpoint thread, from the receiver thread. */
struct cp_msg {
    struct cp_msg *next;
    uint32_t kind; /* STROM_CTL_BEGIN, _COMMITTED (a member), _BLOBS (the committer) */
    unsigned from;
    uint64_t n;
    struct strom_buf bytes; /* BLOBS: the whole export of from's blobs */
};

enum cp_state {
    CP_IDLE,    /* no checkpoint under way (the committer waits for the interval) */
    CP_WRITING, /* checkpoint n under way: this process's blobs are being written */
    CP_STOPPED, /* the run is ending: no more checkpoints */
};

struct strom_cp {
    struct strom_ckpt *store;
    double interval;
    void (*log)(void *arg, const char *msg);
    void *log_arg;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct cp_blob *head, *tail;  /* guarded by lock */
    struct cp_msg *mhead, *mtail; /* guarded by lock */
    bool stop;                    /* guarded by lock */
    /* distributed runs (fixed at start): process 0 commits, the others are members */
    bool dist, committer;
    unsigned self, procs;
    unsigned n_local; /* instances this process runs */
    /* the committer: the processes that reported their end (DONE), guarded by lock */
    bool *done;
    unsigned n_done;
    int peer_rc; /* the first failure a process reported */
    /* the committer's receiver thread alone: exports arriving in fragments, per process */
    struct strom_buf *frag;
    uint64_t *frag_n;
    /* the checkpoint thread's own */
    enum cp_state state;
    struct strom_ckpt_txn *txn;
    uint64_t n;      /* under way, 0 if none */
    uint64_t joined; /* a member: the newest checkpoint it joined */
    unsigned acked;  /* this process's blobs of n that are durable */
    bool *proc_in;   /* the committer: processes whose blobs of n are adopted */
    unsigned procs_in;
    double next; /* the committer: when to begin the next checkpoint */
    double t_begin;
    double serialize; /* the longest time an instance spent serializing, this checkpoint */
    uint64_t raw;
    struct cp_blob *held; /* blobs kept for their operator's commit, in the order written */
    /* per instance: the buffer of its last blob, written and kept for the next one, so
     * that a large state is not copied into fresh memory (page faults, realloc copies)
     * at every checkpoint; guarded by lock */
    struct strom_buf *spare;
    bool finished_before;
    struct strom_checkpoint_stats st;
    /* restore.c: per instance, the operator's bytes of the checkpoint resumed from */
    uint8_t **rbytes;
    size_t *rlen;
};

void strom_rt__cp_log(struct strom_cp *cp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Before restore and before the threads start: roles and tables. */
int strom_rt__cp_prepare(struct strom_job *job);
/* After the threads started: the checkpoint thread. */
int strom_rt__cp_start(struct strom_job *job);
/* After the workers have exited (strom_job_wait): stop taking checkpoints, let the local
 * instances commit what is left (end) when the job succeeded, and record that it finished;
 * in a distributed run together with the other processes (checkpoint.c, "The end"). */
void strom_rt__cp_end(struct strom_job *job);
void strom_rt__cp_free(struct strom_job *job);
/* A control message for the checkpoint protocol, on the receiver thread; 0, or a code that
 * fails the job (a message that breaks the protocol). */
int strom_rt__cp_control(struct strom_job *job, const struct strom_ctl *m);
/* The protocol still waits for messages from other processes (the committer, for the
 * members' DONE). Any thread. */
bool strom_rt__cp_expecting(struct strom_job *job);
/* Snapshot ctx at barrier n, hand the blob to the checkpoint thread, pass the barrier on. */
int strom_rt__barrier(struct strom_ctx *ctx, uint64_t n);

/* restore.c: before the threads start, the newest complete checkpoint's state into this
 * process's instances. */
int strom_rt__cp_restore(struct strom_job *job);

#endif
