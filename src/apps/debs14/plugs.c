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

void *strom_debs_plugs_get(struct strom_debs_plugs *set, size_t elem, uint64_t id,
                           int *inserted)
{
    uint32_t lo = 0, hi = set->n;
    char *p;

    if (inserted)
        *inserted = 0;
    if (set->last < set->n && id_at(set, elem, set->last) == id)
        return strom_debs_plugs_at(set, elem, set->last);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (id_at(set, elem, mid) < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == set->n || id_at(set, elem, lo) != id) {
        if (set->n == set->cap) {
            uint32_t cap = set->cap ? set->cap * 2 : 16;
            void *na = realloc(set->a, (size_t)cap * elem);
            if (!na)
                return NULL;
            set->a = na;
            set->cap = cap;
        }
        p = strom_debs_plugs_at(set, elem, lo);
        memmove(p + elem, p, (size_t)(set->n - lo) * elem);
        memset(p, 0, elem);
        memcpy(p, &id, sizeof id);
        set->n++;
        if (inserted)
            *inserted = 1;
    }
    set->last = lo;
    return strom_debs_plugs_at(set, elem, lo);
}
