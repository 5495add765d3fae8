/*
 * tests/unit/debs14/test_median.c: the exact order statistics of Query 2 (apps/debs14/
 * median.h, fenwick.h) against naive references: a plug window and the global multiset
 * checked after every operation against a sorted copy (the window's band entry by entry,
 * its cursor and counts too, through rebuilds, cuts, runs of equal values, big values, and
 * windows that empty), the half-mW convention on concrete
 * values; and the encodings: round trips that re-encode to the same bytes, every truncation
 * refused, crafted bad fields refused.
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

/* The median in half-mW of a sorted array. */
static uint64_t median2_sorted(const uint64_t *s, size_t n)
{
    if (!n) return 0;
    return n % 2 ? 2 * s[n / 2] : s[n / 2 - 1] + s[n / 2];
}

/* --- the plug window -------------------------------------------------------------------- */

/* The naive window: a FIFO of readings, and the same values in a sorted array that each
 * add and expire change by a memmove. */
struct ref {
    uint32_t *ts;
    uint64_t *v, *s;
    size_t head, n, cap;
};

static void ref_init(struct ref *r, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->cap = cap;
    r->ts = malloc(cap * sizeof *r->ts);
    r->v = malloc(cap * sizeof *r->v);
    r->s = malloc(cap * sizeof *r->s);
    assert_non_null(r->ts);
    assert_non_null(r->v);
    assert_non_null(r->s);
}

static void ref_release(struct ref *r)
{
    free(r->ts);
    free(r->v);
    free(r->s);
}

