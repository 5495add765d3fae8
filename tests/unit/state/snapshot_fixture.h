/*
 * tests/unit/state/snapshot_fixture.h: what the snapshot tests (test_snapshot*.c) and the
 * snapshot fuzzer (tests/fuzz/fuzz_kgsnapshot.c) share: the key group count, two record
 * types, a codec, and helpers that build state and take its fingerprint.
 *
 * One copy, because the fuzzer's seed corpus is written by test_snapshot.c and is valid only
 * for exactly these types and this codec. Everything is static and free of cmocka, so that
 * the fuzzer can include it too; callers check what the helpers return (0 or an error).
 */
#ifndef STROM_TEST_SNAPSHOT_FIXTURE_H
#define STROM_TEST_SNAPSHOT_FIXTURE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/xxh64.h"
#include "state/state.h"
#include "strom/error.h"

#define FX_G 4                  /* key groups of every fixture kstate */
#define FX_POISON 0xdeadbeefULL /* a vec value that makes decode fail after it allocated */

/* A plain record. */
struct fx_plain {
    uint64_t a, b;
};

/* A codec record: a malloc'd array of n values. Encoded as n (u32), then the values
 * (u64 each): one encoding per value, so snapshots of vec records are canonical too. */
struct fx_vec {
    uint64_t n;
    uint64_t *v;
};

static long fx_live; /* vec arrays allocated and not yet released */

static inline int fx_vec_encode(const void *rec, struct strom_buf *out)
{
    const struct fx_vec *x = rec;
    int rc = strom_buf_put_u32(out, (uint32_t)x->n);

    for (uint64_t i = 0; !rc && i < x->n; i++)
        rc = strom_buf_put_u64(out, x->v[i]);
    return rc;
}

static inline int fx_vec_decode(void *rec, struct strom_reader *in)
{
    struct fx_vec *x = rec;
    uint32_t n;
    int rc = strom_reader_u32(in, &n);

    if (rc)
        return rc;
    if (n > in->left / 8) /* before allocating */
        return STROM_E_CORRUPT;
    if (n) {
        x->v = malloc(n * sizeof *x->v);
        if (!x->v)
            return -ENOMEM;
        fx_live++;
    }
    x->n = n;
    for (uint32_t i = 0; i < n; i++) {
        rc = strom_reader_u64(in, &x->v[i]);
        if (rc)
            return rc;
        if (x->v[i] == FX_POISON)
            return STROM_E_CORRUPT; /* leaves x->v for release to free */
    }
    return 0;
}

static inline void fx_vec_release(void *rec)
{
    struct fx_vec *x = rec;

    if (x->v)
        fx_live--;
    free(x->v);
    x->v = NULL;
    x->n = 0;
}

static const struct strom_record_codec fx_vec_codec = {fx_vec_encode, fx_vec_decode,
                                                       fx_vec_release};

static inline uint32_t fx_kg_of(uint64_t key)
{
    return strom_hash_keygroup(strom_hash64(key), FX_G);
}

/* The nth key (from 0) of key group kg. */
static inline uint64_t fx_key_in(uint32_t kg, unsigned nth)
{
    for (uint64_t key = 0;; key++)
        if (fx_kg_of(key) == kg && nth-- == 0)
            return key;
}

static inline uint64_t fx_get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void fx_set_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Rewrites the trailing checksum, so that a crafted change reaches the checks behind it. */
static inline void fx_reseal(uint8_t *p, size_t len)
{
    fx_set_le(p + len - 8, strom_xxh64(p, len - 8), 8);
}

static inline int fx_put_plain(struct strom_kstate *ks, uint64_t key, uint64_t ns, uint64_t a,
                               uint64_t b)
{
    int rc;
    struct fx_plain *p = strom_kstate_get(ks, fx_kg_of(key), key, ns, 1, NULL, &rc);

    if (!p)
        return rc ? rc : -1;
    p->a = a;
    p->b = b;
    return 0;
}

