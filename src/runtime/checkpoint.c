/*
 * runtime/checkpoint.c: aligned checkpoints, their background writer, and the checkpoint
 * protocol between the processes of a distributed run. (Recovery is in restore.c.)
 *
 * Barriers. The checkpoint thread asks for checkpoint n by setting job->barrier_req. A
 * source injects barrier n right after the next watermark it emits (strom_emit_watermark),
 * so that a barrier always follows a watermark on every channel: an operator that holds
 * input back until the watermark passes (a sink, q2house) holds nothing when the barrier
 * arrives, and its snapshot needs no in-flight data. An instance with several inputs stops
 * reading an input once the barrier came on it (exec.c) until it came on all of them, then
 * snapshots: its operator's snapshot callback, then each key group it owns (the key-group
 * snapshot format of state/snapshot.c), into one blob named NODE.INSTANCE; it hands the
 * blob to the checkpoint thread and passes the barrier on. Ended inputs count as arrived.
 *
 * The checkpoint thread compresses and writes each blob (strom/ckpt.h) while the workers
 * go on. When every instance's blob of n is durable, it commits the checkpoint (the
 * manifest's metadata lists the nodes and their parallelism), then calls each operator's
 * commit with the bytes its snapshot wrote (the sinks append their sealed output), then
 * waits for the next interval. One checkpoint at a time; a checkpoint that cannot complete
 * because its barrier can no longer pass (a source has ended) is abandoned at the end.
 *
 * Blob NODE.I, little endian: "SIB1", u64 length L of the operator's bytes, L bytes, u32
 * key groups K, then K times: u32 key group, u64 length M, M bytes of its snapshot.
 * Metadata: "SCM1", u32 nodes, then per node: u32 name length, name, u32 parallelism.
 *
 * Several processes. In a distributed run every process opens the same directory, shared
 * (strom/ckpt.h, "Shared checkpoints"), and writes the blobs of its own instances. Process
 * 0 is the committer: it alone begins, commits and abandons checkpoints and records the
 * end. Barriers cross processes inside batches, so alignment is as in one process; the
 * rest travels as control messages beside the batches (kinds in runtime_int.h, wire forms
 * in remote.c):
 *
 *   committer (process 0)                               member p (each other process)
 *                                             <------   HELLO(restored): resumed alike?
 *   the interval has passed: begin n (mkdir)
 *   BEGIN(n)                                  ------>   join n
 *   sources inject barrier n                            sources inject barrier n
 *   its instances' blobs of n written                   its instances' blobs of n written
 *                                             <------   BLOBS(n, export; in fragments)
 *   adopt; once its own blobs are durable and
 *   every member's adopted: MANIFEST, n complete
 *   COMMITTED(n)                              ------>   its sinks commit epoch n
 *   its sinks commit epoch n
 *     ... the sources end; every process's workers finish ...
 *   stop; end() of its instances                        stop; end() of its instances
 *                                             <------   DONE(0, or its failure)
 *   DONE from every member: abandon n if under way, FINISHED
 *
 * A member joins n on BEGIN(n) or on its first blob of n, whichever comes first (a barrier
 * may overtake BEGIN through a third process), and keeps its blobs for the operators'
 * commits until COMMITTED(n) (its blobs of n + 1 may come first). A process's checkpoint
 * thread is in one of three states: IDLE (none under way), WRITING (n under way), STOPPED
 * (the run ends). A message that comes too late to matter (the blobs of a checkpoint no
 * longer under way) is logged and dropped; one that breaks the protocol (BEGIN sent to the
 * committer, a second DONE) fails the job.
 *
 * The end. A process whose instances have all finished commits their last epoch as one
 * process does: it stops its checkpoint thread (a checkpoint under way is abandoned) and
 * calls end() on its instances; rows committed then that a later recovery produces again
 * are the same bytes, which the transactional files skip (io/txfile.h). The committer waits
 * for every member's DONE before it removes an abandoned checkpoint (a member could still
 * be writing into it) and before it records FINISHED, which so means that every process
 * finished and committed. A member's part ends with its DONE; it may then close its
 * sockets. A process that fails tells the others (ABORT, remote.c), so that none waits
 * for it; one that is killed is not noticed: the others wait, and are killed too (kill -9
 * of all, then a restart of all, is the recovery).
 *
 * Threads: the checkpoint thread owns the fields marked so in runtime_int.h; the receiver
 * thread hands it control messages through its queue; strom_rt__cp_end runs on the
 * driving thread after the checkpoint thread has stopped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crash.h"
#include "runtime/runtime_int.h"
#include "state/state.h"
#include "strom/ckpt.h"
#include "strom/error.h"

#define BLOB_MAGIC 0x31424953u /* "SIB1" */
#define META_MAGIC 0x314d4353u /* "SCM1" */
#define COMMITTER 0u           /* the process that commits */

