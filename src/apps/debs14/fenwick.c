/*
 * apps/debs14/fenwick.c: the global window's multiset (a histogram with summary levels for
 * values below 2^22, a treap above) and the compact FIFO of its readings. Design, invariants and
 * encodings are in fenwick.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps/debs14/fenwick.h"
#include "strom/error.h"

#define N_SMALL STROM_DEBS_FENWICK_SIZE
#define PAIR_LEN 12u /* value u64 + count u32 */

struct strom_debs_tnode {
    uint64_t value;
    uint32_t count; /* readings of value, >= 1 */
    uint32_t size;  /* readings in the subtree */
    uint32_t left, right, prio, unused;
};

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* --- the count hierarchy ---------------------------------------------------------------- */

/* Level 0 counts each value, level l + 1 sums 64 entries of level l; all in one array,
 * top level first. 22 bits = 4 + 6 + 6 + 6: 16 entries at the top. */
#define FAN_BITS 6
#define OFF3 0u                                   /* 16 entries: 2^18 values each */
#define OFF2 (OFF3 + (N_SMALL >> (3 * FAN_BITS))) /* 1,024 entries: 2^12 values each */
#define OFF1 (OFF2 + (N_SMALL >> (2 * FAN_BITS))) /* 65,536 entries: 64 values each */
#define OFF0 (OFF1 + (N_SMALL >> FAN_BITS))       /* 2^22 entries: one value each */
#define N_COUNTS (OFF0 + N_SMALL)
_Static_assert(STROM_DEBS_FENWICK_BITS == 22, "the levels below are laid out for 22 bits");

static uint32_t small_count(const uint32_t *c, uint32_t v)
{
    return c[OFF0 + v];
}

static void small_update(uint32_t *c, uint32_t v, uint32_t d)
{
    c[OFF0 + v] += d;
    c[OFF1 + (v >> FAN_BITS)] += d;
    c[OFF2 + (v >> 2 * FAN_BITS)] += d;
    c[OFF3 + (v >> 3 * FAN_BITS)] += d;
}

/* The k-th smallest small value (1 <= k <= small), and how many readings lie below it:
 * at each level, walk the 64 (16 at the top) entries under the chosen one. */
static uint32_t small_kth(const uint32_t *c, uint64_t k, uint64_t *below)
{
    static const uint32_t off[4] = {OFF3, OFF2, OFF1, OFF0};
    uint64_t left = k;
    uint32_t i = 0;

    for (int l = 0; l < 4; l++) {
        const uint32_t *e = c + off[l];
        for (i <<= (l ? FAN_BITS : 0); left > e[i]; i++)
            left -= e[i];
    }
    *below = k - left;
    return i;
}

/* --- the treap of big values ------------------------------------------------------------ */

static uint32_t next_prio(struct strom_debs_fenwick *f)
{
    uint64_t x = f->rng ? f->rng : UINT64_C(0x9e3779b97f4a7c15);

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    f->rng = x;
    return (uint32_t)((x * UINT64_C(0x2545f4914f6cdd1d)) >> 32);
}

/* A free node for the next insert, so that the insert itself cannot fail. */
static int t_reserve(struct strom_debs_fenwick *f)
{
    struct strom_debs_tnode *nodes;
    uint64_t cap;

    if (f->free_list || f->used < f->cap) return 0;
    cap = f->cap ? (uint64_t)f->cap * 2 : 64;
    if (cap > UINT32_MAX) return -ENOMEM;
    nodes = realloc(f->nodes, cap * sizeof *nodes);
    if (!nodes) return -ENOMEM;
    if (!f->cap) memset(&nodes[0], 0, sizeof *nodes); /* the empty tree: size 0 */
    f->nodes = nodes;
    f->used = f->used ? f->used : 1;
    f->cap = (uint32_t)cap;
    return 0;
}

static uint32_t t_alloc(struct strom_debs_fenwick *f, uint64_t v, uint32_t c)
{
    uint32_t t = f->free_list;

    if (t)
        f->free_list = f->nodes[t].left;
    else
        t = f->used++;
    f->nodes[t] =
        (struct strom_debs_tnode){.value = v, .count = c, .size = c, .prio = next_prio(f)};
    return t;
}

static void t_fix(struct strom_debs_tnode *n, uint32_t t)
{
    n[t].size = n[n[t].left].size + n[n[t].right].size + n[t].count;
}

static uint32_t t_rotate_right(struct strom_debs_tnode *n, uint32_t t)
{
    uint32_t l = n[t].left;

    n[t].left = n[l].right;
    n[l].right = t;
    t_fix(n, t);
    t_fix(n, l);
    return l;
}

