/*
 * net/channel.c: the channels' state machines (docs/internals/net.md) -- the application's
 * calls (open, send, finish, recv, close) and what the I/O thread does for a channel (a
 * frame in, timers, what to send). Threads and the lock: net/channel.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/errf.h"
#include "net/net_int.h"
#include "strom/error.h"

static void deadline_of(struct timespec *ts, int timeout_ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Waits on c->cond (under mu) until woken or past the deadline: 0, or -EAGAIN when the
 * time is up (timeout_ms 0: at once). */
static int wait_on(struct strom_netchan *c, int timeout_ms, const struct timespec *deadline)
{
    if (timeout_ms == 0)
        return -EAGAIN;
    if (timeout_ms < 0) {
        pthread_cond_wait(&c->cond, &c->net->mu);
        return 0;
    }
    return pthread_cond_timedwait(&c->cond, &c->net->mu, deadline) == ETIMEDOUT ? -EAGAIN : 0;
}

struct strom_netchan *strom_net__find_chan(struct strom_net *n, struct strom_net__peer *p,
                                           uint32_t id, enum strom_netchan_role role)
{
    for (size_t i = 0; i < n->nchans; i++) {
        struct strom_netchan *c = n->chans[i];
        if (c->peer == p && c->id == id && c->role == role && c->state < CH_CLOSING)
            return c;
    }
    return NULL;
}

int strom_netchan_open(struct strom_netchan **out, struct strom_net *n, const char *peer, uint32_t id,
                    uint64_t epoch, enum strom_netchan_role role, char *err, size_t errlen)
{
    struct strom_netchan *c;
    struct strom_net__peer *p;
    pthread_condattr_t ca;
    int rc = 0;

    *out = NULL;
    if (role != STROM_NETCHAN_SEND && role != STROM_NETCHAN_RECV)
        return strom__errf(err, errlen, STROM_E_INVAL, "channel %u: bad role %d", id, role);
    if ((rc = strom_key_name_check(peer, err, errlen)))
        return rc;
    c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    if (role == STROM_NETCHAN_SEND) {
        c->win_cap = n->cfg.window_batches;
        c->win = calloc(c->win_cap, sizeof *c->win);
        if (!c->win) {
            free(c);
            return -ENOMEM;
        }
    }
    c->net = n;
    c->id = id;
    c->epoch = epoch;
    c->role = role;
    c->state = CH_OPEN;
    c->last_progress = strom_net__now_ms();
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);

    pthread_mutex_lock(&n->mu);
    p = strom_net__peer_get(n, peer);
    if (!p) {
        rc = strom__errf(err, errlen, -ENOMEM, "channel %u to %s: too many peers", id, peer);
    } else if (strom_net__find_chan(n, p, id, role)) {
        rc = strom__errf(err, errlen, STROM_E_EXISTS, "channel %u %s %s is already open", id,
                         role == STROM_NETCHAN_SEND ? "to" : "from", peer);
    } else if (n->nchans == n->chans_cap) {
        size_t cap = n->chans_cap ? 2 * n->chans_cap : 8;
        struct strom_netchan **nc = realloc(n->chans, cap * sizeof *nc);
        if (!nc)
            rc = -ENOMEM;
        else {
            n->chans = nc;
            n->chans_cap = cap;
        }
    }
    if (!rc) {
        c->peer = p;
        n->chans[n->nchans++] = c;
    }
    pthread_mutex_unlock(&n->mu);
    if (rc) {
        pthread_cond_destroy(&c->cond);
        free(c->win);
        free(c);
        return rc;
    }
    strom_net__wake(n);
    *out = c;
    return 0;
}

/* Frees the window and the queue, and unlinks c. Under mu, by the I/O thread (or by close
 * once the I/O thread is gone). */
