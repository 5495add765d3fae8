/*
 * state/snapshot.c: the snapshot format of one key group of one operator instance.
 *
 * Integers are little endian; offsets count from the first byte of the snapshot.
 *
 *   offset  size  field
 *   0       4     magic "SKG1"
 *   4       4     format version: 2
 *   8       4     key group
 *   12      8     record size (bytes of one record in memory, as the operator declares)
 *   20      8     R, the number of records
 *   28      8     T, the number of timers
 *   36            R records, in strictly ascending (key, ns) order:
 *                   +0   8  key
 *                   +8   8  ns
 *                   +16  4  L, byte length: the record size for plain records
 *                   +20  L  the record, or what codec->encode wrote for it
 *                 then T timers, in strictly ascending (time, key, ns) order:
 *                   +0   8  time (signed)
 *                   +8   8  key
 *                   +16  8  ns
 *   end - 8 8     XXH64 (core/xxh64.h) of every byte before it
 *
 * Why the orders: one state has exactly one snapshot (given a codec that encodes one value
 * one way), so equal state gives equal bytes; two instances can be compared by comparing
 * bytes, and the fuzzer can check that snapshot(restore(x)) == x. Restore refuses any
 * other order, which also makes a repeated (key, ns) or timer a local check.
 *
 * Why the checks in restore: these bytes cross processes and disks, so they are outside
 * input. The checksum catches bit flips and cuts, at memory speed (version 1's FNV-1a, a
 * byte at a time, took half the time of a large checkpoint); the lengths are checked against
 * the bytes that remain before anything is allocated or read; each key must belong to
 * the key group restored, or records would sit where lookups never reach them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/xxh64.h"
#include "state/state.h"
#include "state/state_int.h"
#include "core/errf.h"
#include "strom/error.h"

#define MAGIC "SKG1"
#define VERSION 2 /* 1 had an FNV-1a checksum */
#define HEADER_LEN 36
#define TRAILER_LEN 8
#define RECORD_HEADER_LEN 20
#define TIMER_LEN 24

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int record_cmp(const void *a, const void *b)
{
    const uint8_t *x = *(const uint8_t *const *)a, *y = *(const uint8_t *const *)b;
    uint64_t xk = strom_state__slot_key(x), yk = strom_state__slot_key(y);
    uint64_t xn = strom_state__slot_ns(x), yn = strom_state__slot_ns(y);

    if (xk != yk)
        return xk < yk ? -1 : 1;
    return xn < yn ? -1 : xn > yn;
}

static int timer_qsort_cmp(const void *a, const void *b)
{
    return strom_state__timer_cmp(a, b);
}

/* A codec's positive return is not an error code; report it as the operator's failure. */
static int codec_rc(int rc)
{
    return rc > 0 ? STROM_E_OPERATOR : rc;
}

/* Appends one record: key, ns, length, then its bytes. */
static int put_record(const struct strom_kstate *ks, const uint8_t *s, struct strom_buf *out)
{
    const void *rec = s + STROM_STATE__SLOT_HEADER;
    size_t at, n;
    int rc;

    rc = strom_buf_put_u64(out, strom_state__slot_key(s));
    if (!rc)
        rc = strom_buf_put_u64(out, strom_state__slot_ns(s));
    if (rc)
        return rc;
    if (!ks->codec) {
        rc = strom_buf_put_u32(out, (uint32_t)ks->record_size);
        return rc ? rc : strom_buf_append(out, rec, ks->record_size);
    }
    /* The length is known only after encoding: write a placeholder, then patch it (out's
     * data may have moved in between, so by offset). */
    at = out->len;
    rc = strom_buf_put_u32(out, 0);
    if (!rc)
        rc = codec_rc(ks->codec->encode(rec, out));
    if (rc)
        return rc;
    n = out->len - at - 4;
    if (n > UINT32_MAX)
        return -EOVERFLOW;
    for (int i = 0; i < 4; i++)
        out->data[at + i] = (uint8_t)(n >> (8 * i));
    return 0;
}

