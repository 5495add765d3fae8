/*
 * apps/debs14/parse.h: the DEBS 2014 input: one line to one row, a stream of bytes to
 * batches of accepted rows, and the rejects.csv line of each refused one.
 *
 * The contract is ../shared/specs/debs14.md ("Input" and "Bad input"); this module is its
 * only reader, so that every part of strom accepts and refuses exactly the same lines.
 *
 * Grammar of a good line (bytes, no locale):
 *
 *   line     = id "," ts "," value "," property "," plug "," household "," house [CR]
 *   id, ts, plug, household, house = 1*DIGIT, the number <= 4294967295 (leading zeros are
 *              digits: "007" is 7, and any number of them is allowed)
 *   value    = 1*DIGIT [ "." 1*3DIGIT ]       (no sign, exponent, space; "1.50" is 1500)
 *   property = 1*DIGIT whose number is 0 or 1  ("01" is 1)
 *
 * value becomes an exact integer in thousandths of its unit: milliwatts for load rows
 * (property 1), watt-hours for work rows (property 0): "24.81" -> 24810, "0" -> 0.
 *
 * Reasons. A refused line gets one reason, STROM_DEBS_R_*, numbered by the table below
 * (appended, never renumbered); its text goes to rejects.csv. The spec fixes which lines
 * are refused, not why, so when a line breaks several rules the reason is chosen by a fixed
 * precedence: the field count first, then the fields from left to right, and within one
 * field empty, then bad characters (or value syntax, then more than 3 decimals), then the
 * number's range. After the grammar come the two rules that need the lines before: before
 * t0, then late. NUL bytes and other odd bytes need no rule of their own: they are not in
 * the grammar, so the field holding them is refused ("id not digits", ...).
 *
 * Bounds the spec leaves open, fixed here:
 * - value: at most 2^53 - 1 thousandths (9007199254740.991), so that every value, and
 *   every difference of two, is exact in a double; a larger value is "value out of range".
 *   Real values stay below 10^5.
 * - line length: a line of more than max_line bytes (default 4096, not counting its LF and
 *   the CR before it) is refused as "line too long" without being buffered: the reader
 *   keeps its first max_line bytes for rejects.csv and skips the rest up to the next LF.
 *   Real lines are about 30 bytes; only a line padded with thousands of leading zeros
 *   would be grammatical and still refused.
 * - a CR at the very end of input, on a last line without LF, is ignored like a CR before
 *   an LF: end of input ends a line the way an LF does.
 *
 * Time rules (the reader's, since they need the lines before):
 * - before t0: the line's timestamp < t0.
 * - late: the line's timestamp < the largest timestamp of the lines accepted before it.
 *   An equal timestamp is not late. "Accepted" means every line not refused, work rows
 *   included: the spec's "work rows are checked and then ignored; they neither add values
 *   nor move time forward" says what the queries do with an accepted work row (it starts
 *   no Q1 update point, no Q2 evaluation, and is not the "largest timestamp seen"); it
 *   speaks of "the accepted load rows", which only makes sense if work rows can be accepted
 *   too, and the late rule counts "the lines accepted", not the load rows. So a work row
 *   at second 100 makes a later load row at second 99 late. Refused lines move nothing.
 *
 * rejects.csv, one line per refused line:
 *
 *   line_no,reason,"line"\n        e.g.   17,value has more than 3 decimals,"1,2,1.2345,..."
 *
 * line_no counts lines from 1 (every LF ends one; so does the end of input after bytes
 * without one). The reason texts hold no comma, quote or backslash. The line is its bytes
 * without LF and without the CR before it (for a long line, its first max_line bytes),
 * quoted: '"' is written '""' (CSV), '\' is written '\\', and every byte outside printable
 * ASCII 0x20..0x7e (CR, TAB, NUL, UTF-8, ...) as '\xNN' in lowercase hex. So one reject is
 * always exactly one output line, and the bytes of the line can be recovered exactly.
 *
 * Threads: a reader is used by one thread at a time; the functions without a reader are
 * pure and thread-safe. Ownership: the reader borrows its fd (the caller closes it, so
 * stdin works) and the caller's batch array; the line handed to on_reject is valid only
 * during the call.
 */
