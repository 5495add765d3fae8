/*
 * ckpt/write.c: writing checkpoint n (begin, put, commit, abort) and retention.
 *
 * The order of writes is what makes a crash harmless (docs/internals/checkpoints.md):
 *
 *   begin    mkdir ckpt-n, fsync DIR
 *   put      each blob: name.tmp, fsync, rename, fsync ckpt-n      (any threads)
 *   commit   MANIFEST.tmp, fsync, rename, fsync ckpt-n             -> n is complete
 *            then retention: delete what is older than the kept ones
 *
 * Until the rename of MANIFEST, ckpt-n is an incomplete checkpoint that no reader takes;
 * after it, every blob it lists is already durable. A failed commit removes MANIFEST before
 * anything else, so the caller never sees a failure for a checkpoint that could later be
 * taken as complete.
 *
 * Retention counts a checkpoint as complete from its manifest and the size and header of
 * each blob (reading every payload at each commit would cost a full read of all kept
 * checkpoints); payload checksums are verified where it matters, when a checkpoint is read
 * back (strom_ckpt_latest, strom_ckpt_read).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/ckpt_int.h"
#include "strom/error.h"

void strom_ckpt__txn_free(struct strom_ckpt_txn *tx)
{
    for (size_t i = 0; i < tx->nblobs; i++)
        free(tx->blobs[i].name);
    free(tx->blobs);
    if (tx->fd >= 0)
        close(tx->fd);
    pthread_mutex_destroy(&tx->lock);
    if (tx->st->txn == tx)
        tx->st->txn = NULL;
    free(tx->path);
    free(tx);
}

/* A verdict that a checkpoint is not complete, as opposed to a failure to look. */
static int damaged(int rc)
{
    return rc == STROM_E_CORRUPT || rc == STROM_E_NOTFOUND || rc == STROM_E_VERSION;
}

/* Refuses n when the directory holds another job's checkpoint, or a complete checkpoint
 * numbered n or above. One numbered n or above that is damaged (latest passed over it) does
 * not stand in the way, so that a job resumed from an older checkpoint can write these
 * numbers again; in steady state there is none, and nothing is read but the manifests. A
 * failure to look refuses too, since begin goes on to remove what is at n. */
static int check_begin(struct strom_ckpt *st, uint64_t n, char *err, size_t errlen)
{
    struct strom_ckpt__manifest m;
    uint64_t *nums = NULL;
    size_t count = 0;
    char msg[1024];
    int rc = strom_ckpt__scan(st, &nums, &count), dfd;

    if (rc)
        return strom_ckpt__fail(err, errlen, rc, "listing %s: %s", st->dir, strom_strerror(rc));
    for (size_t i = 0; i < count && !rc; i++) {
        rc = strom_ckpt__load(st, nums[i], &m, &dfd, msg, sizeof msg);
        if (!rc) {
            if (nums[i] >= n)
                rc = strom_ckpt__check_blobs(st, dfd, &m, 1, msg, sizeof msg);
            close(dfd);
            strom_ckpt__manifest_release(&m);
        }
        if (rc == STROM_E_FOREIGN || (rc && !damaged(rc) && nums[i] >= n)) {
            strom_ckpt__fail(err, errlen, rc, "%s", msg);
        } else if (!rc && nums[i] == n) {
            rc = strom_ckpt__fail(err, errlen, STROM_E_EXISTS,
                                  "checkpoint %" PRIu64 " already exists in %s", n, st->dir);
        } else if (!rc && nums[i] > n) {
            rc = strom_ckpt__fail(err, errlen, STROM_E_INVAL,
                                  "checkpoint %" PRIu64 " would be older than checkpoint %" PRIu64
                                  ", complete in %s",
                                  n, nums[i], st->dir);
        } else {
            rc = 0;
        }
    }
    free(nums);
    return rc;
}

