/* Queries 1 and 2, golden rows written out by hand for every rule of the spec. Q1: house =
 * sum of plug averages, history median (empty, odd, even), several days, update points
 * across a gap, the final update point. Q2: strict comparison, even-sized medians, window
 * expiry, a house whose plugs all leave the window, emission only on change, rounding.
 * And the same files at every parallelism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/debs14/debs14.h"
#include "strom/error.h"
#include "testutil.h"

/* Runs Q1 and Q2 over input with t0 = 1000 and returns the text of one output file. */
static char *run_q1(const char *input, const char *file, unsigned threads, unsigned par)
{
    char *dir = tu_tempdir(), err[512] = "", *text;
    char *in = strdup(tu_path(dir, "in.csv")), *out = strdup(tu_path(dir, "out"));
    struct strom_debs_conf conf = {.input = in, .out_dir = out, .queries = STROM_DEBS_Q1 | STROM_DEBS_Q2,
                                   .threads = threads, .parallelism = par, .t0 = 1000};
    struct strom_debs_run *run;
    int rc;

    assert_int_equal(tu_write_file(in, input, strlen(input)), 0);
    rc = strom_debs_run_new(&run, &conf, err, sizeof err);
    if (!rc && !(rc = strom_debs_run_start(run)))
        rc = strom_debs_run_wait(run, err, sizeof err);
    if (rc)
        fail_msg("%s: %s", strom_strerror(rc), err);
    strom_debs_run_free(run);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", out, file);
    text = tu_read_and_clean(dir, path);
    assert_non_null(text);
    free(in);
    free(out);
    return text;
}

#define assert_file(input, file, want)                                                   \
    do {                                                                                 \
        char *got_ = run_q1(input, file, 2, 3);                                          \
        assert_string_equal(got_, want);                                                 \
        free(got_);                                                                      \
    } while (0)

/* Three seconds of data: no grid point is reached; the final update point b = 1003 sees
 * slice 0 of every size; with no history the prediction is the average itself. The house
 * is the sum of its plugs' averages (20 + 20), not the mean of its readings (60 / 3). */
static const char *const short_input = "1,1000,10,1,0,0,0\n"
                                       "2,1000,5,0,0,0,0\n" /* a work row: ignored */
                                       "3,1001,20,1,1,0,0\n"
                                       "4,1002,30,1,0,0,0\n"
                                       "5,1002,7,1,3,2,4\n";

static void test_final_update_point_and_house_sum(void **st)
{
    (void)st;
    assert_file(short_input, "q1-house-1min.csv", "1120,0,40.000\n1120,4,7.000\n");
    assert_file(short_input, "q1-plug-1min.csv",
                "1120,0,0,0,20.000\n1120,0,0,1,20.000\n1120,4,2,3,7.000\n");
    /* 5 minutes: slice 0 again, predicted slice 2 starts at 1000 + 600 */
    assert_file(short_input, "q1-house-5min.csv", "1600,0,40.000\n1600,4,7.000\n");
    assert_file(short_input, "q1-plug-120min.csv",
                "15400,0,0,0,20.000\n15400,0,0,1,20.000\n15400,4,2,3,7.000\n");
}

/* A reading at 1000, the next at 1065: that one reaches the grid points 1030 and 1060 (in
 * order, across the gap), each computed from the readings before it; the end then reaches
 * b = 1066, whose slice 1 (1060..1119) holds only the 1065 reading. */
static const char *const gap_input = "1,1000,10,1,0,0,0\n2,1065,50,1,0,0,0\n";

static void test_update_points_across_a_gap(void **st)
{
    (void)st;
    assert_file(gap_input, "q1-plug-1min.csv",
                "1120,0,0,0,10.000\n" /* b = 1030: slice 0, predicts slice 2 */
                "1120,0,0,0,10.000\n" /* b = 1060: slice 0 still (1000..1059) */
                "1180,0,0,0,50.000\n" /* b = 1066: slice 1, predicts slice 3 */);
    assert_file(gap_input, "q1-plug-5min.csv",
                "1600,0,0,0,10.000\n1600,0,0,0,10.000\n"
                "1600,0,0,0,30.000\n" /* b = 1066: slice 0 holds 10 and 50 */);
    assert_file(gap_input, "q1-house-5min.csv",
                "1600,0,10.000\n1600,0,10.000\n1600,0,30.000\n");
}

/* Four days of one-minute slices. Day d's slice 2 + 1440 d holds readings of plugs 0 and 1
 * (plug 1 not on day 2); on day 3 a reading in slot 0 meets the end, whose prediction of
 * slot 2 uses the history of slot 2 on days 0..2:
 *   plug 0: H = {100, 300, 200} (odd), median 200: (40 + 200) / 2 = 120
 *   plug 1: H = {10, 50} (even), median 30:         (6 + 30) / 2 = 18
 *   house:  H = {110, 350, 200}, median 200:        (46 + 200) / 2 = 123
 * Before that, every prediction found its history slot (slot 4) empty: prediction =
 * average. Each day's readings are seen by the grid points 30 and 60 s into their slice. */
