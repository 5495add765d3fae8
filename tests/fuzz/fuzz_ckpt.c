/*
 * tests/fuzz/fuzz_ckpt.c: libFuzzer target for the decoders of the checkpoint store
 * (ckpt/format.c): blob files, manifests and the finished marker.
 *
 * Input: a flags byte, then the bytes of a file. Flags bits 0-1 pick the decoder: 0 a whole
 * blob file, 1 a manifest, 2 a finished marker, 3 a blob file's header alone; bit 2 reseals
 * the bytes first (checksums, and the fields that give the file's own length: a blob's
 * stored length, a manifest's total length), so that mutations get past them to the checks
 * behind. The seeds in tests/fuzz/corpus/ckpt/ are written by tests/unit/ckpt/test_format.c.
 *
 * Checked on every input: no decoder crashes, reads out of bounds or leaks; a refusal is
 * STROM_E_CORRUPT or STROM_E_VERSION with a message that names the file; an accepted blob
 * gives the length its header records and, compressed again, decodes to the same bytes; an
 * accepted manifest or marker encodes back to exactly its input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/ckpt_int.h"
#include "strom/error.h"

#include "fuzz.h"

#define PATH "fuzz/ckpt-1/file"
/* Accepted blobs up to this size are compressed again; larger ones (a few bytes of RLE
 * blocks make megabytes) would only slow the fuzzer down. */
#define RECOMPRESS_MAX ((size_t)1 << 20)

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void reseal(int which, uint8_t *p, size_t len)
{
    if ((which == 0 || which == 3) && len >= STROM_CKPT__BLOB_HDR) {
        put64(p + 24, len - STROM_CKPT__BLOB_HDR);
        put64(p + 32, strom_xxh64(p + STROM_CKPT__BLOB_HDR, len - STROM_CKPT__BLOB_HDR));
        put64(p + 40, strom_xxh64(p, 40));
    } else if (which == 1 && len >= 24) {
        put64(p + 8, len);
        put64(p + len - 8, strom_xxh64(p, len - 8));
    } else if (which == 2 && len >= 16) {
        put64(p + len - 8, strom_xxh64(p, len - 8));
    }
}

static void check_refusal(int rc, const char *err)
{
    CHECK(rc == STROM_E_CORRUPT || rc == STROM_E_VERSION || rc == -ENOMEM);
    CHECK(strncmp(err, PATH ": ", strlen(PATH) + 2) == 0);
}

static void blob(const uint8_t *p, size_t len)
{
    struct strom_ckpt__blob_hdr h;
    struct strom_buf again = {0};
    uint8_t *out = NULL, *out2 = NULL;
    size_t out_len = 0, out2_len = 0;
    char err[512] = "";
    int rc = strom_ckpt__blob_decode(p, len, PATH, &h, &out, &out_len, err, sizeof err);

    if (rc) {
        check_refusal(rc, err);
        CHECK(out == NULL);
        return;
    }
    CHECK(out != NULL && h.raw_len == out_len && h.stored_len + STROM_CKPT__BLOB_HDR == len);
    CHECK(h.checksum == strom_xxh64(p + STROM_CKPT__BLOB_HDR, len - STROM_CKPT__BLOB_HDR));
    if (out_len <= RECOMPRESS_MAX) {
        CHECK(strom_ckpt__blob_encode(out, out_len, 1, &again, err, sizeof err) == 0);
        CHECK(strom_ckpt__blob_decode(again.data, again.len, PATH, NULL, &out2, &out2_len, err,
                                      sizeof err) == 0);
        CHECK(out2_len == out_len && (out_len == 0 || memcmp(out, out2, out_len) == 0));
    }
    free(out);
    free(out2);
    strom_buf_release(&again);
}

static void blob_header(const uint8_t *p, size_t len)
{
    struct strom_ckpt__blob_hdr h;
    char err[512] = "";
    int rc = strom_ckpt__blob_hdr_decode(p, len, PATH, &h, err, sizeof err);

    if (rc)
        check_refusal(rc, err);
    else
        CHECK(h.stored_len + STROM_CKPT__BLOB_HDR == len);
}

static void manifest(const uint8_t *p, size_t len)
{
    struct strom_ckpt__manifest m;
    struct strom_buf again = {0};
    char err[512] = "";
    int rc = strom_ckpt__manifest_decode(p, len, PATH, &m, err, sizeof err);

    if (rc) {
        check_refusal(rc, err);
        return;
    }
    for (size_t i = 0; i < m.nblobs; i++) {
        CHECK(strom_ckpt__name_ok(m.blobs[i].name, strlen(m.blobs[i].name)));
        CHECK(i == 0 || strcmp(m.blobs[i - 1].name, m.blobs[i].name) < 0);
    }
    CHECK(strom_ckpt__manifest_encode(&m, &again) == 0);
    CHECK(again.len == len && memcmp(again.data, p, len) == 0);
    strom_ckpt__manifest_release(&m);
    strom_buf_release(&again);
}

static void finished(const uint8_t *p, size_t len)
{
    uint8_t fp[STROM_CKPT_FINGERPRINT_MAX];
    struct strom_buf again = {0};
    size_t fp_len = 0;
    char err[512] = "";
    int rc = strom_ckpt__finished_decode(p, len, PATH, fp, &fp_len, err, sizeof err);

    if (rc) {
        check_refusal(rc, err);
        return;
    }
    CHECK(strom_ckpt__finished_encode(fp, fp_len, &again) == 0);
    CHECK(again.len == len && memcmp(again.data, p, len) == 0);
    strom_buf_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *bytes;
    size_t len;
    int which;

    if (size < 1)
        return 0;
    which = data[0] & 3;
    len = size - 1;
    /* Exactly len bytes, so that ASan sees any read past the end. */
    bytes = malloc(len ? len : 1);
    CHECK(bytes);
    memcpy(bytes, data + 1, len);
    if (data[0] & 4)
        reseal(which, bytes, len);
    switch (which) {
    case 0:
        blob(bytes, len);
        break;
    case 1:
        manifest(bytes, len);
        break;
    case 2:
        finished(bytes, len);
        break;
    default:
        blob_header(bytes, len);
        break;
    }
    free(bytes);
    return 0;
}
