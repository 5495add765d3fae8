/* Key groups snapshotted from one instance and restored into another while the job is
 * paused: the job goes on with exactly the output it has without any move. Done for plain
 * records with timers (window sums) and for codec records with timers (histograms). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "strom/error.h"
#include "testops.h"
#include "testutil.h"

#define EVENTS 200000
#define STEP 24370 /* mid-window: pauses find windows open, with state */

static void init_gen(struct tgen *g)
{
    memset(g, 0, sizeof *g);
    g->events = EVENTS;
    g->keys = 1000;
    g->per_tick = 10;
}

static void check(int rc, struct strom_job *job)
{
    if (rc)
        fail_msg("%s: %s", strom_strerror(rc), strom_job_errmsg(job));
}

/* Runs the chain; with moves, holds the source at every STEP events, pauses, moves a
 * third of the key groups to another instance (rotating which third), and resumes. */
static char *run(const struct strom_operator *op, unsigned par, int moves, unsigned *moved,
                 unsigned *nonempty)
{
    static struct tgen g;
    struct strom_job_config cfg = {.threads = 2};
    char *dir = tu_tempdir(), *text;
    struct strom_file_sink sink = {.path = tu_path(dir, "out.csv"), .format = t_format_row};
    struct strom_job *job;
    unsigned G;
    int rc;

    init_gen(&g);
    if (moves)
        atomic_store(&g.gate, STEP);
    check(t_build_chain(&job, &cfg, &g, par, op, &sink), job);
    G = strom_job_key_groups(job);
    check(strom_job_start(job), job);
    for (uint64_t gate = STEP; moves && gate < EVENTS; gate += STEP) {
        while (atomic_load(&g.emitted) < gate)
            sched_yield();
        check(strom_job_pause(job), job);
        for (unsigned kg = (unsigned)(gate / STEP) % 3; kg < G; kg += 3) {
            unsigned from, to;
            struct strom_buf b = {0};
            check(strom_job_owner(job, "op", kg, &from), job);
            to = (from + 1) % par;
            check(strom_job_snapshot_keygroup(job, "op", kg, &b), job);
            *nonempty += b.len > 64;
            check(strom_job_restore_keygroup(job, "op", kg, to, b.data, b.len), job);
            strom_buf_release(&b);
            check(strom_job_owner(job, "op", kg, &from), job);
            assert_int_equal(from, to);
            (*moved)++;
        }
        atomic_store(&g.gate, gate + STEP < EVENTS ? gate + STEP : 0);
        check(strom_job_resume(job), job);
    }
    rc = strom_job_wait(job);
    check(rc, job);
    strom_job_free(job);
    text = tu_read_and_clean(dir, sink.path);
    assert_non_null(text);
    return text;
}

static void moves_keep_output(const struct strom_operator *op)
{
    for (unsigned par = 2; par <= 3; par++) {
        unsigned moved = 0, nonempty = 0, dummy1 = 0, dummy2 = 0;
        char *still = run(op, par, 0, &dummy1, &dummy2);
        char *moving = run(op, par, 1, &moved, &nonempty);
        assert_true(strlen(still) > 10000);
        assert_string_equal(moving, still);
        /* 8 pauses, each moving the key groups kg = gate/STEP (mod 3) of 256: 85 of them
         * for 1 and 2, 86 for 0 (1, 2, 0, 1, 2, 0, 1, 2); most carried live state */
        assert_int_equal(moved, 85 + 85 + 86 + 85 + 85 + 86 + 85 + 85);
        assert_true(nonempty > moved / 2);
        free(still);
        free(moving);
    }
}

static void test_plain_records_move(void **st) { (void)st; moves_keep_output(&twsum_op); }
static void test_codec_records_move(void **st) { (void)st; moves_keep_output(&tbins_op); }

/* Refusals: not paused, bad bytes, bad instance, unknown operator; none changes anything. */
static void test_move_refusals(void **st)
{
    static struct tgen g;
    struct strom_job_config cfg = {.threads = 2};
    char *dir = tu_tempdir();
    struct strom_file_sink sink = {.path = tu_path(dir, "out.csv"), .format = t_format_row};
    struct strom_job *job;
    struct strom_buf b = {0};
    unsigned owner;
    uint8_t junk[40] = "not a snapshot at all";
    (void)st;

    init_gen(&g);
    atomic_store(&g.gate, STEP);
    check(t_build_chain(&job, &cfg, &g, 2, &twsum_op, &sink), job);
    check(strom_job_start(job), job);
    assert_int_equal(strom_job_move_keygroup(job, "op", 0, 1), STROM_E_BADSTATE);
    assert_non_null(strstr(strom_job_errmsg(job), "paused"));
    while (atomic_load(&g.emitted) < STEP)
        sched_yield();
    check(strom_job_pause(job), job);
    check(strom_job_owner(job, "op", 5, &owner), job);
    assert_int_equal(strom_job_restore_keygroup(job, "op", 5, 1 - owner, junk, sizeof junk),
                     STROM_E_CORRUPT);
    assert_int_equal(strom_job_move_keygroup(job, "op", 5, 2), STROM_E_INVAL);
    assert_int_equal(strom_job_move_keygroup(job, "nope", 5, 1), STROM_E_NOTFOUND);
    assert_int_equal(strom_job_move_keygroup(job, "op", 256, 1), STROM_E_INVAL);
    assert_int_equal(strom_job_move_keygroup(job, "source", 5, 1), STROM_E_INVAL);
    check(strom_job_owner(job, "op", 5, &owner), job);
    check(strom_job_snapshot_keygroup(job, "op", 5, &b), job);
    /* a truncated snapshot restores nothing, even into the owner itself */
    assert_int_equal(strom_job_restore_keygroup(job, "op", 5, owner, b.data, b.len - 1),
                     STROM_E_CORRUPT);
    strom_buf_release(&b);
    atomic_store(&g.gate, 0);
    check(strom_job_resume(job), job);
    check(strom_job_wait(job), job);
    strom_job_free(job);

    /* the refused moves did not disturb the output */
    unsigned d1 = 0, d2 = 0;
    char *still = run(&twsum_op, 2, 0, &d1, &d2);
    char *got = tu_read_file(sink.path, NULL);
    assert_non_null(got);
    assert_string_equal(got, still);
    free(got);
    free(still);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_records_move),
        cmocka_unit_test(test_codec_records_move),
        cmocka_unit_test(test_move_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
