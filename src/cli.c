/* cli.c — option parsing for subcommands. */
#include "cli.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void cli_print_help(const char *usage, const char *summary, const cli_opt_t *opts) {
    printf("usage: %s\n\n%s\n\noptions:\n", usage, summary);
    for (const cli_opt_t *o = opts; o && o->name; o++) {
        char left[64], def[96] = "";
        snprintf(left, sizeof left, "--%s%s", o->name,
                 o->type == 'f' ? "" : o->type == 's' ? " TEXT" : o->type == 'd' ? " NUM" : " N");
        switch (o->type) {
        case 's': if (*(const char **)o->dest) snprintf(def, sizeof def, " (default: %s)", *(const char **)o->dest); break;
        case 'i': snprintf(def, sizeof def, " (default: %d)", *(int *)o->dest); break;
        case 'l': snprintf(def, sizeof def, " (default: %lld)", *(long long *)o->dest); break;
        case 'd': snprintf(def, sizeof def, " (default: %g)", *(double *)o->dest); break;
        }
        printf("  %-26s %s%s\n", left, o->help, def);
    }
    printf("  %-26s %s\n", "--help", "show this help");
}

int cli_parse(const char *usage, const char *summary, const cli_opt_t *opts, int argc, char **argv, int *npos_first) {
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cli_print_help(usage, summary, opts);
            free(pos);
            return 1;
        }
        if (strncmp(a, "--", 2) || !a[2]) { pos[npos++] = argv[i]; continue; }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt_t *o = opts;
        while (o && o->name && (strlen(o->name) != nlen || strncmp(o->name, name, nlen))) o++;
        if (!o || !o->name) {
            fprintf(stderr, "gridplan: unknown option '--%.*s' (see '%s --help')\n", (int)nlen, name, usage);
            free(pos);
            return -1;
        }
        if (o->type == 'f') {
            *(int *)o->dest = 1;
            continue;
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val) {
            fprintf(stderr, "gridplan: option '--%s' needs a value\n", o->name);
            free(pos);
            return -1;
        }
        char *end = NULL;
        switch (o->type) {
        case 's': *(const char **)o->dest = val; break;
        case 'i': { long v = strtol(val, &end, 10); *(int *)o->dest = (int)v; break; }
        case 'l': *(long long *)o->dest = strtoll(val, &end, 10); break;
        case 'd': *(double *)o->dest = strtod(val, &end); break;
        }
        if (end && (end == val || *end)) {
            fprintf(stderr, "gridplan: option '--%s' expects a number, got '%s'\n", o->name, val);
            free(pos);
            return -1;
        }
    }
    /* Move positionals to the end of argv, in order. */
    int first = argc - npos;
    for (int i = 0; i < npos; i++) argv[first + i] = pos[i];
    free(pos);
    *npos_first = first;
    return 0;
}

int cli_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("gridplan: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

const char *cli_default_db(void) {
    const char *env = getenv("GRIDPLAN_DB");
    return env && *env ? env : "geodata/demo.sqlite";
}
