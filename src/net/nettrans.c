/*
 * net/nettrans.c: the runtime's transport over net channels. The design (connections,
 * message, start, receiving, shutdown order, threads) is in net/nettrans.h.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/errf.h"
#include "core/le.h"
#include "net/net_int.h"
#include "net/nettrans.h"
#include "strom/error.h"

#define WAIT_SLICE_MS 2       /* recv: longest wait on one channel while another may fill */
#define IDLE_SLICE_MS 10      /* new, finish: the same, where latency matters less */
#define CLOSED_GRACE_MS 1000  /* recv: -EAGAIN this long after every peer finished */
#define SMALL_MSG 64          /* messages up to this size (credits) go via the stack */
#define SPARE_MIN (64u << 10) /* the spare buffer's least size: a full batch of 1024 events */

/* A message buffer for send, kept between calls. */
struct spare {
    size_t cap;
    uint8_t bytes[];
};

struct strom_nettrans {
    struct strom_net *net;
    unsigned self, procs;
    struct strom_netchan **tx, **rx; /* [procs]: to / from process p; NULL at self */
    bool *closed;     /* rx[p] reported STROM_E_CLOSED: recv's thread, then finish's */
    bool *sent_all;   /* tx[p] finished, acknowledged to the end: finish only */
    unsigned open;    /* RECV channels not yet closed */
    unsigned rr;      /* recv: the first channel to look at (after the last to deliver) */
    unsigned wait_rr; /* recv: the channel to wait on next */
    bool all_closed;  /* recv: every RECV channel found closed, at all_closed_at */
    int64_t all_closed_at;
    struct spare *_Atomic spare; /* send: NULL while a caller holds it */
};

static int64_t deadline_of(int timeout_ms)
{
    return timeout_ms < 0 ? INT64_MAX : strom_net__now_ms() + timeout_ms;
}

