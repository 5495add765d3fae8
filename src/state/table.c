/*
 * state/table.c: the records of one key group (the table design is in state_int.h), and
 * struct strom_kstate, which holds one table per owned key group.
 *
 * strom_kstate_get is the hottest call of a keyed operator (once per event), so it does no
 * allocation, no division and one hash: the key group arrives from the caller, the slot
 * index is the hash masked by a power of two, and a hit reads one slot.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "state/state.h"
#include "state/state_int.h"
#include "strom/error.h"

#define EMPTY STROM_STATE__EMPTY
#define MIN_CAP 8

/* The shared array of a table that has no records yet: one free slot (mask 0). Only its
 * key and ns are ever read; the first insert replaces it, since grow_at is 0. */
static const uint64_t empty_slot[2] = {EMPTY, EMPTY};

/* ns goes through a hash of its own before it meets the key, so that the records of one key
 * under consecutive namespaces (window starts, slice numbers) scatter over the table instead
 * of lining up into one long probe run. */
static inline uint64_t slot_hash(uint64_t key, uint64_t ns)
{
    return strom_hash64(key ^ strom_hash64(ns + 0x9e3779b97f4a7c15ULL));
}

/* About 70% of cap, by shifts. */
static inline size_t grow_at(size_t cap)
{
    return (cap >> 1) + (cap >> 3) + (cap >> 4);
}

static inline uint8_t *slot_at(const struct strom_state__table *t, size_t slot_size, size_t i)
{
    return t->slots + i * slot_size;
}

static inline int slot_free(const uint8_t *s)
{
    return strom_state__slot_key(s) == EMPTY && strom_state__slot_ns(s) == EMPTY;
}

static inline void slot_set(uint8_t *s, uint64_t key, uint64_t ns)
{
    uint64_t *w = (uint64_t *)(void *)s;
    w[0] = key;
    w[1] = ns;
}

/* The index of (key, ns), or of the free slot where it would go (*found = 0). (key, ns)
 * must not be (EMPTY, EMPTY). Ends because the table is never full. */
static inline size_t probe(const struct strom_state__table *t, size_t slot_size, uint64_t key,
                           uint64_t ns, int *found)
{
    size_t i = (size_t)slot_hash(key, ns) & t->mask;

    for (;;) {
        const uint8_t *s = slot_at(t, slot_size, i);
        uint64_t k = strom_state__slot_key(s), n = strom_state__slot_ns(s);
        if (k == key && n == ns) {
            *found = 1;
            return i;
        }
        if (k == EMPTY && n == EMPTY) {
            *found = 0;
            return i;
        }
        i = (i + 1) & t->mask;
    }
}

/* Moves every record into a new array of cap slots (plus the spare). On failure t is as
 * it was. */
static int table_resize(struct strom_state__table *t, size_t slot_size, size_t cap)
{
    struct strom_state__table nt = {0};
    size_t old_cap = t->mask + 1;
    int found;

    if (cap > SIZE_MAX / slot_size - 1)
        return -ENOMEM;
    nt.slots = malloc((cap + 1) * slot_size);
    if (!nt.slots)
        return -ENOMEM;
    nt.mask = cap - 1;
    nt.count = t->count;
    nt.grow_at = grow_at(cap);
    nt.spare_used = t->spare_used;
    for (size_t i = 0; i < cap; i++)
        slot_set(slot_at(&nt, slot_size, i), EMPTY, EMPTY);
    for (size_t i = 0; i < old_cap; i++) {
        const uint8_t *s = slot_at(t, slot_size, i);
        if (slot_free(s))
            continue;
        size_t j =
            probe(&nt, slot_size, strom_state__slot_key(s), strom_state__slot_ns(s), &found);
        memcpy(slot_at(&nt, slot_size, j), s, slot_size);
    }
    if (t->spare_used)
        memcpy(slot_at(&nt, slot_size, cap), slot_at(t, slot_size, old_cap), slot_size);
    if (t->grow_at)
        free(t->slots);
    *t = nt;
    return 0;
}

static int table_grow(struct strom_state__table *t, size_t slot_size)
{
    return table_resize(t, slot_size, t->grow_at ? (t->mask + 1) * 2 : MIN_CAP);
}

