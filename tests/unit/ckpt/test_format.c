/*
 * tests/unit/ckpt/test_format.c: the bytes of the checkpoint store (ckpt/format.c,
 * ckpt/xxh64.c) without files: the checksum against zstd's own, round trips, every cut and
 * every one-bit flip of small blob files, manifests and markers, then damage behind matching
 * checksums (resealed), one check at a time.
 *
 * Also keeps the fuzzer's seed corpus (tests/fuzz/corpus/ckpt/): the seeds are built here
 * and checked against the files (manifests and markers byte for byte; blob files, whose
 * compressed bytes may differ between zstd versions, by what they decode to);
 * STROM_REGEN_CORPUS=1 writes them anew instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "ckpt/ckpt_int.h"
#include "ckpt_fixture.h"
#include "strom/error.h"
#include "testutil.h"

#define HDR STROM_CKPT__BLOB_HDR

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* A blob file: stored length, payload checksum and header checksum made to match. */
static void reseal_blob(uint8_t *p, size_t len)
{
    put64(p + 24, len - HDR);
    put64(p + 32, strom_xxh64(p + HDR, len - HDR));
    put64(p + 40, strom_xxh64(p, 40));
}

/* A manifest: length field and trailing checksum made to match. */
static void reseal_manifest(uint8_t *p, size_t len)
{
    put64(p + 8, len);
    put64(p + len - 8, strom_xxh64(p, len - 8));
}

static void blob_file(const void *data, size_t len, struct strom_buf *out)
{
    char err[256];

    out->len = 0;
    assert_int_equal(strom_ckpt__blob_encode(data, len, 0, out, err, sizeof err), 0);
}

/* ---- the checksum ---- */

static void test_xxh64(void **unused)
{
    static const size_t lens[] = {0, 1, 3, 4, 7, 8, 15, 31, 32, 33, 63, 64, 100, 1000, 100003};
    (void)unused;

    assert_int_equal(strom_xxh64("", 0), 0xEF46DB3751D8E999ULL);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t len = lens[i];
        uint8_t *d = fx_random(len + 1, len);
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        size_t cap = ZSTD_compressBound(len), n;
        uint8_t *frame = malloc(cap);
        uint64_t h = strom_xxh64(d, len);

        /* zstd's content checksum is the low 32 bits of XXH64, little endian, last. */
        assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)));
        n = ZSTD_compress2(cc, frame, cap, d, len);
        assert_false(ZSTD_isError(n));
        assert_int_equal((uint32_t)get64(frame + n - 4) & 0xffffffffu, (uint32_t)h);
        /* Fed in pieces of every awkward size, the same. */
        for (size_t step = 1; step <= 65; step += 16) {
            struct strom_xxh64 s;
            strom_xxh64_init(&s);
            for (size_t at = 0; at < len; at += step)
                strom_xxh64_update(&s, d + at, len - at < step ? len - at : step);
            assert_int_equal(strom_xxh64_digest(&s), h);
        }
        ZSTD_freeCCtx(cc);
        free(frame);
        free(d);
    }
}

/* ---- blob files ---- */

static void test_blob_roundtrip(void **unused)
{
    static const size_t lens[] = {0, 1, 100, 65536, 65537, 300000};
    struct strom_buf f = {0};
    char err[256];
    (void)unused;

    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        for (int text = 0; text < 2; text++) {
            size_t len = lens[i], out_len = 7;
            uint8_t *d = text ? fx_text(i, len) : fx_random(i, len), *out = NULL;
            struct strom_ckpt__blob_hdr h;

            blob_file(d, len, &f);
            assert_memory_equal(f.data, "SCKB", 4);
            assert_int_equal(
                strom_ckpt__blob_decode(f.data, f.len, "x", &h, &out, &out_len, err, sizeof err),
                0);
            assert_int_equal(out_len, len);
            assert_int_equal(h.raw_len, len);
            assert_int_equal(h.stored_len, f.len - HDR);
            assert_int_equal(h.checksum, strom_xxh64(f.data + HDR, f.len - HDR));
            if (len)
                assert_memory_equal(out, d, len);
            if (text && len >= 65536)
                assert_true(f.len < len / 4); /* it was compressed */
            free(out);
            free(d);
        }
    strom_buf_release(&f);
}

