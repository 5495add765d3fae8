/*
 * ckpt/format.c: the bytes of blob files, manifests and the finished marker; the byte
 * tables are in docs/internals/checkpoints.md.
 *
 * Every decoder here reads outside input (disks lie, files get cut): magic and version
 * first (so that a newer format is named as such), then the checksum, then each field
 * through a bounds-checked reader, each count and length checked against the bytes that
 * remain before anything is allocated for it. Messages start with the file's path.
 *
 * A decoded manifest or marker encodes back to exactly its bytes (one encoding per value:
 * blobs in strictly ascending name order, no slack anywhere); the fuzzer checks it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "ckpt/ckpt_int.h"
#include "strom/error.h"

#define ZSTD_MAGIC 0xFD2FB528u
#define ZSTD_CHECKSUM_FLAG 0x04
/* Output of a blob's decompression starts this large and doubles up to the raw length. */
#define DECODE_START ((size_t)64 << 10)
#define COMPRESS_CHUNK ((size_t)256 << 10)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int corrupt(char *err, size_t errlen, const char *path, const char *what)
{
    return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT, "%s: %s", path, what);
}

int strom_ckpt__name_ok(const char *name, size_t len)
{
    if (len == 0 || len > STROM_CKPT_NAME_MAX || name[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    if (len >= 4 && !memcmp(name + len - 4, STROM_CKPT__TMP, 4))
        return 0;
    return !(len == strlen(STROM_CKPT__MANIFEST) && !memcmp(name, STROM_CKPT__MANIFEST, len));
}

void strom_ckpt__fp_format(const uint8_t *fp, size_t len, char *out, size_t outlen)
{
    size_t show = len, k = 0;
    int text = len > 0;

    for (size_t i = 0; i < len; i++)
        if (fp[i] < 0x20 || fp[i] > 0x7e || fp[i] == '\'' || fp[i] == '\\')
            text = 0;
    if (outlen == 0)
        return;
    out[0] = 0;
    if (len == 0) {
        snprintf(out, outlen, "(empty)");
    } else if (text) {
        if (show > 48)
            show = 48;
        snprintf(out, outlen, "'%.*s'%s", (int)show, (const char *)fp, show < len ? "..." : "");
    } else {
        if (show > 16)
            show = 16;
        for (size_t i = 0; i < show && k + 3 < outlen; i++)
            k += (size_t)snprintf(out + k, outlen - k, "%02x", fp[i]);
        if (show < len && k + 4 < outlen)
            snprintf(out + k, outlen - k, "...");
    }
}

/* ---- blob files ---- */

void strom_ckpt__blob_hdr_encode(const struct strom_ckpt__blob_hdr *h,
                                 uint8_t out[STROM_CKPT__BLOB_HDR])
{
    memcpy(out, STROM_CKPT__BLOB_MAGIC, 4);
    put32(out + 4, STROM_CKPT__VERSION);
    put32(out + 8, STROM_CKPT__KIND_ZSTD);
    put32(out + 12, 0);
    put64(out + 16, h->raw_len);
    put64(out + 24, h->stored_len);
    put64(out + 32, h->checksum);
    put64(out + 40, strom_xxh64(out, 40));
}

int strom_ckpt__blob_hdr_decode(const uint8_t *p, uint64_t file_len, const char *path,
                                struct strom_ckpt__blob_hdr *h, char *err, size_t errlen)
{
    uint32_t version, kind;

    if (file_len < STROM_CKPT__BLOB_HDR)
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: truncated: %" PRIu64 " bytes, shorter than the %d-byte "
                                "header of a blob file",
                                path, file_len, STROM_CKPT__BLOB_HDR);
    if (memcmp(p, STROM_CKPT__BLOB_MAGIC, 4))
        return corrupt(err, errlen, path, "not a checkpoint blob file (wrong magic)");
    version = le32(p + 4);
    if (version != STROM_CKPT__VERSION)
        return strom_ckpt__fail(err, errlen, STROM_E_VERSION,
                                "%s: blob format version %" PRIu32 ", this build reads %d", path,
                                version, STROM_CKPT__VERSION);
    if (strom_xxh64(p, 40) != le64(p + 40))
        return corrupt(err, errlen, path, "header checksum mismatch (damaged header)");
    kind = le32(p + 8);
    if (kind != STROM_CKPT__KIND_ZSTD || le32(p + 12) != 0)
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: unknown blob kind %" PRIu32 " (flags %" PRIu32 ")", path, kind,
                                le32(p + 12));
    h->raw_len = le64(p + 16);
    h->stored_len = le64(p + 24);
    h->checksum = le64(p + 32);
    if (h->stored_len != file_len - STROM_CKPT__BLOB_HDR)
        return strom_ckpt__fail(
            err, errlen, STROM_E_CORRUPT,
            "%s: %s: %" PRIu64 " bytes after the header, which records %" PRIu64, path,
            h->stored_len > file_len - STROM_CKPT__BLOB_HDR ? "truncated" : "trailing bytes",
            file_len - STROM_CKPT__BLOB_HDR, h->stored_len);
    return 0;
}

