/*
 * runtime/exec.c: worker threads, the scheduling loop, batch flow, watermarks, pausing.
 * (The structures and the rules they follow are explained in runtime_int.h.)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/runtime_int.h"
#include "state/state.h"
#include "strom/error.h"

/* Input batches an instance consumes in one turn before the thread moves on: enough to
 * amortize the turn, few enough that the instances of a thread share it fairly. */
#define STROM_TURN_BATCHES 8

struct strom_batch *strom_rt__batch_get(struct strom_chan *ch)
{
    struct strom_batch *b = strom_ring_pop(&ch->free);
    if (!b) {
        b = malloc(ch->from->job->batch_bytes);
        if (!b)
            return NULL;
    }
    b->next = NULL;
    b->n = 0;
    b->flags = 0;
    b->watermark = STROM_TIME_MIN;
    b->barrier = 0;
    atomic_fetch_add(&ch->from->job->busy, 1);
    return b;
}

void strom_rt__batch_done(struct strom_job *job, struct strom_chan *ch, struct strom_batch *b)
{
    /* its producer is in another process: the return is a credit, and every so many of
     * them the receiver thread is woken to send them at once */
    if (ch->counted) {
        uint32_t ret = atomic_fetch_add_explicit(&ch->returned, 1, memory_order_release) + 1;
        if (ret % job->credit_kick == 0)
            strom_rt__remote_wake(job);
    }
    if (strom_ring_push(&ch->free, b))
        free(b);
    /* release: whoever sees busy drop to zero sees everything this batch caused */
    atomic_fetch_sub(&job->busy, 1);
}

/* Push the channel's open batch, or queue it behind those already waiting. */
void strom_rt__send(struct strom_ctx *ctx, struct strom_chan *ch)
{
    struct strom_batch *b = ch->open;
    ch->open = NULL;
    atomic_fetch_add_explicit(&ctx->job->batches, 1, memory_order_relaxed);
    if (!ch->ovf_head && !strom_ring_push(&ch->data, b))
        return;
    if (ch->ovf_tail)
        ch->ovf_tail->next = b;
    else
        ch->ovf_head = b;
    ch->ovf_tail = b;
    ctx->n_ovf++;
}

/* Try to move overflowing batches into their rings; true when none is left waiting. */
static bool drain_overflow(struct strom_ctx *ctx)
{
    for (unsigned k = 0; k < ctx->n_out && ctx->n_ovf; k++) {
        struct strom_out *o = &ctx->out[k];
        for (unsigned j = 0; j < o->to->par; j++) {
            struct strom_chan *ch = o->dest[j];
            if (!ch)
                continue;
            while (ch->ovf_head) {
                /* once pushed, the batch belongs to the consumer: read next before */
                struct strom_batch *b = ch->ovf_head, *next = b->next;
                if (strom_ring_push(&ch->data, b))
                    break;
                ch->ovf_head = next;
                ctx->n_ovf--;
            }
            if (!ch->ovf_head)
                ch->ovf_tail = NULL;
        }
    }
    return ctx->n_ovf == 0;
}

/* Push partly filled batches, so that an idle producer never holds events back. */
static void flush_open(struct strom_ctx *ctx)
{
    for (unsigned k = 0; k < ctx->n_out; k++) {
        struct strom_out *o = &ctx->out[k];
        for (unsigned j = 0; j < o->to->par; j++)
            if (o->dest[j] && o->dest[j]->open)
                strom_rt__send(ctx, o->dest[j]);
    }
}

/* Append a watermark or end mark to every output channel and send. */
int strom_rt__mark_all(struct strom_ctx *ctx, uint32_t flag, int64_t watermark)
{
    for (unsigned k = 0; k < ctx->n_out; k++) {
        struct strom_out *o = &ctx->out[k];
        for (unsigned j = 0; j < o->to->par; j++) {
            struct strom_chan *ch = o->dest[j];
            if (!ch)
                continue;
            if (!ch->open && !(ch->open = strom_rt__batch_get(ch)))
                return -ENOMEM;
            ch->open->flags |= flag;
            ch->open->watermark = watermark;
            strom_rt__send(ctx, ch);
        }
    }
    return 0;
}

