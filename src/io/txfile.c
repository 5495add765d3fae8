/*
 * io/txfile.c: transactional output files (txfile.h).
 */
#include "io/txfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crash.h"
#include "core/errf.h"
#include "strom/error.h"

char *strom_txfile_parts_dir(const char *ckpt_dir)
{
    char *p;
    return asprintf(&p, "%s/parts", ckpt_dir) < 0 ? NULL : p;
}

static char *part_path(const char *parts, const char *name, uint64_t n)
{
    char *p;
    if (asprintf(&p, "%s/%s.%" PRIu64 ".part", parts, name, n) < 0)
        return NULL;
    return p;
}

/* Deletes every part of name in parts. */
static int remove_parts(const char *parts, const char *name, char *err, size_t errlen)
{
    DIR *d = opendir(parts);
    struct dirent *e;
    size_t nl = strlen(name);
    int rc = 0;

    if (!d)
        return strom__errf(err, errlen, -errno, "cannot read %s: %s", parts, strerror(errno));
    while ((e = readdir(d))) {
        char *end;
        if (strncmp(e->d_name, name, nl) || e->d_name[nl] != '.')
            continue;
        (void)strtoull(e->d_name + nl + 1, &end, 10);
        if (end == e->d_name + nl + 1 || strcmp(end, ".part"))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) && errno != ENOENT && !rc)
            rc = strom__errf(err, errlen, -errno, "cannot delete %s/%s: %s", parts, e->d_name,
                     strerror(errno));
    }
    closedir(d);
    return rc;
}

static int open_part(struct strom_txfile *t, char *err, size_t errlen)
{
    char *p = part_path(t->parts, t->name, t->epoch);
    if (!p)
        return -ENOMEM;
    t->f = fopen(p, "w");
    if (!t->f) {
        int rc = strom__errf(err, errlen, -errno, "cannot create %s: %s", p, strerror(errno));
        free(p);
        return rc;
    }
    free(p);
    return 0;
}

static int init(struct strom_txfile *t, const char *path, const char *parts, const char *name)
{
    memset(t, 0, sizeof *t);
    t->path = strdup(path);
    t->parts = parts ? strdup(parts) : NULL;
    t->name = strdup(name ? name : "out");
    if (!t->path || !t->name || (parts && !t->parts)) {
        strom_txfile_close(t);
        return -ENOMEM;
    }
    return 0;
}

int strom_txfile_open(struct strom_txfile *t, const char *path, const char *parts,
                      const char *name, char *err, size_t errlen)
{
    int rc = init(t, path, parts, name);
    FILE *f;

    if (rc)
        return rc;
    if (!(f = fopen(path, "w"))) {
        rc = strom__errf(err, errlen, -errno, "cannot create %s: %s", path, strerror(errno));
        strom_txfile_close(t);
        return rc;
    }
    if (!parts) {
        t->f = f;
        return 0;
    }
    fclose(f); /* created empty: commits append to it */
    t->epoch = 0;
    if ((rc = remove_parts(parts, t->name, err, errlen)) ||
        (rc = open_part(t, err, errlen)))
        strom_txfile_close(t);
    return rc;
}

int strom_txfile_resume(struct strom_txfile *t, const char *path, const char *parts,
                        const char *name, uint64_t n, uint64_t part, uint64_t before,
                        uint64_t total, char *err, size_t errlen)
{
    int rc = init(t, path, parts, name);
    if (rc)
        return rc;
    if ((rc = strom_txfile_commit_part(path, parts, t->name, part, before, total, err,
                                       errlen)) ||
        (rc = remove_parts(parts, t->name, err, errlen))) {
        strom_txfile_close(t);
        return rc;
    }
    t->epoch = n;
    t->before = total;
    if ((rc = open_part(t, err, errlen)))
        strom_txfile_close(t);
    return rc;
}

static int flush_sync(FILE *f, const char *what, char *err, size_t errlen)
{
    if (fflush(f) || ferror(f))
        return strom__errf(err, errlen, errno ? -errno : -EIO, "writing %s failed: %s", what,
                   strerror(errno ? errno : EIO));
    if (fsync(fileno(f)))
        return strom__errf(err, errlen, -errno, "syncing %s failed: %s", what, strerror(errno));
    return 0;
}

/* Bytes in the open part, after a flush. */
static int64_t part_bytes(struct strom_txfile *t)
{
    off_t o = ftello(t->f);
    return o < 0 ? -errno : (int64_t)o;
}

/* Flush, fsync and close the open part; remember it as sealed. */
static int seal_open(struct strom_txfile *t, char *err, size_t errlen)
{
    int64_t len;
    int rc;

    if (t->n_sealed == t->cap_sealed) {
        size_t cap = t->cap_sealed ? 2 * t->cap_sealed : 16;
        struct strom_txpart *ns = realloc(t->sealed, cap * sizeof *ns);
        if (!ns)
            return -ENOMEM;
        t->sealed = ns;
        t->cap_sealed = cap;
    }
    if (t->parts) {
        char what[PATH_MAX + 64];
        snprintf(what, sizeof what, "the uncommitted rows of %s (part %" PRIu64 " in %s)",
                 t->path, t->epoch, t->parts);
        rc = flush_sync(t->f, what, err, errlen);
    } else {
        rc = flush_sync(t->f, t->path, err, errlen);
    }
    if (rc)
        return rc;
    if ((len = part_bytes(t)) < 0)
        return strom__errf(err, errlen, (int)len, "%s: %s", t->path, strerror((int)-len));
    fclose(t->f);
    t->f = NULL;
    t->sealed[t->n_sealed++] = (struct strom_txpart){t->epoch, t->before,
                                                     t->before + (uint64_t)len};
    t->before += (uint64_t)len;
    return 0;
}

