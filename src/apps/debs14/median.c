/*
 * apps/debs14/median.c: one plug's sliding-window median, a ring of the readings and a band
 * of exact values around the median. The design, its invariants and the encoding are in
 * median.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps/debs14/median.h"
#include "strom/error.h"

/* An encoded reading's bytes: two varints (median.h) */
#define READING_MIN 2u
#define READING_MAX (2u * STROM_VARINT_MAX)
/* The ring value of a big reading, and the smallest big value: small values fit in 32 bits
 * beside it. */
#define ESCAPE UINT32_MAX
#define RING_MIN 64u
/* A rebuild puts max(MARGIN_MIN, n / MARGIN_DIV) ranks on each side of the median into the
 * band: see median.h for the trade-off. */
#define MARGIN_MIN 32u
#define MARGIN_DIV 64u
/* Bins of a rebuild's first pass: 16 per power of two (values below 16 one each), so that a
 * bin is at most 1/16 of its values wide whatever the scale; 800 cover 2^53. */
#define FLOAT_BINS 800u
/* Bins of a refining pass over one range. */
#define SUB_BINS 1024u
/* Values a rebuild's pass reads at a time. */
#define CHUNK 256u

/* --- rings ------------------------------------------------------------------------------ */

/* The capacity for n entries: an eighth more and some (see median.h on memory). */
static uint32_t ring_cap_for(uint32_t n)
{
    return n + n / 8 + RING_MIN; /* n <= STROM_DEBS_MEDIAN_MAX_COUNT: no overflow */
}

static uint32_t ring_slot(const struct strom_debs_mring *r, uint32_t i)
{
    uint32_t j = r->head + i;
    return j >= r->cap ? j - r->cap : j; /* cap < 2^31, so no overflow above */
}

/* A new array of cap (>= n) entries, the oldest at 0. */
static int ring_resize(struct strom_debs_mring *r, uint32_t cap)
{
    uint64_t *a = malloc((size_t)cap * sizeof *a);
    uint32_t first = r->cap - r->head < r->n ? r->cap - r->head : r->n;

    if (!a) return -ENOMEM;
    if (r->n) {
        memcpy(a, r->a + r->head, (size_t)first * sizeof *a);
        memcpy(a + first, r->a, (size_t)(r->n - first) * sizeof *a);
    }
    free(r->a);
    r->a = a;
    r->cap = cap;
    r->head = 0;
    return 0;
}

/* Room for one more entry. */
static int ring_reserve(struct strom_debs_mring *r)
{
    return r->n < r->cap ? 0 : ring_resize(r, ring_cap_for(r->n));
}

/* The caller made room. */
static void ring_push(struct strom_debs_mring *r, uint64_t x)
{
    r->a[ring_slot(r, r->n)] = x;
    r->n++;
}

static uint64_t ring_pop(struct strom_debs_mring *r)
{
    uint64_t x = r->a[r->head];

    if (++r->head == r->cap) r->head = 0;
    r->n--;
    return x;
}

/* Gives back what a ring no longer needs (a failure keeps it big). */
static void ring_trim(struct strom_debs_mring *r)
{
    if (!r->n) {
        free(r->a);
        memset(r, 0, sizeof *r);
    } else if (r->cap > r->n + r->n / 4 + 2 * RING_MIN) {
        ring_resize(r, ring_cap_for(r->n));
    }
}

/* --- the band --------------------------------------------------------------------------- */

static uint32_t margin(uint32_t n)
{
    return n / MARGIN_DIV > MARGIN_MIN ? n / MARGIN_DIV : MARGIN_MIN;
}

/* The room a rebuild of a window of n readings needs: at most 2 * margin values lie strictly
 * between the two ranks it looks for, plus those two (see rebuild). */
static uint32_t band_cap_for(uint32_t n)
{
    return 2 * margin(n) + 8;
}

static uint32_t *counts(const struct strom_debs_mband *b)
{
    return (uint32_t *)(b->v + b->cap);
}

