/*
 * zk_check: drives src/cluster/ against a live ZooKeeper server, for
 * tests/integration/t0500-zookeeper.sh. One subcommand per check; each exits 0 when the
 * check passed, 1 with "FAIL: ..." on stderr when not, 2 on bad usage.
 *
 *   zk_check sha1                       SHA-1 test vectors (FIPS 180), no server
 *   zk_check digest USER:PASSWORD       print the ZooKeeper digest identity
 *   zk_check basic ADDR                 create/get/set/CAS/delete/children/exists/watches,
 *                                       versioned records, unwatch
 *   zk_check hold ADDR PATH             create ephemeral PATH, print "held", sleep until
 *                                       killed (SIGTERM: clean exit)
 *   zk_check wait-gone ADDR PATH SECS   wait (watch) until PATH is deleted; print the time
 *   zk_check elect ADDR NAME            candidate NAME: prints "NAME joined PATH", then
 *                                       "NAME waiting PATH|leader|suspended|lost" as they
 *                                       happen, until killed
 *   zk_check leader ADDR                print the name of the current leader
 *   zk_check member ADDR NAME           register worker NAME, print "registered", sleep
 *   zk_check members-watch ADDR         print "now N", "join NAME ADDR", "leave NAME" lines
 *   zk_check members ADDR               print the live workers, one "NAME ADDR" a line
 *   zk_check acl ADDR                   outsiders (no auth, wrong secret) are refused
 *   zk_check outsider ADDR              the same against a live cluster, changing nothing
 *   zk_check chroot ADDR                a session under ADDR/a/chroot
 *   zk_check noserver ADDR MS           connecting where nothing listens fails in time
 *   zk_check expiry ADDR                prints "ready"; stopped (SIGSTOP) longer than the
 *                                       session timeout, it must report the expiry
 *
 * ADDR is host:port[/chroot]. Sessions time out after 1 s, or ZK_CHECK_SESSION_MS. The
 * cluster secret is 32 bytes of 0x5a, or
 * STROM_TEST_SECRET_BYTE=N bytes of N (the wrong secret of the ACL check is 0xa5's).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cluster/digest.h"
#include "cluster/elect.h"
#include "cluster/members.h"
#include "cluster/zk.h"
#include "cluster/zk_int.h" /* the raw handle, for the outsider and the expiry checks */
#include "strom/error.h"

#define SESSION_MS 1000
#define CONNECT_MS 5000

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;

    fputs("FAIL: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void secret_of(uint8_t secret[STROM_ZK_SECRET_BYTES], int byte)
{
    memset(secret, byte, STROM_ZK_SECRET_BYTES);
}

static int default_secret_byte(void)
{
    const char *s = getenv("STROM_TEST_SECRET_BYTE");

    return s ? atoi(s) : 0x5a;
}

/* ZK_CHECK_SESSION_MS overrides the session timeout (the restart check wants a longer one) */
static int session_ms(void)
{
    const char *s = getenv("ZK_CHECK_SESSION_MS");

    return s ? atoi(s) : SESSION_MS;
}

static struct strom_zk *open_zk(const char *addr, int secret_byte, strom_zk_session_fn fn,
                                void *ctx)
{
    uint8_t secret[STROM_ZK_SECRET_BYTES];
    struct strom_zk_opts o = {0};
    struct strom_zk *zk;
    char err[512];
    int rc;

    secret_of(secret, secret_byte);
    o.connect = addr;
    o.secret = secret;
    o.session_timeout_ms = session_ms();
    o.connect_timeout_ms = CONNECT_MS;
    o.on_session = fn;
    o.session_ctx = ctx;
    rc = strom_zk_connect(&zk, &o, err, sizeof err);
    if (rc)
        fail("connect %s: %s (%s)", addr, err, strom_errname(rc));
    return zk;
}

/* Fail unless rc is want. */
static void expect(int rc, int want, const char *what, const char *err)
{
    if (rc != want)
        fail("%s: got %s (%s), want %s", what, strom_errname(rc), rc ? err : "no error",
             strom_errname(want));
}

/* ---- waiting for callbacks ------------------------------------------------------------- */

struct events {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int n;
    char log[64][160];
};

static struct events *events_new(void)
{
    struct events *e = calloc(1, sizeof *e);

    if (!e)
        fail("out of memory");
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cond, NULL);
    return e;
}

static void events_free(struct events *e)
{
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

static void events_add(struct events *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void events_add(struct events *e, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&e->mu);
    if (e->n < 64) {
        va_start(ap, fmt);
        vsnprintf(e->log[e->n], sizeof e->log[0], fmt, ap);
        va_end(ap);
        e->n++;
    }
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->mu);
}

/* Wait until event number idx (0-based) has come, at most secs; return it or NULL. */
static const char *events_wait(struct events *e, int idx, double secs)
{
    double end = now_s() + secs;
    const char *r = NULL;

    pthread_mutex_lock(&e->mu);
    while (e->n <= idx && now_s() < end) {
        pthread_mutex_unlock(&e->mu);
        usleep(10000);
        pthread_mutex_lock(&e->mu);
    }
    if (e->n > idx)
        r = e->log[idx];
    pthread_mutex_unlock(&e->mu);
    return r;
}

static void watch_log(struct strom_zk *zk, enum strom_zk_watch_event ev, const char *path,
                      void *ctx)
{
    (void)zk;
    events_add(ctx, "%s %s", strom_zk_watch_event_name(ev), path);
}

static void expect_event(struct events *e, int idx, const char *want)
{
    const char *got = events_wait(e, idx, 5);

    if (!got)
        fail("watch: no event #%d within 5 s, want '%s'", idx + 1, want);
    if (strcmp(got, want) != 0)
        fail("watch: event #%d is '%s', want '%s'", idx + 1, got, want);
}

/* ---- sha1, digest ---------------------------------------------------------------------- */

