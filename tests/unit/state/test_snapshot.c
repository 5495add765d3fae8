/*
 * tests/unit/state/test_snapshot.c: snapshot and restore of one key group (state/snapshot.c)
 * when all is well, and the refusals that do not need damaged bytes. Damaged bytes are
 * test_snapshot_damage.c's.
 *
 * Also keeps the fuzzer's seed corpus (tests/fuzz/corpus/kgsnapshot/) as golden files: the
 * seeds are built here and compared byte for byte, so that a change of the format shows up
 * as a failing test; STROM_REGEN_CORPUS=1 writes them anew instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "snapshot_fixture.h"
#include "state/state.h"
#include "state/state_int.h"
#include "strom/error.h"
#include "testutil.h"

#define HDR 36
#define EMPTY STROM_STATE__EMPTY

static struct strom_kstate *new_ks(int vec)
{
    struct strom_kstate *ks;

    assert_int_equal(strom_kstate_new(&ks, FX_G, 16, vec ? &fx_vec_codec : NULL), 0);
    return ks;
}

static void snap(const struct strom_kstate *ks, uint32_t kg, struct strom_buf *out)
{
    out->len = 0;
    assert_int_equal(strom_kstate_snapshot(ks, kg, out), 0);
}

static void test_layout(void **unused)
{
    struct strom_kstate *ks = new_ks(0);
    struct strom_buf b = {0};
    const uint8_t *p;
    size_t len;
    (void)unused;

    assert_int_equal(fx_small(ks, 1, 0), 0);
    assert_int_equal(strom_buf_append(&b, "junk", 4), 0);
    assert_int_equal(strom_kstate_snapshot(ks, 1, &b), 0); /* appends */
    assert_memory_equal(b.data, "junk", 4);
    p = b.data + 4;
    assert_int_equal(b.len - 4, HDR + 2 * (20 + 16) + 24 + 8);
    assert_memory_equal(p, "SKG1", 4);
    assert_int_equal(fx_get_le(p + 4, 4), 2);   /* version */
    assert_int_equal(fx_get_le(p + 8, 4), 1);   /* key group */
    assert_int_equal(fx_get_le(p + 12, 8), 16); /* record size */
    assert_int_equal(fx_get_le(p + 20, 8), 2);  /* records */
    assert_int_equal(fx_get_le(p + 28, 8), 1);  /* timers */
    /* Records in ascending key order: fx_key_in(1, 0) < fx_key_in(1, 1). */
    assert_int_equal(fx_get_le(p + HDR, 8), fx_key_in(1, 0));
    assert_int_equal(fx_get_le(p + HDR + 8, 8), 0);
    assert_int_equal(fx_get_le(p + HDR + 16, 4), 16);
    assert_int_equal(fx_get_le(p + HDR + 20, 8), 21);
    assert_int_equal(fx_get_le(p + HDR + 28, 8), 22);
    assert_int_equal(fx_get_le(p + HDR + 36, 8), fx_key_in(1, 1));
    assert_int_equal(fx_get_le(p + HDR + 44, 8), 3);
    assert_int_equal(fx_get_le(p + HDR + 56, 8), 11);
    assert_int_equal(fx_get_le(p + HDR + 72, 8), 500);
    assert_int_equal(fx_get_le(p + HDR + 80, 8), fx_key_in(1, 0));
    assert_int_equal(fx_get_le(p + HDR + 88, 8), 0);
    assert_true(fx_get_le(p + HDR + 96, 8) == strom_xxh64(p, HDR + 96));
    /* Not owned: refused, nothing appended. */
    len = b.len;
    assert_int_equal(strom_kstate_snapshot(ks, 2, &b), STROM_E_KEYGROUP);
    assert_int_equal(strom_kstate_snapshot(ks, FX_G, &b), STROM_E_KEYGROUP);
    assert_int_equal(b.len, len);
    strom_buf_release(&b);
    strom_kstate_free(ks);
}

