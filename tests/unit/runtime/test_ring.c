/* The SPSC ring: bounded (refuses when full, never grows), FIFO, and correct across two
 * threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>

#include "runtime/ring.h"

static void test_bounded_fifo(void **st)
{
    struct strom_ring r;
    (void)st;
    assert_int_equal(strom_ring_init(&r, 5), 0); /* rounded up to 8 */
    for (uintptr_t i = 1; i <= 8; i++)
        assert_int_equal(strom_ring_push(&r, (void *)i), 0);
    assert_int_equal(strom_ring_push(&r, (void *)9), -EAGAIN);
    assert_int_equal(strom_ring_count(&r), 8);
    for (uintptr_t i = 1; i <= 8; i++)
        assert_ptr_equal(strom_ring_pop(&r), (void *)i);
    assert_null(strom_ring_pop(&r));
    assert_int_equal(strom_ring_push(&r, (void *)10), 0);
    assert_ptr_equal(strom_ring_pop(&r), (void *)10);
    strom_ring_release(&r);
}

#define N 2000000
static void *producer(void *arg)
{
    struct strom_ring *r = arg;
    for (uintptr_t i = 1; i <= N; i++)
        while (strom_ring_push(r, (void *)i))
            ;
    return NULL;
}

static void test_two_threads_in_order(void **st)
{
    struct strom_ring r;
    pthread_t t;
    uintptr_t want = 1;
    (void)st;
    assert_int_equal(strom_ring_init(&r, 16), 0);
    assert_int_equal(pthread_create(&t, NULL, producer, &r), 0);
    while (want <= N) {
        void *p = strom_ring_pop(&r);
        if (!p)
            continue;
        if ((uintptr_t)p != want)
            fail_msg("got %zu, want %zu", (size_t)(uintptr_t)p, (size_t)want);
        want++;
        assert_true(strom_ring_count(&r) <= 16);
    }
    pthread_join(t, NULL);
    assert_null(strom_ring_pop(&r));
    strom_ring_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded_fifo),
        cmocka_unit_test(test_two_threads_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
