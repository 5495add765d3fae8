/* cluster/zk_ops.c: the znode operations of a session (zk.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/zk_int.h"
#include "core/errf.h"
#include "strom/error.h"

static int check_len(size_t len, const char *path, char *err, size_t errlen)
{
    if (len > STROM_ZK_DATA_MAX)
        return strom__errf(err, errlen, -EMSGSIZE, "znode %s: %zu bytes, more than %zu", path, len,
                           STROM_ZK_DATA_MAX);
    return 0;
}

static int mode_of(int flags)
{
    switch (flags & (STROM_ZK_EPHEMERAL | STROM_ZK_SEQUENTIAL)) {
    case STROM_ZK_EPHEMERAL:
        return ZOO_EPHEMERAL;
    case STROM_ZK_SEQUENTIAL:
        return ZOO_PERSISTENT_SEQUENTIAL;
    case STROM_ZK_EPHEMERAL | STROM_ZK_SEQUENTIAL:
        return ZOO_EPHEMERAL_SEQUENTIAL;
    default:
        return ZOO_PERSISTENT;
    }
}

int strom_zk_create(struct strom_zk *zk, const char *path, const void *data, size_t len, int flags,
                    char *created, size_t created_len, char *err, size_t errlen)
{
    char buf[STROM_ZK_PATH_MAX + 16];
    int rc, zrc;

    rc = strom_zk__check_path(path, err, errlen);
    if (rc)
        return rc;
    rc = check_len(len, path, err, errlen);
    if (rc)
        return rc;
    if (flags & ~(STROM_ZK_EPHEMERAL | STROM_ZK_SEQUENTIAL))
        return strom__errf(err, errlen, STROM_E_INVAL, "create %s: unknown flags %#x", path, flags);
    /* Every znode strom creates carries zk->acl: all permissions to the secret's digest
     * identity, nothing to anyone else. */
    zrc = zoo_create(zk->zh, path, len ? data : "", (int)len, &zk->acl, mode_of(flags), buf,
                     (int)sizeof buf);
    if (zrc != ZOK)
        return strom_zk__err(err, errlen, zrc, "create", path);
    if (created && created_len) {
        if (strlen(buf) >= created_len)
            return strom__errf(err, errlen, -ENAMETOOLONG, "create %s: created %s, too long", path,
                               buf);
        strcpy(created, buf);
    }
    return 0;
}

int strom_zk_ensure_path(struct strom_zk *zk, const char *path, char *err, size_t errlen)
{
    char buf[STROM_ZK_PATH_MAX + 1];
    char *p;
    int rc, zrc;

    rc = strom_zk__check_path(path, err, errlen);
    if (rc)
        return rc;
    if (strcmp(path, "/") == 0)
        return 0;
    /* the common case, everything there already, in one round trip */
    zrc = zoo_exists(zk->zh, path, 0, NULL);
    if (zrc == ZOK)
        return 0;
    if (zrc != ZNONODE)
        return strom_zk__err(err, errlen, zrc, "exists", path);
    strcpy(buf, path);
    for (p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        zrc = zoo_create(zk->zh, buf, "", 0, &zk->acl, ZOO_PERSISTENT, NULL, 0);
        if (zrc != ZOK && zrc != ZNODEEXISTS)
            return strom_zk__err(err, errlen, zrc, "create", buf);
        if (c == '\0')
            return 0;
        *p = c;
    }
}

int strom_zk_get(struct strom_zk *zk, const char *path, char **data, size_t *len, int32_t *version,
                 strom_zk_watch_fn fn, void *ctx, char *err, size_t errlen)
{
    struct strom_zk__cb *cb = NULL;
    struct Stat st;
    size_t cap = 4096;
    char *buf = NULL, *nb;
    int rc, zrc, blen;

    if (data)
        *data = NULL;
    if (len)
        *len = 0;
    rc = strom_zk__check_path(path, err, errlen);
    if (rc)
        return rc;
    if (fn && !(cb = strom_zk__watch_new(zk, fn, ctx)))
        return -ENOMEM;
    /* The first read leaves the watch; when the data did not fit, later reads do without:
     * the watch was set before the data we return was read, so no change after it is
     * missed (at worst one is reported that the caller has already seen). */
    for (;;) {
        nb = realloc(buf, cap + 1);
        if (!nb) {
            rc = -ENOMEM;
            break;
        }
        buf = nb;
        blen = (int)cap;
        if (cb) {
            zrc = zoo_wget(zk->zh, path, strom_zk__watcher, cb, buf, &blen, &st);
            if (zrc != ZOK)
                strom_zk__watch_drop(zk, cb);
            cb = NULL;
        } else {
            zrc = zoo_get(zk->zh, path, 0, buf, &blen, &st);
        }
        if (zrc != ZOK) {
            rc = strom_zk__err(err, errlen, zrc, "get", path);
            break;
        }
        if (st.dataLength < 0 || (size_t)st.dataLength > STROM_ZK_DATA_MAX) {
            rc = strom__errf(err, errlen, -EMSGSIZE, "znode %s: %d bytes, more than %zu", path,
                             st.dataLength, STROM_ZK_DATA_MAX);
            break;
        }
        if ((size_t)st.dataLength <= cap && blen <= st.dataLength) {
            if (blen < 0)
                blen = 0; /* null data */
            buf[blen] = '\0';
            if (version)
                *version = st.version;
            if (len)
                *len = (size_t)blen;
            if (data && blen > 0) {
                *data = buf;
                buf = NULL;
            }
            rc = 0;
            break;
        }
        cap = (size_t)st.dataLength;
    }
    free(buf);
    return rc;
}

