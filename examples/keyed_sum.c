/*
 * keyed_sum: the smallest useful strom job. A generated stream of (key, time, value)
 * events is summed per key over tumbling windows of event time, and every window's sum is
 * written to a CSV file: window_end,key,sum,count.
 *
 *   keyed_sum [EVENTS [KEYS [THREADS [OUT]]]]   (defaults: 10000000 10000 0=all cores sums.csv)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strom/error.h>
#include <strom/job.h>
#include <strom/sink.h>

struct gen { uint64_t events, keys; };  /* the source's parameters */
struct sum { int64_t sum, count; };     /* the state of one key in one window */
#define WINDOW 1000                     /* event time units per window */
#define PER_TICK 1000                   /* events per unit of event time */

/* Source: instance i of p makes events i, i+p, i+2p, ... so that every parallelism
 * produces the same events. Each call emits up to 1024 events, then a watermark. */
static int gen_produce(struct strom_ctx *ctx)
{
    const struct gen *g = strom_ctx_arg(ctx);
    uint64_t *next = strom_ctx_local(ctx), p = strom_ctx_parallelism(ctx);
    int64_t t = 0;
    for (int k = 0; k < 1024 && *next < g->events; k++, *next += p) {
        struct strom_event ev = {.key = (*next * 2654435761u) % g->keys,
                                 .time = (int64_t)(*next / PER_TICK),
                                 .v = {(int64_t)(*next % 100)}};
        t = ev.time;
        int rc = strom_emit(ctx, &ev);
        if (rc)
            return rc;
    }
    if (*next >= g->events)
        return STROM_END;
    return strom_emit_watermark(ctx, t - 1); /* later events may still have time t */
}
static int gen_open(struct strom_ctx *ctx)
{
    uint64_t *next = malloc(sizeof *next);
    if (!next)
        return -12; /* -ENOMEM */
    *next = strom_ctx_instance(ctx);
    strom_ctx_set_local(ctx, next);
    return 0;
}
static void gen_close(struct strom_ctx *ctx) { free(strom_ctx_local(ctx)); }

/* Operator: add each event to its key's record for its window; a timer at the window's
 * last instant emits the sum and forgets the record. */
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
    struct strom_event out = {.key = key, .time = time, .v = {s->sum, s->count}};
    return (rc = strom_emit(ctx, &out)) ? rc : strom_state_remove(ctx, key, ns);
}
static int row(FILE *f, const struct strom_event *ev, void *arg)
{
    (void)arg;
    fprintf(f, "%" PRId64 ",%" PRIu64 ",%" PRId64 ",%" PRId64 "\n", ev->time, ev->key,
            ev->v[0], ev->v[1]);
    return 0;
}

static const struct strom_operator gen_op = {
    .kind = "generator", .open = gen_open, .produce = gen_produce, .close = gen_close};
static const struct strom_operator sum_op = {.kind = "window-sum",
    .record_size = sizeof(struct sum), .process = sum_process, .on_timer = sum_timer};

int main(int argc, char **argv)
{
    struct gen g = {argc > 1 ? strtoull(argv[1], 0, 10) : 10000000,
                    argc > 2 ? strtoull(argv[2], 0, 10) : 10000};
    struct strom_job_config cfg = {.threads = argc > 3 ? (unsigned)atoi(argv[3]) : 0};
    struct strom_file_sink out = {.path = argc > 4 ? argv[4] : "sums.csv", .format = row};
    struct strom_job *job;
    struct strom_job_stats st;
    int rc = strom_job_new(&job, &cfg);
    unsigned p = rc ? 1 : strom_job_threads(job);
    if (!rc && g.keys == 0)
        rc = STROM_E_INVAL;
    if (!rc) rc = strom_job_add(job, "source", &gen_op, &g, p);
    if (!rc) rc = strom_job_add(job, "sum", &sum_op, NULL, p);
    if (!rc) rc = strom_job_add(job, "sink", &strom_file_sink_op, &out, 1);
    if (!rc) rc = strom_job_connect(job, "source", "sum", STROM_BY_KEY);
    if (!rc) rc = strom_job_connect(job, "sum", "sink", STROM_GLOBAL);
    if (!rc) rc = strom_job_run(job);
    if (rc) {
        fprintf(stderr, "keyed_sum: %s: %s\n", strom_strerror(rc), strom_job_errmsg(job));
    } else {
        strom_job_get_stats(job, &st);
        printf("%" PRIu64 " events, %u threads, %.2f s, %.1f M events/s; %llu rows in %s\n",
               g.events, p, st.seconds, g.events / st.seconds / 1e6, out.rows, out.path);
    }
    strom_job_free(job);
    return rc ? 1 : 0;
}
