/*
 * net/net_int.h: what net/io.c (the I/O thread, sockets, peers) and net/channel.c (the
 * channels' state machines and the application-side calls) share. Thread and lock rules
 * are in net/channel.h; each field below says who touches it.
 */
#ifndef STROM_NET_NET_INT_H
#define STROM_NET_NET_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <zmq.h>

#include "net/channel.h"
#include "net/frame.h"
#include "net/keys.h"

#define STROM_NET_MAX_PEERS 1024

/* One other process. Fields under n->mu unless marked. */
struct strom_net__peer {
    char name[STROM_KEY_NAME_MAX + 1];
    void *dealer;  /* I/O thread: our connection to this peer, or NULL: via the ROUTER */
    void *monitor; /* I/O thread: the dealer's monitor events */
    int routable;  /* ROUTER side: heard from, so its routing id is known */
    int dead;      /* reported dead, not heard from since */
    int64_t last_heard, last_beat; /* ms, monotonic */
};

/* A batch in a sender's window: the encoded frame, header and payload. */
struct strom_net__out {
    size_t len; /* frame bytes */
    uint8_t frame[];
};

/* A batch queued for the receiving application. */
struct strom_net__in {
    struct strom_net__in *next;
    uint64_t seq;
    zmq_msg_t msg;
};

/*
 * Channel states (docs/internals/net.md). A sender is OPEN until strom_netchan_finish
 * (FINISHING: BYE follows the last batch) and DONE once the receiver acknowledged every
 * batch and the BYE. A receiver is OPEN until it has the BYE (FINISHING) and DONE once the
 * application took the last batch. CLOSING: strom_netchan_close waits for the I/O thread to
 * let go of it.
 */
enum strom_net__cstate { CH_OPEN, CH_FINISHING, CH_DONE, CH_CLOSING, CH_GONE };

struct strom_netchan {
    struct strom_net *net;
    struct strom_net__peer *peer;
    uint32_t id;
    uint64_t epoch;
    enum strom_netchan_role role;
    enum strom_net__cstate state;
    pthread_cond_t cond; /* the application waits here: room, a batch, the end */
    /* sender */
    struct strom_net__out **win; /* win_cap slots, seq % win_cap */
    size_t win_cap, win_bytes;
    uint64_t acked;     /* every seq below it was delivered */
    uint64_t next_seq;  /* the seq the next strom_netchan_send takes */
    uint64_t send_ptr;  /* I/O thread only: the next seq to transmit */
    uint64_t sent_hw;   /* I/O thread only: highest send_ptr reached (for counting resends) */
    uint64_t hello_ptr; /* I/O thread only: send_ptr when the last HELLO left */
    uint64_t resend_end, resume_ptr; /* I/O thread only: resending [.., resend_end), then
                                      * on from resume_ptr (resume_ptr 0: no such plan) */
    int hello_wanted, bye_wanted, bye_acked;
    int64_t last_progress; /* ms: last ACK from the receiver, or HELLO sent */
    /* receiver */
    struct strom_net__in *q_head, *q_tail;
    size_t q_count, q_bytes;
    uint64_t expected; /* next seq accepted from the wire */
    uint64_t consumed; /* next seq the application takes */
    uint64_t ack_sent; /* `consumed` in the last ACK sent */
    size_t ack_bytes;  /* payload bytes taken since the last ACK */
    int ack_wanted, rewind_wanted, where_wanted, gap_suppress, full_dropped, bye_seen;
    int kicked; /* strom_netchan_kick: the next wait in strom_netchan_recv ends at once */
    uint64_t bye_seq;
};

struct strom_net {
    struct strom_net_config cfg; /* defaults filled in; strings copied below */
    char name[STROM_KEY_NAME_MAX + 1];
    char keys_dir[4096];
    struct strom_identity id;
    struct strom_allowlist *allow;
    void *ctx;
    struct strom_zap *zap;

