/*
 * ckpt/store.c: opening a store (its directory and lock), finding, verifying and reading
 * checkpoints, and the finished marker.
 *
 * Reading trusts nothing on disk: a checkpoint counts only after its manifest has decoded
 * (checksum, every length), names this checkpoint and this job, and every blob it lists has
 * the recorded size, a header that agrees with the manifest, and (verify, latest, read) the
 * recorded checksum over its stored bytes. read also decompresses, and zstd checks the
 * frame's own checksum over the bytes given back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/ckpt_int.h"
#include "strom/error.h"

#define HASH_CHUNK STROM_CKPT__HASH_CHUNK

void strom_ckpt__notice(struct strom_ckpt *st, int rc, const char *msg)
{
    if (st->notice)
        st->notice(st->notice_arg, rc, msg);
}

void strom_ckpt__dir_name(uint64_t n, char out[STROM_CKPT__DIR_LEN + 1])
{
    snprintf(out, STROM_CKPT__DIR_LEN + 1, STROM_CKPT__DIR_PREFIX "%020" PRIu64, n);
}

/* "ckpt-" and exactly 20 digits, within uint64_t. */
static int parse_dir_name(const char *s, uint64_t *n)
{
    uint64_t v = 0;

    if (strlen(s) != STROM_CKPT__DIR_LEN || strncmp(s, STROM_CKPT__DIR_PREFIX, 5))
        return 0;
    for (const char *p = s + 5; *p; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *n = v;
    return 1;
}

/* mkdir -p, with each directory made durable in its parent. */
static int make_dirs(const char *dir)
{
    char *p = strdup(dir), *s;
    int rc = 0;

    if (!p)
        return -ENOMEM;
    for (s = p + 1;; s++) {
        if (*s != '/' && *s != 0)
            continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0755) == 0) {
            char *slash = strrchr(p, '/');
            int pfd;
            if (slash == p)
                pfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            else if (slash) {
                *slash = 0;
                pfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                *slash = '/';
            } else {
                pfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            }
            if (pfd >= 0) {
                fsync(pfd);
                close(pfd);
            }
        } else if (errno != EEXIST) {
            rc = -errno;
        }
        *s = c;
        if (rc || c == 0)
            break;
    }
    free(p);
    return rc;
}

/* flock(how) on name in the store's directory, into *fd; the pid written there when it
 * is exclusive. -EBUSY naming the holder (the pid found there) when it is held. */
static int lock_file(struct strom_ckpt *st, const char *name, int how, int *fd, char *err,
                     size_t errlen)
{
    char pid[32] = "", path[4096];
    ssize_t n;

    strom_ckpt__path(path, sizeof path, st->dir, name);
    *fd = openat(st->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0)
        return strom_ckpt__fail(err, errlen, -errno, "%s: %s", path, strom_strerror(-errno));
    if (flock(*fd, how | LOCK_NB) == 0) {
        /* The pid serves only the message of whoever finds the lock held, so a failure to
         * write it (a full disk) is no failure to open. A shared lock leaves the file as
         * it is: its holders are many. */
        if (how == LOCK_EX) {
            n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            int unwritten = ftruncate(*fd, 0) || pwrite(*fd, pid, (size_t)n, 0) != n;
            (void)unwritten;
        }
        return 0;
    }
    if (errno != EWOULDBLOCK)
        return strom_ckpt__fail(err, errlen, -errno, "locking %s: %s", path,
                                strom_strerror(-errno));
    n = pread(*fd, pid, sizeof pid - 1, 0);
    pid[n > 0 ? n : 0] = 0;
    pid[strcspn(pid, "\n")] = 0;
    return strom_ckpt__fail(err, errlen, -EBUSY,
                            "checkpoint directory %s is in use by another process (%s%s holds "
                            "the lock on %s)",
                            st->dir, pid[0] ? "pid " : "", pid[0] ? pid : "a process", path);
}

/* One process: LOCK, exclusively. Process self of a shared directory: LOCK shared (a
 * single-process store waits for all of them, and they for it), LOCK.<self> exclusively
 * (one store per process of the job). */
static int take_lock(struct strom_ckpt *st, char *err, size_t errlen)
{
    char member[32];
    int rc;

    if (st->procs <= 1)
        return lock_file(st, STROM_CKPT__LOCK, LOCK_EX, &st->lockfd, err, errlen);
    rc = lock_file(st, STROM_CKPT__LOCK, LOCK_SH, &st->lockfd, err, errlen);
    if (rc)
        return rc;
    snprintf(member, sizeof member, "%s.%u", STROM_CKPT__LOCK, st->self);
    return lock_file(st, member, LOCK_EX, &st->memberfd, err, errlen);
}

