/*
 * tests/unit/state/test_snapshot_damage.c: restore refuses damaged snapshots, says where,
 * and changes nothing: every cut and every one-bit flip of small snapshots, then damage
 * behind a matching checksum (resealed), one check of state/snapshot.c at a time.
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
#include "strom/error.h"

#define HDR 36

static void snap(const struct strom_kstate *ks, uint32_t kg, struct strom_buf *out)
{
    out->len = 0;
    assert_int_equal(strom_kstate_snapshot(ks, kg, out), 0);
}

/* A snapshot of fx_small(kg 2), plain or vec, from a kstate then freed. */
static void small_snapshot(int vec, struct strom_buf *out)
{
    struct strom_kstate *ks;

    assert_int_equal(strom_kstate_new(&ks, FX_G, 16, vec ? &fx_vec_codec : NULL), 0);
    assert_int_equal(fx_small(ks, 2, vec), 0);
    snap(ks, 2, out);
    strom_kstate_free(ks);
}

static void test_cuts_and_bit_flips(void **unused)
{
    char err[256];
    (void)unused;

    fx_live = 0;
    for (int vec = 0; vec < 2; vec++) {
        struct fx_target t;
        struct strom_buf s = {0};
        small_snapshot(vec, &s);
        assert_int_equal(fx_target_init(&t, vec, 2), 0);
        long live = fx_live;
        for (size_t len = 0; len < s.len; len++) {
            uint8_t *copy = malloc(len + 1); /* only len bytes defined: ASan sees overreads */
            memcpy(copy, s.data, len);
            err[0] = 0;
            assert_int_equal(strom_kstate_restore(t.ks, 2, copy, len, err, sizeof err),
                             STROM_E_CORRUPT);
            assert_non_null(strstr(err, "snapshot byte "));
            free(copy);
        }
        assert_int_equal(fx_target_check(&t, 2), 0);
        for (size_t bit = 0; bit < s.len * 8; bit++) {
            s.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            int rc = strom_kstate_restore(t.ks, 2, s.data, s.len, err, sizeof err);
            s.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            /* Bytes 4..7 hold the version, which is read before the checksum. */
            assert_int_equal(rc,
                             bit / 8 >= 4 && bit / 8 < 8 ? STROM_E_VERSION : STROM_E_CORRUPT);
            assert_int_equal(strom_kstate_owns(t.ks, 2), 0);
        }
        assert_int_equal(fx_target_check(&t, 2), 0);
        assert_int_equal(fx_live, live);
        /* Unharmed, it restores. */
        assert_int_equal(strom_kstate_restore(t.ks, 2, s.data, s.len, err, sizeof err), 0);
        assert_int_equal(strom_kstate_count(t.ks, 2), 2);
        assert_int_equal(fx_live, live + vec);
        strom_buf_release(&s);
        fx_target_release(&t);
        assert_int_equal(fx_live, 0);
    }
}

/* Restores a resealed copy of bytes into kg 2 of t: refused with rc and msg (unless NULL),
 * and t as it was. */
static void refuse(struct fx_target *t, const uint8_t *bytes, size_t len, int rc,
                   const char *msg)
{
    uint8_t *copy = malloc(len);
    char err[256] = "";
    long live = fx_live;

    memcpy(copy, bytes, len);
    fx_reseal(copy, len);
    assert_int_equal(strom_kstate_restore(t->ks, 2, copy, len, err, sizeof err), rc);
    if (msg)
        assert_string_equal(err, msg);
    assert_int_equal(fx_target_check(t, 2), 0);
    assert_int_equal(fx_live, live);
    free(copy);
}

