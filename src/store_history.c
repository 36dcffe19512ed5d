/* store_history.c — the change log: changesets recorded by triggers, undo as a new changeset.
 *
 * Design. Every feature table carries AFTER INSERT/UPDATE/DELETE triggers that copy the whole row
 * (json_object of every column but geom) and the exact geometry blob into `changes`. They fire only
 * while `changeset_active` holds a row, which store_changeset_begin writes and store_changeset_end
 * deletes inside the writer's transaction, so bulk imports (outside changesets) cost nothing and a
 * rolled-back edit leaves no trace. Since one writer holds the lock at a time (BEGIN IMMEDIATE), a
 * committed row in changeset_active can only be a stale leftover, and begin replaces it.
 *
 * Undo needs no per-table code: the stored row JSON names its columns, so the inverse statement is
 * built from the JSON keys and the values come back through json_extract with their SQLite types
 * (a code '0101' stays text, households stays integer). Geometry blobs are bound unchanged, so a
 * restored row is byte-identical. An undo is allowed only when every row the changeset touched is
 * still exactly as the changeset left it; otherwise the later writer is named. */
#include "store.h"
#include "err.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int history_is_feature_table(const char *t) {
    for (int i = 0; store_tables[i]; i++)
        if (!strcmp(store_tables[i], t)) return 1;
    return 0;
}

static int history_db_error(store_t *st, char *err, size_t errlen) {
    return err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
}

/* ---- triggers ---------------------------------------------------------------------------- */

/* Appends json_object('c1', P."c1", ...) over the table's columns except geom. */
static int history_row_expr(store_t *st, const char *table, const char *prefix, buf_t *out, char *err, size_t errlen) {
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA table_info(\"%s\")", table);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) return history_db_error(st, err, errlen);
    buf_puts(out, "json_object(");
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *col = (const char *)sqlite3_column_text(s, 1);
        if (!strcmp(col, "geom")) continue;
        buf_printf(out, "%s'%s', %s.\"%s\"", n++ ? ", " : "", col, prefix, col);
    }
    sqlite3_finalize(s);
    if (!n) return err_set(err, errlen, GP_EDB, "%s: table %s has no columns", st->path, table);
    return buf_puts(out, ")");
}

int store_history_install_triggers(store_t *st, char *err, size_t errlen) {
    buf_t sql = {0}, old_row = {0}, new_row = {0};
    int rc = GP_OK;
    for (int i = 0; store_tables[i] && !rc; i++) {
        const char *t = store_tables[i];
        buf_reset(&sql);
        buf_reset(&old_row);
        buf_reset(&new_row);
        if ((rc = history_row_expr(st, t, "OLD", &old_row, err, errlen))) break;
        if ((rc = history_row_expr(st, t, "NEW", &new_row, err, errlen))) break;
        const char *when = "WHEN (SELECT changeset FROM changeset_active) IS NOT NULL";
        const char *cs = "(SELECT changeset FROM changeset_active)";
        buf_printf(&sql,
                   "DROP TRIGGER IF EXISTS \"%s_log_insert\"; DROP TRIGGER IF EXISTS \"%s_log_update\";"
                   "DROP TRIGGER IF EXISTS \"%s_log_delete\";", t, t, t);
        buf_printf(&sql,
                   "CREATE TRIGGER \"%s_log_insert\" AFTER INSERT ON \"%s\" %s BEGIN "
                   "INSERT INTO changes(changeset, tbl, fid, kind, after_row, after_geom) "
                   "VALUES (%s, '%s', NEW.fid, 'insert', %s, NEW.geom); END;",
                   t, t, when, cs, t, new_row.data);
        /* A no-op UPDATE is not a change: it must not block a later undo. The geometry is logged
         * only when it changed (blob comparison): a property-only update stores NULL blobs with
         * geom_changed = 0, and undo leaves the geometry alone. */
        buf_printf(&sql,
                   "CREATE TRIGGER \"%s_log_update\" AFTER UPDATE ON \"%s\" %s AND (%s IS NOT %s OR OLD.geom IS NOT NEW.geom) BEGIN "
                   "INSERT INTO changes(changeset, tbl, fid, kind, before_row, before_geom, after_row, after_geom, geom_changed) "
                   "VALUES (%s, '%s', NEW.fid, 'update', %s, CASE WHEN OLD.geom IS NOT NEW.geom THEN OLD.geom END, %s, "
                   "CASE WHEN OLD.geom IS NOT NEW.geom THEN NEW.geom END, OLD.geom IS NOT NEW.geom); END;",
                   t, t, when, old_row.data, new_row.data, cs, t, old_row.data, new_row.data);
        buf_printf(&sql,
                   "CREATE TRIGGER \"%s_log_delete\" AFTER DELETE ON \"%s\" %s BEGIN "
                   "INSERT INTO changes(changeset, tbl, fid, kind, before_row, before_geom) "
                   "VALUES (%s, '%s', OLD.fid, 'delete', %s, OLD.geom); END;",
                   t, t, when, cs, t, old_row.data);
        rc = store_exec(st, sql.data, err, errlen);
    }
    buf_free(&sql);
    buf_free(&old_row);
    buf_free(&new_row);
    return rc;
}

