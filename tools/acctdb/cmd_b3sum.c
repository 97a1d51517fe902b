/* tools/acctdb/cmd_b3sum.c - `acctdb b3sum`: BLAKE3 of files, printed
 * exactly as b3sum prints them.
 *
 *   acctdb b3sum [--length N] [--raw] [--no-names] [FILE...]
 *
 * One line per input, "<hex>  <name>"; standard input when no file is given
 * or for "-".  A name holding a backslash or a newline is escaped (\\ and
 * \n) and its line starts with a backslash, as b3sum does.  --raw writes the
 * output bytes themselves and takes a single input.  --num-threads N (0 to
 * 1024) is accepted for compatibility and ignored (one thread).
 *
 * Exit status: 0, or 2 if any input could not be read (the others are still
 * printed) or the arguments are wrong. */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_BUF_SZ   (1u << 20)  /* big reads keep the SIMD bulk path busy */
#define OUT_PIECE_SZ  65536       /* output produced this much at a time */
#define MAP_WINDOW_SZ (64u << 20) /* regular files: mapped this much at a time */

static void
usage(FILE *f) {
    fprintf(f, "usage: acctdb b3sum [--length N] [--raw] [--no-names] [FILE...]\n"
               "  BLAKE3 of each FILE (standard input for none or '-'), as b3sum prints it.\n"
               "  -l, --length N   output bytes before hex encoding, 0 to 2^64-1 (default 32)\n"
               "      --raw        write the raw output bytes; a single input only\n"
               "      --no-names   omit file names\n");
}

/* Hashes the whole of fd into h.  Returns 0 or -errno. */
static int
hash_fd(int fd, acctdb_blake3_t *h, uint8_t *buf) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        /* A regular file is hashed from mappings of MAP_WINDOW_SZ bytes,
         * each filled in one call (MAP_POPULATE) rather than page fault by
         * page fault, and passed whole to update() so that every chunk goes
         * through the widest kernel. */
        size_t sz = (size_t)st.st_size, off = 0;
        while (off < sz) {
            size_t n = sz - off < MAP_WINDOW_SZ ? sz - off : MAP_WINDOW_SZ;
            void  *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, (off_t)off);
            if (p == MAP_FAILED) break;
            acctdb_blake3_update(h, p, n);
            munmap(p, n);
            off += n;
        }
        if (off == sz) return 0;
        if (lseek(fd, (off_t)off, SEEK_SET) < 0) return -errno; /* read the rest */
    }
    for (;;) {
        size_t got = 0;
        while (got < READ_BUF_SZ) {
            ssize_t r = read(fd, buf + got, READ_BUF_SZ - got);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return -errno;
            if (r == 0) break;
            got += (size_t)r;
        }
        acctdb_blake3_update(h, buf, got);
        if (got < READ_BUF_SZ) return 0;
    }
}

static int
write_all(void const *p, size_t sz) {
    return fwrite(p, 1, sz, stdout) == sz ? 0 : -EIO;
}

/* Writes out_sz output bytes of h, as hex or raw. */
static int
print_output(acctdb_blake3_t const *h, uint64_t out_sz, int is_raw) {
    static char const hexd[] = "0123456789abcdef";
    static uint8_t    piece[OUT_PIECE_SZ];
    static char       hex[2 * OUT_PIECE_SZ];
    for (uint64_t off = 0; off < out_sz;) {
        size_t n = out_sz - off < OUT_PIECE_SZ ? (size_t)(out_sz - off) : OUT_PIECE_SZ;
        acctdb_blake3_finalize_seek(h, off, piece, n);
        if (is_raw) {
            if (write_all(piece, n)) return -EIO;
        } else {
            for (size_t i = 0; i < n; i++) {
                hex[2 * i] = hexd[piece[i] >> 4];
                hex[2 * i + 1] = hexd[piece[i] & 15];
            }
            if (write_all(hex, 2 * n)) return -EIO;
        }
        off += n;
    }
    return 0;
}