static void hex(const uint8_t *b, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static int cmd_sha1(void)
{
    static const struct {
        const char *in;
        size_t repeat;
        const char *want;
    } v[] = {
        {"abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
         "klmnopqrlmnopqrsmnopqrstnopqrstu",
         1, "a49b2446a02c645bf419f995b67091253a04a259"},
        {"a", 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
        /* 64 bytes: the padding takes a block of its own */
        {"0123456701234567012345670123456701234567012345670123456701234567", 1,
         "e0c094e867ef46c350ef54a7f59dd60bed92ae83"},
        {"0123456701234567012345670123456701234567012345670123456701234567", 10,
         "dea356a2cddd90c7a7ecedc5ebb563934f460452"}, /* RFC 3174, test 4 */
        /* 55 and 56 bytes: the length fits the last block, or just not */
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1,
         "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1,
         "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
    };
    struct strom_sha1 s;
    uint8_t h[20];
    char got[41];
    size_t i, k;

    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        strom_sha1_init(&s);
        for (k = 0; k < v[i].repeat; k++) /* byte-wise updates cross block boundaries */
            strom_sha1_update(&s, v[i].in, strlen(v[i].in));
        strom_sha1_final(&s, h);
        hex(h, 20, got);
        if (strcmp(got, v[i].want) != 0)
            fail("sha1 vector %zu: %s, want %s", i, got, v[i].want);
    }
    /* one call and odd splits agree */
    {
        const char *t = "The quick brown fox jumps over the lazy dog";
        uint8_t h2[20];
        strom_sha1(t, strlen(t), h);
        hex(h, 20, got);
        if (strcmp(got, "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12") != 0)
            fail("sha1 fox: %s", got);
        strom_sha1_init(&s);
        strom_sha1_update(&s, t, 7);
        strom_sha1_update(&s, t + 7, 1);
        strom_sha1_update(&s, t + 8, strlen(t) - 8);
        strom_sha1_final(&s, h2);
        if (memcmp(h, h2, 20) != 0)
            fail("sha1: split updates differ");
    }
    /* ZooKeeper's documented example: DigestAuthenticationProvider of "super:admin" */
    {
        char id[STROM_ZK_CRED_MAX];
        if (strom_zk_digest_id("super:admin", id, sizeof id) ||
            strcmp(id, "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=") != 0)
            fail("digest id of super:admin: %s", id);
    }
    printf("sha1: %zu vectors ok, digest id ok\n", sizeof v / sizeof v[0] + 1);
    return 0;
}

static int cmd_digest(const char *up)
{
    char id[STROM_ZK_CRED_MAX];

    if (strom_zk_digest_id(up, id, sizeof id))
        fail("digest of '%s' refused", up);
    printf("%s\n", id);
    return 0;
}

/* ---- basic ----------------------------------------------------------------------------- */

static int cmd_basic(const char *addr)
{
    struct strom_zk *zk = open_zk(addr, default_secret_byte(), NULL, NULL);
    struct events *ev = events_new(), *quiet = events_new();
    struct strom_zk_children c;
    struct strom_cluster_record r, r2;
    char err[512], created[256], *data;
    size_t len;
    int32_t v, v2;
    int rc, i;

    if (!strom_zk_connected(zk) || strom_zk_session_id(zk) == 0)
        fail("not connected after connect");
    if (strom_zk_session_timeout(zk) != session_ms())
        fail("session timeout %d, want %d", strom_zk_session_timeout(zk), session_ms());
    expect(strom_cluster_layout_ensure(zk, err, sizeof err), 0, "layout", err);
    expect(strom_cluster_layout_ensure(zk, err, sizeof err), 0, "layout again", err);
    expect(strom_zk_ensure_path(zk, "/t/a/b", err, sizeof err), 0, "ensure /t/a/b", err);

    /* create, get, set, CAS */
    expect(strom_zk_create(zk, "/t/x", "hello", 5, 0, created, sizeof created, err, sizeof err), 0,
           "create /t/x", err);
    if (strcmp(created, "/t/x") != 0)
        fail("created %s", created);
    rc = strom_zk_create(zk, "/t/x", "again", 5, 0, NULL, 0, err, sizeof err);
    expect(rc, STROM_E_EXISTS, "create /t/x twice", err);
    if (!strstr(err, "/t/x") || !strstr(err, "exists"))
        fail("create twice: message '%s' names neither the path nor the cause", err);
    expect(strom_zk_get(zk, "/t/x", &data, &len, &v, NULL, NULL, err, sizeof err), 0, "get", err);
    if (len != 5 || memcmp(data, "hello", 5) != 0 || data[5] != '\0' || v != 0)
        fail("get /t/x: %zu bytes '%s' version %d", len, data, v);
    free(data);
    expect(strom_zk_set(zk, "/t/x", "world!", 6, v, &v2, err, sizeof err), 0, "set (CAS)", err);
    if (v2 != v + 1)
        fail("set: new version %d, want %d", v2, v + 1);
    rc = strom_zk_set(zk, "/t/x", "lost", 4, v, NULL, err, sizeof err);
    expect(rc, STROM_E_CONFLICT, "set with a stale version", err);
    if (!strstr(err, "/t/x"))
        fail("CAS conflict: message '%s' does not name the path", err);
    expect(strom_zk_get(zk, "/t/x", &data, &len, &v, NULL, NULL, err, sizeof err), 0, "get", err);
    if (len != 6 || memcmp(data, "world!", 6) != 0 || v != v2)
        fail("after the lost CAS: '%s' version %d", data, v);
    free(data);
    expect(strom_zk_set(zk, "/t/x", "any", 3, -1, NULL, err, sizeof err), 0, "set any", err);
    rc = strom_zk_get(zk, "/t/none", &data, &len, NULL, NULL, NULL, err, sizeof err);
    expect(rc, STROM_E_NOTFOUND, "get a missing znode", err);
    if (!strstr(err, "/t/none"))
        fail("not found: message '%s' does not name the path", err);
    rc = strom_zk_get(zk, "t/rel", NULL, NULL, NULL, NULL, NULL, err, sizeof err);
    expect(rc, STROM_E_INVAL, "a relative path", err);

    /* a big value: more than the first read's buffer */
    {
        size_t big = 300000;
        char *b = malloc(big);
        if (!b)
            fail("out of memory");
        for (len = 0; len < big; len++)
            b[len] = (char)('a' + len % 26);
        expect(strom_zk_create(zk, "/t/big", b, big, 0, NULL, 0, err, sizeof err), 0,
               "create /t/big", err);
        expect(strom_zk_get(zk, "/t/big", &data, &len, NULL, watch_log, quiet, err, sizeof err), 0,
               "get /t/big", err);
        if (len != big || memcmp(data, b, big) != 0)
            fail("get /t/big: %zu bytes, want %zu", len, big);
        free(data);
        free(b);
        expect(strom_zk_delete(zk, "/t/big", -1, err, sizeof err), 0, "delete big", err);
        expect_event(quiet, 0, "deleted /t/big");
        usleep(100000);
        if (quiet->n != 1)
            fail("the watch of a big get fired %d times", quiet->n);
    }

    /* exists */
    expect(strom_zk_exists(zk, "/t/x", &v, NULL, NULL, err, sizeof err), 1, "exists", err);
    expect(strom_zk_exists(zk, "/t/none", NULL, NULL, NULL, err, sizeof err), 0, "exists none",
           err);

    /* sequential and ephemeral */
    expect(strom_zk_create(zk, "/t/s-", "", 0, STROM_ZK_SEQUENTIAL, created, sizeof created, err,
                           sizeof err),
           0, "create sequential", err);
    if (strncmp(created, "/t/s-", 5) != 0 || strlen(created) != 15)
        fail("sequential: created %s", created);
    expect(strom_zk_create(zk, "/t/e", "", 0, STROM_ZK_EPHEMERAL, NULL, 0, err, sizeof err), 0,
           "create ephemeral", err);
    rc = strom_zk_create(zk, "/t/e/child", "", 0, 0, NULL, 0, err, sizeof err);
    if (rc == 0)
        fail("a child of an ephemeral znode was created");

    /* children, sorted */
    expect(strom_zk_children(zk, "/t", &c, NULL, NULL, err, sizeof err), 0, "children", err);
    if (c.n != 4 || strcmp(c.names[0], "a") || strcmp(c.names[1], "e") ||
        strncmp(c.names[2], "s-", 2) || strcmp(c.names[3], "x"))
        fail("children of /t: %zu names", c.n);
    strom_zk_children_release(&c);

    /* delete */
    rc = strom_zk_delete(zk, "/t/a", -1, err, sizeof err);
    expect(rc, -ENOTEMPTY, "delete a znode with children", err);
    rc = strom_zk_delete(zk, "/t/x", 0, err, sizeof err);
    expect(rc, STROM_E_CONFLICT, "delete with a stale version", err);
    expect(strom_zk_delete(zk, "/t/a/b", -1, err, sizeof err), 0, "delete /t/a/b", err);
    rc = strom_zk_delete(zk, "/t/a/b", -1, err, sizeof err);
    expect(rc, STROM_E_NOTFOUND, "delete twice", err);

    /* watches: data, children, exists (missing znode), delete; each fires once */
    expect(strom_zk_get(zk, "/t/x", NULL, NULL, NULL, watch_log, ev, err, sizeof err), 0,
           "get with watch", err);
    expect(strom_zk_set(zk, "/t/x", "1", 1, -1, NULL, err, sizeof err), 0, "set", err);
    expect_event(ev, 0, "changed /t/x");
    expect(strom_zk_set(zk, "/t/x", "2", 1, -1, NULL, err, sizeof err), 0, "set again", err);
    expect(strom_zk_children(zk, "/t", &c, watch_log, ev, err, sizeof err), 0, "children+watch",
           err);
    strom_zk_children_release(&c);
    expect(strom_zk_create(zk, "/t/y", "", 0, 0, NULL, 0, err, sizeof err), 0, "create /t/y", err);
    expect_event(ev, 1, "children /t");
    expect(strom_zk_exists(zk, "/t/later", NULL, watch_log, ev, err, sizeof err), 0, "exists+watch",
           err);
    expect(strom_zk_create(zk, "/t/later", "", 0, 0, NULL, 0, err, sizeof err), 0,
           "create /t/later", err);
    expect_event(ev, 2, "created /t/later");
    expect(strom_zk_exists(zk, "/t/later", NULL, watch_log, ev, err, sizeof err), 1, "exists+watch",
           err);
    expect(strom_zk_delete(zk, "/t/later", -1, err, sizeof err), 0, "delete /t/later", err);
    expect_event(ev, 3, "deleted /t/later");
    usleep(200000);
    if (ev->n != 4)
        fail("watches: %d events, want 4 (the second set must not fire a spent watch): "
             "last '%s'",
             ev->n, ev->log[ev->n - 1]);

    /* unwatch: a cancelled watch never calls back */
    expect(strom_zk_get(zk, "/t/y", NULL, NULL, NULL, watch_log, quiet, err, sizeof err), 0,
           "get with watch", err);
    strom_zk_unwatch(zk, quiet);
    expect(strom_zk_set(zk, "/t/y", "z", 1, -1, NULL, err, sizeof err), 0, "set /t/y", err);
    usleep(300000);
    if (quiet->n != 1)
        fail("a cancelled watch called back");

    /* versioned records */
    rc = strom_cluster_record_get(zk, "/t/rec", &r, NULL, NULL, err, sizeof err);
    expect(rc, STROM_E_NOTFOUND, "record get (none)", err);
    expect(strom_cluster_record_set(zk, "/t/rec", NULL, 1, "table-1", 7, &v, err, sizeof err), 0,
           "record create", err);
    rc = strom_cluster_record_set(zk, "/t/rec", NULL, 1, "table-1", 7, NULL, err, sizeof err);
    expect(rc, STROM_E_EXISTS, "record create twice", err);
    expect(strom_cluster_record_get(zk, "/t/rec", &r, NULL, NULL, err, sizeof err), 0, "record get",
           err);
    if (r.epoch != 1 || r.len != 7 || memcmp(r.payload, "table-1", 7) || r.version != v)
        fail("record: epoch %llu len %zu", (unsigned long long)r.epoch, r.len);
    rc = strom_cluster_record_set(zk, "/t/rec", &r, 1, "same", 4, NULL, err, sizeof err);
    expect(rc, STROM_E_STALE_EPOCH, "record set, same epoch", err);
    /* two writers from the same read: the first wins, the second gets a conflict */
    expect(strom_cluster_record_get(zk, "/t/rec", &r2, NULL, NULL, err, sizeof err), 0,
           "record get", err);
    expect(strom_cluster_record_set(zk, "/t/rec", &r, 2, "table-2", 7, NULL, err, sizeof err), 0,
           "record set epoch 2", err);
    rc = strom_cluster_record_set(zk, "/t/rec", &r2, 2, "table-2b", 8, NULL, err, sizeof err);
    expect(rc, STROM_E_CONFLICT, "record set from a stale read", err);
    strom_cluster_record_release(&r);
    strom_cluster_record_release(&r2);
    expect(strom_cluster_record_get(zk, "/t/rec", &r, NULL, NULL, err, sizeof err), 0, "record get",
           err);
    if (r.epoch != 2 || r.len != 7 || memcmp(r.payload, "table-2", 7))
        fail("record after the conflict: epoch %llu", (unsigned long long)r.epoch);
    strom_cluster_record_release(&r);
    expect(strom_zk_set(zk, "/t/rec", "garbage-garbage-garbage", 23, -1, NULL, err, sizeof err), 0,
           "set garbage", err);
    rc = strom_cluster_record_get(zk, "/t/rec", &r, NULL, NULL, err, sizeof err);
    expect(rc, STROM_E_CORRUPT, "record get of garbage", err);

    /* node records */
    {
        struct strom_cluster_node n = {0}, m;
        char buf[STROM_CLUSTER_NODE_TEXT_MAX];
        int l;
        strcpy(n.name, "w-1");
        strcpy(n.addr, "tcp://127.0.0.1:7100");
        n.has_key = 1;
        for (i = 0; i < 32; i++)
            n.key[i] = (uint8_t)(i * 7);
        l = strom_cluster_node_encode(&n, buf, sizeof buf, err, sizeof err);
        if (l < 0 || strom_cluster_node_decode(&m, buf, (size_t)l, err, sizeof err) ||
            strcmp(m.name, n.name) || strcmp(m.addr, n.addr) || !m.has_key ||
            memcmp(m.key, n.key, 32))
            fail("node record round trip: %s", err);
        if (strom_cluster_node_decode(&m, buf, (size_t)l - 1, NULL, 0) == 0)
            fail("a truncated node record decoded");
        buf[6] = 'X';
        if (strom_cluster_node_decode(&m, buf, (size_t)l, NULL, 0) == 0)
            fail("a node record with a bad header decoded");
        strcpy(n.name, "bad name");
        if (strom_cluster_node_encode(&n, buf, sizeof buf, NULL, 0) >= 0)
            fail("a name with a space was encoded");
    }

    /* clean up what is not ephemeral */
    strom_zk_delete(zk, "/t/x", -1, NULL, 0);
    strom_zk_delete(zk, "/t/y", -1, NULL, 0);
    strom_zk_delete(zk, "/t/rec", -1, NULL, 0);
    strom_zk_delete(zk, created, -1, NULL, 0);
    strom_zk_delete(zk, "/t/a", -1, NULL, 0);
    strom_zk_free(zk);
    events_free(ev);
    events_free(quiet);
    printf("basic: ok\n");
    return 0;
}

/* ---- processes that wait to be killed --------------------------------------------------- */

/* Block SIGTERM and SIGINT in every thread (call before the client starts its threads),
 * then sigwait for one: a clean exit that the leak checker sees. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

static void wait_signal(sigset_t *set)
{
    int sig;

    sigwait(set, &sig);
}

static int cmd_hold(const char *addr, const char *path)
{
    sigset_t set;
    struct strom_zk *zk;
    char err[512];

    block_signals(&set);
    zk = open_zk(addr, default_secret_byte(), NULL, NULL);
    expect(strom_zk_create(zk, path, "", 0, STROM_ZK_EPHEMERAL, NULL, 0, err, sizeof err), 0,
           "create ephemeral", err);
    printf("held %s session 0x%llx\n", path, (unsigned long long)strom_zk_session_id(zk));
    wait_signal(&set);
    strom_zk_free(zk);
    return 0;
}

static int cmd_wait_gone(const char *addr, const char *path, double secs)
{
    struct strom_zk *zk = open_zk(addr, default_secret_byte(), NULL, NULL);
    struct events *ev = events_new();
    double t0 = now_s();
    char err[512];
    int rc;

    rc = strom_zk_exists(zk, path, NULL, watch_log, ev, err, sizeof err);
    if (rc < 0)
        fail("exists %s: %s", path, err);
    if (rc == 1) {
        char want[300];
        snprintf(want, sizeof want, "deleted %s", path);
        if (!events_wait(ev, 0, secs))
            fail("%s still there after %.1f s", path, secs);
        if (strcmp(ev->log[0], want) != 0)
            fail("watch on %s: '%s'", path, ev->log[0]);
    }
    printf("gone after %.2f s\n", now_s() - t0);
    strom_zk_free(zk);
    events_free(ev);
    return 0;
}

static void elect_print(struct strom_elect *e, enum strom_elect_event ev, void *ctx)
{
    if (ev == STROM_ELECT_WAITING)
        printf("%s waiting %s\n", (const char *)ctx, strom_elect_watching(e));
    else
        printf("%s %s\n", (const char *)ctx, strom_elect_event_name(ev));
}

static int cmd_elect(const char *addr, const char *name)
{
    sigset_t set;
    struct strom_zk *zk;
    struct strom_elect *e;
    struct strom_cluster_node self = {0};
    char err[512];

    block_signals(&set);
    zk = open_zk(addr, default_secret_byte(), NULL, NULL);
    snprintf(self.name, sizeof self.name, "%s", name);
    snprintf(self.addr, sizeof self.addr, "tcp://127.0.0.1:%d", 7000 + (int)(getpid() % 1000));
    expect(strom_elect_join(&e, zk, STROM_ZK_ELECTION, &self, elect_print, (void *)name, err,
                            sizeof err),
           0, "join the election", err);
    printf("%s joined %s\n", name, strom_elect_path(e));
    wait_signal(&set);
    strom_elect_free(e);
    strom_zk_free(zk);
    return 0;
}

static int cmd_leader(const char *addr)
{
    struct strom_zk *zk = open_zk(addr, default_secret_byte(), NULL, NULL);
    struct strom_cluster_node n;
    char err[512];
    int rc;

    rc = strom_elect_leader(zk, STROM_ZK_ELECTION, &n, err, sizeof err);
    if (rc == STROM_E_NOTFOUND)
        printf("none\n");
    else if (rc)
        fail("leader: %s", err);
    else
        printf("%s %s\n", n.name, n.addr);
    strom_zk_free(zk);
    return 0;
}

static int cmd_member(const char *addr, const char *name)
{
    sigset_t set;
    struct strom_zk *zk;
    struct strom_cluster_node self = {0};
    char err[512];
    int i;

    block_signals(&set);
    zk = open_zk(addr, default_secret_byte(), NULL, NULL);
    snprintf(self.name, sizeof self.name, "%s", name);
    snprintf(self.addr, sizeof self.addr, "tcp://127.0.0.1:%d", 7100 + (int)(getpid() % 1000));
    self.has_key = 1;
    for (i = 0; i < STROM_CLUSTER_NODE_KEY_BYTES; i++)
        self.key[i] = (uint8_t)(name[0] + i);
    expect(strom_members_register(zk, &self, err, sizeof err), 0, "register", err);
    printf("registered %s\n", name);
    wait_signal(&set);
    strom_zk_free(zk);
    return 0;
}

static void members_print(struct strom_members_watch *w, const struct strom_members *now,
                          const struct strom_members *joined, const struct strom_members *left,
                          void *ctx)
{
    size_t i;

    (void)w;
    (void)ctx;
    for (i = 0; i < joined->n; i++)
        printf("join %s %s%s\n", joined->v[i].name, joined->v[i].addr,
               joined->v[i].has_key ? " key" : "");
    for (i = 0; i < left->n; i++)
        printf("leave %s\n", left->v[i].name);
    printf("now %zu\n", now->n);
}

static int cmd_members_watch(const char *addr)
{
    sigset_t set;
    struct strom_zk *zk;
    struct strom_members_watch *w;
    char err[512];

    block_signals(&set);
    zk = open_zk(addr, default_secret_byte(), NULL, NULL);
    expect(strom_members_watch_new(&w, zk, members_print, NULL, err, sizeof err), 0,
           "watch members", err);
    wait_signal(&set);
    strom_members_watch_free(w);
    strom_zk_free(zk);
    return 0;
}

static int cmd_members(const char *addr)
{
    struct strom_zk *zk = open_zk(addr, default_secret_byte(), NULL, NULL);
    struct strom_members m;
    char err[512];
    size_t i;

    expect(strom_members_list(zk, &m, err, sizeof err), 0, "list members", err);
    for (i = 0; i < m.n; i++)
        printf("%s %s\n", m.v[i].name, m.v[i].addr);
    strom_members_release(&m);
    strom_zk_free(zk);
    return 0;
}

/* ---- acl ------------------------------------------------------------------------------- */

static void raw_log(const char *msg)
{
    (void)msg;
}

static void raw_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)type;
    (void)path;
    if (state == ZOO_CONNECTED_STATE)
        *(volatile int *)ctx = 1;
}

