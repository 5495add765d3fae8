/*
 * runtime/ctx.c: what operator callbacks call: emitting, keyed state, timers, accessors.
 * strom_emit is the hot path: one key-group lookup and one copy into an open batch per
 * output edge.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/hash.h"
#include "runtime/runtime_int.h"
#include "state/state.h"
#include "strom/error.h"

static inline int append(struct strom_ctx *ctx, struct strom_chan *ch,
                         const struct strom_event *ev)
{
    struct strom_batch *b = ch->open;
    if (!b && !(b = ch->open = strom_rt__batch_get(ch)))
        return -ENOMEM;
    b->ev[b->n++] = *ev;
    if (b->n == ctx->job->cfg.batch_events)
        strom_rt__send(ctx, ch);
    return 0;
}

static inline int emit_out(struct strom_ctx *ctx, struct strom_out *o,
                           const struct strom_event *ev)
{
    int rc = 0;
    switch (o->how) {
    case STROM_BY_KEY: {
        uint32_t kg = strom_hash_keygroup(strom_hash64(ev->key), ctx->job->cfg.key_groups);
        return append(ctx, o->dest[o->to->owner[kg]], ev);
    }
    case STROM_FORWARD:
        return append(ctx, o->dest[ctx->idx], ev);
    case STROM_GLOBAL:
        return append(ctx, o->dest[0], ev);
    case STROM_BROADCAST:
        for (unsigned j = 0; j < o->to->par && !rc; j++)
            rc = append(ctx, o->dest[j], ev);
        break;
    }
    return rc;
}

int strom_emit(struct strom_ctx *ctx, const struct strom_event *ev)
{
    int rc = 0;
    for (unsigned k = 0; k < ctx->n_out && !rc; k++)
        rc = emit_out(ctx, &ctx->out[k], ev);
    return rc;
}

int strom_emit_to(struct strom_ctx *ctx, unsigned port, const struct strom_event *ev)
{
    if (port >= ctx->n_out)
        return strom_ctx_fail(ctx, STROM_E_INVAL, "'%s' has no output port %u (it has %u)",
                              ctx->node->name, port, ctx->n_out);
    return emit_out(ctx, &ctx->out[port], ev);
}

int strom_emit_watermark(struct strom_ctx *ctx, int64_t watermark)
{
    if (!ctx->node->op->produce)
        return strom_ctx_fail(ctx, STROM_E_BADSTATE,
                              "'%s' is not a source; the engine forwards its watermarks",
                              ctx->node->name);
    if (watermark <= ctx->watermark)
        return 0; /* watermarks only advance */
    uint64_t req;
    int rc;
    ctx->watermark = watermark;
    if ((rc = strom_rt__mark_all(ctx, STROM_BATCH_WM, watermark)))
        return rc;
    /* a checkpoint barrier goes right after a watermark: see checkpoint.c */
    req = atomic_load_explicit(&ctx->job->barrier_req, memory_order_acquire);
    if (req > ctx->barrier_done)
        return strom_rt__barrier(ctx, req);
    return 0;
}

static int keygroup_error(struct strom_ctx *ctx, uint64_t key, uint32_t kg)
{
    return strom_ctx_fail(ctx, STROM_E_KEYGROUP,
                          "'%s' instance %u: key %llu is in key group %u, owned by instance "
                          "%u (keyed state needs a by-key input edge)",
                          ctx->node->name, ctx->idx, (unsigned long long)key, kg,
                          ctx->node->owner[kg]);
}

void *strom_state_get(struct strom_ctx *ctx, uint64_t key, uint64_t ns, int create,
                      int *created, int *rc)
{
    uint32_t kg;
    void *rec;

    if (!ctx->ks) {
        *rc = strom_ctx_fail(ctx, STROM_E_BADSTATE,
                             "'%s' declared no state (record_size 0)", ctx->node->name);
        return NULL;
    }
    kg = strom_hash_keygroup(strom_hash64(key), ctx->job->cfg.key_groups);
    rec = strom_kstate_get(ctx->ks, kg, key, ns, create, created, rc);
    if (!rec && *rc == STROM_E_KEYGROUP)
        *rc = keygroup_error(ctx, key, kg);
    return rec;
}

int strom_state_remove(struct strom_ctx *ctx, uint64_t key, uint64_t ns)
{
    uint32_t kg;
    int rc;
    if (!ctx->ks)
        return strom_ctx_fail(ctx, STROM_E_BADSTATE, "'%s' declared no state",
                              ctx->node->name);
    kg = strom_hash_keygroup(strom_hash64(key), ctx->job->cfg.key_groups);
    rc = strom_kstate_remove(ctx->ks, kg, key, ns);
    return rc == STROM_E_KEYGROUP ? keygroup_error(ctx, key, kg) : rc;
}

int strom_state_foreach(struct strom_ctx *ctx,
                        int (*fn)(void *arg, uint64_t key, uint64_t ns, void *rec), void *arg)
{
    return ctx->ks ? strom_kstate_foreach(ctx->ks, fn, arg) : 0;
}

int strom_timer_set(struct strom_ctx *ctx, uint64_t key, uint64_t ns, int64_t time)
{
    uint32_t kg;
    int rc;
    if (!ctx->ks)
        return strom_ctx_fail(ctx, STROM_E_BADSTATE,
                              "'%s' declared no state, and timers are state", ctx->node->name);
    kg = strom_hash_keygroup(strom_hash64(key), ctx->job->cfg.key_groups);
    rc = strom_kstate_timer_add(ctx->ks, kg, key, ns, time);
    return rc == STROM_E_KEYGROUP ? keygroup_error(ctx, key, kg) : rc;
}

void *strom_ctx_arg(const struct strom_ctx *ctx) { return ctx->node->arg; }
void *strom_ctx_local(const struct strom_ctx *ctx) { return ctx->local; }
void strom_ctx_set_local(struct strom_ctx *ctx, void *local) { ctx->local = local; }
unsigned strom_ctx_instance(const struct strom_ctx *ctx) { return ctx->idx; }
unsigned strom_ctx_parallelism(const struct strom_ctx *ctx) { return ctx->node->par; }
const char *strom_ctx_name(const struct strom_ctx *ctx) { return ctx->node->name; }
int64_t strom_ctx_watermark(const struct strom_ctx *ctx) { return ctx->watermark; }

int strom_ctx_fail(struct strom_ctx *ctx, int rc, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ctx->msg_set = true;
    return strom_rt__set_error(ctx->job, rc, "%s", msg);
}
