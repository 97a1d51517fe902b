/* tools/acctdb/cmd_bootstrap.c - acctdb bootstrap (being written: this placeholder
 * only refuses, so the tree builds meanwhile). */
#include "cmd.h"

int
cmd_bootstrap(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "acctdb bootstrap: not available in this build yet\n");
    return 2;
}