static const char *const ctl_names[STROM_CTL_KINDS] = {"?",     "ABORT",     "HELLO", "BEGIN",
                                                       "BLOBS", "COMMITTED", "DONE"};

void strom_rt__cp_log(struct strom_cp *cp, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    if (!cp->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cp->log(cp->log_arg, msg);
}

static void notice(void *arg, int rc, const char *msg)
{
    (void)rc;
    strom_rt__cp_log(arg, "%s", msg);
}

static double now(void)
{
    return strom_rt__now();
}

int strom_job_set_checkpoints(struct strom_job *job, const struct strom_checkpoint_config *cc)
{
    struct strom_ckpt_config sc = {0};
    struct strom_cp *cp;
    char err[512] = "";
    int rc;

    if (!job || !cc || !cc->dir)
        return STROM_E_INVAL;
    if (job->started || job->cp)
        return strom_rt__set_error(job, STROM_E_BADSTATE, "checkpoints are set before start, once");
    if (!(cp = calloc(1, sizeof *cp)))
        return -ENOMEM;
    cp->interval = cc->interval > 0 ? cc->interval : 10;
    cp->log = cc->log;
    cp->log_arg = cc->log_arg;
    pthread_mutex_init(&cp->lock, NULL);
    pthread_cond_init(&cp->cond, NULL);
    job->cp = cp;
    job->cp_dir = cc->dir;
    sc.fingerprint = cc->fingerprint;
    sc.fingerprint_len = cc->fingerprint_len;
    sc.keep = cc->keep;
    sc.level = 1;
    sc.notice = notice;
    sc.notice_arg = cp;
    /* the processes of a distributed run share the directory */
    sc.procs = strom_rt__procs(job);
    sc.self = strom_rt__self(job);
    if ((rc = strom_ckpt_open(&cp->store, cc->dir, &sc, err, sizeof err)))
        return strom_rt__set_error(job, rc, "checkpoint directory %s: %s", cc->dir,
                                   err[0] ? err : strom_strerror(rc));
    rc = strom_ckpt_is_finished(cp->store, err, sizeof err);
    if (rc < 0)
        return strom_rt__set_error(job, rc, "checkpoint directory %s: %s", cc->dir,
                                   err[0] ? err : strom_strerror(rc));
    cp->finished_before = rc == 1;
    return 0;
}

int strom_job_finished_before(const struct strom_job *job)
{
    return job && job->cp && job->cp->finished_before;
}

void strom_job_checkpoint_stats(const struct strom_job *job, struct strom_checkpoint_stats *st)
{
    memset(st, 0, sizeof *st);
    if (job && job->cp)
        *st = job->cp->st;
}

const char *strom_ctx_checkpoint_dir(const struct strom_ctx *ctx)
{
    return ctx->job->cp ? ctx->job->cp_dir : NULL;
}

/* Before restore and before any thread starts: roles and per-instance and per-process
 * tables (barriers, and control messages, may come as soon as the threads run). */
int strom_rt__cp_prepare(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    unsigned np;

    if (!cp)
        return 0;
    cp->dist = job->remote != NULL;
    cp->self = strom_rt__self(job);
    cp->procs = np = strom_rt__procs(job);
    cp->committer = cp->self == COMMITTER;
    for (unsigned i = 0; i < job->n_all; i++)
        cp->n_local += strom_rt__local(job->all[i]);
    if (!(cp->rbytes = calloc(job->n_all, sizeof *cp->rbytes)) ||
        !(cp->rlen = calloc(job->n_all, sizeof *cp->rlen)) ||
        !(cp->spare = calloc(job->n_all, sizeof *cp->spare)) ||
        !(cp->done = calloc(np, sizeof *cp->done)) ||
        !(cp->proc_in = calloc(np, sizeof *cp->proc_in)) ||
        !(cp->frag = calloc(np, sizeof *cp->frag)) ||
        !(cp->frag_n = calloc(np, sizeof *cp->frag_n)))
        return -ENOMEM;
    return 0;
}

/* --- taking checkpoints ------------------------------------------------------------- */

/* Snapshot of one instance at barrier n, handed to the checkpoint thread. */
static int snapshot_instance(struct strom_ctx *ctx, uint64_t n)
{
    struct strom_job *job = ctx->job;
    struct strom_cp *cp = job->cp;
    const struct strom_operator *op = ctx->node->op;
    struct cp_blob *bl = calloc(1, sizeof *bl);
    double t0 = now();
    size_t at, kat;
    uint32_t k = 0;
    int rc;

    if (!bl)
        return -ENOMEM;
    bl->inst = ctx->global_idx;
    bl->n = n;
    pthread_mutex_lock(&cp->lock);
    bl->buf = cp->spare[bl->inst]; /* empty, with the room of the last blob */
    cp->spare[bl->inst] = (struct strom_buf){0};
    pthread_mutex_unlock(&cp->lock);
    rc = strom_buf_put_u32(&bl->buf, BLOB_MAGIC);
    at = bl->buf.len;
    if (!rc)
        rc = strom_buf_put_u64(&bl->buf, 0);
    bl->local_off = bl->buf.len;
    if (!rc && op->snapshot)
        rc = op->snapshot(ctx, n, &bl->buf);
    bl->local_len = bl->buf.len - bl->local_off;
    if (!rc) {
        uint64_t ll = bl->local_len;
        for (int b = 0; b < 8; b++)
            bl->buf.data[at + (size_t)b] = (uint8_t)(ll >> (8 * b));
    }
    kat = bl->buf.len;
    if (!rc)
        rc = strom_buf_put_u32(&bl->buf, 0);
    for (uint32_t kg = 0; ctx->ks && kg < job->cfg.key_groups && !rc; kg++) {
        size_t lat;
        uint64_t m;
        if (!strom_kstate_owns(ctx->ks, kg))
            continue;
        if ((rc = strom_buf_put_u32(&bl->buf, kg)))
            break;
        lat = bl->buf.len;
        if ((rc = strom_buf_put_u64(&bl->buf, 0)) ||
            (rc = strom_kstate_snapshot(ctx->ks, kg, &bl->buf)))
            break;
        m = bl->buf.len - lat - 8;
        for (int b = 0; b < 8; b++)
            bl->buf.data[lat + (size_t)b] = (uint8_t)(m >> (8 * b));
        k++;
    }
    if (rc) {
        strom_buf_release(&bl->buf);
        free(bl);
        return rc;
    }
    for (int b = 0; b < 4; b++)
        bl->buf.data[kat + (size_t)b] = (uint8_t)(k >> (8 * b));
    bl->seconds = now() - t0;
    pthread_mutex_lock(&cp->lock);
    if (cp->tail)
        cp->tail->next = bl;
    else
        cp->head = bl;
    cp->tail = bl;
    pthread_cond_signal(&cp->cond);
    pthread_mutex_unlock(&cp->lock);
    return 0;
}

int strom_rt__barrier(struct strom_ctx *ctx, uint64_t n)
{
    int rc;
    ctx->barrier_done = n;
    if ((rc = snapshot_instance(ctx, n)))
        return rc;
    return strom_rt__mark_barrier(ctx, n);
}

static void free_blob(struct cp_blob *b)
{
    if (!b)
        return;
    strom_buf_release(&b->buf);
    free(b);
}

static void drop_held(struct strom_cp *cp)
{
    while (cp->held) {
        struct cp_blob *b = cp->held;
        cp->held = b->next;
        free_blob(b);
    }
}

static void free_msg(struct cp_msg *m)
{
    if (m)
        strom_buf_release(&m->bytes);
    free(m);
}

static int meta_encode(struct strom_job *job, struct strom_buf *b)
{
    int rc = strom_buf_put_u32(b, META_MAGIC);
    if (!rc)
        rc = strom_buf_put_u32(b, job->n_nodes);
    for (unsigned i = 0; i < job->n_nodes && !rc; i++) {
        uint32_t nl = (uint32_t)strlen(job->nodes[i]->name);
        if (!(rc = strom_buf_put_u32(b, nl)) &&
            !(rc = strom_buf_append(b, job->nodes[i]->name, nl)))
            rc = strom_buf_put_u32(b, job->nodes[i]->par);
    }
    return rc;
}

/* The committer: m to every member. */
static int tell_members(struct strom_job *job, struct strom_ctl *m)
{
    struct strom_cp *cp = job->cp;
    int rc = 0;
    for (unsigned p = 0; p < cp->procs && !rc; p++)
        if (p != cp->self)
            rc = strom_rt__ctl_send(job, p, m);
    if (rc)
        strom_rt__set_error(job, rc, "checkpoint %" PRIu64 ": telling the other processes: %s",
                            m->n, strom_strerror(rc));
    return rc;
}

/* Checkpoint n is complete: the operators' commits with the bytes of their blobs of n. A
 * blob of an older checkpoint would be of one abandoned while the job went on, which the
 * protocol never does; it goes too. Blobs of newer ones stay. */
static int commit_held(struct strom_job *job, uint64_t n)
{
    struct strom_cp *cp = job->cp;
    struct cp_blob **pp = &cp->held;
    int rc = 0;

    while (*pp) {
        struct cp_blob *b = *pp;
        struct strom_ctx *c = job->all[b->inst];
        if (b->n > n) {
            pp = &b->next;
            continue;
        }
        *pp = b->next;
        if (!rc && b->n == n &&
            (rc = c->node->op->commit(c, n, b->buf.data + b->local_off, b->local_len)))
            strom_rt__set_error(job, rc,
                                "committing the output of '%s' at checkpoint %" PRIu64 ": %s",
                                c->node->name, n, strom_strerror(rc));
        free_blob(b);
    }
    return rc;
}

static void count_taken(struct strom_cp *cp, uint64_t n)
{
    cp->st.taken++;
    cp->st.last = n;
    cp->st.raw_bytes = cp->raw;
    cp->st.serialize_seconds = cp->serialize;
    cp->st.last_seconds = now() - cp->t_begin;
    if (cp->st.last_seconds > cp->st.max_seconds)
        cp->st.max_seconds = cp->st.last_seconds;
    strom_rt__cp_log(cp,
                     "checkpoint %" PRIu64 ": %.1f MB of state (serialized in %.2f s) in %.2f s", n,
                     (double)cp->raw / 1e6, cp->serialize, cp->st.last_seconds);
}

/* The committer (or the only process): every blob of cp->n is durable: the manifest, then
 * the members' and this process's commits. */
static int complete(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    struct strom_buf meta = {0};
    char err[512] = "";
    int rc = meta_encode(job, &meta);
    uint64_t n = cp->n;

    if (!rc)
        rc = strom_ckpt_commit(cp->txn, meta.data, meta.len, err, sizeof err);
    else
        strom_ckpt_abort(cp->txn);
    cp->txn = NULL;
    strom_buf_release(&meta);
    if (rc)
        return strom_rt__set_error(job, rc, "checkpoint %" PRIu64 ": %s", n,
                                   err[0] ? err : strom_strerror(rc));
    strom_crash_point("ckpt-manifest");
    if (cp->dist) {
        struct strom_ctl m = {.kind = STROM_CTL_COMMITTED, .n = n};
        if ((rc = tell_members(job, &m)))
            return rc;
    }
    if ((rc = commit_held(job, n)))
        return rc;
    count_taken(cp, n);
    cp->n = 0;
    cp->state = CP_IDLE;
    cp->next = now() + cp->interval;
    return 0;
}

/* A member: its blobs of cp->n are durable: their export to the committer, in fragments
 * that fit a control message; the checkpoint's files are the committer's from here. */
static int hand_in(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    struct strom_buf b = {0};
    char err[512] = "";
    size_t off = 0, room = STROM_CTL_MAX - STROM_CTL_BLOBS_HDR;
    int rc = strom_ckpt_export(cp->txn, &b, err, sizeof err);

    strom_ckpt_abort(cp->txn); /* joined: leaves the files */
    cp->txn = NULL;
    if (rc) {
        strom_buf_release(&b);
        return strom_rt__set_error(job, rc, "checkpoint %" PRIu64 ": %s", cp->n,
                                   err[0] ? err : strom_strerror(rc));
    }
    for (bool last = false; !last && !rc;) {
        size_t k = b.len - off < room ? b.len - off : room;
        struct strom_ctl m = {.kind = STROM_CTL_BLOBS, .n = cp->n, .data = b.data + off, .len = k};
        off += k;
        m.last = last = off == b.len;
        rc = strom_rt__ctl_send(job, COMMITTER, &m);
    }
    strom_buf_release(&b);
    if (rc)
        return strom_rt__set_error(job, rc, "checkpoint %" PRIu64 ": telling process %u: %s", cp->n,
                                   COMMITTER, strom_strerror(rc));
    cp->st.raw_bytes = cp->raw;
    cp->st.serialize_seconds = cp->serialize;
    cp->n = 0;
    cp->state = CP_IDLE;
    return 0;
}

/* After each step of checkpoint cp->n: done with this process's part? */
static int progress(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;

    if (cp->state != CP_WRITING || cp->acked < cp->n_local)
        return 0;
    if (!cp->committer)
        return hand_in(job);
    if (cp->dist && cp->procs_in < cp->procs - 1)
        return 0;
    return complete(job);
}

static void start_writing(struct strom_cp *cp, uint64_t n)
{
    cp->n = n;
    cp->acked = 0;
    cp->raw = 0;
    cp->serialize = 0;
    cp->t_begin = now();
    cp->state = CP_WRITING;
}

/* The committer: checkpoint n begins. */
static int begin(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    char err[512] = "";
    uint64_t n = cp->st.last + 1;
    int rc;

    /* numbers of checkpoints that were passed over (damaged) are not reused */
    while ((rc = strom_ckpt_begin(cp->store, n, &cp->txn, err, sizeof err)) == STROM_E_EXISTS ||
           rc == STROM_E_INVAL) {
        if (++n > cp->st.last + 1000)
            break;
    }
    if (rc)
        return strom_rt__set_error(job, rc, "checkpoint %" PRIu64 ": %s", n,
                                   err[0] ? err : strom_strerror(rc));
    start_writing(cp, n);
    if (cp->dist) {
        struct strom_ctl m = {.kind = STROM_CTL_BEGIN, .n = n};
        memset(cp->proc_in, 0, cp->procs * sizeof *cp->proc_in);
        cp->procs_in = 0;
        if ((rc = tell_members(job, &m)))
            return rc;
    }
    atomic_store(&job->barrier_req, n);
    return progress(job); /* a committer with no instance of its own */
}

/* A member: checkpoint n has begun (BEGIN, or the first blob of n). */
static int join(struct strom_job *job, uint64_t n)
{
    struct strom_cp *cp = job->cp;
    char err[512] = "";
    int rc;

    if (n <= cp->joined)
        return 0;                /* joined already */
    if (cp->state == CP_WRITING) /* the committer begins n only once n - 1 is complete */
        return strom_rt__set_error(job, STROM_E_BADSTATE,
                                   "checkpoint %" PRIu64 " began while this process was still "
                                   "writing checkpoint %" PRIu64,
                                   n, cp->n);
    if ((rc = strom_ckpt_join(cp->store, n, &cp->txn, err, sizeof err)))
        return strom_rt__set_error(job, rc, "checkpoint %" PRIu64 ": %s", n,
                                   err[0] ? err : strom_strerror(rc));
    cp->joined = n;
    start_writing(cp, n);
    /* only this thread raises it, so a plain store keeps it growing */
    if (atomic_load(&job->barrier_req) < n)
        atomic_store(&job->barrier_req, n);
    return progress(job); /* a member with no instance */
}

/* Writes one blob; a failure fails the job (the checkpoint is abandoned, and the complete
 * ones before it are untouched). */
static int write_blob(struct strom_job *job, struct cp_blob *b)
{
    struct strom_cp *cp = job->cp;
    struct strom_ctx *c = job->all[b->inst];
    char name[STROM_NAME_MAX + 16], err[512] = "";
    int rc;

    snprintf(name, sizeof name, "%s.%u", c->node->name, c->idx);
    rc = strom_ckpt_put(cp->txn, name, b->buf.data, b->buf.len, err, sizeof err);
    if (rc) {
        free_blob(b);
        return strom_rt__set_error(job, rc, "writing checkpoint %" PRIu64 ": %s", cp->n,
                                   err[0] ? err : strom_strerror(rc));
    }
    cp->raw += b->buf.len;
    if (b->seconds > cp->serialize)
        cp->serialize = b->seconds;
    strom_crash_point("ckpt-blob");
    /* keep only what commit needs, at the end of the list (commits go in this order) */
    if (c->node->op->commit) {
        struct cp_blob **pp = &cp->held;
        memmove(b->buf.data, b->buf.data + b->local_off, b->local_len);
        b->buf.len = b->local_len;
        b->local_off = 0;
        while (*pp)
            pp = &(*pp)->next;
        *pp = b;
    } else {
        pthread_mutex_lock(&cp->lock);
        strom_buf_release(&cp->spare[b->inst]);
        cp->spare[b->inst] = b->buf;
        cp->spare[b->inst].len = 0;
        pthread_mutex_unlock(&cp->lock);
        free(b);
    }
    return 0;
}

static int on_blob(struct strom_job *job, struct cp_blob *b)
{
    struct strom_cp *cp = job->cp;
    int rc;

    if (!cp->committer && (rc = join(job, b->n))) {
        free_blob(b);
        return rc;
    }
    if (cp->state != CP_WRITING || b->n != cp->n) { /* cannot happen: one at a time */
        strom_rt__cp_log(cp,
                         "a snapshot of '%s' for checkpoint %" PRIu64 " came while %s: "
                         "dropped",
                         job->all[b->inst]->node->name, b->n,
                         cp->n ? "another was under way" : "none was under way");
        free_blob(b);
        return 0;
    }
    if ((rc = write_blob(job, b)))
        return rc;
    cp->acked++;
    return progress(job);
}

/* The committer: a member's blobs of n. */
static int adopt(struct strom_job *job, const struct cp_msg *m)
{
    struct strom_cp *cp = job->cp;
    char err[512] = "";
    int rc;

    if (cp->state != CP_WRITING || m->n != cp->n || cp->proc_in[m->from]) {
        strom_rt__cp_log(cp,
                         "the blobs of process %u for checkpoint %" PRIu64 " came %s: "
                         "dropped",
                         m->from, m->n,
                         m->n == cp->n ? "twice" : "when it was no longer under way");
        return 0;
    }
    if ((rc = strom_ckpt_adopt(cp->txn, m->bytes.data, m->bytes.len, err, sizeof err)))
        return strom_rt__set_error(job, rc, "checkpoint %" PRIu64 ", the blobs of process %u: %s",
                                   m->n, m->from, err[0] ? err : strom_strerror(rc));
    cp->proc_in[m->from] = true;
    cp->procs_in++;
    return progress(job);
}

/* A member: checkpoint n is complete. */
static int committed(struct strom_job *job, uint64_t n)
{
    struct strom_cp *cp = job->cp;
    int rc = commit_held(job, n);
    if (rc)
        return rc;
    count_taken(cp, n);
    return 0;
}

static int on_msg(struct strom_job *job, const struct cp_msg *m)
{
    switch (m->kind) {
    case STROM_CTL_BEGIN:
        return join(job, m->n);
    case STROM_CTL_COMMITTED:
        return committed(job, m->n);
    case STROM_CTL_BLOBS:
        return adopt(job, m);
    default: /* strom_rt__cp_control queues no other kind */
        return STROM_E_CORRUPT;
    }
}

static void *cp_main(void *arg)
{
    struct strom_job *job = arg;
    struct strom_cp *cp = job->cp;
    int rc = 0;

    pthread_mutex_lock(&cp->lock);
    while (!cp->stop && !rc) {
        struct cp_msg *m = cp->mhead;
        struct cp_blob *b = cp->head;
        if (m) {
            if (!(cp->mhead = m->next))
                cp->mtail = NULL;
            pthread_mutex_unlock(&cp->lock);
            rc = on_msg(job, m);
            free_msg(m);
        } else if (b) {
            if (!(cp->head = b->next))
                cp->tail = NULL;
            pthread_mutex_unlock(&cp->lock);
            b->next = NULL;
            rc = on_blob(job, b);
        } else if (cp->committer && cp->state == CP_IDLE && now() >= cp->next) {
            pthread_mutex_unlock(&cp->lock);
            rc = begin(job);
        } else {
            /* a blob, a message, the next interval or stop: looked at every 50 ms at most */
            double wait = 0.05;
            if (cp->committer && cp->state == CP_IDLE && cp->next - now() < wait)
                wait = cp->next - now() > 0.001 ? cp->next - now() : 0.001;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)(wait * 1e9);
            ts.tv_sec += ts.tv_nsec / 1000000000;
            ts.tv_nsec %= 1000000000;
            pthread_cond_timedwait(&cp->cond, &cp->lock, &ts);
            continue;
        }
        pthread_mutex_lock(&cp->lock);
    }
    cp->state = CP_STOPPED;
    pthread_mutex_unlock(&cp->lock);
    if (rc)
        strom_rt__fail(job, rc);
    return NULL;
}

