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
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apps/debs14/debs14.h"
#include "strom/error.h"

#define MAXP 8
#define MSG_MAX (4 + 256 * 1024)

struct transport_fds {
    int fd[MAXP];
    unsigned n;
};
#define NPROC_MAX MAXP

static int t_send(void *arg, unsigned proc, uint32_t chan, const void *bytes, size_t len,
                  int wait)
{
    struct transport_fds *t = arg;
    /* two threads send (batches and credits): one sendmsg per message, no shared buffer */
    struct iovec iov[2] = {{&chan, 4}, {(void *)bytes, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    if (proc >= NPROC_MAX || t->fd[proc] < 0)
        return STROM_E_INVAL;
    for (;;) {
        ssize_t k = sendmsg(t->fd[proc], &mh, MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));
        if (k == (ssize_t)(len + 4))
            return 0;
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && !wait && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -EAGAIN;
        return k < 0 ? -errno : -EIO;
    }
}

static int t_recv(void *arg, uint32_t *chan, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    struct transport_fds *t = arg;
    static uint8_t in[MSG_MAX];
    struct pollfd pfd[MAXP];
    unsigned np = 0;
    for (unsigned p = 0; p < t->n; p++)
        if (t->fd[p] >= 0)
            pfd[np++] = (struct pollfd){.fd = t->fd[p], .events = POLLIN};
    if (!np || poll(pfd, np, timeout_ms) <= 0)
        return -EAGAIN;
    for (unsigned i = 0; i < np; i++) {
        ssize_t k;
        if (!(pfd[i].revents & (POLLIN | POLLHUP)))
            continue;
        k = recv(pfd[i].fd, in, sizeof in, 0);
        if (k == 0) { /* that process has closed its end: it is done, or gone */
            for (unsigned p = 0; p < t->n; p++)
                if (t->fd[p] == pfd[i].fd) {
                    close(t->fd[p]);
                    t->fd[p] = -1;
                }
            return -EAGAIN;
        }
        if (k < 4 || (size_t)k - 4 > cap)
            return k < 0 ? -errno : STROM_E_CORRUPT;
        memcpy(chan, in, 4);
        memcpy(buf, in + 4, (size_t)k - 4);
        *len = (size_t)k - 4;
        return 0;
    }
    return -EAGAIN;
}

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

static int child(unsigned self, unsigned n, int fds[MAXP][MAXP], const char *input,
                 const char *out, unsigned par)
{
    static struct transport_fds t;
    struct strom_dist_config dc = {.self = self, .procs = n, .place = place, .place_arg = &n,
                                   .transport = {t_send, t_recv, &t}};
    struct strom_debs_conf conf = {.input = input, .out_dir = out,
                                   .queries = STROM_DEBS_Q1 | STROM_DEBS_Q2, .threads = 2,
                                   .parallelism = par, .t0 = STROM_DEBS_DEFAULT_T0,
                                   .dist = &dc};
    struct strom_debs_run *run = NULL;
    char err[1024] = "";
    int rc;

    t.n = n;
    for (unsigned a = 0; a < n; a++)
        for (unsigned b = 0; b < n; b++) {
            if (a == self)
                t.fd[b] = b == self ? -1 : fds[a][b];
            else if (fds[a][b] >= 0)
                close(fds[a][b]);
        }
    rc = strom_debs_run_new(&run, &conf, err, sizeof err);
    if (!rc)
        rc = strom_debs_run_start(run);
    if (!rc)
        rc = strom_debs_run_wait(run, err, sizeof err);
    if (rc)
        fprintf(stderr, "debs_procs: process %u: %s\n", self, err[0] ? err : strom_strerror(rc));
    strom_debs_run_free(run);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    int fds[MAXP][MAXP];
    pid_t pid[MAXP];
    unsigned n, par;
    int status = 0;

    if (argc < 4 || (n = (unsigned)atoi(argv[1])) < 1 || n > MAXP) {
        fprintf(stderr, "usage: debs_procs N(1-%d) INPUT OUT_DIR [PARALLELISM]\n", MAXP);
        return 2;
    }
    par = argc > 4 ? (unsigned)atoi(argv[4]) : n;
    for (unsigned a = 0; a < n; a++)
        fds[a][a] = -1;
    for (unsigned a = 0; a < n; a++)
        for (unsigned b = a + 1; b < n; b++) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)) {
                perror("socketpair");
                return 1;
            }
            fds[a][b] = sv[0]; /* a's end towards b */
            fds[b][a] = sv[1];
        }
    for (unsigned p = 0; p < n; p++) {
        if ((pid[p] = fork()) < 0) {
            perror("fork");
            return 1;
        }
        if (pid[p] == 0)
            _exit(child(p, n, fds, argv[2], argv[3], par));
    }
    for (unsigned a = 0; a < n; a++)
        for (unsigned b = 0; b < n; b++)
            if (fds[a][b] >= 0)
                close(fds[a][b]);
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
