/* Bad use of the job API gets an error code and a message that names the culprit, never a
 * crash: unknown names, cycles, zero or excessive parallelism, and the like. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <string.h>

#include "strom/error.h"
#include "strom/job.h"

static int nop_process(struct strom_ctx *c, const struct strom_event *e, size_t n)
{
    (void)c; (void)e; (void)n;
    return 0;
}
static int nop_produce(struct strom_ctx *c) { (void)c; return STROM_END; }

static const struct strom_operator src = {.kind = "src", .produce = nop_produce};
static const struct strom_operator op = {.kind = "op", .process = nop_process};
static const struct strom_operator empty = {.kind = "empty"};

static struct strom_job *new_job(void)
{
    struct strom_job *job;
    assert_int_equal(strom_job_new(&job, NULL), 0);
    return job;
}

#define assert_msg(job, s)                                                         \
    do {                                                                           \
        if (!strstr(strom_job_errmsg(job), s))                                     \
            fail_msg("message '%s' lacks '%s'", strom_job_errmsg(job), s);         \
    } while (0)

static void test_unknown_operator_name(void **st)
{
    struct strom_job *job = new_job();
    (void)st;
    assert_int_equal(strom_job_add(job, "a", &src, NULL, 1), 0);
    assert_int_equal(strom_job_connect(job, "a", "missing", STROM_FORWARD), STROM_E_NOTFOUND);
    assert_msg(job, "missing");
    assert_int_equal(strom_job_connect(job, "ghost", "a", STROM_FORWARD), STROM_E_NOTFOUND);
    assert_msg(job, "ghost");
    assert_int_equal(strom_job_connect(job, NULL, "a", STROM_FORWARD), STROM_E_NOTFOUND);
    strom_job_free(job);
}

static void test_cycle(void **st)
{
    struct strom_job *job = new_job();
    (void)st;
    assert_int_equal(strom_job_add(job, "s", &src, NULL, 1), 0);
    assert_int_equal(strom_job_add(job, "a", &op, NULL, 1), 0);
    assert_int_equal(strom_job_add(job, "b", &op, NULL, 1), 0);
    assert_int_equal(strom_job_add(job, "c", &op, NULL, 1), 0);
    assert_int_equal(strom_job_connect(job, "s", "a", STROM_BY_KEY), 0);
    assert_int_equal(strom_job_connect(job, "a", "b", STROM_BY_KEY), 0);
    assert_int_equal(strom_job_connect(job, "b", "c", STROM_BY_KEY), 0);
    assert_int_equal(strom_job_connect(job, "c", "a", STROM_BY_KEY), 0);
    assert_int_equal(strom_job_run(job), STROM_E_CYCLE);
    assert_msg(job, "cycle");
    strom_job_free(job);

    job = new_job(); /* a self-loop is a cycle too */
    assert_int_equal(strom_job_add(job, "s", &src, NULL, 1), 0);
    assert_int_equal(strom_job_add(job, "a", &op, NULL, 1), 0);
    assert_int_equal(strom_job_connect(job, "s", "a", STROM_BY_KEY), 0);
    assert_int_equal(strom_job_connect(job, "a", "a", STROM_BY_KEY), 0);
    assert_int_equal(strom_job_run(job), STROM_E_CYCLE);
    strom_job_free(job);
}

static void test_bad_parallelism(void **st)
{
    struct strom_job_config cfg = {.key_groups = 16};
    struct strom_job *job = new_job();
    (void)st;
    assert_int_equal(strom_job_add(job, "z", &src, NULL, 0), STROM_E_PARALLELISM);
    assert_msg(job, "'z'");
    assert_int_equal(strom_job_add(job, "big", &src, NULL, 100000), STROM_E_PARALLELISM);
    strom_job_free(job);
    assert_int_equal(strom_job_new(&job, &cfg), 0);
    /* more instances than key groups would leave some instance without state */
    assert_int_equal(strom_job_add(job, "a", &op, NULL, 17), STROM_E_PARALLELISM);
    assert_int_equal(strom_job_add(job, "s", &src, NULL, 2), 0);
    assert_int_equal(strom_job_add(job, "a", &op, NULL, 3), 0);
    assert_int_equal(strom_job_connect(job, "s", "a", STROM_FORWARD), 0);
    assert_int_equal(strom_job_run(job), STROM_E_PARALLELISM);
    assert_msg(job, "forward");
    strom_job_free(job);
}

