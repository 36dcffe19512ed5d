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

/* geom_changed and whether both blobs of the one change to tbl fid are logged. */
static void logged_geometry(const char *where, int *flag, int *before_blob, int *after_blob) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT geom_changed, before_geom IS NOT NULL, after_geom IS NOT NULL FROM changes WHERE %s", where);
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(st->db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "one change where %s", where);
    *flag = sqlite3_column_int(s, 0);
    *before_blob = sqlite3_column_int(s, 1);
    *after_blob = sqlite3_column_int(s, 2);
    cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "only one change where %s", where);
    sqlite3_finalize(s);
}

Test(history, property_only_update_logs_no_geometry_and_undo_restores_it_exactly) {
    char *before = snapshot();
    int64_t c1 = edit("grids", "UPDATE buildings SET grid_code = '110105003001001' WHERE fid IN (1, 2)");
    int flag, b, a;
    logged_geometry("changeset = 1 AND fid = 1", &flag, &b, &a);
    cr_assert_eq(flag, 0, "the geometry did not change");
    cr_assert(!b && !a, "no geometry blob for a property-only update");
    char *after = snapshot();

    int64_t u1 = 0;
    cr_assert_eq(store_undo(st, c1, "tester", &u1, err, sizeof err), 0, "%s", err);
    char *undone = snapshot();
    cr_assert_str_eq(undone, before, "undo restores every column and leaves the geometry byte-identical");
    logged_geometry("changeset = 2 AND fid = 2", &flag, &b, &a);
    cr_assert(flag == 0 && !b && !a, "the undo's own property-only updates log no geometry either");
    cr_assert_eq(store_undo(st, u1, "tester", NULL, err, sizeof err), 0, "%s", err);
    char *redone = snapshot();
    cr_assert_str_eq(redone, after, "undo of the undo re-applies the property change");

    /* A geometry edit still logs both blobs, and its undo restores the old blob. */
    char *pre_move = snapshot();
    int64_t c4 = edit("move", "UPDATE buildings SET geom = MakePoint(116.405, 39.905, 4326) WHERE fid = 1");
    logged_geometry("changeset = 4", &flag, &b, &a);
    cr_assert(flag == 1 && b && a, "a geometry change logs before and after blobs");
    cr_assert_eq(store_undo(st, c4, "tester", NULL, err, sizeof err), 0, "%s", err);
    char *unmoved = snapshot();
    cr_assert_str_eq(unmoved, pre_move);
    free(before);
    free(after);
    free(undone);
    free(redone);
    free(pre_move);
    free(unmoved);
}

Test(history, conflicts_still_caught_when_the_geometry_was_not_logged) {
    /* c1 changes a property only; c2 then moves the same building: undoing c1 first is refused. */
    int64_t c1 = edit("edit", "UPDATE buildings SET households = 41 WHERE fid = 1");
    int64_t c2 = edit("move", "UPDATE buildings SET geom = MakePoint(116.405, 39.905, 4326) WHERE fid = 1");
    cr_assert_eq(store_undo(st, c1, "tester", NULL, err, sizeof err), GP_ECONFLICT);
    char later[32];
    snprintf(later, sizeof later, "changeset %lld", (long long)c2);
    cr_assert(strstr(err, "buildings b1 (fid 1)") && strstr(err, later), "%s", err);

    /* c3 changes a property after c2 logged the geometry; a geometry write outside the log since is
     * caught by comparing with c2's logged geometry. */
    int64_t c3 = edit("edit", "UPDATE buildings SET households = 42 WHERE fid = 1");
    cr_assert_eq(store_exec(st, "UPDATE buildings SET geom = MakePoint(116.406, 39.906, 4326) WHERE fid = 1", err, sizeof err), 0);
    cr_assert_eq(store_undo(st, c3, "tester", NULL, err, sizeof err), GP_ECONFLICT);
    cr_assert(strstr(err, "outside the change log"), "%s", err);
    /* Put the logged geometry back: c3 undoes cleanly, then c2, then c1. */
    cr_assert_eq(store_exec(st, "UPDATE buildings SET geom = MakePoint(116.405, 39.905, 4326) WHERE fid = 1", err, sizeof err), 0);
    cr_assert_eq(store_undo(st, c3, "tester", NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_undo(st, c2, "tester", NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_undo(st, c1, "tester", NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_count(st, "changesets"), 6);
}
