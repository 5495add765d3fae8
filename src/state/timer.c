/*
 * state/timer.c: the timers of a kstate.
 *
 * A binary min-heap by (time, key, ns) gives the next timer to fire in O(1) and takes
 * O(log n) to add or pop. Beside it, an open-addressing set of the same (time, key, ns)
 * refuses a timer that is already pending: operators set "fire at the end of this window"
 * once per event, and without the set the heap would hold one copy per event until the
 * window closed. With it, a duplicate costs one hash lookup, and a timer fires once.
 *
 * A set slot stores its entry's hash with the top bit set; 0 marks a free slot. Keeping
 * the hash lets the set grow and shift entries back on removal without rehashing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "state/state.h"
#include "state/state_int.h"
#include "strom/error.h"

struct strom_state__tset_slot {
    int64_t time;
    uint64_t key;
    uint64_t ns;
    uint64_t tag; /* hash | TAG_USED; 0 when free */
};

#define TAG_USED (1ULL << 63)
#define MIN_CAP 16

static inline size_t grow_at(size_t cap)
{
    return (cap >> 1) + (cap >> 3) + (cap >> 4);
}

static inline uint64_t timer_tag(int64_t time, uint64_t key, uint64_t ns)
{
    uint64_t h = strom_hash64(key ^ strom_hash64(ns ^ strom_hash64((uint64_t)time)));
    return h | TAG_USED;
}

static inline int tset_match(const struct strom_state__tset_slot *s, uint64_t tag, int64_t time,
                             uint64_t key, uint64_t ns)
{
    return s->tag == tag && s->time == time && s->key == key && s->ns == ns;
}

/* The index of (time, key, ns) in the set, or of the free slot where it would go. */
static size_t tset_probe(const struct strom_state__timers *tm, uint64_t tag, int64_t time,
                         uint64_t key, uint64_t ns, int *found)
{
    size_t i = (size_t)tag & tm->set_mask;

    for (;; i = (i + 1) & tm->set_mask) {
        const struct strom_state__tset_slot *s = &tm->set[i];
        if (!s->tag) {
            *found = 0;
            return i;
        }
        if (tset_match(s, tag, time, key, ns)) {
            *found = 1;
            return i;
        }
    }
}

static void tset_put(struct strom_state__timers *tm, const struct strom_state__timer *t)
{
    uint64_t tag = timer_tag(t->time, t->key, t->ns);
    int found;
    size_t i = tset_probe(tm, tag, t->time, t->key, t->ns, &found);

    if (found)
        return;
    tm->set[i] = (struct strom_state__tset_slot){t->time, t->key, t->ns, tag};
    tm->set_count++;
}

static void tset_remove(struct strom_state__timers *tm, const struct strom_state__timer *t)
{
    uint64_t tag = timer_tag(t->time, t->key, t->ns);
    int found;
    size_t hole = tset_probe(tm, tag, t->time, t->key, t->ns, &found), j;

    if (!found)
        return;
    /* Backward shift, as in table.c: no tombstones. */
    for (j = (hole + 1) & tm->set_mask; tm->set[j].tag; j = (j + 1) & tm->set_mask) {
        size_t home = (size_t)tm->set[j].tag & tm->set_mask;
        if (((j - home) & tm->set_mask) >= ((j - hole) & tm->set_mask)) {
            tm->set[hole] = tm->set[j];
            hole = j;
        }
    }
    tm->set[hole].tag = 0;
    tm->set_count--;
}

/* Rebuilds the set with cap slots from its entries. On failure the set is unchanged. */
static int tset_resize(struct strom_state__timers *tm, size_t cap)
{
    struct strom_state__tset_slot *old = tm->set;
    size_t old_cap = old ? tm->set_mask + 1 : 0;

    if (cap > SIZE_MAX / sizeof *old)
        return -ENOMEM;
    tm->set = calloc(cap, sizeof *old);
    if (!tm->set) {
        tm->set = old;
        return -ENOMEM;
    }
    tm->set_mask = cap - 1;
    tm->set_grow_at = grow_at(cap);
    for (size_t i = 0; i < old_cap; i++) {
        int found;
        if (!old[i].tag)
            continue;
        size_t j = tset_probe(tm, old[i].tag, old[i].time, old[i].key, old[i].ns, &found);
        tm->set[j] = old[i];
    }
    free(old);
    return 0;
}

