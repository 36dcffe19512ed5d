/* http_edit.c — geometry edits over HTTP (PUT a community or grid), the change history, undo.
 *
 * An edit is validated before anything is written (JSON, geometry type, GEOS validity), then,
 * under the write lock (BEGIN IMMEDIATE), checked against the neighbours found through the spatial
 * index, and written inside a changeset so it is logged with the token owner's name and can be
 * undone. A community (grid) edit also moves the buildings under the old and new outline to the
 * community (grid) that now holds them (import_assign_communities_in, _grids_in), in the same changeset. The overlap check runs inside the transaction so two concurrent edits cannot both pass
 * it against the old state. */
#include "http.h"
#include "err.h"
#include "import.h"
#include "log.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Interiors may touch along shared edges; an overlap smaller than this (deg², about 0.1 m² at
 * mid latitudes) is noise from coordinates rounded to 7 decimals, not a real overlap. */
#define EDIT_OVERLAP_TOLERANCE 1e-11

typedef struct edit_table { const char *id; const char *label; } edit_table_t;
static const edit_table_t edit_tables[] = {{"communities", "community"}, {"grids", "grid"}, {NULL, NULL}};

static const edit_table_t *edit_table_find(const char *id) {
    for (const edit_table_t *t = edit_tables; t->id; t++)
        if (!strcmp(t->id, id)) return t;
    return NULL;
}

/* Parses the body (a GeoJSON Feature or a bare geometry) into a valid MultiPolygon. Fills res with
 * the 400/422 answer and returns NULL when it is not one. */
static GEOSGeometry *edit_parse_geometry(http_req_t *req, http_res_t *res) {
    GEOSContextHandle_t g = req->worker->geos;
    json_error_t jerr;
    json_t *root = json_loadb(req->body, req->body_len, 0, &jerr);
    GEOSGeometry *geom = NULL, *multi = NULL;
    if (!root) {
        http_error(res, 400, "malformed JSON", "the body is not valid JSON: %s at line %d column %d", jerr.text, jerr.line,
                   jerr.column);
        return NULL;
    }
    const json_t *gj = root;
    const char *type = json_string_value(json_object_get(root, "type"));
    if (!json_is_object(root) || !type) {
        http_error(res, 400, "bad request", "the body must be a GeoJSON Feature or geometry object with a \"type\"");
        goto end;
    }
    if (!strcmp(type, "Feature")) {
        gj = json_object_get(root, "geometry");
        type = json_string_value(json_object_get(gj, "type"));
        if (!json_is_object(gj) || !type) {
            http_error(res, 400, "bad request", "the Feature has no geometry object");
            goto end;
        }
    }
    if (strcmp(type, "Polygon") && strcmp(type, "MultiPolygon")) {
        http_error(res, 422, "wrong geometry type", "geometry type %.40s: a %s must be a Polygon or MultiPolygon", type,
                   http_param(req, "collection"));
        goto end;
    }
    char err[256];
    geom = geo_from_geojson(g, gj, err, sizeof err);
    if (!geom) {
        http_error(res, 400, "bad geometry", "%s", err);
        goto end;
    }
    if (GEOSisEmpty_r(g, geom) == 1) {
        http_error(res, 422, "invalid geometry", "the geometry is empty");
        goto end;
    }
    double minx, miny, maxx, maxy;
    if (geo_bounds(g, geom, &minx, &miny, &maxx, &maxy) == GP_OK &&
        (minx < -180 || maxx > 180 || miny < -90 || maxy > 90)) {
        http_error(res, 422, "invalid geometry", "coordinates outside lon/lat range (%.3f %.3f %.3f %.3f): geometry must be EPSG:4326",
                   minx, miny, maxx, maxy);
        goto end;
    }
    if (GEOSisValid_r(g, geom) != 1) {
        char *reason = GEOSisValidReason_r(g, geom);
        http_error(res, 422, "invalid geometry", "the geometry is not valid: %s", reason ? reason : "unknown reason");
        GEOSFree_r(g, reason);
        goto end;
    }
    multi = geo_as_multipolygon(g, geom);
    if (!multi) http_error(res, 422, "invalid geometry", "cannot make a MultiPolygon of it");
end:
    if (geom) GEOSGeom_destroy_r(g, geom);
    json_decref(root);
    return multi;
}