int strom_zk_set(struct strom_zk *zk, const char *path, const void *data, size_t len,
                 int32_t expected_version, int32_t *new_version, char *err, size_t errlen)
{
    struct Stat st;
    int rc, zrc;

    rc = strom_zk__check_path(path, err, errlen);
    if (rc)
        return rc;
    rc = check_len(len, path, err, errlen);
    if (rc)
        return rc;
    zrc = zoo_set2(zk->zh, path, len ? data : "", (int)len, expected_version, &st);
    if (zrc == ZBADVERSION)
        return strom__errf(err, errlen, STROM_E_CONFLICT,
                           "ZooKeeper set %s: %s (expected version %d)", path, zerror(zrc),
                           (int)expected_version);
    if (zrc != ZOK)
        return strom_zk__err(err, errlen, zrc, "set", path);
    if (new_version)
        *new_version = st.version;
    return 0;
}

int strom_zk_delete(struct strom_zk *zk, const char *path, int32_t expected_version, char *err,
                    size_t errlen)
{
    int rc, zrc;

    rc = strom_zk__check_path(path, err, errlen);
    if (rc)
        return rc;
    zrc = zoo_delete(zk->zh, path, expected_version);
    if (zrc != ZOK)
        return strom_zk__err(err, errlen, zrc, "delete", path);
    return 0;
}

int strom_zk_exists(struct strom_zk *zk, const char *path, int32_t *version, strom_zk_watch_fn fn,
                    void *ctx, char *err, size_t errlen)
{
    struct strom_zk__cb *cb = NULL;
    struct Stat st;
    int rc, zrc;

    rc = strom_zk__check_path(path, err, errlen);
    if (rc)
        return rc;
    if (fn) {
        cb = strom_zk__watch_new(zk, fn, ctx);
        if (!cb)
            return -ENOMEM;
        zrc = zoo_wexists(zk->zh, path, strom_zk__watcher, cb, &st);
        /* the client keeps the watch for an existing znode and for a missing one */
        if (zrc != ZOK && zrc != ZNONODE)
            strom_zk__watch_drop(zk, cb);
    } else {
        zrc = zoo_exists(zk->zh, path, 0, &st);
    }
    if (zrc == ZNONODE)
        return 0;
    if (zrc != ZOK)
        return strom_zk__err(err, errlen, zrc, "exists", path);
    if (version)
        *version = st.version;
    return 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int strom_zk_children(struct strom_zk *zk, const char *path, struct strom_zk_children *out,
                      strom_zk_watch_fn fn, void *ctx, char *err, size_t errlen)
{
    struct strom_zk__cb *cb = NULL;
    struct String_vector sv = {0, NULL};
    int rc, zrc, i;

    out->n = 0;
    out->names = NULL;
    rc = strom_zk__check_path(path, err, errlen);
    if (rc)
        return rc;
    if (fn) {
        cb = strom_zk__watch_new(zk, fn, ctx);
        if (!cb)
            return -ENOMEM;
        zrc = zoo_wget_children(zk->zh, path, strom_zk__watcher, cb, &sv);
        if (zrc != ZOK)
            strom_zk__watch_drop(zk, cb);
    } else {
        zrc = zoo_get_children(zk->zh, path, 0, &sv);
    }
    if (zrc != ZOK)
        return strom_zk__err(err, errlen, zrc, "list children of", path);
    if (sv.count > 0) {
        out->names = calloc((size_t)sv.count, sizeof *out->names);
        if (!out->names) {
            rc = -ENOMEM;
            goto out;
        }
        for (i = 0; i < sv.count; i++) {
            out->names[i] = strdup(sv.data[i]);
            if (!out->names[i]) {
                rc = -ENOMEM;
                goto out;
            }
            out->n++;
        }
        qsort(out->names, out->n, sizeof *out->names, cmp_names);
    }
out:
    deallocate_String_vector(&sv);
    if (rc)
        strom_zk_children_release(out);
    return rc;
}

void strom_zk_children_release(struct strom_zk_children *c)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        free(c->names[i]);
    free(c->names);
    c->n = 0;
    c->names = NULL;
}
