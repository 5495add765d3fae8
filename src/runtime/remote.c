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
 * Backpressure, per channel, by credits: the sender may have at most `window` batches of a
 * channel that the consumer has not yet returned to its free ring (such a channel's rings
 * are that long: REMOTE_RING_FACTOR times ring_batches); it sends a batch
 * only with a credit, else leaves it on the data ring, which fills, so that the producing
 * instance blocks as in one process. The receiver returns credits (one message to each
 * process, on STROM_CHAN_CREDIT, with a count for every channel that has some) as the
 * consumers return batches; a consumer that has returned a quarter of the window wakes it
 * (strom_transport's wake), so that credits do not wait for its next round. So the receiver never
 * waits for room in a ring (the credits guarantee it), and one full channel never holds up the
 * others that share the connection (waiting there deadlocks Q2: q2house holds q2plug's batches
 * until q2global's watermark comes, which would sit behind them). Credits go out without waiting (a
 * transport that is full takes them later), so that two receivers never wait for each other. Order:
 * the transport keeps the order of one process's messages to another, and one thread sends and one
 * receives, so every channel stays FIFO; a channel ends with its END batch, and the threads stop
 * once every channel they serve has ended (or the job stops).
 *
 * Bundles: a round of the sender takes what every outbound channel has (and its credits
 * allow) and packs the batches for one process into one message, so that the many small
 * batches of a busy job (a watermark-only batch per channel and second, in the DEBS job)
 * cost one transport message per round, not one each; the busier the job, the fuller the
 * bundles. A bundle never holds a batch that fills it alone: such a batch goes as itself.
 *
 * Wire form of a message of a data channel c (< STROM_CHAN_BUNDLE): one batch of c.
 * Of a bundle (channel STROM_CHAN_BUNDLE), one or more of:
 *
 *   offset  size  field
 *   0       4     c, the batch's channel (< STROM_CHAN_BUNDLE)
 *   4       4     k, the batch's length
 *   8       k     the batch
 *
 * Of credits (channel STROM_CHAN_CREDIT), one or more of:
 *
 *   0       4     c, a channel the receiver of the credits sends on
 *   4       4     n (> 0), batches of c the consumer has returned
 *
 * Wire form of a batch (little endian):
 *
 *   offset  size  field
 *   0       4     n, events (<= the job's batch_events)
 *   4       4     flags: STROM_BATCH_WM | STROM_BATCH_END | STROM_BATCH_BARRIER, nothing else
 *   8       8     watermark (signed)
 *   16      8     barrier
 *   24      40*n  events: key u64, time i64, v[0..2] i64
 *
 * exactly 24 + 40 n bytes.
 *
 * Control messages (channel STROM_CHAN_CTL | kind; kinds in runtime_int.h, the checkpoint
 * protocol they serve in checkpoint.c), little endian, every one exactly as long as its
 * kind says (BLOBS: at most STROM_CTL_MAX bytes):
 *
 *   offset  size  field
 *   0       4     from: the sending process (< procs, not the receiver)
 *   ABORT      4  4  code: why the sender's job failed (negative)
 *   HELLO      4  8  n: the checkpoint the sender resumed from (0: none)
 *   BEGIN      4  8  n (> 0)
 *   COMMITTED  4  8  n (> 0)
 *   DONE       4  4  code: 0, the sender finished and committed; else why not (negative)
 *   BLOBS      4  8  n (> 0)
 *              12 4  flags: 1 = the last fragment, nothing else
 *              16 k  a fragment of the export of the sender's blobs of n (strom/ckpt.h)
 *
 * They go out on the receiver thread, which also sends the credits: queued by whoever
 * sends them (strom_rt__ctl_send), sent without waiting in the order queued, what the
 * transport cannot take now on the next round. A process ends its receiver thread once
 * its control protocol is over too (strom_rt__ctl_done), after what it queued has gone.
 * A process whose job fails sends ABORT to every other, so that none waits for it; the
 * others fail with its code. A process whose job stops reads on, throwing away, until its
 * sender thread has stopped, so that two stopping processes never wait in a send for each
 * other to read.
 *
 * Threads: the sender and the receiver thread, each the only one to call its side of the
 * transport.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/le.h"
#include "runtime/runtime_int.h"
#include "strom/error.h"

/* A control message waiting for the receiver thread to send it. */
struct ctl_out {
    struct ctl_out *next;
    unsigned proc;
    uint32_t chan;
    size_t len;
    uint8_t bytes[];
};

struct strom_remote {
    struct strom_dist_config cfg;
    _Atomic int32_t *credit; /* per channel: batches the sender may still send */
    uint32_t *acked;         /* per channel: returned batches already credited back */
    unsigned *in_chans;      /* the inbound channels, grouped by sending process */
    unsigned window;         /* batches a channel between processes holds: its credits */
    unsigned n_in;
    pthread_t sender, receiver;
    bool sender_started, receiver_started;
    _Atomic bool sender_done; /* every outbound channel has sent its end (or it failed) */
    _Atomic bool ctl_done;    /* this process's control protocol is over */
    bool peer_failed;         /* the receiver's: an ABORT came (not to be echoed) */
    uint8_t **sbuf;           /* the sender's: a bundle being filled per process (cap bytes;
                               * NULL for one this process sends nothing to) */
    size_t *slen;             /* the sender's: bytes in each process's bundle */
    unsigned *scount;         /* the sender's: batches in it */
    uint32_t *sfirst;         /* the sender's: the channel of its first batch */
    uint8_t *rbuf;            /* the receiver's: one message */
    uint8_t *cbuf;            /* the receiver's: credits for one process */
    size_t cap;
    pthread_mutex_t out_lock; /* guards the queue of control messages */
    struct ctl_out *out_head, *out_tail;
};

#define KNOWN_FLAGS (STROM_BATCH_WM | STROM_BATCH_END | STROM_BATCH_BARRIER)
#define PEER_GONE_GRACE_MS 1000
/* A channel between processes has rings (and credits) this many times ring_batches long, at
 * most REMOTE_RING_MAX: a batch and its credit take a round trip between processes, where
 * the rings in one process hand a batch over in a moment. */
#define REMOTE_RING_FACTOR 8
#define REMOTE_RING_MAX (1u << 16)

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

int strom_rt__batch_decode(const uint8_t *p, size_t len, unsigned max_events, struct strom_batch *b)
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

int strom_rt__bundle_next(const uint8_t *p, size_t len, size_t *off, uint32_t *chan,
                          const uint8_t **batch, size_t *blen)
{
    uint32_t k;
    if (*off == len)
        return 0;
    if (*off > len || len - *off < 8)
        return STROM_E_CORRUPT;
    *chan = strom_le_get32(p + *off);
    k = strom_le_get32(p + *off + 4);
    if (*chan >= STROM_CHAN_BUNDLE || k > len - *off - 8)
        return STROM_E_CORRUPT;
    *batch = p + *off + 8;
    *blen = k;
    *off += 8 + (size_t)k;
    return 1;
}

int strom_rt__credits_next(const uint8_t *p, size_t len, size_t *off, uint32_t *chan, uint32_t *n)
{
    if (*off == len)
        return *off ? 0 : STROM_E_CORRUPT; /* never empty */
    if (*off > len || len - *off < 8)
        return STROM_E_CORRUPT;
    *chan = strom_le_get32(p + *off);
    *n = strom_le_get32(p + *off + 4);
    if (*chan >= STROM_CHAN_BUNDLE || !*n)
        return STROM_E_CORRUPT;
    *off += 8;
    return 1;
}

size_t strom_job_batch_wire_max(const struct strom_job *job)
{
    size_t b = STROM_BATCH_WIRE_HDR + (size_t)job->cfg.batch_events * STROM_EVENT_WIRE;
    return b > STROM_CTL_MAX ? b : STROM_CTL_MAX;
}

/* Control messages' payload lengths by kind; BLOBS: its header. */
static const size_t ctl_len[STROM_CTL_KINDS] = {
    [STROM_CTL_ABORT] = 8,      [STROM_CTL_HELLO] = 12,
    [STROM_CTL_BEGIN] = 12,     [STROM_CTL_BLOBS] = STROM_CTL_BLOBS_HDR,
    [STROM_CTL_COMMITTED] = 12, [STROM_CTL_DONE] = 8};

size_t strom_rt__ctl_encode(const struct strom_ctl *m, uint8_t *out)
{
    strom_le_put32(out, m->from);
    switch (m->kind) {
    case STROM_CTL_ABORT:
    case STROM_CTL_DONE:
        strom_le_put32(out + 4, (uint32_t)m->code);
        return 8;
    case STROM_CTL_BLOBS:
        strom_le_put64(out + 4, m->n);
        strom_le_put32(out + 12, m->last ? 1u : 0u);
        memcpy(out + STROM_CTL_BLOBS_HDR, m->data, m->len);
        return STROM_CTL_BLOBS_HDR + m->len;
    default: /* HELLO, BEGIN, COMMITTED */
        strom_le_put64(out + 4, m->n);
        return 12;
    }
}

int strom_rt__ctl_decode(uint32_t kind, const uint8_t *p, size_t len, unsigned procs, unsigned self,
                         struct strom_ctl *m)
{
    uint32_t flags;

    if (kind == 0 || kind >= STROM_CTL_KINDS || len < 4)
        return STROM_E_CORRUPT;
    if (kind == STROM_CTL_BLOBS ? len < STROM_CTL_BLOBS_HDR || len > STROM_CTL_MAX
                                : len != ctl_len[kind])
        return STROM_E_CORRUPT;
    *m = (struct strom_ctl){.kind = kind, .from = strom_le_get32(p)};
    if (m->from >= procs || m->from == self)
        return STROM_E_CORRUPT;
    switch (kind) {
    case STROM_CTL_ABORT:
    case STROM_CTL_DONE:
        m->code = (int32_t)strom_le_get32(p + 4);
        if (m->code > 0 || (kind == STROM_CTL_ABORT && m->code == 0))
            return STROM_E_CORRUPT;
        return 0;
    case STROM_CTL_BLOBS:
        m->n = strom_le_get64(p + 4);
        flags = strom_le_get32(p + 12);
        if (!m->n || (flags & ~1u))
            return STROM_E_CORRUPT;
        m->last = flags & 1u;
        m->data = p + STROM_CTL_BLOBS_HDR;
        m->len = len - STROM_CTL_BLOBS_HDR;
        return 0;
    default: /* HELLO, BEGIN, COMMITTED */
        m->n = strom_le_get64(p + 4);
        return kind != STROM_CTL_HELLO && !m->n ? STROM_E_CORRUPT : 0;
    }
}

int strom_rt__ctl_send(struct strom_job *job, unsigned proc, struct strom_ctl *m)
{
    struct strom_remote *r = job->remote;
    struct ctl_out *o = malloc(sizeof *o + STROM_CTL_MAX);

    if (!o)
        return -ENOMEM;
    m->from = r->cfg.self;
    o->next = NULL;
    o->proc = proc;
    o->chan = STROM_CHAN_CTL | m->kind;
    o->len = strom_rt__ctl_encode(m, o->bytes);
    pthread_mutex_lock(&r->out_lock);
    if (r->out_tail)
        r->out_tail->next = o;
    else
        r->out_head = o;
    r->out_tail = o;
    pthread_mutex_unlock(&r->out_lock);
    return 0;
}

void strom_rt__ctl_done(struct strom_job *job)
{
    if (job->remote)
        atomic_store(&job->remote->ctl_done, true);
}

unsigned strom_rt__self(const struct strom_job *job)
{
    return job->remote ? job->remote->cfg.self : 0;
}

unsigned strom_rt__procs(const struct strom_job *job)
{
    return job->remote ? job->remote->cfg.procs : 1;
}

int strom_job_set_distributed(struct strom_job *job, const struct strom_dist_config *dc)
{
    if (!job || !dc || !dc->place || !dc->transport.send || !dc->transport.recv || dc->procs == 0 ||
        dc->self >= dc->procs)
        return STROM_E_INVAL;
    if (job->started || job->remote)
        return strom_rt__set_error(job, STROM_E_BADSTATE,
                                   "a distributed run is set up before start, once");
    if (job->cp) /* the store was opened for one process */
        return strom_rt__set_error(job, STROM_E_BADSTATE,
                                   "a distributed run is set up before its checkpoints");
    if (!(job->remote = calloc(1, sizeof *job->remote)))
        return -ENOMEM;
    job->remote->cfg = *dc;
    pthread_mutex_init(&job->remote->out_lock, NULL);
    return 0;
}

/* Inbound channel indexes by their sending process, then index. */
static int by_sender(const void *a, const void *b, void *arg)
{
    const struct strom_job *job = arg;
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    unsigned px = job->chans[x]->from->proc, py = job->chans[y]->from->proc;
    return px != py ? (px < py ? -1 : 1) : (x > y) - (x < y);
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
    if (job->n_chans >= STROM_CHAN_BUNDLE) /* the ids above are reserved */
        return strom_rt__set_error(job, STROM_E_GRAPH,
                                   "%u channels: a distributed run has fewer than %u", job->n_chans,
                                   STROM_CHAN_BUNDLE);
    /* without checkpoints there is no control protocol to wait for */
    atomic_init(&r->ctl_done, job->cp == NULL);
    for (unsigned i = 0; i < job->n_all; i++) {
        struct strom_ctx *c = job->all[i];
        c->proc = r->cfg.place(r->cfg.place_arg, c->node->name, c->idx, c->node->par);
        if (c->proc >= r->cfg.procs)
            return strom_rt__set_error(job, STROM_E_INVAL,
                                       "'%s' instance %u placed on process %u of %u", c->node->name,
                                       c->idx, c->proc, r->cfg.procs);
        /* this process's threads share its own instances; the others' run elsewhere */
        c->thread = c->proc == r->cfg.self ? local++ % job->cfg.threads : UINT32_MAX;
    }
    r->cap = strom_job_batch_wire_max(job);
    if (!(r->sbuf = calloc(r->cfg.procs, sizeof *r->sbuf)) ||
        !(r->slen = calloc(r->cfg.procs, sizeof *r->slen)) ||
        !(r->scount = calloc(r->cfg.procs, sizeof *r->scount)) ||
        !(r->sfirst = calloc(r->cfg.procs, sizeof *r->sfirst)) || !(r->rbuf = malloc(r->cap)) ||
        !(r->cbuf = malloc(r->cap)) || !(r->credit = calloc(job->n_chans + 1, sizeof *r->credit)) ||
        !(r->acked = calloc(job->n_chans + 1, sizeof *r->acked)) ||
        !(r->in_chans = calloc(job->n_chans + 1, sizeof *r->in_chans)))
        return -ENOMEM;
    r->window = job->cfg.ring_batches * REMOTE_RING_FACTOR;
    if (r->window > REMOTE_RING_MAX)
        r->window = REMOTE_RING_MAX;
    for (unsigned i = 0; i < job->n_chans; i++) {
        struct strom_chan *ch = job->chans[i];
        int rc;
        if (ch->from->proc != ch->to->proc) {
            /* a channel between processes: longer rings (still empty), its credits */
            strom_ring_release(&ch->data);
            strom_ring_release(&ch->free);
            if ((rc = strom_ring_init(&ch->data, r->window)) ||
                (rc = strom_ring_init(&ch->free, r->window)))
                return rc;
        }
        atomic_init(&r->credit[i], (int32_t)r->window);
        ch->counted = ch->from->proc != r->cfg.self && ch->to->proc == r->cfg.self;
        if (ch->counted)
            r->in_chans[r->n_in++] = i;
        if (ch->from->proc == r->cfg.self && ch->to->proc != r->cfg.self &&
            !r->sbuf[ch->to->proc] && !(r->sbuf[ch->to->proc] = malloc(r->cap)))
            return -ENOMEM;
    }
    /* a quarter of a channel's credits returned: the receiver thread sends them at once */
    job->credit_kick = r->window / 4 ? r->window / 4 : 1;
    /* credits go out per process: the inbound channels grouped by their sender */
    qsort_r(r->in_chans, r->n_in, sizeof *r->in_chans, by_sender, job);
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

/* A send failed because the peer has gone (-EPIPE, -ECONNRESET): if it failed, its ABORT
 * may still be on its way to the receiver thread, whose message (the peer's reason) is the
 * one to tell; so give it a moment before failing with the lost connection. */
static void peer_gone_grace(struct strom_job *job, int rc)
{
    struct timespec ts = {0, 1000000};
    for (int k = 0; k < PEER_GONE_GRACE_MS && (rc == -EPIPE || rc == -ECONNRESET) && !stopping(job);
         k++)
        nanosleep(&ts, NULL);
}

/* Sends the bundle for process p: a bundle, or its only batch as itself. */
static int bundle_flush(struct strom_remote *r, unsigned p)
{
    int rc = 0;

    if (r->scount[p] == 1)
        rc = r->cfg.transport.send(r->cfg.transport.arg, p, r->sfirst[p], r->sbuf[p] + 8,
                                   r->slen[p] - 8, 1);
    else if (r->scount[p])
        rc = r->cfg.transport.send(r->cfg.transport.arg, p, STROM_CHAN_BUNDLE, r->sbuf[p],
                                   r->slen[p], 1);
    r->slen[p] = 0;
    r->scount[p] = 0;
    return rc;
}

/* Batch b of channel i into the bundle for its process; one too big to share a message goes
 * as itself, after what the bundle holds. */
static int bundle_add(struct strom_job *job, unsigned i, const struct strom_batch *b)
{
    struct strom_remote *r = job->remote;
    unsigned p = job->chans[i]->to->proc;
    size_t need = STROM_BATCH_WIRE_HDR + (size_t)b->n * STROM_EVENT_WIRE;
    uint8_t *at;
    int rc;

    if (r->slen[p] + 8 + need > r->cap) {
        if ((rc = bundle_flush(r, p)))
            return rc;
        if (8 + need > r->cap) {
            strom_rt__batch_encode(b, r->sbuf[p]);
            return r->cfg.transport.send(r->cfg.transport.arg, p, i, r->sbuf[p], need, 1);
        }
    }
    at = r->sbuf[p] + r->slen[p];
    strom_le_put32(at, i);
    strom_le_put32(at + 4, (uint32_t)need);
    strom_rt__batch_encode(b, at + 8);
    r->slen[p] += 8 + need;
    if (!r->scount[p]++)
        r->sfirst[p] = i;
    return 0;
}

/* Takes the batches of outbound channels off their rings and sends them, a bundle per
 * process and round, until every outbound channel has sent its end. */
static void *sender_main(void *arg)
{
    struct strom_job *job = arg;
    struct strom_remote *r = job->remote;
    unsigned idle = 0, left = 0;
    bool *ended = calloc(job->n_chans ? job->n_chans : 1, sizeof *ended);
    int rc = 0;

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
                bool end = b->flags & STROM_BATCH_END;
                rc = bundle_add(job, i, b);
                atomic_fetch_sub_explicit(&r->credit[i], 1, memory_order_relaxed);
                strom_rt__batch_done(job, ch, b);
                if (rc) {
                    peer_gone_grace(job, rc);
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
        for (unsigned p = 0; p < r->cfg.procs; p++)
            if (r->scount[p] && (rc = bundle_flush(r, p))) {
                peer_gone_grace(job, rc);
                thread_fail(job, rc, "sending batches to another process", r->sfirst[p]);
                goto out;
            }
        idle = progress ? 0 : idle + 1;
        if (idle)
            strom_rt__backoff(idle);
    }
out:
    free(ended);
    atomic_store(&r->sender_done, true);
    return NULL;
}

/* Sends the credits in r->cbuf (k pairs) to process p and counts them as given; what the
 * transport cannot take now goes on the next round. */
static int credits_flush(struct strom_remote *r, unsigned p, size_t k)
{
    int rc;

    if (!k)
        return 0;
    rc = r->cfg.transport.send(r->cfg.transport.arg, p, STROM_CHAN_CREDIT, r->cbuf, 8 * k, 0);
    if (rc == -EAGAIN)
        return 0;
    /* A sender that has sent its end may be gone before its end is read here: it needs no
     * more credits. (One that died before its end leaves the channel short of its end,
     * which the job does not survive.) */
    if (rc && rc != -EPIPE && rc != -ECONNRESET)
        return rc;
    for (size_t j = 0; j < k; j++)
        r->acked[strom_le_get32(r->cbuf + 8 * j)] += strom_le_get32(r->cbuf + 8 * j + 4);
    return 0;
}

/* Credits back for the batches that consumers have returned, one message per process. */
static int give_credits(struct strom_job *job, const bool *ended)
{
    struct strom_remote *r = job->remote;
    size_t k = 0, max = r->cap / 8;
    unsigned to = 0;
    int rc;

    for (unsigned j = 0; j < r->n_in; j++) {
        unsigned i = r->in_chans[j];
        struct strom_chan *ch = job->chans[i];
        uint32_t n;
        if (ended[i]) /* after its end, the sender needs no credit */
            continue;
        if (!(n = atomic_load_explicit(&ch->returned, memory_order_acquire) - r->acked[i]))
            continue;
        if (k && (ch->from->proc != to || k == max)) {
            if ((rc = credits_flush(r, to, k)))
                return rc;
            k = 0;
        }
        to = ch->from->proc;
        strom_le_put32(r->cbuf + 8 * k, i);
        strom_le_put32(r->cbuf + 8 * k + 4, n);
        k++;
    }
    return credits_flush(r, to, k);
}

/* Sends the queued control messages, in order, until the transport cannot take one now.
 * One for a process that has gone is dropped: it has ended and needs nothing more. */
static int flush_ctl(struct strom_job *job)
{
    struct strom_remote *r = job->remote;
    int rc = 0;

    pthread_mutex_lock(&r->out_lock);
    while (r->out_head) {
        struct ctl_out *o = r->out_head;
        rc = r->cfg.transport.send(r->cfg.transport.arg, o->proc, o->chan, o->bytes, o->len, 0);
        if (rc == -EAGAIN) {
            rc = 0;
            break;
        }
        if (rc && rc != -EPIPE && rc != -ECONNRESET)
            break;
        rc = 0;
        if (!(r->out_head = o->next))
            r->out_tail = NULL;
        free(o);
    }
    pthread_mutex_unlock(&r->out_lock);
    return rc;
}

static bool ctl_pending(struct strom_remote *r)
{
    bool pending;
    pthread_mutex_lock(&r->out_lock);
    pending = r->out_head != NULL;
    pthread_mutex_unlock(&r->out_lock);
    return pending;
}

/* The job has failed here: tell every other process, as far as the transport takes it
 * within a moment (a peer that does not read is failing too, or gone). */
static void broadcast_abort(struct strom_job *job)
{
    struct strom_remote *r = job->remote;
    struct strom_ctl m = {
        .kind = STROM_CTL_ABORT, .from = r->cfg.self, .code = atomic_load(&job->result)};
    uint8_t b[16];
    size_t len;

    if (m.code >= 0)
        m.code = STROM_E_BADSTATE;
    len = strom_rt__ctl_encode(&m, b);
    for (unsigned p = 0; p < r->cfg.procs; p++) {
        if (p == r->cfg.self)
            continue;
        for (int tries = 0; tries < 100; tries++) {
            struct timespec ts = {0, 1000000};
            if (r->cfg.transport.send(r->cfg.transport.arg, p, STROM_CHAN_CTL | STROM_CTL_ABORT, b,
                                      len, 0) != -EAGAIN)
                break;
            nanosleep(&ts, NULL);
        }
    }
}

/* A control message: ABORT here, the checkpoint protocol's to checkpoint.c. */
static int on_ctl(struct strom_job *job, uint32_t kind, size_t len)
{
    struct strom_remote *r = job->remote;
    struct strom_ctl m;
    int rc = strom_rt__ctl_decode(kind, r->rbuf, len, r->cfg.procs, r->cfg.self, &m);

    if (rc)
        return strom_rt__set_error(job, rc,
                                   "a malformed control message (kind %u, %zu bytes) "
                                   "from another process",
                                   kind, len);
    if (kind == STROM_CTL_ABORT) {
        r->peer_failed = true;
        return strom_rt__set_error(job, m.code, "process %u failed: %s", m.from,
                                   strom_strerror(m.code));
    }
    return strom_rt__cp_control(job, &m);
}

/* Credits for this process's outbound channels, len bytes in r->rbuf. */
static int take_credits(struct strom_job *job, size_t len)
{
    struct strom_remote *r = job->remote;
    size_t off = 0;
    uint32_t c, n;
    int rc;

    while ((rc = strom_rt__credits_next(r->rbuf, len, &off, &c, &n)) == 1) {
        if (c >= job->n_chans || !outbound(r, job->chans[c]) || n > r->window)
            return STROM_E_CORRUPT;
        atomic_fetch_add_explicit(&r->credit[c], (int32_t)n, memory_order_release);
    }
    return rc;
}

/* A batch of channel chan, len bytes: onto the channel's data ring (the credits leave
 * room). */
static int on_batch(struct strom_job *job, bool *ended, unsigned *left, uint32_t chan,
                    const uint8_t *bytes, size_t len)
{
    struct strom_remote *r = job->remote;
    struct strom_chan *ch;
    struct strom_batch *b;
    int rc;

    if (chan >= job->n_chans || !inbound(r, job->chans[chan]) || ended[chan])
        return STROM_E_CORRUPT; /* a batch for a channel this process does not read */
    ch = job->chans[chan];
    if (!(b = strom_rt__batch_get(ch)))
        return -ENOMEM;
    if ((rc = strom_rt__batch_decode(bytes, len, job->cfg.batch_events, b))) {
        strom_rt__batch_done(job, ch, b);
        return rc;
    }
    if (b->flags & STROM_BATCH_END) {
        ended[chan] = true;
        (*left)--;
    }
    if (strom_ring_push(&ch->data, b)) { /* more batches than credits: a broken peer */
        free(b);
        return STROM_E_CORRUPT;
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
    bool *ended = calloc(job->n_chans ? job->n_chans : 1, sizeof *ended), aborted = false;

    if (!ended) {
        thread_fail(job, -ENOMEM, "the receiver thread", 0);
        goto out;
    }
    for (unsigned i = 0; i < job->n_chans; i++)
        left += inbound(r, job->chans[i]);
    for (;;) {
        uint32_t chan = 0;
        size_t len = 0;
        int rc;
        if (stopping(job)) { /* failures below stop the job and come here */
            if (!aborted && atomic_load(&job->result) && !r->peer_failed)
                broadcast_abort(job);
            aborted = true;
            /* This process's sender may be stuck in a send to a peer that waits, stuck in
             * a send too, for this process to read: read on, throwing away, until the
             * sender has stopped. */
            if (atomic_load(&r->sender_done))
                break;
            rc = r->cfg.transport.recv(r->cfg.transport.arg, &chan, r->rbuf, r->cap, &len, 1);
            if (rc && rc != -EAGAIN) {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL); /* nothing left to read: the sender's send fails */
            }
            continue;
        }
        if ((rc = give_credits(job, ended))) {
            thread_fail(job, rc, "returning credits to another process", 0);
            continue;
        }
        if ((rc = flush_ctl(job))) {
            thread_fail(job, rc, "sending a control message to another process", 0);
            continue;
        }
        /* done when nothing more comes in, the sender is done (it needs our credits) and
         * so is the control protocol, with what it sent */
        if (!left && atomic_load(&r->sender_done) && atomic_load(&r->ctl_done) && !ctl_pending(r))
            break;
        rc = r->cfg.transport.recv(r->cfg.transport.arg, &chan, r->rbuf, r->cap, &len, 1);
        if (rc == -EAGAIN)
            continue;
        if (rc == -ECONNRESET && !left && !strom_rt__cp_expecting(job)) {
            /* every peer has gone, and none owes this process anything: what is left
             * is this process's own end (its checkpoints' part of it) */
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (rc) {
            thread_fail(job, rc, "receiving from another process", chan);
            continue;
        }
        if (chan == STROM_CHAN_CREDIT) {
            if ((rc = take_credits(job, len)))
                thread_fail(job, rc, "credits for a channel this process does not send on", 0);
            continue;
        }
        if (!(chan & STROM_CHAN_CREDIT) && (chan & STROM_CHAN_CTL)) {
            if ((rc = on_ctl(job, chan & ~STROM_CHAN_CTL, len)))
                strom_rt__fail(job, rc); /* on_ctl has said why */
            continue;
        }
        if (chan == STROM_CHAN_BUNDLE) {
            size_t off = 0, blen;
            const uint8_t *bytes;
            uint32_t c = 0;
            while ((rc = strom_rt__bundle_next(r->rbuf, len, &off, &c, &bytes, &blen)) == 1 &&
                   !(rc = on_batch(job, ended, &left, c, bytes, blen)))
                ;
            if (rc < 0)
                thread_fail(job, rc, "a malformed bundle of batches from another process", c);
            continue;
        }
        if ((rc = on_batch(job, ended, &left, chan, r->rbuf, len)))
            thread_fail(job, rc, "a malformed batch from another process", chan);
    }
out:
    if (!aborted && atomic_load(&job->result) && !r->peer_failed)
        broadcast_abort(job);
    free(ended);
    return NULL;
}

void strom_rt__remote_wake(struct strom_job *job)
{
    struct strom_remote *r = job->remote;
    if (r->cfg.transport.wake)
        r->cfg.transport.wake(r->cfg.transport.arg);
}

int strom_rt__remote_start(struct strom_job *job)
{
    struct strom_remote *r = job->remote;
    int rc;
    if (!r)
        return 0;
    /* not counted in job->running: they end after the worker threads, once strom_job_wait
     * has settled the end of the checkpoints with the other processes */
    if ((rc = -pthread_create(&r->sender, NULL, sender_main, job)))
        return rc;
    r->sender_started = true;
    if ((rc = -pthread_create(&r->receiver, NULL, receiver_main, job)))
        return rc;
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
    for (unsigned p = 0; r->sbuf && p < r->cfg.procs; p++)
        free(r->sbuf[p]);
    free(r->sbuf);
    free(r->slen);
    free(r->scount);
    free(r->sfirst);
    free(r->rbuf);
    free(r->cbuf);
    free(r->in_chans);
    free((void *)r->credit);
    free(r->acked);
    while (r->out_head) {
        struct ctl_out *o = r->out_head;
        r->out_head = o->next;
        free(o);
    }
    pthread_mutex_destroy(&r->out_lock);
    free(r);
    job->remote = NULL;
}
