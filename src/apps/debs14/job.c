/*
 * apps/debs14/job.c: building and running the DEBS 2014 job (see debs14.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/debs14/debs14.h"
#include "apps/debs14/q1.h"
#include "apps/debs14/q2.h"
#include "strom/error.h"

/* Streams 0..9 are Q1 (per slice size: house, plug), 10 and 11 are Q2. */
static const char *const stream_names[STROM_DEBS_STREAMS] = {
    "q1-house-1min.csv",  "q1-plug-1min.csv",  "q1-house-5min.csv",  "q1-plug-5min.csv",
    "q1-house-15min.csv", "q1-plug-15min.csv", "q1-house-60min.csv", "q1-plug-60min.csv",
    "q1-house-120min.csv", "q1-plug-120min.csv", "q2-1h.csv",         "q2-24h.csv"};

/* A stream's latency: its real format, then the time since the row's trigger. */
struct stream_lat {
    strom_format_fn format;
    const struct strom_debs_triggers *triggers;
    int strict; /* Q2: the trigger of second t is a later second */
    struct strom_debs_latency lat;
    int64_t last_time; /* rows come in runs of one time: the last lookup, while found */
    uint64_t last_from;
};

struct strom_debs_run {
    struct strom_debs_conf conf;
    struct stream_lat lat[STROM_DEBS_STREAMS];
    struct strom_debs_latency all;
    struct strom_job *job;
    struct strom_debs_source src;
    struct strom_q1_conf q1;
    struct strom_file_sink sinks[STROM_DEBS_STREAMS];
    char *paths[STROM_DEBS_STREAMS];
    char sink_names[STROM_DEBS_STREAMS][32];
    char *rejects_path;
    int fd, own_fd;
    uint64_t size;
};

static int lat_format(FILE *f, const struct strom_event *ev, void *arg)
{
    struct stream_lat *sl = arg;
    int rc = sl->format(f, ev, NULL);
    uint64_t from = sl->last_from, now;
    if (!from || ev->time != sl->last_time) {
        from = sl->last_from = strom_debs_triggers_find(sl->triggers, ev->time, sl->strict);
        sl->last_time = ev->time;
    }
    now = strom_debs_now_ns();
    if (!rc && from && now >= from)
        strom_debs_latency_add(&sl->lat, now - from);
    return rc;
}

/* With latency measured, every sink writes through lat_format. */
static void measure(struct strom_debs_run *run, unsigned k)
{
    struct strom_file_sink *s = &run->sinks[k];
    if (!run->src.triggers)
        return;
    run->lat[k] = (struct stream_lat){.format = s->format, .triggers = run->src.triggers,
                                      .strict = k >= 10};
    s->format = lat_format;
    s->format_arg = &run->lat[k];
}

const struct strom_debs_latency *strom_debs_run_latency(struct strom_debs_run *run)
{
    if (!run->src.triggers)
        return NULL;
    memset(&run->all, 0, sizeof run->all);
    for (unsigned k = 0; k < STROM_DEBS_STREAMS; k++)
        strom_debs_latency_merge(&run->all, &run->lat[k].lat);
    return &run->all;
}

const char *strom_debs_stream_name(unsigned k)
{
    return k < STROM_DEBS_STREAMS ? stream_names[k] : NULL;
}

static int out_path(char **out, const char *dir, const char *name)
{
    return asprintf(out, "%s/%s", dir, name) < 0 ? -ENOMEM : 0;
}

