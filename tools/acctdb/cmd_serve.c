/* tools/acctdb/cmd_serve.c - acctdb serve (being written: this placeholder
 * only refuses, so the tree builds meanwhile). */
#include "cmd.h"

int
cmd_serve(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "acctdb serve: not available in this build yet\n");
    return 2;
}
