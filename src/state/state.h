/*
 * state/state.h: keyed state of one operator instance, by key group.
 *
 * struct strom_kstate holds, for one instance of one operator, the key groups that the
 * instance owns: for each, a table of records addressed by (key, ns), and the timers set
 * for its keys. It is the unit the engine snapshots and restores: one key group at a time,
 * records and timers together, to bytes whose format this module owns (state/snapshot.c).
 *
 * Thread rule: only the worker thread running the instance touches its kstate, or the
 * thread that drives the job while the job is paused.
 * Ownership: a kstate owns its records; codec-managed records are released through the
 * codec when removed, dropped or freed. Snapshot bytes are borrowed by restore.
 *
 * Key groups: key -> strom_hash64 -> strom_hash_keygroup (core/hash.h). Every call that
 * takes a key takes its key group too (the caller has it at hand); touching a key group the
 * instance does not own is STROM_E_KEYGROUP.
 */
#ifndef STROM_STATE_STATE_H
#define STROM_STATE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "strom/state.h"

struct strom_kstate;

int strom_kstate_new(struct strom_kstate **out, uint32_t key_groups, size_t record_size,
                     const struct strom_record_codec *codec);
void strom_kstate_free(struct strom_kstate *ks);

/* Ownership of key groups. own: start owning kg, empty. drop: forget kg entirely. */
int strom_kstate_own(struct strom_kstate *ks, uint32_t kg);
int strom_kstate_owns(const struct strom_kstate *ks, uint32_t kg);
void strom_kstate_drop(struct strom_kstate *ks, uint32_t kg);

/* Records. get: NULL with *rc = 0 when absent and !create; NULL with *rc < 0 on failure
 * (STROM_E_KEYGROUP, -ENOMEM). A created record is zeroed. */
void *strom_kstate_get(struct strom_kstate *ks, uint32_t kg, uint64_t key, uint64_t ns,
                       int create, int *created, int *rc);
int strom_kstate_remove(struct strom_kstate *ks, uint32_t kg, uint64_t key, uint64_t ns);
size_t strom_kstate_count(const struct strom_kstate *ks, uint32_t kg); /* records in kg */
/* Every record of every owned key group, in key group order. */
int strom_kstate_foreach(struct strom_kstate *ks,
                         int (*fn)(void *arg, uint64_t key, uint64_t ns, void *rec), void *arg);

/* Timers: (time, key, ns) entries, fired in (time, key, ns) order, a duplicate once. */
int strom_kstate_timer_add(struct strom_kstate *ks, uint32_t kg, uint64_t key, uint64_t ns,
                           int64_t time);
/* Pop the first timer with time <= watermark into *key, *ns, *time: 1 if one was popped,
 * 0 if none is due. */
int strom_kstate_timer_pop(struct strom_kstate *ks, int64_t watermark, uint64_t *key,
                           uint64_t *ns, int64_t *time);
size_t strom_kstate_timer_count(const struct strom_kstate *ks);

/* Snapshot key group kg (records and timers) appending to out. */
int strom_kstate_snapshot(const struct strom_kstate *ks, uint32_t kg, struct strom_buf *out);
/* Restore key group kg, which must not be owned, from bytes made by snapshot of an instance
 * of the same operator. Every length is checked; on any failure nothing changes and err
 * (when not NULL) says what was wrong and where (byte offset). */
int strom_kstate_restore(struct strom_kstate *ks, uint32_t kg, const uint8_t *bytes,
                         size_t len, char *err, size_t errlen);

#endif
