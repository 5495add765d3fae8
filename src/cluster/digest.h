/*
 * cluster/digest.h: ZooKeeper credentials derived from the cluster secret.
 *
 * ZooKeeper's "digest" scheme: a client authenticates with the clear text "user:password"
 * (zoo_add_auth), the server turns it into the identity
 *     user:base64(sha1("user:password"))
 * and grants what the ACLs of a znode grant to that identity. A node's ACL names the
 * identity, never the password, so we compute the identity ourselves, hence SHA-1 here
 * (libsodium has none; used only for this, where ZooKeeper dictates it).
 *
 * The password is never the secret itself: the digest scheme sends it in clear over the
 * ZooKeeper connection and the server may log it, so we send a keyed BLAKE2b of a fixed
 * context string under the secret; seeing it does not reveal the secret (nor the CURVE
 * keys or anything else derived from it):
 *     password = base64url_nopad(BLAKE2b-256(key = secret, "strom zookeeper digest v1"))
 *     user     = "strom"
 */
#ifndef STROM_CLUSTER_DIGEST_H
#define STROM_CLUSTER_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define STROM_ZK_USER "strom"
#define STROM_ZK_DIGEST_CONTEXT "strom zookeeper digest v1"
/* "strom:" + 43 characters of password, or of base64 SHA-1 with padding (28): with NUL. */
#define STROM_ZK_CRED_MAX 64

struct strom_sha1 {
    uint32_t h[5];
    uint64_t bytes;
    uint8_t buf[64];
    size_t used;
};

void strom_sha1_init(struct strom_sha1 *s);
void strom_sha1_update(struct strom_sha1 *s, const void *data, size_t len);
void strom_sha1_final(struct strom_sha1 *s, uint8_t out[20]);
void strom_sha1(const void *data, size_t len, uint8_t out[20]);

/* The identity ZooKeeper derives from "user:password": "user:base64(sha1(user:password))"
 * into id (STROM_ZK_CRED_MAX bytes). user_password must contain a ':'. */
int strom_zk_digest_id(const char *user_password, char *id, size_t idlen);

/* From the 32-byte secret: cred = "strom:password" (what the session sends) and id = its
 * digest identity (what ACLs name), each in STROM_ZK_CRED_MAX bytes. */
int strom_zk_credentials(const uint8_t *secret, char *cred, size_t credlen, char *id, size_t idlen);

#endif