/* Where v goes in the sorted values: after those <= v. */
static size_t ref_upper(const struct ref *r, uint64_t v)
{
    size_t lo = 0, hi = r->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->s[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* How many values are < v. */
static size_t ref_lower(const struct ref *r, uint64_t v)
{
    return v ? ref_upper(r, v - 1) : 0;
}

static void ref_add(struct ref *r, uint32_t t, uint64_t v)
{
    size_t at = ref_upper(r, v);

    assert_true(r->head + r->n < r->cap);
    memmove(r->s + at + 1, r->s + at, (r->n - at) * sizeof *r->s);
    r->s[at] = v;
    r->ts[r->head + r->n] = t;
    r->v[r->head + r->n++] = v;
}

static uint64_t ref_median2(struct ref *r)
{
    return median2_sorted(r->s, r->n);
}

static void ref_expire(struct ref *r, int64_t upto)
{
    while (r->n && (int64_t)r->ts[r->head] <= upto) {
        size_t at = ref_upper(r, r->v[r->head]) - 1;
        assert_true(r->s[at] == r->v[r->head]);
        memmove(r->s + at, r->s + at + 1, (r->n - at - 1) * sizeof *r->s);
        r->head++;
        r->n--;
    }
}

/* The window's structure (median.h): the band against the sorted reference (below, above,
 * the runs of [lo, hi], entry by entry), the cursor on the lower middle value with the next
 * one in the band, the room a rebuild needs reserved, the big values' FIFO, and an empty
 * window that holds nothing. */
static void check_structure(const struct strom_debs_median *m, const struct ref *r)
{
    const struct strom_debs_mband *b = &m->band;
    const uint32_t *c = (const uint32_t *)(b->v + b->cap);
    size_t n = r->n, k = (n + 1) / 2, big = 0, at, sum;

    for (size_t i = 0; i < n; i++)
        big += r->v[r->head + i] >= UINT32_MAX;
    assert_int_equal(m->big.n, big);
    if (!n) {
        assert_int_equal(strom_debs_median_bytes(m), 0);
        assert_int_equal(b->nd + b->below + b->above + b->cur + b->before, 0);
        return;
    }
    assert_true(b->lo <= b->hi);
    assert_true(b->nd <= b->cap);
    assert_true(b->cap >= 2 * (n / 64 > 32 ? n / 64 : 32) + 8);
    at = ref_lower(r, b->lo);
    assert_int_equal(b->below, at);
    assert_int_equal(b->above, n - ref_upper(r, b->hi));
    for (uint32_t i = 0; i < b->nd; i++) {
        assert_true(c[i] >= 1);
        assert_true(b->v[i] >= b->lo && b->v[i] <= b->hi);
        if (i) assert_true(b->v[i] > b->v[i - 1]);
        for (uint32_t j = 0; j < c[i]; j++)
            assert_int_equal(r->s[at++], b->v[i]);
    }
    assert_int_equal(at, n - b->above);
    assert_true(b->cur < b->nd);
    sum = b->below;
    for (uint32_t i = 0; i < b->cur; i++)
        sum += c[i];
    assert_int_equal(b->before, sum);
    assert_true(b->before < k && k <= b->before + c[b->cur]);
    assert_true((n % 2 ? k : k + 1) <= n - b->above);
}

static void check_same(const struct strom_debs_median *m, struct ref *r)
{
    assert_int_equal(strom_debs_median_count(m), r->n);
    assert_int_equal(strom_debs_median_median2(m), ref_median2(r));
    assert_int_equal(strom_debs_median_oldest_ts(m), r->n ? r->ts[r->head] : 0);
    check_structure(m, r);
}

static void add_both(struct strom_debs_median *m, struct ref *r, uint32_t t, uint64_t v)
{
    assert_int_equal(strom_debs_median_add(m, t, v), 0);
    ref_add(r, t, v);
}

/* The values expire_each tells must be those that leave, oldest first. */
struct leaving {
    const uint64_t *v;
    size_t at, end;
};

static void leave(void *arg, uint64_t value)
{
    struct leaving *l = arg;

    assert_true(l->at < l->end);
    assert_int_equal(value, l->v[l->at++]);
}

/* Every other call through expire_each, checking what it tells. */
static void expire_both(struct strom_debs_median *m, struct ref *r, int64_t upto)
{
    static unsigned calls;
    struct leaving l = {r->v, r->head, 0};
    size_t before = r->n;

    ref_expire(r, upto);
    l.end = r->head;
    if (calls++ % 2) {
        assert_int_equal(strom_debs_median_expire(m, upto), before - r->n);
        return;
    }
    assert_int_equal(strom_debs_median_expire_each(m, upto, leave, &l), before - r->n);
    assert_int_equal(l.at, l.end);
}

/* Encodes m, decodes the bytes into a fresh window, checks that it answers and re-encodes
 * the same, and replaces m with it: the rest of the run then uses the decoded window, whose
 * band decode built from scratch. */
static void roundtrip(struct strom_debs_median *m, struct ref *r)
{
    struct strom_debs_median d = {0};
    struct strom_buf a = {0}, b = {0};
    struct strom_reader in;

    assert_int_equal(strom_debs_median_encode(m, &a), 0);
    assert_in_range(a.len, 8 + 2 * (size_t)strom_debs_median_count(m),
                    8 + 2 * STROM_VARINT_MAX * (size_t)strom_debs_median_count(m));
    in = (struct strom_reader){a.data, a.len};
    assert_int_equal(strom_debs_median_decode(&d, &in), 0);
    assert_int_equal(in.left, 0);
    assert_int_equal(strom_debs_median_count(&d), strom_debs_median_count(m));
    assert_int_equal(strom_debs_median_median2(&d), strom_debs_median_median2(m));
    assert_int_equal(strom_debs_median_oldest_ts(&d), strom_debs_median_oldest_ts(m));
    assert_int_equal(d.last_ts, m->last_ts);
    assert_int_equal(strom_debs_median_encode(&d, &b), 0);
    assert_int_equal(b.len, a.len);
    assert_memory_equal(b.data, a.data, a.len);
    strom_debs_median_release(m);
    *m = d;
    if (r) check_same(m, r);
    strom_buf_release(&a);
    strom_buf_release(&b);
}

/* ops random steps: add 0-3 readings at second t, move t on by 0-2 s, expire (t - w, t]
 * with w varying, now and then a big jump that expires many or all at once. */
static void run_window(uint64_t seed, int ops, int wide, int w_base)
{
    struct strom_debs_median m = {0};
    struct ref r;
    uint32_t t = 1000;

    rng_state = seed;
    ref_init(&r, (size_t)ops * 3 + 1);
    for (int op = 0; op < ops; op++) {
        int k = (int)(rnd() % 4);
        for (int i = 0; i < k; i++)
            add_both(&m, &r, t, gen_value(wide));
        check_same(&m, &r);
        t += (uint32_t)(rnd() % 3);
        int64_t w = w_base + (int64_t)(rnd() % 8);
        unsigned jump = (unsigned)(rnd() % 1000);
        if (jump == 0)
            w = 0; /* all of it */
        else if (jump < 5)
            w = w_base / 4 + 1; /* most of it */
        expire_both(&m, &r, (int64_t)t - w);
        check_same(&m, &r);
        if (op % 97 == 0) roundtrip(&m, &r);
    }
    strom_debs_median_release(&m);
    ref_release(&r);
}

static void test_window_random(void **unused)
{
    (void)unused;
    for (uint64_t seed = 1; seed <= 6; seed++)
        run_window(seed, 3000, 0, 1 + (int)seed * 20);
}

static void test_window_random_wide(void **unused)
{
    (void)unused;
    for (uint64_t seed = 11; seed <= 16; seed++)
        run_window(seed, 3000, 1, (int)seed * 7 - 70);
}

/* Trends move the middle out of the band again and again, up (rising values) and down
 * (falling ones), in windows that grow, hold and drain; the band is rebuilt each time at
 * the other end. Then a window that grows to 5,000 random values and drains to 10. */
static void test_window_rebuilds(void **unused)
{
    struct strom_debs_median m = {0};
    struct ref r;
    uint32_t t = 0, rebuilds = 0;
    uint64_t lo = 0;
    (void)unused;

    ref_init(&r, 30000);
    for (int order = 0; order < 2; order++) {
        for (uint32_t i = 0; i < 6000; i++) {
            add_both(&m, &r, t++, order ? 60000 - 10 * i : 10 * i);
            if (i >= 3000) expire_both(&m, &r, (int64_t)t - 3000);
            check_same(&m, &r);
            rebuilds += m.band.lo != lo;
            lo = m.band.lo;
        }
        for (uint32_t i = 0; i < 3000; i++) {
            expire_both(&m, &r, (int64_t)t - 3000 + i);
            check_same(&m, &r);
        }
        assert_int_equal(strom_debs_median_count(&m), 0);
    }
    assert_true(rebuilds > 100);
    rng_state = 3;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 5000; i++) {
            add_both(&m, &r, t++, rnd() % 100000);
            expire_both(&m, &r, (int64_t)t - 5000);
            check_same(&m, &r);
        }
        size_t full = strom_debs_median_bytes(&m);
        for (int i = 0; i < 4990; i++) {
            expire_both(&m, &r, (int64_t)t - 5000 + i);
            check_same(&m, &r);
        }
        assert_int_equal(strom_debs_median_count(&m), 10);
        assert_true(strom_debs_median_bytes(&m) < full / 10); /* the ring and band shrank */
    }
    strom_debs_median_release(&m);
    ref_release(&r);
}

