/*
 * strom/error.h: error codes.
 *
 * Every public function that can fail returns an int: 0 on success, a negative number on
 * failure. Failures of the system are -errno (-ENOMEM, -EIO, ...); strom's own failures are
 * the STROM_E_* codes below, generated from one table that also drives strom_strerror().
 * Codes are appended, never renumbered: a number once given keeps its meaning.
 *
 * The code says what kind of failure it was; the detail (which operator, which line, which
 * value) travels beside it in a message that the object which failed keeps, for example
 * strom_job_errmsg().
 */
#ifndef STROM_ERROR_H
#define STROM_ERROR_H

/* X(name, number, message) */
#define STROM_ERROR_MAP(X)                                                           \
    X(INVAL, -1001, "invalid argument")                                              \
    X(NOTFOUND, -1002, "no such name")                                               \
    X(EXISTS, -1003, "name already in use")                                          \
    X(CYCLE, -1004, "the job graph has a cycle")                                     \
    X(PARALLELISM, -1005, "invalid parallelism")                                     \
    X(GRAPH, -1006, "invalid job graph")                                             \
    X(BADSTATE, -1007, "call not allowed in the current state")                      \
    X(CORRUPT, -1008, "corrupt or truncated data")                                   \
    X(VERSION, -1009, "unsupported format version")                                  \
    X(OPERATOR, -1010, "an operator failed")                                         \
    X(KEYGROUP, -1011, "key group not owned by this instance")                       \
    X(STALE_EPOCH, -1012, "message from an older assignment epoch")                  \
    X(USAGE, -1013, "invalid command-line usage")                                    \
    X(FOREIGN, -1014, "checkpoint written by another job")                           \
    X(ZK, -1015, "coordination service (ZooKeeper) failure")                         \
    X(NOAUTH, -1016, "not authorized: missing or wrong cluster secret")              \
    X(CONFLICT, -1017, "changed concurrently: version conflict")                     \
    X(SESSION, -1018, "coordination session expired or closed")                      \
    X(DISCONNECTED, -1019, "connection to the coordination service lost")            \
    X(PEERDEAD, -1020, "peer silent for longer than its timeout")                  \
    X(CLOSED, -1021, "channel finished by its sender")

enum strom_error {
    STROM_OK = 0,
#define STROM__ERR_ENUM(name, num, msg) STROM_E_##name = (num),
    STROM_ERROR_MAP(STROM__ERR_ENUM)
#undef STROM__ERR_ENUM
};

/* A static, human-readable description of rc (a STROM_E_* code, -errno, or 0). */
const char *strom_strerror(int rc);

/* The symbolic name of rc ("STROM_E_CYCLE", "ENOMEM"), for logs and tests. */
const char *strom_errname(int rc);

#endif