/* A plain ZooKeeper client, as an outsider would use: no strom code involved. */
static zhandle_t *raw_connect(const char *addr, volatile int *connected)
{
    zhandle_t *zh;
    double end = now_s() + 5;

    *connected = 0;
    zh = zookeeper_init2(addr, raw_watcher, SESSION_MS, NULL, (void *)connected, 0, raw_log);
    if (!zh)
        fail("raw connect %s: %s", addr, strerror(errno));
    while (!*connected && now_s() < end)
        usleep(10000);
    if (!*connected)
        fail("raw connect %s: not connected in 5 s", addr);
    return zh;
}

static void raw_expect(int zrc, int want, const char *who, const char *what)
{
    if (zrc != want)
        fail("%s: %s: got '%s', want '%s'", who, what, zerror(zrc), zerror(want));
}

/* Everything an outsider might try on strom's znodes through a raw handle. */
static void outsider_raw(zhandle_t *zh, const char *who)
{
    char buf[256];
    int blen = sizeof buf;
    struct String_vector sv = {0, NULL};
    struct ACL_vector acl = {0, NULL};
    struct Stat st;
    static const char *const paths[] = {STROM_ZK_JOB, STROM_ZK_ASSIGNMENT, STROM_ZK_WORKERS,
                                        STROM_ZK_ELECTION, STROM_ZK_ROOT};
    size_t i;

    for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        blen = sizeof buf;
        raw_expect(zoo_get(zh, paths[i], 0, buf, &blen, &st), ZNOAUTH, who, paths[i]);
    }
    raw_expect(zoo_set(zh, STROM_ZK_ASSIGNMENT, "evil", 4, -1), ZNOAUTH, who,
               "set " STROM_ZK_ASSIGNMENT);
    raw_expect(zoo_set(zh, STROM_ZK_JOB, "evil", 4, -1), ZNOAUTH, who, "set " STROM_ZK_JOB);
    raw_expect(zoo_delete(zh, STROM_ZK_ASSIGNMENT, -1), ZNOAUTH, who,
               "delete " STROM_ZK_ASSIGNMENT);
    raw_expect(zoo_delete(zh, STROM_ZK_WORKERS "/w1", -1), ZNOAUTH, who,
               "delete " STROM_ZK_WORKERS "/w1");
    raw_expect(zoo_create(zh, STROM_ZK_WORKERS "/evil", "x", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL,
                          NULL, 0),
               ZNOAUTH, who, "create " STROM_ZK_WORKERS "/evil");
    raw_expect(zoo_create(zh, STROM_ZK_ELECTION "/n-", "x", 1, &ZOO_OPEN_ACL_UNSAFE,
                          ZOO_EPHEMERAL_SEQUENTIAL, NULL, 0),
               ZNOAUTH, who, "create " STROM_ZK_ELECTION "/n-");
    raw_expect(zoo_get_children(zh, STROM_ZK_WORKERS, 0, &sv), ZNOAUTH, who,
               "children of " STROM_ZK_WORKERS);
    deallocate_String_vector(&sv);
    raw_expect(zoo_set_acl(zh, STROM_ZK_ASSIGNMENT, -1, &ZOO_OPEN_ACL_UNSAFE), ZNOAUTH, who,
               "set the ACL of " STROM_ZK_ASSIGNMENT);
    /* reading the ACL itself needs READ or ADMIN (ZooKeeper >= 3.6) */
    raw_expect(zoo_get_acl(zh, STROM_ZK_ASSIGNMENT, &acl, &st), ZNOAUTH, who,
               "get the ACL of " STROM_ZK_ASSIGNMENT);
    deallocate_ACL_vector(&acl);
}

