/*
 * tests/unit/ckpt/ckpt_fixture.h: what the checkpoint store's tests share: a store opened
 * with a notice recorder, deterministic blob contents, a standard checkpoint, paths.
 */
#ifndef STROM_TEST_CKPT_FIXTURE_H
#define STROM_TEST_CKPT_FIXTURE_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "strom/ckpt.h"
#include "strom/error.h"

#define FX_FP "job=test;opts=q1;input=a.csv:1234"
#define FX_NOTES 16

/* The notices a store gave (the first FX_NOTES), for the tests to inspect. */
struct fx_notes {
    int n;
    int rc[FX_NOTES];
    char msg[FX_NOTES][1200];
};

static inline void fx_note(void *arg, int rc, const char *msg)
{
    struct fx_notes *ns = arg;

    if (ns->n < FX_NOTES) {
        ns->rc[ns->n] = rc;
        snprintf(ns->msg[ns->n], sizeof ns->msg[0], "%s", msg);
    }
    ns->n++;
}

/* 1 when some notice contains s. */
static inline int fx_noted(const struct fx_notes *ns, const char *s)
{
    for (int i = 0; i < ns->n && i < FX_NOTES; i++)
        if (strstr(ns->msg[i], s))
            return 1;
    return 0;
}

/* Opens dir with fingerprint fp, keep, and notices into ns (may be NULL); returns the
 * code, with *st NULL on failure. */
static inline int fx_open(struct strom_ckpt **st, const char *dir, const char *fp, unsigned keep,
                          struct fx_notes *ns, char *err, size_t errlen)
{
    struct strom_ckpt_config cfg = {
        .fingerprint = fp,
        .fingerprint_len = strlen(fp),
        .keep = keep,
        .notice = ns ? fx_note : NULL,
        .notice_arg = ns,
    };

    if (ns)
        memset(ns, 0, sizeof *ns);
    return strom_ckpt_open(st, dir, &cfg, err, errlen);
}

/* len bytes of a xorshift stream from seed: incompressible. */
static inline uint8_t *fx_random(uint64_t seed, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;

    for (size_t i = 0; i < len; i++) {
        if (i % 8 == 0) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        p[i] = (uint8_t)(x >> (8 * (i % 8)));
    }
    return p;
}

/* len bytes of text-like, very compressible content varying with seed. */
static inline uint8_t *fx_text(uint64_t seed, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    char line[64];
    size_t at = 0;

    for (uint64_t i = 0; at < len; i++) {
        int n = snprintf(line, sizeof line, "%" PRIu64 ",house-%" PRIu64 ",%" PRIu64 "\n", seed,
                         i % 40, (i * 7) % 1000);
        for (int k = 0; k < n && at < len; k++)
            p[at++] = (uint8_t)line[k];
    }
    return p;
}

/* Path of `name` inside checkpoint n of dir, in a static rotating buffer. */
static inline const char *fx_ckpt_path(const char *dir, uint64_t n, const char *name)
{
    static char bufs[4][4200];
    static unsigned next;
    char *b = bufs[next++ % 4];

    if (name)
        snprintf(b, sizeof bufs[0], "%s/ckpt-%020" PRIu64 "/%s", dir, n, name);
    else
        snprintf(b, sizeof bufs[0], "%s/ckpt-%020" PRIu64, dir, n);
    return b;
}

static inline int fx_exists(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0;
}

/* The standard checkpoint n: blob "a" (4000 random bytes), "b" (20000 bytes of text),
 * "c" (empty), metadata "offsets=<n>". Returns commit's code. */
static inline int fx_commit(struct strom_ckpt *st, uint64_t n, char *err, size_t errlen)
{
    struct strom_ckpt_txn *tx;
    uint8_t *a = fx_random(n, 4000), *b = fx_text(n, 20000);
    char meta[64];
    int rc = strom_ckpt_begin(st, n, &tx, err, errlen);

    snprintf(meta, sizeof meta, "offsets=%" PRIu64, n);
    if (!rc)
        rc = strom_ckpt_put(tx, "a", a, 4000, err, errlen);
    if (!rc)
        rc = strom_ckpt_put(tx, "b", b, 20000, err, errlen);
    if (!rc)
        rc = strom_ckpt_put(tx, "c", NULL, 0, err, errlen);
    if (!rc)
        rc = strom_ckpt_commit(tx, meta, strlen(meta), err, errlen);
    else if (tx)
        strom_ckpt_abort(tx);
    free(a);
    free(b);
    return rc;
}

/* 0 when checkpoint n reads back as fx_commit wrote it (blobs and metadata aside). */
static inline int fx_check(struct strom_ckpt *st, uint64_t n)
{
    uint8_t *a = fx_random(n, 4000), *b = fx_text(n, 20000), *d = NULL;
    size_t len = 0;
    char err[1024];
    int bad = 0;

    if (strom_ckpt_read(st, n, "a", &d, &len, err, sizeof err) || len != 4000 || memcmp(d, a, len))
        bad = 1;
    free(d);
    d = NULL;
    if (!bad && (strom_ckpt_read(st, n, "b", &d, &len, err, sizeof err) || len != 20000 ||
                 memcmp(d, b, len)))
        bad = 2;
    free(d);
    d = NULL;
    if (!bad && (strom_ckpt_read(st, n, "c", &d, &len, err, sizeof err) || len != 0))
        bad = 3;
    free(d);
    free(a);
    free(b);
    return bad;
}

#endif