#ifndef STROM_APPS_DEBS14_PARSE_H
#define STROM_APPS_DEBS14_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The default epoch of Query 1's slices: 2013-09-01 00:00:01 in Unix seconds. */
#define STROM_DEBS_DEFAULT_T0 1377986401u
/* Largest value, in thousandths: 2^53 - 1. */
#define STROM_DEBS_VALUE_MAX ((UINT64_C(1) << 53) - 1)
#define STROM_DEBS_DEFAULT_MAX_LINE 4096
#define STROM_DEBS_DEFAULT_BUF_SIZE (1u << 20)
/* Bytes strom_debs_format_row writes at most (74, rounded up); it adds no LF. */
#define STROM_DEBS_ROW_MAX 80

/* X(name, number, text). Per field, the entries come in the order empty, digits, range;
 * parse.c relies on that order. */
#define STROM_DEBS_REASON_MAP(X)                                                                   \
    X(FEW_FIELDS, 1, "too few fields")                                                             \
    X(MANY_FIELDS, 2, "too many fields")                                                           \
    X(ID_EMPTY, 3, "id empty")                                                                     \
    X(ID_DIGITS, 4, "id not digits")                                                               \
    X(ID_RANGE, 5, "id not a 32-bit number")                                                       \
    X(TS_EMPTY, 6, "timestamp empty")                                                              \
    X(TS_DIGITS, 7, "timestamp not digits")                                                        \
    X(TS_RANGE, 8, "timestamp not a 32-bit number")                                                \
    X(VALUE_EMPTY, 9, "value empty")                                                               \
    X(VALUE_SYNTAX, 10, "value not a decimal")                                                     \
    X(VALUE_DECIMALS, 11, "value has more than 3 decimals")                                        \
    X(VALUE_RANGE, 12, "value out of range")                                                       \
    X(PROPERTY_EMPTY, 13, "property empty")                                                        \
    X(PROPERTY_DIGITS, 14, "property not digits")                                                  \
    X(PROPERTY_RANGE, 15, "property not 0 or 1")                                                   \
    X(PLUG_EMPTY, 16, "plug_id empty")                                                             \
    X(PLUG_DIGITS, 17, "plug_id not digits")                                                       \
    X(PLUG_RANGE, 18, "plug_id not a 32-bit number")                                               \
    X(HOUSEHOLD_EMPTY, 19, "household_id empty")                                                   \
    X(HOUSEHOLD_DIGITS, 20, "household_id not digits")                                             \
    X(HOUSEHOLD_RANGE, 21, "household_id not a 32-bit number")                                     \
    X(HOUSE_EMPTY, 22, "house_id empty")                                                           \
    X(HOUSE_DIGITS, 23, "house_id not digits")                                                     \
    X(HOUSE_RANGE, 24, "house_id not a 32-bit number")                                             \
    X(LINE_TOO_LONG, 25, "line too long")                                                          \
    X(BEFORE_T0, 26, "before t0")                                                                  \
    X(LATE, 27, "late")

enum strom_debs_reason {
#define STROM_DEBS__REASON_ENUM(name, num, text) STROM_DEBS_R_##name = (num),
    STROM_DEBS_REASON_MAP(STROM_DEBS__REASON_ENUM)
#undef STROM_DEBS__REASON_ENUM
        STROM_DEBS_REASON_COUNT /* one more than the largest reason: size of a count array */
};

/* One accepted line. 32 bytes. */
struct strom_debs_row {
    uint32_t id;
    uint32_t ts;    /* Unix seconds */
    uint64_t value; /* thousandths: mW (property 1) or Wh (property 0) */
    uint32_t plug;
    uint32_t household;
    uint32_t house;
    uint8_t property; /* 0 work, 1 load */
    /* Set by the reader: the line's number (from 1) and the offset of its first byte in
     * the input, where a replay from this row starts. */
    uint64_t line_no;
    uint64_t offset;
};

/* Parses one line of n bytes, without its LF; one CR at its end is ignored. Returns 0 and
 * fills *row, or a reason > 0 (row then undefined). Reads only p[0..n). */
int strom_debs_parse_line(const char *p, size_t n, struct strom_debs_row *row);

/* The same function written plainly (split, then check each field): the reference the
 * fast one is tested and fuzzed against. Not for use on the hot path. */
int strom_debs_parse_line_ref(const char *p, size_t n, struct strom_debs_row *row);

