/*
 * tests/fuzz/fuzz_ctl.c: libFuzzer target for the control messages between the processes
 * of a distributed run (runtime/remote.c), what a process reads from another one.
 *
 * Input: one byte for the message's kind (any value, known or not), then its payload,
 * decoded as process 0 of 4. Checked: the decoder never reads past the payload; a message
 * it accepts comes from another process, and encodes back to exactly the payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime_int.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t again[STROM_CTL_MAX];
    struct strom_ctl m;
    uint8_t *p;
    size_t len;

    if (!size)
        return 0;
    len = size - 1;
    p = malloc(len ? len : 1);
    CHECK(p);
    memcpy(p, data + 1, len);
    if (strom_rt__ctl_decode(data[0], p, len, 4, 0, &m) == 0) {
        CHECK(m.kind == data[0] && m.from >= 1 && m.from < 4);
        CHECK(strom_rt__ctl_encode(&m, again) == len);
        CHECK(memcmp(again, p, len) == 0);
    }
    free(p);
    return 0;
}
