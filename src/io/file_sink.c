/*
 * io/file_sink.c: the ordered file sink (strom/sink.h).
 *
 * Events wait in a buffer until the watermark passes their time; then they are sorted by
 * (time, key, v[0], v[1], v[2]) and written. Sorting whole watermark steps makes the file a
 * function of the set of events, not of the order in which parallel upstream instances
 * delivered them. Memory: the buffer holds the events of one watermark step.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/txfile.h"
#include "strom/error.h"
#include "strom/sink.h"

#define SNAP_VERSION 1u

struct sink_local {
    struct strom_txfile out;
    struct strom_event *buf;
    size_t n, cap;
};

/* Snapshot: u32 version, u64 rows, then the sealed part: u64 part, before, total, then
 * u64 E and E buffered events (u64 key, time, v[0], v[1], v[2]). */
struct snap {
    uint64_t rows, part, before, total, n_ev;
    struct strom_reader ev; /* the events' bytes */
};

static int snap_decode(const uint8_t *b, size_t len, struct snap *s)
{
    struct strom_reader r = {b, len};
    uint32_t v;
    if (strom_reader_u32(&r, &v) || v != SNAP_VERSION)
        return STROM_E_VERSION;
    if (strom_reader_u64(&r, &s->rows) || strom_reader_u64(&r, &s->part) ||
        strom_reader_u64(&r, &s->before) || strom_reader_u64(&r, &s->total) ||
        strom_reader_u64(&r, &s->n_ev) || s->before > s->total || s->n_ev > r.left / 40 ||
        r.left != s->n_ev * 40)
        return STROM_E_CORRUPT;
    s->ev = r;
    return 0;
}

/* The events a snapshot held back, into the buffer. */
static int restore_events(struct sink_local *l, struct snap *sn)
{
    if (!sn->n_ev)
        return 0;
    if (!(l->buf = malloc((size_t)sn->n_ev * sizeof *l->buf)))
        return -ENOMEM;
    l->cap = (size_t)sn->n_ev;
    for (uint64_t i = 0; i < sn->n_ev; i++) {
        uint64_t x[5];
        for (int k = 0; k < 5; k++)
            if (strom_reader_u64(&sn->ev, &x[k]))
                return STROM_E_CORRUPT;
        l->buf[l->n++] = (struct strom_event){.key = x[0], .time = (int64_t)x[1],
                                              .v = {(int64_t)x[2], (int64_t)x[3], (int64_t)x[4]}};
    }
    return 0;
}

/* Where this job's transactional outputs keep their parts; NULL without checkpoints. */
static char *parts_dir(struct strom_ctx *ctx)
{
    const char *d = strom_ctx_checkpoint_dir(ctx);
    return d ? strom_txfile_parts_dir(d) : NULL;
}

static int cmp_event(const void *pa, const void *pb)
{
    const struct strom_event *a = pa, *b = pb;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->v[0] != b->v[0])
        return a->v[0] < b->v[0] ? -1 : 1;
    if (a->v[1] != b->v[1])
        return a->v[1] < b->v[1] ? -1 : 1;
    if (a->v[2] != b->v[2])
        return a->v[2] < b->v[2] ? -1 : 1;
    return 0;
}

