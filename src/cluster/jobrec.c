/* cluster/jobrec.c: the job, assignment, report and status texts (jobrec.h). */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cluster/jobrec.h"
#include "core/errf.h"
#include "strom/error.h"

/* ---- reading lines ------------------------------------------------------------------------ */

struct lines {
    const char *p, *end;
    unsigned no;           /* number of the line last taken, from 1 */
    char line[STROM_JOBREC_TEXT_MAX + 1];
};

/* The next line without its '\n' into l->line: 1; 0 at the end; negative when the text
 * has a line without '\n', a NUL or a line too long. */
static int next_line(struct lines *l, char *err, size_t errlen)
{
    const char *nl;
    size_t n;

    if (l->p == l->end)
        return 0;
    l->no++;
    nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
    if (!nl)
        return strom__errf(err, errlen, STROM_E_CORRUPT, "line %u does not end", l->no);
    n = (size_t)(nl - l->p);
    if (n > STROM_JOBREC_TEXT_MAX)
        return strom__errf(err, errlen, STROM_E_CORRUPT, "line %u is too long", l->no);
    memcpy(l->line, l->p, n);
    l->line[n] = 0;
    if (strlen(l->line) != n)
        return strom__errf(err, errlen, STROM_E_CORRUPT, "line %u holds a NUL byte", l->no);
    l->p = nl + 1;
    return 1;
}

/* "KEY VALUE" with the given key: the value, or NULL. */
static const char *value_of(const char *line, const char *key)
{
    size_t k = strlen(key);
    return strncmp(line, key, k) || line[k] != ' ' ? NULL : line + k + 1;
}

