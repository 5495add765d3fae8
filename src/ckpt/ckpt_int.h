/*
 * ckpt/ckpt_int.h: what the files of the checkpoint store share, and nothing else does.
 *
 *   format.c  the bytes of blob files, manifests and the finished marker
 *   file.c    durable writes, bounded reads, removal; messages naming files
 *   store.c   open and the lock; finding, verifying and reading checkpoints; finished
 *   write.c   begin, put, commit, abort; retention
 *   share.c   a directory shared by processes: join, export, adopt
 *
 * Byte formats and directory layout: docs/internals/checkpoints.md (one home; the
 * constants below must agree with it).
 *
 * Why XXH64: the payload of every blob is hashed when written, again when a checkpoint is
 * verified and again when read, so the checksum must run at memory speed; XXH64 does, its
 * 64 bits leave no practical chance of a damaged file passing, and it is the hash zstd's own
 * content checksum is made of (test_format.c checks this code against zstd's output).
 *
 * Threads: a txn's blob list is guarded by its mutex (puts run on many threads); nothing
 * else here locks, as strom/ckpt.h's thread rule says.
 */
#ifndef STROM_CKPT_CKPT_INT_H
#define STROM_CKPT_CKPT_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errf.h"
#include "core/xxh64.h"
#include "strom/ckpt.h"
#include "strom/state.h"

/* ---- formats ---- */

#define STROM_CKPT__BLOB_MAGIC "SCKB"
#define STROM_CKPT__MANIFEST_MAGIC "SCKM"
#define STROM_CKPT__FINISHED_MAGIC "SCKF"
#define STROM_CKPT__VERSION 1
#define STROM_CKPT__KIND_ZSTD 1
#define STROM_CKPT__BLOB_HDR 48
/* magic, version, length, n, fingerprint length, metadata length, count, checksum */
#define STROM_CKPT__MANIFEST_MIN (4 + 4 + 8 + 8 + 4 + 8 + 4 + 8)
/* name length, one byte of name, raw length, stored length, checksum */
#define STROM_CKPT__ENTRY_MIN (4 + 1 + 8 + 8 + 8)
/* A manifest file larger than this is refused before it is read. */
#define STROM_CKPT__MANIFEST_MAX ((uint64_t)256 << 20)

#define STROM_CKPT__MANIFEST "MANIFEST"
#define STROM_CKPT__FINISHED "FINISHED"
#define STROM_CKPT__LOCK "LOCK"
#define STROM_CKPT__EXPORT_MAGIC "SCKX"
/* magic, n, fingerprint length, count */
#define STROM_CKPT__EXPORT_MIN (4 + 8 + 4 + 4)
#define STROM_CKPT__TMP ".tmp"
#define STROM_CKPT__DIR_PREFIX "ckpt-"
/* "ckpt-" and 20 digits: numeric order is name order */
#define STROM_CKPT__DIR_LEN 25

struct strom_ckpt__blob_hdr {
    uint64_t raw_len;    /* bytes the caller put */
    uint64_t stored_len; /* bytes of the zstd frame after the header */
    uint64_t checksum;   /* XXH64 of those stored bytes */
};

/* One blob of a manifest, or of a checkpoint being written. */
struct strom_ckpt__entry {
    char *name;
    struct strom_ckpt__blob_hdr h;
    int done; /* write.c: the blob is durable (else its put is under way) */
};

struct strom_ckpt__manifest {
    uint64_t n;
    uint8_t fingerprint[STROM_CKPT_FINGERPRINT_MAX];
    size_t fingerprint_len;
    uint8_t *meta; /* malloc'd (at least one byte) */
    size_t meta_len;
    struct strom_ckpt__entry *blobs; /* in strictly ascending name order (strcmp) */
    size_t nblobs;
};

void strom_ckpt__manifest_release(struct strom_ckpt__manifest *m);

/* 1 when name is a valid blob name (strom/ckpt.h). */
int strom_ckpt__name_ok(const char *name, size_t len);

void strom_ckpt__blob_hdr_encode(const struct strom_ckpt__blob_hdr *h,
                                 uint8_t out[STROM_CKPT__BLOB_HDR]);
/* The header at the start of a blob file of file_len bytes (p holds at least
 * min(file_len, BLOB_HDR) of them); checks magic, version, kind, header checksum and that
 * the file is exactly header + stored_len bytes. path is for messages. */
int strom_ckpt__blob_hdr_decode(const uint8_t *p, uint64_t file_len, const char *path,
                                struct strom_ckpt__blob_hdr *h, char *err, size_t errlen);
/* Compress data[0..len) into one zstd frame (content size and checksum recorded), passing
 * the frame's bytes to sink in order; fills h. The header itself is not written. */
int strom_ckpt__blob_compress(const void *data, size_t len, int level,
                              int (*sink)(void *arg, const uint8_t *p, size_t n), void *arg,
                              struct strom_ckpt__blob_hdr *h, char *err, size_t errlen);
/* A whole blob file in memory, header and frame, into malloc'd *out (at least one byte
 * allocated) and *out_len; h (when not NULL) receives the header. Every length is checked;
 * memory grows with the bytes the frame really holds, not with the lengths it claims. */
int strom_ckpt__blob_decode(const uint8_t *p, size_t len, const char *path,
                            struct strom_ckpt__blob_hdr *h, uint8_t **out, size_t *out_len,
                            char *err, size_t errlen);
