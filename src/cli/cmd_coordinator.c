/*
 * cli/cmd_coordinator.c: `strom coordinator`. Any number run; ZooKeeper elects one
 * (cluster/elect.h) and the others stand by. The elected one keeps no state of its own:
 * everything it decides is in ZooKeeper, so a standby that takes over carries on from
 * there. About five times a second it looks at the job, the assignment, the workers and
 * their reports, and:
 *
 * - a job without a run: picks its workers (the first N registered, by name; all when the
 *   job does not say) and writes a new assignment, state running;
 * - a run that lost a worker (its ZooKeeper session ended): writes a new assignment with
 *   the survivors, a new epoch: the workers cancel the old run and start the new one, which
 *   resumes from the last complete checkpoint;
 * - a run whose every worker reported success: state finished;
 * - a run with a worker that failed: runs it again (same workers, new epoch), up to
 *   --retries times in a row, then state failed with the worker's message.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cluster_cli.h"
#include "cluster/cluster.h"
#include "cluster/elect.h"
#include "cluster/members.h"
#include "net/keys.h"
#include "strom/error.h"

#define DEFAULT_RETRIES 3

static volatile sig_atomic_t quit;
static _Atomic int lost, leading;

static void on_signal(int sig)
{
    (void)sig;
    quit = 1;
}

static void coordinator_usage(FILE *f)
{
    fprintf(f,
            "usage: strom coordinator --zk HOST:PORT[/PATH] --keys DIR --name NAME [options]\n\n"
            "Stands for election as the cluster's coordinator; the elected one assigns jobs\n"
            "to workers, reassigns the part of a worker that dies, and records how each job\n"
            "ends. Run two or more: when the elected one dies, another takes over. Runs until\n"
            "stopped (SIGINT, SIGTERM, or 'strom stop --shutdown').\n\n"
            "  --zk CONNECT        ZooKeeper: host:port[,host:port...][/path]\n"
            "  --keys DIR          keys directory: cluster.secret, and the *.pub files of\n"
            "                      the workers it may assign work to\n"
            "  --name NAME         this coordinator's name, for logs and 'strom status'\n"
            "  --session-timeout MS  ZooKeeper session timeout (default %d): how long a\n"
            "                      crashed coordinator leads before another takes over\n"
            "  --retries N         runs of a job that may fail in a row before the job\n"
            "                      fails (default %d)\n",
            CLU_DEFAULT_SESSION_MS, DEFAULT_RETRIES);
}

static void on_elect(struct strom_elect *e, enum strom_elect_event ev, void *ctx)
{
    (void)e;
    (void)ctx;
    if (ev == STROM_ELECT_LEADER)
        leading = 1;
    else if (ev == STROM_ELECT_SUSPENDED)
        leading = 0;
    else if (ev == STROM_ELECT_LOST) {
        leading = 0;
        lost = 1;
    }
}

struct coord {
    const char *who, *keys;
    struct strom_zk *zk;
    char refused[1024]; /* workers already logged as refused */
    unsigned retries;
    char waiting_for[64]; /* last "waiting" log, not to repeat it */
};

/* A worker's report on run epoch: 0 none yet, 1 ok, -1 failed (message in msg). */
static int read_report(struct coord *c, uint64_t epoch, const char *name, char *msg,
                       size_t msglen)
{
    char path[256], err[256], *data = NULL;
    size_t len = 0;
    int rc;
    snprintf(path, sizeof path, "%s/%" PRIu64 "-%s", STROM_ZK_REPORTS, epoch, name);
    if (strom_zk_get(c->zk, path, &data, &len, NULL, NULL, NULL, err, sizeof err))
        return 0;
    if (len == 3 && !memcmp(data, "ok\n", 3))
        rc = 1;
    else {
        rc = -1;
        if (len > 7 && !memcmp(data, "failed ", 7) && data[len - 1] == '\n') {
            data[len - 1] = 0;
            strom_jobrec_clean_text(msg, msglen, data + 7);
        } else
            snprintf(msg, msglen, "an unreadable report from %s", name);
    }
    free(data);
    return rc;
}

/* Reports of other epochs than keep are no longer needed. */
static void prune_reports(struct coord *c, uint64_t keep)
{
    struct strom_zk_children ch;
    char err[256], path[512];
    if (strom_zk_children(c->zk, STROM_ZK_REPORTS, &ch, NULL, NULL, err, sizeof err))
        return;
    for (size_t i = 0; i < ch.n; i++)
        if (strtoull(ch.names[i], NULL, 10) != keep) {
            snprintf(path, sizeof path, "%s/%s", STROM_ZK_REPORTS, ch.names[i]);
            strom_zk_delete(c->zk, path, -1, err, sizeof err);
        }
    strom_zk_children_release(&ch);
}

static int is_member(const struct strom_members *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->v[i].name, name))
            return 1;
    return 0;
}