/* Append barrier n to every output channel, in a batch of its own, and send. */
int strom_rt__mark_barrier(struct strom_ctx *ctx, uint64_t n)
{
    for (unsigned k = 0; k < ctx->n_out; k++) {
        struct strom_out *o = &ctx->out[k];
        for (unsigned j = 0; j < o->to->par; j++) {
            struct strom_chan *ch = o->dest[j];
            if (!ch)
                continue;
            if (ch->open)
                strom_rt__send(ctx, ch);
            if (!(ch->open = strom_rt__batch_get(ch)))
                return -ENOMEM;
            ch->open->flags |= STROM_BATCH_BARRIER;
            ch->open->barrier = n;
            strom_rt__send(ctx, ch);
        }
    }
    return 0;
}

static int fail(struct strom_ctx *ctx, int rc, const char *what)
{
    if (!ctx->msg_set)
        strom_rt__set_error(ctx->job, rc, "%s of '%s' (%s, instance %u) failed: %s", what,
                            ctx->node->name, ctx->node->op->kind ? ctx->node->op->kind : "?",
                            ctx->idx, strom_strerror(rc));
    return strom_rt__fail(ctx->job, rc);
}

/* The input watermark is the minimum over the input channels; when it advances, fire the
 * timers it reaches, tell the operator, and pass it on. */
static int advance(struct strom_ctx *ctx)
{
    const struct strom_operator *op = ctx->node->op;
    int64_t wm = STROM_TIME_MAX;
    uint64_t key, ns;
    int64_t t;
    int rc;

    for (unsigned i = 0; i < ctx->n_in; i++)
        if (ctx->in[i]->watermark < wm)
            wm = ctx->in[i]->watermark;
    if (wm <= ctx->watermark)
        return 0;
    ctx->watermark = wm;
    if (ctx->ks)
        while (strom_kstate_timer_pop(ctx->ks, wm, &key, &ns, &t) == 1)
            if (op->on_timer && (rc = op->on_timer(ctx, key, ns, t)))
                return fail(ctx, rc, "on_timer");
    if (op->on_watermark && (rc = op->on_watermark(ctx, wm)))
        return fail(ctx, rc, "on_watermark");
    if (wm == STROM_TIME_MAX)
        return 0; /* the end mark follows */
    return strom_rt__mark_all(ctx, STROM_BATCH_WM, wm);
}

static int finish(struct strom_ctx *ctx)
{
    const struct strom_operator *op = ctx->node->op;
    int rc;
    if (op->finish && (rc = op->finish(ctx)))
        return fail(ctx, rc, "finish");
    ctx->finished = true;
    return strom_rt__mark_all(ctx, STROM_BATCH_END, STROM_TIME_MAX);
}

/* A barrier newer than the last one passed has come on some input: once it has come on
 * every input that has not ended, snapshot and pass it on; that unblocks the inputs. */
static int align(struct strom_ctx *ctx)
{
    uint64_t n = 0;
    int rc;
    for (unsigned i = 0; i < ctx->n_in; i++)
        if (ctx->in[i]->barrier > ctx->barrier_done && ctx->in[i]->barrier > n)
            n = ctx->in[i]->barrier;
    if (!n)
        return 0;
    for (unsigned i = 0; i < ctx->n_in; i++)
        if (!ctx->in[i]->ended && ctx->in[i]->barrier < n)
            return 0;
    if ((rc = strom_rt__barrier(ctx, n)))
        return fail(ctx, rc, "checkpoint");
    return 0;
}