/* New arrays of cap (>= nd) entries; 0 frees them. */
static int band_resize(struct strom_debs_mband *b, uint32_t cap)
{
    uint64_t *v = NULL;

    if (cap && !(v = malloc((size_t)cap * (sizeof *v + sizeof(uint32_t))))) return -ENOMEM;
    if (b->nd) {
        memcpy(v, b->v, b->nd * sizeof *v);
        memcpy(v + cap, counts(b), b->nd * sizeof(uint32_t));
    }
    free(b->v);
    b->v = v;
    b->cap = cap;
    return 0;
}

/* The first distinct value >= x (nd if none). */
static uint32_t band_find(const struct strom_debs_mband *b, uint64_t x)
{
    uint32_t lo = 0, n = b->nd, half;

    for (; n > 1; n -= half) {
        half = n / 2;
        lo = b->v[lo + half] < x ? lo + half : lo;
    }
    return lo + (n && b->v[lo] < x);
}

/* Room for a new distinct value when the arrays are full: drops a quarter of them from the
 * end farther from the cursor into below or above, and narrows [lo, hi] to what is left.
 * The cursor's value and the one after it stay (the far end has more than a quarter). */
static void band_cut(struct strom_debs_mband *b)
{
    uint32_t *c = counts(b), d = b->nd / 4, sum = 0;

    if (b->nd - 1 - b->cur > b->cur) {
        for (uint32_t i = b->nd - d; i < b->nd; i++)
            sum += c[i];
        b->above += sum;
        b->hi = b->v[b->nd - d] - 1;
        b->nd -= d;
    } else {
        for (uint32_t i = 0; i < d; i++)
            sum += c[i];
        b->below += sum; /* and "before" stays: those values were before the cursor */
        b->lo = b->v[d - 1] + 1;
        b->nd -= d;
        memmove(b->v, b->v + d, b->nd * sizeof *b->v);
        memmove(c, c + d, b->nd * sizeof *c);
        b->cur -= d;
    }
}

/* Counts x in. The caller keeps cap >= band_cap_for(n) (>= 8). */
static void band_add(struct strom_debs_mband *b, uint64_t x)
{
    uint32_t i, *c;

    if (x >= b->lo && x <= b->hi && b->nd == b->cap) {
        i = band_find(b, x);
        if (i == b->nd || b->v[i] != x) band_cut(b);
    }
    if (x < b->lo) {
        b->below++;
        b->before++;
        return;
    }
    if (x > b->hi) {
        b->above++;
        return;
    }
    c = counts(b);
    i = band_find(b, x);
    if (i < b->nd && b->v[i] == x) {
        c[i]++;
        if (i < b->cur) b->before++;
        return;
    }
    memmove(b->v + i + 1, b->v + i, (b->nd - i) * sizeof *b->v);
    memmove(c + i + 1, c + i, (b->nd - i) * sizeof *c);
    b->v[i] = x;
    c[i] = 1;
    if (b->nd++ && i <= b->cur) {
        b->cur++; /* the new value is below the cursor's */
        b->before++;
    }
}

/* Counts x out; the window holds x. */
static void band_remove(struct strom_debs_mband *b, uint64_t x)
{
    uint32_t i, *c;

    if (x < b->lo) {
        b->below--;
        b->before--;
        return;
    }
    if (x > b->hi) {
        b->above--;
        return;
    }
    c = counts(b);
    i = band_find(b, x); /* the band holds every value of the window in [lo, hi] */
    if (i < b->cur) b->before--;
    if (--c[i]) return;
    b->nd--;
    memmove(b->v + i, b->v + i + 1, (b->nd - i) * sizeof *b->v);
    memmove(c + i, c + i + 1, (b->nd - i) * sizeof *c);
    if (i < b->cur)
        b->cur--;
    else if (b->cur == b->nd && b->nd) /* it was the last value: to the one before */
        b->before -= c[--b->cur];
}

/* --- rebuilding the band ---------------------------------------------------------------- */

/* A position in the window's values, in arrival order, the escapes resolved. */
struct walk {
    uint32_t i, e;
};

