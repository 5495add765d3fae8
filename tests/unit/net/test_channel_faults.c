/* Channels under trouble (net/channel.h): backpressure from a receiver that stops reading,
 * a client whose key is not allowed, a byte altered in flight, a dead peer, and insecure
 * mode with its warnings; and a receiver's wait cut short by strom_netchan_kick. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <zmq.h>

#include "net_fixture.h"

struct world {
    char *base, *keys, *other;
    struct fx_child rx;
    pid_t relay;
    struct fx_log log_rx, log_tx;
    struct strom_net *rxn, *txn;
    struct strom_netchan *rc, *tc;
};

static int setup(void **st)
{
    static const char *const names[] = {"rx", "tx", NULL};
    static const char *const evil[] = {"evil", NULL};
    struct world *w = calloc(1, sizeof *w);
    char *pub;
    size_t n;

    w->base = tu_tempdir();
    w->keys = fx_keys(w->base, "keys", names);
    /* A second cluster's key, which knows our rx's public key but is not known to it. */
    w->other = fx_keys(w->base, "other", evil);
    pub = tu_read_file(tu_path(w->keys, "rx.pub"), &n);
    tu_write_file(tu_path(w->other, "rx.pub"), pub, n);
    free(pub);
    fx_log_init(&w->log_rx);
    fx_log_init(&w->log_tx);
    *st = w;
    return 0;
}