int strom_kstate_snapshot(const struct strom_kstate *ks, uint32_t kg, struct strom_buf *out)
{
    const struct strom_state__table *t;
    const uint8_t **recs = NULL;
    struct strom_state__timer *tims = NULL;
    size_t start = out->len, nrec = 0, ntim = 0, pos = 0;
    uint8_t *s;
    int rc = 0;

    if (!strom_kstate_owns(ks, kg))
        return STROM_E_KEYGROUP;
    t = ks->tables[kg];
    if (t->count) {
        recs = malloc(t->count * sizeof *recs);
        if (!recs) {
            rc = -ENOMEM;
            goto out;
        }
        while ((s = strom_state__table_next(t, ks->slot_size, &pos)))
            recs[nrec++] = s;
        qsort(recs, nrec, sizeof *recs, record_cmp);
    }
    for (size_t i = 0; i < ks->timers.n; i++)
        ntim += ks->timers.heap[i].kg == kg;
    if (ntim) {
        tims = malloc(ntim * sizeof *tims);
        if (!tims) {
            rc = -ENOMEM;
            goto out;
        }
        ntim = 0;
        for (size_t i = 0; i < ks->timers.n; i++)
            if (ks->timers.heap[i].kg == kg)
                tims[ntim++] = ks->timers.heap[i];
        qsort(tims, ntim, sizeof *tims, timer_qsort_cmp);
    }

    rc = strom_buf_append(out, MAGIC, 4);
    if (!rc)
        rc = strom_buf_put_u32(out, VERSION);
    if (!rc)
        rc = strom_buf_put_u32(out, kg);
    if (!rc)
        rc = strom_buf_put_u64(out, ks->record_size);
    if (!rc)
        rc = strom_buf_put_u64(out, nrec);
    if (!rc)
        rc = strom_buf_put_u64(out, ntim);
    for (size_t i = 0; !rc && i < nrec; i++)
        rc = put_record(ks, recs[i], out);
    for (size_t i = 0; !rc && i < ntim; i++) {
        rc = strom_buf_put_u64(out, (uint64_t)tims[i].time);
        if (!rc)
            rc = strom_buf_put_u64(out, tims[i].key);
        if (!rc)
            rc = strom_buf_put_u64(out, tims[i].ns);
    }
    if (!rc)
        rc = strom_buf_put_u64(out, strom_xxh64(out->data + start, out->len - start));
out:
    if (rc)
        out->len = start; /* appended nothing */
    free(recs);
    free(tims);
    return rc;
}


/* Where the reader stands, as an offset into the snapshot, for messages. */
#define AT(r) ((size_t)((r)->p - bytes))