int strom_ckpt_begin(struct strom_ckpt *st, uint64_t n, struct strom_ckpt_txn **out, char *err,
                     size_t errlen)
{
    struct strom_ckpt_txn *tx;
    int rc;

    *out = NULL;
    if (st->txn)
        return strom_ckpt__fail(err, errlen, STROM_E_BADSTATE,
                                "%s: checkpoint %" PRIu64 " is still being written", st->dir,
                                st->txn->n);
    rc = check_begin(st, n, err, errlen);
    if (rc)
        return rc;
    tx = calloc(1, sizeof *tx);
    if (!tx)
        return strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", st->dir);
    tx->st = st;
    tx->n = n;
    tx->fd = -1;
    pthread_mutex_init(&tx->lock, NULL);
    strom_ckpt__dir_name(n, tx->name);
    if (asprintf(&tx->path, "%s/%s", st->dir, tx->name) < 0) {
        tx->path = NULL;
        rc = strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", st->dir);
        goto fail;
    }
    /* What an earlier attempt at n left: incomplete or damaged, as check_begin found. */
    rc = strom_ckpt__remove_dir(st->dirfd, tx->name);
    if (rc) {
        rc = strom_ckpt__fail(err, errlen, rc, "removing the leftovers in %s: %s", tx->path,
                              strom_strerror(rc));
        goto fail;
    }
    if (mkdirat(st->dirfd, tx->name, 0755)) {
        rc = strom_ckpt__fail(err, errlen, -errno, "creating %s: %s", tx->path,
                              strom_strerror(-errno));
        goto fail;
    }
    tx->fd = openat(st->dirfd, tx->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tx->fd < 0)
        rc = -errno;
    else
        rc = strom_ckpt__fsync_dir(st->dirfd);
    if (rc) {
        rc = strom_ckpt__fail(err, errlen, rc, "creating %s: %s", tx->path, strom_strerror(rc));
        strom_ckpt__remove_dir(st->dirfd, tx->name);
        goto fail;
    }
    st->txn = tx;
    *out = tx;
    return 0;
fail:
    strom_ckpt__txn_free(tx);
    return rc;
}