/* Workers whose public key is not the allowlist's key for their name are left out: the
 * other workers would refuse their connections anyway. The allowlist is read again each
 * time, so that a key added to the keys directory counts at once. */
static void admit_members(struct coord *c, struct strom_members *m)
{
    struct strom_allowlist *al = NULL;
    char err[512] = "";
    size_t k = 0;
    if (strom_allowlist_load(&al, c->keys, err, sizeof err)) {
        clu_log(c->who, "reading the allowlist: %s", err);
        m->n = 0; /* admit nobody rather than anybody */
        return;
    }
    for (size_t i = 0; i < m->n; i++) {
        const char *owner = m->v[i].has_key ? strom_allowlist_name_of(al, m->v[i].key) : NULL;
        if (owner && !strcmp(owner, m->v[i].name)) {
            m->v[k++] = m->v[i];
            continue;
        }
        char tag[80];
        snprintf(tag, sizeof tag, "<%s>", m->v[i].name);
        if (!strstr(c->refused, tag)) {
            clu_log(c->who, "worker %s is registered, but its public key is not the one the "
                            "allowlist has for that name: it gets no work", m->v[i].name);
            if (strlen(c->refused) + strlen(tag) < sizeof c->refused)
                strcat(c->refused, tag);
        }
    }
    m->n = k;
    strom_allowlist_free(al);
}

static void write_assignment(struct coord *c, const struct clu_record *prev,
                             const struct strom_assignment *a, const char *why)
{
    char err[512] = "", names[2048] = "";
    uint64_t epoch = 0;
    int rc = clu_set_assignment(c->zk, prev, a, &epoch, err, sizeof err);
    if (rc) {
        clu_log(c->who, "writing the assignment: %s", err[0] ? err : strom_strerror(rc));
        return;
    }
    for (unsigned i = 0; i < a->n; i++) {
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", a->w[i].name);
    }
    clu_log(c->who, "job %s: assignment epoch %" PRIu64 ", %s%s%s (%s)", a->job, epoch,
            strom_job_state_name(a->state), a->n ? " on " : "", names, why);
    prune_reports(c, epoch);
}

static void step(struct coord *c)
{
    struct strom_assignment *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    struct strom_members m = {0};
    struct strom_jobrec job = {0};
    struct clu_record jr, ar = {0};
    char err[1024] = "", msg[1024] = "", why[1200];
    int rc, have_a;

    if (!a || !b)
        goto out;
    if ((rc = clu_get_job(c->zk, &job, &jr, err, sizeof err))) {
        if (rc != STROM_E_NOTFOUND)
            clu_log(c->who, "reading the job: %s", err);
        goto out;
    }
    rc = clu_get_assignment(c->zk, a, &ar, err, sizeof err);
    if (rc && rc != STROM_E_NOTFOUND) {
        clu_log(c->who, "reading the assignment: %s", err);
        goto out;
    }
    have_a = !rc;
    if ((rc = strom_members_list(c->zk, &m, err, sizeof err))) {
        clu_log(c->who, "listing the workers: %s", err);
        goto out;
    }
    admit_members(c, &m);
    if (!have_a || strcmp(a->job, job.id)) {
        /* a new job: start its first run */
        unsigned need = job.workers ? job.workers : (unsigned)(m.n ? m.n : 1);
        if (m.n < need) {
            char w[64];
            snprintf(w, sizeof w, "%s %u", job.id, need);
            if (strcmp(w, c->waiting_for))
                clu_log(c->who, "job %s: waiting for %u workers (%zu registered)", job.id, need,
                        m.n);
            snprintf(c->waiting_for, sizeof c->waiting_for, "%s", w);
            goto out;
        }
        memcpy(b->job, job.id, sizeof b->job);
        b->state = STROM_JOB_RUNNING;
        b->n = need > STROM_ASSIGN_WORKERS_MAX ? STROM_ASSIGN_WORKERS_MAX : need;
        for (unsigned i = 0; i < b->n; i++)
            b->w[i] = m.v[i];
        write_assignment(c, have_a ? &ar : NULL, b, "a new job");
        goto out;
    }
    if (a->state != STROM_JOB_RUNNING)
        goto out;
    /* workers gone? */
    *b = *a;
    b->n = 0;
    b->message[0] = 0;
    for (unsigned i = 0; i < a->n; i++)
        if (is_member(&m, a->w[i].name))
            b->w[b->n++] = a->w[i];
    if (b->n < a->n) {
        char gone[1024] = "";
        for (unsigned i = 0; i < a->n; i++)
            if (!is_member(&m, a->w[i].name)) {
                size_t l = strlen(gone);
                snprintf(gone + l, sizeof gone - l, "%s%s", l ? ", " : "", a->w[i].name);
            }
        if (!b->n) { /* nobody left of the run: take whoever is registered */
            if (!m.n) {
                if (strcmp(c->waiting_for, "nobody"))
                    clu_log(c->who, "job %s: every worker of the run is gone (%s); waiting "
                                    "for a worker", a->job, gone);
                snprintf(c->waiting_for, sizeof c->waiting_for, "nobody");
                goto out;
            }
            for (size_t i = 0; i < m.n && b->n < a->n; i++)
                b->w[b->n++] = m.v[i];
        }
        b->attempt = 0;
        snprintf(why, sizeof why, "%s left; the run resumes from the last complete "
                                  "checkpoint", gone);
        write_assignment(c, &ar, b, why);
        goto out;
    }
    /* reports */
    unsigned ok = 0;
    for (unsigned i = 0; i < a->n; i++) {
        int r = read_report(c, ar.epoch, a->w[i].name, msg, sizeof msg);
        if (r < 0) {
            *b = *a;
            if (a->attempt + 1 >= c->retries) {
                b->state = STROM_JOB_FAILED;
                snprintf(b->message, sizeof b->message, "%s: %s", a->w[i].name, msg);
                write_assignment(c, &ar, b, "the job failed");
            } else {
                b->attempt = a->attempt + 1;
                b->message[0] = 0;
                snprintf(why, sizeof why, "run %" PRIu64 " failed on %s: %s; running it "
                         "again, attempt %u of %u", ar.epoch, a->w[i].name, msg,
                         b->attempt + 1, c->retries);
                write_assignment(c, &ar, b, why);
            }
            goto out;
        }
        ok += (unsigned)r;
    }
    if (ok == a->n) {
        *b = *a;
        b->state = STROM_JOB_FINISHED;
        write_assignment(c, &ar, b, "every worker's part is done");
    }
out:
    strom_members_release(&m);
    strom_jobrec_release(&job);
    free(a);
    free(b);
}