/* Up to CHUNK values from w on; how many (0 at the end). */
static uint32_t walk_next(const struct strom_debs_median *m, struct walk *w, uint64_t *buf)
{
    uint32_t got = 0;

    for (; got < CHUNK && w->i < m->ring.n; got++) {
        uint64_t x = m->ring.a[ring_slot(&m->ring, w->i++)] >> 32;
        buf[got] = x == ESCAPE ? m->big.a[ring_slot(&m->big, w->e++)] : x;
    }
    return got;
}

static uint32_t float_bin(uint64_t x)
{
    uint32_t e;

    if (x < 16) return (uint32_t)x;
    e = 63 - (uint32_t)__builtin_clzll(x); /* >= 4 */
    return 16 * (e - 3) + (uint32_t)(x >> (e - 4) & 15);
}

static uint64_t float_bin_start(uint32_t bin)
{
    return bin < 16 ? bin : (uint64_t)(16 + bin % 16) << (bin / 16 - 1);
}

static uint64_t float_bin_end(uint32_t bin)
{
    return bin < 16 ? bin : float_bin_start(bin) + ((uint64_t)1 << (bin / 16 - 1)) - 1;
}

/* The values [a, b] that hold the value of a wanted rank: under values of the window lie
 * below a, and n in it. */
struct edge {
    uint64_t a, b;
    uint32_t under, n;
};

/* The bin of h[0..nbins) that holds rank r (1-based) among values of which under lie below
 * h[0]; adds those before it to *under. */
static uint32_t bin_of_rank(const uint32_t *h, uint32_t nbins, uint32_t r, uint32_t *under)
{
    uint32_t j = 0;

    while (j + 1 < nbins && *under + h[j] < r)
        *under += h[j++];
    return j;
}

/* The first pass: each wanted rank's bin of the float bins. */
static void edges_first(const struct strom_debs_median *m, const uint32_t want[2],
                        struct edge e[2])
{
    uint32_t h[FLOAT_BINS] = {0}, got, j;
    uint64_t buf[CHUNK];
    struct walk w = {0, 0};

    while ((got = walk_next(m, &w, buf)))
        for (uint32_t i = 0; i < got; i++)
            h[float_bin(buf[i])]++;
    for (int t = 0; t < 2; t++) {
        e[t].under = 0;
        j = bin_of_rank(h, FLOAT_BINS, want[t], &e[t].under);
        e[t].a = float_bin_start(j);
        e[t].b = float_bin_end(j);
        e[t].n = h[j];
    }
}

/* A refining pass: splits each edge that is wider than one value into SUB_BINS bins and
 * keeps the one that holds its rank. The two edges are the same range or disjoint, the
 * first below the second, and stay so. Every range is a power of two wide and starts at a
 * multiple of its width (float bins, then their bins), so its bins tile it exactly. */
static void edges_refine(const struct strom_debs_median *m, const uint32_t want[2],
                         struct edge e[2])
{
    uint32_t h[2][SUB_BINS] = {{0}}, shift[2] = {0, 0}, got, j;
    int same = e[0].a == e[1].a, wide[2];
    const struct edge old[2] = {e[0], e[1]};
    uint64_t buf[CHUNK];
    struct walk w = {0, 0};

    for (int t = 0; t < 2; t++) {
        wide[t] = e[t].a < e[t].b && (t == 0 || !same);
        while (wide[t] && (e[t].b - e[t].a) >> shift[t] >= SUB_BINS)
            shift[t]++;
    }
    while ((got = walk_next(m, &w, buf)))
        for (uint32_t i = 0; i < got; i++)
            for (int t = 0; t < 2; t++)
                if (wide[t] && buf[i] - e[t].a <= e[t].b - e[t].a)
                    h[t][(buf[i] - e[t].a) >> shift[t]]++;
    for (int t = 0; t < 2; t++) {
        /* one range for both when they were the same, split by the first's bins */
        int from = same ? 0 : t;
        if (!wide[from]) continue;
        e[t].under = old[from].under;
        j = bin_of_rank(h[from], SUB_BINS, want[t], &e[t].under);
        e[t].a = old[from].a + ((uint64_t)j << shift[from]);
        e[t].b = e[t].a + (((uint64_t)1 << shift[from]) - 1);
        e[t].n = h[from][j];
    }
}