int strom_txfile_seal(struct strom_txfile *t, uint64_t n, uint64_t *part, uint64_t *before,
                      uint64_t *total, char *err, size_t errlen)
{
    int rc;

    if (!t->parts || !t->f || n <= t->epoch)
        return strom__errf(err, errlen, STROM_E_BADSTATE,
                   "%s: barrier %" PRIu64 " after %" PRIu64 " or without parts", t->path, n,
                   t->epoch);
    if ((rc = seal_open(t, err, errlen)))
        return rc;
    *part = t->sealed[t->n_sealed - 1].part;
    *before = t->sealed[t->n_sealed - 1].before;
    *total = t->sealed[t->n_sealed - 1].total;
    t->epoch = n;
    return open_part(t, err, errlen);
}

int strom_txfile_commit_part(const char *path, const char *parts, const char *name,
                             uint64_t part, uint64_t before, uint64_t total, char *err,
                             size_t errlen)
{
    char *pp = part_path(parts, name, part);
    int out = -1, in = -1, rc = 0;
    struct stat so, si;
    char *buf = NULL;

    if (!pp)
        return -ENOMEM;
    if ((out = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666)) < 0 ||
        fstat(out, &so)) {
        rc = strom__errf(err, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
        goto done;
    }
    if ((uint64_t)so.st_size >= total)
        goto unlink_part; /* committed before */
    if ((uint64_t)so.st_size < before) {
        rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                 "%s has %lld bytes but its committed output has %" PRIu64
                 " (was it changed while the job was stopped?)",
                 path, (long long)so.st_size, before);
        goto done;
    }
    if ((in = open(pp, O_RDONLY | O_CLOEXEC)) < 0 || fstat(in, &si)) {
        rc = strom__errf(err, errlen, errno == ENOENT ? STROM_E_CORRUPT : -errno,
                 "cannot read %s, which %s still needs: %s", pp, path, strerror(errno));
        goto done;
    }
    if ((uint64_t)si.st_size != total - before) {
        rc = strom__errf(err, errlen, STROM_E_CORRUPT, "%s has %lld bytes, not the %" PRIu64 " sealed",
                 pp, (long long)si.st_size, total - before);
        goto done;
    }
    if (!(buf = malloc(1 << 20))) {
        rc = -ENOMEM;
        goto done;
    }
    for (off_t off = (off_t)((uint64_t)so.st_size - before); off < si.st_size;) {
        ssize_t r = pread(in, buf, 1 << 20, off), w = 0;
        if (r <= 0) {
            rc = strom__errf(err, errlen, r ? -errno : STROM_E_CORRUPT, "reading %s failed: %s", pp,
                     r ? strerror(errno) : "unexpected end");
            goto done;
        }
        while (w < r) {
            ssize_t k = write(out, buf + w, (size_t)(r - w));
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                rc = strom__errf(err, errlen, -errno, "appending to %s failed: %s", path,
                         strerror(errno));
                goto done;
            }
            w += k;
        }
        off += r;
        if (off >= si.st_size / 2)
            strom_crash_point("output-append");
    }
    if (fsync(out)) {
        rc = strom__errf(err, errlen, -errno, "syncing %s failed: %s", path, strerror(errno));
        goto done;
    }
unlink_part:
    if (unlink(pp) && errno != ENOENT)
        rc = strom__errf(err, errlen, -errno, "cannot delete %s: %s", pp, strerror(errno));
done:
    free(buf);
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    free(pp);
    return rc;
}

int strom_txfile_finish(struct strom_txfile *t, char *err, size_t errlen)
{
    if (!t->f)
        return strom__errf(err, errlen, STROM_E_BADSTATE, "%s: not open", t->path);
    if (!t->parts) {
        if (fflush(t->f) || ferror(t->f))
            return strom__errf(err, errlen, errno ? -errno : -EIO, "writing %s failed: %s", t->path,
                       strerror(errno ? errno : EIO));
        return 0;
    }
    return seal_open(t, err, errlen);
}

int strom_txfile_end(struct strom_txfile *t, char *err, size_t errlen)
{
    int rc = 0;
    for (size_t i = 0; i < t->n_sealed && !rc && t->parts; i++)
        rc = strom_txfile_commit_part(t->path, t->parts, t->name, t->sealed[i].part,
                                      t->sealed[i].before, t->sealed[i].total, err, errlen);
    return rc;
}

void strom_txfile_close(struct strom_txfile *t)
{
    if (t->f)
        fclose(t->f);
    free(t->path);
    free(t->parts);
    free(t->name);
    free(t->sealed);
    memset(t, 0, sizeof *t);
}
