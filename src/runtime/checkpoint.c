/*
 * runtime/checkpoint.c: aligned checkpoints, their background writer, and recovery.
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
 * Recovery (before the threads start): the newest complete checkpoint's blobs are read
 * back, every key group restored into the instance that owns it now (parallelism may
 * differ between runs: key groups are the unit), and each instance's operator bytes kept
 * for its open (strom_ctx_restored); those need the same parallelism as before.
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

struct cp_blob {
    struct cp_blob *next;
    unsigned inst; /* index in job->all */
    uint64_t n;
    struct strom_buf buf;
    size_t local_off, local_len; /* the operator's bytes inside buf */
    double seconds;              /* the instance's time serializing it */
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
    struct cp_blob *head, *tail; /* guarded by lock */
    bool stop;                   /* guarded by lock */
    /* the checkpoint thread's own */
    struct strom_ckpt_txn *txn;
    uint64_t n; /* in progress, 0 if none */
    unsigned acked;
    bool txn_failed;
    double t_begin;
    double serialize; /* the longest time an instance spent serializing, this checkpoint */
    uint64_t raw;
    struct cp_blob **held; /* per instance: its blob of n, kept for commit */
    /* per instance: the buffer of its last blob, written and kept for the next one, so
     * that a large state is not copied into fresh memory (page faults, realloc copies)
     * at every checkpoint; guarded by lock */
    struct strom_buf *spare;
    bool finished_before;
    struct strom_checkpoint_stats st;
    /* restore */
    uint8_t **rbytes;
    size_t *rlen;
};

