/* tests/unit/testutil.h: helpers shared by the unit tests. */
#ifndef STROM_TESTUTIL_H
#define STROM_TESTUTIL_H

#include <stddef.h>

/* A fresh empty directory under $TMPDIR (or /tmp); the caller frees the string. */
char *tu_tempdir(void);
/* path = dir + "/" + name, in a static rotating buffer (valid for a few calls). */
const char *tu_path(const char *dir, const char *name);
/* Whole file into a malloc'd NUL-terminated buffer; NULL if it cannot be read. */
char *tu_read_file(const char *path, size_t *len);
/* Write len bytes to path; 0 or -errno. */
int tu_write_file(const char *path, const void *data, size_t len);
/* The whole file at path (NULL if unreadable), then dir removed and freed: the end of a
 * test that ran a job into a temporary directory. */
char *tu_read_and_clean(char *dir, const char *path);
/* Remove dir and everything below it. */
void tu_rmtree(const char *dir);
/* Peak and current resident set size of this process, in KiB (from /proc/self/status). */
long tu_peak_rss_kib(void);
long tu_rss_kib(void);

#endif
