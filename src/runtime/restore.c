/*
 * runtime/restore.c: recovery, before the threads start: the newest complete checkpoint's
 * state back into this process's instances.
 *
 * The newest complete checkpoint's blobs (their format is in checkpoint.c) are read back,
 * every key group restored into the instance that owns it now (parallelism may differ
 * between runs: key groups are the unit), and each instance's operator bytes kept for its
 * open (strom_ctx_restored); those need the same parallelism as before. Blobs are read,
 * decompressed and restored on as many threads as the job has.
 *
 * In a distributed run every process restores its own instances: their operator bytes, and
 * the key groups they own now, wherever those were written (the directory is shared, and
 * placement may change between runs). So a process reads every blob of each operator that
 * has an instance here and skips the others. Every process finds the newest complete
 * checkpoint by itself; the committer checks that all found the same one (HELLO,
 * checkpoint.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crash.h"
#include "runtime/runtime_int.h"
#include "state/state.h"
#include "strom/ckpt.h"
#include "strom/error.h"

#define BLOB_MAGIC 0x31424953u /* "SIB1" */
#define META_MAGIC 0x314d4353u /* "SCM1" */

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
        if (strom_reader_u32(&r, &nl) || nl == 0 || nl >= STROM_NAME_MAX || take(&r, nl, &name) ||
            strom_reader_u32(&r, &nodes[i].par) || nodes[i].par == 0) {
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
    struct meta_node *nodes; /* what the checkpoint holds */
    struct {
        struct strom_node *nd;
        uint32_t j, k;
    } * tasks; /* one per blob */
    unsigned ntasks;
    _Atomic unsigned next;
    pthread_mutex_t *inst_lock; /* per instance now (job->all); taken alone */
    pthread_mutex_t lock;       /* guards rc, err, raw */
    int rc;
    char err[640];
    uint64_t raw;
};

/* Restores one blob of node n (written by instance `old` of it). */
static int restore_blob(struct restore *rs, struct strom_node *n, uint32_t old_par, unsigned old,
                        const uint8_t *b, size_t len, char *err, size_t errlen)
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
        if (strom_rt__local(n->inst[old])) {
            if (!(cp->rbytes[gi] = malloc((size_t)ll)))
                return -ENOMEM;
            memcpy(cp->rbytes[gi], local, (size_t)ll);
            cp->rlen[gi] = (size_t)ll;
        }
    }
    for (uint32_t i = 0; i < k; i++) {
        uint32_t kg;
        uint64_t m;
        const uint8_t *kb;
        struct strom_ctx *to;
        if (strom_reader_u32(&r, &kg) || kg >= job->cfg.key_groups || strom_reader_u64(&r, &m) ||
            m > r.left || take(&r, (size_t)m, &kb))
            return snprintf(err, errlen, "bad key group entry %u", i), STROM_E_CORRUPT;
        if (!n->op->record_size)
            return snprintf(err, errlen, "'%s' has no keyed state but the snapshot has", n->name),
                   STROM_E_CORRUPT;
        to = n->inst[n->owner[kg]];
        if (!strom_rt__local(to))
            continue; /* another process restores it */
        pthread_mutex_lock(&rs->inst_lock[to->global_idx]);
        strom_kstate_drop(to->ks, kg); /* owned, empty: the restore brings it back */
        rc = strom_kstate_restore(to->ks, kg, kb, (size_t)m, err, errlen);
        pthread_mutex_unlock(&rs->inst_lock[to->global_idx]);
        if (rc)
            return rc;
    }
    if (r.left)
        return snprintf(err, errlen, "%zu bytes after the last key group", r.left), STROM_E_CORRUPT;
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
    double t0 = strom_rt__now();
    int rc;

    if (!cp)
        return 0;
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
        bool here = false;
        for (unsigned k = 0; k < nd->par && !here; k++)
            here = strom_rt__local(nd->inst[k]);
        while (j < count && strcmp(rs.nodes[j].name, nd->name))
            j++;
        if (j == count) {
            rc = strom_rt__set_error(job, STROM_E_CORRUPT,
                                     "checkpoint %" PRIu64 " in %s has no operator '%s'", rs.n,
                                     job->cp_dir, nd->name);
            break;
        }
        for (uint32_t k = 0; here && k < rs.nodes[j].par && rs.ntasks < ntasks; k++) {
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
        strom_rt__cp_log(
            cp, "resuming from checkpoint %" PRIu64 " in %s (%.1f MB of state restored in %.2f s)",
            rs.n, job->cp_dir, (double)rs.raw / 1e6, strom_rt__now() - t0);
        strom_crash_point("restored");
    }
    return rc;
}
