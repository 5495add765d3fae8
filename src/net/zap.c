/* net/zap.c: the ZAP handler (rule and threads in net/zap.h). */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "core/errf.h"
#include "net/keys.h"
#include "net/zap.h"
#include "strom/error.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_MAX_PARTS 8 /* version ... one CURVE credential: 7 parts */

struct strom_zap {
    void *ctx, *ctl;    /* ctl: the stop signal's sending end, owned by the creator */
    void *rep, *ctl_in; /* owned by the handler thread once it runs */
    char ctl_ep[64];
    const struct strom_allowlist *al;
    strom_net_log_fn log;
    void *log_arg;
    pthread_t thread;
    _Atomic uint64_t admitted, refused;
};

static void zlog(struct strom_zap *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void zlog(struct strom_zap *z, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!z->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    z->log(z->log_arg, msg);
}

static void send_part(void *s, const void *p, size_t n, int more)
{
    zmq_send(s, p, n, more ? ZMQ_SNDMORE : 0);
}

/* One request (parts[0..n)), one reply. */
static void answer(struct strom_zap *z, zmq_msg_t *parts, int n)
{
    const char *status = "400", *text = "not allowed", *user = "";
    char addr[64] = "?", key[STROM_KEY_Z85_LEN + 1] = "?", mech[16] = "?";
    const char *name;

    if (n < 6 || zmq_msg_size(&parts[0]) != 3 || memcmp(zmq_msg_data(&parts[0]), "1.0", 3)) {
        /* Not a request we can answer in kind; RFC 27 wants a reply all the same. */
        text = "malformed ZAP request";
        zlog(z, "zap: refused a malformed request (%d parts)", n);
        goto reply;
    }
    snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&parts[3]),
             (const char *)zmq_msg_data(&parts[3]));
    snprintf(mech, sizeof mech, "%.*s", (int)zmq_msg_size(&parts[5]),
             (const char *)zmq_msg_data(&parts[5]));
    if (strcmp(mech, "CURVE") || n != 7 || zmq_msg_size(&parts[6]) != STROM_KEY_BYTES) {
        text = "only CURVE clients are admitted";
        zlog(z, "zap: refused a %s client from %s: only CURVE is admitted", mech, addr);
        goto reply;
    }
    zmq_z85_encode(key, zmq_msg_data(&parts[6]), STROM_KEY_BYTES);
    name = strom_allowlist_name_of(z->al, zmq_msg_data(&parts[6]));
    if (!name) {
        text = "public key not in the allowlist";
        zlog(z, "zap: refused CURVE client %s from %s: its public key is not in the allowlist", key,
             addr);
        goto reply;
    }
    status = "200";
    text = "OK";
    user = name;
reply:
    if (status[0] == '2')
        atomic_fetch_add(&z->admitted, 1);
    else
        atomic_fetch_add(&z->refused, 1);
    send_part(z->rep, "1.0", 3, 1);
    if (n >= 2)
        send_part(z->rep, zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), 1);
    else
        send_part(z->rep, "", 0, 1);
    send_part(z->rep, status, 3, 1);
    send_part(z->rep, text, strlen(text), 1);
    send_part(z->rep, user, strlen(user), 1);
    send_part(z->rep, "", 0, 0);
}

static void *zap_main(void *arg)
{
    struct strom_zap *z = arg;
    zmq_msg_t parts[ZAP_MAX_PARTS];

    for (;;) {
        zmq_pollitem_t it[2] = {{z->rep, 0, ZMQ_POLLIN, 0}, {z->ctl_in, 0, ZMQ_POLLIN, 0}};
        int n = 0, more = 1;

        if (zmq_poll(it, 2, -1) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break;
        }
        if (it[1].revents & ZMQ_POLLIN)
            break;
        if (!(it[0].revents & ZMQ_POLLIN))
            continue;
        /* Read every part; parts past ZAP_MAX_PARTS are read and dropped. */
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, z->rep, 0) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            if (n < ZAP_MAX_PARTS) {
                zmq_msg_init(&parts[n]);
                zmq_msg_move(&parts[n++], &m);
            } else {
                n = ZAP_MAX_PARTS + 1; /* too many: malformed */
            }
            zmq_msg_close(&m);
        }
        answer(z, parts, n > ZAP_MAX_PARTS ? 0 : n);
        for (int i = 0; i < n && i < ZAP_MAX_PARTS; i++)
            zmq_msg_close(&parts[i]);
    }
    zmq_close(z->rep);
    zmq_close(z->ctl_in);
    return NULL;
}

int strom_zap_new(struct strom_zap **out, void *zmq_ctx, const struct strom_allowlist *al,
                  strom_net_log_fn log, void *log_arg, char *err, size_t errlen)
{
    struct strom_zap *z;
    int linger = 0, rc;

    *out = NULL;
    z = calloc(1, sizeof *z);
    if (!z)
        return -ENOMEM;
    z->ctx = zmq_ctx;
    z->al = al;
    z->log = log;
    z->log_arg = log_arg;
    snprintf(z->ctl_ep, sizeof z->ctl_ep, "inproc://strom-zap-ctl-%p", (void *)z);
    z->rep = zmq_socket(zmq_ctx, ZMQ_REP);
    z->ctl_in = zmq_socket(zmq_ctx, ZMQ_PAIR);
    z->ctl = zmq_socket(zmq_ctx, ZMQ_PAIR);
    if (!z->rep || !z->ctl_in || !z->ctl) {
        rc = strom__errf(err, errlen, -zmq_errno(), "zap: zmq_socket: %s",
                         zmq_strerror(zmq_errno()));
        goto fail;
    }
    zmq_setsockopt(z->rep, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(z->ctl, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(z->ctl_in, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(z->rep, ZAP_ENDPOINT) < 0) {
        rc = strom__errf(err, errlen, -zmq_errno(), "zap: bind %s: %s", ZAP_ENDPOINT,
                         zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (zmq_bind(z->ctl_in, z->ctl_ep) < 0 || zmq_connect(z->ctl, z->ctl_ep) < 0) {
        rc = strom__errf(err, errlen, -zmq_errno(), "zap: control pair: %s",
                         zmq_strerror(zmq_errno()));
        goto fail;
    }
    if ((rc = pthread_create(&z->thread, NULL, zap_main, z))) {
        rc = strom__errf(err, errlen, -rc, "zap: pthread_create: %s", strerror(rc));
        goto fail;
    }
    *out = z;
    return 0;
fail:
    if (z->rep)
        zmq_close(z->rep);
    if (z->ctl_in)
        zmq_close(z->ctl_in);
    if (z->ctl)
        zmq_close(z->ctl);
    free(z);
    return rc;
}

void strom_zap_free(struct strom_zap *z)
{
    if (!z)
        return;
    zmq_send(z->ctl, "", 0, 0);
    pthread_join(z->thread, NULL);
    zmq_close(z->ctl);
    free(z);
}

void strom_zap_counts(struct strom_zap *z, uint64_t *admitted, uint64_t *refused)
{
    *admitted = z ? atomic_load(&z->admitted) : 0;
    *refused = z ? atomic_load(&z->refused) : 0;
}
