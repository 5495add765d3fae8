/*
 * runtime/remote.c: distributed runs, where the instances of one job are spread over
 * several processes (strom_job_set_distributed in strom/job.h).
 *
 * Every process builds the same graph, so the wiring (instances, channels and their
 * indexes) is the same everywhere; place() says which process runs each instance. A
 * process's worker threads run only its own instances. A channel between two instances of
 * one process is the usual pair of rings. A channel that leaves the process keeps its rings
 * on the producing side, where the sender thread plays the consumer: it takes the batches
 * off the data ring, encodes them, hands them to the transport and returns them to the free
 * ring. A channel that enters the process keeps its rings on the consuming side, where the
 * receiver thread plays the producer: it decodes what the transport delivers into batches
 * and pushes them onto the data ring. The rest of the runtime does not know the difference.
 *
 *   process A                                        process B
 *   [op 0] -> data ring -> sender --transport--> receiver -> data ring -> [op 1]
 *            <- free ring <-                                <- free ring <-
 *
 * Backpressure, per channel, by credits: the sender may have at most ring_batches batches
 * of a channel that the consumer has not yet returned to its free ring; it sends a batch
 * only with a credit, else leaves it on the data ring, which fills, so that the producing
 * instance blocks as in one process. The receiver returns credits (a message on the
 * channel's id with STROM_CHAN_CREDIT set, the count as 4 bytes) as the consumer returns
 * batches. So the receiver never waits for room in a ring (the credits guarantee it), and
 * one full channel never holds up the others that share the connection (waiting there
 * deadlocks Q2: q2house holds q2plug's batches until q2global's watermark comes, which
 * would sit behind them). Credits go out without waiting (a transport that is full takes
 * them later), so that two receivers never wait for each other.
 * Order: the transport keeps the order of one process's messages to another, and one
 * thread sends and one receives, so every channel stays FIFO; a channel ends with its END
 * batch, and the threads stop once every channel they serve has ended (or the job
 * stops).
 *
 * Wire form of a batch (little endian; what a transport carries, with the channel beside):
 *
 *   offset  size  field
 *   0       4     n, events (<= the job's batch_events)
 *   4       4     flags: STROM_BATCH_WM | STROM_BATCH_END | STROM_BATCH_BARRIER, nothing else
 *   8       8     watermark (signed)
 *   16      8     barrier
 *   24      40*n  events: key u64, time i64, v[0..2] i64
 *
 * exactly 24 + 40 n bytes. Threads: the sender and the receiver thread, each the only one to
 * call its side of the transport.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"
#include "runtime/runtime_int.h"
#include "strom/error.h"

struct strom_remote {
    struct strom_dist_config cfg;
    _Atomic int32_t *credit; /* per channel: batches the sender may still send */
    uint32_t *acked;         /* per channel: returned batches already credited back */
    pthread_t sender, receiver;
    bool sender_started, receiver_started;
    _Atomic bool sender_done; /* every outbound channel has sent its end (or it failed) */
    uint8_t *sbuf, *rbuf; /* one encoded batch each */
    size_t cap;
};

#define KNOWN_FLAGS (STROM_BATCH_WM | STROM_BATCH_END | STROM_BATCH_BARRIER)

size_t strom_rt__batch_encode(const struct strom_batch *b, uint8_t *out)
{
    uint8_t *p = out + STROM_BATCH_WIRE_HDR;
    strom_le_put32(out, b->n);
    strom_le_put32(out + 4, b->flags);
    strom_le_put64(out + 8, (uint64_t)b->watermark);
    strom_le_put64(out + 16, b->barrier);
    for (uint32_t i = 0; i < b->n; i++, p += STROM_EVENT_WIRE) {
        const struct strom_event *e = &b->ev[i];
        strom_le_put64(p, e->key);
        strom_le_put64(p + 8, (uint64_t)e->time);
        for (int k = 0; k < 3; k++)
            strom_le_put64(p + 16 + 8 * k, (uint64_t)e->v[k]);
    }
    return (size_t)(p - out);
}