/* ms left until deadline (at most cap), or 0 when it passed. */
static int left_until(int64_t deadline, int cap)
{
    int64_t left = deadline - strom_net__now_ms();
    return left <= 0 ? 0 : left < cap ? (int)left : cap;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- sending ---- */

static int nt_send(void *arg, unsigned proc, uint32_t chan, const void *bytes, size_t len, int wait)
{
    struct strom_nettrans *t = arg;
    uint8_t small[SMALL_MSG], *msg = small;
    struct spare *s = NULL;
    int rc;

    if (proc >= t->procs || !t->tx[proc])
        return STROM_E_INVAL;
    if (len > UINT32_MAX)
        return -EMSGSIZE;
    /* The sender and the receiver thread both send: a buffer is taken whole, so each call
     * has its own (the second caller at once allocates another; one of them is kept). */
    if (len + 4 > sizeof small) {
        s = atomic_exchange(&t->spare, NULL);
        if (!s || s->cap < len + 4) {
            size_t cap = len + 4 < SPARE_MIN ? SPARE_MIN : len + 4;
            free(s);
            if (!(s = malloc(sizeof *s + cap)))
                return -ENOMEM;
            s->cap = cap;
        }
        msg = s->bytes;
    }
    strom_le_put32(msg, chan);
    if (len)
        memcpy(msg + 4, bytes, len);
    /* wait: until the window has room (the net's backpressure), or the peer is dead */
    rc = strom_netchan_send(t->tx[proc], msg, len + 4, wait ? -1 : 0);
    if (s)
        free(atomic_exchange(&t->spare, s));
    return rc;
}

/* ---- receiving ---- */

/* A message into the caller's buffer; releases b. */
static int take(struct strom_net_batch *b, uint32_t *chan, void *buf, size_t cap, size_t *len)
{
    int rc = 0;

    if (b->len < 4 || b->len - 4 > cap) {
        rc = STROM_E_CORRUPT;
    } else {
        *chan = strom_le_get32(b->data);
        *len = b->len - 4;
        memcpy(buf, (const uint8_t *)b->data + 4, *len);
    }
    strom_net_batch_release(b);
    return rc;
}

/* rx[p], waiting up to wait_ms: 1 with a message in b, 0 nothing (now, or ever: closed),
 * or the failure. */
static int look(struct strom_nettrans *t, unsigned p, struct strom_net_batch *b, int wait_ms)
{
    int rc = strom_netchan_recv(t->rx[p], b, wait_ms);

    if (rc == 0)
        return 1;
    if (rc == -EAGAIN)
        return 0;
    if (rc == STROM_E_CLOSED) {
        t->closed[p] = true;
        t->open--;
        return 0;
    }
    return rc;
}

/* Every peer has finished: see "Receiving" in nettrans.h for the grace. */
static int recv_all_closed(struct strom_nettrans *t, int timeout_ms)
{
    int64_t now = strom_net__now_ms();
    int grace;

    if (!t->all_closed) {
        t->all_closed = true;
        t->all_closed_at = now;
    }
    grace = (int)(t->all_closed_at + CLOSED_GRACE_MS - now);
    if (grace <= 0)
        return -ECONNRESET;
    if (timeout_ms != 0)
        sleep_ms(timeout_ms > 0 && timeout_ms < grace ? timeout_ms : grace);
    return -EAGAIN;
}

static int nt_recv(void *arg, uint32_t *chan, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    struct strom_nettrans *t = arg;
    int64_t deadline = deadline_of(timeout_ms);
    struct strom_net_batch b;
    int rc, wait;

    for (;;) {
        unsigned p = t->rr;
        /* every open channel once, without waiting, from the one after the last to
         * deliver: a busy peer does not starve the others */
        for (unsigned k = 0; k < t->procs; k++, p = (p + 1) % t->procs) {
            if (!t->rx[p] || t->closed[p])
                continue;
            if ((rc = look(t, p, &b, 0)) == 1) {
                t->rr = (p + 1) % t->procs;
                return take(&b, chan, buf, cap, len);
            }
            if (rc)
                return rc;
        }
        if (!t->open)
            return recv_all_closed(t, timeout_ms);
        if (!(wait = left_until(deadline, WAIT_SLICE_MS)))
            return -EAGAIN;
        /* Nothing anywhere: wait on one channel, briefly (a message on another waits at most
         * the slice), a different one each time. */
        for (p = t->wait_rr % t->procs; !t->rx[p] || t->closed[p]; p = (p + 1) % t->procs)
            ;
        t->wait_rr = p + 1;
        if ((rc = look(t, p, &b, wait)) == 1) {
            t->rr = (p + 1) % t->procs;
            return take(&b, chan, buf, cap, len);
        }
        if (rc)
            return rc;
    }
}

/* The receiving thread may be waiting on any open RECV channel: each is kicked. */
static void nt_wake(void *arg)
{
    struct strom_nettrans *t = arg;
    for (unsigned p = 0; p < t->procs; p++)
        if (t->rx[p])
            strom_netchan_kick(t->rx[p]);
}

void strom_nettrans_transport(struct strom_nettrans *t, struct strom_transport *out)
{
    *out = (struct strom_transport){nt_send, nt_recv, t, nt_wake};
}

/* ---- the start ---- */

/* rx[p]'s first message, the hello, waiting up to wait_ms: 1 heard, 0 not yet, or the
 * failure. */
static int hello_from(struct strom_nettrans *t, unsigned p, const char *name, int wait_ms,
                      char *err, size_t errlen)
{
    struct strom_net_batch b;
    int rc = strom_netchan_recv(t->rx[p], &b, wait_ms);
    size_t len = b.len;

    if (rc == 0) {
        strom_net_batch_release(&b);
        if (len)
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                               "process %u (%s): a message of %zu bytes before its hello", p, name,
                               len);
        return 1;
    }
    if (rc == -EAGAIN)
        return 0;
    if (rc == STROM_E_PEERDEAD) { /* not started yet, as far as we know: wait on */
        if (wait_ms)
            sleep_ms(wait_ms);
        return 0;
    }
    if (rc == STROM_E_CLOSED)
        return strom__errf(err, errlen, STROM_E_BADSTATE,
                           "process %u (%s) finished this epoch before it started here", p, name);
    return strom__errf(err, errlen, rc, "waiting for process %u (%s): %s", p, name,
                       strom_strerror(rc));
}

