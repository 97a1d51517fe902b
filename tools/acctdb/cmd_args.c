/* tools/acctdb/cmd_args.c - the one strict parser of numeric option values
 * (see cmd.h).  strtoul and friends accept "-1" (as 2^64 - 1), leading
 * spaces, "+", "0x" and trailing junk when the end pointer is not checked;
 * every numeric option of every subcommand goes through here instead, so
 * all of them reject the same inputs with the same message shape. */
#include "cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
bad(char const *opt, char const *s, char const *what, char const *lo, char const *hi,
    char const *note) {
    fprintf(stderr, "acctdb: %s: '%s' is not %s from %s to %s%s\n", opt, s, what, lo, hi, note);
    return 2;
}

static int
missing(char const *opt) {
    fprintf(stderr, "acctdb: %s needs a value\n", opt);
    return 2;
}

/* Decimal digits only, at least one, no overflow. */
static bool
digits_u64(char const *s, size_t n, uint64_t *out) {
    uint64_t v = 0;
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

int
tool_arg_u64(char const *opt, char const *what, char const *s, uint64_t min, uint64_t max,
             uint64_t *out) {
    uint64_t v;
    if (!s) return missing(opt);
    if (!digits_u64(s, strlen(s), &v) || v < min || v > max) {
        char lo[24], hi[24];
        snprintf(lo, sizeof lo, "%" PRIu64, min);
        snprintf(hi, sizeof hi, "%" PRIu64, max);
        return bad(opt, s, what, lo, hi, "");
    }
    *out = v;
    return 0;
}

/* A byte count with the largest suffix that divides it exactly. */
static void
fmt_size(uint64_t v, char *out, size_t max) {
    static char const sfx[] = "KMGT";
    int               k = -1;
    while (k < 3 && v && v % 1024 == 0) {
        v /= 1024;
        k++;
    }
    if (k < 0)
        snprintf(out, max, "%" PRIu64, v);
    else
        snprintf(out, max, "%" PRIu64 "%c", v, sfx[k]);
}

int
tool_arg_size(char const *opt, char const *s, uint64_t unit, uint64_t min, uint64_t max,
              uint64_t *out) {
    if (!s) return missing(opt);
    size_t   n = strlen(s);
    uint64_t mul = unit, v;
    if (n > 0) {
        switch (s[n - 1]) {
        case 'K':
        case 'k':
            mul = 1ull << 10, n--;
            break;
        case 'M':
        case 'm':
            mul = 1ull << 20, n--;
            break;
        case 'G':
        case 'g':
            mul = 1ull << 30, n--;
            break;
        case 'T':
        case 't':
            mul = 1ull << 40, n--;
            break;
        default:
            break;
        }
    }
    if (!digits_u64(s, n, &v) || (mul && v > UINT64_MAX / mul) || v * mul < min || v * mul > max) {
        char        lo[24], hi[24], note[64];
        char const *u = unit == 1ull << 10   ? "KiB"
                        : unit == 1ull << 20 ? "MiB"
                        : unit == 1ull << 30 ? "GiB"
                                             : "bytes";
        fmt_size(min, lo, sizeof lo);
        fmt_size(max, hi, sizeof hi);
        snprintf(note, sizeof note, " (%s%s, or a K, M, G or T suffix)",
                 unit == 1 ? "" : "a bare number is ", u);
        return bad(opt, s, "a size", lo, hi, note);
    }
    *out = v * mul;
    return 0;
}

int
tool_arg_double(char const *opt, char const *what, char const *s, double min, double max,
                double *out) {
    if (!s) return missing(opt);
    /* Digits with at most one '.', then an optional exponent: what strtod
     * would also read, minus signs, spaces, hex, nan and inf. */
    char const *p = s;
    size_t      nd = strspn(p, "0123456789");
    p += nd;
    if (*p == '.') {
        size_t f = strspn(p + 1, "0123456789");
        nd += f;
        p += 1 + f;
    }
    bool ok = nd > 0;
    if (ok && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '+' || *p == '-') p++;
        size_t ed = strspn(p, "0123456789");
        ok = ed > 0;
        p += ed;
    }
    double v = 0;
    if (ok && !*p) {
        char *end;
        errno = 0;
        v = strtod(s, &end);
        ok = !*end && errno == 0 && isfinite(v) && v >= min && v <= max;
    } else {
        ok = false;
    }
    if (!ok) {
        char lo[32], hi[32];
        snprintf(lo, sizeof lo, "%g", min);
        snprintf(hi, sizeof hi, "%g", max);
        return bad(opt, s, what, lo, hi, "");
    }
    *out = v;
    return 0;
}