/* The record of (key, ns); when absent and create, a new zeroed one (*made = 1). */
static int table_get(struct strom_state__table *t, size_t slot_size, uint64_t key, uint64_t ns,
                     int create, void **rec, int *made)
{
    uint8_t *s;
    size_t i;
    int found, rc;

    if (key == EMPTY && ns == EMPTY) {
        if (!t->spare_used) {
            if (!create)
                return 0;
            /* The shared empty slot has no spare behind it. */
            if (!t->grow_at || t->count >= t->grow_at) {
                rc = table_grow(t, slot_size);
                if (rc)
                    return rc;
            }
            s = slot_at(t, slot_size, t->mask + 1);
            slot_set(s, key, ns);
            memset(s + STROM_STATE__SLOT_HEADER, 0, slot_size - STROM_STATE__SLOT_HEADER);
            t->spare_used = 1;
            t->count++;
            *made = 1;
        }
        *rec = slot_at(t, slot_size, t->mask + 1) + STROM_STATE__SLOT_HEADER;
        return 0;
    }
    i = probe(t, slot_size, key, ns, &found);
    if (found) {
        *rec = slot_at(t, slot_size, i) + STROM_STATE__SLOT_HEADER;
        return 0;
    }
    if (!create)
        return 0;
    if (t->count >= t->grow_at) {
        rc = table_grow(t, slot_size);
        if (rc)
            return rc;
        i = probe(t, slot_size, key, ns, &found);
    }
    s = slot_at(t, slot_size, i);
    slot_set(s, key, ns);
    memset(s + STROM_STATE__SLOT_HEADER, 0, slot_size - STROM_STATE__SLOT_HEADER);
    t->count++;
    *made = 1;
    *rec = s + STROM_STATE__SLOT_HEADER;
    return 0;
}

/* Removes (key, ns) if present. Backward shift: each later entry of the run moves into the
 * hole when the hole lies on its probe path (between its home slot and where it is). */
static void table_remove(struct strom_state__table *t, size_t slot_size,
                         const struct strom_record_codec *codec, uint64_t key, uint64_t ns)
{
    size_t hole, j;
    int found;

    if (key == EMPTY && ns == EMPTY) {
        if (!t->spare_used)
            return;
        if (codec)
            codec->release(slot_at(t, slot_size, t->mask + 1) + STROM_STATE__SLOT_HEADER);
        t->spare_used = 0;
        t->count--;
        return;
    }
    hole = probe(t, slot_size, key, ns, &found);
    if (!found)
        return;
    if (codec)
        codec->release(slot_at(t, slot_size, hole) + STROM_STATE__SLOT_HEADER);
    for (j = (hole + 1) & t->mask;; j = (j + 1) & t->mask) {
        uint8_t *s = slot_at(t, slot_size, j);
        if (slot_free(s))
            break;
        size_t home =
            (size_t)slot_hash(strom_state__slot_key(s), strom_state__slot_ns(s)) & t->mask;
        if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
            memcpy(slot_at(t, slot_size, hole), s, slot_size);
            hole = j;
        }
    }
    slot_set(slot_at(t, slot_size, hole), EMPTY, EMPTY);
    t->count--;
}

int strom_state__table_new(struct strom_state__table **out, size_t slot_size, size_t expect)
{
    struct strom_state__table *t;
    size_t cap = MIN_CAP;
    int rc = 0;

    *out = NULL;
    t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->slots = (uint8_t *)(uintptr_t)empty_slot;
    if (expect) {
        while (grow_at(cap) < expect) {
            if (cap > SIZE_MAX / 4) {
                rc = -ENOMEM;
                goto out;
            }
            cap *= 2;
        }
        rc = table_resize(t, slot_size, cap);
    }
out:
    if (rc)
        free(t);
    else
        *out = t;
    return rc;
}

void strom_state__table_free(struct strom_state__table *t, size_t slot_size,
                             const struct strom_record_codec *codec)
{
    if (!t)
        return;
    if (codec) {
        size_t pos = 0;
        uint8_t *s;
        while ((s = strom_state__table_next(t, slot_size, &pos)))
            codec->release(s + STROM_STATE__SLOT_HEADER);
    }
    if (t->grow_at)
        free(t->slots);
    free(t);
}

int strom_state__table_insert(struct strom_state__table *t, size_t slot_size, uint64_t key,
                              uint64_t ns, void **rec)
{
    int made = 0;
    int rc = table_get(t, slot_size, key, ns, 1, rec, &made);

    if (!rc && !made)
        rc = STROM_E_EXISTS;
    return rc;
}

