/*
 * cluster/members.h: the workers of a cluster: who is there, where, with which key.
 *
 * A worker registers as an ephemeral znode STROM_ZK_WORKERS/<name> holding its node record
 * (cluster.h: name, listen address, CURVE public key). The znode lives as long as the
 * worker's session: a clean exit removes it at once, a crash (kill -9) after the session
 * timeout. Names are unique among live workers: registering a name that a live worker (or
 * the not yet expired session of a crashed one) holds fails with STROM_E_EXISTS.
 *
 * A watcher (strom_members_watch_new) lists the workers, leaves a children watch, and on
 * each change lists again and reports the new list with who joined and who left since the
 * previous report. Changes that happen close together may come as one report (a join and
 * a leave of one name in between may not be seen at all): the reports converge on the
 * truth, they are not a log.
 *
 * Threads: the watcher's callback runs on the ZooKeeper event thread, the first report
 * inside strom_members_watch_new on the caller's thread; never two at once for one
 * watcher. It must not call strom_members_watch_free. The lists it gets are borrowed for
 * the call.
 */
#ifndef STROM_CLUSTER_MEMBERS_H
#define STROM_CLUSTER_MEMBERS_H

#include <stddef.h>

#include "cluster/cluster.h"
#include "cluster/zk.h"

struct strom_members {
    size_t n;
    struct strom_cluster_node *v; /* sorted by name */
};

/* Register this worker (ephemeral STROM_ZK_WORKERS/<self->name>; the parent is created
 * when missing). */
int strom_members_register(struct strom_zk *zk, const struct strom_cluster_node *self, char *err,
                           size_t errlen);
/* Deregister (delete the znode), for a clean leave without closing the session. */
int strom_members_deregister(struct strom_zk *zk, const char *name, char *err, size_t errlen);

/* The live workers. A znode whose record does not decode is left out. */
int strom_members_list(struct strom_zk *zk, struct strom_members *out, char *err, size_t errlen);
void strom_members_release(struct strom_members *m);

struct strom_members_watch;
typedef void (*strom_members_fn)(struct strom_members_watch *w, const struct strom_members *now,
                                 const struct strom_members *joined,
                                 const struct strom_members *left, void *ctx);

/* Report the workers now (everyone "joined"), then at every change. */
int strom_members_watch_new(struct strom_members_watch **out, struct strom_zk *zk,
                            strom_members_fn fn, void *ctx, char *err, size_t errlen);
/* Stop watching; after it returns no callback runs. Accepts NULL. */
void strom_members_watch_free(struct strom_members_watch *w);

#endif
