/*
 * apps/debs14/q2.c: Query 2's three operators (see q2.h and the spec, "Query 2").
 */
#include "apps/debs14/q2.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "apps/debs14/fenwick.h"
#include "apps/debs14/median.h"
#include "apps/debs14/plugs.h"
#include "strom/error.h"
#include "strom/state.h"

const int64_t strom_q2_window_seconds[STROM_Q2_WINDOWS] = {3600, 86400};
#define NONE (-1) /* a median or a percentage that does not exist (yet) */
#define MAX_PLUGS (1u << 24)
/* q2plug's output ports, in the order job.c connects them */
#define PORT_HOUSE 0u
#define PORT_GLOBAL 1u
/* q2plug -> q2global: v[0] says what the reading of value v[1] does at second time */
#define Q2G_ADD 2       /* enters both windows */
#define Q2G_REMOVE 4    /* | window: leaves that window */

/* --- q2plug: the plugs' windows ----------------------------------------------------- */

struct wplug {
    uint64_t id;
    struct strom_debs_median win[STROM_Q2_WINDOWS];
    int64_t sent[STROM_Q2_WINDOWS]; /* the median last announced, NONE if none */
};

struct plug_rec {
    struct strom_debs_plugs *set; /* of struct wplug */
};

#define WPLUG(set, i) ((struct wplug *)strom_debs_plugs_at((set), sizeof(struct wplug), (i)))

static void wplugs_free(struct strom_debs_plugs *set)
{
    if (!set)
        return;
    for (uint32_t p = 0; p < set->n; p++)
        for (int w = 0; w < STROM_Q2_WINDOWS; w++)
            strom_debs_median_release(&WPLUG(set, p)->win[w]);
    strom_debs_plugs_free(set);
    free(set);
}

static int q2plug_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    for (size_t e = 0; e < n; e++) {
        int rc, created;
        struct plug_rec *rec = strom_state_get(ctx, ev[e].key, 0, 1, &created, &rc);
        struct wplug *pl;
        int fresh;
        if (!rec)
            return rc;
        (void)created;
        if (!rec->set && !(rec->set = calloc(1, sizeof *rec->set)))
            return -ENOMEM;
        if (!(pl = strom_debs_plugs_get(rec->set, sizeof *pl, (uint64_t)ev[e].v[0], &fresh)))
            return -ENOMEM;
        if (fresh) /* empty windows (zeroed), nothing announced yet */
            pl->sent[0] = pl->sent[1] = NONE;
        for (int w = 0; w < STROM_Q2_WINDOWS; w++)
            if ((rc = strom_debs_median_add(&pl->win[w], (uint32_t)ev[e].time,
                                            (uint64_t)ev[e].v[1])))
                return strom_ctx_fail(ctx, rc, "q2: reading at %" PRId64 ": %s", ev[e].time,
                                      strom_strerror(rc));
        struct strom_event add = {.key = 0, .time = ev[e].time, .v = {Q2G_ADD, ev[e].v[1], 0}};
        if ((rc = strom_emit_to(ctx, PORT_GLOBAL, &add)))
            return rc;
    }
    return 0;
}

struct eval {
    struct strom_ctx *ctx;
    int64_t t, prev; /* this evaluation's second and the one before */
    int w;           /* the window being expired, for leaving() */
    int rc;          /* the first failure of leaving() */
};

/* A reading leaves plug window ev->w at second ev->t: so it leaves the global one too. */
static void leaving(void *arg, uint64_t value)
{
    struct eval *ev = arg;
    struct strom_event out = {.key = 0, .time = ev->t, .v = {Q2G_REMOVE | ev->w, (int64_t)value, 0}};
    int rc = strom_emit_to(ev->ctx, PORT_GLOBAL, &out);
    if (rc && !ev->rc)
        ev->rc = rc;
}