static int consume(struct strom_ctx *ctx, struct strom_chan *ch, struct strom_batch *b)
{
    int rc = 0;
    if (b->n) {
        ctx->events_in += b->n;
        if ((rc = ctx->node->op->process(ctx, b->ev, b->n)))
            rc = fail(ctx, rc, "process");
    }
    if (!rc && (b->flags & STROM_BATCH_WM)) {
        if (b->watermark > ch->watermark)
            ch->watermark = b->watermark;
        rc = advance(ctx);
    }
    if (!rc && (b->flags & STROM_BATCH_BARRIER))
        ch->barrier = b->barrier;
    if (!rc && (b->flags & STROM_BATCH_END)) {
        ch->watermark = STROM_TIME_MAX;
        ch->ended = true;
        if (++ctx->n_ended == ctx->n_in && !(rc = advance(ctx)))
            rc = finish(ctx);
    }
    if (!rc && (b->flags & (STROM_BATCH_BARRIER | STROM_BATCH_END)) && !ctx->finished)
        rc = align(ctx);
    strom_rt__batch_done(ctx->job, ch, b);
    return rc;
}

static int source_step(struct strom_ctx *ctx, bool *progress)
{
    struct strom_job *job = ctx->job;
    int rc;

    /* busy before paused: see "Pausing" in runtime_int.h */
    atomic_fetch_add(&job->busy, 1);
    if (atomic_load(&job->paused)) {
        atomic_fetch_sub(&job->busy, 1);
        flush_open(ctx); /* the pause waits for these batches too */
        return 0;
    }
    *progress = true;
    rc = ctx->node->op->produce(ctx);
    if (rc == STROM_END) {
        ctx->source_done = true;
        ctx->watermark = STROM_TIME_MAX;
        rc = finish(ctx);
    } else if (rc) {
        rc = fail(ctx, rc, "produce");
    }
    atomic_fetch_sub(&job->busy, 1);
    return rc;
}

/* One turn of one instance. */
static int step(struct strom_ctx *ctx, bool *progress)
{
    unsigned taken = 0;
    int rc;

    if (ctx->n_ovf) {
        if (!drain_overflow(ctx)) {
            ctx->stalls++;
            return 0;
        }
        *progress = true;
    }
    if (ctx->finished) /* it had only its last batches to hand over */
        return 0;
    if (ctx->node->op->produce)
        return source_step(ctx, progress);
    while (taken < STROM_TURN_BATCHES && !ctx->n_ovf && !ctx->finished) {
        bool got = false;
        for (unsigned k = 0; k < ctx->n_in && taken < STROM_TURN_BATCHES; k++) {
            struct strom_chan *ch = ctx->in[ctx->next_in];
            /* an input on which a barrier came waits for the others (align) */
            struct strom_batch *b = ch->ended || ch->barrier > ctx->barrier_done
                                        ? NULL
                                        : strom_ring_pop(&ch->data);
            ctx->next_in = ctx->next_in + 1 == ctx->n_in ? 0 : ctx->next_in + 1;
            if (!b)
                continue;
            got = true;
            taken++;
            if ((rc = consume(ctx, ch, b)))
                return rc;
            if (ctx->n_ovf || ctx->finished)
                break;
        }
        if (!got)
            break;
    }
    if (taken)
        *progress = true;
    else
        flush_open(ctx);
    return 0;
}

struct worker {
    struct strom_job *job;
    unsigned id;
};