/* A band that fills up with new distinct values (all inside [lo, hi]) cuts a quarter of
 * them from the end away from the cursor, on either side. */
static void test_window_band_cut(void **unused)
{
    struct strom_debs_median m = {0};
    struct ref r;
    uint32_t t = 0, cuts = 0;
    (void)unused;

    ref_init(&r, 30000);
    for (int side = 0; side < 2; side++) {
        for (uint32_t i = 0; i < 1000; i++)
            add_both(&m, &r, t, 1000000 * (uint64_t)i);
        roundtrip(&m, &r); /* a band around the middle, from scratch */
        rng_state = 7 + (uint64_t)side;
        for (int i = 0; i < 3000; i++) {
            uint64_t lo = m.band.lo, hi = m.band.hi;
            int full = m.band.nd == m.band.cap;
            /* new values inside the band, mostly on one side of the middle */
            uint64_t mid = m.band.v[m.band.cur], x;
            if (rnd() % 4)
                x = side ? mid + 1 + rnd() % (hi - mid) : lo + rnd() % (mid - lo + 1);
            else
                x = lo + rnd() % (hi - lo + 1);
            add_both(&m, &r, t, x);
            check_same(&m, &r);
            if (full && m.band.nd < m.band.cap - 1) cuts++;
        }
        expire_both(&m, &r, t++);
    }
    assert_true(cuts > 4);
    strom_debs_median_release(&m);
    ref_release(&r);
}