static void test_other_misuse(void **st)
{
    struct strom_job_config bad = {.key_groups = 1u << 20};
    struct strom_job *job = new_job();
    unsigned inst;
    (void)st;
    assert_int_equal(strom_job_add(job, "", &src, NULL, 1), STROM_E_INVAL);
    assert_int_equal(strom_job_add(job, NULL, &src, NULL, 1), STROM_E_INVAL);
    assert_int_equal(strom_job_add(job, "x", NULL, NULL, 1), STROM_E_INVAL);
    assert_int_equal(strom_job_add(job, "x", &empty, NULL, 1), STROM_E_INVAL);
    assert_int_equal(strom_job_add(job, "s", &src, NULL, 1), 0);
    assert_int_equal(strom_job_add(job, "s", &op, NULL, 1), STROM_E_EXISTS);
    assert_int_equal(strom_job_add(job, "a", &op, NULL, 1), 0);
    assert_int_equal(strom_job_connect(job, "s", "a", (enum strom_partition)42), STROM_E_INVAL);
    assert_int_equal(strom_job_connect(job, "s", "a", STROM_BY_KEY), 0);
    assert_int_equal(strom_job_connect(job, "s", "a", STROM_BY_KEY), STROM_E_EXISTS);
    assert_int_equal(strom_job_wait(job), STROM_E_BADSTATE);
    assert_int_equal(strom_job_pause(job), STROM_E_BADSTATE);
    assert_int_equal(strom_job_owner(job, "a", 0, &inst), STROM_E_INVAL);
    assert_int_equal(strom_job_run(job), 0);
    assert_int_equal(strom_job_run(job), STROM_E_BADSTATE);
    assert_int_equal(strom_job_add(job, "late", &op, NULL, 1), STROM_E_BADSTATE);
    strom_job_free(job);

    assert_int_equal(strom_job_new(&job, &bad), STROM_E_INVAL);
    assert_null(job);

    job = new_job(); /* an operator with no input, a source with one, an empty job */
    assert_int_equal(strom_job_run(job), STROM_E_GRAPH);
    strom_job_free(job);
    job = new_job();
    assert_int_equal(strom_job_add(job, "s", &src, NULL, 1), 0);
    assert_int_equal(strom_job_add(job, "orphan", &op, NULL, 1), 0);
    assert_int_equal(strom_job_run(job), STROM_E_GRAPH);
    assert_msg(job, "orphan");
    strom_job_free(job);
    job = new_job();
    assert_int_equal(strom_job_add(job, "s", &src, NULL, 1), 0);
    assert_int_equal(strom_job_add(job, "t", &src, NULL, 1), 0);
    assert_int_equal(strom_job_connect(job, "s", "t", STROM_FORWARD), 0);
    assert_int_equal(strom_job_run(job), STROM_E_GRAPH);
    assert_msg(job, "'t'");
    strom_job_free(job);
    strom_job_free(NULL);
    assert_string_equal(strom_strerror(STROM_E_CYCLE), "the job graph has a cycle");
    assert_string_equal(strom_errname(STROM_E_CYCLE), "STROM_E_CYCLE");
    assert_string_equal(strom_errname(-12), "ENOMEM");
}

/* An operator that fails stops the job with its code and message. */
static int failing_process(struct strom_ctx *c, const struct strom_event *e, size_t n)
{
    (void)e; (void)n;
    return strom_ctx_fail(c, STROM_E_OPERATOR, "bad event in '%s'", strom_ctx_name(c));
}
static int one_produce(struct strom_ctx *c)
{
    struct strom_event ev = {0};
    int rc = strom_emit(c, &ev);
    return rc ? rc : STROM_END;
}
static void test_operator_failure_stops_job(void **st)
{
    static const struct strom_operator one = {.kind = "one", .produce = one_produce};
    static const struct strom_operator bad = {.kind = "bad", .process = failing_process};
    struct strom_job *job = new_job();
    (void)st;
    assert_int_equal(strom_job_add(job, "s", &one, NULL, 2), 0);
    assert_int_equal(strom_job_add(job, "f", &bad, NULL, 2), 0);
    assert_int_equal(strom_job_connect(job, "s", "f", STROM_BY_KEY), 0);
    assert_int_equal(strom_job_run(job), STROM_E_OPERATOR);
    assert_string_equal(strom_job_errmsg(job), "bad event in 'f'");
    strom_job_free(job);
}

/* A source is not called again once it has said STROM_END, even while its last batches
 * wait for room downstream. */
