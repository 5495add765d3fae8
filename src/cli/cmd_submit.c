/*
 * cli/cmd_submit.c: `strom submit`, `strom status` and `strom stop`: the user's side of a
 * cluster. They speak only to ZooKeeper (with the cluster secret); the coordinator and the
 * workers do the rest (docs/cluster.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/debs14/debs14.h"
#include "cli/cli.h"
#include "cli/cluster_cli.h"
#include "cluster/cluster.h"
#include "cluster/elect.h"
#include "cluster/members.h"
#include "strom/error.h"

struct common {
    const char *zk, *keys, *name;
    int session_ms;
};

/* --zk, --keys and --name, common to the three commands; other options are the caller's. */
static int common_opt(struct common *co, int c)
{
    switch (c) {
    case 'z': co->zk = optarg; return 1;
    case 'k': co->keys = optarg; return 1;
    case 'n': co->name = optarg; return 1;
    default: return 0;
    }
}

static int common_check(const char *cmd, const struct common *co)
{
    if (!co->zk || !co->keys) {
        fprintf(stderr, "strom %s: --zk and --keys are required\n", cmd);
        return 2;
    }
    if (co->name && !strom_cluster_node_name_ok(co->name)) {
        fprintf(stderr, "strom %s: --name: '%s' is not a valid name\n", cmd, co->name);
        return 2;
    }
    return 0;
}

/* ---- submit -------------------------------------------------------------------------------- */

static void submit_usage(FILE *f)
{
    fprintf(f,
            "usage: strom submit --zk HOST:PORT[/PATH] --keys DIR [--name NAME] [options]\n"
            "                    debs14 --input FILE --out DIR [job options]\n\n"
            "Submits a job to the cluster and waits until it has finished and its output is\n"
            "complete (exit 0), failed or was stopped (exit 1). The job options are those of\n"
            "'strom run debs14' (see 'strom run --help'); relative paths are made absolute\n"
            "here. The first worker of a run reads the input and writes the output; any\n"
            "worker may become the first after a failure, so the input file, the output\n"
            "directory and the checkpoint directory must be reachable under the same paths\n"
            "on every worker (on one machine, any local path). Without --checkpoint-dir a\n"
            "run that loses a worker starts over from the beginning of the input.\n\n"
            "  --zk CONNECT      ZooKeeper: host:port[,host:port...][/path]\n"
            "  --keys DIR        keys directory (cluster.secret)\n"
            "  --name NAME       who submits, for logs\n"
            "  --workers N       run on N workers (default: every registered worker)\n"
            "  --detach          return once the job is submitted\n"
            "  --progress        show progress even when standard error is not a terminal\n\n"
            "Job options that differ from 'strom run': --threads is per worker; the default\n"
            "--parallelism is the number of workers the job starts on.\n");
}

/* path made absolute against the working directory, into a new string. */
static char *absolute(const char *path)
{
    char cwd[PATH_MAX], *out;
    if (path[0] == '/' || !strcmp(path, "-"))
        return strdup(path);
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    if (asprintf(&out, "%s/%s", cwd, path) < 0)
        return NULL;
    return out;
}

