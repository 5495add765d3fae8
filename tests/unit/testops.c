/* tests/unit/testops.c: operators shared by the runtime tests (see testops.h). */
#include "testops.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

struct strom_event tgen_event(const struct tgen *g, uint64_t i)
{
    struct strom_event ev = {.key = (i * 7919u + i / 13) % g->keys,
                             .time = (int64_t)i / g->per_tick,
                             .v = {(int64_t)(i % 97), 0}};
    return ev;
}

static int gen_open(struct strom_ctx *ctx)
{
    uint64_t *next = malloc(sizeof *next);
    if (!next)
        return -ENOMEM;
    *next = strom_ctx_instance(ctx);
    strom_ctx_set_local(ctx, next);
    return 0;
}

static int gen_produce(struct strom_ctx *ctx)
{
    struct tgen *g = strom_ctx_arg(ctx);
    uint64_t *next = strom_ctx_local(ctx), p = strom_ctx_parallelism(ctx);
    uint64_t gate = atomic_load(&g->gate);
    int k = 0, rc;

    for (; k < 500 && *next < g->events && (!gate || *next < gate); k++) {
        struct strom_event ev = tgen_event(g, *next);
        if ((rc = strom_emit(ctx, &ev)))
            return rc;
        *next += p;
    }
    atomic_fetch_add(&g->emitted, (uint64_t)k);
    if (*next >= g->events)
        return STROM_END;
    if (!k) {
        sched_yield(); /* held at the gate */
        return 0;
    }
    /* this instance's next event may share the last one's time, never an earlier one */
    return strom_emit_watermark(ctx, tgen_event(g, *next).time - 1);
}

static void gen_close(struct strom_ctx *ctx)
{
    free(strom_ctx_local(ctx));
}

const struct strom_operator tgen_op = {
    .kind = "test-gen", .open = gen_open, .produce = gen_produce, .close = gen_close};

struct wsum {
    int64_t sum, count;
};

static int wsum_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t end = ev[i].time / TWSUM_WINDOW * TWSUM_WINDOW + TWSUM_WINDOW - 1;
        int rc, created;
        struct wsum *s = strom_state_get(ctx, ev[i].key, (uint64_t)end, 1, &created, &rc);
        if (!s)
            return rc;
        s->sum += ev[i].v[0];
        s->count++;
        if (created && (rc = strom_timer_set(ctx, ev[i].key, (uint64_t)end, end)))
            return rc;
    }
    return 0;
}

static int wsum_timer(struct strom_ctx *ctx, uint64_t key, uint64_t ns, int64_t time)
{
    int rc = 0;
    struct wsum *s = strom_state_get(ctx, key, ns, 0, NULL, &rc);
    struct strom_event out;
    if (!s)
        return rc ? rc : strom_ctx_fail(ctx, -ENOENT, "timer without its record");
    out = (struct strom_event){.key = key, .time = time, .v = {s->sum, s->count}};
    if ((rc = strom_emit(ctx, &out)))
        return rc;
    return strom_state_remove(ctx, key, ns);
}

const struct strom_operator twsum_op = {.kind = "test-window-sum",
                                        .record_size = sizeof(struct wsum),
                                        .process = wsum_process,
                                        .on_timer = wsum_timer};

/* bins: per key and window, a histogram of values mod NBINS kept in a heap array: a record
 * that needs a codec. Emitted at the window's end as (total, a mix of the bins). */
#define NBINS 8
struct bins {
    int64_t *bin; /* NBINS entries */
};

static int bins_encode(const void *rec, struct strom_buf *out)
{
    const struct bins *b = rec;
    int rc = strom_buf_put_u32(out, NBINS);
    for (uint32_t i = 0; i < NBINS && !rc; i++)
        rc = strom_buf_put_u64(out, (uint64_t)b->bin[i]);
    return rc;
}

static int bins_decode(void *rec, struct strom_reader *in)
{
    struct bins *b = rec;
    uint32_t n;
    int rc = strom_reader_u32(in, &n);
    if (rc)
        return rc;
    if (n != NBINS)
        return -EINVAL;
    if (!(b->bin = calloc(NBINS, sizeof *b->bin)))
        return -ENOMEM;
    for (uint32_t i = 0; i < NBINS && !rc; i++)
        rc = strom_reader_u64(in, (uint64_t *)&b->bin[i]);
    return rc;
}

static void bins_release(void *rec)
{
    struct bins *b = rec;
    free(b->bin);
    b->bin = NULL;
}

static const struct strom_record_codec bins_codec = {bins_encode, bins_decode, bins_release};

static int bins_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc, created;
        int64_t end = ev[i].time / TWSUM_WINDOW * TWSUM_WINDOW + TWSUM_WINDOW - 1;
        struct bins *b = strom_state_get(ctx, ev[i].key, (uint64_t)end, 1, &created, &rc);
        if (!b)
            return rc;
        if (created) {
            if (!(b->bin = calloc(NBINS, sizeof *b->bin)))
                return -ENOMEM;
            if ((rc = strom_timer_set(ctx, ev[i].key, (uint64_t)end, end)))
                return rc;
        }
        b->bin[ev[i].v[0] % NBINS] += ev[i].v[0];
    }
    return 0;
}

static int bins_timer(struct strom_ctx *ctx, uint64_t key, uint64_t ns, int64_t time)
{
    int rc = 0;
    struct bins *b = strom_state_get(ctx, key, ns, 0, NULL, &rc);
    int64_t mix = 0, total = 0;
    struct strom_event out;
    if (!b)
        return rc ? rc : strom_ctx_fail(ctx, -ENOENT, "timer without its record");
    for (uint32_t i = 0; i < NBINS; i++) {
        total += b->bin[i];
        mix = mix * 31 + b->bin[i];
    }
    out = (struct strom_event){.key = key, .time = time, .v = {total, mix}};
    if ((rc = strom_emit(ctx, &out)))
        return rc;
    return strom_state_remove(ctx, key, ns);
}

const struct strom_operator tbins_op = {.kind = "test-codec-record",
                                        .record_size = sizeof(struct bins),
                                        .codec = &bins_codec,
                                        .process = bins_process,
                                        .on_timer = bins_timer};

int t_format_row(FILE *f, const struct strom_event *ev, void *arg)
{
    (void)arg;
    return fprintf(f, "%" PRId64 ",%" PRIu64 ",%" PRId64 ",%" PRId64 "\n", ev->time, ev->key,
                   ev->v[0], ev->v[1]) < 0
               ? -EIO
               : 0;
}

int t_build_chain(struct strom_job **job, const struct strom_job_config *cfg, struct tgen *g,
                  unsigned par, const struct strom_operator *op, struct strom_file_sink *sink)
{
    int rc = strom_job_new(job, cfg);
    if (!rc) rc = strom_job_add(*job, "source", &tgen_op, g, par);
    if (!rc) rc = strom_job_add(*job, "op", op, NULL, par);
    if (!rc) rc = strom_job_add(*job, "sink", &strom_file_sink_op, sink, 1);
    if (!rc) rc = strom_job_connect(*job, "source", "op", STROM_BY_KEY);
    if (!rc) rc = strom_job_connect(*job, "op", "sink", STROM_GLOBAL);
    return rc;
}