static int pwrite_all(int fd, const void *p, size_t n, off_t off)
{
    const uint8_t *b = p;

    while (n) {
        ssize_t w = pwrite(fd, b, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        b += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

struct fd_sink {
    int fd;
    int rc; /* the write's failure, as opposed to the compressor's */
};

static int to_fd(void *arg, const uint8_t *p, size_t n)
{
    struct fd_sink *s = arg;

    s->rc = strom_ckpt__write_all(s->fd, p, n);
    return s->rc;
}

/* name.tmp written whole and renamed to name in the checkpoint's directory; *h filled. */
static int write_blob(struct strom_ckpt_txn *tx, const char *name, const void *data, size_t len,
                      struct strom_ckpt__blob_hdr *h, char *err, size_t errlen)
{
    uint8_t hdr[STROM_CKPT__BLOB_HDR] = {0};
    char tmp[STROM_CKPT_NAME_MAX + 8], path[4300];
    struct fd_sink sink = {-1, 0};
    const char *step = "writing";
    int rc;

    snprintf(tmp, sizeof tmp, "%s%s", name, STROM_CKPT__TMP);
    strom_ckpt__path(path, sizeof path, tx->path, tmp);
    sink.fd = openat(tx->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (sink.fd < 0)
        return strom_ckpt__fail(err, errlen, -errno, "creating %s: %s", path,
                                strom_strerror(-errno));
    /* The header's lengths and checksum are known only after compression: room first,
     * filled in at the end. */
    rc = strom_ckpt__write_all(sink.fd, hdr, sizeof hdr);
    if (!rc) {
        rc = strom_ckpt__blob_compress(data, len, tx->st->level, to_fd, &sink, h, err, errlen);
        if (rc && !sink.rc) {
            char why[512];
            snprintf(why, sizeof why, "%s", err ? err : "");
            rc = strom_ckpt__fail(err, errlen, rc, "%s: %s", path, why);
            step = NULL;
        }
    }
    if (!rc) {
        strom_ckpt__blob_hdr_encode(h, hdr);
        rc = pwrite_all(sink.fd, hdr, sizeof hdr, 0);
    }
    if (!rc && fsync(sink.fd)) {
        rc = -errno;
        step = "syncing";
    }
    if (close(sink.fd) && !rc) {
        rc = -errno;
        step = "closing";
    }
    if (!rc && renameat(tx->fd, tmp, tx->fd, name)) {
        rc = -errno;
        step = "renaming";
    }
    if (rc) {
        unlinkat(tx->fd, tmp, 0);
        if (step)
            strom_ckpt__fail(err, errlen, rc, "%s %s: %s", step, path, strom_strerror(rc));
        return rc;
    }
    rc = strom_ckpt__fsync_dir(tx->fd);
    if (rc)
        return strom_ckpt__fail(err, errlen, rc, "syncing directory %s after renaming %s: %s",
                                tx->path, name, strom_strerror(rc));
    return 0;
}

static long find_entry(const struct strom_ckpt_txn *tx, const char *name)
{
    for (size_t i = 0; i < tx->nblobs; i++)
        if (!strcmp(tx->blobs[i].name, name))
            return (long)i;
    return -1;
}

int strom_ckpt_put(struct strom_ckpt_txn *tx, const char *name, const void *data, size_t len,
                   char *err, size_t errlen)
{
    struct strom_ckpt__blob_hdr h;
    char *copy;
    long i;
    int rc = 0;

    if (!name || !strom_ckpt__name_ok(name, strlen(name)))
        return strom_ckpt__fail(err, errlen, STROM_E_INVAL, "%s: invalid blob name '%s'", tx->path,
                                name ? name : "(null)");
    if (len && !data)
        return strom_ckpt__fail(err, errlen, STROM_E_INVAL, "%s/%s: no data", tx->path, name);
    copy = strdup(name);
    if (!copy)
        return strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", tx->path);
    /* Reserve the name before writing, so that two threads cannot write one file. */
    pthread_mutex_lock(&tx->lock);
    if (tx->failed)
        rc = strom_ckpt__fail(err, errlen, STROM_E_BADSTATE,
                              "%s: an earlier blob failed; the checkpoint can only be aborted",
                              tx->path);
    else if (find_entry(tx, name) >= 0)
        rc = strom_ckpt__fail(err, errlen, STROM_E_EXISTS, "%s/%s: blob written twice", tx->path,
                              name);
    else if (tx->nblobs == tx->cap) {
        size_t cap = tx->cap ? tx->cap * 2 : 16;
        struct strom_ckpt__entry *grown = realloc(tx->blobs, cap * sizeof *grown);
        if (grown) {
            tx->blobs = grown;
            tx->cap = cap;
        } else {
            rc = strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", tx->path);
        }
    }
    if (!rc)
        tx->blobs[tx->nblobs++] = (struct strom_ckpt__entry){copy, {0, 0, 0}, 0};
    pthread_mutex_unlock(&tx->lock);
    if (rc) {
        free(copy);
        return rc;
    }

    rc = write_blob(tx, name, data, len, &h, err, errlen);

    pthread_mutex_lock(&tx->lock);
    i = find_entry(tx, name); /* blobs may have moved while other puts added theirs */
    if (rc) {
        free(tx->blobs[i].name);
        tx->blobs[i] = tx->blobs[--tx->nblobs];
        tx->failed = 1;
    } else {
        tx->blobs[i].h = h;
        tx->blobs[i].done = 1;
    }
    pthread_mutex_unlock(&tx->lock);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct strom_ckpt__entry *)a)->name,
                  ((const struct strom_ckpt__entry *)b)->name);
}

/* Deletes what lies in the directory besides the newest st->keep complete checkpoints up to
 * n (just committed): older checkpoints, complete or not, and stray temporary files.
 * Checkpoints newer than n (leftovers of a later attempt) and other jobs' are left alone.
 * Failures are reported through the notice callback: the commit itself has succeeded. */
static void retention(struct strom_ckpt *st, uint64_t n)
{
    char name[STROM_CKPT__DIR_LEN + 1], msg[1024], note[1200];
    struct strom_ckpt__manifest m;
    uint64_t *nums = NULL;
    size_t count = 0, kept = 0;
    struct dirent *de;
    DIR *d;
    int rc = strom_ckpt__scan(st, &nums, &count), dfd, fd;

    if (rc) {
        snprintf(note, sizeof note, "retention: listing %s: %s", st->dir, strom_strerror(rc));
        strom_ckpt__notice(st, rc, note);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        if (nums[i] >= n) {
            kept += nums[i] == n;
            continue;
        }
        rc = strom_ckpt__load(st, nums[i], &m, &dfd, msg, sizeof msg);
        if (rc == STROM_E_FOREIGN)
            continue;
        if (!rc) {
            rc = strom_ckpt__check_blobs(st, dfd, &m, 0, msg, sizeof msg);
            close(dfd);
            strom_ckpt__manifest_release(&m);
        }
        if (!rc && kept < st->keep) {
            kept++;
            continue;
        }
        /* Only a definite verdict deletes: not a failure to look (EMFILE, EIO), nor a
         * format of a newer build. */
        if (rc && !damaged(rc)) {
            snprintf(note, sizeof note, "retention: leaving checkpoint %" PRIu64 ": %s", nums[i],
                     msg);
            strom_ckpt__notice(st, rc, note);
            continue;
        }
        strom_ckpt__dir_name(nums[i], name);
        rc = strom_ckpt__remove_dir(st->dirfd, name);
        if (rc) {
            snprintf(note, sizeof note, "retention: removing %s/%s: %s", st->dir, name,
                     strom_strerror(rc));
            strom_ckpt__notice(st, rc, note);
        }
    }
    free(nums);
    fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d && fd >= 0)
        close(fd);
    while (d && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len > 4 && !strcmp(de->d_name + len - 4, STROM_CKPT__TMP) &&
            unlinkat(st->dirfd, de->d_name, 0) && errno != ENOENT) {
            rc = -errno;
            snprintf(note, sizeof note, "retention: removing %s/%s: %s", st->dir, de->d_name,
                     strom_strerror(rc));
            strom_ckpt__notice(st, rc, note);
        }
    }
    if (d)
        closedir(d);
    strom_ckpt__fsync_dir(st->dirfd);
}

