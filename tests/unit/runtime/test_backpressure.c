/* A slow sink slows its producers: memory stays bounded (measured as this process's peak
 * RSS) and every event arrives exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <time.h>

#include "strom/error.h"
#include "strom/job.h"
#include "testutil.h"

#define EVENTS 4000000ULL /* 128 MB of events if they all queued up */

struct bp {
    uint64_t produced[4];
    uint64_t next[4];
    uint64_t received, sum;
};

static int src_produce(struct strom_ctx *ctx)
{
    struct bp *b = strom_ctx_arg(ctx);
    unsigned i = strom_ctx_instance(ctx), p = strom_ctx_parallelism(ctx);
    int rc;
    for (int k = 0; k < 1024; k++) {
        uint64_t n = b->next[i] * p + i;
        if (n >= EVENTS)
            return STROM_END;
        struct strom_event ev = {.key = n % 1000, .time = (int64_t)(n / 1000), .v = {(int64_t)n}};
        if ((rc = strom_emit(ctx, &ev)))
            return rc;
        b->next[i]++;
        b->produced[i]++;
    }
    return 0;
}

static int pass_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = strom_emit(ctx, &ev[i]);
    return rc;
}

static int slow_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    struct bp *b = strom_ctx_arg(ctx);
    struct timespec ts = {0, 1000000}; /* 1 ms a batch: at most ~1 M events/s */
    for (size_t i = 0; i < n; i++)
        b->sum += (uint64_t)ev[i].v[0];
    b->received += n;
    nanosleep(&ts, NULL);
    return 0;
}

static const struct strom_operator src_op = {.kind = "fast-source", .produce = src_produce};
static const struct strom_operator pass_op = {.kind = "pass", .process = pass_process};
static const struct strom_operator slow_op = {.kind = "slow-sink", .process = slow_process};

static void test_slow_sink_bounded_memory_nothing_lost(void **st)
{
    struct bp *b = calloc(1, sizeof *b);
    struct strom_job_config cfg = {.threads = 2};
    struct strom_job_stats stats;
    struct strom_job *job;
    long before, peak;
    int rc;
    (void)st;

    before = tu_rss_kib();
    rc = strom_job_new(&job, &cfg);
    if (!rc) rc = strom_job_add(job, "src", &src_op, b, 2);
    if (!rc) rc = strom_job_add(job, "pass", &pass_op, NULL, 2);
    if (!rc) rc = strom_job_add(job, "slow", &slow_op, b, 1);
    if (!rc) rc = strom_job_connect(job, "src", "pass", STROM_BY_KEY);
    if (!rc) rc = strom_job_connect(job, "pass", "slow", STROM_GLOBAL);
    if (!rc) rc = strom_job_run(job);
    if (rc)
        fail_msg("%s: %s", strom_strerror(rc), strom_job_errmsg(job));
    strom_job_get_stats(job, &stats);
    strom_job_free(job);
    peak = tu_peak_rss_kib();

    print_message("peak RSS %ld KiB (before the job %ld KiB), %llu stalls, %.2f s\n", peak,
                  before, (unsigned long long)stats.stalls, stats.seconds);
    assert_int_equal(b->produced[0] + b->produced[1], EVENTS);
    assert_int_equal(b->received, EVENTS);
    assert_true(b->sum == EVENTS * (EVENTS - 1) / 2); /* each event exactly once */
    assert_true(stats.stalls > 0);                      /* the producers did wait */
    /* channels hold at most 2 x 16 batches of 32 KiB each; 6 channels + overflow: a few MB.
     * Queuing everything would take 128 MB. */
    assert_true(peak - before < 40 * 1024);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_sink_bounded_memory_nothing_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