static void test_blob_cuts_and_flips(void **unused)
{
    struct strom_buf f = {0};
    uint8_t *d = fx_text(3, 300), *out;
    char err[512];
    size_t out_len;
    (void)unused;

    blob_file(d, 300, &f);
    for (size_t len = 0; len < f.len; len++) {
        uint8_t *copy = malloc(len + 1); /* only len bytes defined: ASan sees overreads */
        memcpy(copy, f.data, len);
        err[0] = 0;
        assert_int_equal(strom_ckpt__blob_decode(copy, len, "ckpt-1/blob-x", NULL, &out, &out_len,
                                                 err, sizeof err),
                         STROM_E_CORRUPT);
        assert_non_null(strstr(err, "ckpt-1/blob-x: "));
        if (len >= 4)
            assert_non_null(strstr(err, "truncated"));
        free(copy);
    }
    for (size_t bit = 0; bit < f.len * 8; bit++) {
        f.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        err[0] = 0;
        int rc =
            strom_ckpt__blob_decode(f.data, f.len, "blob-x", NULL, &out, &out_len, err, sizeof err);
        f.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        /* Bytes 4..7 hold the version, which is read before the checksum. */
        assert_int_equal(rc, bit / 8 >= 4 && bit / 8 < 8 ? STROM_E_VERSION : STROM_E_CORRUPT);
        assert_non_null(strstr(err, "blob-x: "));
    }
    /* One byte more is refused too. */
    assert_int_equal(strom_buf_append(&f, "", 1), 0);
    assert_int_equal(
        strom_ckpt__blob_decode(f.data, f.len, "blob-x", NULL, &out, &out_len, err, sizeof err),
        STROM_E_CORRUPT);
    assert_non_null(strstr(err, "trailing bytes"));
    strom_buf_release(&f);
    free(d);
}

/* Decodes a resealed copy of f: refused with STROM_E_CORRUPT and a message containing want. */
static void refuse_blob(const uint8_t *p, size_t len, const char *want)
{
    uint8_t *copy = malloc(len), *out = NULL;
    size_t out_len;
    char err[512] = "";

    memcpy(copy, p, len);
    reseal_blob(copy, len);
    assert_int_equal(
        strom_ckpt__blob_decode(copy, len, "blob-x", NULL, &out, &out_len, err, sizeof err),
        STROM_E_CORRUPT);
    if (!strstr(err, want))
        fail_msg("expected '%s' in: %s", want, err);
    assert_null(out);
    free(copy);
}

