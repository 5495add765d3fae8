/*
 * tests/unit/debs14/test_reader.c: the DEBS 2014 line reader (apps/debs14/reader.c): line
 * ends, line numbers, long lines, the time rules (before t0, late), pipes fed a byte at a
 * time, read errors, and the real samples in $STROM_SHARED/data/debs14/.
 *
 * STROM_DEBS_BENCH=<file> turns test_bench from a skip into a throughput measurement of
 * reader + parser over that file (run by hand; not a pass/fail test).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "apps/debs14/parse.h"
#include "strom/error.h"

#define T0 STROM_DEBS_DEFAULT_T0
#define MAX_REJ 64

struct rej {
    uint64_t line;
    int reason;
    size_t len;
    char text[48];
};

struct run {
    struct strom_debs_row *rows;
    size_t nrows;
    struct rej rej[MAX_REJ];
    size_t nrej;
    struct strom_debs_stats st;
};

static void on_reject(void *arg, uint64_t line, int reason, const char *s, size_t n)
{
    struct run *r = arg;
    struct rej *j = &r->rej[r->nrej];

    assert_true(r->nrej < MAX_REJ);
    j->line = line;
    j->reason = reason;
    j->len = n;
    memcpy(j->text, s, n < sizeof j->text ? n : sizeof j->text);
    r->nrej++;
}

/* Reads fd to the end in batches of cap rows. */
static void run_fd(int fd, size_t buf_size, size_t max_line, size_t cap, struct run *out)
{
    struct strom_debs_reader_conf conf = {fd, T0, buf_size, max_line, on_reject, out};
    struct strom_debs_row *rows = malloc(cap * sizeof *rows);
    struct strom_debs_batch b = {rows, cap, 0};
    struct strom_debs_reader *r;
    size_t room = 0, nrej = 0;
    int rc;

    memset(out, 0, sizeof *out);
    assert_int_equal(strom_debs_reader_new(&r, &conf, NULL, 0), 0);
    while ((rc = strom_debs_reader_next(r, &b)) == 0) {
        assert_true(b.n <= cap);
        assert_true(b.n > 0 || out->nrej > nrej); /* no row: only after refused lines */
        nrej = out->nrej;
        if (out->nrows + b.n > room) { /* doubling: batches of 1 row stay linear */
            room = 2 * (out->nrows + b.n);
            out->rows = realloc(out->rows, room * sizeof *out->rows);
            assert_non_null(out->rows);
        }
        if (b.n)
            memcpy(out->rows + out->nrows, rows, b.n * sizeof *rows);
        out->nrows += b.n;
    }
    assert_int_equal(rc, 1);
    assert_int_equal(b.n, 0);
    assert_int_equal(strom_debs_reader_next(r, &b), 1); /* the end stays the end */
    out->st = *strom_debs_reader_stats(r);
    assert_true(out->st.lines == out->st.accepted + out->st.rejected);
    assert_true(out->st.accepted == out->nrows);
    assert_true(out->st.rejected == out->nrej);
    strom_debs_reader_free(r);
    free(rows);
}