/* ---- changesets -------------------------------------------------------------------------- */

int store_changeset_begin(store_t *st, const char *user, const char *op, const char *summary_json,
                          int64_t *changeset_id, char *err, size_t errlen) {
    if (sqlite3_get_autocommit(st->db))
        return err_set(err, errlen, GP_EINVAL, "%s: store_changeset_begin needs an open transaction (store_begin)", st->path);
    sqlite3_stmt *s = NULL;
    int rc = GP_OK;
    if ((rc = store_exec(st, "DELETE FROM changeset_active", err, errlen))) return rc;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO changesets(user, op, summary) VALUES (?, ?, ?)", -1, &s, NULL) != SQLITE_OK)
        return history_db_error(st, err, errlen);
    sqlite3_bind_text(s, 1, user && *user ? user : "cli", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, op && *op ? op : "edit", -1, SQLITE_STATIC);
    if (summary_json) sqlite3_bind_text(s, 3, summary_json, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = history_db_error(st, err, errlen);
        goto end;
    }
    int64_t id = sqlite3_last_insert_rowid(st->db);
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO changeset_active(id, changeset) VALUES (1, ?)", -1, &s, NULL) != SQLITE_OK)
        return history_db_error(st, err, errlen);
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = history_db_error(st, err, errlen);
        goto end;
    }
    if (changeset_id) *changeset_id = id;
end:
    sqlite3_finalize(s);
    return rc;
}

int store_changeset_end(store_t *st, char *err, size_t errlen) {
    return store_exec(st, "DELETE FROM changeset_active", err, errlen);
}

static int64_t history_scalar(store_t *st, const char *sql) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) return GP_EDB;
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : GP_EDB;
    sqlite3_finalize(s);
    return v;
}

int64_t store_last_change_id(store_t *st) { return history_scalar(st, "SELECT coalesce(max(id), 0) FROM changes"); }

int64_t store_newest_in_force(store_t *st) {
    return history_scalar(st, "SELECT coalesce(max(id), 0) FROM changesets WHERE undone_by IS NULL");
}

/* ---- undo -------------------------------------------------------------------------------- */

/* "communities 110105003001 (fid 12)": the most human key the row JSON has. */
static void history_feature_name(const char *tbl, int64_t fid, const char *row_json, char *out, size_t outlen) {
    json_t *row = row_json ? json_loads(row_json, 0, NULL) : NULL;
    const char *key = NULL;
    static const char *const keys[] = {"code", "ext_id", "name"};
    for (size_t i = 0; row && !key && i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = json_string_value(json_object_get(row, keys[i]));
        if (v && *v) key = v;
    }
    if (key) snprintf(out, outlen, "%s %s (fid %lld)", tbl, key, (long long)fid);
    else snprintf(out, outlen, "%s fid %lld", tbl, (long long)fid);
    json_decref(row);
}

/* Statements prepared during one undo, found again by their SQL text: undoing a city-wide grid
 * division replays some 145,000 change rows through a handful of distinct statements, and preparing
 * each one anew cost more than the replay itself. NULL cache: prepare and finalize every time. */
