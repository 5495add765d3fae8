/*
 * tests/unit/net/net_fixture.h: what the channel tests share: keys, a log catcher, the
 * batch pattern (each batch says which it is, so any loss, duplicate, reordering or altered
 * byte shows), a receiving child process, and a TCP relay process that can be killed,
 * restarted and told to flip a byte. Children never use cmocka: they report by exit status
 * and through a pipe; the parent always kills and reaps them.
 */
#ifndef STROM_TEST_NET_FIXTURE_H
#define STROM_TEST_NET_FIXTURE_H

/* Each test file uses some of these. */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/channel.h"
#include "net/frame.h"
#include "net/keys.h"
#include "strom/error.h"
#include "testutil.h"

/* ---- keys ---- */

/* base/keys with a pair for every name (NULL-terminated); returns the keys path. */
static char *fx_keys(const char *base, const char *dir, const char *const *names)
{
    char *keys = strdup(tu_path(base, dir)), err[512];
    int made;
    for (; *names; names++)
        if (strom_keys_generate(keys, *names, &made, err, sizeof err)) {
            fprintf(stderr, "keygen: %s\n", err);
            abort();
        }
    return keys;
}

/* ---- logs ---- */

struct fx_log {
    pthread_mutex_t mu;
    char buf[1 << 16];
    size_t len;
    int echo;
};

static void fx_log_fn(void *arg, const char *msg)
{
    struct fx_log *l = arg;
    size_t n = strlen(msg);
    pthread_mutex_lock(&l->mu);
    if (l->len + n + 2 < sizeof l->buf) {
        memcpy(l->buf + l->len, msg, n);
        l->len += n;
        l->buf[l->len++] = '\n';
        l->buf[l->len] = 0;
    }
    pthread_mutex_unlock(&l->mu);
    if (l->echo)
        fprintf(stderr, "  log: %s\n", msg);
}

static void fx_log_init(struct fx_log *l)
{
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    l->echo = getenv("STROM_TEST_VERBOSE") != NULL;
}

static int fx_log_has(struct fx_log *l, const char *s)
{
    int r;
    pthread_mutex_lock(&l->mu);
    r = strstr(l->buf, s) != NULL;
    pthread_mutex_unlock(&l->mu);
    return r;
}

/* ---- batches ---- */

/* Batch i: 8 + i % 61 bytes: i (LE), then a pattern of i. */
static size_t fx_batch(uint64_t i, uint8_t *out)
{
    size_t len = 8 + (size_t)(i % 61);
    strom_le_put64(out, i);
    for (size_t k = 8; k < len; k++)
        out[k] = (uint8_t)(i * 7 + k);
    return len;
}

static int fx_batch_ok(uint64_t i, const void *data, size_t len)
{
    uint8_t want[128];
    size_t n = fx_batch(i, want);
    return len == n && !memcmp(data, want, n);
}

static void fx_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int fx_port_of(const char *endpoint)
{
    const char *c = strrchr(endpoint, ':');
    return c ? atoi(c + 1) : -1;
}

