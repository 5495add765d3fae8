/*
 * net/io.c: a net's I/O thread, its sockets and its peers (threads and locks in
 * net/channel.h). The thread's loop:
 *
 *   poll(eventfd, ROUTER, DEALERs, their monitors; 10 ms, or 1 ms while ZeroMQ is full)
 *   -> run the application's command (listen, connect), if any
 *   -> read every socket: check the frame, hand it to its channel (net/channel.c)
 *   -> read the monitors: connections made, lost, refused
 *   -> timers: heartbeats, dead peers, HELLOs; free closed channels
 *   -> send what the channels have to send
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/errf.h"
#include "net/net_int.h"
#include "strom/error.h"

#define RECV_BUDGET 512 /* messages read from one socket per turn of the loop */
#define REFUSALS_LOGGED 20

#define MON_EVENTS                                                                                 \
    (ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |                                      \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                  \
     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

int64_t strom_net__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void strom_net__wake(struct strom_net *n)
{
    uint64_t one = 1;
    if (!atomic_exchange(&n->wake_pending, 1))
        (void)!write(n->efd, &one, sizeof one);
}

void strom_net__log(struct strom_net *n, const char *fmt, ...)
{
    char msg[512];
    int k;
    va_list ap;

    if (!n->cfg.log)
        return;
    k = snprintf(msg, sizeof msg, "net %s: ", n->name);
    va_start(ap, fmt);
    vsnprintf(msg + k, sizeof msg - (size_t)k, fmt, ap);
    va_end(ap);
    n->cfg.log(n->cfg.log_arg, msg);
}

/* A refused frame is logged; a flood of them only now and then. */
void strom_net__refuse(struct strom_net *n, const char *from, const char *fmt, ...)
{
    char why[300];
    va_list ap;

    strom_net__count(n, refused);
    if (n->refusals_logged < REFUSALS_LOGGED || n->refusals_logged % 1000 == 0) {
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        strom_net__log(n, "refused a message from %s: %s", from, why);
    }
    n->refusals_logged++;
}

static void refuse(struct strom_net *n, const char *from, const char *why)
{
    strom_net__refuse(n, from, "%s", why);
}

struct strom_net__peer *strom_net__peer_get(struct strom_net *n, const char *name)
{
    struct strom_net__peer *p;

    for (size_t i = 0; i < n->npeers; i++)
        if (!strcmp(n->peers[i]->name, name))
            return n->peers[i];
    if (n->npeers == STROM_NET_MAX_PEERS || strom_key_name_check(name, NULL, 0))
        return NULL;
    if (n->npeers == n->peers_cap) {
        size_t cap = n->peers_cap ? 2 * n->peers_cap : 8;
        struct strom_net__peer **np = realloc(n->peers, cap * sizeof *np);
        if (!np)
            return NULL;
        n->peers = np;
        n->peers_cap = cap;
    }
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->name, sizeof p->name, "%s", name);
    p->last_heard = p->last_beat = strom_net__now_ms();
    n->peers[n->npeers++] = p;
    return p;
}

int strom_net__send(struct strom_net *n, struct strom_net__peer *p, const void *buf, size_t len)
{
    int rc;

    if (p->dealer) {
        rc = zmq_send(p->dealer, buf, len, ZMQ_DONTWAIT);
    } else {
        if (!n->router || !p->routable)
            return -EHOSTUNREACH;
        rc = zmq_send(n->router, p->name, strlen(p->name), ZMQ_DONTWAIT | ZMQ_SNDMORE);
        if (rc >= 0)
            rc = zmq_send(n->router, buf, len, ZMQ_DONTWAIT);
    }
    if (rc < 0)
        return zmq_errno() == EAGAIN ? -EAGAIN : -EHOSTUNREACH;
    strom_net__count(n, frames_out);
    return 0;
}

/* ---- commands: what application threads ask the I/O thread to do ---- */