void strom_rt__backoff(unsigned idle)
{
    if (idle < 32) {
        sched_yield();
    } else {
        unsigned us = idle < 64 ? 20 : idle < 256 ? 100 : 500;
        struct timespec ts = {0, (long)us * 1000};
        nanosleep(&ts, NULL);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct strom_job *job = w->job;
    unsigned id = w->id, idle = 0;

    free(w);
    for (;;) {
        bool progress = false, all_done = true;
        if (atomic_load_explicit(&job->stop, memory_order_relaxed))
            break;
        for (unsigned i = 0; i < job->n_all; i++) {
            struct strom_ctx *c = job->all[i];
            int rc;
            if (c->thread != id || (c->finished && !c->n_ovf))
                continue;
            all_done = false;
            if ((rc = step(c, &progress))) {
                atomic_store(&job->stop, 1);
                break;
            }
        }
        if (all_done)
            break;
        idle = progress ? 0 : idle + 1;
        if (idle)
            strom_rt__backoff(idle);
    }
    atomic_fetch_sub(&job->running, 1);
    return NULL;
}

int strom_rt__start_threads(struct strom_job *job)
{
    unsigned n = job->cfg.threads;
    int rc = 0;

    for (unsigned i = 0; i < job->n_all && !rc; i++) {
        struct strom_ctx *c = job->all[i];
        if (!strom_rt__local(c))
            continue; /* another process runs it */
        if (c->node->op->open && (rc = c->node->op->open(c)))
            rc = fail(c, rc, "open");
        else
            c->opened = true;
    }
    job->threads = calloc(n, sizeof *job->threads);
    if (!rc && !job->threads)
        rc = -ENOMEM;
    job->t_start = strom_rt__now();
    for (unsigned i = 0; i < n && !rc; i++) {
        struct worker *w = malloc(sizeof *w);
        if (!w) {
            rc = -ENOMEM;
            break;
        }
        *w = (struct worker){job, i};
        atomic_fetch_add(&job->running, 1);
        if ((rc = -pthread_create(&job->threads[i], NULL, worker_main, w))) {
            atomic_fetch_sub(&job->running, 1);
            free(w);
            break;
        }
        job->n_threads_started++;
    }
    if (!rc)
        rc = strom_rt__remote_start(job);
    if (rc) {
        strom_rt__set_error(job, rc, "cannot start the job: %s", strom_strerror(rc));
        strom_rt__fail(job, rc);
    }
    return rc;
}

int strom_job_wait(struct strom_job *job)
{
    if (!job || !job->started)
        return STROM_E_BADSTATE;
    if (!job->joined) {
        for (unsigned i = 0; i < job->n_threads_started; i++)
            pthread_join(job->threads[i], NULL);
        job->seconds = strom_rt__now() - job->t_start;
        /* before the remote threads end: in a distributed run the processes settle the
         * end of their checkpoints through them */
        if (job->cp)
            strom_rt__cp_end(job);
        strom_rt__remote_join(job);
        for (unsigned i = 0; i < job->n_all; i++) {
            struct strom_ctx *c = job->all[i];
            if (c->opened && c->node->op->close)
                c->node->op->close(c);
            c->opened = false;
        }
        job->joined = true;
    }
    return atomic_load(&job->result);
}

int strom_job_done(const struct strom_job *job)
{
    return job && job->started &&
           atomic_load(&((struct strom_job *)job)->running) == 0;
}

int strom_job_pause(struct strom_job *job)
{
    bool idle;
    if (!job || !job->started || job->joined)
        return STROM_E_BADSTATE;
    if (job->remote) /* in-flight batches of other processes are not counted here */
        return strom_rt__set_error(job, STROM_E_BADSTATE,
                                   "a distributed run cannot be paused (yet)");
    atomic_store(&job->paused, 1);
    /* Once zero is seen, nothing is in flight; a paused source may still bump the count
     * for an instant afterwards (it looks at the flag after counting itself), so zero is
     * taken as seen, not read again. */
    while (!(idle = atomic_load(&job->busy) == 0) && !atomic_load(&job->stop)) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    job->quiesced = idle && !atomic_load(&job->result);
    return atomic_load(&job->result);
}

int strom_job_resume(struct strom_job *job)
{
    if (!job || !job->started || !atomic_load(&job->paused))
        return STROM_E_BADSTATE;
    job->quiesced = false;
    atomic_store(&job->paused, 0);
    return 0;
}