typedef struct history_stmts {
    int n, cap;
    char **sql;
    sqlite3_stmt **stmt;
} history_stmts_t;

static sqlite3_stmt *history_prepare(store_t *st, history_stmts_t *c, const char *sql) {
    sqlite3_stmt *s;
    for (int i = 0; c && i < c->n; i++)
        if (!strcmp(c->sql[i], sql)) {
            sqlite3_clear_bindings(c->stmt[i]);
            return c->stmt[i];
        }
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) return NULL;
    if (c && c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 16;
        char **sqls = realloc(c->sql, (size_t)cap * sizeof *sqls);
        if (sqls) c->sql = sqls;
        sqlite3_stmt **stmts = sqls ? realloc(c->stmt, (size_t)cap * sizeof *stmts) : NULL;
        if (stmts) { c->stmt = stmts; c->cap = cap; }
    }
    if (c && c->n < c->cap && (c->sql[c->n] = strdup(sql)) != NULL) c->stmt[c->n++] = s;
    return s;
}

/* Done with a statement from history_prepare: reset it if the cache keeps it, else finalize it. */
static void history_release(history_stmts_t *c, sqlite3_stmt *s) {
    for (int i = 0; c && i < c->n; i++)
        if (c->stmt[i] == s) {
            sqlite3_reset(s);
            return;
        }
    sqlite3_finalize(s);
}

static void history_stmts_free(history_stmts_t *c) {
    for (int i = 0; i < c->n; i++) {
        sqlite3_finalize(c->stmt[i]);
        free(c->sql[i]);
    }
    free(c->sql);
    free(c->stmt);
}

/* Column names as listed in a row JSON, checked to be plain identifiers (they reach SQL text). */
static int history_row_columns(store_t *st, history_stmts_t *cache, const char *row_json, buf_t *cols, int *ncols,
                               char *err, size_t errlen) {
    sqlite3_stmt *s = history_prepare(st, cache, "SELECT key FROM json_each(?)");
    if (!s) return history_db_error(st, err, errlen);
    sqlite3_bind_text(s, 1, row_json, -1, SQLITE_STATIC);
    buf_reset(cols);
    *ncols = 0;
    int rc = GP_OK;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(s, 0);
        if (!k || !*k || strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(k)) {
            rc = err_set(err, errlen, GP_EDB, "%s: change log row has an unexpected column name", st->path);
            break;
        }
        buf_puts(cols, k);
        buf_append(cols, "", 1); /* NUL-separated list */
        (*ncols)++;
    }
    history_release(cache, s);
    return rc;
}

/* Current state of a row as the triggers would record it: returns 1 with the row JSON and geometry
 * copied into row and geom (malloc, caller frees), 0 when the row is absent. */
static int history_current(store_t *st, history_stmts_t *cache, const char *tbl, int64_t fid, const char *like_row,
                           char **row, unsigned char **geom, int *geomlen, char *err, size_t errlen) {
    buf_t cols = {0}, sql = {0};
    int ncols, rc;
    *row = NULL;
    *geom = NULL;
    *geomlen = 0;
    if ((rc = history_row_columns(st, cache, like_row, &cols, &ncols, err, errlen))) goto end;
    buf_puts(&sql, "SELECT json_object(");
    const char *c = cols.data;
    for (int i = 0; i < ncols; i++, c += strlen(c) + 1) buf_printf(&sql, "%s'%s', \"%s\"", i ? ", " : "", c, c);
    buf_printf(&sql, "), geom FROM \"%s\" WHERE fid = ?", tbl);
    sqlite3_stmt *s = history_prepare(st, cache, sql.data);
    if (!s) {
        rc = history_db_error(st, err, errlen);
        goto end;
    }
    sqlite3_bind_int64(s, 1, fid);
    rc = 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        *row = strdup((const char *)sqlite3_column_text(s, 0));
        *geomlen = sqlite3_column_bytes(s, 1);
        if (*geomlen) {
            *geom = malloc((size_t)*geomlen);
            memcpy(*geom, sqlite3_column_blob(s, 1), (size_t)*geomlen);
        }
        rc = 1;
    }
    history_release(cache, s);
