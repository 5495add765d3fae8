/*
 * cli/cmd_worker.c: `strom worker`, a process that runs the instances assigned to it.
 *
 * It registers itself in ZooKeeper (an ephemeral znode with its address and public key)
 * and watches the assignment. When a run of the job is assigned to it (assignment epoch E,
 * state running, its name in the list), it binds its listening address, connects to the
 * other processes of the run over net channels of epoch E, builds the job with the
 * instances placed on it, and runs it; about once a second it publishes its status. When
 * the assignment changes under a running job (a worker died, the job was stopped, a
 * newer run was started), it cancels its part at once; otherwise it reports, under
 * /strom/reports/E-NAME, how its part ended. docs/cluster.md tells the whole story.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/debs14/debs14.h"
#include "cli/cli.h"
#include "cli/cluster_cli.h"
#include "cluster/cluster.h"
#include "cluster/members.h"
#include "net/channel.h"
#include "net/keys.h"
#include "net/nettrans.h"
#include "strom/error.h"

static volatile sig_atomic_t quit;
static _Atomic int expired;

static void on_session(struct strom_zk *zk, enum strom_zk_session_event ev, void *ctx)
{
    (void)zk;
    (void)ctx;
    if (ev == STROM_ZK_EXPIRED)
        expired = 1;
}

static void on_signal(int sig)
{
    (void)sig;
    quit = 1;
}

static void worker_usage(FILE *f)
{
    fprintf(f,
            "usage: strom worker --zk HOST:PORT[/PATH] --keys DIR --name NAME --listen "
            "tcp://IP:PORT [options]\n\n"
            "Registers in ZooKeeper as a worker of the cluster and runs the parts of jobs\n"
            "that the coordinator assigns to it, exchanging data with the other workers over\n"
            "CURVE-encrypted ZeroMQ channels. Runs until stopped (SIGINT, SIGTERM, or\n"
            "'strom stop --shutdown').\n\n"
            "  --zk CONNECT        ZooKeeper: host:port[,host:port...][/path]\n"
            "  --keys DIR          keys directory: NAME.key, NAME.pub, cluster.secret, and\n"
            "                      the *.pub files of every process it admits\n"
            "  --name NAME         this worker's name (its key pair in DIR)\n"
            "  --listen ENDPOINT   where the other workers reach it, tcp://IP:PORT with a\n"
            "                      fixed port and an address they can route to\n"
            "  --advertise ENDPOINT  the address to register instead of --listen, when the\n"
            "                      others reach this worker through a translation (NAT, a\n"
            "                      relay)\n"
            "  --session-timeout MS  ZooKeeper session timeout (default %d): how long a\n"
            "                      crashed worker stays registered before its part moves\n"
            "  --insecure          no CURVE, no allowlist: for measurements only\n",
            CLU_DEFAULT_SESSION_MS);
}

struct worker {
    const char *zk_connect, *keys, *name, *listen, *advertise;
    int session_ms, insecure;
    char who[128];
    struct strom_zk *zk;
    uint64_t shutdown0; /* the shutdown epoch at start: a greater one means exit */
    uint64_t done_epoch; /* the last assignment epoch this worker ran or reported */
};

static void net_log(void *arg, const char *msg)
{
    clu_log(((struct worker *)arg)->who, "%s", msg);
}

static void run_log(void *arg, const char *msg)
{
    clu_log(((struct worker *)arg)->who, "%s", msg);
}

static void put_status(struct worker *w, const struct strom_worker_status *st, int *created)
{
    char path[256], buf[256], err[256];
    int n = strom_status_encode(st, buf, sizeof buf);
    if (n < 0)
        return;
    snprintf(path, sizeof path, "%s/%s", STROM_ZK_STATUS, w->name);
    if (!*created) {
        int rc = strom_zk_create(w->zk, path, buf, (size_t)n, STROM_ZK_EPHEMERAL, NULL, 0, err,
                                 sizeof err);
        if (!rc || rc == STROM_E_EXISTS)
            *created = 1;
        if (rc != STROM_E_EXISTS)
            return;
    }
    strom_zk_set(w->zk, path, buf, (size_t)n, -1, NULL, err, sizeof err);
}

/* The newest complete checkpoint of the job, in ZooKeeper (by the process that commits
 * them), for `strom status`. The record's epoch counts writes; the payload names the job. */