static uint32_t t_rotate_left(struct strom_debs_tnode *n, uint32_t t)
{
    uint32_t r = n[t].right;

    n[t].right = n[r].left;
    n[r].left = t;
    t_fix(n, t);
    t_fix(n, r);
    return r;
}

/* Adds c readings of v under t; returns the new subtree root. A node is reserved. Depth
 * is O(log d) expected: priorities are random, not chosen by the data. */
static uint32_t t_insert(struct strom_debs_fenwick *f, uint32_t t, uint64_t v, uint32_t c)
{
    struct strom_debs_tnode *n = f->nodes;
    uint32_t ch;

    if (!t) return t_alloc(f, v, c);
    n[t].size += c;
    if (v == n[t].value) {
        n[t].count += c;
    } else if (v < n[t].value) {
        ch = t_insert(f, n[t].left, v, c);
        n[t].left = ch;
        if (n[ch].prio > n[t].prio) t = t_rotate_right(n, t);
    } else {
        ch = t_insert(f, n[t].right, v, c);
        n[t].right = ch;
        if (n[ch].prio > n[t].prio) t = t_rotate_left(n, t);
    }
    return t;
}

/* Joins a and b, every value of a below every value of b. */
static uint32_t t_merge(struct strom_debs_tnode *n, uint32_t a, uint32_t b)
{
    if (!a || !b) return a ? a : b;
    if (n[a].prio > n[b].prio) {
        n[a].size += n[b].size;
        n[a].right = t_merge(n, n[a].right, b);
        return a;
    }
    n[b].size += n[a].size;
    n[b].left = t_merge(n, a, n[b].left);
    return b;
}

/* Removes one reading of v, which is in the subtree t. */
static uint32_t t_erase(struct strom_debs_fenwick *f, uint32_t t, uint64_t v)
{
    struct strom_debs_tnode *n = f->nodes;
    uint32_t r;

    n[t].size--;
    if (v < n[t].value) {
        n[t].left = t_erase(f, n[t].left, v);
    } else if (v > n[t].value) {
        n[t].right = t_erase(f, n[t].right, v);
    } else if (!--n[t].count) {
        r = t_merge(n, n[t].left, n[t].right);
        n[t].left = f->free_list;
        f->free_list = t;
        return r;
    }
    return t;
}

static uint32_t t_find(const struct strom_debs_fenwick *f, uint64_t v)
{
    uint32_t t = f->root;

    while (t && f->nodes[t].value != v)
        t = v < f->nodes[t].value ? f->nodes[t].left : f->nodes[t].right;
    return t;
}

static uint64_t t_kth(const struct strom_debs_fenwick *f, uint64_t k)
{
    const struct strom_debs_tnode *n = f->nodes;
    uint32_t t = f->root;

    for (;;) {
        uint64_t l = n[n[t].left].size;
        if (k <= l) {
            t = n[t].left;
        } else if (k <= l + n[t].count) {
            return n[t].value;
        } else {
            k -= l + n[t].count;
            t = n[t].right;
        }
    }
}

static void t_release(struct strom_debs_fenwick *f)
{
    free(f->nodes);
    f->nodes = NULL;
    f->root = f->used = f->cap = f->free_list = 0;
}

/* --- the multiset ----------------------------------------------------------------------- */

void strom_debs_fenwick_init(struct strom_debs_fenwick *f)
{
    memset(f, 0, sizeof *f);
}

void strom_debs_fenwick_release(struct strom_debs_fenwick *f)
{
    free(f->counts);
    free(f->nodes);
    memset(f, 0, sizeof *f);
}

int strom_debs_fenwick_add(struct strom_debs_fenwick *f, uint64_t value)
{
    int rc;

    if (value > STROM_DEBS_MEDIAN_VALUE_MAX) return STROM_E_INVAL;
    if (f->small + f->big >= UINT32_MAX) return -EOVERFLOW;
    if (value >= N_SMALL) {
        rc = t_reserve(f);
        if (rc) return rc;
        f->root = t_insert(f, f->root, value, 1);
        f->big++;
        return 0;
    }
    if (!f->counts && !(f->counts = calloc(N_COUNTS, sizeof *f->counts))) return -ENOMEM;
    small_update(f->counts, (uint32_t)value, 1);
    f->small++;
    return 0;
}

int strom_debs_fenwick_remove(struct strom_debs_fenwick *f, uint64_t value)
{
    if (value >= N_SMALL) {
        if (!t_find(f, value)) return STROM_E_NOTFOUND;
        f->root = t_erase(f, f->root, value);
        if (!--f->big) t_release(f); /* nothing big left: give the pool back */
        return 0;
    }
    if (!f->counts || !small_count(f->counts, (uint32_t)value)) return STROM_E_NOTFOUND;
    small_update(f->counts, (uint32_t)value, UINT32_MAX); /* - 1 */
    f->small--;
    return 0;
}

