/*
 * net/zap.h: the ZAP handler (ZeroMQ RFC 27) that decides which CURVE clients a process's
 * listening sockets admit.
 *
 * The rule: a client is admitted if and only if it speaks CURVE and its long-term public key
 * is in the allowlist (every DIR/ *.pub, net/keys.h). The admitted client's ZAP user id is
 * the allowlist name of its key, so a message's "User-Id" property names its sender with
 * the authority of its key. Every refusal is logged with the client's key in Z85 and its
 * address.
 *
 * libzmq asks the handler bound at inproc://zeromq.zap.01 in the socket's context; when no
 * handler is bound, a CURVE server admits every client. So the handler must be running
 * before any CURVE socket binds: strom_zap_new returns only once its socket is bound, and
 * net/channel.h starts it first. A context has at most one handler.
 *
 * Threads: the handler runs in its own thread, which owns its REP socket and the receiving
 * end of a control pair; strom_zap_free (from the thread that called strom_zap_new) tells
 * it to stop, joins it, and closes the sending end. The allowlist is borrowed, read-only,
 * and must outlive the handler. log is called from the handler's thread.
 */
#ifndef STROM_NET_ZAP_H
#define STROM_NET_ZAP_H

#include <stddef.h>
#include <stdint.h>

struct strom_allowlist;
struct strom_zap;

typedef void (*strom_net_log_fn)(void *arg, const char *msg);

int strom_zap_new(struct strom_zap **out, void *zmq_ctx, const struct strom_allowlist *al,
                  strom_net_log_fn log, void *log_arg, char *err, size_t errlen);
void strom_zap_free(struct strom_zap *z);
/* Requests answered so far, and how many of them were refusals. */
void strom_zap_counts(struct strom_zap *z, uint64_t *admitted, uint64_t *refused);

#endif
