/*
 * apps/debs14/gen.c: the synthetic DEBS 2014 data set (model and format in gen.h).
 *
 * The hot loop runs once per plug report (about 800 000 per second of CPU for 40 houses);
 * rows are assembled by hand into a 4 MiB buffer: the second's timestamp is formatted once
 * per second, the id is a decimal counter incremented in place, the key fields of a plug
 * are a suffix formatted once, and values are an integer part plus a table lookup for the
 * thousandths.
 */
#include "apps/debs14/gen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strom/error.h"

#define TZ 7200 /* CEST, the original's local time: 1377986401 is 00:00:01 */
#define DAY 86400
#define HOUR 3600
#define MIN 60
#define WHEEL 8 /* one-second buckets; more than the longest interval (6 s) */
#define MAX_SEGS 8
#define OUT_CAP (4u << 20)
#define OUT_SLACK 2048        /* free room kept for one report's lines (4 at most) */
#define MJ_PER_WH 3600000ull  /* mW * s per Wh */
#define MAX_LINE ((uint64_t)UINT32_MAX)

/* --- randomness: splitmix64, one stream per plug and one for dirt ------------------ */

static uint64_t sm64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) by multiply-shift: no division, bias below 2^-32. */
static uint32_t below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(((sm64(s) >> 32) * n) >> 32);
}

static uint32_t range(uint64_t *s, uint32_t lo, uint32_t hi)
{
    return lo + below(s, hi - lo + 1);
}

/* Uniform in [-j, j]. */
static int64_t jitter(uint64_t *s, uint32_t j)
{
    return (int64_t)below(s, 2 * j + 1) - (int64_t)j;
}

/* --- the plugs --------------------------------------------------------------------- */

enum kind_id { K_IDLE, K_STANDBY, K_FRIDGE, K_LIGHT, K_TV, K_COMPUTER, K_WASHER, K_DISHWASHER,
            K_KITCHEN, K_COUNT };
#define HM(h, m) ((h) * HOUR + (m) * MIN)

/* What each kind of appliance draws and when. The shares are fitted to the real readings
 * at midnight: 63 % are 0 W, 23 % 5..50 W, 11 % 50..1000 W (always-on devices), few below
 * 5 W; mean 29 W per plug. */
static const struct kind {
    uint8_t pct;                  /* percent of plugs */
    uint8_t noise;                /* percent of noise per reading */
    uint8_t use_lo, use_hi;       /* percent of days it runs (occasional, washers) */
    uint8_t idle_pct;             /* percent of these plugs with a standby draw */
    uint32_t on_lo, on_hi;        /* level when on, mW */
    uint32_t idle_lo, idle_hi;    /* standby draw, mW */
    int32_t pref_lo, pref_hi;     /* preferred start, seconds of the day */
    int32_t end_lo, end_hi;       /* preferred end */
} kinds[K_COUNT] = {
    [K_IDLE] = {17, 5, 10, 40, 0, 3000, 60000, 0, 0, HM(8, 0), HM(21, 0), 0, 0},
    [K_STANDBY] = {28, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0}, /* level: plug_init */
    [K_FRIDGE] = {8, 3, 0, 0, 0, 70000, 160000, 0, 0, 0, 0, 0, 0},
    [K_LIGHT] = {13, 2, 0, 0, 0, 15000, 150000, 0, 0, HM(19, 0), HM(20, 30), HM(22, 30),
                 HM(24, 0)},
    [K_TV] = {9, 8, 0, 0, 30, 60000, 250000, 500, 2500, HM(19, 0), HM(20, 30), HM(22, 0),
              HM(23, 30)},
    [K_COMPUTER] = {10, 15, 0, 0, 20, 40000, 150000, 500, 2000, HM(8, 0), HM(10, 0),
                    HM(16, 30), HM(18, 30)},
    [K_WASHER] = {5, 5, 20, 50, 0, 1800000, 2200000, 0, 0, HM(9, 0), HM(18, 0), 0, 0},
    [K_DISHWASHER] = {4, 5, 40, 80, 0, 1900000, 2200000, 0, 0, HM(19, 30), HM(21, 30), 0, 0},
    [K_KITCHEN] = {6, 3, 0, 0, 0, 800000, 2000000, 0, 0, HM(6, 30), HM(8, 0), 0, 0},
};