static void put_checkpoint(struct worker *w, const char *job, uint64_t n, const char *dir)
{
    struct strom_cluster_record prev;
    char payload[1200], err[256];
    int len = snprintf(payload, sizeof payload, "job %s\ncheckpoint %" PRIu64 "\ndir %s\n", job,
                       n, dir);
    int rc = strom_cluster_record_get(w->zk, STROM_ZK_CHECKPOINTS, &prev, NULL, NULL, err,
                                      sizeof err);
    if (len < 0 || (size_t)len >= sizeof payload)
        return;
    if (rc == STROM_E_NOTFOUND) {
        strom_cluster_record_set(w->zk, STROM_ZK_CHECKPOINTS, NULL, 1, payload, (size_t)len,
                                 NULL, err, sizeof err);
        return;
    }
    if (rc)
        return;
    unsigned long long had = 0;
    char had_job[17] = "";
    if (prev.len && sscanf((const char *)prev.payload, "job %16s\ncheckpoint %llu", had_job,
                           &had) == 2 && !strcmp(had_job, job) && had >= n) {
        strom_cluster_record_release(&prev);
        return;
    }
    strom_cluster_record_set(w->zk, STROM_ZK_CHECKPOINTS, &prev, prev.epoch + 1, payload,
                             (size_t)len, NULL, err, sizeof err);
    strom_cluster_record_release(&prev);
}

/* The assignment has moved on from epoch (or the cluster shuts down, or we are told to
 * quit): this run must end now. */
static int superseded(struct worker *w, uint64_t epoch)
{
    struct strom_assignment *a = malloc(sizeof *a);
    struct clu_record r;
    char err[256];
    int rc, moved = 0;
    if (quit || clu_shutdown_epoch(w->zk) > w->shutdown0) {
        free(a);
        return 1;
    }
    if (!a)
        return 0;
    rc = clu_get_assignment(w->zk, a, &r, err, sizeof err);
    if (!rc && r.epoch != epoch)
        moved = 1;
    free(a);
    return moved;
}

/* Runs this worker's part of run `epoch`; 0 done, 1 superseded (no report), or failed
 * with the reason in msg. */
static int run_part(struct worker *w, const struct strom_assignment *a, uint64_t epoch,
                    const struct strom_jobrec *job, char *msg, size_t msglen)
{
    struct strom_net_config nc = {.keys_dir = w->keys, .name = w->name,
                                  .insecure = w->insecure, .log = net_log, .log_arg = w,
                                  .dead_ms = (unsigned)w->session_ms + 4000};
    struct strom_debs_conf conf;
    struct strom_cli_debs_flags fl;
    struct strom_dist_config dc = {0};
    struct strom_net *net = NULL;
    struct strom_nettrans *tr = NULL;
    struct strom_debs_run *run = NULL;
    const char *names[STROM_ASSIGN_WORKERS_MAX], *eps[STROM_ASSIGN_WORKERS_MAX];
    char *argv[STROM_JOB_ARGS_MAX + 1];
    char err[1024] = "", bound[256];
    unsigned procs = a->n;
    int self = strom_assignment_index(a, w->name), rc, cancelled = 0, st_created = 0;
    double t_last = clu_now(), t_start = t_last;
    uint64_t rows_last = 0, ck_last = 0;

    for (unsigned i = 0; i < job->argc; i++)
        argv[i] = job->argv[i];
    argv[job->argc] = NULL;
    if (strom_cli_debs_parse("worker", (int)job->argc, argv, &conf, &fl)) {
        snprintf(msg, msglen, "the job's options are not valid for this worker");
        return -EINVAL;
    }
    for (unsigned i = 0; i < procs; i++) {
        names[i] = a->w[i].name;
        eps[i] = a->w[i].addr;
    }
    dc = (struct strom_dist_config){.self = (unsigned)self, .procs = procs,
                                    .place = clu_debs_place, .place_arg = &procs};
    conf.dist = &dc;
    conf.log = run_log;
    conf.log_arg = w;
    clu_log(w->who, "run %" PRIu64 ": process %d of %u; connecting to the others", epoch, self,
            procs);
    if ((rc = strom_net_new(&net, &nc, err, sizeof err)) ||
        (rc = strom_net_listen(net, w->listen, bound, sizeof bound, err, sizeof err)) ||
        (rc = strom_nettrans_new(&tr, net, (unsigned)self, procs, names, eps, epoch,
                                 w->session_ms + 20000, err, sizeof err)))
        goto out;
    strom_nettrans_transport(tr, &dc.transport);
    if ((rc = strom_debs_run_new(&run, &conf, err, sizeof err)))
        goto out;
    if (strom_debs_run_finished_before(run)) {
        clu_log(w->who, "run %" PRIu64 ": the checkpoint directory records the job as complete",
                epoch);
        goto out;
    }
    if ((rc = strom_debs_run_start(run))) {
        snprintf(err, sizeof err, "%s", strom_job_errmsg(strom_debs_run_job(run)));
        goto out;
    }
    clu_log(w->who, "run %" PRIu64 ": running", epoch);
    while (!strom_job_done(strom_debs_run_job(run))) {
        clu_sleep_ms(200);
        if (!cancelled && superseded(w, epoch)) {
            clu_log(w->who, "run %" PRIu64 ": the assignment changed; cancelling this run",
                    epoch);
            cancelled = 1;
            strom_net_cancel(net);
            strom_job_cancel(strom_debs_run_job(run));
        }
        double t = clu_now();
        if (t - t_last >= 1.0) {
            uint64_t bytes, lines, size;
            struct strom_checkpoint_stats cs;
            strom_debs_run_progress(run, &bytes, &lines, &size);
            strom_job_checkpoint_stats(strom_debs_run_job(run), &cs);
            struct strom_worker_status st = {.epoch = epoch, .rows = lines,
                                             .rate = (double)(lines - rows_last) / (t - t_last),
                                             .checkpoint = cs.last};
            put_status(w, &st, &st_created);
            if (self == 0 && cs.last > ck_last && conf.checkpoint_dir)
                put_checkpoint(w, job->id, ck_last = cs.last, conf.checkpoint_dir);
            rows_last = lines;
            t_last = t;
        }
    }
    rc = strom_debs_run_wait(run, err, sizeof err);
    if (!rc) {
        struct strom_checkpoint_stats cs;
        strom_job_checkpoint_stats(strom_debs_run_job(run), &cs);
        if (self == 0 && cs.last > ck_last && conf.checkpoint_dir)
            put_checkpoint(w, job->id, cs.last, conf.checkpoint_dir);
        if ((rc = strom_nettrans_finish(tr, w->session_ms + 20000)))
            snprintf(err, sizeof err, "finishing the channels to the other workers: %s",
                     strom_strerror(rc));
    }
    if (!rc)
        clu_log(w->who, "run %" PRIu64 ": my part is done (%.1f s)", epoch, clu_now() - t_start);
out:
    if (run)
        strom_debs_run_free(run);
    strom_nettrans_free(tr);
    strom_net_free(net);
    if (st_created) {
        char path[256], e2[128];
        snprintf(path, sizeof path, "%s/%s", STROM_ZK_STATUS, w->name);
        strom_zk_delete(w->zk, path, -1, e2, sizeof e2);
    }
    if (cancelled || (rc && superseded(w, epoch)))
        return 1;
    if (rc)
        snprintf(msg, msglen, "%s", err[0] ? err : strom_strerror(rc));
    return rc;
}

