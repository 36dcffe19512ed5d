/* cmd_rules.c — `gridplan rules`: the active profile, every number with its source. */
#include "cli.h"
#include "plan_cli.h"
#include <stdio.h>

int cmd_rules(int argc, char **argv) {
    const char *profile = NULL, *sets = NULL, *db = NULL;
    int json = 0, first;
    const cli_opt_t opts[] = {{"profile", 's', &profile, "profile name (geodata/profiles/NAME.json) or a JSON file"},
                              {"set", 's', &sets, "override numbers: key.path=value[,key.path=value...]"},
                              {"db", 's', &db, "take the profile named in this database's meta table"},
                              {"json", 'f', &json, "print JSON"},
                              {0}};
    int pr = cli_parse("gridplan rules [--profile NAME|FILE] [--set k=v,...] [--json]",
                       "Prints the active rule profile: every number, its value and where it comes from.", opts, argc, argv,
                       &first);
    if (pr) return pr > 0 ? 0 : 2;
    plan_session_t s = {0};
    char meta_profile[256] = "";
    if (db && !profile) {
        store_t *st;
        char err[512];
        if (store_open(db, STORE_READONLY, &st, err, sizeof err)) return cli_fail("%s", err);
        if (store_meta_get(st, "profile", meta_profile, sizeof meta_profile) == 0 && *meta_profile) profile = meta_profile;
        store_close(st);
    }
    if (plan_session_rules(&s, profile, sets)) return 1;
    buf_t out = {0};
    rules_print(s.rules, json, &out);
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    plan_session_close(&s);
    return 0;
}
