/*
 * apps/debs14/reader.c: a stream of bytes (file, pipe, stdin) to batches of accepted rows.
 *
 * One buffer of buf_size bytes, filled by read() at its end:
 *
 *   buf                 start                    end                      buf_size
 *   | consumed          | unread bytes: lines... | free, read() goes here  |
 *
 * Complete lines (up to an LF) are taken from start; the bytes after the last LF, a line
 * not yet complete, are moved to the front before the next read(). That tail is never
 * longer than max_line + 1 bytes (a longer one is refused at once, see below), so a read
 * always has room and a line split over any number of reads comes out whole.
 *
 * A line longer than max_line is refused when it is seen to be too long: at its LF, or as
 * soon as its unfinished tail passes max_line + 1 bytes (one more, for a CR that may come
 * before the LF). In the second case the reader reports the first max_line bytes and then
 * skips bytes up to the next LF (state: skipping), so no line is buffered unboundedly.
 *
 * Line numbers: every LF ends a line, and so does the end of input after bytes without
 * one; an empty input has no line, and an input ending in LF has no empty line after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/debs14/parse.h"
#include "strom/error.h"

struct strom_debs_reader {
    int fd;
    uint32_t t0;
    size_t max_line;
    strom_debs_reject_fn on_reject;
    void *arg;
    char *buf;
    size_t cap, start, end;
    int eof;      /* read() returned 0 */
    int skipping; /* inside a too-long line already reported: drop bytes up to the LF */
    int err;      /* sticky: a failed read ends the stream */
    struct strom_debs_stats st;
    char errmsg[160];
};

int strom_debs_reader_new(struct strom_debs_reader **out, const struct strom_debs_reader_conf *conf,
                          char *err, size_t errlen)
{
    struct strom_debs_reader *r;
    size_t cap = conf->buf_size ? conf->buf_size : STROM_DEBS_DEFAULT_BUF_SIZE;
    size_t max_line = conf->max_line ? conf->max_line : STROM_DEBS_DEFAULT_MAX_LINE;

    *out = NULL;
    if (conf->fd < 0 || max_line > SIZE_MAX / 2 || cap < max_line + 2) {
        if (err)
            snprintf(err, errlen,
                     "debs reader: fd %d, buffer %zu, max line %zu: need fd >= 0 "
                     "and buffer >= max line + 2",
                     conf->fd, cap, max_line);
        return STROM_E_INVAL;
    }
    r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    /* the LF after the data and the fast parser's slack (parse.h); zeroed so that no
     * byte the parser reads past the data is uninitialized */
    r->buf = calloc(1, cap + STROM_DEBS_PAD);
    if (!r->buf) {
        free(r);
        return -ENOMEM;
    }
    r->fd = conf->fd;
    r->t0 = conf->t0;
    r->max_line = max_line;
    r->on_reject = conf->on_reject;
    r->arg = conf->arg;
    r->cap = cap;
    r->buf[0] = '\n';
    *out = r;
    return 0;
}

void strom_debs_reader_free(struct strom_debs_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r);
}

const struct strom_debs_stats *strom_debs_reader_stats(const struct strom_debs_reader *r)
{
    return &r->st;
}

void strom_debs_reader_resume(struct strom_debs_reader *r, const struct strom_debs_stats *st)
{
    r->st = *st;
}

const char *strom_debs_reader_errmsg(const struct strom_debs_reader *r)
{
    return r->errmsg;
}

static void reject(struct strom_debs_reader *r, int reason, const char *line, size_t len)
{
    r->st.rejected++;
    r->st.by_reason[reason]++;
    if (r->on_reject)
        r->on_reject(r->arg, r->st.lines, reason, line, len);
}

/* The rules that need the lines before, for a line that is grammatical, and the counts. */
static void take_row(struct strom_debs_reader *r, struct strom_debs_batch *b, const char *s,
                     size_t content)
{
    struct strom_debs_row *row = &b->rows[b->n];
    int reason = 0;

    if (row->ts < r->t0)
        reason = STROM_DEBS_R_BEFORE_T0;
    else if (row->ts < r->st.max_ts)
        reason = STROM_DEBS_R_LATE;
    if (reason) {
        reject(r, reason, s, content);
        return;
    }
    /* Every accepted line moves the late rule's clock, work rows too (parse.h says why). */
    r->st.max_ts = row->ts;
    row->line_no = r->st.lines;
    row->offset = r->st.bytes - (uint64_t)(r->buf + r->end - s);
    r->st.accepted++;
    r->st.accepted_load += row->property;
    b->n++;
}