static volatile sig_atomic_t interrupted;
static void on_int(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Sum of the workers' published rows and rates. */
static void progress_line(struct strom_zk *zk, uint64_t epoch)
{
    struct strom_zk_children ch;
    char err[256];
    uint64_t rows = 0, ck = 0;
    double rate = 0;
    if (strom_zk_children(zk, STROM_ZK_STATUS, &ch, NULL, NULL, err, sizeof err))
        return;
    for (size_t i = 0; i < ch.n; i++) {
        char path[512], *data = NULL;
        size_t len;
        struct strom_worker_status st;
        snprintf(path, sizeof path, "%s/%s", STROM_ZK_STATUS, ch.names[i]);
        if (strom_zk_get(zk, path, &data, &len, NULL, NULL, NULL, err, sizeof err))
            continue;
        if (!strom_status_decode(&st, data, len, err, sizeof err) && st.epoch == epoch) {
            rows += st.rows;
            rate += st.rate;
            if (st.checkpoint > ck)
                ck = st.checkpoint;
        }
        free(data);
    }
    strom_zk_children_release(&ch);
    fprintf(stderr, "\rrun %" PRIu64 ": %" PRIu64 " rows, %.2f M rows/s, checkpoint %" PRIu64 "   ",
            epoch, rows, rate / 1e6, ck);
}

int strom_cmd_submit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"zk", required_argument, 0, 'z'},      {"keys", required_argument, 0, 'k'},
        {"name", required_argument, 0, 'n'},    {"workers", required_argument, 0, 'w'},
        {"detach", no_argument, 0, 'd'},        {"progress", no_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    struct common co = {0};
    struct strom_jobrec job = {0}, old;
    struct strom_assignment *a = NULL;
    struct strom_debs_conf conf;
    struct strom_cli_debs_flags fl;
    struct strom_zk *zk = NULL;
    struct clu_record jr = {0}, ar;
    unsigned long long v;
    unsigned workers = 0;
    int c, rc, detach = 0, progress = isatty(2), have_par = 0, jargc;
    char **jargv, err[1024] = "", *text = NULL;
    size_t len;
    uint64_t epoch_seen = 0;

    optind = 1;
    /* options up to the job's name; the rest belongs to the job */
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (common_opt(&co, c))
            continue;
        switch (c) {
        case 'w':
            if (strom_cli_parse_u64("--workers", optarg, 1, STROM_ASSIGN_WORKERS_MAX, &v))
                return 2;
            workers = (unsigned)v;
            break;
        case 'd': detach = 1; break;
        case 'P': progress = 1; break;
        case 'h': submit_usage(stdout); return 0;
        default: submit_usage(stderr); return 2;
        }
    }
    if ((rc = common_check("submit", &co)))
        return rc;
    if (optind >= argc) {
        fprintf(stderr, "strom submit: name the job to run (debs14) and its options\n");
        return 2;
    }
    jargc = argc - optind;
    jargv = argv + optind;
    {
        /* check the job's options here, where the user sees the error */
        char **copy = calloc((size_t)jargc + 1, sizeof *copy);
        if (!copy)
            return 1;
        memcpy(copy, jargv, (size_t)jargc * sizeof *copy);
        rc = strom_cli_debs_parse("submit", jargc, copy, &conf, &fl);
        free(copy);
        if (rc)
            return rc;
        if (fl.help) {
            submit_usage(stdout);
            return 0;
        }
    }
    if (!strcmp(conf.input, "-")) {
        fprintf(stderr, "strom submit: --input: a cluster job reads a file, not standard "
                        "input\n");
        return 2;
    }
    if (jargc + 3 > STROM_JOB_ARGS_MAX) {
        fprintf(stderr, "strom submit: too many job options (at most %d)\n", STROM_JOB_ARGS_MAX);
        return 2;
    }
    /* the job's arguments, paths made absolute */
    for (int i = 0; i < jargc; i++) {
        const char *s = jargv[i];
        int is_path = i > 0 && (!strcmp(jargv[i - 1], "--input") || !strcmp(jargv[i - 1], "--out") ||
                                !strcmp(jargv[i - 1], "--checkpoint-dir"));
        if (!strncmp(s, "--parallelism", 13))
            have_par = 1;
        if (!strncmp(s, "--input=", 8) || !strncmp(s, "--out=", 6) ||
            !strncmp(s, "--checkpoint-dir=", 17)) {
            fprintf(stderr, "strom submit: write '%.*s PATH', not '%s'\n",
                    (int)(strchr(s, '=') - s), s, s);
            strom_jobrec_release(&job);
            return 2;
        }
        if (!(job.argv[job.argc++] = is_path ? absolute(s) : strdup(s))) {
            strom_jobrec_release(&job);
            return 1;
        }
    }
    if (access(conf.input, R_OK)) {
        fprintf(stderr, "strom submit: cannot read the input %s here: %s (the first worker "
                        "must be able to)\n", conf.input, strerror(errno));
        strom_jobrec_release(&job);
        return 1;
    }
    if (clu_connect("submit", co.zk, co.keys, CLU_DEFAULT_SESSION_MS, &zk)) {
        strom_jobrec_release(&job);
        return 1;
    }
    if (!have_par) {
        struct strom_members m;
        unsigned p = workers;
        if (!p && !strom_members_list(zk, &m, err, sizeof err)) {
            p = (unsigned)m.n;
            strom_members_release(&m);
        }
        char buf[16];
        snprintf(buf, sizeof buf, "%u", p ? p : 1);
        job.argv[job.argc++] = strdup("--parallelism");
        job.argv[job.argc++] = strdup(buf);
        if (!job.argv[job.argc - 1] || !job.argv[job.argc - 2]) {
            rc = -ENOMEM;
            goto out;
        }
    }
    job.argv[job.argc] = NULL;
    job.workers = workers;
    strom_jobrec_new_id(job.id);
    if (!(a = malloc(sizeof *a))) {
        rc = -ENOMEM;
        goto out;
    }
    /* one job at a time */
    rc = clu_get_job(zk, &old, &jr, err, sizeof err);
    if (rc && rc != STROM_E_NOTFOUND) {
        fprintf(stderr, "strom submit: reading the current job: %s\n", err);
        goto out;
    }
    if (!rc) {
        int r2 = clu_get_assignment(zk, a, &ar, err, sizeof err);
        int busy = r2 == STROM_E_NOTFOUND || (!r2 && (strcmp(a->job, old.id) ||
                                                      a->state == STROM_JOB_RUNNING));
        if (busy) {
            fprintf(stderr, "strom submit: job %s is %s; 'strom stop' it first\n", old.id,
                    r2 || strcmp(a->job, old.id) ? "waiting for workers" : "running");
            strom_jobrec_release(&old);
            rc = STROM_E_BADSTATE;
            goto out;
        }
        strom_jobrec_release(&old);
    }
    if ((rc = strom_jobrec_encode(&job, &text, &len, err, sizeof err))) {
        fprintf(stderr, "strom submit: %s\n", err);
        goto out;
    }
    {
        struct strom_cluster_record prev = {.epoch = jr.epoch, .version = jr.version};
        rc = strom_cluster_record_set(zk, STROM_ZK_JOB, rc == 0 && jr.epoch ? &prev : NULL,
                                      jr.epoch + 1, text, len, NULL, err, sizeof err);
    }
    if (rc) {
        fprintf(stderr, "strom submit: %s\n",
                rc == STROM_E_CONFLICT || rc == STROM_E_EXISTS
                    ? "another job was submitted at the same moment; try again"
                    : err);
        goto out;
    }
    fprintf(stderr, "strom submit: job %s submitted\n", job.id);
    if (detach)
        goto out;
    signal(SIGINT, on_int);
    signal(SIGTERM, on_int);
    for (double t_log = 0, t_err = 0;; clu_sleep_ms(250)) {
        if (interrupted) {
            fprintf(stderr, "\nstrom submit: interrupted; the job %s goes on ('strom stop' "
                            "stops it)\n", job.id);
            rc = 1;
            goto out;
        }
        int r2 = clu_get_assignment(zk, a, &ar, err, sizeof err);
        if (r2 == STROM_E_NOTFOUND || (!r2 && strcmp(a->job, job.id))) {
            if (clu_now() - t_log > 10) {
                struct strom_cluster_node lead;
                if (strom_elect_leader(zk, STROM_ZK_ELECTION, &lead, err, sizeof err))
                    fprintf(stderr, "strom submit: no coordinator is running; waiting\n");
                t_log = clu_now();
            }
            continue;
        }
        if (r2) {
            if (clu_now() - t_err > 10) { /* ZooKeeper away: say so now and then */
                fprintf(stderr, "strom submit: reading the assignment: %s\n", err);
                t_err = clu_now();
            }
            continue;
        }
        if (a->state == STROM_JOB_RUNNING) {
            if (ar.epoch != epoch_seen && epoch_seen)
                fprintf(stderr, "%sstrom submit: the job runs again (assignment epoch %" PRIu64
                                ")\n", progress ? "\n" : "", ar.epoch);
            epoch_seen = ar.epoch;
            if (progress)
                progress_line(zk, ar.epoch);
            continue;
        }
        if (progress && epoch_seen)
            fprintf(stderr, "\n");
        if (a->state == STROM_JOB_FINISHED) {
            printf("job %s finished; output in %s\n", job.id, conf.out_dir);
            rc = 0;
        } else {
            fprintf(stderr, "strom submit: job %s %s%s%s\n", job.id,
                    strom_job_state_name(a->state), a->message[0] ? ": " : "", a->message);
            rc = 1;
        }
        goto out;
    }
