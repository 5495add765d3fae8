/* Keys (net/keys.h): keygen's files and modes, loading an identity and the allowlist, and
 * every refusal naming its file: bad permissions, bad Z85, bad length, a mismatched pair,
 * missing files, keys never overwritten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "net/keys.h"
#include "strom/error.h"
#include "testutil.h"

#define assert_contains(s, sub)                                                                    \
    do {                                                                                           \
        if (!strstr((s), (sub)))                                                                   \
            fail_msg("'%s' lacks '%s'", (s), (sub));                                               \
    } while (0)

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* A fresh keys directory (below a temporary one) with pairs a and b. */
static char *make_keys(char **keys)
{
    char *base = tu_tempdir(), err[512] = "";
    int made = -1;

    assert_non_null(base);
    *keys = strdup(tu_path(base, "keys"));
    assert_int_equal(strom_keys_generate(*keys, "a", &made, err, sizeof err), 0);
    assert_int_equal(made, 1);
    assert_int_equal(strom_keys_generate(*keys, "b", &made, err, sizeof err), 0);
    assert_int_equal(made, 0);
    return base;
}

static void test_keygen_files(void **st)
{
    char *keys, *base = make_keys(&keys), err[512] = "", *pub, *sec, derived[41];
    struct strom_identity id;
    uint8_t secret[32], secret2[32];
    size_t n;
    (void)st;

    assert_int_equal(mode_of(keys), 0700);
    assert_int_equal(mode_of(tu_path(keys, "a.key")), 0600);
    assert_int_equal(mode_of(tu_path(keys, "a.pub")), 0644);
    assert_int_equal(mode_of(tu_path(keys, "cluster.secret")), 0600);
    pub = tu_read_file(tu_path(keys, "a.pub"), &n);
    assert_int_equal(n, 41);
    assert_int_equal(pub[40], '\n');
    sec = tu_read_file(tu_path(keys, "a.key"), &n);
    assert_int_equal(n, 41);
    sec[40] = 0;
    assert_int_equal(zmq_curve_public(derived, sec), 0);
    assert_memory_equal(derived, pub, 40);

    assert_int_equal(strom_identity_load(&id, keys, "a", err, sizeof err), 0);
    assert_string_equal(id.name, "a");
    assert_memory_equal(id.public_z85, pub, 40);
    assert_string_equal(id.secret_z85, sec);
    strom_identity_release(&id);
    for (size_t i = 0; i < sizeof id; i++)
        assert_int_equal(((unsigned char *)&id)[i], 0); /* wiped */

    /* Never overwritten: an existing .key, or another host's .pub. */
    assert_int_equal(strom_keys_generate(keys, "a", &(int){0}, err, sizeof err), STROM_E_EXISTS);
    assert_contains(err, "a.key already exists");
    free(sec);
    sec = tu_read_file(tu_path(keys, "a.key"), &n);
    assert_memory_equal(derived, pub, 40); /* a.pub unchanged */
    assert_int_equal(remove(tu_path(keys, "b.key")), 0);
    assert_int_equal(strom_keys_generate(keys, "b", &(int){0}, err, sizeof err), STROM_E_EXISTS);
    assert_contains(err, "b.pub already exists");
    /* Names. */
    assert_int_equal(strom_keys_generate(keys, "a/x", &(int){0}, err, sizeof err), STROM_E_INVAL);
    assert_contains(err, "character 2 (0x2f)");
    assert_int_equal(strom_keys_generate(keys, "cluster", &(int){0}, err, sizeof err),
                     STROM_E_INVAL);
    assert_int_equal(strom_keys_generate(keys, "", &(int){0}, err, sizeof err), STROM_E_INVAL);

    /* The cluster secret: 32 bytes, the file's hex. */
    assert_int_equal(strom_cluster_secret_read(keys, secret, err, sizeof err), 0);
    {
        char *hex = tu_read_file(tu_path(keys, "cluster.secret"), &n);
        assert_int_equal(n, 65);
        for (int i = 0; i < 32; i++) {
            unsigned v;
            assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
            assert_int_equal(secret[i], v);
        }
        free(hex);
    }
    /* A second directory gets another secret. */
    {
        char *k2 = strdup(tu_path(base, "keys2"));
        int made = 0;
        assert_int_equal(strom_keys_generate(k2, "c", &made, err, sizeof err), 0);
        assert_int_equal(made, 1);
        assert_int_equal(strom_cluster_secret_read(k2, secret2, err, sizeof err), 0);
        assert_memory_not_equal(secret, secret2, 32);
        free(k2);
    }
    free(pub);
    free(sec);
    free(keys);
    tu_rmtree(base);
    free(base);
}