int strom_rt__cp_start(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    int rc;
    if (!cp)
        return 0;
    cp->next = now() + cp->interval;
    if (cp->dist && !cp->committer) {
        struct strom_ctl m = {.kind = STROM_CTL_HELLO, .n = cp->st.restored};
        if ((rc = strom_rt__ctl_send(job, COMMITTER, &m)))
            return strom_rt__set_error(job, rc, "cannot start the checkpoints: %s",
                                       strom_strerror(rc));
    }
    if ((rc = -pthread_create(&cp->thread, NULL, cp_main, job)))
        return strom_rt__set_error(job, rc, "cannot start the checkpoint thread: %s",
                                   strom_strerror(rc));
    cp->thread_started = true;
    return 0;
}

/* Hands m to the checkpoint thread (which frees it), or frees it once that has stopped. */
static void queue_msg(struct strom_cp *cp, struct cp_msg *m)
{
    pthread_mutex_lock(&cp->lock);
    if (cp->stop) {
        pthread_mutex_unlock(&cp->lock);
        free_msg(m);
        return;
    }
    if (cp->mtail)
        cp->mtail->next = m;
    else
        cp->mhead = m;
    cp->mtail = m;
    pthread_cond_signal(&cp->cond);
    pthread_mutex_unlock(&cp->lock);
}

