/* Checkpoints in distributed runs: a job spread over 3 processes (forked, joined by
 * strom_sockmesh) checkpoints into one shared directory and writes, through transactional
 * file sinks on two different processes, the same bytes as one process without
 * checkpoints: (a) without a crash, with checkpoints taken; (b) killed (kill -9, all three)
 * after a complete checkpoint, then run again with every instance placed on another
 * process: resumed, the same bytes; (c) run again after the end: nothing to do. Also the control
 * messages' wire form and what its decoder refuses.
 *
 * The parent paces the sources through a gate in memory shared with the children, so that
 * a run lasts long enough for checkpoints, and so that the kill comes while it runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/runtime_int.h"
#include "strom/error.h"
#include "testops.h"
#include "testutil.h"

#define PROCS 3
#define EVENTS 200000
#define KEYS 1000
#define FP "test_distributed_ckpt v1"

/* A source like testops' gen, which also checkpoints its position. */
static int cgen_open(struct strom_ctx *ctx)
{
    uint64_t *next = malloc(sizeof *next);
    const uint8_t *b;
    size_t len;

    if (!next)
        return -ENOMEM;
    *next = strom_ctx_instance(ctx);
    strom_ctx_set_local(ctx, next);
    if (strom_ctx_restored(ctx, &b, &len)) {
        struct strom_reader r = {b, len};
        if (len != 8 || strom_reader_u64(&r, next))
            return strom_ctx_fail(ctx, STROM_E_CORRUPT, "source: bad position (%zu bytes)", len);
    }
    return 0;
}

static int cgen_produce(struct strom_ctx *ctx)
{
    struct tgen *g = strom_ctx_arg(ctx);
    uint64_t *next = strom_ctx_local(ctx), p = strom_ctx_parallelism(ctx);
    uint64_t gate = atomic_load(&g->gate);
    int k = 0, rc;

    for (; k < 500 && *next < g->events && (!gate || *next < gate); k++) {
        struct strom_event ev = tgen_event(g, *next);
        if ((rc = strom_emit(ctx, &ev)))
            return rc;
        *next += p;
    }
    if (*next >= g->events)
        return STROM_END;
    if (!k) { /* held at the gate: leave the cores to the others */
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        return 0;
    }
    return strom_emit_watermark(ctx, tgen_event(g, *next).time - 1);
}

static int cgen_snapshot(struct strom_ctx *ctx, uint64_t n, struct strom_buf *out)
{
    (void)n;
    return strom_buf_put_u64(out, *(uint64_t *)strom_ctx_local(ctx));
}

static void cgen_close(struct strom_ctx *ctx)
{
    free(strom_ctx_local(ctx));
}

static const struct strom_operator cgen_op = {.kind = "test-ckpt-gen",
                                              .open = cgen_open,
                                              .produce = cgen_produce,
                                              .snapshot = cgen_snapshot,
                                              .close = cgen_close};

/* Every operator's instances spread over the processes; the sinks on processes 2 and 0
 * (the committer), so that both commit paths write output. arg, when not NULL, points to
 * a shift of every instance to another process (a placement that changed between runs). */
static unsigned place(void *arg, const char *node, unsigned idx, unsigned par)
{
    unsigned shift = arg ? *(const unsigned *)arg : 0, p;
    (void)par;
    if (!strcmp(node, "sink-a"))
        p = 2;
    else if (!strcmp(node, "sink-b"))
        p = 0;
    else if (!strcmp(node, "sum"))
        p = idx + 1;
    else if (!strcmp(node, "bins"))
        p = idx + 2;
    else
        p = idx;
    return (p + shift) % PROCS;
}

static unsigned placement_shift; /* for the children: see place() */

struct run {
    const char *out;   /* directory of a.csv and b.csv */
    const char *ckdir; /* NULL: no checkpoints */
    const struct strom_dist_config *dc;
    struct tgen *g;
    unsigned threads;
    /* what the run reports */
    int finished_before;
    struct strom_checkpoint_stats st;
};