out:
    free(text);
    free(a);
    strom_jobrec_release(&job);
    strom_zk_free(zk);
    return rc ? 1 : 0;
}

/* ---- status -------------------------------------------------------------------------------- */

static void status_usage(FILE *f)
{
    fprintf(f, "usage: strom status --zk HOST:PORT[/PATH] --keys DIR\n\n"
               "Prints the coordinator, the workers, the job, its assignment (which worker\n"
               "runs which instances and key groups), the last complete checkpoint and the\n"
               "rates the workers publish.\n");
}

static const char *job_arg(const struct strom_jobrec *j, const char *opt)
{
    for (unsigned i = 0; i + 1 < j->argc; i++)
        if (!strcmp(j->argv[i], opt))
            return j->argv[i + 1];
    return NULL;
}

int strom_cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {
        {"zk", required_argument, 0, 'z'}, {"keys", required_argument, 0, 'k'},
        {"name", required_argument, 0, 'n'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    struct common co = {0};
    struct strom_zk *zk = NULL;
    struct strom_cluster_node lead;
    struct strom_members m = {0};
    struct strom_jobrec job = {0};
    struct strom_assignment *a = calloc(1, sizeof *a);
    struct strom_cluster_record ck;
    struct clu_record jr, ar;
    char err[1024];
    int c, rc, have_job, have_a;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (common_opt(&co, c))
            continue;
        free(a);
        if (c == 'h') {
            status_usage(stdout);
            return 0;
        }
        status_usage(stderr);
        return 2;
    }
    if (!a)
        return 1;
    if ((rc = common_check("status", &co)) || clu_connect("status", co.zk, co.keys,
                                                          CLU_DEFAULT_SESSION_MS, &zk)) {
        free(a);
        return rc ? rc : 1;
    }
    if (!strom_elect_leader(zk, STROM_ZK_ELECTION, &lead, err, sizeof err))
        printf("coordinator: %s\n", lead.name);
    else
        printf("coordinator: none\n");
    if ((rc = strom_members_list(zk, &m, err, sizeof err)))
        printf("workers: cannot list: %s\n", err);
    else
        printf("workers: %zu\n", m.n);
    for (size_t i = 0; i < m.n; i++) {
        char path[512], *data = NULL;
        size_t len;
        struct strom_worker_status st;
        printf("  %-16s %s", m.v[i].name, m.v[i].addr);
        snprintf(path, sizeof path, "%s/%s", STROM_ZK_STATUS, m.v[i].name);
        if (!strom_zk_get(zk, path, &data, &len, NULL, NULL, NULL, err, sizeof err) &&
            !strom_status_decode(&st, data, len, err, sizeof err))
            printf("  busy: run %" PRIu64 ", %" PRIu64 " rows read, %.0f rows/s", st.epoch,
                   st.rows, st.rate);
        printf("\n");
        free(data);
    }
    have_job = !clu_get_job(zk, &job, &jr, err, sizeof err);
    have_a = !clu_get_assignment(zk, a, &ar, err, sizeof err);
    if (!have_job)
        printf("job: none\n");
    else {
        printf("job: %s (submission %" PRIu64 "):", job.id, jr.epoch);
        for (unsigned i = 0; i < job.argc; i++)
            printf(" %s", job.argv[i]);
        printf("\n");
    }
    if (have_job && have_a && !strcmp(a->job, job.id)) {
        const char *ps = job_arg(&job, "--parallelism");
        unsigned par = ps ? (unsigned)atoi(ps) : 1, g = 256, procs = a->n;
        static const char *const keyed[] = {"q1", "q2plug", "q2house"};
        printf("assignment: epoch %" PRIu64 ", %s, attempt %u%s%s\n", ar.epoch,
               strom_job_state_name(a->state), a->attempt + 1, a->message[0] ? ": " : "",
               a->message);
        for (unsigned p = 0; p < procs; p++) {
            printf("  process %u: %s %s\n", p, a->w[p].name, a->w[p].addr);
            if (p == 0)
                printf("    source, sinks\n");
            if (p == procs - 1)
                printf("    q2global\n");
            for (size_t k = 0; k < sizeof keyed / sizeof keyed[0]; k++) {
                printf("    %-8s key groups", keyed[k]);
                int any = 0;
                for (unsigned i = 0; i < par; i++) {
                    if (clu_debs_place(&procs, keyed[k], i, par) != p)
                        continue;
                    /* instance i owns the key groups kg with kg * par / g == i */
                    unsigned lo = (unsigned)(((uint64_t)i * g + par - 1) / par);
                    unsigned hi = (unsigned)(((uint64_t)(i + 1) * g + par - 1) / par);
                    printf("%s %u-%u", any ? "," : "", lo, hi - 1);
                    any = 1;
                }
                printf("%s\n", any ? "" : " none");
            }
        }
    } else if (have_job)
        printf("assignment: none yet (waiting for a coordinator or for workers)\n");
    {
        unsigned long long n = 0;
        char ck_job[17] = "";
        if (have_job &&
            !strom_cluster_record_get(zk, STROM_ZK_CHECKPOINTS, &ck, NULL, NULL, err, sizeof err)) {
            if (!ck.len || sscanf((const char *)ck.payload, "job %16s\ncheckpoint %llu", ck_job,
                                  &n) != 2 || strcmp(ck_job, job.id))
                n = 0;
            strom_cluster_record_release(&ck);
        }
        if (n)
            printf("last complete checkpoint: %llu\n", n);
        else
            printf("last complete checkpoint: none\n");
    }
    strom_members_release(&m);
    strom_jobrec_release(&job);
    free(a);
    strom_zk_free(zk);
    return 0;
}

