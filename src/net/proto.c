/*
 * net/proto.c: the channel protocol's handlers, run by the I/O thread: a frame in, by the
 * channel's role and state; the timers; and what to send (docs/internals/net.md has the
 * state machine). Every handler runs under the net's lock, except strom_net__chan_flush,
 * which gathers under it and sends without it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"
#include "strom/error.h"

#define DATA_SHARE 256 /* DATA frames one channel may send per turn of the I/O loop */

static const char *state_name(enum strom_net__cstate s)
{
    static const char *const names[] = {"OPEN", "FINISHING", "DONE", "CLOSING", "GONE"};
    return names[s];
}

/* ---- receiver ---- */

/* DATA in OPEN or FINISHING: deliver `expected` only. */
static void rx_data(struct strom_net *n, struct strom_netchan *c, const struct strom_frame *f,
                    zmq_msg_t *msg)
{
    struct strom_net__in *in;

    if (f->seq < c->expected) {
        /* Already here: a resend, or an older copy. Tell the sender where we are. */
        strom_net__count(n, duplicates);
        c->ack_wanted = 1;
        return;
    }
    if (c->bye_seen && f->seq >= c->bye_seq) {
        strom_net__refuse(n, c->peer->name, "channel %u: DATA %llu after the sender's BYE at %llu",
                          c->id, (unsigned long long)f->seq, (unsigned long long)c->bye_seq);
        return;
    }
    if (f->seq > c->expected) {
        /* A loss before this one (a broken connection): ask once for a resend from
         * `expected`; what follows until it comes is dropped quietly. */
        strom_net__count(n, out_of_order);
        if (!c->gap_suppress) {
            c->gap_suppress = 1;
            c->rewind_wanted = 1;
        }
        return;
    }
    in = malloc(sizeof *in);
    if (!in || c->q_count >= c->net->cfg.window_batches ||
        c->q_bytes + f->len > c->net->cfg.window_bytes) {
        /* No room (the sender's window is larger than ours): drop, and ask for it again
         * once the application has made room (strom_netchan_recv). */
        free(in);
        c->full_dropped = 1;
        c->gap_suppress = 1;
        if (!c->q_head) /* nothing to make room: ask now */
            c->rewind_wanted = 1;
        return;
    }
    in->next = NULL;
    in->seq = f->seq;
    zmq_msg_init(&in->msg);
    zmq_msg_move(&in->msg, msg);
    if (c->q_tail)
        c->q_tail->next = in;
    else
        c->q_head = in;
    c->q_tail = in;
    c->q_count++;
    c->q_bytes += f->len;
    c->expected++;
    c->gap_suppress = 0;
    pthread_cond_broadcast(&c->cond);
}

static void rx_hello(struct strom_net *n, struct strom_netchan *c, const struct strom_frame *f)
{
    if (f->seq > c->expected)
        /* The sender let go of batches we never had: only a receiver that lost its state
         * (a restart in the same epoch) sees this, and nothing here can mend it. */
        strom_net__refuse(n, c->peer->name,
                          "channel %u: HELLO: the sender holds batches from %llu on, but "
                          "%llu..%llu never arrived",
                          c->id, (unsigned long long)f->seq, (unsigned long long)c->expected,
                          (unsigned long long)f->seq - 1);
    /* Dropping since a gap: everything from `expected` must come again. Otherwise only
     * what was sent before the HELLO and is missing. */
    if (c->gap_suppress)
        c->rewind_wanted = 1;
    else
        c->where_wanted = 1;
}

static void rx_bye(struct strom_net *n, struct strom_netchan *c, const struct strom_frame *f)
{
    if (f->seq < c->expected || (c->bye_seen && f->seq != c->bye_seq)) {
        strom_net__refuse(n, c->peer->name, "channel %u: BYE at %llu, but %llu batches arrived%s",
                          c->id, (unsigned long long)f->seq, (unsigned long long)c->expected,
                          c->bye_seen ? " and an earlier BYE said otherwise" : "");
        return;
    }
    c->bye_seen = 1;
    c->bye_seq = f->seq;
    if (c->state == CH_OPEN)
        c->state = CH_FINISHING;
    if (f->seq > c->expected && !c->gap_suppress) {
        c->gap_suppress = 1;
        c->rewind_wanted = 1;
    }
    c->ack_wanted = 1;
    pthread_cond_broadcast(&c->cond);
}

