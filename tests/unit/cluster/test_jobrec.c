/* The cluster's texts in ZooKeeper (cluster/jobrec.h): the job, the assignment and a
 * worker's status, byte for byte, and what their decoders refuse, with the line at fault. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/jobrec.h"
#include "strom/error.h"

static const char job_text[] = "strom-job 1\nid 00112233445566ff\nworkers 2\narg debs14\n"
                               "arg --input\narg /data/my input.csv\n";

static void test_job(void **st)
{
    struct strom_jobrec j = {0}, k;
    char err[256], *text;
    size_t len;
    (void)st;
    strcpy(j.id, "00112233445566ff");
    j.workers = 2;
    j.argv[j.argc++] = "debs14";
    j.argv[j.argc++] = "--input";
    j.argv[j.argc++] = "/data/my input.csv";
    assert_int_equal(strom_jobrec_encode(&j, &text, &len, err, sizeof err), 0);
    assert_int_equal(len, strlen(job_text));
    assert_memory_equal(text, job_text, len);
    assert_int_equal(strom_jobrec_decode(&k, text, len, err, sizeof err), 0);
    assert_string_equal(k.id, j.id);
    assert_int_equal(k.workers, 2);
    assert_int_equal(k.argc, 3);
    assert_string_equal(k.argv[2], "/data/my input.csv");
    assert_null(k.argv[3]);
    strom_jobrec_release(&k);
    free(text);
    /* an argument with a newline would make two lines: refused at encoding */
    j.argv[1] = "--in\nput";
    assert_int_equal(strom_jobrec_encode(&j, &text, &len, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "argument 2"));
}

static void expect_refused(const char *text, const char *what)
{
    struct strom_jobrec k;
    char err[256] = "";
    assert_int_equal(strom_jobrec_decode(&k, text, strlen(text), err, sizeof err), STROM_E_CORRUPT);
    if (!strstr(err, what))
        fail_msg("'%s': message '%s' lacks '%s'", text, err, what);
}

static void test_job_refusals(void **st)
{
    (void)st;
    /* every cut of a valid text that is not at a line's end */
    for (size_t cut = 0; cut < strlen(job_text); cut++) {
        struct strom_jobrec k;
        char err[256];
        int rc = strom_jobrec_decode(&k, job_text, cut, err, sizeof err);
        if (cut && job_text[cut - 1] == '\n' && cut > (size_t)(strstr(job_text, "arg") - job_text)) {
            assert_int_equal(rc, 0); /* fewer arguments, still a job */
            strom_jobrec_release(&k);
        } else
            assert_int_equal(rc, STROM_E_CORRUPT);
    }
    expect_refused("strom-job 2\n", "line 1");
    expect_refused("strom-job 1\nid 00112233445566FF\n", "line 2");
    expect_refused("strom-job 1\nid 00112233445566ff\nworkers 01\narg x\n", "line 3");
    expect_refused("strom-job 1\nid 00112233445566ff\nworkers 257\narg x\n", "line 3");
    expect_refused("strom-job 1\nid 00112233445566ff\nworkers 1\n", "without arguments");
    expect_refused("strom-job 1\nid 00112233445566ff\nworkers 1\narg x\nextra y\n", "line 5");
    expect_refused("strom-job 1\nid 00112233445566ff\nworkers 1\narg \x01\n", "line 4");
    {
        char t[] = "strom-job 1\nid 00112233445566ff\nworkers 1\narg a\0b\n";
        struct strom_jobrec k;
        char err[256];
        assert_int_equal(strom_jobrec_decode(&k, t, sizeof t - 1, err, sizeof err),
                         STROM_E_CORRUPT);
        assert_non_null(strstr(err, "NUL"));
    }
}