static int cmd_acl(const char *addr)
{
    struct strom_zk *zk = open_zk(addr, default_secret_byte(), NULL, NULL), *bad;
    struct strom_cluster_record r;
    struct strom_cluster_node w = {0};
    struct strom_members m;
    struct ACL_vector acl = {0, NULL};
    struct Stat st;
    volatile int connected;
    zhandle_t *zh;
    char err[512], id[STROM_ZK_CRED_MAX], cred[STROM_ZK_CRED_MAX];
    uint8_t secret[STROM_ZK_SECRET_BYTES];
    int rc, wrong = default_secret_byte() ^ 0xff;

    /* the owner: the layout, a job configuration, an assignment, a worker */
    expect(strom_cluster_layout_ensure(zk, err, sizeof err), 0, "layout", err);
    strom_zk_delete(zk, STROM_ZK_JOB, -1, NULL, 0);
    strom_zk_delete(zk, STROM_ZK_ASSIGNMENT, -1, NULL, 0);
    expect(strom_cluster_record_set(zk, STROM_ZK_JOB, NULL, 1, "secret job config", 17, NULL, err,
                                    sizeof err),
           0, "write the job", err);
    expect(strom_cluster_record_set(zk, STROM_ZK_ASSIGNMENT, NULL, 7, "kg0->w1", 7, NULL, err,
                                    sizeof err),
           0, "write the assignment", err);
    strcpy(w.name, "w1");
    strcpy(w.addr, "tcp://127.0.0.1:7101");
    expect(strom_members_register(zk, &w, err, sizeof err), 0, "register w1", err);

    /* every znode's ACL: one entry, all permissions, our digest identity */
    secret_of(secret, default_secret_byte());
    expect(strom_zk_credentials(secret, cred, sizeof cred, id, sizeof id), 0, "credentials", "");
    {
        static const char *const paths[] = {STROM_ZK_ROOT,    STROM_ZK_ELECTION,
                                            STROM_ZK_WORKERS, STROM_ZK_WORKERS "/w1",
                                            STROM_ZK_JOB,     STROM_ZK_ASSIGNMENT};
        size_t i;
        for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
            raw_expect(zoo_get_acl(zk->zh, paths[i], &acl, &st), ZOK, "owner", paths[i]);
            if (acl.count != 1 || strcmp(acl.data[0].id.scheme, "digest") != 0 ||
                strcmp(acl.data[0].id.id, id) != 0 || acl.data[0].perms != ZOO_PERM_ALL)
                fail("ACL of %s: %d entries, first %s:%s perms %d; want digest:%s all", paths[i],
                     acl.count, acl.count ? acl.data[0].id.scheme : "-",
                     acl.count ? acl.data[0].id.id : "-", acl.count ? acl.data[0].perms : 0, id);
            deallocate_ACL_vector(&acl);
        }
    }

    /* outsider 1: no authentication at all */
    zh = raw_connect(addr, &connected);
    outsider_raw(zh, "no auth");
    zookeeper_close(zh);

    /* outsider 2: a raw client that authenticates with a guessed password */
    zh = raw_connect(addr, &connected);
    raw_expect(zoo_add_auth(zh, "digest", "strom:guess", 11, NULL, NULL), ZOK, "guess", "add_auth");
    outsider_raw(zh, "guessed password");
    zookeeper_close(zh);

    /* outsider 3: strom itself with the wrong secret */
    bad = open_zk(addr, wrong, NULL, NULL);
    rc = strom_cluster_record_get(bad, STROM_ZK_JOB, &r, NULL, NULL, err, sizeof err);
    expect(rc, STROM_E_NOAUTH, "wrong secret: read the job", err);
    if (!strstr(err, STROM_ZK_JOB) || !strstr(err, "uthenticat"))
        fail("wrong secret: message '%s' names neither the znode nor the cause", err);
    rc = strom_cluster_record_get(bad, STROM_ZK_ASSIGNMENT, &r, NULL, NULL, err, sizeof err);
    expect(rc, STROM_E_NOAUTH, "wrong secret: read the assignment", err);
    memset(&r, 0, sizeof r);
    r.epoch = 7;
    r.version = -1;
    rc = strom_cluster_record_set(bad, STROM_ZK_ASSIGNMENT, &r, 8, "kg0->evil", 9, NULL, err,
                                  sizeof err);
    expect(rc, STROM_E_NOAUTH, "wrong secret: write the assignment", err);
    rc = strom_zk_delete(bad, STROM_ZK_ASSIGNMENT, -1, err, sizeof err);
    expect(rc, STROM_E_NOAUTH, "wrong secret: delete the assignment", err);
    rc = strom_zk_delete(bad, STROM_ZK_WORKERS "/w1", -1, err, sizeof err);
    expect(rc, STROM_E_NOAUTH, "wrong secret: delete a worker", err);
    strcpy(w.name, "evil");
    rc = strom_members_register(bad, &w, err, sizeof err);
    expect(rc, STROM_E_NOAUTH, "wrong secret: register a worker", err);
    rc = strom_members_list(bad, &m, err, sizeof err);
    expect(rc, STROM_E_NOAUTH, "wrong secret: list the workers", err);
    {
        struct strom_elect *e;
        struct strom_cluster_node n;
        rc = strom_elect_join(&e, bad, STROM_ZK_ELECTION, &w, NULL, NULL, err, sizeof err);
        expect(rc, STROM_E_NOAUTH, "wrong secret: stand for election", err);
        rc = strom_elect_leader(bad, STROM_ZK_ELECTION, &n, err, sizeof err);
        expect(rc, STROM_E_NOAUTH, "wrong secret: ask who leads", err);
    }
    strom_zk_free(bad);

    /* the owner sees everything as it was */
    expect(strom_cluster_record_get(zk, STROM_ZK_ASSIGNMENT, &r, NULL, NULL, err, sizeof err), 0,
           "owner: read the assignment", err);
    if (r.epoch != 7 || r.len != 7 || memcmp(r.payload, "kg0->w1", 7) || r.version != 0)
        fail("the assignment changed: epoch %llu version %d", (unsigned long long)r.epoch,
             r.version);
    strom_cluster_record_release(&r);
    expect(strom_members_list(zk, &m, err, sizeof err), 0, "owner: list", err);
    if (m.n != 1 || strcmp(m.v[0].name, "w1"))
        fail("owner: %zu workers", m.n);
    strom_members_release(&m);
    strom_zk_free(zk);
    printf("acl: no auth, a guessed password and a wrong secret refused (read, write, "
           "create, delete, list, ACL)\n");
    return 0;
}