static void cp_log(struct strom_cp *cp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cp_log(struct strom_cp *cp, const char *fmt, ...)
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
    cp_log(arg, "%s", msg);
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

uint64_t strom_ctx_restored(const struct strom_ctx *ctx, const uint8_t **bytes, size_t *len)
{
    struct strom_cp *cp = ctx->job->cp;
    unsigned i = ctx->global_idx;
    if (bytes)
        *bytes = cp && cp->rbytes && cp->rbytes[i] ? cp->rbytes[i] : (const uint8_t *)"";
    if (len)
        *len = cp && cp->rlen ? cp->rlen[i] : 0;
    return cp ? cp->st.restored : 0;
}

/* --- recovery ---------------------------------------------------------------------- */

/* Points *p at the next n bytes of r and skips them. */
static int take(struct strom_reader *r, size_t n, const uint8_t **p)
{
    if (n > r->left)
        return STROM_E_CORRUPT;
    *p = r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

struct meta_node {
    char name[STROM_NAME_MAX];
    uint32_t par;
};

static int parse_meta(const uint8_t *m, size_t len, struct meta_node **out, uint32_t *count)
{
    struct strom_reader r = {m, len};
    uint32_t magic, k, nl;
    struct meta_node *nodes;
    int rc;

    if ((rc = strom_reader_u32(&r, &magic)) || magic != META_MAGIC ||
        (rc = strom_reader_u32(&r, &k)) || k > 4096)
        return STROM_E_CORRUPT;
    if (!(nodes = calloc(k ? k : 1, sizeof *nodes)))
        return -ENOMEM;
    for (uint32_t i = 0; i < k; i++) {
        const uint8_t *name;
        if (strom_reader_u32(&r, &nl) || nl == 0 || nl >= STROM_NAME_MAX ||
            take(&r, nl, &name) || strom_reader_u32(&r, &nodes[i].par) ||
            nodes[i].par == 0) {
            free(nodes);
            return STROM_E_CORRUPT;
        }
        memcpy(nodes[i].name, name, nl);
    }
    *out = nodes;
    *count = k;
    return 0;
}

/* Restore runs on several threads, one blob at a time each: blobs are independent, except
 * that two of them may hold key groups for the same instance now (after a change of
 * parallelism or threads): a lock per instance serializes those. */
struct restore {
    struct strom_job *job;
    uint64_t n;
    struct meta_node *nodes;     /* what the checkpoint holds */
    struct { struct strom_node *nd; uint32_t j, k; } *tasks; /* one per blob */
    unsigned ntasks;
    _Atomic unsigned next;
    pthread_mutex_t *inst_lock;  /* per instance now (job->all); taken alone */
    pthread_mutex_t lock;        /* guards rc, err, raw */
    int rc;
    char err[640];
    uint64_t raw;
};

/* Restores one blob of node n (written by instance `old` of it). */
static int restore_blob(struct restore *rs, struct strom_node *n, uint32_t old_par,
                        unsigned old, const uint8_t *b, size_t len, char *err, size_t errlen)
{
    struct strom_job *job = rs->job;
    struct strom_reader r = {b, len};
    uint32_t magic, k;
    uint64_t ll;
    const uint8_t *local;
    int rc;

    if (strom_reader_u32(&r, &magic) || magic != BLOB_MAGIC || strom_reader_u64(&r, &ll) ||
        ll > r.left || take(&r, (size_t)ll, &local) || strom_reader_u32(&r, &k))
        return snprintf(err, errlen, "bad snapshot header"), STROM_E_CORRUPT;
    if (ll) {
        struct strom_cp *cp = job->cp;
        unsigned gi;
        if (old_par != n->par)
            return snprintf(err, errlen,
                            "'%s' ran with parallelism %u and has instance state; it needs "
                            "the same parallelism to resume, not %u",
                            n->name, old_par, n->par),
                   STROM_E_PARALLELISM;
        gi = n->inst[old]->global_idx; /* one blob per old instance: no other task writes gi */
        if (!(cp->rbytes[gi] = malloc((size_t)ll)))
            return -ENOMEM;
        memcpy(cp->rbytes[gi], local, (size_t)ll);
        cp->rlen[gi] = (size_t)ll;
    }
    for (uint32_t i = 0; i < k; i++) {
        uint32_t kg;
        uint64_t m;
        const uint8_t *kb;
        struct strom_ctx *to;
        if (strom_reader_u32(&r, &kg) || kg >= job->cfg.key_groups ||
            strom_reader_u64(&r, &m) || m > r.left || take(&r, (size_t)m, &kb))
            return snprintf(err, errlen, "bad key group entry %u", i), STROM_E_CORRUPT;
        if (!n->op->record_size)
            return snprintf(err, errlen, "'%s' has no keyed state but the snapshot has",
                            n->name),
                   STROM_E_CORRUPT;
        to = n->inst[n->owner[kg]];
        pthread_mutex_lock(&rs->inst_lock[to->global_idx]);
        strom_kstate_drop(to->ks, kg); /* owned, empty: the restore brings it back */
        rc = strom_kstate_restore(to->ks, kg, kb, (size_t)m, err, errlen);
        pthread_mutex_unlock(&rs->inst_lock[to->global_idx]);
        if (rc)
            return rc;
    }
    if (r.left)
        return snprintf(err, errlen, "%zu bytes after the last key group", r.left),
               STROM_E_CORRUPT;
    return 0;
}

/* A restore thread: blobs until none is left or one has failed. */
static void *restore_main(void *arg)
{
    struct restore *rs = arg;
    struct strom_job *job = rs->job;
    unsigned t;

    while ((t = atomic_fetch_add(&rs->next, 1)) < rs->ntasks) {
        struct strom_node *nd = rs->tasks[t].nd;
        uint32_t par = rs->nodes[rs->tasks[t].j].par, k = rs->tasks[t].k;
        char name[STROM_NAME_MAX + 16], err[512] = "";
        uint8_t *b = NULL;
        size_t len = 0;
        int rc, failed;

        pthread_mutex_lock(&rs->lock);
        failed = rs->rc;
        pthread_mutex_unlock(&rs->lock);
        if (failed)
            break;
        snprintf(name, sizeof name, "%s.%u", nd->name, k);
        rc = strom_ckpt_read(job->cp->store, rs->n, name, &b, &len, err, sizeof err);
        if (!rc)
            rc = restore_blob(rs, nd, par, k, b, len, err, sizeof err);
        free(b);
        pthread_mutex_lock(&rs->lock);
        rs->raw += len;
        if (rc && !rs->rc) {
            rs->rc = rc;
            snprintf(rs->err, sizeof rs->err, "%s: %s", name, err[0] ? err : strom_strerror(rc));
        }
        pthread_mutex_unlock(&rs->lock);
    }
    return NULL;
}

static double now(void)
{
    return strom_rt__now();
}

/* Every blob of checkpoint rs->n, on up to as many threads as the job has. */
static int restore_all(struct restore *rs)
{
    struct strom_job *job = rs->job;
    unsigned nt = job->cfg.threads < rs->ntasks ? job->cfg.threads : rs->ntasks, started = 0;
    pthread_t th[64];
    int rc = 0;

    if (nt > 64)
        nt = 64;
    if (!(rs->inst_lock = calloc(job->n_all, sizeof *rs->inst_lock)))
        return -ENOMEM;
    for (unsigned i = 0; i < job->n_all; i++)
        pthread_mutex_init(&rs->inst_lock[i], NULL);
    pthread_mutex_init(&rs->lock, NULL);
    /* this thread restores too; the others are a bonus (a failure to start one is not) */
    for (unsigned i = 1; i < nt; i++)
        if (!pthread_create(&th[started], NULL, restore_main, rs))
            started++;
    restore_main(rs);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    rc = rs->rc;
    pthread_mutex_destroy(&rs->lock);
    for (unsigned i = 0; i < job->n_all; i++)
        pthread_mutex_destroy(&rs->inst_lock[i]);
    free(rs->inst_lock);
    return rc;
}

int strom_rt__cp_restore(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    struct restore rs = {.job = job};
    uint32_t count = 0;
    uint8_t *meta = NULL;
    size_t meta_len = 0, ntasks = 0;
    char err[512] = "";
    double t0 = now();
    int rc;

    if (!cp)
        return 0;
    if (!(cp->rbytes = calloc(job->n_all, sizeof *cp->rbytes)) ||
        !(cp->rlen = calloc(job->n_all, sizeof *cp->rlen)) ||
        !(cp->held = calloc(job->n_all, sizeof *cp->held)) ||
        !(cp->spare = calloc(job->n_all, sizeof *cp->spare)))
        return -ENOMEM;
    rc = strom_ckpt_latest(cp->store, &rs.n, &meta, &meta_len, err, sizeof err);
    if (rc == STROM_E_NOTFOUND)
        return 0;
    if (rc)
        return strom_rt__set_error(job, rc, "checkpoint directory %s: %s", job->cp_dir,
                                   err[0] ? err : strom_strerror(rc));
    if ((rc = parse_meta(meta, meta_len, &rs.nodes, &count))) {
        free(meta);
        return strom_rt__set_error(job, rc, "checkpoint %" PRIu64 " in %s: bad metadata", rs.n,
                                   job->cp_dir);
    }
    free(meta);
    for (uint32_t j = 0; j < count; j++)
        ntasks += rs.nodes[j].par;
    if (!(rs.tasks = calloc(ntasks ? ntasks : 1, sizeof *rs.tasks))) {
        free(rs.nodes);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < job->n_nodes && !rc; i++) {
        struct strom_node *nd = job->nodes[i];
        uint32_t j = 0;
        while (j < count && strcmp(rs.nodes[j].name, nd->name))
            j++;
        if (j == count) {
            rc = strom_rt__set_error(job, STROM_E_CORRUPT,
                                     "checkpoint %" PRIu64 " in %s has no operator '%s'", rs.n,
                                     job->cp_dir, nd->name);
            break;
        }
        for (uint32_t k = 0; k < rs.nodes[j].par && rs.ntasks < ntasks; k++) {
            rs.tasks[rs.ntasks].nd = nd;
            rs.tasks[rs.ntasks].j = j;
            rs.tasks[rs.ntasks++].k = k;
        }
    }
    if (!rc && (rc = restore_all(&rs)))
        strom_rt__set_error(job, rc, "checkpoint %" PRIu64 " in %s, %s", rs.n, job->cp_dir,
                            rs.err[0] ? rs.err : strom_strerror(rc));
    free(rs.tasks);
    free(rs.nodes);
    if (!rc) {
        cp->st.restored = cp->st.last = rs.n;
        cp_log(cp, "resuming from checkpoint %" PRIu64 " in %s (%.1f MB of state restored in %.2f s)",
               rs.n, job->cp_dir, (double)rs.raw / 1e6, now() - t0);
        strom_crash_point("restored");
    }
    return rc;
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

static void drop_held(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    for (unsigned i = 0; i < job->n_all; i++) {
        free_blob(cp->held[i]);
        cp->held[i] = NULL;
    }
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

/* Every instance's blob of cp->n is durable: commit, then the operators' commits. */
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
    if (rc) {
        drop_held(job);
        return strom_rt__set_error(job, rc, "checkpoint %" PRIu64 ": %s", n,
                                   err[0] ? err : strom_strerror(rc));
    }
    strom_crash_point("ckpt-manifest");
    for (unsigned i = 0; i < job->n_all && !rc; i++) {
        struct strom_ctx *c = job->all[i];
        struct cp_blob *b = cp->held[i];
        if (c->node->op->commit && b &&
            (rc = c->node->op->commit(c, n, b->buf.data + b->local_off, b->local_len)))
            strom_rt__set_error(job, rc, "committing the output of '%s' at checkpoint %" PRIu64
                                ": %s", c->node->name, n, strom_strerror(rc));
    }
    drop_held(job);
    if (rc)
        return rc;
    cp->st.taken++;
    cp->st.last = n;
    cp->st.raw_bytes = cp->raw;
    cp->st.serialize_seconds = cp->serialize;
    cp->st.last_seconds = now() - cp->t_begin;
    if (cp->st.last_seconds > cp->st.max_seconds)
        cp->st.max_seconds = cp->st.last_seconds;
    cp_log(cp, "checkpoint %" PRIu64 ": %.1f MB of state (serialized in %.2f s) in %.2f s", n,
           (double)cp->raw / 1e6, cp->serialize, cp->st.last_seconds);
    cp->n = 0;
    return 0;
}

static int begin(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    char err[512] = "";
    uint64_t n = cp->st.last + 1;
    int rc;

    /* numbers of checkpoints that were passed over (damaged) are not reused */
    while ((rc = strom_ckpt_begin(cp->store, n, &cp->txn, err, sizeof err)) ==
               STROM_E_EXISTS ||
           rc == STROM_E_INVAL) {
        if (++n > cp->st.last + 1000)
            break;
    }
    if (rc)
        return strom_rt__set_error(job, rc, "checkpoint %" PRIu64 ": %s", n,
                                   err[0] ? err : strom_strerror(rc));
    cp->n = n;
    cp->acked = 0;
    cp->raw = 0;
    cp->serialize = 0;
    cp->txn_failed = false;
    cp->t_begin = now();
    atomic_store(&job->barrier_req, n);
    return 0;
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
    /* keep only what commit needs */
    if (c->node->op->commit) {
        memmove(b->buf.data, b->buf.data + b->local_off, b->local_len);
        b->buf.len = b->local_len;
        b->local_off = 0;
        cp->held[b->inst] = b;
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

static void *cp_main(void *arg)
{
    struct strom_job *job = arg;
    struct strom_cp *cp = job->cp;
    double next = now() + cp->interval;
    int rc = 0;

    pthread_mutex_lock(&cp->lock);
    while (!cp->stop && !rc) {
        struct cp_blob *b = cp->head;
        if (!b) {
            double t = now();
            if (!cp->n && t >= next) {
                pthread_mutex_unlock(&cp->lock);
                rc = begin(job);
                pthread_mutex_lock(&cp->lock);
                continue;
            }
            /* a blob, the next interval or stop: looked at every 50 ms at most */
            double wait = cp->n || next - t > 0.05 ? 0.05 : next - t;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)(wait * 1e9);
            ts.tv_sec += ts.tv_nsec / 1000000000;
            ts.tv_nsec %= 1000000000;
            pthread_cond_timedwait(&cp->cond, &cp->lock, &ts);
            continue;
        }
        cp->head = b->next;
        if (!cp->head)
            cp->tail = NULL;
        pthread_mutex_unlock(&cp->lock);
        b->next = NULL;
        if (b->n != cp->n) {
            free_blob(b); /* cannot happen: one checkpoint at a time */
        } else if (!(rc = write_blob(job, b)) && ++cp->acked == job->n_all) {
            rc = complete(job);
            next = now() + cp->interval;
        }
        pthread_mutex_lock(&cp->lock);
    }
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
    if ((rc = -pthread_create(&cp->thread, NULL, cp_main, job)))
        return strom_rt__set_error(job, rc, "cannot start the checkpoint thread: %s",
                                   strom_strerror(rc));
    cp->thread_started = true;
    return 0;
}

/* After the workers have exited: stop the checkpoint thread and abandon an unfinished
 * checkpoint. */
void strom_rt__cp_stop(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;

    if (!cp)
        return;
    if (cp->thread_started) {
        pthread_mutex_lock(&cp->lock);
        cp->stop = true;
        pthread_cond_signal(&cp->cond);
        pthread_mutex_unlock(&cp->lock);
        pthread_join(cp->thread, NULL);
        cp->thread_started = false;
    }
    while (cp->head) {
        struct cp_blob *b = cp->head;
        cp->head = b->next;
        free_blob(b);
    }
    cp->tail = NULL;
    if (cp->txn)
        strom_ckpt_abort(cp->txn);
    cp->txn = NULL;
    if (cp->held)
        drop_held(job);
}

/* The job finished and its output is final: record it. */
int strom_rt__cp_finished(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    char err[512] = "";
    int rc = strom_ckpt_mark_finished(cp->store, err, sizeof err);
    if (rc) {
        strom_rt__set_error(job, rc, "recording the end of the job in %s: %s", job->cp_dir,
                            err[0] ? err : strom_strerror(rc));
        strom_rt__fail(job, rc);
    }
    return rc;
}

void strom_rt__cp_free(struct strom_job *job)
{
    struct strom_cp *cp = job->cp;
    if (!cp)
        return;
    strom_rt__cp_stop(job);
    strom_ckpt_close(cp->store);
    for (unsigned i = 0; cp->rbytes && i < job->n_all; i++)
        free(cp->rbytes[i]);
    free(cp->rbytes);
    free(cp->rlen);
    free(cp->held);
    for (unsigned i = 0; cp->spare && i < job->n_all; i++)
        strom_buf_release(&cp->spare[i]);
    free(cp->spare);
    pthread_mutex_destroy(&cp->lock);
    pthread_cond_destroy(&cp->cond);
    free(cp);
    job->cp = NULL;
}