static int build(struct strom_debs_run *run, char *err, size_t errlen)
{
    const struct strom_debs_conf *c = &run->conf;
    struct strom_job_config jc = {.threads = c->threads, .key_groups = c->key_groups};
    unsigned p;
    int rc = strom_job_new(&run->job, &jc);

    if (rc) {
        snprintf(err, errlen, "cannot create the job: %s", strom_strerror(rc));
        return rc;
    }
    p = c->parallelism ? c->parallelism : strom_job_threads(run->job);
    run->q1.t0 = c->t0;
    if (!rc)
        rc = strom_job_add(run->job, "source", &strom_debs_source_op, &run->src, 1);
    if (!rc && (c->queries & STROM_DEBS_Q1)) {
        rc = strom_job_add(run->job, "q1", &strom_q1_op, &run->q1, p);
        if (!rc)
            rc = strom_job_connect(run->job, "source", "q1", STROM_BY_KEY);
        for (unsigned k = 0; k < 10 && !rc; k++) {
            struct strom_file_sink *s = &run->sinks[k];
            s->path = run->paths[k];
            s->format = k % 2 ? strom_q1_format_plug : strom_q1_format_house;
            measure(run, k);
            snprintf(run->sink_names[k], sizeof run->sink_names[k], "sink-%s", stream_names[k]);
            rc = strom_job_add(run->job, run->sink_names[k], &strom_file_sink_op, s, 1);
            if (!rc) /* port k of q1: connected in this order */
                rc = strom_job_connect(run->job, "q1", run->sink_names[k], STROM_GLOBAL);
        }
    }
    if (!rc && (c->queries & STROM_DEBS_Q2)) {
        rc = strom_job_add(run->job, "q2plug", &strom_q2plug_op, NULL, p);
        if (!rc)
            rc = strom_job_add(run->job, "q2global", &strom_q2global_op, NULL, 1);
        if (!rc)
            rc = strom_job_add(run->job, "q2house", &strom_q2house_op, NULL, p);
        if (!rc)
            rc = strom_job_connect(run->job, "source", "q2plug", STROM_BY_KEY);
        if (!rc) /* ports of q2plug: 0 to q2house, 1 to q2global (see q2.c) */
            rc = strom_job_connect(run->job, "q2plug", "q2house", STROM_BY_KEY);
        if (!rc)
            rc = strom_job_connect(run->job, "q2plug", "q2global", STROM_GLOBAL);
        if (!rc)
            rc = strom_job_connect(run->job, "q2global", "q2house", STROM_BROADCAST);
        for (unsigned k = 10; k < STROM_DEBS_STREAMS && !rc; k++) {
            struct strom_file_sink *s = &run->sinks[k];
            s->path = run->paths[k];
            s->format = strom_q2_format;
            measure(run, k);
            snprintf(run->sink_names[k], sizeof run->sink_names[k], "sink-%s", stream_names[k]);
            rc = strom_job_add(run->job, run->sink_names[k], &strom_file_sink_op, s, 1);
            if (!rc) /* ports 0 (1 h) and 1 (24 h) of q2house */
                rc = strom_job_connect(run->job, "q2house", run->sink_names[k], STROM_GLOBAL);
        }
    }
    if (rc)
        snprintf(err, errlen, "cannot build the job: %s", strom_job_errmsg(run->job));
    return rc;
}

/* FNV-1a over n bytes of fd from off. */
static int hash_range(int fd, uint64_t off, size_t n, uint64_t *h)
{
    unsigned char buf[65536];
    while (n) {
        ssize_t r = pread(fd, buf, n < sizeof buf ? n : sizeof buf, (off_t)off);
        if (r <= 0)
            return r ? -errno : -EIO;
        for (ssize_t i = 0; i < r; i++)
            *h = (*h ^ buf[i]) * 0x100000001b3ull;
        off += (uint64_t)r;
        n -= (size_t)r;
    }
    return 0;
}

/* The job's identity for its checkpoints: what decides the output (queries, t0, key
 * groups) and the input (its size and a hash of its first and last MiB), but not threads
 * or parallelism, which a restart may change. */
static int checkpoints(struct strom_debs_run *run, const struct stat *st, char *err,
                       size_t errlen)
{
    const struct strom_debs_conf *c = &run->conf;
    uint64_t h = 0xcbf29ce484222325ull, size = (uint64_t)st->st_size;
    size_t head = size < (1u << 20) ? (size_t)size : 1u << 20;
    char fp[256];
    int rc;

    if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "checkpoints need an input file to read again after a crash; "
                              "%s is not a regular file", c->input);
        return STROM_E_USAGE;
    }
    if ((rc = hash_range(run->fd, 0, head, &h)) ||
        (rc = hash_range(run->fd, size - head, head, &h))) {
        snprintf(err, errlen, "reading input %s: %s", c->input, strom_strerror(rc));
        return rc;
    }
    snprintf(fp, sizeof fp, "debs14 queries=%u t0=%u key-groups=%u input-bytes=%llu "
             "input-hash=%016llx", c->queries, (unsigned)c->t0,
             strom_job_key_groups(run->job), (unsigned long long)size, (unsigned long long)h);
    struct strom_checkpoint_config cc = {.dir = c->checkpoint_dir,
                                         .interval = c->checkpoint_interval,
                                         .fingerprint = fp,
                                         .fingerprint_len = strlen(fp),
                                         .log = c->log,
                                         .log_arg = c->log_arg};
    if ((rc = strom_job_set_checkpoints(run->job, &cc)))
        snprintf(err, errlen, "%s", strom_job_errmsg(run->job));
    return rc;
}

