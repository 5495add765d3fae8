/* tests/unit/state/test_buf.c: struct strom_buf and struct strom_reader (strom/state.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "strom/error.h"
#include "strom/state.h"

static void test_put_little_endian(void **unused)
{
    struct strom_buf b = {0};
    static const uint8_t want[] = {0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06,
                                   0x05, 0x04, 0x03, 0x02, 0x01, 'x',  'y'};
    (void)unused;

    assert_int_equal(strom_buf_put_u32(&b, 0x01020304), 0);
    assert_int_equal(strom_buf_put_u64(&b, 0x0102030405060708ULL), 0);
    assert_int_equal(strom_buf_append(&b, "xy", 2), 0);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    assert_true(b.cap >= b.len);
    strom_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void test_append_grows(void **unused)
{
    struct strom_buf b = {0};
    (void)unused;

    /* Byte by byte through many doublings, then a block larger than the capacity. */
    for (unsigned i = 0; i < 100000; i++) {
        uint8_t c = (uint8_t)(i * 7);
        assert_int_equal(strom_buf_append(&b, &c, 1), 0);
    }
    assert_int_equal(b.len, 100000);
    for (unsigned i = 0; i < 100000; i++)
        assert_int_equal(b.data[i], (uint8_t)(i * 7));
    static uint8_t big[1 << 20];
    memset(big, 0xab, sizeof big);
    assert_int_equal(strom_buf_append(&b, big, sizeof big), 0);
    assert_int_equal(b.len, 100000 + sizeof big);
    assert_int_equal(b.data[100000 + sizeof big - 1], 0xab);
    assert_int_equal(b.data[99999], (uint8_t)(99999 * 7));
    /* Appending nothing, even from NULL, changes nothing. */
    assert_int_equal(strom_buf_append(&b, NULL, 0), 0);
    assert_int_equal(b.len, 100000 + sizeof big);
    strom_buf_release(&b);
}

static void test_reader(void **unused)
{
    static const uint8_t bytes[] = {0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05,
                                    0x04, 0x03, 0x02, 0xf1, 'a',  'b',  'c'};
    struct strom_reader r = {bytes, sizeof bytes};
    uint32_t u32;
    uint64_t u64;
    char s[4] = {0};
    (void)unused;

    assert_int_equal(strom_reader_u32(&r, &u32), 0);
    assert_int_equal(u32, 0x01020304);
    assert_int_equal(r.left, 11);
    assert_int_equal(strom_reader_u64(&r, &u64), 0);
    assert_true(u64 == 0xf102030405060708ULL);
    assert_int_equal(r.left, 3);
    /* Too few bytes: refused, nothing consumed, output untouched. */
    u64 = 42;
    assert_int_equal(strom_reader_u64(&r, &u64), STROM_E_CORRUPT);
    assert_true(u64 == 42);
    u32 = 7;
    assert_int_equal(strom_reader_u32(&r, &u32), STROM_E_CORRUPT);
    assert_int_equal(u32, 7);
    assert_int_equal(strom_reader_bytes(&r, s, 4), STROM_E_CORRUPT);
    assert_int_equal(r.left, 3);
    assert_ptr_equal(r.p, bytes + 12);
    assert_int_equal(strom_reader_bytes(&r, s, 3), 0);
    assert_string_equal(s, "abc");
    assert_int_equal(r.left, 0);
    assert_int_equal(strom_reader_bytes(&r, NULL, 0), 0);
    assert_int_equal(strom_reader_u32(&r, &u32), STROM_E_CORRUPT);
}

static void test_empty_reader(void **unused)
{
    struct strom_reader r = {NULL, 0};
    uint32_t u32;
    (void)unused;

    assert_int_equal(strom_reader_bytes(&r, NULL, 0), 0);
    assert_int_equal(strom_reader_u32(&r, &u32), STROM_E_CORRUPT);
    assert_null(r.p);
}

/* Varints: exact bytes, round trips at every width, and what the reader refuses. */
static void test_varint(void **unused)
{
    static const struct {
        uint64_t v;
        uint8_t len, b[10];
    } cases[] = {
        {0, 1, {0x00}},
        {1, 1, {0x01}},
        {127, 1, {0x7f}},
        {128, 2, {0x80, 0x01}},
        {300, 2, {0xac, 0x02}},
        {16383, 2, {0xff, 0x7f}},
        {16384, 3, {0x80, 0x80, 0x01}},
        {UINT64_MAX, 10, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
    };
    uint8_t b[STROM_VARINT_MAX + 2];
    uint64_t v;
    (void)unused;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct strom_reader r = {b, 0};
        assert_int_equal(strom_varint_put(b, cases[i].v), cases[i].len);
        assert_memory_equal(b, cases[i].b, cases[i].len);
        b[cases[i].len] = 0x55; /* a byte after it: not read */
        r.left = cases[i].len + 1u;
        assert_int_equal(strom_reader_varint(&r, &v), 0);
        assert_true(v == cases[i].v);
        assert_int_equal(r.left, 1);
        for (size_t cut = 0; cut < cases[i].len; cut++) {
            struct strom_reader c = {b, cut};
            assert_int_equal(strom_reader_varint(&c, &v), STROM_E_CORRUPT);
        }
    }
    static const struct {
        uint8_t len, b[12];
    } bad[] = {
        {2, {0x80, 0x00}},                   /* 0, spelt long */
        {3, {0xff, 0x80, 0x00}},             /* 127, spelt long */
        {10, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}}, /* 2^64 */
        {11, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00}}, /* 11 bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct strom_reader r = {bad[i].b, bad[i].len};
        assert_int_equal(strom_reader_varint(&r, &v), STROM_E_CORRUPT);
        assert_int_equal(r.left, bad[i].len); /* nothing taken */
    }
}

/* Words go out little endian, whatever the host: exact bytes, doubles' bits included. */
static void test_put_u64s(void **unused)
{
    struct strom_buf b = {0};
    uint64_t w[2] = {0x0102030405060708ULL, 0xfffffffffffffffeULL};
    double d = -2.0; /* bits 0xc000000000000000 */
    static const uint8_t want[] = {8, 7, 6, 5, 4, 3, 2, 1, 0xfe, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0xc0};
    (void)unused;

    assert_int_equal(strom_buf_put_u64s(&b, w, 2), 0);
    assert_int_equal(strom_buf_put_u64s(&b, &d, 1), 0);
    assert_int_equal(strom_buf_put_u64s(&b, NULL, 0), 0);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    strom_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_little_endian),
        cmocka_unit_test(test_append_grows),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_empty_reader),
        cmocka_unit_test(test_varint),
        cmocka_unit_test(test_put_u64s),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
