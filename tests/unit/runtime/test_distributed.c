/* Distributed runs: the same job spread over 3 processes (forked, joined by Unix sockets) writes the same bytes as in one process; a batch's wire
 * form, byte for byte, and what its decoder refuses. The transport is strom_sockmesh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime_int.h"
#include "strom/error.h"
#include "testops.h"
#include "testutil.h"

#define PROCS 3
#define EVENTS 200000
#define KEYS 1000

/* Sources and operators spread round robin, the sink on process 0. */
static unsigned place(void *arg, const char *node, unsigned idx, unsigned par)
{
    (void)arg;
    (void)par;
    return strcmp(node, "sink") ? (idx + 1) % PROCS : 0;
}

static int run_one(const char *path, const struct strom_dist_config *dc, unsigned par,
                   unsigned threads)
{
    static struct tgen g;
    struct strom_job_config cfg = {.threads = threads, .key_groups = 64};
    struct strom_file_sink sink = {.path = path, .format = t_format_row};
    struct strom_job *job;
    int rc;

    memset(&g, 0, sizeof g);
    g.events = EVENTS;
    g.keys = KEYS;
    g.per_tick = 10;
    rc = t_build_chain(&job, &cfg, &g, par, &twsum_op, &sink);
    if (!rc && dc)
        rc = strom_job_set_distributed(job, dc);
    if (!rc)
        rc = strom_job_run(job);
    if (rc)
        fprintf(stderr, "job failed: %s: %s\n", strom_strerror(rc), strom_job_errmsg(job));
    strom_job_free(job);
    return rc;
}

static void test_three_processes_same_bytes(void **st)
{
    char *dir = tu_tempdir();
    char one[4096], three[4096];
    struct strom_sockmesh *mesh;
    pid_t pid[PROCS];
    (void)st;

    snprintf(one, sizeof one, "%s/one.csv", dir);
    snprintf(three, sizeof three, "%s/three.csv", dir);
    assert_int_equal(run_one(one, NULL, 3, 2), 0);
    assert_int_equal(strom_sockmesh_new(&mesh, PROCS), 0);
    for (unsigned p = 0; p < PROCS; p++) {
        pid[p] = fork();
        assert_true(pid[p] >= 0);
        if (pid[p] == 0) {
            struct strom_dist_config dc = {.self = p, .procs = PROCS, .place = place};
            int rc = strom_sockmesh_transport(mesh, p, &dc.transport);
            alarm(60); /* a hang fails the test instead of stalling it */
            if (!rc)
                rc = run_one(three, &dc, 3, p == 0 ? 2 : 1);
            strom_sockmesh_free(mesh);
            _exit(rc ? 1 : 0);
        }
    }
    strom_sockmesh_free(mesh);
    for (unsigned p = 0; p < PROCS; p++) {
        int status;
        assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
        if (!WIFEXITED(status) || WEXITSTATUS(status))
            fail_msg("process %u ended with status %#x", p, status);
    }
    size_t la, lb;
    char *a = tu_read_file(one, &la), *b = tu_read_file(three, &lb);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(la > 100000);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    tu_rmtree(dir);
    free(dir);
}

static void test_batch_wire(void **st)
{
    uint8_t buf[STROM_BATCH_WIRE_HDR + 2 * STROM_EVENT_WIRE];
    struct strom_batch *xb = calloc(1, sizeof *xb + 2 * sizeof(struct strom_event)),
                       *yb = calloc(1, sizeof *yb + 2 * sizeof(struct strom_event));
    static const uint8_t want_hdr[24] = {2, 0, 0, 0, 5, 0, 0, 0,            /* n, WM|BARRIER */
                                         0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -2 */
                                         7, 0, 0, 0, 0, 0, 0, 0};           /* barrier 7 */
    (void)st;
    assert_non_null(xb);
    assert_non_null(yb);
    xb->n = 2;
    xb->flags = STROM_BATCH_WM | STROM_BATCH_BARRIER;
    xb->watermark = -2;
    xb->barrier = 7;
    xb->ev[0] = (struct strom_event){.key = 0x0102030405060708ULL, .time = 9, .v = {1, -1, 3}};
    xb->ev[1] = (struct strom_event){.key = 1, .time = -5, .v = {0, 0, INT64_MIN}};
    assert_int_equal(strom_rt__batch_encode(xb, buf), sizeof buf);
    assert_memory_equal(buf, want_hdr, sizeof want_hdr);
    assert_int_equal(buf[24], 0x08); /* key, little endian */
    assert_int_equal(buf[31], 0x01);
    assert_int_equal(buf[32], 9);
    assert_int_equal(buf[48], 0xff); /* v[1] = -1 */
    assert_int_equal(strom_rt__batch_decode(buf, sizeof buf, 2, yb), 0);
    assert_memory_equal(&xb->ev, &yb->ev, 2 * sizeof(struct strom_event));
    assert_int_equal(yb->n, 2);
    assert_int_equal(yb->flags, xb->flags);
    assert_true(yb->watermark == -2 && yb->barrier == 7);
    /* refusals: every cut, more events than a batch holds, a length that disagrees with
     * n, unknown flags */
    for (size_t cut = 0; cut < sizeof buf; cut++)
        assert_int_equal(strom_rt__batch_decode(buf, cut, 2, yb), STROM_E_CORRUPT);
    assert_int_equal(strom_rt__batch_decode(buf, sizeof buf, 1, yb), STROM_E_CORRUPT);
    buf[0] = 1;
    assert_int_equal(strom_rt__batch_decode(buf, sizeof buf, 2, yb), STROM_E_CORRUPT);
    buf[0] = 2;
    buf[4] = 8;
    assert_int_equal(strom_rt__batch_decode(buf, sizeof buf, 2, yb), STROM_E_CORRUPT);
    free(xb);
    free(yb);
}

static void test_refusals(void **st)
{
    struct strom_job *job;
    struct strom_sockmesh *mesh;
    struct strom_dist_config dc = {.self = 3, .procs = 3, .place = place};
    (void)st;
    assert_int_equal(strom_sockmesh_new(&mesh, 3), 0);
    assert_int_equal(strom_sockmesh_transport(mesh, 3, &dc.transport), STROM_E_INVAL);
    assert_int_equal(strom_sockmesh_transport(mesh, 1, &dc.transport), 0);
    assert_int_equal(strom_job_new(&job, NULL), 0);
    assert_int_equal(strom_job_set_distributed(job, &dc), STROM_E_INVAL); /* self >= procs */
    dc.self = 0;
    dc.place = NULL;
    assert_int_equal(strom_job_set_distributed(job, &dc), STROM_E_INVAL);
    dc.place = place;
    assert_int_equal(strom_job_set_distributed(job, &dc), 0);
    assert_int_equal(strom_job_set_distributed(job, &dc), STROM_E_BADSTATE); /* once */
    strom_job_free(job);
    strom_sockmesh_free(mesh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_wire),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_three_processes_same_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
