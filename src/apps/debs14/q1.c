/*
 * apps/debs14/q1.c: Query 1 (see q1.h and ../shared/specs/debs14.md, "Query 1").
 *
 * State of one house, per slice size s:
 *   cur[s]              the slice the house's current accumulators belong to
 *   plug.acc[s]         sum (mW) and count of the plug's readings in slice cur[s]
 *   plug.hist[s][r]     averages of the plug's finished slices j with j mod k = r, sorted
 *   hist[s][r]          the same for the house average
 * Invariant: every accumulator with a count belongs to slice cur[s]. Rows arrive in time
 * order, so when a row or an update point falls in a later slice, slice cur[s] is finished
 * for the whole house at once: its averages move into the histories (the house's as the
 * sum of its plugs' averages in (household, plug) order) and the accumulators restart.
 * The history slot of the predicted slice i + 2 holds exactly H of the spec: the same time
 * of day on every earlier day with data (all finished, since k >= 12 > 2).
 */
#include "apps/debs14/q1.h"
#include "apps/debs14/plugs.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "strom/error.h"
#include "strom/state.h"

const int64_t strom_q1_slice_seconds[STROM_Q1_SIZES] = {60, 300, 900, 3600, 7200};
#define UPDATE_EVERY 30
#define MAX_PLUGS (1u << 24) /* per house; a bound for decoding, far above real data */

struct slot {
    double *v; /* sorted ascending */
    uint32_t n, cap;
};

struct acc {
    int64_t sum; /* mW */
    uint64_t count;
};

struct plug {
    uint64_t id; /* household << 32 | plug */
    struct acc acc[STROM_Q1_SIZES];
    struct slot *hist[STROM_Q1_SIZES]; /* k slots each, allocated at first use */
};

struct house {
    struct strom_debs_plugs set; /* of struct plug, by id */
    int64_t cur[STROM_Q1_SIZES];
    struct slot *hist[STROM_Q1_SIZES];
};

#define PLUG(h, i) ((struct plug *)strom_debs_plugs_at(&(h)->set, sizeof(struct plug), (i)))

struct rec { /* the record in keyed state */
    struct house *h;
};

struct local { /* per instance; derived from the watermarks, which all instances share */
    int64_t prev_wm;
    int64_t last_b; /* the last update point computed */
};

static inline int64_t slots_of(int s) { return 86400 / strom_q1_slice_seconds[s]; }

