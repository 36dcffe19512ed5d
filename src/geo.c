/* geo.c — GEOS contexts, GeoJSON and WKB bridges, coordinate mapping.
 *
 * GeoJSON parsing walks jansson's tree and builds coordinate sequences directly; writing goes
 * through buf_t with fixed decimals so output is stable byte for byte (tests compare it). */
#include "geo.h"
#include "err.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEO_MSG_LEN 512
typedef struct geo_msgs { char last[GEO_MSG_LEN]; } geo_msgs_t;

/* GEOS passes the user pointer given at registration; the message buffer lives as long as the
 * context, and is looked up by handle in a tiny registry so geo_last_error can find it. */
static void geo_error_handler(const char *message, void *user) {
    geo_msgs_t *m = user;
    snprintf(m->last, sizeof m->last, "%s", message);
}
static void geo_notice_handler(const char *message, void *user) {
    (void)message;
    (void)user;
}

typedef struct geo_ctx_entry { GEOSContextHandle_t h; geo_msgs_t *m; struct geo_ctx_entry *next; } geo_ctx_entry_t;
#include <pthread.h>
static pthread_mutex_t geo_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static geo_ctx_entry_t *geo_reg;

GEOSContextHandle_t geo_ctx_new(void) {
    GEOSContextHandle_t h = GEOS_init_r();
    if (!h) return NULL;
    geo_msgs_t *m = calloc(1, sizeof *m);
    geo_ctx_entry_t *e = calloc(1, sizeof *e);
    if (!m || !e) { free(m); free(e); GEOS_finish_r(h); return NULL; }
    GEOSContext_setErrorMessageHandler_r(h, geo_error_handler, m);
    GEOSContext_setNoticeMessageHandler_r(h, geo_notice_handler, m);
    e->h = h;
    e->m = m;
    pthread_mutex_lock(&geo_reg_lock);
    e->next = geo_reg;
    geo_reg = e;
    pthread_mutex_unlock(&geo_reg_lock);
    return h;
}

void geo_ctx_free(GEOSContextHandle_t gctx) {
    if (!gctx) return;
    pthread_mutex_lock(&geo_reg_lock);
    for (geo_ctx_entry_t **pp = &geo_reg; *pp; pp = &(*pp)->next) {
        if ((*pp)->h == gctx) {
            geo_ctx_entry_t *e = *pp;
            *pp = e->next;
            free(e->m);
            free(e);
            break;
        }
    }
    pthread_mutex_unlock(&geo_reg_lock);
    GEOS_finish_r(gctx);
}

const char *geo_last_error(GEOSContextHandle_t gctx) {
    const char *msg = "";
    pthread_mutex_lock(&geo_reg_lock);
    for (geo_ctx_entry_t *e = geo_reg; e; e = e->next)
        if (e->h == gctx) { msg = e->m->last; break; }
    pthread_mutex_unlock(&geo_reg_lock);
    return msg;
}

/* ---- GeoJSON -> GEOS ---------------------------------------------------------------- */

static GEOSCoordSequence *geo_parse_positions(GEOSContextHandle_t g, const json_t *arr, size_t min_points,
                                              int closed, const char *what, char *err, size_t errlen) {
    if (!json_is_array(arr)) {
        err_set(err, errlen, GP_EINVAL, "%s: coordinates must be an array of positions", what);
        return NULL;
    }
    size_t n = json_array_size(arr);
    if (n < min_points) {
        err_set(err, errlen, GP_EINVAL, "%s has %zu positions, needs at least %zu", what, n, min_points);
        return NULL;
    }
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(g, (unsigned)n, 2);
    if (!cs) { err_set(err, errlen, GP_ENOMEM, "%s: out of memory", what); return NULL; }
    for (size_t i = 0; i < n; i++) {
        const json_t *pos = json_array_get(arr, i);
        const json_t *jx = json_array_get(pos, 0), *jy = json_array_get(pos, 1);
        if (!json_is_array(pos) || !json_is_number(jx) || !json_is_number(jy)) {
            err_set(err, errlen, GP_EINVAL, "%s: position %zu is not [x, y] numbers", what, i);
            GEOSCoordSeq_destroy_r(g, cs);
            return NULL;
        }
        double x = json_number_value(jx), y = json_number_value(jy);
        if (!isfinite(x) || !isfinite(y)) {
            err_set(err, errlen, GP_EINVAL, "%s: position %zu is not finite", what, i);
            GEOSCoordSeq_destroy_r(g, cs);
            return NULL;
        }
        GEOSCoordSeq_setXY_r(g, cs, (unsigned)i, x, y);
    }
    if (closed) {
        double x0, y0, x1, y1;
        GEOSCoordSeq_getXY_r(g, cs, 0, &x0, &y0);
        GEOSCoordSeq_getXY_r(g, cs, (unsigned)n - 1, &x1, &y1);
        if (x0 != x1 || y0 != y1) {
            err_set(err, errlen, GP_EINVAL, "%s is not closed (first and last positions differ)", what);
            GEOSCoordSeq_destroy_r(g, cs);
            return NULL;
        }
    }
    return cs;
}