static int q2plug_eval(void *arg, uint64_t key, uint64_t ns, void *recp)
{
    struct eval *ev = arg;
    struct strom_debs_plugs *set = ((struct plug_rec *)recp)->set;
    int rc;
    (void)ns;
    for (uint32_t p = 0; set && p < set->n; p++) {
        struct wplug *pl = WPLUG(set, p);
        for (int w = 0; w < STROM_Q2_WINDOWS; w++) {
            struct strom_debs_median *win = &pl->win[w];
            int64_t m, upto = ev->t - strom_q2_window_seconds[w];
            /* only what can have changed: a reading since the last evaluation, or one
             * that leaves the window now */
            if ((int64_t)win->last_ts <= ev->prev &&
                (!strom_debs_median_count(win) ||
                 (int64_t)strom_debs_median_oldest_ts(win) > upto))
                continue;
            ev->w = w;
            strom_debs_median_expire_each(win, upto, leaving, ev);
            if (ev->rc)
                return ev->rc;
            m = strom_debs_median_count(win) ? (int64_t)strom_debs_median_median2(win) : NONE;
            if (m == pl->sent[w])
                continue;
            struct strom_event out = {.key = key, .time = ev->t,
                                      .v = {(int64_t)pl->id, w, m}};
            if ((rc = strom_emit_to(ev->ctx, PORT_HOUSE, &out)))
                return rc;
            pl->sent[w] = m;
        }
    }
    return 0;
}

static int q2plug_watermark(struct strom_ctx *ctx, int64_t wm)
{
    int64_t *prev = strom_ctx_local(ctx); /* the watermark before: all instances share it */
    struct eval ev = {ctx, wm, *prev, 0, 0};
    *prev = wm;
    if (wm == STROM_TIME_MAX)
        return 0; /* nothing is evaluated after the last second */
    return strom_state_foreach(ctx, q2plug_eval, &ev);
}

static int q2plug_open(struct strom_ctx *ctx)
{
    int64_t *prev = malloc(sizeof *prev);
    if (!prev)
        return -ENOMEM;
    *prev = STROM_TIME_MIN;
    strom_ctx_set_local(ctx, prev);
    return 0;
}

static void q2plug_close(struct strom_ctx *ctx)
{
    free(strom_ctx_local(ctx));
    strom_ctx_set_local(ctx, NULL);
}

/* q2plug record: u32 plugs, then per plug (ascending id): u64 id, 2 x (i64 sent, median
 * encoding). */
static int q2plug_encode(const void *recp, struct strom_buf *out)
{
    const struct strom_debs_plugs *set = ((const struct plug_rec *)recp)->set;
    uint32_t n = set ? set->n : 0;
    int rc = strom_buf_put_u32(out, n);
    for (uint32_t p = 0; p < n && !rc; p++) {
        const struct wplug *pl = WPLUG(set, p);
        rc = strom_buf_put_u64(out, pl->id);
        for (int w = 0; w < STROM_Q2_WINDOWS && !rc; w++)
            if (!(rc = strom_buf_put_u64(out, (uint64_t)pl->sent[w])))
                rc = strom_debs_median_encode(&pl->win[w], out);
    }
    return rc;
}

static int q2plug_decode(void *recp, struct strom_reader *in)
{
    struct plug_rec *rec = recp;
    uint32_t n;
    uint64_t v;
    int rc = strom_reader_u32(in, &n);
    if (rc)
        return rc;
    if (n > MAX_PLUGS || n > in->left / 24)
        return STROM_E_CORRUPT;
    if (!(rec->set = calloc(1, sizeof *rec->set)) ||
        (n && !(rec->set->a = calloc(n, sizeof(struct wplug)))))
        return -ENOMEM;
    rec->set->cap = n;
    for (uint32_t p = 0; p < n; p++) {
        struct wplug *pl = WPLUG(rec->set, p);
        rec->set->n = p + 1; /* release frees what this plug holds from here on */
        if ((rc = strom_reader_u64(in, &pl->id)))
            return rc;
        if (p && pl->id <= WPLUG(rec->set, p - 1)->id)
            return STROM_E_CORRUPT;
        for (int w = 0; w < STROM_Q2_WINDOWS; w++) {
            if ((rc = strom_reader_u64(in, &v)) ||
                (rc = strom_debs_median_decode(&pl->win[w], in)))
                return rc;
            pl->sent[w] = (int64_t)v;
            if (pl->sent[w] < NONE)
                return STROM_E_CORRUPT;
        }
    }
    return 0;
}

static void q2plug_release(void *recp)
{
    struct plug_rec *rec = recp;
    wplugs_free(rec->set);
    rec->set = NULL;
}

static const struct strom_record_codec q2plug_codec = {q2plug_encode, q2plug_decode,
                                                       q2plug_release};

