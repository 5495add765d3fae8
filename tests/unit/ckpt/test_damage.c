/*
 * tests/unit/ckpt/test_damage.c: damaged checkpoints on disk. Checkpoints 1 and 2 are
 * written, then one file of 2 is cut, bit-flipped, grown or removed: verify and read refuse
 * it with the right code and a message naming the file and the fault, and latest falls back
 * to checkpoint 1, telling (notice) why it passed over 2. Every cut and flip of the formats
 * themselves is test_format.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt_fixture.h"
#include "strom/ckpt.h"
#include "strom/error.h"
#include "testutil.h"

enum damage { CUT, FLIP, GROW, REMOVE };

static void damage(const char *path, enum damage how, long at)
{
    struct stat sb;
    int fd;
    uint8_t b;

    assert_int_equal(stat(path, &sb), 0);
    switch (how) {
    case CUT:
        assert_int_equal(truncate(path, sb.st_size - at), 0);
        break;
    case GROW:
        fd = open(path, O_WRONLY | O_APPEND);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "!", 1), 1);
        close(fd);
        break;
    case FLIP:
        fd = open(path, O_RDWR);
        assert_true(fd >= 0);
        if (at < 0)
            at += sb.st_size;
        assert_int_equal(pread(fd, &b, 1, at), 1);
        b ^= 0x08;
        assert_int_equal(pwrite(fd, &b, 1, at), 1);
        close(fd);
        break;
    case REMOVE:
        assert_int_equal(unlink(path), 0);
        break;
    }
}

struct fault {
    const char *file; /* in checkpoint 2 */
    enum damage how;
    long at;          /* CUT: bytes cut; FLIP: offset (from the end when negative) */
    int rc;           /* of verify, and of read when read_rc is 0 */
    const char *says; /* in the messages, after the file's path */
    const char *blob; /* a blob to read: refused */
    int read_rc;
};

static const struct fault faults[] = {
    {"b", CUT, 10, STROM_E_CORRUPT, ": truncated: ", "b", 0},
    {"a", CUT, 4000, STROM_E_CORRUPT, ": truncated: ", "a", 0},
    {"a", FLIP, 100, STROM_E_CORRUPT, ": checksum mismatch over the ", "a", 0},
    {"a", FLIP, -1, STROM_E_CORRUPT, ": checksum mismatch over the ", "a", 0},
    {"b", FLIP, 20, STROM_E_CORRUPT, ": header checksum mismatch", "b", 0},
    {"c", FLIP, 2, STROM_E_CORRUPT, ": not a checkpoint blob file", "c", 0},
    {"b", GROW, 0, STROM_E_CORRUPT, ": wrong size: ", "b", 0},
    {"c", REMOVE, 0, STROM_E_CORRUPT, ": missing (the manifest lists it)", "c", 0},
    {"MANIFEST", CUT, 5, STROM_E_CORRUPT, ": truncated: ", "a", 0},
    {"MANIFEST", CUT, 170, STROM_E_CORRUPT, ": truncated (7 bytes)", "a", 0},
    {"MANIFEST", FLIP, 40, STROM_E_CORRUPT, ": manifest checksum mismatch", "a", 0},
    {"MANIFEST", FLIP, -3, STROM_E_CORRUPT, ": manifest checksum mismatch", "a", 0},
    {"MANIFEST", FLIP, 0, STROM_E_CORRUPT, ": wrong magic", "a", 0},
    {"MANIFEST", FLIP, 5, STROM_E_VERSION, ": manifest format version 2049", "a", 0},
    {"MANIFEST", GROW, 0, STROM_E_CORRUPT, ": trailing bytes: ", "a", 0},
    {"MANIFEST", REMOVE, 0, STROM_E_NOTFOUND, " is missing", "a", 0},
};

static void test_faults(void **unused)
{
    (void)unused;

    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        const struct fault *f = &faults[i];
        char *dir = tu_tempdir(), err[1024] = "", want[4400];
        struct strom_ckpt *st;
        struct fx_notes notes;
        uint8_t *meta = NULL, *d = NULL;
        size_t mlen = 0, len = 0;
        uint64_t n = 0;
        int rc;

        assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
        assert_int_equal(fx_commit(st, 1, err, sizeof err), 0);
        assert_int_equal(fx_commit(st, 2, err, sizeof err), 0);
        strom_ckpt_close(st);
        damage(fx_ckpt_path(dir, 2, f->file), f->how, f->at);
        snprintf(want, sizeof want, "%s%s", fx_ckpt_path(dir, 2, f->file), f->says);

        assert_int_equal(fx_open(&st, dir, FX_FP, 0, &notes, err, sizeof err), 0);
        rc = strom_ckpt_verify(st, 2, err, sizeof err);
        if (rc != f->rc || !strstr(err, want))
            fail_msg("fault %zu: verify gave %s: %s; expected %s: ...%s", i, strom_errname(rc), err,
                     strom_errname(f->rc), want);
        rc = strom_ckpt_read(st, 2, f->blob, &d, &len, err, sizeof err);
        if (rc != (f->read_rc ? f->read_rc : f->rc) || !strstr(err, want))
            fail_msg("fault %zu: read gave %s: %s; expected ...%s", i, strom_errname(rc), err,
                     want);
        assert_null(d);
        /* The damaged checkpoint is passed over, with a notice naming the file. */
        assert_int_equal(strom_ckpt_latest(st, &n, &meta, &mlen, err, sizeof err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(mlen, strlen("offsets=1"));
        assert_memory_equal(meta, "offsets=1", mlen);
        assert_int_equal(notes.n, 1);
        assert_int_equal(notes.rc[0], f->rc);
        if (!strstr(notes.msg[0], "skipping checkpoint 2: ") || !strstr(notes.msg[0], want))
            fail_msg("fault %zu: notice: %s", i, notes.msg[0]);
        assert_int_equal(fx_check(st, 1), 0);
        free(meta);
        /* The job resumes from 1 and writes 2 again: the damaged 2 does not stand in the
         * way, and is replaced. */
        assert_int_equal(fx_commit(st, 2, err, sizeof err), 0);
        assert_int_equal(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err), 0);
        assert_int_equal(n, 2);
        assert_int_equal(fx_check(st, 1), 0);
        assert_int_equal(fx_check(st, 2), 0);
        strom_ckpt_close(st);
        tu_rmtree(dir);
        free(dir);
    }
}