int strom_ckpt_open(struct strom_ckpt **out, const char *dir, const struct strom_ckpt_config *cfg,
                    char *err, size_t errlen)
{
    struct strom_ckpt *st;
    int rc;

    *out = NULL;
    if (!dir || !*dir || !cfg)
        return strom_ckpt__fail(err, errlen, STROM_E_INVAL, "checkpoint store: no %s",
                                cfg ? "directory" : "configuration");
    if (cfg->fingerprint_len > STROM_CKPT_FINGERPRINT_MAX ||
        (cfg->fingerprint_len && !cfg->fingerprint))
        return strom_ckpt__fail(err, errlen, STROM_E_INVAL,
                                "checkpoint store: fingerprint of %zu bytes (at most %d)",
                                cfg->fingerprint_len, STROM_CKPT_FINGERPRINT_MAX);
    if (cfg->procs > 1 && cfg->self >= cfg->procs)
        return strom_ckpt__fail(err, errlen, STROM_E_INVAL, "checkpoint store: process %u of %u",
                                cfg->self, cfg->procs);
    if (cfg->level < 0 || cfg->level > 19)
        return strom_ckpt__fail(err, errlen, STROM_E_INVAL,
                                "checkpoint store: compression level %d (0 to 19)", cfg->level);
    st = calloc(1, sizeof *st);
    if (!st || !(st->dir = strdup(dir))) {
        free(st);
        return strom_ckpt__fail(err, errlen, -ENOMEM, "checkpoint store: out of memory");
    }
    st->dirfd = st->lockfd = st->memberfd = -1;
    st->procs = cfg->procs;
    st->self = cfg->self;
    if (cfg->fingerprint_len)
        memcpy(st->fingerprint, cfg->fingerprint, cfg->fingerprint_len);
    st->fingerprint_len = cfg->fingerprint_len;
    st->keep = cfg->keep ? cfg->keep : STROM_CKPT_KEEP_DEFAULT;
    st->level = cfg->level;
    st->notice = cfg->notice;
    st->notice_arg = cfg->notice_arg;
    rc = make_dirs(dir);
    if (rc) {
        rc = strom_ckpt__fail(err, errlen, rc, "creating checkpoint directory %s: %s", dir,
                              strom_strerror(rc));
        goto out;
    }
    st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->dirfd < 0) {
        rc = strom_ckpt__fail(err, errlen, -errno, "opening checkpoint directory %s: %s", dir,
                              strom_strerror(-errno));
        goto out;
    }
    rc = take_lock(st, err, errlen);