/* Module-private (for reader.c): the fast path of strom_debs_parse_line without its copy.
 * Parses the common shape of a good line at p (digits, at most one '.', property "0" or
 * "1") and returns the byte after the last field, or NULL for any other shape (then ask
 * strom_debs_parse_line). Does not check what follows the last field. Reads below
 * x + STROM_DEBS_PAD, x the first LF at or after p: those bytes must be readable. */
#define STROM_DEBS_PAD 16
const char *strom_debs__parse_padded(const char *p, struct strom_debs_row *row);

/* "too many fields", ... for a reason; "unknown reason" for any other number. */
const char *strom_debs_reason_name(int reason);

/* Writes row in canonical form (no leading zeros, no trailing zeros after the point, no
 * point for a whole value) into buf, which has room for STROM_DEBS_ROW_MAX bytes; no LF,
 * no NUL. Returns the length. Parsing the result gives back row (with value <= the max). */
size_t strom_debs_format_row(char *buf, const struct strom_debs_row *row);

/* Writes one rejects.csv line (format above) to f. 0, or -EIO if f reports an error. */
int strom_debs_format_reject(FILE *f, uint64_t line_no, int reason, const char *line, size_t len);

/* --- the reader ------------------------------------------------------------------------ */

struct strom_debs_reader;

/* Called once per refused line, in line order, from strom_debs_reader_next. */
typedef void (*strom_debs_reject_fn)(void *arg, uint64_t line_no, int reason, const char *line,
                                     size_t len);

struct strom_debs_reader_conf {
    int fd;                         /* a file, a pipe, stdin; borrowed */
    uint32_t t0;                    /* lines before it are refused */
    size_t buf_size;                /* bytes per read(); 0: STROM_DEBS_DEFAULT_BUF_SIZE */
    size_t max_line;                /* 0: STROM_DEBS_DEFAULT_MAX_LINE; buf_size > max_line+1 */
    strom_debs_reject_fn on_reject; /* may be NULL: rejects are then only counted */
    void *arg;
};

/* The caller's array of rows; strom_debs_reader_next sets n. */
struct strom_debs_batch {
    struct strom_debs_row *rows;
    size_t cap;
    size_t n;
};

struct strom_debs_stats {
    uint64_t bytes;         /* read from fd so far (for progress) */
    uint64_t lines;         /* lines ended so far; == accepted + rejected */
    uint64_t accepted;      /* rows handed out, load and work */
    uint64_t accepted_load; /* of which property 1 */
    uint64_t rejected;      /* == the sum of by_reason */
    uint64_t by_reason[STROM_DEBS_REASON_COUNT];
    uint32_t max_ts; /* largest timestamp accepted so far (0 before the first row) */
};

/* 0, STROM_E_INVAL for a bad conf (message in err when not NULL), or -ENOMEM. */
int strom_debs_reader_new(struct strom_debs_reader **out, const struct strom_debs_reader_conf *conf,
                          char *err, size_t errlen);
void strom_debs_reader_free(struct strom_debs_reader *r);

/* Fills out->rows with the next accepted rows, reporting refused lines on the way.
 * Returns 0 with 1 <= out->n <= out->cap, or with out->n == 0 when it refused lines and
 * has no row ready yet (so a caller that holds refused lines back until the rows around
 * them are placed holds at most a buffer's worth); 1 at the end of input (out->n == 0), and again
 * on every later call; STROM_E_INVAL for cap 0; or -errno of a failed read, which ends the
 * stream: every later call returns it again. Returns as soon as it has rows and the bytes
 * already read hold no further complete line, so rows from a slow pipe are not held back
 * waiting for more. */
int strom_debs_reader_next(struct strom_debs_reader *r, struct strom_debs_batch *out);

const struct strom_debs_stats *strom_debs_reader_stats(const struct strom_debs_reader *r);
/* Before the first next: continue a stream from a row of an earlier run. The caller has
 * positioned fd at the row's offset; st is what the stats were just before that row
 * (bytes = the offset). */
void strom_debs_reader_resume(struct strom_debs_reader *r, const struct strom_debs_stats *st);
/* What the last error was and where ("read failed after byte 1048576: Input/output
 * error"); "" if none. */
const char *strom_debs_reader_errmsg(const struct strom_debs_reader *r);

#endif