/* Reads and checks the records into t. */
static int read_records(struct strom_kstate *ks, uint32_t kg, struct strom_reader *r,
                        const uint8_t *bytes, uint64_t nrec, struct strom_state__table *t,
                        char *err, size_t errlen)
{
    uint64_t key, ns, prev_key = 0, prev_ns = 0;
    uint32_t blen;
    size_t at;
    void *rec;
    int rc;

    for (uint64_t i = 0; i < nrec; i++) {
        /* Reads below cannot fail: the lengths were checked just before them. */
        at = AT(r);
        if (r->left < RECORD_HEADER_LEN)
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                        "snapshot byte %zu: record %" PRIu64 " is cut off, %zu bytes remain",
                        at, i, r->left);
        strom_reader_u64(r, &key);
        strom_reader_u64(r, &ns);
        if (i && (key < prev_key || (key == prev_key && ns <= prev_ns)))
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                        "snapshot byte %zu: record %" PRIu64 " (key %" PRIu64 ", ns %" PRIu64
                        ") repeats or is out of order",
                        at, i, key, ns);
        if (strom_hash_keygroup(strom_hash64(key), ks->key_groups) != kg)
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                        "snapshot byte %zu: record %" PRIu64 " has key %" PRIu64
                        " of key group %u, not %u",
                        at, i, key, strom_hash_keygroup(strom_hash64(key), ks->key_groups), kg);
        prev_key = key;
        prev_ns = ns;
        at = AT(r);
        strom_reader_u32(r, &blen);
        if (blen > r->left)
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                        "snapshot byte %zu: record %" PRIu64 " claims %" PRIu32
                        " bytes, %zu remain",
                        at, i, blen, r->left);
        if (!ks->codec && blen != ks->record_size)
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                        "snapshot byte %zu: record %" PRIu64 " is %" PRIu32
                        " bytes, the record size is %zu",
                        at, i, blen, ks->record_size);
        rc = strom_state__table_insert(t, ks->slot_size, key, ns, &rec);
        if (rc)
            return strom__errf(err, errlen, rc, "snapshot byte %zu: record %" PRIu64 ": %s", at, i,
                        strom_strerror(rc));
        if (!ks->codec) {
            strom_reader_bytes(r, rec, blen);
            continue;
        }
        /* The record is in t now, so a failed decode is released with t. */
        struct strom_reader sub = {r->p, blen};
        rc = codec_rc(ks->codec->decode(rec, &sub));
        if (rc)
            return strom__errf(err, errlen, rc,
                        "snapshot byte %zu: record %" PRIu64 " does not decode: %s", at + 4, i,
                        strom_strerror(rc));
        if (sub.left)
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                        "snapshot byte %zu: record %" PRIu64 " decodes from %zu of its %" PRIu32
                        " bytes",
                        at + 4, i, blen - sub.left, blen);
        r->p += blen;
        r->left -= blen;
    }
    return 0;
}

/* Checks the timers, which must fill exactly what remains. */
static int check_timers(const struct strom_kstate *ks, uint32_t kg, struct strom_reader r,
                        const uint8_t *bytes, uint64_t ntim, char *err, size_t errlen)
{
    struct strom_state__timer t = {0}, prev = {0};

    if (r.left != ntim * TIMER_LEN)
        return strom__errf(err, errlen, STROM_E_CORRUPT,
                    "snapshot byte %zu: %" PRIu64 " timers take %" PRIu64
                    " bytes, %zu remain before the checksum",
                    AT(&r), ntim, ntim * TIMER_LEN, r.left);
    for (uint64_t i = 0; i < ntim; i++) {
        size_t at = AT(&r);
        uint64_t time;
        strom_reader_u64(&r, &time);
        strom_reader_u64(&r, &t.key);
        strom_reader_u64(&r, &t.ns);
        t.time = (int64_t)time;
        if (i && strom_state__timer_cmp(&prev, &t) >= 0)
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                        "snapshot byte %zu: timer %" PRIu64 " (time %" PRId64 ", key %" PRIu64
                        ", ns %" PRIu64 ") repeats or is out of order",
                        at, i, t.time, t.key, t.ns);
        if (strom_hash_keygroup(strom_hash64(t.key), ks->key_groups) != kg)
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                        "snapshot byte %zu: timer %" PRIu64 " has key %" PRIu64
                        " of key group %u, not %u",
                        at, i, t.key, strom_hash_keygroup(strom_hash64(t.key), ks->key_groups),
                        kg);
        prev = t;
    }
    return 0;
}