static void receiver_input(struct strom_net *n, struct strom_netchan *c, const struct strom_frame *f,
                           zmq_msg_t *msg)
{
    switch (c->state) {
    case CH_OPEN:
    case CH_FINISHING:
        if (f->type == STROM_FRAME_DATA)
            rx_data(n, c, f, msg);
        else if (f->type == STROM_FRAME_HELLO)
            rx_hello(n, c, f);
        else if (f->type == STROM_FRAME_BYE)
            rx_bye(n, c, f);
        return;
    case CH_DONE:
        /* Everything delivered: a late copy of anything only needs the final ACK again. */
        if (f->type == STROM_FRAME_DATA)
            strom_net__count(n, duplicates);
        c->ack_wanted = 1;
        return;
    case CH_CLOSING:
    case CH_GONE:
        break;
    }
    strom_net__refuse(n, c->peer->name, "channel %u: %s in state %s", c->id,
                      strom_frame_type_name(f->type), state_name(c->state));
}

/* ---- sender ---- */

static void sender_input(struct strom_net *n, struct strom_netchan *c, const struct strom_frame *f)
{
    uint64_t r = strom_le_get64(f->payload);

    if (c->state != CH_OPEN && c->state != CH_FINISHING) {
        if (c->state != CH_DONE) /* DONE: late ACKs are expected */
            strom_net__refuse(n, c->peer->name, "channel %u: ACK in state %s", c->id,
                              state_name(c->state));
        return;
    }
    if (f->seq > r || r > c->next_seq) {
        strom_net__refuse(n, c->peer->name,
                          "channel %u: ACK of %llu (expecting %llu) but only %llu batches "
                          "were sent",
                          c->id, (unsigned long long)f->seq, (unsigned long long)r,
                          (unsigned long long)c->next_seq);
        return;
    }
    if (f->seq > c->acked) {
        for (uint64_t s = c->acked; s < f->seq; s++) {
            struct strom_net__out **slot = &c->win[s % c->win_cap];
            c->win_bytes -= (*slot)->len - STROM_FRAME_HEADER;
            free(*slot);
            *slot = NULL;
        }
        c->acked = f->seq;
        pthread_cond_broadcast(&c->cond);
    }
    c->last_progress = strom_net__now_ms();
    if ((f->flags & STROM_FRAME_F_REWIND) && r < c->send_ptr) {
        strom_net__count(n, rewinds);
        c->send_ptr = r;
        c->resume_ptr = 0;
    } else if ((f->flags & STROM_FRAME_F_WHERE) && r < c->hello_ptr && r < c->send_ptr &&
               !c->resume_ptr) {
        /* Lost: [r, hello_ptr). What left after the HELLO is behind it on the wire. */
        strom_net__count(n, rewinds);
        c->resume_ptr = c->send_ptr;
        c->resend_end = c->hello_ptr;
        c->send_ptr = r;
    }
    if (c->send_ptr < c->acked)
        c->send_ptr = c->acked;
    if (c->resume_ptr && c->resume_ptr <= c->send_ptr)
        c->resume_ptr = 0;
    if ((f->flags & STROM_FRAME_F_BYE_SEEN) && c->state == CH_FINISHING &&
        c->acked == c->next_seq) {
        c->state = CH_DONE;
        c->bye_acked = 1;
        c->bye_wanted = 0;
        pthread_cond_broadcast(&c->cond);
    }
}