static int sink_open(struct strom_ctx *ctx)
{
    struct strom_file_sink *cfg = strom_ctx_arg(ctx);
    struct sink_local *l;

    if (!cfg || !cfg->path || !cfg->format)
        return strom_ctx_fail(ctx, STROM_E_INVAL, "sink '%s': needs a path and a format",
                              strom_ctx_name(ctx));
    if (strom_ctx_parallelism(ctx) != 1)
        return strom_ctx_fail(ctx, STROM_E_PARALLELISM,
                              "sink '%s' writes one file and needs parallelism 1, not %u",
                              strom_ctx_name(ctx), strom_ctx_parallelism(ctx));
    l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    strom_ctx_set_local(ctx, l);
    cfg->rows = 0;
    if (strom_ctx_checkpoint_dir(ctx)) {
        char err[300] = "", *parts = parts_dir(ctx);
        const uint8_t *sb;
        size_t slen;
        uint64_t n = strom_ctx_restored(ctx, &sb, &slen);
        struct snap sn;
        int rc;
        if (!parts)
            return -ENOMEM;
        if (mkdir(parts, 0777) && errno != EEXIST) {
            rc = -errno;
            strom_ctx_fail(ctx, rc, "sink '%s': cannot create %s: %s", strom_ctx_name(ctx),
                           parts, strerror(-rc));
            free(parts);
            return rc;
        }
        if (n && (rc = snap_decode(sb, slen, &sn))) {
            free(parts);
            return strom_ctx_fail(ctx, rc, "sink '%s': checkpoint %" PRIu64 " does not decode",
                                  strom_ctx_name(ctx), n);
        }
        if (n) {
            rc = strom_txfile_resume(&l->out, cfg->path, parts, strom_ctx_name(ctx), n, sn.part,
                                     sn.before, sn.total, err, sizeof err);
            cfg->rows = sn.rows;
            if (!rc && (rc = restore_events(l, &sn))) {
                free(parts);
                return strom_ctx_fail(ctx, rc, "sink '%s': checkpoint %" PRIu64
                                      ": bad buffered rows", strom_ctx_name(ctx), n);
            }
        } else {
            rc = strom_txfile_open(&l->out, cfg->path, parts, strom_ctx_name(ctx), err,
                                   sizeof err);
        }
        free(parts);
        if (rc)
            return strom_ctx_fail(ctx, rc, "sink '%s': %s", strom_ctx_name(ctx), err);
        return 0;
    }
    {
        char err[300] = "";
        int rc = strom_txfile_open(&l->out, cfg->path, NULL, NULL, err, sizeof err);
        if (rc)
            return strom_ctx_fail(ctx, rc, "sink '%s': %s", strom_ctx_name(ctx), err);
    }
    return 0;
}

static int sink_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    struct sink_local *l = strom_ctx_local(ctx);
    int64_t wm = strom_ctx_watermark(ctx);
    /* An event at or before the watermark would be written out of order: an upstream
     * operator emitted behind a watermark it had already passed on. */
    for (size_t i = 0; i < n; i++)
        if (ev[i].time <= wm)
            return strom_ctx_fail(ctx, STROM_E_OPERATOR,
                                  "sink '%s': event at time %lld arrived after watermark "
                                  "%lld (an operator emitted behind its watermark)",
                                  strom_ctx_name(ctx), (long long)ev[i].time, (long long)wm);
    if (l->n + n > l->cap) {
        size_t cap = l->cap ? l->cap : 4096;
        while (cap < l->n + n)
            cap *= 2;
        struct strom_event *nb = realloc(l->buf, cap * sizeof *nb);
        if (!nb)
            return -ENOMEM;
        l->buf = nb;
        l->cap = cap;
    }
    memcpy(l->buf + l->n, ev, n * sizeof *ev);
    l->n += n;
    return 0;
}

/* A failed write, named with its file and cause (ENOSPC: "No space left on device"). */
static int write_error(struct strom_ctx *ctx, const struct strom_txfile *t, int e)
{
    struct strom_file_sink *cfg = strom_ctx_arg(ctx);
    if (!e)
        e = EIO;
    if (t->parts)
        return strom_ctx_fail(ctx, -e, "sink '%s': writing the uncommitted rows of %s in %s: %s",
                              strom_ctx_name(ctx), cfg->path, t->parts, strerror(e));
    return strom_ctx_fail(ctx, -e, "sink '%s': writing %s: %s", strom_ctx_name(ctx), cfg->path,
                          strerror(e));
}

/* Sort and write every buffered event with time <= upto. */
static int write_upto(struct strom_ctx *ctx, int64_t upto)
{
    struct strom_file_sink *cfg = strom_ctx_arg(ctx);
    struct sink_local *l = strom_ctx_local(ctx);
    size_t k = 0;
    int rc;

    for (; k < l->n && l->buf[k].time > upto; k++)
        ;
    if (k == l->n)
        return 0; /* nothing to write yet: no sort */
    k = 0;
    qsort(l->buf, l->n, sizeof *l->buf, cmp_event);
    errno = 0;
    for (; k < l->n && l->buf[k].time <= upto; k++)
        if ((rc = cfg->format(l->out.f, &l->buf[k], cfg->format_arg))) {
            if (ferror(l->out.f))
                return write_error(ctx, &l->out, errno);
            return strom_ctx_fail(ctx, rc, "sink '%s': formatting a row: %s",
                                  strom_ctx_name(ctx), strom_strerror(rc));
        }
    cfg->rows += k;
    memmove(l->buf, l->buf + k, (l->n - k) * sizeof *l->buf);
    l->n -= k;
    if (ferror(l->out.f))
        return write_error(ctx, &l->out, errno);
    return 0;
}

