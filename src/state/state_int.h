/*
 * state/state_int.h: what the files of the state module share, and nothing else does.
 *
 *   table.c     the hash table of one key group; struct strom_kstate around the tables
 *   timer.c     the timers of a kstate: a min-heap, and a set that refuses duplicates
 *   snapshot.c  the snapshot format of one key group (byte table at the top of that file)
 *
 * Tables. One per owned key group: open addressing with linear probing over a
 * power-of-two array of slots, grown (doubled) before the load passes about 70%. A slot is
 *
 *   0   8   key
 *   8   8   ns
 *   16  R   the record (record_size bytes, padded with zeroes to a multiple of 8)
 *
 * so that a lookup that hits touches a single place in memory, and a record is 8-aligned.
 * A slot whose key and ns are both STROM_STATE__EMPTY is free: every 64-bit key and ns is
 * a valid address, so no value can be reserved; instead the one record whose (key, ns)
 * really is (EMPTY, EMPTY) lives in a spare slot after the probed ones, where no probe
 * ever looks. Removal shifts the later entries of the probe run back (no tombstones), so a
 * lookup always stops at the first free slot and a table full of churn stays fast.
 *
 * A table that has never held a record points at one shared, read-only free slot, so that
 * owning many key groups costs no memory until they are used, and lookups need no test for
 * "no array yet": the first insert finds the table due to grow and allocates.
 *
 * Timers. One binary min-heap per kstate over (time, key, ns), each entry tagged with its
 * key group, beside an open-addressing set of the same entries. The set makes adding a
 * timer that is already there a no-op, so an operator may set the same timer for every
 * event of a window without the heap growing with the event count.
 *
 * Threads: as state/state.h (one thread at a time per kstate). Nothing here locks.
 */
#ifndef STROM_STATE_STATE_INT_H
#define STROM_STATE_STATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "strom/state.h"

/* (EMPTY, EMPTY) marks a free slot; an arbitrary constant ("STROM-NO") that real keys are
 * unlikely to use, since that one record takes a slower path. */
#define STROM_STATE__EMPTY 0x5354524f4d2d4e4fULL
#define STROM_STATE__SLOT_HEADER 16
/* Well below the snapshot's u32 length; a bigger record is a mistake, not a record. */
#define STROM_STATE__MAX_RECORD ((size_t)1 << 30)

struct strom_state__table {
    uint8_t *slots; /* mask + 2 slots: mask + 1 probed, then the spare */
    size_t mask;
    size_t count;   /* records, the spare's included */
    size_t grow_at; /* grow before count reaches this; 0 for the shared empty slot */
    int spare_used; /* the spare slot holds the (EMPTY, EMPTY) record */
};

struct strom_state__timer {
    int64_t time;
    uint64_t key;
    uint64_t ns;
    uint32_t kg;
};

struct strom_state__tset_slot; /* timer.c */

struct strom_state__timers {
    struct strom_state__timer *heap; /* min-heap by (time, key, ns) */
    size_t n, cap;
    struct strom_state__tset_slot *set; /* the heap's entries, to refuse duplicates */
    size_t set_mask, set_count, set_grow_at;
};

struct strom_kstate {
    struct strom_state__table **tables; /* key_groups entries; NULL: not owned */
    uint32_t key_groups;
    size_t record_size;
    size_t slot_size; /* STROM_STATE__SLOT_HEADER + record_size rounded up to 8 */
    const struct strom_record_codec *codec;
    struct strom_state__timers timers;
};

static inline uint64_t strom_state__slot_key(const uint8_t *slot)
{
    return ((const uint64_t *)(const void *)slot)[0];
}

static inline uint64_t strom_state__slot_ns(const uint8_t *slot)
{
    return ((const uint64_t *)(const void *)slot)[1];
}

/* A table sized so that expect records fit without growing. */
int strom_state__table_new(struct strom_state__table **out, size_t slot_size, size_t expect);
/* Frees t, releasing every record through codec when there is one. Accepts NULL. */
void strom_state__table_free(struct strom_state__table *t, size_t slot_size,
                             const struct strom_record_codec *codec);
/* Adds a zeroed record for (key, ns) and points *rec at it; STROM_E_EXISTS if there is one
 * already, -ENOMEM. */
int strom_state__table_insert(struct strom_state__table *t, size_t slot_size, uint64_t key,
                              uint64_t ns, void **rec);
/* The next used slot from *pos on (start at 0), the spare last; NULL after the last. */
uint8_t *strom_state__table_next(const struct strom_state__table *t, size_t slot_size,
                                 size_t *pos);

/* Orders timers by (time, key, ns): negative, 0 or positive. */
int strom_state__timer_cmp(const struct strom_state__timer *a,
                           const struct strom_state__timer *b);
/* Room for `more` new timers, so that as many inserts cannot fail. */
int strom_state__timers_reserve(struct strom_state__timers *tm, size_t more);
/* Adds a timer that is not there yet, into room made by strom_state__timers_reserve. */
void strom_state__timers_insert(struct strom_state__timers *tm,
                                const struct strom_state__timer *t);
/* Forgets every timer of key group kg. */
void strom_state__timers_drop(struct strom_state__timers *tm, uint32_t kg);
void strom_state__timers_release(struct strom_state__timers *tm);

#endif