static GEOSGeometry *geo_parse_polygon(GEOSContextHandle_t g, const json_t *rings, char *err, size_t errlen) {
    if (!json_is_array(rings) || json_array_size(rings) == 0) {
        err_set(err, errlen, GP_EINVAL, "polygon needs at least one ring");
        return NULL;
    }
    size_t n = json_array_size(rings);
    GEOSGeometry *shell = NULL, **holes = n > 1 ? calloc(n - 1, sizeof *holes) : NULL;
    size_t nholes = 0;
    for (size_t i = 0; i < n; i++) {
        char what[48];
        snprintf(what, sizeof what, "ring %zu", i);
        GEOSCoordSequence *cs = geo_parse_positions(g, json_array_get(rings, i), 4, 1, what, err, errlen);
        if (!cs) goto fail;
        GEOSGeometry *ring = GEOSGeom_createLinearRing_r(g, cs);
        if (!ring) { err_set(err, errlen, GP_EGEOM, "%s: %s", what, geo_last_error(g)); goto fail; }
        if (i == 0) shell = ring;
        else holes[nholes++] = ring;
    }
    GEOSGeometry *poly = GEOSGeom_createPolygon_r(g, shell, holes, (unsigned)nholes);
    free(holes);
    return poly;
fail:
    if (shell) GEOSGeom_destroy_r(g, shell);
    for (size_t i = 0; i < nholes; i++) GEOSGeom_destroy_r(g, holes[i]);
    free(holes);
    return NULL;
}