/* Runs of equal values: one band entry whatever their number. Removed one by one to empty,
 * with other values around, the middle inside a run, at its ends, and between runs. */
static void test_window_equal_values(void **unused)
{
    struct strom_debs_median m = {0};
    struct ref r;
    uint32_t t = 0;
    (void)unused;

    ref_init(&r, 20000);
    for (int i = 0; i < 3000; i++)
        add_both(&m, &r, t++, 5);
    check_same(&m, &r);
    assert_int_equal(m.band.nd, 1);
    for (int i = 0; i < 1500; i++) {
        add_both(&m, &r, t++, i % 2 ? 3 : 9);
        add_both(&m, &r, t++, 5);
        add_both(&m, &r, t++, i % 3 ? 0 : 5);
        check_same(&m, &r);
    }
    roundtrip(&m, &r);
    assert_true(m.band.nd <= 4);
    for (int i = 0; r.n; i++) {
        expire_both(&m, &r, (int64_t)r.ts[r.head]);
        check_same(&m, &r);
        if (i % 5 == 1) {
            add_both(&m, &r, t++, i % 2 ? 5 : 4);
            check_same(&m, &r);
        }
    }
    strom_debs_median_release(&m);
    ref_release(&r);
}

/* Rebuilds from scratch (decode) of values that crowd one bin of the first pass, so that
 * refining passes narrow the ranges: 5,000 distinct values within 2^14 near 10^6, ten values
 * of 500 copies each, a cluster near 2^40 (escaped in the ring) that takes several passes of
 * 1,024 bins, zeros below a cluster (one range a single value, the other refined), and
 * values spread evenly over 80 bins of the first pass (~60 each), where whether to refine
 * depends on the values between the two ranges. */
static void test_window_dense(void **unused)
{
    struct strom_debs_median m = {0};
    struct ref r;
    uint32_t t = 0;
    (void)unused;

    ref_init(&r, 40000);
    rng_state = 9;
    for (int kind = 0; kind < 5; kind++) {
        for (uint32_t i = 0; i < 5000; i++) {
            uint64_t x = kind == 0   ? 1000000 + (i * 2654435761u) % 5000 * 3
                         : kind == 1 ? 1000000 + rnd() % 10
                         : kind == 2 ? (UINT64_C(1) << 40) + rnd() % (UINT64_C(1) << 30)
                         : kind == 3 ? (i % 2 ? 0 : 1000000 + rnd() % 15000)
                                     : (1024 + rnd() % 1024) << (rnd() % 5);
            add_both(&m, &r, t, x);
        }
        roundtrip(&m, &r);
        for (int i = 0; i < 2000; i++) {
            uint64_t x = r.v[r.head + rnd() % r.n];
            add_both(&m, &r, t, kind == 4 ? (1024 + rnd() % 1024) << (rnd() % 5) : x + rnd() % 3);
            check_same(&m, &r);
            if (i % (kind == 4 ? 20 : 500) == 0) roundtrip(&m, &r);
        }
        expire_both(&m, &r, t++);
    }
    strom_debs_median_release(&m);
    ref_release(&r);
}

/* Values either side of 2^32 - 1, where the ring escapes them (2^32 - 2 is the largest value
 * stored in the ring itself, 2^32 - 1 the smallest escaped one), with the middle on either
 * side and across; the big values' FIFO empties when its last value leaves. */