/* Waits until every peer's hello came. */
static int await_peers(struct strom_nettrans *t, const char *const *names, int timeout_ms,
                       char *err, size_t errlen)
{
    int64_t deadline = deadline_of(timeout_ms);
    bool *heard = calloc(t->procs, sizeof *heard);
    int rc = 0;

    if (!heard)
        return -ENOMEM;
    for (;;) {
        unsigned missing = 0, wait_p = 0;
        int wait;
        for (unsigned p = 0; p < t->procs && !rc; p++) {
            if (p == t->self || heard[p])
                continue;
            rc = hello_from(t, p, names[p], 0, err, errlen);
            if (rc == 1) {
                heard[p] = true;
                rc = 0;
            } else if (rc == 0) {
                missing++;
                wait_p = p;
            }
        }
        if (rc || !missing)
            break;
        if (!(wait = left_until(deadline, IDLE_SLICE_MS))) {
            char list[512] = "";
            size_t k = 0;
            for (unsigned p = 0; p < t->procs && k < sizeof list; p++)
                if (p != t->self && !heard[p])
                    k += (size_t)snprintf(list + k, sizeof list - k, "%s%u (%s)", k ? ", " : "", p,
                                          names[p]);
            rc = strom__errf(err, errlen, -ETIMEDOUT,
                             "process %u (%s): no word within %d ms from process %s", t->self,
                             names[t->self], timeout_ms, list);
            break;
        }
        rc = hello_from(t, wait_p, names[wait_p], wait, err, errlen);
        if (rc == 1) {
            heard[wait_p] = true;
            rc = 0;
        }
        if (rc)
            break;
    }
    free(heard);
    return rc;
}

static int check_args(struct strom_net *n, unsigned self, unsigned procs, const char *const *names,
                      const char *const *endpoints, char *err, size_t errlen)
{
    if (!n || !names || procs == 0 || procs > STROM_NET_MAX_PEERS || self >= procs)
        return strom__errf(err, errlen, STROM_E_INVAL, "nettrans: process %u of %u", self, procs);
    for (unsigned p = 0; p < procs; p++) {
        if (!names[p])
            return strom__errf(err, errlen, STROM_E_INVAL, "nettrans: process %u has no name", p);
        if (p < self && (!endpoints || !endpoints[p]))
            return strom__errf(err, errlen, STROM_E_INVAL,
                               "nettrans: process %u (%s) has no endpoint to connect to", p,
                               names[p]);
        for (unsigned q = 0; q < p; q++)
            if (!strcmp(names[p], names[q]))
                return strom__errf(err, errlen, STROM_E_INVAL,
                                   "nettrans: processes %u and %u are both called '%s'", q, p,
                                   names[p]);
    }
    /* A wrong self (or order of names) would only show as a timeout: say it now. */
    if (strcmp(names[self], n->name))
        return strom__errf(err, errlen, STROM_E_INVAL,
                           "nettrans: process %u is '%s', but this net is '%s'", self, names[self],
                           n->name);
    return 0;
}

