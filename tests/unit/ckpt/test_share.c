/* The checkpoint store shared by the processes of a distributed job (strom/ckpt.h,
 * "Shared checkpoints"): the locks, a checkpoint written by three stores and committed by
 * one, and what adopt refuses (every cut of an export, another job's, another checkpoint's,
 * a missing or different blob, a name twice) without harm to the checkpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <unistd.h>

#include "ckpt_fixture.h"
#include "strom/state.h"
#include "testutil.h"

static int open_shared(struct strom_ckpt **st, const char *dir, const char *fp, unsigned self,
                       char *err, size_t errlen)
{
    struct strom_ckpt_config cfg = {
        .fingerprint = fp, .fingerprint_len = strlen(fp), .procs = 3, .self = self};
    return strom_ckpt_open(st, dir, &cfg, err, errlen);
}

static void test_locks(void **unused)
{
    char *dir = tu_tempdir(), err[1024] = "";
    struct strom_ckpt *a, *b, *c, *one;
    (void)unused;

    assert_int_equal(open_shared(&a, dir, FX_FP, 0, err, sizeof err), 0);
    assert_int_equal(open_shared(&b, dir, FX_FP, 1, err, sizeof err), 0);
    /* process 1 twice, and a single-process store, are refused while they are open */
    assert_int_equal(open_shared(&c, dir, FX_FP, 1, err, sizeof err), -EBUSY);
    assert_non_null(strstr(err, "LOCK.1"));
    assert_int_equal(fx_open(&one, dir, FX_FP, 0, NULL, err, sizeof err), -EBUSY);
    assert_int_equal(open_shared(&c, dir, FX_FP, 3, err, sizeof err), STROM_E_INVAL);
    strom_ckpt_close(a);
    strom_ckpt_close(b);
    /* and the other way round */
    assert_int_equal(fx_open(&one, dir, FX_FP, 0, NULL, err, sizeof err), 0);
    assert_int_equal(open_shared(&a, dir, FX_FP, 0, err, sizeof err), -EBUSY);
    strom_ckpt_close(one);
    tu_rmtree(dir);
    free(dir);
}