/* Against a live cluster (its job, assignment and workers exist): the raw outsiders of
 * cmd_acl, without touching anything. */
static int cmd_outsider(const char *addr)
{
    volatile int connected;
    zhandle_t *zh = raw_connect(addr, &connected);
    outsider_raw(zh, "no auth");
    zookeeper_close(zh);
    zh = raw_connect(addr, &connected);
    raw_expect(zoo_add_auth(zh, "digest", "strom:guess", 11, NULL, NULL), ZOK, "guess", "add_auth");
    outsider_raw(zh, "guessed password");
    zookeeper_close(zh);
    printf("outsider: no auth and a guessed password refused (read, write, create, delete, "
           "list, ACL)\n");
    return 0;
}

/* ---- chroot ---------------------------------------------------------------------------- */

static int cmd_chroot(const char *addr)
{
    char where[512], err[512], *data;
    struct strom_zk *zk, *top;
    struct strom_zk_children c;
    volatile int connected;
    zhandle_t *zh;
    char buf[64];
    int blen = sizeof buf;
    struct Stat st;
    size_t len;

    snprintf(where, sizeof where, "%s/tenants/job-7", addr);
    zk = open_zk(where, default_secret_byte(), NULL, NULL);
    expect(strom_cluster_layout_ensure(zk, err, sizeof err), 0, "layout in the chroot", err);
    strom_zk_delete(zk, STROM_ZK_JOB, -1, NULL, 0);
    expect(strom_zk_create(zk, STROM_ZK_JOB, "in-chroot", 9, 0, NULL, 0, err, sizeof err), 0,
           "create in the chroot", err);
    expect(strom_zk_children(zk, "/", &c, NULL, NULL, err, sizeof err), 0, "children of /", err);
    if (c.n != 1 || strcmp(c.names[0], "strom") != 0)
        fail("the chroot's root has %zu children, want only 'strom'", c.n);
    strom_zk_children_release(&c);
    strom_zk_free(zk);

    /* seen from the real root */
    top = open_zk(addr, default_secret_byte(), NULL, NULL);
    expect(strom_zk_get(top, "/tenants/job-7" STROM_ZK_JOB, &data, &len, NULL, NULL, NULL, err,
                        sizeof err),
           0, "get through the full path", err);
    if (len != 9 || memcmp(data, "in-chroot", 9) != 0)
        fail("full path: '%s'", data ? data : "");
    free(data);
    strom_zk_free(top);

    /* the chroot and its parent carry strom's ACL too */
    zh = raw_connect(addr, &connected);
    raw_expect(zoo_get(zh, "/tenants", 0, buf, &blen, &st), ZNOAUTH, "no auth", "/tenants");
    blen = sizeof buf;
    raw_expect(zoo_get(zh, "/tenants/job-7" STROM_ZK_JOB, 0, buf, &blen, &st), ZNOAUTH, "no auth",
               "/tenants/job-7" STROM_ZK_JOB);
    zookeeper_close(zh);

    /* a second session finds the chroot there */
    zk = open_zk(where, default_secret_byte(), NULL, NULL);
    expect(strom_zk_exists(zk, STROM_ZK_JOB, NULL, NULL, NULL, err, sizeof err), 1,
           "exists in the chroot", err);
    strom_zk_free(zk);
    printf("chroot: ok\n");
    return 0;
}