int strom_nettrans_new(struct strom_nettrans **out, struct strom_net *n, unsigned self,
                       unsigned procs, const char *const *names, const char *const *endpoints,
                       uint64_t epoch, int timeout_ms, char *err, size_t errlen)
{
    struct strom_nettrans *t = NULL;
    int rc;

    *out = NULL;
    if ((rc = check_args(n, self, procs, names, endpoints, err, errlen)))
        return rc;
    if (!(t = calloc(1, sizeof *t)) || !(t->tx = calloc(procs, sizeof *t->tx)) ||
        !(t->rx = calloc(procs, sizeof *t->rx)) ||
        !(t->closed = calloc(procs, sizeof *t->closed)) ||
        !(t->sent_all = calloc(procs, sizeof *t->sent_all))) {
        rc = -ENOMEM;
        goto out;
    }
    t->net = n;
    t->self = self;
    t->procs = procs;
    atomic_init(&t->spare, NULL);
    /* Channels first: a peer's hello (or anything) for a channel not open is refused. */
    for (unsigned p = 0; p < procs; p++) {
        if (p == self)
            continue;
        if ((rc = strom_netchan_open(&t->tx[p], n, names[p], STROM_NETTRANS_CHAN, epoch,
                                     STROM_NETCHAN_SEND, err, errlen)) ||
            (rc = strom_netchan_open(&t->rx[p], n, names[p], STROM_NETTRANS_CHAN, epoch,
                                     STROM_NETCHAN_RECV, err, errlen)))
            goto out;
        t->open++;
    }
    for (unsigned p = 0; p < self; p++) {
        rc = strom_net_connect(n, names[p], endpoints[p], err, errlen);
        if (rc == STROM_E_EXISTS) { /* connected already: that connection serves */
            if (err && errlen)
                err[0] = 0;
            rc = 0;
        }
        if (rc)
            goto out;
    }
    for (unsigned p = 0; p < procs; p++)
        if (p != self && (rc = strom_netchan_send(t->tx[p], "", 0, 0))) {
            rc = strom__errf(err, errlen, rc, "nettrans: hello to process %u (%s): %s", p, names[p],
                             strom_strerror(rc));
            goto out;
        }
    rc = await_peers(t, names, timeout_ms, err, errlen);
out:
    if (rc) {
        strom_nettrans_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* ---- the end ---- */

/* Reads rx[p] on after the job's end, waiting up to wait_ms for the first message, and drops
 * what comes: late credits (their sender has finished) or anything else the peer sent
 * before its end that this process's runtime, which has ended, will never read. Only a
 * message too short to be the runtime's is a failure. 0, or the failure. */
static int drain(struct strom_nettrans *t, unsigned p, int wait_ms)
{
    struct strom_net_batch b;
    int rc;

    while ((rc = look(t, p, &b, wait_ms)) == 1) {
        size_t len = b.len;
        strom_net_batch_release(&b);
        if (len < 4)
            return STROM_E_CORRUPT;
        wait_ms = 0;
    }
    return rc;
}

/* tx[p], waiting up to wait_ms: 0 (done or not yet), or the failure. */
static int finish_tx(struct strom_nettrans *t, unsigned p, int wait_ms)
{
    int rc = strom_netchan_finish(t->tx[p], wait_ms);

    /* A peer that died after its BYE had ended its job: all it still lacked from us were
     * credits, which it no longer needed. */
    if (rc == 0 || (rc == STROM_E_PEERDEAD && t->closed[p]))
        t->sent_all[p] = true;
    else if (rc != -EAGAIN)
        return rc;
    return 0;
}

int strom_nettrans_finish(struct strom_nettrans *t, int timeout_ms)
{
    int64_t deadline = deadline_of(timeout_ms);
    int rc;

    for (;;) {
        unsigned pending = 0, wait_p = 0;
        bool wait_rx = false;
        int wait;
        /* Both directions at once: a peer acknowledges our BYE only once it has read
         * everything, and it may be waiting for us to read its late credits. The RECV
         * channel first, so that a peer dead after its BYE is known to have sent it. */
        for (unsigned p = 0; p < t->procs; p++) {
            if (p == t->self)
                continue;
            if (!t->closed[p] && (rc = drain(t, p, 0)))
                return rc;
            if (!t->sent_all[p] && (rc = finish_tx(t, p, 0)))
                return rc;
            if (!t->closed[p] || !t->sent_all[p]) {
                pending++;
                /* wait where a message may come, if anywhere */
                if (!wait_rx) {
                    wait_p = p;
                    wait_rx = !t->closed[p];
                }
            }
        }
        if (!pending)
            return 0;
        if (!(wait = left_until(deadline, IDLE_SLICE_MS)))
            return -EAGAIN;
        rc = wait_rx ? drain(t, wait_p, wait) : finish_tx(t, wait_p, wait);
        if (rc)
            return rc;
    }
}

void strom_nettrans_free(struct strom_nettrans *t)
{
    if (!t)
        return;
    for (unsigned p = 0; p < t->procs; p++) {
        if (t->tx)
            strom_netchan_close(t->tx[p]);
        if (t->rx)
            strom_netchan_close(t->rx[p]);
    }
    free(t->tx);
    free(t->rx);
    free(t->closed);
    free(t->sent_all);
    free(atomic_load(&t->spare));
    free(t);
}
