/*
 * cluster/zk.h: a ZooKeeper session, as the rest of strom uses it.
 *
 * A thin layer over the multi-threaded ZooKeeper C client (zookeeper_mt) that does three
 * things the raw client leaves to every caller:
 *
 * - Security. A session is opened with the cluster's 32-byte shared secret. From it we
 *   derive a ZooKeeper "digest" identity (cluster/digest.h); the session authenticates as
 *   that identity, and every znode it creates carries an ACL granting all permissions to
 *   that identity and nothing to anyone else (no world:anyone entry). A process without
 *   the secret can neither read nor change strom's znodes (docs/internals/cluster.md says
 *   what that does and does not protect).
 * - Errors. Every call returns 0 or a negative code of strom/error.h, the same for every
 *   ZooKeeper failure of a kind (below), and writes into err a message naming the znode
 *   and ZooKeeper's own error string.
 * - Lifetimes of callbacks. Watches and session listeners are registered here, so that an
 *   object that set watches can cancel them and be freed at any time (strom_zk_unwatch)
 *   while the session goes on: the raw client offers no safe way to do that.
 *
 * Connect string: "host:port[,host:port...][/chroot]". With a chroot, every path of the
 * session is relative to it; strom_zk_connect creates the chroot (and its parents, all
 * with strom's ACL) when missing, through a first short session without the chroot.
 *
 * Errors (besides -ENOMEM, -EINVAL and the like):
 *   STROM_E_NOTFOUND      no such znode (ZNONODE)
 *   STROM_E_EXISTS        the znode exists already (ZNODEEXISTS)
 *   STROM_E_CONFLICT      compare-and-set lost: the znode's version is not the expected one
 *                         (ZBADVERSION)
 *   STROM_E_NOAUTH        the server refused: the znode's ACL does not grant this session's
 *                         identity the permission, i.e. a wrong or missing secret (ZNOAUTH,
 *                         ZAUTHFAILED)
 *   STROM_E_DISCONNECTED  the connection was lost before the answer came (ZCONNECTIONLOSS,
 *                         ZOPERATIONTIMEOUT): a write may or may not have happened; the
 *                         client reconnects by itself, the session may survive
 *   STROM_E_SESSION       the session expired or is closed (ZSESSIONEXPIRED, ZINVALIDSTATE,
 *                         ZCLOSING): its ephemeral znodes and watches are gone; open a new one
 *   -ENOTEMPTY            delete of a znode that has children (ZNOTEMPTY)
 *   -ETIMEDOUT            connect: no server answered within the timeout
 *   STROM_E_ZK            any other failure of ZooKeeper
 *
 * Threads: every function may be called from any thread, including from inside a watch or
 * session callback (the multi-threaded client completes synchronous calls on its I/O
 * thread, so a call made on its event thread does not wait for itself). Watch and session
 * callbacks run on the ZooKeeper client's event ("completion") thread, one at a time, in
 * the order the events happened; a callback that blocks delays every later event of the
 * session, so callbacks do little and quick. strom_zk_unwatch and strom_zk_free must not
 * be called from inside a callback of the object they cancel (unwatch of another ctx is
 * fine); strom_zk_free never from inside any callback.
 *
 * Ownership: functions borrow their arguments; data returned by get is malloc'd and the
 * caller frees it; children lists are released with strom_zk_children_release.
 */
#ifndef STROM_CLUSTER_ZK_H
#define STROM_CLUSTER_ZK_H

#include <stddef.h>
#include <stdint.h>

#define STROM_ZK_SECRET_BYTES 32
/* Largest znode content strom reads or writes: below the server's default jute.maxbuffer
 * (1 MiB), which bounds a whole request. */
#define STROM_ZK_DATA_MAX ((size_t)1000 * 1000)
#define STROM_ZK_PATH_MAX 1024

struct strom_zk;

enum strom_zk_session_event {
    STROM_ZK_CONNECTED,    /* connected (again): the session and its ephemerals live */
    STROM_ZK_DISCONNECTED, /* connection lost; the client retries; the session may expire
                              meanwhile, which is learnt only on reconnection */
    STROM_ZK_EXPIRED,      /* the session is over: ephemerals and watches gone */
};

enum strom_zk_watch_event {
    STROM_ZK_NODE_CREATED,
    STROM_ZK_NODE_DELETED,
    STROM_ZK_NODE_CHANGED,
    STROM_ZK_CHILDREN_CHANGED,
};

typedef void (*strom_zk_session_fn)(struct strom_zk *zk, enum strom_zk_session_event ev, void *ctx);
/* path: the znode the watch was set on, relative to the chroot. A watch fires once. */
typedef void (*strom_zk_watch_fn)(struct strom_zk *zk, enum strom_zk_watch_event ev,
                                  const char *path, void *ctx);

