/* The runtime's transport over net channels (net/nettrans.h): the chain job spread over 3
 * forked processes, each with its own net on loopback TCP, writes the bytes of one process,
 * with CURVE and insecure; a process killed mid-run makes the others fail with
 * STROM_E_PEERDEAD instead of hanging; peers in different epochs never meet, and the same
 * nets then serve a new epoch; bad arguments are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/nettrans.h"
#include "net_fixture.h"
#include "testops.h"

#define PROCS 3
#define EVENTS 200000
#define KEYS 1000
#define EPOCH 7
#define EP_LEN 256
#define EXIT_PEERDEAD 3 /* a child whose job failed with STROM_E_PEERDEAD */

static const char *const names[] = {"p0", "p1", "p2", NULL};

struct world {
    char *base, *keys;
    pid_t pid[PROCS];
    int up[PROCS], down[PROCS]; /* parent's ends: endpoints up, the table down */
};

/* Sources and operators spread round robin, the sink on process 0. */
static unsigned place(void *arg, const char *node, unsigned idx, unsigned par)
{
    (void)arg;
    (void)par;
    return strcmp(node, "sink") ? (idx + 1) % PROCS : 0;
}

/* The chain job into path; with dc distributed. gated: the source holds at the gate, so that
 * the job cannot end (until the process is killed). */
static int run_one(const char *path, const struct strom_dist_config *dc, unsigned threads,
                   int gated)
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
    if (gated)
        atomic_store(&g.gate, 1);
    rc = t_build_chain(&job, &cfg, &g, 3, &twsum_op, &sink);
    if (!rc && dc)
        rc = strom_job_set_distributed(job, dc);
    if (!rc)
        rc = strom_job_run(job);
    if (rc)
        fprintf(stderr, "job failed: %s: %s\n", strom_strerror(rc), strom_job_errmsg(job));
    strom_job_free(job);
    return rc;
}

struct opts {
    const char *keys, *out;
    int insecure;
    int die;                     /* process 2 is killed mid-run */
    struct strom_net_config net; /* timing */
};

/* One process: its net, its endpoint up the pipe, everybody's down, the job, the end. */
static int proc_main(unsigned self, const struct opts *o, int up, int down)
{
    struct strom_net_config cfg = o->net;
    struct strom_dist_config dc = {.self = self, .procs = PROCS, .place = place};
    struct strom_net *n = NULL;
    struct strom_nettrans *t = NULL;
    char eps[PROCS][EP_LEN], err[512] = "";
    const char *ep[PROCS];
    struct fx_log log;
    int rc;

    fx_log_init(&log);
    cfg.keys_dir = o->insecure ? NULL : o->keys;
    cfg.name = names[self];
    cfg.insecure = o->insecure;
    cfg.log = fx_log_fn;
    cfg.log_arg = &log;
    memset(eps, 0, sizeof eps);
    if ((rc = strom_net_new(&n, &cfg, err, sizeof err)) ||
        (rc = strom_net_listen(n, "tcp://127.0.0.1:*", eps[self], EP_LEN, err, sizeof err)))
        goto out;
    if (write(up, eps[self], EP_LEN) != EP_LEN || fx_read_all(down, eps, sizeof eps)) {
        rc = -EIO;
        snprintf(err, sizeof err, "the endpoint table did not come");
        goto out;
    }
    for (unsigned p = 0; p < PROCS; p++)
        ep[p] = eps[p];
    if ((rc = strom_nettrans_new(&t, n, self, PROCS, names, ep, EPOCH, 10000, err, sizeof err)))
        goto out;
    if (write(up, "s", 1) != 1) { /* started: the parent may kill process 2 from now on */
        rc = -EIO;
        goto out;
    }
    strom_nettrans_transport(t, &dc.transport);
    rc = run_one(o->out, &dc, self == 0 ? 2 : 1, o->die && self == 2);
    if (rc)
        snprintf(err, sizeof err, "the job failed");
    else if ((rc = strom_nettrans_finish(t, 10000)))
        snprintf(err, sizeof err, "finish: %s", strom_strerror(rc));
out:
    if (rc && !(o->die && rc == STROM_E_PEERDEAD))
        fprintf(stderr, "process %u: %s: %s\n%s", self, strom_strerror(rc), err, log.buf);
    strom_nettrans_free(t);
    strom_net_free(n);
    return !rc ? 0 : rc == STROM_E_PEERDEAD ? EXIT_PEERDEAD : 1;
}

/* Forks the processes, passes the endpoints round, and collects their exit statuses (-1:
 * killed after ms). */
