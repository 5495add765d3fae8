/*
 * apps/debs14/median.h: exact medians of sliding windows for Query 2 (outliers).
 *
 * Query 2 compares, once per second, the median load of each plug's window with the median
 * of all loads in the window (../shared/specs/debs14.md, "Query 2: outliers"). This module
 * keeps the two kinds of multiset; fenwick.h keeps the global one. Both answer in
 * HALF-milliwatts, as an integer: median2 = a + b for the two middle values a <= b of an
 * even-sized set, 2 * x for the middle x of an odd-sized one ({1000, 2001} -> 3001,
 * {5} -> 10). So "m_p > M" is an exact integer comparison; no float is ever involved.
 * Values are integer milliwatts up to STROM_DEBS_MEDIAN_VALUE_MAX (2^53 - 1, the parser's
 * bound), so a median2 never overflows.
 *
 * --- struct strom_debs_median: one plug's window ------------------------------------------
 *
 * A FIFO of readings (timestamps non-decreasing) and their median. Readings leave oldest
 * first, which is what makes the design below work: every reading gets a sequence number
 * seq (0, 1, 2, ... in arrival order), and the readings in the window are exactly those
 * with head <= seq < head + count. So "has this reading left?" needs no table of pending
 * deletions, only a comparison.
 *
 *   ring:  the timestamps, oldest at ts[head_slot], the reading of seq s at slot
 *          (head_slot + (s - head)) mod cap; beside each, a side bit: 1 when the reading's
 *          entry sits in hi, 0 in lo. Arrays grow and shrink by half (not double), so
 *          that a window that stopped growing wastes a quarter on average, not a half.
 *   lo:    a max-heap holding the smaller half of the values,
 *   hi:    a min-heap holding the larger half (stored as a max-heap of complemented keys,
 *          so that one heap implementation serves both).
 *
 * The values live in the heaps only: a heap entry is the key value << 32 | seq (complemented
 * in hi), 8 bytes, ordered by value then seq. A value >= 2^32 does not fit in that key; the
 * first such value switches the window to "wide" mode, where a key is the value alone and
 * the seq sits in a parallel uint32 array (12 bytes an entry); a compaction that finds no
 * wide value left switches back. Real loads stay far below 2^32 mW (4.3 MW).
 *
 * Removal is lazy: a reading that leaves only decrements the live count of its side; its
 * entry stays in the heap, stale, until it reaches the top (it is then popped) or until a
 * compaction filters both heaps and re-heapifies them, which happens when the stale entries
 * outnumber half the live ones (plus 32), so that compaction is amortized O(1) per reading
 * and the heaps hold at most 1.5x the live entries, plus 32. (A move into a full heap also
 * compacts that heap first, so that expire never allocates: see median.c.)
 *
 * Invariants between calls:
 *   - live_lo + live_hi == count, and live_lo == live_hi or live_lo == live_hi + 1;
 *   - the value of every live entry of lo is <= that of every live entry of hi (equal
 *     values may sit on both sides, in any seq order: only values matter to a median);
 *   - the top of a non-empty heap is live (stale tops are popped at once), so a heap with
 *     no live entry is empty, and the median needs only the two tops:
 *     median2 = 2 * top(lo) when count is odd, top(lo) + top(hi) when even;
 *   - the side bit of every live reading names the heap holding its entry (a move between
 *     heaps knows the entry's seq, so it updates the bit);
 *   - seqs are 32 bits and wrap; "seq is live" is (uint32_t)(seq - head) < count. That test
 *     is exact only while no entry in the heaps is 2^32 - count older than head, so count is
 *     bounded (STROM_DEBS_MEDIAN_MAX_COUNT) and the heaps are compacted whenever the next
 *     seq crosses a multiple of 2^31, leaving only live entries.
 * Costs: add, and expire per reading removed, are O(log n) amortized (a push, at most one
 * move, the pops of stale tops, a share of the compactions); median2 and count are O(1).
 * Memory: 4 bytes of timestamp, 1 bit of side and 8 bytes of heap entry per reading, plus
 * the slack of arrays that grow by half and the stale entries. Measured for a 40,000-reading
 * window in steady state: 18.4 bytes a reading (ring 4.3, heaps 14.1); the unit test holds
 * it to <= 24. An emptied window frees all its memory.
 *
 * A zeroed struct is an empty window, so the struct can sit in a zeroed keyed-state record.
 *
 * Encoding (strom_debs_median_encode), integers little endian:
 *
 *   offset  size  field
 *   0       4     N, the number of readings (<= STROM_DEBS_MEDIAN_MAX_COUNT)
 *   4       4     last_ts, the largest timestamp ever added (so a restored window refuses
 *                 the same out-of-order timestamps as the original); >= every ts below
 *   8       12*N  the readings, oldest first: +0 4 ts (non-decreasing), +4 8 value (mW,
 *                 <= STROM_DEBS_MEDIAN_VALUE_MAX)
 *
 * The window holds one encoding (heap layout, mode and seqs are not in it), so equal
 * windows encode to equal bytes and decode(encode(x)) encodes to the same bytes again.
 * Decode checks N against the bytes left before allocating anything, then every field, and
 * returns STROM_E_CORRUPT for any violation.
 *
 * Threads: none; a window is used by one thread at a time. Ownership: the caller owns the
 * struct; strom_debs_median_release frees what it points to (also after a failed decode).
 */
