/*
 * cli/cluster_cli.h: what the cluster commands (coordinator, worker, submit, status, stop)
 * share: the ZooKeeper session from --zk and --keys, reading the job and the assignment,
 * the placement of the DEBS job's instances on the processes of a run, and log lines.
 * How the commands work together: docs/cluster.md.
 */
#ifndef STROM_CLI_CLUSTER_CLI_H
#define STROM_CLI_CLUSTER_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/jobrec.h"
#include "cluster/zk.h"

#define CLU_DEFAULT_SESSION_MS 10000

/* Opens a session on connect ("host:port[/path]") with the secret of the keys directory,
 * and makes the znodes of the layout. Prints what failed, prefixed by "strom CMD: ". */
int clu_connect(const char *cmd, const char *connect, const char *keys, int session_ms,
                struct strom_zk **out);

/* The job and the assignment: 0, STROM_E_NOTFOUND when absent, or another error (printed).
 * epoch/version are the record's (for the next compare-and-set). */
struct clu_record {
    uint64_t epoch;
    int32_t version;
};
int clu_get_job(struct strom_zk *zk, struct strom_jobrec *j, struct clu_record *r, char *err,
                size_t errlen);
int clu_get_assignment(struct strom_zk *zk, struct strom_assignment *a, struct clu_record *r,
                       char *err, size_t errlen);
/* Writes the assignment with epoch prev.epoch + 1 (prev NULL: create with epoch 1). */
int clu_set_assignment(struct strom_zk *zk, const struct clu_record *prev,
                       const struct strom_assignment *a, uint64_t *epoch, char *err,
                       size_t errlen);
/* The epoch of the shutdown record, 0 when there is none. */
uint64_t clu_shutdown_epoch(struct strom_zk *zk);

/* The process of instance idx of the DEBS job's operator node in a run of procs processes:
 * the source and the sinks on process 0, the global median on the last, the rest round
 * robin. arg points to the unsigned count of processes. */
unsigned clu_debs_place(void *arg, const char *node, unsigned idx, unsigned par);

/* "HH:MM:SS WHO: message" on standard error. */
void clu_log(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

double clu_now(void);
void clu_sleep_ms(unsigned ms);

#endif
