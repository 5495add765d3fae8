/*
 * tests/fuzz/fuzz_batch.c: libFuzzer target for the wire form of a batch between processes
 * (runtime/remote.c), what a worker reads from another worker.
 *
 * Input: the bytes of one encoded batch, decoded for a job of 16 events a batch.
 * Checked: the decoder never reads past the input; a batch it accepts has at most 16
 * events and only known flags, and encodes back to exactly the input bytes.
 */
#include <stdint.h>
#include <string.h>

#include "runtime/runtime_int.h"

#include "fuzz.h"

#define MAX_EVENTS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct strom_batch *b;
    static uint8_t again[STROM_BATCH_WIRE_HDR + MAX_EVENTS * STROM_EVENT_WIRE];
    uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees any overread */

    CHECK(copy);
    if (!b)
        CHECK((b = malloc(sizeof *b + MAX_EVENTS * sizeof(struct strom_event))));
    memcpy(copy, data, size);
    if (strom_rt__batch_decode(copy, size, MAX_EVENTS, b) == 0) {
        CHECK(b->n <= MAX_EVENTS);
        CHECK(!(b->flags & ~(uint32_t)(STROM_BATCH_WM | STROM_BATCH_END | STROM_BATCH_BARRIER)));
        CHECK(strom_rt__batch_encode(b, again) == size);
        CHECK(memcmp(again, copy, size) == 0);
    }
    free(copy);
    return 0;
}
