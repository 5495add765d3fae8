/*
 * ckpt/file.c: durable writes, bounded reads and removal for the checkpoint store.
 *
 * A file is made durable in four steps: written under name.tmp, fsynced, renamed to name,
 * and the directory fsynced (the rename is a change of the directory, so without that last
 * step a crash could bring back the old name or none). A failed step removes name.tmp, so a
 * full disk leaves nothing behind but what was complete before.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/ckpt_int.h"
#include "strom/error.h"


const char *strom_ckpt__path(char *out, size_t outlen, const char *dir, const char *name)
{
    snprintf(out, outlen, "%s/%s", dir, name);
    return out;
}

int strom_ckpt__write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;

    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EIO;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int strom_ckpt__pread_all(int fd, void *p, size_t n, uint64_t off)
{
    uint8_t *b = p;

    while (n) {
        ssize_t r = pread(fd, b, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return STROM_E_CORRUPT;
        b += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int strom_ckpt__fsync_dir(int dirfd)
{
    return fsync(dirfd) ? -errno : 0;
}

int strom_ckpt__write_file(int dirfd, const char *dir, const char *name, const void *p, size_t n,
                           char *err, size_t errlen)
{
    char tmp[STROM_CKPT_NAME_MAX + 16], path[4096];
    const char *step = "creating";
    int fd, rc = 0;

    snprintf(tmp, sizeof tmp, "%s%s", name, STROM_CKPT__TMP);
    strom_ckpt__path(path, sizeof path, dir, tmp);
    /* A fresh file, never one that a stray name.tmp (a leftover, a symlink) points at. */
    if (unlinkat(dirfd, tmp, 0) && errno != ENOENT)
        return strom_ckpt__fail(err, errlen, -errno, "removing %s: %s", path,
                                strom_strerror(-errno));
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return strom_ckpt__fail(err, errlen, -errno, "creating %s: %s", path,
                                strom_strerror(-errno));
    rc = strom_ckpt__write_all(fd, p, n);
    step = "writing";
    if (!rc && fsync(fd)) {
        rc = -errno;
        step = "syncing";
    }
    if (close(fd) && !rc) {
        rc = -errno;
        step = "closing";
    }
    if (!rc && renameat(dirfd, tmp, dirfd, name)) {
        rc = -errno;
        step = "renaming";
    }
    if (rc) {
        unlinkat(dirfd, tmp, 0);
        return strom_ckpt__fail(err, errlen, rc, "%s %s: %s", step, path, strom_strerror(rc));
    }
    rc = strom_ckpt__fsync_dir(dirfd);
    if (rc)
        return strom_ckpt__fail(err, errlen, rc, "syncing directory %s after renaming %s: %s", dir,
                                name, strom_strerror(rc));
    return 0;
}

int strom_ckpt__read_file(int dirfd, const char *dir, const char *name, uint64_t max, uint8_t **out,
                          size_t *len, char *err, size_t errlen)
{
    char path[4096];
    struct stat sb;
    uint8_t *buf = NULL;
    int fd, rc = 0;

    strom_ckpt__path(path, sizeof path, dir, name);
    fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a FIFO must not hang us */
    if (fd < 0) {
        rc = -errno;
        return strom_ckpt__fail(err, errlen, rc, "%s: %s", path,
                                rc == -ENOENT ? "missing" : strom_strerror(rc));
    }
    if (fstat(fd, &sb)) {
        rc = strom_ckpt__fail(err, errlen, -errno, "%s: %s", path, strom_strerror(-errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT, "%s: not a regular file", path);
        goto out;
    }
    if ((uint64_t)sb.st_size > max) {
        rc = strom_ckpt__fail(err, errlen, STROM_E_CORRUPT,
                              "%s: %jd bytes, more than the %" PRIu64 " expected", path,
                              (intmax_t)sb.st_size, max);
        goto out;
    }
    buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
    if (!buf) {
        rc = strom_ckpt__fail(err, errlen, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    rc = strom_ckpt__pread_all(fd, buf, (size_t)sb.st_size, 0);
    if (rc) {
        rc = strom_ckpt__fail(err, errlen, rc, "reading %s: %s", path,
                              rc == STROM_E_CORRUPT ? "the file shrank while read"
                                                    : strom_strerror(rc));
        goto out;
    }
    *out = buf;
    *len = (size_t)sb.st_size;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

/* Unlinks everything in fd (a directory); subdirectories, which the store never makes, go
 * too. */
static int empty_dir(int fd)
{
    int dup_fd = dup(fd), rc = 0;
    struct dirent *de;
    DIR *d;

    if (dup_fd < 0)
        return -errno;
    d = fdopendir(dup_fd);
    if (!d) {
        rc = -errno;
        close(dup_fd);
        return rc;
    }
    rewinddir(d);
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (!unlinkat(fd, de->d_name, 0) || errno == ENOENT)
            continue;
        if (errno == EISDIR || errno == EPERM)
            rc = strom_ckpt__remove_dir(fd, de->d_name);
        else
            rc = -errno;
        if (rc)
            break;
    }
    closedir(d);
    return rc;
}

int strom_ckpt__remove_dir(int parentfd, const char *name)
{
    int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc;

    if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
        return unlinkat(parentfd, name, 0) ? -errno : 0;
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    if (unlinkat(fd, STROM_CKPT__MANIFEST, 0) && errno != ENOENT) {
        rc = -errno;
        close(fd);
        return rc;
    }
    /* Entries removed during readdir may hide others from it; a second pass finds them. */
    rc = empty_dir(fd);
    if (!rc && unlinkat(parentfd, name, AT_REMOVEDIR)) {
        rc = errno == ENOTEMPTY ? empty_dir(fd) : -errno;
        if (!rc && unlinkat(parentfd, name, AT_REMOVEDIR))
            rc = -errno;
    }
    close(fd);
    return rc;
}
