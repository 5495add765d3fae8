/*
 * cli/cmd_bench.c: `strom bench`, the engine's throughput benchmark.
 *
 * A keyed aggregation: generated events (key = event number mod KEYS; a watermark every
 * 8192 events of a source instance) go by key to a summing operator whose per-key records are engine-owned state; at the end each key's sum
 * and count go to a sink that checks that no event was lost. Each thread count runs in its
 * own child process, so that its peak RSS is its own. Prints figures; never fails on speed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "strom/error.h"
#include "strom/job.h"
#include "strom/sink.h"

struct bench_gen {
    uint64_t events, keys;
};

struct gen_pos {
    uint64_t next, key, stride_keys;
};

struct agg {
    int64_t sum, count;
};

struct check {
    uint64_t count, keys;
    int64_t sum;
};

static int gen_open(struct strom_ctx *ctx)
{
    const struct bench_gen *g = strom_ctx_arg(ctx);
    struct gen_pos *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->next = strom_ctx_instance(ctx);
    p->key = p->next % g->keys;
    p->stride_keys = strom_ctx_parallelism(ctx) % g->keys;
    strom_ctx_set_local(ctx, p);
    return 0;
}

static int gen_produce(struct strom_ctx *ctx)
{
    const struct bench_gen *g = strom_ctx_arg(ctx);
    struct gen_pos *p = strom_ctx_local(ctx);
    uint64_t stride = strom_ctx_parallelism(ctx);
    struct strom_event ev = {0};
    int rc;

    for (int k = 0; k < 8192 && p->next < g->events; k++) {
        ev.key = p->key;
        ev.time = (int64_t)(p->next >> 10);
        ev.v[0] = 1;
        if ((rc = strom_emit(ctx, &ev)))
            return rc;
        p->next += stride;
        p->key += p->stride_keys; /* key = next mod keys, without a division */
        if (p->key >= g->keys)
            p->key -= g->keys;
    }
    if (p->next >= g->events)
        return STROM_END;
    return strom_emit_watermark(ctx, ev.time - 1);
}

static void gen_close(struct strom_ctx *ctx)
{
    free(strom_ctx_local(ctx));
}

static int agg_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc;
        struct agg *a = strom_state_get(ctx, ev[i].key, 0, 1, NULL, &rc);
        if (!a)
            return rc;
        a->sum += ev[i].v[0];
        a->count++;
    }
    return 0;
}

static int emit_one(void *arg, uint64_t key, uint64_t ns, void *rec)
{
    const struct agg *a = rec;
    struct strom_event ev = {.key = key, .time = STROM_TIME_MAX, .v = {a->sum, a->count}};
    (void)ns;
    return strom_emit(arg, &ev);
}

static int agg_finish(struct strom_ctx *ctx)
{
    return strom_state_foreach(ctx, emit_one, ctx);
}

static int check_row(FILE *f, const struct strom_event *ev, void *arg)
{
    struct check *c = arg;
    (void)f;
    c->keys++;
    c->sum += ev->v[0];
    c->count += (uint64_t)ev->v[1];
    return 0;
}

static const struct strom_operator gen_op = {
    .kind = "bench-generator", .open = gen_open, .produce = gen_produce, .close = gen_close};
static const struct strom_operator agg_op = {
    .kind = "keyed-sum", .record_size = sizeof(struct agg), .process = agg_process,
    .finish = agg_finish};

static long peak_rss_kib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss;
}

/* Runs in a child process: one measurement. */
static int run_one(const struct bench_gen *g, unsigned threads)
{
    struct strom_job_config cfg = {.threads = threads};
    struct check chk = {0};
    struct strom_file_sink sink = {.path = "/dev/null", .format = check_row, .format_arg = &chk};
    struct strom_job_stats st;
    struct strom_job *job = NULL;
    int rc = strom_job_new(&job, &cfg);

    if (!rc) rc = strom_job_add(job, "source", &gen_op, (void *)g, threads);
    if (!rc) rc = strom_job_add(job, "sum", &agg_op, NULL, threads);
    if (!rc) rc = strom_job_add(job, "check", &strom_file_sink_op, &sink, 1);
    if (!rc) rc = strom_job_connect(job, "source", "sum", STROM_BY_KEY);
    if (!rc) rc = strom_job_connect(job, "sum", "check", STROM_GLOBAL);
    if (!rc) rc = strom_job_run(job);
    if (rc) {
        fprintf(stderr, "strom bench: %s: %s\n", strom_strerror(rc), strom_job_errmsg(job));
        strom_job_free(job);
        return 1;
    }
    strom_job_get_stats(job, &st);
    printf("threads %u: %" PRIu64 " events in %.2f s = %.1f M events/s (%.1f M per thread), "
           "peak RSS %.1f MiB, %" PRIu64 " batches, %" PRIu64 " stalls\n",
           threads, g->events, st.seconds, g->events / st.seconds / 1e6,
           g->events / st.seconds / 1e6 / threads, peak_rss_kib() / 1024.0, st.batches,
           st.stalls);
    strom_job_free(job);
    if (chk.count != g->events || chk.sum != (int64_t)g->events ||
        chk.keys != (g->events < g->keys ? g->events : g->keys)) {
        fprintf(stderr, "strom bench: LOST OR DUPLICATED EVENTS: counted %" PRIu64
                        " events in %" PRIu64 " keys, expected %" PRIu64 "\n",
                chk.count, chk.keys, g->events);
        return 1;
    }
    return 0;
}

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: strom bench [--events N] [--keys K] [--threads LIST]\n\n"
               "Keyed aggregation over generated events; prints events per second and peak\n"
               "RSS for each thread count, each measured in its own process.\n\n"
               "  --events N      events to generate (default 100000000)\n"
               "  --keys K        distinct keys (default 10000)\n"
               "  --threads LIST  comma-separated worker thread counts (default 1,2)\n");
}

int strom_cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {{"events", required_argument, 0, 'e'},
                                         {"keys", required_argument, 0, 'k'},
                                         {"threads", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct bench_gen g = {100000000, 10000};
    char list[256] = "1,2";
    unsigned long long v;
    int c, failed = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            if (strom_cli_parse_u64("--events", optarg, 1, 1ULL << 40, &v))
                return 2;
            g.events = v;
            break;
        case 'k':
            if (strom_cli_parse_u64("--keys", optarg, 1, 1ULL << 32, &v))
                return 2;
            g.keys = v;
            break;
        case 't':
            snprintf(list, sizeof list, "%s", optarg);
            break;
        case 'h':
            bench_usage(stdout);
            return 0;
        default:
            bench_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "strom bench: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    printf("keyed aggregation: %" PRIu64 " events, %" PRIu64 " keys\n", g.events, g.keys);
    fflush(stdout);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int status;
        pid_t pid;
        if (strom_cli_parse_u64("--threads", tok, 1, 1024, &v))
            return 2;
        pid = fork();
        if (pid < 0) {
            perror("strom bench: fork");
            return 1;
        }
        if (pid == 0) {
            int rc = run_one(&g, (unsigned)v);
            fflush(stdout);
            _exit(rc);
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
            failed = 1;
    }
    return failed;
}