/* The name as b3sum prints it: backslash and newline escaped. */
static void
print_name(char const *name) {
    for (char const *c = name; *c; c++) {
        if (*c == '\\')
            fputs("\\\\", stdout);
        else if (*c == '\n')
            fputs("\\n", stdout);
        else
            fputc(*c, stdout);
    }
}

int
cmd_b3sum(int argc, char **argv) {
    uint64_t     out_sz = 32;
    int          is_raw = 0, no_names = 0, opts_done = 0;
    char const **files = calloc((size_t)argc + 1, sizeof *files);
    size_t       file_cnt = 0;
    if (!files) return tool_fail(-ENOMEM, "b3sum");

    for (int i = 1; i < argc; i++) {
        char const *a = argv[i];
        if (opts_done || a[0] != '-' || !strcmp(a, "-")) {
            files[file_cnt++] = a;
        } else if (!strcmp(a, "--")) {
            opts_done = 1;
        } else if (!strcmp(a, "--raw")) {
            is_raw = 1;
        } else if (!strcmp(a, "--no-names")) {
            no_names = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(files);
            return 0;
        } else if (!strcmp(a, "--length") || !strcmp(a, "-l") || !strncmp(a, "--length=", 9)) {
            char const *v = !strncmp(a, "--length=", 9) ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            int         st = tool_arg_u64("--length", "a number", v, 0, UINT64_MAX, &out_sz);
            if (st) {
                free(files);
                return st;
            }
        } else if (!strcmp(a, "--num-threads") || !strncmp(a, "--num-threads=", 14)) {
            /* Checked like every --threads, then ignored: one thread. */
            char const *v = a[13] ? a + 14 : (i + 1 < argc ? argv[++i] : NULL);
            uint64_t    n;
            int         st = tool_arg_u64("--num-threads", "a number", v, 0, TOOL_THREADS_MAX, &n);
            if (st) {
                free(files);
                return st;
            }
        } else {
            fprintf(stderr, "acctdb b3sum: unknown option '%s'\n", a);
            usage(stderr);
            free(files);
            return 2;
        }
    }
    if (file_cnt == 0) files[file_cnt++] = "-";
    if (is_raw && file_cnt > 1) {
        fprintf(stderr, "acctdb b3sum: --raw takes a single input\n");
        free(files);
        return 2;
    }

    uint8_t *buf = malloc(READ_BUF_SZ);
    if (!buf) {
        free(files);
        return tool_fail(-ENOMEM, "b3sum");
    }
    int status = 0;
    for (size_t i = 0; i < file_cnt; i++) {
        char const     *name = files[i];
        int             is_stdin = !strcmp(name, "-");
        int             fd = is_stdin ? STDIN_FILENO : open(name, O_RDONLY | O_CLOEXEC);
        acctdb_blake3_t h;
        if (fd < 0) {
            fflush(stdout);
            tool_fail(-errno, "b3sum: %s", name);
            status = 2;
            continue;
        }
        acctdb_blake3_init(&h);
        int rc = hash_fd(fd, &h, buf);
        if (!is_stdin) close(fd);
        if (rc) {
            fflush(stdout);
            tool_fail(rc, "b3sum: %s", name);
            status = 2;
            continue;
        }
        int is_escaped = !is_raw && !no_names && strpbrk(name, "\\\n") != NULL;
        if (is_escaped) fputc('\\', stdout);
        if (print_output(&h, out_sz, is_raw)) {
            status = 2;
            break;
        }
        if (!is_raw) {
            if (!no_names) {
                fputs("  ", stdout);
                print_name(name);
            }
            fputc('\n', stdout);
        }
    }
    if (fflush(stdout) != 0) {
        tool_fail(-EIO, "b3sum: writing the output");
        status = 2;
    }
    free(buf);
    free(files);
    return status;
}