/* With STROM_TEST_VERBOSE set, the checkpoints' log on stderr. */
static void log_line(void *arg, const char *msg)
{
    fprintf(stderr, "[%d] %s\n", (int)(intptr_t)arg, msg);
}

/* src (3) -> sum (3, by key) -> sink-a;  src -> bins (2, by key) -> sink-b */
static int run_job(struct run *r)
{
    struct strom_job_config cfg = {.threads = r->threads, .key_groups = 64, .batch_events = 256};
    struct strom_file_sink a = {.path = tu_path(r->out, "a.csv"), .format = t_format_row},
                           b = {.path = tu_path(r->out, "b.csv"), .format = t_format_row};
    struct strom_checkpoint_config cc = {
        .dir = r->ckdir, .interval = 0.05, .fingerprint = FP, .fingerprint_len = strlen(FP)};
    struct strom_job *job;
    int rc = strom_job_new(&job, &cfg);

    if (getenv("STROM_TEST_VERBOSE")) {
        cc.log = log_line;
        cc.log_arg = (void *)(intptr_t)(r->dc ? (int)r->dc->self : -1);
    }

    if (!rc)
        rc = strom_job_add(job, "src", &cgen_op, r->g, 3);
    if (!rc)
        rc = strom_job_add(job, "sum", &twsum_op, NULL, 3);
    if (!rc)
        rc = strom_job_add(job, "bins", &tbins_op, NULL, 2);
    if (!rc)
        rc = strom_job_add(job, "sink-a", &strom_file_sink_op, &a, 1);
    if (!rc)
        rc = strom_job_add(job, "sink-b", &strom_file_sink_op, &b, 1);
    if (!rc)
        rc = strom_job_connect(job, "src", "sum", STROM_BY_KEY);
    if (!rc)
        rc = strom_job_connect(job, "src", "bins", STROM_BY_KEY);
    if (!rc)
        rc = strom_job_connect(job, "sum", "sink-a", STROM_GLOBAL);
    if (!rc)
        rc = strom_job_connect(job, "bins", "sink-b", STROM_GLOBAL);
    if (!rc && r->dc)
        rc = strom_job_set_distributed(job, r->dc);
    if (!rc && r->ckdir)
        rc = strom_job_set_checkpoints(job, &cc);
    if (!rc && !(r->finished_before = strom_job_finished_before(job)))
        rc = strom_job_run(job);
    strom_job_checkpoint_stats(job, &r->st);
    if (rc)
        fprintf(stderr, "job failed: %s: %s\n", strom_strerror(rc), strom_job_errmsg(job));
    strom_job_free(job);
    return rc;
}

/* The run of one process; its report goes to REPORTS/report.<p>: finished_before,
 * restored, taken. */
static void child(unsigned p, struct strom_sockmesh *mesh, struct tgen *g, const char *out,
                  const char *ckdir, const char *reports)
{
    struct strom_dist_config dc = {
        .self = p, .procs = PROCS, .place = place, .place_arg = &placement_shift};
    struct run r = {.out = out, .ckdir = ckdir, .dc = &dc, .g = g, .threads = p == 0 ? 2 : 1};
    char path[4200];
    FILE *f;
    int rc = strom_sockmesh_transport(mesh, p, &dc.transport);

    alarm(getenv("STROM_TEST_ALARM") ? (unsigned)atoi(getenv("STROM_TEST_ALARM"))
                                     : 60); /* a hang fails the test instead of stalling it */
    if (!rc)
        rc = run_job(&r);
    strom_sockmesh_free(mesh);
    snprintf(path, sizeof path, "%s/report.%u", reports, p);
    if (!rc && (f = fopen(path, "w"))) {
        fprintf(f, "%d %llu %llu\n", r.finished_before, (unsigned long long)r.st.restored,
                (unsigned long long)r.st.taken);
        fclose(f);
    }
    _exit(rc ? 1 : 0);
}

struct report {
    int finished_before;
    unsigned long long restored, taken;
};

