/*
 * tests/unit/ckpt/test_store.c: the checkpoint store when the disk is healthy: a round trip
 * of large blobs written from two threads, retention, incomplete checkpoints left by a
 * crash, another job's checkpoints, the lock between processes, the finished marker, and
 * the calls it refuses. Damaged files are test_damage.c's; failing writes test_full_disk.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt_fixture.h"
#include "strom/ckpt.h"
#include "strom/error.h"
#include "testutil.h"

#define BIG ((size_t)50 << 20)

/* Names (ending in suffix) found below dir, one level of subdirectories included. */
static int count_named(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t sl = strlen(suffix);
    int found = 0;

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.')
            continue;
        if (l >= sl && !strcmp(de->d_name + l - sl, suffix))
            found++;
        if (!strncmp(de->d_name, "ckpt-", 5))
            found += count_named(tu_path(dir, de->d_name), suffix);
    }
    closedir(d);
    return found;
}

/* ---- round trip from two threads ---- */

struct putter {
    struct strom_ckpt_txn *tx;
    const char *names[2];
    const uint8_t *data[2];
    size_t len[2];
    int rc;
    char err[512];
};

static void *put_two(void *arg)
{
    struct putter *p = arg;

    for (int i = 0; i < 2 && !p->rc; i++)
        p->rc = strom_ckpt_put(p->tx, p->names[i], p->data[i], p->len[i], p->err, sizeof p->err);
    return NULL;
}

static void test_roundtrip_threads(void **unused)
{
    char *dir = tu_tempdir(), err[1024] = "";
    uint8_t *small = fx_random(1, 100), *text = fx_text(2, BIG), *noise = fx_random(3, BIG);
    static const char meta[] = "source=input.csv offset=123456789 watermark=42";
    struct strom_ckpt *st;
    struct strom_ckpt_txn *tx;
    struct putter p1, p2;
    pthread_t t1, t2;
    struct stat sb;
    uint8_t *back = NULL, *m = NULL;
    size_t len = 0, mlen = 0;
    uint64_t n = 0;
    (void)unused;

    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_begin(st, 1, &tx, err, sizeof err), 0);
    p1 = (struct putter){tx, {"empty", "big-text"}, {NULL, text}, {0, BIG}, 0, ""};
    p2 = (struct putter){tx, {"small", "big-random"}, {small, noise}, {100, BIG}, 0, ""};
    assert_int_equal(pthread_create(&t1, NULL, put_two, &p1), 0);
    assert_int_equal(pthread_create(&t2, NULL, put_two, &p2), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    if (p1.rc || p2.rc)
        fail_msg("put: %s %s", p1.err, p2.err);
    assert_int_equal(strom_ckpt_commit(tx, meta, sizeof meta - 1, err, sizeof err), 0);
    strom_ckpt_close(st);

    /* Compressible content is stored compressed; incompressible barely grows. */
    assert_int_equal(stat(fx_ckpt_path(dir, 1, "big-text"), &sb), 0);
    assert_true((size_t)sb.st_size < BIG / 10);
    assert_int_equal(stat(fx_ckpt_path(dir, 1, "big-random"), &sb), 0);
    assert_true((size_t)sb.st_size < BIG + BIG / 100);
    assert_int_equal(count_named(dir, ".tmp"), 0);

    /* Another open of the directory finds it all. */
    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_latest(st, &n, &m, &mlen, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mlen, sizeof meta - 1);
    assert_memory_equal(m, meta, mlen);
    assert_int_equal(strom_ckpt_verify(st, 1, err, sizeof err), 0);
    const char *names[] = {"empty", "small", "big-text", "big-random"};
    const uint8_t *want[] = {NULL, small, text, noise};
    size_t lens[] = {0, 100, BIG, BIG};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(strom_ckpt_read(st, 1, names[i], &back, &len, err, sizeof err), 0);
        assert_non_null(back);
        assert_int_equal(len, lens[i]);
        if (len)
            assert_true(memcmp(back, want[i], len) == 0);
        free(back);
    }
    assert_int_equal(strom_ckpt_read(st, 1, "absent", &back, &len, err, sizeof err),
                     STROM_E_NOTFOUND);
    assert_non_null(strstr(err, "has no blob 'absent'"));
    free(m);
    strom_ckpt_close(st);
    free(small);
    free(text);
    free(noise);
    tu_rmtree(dir);
    free(dir);
}

/* ---- retention ---- */

