/*
 * core/xxh64.c: XXH64 with seed 0 (Yann Collet's xxHash, 64-bit variant), one-shot and
 * streaming (see xxh64.h).
 *
 * Input is read byte by byte into little-endian words, so the result is the same on every
 * host and no load is unaligned; compilers turn the byte loops into single loads.
 */
#include <string.h>

#include "core/xxh64.h"

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t rd32(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
}

static uint64_t round1(uint64_t acc, uint64_t in)
{
    acc += in * P2;
    acc = rotl(acc, 31);
    return acc * P1;
}

static uint64_t merge(uint64_t acc, uint64_t v)
{
    acc ^= round1(0, v);
    return acc * P1 + P4;
}

void strom_xxh64_init(struct strom_xxh64 *s)
{
    memset(s, 0, sizeof *s);
    s->v[0] = P1 + P2;
    s->v[1] = P2;
    s->v[2] = 0;
    s->v[3] = -P1;
}

/* Consumes whole 32-byte stripes of p; returns how many bytes it took. */
static size_t stripes(struct strom_xxh64 *s, const uint8_t *p, size_t n)
{
    uint64_t v0 = s->v[0], v1 = s->v[1], v2 = s->v[2], v3 = s->v[3];
    size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        v0 = round1(v0, rd64(p + i));
        v1 = round1(v1, rd64(p + i + 8));
        v2 = round1(v2, rd64(p + i + 16));
        v3 = round1(v3, rd64(p + i + 24));
    }
    s->v[0] = v0;
    s->v[1] = v1;
    s->v[2] = v2;
    s->v[3] = v3;
    return i;
}

void strom_xxh64_update(struct strom_xxh64 *s, const void *data, size_t n)
{
    const uint8_t *p = data;

    if (n == 0)
        return;
    s->total += n;
    if (s->memsize + n < 32) {
        memcpy(s->mem + s->memsize, p, n);
        s->memsize += n;
        return;
    }
    if (s->memsize) {
        size_t take = 32 - s->memsize;
        memcpy(s->mem + s->memsize, p, take);
        stripes(s, s->mem, 32);
        p += take;
        n -= take;
        s->memsize = 0;
    }
    size_t used = stripes(s, p, n);
    memcpy(s->mem, p + used, n - used);
    s->memsize = n - used;
}

uint64_t strom_xxh64_digest(const struct strom_xxh64 *s)
{
    const uint8_t *p = s->mem;
    size_t left = s->memsize;
    uint64_t h;

    if (s->total >= 32) {
        h = rotl(s->v[0], 1) + rotl(s->v[1], 7) + rotl(s->v[2], 12) + rotl(s->v[3], 18);
        for (int i = 0; i < 4; i++)
            h = merge(h, s->v[i]);
    } else {
        h = P5;
    }
    h += s->total;
    for (; left >= 8; p += 8, left -= 8) {
        h ^= round1(0, rd64(p));
        h = rotl(h, 27) * P1 + P4;
    }
    if (left >= 4) {
        h ^= rd32(p) * P1;
        h = rotl(h, 23) * P2 + P3;
        p += 4;
        left -= 4;
    }
    for (; left; p++, left--) {
        h ^= *p * P5;
        h = rotl(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

uint64_t strom_xxh64(const void *p, size_t n)
{
    struct strom_xxh64 s;

    strom_xxh64_init(&s);
    strom_xxh64_update(&s, p, n);
    return strom_xxh64_digest(&s);
}