/* 0 when no other feature of the table overlaps geom; GP_ECONFLICT with the neighbour named. */
static int edit_check_overlap(http_worker_t *w, const char *table, int64_t fid, const GEOSGeometry *geom, char *err,
                              size_t errlen) {
    GEOSContextHandle_t g = w->geos;
    double minx, miny, maxx, maxy;
    if (geo_bounds(g, geom, &minx, &miny, &maxx, &maxy)) return err_set(err, errlen, GP_EGEOM, "empty geometry");
    char sql[320];
    snprintf(sql, sizeof sql,
             "SELECT fid, code, ST_AsBinary(geom) FROM %s WHERE fid <> ?1 AND fid IN (SELECT pkid FROM idx_%s_geom"
             " WHERE xmin <= ?4 AND xmax >= ?2 AND ymin <= ?5 AND ymax >= ?3)", table, table);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(w->store->db, sql, -1, &s, NULL) != SQLITE_OK)
        return err_set(err, errlen, GP_EDB, "%s: %s", table, sqlite3_errmsg(w->store->db));
    sqlite3_bind_int64(s, 1, fid);
    sqlite3_bind_double(s, 2, minx);
    sqlite3_bind_double(s, 3, miny);
    sqlite3_bind_double(s, 4, maxx);
    sqlite3_bind_double(s, 5, maxy);
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(g, geom);
    int rc = GP_OK;
    while (rc == GP_OK && sqlite3_step(s) == SQLITE_ROW) {
        if (sqlite3_column_type(s, 2) != SQLITE_BLOB) continue;
        GEOSGeometry *other = geo_from_wkb(g, sqlite3_column_blob(s, 2), (size_t)sqlite3_column_bytes(s, 2));
        if (!other) continue;
        if (GEOSPreparedIntersects_r(g, pg, other) == 1 && GEOSPreparedTouches_r(g, pg, other) != 1) {
            GEOSGeometry *inter = GEOSIntersection_r(g, geom, other);
            double area = 0;
            if (inter) GEOSArea_r(g, inter, &area);
            if (area > EDIT_OVERLAP_TOLERANCE)
                rc = err_set(err, errlen, GP_ECONFLICT, "the new geometry overlaps %s %s (fid %lld) by %.3g square degrees",
                             table, (const char *)sqlite3_column_text(s, 1), (long long)sqlite3_column_int64(s, 0), area);
            if (inter) GEOSGeom_destroy_r(g, inter);
        }
        GEOSGeom_destroy_r(g, other);
    }
    GEOSPreparedGeom_destroy_r(g, pg);
    sqlite3_finalize(s);
    return rc;
}

static int edit_put(http_req_t *req, http_res_t *res) {
    const char *coll = http_param(req, "collection"), *fids = http_param(req, "fid");
    const edit_table_t *tb = edit_table_find(coll);
    if (!tb) return http_error(res, 404, "not found", "collection '%.60s' cannot be edited (communities or grids)", coll);
    int64_t fid;
    if (http_parse_int(fids, 1, INT64_MAX / 2, &fid))
        return http_error(res, 404, "not found", "no %s '%.60s' (ids are positive integers)", tb->label, fids);
    http_worker_t *w = req->worker;
    store_t *st = w->store;
    GEOSContextHandle_t g = w->geos;
    GEOSGeometry *geom = edit_parse_geometry(req, res);
    if (!geom) return 0;
    unsigned char *wkb = NULL;
    size_t wkblen = 0;
    int rc = GP_OK, in_tx = 0;
    sqlite3_stmt *s = NULL;
    double nb[4], ob[4] = {0, 0, 0, 0};
    int have_old = 0;
    int64_t changeset = 0;
    char code[64] = "";
    geo_bounds(g, geom, &nb[0], &nb[1], &nb[2], &nb[3]);
    wkb = geo_to_wkb(g, geom, &wkblen);
    if (!wkb) { rc = err_set(res->err, sizeof res->err, GP_EGEOM, "cannot encode the geometry"); goto end; }
    if ((rc = store_begin(st, res->err, sizeof res->err))) goto end;
    in_tx = 1;
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT code, %s, MbrMinX(geom), MbrMinY(geom), MbrMaxX(geom), MbrMaxY(geom) FROM %s WHERE fid = ?",
             strcmp(tb->id, "communities") ? "0" : "locked", tb->id);
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        rc = err_set(res->err, sizeof res->err, GP_EDB, "%s", sqlite3_errmsg(st->db));
        goto end;
    }
    sqlite3_bind_int64(s, 1, fid);
    if (sqlite3_step(s) != SQLITE_ROW) {
        rc = err_set(res->err, sizeof res->err, GP_ENOTFOUND, "no %s with id %lld", tb->label, (long long)fid);
        goto end;
    }
    snprintf(code, sizeof code, "%s", (const char *)sqlite3_column_text(s, 0));
    if (sqlite3_column_int(s, 1)) {
        rc = err_set(res->err, sizeof res->err, GP_ECONFLICT, "%s %s is locked; unlock it before editing", tb->label, code);
        goto end;
    }
    if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
        for (int i = 0; i < 4; i++) ob[i] = sqlite3_column_double(s, 2 + i);
        have_old = 1;
    }
    sqlite3_finalize(s);
    s = NULL;
    if ((rc = edit_check_overlap(w, tb->id, fid, geom, res->err, sizeof res->err))) {
        /* The API contract answers an overlap like any other invalid geometry: 422. */
        if (rc == GP_ECONFLICT) {
            http_error(res, 422, "overlaps neighbour", "%s", res->err);
            rc = GP_OK;
        }
        goto end;
    }
    char summary[160];
    snprintf(summary, sizeof summary, "{\"table\":\"%s\",\"fid\":%lld,\"code\":", tb->id, (long long)fid);
    buf_t sj = {0};
    buf_puts(&sj, summary);
    buf_json_string(&sj, code);
    buf_puts(&sj, "}");
    rc = store_changeset_begin(st, req->user, "edit", sj.data, &changeset, res->err, sizeof res->err);
    buf_free(&sj);
    if (rc) goto end;
    snprintf(sql, sizeof sql, "UPDATE %s SET geom = CastToMultiPolygon(GeomFromWKB(?, 4326)) WHERE fid = ?", tb->id);
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        rc = err_set(res->err, sizeof res->err, GP_EDB, "%s", sqlite3_errmsg(st->db));
        goto end;
    }
    sqlite3_bind_blob(s, 1, wkb, (int)wkblen, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, fid);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = err_set(res->err, sizeof res->err, GP_EDB, "cannot update %s %s: %s", tb->label, code, sqlite3_errmsg(st->db));
        goto end;
    }
    sqlite3_finalize(s);
    s = NULL;
    double bb[4];
    bb[0] = have_old && ob[0] < nb[0] ? ob[0] : nb[0];
    bb[1] = have_old && ob[1] < nb[1] ? ob[1] : nb[1];
    bb[2] = have_old && ob[2] > nb[2] ? ob[2] : nb[2];
    bb[3] = have_old && ob[3] > nb[3] ? ob[3] : nb[3];
    /* Buildings follow the boundary: those under the old or new outline are placed again and the
     * totals of the communities (grids) they left or joined recomputed, in this changeset so undo
     * restores them. */
    rc = !strcmp(tb->id, "communities") ? import_assign_communities_in(st, bb, NULL, res->err, sizeof res->err)
                                         : import_assign_grids_in(st, bb, NULL, res->err, sizeof res->err);
    if (rc) goto end;
    if ((rc = store_changeset_end(st, res->err, sizeof res->err))) goto end;
    if ((rc = store_commit(st, res->err, sizeof res->err))) goto end;
    in_tx = 0;
    http_change_t ch = {.table = tb->id, .has_bbox = 1, .changeset = changeset};
    memcpy(ch.bbox, bb, sizeof bb);
    http_notify_changed(w, &ch);
    buf_printf(&res->body, "{\"applied\":true,\"changeset\":%lld,\"collection\":\"%s\",\"id\":%lld,\"code\":", (long long)changeset,
               tb->id, (long long)fid);
    buf_json_string(&res->body, code);
    buf_puts(&res->body, "}\n");
    res->no_etag = 1;