GEOSGeometry *geo_from_geojson(GEOSContextHandle_t g, const json_t *geometry, char *err, size_t errlen) {
    if (!json_is_object(geometry)) {
        err_set(err, errlen, GP_EINVAL, "geometry is not an object");
        return NULL;
    }
    const char *type = json_string_value(json_object_get(geometry, "type"));
    if (!type) { err_set(err, errlen, GP_EINVAL, "geometry has no type"); return NULL; }
    const json_t *coords = json_object_get(geometry, "coordinates");
    if (strcmp(type, "GeometryCollection") == 0) {
        const json_t *geoms = json_object_get(geometry, "geometries");
        if (!json_is_array(geoms)) { err_set(err, errlen, GP_EINVAL, "GeometryCollection has no geometries array"); return NULL; }
        size_t n = json_array_size(geoms);
        GEOSGeometry **parts = calloc(n ? n : 1, sizeof *parts);
        for (size_t i = 0; i < n; i++) {
            parts[i] = geo_from_geojson(g, json_array_get(geoms, i), err, errlen);
            if (!parts[i]) {
                for (size_t j = 0; j < i; j++) GEOSGeom_destroy_r(g, parts[j]);
                free(parts);
                return NULL;
            }
        }
        GEOSGeometry *gc = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
        free(parts);
        return gc;
    }
    if (!coords) { err_set(err, errlen, GP_EINVAL, "%s has no coordinates", type); return NULL; }
    if (strcmp(type, "Point") == 0) {
        json_t *wrap = json_array();
        json_array_append(wrap, (json_t *)coords);
        GEOSCoordSequence *cs = geo_parse_positions(g, wrap, 1, 0, "Point", err, errlen);
        json_decref(wrap);
        return cs ? GEOSGeom_createPoint_r(g, cs) : NULL;
    }
    if (strcmp(type, "LineString") == 0) {
        GEOSCoordSequence *cs = geo_parse_positions(g, coords, 2, 0, "LineString", err, errlen);
        return cs ? GEOSGeom_createLineString_r(g, cs) : NULL;
    }
    if (strcmp(type, "Polygon") == 0) return geo_parse_polygon(g, coords, err, errlen);
    int multi_type;
    if (strcmp(type, "MultiPoint") == 0) multi_type = GEOS_MULTIPOINT;
    else if (strcmp(type, "MultiLineString") == 0) multi_type = GEOS_MULTILINESTRING;
    else if (strcmp(type, "MultiPolygon") == 0) multi_type = GEOS_MULTIPOLYGON;
    else { err_set(err, errlen, GP_EINVAL, "unknown geometry type '%s'", type); return NULL; }
    if (!json_is_array(coords)) { err_set(err, errlen, GP_EINVAL, "%s coordinates are not an array", type); return NULL; }
    size_t n = json_array_size(coords);
    GEOSGeometry **parts = calloc(n ? n : 1, sizeof *parts);
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(coords, i);
        json_t *sub = json_object();
        json_object_set_new(sub, "type", json_string(multi_type == GEOS_MULTIPOINT ? "Point"
                                                     : multi_type == GEOS_MULTILINESTRING ? "LineString" : "Polygon"));
        json_object_set(sub, "coordinates", (json_t *)c);
        parts[i] = geo_from_geojson(g, sub, err, errlen);
        json_decref(sub);
        if (!parts[i]) {
            for (size_t j = 0; j < i; j++) GEOSGeom_destroy_r(g, parts[j]);
            free(parts);
            return NULL;
        }
    }
    GEOSGeometry *m = GEOSGeom_createCollection_r(g, multi_type, parts, (unsigned)n);
    free(parts);
    return m;
}

/* ---- GEOS -> GeoJSON ---------------------------------------------------------------- */

static int geo_write_seq(GEOSContextHandle_t g, const GEOSCoordSequence *cs, int decimals, buf_t *out, int single) {
    unsigned n = 0;
    GEOSCoordSeq_getSize_r(g, cs, &n);
    if (!single) buf_append(out, "[", 1);
    for (unsigned i = 0; i < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(g, cs, i, &x, &y);
        if (i) buf_append(out, ",", 1);
        buf_append(out, "[", 1);
        buf_double(out, x, decimals);
        buf_append(out, ",", 1);
        buf_double(out, y, decimals);
        if (buf_append(out, "]", 1)) return GP_ENOMEM;
    }
    if (!single) return buf_append(out, "]", 1);
    return GP_OK;
}

static int geo_write_poly_rings(GEOSContextHandle_t g, const GEOSGeometry *poly, int decimals, buf_t *out) {
    buf_append(out, "[", 1);
    const GEOSGeometry *shell = GEOSGetExteriorRing_r(g, poly);
    geo_write_seq(g, GEOSGeom_getCoordSeq_r(g, shell), decimals, out, 0);
    int nh = GEOSGetNumInteriorRings_r(g, poly);
    for (int i = 0; i < nh; i++) {
        buf_append(out, ",", 1);
        geo_write_seq(g, GEOSGeom_getCoordSeq_r(g, GEOSGetInteriorRingN_r(g, poly, i)), decimals, out, 0);
    }
    return buf_append(out, "]", 1);
}

static int geo_write_coords(GEOSContextHandle_t g, const GEOSGeometry *geom, int type, int decimals, buf_t *out) {
    switch (type) {
    case GEOS_POINT:
        return geo_write_seq(g, GEOSGeom_getCoordSeq_r(g, geom), decimals, out, 1);
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        return geo_write_seq(g, GEOSGeom_getCoordSeq_r(g, geom), decimals, out, 0);
    case GEOS_POLYGON:
        return geo_write_poly_rings(g, geom, decimals, out);
    default: {
        int n = GEOSGetNumGeometries_r(g, geom);
        buf_append(out, "[", 1);
        for (int i = 0; i < n; i++) {
            const GEOSGeometry *part = GEOSGetGeometryN_r(g, geom, i);
            if (i) buf_append(out, ",", 1);
            geo_write_coords(g, part, GEOSGeomTypeId_r(g, part), decimals, out);
        }
        return buf_append(out, "]", 1);
    }
    }
}

