/*
 * core/crash.h: crash points, for the crash tests of exactly-once processing.
 *
 * STROM_CRASH_AT=NAME:K in the environment makes the process kill itself (SIGKILL, as a
 * power cut or kill -9 would) the K-th time it passes the crash point NAME (K = 1 when
 * omitted). The points are where a crash is the hardest to recover from: between the
 * writes of a checkpoint, between committing a checkpoint and its output, in the middle
 * of appending output, and right after a recovery. Without the variable a crash point
 * costs one branch.
 *   ckpt-blob      a snapshot blob is durable, the checkpoint is not complete
 *   ckpt-manifest  the checkpoint is complete, its output is not committed
 *   output-append  half of a part is appended to an output file, not yet synced
 *   restored       the state is restored, no event processed yet
 */
#ifndef STROM_CORE_CRASH_H
#define STROM_CORE_CRASH_H

void strom_crash_point(const char *name);

#endif
