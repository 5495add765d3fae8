/* cluster/members.c: worker membership (members.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/members.h"
#include "core/errf.h"
#include "strom/error.h"

struct strom_members_watch {
    struct strom_zk *zk;
    strom_members_fn fn;
    void *ctx;
    pthread_mutex_t mu; /* serializes refresh() and the callback; see elect.c */
    struct strom_members last;
    int armed; /* a children watch is pending (the client re-arms it after a reconnect) */
    int dead;  /* the session is over: no more reports */
};

int strom_members_register(struct strom_zk *zk, const struct strom_cluster_node *self, char *err,
                           size_t errlen)
{
    char rec[STROM_CLUSTER_NODE_TEXT_MAX], path[STROM_ZK_PATH_MAX];
    int len, rc;

    len = strom_cluster_node_encode(self, rec, sizeof rec, err, errlen);
    if (len < 0)
        return len;
    rc = strom_zk_ensure_path(zk, STROM_ZK_WORKERS, err, errlen);
    if (rc)
        return rc;
    snprintf(path, sizeof path, STROM_ZK_WORKERS "/%s", self->name);
    rc = strom_zk_create(zk, path, rec, (size_t)len, STROM_ZK_EPHEMERAL, NULL, 0, err, errlen);
    if (rc == STROM_E_EXISTS)
        return strom__errf(err, errlen, rc,
                           "worker name %s is taken by a live worker (or by one that "
                           "crashed less than a session timeout ago)",
                           self->name);
    return rc;
}

int strom_members_deregister(struct strom_zk *zk, const char *name, char *err, size_t errlen)
{
    char path[STROM_ZK_PATH_MAX];

    if (!strom_cluster_node_name_ok(name))
        return strom__errf(err, errlen, STROM_E_INVAL, "worker name '%s' is invalid", name);
    snprintf(path, sizeof path, STROM_ZK_WORKERS "/%s", name);
    return strom_zk_delete(zk, path, -1, err, errlen);
}

void strom_members_release(struct strom_members *m)
{
    free(m->v);
    m->n = 0;
    m->v = NULL;
}

/* List the workers; with fn, leave a children watch, and set *watched when it was left. */
static int list(struct strom_zk *zk, struct strom_members *out, strom_zk_watch_fn fn, void *ctx,
                int *watched, char *err, size_t errlen)
{
    struct strom_zk_children c;
    char path[STROM_ZK_PATH_MAX], *data;
    size_t i, len;
    int rc;

    out->n = 0;
    out->v = NULL;
    rc = strom_zk_children(zk, STROM_ZK_WORKERS, &c, fn, ctx, err, errlen);
    if (rc)
        return rc;
    if (watched)
        *watched = fn != NULL;
    if (c.n && !(out->v = calloc(c.n, sizeof *out->v))) {
        rc = -ENOMEM;
        goto out;
    }
    for (i = 0; i < c.n; i++) {
        if (!strom_cluster_node_name_ok(c.names[i]))
            continue;
        snprintf(path, sizeof path, STROM_ZK_WORKERS "/%s", c.names[i]);
        rc = strom_zk_get(zk, path, &data, &len, NULL, NULL, NULL, err, errlen);
        if (rc == STROM_E_NOTFOUND) {
            rc = 0; /* left since the listing: the next report says so */
            continue;
        }
        if (rc)
            goto out;
        /* a record that does not decode, or whose name is not its znode's, is not a
         * worker we could talk to: leave it out */
        if (strom_cluster_node_decode(&out->v[out->n], data ? data : "", len, NULL, 0) == 0 &&
            strcmp(out->v[out->n].name, c.names[i]) == 0)
            out->n++;
        free(data);
    }
out:
    strom_zk_children_release(&c);
    if (rc)
        strom_members_release(out);
    return rc;
}

int strom_members_list(struct strom_zk *zk, struct strom_members *out, char *err, size_t errlen)
{
    return list(zk, out, NULL, NULL, NULL, err, errlen);
}

static int same_node(const struct strom_cluster_node *a, const struct strom_cluster_node *b)
{
    return strcmp(a->name, b->name) == 0 && strcmp(a->addr, b->addr) == 0 &&
           a->has_key == b->has_key && memcmp(a->key, b->key, sizeof a->key) == 0;
}

