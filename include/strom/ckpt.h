/*
 * strom/ckpt.h: the checkpoint store.
 *
 * A store keeps the checkpoints of one job in one directory, durably, and gives them back
 * only whole. Checkpoint n is a set of named blobs (the engine's snapshots; opaque here) and
 * a manifest listing them, which also carries the job's fingerprint and the caller's
 * metadata (source offsets, for instance). Writing one:
 *
 *     strom_ckpt_begin(st, n, &tx)         creates the checkpoint's directory
 *     strom_ckpt_put(tx, name, bytes, len) per blob, from any threads; each name once
 *     strom_ckpt_commit(tx, meta, len)     the manifest last, then retention
 *  or strom_ckpt_abort(tx)                 removes what was written
 *
 * Promises:
 * - Every file is written under a temporary name, fsynced, renamed into place, and its
 *   directory fsynced. A blob is durable when put returns 0; the manifest is renamed into
 *   place after every blob is durable, so a crash can never leave a manifest whose blobs are
 *   missing. A failed write (ENOSPC, EFBIG, EIO) is reported naming the file and leaves no
 *   temporary file; files of a complete checkpoint are never written again.
 * - Checkpoint n is complete iff its manifest is valid and every blob it lists is present
 *   with the recorded size and checksum. strom_ckpt_latest returns the newest complete one
 *   and reports each newer checkpoint it passed over, and why, through cfg->notice.
 * - A manifest records the fingerprint of the job that wrote it. A checkpoint of another job
 *   is never skipped nor deleted: latest, verify, read and begin refuse it with
 *   STROM_E_FOREIGN, so that a job does not resume (or destroy) another job's state.
 * - Commit keeps the newest cfg->keep complete checkpoints and deletes older ones, leftovers
 *   of incomplete checkpoints older than the newest complete one, and stray temporary files.
 * - One process per directory: open takes an exclusive flock on DIR/LOCK and fails with
 *   -EBUSY while another open store (of any process) holds it. The processes of one
 *   distributed job share a directory instead (cfg->procs > 1): each takes a shared flock on
 *   DIR/LOCK, so that no single-process store opens meanwhile, and an exclusive one on
 *   DIR/LOCK.<self>, so that no two stores claim the same process.
 *
 * Shared checkpoints. In a shared directory one process, the committer, writes checkpoint
 * n as above; the others write their blobs into it and hand the committer what it needs to
 * list them in the manifest:
 *
 *     committer                              process p
 *     strom_ckpt_begin(st, n, &tx)
 *        (tells p: checkpoint n)  -------->  strom_ckpt_join(st, n, &ptx)
 *                                            strom_ckpt_put(ptx, ...) per blob
 *                                            strom_ckpt_export(ptx, &bytes)
 *        (receives the bytes)     <--------  strom_ckpt_abort(ptx)   (leaves the files)
 *     strom_ckpt_adopt(tx, bytes)   per process
 *     strom_ckpt_commit(tx, meta, len)
 *
 *   How the bytes travel is the caller's business; adopt checks them (every length, the
 *   fingerprint, the checkpoint number) and that every blob they list is in place with the
 *   recorded size and header, so a manifest still lists only durable blobs.
 *
 * Threads: strom_ckpt_put may run on several threads at once for different names of one
 * checkpoint, and strom_ckpt_read on several threads at once; everything else, commit and
 * abort included (after every put has returned), from one thread at a time, and not
 * alongside put or read.
 * Ownership: the store copies what cfg points to; put and commit borrow their bytes; latest
 * and read return malloc'd bytes that the caller frees.
 * Errors: 0, or a negative code of strom/error.h: -errno for a failure of the system
 * (-ENOSPC, -EFBIG, -EIO, -EBUSY, ...), STROM_E_CORRUPT for a damaged, truncated or missing
 * file of a checkpoint, STROM_E_VERSION for a format this build does not read,
 * STROM_E_NOTFOUND for a checkpoint that does not exist or has no manifest (incomplete),
 * STROM_E_FOREIGN for another job's checkpoint. err, when not NULL, receives the detail:
 * the file's path and what is wrong with it.
 *
 * The directory's layout, the byte formats and the order of writes:
 * docs/internals/checkpoints.md.
 */
#ifndef STROM_CKPT_H
#define STROM_CKPT_H

#include <stddef.h>
#include <stdint.h>

#define STROM_CKPT_KEEP_DEFAULT 3
#define STROM_CKPT_FINGERPRINT_MAX 256
/* A blob's name: 1 to 128 of [A-Za-z0-9._-], not starting with '.', not ending with ".tmp",
 * not "MANIFEST". Names are file names inside the checkpoint's directory. */
#define STROM_CKPT_NAME_MAX 128
/* Caller metadata in a manifest, at most. */
#define STROM_CKPT_META_MAX ((size_t)64 << 20)