/* One complete line, without its LF (the CR, if any, still there: the parser owns that
 * rule). The grammar first, then before t0, then late. */
static void take_line(struct strom_debs_reader *r, struct strom_debs_batch *b, const char *s,
                      size_t n)
{
    size_t content = n - (n && s[n - 1] == '\r');
    int reason;

    r->st.lines++;
    if (content > r->max_line) {
        reject(r, STROM_DEBS_R_LINE_TOO_LONG, s, r->max_line);
        return;
    }
    reason = strom_debs_parse_line(s, n, &b->rows[b->n]);
    if (reason)
        reject(r, reason, s, content);
    else
        take_row(r, b, s, content);
}

/* Takes complete lines while the batch has room; deals with an unfinished tail. */
static void scan(struct strom_debs_reader *r, struct strom_debs_batch *b)
{
    const char *end = r->buf + r->end; /* *end is the LF put after the data */

    while (b->n < b->cap) {
        char *s = r->buf + r->start;
        size_t avail = r->end - r->start;
        const char *q;
        char *lf;

        /* The common line: parsed in place, its end found by the parser, not by memchr.
         * An LF at end is ours, not the data's: such a line is not complete yet. */
        if (!r->skipping && (q = strom_debs__parse_padded(s, &b->rows[b->n])) &&
            (size_t)(q - s) <= r->max_line) {
            if (q < end && *q == '\n') {
                r->start += (size_t)(q - s) + 1;
                r->st.lines++;
                take_row(r, b, s, (size_t)(q - s));
                continue;
            }
            if (q + 1 < end && q[0] == '\r' && q[1] == '\n') {
                r->start += (size_t)(q - s) + 2;
                r->st.lines++;
                take_row(r, b, s, (size_t)(q - s));
                continue;
            }
        }
        lf = memchr(s, '\n', avail);

        if (!lf) {
            if (!r->skipping && avail > r->max_line + 1) {
                r->st.lines++;
                reject(r, STROM_DEBS_R_LINE_TOO_LONG, s, r->max_line);
                r->skipping = 1;
            }
            if (r->skipping)
                r->start = r->end; /* already reported: drop */
            return;
        }
        r->start += (size_t)(lf - s) + 1;
        if (r->skipping) {
            r->skipping = 0; /* the LF that ends the long line: it was counted already */
            continue;
        }
        take_line(r, b, s, (size_t)(lf - s));
    }
}

/* Moves the unfinished tail to the front and reads after it. */
static int fill(struct strom_debs_reader *r)
{
    ssize_t got;

    if (r->start) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    do
        got = read(r->fd, r->buf + r->end, r->cap - r->end);
    while (got < 0 && errno == EINTR);
    if (got < 0) {
        int rc = -errno;

        snprintf(r->errmsg, sizeof r->errmsg, "read failed after byte %llu: %s",
                 (unsigned long long)r->st.bytes, strom_strerror(rc));
        return rc;
    }
    if (got == 0)
        r->eof = 1;
    r->end += (size_t)got;
    r->buf[r->end] = '\n';
    r->st.bytes += (uint64_t)got;
    return 0;
}

int strom_debs_reader_next(struct strom_debs_reader *r, struct strom_debs_batch *out)
{
    uint64_t refused = r->st.rejected;

    out->n = 0;
    if (r->err)
        return r->err;
    if (!out->cap) {
        snprintf(r->errmsg, sizeof r->errmsg, "batch of capacity 0");
        return STROM_E_INVAL;
    }
    for (;;) {
        scan(r, out);
        /* Full, or rows ready and no complete line left: hand them out now rather than
         * wait in read() for a pipe's next bytes. */
        if (out->n || r->st.rejected != refused)
            return 0;
        if (r->eof) {
            /* The last line, without LF (scan left it: it is at most max_line + 1). */
            if (r->start < r->end && !r->skipping)
                take_line(r, out, r->buf + r->start, r->end - r->start);
            r->start = r->end;
            r->skipping = 0;
            return out->n ? 0 : 1;
        }
        r->err = fill(r);
        if (r->err)
            return r->err;
    }
}
