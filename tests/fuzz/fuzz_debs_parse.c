/*
 * tests/fuzz/fuzz_debs_parse.c: libFuzzer target for the DEBS 2014 input
 * (apps/debs14/parse.c and reader.c).
 *
 * Input: a flags byte, then the bytes of an input file. Flags bits 0-1 pick the reader's
 * buffer and line limit (64 KiB and 4098 with the default limit, 34 and 66 with limits of
 * 32 and 64: lines cross buffer ends everywhere, and many are too long),
 * bits 2-3 the batch size (1, 2, 7, 4096), bits 4-5 t0 (0, 1, 100, the default).
 *
 * Checked on every input:
 * - the reader (over a memfd) agrees with a model written here the simplest way (split
 *   the whole input on LF, apply the line limit, the reference parser, before t0, late):
 *   the same accepted rows in order, the same refused line numbers and reasons, and
 *   accepted + rejected == lines, bytes == input size;
 * - for every line: the fast parser agrees with the reference; an accepted row printed in
 *   canonical form parses back to the same row, and its canonical form is a fixed point;
 * - every rejects.csv line is exactly one line and unescapes to the refused bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "apps/debs14/parse.h"

#include "fuzz.h"

#define ROW_BYTES (offsetof(struct strom_debs_row, property) + 1) /* without padding */

struct expect_rej {
    uint64_t line;
    int reason;
};

struct model {
    struct strom_debs_row *rows;
    size_t nrows, next_row;
    struct expect_rej *rej;
    size_t nrej, next_rej, next_rej_seen;
    uint64_t lines;
};

static int same_row(const struct strom_debs_row *a, const struct strom_debs_row *b)
{
    return memcmp(a, b, ROW_BYTES) == 0;
}

/* Fast against reference; canonical form round trip. Returns the reference's verdict. */
static int check_line(const char *p, size_t n, struct strom_debs_row *row)
{
    struct strom_debs_row fast, back;
    char buf[STROM_DEBS_ROW_MAX], buf2[STROM_DEBS_ROW_MAX];
    size_t len, len2;
    int rc = strom_debs_parse_line_ref(p, n, row);

    CHECK(rc >= 0 && rc < STROM_DEBS_REASON_COUNT);
    CHECK(rc != STROM_DEBS_R_LINE_TOO_LONG && rc != STROM_DEBS_R_BEFORE_T0 &&
          rc != STROM_DEBS_R_LATE);
    CHECK(strom_debs_parse_line(p, n, &fast) == rc);
    if (rc)
        return rc;
    CHECK(same_row(&fast, row));
    CHECK(row->property <= 1 && row->value <= STROM_DEBS_VALUE_MAX);
    len = strom_debs_format_row(buf, row);
    CHECK(len <= STROM_DEBS_ROW_MAX);
    CHECK(strom_debs_parse_line(buf, len, &back) == 0 && same_row(&back, row));
    len2 = strom_debs_format_row(buf2, &back);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    return 0;
}

/* The reader's semantics, on the whole input at once. */
static void build_model(const char *d, size_t n, size_t max_line, uint32_t t0, struct model *m)
{
    uint32_t max_ts = 0;
    size_t start = 0;

    m->rows = malloc((n / 2 + 1) * sizeof *m->rows);
    m->rej = malloc((n + 1) * sizeof *m->rej);
    CHECK(m->rows && m->rej);
    while (start < n) {
        const char *lf = memchr(d + start, '\n', n - start);
        size_t len = lf ? (size_t)(lf - (d + start)) : n - start;
        size_t content = len - (len && d[start + len - 1] == '\r');
        struct strom_debs_row row;
        int reason;

        m->lines++;
        if (content > max_line)
            reason = STROM_DEBS_R_LINE_TOO_LONG;
        else if ((reason = check_line(d + start, len, &row)) == 0 && row.ts < t0)
            reason = STROM_DEBS_R_BEFORE_T0;
        else if (!reason && row.ts < max_ts)
            reason = STROM_DEBS_R_LATE;
        if (reason) {
            m->rej[m->nrej++] = (struct expect_rej){m->lines, reason};
        } else {
            max_ts = row.ts;
            m->rows[m->nrows++] = row;
        }
        start += len + 1;
    }
}

