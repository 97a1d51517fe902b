/* fuzz/replay_main.c - a plain main that replays a fuzz corpus through a
 * libFuzzer target, so CI catches regressions without a fuzzing engine.
 * Usage: replay_<target> DIR|FILE...  Exits non-zero if an input could not
 * be read; a crash or sanitizer report aborts the process. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t sz);

static int
run_file(char const *path, size_t *cnt) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t   cap = 1 << 16, sz = 0, r;
    uint8_t *buf = malloc(cap);
    while (buf && (r = fread(buf + sz, 1, cap - sz, f)) > 0) {
        sz += r;
        if (sz == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) return -1;
    /* Copy to an exact-size buffer so ASan sees reads past the end. */
    uint8_t *exact = malloc(sz ? sz : 1);
    memcpy(exact, buf, sz);
    free(buf);
    LLVMFuzzerTestOneInput(exact, sz);
    free(exact);
    (*cnt)++;
    return 0;
}

int
main(int argc, char **argv) {
    size_t cnt = 0;
    int    bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: no such corpus %s\n", argv[i]);
            bad = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad |= run_file(argv[i], &cnt) != 0;
            continue;
        }
        struct dirent **ents;
        int             n = scandir(argv[i], &ents, NULL, alphasort);
        for (int j = 0; j < n; j++) {
            if (ents[j]->d_name[0] != '.') {
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", argv[i], ents[j]->d_name);
                bad |= run_file(p, &cnt) != 0;
            }
            free(ents[j]);
        }
        free(ents);
    }
    printf("replayed %zu inputs\n", cnt);
    return bad;
}