#ifndef STROM_APPS_DEBS14_MEDIAN_H
#define STROM_APPS_DEBS14_MEDIAN_H

#include <stddef.h>
#include <stdint.h>

#include "strom/state.h"

/* Largest value the structures accept, in mW: 2^53 - 1, as the parser's bound. */
#define STROM_DEBS_MEDIAN_VALUE_MAX ((UINT64_C(1) << 53) - 1)
/* Most readings one window holds (see the seq invariant above); a real 24 h plug window
 * holds 15,000-45,000. */
#define STROM_DEBS_MEDIAN_MAX_COUNT ((UINT32_C(1) << 30) - 1)

/* One heap: a max-heap of keys; seq is non-NULL only in wide mode. Private to median.c. */
struct strom_debs_mheap {
    uint64_t *key;
    uint32_t *seq;
    uint32_t n, cap;
};

struct strom_debs_median {
    uint32_t *ts;   /* ring of cap timestamps */
    uint64_t *side; /* cap side bits, slot i at bit i % 64 of word i / 64 */
    uint32_t cap;   /* slots: 0, or >= 64 */
    uint32_t head_slot;
    uint32_t count; /* readings in the window */
    uint32_t head;  /* seq of the oldest reading */
    uint32_t last_ts;
    uint32_t live_lo, live_hi;
    uint32_t wide; /* 1 in wide mode */
    struct strom_debs_mheap lo, hi;
};

/* An empty window (the same as zeroing it). */
void strom_debs_median_init(struct strom_debs_median *m);
/* Frees its memory; m is an empty window afterwards, and last_ts is forgotten. */
void strom_debs_median_release(struct strom_debs_median *m);

/* Adds a reading. 0; STROM_E_INVAL when ts < the largest timestamp added before or value >
 * STROM_DEBS_MEDIAN_VALUE_MAX; -EOVERFLOW when the window is full; -ENOMEM. On failure the
 * window is unchanged. */
int strom_debs_median_add(struct strom_debs_median *m, uint32_t ts, uint64_t value);
/* Drops every reading with ts <= upto (upto may be negative: at second t the window is
 * (t - W, t], so the caller passes (int64_t)t - W). Returns how many it dropped. Never
 * fails: it only frees memory. */
size_t strom_debs_median_expire(struct strom_debs_median *m, int64_t upto);

static inline size_t strom_debs_median_count(const struct strom_debs_median *m)
{
    return m->count;
}

/* The median in half-mW (see above); 0 for an empty window, which has none. */
uint64_t strom_debs_median_median2(const struct strom_debs_median *m);
/* The timestamp of the oldest reading; 0 for an empty window. */
uint32_t strom_debs_median_oldest_ts(const struct strom_debs_median *m);
/* Bytes of heap memory the window holds now. */
size_t strom_debs_median_bytes(const struct strom_debs_median *m);

/* Appends the encoding above to out. 0 or -ENOMEM (out then holds what it held before). */
int strom_debs_median_encode(const struct strom_debs_median *m, struct strom_buf *out);
/* Reads one encoding from in into m, an empty window (STROM_E_INVAL if it is not). 0,
 * STROM_E_CORRUPT, or -ENOMEM; on failure m is empty again. Reads exactly the encoding's
 * bytes on success. */
int strom_debs_median_decode(struct strom_debs_median *m, struct strom_reader *in);

#endif