const struct strom_operator strom_q2plug_op = {
    .kind = "debs14-q2-plug",
    .record_size = sizeof(struct plug_rec),
    .codec = &q2plug_codec,
    .open = q2plug_open,
    .process = q2plug_process,
    .on_watermark = q2plug_watermark,
    .close = q2plug_close,
};

/* --- q2global: the global windows --------------------------------------------------- */

struct global {
    struct strom_debs_fenwick all[STROM_Q2_WINDOWS];
    int64_t last_eval; /* the last second evaluated, -1 before the first */
};

struct global_rec {
    struct global *g;
};

static void global_free(struct global *g)
{
    if (!g)
        return;
    for (int w = 0; w < STROM_Q2_WINDOWS; w++)
        strom_debs_fenwick_release(&g->all[w]);
    free(g);
}

static struct global *global_get(struct strom_ctx *ctx, int *rc)
{
    struct global_rec *rec = strom_state_get(ctx, 0, 0, 1, NULL, rc);
    if (!rec)
        return NULL;
    if (!rec->g) {
        if (!(rec->g = calloc(1, sizeof *rec->g)))
            *rc = -ENOMEM;
        else
            rec->g->last_eval = -1;
    }
    return rec->g;
}

/* Input waiting for the watermark, of q2global and q2house: the q2plug instances run at
 * their own pace, so what one of them says about second t may arrive before what another
 * says about an earlier second; the watermark says when a second is whole. Not state: at
 * every watermark it drains to what lies beyond it, and nothing lies beyond the last
 * watermark when the job is paused.
 *
 * At a watermark one pass takes out what it covers (in the order it arrived) and keeps the
 * rest; the part taken out is then applied one second at a time. So a watermark costs one
 * pass over what waits, whatever lies beyond it (an instance far ahead of the others leaves
 * many seconds waiting), and nothing when the earliest waiting second is beyond it. */
struct pending {
    struct strom_event *ev;
    size_t n, cap;
    int64_t min;             /* the earliest second waiting (when n) */
    struct strom_event *cur; /* taken out by the last watermark (pending_take) */
    size_t cur_n, cur_cap;
    uint32_t *order; /* sorting cur by (second, position), when not already in order */
    size_t order_cap;
};

static int pending_open(struct strom_ctx *ctx)
{
    struct pending *pd = calloc(1, sizeof *pd);
    if (!pd)
        return -ENOMEM;
    strom_ctx_set_local(ctx, pd);
    return 0;
}

static void pending_close(struct strom_ctx *ctx)
{
    struct pending *pd = strom_ctx_local(ctx);
    if (pd) {
        free(pd->ev);
        free(pd->cur);
        free(pd->order);
    }
    free(pd);
    strom_ctx_set_local(ctx, NULL);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap ? *cap : 4096;
    void *np;
    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    if (!(np = realloc(*p, c * size)))
        return -ENOMEM;
    *p = np;
    *cap = c;
    return 0;
}

static int pending_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    struct pending *pd = strom_ctx_local(ctx);
    if (grow((void **)&pd->ev, &pd->cap, pd->n + n, sizeof *pd->ev))
        return -ENOMEM;
    if (!pd->n)
        pd->min = STROM_TIME_MAX;
    for (size_t e = 0; e < n; e++)
        if (ev[e].time < pd->min)
            pd->min = ev[e].time;
    memcpy(pd->ev + pd->n, ev, n * sizeof *ev);
    pd->n += n;
    return 0;
}

static int by_time_then_position(const void *a, const void *b, void *arg)
{
    const struct strom_event *cur = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (cur[x].time != cur[y].time)
        return cur[x].time < cur[y].time ? -1 : 1;
    return (x > y) - (x < y);
}

/* Takes out the input up to wm into pd->cur, in arrival order, and, when its seconds are
 * not already in order, sorts pd->order by (second, arrival): 0 or -ENOMEM. */