int strom_net__run_cmd(struct strom_net *n, int (*fn)(struct strom_net *, void *, char *, size_t),
                       void *arg, char *err, size_t errlen)
{
    struct strom_net__cmd c = {fn, arg, err, errlen, 0, 0};

    pthread_mutex_lock(&n->mu);
    while (n->cmd)
        pthread_cond_wait(&n->cmd_cond, &n->mu);
    n->cmd = &c;
    strom_net__wake(n);
    while (!c.done)
        pthread_cond_wait(&n->cmd_cond, &n->mu);
    pthread_mutex_unlock(&n->mu);
    return c.rc;
}

static void run_pending_cmd(struct strom_net *n)
{
    struct strom_net__cmd *c;

    pthread_mutex_lock(&n->mu);
    c = n->cmd;
    pthread_mutex_unlock(&n->mu);
    if (!c)
        return;
    c->rc = c->fn(n, c->arg, c->err, c->errlen);
    pthread_mutex_lock(&n->mu);
    c->done = 1;
    n->cmd = NULL;
    pthread_cond_broadcast(&n->cmd_cond);
    pthread_mutex_unlock(&n->mu);
}

/* Options every data socket has. */
static int common_opts(struct strom_net *n, void *s)
{
    int linger = 0, hwm = (int)n->cfg.window_batches + 64, ivl = 100, ivl_max = 1000;
    int hb = (int)n->cfg.heartbeat_ms, hb_timeout = (int)n->cfg.dead_ms;
    /* A corrupted length field must not make ZeroMQ wait for (or allocate) gigabytes. */
    int64_t maxmsg = (int64_t)n->cfg.max_batch + STROM_FRAME_HEADER + 256;

    if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) ||
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm) ||
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm) ||
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
        zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl) ||
        zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max) ||
        zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb) ||
        zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout))
        return -zmq_errno();
    return 0;
}

static int add_monitor(struct strom_net *n, void *s, void **mon)
{
    char ep[96];
    int linger = 0;

    snprintf(ep, sizeof ep, "inproc://strom-mon-%p-%u", (void *)n, n->mon_seq++);
    if (zmq_socket_monitor(s, ep, MON_EVENTS) < 0)
        return -zmq_errno();
    *mon = zmq_socket(n->ctx, ZMQ_PAIR);
    if (!*mon)
        return -zmq_errno();
    zmq_setsockopt(*mon, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(*mon, ep) < 0) {
        zmq_close(*mon);
        *mon = NULL;
        return -zmq_errno();
    }
    return 0;
}

struct listen_arg {
    const char *endpoint;
    char *bound;
    size_t boundlen;
};

static int do_listen(struct strom_net *n, void *arg, char *err, size_t errlen)
{
    struct listen_arg *a = arg;
    void *s = NULL, *mon = NULL;
    int one = 1, rc;
    char last[256] = "";
    size_t lastlen = sizeof last;

    if (n->router)
        return strom__errf(err, errlen, STROM_E_EXISTS, "net %s: already listening", n->name);
    s = zmq_socket(n->ctx, ZMQ_ROUTER);
    if (!s)
        return strom__errf(err, errlen, -zmq_errno(), "zmq_socket: %s", zmq_strerror(zmq_errno()));
    rc = common_opts(n, s);
    if (!rc && (zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof one) ||
                zmq_setsockopt(s, ZMQ_ROUTER_HANDOVER, &one, sizeof one)))
        rc = -zmq_errno();
    /* CURVE server: the secret key, and ZAP (already bound in this context) decides. */
    if (!rc && !n->cfg.insecure &&
        (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one) ||
         zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, n->id.secret_key, STROM_KEY_BYTES) ||
         zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, "strom", 5)))
        rc = -zmq_errno();
    if (rc) {
        rc = strom__errf(err, errlen, rc, "listen %s: socket options: %s", a->endpoint,
                         zmq_strerror(-rc));
        goto fail;
    }
    if ((rc = add_monitor(n, s, &mon))) {
        rc = strom__errf(err, errlen, rc, "listen %s: monitor: %s", a->endpoint, zmq_strerror(-rc));
        goto fail;
    }
    if (zmq_bind(s, a->endpoint) < 0) {
        rc = strom__errf(err, errlen, -zmq_errno(), "listen %s: %s", a->endpoint,
                         zmq_strerror(zmq_errno()));
        goto fail;
    }
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, last, &lastlen);
    if (a->bound && a->boundlen)
        snprintf(a->bound, a->boundlen, "%s", last);
    if (n->cfg.insecure)
        strom_net__log(n,
                       "WARNING: INSECURE listening socket on %s: no CURVE, no ZAP; anyone "
                       "who reaches it can read, forge and alter batches",
                       last);
    pthread_mutex_lock(&n->mu);
    n->router = s;
    n->router_mon = mon;
    pthread_mutex_unlock(&n->mu);
    return 0;