int strom_kstate_restore(struct strom_kstate *ks, uint32_t kg, const uint8_t *bytes, size_t len,
                         char *err, size_t errlen)
{
    struct strom_reader r;
    struct strom_state__table *t = NULL;
    uint64_t stored, computed, record_size, nrec, ntim, min_rec;
    uint32_t version, snap_kg;
    int rc;

    if (kg >= ks->key_groups) {
        rc = strom__errf(err, errlen, STROM_E_KEYGROUP, "key group %u out of range (%u key groups)",
                  kg, ks->key_groups);
        goto out;
    }
    if (ks->tables[kg]) {
        rc = strom__errf(err, errlen, STROM_E_EXISTS, "key group %u is already owned", kg);
        goto out;
    }
    if (len < HEADER_LEN + TRAILER_LEN) {
        rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                  "snapshot byte %zu: cut off, shorter than the %d bytes of an empty one", len,
                  HEADER_LEN + TRAILER_LEN);
        goto out;
    }
    if (memcmp(bytes, MAGIC, 4)) {
        rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                  "snapshot byte 0: no \"" MAGIC "\" magic, not a key group snapshot");
        goto out;
    }
    /* The version before the checksum: another version may checksum differently. */
    r = (struct strom_reader){bytes + 4, len - 4 - TRAILER_LEN};
    strom_reader_u32(&r, &version);
    if (version != VERSION) {
        rc = strom__errf(err, errlen, STROM_E_VERSION,
                  "snapshot byte 4: format version %" PRIu32 ", this build reads %d", version,
                  VERSION);
        goto out;
    }
    stored = le64(bytes + len - TRAILER_LEN);
    computed = strom_xxh64(bytes, len - TRAILER_LEN);
    if (stored != computed) {
        rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                  "snapshot byte %zu: checksum %016" PRIx64 ", the bytes give %016" PRIx64,
                  len - TRAILER_LEN, stored, computed);
        goto out;
    }
    strom_reader_u32(&r, &snap_kg);
    strom_reader_u64(&r, &record_size);
    strom_reader_u64(&r, &nrec);
    strom_reader_u64(&r, &ntim);
    if (snap_kg != kg) {
        rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                  "snapshot byte 8: snapshot of key group %" PRIu32 ", restoring %u", snap_kg,
                  kg);
        goto out;
    }
    if (record_size != ks->record_size) {
        rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                  "snapshot byte 12: record size %" PRIu64
                  ", this operator's is %zu (a snapshot of another operator?)",
                  record_size, ks->record_size);
        goto out;
    }
    /* Counts against the bytes that remain, before the table is sized by them. */
    min_rec = RECORD_HEADER_LEN + (ks->codec ? 0 : ks->record_size);
    if (ntim > r.left / TIMER_LEN || nrec > (r.left - ntim * TIMER_LEN) / min_rec) {
        rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                  "snapshot byte 20: %" PRIu64 " records and %" PRIu64
                  " timers do not fit in the %zu bytes that remain",
                  nrec, ntim, r.left);
        goto out;
    }
    rc = strom_state__table_new(&t, ks->slot_size, (size_t)nrec);
    if (rc) {
        rc = strom__errf(err, errlen, rc, "%" PRIu64 " records: %s", nrec, strom_strerror(rc));
        goto out;
    }
    rc = read_records(ks, kg, &r, bytes, nrec, t, err, errlen);
    if (rc)
        goto out;
    rc = check_timers(ks, kg, r, bytes, ntim, err, errlen);
    if (rc)
        goto out;
    /* The last thing that can fail, so that installing below cannot. */
    rc = strom_state__timers_reserve(&ks->timers, (size_t)ntim);
    if (rc) {
        rc = strom__errf(err, errlen, rc, "%" PRIu64 " timers: %s", ntim, strom_strerror(rc));
        goto out;
    }
    ks->tables[kg] = t;
    t = NULL;
    for (uint64_t i = 0; i < ntim; i++) {
        struct strom_state__timer tm = {.kg = kg};
        uint64_t time;
        strom_reader_u64(&r, &time);
        strom_reader_u64(&r, &tm.key);
        strom_reader_u64(&r, &tm.ns);
        tm.time = (int64_t)time;
        strom_state__timers_insert(&ks->timers, &tm);
    }
out:
    strom_state__table_free(t, ks->slot_size, ks->codec);
    return rc;
}
