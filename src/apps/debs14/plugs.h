/*
 * apps/debs14/plugs.h: a house's plugs, as a sorted array of records that start with the
 * plug's id (household << 32 | plug). Sorted, so that walking it visits plugs in
 * (household, plug) order, the order in which the spec adds their averages.
 * The ids are also kept apart, in their own sorted array, so that a search reads a few
 * consecutive cache lines instead of one line per probe among large records. Code that
 * fills a and n directly (a decoder) need not fill ids: the next get rebuilds them.
 * Ownership: the caller owns the set; strom_debs_plugs_free frees its arrays (after the
 * caller released what the elements point to).
 */
#ifndef STROM_APPS_DEBS14_PLUGS_H
#define STROM_APPS_DEBS14_PLUGS_H

#include <stddef.h>
#include <stdint.h>

struct strom_debs_plugs {
    void *a;       /* n elements of elem bytes, the first 8 of each its id, ascending */
    uint32_t n, cap;
    uint32_t last;  /* the index found last: rows of one plug tend to come together */
    uint64_t *ids;  /* the ids of the elements, cap of them; valid for the first nids */
    uint32_t nids;  /* == n when ids is up to date */
};

/* The element of id, inserted zeroed (with its id) when missing, which *inserted (when not
 * NULL) tells; NULL on -ENOMEM. Pointers to elements are valid until the next insert. */
void *strom_debs_plugs_get(struct strom_debs_plugs *set, size_t elem, uint64_t id,
                           int *inserted);

/* Frees the arrays; the set is empty afterwards. */
void strom_debs_plugs_free(struct strom_debs_plugs *set);

static inline void *strom_debs_plugs_at(const struct strom_debs_plugs *set, size_t elem,
                                        uint32_t i)
{
    return (char *)set->a + (size_t)i * elem;
}

#endif
