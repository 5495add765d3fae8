/*
 * tests/tools/relay.c: a TCP relay that can alter one byte in flight, for the cluster
 * test (a frame altered between two workers must be rejected, never delivered).
 *
 *   relay LISTEN_PORT TARGET_PORT [FLIP_AT]
 *
 * Accepts connections on 127.0.0.1:LISTEN_PORT and joins each to a new connection to
 * 127.0.0.1:TARGET_PORT, forwarding both ways. With FLIP_AT, the byte at that offset of
 * everything the connecting sides sent (all connections counted together) is sent with
 * its lowest bit flipped, once; the relay says so on standard error. Runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXC 64

static int tcp_to(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Writes all of buf; -1 when the peer is gone. */
static int put_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t k = write(fd, buf, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    int lfd, one = 1, pair[MAXC][2], n = 0;
    long long flip_at = -1, sent = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: relay LISTEN_PORT TARGET_PORT [FLIP_AT]\n");
        return 2;
    }
    if (argc > 3)
        flip_at = atoll(argv[3]);
    signal(SIGPIPE, SIG_IGN);
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 16)) {
        perror("relay: listen");
        return 1;
    }
    fprintf(stderr, "relay: 127.0.0.1:%s -> 127.0.0.1:%s\n", argv[1], argv[2]);
    for (;;) {
        struct pollfd p[1 + 2 * MAXC];
        p[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (int i = 0; i < n; i++) {
            p[1 + 2 * i] = (struct pollfd){.fd = pair[i][0], .events = POLLIN};
            p[2 + 2 * i] = (struct pollfd){.fd = pair[i][1], .events = POLLIN};
        }
        if (poll(p, (nfds_t)(1 + 2 * n), -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("relay: poll");
            return 1;
        }
        if (p[0].revents & POLLIN) {
            int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), t;
            if (c >= 0 && (n == MAXC || (t = tcp_to(atoi(argv[2]))) < 0))
                close(c);
            else if (c >= 0) {
                /* small messages go at once, as between the workers themselves */
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                setsockopt(t, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                pair[n][0] = c;
                pair[n][1] = t;
                n++;
            }
            continue; /* the pairs moved: poll again */
        }
        for (int i = 0; i < n; i++)
            for (int d = 0; d < 2; d++) {
                char buf[65536];
                ssize_t k;
                if (!(p[1 + 2 * i + d].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                k = read(pair[i][d], buf, sizeof buf);
                if (k > 0 && d == 0 && flip_at >= sent && flip_at < sent + k) {
                    buf[flip_at - sent] ^= 1;
                    fprintf(stderr, "relay: flipped a bit of byte %lld\n", flip_at);
                    flip_at = -1;
                }
                if (k > 0 && d == 0)
                    sent += k;
                if (k <= 0 || put_all(pair[i][!d], buf, (size_t)k)) {
                    close(pair[i][0]);
                    close(pair[i][1]);
                    pair[i][0] = pair[i][1] = -1;
                }
            }
        /* drop closed pairs */
        int m = 0;
        for (int i = 0; i < n; i++)
            if (pair[i][0] >= 0) {
                pair[m][0] = pair[i][0];
                pair[m][1] = pair[i][1];
                m++;
            }
        n = m;
    }
}