static int zstd_fail(char *err, size_t errlen, const char *what, size_t code)
{
    if (ZSTD_getErrorCode(code) == ZSTD_error_memory_allocation)
        return strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory in zstd", what);
    return strom_ckpt__fail(err, errlen, STROM_E_INVAL, "%s: zstd: %s", what,
                            ZSTD_getErrorName(code));
}

int strom_ckpt__blob_compress(const void *data, size_t len, int level,
                              int (*sink)(void *arg, const uint8_t *p, size_t n), void *arg,
                              struct strom_ckpt__blob_hdr *h, char *err, size_t errlen)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    uint8_t *chunk = malloc(COMPRESS_CHUNK);
    ZSTD_inBuffer in = {data, len, 0};
    struct strom_xxh64 xs;
    size_t r;
    int rc = 0;

    strom_xxh64_init(&xs);
    h->raw_len = len;
    h->stored_len = 0;
    if (!cc || !chunk) {
        rc = strom_ckpt__fail(err, errlen, -ENOMEM, "compressing a blob: out of memory");
        goto out;
    }
    r = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level ? level : ZSTD_CLEVEL_DEFAULT);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setPledgedSrcSize(cc, len);
    do {
        ZSTD_outBuffer o = {chunk, COMPRESS_CHUNK, 0};
        if (ZSTD_isError(r))
            break;
        r = ZSTD_compressStream2(cc, &o, &in, ZSTD_e_end);
        if (!ZSTD_isError(r) && o.pos) {
            strom_xxh64_update(&xs, chunk, o.pos);
            h->stored_len += o.pos;
            rc = sink(arg, chunk, o.pos);
        }
    } while (!rc && r != 0);
    if (!rc && ZSTD_isError(r))
        rc = zstd_fail(err, errlen, "compressing a blob", r);
    h->checksum = strom_xxh64_digest(&xs);
out:
    ZSTD_freeCCtx(cc);
    free(chunk);
    return rc;
}

static int buf_sink(void *arg, const uint8_t *p, size_t n)
{
    return strom_buf_append(arg, p, n);
}

int strom_ckpt__blob_encode(const void *data, size_t len, int level, struct strom_buf *out,
                            char *err, size_t errlen)
{
    uint8_t hdr[STROM_CKPT__BLOB_HDR] = {0};
    struct strom_ckpt__blob_hdr h;
    size_t start = out->len;
    int rc = strom_buf_append(out, hdr, sizeof hdr);

    if (!rc)
        rc = strom_ckpt__blob_compress(data, len, level, buf_sink, out, &h, err, errlen);
    if (rc) {
        out->len = start;
        return rc;
    }
    strom_ckpt__blob_hdr_encode(&h, out->data + start);
    return 0;
}