static int sink_watermark(struct strom_ctx *ctx, int64_t wm)
{
    return write_upto(ctx, wm);
}

static int sink_finish(struct strom_ctx *ctx)
{
    struct sink_local *l = strom_ctx_local(ctx);
    char err[300] = "";
    int rc = write_upto(ctx, STROM_TIME_MAX);
    if (rc)
        return rc;
    if ((rc = strom_txfile_finish(&l->out, err, sizeof err)))
        return strom_ctx_fail(ctx, rc, "sink '%s': %s", strom_ctx_name(ctx), err);
    return 0;
}

/* At barrier n: the rows up to the watermark are written (the barrier follows a
 * watermark); those past it (an operator may emit ahead of its watermark, as Q1 does for
 * the next update point) go into the snapshot. */
static int sink_snapshot(struct strom_ctx *ctx, uint64_t n, struct strom_buf *out)
{
    struct strom_file_sink *cfg = strom_ctx_arg(ctx);
    struct sink_local *l = strom_ctx_local(ctx);
    uint64_t part, before, total;
    char err[300] = "";
    int rc;
    if ((rc = strom_txfile_seal(&l->out, n, &part, &before, &total, err, sizeof err)))
        return strom_ctx_fail(ctx, rc, "sink '%s': %s", strom_ctx_name(ctx), err);
    if ((rc = strom_buf_put_u32(out, SNAP_VERSION)) || (rc = strom_buf_put_u64(out, cfg->rows)) ||
        (rc = strom_buf_put_u64(out, part)) || (rc = strom_buf_put_u64(out, before)) ||
        (rc = strom_buf_put_u64(out, total)) || (rc = strom_buf_put_u64(out, l->n)))
        return rc;
    for (size_t i = 0; i < l->n && !rc; i++) {
        const struct strom_event *e = &l->buf[i];
        if (!(rc = strom_buf_put_u64(out, e->key)) &&
            !(rc = strom_buf_put_u64(out, (uint64_t)e->time)) &&
            !(rc = strom_buf_put_u64(out, (uint64_t)e->v[0])) &&
            !(rc = strom_buf_put_u64(out, (uint64_t)e->v[1])))
            rc = strom_buf_put_u64(out, (uint64_t)e->v[2]);
    }
    return rc;
}

static int sink_commit(struct strom_ctx *ctx, uint64_t n, const uint8_t *b, size_t len)
{
    struct strom_file_sink *cfg = strom_ctx_arg(ctx);
    char err[300] = "", *parts;
    struct snap sn;
    int rc = snap_decode(b, len, &sn);
    (void)n;
    if (rc)
        return rc;
    if (!(parts = parts_dir(ctx)))
        return -ENOMEM;
    rc = strom_txfile_commit_part(cfg->path, parts, strom_ctx_name(ctx), sn.part, sn.before,
                                  sn.total, err, sizeof err);
    free(parts);
    if (rc)
        return strom_ctx_fail(ctx, rc, "sink '%s': %s", strom_ctx_name(ctx), err);
    return 0;
}

static int sink_end(struct strom_ctx *ctx)
{
    struct sink_local *l = strom_ctx_local(ctx);
    char err[300] = "";
    int rc = strom_txfile_end(&l->out, err, sizeof err);
    if (rc)
        return strom_ctx_fail(ctx, rc, "sink '%s': %s", strom_ctx_name(ctx), err);
    return 0;
}

static void sink_close(struct strom_ctx *ctx)
{
    struct sink_local *l = strom_ctx_local(ctx);
    if (!l)
        return;
    strom_txfile_close(&l->out);
    free(l->buf);
    free(l);
    strom_ctx_set_local(ctx, NULL);
}

const struct strom_operator strom_file_sink_op = {
    .kind = "file-sink",
    .open = sink_open,
    .process = sink_process,
    .on_watermark = sink_watermark,
    .finish = sink_finish,
    .close = sink_close,
    .snapshot = sink_snapshot,
    .commit = sink_commit,
    .end = sink_end,
};
