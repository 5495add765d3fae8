/*
 * tests/tools/debs_procs.c: the DEBS 2014 job spread over N processes of this machine,
 * joined by Unix sockets, for the integration test of distributed runs
 * (tests/integration/t0400-debs14-processes.sh).
 *
 *   debs_procs N INPUT OUT_DIR [PARALLELISM]
 *
 * Process 0 runs the source and the sinks (it reads INPUT and writes OUT_DIR); the query
 * operators' instances go round robin over all processes, q2global to the last one, so
 * that every edge of the job crosses processes somewhere. Exit status 0 when every
 * process succeeded.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apps/debs14/debs14.h"
#include "strom/error.h"

#define MAXP 8

static unsigned place(void *arg, const char *node, unsigned idx, unsigned par)
{
    unsigned n = *(const unsigned *)arg;
    (void)par;
    if (!strcmp(node, "source") || !strncmp(node, "sink-", 5))
        return 0;
    if (!strcmp(node, "q2global"))
        return n - 1;
    return (idx + 1) % n;
}

static int child(unsigned self, unsigned n, struct strom_sockmesh *mesh, const char *input,
                 const char *out, unsigned par)
{
    struct strom_dist_config dc = {.self = self, .procs = n, .place = place, .place_arg = &n};
    struct strom_debs_conf conf = {.input = input, .out_dir = out,
                                   .queries = STROM_DEBS_Q1 | STROM_DEBS_Q2, .threads = 2,
                                   .parallelism = par, .t0 = STROM_DEBS_DEFAULT_T0,
                                   .dist = &dc};
    struct strom_debs_run *run = NULL;
    char err[1024] = "";
    int rc = strom_sockmesh_transport(mesh, self, &dc.transport);

    if (!rc)
        rc = strom_debs_run_new(&run, &conf, err, sizeof err);
    if (!rc)
        rc = strom_debs_run_start(run);
    if (!rc)
        rc = strom_debs_run_wait(run, err, sizeof err);
    if (rc)
        fprintf(stderr, "debs_procs: process %u: %s\n", self, err[0] ? err : strom_strerror(rc));
    strom_debs_run_free(run);
    strom_sockmesh_free(mesh);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct strom_sockmesh *mesh;
    pid_t pid[MAXP];
    unsigned n, par;
    int status = 0;

    if (argc < 4 || (n = (unsigned)atoi(argv[1])) < 1 || n > MAXP) {
        fprintf(stderr, "usage: debs_procs N(1-%d) INPUT OUT_DIR [PARALLELISM]\n", MAXP);
        return 2;
    }
    par = argc > 4 ? (unsigned)atoi(argv[4]) : n;
    if (strom_sockmesh_new(&mesh, n)) {
        perror("debs_procs: socket pairs");
        return 1;
    }
    for (unsigned p = 0; p < n; p++) {
        if ((pid[p] = fork()) < 0) {
            perror("fork");
            return 1;
        }
        if (pid[p] == 0)
            _exit(child(p, n, mesh, argv[2], argv[3], par));
    }
    strom_sockmesh_free(mesh);
    for (unsigned p = 0; p < n; p++) {
        int st;
        if (waitpid(pid[p], &st, 0) != pid[p] || !WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "debs_procs: process %u failed (status %#x)\n", p, st);
            status = 1;
            for (unsigned q = 0; q < n; q++) /* the others would wait for it forever */
                kill(pid[q], SIGKILL);
        }
    }
    return status;
}
