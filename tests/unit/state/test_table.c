/* tests/unit/state/test_table.c: records of struct strom_kstate (state/table.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/hash.h"
#include "state/state.h"
#include "state/state_int.h"
#include "strom/error.h"

#define EMPTY STROM_STATE__EMPTY

static uint64_t rng_next(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    return strom_hash64(*s);
}

static uint32_t kg_of(uint64_t key, uint32_t groups)
{
    return strom_hash_keygroup(strom_hash64(key), groups);
}

static struct strom_kstate *new_owning_all(uint32_t groups, size_t record_size)
{
    struct strom_kstate *ks;

    assert_int_equal(strom_kstate_new(&ks, groups, record_size, NULL), 0);
    for (uint32_t kg = 0; kg < groups; kg++)
        assert_int_equal(strom_kstate_own(ks, kg), 0);
    return ks;
}

static void test_new_refuses_bad_arguments(void **unused)
{
    static const struct strom_record_codec half = {.encode = NULL};
    struct strom_kstate *ks = (struct strom_kstate *)&ks;
    (void)unused;

    assert_int_equal(strom_kstate_new(&ks, 0, 8, NULL), STROM_E_INVAL);
    assert_null(ks);
    assert_int_equal(strom_kstate_new(&ks, 4, STROM_STATE__MAX_RECORD + 1, NULL),
                     STROM_E_INVAL);
    assert_int_equal(strom_kstate_new(&ks, 4, 8, &half), STROM_E_INVAL);
    assert_null(ks);
    strom_kstate_free(NULL);
}

static void test_own_and_drop(void **unused)
{
    struct strom_kstate *ks;
    int rc = 1;
    (void)unused;

    assert_int_equal(strom_kstate_new(&ks, 8, 16, NULL), 0);
    assert_int_equal(strom_kstate_owns(ks, 3), 0);
    assert_int_equal(strom_kstate_own(ks, 3), 0);
    assert_int_equal(strom_kstate_owns(ks, 3), 1);
    assert_int_equal(strom_kstate_own(ks, 3), STROM_E_EXISTS);
    assert_int_equal(strom_kstate_own(ks, 8), STROM_E_KEYGROUP);
    assert_int_equal(strom_kstate_owns(ks, 8), 0);
    assert_int_equal(strom_kstate_owns(ks, UINT32_MAX), 0);
    assert_int_equal(strom_kstate_count(ks, 3), 0);
    /* An owned, never used key group answers lookups. */
    assert_null(strom_kstate_get(ks, 3, 1, 0, 0, NULL, &rc));
    assert_int_equal(rc, 0);
    assert_int_equal(strom_kstate_remove(ks, 3, 1, 0), 0);
    assert_non_null(strom_kstate_get(ks, 3, 1, 0, 1, NULL, &rc));
    assert_int_equal(strom_kstate_count(ks, 3), 1);
    strom_kstate_drop(ks, 3);
    assert_int_equal(strom_kstate_owns(ks, 3), 0);
    assert_int_equal(strom_kstate_count(ks, 3), 0);
    strom_kstate_drop(ks, 3); /* not owned: nothing */
    strom_kstate_drop(ks, 100);
    /* Owned again: empty. */
    assert_int_equal(strom_kstate_own(ks, 3), 0);
    assert_null(strom_kstate_get(ks, 3, 1, 0, 0, NULL, &rc));
    assert_int_equal(rc, 0);
    strom_kstate_free(ks);
}

static void test_keygroup_errors(void **unused)
{
    struct strom_kstate *ks;
    int rc = 0, created = 7;
    (void)unused;

    assert_int_equal(strom_kstate_new(&ks, 4, 16, NULL), 0);
    assert_int_equal(strom_kstate_own(ks, 1), 0);
    assert_null(strom_kstate_get(ks, 0, 5, 0, 1, &created, &rc));
    assert_int_equal(rc, STROM_E_KEYGROUP);
    assert_int_equal(created, 0);
    rc = 0;
    assert_null(strom_kstate_get(ks, 4, 5, 0, 1, NULL, &rc));
    assert_int_equal(rc, STROM_E_KEYGROUP);
    assert_int_equal(strom_kstate_remove(ks, 2, 5, 0), STROM_E_KEYGROUP);
    assert_int_equal(strom_kstate_remove(ks, 9, 5, 0), STROM_E_KEYGROUP);
    assert_int_equal(strom_kstate_count(ks, 0), 0);
    assert_int_equal(strom_kstate_count(ks, 1), 0);
    strom_kstate_free(ks);
}