int geo_to_geojson(GEOSContextHandle_t g, const GEOSGeometry *geom, int decimals, buf_t *out) {
    static const char *names[] = {"Point", "LineString", "LineString", "Polygon", "MultiPoint",
                                  "MultiLineString", "MultiPolygon", "GeometryCollection"};
    int type = GEOSGeomTypeId_r(g, geom);
    if (type < 0 || type > 7) return GP_EGEOM;
    if (type == GEOS_POINT && GEOSisEmpty_r(g, geom)) return buf_puts(out, "{\"type\":\"Point\",\"coordinates\":[]}");
    buf_printf(out, "{\"type\":\"%s\",", names[type]);
    if (type == GEOS_GEOMETRYCOLLECTION) {
        buf_puts(out, "\"geometries\":[");
        int n = GEOSGetNumGeometries_r(g, geom);
        for (int i = 0; i < n; i++) {
            if (i) buf_append(out, ",", 1);
            geo_to_geojson(g, GEOSGetGeometryN_r(g, geom, i), decimals, out);
        }
        return buf_puts(out, "]}");
    }
    buf_puts(out, "\"coordinates\":");
    geo_write_coords(g, geom, type, decimals, out);
    return buf_append(out, "}", 1);
}

/* ---- WKB, bounds, helpers ------------------------------------------------------------- */

GEOSGeometry *geo_from_wkb(GEOSContextHandle_t g, const unsigned char *wkb, size_t len) {
    GEOSWKBReader *r = GEOSWKBReader_create_r(g);
    if (!r) return NULL;
    GEOSGeometry *geom = GEOSWKBReader_read_r(g, r, wkb, len);
    GEOSWKBReader_destroy_r(g, r);
    return geom;
}

unsigned char *geo_to_wkb(GEOSContextHandle_t g, const GEOSGeometry *geom, size_t *len) {
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(g);
    if (!w) return NULL;
    GEOSWKBWriter_setOutputDimension_r(g, w, 2);
    GEOSWKBWriter_setByteOrder_r(g, w, GEOS_WKB_NDR);
    unsigned char *raw = GEOSWKBWriter_write_r(g, w, geom, len);
    GEOSWKBWriter_destroy_r(g, w);
    if (!raw) return NULL;
    unsigned char *copy = malloc(*len);
    if (copy) memcpy(copy, raw, *len);
    GEOSFree_r(g, raw);
    return copy;
}

int geo_bounds(GEOSContextHandle_t g, const GEOSGeometry *geom, double *minx, double *miny, double *maxx, double *maxy) {
    if (!geom || GEOSisEmpty_r(g, geom)) return GP_EGEOM;
    if (GEOSGeom_getXMin_r(g, geom, minx) != 1 || GEOSGeom_getYMin_r(g, geom, miny) != 1 ||
        GEOSGeom_getXMax_r(g, geom, maxx) != 1 || GEOSGeom_getYMax_r(g, geom, maxy) != 1)
        return GP_EGEOM;
    return GP_OK;
}

GEOSGeometry *geo_as_multipolygon(GEOSContextHandle_t g, const GEOSGeometry *geom) {
    int type = GEOSGeomTypeId_r(g, geom);
    if (type == GEOS_MULTIPOLYGON) return GEOSGeom_clone_r(g, geom);
    if (type == GEOS_POLYGON) {
        GEOSGeometry *part = GEOSGeom_clone_r(g, geom);
        return GEOSGeom_createCollection_r(g, GEOS_MULTIPOLYGON, &part, 1);
    }
    if (type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(g, geom), k = 0;
        GEOSGeometry **parts = calloc(n ? (size_t)n : 1, sizeof *parts);
        for (int i = 0; i < n; i++) {
            const GEOSGeometry *p = GEOSGetGeometryN_r(g, geom, i);
            int t = GEOSGeomTypeId_r(g, p);
            if (GEOSisEmpty_r(g, p)) continue;
            if (t == GEOS_POLYGON) parts[k++] = GEOSGeom_clone_r(g, p);
            else if (t == GEOS_MULTIPOLYGON)
                for (int j = 0; j < GEOSGetNumGeometries_r(g, p); j++) {
                    parts = realloc(parts, (size_t)(n + k + 1) * sizeof *parts);
                    parts[k++] = GEOSGeom_clone_r(g, GEOSGetGeometryN_r(g, p, j));
                }
        }
        GEOSGeometry *m = GEOSGeom_createCollection_r(g, GEOS_MULTIPOLYGON, parts, (unsigned)k);
        free(parts);
        return m;
    }
    return NULL;
}