    pthread_mutex_t mu;
    pthread_cond_t cmd_cond;
    struct strom_net__peer **peers; /* under mu; peers live until the net is freed */
    size_t npeers, peers_cap;
    struct strom_netchan **chans; /* under mu */
    size_t nchans, chans_cap;
    int cancelled;

    /* A function the I/O thread runs for an application thread (listen, connect). */
    struct strom_net__cmd *cmd; /* under mu */

    pthread_t io;
    int io_running;
    int efd;                 /* eventfd: wakes the I/O thread */
    atomic_int wake_pending; /* coalesces wakes into one write */
    atomic_int stop;
    void *router, *router_mon; /* I/O thread */
    unsigned mon_seq;          /* I/O thread: names of monitor endpoints */
    unsigned refusals_logged;  /* I/O thread: refusals are logged, then only sampled */
    void *flush_work;          /* I/O thread: channel.c's scratch space */
    size_t flush_cap;

    struct {
        _Atomic uint64_t frames_out, frames_in, data_out, data_resent, delivered, duplicates,
            out_of_order, rewinds, refused, connects, disconnects, handshake_failures, peers_dead;
    } st;
};

struct strom_net__cmd {
    int (*fn)(struct strom_net *n, void *arg, char *err, size_t errlen);
    void *arg;
    char *err;
    size_t errlen;
    int rc, done;
};

/* io.c */
int64_t strom_net__now_ms(void);
void strom_net__wake(struct strom_net *n);
void strom_net__log(struct strom_net *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int strom_net__io_start(struct strom_net *n, char *err, size_t errlen);
void strom_net__io_stop(struct strom_net *n);
int strom_net__run_cmd(struct strom_net *n, int (*fn)(struct strom_net *, void *, char *, size_t),
                       void *arg, char *err, size_t errlen);
/* Counts (and logs, while they are few) a refused message. */
void strom_net__refuse(struct strom_net *n, const char *from, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Under mu: the peer called name, made (unroutable, not connected) if new; NULL if full. */
struct strom_net__peer *strom_net__peer_get(struct strom_net *n, const char *name);
#define strom_net__count(n, field)                                                                 \
    atomic_fetch_add_explicit(&(n)->st.field, 1, memory_order_relaxed)

/* channel.c, called by the I/O thread */
/* A decoded frame of a channel from peer p (msg holds it; DATA may take it). Under mu. */
void strom_net__chan_input(struct strom_net *n, struct strom_net__peer *p,
                           const struct strom_frame *f, zmq_msg_t *msg);
/* Frees what the I/O thread must free: channels being closed. Under mu. */
void strom_net__chan_reap(struct strom_net *n);
/* Timers: HELLO after resend_ms of silence. Under mu. */
void strom_net__chan_timers(struct strom_net *n, int64_t now);
/* A connection to p came (back): senders say HELLO, receivers REWIND. Under mu. */
void strom_net__chan_reconnected(struct strom_net *n, struct strom_net__peer *p);
/* Wakes everything waiting on p's channels (p died, or the net was cancelled). Under mu. */
void strom_net__chan_wake_peer(struct strom_net *n, struct strom_net__peer *p);
/* The channel of peer p with this id and role that is not closing, or NULL. Under mu. */
struct strom_netchan *strom_net__find_chan(struct strom_net *n, struct strom_net__peer *p,
                                           uint32_t id, enum strom_netchan_role role);
/* Sends what the channels have to send: 0 all sent, 1 some waits for room in ZeroMQ, 2 more
 * to send at once (a channel used up its share of this turn). I/O thread, without mu. */
int strom_net__chan_flush(struct strom_net *n);
/* Sends one frame to p: 0, -EAGAIN (ZeroMQ's queue is full), -EHOSTUNREACH (no
 * connection: the frame is lost, recovery resends it). I/O thread, without mu. */
int strom_net__send(struct strom_net *n, struct strom_net__peer *p, const void *buf, size_t len);

#endif