/* How many values a collection of [e[0].a, e[1].b] stores one by one: all but the copies of
 * an edge that is a single value, which are counted. Those strictly between two distinct
 * edges are the values below the second's start but not below the first's end. */
static uint32_t edges_stored(const struct edge e[2])
{
    if (e[0].a == e[1].a) return e[0].a < e[0].b ? e[0].n : 0;
    return e[1].under - e[0].under - e[0].n + (e[0].a < e[0].b ? e[0].n : 0) +
           (e[1].a < e[1].b ? e[1].n : 0);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/*
 * Makes the band again around the median: [lo, hi] = the values of ranks want[0] = k -
 * margin and want[1] = k + 1 + margin (clamped to 1..n), k the lower middle's rank. When the
 * middle left the band through one end (dir 1 above, -1 below), it moves that way, so half
 * a margin stays behind it and one and a half go ahead: a steady trend then rebuilds once in
 * 1.5 margins instead of one. Passes over the ring narrow two ranges of values that hold
 * those ranks until the values between them fit in the band's arrays (edges_stored), one
 * pass collects them there, a sort and a run-length coding make the band. Allocates
 * nothing: the caller keeps cap >= band_cap_for(n), which holds what lies strictly between
 * the two ranks once both ranges are single values (at most want[1] - want[0] - 1 <= 2 *
 * margin values) and the two.
 */
static void rebuild(struct strom_debs_median *m, int dir)
{
    struct strom_debs_mband *b = &m->band;
    uint32_t n = m->ring.n, k = (n + 1) / 2, r = margin(n), got, stored = 0;
    uint32_t below = dir > 0 ? r / 2 : dir < 0 ? r + r / 2 : r, above = 2 * r - below;
    uint32_t want[2] = {k > below ? k - below : 1, n - k > above + 1 ? k + above + 1 : n};
    uint32_t cnt[2] = {0, 0}, nd = 0, *c, lo_at, hi_at, under, sum;
    struct edge e[2];
    uint64_t buf[CHUNK];
    struct walk w = {0, 0};
    int single[2];

    edges_first(m, want, e);
    while (edges_stored(e) + 2 > b->cap && (e[0].a < e[0].b || e[1].a < e[1].b))
        edges_refine(m, want, e);
    /* collect [e[0].a, e[1].b]: the copies of a single-valued edge counted, the rest stored */
    single[0] = e[0].a == e[0].b;
    single[1] = e[1].a == e[1].b && e[1].a != e[0].a;
    while ((got = walk_next(m, &w, buf))) {
        for (uint32_t i = 0; i < got; i++) {
            uint64_t x = buf[i];
            if (x < e[0].a || x > e[1].b) continue;
            if (single[0] && x == e[0].a)
                cnt[0]++;
            else if (single[1] && x == e[1].a)
                cnt[1]++;
            else
                b->v[1 + stored++] = x; /* slot 0 stays free for the first edge's value */
        }
    }
    qsort(b->v + 1, stored, sizeof *b->v, cmp_u64);
    /* run-length code in place: the ascending values of [e[0].a, e[1].b] and their counts */
    c = counts(b);
    if (cnt[0]) {
        b->v[0] = e[0].a;
        c[0] = cnt[0];
        nd = 1;
    }
    for (uint32_t i = 1; i <= stored; i++) {
        if (nd && b->v[nd - 1] == b->v[i]) {
            c[nd - 1]++;
        } else {
            b->v[nd] = b->v[i];
            c[nd++] = 1;
        }
    }
    if (cnt[1]) {
        b->v[nd] = e[1].a;
        c[nd++] = cnt[1];
    }
    /* keep the values from rank want[0]'s to rank want[1]'s */
    under = e[0].under;
    for (lo_at = 0; under + c[lo_at] < want[0]; lo_at++)
        under += c[lo_at];
    sum = under;
    for (hi_at = lo_at; sum + c[hi_at] < want[1]; hi_at++)
        sum += c[hi_at];
    b->nd = hi_at - lo_at + 1;
    memmove(b->v, b->v + lo_at, b->nd * sizeof *b->v);
    memmove(c, c + lo_at, b->nd * sizeof *c);
    b->lo = b->v[0];
    b->hi = b->v[b->nd - 1];
    b->below = under;
    b->above = n - sum - c[b->nd - 1];
    b->cur = 0;
    b->before = under;
}

/* After an add or expire: the cursor onto the lower middle value, the band rebuilt first if
 * the middle values left it. */
static void settle(struct strom_debs_median *m)
{
    struct strom_debs_mband *b = &m->band;
    uint32_t n = m->ring.n, k = (n + 1) / 2, need = n % 2 ? k : k + 1;
    const uint32_t *c;

    if (k <= b->below || need > n - b->above) rebuild(m, k <= b->below ? -1 : 1);
    c = counts(b);
    while (b->before + c[b->cur] < k)
        b->before += c[b->cur++];
    while (b->before >= k)
        b->before -= c[--b->cur];
}

/* --- the window ------------------------------------------------------------------------- */

void strom_debs_median_init(struct strom_debs_median *m)
{
    memset(m, 0, sizeof *m);
}

void strom_debs_median_release(struct strom_debs_median *m)
{
    free(m->ring.a);
    free(m->big.a);
    free(m->band.v);
    memset(m, 0, sizeof *m);
}

int strom_debs_median_add(struct strom_debs_median *m, uint32_t ts, uint64_t value)
{
    uint32_t n = m->ring.n, cap = band_cap_for(n + 1);
    int rc = 0;

    if (value > STROM_DEBS_MEDIAN_VALUE_MAX || ts < m->last_ts) return STROM_E_INVAL;
    if (n >= STROM_DEBS_MEDIAN_MAX_COUNT) return -EOVERFLOW;
    /* What can fail comes first, so that a failure changes nothing (more room is no
     * change): the band's room is what lets expire rebuild it without allocating. */
    rc = ring_reserve(&m->ring);
    if (!rc && value >= ESCAPE) rc = ring_reserve(&m->big);
    if (!rc && m->band.cap < cap) rc = band_resize(&m->band, cap + cap / 4);
    if (rc) return rc;
    ring_push(&m->ring, (uint64_t)(value < ESCAPE ? value : ESCAPE) << 32 | ts);
    if (value >= ESCAPE) ring_push(&m->big, value);
    if (!n) m->oldest_ts = ts;
    m->last_ts = ts;
    if (n)
        band_add(&m->band, value);
    else
        rebuild(m, 0);
    settle(m);
    return 0;
}

size_t strom_debs_median_expire(struct strom_debs_median *m, int64_t upto)
{
    return strom_debs_median_expire_each(m, upto, NULL, NULL);
}

size_t strom_debs_median_expire_each(struct strom_debs_median *m, int64_t upto,
                                     strom_debs_median_leave_fn fn, void *arg)
{
    struct strom_debs_mring *r = &m->ring;
    size_t n = 0;
    uint32_t last_ts, cap;
    uint64_t x;

    while (r->n && (int64_t)m->oldest_ts <= upto) {
        x = ring_pop(r) >> 32;
        if (x == ESCAPE) x = ring_pop(&m->big);
        band_remove(&m->band, x);
        if (fn) fn(arg, x);
        m->oldest_ts = r->n ? (uint32_t)r->a[r->head] : 0;
        n++;
    }
    if (!n) return 0;
    if (!r->n) {
        /* A plug that left the window keeps no memory; only its clock. */
        last_ts = m->last_ts;
        strom_debs_median_release(m);
        m->last_ts = last_ts;
        return n;
    }
    settle(m);
    /* Memory back, where a failure keeps it big. */
    ring_trim(r);
    ring_trim(&m->big);
    cap = band_cap_for(r->n);
    if (m->band.cap > 2 * cap + 16 && m->band.nd <= cap + cap / 4)
        band_resize(&m->band, cap + cap / 4);
    return n;
}

uint64_t strom_debs_median_median2(const struct strom_debs_median *m)
{
    const struct strom_debs_mband *b = &m->band;
    uint32_t n = m->ring.n, k = (n + 1) / 2;
    uint64_t lo;

    if (!n) return 0;
    /* the cursor is on the k-th value, and the k+1-th is in the band (settle) */
    lo = b->v[b->cur];
    if (n % 2 || k + 1 <= b->before + counts(b)[b->cur]) return 2 * lo;
    return lo + b->v[b->cur + 1];
}

size_t strom_debs_median_bytes(const struct strom_debs_median *m)
{
    return ((size_t)m->ring.cap + m->big.cap) * sizeof(uint64_t) +
           (size_t)m->band.cap * (sizeof(uint64_t) + sizeof(uint32_t));
}

/* --- encoding --------------------------------------------------------------------------- */

int strom_debs_median_encode(const struct strom_debs_median *m, struct strom_buf *out)
{
    const struct strom_debs_mring *r = &m->ring;
    size_t start = out->len, t = 0;
    uint8_t tmp[4096];
    uint32_t e = 0, prev_ts = 0;
    uint64_t prev_v = 0;
    int rc = strom_buf_put_u32(out, r->n);

    if (!rc) rc = strom_buf_put_u32(out, m->last_ts);
    /* The readings as differences, staged in tmp so that the buffer grows in blocks. */
    for (uint32_t i = 0; !rc && i < r->n; i++) {
        uint64_t x = r->a[ring_slot(r, i)], v = x >> 32, d;
        if (v == ESCAPE) v = m->big.a[ring_slot(&m->big, e++)];
        d = v - prev_v; /* two's complement difference, then zigzag */
        t += strom_varint_put(tmp + t, (uint32_t)x - prev_ts);
        t += strom_varint_put(tmp + t, d << 1 ^ (uint64_t)-(d >> 63));
        prev_ts = (uint32_t)x;
        prev_v = v;
        if (t > sizeof tmp - READING_MAX) {
            rc = strom_buf_append(out, tmp, t);
            t = 0;
        }
    }
    if (!rc && t) rc = strom_buf_append(out, tmp, t);
    if (rc) out->len = start;
    return rc;
}

int strom_debs_median_decode(struct strom_debs_median *m, struct strom_reader *in)
{
    uint32_t n, last_ts, ts = 0, cap;
    uint64_t v = 0, dt, z;
    int rc;

    if (m->ring.n || m->ring.cap || m->big.cap || m->band.cap) return STROM_E_INVAL;
    rc = strom_reader_u32(in, &n);
    if (!rc) rc = strom_reader_u32(in, &last_ts);
    if (rc) return rc;
    if (n > STROM_DEBS_MEDIAN_MAX_COUNT || n > in->left / READING_MIN) return STROM_E_CORRUPT;
    m->last_ts = last_ts;
    if (!n) return 0;
    cap = band_cap_for(n);
    rc = ring_resize(&m->ring, ring_cap_for(n));
    if (!rc) rc = band_resize(&m->band, cap + cap / 4);
    if (rc) goto out;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = strom_reader_varint(in, &dt)) || (rc = strom_reader_varint(in, &z))) goto out;
        v += z >> 1 ^ (uint64_t)-(z & 1); /* wraps round for a value below 0: refused */
        if (dt > last_ts - ts || v > STROM_DEBS_MEDIAN_VALUE_MAX) {
            rc = STROM_E_CORRUPT;
            goto out;
        }
        ts += (uint32_t)dt;
        if (v >= ESCAPE) {
            if ((rc = ring_reserve(&m->big))) goto out;
            ring_push(&m->big, v);
        }
        ring_push(&m->ring, (uint64_t)(v < ESCAPE ? v : ESCAPE) << 32 | ts);
    }
    m->oldest_ts = (uint32_t)m->ring.a[0];
    rebuild(m, 0);
    settle(m);
out:
    if (rc) strom_debs_median_release(m);
    return rc;
}