struct strom_ckpt_config {
    /* The job's identity, compared byte for byte: a string or a hash of job name, options
     * and input identity, chosen by the caller; 0 to STROM_CKPT_FINGERPRINT_MAX bytes. */
    const void *fingerprint;
    size_t fingerprint_len;
    unsigned keep; /* complete checkpoints kept by commit; 0 = STROM_CKPT_KEEP_DEFAULT */
    int level;     /* zstd level, 1 to 19; 0 = zstd's default (3) */
    /* Told of each checkpoint that latest passed over and of each leftover that commit
     * could not remove (rc, message naming the file); NULL for silence. Called on the
     * thread of the call that noticed. */
    void (*notice)(void *arg, int rc, const char *msg);
    void *notice_arg;
    /* A directory shared by the processes of one distributed job: procs > 1 of them, this
     * one being self (< procs). 0 or 1: one process, the directory is its alone. */
    unsigned procs, self;
};

struct strom_ckpt;     /* an open store: one locked directory */
struct strom_ckpt_txn; /* a checkpoint being written */

/* Open the store in dir, creating the directory (and missing parents) when needed. */
int strom_ckpt_open(struct strom_ckpt **out, const char *dir, const struct strom_ckpt_config *cfg,
                    char *err, size_t errlen);
/* Release the lock and free st (NULL is fine). A checkpoint still being written is aborted. */
void strom_ckpt_close(struct strom_ckpt *st);

/* Start writing checkpoint n. Refused while another is being written (STROM_E_BADSTATE), when
 * the directory holds a checkpoint of another job (STROM_E_FOREIGN), or a valid manifest of
 * n (STROM_E_EXISTS) or of a newer checkpoint (STROM_E_INVAL). Leftovers of an earlier
 * attempt at n are removed first. */
int strom_ckpt_begin(struct strom_ckpt *st, uint64_t n, struct strom_ckpt_txn **out, char *err,
                     size_t errlen);
/* Compress and write blob `name` of the checkpoint; durable when it returns 0. After a
 * failure the checkpoint cannot be committed, only aborted. */
int strom_ckpt_put(struct strom_ckpt_txn *tx, const char *name, const void *data, size_t len,
                   char *err, size_t errlen);
/* Write the manifest (fingerprint, meta, the blobs put), making the checkpoint complete, then
 * apply retention. Frees tx, whatever the result; on failure the checkpoint's directory is
 * removed and no complete checkpoint has been touched. */
int strom_ckpt_commit(struct strom_ckpt_txn *tx, const void *meta, size_t meta_len, char *err,
                      size_t errlen);
/* Remove what tx wrote and free it (NULL is fine). A joined checkpoint is only left: its
 * files belong to the committer's checkpoint, which the committer commits or aborts. */
void strom_ckpt_abort(struct strom_ckpt_txn *tx);

/* Shared directories (see above). Join checkpoint n, which the committer has begun (its
 * directory exists): puts write into it; commit is refused (STROM_E_BADSTATE). Refused while
 * another checkpoint is being written here (STROM_E_BADSTATE); STROM_E_NOTFOUND when the
 * committer has not begun n. */
int strom_ckpt_join(struct strom_ckpt *st, uint64_t n, struct strom_ckpt_txn **out, char *err,
                    size_t errlen);
/* What the committer needs to list the blobs put into tx (names, lengths, checksums; the
 * store's fingerprint and n), appended to out. Every put must have returned 0. */
struct strom_buf;
int strom_ckpt_export(struct strom_ckpt_txn *tx, struct strom_buf *out, char *err,
                      size_t errlen);
/* The committer: the blobs another process put into checkpoint n (its export's bytes) join
 * tx's. Refused, changing nothing: bytes that do not decode (STROM_E_CORRUPT), another
 * job's (STROM_E_FOREIGN) or checkpoint's (STROM_E_INVAL), a name put already
 * (STROM_E_EXISTS), a blob missing or whose size or header disagree (STROM_E_CORRUPT). */
int strom_ckpt_adopt(struct strom_ckpt_txn *tx, const uint8_t *bytes, size_t len, char *err,
                     size_t errlen);

/* The newest complete checkpoint: its number and (when meta is not NULL) a malloc'd copy of
 * its metadata. STROM_E_NOTFOUND when there is none; STROM_E_FOREIGN when the newest valid
 * manifest belongs to another job. */
int strom_ckpt_latest(struct strom_ckpt *st, uint64_t *n, uint8_t **meta, size_t *meta_len,
                      char *err, size_t errlen);
/* Check checkpoint n completely: 0 when it is complete. */
int strom_ckpt_verify(struct strom_ckpt *st, uint64_t n, char *err, size_t errlen);
/* Blob `name` of checkpoint n, verified (size, checksums, length), into *data (malloc'd;
 * at least one byte is allocated even for an empty blob) and *len. */
int strom_ckpt_read(struct strom_ckpt *st, uint64_t n, const char *name, uint8_t **data,
                    size_t *len, char *err, size_t errlen);

/* Record, durably, that the job of this fingerprint has finished. */
int strom_ckpt_mark_finished(struct strom_ckpt *st, char *err, size_t errlen);
/* 1 when the directory records that the job of this fingerprint finished, 0 when it records
 * nothing, STROM_E_FOREIGN when it records another job, or an error (STROM_E_CORRUPT). */
int strom_ckpt_is_finished(struct strom_ckpt *st, char *err, size_t errlen);

#endif