static int teardown(void **st)
{
    struct world *w = *st;
    strom_netchan_close(w->tc);
    strom_netchan_close(w->rc);
    strom_net_free(w->txn);
    strom_net_free(w->rxn);
    fx_kill(w->relay);
    if (w->rx.pid > 0) {
        fx_kill(w->rx.pid);
        close(w->rx.fd);
    }
    tu_rmtree(w->base);
    free(w->base);
    free(w->keys);
    free(w->other);
    free(w);
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Both ends in this process: rx listens, tx connects (to endpoint, or to rx directly). */
static void pair(struct world *w, const struct strom_net_config *extra, const char *keys_tx,
                 const char *tx_name, int insecure_rx, int insecure_tx)
{
    struct strom_net_config cr = *extra, ct = *extra;
    char err[512] = "", ep[256];

    cr.keys_dir = w->keys;
    cr.name = "rx";
    cr.insecure = insecure_rx;
    cr.log = fx_log_fn;
    cr.log_arg = &w->log_rx;
    ct.keys_dir = keys_tx;
    ct.name = tx_name;
    ct.insecure = insecure_tx;
    ct.log = fx_log_fn;
    ct.log_arg = &w->log_tx;
    if (strom_net_new(&w->rxn, &cr, err, sizeof err) ||
        strom_net_listen(w->rxn, "tcp://127.0.0.1:*", ep, sizeof ep, err, sizeof err) ||
        strom_netchan_open(&w->rc, w->rxn, tx_name, 5, 1, STROM_NETCHAN_RECV, err, sizeof err) ||
        strom_net_new(&w->txn, &ct, err, sizeof err) ||
        strom_net_connect(w->txn, "rx", ep, err, sizeof err) ||
        strom_netchan_open(&w->tc, w->txn, "rx", 5, 1, STROM_NETCHAN_SEND, err, sizeof err))
        fail_msg("setup: %s", err);
}

struct reader {
    struct strom_netchan *c;
    uint64_t delivered, bad;
    int rc;
};

static void *read_all(void *arg)
{
    struct reader *r = arg;
    struct strom_net_batch b;
    while ((r->rc = strom_netchan_recv(r->c, &b, 10000)) == 0) {
        uint8_t want[16384];
        memset(want, (int)(b.seq & 0xff), sizeof want);
        if (b.seq != r->delivered || b.len != sizeof want || memcmp(b.data, want, b.len))
            r->bad++;
        r->delivered++;
        strom_net_batch_release(&b);
    }
    return NULL;
}

/* A receiver that stops reading: the window fills (64 batches, or 256 KiB), send refuses
 * with -EAGAIN at once or after its timeout, memory stays put; reading resumes it. */
static void test_backpressure(void **st)
{
    struct world *w = *st;
    struct strom_net_config extra = {.window_batches = 64, .window_bytes = 4 << 20};
    static uint8_t buf[16384];
    struct reader r = {0};
    pthread_t th;
    uint64_t sent = 0;
    long rss0;
    double t0;
    int rc;

    pair(w, &extra, w->keys, "tx", 0, 0);
    for (;; sent++) {
        memset(buf, (int)(sent & 0xff), sizeof buf);
        if ((rc = strom_netchan_send(w->tc, buf, sizeof buf, 0)))
            break;
    }
    assert_int_equal(rc, -EAGAIN);
    assert_int_equal(sent, 64); /* exactly the window, not one more */
    t0 = now_ms();
    assert_int_equal(strom_netchan_send(w->tc, buf, sizeof buf, 300), -EAGAIN);
    assert_true(now_ms() - t0 >= 290);
    /* Tens of thousands of refused sends cost nothing. */
    rss0 = tu_rss_kib();
    for (int i = 0; i < 20000; i++)
        assert_int_equal(strom_netchan_send(w->tc, buf, sizeof buf, 0), -EAGAIN);
    assert_true(tu_rss_kib() - rss0 < 8192);
    /* The receiver has all 64 queued and not one more. */
    {
        struct strom_net_stats s;
        strom_net_stats(w->rxn, &s);
        assert_int_equal(s.delivered, 0);
    }
    /* Reading resumes the sender; 2000 batches in all, in order. */
    r.c = w->rc;
    assert_int_equal(pthread_create(&th, NULL, read_all, &r), 0);
    for (; sent < 2000; sent++) {
        memset(buf, (int)(sent & 0xff), sizeof buf);
        assert_int_equal(strom_netchan_send(w->tc, buf, sizeof buf, 10000), 0);
    }
    assert_int_equal(strom_netchan_finish(w->tc, 10000), 0);
    pthread_join(th, NULL);
    assert_int_equal(r.rc, STROM_E_CLOSED);
    assert_int_equal(r.delivered, 2000);
    assert_int_equal(r.bad, 0);
}

/* The byte bound: 16 KiB batches in a 256 KiB window: 16 of them. */
static void test_backpressure_bytes(void **st)
{
    struct world *w = *st;
    struct strom_net_config extra = {.window_batches = 1024, .window_bytes = 256 << 10};
    static uint8_t buf[16384];
    int sent = 0;

    pair(w, &extra, w->keys, "tx", 0, 0);
    while (strom_netchan_send(w->tc, buf, sizeof buf, 0) == 0)
        sent++;
    assert_int_equal(sent, 16);
    assert_int_equal(strom_netchan_send(w->tc, buf, 1, 0), -EAGAIN);
    assert_int_equal(strom_netchan_send(w->tc, buf, (256 << 10) + 1, 0), -EMSGSIZE);
}

/* A client with a key from another cluster: ZAP refuses it and says so; nothing it sends
 * arrives. */
static void test_unknown_key_refused(void **st)
{
    struct world *w = *st;
    struct strom_net_config extra = {0};
    struct strom_net_batch b;
    struct strom_net_stats srx, stx;
    struct strom_identity evil;
    char want[200], err[256];
    uint8_t buf[64] = {1};

    pair(w, &extra, w->other, "evil", 0, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(strom_netchan_send(w->tc, buf, sizeof buf, 0), 0);
    assert_int_equal(strom_netchan_recv(w->rc, &b, 1500), -EAGAIN);
    strom_net_stats(w->rxn, &srx);
    strom_net_stats(w->txn, &stx);
    assert_int_equal(srx.delivered, 0);
    assert_int_equal(srx.frames_in, 0);
    assert_true(srx.zap_refused >= 1);
    assert_int_equal(srx.zap_admitted, 0);
    assert_true(stx.handshake_failures >= 1);
    assert_int_equal(strom_identity_load(&evil, w->other, "evil", err, sizeof err), 0);
    snprintf(want, sizeof want, "zap: refused CURVE client %s from 127.0.0.1", evil.public_z85);
    strom_identity_release(&evil);
    if (!fx_log_has(&w->log_rx, want))
        fail_msg("rx log lacks '%s':\n%s", want, w->log_rx.buf);
    assert_true(fx_log_has(&w->log_tx, "authentication failed"));
}

/* While the sender waits for a dead peer to come back: the receiving child must live. */
static void rx_still_there(struct world *w)
{
    int status;
    if (waitpid(w->rx.pid, &status, WNOHANG) == w->rx.pid) {
        w->rx.pid = 0;
        fail_msg("the receiving child ended (status 0x%x)", status);
    }
    fx_sleep_ms(50);
}

/* The relay flips one bit of the encrypted stream: CURVE refuses the message and drops the
 * connection; nothing altered is delivered, and once reconnected every batch arrives
 * intact, exactly once, in order. */
static void test_altered_byte_rejected(void **st)
{
    struct world *w = *st;
    enum { N = 20000 };
    struct fx_rx rx = {.keys = w->keys, .name = "rx", .peer = "tx", .chan = 5, .n = N};
    /* libzmq drops the connection whose message failed authentication only at the ZMTP
     * heartbeat timeout, which is dead_ms: short here, so that the test is. */
    struct strom_net_config ct = {.keys_dir = w->keys,
                                  .name = "tx",
                                  .resend_ms = 200,
                                  .heartbeat_ms = 100,
                                  .dead_ms = 1000,
                                  .log = fx_log_fn,
                                  .log_arg = &w->log_tx};
    struct fx_rx_result res;
    uint8_t buf[128];
    char err[512] = "", ep[64];
    int port = 0, status;

    rx.cfg = (struct strom_net_config){.resend_ms = 200, .heartbeat_ms = 100, .dead_ms = 1000};
    fx_rx_start(&w->rx, &rx);
    w->relay = fx_relay_start(&port, fx_port_of(w->rx.endpoint), 100000);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    if (strom_net_new(&w->txn, &ct, err, sizeof err) ||
        strom_net_connect(w->txn, "rx", ep, err, sizeof err) ||
        strom_netchan_open(&w->tc, w->txn, "rx", 5, 1, STROM_NETCHAN_SEND, err, sizeof err))
        fail_msg("sender: %s", err);
    for (uint64_t i = 0; i < N; i++) {
        int rc;
        size_t len = fx_batch(i, buf);
        /* The peer is silent while the broken connection lasts: keep at it. */
        while ((rc = strom_netchan_send(w->tc, buf, len, 10000)) == STROM_E_PEERDEAD)
            rx_still_there(w);
        assert_int_equal(rc, 0);
    }
    while ((status = strom_netchan_finish(w->tc, 20000)) == STROM_E_PEERDEAD)
        rx_still_there(w);
    assert_int_equal(status, 0);
    status = fx_rx_finish(&w->rx, &res, 20000);
    w->rx.pid = 0;
    fprintf(stderr,
            "  receiver: %llu delivered, %llu bad, %llu handshake failures, %llu "
            "disconnects\n",
            (unsigned long long)res.delivered, (unsigned long long)res.bad,
            (unsigned long long)res.st.handshake_failures, (unsigned long long)res.st.disconnects);
    assert_int_equal(res.bad, 0);
    assert_int_equal(res.delivered, N);
    assert_true(res.st.handshake_failures + res.st.disconnects >= 1); /* dropped, reported */
    assert_int_equal(status, 0);
}

/* The peer's process dies: after dead_ms of silence it is reported dead, and a send that
 * waits for room returns STROM_E_PEERDEAD instead of waiting for ever. */
static void test_dead_peer(void **st)
{
    struct world *w = *st;
    struct fx_rx rx = {
        .keys = w->keys, .name = "rx", .peer = "tx", .chan = 5, .n = 1, .pause_ms = 60000};
    struct strom_net_config ct = {.keys_dir = w->keys,
                                  .name = "tx",
                                  .window_batches = 8,
                                  .heartbeat_ms = 100,
                                  .dead_ms = 700,
                                  .log = fx_log_fn,
                                  .log_arg = &w->log_tx};
    uint8_t buf[32] = {0};
    char err[512] = "";
    double t0;
    int rc;

    fx_rx_start(&w->rx, &rx);
    if (strom_net_new(&w->txn, &ct, err, sizeof err) ||
        strom_net_connect(w->txn, "rx", w->rx.endpoint, err, sizeof err) ||
        strom_netchan_open(&w->tc, w->txn, "rx", 5, 1, STROM_NETCHAN_SEND, err, sizeof err))
        fail_msg("sender: %s", err);
    for (int i = 0; i < 8; i++)
        assert_int_equal(strom_netchan_send(w->tc, buf, sizeof buf, 1000), 0);
    fx_sleep_ms(300);
    assert_int_equal(strom_net_peer_alive(w->txn, "rx"), 1); /* heartbeats keep it alive */
    fx_kill(w->rx.pid);
    close(w->rx.fd);
    w->rx.pid = 0;
    t0 = now_ms();
    rc = strom_netchan_send(w->tc, buf, sizeof buf, 5000);
    assert_int_equal(rc, STROM_E_PEERDEAD);
    assert_true(now_ms() - t0 < 3000);
    assert_int_equal(strom_net_peer_alive(w->txn, "rx"), 0);
    assert_int_equal(strom_net_peer_alive(w->txn, "nobody"), STROM_E_NOTFOUND);
    assert_true(fx_log_has(&w->log_tx, "peer rx silent for"));
    assert_int_equal(strom_netchan_finish(w->tc, 1000), STROM_E_PEERDEAD);
}

/* Insecure works, and says loudly what it is, on both sides, each time. */
static void test_insecure_warns(void **st)
{
    struct world *w = *st;
    struct strom_net_config extra = {0};
    struct reader r = {0};
    static uint8_t buf[16384];
    pthread_t th;

    pair(w, &extra, NULL, "tx", 1, 1);
    r.c = w->rc;
    assert_int_equal(pthread_create(&th, NULL, read_all, &r), 0);
    for (uint64_t i = 0; i < 1000; i++) {
        memset(buf, (int)(i & 0xff), sizeof buf);
        assert_int_equal(strom_netchan_send(w->tc, buf, sizeof buf, 10000), 0);
    }
    assert_int_equal(strom_netchan_finish(w->tc, 10000), 0);
    pthread_join(th, NULL);
    assert_int_equal(r.delivered, 1000);
    assert_int_equal(r.bad, 0);
    assert_true(fx_log_has(&w->log_rx, "WARNING: INSECURE MODE"));
    assert_true(fx_log_has(&w->log_rx, "WARNING: INSECURE listening socket"));
    assert_true(fx_log_has(&w->log_tx, "WARNING: INSECURE MODE"));
    assert_true(fx_log_has(&w->log_tx, "WARNING: INSECURE connection to rx"));
}

/* An insecure client gets nothing through to a CURVE server. */
static void test_insecure_client_refused(void **st)
{
    struct world *w = *st;
    struct strom_net_config extra = {0};
    struct strom_net_batch b;
    struct strom_net_stats s;
    uint8_t buf[8] = {0};

    pair(w, &extra, NULL, "tx", 0, 1);
    assert_int_equal(strom_netchan_send(w->tc, buf, sizeof buf, 0), 0);
    assert_int_equal(strom_netchan_recv(w->rc, &b, 1000), -EAGAIN);
    strom_net_stats(w->rxn, &s);
    assert_int_equal(s.frames_in, 0);
}

static void *kick_later(void *arg)
{
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    strom_netchan_kick(arg);
    return NULL;
}

/* A kick ends a wait in recv at once (-EAGAIN), or the next wait if none is under way; a
 * recv that does not wait leaves it; once used, batches flow as before. */
static void test_kick(void **st)
{
    struct world *w = *st;
    struct strom_net_config extra = {0};
    struct strom_net_batch b;
    uint8_t buf[8] = {7};
    pthread_t th;
    double t;

    pair(w, &extra, w->keys, "tx", 0, 0);
    assert_int_equal(pthread_create(&th, NULL, kick_later, w->rc), 0);
    t = now_ms();
    assert_int_equal(strom_netchan_recv(w->rc, &b, 10000), -EAGAIN);
    t = now_ms() - t;
    pthread_join(th, NULL);
    assert_true(t >= 150 && t < 5000);

    strom_netchan_kick(w->rc);
    assert_int_equal(strom_netchan_recv(w->rc, &b, 0), -EAGAIN);
    t = now_ms();
    assert_int_equal(strom_netchan_recv(w->rc, &b, 10000), -EAGAIN);
    assert_true(now_ms() - t < 1000);

    assert_int_equal(strom_netchan_send(w->tc, buf, sizeof buf, 5000), 0);
    assert_int_equal(strom_netchan_recv(w->rc, &b, 10000), 0);
    assert_int_equal(b.len, sizeof buf);
    assert_int_equal(((const uint8_t *)b.data)[0], 7);
    strom_net_batch_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_altered_byte_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insecure_warns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insecure_client_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kick, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