static void test_crafted_codec(void **unused)
{
    struct fx_target t;
    struct strom_buf s = {0};
    char want[256], err[256];
    uint64_t k0 = fx_key_in(2, 0), kx = fx_key_in(1, 1000);
    uint8_t *d, *longer;
    (void)unused;

    fx_live = 0;
    small_snapshot(1, &s);
    assert_int_equal(fx_target_init(&t, 1, 2), 0);
    d = s.data;
    /* Record 0 at 36 (length at 52, n = 2 at 56, values at 60 and 68), record 1 at 76
     * (length at 92), the timer at 100, the checksum at 124. */
    assert_int_equal(s.len, 132);
    assert_int_equal(fx_get_le(d + 52, 4), 20);
    assert_int_equal(fx_get_le(d + 56, 4), 2);
    assert_int_equal(fx_get_le(d + 92, 4), 4);

    fx_set_le(d + 52, 4096, 4);
    refuse(&t, d, s.len, STROM_E_CORRUPT,
           "snapshot byte 52: record 0 claims 4096 bytes, 68 remain");
    fx_set_le(d + 52, 20, 4);

    /* Counts: checked against the bytes before anything is sized by them. */
    fx_set_le(d + 20, 1ULL << 60, 8);
    refuse(&t, d, s.len, STROM_E_CORRUPT,
           "snapshot byte 20: 1152921504606846976 records and 1 timers do not fit in the 88 "
           "bytes that remain");
    fx_set_le(d + 20, 3, 8);
    refuse(&t, d, s.len, STROM_E_CORRUPT, NULL);
    fx_set_le(d + 20, 1, 8);
    refuse(&t, d, s.len, STROM_E_CORRUPT,
           "snapshot byte 76: 1 timers take 24 bytes, 48 remain before the checksum");
    fx_set_le(d + 20, 2, 8);
    fx_set_le(d + 28, UINT64_MAX, 8);
    refuse(&t, d, s.len, STROM_E_CORRUPT,
           "snapshot byte 20: 2 records and 18446744073709551615 timers do not fit in the 88 "
           "bytes that remain");
    fx_set_le(d + 28, 1, 8);

    /* Keys: of another key group; repeated. */
    assert_true(kx > k0);
    fx_set_le(d + 76, kx, 8);
    snprintf(want, sizeof want, "snapshot byte 76: record 1 has key %llu of key group 1, not 2",
             (unsigned long long)kx);
    refuse(&t, d, s.len, STROM_E_CORRUPT, want);
    fx_set_le(d + 76, k0, 8);
    fx_set_le(d + 84, 1, 8);
    snprintf(want, sizeof want,
             "snapshot byte 76: record 1 (key %llu, ns 1) repeats or is out of order",
             (unsigned long long)k0);
    refuse(&t, d, s.len, STROM_E_CORRUPT, want);
    fx_set_le(d + 76, fx_key_in(2, 1), 8);
    fx_set_le(d + 84, 0, 8);

    /* The decoder stops early; refuses; fails after allocating (release must follow). */
    fx_set_le(d + 56, 1, 4);
    refuse(&t, d, s.len, STROM_E_CORRUPT,
           "snapshot byte 56: record 0 decodes from 12 of its 20 bytes");
    fx_set_le(d + 56, 3, 4);
    refuse(&t, d, s.len, STROM_E_CORRUPT,
           "snapshot byte 56: record 0 does not decode: corrupt or truncated data");
    fx_set_le(d + 56, 2, 4);
    fx_set_le(d + 68, FX_POISON, 8);
    refuse(&t, d, s.len, STROM_E_CORRUPT,
           "snapshot byte 56: record 0 does not decode: corrupt or truncated data");
    fx_set_le(d + 68, 101, 8);

    /* A byte too many before the checksum. */
    longer = calloc(1, s.len + 1);
    memcpy(longer, d, s.len - 8);
    refuse(&t, longer, s.len + 1, STROM_E_CORRUPT,
           "snapshot byte 100: 1 timers take 24 bytes, 25 remain before the checksum");
    free(longer);

    /* All edits undone: it restores. */
    assert_int_equal(strom_kstate_restore(t.ks, 2, d, s.len, err, sizeof err), 0);
    strom_buf_release(&s);
    fx_target_release(&t);
    assert_int_equal(fx_live, 0);
}

static void test_crafted_plain(void **unused)
{
    struct strom_kstate *a;
    struct fx_target t;
    struct strom_buf s = {0};
    uint64_t k0 = fx_key_in(2, 0), k1 = fx_key_in(2, 1), k3 = fx_key_in(3, 0);
    char want[256];
    uint8_t *d;
    (void)unused;

    assert_int_equal(fx_target_init(&t, 0, 2), 0);
    small_snapshot(0, &s);
    fx_set_le(s.data + 52, 15, 4);
    refuse(&t, s.data, s.len, STROM_E_CORRUPT,
           "snapshot byte 52: record 0 is 15 bytes, the record size is 16");

    /* No records, two timers: at 36 and at 60. */
    assert_int_equal(strom_kstate_new(&a, FX_G, 16, NULL), 0);
    assert_int_equal(strom_kstate_own(a, 2), 0);
    assert_int_equal(strom_kstate_timer_add(a, 2, k0, 4, 10), 0);
    assert_int_equal(strom_kstate_timer_add(a, 2, k1, 4, 20), 0);
    snap(a, 2, &s);
    d = s.data;
    assert_int_equal(s.len, HDR + 48 + 8);
    assert_int_equal(fx_get_le(d + 36, 8), 10);
    fx_set_le(d + 60, 10, 8);
    fx_set_le(d + 68, k0, 8);
    snprintf(want, sizeof want,
             "snapshot byte 60: timer 1 (time 10, key %llu, ns 4) repeats or is out of order",
             (unsigned long long)k0);
    refuse(&t, d, s.len, STROM_E_CORRUPT, want);
    fx_set_le(d + 60, (uint64_t)-1, 8);
    snprintf(want, sizeof want,
             "snapshot byte 60: timer 1 (time -1, key %llu, ns 4) repeats or is out of order",
             (unsigned long long)k0);
    refuse(&t, d, s.len, STROM_E_CORRUPT, want);
    fx_set_le(d + 60, 20, 8);
    fx_set_le(d + 68, k3, 8);
    snprintf(want, sizeof want, "snapshot byte 60: timer 1 has key %llu of key group 3, not 2",
             (unsigned long long)k3);
    refuse(&t, d, s.len, STROM_E_CORRUPT, want);
    strom_buf_release(&s);
    strom_kstate_free(a);
    fx_target_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cuts_and_bit_flips),
        cmocka_unit_test(test_crafted_codec),
        cmocka_unit_test(test_crafted_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
