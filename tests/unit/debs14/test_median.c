/*
 * tests/unit/debs14/test_median.c: the exact order statistics of Query 2 (apps/debs14/
 * median.h, fenwick.h) against naive references: a plug window and the global multiset
 * checked after every operation against a sorted copy, the FIFO against an array; the
 * half-mW convention on concrete values; and the encodings: round trips that re-encode to
 * the same bytes, every truncation refused, crafted bad fields refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apps/debs14/fenwick.h"
#include "apps/debs14/median.h"
#include "strom/error.h"

#define VMAX STROM_DEBS_MEDIAN_VALUE_MAX

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Loads as they come, and then the edges: many zeros, small repeated values, a tail to
 * 3 MW, both sides of 2^22 and 2^32, up to the largest value. wide = 0 keeps below 2^32. */
static uint64_t gen_value(int wide)
{
    unsigned r = (unsigned)(rnd() % 100);

    if (r < 25) return 0;
    if (r < 55) return rnd() % 40;
    if (r < 80) return rnd() % 3000000;
    if (r < 88) return (UINT64_C(1) << 22) - 2 + rnd() % 4;
    if (!wide) return rnd() % 5000;
    if (r < 93) return (UINT64_C(1) << 32) - 2 + rnd() % 4;
    if (r < 97) return rnd() % (UINT64_C(1) << 40);
    return VMAX - rnd() % 3;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The median in half-mW of a sorted array. */
static uint64_t median2_sorted(const uint64_t *s, size_t n)
{
    if (!n) return 0;
    return n % 2 ? 2 * s[n / 2] : s[n / 2 - 1] + s[n / 2];
}

/* --- the plug window -------------------------------------------------------------------- */

/* The naive window: a FIFO of readings, sorted afresh for every median. */
struct ref {
    uint32_t *ts;
    uint64_t *v, *tmp;
    size_t head, n;
};

static uint64_t ref_median2(struct ref *r)
{
    memcpy(r->tmp, r->v + r->head, r->n * sizeof *r->tmp);
    qsort(r->tmp, r->n, sizeof *r->tmp, cmp_u64);
    return median2_sorted(r->tmp, r->n);
}

static void ref_expire(struct ref *r, int64_t upto)
{
    while (r->n && (int64_t)r->ts[r->head] <= upto) {
        r->head++;
        r->n--;
    }
}

static void check_same(const struct strom_debs_median *m, struct ref *r)
{
    assert_int_equal(strom_debs_median_count(m), r->n);
    assert_int_equal(strom_debs_median_median2(m), ref_median2(r));
    assert_int_equal(strom_debs_median_oldest_ts(m), r->n ? r->ts[r->head] : 0);
}

/* Encodes m, decodes the bytes into a fresh window, checks that it answers and re-encodes
 * the same, and when asked replaces m with it: the rest of the run then uses the decoded
 * window (whose seqs start again at 0). */
static void roundtrip(struct strom_debs_median *m, int replace)
{
    struct strom_debs_median d = {0};
    struct strom_buf a = {0}, b = {0};
    struct strom_reader in;

    assert_int_equal(strom_debs_median_encode(m, &a), 0);
    assert_int_equal(a.len, 8 + 12 * strom_debs_median_count(m));
    in = (struct strom_reader){a.data, a.len};
    assert_int_equal(strom_debs_median_decode(&d, &in), 0);
    assert_int_equal(in.left, 0);
    assert_int_equal(strom_debs_median_count(&d), strom_debs_median_count(m));
    assert_int_equal(strom_debs_median_median2(&d), strom_debs_median_median2(m));
    assert_int_equal(d.last_ts, m->last_ts);
    assert_int_equal(strom_debs_median_encode(&d, &b), 0);
    assert_int_equal(b.len, a.len);
    assert_memory_equal(b.data, a.data, a.len);
    if (replace) {
        strom_debs_median_release(m);
        *m = d;
    } else {
        strom_debs_median_release(&d);
    }
    strom_buf_release(&a);
    strom_buf_release(&b);
}

/* ops random steps: add 0-3 readings at second t, move t on by 0-2 s, expire (t - w, t]
 * with w varying, now and then a big jump that expires many or all at once. */
static void run_window(uint64_t seed, int ops, int wide, uint32_t head0, int w_base)
{
    struct strom_debs_median m = {0};
    struct ref r = {0};
    uint32_t t = 1000;
    size_t cap = (size_t)ops * 3 + 1;

    rng_state = seed;
    m.head = head0; /* seqs near the 32-bit wrap, when asked */
    r.ts = malloc(cap * sizeof *r.ts);
    r.v = malloc(cap * sizeof *r.v);
    r.tmp = malloc(cap * sizeof *r.tmp);
    assert_non_null(r.ts);
    assert_non_null(r.v);
    assert_non_null(r.tmp);
    for (int op = 0; op < ops; op++) {
        int k = (int)(rnd() % 4);
        if (head0) assert_int_equal(m.head - head0, r.head); /* no reset: the wrap is crossed */
        for (int i = 0; i < k; i++) {
            uint64_t v = gen_value(wide);
            assert_int_equal(strom_debs_median_add(&m, t, v), 0);
            r.ts[r.head + r.n] = t;
            r.v[r.head + r.n++] = v;
        }
        check_same(&m, &r);
        t += (uint32_t)(rnd() % 3);
        int64_t w = w_base + (int64_t)(rnd() % 8);
        unsigned jump = (unsigned)(rnd() % 1000);
        if (jump == 0 && head0 == 0)
            w = 0; /* all of it */
        else if (jump < 5)
            w = w_base / 4 + 1; /* most of it */
        int64_t upto = (int64_t)t - w;
        size_t before = r.n;
        ref_expire(&r, upto);
        assert_int_equal(strom_debs_median_expire(&m, upto), before - r.n);
        check_same(&m, &r);
        if (op % 97 == 0) roundtrip(&m, !head0);
    }
    strom_debs_median_release(&m);
    free(r.ts);
    free(r.v);
    free(r.tmp);
}

static void test_window_random(void **unused)
{
    (void)unused;
    for (uint64_t seed = 1; seed <= 6; seed++)
        run_window(seed, 3000, 0, 0, 1 + (int)seed * 20);
}

static void test_window_random_wide(void **unused)
{
    (void)unused;
    for (uint64_t seed = 11; seed <= 16; seed++)
        run_window(seed, 3000, 1, 0, (int)seed * 7 - 70);
}

/* Seqs wrap past 2^32 (and cross the compaction at every multiple of 2^31). */
static void test_window_seq_wrap(void **unused)
{
    (void)unused;
    run_window(21, 4000, 0, UINT32_MAX - 2500, 60);
    run_window(22, 4000, 1, UINT32_MAX - 2500, 60);
    run_window(23, 4000, 0, 0x7fffffffu - 2500, 60);
}

static void test_half_mw_convention(void **unused)
{
    struct strom_debs_median m = {0};
    (void)unused;

    assert_int_equal(strom_debs_median_median2(&m), 0); /* empty: none */
    assert_int_equal(strom_debs_median_add(&m, 7, 5), 0);
    assert_int_equal(strom_debs_median_median2(&m), 10); /* {5} */
    strom_debs_median_release(&m);
    assert_int_equal(strom_debs_median_add(&m, 7, 2001), 0);
    assert_int_equal(strom_debs_median_add(&m, 7, 1000), 0);
    assert_int_equal(strom_debs_median_median2(&m), 3001); /* {1000, 2001} */
    assert_int_equal(strom_debs_median_add(&m, 8, 0), 0);
    assert_int_equal(strom_debs_median_median2(&m), 2000); /* {0, 1000, 2001} */
    assert_int_equal(strom_debs_median_add(&m, 9, VMAX), 0);
    assert_int_equal(strom_debs_median_median2(&m), 3001); /* {0, 1000, 2001, max} */
    assert_int_equal(strom_debs_median_add(&m, 9, VMAX - 1), 0);
    assert_int_equal(strom_debs_median_median2(&m), 4002);
    assert_int_equal(strom_debs_median_expire(&m, 7), 2); /* {0, max - 1, max} */
    assert_int_equal(strom_debs_median_median2(&m), 2 * (VMAX - 1));
    assert_int_equal(strom_debs_median_expire(&m, 8), 1); /* {max - 1, max} */
    assert_int_equal(strom_debs_median_median2(&m), 2 * VMAX - 1);
    assert_int_equal(strom_debs_median_oldest_ts(&m), 9);
    strom_debs_median_release(&m);
}

static void test_window_refusals_and_empty(void **unused)
{
    struct strom_debs_median m = {0};
    (void)unused;

    assert_int_equal(strom_debs_median_add(&m, 100, VMAX + 1), STROM_E_INVAL);
    assert_int_equal(strom_debs_median_count(&m), 0);
    for (uint32_t i = 0; i < 5000; i++)
        assert_int_equal(strom_debs_median_add(&m, 100 + i / 10, i % 7), 0);
    assert_int_equal(strom_debs_median_add(&m, 598, 1), STROM_E_INVAL); /* ts went back */
    assert_int_equal(strom_debs_median_count(&m), 5000);
    assert_int_equal(strom_debs_median_median2(&m), 6); /* 715 zeros... the middle is 3 */
    assert_true(strom_debs_median_bytes(&m) > 0);
    assert_int_equal(strom_debs_median_expire(&m, 99), 0);
    assert_int_equal(strom_debs_median_expire(&m, -5), 0);
    assert_int_equal(strom_debs_median_expire(&m, 599), 5000); /* all at once */
    assert_int_equal(strom_debs_median_count(&m), 0);
    assert_int_equal(strom_debs_median_median2(&m), 0);
    assert_int_equal(strom_debs_median_bytes(&m), 0); /* an empty window holds nothing */
    /* ... but remembers its clock */
    assert_int_equal(strom_debs_median_add(&m, 598, 1), STROM_E_INVAL);
    assert_int_equal(strom_debs_median_add(&m, 599, 1), 0);
    assert_int_equal(strom_debs_median_median2(&m), 2);
    strom_debs_median_release(&m);
}

/* A window that saw a value >= 2^32 goes back to 8-byte entries once it left. */
static void test_window_wide_and_back(void **unused)
{
    struct strom_debs_median m = {0};
    uint32_t t = 0;
    (void)unused;

    for (; t < 1000; t++)
        assert_int_equal(strom_debs_median_add(&m, t, t % 10), 0);
    assert_int_equal(m.wide, 0);
    assert_int_equal(strom_debs_median_add(&m, t, UINT64_C(1) << 32), 0);
    assert_int_equal(m.wide, 1);
    assert_int_equal(strom_debs_median_median2(&m), 10); /* the 501st of 1001 is a 5 */
    for (; t < 5000; t++) {
        assert_int_equal(strom_debs_median_add(&m, t, t % 10), 0);
        strom_debs_median_expire(&m, (int64_t)t - 1000);
    }
    assert_int_equal(m.wide, 0);
    assert_int_equal(strom_debs_median_count(&m), 1000);
    assert_int_equal(strom_debs_median_median2(&m), 9); /* 4 and 5, 100 of each value */
    strom_debs_median_release(&m);
}

/* A 40,000-reading window in steady state: memory per reading as promised in median.h. */
static void test_window_memory(void **unused)
{
    struct strom_debs_median m = {0};
    (void)unused;

    rng_state = 99;
    for (uint32_t t = 0; t < 200000; t++) {
        assert_int_equal(strom_debs_median_add(&m, t, gen_value(0)), 0);
        strom_debs_median_expire(&m, (int64_t)t - 40000);
        if (t > 40000) assert_true(strom_debs_median_bytes(&m) <= 24 * strom_debs_median_count(&m));
    }
    strom_debs_median_release(&m);
}

static void test_window_exact_bytes(void **unused)
{
    struct strom_debs_median m = {0};
    struct strom_buf b = {0};
    static const uint8_t want[] = {
        2,  0, 0, 0, 11, 0, 0, 0,             /* N, last_ts */
        10, 0, 0, 0, 5,  0, 0, 0, 0, 0, 0, 0, /* 10, 5 */
        11, 0, 0, 0, 0,  0, 0, 0, 0, 1, 0, 0, /* 11, 2^40 */
    };
    (void)unused;

    assert_int_equal(strom_debs_median_add(&m, 9, 3), 0);
    assert_int_equal(strom_debs_median_add(&m, 10, 5), 0);
    assert_int_equal(strom_debs_median_add(&m, 11, UINT64_C(1) << 40), 0);
    strom_debs_median_expire(&m, 9);
    assert_int_equal(strom_debs_median_encode(&m, &b), 0);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    strom_debs_median_release(&m);
    strom_buf_release(&b);
}

static int decode_window(const uint8_t *p, size_t n)
{
    struct strom_debs_median m = {0};
    struct strom_reader in = {p, n};
    int rc = strom_debs_median_decode(&m, &in);

    if (rc) {
        /* a failed decode leaves the window empty */
        assert_int_equal(strom_debs_median_bytes(&m), 0);
        assert_int_equal(strom_debs_median_count(&m), 0);
    }
    strom_debs_median_release(&m);
    return rc;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

typedef int (*decode_fn)(const uint8_t *p, size_t n);

/* Every cut of a valid encoding is refused. */
static void check_cuts(decode_fn decode, const struct strom_buf *b)
{
    assert_int_equal(decode(b->data, b->len), 0);
    for (size_t cut = 0; cut < b->len; cut++)
        assert_int_equal(decode(b->data, cut), STROM_E_CORRUPT);
}

/* The encoding with the bits-wide field at off set to val is refused. */
static void craft(decode_fn decode, const struct strom_buf *b, size_t off, int bits, uint64_t val)
{
    uint8_t *x = malloc(b->len);

    assert_non_null(x);
    memcpy(x, b->data, b->len);
    bits == 32 ? put32(x + off, (uint32_t)val) : put64(x + off, val);
    assert_int_equal(decode(x, b->len), STROM_E_CORRUPT);
    free(x);
}

static void test_window_decode_refuses(void **unused)
{
    struct strom_debs_median m = {0};
    struct strom_buf b = {0};
    (void)unused;

    rng_state = 5;
    for (uint32_t i = 0; i < 40; i++)
        assert_int_equal(strom_debs_median_add(&m, 50 + i / 3, gen_value(1)), 0);
    assert_int_equal(strom_debs_median_encode(&m, &b), 0);
    check_cuts(decode_window, &b);
    craft(decode_window, &b, 0, 32, 41);              /* one more reading than the bytes hold */
    craft(decode_window, &b, 0, 32, UINT32_MAX);      /* a huge count: refused before allocating */
    craft(decode_window, &b, 4, 32, 50 + 39 / 3 - 1); /* last_ts below the last reading */
    craft(decode_window, &b, 8 + 12 * 5, 32, 49);     /* a timestamp that goes back */
    craft(decode_window, &b, 8 + 12 * 39, 32, 70);    /* the last timestamp after last_ts */
    craft(decode_window, &b, 8 + 12 * 7 + 4, 64, VMAX + 1); /* a value out of range */
    craft(decode_window, &b, 8 + 12 * 7 + 4, 64, UINT64_MAX);
    /* decode into a window that is not empty */
    struct strom_reader in = {b.data, b.len};
    assert_int_equal(strom_debs_median_decode(&m, &in), STROM_E_INVAL);
    assert_int_equal(strom_debs_median_count(&m), 40);
    strom_debs_median_release(&m);
    strom_buf_release(&b);
}

/* --- the global multiset ---------------------------------------------------------------- */

static void fenwick_roundtrip_check(const struct strom_debs_fenwick *f, const uint64_t *s, size_t n)
{
    struct strom_debs_fenwick d = {0};
    struct strom_buf a = {0}, b = {0};
    struct strom_reader in;

    assert_int_equal(strom_debs_fenwick_encode(f, &a), 0);
    in = (struct strom_reader){a.data, a.len};
    assert_int_equal(strom_debs_fenwick_decode(&d, &in), 0);
    assert_int_equal(in.left, 0);
    assert_int_equal(strom_debs_fenwick_count(&d), n);
    assert_int_equal(strom_debs_fenwick_median2(&d), median2_sorted(s, n));
    for (size_t k = 1; k <= n; k += 1 + n / 50)
        assert_int_equal(strom_debs_fenwick_kth(&d, k), s[k - 1]);
    assert_int_equal(strom_debs_fenwick_encode(&d, &b), 0);
    assert_int_equal(b.len, a.len);
    assert_memory_equal(b.data, a.data, a.len);
    strom_debs_fenwick_release(&d);
    strom_buf_release(&a);
    strom_buf_release(&b);
}

static void test_fenwick_random(void **unused)
{
    struct strom_debs_fenwick f = {0};
    size_t cap = 20000, n = 0;
    uint64_t *s = malloc(cap * sizeof *s); /* the reference: kept sorted */
    (void)unused;

    assert_non_null(s);
    rng_state = 31;
    for (int op = 0; op < 17000 || n; op++) {
        /* grow to ~3000 readings, hover, then drain to empty */
        int add = op < 17000 ? rnd() % 100 < (n < 3000 ? 70 : 50) : 0;
        if (add || (!n && op < 17000)) {
            uint64_t v = gen_value(op % 2);
            size_t i = 0;
            assert_int_equal(strom_debs_fenwick_add(&f, v), 0);
            while (i < n && s[i] <= v)
                i++;
            memmove(s + i + 1, s + i, (n - i) * sizeof *s);
            s[i] = v;
            n++;
        } else {
            size_t i = (size_t)(rnd() % n);
            assert_int_equal(strom_debs_fenwick_remove(&f, s[i]), 0);
            memmove(s + i, s + i + 1, (n - i - 1) * sizeof *s);
            n--;
        }
        assert_int_equal(strom_debs_fenwick_count(&f), n);
        assert_int_equal(strom_debs_fenwick_median2(&f), median2_sorted(s, n));
        if (n) {
            size_t k = 1 + (size_t)(rnd() % n);
            assert_int_equal(strom_debs_fenwick_kth(&f, k), s[k - 1]);
        }
        if (op % 2500 == 0) fenwick_roundtrip_check(&f, s, n);
    }
    assert_int_equal(n, 0);
    assert_int_equal(strom_debs_fenwick_median2(&f), 0);
    assert_int_equal(f.cap, 0); /* the treap gave its pool back */
    fenwick_roundtrip_check(&f, s, 0);
    strom_debs_fenwick_release(&f);
    free(s);
}

static void test_fenwick_values(void **unused)
{
    struct strom_debs_fenwick f = {0};
    (void)unused;

    assert_int_equal(strom_debs_fenwick_median2(&f), 0);
    assert_int_equal(strom_debs_fenwick_kth(&f, 1), 0);
    assert_int_equal(strom_debs_fenwick_remove(&f, 0), STROM_E_NOTFOUND);
    assert_int_equal(strom_debs_fenwick_remove(&f, UINT64_C(1) << 30), STROM_E_NOTFOUND);
    assert_int_equal(strom_debs_fenwick_add(&f, VMAX + 1), STROM_E_INVAL);
    assert_int_equal(strom_debs_fenwick_add(&f, 5), 0);
    assert_int_equal(strom_debs_fenwick_median2(&f), 10);
    assert_int_equal(strom_debs_fenwick_add(&f, 2001), 0);
    assert_int_equal(strom_debs_fenwick_remove(&f, 5), 0);
    assert_int_equal(strom_debs_fenwick_add(&f, 1000), 0);
    assert_int_equal(strom_debs_fenwick_median2(&f), 3001);
    assert_int_equal(strom_debs_fenwick_remove(&f, 5), STROM_E_NOTFOUND);
    assert_int_equal(strom_debs_fenwick_remove(&f, 1001), STROM_E_NOTFOUND);
    assert_int_equal(strom_debs_fenwick_count(&f), 2);
    /* the edges of the tree and the treap */
    assert_int_equal(strom_debs_fenwick_add(&f, STROM_DEBS_FENWICK_SIZE - 1), 0);
    assert_int_equal(strom_debs_fenwick_add(&f, STROM_DEBS_FENWICK_SIZE), 0);
    assert_int_equal(strom_debs_fenwick_median2(&f), 2001 + STROM_DEBS_FENWICK_SIZE - 1);
    assert_int_equal(strom_debs_fenwick_add(&f, VMAX), 0);
    assert_int_equal(strom_debs_fenwick_median2(&f), 2 * (STROM_DEBS_FENWICK_SIZE - 1));
    assert_int_equal(strom_debs_fenwick_add(&f, VMAX), 0);
    assert_int_equal(strom_debs_fenwick_median2(&f),
                     STROM_DEBS_FENWICK_SIZE - 1 + STROM_DEBS_FENWICK_SIZE);
    assert_int_equal(strom_debs_fenwick_add(&f, VMAX), 0);
    assert_int_equal(strom_debs_fenwick_median2(&f), 2 * STROM_DEBS_FENWICK_SIZE);
    assert_int_equal(strom_debs_fenwick_add(&f, VMAX), 0);
    assert_int_equal(strom_debs_fenwick_median2(&f), STROM_DEBS_FENWICK_SIZE + VMAX);
    assert_int_equal(strom_debs_fenwick_kth(&f, 8), VMAX);
    assert_int_equal(strom_debs_fenwick_kth(&f, 1), 1000);
    assert_int_equal(strom_debs_fenwick_kth(&f, 9), 0);
    assert_int_equal(strom_debs_fenwick_remove(&f, VMAX - 1), STROM_E_NOTFOUND);
    assert_int_equal(strom_debs_fenwick_count(&f), 8);
    /* zeros only */
    strom_debs_fenwick_release(&f);
    for (int i = 0; i < 1001; i++)
        assert_int_equal(strom_debs_fenwick_add(&f, 0), 0);
    assert_int_equal(strom_debs_fenwick_median2(&f), 0);
    assert_int_equal(strom_debs_fenwick_add(&f, 7), 0);
    assert_int_equal(strom_debs_fenwick_median2(&f), 0);
    strom_debs_fenwick_release(&f);
}

static int decode_fenwick(const uint8_t *p, size_t n)
{
    struct strom_debs_fenwick f = {0};
    struct strom_reader in = {p, n};
    int rc = strom_debs_fenwick_decode(&f, &in);

    if (rc) assert_int_equal(strom_debs_fenwick_bytes(&f), 0);
    strom_debs_fenwick_release(&f);
    return rc;
}

static void test_fenwick_decode_refuses(void **unused)
{
    struct strom_debs_fenwick f = {0};
    struct strom_buf b = {0};
    (void)unused;

    /* distinct values 3 (x2), 9, 2^22 (x3), 2^40: four pairs */
    static const uint64_t vals[] = {
        9, 3, UINT64_C(1) << 22, 3, UINT64_C(1) << 40, UINT64_C(1) << 22, UINT64_C(1) << 22};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++)
        assert_int_equal(strom_debs_fenwick_add(&f, vals[i]), 0);
    assert_int_equal(strom_debs_fenwick_encode(&f, &b), 0);
    static const uint8_t want[] = {4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2,    0, 0, 0, 9, 0,
                                   0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0,
                                   3, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1,    0, 0, 0};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    check_cuts(decode_fenwick, &b);
    craft(decode_fenwick, &b, 0, 32, 5); /* more pairs than bytes */
    craft(decode_fenwick, &b, 0, 32, UINT32_MAX);
    craft(decode_fenwick, &b, 4, 64, 9);                  /* not strictly ascending: 9, 9 */
    craft(decode_fenwick, &b, 16, 64, 2);                 /* descending: 3, 2 */
    craft(decode_fenwick, &b, 40, 64, UINT64_C(1) << 22); /* a repeat in the treap part */
    craft(decode_fenwick, &b, 40, 64, VMAX + 1);          /* out of range */
    craft(decode_fenwick, &b, 24, 32, 0);                 /* a zero count */
    craft(decode_fenwick, &b, 48, 32, UINT32_MAX - 5);    /* the counts sum past UINT32_MAX */
    struct strom_reader in = {b.data, b.len};
    assert_int_equal(strom_debs_fenwick_decode(&f, &in), STROM_E_INVAL);
    assert_int_equal(strom_debs_fenwick_count(&f), 7);
    strom_debs_fenwick_release(&f);
    strom_buf_release(&b);
}

/* --- the FIFO --------------------------------------------------------------------------- */

static void fifo_roundtrip(struct strom_debs_fifo *q)
{
    struct strom_debs_fifo d = {0};
    struct strom_buf a = {0}, b = {0};
    struct strom_reader in;

    assert_int_equal(strom_debs_fifo_encode(q, &a), 0);
    in = (struct strom_reader){a.data, a.len};
    assert_int_equal(strom_debs_fifo_decode(&d, &in), 0);
    assert_int_equal(in.left, 0);
    assert_int_equal(strom_debs_fifo_count(&d), strom_debs_fifo_count(q));
    assert_int_equal(strom_debs_fifo_encode(&d, &b), 0);
    assert_int_equal(b.len, a.len);
    assert_memory_equal(b.data, a.data, a.len);
    strom_debs_fifo_release(q);
    *q = d;
    strom_buf_release(&a);
    strom_buf_release(&b);
}

static void test_fifo_random(void **unused)
{
    struct strom_debs_fifo q = {0};
    size_t cap = 400000, head = 0, tail = 0;
    uint32_t *rts = malloc(cap * sizeof *rts), t = 5, ts;
    uint64_t *rv = malloc(cap * sizeof *rv), v;
    (void)unused;

    assert_non_null(rts);
    assert_non_null(rv);
    rng_state = 77;
    assert_int_equal(strom_debs_fifo_pop(&q, &ts, &v), -ENOENT);
    for (int op = 0; op < 300000; op++) {
        /* fill past several chunks, drain to empty, fill again */
        int phase = op / 50000 % 2, push = rnd() % 100 < (phase ? 30 : 70);
        if (push) {
            uint64_t x = rnd() % 50 ? gen_value(1) : UINT32_MAX - 1 + rnd() % 3;
            t += rnd() % 8 == 0;
            assert_int_equal(strom_debs_fifo_push(&q, t, x), 0);
            rts[tail] = t;
            rv[tail++] = x;
        } else if (head < tail) {
            assert_int_equal(strom_debs_fifo_front(&q, &ts, &v), 0);
            assert_int_equal(ts, rts[head]);
            assert_int_equal(v, rv[head]);
            assert_int_equal(strom_debs_fifo_pop(&q, &ts, &v), 0);
            assert_int_equal(ts, rts[head]);
            assert_int_equal(v, rv[head++]);
        } else {
            assert_int_equal(strom_debs_fifo_pop(&q, &ts, &v), -ENOENT);
        }
        assert_int_equal(strom_debs_fifo_count(&q), tail - head);
        if (op % 29989 == 0) fifo_roundtrip(&q);
    }
    assert_int_equal(strom_debs_fifo_push(&q, t - 1, 1), STROM_E_INVAL);
    assert_int_equal(strom_debs_fifo_push(&q, t, VMAX + 1), STROM_E_INVAL);
    assert_int_equal(strom_debs_fifo_count(&q), tail - head);
    strom_debs_fifo_release(&q);
    free(rts);
    free(rv);
}

/* Real data: ~2,000 readings a second, all below 2^32: 4 bytes a reading and a bit. */
static void test_fifo_memory(void **unused)
{
    struct strom_debs_fifo q = {0};
    (void)unused;

    rng_state = 8;
    for (uint32_t i = 0; i < 1000000; i++)
        assert_int_equal(strom_debs_fifo_push(&q, 1000 + i / 2000, gen_value(0)), 0);
    assert_true(strom_debs_fifo_bytes(&q) <= 1000000 * 41 / 10);
    assert_int_equal(q.runs.n, 500);
    strom_debs_fifo_release(&q);
}

static int decode_fifo(const uint8_t *p, size_t n)
{
    struct strom_debs_fifo q = {0};
    struct strom_reader in = {p, n};
    int rc = strom_debs_fifo_decode(&q, &in);

    if (rc) assert_int_equal(strom_debs_fifo_bytes(&q), 0);
    strom_debs_fifo_release(&q);
    return rc;
}

static void test_fifo_decode_refuses(void **unused)
{
    struct strom_debs_fifo q = {0};
    struct strom_buf b = {0};
    uint8_t *x;
    (void)unused;

    /* two runs: second 7 with 5, 2^32 - 1 (escaped); second 9 with 2^40 (escaped) */
    assert_int_equal(strom_debs_fifo_push(&q, 7, 5), 0);
    assert_int_equal(strom_debs_fifo_push(&q, 7, UINT32_MAX), 0);
    assert_int_equal(strom_debs_fifo_push(&q, 9, UINT64_C(1) << 40), 0);
    assert_int_equal(strom_debs_fifo_encode(&q, &b), 0);
    static const uint8_t
        want[] =
            {
                3,    0,    0,    0,    0,    0,    0,    0,    9,    0,    0,    0,
                2,    0,    0,    0,    0,    0,    0,    0, /* N, last_ts, R */
                2,    0,    0,    0,    7,    0,    0,    0,    1,    0,    0,    0,
                9,    0,    0,    0,                                                    /* runs */
                5,    0,    0,    0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* values */
                0xff, 0xff, 0xff, 0xff, 0,    0,    0,    0,    0,    0,    0,    0,
                0,    1,    0,    0, /* escaped */
            };
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    check_cuts(decode_fifo, &b);
    craft(decode_fifo, &b, 0, 64, 4);               /* more readings than the runs count */
    craft(decode_fifo, &b, 0, 64, 2);               /* fewer */
    craft(decode_fifo, &b, 0, 64, UINT64_MAX);      /* huge */
    craft(decode_fifo, &b, 12, 64, UINT64_MAX / 4); /* huge run count */
    craft(decode_fifo, &b, 8, 32, 8);               /* last_ts before the last run */
    craft(decode_fifo, &b, 20, 32, 0);              /* an empty run */
    craft(decode_fifo, &b, 32, 32, 7);          /* a second run of the same second: not canonical */
    craft(decode_fifo, &b, 32, 32, 6);          /* time goes back */
    craft(decode_fifo, &b, 36, 32, 0xffffffff); /* an escape too many: the escaped values run out */
    craft(decode_fifo, &b, 48, 64, 12);         /* an escaped value that was not worth escaping */
    craft(decode_fifo, &b, 56, 64, VMAX + 1);   /* out of range */
    /* An escape too few decodes (0xfffffffe is a plain value) but leaves the last escaped
     * value unread: the caller, who knows where the record ends, refuses it. */
    x = malloc(b.len);
    assert_non_null(x);
    memcpy(x, b.data, b.len);
    put32(x + 40, 0xfffffffe);
    struct strom_reader in = {x, b.len};
    struct strom_debs_fifo d = {0};
    assert_int_equal(strom_debs_fifo_decode(&d, &in), 0);
    assert_int_equal(in.left, 8);
    strom_debs_fifo_release(&d);
    free(x);
    strom_debs_fifo_release(&q);
    strom_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_mw_convention),
        cmocka_unit_test(test_window_refusals_and_empty),
        cmocka_unit_test(test_window_random),
        cmocka_unit_test(test_window_random_wide),
        cmocka_unit_test(test_window_seq_wrap),
        cmocka_unit_test(test_window_wide_and_back),
        cmocka_unit_test(test_window_memory),
        cmocka_unit_test(test_window_exact_bytes),
        cmocka_unit_test(test_window_decode_refuses),
        cmocka_unit_test(test_fenwick_values),
        cmocka_unit_test(test_fenwick_random),
        cmocka_unit_test(test_fenwick_decode_refuses),
        cmocka_unit_test(test_fifo_random),
        cmocka_unit_test(test_fifo_memory),
        cmocka_unit_test(test_fifo_decode_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
