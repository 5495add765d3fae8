/*
 * apps/debs14/parse.c: one DEBS 2014 line to one row; the rejects.csv line; the canonical
 * form of a row. Grammar, reasons and formats are described in parse.h.
 *
 * Two parsers with one meaning. strom_debs_parse_line_ref says what the grammar says, in
 * the plainest way: split on commas, count, check each field, pick the reason by the
 * precedence of parse.h. strom_debs_parse_line is the hot path, one pass over the line
 * eight bytes at a time, that knows only the common shape of a good line (up to 10 digits
 * per number, 13 before the '.', property "0" or "1"); at the first thing it does not
 * expect it hands the whole line to the reference, which then decides: accept (e.g. "01"
 * as property, "0000000000007" as id) or refuse, and why. So the fast parser can only be
 * wrong by accepting what it should not, or by reading a good line wrongly, and both are
 * what the unit tests and the fuzzer compare against the reference.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "apps/debs14/parse.h"

#define NFIELDS 7
/* The largest integer part that can still be in range once multiplied by 1000. */
#define VALUE_INT_MAX (STROM_DEBS_VALUE_MAX / 1000)

/* Field order in a line, and the first of each field's three reasons. */
enum { F_ID, F_TS, F_VALUE, F_PROPERTY, F_PLUG, F_HOUSEHOLD, F_HOUSE };

_Static_assert(STROM_DEBS_R_ID_DIGITS == STROM_DEBS_R_ID_EMPTY + 1 &&
                   STROM_DEBS_R_ID_RANGE == STROM_DEBS_R_ID_EMPTY + 2 &&
                   STROM_DEBS_R_HOUSE_RANGE == STROM_DEBS_R_HOUSE_EMPTY + 2,
               "per-field reasons are empty, digits, range");
_Static_assert(sizeof(struct strom_debs_row) == 48, "a row is 48 bytes");

static const int first_reason[NFIELDS] = {
    STROM_DEBS_R_ID_EMPTY,       STROM_DEBS_R_TS_EMPTY,   STROM_DEBS_R_VALUE_EMPTY,
    STROM_DEBS_R_PROPERTY_EMPTY, STROM_DEBS_R_PLUG_EMPTY, STROM_DEBS_R_HOUSEHOLD_EMPTY,
    STROM_DEBS_R_HOUSE_EMPTY,
};

const char *strom_debs_reason_name(int reason)
{
    switch (reason) {
#define STROM_DEBS__REASON_TEXT(name, num, text)                                                   \
    case num:                                                                                      \
        return text;
        STROM_DEBS_REASON_MAP(STROM_DEBS__REASON_TEXT)
#undef STROM_DEBS__REASON_TEXT
    }
    return "unknown reason";
}

/* --- the reference parser ---------------------------------------------------------------- */

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* An unsigned field: 0 and *v, or the offset (0, 1, 2) of its empty / digits / range
 * reason plus one. Digits accumulate saturated, so any number of them is safe. */
static int ref_u32(const unsigned char *p, size_t n, uint32_t *v)
{
    uint64_t x = 0;

    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(p[i]))
            return 2;
    for (size_t i = 0; i < n; i++) {
        x = x * 10 + (uint64_t)(p[i] - '0');
        if (x > UINT32_MAX)
            return 3;
    }
    *v = (uint32_t)x;
    return 0;
}

static int ref_value(const unsigned char *p, size_t n, uint64_t *v)
{
    size_t i = 0, intlen, declen = 0;
    uint64_t x = 0, frac = 0;

    if (n == 0)
        return STROM_DEBS_R_VALUE_EMPTY;
    while (i < n && is_digit(p[i]))
        i++;
    intlen = i;
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && is_digit(p[i])) {
            frac = declen < 3 ? frac * 10 + (uint64_t)(p[i] - '0') : frac;
            declen++;
            i++;
        }
        if (declen == 0)
            return STROM_DEBS_R_VALUE_SYNTAX; /* "1." */
    }
    if (intlen == 0 || i != n)
        return STROM_DEBS_R_VALUE_SYNTAX; /* ".5", "-1", "1e3", " 1", "1.2.3" */
    if (declen > 3)
        return STROM_DEBS_R_VALUE_DECIMALS;
    for (i = 0; i < intlen; i++) {
        x = x * 10 + (uint64_t)(p[i] - '0');
        if (x > VALUE_INT_MAX)
            return STROM_DEBS_R_VALUE_RANGE;
    }
    while (declen < 3) {
        frac *= 10;
        declen++;
    }
    x = x * 1000 + frac;
    if (x > STROM_DEBS_VALUE_MAX)
        return STROM_DEBS_R_VALUE_RANGE;
    *v = x;
    return 0;
}

