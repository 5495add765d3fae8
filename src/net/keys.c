/* net/keys.c: key files and the allowlist (format and rules in net/keys.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "core/errf.h"
#include "net/keys.h"
#include "strom/error.h"

#define SECRET_FILE "cluster.secret"

static const char z85_alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                                   "XYZ.-:+=^!/*?&<>()[]{}@%$#";

struct allow_entry {
    char name[STROM_KEY_NAME_MAX + 1];
    char z85[STROM_KEY_Z85_LEN + 1];
    uint8_t key[STROM_KEY_BYTES];
};

struct strom_allowlist {
    size_t n;
    struct allow_entry *e;
};

int strom_key_name_check(const char *name, char *err, size_t errlen)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > STROM_KEY_NAME_MAX)
        return strom__errf(err, errlen, STROM_E_INVAL, "key name '%s' must have 1 to %d characters",
                           name ? name : "", STROM_KEY_NAME_MAX);
    if (name[0] == '.')
        return strom__errf(err, errlen, STROM_E_INVAL, "key name '%s' starts with '.'", name);
    if (!strcmp(name, "cluster"))
        return strom__errf(err, errlen, STROM_E_INVAL,
                           "key name 'cluster' is reserved (cluster.secret)");
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return strom__errf(err, errlen, STROM_E_INVAL,
                               "key name '%s': character %zu (0x%02x) is not one of "
                               "[A-Za-z0-9_.-]",
                               name, i + 1, (unsigned char)ch);
    }
    return 0;
}

/*
 * Reads a one-line file of at most cap - 1 characters (without its newline) into line.
 * secret: refuse the file if group or others may read or write it. The line is wiped by the
 * caller when it held a secret.
 */
static int read_line_file(const char *path, int secret, char *line, size_t cap, size_t *len,
                          char *err, size_t errlen)
{
    char buf[256];
    struct stat st;
    ssize_t r;
    size_t n = 0;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return strom__errf(err, errlen, -errno, "%s: %s", path,
                           errno == ENOENT ? "missing" : strerror(errno));
    if (fstat(fd, &st) < 0) {
        rc = strom__errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = strom__errf(err, errlen, STROM_E_INVAL, "%s: not a regular file", path);
        goto out;
    }
    if (secret && (st.st_mode & 077)) {
        rc = strom__errf(err, errlen, -EACCES,
                         "%s: mode %04o lets group or others at a secret; "
                         "it must be 0600 (chmod 600 %s)",
                         path, (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    while (n < sizeof buf && (r = read(fd, buf + n, sizeof buf - n)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = strom__errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
            goto out;
        }
        n += (size_t)r;
    }
    /* One trailing newline (a CR before it too) is the file's, not the value's. */
    if (n && buf[n - 1] == '\n')
        n--;
    if (n && buf[n - 1] == '\r')
        n--;
    if (n >= cap) {
        rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                         "%s: bad length: %s%zu characters, expected %zu", path,
                         n == sizeof buf ? "at least " : "", n, cap - 1);
        goto out;
    }
    memcpy(line, buf, n);
    line[n] = 0;
    *len = n;
out:
    sodium_memzero(buf, sizeof buf);
    close(fd);
    return rc;
}

/* A Z85 key of exactly 40 characters into 32 bytes. */
static int decode_z85_key(const char *path, const char *s, size_t n, uint8_t out[32], char *err,
                          size_t errlen)
{
    if (n != STROM_KEY_Z85_LEN)
        return strom__errf(err, errlen, STROM_E_CORRUPT,
                           "%s: bad length: %zu characters, a Z85 key has %d", path, n,
                           STROM_KEY_Z85_LEN);
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(z85_alphabet, s[i]))
            return strom__errf(err, errlen, STROM_E_CORRUPT,
                               "%s: bad Z85 character 0x%02x at column %zu", path,
                               (unsigned char)s[i], i + 1);
    if (!zmq_z85_decode(out, s))
        return strom__errf(err, errlen, STROM_E_CORRUPT,
                           "%s: not a Z85 key (a group of 5 characters exceeds 32 bits)", path);
    return 0;
}

static int read_key_file(const char *path, int secret, char z85[STROM_KEY_Z85_LEN + 1],
                         uint8_t key[STROM_KEY_BYTES], char *err, size_t errlen)
{
    char line[STROM_KEY_Z85_LEN + 1];
    size_t n;
    int rc;

    rc = read_line_file(path, secret, line, sizeof line, &n, err, errlen);
    if (!rc)
        rc = decode_z85_key(path, line, n, key, err, errlen);
    if (!rc)
        memcpy(z85, line, STROM_KEY_Z85_LEN + 1);
    sodium_memzero(line, sizeof line);
    return rc;
}

/* Writes all of data to a new file (O_EXCL) of the given mode, fsynced. */
static int write_new_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
                          size_t errlen)
{
    const char *p = data;
    int fd, rc = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        if (errno == EEXIST)
            return strom__errf(err, errlen, STROM_E_EXISTS,
                               "%s already exists: a key is never overwritten (remove it "
                               "first, or pick another name)",
                               path);
        return strom__errf(err, errlen, -errno, "cannot create %s: %s", path, strerror(errno));
    }
    /* The umask may take bits away, never add them; fchmod makes the mode exact. */
    if (fchmod(fd, mode) < 0)
        rc = -errno;
    while (!rc && len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -errno;
            break;
        }
        p += w;
        len -= (size_t)w;
    }
    if (!rc && fsync(fd) < 0)
        rc = -errno;
    close(fd);
    if (rc) {
        unlink(path);
        return strom__errf(err, errlen, rc, "cannot write %s: %s", path, strerror(-rc));
    }
    return 0;
}

