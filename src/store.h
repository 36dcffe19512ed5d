/* store.h — the SpatiaLite database: connections, schema and migrations, transactions.
 *
 * The schema is a public contract (users open the file in QGIS and SQL):
 *   meta(key, value)                       schema_version, city, county_code, profile, ...
 *   streets(fid, code, name, county_code, geom MULTIPOLYGON NULL)          code: 9 digits (county6+street3)
 *   communities(fid, code, name, street_code, households, population, locked, geom MULTIPOLYGON)
 *                                                                         code: 12 digits (street9+community3)
 *   grids(fid, code, community_code, seq, households, population, geom MULTIPOLYGON)
 *                                                                         code: 15 digits (community12+grid3)
 *   buildings(fid, ext_id, name, households, population, floors, elderly_alone, disabled, low_income,
 *             community_code, grid_code, geom GEOMETRY: POINT or MULTIPOLYGON footprint)
 *   facilities(fid, ext_id, type, name, geom POINT)
 *   roads(fid, ext_id, class, name, geom MULTILINESTRING)
 *   changesets(id, ts, user, op, summary, undone_by, undo_of)              one user action
 *   changes(id, changeset, tbl, fid, kind, before_row, before_geom, after_row, after_geom, geom_changed)
 *                                          geom_changed 0: an update that kept the geometry; its
 *                                          before_geom/after_geom are NULL (not logged)
 *   tokens(id, name, role, hash, created)                                 API bearer tokens, hashed
 *   changeset_active(id = 1, changeset)      the open changeset, if any (the log triggers read it)
 * All geometry is lon/lat EPSG:4326 (CGCS2000 data is stored as is: the two agree to centimetres),
 * with a SpatiaLite spatial index on every geometry column.
 *
 * One store_t per thread: SQLite connections are not shared. WAL mode lets readers run while one
 * writer holds BEGIN IMMEDIATE. */
#ifndef GP_STORE_H
#define GP_STORE_H
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define STORE_SCHEMA_VERSION 5

enum {
    STORE_READWRITE = 0,
    STORE_CREATE = 1,     /* create the file and the schema if missing */
    STORE_READONLY = 2
};

typedef struct store {
    sqlite3 *db;
    void *spatialite;     /* SpatiaLite connection cache (spatialite_alloc_connection) */
    char *path;
} store_t;

/* Opens (and with STORE_CREATE creates) the database, initialises SpatiaLite on the connection,
 * sets WAL and a busy timeout, and brings the schema up to STORE_SCHEMA_VERSION. Returns 0 and sets
 * *out (free with store_close), or a negative code with err filled ("geodata/x.sqlite: not a gridplan
 * database (no meta table)"). */
int store_open(const char *path, int flags, store_t **out, char *err, size_t errlen);
void store_close(store_t *st);   /* accepts NULL */

/* Transactions: store_begin takes the write lock (BEGIN IMMEDIATE). */
int store_begin(store_t *st, char *err, size_t errlen);
int store_commit(store_t *st, char *err, size_t errlen);
void store_rollback(store_t *st);

/* Runs SQL with no result rows. */
int store_exec(store_t *st, const char *sql, char *err, size_t errlen);

/* meta table: store_meta_get copies the value into out (size outlen) or returns GP_ENOTFOUND. */
int store_meta_get(store_t *st, const char *key, char *out, size_t outlen);
int store_meta_set(store_t *st, const char *key, const char *value, char *err, size_t errlen);

/* Count of rows in a table (one of the schema's names), or a negative code. */
int64_t store_count(store_t *st, const char *table);

/* ---- Change log (implemented in store_history.c) --------------------------------------------
 * Between store_changeset_begin and store_changeset_end, inside one transaction the caller opened
 * with store_begin, every INSERT/UPDATE/DELETE on the feature tables is recorded in `changes` by
 * triggers: the whole row before and after, the geometry as its exact blob, so undo restores it
 * byte for byte. Writes outside a changeset (bulk import) are not recorded; import bumps
 * meta.data_version instead. */
int store_changeset_begin(store_t *st, const char *user, const char *op, const char *summary_json,
                          int64_t *changeset_id, char *err, size_t errlen);
int store_changeset_end(store_t *st, char *err, size_t errlen);
/* Reverts one changeset in its own transaction, as a new changeset (op "undo", undo_of = id) that
 * can itself be undone. GP_ECONFLICT (with the feature named) when a later changeset touched the
 * same rows and is still in force; GP_ENOTFOUND for an unknown id; GP_EINVAL if already undone. */
int store_undo(store_t *st, int64_t changeset_id, const char *user, int64_t *undo_id, char *err, size_t errlen);
/* The newest changes.id (0 when none): caches compare it to know what expired. */
int64_t store_last_change_id(store_t *st);
/* The id of the newest changeset still in force (not undone), 0 when none, or a negative code. */
int64_t store_newest_in_force(store_t *st);
/* Appends the changesets, newest first (at most limit; limit <= 0 means all), as a JSON array of
 * {"id","ts","user","op","summary","undone_by","undo_of","changes"}; summary is the JSON the writer
 * gave (or null), changes the number of rows touched. */
int store_history_json(store_t *st, int limit, buf_t *out, char *err, size_t errlen);
/* (Re)creates the AFTER INSERT/UPDATE/DELETE log triggers on every feature table from its current
 * columns. Run by migration 3; a later migration that adds a column must call it again. */
int store_history_install_triggers(store_t *st, char *err, size_t errlen);

/* The feature tables, in dependency order, and each one's geometry type as SpatiaLite names it. */
extern const char *const store_tables[];          /* NULL-terminated */
const char *store_geometry_type(const char *table); /* NULL for a non-feature table */

#endif