/* A new vec record of n values base, base + 1, ... */
static inline int fx_put_vec(struct strom_kstate *ks, uint64_t key, uint64_t ns, uint32_t n,
                             uint64_t base)
{
    int rc, created;
    struct fx_vec *x = strom_kstate_get(ks, fx_kg_of(key), key, ns, 1, &created, &rc);

    if (!x || !created)
        return rc ? rc : -1;
    if (n) {
        x->v = malloc(n * sizeof *x->v);
        if (!x->v)
            return -ENOMEM;
        fx_live++;
    }
    x->n = n;
    for (uint32_t i = 0; i < n; i++)
        x->v[i] = base + i;
    return 0;
}

/* Owns kg and fills it with two records and one timer, plain or vec. */
static inline int fx_small(struct strom_kstate *ks, uint32_t kg, int vec)
{
    int rc = strom_kstate_own(ks, kg);

    if (!rc && vec)
        rc = fx_put_vec(ks, fx_key_in(kg, 0), 1, 2, 100);
    if (!rc && vec)
        rc = fx_put_vec(ks, fx_key_in(kg, 1), 0, 0, 0);
    if (!rc && !vec)
        rc = fx_put_plain(ks, fx_key_in(kg, 1), 3, 11, 12);
    if (!rc && !vec)
        rc = fx_put_plain(ks, fx_key_in(kg, 0), 0, 21, 22);
    if (!rc)
        rc = strom_kstate_timer_add(ks, kg, fx_key_in(kg, (unsigned)vec), 0, vec ? -3 : 500);
    return rc;
}

/* Everything ks holds, as bytes: each owned key group's snapshot, then the timer count. */
static inline int fx_fingerprint(const struct strom_kstate *ks, struct strom_buf *out)
{
    int rc = 0;

    out->len = 0;
    for (uint32_t kg = 0; !rc && kg < FX_G; kg++)
        if (strom_kstate_owns(ks, kg))
            rc = strom_kstate_snapshot(ks, kg, out);
    return rc ? rc : strom_buf_put_u64(out, strom_kstate_timer_count(ks));
}

/* A kstate that already holds other key groups: those a restore must leave alone. */
struct fx_target {
    struct strom_kstate *ks;
    struct strom_buf before; /* its fingerprint when made */
};

/* Owns every key group but skip, each with three records and three timers. */
static inline int fx_target_init(struct fx_target *t, int vec, uint32_t skip)
{
    int rc;

    memset(t, 0, sizeof *t);
    rc = strom_kstate_new(&t->ks, FX_G, 16, vec ? &fx_vec_codec : NULL);
    for (uint32_t kg = 0; !rc && kg < FX_G; kg++) {
        if (kg == skip)
            continue;
        rc = strom_kstate_own(t->ks, kg);
        for (unsigned i = 0; !rc && i < 3; i++) {
            uint64_t key = fx_key_in(kg, i);
            rc = vec ? fx_put_vec(t->ks, key, 9, i, 1000 * i)
                     : fx_put_plain(t->ks, key, 9, i, i);
            if (!rc)
                rc = strom_kstate_timer_add(t->ks, kg, key, 9, (int64_t)i);
        }
    }
    return rc ? rc : fx_fingerprint(t->ks, &t->before);
}

/* 0 when t holds what it held when made, and kg is not owned. */
static inline int fx_target_check(const struct fx_target *t, uint32_t kg)
{
    struct strom_buf now = {0};
    int rc = fx_fingerprint(t->ks, &now);

    if (!rc && (strom_kstate_owns(t->ks, kg) || now.len != t->before.len ||
                memcmp(now.data, t->before.data, now.len)))
        rc = -1;
    strom_buf_release(&now);
    return rc;
}

static inline void fx_target_release(struct fx_target *t)
{
    strom_kstate_free(t->ks);
    strom_buf_release(&t->before);
}

#endif