static const char *const days_input = "1,1120,100,1,0,0,0\n"
                                      "2,1120,10,1,1,0,0\n"
                                      "3,87520,300,1,0,0,0\n"
                                      "4,87520,50,1,1,0,0\n"
                                      "5,173920,200,1,0,0,0\n"
                                      "6,260200,40,1,0,0,0\n"
                                      "7,260200,6,1,1,0,0\n";

static void test_history_median_over_days(void **st)
{
    (void)st;
    assert_file(days_input, "q1-plug-1min.csv",
                "1240,0,0,0,100.000\n1240,0,0,1,10.000\n"
                "1240,0,0,0,100.000\n1240,0,0,1,10.000\n"
                "87640,0,0,0,300.000\n87640,0,0,1,50.000\n"
                "87640,0,0,0,300.000\n87640,0,0,1,50.000\n"
                "174040,0,0,0,200.000\n"
                "174040,0,0,0,200.000\n"
                "260320,0,0,0,120.000\n260320,0,0,1,18.000\n");
    assert_file(days_input, "q1-house-1min.csv",
                "1240,0,110.000\n1240,0,110.000\n"
                "87640,0,350.000\n87640,0,350.000\n"
                "174040,0,200.000\n174040,0,200.000\n"
                "260320,0,123.000\n");
}

/* Query 2. T = 100000; plugs A (house 0), B (house 0), C (house 1).
 *   T       A=10 B=30 C=20  M2 = 40; A 20, B 60 > 40, C 40 not > 40 (strict)
 *           house 0: 1/2 = 50.00, house 1: 0/1 = 0.00 (first rows)
 *   T+1     A=40            M2 = 20+30 = 50 (even); A {10,40} = 50 not > 50, B 60 > 50:
 *                           house 0 still 50.00, house 1 still 0.00: no rows
 *   T+3600  C=5   1 h: the readings of T have left: {A40, C5}, M2 = 45; A 80 > 45, B gone:
 *                           house 0 100.00 (row); C 10: 0.00 as before
 *                 24 h: {5,10,20,30,40}, M2 = 40; A 50, B 60 > 40: house 0 100.00 (row)
 *   T+3601  C=7   1 h: A's T+1 reading left: house 0 has no plug: no row, 100.00 kept
 *   T+3602  A=1   1 h: {1,5,7}, M2 = 10; A 2: house 0 0.00 (row: compared with the 100.00
 *                 printed before it emptied); C {5,7} = 12 > 10: house 1 100.00 (row)
 *                 24 h: {1,5,7,10,20,30,40}, M2 = 20; A {1,10,40} = 20 not > 20, B 60:
 *                 house 0 50.00 (row) */
static const char *const q2_input = "1,100000,10,1,0,0,0\n2,100000,30,1,1,0,0\n"
                                    "3,100000,20,1,0,0,1\n4,100001,40,1,0,0,0\n"
                                    "5,103600,5,1,0,0,1\n6,103601,7,1,0,0,1\n"
                                    "7,103602,1,1,0,0,0\n";

static void test_q2_windows_and_changes(void **st)
{
    (void)st;
    assert_file(q2_input, "q2-1h.csv",
                "96401,100000,0,50.00\n96401,100000,1,0.00\n100001,103600,0,100.00\n"
                "100003,103602,0,0.00\n100003,103602,1,100.00\n");
    assert_file(q2_input, "q2-24h.csv",
                "13601,100000,0,50.00\n13601,100000,1,0.00\n17201,103600,0,100.00\n"
                "17203,103602,0,50.00\n");
}

/* Rounding: 1/3 = 33.33, 2/3 = 66.67 (half away from zero). Global {100,200,250,300},
 * M2 = 450: of house 2 only F (600) is above; house 3's G (500) is. Then E = 1000: global
 * M2 = 500, E {200,1000} = 1200 above: 2/3; G 500 is not above 500. */
static const char *const q2_round_input = "1,200000,100,1,0,0,2\n2,200000,200,1,1,0,2\n"
                                          "3,200000,300,1,2,0,2\n4,200000,250,1,0,0,3\n"
                                          "5,200001,1000,1,1,0,2\n";

static void test_q2_rounding(void **st)
{
    (void)st;
    assert_file(q2_round_input, "q2-1h.csv",
                "196401,200000,2,33.33\n196401,200000,3,100.00\n"
                "196402,200001,2,66.67\n196402,200001,3,0.00\n");
}