static int path_of(char *out, size_t cap, const char *dir, const char *name, const char *ext,
                   char *err, size_t errlen)
{
    int n = snprintf(out, cap, "%s/%s%s", dir, name, ext);
    if (n < 0 || (size_t)n >= cap)
        return strom__errf(err, errlen, -ENAMETOOLONG, "%s/%s%s: path too long", dir, name, ext);
    return 0;
}

static int make_dir(const char *dir, char *err, size_t errlen)
{
    struct stat st;

    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno != EEXIST)
        return strom__errf(err, errlen, -errno, "cannot create %s: %s", dir, strerror(errno));
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return strom__errf(err, errlen, -ENOTDIR, "%s exists and is not a directory", dir);
    return 0;
}

int strom_keys_generate(const char *dir, const char *name, int *made_secret, char *err,
                        size_t errlen)
{
    char pub[STROM_KEY_Z85_LEN + 2], sec[STROM_KEY_Z85_LEN + 2];
    char keyp[4096], pubp[4096], secp[4096];
    uint8_t cluster[STROM_CLUSTER_SECRET_BYTES];
    char hex[2 * STROM_CLUSTER_SECRET_BYTES + 2];
    int rc;

    *made_secret = 0;
    if ((rc = strom_key_name_check(name, err, errlen)))
        return rc;
    if ((rc = path_of(keyp, sizeof keyp, dir, name, ".key", err, errlen)) ||
        (rc = path_of(pubp, sizeof pubp, dir, name, ".pub", err, errlen)) ||
        (rc = path_of(secp, sizeof secp, dir, SECRET_FILE, "", err, errlen)))
        return rc;
    if (sodium_init() < 0)
        return strom__errf(err, errlen, -EIO, "libsodium cannot initialize");
    if ((rc = make_dir(dir, err, errlen)))
        return rc;
    if (zmq_curve_keypair(pub, sec) != 0)
        return strom__errf(err, errlen, -errno, "zmq_curve_keypair: %s (libzmq without CURVE?)",
                           zmq_strerror(errno));
    pub[STROM_KEY_Z85_LEN] = sec[STROM_KEY_Z85_LEN] = '\n';
    if (access(keyp, F_OK) == 0) {
        rc = strom__errf(err, errlen, STROM_E_EXISTS,
                         "%s already exists: a key is never overwritten (remove it first, "
                         "or pick another name)",
                         keyp);
        goto out;
    }
    /* NAME.pub without NAME.key is another host's pair (its secret stays there): refused as
     * well, since a new pair would lock that host out. */
    if (access(pubp, F_OK) == 0) {
        rc = strom__errf(err, errlen, STROM_E_EXISTS,
                         "%s already exists: '%s' has a key pair (its secret key may be on "
                         "another host); a key is never overwritten",
                         pubp, name);
        goto out;
    }
    /* The secret first, exclusively: an existing pair is left exactly as it was. */
    rc = write_new_file(keyp, sec, sizeof sec - 1, 0600, err, errlen);
    if (rc)
        goto out;
    rc = write_new_file(pubp, pub, sizeof pub - 1, 0644, err, errlen);
    if (rc) {
        unlink(keyp);
        goto out;
    }
    if (access(secp, F_OK) == 0)
        goto out;
    randombytes_buf(cluster, sizeof cluster);
    sodium_bin2hex(hex, sizeof hex, cluster, sizeof cluster);
    hex[2 * STROM_CLUSTER_SECRET_BYTES] = '\n';
    rc = write_new_file(secp, hex, 2 * STROM_CLUSTER_SECRET_BYTES + 1, 0600, err, errlen);
    if (rc == STROM_E_EXISTS) /* another keygen made it meanwhile: that one stands */
        rc = 0;
    else if (rc == 0)
        *made_secret = 1;
out:
    sodium_memzero(sec, sizeof sec);
    sodium_memzero(cluster, sizeof cluster);
    sodium_memzero(hex, sizeof hex);
    return rc;
}

