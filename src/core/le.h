/*
 * core/le.h: little-endian integers in byte buffers, byte by byte, so that the bytes are
 * the same on every host and no access is unaligned (compilers turn the loops into single
 * loads and stores). For the wire forms that cross processes: net frames, runtime batches.
 */
#ifndef STROM_CORE_LE_H
#define STROM_CORE_LE_H

#include <stdint.h>

static inline void strom_le_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void strom_le_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t strom_le_get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t strom_le_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#endif
