/* tests/unit/state/test_timer.c: timers of struct strom_kstate (state/timer.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/hash.h"
#include "state/state.h"
#include "strom/error.h"

struct tm3 {
    int64_t time;
    uint64_t key, ns;
};

static uint32_t kg_of(uint64_t key, uint32_t groups)
{
    return strom_hash_keygroup(strom_hash64(key), groups);
}

static int tm3_cmp(const void *a, const void *b)
{
    const struct tm3 *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->ns < y->ns ? -1 : x->ns > y->ns;
}

static struct strom_kstate *new_owning_all(uint32_t groups)
{
    struct strom_kstate *ks;

    assert_int_equal(strom_kstate_new(&ks, groups, 8, NULL), 0);
    for (uint32_t kg = 0; kg < groups; kg++)
        assert_int_equal(strom_kstate_own(ks, kg), 0);
    return ks;
}

static void expect_pop(struct strom_kstate *ks, int64_t wm, int64_t time, uint64_t key,
                       uint64_t ns)
{
    uint64_t k = 0, n = 0;
    int64_t t = 0;

    assert_int_equal(strom_kstate_timer_pop(ks, wm, &k, &n, &t), 1);
    assert_true(t == time);
    assert_true(k == key);
    assert_true(n == ns);
}

static void expect_none(struct strom_kstate *ks, int64_t wm)
{
    uint64_t k = 99, n = 99;
    int64_t t = 99;

    assert_int_equal(strom_kstate_timer_pop(ks, wm, &k, &n, &t), 0);
    assert_true(k == 99 && n == 99 && t == 99);
}

static void test_unowned_keygroup(void **unused)
{
    struct strom_kstate *ks;
    (void)unused;

    assert_int_equal(strom_kstate_new(&ks, 4, 8, NULL), 0);
    assert_int_equal(strom_kstate_own(ks, 1), 0);
    assert_int_equal(strom_kstate_timer_add(ks, 0, 5, 0, 10), STROM_E_KEYGROUP);
    assert_int_equal(strom_kstate_timer_add(ks, 4, 5, 0, 10), STROM_E_KEYGROUP);
    assert_int_equal(strom_kstate_timer_count(ks), 0);
    expect_none(ks, INT64_MAX);
    strom_kstate_free(ks);
}

static void test_order_and_watermark(void **unused)
{
    struct strom_kstate *ks = new_owning_all(1);
    (void)unused;

    /* Added out of order; ties on time broken by key, then ns. */
    assert_int_equal(strom_kstate_timer_add(ks, 0, 2, 0, 20), 0);
    assert_int_equal(strom_kstate_timer_add(ks, 0, 1, 5, 10), 0);
    assert_int_equal(strom_kstate_timer_add(ks, 0, 1, 3, 10), 0);
    assert_int_equal(strom_kstate_timer_add(ks, 0, 0, 9, 10), 0);
    assert_int_equal(strom_kstate_timer_add(ks, 0, 7, 0, INT64_MIN), 0);
    assert_int_equal(strom_kstate_timer_add(ks, 0, 7, 0, INT64_MAX), 0);
    assert_int_equal(strom_kstate_timer_add(ks, 0, 3, 0, -5), 0);
    assert_int_equal(strom_kstate_timer_count(ks), 7);
    expect_pop(ks, INT64_MIN, INT64_MIN, 7, 0);
    expect_none(ks, -6);
    expect_pop(ks, -5, -5, 3, 0); /* time == watermark fires */
    expect_none(ks, 9);
    expect_pop(ks, 10, 10, 0, 9);
    expect_pop(ks, 10, 10, 1, 3);
    expect_pop(ks, 10, 10, 1, 5);
    expect_none(ks, 19);
    expect_pop(ks, 1000, 20, 2, 0);
    expect_none(ks, INT64_MAX - 1);
    expect_pop(ks, INT64_MAX, INT64_MAX, 7, 0);
    expect_none(ks, INT64_MAX);
    assert_int_equal(strom_kstate_timer_count(ks), 0);
    strom_kstate_free(ks);
}