static int pending_take(struct pending *pd, int64_t wm)
{
    size_t kept = 0;
    int64_t min = STROM_TIME_MAX;
    bool sorted = true;

    pd->cur_n = 0;
    if (!pd->n || pd->min > wm)
        return 0;
    if (grow((void **)&pd->cur, &pd->cur_cap, pd->n, sizeof *pd->cur))
        return -ENOMEM;
    for (size_t k = 0; k < pd->n; k++) {
        const struct strom_event *e = &pd->ev[k];
        if (e->time <= wm) {
            if (pd->cur_n && e->time < pd->cur[pd->cur_n - 1].time)
                sorted = false;
            pd->cur[pd->cur_n++] = *e;
        } else {
            if (e->time < min)
                min = e->time;
            pd->ev[kept++] = *e;
        }
    }
    pd->n = kept;
    pd->min = min;
    if (sorted)
        return 0;
    if (pd->cur_n > UINT32_MAX ||
        grow((void **)&pd->order, &pd->order_cap, pd->cur_n, sizeof *pd->order))
        return -ENOMEM;
    for (size_t k = 0; k < pd->cur_n; k++)
        pd->order[k] = (uint32_t)k;
    qsort_r(pd->order, pd->cur_n, sizeof *pd->order, by_time_then_position, pd->cur);
    /* cur in that order, gathered in ev's free tail (ev held all of cur a moment ago) */
    for (size_t k = 0; k < pd->cur_n; k++)
        pd->ev[kept + k] = pd->cur[pd->order[k]];
    memcpy(pd->cur, pd->ev + kept, pd->cur_n * sizeof *pd->cur);
    return 0;
}

/* The next second of pd->cur from *at (cur in order of seconds): 1 with its span [*at, *end),
 * or 0 at the end. */
static int pending_second(const struct pending *pd, size_t at, size_t *end)
{
    size_t k = at;
    if (at >= pd->cur_n)
        return 0;
    while (k < pd->cur_n && pd->cur[k].time == pd->cur[at].time)
        k++;
    *end = k;
    return 1;
}

/* Applies the readings that enter and leave at second t, pd->cur[at, end); 1 in *distinct
 * when one enters (t is then a distinct second). */
static int global_apply(struct strom_ctx *ctx, struct global *g, const struct pending *pd,
                        size_t at, size_t end, int *distinct)
{
    int64_t t = pd->cur[at].time;
    int rc = 0;
    for (size_t k = at; k < end && !rc; k++) {
        const struct strom_event *ev = &pd->cur[k];
        uint64_t v = (uint64_t)ev->v[1];
        if (ev->v[0] == Q2G_ADD) {
            *distinct = 1;
            for (int w = 0; w < STROM_Q2_WINDOWS && !rc; w++)
                rc = strom_debs_fenwick_add(&g->all[w], v);
        } else if ((ev->v[0] & ~(int64_t)1) == Q2G_REMOVE) {
            rc = strom_debs_fenwick_remove(&g->all[ev->v[0] & 1], v);
        } else {
            rc = STROM_E_INVAL;
        }
        if (rc)
            return strom_ctx_fail(ctx, rc, "q2: global window at %" PRId64 ": %s", t,
                                  strom_strerror(rc));
    }
    return 0;
}

/* Applies the buffered input up to the watermark one second at a time and, at each
 * distinct second, emits both global medians. */
static int q2global_watermark(struct strom_ctx *ctx, int64_t wm)
{
    struct pending *pd = strom_ctx_local(ctx);
    int rc = 0;
    size_t at, end;
    struct global *g;

    if (!pd->n || pd->min > wm)
        return 0;
    if (!(g = global_get(ctx, &rc)))
        return rc;
    if ((rc = pending_take(pd, wm)))
        return rc;
    for (at = 0; pending_second(pd, at, &end); at = end) {
        int64_t t = pd->cur[at].time;
        int distinct = 0;
        if ((rc = global_apply(ctx, g, pd, at, end, &distinct)))
            return rc;
        if (!distinct || t <= g->last_eval)
            continue;
        g->last_eval = t;
        for (int w = 0; w < STROM_Q2_WINDOWS; w++) {
            struct strom_event out = {
                .key = 0, .time = t,
                .v = {STROM_Q2_GLOBAL_TAG | w, (int64_t)strom_debs_fenwick_median2(&g->all[w]),
                      (int64_t)strom_debs_fenwick_count(&g->all[w])}};
            if ((rc = strom_emit(ctx, &out)))
                return rc;
        }
    }
    return 0;
}

/* global record: i64 last_eval, then per window the fenwick encoding. */
static int q2global_encode(const void *recp, struct strom_buf *out)
{
    const struct global *g = ((const struct global_rec *)recp)->g;
    struct global empty = {.last_eval = -1};
    int rc;
    if (!g)
        g = &empty;
    if ((rc = strom_buf_put_u64(out, (uint64_t)g->last_eval)))
        return rc;
    for (int w = 0; w < STROM_Q2_WINDOWS; w++)
        if ((rc = strom_debs_fenwick_encode(&g->all[w], out)))
            return rc;
    return 0;
}