end:
    buf_free(&cols);
    buf_free(&sql);
    return rc;
}

/* Every row the changeset touched must still be as it left it. When its last change to a row kept
 * the geometry (geom_changed = 0, no blob), the geometry it left is read from the nearest change to
 * that row that logged one: the newest before it (its after_geom), else the oldest after it (its
 * before_geom, what that later change found). When no change to the row ever logged a geometry
 * (imported, only properties edited since), the log has no geometry to compare: it is skipped,
 * which loses nothing, because undo of a property-only change does not write the geometry. */
static int history_check_conflicts(store_t *st, history_stmts_t *cache, int64_t id, char *err, size_t errlen) {
    sqlite3_stmt *s, *who = NULL;
    const char *sql =
        "SELECT c.tbl, c.fid, c.kind, c.after_row,"
        " CASE WHEN c.geom_changed THEN c.after_geom"
        "  WHEN EXISTS (SELECT 1 FROM changes d WHERE d.tbl = c.tbl AND d.fid = c.fid AND d.id < c.id AND d.geom_changed)"
        "  THEN (SELECT d.after_geom FROM changes d WHERE d.tbl = c.tbl AND d.fid = c.fid AND d.id < c.id AND d.geom_changed"
        "   ORDER BY d.id DESC LIMIT 1)"
        "  ELSE (SELECT d.before_geom FROM changes d WHERE d.tbl = c.tbl AND d.fid = c.fid AND d.id > c.id AND d.geom_changed"
        "   ORDER BY d.id LIMIT 1) END,"
        " coalesce(c.after_row, c.before_row),"
        " c.geom_changed OR EXISTS (SELECT 1 FROM changes d WHERE d.tbl = c.tbl AND d.fid = c.fid AND d.id <> c.id AND d.geom_changed)"
        " FROM changes c "
        "WHERE c.changeset = ?1 AND c.id = (SELECT max(id) FROM changes d WHERE d.changeset = ?1 AND d.tbl = c.tbl AND d.fid = c.fid)";
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) return history_db_error(st, err, errlen);
    sqlite3_bind_int64(s, 1, id);
    int rc = GP_OK;
    while (!rc && sqlite3_step(s) == SQLITE_ROW) {
        const char *tbl = (const char *)sqlite3_column_text(s, 0);
        int64_t fid = sqlite3_column_int64(s, 1);
        int deleted = !strcmp((const char *)sqlite3_column_text(s, 2), "delete");
        const char *after = (const char *)sqlite3_column_text(s, 3);
        const void *after_geom = sqlite3_column_blob(s, 4);
        int after_len = sqlite3_column_bytes(s, 4);
        const char *any_row = (const char *)sqlite3_column_text(s, 5);
        int geom_known = sqlite3_column_int(s, 6);
        if (!history_is_feature_table(tbl)) {
            rc = err_set(err, errlen, GP_EDB, "%s: change log names unknown table '%s'", st->path, tbl);
            break;
        }
        char *cur = NULL;
        unsigned char *cur_geom = NULL;
        int cur_len = 0;
        int present = history_current(st, cache, tbl, fid, any_row, &cur, &cur_geom, &cur_len, err, errlen);
        if (present < 0) { rc = present; break; }
        int same = deleted ? !present
                           : present && after && !strcmp(cur, after) &&
                                 (!geom_known || (cur_len == after_len &&
                                                  (!cur_len || !memcmp(cur_geom, after_geom, (size_t)cur_len))));
        free(cur);
        free(cur_geom);
        if (same) continue;
        char name[160];
        history_feature_name(tbl, fid, any_row, name, sizeof name);
        int64_t later = 0;
        if (sqlite3_prepare_v2(st->db, "SELECT max(changeset) FROM changes WHERE tbl = ? AND fid = ? AND changeset > ?", -1,
                               &who, NULL) == SQLITE_OK) {
            sqlite3_bind_text(who, 1, tbl, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(who, 2, fid);
            sqlite3_bind_int64(who, 3, id);
            if (sqlite3_step(who) == SQLITE_ROW) later = sqlite3_column_int64(who, 0);
            sqlite3_finalize(who);
        }
        if (later)
            rc = err_set(err, errlen, GP_ECONFLICT, "cannot undo changeset %lld: %s was changed again by changeset %lld; undo that first",
                         (long long)id, name, (long long)later);
        else
            rc = err_set(err, errlen, GP_ECONFLICT, "cannot undo changeset %lld: %s was changed outside the change log (an import?) since",
                         (long long)id, name);
    }
    sqlite3_finalize(s);
    return rc;
}

