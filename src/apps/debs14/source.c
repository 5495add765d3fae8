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
 *
 * Checkpoints: a barrier follows one of those watermarks, so it comes just before a load
 * row; the snapshot holds the input's position at that row (its byte offset and the
 * reader's counts before it), the watermark state, and the rejects file's sealed part
 * (rejects.csv is transactional like the sinks' files, io/txfile.h). A restart seeks back
 * to that row and goes on as if it had never stopped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/debs14/debs14.h"
#include "apps/debs14/parse.h"
#include "io/txfile.h"
#include "strom/error.h"

#define BATCH_ROWS 4096
#define SNAP_VERSION 1u

/* A refused line, held until the rows before it are placed (see below). */
struct held {
    uint64_t line_no;
    int reason;
    size_t off, len; /* in hbuf */
};

struct src_local {
    struct strom_debs_source *cfg;
    struct strom_debs_reader *reader;
    struct strom_debs_row rows[BATCH_ROWS];
    int64_t cur; /* the second of the last load row, -1 before the first */
    int64_t wm;  /* the last watermark emitted */
    struct strom_txfile rej;
    int has_rej;
    /* Refused lines come from the reader a batch ahead of the rows; they go to rejects.csv
     * just before the first row after them, so that at a checkpoint barrier (which comes
     * before a row) the file holds exactly the lines before that row. */
    struct held *held;
    size_t n_held, cap_held, next_held;
    char *hbuf;
    size_t hlen, hcap;
    int hfail;
    /* the input's stats just before the row being handled: the replay position */
    struct strom_debs_stats pos;
};

static void on_reject(void *arg, uint64_t line_no, int reason, const char *line, size_t len)
{
    struct src_local *l = arg;
    if (l->n_held == l->cap_held) {
        size_t cap = l->cap_held ? 2 * l->cap_held : 256;
        struct held *nh = realloc(l->held, cap * sizeof *nh);
        if (!nh) {
            l->hfail = 1;
            return;
        }
        l->held = nh;
        l->cap_held = cap;
    }
    if (l->hlen + len > l->hcap) {
        size_t cap = l->hcap ? 2 * l->hcap : 65536;
        while (cap < l->hlen + len)
            cap *= 2;
        char *nb = realloc(l->hbuf, cap);
        if (!nb) {
            l->hfail = 1;
            return;
        }
        l->hbuf = nb;
        l->hcap = cap;
    }
    memcpy(l->hbuf + l->hlen, line, len);
    l->held[l->n_held++] = (struct held){line_no, reason, l->hlen, len};
    l->hlen += len;
}

/* Writes the held refused lines before line `before` (all: UINT64_MAX). */
static int flush_held(struct strom_ctx *ctx, struct src_local *l, uint64_t before)
{
    for (; l->next_held < l->n_held && l->held[l->next_held].line_no < before; l->next_held++) {
        const struct held *h = &l->held[l->next_held];
        l->pos.rejected++;
        l->pos.by_reason[h->reason]++;
        if (l->has_rej &&
            strom_debs_format_reject(l->rej.f, h->line_no, h->reason, l->hbuf + h->off, h->len))
            return strom_ctx_fail(ctx, -EIO, "writing %s failed", l->cfg->rejects_path);
    }
    if (l->next_held == l->n_held)
        l->n_held = l->next_held = l->hlen = 0;
    return 0;
}

static void publish(struct strom_debs_source *src, const struct strom_debs_reader *r)
{
    const struct strom_debs_stats *st = strom_debs_reader_stats(r);
    atomic_store_explicit(&src->bytes, st->bytes, memory_order_relaxed);
    atomic_store_explicit(&src->lines, st->lines, memory_order_relaxed);
}

/* Snapshot, little endian: u32 version, the position (u64 bytes, lines, accepted,
 * accepted_load, rejected, by_reason[REASON_COUNT]; u32 max_ts), i64 cur, i64 wm, u64
 * load_rows, u32 has_rej, then the rejects' sealed part: u64 part, before, total. */
struct snap {
    struct strom_debs_stats pos;
    int64_t cur, wm;
    uint64_t load_rows;
    uint32_t has_rej;
    uint64_t part, before, total;
};

static int snap_decode(const uint8_t *b, size_t len, struct snap *s)
{
    struct strom_reader r = {b, len};
    uint32_t v, mt;
    uint64_t x[5 + STROM_DEBS_REASON_COUNT];
    int rc = strom_reader_u32(&r, &v);
    if (rc || v != SNAP_VERSION)
        return STROM_E_VERSION;
    for (size_t i = 0; i < sizeof x / sizeof *x && !rc; i++)
        rc = strom_reader_u64(&r, &x[i]);
    if (rc || (rc = strom_reader_u32(&r, &mt)))
        return STROM_E_CORRUPT;
    memset(s, 0, sizeof *s);
    s->pos.bytes = x[0];
    s->pos.lines = x[1];
    s->pos.accepted = x[2];
    s->pos.accepted_load = x[3];
    s->pos.rejected = x[4];
    for (int k = 0; k < STROM_DEBS_REASON_COUNT; k++)
        s->pos.by_reason[k] = x[5 + k];
    s->pos.max_ts = mt;
    {
        uint64_t c, w;
        if (strom_reader_u64(&r, &c) || strom_reader_u64(&r, &w) ||
            strom_reader_u64(&r, &s->load_rows) || strom_reader_u32(&r, &s->has_rej) ||
            strom_reader_u64(&r, &s->part) || strom_reader_u64(&r, &s->before) ||
            strom_reader_u64(&r, &s->total) || r.left)
            return STROM_E_CORRUPT;
        s->cur = (int64_t)c;
        s->wm = (int64_t)w;
    }
    if (s->before > s->total || s->pos.lines != s->pos.accepted + s->pos.rejected)
        return STROM_E_CORRUPT;
    return 0;
}

static int src_snapshot(struct strom_ctx *ctx, uint64_t n, struct strom_buf *out)
{
    struct src_local *l = strom_ctx_local(ctx);
    uint64_t part = 0, before = 0, total = 0;
    char err[300] = "";
    int rc = 0;

    if (l->has_rej && (rc = strom_txfile_seal(&l->rej, n, &part, &before, &total, err,
                                              sizeof err)))
        return strom_ctx_fail(ctx, rc, "%s", err);
    rc = strom_buf_put_u32(out, SNAP_VERSION);
    uint64_t x[] = {l->pos.bytes, l->pos.lines, l->pos.accepted, l->pos.accepted_load,
                    l->pos.rejected};
    for (size_t i = 0; i < sizeof x / sizeof *x && !rc; i++)
        rc = strom_buf_put_u64(out, x[i]);
    for (int k = 0; k < STROM_DEBS_REASON_COUNT && !rc; k++)
        rc = strom_buf_put_u64(out, l->pos.by_reason[k]);
    if (!rc)
        rc = strom_buf_put_u32(out, l->pos.max_ts);
    uint64_t y[] = {(uint64_t)l->cur, (uint64_t)l->wm, l->cfg->load_rows};
    for (size_t i = 0; i < sizeof y / sizeof *y && !rc; i++)
        rc = strom_buf_put_u64(out, y[i]);
    if (!rc)
        rc = strom_buf_put_u32(out, (uint32_t)l->has_rej);
    uint64_t z[] = {part, before, total};
    for (size_t i = 0; i < sizeof z / sizeof *z && !rc; i++)
        rc = strom_buf_put_u64(out, z[i]);
    return rc;
}

/* Where this job's transactional outputs keep their parts; NULL without checkpoints. */
static char *parts_dir(struct strom_ctx *ctx)
{
    const char *d = strom_ctx_checkpoint_dir(ctx);
    return d ? strom_txfile_parts_dir(d) : NULL;
}

static int src_commit(struct strom_ctx *ctx, uint64_t n, const uint8_t *b, size_t len)
{
    struct strom_debs_source *src = strom_ctx_arg(ctx);
    struct snap s;
    char err[300] = "", *parts;
    int rc = snap_decode(b, len, &s);
    (void)n;
    if (rc || !s.has_rej)
        return rc;
    if (!(parts = parts_dir(ctx)))
        return -ENOMEM;
    rc = strom_txfile_commit_part(src->rejects_path, parts, "rejects", s.part, s.before,
                                  s.total, err, sizeof err);
    free(parts);
    if (rc)
        return strom_ctx_fail(ctx, rc, "%s", err);
    return 0;
}

static int src_open(struct strom_ctx *ctx)
{
    struct strom_debs_source *src = strom_ctx_arg(ctx);
    struct src_local *l;
    char err[300] = "", *parts = NULL;
    const uint8_t *sb;
    size_t slen;
    uint64_t n = strom_ctx_restored(ctx, &sb, &slen);
    struct snap s;
    int rc;

    if (strom_ctx_parallelism(ctx) != 1)
        return strom_ctx_fail(ctx, STROM_E_PARALLELISM,
                              "the DEBS source reads one file in order: parallelism 1");
    if (!(l = calloc(1, sizeof *l)))
        return -ENOMEM;
    strom_ctx_set_local(ctx, l); /* close frees what open made, whatever fails */
    l->cfg = src;
    l->cur = -1;
    l->wm = INT64_MIN;
    struct strom_debs_reader_conf rc_conf = {
        .fd = src->fd, .t0 = src->t0, .on_reject = on_reject, .arg = l};
    if (strom_ctx_checkpoint_dir(ctx)) {
        if (!(parts = parts_dir(ctx)))
            return -ENOMEM;
        if (mkdir(parts, 0777) && errno != EEXIST) {
            rc = -errno;
            strom_ctx_fail(ctx, rc, "cannot create %s: %s", parts, strerror(-rc));
            free(parts);
            return rc;
        }
    }
    if (n) {
        if ((rc = snap_decode(sb, slen, &s))) {
            free(parts);
            return strom_ctx_fail(ctx, rc, "checkpoint %" PRIu64 ": the source's position "
                                  "does not decode", n);
        }
        if (lseek(src->fd, (off_t)s.pos.bytes, SEEK_SET) != (off_t)s.pos.bytes) {
            rc = -errno;
            free(parts);
            return strom_ctx_fail(ctx, rc, "cannot go back to byte %" PRIu64 " of the input: %s",
                                  s.pos.bytes, strerror(-rc));
        }
        l->pos = s.pos;
        l->cur = s.cur;
        l->wm = s.wm;
        src->load_rows = s.load_rows;
    }
    if ((rc = strom_debs_reader_new(&l->reader, &rc_conf, err, sizeof err))) {
        free(parts);
        return strom_ctx_fail(ctx, rc, "input: %s", err[0] ? err : strom_strerror(rc));
    }
    if (n)
        strom_debs_reader_resume(l->reader, &l->pos);
    if (src->rejects_path) {
        if (n && s.has_rej)
            rc = strom_txfile_resume(&l->rej, src->rejects_path, parts, "rejects", n, s.part,
                                     s.before, s.total, err, sizeof err);
        else
            rc = strom_txfile_open(&l->rej, src->rejects_path, parts, "rejects", err,
                                   sizeof err);
        if (rc) {
            free(parts);
            return strom_ctx_fail(ctx, rc, "%s", err);
        }
        l->has_rej = 1;
    }
    free(parts);
    return 0;
}

static int emit_wm(struct strom_ctx *ctx, struct src_local *l, int64_t w)
{
    if (w <= l->wm)
        return 0; /* emitted before a restart */
    l->wm = w;
    return strom_emit_watermark(ctx, w);
}

static int src_produce(struct strom_ctx *ctx)
{
    struct strom_debs_source *src = strom_ctx_arg(ctx);
    struct src_local *l = strom_ctx_local(ctx);
    struct strom_debs_batch b = {.rows = l->rows, .cap = BATCH_ROWS};
    int rc = strom_debs_reader_next(l->reader, &b);

    if (rc < 0)
        return strom_ctx_fail(ctx, rc, "input: %s", strom_debs_reader_errmsg(l->reader));
    if (l->hfail)
        return strom_ctx_fail(ctx, -ENOMEM, "holding refused lines");
    for (size_t i = 0; i < b.n; i++) {
        const struct strom_debs_row *row = &l->rows[i];
        int64_t ts = row->ts;
        int e;
        if (l->n_held && (e = flush_held(ctx, l, row->line_no)))
            return e;
        l->pos.lines = row->line_no - 1;
        l->pos.bytes = row->offset;
        if (row->property == 1) {
            if (ts > l->cur) {
                if (src->triggers) /* this row reaches update points, completes a second */
                    strom_debs_triggers_add(src->triggers, ts, strom_debs_now_ns());
                /* the second l->cur is complete; then the gap before ts, if any (a
                 * checkpoint barrier may follow either: the position is this row) */
                if (l->cur >= 0 && (e = emit_wm(ctx, l, l->cur)))
                    return e;
                if ((e = emit_wm(ctx, l, ts - 1)))
                    return e;
                l->cur = ts;
            }
            struct strom_event ev = {.key = row->house, .time = ts,
                                     .v = {(int64_t)((uint64_t)row->household << 32 | row->plug),
                                           (int64_t)row->value, 0}};
            if ((e = strom_emit(ctx, &ev)))
                return e;
            src->load_rows++;
        }
        /* work rows are dropped (they move nothing), but count for the position */
        l->pos.lines = row->line_no;
        l->pos.accepted++;
        l->pos.accepted_load += row->property;
        l->pos.max_ts = row->ts;
    }
    publish(src, l->reader);
    if (rc == 1) {
        if ((rc = flush_held(ctx, l, UINT64_MAX)))
            return rc;
        src->stats = *strom_debs_reader_stats(l->reader);
        l->pos = src->stats; /* a barrier after the last watermark: nothing left to read */
        if (src->triggers) /* the end reaches the final update point and second */
            strom_debs_triggers_add(src->triggers, INT64_MAX, strom_debs_now_ns());
        if (l->cur >= 0 && (rc = emit_wm(ctx, l, l->cur)))
            return rc;
        return STROM_END;
    }
    return flush_held(ctx, l, UINT64_MAX); /* the next rows come after them all */
}

static int src_finish(struct strom_ctx *ctx)
{
    struct src_local *l = strom_ctx_local(ctx);
    char err[300] = "";
    int rc;
    if (l->has_rej && (rc = strom_txfile_finish(&l->rej, err, sizeof err)))
        return strom_ctx_fail(ctx, rc, "%s", err);
    return 0;
}

static int src_end(struct strom_ctx *ctx)
{
    struct src_local *l = strom_ctx_local(ctx);
    char err[300] = "";
    int rc;
    if (l->has_rej && (rc = strom_txfile_end(&l->rej, err, sizeof err)))
        return strom_ctx_fail(ctx, rc, "%s", err);
    return 0;
}

static void src_close(struct strom_ctx *ctx)
{
    struct src_local *l = strom_ctx_local(ctx);
    if (!l)
        return;
    strom_debs_reader_free(l->reader);
    strom_txfile_close(&l->rej);
    free(l->held);
    free(l->hbuf);
    free(l);
    strom_ctx_set_local(ctx, NULL);
}

const struct strom_operator strom_debs_source_op = {
    .kind = "debs14-source",
    .open = src_open,
    .produce = src_produce,
    .finish = src_finish,
    .close = src_close,
    .snapshot = src_snapshot,
    .commit = src_commit,
    .end = src_end,
};
