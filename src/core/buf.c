/*
 * core/buf.c: the growable byte buffer and the bounds-checked reader of strom/state.h.
 *
 * Integers are written and read little endian byte by byte, so the bytes are the same on
 * every host and no read is ever unaligned.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strom/error.h"
#include "strom/state.h"

/* Room for n more bytes. Capacity doubles so that appending byte by byte stays linear. */
static int buf_reserve(struct strom_buf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 64;
    uint8_t *data;

    if (n > SIZE_MAX - b->len)
        return -ENOMEM;
    if (b->len + n <= b->cap)
        return 0;
    while (cap < b->len + n) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    data = realloc(b->data, cap);
    if (!data)
        return -ENOMEM;
    b->data = data;
    b->cap = cap;
    return 0;
}

int strom_buf_append(struct strom_buf *b, const void *p, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    rc = buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int strom_buf_put_u64s(struct strom_buf *b, const void *words, size_t n)
{
    int rc;

    if (n > SIZE_MAX / 8)
        return -ENOMEM;
    if ((rc = buf_reserve(b, n * 8)))
        return rc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n)
        memcpy(b->data + b->len, words, n * 8); /* already the bytes it takes */
#else
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, (const uint8_t *)words + 8 * i, 8);
        for (int k = 0; k < 8; k++)
            b->data[b->len + 8 * i + (size_t)k] = (uint8_t)(v >> (8 * k));
    }
#endif
    b->len += n * 8;
    return 0;
}

int strom_buf_put_u32(struct strom_buf *b, uint32_t v)
{
    uint8_t le[4];

    for (int i = 0; i < 4; i++)
        le[i] = (uint8_t)(v >> (8 * i));
    return strom_buf_append(b, le, sizeof le);
}

int strom_buf_put_u64(struct strom_buf *b, uint64_t v)
{
    uint8_t le[8];

    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(v >> (8 * i));
    return strom_buf_append(b, le, sizeof le);
}

void strom_buf_release(struct strom_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

int strom_reader_u32(struct strom_reader *r, uint32_t *v)
{
    uint32_t x = 0;

    if (r->left < 4)
        return STROM_E_CORRUPT;
    for (int i = 0; i < 4; i++)
        x |= (uint32_t)r->p[i] << (8 * i);
    r->p += 4;
    r->left -= 4;
    *v = x;
    return 0;
}

int strom_reader_u64(struct strom_reader *r, uint64_t *v)
{
    uint64_t x = 0;

    if (r->left < 8)
        return STROM_E_CORRUPT;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    r->left -= 8;
    *v = x;
    return 0;
}

int strom_reader_bytes(struct strom_reader *r, void *dst, size_t n)
{
    if (r->left < n)
        return STROM_E_CORRUPT;
    /* n == 0 is allowed with NULL pointers, which must then not be offset. */
    if (n == 0)
        return 0;
    memcpy(dst, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

size_t strom_varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

int strom_reader_varint(struct strom_reader *r, uint64_t *v)
{
    uint64_t x = 0;

    for (size_t i = 0; i < r->left && i < STROM_VARINT_MAX; i++) {
        uint8_t c = r->p[i];
        /* the tenth byte holds bit 63 only; a last byte 0 (but the first) is a longer
         * spelling of a shorter number: refused, so that a number has one encoding */
        if (i == STROM_VARINT_MAX - 1 && c > 1)
            return STROM_E_CORRUPT;
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            if (i && !c)
                return STROM_E_CORRUPT;
            r->p += i + 1;
            r->left -= i + 1;
            *v = x;
            return 0;
        }
    }
    return STROM_E_CORRUPT;
}
