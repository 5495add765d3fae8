/*
 * core/hash.h: hashing of keys.
 *
 * A key's key group must be the same on every process of a job, on every run: the hash is
 * a fixed function of the 64-bit key (the splitmix64 finalizer), never seeded per process.
 * The key group is the high bits of the hash scaled to G (Lemire's fast range), so G need
 * not be a power of two.
 */
#ifndef STROM_CORE_HASH_H
#define STROM_CORE_HASH_H

#include <stdint.h>

static inline uint64_t strom_hash64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static inline uint32_t strom_hash_keygroup(uint64_t hash, uint32_t key_groups)
{
    return (uint32_t)(((hash >> 32) * (uint64_t)key_groups) >> 32);
}

#endif