static void test_window_big_and_small(void **unused)
{
    struct strom_debs_median m = {0};
    struct ref r;
    uint32_t t = 0;
    const uint64_t lim = UINT32_MAX;
    (void)unused;

    ref_init(&r, 20000);
    add_both(&m, &r, t, lim - 1);
    add_both(&m, &r, t, lim);
    check_same(&m, &r);
    assert_int_equal(strom_debs_median_median2(&m), 2 * lim - 1);
    add_both(&m, &r, t, lim + 1);
    check_same(&m, &r);
    assert_int_equal(strom_debs_median_median2(&m), 2 * lim);
    add_both(&m, &r, ++t, 0);
    check_same(&m, &r);
    expire_both(&m, &r, t - 1);
    check_same(&m, &r);
    assert_int_equal(m.big.cap, 0);
    rng_state = 17;
    for (int i = 0; i < 2000; i++) {
        add_both(&m, &r, ++t, lim + rnd() % 3 + (rnd() % 2 ? 0 : rnd() % VMAX));
        check_same(&m, &r);
    }
    for (int i = 0; i < 3000; i++) {
        add_both(&m, &r, ++t, i % 3 ? lim - 1 - rnd() % 3 : rnd() % 1000);
        check_same(&m, &r);
    }
    roundtrip(&m, &r);
    while (r.n) {
        expire_both(&m, &r, (int64_t)r.ts[r.head]);
        check_same(&m, &r);
        if (r.n && r.v[r.head] < lim) assert_int_equal(m.big.cap, 0); /* the big ones came first */
    }
    strom_debs_median_release(&m);
    ref_release(&r);
}

/* A window that empties holds nothing, keeps its clock, and refills as a new one. */
static void test_window_empty_and_refill(void **unused)
{
    struct strom_debs_median m = {0};
    struct ref r;
    uint32_t t = 10, last;
    (void)unused;

    ref_init(&r, 20000);
    rng_state = 41;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 1000 + 700 * round; i++)
            add_both(&m, &r, t + (uint32_t)i / 100, gen_value(round % 2));
        check_same(&m, &r);
        t += 100;
        expire_both(&m, &r, t);
        check_same(&m, &r);
        assert_int_equal(strom_debs_median_count(&m), 0);
        assert_int_equal(strom_debs_median_bytes(&m), 0);
        assert_int_equal(strom_debs_median_oldest_ts(&m), 0);
        assert_int_equal(strom_debs_median_median2(&m), 0);
        last = r.ts[r.head - 1];
        assert_int_equal(m.last_ts, last);
        assert_int_equal(strom_debs_median_add(&m, last - 1, 1), STROM_E_INVAL); /* its clock */
        roundtrip(&m, &r); /* an empty window round-trips too */
        assert_int_equal(strom_debs_median_add(&m, last - 1, 1), STROM_E_INVAL);
        t++;
    }
    strom_debs_median_release(&m);
    ref_release(&r);
}

/* The middle walks far: runs of values all above it then all below, in a window that grows
 * and shrinks, so that the cursor crosses many entries, and entries come and go next to it
 * and under it. */