static void test_get_create(void **unused)
{
    /* Addresses that look alike: key 0, ns 0, the free-slot marker in one half or both. */
    static const uint64_t addr[][2] = {
        {0, 0}, {0, 1}, {1, 0}, {EMPTY, 0}, {0, EMPTY}, {EMPTY, EMPTY}, {UINT64_MAX, UINT64_MAX},
        {EMPTY, 1},
    };
    const size_t n = sizeof addr / sizeof addr[0];
    struct strom_kstate *ks = new_owning_all(1, 12);
    int rc = 1, created = 0;
    uint32_t *rec;
    (void)unused;

    for (size_t i = 0; i < n; i++) {
        assert_null(strom_kstate_get(ks, 0, addr[i][0], addr[i][1], 0, &created, &rc));
        assert_int_equal(rc, 0);
        rec = strom_kstate_get(ks, 0, addr[i][0], addr[i][1], 1, &created, &rc);
        assert_non_null(rec);
        assert_int_equal(rc, 0);
        assert_int_equal(created, 1);
        assert_int_equal(rec[0] | rec[1] | rec[2], 0);
        assert_int_equal((uintptr_t)rec % 8, 0);
        rec[0] = (uint32_t)i + 100;
        rec[2] = (uint32_t)i + 200;
        assert_int_equal(strom_kstate_count(ks, 0), i + 1);
    }
    for (size_t i = 0; i < n; i++) {
        rec = strom_kstate_get(ks, 0, addr[i][0], addr[i][1], 1, &created, &rc);
        assert_non_null(rec);
        assert_int_equal(created, 0);
        assert_int_equal(rec[0], i + 100);
        assert_int_equal(rec[1], 0);
        assert_int_equal(rec[2], i + 200);
        rec = strom_kstate_get(ks, 0, addr[i][0], addr[i][1], 0, NULL, NULL);
        assert_int_equal(rec[0], i + 100);
    }
    assert_int_equal(strom_kstate_count(ks, 0), n);
    strom_kstate_free(ks);
}

/* Many keys and namespaces in one group, through many doublings, the marker pair among
 * them, then every key group of a larger kstate. */
static void test_grow_many(void **unused)
{
    struct strom_kstate *ks = new_owning_all(1, 8);
    uint64_t *rec;
    int created, rc;
    (void)unused;

    for (uint64_t key = 0; key < 10000; key++) {
        for (uint64_t ns = 0; ns < 5; ns++) {
            rec = strom_kstate_get(ks, 0, key, ns * 1000, 1, &created, &rc);
            assert_non_null(rec);
            assert_int_equal(created, 1);
            *rec = key * 31 + ns;
        }
        if (key == 5000)
            *(uint64_t *)strom_kstate_get(ks, 0, EMPTY, EMPTY, 1, NULL, &rc) = 424242;
    }
    assert_int_equal(strom_kstate_count(ks, 0), 50001);
    for (uint64_t key = 0; key < 10000; key++)
        for (uint64_t ns = 0; ns < 5; ns++) {
            rec = strom_kstate_get(ks, 0, key, ns * 1000, 0, NULL, &rc);
            assert_non_null(rec);
            assert_true(*rec == key * 31 + ns);
        }
    assert_null(strom_kstate_get(ks, 0, 10000, 0, 0, NULL, &rc));
    assert_null(strom_kstate_get(ks, 0, 1, 1, 0, NULL, &rc));
    rec = strom_kstate_get(ks, 0, EMPTY, EMPTY, 0, NULL, &rc);
    assert_non_null(rec);
    assert_int_equal(*rec, 424242);
    strom_kstate_free(ks);

    const uint32_t groups = 256;
    size_t per[256] = {0}, total = 0;
    ks = new_owning_all(groups, 16);
    for (uint64_t key = 0; key < 20000; key++) {
        uint32_t kg = kg_of(key, groups);
        rec = strom_kstate_get(ks, kg, key, 0, 1, NULL, &rc);
        assert_non_null(rec);
        rec[1] = key ^ 0x5555;
        per[kg]++;
    }
    for (uint32_t kg = 0; kg < groups; kg++) {
        assert_int_equal(strom_kstate_count(ks, kg), per[kg]);
        total += strom_kstate_count(ks, kg);
    }
    assert_int_equal(total, 20000);
    for (uint64_t key = 0; key < 20000; key++) {
        rec = strom_kstate_get(ks, kg_of(key, groups), key, 0, 0, NULL, &rc);
        assert_non_null(rec);
        assert_int_equal(rec[0], 0);
        assert_true(rec[1] == (key ^ 0x5555));
    }
    strom_kstate_free(ks);
}