struct seg {
    int32_t start, end; /* seconds of the local day, [start, end) */
    uint32_t level;     /* mW */
};

struct plug {
    uint64_t rng;
    uint64_t wh;            /* meter reading, Wh (= kWh in thousandths) */
    uint64_t mj;            /* energy not yet a whole Wh, mW*s */
    int64_t last_t;         /* time of the last report */
    int64_t next_change;    /* level holds until this time */
    int64_t day_start;      /* the day plan's local midnight, Unix seconds */
    uint32_t load;          /* last reported load, mW */
    uint32_t level;         /* the appliance's level now, mW */
    uint32_t on_mw, idle_mw;
    int32_t pref, pref2;    /* preferred start and end, seconds of the day */
    uint32_t on_s, off_s;   /* fridge cycle */
    uint32_t id, household, house;
    uint8_t kind, interval, noise_pct, use_pct;
    uint8_t nseg, seg, on, suffix_len;
    char suffix[24];        /* ",plug,household,house\n" */
    struct seg plan[MAX_SEGS];
};

struct gen {
    const struct strom_debs_gen_config *cfg;
    struct strom_debs_gen_stats *st;
    FILE *f;
    char *err, *buf; /* err: the caller's message buffer; buf: output not yet written */
    size_t errlen, len;
    struct plug *plugs;
    uint64_t nplugs;
    uint32_t *bucket[WHEEL];
    uint32_t nb[WHEEL];
    int64_t t, start, end, gap_until;
    uint64_t line;     /* number of the next line */
    uint64_t drng;     /* the dirt's own stream, so that clean rows do not depend on it */
    uint64_t dirty_thresh, gap_thresh; /* probabilities scaled to 2^64 */
    char id[24];       /* the next line number in digits */
    char ts[24];       /* the current second in digits, then ',' */
    uint8_t idlen, tslen;
    char frac[1000][4]; /* ".xyz" with trailing zeros dropped; "" for 0 */
    uint8_t fraclen[1000];
};