uint64_t strom_debs_fenwick_kth(const struct strom_debs_fenwick *f, uint64_t k)
{
    uint64_t below;

    if (k < 1 || k > f->small + f->big) return 0;
    return k <= f->small ? small_kth(f->counts, k, &below) : t_kth(f, k - f->small);
}

uint64_t strom_debs_fenwick_median2(const struct strom_debs_fenwick *f)
{
    uint64_t n = f->small + f->big, k1 = (n + 1) / 2, k2 = n / 2 + 1, a, below;

    if (!n) return 0;
    if (k1 > f->small) return t_kth(f, k1 - f->small) + t_kth(f, k2 - f->small);
    a = small_kth(f->counts, k1, &below);
    /* Loads repeat (zeros above all), so the second middle is mostly the same value: its
     * count then spares the second walk down. */
    if (k2 == k1 || below + small_count(f->counts, (uint32_t)a) >= k2) return 2 * a;
    return a + strom_debs_fenwick_kth(f, k2);
}

size_t strom_debs_fenwick_bytes(const struct strom_debs_fenwick *f)
{
    return (f->counts ? (size_t)N_COUNTS * sizeof *f->counts : 0) +
           (size_t)f->cap * sizeof *f->nodes;
}

static int put_pair(struct strom_buf *out, uint64_t v, uint32_t c)
{
    uint8_t rec[PAIR_LEN];

    put_le(rec, v, 8);
    put_le(rec + 8, c, 4);
    return strom_buf_append(out, rec, sizeof rec);
}

/* In order, so ascending. Recursion depth is the treap's, O(log d) expected. */
static int t_encode(const struct strom_debs_fenwick *f, uint32_t t, struct strom_buf *out,
                    uint32_t *d)
{
    const struct strom_debs_tnode *n = f->nodes;
    int rc;

    if (!t) return 0;
    rc = t_encode(f, n[t].left, out, d);
    if (!rc) rc = put_pair(out, n[t].value, n[t].count);
    if (!rc) (*d)++;
    return rc ? rc : t_encode(f, n[t].right, out, d);
}

int strom_debs_fenwick_encode(const struct strom_debs_fenwick *f, struct strom_buf *out)
{
    size_t start = out->len;
    uint32_t d = 0, c;
    int rc = strom_buf_put_u32(out, 0); /* D, patched below */

    for (uint32_t b = 0; !rc && f->counts && b < N_SMALL >> FAN_BITS; b++) {
        if (!f->counts[OFF1 + b]) continue; /* 64 values, none present */
        for (uint32_t v = b << FAN_BITS; !rc && v < (b + 1) << FAN_BITS; v++)
            if ((c = small_count(f->counts, v)) && !(rc = put_pair(out, v, c))) d++;
    }
    if (!rc) rc = t_encode(f, f->root, out, &d);
    if (rc) {
        out->len = start;
        return rc;
    }
    put_le(out->data + start, d, 4);
    return 0;
}

int strom_debs_fenwick_decode(struct strom_debs_fenwick *f, struct strom_reader *in)
{
    uint64_t v, prev = 0, total = 0;
    uint32_t d, c;
    int rc;

    if (f->counts || f->nodes || f->small || f->big) return STROM_E_INVAL;
    rc = strom_reader_u32(in, &d);
    if (rc) return rc;
    if (d > in->left / PAIR_LEN) return STROM_E_CORRUPT;
    /* The reads cannot fail: d was checked against the bytes left. */
    for (uint32_t i = 0; i < d; i++) {
        strom_reader_u64(in, &v);
        strom_reader_u32(in, &c);
        if ((i && v <= prev) || v > STROM_DEBS_MEDIAN_VALUE_MAX || !c || c > UINT32_MAX - total) {
            rc = STROM_E_CORRUPT;
            goto out;
        }
        prev = v;
        total += c;
        if (v >= N_SMALL) {
            if ((rc = t_reserve(f))) goto out;
            f->root = t_insert(f, f->root, v, c);
            f->big += c;
            continue;
        }
        if (!f->counts && !(f->counts = calloc(N_COUNTS, sizeof *f->counts))) {
            rc = -ENOMEM;
            goto out;
        }
        small_update(f->counts, (uint32_t)v, c);
        f->small += c;
    }
out:
    if (rc) strom_debs_fenwick_release(f);
    return rc;
}
