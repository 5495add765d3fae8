/*
 * io/file_sink.c: the ordered file sink (strom/sink.h).
 *
 * Events wait in a buffer until the watermark passes their time; then they are sorted by
 * (time, key, v[0], v[1], v[2]) and written. Sorting whole watermark steps makes the file a
 * function of the set of events, not of the order in which parallel upstream instances
 * delivered them. Memory: the buffer holds the events of one watermark step.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strom/error.h"
#include "strom/sink.h"

struct sink_local {
    FILE *f;
    struct strom_event *buf;
    size_t n, cap;
};

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
    l->f = fopen(cfg->path, "w");
    if (!l->f) {
        int rc = -errno;
        free(l);
        return strom_ctx_fail(ctx, rc, "sink '%s': cannot create %s: %s", strom_ctx_name(ctx),
                              cfg->path, strom_strerror(rc));
    }
    cfg->rows = 0;
    strom_ctx_set_local(ctx, l);
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
    for (; k < l->n && l->buf[k].time <= upto; k++)
        if ((rc = cfg->format(l->f, &l->buf[k], cfg->format_arg)))
            return strom_ctx_fail(ctx, rc, "sink '%s': formatting a row: %s",
                                  strom_ctx_name(ctx), strom_strerror(rc));
    cfg->rows += k;
    memmove(l->buf, l->buf + k, (l->n - k) * sizeof *l->buf);
    l->n -= k;
    if (ferror(l->f))
        return strom_ctx_fail(ctx, -EIO, "sink '%s': writing %s failed", strom_ctx_name(ctx),
                              cfg->path);
    return 0;
}

static int sink_watermark(struct strom_ctx *ctx, int64_t wm)
{
    return write_upto(ctx, wm);
}

static int sink_finish(struct strom_ctx *ctx)
{
    struct strom_file_sink *cfg = strom_ctx_arg(ctx);
    struct sink_local *l = strom_ctx_local(ctx);
    int rc = write_upto(ctx, STROM_TIME_MAX);
    if (rc)
        return rc;
    rc = fflush(l->f) ? -errno : ferror(l->f) ? -EIO : 0;
    if (rc)
        return strom_ctx_fail(ctx, rc, "sink '%s': writing %s failed: %s", strom_ctx_name(ctx),
                              cfg->path, strom_strerror(rc));
    return 0;
}

static void sink_close(struct strom_ctx *ctx)
{
    struct sink_local *l = strom_ctx_local(ctx);
    if (!l)
        return;
    if (l->f)
        fclose(l->f);
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
};
