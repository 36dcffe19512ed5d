/* cmd_police.c — `gridplan police`: 民警/辅警 per community and per street under the profile. */
#include "cli.h"
#include "plan_cli.h"
#include <stdio.h>
#include <string.h>

int cmd_police(int argc, char **argv) {
    const char *db = cli_default_db(), *profile = NULL, *sets = NULL, *format = "table", *out_path = NULL;
    int json = 0, first;
    const cli_opt_t opts[] = {{"db", 's', &db, "database file"},
                              {"profile", 's', &profile, "rule profile (default: the database's, else hohhot-2023)"},
                              {"set", 's', &sets, "override numbers, e.g. police.rounding=floor"},
                              {"format", 's', &format, "table, json or csv (UTF-8 with BOM)"},
                              {"json", 'f', &json, "same as --format json"},
                              {"out", 's', &out_path, "write to this file instead of stdout"},
                              {0}};
    int pr = cli_parse("gridplan police [--db FILE] [--profile P] [--format table|json|csv] [--out FILE]",
                       "Allocates 民警 and 辅警 to every community by the profile's rule (its rounding stated), with "
                       "totals per street. Always computed from the current communities, so it follows every plan change.",
                       opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    char f = json ? 'j' : !strcmp(format, "json") ? 'j' : !strcmp(format, "csv") ? 'c' : !strcmp(format, "table") ? 't' : 0;
    if (!f) return cli_fail("--format %s: expected table, json or csv", format);
    plan_session_t s;
    if (plan_session_open(&s, db, 0, profile, sets)) { plan_session_close(&s); return 1; }
    buf_t out = {0};
    plan_police_report(s.rules, &s.city, f, &out);
    if (f == 'j') buf_puts(&out, "\n");
    int rc = plan_write_text(out_path, out.data, out.len);
    buf_free(&out);
    plan_session_close(&s);
    return rc;
}
