/*
 * core/errf.h: the one way internal code reports a failure with detail: it writes the
 * message (printf-style) into the caller's buffer, when there is one, and returns rc, for
 * `return strom__errf(err, errlen, rc, "cannot open %s", path);`.
 */
#ifndef STROM_CORE_ERRF_H
#define STROM_CORE_ERRF_H

#include <stddef.h>

int strom__errf(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
