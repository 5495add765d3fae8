/* keyed_sum: the smallest useful strom job. Generated (key, time, value) events are summed
 * per key over tumbling windows of event time; each window's sums go to a CSV file, one
 * row per key and window: window_end,key,sum,count.
 *   keyed_sum [EVENTS [KEYS [THREADS [OUT]]]]   (defaults: 10000000 10000 0=all cores sums.csv)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strom/error.h>
#include <strom/job.h>
#include <strom/sink.h>
#define WINDOW 1000 /* units of event time per window; 1000 events per unit */
struct gen { uint64_t events, keys; }; /* the source's parameters */
struct sum { int64_t sum, count; };    /* the state of one key in one window */

/* Source: instance i of p makes events i, i+p, i+2p, ...: every parallelism makes the same
 * events. Each call emits up to 1024 of them, then a watermark. */
static int gen_produce(struct strom_ctx *ctx)
{
    const struct gen *g = strom_ctx_arg(ctx);
    uint64_t *next = strom_ctx_local(ctx), p = strom_ctx_parallelism(ctx);
    int rc;
    for (int k = 0; k < 1024 && *next < g->events; k++, *next += p) {
        struct strom_event ev = {.key = *next * 2654435761u % g->keys,
                                 .time = (int64_t)(*next / 1000), .v = {(int64_t)(*next % 100)}};
        if ((rc = strom_emit(ctx, &ev)))
            return rc;
    }
    if (*next >= g->events)
        return STROM_END;
    return strom_emit_watermark(ctx, (int64_t)(*next / 1000) - 1); /* next event's time - 1 */
}
static int gen_open(struct strom_ctx *ctx) /* instance-local: where this instance is */
{
    uint64_t *next = malloc(sizeof *next);
    strom_ctx_set_local(ctx, next);
    return next ? (*next = strom_ctx_instance(ctx), 0) : -ENOMEM;
}
static void gen_close(struct strom_ctx *ctx) { free(strom_ctx_local(ctx)); }
/* Operator: add each event to the state record of (key, window); the first event of a
 * window sets a timer at its end, which emits the sum and forgets the record. */
static int sum_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t end = ev[i].time / WINDOW * WINDOW + WINDOW - 1;
        int rc, created;
        struct sum *s = strom_state_get(ctx, ev[i].key, (uint64_t)end, 1, &created, &rc);
        if (!s)
            return rc;
        s->sum += ev[i].v[0];
        s->count++;
        if (created && (rc = strom_timer_set(ctx, ev[i].key, (uint64_t)end, end)))
            return rc;
    }
    return 0;
}
static int sum_timer(struct strom_ctx *ctx, uint64_t key, uint64_t ns, int64_t time)
{
    int rc;
    struct sum *s = strom_state_get(ctx, key, ns, 0, NULL, &rc);
    if (!s)
        return rc;
    struct strom_event out = {.key = key, .time = time, .v = {s->sum, s->count}};
    return (rc = strom_emit(ctx, &out)) ? rc : strom_state_remove(ctx, key, ns);
}
static int row(FILE *f, const struct strom_event *ev, void *arg)
{
    (void)arg;
    return fprintf(f, "%" PRId64 ",%" PRIu64 ",%" PRId64 ",%" PRId64 "\n", ev->time, ev->key,
                   ev->v[0], ev->v[1]) < 0 ? -EIO : 0;
}
static const struct strom_operator gen_op = {.kind = "generator", .open = gen_open,
    .produce = gen_produce, .close = gen_close};
static const struct strom_operator sum_op = {.kind = "window-sum",
    .record_size = sizeof(struct sum), .process = sum_process, .on_timer = sum_timer};
int main(int argc, char **argv)
{
    struct gen g = {argc > 1 ? strtoull(argv[1], 0, 10) : 10000000,
                    argc > 2 ? strtoull(argv[2], 0, 10) : 10000};
    struct strom_job_config cfg = {.threads = argc > 3 ? (unsigned)atoi(argv[3]) : 0};
    struct strom_file_sink out = {.path = argc > 4 ? argv[4] : "sums.csv", .format = row};
    struct strom_job *job = NULL;
    int rc = g.keys ? strom_job_new(&job, &cfg) : STROM_E_INVAL;
    unsigned p = rc ? 1 : strom_job_threads(job); /* one instance per thread */
    if (!rc) rc = strom_job_add(job, "source", &gen_op, &g, p);
    if (!rc) rc = strom_job_add(job, "sum", &sum_op, NULL, p);
    if (!rc) rc = strom_job_add(job, "sink", &strom_file_sink_op, &out, 1);
    if (!rc) rc = strom_job_connect(job, "source", "sum", STROM_BY_KEY);
    if (!rc) rc = strom_job_connect(job, "sum", "sink", STROM_GLOBAL);
    if (!rc) rc = strom_job_run(job);
    if (rc)
        fprintf(stderr, "keyed_sum: %s %s\n", strom_strerror(rc), strom_job_errmsg(job));
    else
        printf("%" PRIu64 " events on %u threads: %llu rows in %s\n", g.events, p, out.rows,
               out.path);
    strom_job_free(job);
    return rc ? 1 : 0;
}