int strom_rt__batch_decode(const uint8_t *p, size_t len, unsigned max_events,
                           struct strom_batch *b)
{
    uint32_t n, flags;
    if (len < STROM_BATCH_WIRE_HDR)
        return STROM_E_CORRUPT;
    n = strom_le_get32(p);
    flags = strom_le_get32(p + 4);
    if (n > max_events || len != STROM_BATCH_WIRE_HDR + (size_t)n * STROM_EVENT_WIRE ||
        (flags & ~(uint32_t)KNOWN_FLAGS))
        return STROM_E_CORRUPT;
    b->n = n;
    b->flags = flags;
    b->watermark = (int64_t)strom_le_get64(p + 8);
    b->barrier = strom_le_get64(p + 16);
    p += STROM_BATCH_WIRE_HDR;
    for (uint32_t i = 0; i < n; i++, p += STROM_EVENT_WIRE) {
        struct strom_event *e = &b->ev[i];
        e->key = strom_le_get64(p);
        e->time = (int64_t)strom_le_get64(p + 8);
        for (int k = 0; k < 3; k++)
            e->v[k] = (int64_t)strom_le_get64(p + 16 + 8 * k);
    }
    return 0;
}

size_t strom_job_batch_wire_max(const struct strom_job *job)
{
    return STROM_BATCH_WIRE_HDR + (size_t)job->cfg.batch_events * STROM_EVENT_WIRE;
}

int strom_job_set_distributed(struct strom_job *job, const struct strom_dist_config *dc)
{
    if (!job || !dc || !dc->place || !dc->transport.send || !dc->transport.recv ||
        dc->procs == 0 || dc->self >= dc->procs)
        return STROM_E_INVAL;
    if (job->started || job->remote)
        return strom_rt__set_error(job, STROM_E_BADSTATE,
                                   "a distributed run is set up before start, once");
    if (!(job->remote = calloc(1, sizeof *job->remote)))
        return -ENOMEM;
    job->remote->cfg = *dc;
    return 0;
}

bool strom_rt__local(const struct strom_ctx *c)
{
    return !c->job->remote || c->proc == c->job->remote->cfg.self;
}

int strom_rt__remote_place(struct strom_job *job)
{
    struct strom_remote *r = job->remote;
    unsigned local = 0;
    if (!r)
        return 0;
    if (job->cp)
        return strom_rt__set_error(job, STROM_E_BADSTATE,
                                   "checkpoints are not available in a distributed run");
    for (unsigned i = 0; i < job->n_all; i++) {
        struct strom_ctx *c = job->all[i];
        c->proc = r->cfg.place(r->cfg.place_arg, c->node->name, c->idx, c->node->par);
        if (c->proc >= r->cfg.procs)
            return strom_rt__set_error(job, STROM_E_INVAL,
                                       "'%s' instance %u placed on process %u of %u",
                                       c->node->name, c->idx, c->proc, r->cfg.procs);
        /* this process's threads share its own instances; the others' run elsewhere */
        c->thread = c->proc == r->cfg.self ? local++ % job->cfg.threads : UINT32_MAX;
    }
    r->cap = strom_job_batch_wire_max(job);
    if (!(r->sbuf = malloc(r->cap)) || !(r->rbuf = malloc(r->cap)) ||
        !(r->credit = calloc(job->n_chans + 1, sizeof *r->credit)) ||
        !(r->acked = calloc(job->n_chans + 1, sizeof *r->acked)))
        return -ENOMEM;
    for (unsigned i = 0; i < job->n_chans; i++) {
        struct strom_chan *ch = job->chans[i];
        atomic_init(&r->credit[i], (int32_t)job->cfg.ring_batches);
        ch->counted = ch->from->proc != r->cfg.self && ch->to->proc == r->cfg.self;
    }
    return 0;
}

static bool outbound(const struct strom_remote *r, const struct strom_chan *ch)
{
    return ch->from->proc == r->cfg.self && ch->to->proc != r->cfg.self;
}

