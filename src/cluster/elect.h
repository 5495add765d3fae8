/*
 * cluster/elect.h: leader election (the coordinator's), ZooKeeper's standard recipe.
 *
 * Each candidate creates an ephemeral sequential znode DIR/n-<seq> holding its node record
 * (cluster.h: name, address). The candidate with the lowest sequence number leads. Every
 * other candidate watches only its predecessor (the next lower number) with an exists
 * watch: when the predecessor goes, it lists the candidates again and either leads or
 * watches its new predecessor. A departure thus wakes one candidate, not all of them (no
 * herd effect), and leadership passes in the order of arrival.
 *
 *   DIR/n-0000000007  <- leader
 *   DIR/n-0000000009  watches n-...07
 *   DIR/n-0000000012  watches n-...09
 *
 * A candidate that dies (kill -9) leaves its znode until its session times out; then the
 * next one leads. So a failover takes at most the session timeout plus one round trip.
 *
 * Events (on_change), in this order for one candidate:
 *   STROM_ELECT_WAITING    this candidate does not lead and now watches another
 *                          predecessor, strom_elect_watching() (for logs and tests)
 *   STROM_ELECT_LEADER     this candidate leads now
 *   STROM_ELECT_SUSPENDED  the connection to ZooKeeper is lost while leading: act as
 *                          leader no more until LEADER again (meanwhile the session may
 *                          expire and another candidate may lead)
 *   STROM_ELECT_LOST       the session expired: this candidate's znode is gone, it will
 *                          never lead again; free it and join anew with a new session
 * LEADER comes again after SUSPENDED when the connection returns with the session alive.
 *
 * Threads: on_change runs on the ZooKeeper event thread, or, for the first LEADER of a
 * candidate that leads at once, inside strom_elect_join on the caller's thread; never two
 * at once for one candidate. It must not call strom_elect_free. strom_elect_is_leader may
 * be called from any thread.
 */
#ifndef STROM_CLUSTER_ELECT_H
#define STROM_CLUSTER_ELECT_H

#include <stddef.h>

#include "cluster/cluster.h"
#include "cluster/zk.h"

struct strom_elect;

enum strom_elect_event {
    STROM_ELECT_WAITING,
    STROM_ELECT_LEADER,
    STROM_ELECT_SUSPENDED,
    STROM_ELECT_LOST,
};

typedef void (*strom_elect_fn)(struct strom_elect *e, enum strom_elect_event ev, void *ctx);

/* Become a candidate in the election under dir (created when missing, e.g.
 * STROM_ZK_ELECTION) with identity self. */
int strom_elect_join(struct strom_elect **out, struct strom_zk *zk, const char *dir,
                     const struct strom_cluster_node *self, strom_elect_fn on_change, void *ctx,
                     char *err, size_t errlen);
/* Resign (delete this candidate's znode when the session lives) and free. Accepts NULL. */
void strom_elect_free(struct strom_elect *e);

/* 1 while this candidate leads and is connected. */
int strom_elect_is_leader(const struct strom_elect *e);
/* This candidate's znode, e.g. "/strom/election/n-0000000012". */
const char *strom_elect_path(const struct strom_elect *e);
/* The predecessor's znode this candidate watches ("" when leading); only from inside
 * on_change, which runs serialized with the changes of it. */
const char *strom_elect_watching(const struct strom_elect *e);

/* Who leads the election under dir now: the lowest candidate's record. STROM_E_NOTFOUND
 * when there is no candidate. Anyone with the secret may ask; no candidacy needed. */
int strom_elect_leader(struct strom_zk *zk, const char *dir, struct strom_cluster_node *leader,
                       char *err, size_t errlen);

const char *strom_elect_event_name(enum strom_elect_event ev);

#endif