/* ---- noserver -------------------------------------------------------------------------- */

static int cmd_noserver(const char *addr, int ms)
{
    uint8_t secret[STROM_ZK_SECRET_BYTES];
    struct strom_zk_opts o = {0};
    struct strom_zk *zk;
    char err[512];
    double t0 = now_s(), dt;
    int rc;

    secret_of(secret, default_secret_byte());
    o.connect = addr;
    o.secret = secret;
    o.session_timeout_ms = SESSION_MS;
    o.connect_timeout_ms = ms;
    o.client_log = STROM_ZK_LOG_NONE;
    rc = strom_zk_connect(&zk, &o, err, sizeof err);
    dt = now_s() - t0;
    if (rc == 0)
        fail("connected to %s, where nothing should listen", addr);
    expect(rc, -ETIMEDOUT, "connect where nothing listens", err);
    if (!strstr(err, addr))
        fail("message '%s' does not name the address %s", err, addr);
    if (dt < ms / 1000.0 * 0.9 || dt > ms / 1000.0 + 1.5)
        fail("gave up after %.2f s, timeout %d ms", dt, ms);
    fprintf(stderr, "%s\n", err);
    /* a host name that does not resolve fails at once, naming it */
    t0 = now_s();
    o.connect = "nohost.invalid:2181";
    rc = strom_zk_connect(&zk, &o, err, sizeof err);
    if (rc == 0 || !strstr(err, "nohost.invalid") || now_s() - t0 > ms / 1000.0 + 1.5)
        fail("an unresolvable host: %s after %.2f s: %s", strom_errname(rc), now_s() - t0, err);
    /* a malformed address fails at once */
    o.connect = "/nohost";
    rc = strom_zk_connect(&zk, &o, err, sizeof err);
    expect(rc, STROM_E_INVAL, "a malformed address", err);
    printf("noserver: '%s' after %.2f s\n", strom_strerror(-ETIMEDOUT), dt);
    return 0;
}

