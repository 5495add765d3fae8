/*
 * cluster/cluster.h: strom's znodes: where they are and what they hold.
 *
 * Everything strom keeps in ZooKeeper lives under one root, inside the session's chroot
 * (zk.h), so that several jobs can share a ZooKeeper ensemble, one chroot each:
 *
 *   /strom                    persistent  empty
 *   /strom/election           persistent  empty; children: candidates (cluster/elect.h)
 *   /strom/election/n-<seq>   ephemeral sequential, one per candidate: a node record
 *   /strom/workers            persistent  empty; children: members (cluster/members.h)
 *   /strom/workers/<name>     ephemeral, one per live worker: a node record
 *   /strom/job                persistent  versioned record: the job's configuration
 *   /strom/assignment         persistent  versioned record: the assignment table
 *   /strom/checkpoints        persistent  versioned record: the newest complete checkpoint
 *   /strom/reports, /strom/status, /strom/shutdown: see cluster/jobrec.h
 *
 * Every znode carries strom's ACL (zk.h), so that only holders of the cluster secret can
 * read or write any of them. docs/internals/cluster.md has who writes what, and when.
 *
 * Node record (text, ASCII, exact; the data of a candidate's and of a worker's znode):
 *
 *   strom-node 1\n
 *   name <NAME>\n          NAME: 1 to 63 of [A-Za-z0-9._-], not starting with '.'
 *   address <ADDR>\n       ADDR: 1 to 255 printable ASCII characters, no space
 *   key <HEX>\n            optional: the worker's CURVE public key, 64 lowercase hex digits
 *
 * nothing else, no other order, at most STROM_CLUSTER_NODE_TEXT_MAX bytes.
 *
 * Versioned record (binary; the data of /strom/job, /strom/assignment, /strom/checkpoints):
 *
 *   offset size field
 *   0      4    magic "STRR"
 *   4      1    format version, 1
 *   5      3    zero
 *   8      8    epoch: big-endian unsigned, strictly increasing from one write to the next
 *   16     4    payload length n: big-endian unsigned
 *   20     n    payload, opaque here (the job's configuration, the assignment table, ...)
 *
 * exactly 20 + n bytes. The epoch is the application's version (the assignment epoch, the
 * checkpoint number); the znode's own data version is the compare-and-set token, so that
 * of two coordinators writing from the same read, one wins and the other learns
 * STROM_E_CONFLICT instead of silently overwriting.
 */
#ifndef STROM_CLUSTER_CLUSTER_H
#define STROM_CLUSTER_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/zk.h"

#define STROM_ZK_ROOT "/strom"
#define STROM_ZK_ELECTION STROM_ZK_ROOT "/election"
#define STROM_ZK_WORKERS STROM_ZK_ROOT "/workers"
#define STROM_ZK_JOB STROM_ZK_ROOT "/job"
#define STROM_ZK_ASSIGNMENT STROM_ZK_ROOT "/assignment"
#define STROM_ZK_CHECKPOINTS STROM_ZK_ROOT "/checkpoints"

#define STROM_CLUSTER_NODE_NAME_MAX 63
#define STROM_CLUSTER_NODE_ADDR_MAX 255
#define STROM_CLUSTER_NODE_KEY_BYTES 32
#define STROM_CLUSTER_NODE_TEXT_MAX 512

/* A process of the cluster as others see it. */
struct strom_cluster_node {
    char name[STROM_CLUSTER_NODE_NAME_MAX + 1];
    char addr[STROM_CLUSTER_NODE_ADDR_MAX + 1];
    int has_key;
    uint8_t key[STROM_CLUSTER_NODE_KEY_BYTES];
};

/* Create the persistent znodes of the layout that are missing (empty, records absent). */
int strom_cluster_layout_ensure(struct strom_zk *zk, char *err, size_t errlen);

/* A node's name is valid (see the format above). */
int strom_cluster_node_name_ok(const char *name);
/* Encode n as a node record into buf (STROM_CLUSTER_NODE_TEXT_MAX bytes); returns the length
 * (without the NUL) or a negative code when n is invalid. */
int strom_cluster_node_encode(const struct strom_cluster_node *n, char *buf, size_t buflen,
                              char *err, size_t errlen);
/* Decode a node record; STROM_E_CORRUPT, with what is wrong, for anything else. */
int strom_cluster_node_decode(struct strom_cluster_node *n, const char *text, size_t len, char *err,
                              size_t errlen);

#define STROM_CLUSTER_RECORD_HEADER 20
#define STROM_CLUSTER_RECORD_PAYLOAD_MAX (STROM_ZK_DATA_MAX - STROM_CLUSTER_RECORD_HEADER)

struct strom_cluster_record {
    uint64_t epoch;
    int32_t version; /* the znode's data version, for the next set */
    size_t len;
    uint8_t *payload; /* malloc'd, NUL-terminated beyond len; NULL when len is 0 */
};

/* Read the record at path (STROM_E_NOTFOUND when there is none, STROM_E_CORRUPT when its
 * bytes are not a record). With fn, a watch is left as strom_zk_get does. */
int strom_cluster_record_get(struct strom_zk *zk, const char *path,
                             struct strom_cluster_record *out, strom_zk_watch_fn fn, void *ctx,
                             char *err, size_t errlen);
/* Write a record: prev NULL creates it (STROM_E_EXISTS when there is one); otherwise the
 * write happens only if the znode is still at prev->version (STROM_E_CONFLICT if not) and
 * epoch > prev->epoch (STROM_E_STALE_EPOCH if not). *new_version, when not NULL, gets the
 * version written. */
int strom_cluster_record_set(struct strom_zk *zk, const char *path,
                             const struct strom_cluster_record *prev, uint64_t epoch,
                             const void *payload, size_t len, int32_t *new_version, char *err,
                             size_t errlen);
void strom_cluster_record_release(struct strom_cluster_record *r);

/* Encode / decode a record's bytes (for tests and tools). */
int strom_cluster_record_encode(uint64_t epoch, const void *payload, size_t len, uint8_t **out,
                                size_t *outlen);
int strom_cluster_record_decode(const uint8_t *buf, size_t len, uint64_t *epoch,
                                const uint8_t **payload, size_t *plen);

#endif