static void test_assignment(void **st)
{
    static const char want[] = "strom-assignment 1\njob 00112233445566ff\nstate failed\n"
                               "attempt 2\nworker w1 tcp://127.0.0.1:7101\nworker w2 "
                               "tcp://10.0.0.2:7100\nmessage w2: cannot open /x\n";
    struct strom_assignment *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    char err[256], *text;
    size_t len;
    (void)st;
    strcpy(a->job, "00112233445566ff");
    a->state = STROM_JOB_FAILED;
    a->attempt = 2;
    a->n = 2;
    strcpy(a->w[0].name, "w1");
    strcpy(a->w[0].addr, "tcp://127.0.0.1:7101");
    strcpy(a->w[1].name, "w2");
    strcpy(a->w[1].addr, "tcp://10.0.0.2:7100");
    strcpy(a->message, "w2: cannot open /x");
    assert_int_equal(strom_assignment_encode(a, &text, &len, err, sizeof err), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(text, want, len);
    assert_int_equal(strom_assignment_decode(b, text, len, err, sizeof err), 0);
    assert_int_equal(b->n, 2);
    assert_int_equal(b->state, STROM_JOB_FAILED);
    assert_int_equal(strom_assignment_index(b, "w2"), 1);
    assert_int_equal(strom_assignment_index(b, "w3"), -1);
    assert_string_equal(b->message, a->message);
    free(text);
    /* refusals */
    static const char *const bad[] = {
        "strom-assignment 1\njob 00112233445566ff\nstate paused\nattempt 0\nworker w1 x\n",
        "strom-assignment 1\njob 00112233445566ff\nstate running\nattempt 0\n",
        "strom-assignment 1\njob 00112233445566ff\nstate running\nattempt 0\nworker w1 x\n"
        "worker w1 y\n",
        "strom-assignment 1\njob 00112233445566ff\nstate running\nattempt 0\nworker .w x\n",
        "strom-assignment 1\njob 00112233445566ff\nstate running\nattempt 0\nworker w1\n",
        "strom-assignment 1\njob 00112233445566ff\nstate running\nattempt 0\nworker w1 x\n"
        "message m\nworker w2 y\n",
        "strom-assignment 1\njob 00112233445566ff\nstate running\nattempt 0\nworker w1 x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strom_assignment_decode(b, bad[i], strlen(bad[i]), err, sizeof err) != STROM_E_CORRUPT)
            fail_msg("accepted bad assignment %zu", i);
    /* a stopped job may have no workers, a running one may not */
    a->n = 0;
    a->state = STROM_JOB_STOPPED;
    assert_int_equal(strom_assignment_encode(a, &text, &len, err, sizeof err), 0);
    assert_int_equal(strom_assignment_decode(b, text, len, err, sizeof err), 0);
    free(text);
    a->state = STROM_JOB_RUNNING;
    assert_int_equal(strom_assignment_encode(a, &text, &len, err, sizeof err), -EINVAL);
    free(a);
    free(b);
}

static void test_status(void **st)
{
    struct strom_worker_status s = {.epoch = 3, .rows = 1000000, .rate = 250000.4,
                                    .checkpoint = 9}, t;
    char buf[256], err[256];
    int n;
    (void)st;
    n = strom_status_encode(&s, buf, sizeof buf);
    assert_string_equal(buf, "epoch 3\nrows 1000000\nrate 250000\ncheckpoint 9\n");
    assert_int_equal(strom_status_decode(&t, buf, (size_t)n, err, sizeof err), 0);
    assert_true(t.epoch == 3 && t.rows == 1000000 && t.checkpoint == 9 && t.rate == 250000);
    assert_int_equal(strom_status_decode(&t, buf, (size_t)n - 1, err, sizeof err), STROM_E_CORRUPT);
    assert_int_equal(strom_status_decode(&t, "epoch 3\nrows x\n", 15, err, sizeof err),
                     STROM_E_CORRUPT);
    assert_non_null(strstr(err, "line 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job),
        cmocka_unit_test(test_job_refusals),
        cmocka_unit_test(test_assignment),
        cmocka_unit_test(test_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
