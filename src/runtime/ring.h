/*
 * runtime/ring.h: bounded single-producer single-consumer ring of pointers.
 *
 * The channel between two instances on one machine. Exactly one thread pushes and exactly
 * one thread pops at a time (the threads may change while the job is paused, since pausing
 * synchronizes). Capacity is fixed at init, a power of two: a full ring refuses with
 * -EAGAIN and the producer must wait; nothing is dropped and nothing grows.
 *
 * Each side caches the other side's index so that a push or pop touches the other side's
 * cache line only when the cached value says the ring looks full (empty).
 */
#ifndef STROM_RUNTIME_RING_H
#define STROM_RUNTIME_RING_H

#include <stdatomic.h>
#include <stddef.h>

struct strom_ring {
    _Alignas(64) _Atomic size_t head; /* next slot to pop; written by the consumer */
    size_t cached_tail;               /* consumer's copy of tail */
    _Alignas(64) _Atomic size_t tail; /* next slot to push; written by the producer */
    size_t cached_head;               /* producer's copy of head */
    _Alignas(64) size_t mask;
    void **slots;
};

/* capacity is rounded up to a power of two (at least 2). */
int strom_ring_init(struct strom_ring *r, size_t capacity);
void strom_ring_release(struct strom_ring *r);
/* 0, or -EAGAIN when full. */
int strom_ring_push(struct strom_ring *r, void *p);
/* The oldest pointer, or NULL when empty. */
void *strom_ring_pop(struct strom_ring *r);
/* How many pointers the ring holds; exact only when neither side is active. */
size_t strom_ring_count(struct strom_ring *r);

#endif
