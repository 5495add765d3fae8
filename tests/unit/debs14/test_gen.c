/* The synthetic DEBS 2014 data (apps/debs14/gen.h): determinism, the exact input format on
 * every line, the shape (pairs, intervals, meters, layout, daily profile), and dirty data
 * checked by a reader written here from the spec's grammar and late rule alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/debs14/gen.h"
#include "strom/error.h"

#define T0 1377986401u
#define MAX_HH 256 /* household ids per house the checker can index */
#define MAX_PL 32  /* plug ids per household */

struct trow {
    uint32_t id, ts, prop, plug, hh, house;
    uint64_t value; /* thousandths */
};

struct plugst {
    uint32_t last_ts, last_prop_ts[2];
    uint64_t last_work;
    uint8_t seen, at_last[2]; /* rows of each property at last_ts */
};

/* The reader: feeds on bytes, checks and counts. */
struct chk {
    int clean;                 /* clean data: every rule below must hold */
    uint32_t houses;
    char part[512];
    size_t npart;
    uint64_t lines, rejects, grammar_rejects, late_rejects, duplicates, gaps;
    uint64_t errors;           /* broken rules, clean data; the first is in msg */
    char msg[512];
    uint32_t max_ts;           /* largest accepted timestamp */
    uint32_t prev_ts;          /* timestamp of the previous line (clean) */
    struct plugst *plugs;      /* [house][hh][plug] */
    uint64_t nplugs;
    uint64_t loads, zero_loads;
    double hour_sum[2][24];    /* load summed per (day, hour), days 0 and 1 */
    uint64_t hour_n[2][24];
    /* the accepted, non-duplicate rows, when keep is set */
    int keep;
    struct trow *rows;
    size_t nrows, caprows;
};