/* The zstd frame src[0..n) into exactly raw bytes. */
static int decompress(const uint8_t *src, size_t n, uint64_t raw, const char *path, uint8_t **out,
                      char *err, size_t errlen)
{
    unsigned long long cs;
    ZSTD_DCtx *dc = NULL;
    ZSTD_inBuffer in = {src, n, 0};
    ZSTD_outBuffer ob = {NULL, 0, 0};
    char what[64];
    size_t r;
    int rc = 0;

    if (n < 5 || le32(src) != ZSTD_MAGIC)
        return corrupt(err, errlen, path, "the stored bytes are not a zstd frame");
    if (!(src[4] & ZSTD_CHECKSUM_FLAG))
        return corrupt(err, errlen, path, "the zstd frame has no content checksum");
    cs = ZSTD_getFrameContentSize(src, n);
    if (cs == ZSTD_CONTENTSIZE_ERROR || cs == ZSTD_CONTENTSIZE_UNKNOWN)
        return corrupt(err, errlen, path, "the zstd frame header is damaged or lacks a size");
    if (cs != raw)
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: the zstd frame holds %llu bytes, the header records "
                                "%" PRIu64,
                                path, cs, raw);
    if (raw > SIZE_MAX / 2)
        return corrupt(err, errlen, path, "too large for this machine");
    ob.size = raw < DECODE_START ? (size_t)raw : DECODE_START;
    ob.dst = malloc(ob.size ? ob.size : 1);
    dc = ZSTD_createDCtx();
    if (!ob.dst || !dc) {
        rc = strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    for (;;) {
        size_t in0 = in.pos, out0 = ob.pos;
        r = ZSTD_decompressStream(dc, &ob, &in);
        if (ZSTD_isError(r)) {
            snprintf(what, sizeof what, "zstd: %s", ZSTD_getErrorName(r));
            rc = ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation
                     ? strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", path)
                     : corrupt(err, errlen, path, what);
            goto out;
        }
        if (r == 0)
            break;
        if (ob.pos == ob.size && ob.size < raw) {
            size_t cap = ob.size * 2 < raw ? ob.size * 2 : (size_t)raw;
            void *grown = realloc(ob.dst, cap);
            if (!grown) {
                rc = strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", path);
                goto out;
            }
            ob.dst = grown;
            ob.size = cap;
        } else if (in.pos == in0 && ob.pos == out0) {
            rc = corrupt(err, errlen, path,
                         ob.pos == ob.size ? "the zstd frame holds more than its content size"
                                           : "truncated zstd frame");
            goto out;
        }
    }
    if (in.pos != n)
        rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                              "%s: %zu bytes after the end of the zstd frame", path, n - in.pos);
    else if (ob.pos != raw)
        rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                              "%s: the zstd frame gave %zu bytes, the header records %" PRIu64,
                              path, ob.pos, raw);
out:
    ZSTD_freeDCtx(dc);
    if (rc)
        free(ob.dst);
    else
        *out = ob.dst;
    return rc;
}

int strom_ckpt__blob_decode(const uint8_t *p, size_t len, const char *path,
                            struct strom_ckpt__blob_hdr *h, uint8_t **out, size_t *out_len,
                            char *err, size_t errlen)
{
    struct strom_ckpt__blob_hdr hh;
    uint64_t sum;
    int rc = strom_ckpt__blob_hdr_decode(p, len, path, &hh, err, errlen);

    if (rc)
        return rc;
    sum = strom_xxh64(p + STROM_CKPT__BLOB_HDR, len - STROM_CKPT__BLOB_HDR);
    if (sum != hh.checksum)
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: checksum mismatch over the %zu stored bytes (recorded "
                                "%016" PRIx64 ", computed %016" PRIx64 ")",
                                path, len - STROM_CKPT__BLOB_HDR, hh.checksum, sum);
    rc = decompress(p + STROM_CKPT__BLOB_HDR, len - STROM_CKPT__BLOB_HDR, hh.raw_len, path, out,
                    err, errlen);
    if (rc)
        return rc;
    *out_len = (size_t)hh.raw_len;
    if (h)
        *h = hh;
    return 0;
}

/* ---- manifests ---- */

void strom_ckpt__manifest_release(struct strom_ckpt__manifest *m)
{
    for (size_t i = 0; i < m->nblobs; i++)
        free(m->blobs[i].name);
    free(m->blobs);
    free(m->meta);
    memset(m, 0, sizeof *m);
}