int strom_debs_parse_line_ref(const char *line, size_t n, struct strom_debs_row *row)
{
    const unsigned char *p = (const unsigned char *)line, *f[NFIELDS];
    size_t len[NFIELDS], commas = 0, start = 0;
    uint32_t u[NFIELDS] = {0};
    int rc;

    if (n && p[n - 1] == '\r')
        n--;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != ',')
            continue;
        if (commas < NFIELDS) {
            f[commas] = p + start;
            len[commas] = i - start;
        }
        if (i < n)
            commas++;
        start = i + 1;
    }
    if (commas < NFIELDS - 1)
        return STROM_DEBS_R_FEW_FIELDS;
    if (commas > NFIELDS - 1)
        return STROM_DEBS_R_MANY_FIELDS;
    for (int k = 0; k < NFIELDS; k++) {
        if (k == F_VALUE) {
            rc = ref_value(f[k], len[k], &row->value);
            if (rc)
                return rc;
            continue;
        }
        rc = ref_u32(f[k], len[k], &u[k]);
        if (rc)
            return first_reason[k] + rc - 1;
        if (k == F_PROPERTY && u[k] > 1)
            return STROM_DEBS_R_PROPERTY_RANGE;
    }
    row->id = u[F_ID];
    row->ts = u[F_TS];
    row->property = (uint8_t)u[F_PROPERTY];
    row->plug = u[F_PLUG];
    row->household = u[F_HOUSEHOLD];
    row->house = u[F_HOUSE];
    return 0;
}

/* --- the fast parser --------------------------------------------------------------------- */

/* Eight bytes at a time (SWAR), so that the many short fields of a line cost no branch per
 * digit and no mispredicted loop exit; the technique is that of simdjson and fast_float.
 * It reads up to 16 bytes from the start of a field, past the line's end, which is why it
 * runs only on padded bytes (see strom_debs__parse_padded in parse.h): a line copied to a
 * local buffer, or the reader's buffer, whose bytes after the data are an LF and slack.
 * What it reads past a field is masked off or checked, never trusted. Every field starts
 * at or before the first LF (no field goes past a non-digit), so all reads stay below that
 * LF + STROM_DEBS_PAD. */

static const uint64_t pow10_tab[9] = {1,      10,      100,      1000,     10000,
                                      100000, 1000000, 10000000, 100000000};

/* The 8 bytes at p with p[0] as the lowest byte, whatever the machine's byte order. */
static inline uint64_t load8(const unsigned char *p)
{
    uint64_t x;

    memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

/* How many of x's bytes, from the lowest, are ASCII digits (0..8). A byte c is a digit iff
 * its high nibble is 3 and that of c + 6 is still 3. c + 6 can carry into the next byte
 * only from c >= 0xfa, itself no digit: the first non-digit is found right, and the bytes
 * after it do not matter. */
static inline unsigned digit_count(uint64_t x)
{
    const uint64_t hi = 0xf0f0f0f0f0f0f0f0ULL, three = 0x3030303030303030ULL;
    uint64_t m = ((x & hi) ^ three) | (((x + 0x0606060606060606ULL) & hi) ^ three);

    return m ? (unsigned)__builtin_ctzll(m) >> 3 : 8;
}

/* The number written by the lowest k (1..8) bytes of x, all digits: the digits are moved
 * to the top (leading zeros below), then combined pairwise in three multiplications. */
static inline uint64_t digits_value(uint64_t x, unsigned k)
{
    x = (x - 0x3030303030303030ULL) << (8 * (8 - k)); /* borrows only go to dropped bytes */
    x = x * 10 + (x >> 8);
    return (((x & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32))) +
            (((x >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32)))) >>
           32;
}

/* 1 to 8 + extra digits at p into *v; returns their count, or 0 for none or too many
 * (the reference then decides: "0000000000007" is a good id). */
static inline unsigned swar_digits(const unsigned char *p, unsigned extra, uint64_t *v)
{
    uint64_t x = load8(p);
    unsigned k = digit_count(x), k2;

    if (k == 0)
        return 0;
    *v = digits_value(x, k);
    if (k < 8)
        return k;
    x = load8(p + 8);
    k2 = digit_count(x);
    if (k2 > extra)
        return 0;
    if (k2)
        *v = *v * pow10_tab[k2] + digits_value(x, k2);
    return 8 + k2;
}

static inline const unsigned char *swar_u32(const unsigned char *p, uint32_t *out)
{
    uint64_t v;
    unsigned k = swar_digits(p, 2, &v); /* UINT32_MAX has 10 digits */

    if (!k || v > UINT32_MAX)
        return NULL;
    *out = (uint32_t)v;
    return p + k;
}

