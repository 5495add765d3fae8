/* The same job at parallelism 1, 2 and 4 (and various thread counts) writes the same bytes,
 * and those bytes are the window sums computed here independently of the engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strom/error.h"
#include "testops.h"
#include "testutil.h"

#define EVENTS 200000
#define KEYS 1000

struct expect_row {
    int64_t end;
    uint64_t key;
    int64_t sum, count;
};

static int cmp_row(const void *pa, const void *pb)
{
    const struct expect_row *a = pa, *b = pb;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return a->key < b->key ? -1 : a->key > b->key;
}

/* The window sums, straight from the event sequence. */
static char *expected_sums(struct tgen *g)
{
    int64_t per_window = TWSUM_WINDOW * g->per_tick;
    size_t windows = (g->events + per_window - 1) / per_window, n = 0;
    struct expect_row *rows = calloc(windows * g->keys, sizeof *rows);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (uint64_t i = 0; i < g->events; i++) {
        struct strom_event ev = tgen_event(g, i);
        struct expect_row *r = &rows[(size_t)(i / per_window) * g->keys + ev.key];
        r->end = ev.time / TWSUM_WINDOW * TWSUM_WINDOW + TWSUM_WINDOW - 1;
        r->key = ev.key;
        r->sum += ev.v[0];
        r->count++;
    }
    for (size_t k = 0; k < windows * g->keys; k++)
        if (rows[k].count)
            rows[n++] = rows[k];
    qsort(rows, n, sizeof *rows, cmp_row);
    for (size_t k = 0; k < n; k++)
        fprintf(f, "%" PRId64 ",%" PRIu64 ",%" PRId64 ",%" PRId64 "\n", rows[k].end,
                rows[k].key, rows[k].sum, rows[k].count);
    fclose(f);
    free(rows);
    return out;
}

static char *run_job(const struct strom_operator *op, unsigned par, unsigned threads,
                     unsigned key_groups)
{
    static struct tgen g;
    struct strom_job_config cfg = {.threads = threads, .key_groups = key_groups};
    char *dir = tu_tempdir();
    struct strom_file_sink sink = {.path = tu_path(dir, "out.csv"), .format = t_format_row};
    struct strom_job *job;
    char *text;
    int rc;

    memset(&g, 0, sizeof g);
    g.events = EVENTS;
    g.keys = KEYS;
    g.per_tick = 10;
    rc = t_build_chain(&job, &cfg, &g, par, op, &sink);
    if (!rc)
        rc = strom_job_run(job);
    if (rc)
        fprintf(stderr, "job failed: %s: %s\n", strom_strerror(rc), strom_job_errmsg(job));
    assert_int_equal(rc, 0);
    strom_job_free(job);
    text = tu_read_and_clean(dir, sink.path);
    assert_non_null(text);
    return text;
}

static void test_window_sum_matches_independent_computation(void **st)
{
    struct tgen g = {.events = EVENTS, .keys = KEYS, .per_tick = 10};
    char *want = expected_sums(&g);
    (void)st;
    static const unsigned configs[][3] = {{1, 1, 0}, {2, 2, 0}, {4, 2, 0}, {4, 4, 0},
                                          {3, 2, 7}, {2, 1, 1024}};
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        char *got = run_job(&twsum_op, configs[c][0], configs[c][1], configs[c][2]);
        if (strcmp(got, want))
            fail_msg("parallelism %u, threads %u, key groups %u: output differs",
                     configs[c][0], configs[c][1], configs[c][2]);
        free(got);
    }
    assert_true(strlen(want) > 100000); /* the job did produce a sizeable file */
    free(want);
}

static void test_codec_state_same_bytes_at_any_parallelism(void **st)
{
    char *one = run_job(&tbins_op, 1, 1, 0);
    (void)st;
    for (unsigned par = 2; par <= 4; par += 2) {
        char *got = run_job(&tbins_op, par, 2, 0);
        assert_string_equal(got, one);
        free(got);
    }
    /* the rows' totals add up to the sum of all values */
    int64_t total = 0, want = 0;
    struct tgen g = {.events = EVENTS, .keys = KEYS, .per_tick = 10};
    for (uint64_t i = 0; i < EVENTS; i++)
        want += tgen_event(&g, i).v[0];
    for (const char *p = one; *p; p = strchr(p, '\n') + 1) {
        const char *c = strchr(strchr(p, ',') + 1, ',') + 1;
        total += strtoll(c, NULL, 10);
    }
    assert_int_equal(total, want);
    free(one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_sum_matches_independent_computation),
        cmocka_unit_test(test_codec_state_same_bytes_at_any_parallelism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
