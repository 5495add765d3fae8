/* cluster/zk.c: opening and closing a ZooKeeper session, its callbacks (zk.h, zk_int.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cluster/zk_int.h"
#include "core/errf.h"
#include "strom/error.h"

int strom_zk__code(int zrc)
{
    switch (zrc) {
    case ZOK:
        return 0;
    case ZNONODE:
        return STROM_E_NOTFOUND;
    case ZNODEEXISTS:
        return STROM_E_EXISTS;
    case ZBADVERSION:
        return STROM_E_CONFLICT;
    case ZNOAUTH:
    case ZAUTHFAILED:
        return STROM_E_NOAUTH;
    case ZCONNECTIONLOSS:
    case ZOPERATIONTIMEOUT:
        return STROM_E_DISCONNECTED;
    case ZSESSIONEXPIRED:
    case ZINVALIDSTATE:
    case ZCLOSING:
        return STROM_E_SESSION;
    case ZNOTEMPTY:
        return -ENOTEMPTY;
    case ZBADARGUMENTS:
    case ZINVALIDACL:
        return STROM_E_INVAL;
    case ZMARSHALLINGERROR:
        return -ENOMEM; /* what the client reports when an allocation fails */
    default:
        return STROM_E_ZK;
    }
}

int strom_zk__err(char *err, size_t errlen, int zrc, const char *op, const char *path)
{
    return strom__errf(err, errlen, strom_zk__code(zrc), "ZooKeeper %s %s: %s", op, path,
                       zerror(zrc));
}

