/* core/error.c: messages and names of error codes (table in strom/error.h). */
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>

#include "core/errf.h"
#include "strom/error.h"

const char *strom_strerror(int rc)
{
    if (rc == 0)
        return "success";
    switch (rc) {
#define STROM__ERR_MSG(name, num, msg) \
    case num:                          \
        return msg;
        STROM_ERROR_MAP(STROM__ERR_MSG)
#undef STROM__ERR_MSG
    }
    if (rc < 0 && rc > -4096) {
        const char *s = strerrordesc_np(-rc);
        if (s)
            return s;
    }
    return "unknown error";
}

const char *strom_errname(int rc)
{
    if (rc == 0)
        return "OK";
    switch (rc) {
#define STROM__ERR_NAME(name, num, msg) \
    case num:                           \
        return "STROM_E_" #name;
        STROM_ERROR_MAP(STROM__ERR_NAME)
#undef STROM__ERR_NAME
    }
    if (rc < 0 && rc > -4096) {
        const char *s = strerrorname_np(-rc);
        if (s)
            return s;
    }
    return "UNKNOWN";
}

int strom__errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}
