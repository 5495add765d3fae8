/*
 * apps/debs14/gen.h: synthetic DEBS 2014 smart-plug data, the input of `strom gen`.
 *
 * The real file (40 houses, 2125 plugs, one month, 4 billion rows) is not available
 * offline, so tests and benchmarks run on data made here. It has the exact input format of
 * ../shared/specs/debs14.md ("Input") and the shape of the real samples in
 * ../shared/data/debs14/:
 *
 *   id,timestamp,value,property,plug_id,household_id,house_id\n      e.g.
 *   4711,1377986403,19.927,1,11,0,0\n
 *
 *   id         the line number, from 1, injected lines included
 *   timestamp  Unix seconds, non-decreasing (except the injected late rows)
 *   value      kWh (property 0, work) or W (property 1, load), printed in thousandths with
 *              trailing zeros dropped: "0", "24.81", "68.451", never "24.810" or "1.0"
 *
 * Layout. round(2125 * houses / 40) plugs (at least one per house) are spread over the
 * houses by random weights (real houses hold 10 to 107 plugs); within a house, households
 * of 1 to 14 plugs. Ids are dense: houses 0..H-1, households from 0 within a house, plugs
 * from 0 within a household.
 *
 * Reports. Every plug reports a load row and a work row at the same second (in either
 * order, as in the real data). A plug's interval is 2..6 s (half the plugs 2 s, as in the
 * real data), each step jittered by one second, so reports are 1..6 s apart; 1600 rows per
 * second of data for 40 houses, 141 million a day. Rows of all plugs come out in time
 * order from a timing wheel of 8 one-second buckets (an interval never exceeds 6 s).
 *
 * Load model. Each plug is one appliance whose level is piecewise constant, plus a few
 * percent of noise per reading: standby devices (constant), fridges (compressor on/off
 * cycles, shorter pauses in the day), lamps and TVs (evenings), computers (office hours
 * on weekdays, some evenings), washing machines (a 1-2 h program on some days), dish
 * washers (after dinner), kettles (minutes at 1-2 kW around meals), and occasional-use
 * plugs at 0 W nearly always (about 60 % of night readings are 0, as in the real data).
 * Every plug has its own preferred hours, jittered each day, so that the same time of
 * day on the previous days is a useful forecast (Query 1). Time of day is German summer
 * time (UTC+2), like the original; day-of-week matters (weekends differ).
 *
 * Work is the plug's meter: a starting reading of 0..200 kWh plus the integral of the
 * reported load over time, in whole Wh, so it never decreases in clean data.
 *
 * Determinism. The bytes are a function of the config alone: every plug draws from its
 * own splitmix64 stream, dirty injection from another, no clock, no rand(), no floating
 * point in the data path. The clean rows of a dirty run are the clean run's rows minus
 * the seconds inside gaps.
 *
 * Dirty data (rate r in [0,1)): after each written row, with probability r, one extra
 * line follows it:
 *   duplicate  the same plug, property and second again, half with another value (a load
 *              re-measured, a work counter 0.001 lower or higher, as in the real data);
 *              valid data, not a reject
 *   malformed  the row broken in one way the grammar refuses (kinds below); its line still
 *              has its line number as id unless the id field is the broken one
 *   late       the row with a timestamp 1..600 s older than the row just written, which
 *              is the largest timestamp accepted so far: rejected by the late rule
 * and each second starts a gap with probability r/20 (about 4 a day at r = 0.001; gaps a
 * minute apart at least): every plug silent for 2..10 min (valid). A spec-exact reader
 * (t0 = start) rejects exactly the malformed + late lines.
 *
 * Size. Ids are uint32, so a data set holds at most 2^32 - 1 lines: 30 days of 40 houses
 * (4.24 billion) fit, 31 do not. A set expected to pass the limit is refused before the
 * first byte; one that passes it by chance fails when it does.
 *
 * Threads: none; the function is reentrant. Ownership: the caller owns the FILE*, which
 * is flushed but not closed.
 */
#ifndef STROM_APPS_DEBS14_GEN_H
#define STROM_APPS_DEBS14_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The spec's t0: 2013-09-01 00:00:01 CEST. */
#define STROM_DEBS_GEN_DEFAULT_START 1377986401u
#define STROM_DEBS_GEN_MAX_HOUSES 10000u

/* X(name, key): the kinds of malformed line; key names the count in the summary line. */
#define STROM_DEBS_GEN_MALFORMED_MAP(X)                                                    \
    X(FIELDS, "fields")     /* 6 or 8 fields */                                          \
    X(EMPTY, "empty")       /* one field empty */                                        \
    X(DIGITS, "nondigit")   /* a non-digit in id, timestamp, property or a key */        \
    X(RANGE, "range")       /* id, timestamp or a key >= 2^32 */                         \
    X(VALUE, "value")       /* sign, exponent, space, 4 decimals, "5.", ".5", ... */     \
    X(PROPERTY, "property") /* property 2..11 */

enum strom_debs_gen_malformed {
#define STROM_DEBS_GEN__MAL_ENUM(name, key) STROM_DEBS_GEN_M_##name,
    STROM_DEBS_GEN_MALFORMED_MAP(STROM_DEBS_GEN__MAL_ENUM)
#undef STROM_DEBS_GEN__MAL_ENUM
    STROM_DEBS_GEN_M_COUNT
};

struct strom_debs_gen_stats {
    uint64_t rows;         /* lines written, injected ones included */
    uint64_t bytes;        /* bytes written */
    uint64_t plugs;        /* plugs in the layout */
    uint64_t seconds_done; /* seconds of data time generated so far */
    uint64_t duplicates, malformed, late, gaps;
    uint64_t gap_seconds; /* seconds inside gaps (up to the end of the data) */
    uint64_t malformed_kind[STROM_DEBS_GEN_M_COUNT];
};

struct strom_debs_gen_config {
    uint32_t houses;  /* 1..STROM_DEBS_GEN_MAX_HOUSES */
    uint64_t seed;
    uint32_t start;   /* first second of data; 0 means STROM_DEBS_GEN_DEFAULT_START */
    uint64_t seconds; /* span of data time, >= 1; the last second must fit in 32 bits */
    double dirty;     /* injection rate in [0, 1) */
    /* Optional: called after every hour of data time and at the end. */
    void (*progress)(void *arg, const struct strom_debs_gen_stats *st);
    void *progress_arg;
};

/* Plugs in the layout for `houses` houses: max(houses, round(2125 * houses / 40)). */
uint64_t strom_debs_gen_plug_count(uint32_t houses);

/* Writes the data set to out. Returns 0; STROM_E_INVAL for a bad config; -EOVERFLOW when
 * line numbers would pass 2^32 - 1 (see Size); -ENOMEM; or -errno of a failed write. err
 * (if not NULL) tells the detail. st (if not NULL) gets the counts, also after a failure. */
int strom_debs_gen_write(const struct strom_debs_gen_config *cfg, FILE *out,
                         struct strom_debs_gen_stats *st, char *err, size_t errlen);

/* "fields", "empty", ... for a kind; "?" for any other number. */
const char *strom_debs_gen_malformed_name(int kind);

#endif