/* ---- expiry ---------------------------------------------------------------------------- */

static void session_log(struct strom_zk *zk, enum strom_zk_session_event ev, void *ctx)
{
    (void)zk;
    events_add(ctx, "%s", strom_zk_session_event_name(ev));
}

static void elect_log(struct strom_elect *e, enum strom_elect_event ev, void *ctx)
{
    (void)e;
    events_add(ctx, "%s", strom_elect_event_name(ev));
}

static int cmd_expiry(const char *addr)
{
    struct events *sess = events_new(), *el = events_new();
    struct strom_zk *zk = open_zk(addr, default_secret_byte(), session_log, sess);
    struct strom_elect *e;
    struct strom_cluster_node self = {0};
    double t0;
    char err[512];
    int i, rc, expired = -1;

    strcpy(self.name, "expiring");
    strcpy(self.addr, "tcp://127.0.0.1:7999");
    expect(strom_zk_create(zk, "/expiry-eph", "", 0, STROM_ZK_EPHEMERAL, NULL, 0, err, sizeof err),
           0, "create ephemeral", err);
    expect(strom_elect_join(&e, zk, "/expiry-election", &self, elect_log, el, err, sizeof err), 0,
           "join", err);
    if (!events_wait(el, 0, 5) || strcmp(el->log[0], "leader"))
        fail("a lone candidate did not lead");

    /* The test script now stops this process (SIGSTOP) for longer than the session
     * timeout, as a long pause would (GC, swapping, a frozen VM): the server expires the
     * session; when the process runs again its client reconnects and learns it. */
    printf("ready\n");
    t0 = now_s();
    for (i = 0; i < 8 && expired < 0; i++) {
        const char *ev = events_wait(sess, i, 30);
        if (!ev)
            break;
        if (strcmp(ev, "expired") == 0)
            expired = i;
    }
    if (expired < 0)
        fail("no 'expired' session event within 30 s (%d events)", sess->n);
    if (!events_wait(el, 1, 2) || strcmp(el->log[el->n - 1], "lost"))
        fail("the election did not report 'lost' (last: %s)", el->log[el->n - 1]);
    if (strom_elect_is_leader(e))
        fail("still leader after expiry");
    rc = strom_zk_exists(zk, "/", NULL, NULL, NULL, err, sizeof err);
    expect(rc, STROM_E_SESSION, "a call on an expired session", err);
    printf("expiry: reported %.2f s after ready (events:", now_s() - t0);
    for (i = 0; i <= expired; i++)
        printf(" %s", sess->log[i]);
    printf("), election lost\n");
    strom_elect_free(e);
    strom_zk_free(zk);

    /* a new session sees the ephemerals gone */
    zk = open_zk(addr, default_secret_byte(), NULL, NULL);
    expect(strom_zk_exists(zk, "/expiry-eph", NULL, NULL, NULL, err, sizeof err), 0,
           "the ephemeral of the expired session", err);
    strom_zk_free(zk);
    events_free(sess);
    events_free(el);
    return 0;
}

