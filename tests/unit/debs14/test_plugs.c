/* A house's sorted set of plugs: gets find or insert in id order, elements keep their
 * contents across inserts, and a set filled directly (as a decoder does) is searched
 * correctly once its id index is rebuilt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/debs14/plugs.h"

struct el {
    uint64_t id;
    uint64_t payload[5]; /* large records: the search must not depend on their size */
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void check_set(const struct strom_debs_plugs *set)
{
    for (uint32_t i = 0; i < set->n; i++) {
        const struct el *e = strom_debs_plugs_at(set, sizeof *e, i);
        assert_int_equal(e->payload[0], e->id * 3 + 1); /* moved with its id */
        if (i)
            assert_true(((const struct el *)strom_debs_plugs_at(set, sizeof *e, i - 1))->id <
                        e->id);
    }
}

static void test_random_inserts(void **unused)
{
    struct strom_debs_plugs set = {0};
    uint64_t seed = 88172645463325252ull;
    int inserted;
    (void)unused;
    for (int k = 0; k < 3000; k++) {
        /* few distinct ids, so most gets find; ids spread over 64 bits */
        uint64_t id = (rnd(&seed) % 300) * 0x9E3779B97F4A7C15ull;
        struct el *e = strom_debs_plugs_get(&set, sizeof *e, id, &inserted);
        assert_non_null(e);
        assert_int_equal(e->id, id);
        if (inserted) {
            assert_int_equal(e->payload[0], 0); /* zeroed */
            e->payload[0] = id * 3 + 1;
        } else {
            assert_int_equal(e->payload[0], id * 3 + 1);
        }
        check_set(&set);
    }
    assert_true(set.n > 250 && set.n <= 300); /* nearly every id came */
    strom_debs_plugs_free(&set);
    assert_null(set.a);
    assert_int_equal(set.n, 0);
}

/* Filled as a decoder fills it: a and n only. */
static void test_filled_directly(void **unused)
{
    struct strom_debs_plugs set = {0};
    struct el *a = calloc(40, sizeof *a);
    int inserted;
    (void)unused;
    assert_non_null(a);
    for (uint64_t i = 0; i < 40; i++) {
        a[i].id = 10 * i + 5;
        a[i].payload[0] = a[i].id * 3 + 1;
    }
    set.a = a;
    set.n = set.cap = 40;
    for (uint64_t i = 0; i < 40; i++) {
        struct el *e = strom_debs_plugs_get(&set, sizeof *e, 10 * i + 5, &inserted);
        assert_ptr_equal(e, &a[i]);
        assert_int_equal(inserted, 0);
    }
    /* between, before and after every element: new ones */
    for (uint64_t id = 0; id <= 400; id += 10) {
        struct el *e = strom_debs_plugs_get(&set, sizeof *e, id, &inserted);
        assert_non_null(e);
        assert_int_equal(inserted, 1);
        e->payload[0] = id * 3 + 1;
    }
    assert_int_equal(set.n, 81);
    check_set(&set);
    strom_debs_plugs_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_inserts),
        cmocka_unit_test(test_filled_directly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
