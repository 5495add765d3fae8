/* tests/fuzz/fuzz.h: what the fuzz targets share. */
#ifndef STROM_FUZZ_H
#define STROM_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

/* A fuzzer, unlike the library, stops at the first broken promise. */
#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#endif