static void release_chan(struct strom_net *n, struct strom_netchan *c)
{
    for (uint64_t s = c->acked; c->win && s < c->next_seq; s++) {
        free(c->win[s % c->win_cap]);
        c->win[s % c->win_cap] = NULL;
    }
    free(c->win);
    c->win = NULL;
    while (c->q_head) {
        struct strom_net__in *in = c->q_head;
        c->q_head = in->next;
        zmq_msg_close(&in->msg);
        free(in);
    }
    for (size_t i = 0; i < n->nchans; i++)
        if (n->chans[i] == c) {
            n->chans[i] = n->chans[--n->nchans];
            break;
        }
    c->state = CH_GONE;
    pthread_cond_broadcast(&c->cond);
}

void strom_netchan_close(struct strom_netchan *c)
{
    struct strom_net *n;

    if (!c)
        return;
    n = c->net;
    pthread_mutex_lock(&n->mu);
    c->state = CH_CLOSING;
    strom_net__wake(n);
    /* The I/O thread may be reading c's window unlocked: it frees c at a safe point. */
    while (c->state != CH_GONE && n->io_running)
        pthread_cond_wait(&c->cond, &n->mu);
    if (c->state != CH_GONE)
        release_chan(n, c);
    pthread_mutex_unlock(&n->mu);
    pthread_cond_destroy(&c->cond);
    free(c);
}

void strom_net__chan_reap(struct strom_net *n)
{
    for (size_t i = 0; i < n->nchans;) {
        struct strom_netchan *c = n->chans[i];
        if (c->state == CH_CLOSING)
            release_chan(n, c); /* moves the last channel to i */
        else
            i++;
    }
}

/* ---- the application's side ---- */

/* Under mu: 0 once c's window has room for len more bytes, or why not. */
static int wait_room(struct strom_netchan *c, size_t len, int timeout_ms,
                     const struct timespec *deadline)
{
    struct strom_net *n = c->net;
    int rc;

    for (;;) {
        if (n->cancelled)
            return -ECANCELED;
        if (c->state != CH_OPEN)
            return STROM_E_BADSTATE;
        if (c->next_seq - c->acked < c->win_cap && c->win_bytes + len <= n->cfg.window_bytes)
            return 0;
        /* Backpressure: the window is full until the receiver takes some. */
        if (c->peer->dead)
            return STROM_E_PEERDEAD;
        if ((rc = wait_on(c, timeout_ms, deadline)))
            return rc;
    }
}

int strom_netchan_send(struct strom_netchan *c, const void *data, size_t len, int timeout_ms)
{
    struct strom_net *n = c->net;
    struct strom_net__out *o;
    struct strom_frame f = {.type = STROM_FRAME_DATA};
    struct timespec deadline;
    int rc = 0;

    if (c->role != STROM_NETCHAN_SEND)
        return STROM_E_INVAL;
    if (len > n->cfg.max_batch)
        return -EMSGSIZE;
    if (timeout_ms > 0)
        deadline_of(&deadline, timeout_ms);
    /* Wait for room before copying (a refused send costs no allocation), copy without the
     * lock, then check again: another thread may have filled the window meanwhile. */
    pthread_mutex_lock(&n->mu);
    rc = wait_room(c, len, timeout_ms, &deadline);
    pthread_mutex_unlock(&n->mu);
    if (rc)
        return rc;
    o = malloc(sizeof *o + STROM_FRAME_HEADER + len);
    if (!o)
        return -ENOMEM;
    o->len = STROM_FRAME_HEADER + len;
    if (len)
        memcpy(o->frame + STROM_FRAME_HEADER, data, len);
    pthread_mutex_lock(&n->mu);
    rc = wait_room(c, len, timeout_ms, &deadline);
    if (!rc) {
        f.channel = c->id;
        f.epoch = c->epoch;
        f.seq = c->next_seq;
        f.len = (uint32_t)len;
        strom_frame_put_header(o->frame, &f);
        c->win[c->next_seq % c->win_cap] = o;
        c->next_seq++;
        c->win_bytes += len;
        o = NULL;
    }
    pthread_mutex_unlock(&n->mu);
    free(o);
    if (!rc)
        strom_net__wake(n);
    return rc;
}