static inline int timer_less(const struct strom_state__timer *a,
                             const struct strom_state__timer *b)
{
    if (a->time != b->time)
        return a->time < b->time;
    if (a->key != b->key)
        return a->key < b->key;
    return a->ns < b->ns;
}

static void heap_up(struct strom_state__timer *h, size_t i)
{
    struct strom_state__timer t = h[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_less(&t, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = t;
}

static void heap_down(struct strom_state__timer *h, size_t n, size_t i)
{
    struct strom_state__timer t = h[i];

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && timer_less(&h[c + 1], &h[c]))
            c++;
        if (!timer_less(&h[c], &t))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = t;
}

int strom_state__timer_cmp(const struct strom_state__timer *a,
                           const struct strom_state__timer *b)
{
    return timer_less(a, b) ? -1 : timer_less(b, a) ? 1 : 0;
}

int strom_state__timers_reserve(struct strom_state__timers *tm, size_t more)
{
    size_t cap;
    int rc;

    if (more > SIZE_MAX / 2 / sizeof *tm->heap - tm->n)
        return -ENOMEM;
    if (tm->n + more > tm->cap) {
        struct strom_state__timer *h;
        cap = tm->cap ? tm->cap : MIN_CAP;
        while (cap < tm->n + more)
            cap *= 2;
        h = realloc(tm->heap, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        tm->heap = h;
        tm->cap = cap;
    }
    /* The set holds exactly the heap's entries, so n + more must stay below its limit. */
    if (!tm->set || tm->n + more > tm->set_grow_at) {
        cap = tm->set ? tm->set_mask + 1 : MIN_CAP;
        while (grow_at(cap) < tm->n + more)
            cap *= 2;
        rc = tset_resize(tm, cap);
        if (rc)
            return rc;
    }
    return 0;
}

void strom_state__timers_insert(struct strom_state__timers *tm,
                                const struct strom_state__timer *t)
{
    tm->heap[tm->n] = *t;
    heap_up(tm->heap, tm->n);
    tm->n++;
    tset_put(tm, t);
}

void strom_state__timers_drop(struct strom_state__timers *tm, uint32_t kg)
{
    size_t kept = 0;

    for (size_t i = 0; i < tm->n; i++)
        if (tm->heap[i].kg != kg)
            tm->heap[kept++] = tm->heap[i];
    if (kept == tm->n)
        return;
    tm->n = kept;
    /* Floyd's bottom-up heapify: O(n), cheaper than n pushes. */
    for (size_t i = kept / 2; i-- > 0;)
        heap_down(tm->heap, kept, i);
    /* Refill the set from the heap; it only shrinks, so no allocation can fail. */
    memset(tm->set, 0, (tm->set_mask + 1) * sizeof *tm->set);
    tm->set_count = 0;
    for (size_t i = 0; i < kept; i++)
        tset_put(tm, &tm->heap[i]);
}

void strom_state__timers_release(struct strom_state__timers *tm)
{
    free(tm->heap);
    free(tm->set);
    memset(tm, 0, sizeof *tm);
}

int strom_kstate_timer_add(struct strom_kstate *ks, uint32_t kg, uint64_t key, uint64_t ns,
                           int64_t time)
{
    struct strom_state__timers *tm = &ks->timers;
    struct strom_state__timer t = {time, key, ns, kg};
    int found = 0, rc;

    if (!strom_kstate_owns(ks, kg))
        return STROM_E_KEYGROUP;
    if (tm->set)
        tset_probe(tm, timer_tag(time, key, ns), time, key, ns, &found);
    if (found)
        return 0;
    rc = strom_state__timers_reserve(tm, 1);
    if (rc)
        return rc;
    strom_state__timers_insert(tm, &t);
    return 0;
}

int strom_kstate_timer_pop(struct strom_kstate *ks, int64_t watermark, uint64_t *key,
                           uint64_t *ns, int64_t *time)
{
    struct strom_state__timers *tm = &ks->timers;
    struct strom_state__timer top;

    if (!tm->n || tm->heap[0].time > watermark)
        return 0;
    top = tm->heap[0];
    tset_remove(tm, &top);
    tm->heap[0] = tm->heap[--tm->n];
    if (tm->n)
        heap_down(tm->heap, tm->n, 0);
    *key = top.key;
    *ns = top.ns;
    *time = top.time;
    return 1;
}

size_t strom_kstate_timer_count(const struct strom_kstate *ks)
{
    return ks->timers.n;
}
