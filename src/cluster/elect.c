/* cluster/elect.c: leader election (elect.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/elect.h"
#include "core/errf.h"
#include "strom/error.h"

#define CANDIDATE_PREFIX "n-"

struct strom_elect {
    struct strom_zk *zk;
    strom_elect_fn fn;
    void *ctx;
    char dir[STROM_ZK_PATH_MAX + 1];
    char path[STROM_ZK_PATH_MAX + 16];     /* our candidate znode */
    const char *name;                      /* its last component, inside path */
    char watching[STROM_ZK_PATH_MAX + 16]; /* the predecessor's znode, "" when leading */
    /* mu serializes the candidate's state machine: check() and every on_change call.
     * Taken on the event thread and in join; held across ZooKeeper calls (they complete
     * on the client's I/O thread, not on the event thread, so that cannot deadlock). */
    pthread_mutex_t mu;
    atomic_int leader;
    int armed; /* an exists watch on the predecessor is pending */
    int lost;  /* the session expired or our znode vanished: terminal */
};

/* A candidate's name: "n-" and the 10 digits the server appends. */
static int is_candidate(const char *name)
{
    size_t i;

    if (strncmp(name, CANDIDATE_PREFIX, 2) != 0 || strlen(name) != 12)
        return 0;
    for (i = 2; i < 12; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    return 1;
}

static void emit(struct strom_elect *e, enum strom_elect_event ev)
{
    if (e->fn)
        e->fn(e, ev, e->ctx);
}

static void become_lost(struct strom_elect *e)
{
    if (e->lost)
        return;
    e->lost = 1;
    atomic_store(&e->leader, 0);
    emit(e, STROM_ELECT_LOST);
}

static void pred_watch(struct strom_zk *zk, enum strom_zk_watch_event ev, const char *path,
                       void *ctx);

/* Decide: lead, or watch the predecessor. With e->mu held. Failures other than a dead
 * session leave things as they are: the reconnection (session listener) checks again. */
static int check(struct strom_elect *e, char *err, size_t errlen)
{
    struct strom_zk_children c;
    char pred[STROM_ZK_PATH_MAX + 16];
    size_t i, mine, prev;
    int rc, tries;

    for (tries = 0; tries < 100 && !e->lost; tries++) {
        rc = strom_zk_children(e->zk, e->dir, &c, NULL, NULL, err, errlen);
        if (rc) {
            if (rc == STROM_E_SESSION)
                become_lost(e);
            return rc;
        }
        mine = c.n;
        prev = c.n;
        for (i = 0; i < c.n; i++) {
            if (!is_candidate(c.names[i]))
                continue;
            if (strcmp(c.names[i], e->name) == 0) {
                mine = i;
                break;
            }
            prev = i; /* names are sorted: the last candidate before ours */
        }
        if (mine == c.n) {
            strom_zk_children_release(&c);
            become_lost(e);
            return strom__errf(err, errlen, STROM_E_SESSION,
                               "election: candidate %s is gone (session expired?)", e->path);
        }
        if (prev == c.n) {
            strom_zk_children_release(&c);
            e->watching[0] = '\0';
            if (!atomic_load(&e->leader)) {
                atomic_store(&e->leader, 1);
                emit(e, STROM_ELECT_LEADER);
            }
            return 0;
        }
        snprintf(pred, sizeof pred, "%s/%s", e->dir, c.names[prev]);
        strom_zk_children_release(&c);
        /* not first (any more): a leader that finds a lower candidate is a bug of the
         * sequence numbers; keep it simple and safe: it does not lead */
        if (atomic_load(&e->leader)) {
            atomic_store(&e->leader, 0);
            emit(e, STROM_ELECT_SUSPENDED);
        }
        rc = strom_zk_exists(e->zk, pred, NULL, pred_watch, e, err, errlen);
        if (rc == 1) {
            /* the watch fires when the predecessor goes */
            e->armed = 1;
            if (strcmp(pred, e->watching) != 0) {
                strcpy(e->watching, pred);
                emit(e, STROM_ELECT_WAITING);
            }
            return 0;
        }
        if (rc < 0) {
            if (rc == STROM_E_SESSION)
                become_lost(e);
            return rc;
        }
        /* the predecessor went between the listing and the watch: look again */
    }
    return e->lost ? STROM_E_SESSION : 0;
}

static void pred_watch(struct strom_zk *zk, enum strom_zk_watch_event ev, const char *path,
                       void *ctx)
{
    struct strom_elect *e = ctx;

    (void)zk;
    (void)ev;
    (void)path;
    pthread_mutex_lock(&e->mu);
    e->armed = 0;
    check(e, NULL, 0);
    pthread_mutex_unlock(&e->mu);
}

static void on_session(struct strom_zk *zk, enum strom_zk_session_event ev, void *ctx)
{
    struct strom_elect *e = ctx;

    (void)zk;
    pthread_mutex_lock(&e->mu);
    if (e->lost) {
        pthread_mutex_unlock(&e->mu);
        return;
    }
    switch (ev) {
    case STROM_ZK_DISCONNECTED:
        if (atomic_load(&e->leader)) {
            atomic_store(&e->leader, 0);
            emit(e, STROM_ELECT_SUSPENDED);
        }
        break;
    case STROM_ZK_CONNECTED:
        /* Leading again if our znode survived (it is still first: lower ones only go).
         * A follower whose watch is pending keeps it: the client sets it again after a
         * reconnection, and it fires if the predecessor went meanwhile. */
        if (!e->armed)
            check(e, NULL, 0);
        break;
    case STROM_ZK_EXPIRED:
        become_lost(e);
        break;
    }
    pthread_mutex_unlock(&e->mu);
}

int strom_elect_join(struct strom_elect **out, struct strom_zk *zk, const char *dir,
                     const struct strom_cluster_node *self, strom_elect_fn on_change, void *ctx,
                     char *err, size_t errlen)
{
    struct strom_elect *e;
    char rec[STROM_CLUSTER_NODE_TEXT_MAX], want[STROM_ZK_PATH_MAX + 8];
    int len, rc;

    *out = NULL;
    if (strlen(dir) > STROM_ZK_PATH_MAX - 16)
        return strom__errf(err, errlen, STROM_E_INVAL, "election %s: path too long", dir);
    len = strom_cluster_node_encode(self, rec, sizeof rec, err, errlen);
    if (len < 0)
        return len;
    rc = strom_zk_ensure_path(zk, dir, err, errlen);
    if (rc)
        return rc;
    e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->zk = zk;
    e->fn = on_change;
    e->ctx = ctx;
    strcpy(e->dir, dir);
    pthread_mutex_init(&e->mu, NULL);
    atomic_init(&e->leader, 0);
    rc = strom_zk_on_session(zk, on_session, e);
    if (rc)
        goto fail;
    snprintf(want, sizeof want, "%s/" CANDIDATE_PREFIX, dir);
    pthread_mutex_lock(&e->mu);
    rc = strom_zk_create(zk, want, rec, (size_t)len, STROM_ZK_EPHEMERAL | STROM_ZK_SEQUENTIAL,
                         e->path, sizeof e->path, err, errlen);
    if (rc) {
        pthread_mutex_unlock(&e->mu);
        goto fail;
    }
    e->name = e->path + strlen(dir) + 1;
    rc = check(e, err, errlen);
    pthread_mutex_unlock(&e->mu);
    /* a connection loss during the first check is survivable (the reconnection checks
     * again); anything else is not */
    if (rc && rc != STROM_E_DISCONNECTED)
        goto fail;
    *out = e;
    return 0;
fail:
    strom_elect_free(e);
    return rc;
}

void strom_elect_free(struct strom_elect *e)
{
    if (!e)
        return;
    strom_zk_unwatch(e->zk, e);
    /* resign at once rather than after the session: the next candidate leads now */
    if (e->name && !e->lost)
        strom_zk_delete(e->zk, e->path, -1, NULL, 0);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

int strom_elect_is_leader(const struct strom_elect *e)
{
    return atomic_load(&((struct strom_elect *)e)->leader);
}

const char *strom_elect_path(const struct strom_elect *e)
{
    return e->path;
}

int strom_elect_leader(struct strom_zk *zk, const char *dir, struct strom_cluster_node *leader,
                       char *err, size_t errlen)
{
    struct strom_zk_children c;
    char path[STROM_ZK_PATH_MAX + 16], *data = NULL;
    size_t i, len;
    int rc, tries;

    for (tries = 0; tries < 10; tries++) {
        rc = strom_zk_children(zk, dir, &c, NULL, NULL, err, errlen);
        if (rc)
            return rc;
        for (i = 0; i < c.n && !is_candidate(c.names[i]); i++)
            ;
        if (i == c.n) {
            strom_zk_children_release(&c);
            return strom__errf(err, errlen, STROM_E_NOTFOUND, "election %s: no candidate", dir);
        }
        snprintf(path, sizeof path, "%s/%s", dir, c.names[i]);
        strom_zk_children_release(&c);
        rc = strom_zk_get(zk, path, &data, &len, NULL, NULL, NULL, err, errlen);
        if (rc == STROM_E_NOTFOUND)
            continue; /* the leader just went: ask again */
        if (rc)
            return rc;
        rc = strom_cluster_node_decode(leader, data ? data : "", len, err, errlen);
        free(data);
        return rc;
    }
    return strom__errf(err, errlen, STROM_E_CONFLICT,
                       "election %s: the leader changed %d times while asked", dir, tries);
}

const char *strom_elect_watching(const struct strom_elect *e)
{
    return e->watching;
}

const char *strom_elect_event_name(enum strom_elect_event ev)
{
    switch (ev) {
    case STROM_ELECT_WAITING:
        return "waiting";
    case STROM_ELECT_LEADER:
        return "leader";
    case STROM_ELECT_SUSPENDED:
        return "suspended";
    case STROM_ELECT_LOST:
        return "lost";
    }
    return "?";
}