static void read_report(const char *dir, unsigned p, struct report *rep)
{
    char path[4200];
    FILE *f;
    snprintf(path, sizeof path, "%s/report.%u", dir, p);
    f = fopen(path, "r");
    if (!f)
        fail_msg("process %u wrote no report", p);
    if (fscanf(f, "%d %llu %llu", &rep->finished_before, &rep->restored, &rep->taken) != 3)
        fail_msg("process %u: unreadable report", p);
    fclose(f);
    unlink(path);
}

/* The complete checkpoints in dir now (directories with a MANIFEST), as bits (n % 64)
 * added to *seen, so that those deleted since still count. */
static void complete_checkpoints(const char *dir, uint64_t *seen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[4200];
        struct stat sb;
        if (strncmp(e->d_name, "ckpt-", 5))
            continue;
        snprintf(path, sizeof path, "%s/%s/MANIFEST", dir, e->d_name);
        if (!stat(path, &sb))
            *seen |= 1ull << (strtoull(e->d_name + 5, NULL, 10) % 64);
    }
    if (d)
        closedir(d);
}

enum pace { PACE_TO_END, PACE_KILL_AFTER_CHECKPOINT, NO_GATE };

/* Forks the 3 processes. PACE_*: the gate goes up by EVENTS/200 every 10 ms (2 s for the
 * input); past half the input, until two checkpoints are complete, by only a little more
 * than a watermark's worth each time (a loaded machine takes longer for them). With
 * PACE_KILL_AFTER_CHECKPOINT all three are killed (kill -9) a few steps after the first
 * complete checkpoint. Returns the number of processes killed; every other must have
 * succeeded. */
static unsigned run_three(struct tgen *g, const char *out, const char *ckdir, const char *reports,
                          enum pace pace)
{
    struct strom_sockmesh *mesh;
    pid_t pid[PROCS];
    unsigned killed = 0, after = 0;
    uint64_t seen = 0;

    atomic_store(&g->gate, pace == NO_GATE ? 0 : 1);
    assert_int_equal(strom_sockmesh_new(&mesh, PROCS), 0);
    for (unsigned p = 0; p < PROCS; p++) {
        pid[p] = fork();
        assert_true(pid[p] >= 0);
        if (pid[p] == 0)
            child(p, mesh, g, out, ckdir, reports);
    }
    strom_sockmesh_free(mesh);
    while (pace != NO_GATE) {
        struct timespec ts = {0, 10 * 1000000L};
        uint64_t gate = atomic_load(&g->gate);
        int st;
        if (waitpid(-1, &st, WNOHANG) > 0) /* one has ended early: it failed */
            fail_msg("a process ended (status %#x) while the sources were held at %llu", st,
                     (unsigned long long)gate);
        uint64_t step = EVENTS / 200;
        nanosleep(&ts, NULL);
        complete_checkpoints(ckdir, &seen);
        if (pace == PACE_KILL_AFTER_CHECKPOINT && seen && ++after == 5) {
            for (unsigned p = 0; p < PROCS; p++)
                kill(pid[p], SIGKILL);
            break;
        }
        if (gate >= EVENTS / 2 && __builtin_popcountll(seen) < 2)
            step = 3 * 600; /* each source instance: a produce call and its watermark */
        if (gate + step >= EVENTS) {
            if (pace == PACE_KILL_AFTER_CHECKPOINT)
                fail_msg("no complete checkpoint before the end of the input");
            atomic_store(&g->gate, 0); /* open: the rest */
            break;
        }
        atomic_store(&g->gate, gate + step);
    }
    for (unsigned p = 0; p < PROCS; p++) {
        int status;
        assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
            pace == PACE_KILL_AFTER_CHECKPOINT) {
            killed++;
            continue;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status))
            fail_msg("process %u ended with status %#x", p, status);
    }
    return killed;
}

static void assert_same_file(const char *a_path, const char *b_path)
{
    size_t la, lb;
    char *a = tu_read_file(a_path, &la), *b = tu_read_file(b_path, &lb);
    assert_non_null(a);
    assert_non_null(b);
    if (la != lb || memcmp(a, b, la))
        fail_msg("%s (%zu bytes) differs from %s (%zu bytes)", b_path, lb, a_path, la);
    free(a);
    free(b);
}