/* Retention judges from manifests, sizes and headers: a cut blob makes an older checkpoint
 * incomplete, and it goes; a flipped bit in a payload is found only when read (latest never
 * takes it), so such a checkpoint stays as one of the kept. */
static void test_retention_of_damaged(void **unused)
{
    (void)unused;

    for (int flip = 0; flip < 2; flip++) {
        char *dir = tu_tempdir(), err[1024] = "";
        struct strom_ckpt *st;

        assert_int_equal(fx_open(&st, dir, FX_FP, 3, NULL, err, sizeof err), 0);
        for (uint64_t i = 1; i <= 3; i++)
            assert_int_equal(fx_commit(st, i, err, sizeof err), 0);
        damage(fx_ckpt_path(dir, 2, "a"), flip ? FLIP : CUT, flip ? 200 : 1);
        assert_int_equal(fx_commit(st, 4, err, sizeof err), 0);
        assert_true(fx_exists(fx_ckpt_path(dir, 4, NULL)));
        assert_true(fx_exists(fx_ckpt_path(dir, 3, NULL)));
        assert_int_equal(fx_exists(fx_ckpt_path(dir, 2, NULL)), flip);
        assert_int_equal(fx_exists(fx_ckpt_path(dir, 1, NULL)), !flip);
        assert_int_equal(strom_ckpt_verify(st, 2, err, sizeof err),
                         flip ? STROM_E_CORRUPT : STROM_E_NOTFOUND);
        strom_ckpt_close(st);
        tu_rmtree(dir);
        free(dir);
    }
}

/* Both checkpoints damaged: nothing to resume from, and both reasons told. */
static void test_nothing_left(void **unused)
{
    char *dir = tu_tempdir(), err[1024] = "";
    struct strom_ckpt *st;
    struct fx_notes notes;
    uint64_t n;
    (void)unused;

    assert_int_equal(fx_open(&st, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(fx_commit(st, 1, err, sizeof err), 0);
    assert_int_equal(fx_commit(st, 2, err, sizeof err), 0);
    strom_ckpt_close(st);
    damage(fx_ckpt_path(dir, 2, "b"), FLIP, -10);
    damage(fx_ckpt_path(dir, 1, "MANIFEST"), CUT, 1);
    assert_int_equal(fx_open(&st, dir, FX_FP, 0, &notes, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err), STROM_E_NOTFOUND);
    assert_non_null(strstr(err, "(2 incomplete or damaged skipped)"));
    assert_int_equal(notes.n, 2);
    assert_non_null(strstr(notes.msg[0], "ckpt-00000000000000000002/b: checksum mismatch"));
    assert_non_null(strstr(notes.msg[1], "ckpt-00000000000000000001/MANIFEST: truncated"));
    strom_ckpt_close(st);
    tu_rmtree(dir);
    free(dir);
}

/* A directory that is not a checkpoint's, a stray file named like one: passed over. */
static void test_strangers(void **unused)
{
    char *dir = tu_tempdir(), err[1024] = "";
    struct strom_ckpt *st;
    struct fx_notes notes;
    uint64_t n;
    (void)unused;

    assert_int_equal(fx_open(&st, dir, FX_FP, 0, &notes, err, sizeof err), 0);
    assert_int_equal(fx_commit(st, 1, err, sizeof err), 0);
    assert_int_equal(tu_write_file(fx_ckpt_path(dir, 9, NULL), "x", 1), 0);
    assert_int_equal(mkdir(tu_path(dir, "ckpt-123"), 0755), 0);
    assert_int_equal(tu_write_file(tu_path(dir, "notes.txt"), "x", 1), 0);
    assert_int_equal(strom_ckpt_latest(st, &n, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(notes.n, 1);
    assert_non_null(strstr(notes.msg[0], "skipping checkpoint 9: "));
    /* begin 9 clears the stray file and writes the checkpoint */
    assert_int_equal(fx_commit(st, 9, err, sizeof err), 0);
    assert_int_equal(fx_check(st, 9), 0);
    assert_true(fx_exists(tu_path(dir, "notes.txt")));
    assert_true(fx_exists(tu_path(dir, "ckpt-123")));
    strom_ckpt_close(st);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_retention_of_damaged),
        cmocka_unit_test(test_nothing_left),
        cmocka_unit_test(test_strangers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
