/*
 * ckpt/share.c: a checkpoint directory shared by the processes of one distributed job
 * (strom/ckpt.h, "Shared checkpoints"): join, export, adopt.
 *
 * The committer begins checkpoint n, which creates its directory; every other process joins
 * n (opens that directory) and puts its blobs there, each durable as in a checkpoint of its
 * own. What the manifest needs of them, their names, lengths and checksums, goes to the
 * committer as the bytes of export (the byte table is in docs/internals/checkpoints.md,
 * "Export"), and adopt adds them to the committer's checkpoint after checking every field
 * and that each blob is in place with the recorded size and a header that agrees. So the
 * manifest still lists only blobs that were durable before it was written, whoever wrote
 * them. A joined checkpoint is never committed nor removed by the process that joined it:
 * its directory is the committer's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/ckpt_int.h"
#include "strom/error.h"

int strom_ckpt_join(struct strom_ckpt *st, uint64_t n, struct strom_ckpt_txn **out, char *err,
                    size_t errlen)
{
    struct strom_ckpt_txn *tx;
    int rc;

    *out = NULL;
    if (st->txn)
        return strom_ckpt__fail(err, errlen, STROM_E_BADSTATE,
                                "%s: checkpoint %" PRIu64 " is still being written", st->dir,
                                st->txn->n);
    tx = calloc(1, sizeof *tx);
    if (!tx)
        return strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", st->dir);
    tx->st = st;
    tx->n = n;
    tx->fd = -1;
    tx->joined = 1;
    pthread_mutex_init(&tx->lock, NULL);
    strom_ckpt__dir_name(n, tx->name);
    if (asprintf(&tx->path, "%s/%s", st->dir, tx->name) < 0) {
        tx->path = NULL;
        rc = strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", st->dir);
        goto fail;
    }
    tx->fd = openat(st->dirfd, tx->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tx->fd < 0) {
        rc = -errno;
        if (rc == -ENOENT)
            rc = strom_ckpt__fail(err, errlen, STROM_E_NOTFOUND,
                                  "joining checkpoint %" PRIu64 ": %s is missing (not begun)", n,
                                  tx->path);
        else
            rc = strom_ckpt__fail(err, errlen, rc, "opening %s: %s", tx->path, strom_strerror(rc));
        goto fail;
    }
    st->txn = tx;
    *out = tx;
    return 0;
fail:
    strom_ckpt__txn_free(tx);
    return rc;
}

int strom_ckpt_export(struct strom_ckpt_txn *tx, struct strom_buf *out, char *err, size_t errlen)
{
    struct strom_ckpt *st = tx->st;
    size_t start = out->len;
    int rc = 0;

    pthread_mutex_lock(&tx->lock);
    if (tx->failed)
        rc = strom_ckpt__fail(err, errlen, STROM_E_BADSTATE,
                              "%s: a blob failed; the checkpoint can only be aborted", tx->path);
    for (size_t i = 0; !rc && i < tx->nblobs; i++)
        if (!tx->blobs[i].done)
            rc = strom_ckpt__fail(err, errlen, STROM_E_BADSTATE,
                                  "%s: blob '%s' is still being written", tx->path,
                                  tx->blobs[i].name);
    if (rc)
        goto out;
    if ((rc = strom_buf_append(out, STROM_CKPT__EXPORT_MAGIC, 4)) ||
        (rc = strom_buf_put_u32(out, STROM_CKPT__VERSION)) ||
        (rc = strom_buf_put_u64(out, tx->n)) ||
        (rc = strom_buf_put_u32(out, (uint32_t)st->fingerprint_len)) ||
        (rc = strom_buf_append(out, st->fingerprint, st->fingerprint_len)) ||
        (rc = strom_buf_put_u32(out, (uint32_t)tx->nblobs)))
        goto nomem;
    for (size_t i = 0; i < tx->nblobs; i++) {
        const struct strom_ckpt__entry *e = &tx->blobs[i];
        size_t nlen = strlen(e->name);
        if ((rc = strom_buf_put_u32(out, (uint32_t)nlen)) ||
            (rc = strom_buf_append(out, e->name, nlen)) ||
            (rc = strom_buf_put_u64(out, e->h.raw_len)) ||
            (rc = strom_buf_put_u64(out, e->h.stored_len)) ||
            (rc = strom_buf_put_u64(out, e->h.checksum)))
            goto nomem;
    }
    goto out;
nomem:
    out->len = start;
    rc = strom_ckpt__fail(err, errlen, rc, "%s: out of memory", tx->path);
out:
    pthread_mutex_unlock(&tx->lock);
    return rc;
}

static void free_entries(struct strom_ckpt__entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].name);
    free(e);
}

/* Decodes an export of checkpoint tx->n into malloc'd *out (*count entries). */
static int parse_export(struct strom_ckpt_txn *tx, const uint8_t *p, size_t len,
                        struct strom_ckpt__entry **out, size_t *count, char *err, size_t errlen)
{
    struct strom_ckpt *st = tx->st;
    struct strom_reader r = {p, len};
    struct strom_ckpt__entry *e = NULL;
    uint8_t fp[STROM_CKPT_FINGERPRINT_MAX];
    char have[160], want[160];
    uint32_t version, fp_len, nb;
    uint64_t n;
    size_t got = 0;
    int rc = 0;

