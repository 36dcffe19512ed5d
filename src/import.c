/* import.c — GeoJSON FeatureCollections into the feature tables, checked feature by feature.
 *
 * Workload: a city's layers, from a few dozen communities to a few hundred thousand buildings, loaded
 * once and then edited through changesets. The file is parsed whole by jansson (whose errors carry
 * line and column), then each feature is mapped to the table's columns, its geometry parsed, typed,
 * reprojected, validated and repaired, and inserted through one prepared statement inside one
 * transaction. Nothing is dropped or rebuilt around the insert: SpatiaLite keeps the R*Tree current
 * per row, and batching everything in one transaction is what makes that cheap. The loop keeps going
 * after a problem so the user sees every one in a single run; any problem means ROLLBACK, so a failed
 * import leaves the database exactly as it was. */
#include "import.h"
#include "import_stream.h"
#include "err.h"
#include "geo.h"
#include "log.h"
#include "srs.h"
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Column kinds: 't' text NOT NULL DEFAULT '', 'T' nullable text, 'n' non-negative integer NOT NULL
 * DEFAULT 0, 'f' nullable non-negative integer. */
typedef struct import_col {
    const char *name;
    char kind;
    int required;
    const char *alias;   /* a common property name in foreign data (OSM), read leniently */
} import_col_t;

/* Geometry kinds a layer accepts. */
enum { IMPORT_POLYGONS, IMPORT_POINTS, IMPORT_LINES, IMPORT_POINT_OR_POLYGONS };

typedef struct import_layer {
    const char *table;
    int geom_kind;
    int geom_optional;
    const char *key;      /* column that must be unique (NULL: none) */
    import_col_t cols[12];
} import_layer_t;

static const import_layer_t import_layers[] = {
    {"streets", IMPORT_POLYGONS, 1, "code", {{"code", 't', 1, NULL}, {"name", 't', 0, NULL}, {"county_code", 't', 0, NULL}}},
    {"communities", IMPORT_POLYGONS, 0, "code",
     {{"code", 't', 1, NULL}, {"name", 't', 0, NULL}, {"street_code", 't', 0, NULL}, {"households", 'n', 1, NULL},
      {"population", 'n', 0, NULL}, {"locked", 'n', 0, NULL}}},
    {"grids", IMPORT_POLYGONS, 0, "code",
     {{"code", 't', 1, NULL}, {"community_code", 't', 1, NULL}, {"seq", 'n', 1, NULL}, {"households", 'n', 0, NULL},
      {"population", 'n', 0, NULL}}},
    {"buildings", IMPORT_POINT_OR_POLYGONS, 0, "ext_id",
     {{"ext_id", 'T', 0, NULL}, {"name", 't', 0, NULL}, {"households", 'n', 1, NULL}, {"population", 'n', 0, NULL},
      {"floors", 'f', 0, "building:levels"}, {"elderly_alone", 'n', 0, NULL}, {"disabled", 'n', 0, NULL},
      {"low_income", 'n', 0, NULL}, {"community_code", 'T', 0, NULL}, {"grid_code", 'T', 0, NULL}}},
    {"facilities", IMPORT_POINTS, 0, NULL, {{"ext_id", 'T', 0, NULL}, {"type", 't', 1, "category"}, {"name", 't', 0, NULL}}},
    {"roads", IMPORT_LINES, 0, NULL, {{"ext_id", 'T', 0, NULL}, {"class", 't', 0, "highway"}, {"name", 't', 0, NULL}}},
};

/* Properties tried for ext_id, in order, after --id-field and an explicit mapping. */
static const char *const import_id_props[] = {"ext_id", "@id", "osm_id", "id", NULL};

#define IMPORT_MAX_COLS 12

typedef struct import_value {
    int present;
    long long num;
    const char *text;     /* points into the JSON tree or into textbuf */
    char textbuf[40];
} import_value_t;

/* One run's state. */
typedef struct import_ctx {
    store_t *st;
    const char *file;
    const import_opts_t *o;
    const import_layer_t *layer;
    int ncols;
    const char *prop[IMPORT_MAX_COLS];  /* property read for each column */
    int mapped[IMPORT_MAX_COLS];        /* 1 when the property was named by --map (strict) */
    GEOSContextHandle_t gctx;
    srs_t *to_lonlat;                   /* NULL when the file is lon/lat */
    char crs[64];
    srs_t *utm[120];                    /* lon/lat -> UTM zone, made on first use (area estimates) */
    FILE *report;
    int max_report;
    int64_t printed;
    import_result_t *res;
    int64_t fid_before;                 /* max(fid) of the table when the import started */
    /* keys for the duplicate check: (key, feature index) */
    struct { char *key; int64_t index; } *keys;
    size_t nkeys, capkeys;
} import_ctx_t;

/* ---- problem reporting ---------------------------------------------------------------------- */

static void import_feature_label(const json_t *feature, const import_ctx_t *c, int64_t index, char *out, size_t outlen) {
    const json_t *props = json_object_get(feature, "properties");
    const json_t *id = NULL;
    if (c->o->id_field) id = json_object_get(props, c->o->id_field);
    if (!id || json_is_null(id)) id = json_object_get(feature, "id");
    for (int i = 0; (!id || json_is_null(id)) && i < c->ncols; i++)
        if (c->layer->key && !strcmp(c->layer->cols[i].name, c->layer->key)) id = json_object_get(props, c->prop[i]);
    for (int i = 0; (!id || json_is_null(id)) && import_id_props[i]; i++) id = json_object_get(props, import_id_props[i]);
    if (json_is_string(id)) snprintf(out, outlen, "feature %lld (id '%.60s')", (long long)index + 1, json_string_value(id));
    else if (json_is_integer(id)) snprintf(out, outlen, "feature %lld (id '%lld')", (long long)index + 1, (long long)json_integer_value(id));
    else snprintf(out, outlen, "feature %lld", (long long)index + 1);
}