enum strom_zk_client_log {
    STROM_ZK_LOG_ERRORS, /* the client's warnings and errors to stderr (default) */
    STROM_ZK_LOG_NONE,
    STROM_ZK_LOG_ALL,
};

struct strom_zk_opts {
    const char *connect;            /* "host:port[,...][/chroot]" */
    const uint8_t *secret;          /* STROM_ZK_SECRET_BYTES bytes; required */
    int session_timeout_ms;         /* 0 = 10000; the server clamps it to its bounds */
    int connect_timeout_ms;         /* 0 = 10000: how long connect waits for a server */
    strom_zk_session_fn on_session; /* optional first session listener */
    void *session_ctx;
    enum strom_zk_client_log client_log;
};

/* Open a session: connect, authenticate, create the chroot when missing. Returns once the
 * session is established, or fails after opts->connect_timeout_ms with -ETIMEDOUT and a
 * message naming the address. */
int strom_zk_connect(struct strom_zk **out, const struct strom_zk_opts *opts, char *err,
                     size_t errlen);
/* Close the session (its ephemeral znodes disappear at once, not after the timeout), join
 * the client's threads, free everything. Accepts NULL. */
void strom_zk_free(struct strom_zk *zk);

/* The session timeout the server granted, in ms. */
int strom_zk_session_timeout(const struct strom_zk *zk);
/* The session id, for logs. */
int64_t strom_zk_session_id(const struct strom_zk *zk);
/* 1 while connected with a live session. */
int strom_zk_connected(const struct strom_zk *zk);

/* Session listeners: called with every change of the connection state. */
int strom_zk_on_session(struct strom_zk *zk, strom_zk_session_fn fn, void *ctx);

/* Cancel every watch and session listener registered with ctx, and wait until none of
 * their callbacks runs any more: after it returns, ctx may be freed. */
void strom_zk_unwatch(struct strom_zk *zk, const void *ctx);

/* Create flags. */
#define STROM_ZK_EPHEMERAL 1  /* removed when the session ends */
#define STROM_ZK_SEQUENTIAL 2 /* the server appends a 10-digit counter to the name */

/* Create path with data (len bytes; data may be NULL when len is 0). created, when not
 * NULL, receives the path actually created (with the sequence number), in a buffer of
 * created_len bytes. */
int strom_zk_create(struct strom_zk *zk, const char *path, const void *data, size_t len, int flags,
                    char *created, size_t created_len, char *err, size_t errlen);
/* Create path and its missing parents as persistent znodes with empty data; a znode that
 * exists already is fine. */
int strom_zk_ensure_path(struct strom_zk *zk, const char *path, char *err, size_t errlen);

/* Read path: *data gets a malloc'd copy (NUL-terminated beyond *len, for text; NULL when
 * empty), *version the znode's data version (for strom_zk_set). Either may be NULL. With
 * fn, a watch is left that fires when the znode changes or is deleted. */
int strom_zk_get(struct strom_zk *zk, const char *path, char **data, size_t *len, int32_t *version,
                 strom_zk_watch_fn fn, void *ctx, char *err, size_t errlen);

/* Write path's data if its version is still expected_version (compare-and-set; -1: any
 * version). new_version, when not NULL, receives the version written. */
int strom_zk_set(struct strom_zk *zk, const char *path, const void *data, size_t len,
                 int32_t expected_version, int32_t *new_version, char *err, size_t errlen);

/* Delete path if its version is expected_version (-1: any). */
int strom_zk_delete(struct strom_zk *zk, const char *path, int32_t expected_version, char *err,
                    size_t errlen);

/* 1 when path exists, 0 when not, negative on failure. With fn, a watch is left that fires
 * when the znode is created, changed or deleted (also when it does not exist yet). Note
 * that ZooKeeper does not check ACLs for exists: anyone sees that a znode exists. */
int strom_zk_exists(struct strom_zk *zk, const char *path, int32_t *version, strom_zk_watch_fn fn,
                    void *ctx, char *err, size_t errlen);

struct strom_zk_children {
    size_t n;
    char **names; /* the children's names (not paths), sorted by strcmp */
};

/* List path's children. With fn, a watch is left that fires when a child is created or
 * deleted (or path is deleted). */
int strom_zk_children(struct strom_zk *zk, const char *path, struct strom_zk_children *out,
                      strom_zk_watch_fn fn, void *ctx, char *err, size_t errlen);
void strom_zk_children_release(struct strom_zk_children *c);

/* The name of an event or state, for logs. */
const char *strom_zk_session_event_name(enum strom_zk_session_event ev);
const char *strom_zk_watch_event_name(enum strom_zk_watch_event ev);

#endif