int strom_ckpt__manifest_encode(const struct strom_ckpt__manifest *m, struct strom_buf *out)
{
    size_t start = out->len;
    int rc = strom_buf_append(out, STROM_CKPT__MANIFEST_MAGIC, 4);

    if (!rc)
        rc = strom_buf_put_u32(out, STROM_CKPT__VERSION);
    if (!rc)
        rc = strom_buf_put_u64(out, 0); /* the length, patched below */
    if (!rc)
        rc = strom_buf_put_u64(out, m->n);
    if (!rc)
        rc = strom_buf_put_u32(out, (uint32_t)m->fingerprint_len);
    if (!rc)
        rc = strom_buf_append(out, m->fingerprint, m->fingerprint_len);
    if (!rc)
        rc = strom_buf_put_u64(out, m->meta_len);
    if (!rc)
        rc = strom_buf_append(out, m->meta, m->meta_len);
    if (!rc)
        rc = strom_buf_put_u32(out, (uint32_t)m->nblobs);
    for (size_t i = 0; !rc && i < m->nblobs; i++) {
        const struct strom_ckpt__entry *e = &m->blobs[i];
        size_t nlen = strlen(e->name);
        rc = strom_buf_put_u32(out, (uint32_t)nlen);
        if (!rc)
            rc = strom_buf_append(out, e->name, nlen);
        if (!rc)
            rc = strom_buf_put_u64(out, e->h.raw_len);
        if (!rc)
            rc = strom_buf_put_u64(out, e->h.stored_len);
        if (!rc)
            rc = strom_buf_put_u64(out, e->h.checksum);
    }
    if (!rc) {
        put64(out->data + start + 8, out->len - start + 8);
        rc = strom_buf_put_u64(out, strom_xxh64(out->data + start, out->len - start));
    }
    if (rc)
        out->len = start;
    return rc;
}

/* The header common to manifests and markers: magic, version; then the checksum over all
 * bytes before the last 8. */
static int check_envelope(const uint8_t *p, size_t len, size_t min, const char *magic,
                          const char *what, const char *path, char *err, size_t errlen)
{
    uint32_t version;
    uint64_t sum;

    if (len < 8 || memcmp(p, magic, 4))
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT, "%s: %s (%zu bytes)", path,
                                len < 8 ? "truncated" : "wrong magic", len);
    version = le32(p + 4);
    if (version != STROM_CKPT__VERSION)
        return strom_ckpt__fail(err, errlen, STROM_E_VERSION,
                                "%s: %s format version %" PRIu32 ", this build reads %d", path,
                                what, version, STROM_CKPT__VERSION);
    if (len < min)
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: truncated: %zu bytes, a %s has at least %zu", path, len, what,
                                min);
    sum = strom_xxh64(p, len - 8);
    if (sum != le64(p + len - 8))
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: %s checksum mismatch (recorded %016" PRIx64
                                ", computed %016" PRIx64 ")",
                                path, what, le64(p + len - 8), sum);
    return 0;
}

/* Fills m as far as it gets; the caller releases it on failure. */
static int manifest_parse(const uint8_t *p, size_t len, const char *path,
                          struct strom_ckpt__manifest *m, char *err, size_t errlen)
{
    struct strom_reader r;
    uint64_t total, meta_len;
    uint32_t fp_len, count;
    int rc;

