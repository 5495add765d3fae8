/* net/frame.c: encoding and checking wire frames (the byte table is in net/frame.h). */
#include <errno.h>
#include <string.h>

#include "core/errf.h"
#include "core/le.h"
#include "net/frame.h"
#include "strom/error.h"

static const uint8_t magic[4] = {0x53, 0x54, 0x52, 0x4e};

const char *strom_frame_type_name(unsigned type)
{
    switch (type) {
    case STROM_FRAME_HELLO:
        return "HELLO";
    case STROM_FRAME_DATA:
        return "DATA";
    case STROM_FRAME_ACK:
        return "ACK";
    case STROM_FRAME_HEARTBEAT:
        return "HEARTBEAT";
    case STROM_FRAME_BYE:
        return "BYE";
    }
    return "?";
}

/* The flags a type allows. */
static unsigned allowed_flags(unsigned type)
{
    return type == STROM_FRAME_ACK
               ? STROM_FRAME_F_REWIND | STROM_FRAME_F_BYE_SEEN | STROM_FRAME_F_WHERE
               : 0;
}

/* The payload length a type requires, or -1 for DATA's any length up to the maximum. */
static long required_len(unsigned type)
{
    if (type == STROM_FRAME_DATA)
        return -1;
    return type == STROM_FRAME_ACK ? STROM_FRAME_ACK_PAYLOAD : 0;
}

int strom_frame_decode(struct strom_frame *f, const void *buf, size_t n, uint32_t max_payload,
                       char *err, size_t errlen)
{
    const uint8_t *b = buf;
    long need;

    memset(f, 0, sizeof *f);
    if (max_payload > STROM_FRAME_MAX_PAYLOAD)
        max_payload = STROM_FRAME_MAX_PAYLOAD;
    if (n < STROM_FRAME_HEADER)
        return strom__errf(err, errlen, STROM_E_CORRUPT,
                           "frame: offset %zu: input ends inside the %d-byte header", n,
                           STROM_FRAME_HEADER);
    for (int i = 0; i < 4; i++)
        if (b[i] != magic[i])
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                               "frame: offset %d: bad magic byte 0x%02x (expected 0x%02x)", i, b[i],
                               magic[i]);
    if (b[4] != STROM_FRAME_VERSION)
        return strom__errf(err, errlen, STROM_E_VERSION,
                           "frame: offset 4: version %u (this build speaks %d)", b[4],
                           STROM_FRAME_VERSION);
    if (b[5] < STROM_FRAME_HELLO || b[5] > STROM_FRAME_BYE)
        return strom__errf(err, errlen, STROM_E_CORRUPT, "frame: offset 5: unknown type %u", b[5]);
    f->type = b[5];
    if (b[6] & ~allowed_flags(f->type))
        return strom__errf(err, errlen, STROM_E_CORRUPT,
                           "frame: offset 6: flags 0x%02x not allowed on %s", b[6],
                           strom_frame_type_name(f->type));
    f->flags = b[6];
    if (b[7])
        return strom__errf(err, errlen, STROM_E_CORRUPT,
                           "frame: offset 7: reserved byte 0x%02x (must be 0)", b[7]);
    f->channel = strom_le_get32(b + 8);
    f->epoch = strom_le_get64(b + 12);
    f->seq = strom_le_get64(b + 20);
    f->len = strom_le_get32(b + 28);
    if (f->type == STROM_FRAME_HEARTBEAT) {
        if (f->channel)
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                               "frame: offset 8: HEARTBEAT with channel %u (must be 0)",
                               f->channel);
        if (f->epoch)
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                               "frame: offset 12: HEARTBEAT with epoch %llu (must be 0)",
                               (unsigned long long)f->epoch);
        if (f->seq)
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                               "frame: offset 20: HEARTBEAT with sequence number %llu "
                               "(must be 0)",
                               (unsigned long long)f->seq);
    }
    need = required_len(f->type);
    if (need < 0 && f->len > max_payload)
        return strom__errf(err, errlen, STROM_E_CORRUPT,
                           "frame: offset 28: payload length %u exceeds the maximum %u", f->len,
                           max_payload);
    if (need >= 0 && f->len != (uint32_t)need)
        return strom__errf(err, errlen, STROM_E_CORRUPT,
                           "frame: offset 28: payload length %u on %s (must be %ld)", f->len,
                           strom_frame_type_name(f->type), need);
    if (f->len != n - STROM_FRAME_HEADER)
        return strom__errf(err, errlen, STROM_E_CORRUPT,
                           "frame: offset 28: payload length %u but %zu bytes follow the header",
                           f->len, n - STROM_FRAME_HEADER);
    f->payload = b + STROM_FRAME_HEADER;
    return 0;
}

void strom_frame_put_header(uint8_t *out, const struct strom_frame *f)
{
    memcpy(out, magic, 4);
    out[4] = STROM_FRAME_VERSION;
    out[5] = f->type;
    out[6] = f->flags;
    out[7] = 0;
    strom_le_put32(out + 8, f->channel);
    strom_le_put64(out + 12, f->epoch);
    strom_le_put64(out + 20, f->seq);
    strom_le_put32(out + 28, f->len);
}

long strom_frame_encode(const struct strom_frame *f, uint8_t *out, size_t cap)
{
    long need = required_len(f->type);

    if (f->type < STROM_FRAME_HELLO || f->type > STROM_FRAME_BYE ||
        (f->flags & ~allowed_flags(f->type)) || (need >= 0 && f->len != (uint32_t)need) ||
        f->len > STROM_FRAME_MAX_PAYLOAD || (f->len && !f->payload) ||
        (f->type == STROM_FRAME_HEARTBEAT && (f->channel || f->epoch || f->seq)))
        return STROM_E_INVAL;
    if (cap < STROM_FRAME_HEADER + (size_t)f->len)
        return -ENOSPC;
    strom_frame_put_header(out, f);
    if (f->len)
        memcpy(out + STROM_FRAME_HEADER, f->payload, f->len);
    return (long)(STROM_FRAME_HEADER + (size_t)f->len);
}