/* Real data: the same bytes at any parallelism and thread count. */
static void test_real_sample_same_at_any_parallelism(void **st)
{
    const char *shared = getenv("STROM_SHARED");
    char path[4096], *input, *one, *other;
    (void)st;
    snprintf(path, sizeof path, "%s/data/debs14/houses-0-9-first-84s.csv",
             shared ? shared : "../shared");
    input = tu_read_file(path, NULL);
    if (!input)
        fail_msg("cannot read %s (set STROM_SHARED to the shared directory)", path);
    for (int f = 0; f < 3; f++) {
        const char *file = f == 2 ? "q2-1h.csv" : f ? "q1-plug-15min.csv" : "q1-house-1min.csv";
        one = run_q1(input, file, 1, 1);
        assert_true(strlen(one) > 100);
        for (unsigned par = 2; par <= 5; par += 3) {
            other = run_q1(input, file, 2, par);
            assert_string_equal(other, one);
            free(other);
        }
        free(one);
    }
    free(input);
}

/* Key groups of every stateful DEBS operator move between instances while the job runs
 * (paused, moved, resumed, again and again): the twelve files stay the same bytes. This
 * exercises the snapshot codecs of Q1's houses, Q2's plug windows and Q2's houses. */
static char *two_days_input(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    uint64_t id = 0;
    for (int64_t t = 1377986401; t < 1377986401 + 30 * 3600; t += 20)
        for (int p = 0; p < 6; p++)
            fprintf(f, "%llu,%lld,%d.%d,1,%d,%d,%d\n", (unsigned long long)++id, (long long)t,
                    (int)((t / 300 * 7 + p * 13) % 90), (int)(t % 7), p % 3, p / 3 % 2, p % 4);
    fclose(f);
    return text;
}

static void run_moving(const char *input, const char *dir, int moves, unsigned *moved)
{
    char err[512] = "", in[4096], out[4096];
    struct strom_debs_conf conf = {.input = in, .out_dir = out,
                                   .queries = STROM_DEBS_Q1 | STROM_DEBS_Q2, .threads = 2,
                                   .parallelism = 3, .t0 = 1377986401};
    struct strom_debs_run *run;
    struct strom_job *job;
    int rc;

    snprintf(in, sizeof in, "%s/in.csv", dir);
    snprintf(out, sizeof out, "%s/%s", dir, moves ? "moved" : "still");
    assert_int_equal(tu_write_file(in, input, strlen(input)), 0);
    rc = strom_debs_run_new(&run, &conf, err, sizeof err);
    if (!rc)
        rc = strom_debs_run_start(run);
    if (rc)
        fail_msg("%s", err);
    job = strom_debs_run_job(run);
    for (unsigned round = 0; moves && round < 40 && !strom_job_done(job); round++) {
        static const char *const ops[] = {"q1", "q2plug", "q2house"};
        struct timespec run_a_while = {0, 2000000};
        nanosleep(&run_a_while, NULL);
        if (strom_job_pause(job))
            break;
        for (unsigned o = 0; o < 3; o++)
            for (unsigned kg = round % 5; kg < strom_job_key_groups(job); kg += 5) {
                unsigned from;
                if ((rc = strom_job_owner(job, ops[o], kg, &from)) ||
                    (rc = strom_job_move_keygroup(job, ops[o], kg, (from + 1) % 3)))
                    fail_msg("%s: %s", strom_strerror(rc), strom_job_errmsg(job));
                (*moved)++;
            }
        strom_job_resume(job);
    }
    rc = strom_debs_run_wait(run, err, sizeof err);
    if (rc)
        fail_msg("%s: %s", strom_strerror(rc), err);
    strom_debs_run_free(run);
}

static void test_moving_key_groups_keeps_output(void **st)
{
    char *dir = tu_tempdir(), *input = two_days_input();
    unsigned moved = 0, none = 0;
    (void)st;
    run_moving(input, dir, 0, &none);
    run_moving(input, dir, 1, &moved);
    for (unsigned k = 0; k < STROM_DEBS_STREAMS; k++) {
        char a[4200], b[4200];
        snprintf(a, sizeof a, "%s/still/%s", dir, strom_debs_stream_name(k));
        snprintf(b, sizeof b, "%s/moved/%s", dir, strom_debs_stream_name(k));
        char *ta = tu_read_file(a, NULL), *tb = tu_read_file(b, NULL);
        assert_non_null(ta);
        assert_non_null(tb);
        assert_true(strlen(ta) > 0);
        if (strcmp(ta, tb))
            fail_msg("%s differs after %u moves", strom_debs_stream_name(k), moved);
        free(ta);
        free(tb);
    }
    print_message("%u key-group moves\n", moved);
    assert_true(moved > 0);
    free(input);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_final_update_point_and_house_sum),
        cmocka_unit_test(test_update_points_across_a_gap),
        cmocka_unit_test(test_history_median_over_days),
        cmocka_unit_test(test_q2_windows_and_changes),
        cmocka_unit_test(test_q2_rounding),
        cmocka_unit_test(test_real_sample_same_at_any_parallelism),
        cmocka_unit_test(test_moving_key_groups_keeps_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
