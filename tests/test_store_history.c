/* test_store_history.c — change log: triggers record changesets, undo restores rows byte for byte,
 * undo of undo re-applies, conflicts name the later changeset. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "err.h"
#include "store.h"
#include "store_snapshot.h"

static char path[64];
static store_t *st;
static char err[512];

static void setup(void) {
    snprintf(path, sizeof path, "/tmp/gp_test_history_%d.sqlite", getpid());
    unlink(path);
    cr_assert_eq(store_open(path, STORE_CREATE, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_exec(st,
                            "INSERT INTO communities(fid, code, name, street_code, households, population, geom) VALUES"
                            " (1, '110105003001', '甲社区', '110105003', 1200, 3000,"
                            "  GeomFromText('MULTIPOLYGON(((116.40 39.90, 116.41 39.90, 116.41 39.91, 116.40 39.91, 116.40 39.90)))', 4326));"
                            "INSERT INTO buildings(fid, ext_id, households, population, floors, community_code, geom) VALUES"
                            " (1, 'b1', 40, 100, 6, '110105003001', MakePoint(116.401, 39.901, 4326)),"
                            " (2, 'b2', 60, 150, NULL, '110105003001', MakePoint(116.402, 39.902, 4326));",
                            err, sizeof err), 0, "%s", err);
}
static void teardown(void) {
    char side[80];
    store_close(st);
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path); unlink(side);
    snprintf(side, sizeof side, "%s-shm", path); unlink(side);
}
TestSuite(history, .init = setup, .fini = teardown);

static char *snapshot(void) { return store_snapshot(st); }

static int64_t edit(const char *op, const char *sql) {
    int64_t id = 0;
    cr_assert_eq(store_begin(st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_changeset_begin(st, "tester", op, "{\"why\":\"test\"}", &id, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_exec(st, sql, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_changeset_end(st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_commit(st, err, sizeof err), 0, "%s", err);
    return id;
}

static const char update_delete_insert[] =
    "UPDATE communities SET households = 1500, name = '乙社区',"
    " geom = GeomFromText('MULTIPOLYGON(((116.40 39.90, 116.42 39.90, 116.42 39.91, 116.40 39.91, 116.40 39.90)))', 4326)"
    " WHERE fid = 1;"
    "DELETE FROM buildings WHERE fid = 2;"
    "INSERT INTO buildings(fid, ext_id, households, population, community_code, geom)"
    " VALUES (3, 'b3', 25, 70, '110105003001', GeomFromText('MULTIPOLYGON(((116.403 39.903, 116.404 39.903, 116.404 39.904, 116.403 39.903)))', 4326));";

Test(history, records_changes_only_inside_a_changeset) {
    cr_assert_eq(store_last_change_id(st), 0, "setup writes are outside any changeset");
    int64_t id = edit("edit", update_delete_insert);
    cr_assert_eq(id, 1);
    cr_assert_eq(store_count(st, "changes"), 3);
    cr_assert_gt(store_last_change_id(st), 0);
    /* A write after the changeset ended is not recorded; nor is a no-op update inside one. */
    cr_assert_eq(store_exec(st, "UPDATE buildings SET households = 41 WHERE fid = 1", err, sizeof err), 0);
    cr_assert_eq(store_count(st, "changes"), 3);
    edit("noop", "UPDATE buildings SET households = households WHERE fid = 1");
    cr_assert_eq(store_count(st, "changes"), 3);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(st->db, "SELECT kind, json_extract(before_row, '$.households'), json_extract(after_row, '$.name') "
                               "FROM changes WHERE tbl = 'communities'", -1, &s, NULL);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(s, 0), "update");
    cr_assert_eq(sqlite3_column_int(s, 1), 1200);
    cr_assert_str_eq((const char *)sqlite3_column_text(s, 2), "乙社区");
    sqlite3_finalize(s);
}

