/*
 * strom/state.h: engine-owned keyed state, as operators see it.
 *
 * An operator keeps nothing between callbacks but records in its keyed state. A record is
 * addressed by (key, ns): key is the event key (it decides the key group, so all records
 * of one key live and move together), ns is a namespace the operator chooses freely (a
 * window start, a slice number; 0 when it needs none). A record is record_size bytes, zeroed
 * when created.
 *
 * The engine owns the records: it can snapshot any one key group of an operator instance to
 * bytes and restore it into another instance (strom_job_move_keygroup), without operator
 * code doing any I/O. Records that are plain bytes need nothing more. A record that holds a
 * richer structure through pointers (a sliding-window median, a list) declares a codec: the
 * engine calls encode to snapshot it, decode to restore it into a zeroed record, and release
 * when the record is removed or its key group leaves the instance.
 *
 * Pointers returned by strom_state_get are valid until the next strom_state_get or
 * strom_state_remove of the same operator instance (the table may grow and move records).
 * Records are 8-byte aligned: a record type that needs more (long double, __int128, SIMD
 * vectors) must hold it through a pointer and a codec.
 */
#ifndef STROM_STATE_H
#define STROM_STATE_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer: the caller owns it; strom_buf_release frees its memory. */
struct strom_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

int strom_buf_append(struct strom_buf *b, const void *p, size_t n);
int strom_buf_put_u32(struct strom_buf *b, uint32_t v); /* little endian */
int strom_buf_put_u64(struct strom_buf *b, uint64_t v); /* little endian */
/* n 64-bit words (host order, any 8-byte type: a double's bits too) from words, each little
 * endian: one copy on a little-endian host. */
int strom_buf_put_u64s(struct strom_buf *b, const void *words, size_t n);
void strom_buf_release(struct strom_buf *b);

/* A bounds-checked reader over bytes it borrows. Every read fails with STROM_E_CORRUPT,
 * and reads nothing, when fewer bytes remain than it needs. */
struct strom_reader {
    const uint8_t *p;
    size_t left;
};

int strom_reader_u32(struct strom_reader *r, uint32_t *v);
int strom_reader_u64(struct strom_reader *r, uint64_t *v);
int strom_reader_bytes(struct strom_reader *r, void *dst, size_t n);

/* Unsigned LEB128 varints: 7 bits a byte, lowest first, the high bit set on every byte but
 * the last; at most STROM_VARINT_MAX bytes. put writes v at p (room for STROM_VARINT_MAX)
 * and returns the count. The reader refuses, with STROM_E_CORRUPT, a varint cut short, one
 * longer than 10 bytes or beyond 64 bits, and one that is not the shortest spelling. */
#define STROM_VARINT_MAX 10
size_t strom_varint_put(uint8_t *p, uint64_t v);
int strom_reader_varint(struct strom_reader *r, uint64_t *v);

/* For records that hold pointers. encode appends the record's bytes; decode reads them
 * back into a zeroed record from a reader limited to exactly those bytes and must consume
 * them all; release frees what the record points to (also after a failed decode). */
struct strom_record_codec {
    int (*encode)(const void *rec, struct strom_buf *out);
    int (*decode)(void *rec, struct strom_reader *in);
    void (*release)(void *rec);
};

#endif