int strom_ckpt_commit(struct strom_ckpt_txn *tx, const void *meta, size_t meta_len, char *err,
                      size_t errlen)
{
    struct strom_ckpt *st = tx->st;
    struct strom_ckpt__manifest m = {0};
    struct strom_buf b = {0};
    int rc = 0;

    if (tx->joined)
        rc = strom_ckpt__fail(err, errlen, STROM_E_BADSTATE,
                              "%s: joined, not begun here: the committer commits it", tx->path);
    else if (meta_len > STROM_CKPT_META_MAX || (meta_len && !meta))
        rc = strom_ckpt__fail(err, errlen, STROM_E_INVAL, "%s: metadata of %zu bytes (at most %zu)",
                              tx->path, meta_len, STROM_CKPT_META_MAX);
    else if (tx->failed)
        rc = strom_ckpt__fail(err, errlen, STROM_E_BADSTATE,
                              "%s: a blob failed; the checkpoint can only be aborted", tx->path);
    for (size_t i = 0; !rc && i < tx->nblobs; i++)
        if (!tx->blobs[i].done)
            rc = strom_ckpt__fail(err, errlen, STROM_E_BADSTATE,
                                  "%s: blob '%s' is still being written", tx->path,
                                  tx->blobs[i].name);
    if (rc)
        goto fail;
    if (tx->nblobs)
        qsort(tx->blobs, tx->nblobs, sizeof *tx->blobs, cmp_entry);
    m.n = tx->n;
    memcpy(m.fingerprint, st->fingerprint, st->fingerprint_len);
    m.fingerprint_len = st->fingerprint_len;
    m.meta = (uint8_t *)meta; /* borrowed: m is not released */
    m.meta_len = meta_len;
    m.blobs = tx->blobs;
    m.nblobs = tx->nblobs;
    rc = strom_ckpt__manifest_encode(&m, &b);
    if (rc) {
        rc = strom_ckpt__fail(err, errlen, rc, "%s: out of memory", tx->path);
        goto fail;
    }
    rc = strom_ckpt__write_file(tx->fd, tx->path, STROM_CKPT__MANIFEST, b.data, b.len, err, errlen);
    strom_buf_release(&b);
    if (rc)
        goto fail;
    retention(st, tx->n);
    strom_ckpt__txn_free(tx);
    return 0;
fail:
    strom_ckpt_abort(tx);
    return rc;
}

void strom_ckpt_abort(struct strom_ckpt_txn *tx)
{
    struct strom_ckpt *st;
    char note[4400];
    int rc;

    if (!tx)
        return;
    if (tx->joined) { /* the committer's files: it commits or removes them */
        strom_ckpt__txn_free(tx);
        return;
    }
    st = tx->st;
    rc = strom_ckpt__remove_dir(st->dirfd, tx->name);
    if (rc) {
        snprintf(note, sizeof note, "removing %s: %s", tx->path, strom_strerror(rc));
        strom_ckpt__notice(st, rc, note);
    }
    strom_ckpt__fsync_dir(st->dirfd);
    strom_ckpt__txn_free(tx);
}
