/* config.h — `key = value` configuration files whose keys are a command's long option names.
 *
 * A command loads the file into the same cli_opt_t table it parses flags with, before parsing
 * flags, so flags override the file. Lines: `key = value`, `# comment`, blank; a value may be
 * quoted with "..." to keep leading/trailing spaces. Unknown keys and bad numbers are errors that
 * name the file and line. */
#ifndef GP_CONFIG_H
#define GP_CONFIG_H
#include <stddef.h>
#include "cli.h"

/* Holds the strings the file's values point to; free with config_free after the last use of the
 * options (accepts NULL). */
typedef struct config config_t;

/* Reads path and stores each value into the option of the same name (types as cli_opt_t: 's', 'i',
 * 'l', 'd', 'f' where a flag takes true/false/1/0/yes/no). Returns 0 and *out, or GP_EIO /
 * GP_EINVAL with err ("serve.conf:3: unknown key 'prot'"). */
int config_load(const char *path, const cli_opt_t *opts, config_t **out, char *err, size_t errlen);
void config_free(config_t *cfg);

/* The value of "--NAME VALUE" or "--NAME=VALUE" in argv[1..argc-1], or NULL. Used to find
 * --config before the full parse. */
const char *config_flag(int argc, char **argv, const char *name);

#endif