static void test_retention(void **unused)
{
    char *dir = tu_tempdir(), *dir3, err[1024] = "";
    struct strom_ckpt *st;
    uint64_t n;
    (void)unused;

    assert_int_equal(fx_open(&st, dir, FX_FP, 2, NULL, err, sizeof err), 0);
    for (uint64_t i = 1; i <= 5; i++) {
        assert_int_equal(fx_commit(st, i, err, sizeof err), 0);
        for (uint64_t j = 1; j <= i; j++)
            assert_int_equal(fx_exists(fx_ckpt_path(dir, j, NULL)), j + 2 > i);
    }
    assert_int_equal(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(n, 5);
    assert_int_equal(fx_check(st, 4), 0);
    assert_int_equal(fx_check(st, 5), 0);
    strom_ckpt_close(st);

    /* keep 0 means the default, 3; numbers need not be consecutive */
    dir3 = tu_tempdir();
    assert_int_equal(fx_open(&st, dir3, FX_FP, 0, NULL, err, sizeof err), 0);
    static const uint64_t nums[] = {2, 3, 10, 11, 40};
    for (int i = 0; i < 5; i++)
        assert_int_equal(fx_commit(st, nums[i], err, sizeof err), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(fx_exists(fx_ckpt_path(dir3, nums[i], NULL)), i >= 2);
    strom_ckpt_close(st);
    tu_rmtree(dir);
    tu_rmtree(dir3);
    free(dir);
    free(dir3);
}

/* ---- a crash while writing ---- */

/* In a child: begin checkpoint n, put two blobs, and die without commit or abort. */
static void crash_during(const char *dir, uint64_t n)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        struct strom_ckpt *st;
        struct strom_ckpt_txn *tx;
        char err[1024];
        if (fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err) ||
            strom_ckpt_begin(st, n, &tx, err, sizeof err) ||
            strom_ckpt_put(tx, "a", "aaaa", 4, err, sizeof err) ||
            strom_ckpt_put(tx, "b", "bbbb", 4, err, sizeof err)) {
            fprintf(stderr, "child: %s\n", err);
            _exit(1);
        }
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_incomplete(void **unused)
{
    char *dir = tu_tempdir(), err[1024] = "";
    struct fx_notes notes;
    struct strom_ckpt *st;
    struct strom_ckpt_txn *tx;
    uint64_t n;
    (void)unused;

    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(fx_commit(st, 1, err, sizeof err), 0);
    assert_int_equal(fx_commit(st, 2, err, sizeof err), 0);
    strom_ckpt_close(st);
    crash_during(dir, 3);
    assert_int_equal(tu_write_file(fx_ckpt_path(dir, 3, "half.tmp"), "x", 1), 0);
    assert_int_equal(tu_write_file(tu_path(dir, "FINISHED.tmp"), "x", 1), 0);

    /* Not complete: passed over, with a notice saying why. */
    assert_int_equal(fx_open(&st, dir, FX_FP, 0, &notes, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(notes.n, 1);
    assert_int_equal(notes.rc[0], STROM_E_NOTFOUND);
    assert_non_null(strstr(notes.msg[0], "skipping checkpoint 3: checkpoint 3 is incomplete: "));
    assert_non_null(strstr(notes.msg[0], "ckpt-00000000000000000003/MANIFEST is missing"));
    assert_int_equal(strom_ckpt_verify(st, 3, err, sizeof err), STROM_E_NOTFOUND);
    assert_int_equal(strom_ckpt_read(st, 3, "a", &(uint8_t *){NULL}, &(size_t){0}, err, sizeof err),
                     STROM_E_NOTFOUND);

    /* Writing 3 again starts from nothing. */
    assert_int_equal(strom_ckpt_begin(st, 3, &tx, err, sizeof err), 0);
    assert_false(fx_exists(fx_ckpt_path(dir, 3, "half.tmp")));
    assert_false(fx_exists(fx_ckpt_path(dir, 3, "a")));
    strom_ckpt_abort(tx);
    assert_false(fx_exists(fx_ckpt_path(dir, 3, NULL)));
    assert_int_equal(fx_commit(st, 3, err, sizeof err), 0);
    assert_int_equal(fx_check(st, 3), 0);
    strom_ckpt_close(st);

    /* A crash at 4, then 5 committed: the leftovers of 4, older than 5, go; so do stray
     * temporary files. */
    crash_during(dir, 4);
    assert_int_equal(fx_open(&st, dir, FX_FP, 0, &notes, err, sizeof err), 0);
    assert_true(fx_exists(fx_ckpt_path(dir, 4, "a")));
    assert_int_equal(fx_commit(st, 5, err, sizeof err), 0);
    assert_false(fx_exists(fx_ckpt_path(dir, 4, NULL)));
    assert_false(fx_exists(tu_path(dir, "FINISHED.tmp")));
    for (uint64_t i = 1; i <= 5; i++)
        assert_int_equal(fx_exists(fx_ckpt_path(dir, i, NULL)), i == 2 || i == 3 || i == 5);
    assert_int_equal(count_named(dir, ".tmp"), 0);
    assert_int_equal(notes.n, 0);
    strom_ckpt_close(st);
    tu_rmtree(dir);
    free(dir);
}

/* ---- another job ---- */

static void test_foreign(void **unused)
{
    char *dir = tu_tempdir(), err[1024] = "";
    struct strom_ckpt *st;
    struct strom_ckpt_txn *tx = NULL;
    struct fx_notes notes;
    uint8_t *d = NULL;
    size_t len;
    uint64_t n;
    (void)unused;

    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(fx_commit(st, 1, err, sizeof err), 0);
    assert_int_equal(fx_commit(st, 2, err, sizeof err), 0);
    strom_ckpt_close(st);

    assert_int_equal(fx_open(&st, dir, "job=other", 0, &notes, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err), STROM_E_FOREIGN);
    assert_non_null(strstr(err, "ckpt-00000000000000000002/MANIFEST: checkpoint 2 belongs to "
                                "another job (fingerprint '" FX_FP "'; this job's is "
                                "'job=other')"));
    assert_int_equal(notes.n, 0); /* refused, not skipped */
    assert_int_equal(strom_ckpt_verify(st, 1, err, sizeof err), STROM_E_FOREIGN);
    assert_int_equal(strom_ckpt_read(st, 1, "a", &d, &len, err, sizeof err), STROM_E_FOREIGN);
    assert_int_equal(strom_ckpt_begin(st, 3, &tx, err, sizeof err), STROM_E_FOREIGN);
    assert_null(tx);
    assert_int_equal(strom_ckpt_is_finished(st, err, sizeof err), 0);
    assert_string_equal(strom_errname(STROM_E_FOREIGN), "STROM_E_FOREIGN");
    strom_ckpt_close(st);

    /* A binary fingerprint is shown in hex. */
    struct strom_ckpt_config cfg = {.fingerprint = "\x01\x02\xff", .fingerprint_len = 3};
    assert_int_equal(strom_ckpt_open(&st, dir, &cfg, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err), STROM_E_FOREIGN);
    assert_non_null(strstr(err, "this job's is 0102ff)"));
    strom_ckpt_close(st);

    /* Untouched for its own job. */
    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(fx_check(st, 1), 0);
    assert_int_equal(fx_check(st, 2), 0);
    strom_ckpt_close(st);
    tu_rmtree(dir);
    free(dir);
}

/* ---- the lock ---- */

static void test_lock(void **unused)
{
    char *dir = tu_tempdir(), err[1024] = "", want[64];
    struct strom_ckpt *st, *st2;
    int go[2], done[2], status;
    char c;
    pid_t pid;
    (void)unused;

    /* Held here: a child is refused, and told who holds it. */
    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    snprintf(want, sizeof want, "(pid %ld holds the lock on ", (long)getpid());
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int rc = fx_open(&st2, dir, FX_FP, 0, NULL, err, sizeof err);
        if (rc != -EBUSY || !strstr(err, "is in use by another process") || !strstr(err, want) ||
            !strstr(err, dir)) {
            fprintf(stderr, "child: rc %d: %s\n", rc, err);
            _exit(1);
        }
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Within one process too. */
    assert_int_equal(fx_open(&st2, dir, FX_FP, 0, NULL, err, sizeof err), -EBUSY);
    strom_ckpt_close(st);

    /* Held by a child: refused here until it lets go. */
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[0]);
        close(done[1]);
        if (fx_open(&st2, dir, FX_FP, 0, NULL, err, sizeof err))
            _exit(1);
        if (write(go[1], "g", 1) != 1 || read(done[0], &c, 1) != 1)
            _exit(2);
        strom_ckpt_close(st2);
        _exit(0);
    }
    close(go[1]);
    close(done[0]);
    assert_int_equal(read(go[0], &c, 1), 1);
    snprintf(want, sizeof want, "(pid %ld holds", (long)pid);
    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), -EBUSY);
    assert_non_null(strstr(err, want));
    assert_null(st);
    assert_int_equal(write(done[1], "d", 1), 1);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    strom_ckpt_close(st);
    close(go[0]);
    close(done[1]);
    tu_rmtree(dir);
    free(dir);
}