    memset(m, 0, sizeof *m);
    /* The length field first, so that a cut file is called truncated, not damaged. */
    if (len >= 16 && !memcmp(p, STROM_CKPT__MANIFEST_MAGIC, 4) &&
        le32(p + 4) == STROM_CKPT__VERSION && (total = le64(p + 8)) != len)
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: %s: %zu bytes, the manifest records %" PRIu64, path,
                                total > len ? "truncated" : "trailing bytes", len, total);
    rc = check_envelope(p, len, STROM_CKPT__MANIFEST_MIN, STROM_CKPT__MANIFEST_MAGIC, "manifest",
                        path, err, errlen);
    if (rc)
        return rc;
    r = (struct strom_reader){p + 16, len - 16 - 8};
    if (strom_reader_u64(&r, &m->n) || strom_reader_u32(&r, &fp_len))
        goto cut;
    if (fp_len > STROM_CKPT_FINGERPRINT_MAX)
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: fingerprint of %" PRIu32 " bytes (at most %d)", path, fp_len,
                                STROM_CKPT_FINGERPRINT_MAX);
    if (strom_reader_bytes(&r, m->fingerprint, fp_len) || strom_reader_u64(&r, &meta_len))
        goto cut;
    m->fingerprint_len = fp_len;
    if (meta_len > r.left)
        goto cut;
    m->meta = malloc(meta_len ? (size_t)meta_len : 1);
    if (!m->meta)
        goto nomem;
    m->meta_len = (size_t)meta_len;
    if (strom_reader_bytes(&r, m->meta, m->meta_len) || strom_reader_u32(&r, &count))
        goto cut;
    if (count > r.left / STROM_CKPT__ENTRY_MIN)
        goto cut;
    m->blobs = calloc(count ? count : 1, sizeof *m->blobs);
    if (!m->blobs)
        goto nomem;
    for (uint32_t i = 0; i < count; i++) {
        struct strom_ckpt__entry *e = &m->blobs[i];
        uint32_t nlen;
        if (strom_reader_u32(&r, &nlen) || nlen > r.left)
            goto cut;
        if (!strom_ckpt__name_ok((const char *)r.p, nlen))
            return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                    "%s: blob %" PRIu32 " has an invalid name", path, i);
        e->name = malloc(nlen + 1);
        if (!e->name)
            goto nomem;
        m->nblobs++;
        strom_reader_bytes(&r, e->name, nlen);
        e->name[nlen] = 0;
        if (i > 0 && strcmp(m->blobs[i - 1].name, e->name) >= 0)
            return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                    "%s: blob '%s' follows '%s': names out of order or repeated",
                                    path, e->name, m->blobs[i - 1].name);
        if (strom_reader_u64(&r, &e->h.raw_len) || strom_reader_u64(&r, &e->h.stored_len) ||
            strom_reader_u64(&r, &e->h.checksum))
            goto cut;
        if (e->h.stored_len > (uint64_t)INT64_MAX - STROM_CKPT__BLOB_HDR)
            return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                    "%s: blob '%s' records %" PRIu64 " stored bytes", path, e->name,
                                    e->h.stored_len);
    }
    if (r.left)
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: %zu bytes after the last blob entry", path, r.left);
    return 0;
cut:
    return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                            "%s: a field at byte %zu runs past the end of the manifest", path,
                            (size_t)(r.p - p));
nomem:
    return strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", path);
}

int strom_ckpt__manifest_decode(const uint8_t *p, size_t len, const char *path,
                                struct strom_ckpt__manifest *m, char *err, size_t errlen)
{
    int rc = manifest_parse(p, len, path, m, err, errlen);

    if (rc)
        strom_ckpt__manifest_release(m);
    return rc;
}

/* ---- the finished marker ---- */

int strom_ckpt__finished_encode(const uint8_t *fp, size_t fp_len, struct strom_buf *out)
{
    size_t start = out->len;
    int rc = strom_buf_append(out, STROM_CKPT__FINISHED_MAGIC, 4);

    if (!rc)
        rc = strom_buf_put_u32(out, STROM_CKPT__VERSION);
    if (!rc)
        rc = strom_buf_put_u32(out, (uint32_t)fp_len);
    if (!rc)
        rc = strom_buf_append(out, fp, fp_len);
    if (!rc)
        rc = strom_buf_put_u64(out, strom_xxh64(out->data + start, out->len - start));
    if (rc)
        out->len = start;
    return rc;
}

int strom_ckpt__finished_decode(const uint8_t *p, size_t len, const char *path, uint8_t *fp,
                                size_t *fp_len, char *err, size_t errlen)
{
    uint32_t n;
    int rc = check_envelope(p, len, 4 + 4 + 4 + 8, STROM_CKPT__FINISHED_MAGIC, "finished marker",
                            path, err, errlen);

    if (rc)
        return rc;
    n = le32(p + 8);
    if (n > STROM_CKPT_FINGERPRINT_MAX || 12 + (size_t)n + 8 != len)
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: fingerprint of %" PRIu32 " bytes in a %zu-byte marker", path,
                                n, len);
    memcpy(fp, p + 12, n);
    *fp_len = n;
    return 0;
}