int strom_identity_load(struct strom_identity *id, const char *dir, const char *name, char *err,
                        size_t errlen)
{
    char keyp[4096], pubp[4096], derived[STROM_KEY_Z85_LEN + 1];
    int rc;

    memset(id, 0, sizeof *id);
    if ((rc = strom_key_name_check(name, err, errlen)))
        return rc;
    if ((rc = path_of(keyp, sizeof keyp, dir, name, ".key", err, errlen)) ||
        (rc = path_of(pubp, sizeof pubp, dir, name, ".pub", err, errlen)))
        return rc;
    if ((rc = read_key_file(keyp, 1, id->secret_z85, id->secret_key, err, errlen)))
        goto out;
    if ((rc = read_key_file(pubp, 0, id->public_z85, id->public_key, err, errlen)))
        goto out;
    if (zmq_curve_public(derived, id->secret_z85) != 0) {
        rc =
            strom__errf(err, errlen, -errno, "%s: zmq_curve_public: %s", keyp, zmq_strerror(errno));
        goto out;
    }
    if (strcmp(derived, id->public_z85)) {
        rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                         "%s does not belong to %s: the secret key's public key is %s", pubp, keyp,
                         derived);
        goto out;
    }
    snprintf(id->name, sizeof id->name, "%s", name);
out:
    if (rc)
        strom_identity_release(id);
    return rc;
}

void strom_identity_release(struct strom_identity *id)
{
    if (id)
        sodium_memzero(id, sizeof *id);
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct allow_entry *)a)->name, ((const struct allow_entry *)b)->name);
}

