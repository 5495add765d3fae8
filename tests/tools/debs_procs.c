/*
 * tests/tools/debs_procs.c: the DEBS 2014 job spread over N processes of this machine,
 * joined by Unix sockets, for the integration test of distributed runs
 * (tests/integration/t0400-debs14-processes.sh).
 *
 *   debs_procs [-c CKPT_DIR [-i SECONDS] [-k]] N INPUT OUT_DIR [PARALLELISM]
 *
 * Process 0 runs the source and the sinks (it reads INPUT and writes OUT_DIR); the query
 * operators' instances go round robin over all processes, q2global to the last one, so
 * that every edge of the job crosses processes somewhere. Exit status 0 when every
 * process succeeded.
 *
 * With -c the job checkpoints into CKPT_DIR, shared by the processes (every -i seconds,
 * 0.05 by default), and resumes from it; the sinks then spread over the processes too, so
 * that output is committed everywhere. The checkpoints' log goes to stderr, each line
 * after "process P:". With -k every process is killed (kill -9) as soon as CKPT_DIR holds a
 * complete checkpoint, and the exit status is 3 (4 when the job ended first).
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apps/debs14/debs14.h"
#include "strom/error.h"

#define MAXP 8

struct opts {
    unsigned n, par;
    const char *input, *out, *ckpt;
    double interval;
    int kill;
};

static unsigned place(void *arg, const char *node, unsigned idx, unsigned par)
{
    const struct opts *o = arg;
    unsigned h = 0;
    (void)par;
    if (!strcmp(node, "source"))
        return 0;
    if (!strncmp(node, "sink-", 5)) {
        if (!o->ckpt)
            return 0;
        for (const char *p = node; *p; p++)
            h = h * 31 + (unsigned char)*p;
        return h % o->n;
    }
    if (!strcmp(node, "q2global"))
        return o->n - 1;
    return (idx + 1) % o->n;
}

static void log_line(void *arg, const char *msg)
{
    fprintf(stderr, "process %u: %s\n", *(const unsigned *)arg, msg);
}

static int child(unsigned self, struct strom_sockmesh *mesh, const struct opts *o)
{
    struct strom_dist_config dc = {
        .self = self, .procs = o->n, .place = place, .place_arg = (void *)o};
    struct strom_debs_conf conf = {.input = o->input,
                                   .out_dir = o->out,
                                   .queries = STROM_DEBS_Q1 | STROM_DEBS_Q2,
                                   .threads = 2,
                                   .parallelism = o->par,
                                   .t0 = STROM_DEBS_DEFAULT_T0,
                                   .checkpoint_dir = o->ckpt,
                                   .checkpoint_interval = o->interval,
                                   .log = log_line,
                                   .log_arg = &self,
                                   .dist = &dc};
    struct strom_debs_run *run = NULL;
    char err[1024] = "";
    int rc = strom_sockmesh_transport(mesh, self, &dc.transport);

    if (!rc)
        rc = strom_debs_run_new(&run, &conf, err, sizeof err);
    if (!rc && strom_debs_run_finished_before(run))
        fprintf(stderr, "process %u: the job finished before: nothing to do\n", self);
    else if (!rc && !(rc = strom_debs_run_start(run)))
        rc = strom_debs_run_wait(run, err, sizeof err);
    if (rc)
        fprintf(stderr, "debs_procs: process %u: %s\n", self, err[0] ? err : strom_strerror(rc));
    strom_debs_run_free(run);
    strom_sockmesh_free(mesh);
    return rc ? 1 : 0;
}

/* 1 when dir holds a complete checkpoint (a checkpoint directory with its MANIFEST). */
static int complete_checkpoint(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d))) {
        char path[4200];
        struct stat sb;
        if (strncmp(e->d_name, "ckpt-", 5))
            continue;
        snprintf(path, sizeof path, "%s/%s/MANIFEST", dir, e->d_name);
        found = !stat(path, &sb);
    }
    if (d)
        closedir(d);
    return found;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: debs_procs [-c CKPT_DIR [-i SECONDS] [-k]] N(1-%d) INPUT OUT_DIR "
            "[PARALLELISM]\n",
            MAXP);
    return 2;
}

int main(int argc, char **argv)
{
    struct opts o = {.interval = 0.05};
    struct strom_sockmesh *mesh;
    pid_t pid[MAXP];
    int status = 0, opt, ended = 0;

    while ((opt = getopt(argc, argv, "c:i:k")) != -1) {
        if (opt == 'c')
            o.ckpt = optarg;
        else if (opt == 'i')
            o.interval = atof(optarg);
        else if (opt == 'k')
            o.kill = 1;
        else
            return usage();
    }
    if (argc - optind < 3 || (o.n = (unsigned)atoi(argv[optind])) < 1 || o.n > MAXP ||
        (o.kill && !o.ckpt))
        return usage();
    o.input = argv[optind + 1];
    o.out = argv[optind + 2];
    o.par = argc - optind > 3 ? (unsigned)atoi(argv[optind + 3]) : o.n;
    if (strom_sockmesh_new(&mesh, o.n)) {
        perror("debs_procs: socket pairs");
        return 1;
    }
    for (unsigned p = 0; p < o.n; p++) {
        if ((pid[p] = fork()) < 0) {
            perror("fork");
            return 1;
        }
        if (pid[p] == 0)
            _exit(child(p, mesh, &o));
    }
    strom_sockmesh_free(mesh);
    if (o.kill) {
        while (!complete_checkpoint(o.ckpt)) {
            struct timespec ts = {0, 2000000};
            int st;
            pid_t w = waitpid(-1, &st, WNOHANG);
            if (w > 0) { /* one ended: the job finished first, or failed */
                fprintf(stderr,
                        "debs_procs: a process ended (status %#x) before a complete "
                        "checkpoint\n",
                        st);
                ended = 1;
                break;
            }
            nanosleep(&ts, NULL);
        }
        for (unsigned p = 0; p < o.n; p++)
            kill(pid[p], SIGKILL);
        for (unsigned p = 0; p < o.n; p++)
            waitpid(pid[p], NULL, 0);
        if (!ended)
            fprintf(stderr, "debs_procs: killed every process after a complete checkpoint\n");
        return ended ? 4 : 3;
    }
    for (unsigned p = 0; p < o.n; p++) {
        int st;
        if (waitpid(pid[p], &st, 0) != pid[p] || !WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "debs_procs: process %u failed (status %#x)\n", p, st);
            status = 1;
            for (unsigned q = 0; q < o.n; q++) /* the others would wait for it forever */
                kill(pid[q], SIGKILL);
        }
    }
    return status;
}