struct fixture {
    char *dir;
    char ref[4096], out[4096], ck[4096];
    struct tgen *g; /* shared with the children */
};

static void setup(struct fixture *fx)
{
    struct run r = {.threads = 2};
    fx->dir = tu_tempdir();
    snprintf(fx->ref, sizeof fx->ref, "%s/ref", fx->dir);
    snprintf(fx->out, sizeof fx->out, "%s/out", fx->dir);
    snprintf(fx->ck, sizeof fx->ck, "%s/ck", fx->dir);
    assert_int_equal(mkdir(fx->ref, 0777), 0);
    assert_int_equal(mkdir(fx->out, 0777), 0);
    fx->g = mmap(NULL, sizeof *fx->g, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(fx->g != MAP_FAILED);
    memset(fx->g, 0, sizeof *fx->g);
    fx->g->events = EVENTS;
    fx->g->keys = KEYS;
    fx->g->per_tick = 10;
    /* the reference: one process, no checkpoints */
    r.out = fx->ref;
    r.g = fx->g;
    assert_int_equal(run_job(&r), 0);
    assert_true(fx->g->events > 0);
}

static void same_as_ref(struct fixture *fx)
{
    size_t len;
    char *a = tu_read_file(tu_path(fx->ref, "a.csv"), &len);
    assert_non_null(a);
    assert_true(len > 100000);
    free(a);
    assert_same_file(tu_path(fx->ref, "a.csv"), tu_path(fx->out, "a.csv"));
    assert_same_file(tu_path(fx->ref, "b.csv"), tu_path(fx->out, "b.csv"));
}

static void teardown(struct fixture *fx)
{
    munmap(fx->g, sizeof *fx->g);
    tu_rmtree(fx->dir);
    free(fx->dir);
}

/* (c): every process finds the job finished and runs nothing; the output stays. */
static void rerun_is_noop(struct fixture *fx)
{
    struct report rep;
    assert_int_equal(run_three(fx->g, fx->out, fx->ck, fx->dir, NO_GATE), 0);
    for (unsigned p = 0; p < PROCS; p++) {
        read_report(fx->dir, p, &rep);
        if (rep.finished_before != 1 || rep.taken)
            fail_msg("process %u ran again (finished before %d, %llu checkpoints)", p,
                     rep.finished_before, rep.taken);
    }
    same_as_ref(fx);
}

static void test_no_crash(void **st)
{
    struct fixture fx;
    struct report rep[PROCS];
    (void)st;
    setup(&fx);
    assert_int_equal(run_three(fx.g, fx.out, fx.ck, fx.dir, PACE_TO_END), 0);
    for (unsigned p = 0; p < PROCS; p++) {
        read_report(fx.dir, p, &rep[p]);
        assert_int_equal(rep[p].finished_before, 0);
        assert_int_equal(rep[p].restored, 0);
    }
    if (rep[0].taken < 2)
        fail_msg("%llu checkpoints taken", rep[0].taken);
    /* a member counts the checkpoints whose commit it was told of before it ended */
    for (unsigned p = 1; p < PROCS; p++)
        assert_true(rep[p].taken <= rep[0].taken);
    same_as_ref(&fx);
    rerun_is_noop(&fx);
    teardown(&fx);
}

static void test_kill_and_resume(void **st)
{
    struct fixture fx;
    struct report rep;
    (void)st;
    setup(&fx);
    assert_int_equal(run_three(fx.g, fx.out, fx.ck, fx.dir, PACE_KILL_AFTER_CHECKPOINT), PROCS);
    /* every instance on another process now: each restores state another one wrote */
    placement_shift = 1;
    assert_int_equal(run_three(fx.g, fx.out, fx.ck, fx.dir, NO_GATE), 0);
    placement_shift = 0;
    for (unsigned p = 0; p < PROCS; p++) {
        read_report(fx.dir, p, &rep);
        assert_int_equal(rep.finished_before, 0);
        if (!rep.restored)
            fail_msg("process %u did not resume from a checkpoint", p);
    }
    same_as_ref(&fx);
    rerun_is_noop(&fx);
    teardown(&fx);
}

/* An operator whose instance 1 fails once event time 5000 comes. */
static int failing_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strom_ctx_instance(ctx) == 1 && ev[i].time >= 5000)
            return strom_ctx_fail(ctx, STROM_E_OPERATOR, "a planned failure");
    return 0;
}

