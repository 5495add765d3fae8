/*
 * net/channel.h: reliable, ordered, exactly-once streams of byte batches between processes,
 * over ZeroMQ TCP with CURVE. The protocol's state machine and diagrams are in
 * docs/internals/net.md; the wire frame in net/frame.h.
 *
 * A process has one struct strom_net: a ZeroMQ context, its identity (net/keys.h), at most
 * one listening socket, one connection to each peer it connects to, and the channels. A
 * channel is one direction of one logical stream, (peer name, channel id, role): the sender
 * opens (B, 7, SEND), the receiver (A, 7, RECV). Any number of channels share the
 * connection between two processes, in either direction.
 *
 * Promises. Every batch a sender's strom_netchan_send accepted is delivered by the receiver's
 * strom_netchan_recv exactly once and in order, across broken and re-established TCP
 * connections, as long as both processes live. The receiver delivers sequence number
 * `expected` only and drops duplicates; it acknowledges cumulatively what the application
 * took. The sender keeps every unacknowledged batch in a window bounded by count and bytes;
 * a full window is backpressure: strom_netchan_send waits (up to its timeout) and then returns
 * -EAGAIN; it never drops and never grows. When a connection comes back, or nothing was
 * heard for resend_ms, the sender's HELLO makes the receiver answer where it is (an ACK
 * with REWIND), and the sender resends from there. Each process sends HEARTBEATs; a peer
 * silent for dead_ms is reported dead (log, strom_net_peer_alive, STROM_E_PEERDEAD from a
 * call that would otherwise wait on it), and alive again when it is heard from.
 *
 * Security. By default every connection is CURVE: the listening side is a CURVE server
 * whose ZAP handler (net/zap.h) admits only allowlisted keys, and a message's ZAP user id
 * must equal the routing id it claims, so a client cannot speak for another name; the
 * connecting side must know the server's public key, looked up by the peer's name in the
 * keys directory. CURVE authenticates every message, so a byte altered in flight breaks
 * the connection instead of being delivered. `insecure` turns all of that off, for
 * measurements only, and logs a loud warning every time it is used.
 *
 * Why ROUTER/DEALER: a listening process serves many peers on one port and must address
 * each one (ACKs and DATA go back to a given peer): ROUTER does that by routing id, which
 * each DEALER sets to its process's name. ROUTER_MANDATORY makes a full or absent peer an
 * error instead of a silent drop (we retry or leave it to recovery), ROUTER_HANDOVER lets a
 * reconnecting peer take its name back from a connection that has not yet been noticed
 * dead. A DEALER connects to one server and queues while reconnecting. PUSH/PULL cannot
 * answer, REQ/REP would lock-step, and PAIR does not reconnect well.
 *
 * Threads. One I/O thread per strom_net owns every ZeroMQ socket (the ROUTER, the DEALERs,
 * their monitor sockets): only it creates, uses and closes them; listen and connect run on
 * it as commands. Application threads call strom_chan_* under the net's lock and wake the
 * I/O thread through an eventfd. The ZAP handler has its own thread (net/zap.h); libzmq has
 * its own I/O thread, where CURVE encrypts.
 *
 * Lock. One mutex per net guards the channel table, the peer table and all channel state.
 * It is the only lock, so there is no order to get wrong; the ZAP handler takes none. The
 * I/O thread drops it while it talks to ZeroMQ. log callbacks run on the I/O or ZAP thread,
 * possibly under the lock: they must not call into strom_net / strom_netchan.
 *
 * The end. strom_netchan_finish returns once the receiver acknowledged every batch and the
 * BYE. A receiver that got STROM_E_CLOSED should keep its net a moment longer if the path
 * may break: its final ACK is resent (on the sender's HELLO) only while it lives.
 * strom_net_free gives queued last words 250 ms to leave.
 *
 * Ownership. strom_netchan_send copies the caller's bytes (the window owns the copy);
 * strom_netchan_recv hands the caller a batch that the caller must release with
 * strom_net_batch_release; everything else borrows. Window entries are written by the
 * sending application thread, and read, resent and freed only by the I/O thread.
 * Channels must be closed before their net is freed (strom_net_free closes any left).
 */
#ifndef STROM_NET_CHANNEL_H
#define STROM_NET_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "net/zap.h"

struct strom_net;
struct strom_netchan;

