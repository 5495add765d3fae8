/*
 * tests/unit/ckpt/test_full_disk.c: writes that fail. A child process limits the size of the
 * files it may write (RLIMIT_FSIZE, SIGXFSZ ignored), so that writes past the limit fail with
 * EFBIG, as on a full disk and without root: a blob or manifest that cannot be written is
 * reported naming the file, leaves no temporary file, the checkpoint cannot be committed,
 * and the complete checkpoint before it reads back intact. When the test runs as root and
 * may make a mount namespace, the same on a 1 MiB tmpfs with real ENOSPC (skipped otherwise).
 *
 * The children check and exit; the parent checks their exit and the directory after them.
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
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt_fixture.h"
#include "strom/ckpt.h"
#include "strom/error.h"
#include "testutil.h"

#define SKIPPED 77

/* In a child: report and exit when cond is false. */
#define CHILD_CHECK(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: child: check failed: %s (last message: %s)\n", __FILE__,       \
                    __LINE__, #cond, err);                                                         \
            _exit(1);                                                                              \
        }                                                                                          \
    } while (0)

/* Files whose names end in ".tmp" at the top of dir or in its checkpoints. */
static int count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int found = 0;

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && !strcmp(de->d_name + l - 4, ".tmp"))
            found++;
        if (!strncmp(de->d_name, "ckpt-", 5))
            found += count_tmp(tu_path(dir, de->d_name));
    }
    closedir(d);
    return found;
}

/* What the child does once its writes are limited (to under 1 MiB a file). expect_rc is
 * the failure of a write: -EFBIG or -ENOSPC. */
static void fail_writes(const char *dir, int expect_rc)
{
    char err[1024] = "", want[4400];
    uint8_t *big = fx_random(7, (size_t)2 << 20), *meta = fx_random(8, (size_t)2 << 20);
    struct strom_ckpt *st;
    struct strom_ckpt_txn *tx;
    uint64_t n = 0;
    int rc;

    CHILD_CHECK(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err) == 0);

    /* A blob too large: refused naming its temporary file, which is gone. */
    CHILD_CHECK(strom_ckpt_begin(st, 2, &tx, err, sizeof err) == 0);
    CHILD_CHECK(strom_ckpt_put(tx, "small", "abc", 3, err, sizeof err) == 0);
    rc = strom_ckpt_put(tx, "big", big, (size_t)2 << 20, err, sizeof err);
    snprintf(want, sizeof want, "writing %s: %s", fx_ckpt_path(dir, 2, "big.tmp"),
             strom_strerror(expect_rc));
    CHILD_CHECK(rc == expect_rc);
    CHILD_CHECK(strstr(err, want) != NULL);
    CHILD_CHECK(!fx_exists(fx_ckpt_path(dir, 2, "big.tmp")));
    CHILD_CHECK(!fx_exists(fx_ckpt_path(dir, 2, "big")));
    /* ... and the checkpoint can only be aborted. */
    CHILD_CHECK(strom_ckpt_put(tx, "more", "x", 1, err, sizeof err) == STROM_E_BADSTATE);
    CHILD_CHECK(strom_ckpt_commit(tx, "m", 1, err, sizeof err) == STROM_E_BADSTATE);
    CHILD_CHECK(!fx_exists(fx_ckpt_path(dir, 2, NULL)));

    /* Blobs fit but the manifest does not: the commit fails naming it; nothing of 2 is
     * left, and 1 is still the latest. */
    CHILD_CHECK(strom_ckpt_begin(st, 2, &tx, err, sizeof err) == 0);
    CHILD_CHECK(strom_ckpt_put(tx, "small", "abc", 3, err, sizeof err) == 0);
    rc = strom_ckpt_commit(tx, meta, (size_t)2 << 20, err, sizeof err);
    snprintf(want, sizeof want, "writing %s: %s", fx_ckpt_path(dir, 2, "MANIFEST.tmp"),
             strom_strerror(expect_rc));
    CHILD_CHECK(rc == expect_rc);
    CHILD_CHECK(strstr(err, want) != NULL);
    CHILD_CHECK(!fx_exists(fx_ckpt_path(dir, 2, NULL)));
    CHILD_CHECK(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err) == 0 && n == 1);
    CHILD_CHECK(fx_check(st, 1) == 0);

    CHILD_CHECK(count_tmp(dir) == 0);
    /* Once the writes fit again, the store goes on. */
    CHILD_CHECK(fx_commit(st, 2, err, sizeof err) == 0);
    CHILD_CHECK(fx_check(st, 2) == 0);
    strom_ckpt_close(st);
    free(big);
    free(meta);
}

/* Runs fn in a child; returns its exit status (SKIPPED when it could not set up). */
static int in_child(void (*fn)(const char *dir), const char *dir)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        fn(dir);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void efbig_child(const char *dir)
{
    struct rlimit lim = {(rlim_t)1 << 20, (rlim_t)1 << 20};
    char err[8] = "";

    CHILD_CHECK(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
    CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    fail_writes(dir, -EFBIG);
}

/* The state every variant ends in: checkpoint 1 as written, 2 written after the failures,
 * no temporary file. */
static void check_after(struct strom_ckpt *st, const char *dir)
{
    char err[1024] = "";
    uint64_t n = 0;

    assert_int_equal(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(fx_check(st, 1), 0);
    assert_int_equal(fx_check(st, 2), 0);
    assert_int_equal(count_tmp(dir), 0);
}

static void test_efbig(void **unused)
{
    char *dir = tu_tempdir(), err[1024] = "";
    struct strom_ckpt *st;
    (void)unused;

    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(fx_commit(st, 1, err, sizeof err), 0);
    strom_ckpt_close(st);
    assert_int_equal(in_child(efbig_child, dir), 0);
    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    check_after(st, dir);
    strom_ckpt_close(st);
    tu_rmtree(dir);
    free(dir);
}

/* In a child with its own mount namespace, a 1 MiB tmpfs over dir. */
static void tmpfs_child(const char *dir)
{
    char err[1024] = "";
    struct strom_ckpt *st;

    if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
        mount("tmpfs", dir, "tmpfs", 0, "size=1m"))
        _exit(SKIPPED);
    CHILD_CHECK(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err) == 0);
    CHILD_CHECK(fx_commit(st, 1, err, sizeof err) == 0);
    strom_ckpt_close(st);
    fail_writes(dir, -ENOSPC);
    CHILD_CHECK(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err) == 0);
    CHILD_CHECK(fx_check(st, 1) == 0 && fx_check(st, 2) == 0 && count_tmp(dir) == 0);
    strom_ckpt_close(st);
    /* The tmpfs goes with the namespace when this process exits. */
}

static void test_tmpfs_enospc(void **unused)
{
    char *dir = tu_tempdir();
    int status;
    (void)unused;

    if (geteuid() != 0) {
        tu_rmtree(dir);
        free(dir);
        skip();
    }
    status = in_child(tmpfs_child, dir);
    tu_rmtree(dir);
    free(dir);
    if (status == SKIPPED)
        skip();
    assert_int_equal(status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_efbig),
        cmocka_unit_test(test_tmpfs_enospc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