/* The committer's receiver thread: a fragment of a member's export; the whole export to
 * the checkpoint thread once the last fragment has come. */
static int gather(struct strom_job *job, const struct strom_ctl *m)
{
    struct strom_cp *cp = job->cp;
    struct strom_buf *f = &cp->frag[m->from];
    /* the export of all this job's blobs cannot be longer */
    size_t max =
        64 + STROM_CKPT_FINGERPRINT_MAX + (size_t)job->n_all * (4 + STROM_CKPT_NAME_MAX + 24);
    struct cp_msg *cm;
    int rc;

    if (cp->frag_n[m->from] != m->n) { /* a new export; what an older one left is void */
        f->len = 0;
        cp->frag_n[m->from] = m->n;
    }
    if (m->len > max - f->len)
        return strom_rt__set_error(job, STROM_E_CORRUPT,
                                   "process %u: its blobs of checkpoint %" PRIu64 " take more "
                                   "than %zu bytes to list",
                                   m->from, m->n, max);
    if ((rc = strom_buf_append(f, m->data, m->len)))
        return rc;
    if (!m->last)
        return 0;
    if (!(cm = calloc(1, sizeof *cm)))
        return -ENOMEM;
    *cm = (struct cp_msg){.kind = STROM_CTL_BLOBS, .from = m->from, .n = m->n, .bytes = *f};
    *f = (struct strom_buf){0};
    cp->frag_n[m->from] = 0;
    queue_msg(cp, cm);
    return 0;
}

