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
 * A binary min-heap on (second, arrival), so that a watermark costs what it takes out,
 * whatever waits beyond it (an instance far ahead of the others leaves many seconds
 * waiting); a second comes out whole, in the order its input arrived. */
struct pending_ev {
    int64_t time;
    uint64_t seq; /* arrival */
    struct strom_event ev;
};

struct pending {
    struct pending_ev *heap;
    size_t n, cap;
    uint64_t seq;
    struct strom_event *cur; /* the second taken out last (pending_take) */
    size_t cur_n, cur_cap;
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
        free(pd->heap);
        free(pd->cur);
    }
    free(pd);
    strom_ctx_set_local(ctx, NULL);
}

static bool pending_before(const struct pending_ev *a, const struct pending_ev *b)
{
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
}

static int pending_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    struct pending *pd = strom_ctx_local(ctx);
    if (pd->n + n > pd->cap) {
        size_t cap = pd->cap ? pd->cap * 2 : 4096;
        while (cap < pd->n + n)
            cap *= 2;
        struct pending_ev *nh = realloc(pd->heap, cap * sizeof *nh);
        if (!nh)
            return -ENOMEM;
        pd->heap = nh;
        pd->cap = cap;
    }
    for (size_t e = 0; e < n; e++) {
        struct pending_ev x = {ev[e].time, pd->seq++, ev[e]};
        size_t k = pd->n++;
        while (k > 0 && pending_before(&x, &pd->heap[(k - 1) / 2])) {
            pd->heap[k] = pd->heap[(k - 1) / 2];
            k = (k - 1) / 2;
        }
        pd->heap[k] = x;
    }
    return 0;
}

/* Removes the heap's least entry. */
static void pending_pop(struct pending *pd)
{
    struct pending_ev x = pd->heap[--pd->n];
    size_t k = 0;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= pd->n)
            break;
        if (c + 1 < pd->n && pending_before(&pd->heap[c + 1], &pd->heap[c]))
            c++;
        if (!pending_before(&pd->heap[c], &x))
            break;
        pd->heap[k] = pd->heap[c];
        k = c;
    }
    if (pd->n)
        pd->heap[k] = x;
}

/* Takes out the input of the earliest pending second t <= wm, into pd->cur in the order it
 * arrived: 1 with *t, 0 when there is none, or -ENOMEM. */
static int pending_take(struct pending *pd, int64_t wm, int64_t *t)
{
    if (!pd->n || pd->heap[0].time > wm)
        return 0;
    *t = pd->heap[0].time;
    pd->cur_n = 0;
    while (pd->n && pd->heap[0].time == *t) {
        if (pd->cur_n == pd->cur_cap) {
            size_t cap = pd->cur_cap ? 2 * pd->cur_cap : 256;
            struct strom_event *nc = realloc(pd->cur, cap * sizeof *nc);
            if (!nc)
                return -ENOMEM;
            pd->cur = nc;
            pd->cur_cap = cap;
        }
        pd->cur[pd->cur_n++] = pd->heap[0].ev;
        pending_pop(pd);
    }
    return 1;
}

/* Applies the readings that enter and leave at second t; 1 in *distinct when one enters
 * (t is then a distinct second). */
static int global_apply(struct strom_ctx *ctx, struct global *g, const struct pending *pd,
                        int64_t t, int *distinct)
{
    int rc = 0;
    for (size_t k = 0; k < pd->cur_n && !rc; k++) {
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
    int64_t t;
    struct global *g;

    if (!pd->n)
        return 0;
    if (!(g = global_get(ctx, &rc)))
        return rc;
    while ((rc = pending_take(pd, wm, &t)) == 1) {
        int distinct = 0;
        if ((rc = global_apply(ctx, g, pd, t, &distinct)))
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
    return rc;
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
    int64_t t;
    int rc = 0;

    while ((rc = pending_take(pd, wm, &t)) == 1) {
        rc = 0;
        for (int pass = 0; pass < 2 && !rc; pass++)
            for (size_t k = 0; k < pd->cur_n && !rc; k++) {
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
    return rc;
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