/* ---- finished ---- */

static void test_finished(void **unused)
{
    char *dir = tu_tempdir(), err[1024] = "";
    struct strom_ckpt *st;
    size_t len;
    char *bytes;
    (void)unused;

    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_is_finished(st, err, sizeof err), 0);
    assert_int_equal(fx_commit(st, 1, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_mark_finished(st, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_is_finished(st, err, sizeof err), 1);
    strom_ckpt_close(st);

    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_is_finished(st, err, sizeof err), 1);
    strom_ckpt_close(st);
    assert_int_equal(fx_open(&st, dir, "job=other", 0, NULL, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_is_finished(st, err, sizeof err), STROM_E_FOREIGN);
    assert_non_null(strstr(err, "/FINISHED: another job finished here"));
    strom_ckpt_close(st);

    /* A damaged marker is neither finished nor unfinished. */
    bytes = tu_read_file(tu_path(dir, "FINISHED"), &len);
    assert_non_null(bytes);
    bytes[14] ^= 4;
    assert_int_equal(tu_write_file(tu_path(dir, "FINISHED"), bytes, len), 0);
    free(bytes);
    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_is_finished(st, err, sizeof err), STROM_E_CORRUPT);
    assert_non_null(strstr(err, "/FINISHED: finished marker checksum mismatch"));
    strom_ckpt_close(st);
    tu_rmtree(dir);
    free(dir);
}