out:
    if (rc) {
        strom_ckpt_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

void strom_ckpt_close(struct strom_ckpt *st)
{
    if (!st)
        return;
    strom_ckpt_abort(st->txn);
    if (st->memberfd >= 0)
        close(st->memberfd);
    if (st->lockfd >= 0)
        close(st->lockfd); /* releases the flock */
    if (st->dirfd >= 0)
        close(st->dirfd);
    free(st->dir);
    free(st);
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? 1 : x > y ? -1 : 0;
}

int strom_ckpt__scan(struct strom_ckpt *st, uint64_t **out, size_t *count)
{
    int fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
    uint64_t *nums = NULL, n;
    size_t len = 0, cap = 0;
    struct dirent *de;
    DIR *d;

    if (fd < 0)
        return -errno;
    d = fdopendir(fd);
    if (!d) {
        rc = -errno;
        close(fd);
        return rc;
    }
    errno = 0;
    while ((de = readdir(d))) {
        if (!parse_dir_name(de->d_name, &n))
            continue;
        if (len == cap) {
            uint64_t *grown = realloc(nums, (cap = cap ? cap * 2 : 16) * sizeof *nums);
            if (!grown) {
                rc = -ENOMEM;
                break;
            }
            nums = grown;
        }
        nums[len++] = n;
    }
    if (!rc && errno)
        rc = -errno;
    closedir(d);
    if (rc) {
        free(nums);
        return rc;
    }
    if (len)
        qsort(nums, len, sizeof *nums, cmp_desc);
    *out = nums;
    *count = len;
    return 0;
}

int strom_ckpt__load(struct strom_ckpt *st, uint64_t n, struct strom_ckpt__manifest *m, int *dirfd,
                     char *err, size_t errlen)
{
    char name[STROM_CKPT__DIR_LEN + 1], dpath[4096], mpath[4200];
    char have[160], want[160];
    uint8_t *bytes = NULL;
    size_t len = 0;
    int fd, rc;

    memset(m, 0, sizeof *m);
    strom_ckpt__dir_name(n, name);
    strom_ckpt__path(dpath, sizeof dpath, st->dir, name);
    strom_ckpt__path(mpath, sizeof mpath, dpath, STROM_CKPT__MANIFEST);
    fd = openat(st->dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        if (rc == -ENOENT)
            return strom_ckpt__fail(err, errlen, STROM_E_NOTFOUND,
                                    "no checkpoint %" PRIu64 " in %s (%s is missing)", n, st->dir,
                                    dpath);
        if (rc == -ENOTDIR)
            return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT, "%s: not a directory", dpath);
        return strom_ckpt__fail(err, errlen, rc, "opening %s: %s", dpath, strom_strerror(rc));
    }
    rc = strom_ckpt__read_file(fd, dpath, STROM_CKPT__MANIFEST, STROM_CKPT__MANIFEST_MAX, &bytes,
                               &len, err, errlen);
    if (rc == -ENOENT)
        rc = strom_ckpt__fail(err, errlen, STROM_E_NOTFOUND,
                              "checkpoint %" PRIu64 " is incomplete: %s is missing", n, mpath);
    if (!rc)
        rc = strom_ckpt__manifest_decode(bytes, len, mpath, m, err, errlen);
    free(bytes);
    if (rc)
        goto out;
    if (m->n != n) {
        rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                              "%s: records checkpoint %" PRIu64 " in the directory of %" PRIu64,
                              mpath, m->n, n);
    } else if (m->fingerprint_len != st->fingerprint_len ||
               memcmp(m->fingerprint, st->fingerprint, st->fingerprint_len)) {
        strom_ckpt__fp_format(m->fingerprint, m->fingerprint_len, have, sizeof have);
        strom_ckpt__fp_format(st->fingerprint, st->fingerprint_len, want, sizeof want);
        rc = strom_ckpt__fail(err, errlen, STROM_E_FOREIGN,
                              "%s: checkpoint %" PRIu64 " belongs to another job (fingerprint "
                              "%s; this job's is %s)",
                              mpath, n, have, want);
    }
out:
    if (rc) {
        strom_ckpt__manifest_release(m);
        close(fd);
    } else if (dirfd) {
        *dirfd = fd;
    } else {
        close(fd);
    }
    return rc;
}

/* One blob of a manifest in dfd (ckpt_int.h). */
int strom_ckpt__check_blob(int dfd, const char *path, const struct strom_ckpt__entry *e, int full,
                           uint8_t *buf, char *err, size_t errlen)
{
    uint64_t want = STROM_CKPT__BLOB_HDR + e->h.stored_len, off, sum;
    struct strom_ckpt__blob_hdr h;
    struct strom_xxh64 xs;
    struct stat sb;
    int fd = openat(dfd, e->name, O_RDONLY | O_NONBLOCK | O_CLOEXEC), rc;

    if (fd < 0) {
        rc = -errno;
        if (rc == -ENOENT)
            return strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                                    "%s: missing (the manifest lists it)", path);
        return strom_ckpt__fail(err, errlen, rc, "opening %s: %s", path, strom_strerror(rc));
    }
    if (fstat(fd, &sb)) {
        rc = strom_ckpt__fail(err, errlen, -errno, "%s: %s", path, strom_strerror(-errno));
        goto out;
    }
    if ((uint64_t)sb.st_size != want) {
        rc = strom_ckpt__fail(
            err, errlen, STROM_E_CORRUPT, "%s: %s: %jd bytes, the manifest records %" PRIu64, path,
            (uint64_t)sb.st_size < want ? "truncated" : "wrong size", (intmax_t)sb.st_size, want);
        goto out;
    }
    rc = strom_ckpt__pread_all(fd, buf, STROM_CKPT__BLOB_HDR, 0);
    if (rc) {
        rc = strom_ckpt__fail(err, errlen, rc, "reading %s: %s", path, strom_strerror(rc));
        goto out;
    }
    rc = strom_ckpt__blob_hdr_decode(buf, want, path, &h, err, errlen);
    if (rc)
        goto out;
    if (h.raw_len != e->h.raw_len || h.checksum != e->h.checksum) {
        rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                              "%s: the header disagrees with the manifest (raw length %" PRIu64
                              " vs %" PRIu64 ", checksum %016" PRIx64 " vs %016" PRIx64 ")",
                              path, h.raw_len, e->h.raw_len, h.checksum, e->h.checksum);
        goto out;
    }
    if (!full)
        goto out;
    strom_xxh64_init(&xs);
    for (off = STROM_CKPT__BLOB_HDR; off < want;) {
        size_t n = want - off < HASH_CHUNK ? (size_t)(want - off) : HASH_CHUNK;
        rc = strom_ckpt__pread_all(fd, buf, n, off);
        if (rc) {
            rc = strom_ckpt__fail(err, errlen, rc, "reading %s: %s", path,
                                  rc == STROM_E_CORRUPT ? "the file shrank while read"
                                                        : strom_strerror(rc));
            goto out;
        }
        strom_xxh64_update(&xs, buf, n);
        off += n;
    }
    sum = strom_xxh64_digest(&xs);
    if (sum != e->h.checksum)
        rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                              "%s: checksum mismatch over the %" PRIu64 " stored bytes (recorded "
                              "%016" PRIx64 ", computed %016" PRIx64 ")",
                              path, e->h.stored_len, e->h.checksum, sum);