void strom_net__chan_input(struct strom_net *n, struct strom_net__peer *p,
                           const struct strom_frame *f, zmq_msg_t *msg)
{
    enum strom_netchan_role role = f->type == STROM_FRAME_ACK ? STROM_NETCHAN_SEND : STROM_NETCHAN_RECV;
    struct strom_netchan *c = strom_net__find_chan(n, p, f->channel, role);

    if (!c) {
        strom_net__refuse(n, p->name, "%s for channel %u, which is not open %s here",
                          strom_frame_type_name(f->type), f->channel,
                          role == STROM_NETCHAN_SEND ? "for sending" : "for receiving");
        return;
    }
    if (f->epoch != c->epoch) {
        strom_net__refuse(n, p->name, "channel %u: %s of epoch %llu, the channel's is %llu", c->id,
                          strom_frame_type_name(f->type), (unsigned long long)f->epoch,
                          (unsigned long long)c->epoch);
        return;
    }
    if (role == STROM_NETCHAN_SEND)
        sender_input(n, c, f);
    else
        receiver_input(n, c, f, msg);
}

/* ---- timers and events ---- */

void strom_net__chan_timers(struct strom_net *n, int64_t now)
{
    for (size_t i = 0; i < n->nchans; i++) {
        struct strom_netchan *c = n->chans[i];
        int finishing = c->state == CH_FINISHING && !c->bye_acked;

        if (c->role != STROM_NETCHAN_SEND || (c->state != CH_OPEN && c->state != CH_FINISHING))
            continue;
        /* Unacknowledged batches (or BYE) and no word for resend_ms: where are you? */
        if ((c->acked < c->next_seq || finishing) &&
            now - c->last_progress >= (int64_t)n->cfg.resend_ms) {
            c->hello_wanted = 1;
            c->bye_wanted |= finishing;
            c->last_progress = now;
        }
    }
}

void strom_net__chan_reconnected(struct strom_net *n, struct strom_net__peer *p)
{
    for (size_t i = 0; i < n->nchans; i++) {
        struct strom_netchan *c = n->chans[i];
        if (c->peer != p)
            continue;
        if (c->role == STROM_NETCHAN_SEND && (c->state == CH_OPEN || c->state == CH_FINISHING)) {
            c->hello_wanted = 1;
            c->bye_wanted |= c->state == CH_FINISHING && !c->bye_acked;
        } else if (c->role == STROM_NETCHAN_RECV &&
                   (c->state == CH_OPEN || c->state == CH_FINISHING)) {
            c->rewind_wanted = 1;
        }
    }
    strom_net__wake(n);
}

void strom_net__chan_wake_peer(struct strom_net *n, struct strom_net__peer *p)
{
    for (size_t i = 0; i < n->nchans; i++)
        if (n->chans[i]->peer == p)
            pthread_cond_broadcast(&n->chans[i]->cond);
}

/* ---- sending ---- */

enum { W_ACK, W_HELLO, W_DATA };

struct work {
    struct strom_netchan *c;
    int kind;
    uint64_t upto; /* W_DATA: next_seq when gathered */
    int bye;       /* W_DATA: BYE after the data */
    size_t len;
    uint8_t buf[STROM_FRAME_HEADER + STROM_FRAME_ACK_PAYLOAD];
};

static void control(struct work *w, struct strom_netchan *c, int kind, uint8_t type, uint8_t flags,
                    uint64_t seq, const uint8_t *payload, uint32_t len)
{
    struct strom_frame f = {.type = type,
                            .flags = flags,
                            .channel = c->id,
                            .epoch = c->epoch,
                            .seq = seq,
                            .len = len,
                            .payload = payload};
    w->c = c;
    w->kind = kind;
    w->len = (size_t)strom_frame_encode(&f, w->buf, sizeof w->buf);
}

