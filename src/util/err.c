/* src/util/err.c - error codes, strerror, sticky error messages. */
#include "util/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* System errors as "<description> (<ENAME>)", e.g. "No space left on device
 * (ENOSPC)": the name is what people grep for and what survives
 * translation.  Built once (strerror() is not thread-safe, and the result
 * must be a static string); glibc's errno values are all below 256. */
#define SYS_ERR_CNT 256

static char           g_sys_msg[SYS_ERR_CNT][96];
static pthread_once_t g_sys_once = PTHREAD_ONCE_INIT;

static void
sys_msg_init(void) {
    for (int e = 1; e < SYS_ERR_CNT; e++) {
        char const *desc = strerrordesc_np(e), *name = strerrorname_np(e);
        if (desc && name)
            snprintf(g_sys_msg[e], sizeof g_sys_msg[e], "%s (%s)", desc, name);
        else if (desc)
            snprintf(g_sys_msg[e], sizeof g_sys_msg[e], "%s", desc);
    }
}

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
    case ACCTDB_ERR_COMPRESSED:
        return "account is compressed (decompress it first)";
    default:
        break;
    }
    if (err < 0 && err > -4096) {
        if (-err < SYS_ERR_CNT) {
            pthread_once(&g_sys_once, sys_msg_init);
            if (g_sys_msg[-err][0]) return g_sys_msg[-err];
        }
        char const *s = strerrordesc_np(-err); /* static text */
        return s ? s : "system error";
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
