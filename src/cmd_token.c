/* cmd_token.c — `gridplan token add|list|revoke`: API bearer tokens for the HTTP server. */
#include "auth.h"
#include "cli.h"
#include "err.h"
#include "store.h"
#include <stdio.h>
#include <string.h>

int cmd_token(int argc, char **argv) {
    const char *db = cli_default_db(), *name = NULL, *role = "planner";
    int init = 0, first;
    const cli_opt_t opts[] = {
        {"db", 's', &db, "database file"},
        {"name", 's', &name, "token name (the owner recorded in the change log)"},
        {"role", 's', &role, "viewer, planner or admin"},
        {"init", 'f', &init, "create the database with the empty gridplan schema if it does not exist"},
        {0}};
    int pr = cli_parse("gridplan token add|list|revoke [--db FILE] [--name NAME] [--role ROLE]",
                       "Manages API tokens. 'add' prints the new token once (only its SHA-256 is stored);\n"
                       "'list' shows names, roles and dates; 'revoke' deletes a token by name.",
                       opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    if (first >= argc) return cli_fail("token: expected add, list or revoke (see 'gridplan token --help')");
    const char *action = argv[first];
    int is_add = !strcmp(action, "add"), is_list = !strcmp(action, "list"), is_revoke = !strcmp(action, "revoke");
    if (!is_add && !is_list && !is_revoke) return cli_fail("token: unknown action '%s' (add, list or revoke)", action);
    if ((is_add || is_revoke) && (!name || !*name)) return cli_fail("token %s: --name is required", action);
    store_t *st;
    char err[512];
    int flags = is_list ? STORE_READONLY : (is_add && init ? STORE_CREATE : STORE_READWRITE);
    if (store_open(db, flags, &st, err, sizeof err)) return cli_fail("%s", err);
    int rc = 0;
    if (is_add) {
        char token[68];
        if (auth_token_add(st, name, role, token, err, sizeof err)) rc = cli_fail("%s", err);
        else printf("%s\n", token);
    } else if (is_revoke) {
        if (auth_token_revoke(st, name, err, sizeof err)) rc = cli_fail("%s", err);
        else printf("revoked %s\n", name);
    } else {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(st->db, "SELECT name, role, created FROM tokens ORDER BY name", -1, &s, NULL) != SQLITE_OK) {
            rc = cli_fail("%s: %s", db, sqlite3_errmsg(st->db));
        } else {
            while (sqlite3_step(s) == SQLITE_ROW)
                printf("%-24s %-8s %s\n", (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
                       (const char *)sqlite3_column_text(s, 2));
            sqlite3_finalize(s);
        }
    }
    store_close(st);
    return rc;
}
