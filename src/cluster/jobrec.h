/*
 * cluster/jobrec.h: what the coordinator, the workers and the submitter tell each other
 * through ZooKeeper, besides the layout of cluster.h: the job, the assignment, the
 * workers' reports and status. All text, ASCII, one item per line, each line ending in
 * '\n'; the decoders accept exactly what the encoders write and refuse anything else with
 * STROM_E_CORRUPT and the line at fault. The job and the assignment travel as payloads of
 * versioned records (cluster.h); reports and status are the whole data of their znodes.
 *
 * Job (payload of /strom/job; the record's epoch counts submissions):
 *
 *   strom-job 1
 *   id <ID>                16 lowercase hex digits, random, names this submission
 *   workers <N>            how many workers to start on; 0 = every registered worker
 *   arg <ARG>              the job's arguments in order, from the job's name on
 *   ...                    ("debs14", "--input", "/data/in.csv", ...): 1 to 1000 bytes
 *                          each, printable ASCII or space, at most 64 of them
 *
 * Assignment (payload of /strom/assignment; the record's epoch is the assignment epoch,
 * which grows at every change, and is the epoch of the data channels of that run):
 *
 *   strom-assignment 1
 *   job <ID>
 *   state <STATE>          running, finished, failed or stopped
 *   attempt <K>            runs of this job that failed in a row with the same workers
 *   worker <NAME> <ADDR>   the processes of the run, in process order (0 first), 1 to 256
 *                          (none for a job stopped or failed before it ran)
 *   ...
 *   message <TEXT>         optional, last: why it failed or stopped (printable ASCII)
 *
 * Report (/strom/reports/<EPOCH>-<NAME>, persistent, written by a worker when its part of
 * the run of assignment epoch EPOCH has ended): "ok\n", or "failed <TEXT>\n".
 *
 * Status (/strom/status/<NAME>, ephemeral, rewritten by a busy worker about once a second):
 *
 *   epoch <E>              the assignment epoch it runs
 *   rows <R>               input rows read by this process (0 when it has no source)
 *   rate <X>               rows per second over the last interval, decimal
 *   checkpoint <C>         the last complete checkpoint it knows of, 0 if none
 */
#ifndef STROM_CLUSTER_JOBREC_H
#define STROM_CLUSTER_JOBREC_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/cluster.h"

#define STROM_ZK_REPORTS STROM_ZK_ROOT "/reports"
#define STROM_ZK_STATUS STROM_ZK_ROOT "/status"
#define STROM_ZK_SHUTDOWN STROM_ZK_ROOT "/shutdown"

#define STROM_JOB_ARGS_MAX 64
#define STROM_JOB_ARG_MAX 1000
#define STROM_ASSIGN_WORKERS_MAX 256
#define STROM_JOBREC_TEXT_MAX 4000

struct strom_jobrec {
    char id[17];
    unsigned workers;
    unsigned argc;
    char *argv[STROM_JOB_ARGS_MAX + 1]; /* malloc'd, NULL-terminated */
};

enum strom_job_state {
    STROM_JOB_RUNNING,
    STROM_JOB_FINISHED,
    STROM_JOB_FAILED,
    STROM_JOB_STOPPED,
};

struct strom_assignment {
    char job[17];
    enum strom_job_state state;
    unsigned attempt;
    unsigned n;
    struct strom_cluster_node w[STROM_ASSIGN_WORKERS_MAX]; /* name and addr only */
    char message[STROM_JOBREC_TEXT_MAX];
};

/* Encoders return a malloc'd NUL-terminated text in *out, its length in *len. */
int strom_jobrec_encode(const struct strom_jobrec *j, char **out, size_t *len, char *err,
                        size_t errlen);
int strom_jobrec_decode(struct strom_jobrec *j, const char *text, size_t len, char *err,
                        size_t errlen);
void strom_jobrec_release(struct strom_jobrec *j);

int strom_assignment_encode(const struct strom_assignment *a, char **out, size_t *len, char *err,
                            size_t errlen);
int strom_assignment_decode(struct strom_assignment *a, const char *text, size_t len, char *err,
                            size_t errlen);
/* The process index of worker name in a, or -1. */
int strom_assignment_index(const struct strom_assignment *a, const char *name);
const char *strom_job_state_name(enum strom_job_state s);

struct strom_worker_status {
    uint64_t epoch, rows, checkpoint;
    double rate;
};
int strom_status_encode(const struct strom_worker_status *s, char *buf, size_t buflen);
int strom_status_decode(struct strom_worker_status *s, const char *text, size_t len, char *err,
                        size_t errlen);

/* A fresh random job id (16 hex digits). */
void strom_jobrec_new_id(char id[17]);
/* Text that may appear in a message line: anything else becomes '?', and it is cut to fit. */
void strom_jobrec_clean_text(char *dst, size_t cap, const char *src);

#endif
