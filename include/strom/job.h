/*
 * strom/job.h: declaring and running a job on one machine (the embedded runtime).
 *
 * A job is a directed acyclic graph of named operators. Build it with strom_job_new, add
 * operators (sources are operators with produce()), connect them with edges that say how
 * events are partitioned, then run it. strom_job_run runs to completion; strom_job_start /
 * strom_job_wait run it in the background so that the caller can pause it and move key
 * groups between instances meanwhile.
 *
 * Ownership: the job borrows operator descriptors, names and args; they must outlive it.
 * Thread rule: one thread drives the job object; operator callbacks run on worker threads.
 * Every function returns 0 or a negative error code; strom_job_errmsg tells the detail of
 * the last failure (which name, which edge).
 */
#ifndef STROM_JOB_H
#define STROM_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "strom/operator.h"

enum strom_partition {
    STROM_FORWARD,   /* instance i -> instance i (equal parallelism) */
    STROM_BY_KEY,    /* key -> key group -> the instance that owns it */
    STROM_BROADCAST, /* every event to every instance */
    STROM_GLOBAL,    /* every event to instance 0 */
};

struct strom_job_config {
    unsigned threads;        /* worker threads; 0 = one per core */
    unsigned key_groups;     /* G, the maximum parallelism; 0 = 256 */
    unsigned batch_events;   /* events per batch; 0 = 1024 */
    unsigned ring_batches;   /* capacity of each channel in batches; 0 = 16 (8 times that for
                              * a channel between processes: distributed runs) */
};

/* Checkpoints for exactly-once processing: every interval seconds the sources inject a
 * barrier after their next watermark; each instance snapshots its state when the barrier
 * has arrived on all its inputs; a background thread compresses and writes the snapshots
 * to the store in dir (strom/ckpt.h) and, once every instance's is durable, commits the
 * checkpoint and then the sinks' output of that epoch. */
struct strom_checkpoint_config {
    const char *dir;
    double interval;         /* seconds between checkpoints; 0 = 10 */
    unsigned keep;           /* complete checkpoints kept; 0 = 3 */
    const void *fingerprint; /* the job's identity (options, input): see strom/ckpt.h */
    size_t fingerprint_len;
    /* Told of checkpoints taken and passed over; NULL for silence. Any thread. */
    void (*log)(void *arg, const char *msg);
    void *log_arg;
};

struct strom_checkpoint_stats {
    uint64_t taken;      /* checkpoints completed in this run */
    uint64_t last;       /* number of the last complete checkpoint, 0 if none */
    uint64_t restored;   /* the checkpoint the run resumed from, 0 if none */
    uint64_t raw_bytes;  /* snapshot bytes of the last checkpoint, before compression */
    double last_seconds; /* from barrier to commit, last checkpoint */
    double serialize_seconds; /* last checkpoint: the longest an instance stopped to
                               * serialize its state (the rest runs in the background) */
    double max_seconds;
};

struct strom_job_stats {
    uint64_t events_in;  /* events delivered to operators' process(), all operators */
    uint64_t batches;    /* batches moved through channels */
    uint64_t stalls;     /* times an instance waited for room in a full channel */
    double seconds;      /* wall time of the run */
};

struct strom_job;

/* cfg may be NULL for all defaults. */
int strom_job_new(struct strom_job **out, const struct strom_job_config *cfg);
void strom_job_free(struct strom_job *job);

int strom_job_add(struct strom_job *job, const char *name, const struct strom_operator *op,
                  void *arg, unsigned parallelism);
int strom_job_connect(struct strom_job *job, const char *from, const char *to,
                      enum strom_partition how);

/* Validate, start the worker threads and return; the job runs in the background. */
int strom_job_start(struct strom_job *job);
/* Wait for the end; returns the job's result (0, or why it failed). */
int strom_job_wait(struct strom_job *job);
/* Non-zero once the job's worker threads have ended (it finished or failed): no event is
 * processed any more, and strom_job_wait returns soon (in a distributed run with
 * checkpoints it first settles the end with the other processes). For a thread that
 * watches progress while the job runs. */
int strom_job_done(const struct strom_job *job);
/* start + wait. */
int strom_job_run(struct strom_job *job);
/* Make a running job stop as soon as it can, whatever it is doing (another thread may
 * call this while one waits in strom_job_wait, which then returns -ECANCELED unless the job
 * had already failed). The output of a cancelled job is what it committed so far. */
int strom_job_cancel(struct strom_job *job);

/* Stop the sources and wait until every event in flight has been processed. While paused,
 * key groups may be moved. */
int strom_job_pause(struct strom_job *job);
int strom_job_resume(struct strom_job *job);

/* While paused (or before start): which instance of operator `name` owns key group kg. */
int strom_job_owner(struct strom_job *job, const char *name, unsigned kg, unsigned *instance);
/* While paused: serialize key group kg of operator `name` (records and timers) from the
 * instance that owns it, appending to out. */
int strom_job_snapshot_keygroup(struct strom_job *job, const char *name, unsigned kg,
                                struct strom_buf *out);