Test(history, undo_restores_byte_identical_rows_and_undo_of_undo_reapplies) {
    char *before = snapshot();
    int64_t c1 = edit("edit", update_delete_insert);
    char *after = snapshot();
    cr_assert_str_neq(before, after);

    int64_t u1 = 0;
    cr_assert_eq(store_undo(st, c1, "tester", &u1, err, sizeof err), 0, "%s", err);
    cr_assert_gt(u1, c1);
    char *undone = snapshot();
    cr_assert_str_eq(undone, before, "undo must restore every column and geometry blob exactly");

    cr_assert_eq(store_undo(st, c1, "tester", NULL, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "already undone"), "%s", err);
    cr_assert_eq(store_newest_in_force(st), u1);

    int64_t u2 = 0;
    cr_assert_eq(store_undo(st, u1, "tester", &u2, err, sizeof err), 0, "%s", err);
    char *redone = snapshot();
    cr_assert_str_eq(redone, after, "undo of the undo must give back the edited state");

    buf_t h = {0};
    cr_assert_eq(store_history_json(st, 0, &h, err, sizeof err), 0, "%s", err);
    char expect[128];
    snprintf(expect, sizeof expect, "\"id\":%lld,", (long long)u2);
    cr_assert(strstr(h.data, expect) == h.data + 2, "newest first: %s", h.data);
    snprintf(expect, sizeof expect, "\"undone_by\":%lld,\"undo_of\":null", (long long)u1);
    cr_assert(strstr(h.data, expect), "changeset 1 marked undone by %lld: %s", (long long)u1, h.data);
    cr_assert(strstr(h.data, "\"summary\":{\"why\":\"test\"}"), "%s", h.data);
    buf_free(&h);
    free(before);
    free(after);
    free(undone);
    free(redone);
}

Test(history, conflict_names_the_feature_and_the_later_changeset) {
    int64_t c1 = edit("edit", update_delete_insert);
    int64_t c2 = edit("rename", "UPDATE communities SET name = '丙社区' WHERE fid = 1");
    char *state = snapshot();
    int64_t changes = store_count(st, "changes");
    cr_assert_eq(store_undo(st, c1, "tester", NULL, err, sizeof err), GP_ECONFLICT);
    cr_assert(strstr(err, "110105003001"), "names the community: %s", err);
    char later[32];
    snprintf(later, sizeof later, "changeset %lld", (long long)c2);
    cr_assert(strstr(err, later), "names the later changeset: %s", err);
    char *unchanged = snapshot();
    cr_assert_str_eq(unchanged, state, "a refused undo changes nothing");
    cr_assert_eq(store_count(st, "changes"), changes);
    cr_assert_eq(store_count(st, "changesets"), 2, "no undo changeset left behind");

    /* Undo the later one first, then the first one goes through. */
    cr_assert_eq(store_undo(st, c2, "tester", NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_undo(st, c1, "tester", NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_count(st, "buildings"), 2);

    /* A write outside the log also blocks undo, with its own reason. */
    int64_t c5 = edit("edit", "UPDATE buildings SET households = 45 WHERE fid = 1");
    cr_assert_eq(store_exec(st, "UPDATE buildings SET households = 46 WHERE fid = 1", err, sizeof err), 0);
    cr_assert_eq(store_undo(st, c5, "tester", NULL, err, sizeof err), GP_ECONFLICT);
    cr_assert(strstr(err, "buildings b1 (fid 1)") && strstr(err, "outside the change log"), "%s", err);
    free(state);
    free(unchanged);
}

Test(history, unknown_changeset_and_transaction_rules) {
    cr_assert_eq(store_undo(st, 99, "tester", NULL, err, sizeof err), GP_ENOTFOUND);
    cr_assert(strstr(err, "no changeset 99"), "%s", err);
    int64_t id;
    cr_assert_eq(store_changeset_begin(st, "t", "edit", NULL, &id, err, sizeof err), GP_EINVAL, "needs store_begin first");
    /* A rolled-back changeset leaves neither changes nor an active marker. */
    cr_assert_eq(store_begin(st, err, sizeof err), 0);
    cr_assert_eq(store_changeset_begin(st, "t", "edit", NULL, &id, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_exec(st, "DELETE FROM buildings", err, sizeof err), 0);
    store_rollback(st);
    cr_assert_eq(store_count(st, "buildings"), 2);
    cr_assert_eq(store_count(st, "changes"), 0);
    cr_assert_eq(store_exec(st, "DELETE FROM buildings WHERE fid = 2", err, sizeof err), 0);
    cr_assert_eq(store_count(st, "changes"), 0, "no changeset open after rollback");
    cr_assert_eq(store_newest_in_force(st), 0);
}