int strom_allowlist_load(struct strom_allowlist **out, const char *dir, char *err, size_t errlen)
{
    struct strom_allowlist *al;
    struct dirent *de;
    size_t cap = 0;
    DIR *d;
    int rc = 0;

    *out = NULL;
    al = calloc(1, sizeof *al);
    if (!al)
        return -ENOMEM;
    d = opendir(dir);
    if (!d) {
        rc = strom__errf(err, errlen, -errno, "keys directory %s: %s", dir,
                         errno == ENOENT ? "missing" : strerror(errno));
        goto out;
    }
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        char path[4096], stem[256];
        struct allow_entry *e;

        if (n <= 4 || strcmp(de->d_name + n - 4, ".pub") || de->d_name[0] == '.')
            continue;
        snprintf(stem, sizeof stem, "%.*s", (int)(n - 4), de->d_name);
        if ((rc = path_of(path, sizeof path, dir, de->d_name, "", err, errlen)))
            goto out;
        if (strom_key_name_check(stem, NULL, 0)) {
            rc = strom__errf(err, errlen, STROM_E_INVAL,
                             "%s: '%s' is not a valid key name (remove or rename the file)", path,
                             stem);
            goto out;
        }
        if (al->n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            struct allow_entry *ne = realloc(al->e, ncap * sizeof *ne);
            if (!ne) {
                rc = -ENOMEM;
                goto out;
            }
            al->e = ne;
            cap = ncap;
        }
        e = &al->e[al->n];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%.*s", STROM_KEY_NAME_MAX, stem);
        if ((rc = read_key_file(path, 0, e->z85, e->key, err, errlen)))
            goto out;
        for (size_t i = 0; i < al->n; i++)
            if (!memcmp(al->e[i].key, e->key, STROM_KEY_BYTES)) {
                rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                                 "%s: the same public key as %s/%s.pub: one key, one name", path,
                                 dir, al->e[i].name);
                goto out;
            }
        al->n++;
    }
    if (al->n)
        qsort(al->e, al->n, sizeof *al->e, entry_cmp);
out:
    if (d)
        closedir(d);
    if (rc) {
        strom_allowlist_free(al);
        return rc;
    }
    *out = al;
    return 0;
}

void strom_allowlist_free(struct strom_allowlist *al)
{
    if (!al)
        return;
    free(al->e);
    free(al);
}

size_t strom_allowlist_count(const struct strom_allowlist *al)
{
    return al ? al->n : 0;
}

const char *strom_allowlist_public(const struct strom_allowlist *al, const char *name)
{
    for (size_t i = 0; al && i < al->n; i++)
        if (!strcmp(al->e[i].name, name))
            return al->e[i].z85;
    return NULL;
}

const char *strom_allowlist_name_of(const struct strom_allowlist *al, const uint8_t *key)
{
    for (size_t i = 0; al && i < al->n; i++)
        if (!sodium_memcmp(al->e[i].key, key, STROM_KEY_BYTES))
            return al->e[i].name;
    return NULL;
}

int strom_cluster_secret_read(const char *dir, uint8_t out[STROM_CLUSTER_SECRET_BYTES], char *err,
                              size_t errlen)
{
    char path[4096], line[2 * STROM_CLUSTER_SECRET_BYTES + 1];
    size_t n, bin = 0;
    const char *end = NULL;
    int rc;

    if ((rc = path_of(path, sizeof path, dir, SECRET_FILE, "", err, errlen)))
        return rc;
    rc = read_line_file(path, 1, line, sizeof line, &n, err, errlen);
    if (rc)
        goto out;
    if (n != 2 * STROM_CLUSTER_SECRET_BYTES) {
        rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                         "%s: bad length: %zu characters, expected %d hex digits", path, n,
                         2 * STROM_CLUSTER_SECRET_BYTES);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", line[i])) {
            rc = strom__errf(err, errlen, STROM_E_CORRUPT,
                             "%s: bad hex character 0x%02x at column %zu", path,
                             (unsigned char)line[i], i + 1);
            goto out;
        }
    if (sodium_hex2bin(out, STROM_CLUSTER_SECRET_BYTES, line, n, NULL, &bin, &end) != 0 ||
        bin != STROM_CLUSTER_SECRET_BYTES)
        rc = strom__errf(err, errlen, STROM_E_CORRUPT, "%s: not %d bytes of hex", path,
                         STROM_CLUSTER_SECRET_BYTES);
out:
    sodium_memzero(line, sizeof line);
    return rc;
}
