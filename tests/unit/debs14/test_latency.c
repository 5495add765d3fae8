/* Latency measurement: triggers are found by the spec's rules (the first second at or
 * after an update point for Q1, after a second for Q2), and percentiles are within the
 * histogram's 1/16 resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "apps/debs14/latency.h"

static void test_trigger_lookup(void **st)
{
    struct strom_debs_triggers *t;
    (void)st;
    assert_int_equal(strom_debs_triggers_new(&t), 0);
    assert_int_equal(strom_debs_triggers_find(t, 5, 0), 0); /* nothing noted yet */
    for (int64_t s = 100; s < 100 + 3 * 4096 + 7; s += 3) /* crosses chunk boundaries */
        assert_int_equal(strom_debs_triggers_add(t, s, (uint64_t)s * 10), 0);
    assert_int_equal(strom_debs_triggers_add(t, INT64_MAX, 7), 0);
    assert_int_equal(strom_debs_triggers_find(t, 50, 0), 1000);   /* first at or after */
    assert_int_equal(strom_debs_triggers_find(t, 100, 0), 1000);  /* at */
    assert_int_equal(strom_debs_triggers_find(t, 100, 1), 1030);  /* strictly after */
    assert_int_equal(strom_debs_triggers_find(t, 101, 0), 1030);
    assert_int_equal(strom_debs_triggers_find(t, 12385, 0), 123850);
    assert_int_equal(strom_debs_triggers_find(t, 12386, 0), 123880);
    assert_int_equal(strom_debs_triggers_find(t, 1000000, 0), 7); /* only the end */
    strom_debs_triggers_free(t);
}

static void test_percentiles(void **st)
{
    struct strom_debs_latency l = {0}, m = {0};
    (void)st;
    assert_int_equal(strom_debs_latency_percentile(&l, 50), 0);
    for (uint64_t us = 1; us <= 1000; us++)
        strom_debs_latency_add(&l, us * 1000);
    assert_int_equal(l.count, 1000);
    assert_int_equal(l.sum_ns, 500500000);
    struct { double p; uint64_t exact; } want[] = {{10, 100000}, {50, 500000}, {90, 900000},
                                                    {99, 990000}, {100, 1000000}};
    for (unsigned i = 0; i < 5; i++) {
        uint64_t got = strom_debs_latency_percentile(&l, want[i].p);
        /* the lower bound of the bucket holding the exact value: at most 1/16 below it */
        assert_true(got <= want[i].exact);
        assert_true(got >= want[i].exact - want[i].exact / 16);
    }
    strom_debs_latency_merge(&m, &l);
    strom_debs_latency_merge(&m, &l);
    assert_int_equal(m.count, 2000);
    assert_int_equal(strom_debs_latency_percentile(&m, 50), strom_debs_latency_percentile(&l, 50));
    strom_debs_latency_add(&m, 3); /* small values are exact */
    assert_int_equal(strom_debs_latency_percentile(&m, 0.01), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trigger_lookup),
        cmocka_unit_test(test_percentiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