static int q2global_decode(void *recp, struct strom_reader *in)
{
    struct global_rec *rec = recp;
    uint64_t a;
    int rc;
    if (!(rec->g = calloc(1, sizeof *rec->g)))
        return -ENOMEM;
    if ((rc = strom_reader_u64(in, &a)))
        return rc;
    rec->g->last_eval = (int64_t)a;
    if (rec->g->last_eval < -1)
        return STROM_E_CORRUPT;
    for (int w = 0; w < STROM_Q2_WINDOWS; w++)
        if ((rc = strom_debs_fenwick_decode(&rec->g->all[w], in)))
            return rc;
    return 0;
}

static void q2global_release(void *recp)
{
    struct global_rec *rec = recp;
    global_free(rec->g);
    rec->g = NULL;
}

static const struct strom_record_codec q2global_codec = {q2global_encode, q2global_decode,
                                                         q2global_release};

const struct strom_operator strom_q2global_op = {
    .kind = "debs14-q2-global",
    .record_size = sizeof(struct global_rec),
    .codec = &q2global_codec,
    .open = pending_open,
    .process = pending_process,
    .on_watermark = q2global_watermark,
    .close = pending_close,
};

/* --- q2house: percentages --------------------------------------------------------- */

struct hplug {
    uint64_t id;
    int64_t m[STROM_Q2_WINDOWS]; /* half-mW, NONE when out of the window */
};

struct house {
    struct strom_debs_plugs set; /* of struct hplug */
    int64_t last[STROM_Q2_WINDOWS]; /* hundredths last printed, NONE before the first */
};

struct house_rec {
    struct house *h;
};

#define HPLUG(set, i) ((struct hplug *)strom_debs_plugs_at((set), sizeof(struct hplug), (i)))

static int apply_change(struct strom_ctx *ctx, const struct strom_event *ev)
{
    int rc, created;
    struct house_rec *rec = strom_state_get(ctx, ev->key, 0, 1, &created, &rc);
    struct hplug *pl;
    int fresh;
    if (!rec)
        return rc;
    if (!rec->h) {
        if (!(rec->h = calloc(1, sizeof *rec->h)))
            return -ENOMEM;
        rec->h->last[0] = rec->h->last[1] = NONE;
    }
    if (ev->v[1] < 0 || ev->v[1] >= STROM_Q2_WINDOWS)
        return strom_ctx_fail(ctx, STROM_E_INVAL, "q2: change for window %" PRId64, ev->v[1]);
    if (!(pl = strom_debs_plugs_get(&rec->h->set, sizeof *pl, (uint64_t)ev->v[0], &fresh)))
        return -ENOMEM;
    if (fresh)
        pl->m[0] = pl->m[1] = NONE;
    pl->m[ev->v[1]] = ev->v[2];
    return 0;
}

struct judge {
    struct strom_ctx *ctx;
    int64_t t, m;
    int w;
};

static int judge_house(void *arg, uint64_t key, uint64_t ns, void *recp)
{
    struct judge *j = arg;
    struct house *h = ((struct house_rec *)recp)->h;
    uint64_t in = 0, over = 0;
    (void)ns;
    if (!h)
        return 0;
    for (uint32_t p = 0; p < h->set.n; p++) {
        int64_t m = HPLUG(&h->set, p)->m[j->w];
        in += m != NONE;
        over += m != NONE && m > j->m;
    }
    if (!in)
        return 0; /* no plug in the window: nothing, and the last printed value stays */
    /* 100 * over / in to two decimals, half away from zero, in integers */
    int64_t hundredths = (int64_t)((20000 * over + in) / (2 * in));
    if (hundredths == h->last[j->w])
        return 0;
    h->last[j->w] = hundredths;
    struct strom_event out = {.key = key, .time = j->t, .v = {j->w, hundredths, 0}};
    return strom_emit_to(j->ctx, (unsigned)j->w, &out);
}

/* Applies the buffered input up to the watermark, one second at a time: the second's
 * changes, then its global medians (each in the order it arrived). */