static void test_blob_resealed(void **unused)
{
    struct strom_buf f = {0}, g = {0};
    uint8_t *d = fx_text(4, 5000);
    ZSTD_CCtx *cc;
    size_t n;
    (void)unused;

    blob_file(d, 5000, &f);
    /* A flipped bit in the compressed blocks: zstd's checks or its content checksum refuse
     * it, unless the bit does not matter to the output (some table bits do not): never
     * other bytes than were put. */
    int refused = 0;
    for (size_t at = HDR + 5; at < f.len - 4; at++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t *out = NULL;
            size_t out_len = 0;
            char err[512] = "";
            f.data[at] ^= (uint8_t)(1u << bit);
            uint8_t *copy = malloc(f.len);
            memcpy(copy, f.data, f.len);
            reseal_blob(copy, f.len);
            int rc = strom_ckpt__blob_decode(copy, f.len, "blob-x", NULL, &out, &out_len, err,
                                             sizeof err);
            f.data[at] ^= (uint8_t)(1u << bit);
            if (rc) {
                assert_int_equal(rc, STROM_E_CORRUPT);
                assert_non_null(strstr(err, "blob-x: "));
                refused++;
            } else {
                assert_int_equal(out_len, 5000);
                assert_memory_equal(out, d, 5000);
            }
            free(out);
            free(copy);
        }
    }
    assert_true(refused > (int)(f.len - HDR - 9) * 8 * 9 / 10);
    /* The frame's content checksum itself. */
    f.data[f.len - 1] ^= 1;
    refuse_blob(f.data, f.len, "zstd");
    f.data[f.len - 1] ^= 1;
    /* Raw length recorded in the header differs from the frame's content size. */
    put64(f.data + 16, 4999);
    refuse_blob(f.data, f.len, "the zstd frame holds 5000 bytes, the header records 4999");
    put64(f.data + 16, 5000);
    /* Unknown kind, non-zero flags. */
    f.data[8] = 2;
    refuse_blob(f.data, f.len, "unknown blob kind 2");
    f.data[8] = 1;
    f.data[12] = 1;
    refuse_blob(f.data, f.len, "flags 1");
    f.data[12] = 0;
    /* Bytes after the frame, a cut frame, no frame. */
    strom_buf_append(&f, "xyz", 3);
    refuse_blob(f.data, f.len, "3 bytes after the end of the zstd frame");
    refuse_blob(f.data, f.len - 10, "truncated zstd frame");
    memset(f.data + HDR, 0, 8);
    refuse_blob(f.data, HDR + 8, "not a zstd frame");
    refuse_blob(f.data, HDR, "not a zstd frame");
    /* A frame without a content checksum. */
    g.len = 0;
    assert_int_equal(strom_buf_append(&g, f.data, HDR), 0);
    cc = ZSTD_createCCtx();
    uint8_t frame[256];
    n = ZSTD_compress2(cc, frame, sizeof frame, "hello", 5);
    assert_false(ZSTD_isError(n));
    ZSTD_freeCCtx(cc);
    assert_int_equal(strom_buf_append(&g, frame, n), 0);
    put64(g.data + 16, 5);
    refuse_blob(g.data, g.len, "no content checksum");
    strom_buf_release(&f);
    strom_buf_release(&g);
    free(d);
}

/* ---- manifests ---- */

static char name_a[] = "instance-0.kg-7", name_b[] = "op.sum.1", name_c[] = "z_last";

/* n = 42, fingerprint FX_FP, metadata, three blobs; or (empty) nothing at all. */
static void manifest(int empty, struct strom_ckpt__manifest *m, struct strom_ckpt__entry *e)
{
    static uint8_t meta[] = "source=a.csv offset=123456";

    memset(m, 0, sizeof *m);
    m->n = empty ? 1 : 42;
    if (empty)
        return;
    m->fingerprint_len = strlen(FX_FP);
    memcpy(m->fingerprint, FX_FP, m->fingerprint_len);
    m->meta = meta;
    m->meta_len = sizeof meta - 1;
    e[0] = (struct strom_ckpt__entry){name_a, {100, 80, 0x1111}, 1};
    e[1] = (struct strom_ckpt__entry){name_b, {0, 13, 0x2222}, 1};
    e[2] = (struct strom_ckpt__entry){name_c, {1u << 30, 5000, 0x3333}, 1};
    m->blobs = e;
    m->nblobs = 3;
}

