/*
 * tests/fuzz/fuzz_frame.c: libFuzzer target for strom_frame_decode (net/frame.c).
 *
 * Input: the bytes of one ZeroMQ message, decoded with a maximum DATA payload of 4096.
 * Checked on every input: decode never reads past the input (the bytes are copied into an
 * exact-size buffer, so ASan sees any overread) and never crashes; a refusal returns a
 * negative code with a message naming an offset; an accepted frame's payload lies inside
 * the input, and encoding it again gives back exactly the input (one encoding per frame).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/frame.h"
#include "strom/error.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct strom_frame f;
    uint8_t *bytes = malloc(size ? size : 1), *again;
    char err[256] = "";
    long n;
    int rc;

    CHECK(bytes);
    memcpy(bytes, data, size);
    rc = strom_frame_decode(&f, bytes, size, 4096, err, sizeof err);
    if (rc) {
        CHECK(rc < 0);
        CHECK(strstr(err, "offset ") != NULL);
        free(bytes);
        return 0;
    }
    CHECK(size >= STROM_FRAME_HEADER);
    CHECK(f.payload == bytes + STROM_FRAME_HEADER);
    CHECK((size_t)f.len == size - STROM_FRAME_HEADER);
    CHECK(f.type != STROM_FRAME_DATA || f.len <= 4096);
    again = malloc(size);
    CHECK(again);
    n = strom_frame_encode(&f, again, size);
    CHECK(n == (long)size);
    CHECK(!memcmp(again, bytes, size));
    free(again);
    free(bytes);
    return 0;
}
