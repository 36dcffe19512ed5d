/* cli.h — the `gridplan` command line: option parsing shared by every subcommand. */
#ifndef GP_CLI_H
#define GP_CLI_H

/* One option of a subcommand. type: 's' string (const char *), 'i' int, 'l' long long, 'd' double,
 * 'f' flag (int set to 1). dest points at a variable holding the default. */
typedef struct cli_opt {
    const char *name;     /* without the leading "--" */
    char type;
    void *dest;
    const char *help;     /* one line; the default is shown after it */
} cli_opt_t;

/* Parses argv[1..] (argv[0] is the subcommand name) into opts; accepts --name value and --name=value.
 * Positional arguments are left in argv order at argv[*npos_first ..argc-1] (reordered to the end).
 * Returns 0 to go on, 1 when --help was printed (exit 0), or -1 after printing a one-line error
 * naming the bad option (exit 2). usage is e.g. "gridplan import [options] FILE". */
int cli_parse(const char *usage, const char *summary, const cli_opt_t *opts, int argc, char **argv, int *npos_first);

/* A subcommand: returns the process exit status. */
typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command_t;

/* Prints "gridplan: <sentence>" on stderr; returns 1 (the exit status of a failed command). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Default database when --db is not given: $GRIDPLAN_DB or geodata/demo.sqlite. */
const char *cli_default_db(void);

#endif