/* ---- refusals ---- */

static void test_refusals(void **unused)
{
    char *dir = tu_tempdir(), *deep, err[1024] = "";
    struct strom_ckpt_config cfg = {.fingerprint = "x", .fingerprint_len = 1};
    struct strom_ckpt *st;
    struct strom_ckpt_txn *tx, *tx2;
    uint8_t big[STROM_CKPT_FINGERPRINT_MAX + 1] = {0};
    uint64_t n;
    (void)unused;

    /* configuration */
    cfg.level = 20;
    assert_int_equal(strom_ckpt_open(&st, dir, &cfg, err, sizeof err), STROM_E_INVAL);
    cfg.level = 0;
    cfg.fingerprint = big;
    cfg.fingerprint_len = sizeof big;
    assert_int_equal(strom_ckpt_open(&st, dir, &cfg, err, sizeof err), STROM_E_INVAL);
    assert_int_equal(strom_ckpt_open(&st, "", &cfg, err, sizeof err), STROM_E_INVAL);
    strom_ckpt_close(NULL);
    strom_ckpt_abort(NULL);

    /* missing parents are made */
    assert_true(asprintf(&deep, "%s/x/y/z", dir) > 0);
    assert_int_equal(fx_open(&st, deep, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err), STROM_E_NOTFOUND);
    assert_non_null(strstr(err, "no complete checkpoint in "));
    assert_int_equal(strom_ckpt_verify(st, 7, err, sizeof err), STROM_E_NOTFOUND);

    /* puts */
    assert_int_equal(strom_ckpt_begin(st, 5, &tx, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_begin(st, 6, &tx2, err, sizeof err), STROM_E_BADSTATE);
    assert_int_equal(strom_ckpt_mark_finished(st, err, sizeof err), STROM_E_BADSTATE);
    static const char *bad[] = {"", "../x", "a/b", ".hidden", "x.tmp", "MANIFEST"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(strom_ckpt_put(tx, bad[i], "x", 1, err, sizeof err), STROM_E_INVAL);
    assert_int_equal(strom_ckpt_put(tx, NULL, "x", 1, err, sizeof err), STROM_E_INVAL);
    assert_int_equal(strom_ckpt_put(tx, "a", NULL, 1, err, sizeof err), STROM_E_INVAL);
    assert_int_equal(strom_ckpt_put(tx, "a", "x", 1, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_put(tx, "a", "y", 1, err, sizeof err), STROM_E_EXISTS);
    assert_non_null(strstr(err, "ckpt-00000000000000000005/a: blob written twice"));
    /* metadata too large: the commit fails and leaves nothing */
    assert_int_equal(strom_ckpt_commit(tx, big, STROM_CKPT_META_MAX + 1, err, sizeof err),
                     STROM_E_INVAL);
    assert_false(fx_exists(fx_ckpt_path(deep, 5, NULL)));

    /* begin: a number in use, an older one */
    assert_int_equal(fx_commit(st, 5, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_begin(st, 5, &tx, err, sizeof err), STROM_E_EXISTS);
    assert_int_equal(strom_ckpt_begin(st, 4, &tx, err, sizeof err), STROM_E_INVAL);
    assert_non_null(strstr(err, "checkpoint 4 would be older than checkpoint 5"));
    assert_int_equal(fx_check(st, 5), 0);
    /* an empty checkpoint is a checkpoint */
    assert_int_equal(strom_ckpt_begin(st, 6, &tx, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_commit(tx, NULL, 0, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(n, 6);
    /* close aborts what is being written */
    assert_int_equal(strom_ckpt_begin(st, 7, &tx, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_put(tx, "a", "x", 1, err, sizeof err), 0);
    strom_ckpt_close(st);
    assert_false(fx_exists(fx_ckpt_path(deep, 7, NULL)));
    free(deep);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_threads),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_foreign),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_finished),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
