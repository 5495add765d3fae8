/*
 * net/frame.h: the wire frame of strom's process-to-process channels. This is the one home
 * of the wire format; docs/internals/net.md describes the protocol that uses it.
 *
 * One ZeroMQ message carries exactly one frame: a 32-byte header and a payload. Every
 * integer is little endian and is encoded and decoded byte by byte, so the format does not
 * depend on the host's byte order or alignment.
 *
 *   offset  size  field
 *   ------  ----  -----------------------------------------------------------------
 *        0     4  magic: 0x53 0x54 0x52 0x4e ("STRN")
 *        4     1  version: 1
 *        5     1  type: 1 HELLO, 2 DATA, 3 ACK, 4 HEARTBEAT, 5 BYE
 *        6     1  flags: 0, except ACK: bit 0 REWIND, bit 1 BYE_SEEN, bit 2 WHERE
 *        7     1  reserved: 0
 *        8     4  channel id (u32)
 *       12     8  epoch (u64): the assignment epoch the channel was opened in
 *       20     8  sequence number (u64), by type:
 *                   HELLO      the sender's oldest unacknowledged batch
 *                   DATA       this batch's number (0, 1, 2, ... per channel and epoch)
 *                   ACK        cumulative: every batch below it was delivered to the receiver
 *                   BYE        the number of batches the sender sent in all
 *                   HEARTBEAT  0
 *       28     4  payload length (u32): exactly the bytes that follow the header in the
 *                 message; for DATA at most the receiver's maximum
 *       32     n  payload, by type:
 *                   DATA       the batch (0 to max bytes)
 *                   ACK        8 bytes: u64, the next batch the receiver expects from the wire
 *                   others     none (n = 0)
 *
 * HEARTBEAT belongs to the connection, not to a channel: channel, epoch and seq are 0.
 *
 * The decoder refuses anything else -- short input, wrong magic, version, type, flags,
 * reserved byte, a length over the maximum or different from the bytes present, a payload
 * not allowed for the type -- with a message that names the byte offset and the bad value.
 * It never reads past the input and never allocates: a decoded frame points into the input.
 * A format has one encoding per frame, so decode then encode gives back the input exactly.
 */
#ifndef STROM_NET_FRAME_H
#define STROM_NET_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "core/le.h" /* the integers of the frame */

#define STROM_FRAME_HEADER 32
#define STROM_FRAME_VERSION 1
#define STROM_FRAME_MAX_PAYLOAD (256u << 20) /* no maximum a caller passes may exceed this */
#define STROM_FRAME_ACK_PAYLOAD 8

enum strom_frame_type {
    STROM_FRAME_HELLO = 1,
    STROM_FRAME_DATA = 2,
    STROM_FRAME_ACK = 3,
    STROM_FRAME_HEARTBEAT = 4,
    STROM_FRAME_BYE = 5,
};

#define STROM_FRAME_F_REWIND                                                                       \
    0x01u /* ACK: everything from the expected batch on was dropped: resend it all */
#define STROM_FRAME_F_BYE_SEEN 0x02u /* ACK: the receiver has the sender's BYE */
/* ACK answering a HELLO, the receiver dropping nothing: batches sent before that HELLO and
 * not yet expected are lost; those sent after it are still on their way. */
#define STROM_FRAME_F_WHERE 0x04u

struct strom_frame {
    uint8_t type, flags;
    uint32_t channel;
    uint64_t epoch, seq;
    uint32_t len;           /* payload bytes */
    const uint8_t *payload; /* borrowed: into the decoded input, or the caller's bytes */
};

/* The name of a frame type ("DATA"), or "?" */
const char *strom_frame_type_name(unsigned type);

/* Decodes buf[0..n). max_payload is clamped to STROM_FRAME_MAX_PAYLOAD. 0, or
 * STROM_E_CORRUPT / STROM_E_VERSION with the offset and the bad value in err. */
int strom_frame_decode(struct strom_frame *f, const void *buf, size_t n, uint32_t max_payload,
                       char *err, size_t errlen);

/* Writes the 32 header bytes of f (whose len says the payload's length). */
void strom_frame_put_header(uint8_t *out, const struct strom_frame *f);

/* Header and payload into out (cap bytes); the bytes written, or -ENOSPC / STROM_E_INVAL for
 * a frame the decoder would refuse. */
long strom_frame_encode(const struct strom_frame *f, uint8_t *out, size_t cap);

#endif