/* Applies the inverse of one recorded change. An update that did not log its geometry (geom_logged
 * 0) did not change it, so its inverse leaves geom alone. */
static int history_revert_change(store_t *st, history_stmts_t *cache, const char *tbl, int64_t fid, const char *kind,
                                 const char *before, const void *before_geom, int before_len, int geom_logged, char *err,
                                 size_t errlen) {
    buf_t cols = {0}, sql = {0};
    sqlite3_stmt *s = NULL;
    int ncols = 0, rc = GP_OK;
    if (!strcmp(kind, "insert")) {
        buf_printf(&sql, "DELETE FROM \"%s\" WHERE fid = ?3", tbl);
    } else {
        if (!before) {
            rc = err_set(err, errlen, GP_EDB, "%s: %s change to %s fid %lld has no before row", st->path, kind, tbl, (long long)fid);
            goto end;
        }
        if ((rc = history_row_columns(st, cache, before, &cols, &ncols, err, errlen))) goto end;
        const char *c = cols.data;
        if (!strcmp(kind, "delete")) {
            buf_printf(&sql, "INSERT INTO \"%s\"(", tbl);
            for (int i = 0; i < ncols; i++, c += strlen(c) + 1) buf_printf(&sql, "\"%s\", ", c);
            buf_puts(&sql, "geom) VALUES (");
            c = cols.data;
            for (int i = 0; i < ncols; i++, c += strlen(c) + 1) buf_printf(&sql, "json_extract(?1, '$.%s'), ", c);
            buf_puts(&sql, "?2)");
        } else {
            buf_printf(&sql, "UPDATE \"%s\" SET ", tbl);
            for (int i = 0; i < ncols; i++, c += strlen(c) + 1) buf_printf(&sql, "%s\"%s\" = json_extract(?1, '$.%s')", i ? ", " : "", c, c);
            buf_puts(&sql, geom_logged ? ", geom = ?2 WHERE fid = ?3" : " WHERE fid = ?3");
        }
    }
    if (!(s = history_prepare(st, cache, sql.data))) {
        rc = history_db_error(st, err, errlen);
        goto end;
    }
    if (before) sqlite3_bind_text(s, 1, before, -1, SQLITE_STATIC);
    if (before_geom && geom_logged) sqlite3_bind_blob(s, 2, before_geom, before_len, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(s) >= 3) sqlite3_bind_int64(s, 3, fid);
    if (sqlite3_step(s) != SQLITE_DONE) {
        char name[160];
        history_feature_name(tbl, fid, before, name, sizeof name);
        rc = err_set(err, errlen, GP_ECONFLICT, "cannot restore %s: %s", name, sqlite3_errmsg(st->db));
    }
end:
    if (s) history_release(cache, s);
    buf_free(&cols);
    buf_free(&sql);
    return rc;
}

