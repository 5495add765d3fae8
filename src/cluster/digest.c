/* cluster/digest.c: SHA-1 (FIPS 180-4) and the ZooKeeper digest credentials (digest.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cluster/digest.h"
#include "cluster/zk.h"

static uint32_t rol32(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[80], a, b, c, d, e, f, k, t;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (i = 16; i < 80; i++)
        w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    a = h[0];
    b = h[1];
    c = h[2];
    d = h[3];
    e = h[4];
    for (i = 0; i < 80; i++) {
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        t = rol32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void strom_sha1_init(struct strom_sha1 *s)
{
    static const uint32_t iv[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};

    memcpy(s->h, iv, sizeof iv);
    s->bytes = 0;
    s->used = 0;
}

void strom_sha1_update(struct strom_sha1 *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t take;

    s->bytes += len;
    while (len) {
        if (s->used == 0 && len >= 64) {
            sha1_block(s->h, p);
            p += 64;
            len -= 64;
            continue;
        }
        take = 64 - s->used < len ? 64 - s->used : len;
        memcpy(s->buf + s->used, p, take);
        s->used += take;
        p += take;
        len -= take;
        if (s->used == 64) {
            sha1_block(s->h, s->buf);
            s->used = 0;
        }
    }
}

void strom_sha1_final(struct strom_sha1 *s, uint8_t out[20])
{
    uint64_t bits = s->bytes * 8;
    int i;

    s->buf[s->used++] = 0x80;
    if (s->used > 56) {
        memset(s->buf + s->used, 0, 64 - s->used);
        sha1_block(s->h, s->buf);
        s->used = 0;
    }
    memset(s->buf + s->used, 0, 56 - s->used);
    for (i = 0; i < 8; i++)
        s->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha1_block(s->h, s->buf);
    for (i = 0; i < 20; i++)
        out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
    sodium_memzero(s, sizeof *s);
}

void strom_sha1(const void *data, size_t len, uint8_t out[20])
{
    struct strom_sha1 s;

    strom_sha1_init(&s);
    strom_sha1_update(&s, data, len);
    strom_sha1_final(&s, out);
}

int strom_zk_digest_id(const char *user_password, char *id, size_t idlen)
{
    const char *colon = strchr(user_password, ':');
    uint8_t h[20];
    char b64[sodium_base64_ENCODED_LEN(20, sodium_base64_VARIANT_ORIGINAL)];
    int n;

    if (!colon)
        return -EINVAL;
    strom_sha1(user_password, strlen(user_password), h);
    sodium_bin2base64(b64, sizeof b64, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(id, idlen, "%.*s:%s", (int)(colon - user_password), user_password, b64);
    return n < 0 || (size_t)n >= idlen ? -ENAMETOOLONG : 0;
}

int strom_zk_credentials(const uint8_t *secret, char *cred, size_t credlen, char *id, size_t idlen)
{
    uint8_t pw[32];
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    int n, rc;

    if (crypto_generichash(pw, sizeof pw, (const unsigned char *)STROM_ZK_DIGEST_CONTEXT,
                           strlen(STROM_ZK_DIGEST_CONTEXT), secret, STROM_ZK_SECRET_BYTES))
        return -EINVAL;
    sodium_bin2base64(b64, sizeof b64, pw, sizeof pw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(pw, sizeof pw);
    n = snprintf(cred, credlen, "%s:%s", STROM_ZK_USER, b64);
    sodium_memzero(b64, sizeof b64);
    if (n < 0 || (size_t)n >= credlen)
        return -ENAMETOOLONG;
    rc = strom_zk_digest_id(cred, id, idlen);
    return rc;
}
