/* main.c — `gridplan`: dispatches to one subcommand per cmd_*.c file. */
#include "cli.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRIDPLAN_VERSION "0.1.0"

#define CMD(name, summary) int cmd_##name(int argc, char **argv);
#include "commands.def"
#undef CMD

static const cli_command_t commands[] = {
#define CMD(name, summary) {#name, cmd_##name, summary},
#include "commands.def"
#undef CMD
    {NULL, NULL, NULL}};

static void usage(FILE *out) {
    fprintf(out, "gridplan %s — community grid planning: split, merge, grids, police, tiles, web map\n\n"
                 "usage: gridplan <command> [options]   (gridplan <command> --help for each)\n\ncommands:\n",
            GRIDPLAN_VERSION);
    for (const cli_command_t *c = commands; c->name; c++) fprintf(out, "  %-10s %s\n", c->name, c->summary);
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("gridplan %s\n", GRIDPLAN_VERSION);
        return 0;
    }
    if (getenv("GRIDPLAN_QUIET")) log_set_level(LOG_WARN);
    for (const cli_command_t *c = commands; c->name; c++)
        if (!strcmp(c->name, argv[1])) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "gridplan: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