int strom_debs_run_finished_before(const struct strom_debs_run *run)
{
    return strom_job_finished_before(run->job);
}

int strom_debs_run_new(struct strom_debs_run **out, const struct strom_debs_conf *conf,
                       char *err, size_t errlen)
{
    struct strom_debs_run *run = calloc(1, sizeof *run);
    struct stat st = {0};
    int rc = 0;

    *out = NULL;
    if (!run)
        return -ENOMEM;
    run->conf = *conf;
    run->fd = -1;
    if (!conf->queries || (conf->queries & ~(STROM_DEBS_Q1 | STROM_DEBS_Q2))) {
        snprintf(err, errlen, "no query selected");
        rc = STROM_E_INVAL;
        goto out;
    }
    if (conf->checkpoint_dir && !strcmp(conf->input, "-")) {
        snprintf(err, errlen, "checkpoints need an input file to read again after a crash, "
                              "not standard input");
        rc = STROM_E_USAGE;
        goto out;
    }
    if (!strcmp(conf->input, "-")) {
        run->fd = 0;
    } else if ((run->fd = open(conf->input, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot open input %s: %s", conf->input, strerror(-rc));
        goto out;
    } else {
        run->own_fd = 1;
    }
    if (!fstat(run->fd, &st) && S_ISREG(st.st_mode))
        run->size = (uint64_t)st.st_size;
    if (mkdir(conf->out_dir, 0777) && errno != EEXIST) {
        rc = -errno;
        snprintf(err, errlen, "cannot create output directory %s: %s", conf->out_dir,
                 strerror(-rc));
        goto out;
    }
    if ((rc = out_path(&run->rejects_path, conf->out_dir, "rejects.csv")))
        goto out;
    for (unsigned k = 0; k < STROM_DEBS_STREAMS; k++)
        if ((k < 10 ? conf->queries & STROM_DEBS_Q1 : conf->queries & STROM_DEBS_Q2) &&
            (rc = out_path(&run->paths[k], conf->out_dir, stream_names[k])))
            goto out;
    run->src.rejects_path = run->rejects_path;
    run->src.fd = run->fd;
    run->src.t0 = conf->t0;
    if (conf->latency && (rc = strom_debs_triggers_new(&run->src.triggers)))
        goto out;
    rc = build(run, err, errlen);
    if (!rc && conf->dist && (rc = strom_job_set_distributed(run->job, conf->dist)))
        snprintf(err, errlen, "%s", strom_job_errmsg(run->job)[0] ? strom_job_errmsg(run->job)
                                                                 : strom_strerror(rc));
    if (!rc && conf->checkpoint_dir)
        rc = checkpoints(run, &st, err, errlen);
out:
    if (rc) {
        strom_debs_run_free(run);
        return rc;
    }
    *out = run;
    return 0;
}

int strom_debs_run_start(struct strom_debs_run *run)
{
    return strom_job_start(run->job);
}

int strom_debs_run_wait(struct strom_debs_run *run, char *err, size_t errlen)
{
    int rc = strom_job_wait(run->job);
    if (rc)
        snprintf(err, errlen, "%s", strom_job_errmsg(run->job));
    return rc;
}

void strom_debs_run_progress(const struct strom_debs_run *run, uint64_t *bytes,
                             uint64_t *lines, uint64_t *size)
{
    *bytes = atomic_load_explicit(&run->src.bytes, memory_order_relaxed);
    *lines = atomic_load_explicit(&run->src.lines, memory_order_relaxed);
    *size = run->size;
}

const struct strom_debs_source *strom_debs_run_source(const struct strom_debs_run *run)
{
    return &run->src;
}

struct strom_job *strom_debs_run_job(struct strom_debs_run *run)
{
    return run->job;
}

int strom_debs_run_stream(const struct strom_debs_run *run, unsigned k, const char **path,
                          unsigned long long *rows)
{
    if (k >= STROM_DEBS_STREAMS || !run->paths[k])
        return STROM_E_NOTFOUND;
    *path = run->paths[k];
    *rows = run->sinks[k].rows;
    return 0;
}

void strom_debs_run_free(struct strom_debs_run *run)
{
    if (!run)
        return;
    strom_job_free(run->job);
    strom_debs_triggers_free(run->src.triggers);
    if (run->own_fd)
        close(run->fd);
    for (unsigned k = 0; k < STROM_DEBS_STREAMS; k++)
        free(run->paths[k]);
    free(run->rejects_path);
    free(run);
}
