/* src/util/err.c - error codes, strerror, sticky error messages. */
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>

char const *
acctdb_strerror(int err) {
    switch (err) {
    case ACCTDB_OK:
        return "success";
    case ACCTDB_ERR_INVALID:
        return "invalid argument or request";
    case ACCTDB_ERR_CORRUPT:
        return "malformed or corrupt data";
    case ACCTDB_ERR_IO:
        return "I/O error";
    case ACCTDB_ERR_NOMEM:
        return "out of memory or over memory budget";
    case ACCTDB_ERR_FULL:
        return "size limit reached or disk full";
    case ACCTDB_ERR_NOT_FOUND:
        return "not found";
    case ACCTDB_ERR_AGAIN:
        return "more input needed";
    case ACCTDB_ERR_TOO_OLD:
        return "slot too old";
    case ACCTDB_ERR_STOPPED:
        return "stopped";
    case ACCTDB_ERR_UNSUPPORTED_VERSION:
        return "unsupported format version";
    case ACCTDB_ERR_FATAL:
        return "fatal error: a durable write failed, reopen required";
    case ACCTDB_ERR_BUSY:
        return "database in use";
    case ACCTDB_ERR_MISMATCH:
        return "verification mismatch";
    case ACCTDB_ERR_UNSUPPORTED:
        return "unsupported input";
    default:
        break;
    }
    if (err < 0 && err > -4096) {
        /* strerror() is not thread-safe; strerrordesc_np returns static text. */
        char const *s = strerrordesc_np(-err);
        if (s) return s;
        return "system error";
    }
    return "unknown error";
}

char const *
acctdb_version(void) {
    return ACCTDB_VERSION_STRING;
}

int
adb_err_vset(adb_err_t *e, int code, char const *fmt, va_list ap) {
    if (e && e->code == 0) {
        e->code = code;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    }
    return code;
}

int
adb_err_set(adb_err_t *e, int code, char const *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    adb_err_vset(e, code, fmt, ap);
    va_end(ap);
    return code;
}

void
adb_assert_fail(char const *what, char const *file, int line) {
    fprintf(stderr, "acctdb: assertion failed: %s (%s:%d)\n", what, file, line);
    fflush(stderr);
    abort();
}
