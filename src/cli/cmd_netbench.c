/*
 * cli/cmd_netbench.c: `strom netbench`, the throughput of one channel (net/channel.h)
 * between two processes on loopback: CURVE (the default everywhere) against insecure, so
 * that the cost of encryption and authentication can be read off.
 *
 * The parent is the sender, a forked child the receiver (it listens). Batches carry
 * --batch events of --event-size bytes; the clock runs from the first send until
 * strom_netchan_finish returns, that is, until the receiver's application took every batch.
 * The receiver checks the order and the byte count. Keys for the run are made in a
 * temporary directory and removed. Prints figures; never fails on speed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <ftw.h>

#include "cli/cli.h"
#include "net/channel.h"
#include "net/keys.h"
#include "strom/error.h"

#define DEFAULT_EVENTS 10000000ULL
#define DEFAULT_EVENT_SIZE 32ULL
#define DEFAULT_BATCH_BYTES 65536ULL

struct bench_opts {
    unsigned long long events, batch, event_size;
};

struct bench_result {
    double seconds;
    unsigned long long batches;
    int ok;
};

static void to_stderr(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "netbench: %s\n", msg);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The child: listens, receives until the sender finishes, reports over fd. */
static int receiver(const struct bench_opts *o, const char *keys, int insecure, int fd)
{
    struct strom_net_config cfg = {
        .keys_dir = keys, .name = "bench-recv", .insecure = insecure, .log = to_stderr};
    struct strom_net *n = NULL;
    struct strom_netchan *c = NULL;
    struct strom_net_batch b;
    char err[512] = "", ep[256] = "";
    unsigned long long bytes = 0, expect = 0, want;
    int rc;

    want = o->events * o->event_size;
    cfg.max_batch = (size_t)(o->batch * o->event_size);
    if ((rc = strom_net_new(&n, &cfg, err, sizeof err)) ||
        (rc = strom_net_listen(n, "tcp://127.0.0.1:*", ep, sizeof ep, err, sizeof err)) ||
        (rc = strom_netchan_open(&c, n, "bench-send", 1, 1, STROM_NETCHAN_RECV, err, sizeof err))) {
        fprintf(stderr, "netbench: receiver: %s\n", err[0] ? err : strom_strerror(rc));
        strom_net_free(n);
        return 1;
    }
    if (write(fd, ep, sizeof ep) != (ssize_t)sizeof ep)
        rc = -EIO;
    while (!rc && (rc = strom_netchan_recv(c, &b, 30000)) == 0) {
        if (b.seq != expect++) {
            fprintf(stderr, "netbench: batch %" PRIu64 " arrived where %llu was due\n", b.seq,
                    expect - 1);
            rc = STROM_E_CORRUPT;
        }
        bytes += b.len;
        strom_net_batch_release(&b);
    }
    if (rc == STROM_E_CLOSED && bytes == want)
        rc = 0;
    else
        fprintf(stderr, "netbench: receiver: %s after %llu of %llu bytes\n", strom_strerror(rc),
                bytes, want);
    strom_netchan_close(c);
    strom_net_free(n);
    return rc ? 1 : 0;
}

static int run_one(const struct bench_opts *o, const char *keys, int insecure,
                   struct bench_result *res)
{
    struct strom_net_config cfg = {
        .keys_dir = keys, .name = "bench-send", .insecure = insecure, .log = to_stderr};
    struct strom_net *n = NULL;
    struct strom_netchan *c = NULL;
    size_t batch_bytes = (size_t)(o->batch * o->event_size);
    unsigned char *buf = NULL;
    char err[512] = "", ep[256] = "";
    unsigned long long left = o->events;
    int fds[2], status, rc = 0;
    double t0;
    pid_t pid;

    memset(res, 0, sizeof *res);
    if (pipe(fds) < 0)
        return -errno;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        close(fds[0]);
        _exit(receiver(o, keys, insecure, fds[1]));
    }
    close(fds[1]);
    if (read(fds[0], ep, sizeof ep) != (ssize_t)sizeof ep) {
        fprintf(stderr, "netbench: the receiver did not start\n");
        rc = -EIO;
        goto out;
    }
    buf = malloc(batch_bytes);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < batch_bytes; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    cfg.max_batch = batch_bytes;
    if ((rc = strom_net_new(&n, &cfg, err, sizeof err)) ||
        (rc = strom_net_connect(n, "bench-recv", ep, err, sizeof err)) ||
        (rc = strom_netchan_open(&c, n, "bench-recv", 1, 1, STROM_NETCHAN_SEND, err, sizeof err))) {
        fprintf(stderr, "netbench: sender: %s\n", err[0] ? err : strom_strerror(rc));
        goto out;
    }
    t0 = now_s();
    while (left && !rc) {
        unsigned long long ev = left < o->batch ? left : o->batch;
        rc = strom_netchan_send(c, buf, (size_t)(ev * o->event_size), 30000);
        left -= ev;
        res->batches++;
    }
    if (!rc)
        rc = strom_netchan_finish(c, 60000);
    res->seconds = now_s() - t0;
    if (rc)
        fprintf(stderr, "netbench: sender: %s\n", strom_strerror(rc));