/* ---- stop ---------------------------------------------------------------------------------- */

static void stop_usage(FILE *f)
{
    fprintf(f, "usage: strom stop --zk HOST:PORT[/PATH] --keys DIR [--shutdown]\n\n"
               "Stops the running job: its workers cancel their parts and 'strom submit'\n"
               "returns 1. The output keeps what the last complete checkpoint committed.\n\n"
               "  --shutdown   also make every worker and coordinator of the cluster exit\n");
}

int strom_cmd_stop(int argc, char **argv)
{
    static const struct option opts[] = {
        {"zk", required_argument, 0, 'z'},   {"keys", required_argument, 0, 'k'},
        {"name", required_argument, 0, 'n'}, {"shutdown", no_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    struct common co = {0};
    struct strom_zk *zk = NULL;
    struct strom_jobrec job = {0};
    struct strom_assignment *a = NULL;
    struct clu_record jr, ar;
    char err[1024] = "";
    int c, rc, shutdown = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (common_opt(&co, c))
            continue;
        if (c == 's')
            shutdown = 1;
        else if (c == 'h') {
            stop_usage(stdout);
            return 0;
        } else {
            stop_usage(stderr);
            return 2;
        }
    }
    if ((rc = common_check("stop", &co)))
        return rc;
    if (clu_connect("stop", co.zk, co.keys, CLU_DEFAULT_SESSION_MS, &zk) ||
        !(a = calloc(1, sizeof *a))) {
        strom_zk_free(zk);
        return 1;
    }
    rc = clu_get_job(zk, &job, &jr, err, sizeof err);
    if (!rc) {
        int r2 = clu_get_assignment(zk, a, &ar, err, sizeof err);
        if (r2 == STROM_E_NOTFOUND || (!r2 && strcmp(a->job, job.id)) ||
            (!r2 && a->state == STROM_JOB_RUNNING)) {
            int fresh = r2 || strcmp(a->job, job.id);
            if (fresh) {
                memset(a, 0, sizeof *a);
                memcpy(a->job, job.id, sizeof a->job);
            }
            a->state = STROM_JOB_STOPPED;
            snprintf(a->message, sizeof a->message, "stopped by 'strom stop'");
            rc = clu_set_assignment(zk, r2 == STROM_E_NOTFOUND ? NULL : &ar, a, NULL, err,
                                    sizeof err);
            if (rc)
                fprintf(stderr, "strom stop: %s\n", err);
            else
                printf("job %s stopped\n", job.id);
        } else if (!r2)
            printf("job %s is not running (%s)\n", job.id, strom_job_state_name(a->state));
        else
            fprintf(stderr, "strom stop: reading the assignment: %s\n", err), rc = r2;
    } else if (rc == STROM_E_NOTFOUND) {
        printf("no job\n");
        rc = 0;
    } else
        fprintf(stderr, "strom stop: reading the job: %s\n", err);
    if (shutdown && (rc == 0 || rc == STROM_E_NOTFOUND)) {
        struct strom_cluster_record prev;
        int r2 = strom_cluster_record_get(zk, STROM_ZK_SHUTDOWN, &prev, NULL, NULL, err,
                                          sizeof err);
        if (r2 == STROM_E_NOTFOUND)
            rc = strom_cluster_record_set(zk, STROM_ZK_SHUTDOWN, NULL, 1, "shutdown", 8, NULL,
                                          err, sizeof err);
        else if (!r2) {
            rc = strom_cluster_record_set(zk, STROM_ZK_SHUTDOWN, &prev, prev.epoch + 1,
                                          "shutdown", 8, NULL, err, sizeof err);
            strom_cluster_record_release(&prev);
        } else
            rc = r2;
        if (rc)
            fprintf(stderr, "strom stop: --shutdown: %s\n", err);
        else
            printf("the cluster's workers and coordinators are told to exit\n");
    }
    strom_jobrec_release(&job);
    free(a);
    strom_zk_free(zk);
    return rc ? 1 : 0;
}