/* Many records and timers in kg 2 among other groups, restored into a fresh kstate. */
static void test_roundtrip_plain(void **unused)
{
    struct strom_kstate *a = new_ks(0), *b = new_ks(0);
    struct strom_buf s1 = {0}, s2 = {0};
    struct fx_plain *p;
    char err[256] = "";
    uint32_t ekg = fx_kg_of(EMPTY);
    uint64_t key, ns;
    int64_t time, last = INT64_MIN;
    size_t n = 0;
    int rc;
    (void)unused;

    for (uint32_t kg = 0; kg < FX_G; kg++)
        assert_int_equal(strom_kstate_own(a, kg), 0);
    for (key = 0; key < 2000; key++) {
        assert_int_equal(fx_put_plain(a, key, 0, key, ~key), 0);
        assert_int_equal(fx_put_plain(a, key, 77, key * 2, 5), 0);
        assert_int_equal(strom_kstate_timer_add(a, fx_kg_of(key), key, 77, (int64_t)key - 1000),
                         0);
        n += fx_kg_of(key) == 2;
    }
    /* The free-slot marker pair is a record like any other. */
    assert_int_equal(fx_put_plain(a, EMPTY, EMPTY, 1, 2), 0);
    snap(a, 2, &s1);
    assert_int_equal(strom_kstate_restore(b, 2, s1.data, s1.len, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(strom_kstate_owns(b, 2), 1);
    assert_int_equal(strom_kstate_owns(b, 1), 0);
    assert_int_equal(strom_kstate_count(b, 2), 2 * n + (ekg == 2));
    assert_int_equal(strom_kstate_timer_count(b), n);
    for (key = 0; key < 2000; key++) {
        if (fx_kg_of(key) != 2)
            continue;
        p = strom_kstate_get(b, 2, key, 0, 0, NULL, &rc);
        assert_non_null(p);
        assert_true(p->a == key && p->b == ~key);
        p = strom_kstate_get(b, 2, key, 77, 0, NULL, &rc);
        assert_non_null(p);
        assert_true(p->a == key * 2 && p->b == 5);
    }
    /* The same state gives the same bytes. */
    snap(b, 2, &s2);
    assert_int_equal(s2.len, s1.len);
    assert_memory_equal(s2.data, s1.data, s1.len);
    /* Timers fire in order, for kg 2's keys only, and the table keeps working. */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(strom_kstate_timer_pop(b, INT64_MAX, &key, &ns, &time), 1);
        assert_int_equal(fx_kg_of(key), 2);
        assert_true(time == (int64_t)key - 1000 && ns == 77 && time > last);
        last = time;
    }
    assert_int_equal(strom_kstate_timer_pop(b, INT64_MAX, &key, &ns, &time), 0);
    assert_int_equal(strom_kstate_remove(b, 2, fx_key_in(2, 0), 0), 0);
    assert_null(strom_kstate_get(b, 2, fx_key_in(2, 0), 0, 0, NULL, &rc));
    assert_int_equal(fx_put_plain(b, fx_key_in(2, 5000), 1, 1, 1), 0);
    assert_int_equal(strom_kstate_count(b, 2), 2 * n + (ekg == 2));
    /* The group that holds the marker pair keeps it. */
    snap(a, ekg, &s1);
    strom_kstate_drop(b, ekg);
    assert_int_equal(strom_kstate_restore(b, ekg, s1.data, s1.len, err, sizeof err), 0);
    p = strom_kstate_get(b, ekg, EMPTY, EMPTY, 0, NULL, &rc);
    assert_non_null(p);
    assert_true(p->a == 1 && p->b == 2);
    strom_buf_release(&s1);
    strom_buf_release(&s2);
    strom_kstate_free(a);
    strom_kstate_free(b);
}

/* Equal content built in different orders, with churn, snapshots to equal bytes. */
static void test_canonical(void **unused)
{
    struct strom_kstate *a = new_ks(0), *b = new_ks(0);
    struct strom_buf s1 = {0}, s2 = {0};
    (void)unused;

    assert_int_equal(strom_kstate_own(a, 0), 0);
    assert_int_equal(strom_kstate_own(b, 0), 0);
    for (unsigned i = 0; i < 300; i++) {
        assert_int_equal(fx_put_plain(a, fx_key_in(0, i), i % 3, i, 0), 0);
        assert_int_equal(strom_kstate_timer_add(a, 0, fx_key_in(0, i), 0, i % 10), 0);
    }
    for (unsigned i = 300; i-- > 0;) {
        assert_int_equal(fx_put_plain(b, fx_key_in(0, i + 1000), 0, 0, 0), 0);
        assert_int_equal(fx_put_plain(b, fx_key_in(0, i), i % 3, i, 0), 0);
        assert_int_equal(strom_kstate_timer_add(b, 0, fx_key_in(0, i), 0, i % 10), 0);
        assert_int_equal(strom_kstate_remove(b, 0, fx_key_in(0, i + 1000), 0), 0);
    }
    snap(a, 0, &s1);
    snap(b, 0, &s2);
    assert_int_equal(s1.len, s2.len);
    assert_memory_equal(s1.data, s2.data, s1.len);
    strom_buf_release(&s1);
    strom_buf_release(&s2);
    strom_kstate_free(a);
    strom_kstate_free(b);
}

static void test_roundtrip_codec(void **unused)
{
    struct strom_kstate *a = new_ks(1);
    struct fx_target t;
    struct strom_buf s1 = {0}, s2 = {0};
    char err[256] = "";
    long before;
    int rc;
    (void)unused;

    fx_live = 0;
    assert_int_equal(fx_target_init(&t, 1, 1), 0);
    size_t timers = strom_kstate_timer_count(t.ks);
    assert_int_equal(strom_kstate_own(a, 1), 0);
    for (unsigned i = 0; i < 50; i++) {
        assert_int_equal(fx_put_vec(a, fx_key_in(1, i), i % 2, i * 3 % 17, i * 1000), 0);
        assert_int_equal(strom_kstate_timer_add(a, 1, fx_key_in(1, i), i % 2, 7 - (int64_t)i),
                         0);
    }
    snap(a, 1, &s1);
    before = fx_live;
    assert_int_equal(strom_kstate_restore(t.ks, 1, s1.data, s1.len, err, sizeof err), 0);
    assert_int_equal(strom_kstate_count(t.ks, 1), 50);
    assert_int_equal(strom_kstate_timer_count(t.ks), timers + 50);
    for (unsigned i = 0; i < 50; i++) {
        struct fx_vec *x = strom_kstate_get(t.ks, 1, fx_key_in(1, i), i % 2, 0, NULL, &rc);
        assert_non_null(x);
        assert_int_equal(x->n, i * 3 % 17);
        for (uint64_t j = 0; j < x->n; j++)
            assert_true(x->v[j] == i * 1000 + j);
    }
    assert_int_equal(fx_live, before + 47); /* three of the fifty are empty */
    snap(t.ks, 1, &s2);
    assert_int_equal(s2.len, s1.len);
    assert_memory_equal(s2.data, s1.data, s1.len);
    /* Dropping the group releases what restore decoded, and only that. */
    strom_kstate_drop(t.ks, 1);
    assert_int_equal(fx_live, before);
    assert_int_equal(fx_target_check(&t, 1), 0);
    strom_buf_release(&s1);
    strom_buf_release(&s2);
    strom_kstate_free(a);
    fx_target_release(&t);
    assert_int_equal(fx_live, 0);
}

static void test_refusals(void **unused)
{
    struct strom_kstate *a = new_ks(0), *wide;
    struct fx_target t;
    struct strom_buf s = {0};
    char err[256];
    (void)unused;

    assert_int_equal(strom_kstate_new(&wide, FX_G, 24, NULL), 0);
    assert_int_equal(fx_target_init(&t, 0, 2), 0);
    assert_int_equal(fx_small(a, 1, 0), 0);
    snap(a, 1, &s);
    assert_int_equal(strom_kstate_restore(t.ks, 2, s.data, s.len, err, sizeof err),
                     STROM_E_CORRUPT);
    assert_string_equal(err, "snapshot byte 8: snapshot of key group 1, restoring 2");
    assert_int_equal(fx_target_check(&t, 2), 0);
    assert_int_equal(strom_kstate_restore(wide, 1, s.data, s.len, err, sizeof err),
                     STROM_E_CORRUPT);
    assert_string_equal(err, "snapshot byte 12: record size 16, this operator's is 24 (a "
                             "snapshot of another operator?)");
    assert_int_equal(strom_kstate_owns(wide, 1), 0);
    assert_int_equal(strom_kstate_restore(t.ks, 1, s.data, s.len, err, sizeof err),
                     STROM_E_EXISTS);
    assert_string_equal(err, "key group 1 is already owned");
    assert_int_equal(strom_kstate_restore(t.ks, FX_G, s.data, s.len, err, sizeof err),
                     STROM_E_KEYGROUP);
    assert_string_equal(err, "key group 4 out of range (4 key groups)");
    /* A newer format is named as such, even with a checksum that matches. */
    fx_set_le(s.data + 4, 3, 4);
    fx_reseal(s.data, s.len);
    strom_kstate_drop(t.ks, 1);
    assert_int_equal(strom_kstate_restore(t.ks, 1, s.data, s.len, err, sizeof err),
                     STROM_E_VERSION);
    assert_string_equal(err, "snapshot byte 4: format version 3, this build reads 2");
    memcpy(s.data, "SKG2", 4);
    assert_int_equal(strom_kstate_restore(t.ks, 1, s.data, s.len, NULL, 0), STROM_E_CORRUPT);
    assert_int_equal(strom_kstate_owns(t.ks, 1), 0);
    strom_buf_release(&s);
    strom_kstate_free(a);
    strom_kstate_free(wide);
    fx_target_release(&t);
}

/* The fuzzer's seeds: a flags byte (bit 0: vec records, bit 1: reseal), then a snapshot. */
static void make_seed(int which, struct strom_buf *out, const char **name)
{
    int vec = which >= 2;
    struct strom_kstate *ks = new_ks(vec);
    uint32_t kg = 0;
    uint8_t flags = (uint8_t)vec;

    switch (which) {
    case 0:
        *name = "plain-empty";
        assert_int_equal(strom_kstate_own(ks, kg), 0);
        break;
    case 1:
        *name = "plain-small";
        assert_int_equal(fx_small(ks, kg = 1, 0), 0);
        assert_int_equal(strom_kstate_timer_add(ks, 1, fx_key_in(1, 2), 0, INT64_MIN), 0);
        break;
    case 2:
        *name = "codec-small";
        assert_int_equal(fx_small(ks, kg = 2, 1), 0);
        break;
    default:
        *name = "codec-marker";
        kg = fx_kg_of(EMPTY);
        assert_int_equal(strom_kstate_own(ks, kg), 0);
        assert_int_equal(fx_put_vec(ks, EMPTY, EMPTY, 1, 9), 0);
        assert_int_equal(fx_put_vec(ks, fx_key_in(kg, 0), 5, 3, 1ULL << 40), 0);
        assert_int_equal(strom_kstate_timer_add(ks, kg, fx_key_in(kg, 0), 5, INT64_MAX), 0);
        assert_int_equal(strom_kstate_timer_add(ks, kg, EMPTY, 0, 0), 0);
    }
    out->len = 0;
    assert_int_equal(strom_buf_append(out, &flags, 1), 0);
    assert_int_equal(strom_kstate_snapshot(ks, kg, out), 0);
    strom_kstate_free(ks);
}

static void test_fuzz_corpus(void **unused)
{
    const char *f = __FILE__, *p = strstr(f, "tests/unit/state/");
    int regen = getenv("STROM_REGEN_CORPUS") != NULL;
    char dir[4096];
    (void)unused;

    /* CMake compiles with absolute paths, so the corpus is found from any directory. */
    snprintf(dir, sizeof dir, "%.*stests/fuzz/corpus/kgsnapshot", (int)(p ? p - f : 0), f);
    fx_live = 0;
    for (int which = 0; which < 4; which++) {
        struct strom_buf seed = {0};
        const char *name;
        make_seed(which, &seed, &name);
        if (regen) {
            assert_int_equal(tu_write_file(tu_path(dir, name), seed.data, seed.len), 0);
        } else {
            size_t len = 0;
            char *have = tu_read_file(tu_path(dir, name), &len);
            if (!have)
                fail_msg("%s missing (STROM_REGEN_CORPUS=1 writes it)", tu_path(dir, name));
            if (len != seed.len || memcmp(have, seed.data, len))
                fail_msg("%s differs from what the snapshot format writes now; if the format "
                         "changed on purpose, STROM_REGEN_CORPUS=1 rewrites it",
                         tu_path(dir, name));
            free(have);
        }
        strom_buf_release(&seed);
    }
    assert_int_equal(fx_live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_roundtrip_plain),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_roundtrip_codec),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_fuzz_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
