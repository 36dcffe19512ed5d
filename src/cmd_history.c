/* cmd_history.c — `gridplan history` (the change log) and `gridplan undo` (revert one changeset). */
#include "buf.h"
#include "cli.h"
#include "err.h"
#include "store.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_history(int argc, char **argv) {
    const char *db = cli_default_db();
    int json = 0, limit = 50, first;
    const cli_opt_t opts[] = {{"db", 's', &db, "database file"},
                              {"json", 'f', &json, "print the JSON array the HTTP API serves"},
                              {"limit", 'i', &limit, "newest N changesets (0 = all)"},
                              {0}};
    int pr = cli_parse("gridplan history [--db FILE] [--json] [--limit N]",
                       "Lists changesets newest first: id, time, user, operation, rows changed, and undo links.", opts,
                       argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    if (first < argc) return cli_fail("history takes no positional argument ('%s')", argv[first]);
    store_t *st;
    char err[512];
    if (store_open(db, STORE_READWRITE, &st, err, sizeof err)) return cli_fail("%s", err);
    buf_t out = {0};
    int rc = store_history_json(st, limit, &out, err, sizeof err);
    store_close(st);
    if (rc) {
        buf_free(&out);
        return cli_fail("%s", err);
    }
    if (json) {
        printf("%s\n", out.data);
        buf_free(&out);
        return 0;
    }
    json_t *list = json_loads(out.data, 0, NULL);
    buf_free(&out);
    if (!json_array_size(list)) printf("no changesets in %s\n", db);
    else printf("%6s  %-24s  %-10s  %-8s  %7s  %s\n", "id", "time (UTC)", "user", "op", "changes", "status");
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) {
        char status[64] = "in force";
        if (json_is_integer(json_object_get(c, "undone_by")))
            snprintf(status, sizeof status, "undone by %lld", (long long)json_integer_value(json_object_get(c, "undone_by")));
        if (json_is_integer(json_object_get(c, "undo_of"))) {
            size_t n = strlen(status);
            snprintf(status + n, sizeof status - n, " (undoes %lld)", (long long)json_integer_value(json_object_get(c, "undo_of")));
        }
        printf("%6lld  %-24s  %-10s  %-8s  %7lld  %s\n", (long long)json_integer_value(json_object_get(c, "id")),
               json_string_value(json_object_get(c, "ts")), json_string_value(json_object_get(c, "user")),
               json_string_value(json_object_get(c, "op")), (long long)json_integer_value(json_object_get(c, "changes")), status);
    }
    json_decref(list);
    return 0;
}

int cmd_undo(int argc, char **argv) {
    const char *db = cli_default_db(), *user = getenv("USER");
    int first;
    const cli_opt_t opts[] = {{"db", 's', &db, "database file"}, {"user", 's', &user, "name recorded in the log"}, {0}};
    int pr = cli_parse("gridplan undo [--db FILE] [CHANGESET]",
                       "Reverts one changeset (the newest still in force when no id is given) as a new changeset,\n"
                       "which can itself be undone. Refuses, naming the feature, when a later change touched the same rows.",
                       opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    if (argc - first > 1) return cli_fail("undo takes at most one changeset id");
    store_t *st;
    char err[512];
    if (store_open(db, STORE_READWRITE, &st, err, sizeof err)) return cli_fail("%s", err);
    int64_t id;
    if (first < argc) {
        char *end;
        id = strtoll(argv[first], &end, 10);
        if (*end || id <= 0) {
            store_close(st);
            return cli_fail("'%s' is not a changeset id (see 'gridplan history')", argv[first]);
        }
    } else {
        id = store_newest_in_force(st);
        if (id <= 0) {
            store_close(st);
            return cli_fail("%s: nothing to undo (no changeset in force)", db);
        }
    }
    int64_t undo_id = 0;
    int rc = store_undo(st, id, user ? user : "cli", &undo_id, err, sizeof err);
    store_close(st);
    if (rc) return cli_fail("%s", err);
    printf("undid changeset %lld as changeset %lld\n", (long long)id, (long long)undo_id);
    return 0;
}