int strom_rt__cp_control(struct strom_job *job, const struct strom_ctl *m)
{
    struct strom_cp *cp = job->cp;
    bool to_committer =
        m->kind == STROM_CTL_HELLO || m->kind == STROM_CTL_BLOBS || m->kind == STROM_CTL_DONE;
    struct cp_msg *cm;

    if (!cp)
        return strom_rt__set_error(job, STROM_E_BADSTATE,
                                   "process %u sent a checkpoint message (%s) but this process "
                                   "takes no checkpoints: are all processes run alike?",
                                   m->from, ctl_names[m->kind]);
    if (to_committer != cp->committer || (!to_committer && m->from != COMMITTER))
        return strom_rt__set_error(job, STROM_E_CORRUPT,
                                   "a %s message from process %u to process %u breaks the "
                                   "checkpoint protocol (process %u commits)",
                                   ctl_names[m->kind], m->from, cp->self, COMMITTER);
    switch (m->kind) {
    case STROM_CTL_HELLO:
        if (m->n != cp->st.restored)
            return strom_rt__set_error(job, STROM_E_BADSTATE,
                                       "process %u resumed from checkpoint %" PRIu64
                                       ", process %u from %" PRIu64 " (0: none): do all "
                                       "processes see the same checkpoint directory?",
                                       m->from, m->n, cp->self, cp->st.restored);
        return 0;
    case STROM_CTL_DONE:
        pthread_mutex_lock(&cp->lock);
        if (cp->done[m->from]) {
            pthread_mutex_unlock(&cp->lock);
            return strom_rt__set_error(job, STROM_E_CORRUPT, "process %u reported its end twice",
                                       m->from);
        }
        cp->done[m->from] = true;
        cp->n_done++;
        if (m->code && !cp->peer_rc)
            cp->peer_rc = m->code;
        pthread_cond_broadcast(&cp->cond);
        pthread_mutex_unlock(&cp->lock);
        if (m->code)
            return strom_rt__set_error(job, m->code, "process %u failed: %s", m->from,
                                       strom_strerror(m->code));
        return 0;
    case STROM_CTL_BLOBS:
        return gather(job, m);
    default: /* BEGIN, COMMITTED */
        if (!(cm = calloc(1, sizeof *cm)))
            return -ENOMEM;
        *cm = (struct cp_msg){.kind = m->kind, .from = m->from, .n = m->n};
        queue_msg(cp, cm);
        return 0;
    }
}