static void test_manifest_roundtrip(void **unused)
{
    struct strom_ckpt__entry e[3];
    struct strom_ckpt__manifest m, back;
    struct strom_buf b = {0}, b2 = {0};
    char err[256];
    (void)unused;

    for (int empty = 0; empty < 2; empty++) {
        manifest(empty, &m, e);
        b.len = b2.len = 0;
        assert_int_equal(strom_ckpt__manifest_encode(&m, &b), 0);
        assert_int_equal(b.len, STROM_CKPT__MANIFEST_MIN +
                                    (empty ? 0 : strlen(FX_FP) + m.meta_len + 3 * 28 + 15 + 8 + 6));
        assert_int_equal(get64(b.data + 8), b.len);
        assert_int_equal(strom_ckpt__manifest_decode(b.data, b.len, "M", &back, err, sizeof err),
                         0);
        assert_int_equal(back.n, m.n);
        assert_int_equal(back.fingerprint_len, m.fingerprint_len);
        assert_memory_equal(back.fingerprint, m.fingerprint, m.fingerprint_len);
        assert_int_equal(back.meta_len, m.meta_len);
        assert_int_equal(back.nblobs, m.nblobs);
        for (size_t i = 0; i < m.nblobs; i++) {
            assert_string_equal(back.blobs[i].name, m.blobs[i].name);
            assert_memory_equal(&back.blobs[i].h, &m.blobs[i].h, sizeof m.blobs[i].h);
        }
        assert_int_equal(strom_ckpt__manifest_encode(&back, &b2), 0);
        assert_int_equal(b2.len, b.len);
        assert_memory_equal(b2.data, b.data, b.len);
        strom_ckpt__manifest_release(&back);
    }
    strom_buf_release(&b);
    strom_buf_release(&b2);
}

static void test_manifest_cuts_and_flips(void **unused)
{
    struct strom_ckpt__entry e[3];
    struct strom_ckpt__manifest m, back;
    struct strom_buf b = {0};
    char err[512];
    (void)unused;

    manifest(0, &m, e);
    assert_int_equal(strom_ckpt__manifest_encode(&m, &b), 0);
    for (size_t len = 0; len < b.len; len++) {
        uint8_t *copy = malloc(len + 1);
        memcpy(copy, b.data, len);
        err[0] = 0;
        assert_int_equal(
            strom_ckpt__manifest_decode(copy, len, "d/MANIFEST", &back, err, sizeof err),
            STROM_E_CORRUPT);
        assert_non_null(strstr(err, "d/MANIFEST: truncated"));
        free(copy);
    }
    for (size_t bit = 0; bit < b.len * 8; bit++) {
        b.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        err[0] = 0;
        int rc = strom_ckpt__manifest_decode(b.data, b.len, "d/MANIFEST", &back, err, sizeof err);
        b.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(rc, bit / 8 >= 4 && bit / 8 < 8 ? STROM_E_VERSION : STROM_E_CORRUPT);
        assert_non_null(strstr(err, "d/MANIFEST: "));
    }
    strom_buf_release(&b);
}

static void refuse_manifest(const uint8_t *p, size_t len, const char *want)
{
    struct strom_ckpt__manifest back;
    uint8_t *copy = malloc(len);
    char err[512] = "";

    memcpy(copy, p, len);
    reseal_manifest(copy, len);
    assert_int_equal(strom_ckpt__manifest_decode(copy, len, "M", &back, err, sizeof err),
                     STROM_E_CORRUPT);
    if (!strstr(err, want))
        fail_msg("expected '%s' in: %s", want, err);
    free(copy);
}

static void test_manifest_resealed(void **unused)
{
    struct strom_ckpt__entry e[3];
    struct strom_ckpt__manifest m;
    struct strom_buf b = {0};
    size_t fp = 28, meta, count, first;
    (void)unused;

    manifest(0, &m, e);
    assert_int_equal(strom_ckpt__manifest_encode(&m, &b), 0);
    meta = fp + strlen(FX_FP);
    count = meta + 8 + m.meta_len;
    first = count + 4;
    assert_int_equal(get64(b.data + fp - 4) & 0xffffffff, strlen(FX_FP));
    assert_int_equal(get64(b.data + meta), m.meta_len);
    /* fingerprint too long; metadata and count past the end */
    b.data[fp - 2] = 1;
    refuse_manifest(b.data, b.len, "fingerprint of 65569 bytes");
    b.data[fp - 2] = 0;
    b.data[meta + 5] = 1;
    refuse_manifest(b.data, b.len, "runs past the end");
    b.data[meta + 5] = 0;
    b.data[count + 3] = 0x10;
    refuse_manifest(b.data, b.len, "runs past the end");
    b.data[count + 3] = 0;
    /* one blob fewer: the rest is left over */
    b.data[count] = 2;
    refuse_manifest(b.data, b.len, "bytes after the last blob entry");
    b.data[count] = 3;
    /* names: invalid, out of order */
    b.data[first + 4] = '/';
    refuse_manifest(b.data, b.len, "blob 0 has an invalid name");
    b.data[first + 4] = 'z';
    refuse_manifest(b.data, b.len, "names out of order or repeated");
    b.data[first + 4] = 'i';
    /* stored length beyond what a file can hold */
    b.data[first + 4 + strlen(name_a) + 8 + 7] = 0x80;
    refuse_manifest(b.data, b.len, "stored bytes");
    strom_buf_release(&b);
}