static void usage(void)
{
    fputs("usage: zk_check sha1 | digest USER:PW | basic ADDR | hold ADDR PATH |\n"
          "       wait-gone ADDR PATH SECS | elect ADDR NAME | leader ADDR |\n"
          "       member ADDR NAME | members-watch ADDR | members ADDR | acl ADDR |\n"
          "       chroot ADDR | noserver ADDR MS | expiry ADDR | outsider ADDR\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *cmd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        usage();
    cmd = argv[1];
    if (strcmp(cmd, "sha1") == 0 && argc == 2)
        return cmd_sha1();
    if (strcmp(cmd, "digest") == 0 && argc == 3)
        return cmd_digest(argv[2]);
    if (strcmp(cmd, "basic") == 0 && argc == 3)
        return cmd_basic(argv[2]);
    if (strcmp(cmd, "hold") == 0 && argc == 4)
        return cmd_hold(argv[2], argv[3]);
    if (strcmp(cmd, "wait-gone") == 0 && argc == 5)
        return cmd_wait_gone(argv[2], argv[3], atof(argv[4]));
    if (strcmp(cmd, "elect") == 0 && argc == 4)
        return cmd_elect(argv[2], argv[3]);
    if (strcmp(cmd, "leader") == 0 && argc == 3)
        return cmd_leader(argv[2]);
    if (strcmp(cmd, "member") == 0 && argc == 4)
        return cmd_member(argv[2], argv[3]);
    if (strcmp(cmd, "members-watch") == 0 && argc == 3)
        return cmd_members_watch(argv[2]);
    if (strcmp(cmd, "members") == 0 && argc == 3)
        return cmd_members(argv[2]);
    if (strcmp(cmd, "acl") == 0 && argc == 3)
        return cmd_acl(argv[2]);
    if (strcmp(cmd, "outsider") == 0 && argc == 3)
        return cmd_outsider(argv[2]);
    if (strcmp(cmd, "chroot") == 0 && argc == 3)
        return cmd_chroot(argv[2]);
    if (strcmp(cmd, "noserver") == 0 && argc == 4)
        return cmd_noserver(argv[2], atoi(argv[3]));
    if (strcmp(cmd, "expiry") == 0 && argc == 3)
        return cmd_expiry(argv[2]);
    usage();
}