/* While paused: make `instance` own key group kg, with the state in bytes (from
 * strom_job_snapshot_keygroup), and route the key group's events to it. The previous owner
 * forgets the key group. Bytes are checked; on any error nothing changes. */
int strom_job_restore_keygroup(struct strom_job *job, const char *name, unsigned kg,
                               unsigned instance, const uint8_t *bytes, size_t len);
/* While paused: snapshot + restore. */
int strom_job_move_keygroup(struct strom_job *job, const char *name, unsigned kg,
                            unsigned instance);

/* Distributed runs. Every process builds the same graph (same operators, parallelism and
 * edges, in the same order) and calls this before start; each runs the instances that
 * place() puts on it and exchanges batches with the others through the transport. A channel
 * is named by its index in the wiring, the same in every process (always below
 * STROM_CHAN_BUNDLE). Three reserved ids ride on the same transport: STROM_CHAN_CREDIT
 * carries flow control (credits) for channels, STROM_CHAN_BUNDLE several batches of
 * channels at once, and an id with bit 30 set (STROM_CHAN_CTL) is a control message of the
 * runtime, its kind in the low bits (the checkpoint protocol, a process's failure:
 * docs/internals/engine.md, "Several processes").
 * The transport must keep the order of the messages of one process to another, and take
 * send calls from two threads at once (batches go out on one thread, credits and control
 * messages on another).
 *
 * Checkpoints (strom_job_set_checkpoints, called after this) go into one directory that
 * all the processes share; each writes the snapshots of its own instances, process 0
 * commits. Every process must call strom_job_wait: a process ends once its own instances
 * have finished and committed their output, process 0 only once every process has, and
 * only it records that the job finished. Key-group moves and pausing are not available in
 * a distributed run (STROM_E_BADSTATE). */
#define STROM_CHAN_CREDIT 0x80000000u
#define STROM_CHAN_CTL 0x40000000u
#define STROM_CHAN_BUNDLE 0x20000000u
struct strom_transport {
    /* One message for process proc; 0 or a negative code. With wait 0 it must not block:
     * -EAGAIN when the message cannot go at once. A process that has ended may have closed
     * its end: a message to it then fails with -EPIPE (or -ECONNRESET), which the runtime
     * takes for a peer that needs nothing more. */
    int (*send)(void *arg, unsigned proc, uint32_t chan, const void *bytes, size_t len,
                int wait);
    /* The next message for this process, into buf (cap bytes): 0 with *chan and *len set;
     * -EAGAIN when none came within timeout_ms; another negative code on failure. */
    int (*recv)(void *arg, uint32_t *chan, void *buf, size_t cap, size_t *len,
                int timeout_ms);
    void *arg;
    /* Optional (NULL: recv's short timeouts stand in): makes a recv that waits (or the
     * next one that would) return -EAGAIN at once; any thread. The runtime calls it when
     * the consumers have returned enough batches that credits are due. */
    void (*wake)(void *arg);
};

struct strom_dist_config {
    unsigned self, procs; /* this process, and how many there are (self < procs) */
    /* The process of instance idx (of par) of operator node; < procs. */
    unsigned (*place)(void *arg, const char *node, unsigned idx, unsigned par);
    void *place_arg;
    struct strom_transport transport;
};

int strom_job_set_distributed(struct strom_job *job, const struct strom_dist_config *dc);

/* A transport between the processes of one machine: Unix socket pairs, one per pair of
 * processes. Made before fork; in process p, strom_sockmesh_transport keeps p's ends (and
 * closes the others) and fills t; the mesh must outlive the job. */
struct strom_sockmesh;
int strom_sockmesh_new(struct strom_sockmesh **out, unsigned procs);
int strom_sockmesh_transport(struct strom_sockmesh *m, unsigned self, struct strom_transport *t);
void strom_sockmesh_free(struct strom_sockmesh *m); /* closes every end it still holds */
/* The largest message (an encoded batch, or a control message): the cap a transport's recv
 * needs. */
size_t strom_job_batch_wire_max(const struct strom_job *job);

/* Before start: take checkpoints into cc->dir (locked for this process, or shared by the
 * processes of a distributed run: set that up first), and resume from the newest complete
 * checkpoint found there. STROM_E_FOREIGN (with a message) when the directory holds another
 * job's checkpoints. */
int strom_job_set_checkpoints(struct strom_job *job, const struct strom_checkpoint_config *cc);
/* After strom_job_set_checkpoints: 1 when the directory records that this job finished (the
 * caller should not run it again), else 0. */
int strom_job_finished_before(const struct strom_job *job);
void strom_job_checkpoint_stats(const struct strom_job *job, struct strom_checkpoint_stats *st);

const char *strom_job_errmsg(const struct strom_job *job);
void strom_job_get_stats(const struct strom_job *job, struct strom_job_stats *st);
unsigned strom_job_threads(const struct strom_job *job);
unsigned strom_job_key_groups(const struct strom_job *job);

/* The key group of key in a job with g key groups. */
unsigned strom_key_group(uint64_t key, unsigned g);

#endif