/* Under mu: what each channel has to send, into n->flush_work. */
static size_t gather(struct strom_net *n)
{
    struct work *w;
    size_t k = 0;

    if (n->flush_cap < 2 * n->nchans) {
        size_t cap = 2 * n->nchans + 16;
        void *nw = realloc(n->flush_work, cap * sizeof(struct work));
        if (!nw)
            return 0; /* nothing this turn; the flags stay set for the next */
        n->flush_work = nw;
        n->flush_cap = cap;
    }
    w = n->flush_work;
    for (size_t i = 0; i < n->nchans; i++) {
        struct strom_netchan *c = n->chans[i];
        if (c->state == CH_GONE)
            continue;
        /* A receiver's last ACK still leaves while it closes (the channel is reaped on the
         * next turn, after this flush). */
        if (c->role == STROM_NETCHAN_RECV && (c->ack_wanted || c->rewind_wanted || c->where_wanted)) {
            uint8_t exp[8];
            uint8_t flags = (c->rewind_wanted ? STROM_FRAME_F_REWIND : 0) |
                            (c->where_wanted ? STROM_FRAME_F_WHERE : 0) |
                            (c->bye_seen ? STROM_FRAME_F_BYE_SEEN : 0);
            strom_le_put64(exp, c->expected);
            control(&w[k++], c, W_ACK, STROM_FRAME_ACK, flags, c->consumed, exp, 8);
            c->ack_sent = c->consumed;
            c->ack_bytes = 0;
            c->ack_wanted = c->rewind_wanted = c->where_wanted = 0;
        }
        if (c->role != STROM_NETCHAN_SEND || c->state == CH_DONE || c->state == CH_CLOSING)
            continue;
        if (c->hello_wanted) {
            control(&w[k++], c, W_HELLO, STROM_FRAME_HELLO, 0, c->acked, NULL, 0);
            c->hello_wanted = 0;
            c->hello_ptr = c->send_ptr; /* the HELLO leaves before this turn's DATA */
        }
        if (c->send_ptr < c->next_seq || c->bye_wanted) {
            w[k] = (struct work){.c = c, .kind = W_DATA, .upto = c->next_seq, .bye = c->bye_wanted};
            k++;
        }
    }
    return k;
}

/* Without mu: sends c's window from send_ptr (an I/O-thread-only field) up to w->upto. The
 * window's slots there cannot change: only this thread frees them. */
static int send_data(struct strom_net *n, struct work *w)
{
    struct strom_netchan *c = w->c;
    int share = DATA_SHARE, rc = 0;

    while (c->send_ptr < w->upto) {
        const struct strom_net__out *o;
        if (c->resume_ptr && c->send_ptr >= c->resend_end) {
            c->send_ptr = c->resume_ptr; /* the lost stretch is resent */
            c->resume_ptr = 0;
            continue;
        }
        o = c->win[c->send_ptr % c->win_cap];
        if (share-- == 0)
            return 2;
        rc = strom_net__send(n, c->peer, o->frame, o->len);
        if (rc == -EAGAIN)
            return 1;
        /* -EHOSTUNREACH: lost like any frame of a broken connection; HELLO recovers it. */
        if (rc == 0) {
            strom_net__count(n, data_out);
            if (c->send_ptr < c->sent_hw)
                strom_net__count(n, data_resent);
        }
        c->send_ptr++;
        if (c->send_ptr > c->sent_hw)
            c->sent_hw = c->send_ptr;
    }
    if (w->bye) {
        struct work bye;
        control(&bye, c, W_DATA, STROM_FRAME_BYE, 0, w->upto, NULL, 0);
        if (strom_net__send(n, c->peer, bye.buf, bye.len) == -EAGAIN)
            return 1;
        pthread_mutex_lock(&n->mu);
        c->bye_wanted = 0;
        pthread_mutex_unlock(&n->mu);
    }
    return 0;
}

int strom_net__chan_flush(struct strom_net *n)
{
    struct work *w;
    size_t k;
    int ret = 0;

    pthread_mutex_lock(&n->mu);
    k = gather(n);
    pthread_mutex_unlock(&n->mu);
    w = n->flush_work;
    for (size_t i = 0; i < k; i++) {
        int rc;
        if (w[i].kind == W_DATA) {
            rc = send_data(n, &w[i]);
            if (rc > ret)
                ret = rc;
            continue;
        }
        if (strom_net__send(n, w[i].c->peer, w[i].buf, w[i].len) != -EAGAIN)
            continue;
        /* ZeroMQ is full: ask again next turn. */
        pthread_mutex_lock(&n->mu);
        if (w[i].kind == W_ACK) {
            w[i].c->ack_wanted = 1;
            w[i].c->rewind_wanted |= (w[i].buf[6] & STROM_FRAME_F_REWIND) != 0;
        } else
            w[i].c->hello_wanted = 1;
        pthread_mutex_unlock(&n->mu);
        ret = ret ? ret : 1;
    }
    return ret;
}