out:
    close(fd);
    return rc;
}

int strom_ckpt__check_blobs(struct strom_ckpt *st, int dirfd, const struct strom_ckpt__manifest *m,
                            int full, char *err, size_t errlen)
{
    char name[STROM_CKPT__DIR_LEN + 1], dpath[4096], path[4300];
    uint8_t *buf = malloc(full ? HASH_CHUNK : STROM_CKPT__BLOB_HDR);
    int rc = 0;

    if (!buf)
        return strom_ckpt__fail(err, errlen, -ENOMEM,
                                "checking checkpoint %" PRIu64 ": out of memory", m->n);
    strom_ckpt__dir_name(m->n, name);
    strom_ckpt__path(dpath, sizeof dpath, st->dir, name);
    for (size_t i = 0; !rc && i < m->nblobs; i++)
        rc = strom_ckpt__check_blob(dirfd,
                                    strom_ckpt__path(path, sizeof path, dpath, m->blobs[i].name),
                                    &m->blobs[i], full, buf, err, errlen);
    free(buf);
    return rc;
}

int strom_ckpt_verify(struct strom_ckpt *st, uint64_t n, char *err, size_t errlen)
{
    struct strom_ckpt__manifest m;
    int dfd, rc = strom_ckpt__load(st, n, &m, &dfd, err, errlen);

    if (rc)
        return rc;
    rc = strom_ckpt__check_blobs(st, dfd, &m, 1, err, errlen);
    close(dfd);
    strom_ckpt__manifest_release(&m);
    return rc;
}

int strom_ckpt_latest(struct strom_ckpt *st, uint64_t *n, uint8_t **meta, size_t *meta_len,
                      char *err, size_t errlen)
{
    struct strom_ckpt__manifest m;
    char msg[1024], note[1100];
    uint64_t *nums = NULL;
    size_t count = 0, skipped = 0;
    int rc = strom_ckpt__scan(st, &nums, &count), dfd;

    if (rc)
        return strom_ckpt__fail(err, errlen, rc, "listing %s: %s", st->dir, strom_strerror(rc));
    for (size_t i = 0; i < count; i++) {
        rc = strom_ckpt__load(st, nums[i], &m, &dfd, msg, sizeof msg);
        if (!rc) {
            rc = strom_ckpt__check_blobs(st, dfd, &m, 1, msg, sizeof msg);
            close(dfd);
        }
        if (!rc) {
            *n = nums[i];
            if (meta) {
                *meta = m.meta;
                *meta_len = m.meta_len;
                m.meta = NULL;
            }
            strom_ckpt__manifest_release(&m);
            goto out;
        }
        /* Another job's checkpoint is the caller's decision, not something to pass over;
         * so is running out of memory. */
        if (rc == STROM_E_FOREIGN || rc == -ENOMEM) {
            strom_ckpt__manifest_release(&m);
            strom_ckpt__fail(err, errlen, rc, "%s", msg);
            goto out;
        }
        strom_ckpt__manifest_release(&m);
        snprintf(note, sizeof note, "skipping checkpoint %" PRIu64 ": %s", nums[i], msg);
        strom_ckpt__notice(st, rc, note);
        skipped++;
    }
    rc = strom_ckpt__fail(err, errlen, STROM_E_NOTFOUND,
                          "no complete checkpoint in %s (%zu incomplete or damaged skipped)",
                          st->dir, skipped);
out:
    free(nums);
    return rc;
}

