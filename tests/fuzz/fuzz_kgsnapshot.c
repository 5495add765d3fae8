/*
 * tests/fuzz/fuzz_kgsnapshot.c: libFuzzer target for strom_kstate_restore (state/snapshot.c).
 *
 * Input: a flags byte, then the bytes of a key group snapshot. Flags bit 0: records are the
 * fixture's vec records with their codec (else its plain 16-byte records); bit 1: rewrite the
 * trailing checksum first, so that mutations get past it to the checks behind it. The key
 * group restored is the one the header names. Types, codec and helpers are those of
 * tests/unit/state/snapshot_fixture.h, shared with test_snapshot.c, which also writes the
 * seeds in tests/fuzz/corpus/kgsnapshot/.
 *
 * Checked on every input: restore neither crashes nor leaks; a refused restore changes
 * nothing in the target; an accepted one snapshots back to exactly its input (the format
 * has one encoding per state), that snapshot restores into a second instance and snapshots
 * to the same bytes again, and the restored records and timers can all be removed/fired.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/state/snapshot_fixture.h"
#include "state/state.h"
#include "strom/error.h"

#include "fuzz.h"

struct addr {
    uint64_t key, ns;
};

struct addrs {
    struct addr *a;
    size_t n;
    uint32_t kg;
};

static int collect(void *arg, uint64_t key, uint64_t ns, void *rec)
{
    struct addrs *as = arg;

    (void)rec;
    if (fx_kg_of(key) == as->kg)
        as->a[as->n++] = (struct addr){key, ns};
    return 0;
}

/* Removes every restored record one by one, then fires every timer. */
static void drain(struct strom_kstate *ks, uint32_t kg)
{
    size_t count = strom_kstate_count(ks, kg), timers = strom_kstate_timer_count(ks);
    struct addrs as = {calloc(count + 1, sizeof *as.a), 0, kg};
    uint64_t key, ns;
    int64_t time, last = INT64_MIN;
    int rc;

    CHECK(as.a);
    CHECK(strom_kstate_foreach(ks, collect, &as) == 0);
    CHECK(as.n == count);
    for (size_t i = 0; i < as.n; i++) {
        CHECK(strom_kstate_get(ks, kg, as.a[i].key, as.a[i].ns, 0, NULL, &rc) != NULL);
        CHECK(strom_kstate_remove(ks, kg, as.a[i].key, as.a[i].ns) == 0);
        CHECK(strom_kstate_get(ks, kg, as.a[i].key, as.a[i].ns, 0, NULL, &rc) == NULL);
        CHECK(strom_kstate_count(ks, kg) == count - i - 1);
    }
    for (size_t i = 0; i < timers; i++) {
        CHECK(strom_kstate_timer_pop(ks, INT64_MAX, &key, &ns, &time) == 1);
        CHECK(time >= last);
        last = time;
    }
    CHECK(strom_kstate_timer_pop(ks, INT64_MAX, &key, &ns, &time) == 0);
    free(as.a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct strom_buf s1 = {0}, s2 = {0};
    struct strom_kstate *ks2 = NULL;
    struct fx_target t = {0};
    uint8_t *bytes;
    size_t len;
    uint32_t kg = 0;
    char err[256] = "";
    int vec, rc;

    if (size < 1)
        return 0;
    vec = data[0] & 1;
    len = size - 1;
    /* Exactly len bytes, so that ASan sees any read past the end. */
    bytes = malloc(len ? len : 1);
    CHECK(bytes);
    memcpy(bytes, data + 1, len);
    if ((data[0] & 2) && len >= 8)
        fx_reseal(bytes, len);
    if (len >= 12)
        kg = (uint32_t)fx_get_le(bytes + 8, 4);

    /* The target owns every other key group, with records and timers. */
    CHECK(fx_target_init(&t, vec, kg) == 0);
    rc = strom_kstate_restore(t.ks, kg, bytes, len, err, sizeof err);
    if (rc) {
        CHECK(rc < 0);
        CHECK(err[0] != '\0');
        CHECK(fx_target_check(&t, kg) == 0);
        goto out;
    }
    CHECK(kg < FX_G);
    CHECK(strom_kstate_snapshot(t.ks, kg, &s1) == 0);
    CHECK(s1.len == len && !memcmp(s1.data, bytes, len));
    /* Restored again elsewhere, the same bytes once more. */
    CHECK(strom_kstate_new(&ks2, FX_G, 16, vec ? &fx_vec_codec : NULL) == 0);
    CHECK(strom_kstate_restore(ks2, kg, s1.data, s1.len, err, sizeof err) == 0);
    CHECK(strom_kstate_snapshot(ks2, kg, &s2) == 0);
    CHECK(s2.len == s1.len && !memcmp(s2.data, s1.data, s1.len));
    drain(ks2, kg);
    /* Dropping the restored group leaves the target as it was. */
    strom_kstate_drop(t.ks, kg);
    CHECK(fx_target_check(&t, kg) == 0);
out:
    strom_kstate_free(ks2);
    fx_target_release(&t);
    CHECK(fx_live == 0);
    free(bytes);
    strom_buf_release(&s1);
    strom_buf_release(&s2);
    return 0;
}