int strom_cmd_coordinator(int argc, char **argv)
{
    static const struct option opts[] = {
        {"zk", required_argument, 0, 'z'},   {"keys", required_argument, 0, 'k'},
        {"name", required_argument, 0, 'n'}, {"session-timeout", required_argument, 0, 's'},
        {"retries", required_argument, 0, 'r'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *zk_connect = NULL, *keys = NULL, *name = NULL;
    int session_ms = CLU_DEFAULT_SESSION_MS, c, rc, was_leading = 0;
    struct coord co = {.retries = DEFAULT_RETRIES};
    struct strom_cluster_node self = {0};
    struct strom_elect *el = NULL;
    unsigned long long v;
    char who[128], err[512] = "";
    uint64_t shutdown0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'z': zk_connect = optarg; break;
        case 'k': keys = optarg; break;
        case 'n': name = optarg; break;
        case 's':
            if (strom_cli_parse_u64("--session-timeout", optarg, 100, 600000, &v))
                return 2;
            session_ms = (int)v;
            break;
        case 'r':
            if (strom_cli_parse_u64("--retries", optarg, 1, 1000, &v))
                return 2;
            co.retries = (unsigned)v;
            break;
        case 'h': coordinator_usage(stdout); return 0;
        default: coordinator_usage(stderr); return 2;
        }
    }
    if (optind < argc || !zk_connect || !keys || !name) {
        fprintf(stderr, "strom coordinator: --zk, --keys and --name are required\n");
        return 2;
    }
    if (!strom_cluster_node_name_ok(name)) {
        fprintf(stderr, "strom coordinator: --name: '%s' is not a valid name\n", name);
        return 2;
    }
    snprintf(who, sizeof who, "strom coordinator %s", name);
    co.who = who;
    co.keys = keys;
    if (clu_connect("coordinator", zk_connect, keys, session_ms, &co.zk))
        return 1;
    snprintf(self.name, sizeof self.name, "%s", name);
    snprintf(self.addr, sizeof self.addr, "-");
    if ((rc = strom_elect_join(&el, co.zk, STROM_ZK_ELECTION, &self, on_elect, NULL, err,
                               sizeof err))) {
        fprintf(stderr, "strom coordinator: joining the election: %s\n", err);
        strom_zk_free(co.zk);
        return 1;
    }
    shutdown0 = clu_shutdown_epoch(co.zk);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    clu_log(who, "standing for election (%s)", strom_elect_path(el));
    rc = 0;
    while (!quit) {
        if (lost) {
            clu_log(who, "the ZooKeeper session expired; no longer a candidate");
            rc = 1;
            break;
        }
        if (clu_shutdown_epoch(co.zk) > shutdown0) {
            clu_log(who, "the cluster shuts down");
            break;
        }
        if (leading != was_leading) {
            was_leading = leading;
            clu_log(who, was_leading ? "elected: coordinating" : "no longer elected");
        }
        if (was_leading && strom_elect_is_leader(el))
            step(&co);
        clu_sleep_ms(200);
    }
    strom_elect_free(el);
    strom_zk_free(co.zk);
    return rc;
}