uint8_t *strom_state__table_next(const struct strom_state__table *t, size_t slot_size,
                                 size_t *pos)
{
    size_t cap = t->mask + 1;

    while (*pos < cap) {
        uint8_t *s = slot_at(t, slot_size, (*pos)++);
        if (!slot_free(s))
            return s;
    }
    if (*pos == cap && t->spare_used)
        return slot_at(t, slot_size, (*pos)++);
    return NULL;
}

int strom_kstate_new(struct strom_kstate **out, uint32_t key_groups, size_t record_size,
                     const struct strom_record_codec *codec)
{
    struct strom_kstate *ks = NULL;
    int rc = 0;

    *out = NULL;
    if (!key_groups || record_size > STROM_STATE__MAX_RECORD ||
        (codec && (!codec->encode || !codec->decode || !codec->release))) {
        rc = STROM_E_INVAL;
        goto out;
    }
    ks = calloc(1, sizeof *ks);
    if (!ks) {
        rc = -ENOMEM;
        goto out;
    }
    ks->tables = calloc(key_groups, sizeof *ks->tables);
    if (!ks->tables) {
        rc = -ENOMEM;
        goto out;
    }
    ks->key_groups = key_groups;
    ks->record_size = record_size;
    ks->slot_size = STROM_STATE__SLOT_HEADER + ((record_size + 7) & ~(size_t)7);
    ks->codec = codec;
out:
    if (rc)
        strom_kstate_free(ks);
    else
        *out = ks;
    return rc;
}

void strom_kstate_free(struct strom_kstate *ks)
{
    if (!ks)
        return;
    if (ks->tables)
        for (uint32_t kg = 0; kg < ks->key_groups; kg++)
            strom_state__table_free(ks->tables[kg], ks->slot_size, ks->codec);
    free(ks->tables);
    strom_state__timers_release(&ks->timers);
    free(ks);
}

int strom_kstate_own(struct strom_kstate *ks, uint32_t kg)
{
    if (kg >= ks->key_groups)
        return STROM_E_KEYGROUP;
    if (ks->tables[kg])
        return STROM_E_EXISTS;
    return strom_state__table_new(&ks->tables[kg], ks->slot_size, 0);
}

int strom_kstate_owns(const struct strom_kstate *ks, uint32_t kg)
{
    return kg < ks->key_groups && ks->tables[kg] != NULL;
}

void strom_kstate_drop(struct strom_kstate *ks, uint32_t kg)
{
    if (!strom_kstate_owns(ks, kg))
        return;
    strom_state__table_free(ks->tables[kg], ks->slot_size, ks->codec);
    ks->tables[kg] = NULL;
    strom_state__timers_drop(&ks->timers, kg);
}

void *strom_kstate_get(struct strom_kstate *ks, uint32_t kg, uint64_t key, uint64_t ns,
                       int create, int *created, int *rc)
{
    struct strom_state__table *t;
    void *rec = NULL;
    int made = 0, r;

    if (kg >= ks->key_groups || !(t = ks->tables[kg]))
        r = STROM_E_KEYGROUP;
    else
        r = table_get(t, ks->slot_size, key, ns, create, &rec, &made);
    if (created)
        *created = made;
    if (rc)
        *rc = r;
    return rec;
}

int strom_kstate_remove(struct strom_kstate *ks, uint32_t kg, uint64_t key, uint64_t ns)
{
    if (!strom_kstate_owns(ks, kg))
        return STROM_E_KEYGROUP;
    table_remove(ks->tables[kg], ks->slot_size, ks->codec, key, ns);
    return 0;
}

size_t strom_kstate_count(const struct strom_kstate *ks, uint32_t kg)
{
    return strom_kstate_owns(ks, kg) ? ks->tables[kg]->count : 0;
}

int strom_kstate_foreach(struct strom_kstate *ks,
                         int (*fn)(void *arg, uint64_t key, uint64_t ns, void *rec), void *arg)
{
    for (uint32_t kg = 0; kg < ks->key_groups; kg++) {
        const struct strom_state__table *t = ks->tables[kg];
        size_t pos = 0;
        uint8_t *s;
        if (!t)
            continue;
        while ((s = strom_state__table_next(t, ks->slot_size, &pos))) {
            int rc = fn(arg, strom_state__slot_key(s), strom_state__slot_ns(s),
                        s + STROM_STATE__SLOT_HEADER);
            if (rc)
                return rc;
        }
    }
    return 0;
}
