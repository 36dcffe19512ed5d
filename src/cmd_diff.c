/* cmd_diff.c — `gridplan diff A.json [B.json]`: which buildings and households move between which
 * communities from one saved plan to another (or to the database when B is omitted). */
#include "cli.h"
#include "err.h"
#include "plan_cli.h"
#include <stdio.h>
#include <stdlib.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    buf_t b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&b, chunk, n);
    fclose(f);
    if (!b.data) buf_puts(&b, "");
    return buf_steal(&b, NULL);
}

int cmd_diff(int argc, char **argv) {
    const char *db = cli_default_db();
    int json = 0, first;
    const cli_opt_t opts[] = {{"db", 's', &db, "database compared when only one plan is given"},
                              {"json", 'f', &json, "print JSON"},
                              {0}};
    int pr = cli_parse("gridplan diff A.json [B.json] [--db FILE]",
                       "Compares two saved plans (gridplan plan --out): buildings and households that change community, "
                       "per (from, to) pair. With one plan, compares the database (as A) with it.",
                       opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    int npos = argc - first;
    if (npos < 1 || npos > 2) return cli_fail("diff needs one or two plan files (see --help)");
    char *a = NULL, *b = NULL;
    const char *a_name, *b_name;
    if (npos == 2) {
        a_name = argv[first];
        b_name = argv[first + 1];
        a = slurp(a_name);
        b = slurp(b_name);
    } else {
        plan_session_t s;
        if (plan_session_open(&s, db, 0, NULL, NULL)) { plan_session_close(&s); return 1; }
        buf_t cur = {0};
        plan_assignment_json(&s.city, rules_name(s.rules), &cur);
        plan_session_close(&s);
        a = buf_steal(&cur, NULL);
        a_name = db;
        b_name = argv[first];
        b = slurp(b_name);
    }
    if (!a || !b) {
        free(a);
        free(b);
        return cli_fail("%s: cannot be read", !a ? a_name : b_name);
    }
    buf_t out = {0};
    char err[512];
    int rc = plan_diff(a, a_name, b, b_name, json, &out, err, sizeof err);
    if (rc) cli_fail("%s", err);
    else fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    free(a);
    free(b);
    return rc ? 1 : 0;
}