/* Checkpoint 1 with blob "m<self>" of each member and "c" of the committer. */
static void member_put(struct strom_ckpt *st, unsigned self, uint64_t n, struct strom_buf *out)
{
    struct strom_ckpt_txn *tx, *tx2;
    char name[16], err[1024] = "";
    uint8_t *data = fx_text(self, 5000);
    snprintf(name, sizeof name, "m%u", self);
    assert_int_equal(strom_ckpt_join(st, n, &tx, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_join(st, n, &tx2, err, sizeof err), STROM_E_BADSTATE);
    assert_int_equal(strom_ckpt_put(tx, name, data, 5000, err, sizeof err), 0);
    /* the committer commits; a refused commit frees tx, as every commit does, and leaves
     * the files */
    assert_int_equal(strom_ckpt_commit(tx, NULL, 0, err, sizeof err), STROM_E_BADSTATE);
    assert_int_equal(strom_ckpt_join(st, n, &tx, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_put(tx, name, data, 5000, err, sizeof err), 0);
    snprintf(name, sizeof name, "m%u.b", self);
    assert_int_equal(strom_ckpt_put(tx, name, data, 100, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_export(tx, out, err, sizeof err), 0);
    strom_ckpt_abort(tx); /* leaves the files */
    free(data);
}

static void test_three_stores(void **unused)
{
    char *dir = tu_tempdir(), err[1024] = "";
    struct strom_ckpt *st[3], *other;
    struct strom_ckpt_txn *tx;
    struct strom_buf ex[3] = {{0}}, bad = {0};
    uint8_t *c = fx_random(7, 3000), *d = NULL, *want;
    size_t len = 0;
    uint64_t n = 0;
    (void)unused;

    for (unsigned p = 0; p < 3; p++)
        assert_int_equal(open_shared(&st[p], dir, FX_FP, p, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_join(st[1], 1, &tx, err, sizeof err), STROM_E_NOTFOUND);
    assert_int_equal(strom_ckpt_begin(st[0], 1, &tx, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_put(tx, "c", c, 3000, err, sizeof err), 0);
    member_put(st[1], 1, 1, &ex[1]);
    member_put(st[2], 2, 1, &ex[2]);

    /* every cut of an export is refused, and so is a byte more */
    for (size_t cut = 0; cut < ex[1].len; cut++)
        assert_int_equal(strom_ckpt_adopt(tx, ex[1].data, cut, err, sizeof err), STROM_E_CORRUPT);
    assert_int_equal(strom_buf_append(&bad, ex[1].data, ex[1].len), 0);
    assert_int_equal(strom_buf_append(&bad, "x", 1), 0);
    assert_int_equal(strom_ckpt_adopt(tx, bad.data, bad.len, err, sizeof err), STROM_E_CORRUPT);
    /* another checkpoint's (n at offset 8) */
    memcpy(bad.data, ex[1].data, ex[1].len);
    bad.data[8] = 2;
    assert_int_equal(strom_ckpt_adopt(tx, bad.data, ex[1].len, err, sizeof err), STROM_E_INVAL);
    /* a checksum that is not the file's: the last 8 bytes are the last blob's */
    bad.data[8] = 1;
    bad.data[ex[1].len - 1] ^= 1;
    assert_int_equal(strom_ckpt_adopt(tx, bad.data, ex[1].len, err, sizeof err), STROM_E_CORRUPT);
    assert_non_null(strstr(err, "disagrees"));
    /* another job's */
    assert_int_equal(open_shared(&other, dir, "another job", 1, err, sizeof err), -EBUSY);
    strom_ckpt_close(st[1]);
    assert_int_equal(open_shared(&other, dir, "another job", 1, err, sizeof err), 0);
    {
        struct strom_ckpt_txn *otx;
        struct strom_buf oex = {0};
        assert_int_equal(strom_ckpt_join(other, 1, &otx, err, sizeof err), 0);
        assert_int_equal(strom_ckpt_export(otx, &oex, err, sizeof err), 0);
        strom_ckpt_abort(otx);
        assert_int_equal(strom_ckpt_adopt(tx, oex.data, oex.len, err, sizeof err), STROM_E_FOREIGN);
        strom_buf_release(&oex);
    }
    strom_ckpt_close(other);
    assert_int_equal(open_shared(&st[1], dir, FX_FP, 1, err, sizeof err), 0);
    /* a blob that is missing */
    assert_int_equal(rename(fx_ckpt_path(dir, 1, "m2.b"), fx_ckpt_path(dir, 1, "moved")), 0);
    assert_int_equal(strom_ckpt_adopt(tx, ex[2].data, ex[2].len, err, sizeof err), STROM_E_CORRUPT);
    assert_non_null(strstr(err, "missing"));
    assert_int_equal(rename(fx_ckpt_path(dir, 1, "moved"), fx_ckpt_path(dir, 1, "m2.b")), 0);

    /* none of that harmed the checkpoint; a name twice is refused */
    assert_int_equal(strom_ckpt_adopt(tx, ex[1].data, ex[1].len, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_adopt(tx, ex[1].data, ex[1].len, err, sizeof err), STROM_E_EXISTS);
    assert_int_equal(strom_ckpt_adopt(tx, ex[2].data, ex[2].len, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_commit(tx, "meta", 4, err, sizeof err), 0);

    /* every store reads it whole, whoever wrote each blob */
    assert_int_equal(strom_ckpt_latest(st[2], &n, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(strom_ckpt_verify(st[1], 1, err, sizeof err), 0);
    want = fx_text(2, 5000);
    assert_int_equal(strom_ckpt_read(st[0], 1, "m2", &d, &len, err, sizeof err), 0);
    assert_true(len == 5000 && !memcmp(d, want, len));
    free(d);
    free(want);
    assert_int_equal(strom_ckpt_read(st[1], 1, "c", &d, &len, err, sizeof err), 0);
    assert_true(len == 3000 && !memcmp(d, c, len));
    free(d);
    assert_int_equal(strom_ckpt_read(st[1], 1, "m1.b", &d, &len, err, sizeof err), 0);
    assert_int_equal(len, 100);
    free(d);
    /* the committer records the end */
    assert_int_equal(strom_ckpt_mark_finished(st[0], err, sizeof err), 0);
    assert_int_equal(strom_ckpt_is_finished(st[2], err, sizeof err), 1);

    for (unsigned p = 0; p < 3; p++) {
        strom_ckpt_close(st[p]);
        strom_buf_release(&ex[p]);
    }
    strom_buf_release(&bad);
    free(c);
    tu_rmtree(dir);
    free(dir);
}

/* A checkpoint the committer abandons goes, whoever wrote into it. */
static void test_abandoned(void **unused)
{
    char *dir = tu_tempdir(), err[1024] = "";
    struct strom_ckpt *st[2];
    struct strom_ckpt_txn *tx;
    struct strom_buf ex = {0};
    uint64_t n;
    (void)unused;

    for (unsigned p = 0; p < 2; p++)
        assert_int_equal(open_shared(&st[p], dir, FX_FP, p, err, sizeof err), 0);
    assert_int_equal(fx_commit(st[0], 1, err, sizeof err), 0);
    assert_int_equal(strom_ckpt_begin(st[0], 2, &tx, err, sizeof err), 0);
    member_put(st[1], 1, 2, &ex);
    strom_ckpt_abort(tx);
    assert_false(fx_exists(fx_ckpt_path(dir, 2, NULL)));
    assert_int_equal(strom_ckpt_latest(st[1], &n, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(fx_check(st[1], 1), 0);
    for (unsigned p = 0; p < 2; p++)
        strom_ckpt_close(st[p]);
    strom_buf_release(&ex);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locks),
        cmocka_unit_test(test_three_stores),
        cmocka_unit_test(test_abandoned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