static bool inbound(const struct strom_remote *r, const struct strom_chan *ch)
{
    return ch->from->proc != r->cfg.self && ch->to->proc == r->cfg.self;
}

static bool stopping(struct strom_job *job)
{
    return atomic_load_explicit(&job->stop, memory_order_relaxed);
}

static void thread_fail(struct strom_job *job, int rc, const char *what, unsigned chan)
{
    strom_rt__set_error(job, rc, "%s (channel %u): %s", what, chan, strom_strerror(rc));
    strom_rt__fail(job, rc);
}

/* Takes the batches of outbound channels off their rings and sends them, until every
 * outbound channel has sent its end. */
static void *sender_main(void *arg)
{
    struct strom_job *job = arg;
    struct strom_remote *r = job->remote;
    unsigned idle = 0, left = 0;
    bool *ended = calloc(job->n_chans ? job->n_chans : 1, sizeof *ended);

    if (!ended) {
        thread_fail(job, -ENOMEM, "the sender thread", 0);
        goto out;
    }
    for (unsigned i = 0; i < job->n_chans; i++)
        left += outbound(r, job->chans[i]);
    while (left && !stopping(job)) {
        bool progress = false;
        for (unsigned i = 0; i < job->n_chans; i++) {
            struct strom_chan *ch = job->chans[i];
            struct strom_batch *b;
            if (ended[i] || !outbound(r, ch))
                continue;
            while (atomic_load_explicit(&r->credit[i], memory_order_acquire) > 0 &&
                   (b = strom_ring_pop(&ch->data))) {
                size_t len = strom_rt__batch_encode(b, r->sbuf);
                bool end = b->flags & STROM_BATCH_END;
                int rc = r->cfg.transport.send(r->cfg.transport.arg, ch->to->proc, i, r->sbuf,
                                               len, 1);
                atomic_fetch_sub_explicit(&r->credit[i], 1, memory_order_relaxed);
                strom_rt__batch_done(job, ch, b);
                if (rc) {
                    thread_fail(job, rc, "sending a batch to another process", i);
                    goto out;
                }
                progress = true;
                if (end) {
                    ended[i] = true;
                    left--;
                    break;
                }
            }
        }
        idle = progress ? 0 : idle + 1;
        if (idle)
            strom_rt__backoff(idle);
    }
out:
    free(ended);
    atomic_store(&r->sender_done, true);
    atomic_fetch_sub(&job->running, 1);
    return NULL;
}

/* Credits back for the batches that consumers have returned; what the transport cannot
 * take now goes on the next round. */
static int give_credits(struct strom_job *job, const bool *ended)
{
    struct strom_remote *r = job->remote;
    for (unsigned i = 0; i < job->n_chans; i++) {
        struct strom_chan *ch = job->chans[i];
        uint32_t ret, n;
        uint8_t b[4];
        int rc;
        if (!ch->counted || ended[i]) /* after its end, the sender needs no credit */
            continue;
        ret = atomic_load_explicit(&ch->returned, memory_order_acquire);
        if (!(n = ret - r->acked[i]))
            continue;
        strom_le_put32(b, n);
        rc = r->cfg.transport.send(r->cfg.transport.arg, ch->from->proc, i | STROM_CHAN_CREDIT,
                                   b, 4, 0);
        if (rc == -EAGAIN)
            continue;
        /* A sender that has sent its end may be gone before its end is read here: it
         * needs no more credits. (One that died before its end leaves the channel short
         * of its end, which the job does not survive.) */
        if (rc && rc != -EPIPE && rc != -ECONNRESET)
            return rc;
        r->acked[i] = ret;
    }
    return 0;
}

/* Takes credits for this process's outbound channels, and batches for its inbound ones,
 * which it pushes onto their rings (the credits leave room), until every inbound channel
 * has received its end and every outbound one has sent it. */