struct strom_net_config {
    const char *keys_dir;    /* --keys DIR: identity NAME.key/.pub, allowlist *.pub */
    const char *name;        /* --name NAME: this process (key pair, routing id) */
    int insecure;            /* no CURVE, no ZAP, no keys: for measurements only */
    unsigned window_batches; /* unacknowledged batches per send channel; 0 = 1024 */
    size_t window_bytes;     /* unacknowledged payload bytes per send channel; 0 = 32 MiB */
    size_t max_batch;        /* largest batch; 0 = 4 MiB; at most window_bytes */
    unsigned heartbeat_ms;   /* 0 = 500 */
    unsigned dead_ms;        /* a peer silent this long is dead; 0 = 5000 */
    unsigned resend_ms;      /* no word from the receiver this long: HELLO; 0 = 500 */
    strom_net_log_fn log;    /* NULL: silence */
    void *log_arg;
};

/* Counters of one net since it was created. */
struct strom_net_stats {
    uint64_t frames_out, frames_in;
    uint64_t data_out, data_resent; /* DATA frames sent, of which resends */
    uint64_t delivered;             /* batches handed to strom_netchan_recv's callers */
    uint64_t duplicates;            /* DATA below `expected`, dropped */
    uint64_t out_of_order;          /* DATA above `expected` (after a loss), dropped */
    uint64_t rewinds;               /* REWINDs acted on by senders */
    uint64_t refused;               /* frames refused: malformed, wrong epoch, unknown */
    uint64_t connects, disconnects; /* TCP connections made / lost (all sockets) */
    uint64_t handshake_failures;    /* CURVE/ZMTP handshakes or messages refused */
    uint64_t zap_admitted, zap_refused;
    uint64_t peers_dead; /* times a peer was reported dead */
};

enum strom_netchan_role { STROM_NETCHAN_SEND = 1, STROM_NETCHAN_RECV = 2 };

/* A received batch: data/len borrowed until strom_net_batch_release. */
struct strom_net_batch {
    const void *data;
    size_t len;
    uint64_t seq;
    void *priv_; /* the message holding the bytes */
};

int strom_net_new(struct strom_net **out, const struct strom_net_config *cfg, char *err,
                  size_t errlen);
/* Closes every channel and socket, stops the threads. Accepts NULL. */
void strom_net_free(struct strom_net *n);

/* Binds the listening socket, e.g. "tcp://127.0.0.1:*"; the endpoint actually bound (with
 * its port) goes into bound. One listening socket per net. */
int strom_net_listen(struct strom_net *n, const char *endpoint, char *bound, size_t boundlen,
                     char *err, size_t errlen);
/* Connects to the peer called name at endpoint (its public key from the keys directory). */
int strom_net_connect(struct strom_net *n, const char *name, const char *endpoint, char *err,
                      size_t errlen);
/* 1 alive, 0 reported dead, STROM_E_NOTFOUND for a name never seen. */
int strom_net_peer_alive(struct strom_net *n, const char *name);
void strom_net_stats(struct strom_net *n, struct strom_net_stats *st);
/* Makes every waiting and future blocking call return -ECANCELED (the stop option). */
void strom_net_cancel(struct strom_net *n);

int strom_netchan_open(struct strom_netchan **out, struct strom_net *n, const char *peer, uint32_t id,
                    uint64_t epoch, enum strom_netchan_role role, char *err, size_t errlen);
/* Waits for nothing; discards what is not yet acknowledged. Accepts NULL. */
void strom_netchan_close(struct strom_netchan *c);

/*
 * timeout_ms for the calls below: -1 waits as long as it takes, 0 does not wait.
 *
 * send: copies len bytes into the window. 0; -EAGAIN: the window stayed full; -EMSGSIZE;
 * STROM_E_PEERDEAD: the window is full and the peer is dead; -ECANCELED; STROM_E_BADSTATE
 * after strom_netchan_finish.
 */
int strom_netchan_send(struct strom_netchan *c, const void *data, size_t len, int timeout_ms);
/* Sender: BYE after the last batch, then waits until the receiver took every batch and the
 * BYE. 0, -EAGAIN (timeout), STROM_E_PEERDEAD, -ECANCELED. */
int strom_netchan_finish(struct strom_netchan *c, int timeout_ms);
/* Receiver: the next batch in order. 0; -EAGAIN: none came in time; STROM_E_CLOSED: the
 * sender finished and every batch was delivered; STROM_E_PEERDEAD: none queued and the peer
 * is dead; -ECANCELED. */
int strom_netchan_recv(struct strom_netchan *c, struct strom_net_batch *b, int timeout_ms);
/* Receiver: makes a strom_netchan_recv that waits on c (or the next one that would wait)
 * return -EAGAIN at once, so that its thread can do something else first. Any thread. */
void strom_netchan_kick(struct strom_netchan *c);
void strom_net_batch_release(struct strom_net_batch *b);

#endif