static void run_procs(struct world *w, const struct opts *o, int status[PROCS], long ms)
{
    char eps[PROCS][EP_LEN];

    for (unsigned p = 0; p < PROCS; p++) {
        int u[2], d[2];
        if (pipe(u) < 0 || pipe(d) < 0)
            fail_msg("pipe: %s", strerror(errno));
        fflush(NULL);
        w->pid[p] = fork();
        if (w->pid[p] < 0)
            fail_msg("fork: %s", strerror(errno));
        if (w->pid[p] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
            alarm(30);                        /* a hang fails the test instead of stalling */
            close(u[0]);
            close(d[1]);
            _exit(proc_main(p, o, u[1], d[0]));
        }
        close(u[1]);
        close(d[0]);
        w->up[p] = u[0];
        w->down[p] = d[1];
    }
    for (unsigned p = 0; p < PROCS; p++) {
        struct pollfd pf = {w->up[p], POLLIN, 0};
        if (poll(&pf, 1, 10000) != 1 || fx_read_all(w->up[p], eps[p], EP_LEN))
            fail_msg("process %u did not say where it listens", p);
    }
    for (unsigned p = 0; p < PROCS; p++)
        if (write(w->down[p], eps, sizeof eps) != (ssize_t)sizeof eps)
            fail_msg("process %u did not take the endpoints", p);
    if (o->die) { /* once all have started their jobs, process 2 crashes */
        for (unsigned p = 0; p < PROCS; p++) {
            struct pollfd pf = {w->up[p], POLLIN, 0};
            char c;
            if (poll(&pf, 1, 20000) != 1 || fx_read_all(w->up[p], &c, 1))
                fail_msg("process %u did not start its job", p);
        }
        kill(w->pid[2], SIGKILL);
    }
    for (unsigned p = 0; p < PROCS; p++) {
        status[p] = fx_wait(w->pid[p], ms);
        w->pid[p] = 0;
    }
}

static int setup(void **st)
{
    struct world *w = calloc(1, sizeof *w);
    w->base = tu_tempdir();
    w->keys = fx_keys(w->base, "keys", names);
    for (unsigned p = 0; p < PROCS; p++)
        w->up[p] = w->down[p] = -1;
    *st = w;
    return 0;
}

/* Runs even when a test fails: no child outlives its test. */
static int teardown(void **st)
{
    struct world *w = *st;
    for (unsigned p = 0; p < PROCS; p++) {
        fx_kill(w->pid[p]);
        if (w->up[p] >= 0)
            close(w->up[p]);
        if (w->down[p] >= 0)
            close(w->down[p]);
    }
    tu_rmtree(w->base);
    free(w->base);
    free(w->keys);
    free(w);
    return 0;
}

static void same_bytes(struct world *w, int insecure, const struct strom_net_config *net)
{
    char one[4096], three[4096];
    struct opts o = {.keys = w->keys, .out = three, .insecure = insecure, .net = *net};
    int status[PROCS];
    struct timespec t0, t1;
    size_t la, lb;
    char *a, *b;

    snprintf(one, sizeof one, "%s/one.csv", w->base);
    snprintf(three, sizeof three, "%s/three.csv", w->base);
    assert_int_equal(run_one(one, NULL, 2, 0), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run_procs(w, &o, status, 40000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "  %u processes%s: %.2f s\n", PROCS, insecure ? " (insecure)" : "",
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    for (unsigned p = 0; p < PROCS; p++)
        if (status[p])
            fail_msg("process %u ended with status %d", p, status[p]);
    a = tu_read_file(one, &la);
    b = tu_read_file(three, &lb);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(la > 100000);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
}

/* With windows of 8 messages, smaller than the credits in flight: the sender thread waits
 * for room, credits are refused for a moment (-EAGAIN) and go on the next round. dead_ms is
 * long: no peer dies here, but a loaded test machine may stall processes for seconds. */
static void test_three_processes_curve(void **st)
{
    struct strom_net_config small = {.window_batches = 8, .dead_ms = 10000};
    same_bytes(*st, 0, &small);
}

static void test_three_processes_insecure(void **st)
{
    struct strom_net_config dflt = {.dead_ms = 10000};
    same_bytes(*st, 1, &dflt);
}

/* Process 2 is killed mid-run (its source held at the gate, so the job cannot have ended):
 * the others' jobs fail with STROM_E_PEERDEAD once the net reports it dead. */
static void test_dead_peer_fails_the_job(void **st)
{
    struct world *w = *st;
    char out[4096];
    struct opts o = {.keys = w->keys,
                     .out = out,
                     .die = 1,
                     .net = {.heartbeat_ms = 100, .dead_ms = 1000, .resend_ms = 100}};
    int status[PROCS];

    snprintf(out, sizeof out, "%s/dead.csv", w->base);
    run_procs(w, &o, status, 15000);
    assert_int_equal(status[2], 128 + SIGKILL);
    assert_int_equal(status[0], EXIT_PEERDEAD);
    assert_int_equal(status[1], EXIT_PEERDEAD);
}

/* ---- in one process: two nets, each nettrans on its own thread ---- */

struct side {
    struct strom_net *n;
    unsigned self;
    const char *ep[2];
    uint64_t epoch;
    int timeout_ms;
    struct strom_nettrans *t;
    int rc, finish_rc;
    char err[512];
};

static void *side_main(void *arg)
{
    struct side *s = arg;
    s->rc = strom_nettrans_new(&s->t, s->n, s->self, 2, names, s->ep, s->epoch, s->timeout_ms,
                               s->err, sizeof s->err);
    s->finish_rc = s->rc ? s->rc : strom_nettrans_finish(s->t, 5000);
    return NULL;
}

static void both(struct side *a, struct side *b)
{
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, side_main, a), 0);
    side_main(b);
    pthread_join(th, NULL);
}