/* Lowercase hex only: what the writer writes. */
static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undoes the rejects.csv escaping of the quoted part; returns its length or -1. */
static long unescape(const char *s, size_t n, char *out)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            if (i + 1 >= n || s[i + 1] != '"')
                return -1;
            out[k++] = '"';
            i++;
        } else if (s[i] == '\\') {
            unsigned v;

            if (i + 1 < n && s[i + 1] == '\\') {
                out[k++] = '\\';
                i++;
                continue;
            }
            if (i + 3 >= n || s[i + 1] != 'x' || hexval(s[i + 2]) < 0 || hexval(s[i + 3]) < 0)
                return -1;
            v = (unsigned)(hexval(s[i + 2]) << 4 | hexval(s[i + 3]));
            out[k++] = (char)v;
            i += 3;
        } else {
            CHECK(s[i] >= 0x20 && s[i] < 0x7f);
            out[k++] = s[i];
        }
    }
    return (long)k;
}

static void on_reject(void *arg, uint64_t line, int reason, const char *s, size_t n)
{
    struct model *m = arg;
    char *out = NULL, *q, *back;
    size_t len = 0;
    FILE *f;

    CHECK(m->next_rej < m->nrej);
    CHECK(m->rej[m->next_rej].line == line && m->rej[m->next_rej].reason == reason);
    m->next_rej++;

    f = open_memstream(&out, &len);
    CHECK(f);
    CHECK(strom_debs_format_reject(f, line, reason, s, n) == 0);
    CHECK(fclose(f) == 0);
    CHECK(len >= 2 && out[len - 1] == '\n' && memchr(out, '\n', len) == out + len - 1);
    q = strchr(out, '"'); /* the reason has no quote: the first one opens the line */
    CHECK(q && out[len - 2] == '"');
    back = malloc(len);
    CHECK(back && unescape(q + 1, (size_t)(out + len - 2 - (q + 1)), back) == (long)n);
    CHECK(memcmp(back, s, n) == 0);
    free(back);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* buffer, max line; not the 1 MiB default buffer, whose calloc per run would halve the
     * runs per second and which differs from 64 KiB only in size */
    static const size_t bufs[4][2] = {{65536, 0}, {34, 32}, {66, 64}, {4098, 0}};
    static const size_t caps[4] = {1, 2, 7, 4096};
    static const uint32_t t0s[4] = {0, 1, 100, STROM_DEBS_DEFAULT_T0};
    struct strom_debs_reader_conf conf;
    struct strom_debs_reader *r;
    struct strom_debs_batch b;
    const struct strom_debs_stats *st;
    struct model m = {0};
    const char *d = (const char *)data + 1;
    size_t n = size ? size - 1 : 0, max_line;
    int fd, rc;

    if (size == 0)
        return 0;
    conf = (struct strom_debs_reader_conf){
        -1, t0s[(data[0] >> 4) & 3], bufs[data[0] & 3][0], bufs[data[0] & 3][1], on_reject, &m};
    max_line = conf.max_line ? conf.max_line : STROM_DEBS_DEFAULT_MAX_LINE;
    build_model(d, n, max_line, conf.t0, &m);

    fd = memfd_create("fuzz", 0);
    CHECK(fd >= 0);
    CHECK(write(fd, d, n) == (ssize_t)n && lseek(fd, 0, SEEK_SET) == 0);
    conf.fd = fd;
    CHECK(strom_debs_reader_new(&r, &conf, NULL, 0) == 0);
    b = (struct strom_debs_batch){malloc(caps[(data[0] >> 2) & 3] * sizeof *b.rows),
                                  caps[(data[0] >> 2) & 3], 0};
    CHECK(b.rows);
    while ((rc = strom_debs_reader_next(r, &b)) == 0) {
        size_t rej_before = m.next_rej_seen;
        CHECK(b.n <= b.cap && m.next_row + b.n <= m.nrows);
        /* no row only after refused lines */
        CHECK(b.n >= 1 || m.next_rej > rej_before);
        m.next_rej_seen = m.next_rej;
        for (size_t i = 0; i < b.n; i++) {
            /* a replay from this row starts at its line: the row's bytes begin there */
            CHECK(b.rows[i].offset < n && (b.rows[i].offset == 0 || d[b.rows[i].offset - 1] == '\n'));
            CHECK(same_row(&b.rows[i], &m.rows[m.next_row++]));
        }
    }
    CHECK(rc == 1);
    st = strom_debs_reader_stats(r);
    CHECK(m.next_row == m.nrows && m.next_rej == m.nrej);
    CHECK(st->lines == m.lines && st->accepted == m.nrows && st->rejected == m.nrej);
    CHECK(st->accepted + st->rejected == st->lines && st->bytes == n);
    strom_debs_reader_free(r);
    close(fd);
    free(b.rows);
    free(m.rows);
    free(m.rej);
    return 0;
}