static void load_fails(const char *keys, const char *name, int rc, const char *want)
{
    struct strom_identity id;
    char err[512] = "";
    assert_int_equal(strom_identity_load(&id, keys, name, err, sizeof err), rc);
    assert_contains(err, want);
}

static void test_identity_refusals(void **st)
{
    char *keys, *base = make_keys(&keys), *a_pub, *b_pub, want[600];
    const char *akey = NULL;
    size_t n;
    (void)st;

    akey = strdup(tu_path(keys, "a.key"));
    /* Readable by group, then by others. */
    assert_int_equal(chmod(akey, 0640), 0);
    snprintf(want, sizeof want, "%s: mode 0640 lets group or others at a secret", akey);
    load_fails(keys, "a", -EACCES, want);
    assert_int_equal(chmod(akey, 0604), 0);
    load_fails(keys, "a", -EACCES, "mode 0604");
    assert_int_equal(chmod(akey, 0600), 0);

    /* Bad Z85 character, bad length, in the secret and in the public key. */
    a_pub = tu_read_file(tu_path(keys, "a.pub"), &n);
    b_pub = tu_read_file(tu_path(keys, "b.pub"), &n);
    {
        char *sec = tu_read_file(akey, &n), bad[64];
        memcpy(bad, sec, 41);
        bad[4] = '~';
        assert_int_equal(tu_write_file(akey, bad, 41), 0);
        assert_int_equal(chmod(akey, 0600), 0);
        load_fails(keys, "a", STROM_E_CORRUPT, "a.key: bad Z85 character 0x7e at column 5");
        assert_int_equal(tu_write_file(akey, sec, 39), 0); /* 39 characters, no newline */
        load_fails(keys, "a", STROM_E_CORRUPT, "a.key: bad length: 39 characters");
        bad[4] = sec[4];
        bad[40] = 'x';
        bad[41] = '\n';
        assert_int_equal(tu_write_file(akey, bad, 42), 0);
        load_fails(keys, "a", STROM_E_CORRUPT, "a.key: bad length: 41 characters");
        assert_int_equal(tu_write_file(akey, sec, 41), 0);
        free(sec);
    }
    {
        char bad[64];
        memcpy(bad, a_pub, 41);
        bad[0] = ' ';
        assert_int_equal(tu_write_file(tu_path(keys, "a.pub"), bad, 41), 0);
        load_fails(keys, "a", STROM_E_CORRUPT, "a.pub: bad Z85 character 0x20 at column 1");
        assert_int_equal(tu_write_file(tu_path(keys, "a.pub"), "", 0), 0);
        load_fails(keys, "a", STROM_E_CORRUPT, "a.pub: bad length: 0 characters");
    }
    /* A pair that is not one: b's public key beside a's secret. */
    assert_int_equal(tu_write_file(tu_path(keys, "a.pub"), b_pub, 41), 0);
    load_fails(keys, "a", STROM_E_CORRUPT, "a.pub does not belong to");
    assert_int_equal(tu_write_file(tu_path(keys, "a.pub"), a_pub, 41), 0);
    /* Missing files, missing directory. */
    load_fails(keys, "nobody", -ENOENT, "nobody.key: missing");
    assert_int_equal(remove(tu_path(keys, "a.pub")), 0);
    load_fails(keys, "a", -ENOENT, "a.pub: missing");
    load_fails("/nonexistent/strom-keys", "a", -ENOENT, "/nonexistent/strom-keys/a.key: missing");
    assert_int_equal(tu_write_file(tu_path(keys, "a.pub"), a_pub, 41), 0);
    {
        struct strom_identity id;
        assert_int_equal(strom_identity_load(&id, keys, "a", NULL, 0), 0);
        strom_identity_release(&id);
    }
    free(a_pub);
    free(b_pub);
    free((char *)akey);
    free(keys);
    tu_rmtree(base);
    free(base);
}

