/*
 * apps/debs14/source.c: the DEBS source operator: the input file, through the reader of
 * parse.h, to events; refused lines to rejects.csv.
 *
 * It runs with parallelism 1 (one file, read in order) and emits, on every output edge:
 *   - every accepted load row: key = house, time = ts, v[0] = household << 32 | plug,
 *     v[1] = load in mW. Work rows are counted and dropped: they move nothing (spec).
 *   - watermarks that mark whole seconds: when the first load row of a new second T
 *     arrives, the previous second T' is complete: the watermark T' (all rows <= T' are
 *     out), then T - 1 if there was a gap; at the end, the last second. So the watermarks
 *     an operator sees are exactly the distinct load seconds and the ends of gaps, and
 *     between two of them it receives the rows of one second. Query 2 evaluates at the
 *     distinct seconds, Query 1 reaches its update points b <= w + 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps/debs14/debs14.h"
#include "apps/debs14/parse.h"
#include "strom/error.h"

#define BATCH_ROWS 4096

struct src_local {
    struct strom_debs_reader *reader;
    struct strom_debs_row rows[BATCH_ROWS];
    int64_t cur; /* the second of the last load row, -1 before the first */
};

static void on_reject(void *arg, uint64_t line_no, int reason, const char *line, size_t len)
{
    struct strom_debs_source *src = arg;
    if (src->rejects && strom_debs_format_reject(src->rejects, line_no, reason, line, len))
        src->reject_write_failed = 1;
}

static void publish(struct strom_debs_source *src, const struct strom_debs_reader *r)
{
    const struct strom_debs_stats *st = strom_debs_reader_stats(r);
    atomic_store_explicit(&src->bytes, st->bytes, memory_order_relaxed);
    atomic_store_explicit(&src->lines, st->lines, memory_order_relaxed);
}

static int src_open(struct strom_ctx *ctx)
{
    struct strom_debs_source *src = strom_ctx_arg(ctx);
    struct strom_debs_reader_conf rc_conf = {
        .fd = src->fd, .t0 = src->t0, .on_reject = on_reject, .arg = src};
    struct src_local *l;
    char err[256] = "";
    int rc;

    if (strom_ctx_parallelism(ctx) != 1)
        return strom_ctx_fail(ctx, STROM_E_PARALLELISM,
                              "the DEBS source reads one file in order: parallelism 1");
    if (!(l = calloc(1, sizeof *l)))
        return -ENOMEM;
    l->cur = -1;
    if ((rc = strom_debs_reader_new(&l->reader, &rc_conf, err, sizeof err))) {
        free(l);
        return strom_ctx_fail(ctx, rc, "input: %s", err[0] ? err : strom_strerror(rc));
    }
    strom_ctx_set_local(ctx, l);
    return 0;
}

static int src_produce(struct strom_ctx *ctx)
{
    struct strom_debs_source *src = strom_ctx_arg(ctx);
    struct src_local *l = strom_ctx_local(ctx);
    struct strom_debs_batch b = {.rows = l->rows, .cap = BATCH_ROWS};
    int rc = strom_debs_reader_next(l->reader, &b);

    if (rc < 0)
        return strom_ctx_fail(ctx, rc, "input: %s", strom_debs_reader_errmsg(l->reader));
    if (src->reject_write_failed)
        return strom_ctx_fail(ctx, -EIO, "writing rejects.csv failed");
    for (size_t i = 0; i < b.n; i++) {
        const struct strom_debs_row *row = &l->rows[i];
        int64_t ts = row->ts;
        int e = 0;
        if (row->property != 1)
            continue;
        if (ts > l->cur) {
            if (src->triggers) /* this row reaches update points and completes a second */
                strom_debs_triggers_add(src->triggers, ts, strom_debs_now_ns());
            /* the second l->cur is complete; then the gap before ts, if any */
            if (l->cur >= 0)
                e = strom_emit_watermark(ctx, l->cur);
            if (!e)
                e = strom_emit_watermark(ctx, ts - 1);
            l->cur = ts;
        }
        struct strom_event ev = {.key = row->house, .time = ts,
                                 .v = {(int64_t)((uint64_t)row->household << 32 | row->plug),
                                       (int64_t)row->value, 0}};
        if (e || (e = strom_emit(ctx, &ev)))
            return e;
        src->load_rows++;
    }
    publish(src, l->reader);
    if (rc == 1) {
        src->stats = *strom_debs_reader_stats(l->reader);
        if (src->triggers) /* the end reaches the final update point and second */
            strom_debs_triggers_add(src->triggers, INT64_MAX, strom_debs_now_ns());
        if (l->cur >= 0 && (rc = strom_emit_watermark(ctx, l->cur)))
            return rc;
        return STROM_END;
    }
    return 0;
}

static void src_close(struct strom_ctx *ctx)
{
    struct src_local *l = strom_ctx_local(ctx);
    if (!l)
        return;
    strom_debs_reader_free(l->reader);
    free(l);
    strom_ctx_set_local(ctx, NULL);
}

const struct strom_operator strom_debs_source_op = {
    .kind = "debs14-source",
    .open = src_open,
    .produce = src_produce,
    .close = src_close,
};