static int find_blob(const struct strom_ckpt__manifest *m, const char *name)
{
    size_t lo = 0, hi = m->nblobs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->blobs[mid].name, name);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int strom_ckpt_read(struct strom_ckpt *st, uint64_t n, const char *name, uint8_t **data,
                    size_t *len, char *err, size_t errlen)
{
    char dname[STROM_CKPT__DIR_LEN + 1], dpath[4096], path[4300];
    struct strom_ckpt__manifest m;
    struct strom_ckpt__blob_hdr h;
    const struct strom_ckpt__entry *e;
    uint8_t *bytes = NULL, hdr[STROM_CKPT__BLOB_HDR];
    size_t blen = 0;
    int dfd, i, rc;

    if (!name || !strom_ckpt__name_ok(name, strlen(name)))
        return strom_ckpt__fail(err, errlen, STROM_E_INVAL, "invalid blob name '%s'",
                                name ? name : "(null)");
    rc = strom_ckpt__load(st, n, &m, &dfd, err, errlen);
    if (rc)
        return rc;
    strom_ckpt__dir_name(n, dname);
    strom_ckpt__path(dpath, sizeof dpath, st->dir, dname);
    strom_ckpt__path(path, sizeof path, dpath, name);
    i = find_blob(&m, name);
    if (i < 0) {
        rc = strom_ckpt__fail(err, errlen, STROM_E_NOTFOUND,
                              "checkpoint %" PRIu64 " has no blob '%s' (%s)", n, name, path);
        goto out;
    }
    e = &m.blobs[i];
    /* Size and header first, so that read names a fault as verify does. */
    rc = strom_ckpt__check_blob(dfd, path, e, 0, hdr, err, errlen);
    if (rc)
        goto out;
    rc = strom_ckpt__read_file(dfd, dpath, name, STROM_CKPT__BLOB_HDR + e->h.stored_len, &bytes,
                               &blen, err, errlen);
    if (rc == -ENOENT)
        rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT, "%s: missing (the manifest lists it)",
                              path);
    if (rc)
        goto out;
    if (blen != STROM_CKPT__BLOB_HDR + e->h.stored_len) {
        rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                              "%s: truncated: %zu bytes, the manifest records %" PRIu64, path, blen,
                              STROM_CKPT__BLOB_HDR + e->h.stored_len);
        goto out;
    }
    rc = strom_ckpt__blob_decode(bytes, blen, path, &h, data, len, err, errlen);
    if (!rc && (h.raw_len != e->h.raw_len || h.checksum != e->h.checksum)) {
        free(*data);
        *data = NULL;
        rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                              "%s: the header disagrees with the manifest", path);
    }
out:
    free(bytes);
    close(dfd);
    strom_ckpt__manifest_release(&m);
    return rc;
}

int strom_ckpt_mark_finished(struct strom_ckpt *st, char *err, size_t errlen)
{
    struct strom_buf b = {0};
    int rc;

    if (st->txn)
        return strom_ckpt__fail(err, errlen, STROM_E_BADSTATE,
                                "%s: checkpoint %" PRIu64 " is still being written", st->dir,
                                st->txn->n);
    rc = strom_ckpt__finished_encode(st->fingerprint, st->fingerprint_len, &b);
    if (rc)
        return strom_ckpt__fail(err, errlen, rc, "%s: out of memory", st->dir);
    rc = strom_ckpt__write_file(st->dirfd, st->dir, STROM_CKPT__FINISHED, b.data, b.len, err,
                                errlen);
    strom_buf_release(&b);
    return rc;
}

int strom_ckpt_is_finished(struct strom_ckpt *st, char *err, size_t errlen)
{
    uint8_t fp[STROM_CKPT_FINGERPRINT_MAX], *bytes = NULL;
    char path[4200], have[160], want[160];
    size_t len = 0, fp_len = 0;
    int rc;

    strom_ckpt__path(path, sizeof path, st->dir, STROM_CKPT__FINISHED);
    rc = strom_ckpt__read_file(st->dirfd, st->dir, STROM_CKPT__FINISHED,
                               12 + STROM_CKPT_FINGERPRINT_MAX + 8, &bytes, &len, err, errlen);
    if (rc == -ENOENT)
        return 0;
    if (!rc)
        rc = strom_ckpt__finished_decode(bytes, len, path, fp, &fp_len, err, errlen);
    free(bytes);
    if (rc)
        return rc;
    if (fp_len != st->fingerprint_len || memcmp(fp, st->fingerprint, fp_len)) {
        strom_ckpt__fp_format(fp, fp_len, have, sizeof have);
        strom_ckpt__fp_format(st->fingerprint, st->fingerprint_len, want, sizeof want);
        return strom_ckpt__fail(err, errlen, STROM_E_FOREIGN,
                                "%s: another job finished here (fingerprint %s; this job's is "
                                "%s)",
                                path, have, want);
    }
    return 1;
}