static void broke(struct chk *c, const char *fmt, ...)
{
    va_list ap;
    if (!c->errors++) {
        int n = snprintf(c->msg, sizeof c->msg, "line %llu: ", (unsigned long long)c->lines);
        va_start(ap, fmt);
        vsnprintf(c->msg + n, sizeof c->msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
}

/* One or more digits, a number below 2^32 (leading zeros allowed). */
static int u32_field(const char *p, size_t n, uint32_t *out)
{
    uint64_t v = 0;
    if (!n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(p[i] - '0');
        if (v > UINT32_MAX)
            return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* 1*DIGIT [ "." 1*3DIGIT ]. */
static int value_field(const char *p, size_t n, uint64_t *out)
{
    size_t i = 0, k;
    uint64_t v = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && i < 15)
        v = v * 10 + (uint64_t)(p[i++] - '0');
    if (!i || (i < n && p[i] >= '0' && p[i] <= '9'))
        return -1;
    v *= 1000;
    if (i == n) {
        *out = v;
        return 0;
    }
    if (p[i++] != '.' || n - i < 1 || n - i > 3)
        return -1;
    for (k = 0; i < n; i++, k++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v += (uint64_t)(p[i] - '0') * (k == 0 ? 100 : k == 1 ? 10 : 1);
    }
    *out = v;
    return 0;
}

/* The spec's grammar: 0 and the row, or -1. */
static int spec_line(const char *p, size_t n, struct trow *r)
{
    const char *f[8];
    size_t len[8];
    int nf = 0;
    if (n && p[n - 1] == '\r')
        n--;
    for (size_t i = 0, s = 0; i <= n; i++)
        if (i == n || p[i] == ',') {
            if (nf == 8)
                return -1;
            f[nf] = p + s;
            len[nf++] = i - s;
            s = i + 1;
        }
    if (nf != 7)
        return -1;
    if (u32_field(f[0], len[0], &r->id) || u32_field(f[1], len[1], &r->ts) ||
        value_field(f[2], len[2], &r->value) || u32_field(f[3], len[3], &r->prop) ||
        r->prop > 1 || u32_field(f[4], len[4], &r->plug) || u32_field(f[5], len[5], &r->hh) ||
        u32_field(f[6], len[6], &r->house))
        return -1;
    return 0;
}

/* Canonical: no leading zeros, no trailing zeros after the point, no ".0". */
static int canonical(const char *p, size_t n)
{
    const char *c1 = memchr(p, ',', n), *c2 = c1 ? memchr(c1 + 1, ',', n - (size_t)(c1 + 1 - p)) : NULL;
    const char *v, *dot, *e;
    if (!c2)
        return 0;
    v = c2 + 1;
    e = memchr(v, ',', n - (size_t)(v - p));
    if (!e)
        return 0;
    dot = memchr(v, '.', (size_t)(e - v));
    if (v[0] == '0' && v + 1 != (dot ? dot : e))
        return 0;
    if (dot && e[-1] == '0')
        return 0;
    return p[0] != '0' && c1[1] != '0';
}

static void line(struct chk *c, const char *p, size_t n)
{
    struct trow r;
    struct plugst *ps;
    c->lines++;
    if (spec_line(p, n, &r)) {
        c->rejects++;
        c->grammar_rejects++;
        if (c->clean)
            broke(c, "not grammatical: %.*s", (int)n, p);
        return;
    }
    if (r.ts < c->max_ts) {
        c->rejects++;
        c->late_rejects++;
        if (c->clean)
            broke(c, "late");
        return;
    }
    if (c->max_ts && r.ts - c->max_ts >= 120)
        c->gaps++;
    c->max_ts = r.ts;
    if (r.id != c->lines)
        broke(c, "id %u", r.id);
    if (r.house >= c->houses || r.hh >= MAX_HH || r.plug >= MAX_PL) {
        broke(c, "key %u,%u,%u out of the checker's range", r.plug, r.hh, r.house);
        return;
    }
    ps = &c->plugs[((uint64_t)r.house * MAX_HH + r.hh) * MAX_PL + r.plug];
    if (ps->seen && r.ts == ps->last_prop_ts[r.prop] && ps->at_last[r.prop]) {
        c->duplicates++; /* same plug, property and second again */
        if (c->clean)
            broke(c, "duplicate");
        return;
    }
    if (c->keep) {
        if (c->nrows == c->caprows) {
            c->caprows = c->caprows ? 2 * c->caprows : 1 << 16;
            c->rows = realloc(c->rows, c->caprows * sizeof *c->rows);
            assert_non_null(c->rows);
        }
        c->rows[c->nrows++] = r;
    }
    if (c->clean) {
        if (!canonical(p, n))
            broke(c, "not canonical: %.*s", (int)n, p);
        if (n && p[n - 1] == '\r')
            broke(c, "CR");
        if (ps->seen && r.ts != ps->last_ts) {
            if (!ps->at_last[0] || !ps->at_last[1])
                broke(c, "second %u of a plug without both rows", ps->last_ts);
            if (r.ts - ps->last_ts < 1 || r.ts - ps->last_ts > 6)
                broke(c, "interval %u", r.ts - ps->last_ts);
        }
        if (r.prop == 0 && ps->seen && r.value < ps->last_work)
            broke(c, "work went down");
    }
    if (!ps->seen || r.ts != ps->last_ts) {
        if (!ps->seen)
            c->nplugs++;
        ps->at_last[0] = ps->at_last[1] = 0;
        ps->last_ts = r.ts;
    }
    ps->seen = 1;
    ps->at_last[r.prop] = 1;
    ps->last_prop_ts[r.prop] = r.ts;
    if (r.prop == 0) {
        ps->last_work = r.value;
    } else {
        uint32_t since = r.ts - T0, day = since / 86400;
        c->loads++;
        c->zero_loads += r.value == 0;
        if (day < 2) {
            c->hour_sum[day][since % 86400 / 3600] += (double)r.value / 1000;
            c->hour_n[day][since % 86400 / 3600]++;
        }
    }
}

static void chk_feed(struct chk *c, const char *p, size_t n)
{
    while (n) {
        const char *lf = memchr(p, '\n', n);
        size_t k = lf ? (size_t)(lf - p) : n;
        if (c->npart || !lf) {
            assert_true(c->npart + k < sizeof c->part);
            memcpy(c->part + c->npart, p, k);
            c->npart += k;
            if (lf) {
                line(c, c->part, c->npart);
                c->npart = 0;
            }
        } else {
            line(c, p, k);
        }
        if (!lf)
            break;
        p += k + 1;
        n -= k + 1;
    }
}

static void chk_init(struct chk *c, uint32_t houses, int clean)
{
    memset(c, 0, sizeof *c);
    c->houses = houses;
    c->clean = clean;
    c->plugs = calloc((size_t)houses * MAX_HH * MAX_PL, sizeof *c->plugs);
    assert_non_null(c->plugs);
}

/* Every plug id of a household and household id of a house is dense from 0. */
static void chk_dense(struct chk *c)
{
    for (uint32_t h = 0; h < c->houses; h++) {
        int hh_end = 0;
        for (uint32_t hh = 0; hh < MAX_HH; hh++) {
            int pl_end = 0;
            for (uint32_t p = 0; p < MAX_PL; p++) {
                int seen = c->plugs[((uint64_t)h * MAX_HH + hh) * MAX_PL + p].seen;
                if (seen && (pl_end || hh_end))
                    fail_msg("house %u household %u plug %u after a hole", h, hh, p);
                if (!seen)
                    pl_end = 1;
            }
            if (!c->plugs[((uint64_t)h * MAX_HH + hh) * MAX_PL].seen)
                hh_end = 1;
        }
        if (!c->plugs[(uint64_t)h * MAX_HH * MAX_PL].seen)
            fail_msg("house %u has no plug 0 in household 0", h);
    }
}

/* The last second of every plug has both rows too. */
static void chk_end(struct chk *c)
{
    for (uint64_t i = 0; i < (uint64_t)c->houses * MAX_HH * MAX_PL; i++)
        if (c->plugs[i].seen && (!c->plugs[i].at_last[0] || !c->plugs[i].at_last[1]))
            broke(c, "the last second of plug slot %llu lacks a row", (unsigned long long)i);
}

static void chk_release(struct chk *c)
{
    free(c->plugs);
    free(c->rows);
}

static ssize_t cookie_write(void *arg, const char *buf, size_t n)
{
    chk_feed(arg, buf, n);
    return (ssize_t)n;
}

/* Generates straight into the checker, without holding the data. */
static int gen_into(struct chk *c, const struct strom_debs_gen_config *cfg,
                    struct strom_debs_gen_stats *st)
{
    cookie_io_functions_t io = {.write = cookie_write};
    FILE *f = fopencookie(c, "w", io);
    int rc;
    assert_non_null(f);
    rc = strom_debs_gen_write(cfg, f, st, NULL, 0);
    fclose(f);
    return rc;
}

/* Generates into memory. */
static char *gen_mem(const struct strom_debs_gen_config *cfg, size_t *len,
                     struct strom_debs_gen_stats *st)
{
    char *buf = NULL;
    char err[256];
    FILE *f = open_memstream(&buf, len);
    int rc;
    assert_non_null(f);
    rc = strom_debs_gen_write(cfg, f, st, err, sizeof err);
    if (rc)
        fail_msg("gen: %s: %s", strom_strerror(rc), err);
    fclose(f);
    return buf;
}

/* The checker itself: it must know the grammar's edges, or the counts prove nothing. */
static void test_checker(void **state)
{
    static const char *const good[] = {
        "1,5,0,1,0,0,0", "2,5,24.81,0,1,2,3\r", "0003,5,1.5,01,4294967295,0,0",
        "4,4294967295,007.120,1,0,0,0", "5,5,123,0,0,0,0"};
    static const char *const bad[] = {
        "1,5,0,1,0,0", "1,5,0,1,0,0,0,", "1,5,0,1,0,0,0,0", ",5,0,1,0,0,0", "1,5,,1,0,0,0",
        "1,5,0,1,0,0,", "1a,5,0,1,0,0,0", "1,5,0,1,0, 0,0", "1,5,0,2,0,0,0", "1,5,0,-1,0,0,0",
        "4294967296,5,0,1,0,0,0", "1,5,0,1,0,0,99999999999", "1,5,-1,1,0,0,0",
        "1,5,+1,1,0,0,0", "1,5,1e3,1,0,0,0", "1,5, 1,1,0,0,0", "1,5,1 ,1,0,0,0",
        "1,5,1.2345,1,0,0,0", "1,5,.5,1,0,0,0", "1,5,5.,1,0,0,0", "1,5,1.2.3,1,0,0,0",
        "1,5,NaN,1,0,0,0", "1,5\r,0,1,0,0,0", ""};
    struct trow r;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (spec_line(good[i], strlen(good[i]), &r))
            fail_msg("refused a good line: %s", good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!spec_line(bad[i], strlen(bad[i]), &r))
            fail_msg("accepted a bad line: %s", bad[i]);
    }
    assert_true(spec_line("2,5,24.81,0,1,2,3", 17, &r) == 0 && r.value == 24810);
    assert_true(canonical("1,5,24.81,0,1,2,3", 17) && canonical("1,5,0,0,1,2,3", 13));
    assert_false(canonical("1,5,24.810,0,1,2,3", 18) || canonical("1,5,1.0,0,1,2,3", 15));
    assert_false(canonical("1,5,01,0,1,2,3", 14) || canonical("01,5,1,0,1,2,3", 14));

    /* and the clean-data rules: each of these breaks one */
    static const char *const broken[] = {
        "1,5,1,0,0,0,0\n2,5,9,1,0,0,0\n3,12,1,0,0,0,0\n4,12,9,1,0,0,0\n", /* 7 s */
        "1,5,2,0,0,0,0\n2,5,9,1,0,0,0\n3,7,1,0,0,0,0\n4,7,9,1,0,0,0\n",   /* work down */
        "1,5,1,0,0,0,0\n2,7,1,0,0,0,0\n3,7,9,1,0,0,0\n",                   /* no load */
        "1,5,1,0,0,0,0\n2,5,9,1,0,0,0\n2,7,1,0,0,0,0\n",                   /* id */
        "1,5,1,0,0,0,0\n2,5,9,1,0,0,0\n3,5,9,1,0,0,0\n",                   /* duplicate */
        "1,5,1,0,0,0,0\n2,4,9,1,0,0,0\n",                                   /* late */
        "1,5,1.10,0,0,0,0\n",                                                /* 1.10 */
        "1,5,1,0,0,0,0\n",                                                   /* no load */
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        struct chk c;
        chk_init(&c, 1, 1);
        chk_feed(&c, broken[i], strlen(broken[i]));
        chk_end(&c);
        if (!c.errors)
            fail_msg("clean checker missed case %zu", i);
        chk_release(&c);
    }
}

static void test_deterministic(void **state)
{
    struct strom_debs_gen_config cfg = {.houses = 3, .seed = 42, .seconds = 1200};
    size_t n1, n2, n3;
    char *a = gen_mem(&cfg, &n1, NULL), *b = gen_mem(&cfg, &n2, NULL), *c;
    (void)state;
    assert_true(n1 > 100000);
    assert_true(n1 == n2 && !memcmp(a, b, n1));
    free(b);
    cfg.seed = 43;
    b = gen_mem(&cfg, &n2, NULL);
    assert_false(n1 == n2 && !memcmp(a, b, n1));
    cfg.seed = 42;
    cfg.dirty = 0.01;
    free(b);
    b = gen_mem(&cfg, &n2, NULL);
    c = gen_mem(&cfg, &n3, NULL);
    assert_true(n2 == n3 && !memcmp(b, c, n2));
    assert_false(n1 == n2 && !memcmp(a, b, n1));
    free(a);
    free(b);
    free(c);
}

/* Two days of two houses: every rule on every line, and a daily profile worth predicting. */
static void test_clean_format_and_shape(void **state)
{
    struct strom_debs_gen_config cfg = {.houses = 2, .seed = 7, .seconds = 2 * 86400};
    struct strom_debs_gen_stats st;
    struct chk c;
    double mean[2] = {0, 0}, sxy = 0, sxx = 0, syy = 0, night = 0, evening = 0;
    (void)state;
    chk_init(&c, cfg.houses, 1);
    assert_int_equal(gen_into(&c, &cfg, &st), 0);
    assert_int_equal(c.npart, 0); /* the last line ends with LF */
    chk_end(&c);
    if (c.errors)
        fail_msg("%llu broken rules; first: %s", (unsigned long long)c.errors, c.msg);
    assert_int_equal(c.lines, st.rows);
    assert_int_equal(c.rejects, 0);
    assert_int_equal(c.nplugs, strom_debs_gen_plug_count(2));
    assert_int_equal(st.plugs, c.nplugs);
    chk_dense(&c);
    /* about 1600 rows per second for 2125 plugs */
    assert_true(st.rows > 0.9 * 1600.0 * 106 / 2125 * cfg.seconds);
    assert_true(st.rows < 1.1 * 1600.0 * 106 / 2125 * cfg.seconds);
    /* many plugs at 0 W most of the time */
    assert_true(c.zero_loads > 0.45 * c.loads && c.zero_loads < 0.8 * c.loads);
    /* the hourly profile of day 2 follows day 1's; evenings draw more than nights */
    for (int d = 0; d < 2; d++)
        for (int h = 0; h < 24; h++)
            mean[d] += c.hour_sum[d][h] / (double)c.hour_n[d][h] / 24;
    for (int h = 0; h < 24; h++) {
        double x = c.hour_sum[0][h] / (double)c.hour_n[0][h] - mean[0];
        double y = c.hour_sum[1][h] / (double)c.hour_n[1][h] - mean[1];
        sxy += x * y;
        sxx += x * x;
        syy += y * y;
    }
    for (int d = 0; d < 2; d++) {
        night += c.hour_sum[d][3] / (double)c.hour_n[d][3];
        evening += c.hour_sum[d][21] / (double)c.hour_n[d][21];
    }
    print_message("day-over-day hourly correlation %.3f, 21h %.1f W vs 3h %.1f W per plug\n",
                  sxy / sqrt(sxx * syy), evening / 2, night / 2);
    assert_true(sxy / sqrt(sxx * syy) > 0.5);
    assert_true(evening > 1.5 * night);
    chk_release(&c);
}

static void test_plug_counts(void **state)
{
    static const uint32_t houses[] = {40, 4, 1, 3};
    (void)state;
    assert_int_equal(strom_debs_gen_plug_count(40), 2125);
    assert_int_equal(strom_debs_gen_plug_count(4), 213);
    for (size_t i = 0; i < sizeof houses / sizeof houses[0]; i++) {
        struct strom_debs_gen_config cfg = {.houses = houses[i], .seed = 5, .seconds = 10};
        struct strom_debs_gen_stats st;
        struct chk c;
        chk_init(&c, houses[i], 1);
        assert_int_equal(gen_into(&c, &cfg, &st), 0);
        chk_end(&c);
        if (c.errors)
            fail_msg("%s", c.msg);
        /* every plug reports within its first interval, at most 6 s */
        assert_int_equal(c.nplugs, strom_debs_gen_plug_count(houses[i]));
        chk_dense(&c);
        chk_release(&c);
    }
}

/* Dirty data: every kind appears; the independent reader rejects exactly malformed + late
 * lines; what it keeps, duplicates aside, is the clean data set without the gaps. */
static void test_dirty(void **state)
{
    struct strom_debs_gen_config cfg = {.houses = 1, .seed = 11, .seconds = 6 * 3600};
    struct strom_debs_gen_stats cst, dst;
    struct chk cc, dc;
    size_t ncl, ndi, i = 0, j = 0;
    char *clean, *dirty;
    uint64_t skipped_seconds = 0;
    uint32_t skipped_ts = 0;
    (void)state;
    clean = gen_mem(&cfg, &ncl, &cst);
    cfg.dirty = 0.01;
    dirty = gen_mem(&cfg, &ndi, &dst);
    print_message("dirty: %llu rows, duplicates=%llu malformed=%llu late=%llu gaps=%llu "
                  "(%llu s)\n", (unsigned long long)dst.rows,
                  (unsigned long long)dst.duplicates, (unsigned long long)dst.malformed,
                  (unsigned long long)dst.late, (unsigned long long)dst.gaps,
                  (unsigned long long)dst.gap_seconds);
    assert_true(dst.duplicates > 0 && dst.malformed > 0 && dst.late > 0 && dst.gaps > 0);
    for (int k = 0; k < STROM_DEBS_GEN_M_COUNT; k++)
        if (!dst.malformed_kind[k])
            fail_msg("no malformed line of kind %s", strom_debs_gen_malformed_name(k));
    /* about one injected line per 100 rows */
    {
        double inj = (double)(dst.duplicates + dst.malformed + dst.late);
        assert_true(inj > 0.008 * (double)dst.rows && inj < 0.012 * (double)dst.rows);
    }

    chk_init(&cc, 1, 1);
    cc.keep = 1;
    chk_feed(&cc, clean, ncl);
    assert_int_equal(cc.errors, 0);
    chk_init(&dc, 1, 0);
    dc.keep = 1;
    chk_feed(&dc, dirty, ndi);
    if (dc.errors)
        fail_msg("%s", dc.msg);
    assert_int_equal(dc.lines, dst.rows);
    assert_int_equal(dc.rejects, dst.malformed + dst.late);
    assert_int_equal(dc.grammar_rejects, dst.malformed);
    assert_int_equal(dc.late_rejects, dst.late);
    assert_int_equal(dc.duplicates, dst.duplicates);
    assert_true(dc.gaps <= dst.gaps && dc.gaps + 2 >= dst.gaps);

    /* The kept rows are the clean rows, in order, minus whole seconds inside gaps. */
    for (; i < dc.nrows; i++, j++) {
        const struct trow *d = &dc.rows[i];
        while (j < cc.nrows && cc.rows[j].ts < d->ts) {
            if (cc.rows[j].ts != skipped_ts)
                skipped_seconds++;
            skipped_ts = cc.rows[j++].ts;
        }
        assert_true(j < cc.nrows);
        if (cc.rows[j].ts != d->ts || cc.rows[j].value != d->value ||
            cc.rows[j].prop != d->prop || cc.rows[j].plug != d->plug ||
            cc.rows[j].hh != d->hh || cc.rows[j].house != d->house)
            fail_msg("dirty row %zu (ts %u) differs from clean row %zu (ts %u)", i, d->ts, j,
                     cc.rows[j].ts);
    }
    for (; j < cc.nrows; j++) {
        if (cc.rows[j].ts != skipped_ts)
            skipped_seconds++;
        skipped_ts = cc.rows[j].ts;
    }
    assert_true(skipped_seconds <= dst.gap_seconds);
    assert_true(skipped_seconds >= dst.gap_seconds * 9 / 10);
    chk_release(&cc);
    chk_release(&dc);
    free(clean);
    free(dirty);
}

static void test_bad_config_and_write_errors(void **state)
{
    struct strom_debs_gen_config cfg = {.houses = 1, .seed = 1, .seconds = 10};
    char err[256];
    FILE *f = fopen("/dev/null", "w");
    (void)state;
    assert_non_null(f);
    cfg.houses = 0;
    assert_int_equal(strom_debs_gen_write(&cfg, f, NULL, err, sizeof err), STROM_E_INVAL);
    assert_true(err[0]);
    cfg.houses = STROM_DEBS_GEN_MAX_HOUSES + 1;
    assert_int_equal(strom_debs_gen_write(&cfg, f, NULL, err, sizeof err), STROM_E_INVAL);
    cfg.houses = 1;
    cfg.seconds = 0;
    assert_int_equal(strom_debs_gen_write(&cfg, f, NULL, err, sizeof err), STROM_E_INVAL);
    cfg.seconds = 10;
    cfg.dirty = 1.0;
    assert_int_equal(strom_debs_gen_write(&cfg, f, NULL, err, sizeof err), STROM_E_INVAL);
    cfg.dirty = NAN;
    assert_int_equal(strom_debs_gen_write(&cfg, f, NULL, err, sizeof err), STROM_E_INVAL);
    cfg.dirty = -0.1;
    assert_int_equal(strom_debs_gen_write(&cfg, f, NULL, err, sizeof err), STROM_E_INVAL);
    cfg.dirty = 0;
    cfg.start = UINT32_MAX - 5; /* the last second must fit in 32 bits */
    assert_int_equal(strom_debs_gen_write(&cfg, f, NULL, err, sizeof err), STROM_E_INVAL);
    cfg.seconds = 6;
    assert_int_equal(strom_debs_gen_write(&cfg, f, NULL, err, sizeof err), 0);
    /* 31 days of 40 houses pass 2^32 lines: refused before the first byte */
    cfg.start = 0;
    cfg.houses = 40;
    cfg.seconds = 31 * 86400;
    assert_int_equal(strom_debs_gen_write(&cfg, f, NULL, err, sizeof err), -EOVERFLOW);
    assert_non_null(strstr(err, "32-bit"));
    cfg.houses = 1;
    fclose(f);

    f = fopen("/dev/full", "w");
    if (f) {
        cfg.start = 0;
        cfg.seconds = 600;
        assert_int_equal(strom_debs_gen_write(&cfg, f, NULL, err, sizeof err), -ENOSPC);
        assert_non_null(strstr(err, "No space"));
        fclose(f);
    }
    assert_string_equal(strom_debs_gen_malformed_name(STROM_DEBS_GEN_M_VALUE), "value");
    assert_string_equal(strom_debs_gen_malformed_name(99), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_clean_format_and_shape),
        cmocka_unit_test(test_plug_counts),
        cmocka_unit_test(test_dirty),
        cmocka_unit_test(test_bad_config_and_write_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