fail:
    if (mon)
        zmq_close(mon);
    zmq_close(s);
    return rc;
}

int strom_net_listen(struct strom_net *n, const char *endpoint, char *bound, size_t boundlen,
                     char *err, size_t errlen)
{
    struct listen_arg a = {endpoint, bound, boundlen};
    return strom_net__run_cmd(n, do_listen, &a, err, errlen);
}

struct connect_arg {
    const char *name, *endpoint;
};

static int do_connect(struct strom_net *n, void *arg, char *err, size_t errlen)
{
    struct connect_arg *a = arg;
    struct strom_net__peer *p;
    const char *server_key = NULL;
    void *s = NULL, *mon = NULL;
    int rc;

    if ((rc = strom_key_name_check(a->name, err, errlen)))
        return rc;
    if (!n->cfg.insecure) {
        server_key = strom_allowlist_public(n->allow, a->name);
        if (!server_key)
            return strom__errf(err, errlen, STROM_E_NOTFOUND,
                               "connect to %s: no %s/%s.pub, so its public key is unknown", a->name,
                               n->keys_dir, a->name);
    }
    pthread_mutex_lock(&n->mu);
    p = strom_net__peer_get(n, a->name);
    rc = !p ? -ENOMEM : p->dealer ? STROM_E_EXISTS : 0;
    pthread_mutex_unlock(&n->mu);
    if (rc)
        return strom__errf(err, errlen, rc, "connect to %s: %s", a->name,
                           rc == STROM_E_EXISTS ? "already connected" : "too many peers");
    s = zmq_socket(n->ctx, ZMQ_DEALER);
    if (!s)
        return strom__errf(err, errlen, -zmq_errno(), "zmq_socket: %s", zmq_strerror(zmq_errno()));
    rc = common_opts(n, s);
    /* The routing id is our name: the ROUTER across addresses us by it, and ZAP's user id
     * must agree with it. */
    if (!rc && zmq_setsockopt(s, ZMQ_ROUTING_ID, n->name, strlen(n->name)))
        rc = -zmq_errno();
    if (!rc && !n->cfg.insecure &&
        (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_key, STROM_KEY_Z85_LEN) ||
         zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, n->id.public_key, STROM_KEY_BYTES) ||
         zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, n->id.secret_key, STROM_KEY_BYTES)))
        rc = -zmq_errno();
    if (rc) {
        rc = strom__errf(err, errlen, rc, "connect to %s: socket options: %s", a->name,
                         zmq_strerror(-rc));
        goto fail;
    }
    if ((rc = add_monitor(n, s, &mon))) {
        rc = strom__errf(err, errlen, rc, "connect to %s: monitor: %s", a->name, zmq_strerror(-rc));
        goto fail;
    }
    if (zmq_connect(s, a->endpoint) < 0) {
        rc = strom__errf(err, errlen, -zmq_errno(), "connect to %s at %s: %s", a->name, a->endpoint,
                         zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (n->cfg.insecure)
        strom_net__log(n,
                       "WARNING: INSECURE connection to %s at %s: no CURVE; anyone on the "
                       "path can read, forge and alter batches",
                       a->name, a->endpoint);
    pthread_mutex_lock(&n->mu);
    p->dealer = s;
    p->monitor = mon;
    p->last_heard = strom_net__now_ms();
    pthread_mutex_unlock(&n->mu);
    return 0;
fail:
    if (mon)
        zmq_close(mon);
    zmq_close(s);
    return rc;
}

int strom_net_connect(struct strom_net *n, const char *name, const char *endpoint, char *err,
                      size_t errlen)
{
    struct connect_arg a = {name, endpoint};
    return strom_net__run_cmd(n, do_connect, &a, err, errlen);
}

/* ---- reading ---- */

/* One frame from peer name (via the ROUTER: p NULL) or from p (via its DEALER). */
static void deliver(struct strom_net *n, const char *name, struct strom_net__peer *p,
                    zmq_msg_t *msg)
{
    struct strom_frame f;
    char why[200];
    int64_t now = strom_net__now_ms();

    strom_net__count(n, frames_in);
    if (strom_frame_decode(&f, zmq_msg_data(msg), zmq_msg_size(msg), (uint32_t)n->cfg.max_batch,
                           why, sizeof why)) {
        refuse(n, name, why);
        return;
    }
    pthread_mutex_lock(&n->mu);
    if (!p)
        p = strom_net__peer_get(n, name);
    if (!p) {
        pthread_mutex_unlock(&n->mu);
        refuse(n, name, "too many peers");
        return;
    }
    if (!p->dealer)
        p->routable = 1;
    p->last_heard = now;
    if (p->dead) {
        p->dead = 0;
        strom_net__log(n, "peer %s is alive again", p->name);
        strom_net__chan_reconnected(n, p);
    }
    if (f.type != STROM_FRAME_HEARTBEAT)
        strom_net__chan_input(n, p, &f, msg);
    pthread_mutex_unlock(&n->mu);
}

/* Reads and drops the rest of a multipart message. */
static void drain_more(void *s, zmq_msg_t *m)
{
    while (zmq_msg_more(m)) {
        zmq_msg_close(m);
        zmq_msg_init(m);
        if (zmq_msg_recv(m, s, ZMQ_DONTWAIT) < 0)
            break;
    }
}

static void read_router(struct strom_net *n)
{
    for (int k = 0; k < RECV_BUDGET; k++) {
        zmq_msg_t id, body;
        char name[STROM_KEY_NAME_MAX + 1], why[160];
        size_t idlen;

        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, n->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            return;
        }
        zmq_msg_init(&body);
        if (!zmq_msg_more(&id) || zmq_msg_recv(&body, n->router, ZMQ_DONTWAIT) < 0) {
            refuse(n, "?", "a message without a body");
            goto next;
        }
        idlen = zmq_msg_size(&id);
        snprintf(name, sizeof name, "%.*s", (int)(idlen < sizeof name ? idlen : 0),
                 (const char *)zmq_msg_data(&id));
        if (zmq_msg_more(&body)) {
            drain_more(n->router, &body);
            refuse(n, name, "a message of more than one part");
            goto next;
        }
        if (strom_key_name_check(name, NULL, 0)) {
            refuse(n, "?", "routing id is not a peer name");
            goto next;
        }
        if (!n->cfg.insecure) {
            /* ZAP's verdict: the name of the key that opened this connection. */
            const char *uid = zmq_msg_gets(&body, "User-Id");
            if (!uid || strcmp(uid, name)) {
                snprintf(why, sizeof why, "routing id '%s' but its key belongs to '%s'", name,
                         uid ? uid : "(none)");
                refuse(n, name, why);
                goto next;
            }
        }
        deliver(n, name, NULL, &body);
    next:
        zmq_msg_close(&body);
        zmq_msg_close(&id);
    }
}