static void report(struct worker *w, uint64_t epoch, int rc, const char *msg)
{
    char path[256], text[1200], clean[1024], err[256];
    int n;
    strom_jobrec_clean_text(clean, sizeof clean, msg);
    n = rc ? snprintf(text, sizeof text, "failed %s\n", clean[0] ? clean : "unknown error")
           : snprintf(text, sizeof text, "ok\n");
    snprintf(path, sizeof path, "%s/%" PRIu64 "-%s", STROM_ZK_REPORTS, epoch, w->name);
    rc = strom_zk_create(w->zk, path, text, (size_t)n, 0, NULL, 0, err, sizeof err);
    if (rc == STROM_E_EXISTS)
        rc = strom_zk_set(w->zk, path, text, (size_t)n, -1, NULL, err, sizeof err);
    if (rc)
        clu_log(w->who, "cannot report the end of run %" PRIu64 ": %s", epoch, err);
}

/* One look at the assignment: runs this worker's part when there is a new one for it. */
static void step(struct worker *w)
{
    struct strom_assignment *a = malloc(sizeof *a);
    struct strom_jobrec job;
    struct clu_record ar, jr;
    char err[1024] = "", msg[1024] = "";
    int rc;

    if (!a)
        return;
    rc = clu_get_assignment(w->zk, a, &ar, err, sizeof err);
    if (rc || ar.epoch <= w->done_epoch || a->state != STROM_JOB_RUNNING ||
        strom_assignment_index(a, w->name) < 0) {
        if (rc && rc != STROM_E_NOTFOUND)
            clu_log(w->who, "reading the assignment: %s", err);
        free(a);
        return;
    }
    w->done_epoch = ar.epoch;
    if ((rc = clu_get_job(w->zk, &job, &jr, err, sizeof err))) {
        clu_log(w->who, "reading the job: %s", err);
        report(w, ar.epoch, rc, err);
        free(a);
        return;
    }
    if (strcmp(job.id, a->job)) {
        clu_log(w->who, "run %" PRIu64 " is of job %s, but the job is %s: waiting", ar.epoch,
                a->job, job.id);
        strom_jobrec_release(&job);
        free(a);
        return;
    }
    rc = run_part(w, a, ar.epoch, &job, msg, sizeof msg);
    if (rc != 1) {
        if (rc)
            clu_log(w->who, "run %" PRIu64 " failed: %s", ar.epoch, msg);
        report(w, ar.epoch, rc, msg);
    }
    strom_jobrec_release(&job);
    free(a);
}