bool strom_rt__cp_expecting(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    bool waiting;
    if (!cp || !cp->dist || !cp->committer)
        return false;
    pthread_mutex_lock(&cp->lock);
    waiting = cp->n_done < cp->procs - 1;
    pthread_mutex_unlock(&cp->lock);
    return waiting;
}

/* Stops the checkpoint thread and drops what it had not handled yet. */
static void stop_thread(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;

    pthread_mutex_lock(&cp->lock);
    cp->stop = true;
    pthread_cond_broadcast(&cp->cond);
    pthread_mutex_unlock(&cp->lock);
    if (cp->thread_started) {
        pthread_join(cp->thread, NULL);
        cp->thread_started = false;
    }
    cp->state = CP_STOPPED;
    while (cp->head) {
        struct cp_blob *b = cp->head;
        cp->head = b->next;
        free_blob(b);
    }
    cp->tail = NULL;
    while (cp->mhead) {
        struct cp_msg *m = cp->mhead;
        cp->mhead = m->next;
        free_msg(m);
    }
    cp->mtail = NULL;
    drop_held(cp);
}

/* The job finished and its output is final: record it. */
static void record_finished(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    char err[512] = "";
    int rc = strom_ckpt_mark_finished(cp->store, err, sizeof err);
    if (rc) {
        strom_rt__set_error(job, rc, "recording the end of the job in %s: %s", job->cp_dir,
                            err[0] ? err : strom_strerror(rc));
        strom_rt__fail(job, rc);
    }
}