/* A record created where a removed one was, and records moved by growth, start zeroed. */
static void test_records_zeroed(void **unused)
{
    struct strom_kstate *ks = new_owning_all(1, 20);
    uint8_t *rec, zero[20] = {0};
    int rc;
    (void)unused;

    for (uint64_t key = 0; key < 1000; key++) {
        rec = strom_kstate_get(ks, 0, key, 7, 1, NULL, &rc);
        assert_memory_equal(rec, zero, 20);
        memset(rec, 0xff, 20);
    }
    for (uint64_t key = 0; key < 1000; key += 2)
        assert_int_equal(strom_kstate_remove(ks, 0, key, 7), 0);
    assert_int_equal(strom_kstate_count(ks, 0), 500);
    for (uint64_t key = 0; key < 1000; key++) {
        int created;
        rec = strom_kstate_get(ks, 0, key, 7, 1, &created, &rc);
        assert_int_equal(created, key % 2 == 0);
        if (key % 2 == 0)
            assert_memory_equal(rec, zero, 20);
        else
            assert_int_equal(rec[19], 0xff);
    }
    rec = strom_kstate_get(ks, 0, EMPTY, EMPTY, 1, NULL, &rc);
    memset(rec, 0xff, 20);
    strom_kstate_remove(ks, 0, EMPTY, EMPTY);
    rec = strom_kstate_get(ks, 0, EMPTY, EMPTY, 1, NULL, &rc);
    assert_memory_equal(rec, zero, 20);
    strom_kstate_free(ks);
}

/* Random inserts, removals and lookups against a plain array. Few distinct addresses in
 * one small group, so probe runs are long and removals shift entries back often. */
static void test_remove_random(void **unused)
{
    enum { KEYS = 300, NSS = 2, N = KEYS * NSS + 1, OPS = 200000 };
    struct strom_kstate *ks = new_owning_all(1, 8);
    static uint64_t want[N];
    static int present[N];
    uint64_t seed = 12345, *rec;
    size_t count = 0;
    int rc, created;
    (void)unused;

    for (int op = 0; op < OPS; op++) {
        uint64_t r = rng_next(&seed);
        size_t i = (size_t)(r % N);
        /* The last address is the free-slot marker pair. */
        uint64_t key = i == N - 1 ? EMPTY : i / NSS, ns = i == N - 1 ? EMPTY : i % NSS;
        switch ((r >> 32) % 3) {
        case 0:
            rec = strom_kstate_get(ks, 0, key, ns, 1, &created, &rc);
            assert_non_null(rec);
            assert_int_equal(created, !present[i]);
            assert_true(*rec == (present[i] ? want[i] : 0));
            want[i] = *rec = r | 1;
            count += !present[i];
            present[i] = 1;
            break;
        case 1:
            assert_int_equal(strom_kstate_remove(ks, 0, key, ns), 0);
            count -= present[i];
            present[i] = 0;
            break;
        default:
            rec = strom_kstate_get(ks, 0, key, ns, 0, NULL, &rc);
            assert_int_equal(rec != NULL, present[i]);
            if (rec)
                assert_true(*rec == want[i]);
        }
        assert_int_equal(strom_kstate_count(ks, 0), count);
        if (op % 5000 == 0 || op == OPS - 1)
            for (size_t j = 0; j < N; j++) {
                uint64_t k = j == N - 1 ? EMPTY : j / NSS, n = j == N - 1 ? EMPTY : j % NSS;
                rec = strom_kstate_get(ks, 0, k, n, 0, NULL, &rc);
                assert_int_equal(rec != NULL, present[j]);
                if (rec)
                    assert_true(*rec == want[j]);
            }
    }
    /* Remove everything: the table must end empty and answer nothing. */
    for (size_t j = 0; j < N; j++)
        strom_kstate_remove(ks, 0, j == N - 1 ? EMPTY : j / NSS, j == N - 1 ? EMPTY : j % NSS);
    assert_int_equal(strom_kstate_count(ks, 0), 0);
    assert_null(strom_kstate_get(ks, 0, 0, 0, 0, NULL, &rc));
    strom_kstate_free(ks);
}