static void *receiver_main(void *arg)
{
    struct strom_job *job = arg;
    struct strom_remote *r = job->remote;
    unsigned left = 0;
    bool *ended = calloc(job->n_chans ? job->n_chans : 1, sizeof *ended);

    if (!ended) {
        thread_fail(job, -ENOMEM, "the receiver thread", 0);
        goto out;
    }
    for (unsigned i = 0; i < job->n_chans; i++)
        left += inbound(r, job->chans[i]);
    while (!stopping(job)) {
        uint32_t chan = 0;
        size_t len = 0;
        struct strom_chan *ch;
        struct strom_batch *b;
        int rc;
        if ((rc = give_credits(job, ended))) {
            thread_fail(job, rc, "returning credits to another process", 0);
            break;
        }
        /* done when nothing more comes in and the sender is done (it needs our credits) */
        if (!left && atomic_load(&r->sender_done))
            break;
        rc = r->cfg.transport.recv(r->cfg.transport.arg, &chan, r->rbuf, r->cap, &len, 1);
        if (rc == -EAGAIN)
            continue;
        if (rc) {
            thread_fail(job, rc, "receiving from another process", chan);
            break;
        }
        if (chan & STROM_CHAN_CREDIT) {
            chan &= ~STROM_CHAN_CREDIT;
            if (chan >= job->n_chans || !outbound(r, job->chans[chan]) || len != 4) {
                thread_fail(job, STROM_E_CORRUPT, "credits for a channel this process does "
                            "not send on", chan);
                break;
            }
            atomic_fetch_add_explicit(&r->credit[chan], (int32_t)strom_le_get32(r->rbuf),
                                      memory_order_release);
            continue;
        }
        if (chan >= job->n_chans || !inbound(r, job->chans[chan]) || ended[chan]) {
            thread_fail(job, STROM_E_CORRUPT, "a batch for a channel this process does not read",
                        chan);
            break;
        }
        ch = job->chans[chan];
        if (!(b = strom_rt__batch_get(ch))) {
            thread_fail(job, -ENOMEM, "receiving a batch", chan);
            break;
        }
        if ((rc = strom_rt__batch_decode(r->rbuf, len, job->cfg.batch_events, b))) {
            strom_rt__batch_done(job, ch, b);
            thread_fail(job, rc, "a malformed batch from another process", chan);
            break;
        }
        if (b->flags & STROM_BATCH_END) {
            ended[chan] = true;
            left--;
        }
        if (strom_ring_push(&ch->data, b)) { /* more batches than credits: a broken peer */
            free(b);
            thread_fail(job, STROM_E_CORRUPT, "a batch beyond its channel's credits", chan);
            break;
        }
    }
out:
    free(ended);
    atomic_fetch_sub(&job->running, 1);
    return NULL;
}

int strom_rt__remote_start(struct strom_job *job)
{
    struct strom_remote *r = job->remote;
    int rc;
    if (!r)
        return 0;
    atomic_fetch_add(&job->running, 2);
    if ((rc = -pthread_create(&r->sender, NULL, sender_main, job))) {
        atomic_fetch_sub(&job->running, 2);
        return rc;
    }
    r->sender_started = true;
    if ((rc = -pthread_create(&r->receiver, NULL, receiver_main, job))) {
        atomic_fetch_sub(&job->running, 1);
        return rc;
    }
    r->receiver_started = true;
    return 0;
}

void strom_rt__remote_join(struct strom_job *job)
{
    struct strom_remote *r = job->remote;
    if (!r)
        return;
    if (r->sender_started)
        pthread_join(r->sender, NULL);
    if (r->receiver_started)
        pthread_join(r->receiver, NULL);
    r->sender_started = r->receiver_started = false;
}

void strom_rt__remote_free(struct strom_job *job)
{
    struct strom_remote *r = job->remote;
    if (!r)
        return;
    free(r->sbuf);
    free(r->rbuf);
    free((void *)r->credit);
    free(r->acked);
    free(r);
    job->remote = NULL;
}
