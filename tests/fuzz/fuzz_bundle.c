/*
 * tests/fuzz/fuzz_bundle.c: libFuzzer target for the two list messages between processes
 * (runtime/remote.c) that a worker reads from another worker: bundles of batches and
 * credits.
 *
 * Input: one byte that picks the message (even: a bundle, odd: credits), then its bytes.
 * Checked: the walk never reads past the input and always moves on; every entry it yields
 * lies inside the input with a channel below STROM_CHAN_BUNDLE (and a count above zero for
 * credits); it ends exactly at the end of the input or with STROM_E_CORRUPT; each batch of
 * a bundle then goes through the batch decoder.
 */
#include <stdint.h>
#include <string.h>

#include "runtime/runtime_int.h"
#include "strom/error.h"
#include "strom/job.h"

#include "fuzz.h"

#define MAX_EVENTS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct strom_batch *b;
    uint8_t *copy;
    size_t len, off = 0, prev = 0;
    int rc;

    if (size < 1)
        return 0;
    len = size - 1;
    copy = malloc(len ? len : 1); /* exact size: ASan sees any overread */
    CHECK(copy);
    if (!b)
        CHECK((b = malloc(sizeof *b + MAX_EVENTS * sizeof(struct strom_event))));
    memcpy(copy, data + 1, len);
    if (data[0] % 2 == 0) {
        const uint8_t *bytes;
        size_t blen;
        uint32_t chan;
        while ((rc = strom_rt__bundle_next(copy, len, &off, &chan, &bytes, &blen)) == 1) {
            CHECK(off > prev && off <= len);
            CHECK(chan < STROM_CHAN_BUNDLE);
            CHECK(bytes >= copy + prev + 8 && bytes + blen == copy + off);
            (void)strom_rt__batch_decode(bytes, blen, MAX_EVENTS, b);
            prev = off;
        }
    } else {
        uint32_t chan, n;
        while ((rc = strom_rt__credits_next(copy, len, &off, &chan, &n)) == 1) {
            CHECK(off == prev + 8 && off <= len);
            CHECK(chan < STROM_CHAN_BUNDLE && n > 0);
            prev = off;
        }
        CHECK(rc != 0 || len > 0);
    }
    CHECK(rc == STROM_E_CORRUPT || (rc == 0 && off == len));
    free(copy);
    return 0;
}
