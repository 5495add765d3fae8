/*
 * core/xxh64.h: XXH64 with seed 0 (the 64-bit xxHash), one-shot and streaming: the checksum
 * of snapshots and checkpoint files. It runs at memory speed, so that checking every byte
 * of a large state costs little next to producing it, and catches the damage a disk or a
 * cut file does (it is no defence against forgery: that is what the channels' and sealed
 * state's authentication is for). The result is the same on every host.
 */
#ifndef STROM_CORE_XXH64_H
#define STROM_CORE_XXH64_H

#include <stddef.h>
#include <stdint.h>

struct strom_xxh64 {
    uint64_t v[4];
    uint64_t total;
    uint8_t mem[32];
    size_t memsize;
};

void strom_xxh64_init(struct strom_xxh64 *s);
void strom_xxh64_update(struct strom_xxh64 *s, const void *p, size_t n);
uint64_t strom_xxh64_digest(const struct strom_xxh64 *s);
uint64_t strom_xxh64(const void *p, size_t n);

#endif
