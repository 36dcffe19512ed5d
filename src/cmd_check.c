/* cmd_check.c — `gridplan check`: every community against the profile's band, police and staffing. */
#include "cli.h"
#include "plan_cli.h"
#include <stdio.h>

int cmd_check(int argc, char **argv) {
    const char *db = cli_default_db(), *profile = NULL, *sets = NULL;
    int json = 0, first;
    const cli_opt_t opts[] = {{"db", 's', &db, "database file"},
                              {"profile", 's', &profile, "rule profile (default: the database's, else hohhot-2023)"},
                              {"set", 's', &sets, "override numbers: key.path=value[,...]"},
                              {"json", 'f', &json, "print JSON (the /api/check rows)"},
                              {0}};
    int pr = cli_parse("gridplan check [--db FILE] [--profile P] [--json]",
                       "Checks every community: households against the band, split or merge needed, 民警/辅警 and staff owed.",
                       opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    plan_session_t s;
    if (plan_session_open(&s, db, 0, profile, sets)) { plan_session_close(&s); return 1; }
    buf_t out = {0};
    if (json) {
        plan_check_json(s.rules, &s.city, &out);
        buf_puts(&out, "\n");
    } else {
        plan_check_table(s.rules, &s.city, &out);
    }
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    plan_session_close(&s);
    return 0;
}