struct walk {
    uint32_t groups, last_kg;
    size_t calls, stop_after;
    uint64_t key_sum;
};

static int walk_fn(void *arg, uint64_t key, uint64_t ns, void *rec)
{
    struct walk *w = arg;
    uint32_t kg = kg_of(key, w->groups);

    assert_true(kg >= w->last_kg);
    assert_true(ns == key + 1);
    assert_true(*(uint64_t *)rec == key * 3);
    w->last_kg = kg;
    w->key_sum += key;
    return ++w->calls == w->stop_after ? 77 : 0;
}

static void test_foreach_order(void **unused)
{
    static const uint32_t owned[] = {9, 2, 14, 0};
    struct strom_kstate *ks;
    struct walk w = {.groups = 16};
    uint64_t sum = 0;
    size_t n = 0;
    int rc;
    (void)unused;

    assert_int_equal(strom_kstate_new(&ks, 16, 8, NULL), 0);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(strom_kstate_own(ks, owned[i]), 0);
    for (uint64_t key = 0; key < 5000; key++) {
        uint32_t kg = kg_of(key, 16);
        if (!strom_kstate_owns(ks, kg))
            continue;
        *(uint64_t *)strom_kstate_get(ks, kg, key, key + 1, 1, NULL, &rc) = key * 3;
        sum += key;
        n++;
    }
    assert_true(n > 1000);
    assert_int_equal(strom_kstate_foreach(ks, walk_fn, &w), 0);
    assert_int_equal(w.calls, n);
    assert_true(w.key_sum == sum);
    assert_int_equal(w.last_kg, 14);
    /* A non-zero return stops the walk and comes back. */
    w = (struct walk){.groups = 16, .stop_after = 10};
    assert_int_equal(strom_kstate_foreach(ks, walk_fn, &w), 77);
    assert_int_equal(w.calls, 10);
    assert_int_equal(w.last_kg, 0);
    strom_kstate_free(ks);
}

/* A codec record: a malloc'd array. ASan reports any record never released. */
struct vec {
    uint64_t n;
    uint64_t *v;
};

static int releases;

static int vec_encode(const void *rec, struct strom_buf *out)
{
    (void)rec;
    (void)out;
    return -ENOTSUP;
}

static int vec_decode(void *rec, struct strom_reader *in)
{
    (void)rec;
    (void)in;
    return -ENOTSUP;
}

static void vec_release(void *rec)
{
    struct vec *v = rec;
    free(v->v);
    v->v = NULL;
    releases++;
}

static const struct strom_record_codec vec_codec = {vec_encode, vec_decode, vec_release};

static void test_codec_release(void **unused)
{
    struct strom_kstate *ks;
    struct vec *v;
    size_t in_kg[4] = {0};
    int rc;
    (void)unused;

    assert_int_equal(strom_kstate_new(&ks, 4, sizeof(struct vec), &vec_codec), 0);
    for (uint32_t kg = 0; kg < 4; kg++)
        assert_int_equal(strom_kstate_own(ks, kg), 0);
    for (uint64_t key = 0; key < 400; key++) {
        uint32_t kg = kg_of(key, 4);
        v = strom_kstate_get(ks, kg, key, 0, 1, NULL, &rc);
        assert_null(v->v);
        v->n = key % 5 + 1;
        v->v = calloc(v->n, sizeof *v->v);
        in_kg[kg]++;
    }
    releases = 0;
    assert_int_equal(strom_kstate_remove(ks, kg_of(7, 4), 7, 0), 0);
    assert_int_equal(releases, 1);
    assert_int_equal(strom_kstate_remove(ks, kg_of(7, 4), 7, 0), 0); /* absent: no release */
    assert_int_equal(releases, 1);
    strom_kstate_drop(ks, 2);
    assert_int_equal(releases, 1 + in_kg[2] - (kg_of(7, 4) == 2));
    strom_kstate_free(ks);
    assert_int_equal(releases, 400); /* each record exactly once */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_refuses_bad_arguments),
        cmocka_unit_test(test_own_and_drop),
        cmocka_unit_test(test_keygroup_errors),
        cmocka_unit_test(test_get_create),
        cmocka_unit_test(test_grow_many),
        cmocka_unit_test(test_records_zeroed),
        cmocka_unit_test(test_remove_random),
        cmocka_unit_test(test_foreach_order),
        cmocka_unit_test(test_codec_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