static void read_dealer(struct strom_net *n, struct strom_net__peer *p)
{
    for (int k = 0; k < RECV_BUDGET; k++) {
        zmq_msg_t m;

        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, p->dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        if (zmq_msg_more(&m)) {
            drain_more(p->dealer, &m);
            refuse(n, p->name, "a message of more than one part");
        } else {
            deliver(n, p->name, p, &m);
        }
        zmq_msg_close(&m);
    }
}

/* Connection events of one socket: p is the DEALER's peer, NULL for the ROUTER. */
static void read_monitor(struct strom_net *n, void *mon, struct strom_net__peer *p)
{
    for (;;) {
        zmq_msg_t ev, addr;
        uint16_t event;
        uint32_t value;
        char where[128];

        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        zmq_msg_init(&addr);
        if (!zmq_msg_more(&ev) || zmq_msg_recv(&addr, mon, ZMQ_DONTWAIT) < 0 ||
            zmq_msg_size(&ev) < 6) {
            zmq_msg_close(&ev);
            zmq_msg_close(&addr);
            continue;
        }
        memcpy(&event, zmq_msg_data(&ev), 2);
        memcpy(&value, (const char *)zmq_msg_data(&ev) + 2, 4);
        snprintf(where, sizeof where, "%s%s%.*s", p ? "to " : "on ", p ? p->name : "",
                 p ? 0 : (int)zmq_msg_size(&addr), (const char *)zmq_msg_data(&addr));
        switch (event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            strom_net__count(n, connects);
            if (p) {
                pthread_mutex_lock(&n->mu);
                strom_net__chan_reconnected(n, p);
                pthread_mutex_unlock(&n->mu);
            }
            break;
        case ZMQ_EVENT_DISCONNECTED:
            strom_net__count(n, disconnects);
            strom_net__log(n, "connection %s lost", where);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            strom_net__count(n, handshake_failures);
            strom_net__log(n, "connection %s refused: authentication failed (ZAP status %u)", where,
                           value);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            /* Also what a message that fails CURVE's authentication looks like: the
             * connection is dropped, nothing of it is delivered. */
            strom_net__count(n, handshake_failures);
            strom_net__log(n, "connection %s dropped: handshake or message refused (0x%x)", where,
                           value);
            break;
        }
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
    }
}