struct once {
    _Atomic int ended[4];
};
static int once_produce(struct strom_ctx *c)
{
    struct once *o = strom_ctx_arg(c);
    unsigned i = strom_ctx_instance(c);
    if (atomic_load(&o->ended[i]))
        return strom_ctx_fail(c, STROM_E_BADSTATE, "produce called after STROM_END");
    for (int k = 0; k < 1024; k++) {
        struct strom_event ev = {.key = (uint64_t)k};
        int rc = strom_emit(c, &ev);
        if (rc)
            return rc;
    }
    atomic_store(&o->ended[i], 1);
    return STROM_END;
}
static void test_source_not_called_after_end(void **st)
{
    static const struct strom_operator src1 = {.kind = "once", .produce = once_produce};
    struct strom_job_config cfg = {.threads = 2, .ring_batches = 2, .batch_events = 16};
    (void)st;
    for (int round = 0; round < 20; round++) {
        struct once o = {0};
        struct strom_job *job;
        assert_int_equal(strom_job_new(&job, &cfg), 0);
        assert_int_equal(strom_job_add(job, "s", &src1, &o, 4), 0);
        assert_int_equal(strom_job_add(job, "a", &op, NULL, 3), 0);
        assert_int_equal(strom_job_connect(job, "s", "a", STROM_BY_KEY), 0);
        int rc = strom_job_run(job);
        if (rc)
            fail_msg("%s: %s", strom_strerror(rc), strom_job_errmsg(job));
        strom_job_free(job);
    }
}

/* strom_emit_to sends to one port: the k-th edge connected from the operator. */
struct ports {
    _Atomic uint64_t got[2], sum[2];
};
static int hundred_produce(struct strom_ctx *c)
{
    for (uint64_t k = 0; k < 100; k++) {
        struct strom_event ev = {.key = k};
        int rc = strom_emit(c, &ev);
        if (rc)
            return rc;
    }
    return STROM_END;
}
static int split_process(struct strom_ctx *c, const struct strom_event *e, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = strom_emit_to(c, e[i].key == 99 ? 7 : (unsigned)(e[i].key & 1), &e[i]);
    return rc;
}
static int count_process(struct strom_ctx *c, const struct strom_event *e, size_t n)
{
    struct ports *p = strom_ctx_arg(c);
    int which = strom_ctx_name(c)[1] - '0';
    for (size_t i = 0; i < n; i++) {
        atomic_fetch_add(&p->got[which], 1);
        atomic_fetch_add(&p->sum[which], e[i].key);
    }
    return 0;
}
/* g -> s (by key, 2 instances) -> c0 (port 0), c1 (port 1) */
static struct strom_job *split_job(const struct strom_operator *split, struct ports *p)
{
    static const struct strom_operator gen = {.kind = "gen", .produce = hundred_produce};
    static const struct strom_operator count = {.kind = "count", .process = count_process};
    struct strom_job *job = new_job();
    assert_int_equal(strom_job_add(job, "g", &gen, NULL, 1), 0);
    assert_int_equal(strom_job_add(job, "s", split, NULL, 2), 0);
    assert_int_equal(strom_job_add(job, "c0", &count, p, 1), 0);
    assert_int_equal(strom_job_add(job, "c1", &count, p, 1), 0);
    assert_int_equal(strom_job_connect(job, "g", "s", STROM_BY_KEY), 0);
    assert_int_equal(strom_job_connect(job, "s", "c0", STROM_GLOBAL), 0); /* port 0 */
    assert_int_equal(strom_job_connect(job, "s", "c1", STROM_GLOBAL), 0); /* port 1 */
    return job;
}

static void test_emit_to_port(void **st)
{
    static const struct strom_operator split = {.kind = "split", .process = split_process};
    struct ports p = {0};
    struct strom_job *job = split_job(&split, &p);
    (void)st;
    /* key 99 goes to port 7, which does not exist: the job fails, naming it */
    assert_int_equal(strom_job_run(job), STROM_E_INVAL);
    assert_msg(job, "no output port 7");
    /* keys 0..98 were routed by parity before or while that happened */
    assert_true(atomic_load(&p.got[0]) <= 50 && atomic_load(&p.got[1]) <= 49);
    strom_job_free(job);
}
static int split_ok(struct strom_ctx *c, const struct strom_event *e, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = strom_emit_to(c, (unsigned)(e[i].key & 1), &e[i]);
    return rc;
}
static void test_emit_to_port_counts(void **st)
{
    static const struct strom_operator split = {.kind = "split", .process = split_ok};
    struct ports p = {0};
    struct strom_job *job = split_job(&split, &p);
    (void)st;
    assert_int_equal(strom_job_run(job), 0);
    assert_int_equal(atomic_load(&p.got[0]), 50);
    assert_int_equal(atomic_load(&p.got[1]), 50);
    assert_int_equal(atomic_load(&p.sum[0]), 2450); /* 0 + 2 + ... + 98 */
    assert_int_equal(atomic_load(&p.sum[1]), 2500); /* 1 + 3 + ... + 99 */
    strom_job_free(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_operator_name),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_bad_parallelism),
        cmocka_unit_test(test_other_misuse),
        cmocka_unit_test(test_operator_failure_stops_job),
        cmocka_unit_test(test_source_not_called_after_end),
        cmocka_unit_test(test_emit_to_port),
        cmocka_unit_test(test_emit_to_port_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
