/*
 * net/keys.h: the CURVE key pairs of a cluster's processes and its shared secret.
 *
 * A keys directory (`strom keygen DIR NAME`, one call per process name) holds:
 *
 *   DIR/NAME.key       NAME's secret key, Z85 (40 characters) and a newline, mode 0600
 *   DIR/NAME.pub       NAME's public key, Z85 and a newline
 *   DIR/cluster.secret 32 random bytes, 64 lowercase hex digits and a newline, mode 0600:
 *                      the cluster's shared secret, from which other modules derive
 *                      credentials (ZooKeeper digest)
 *
 * An operator copies the whole directory to every host, except that each host gets only its
 * own NAME.key: a process reads its identity from DIR/NAME.key + DIR/NAME.pub, and its
 * allowlist from every DIR/ *.pub. The allowlist is the cluster: a process accepts a CURVE
 * client only if that client's public key is one of the .pub files (net/zap.h), and it
 * learns a server's public key by the server's name.
 *
 * Every loader checks what it reads and says which file is wrong and how (missing, bad
 * length, bad Z85 character and its column, a secret readable by group or others, a public
 * key that does not belong to the secret key). Secret bytes are wiped (sodium_memzero)
 * when released.
 *
 * Names: 1..63 characters of [A-Za-z0-9_.-], not starting with '.', and not "cluster".
 * Ownership: strom_allowlist_* return pointers into the allowlist, valid until it is freed.
 * An allowlist is immutable once loaded, so any number of threads may read it.
 */
#ifndef STROM_NET_KEYS_H
#define STROM_NET_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define STROM_KEY_BYTES 32
#define STROM_KEY_Z85_LEN 40
#define STROM_KEY_NAME_MAX 63
#define STROM_CLUSTER_SECRET_BYTES 32

/* A process's own key pair. The caller owns the struct; release wipes it. */
struct strom_identity {
    char name[STROM_KEY_NAME_MAX + 1];
    char public_z85[STROM_KEY_Z85_LEN + 1];
    char secret_z85[STROM_KEY_Z85_LEN + 1];
    uint8_t public_key[STROM_KEY_BYTES];
    uint8_t secret_key[STROM_KEY_BYTES];
};

struct strom_allowlist; /* name -> public key, for every DIR/ *.pub */

/* 0 if name is a valid key name, else STROM_E_INVAL with the reason. */
int strom_key_name_check(const char *name, char *err, size_t errlen);

/* `strom keygen`: creates dir (0700) if missing, DIR/NAME.key (never overwritten:
 * STROM_E_EXISTS) and DIR/NAME.pub, and DIR/cluster.secret if it does not exist yet
 * (*made_secret = 1 then, else 0). */
int strom_keys_generate(const char *dir, const char *name, int *made_secret, char *err,
                        size_t errlen);

/* Loads DIR/NAME.key and DIR/NAME.pub and checks that they are one pair. */
int strom_identity_load(struct strom_identity *id, const char *dir, const char *name, char *err,
                        size_t errlen);
void strom_identity_release(struct strom_identity *id);

/* Every DIR/ *.pub; two names with one key are refused. An empty allowlist is valid. */
int strom_allowlist_load(struct strom_allowlist **out, const char *dir, char *err, size_t errlen);
void strom_allowlist_free(struct strom_allowlist *al);
size_t strom_allowlist_count(const struct strom_allowlist *al);
/* name's public key in Z85, or NULL. */
const char *strom_allowlist_public(const struct strom_allowlist *al, const char *name);
/* The name whose public key is key (32 bytes), or NULL. */
const char *strom_allowlist_name_of(const struct strom_allowlist *al, const uint8_t *key);

/* DIR/cluster.secret into out (32 bytes). */
int strom_cluster_secret_read(const char *dir, uint8_t out[STROM_CLUSTER_SECRET_BYTES], char *err,
                              size_t errlen);

#endif