/* ---- timers ---- */

static void send_heartbeats(struct strom_net *n, int64_t now)
{
    uint8_t hb[STROM_FRAME_HEADER];
    struct strom_frame f = {.type = STROM_FRAME_HEARTBEAT};
    size_t np;

    strom_frame_put_header(hb, &f);
    pthread_mutex_lock(&n->mu);
    np = n->npeers;
    for (size_t i = 0; i < np; i++) {
        struct strom_net__peer *p = n->peers[i];
        int due = now - p->last_beat >= (int64_t)n->cfg.heartbeat_ms;
        if (due)
            p->last_beat = now;
        if (!p->dead && now - p->last_heard > (int64_t)n->cfg.dead_ms) {
            p->dead = 1;
            strom_net__count(n, peers_dead);
            strom_net__log(n, "peer %s silent for %lld ms: reported dead", p->name,
                           (long long)(now - p->last_heard));
            strom_net__chan_wake_peer(n, p);
        }
        /* Peers are never freed while the net lives, so p stays valid unlocked. */
        if (due) {
            pthread_mutex_unlock(&n->mu);
            strom_net__send(n, p, hb, sizeof hb);
            pthread_mutex_lock(&n->mu);
        }
    }
    strom_net__chan_timers(n, now);
    pthread_mutex_unlock(&n->mu);
}

/* ---- the loop ---- */

static void set_linger(struct strom_net *n, int ms)
{
    for (size_t i = 0; i < n->npeers; i++)
        if (n->peers[i]->dealer)
            zmq_setsockopt(n->peers[i]->dealer, ZMQ_LINGER, &ms, sizeof ms);
    if (n->router)
        zmq_setsockopt(n->router, ZMQ_LINGER, &ms, sizeof ms);
}