static const struct strom_operator failing_op = {.kind = "test-fail", .process = failing_process};

/* One process's job fails: every process ends, failed, instead of waiting for it. */
static void test_failure_reaches_every_process(void **st)
{
    char *dir = tu_tempdir(), ck[4096];
    struct strom_sockmesh *mesh;
    struct tgen *g =
        mmap(NULL, sizeof *g, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t pid[PROCS];
    (void)st;

    assert_true(g != MAP_FAILED);
    memset(g, 0, sizeof *g);
    g->events = EVENTS;
    g->keys = KEYS;
    g->per_tick = 10;
    snprintf(ck, sizeof ck, "%s/ck", dir);
    assert_int_equal(strom_sockmesh_new(&mesh, PROCS), 0);
    for (unsigned p = 0; p < PROCS; p++) {
        pid[p] = fork();
        assert_true(pid[p] >= 0);
        if (pid[p] == 0) {
            struct strom_dist_config dc = {.self = p, .procs = PROCS, .place = place};
            struct strom_job_config cfg = {.threads = 1, .key_groups = 64};
            struct strom_checkpoint_config cc = {
                .dir = ck, .interval = 0.05, .fingerprint = FP, .fingerprint_len = strlen(FP)};
            struct strom_job *job;
            int rc = strom_sockmesh_transport(mesh, p, &dc.transport);
            alarm(30);
            if (!rc)
                rc = strom_job_new(&job, &cfg);
            if (!rc)
                rc = strom_job_add(job, "src", &cgen_op, g, 3);
            if (!rc)
                rc = strom_job_add(job, "sum", &failing_op, NULL, 3);
            if (!rc)
                rc = strom_job_connect(job, "src", "sum", STROM_BY_KEY);
            if (!rc)
                rc = strom_job_set_distributed(job, &dc);
            if (!rc)
                rc = strom_job_set_checkpoints(job, &cc);
            if (!rc)
                rc = strom_job_run(job);
            /* the process of instance 1 tells its own failure, the others whose it was */
            if (rc == STROM_E_OPERATOR &&
                (strstr(strom_job_errmsg(job), "a planned failure") ||
                 strstr(strom_job_errmsg(job), "failed: an operator failed")))
                _exit(3);
            fprintf(stderr, "process %u: %s: %s\n", p, strom_strerror(rc), strom_job_errmsg(job));
            _exit(1);
        }
    }
    strom_sockmesh_free(mesh);
    for (unsigned p = 0; p < PROCS; p++) {
        int status;
        assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 3)
            fail_msg("process %u ended with status %#x", p, status);
    }
    munmap(g, sizeof *g);
    tu_rmtree(dir);
    free(dir);
}

