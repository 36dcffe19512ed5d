/* test_store.c — schema creation, migrations, meta, refusal of foreign files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "err.h"
#include "store.h"

static char path[64];
static void setup(void) {
    snprintf(path, sizeof path, "/tmp/gp_test_store_%d.sqlite", getpid());
    unlink(path);
}
static void teardown(void) {
    char side[80];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path); unlink(side);
    snprintf(side, sizeof side, "%s-shm", path); unlink(side);
}
TestSuite(store, .init = setup, .fini = teardown);

Test(store, creates_public_schema_with_spatial_indexes) {
    store_t *st;
    char err[256];
    cr_assert_eq(store_open(path, STORE_CREATE, &st, err, sizeof err), 0, "%s", err);
    char v[16];
    cr_assert_eq(store_meta_get(st, "schema_version", v, sizeof v), 0);
    cr_assert_eq(atoi(v), STORE_SCHEMA_VERSION);
    for (int i = 0; store_tables[i]; i++) {
        cr_assert_eq(store_count(st, store_tables[i]), 0, "%s", store_tables[i]);
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT spatial_index_enabled FROM geometry_columns WHERE f_table_name='%s'", store_tables[i]);
        sqlite3_stmt *s;
        cr_assert_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK);
        cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "no geometry column for %s", store_tables[i]);
        cr_assert_eq(sqlite3_column_int(s, 0), 1, "no spatial index on %s", store_tables[i]);
        sqlite3_finalize(s);
    }
    /* households column is constrained non-negative */
    cr_assert_neq(store_exec(st, "INSERT INTO communities(code, households, geom) VALUES ('1', -5, "
                                 "GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)))', 4326))", err, sizeof err), 0);
    char mode[16];
    sqlite3_stmt *s;
    sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1, &s, NULL);
    sqlite3_step(s);
    snprintf(mode, sizeof mode, "%s", sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    cr_assert_str_eq(mode, "wal");
    store_close(st);
    /* Reopening does not migrate again. */
    cr_assert_eq(store_open(path, STORE_READWRITE, &st, err, sizeof err), 0, "%s", err);
    store_close(st);
}

Test(store, refuses_missing_and_foreign_files) {
    store_t *st;
    char err[256];
    cr_assert_eq(store_open(path, STORE_READWRITE, &st, err, sizeof err), GP_ENOTFOUND);
    cr_assert(strstr(err, "no such database"), "%s", err);
    cr_assert_neq(access(path, F_OK), 0, "a failed open must not create the file");
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "CREATE TABLE other(x)", NULL, NULL, NULL);
    sqlite3_close(db);
    cr_assert_eq(store_open(path, STORE_READWRITE, &st, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "not a gridplan database"), "%s", err);
}