static void test_duplicates_fire_once(void **unused)
{
    struct strom_kstate *ks = new_owning_all(1);
    (void)unused;

    for (int i = 0; i < 1000; i++)
        assert_int_equal(strom_kstate_timer_add(ks, 0, 4, 2, 100), 0);
    assert_int_equal(strom_kstate_timer_add(ks, 0, 4, 2, 101), 0);
    assert_int_equal(strom_kstate_timer_count(ks), 2);
    expect_pop(ks, 200, 100, 4, 2);
    expect_pop(ks, 200, 101, 4, 2);
    expect_none(ks, 200);
    /* Fired: setting it again sets it anew. */
    assert_int_equal(strom_kstate_timer_add(ks, 0, 4, 2, 100), 0);
    assert_int_equal(strom_kstate_timer_count(ks), 1);
    expect_pop(ks, 200, 100, 4, 2);
    expect_none(ks, 200);
    strom_kstate_free(ks);
}

/* Many timers with many repeats, in random order, against a sorted reference. */
static void test_random_against_sorted(void **unused)
{
    enum { N = 20000, G = 8 };
    struct strom_kstate *ks = new_owning_all(G);
    struct tm3 *all = calloc(N, sizeof *all);
    uint64_t seed = 99;
    size_t uniq = 0;
    (void)unused;

    for (size_t i = 0; i < N; i++) {
        seed = strom_hash64(seed + i);
        all[i] = (struct tm3){(int64_t)(seed % 500) - 250, (seed >> 20) % 40, (seed >> 40) % 3};
        assert_int_equal(strom_kstate_timer_add(ks, kg_of(all[i].key, G), all[i].key, all[i].ns,
                                                all[i].time),
                         0);
    }
    qsort(all, N, sizeof *all, tm3_cmp);
    for (size_t i = 0; i < N; i++)
        if (!i || tm3_cmp(&all[i - 1], &all[i]))
            all[uniq++] = all[i];
    assert_true(uniq > 1000 && uniq < N);
    assert_int_equal(strom_kstate_timer_count(ks), uniq);
    /* Pop in steps of the watermark: each step yields exactly the reference's prefix. */
    size_t next = 0;
    for (int64_t wm = -260; wm <= 260; wm += 7) {
        while (next < uniq && all[next].time <= wm) {
            expect_pop(ks, wm, all[next].time, all[next].key, all[next].ns);
            next++;
        }
        expect_none(ks, wm);
    }
    assert_int_equal(next, uniq);
    free(all);
    strom_kstate_free(ks);
}

static void test_drop_removes_keygroup_timers(void **unused)
{
    enum { G = 4 };
    struct strom_kstate *ks = new_owning_all(G);
    size_t kept = 0;
    uint64_t k, n;
    int64_t t, last = INT64_MIN;
    (void)unused;

    for (uint64_t key = 0; key < 200; key++) {
        assert_int_equal(strom_kstate_timer_add(ks, kg_of(key, G), key, 1, (int64_t)(key % 17)),
                         0);
        kept += kg_of(key, G) != 2;
    }
    assert_int_equal(strom_kstate_timer_count(ks), 200);
    strom_kstate_drop(ks, 2);
    assert_int_equal(strom_kstate_timer_count(ks), kept);
    assert_int_equal(strom_kstate_timer_add(ks, 2, 1, 1, 1), STROM_E_KEYGROUP);
    /* The rest still dedups and fires in order. */
    for (uint64_t key = 0; key < 200; key++)
        if (kg_of(key, G) != 2)
            assert_int_equal(
                strom_kstate_timer_add(ks, kg_of(key, G), key, 1, (int64_t)(key % 17)), 0);
    assert_int_equal(strom_kstate_timer_count(ks), kept);
    for (size_t i = 0; i < kept; i++) {
        assert_int_equal(strom_kstate_timer_pop(ks, 100, &k, &n, &t), 1);
        assert_int_not_equal(kg_of(k, G), 2);
        assert_true(t >= last);
        assert_true(t == (int64_t)(k % 17));
        last = t;
    }
    expect_none(ks, INT64_MAX);
    /* Dropping the last timers of the kstate, and a kstate without any. */
    uint64_t key1 = 0;
    while (kg_of(key1, G) != 1)
        key1++;
    assert_int_equal(strom_kstate_timer_add(ks, 1, key1, 0, 1), 0);
    strom_kstate_drop(ks, 1);
    assert_int_equal(strom_kstate_timer_count(ks), 0);
    expect_none(ks, INT64_MAX);
    strom_kstate_drop(ks, 0);
    strom_kstate_free(ks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unowned_keygroup),
        cmocka_unit_test(test_order_and_watermark),
        cmocka_unit_test(test_duplicates_fire_once),
        cmocka_unit_test(test_random_against_sorted),
        cmocka_unit_test(test_drop_removes_keygroup_timers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
