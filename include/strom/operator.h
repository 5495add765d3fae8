/*
 * strom/operator.h: writing an operator, source or sink.
 *
 * An operator is a static descriptor of callbacks. The engine creates `parallelism`
 * instances of it; each instance runs on one worker thread at a time, so callbacks need no
 * locks. Callbacks keep nothing in globals: what an instance must remember goes into its
 * keyed state (strom/state.h); what it merely caches (an open file, parsed options) goes
 * into its instance-local pointer, which is not state and does not move.
 *
 * A source is an operator with `produce`: the engine calls it again and again; each call
 * emits some events (a batch's worth is a good amount) and, now and then, a watermark, and
 * returns 0, or STROM_END when the source is exhausted. Sources have no inputs.
 *
 * Determinism: the order in which events from several upstream instances interleave is not
 * fixed. An operator whose output must not depend on it emits from timers and watermarks,
 * not from process() (see docs/internals/engine.md); the ordered file sink then writes the
 * rows of each watermark sorted.
 *
 * Every callback returns 0 or a negative error code; a failure stops the job, and
 * strom_ctx_fail's message becomes the job's error message.
 */
#ifndef STROM_OPERATOR_H
#define STROM_OPERATOR_H

#include <stddef.h>
#include <stdint.h>

#include "strom/event.h"
#include "strom/state.h"

/* Returned by produce() when a source has nothing more to emit. */
#define STROM_END 1

struct strom_ctx; /* one operator instance, as its callbacks see it */

struct strom_operator {
    const char *kind;      /* short name of the operator type, for messages */
    size_t record_size;    /* bytes of one keyed state record; 0 for a stateless operator */
    const struct strom_record_codec *codec; /* NULL: records are plain bytes */

    int (*open)(struct strom_ctx *ctx);
    int (*produce)(struct strom_ctx *ctx); /* sources only */
    int (*process)(struct strom_ctx *ctx, const struct strom_event *ev, size_t n);
    int (*on_timer)(struct strom_ctx *ctx, uint64_t key, uint64_t ns, int64_t time);
    int (*on_watermark)(struct strom_ctx *ctx, int64_t watermark);
    /* After the last input (all timers have fired); may still emit, with time
     * STROM_TIME_MAX: every event must be later than the watermarks already passed on. */
    int (*finish)(struct strom_ctx *ctx);
    /* Always called once for an instance that was opened, to free instance-local data. */
    void (*close)(struct strom_ctx *ctx);

    /* Checkpoints (see docs/internals/engine.md, "Checkpoints"). Keyed state and timers
     * are snapshotted by the engine; these are for what an instance keeps besides (a
     * source's position, a sink's output). snapshot appends it when barrier n passes the
     * instance, on its thread. commit is called once checkpoint n is complete, with the
     * bytes snapshot wrote for n, on the engine's checkpoint thread: it may read the
     * operator's arg and those bytes, nothing the instance changes. After a restart from
     * checkpoint n, open finds the bytes with strom_ctx_restored. end is called once the
     * whole job has finished, the checkpoint thread stopped, before close, on the driving
     * thread: the sinks commit what is left. */
    int (*snapshot)(struct strom_ctx *ctx, uint64_t n, struct strom_buf *out);
    int (*commit)(struct strom_ctx *ctx, uint64_t n, const uint8_t *bytes, size_t len);
    int (*end)(struct strom_ctx *ctx);
};

/* Emit an event on every output edge (partitioned as each edge says). Its time must be later
 * than the last watermark this instance passed on (the ordered sink refuses it otherwise):
 * from process(), the time of an input event; from on_timer, the timer's time; from
 * on_watermark, a time later than the watermark before this one. */
int strom_emit(struct strom_ctx *ctx, const struct strom_event *ev);
/* Emit an event on one output edge: port k is the k-th edge connected from this operator
 * (in the order of strom_job_connect calls). STROM_E_INVAL for a port that does not exist.
 * Watermarks always go to every port. */
int strom_emit_to(struct strom_ctx *ctx, unsigned port, const struct strom_event *ev);
/* Sources only: promise that no event with time <= watermark follows from this instance. */
int strom_emit_watermark(struct strom_ctx *ctx, int64_t watermark);

/* The record for (key, ns); created zeroed when absent if create is non-zero (then
 * *created, when not NULL, says whether it was). NULL with *rc set on failure, or when
 * absent and !create (*rc = 0). The key must belong to a key group this instance owns,
 * which is always so for a key of an event routed to it by key. */
void *strom_state_get(struct strom_ctx *ctx, uint64_t key, uint64_t ns, int create,
                      int *created, int *rc);
/* Remove the record for (key, ns), releasing it; 0 if it was absent too. */
int strom_state_remove(struct strom_ctx *ctx, uint64_t key, uint64_t ns);
/* Call fn for every record of this instance, key group by key group. fn returns 0 to go on,
 * anything else stops the walk and is returned. fn must not add or remove records. */
int strom_state_foreach(struct strom_ctx *ctx,
                        int (*fn)(void *arg, uint64_t key, uint64_t ns, void *rec), void *arg);

/* Fire on_timer(key, ns, time) once the watermark reaches time. Timers are keyed state: they
 * move and snapshot with their key group. Setting the same (key, ns, time) twice fires once. */
int strom_timer_set(struct strom_ctx *ctx, uint64_t key, uint64_t ns, int64_t time);

/* The argument given when the operator was added to the job. */
void *strom_ctx_arg(const struct strom_ctx *ctx);
void *strom_ctx_local(const struct strom_ctx *ctx);
void strom_ctx_set_local(struct strom_ctx *ctx, void *local);
unsigned strom_ctx_instance(const struct strom_ctx *ctx);    /* 0 .. parallelism-1 */
unsigned strom_ctx_parallelism(const struct strom_ctx *ctx);
const char *strom_ctx_name(const struct strom_ctx *ctx);     /* the operator's name */
int64_t strom_ctx_watermark(const struct strom_ctx *ctx);    /* current input watermark */
/* The checkpoint this instance was restored from, 0 for a fresh start; *bytes and *len
 * (when not NULL) get what its snapshot callback wrote then (empty if none). */
uint64_t strom_ctx_restored(const struct strom_ctx *ctx, const uint8_t **bytes, size_t *len);
/* The checkpoint store's directory, NULL when the job does not checkpoint. */
const char *strom_ctx_checkpoint_dir(const struct strom_ctx *ctx);

/* Record why the job fails (printf-style) and return rc, for `return strom_ctx_fail(...)`. */
int strom_ctx_fail(struct strom_ctx *ctx, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