/* ---- the finished marker ---- */

static void test_finished_format(void **unused)
{
    uint8_t fp[STROM_CKPT_FINGERPRINT_MAX];
    struct strom_buf b = {0};
    size_t fp_len;
    char err[256];
    (void)unused;

    assert_int_equal(strom_ckpt__finished_encode((const uint8_t *)"abc", 3, &b), 0);
    assert_int_equal(b.len, 12 + 3 + 8);
    assert_int_equal(strom_ckpt__finished_decode(b.data, b.len, "F", fp, &fp_len, err, sizeof err),
                     0);
    assert_int_equal(fp_len, 3);
    assert_memory_equal(fp, "abc", 3);
    for (size_t len = 0; len < b.len; len++)
        assert_int_equal(
            strom_ckpt__finished_decode(b.data, len, "F", fp, &fp_len, err, sizeof err),
            STROM_E_CORRUPT);
    for (size_t bit = 0; bit < b.len * 8; bit++) {
        b.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int rc = strom_ckpt__finished_decode(b.data, b.len, "F", fp, &fp_len, err, sizeof err);
        b.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(rc, bit / 8 >= 4 && bit / 8 < 8 ? STROM_E_VERSION : STROM_E_CORRUPT);
    }
    /* a fingerprint length that disagrees with the size, behind a good checksum */
    b.data[8] = 4;
    put64(b.data + b.len - 8, strom_xxh64(b.data, b.len - 8));
    assert_int_equal(strom_ckpt__finished_decode(b.data, b.len, "F", fp, &fp_len, err, sizeof err),
                     STROM_E_CORRUPT);
    assert_non_null(strstr(err, "fingerprint of 4 bytes in a 23-byte marker"));
    strom_buf_release(&b);
}

