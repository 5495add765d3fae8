/*
 * io/txfile.h: a transactional output file, for exactly-once output.
 *
 * A job's output file must only ever contain rows of completed checkpoints: a reader never
 * sees a row that a recovery later takes back. So, when the job checkpoints, the rows do
 * not go to the output directly. The logical output stream is cut into epochs by the
 * checkpoint barriers. What is written after barrier k (or after the start, k = 0) goes to
 * a part file, PARTS/NAME.k.part; when the next barrier n passes, the part is flushed and
 * fsynced (seal), and its id k and byte range in the stream, [before, total), go into
 * checkpoint n. Once checkpoint n is complete, commit appends the part to the output,
 * fsyncs the output and deletes the part. (Barrier numbers need not be consecutive.)
 *
 * Commit is idempotent and never appends twice: the output's length L says how much of the
 * stream it holds; commit copies only the part's bytes from stream offset max(L, before),
 * and nothing when L >= total. That is also what makes recovery simple: restored at
 * checkpoint n, the file finishes commit n, deletes every other part, and writes epoch
 * n + 1 from stream offset total_n; rows that a commit after checkpoint n had already
 * appended (the output is longer than total_n) are produced again, the same bytes, and the
 * commits skip them. The output is a function of the input, so they are the same bytes. L < before means the output lost bytes it had (edited or truncated
 * behind the job's back): commit refuses with STROM_E_CORRUPT rather than guess.
 *
 * When the writer is done, finish seals the last part; once the job has ended (and nothing
 * else commits), end commits every part sealed since open, in order: those whose
 * checkpoint completed are committed already and cost nothing, the others (a checkpoint
 * abandoned because the job ended first) are committed now.
 *
 * Without a parts directory the file is direct: rows go straight to the output, which is
 * truncated at open.
 *
 * Threads: one writer; commit_part may run on another thread (it touches only the output
 * and a sealed part, never the open part), one at a time per output.
 */
#ifndef STROM_IO_TXFILE_H
#define STROM_IO_TXFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct strom_txfile {
    FILE *f;          /* what the writer writes to: the output, or the open part */
    char *path;       /* the output */
    char *parts;      /* the parts directory; NULL when direct */
    char *name;       /* the parts' name prefix */
    uint64_t epoch;   /* the id of the open part: the last barrier passed (tx mode) */
    uint64_t before;  /* stream offset where this epoch starts */
    struct strom_txpart { uint64_t part, before, total; } *sealed; /* since open */
    size_t n_sealed, cap_sealed;
};

/* The parts directory of a job checkpointing into ckpt_dir (malloc'd), NULL on -ENOMEM. */
char *strom_txfile_parts_dir(const char *ckpt_dir);
/* Opens for a fresh run: creates or truncates the output; in tx mode (parts != NULL)
 * deletes stale parts of this name and opens part 0. 0 or -errno, with a message. */
int strom_txfile_open(struct strom_txfile *t, const char *path, const char *parts,
                      const char *name, char *err, size_t errlen);
/* Opens in tx mode, restored at checkpoint n whose seal said (part, before, total):
 * completes that commit, deletes the other parts, opens part n at stream offset total. */
int strom_txfile_resume(struct strom_txfile *t, const char *path, const char *parts,
                        const char *name, uint64_t n, uint64_t part, uint64_t before,
                        uint64_t total, char *err, size_t errlen);
/* Barrier n passes: flush and fsync the open part, then open part n. *part, *before and
 * *total get the sealed part's id and stream range, for checkpoint n. */
int strom_txfile_seal(struct strom_txfile *t, uint64_t n, uint64_t *part, uint64_t *before,
                      uint64_t *total, char *err, size_t errlen);
/* Appends a sealed part to the output (see above) and deletes the part. */
int strom_txfile_commit_part(const char *path, const char *parts, const char *name,
                             uint64_t part, uint64_t before, uint64_t total, char *err,
                             size_t errlen);
/* The writer is done: flush; in tx mode seal the open part. */
int strom_txfile_finish(struct strom_txfile *t, char *err, size_t errlen);
/* The job has ended and no commit runs elsewhere: commit every sealed part, in order. */
int strom_txfile_end(struct strom_txfile *t, char *err, size_t errlen);
/* Closes whatever is open and frees; t is zeroed. The output keeps what was committed. */
void strom_txfile_close(struct strom_txfile *t);

#endif