int strom_zk__check_path(const char *path, char *err, size_t errlen)
{
    size_t n = path ? strlen(path) : 0;
    const char *p;

    if (n == 0 || path[0] != '/')
        return strom__errf(err, errlen, STROM_E_INVAL, "znode path '%s': not absolute",
                           path ? path : "(null)");
    if (n > STROM_ZK_PATH_MAX)
        return strom__errf(err, errlen, STROM_E_INVAL, "znode path '%.40s...': longer than %d",
                           path, STROM_ZK_PATH_MAX);
    if (n == 1)
        return 0;
    if (path[n - 1] == '/' || strstr(path, "//") || strstr(path, "/./") || strstr(path, "/../") ||
        (n >= 2 && strcmp(path + n - 2, "/.") == 0) || (n >= 3 && strcmp(path + n - 3, "/..") == 0))
        return strom__errf(err, errlen, STROM_E_INVAL, "znode path '%s': malformed", path);
    for (p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return strom__errf(err, errlen, STROM_E_INVAL, "znode path '%s': control character",
                               path);
    return 0;
}

/* ---- the client's own log: which lines reach stderr ------------------------------------- */

/* The client formats "time:pid(tid):ZOO_LEVEL@function@line: message". */
static void client_log_errors(const char *msg)
{
    if (strstr(msg, ":ZOO_ERROR@") || strstr(msg, ":ZOO_WARN@"))
        fprintf(stderr, "zookeeper: %s%s", msg, msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

static void client_log_none(const char *msg)
{
    (void)msg;
}

static void client_log_all(const char *msg)
{
    fprintf(stderr, "zookeeper: %s%s", msg, msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

/* ---- callbacks ---------------------------------------------------------------------------- */

static enum strom_zk_session_event session_event(int state)
{
    if (state == ZOO_CONNECTED_STATE || state == ZOO_READONLY_STATE)
        return STROM_ZK_CONNECTED;
    if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE)
        return STROM_ZK_EXPIRED;
    return STROM_ZK_DISCONNECTED;
}

/* The session watcher (zookeeper_init's): state changes, on the client's event thread. */
static void session_watcher(zhandle_t *zh, int type, int state, const char *path, void *wctx)
{
    struct strom_zk *zk = wctx;
    struct strom_zk__cb *cb;
    enum strom_zk_session_event ev;

    (void)zh;
    (void)path;
    if (type != ZOO_SESSION_EVENT)
        return; /* no watch is set with the session watcher */
    pthread_mutex_lock(&zk->mu);
    zk->state = state;
    pthread_cond_broadcast(&zk->cond);
    ev = session_event(state);
    /* the list may change while a listener runs: running pins the current entry, and the
     * next one is read under the lock after it returns */
    for (cb = zk->cbs; cb && !zk->closing;) {
        if (!cb->is_session || cb->cancelled) {
            cb = cb->next;
            continue;
        }
        zk->running = cb;
        zk->running_thread = pthread_self();
        pthread_mutex_unlock(&zk->mu);
        cb->sfn(zk, ev, cb->ctx);
        pthread_mutex_lock(&zk->mu);
        zk->running = NULL;
        pthread_cond_broadcast(&zk->cond);
        cb = cb->next;
    }
    pthread_mutex_unlock(&zk->mu);
}

static void unlink_cb(struct strom_zk *zk, struct strom_zk__cb *cb)
{
    struct strom_zk__cb **pp;

    for (pp = &zk->cbs; *pp; pp = &(*pp)->next)
        if (*pp == cb) {
            *pp = cb->next;
            return;
        }
}

static enum strom_zk_watch_event watch_event(int type)
{
    if (type == ZOO_CREATED_EVENT)
        return STROM_ZK_NODE_CREATED;
    if (type == ZOO_DELETED_EVENT)
        return STROM_ZK_NODE_DELETED;
    if (type == ZOO_CHILD_EVENT)
        return STROM_ZK_CHILDREN_CHANGED;
    return STROM_ZK_NODE_CHANGED;
}

void strom_zk__watcher(zhandle_t *zh, int type, int state, const char *path, void *wctx)
{
    struct strom_zk__cb *cb = wctx;
    struct strom_zk *zk = cb->zk;

    (void)zh;
    (void)state;
    /* The client also hands every session event to every pending watch: the session
     * listeners report those; the watch stays pending. */
    if (type == ZOO_SESSION_EVENT)
        return;
    if (type == ZOO_NOTWATCHING_EVENT)
        type = ZOO_CHANGED_EVENT; /* removed by the server: the caller must look again */
    pthread_mutex_lock(&zk->mu);
    if (!cb->cancelled && !zk->closing) {
        zk->running = cb;
        zk->running_thread = pthread_self();
        pthread_mutex_unlock(&zk->mu);
        cb->wfn(zk, watch_event(type), path ? path : "", cb->ctx);
        pthread_mutex_lock(&zk->mu);
        zk->running = NULL;
        pthread_cond_broadcast(&zk->cond);
    }
    unlink_cb(zk, cb);
    pthread_mutex_unlock(&zk->mu);
    free(cb);
}

struct strom_zk__cb *strom_zk__watch_new(struct strom_zk *zk, strom_zk_watch_fn fn, void *ctx)
{
    struct strom_zk__cb *cb = calloc(1, sizeof *cb);

    if (!cb)
        return NULL;
    cb->zk = zk;
    cb->wfn = fn;
    cb->ctx = ctx;
    pthread_mutex_lock(&zk->mu);
    cb->next = zk->cbs;
    zk->cbs = cb;
    pthread_mutex_unlock(&zk->mu);
    return cb;
}

void strom_zk__watch_drop(struct strom_zk *zk, struct strom_zk__cb *cb)
{
    if (!cb)
        return;
    pthread_mutex_lock(&zk->mu);
    unlink_cb(zk, cb);
    pthread_mutex_unlock(&zk->mu);
    free(cb);
}

int strom_zk_on_session(struct strom_zk *zk, strom_zk_session_fn fn, void *ctx)
{
    struct strom_zk__cb *cb = calloc(1, sizeof *cb);

    if (!cb)
        return -ENOMEM;
    cb->zk = zk;
    cb->is_session = 1;
    cb->sfn = fn;
    cb->ctx = ctx;
    pthread_mutex_lock(&zk->mu);
    cb->next = zk->cbs;
    zk->cbs = cb;
    pthread_mutex_unlock(&zk->mu);
    return 0;
}

void strom_zk_unwatch(struct strom_zk *zk, const void *ctx)
{
    struct strom_zk__cb **pp, *cb;

    pthread_mutex_lock(&zk->mu);
    for (cb = zk->cbs; cb; cb = cb->next)
        if (cb->ctx == ctx)
            cb->cancelled = 1;
    /* (from inside one of ctx's own callbacks, waiting would never end: the caller
     * returns from it before freeing ctx, or it is a bug that zk.h forbids) */
    while (zk->running && zk->running->ctx == ctx &&
           !pthread_equal(zk->running_thread, pthread_self()))
        pthread_cond_wait(&zk->cond, &zk->mu);
    /* session listeners are ours alone: free them now; a cancelled watch stays referenced
     * by the client until it fires or the session is freed */
    for (pp = &zk->cbs; (cb = *pp);) {
        if (cb->is_session && cb->cancelled && cb != zk->running) {
            *pp = cb->next;
            free(cb);
        } else {
            pp = &cb->next;
        }
    }
    pthread_mutex_unlock(&zk->mu);
}

/* ---- connecting ------------------------------------------------------------------------ */

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void auth_completion(int rc, const void *data)
{
    struct strom_zk *zk = (struct strom_zk *)data;

    pthread_mutex_lock(&zk->mu);
    zk->auth_done = 1;
    zk->auth_rc = rc;
    pthread_cond_broadcast(&zk->cond);
    pthread_mutex_unlock(&zk->mu);
}

static void close_handle(struct strom_zk *zk)
{
    if (!zk->zh)
        return;
    pthread_mutex_lock(&zk->mu);
    zk->closing = 1;
    pthread_mutex_unlock(&zk->mu);
    zookeeper_close(zk->zh); /* joins the client's threads */
    zk->zh = NULL;
}

/* Open a session to connect (hosts, with or without the chroot), wait for it, authenticate. */
static int open_handle(struct strom_zk *zk, const char *connect, const struct timespec *deadline,
                       char *err, size_t errlen)
{
    static const log_callback_fn logs[] = {
        [STROM_ZK_LOG_ERRORS] = client_log_errors,
        [STROM_ZK_LOG_NONE] = client_log_none,
        [STROM_ZK_LOG_ALL] = client_log_all,
    };
    int rc = 0, wrc = 0;

    zk->state = 0;
    zk->auth_done = 0;
    zk->closing = 0;
    errno = 0;
    zk->zh = zookeeper_init2(connect, session_watcher, zk->session_timeout_ms, NULL, zk, 0,
                             logs[zk->client_log]);
    if (!zk->zh) /* the host names did not resolve, or the string does not parse */
        return strom__errf(err, errlen, errno ? -errno : STROM_E_INVAL,
                           "ZooKeeper at %s: cannot resolve or parse the address (%s)", connect,
                           strerror(errno ? errno : EINVAL));
    pthread_mutex_lock(&zk->mu);
    while (zk->state != ZOO_CONNECTED_STATE && zk->state != ZOO_EXPIRED_SESSION_STATE &&
           zk->state != ZOO_AUTH_FAILED_STATE && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&zk->cond, &zk->mu, deadline);
    if (zk->state != ZOO_CONNECTED_STATE) {
        rc = zk->state == 0 || zk->state == ZOO_CONNECTING_STATE ||
                     zk->state == ZOO_ASSOCIATING_STATE
                 ? -ETIMEDOUT
                 : STROM_E_SESSION;
        pthread_mutex_unlock(&zk->mu);
        strom__errf(err, errlen, rc,
                    rc == -ETIMEDOUT ? "no ZooKeeper server answered at %s within %d ms"
                                     : "ZooKeeper at %s: the session ended while connecting "
                                       "(timeout %d ms)",
                    connect, zk->connect_timeout_ms);
        goto out;
    }
    pthread_mutex_unlock(&zk->mu);

    wrc = zoo_add_auth(zk->zh, "digest", zk->cred, (int)strlen(zk->cred), auth_completion, zk);
    if (wrc != ZOK) {
        rc = strom_zk__err(err, errlen, wrc, "authenticate at", connect);
        goto out;
    }
    pthread_mutex_lock(&zk->mu);
    wrc = 0;
    while (!zk->auth_done && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&zk->cond, &zk->mu, deadline);
    if (!zk->auth_done)
        rc = strom__errf(err, errlen, -ETIMEDOUT,
                         "ZooKeeper at %s: no answer to authentication within %d ms", connect,
                         zk->connect_timeout_ms);
    else if (zk->auth_rc != ZOK)
        rc = strom__errf(err, errlen, strom_zk__code(zk->auth_rc),
                         "ZooKeeper at %s: authentication refused: %s", connect,
                         zerror(zk->auth_rc));
    pthread_mutex_unlock(&zk->mu);
out:
    if (rc)
        close_handle(zk);
    return rc;
}

static int parse_connect(struct strom_zk *zk, const char *connect, char *err, size_t errlen)
{
    const char *slash = strchr(connect, '/');
    int rc;

    if (!*connect || slash == connect)
        return strom__errf(err, errlen, STROM_E_INVAL,
                           "ZooKeeper address '%s': want host:port[,host:port...][/path]", connect);
    zk->connect = strdup(connect);
    zk->hosts = slash ? strndup(connect, (size_t)(slash - connect)) : strdup(connect);
    if (!zk->connect || !zk->hosts)
        return -ENOMEM;
    if (!slash || strcmp(slash, "/") == 0)
        return 0;
    rc = strom_zk__check_path(slash, err, errlen);
    if (rc)
        return strom__errf(err, errlen, rc, "ZooKeeper address '%s': malformed chroot path",
                           connect);
    zk->chroot = strdup(slash);
    return zk->chroot ? 0 : -ENOMEM;
}

int strom_zk_connect(struct strom_zk **out, const struct strom_zk_opts *opts, char *err,
                     size_t errlen)
{
    struct strom_zk *zk;
    pthread_condattr_t ca;
    struct timespec deadline;
    int rc;

    *out = NULL;
    if (!opts || !opts->connect || !opts->secret)
        return strom__errf(err, errlen, STROM_E_INVAL,
                           "ZooKeeper session: an address and the cluster secret are needed");
    if (opts->client_log > STROM_ZK_LOG_ALL || opts->session_timeout_ms < 0 ||
        opts->connect_timeout_ms < 0)
        return strom__errf(err, errlen, STROM_E_INVAL, "ZooKeeper session: invalid options");
    if (sodium_init() < 0)
        return strom__errf(err, errlen, STROM_E_ZK, "libsodium cannot initialize");
    zk = calloc(1, sizeof *zk);
    if (!zk)
        return -ENOMEM;
    pthread_mutex_init(&zk->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&zk->cond, &ca);
    pthread_condattr_destroy(&ca);
    zk->session_timeout_ms = opts->session_timeout_ms ? opts->session_timeout_ms : 10000;
    zk->connect_timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : 10000;
    zk->client_log = opts->client_log;

    rc = parse_connect(zk, opts->connect, err, errlen);
    if (rc)
        goto out;
    rc = strom_zk_credentials(opts->secret, zk->cred, sizeof zk->cred, zk->id, sizeof zk->id);
    if (rc) {
        strom__errf(err, errlen, rc, "ZooKeeper credentials: %s", strom_strerror(rc));
        goto out;
    }
    zk->acl_entry.perms = ZOO_PERM_ALL;
    zk->acl_entry.id.scheme = "digest";
    zk->acl_entry.id.id = zk->id;
    zk->acl.count = 1;
    zk->acl.data = &zk->acl_entry;

    deadline_after(&deadline, zk->connect_timeout_ms);
    if (zk->chroot) {
        /* the chroot must exist before a session rooted there can do anything */
        rc = open_handle(zk, zk->hosts, &deadline, err, errlen);
        if (rc)
            goto out;
        rc = strom_zk_ensure_path(zk, zk->chroot, err, errlen);
        close_handle(zk);
        if (rc)
            goto out;
    }
    rc = open_handle(zk, zk->connect, &deadline, err, errlen);
    if (rc)
        goto out;
    if (opts->on_session)
        rc = strom_zk_on_session(zk, opts->on_session, opts->session_ctx);
out:
    if (rc) {
        strom_zk_free(zk);
        return rc;
    }
    *out = zk;
    return 0;
}

void strom_zk_free(struct strom_zk *zk)
{
    struct strom_zk__cb *cb, *next;

    if (!zk)
        return;
    close_handle(zk);
    for (cb = zk->cbs; cb; cb = next) {
        next = cb->next;
        free(cb);
    }
    pthread_cond_destroy(&zk->cond);
    pthread_mutex_destroy(&zk->mu);
    sodium_memzero(zk->cred, sizeof zk->cred);
    free(zk->connect);
    free(zk->hosts);
    free(zk->chroot);
    free(zk);
}

int strom_zk_session_timeout(const struct strom_zk *zk)
{
    return zoo_recv_timeout(zk->zh);
}

int64_t strom_zk_session_id(const struct strom_zk *zk)
{
    const clientid_t *id = zoo_client_id(zk->zh);

    return id ? id->client_id : 0;
}

int strom_zk_connected(const struct strom_zk *zk)
{
    return zoo_state(zk->zh) == ZOO_CONNECTED_STATE;
}

const char *strom_zk_session_event_name(enum strom_zk_session_event ev)
{
    switch (ev) {
    case STROM_ZK_CONNECTED:
        return "connected";
    case STROM_ZK_DISCONNECTED:
        return "disconnected";
    case STROM_ZK_EXPIRED:
        return "expired";
    }
    return "?";
}

const char *strom_zk_watch_event_name(enum strom_zk_watch_event ev)
{
    switch (ev) {
    case STROM_ZK_NODE_CREATED:
        return "created";
    case STROM_ZK_NODE_DELETED:
        return "deleted";
    case STROM_ZK_NODE_CHANGED:
        return "changed";
    case STROM_ZK_CHILDREN_CHANGED:
        return "children";
    }
    return "?";
}
