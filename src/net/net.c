/*
 * net/net.c: a net's life (strom_net_new / strom_net_free) and what the application may
 * ask of it besides channels. The order of creation matters: identity and allowlist, the
 * context, ZAP (before any CURVE socket can bind), then the I/O thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/errf.h"
#include "net/net_int.h"
#include "strom/error.h"

int strom_net_new(struct strom_net **out, const struct strom_net_config *cfg, char *err,
                  size_t errlen)
{
    struct strom_net *n;
    int rc;

    *out = NULL;
    if ((rc = strom_key_name_check(cfg->name, err, errlen)))
        return rc;
    if (!cfg->insecure && (!cfg->keys_dir || !*cfg->keys_dir))
        return strom__errf(err, errlen, STROM_E_INVAL,
                           "net: a keys directory is needed (or insecure mode, for "
                           "measurements only)");
    n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    n->efd = -1;
    n->cfg = *cfg;
    snprintf(n->name, sizeof n->name, "%s", cfg->name);
    n->cfg.name = n->name;
    if (cfg->keys_dir)
        snprintf(n->keys_dir, sizeof n->keys_dir, "%s", cfg->keys_dir);
    n->cfg.keys_dir = n->keys_dir;
    if (!n->cfg.window_batches)
        n->cfg.window_batches = 1024;
    if (!n->cfg.window_bytes)
        n->cfg.window_bytes = 32u << 20;
    if (!n->cfg.max_batch)
        n->cfg.max_batch = 4u << 20;
    if (n->cfg.max_batch > n->cfg.window_bytes)
        n->cfg.max_batch = n->cfg.window_bytes;
    if (n->cfg.max_batch > STROM_FRAME_MAX_PAYLOAD)
        n->cfg.max_batch = STROM_FRAME_MAX_PAYLOAD;
    if (!n->cfg.heartbeat_ms)
        n->cfg.heartbeat_ms = 500;
    if (!n->cfg.dead_ms)
        n->cfg.dead_ms = 5000;
    if (!n->cfg.resend_ms)
        n->cfg.resend_ms = 500;
    if (n->cfg.window_batches > (1u << 24)) {
        rc = strom__errf(err, errlen, STROM_E_INVAL, "net: window of %u batches is too large",
                         n->cfg.window_batches);
        goto fail;
    }
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cmd_cond, NULL);
    if (!n->cfg.insecure) {
        if (!zmq_has("curve")) {
            rc = strom__errf(err, errlen, STROM_E_INVAL, "net: this libzmq has no CURVE");
            goto fail_locks;
        }
        if ((rc = strom_identity_load(&n->id, n->keys_dir, n->name, err, errlen)) ||
            (rc = strom_allowlist_load(&n->allow, n->keys_dir, err, errlen)))
            goto fail_locks;
    }
    n->ctx = zmq_ctx_new();
    if (!n->ctx) {
        rc = strom__errf(err, errlen, -errno, "zmq_ctx_new: %s", zmq_strerror(errno));
        goto fail_locks;
    }
    /* ZAP first: a CURVE server without a handler would admit anyone. */
    if (!n->cfg.insecure &&
        (rc = strom_zap_new(&n->zap, n->ctx, n->allow, n->cfg.log, n->cfg.log_arg, err, errlen)))
        goto fail_ctx;
    n->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->efd < 0) {
        rc = strom__errf(err, errlen, -errno, "eventfd: %s", strerror(errno));
        goto fail_zap;
    }
    if ((rc = strom_net__io_start(n, err, errlen)))
        goto fail_zap;
    if (n->cfg.insecure)
        strom_net__log(n, "WARNING: INSECURE MODE: no encryption, no authentication: for "
                          "measurements only, never with real data");
    *out = n;
    return 0;
fail_zap:
    if (n->efd >= 0)
        close(n->efd);
    strom_zap_free(n->zap);
fail_ctx:
    zmq_ctx_term(n->ctx);
fail_locks:
    pthread_cond_destroy(&n->cmd_cond);
    pthread_mutex_destroy(&n->mu);
fail:
    strom_allowlist_free(n->allow);
    strom_identity_release(&n->id);
    free(n);
    return rc;
}

void strom_net_free(struct strom_net *n)
{
    if (!n)
        return;
    for (;;) {
        struct strom_netchan *c = NULL;
        pthread_mutex_lock(&n->mu);
        for (size_t i = 0; i < n->nchans && !c; i++)
            if (n->chans[i]->state != CH_CLOSING)
                c = n->chans[i];
        pthread_mutex_unlock(&n->mu);
        if (!c)
            break;
        strom_netchan_close(c);
    }
    strom_net__io_stop(n);
    strom_zap_free(n->zap);
    zmq_ctx_term(n->ctx);
    close(n->efd);
    for (size_t i = 0; i < n->npeers; i++)
        free(n->peers[i]);
    free(n->peers);
    free(n->chans);
    free(n->flush_work);
    strom_allowlist_free(n->allow);
    strom_identity_release(&n->id);
    pthread_cond_destroy(&n->cmd_cond);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

int strom_net_peer_alive(struct strom_net *n, const char *name)
{
    int rc = STROM_E_NOTFOUND;

    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->npeers; i++)
        if (!strcmp(n->peers[i]->name, name))
            rc = !n->peers[i]->dead;
    pthread_mutex_unlock(&n->mu);
    return rc;
}

void strom_net_stats(struct strom_net *n, struct strom_net_stats *st)
{
    memset(st, 0, sizeof *st);
#define GET(f) st->f = atomic_load_explicit(&n->st.f, memory_order_relaxed)
    GET(frames_out);
    GET(frames_in);
    GET(data_out);
    GET(data_resent);
    GET(delivered);
    GET(duplicates);
    GET(out_of_order);
    GET(rewinds);
    GET(refused);
    GET(connects);
    GET(disconnects);
    GET(handshake_failures);
    GET(peers_dead);
#undef GET
    strom_zap_counts(n->zap, &st->zap_admitted, &st->zap_refused);
}

void strom_net_cancel(struct strom_net *n)
{
    pthread_mutex_lock(&n->mu);
    n->cancelled = 1;
    for (size_t i = 0; i < n->nchans; i++)
        pthread_cond_broadcast(&n->chans[i]->cond);
    pthread_mutex_unlock(&n->mu);
}
