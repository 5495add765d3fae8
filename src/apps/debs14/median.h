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
 * A FIFO of readings (timestamps non-decreasing) and their median. Query 2 keeps ~2,000
 * plugs' windows of ~33,000 readings each and touches each once a second, so every touch
 * starts cold: the design counts the cache misses that wait on each other, not comparisons.
 * Only the values near the median need to be known in order; of the others, counting how
 * many lie below and above is enough.
 *
 *   ring:  the readings in arrival order, 8 bytes each: ts in the low 32 bits, the value in
 *          the high 32, where a value >= 2^32 - 1 is stored as the escape 0xffffffff and its
 *          exact value goes to a second FIFO of uint64 (big) in the same order, so the k-th
 *          escape is the k-th big value. Readings leave oldest first, so the ring says which
 *          value leaves; oldest_ts caches the oldest timestamp.
 *   band:  a range of values [lo, hi] around the median; every value of the window in it,
 *          as its distinct values ascending with a count each (run-length: 8,000 zeros are
 *          one entry); below and above count the window's values < lo and > hi, which are
 *          stored nowhere but in the ring.
 *
 * An add or a removal compares its value with lo and hi: mostly it changes below or above
 * and nothing else; inside the band, a binary search finds its entry (a new distinct value
 * is a memmove). A cursor (cur, before) sits on the entry that holds the lower middle value,
 * the ceil(count / 2)-th, before counting the values below that entry (below included); one
 * operation moves that rank by at most one, so the cursor by at most one entry, and median2
 * reads one or two entries. When the middle values leave the band (they cross lo or hi), it
 * is rebuilt from the ring around them: 2 * margin ranks, margin = max(32, count / 64), with
 * every copy of the values at both ends, placed mostly ahead of the middle's motion
 * (median.c, rebuild: passes over the ring that count values in bins, one that collects the
 * band, a sort). A random walk of the middle takes ~margin^2 operations to cross margin
 * ranks, a trend at least 1.5 margins. The band's arrays hold band_cap_for(count) entries,
 * reserved by add, so that a rebuild during expire needs no memory; a band that fills up
 * with new distinct values drops a quarter of them from the end away from the cursor.
 *
 * Invariants between calls, for a window of n readings:
 *   - ring.n == n; big.n == the escapes in the ring; oldest_ts is the oldest reading's
 *     timestamp, 0 when n == 0; last_ts >= every timestamp in the ring;
 *   - n > 0: lo <= hi; the band's values are distinct, ascending, in [lo, hi], counts >= 1;
 *     below + (sum of counts) + above == n, below values < lo and above values > hi; every
 *     value of the window in [lo, hi] is counted in the band;
 *   - n > 0: the ceil(n / 2)-th and (for even n) the next value are in the band;
 *     before == below + the counts of entries 0..cur-1 and the cur-th entry holds the
 *     ceil(n / 2)-th value; cap >= band_cap_for(n) (median.c);
 *   - n == 0: nothing allocated, every field 0 but last_ts.
 * Costs: an add and an expire per reading removed are O(1), with a binary search and a
 * memmove of the band for a value inside it, plus rebuilds, O(n) each but rare; median2 is
 * O(1).
 *
 * Measured with 2,125 windows of 33,000 readings of 0-5 kW with many repeats, touched round
 * robin so that every touch is cold (ns per add + expire + median2, the spread of runs on a
 * shared 2-CPU machine; bytes per reading):
 *   - the former two 4-ary heaps with lazy removal: 390-680 ns, 20.3 bytes;
 *   - sorted blocks of 256 values with an index (a one-level B+-tree), the design planned
 *     first: 1,090-1,180 ns, 13.3 bytes. Each add and removal waits for the index and then
 *     for one cold block, ~1 KiB, and median2 for the cursor's block: at ~100-400 ns a cold
 *     miss here, those chains cost more than the heaps' mostly lazy removals;
 *   - this band: 115-185 ns, 8.9 bytes (no rebuild in 2,000 rounds). Values that rise
 *     steadily, the worst case, rebuild every ~770 readings: 320-360 ns (heaps: 380 ns).
 *     The margin trades these: count / 128 gives 90-105 ns but 510 ns on the trend, count /
 *     32 gives 290-370 ns (a wider band catches more operations) and 220-260 ns.
 * Memory for the unit test's 40,000-reading window in steady state: 9.3 bytes a reading
 * (ring 8.9, band 0.4); the unit test holds it to <= 11. The ring grows by an eighth and
 * shrinks when a fifth of it is idle, so that a window that stopped growing wastes ~6% of
 * it (growing by half wasted 27% for 33,000 readings) for O(1) copying per reading. An
 * emptied window frees all its memory.
 *
 * A zeroed struct is an empty window, so the struct can sit in a zeroed keyed-state record.
 *
 * Encoding (strom_debs_median_encode), integers little endian:
 *
 *   offset  size  field
 *   0       4     N, the number of readings (<= STROM_DEBS_MEDIAN_MAX_COUNT)
 *   4       4     last_ts, the largest timestamp ever added (so a restored window refuses
 *                 the same out-of-order timestamps as the original); >= every ts below
 *   8       ...   the readings, oldest first, each as two varints (LEB128, shortest
 *                 spelling, see strom_reader_varint): the timestamp minus the one before
 *                 (0 before the first), so timestamps never go back; then the value (mW,
 *                 <= STROM_DEBS_MEDIAN_VALUE_MAX) minus the one before (0 before the
 *                 first) as a 64-bit two's complement number, zigzag-coded (0, -1, 1, -2
 *                 as 0, 1, 2, 3). A plug's readings change little and often not at all:
 *                 2 to 5 bytes a reading, where fixed fields took 12, so that a checkpoint
 *                 of the 24 h windows is smaller and quicker to write and compress.
 *
 * The window holds one encoding (the band and its cursor are not in it), so equal
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
/* Most readings one window holds, so that ring positions and capacities fit in uint32 with
 * room to spare; a real 24 h plug window holds 15,000-45,000. */