    if (len < 4 || memcmp(p, STROM_CKPT__EXPORT_MAGIC, 4))
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: blobs of another process: %s (%zu bytes)", tx->path,
                                len < 4 ? "truncated" : "wrong magic", len);
    r.p += 4;
    r.left -= 4;
    if (strom_reader_u32(&r, &version))
        goto cut;
    if (version != STROM_CKPT__VERSION)
        return strom_ckpt__fail(err, errlen, STROM_E_VERSION,
                                "%s: blobs of another process in format version %" PRIu32
                                ", this build reads %d",
                                tx->path, version, STROM_CKPT__VERSION);
    if (strom_reader_u64(&r, &n) || strom_reader_u32(&r, &fp_len))
        goto cut;
    if (fp_len > STROM_CKPT_FINGERPRINT_MAX)
        return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                "%s: blobs of another process: fingerprint of %" PRIu32
                                " bytes (at most %d)",
                                tx->path, fp_len, STROM_CKPT_FINGERPRINT_MAX);
    if (strom_reader_bytes(&r, fp, fp_len) || strom_reader_u32(&r, &nb))
        goto cut;
    if (fp_len != st->fingerprint_len || memcmp(fp, st->fingerprint, fp_len)) {
        strom_ckpt__fp_format(fp, fp_len, have, sizeof have);
        strom_ckpt__fp_format(st->fingerprint, st->fingerprint_len, want, sizeof want);
        return strom_ckpt__fail(err, errlen, STROM_E_FOREIGN,
                                "%s: blobs of another job (fingerprint %s; this job's is %s)",
                                tx->path, have, want);
    }
    if (n != tx->n)
        return strom_ckpt__fail(err, errlen, STROM_E_INVAL,
                                "%s: blobs of checkpoint %" PRIu64 ", not of %" PRIu64, tx->path, n,
                                tx->n);
    if (nb > r.left / STROM_CKPT__ENTRY_MIN)
        goto cut;
    if (!(e = calloc(nb ? nb : 1, sizeof *e)))
        return strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", tx->path);
    for (; got < nb; got++) {
        uint32_t nlen;
        if (strom_reader_u32(&r, &nlen) || nlen > r.left)
            goto cut;
        if (!strom_ckpt__name_ok((const char *)r.p, nlen)) {
            rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                  "%s: blobs of another process: entry %zu has an invalid name",
                                  tx->path, got);
            goto fail;
        }
        if (!(e[got].name = malloc(nlen + 1))) {
            rc = strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", tx->path);
            goto fail;
        }
        strom_reader_bytes(&r, e[got].name, nlen);
        e[got].name[nlen] = 0;
        e[got].done = 1;
        if (strom_reader_u64(&r, &e[got].h.raw_len) || strom_reader_u64(&r, &e[got].h.stored_len) ||
            strom_reader_u64(&r, &e[got].h.checksum)) {
            got++;
            goto cut;
        }
        if (e[got].h.stored_len > (uint64_t)INT64_MAX - STROM_CKPT__BLOB_HDR) {
            rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                  "%s: blobs of another process: '%s' records %" PRIu64
                                  " stored bytes",
                                  tx->path, e[got].name, e[got].h.stored_len);
            got++;
            goto fail;
        }
    }
    if (r.left) {
        rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                              "%s: blobs of another process: %zu bytes after the last entry",
                              tx->path, r.left);
        goto fail;
    }
    *out = e;
    *count = got;
    return 0;
cut:
    rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                          "%s: blobs of another process: truncated (%zu bytes)", tx->path, len);
fail:
    free_entries(e, got);
    return rc;
}

static long find(const struct strom_ckpt__entry *e, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e[i].name, name))
            return (long)i;
    return -1;
}

int strom_ckpt_adopt(struct strom_ckpt_txn *tx, const uint8_t *bytes, size_t len, char *err,
                     size_t errlen)
{
    struct strom_ckpt__entry *e = NULL;
    uint8_t hdr[STROM_CKPT__BLOB_HDR];
    char path[4300];
    size_t count = 0;
    int rc;

    if (tx->joined)
        return strom_ckpt__fail(err, errlen, STROM_E_BADSTATE,
                                "%s: joined, not begun here: the committer adopts blobs", tx->path);
    if ((rc = parse_export(tx, bytes, len, &e, &count, err, errlen)))
        return rc;
    for (size_t i = 0; i < count && !rc; i++) {
        if (find(e, i, e[i].name) >= 0)
            rc = strom_ckpt__fail(err, errlen, STROM_E_EXISTS, "%s/%s: blob listed twice", tx->path,
                                  e[i].name);
        else
            rc = strom_ckpt__check_blob(tx->fd,
                                        strom_ckpt__path(path, sizeof path, tx->path, e[i].name),
                                        &e[i], 0, hdr, err, errlen);
    }
    if (rc)
        goto out;
    pthread_mutex_lock(&tx->lock);
    if (tx->failed)
        rc = strom_ckpt__fail(err, errlen, STROM_E_BADSTATE,
                              "%s: a blob failed; the checkpoint can only be aborted", tx->path);
    for (size_t i = 0; i < count && !rc; i++)
        if (find(tx->blobs, tx->nblobs, e[i].name) >= 0)
            rc = strom_ckpt__fail(err, errlen, STROM_E_EXISTS, "%s/%s: blob written twice",
                                  tx->path, e[i].name);
    if (!rc && tx->nblobs + count > tx->cap) {
        size_t cap = tx->cap ? tx->cap : 16;
        struct strom_ckpt__entry *grown;
        while (cap < tx->nblobs + count)
            cap *= 2;
        if ((grown = realloc(tx->blobs, cap * sizeof *grown))) {
            tx->blobs = grown;
            tx->cap = cap;
        } else {
            rc = strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", tx->path);
        }
    }
    if (!rc) {
        memcpy(tx->blobs + tx->nblobs, e, count * sizeof *e);
        tx->nblobs += count;
        count = 0; /* the names belong to tx now */
    }
    pthread_mutex_unlock(&tx->lock);
out:
    free_entries(e, count);
    return rc;
}