int store_undo(store_t *st, int64_t changeset_id, const char *user, int64_t *undo_id, char *err, size_t errlen) {
    sqlite3_stmt *s = NULL;
    history_stmts_t cache = {0};
    int rc = store_begin(st, err, errlen);
    if (rc) return rc;
    if (sqlite3_prepare_v2(st->db, "SELECT undone_by FROM changesets WHERE id = ?", -1, &s, NULL) != SQLITE_OK) {
        rc = history_db_error(st, err, errlen);
        goto end;
    }
    sqlite3_bind_int64(s, 1, changeset_id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        rc = err_set(err, errlen, GP_ENOTFOUND, "%s: no changeset %lld", st->path, (long long)changeset_id);
        goto end;
    }
    if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
        rc = err_set(err, errlen, GP_EINVAL, "changeset %lld was already undone by changeset %lld", (long long)changeset_id,
                     (long long)sqlite3_column_int64(s, 0));
        goto end;
    }
    sqlite3_finalize(s);
    s = NULL;
    if ((rc = history_check_conflicts(st, &cache, changeset_id, err, errlen))) goto end;
    char summary[64];
    snprintf(summary, sizeof summary, "{\"undo_of\":%lld}", (long long)changeset_id);
    int64_t id;
    if ((rc = store_changeset_begin(st, user, "undo", summary, &id, err, errlen))) goto end;
    if (sqlite3_prepare_v2(st->db, "SELECT tbl, fid, kind, before_row, before_geom, geom_changed FROM changes WHERE changeset = ? ORDER BY id DESC",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = history_db_error(st, err, errlen);
        goto end;
    }
    sqlite3_bind_int64(s, 1, changeset_id);
    int step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *tbl = (const char *)sqlite3_column_text(s, 0);
        if (!history_is_feature_table(tbl)) {
            rc = err_set(err, errlen, GP_EDB, "%s: change log names unknown table '%s'", st->path, tbl);
            break;
        }
        rc = history_revert_change(st, &cache, tbl, sqlite3_column_int64(s, 1), (const char *)sqlite3_column_text(s, 2),
                                   (const char *)sqlite3_column_text(s, 3), sqlite3_column_blob(s, 4),
                                   sqlite3_column_bytes(s, 4), sqlite3_column_int(s, 5), err, errlen);
    }
    if (rc) goto end;
    sqlite3_finalize(s);
    s = NULL;
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE changesets SET undo_of = %lld WHERE id = %lld; UPDATE changesets SET undone_by = %lld WHERE id = %lld",
             (long long)changeset_id, (long long)id, (long long)id, (long long)changeset_id);
    if ((rc = store_exec(st, sql, err, errlen))) goto end;
    if ((rc = store_changeset_end(st, err, errlen))) goto end;
    if ((rc = store_commit(st, err, errlen))) goto end;
    if (undo_id) *undo_id = id;
end:
    sqlite3_finalize(s);
    history_stmts_free(&cache);
    if (rc) store_rollback(st);
    return rc;
}

/* ---- listing ----------------------------------------------------------------------------- */

int store_history_json(store_t *st, int limit, buf_t *out, char *err, size_t errlen) {
    sqlite3_stmt *s;
    const char *sql = "SELECT id, ts, user, op, summary, json_valid(summary), undone_by, undo_of,"
                      " (SELECT count(*) FROM changes WHERE changeset = cs.id) FROM changesets cs ORDER BY id DESC LIMIT ?";
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) return history_db_error(st, err, errlen);
    sqlite3_bind_int(s, 1, limit > 0 ? limit : -1);
    buf_puts(out, "[");
    int n = 0, step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        buf_printf(out, "%s{\"id\":%lld,\"ts\":", n++ ? "," : "", (long long)sqlite3_column_int64(s, 0));
        buf_json_string(out, (const char *)sqlite3_column_text(s, 1));
        buf_puts(out, ",\"user\":");
        buf_json_string(out, (const char *)sqlite3_column_text(s, 2));
        buf_puts(out, ",\"op\":");
        buf_json_string(out, (const char *)sqlite3_column_text(s, 3));
        buf_puts(out, ",\"summary\":");
        if (sqlite3_column_type(s, 4) == SQLITE_NULL) buf_puts(out, "null");
        else if (sqlite3_column_int(s, 5)) buf_puts(out, (const char *)sqlite3_column_text(s, 4));
        else buf_json_string(out, (const char *)sqlite3_column_text(s, 4));
        for (int c = 6; c <= 7; c++) {
            buf_puts(out, c == 6 ? ",\"undone_by\":" : ",\"undo_of\":");
            if (sqlite3_column_type(s, c) == SQLITE_NULL) buf_puts(out, "null");
            else buf_printf(out, "%lld", (long long)sqlite3_column_int64(s, c));
        }
        buf_printf(out, ",\"changes\":%lld}", (long long)sqlite3_column_int64(s, 8));
    }
    sqlite3_finalize(s);
    if (step != SQLITE_DONE) return history_db_error(st, err, errlen);
    return buf_puts(out, "]");
}
