/*
 * cluster/zk_int.h: the session's insides, shared by zk.c (session, callbacks) and
 * zk_ops.c (the znode operations).
 *
 * Callback registry. Every watch and session listener is a struct strom_zk__cb on the
 * session's list, and the raw client's watcher context is that struct, never the caller's
 * object. A watch's struct lives until its one event arrives (or the session is freed, for
 * a watch that never fires); a session listener's until unwatch. Cancelling marks the
 * structs; the event thread skips marked ones. `running` names the struct whose callback
 * runs now, so that unwatch can wait for it to return. Only the event thread sets running.
 *
 * Lock: mu guards the list, every struct's fields, running, state and the auth result. It
 * is never held while a user callback runs, nor across a call into the ZooKeeper client
 * that waits for the server.
 */
#ifndef STROM_CLUSTER_ZK_INT_H
#define STROM_CLUSTER_ZK_INT_H

#include <pthread.h>

/* the synchronous API of the multi-threaded client (libzookeeper_mt) */
#ifndef THREADED
#define THREADED
#endif
#include <zookeeper/zookeeper.h>

#include "cluster/digest.h"
#include "cluster/zk.h"

struct strom_zk__cb {
    struct strom_zk__cb *next;
    struct strom_zk *zk;
    int is_session; /* session listener (stays) or watch (fires once) */
    int cancelled;
    strom_zk_watch_fn wfn;
    strom_zk_session_fn sfn;
    void *ctx;
};

struct strom_zk {
    zhandle_t *zh;
    char *connect; /* as given */
    char *hosts;   /* without the chroot */
    char *chroot;  /* "/a/b" or NULL */
    int session_timeout_ms;
    int connect_timeout_ms;
    enum strom_zk_client_log client_log;

    char cred[STROM_ZK_CRED_MAX]; /* "strom:password", sent by zoo_add_auth */
    char id[STROM_ZK_CRED_MAX];   /* "strom:base64(sha1)", named by the ACL */
    struct ACL acl_entry;
    struct ACL_vector acl; /* one entry: all permissions to id */

    pthread_mutex_t mu;
    pthread_cond_t cond; /* state, auth, running changed */
    int state;           /* the last ZOO_*_STATE the session watcher saw */
    int auth_done, auth_rc;
    int closing;
    struct strom_zk__cb *cbs;
    const struct strom_zk__cb *running;
    pthread_t running_thread; /* the event thread, while running is set */
};

/* The code (strom/error.h) for a ZooKeeper result, and the message for it. */
int strom_zk__code(int zrc);
int strom_zk__err(char *err, size_t errlen, int zrc, const char *op, const char *path);

/* A watch for fn/ctx, on the list; NULL without memory. The raw client's watcher and its
 * context to pass along are strom_zk__watcher and the returned struct. */
struct strom_zk__cb *strom_zk__watch_new(struct strom_zk *zk, strom_zk_watch_fn fn, void *ctx);
/* Takes back a watch the client did not register (the call failed). */
void strom_zk__watch_drop(struct strom_zk *zk, struct strom_zk__cb *cb);
void strom_zk__watcher(zhandle_t *zh, int type, int state, const char *path, void *wctx);

/* Check a path: absolute, no empty component, no trailing '/', no "." or "..", at most
 * STROM_ZK_PATH_MAX bytes. */
int strom_zk__check_path(const char *path, char *err, size_t errlen);

#endif