/* p0 in epoch 1, p1 in epoch 2: each refuses the other's frames and neither hears a hello.
 * Then the same nets, one epoch: they meet (the connection made before serves), and finish
 * with nothing sent. */
static void test_epochs_never_meet(void **st)
{
    struct world *w = *st;
    struct strom_net_config cfg = {.keys_dir = w->keys, .resend_ms = 100};
    struct side s[2] = {{.self = 0, .epoch = 1, .timeout_ms = 1500},
                        {.self = 1, .epoch = 2, .timeout_ms = 1500}};
    char ep0[EP_LEN], err[512] = "";
    struct strom_net_stats st0, st1;

    for (unsigned i = 0; i < 2; i++) {
        cfg.name = names[i];
        if (strom_net_new(&s[i].n, &cfg, err, sizeof err))
            fail_msg("net: %s", err);
    }
    if (strom_net_listen(s[0].n, "tcp://127.0.0.1:*", ep0, sizeof ep0, err, sizeof err))
        fail_msg("listen: %s", err);
    s[1].ep[0] = ep0;
    both(&s[0], &s[1]);
    assert_int_equal(s[0].rc, -ETIMEDOUT);
    assert_int_equal(s[1].rc, -ETIMEDOUT);
    assert_non_null(strstr(s[0].err, "1 (p1)"));
    assert_non_null(strstr(s[1].err, "0 (p0)"));
    strom_net_stats(s[0].n, &st0);
    strom_net_stats(s[1].n, &st1);
    assert_true(st0.refused > 0 && st1.refused > 0);

    s[0].epoch = s[1].epoch = 3;
    s[0].timeout_ms = s[1].timeout_ms = 10000;
    both(&s[0], &s[1]);
    if (s[0].rc || s[1].rc)
        fail_msg("epoch 3: %s / %s", s[0].err, s[1].err);
    assert_int_equal(s[0].finish_rc, 0);
    assert_int_equal(s[1].finish_rc, 0);
    for (unsigned i = 0; i < 2; i++) {
        strom_nettrans_free(s[i].t);
        strom_net_free(s[i].n);
    }
}

static void test_refusals(void **st)
{
    struct world *w = *st;
    struct strom_net_config cfg = {.keys_dir = w->keys, .name = "p1"};
    struct strom_net *n;
    struct strom_nettrans *t = NULL;
    const char *eps[PROCS] = {NULL, NULL, NULL};
    const char *const dup[] = {"p0", "p1", "p1"};
    char err[512] = "";

    if (strom_net_new(&n, &cfg, err, sizeof err))
        fail_msg("net: %s", err);
    assert_int_equal(strom_nettrans_new(&t, n, 3, PROCS, names, eps, 1, 100, err, sizeof err),
                     STROM_E_INVAL);
    /* p1 connects to p0, whose endpoint is missing */
    assert_int_equal(strom_nettrans_new(&t, n, 1, PROCS, names, eps, 1, 100, err, sizeof err),
                     STROM_E_INVAL);
    assert_non_null(strstr(err, "no endpoint"));
    eps[0] = eps[1] = "tcp://127.0.0.1:1";
    /* this net is p1, not p2 */
    assert_int_equal(strom_nettrans_new(&t, n, 2, PROCS, names, eps, 1, 100, err, sizeof err),
                     STROM_E_INVAL);
    assert_non_null(strstr(err, "this net is 'p1'"));
    assert_int_equal(strom_nettrans_new(&t, n, 1, PROCS, dup, eps, 1, 100, err, sizeof err),
                     STROM_E_INVAL);
    assert_null(t);
    strom_nettrans_free(NULL);
    strom_net_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epochs_never_meet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_three_processes_curve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_three_processes_insecure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_peer_fails_the_job, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
