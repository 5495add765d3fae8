/*
 * apps/debs14/fenwick.h: the global window of Query 2: the multiset of all loads of all
 * plugs in the window (up to ~70 million for 24 h) with its exact median. Which readings
 * leave the window is known from the plugs' windows (q2.c), so none is stored here.
 *
 * Medians are in half-mW as in median.h (read its opening first): median2 = a + b of the
 * two middle values of an even-sized set, 2 * x of the middle one of an odd-sized set.
 *
 * --- struct strom_debs_fenwick: the multiset ----------------------------------------------
 *
 * Values below 2^22 mW (4.19 kW, above every real plug's load) are counted in a histogram
 * with summaries: level 0 counts each value, each entry of level 1 sums 64 values, of
 * level 2 64 entries of level 1 (4,096 values), of level 3 64 entries of level 2 (16 entries
 * in all). add and remove increment or decrement one entry per level: O(1), and only the
 * level-0 entry is likely a cache miss (level 1 is 256 KiB, levels 2-3 are 4 KiB). The k-th
 * smallest walks down the levels, at most 16 + 3 * 64 entries read in order, all but the
 * last 64 hot in cache. The whole is one array of 16.3 MiB, allocated at the first small
 * value, whatever the number of readings: 0.24 bytes a reading at 70 million.
 *
 * Why not a Fenwick tree, as first planned: same memory, same exactness, but an update
 * touches ~11 nodes spread over 16 MiB, each a likely cache miss. Measured (CPU time) at 70
 * million readings with real-looking values, add + remove took 155 ns with a Fenwick tree
 * and 12 ns with these levels; the median, computed once per second in Query 2 and not
 * once per reading, costs 13-20 ns either way. (The files and names keep the planned word.)
 *
 * Values from 2^22 up to STROM_DEBS_MEDIAN_VALUE_MAX go to a treap of distinct values with
 * their counts and subtree totals (32 bytes per distinct value, O(log d) expected per
 * operation), so that any value is exact and real data never pays for it. The k-th
 * smallest overall is the k-th of the histogram when k <= small, else the (k - small)-th
 * of the treap.
 *
 * Invariants: every summary entry is the sum of the entries below it; small == the sum of
 * level 3, big == the treap's total; every treap node's count >= 1 and its size == count +
 * the sizes of its children; a node's priority is >= its children's; small + big <=
 * UINT32_MAX (the counts are uint32). Priorities come from a xorshift generator with a
 * fixed seed, so runs are reproducible.
 *
 * Encoding (strom_debs_fenwick_encode), little endian:
 *
 *   offset  size  field
 *   0       4     D, the number of distinct values
 *   4       12*D  in strictly ascending value order: +0 8 value (<= the max), +8 4 count (>= 1)
 *
 * The sum of the counts is <= UINT32_MAX. Decode checks D against the bytes left first,
 * then order, counts and sum, and returns STROM_E_CORRUPT on any violation.
 *
 * Threads: none; one thread at a time. Ownership: the caller owns the structs; release
 * frees what they point to. A zeroed struct is an empty one.
 */
#ifndef STROM_APPS_DEBS14_FENWICK_H
#define STROM_APPS_DEBS14_FENWICK_H

#include <stddef.h>
#include <stdint.h>

#include "apps/debs14/median.h"
#include "strom/state.h"

/* Values below this are counted in the histogram. */
#define STROM_DEBS_FENWICK_BITS 22
#define STROM_DEBS_FENWICK_SIZE (UINT32_C(1) << STROM_DEBS_FENWICK_BITS)

struct strom_debs_tnode; /* private to fenwick.c */

struct strom_debs_fenwick {
    uint32_t *counts; /* levels 3, 2, 1, 0, in one array; NULL until a small value */
    uint64_t small, big;
    struct strom_debs_tnode *nodes; /* nodes[0] is the empty tree */
    uint32_t root, used, cap, free_list;
    uint64_t rng;
};

void strom_debs_fenwick_init(struct strom_debs_fenwick *f);
void strom_debs_fenwick_release(struct strom_debs_fenwick *f);

/* 0; STROM_E_INVAL for a value > STROM_DEBS_MEDIAN_VALUE_MAX; -EOVERFLOW when UINT32_MAX
 * readings are in; -ENOMEM (nothing changed). */
int strom_debs_fenwick_add(struct strom_debs_fenwick *f, uint64_t value);
/* Removes one reading of value. 0, or STROM_E_NOTFOUND when there is none (nothing
 * changed). */
int strom_debs_fenwick_remove(struct strom_debs_fenwick *f, uint64_t value);

static inline uint64_t strom_debs_fenwick_count(const struct strom_debs_fenwick *f)
{
    return f->small + f->big;
}

/* The median in half-mW; 0 when empty. */
uint64_t strom_debs_fenwick_median2(const struct strom_debs_fenwick *f);
/* The k-th smallest value, k from 1 to count; 0 for any other k. */
uint64_t strom_debs_fenwick_kth(const struct strom_debs_fenwick *f, uint64_t k);
size_t strom_debs_fenwick_bytes(const struct strom_debs_fenwick *f);

/* Appends the encoding above. 0 or -ENOMEM (out unchanged). */
int strom_debs_fenwick_encode(const struct strom_debs_fenwick *f, struct strom_buf *out);
/* Into an empty f (STROM_E_INVAL if not). 0, STROM_E_CORRUPT or -ENOMEM; on failure f is
 * empty again. */
int strom_debs_fenwick_decode(struct strom_debs_fenwick *f, struct strom_reader *in);

#endif
