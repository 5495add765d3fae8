/*
 * core/crash.c: crash points (crash.h).
 */
#include "core/crash.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char point[64];
static unsigned long left; /* passes to go; 0: no crash point set */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void setup(void)
{
    const char *v = getenv("STROM_CRASH_AT");
    const char *colon;
    size_t n;
    if (!v || !*v)
        return;
    colon = strchr(v, ':');
    n = colon ? (size_t)(colon - v) : strlen(v);
    if (n >= sizeof point)
        return;
    memcpy(point, v, n);
    point[n] = 0;
    left = colon ? strtoul(colon + 1, NULL, 10) : 1;
}

void strom_crash_point(const char *name)
{
    pthread_once(&once, setup);
    if (!left || strcmp(name, point))
        return;
    pthread_mutex_lock(&lock);
    if (left && --left == 0)
        kill(getpid(), SIGKILL);
    pthread_mutex_unlock(&lock);
}
