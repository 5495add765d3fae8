/* runtime/ring.c: bounded SPSC ring (see ring.h). */
#include "runtime/ring.h"

#include <errno.h>
#include <stdlib.h>

int strom_ring_init(struct strom_ring *r, size_t capacity)
{
    size_t cap = 2;
    while (cap < capacity)
        cap <<= 1;
    r->slots = calloc(cap, sizeof *r->slots);
    if (!r->slots)
        return -ENOMEM;
    r->mask = cap - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->cached_head = 0;
    r->cached_tail = 0;
    return 0;
}

void strom_ring_release(struct strom_ring *r)
{
    free(r->slots);
    r->slots = NULL;
}

int strom_ring_push(struct strom_ring *r, void *p)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail - r->cached_head > r->mask) {
        r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail - r->cached_head > r->mask)
            return -EAGAIN;
    }
    r->slots[tail & r->mask] = p;
    /* release: the consumer that sees the new tail sees the slot and what p points to */
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return 0;
}

void *strom_ring_pop(struct strom_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    void *p;
    if (head == r->cached_tail) {
        r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head == r->cached_tail)
            return NULL;
    }
    p = r->slots[head & r->mask];
    /* release: the producer may reuse the slot only after we have read it */
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return p;
}

size_t strom_ring_count(struct strom_ring *r)
{
    return atomic_load_explicit(&r->tail, memory_order_acquire) -
           atomic_load_explicit(&r->head, memory_order_acquire);
}