static void test_names(void **unused)
{
    static const char *good[] = {"a", "A-z_0.9", "x.tmpx", "MANIFEST2", "op.snap"};
    static const char *bad[] = {"", ".a", "a/b", "a b", "x.tmp", "MANIFEST", "é", "a\n"};
    char longest[STROM_CKPT_NAME_MAX + 2];
    (void)unused;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(strom_ckpt__name_ok(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(strom_ckpt__name_ok(bad[i], strlen(bad[i])));
    memset(longest, 'n', sizeof longest);
    assert_true(strom_ckpt__name_ok(longest, STROM_CKPT_NAME_MAX));
    assert_false(strom_ckpt__name_ok(longest, STROM_CKPT_NAME_MAX + 1));
}

/* ---- the fuzzer's seeds ---- */

/* Seed i: its file name, its bytes (flags byte first; see tests/fuzz/fuzz_ckpt.c) and, for a
 * blob file, the raw content it must decode to. Returns 0 past the last seed. */
static int make_seed(int i, const char **name, struct strom_buf *seed, uint8_t **raw,
                     size_t *raw_len)
{
    struct strom_ckpt__entry e[3];
    struct strom_ckpt__manifest m = {0};
    struct strom_buf f = {0};
    uint8_t flags;

    *raw = NULL;
    *raw_len = 0;
    seed->len = 0;
    static const struct {
        const char *name;
        uint8_t flags;
        int content; /* blob: 0 none, 1 text, 2 random; manifest: 1 empty, 0 three blobs */
        size_t len;
    } seeds[] = {
        {"blob-empty", 0, 0, 0},
        {"blob-text", 0, 1, 2000},
        {"blob-random-reseal", 4, 2, 300},
        {"blob-header", 3, 1, 10},
        {"manifest-empty", 1, 1, 0},
        {"manifest-three", 1, 0, 0},
        {"manifest-three-reseal", 5, 0, 0},
        {"finished", 2, 0, 0},
    };

    if (i >= (int)(sizeof seeds / sizeof seeds[0]))
        return 0;
    *name = seeds[i].name;
    flags = seeds[i].flags;
    if ((flags & 3) == 1) {
        manifest(seeds[i].content, &m, e);
    } else if ((flags & 3) != 2 && seeds[i].content) {
        *raw_len = seeds[i].len;
        *raw = seeds[i].content == 1 ? fx_text((uint64_t)i, *raw_len)
                                     : fx_random((uint64_t)i, *raw_len);
    }
    assert_int_equal(strom_buf_append(seed, &flags, 1), 0);
    if ((flags & 3) == 0 || (flags & 3) == 3) {
        blob_file(*raw, *raw_len, &f);
        assert_int_equal(strom_buf_append(seed, f.data, f.len), 0);
    } else if ((flags & 3) == 1) {
        assert_int_equal(strom_ckpt__manifest_encode(&m, seed), 0);
    } else {
        assert_int_equal(strom_ckpt__finished_encode((const uint8_t *)FX_FP, strlen(FX_FP), seed),
                         0);
    }
    strom_buf_release(&f);
    return 1;
}

static void test_fuzz_corpus(void **unused)
{
    const char *f = __FILE__, *p = strstr(f, "tests/unit/ckpt/"), *name;
    int regen = getenv("STROM_REGEN_CORPUS") != NULL;
    struct strom_buf seed = {0};
    uint8_t *raw, *out;
    size_t raw_len, out_len;
    char dir[4096], err[256];
    (void)unused;

    /* CMake compiles with absolute paths, so the corpus is found from any directory. */
    snprintf(dir, sizeof dir, "%.*stests/fuzz/corpus/ckpt", (int)(p ? p - f : 0), f);
    for (int i = 0; make_seed(i, &name, &seed, &raw, &raw_len); i++) {
        if (regen) {
            assert_int_equal(tu_write_file(tu_path(dir, name), seed.data, seed.len), 0);
        } else {
            size_t len = 0;
            uint8_t *have = (uint8_t *)tu_read_file(tu_path(dir, name), &len);
            if (!have)
                fail_msg("%s missing (STROM_REGEN_CORPUS=1 writes it)", tu_path(dir, name));
            if ((seed.data[0] & 3) == 0 || (seed.data[0] & 3) == 3) {
                if (len < 1 || have[0] != seed.data[0] ||
                    strom_ckpt__blob_decode(have + 1, len - 1, name, NULL, &out, &out_len, err,
                                            sizeof err) ||
                    out_len != raw_len || (raw_len && memcmp(out, raw, raw_len)))
                    fail_msg("%s no longer decodes to its content; if the format changed on "
                             "purpose, STROM_REGEN_CORPUS=1 rewrites it",
                             tu_path(dir, name));
                free(out);
            } else if (len != seed.len || memcmp(have, seed.data, len)) {
                fail_msg("%s differs from what the format writes now; if the format changed "
                         "on purpose, STROM_REGEN_CORPUS=1 rewrites it",
                         tu_path(dir, name));
            }
            free(have);
        }
        free(raw);
    }
    strom_buf_release(&seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xxh64),
        cmocka_unit_test(test_blob_roundtrip),
        cmocka_unit_test(test_blob_cuts_and_flips),
        cmocka_unit_test(test_blob_resealed),
        cmocka_unit_test(test_manifest_roundtrip),
        cmocka_unit_test(test_manifest_cuts_and_flips),
        cmocka_unit_test(test_manifest_resealed),
        cmocka_unit_test(test_finished_format),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_fuzz_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
