/* An operator with two upstream instances whose watermarks advance at different speeds sees
 * the minimum of the two, fires its timers only when that minimum reaches them, and passes
 * the minimum on downstream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "strom/error.h"
#include "strom/job.h"

#define SLOW_STEPS 100 /* the slow source's watermarks: 10, 20, ... 1000 */

struct wmtest {
    _Atomic int fast_done, slow_done;
    int fast_is; /* which source instance is the fast one */
    int slow_step; /* only the slow instance touches it */
    int64_t seen[2][SLOW_STEPS + 8]; /* watermarks seen by obs (0) and next (1) */
    int n_seen[2];
    int64_t fired[SLOW_STEPS + 8][2]; /* (timer time, watermark when it fired) */
    int n_fired;
};

static int src_produce(struct strom_ctx *ctx)
{
    struct wmtest *t = strom_ctx_arg(ctx);
    int rc;
    if ((int)strom_ctx_instance(ctx) == t->fast_is) {
        if (!atomic_load(&t->fast_done)) {
            /* all at once: an event at time 5, then the watermark 1000 */
            struct strom_event ev = {.key = 1, .time = 5};
            if ((rc = strom_emit(ctx, &ev)) || (rc = strom_emit_watermark(ctx, 1000)))
                return rc;
            atomic_store(&t->fast_done, 1);
            return 0;
        }
        if (atomic_load(&t->slow_done))
            return STROM_END;
        sched_yield();
        return 0;
    }
    if (!atomic_load(&t->fast_done)) { /* start only once the fast source is far ahead */
        sched_yield();
        return 0;
    }
    if (t->slow_step == SLOW_STEPS) {
        atomic_store(&t->slow_done, 1);
        return STROM_END;
    }
    t->slow_step++;
    struct strom_event ev = {.key = 100 + (uint64_t)t->slow_step, .time = t->slow_step * 10};
    if ((rc = strom_emit(ctx, &ev)))
        return rc;
    return strom_emit_watermark(ctx, t->slow_step * 10);
}

static int obs_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    int rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = strom_timer_set(ctx, ev[i].key, 0, ev[i].time + 15)))
            return rc;
    return 0;
}

static int obs_timer(struct strom_ctx *ctx, uint64_t key, uint64_t ns, int64_t time)
{
    struct wmtest *t = strom_ctx_arg(ctx);
    (void)key;
    (void)ns;
    t->fired[t->n_fired][0] = time;
    t->fired[t->n_fired][1] = strom_ctx_watermark(ctx);
    t->n_fired++;
    return 0;
}

static int record_wm(struct strom_ctx *ctx, int64_t wm, int which)
{
    struct wmtest *t = strom_ctx_arg(ctx);
    if (t->n_seen[which] < SLOW_STEPS + 8)
        t->seen[which][t->n_seen[which]++] = wm;
    return 0;
}
static int obs_wm(struct strom_ctx *ctx, int64_t wm) { return record_wm(ctx, wm, 0); }
static int next_wm(struct strom_ctx *ctx, int64_t wm) { return record_wm(ctx, wm, 1); }
static int next_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    (void)ctx;
    (void)ev;
    (void)n;
    return 0;
}

static const struct strom_operator src_op = {.kind = "two-speed", .produce = src_produce};
static const struct strom_operator obs_op = {.kind = "observer", .record_size = 8,
    .process = obs_process, .on_timer = obs_timer, .on_watermark = obs_wm};
static const struct strom_operator next_op = {.kind = "next", .process = next_process,
    .on_watermark = next_wm};

static void run(int fast_is, unsigned threads)
{
    struct wmtest *t = calloc(1, sizeof *t);
    struct strom_job_config cfg = {.threads = threads};
    struct strom_job *job;
    int rc;

    t->fast_is = fast_is;
    rc = strom_job_new(&job, &cfg);
    if (!rc) rc = strom_job_add(job, "src", &src_op, t, 2);
    if (!rc) rc = strom_job_add(job, "obs", &obs_op, t, 1);
    if (!rc) rc = strom_job_add(job, "next", &next_op, t, 1);
    if (!rc) rc = strom_job_connect(job, "src", "obs", STROM_GLOBAL);
    if (!rc) rc = strom_job_connect(job, "obs", "next", STROM_FORWARD);
    if (!rc) rc = strom_job_run(job);
    if (rc)
        fail_msg("%s: %s", strom_strerror(rc), strom_job_errmsg(job));
    strom_job_free(job);

    /* both operators saw exactly the slow source's watermarks, then the end */
    for (int w = 0; w < 2; w++) {
        assert_int_equal(t->n_seen[w], SLOW_STEPS + 1);
        for (int i = 0; i < SLOW_STEPS; i++)
            assert_int_equal(t->seen[w][i], (i + 1) * 10);
        assert_true(t->seen[w][SLOW_STEPS] == STROM_TIME_MAX);
    }
    /* every timer fired at the first minimum watermark that reached it: the fast source's
     * event (time 5, timer 20) waited for the slow source's 20, not its own 1000 */
    assert_int_equal(t->n_fired, SLOW_STEPS + 1);
    assert_int_equal(t->fired[0][0], 20);
    assert_int_equal(t->fired[0][1], 20);
    for (int i = 0; i < t->n_fired; i++) {
        int64_t at = t->fired[i][0] <= 1000 ? (t->fired[i][0] + 9) / 10 * 10 : STROM_TIME_MAX;
        assert_true(t->fired[i][1] == at);
        assert_true(i == 0 || t->fired[i][0] >= t->fired[i - 1][0]);
    }
    free(t);
}

static void test_min_watermark_fast_first(void **st) { (void)st; run(0, 2); }
static void test_min_watermark_fast_second(void **st) { (void)st; run(1, 2); }
static void test_min_watermark_one_thread(void **st) { (void)st; run(0, 1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_min_watermark_fast_first),
        cmocka_unit_test(test_min_watermark_fast_second),
        cmocka_unit_test(test_min_watermark_one_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