/* A whole blob file appended to out (for tests and the fuzzer; put streams to its file). */
int strom_ckpt__blob_encode(const void *data, size_t len, int level, struct strom_buf *out,
                            char *err, size_t errlen);

/* m->blobs must be in strictly ascending name order. */
int strom_ckpt__manifest_encode(const struct strom_ckpt__manifest *m, struct strom_buf *out);
int strom_ckpt__manifest_decode(const uint8_t *p, size_t len, const char *path,
                                struct strom_ckpt__manifest *m, char *err, size_t errlen);

int strom_ckpt__finished_encode(const uint8_t *fp, size_t fp_len, struct strom_buf *out);
/* Into fp (STROM_CKPT_FINGERPRINT_MAX bytes) and *fp_len. */
int strom_ckpt__finished_decode(const uint8_t *p, size_t len, const char *path, uint8_t *fp,
                                size_t *fp_len, char *err, size_t errlen);

/* A fingerprint for messages: quoted text when printable, else hex; shortened. */
void strom_ckpt__fp_format(const uint8_t *fp, size_t len, char *out, size_t outlen);

/* ---- files ---- */

/* Formats the message into err (when not NULL) and returns rc. */
#define strom_ckpt__fail strom__errf
/* dir/name into out, for messages and nothing else (cut when too long). */
const char *strom_ckpt__path(char *out, size_t outlen, const char *dir, const char *name);

int strom_ckpt__write_all(int fd, const void *p, size_t n);
/* Exactly n bytes at off: 0, -errno, or STROM_E_CORRUPT when the file ends first. */
int strom_ckpt__pread_all(int fd, void *p, size_t n, uint64_t off);
int strom_ckpt__fsync_dir(int dirfd);
/* name in dirfd (dir names it in messages) written as a whole: name.tmp, write, fsync,
 * rename, fsync of the directory. On failure name.tmp is gone and name is as it was. */
int strom_ckpt__write_file(int dirfd, const char *dir, const char *name, const void *p, size_t n,
                           char *err, size_t errlen);
/* All of name in dirfd into malloc'd *out (one byte at least) and *len; a file larger than
 * max is refused (STROM_E_CORRUPT) before anything is allocated. -ENOENT when absent. */
int strom_ckpt__read_file(int dirfd, const char *dir, const char *name, uint64_t max, uint8_t **out,
                          size_t *len, char *err, size_t errlen);
/* Remove directory name of parentfd with what it holds (the manifest first, so that a
 * removal cut short never leaves something that looks complete). */
int strom_ckpt__remove_dir(int parentfd, const char *name);

/* ---- the store ---- */

struct strom_ckpt {
    char *dir; /* as given to open: for messages */
    int dirfd;
    int lockfd;
    int memberfd; /* a shared directory: the lock on LOCK.<self>; else -1 */
    unsigned procs, self;
    uint8_t fingerprint[STROM_CKPT_FINGERPRINT_MAX];
    size_t fingerprint_len;
    unsigned keep;
    int level;
    void (*notice)(void *arg, int rc, const char *msg);
    void *notice_arg;
    struct strom_ckpt_txn *txn; /* the checkpoint being written, or NULL */
};

struct strom_ckpt_txn {
    struct strom_ckpt *st;
    uint64_t n;
    char name[STROM_CKPT__DIR_LEN + 1];
    char *path;           /* st->dir/name, for messages */
    int fd;               /* the checkpoint's directory */
    pthread_mutex_t lock; /* guards blobs, nblobs, cap, failed */
    struct strom_ckpt__entry *blobs;
    size_t nblobs, cap;
    int failed; /* a put failed: only abort remains */
    int joined; /* joined another process's checkpoint: its files are not ours to remove */
};

/* write.c: closes and frees tx, unlinking it from its store; its files stay. */
void strom_ckpt__txn_free(struct strom_ckpt_txn *tx);
void strom_ckpt__dir_name(uint64_t n, char out[STROM_CKPT__DIR_LEN + 1]);
/* The checkpoint numbers in the store's directory, newest first, into malloc'd *out. */
int strom_ckpt__scan(struct strom_ckpt *st, uint64_t **out, size_t *count);
/* Checkpoint n's manifest, decoded and checked (number, fingerprint); *dirfd (when not NULL)
 * receives the open directory. STROM_E_NOTFOUND without directory or manifest. */
int strom_ckpt__load(struct strom_ckpt *st, uint64_t n, struct strom_ckpt__manifest *m, int *dirfd,
                     char *err, size_t errlen);
/* One blob in dfd (path names it in messages): its recorded size and header; with full,
 * its payload's checksum too. buf is scratch: STROM_CKPT__BLOB_HDR bytes, or
 * STROM_CKPT__HASH_CHUNK with full. */
#define STROM_CKPT__HASH_CHUNK ((size_t)1 << 20)
int strom_ckpt__check_blob(int dfd, const char *path, const struct strom_ckpt__entry *e, int full,
                           uint8_t *buf, char *err, size_t errlen);
/* Every blob of m present in dirfd with its recorded size and header; with full, their
 * payload checksums too. */
int strom_ckpt__check_blobs(struct strom_ckpt *st, int dirfd, const struct strom_ckpt__manifest *m,
                            int full, char *err, size_t errlen);
void strom_ckpt__notice(struct strom_ckpt *st, int rc, const char *msg);

#endif