static void import_line(import_ctx_t *c, const char *label, const char *fmt, va_list ap) {
    if (!c->report || c->printed >= c->max_report) {
        c->printed++;
        return;
    }
    c->printed++;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (label) fprintf(c->report, "%s: %s: %s\n", c->file, label, msg);
    else fprintf(c->report, "%s: %s\n", c->file, msg);
}

static void import_problem(import_ctx_t *c, const char *label, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void import_problem(import_ctx_t *c, const char *label, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    c->res->problems++;
    import_line(c, label, fmt, ap);
    va_end(ap);
}

static void import_note(import_ctx_t *c, const char *label, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void import_note(import_ctx_t *c, const char *label, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    import_line(c, label, fmt, ap);
    va_end(ap);
}

/* ---- setup ------------------------------------------------------------------------------------- */

static const import_layer_t *import_find_layer(const char *name) {
    for (size_t i = 0; name && i < sizeof import_layers / sizeof import_layers[0]; i++)
        if (!strcmp(import_layers[i].table, name)) return &import_layers[i];
    return NULL;
}

/* Applies "--map column=property,..." over the default column = property naming. */
static int import_parse_map(import_ctx_t *c, char *mapcopy, char *err, size_t errlen) {
    for (int i = 0; i < c->ncols; i++) c->prop[i] = c->layer->cols[i].name;
    if (!mapcopy) return GP_OK;
    for (char *save = NULL, *pair = strtok_r(mapcopy, ",", &save); pair; pair = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(pair, '=');
        if (!eq || eq == pair || !eq[1])
            return err_set(err, errlen, GP_EINVAL, "--map: '%s' is not column=property", pair);
        *eq = '\0';
        int found = -1;
        for (int i = 0; i < c->ncols; i++)
            if (!strcmp(c->layer->cols[i].name, pair)) found = i;
        if (found < 0) {
            char names[256] = "";
            for (int i = 0; i < c->ncols; i++) {
                size_t n = strlen(names);
                snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", c->layer->cols[i].name);
            }
            return err_set(err, errlen, GP_EINVAL, "--map: %s has no column '%s' (columns: %s)", c->layer->table, pair, names);
        }
        c->prop[found] = eq + 1;
        c->mapped[found] = 1;
    }
    return GP_OK;
}

/* Source CRS: --crs wins, then the file's "crs" member; lon/lat needs no transform. */
static int import_setup_crs(import_ctx_t *c, const json_t *root, char *err, size_t errlen) {
    const char *name = c->o->crs;
    if (!name) name = json_string_value(json_object_get(json_object_get(json_object_get(root, "crs"), "properties"), "name"));
    if (!name) {
        snprintf(c->crs, sizeof c->crs, "EPSG:4326");
        return GP_OK;
    }
    if (srs_normalize_name(name, c->crs, sizeof c->crs))
        return err_set(err, errlen, GP_EINVAL, "%s: unknown CRS '%s' (give it as --crs EPSG:n)", c->file, name);
    if (srs_is_lonlat(c->crs)) return GP_OK;
    char why[256];
    c->to_lonlat = srs_new(c->crs, "EPSG:4326", why, sizeof why);
    if (!c->to_lonlat) return err_set(err, errlen, GP_EINVAL, "%s: %s", c->file, why);
    return GP_OK;
}

/* ---- values ---------------------------------------------------------------------------------- */

/* Reads one column's value from the properties; returns 0, or 1 after reporting a problem. */
static int import_read_value(import_ctx_t *c, const char *label, const json_t *props, int col, import_value_t *v) {
    const import_col_t *ic = &c->layer->cols[col];
    const char *prop = c->prop[col];
    const json_t *j = json_object_get(props, prop);
    int lenient = 0;
    if ((!j || json_is_null(j)) && !c->mapped[col] && ic->alias) {
        prop = ic->alias;
        j = json_object_get(props, prop);
        lenient = 1;  /* foreign data: an odd value there means "unknown", not "wrong" */
    }
    memset(v, 0, sizeof *v);
    if (!j || json_is_null(j)) return 0;
    if (ic->kind == 't' || ic->kind == 'T') {
        if (json_is_string(j)) v->text = json_string_value(j);
        else if (json_is_integer(j)) snprintf(v->textbuf, sizeof v->textbuf, "%lld", (long long)json_integer_value(j));
        else if (json_is_real(j)) snprintf(v->textbuf, sizeof v->textbuf, "%.15g", json_real_value(j));
        else if (json_is_boolean(j)) snprintf(v->textbuf, sizeof v->textbuf, "%s", json_is_true(j) ? "true" : "false");
        else {
            import_problem(c, label, "%s ('%s') is not text or a number", ic->name, prop);
            return 1;
        }
        if (!v->text) v->text = v->textbuf;
        v->present = 1;
        return 0;
    }
    double d;
    if (json_is_integer(j)) {
        v->num = (long long)json_integer_value(j);
    } else if (json_is_real(j)) {
        d = json_real_value(j);
        if (d != floor(d) || fabs(d) > 9e15) {
            if (lenient) return 0;
            import_problem(c, label, "%s is not a whole number (%g)", ic->name, d);
            return 1;
        }
        v->num = (long long)d;
    } else if (json_is_string(j)) {
        const char *s = json_string_value(j);
        char *end;
        while (*s == ' ') s++;
        long long n = strtoll(s, &end, 10);
        while (*end == ' ') end++;
        if (end == s || *end) {
            if (lenient) return 0;
            import_problem(c, label, "%s is not a number ('%.40s')", ic->name, json_string_value(j));
            return 1;
        }
        v->num = n;
    } else {
        if (lenient) return 0;
        import_problem(c, label, "%s is not a number", ic->name);
        return 1;
    }
    if (v->num < 0) {
        if (lenient) return 0;
        import_problem(c, label, "%s is negative (%lld)", ic->name, v->num);
        return 1;
    }
    v->present = 1;
    return 0;
}

static int import_col_index(const import_ctx_t *c, const char *name) {
    for (int i = 0; i < c->ncols; i++)
        if (!strcmp(c->layer->cols[i].name, name)) return i;
    return -1;
}

/* ---- geometry -------------------------------------------------------------------------------- */

static const char *import_type_name(GEOSContextHandle_t g, const GEOSGeometry *geom) {
    static const char *names[] = {"Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                                  "MultiLineString", "MultiPolygon", "GeometryCollection"};
    int t = GEOSGeomTypeId_r(g, geom);
    return t >= 0 && t <= 7 ? names[t] : "unknown";
}

/* Footprint area in square metres, computed in the UTM zone of the footprint. */
static double import_area_m2(import_ctx_t *c, const GEOSGeometry *lonlat) {
    double minx, miny, maxx, maxy;
    if (geo_bounds(c->gctx, lonlat, &minx, &miny, &maxx, &maxy)) return 0;
    int epsg = srs_utm_epsg((minx + maxx) / 2, (miny + maxy) / 2);
    int slot = (epsg % 100 - 1) + (epsg >= 32700 ? 60 : 0);
    if (slot < 0 || slot >= 120) return 0;
    if (!c->utm[slot]) {
        char to[16];
        snprintf(to, sizeof to, "EPSG:%d", epsg);
        c->utm[slot] = srs_new("EPSG:4326", to, NULL, 0);
        if (!c->utm[slot]) return 0;
    }
    GEOSGeometry *m = srs_transform(c->gctx, c->utm[slot], lonlat, NULL, 0);
    double area = 0;
    if (m) GEOSArea_r(c->gctx, m, &area);
    GEOSGeom_destroy_r(c->gctx, m);
    return area;
}

/* Parses, types, reprojects, validates (and repairs) one feature's geometry into the layer's stored
 * form. Returns the geometry (caller destroys), or NULL after reporting; *absent is set when the
 * feature has no geometry and the layer allows that. */
static GEOSGeometry *import_geometry(import_ctx_t *c, const char *label, const json_t *feature, int *absent) {
    GEOSContextHandle_t g = c->gctx;
    const json_t *jg = json_object_get(feature, "geometry");
    *absent = 0;
    if (!jg || json_is_null(jg)) {
        if (c->layer->geom_optional) {
            *absent = 1;
            return NULL;
        }
        import_problem(c, label, "has no geometry");
        return NULL;
    }
    char why[256];
    GEOSGeometry *raw = geo_from_geojson(g, jg, why, sizeof why), *out = NULL;
    if (!raw) {
        import_problem(c, label, "bad geometry: %s", why);
        return NULL;
    }
    if (GEOSisEmpty_r(g, raw)) {
        import_problem(c, label, "geometry is empty");
        goto end;
    }
    int type = GEOSGeomTypeId_r(g, raw);
    int polygonal = type == GEOS_POLYGON || type == GEOS_MULTIPOLYGON;
    int point = type == GEOS_POINT || (type == GEOS_MULTIPOINT && GEOSGetNumGeometries_r(g, raw) == 1);
    int lineal = type == GEOS_LINESTRING || type == GEOS_MULTILINESTRING;
    int kind = c->layer->geom_kind;
    if ((kind == IMPORT_POLYGONS && !polygonal) || (kind == IMPORT_LINES && !lineal) ||
        (kind == IMPORT_POINT_OR_POLYGONS && !polygonal && !point)) {
        import_problem(c, label, "%s needs %s, got %s", c->layer->table,
                       kind == IMPORT_POLYGONS ? "Polygon or MultiPolygon" : kind == IMPORT_LINES ? "LineString or MultiLineString"
                                                                                   : "Point, Polygon or MultiPolygon",
                       import_type_name(g, raw));
        goto end;
    }
    if (kind == IMPORT_POINTS && !point) {
        if (polygonal)
            import_problem(c, label, "facilities must be points, got %s (use a points file such as facilities_points.geojson, "
                           "or ogr2ogr -dialect sqlite -sql \"SELECT ST_PointOnSurface(geometry), * FROM layer\")",
                           import_type_name(g, raw));
        else import_problem(c, label, "facilities must be points, got %s", import_type_name(g, raw));
        goto end;
    }
    if (type == GEOS_MULTIPOINT) {
        GEOSGeometry *p = GEOSGeom_clone_r(g, GEOSGetGeometryN_r(g, raw, 0));
        GEOSGeom_destroy_r(g, raw);
        raw = p;
    }
    if (c->to_lonlat) {
        GEOSGeometry *t = srs_transform(g, c->to_lonlat, raw, why, sizeof why);
        if (!t) {
            import_problem(c, label, "cannot reproject from %s: %s", c->crs, why);
            goto end;
        }
        GEOSGeom_destroy_r(g, raw);
        raw = t;
    }
    double minx, miny, maxx, maxy;
    if (geo_bounds(g, raw, &minx, &miny, &maxx, &maxy) || minx < -180 || maxx > 180 || miny < -90 || maxy > 90) {
        import_problem(c, label, "coordinates are not lon/lat (%.3f %.3f): give the source CRS with --crs EPSG:n", minx, miny);
        goto end;
    }
    char *reason = NULL;
    GEOSGeometry *location = NULL;
    char valid = GEOSisValidDetail_r(g, raw, 0, &reason, &location);
    if (valid != 1) {
        char where[96] = "";
        double lx, ly;
        if (location && GEOSGeomGetX_r(g, location, &lx) == 1 && GEOSGeomGetY_r(g, location, &ly) == 1)
            snprintf(where, sizeof where, " at %.7g %.7g", lx, ly);
        char what[256];
        snprintf(what, sizeof what, "%s%s", reason ? reason : geo_last_error(g), where);
        if (reason) GEOSFree_r(g, reason);
        if (location) GEOSGeom_destroy_r(g, location);
        if (c->o->reject_invalid) {
            import_problem(c, label, "invalid geometry: %s (rejected by --reject-invalid)", what);
            goto end;
        }
        GEOSGeometry *fixed = GEOSMakeValid_r(g, raw);
        if (!fixed) {
            import_problem(c, label, "invalid geometry: %s; GEOSMakeValid failed: %s", what, geo_last_error(g));
            goto end;
        }
        GEOSGeom_destroy_r(g, raw);
        raw = fixed;
        c->res->repaired++;
        import_note(c, label, "note: repaired invalid geometry (%s)", what);
    } else {
        if (reason) GEOSFree_r(g, reason);
        if (location) GEOSGeom_destroy_r(g, location);
    }
    /* Stored forms: polygons as MultiPolygon, lines as MultiLineString, points as they are. */
    type = GEOSGeomTypeId_r(g, raw);
    if (type == GEOS_POINT) {
        out = raw;
        raw = NULL;
    } else if (kind == IMPORT_LINES) {
        if (type == GEOS_MULTILINESTRING) {
            out = raw;
            raw = NULL;
        } else if (type == GEOS_LINESTRING) {
            GEOSGeometry *part = raw;
            raw = NULL;
            out = GEOSGeom_createCollection_r(g, GEOS_MULTILINESTRING, &part, 1);
        } else {
            import_problem(c, label, "repair turned the line into a %s", import_type_name(g, raw));
        }
    } else {
        out = geo_as_multipolygon(g, raw);
        if (!out || GEOSisEmpty_r(g, out)) {
            if (out) GEOSGeom_destroy_r(g, out);
            out = NULL;
            import_problem(c, label, "geometry has no area left after repair");
        }
    }
end:
    if (raw) GEOSGeom_destroy_r(g, raw);
    return out;
}

/* ---- duplicates ------------------------------------------------------------------------------ */

static void import_add_key(import_ctx_t *c, const char *key, int64_t index) {
    if (c->nkeys == c->capkeys) {
        size_t cap = c->capkeys ? c->capkeys * 2 : 1024;
        void *p = realloc(c->keys, cap * sizeof *c->keys);
        if (!p) return;
        c->keys = p;
        c->capkeys = cap;
    }
    c->keys[c->nkeys].key = strdup(key);
    c->keys[c->nkeys].index = index;
    c->nkeys++;
}

static int import_key_cmp(const void *a, const void *b) {
    const struct { char *key; int64_t index; } *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    return r ? r : (x->index > y->index) - (x->index < y->index);
}

static void import_check_duplicates(import_ctx_t *c, import_stream_t *stream) {
    if (c->nkeys < 2) return;
    qsort(c->keys, c->nkeys, sizeof *c->keys, import_key_cmp);
    for (size_t i = 1; i < c->nkeys; i++) {
        if (strcmp(c->keys[i].key, c->keys[i - 1].key)) continue;
        size_t first = i - 1;
        while (first > 0 && !strcmp(c->keys[first - 1].key, c->keys[i].key)) first--;
        char label[160];
        json_t *feature = import_stream_feature(stream, (size_t)c->keys[i].index, NULL, 0);
        import_feature_label(feature, c, c->keys[i].index, label, sizeof label);
        json_decref(feature);
        import_problem(c, label, "duplicate %s '%s' (also feature %lld)", c->layer->key, c->keys[i].key,
                       (long long)c->keys[first].index + 1);
    }
}

/* ---- the run --------------------------------------------------------------------------------- */

static int import_db_error(import_ctx_t *c, char *err, size_t errlen) {
    return err_set(err, errlen, GP_EDB, "%s: %s", c->st->path, sqlite3_errmsg(c->st->db));
}

static int import_bump_data_version(store_t *st, char *err, size_t errlen) {
    char v[32] = "0";
    store_meta_get(st, "data_version", v, sizeof v);
    snprintf(v, sizeof v, "%lld", atoll(v) + 1);
    return store_meta_set(st, "data_version", v, err, errlen);
}

/* Communities held in memory for point-in-polygon: GEOS prepared polygons behind an STRtree. */
typedef struct import_pip {
    GEOSContextHandle_t g;
    size_t n;
    char **codes;                        /* sorted copy in sorted_codes for membership tests */
    char **sorted_codes;
    GEOSGeometry **geoms;
    const GEOSPreparedGeometry **prep;
    GEOSSTRtree *tree;
    const GEOSGeometry *probe;           /* query state */
    size_t best;                         /* lowest matching index, n when none */
} import_pip_t;

static int import_strcmp_p(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void import_pip_free(import_pip_t *p) {
    for (size_t i = 0; i < p->n; i++) {
        if (p->prep && p->prep[i]) GEOSPreparedGeom_destroy_r(p->g, p->prep[i]);
        if (p->geoms && p->geoms[i]) GEOSGeom_destroy_r(p->g, p->geoms[i]);
        if (p->codes) free(p->codes[i]);
    }
    if (p->tree) GEOSSTRtree_destroy_r(p->g, p->tree);
    free(p->codes);
    free(p->sorted_codes);
    free(p->geoms);
    free(p->prep);
}

/* STRtree callback: keep the lowest-fid community that really contains the probe point. */
static void import_pip_visit(void *item, void *user) {
    import_pip_t *p = user;
    size_t i = (size_t)(uintptr_t)item - 1;
    if (i < p->best && GEOSPreparedIntersects_r(p->g, p->prep[i], p->probe) == 1) p->best = i;
}

static int import_pip_load(store_t *st, const char *table, import_pip_t *p, char *err, size_t errlen) {
    sqlite3_stmt *s;
    int64_t n = store_count(st, table);
    if (n < 0) return err_set(err, errlen, GP_EDB, "%s: cannot count %s", st->path, table);
    p->codes = calloc((size_t)n + 1, sizeof *p->codes);
    p->sorted_codes = calloc((size_t)n + 1, sizeof *p->sorted_codes);
    p->geoms = calloc((size_t)n + 1, sizeof *p->geoms);
    p->prep = calloc((size_t)n + 1, sizeof *p->prep);
    p->tree = GEOSSTRtree_create_r(p->g, 10);
    if (!p->codes || !p->sorted_codes || !p->geoms || !p->prep || !p->tree)
        return err_set(err, errlen, GP_ENOMEM, "out of memory loading %s", table);
    char sql[80];
    snprintf(sql, sizeof sql, "SELECT code, AsBinary(geom) FROM %s ORDER BY fid", table);
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
    int rc = GP_OK;
    while (sqlite3_step(s) == SQLITE_ROW && p->n < (size_t)n) {
        const void *wkb = sqlite3_column_blob(s, 1);
        GEOSGeometry *geom = wkb ? geo_from_wkb(p->g, wkb, (size_t)sqlite3_column_bytes(s, 1)) : NULL;
        if (!geom) continue;
        size_t i = p->n++;
        p->codes[i] = strdup((const char *)sqlite3_column_text(s, 0));
        p->sorted_codes[i] = p->codes[i];
        p->geoms[i] = geom;
        p->prep[i] = GEOSPrepare_r(p->g, geom);
        GEOSSTRtree_insert_r(p->g, p->tree, geom, (void *)(uintptr_t)(i + 1));
    }
    sqlite3_finalize(s);
    qsort(p->sorted_codes, p->n, sizeof *p->sorted_codes, import_strcmp_p);
    return rc;
}

int import_assign_communities(store_t *st, import_result_t *res, char *err, size_t errlen) {
    return import_assign_communities_in(st, NULL, res, err, errlen);
}

/* Remembers a community whose building set changed (its totals are recomputed even when it ends
 * with no buildings at all). */
static int import_touch(store_t *st, sqlite3_stmt *touch, const char *code, char *err, size_t errlen) {
    if (!code) return GP_OK;
    sqlite3_reset(touch);
    sqlite3_bind_text(touch, 1, code, -1, SQLITE_STATIC);
    if (sqlite3_step(touch) != SQLITE_DONE) return err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
    return GP_OK;
}

/* Places buildings in the areas of `table` (communities or grids), writing buildings.`column`, and
 * sets the areas' totals; the body of import_assign_communities_in and import_assign_grids_in. */
static int import_assign_in(store_t *st, const char *table, const char *column, const double *bbox, import_result_t *res,
                            char *err, size_t errlen) {
    int rc = GP_OK;
    if (store_count(st, table) <= 0) return GP_OK;
    import_pip_t p = {0};
    sqlite3_stmt *sel = NULL, *upd = NULL, *touch = NULL;
    struct { int64_t fid; const char *code; char *old; } *todo = NULL;
    size_t ntodo = 0, captodo = 0;
    int64_t inside = 0, outside = 0;
    p.g = geo_ctx_new();
    if (!p.g) return err_set(err, errlen, GP_ENOMEM, "cannot create a GEOS context");
    if ((rc = import_pip_load(st, table, &p, err, errlen))) goto end;
    /* Pass 1 reads every building and decides; pass 2 writes, so no row changes under the SELECT. */
    /* With a box, only the buildings whose bounding box meets it (through the spatial index). */
    char sql[240];
    snprintf(sql, sizeof sql, "SELECT fid, AsBinary(geom), %s FROM buildings%s", column,
             bbox ? " WHERE fid IN (SELECT pkid FROM idx_buildings_geom WHERE xmin <= ?3 AND xmax >= ?1 AND ymin <= ?4 AND ymax >= ?2)"
                  : "");
    if (sqlite3_prepare_v2(st->db, sql, -1, &sel, NULL) != SQLITE_OK) {
        rc = err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
        goto end;
    }
    for (int i = 0; bbox && i < 4; i++) sqlite3_bind_double(sel, i + 1, bbox[i]);
    while (sqlite3_step(sel) == SQLITE_ROW) {
        const void *wkb = sqlite3_column_blob(sel, 1);
        const char *old = (const char *)sqlite3_column_text(sel, 2);
        GEOSGeometry *geom = wkb ? geo_from_wkb(p.g, wkb, (size_t)sqlite3_column_bytes(sel, 1)) : NULL;
        const char *code = NULL;
        if (geom) {
            /* A footprint is placed by a point on its surface: a building is never split. */
            GEOSGeometry *pt = GEOSGeomTypeId_r(p.g, geom) == GEOS_POINT ? NULL : GEOSPointOnSurface_r(p.g, geom);
            p.probe = pt ? pt : geom;
            p.best = p.n;
            GEOSSTRtree_query_r(p.g, p.tree, p.probe, import_pip_visit, &p);
            if (p.best < p.n) code = p.codes[p.best];
            if (pt) GEOSGeom_destroy_r(p.g, pt);
            GEOSGeom_destroy_r(p.g, geom);
        }
        if (code) inside++;
        else {
            outside++;
            /* Outside every polygon: keep a code only while it still names a community. */
            char *const *hit = old ? bsearch(&old, p.sorted_codes, p.n, sizeof *p.sorted_codes, import_strcmp_p) : NULL;
            code = hit ? *hit : NULL;
        }
        if ((code == NULL) == (old == NULL) && (!code || !strcmp(code, old))) continue;
        if (ntodo == captodo) {
            captodo = captodo ? captodo * 2 : 1024;
            void *q = realloc(todo, captodo * sizeof *todo);
            if (!q) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory assigning buildings"); goto end; }
            todo = q;
        }
        todo[ntodo].fid = sqlite3_column_int64(sel, 0);
        todo[ntodo].code = code;
        todo[ntodo].old = old ? strdup(old) : NULL;
        ntodo++;
        if (old && !todo[ntodo - 1].old) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory assigning buildings"); goto end; }
    }
    sqlite3_finalize(sel);
    sel = NULL;
    if ((rc = store_exec(st, "CREATE TEMP TABLE IF NOT EXISTS import_touched(code TEXT PRIMARY KEY); DELETE FROM import_touched;",
                         err, errlen)))
        goto end;
    snprintf(sql, sizeof sql, "UPDATE buildings SET %s = ? WHERE fid = ?", column);
    if (sqlite3_prepare_v2(st->db, sql, -1, &upd, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO import_touched VALUES (?)", -1, &touch, NULL) != SQLITE_OK) {
        rc = err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
        goto end;
    }
    for (size_t i = 0; i < ntodo; i++) {
        if ((rc = import_touch(st, touch, todo[i].code, err, errlen)) || (rc = import_touch(st, touch, todo[i].old, err, errlen)))
            goto end;
        sqlite3_reset(upd);
        if (todo[i].code) sqlite3_bind_text(upd, 1, todo[i].code, -1, SQLITE_STATIC);
        else sqlite3_bind_null(upd, 1);
        sqlite3_bind_int64(upd, 2, todo[i].fid);
        if (sqlite3_step(upd) != SQLITE_DONE) {
            rc = err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
            goto end;
        }
    }
    if (res) {
        res->buildings_assigned = inside;
        res->buildings_outside = outside;
    }
    /* Totals: households always from the buildings; population only when the buildings know it. The
     * whole-table pass sets every community holding buildings; a boxed pass only those whose buildings
     * changed. Either way a community that lost its last building falls to 0 households and people
     * (population -1 marks it). */
    buf_t totals = {0};
    int brc = buf_printf(&totals,
                         "CREATE TEMP TABLE IF NOT EXISTS import_sums(code TEXT PRIMARY KEY, households INTEGER, population INTEGER);"
                         "DELETE FROM import_sums;"
                         "INSERT INTO import_sums SELECT %s, sum(households), sum(population) FROM buildings WHERE %s IS NOT NULL",
                         column, column);
    if (bbox && !brc) brc = buf_printf(&totals, " AND %s IN (SELECT code FROM import_touched)", column);
    if (!brc)
        brc = buf_printf(&totals,
                         " GROUP BY %s;"
                         "INSERT OR IGNORE INTO import_sums SELECT code, 0, -1 FROM import_touched;"
                         "UPDATE %s SET households = s.households,"
                         " population = CASE WHEN s.population > 0 THEN s.population WHEN s.population < 0 THEN 0 ELSE %s.population END"
                         " FROM import_sums s WHERE s.code = %s.code"
                         "   AND (%s.households IS NOT s.households OR (s.population > 0 AND %s.population IS NOT s.population)"
                         "        OR (s.population < 0 AND %s.population IS NOT 0));",
                         column, table, table, table, table, table, table);
    rc = brc ? err_set(err, errlen, GP_ENOMEM, "out of memory assigning buildings") : store_exec(st, totals.data, err, errlen);
    buf_free(&totals);
    if (rc) goto end;
    if (res) res->communities_changed = sqlite3_changes(st->db);
end:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sqlite3_finalize(touch);
    for (size_t i = 0; i < ntodo; i++) free(todo[i].old);
    free(todo);
    import_pip_free(&p);
    geo_ctx_free(p.g);
    return rc;
}

int import_assign_communities_in(store_t *st, const double *bbox, import_result_t *res, char *err, size_t errlen) {
    return import_assign_in(st, "communities", "community_code", bbox, res, err, errlen);
}

int import_assign_grids_in(store_t *st, const double *bbox, import_result_t *res, char *err, size_t errlen) {
    return import_assign_in(st, "grids", "grid_code", bbox, res, err, errlen);
}

/* Builds "INSERT INTO t(c1, ..., geom) VALUES (?, ..., GeomFromWKB(?, 4326))". */
static int import_prepare_insert(import_ctx_t *c, sqlite3_stmt **ins, char *err, size_t errlen) {
    buf_t sql = {0};
    buf_printf(&sql, "INSERT INTO %s(", c->layer->table);
    for (int i = 0; i < c->ncols; i++) buf_printf(&sql, "%s, ", c->layer->cols[i].name);
    buf_puts(&sql, "geom) VALUES (");
    for (int i = 0; i < c->ncols; i++) buf_puts(&sql, "?, ");
    buf_puts(&sql, "GeomFromWKB(?, 4326))");
    int rc = sqlite3_prepare_v2(c->st->db, sql.data, -1, ins, NULL) == SQLITE_OK ? GP_OK : import_db_error(c, err, errlen);
    buf_free(&sql);
    return rc;
}

/* Checks one feature and, when it is clean, inserts it. */
static int import_feature(import_ctx_t *c, const json_t *feature, int64_t index, sqlite3_stmt *ins, sqlite3_stmt *exists,
                          char *err, size_t errlen) {
    char label[160];
    import_feature_label(feature, c, index, label, sizeof label);
    if (!json_is_object(feature) || strcmp(json_string_value(json_object_get(feature, "type")) ?: "", "Feature")) {
        import_problem(c, label, "is not a GeoJSON Feature");
        return GP_OK;
    }
    const json_t *props = json_object_get(feature, "properties");
    if (props && !json_is_null(props) && !json_is_object(props)) {
        import_problem(c, label, "properties is not an object");
        return GP_OK;
    }
    int64_t before = c->res->problems;
    import_value_t v[IMPORT_MAX_COLS];
    for (int i = 0; i < c->ncols; i++) import_read_value(c, label, props, i, &v[i]);
    if (c->res->problems > before) return GP_OK;  /* value errors said enough; skip the geometry work */

    /* ext_id: --id-field, an explicit mapping, ext_id, the feature id, then OSM-style names. */
    int ext = import_col_index(c, "ext_id");
    if (ext >= 0 && !v[ext].present) {
        const json_t *id = c->o->id_field ? json_object_get(props, c->o->id_field) : NULL;
        if (!id || json_is_null(id)) id = json_object_get(feature, "id");
        for (int i = 1; (!id || json_is_null(id)) && import_id_props[i]; i++) id = json_object_get(props, import_id_props[i]);
        if (json_is_string(id)) { v[ext].text = json_string_value(id); v[ext].present = 1; }
        else if (json_is_integer(id)) {
            snprintf(v[ext].textbuf, sizeof v[ext].textbuf, "%lld", (long long)json_integer_value(id));
            v[ext].text = v[ext].textbuf;
            v[ext].present = 1;
        }
    }
    int absent;
    GEOSGeometry *geom = import_geometry(c, label, feature, &absent);
    if (!geom && !absent) return GP_OK;

    int hh = import_col_index(c, "households"), pop = import_col_index(c, "population"), fl = import_col_index(c, "floors");
    if (hh >= 0 && !v[hh].present) {
        int type = geom ? GEOSGeomTypeId_r(c->gctx, geom) : -1;
        if (c->o->households_from_population > 0 && pop >= 0 && v[pop].present) {
            v[hh].num = llround((double)v[pop].num / c->o->households_from_population);
            v[hh].present = 1;
            c->res->estimated++;
        } else if (c->o->estimate_households_m2 > 0 && type == GEOS_MULTIPOLYGON) {
            double floors = fl >= 0 && v[fl].present && v[fl].num > 0 ? (double)v[fl].num : 1.0;
            long long n = llround(import_area_m2(c, geom) * floors / c->o->estimate_households_m2);
            v[hh].num = n < 1 ? 1 : n;
            v[hh].present = 1;
            c->res->estimated++;
        } else if (c->layer->cols[hh].required) {
            const char *how = c->o->estimate_households_m2 > 0 && type == GEOS_POINT
                                  ? " (a point has no footprint to estimate from)"
                              : c->o->households_from_population > 0 ? " (and no population to derive it from)"
                                                                     : "; map it with --map households=PROPERTY or derive it with "
                                                                       "--households-from-population / --estimate-households";
            import_problem(c, label, "households is missing%s", how);
        }
    }
    for (int i = 0; i < c->ncols; i++) {
        const import_col_t *ic = &c->layer->cols[i];
        if (i == hh || !ic->required) continue;
        if (!v[i].present)
            import_problem(c, label, "%s is missing (map it with --map %s=PROPERTY)", ic->name, ic->name);
        else if ((ic->kind == 't' || ic->kind == 'T') && !*v[i].text)
            import_problem(c, label, "%s is empty", ic->name);
    }
    int key = c->layer->key ? import_col_index(c, c->layer->key) : -1, skip = 0;
    if (c->res->problems == before && key >= 0 && v[key].present) {
        import_add_key(c, v[key].text, index);
        if (exists) {
            sqlite3_reset(exists);
            sqlite3_bind_text(exists, 1, v[key].text, -1, SQLITE_TRANSIENT);
            /* A row newer than the import's start is an earlier feature of this file: the duplicate
             * check at the end names both features. */
            if (sqlite3_step(exists) == SQLITE_ROW) {
                int64_t fid = sqlite3_column_int64(exists, 0);
                if (fid <= c->fid_before)
                    import_problem(c, label, "%s '%s' is already in the database (fid %lld); use --replace to reload the layer",
                                   c->layer->key, v[key].text, (long long)fid);
                else
                    skip = 1;
            }
        }
    }
    int rc = GP_OK;
    if (c->res->problems || skip) goto end; /* after the first problem in the file, only check */
    sqlite3_reset(ins);
    sqlite3_clear_bindings(ins);
    for (int i = 0; i < c->ncols; i++) {
        char kind = c->layer->cols[i].kind;
        if (kind == 't' || kind == 'T') {
            if (v[i].present) sqlite3_bind_text(ins, i + 1, v[i].text, -1, SQLITE_TRANSIENT);
            else if (kind == 't') sqlite3_bind_text(ins, i + 1, "", 0, SQLITE_STATIC);
        } else if (v[i].present) {
            sqlite3_bind_int64(ins, i + 1, v[i].num);
        } else if (kind == 'n') {
            sqlite3_bind_int64(ins, i + 1, 0);
        }
    }
    if (geom) {
        size_t len;
        unsigned char *wkb = geo_to_wkb(c->gctx, geom, &len);
        if (!wkb) {
            rc = err_set(err, errlen, GP_ENOMEM, "%s: %s: cannot encode geometry", c->file, label);
            goto end;
        }
        sqlite3_bind_blob(ins, c->ncols + 1, wkb, (int)len, free);
    }
    if (sqlite3_step(ins) != SQLITE_DONE) {
        import_problem(c, label, "rejected by the database: %s", sqlite3_errmsg(c->st->db));
        goto end;
    }
    c->res->inserted++;
    if (hh >= 0) c->res->households += v[hh].num;
    if (pop >= 0) c->res->population += v[pop].num;
end:
    if (geom) GEOSGeom_destroy_r(c->gctx, geom);
    return rc;
}

int import_geojson(store_t *st, const char *file, const import_opts_t *o, import_result_t *res_out, FILE *report,
                   char *err, size_t errlen) {
    import_result_t res_local;
    import_result_t *res = res_out ? res_out : &res_local;
    memset(res, 0, sizeof *res);
    double t0 = log_now();
    import_ctx_t c = {0};
    c.st = st;
    c.file = file;
    c.o = o;
    c.res = res;
    c.report = report;
    c.max_report = o->max_report > 0 ? o->max_report : 50;
    import_stream_t stream = {0};
    const json_t *root = NULL;
    sqlite3_stmt *ins = NULL, *exists = NULL;
    char *mapcopy = o->map ? strdup(o->map) : NULL;
    int rc = GP_OK, in_tx = 0;

    c.layer = import_find_layer(o->layer);
    if (!c.layer) {
        rc = err_set(err, errlen, GP_EINVAL, "unknown layer '%s' (streets, communities, grids, buildings, facilities, roads)",
                     o->layer ? o->layer : "");
        goto end;
    }
    while (c.ncols < IMPORT_MAX_COLS && c.layer->cols[c.ncols].name) c.ncols++;
    if ((rc = import_parse_map(&c, mapcopy, err, errlen))) goto end;

    if ((rc = import_stream_open(&stream, file, err, errlen))) goto end;
    root = stream.header;
    if (strcmp(json_string_value(json_object_get(root, "type")) ?: "", "FeatureCollection") || !stream.has_features_array) {
        rc = err_set(err, errlen, GP_EINVAL, "%s: not a GeoJSON FeatureCollection (needs \"type\": \"FeatureCollection\" and a "
                     "\"features\" array)", file);
        goto end;
    }
    size_t n = stream.nfeatures;
    res->features = (int64_t)n;
    if (n == 0) {
        rc = err_set(err, errlen, GP_EINVAL, "%s: empty FeatureCollection (no features): nothing to import into %s", file,
                     c.layer->table);
        goto end;
    }
    if ((rc = import_setup_crs(&c, root, err, errlen))) goto end;
    c.gctx = geo_ctx_new();
    if (!c.gctx) {
        rc = err_set(err, errlen, GP_ENOMEM, "cannot create a GEOS context");
        goto end;
    }

    /* A big transaction spills SQLite's default 2 MB page cache to the WAL again and again; 64 MB
     * keeps the spatial index and B-trees of a city in memory until commit. */
    if ((rc = store_exec(st, "PRAGMA cache_size = -65536", err, errlen))) goto end;
    if ((rc = store_begin(st, err, errlen))) goto end;
    in_tx = 1;
    /* Bulk loads are not recorded in the change log, whatever a crashed writer left behind. */
    if ((rc = store_exec(st, "DELETE FROM changeset_active", err, errlen))) goto end;
    if (o->replace) {
        char sql[64];
        snprintf(sql, sizeof sql, "DELETE FROM %s", c.layer->table);
        if ((rc = store_exec(st, sql, err, errlen))) goto end;
    }
    if ((rc = import_prepare_insert(&c, &ins, err, errlen))) goto end;
    {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT coalesce(max(fid), 0) FROM %s", c.layer->table);
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
            c.fid_before = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    /* Rows already in the layer can clash with the file's keys; an empty layer cannot, and the
     * in-file duplicate check below covers the rest without a query per feature. */
    if (c.layer->key && c.fid_before > 0) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT fid FROM %s WHERE %s = ?", c.layer->table, c.layer->key);
        if (sqlite3_prepare_v2(st->db, sql, -1, &exists, NULL) != SQLITE_OK) {
            rc = import_db_error(&c, err, errlen);
            goto end;
        }
    }
    progress_t bar;
    int show = n > 10000 || stream.len > 5 * 1024 * 1024;
    char bar_label[64];
    snprintf(bar_label, sizeof bar_label, "import %s", c.layer->table);
    if (show) progress_start(&bar, bar_label, n);
    for (size_t i = 0; i < n; i++) {
        json_t *feature = import_stream_feature(&stream, i, err, errlen);
        if (!feature) {
            rc = GP_EINVAL;
            goto end;
        }
        rc = import_feature(&c, feature, (int64_t)i, ins, exists, err, errlen);
        json_decref(feature);
        if (rc) goto end;
        if ((i & 1023) == 0) {
            import_stream_release(&stream, i);
            if (show) progress_update(&bar, i);
        }
    }
    if (show) progress_finish(&bar);
    import_check_duplicates(&c, &stream);
    if (res->problems) {
        if (c.printed > c.max_report && report)
            fprintf(report, "%s: ... and %lld more\n", file, (long long)(c.printed - c.max_report));
        rc = err_set(err, errlen, GP_EINVAL, "%s: %lld problem%s in %zu features; nothing imported, %s unchanged", file,
                     (long long)res->problems, res->problems == 1 ? "" : "s", n, st->path);
        goto end;
    }
    if (!strcmp(c.layer->table, "buildings") || !strcmp(c.layer->table, "communities"))
        if ((rc = import_assign_communities(st, res, err, errlen))) goto end;
    if ((rc = import_bump_data_version(st, err, errlen))) goto end;
    sqlite3_finalize(ins);
    sqlite3_finalize(exists);
    ins = exists = NULL;
    rc = store_commit(st, err, errlen);
    in_tx = 0;
end:
    sqlite3_finalize(ins);
    sqlite3_finalize(exists);
    if (in_tx || rc) store_rollback(st);
    if (rc) res->inserted = 0;
    for (size_t i = 0; i < c.nkeys; i++) free(c.keys[i].key);
    free(c.keys);
    for (int i = 0; i < 120; i++) srs_free(c.utm[i]);
    srs_free(c.to_lonlat);
    geo_ctx_free(c.gctx);
    import_stream_close(&stream);
    free(mapcopy);
    res->seconds = log_now() - t0;
    return rc;
}
