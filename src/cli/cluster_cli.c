/* cli/cluster_cli.c: what the cluster commands share (cluster_cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cluster_cli.h"
#include "cluster/cluster.h"
#include "net/keys.h"
#include "strom/error.h"

int clu_connect(const char *cmd, const char *connect, const char *keys, int session_ms,
                struct strom_zk **out)
{
    static const char *const paths[] = {STROM_ZK_REPORTS, STROM_ZK_STATUS};
    uint8_t secret[STROM_CLUSTER_SECRET_BYTES];
    struct strom_zk_opts o = {.connect = connect, .secret = secret,
                              .session_timeout_ms = session_ms};
    char err[512] = "";
    int rc;

    if ((rc = strom_cluster_secret_read(keys, secret, err, sizeof err))) {
        fprintf(stderr, "strom %s: %s\n", cmd, err[0] ? err : strom_strerror(rc));
        return rc;
    }
    rc = strom_zk_connect(out, &o, err, sizeof err);
    memset(secret, 0, sizeof secret);
    if (rc) {
        fprintf(stderr, "strom %s: ZooKeeper at %s: %s\n", cmd, connect,
                err[0] ? err : strom_strerror(rc));
        return rc;
    }
    rc = strom_cluster_layout_ensure(*out, err, sizeof err);
    for (size_t i = 0; !rc && i < sizeof paths / sizeof paths[0]; i++)
        rc = strom_zk_ensure_path(*out, paths[i], err, sizeof err);
    if (!rc) {
        /* making znodes that exist succeeds without permission: reading them does not */
        struct strom_zk_children ch;
        if (!(rc = strom_zk_children(*out, STROM_ZK_ROOT, &ch, NULL, NULL, err, sizeof err)))
            strom_zk_children_release(&ch);
    }
    if (rc == STROM_E_NOAUTH)
        fprintf(stderr, "strom %s: ZooKeeper at %s: not authorized: the cluster.secret in %s "
                        "is not this cluster's (%s)\n", cmd, connect, keys, err);
    else if (rc)
        fprintf(stderr, "strom %s: %s\n", cmd, err[0] ? err : strom_strerror(rc));
    if (rc) {
        strom_zk_free(*out);
        *out = NULL;
    }
    return rc;
}

int clu_get_job(struct strom_zk *zk, struct strom_jobrec *j, struct clu_record *r, char *err,
                size_t errlen)
{
    struct strom_cluster_record rec;
    int rc = strom_cluster_record_get(zk, STROM_ZK_JOB, &rec, NULL, NULL, err, errlen);
    if (rc)
        return rc;
    rc = strom_jobrec_decode(j, (const char *)rec.payload, rec.len, err, errlen);
    if (r)
        *r = (struct clu_record){rec.epoch, rec.version};
    strom_cluster_record_release(&rec);
    return rc;
}

int clu_get_assignment(struct strom_zk *zk, struct strom_assignment *a, struct clu_record *r,
                       char *err, size_t errlen)
{
    struct strom_cluster_record rec;
    int rc = strom_cluster_record_get(zk, STROM_ZK_ASSIGNMENT, &rec, NULL, NULL, err, errlen);
    if (rc)
        return rc;
    rc = strom_assignment_decode(a, (const char *)rec.payload, rec.len, err, errlen);
    if (r)
        *r = (struct clu_record){rec.epoch, rec.version};
    strom_cluster_record_release(&rec);
    return rc;
}

int clu_set_assignment(struct strom_zk *zk, const struct clu_record *prev,
                       const struct strom_assignment *a, uint64_t *epoch, char *err,
                       size_t errlen)
{
    struct strom_cluster_record p = {0};
    char *text = NULL;
    size_t len = 0;
    uint64_t e = prev ? prev->epoch + 1 : 1;
    int rc = strom_assignment_encode(a, &text, &len, err, errlen);
    if (rc)
        return rc;
    if (prev)
        p = (struct strom_cluster_record){.epoch = prev->epoch, .version = prev->version};
    rc = strom_cluster_record_set(zk, STROM_ZK_ASSIGNMENT, prev ? &p : NULL, e, text, len, NULL,
                                  err, errlen);
    free(text);
    if (!rc && epoch)
        *epoch = e;
    return rc;
}

uint64_t clu_shutdown_epoch(struct strom_zk *zk)
{
    struct strom_cluster_record rec;
    char err[256];
    uint64_t e;
    if (strom_cluster_record_get(zk, STROM_ZK_SHUTDOWN, &rec, NULL, NULL, err, sizeof err))
        return 0;
    e = rec.epoch;
    strom_cluster_record_release(&rec);
    return e;
}

unsigned clu_debs_place(void *arg, const char *node, unsigned idx, unsigned par)
{
    unsigned n = *(const unsigned *)arg;
    (void)par;
    if (!strcmp(node, "source") || !strncmp(node, "sink-", 5))
        return 0;
    if (!strcmp(node, "q2global"))
        return n - 1;
    return idx % n;
}

void clu_log(const char *who, const char *fmt, ...)
{
    char msg[2048];
    time_t t = time(NULL);
    struct tm tm;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    localtime_r(&t, &tm);
    fprintf(stderr, "%02d:%02d:%02d %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec, who, msg);
}

double clu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void clu_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}