static void *io_main(void *arg)
{
    struct strom_net *n = arg;
    zmq_pollitem_t *items = NULL;
    struct strom_net__peer **who = NULL;
    size_t cap = 0;
    int blocked = 0;

    while (!atomic_load(&n->stop)) {
        size_t k = 0;

        pthread_mutex_lock(&n->mu);
        if (cap < 3 + 2 * n->npeers) {
            size_t ncap = 3 + 2 * n->npeers + 16;
            zmq_pollitem_t *ni = realloc(items, ncap * sizeof *ni);
            struct strom_net__peer **nw = ni ? realloc(who, ncap * sizeof *nw) : NULL;
            if (ni)
                items = ni;
            if (nw)
                who = nw;
            if (ni && nw)
                cap = ncap;
        }
        items[k] = (zmq_pollitem_t){NULL, n->efd, ZMQ_POLLIN, 0};
        who[k++] = NULL;
        if (n->router) {
            items[k] = (zmq_pollitem_t){n->router, 0, ZMQ_POLLIN, 0};
            who[k++] = NULL;
            items[k] = (zmq_pollitem_t){n->router_mon, 0, ZMQ_POLLIN, 0};
            who[k++] = NULL;
        }
        for (size_t i = 0; i < n->npeers && k + 2 <= cap; i++) {
            if (!n->peers[i]->dealer)
                continue;
            items[k] = (zmq_pollitem_t){n->peers[i]->dealer, 0, ZMQ_POLLIN, 0};
            who[k++] = n->peers[i];
            items[k] = (zmq_pollitem_t){n->peers[i]->monitor, 0, ZMQ_POLLIN, 0};
            who[k++] = n->peers[i];
        }
        pthread_mutex_unlock(&n->mu);

        if (zmq_poll(items, (int)k,
                     blocked == 2 ? 0
                     : blocked    ? 1
                                  : 10) < 0 &&
            zmq_errno() != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            uint64_t v;
            atomic_store(&n->wake_pending, 0);
            (void)!read(n->efd, &v, sizeof v);
        }
        run_pending_cmd(n);
        for (size_t i = 1; i < k; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            if (items[i].socket == n->router)
                read_router(n);
            else if (items[i].socket == n->router_mon)
                read_monitor(n, n->router_mon, NULL);
            else if (who[i] && items[i].socket == who[i]->dealer)
                read_dealer(n, who[i]);
            else if (who[i])
                read_monitor(n, who[i]->monitor, who[i]);
        }
        send_heartbeats(n, strom_net__now_ms());
        blocked = strom_net__chan_flush(n);
        /* After the flush, so that a closing receiver's last ACK went out first. */
        pthread_mutex_lock(&n->mu);
        strom_net__chan_reap(n);
        pthread_mutex_unlock(&n->mu);
    }
    free(items);
    free(who);
    /* Last words (a receiver's final ACK, a BYE) get a moment to leave, then the sockets die
     * with the thread that owns them. */
    strom_net__chan_flush(n);
    set_linger(n, 250);
    for (size_t i = 0; i < n->npeers; i++) {
        if (n->peers[i]->dealer) {
            zmq_socket_monitor(n->peers[i]->dealer, NULL, 0);
            zmq_close(n->peers[i]->dealer);
            zmq_close(n->peers[i]->monitor);
            n->peers[i]->dealer = n->peers[i]->monitor = NULL;
        }
    }
    if (n->router) {
        zmq_socket_monitor(n->router, NULL, 0);
        zmq_close(n->router);
        zmq_close(n->router_mon);
        n->router = n->router_mon = NULL;
    }
    return NULL;
}

int strom_net__io_start(struct strom_net *n, char *err, size_t errlen)
{
    int rc = pthread_create(&n->io, NULL, io_main, n);
    if (rc)
        return strom__errf(err, errlen, -rc, "net: pthread_create: %s", strerror(rc));
    n->io_running = 1;
    return 0;
}

void strom_net__io_stop(struct strom_net *n)
{
    if (!n->io_running)
        return;
    atomic_store(&n->stop, 1);
    strom_net__wake(n);
    pthread_join(n->io, NULL);
    pthread_mutex_lock(&n->mu);
    n->io_running = 0;
    pthread_mutex_unlock(&n->mu);
}
