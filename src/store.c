/* store.c — SpatiaLite connections, schema migrations and transactions.
 *
 * Migrations are an ordered list of SQL scripts; meta.schema_version says how many have run.
 * A new file runs all of them in one transaction, so a half-created database never exists. */
#include "store.h"
#include "err.h"
#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const store_tables[] = {"streets", "communities", "grids", "buildings", "facilities", "roads", NULL};

const char *store_geometry_type(const char *table) {
    static const struct { const char *table, *type; } types[] = {
        {"streets", "MULTIPOLYGON"}, {"communities", "MULTIPOLYGON"}, {"grids", "MULTIPOLYGON"},
        {"buildings", "GEOMETRY"},   {"facilities", "POINT"},         {"roads", "MULTILINESTRING"}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(types[i].table, table)) return types[i].type;
    return NULL;
}

/* Version 1: the whole public schema. */
static const char store_migration_1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE streets(fid INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL DEFAULT '',"
    "  county_code TEXT NOT NULL DEFAULT '');"
    "SELECT AddGeometryColumn('streets', 'geom', 4326, 'MULTIPOLYGON', 'XY');"
    "CREATE TABLE communities(fid INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL DEFAULT '',"
    "  street_code TEXT NOT NULL DEFAULT '',"
    "  households INTEGER NOT NULL DEFAULT 0 CHECK (households >= 0),"
    "  population INTEGER NOT NULL DEFAULT 0 CHECK (population >= 0),"
    "  locked INTEGER NOT NULL DEFAULT 0);"
    "SELECT AddGeometryColumn('communities', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);"
    "CREATE INDEX communities_street ON communities(street_code);"
    "CREATE TABLE grids(fid INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, community_code TEXT NOT NULL,"
    "  seq INTEGER NOT NULL, households INTEGER NOT NULL DEFAULT 0 CHECK (households >= 0),"
    "  population INTEGER NOT NULL DEFAULT 0 CHECK (population >= 0));"
    "SELECT AddGeometryColumn('grids', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);"
    "CREATE INDEX grids_community ON grids(community_code);"
    "CREATE TABLE buildings(fid INTEGER PRIMARY KEY, ext_id TEXT, name TEXT NOT NULL DEFAULT '',"
    "  households INTEGER NOT NULL DEFAULT 0 CHECK (households >= 0),"
    "  population INTEGER NOT NULL DEFAULT 0 CHECK (population >= 0), floors INTEGER,"
    "  elderly_alone INTEGER NOT NULL DEFAULT 0 CHECK (elderly_alone >= 0),"
    "  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled >= 0),"
    "  low_income INTEGER NOT NULL DEFAULT 0 CHECK (low_income >= 0),"
    "  community_code TEXT, grid_code TEXT);"
    "SELECT AddGeometryColumn('buildings', 'geom', 4326, 'GEOMETRY', 'XY', 1);"
    "CREATE INDEX buildings_community ON buildings(community_code);"
    "CREATE INDEX buildings_grid ON buildings(grid_code);"
    "CREATE TABLE facilities(fid INTEGER PRIMARY KEY, ext_id TEXT, type TEXT NOT NULL, name TEXT NOT NULL DEFAULT '');"
    "SELECT AddGeometryColumn('facilities', 'geom', 4326, 'POINT', 'XY', 1);"
    "CREATE INDEX facilities_type ON facilities(type);"
    "CREATE TABLE roads(fid INTEGER PRIMARY KEY, ext_id TEXT, class TEXT NOT NULL DEFAULT '', name TEXT NOT NULL DEFAULT '');"
    "SELECT AddGeometryColumn('roads', 'geom', 4326, 'MULTILINESTRING', 'XY', 1);"
    "CREATE TABLE changesets(id INTEGER PRIMARY KEY,"
    "  ts TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
    "  user TEXT NOT NULL, op TEXT NOT NULL, summary TEXT, undone_by INTEGER, undo_of INTEGER);"
    "CREATE TABLE changes(id INTEGER PRIMARY KEY, changeset INTEGER NOT NULL REFERENCES changesets(id),"
    "  tbl TEXT NOT NULL, fid INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('insert', 'update', 'delete')),"
    "  before_row TEXT, before_geom BLOB, after_row TEXT, after_geom BLOB);"
    "CREATE INDEX changes_changeset ON changes(changeset);"
    "SELECT CreateSpatialIndex('streets', 'geom');"
    "SELECT CreateSpatialIndex('communities', 'geom');"
    "SELECT CreateSpatialIndex('grids', 'geom');"
    "SELECT CreateSpatialIndex('buildings', 'geom');"
    "SELECT CreateSpatialIndex('facilities', 'geom');"
    "SELECT CreateSpatialIndex('roads', 'geom');";

/* Version 2: API tokens (stored as SHA-256 hex of the token; the token itself is shown once). */
static const char store_migration_2[] =
    "CREATE TABLE tokens(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK (role IN ('viewer', 'planner', 'admin')), hash TEXT NOT NULL UNIQUE,"
    "  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));";

/* Version 3: the change log's triggers (see store_history.c). They are generated from each feature
 * table's columns, so this step is code, not a fixed script; a later migration that adds a column
 * calls store_history_install_triggers() again. */
static const char store_migration_3[] =
    "CREATE TABLE changeset_active(id INTEGER PRIMARY KEY CHECK (id = 1), changeset INTEGER NOT NULL);"
    "CREATE INDEX changes_row ON changes(tbl, fid);";

/* Version 4: buildings are looked up by their source id (import's duplicate check, edits by ext_id). */
static const char store_migration_4[] = "CREATE INDEX buildings_ext_id ON buildings(ext_id);";

/* Version 5: an UPDATE logs its geometry blobs only when the geometry changed (geom_changed = 1);
 * a property-only update (grids --apply rewrites grid_code on every building) stores NULL blobs with
 * geom_changed = 0, so the log no longer copies every footprint twice. Rows logged before this
 * migration keep the default 1: their blobs are there. The update triggers are regenerated to fill
 * the flag. (Migration 3 on a new file already generates these triggers; SQLite resolves a trigger's
 * columns when it fires, and nothing fires before this step adds the column.) */
static const char store_migration_5[] = "ALTER TABLE changes ADD COLUMN geom_changed INTEGER NOT NULL DEFAULT 1;";

typedef struct store_migration {
    const char *sql;
    int (*run)(store_t *st, char *err, size_t errlen); /* after sql, may be NULL */
} store_migration_t;

static const store_migration_t store_migrations[] = {
    {store_migration_1, NULL}, {store_migration_2, NULL}, {store_migration_3, store_history_install_triggers},
    {store_migration_4, NULL}, {store_migration_5, store_history_install_triggers}};
#define STORE_N_MIGRATIONS (int)(sizeof store_migrations / sizeof store_migrations[0])
_Static_assert(sizeof store_migrations / sizeof store_migrations[0] == STORE_SCHEMA_VERSION,
               "STORE_SCHEMA_VERSION must equal the number of migrations");

int store_exec(store_t *st, const char *sql, char *err, size_t errlen) {
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(err, errlen, GP_EDB, "%s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return GP_EDB;
    }
    return GP_OK;
}

static int store_schema_version(store_t *st) {
    sqlite3_stmt *s;
    int v = -1;
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &s, NULL) != SQLITE_OK)
        return -1; /* no meta table */
    if (sqlite3_step(s) == SQLITE_ROW) v = atoi((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
}

static int store_migrate(store_t *st, int from, char *err, size_t errlen) {
    int rc = store_begin(st, err, errlen);
    if (rc) return rc;
    if (from == 0 && sqlite3_exec(st->db, "SELECT InitSpatialMetadata(0)", NULL, NULL, NULL) != SQLITE_OK) {
        rc = err_set(err, errlen, GP_EDB, "%s: cannot initialise SpatiaLite metadata: %s", st->path, sqlite3_errmsg(st->db));
        goto end;
    }
    for (int v = from; v < STORE_N_MIGRATIONS; v++) {
        if ((rc = store_exec(st, store_migrations[v].sql, err, errlen))) goto end;
        if (store_migrations[v].run && (rc = store_migrations[v].run(st, err, errlen))) goto end;
    }
    char version[16];
    snprintf(version, sizeof version, "%d", STORE_N_MIGRATIONS);
    if ((rc = store_meta_set(st, "schema_version", version, err, errlen))) goto end;
    rc = store_commit(st, err, errlen);
end:
    if (rc) store_rollback(st);
    return rc;
}

int store_open(const char *path, int flags, store_t **out, char *err, size_t errlen) {
    *out = NULL;
    int exists = access(path, F_OK) == 0;
    if (!exists && !(flags & STORE_CREATE))
        return err_set(err, errlen, GP_ENOTFOUND, "%s: no such database (create it with 'gridplan import' or 'gridplan demo')", path);
    store_t *st = calloc(1, sizeof *st);
    if (!st) return GP_ENOMEM;
    st->path = strdup(path);
    int oflags = (flags & STORE_READONLY) ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = GP_OK;
    if (sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = err_set(err, errlen, GP_EDB, "%s: cannot open: %s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto end;
    }
    st->spatialite = spatialite_alloc_connection();
    spatialite_init_ex(st->db, st->spatialite, 0);
    sqlite3_busy_timeout(st->db, 10000);
    if (!(flags & STORE_READONLY)) {
        if ((rc = store_exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err, errlen)))
            goto end;
    }
    int version = store_schema_version(st);
    if (version < 0) {
        /* No meta table: a new file is ours to create; a file with other tables is not. */
        sqlite3_stmt *s;
        int tables = 0;
        if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master", -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW) tables = sqlite3_column_int(s, 0);
            sqlite3_finalize(s);
        } else {
            rc = err_set(err, errlen, GP_EDB, "%s: not an SQLite database: %s", path, sqlite3_errmsg(st->db));
            goto end;
        }
        if (tables > 0) {
            rc = err_set(err, errlen, GP_EINVAL, "%s: not a gridplan database (no meta table)", path);
            goto end;
        }
        if (flags & STORE_READONLY) {
            rc = err_set(err, errlen, GP_EINVAL, "%s: empty database opened read-only", path);
            goto end;
        }
        version = 0;
    }
    if (version > STORE_N_MIGRATIONS) {
        rc = err_set(err, errlen, GP_EINVAL, "%s: schema version %d is newer than this gridplan (%d)", path, version,
                     STORE_N_MIGRATIONS);
        goto end;
    }
    if (version < STORE_N_MIGRATIONS) {
        if (flags & STORE_READONLY) {
            rc = err_set(err, errlen, GP_EINVAL, "%s: schema version %d needs migrating; open it read-write once", path, version);
            goto end;
        }
        if ((rc = store_migrate(st, version, err, errlen))) goto end;
    }
end:
    if (rc) {
        store_close(st);
        if (!exists && !(flags & STORE_READONLY)) {
            /* Leave nothing behind when creation failed. */
            char side[4096];
            unlink(path);
            snprintf(side, sizeof side, "%s-wal", path); unlink(side);
            snprintf(side, sizeof side, "%s-shm", path); unlink(side);
        }
        return rc;
    }
    *out = st;
    return GP_OK;
}