static int fail(struct gen *g, int rc, const char *fmt, ...)
{
    va_list ap;
    if (g->err && g->errlen) {
        va_start(ap, fmt);
        vsnprintf(g->err, g->errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

uint64_t strom_debs_gen_plug_count(uint32_t houses)
{
    uint64_t n = ((uint64_t)houses * 2125 + 20) / 40;
    return n < houses ? houses : n;
}

/* Level +- pct percent, for the day-to-day variation of an appliance. */
static uint32_t vary(uint64_t *s, uint32_t level, uint32_t pct)
{
    uint32_t d = (uint32_t)((uint64_t)level * pct / 100);
    return level - d + below(s, 2 * d + 1);
}

static void plug_init(struct plug *p, uint64_t seed, uint64_t index, int64_t start)
{
    uint64_t x = seed ^ (index * 0xd1342543de82ef95ull);
    uint64_t *s = &p->rng;
    uint32_t r, k = 0, acc = 0;
    const struct kind *d;

    p->rng = sm64(&x);
    r = below(s, 100);
    while (k + 1 < K_COUNT && r >= acc + kinds[k].pct)
        acc += kinds[k++].pct;
    p->kind = (uint8_t)k;
    /* Half the real plugs report every 2 s, most others every ~5 s. */
    r = below(s, 100);
    p->interval = r < 50 ? 2 : r < 70 ? 3 : r < 80 ? 4 : r < 95 ? 5 : 6;
    p->wh = below(s, below(s, 200000) + 1); /* skewed to small readings, like the real ones */
    d = &kinds[k];
    p->noise_pct = d->noise;
    p->use_pct = (uint8_t)range(s, d->use_lo, d->use_hi);
    p->on_mw = range(s, d->on_lo, d->on_hi);
    p->idle_mw = below(s, 100) < d->idle_pct ? range(s, d->idle_lo, d->idle_hi) : 0;
    p->pref = (int32_t)range(s, (uint32_t)d->pref_lo, (uint32_t)d->pref_hi);
    p->pref2 = (int32_t)range(s, (uint32_t)d->end_lo, (uint32_t)d->end_hi);
    if (k == K_STANDBY) { /* routers, aquariums, servers: a constant, noisy draw */
        r = below(s, 100);
        p->on_mw = p->idle_mw = r < 70   ? range(s, 5000, 50000)
                                : r < 90 ? range(s, 50000, 200000)
                                         : range(s, 200000, 500000);
        p->noise_pct = (uint8_t)range(s, 3, 20);
    } else if (k == K_FRIDGE) {
        p->on_s = range(s, 10, 20) * MIN;
        p->off_s = range(s, 25, 45) * MIN;
        p->on = (uint8_t)below(s, 2);
        p->level = p->on ? p->on_mw : 0;
    }
    /* Day plans are made at the first report; a fridge starts mid-cycle. */
    p->next_change = p->kind == K_FRIDGE ? start + 1 + below(s, p->off_s) : start;
    p->day_start = INT64_MIN / 2;
}

/* Appends [start, start + len) to the day plan, clipped to the day and to the end of the
 * previous segment, so the plan stays sorted and disjoint whatever the jitter did. */
static void plan_add(struct plug *p, int64_t start, int64_t len, uint32_t level)
{
    int64_t lo = p->nseg ? p->plan[p->nseg - 1].end : 0, end = start + len;
    if (start < lo)
        start = lo;
    if (end > DAY)
        end = DAY;
    if (start >= end || p->nseg == MAX_SEGS)
        return;
    p->plan[p->nseg++] = (struct seg){(int32_t)start, (int32_t)end, level};
}

/* One day of an appliance: its preferred hours, moved a little every day, so that the
 * same slice on earlier days predicts the next one (Query 1) without repeating exactly. */
static void plan_day(struct plug *p, int64_t day)
{
    uint64_t *s = &p->rng;
    int64_t dow = (day + 4) % 7, at, len; /* 1970-01-01 was a Thursday; 0 = Sunday */
    int weekend = dow == 0 || dow == 6;

    p->nseg = 0;
    p->seg = 0;
    switch (p->kind) {
    case K_IDLE:
        if (below(s, 100) < p->use_pct)
            plan_add(p, p->pref + jitter(s, 2 * HOUR), range(s, 20, 120) * MIN,
                     vary(s, p->on_mw, 10));
        break;
    case K_LIGHT:
        if (!weekend && below(s, 2))
            plan_add(p, HM(6, 30) + jitter(s, 20 * MIN), range(s, 30, 60) * MIN, p->on_mw);
        at = p->pref + jitter(s, 20 * MIN);
        plan_add(p, at, p->pref2 + jitter(s, 30 * MIN) - at, p->on_mw);
        break;
    case K_TV:
        if (weekend && below(s, 100) < 40)
            plan_add(p, HM(14, 0) + jitter(s, HOUR), range(s, 60, 180) * MIN, p->on_mw);
        if (below(s, 100) < 80) {
            at = p->pref + jitter(s, 30 * MIN);
            plan_add(p, at, p->pref2 + jitter(s, HOUR) - at, vary(s, p->on_mw, 10));
        }
        break;
    case K_COMPUTER:
        if (!weekend && below(s, 100) < 70) {
            at = p->pref + jitter(s, 30 * MIN);
            plan_add(p, at, p->pref2 + jitter(s, 30 * MIN) - at, p->on_mw);
        }
        if (below(s, 2))
            plan_add(p, 20 * HOUR + jitter(s, 30 * MIN), range(s, 60, 180) * MIN, p->on_mw);
        break;
    case K_WASHER: /* heat, wash, spin: 65..105 min */
        if (below(s, 100) < p->use_pct) {
            at = p->pref + jitter(s, 2 * HOUR);
            len = range(s, 15, 25) * MIN;
            plan_add(p, at, len, vary(s, p->on_mw, 5));
            at += len;
            len = range(s, 40, 60) * MIN;
            plan_add(p, at, len, range(s, 100000, 300000));
            plan_add(p, at + len, range(s, 10, 20) * MIN, range(s, 300000, 600000));
        }
        break;
    case K_DISHWASHER: /* heat, wash, heat, dry: 105 min */
        if (below(s, 100) < p->use_pct) {
            at = p->pref + jitter(s, 30 * MIN);
            plan_add(p, at, 20 * MIN, p->on_mw);
            plan_add(p, at + 20 * MIN, 40 * MIN, 150000);
            plan_add(p, at + 60 * MIN, 15 * MIN, p->on_mw);
            plan_add(p, at + 75 * MIN, 30 * MIN, 10000);
        }
        break;
    case K_KITCHEN: /* minutes around breakfast, lunch (some days) and dinner */
        for (int b = 1 + (int)below(s, 2), i = 0; i < b; i++)
            plan_add(p, p->pref + i * 20 * MIN + jitter(s, 5 * MIN), range(s, 2, 6) * MIN,
                     vary(s, p->on_mw, 5));
        if (below(s, 2))
            plan_add(p, 12 * HOUR + below(s, HOUR), range(s, 2, 6) * MIN, p->on_mw);
        for (int b = 1 + (int)below(s, 2), i = 0; i < b; i++)
            plan_add(p, 18 * HOUR + below(s, 90 * MIN), range(s, 2, 6) * MIN, p->on_mw);
        break;
    default: /* standby: constant all day */
        break;
    }
}

/* The appliance's level at t (called only when t reaches next_change). */
static void update_level(struct plug *p, int64_t t)
{
    int64_t sod;
    if (p->kind == K_FRIDGE) {
        while (t >= p->next_change) {
            uint32_t len;
            p->on = !p->on;
            len = p->on ? p->on_s : p->off_s;
            sod = (p->next_change + TZ) % DAY;
            if (!p->on && sod >= 7 * HOUR && sod < 22 * HOUR)
                len -= len / 4; /* doors opened in the day: shorter pauses */
            p->next_change += len - len / 8 + below(&p->rng, len / 4 + 1);
        }
        p->level = p->on ? p->on_mw : 0;
        return;
    }
    if (t >= p->day_start + DAY) {
        int64_t day = (t + TZ) / DAY;
        p->day_start = day * DAY - TZ;
        plan_day(p, day);
    }
    sod = t - p->day_start;
    while (p->seg < p->nseg && sod >= p->plan[p->seg].end)
        p->seg++;
    if (p->seg < p->nseg && sod >= p->plan[p->seg].start) {
        p->level = p->plan[p->seg].level;
        p->next_change = p->day_start + p->plan[p->seg].end;
    } else {
        p->level = p->idle_mw;
        p->next_change = p->day_start + (p->seg < p->nseg ? p->plan[p->seg].start : DAY);
    }
}

/* Level +- pct percent, from 32 random bits; 0 stays exactly 0, as in the real data. */
static uint32_t noisy(uint32_t level, uint32_t pct, uint32_t r32)
{
    uint64_t d = (uint64_t)level * pct / 100;
    return (uint32_t)(level - d + (((uint64_t)r32 * (2 * d + 1)) >> 32));
}

/* A report at t: the meter integrates the load reported last, over the time since. Returns
 * random bits for the caller (row order). */
static uint64_t report(struct plug *p, int64_t t)
{
    uint64_t r;
    p->mj += (uint64_t)p->load * (uint64_t)(t - p->last_t);
    if (p->mj >= MJ_PER_WH) {
        p->wh += p->mj / MJ_PER_WH;
        p->mj %= MJ_PER_WH;
    }
    p->last_t = t;
    if (t >= p->next_change)
        update_level(p, t);
    r = sm64(&p->rng);
    p->load = noisy(p->level, p->noise_pct, (uint32_t)(r >> 32));
    return r;
}

/* Seconds to the next report: the plug's interval, one second more or less now and then,
 * always within 1..6. */
static unsigned next_step(struct plug *p)
{
    uint32_t r = below(&p->rng, 100), i = p->interval;
    return r < 12 ? i - 1 : r < 24 && i < 6 ? i + 1 : i;
}

/* --- output -------------------------------------------------------------------------- */

static int out_flush(struct gen *g)
{
    errno = 0;
    if (g->len && fwrite(g->buf, 1, g->len, g->f) != g->len) {
        int e = errno ? errno : EIO;
        return fail(g, -e, "write failed after byte %llu: %s",
                    (unsigned long long)g->st->bytes, strerror(e));
    }
    g->st->bytes += g->len;
    g->len = 0;
    return 0;
}

static char *put_u64(char *o, uint64_t v)
{
    char tmp[24];
    int n = 24;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(o, tmp + n, (size_t)(24 - n));
    return o + 24 - n;
}

/* The line number counts up in its digits, which costs less than formatting it. */
static void next_id(struct gen *g)
{
    int i = g->idlen - 1;
    g->line++;
    while (i >= 0 && g->id[i] == '9')
        g->id[i--] = '0';
    if (i >= 0) {
        g->id[i]++;
    } else {
        memmove(g->id + 1, g->id, g->idlen++);
        g->id[0] = '1';
    }
}

/* Writes one good row at the current second. The fixed-size memcpy calls may copy bytes
 * past the field: the next field overwrites them, and OUT_SLACK keeps them in the buffer. */
static void put_row(struct gen *g, const struct plug *p, int prop, uint64_t v)
{
    char *o = g->buf + g->len;
    memcpy(o, g->id, 16);
    o += g->idlen;
    *o++ = ',';
    memcpy(o, g->ts, 16);
    o += g->tslen;
    o = put_u64(o, v / 1000);
    memcpy(o, g->frac[v % 1000], 4);
    o += g->fraclen[v % 1000];
    *o++ = ',';
    *o++ = (char)('0' + prop);
    memcpy(o, p->suffix, sizeof p->suffix);
    o += p->suffix_len;
    g->len = (size_t)(o - g->buf);
    next_id(g);
}

/* --- dirt ---------------------------------------------------------------------------- */

#define FW 48
struct fields {
    char f[8][FW];
    int n;
};

static void value_str(const struct gen *g, char *o, uint64_t v)
{
    o = put_u64(o, v / 1000);
    memcpy(o, g->frac[v % 1000], 4);
    o[g->fraclen[v % 1000]] = 0;
}

static void fields_of(struct fields *L, const struct gen *g, const struct plug *p, int prop,
                      uint64_t v, int64_t ts)
{
    L->n = 7;
    snprintf(L->f[0], FW, "%llu", (unsigned long long)g->line);
    snprintf(L->f[1], FW, "%lld", (long long)ts);
    value_str(g, L->f[2], v);
    snprintf(L->f[3], FW, "%d", prop);
    snprintf(L->f[4], FW, "%u", p->id);
    snprintf(L->f[5], FW, "%u", p->household);
    snprintf(L->f[6], FW, "%u", p->house);
}

static void put_fields(struct gen *g, const struct fields *L)
{
    char *o = g->buf + g->len;
    for (int i = 0; i < L->n; i++) {
        size_t n = strlen(L->f[i]);
        if (i)
            *o++ = ',';
        memcpy(o, L->f[i], n);
        o += n;
    }
    *o++ = '\n';
    g->len = (size_t)(o - g->buf);
    next_id(g);
}

/* Breaks the line in one way the grammar refuses; never with ',', CR or LF inside a
 * field, which would change the field count or be ignored. */
static void malform(struct gen *g, struct fields *L, uint64_t v)
{
    static const int int_fields[6] = {0, 1, 3, 4, 5, 6}, range_fields[5] = {0, 1, 4, 5, 6};
    static const char junk[] = "xO l-+.;/#";
    uint64_t *s = &g->drng;
    unsigned long long ip = v / 1000, fr = v % 1000;
    int kind = (int)below(s, STROM_DEBS_GEN_M_COUNT), i;
    char *f;

    g->st->malformed++;
    g->st->malformed_kind[kind]++;
    switch (kind) {
    case STROM_DEBS_GEN_M_FIELDS:
        if (below(s, 2)) {
            i = (int)below(s, 7);
            memmove(L->f[i], L->f[i + 1], (size_t)(6 - i) * FW);
            L->n = 6;
        } else {
            snprintf(L->f[7], FW, "%s", below(s, 2) ? "" : L->f[below(s, 7)]);
            L->n = 8;
        }
        break;
    case STROM_DEBS_GEN_M_EMPTY:
        L->f[below(s, 7)][0] = 0;
        break;
    case STROM_DEBS_GEN_M_DIGITS: {
        f = L->f[int_fields[below(s, 6)]];
        size_t n = strlen(f), at = below(s, (uint32_t)n + 1);
        memmove(f + at + 1, f + at, n - at + 1);
        f[at] = junk[below(s, sizeof junk - 1)];
        break;
    }
    case STROM_DEBS_GEN_M_RANGE:
        f = L->f[range_fields[below(s, 5)]];
        snprintf(f, FW, "%llu", strtoull(f, NULL, 10) + (1ull << 32) * (1 + below(s, 4)));
        break;
    case STROM_DEBS_GEN_M_VALUE: {
        char good[FW];
        memcpy(good, L->f[2], FW);
        f = L->f[2];
        switch (below(s, 9)) {
        case 0: snprintf(f, FW, "-%.24s", good); break;
        case 1: snprintf(f, FW, "+%.24s", good); break;
        case 2: snprintf(f, FW, "%.24s%c%u", good, below(s, 2) ? 'e' : 'E', below(s, 4)); break;
        case 3: snprintf(f, FW, below(s, 2) ? " %.24s" : "%.24s ", good); break;
        case 4: snprintf(f, FW, "%llu.%03llu%u", ip, fr, range(s, 1, 9)); break;
        case 5: snprintf(f, FW, ".%llu", fr); break;
        case 6: snprintf(f, FW, "%llu.", ip); break;
        case 7: snprintf(f, FW, "%llu.%llu.%u", ip, fr, below(s, 10)); break;
        default: snprintf(f, FW, "%s", below(s, 2) ? "NaN" : "0x1f"); break;
        }
        break;
    }
    default: /* STROM_DEBS_GEN_M_PROPERTY */
        snprintf(L->f[3], FW, "%u", range(s, 2, 11));
        break;
    }
}

/* One extra line after the row (prop, v) of plug p just written at g->t. */
static void inject(struct gen *g, struct plug *p, int prop, uint64_t v)
{
    uint64_t *s = &g->drng;
    uint32_t r = below(s, 100);
    struct fields L;

    /* A late row needs an earlier second at or after the start (else it would be refused
     * for t0 as well, and the first second has none): it becomes a duplicate there. */
    if (r < 40 || (r >= 80 && g->t == g->start)) {
        if (below(s, 2)) /* another value: re-measured load, work counter off by one */
            v = prop ? noisy(p->level, p->noise_pct, (uint32_t)sm64(s)) : v ? v - 1 : 1;
        g->st->duplicates++;
        put_row(g, p, prop, v);
    } else if (r >= 80) {
        int64_t back = g->t - g->start;
        fields_of(&L, g, p, prop, v, g->t - 1 - below(s, (uint32_t)(back < 600 ? back : 600)));
        g->st->late++;
        put_fields(g, &L);
    } else {
        fields_of(&L, g, p, prop, v, g->t);
        malform(g, &L, v);
        put_fields(g, &L);
    }
}

/* --- the run ------------------------------------------------------------------------- */

static int setup(struct gen *g)
{
    const struct strom_debs_gen_config *cfg = g->cfg;
    uint32_t H = cfg->houses;
    uint64_t total = strom_debs_gen_plug_count(H), spare = total - H, wsum = 0, acc = 0;
    uint64_t ls = cfg->seed ^ 0x6c61796f75742121ull, idx = 0, *per = calloc(H, sizeof *per);
    int rc = 0;

    g->plugs = calloc(total, sizeof *g->plugs);
    g->buf = malloc(OUT_CAP);
    for (int b = 0; b < WHEEL; b++) /* each bucket can hold every plug */
        rc |= !(g->bucket[b] = malloc(total * sizeof(uint32_t)));
    if (rc || !per || !g->plugs || !g->buf) {
        rc = fail(g, -ENOMEM, "out of memory for %llu plugs", (unsigned long long)total);
        goto out;
    }
    /* Every house gets one plug, the rest in proportion to weights of 10..107 (the real
     * range), rounded by running sums so that the total is exact. */
    for (uint32_t h = 0; h < H; h++)
        wsum += per[h] = range(&ls, 10, 107);
    for (uint32_t h = 0; h < H; h++) {
        uint64_t before = spare * acc / wsum;
        acc += per[h];
        per[h] = 1 + spare * acc / wsum - before;
    }
    g->nplugs = total;
    for (uint32_t h = 0; h < H; h++) {
        for (uint32_t hh = 0, left = (uint32_t)per[h]; left; hh++) {
            uint32_t n = range(&ls, 1, 14);
            if (n > left)
                n = left;
            for (uint32_t k = 0; k < n; k++, idx++) {
                struct plug *p = &g->plugs[idx];
                int64_t first;
                plug_init(p, cfg->seed, idx, g->start);
                p->id = k;
                p->household = hh;
                p->house = h;
                p->suffix_len = (uint8_t)snprintf(p->suffix, sizeof p->suffix, ",%u,%u,%u\n",
                                                  k, hh, h);
                first = g->start + below(&p->rng, p->interval);
                p->last_t = first;
                g->bucket[first % WHEEL][g->nb[first % WHEEL]++] = (uint32_t)idx;
            }
            left -= n;
        }
    }
    for (int v = 0; v < 1000; v++) {
        char tmp[8] = {0};
        int n = v ? snprintf(tmp, sizeof tmp, ".%03d", v) : 0;
        while (n && tmp[n - 1] == '0')
            n--;
        memcpy(g->frac[v], tmp, 4);
        g->fraclen[v] = (uint8_t)n;
    }
out:
    free(per);
    return rc;
}

/* Refuses at once a set expected to pass 2^32 - 1 lines, rather than after writing 140 GB:
 * a plug reports seconds / (its mean interval) times; dirt adds r of the rows and gaps
 * (6 min every 20/r s, a minute apart at least) silence 18r / (1 + 21r) of the time. Near
 * the limit, run_second decides. */
static int check_size(struct gen *g)
{
    double lines = 0, r = g->cfg->dirty;
    for (uint64_t i = 0; i < g->nplugs; i++)
        lines += 2.0 * (double)g->cfg->seconds /
                 (g->plugs[i].interval == 6 ? 5.88 : g->plugs[i].interval);
    lines *= (1 + r) * (1 - 18 * r / (1 + 21 * r));
    if (lines > (double)MAX_LINE)
        return fail(g, -EOVERFLOW, "about %.0f lines, but ids are 32-bit numbers: generate "
                    "fewer houses or days", lines);
    return 0;
}

/* Every plug due at second t reports; the rows go out unless t is inside a gap. */
static int run_second(struct gen *g, int64_t t)
{
    uint32_t b = (uint32_t)(t % WHEEL), n = g->nb[b], *list = g->bucket[b], next;
    int writing, rc;

    /* A minute of data at least between gaps keeps each one a gap of its own. */
    if (g->gap_thresh && t >= g->gap_until + MIN && sm64(&g->drng) < g->gap_thresh) {
        g->gap_until = t + range(&g->drng, 2 * MIN, 10 * MIN);
        g->st->gaps++;
        g->st->gap_seconds += (uint64_t)((g->gap_until < g->end ? g->gap_until : g->end) - t);
    }
    writing = t >= g->gap_until;
    g->t = t;
    g->tslen = (uint8_t)(put_u64(g->ts, (uint64_t)t) - g->ts);
    g->ts[g->tslen++] = ',';
    for (uint32_t i = 0; i < n; i++) {
        struct plug *p = &g->plugs[list[i]];
        uint64_t r = report(p, t);
        if (writing) {
            int first = (int)(r & 1); /* work or load first, as in the real data */
            for (int k = 0; k < 2; k++) {
                int prop = k ^ first;
                uint64_t v = prop ? p->load : p->wh;
                put_row(g, p, prop, v);
                if (g->dirty_thresh && sm64(&g->drng) < g->dirty_thresh)
                    inject(g, p, prop, v);
            }
            if (g->line - 1 > MAX_LINE)
                return fail(g, -EOVERFLOW,
                            "line %llu at second %lld: ids are 32-bit numbers; generate "
                            "fewer houses or days", (unsigned long long)(g->line - 1),
                            (long long)t);
            if (g->len > OUT_CAP - OUT_SLACK && (rc = out_flush(g)))
                return rc;
        }
        next = (uint32_t)((t + next_step(p)) % WHEEL);
        g->bucket[next][g->nb[next]++] = list[i];
    }
    g->nb[b] = 0;
    return 0;
}

int strom_debs_gen_write(const struct strom_debs_gen_config *cfg, FILE *out,
                         struct strom_debs_gen_stats *st, char *err, size_t errlen)
{
    struct strom_debs_gen_stats local;
    struct gen *g;
    int rc = 0;

    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    if (err && errlen)
        err[0] = 0;
    if (!(g = calloc(1, sizeof *g)))
        return -ENOMEM;
    g->cfg = cfg;
    g->st = st;
    g->f = out;
    g->err = err;
    g->errlen = errlen;
    if (!cfg || !out || cfg->houses < 1 || cfg->houses > STROM_DEBS_GEN_MAX_HOUSES ||
        cfg->seconds < 1 || !(cfg->dirty >= 0 && cfg->dirty < 1)) {
        rc = fail(g, STROM_E_INVAL, "houses must be 1..%u, seconds >= 1, dirty in [0, 1)",
                  STROM_DEBS_GEN_MAX_HOUSES);
        goto out;
    }
    g->start = cfg->start ? cfg->start : STROM_DEBS_GEN_DEFAULT_START;
    if (cfg->seconds > (uint64_t)UINT32_MAX + 1 - (uint64_t)g->start) {
        rc = fail(g, STROM_E_INVAL, "the last second (%lld + %llu - 1) does not fit in 32 bits",
                  (long long)g->start, (unsigned long long)cfg->seconds);
        goto out;
    }
    g->end = g->start + (int64_t)cfg->seconds;
    g->line = 1;
    g->id[0] = '1';
    g->idlen = 1;
    g->drng = cfg->seed ^ 0x6469727479212121ull;
    /* dirty * 2^64 is exact in binary and its conversion truncates: the same on every
     * IEEE machine. Gaps: one every 20/dirty seconds on average. */
    g->dirty_thresh = (uint64_t)(cfg->dirty * 18446744073709551616.0);
    g->gap_thresh = (uint64_t)(cfg->dirty / 20 * 18446744073709551616.0);
    if ((rc = setup(g)) || (rc = check_size(g)))
        goto out;
    st->plugs = g->nplugs;
    for (int64_t t = g->start; t < g->end; t++) {
        if ((rc = run_second(g, t)))
            goto out;
        st->seconds_done++;
        st->rows = g->line - 1;
        if (cfg->progress && st->seconds_done % HOUR == 0 && t + 1 < g->end)
            cfg->progress(cfg->progress_arg, st);
    }
    if ((rc = out_flush(g)))
        goto out;
    errno = 0;
    if (fflush(out)) {
        int e = errno ? errno : EIO;
        rc = fail(g, -e, "write failed: %s", strerror(e));
        goto out;
    }
    if (cfg->progress)
        cfg->progress(cfg->progress_arg, st);
out:
    st->rows = g->line ? g->line - 1 : 0;
    for (int b = 0; b < WHEEL; b++)
        free(g->bucket[b]);
    free(g->plugs);
    free(g->buf);
    free(g);
    return rc;
}

const char *strom_debs_gen_malformed_name(int kind)
{
    static const char *const names[] = {
#define STROM_DEBS_GEN__MAL_NAME(name, key) key,
        STROM_DEBS_GEN_MALFORMED_MAP(STROM_DEBS_GEN__MAL_NAME)
#undef STROM_DEBS_GEN__MAL_NAME
    };
    return kind >= 0 && kind < STROM_DEBS_GEN_M_COUNT ? names[kind] : "?";
}