#define STROM_DEBS_MEDIAN_MAX_COUNT ((UINT32_C(1) << 30) - 1)

/* A FIFO of uint64: a[head] is the oldest of n. Private to median.c. */
struct strom_debs_mring {
    uint64_t *a;
    uint32_t cap, head, n;
};

/* The band, see above. v is one allocation: cap values, then cap uint32 counts. Private to
 * median.c. */
struct strom_debs_mband {
    uint64_t lo, hi;
    uint64_t *v;
    uint32_t nd, cap;      /* distinct values, and room for that many */
    uint32_t below, above; /* values < lo, > hi */
    uint32_t cur, before;  /* the cursor */
};

struct strom_debs_median {
    uint32_t last_ts;   /* the largest timestamp ever added */
    uint32_t oldest_ts; /* the oldest reading's timestamp; 0 when empty */
    struct strom_debs_mring ring;
    struct strom_debs_mband band;
    struct strom_debs_mring big; /* the values >= 2^32 - 1, in arrival order */
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

/* Told each value that leaves, oldest first. */
typedef void (*strom_debs_median_leave_fn)(void *arg, uint64_t value);
/* strom_debs_median_expire that also calls fn(arg, value) for each reading it drops. */
size_t strom_debs_median_expire_each(struct strom_debs_median *m, int64_t upto,
                                     strom_debs_median_leave_fn fn, void *arg);

static inline size_t strom_debs_median_count(const struct strom_debs_median *m)
{
    return m->ring.n;
}

/* The median in half-mW (see above); 0 for an empty window, which has none. */
uint64_t strom_debs_median_median2(const struct strom_debs_median *m);

/* The timestamp of the oldest reading; 0 for an empty window. Reads only the struct. */
static inline uint32_t strom_debs_median_oldest_ts(const struct strom_debs_median *m)
{
    return m->oldest_ts;
}

/* Bytes of heap memory the window holds now. */
size_t strom_debs_median_bytes(const struct strom_debs_median *m);

/* Appends the encoding above to out. 0 or -ENOMEM (out then holds what it held before). */
int strom_debs_median_encode(const struct strom_debs_median *m, struct strom_buf *out);
/* Reads one encoding from in into m, an empty window (STROM_E_INVAL if it is not). 0,
 * STROM_E_CORRUPT, or -ENOMEM; on failure m is empty again. Reads exactly the encoding's
 * bytes on success. */
int strom_debs_median_decode(struct strom_debs_median *m, struct strom_reader *in);

#endif