typedef struct { geo_xy_fn fn; void *user; int rc; } geo_map_state_t;

static GEOSCoordSequence *geo_map_seq(GEOSContextHandle_t g, const GEOSCoordSequence *cs, geo_map_state_t *st) {
    GEOSCoordSequence *copy = GEOSCoordSeq_clone_r(g, cs);
    unsigned n = 0;
    GEOSCoordSeq_getSize_r(g, copy, &n);
    for (unsigned i = 0; i < n && !st->rc; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(g, copy, i, &x, &y);
        st->rc = st->fn(st->user, &x, &y);
        GEOSCoordSeq_setXY_r(g, copy, i, x, y);
    }
    return copy;
}

static GEOSGeometry *geo_map_rec(GEOSContextHandle_t g, const GEOSGeometry *geom, geo_map_state_t *st) {
    int type = GEOSGeomTypeId_r(g, geom);
    if (GEOSisEmpty_r(g, geom)) return GEOSGeom_clone_r(g, geom);
    switch (type) {
    case GEOS_POINT:
        return GEOSGeom_createPoint_r(g, geo_map_seq(g, GEOSGeom_getCoordSeq_r(g, geom), st));
    case GEOS_LINESTRING:
        return GEOSGeom_createLineString_r(g, geo_map_seq(g, GEOSGeom_getCoordSeq_r(g, geom), st));
    case GEOS_LINEARRING:
        return GEOSGeom_createLinearRing_r(g, geo_map_seq(g, GEOSGeom_getCoordSeq_r(g, geom), st));
    case GEOS_POLYGON: {
        GEOSGeometry *shell = geo_map_rec(g, GEOSGetExteriorRing_r(g, geom), st);
        int nh = GEOSGetNumInteriorRings_r(g, geom);
        GEOSGeometry **holes = calloc(nh ? (size_t)nh : 1, sizeof *holes);
        for (int i = 0; i < nh; i++) holes[i] = geo_map_rec(g, GEOSGetInteriorRingN_r(g, geom, i), st);
        GEOSGeometry *p = GEOSGeom_createPolygon_r(g, shell, holes, (unsigned)nh);
        free(holes);
        return p;
    }
    default: {
        int n = GEOSGetNumGeometries_r(g, geom);
        GEOSGeometry **parts = calloc(n ? (size_t)n : 1, sizeof *parts);
        for (int i = 0; i < n; i++) parts[i] = geo_map_rec(g, GEOSGetGeometryN_r(g, geom, i), st);
        GEOSGeometry *c = GEOSGeom_createCollection_r(g, type, parts, (unsigned)n);
        free(parts);
        return c;
    }
    }
}

GEOSGeometry *geo_map_coords(GEOSContextHandle_t g, const GEOSGeometry *geom, geo_xy_fn fn, void *user) {
    geo_map_state_t st = {fn, user, 0};
    GEOSGeometry *out = geo_map_rec(g, geom, &st);
    if (st.rc && out) {
        GEOSGeom_destroy_r(g, out);
        return NULL;
    }
    return out;
}

void geo_lonlat_to_merc(double lon, double lat, double *x, double *y) {
    const double max_lat = 85.0511287798;
    if (lat > max_lat) lat = max_lat;
    if (lat < -max_lat) lat = -max_lat;
    *x = lon * GEO_MERC_HALF / 180.0;
    *y = log(tan((90.0 + lat) * M_PI / 360.0)) * 6378137.0;
}

void geo_merc_to_lonlat(double x, double y, double *lon, double *lat) {
    *lon = x / GEO_MERC_HALF * 180.0;
    *lat = (2.0 * atan(exp(y / 6378137.0)) - M_PI / 2.0) * 180.0 / M_PI;
}