int strom_netchan_finish(struct strom_netchan *c, int timeout_ms)
{
    struct strom_net *n = c->net;
    struct timespec deadline;
    int rc = 0;

    if (c->role != STROM_NETCHAN_SEND)
        return STROM_E_INVAL;
    if (timeout_ms > 0)
        deadline_of(&deadline, timeout_ms);
    pthread_mutex_lock(&n->mu);
    if (c->state == CH_OPEN) {
        c->state = CH_FINISHING;
        c->bye_wanted = 1;
        strom_net__wake(n);
    }
    while (c->state != CH_DONE) {
        if (n->cancelled) {
            rc = -ECANCELED;
            break;
        }
        if (c->peer->dead) {
            rc = STROM_E_PEERDEAD;
            break;
        }
        if ((rc = wait_on(c, timeout_ms, &deadline)))
            break;
    }
    pthread_mutex_unlock(&n->mu);
    return rc;
}

int strom_netchan_recv(struct strom_netchan *c, struct strom_net_batch *b, int timeout_ms)
{
    struct strom_net *n = c->net;
    struct strom_net__in *in = NULL;
    struct timespec deadline;
    size_t len;
    int rc = 0, wake = 0;

    memset(b, 0, sizeof *b);
    if (c->role != STROM_NETCHAN_RECV)
        return STROM_E_INVAL;
    if (timeout_ms > 0)
        deadline_of(&deadline, timeout_ms);
    pthread_mutex_lock(&n->mu);
    for (;;) {
        if (n->cancelled) {
            rc = -ECANCELED;
            break;
        }
        if (c->q_head) {
            in = c->q_head;
            break;
        }
        if (c->bye_seen && c->consumed == c->bye_seq) {
            c->state = CH_DONE;
            rc = STROM_E_CLOSED;
            break;
        }
        if (c->peer->dead) {
            rc = STROM_E_PEERDEAD;
            break;
        }
        if (c->kicked && timeout_ms != 0) {
            c->kicked = 0;
            rc = -EAGAIN;
            break;
        }
        if ((rc = wait_on(c, timeout_ms, &deadline)))
            break;
    }
    if (in) {
        len = zmq_msg_size(&in->msg) - STROM_FRAME_HEADER;
        c->q_head = in->next;
        if (!c->q_head)
            c->q_tail = NULL;
        c->q_count--;
        c->q_bytes -= len;
        c->consumed++;
        c->ack_bytes += len;
        strom_net__count(n, delivered);
        /* Room again after dropping for lack of it: ask for the rest. */
        if (c->full_dropped) {
            c->full_dropped = 0;
            c->rewind_wanted = 1;
            wake = 1;
        }
        /* Acknowledge in quarters of the window, and whenever the queue runs dry, so that
         * the sender neither stalls nor gets an ACK per batch under load. */
        if (!c->ack_wanted && (c->consumed - c->ack_sent >= (n->cfg.window_batches + 3) / 4 ||
                               c->ack_bytes >= n->cfg.window_bytes / 4 || !c->q_head)) {
            c->ack_wanted = 1;
            wake = 1;
        }
    }
    pthread_mutex_unlock(&n->mu);
    if (wake)
        strom_net__wake(n);
    if (in) {
        b->data = (const uint8_t *)zmq_msg_data(&in->msg) + STROM_FRAME_HEADER;
        b->len = len;
        b->seq = in->seq;
        b->priv_ = in;
    }
    return rc;
}

void strom_netchan_kick(struct strom_netchan *c)
{
    pthread_mutex_lock(&c->net->mu);
    c->kicked = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->net->mu);
}

void strom_net_batch_release(struct strom_net_batch *b)
{
    struct strom_net__in *in = b ? b->priv_ : NULL;

    if (!in)
        return;
    zmq_msg_close(&in->msg);
    free(in);
    memset(b, 0, sizeof *b);
}