/* The committer: until every member has reported its end, or the job has failed. */
static bool wait_members(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    bool all;

    pthread_mutex_lock(&cp->lock);
    while (!(all = cp->n_done == cp->procs - 1) && !atomic_load(&job->stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L; /* stop is no condition: looked at every 50 ms */
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&cp->cond, &cp->lock, &ts);
    }
    all = all && !cp->peer_rc;
    pthread_mutex_unlock(&cp->lock);
    return all;
}

void strom_rt__cp_end(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    bool ok;

    stop_thread(job); /* first: it may still fail the job */
    ok = atomic_load(&job->result) == 0;
    for (unsigned i = 0; i < job->n_all && ok; i++)
        ok = !strom_rt__local(job->all[i]) || job->all[i]->finished;
    /* a member only leaves its joined checkpoint; the committer of a distributed run
     * removes an abandoned one only once the members are done with it (below) */
    if (!cp->dist || !cp->committer) {
        strom_ckpt_abort(cp->txn);
        cp->txn = NULL;
    }
    for (unsigned i = 0; i < job->n_all && ok; i++) {
        struct strom_ctx *c = job->all[i];
        int rc;
        if (strom_rt__local(c) && c->node->op->end && (rc = c->node->op->end(c))) {
            ok = false;
            if (!c->msg_set)
                strom_rt__set_error(job, rc, "end of '%s' (instance %u) failed: %s", c->node->name,
                                    c->idx, strom_strerror(rc));
            strom_rt__fail(job, rc);
        }
    }
    if (!cp->committer) {
        struct strom_ctl m = {.kind = STROM_CTL_DONE, .code = ok ? 0 : atomic_load(&job->result)};
        if (m.code > 0 || (!ok && !m.code))
            m.code = STROM_E_BADSTATE;
        if (strom_rt__ctl_send(job, COMMITTER, &m))
            strom_rt__fail(job, -ENOMEM);
        strom_rt__ctl_done(job);
        return;
    }
    /* members may still be writing into an abandoned checkpoint until they are done */
    if (cp->dist && !wait_members(job))
        ok = false;
    strom_ckpt_abort(cp->txn);
    cp->txn = NULL;
    if (ok && !atomic_load(&job->result))
        record_finished(job);
    if (cp->dist)
        strom_rt__ctl_done(job);
}

void strom_rt__cp_free(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    if (!cp)
        return;
    stop_thread(job);
    strom_ckpt_abort(cp->txn);
    strom_ckpt_close(cp->store);
    for (unsigned i = 0; cp->rbytes && i < job->n_all; i++)
        free(cp->rbytes[i]);
    free(cp->rbytes);
    free(cp->rlen);
    for (unsigned i = 0; cp->spare && i < job->n_all; i++)
        strom_buf_release(&cp->spare[i]);
    free(cp->spare);
    for (unsigned p = 0; cp->frag && p < cp->procs; p++)
        strom_buf_release(&cp->frag[p]);
    free(cp->frag);
    free(cp->frag_n);
    free(cp->done);
    free(cp->proc_in);
    pthread_mutex_destroy(&cp->lock);
    pthread_cond_destroy(&cp->cond);
    free(cp);
    job->cp = NULL;
}