end:
    if (s) sqlite3_finalize(s);
    if (in_tx) store_rollback(st);
    free(wkb);
    GEOSGeom_destroy_r(g, geom);
    return rc;
}

/* GET /api/history[?limit=N]: changesets newest first (store_history_json's shape). */
static int edit_history(http_req_t *req, http_res_t *res) {
    int64_t limit = 100;
    const char *v = http_query(req, "limit");
    if (v && http_parse_int(v, 1, 100000, &limit))
        return http_error(res, 400, "bad request", "limit '%.40s' is out of range: expected 1..100000", v);
    int rc = store_history_json(req->worker->store, (int)limit, &res->body, res->err, sizeof res->err);
    if (rc) return rc;
    buf_append(&res->body, "\n", 1);
    return 0;
}

static int edit_undo_id(http_req_t *req, http_res_t *res, int64_t id) {
    int64_t undo_id = 0;
    int rc = store_undo(req->worker->store, id, req->user, &undo_id, res->err, sizeof res->err);
    if (rc == GP_EINVAL) return http_error(res, 409, "conflict", "%s", res->err);
    if (rc) return rc;
    http_change_t ch = {.table = NULL, .has_bbox = 0, .changeset = undo_id};
    http_notify_changed(req->worker, &ch);
    buf_printf(&res->body, "{\"changeset\":%lld,\"undo_of\":%lld}\n", (long long)undo_id, (long long)id);
    res->no_etag = 1;
    return 0;
}

static int edit_undo(http_req_t *req, http_res_t *res) {
    const char *v = http_param(req, "changeset");
    int64_t id;
    if (http_parse_int(v, 1, INT64_MAX / 2, &id))
        return http_error(res, 404, "not found", "no changeset '%.40s' (ids are positive integers)", v);
    return edit_undo_id(req, res, id);
}

static int edit_undo_last(http_req_t *req, http_res_t *res) {
    int64_t id = store_newest_in_force(req->worker->store);
    if (id < 0) return err_set(res->err, sizeof res->err, (int)id, "cannot read the change log");
    if (id == 0) return http_error(res, 404, "not found", "there is no changeset in force to undo");
    return edit_undo_id(req, res, id);
}

static const http_route_t edit_routes[] = {
    {"PUT", "/api/features/{collection}/{fid}", edit_put, AUTH_PLANNER},
    {"GET", "/api/history", edit_history, AUTH_NONE},
    {"POST", "/api/undo/{changeset}", edit_undo, AUTH_PLANNER},
    {"POST", "/api/undo", edit_undo_last, AUTH_PLANNER},
    {NULL, NULL, NULL, 0}};

const http_module_t http_edit_module = {
    .name = "edit",
    .routes = edit_routes,
};