/* Those of a that are not in b, into out (room for a->n). A worker that left and came
 * back with another address or key between two reports counts as both left and joined. */
static void diff(const struct strom_members *a, const struct strom_members *b,
                 struct strom_members *out)
{
    size_t i, j;

    out->n = 0;
    for (i = 0; i < a->n; i++) {
        int same = 0;
        for (j = 0; j < b->n && !same; j++)
            same = same_node(&a->v[i], &b->v[j]);
        if (!same)
            out->v[out->n++] = a->v[i];
    }
}

static void children_watch(struct strom_zk *zk, enum strom_zk_watch_event ev, const char *path,
                           void *ctx);

/* List with a watch and report the difference to the previous list. With w->mu held. */
static int refresh(struct strom_members_watch *w, char *err, size_t errlen)
{
    struct strom_members now, joined = {0, NULL}, left = {0, NULL};
    int rc;

    if (w->dead)
        return STROM_E_SESSION;
    rc = list(w->zk, &now, children_watch, w, &w->armed, err, errlen);
    if (rc) {
        if (rc == STROM_E_SESSION)
            w->dead = 1;
        return rc; /* a connection loss: the reconnection refreshes */
    }
    joined.v = calloc(now.n + 1, sizeof *joined.v);
    left.v = calloc(w->last.n + 1, sizeof *left.v);
    if (!joined.v || !left.v) {
        rc = -ENOMEM;
        strom_members_release(&now);
        goto out;
    }
    diff(&now, &w->last, &joined);
    diff(&w->last, &now, &left);
    strom_members_release(&w->last);
    w->last = now;
    if (w->fn && (joined.n || left.n))
        w->fn(w, &w->last, &joined, &left, w->ctx);
out:
    free(joined.v);
    free(left.v);
    return rc;
}

static void children_watch(struct strom_zk *zk, enum strom_zk_watch_event ev, const char *path,
                           void *ctx)
{
    struct strom_members_watch *w = ctx;

    (void)zk;
    (void)ev;
    (void)path;
    pthread_mutex_lock(&w->mu);
    w->armed = 0;
    refresh(w, NULL, 0);
    pthread_mutex_unlock(&w->mu);
}

static void on_session(struct strom_zk *zk, enum strom_zk_session_event ev, void *ctx)
{
    struct strom_members_watch *w = ctx;

    (void)zk;
    pthread_mutex_lock(&w->mu);
    /* After a reconnection within the session the client sets the pending watch again,
     * and it fires for a change made while disconnected: list again only when no watch
     * is pending (the last listing failed with the connection). */
    if (ev == STROM_ZK_CONNECTED && !w->armed)
        refresh(w, NULL, 0);
    else if (ev == STROM_ZK_EXPIRED)
        w->dead = 1;
    pthread_mutex_unlock(&w->mu);
}

int strom_members_watch_new(struct strom_members_watch **out, struct strom_zk *zk,
                            strom_members_fn fn, void *ctx, char *err, size_t errlen)
{
    struct strom_members_watch *w;
    struct strom_members none = {0, NULL};
    int rc;

    *out = NULL;
    rc = strom_zk_ensure_path(zk, STROM_ZK_WORKERS, err, errlen);
    if (rc)
        return rc;
    w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->zk = zk;
    w->fn = fn;
    w->ctx = ctx;
    pthread_mutex_init(&w->mu, NULL);
    rc = strom_zk_on_session(zk, on_session, w);
    if (rc)
        goto fail;
    pthread_mutex_lock(&w->mu);
    rc = refresh(w, err, errlen);
    if (!rc && w->last.n == 0 && fn)
        fn(w, &w->last, &none, &none, ctx); /* the first report, even when empty */
    pthread_mutex_unlock(&w->mu);
    if (rc)
        goto fail;
    *out = w;
    return 0;
fail:
    strom_members_watch_free(w);
    return rc;
}

void strom_members_watch_free(struct strom_members_watch *w)
{
    if (!w)
        return;
    strom_zk_unwatch(w->zk, w);
    strom_members_release(&w->last);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
