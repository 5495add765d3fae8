/* Channels between two processes (net/channel.h): 200k batches arrive exactly once and in
 * order; and so they do when the TCP path breaks twice in the middle of the stream (a relay
 * process killed and restarted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net_fixture.h"

#define N 200000

struct world {
    char *base, *keys;
    struct fx_child rx;
    pid_t relay;
    struct fx_log log;
    struct strom_net *n;
    struct strom_netchan *c;
};

static int setup(void **st)
{
    static const char *const names[] = {"rx", "tx", NULL};
    struct world *w = calloc(1, sizeof *w);
    w->base = tu_tempdir();
    w->keys = fx_keys(w->base, "keys", names);
    fx_log_init(&w->log);
    *st = w;
    return 0;
}

/* Runs even when a test fails: no child outlives its test. */
static int teardown(void **st)
{
    struct world *w = *st;
    strom_netchan_close(w->c);
    strom_net_free(w->n);
    fx_kill(w->relay);
    if (w->rx.pid > 0) {
        fx_kill(w->rx.pid);
        close(w->rx.fd);
    }
    tu_rmtree(w->base);
    free(w->base);
    free(w->keys);
    free(w);
    return 0;
}

static void open_sender(struct world *w, const char *endpoint, const struct strom_net_config *extra)
{
    struct strom_net_config cfg = *extra;
    char err[512] = "";
    cfg.keys_dir = w->keys;
    cfg.name = "tx";
    cfg.log = fx_log_fn;
    cfg.log_arg = &w->log;
    if (strom_net_new(&w->n, &cfg, err, sizeof err) ||
        strom_net_connect(w->n, "rx", endpoint, err, sizeof err) ||
        strom_netchan_open(&w->c, w->n, "rx", 3, 1, STROM_NETCHAN_SEND, err, sizeof err))
        fail_msg("sender: %s", err);
}

static void send_range(struct world *w, uint64_t from, uint64_t to)
{
    uint8_t buf[128];
    for (uint64_t i = from; i < to; i++) {
        size_t len = fx_batch(i, buf);
        int rc = strom_netchan_send(w->c, buf, len, 20000);
        if (rc)
            fail_msg("send %llu: %s", (unsigned long long)i, strom_strerror(rc));
    }
}

static void finish_and_check(struct world *w)
{
    struct fx_rx_result res;
    struct strom_net_stats st;
    int rc = strom_netchan_finish(w->c, 30000), status;

    if (rc)
        fail_msg("finish: %s", strom_strerror(rc));
    status = fx_rx_finish(&w->rx, &res, 30000);
    w->rx.pid = 0;
    strom_net_stats(w->n, &st);
    fprintf(stderr,
            "  receiver: %llu delivered, %llu bad, %llu duplicates dropped, %llu out of order "
            "dropped, %llu disconnects; sender: %llu DATA frames, %llu resent, %llu rewinds\n",
            (unsigned long long)res.delivered, (unsigned long long)res.bad,
            (unsigned long long)res.st.duplicates, (unsigned long long)res.st.out_of_order,
            (unsigned long long)res.st.disconnects, (unsigned long long)st.data_out,
            (unsigned long long)st.data_resent, (unsigned long long)st.rewinds);
    assert_int_equal(res.bad, 0);
    assert_int_equal(res.delivered, N);
    assert_int_equal(res.rc, STROM_E_CLOSED);
    assert_int_equal(res.st.delivered, N);
    assert_int_equal(status, 0);
}

static void test_200k_exactly_once(void **st)
{
    struct world *w = *st;
    struct fx_rx rx = {.keys = w->keys, .name = "rx", .peer = "tx", .chan = 3, .n = N};
    struct strom_net_config extra = {0};

    fx_rx_start(&w->rx, &rx);
    open_sender(w, w->rx.endpoint, &extra);
    send_range(w, 0, N);
    finish_and_check(w);
}

/* The relay dies twice mid-stream (frames in flight are lost with it) and comes back on the
 * same port: ZeroMQ reconnects, HELLO/REWIND resend from where the receiver is. */
static void test_relay_killed_mid_stream(void **st)
{
    struct world *w = *st;
    struct fx_rx rx = {.keys = w->keys, .name = "rx", .peer = "tx", .chan = 3, .n = N};
    struct strom_net_config extra = {.resend_ms = 200, .heartbeat_ms = 100, .dead_ms = 10000};
    struct fx_rx_result res;
    int port = 0;
    char ep[64];
    struct strom_net_stats s;

    rx.cfg = extra;
    fx_rx_start(&w->rx, &rx);
    w->relay = fx_relay_start(&port, fx_port_of(w->rx.endpoint), -1);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    open_sender(w, ep, &extra);
    send_range(w, 0, N / 3);
    fx_kill(w->relay);
    fx_sleep_ms(150);
    w->relay = fx_relay_start(&port, fx_port_of(w->rx.endpoint), -1);
    send_range(w, N / 3, 2 * N / 3);
    fx_kill(w->relay);
    fx_sleep_ms(150);
    w->relay = fx_relay_start(&port, fx_port_of(w->rx.endpoint), -1);
    send_range(w, 2 * N / 3, N);
    strom_net_stats(w->n, &s);
    assert_true(s.disconnects >= 2); /* the path really broke, twice */
    finish_and_check(w);
    (void)res;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_200k_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_killed_mid_stream, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