out:
    strom_netchan_close(c);
    strom_net_free(n);
    free(buf);
    close(fds[0]);
    if (rc)
        kill(pid, SIGKILL);
    if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 && !rc)
        res->ok = 1;
    return rc;
}

static void netbench_usage(FILE *f)
{
    fprintf(f,
            "usage: strom netbench [--curve | --insecure] [--events N] [--batch EVENTS]\n"
            "                      [--event-size BYTES]\n\n"
            "Throughput of one channel between two processes on loopback (the parent sends,\n"
            "a forked child receives), with CURVE and without, so the cost of CURVE shows.\n\n"
            "  --curve           CURVE only\n"
            "  --insecure        insecure only (no encryption, no authentication)\n"
            "                    (default: both, CURVE first)\n"
            "  --events N        events to send (default %llu)\n"
            "  --batch EVENTS    events per batch (default: 64 KiB worth)\n"
            "  --event-size B    bytes per event (default %llu)\n",
            DEFAULT_EVENTS, DEFAULT_EVENT_SIZE);
}

int strom_cmd_netbench(int argc, char **argv)
{
    static const struct option opts[] = {{"curve", no_argument, 0, 'c'},
                                         {"insecure", no_argument, 0, 'i'},
                                         {"events", required_argument, 0, 'n'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"event-size", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct bench_opts o = {DEFAULT_EVENTS, 0, DEFAULT_EVENT_SIZE};
    struct bench_result res[2];
    int c, modes = 3, made, rc = 0;
    char keys[4096], err[512] = "";
    const char *tmpdir = getenv("TMPDIR");
    double rate[2] = {0, 0};

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            modes = 1;
            break;
        case 'i':
            modes = 2;
            break;
        case 'n':
            if (strom_cli_parse_u64("--events", optarg, 1, 1ULL << 40, &o.events))
                return 2;
            break;
        case 'b':
            if (strom_cli_parse_u64("--batch", optarg, 1, 1ULL << 24, &o.batch))
                return 2;
            break;
        case 's':
            if (strom_cli_parse_u64("--event-size", optarg, 1, 1ULL << 20, &o.event_size))
                return 2;
            break;
        case 'h':
            netbench_usage(stdout);
            return 0;
        default:
            netbench_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        netbench_usage(stderr);
        return 2;
    }
    if (!o.batch)
        o.batch = DEFAULT_BATCH_BYTES / o.event_size ? DEFAULT_BATCH_BYTES / o.event_size : 1;
    if (o.batch * o.event_size > (64ULL << 20)) {
        fprintf(stderr, "strom netbench: a batch of %llu bytes is over 64 MiB\n",
                o.batch * o.event_size);
        return 2;
    }
    /* the benchmark's throwaway key pairs, removed at the end */
    snprintf(keys, sizeof keys, "%s/strom-netbench-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(keys)) {
        perror("strom netbench: mkdtemp");
        return 1;
    }
    if ((modes & 1) && ((rc = strom_keys_generate(keys, "bench-recv", &made, err, sizeof err)) ||
                        (rc = strom_keys_generate(keys, "bench-send", &made, err, sizeof err)))) {
        fprintf(stderr, "strom netbench: %s\n", err);
        goto out;
    }
    printf("netbench: %llu events of %llu bytes, %llu events (%llu bytes) a batch, loopback\n",
           o.events, o.event_size, o.batch, o.batch * o.event_size);
    for (int m = 0; m < 2; m++) {
        double mb;
        if (!(modes & (1 << m)))
            continue;
        if ((rc = run_one(&o, keys, m == 1, &res[m])) || !res[m].ok) {
            fprintf(stderr, "strom netbench: the %s run failed\n", m ? "insecure" : "CURVE");
            rc = rc ? rc : -EIO;
            goto out;
        }
        rate[m] = (double)o.events / res[m].seconds;
        mb = (double)(o.events * o.event_size) / res[m].seconds / 1e6;
        printf("netbench: %-8s %12.0f events/s %9.1f MB/s %10.0f batches/s  (%.2f s)\n",
               m ? "insecure" : "CURVE", rate[m], mb, (double)res[m].batches / res[m].seconds,
               res[m].seconds);
        fflush(stdout);
    }
    if (modes == 3)
        printf("netbench: CURVE costs %.1f%% of the insecure throughput\n",
               100.0 * (1.0 - rate[0] / rate[1]));
out:
    nftw(keys, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return rc ? 1 : 0;
}
