/* tools/acctdb/cmd_follow.c - acctdb follow (being written: this placeholder
 * only refuses, so the tree builds meanwhile). */
#include "cmd.h"

int
cmd_follow(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "acctdb follow: not available in this build yet\n");
    return 2;
}