static int printable(const char *s, int space_ok)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || (*s == ' ' && !space_ok))
            return 0;
    return 1;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s || (s[0] == '0' && s[1]))
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static int id_ok(const char *s)
{
    if (strlen(s) != 16)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

/* ---- the job -------------------------------------------------------------------------------- */

void strom_jobrec_new_id(char id[17])
{
    uint8_t r[8];
    randombytes_buf(r, sizeof r);
    for (int i = 0; i < 8; i++)
        snprintf(id + 2 * i, 3, "%02x", r[i]);
}

void strom_jobrec_clean_text(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    if (!cap)
        return;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (unsigned char)src[i] < 0x20 || (unsigned char)src[i] >= 0x7f ? '?' : src[i];
    dst[i] = 0;
}

void strom_jobrec_release(struct strom_jobrec *j)
{
    for (unsigned i = 0; i < j->argc; i++)
        free(j->argv[i]);
    j->argc = 0;
    j->argv[0] = NULL;
}

/* Appends to a growing text. */
struct text {
    char *s;
    size_t len, cap;
    int failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (t->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 256) + (size_t)n;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

static int text_done(struct text *t, char **out, size_t *len)
{
    if (t->failed) {
        free(t->s);
        return -ENOMEM;
    }
    *out = t->s;
    *len = t->len;
    return 0;
}

static int arg_ok(const char *a)
{
    size_t n = strlen(a);
    return n >= 1 && n <= STROM_JOB_ARG_MAX && printable(a, 1);
}

int strom_jobrec_encode(const struct strom_jobrec *j, char **out, size_t *len, char *err,
                        size_t errlen)
{
    struct text t = {0};
    if (!id_ok(j->id))
        return strom__errf(err, errlen, -EINVAL, "a job id is 16 lowercase hex digits");
    if (j->argc < 1 || j->argc > STROM_JOB_ARGS_MAX)
        return strom__errf(err, errlen, -EINVAL, "a job has 1 to %d arguments",
                           STROM_JOB_ARGS_MAX);
    for (unsigned i = 0; i < j->argc; i++)
        if (!arg_ok(j->argv[i]))
            return strom__errf(err, errlen, -EINVAL,
                               "argument %u of the job is empty, longer than %d bytes, or "
                               "holds a character other than printable ASCII",
                               i + 1, STROM_JOB_ARG_MAX);
    put(&t, "strom-job 1\nid %s\nworkers %u\n", j->id, j->workers);
    for (unsigned i = 0; i < j->argc; i++)
        put(&t, "arg %s\n", j->argv[i]);
    return text_done(&t, out, len);
}

int strom_jobrec_decode(struct strom_jobrec *j, const char *text, size_t len, char *err,
                        size_t errlen)
{
    struct lines l = {.p = text, .end = text + len};
    const char *v;
    uint64_t u;
    int rc;

    memset(j, 0, sizeof *j);
    if ((rc = next_line(&l, err, errlen)) <= 0 || strcmp(l.line, "strom-job 1"))
        return rc < 0 ? rc : strom__errf(err, errlen, STROM_E_CORRUPT,
                                         "not a job record (line 1 is not 'strom-job 1')");
    if ((rc = next_line(&l, err, errlen)) <= 0 || !(v = value_of(l.line, "id")) || !id_ok(v))
        return rc < 0 ? rc : strom__errf(err, errlen, STROM_E_CORRUPT,
                                         "job record, line 2: want 'id' and 16 hex digits");
    memcpy(j->id, v, 17);
    if ((rc = next_line(&l, err, errlen)) <= 0 || !(v = value_of(l.line, "workers")) ||
        parse_u64(v, STROM_ASSIGN_WORKERS_MAX, &u))
        return rc < 0 ? rc : strom__errf(err, errlen, STROM_E_CORRUPT,
                                         "job record, line 3: want 'workers' and 0 to %d",
                                         STROM_ASSIGN_WORKERS_MAX);
    j->workers = (unsigned)u;
    while ((rc = next_line(&l, err, errlen)) > 0) {
        if (!(v = value_of(l.line, "arg")) || !arg_ok(v) || j->argc == STROM_JOB_ARGS_MAX) {
            strom_jobrec_release(j);
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                               "job record, line %u: want 'arg' and 1 to %d printable "
                               "characters, at most %d arguments",
                               l.no, STROM_JOB_ARG_MAX, STROM_JOB_ARGS_MAX);
        }
        if (!(j->argv[j->argc] = strdup(v))) {
            strom_jobrec_release(j);
            return -ENOMEM;
        }
        j->argv[++j->argc] = NULL;
    }
    if (rc < 0 || !j->argc) {
        strom_jobrec_release(j);
        return rc < 0 ? rc : strom__errf(err, errlen, STROM_E_CORRUPT,
                                         "job record without arguments");
    }
    return 0;
}

/* ---- the assignment --------------------------------------------------------------------- */

static const char *const state_names[] = {"running", "finished", "failed", "stopped"};

const char *strom_job_state_name(enum strom_job_state s)
{
    return (unsigned)s < 4 ? state_names[s] : "?";
}

int strom_assignment_index(const struct strom_assignment *a, const char *name)
{
    for (unsigned i = 0; i < a->n; i++)
        if (!strcmp(a->w[i].name, name))
            return (int)i;
    return -1;
}

int strom_assignment_encode(const struct strom_assignment *a, char **out, size_t *len, char *err,
                            size_t errlen)
{
    struct text t = {0};
    if (!id_ok(a->job) || (unsigned)a->state > STROM_JOB_STOPPED ||
        (a->n < 1 && a->state == STROM_JOB_RUNNING) ||
        a->n > STROM_ASSIGN_WORKERS_MAX || !printable(a->message, 1))
        return strom__errf(err, errlen, -EINVAL, "an invalid assignment");
    put(&t, "strom-assignment 1\njob %s\nstate %s\nattempt %u\n", a->job,
        state_names[a->state], a->attempt);
    for (unsigned i = 0; i < a->n; i++) {
        if (!strom_cluster_node_name_ok(a->w[i].name) || !a->w[i].addr[0] ||
            !printable(a->w[i].addr, 0)) {
            free(t.s);
            return strom__errf(err, errlen, -EINVAL, "an invalid worker in an assignment");
        }
        put(&t, "worker %s %s\n", a->w[i].name, a->w[i].addr);
    }
    if (a->message[0])
        put(&t, "message %s\n", a->message);
    return text_done(&t, out, len);
}

int strom_assignment_decode(struct strom_assignment *a, const char *text, size_t len, char *err,
                            size_t errlen)
{
    struct lines l = {.p = text, .end = text + len};
    const char *v;
    uint64_t u;
    int rc;

    memset(a, 0, sizeof *a);
#define BAD(what)                                                                              \
    (rc < 0 ? rc : strom__errf(err, errlen, STROM_E_CORRUPT, "assignment, line %u: %s", l.no,  \
                               what))
    if ((rc = next_line(&l, err, errlen)) <= 0 || strcmp(l.line, "strom-assignment 1"))
        return BAD("not 'strom-assignment 1'");
    if ((rc = next_line(&l, err, errlen)) <= 0 || !(v = value_of(l.line, "job")) || !id_ok(v))
        return BAD("want 'job' and 16 hex digits");
    memcpy(a->job, v, 17);
    if ((rc = next_line(&l, err, errlen)) <= 0 || !(v = value_of(l.line, "state")))
        return BAD("want 'state'");
    for (a->state = STROM_JOB_RUNNING; a->state <= STROM_JOB_STOPPED; a->state++)
        if (!strcmp(v, state_names[a->state]))
            break;
    if (a->state > STROM_JOB_STOPPED)
        return BAD("unknown state");
    if ((rc = next_line(&l, err, errlen)) <= 0 || !(v = value_of(l.line, "attempt")) ||
        parse_u64(v, 1000000, &u))
        return BAD("want 'attempt' and a count");
    a->attempt = (unsigned)u;
    while ((rc = next_line(&l, err, errlen)) > 0) {
        const char *sp;
        size_t nl;
        if ((v = value_of(l.line, "message"))) {
            if (!printable(v, 1) || !*v)
                return BAD("a message of printable characters");
            snprintf(a->message, sizeof a->message, "%s", v);
            if ((rc = next_line(&l, err, errlen)) != 0)
                return BAD("nothing may follow the message");
            break;
        }
        if (!(v = value_of(l.line, "worker")) || !(sp = strchr(v, ' ')) ||
            a->n == STROM_ASSIGN_WORKERS_MAX)
            return BAD("want 'worker NAME ADDRESS' (at most 256) or 'message'");
        nl = (size_t)(sp - v);
        if (nl > STROM_CLUSTER_NODE_NAME_MAX || strlen(sp + 1) > STROM_CLUSTER_NODE_ADDR_MAX ||
            !sp[1] || !printable(sp + 1, 0))
            return BAD("a worker's name or address is invalid");
        memcpy(a->w[a->n].name, v, nl);
        a->w[a->n].name[nl] = 0;
        if (!strom_cluster_node_name_ok(a->w[a->n].name) || strom_assignment_index(a, a->w[a->n].name) >= 0)
            return BAD("a worker's name is invalid or repeated");
        snprintf(a->w[a->n].addr, sizeof a->w[a->n].addr, "%s", sp + 1);
        a->n++;
    }
    if (rc < 0)
        return rc;
    if (!a->n && a->state == STROM_JOB_RUNNING)
        return strom__errf(err, errlen, STROM_E_CORRUPT, "a running assignment without workers");
#undef BAD
    return 0;
}

/* ---- status ---------------------------------------------------------------------------------- */

int strom_status_encode(const struct strom_worker_status *s, char *buf, size_t buflen)
{
    int n = snprintf(buf, buflen, "epoch %" PRIu64 "\nrows %" PRIu64 "\nrate %.0f\ncheckpoint %" PRIu64 "\n",
                     s->epoch, s->rows, s->rate >= 0 && s->rate < 1e15 ? s->rate : 0.0,
                     s->checkpoint);
    return n < 0 || (size_t)n >= buflen ? -ENOSPC : n;
}

int strom_status_decode(struct strom_worker_status *s, const char *text, size_t len, char *err,
                        size_t errlen)
{
    static const char *const keys[] = {"epoch", "rows", "rate", "checkpoint"};
    struct lines l = {.p = text, .end = text + len};
    uint64_t v[4];
    const char *val;
    int rc = 0;

    for (unsigned k = 0; k < 4; k++)
        if ((rc = next_line(&l, err, errlen)) <= 0 || !(val = value_of(l.line, keys[k])) ||
            parse_u64(val, UINT64_MAX, &v[k]))
            return rc < 0 ? rc : strom__errf(err, errlen, STROM_E_CORRUPT,
                                             "worker status, line %u: want '%s' and a number",
                                             l.no, keys[k]);
    if ((rc = next_line(&l, err, errlen)) != 0)
        return rc < 0 ? rc : strom__errf(err, errlen, STROM_E_CORRUPT,
                                         "worker status: trailing lines");
    *s = (struct strom_worker_status){.epoch = v[0], .rows = v[1], .rate = (double)v[2],
                                      .checkpoint = v[3]};
    return 0;
}
