/* apps/debs14/plugs.c: the sorted array of a house's plugs (plugs.h). */
#include "apps/debs14/plugs.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t id_at(const struct strom_debs_plugs *set, size_t elem, uint32_t i)
{
    uint64_t id;
    memcpy(&id, strom_debs_plugs_at(set, elem, i), sizeof id);
    return id;
}

/* ids from the elements, after a decoder filled them (or the first time). */
static int reindex(struct strom_debs_plugs *set, size_t elem)
{
    uint64_t *ids = realloc(set->ids, (size_t)(set->cap ? set->cap : 1) * sizeof *ids);
    if (!ids)
        return -1;
    set->ids = ids;
    for (uint32_t i = 0; i < set->n; i++)
        ids[i] = id_at(set, elem, i);
    set->nids = set->n;
    return 0;
}

void *strom_debs_plugs_get(struct strom_debs_plugs *set, size_t elem, uint64_t id,
                           int *inserted)
{
    uint32_t lo = 0, n = set->n;
    char *p;

    if (inserted)
        *inserted = 0;
    if (set->nids != set->n || !set->ids) {
        if (reindex(set, elem))
            return NULL;
    }
    if (set->last < n && set->ids[set->last] == id)
        return strom_debs_plugs_at(set, elem, set->last);
    /* branch-free lower bound: the first index whose id is >= id */
    while (n > 1) {
        uint32_t half = n / 2;
        lo = set->ids[lo + half - 1] < id ? lo + half : lo;
        n -= half;
    }
    if (n == 1 && set->ids[lo] < id)
        lo++;
    if (lo == set->n || set->ids[lo] != id) {
        if (set->n == set->cap) {
            uint32_t cap = set->cap ? set->cap * 2 : 16;
            void *na = realloc(set->a, (size_t)cap * elem);
            uint64_t *ni;
            if (!na)
                return NULL;
            set->a = na;
            if (!(ni = realloc(set->ids, (size_t)cap * sizeof *ni)))
                return NULL; /* a stays larger than needed; cap unchanged */
            set->ids = ni;
            set->cap = cap;
        }
        p = strom_debs_plugs_at(set, elem, lo);
        memmove(p + elem, p, (size_t)(set->n - lo) * elem);
        memmove(set->ids + lo + 1, set->ids + lo, (size_t)(set->n - lo) * sizeof *set->ids);
        memset(p, 0, elem);
        memcpy(p, &id, sizeof id);
        set->ids[lo] = id;
        set->n++;
        set->nids = set->n;
        if (inserted)
            *inserted = 1;
    }
    set->last = lo;
    return strom_debs_plugs_at(set, elem, lo);
}

void strom_debs_plugs_free(struct strom_debs_plugs *set)
{
    free(set->a);
    free(set->ids);
    memset(set, 0, sizeof *set);
}