static void test_allowlist(void **st)
{
    char *keys, *base = make_keys(&keys), err[512] = "", *a_pub;
    struct strom_allowlist *al = NULL;
    struct strom_identity id;
    uint8_t secret[32];
    size_t n;
    (void)st;

    assert_int_equal(strom_allowlist_load(&al, keys, err, sizeof err), 0);
    assert_int_equal(strom_allowlist_count(al), 2);
    assert_int_equal(strom_identity_load(&id, keys, "b", err, sizeof err), 0);
    assert_string_equal(strom_allowlist_public(al, "b"), id.public_z85);
    assert_string_equal(strom_allowlist_name_of(al, id.public_key), "b");
    assert_null(strom_allowlist_public(al, "c"));
    id.public_key[0] ^= 1;
    assert_null(strom_allowlist_name_of(al, id.public_key));
    strom_identity_release(&id);
    strom_allowlist_free(al);
    strom_allowlist_free(NULL);

    /* A broken .pub, a badly named one, the same key twice: refused, naming the file. */
    a_pub = tu_read_file(tu_path(keys, "a.pub"), &n);
    assert_int_equal(tu_write_file(tu_path(keys, "c.pub"), "short\n", 6), 0);
    assert_int_equal(strom_allowlist_load(&al, keys, err, sizeof err), STROM_E_CORRUPT);
    assert_null(al);
    assert_contains(err, "c.pub: bad length: 5 characters");
    assert_int_equal(rename(tu_path(keys, "c.pub"), tu_path(keys, "c d.pub")), 0);
    assert_int_equal(strom_allowlist_load(&al, keys, err, sizeof err), STROM_E_INVAL);
    assert_contains(err, "'c d' is not a valid key name");
    assert_int_equal(remove(tu_path(keys, "c d.pub")), 0);
    assert_int_equal(tu_write_file(tu_path(keys, "c.pub"), a_pub, n), 0);
    assert_int_equal(strom_allowlist_load(&al, keys, err, sizeof err), STROM_E_CORRUPT);
    assert_contains(err, "the same public key as");
    assert_int_equal(remove(tu_path(keys, "c.pub")), 0);
    assert_int_equal(strom_allowlist_load(&al, "/nonexistent/k", err, sizeof err), -ENOENT);
    assert_contains(err, "/nonexistent/k: missing");

    /* The cluster secret's refusals. */
    assert_int_equal(chmod(tu_path(keys, "cluster.secret"), 0644), 0);
    assert_int_equal(strom_cluster_secret_read(keys, secret, err, sizeof err), -EACCES);
    assert_contains(err, "cluster.secret: mode 0644");
    assert_int_equal(
        tu_write_file(tu_path(keys, "cluster.secret"),
                      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n", 65),
        0);
    assert_int_equal(chmod(tu_path(keys, "cluster.secret"), 0600), 0);
    assert_int_equal(strom_cluster_secret_read(keys, secret, err, sizeof err), STROM_E_CORRUPT);
    assert_contains(err, "bad hex character 0x67 at column 64");
    assert_int_equal(tu_write_file(tu_path(keys, "cluster.secret"), "00\n", 3), 0);
    assert_int_equal(strom_cluster_secret_read(keys, secret, err, sizeof err), STROM_E_CORRUPT);
    assert_contains(err, "bad length: 2 characters, expected 64");
    assert_int_equal(remove(tu_path(keys, "cluster.secret")), 0);
    assert_int_equal(strom_cluster_secret_read(keys, secret, err, sizeof err), -ENOENT);
    assert_contains(err, "cluster.secret: missing");
    free(a_pub);
    free(keys);
    tu_rmtree(base);
    free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_files),
        cmocka_unit_test(test_identity_refusals),
        cmocka_unit_test(test_allowlist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
