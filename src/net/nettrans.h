/*
 * net/nettrans.h: a transport for distributed runs (struct strom_transport in strom/job.h)
 * over net channels (net/channel.h): encrypted ZeroMQ between machines.
 *
 * Channels. Between every two processes a and b there are two net channels, one per
 * direction: a's SEND channel to b is b's RECV channel from a. Each carries every runtime
 * message of that direction, batches and credits of all runtime channels alike, so the order
 * of one process's messages to another is the net channel's order, which the transport
 * contract asks for. All of them have the net channel id STROM_NETTRANS_CHAN (other users of
 * the same net take other ids) and the epoch given to strom_nettrans_new: frames of an
 * earlier run, still on the wire or resent, are refused by the net.
 *
 * Connections. A net listens on one socket and a net channel goes over whichever connection
 * joins the two processes, in either direction (a DEALER we opened, or the peer's DEALER on
 * our ROUTER). So one connection per pair suffices: the process with the higher index
 * connects to every process with a lower one (endpoints[p] for p < self are used; the
 * others are not), and the lower one answers over its listening socket once it has heard
 * from the higher one (what it sent before is lost and resent by the net: the higher one's
 * receivers ask for it when the connection comes up). A connection already made to that
 * peer (by another user of the net) is used as it is.
 *
 * Start. strom_nettrans_new opens the channels, connects, sends an empty message (a hello:
 * a runtime message is never shorter than 4 bytes) on every SEND channel and waits for the
 * hello on every RECV channel. A peer's hello proves that the peer is up, has opened its
 * channels (so nothing the job sends is refused for want of a channel) and reaches us. A
 * peer not yet started may meanwhile be reported dead by the net: until the timeout that
 * only means "not yet".
 *
 * Message (one net channel batch), little endian:
 *
 *   offset  size  field
 *   0       4     runtime channel id (a data channel, or a reserved id: strom/job.h)
 *   4       n     the runtime's bytes for that id (a batch, a bundle, credits, control):
 *                 opaque here
 *
 * Receiving. recv looks at every RECV channel that is still open, without waiting, starting
 * after the one that delivered last (round robin, so no peer starves the others); when none
 * has anything it blocks on one of them for at most a couple of milliseconds, the next one
 * each time, until the timeout. A RECV channel that reports STROM_E_CLOSED (the peer
 * finished, everything delivered) is skipped from then on. STROM_E_PEERDEAD and every other
 * failure is returned: the job fails. Once every RECV channel is closed, recv answers
 * -EAGAIN for a grace second and then -ECONNRESET (the socket transport's convention): a
 * peer finishes only after its job ended, which needs everything this process sends it, so
 * this process may be a moment short of noticing its own end (its sender thread marks
 * itself done just after its last send), but not longer.
 *
 * Shutdown order (why strom_nettrans_finish exists). The receiver thread of a process that
 * has finished its job stops reading, but its peers may still send it credits for channels
 * it sent on (they return them as their consumers free batches, until their own jobs end);
 * and a peer's job must not fail because this process went away early. So, in every
 * process, after strom_job_run (or strom_job_wait) returned 0:
 *
 *   1. strom_nettrans_finish: BYE on every SEND channel, and meanwhile read every RECV
 *      channel to its end, dropping what comes (late credits: nothing has a reader any
 *      more, as with a socket closed at the end). It returns once every SEND channel is
 *      acknowledged to the end (the peer read everything, BYE included) and every RECV
 *      channel is closed (the peer finished its job and then its own step 1). A peer sends
 *      BYE only after its job ended, so a process stays until every peer's job is done,
 *      and never longer than the slowest peer needs it.
 *   2. strom_nettrans_free, then strom_net_free (which gives last ACKs 250 ms to leave).
 *
 * A peer that dies after its BYE (its job had ended: everything it needed from us it had)
 * does not make finish fail; a peer that dies before is STROM_E_PEERDEAD. After a failed
 * job, skip step 1: free and exit; the peers fail on STROM_E_PEERDEAD once the net reports
 * this process dead (dead_ms) and a coordinator restarts the job in a new epoch.
 *
 * Threads. send is called by the runtime's sender and receiver threads at once (batches,
 * credits): it keeps no state but a spare buffer taken and given back atomically. recv is
 * called by the receiver thread alone; new, transport, finish and free by the thread that
 * drives the job, finish only once the job has ended. No lock of its own (the net's lock
 * guards the channels).
 *
 * Ownership. The nettrans borrows the net (which must outlive it) and the names and
 * endpoints (copied into the net as needed; they may go once new returned). send copies the
 * caller's bytes; recv copies into the caller's buffer.
 *
 * Sizes. A message is the batch plus 4 bytes: the net's max_batch must be at least
 * strom_job_batch_wire_max() + 4 (its default, 4 MiB, is). A net channel's window holds
 * window_batches messages: credits bound the batches in flight per runtime channel (to 8
 * times ring_batches: runtime/remote.c), and the sender thread bundles the small ones; a
 * window that fills only adds backpressure (the sender thread waits).
 */
#ifndef STROM_NET_NETTRANS_H
#define STROM_NET_NETTRANS_H

#include <stddef.h>
#include <stdint.h>

#include "net/channel.h"
#include "strom/job.h"

/* The net channel id of every channel a nettrans opens. */
#define STROM_NETTRANS_CHAN 0x5354524du /* "STRM" */

struct strom_nettrans;

/*
 * names[0..procs): every process's name (its net name: routing id, key name), names[self]
 * this net's own. endpoints[p]: where process p listens; used for p < self (connected to),
 * may be NULL otherwise. The net n must already listen (the processes with higher indexes
 * connect to it). Opens a SEND and a RECV channel (epoch `epoch`) per other process,
 * connects, and waits up to timeout_ms (-1: for ever) until every peer has been heard from.
 * 0; STROM_E_INVAL; -ETIMEDOUT naming the peers not heard from; what the net reports. err
 * tells the detail.
 */
int strom_nettrans_new(struct strom_nettrans **out, struct strom_net *n, unsigned self,
                       unsigned procs, const char *const *names, const char *const *endpoints,
                       uint64_t epoch, int timeout_ms, char *err, size_t errlen);

/* Fills out (send, recv, arg) for strom_dist_config.transport. t must outlive the job. */
void strom_nettrans_transport(struct strom_nettrans *t, struct strom_transport *out);

/*
 * After the job returned 0: finish the SEND channels and read the RECV channels to their
 * ends (see "Shutdown order" above). 0 once both are done; -EAGAIN when timeout_ms (-1: no
 * limit) passed first (a peer's job may run much longer than ours: call it again to wait
 * on); STROM_E_PEERDEAD for a peer that died before its end;
 * STROM_E_CORRUPT for a message shorter than a channel id; -ECANCELED.
 */
int strom_nettrans_finish(struct strom_nettrans *t, int timeout_ms);

/* Closes the channels (what is not yet acknowledged is dropped); the net stays. Accepts
 * NULL. */
void strom_nettrans_free(struct strom_nettrans *t);

#endif
