/* cluster/layout.c: strom's znodes, node records and versioned records (cluster.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "core/errf.h"
#include "strom/error.h"

int strom_cluster_layout_ensure(struct strom_zk *zk, char *err, size_t errlen)
{
    static const char *const paths[] = {STROM_ZK_ELECTION, STROM_ZK_WORKERS};
    size_t i;
    int rc;

    for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        rc = strom_zk_ensure_path(zk, paths[i], err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- node records ----------------------------------------------------------------------- */

int strom_cluster_node_name_ok(const char *name)
{
    size_t n = strlen(name), i;

    if (n == 0 || n > STROM_CLUSTER_NODE_NAME_MAX || name[0] == '.')
        return 0;
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int addr_ok(const char *addr)
{
    size_t n = strlen(addr), i;

    if (n == 0 || n > STROM_CLUSTER_NODE_ADDR_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)addr[i] <= 0x20 || (unsigned char)addr[i] >= 0x7f)
            return 0;
    return 1;
}

int strom_cluster_node_encode(const struct strom_cluster_node *n, char *buf, size_t buflen,
                              char *err, size_t errlen)
{
    char hex[2 * STROM_CLUSTER_NODE_KEY_BYTES + 1];
    int len, i;

    if (!strom_cluster_node_name_ok(n->name))
        return strom__errf(err, errlen, STROM_E_INVAL,
                           "node name '%s': want 1 to %d of "
                           "[A-Za-z0-9._-], not starting with '.'",
                           n->name, STROM_CLUSTER_NODE_NAME_MAX);
    if (!addr_ok(n->addr))
        return strom__errf(err, errlen, STROM_E_INVAL,
                           "node %s: address '%s': want 1 to %d "
                           "printable characters without space",
                           n->name, n->addr, STROM_CLUSTER_NODE_ADDR_MAX);
    for (i = 0; i < STROM_CLUSTER_NODE_KEY_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", n->key[i]);
    len = snprintf(buf, buflen, "strom-node 1\nname %s\naddress %s\n%s%s%s", n->name, n->addr,
                   n->has_key ? "key " : "", n->has_key ? hex : "", n->has_key ? "\n" : "");
    if (len < 0 || (size_t)len >= buflen)
        return strom__errf(err, errlen, -ENOBUFS, "node %s: record longer than %zu bytes", n->name,
                           buflen);
    return len;
}

/* The next line of [*p, end) starting with "word ": its value in val (cap bytes). */
static int take_line(const char **p, const char *end, const char *word, char *val, size_t cap)
{
    size_t wl = strlen(word);
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t vl;

    if (!nl || (size_t)(nl - *p) <= wl + 1 || memcmp(*p, word, wl) != 0 || (*p)[wl] != ' ')
        return -1;
    vl = (size_t)(nl - *p) - wl - 1;
    if (vl >= cap || memchr(*p + wl + 1, '\0', vl))
        return -1;
    memcpy(val, *p + wl + 1, vl);
    val[vl] = '\0';
    *p = nl + 1;
    return 0;
}

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int strom_cluster_node_decode(struct strom_cluster_node *n, const char *text, size_t len, char *err,
                              size_t errlen)
{
    static const char head[] = "strom-node 1\n";
    const char *p = text, *end = text + len;
    char hex[2 * STROM_CLUSTER_NODE_KEY_BYTES + 2];
    int i;

    memset(n, 0, sizeof *n);
    if (len > STROM_CLUSTER_NODE_TEXT_MAX || len < sizeof head - 1 ||
        memcmp(text, head, sizeof head - 1) != 0)
        return strom__errf(err, errlen, STROM_E_CORRUPT,
                           "node record: no 'strom-node 1' header or too long (%zu bytes)", len);
    p += sizeof head - 1;
    if (take_line(&p, end, "name", n->name, sizeof n->name) || !strom_cluster_node_name_ok(n->name))
        return strom__errf(err, errlen, STROM_E_CORRUPT, "node record: bad 'name' line");
    if (take_line(&p, end, "address", n->addr, sizeof n->addr) || !addr_ok(n->addr))
        return strom__errf(err, errlen, STROM_E_CORRUPT, "node record of %s: bad 'address' line",
                           n->name);
    if (p < end) {
        if (take_line(&p, end, "key", hex, sizeof hex) ||
            strlen(hex) != 2 * STROM_CLUSTER_NODE_KEY_BYTES)
            return strom__errf(err, errlen, STROM_E_CORRUPT, "node record of %s: bad 'key' line",
                               n->name);
        for (i = 0; i < STROM_CLUSTER_NODE_KEY_BYTES; i++) {
            int hi = unhex(hex[2 * i]), lo = unhex(hex[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return strom__errf(err, errlen, STROM_E_CORRUPT,
                                   "node record of %s: 'key' is not lowercase hex", n->name);
            n->key[i] = (uint8_t)(hi << 4 | lo);
        }
        n->has_key = 1;
    }
    if (p != end)
        return strom__errf(err, errlen, STROM_E_CORRUPT,
                           "node record of %s: trailing bytes after the last line", n->name);
    return 0;
}

/* ---- versioned records ------------------------------------------------------------------- */

static void put_be(uint8_t *p, uint64_t v, int n)
{
    int i;

    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int strom_cluster_record_encode(uint64_t epoch, const void *payload, size_t len, uint8_t **out,
                                size_t *outlen)
{
    uint8_t *b;

    *out = NULL;
    if (len > STROM_CLUSTER_RECORD_PAYLOAD_MAX)
        return -EMSGSIZE;
    b = malloc(STROM_CLUSTER_RECORD_HEADER + len);
    if (!b)
        return -ENOMEM;
    memcpy(b, "STRR", 4);
    b[4] = 1;
    b[5] = b[6] = b[7] = 0;
    put_be(b + 8, epoch, 8);
    put_be(b + 16, len, 4);
    if (len)
        memcpy(b + STROM_CLUSTER_RECORD_HEADER, payload, len);
    *out = b;
    *outlen = STROM_CLUSTER_RECORD_HEADER + len;
    return 0;
}

int strom_cluster_record_decode(const uint8_t *buf, size_t len, uint64_t *epoch,
                                const uint8_t **payload, size_t *plen)
{
    uint64_t n;

    if (len < STROM_CLUSTER_RECORD_HEADER || memcmp(buf, "STRR", 4) != 0 || buf[5] || buf[6] ||
        buf[7])
        return STROM_E_CORRUPT;
    if (buf[4] != 1)
        return STROM_E_VERSION;
    n = get_be(buf + 16, 4);
    if (n != len - STROM_CLUSTER_RECORD_HEADER)
        return STROM_E_CORRUPT;
    *epoch = get_be(buf + 8, 8);
    *payload = buf + STROM_CLUSTER_RECORD_HEADER;
    *plen = (size_t)n;
    return 0;
}

int strom_cluster_record_get(struct strom_zk *zk, const char *path,
                             struct strom_cluster_record *out, strom_zk_watch_fn fn, void *ctx,
                             char *err, size_t errlen)
{
    char *data = NULL;
    const uint8_t *pl;
    size_t len = 0, plen;
    int rc;

    memset(out, 0, sizeof *out);
    rc = strom_zk_get(zk, path, &data, &len, &out->version, fn, ctx, err, errlen);
    if (rc)
        return rc;
    rc = strom_cluster_record_decode((const uint8_t *)data, len, &out->epoch, &pl, &plen);
    if (rc) {
        strom__errf(err, errlen, rc, "znode %s: %zu bytes that are not a strom record%s", path, len,
                    rc == STROM_E_VERSION ? " of this version" : "");
        goto out;
    }
    if (plen) {
        out->payload = malloc(plen + 1);
        if (!out->payload) {
            rc = -ENOMEM;
            goto out;
        }
        memcpy(out->payload, pl, plen);
        out->payload[plen] = 0;
    }
    out->len = plen;
out:
    free(data);
    return rc;
}

int strom_cluster_record_set(struct strom_zk *zk, const char *path,
                             const struct strom_cluster_record *prev, uint64_t epoch,
                             const void *payload, size_t len, int32_t *new_version, char *err,
                             size_t errlen)
{
    uint8_t *buf;
    size_t blen;
    int rc;

    if (prev && epoch <= prev->epoch)
        return strom__errf(err, errlen, STROM_E_STALE_EPOCH,
                           "record %s: epoch %llu is not newer than %llu", path,
                           (unsigned long long)epoch, (unsigned long long)prev->epoch);
    rc = strom_cluster_record_encode(epoch, payload, len, &buf, &blen);
    if (rc)
        return strom__errf(err, errlen, rc, "record %s: %zu bytes of payload: %s", path, len,
                           strom_strerror(rc));
    if (prev) {
        rc = strom_zk_set(zk, path, buf, blen, prev->version, new_version, err, errlen);
    } else {
        rc = strom_zk_create(zk, path, buf, blen, 0, NULL, 0, err, errlen);
        if (!rc && new_version)
            *new_version = 0;
    }
    free(buf);
    return rc;
}

void strom_cluster_record_release(struct strom_cluster_record *r)
{
    free(r->payload);
    memset(r, 0, sizeof *r);
}
