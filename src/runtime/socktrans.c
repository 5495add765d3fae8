/*
 * runtime/socktrans.c: a transport for distributed runs between the processes of one
 * machine (strom_sockmesh_* in strom/job.h): one Unix socket pair per pair of processes,
 * SOCK_SEQPACKET so that a message (the channel id, 4 bytes in host order, then the batch)
 * arrives whole and in order. Made before fork; each process then keeps its own ends.
 *
 * Threads: send is called from the sender and the receiver thread at once (batches and
 * credits), which is why a message goes out in one sendmsg from the caller's buffers;
 * recv from the receiver thread alone; wake from any (an eventfd in recv's poll set). A peer whose
 * socket reports end-of-file has closed its end (it is done, or gone): it is dropped from the poll
 * set, and a message sent to it afterwards gets -EPIPE, as one sent before would have. A process
 * that has finished closes its sockets without reading the credits still on their way to it; the
 * kernel reports that to the peer once, as ECONNRESET, ahead of the messages the finished
 * process sent before it closed, which are still read. A process that still expects
 * something once every peer has gone gets -ECONNRESET.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "strom/error.h"
#include "strom/job.h"

/* In fd[]: the end towards a peer that has closed its own (end-of-file came), closed
 * here; sending to it is -EPIPE. */
#define PEER_GONE (-2)

struct strom_sockmesh {
    unsigned procs;
    int *fd;            /* procs x procs: fd[a * procs + b] is a's end towards b */
    struct pollfd *pfd; /* recv's poll set: the peers, then efd */
    int efd;            /* an eventfd: wake (made in strom_sockmesh_transport) */
};

int strom_sockmesh_new(struct strom_sockmesh **out, unsigned procs)
{
    struct strom_sockmesh *m;
    int rc = 0;

    if (procs == 0 || procs > 1024)
        return STROM_E_INVAL;
    if (!(m = calloc(1, sizeof *m)) || !(m->fd = malloc((size_t)procs * procs * sizeof *m->fd)) ||
        !(m->pfd = calloc(procs + 1, sizeof *m->pfd))) {
        strom_sockmesh_free(m);
        return -ENOMEM;
    }
    m->procs = procs;
    m->efd = -1;
    for (size_t i = 0; i < (size_t)procs * procs; i++)
        m->fd[i] = -1;
    for (unsigned a = 0; a < procs && !rc; a++)
        for (unsigned b = a + 1; b < procs && !rc; b++) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
                rc = -errno;
                break;
            }
            m->fd[a * procs + b] = sv[0];
            m->fd[b * procs + a] = sv[1];
        }
    if (rc) {
        strom_sockmesh_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void strom_sockmesh_free(struct strom_sockmesh *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->fd && i < (size_t)m->procs * m->procs; i++)
        if (m->fd[i] >= 0)
            close(m->fd[i]);
    if (m->efd >= 0)
        close(m->efd);
    free(m->fd);
    free(m->pfd);
    free(m);
}

static int mesh_send(void *arg, unsigned proc, uint32_t chan, const void *bytes, size_t len,
                     int wait)
{
    struct strom_sockmesh *m = arg;
    struct iovec iov[2] = {{&chan, 4}, {(void *)bytes, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    int fd;

    if (proc >= m->procs || m->fd[proc] == -1)
        return STROM_E_INVAL;
    if ((fd = m->fd[proc]) == PEER_GONE) /* as the kernel says of a closed peer */
        return -EPIPE;
    for (;;) {
        ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));
        if (k == (ssize_t)(len + 4))
            return 0;
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && !wait && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -EAGAIN;
        return k < 0 ? -errno : -EIO;
    }
}

static int mesh_recv(void *arg, uint32_t *chan, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    struct strom_sockmesh *m = arg;
    unsigned np = 0;

    for (unsigned p = 0; p < m->procs; p++)
        if (m->fd[p] >= 0)
            m->pfd[np++] = (struct pollfd){.fd = m->fd[p], .events = POLLIN};
    if (!np)
        return -ECONNRESET;
    m->pfd[np] = (struct pollfd){.fd = m->efd, .events = POLLIN};
    if (poll(m->pfd, np + 1, timeout_ms) <= 0)
        return -EAGAIN;
    if (m->pfd[np].revents & POLLIN) { /* woken: the caller has something to do first */
        uint64_t v;
        (void)!read(m->efd, &v, sizeof v);
        return -EAGAIN;
    }
    for (unsigned i = 0; i < np; i++) {
        struct iovec iov[2] = {{chan, 4}, {buf, cap}};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
        ssize_t k;
        if (!(m->pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        k = recvmsg(m->pfd[i].fd, &mh, 0);
        if (k < 0 && errno == ECONNRESET) /* reported once, before what is still queued */
            return -EAGAIN;
        if (k == 0) {
            for (unsigned p = 0; p < m->procs; p++)
                if (m->fd[p] == m->pfd[i].fd) {
                    close(m->fd[p]);
                    m->fd[p] = PEER_GONE;
                }
            return -EAGAIN;
        }
        if (k < 0)
            return errno == EINTR ? -EAGAIN : -errno;
        if (k < 4 || (mh.msg_flags & MSG_TRUNC))
            return STROM_E_CORRUPT;
        *len = (size_t)k - 4;
        return 0;
    }
    return -EAGAIN;
}

static void mesh_wake(void *arg)
{
    struct strom_sockmesh *m = arg;
    uint64_t one = 1;
    (void)!write(m->efd, &one, sizeof one);
}

int strom_sockmesh_transport(struct strom_sockmesh *m, unsigned self, struct strom_transport *t)
{
    unsigned n;
    int *own;

    if (!m || self >= m->procs || !t)
        return STROM_E_INVAL;
    n = m->procs;
    if (!(own = malloc(n * sizeof *own)))
        return -ENOMEM;
    for (unsigned b = 0; b < n; b++) {
        own[b] = m->fd[self * n + b];
        m->fd[self * n + b] = -1;
    }
    for (size_t i = 0; i < (size_t)n * n; i++) /* the other processes' ends */
        if (m->fd[i] >= 0) {
            close(m->fd[i]);
            m->fd[i] = -1;
        }
    /* from here m->fd[0..n) is this process's row: fd[b] leads to process b */
    for (unsigned b = 0; b < n; b++)
        m->fd[b] = own[b];
    free(own);
    if (m->efd < 0 && (m->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        return -errno;
    *t = (struct strom_transport){mesh_send, mesh_recv, m, mesh_wake};
    return 0;
}