void store_close(store_t *st) {
    if (!st) return;
    if (st->db) sqlite3_close_v2(st->db);
    if (st->spatialite) spatialite_cleanup_ex(st->spatialite);
    free(st->path);
    free(st);
}

int store_begin(store_t *st, char *err, size_t errlen) { return store_exec(st, "BEGIN IMMEDIATE", err, errlen); }
int store_commit(store_t *st, char *err, size_t errlen) { return store_exec(st, "COMMIT", err, errlen); }
void store_rollback(store_t *st) {
    if (!sqlite3_get_autocommit(st->db)) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_meta_get(store_t *st, const char *key, char *out, size_t outlen) {
    sqlite3_stmt *s;
    int rc = GP_ENOTFOUND;
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?", -1, &s, NULL) != SQLITE_OK) return GP_EDB;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) {
        snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(s, 0));
        rc = GP_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

int store_meta_set(store_t *st, const char *key, const char *value, char *err, size_t errlen) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           -1, &s, NULL) != SQLITE_OK)
        return err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? GP_OK : err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return rc;
}

int64_t store_count(store_t *st, const char *table) {
    int known = 0;
    for (int i = 0; store_tables[i]; i++) known |= !strcmp(store_tables[i], table);
    known |= !strcmp(table, "changesets") || !strcmp(table, "changes") || !strcmp(table, "tokens");
    if (!known) return GP_ENOTFOUND;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) return GP_EDB;
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : GP_EDB;
    sqlite3_finalize(s);
    return n;
}