static int fx_read_all(int fd, void *p, size_t n)
{
    char *b = p;
    while (n) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static void fx_kill(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

/* Exit status of pid (waiting at most ms), or -1 (then it is killed). */
static int fx_wait(pid_t pid, long ms)
{
    int status;
    for (long t = 0; t < ms; t += 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        fx_sleep_ms(10);
    }
    fx_kill(pid);
    return -1;
}

/* ---- the receiving child ---- */

struct fx_rx {
    const char *keys, *name, *peer;
    int insecure;
    uint32_t chan;
    uint64_t n;                  /* batches expected */
    long pause_ms;               /* wait this long before reading the first batch */
    struct strom_net_config cfg; /* extra settings (timeouts, windows) */
};

struct fx_rx_result {
    uint64_t delivered, bad, first_bad;
    int rc;
    struct strom_net_stats st;
};

struct fx_child {
    pid_t pid;
    int fd; /* results come here */
    char endpoint[256];
};

/* The child: listen, report the endpoint, receive until the sender finishes, checking each
 * batch against the pattern; report. Exit 0 only if all n arrived intact and in order. */
static int fx_rx_main(const struct fx_rx *o, int fd)
{
    struct strom_net_config cfg = o->cfg;
    struct fx_rx_result res = {0};
    struct strom_net *n = NULL;
    struct strom_netchan *c = NULL;
    struct strom_net_batch b;
    struct fx_log log;
    char err[512] = "", ep[256] = "";
    int rc;

    fx_log_init(&log);
    cfg.keys_dir = o->keys;
    cfg.name = o->name;
    cfg.insecure = o->insecure;
    cfg.log = fx_log_fn;
    cfg.log_arg = &log;
    if ((rc = strom_net_new(&n, &cfg, err, sizeof err)) ||
        (rc = strom_net_listen(n, "tcp://127.0.0.1:*", ep, sizeof ep, err, sizeof err)) ||
        (rc = strom_netchan_open(&c, n, o->peer, o->chan, 1, STROM_NETCHAN_RECV, err, sizeof err))) {
        fprintf(stderr, "rx child: %s\n", err);
        return 2;
    }
    if (write(fd, ep, sizeof ep) != (ssize_t)sizeof ep)
        return 2;
    if (o->pause_ms)
        fx_sleep_ms(o->pause_ms);
    for (int dead_ms = 0;;) {
        /* A dead peer may come back (a broken path): give it 20 s. */
        rc = strom_netchan_recv(c, &b, 20000);
        if (rc == STROM_E_PEERDEAD && dead_ms < 20000) {
            fx_sleep_ms(50);
            dead_ms += 50;
            continue;
        }
        if (rc)
            break;
        if (b.seq != res.delivered || !fx_batch_ok(res.delivered, b.data, b.len)) {
            if (!res.bad++)
                res.first_bad = res.delivered;
        }
        res.delivered++;
        strom_net_batch_release(&b);
    }
    res.rc = rc;
    strom_net_stats(n, &res.st);
    if (write(fd, &res, sizeof res) != (ssize_t)sizeof res)
        return 2;
    /* Stay until the parent has read this (it closes its end), so that the sender's finish
     * gets its final ACK even if that must be sent again after a broken connection. */
    {
        struct pollfd p = {fd, 0, 0};
        poll(&p, 1, 10000);
    }
    strom_netchan_close(c);
    strom_net_free(n);
    return rc == STROM_E_CLOSED && res.delivered == o->n && !res.bad ? 0 : 1;
}

static void fx_rx_start(struct fx_child *ch, const struct fx_rx *o)
{
    int fds[2];
    if (pipe(fds) < 0)
        abort();
    fflush(NULL);
    ch->pid = fork();
    if (ch->pid < 0)
        abort();
    if (ch->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        close(fds[0]);
        _exit(fx_rx_main(o, fds[1]));
    }
    close(fds[1]);
    ch->fd = fds[0];
    if (fx_read_all(ch->fd, ch->endpoint, sizeof ch->endpoint)) {
        fx_kill(ch->pid);
        fprintf(stderr, "the receiving child did not start\n");
        abort();
    }
}

/* Its result and exit status (-1: it had to be killed). */
static int fx_rx_finish(struct fx_child *ch, struct fx_rx_result *res, long ms)
{
    int status;
    struct pollfd p = {ch->fd, POLLIN, 0};
    memset(res, 0, sizeof *res);
    res->rc = -1;
    if (poll(&p, 1, (int)ms) == 1)
        fx_read_all(ch->fd, res, sizeof *res);
    close(ch->fd); /* tells the child it may go */
    status = fx_wait(ch->pid, 5000);
    return status;
}

/* ---- the relay ---- */

/* A process forwarding TCP between clients on listen_port and target_port, one connection
 * at a time; flips one bit of the client-to-server stream at byte flip_at (-1: never).
 * Reports its port as an int on fd. */
static int fx_relay_main(int listen_port, int target_port, long flip_at, int fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof a;
    int ls, one = 1;
    long seen = 0;
    static char buf[65536];

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)listen_port);
    ls = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 8) < 0)
        return 2;
    getsockname(ls, (struct sockaddr *)&a, &alen);
    listen_port = ntohs(a.sin_port);
    if (write(fd, &listen_port, sizeof listen_port) != sizeof listen_port)
        return 2;
    close(fd);
    for (;;) {
        int c = accept(ls, NULL, NULL), s;
        struct sockaddr_in t = {.sin_family = AF_INET};
        if (c < 0)
            continue;
        t.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        t.sin_port = htons((uint16_t)target_port);
        s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&t, sizeof t) < 0) {
            close(c);
            close(s);
            continue;
        }
        for (;;) {
            struct pollfd p[2] = {{c, POLLIN, 0}, {s, POLLIN, 0}};
            ssize_t r;
            if (poll(p, 2, -1) < 0)
                break;
            if (p[0].revents) {
                r = read(c, buf, sizeof buf);
                if (r <= 0)
                    break;
                if (flip_at >= seen && flip_at < seen + r)
                    buf[flip_at - seen] ^= 0x10;
                seen += r;
                if (write(s, buf, (size_t)r) != r)
                    break;
            }
            if (p[1].revents) {
                r = read(s, buf, sizeof buf);
                if (r <= 0 || write(c, buf, (size_t)r) != r)
                    break;
            }
        }
        close(c);
        close(s);
    }
}

/* Starts a relay; *port in: the port to take (0: any), out: the port taken. */
static pid_t fx_relay_start(int *port, int target_port, long flip_at)
{
    int fds[2];
    pid_t pid;
    if (pipe(fds) < 0)
        abort();
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        abort();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Nothing of the parent's: a receiving child must see its pipe close. */
        for (int f = 3; f < 1024; f++)
            if (f != fds[1])
                close(f);
        _exit(fx_relay_main(*port, target_port, flip_at, fds[1]));
    }
    close(fds[1]);
    if (fx_read_all(fds[0], port, sizeof *port)) {
        fx_kill(pid);
        fprintf(stderr, "the relay did not start\n");
        abort();
    }
    close(fds[0]);
    return pid;
}

#endif