static void test_ctl_wire(void **st)
{
    uint8_t buf[STROM_CTL_MAX + 8];
    static const uint8_t begin[12] = {2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 1};
    struct strom_ctl m = {.kind = STROM_CTL_BEGIN, .from = 2, .n = 0x0100000000000007ull}, d;
    (void)st;
    assert_int_equal(strom_rt__ctl_encode(&m, buf), 12);
    assert_memory_equal(buf, begin, 12);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_BEGIN, buf, 12, 3, 0, &d), 0);
    assert_true(d.kind == STROM_CTL_BEGIN && d.from == 2 && d.n == m.n);
    /* every cut and a byte too many; a sender out of range, or the receiver itself; an
     * unknown kind; checkpoint 0 */
    for (size_t cut = 0; cut < 12; cut++)
        assert_int_equal(strom_rt__ctl_decode(STROM_CTL_BEGIN, buf, cut, 3, 0, &d),
                         STROM_E_CORRUPT);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_BEGIN, buf, 13, 3, 0, &d), STROM_E_CORRUPT);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_BEGIN, buf, 12, 2, 0, &d), STROM_E_CORRUPT);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_BEGIN, buf, 12, 3, 2, &d), STROM_E_CORRUPT);
    assert_int_equal(strom_rt__ctl_decode(0, buf, 12, 3, 0, &d), STROM_E_CORRUPT);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_KINDS, buf, 12, 3, 0, &d), STROM_E_CORRUPT);
    m.n = 0;
    strom_rt__ctl_encode(&m, buf);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_BEGIN, buf, 12, 3, 0, &d), STROM_E_CORRUPT);
    m.kind = STROM_CTL_HELLO; /* resumed from nothing: n = 0 */
    strom_rt__ctl_encode(&m, buf);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_HELLO, buf, 12, 3, 0, &d), 0);

    /* codes: DONE 0 or negative, ABORT negative */
    m = (struct strom_ctl){.kind = STROM_CTL_DONE, .from = 1, .code = STROM_E_CORRUPT};
    assert_int_equal(strom_rt__ctl_encode(&m, buf), 8);
    assert_int_equal(buf[4], (uint8_t)(STROM_E_CORRUPT & 0xff));
    assert_int_equal(buf[7], 0xff);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_DONE, buf, 8, 3, 0, &d), 0);
    assert_int_equal(d.code, STROM_E_CORRUPT);
    m.code = 0;
    strom_rt__ctl_encode(&m, buf);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_DONE, buf, 8, 3, 0, &d), 0);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_ABORT, buf, 8, 3, 0, &d), STROM_E_CORRUPT);
    m.code = 5;
    strom_rt__ctl_encode(&m, buf);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_DONE, buf, 8, 3, 0, &d), STROM_E_CORRUPT);

    /* BLOBS: a fragment, the last flag, nothing beyond STROM_CTL_MAX, no unknown flag */
    m = (struct strom_ctl){.kind = STROM_CTL_BLOBS,
                           .from = 1,
                           .n = 4,
                           .last = true,
                           .data = (const uint8_t *)"SCKX",
                           .len = 4};
    assert_int_equal(strom_rt__ctl_encode(&m, buf), STROM_CTL_BLOBS_HDR + 4);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_BLOBS, buf, 20, 3, 0, &d), 0);
    assert_true(d.last && d.n == 4 && d.len == 4 && !memcmp(d.data, "SCKX", 4));
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_BLOBS, buf, 16, 3, 0, &d), 0);
    assert_int_equal(d.len, 0);
    for (size_t cut = 0; cut < STROM_CTL_BLOBS_HDR; cut++)
        assert_int_equal(strom_rt__ctl_decode(STROM_CTL_BLOBS, buf, cut, 3, 0, &d),
                         STROM_E_CORRUPT);
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_BLOBS, buf, STROM_CTL_MAX + 1, 3, 0, &d),
                     STROM_E_CORRUPT);
    buf[12] = 3;
    assert_int_equal(strom_rt__ctl_decode(STROM_CTL_BLOBS, buf, 20, 3, 0, &d), STROM_E_CORRUPT);
}

static void test_refusals(void **st)
{
    struct strom_job *job;
    struct strom_sockmesh *mesh;
    struct strom_dist_config dc = {.self = 0, .procs = 3, .place = place};
    struct strom_checkpoint_config cc = {.fingerprint = FP, .fingerprint_len = strlen(FP)};
    char *dir = tu_tempdir();
    (void)st;
    cc.dir = dir;
    assert_int_equal(strom_sockmesh_new(&mesh, 3), 0);
    assert_int_equal(strom_sockmesh_transport(mesh, 0, &dc.transport), 0);
    /* the store is opened for one process or shared when checkpoints are set:
     * distribution comes first */
    assert_int_equal(strom_job_new(&job, NULL), 0);
    assert_int_equal(strom_job_set_checkpoints(job, &cc), 0);
    assert_int_equal(strom_job_set_distributed(job, &dc), STROM_E_BADSTATE);
    strom_job_free(job);
    strom_sockmesh_free(mesh);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctl_wire),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_failure_reaches_every_process),
        cmocka_unit_test(test_no_crash),
        cmocka_unit_test(test_kill_and_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