static void test_window_cursor(void **unused)
{
    struct strom_debs_median m = {0};
    struct ref r;
    uint32_t t = 0;
    (void)unused;

    ref_init(&r, 40000);
    rng_state = 23;
    for (int phase = 0; phase < 12; phase++) {
        uint64_t base = phase % 2 ? 0 : 1000000;
        int w = 1000 + (int)(rnd() % 2000);
        for (int i = 0; i < 1500; i++) {
            add_both(&m, &r, t, base + rnd() % (phase % 3 ? 1000000 : 50));
            if (rnd() % 3 == 0) t++;
            if (rnd() % 2) expire_both(&m, &r, (int64_t)t - w);
            check_same(&m, &r);
        }
        if (phase % 4 == 3) roundtrip(&m, &r);
    }
    strom_debs_median_release(&m);
    ref_release(&r);
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

/* A 40,000-reading window in steady state: memory per reading as promised in median.h. */
static void test_window_memory(void **unused)
{
    struct strom_debs_median m = {0};
    (void)unused;

    rng_state = 99;
    for (uint32_t t = 0; t < 200000; t++) {
        assert_int_equal(strom_debs_median_add(&m, t, gen_value(0)), 0);
        strom_debs_median_expire(&m, (int64_t)t - 40000);
        if (t > 40000) assert_true(strom_debs_median_bytes(&m) <= 11 * strom_debs_median_count(&m));
    }
    strom_debs_median_release(&m);
}

static void test_window_exact_bytes(void **unused)
{
    struct strom_debs_median m = {0};
    struct strom_buf b = {0};
    static const uint8_t want[] = {
        2,  0, 0, 0, 11, 0, 0, 0, /* N, last_ts */
        10, 10,                   /* ts 10 - 0, value 5 - 0 zigzagged */
        1,                        /* ts 11 - 10 */
        0xf6, 0xff, 0xff, 0xff, 0xff, 0x3f, /* value 2^40 - 5 zigzagged: 2^41 - 10 */
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

/* A window's encoding from its parts: N, last_ts, then (ts difference, zigzagged value
 * difference) pairs, for the encodings that no window produces. */
static size_t window_bytes(uint8_t *p, uint32_t n, uint32_t last_ts, const uint64_t *pairs,
                           size_t npairs)
{
    size_t k = 8;

    put32(p, n);
    put32(p + 4, last_ts);
    for (size_t i = 0; i < 2 * npairs; i++)
        k += strom_varint_put(p + k, pairs[i]);
    return k;
}

static void refused(uint32_t n, uint32_t last_ts, const uint64_t *pairs, size_t npairs)
{
    uint8_t p[8 + 4 * STROM_VARINT_MAX];

    assert_true(npairs <= 2);
    assert_int_equal(decode_window(p, window_bytes(p, n, last_ts, pairs, npairs)),
                     STROM_E_CORRUPT);
}

static void test_window_decode_refuses(void **unused)
{
    struct strom_debs_median m = {0};
    struct strom_buf b = {0};
    uint8_t p[8 + 4 * STROM_VARINT_MAX];
    (void)unused;

    rng_state = 5;
    for (uint32_t i = 0; i < 40; i++)
        assert_int_equal(strom_debs_median_add(&m, 50 + i / 3, gen_value(1)), 0);
    assert_int_equal(strom_debs_median_encode(&m, &b), 0);
    check_cuts(decode_window, &b);
    craft(decode_window, &b, 0, 32, 41);              /* one more reading than the bytes hold */
    craft(decode_window, &b, 0, 32, UINT32_MAX);      /* a huge count: refused before allocating */
    craft(decode_window, &b, 4, 32, 50 + 39 / 3 - 1); /* last_ts below the last reading */

    /* hand-made encodings: the largest legal one decodes, each step past it does not */
    uint64_t ok[] = {UINT32_MAX, 2 * VMAX};
    assert_int_equal(decode_window(p, window_bytes(p, 1, UINT32_MAX, ok, 1)), 0);
    refused(1, UINT32_MAX - 1, ok, 1);                      /* after last_ts */
    refused(2, UINT32_MAX, (uint64_t[]){UINT32_MAX, 0, 1, 0}, 2); /* past 2^32 - 1 */
    refused(1, UINT32_MAX, (uint64_t[]){UINT64_C(1) << 32, 0}, 1);
    refused(1, 9, (uint64_t[]){1, 2 * (VMAX + 1)}, 1);    /* a value out of range */
    refused(1, 9, (uint64_t[]){1, 1}, 1);                  /* a value below 0 */
    refused(2, 9, (uint64_t[]){1, 10, 1, 11}, 2);           /* 5, then 5 - 6 */
    refused(1, 9, (uint64_t[]){1, UINT64_MAX}, 1);
    /* a difference spelt longer than needed */
    memcpy(p, (uint8_t[]){1, 0, 0, 0, 9, 0, 0, 0, 0x81, 0x00, 0x02}, 11);
    assert_int_equal(decode_window(p, 11), STROM_E_CORRUPT);
    memcpy(p, (uint8_t[]){1, 0, 0, 0, 9, 0, 0, 0, 0x01, 0x02}, 10);
    assert_int_equal(decode_window(p, 10), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_mw_convention),
        cmocka_unit_test(test_window_refusals_and_empty),
        cmocka_unit_test(test_window_random),
        cmocka_unit_test(test_window_random_wide),
        cmocka_unit_test(test_window_rebuilds),
        cmocka_unit_test(test_window_band_cut),
        cmocka_unit_test(test_window_equal_values),
        cmocka_unit_test(test_window_dense),
        cmocka_unit_test(test_window_big_and_small),
        cmocka_unit_test(test_window_empty_and_refill),
        cmocka_unit_test(test_window_cursor),
        cmocka_unit_test(test_window_memory),
        cmocka_unit_test(test_window_exact_bytes),
        cmocka_unit_test(test_window_decode_refuses),
        cmocka_unit_test(test_fenwick_values),
        cmocka_unit_test(test_fenwick_random),
        cmocka_unit_test(test_fenwick_decode_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
