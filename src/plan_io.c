/* plan_io.c — load a city from the store; write planned changes back as one undoable changeset.
 *
 * Geometry travels as WKB (AsBinary / GeomFromWKB), so what the engine computed is what is stored.
 * Writes go through plain SQL on the public tables; the store's triggers record every row in the
 * change log between store_changeset_begin and store_changeset_end. */
#include "plan_io.h"
#include "err.h"
#include "log.h"
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int db_fail(store_t *st, char *err, size_t errlen, const char *what) {
    return err_set(err, errlen, GP_EDB, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

static GEOSGeometry *column_geom(GEOSContextHandle_t g, sqlite3_stmt *s, int col) {
    const void *blob = sqlite3_column_blob(s, col);
    int len = sqlite3_column_bytes(s, col);
    return blob && len > 0 ? geo_from_wkb(g, blob, (size_t)len) : NULL;
}

static void copy_text(char *dst, size_t n, sqlite3_stmt *s, int col) {
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static int code_cmp(const void *a, const void *b) {
    return strcmp(((const plan_community_t *)a)->code, ((const plan_community_t *)b)->code);
}

int plan_io_load(store_t *st, GEOSContextHandle_t g, plan_city_t *city, char *err, size_t errlen) {
    sqlite3_stmt *s = NULL;
    int rc = 0;
    size_t cap;
    memset(city, 0, sizeof *city);
    int64_t nc = store_count(st, "communities"), nb = store_count(st, "buildings");
    if (nc < 0 || nb < 0) return err_set(err, errlen, GP_EDB, "%s: cannot count communities/buildings", st->path);
    city->comms = calloc((size_t)nc + 1, sizeof *city->comms);
    city->blds = calloc((size_t)nb + 1, sizeof *city->blds);
    if (!city->comms || !city->blds) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory loading %s", st->path); goto end; }
    if (sqlite3_prepare_v2(st->db, "SELECT fid, code, name, street_code, households, population, locked, AsBinary(geom)"
                                   " FROM communities ORDER BY code", -1, &s, NULL) != SQLITE_OK) {
        rc = db_fail(st, err, errlen, "reading communities");
        goto end;
    }
    while (sqlite3_step(s) == SQLITE_ROW && city->ncomms < (size_t)nc) {
        plan_community_t *c = &city->comms[city->ncomms];
        c->fid = sqlite3_column_int64(s, 0);
        copy_text(c->code, sizeof c->code, s, 1);
        copy_text(c->name, sizeof c->name, s, 2);
        copy_text(c->street_code, sizeof c->street_code, s, 3);
        c->households = sqlite3_column_int64(s, 4);
        c->population = sqlite3_column_int64(s, 5);
        c->locked = sqlite3_column_int(s, 6) != 0;
        c->geom = column_geom(g, s, 7);
        if (!c->geom) { rc = err_set(err, errlen, GP_EGEOM, "community %s: geometry missing or unreadable", c->code); goto end; }
        city->ncomms++;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT fid, households, population, community_code, AsBinary(CASE WHEN "
                                   "GeometryType(geom) LIKE 'POINT%' THEN geom ELSE ST_PointOnSurface(geom) END)"
                                   " FROM buildings ORDER BY fid", -1, &s, NULL) != SQLITE_OK) {
        rc = db_fail(st, err, errlen, "reading buildings");
        goto end;
    }
    while (sqlite3_step(s) == SQLITE_ROW && city->nblds < (size_t)nb) {
        plan_building_t *b = &city->blds[city->nblds];
        b->fid = sqlite3_column_int64(s, 0);
        b->households = sqlite3_column_int64(s, 1);
        b->population = sqlite3_column_int64(s, 2);
        plan_community_t key;
        copy_text(key.code, sizeof key.code, s, 3);
        plan_community_t *c = bsearch(&key, city->comms, city->ncomms, sizeof key, code_cmp);
        b->community = c ? (int)(c - city->comms) : -1;
        GEOSGeometry *pt = column_geom(g, s, 4);
        if (!pt || !GEOSGeomGetX_r(g, pt, &b->x) || !GEOSGeomGetY_r(g, pt, &b->y)) {
            GEOSGeom_destroy_r(g, pt);
            log_warn("building %lld: no usable geometry; left out of planning", (long long)b->fid);
            continue;
        }
        GEOSGeom_destroy_r(g, pt);
        city->nblds++;
    }
    sqlite3_finalize(s);
    s = NULL;
    /* Roads: every line of every row into one MultiLineString (used to prefer cutting along roads). */
    cap = 256;
    size_t nl = 0;
    GEOSGeometry **lines = malloc(cap * sizeof *lines);
    if (!lines || sqlite3_prepare_v2(st->db, "SELECT AsBinary(geom) FROM roads WHERE geom IS NOT NULL", -1, &s, NULL) != SQLITE_OK) {
        free(lines);
        rc = lines ? db_fail(st, err, errlen, "reading roads") : err_set(err, errlen, GP_ENOMEM, "out of memory");
        goto end;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        GEOSGeometry *r = column_geom(g, s, 0);
        if (!r) continue;
        int n = GEOSGetNumGeometries_r(g, r);
        for (int i = 0; i < n; i++) {
            if (nl == cap) {
                GEOSGeometry **more = realloc(lines, (cap *= 2) * sizeof *lines);
                if (!more) break;
                lines = more;
            }
            if (nl < cap) lines[nl++] = GEOSGeom_clone_r(g, GEOSGetGeometryN_r(g, r, i));
        }
        GEOSGeom_destroy_r(g, r);
    }
    city->roads = nl ? GEOSGeom_createCollection_r(g, GEOS_MULTILINESTRING, lines, (unsigned)nl) : NULL;
    free(lines);
end:
    sqlite3_finalize(s);
    if (rc) plan_city_free(g, city);
    return rc;
}

/* ---- writing ------------------------------------------------------------------------------- */

static int bind_geom(GEOSContextHandle_t g, sqlite3_stmt *s, int col, const GEOSGeometry *geom) {
    GEOSGeometry *multi = geo_as_multipolygon(g, geom);
    size_t len = 0;
    unsigned char *wkb = multi ? geo_to_wkb(g, multi, &len) : NULL;
    GEOSGeom_destroy_r(g, multi);
    if (!wkb) return GP_EGEOM;
    return sqlite3_bind_blob(s, col, wkb, (int)len, free) == SQLITE_OK ? 0 : GP_EDB;
}

static int same_geom(GEOSContextHandle_t g, const GEOSGeometry *a, const GEOSGeometry *b) {
    size_t la, lb;
    unsigned char *wa = geo_to_wkb(g, a, &la), *wb = geo_to_wkb(g, b, &lb);
    int same = wa && wb && la == lb && !memcmp(wa, wb, la);
    free(wa);
    free(wb);
    return same;
}

static int run1(store_t *st, const char *sql, const char *text, char *err, size_t errlen) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) return db_fail(st, err, errlen, sql);
    sqlite3_bind_text(s, 1, text, -1, SQLITE_TRANSIENT);
    int ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
    return ok ? 0 : db_fail(st, err, errlen, sql);
}

/* Drops the grids of a community and clears its buildings' grid codes. */
static int drop_grids(store_t *st, const char *code, char *err, size_t errlen) {
    int rc = run1(st, "DELETE FROM grids WHERE community_code = ?", code, err, errlen);
    if (!rc) rc = run1(st, "UPDATE buildings SET grid_code = NULL WHERE community_code = ? AND grid_code IS NOT NULL", code,
                       err, errlen);
    return rc;
}

static int begin_changeset(store_t *st, const char *user, const char *op, const char *summary, int64_t *id, char *err,
                           size_t errlen) {
    int rc = store_begin(st, err, errlen);
    if (rc) return rc;
    rc = store_changeset_begin(st, user, op, summary, id, err, errlen);
    if (rc) store_rollback(st);
    return rc;
}

static int end_changeset(store_t *st, int rc, char *err, size_t errlen) {
    if (!rc) rc = store_changeset_end(st, err, errlen);
    if (!rc) rc = store_commit(st, err, errlen);
    if (rc) store_rollback(st);
    return rc;
}

int plan_io_apply_city(store_t *st, GEOSContextHandle_t g, const plan_city_t *before, const plan_city_t *after,
                       const char *user, const char *op, const char *summary_json, int64_t *changeset, char *err,
                       size_t errlen) {
    /* Locked communities must come out byte-identical: check before writing anything. */
    for (size_t i = 0; i < before->ncomms; i++) {
        const plan_community_t *b = &before->comms[i];
        if (!b->locked) continue;
        int j = plan_city_find(after, b->code);
        if (j < 0 || !same_geom(g, b->geom, after->comms[j].geom) || after->comms[j].households != b->households)
            return err_set(err, errlen, GP_ECONFLICT, "community %s is locked; the plan would change it", b->code);
    }
    int rc = begin_changeset(st, user, op, summary_json, changeset, err, errlen);
    if (rc) return rc;
    sqlite3_stmt *upd = NULL, *ins = NULL, *del = NULL, *bld = NULL;
    if (sqlite3_prepare_v2(st->db, "UPDATE communities SET name = ?, households = ?, population = ?, geom = GeomFromWKB(?, 4326)"
                                   " WHERE code = ?", -1, &upd, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "INSERT INTO communities(code, name, street_code, households, population, locked, geom)"
                                   " VALUES (?, ?, ?, ?, ?, 0, GeomFromWKB(?, 4326))", -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "DELETE FROM communities WHERE code = ?", -1, &del, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "UPDATE buildings SET community_code = ?, grid_code = NULL WHERE fid = ?", -1, &bld,
                           NULL) != SQLITE_OK) {
        rc = db_fail(st, err, errlen, "preparing plan writes");
        goto end;
    }
    for (size_t i = 0; i < before->ncomms && !rc; i++) {
        const plan_community_t *b = &before->comms[i];
        if (plan_city_find(after, b->code) >= 0) continue;
        if ((rc = drop_grids(st, b->code, err, errlen))) break;
        sqlite3_reset(del);
        sqlite3_bind_text(del, 1, b->code, -1, SQLITE_STATIC);
        if (sqlite3_step(del) != SQLITE_DONE) rc = db_fail(st, err, errlen, "deleting a community");
    }
    for (size_t i = 0; i < after->ncomms && !rc; i++) {
        const plan_community_t *a = &after->comms[i];
        if (!a->geom) continue;
        int j = plan_city_find(before, a->code);
        if (j >= 0) {
            const plan_community_t *b = &before->comms[j];
            if (same_geom(g, a->geom, b->geom) && a->households == b->households && a->population == b->population &&
                !strcmp(a->name, b->name))
                continue;
            if ((rc = drop_grids(st, a->code, err, errlen))) break;
            sqlite3_reset(upd);
            sqlite3_bind_text(upd, 1, a->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(upd, 2, a->households);
            sqlite3_bind_int64(upd, 3, a->population);
            if ((rc = bind_geom(g, upd, 4, a->geom))) { err_set(err, errlen, rc, "community %s: geometry", a->code); break; }
            sqlite3_bind_text(upd, 5, a->code, -1, SQLITE_STATIC);
            if (sqlite3_step(upd) != SQLITE_DONE) rc = db_fail(st, err, errlen, "updating a community");
        } else {
            sqlite3_reset(ins);
            sqlite3_bind_text(ins, 1, a->code, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 2, a->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 3, a->street_code, -1, SQLITE_STATIC);
            sqlite3_bind_int64(ins, 4, a->households);
            sqlite3_bind_int64(ins, 5, a->population);
            if ((rc = bind_geom(g, ins, 6, a->geom))) { err_set(err, errlen, rc, "community %s: geometry", a->code); break; }
            if (sqlite3_step(ins) != SQLITE_DONE) rc = db_fail(st, err, errlen, "inserting a community");
        }
    }
    /* Buildings: both cities list the same buildings in the same order (after is a copy of before). */
    for (size_t i = 0; i < after->nblds && i < before->nblds && !rc; i++) {
        const plan_building_t *a = &after->blds[i], *b = &before->blds[i];
        assert(a->fid == b->fid);
        const char *ca = a->community >= 0 ? after->comms[a->community].code : NULL;
        const char *cb = b->community >= 0 ? before->comms[b->community].code : NULL;
        if ((!ca && !cb) || (ca && cb && !strcmp(ca, cb))) continue;
        sqlite3_reset(bld);
        if (ca) sqlite3_bind_text(bld, 1, ca, -1, SQLITE_STATIC);
        else sqlite3_bind_null(bld, 1);
        sqlite3_bind_int64(bld, 2, a->fid);
        if (sqlite3_step(bld) != SQLITE_DONE) rc = db_fail(st, err, errlen, "reassigning a building");
    }
end:
    sqlite3_finalize(upd);
    sqlite3_finalize(ins);
    sqlite3_finalize(del);
    sqlite3_finalize(bld);
    return end_changeset(st, rc, err, errlen);
}

int plan_io_apply_grids(store_t *st, GEOSContextHandle_t g, const plan_city_t *city, const plan_gridset_t *gs,
                        const char *user, int64_t *changeset, char *err, size_t errlen) {
    char summary[128];
    snprintf(summary, sizeof summary, "{\"grids\":%zu}", gs->n);
    int rc = begin_changeset(st, user, "grids", summary, changeset, err, errlen);
    if (rc) return rc;
    sqlite3_stmt *ins = NULL, *bld = NULL;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO grids(code, community_code, seq, households, population, geom)"
                                   " VALUES (?, ?, ?, ?, ?, GeomFromWKB(?, 4326))", -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "UPDATE buildings SET grid_code = ? WHERE fid = ? AND grid_code IS NOT ?", -1, &bld,
                           NULL) != SQLITE_OK) {
        rc = db_fail(st, err, errlen, "preparing grid writes");
        goto end;
    }
    int last = -1;
    for (size_t i = 0; i < gs->n && !rc; i++) {
        int c = gs->grid_community[i];
        if (c != last && (rc = run1(st, "DELETE FROM grids WHERE community_code = ?", city->comms[c].code, err, errlen)))
            break;
        last = c;
        const plan_part_t *p = &gs->grids[i];
        sqlite3_reset(ins);
        sqlite3_bind_text(ins, 1, p->code, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, city->comms[c].code, -1, SQLITE_STATIC);
        sqlite3_bind_int(ins, 3, p->seq);
        sqlite3_bind_int64(ins, 4, p->households);
        sqlite3_bind_int64(ins, 5, p->population);
        if ((rc = bind_geom(g, ins, 6, p->geom))) { err_set(err, errlen, rc, "grid %s: geometry", p->code); break; }
        if (sqlite3_step(ins) != SQLITE_DONE) rc = db_fail(st, err, errlen, "inserting a grid");
    }
    for (size_t i = 0; i < city->nblds && !rc; i++) {
        int gi = gs->building_grid[i];
        if (gi < 0) continue;
        sqlite3_reset(bld);
        sqlite3_bind_text(bld, 1, gs->grids[gi].code, -1, SQLITE_STATIC);
        sqlite3_bind_int64(bld, 2, city->blds[i].fid);
        sqlite3_bind_text(bld, 3, gs->grids[gi].code, -1, SQLITE_STATIC);
        if (sqlite3_step(bld) != SQLITE_DONE) rc = db_fail(st, err, errlen, "setting a building's grid");
    }
end:
    sqlite3_finalize(ins);
    sqlite3_finalize(bld);
    return end_changeset(st, rc, err, errlen);
}