static int slot_push(struct slot **hist, int s, int64_t r, double v)
{
    struct slot *sl;
    uint32_t i;
    if (!*hist && !(*hist = calloc((size_t)slots_of(s), sizeof **hist)))
        return -ENOMEM;
    sl = &(*hist)[r];
    if (sl->n == sl->cap) {
        uint32_t cap = sl->cap ? sl->cap * 2 : 4;
        double *nv = realloc(sl->v, cap * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        sl->v = nv;
        sl->cap = cap;
    }
    for (i = sl->n; i > 0 && sl->v[i - 1] > v; i--)
        sl->v[i] = sl->v[i - 1];
    sl->v[i] = v;
    sl->n++;
    return 0;
}

/* median(H) for slot r, or fallback when H is empty. */
static double slot_median(const struct slot *hist, int64_t r, double fallback)
{
    const struct slot *sl = hist ? &hist[r] : NULL;
    if (!sl || !sl->n)
        return fallback;
    if (sl->n & 1)
        return sl->v[sl->n / 2];
    return (sl->v[sl->n / 2 - 1] + sl->v[sl->n / 2]) / 2.0;
}

static void hist_free(struct slot *hist, int s)
{
    if (!hist)
        return;
    for (int64_t r = 0; r < slots_of(s); r++)
        free(hist[r].v);
    free(hist);
}

static void house_free(struct house *h)
{
    if (!h)
        return;
    for (uint32_t p = 0; p < h->set.n; p++)
        for (int s = 0; s < STROM_Q1_SIZES; s++)
            hist_free(PLUG(h, p)->hist[s], s);
    for (int s = 0; s < STROM_Q1_SIZES; s++)
        hist_free(h->hist[s], s);
    strom_debs_plugs_free(&h->set);
    free(h);
}

static struct house *house_new(void)
{
    struct house *h = calloc(1, sizeof *h);
    if (h)
        for (int s = 0; s < STROM_Q1_SIZES; s++)
            h->cur[s] = -1;
    return h;
}

static inline double avg_of(const struct acc *a) { return (double)a->sum / (double)a->count; }

/* Slice cur[s] is finished: move its averages into the histories, restart at slice i. */
static int finish_slice(struct house *h, int s, int64_t i)
{
    int64_t k = slots_of(s), r = h->cur[s] % k;
    double house_avg = 0;
    int any = 0, rc;
    if (h->cur[s] >= 0) {
        for (uint32_t p = 0; p < h->set.n; p++) {
            struct plug *pl = PLUG(h, p);
            if (!pl->acc[s].count)
                continue;
            double a = avg_of(&pl->acc[s]);
            house_avg += a; /* in (household, plug) order: plugs are sorted */
            any = 1;
            if ((rc = slot_push(&pl->hist[s], s, r, a)))
                return rc;
            pl->acc[s] = (struct acc){0};
        }
        if (any && (rc = slot_push(&h->hist[s], s, r, house_avg)))
            return rc;
    }
    h->cur[s] = i;
    return 0;
}

static int q1_process(struct strom_ctx *ctx, const struct strom_event *ev, size_t n)
{
    const struct strom_q1_conf *conf = strom_ctx_arg(ctx);
    for (size_t e = 0; e < n; e++) {
        int rc, created;
        struct rec *rec = strom_state_get(ctx, ev[e].key, 0, 1, &created, &rc);
        struct plug *pl;
        int64_t off = ev[e].time - conf->t0;
        if (!rec)
            return rc;
        if (!rec->h && !(rec->h = house_new()))
            return -ENOMEM;
        if (off < 0)
            return strom_ctx_fail(ctx, STROM_E_INVAL, "q1: reading at %" PRId64
                                  " before t0 %" PRId64 " (the source refuses those)",
                                  ev[e].time, conf->t0);
        if (!(pl = strom_debs_plugs_get(&rec->h->set, sizeof(struct plug), (uint64_t)ev[e].v[0], NULL)))
            return -ENOMEM;
        for (int s = 0; s < STROM_Q1_SIZES; s++) {
            int64_t i = off / strom_q1_slice_seconds[s];
            if (rec->h->cur[s] != i && (rc = finish_slice(rec->h, s, i)))
                return rc;
            pl->acc[s].sum += ev[e].v[1];
            pl->acc[s].count++;
        }
    }
    return 0;
}

static int emit_row(struct strom_ctx *ctx, int s, int plug_row, int64_t b, uint64_t house,
                    uint64_t id, int64_t ts, double pred)
{
    struct strom_event out = {.key = house, .time = b, .v = {(int64_t)id, ts, 0}};
    memcpy(&out.v[2], &pred, sizeof pred);
    return strom_emit_to(ctx, (unsigned)(2 * s + plug_row), &out);
}

struct upd {
    struct strom_ctx *ctx;
    int64_t t0, b;
};

/* Update point b for one house. */
static int update_house(void *arg, uint64_t key, uint64_t ns, void *recp)
{
    struct upd *u = arg;
    struct house *h = ((struct rec *)recp)->h;
    int rc;
    (void)ns;
    if (!h)
        return 0;
    for (int s = 0; s < STROM_Q1_SIZES; s++) {
        int64_t size = strom_q1_slice_seconds[s], k = slots_of(s);
        int64_t i = (u->b - 1 - u->t0) / size, target = u->t0 + (i + 2) * size;
        double house_avg = 0;
        int any = 0;
        if (h->cur[s] < i && (rc = finish_slice(h, s, i)))
            return rc;
        for (uint32_t p = 0; p < h->set.n; p++) {
            struct plug *pl = PLUG(h, p);
            if (!pl->acc[s].count)
                continue;
            double a = avg_of(&pl->acc[s]);
            house_avg += a;
            any = 1;
            double pred = (a + slot_median(pl->hist[s], (i + 2) % k, a)) / 2.0;
            if ((rc = emit_row(u->ctx, s, 1, u->b, key, pl->id, target, pred)))
                return rc;
        }
        if (any) {
            double pred = (house_avg + slot_median(h->hist[s], (i + 2) % k, house_avg)) / 2.0;
            if ((rc = emit_row(u->ctx, s, 0, u->b, key, 0, target, pred)))
                return rc;
        }
    }
    return 0;
}

static int update_point(struct strom_ctx *ctx, struct local *l, int64_t t0, int64_t b)
{
    struct upd u = {ctx, t0, b};
    l->last_b = b;
    return strom_state_foreach(ctx, update_house, &u);
}

/* u->b = the latest end of a house's current longest slice: no update point after it can
 * find a reading. */
static int latest_end(void *arg, uint64_t key, uint64_t ns, void *recp)
{
    struct upd *u = arg;
    const struct house *h = ((struct rec *)recp)->h;
    int s = STROM_Q1_SIZES - 1;
    (void)key;
    (void)ns;
    if (h && h->cur[s] >= 0) {
        int64_t end = u->t0 + (h->cur[s] + 1) * strom_q1_slice_seconds[s];
        if (end > u->b)
            u->b = end;
    }
    return 0;
}

static int q1_watermark(struct strom_ctx *ctx, int64_t wm)
{
    const struct strom_q1_conf *conf = strom_ctx_arg(ctx);
    struct local *l = strom_ctx_local(ctx);
    int rc = 0;

    if (wm == STROM_TIME_MAX) { /* the end: the final update point, largest ts + 1 */
        if (l->prev_wm != STROM_TIME_MIN && l->prev_wm + 1 > l->last_b)
            rc = update_point(ctx, l, conf->t0, l->prev_wm + 1);
    } else {
        /* every grid point b = t0 + 30 m with b <= wm + 1 is reached, in order; but past
         * the end of every house's latest slice a point finds no readings and emits
         * nothing, so those are skipped: a gap of days (or a t0 years before the data)
         * costs nothing. The slices they would have closed close at the next point. */
        struct upd u = {ctx, conf->t0, STROM_TIME_MIN};
        int64_t b = l->last_b < conf->t0 ? conf->t0 + UPDATE_EVERY
                                         : l->last_b + UPDATE_EVERY -
                                               (l->last_b - conf->t0) % UPDATE_EVERY;
        if ((rc = strom_state_foreach(ctx, latest_end, &u)))
            return rc;
        for (; !rc && b <= wm + 1 && b <= u.b; b += UPDATE_EVERY)
            rc = update_point(ctx, l, conf->t0, b);
        if (!rc && b <= wm + 1) /* the last grid point reached, without output */
            l->last_b = b + (wm + 1 - b) / UPDATE_EVERY * UPDATE_EVERY;
    }
    l->prev_wm = wm;
    return rc;
}

static int q1_open(struct strom_ctx *ctx)
{
    const struct strom_q1_conf *conf = strom_ctx_arg(ctx);
    struct local *l = calloc(1, sizeof *l);
    if (!conf)
        return strom_ctx_fail(ctx, STROM_E_INVAL, "q1: no configuration");
    if (!l)
        return -ENOMEM;
    l->prev_wm = STROM_TIME_MIN;
    l->last_b = conf->t0;
    strom_ctx_set_local(ctx, l);
    {
        const uint8_t *b;
        size_t len;
        uint64_t pw, lb;
        if (strom_ctx_restored(ctx, &b, &len)) {
            struct strom_reader r = {b, len};
            if (strom_reader_u64(&r, &pw) || strom_reader_u64(&r, &lb) || r.left)
                return strom_ctx_fail(ctx, STROM_E_CORRUPT, "q1: bad checkpoint of the "
                                      "update points");
            l->prev_wm = (int64_t)pw;
            l->last_b = (int64_t)lb;
        }
    }
    return 0;
}

static void q1_close(struct strom_ctx *ctx)
{
    free(strom_ctx_local(ctx));
    strom_ctx_set_local(ctx, NULL);
}

/* --- snapshot codec: a house as bytes -------------------------------------------------
 *
 *   u32 plugs, then 5 x i64 cur, then 5 house histories, then per plug (ascending id):
 *   u64 id, 5 x (i64 sum, u64 count), 5 histories.
 *   history: u32 slots used, then per slot (ascending r < k): u32 r, u32 n, n x u64 (the
 *   bits of the sorted doubles).
 */
static int hist_encode(const struct slot *hist, int s, struct strom_buf *out)
{
    uint32_t used = 0;
    int rc;
    for (int64_t r = 0; hist && r < slots_of(s); r++)
        used += hist[r].n > 0;
    if ((rc = strom_buf_put_u32(out, used)))
        return rc;
    for (int64_t r = 0; hist && r < slots_of(s); r++) {
        if (!hist[r].n)
            continue;
        if ((rc = strom_buf_put_u32(out, (uint32_t)r)) ||
            (rc = strom_buf_put_u32(out, hist[r].n)) ||
            (rc = strom_buf_put_u64s(out, hist[r].v, hist[r].n))) /* the doubles' bits */
            return rc;
    }
    return 0;
}

static int hist_decode(struct slot **hist, int s, struct strom_reader *in)
{
    uint32_t used, r, n, prev_r = 0;
    int rc = strom_reader_u32(in, &used);
    if (rc)
        return rc;
    if (used > slots_of(s))
        return STROM_E_CORRUPT;
    for (uint32_t u = 0; u < used; u++) {
        if ((rc = strom_reader_u32(in, &r)) || (rc = strom_reader_u32(in, &n)))
            return rc;
        if (r >= slots_of(s) || (u && r <= prev_r) || !n || n > in->left / 8)
            return STROM_E_CORRUPT;
        prev_r = r;
        for (uint32_t j = 0; j < n; j++) {
            uint64_t bits;
            double v;
            if ((rc = strom_reader_u64(in, &bits)))
                return rc;
            memcpy(&v, &bits, sizeof v);
            if (v != v || (*hist && (*hist)[r].n && (*hist)[r].v[(*hist)[r].n - 1] > v))
                return STROM_E_CORRUPT; /* NaN, or not sorted */
            if ((rc = slot_push(hist, s, r, v)))
                return rc;
        }
    }
    return 0;
}

static int q1_encode(const void *recp, struct strom_buf *out)
{
    const struct house *h = ((const struct rec *)recp)->h;
    int rc;
    if (!h)
        return strom_buf_put_u32(out, UINT32_MAX); /* a record without a house yet */
    if ((rc = strom_buf_put_u32(out, h->set.n)))
        return rc;
    for (int s = 0; s < STROM_Q1_SIZES; s++)
        if ((rc = strom_buf_put_u64(out, (uint64_t)h->cur[s])))
            return rc;
    for (int s = 0; s < STROM_Q1_SIZES; s++)
        if ((rc = hist_encode(h->hist[s], s, out)))
            return rc;
    for (uint32_t p = 0; p < h->set.n; p++) {
        const struct plug *pl = PLUG(h, p);
        if ((rc = strom_buf_put_u64(out, pl->id)))
            return rc;
        for (int s = 0; s < STROM_Q1_SIZES; s++)
            if ((rc = strom_buf_put_u64(out, (uint64_t)pl->acc[s].sum)) ||
                (rc = strom_buf_put_u64(out, pl->acc[s].count)))
                return rc;
        for (int s = 0; s < STROM_Q1_SIZES; s++)
            if ((rc = hist_encode(pl->hist[s], s, out)))
                return rc;
    }
    return 0;
}

static int q1_decode(void *recp, struct strom_reader *in)
{
    struct rec *rec = recp;
    struct house *h;
    uint32_t n;
    uint64_t v;
    int rc = strom_reader_u32(in, &n);
    if (rc || n == UINT32_MAX)
        return rc;
    /* each plug takes at least 8 + 80 + 20 bytes */
    if (n > MAX_PLUGS || n > in->left / 108)
        return STROM_E_CORRUPT;
    if (!(rec->h = h = house_new()))
        return -ENOMEM;
    for (int s = 0; s < STROM_Q1_SIZES; s++) {
        if ((rc = strom_reader_u64(in, &v)))
            return rc;
        h->cur[s] = (int64_t)v;
        if (h->cur[s] < -1)
            return STROM_E_CORRUPT;
    }
    for (int s = 0; s < STROM_Q1_SIZES; s++)
        if ((rc = hist_decode(&h->hist[s], s, in)))
            return rc;
    if (n && !(h->set.a = calloc(n, sizeof(struct plug))))
        return -ENOMEM;
    h->set.cap = n;
    for (uint32_t p = 0; p < n; p++) {
        struct plug *pl = PLUG(h, p);
        if ((rc = strom_reader_u64(in, &pl->id)))
            return rc;
        h->set.n = p + 1; /* from here on release frees this plug's histories */
        if (p && pl->id <= PLUG(h, p - 1)->id)
            return STROM_E_CORRUPT;
        for (int s = 0; s < STROM_Q1_SIZES; s++) {
            if ((rc = strom_reader_u64(in, &v)) ||
                (rc = strom_reader_u64(in, &pl->acc[s].count)))
                return rc;
            pl->acc[s].sum = (int64_t)v;
            if (pl->acc[s].count && h->cur[s] < 0)
                return STROM_E_CORRUPT;
        }
        for (int s = 0; s < STROM_Q1_SIZES; s++)
            if ((rc = hist_decode(&pl->hist[s], s, in)))
                return rc;
    }
    return 0;
}

static void q1_release(void *recp)
{
    struct rec *rec = recp;
    house_free(rec->h);
    rec->h = NULL;
}

static const struct strom_record_codec q1_codec = {q1_encode, q1_decode, q1_release};

/* Checkpoint: the update points reached (u64 prev_wm, u64 last_b). */
static int q1_snapshot(struct strom_ctx *ctx, uint64_t n, struct strom_buf *out)
{
    const struct local *l = strom_ctx_local(ctx);
    int rc = strom_buf_put_u64(out, (uint64_t)l->prev_wm);
    (void)n;
    return rc ? rc : strom_buf_put_u64(out, (uint64_t)l->last_b);
}

const struct strom_operator strom_q1_op = {
    .kind = "debs14-q1",
    .record_size = sizeof(struct rec),
    .codec = &q1_codec,
    .open = q1_open,
    .process = q1_process,
    .on_watermark = q1_watermark,
    .close = q1_close,
    .snapshot = q1_snapshot,
};

double strom_q1_event_prediction(const struct strom_event *ev)
{
    double d;
    memcpy(&d, &ev->v[2], sizeof d);
    return d;
}

/* Appends v in decimal; returns the new end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Appends the load in W, mW given, as printf's "%.3f" would print it. The fast path rounds
 * x * 1000 to an integer, which equals printf's exact rounding unless the product lies
 * next to a half (where the rounding of mw / 1000 could tip it: below 1e9 mW its error is
 * under 1e-6) or is negative or huge: those go
 * through printf. */
static char *put_load(char *p, double mw)
{
    double y = mw, t = trunc(y), frac = y - t;
    if (y < 0 || y > 1e9 || fabs(frac - 0.5) < 1e-6)
        return p + sprintf(p, "%.3f", mw / 1000.0);
    uint64_t r = (uint64_t)nearbyint(mw);
    p = put_u64(p, r / 1000);
    *p++ = '.';
    *p++ = (char)('0' + r / 100 % 10);
    *p++ = (char)('0' + r / 10 % 10);
    *p++ = (char)('0' + r % 10);
    return p;
}

static int put_line(FILE *f, char *line, char *end)
{
    *end++ = '\n';
    return fwrite(line, 1, (size_t)(end - line), f) == (size_t)(end - line) ? 0 : -EIO;
}

int strom_q1_format_house(FILE *f, const struct strom_event *ev, void *arg)
{
    char line[128], *p = line;
    (void)arg;
    p = put_u64(p, (uint64_t)ev->v[1]);
    *p++ = ',';
    p = put_u64(p, ev->key);
    *p++ = ',';
    p = put_load(p, strom_q1_event_prediction(ev));
    return put_line(f, line, p);
}

int strom_q1_format_plug(FILE *f, const struct strom_event *ev, void *arg)
{
    uint64_t id = (uint64_t)ev->v[0];
    char line[160], *p = line;
    (void)arg;
    p = put_u64(p, (uint64_t)ev->v[1]);
    *p++ = ',';
    p = put_u64(p, ev->key);
    *p++ = ',';
    p = put_u64(p, id >> 32);
    *p++ = ',';
    p = put_u64(p, id & 0xffffffffu);
    *p++ = ',';
    p = put_load(p, strom_q1_event_prediction(ev));
    return put_line(f, line, p);
}
