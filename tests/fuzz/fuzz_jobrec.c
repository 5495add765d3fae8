/*
 * tests/fuzz/fuzz_jobrec.c: libFuzzer target for the cluster's texts in ZooKeeper
 * (cluster/jobrec.c): the job, the assignment and a worker's status.
 *
 * Input: one selector byte (job, assignment or status, by its value modulo 3), then the
 * text. Checked on every input: the decoder never reads past the text (copied into an
 * exact-size buffer) and never crashes; an accepted job or assignment encodes again to
 * exactly the input text (one text per value), and an accepted status to a text that
 * decodes to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/jobrec.h"
#include "strom/error.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct strom_assignment a;
    struct strom_jobrec j;
    struct strom_worker_status st, st2;
    char err[256], *text, *again = NULL, buf[256];
    size_t len, alen = 0;
    int rc;

    if (!size)
        return 0;
    len = size - 1;
    text = malloc(len ? len : 1);
    CHECK(text);
    memcpy(text, data + 1, len);
    switch (data[0] % 3) {
    case 0:
        rc = strom_jobrec_decode(&j, text, len, err, sizeof err);
        if (!rc) {
            CHECK(strom_jobrec_encode(&j, &again, &alen, err, sizeof err) == 0);
            CHECK(alen == len && !memcmp(again, text, len));
            strom_jobrec_release(&j);
        } else
            CHECK(rc < 0);
        break;
    case 1:
        rc = strom_assignment_decode(&a, text, len, err, sizeof err);
        if (!rc) {
            CHECK(strom_assignment_encode(&a, &again, &alen, err, sizeof err) == 0);
            CHECK(alen == len && !memcmp(again, text, len));
        } else
            CHECK(rc < 0);
        break;
    default:
        rc = strom_status_decode(&st, text, len, err, sizeof err);
        if (!rc) {
            int n = strom_status_encode(&st, buf, sizeof buf);
            CHECK(n > 0);
            CHECK(strom_status_decode(&st2, buf, (size_t)n, err, sizeof err) == 0);
            CHECK(st2.epoch == st.epoch && st2.rows == st.rows && st2.checkpoint == st.checkpoint);
        } else
            CHECK(rc < 0);
        break;
    }
    free(again);
    free(text);
    return 0;
}