static int memfd_of(const char *data, size_t n)
{
    int fd = memfd_create("debs", 0);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static void run_bytes(const char *data, size_t n, size_t buf_size, size_t max_line, size_t cap,
                      struct run *out)
{
    int fd = memfd_of(data, n);

    run_fd(fd, buf_size, max_line, cap, out);
    assert_int_equal(out->st.bytes, n);
    close(fd);
}

struct dribble {
    int fd;
    const char *data;
    size_t n;
};

/* Writes one byte per write(), then closes: the reader sees every possible split. */
static void *dribble_main(void *arg)
{
    struct dribble *d = arg;

    for (size_t i = 0; i < d->n; i++)
        if (write(d->fd, d->data + i, 1) != 1)
            break;
    close(d->fd);
    return NULL;
}

static void run_pipe(const char *data, size_t n, size_t buf_size, size_t max_line, size_t cap,
                     struct run *out)
{
    int p[2];
    pthread_t t;
    struct dribble d;

    assert_int_equal(pipe(p), 0);
    d = (struct dribble){p[1], data, n};
    assert_int_equal(pthread_create(&t, NULL, dribble_main, &d), 0);
    run_fd(p[0], buf_size, max_line, cap, out);
    assert_int_equal(pthread_join(t, NULL), 0);
    close(p[0]);
    assert_int_equal(out->st.bytes, n);
}

static void assert_same_run(const struct run *a, const struct run *b)
{
    assert_int_equal(a->nrows, b->nrows);
    for (size_t i = 0; i < a->nrows; i++) /* not the padding */
        assert_memory_equal(&a->rows[i], &b->rows[i],
                            offsetof(struct strom_debs_row, property) + 1);
    assert_int_equal(a->nrej, b->nrej);
    for (size_t i = 0; i < a->nrej; i++) {
        assert_int_equal(a->rej[i].line, b->rej[i].line);
        assert_int_equal(a->rej[i].reason, b->rej[i].reason);
        assert_int_equal(a->rej[i].len, b->rej[i].len);
    }
    assert_memory_equal(a->st.by_reason, b->st.by_reason, sizeof a->st.by_reason);
}

/* Line numbers in comments. Line 11 is late only because the work row of line 10 moved the
 * clock: the reading of the late rule parse.h explains. */
static const char mixed[] = "1,1377986401,68.451,0,11,0,0\n"   /* 1 ok, work */
                            "2,1377986401,19.927,1,11,0,0\r\n" /* 2 ok, CR LF */
                            "\n"                               /* 3 empty */
                            "3,1377986400,1,1,0,0,0\n"         /* 4 before t0 */
                            "4,1377986402,1.5,1,0,0,0\n"       /* 5 ok */
                            "5,1377986402,1.50,1,0,0,0\n"      /* 6 ok: equal is not late */
                            "6,1377986401,2,1,0,0,0\n"         /* 7 late */
                            "7,1377986409,x,1,0,0,0\n"         /* 8 bad, moves nothing */
                            "8,1377986402,3,1,0,0,0\n"         /* 9 ok */
                            "9,1377986404,3,0,0,0,0\n"         /* 10 ok, work */
                            "10,1377986403,3,1,0,0,0\n"        /* 11 late */
                            "\r\n"                             /* 12 empty */
                            "11,1377986404,\0,1,0,0,0\n"       /* 13 NUL */
                            "12,1377986405,7,1,1,2,3";         /* 14 ok, no LF */

static void check_mixed(const struct run *r)
{
    static const uint32_t ids[] = {1, 2, 4, 5, 8, 9, 12};
    static const struct {
        uint64_t line;
        int reason;
        size_t len;
    } rej[] = {
        {3, STROM_DEBS_R_FEW_FIELDS, 0},     {4, STROM_DEBS_R_BEFORE_T0, 22},
        {7, STROM_DEBS_R_LATE, 22},          {8, STROM_DEBS_R_VALUE_SYNTAX, 22},
        {11, STROM_DEBS_R_LATE, 23},         {12, STROM_DEBS_R_FEW_FIELDS, 0},
        {13, STROM_DEBS_R_VALUE_SYNTAX, 23},
    };

    assert_int_equal(r->nrows, 7);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(r->rows[i].id, ids[i]);
    assert_int_equal(r->rows[1].value, 19927);
    assert_int_equal(r->rows[3].value, 1500);
    assert_int_equal(r->rows[6].ts, 1377986405);
    assert_int_equal(r->rows[6].house, 3);
    assert_int_equal(r->nrej, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(r->rej[i].line, rej[i].line);
        assert_int_equal(r->rej[i].reason, rej[i].reason);
        assert_int_equal(r->rej[i].len, rej[i].len);
    }
    assert_memory_equal(r->rej[1].text, "3,1377986400,1,1,0,0,0", 22);
    assert_memory_equal(r->rej[6].text, "11,1377986404,\0,1,0,0,0", 23);
    assert_int_equal(r->st.lines, 14);
    assert_int_equal(r->st.accepted_load, 5);
    assert_int_equal(r->st.by_reason[STROM_DEBS_R_LATE], 2);
    assert_int_equal(r->st.by_reason[STROM_DEBS_R_FEW_FIELDS], 2);
    assert_int_equal(r->st.max_ts, 1377986405);
}

static void test_mixed(void **unused)
{
    struct run a, b;
    (void)unused;

    run_bytes(mixed, sizeof mixed - 1, 0, 0, 4096, &a);
    check_mixed(&a);
    /* batches of one row, then of two: same stream */
    run_bytes(mixed, sizeof mixed - 1, 0, 0, 1, &b);
    assert_same_run(&a, &b);
    free(b.rows);
    run_bytes(mixed, sizeof mixed - 1, 0, 0, 2, &b);
    assert_same_run(&a, &b);
    free(b.rows);
    /* the smallest buffer that the default max line allows */
    run_bytes(mixed, sizeof mixed - 1, STROM_DEBS_DEFAULT_MAX_LINE + 2, 0, 3, &b);
    assert_same_run(&a, &b);
    free(b.rows);
    free(a.rows);
}

static void test_pipe_bytewise(void **unused)
{
    struct run a, b;
    (void)unused;

    run_pipe(mixed, sizeof mixed - 1, 0, 0, 4096, &a);
    check_mixed(&a);
    run_pipe(mixed, sizeof mixed - 1, 26, 24, 2, &b); /* lines longer than the buffer */
    assert_int_equal(b.st.by_reason[STROM_DEBS_R_LINE_TOO_LONG], 3); /* lines 1, 2, 6 */
    assert_int_equal(b.rej[0].line, 1);
    assert_int_equal(b.rej[0].reason, STROM_DEBS_R_LINE_TOO_LONG);
    assert_int_equal(b.rej[0].len, 24);
    assert_memory_equal(b.rej[0].text, "1,1377986401,68.451,0,11", 24);
    assert_int_equal(b.st.lines, 14);
    free(a.rows);
    free(b.rows);
}

/* Rows are handed out as soon as they are complete: next does not wait for more bytes (if
 * it did, this single-threaded test would block in read() and time out). */
static void test_pipe_no_holdback(void **unused)
{
    struct strom_debs_row rows[8];
    struct strom_debs_batch b = {rows, 8, 0};
    struct strom_debs_reader_conf conf = {0, T0, 0, 0, NULL, NULL};
    struct strom_debs_reader *r;
    static const char part1[] = "1,1377986401,1,1,0,0,0\n2,1377986401,2";
    static const char part2[] = ".5,1,0,0,0\n3,1377986402,3,1,0,0,0";
    int p[2];
    (void)unused;

    assert_int_equal(pipe(p), 0);
    conf.fd = p[0];
    assert_int_equal(strom_debs_reader_new(&r, &conf, NULL, 0), 0);
    assert_int_equal(write(p[1], part1, sizeof part1 - 1), (ssize_t)sizeof part1 - 1);
    assert_int_equal(strom_debs_reader_next(r, &b), 0);
    assert_int_equal(b.n, 1);
    assert_int_equal(rows[0].id, 1);
    assert_int_equal(write(p[1], part2, sizeof part2 - 1), (ssize_t)sizeof part2 - 1);
    assert_int_equal(strom_debs_reader_next(r, &b), 0);
    assert_int_equal(b.n, 1);
    assert_int_equal(rows[0].value, 2500);
    close(p[1]);
    assert_int_equal(strom_debs_reader_next(r, &b), 0); /* the last line, at the end */
    assert_int_equal(b.n, 1);
    assert_int_equal(rows[0].id, 3);
    assert_int_equal(strom_debs_reader_next(r, &b), 1);
    assert_int_equal(strom_debs_reader_stats(r)->lines, 3);
    strom_debs_reader_free(r);
    close(p[0]);
}

static void test_ends(void **unused)
{
    struct run r;
    (void)unused;

    run_bytes("", 0, 0, 0, 8, &r);
    assert_int_equal(r.st.lines, 0);
    free(r.rows);
    run_bytes("\n", 1, 0, 0, 8, &r);
    assert_int_equal(r.st.lines, 1);
    assert_int_equal(r.rej[0].reason, STROM_DEBS_R_FEW_FIELDS);
    free(r.rows);
    run_bytes("\n\n", 2, 0, 0, 8, &r);
    assert_int_equal(r.st.lines, 2);
    assert_int_equal(r.rej[1].line, 2);
    free(r.rows);
    run_bytes("x", 1, 0, 0, 8, &r);
    assert_int_equal(r.st.lines, 1);
    assert_int_equal(r.rej[0].len, 1);
    free(r.rows);
    /* a CR at the very end, without LF, ends like CR LF (parse.h); a lone CR mid-line not */
    run_bytes("1,1377986401,1,1,0,0,0\r", 23, 0, 0, 8, &r);
    assert_int_equal(r.nrows, 1);
    free(r.rows);
    {
        static const char two_cr[] = "1,1377986401,1,1,0,0,0\r\r\n1,1377986401,1,1,0,0\r,0\n";

        run_bytes(two_cr, sizeof two_cr - 1, 0, 0, 8, &r);
    }
    assert_int_equal(r.nrows, 0);
    assert_int_equal(r.rej[0].reason, STROM_DEBS_R_HOUSE_DIGITS);
    assert_int_equal(r.rej[0].len, 23); /* one CR kept in the text */
    assert_int_equal(r.rej[1].reason, STROM_DEBS_R_HOUSEHOLD_DIGITS);
    free(r.rows);
}

/* max_line 40. Each case in two buffers: the whole input at once (long lines seen at their
 * LF) and 64 bytes (seen as an unfinished tail, then skipped). */
static void test_long_lines(void **unused)
{
    char in[30000], *w = in;
    size_t bufs[2] = {0, 64};
    (void)unused;

    w += sprintf(w, "%s\r\n", "0000000000000000001,1377986401,1,1,0,0,0"); /* 1: 40, ok */
    w += sprintf(w, "%s\n", "00000000000000000002,1377986401,1,1,0,0,0");  /* 2: 41 */
    memset(w, 'x', 10000);                                                 /* 3 */
    w += 10000;
    *w++ = '\n';
    w += sprintf(w, "%s\n", "3,1377986401,1,1,0,0,0"); /* 4 ok */
    memset(w, 'y', 10000);                             /* 5, with NULs: no matter */
    w[5000] = 0;
    w += 10000;
    w += sprintf(w, "\r\n%s\n", "4,1377986401,1,1,0,0,0");               /* 6 ok */
    w += sprintf(w, "%s\r", "0000000000000000005,1377986401,1,1,0,0,0"); /* 7 ok at end */
    for (int i = 0; i < 2; i++) {
        struct run r;

        run_bytes(in, (size_t)(w - in), bufs[i], 40, 8, &r);
        assert_int_equal(r.st.lines, 7);
        assert_int_equal(r.nrows, 4);
        assert_int_equal(r.rows[0].id, 1);
        assert_int_equal(r.rows[1].id, 3);
        assert_int_equal(r.rows[2].id, 4);
        assert_int_equal(r.rows[3].id, 5);
        assert_int_equal(r.nrej, 3);
        for (int k = 0; k < 3; k++) {
            assert_int_equal(r.rej[k].reason, STROM_DEBS_R_LINE_TOO_LONG);
            assert_int_equal(r.rej[k].len, 40);
        }
        assert_int_equal(r.rej[0].line, 2);
        assert_int_equal(r.rej[1].line, 3);
        assert_int_equal(r.rej[2].line, 5);
        for (int k = 0; k < 40; k++)
            assert_int_equal(r.rej[1].text[k], 'x');
        free(r.rows);
    }
    /* a long last line without LF, both ways */
    memset(in, 'z', 1000);
    for (int i = 0; i < 2; i++) {
        struct run r;

        run_bytes(in, 1000, bufs[i], 40, 8, &r);
        assert_int_equal(r.st.lines, 1);
        assert_int_equal(r.rej[0].reason, STROM_DEBS_R_LINE_TOO_LONG);
        free(r.rows);
        run_bytes(in, 41, bufs[i], 40, 8, &r);
        assert_int_equal(r.st.lines, 1);
        assert_int_equal(r.rej[0].reason, STROM_DEBS_R_LINE_TOO_LONG);
        free(r.rows);
    }
}

static void test_conf_and_errors(void **unused)
{
    struct strom_debs_reader_conf conf = {-1, T0, 0, 0, NULL, NULL};
    struct strom_debs_row row;
    struct strom_debs_batch b = {&row, 1, 0};
    struct strom_debs_reader *r = (void *)1;
    char err[200] = "";
    int fd;
    (void)unused;

    assert_int_equal(strom_debs_reader_new(&r, &conf, err, sizeof err), STROM_E_INVAL);
    assert_null(r);
    assert_non_null(strstr(err, "fd -1"));
    conf.fd = 0;
    conf.buf_size = 100;
    conf.max_line = 99;
    assert_int_equal(strom_debs_reader_new(&r, &conf, NULL, 0), STROM_E_INVAL);
    strom_debs_reader_free(NULL);

    /* a directory: read() fails with EISDIR, and keeps failing */
    fd = open("/", O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    conf = (struct strom_debs_reader_conf){fd, T0, 0, 0, NULL, NULL};
    assert_int_equal(strom_debs_reader_new(&r, &conf, NULL, 0), 0);
    assert_string_equal(strom_debs_reader_errmsg(r), "");
    b.cap = 0;
    assert_int_equal(strom_debs_reader_next(r, &b), STROM_E_INVAL);
    b.cap = 1;
    assert_int_equal(strom_debs_reader_next(r, &b), -EISDIR);
    assert_int_equal(strom_debs_reader_next(r, &b), -EISDIR);
    assert_int_equal(b.n, 0);
    assert_non_null(strstr(strom_debs_reader_errmsg(r), "read failed after byte 0"));
    strom_debs_reader_free(r);
    close(fd);
}

/* --- the real samples ------------------------------------------------------------------- */

static const char *shared_file(const char *name)
{
    static char path[4096];
    const char *dir = getenv("STROM_SHARED");

    if (dir && *dir) {
        snprintf(path, sizeof path, "%s/data/debs14/%s", dir, name);
    } else { /* the source dir is what precedes tests/unit/ in this file's path */
        const char *at = strstr(__FILE__, "tests/unit/");
        int n = at ? (int)(at - __FILE__) : 0;

        snprintf(path, sizeof path, "%.*s../shared/data/debs14/%s", n, __FILE__, name);
    }
    return path;
}

struct sample {
    const char *name;
    uint64_t rows, load, value_sum, id_sum, value_max;
    struct strom_debs_row first, last;
};

/* Expected values from the files themselves: head -1, tail -1, and sums computed with
 * exact decimals (python3 decimal) when this test was written. */
static const struct sample samples[] = {
    {"sorted-first-10000.csv",
     10000,
     5000,
     214508743,
     50005000,
     635705,
     {1, 1377986401, 68451, 11, 0, 0, 0, 0, 0},
     {10000, 1377986407, 3701, 2, 10, 14, 0, 0, 0}},
    {"houses-0-9-first-84s.csv",
     33628,
     16814,
     930692035,
     565438006,
     666558,
     {1, 1377986401, 68451, 11, 0, 0, 0, 0, 0},
     {33628, 1377986484, 3216, 2, 7, 4, 0, 0, 0}},
    {"plug-0-0-11-first-2.8h.csv",
     10000,
     5000,
     441130248,
     83551455800,
     68503,
     {1, 1377986401, 68451, 11, 0, 0, 0, 0, 0},
     {16706026, 1377996442, 16952, 11, 0, 0, 1, 0, 0}},
};

static void test_samples(void **unused)
{
    (void)unused;

    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        const struct sample *s = &samples[i];
        int fd = open(shared_file(s->name), O_RDONLY);
        uint64_t vsum = 0, isum = 0, vmax = 0;
        struct stat sb;
        struct run r, small;

        if (fd < 0)
            fail_msg("cannot open %s: %s", shared_file(s->name), strerror(errno));
        assert_int_equal(fstat(fd, &sb), 0);
        run_fd(fd, 0, 0, 4096, &r);
        assert_int_equal(r.st.bytes, sb.st_size);
        assert_int_equal(r.st.rejected, 0);
        assert_int_equal(r.nrows, s->rows);
        assert_int_equal(r.st.accepted_load, s->load);
        for (size_t k = 0; k < r.nrows; k++) {
            vsum += r.rows[k].value;
            isum += r.rows[k].id;
            vmax = r.rows[k].value > vmax ? r.rows[k].value : vmax;
        }
        assert_int_equal(vsum, s->value_sum);
        assert_int_equal(isum, s->id_sum);
        assert_int_equal(vmax, s->value_max);
        assert_memory_equal(&r.rows[0], &s->first, offsetof(struct strom_debs_row, property) + 1);
        assert_int_equal(r.rows[0].line_no, 1); /* where a replay from it starts */
        assert_int_equal(r.rows[0].offset, 0);
        assert_memory_equal(&r.rows[r.nrows - 1], &s->last,
                            offsetof(struct strom_debs_row, property) + 1);
        /* a small buffer splits lines everywhere: the same rows */
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        run_fd(fd, 4098, 0, 7, &small);
        assert_same_run(&r, &small);
        free(small.rows);
        free(r.rows);
        close(fd);
    }
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* By hand: STROM_DEBS_BENCH=/tmp/big.csv ./debs14_test_reader. Best of three passes. */
static void test_bench(void **unused)
{
    const char *path = getenv("STROM_DEBS_BENCH");
    static struct strom_debs_row rows[4096];
    double best = 1e30, best_parse = 1e30;
    uint64_t lines = 0, bytes = 0, sum = 0;
    (void)unused;

    if (!path || !*path)
        skip();
    for (int pass = 0; pass < 3; pass++) {
        struct strom_debs_reader_conf conf = {open(path, O_RDONLY), 0, 0, 0, NULL, NULL};
        struct strom_debs_batch b = {rows, 4096, 0};
        struct strom_debs_reader *r;
        double t = now();

        assert_true(conf.fd >= 0);
        assert_int_equal(strom_debs_reader_new(&r, &conf, NULL, 0), 0);
        while (strom_debs_reader_next(r, &b) == 0)
            sum += rows[b.n - 1].value;
        t = now() - t;
        best = t < best ? t : best;
        lines = strom_debs_reader_stats(r)->lines;
        bytes = strom_debs_reader_stats(r)->bytes;
        strom_debs_reader_free(r);
        close(conf.fd);
    }
    /* the parser alone, over the file in memory */
    {
        int fd = open(path, O_RDONLY);
        char *m = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);

        assert_true(m != MAP_FAILED);
        for (int pass = 0; pass < 3; pass++) {
            double t = now();
            struct strom_debs_row row;

            for (char *p = m, *e = m + bytes, *lf; p < e; p = lf + 1) {
                lf = memchr(p, '\n', (size_t)(e - p));
                if (!lf)
                    lf = e;
                if (!strom_debs_parse_line(p, (size_t)(lf - p), &row))
                    sum += row.value;
            }
            t = now() - t;
            best_parse = t < best_parse ? t : best_parse;
        }
        munmap(m, bytes);
        close(fd);
    }
    printf("bench: %llu lines, %llu bytes (checksum %llu)\n", (unsigned long long)lines,
           (unsigned long long)bytes, (unsigned long long)sum);
    printf("bench: reader+parser %.1f MB/s, %.1f M lines/s\n", bytes / best / 1e6,
           lines / best / 1e6);
    printf("bench: parser alone  %.1f MB/s, %.1f M lines/s\n", bytes / best_parse / 1e6,
           lines / best_parse / 1e6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_pipe_bytewise),
        cmocka_unit_test(test_pipe_no_holdback),
        cmocka_unit_test(test_ends),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_conf_and_errors),
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_bench),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
