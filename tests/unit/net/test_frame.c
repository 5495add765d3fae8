/* The wire frame (net/frame.h): exact bytes written out by hand, and every refusal with the
 * offset it names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "net/frame.h"
#include "strom/error.h"

/* DATA, channel 0x01020304, epoch 0x1122334455667788, seq 0x0a0b0c0d0e0f1011, payload
 * "abc". */
static const uint8_t data_frame[] = {
    0x53, 0x54, 0x52, 0x4e,                         /* magic "STRN" */
    0x01,                                           /* version */
    0x02,                                           /* type DATA */
    0x00,                                           /* flags */
    0x00,                                           /* reserved */
    0x04, 0x03, 0x02, 0x01,                         /* channel */
    0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* epoch */
    0x11, 0x10, 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, /* seq */
    0x03, 0x00, 0x00, 0x00,                         /* length */
    'a',  'b',  'c',
};

/* ACK with REWIND|BYE_SEEN, channel 7, epoch 2, acked 5, expected 9. */
static const uint8_t ack_frame[] = {
    0x53, 0x54, 0x52, 0x4e, 0x01, 0x03, 0x03, 0x00, 0x07, 0x00, 0x00, 0x00, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t heartbeat_frame[] = {
    0x53, 0x54, 0x52, 0x4e, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void test_encode_exact(void **st)
{
    uint8_t out[64], exp[8];
    struct strom_frame f = {.type = STROM_FRAME_DATA,
                            .channel = 0x01020304,
                            .epoch = 0x1122334455667788ULL,
                            .seq = 0x0a0b0c0d0e0f1011ULL,
                            .len = 3,
                            .payload = (const uint8_t *)"abc"};
    (void)st;
    assert_int_equal(strom_frame_encode(&f, out, sizeof out), sizeof data_frame);
    assert_memory_equal(out, data_frame, sizeof data_frame);
    assert_int_equal(strom_frame_encode(&f, out, sizeof data_frame - 1), -ENOSPC);

    strom_le_put64(exp, 9);
    f = (struct strom_frame){.type = STROM_FRAME_ACK,
                             .flags = STROM_FRAME_F_REWIND | STROM_FRAME_F_BYE_SEEN,
                             .channel = 7,
                             .epoch = 2,
                             .seq = 5,
                             .len = 8,
                             .payload = exp};
    assert_int_equal(strom_frame_encode(&f, out, sizeof out), sizeof ack_frame);
    assert_memory_equal(out, ack_frame, sizeof ack_frame);

    f = (struct strom_frame){.type = STROM_FRAME_HEARTBEAT};
    assert_int_equal(strom_frame_encode(&f, out, sizeof out), sizeof heartbeat_frame);
    assert_memory_equal(out, heartbeat_frame, sizeof heartbeat_frame);

    /* What the decoder would refuse is not encoded either. */
    f = (struct strom_frame){.type = STROM_FRAME_HELLO, .flags = STROM_FRAME_F_REWIND};
    assert_int_equal(strom_frame_encode(&f, out, sizeof out), STROM_E_INVAL);
    f = (struct strom_frame){.type = STROM_FRAME_HEARTBEAT, .channel = 1};
    assert_int_equal(strom_frame_encode(&f, out, sizeof out), STROM_E_INVAL);
    f = (struct strom_frame){.type = 9};
    assert_int_equal(strom_frame_encode(&f, out, sizeof out), STROM_E_INVAL);
}

static void test_decode_exact(void **st)
{
    struct strom_frame f;
    char err[200];
    (void)st;
    assert_int_equal(strom_frame_decode(&f, data_frame, sizeof data_frame, 1024, err, sizeof err),
                     0);
    assert_int_equal(f.type, STROM_FRAME_DATA);
    assert_int_equal(f.flags, 0);
    assert_int_equal(f.channel, 0x01020304);
    assert_true(f.epoch == 0x1122334455667788ULL);
    assert_true(f.seq == 0x0a0b0c0d0e0f1011ULL);
    assert_int_equal(f.len, 3);
    assert_ptr_equal(f.payload, data_frame + 32);

    assert_int_equal(strom_frame_decode(&f, ack_frame, sizeof ack_frame, 0, err, sizeof err), 0);
    assert_int_equal(f.type, STROM_FRAME_ACK);
    assert_int_equal(f.flags, 3);
    assert_int_equal(f.channel, 7);
    assert_true(f.epoch == 2 && f.seq == 5);
    assert_true(strom_le_get64(f.payload) == 9);

    assert_int_equal(
        strom_frame_decode(&f, heartbeat_frame, sizeof heartbeat_frame, 0, err, sizeof err), 0);
    assert_int_equal(f.type, STROM_FRAME_HEARTBEAT);
}

/* Decodes frame with byte `at` set to v (at < 0: as is, n bytes) and expects rc and a
 * message containing want. */
static void refused(const uint8_t *frame, size_t n, int at, uint8_t v, uint32_t max, int rc,
                    const char *want)
{
    uint8_t b[128];
    struct strom_frame f;
    char err[200] = "";

    assert_true(n <= sizeof b);
    memcpy(b, frame, n);
    if (at >= 0)
        b[at] = v;
    assert_int_equal(strom_frame_decode(&f, b, n, max, err, sizeof err), rc);
    if (!strstr(err, want))
        fail_msg("message '%s' lacks '%s'", err, want);
}

static void test_refusals(void **st)
{
    uint8_t hb[32], bye[32];
    (void)st;
    /* Every length short of a header. */
    for (size_t n = 0; n < 32; n++)
        refused(data_frame, n, -1, 0, 1024, STROM_E_CORRUPT, "inside the 32-byte header");
    refused(data_frame, sizeof data_frame, 0, 0x54, 1024, STROM_E_CORRUPT,
            "offset 0: bad magic byte 0x54");
    refused(data_frame, sizeof data_frame, 3, 0x00, 1024, STROM_E_CORRUPT,
            "offset 3: bad magic byte 0x00 (expected 0x4e)");
    refused(data_frame, sizeof data_frame, 4, 2, 1024, STROM_E_VERSION, "offset 4: version 2");
    refused(data_frame, sizeof data_frame, 5, 0, 1024, STROM_E_CORRUPT, "offset 5: unknown type 0");
    refused(data_frame, sizeof data_frame, 5, 6, 1024, STROM_E_CORRUPT, "offset 5: unknown type 6");
    refused(data_frame, sizeof data_frame, 6, 1, 1024, STROM_E_CORRUPT,
            "offset 6: flags 0x01 not allowed on DATA");
    refused(ack_frame, sizeof ack_frame, 6, 8, 1024, STROM_E_CORRUPT,
            "offset 6: flags 0x08 not allowed on ACK");
    refused(data_frame, sizeof data_frame, 7, 0x80, 1024, STROM_E_CORRUPT,
            "offset 7: reserved byte 0x80");
    /* Length: over the maximum, more or fewer than the bytes present. */
    refused(data_frame, sizeof data_frame, -1, 0, 2, STROM_E_CORRUPT,
            "offset 28: payload length 3 exceeds the maximum 2");
    refused(data_frame, sizeof data_frame, 28, 4, 1024, STROM_E_CORRUPT,
            "offset 28: payload length 4 but 3 bytes follow the header");
    refused(data_frame, sizeof data_frame, 28, 2, 1024, STROM_E_CORRUPT,
            "offset 28: payload length 2 but 3 bytes follow the header");
    refused(data_frame, sizeof data_frame - 1, -1, 0, 1024, STROM_E_CORRUPT,
            "payload length 3 but 2 bytes follow");
    refused(data_frame, sizeof data_frame, 31, 0xff, 0xffffffffu, STROM_E_CORRUPT,
            "offset 28: payload length 4278190083 exceeds the maximum 268435456");
    /* Payloads a type does not allow. */
    refused(ack_frame, sizeof ack_frame - 1, 28, 7, 1024, STROM_E_CORRUPT,
            "offset 28: payload length 7 on ACK (must be 8)");
    memcpy(bye, heartbeat_frame, 32);
    bye[5] = STROM_FRAME_BYE;
    refused(data_frame, sizeof data_frame, 5, STROM_FRAME_BYE, 1024, STROM_E_CORRUPT,
            "offset 28: payload length 3 on BYE (must be 0)");
    refused(data_frame, sizeof data_frame, 5, STROM_FRAME_HELLO, 1024, STROM_E_CORRUPT,
            "payload length 3 on HELLO (must be 0)");
    /* A heartbeat belongs to no channel. */
    memcpy(hb, heartbeat_frame, 32);
    refused(hb, 32, 8, 1, 1024, STROM_E_CORRUPT, "offset 8: HEARTBEAT with channel 1");
    refused(hb, 32, 13, 1, 1024, STROM_E_CORRUPT, "offset 12: HEARTBEAT with epoch 256");
    refused(hb, 32, 27, 1, 1024, STROM_E_CORRUPT,
            "offset 20: HEARTBEAT with sequence number 72057594037927936");
    /* BYE with a count is fine. */
    bye[20] = 5;
    {
        struct strom_frame f;
        assert_int_equal(strom_frame_decode(&f, bye, 32, 0, NULL, 0), 0);
        assert_true(f.type == STROM_FRAME_BYE && f.seq == 5);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_exact),
        cmocka_unit_test(test_decode_exact),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