static inline const unsigned char *swar_value(const unsigned char *p, uint64_t *out)
{
    uint64_t v, frac;
    unsigned k = swar_digits(p, 5, &v); /* VALUE_INT_MAX has 13 digits */

    if (!k || v > VALUE_INT_MAX)
        return NULL;
    p += k;
    v *= 1000;
    if (*p == '.') {
        k = digit_count(load8(p + 1));
        if (k == 0 || k > 3)
            return NULL;
        frac = digits_value(load8(p + 1), k);
        v += frac * pow10_tab[3 - k];
        p += 1 + k;
    }
    if (v > STROM_DEBS_VALUE_MAX)
        return NULL;
    *out = v;
    return p;
}

/* One field after the other: each starts where the one before ended. About 320
 * instructions per real line. (Tried and measured slower: finding the six commas first
 * with SSE2, so that the fields can be parsed independently; classifying all 64 bytes of
 * a line at once. The work per line, not the chain from field to field, is what costs.) */
const char *strom_debs__parse_padded(const char *line, struct strom_debs_row *row)
{
    const unsigned char *p = (const unsigned char *)line;

    if (!(p = swar_u32(p, &row->id)) || *p++ != ',')
        return NULL;
    if (!(p = swar_u32(p, &row->ts)) || *p++ != ',')
        return NULL;
    if (!(p = swar_value(p, &row->value)) || *p++ != ',')
        return NULL;
    if ((p[0] != '0' && p[0] != '1') || p[1] != ',')
        return NULL;
    row->property = (uint8_t)(p[0] - '0');
    p += 2;
    if (!(p = swar_u32(p, &row->plug)) || *p++ != ',')
        return NULL;
    if (!(p = swar_u32(p, &row->household)) || *p++ != ',')
        return NULL;
    return (const char *)swar_u32(p, &row->house);
}

int strom_debs_parse_line(const char *line, size_t n, struct strom_debs_row *row)
{
    /* Longer than any line the fast path takes (74 bytes and a CR); the LFs after the copy
     * end the last field and cover the 16 bytes the fast path may read past a field. */
    char pad[96 + STROM_DEBS_PAD];
    size_t e = n - (n && line[n - 1] == '\r');
    const char *end;

    if (n <= 96) {
        memcpy(pad, line, n);
        memset(pad + n, '\n', STROM_DEBS_PAD);
        end = strom_debs__parse_padded(pad, row);
        if (end == pad + e)
            return 0;
    }
    return strom_debs_parse_line_ref(line, n, row);
}

/* --- writing ----------------------------------------------------------------------------- */

/* Decimal digits of v at b; returns the count. */
static size_t put_u64(char *b, uint64_t v)
{
    char t[20];
    size_t n = 0;

    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        b[i] = t[n - 1 - i];
    return n;
}

size_t strom_debs_format_row(char *buf, const struct strom_debs_row *row)
{
    uint64_t frac = row->value % 1000;
    size_t n = 0;

    n += put_u64(buf + n, row->id);
    buf[n++] = ',';
    n += put_u64(buf + n, row->ts);
    buf[n++] = ',';
    n += put_u64(buf + n, row->value / 1000);
    if (frac) {
        buf[n++] = '.';
        buf[n++] = (char)('0' + frac / 100);
        if (frac % 100) {
            buf[n++] = (char)('0' + frac / 10 % 10);
            if (frac % 10)
                buf[n++] = (char)('0' + frac % 10);
        }
    }
    buf[n++] = ',';
    buf[n++] = (char)('0' + (row->property & 1));
    buf[n++] = ',';
    n += put_u64(buf + n, row->plug);
    buf[n++] = ',';
    n += put_u64(buf + n, row->household);
    buf[n++] = ',';
    n += put_u64(buf + n, row->house);
    return n;
}

int strom_debs_format_reject(FILE *f, uint64_t line_no, int reason, const char *line, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char b[512];
    size_t k = 0;

    if (fprintf(f, "%" PRIu64 ",%s,\"", line_no, strom_debs_reason_name(reason)) < 0)
        return -EIO;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];

        if (sizeof b - k < 6) { /* room for the longest escape and the closing '"' LF */
            fwrite(b, 1, k, f);
            k = 0;
        }
        if (c == '"' || c == '\\') {
            b[k++] = (char)(c == '"' ? '"' : '\\');
            b[k++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            b[k++] = (char)c;
        } else {
            b[k++] = '\\';
            b[k++] = 'x';
            b[k++] = hex[c >> 4];
            b[k++] = hex[c & 15];
        }
    }
    b[k++] = '"';
    b[k++] = '\n';
    fwrite(b, 1, k, f);
    return ferror(f) ? -EIO : 0;
}