int strom_cmd_worker(int argc, char **argv)
{
    static const struct option opts[] = {
        {"zk", required_argument, 0, 'z'},     {"keys", required_argument, 0, 'k'},
        {"name", required_argument, 0, 'n'},   {"listen", required_argument, 0, 'l'},
        {"advertise", required_argument, 0, 'a'},
        {"session-timeout", required_argument, 0, 's'},
        {"insecure", no_argument, 0, 'I'},     {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    struct worker w = {.session_ms = CLU_DEFAULT_SESSION_MS};
    struct strom_identity id;
    struct strom_cluster_node self = {0};
    unsigned long long v;
    char err[512] = "";
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'z': w.zk_connect = optarg; break;
        case 'k': w.keys = optarg; break;
        case 'n': w.name = optarg; break;
        case 'l': w.listen = optarg; break;
        case 'a': w.advertise = optarg; break;
        case 's':
            if (strom_cli_parse_u64("--session-timeout", optarg, 100, 600000, &v))
                return 2;
            w.session_ms = (int)v;
            break;
        case 'I': w.insecure = 1; break;
        case 'h': worker_usage(stdout); return 0;
        default: worker_usage(stderr); return 2;
        }
    }
    if (optind < argc || !w.zk_connect || !w.keys || !w.name || !w.listen) {
        fprintf(stderr, "strom worker: --zk, --keys, --name and --listen are required\n");
        return 2;
    }
    if (strncmp(w.listen, "tcp://", 6) || strchr(w.listen, '*')) {
        fprintf(stderr, "strom worker: --listen: '%s' is not tcp://IP:PORT with a fixed port "
                        "(the other workers must be able to find it)\n", w.listen);
        return 2;
    }
    if (!strom_cluster_node_name_ok(w.name)) {
        fprintf(stderr, "strom worker: --name: '%s' is not a valid name\n", w.name);
        return 2;
    }
    snprintf(w.who, sizeof w.who, "strom worker %s", w.name);
    if ((rc = strom_identity_load(&id, w.keys, w.name, err, sizeof err))) {
        fprintf(stderr, "strom worker: %s\n", err[0] ? err : strom_strerror(rc));
        return 1;
    }
    snprintf(self.name, sizeof self.name, "%s", w.name);
    if (!w.advertise)
        w.advertise = w.listen;
    snprintf(self.addr, sizeof self.addr, "%s", w.advertise);
    self.has_key = 1;
    memcpy(self.key, id.public_key, sizeof self.key);
    strom_identity_release(&id);
    if (w.insecure)
        clu_log(w.who, "WARNING: --insecure: channels without encryption or authentication; "
                       "for measurements only");
    if (clu_connect("worker", w.zk_connect, w.keys, w.session_ms, &w.zk))
        return 1;
    strom_zk_on_session(w.zk, on_session, NULL);
    /* a worker restarted under its name waits for its previous session to end */
    for (int tries = 0; (rc = strom_members_register(w.zk, &self, err, sizeof err)) ==
                            STROM_E_EXISTS && tries < 4 * (w.session_ms / 250 + 4); tries++) {
        if (!tries)
            clu_log(w.who, "a worker named %s is registered; waiting for it to leave", w.name);
        clu_sleep_ms(250);
    }
    if (rc) {
        fprintf(stderr, "strom worker: registering as %s: %s\n", w.name,
                rc == STROM_E_EXISTS ? "a live worker of that name is registered" : err);
        strom_zk_free(w.zk);
        return 1;
    }
    w.shutdown0 = clu_shutdown_epoch(w.zk);
    {
        /* a run assigned before this process started is not ours to pick up half-way,
         * unless it names us (a restart of a worker with the same name) */
        struct clu_record r;
        struct strom_assignment *a = malloc(sizeof *a);
        if (a && !clu_get_assignment(w.zk, a, &r, err, sizeof err) &&
            strom_assignment_index(a, w.name) < 0)
            w.done_epoch = r.epoch;
        free(a);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    clu_log(w.who, "registered at %s (session timeout %d ms)", w.advertise,
            strom_zk_session_timeout(w.zk));
    rc = 0;
    while (!quit) {
        if (expired) {
            clu_log(w.who, "the ZooKeeper session expired: the cluster counts this worker "
                           "as gone; restart it to join again");
            rc = 1;
            break;
        }
        if (clu_shutdown_epoch(w.zk) > w.shutdown0) {
            clu_log(w.who, "the cluster shuts down");
            break;
        }
        step(&w);
        clu_sleep_ms(200);
    }
    clu_log(w.who, "leaving");
    strom_members_deregister(w.zk, w.name, err, sizeof err);
    strom_zk_free(w.zk);
    return rc;
}