static int q2house_watermark(struct strom_ctx *ctx, int64_t wm)
{
    struct pending *pd = strom_ctx_local(ctx);
    size_t at, end;
    int rc;

    if ((rc = pending_take(pd, wm)))
        return rc;
    for (at = 0; pending_second(pd, at, &end); at = end) {
        for (int pass = 0; pass < 2 && !rc; pass++)
            for (size_t k = at; k < end && !rc; k++) {
                const struct strom_event *ev = &pd->cur[k];
                int global = (ev->v[0] & STROM_Q2_GLOBAL_TAG) != 0;
                if (global != pass)
                    continue;
                if (global) {
                    struct judge j = {ctx, ev->time, ev->v[1], (int)(ev->v[0] & 1)};
                    rc = strom_state_foreach(ctx, judge_house, &j);
                } else {
                    rc = apply_change(ctx, ev);
                }
            }
        if (rc)
            return rc;
    }
    return 0;
}

/* house record: 2 x i64 last, u32 plugs, per plug (ascending id): u64 id, 2 x i64 m. */
static int q2house_encode(const void *recp, struct strom_buf *out)
{
    const struct house *h = ((const struct house_rec *)recp)->h;
    struct house empty = {.last = {NONE, NONE}};
    int rc = 0;
    if (!h)
        h = &empty;
    for (int w = 0; w < STROM_Q2_WINDOWS && !rc; w++)
        rc = strom_buf_put_u64(out, (uint64_t)h->last[w]);
    if (!rc)
        rc = strom_buf_put_u32(out, h->set.n);
    for (uint32_t p = 0; p < h->set.n && !rc; p++) {
        const struct hplug *pl = HPLUG(&h->set, p);
        rc = strom_buf_put_u64(out, pl->id);
        for (int w = 0; w < STROM_Q2_WINDOWS && !rc; w++)
            rc = strom_buf_put_u64(out, (uint64_t)pl->m[w]);
    }
    return rc;
}

static int q2house_decode(void *recp, struct strom_reader *in)
{
    struct house_rec *rec = recp;
    struct house *h;
    uint64_t v;
    uint32_t n;
    int rc = 0;
    if (!(rec->h = h = calloc(1, sizeof *h)))
        return -ENOMEM;
    for (int w = 0; w < STROM_Q2_WINDOWS && !rc; w++) {
        rc = strom_reader_u64(in, &v);
        h->last[w] = (int64_t)v;
        if (!rc && (h->last[w] < NONE || h->last[w] > 10000))
            rc = STROM_E_CORRUPT;
    }
    if (rc || (rc = strom_reader_u32(in, &n)))
        return rc;
    if (n > MAX_PLUGS || n > in->left / 24)
        return STROM_E_CORRUPT;
    if (n && !(h->set.a = calloc(n, sizeof(struct hplug))))
        return -ENOMEM;
    h->set.cap = h->set.n = n;
    for (uint32_t p = 0; p < n; p++) {
        struct hplug *pl = HPLUG(&h->set, p);
        if ((rc = strom_reader_u64(in, &pl->id)))
            return rc;
        if (p && pl->id <= HPLUG(&h->set, p - 1)->id)
            return STROM_E_CORRUPT;
        for (int w = 0; w < STROM_Q2_WINDOWS; w++) {
            if ((rc = strom_reader_u64(in, &v)))
                return rc;
            pl->m[w] = (int64_t)v;
            if (pl->m[w] < NONE)
                return STROM_E_CORRUPT;
        }
    }
    return 0;
}

static void q2house_release(void *recp)
{
    struct house_rec *rec = recp;
    if (rec->h)
        strom_debs_plugs_free(&rec->h->set);
    free(rec->h);
    rec->h = NULL;
}

static const struct strom_record_codec q2house_codec = {q2house_encode, q2house_decode,
                                                        q2house_release};

const struct strom_operator strom_q2house_op = {
    .kind = "debs14-q2-house",
    .record_size = sizeof(struct house_rec),
    .codec = &q2house_codec,
    .open = pending_open,
    .process = pending_process,
    .on_watermark = q2house_watermark,
    .close = pending_close,
};

int strom_q2_format(FILE *f, const struct strom_event *ev, void *arg)
{
    int64_t w = ev->v[0] ? strom_q2_window_seconds[1] : strom_q2_window_seconds[0];
    (void)arg;
    return fprintf(f, "%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRId64 ".%02" PRId64 "\n",
                   ev->time - w + 1, ev->time, ev->key, ev->v[1] / 100, ev->v[1] % 100) < 0
               ? -EIO
               : 0;
}
