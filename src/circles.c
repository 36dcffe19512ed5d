/* circles.c — circle definitions, the metric dataset, and circle geometries (straight and network).
 *
 * The dataset is projected once: every facility, building point, area and road is transformed into
 * the UTM zone at the data's centre when added, so buffers and distances are true metres at any
 * latitude (Helsinki's 60°N included), and only results are transformed back to lon/lat. */
#include "circles.h"
#include "err.h"
#include "log.h"
#include "rules.h"
#include "store.h"
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CIRCLES_QUADSEGS 16

/* ---- Definitions ------------------------------------------------------------------------------ */

/* A profile number: bare, {"value": N, "source": S}, or null/absent (0, "not given"). */
static int circles_number(const json_t *v, double *out) {
    if (json_is_object(v)) v = json_object_get(v, "value");
    if (!v || json_is_null(v)) { *out = 0; return GP_OK; }
    if (!json_is_number(v)) return GP_EINVAL;
    *out = json_number_value(v);
    return GP_OK;
}

static int circles_add_type(circles_def_t *c, const char *type) {
    char **nt = realloc(c->facility_types, (size_t)(c->n_types + 1) * sizeof *nt);
    if (!nt) return GP_ENOMEM;
    c->facility_types = nt;
    if (!(nt[c->n_types] = strdup(type))) return GP_ENOMEM;
    c->n_types++;
    return GP_OK;
}

static int circles_parse_one(const char *id, const json_t *o, circles_def_t *c, char *err, size_t errlen) {
    if (!json_is_object(o)) return err_set(err, errlen, GP_EINVAL, "circles.%s: not an object", id);
    if (strlen(id) >= sizeof c->id) return err_set(err, errlen, GP_EINVAL, "circles.%s: id longer than 31 bytes", id);
    snprintf(c->id, sizeof c->id, "%s", id);
    const json_t *label = json_object_get(o, "label");
    snprintf(c->label, sizeof c->label, "%s", json_is_string(label) ? json_string_value(label) : id);
    const json_t *types = json_object_get(o, "facility_types");
    if (!json_is_array(types) || json_array_size(types) == 0)
        return err_set(err, errlen, GP_EINVAL, "circles.%s.facility_types: expected a non-empty array of type ids", id);
    size_t i;
    const json_t *t;
    json_array_foreach(types, i, t) {
        if (!json_is_string(t) || !*json_string_value(t) || strlen(json_string_value(t)) >= 32)
            return err_set(err, errlen, GP_EINVAL, "circles.%s.facility_types[%zu]: not a type id", id, i);
        if (circles_add_type(c, json_string_value(t))) return GP_ENOMEM;
    }
    if (circles_number(json_object_get(o, "radius_m"), &c->radius_m) || !(c->radius_m > 0) || c->radius_m > 100000)
        return err_set(err, errlen, GP_EINVAL, "circles.%s.radius_m: expected a number of metres in (0, 100000]", id);
    if (circles_number(json_object_get(o, "minutes"), &c->minutes) || c->minutes < 0 || c->minutes > 600)
        return err_set(err, errlen, GP_EINVAL, "circles.%s.minutes: expected a number of minutes in [0, 600]", id);
    if (circles_number(json_object_get(o, "walk_m_per_min"), &c->walk_m_per_min) || c->walk_m_per_min < 0 ||
        c->walk_m_per_min > 2000)
        return err_set(err, errlen, GP_EINVAL, "circles.%s.walk_m_per_min: expected metres per minute in [0, 2000] or null", id);
    const json_t *req = json_object_get(o, "required_for_life_circle");
    if (req && !json_is_boolean(req) && !json_is_null(req))
        return err_set(err, errlen, GP_EINVAL, "circles.%s.required_for_life_circle: expected true or false", id);
    c->required = json_is_true(req);
    const json_t *match = json_object_get(o, "match");
    if (match && !(json_is_string(match) && (!strcmp(json_string_value(match), "all") || !strcmp(json_string_value(match), "any"))))
        return err_set(err, errlen, GP_EINVAL, "circles.%s.match: expected \"all\" or \"any\"", id);
    c->match_all = !match || !strcmp(json_string_value(match), "all");
    return GP_OK;
}

int circles_defs_parse(const json_t *profile, circles_defs_t **out, char *err, size_t errlen) {
    *out = NULL;
    if (!json_is_object(profile)) return err_set(err, errlen, GP_EINVAL, "profile: not a JSON object");
    const json_t *circles = json_object_get(profile, "circles");
    if (!circles) circles = profile;   /* a bare circles object */
    if (!json_is_object(circles)) return err_set(err, errlen, GP_EINVAL, "profile.circles: not an object");
    circles_defs_t *defs = calloc(1, sizeof *defs);
    if (!defs) return GP_ENOMEM;
    int rc = GP_OK;
    const json_t *nb = json_object_get(profile, "network_buffer_m");
    if (!nb) nb = json_object_get(circles, "network_buffer_m");
    defs->network_buffer_m = 50;
    if (nb && (circles_number(nb, &defs->network_buffer_m) || !(defs->network_buffer_m > 0) ||
               defs->network_buffer_m > 1000)) {
        rc = err_set(err, errlen, GP_EINVAL, "profile.network_buffer_m: expected metres in (0, 1000]");
        goto end;
    }
    size_t n = json_object_size(circles);
    defs->defs = calloc(n ? n : 1, sizeof *defs->defs);
    if (!defs->defs) { rc = GP_ENOMEM; goto end; }
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)circles, key, val) {
        if (!strcmp(key, "network_buffer_m")) continue;
        rc = circles_parse_one(key, val, &defs->defs[defs->n++], err, errlen);
        if (rc) goto end;
    }
    if (defs->n == 0) rc = err_set(err, errlen, GP_EINVAL, "profile.circles: no circle defined");
end:
    if (rc) circles_defs_free(defs);
    else *out = defs;
    return rc;
}

/* GB 50180-2018 figures (docs/rules.md "Service circles"); walking 70 m/min, mid planning range. */
static const char circles_default_json[] =
    "{\"circles\":{"
    "\"life_15min\":{\"label\":\"15分钟生活圈\",\"facility_types\":[\"community_service\",\"supermarket\",\"pharmacy\"],"
    "\"radius_m\":1000,\"minutes\":15,\"walk_m_per_min\":70,\"required_for_life_circle\":true},"
    "\"daily_10min\":{\"label\":\"10分钟生活服务圈\",\"facility_types\":[\"supermarket\",\"community_service\",\"kindergarten\"],"
    "\"radius_m\":500,\"minutes\":10,\"walk_m_per_min\":70,\"required_for_life_circle\":true},"
    "\"health_10min\":{\"label\":\"10分钟健康服务圈\",\"facility_types\":[\"clinic\",\"pharmacy\"],\"match\":\"any\","
    "\"radius_m\":500,\"minutes\":10,\"walk_m_per_min\":70,\"required_for_life_circle\":true},"
    "\"culture_10min\":{\"label\":\"10分钟文化服务圈\",\"facility_types\":[\"culture\"],"
    "\"radius_m\":500,\"minutes\":10,\"walk_m_per_min\":70,\"required_for_life_circle\":true},"
    "\"fitness_10min\":{\"label\":\"10分钟健身圈\",\"facility_types\":[\"fitness\"],"
    "\"radius_m\":500,\"minutes\":10,\"walk_m_per_min\":70,\"required_for_life_circle\":true},"
    "\"five_min\":{\"label\":\"5分钟生活圈\",\"facility_types\":[\"community_service\",\"supermarket\",\"elder_care\"],"
    "\"radius_m\":300,\"minutes\":5,\"walk_m_per_min\":70,\"required_for_life_circle\":false},"
    "\"fire_station\":{\"label\":\"微型消防站3分钟到场\",\"facility_types\":[\"fire_station\"],"
    "\"radius_m\":1000,\"minutes\":3,\"walk_m_per_min\":null,\"required_for_life_circle\":false}},"
    "\"network_buffer_m\":50}";

circles_defs_t *circles_defs_default(void) {
    json_t *j = json_loads(circles_default_json, 0, NULL);
    assert(j);
    circles_defs_t *defs = NULL;
    circles_defs_parse(j, &defs, NULL, 0);
    json_decref(j);
    return defs;
}

void circles_defs_free(circles_defs_t *defs) {
    if (!defs) return;
    for (int i = 0; i < defs->n; i++) {
        for (int k = 0; k < defs->defs[i].n_types; k++) free(defs->defs[i].facility_types[k]);
        free(defs->defs[i].facility_types);
    }
    free(defs->defs);
    free(defs);
}

const circles_def_t *circles_defs_find(const circles_defs_t *defs, const char *id) {
    for (int i = 0; i < defs->n; i++)
        if (!strcmp(defs->defs[i].id, id)) return &defs->defs[i];
    return NULL;
}

int circles_def_has_type(const circles_def_t *def, const char *type) {
    for (int i = 0; i < def->n_types; i++)
        if (!strcmp(def->facility_types[i], type)) return 1;
    return 0;
}

int circles_def_serves(const circles_def_t *def, const char *only_type, const char *facility_type) {
    return only_type ? !strcmp(only_type, facility_type) : circles_def_has_type(def, facility_type);
}

double circles_def_budget_m(const circles_def_t *def) {
    if (def->minutes > 0 && def->walk_m_per_min > 0) return def->minutes * def->walk_m_per_min;
    return def->radius_m;
}

const char *circles_mode_name(circles_mode_t mode) { return mode == CIRCLES_NETWORK ? "network" : "straight"; }

/* ---- Dataset ---------------------------------------------------------------------------------- */

int circles_data_new(double lon0, double lat0, circles_data_t **out, char *err, size_t errlen) {
    *out = NULL;
    circles_data_t *d = calloc(1, sizeof *d);
    if (!d) return GP_ENOMEM;
    d->epsg = srs_utm_epsg(lon0, lat0);
    d->snap_max_m = 500;
    char crs[32];
    snprintf(crs, sizeof crs, "EPSG:%d", d->epsg);
    d->to_metric = srs_new("EPSG:4326", crs, err, errlen);
    d->to_lonlat = d->to_metric ? srs_new(crs, "EPSG:4326", err, errlen) : NULL;
    if (!d->to_lonlat) {
        circles_data_free(NULL, d);
        return GP_EGEOM;
    }
    *out = d;
    return GP_OK;
}

static void circles_area_clear(GEOSContextHandle_t g, circles_area_t *a) {
    free(a->name);
    if (a->geom && g) GEOSGeom_destroy_r(g, a->geom);
}

void circles_data_free(GEOSContextHandle_t g, circles_data_t *d) {
    if (!d) return;
    for (int i = 0; i < d->n_facilities; i++) free(d->facilities[i].name);
    free(d->facilities);
    free(d->buildings);
    for (int i = 0; i < d->n_communities; i++) circles_area_clear(g, &d->communities[i]);
    free(d->communities);
    for (int i = 0; i < d->n_grids; i++) circles_area_clear(g, &d->grids[i]);
    free(d->grids);
    for (int i = 0; i < d->n_roads; i++) GEOSGeom_destroy_r(g, d->roads[i]);
    free(d->roads);
    roadnet_free(d->net);
    srs_free(d->to_metric);
    srs_free(d->to_lonlat);
    free(d);
}

/* Grows *arr (n used, *cap allocated, elements of size sz) to hold one more. */
static int circles_grow(void **arr, int n, int *cap, size_t sz) {
    if (n < *cap) return GP_OK;
    int nc = *cap ? *cap * 2 : 64;
    void *na = realloc(*arr, (size_t)nc * sz);
    if (!na) return GP_ENOMEM;
    *arr = na;
    *cap = nc;
    return GP_OK;
}

int circles_data_add_facility(circles_data_t *d, int64_t fid, const char *type, const char *name, double lon, double lat) {
    if (!type || strlen(type) >= sizeof d->facilities->type) return GP_EINVAL;
    if (circles_grow((void **)&d->facilities, d->n_facilities, &d->cap_facilities, sizeof *d->facilities)) return GP_ENOMEM;
    circles_facility_t *f = &d->facilities[d->n_facilities];
    memset(f, 0, sizeof *f);
    f->fid = fid;
    snprintf(f->type, sizeof f->type, "%s", type);
    f->lon = f->x = lon;
    f->lat = f->y = lat;
    if (srs_xy(d->to_metric, &f->x, &f->y)) return GP_EGEOM;
    if (!(f->name = strdup(name ? name : ""))) return GP_ENOMEM;
    d->n_facilities++;
    return GP_OK;
}

int circles_data_add_building(GEOSContextHandle_t g, circles_data_t *d, int64_t fid, const GEOSGeometry *geom,
                              const int64_t counts[5], const char *community_code, const char *grid_code) {
    double lon, lat;
    if (GEOSGeomTypeId_r(g, geom) == GEOS_POINT) {
        if (!GEOSGeomGetX_r(g, geom, &lon) || !GEOSGeomGetY_r(g, geom, &lat)) return GP_EGEOM;
    } else {
        GEOSGeometry *p = GEOSPointOnSurface_r(g, geom);
        if (!p) return GP_EGEOM;
        int ok = GEOSGeomGetX_r(g, p, &lon) && GEOSGeomGetY_r(g, p, &lat);
        GEOSGeom_destroy_r(g, p);
        if (!ok) return GP_EGEOM;
    }
    if (circles_grow((void **)&d->buildings, d->n_buildings, &d->cap_buildings, sizeof *d->buildings)) return GP_ENOMEM;
    circles_building_t *b = &d->buildings[d->n_buildings];
    memset(b, 0, sizeof *b);
    b->fid = fid;
    b->lon = b->x = lon;
    b->lat = b->y = lat;
    if (srs_xy(d->to_metric, &b->x, &b->y)) return GP_EGEOM;
    b->households = counts[0];
    b->population = counts[1];
    b->elderly_alone = counts[2];
    b->disabled = counts[3];
    b->low_income = counts[4];
    b->community = b->grid = -1;
    snprintf(b->community_code, sizeof b->community_code, "%s", community_code ? community_code : "");
    snprintf(b->grid_code, sizeof b->grid_code, "%s", grid_code ? grid_code : "");
    d->n_buildings++;
    return GP_OK;
}

int circles_data_add_area(GEOSContextHandle_t g, circles_data_t *d, int is_grid, const char *code, const char *name,
                          const GEOSGeometry *geom, char *err, size_t errlen) {
    circles_area_t **arr = is_grid ? &d->grids : &d->communities;
    int *n = is_grid ? &d->n_grids : &d->n_communities, *cap = is_grid ? &d->cap_grids : &d->cap_communities;
    if (!code || strlen(code) >= sizeof (*arr)->code)
        return err_set(err, errlen, GP_EINVAL, "%s code '%s' is empty or too long", is_grid ? "grid" : "community", code ? code : "");
    if (circles_grow((void **)arr, *n, cap, sizeof **arr)) return GP_ENOMEM;
    circles_area_t *a = &(*arr)[*n];
    memset(a, 0, sizeof *a);
    snprintf(a->code, sizeof a->code, "%s", code);
    a->geom = srs_transform(g, d->to_metric, geom, err, errlen);
    if (!a->geom) return GP_EGEOM;
    if (geo_bounds(g, a->geom, &a->minx, &a->miny, &a->maxx, &a->maxy)) {
        GEOSGeom_destroy_r(g, a->geom);
        return err_set(err, errlen, GP_EGEOM, "%s %s: empty geometry", is_grid ? "grid" : "community", code);
    }
    if (!(a->name = strdup(name ? name : ""))) {
        GEOSGeom_destroy_r(g, a->geom);
        return GP_ENOMEM;
    }
    (*n)++;
    return GP_OK;
}

int circles_data_add_road(GEOSContextHandle_t g, circles_data_t *d, const GEOSGeometry *geom) {
    if (circles_grow((void **)&d->roads, d->n_roads, &d->cap_roads, sizeof *d->roads)) return GP_ENOMEM;
    GEOSGeometry *m = srs_transform(g, d->to_metric, geom, NULL, 0);
    if (!m) return GP_EGEOM;
    d->roads[d->n_roads++] = m;
    roadnet_free(d->net);   /* the graph no longer matches the roads */
    d->net = NULL;
    return GP_OK;
}

static int circles_code_cmp(const void *a, const void *b) {
    return strcmp(((const circles_area_t *)a)->code, ((const circles_area_t *)b)->code);
}

/* Index of the area named code in a code-sorted array, or -1. */
static int circles_find_area(const circles_area_t *areas, int n, const char *code) {
    if (!*code || n == 0) return -1;
    circles_area_t key;
    snprintf(key.code, sizeof key.code, "%s", code);
    const circles_area_t *hit = bsearch(&key, areas, (size_t)n, sizeof *areas, circles_code_cmp);
    return hit ? (int)(hit - areas) : -1;
}

/* The area containing (x, y) (metric), lowest index on ties, or -1. Prepared geometries are made on
 * first use; prep has n slots. */
static int circles_locate(GEOSContextHandle_t g, circles_area_t *areas, int n, const GEOSPreparedGeometry **prep,
                          double x, double y) {
    GEOSGeometry *pt = NULL;
    int found = -1;
    for (int i = 0; i < n && found < 0; i++) {
        const circles_area_t *a = &areas[i];
        if (x < a->minx || x > a->maxx || y < a->miny || y > a->maxy) continue;
        if (!pt && !(pt = GEOSGeom_createPointFromXY_r(g, x, y))) return -1;
        if (!prep[i] && !(prep[i] = GEOSPrepare_r(g, a->geom))) continue;
        if (GEOSPreparedIntersects_r(g, prep[i], pt) == 1) found = i;
    }
    if (pt) GEOSGeom_destroy_r(g, pt);
    return found;
}

int circles_data_finish(GEOSContextHandle_t g, circles_data_t *d, char *err, size_t errlen) {
    int rc = GP_OK;
    if (d->n_communities) qsort(d->communities, (size_t)d->n_communities, sizeof *d->communities, circles_code_cmp);
    if (d->n_grids) qsort(d->grids, (size_t)d->n_grids, sizeof *d->grids, circles_code_cmp);
    const GEOSPreparedGeometry **pc = calloc((size_t)d->n_communities + 1, sizeof *pc);
    const GEOSPreparedGeometry **pg = calloc((size_t)d->n_grids + 1, sizeof *pg);
    if (!pc || !pg) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory placing buildings"); goto end; }
    for (int i = 0; i < d->n_buildings; i++) {
        circles_building_t *b = &d->buildings[i];
        b->community = circles_find_area(d->communities, d->n_communities, b->community_code);
        if (b->community < 0) b->community = circles_locate(g, d->communities, d->n_communities, pc, b->x, b->y);
        b->grid = circles_find_area(d->grids, d->n_grids, b->grid_code);
        if (b->grid < 0) b->grid = circles_locate(g, d->grids, d->n_grids, pg, b->x, b->y);
        snprintf(b->community_code, sizeof b->community_code, "%s", b->community >= 0 ? d->communities[b->community].code : "");
        snprintf(b->grid_code, sizeof b->grid_code, "%s", b->grid >= 0 ? d->grids[b->grid].code : "");
    }
end:
    for (int i = 0; pc && i < d->n_communities; i++)
        if (pc[i]) GEOSPreparedGeom_destroy_r(g, pc[i]);
    for (int i = 0; pg && i < d->n_grids; i++)
        if (pg[i]) GEOSPreparedGeom_destroy_r(g, pg[i]);
    free(pc);
    free(pg);
    return rc;
}

int circles_data_network(GEOSContextHandle_t g, circles_data_t *d, char *err, size_t errlen) {
    if (d->net) return GP_OK;
    if (d->n_roads == 0) return err_set(err, errlen, GP_ENOTFOUND, "no road layer loaded: network mode needs roads");
    return roadnet_build(g, (const GEOSGeometry *const *)d->roads, d->n_roads, 0.5, d->node_crossings, &d->net, err, errlen);
}

/* ---- Loading from the store ------------------------------------------------------------------- */

static GEOSGeometry *circles_column_geom(GEOSContextHandle_t g, sqlite3_stmt *s, int col) {
    if (sqlite3_column_type(s, col) != SQLITE_BLOB) return NULL;
    return geo_from_wkb(g, sqlite3_column_blob(s, col), (size_t)sqlite3_column_bytes(s, col));
}

static const char *circles_column_text(sqlite3_stmt *s, int col) {
    const unsigned char *t = sqlite3_column_text(s, col);
    return t ? (const char *)t : "";
}

int circles_data_load(GEOSContextHandle_t g, struct store *st, circles_data_t **out, char *err, size_t errlen) {
    *out = NULL;
    circles_data_t *d = NULL;
    sqlite3_stmt *s = NULL;
    int rc = GP_OK;
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    static const char *const extent_sql[] = {
        "SELECT min(MbrMinX(geom)), min(MbrMinY(geom)), max(MbrMaxX(geom)), max(MbrMaxY(geom)) FROM buildings",
        "SELECT min(MbrMinX(geom)), min(MbrMinY(geom)), max(MbrMaxX(geom)), max(MbrMaxY(geom)) FROM facilities"};
    for (int i = 0; i < 2; i++) {
        if (sqlite3_prepare_v2(st->db, extent_sql[i], -1, &s, NULL) != SQLITE_OK) goto dberr;
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
            minx = fmin(minx, sqlite3_column_double(s, 0));
            miny = fmin(miny, sqlite3_column_double(s, 1));
            maxx = fmax(maxx, sqlite3_column_double(s, 2));
            maxy = fmax(maxy, sqlite3_column_double(s, 3));
        }
        sqlite3_finalize(s);
        s = NULL;
    }
    if (!isfinite(minx)) return err_set(err, errlen, GP_ENOTFOUND, "%s: no buildings and no facilities", st->path);
    if ((rc = circles_data_new((minx + maxx) / 2, (miny + maxy) / 2, &d, err, errlen))) goto end;

    if (sqlite3_prepare_v2(st->db, "SELECT fid, type, name, X(geom), Y(geom) FROM facilities WHERE geom IS NOT NULL ORDER BY fid",
                           -1, &s, NULL) != SQLITE_OK) goto dberr;
    while (sqlite3_step(s) == SQLITE_ROW)
        if ((rc = circles_data_add_facility(d, sqlite3_column_int64(s, 0), circles_column_text(s, 1), circles_column_text(s, 2),
                                            sqlite3_column_double(s, 3), sqlite3_column_double(s, 4)))) {
            err_set(err, errlen, rc, "facility %lld: bad type or position", (long long)sqlite3_column_int64(s, 0));
            goto end;
        }
    sqlite3_finalize(s);

    if (sqlite3_prepare_v2(st->db, "SELECT fid, households, population, elderly_alone, disabled, low_income, community_code,"
                           " grid_code, AsBinary(geom) FROM buildings WHERE geom IS NOT NULL ORDER BY fid", -1, &s, NULL) != SQLITE_OK)
        goto dberr;
    while (sqlite3_step(s) == SQLITE_ROW) {
        int64_t counts[5];
        for (int k = 0; k < 5; k++) counts[k] = sqlite3_column_int64(s, 1 + k);
        GEOSGeometry *geom = circles_column_geom(g, s, 8);
        rc = geom ? circles_data_add_building(g, d, sqlite3_column_int64(s, 0), geom, counts, circles_column_text(s, 6),
                                              circles_column_text(s, 7)) : GP_EGEOM;
        if (geom) GEOSGeom_destroy_r(g, geom);
        if (rc) { err_set(err, errlen, rc, "building %lld: unreadable geometry", (long long)sqlite3_column_int64(s, 0)); goto end; }
    }
    sqlite3_finalize(s);

    for (int is_grid = 0; is_grid < 2; is_grid++) {
        const char *sql = is_grid ? "SELECT code, '', AsBinary(geom) FROM grids WHERE geom IS NOT NULL ORDER BY code"
                                  : "SELECT code, name, AsBinary(geom) FROM communities WHERE geom IS NOT NULL ORDER BY code";
        if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) goto dberr;
        while (sqlite3_step(s) == SQLITE_ROW) {
            GEOSGeometry *geom = circles_column_geom(g, s, 2);
            if (!geom) { rc = err_set(err, errlen, GP_EGEOM, "%s %s: unreadable geometry", is_grid ? "grid" : "community",
                                      circles_column_text(s, 0)); goto end; }
            rc = circles_data_add_area(g, d, is_grid, circles_column_text(s, 0), circles_column_text(s, 1), geom, err, errlen);
            GEOSGeom_destroy_r(g, geom);
            if (rc) goto end;
        }
        sqlite3_finalize(s);
    }

    if (sqlite3_prepare_v2(st->db, "SELECT AsBinary(geom) FROM roads WHERE geom IS NOT NULL ORDER BY fid", -1, &s, NULL) != SQLITE_OK)
        goto dberr;
    while (sqlite3_step(s) == SQLITE_ROW) {
        GEOSGeometry *geom = circles_column_geom(g, s, 0);
        rc = geom ? circles_data_add_road(g, d, geom) : GP_EGEOM;
        if (geom) GEOSGeom_destroy_r(g, geom);
        if (rc) { err_set(err, errlen, rc, "roads: unreadable geometry"); goto end; }
    }
    sqlite3_finalize(s);
    s = NULL;
    rc = circles_data_finish(g, d, err, errlen);
    goto end;
dberr:
    rc = err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
end:
    sqlite3_finalize(s);
    if (rc) {
        circles_data_free(g, d);
    } else {
        *out = d;
    }
    return rc;
}

/* ---- Circles ---------------------------------------------------------------------------------- */

int circles_network_reach(circles_data_t *d, const circles_def_t *def, int facility, const char *only_type,
                          roadnet_reach_t **out, int *unsnapped) {
    assert(d->net);
    roadnet_pos_t *src = malloc((size_t)(d->n_facilities ? d->n_facilities : 1) * sizeof *src);
    if (!src) return GP_ENOMEM;
    int n = 0, missed = 0;
    for (int i = 0; i < d->n_facilities; i++) {
        if (facility >= 0 ? i != facility : !circles_def_serves(def, only_type, d->facilities[i].type)) continue;
        if (roadnet_snap(d->net, d->facilities[i].x, d->facilities[i].y, d->snap_max_m, &src[n]) == GP_OK) n++;
        else missed++;
    }
    int rc = roadnet_reach(d->net, src, n, circles_def_budget_m(def), out);
    free(src);
    if (unsnapped) *unsnapped = missed;
    return rc;
}

/* The metric area of def's facilities of only_type (all types when NULL), or of one facility; with
 * box, exact inside the box only (what lies farther cannot matter to the caller). */
static GEOSGeometry *circles_area_of(GEOSContextHandle_t g, circles_data_t *d, const circles_def_t *def, int facility,
                                     const char *only_type, circles_mode_t mode, double buffer_m, const double *box,
                                     char *err, size_t errlen) {
    GEOSGeometry *area = NULL;
    if (mode == CIRCLES_NETWORK) {
        if (circles_data_network(g, d, err, errlen)) return NULL;
        roadnet_reach_t *r;
        if (circles_network_reach(d, def, facility, only_type, &r, NULL)) {
            err_set(err, errlen, GP_ENOMEM, "out of memory walking the network");
            return NULL;
        }
        area = roadnet_reach_area_in(g, r, buffer_m, box);
        roadnet_reach_free(r);
    } else {
        int n = 0;
        GEOSGeometry **parts = malloc((size_t)(d->n_facilities ? d->n_facilities : 1) * sizeof *parts);
        if (!parts) return NULL;
        for (int i = 0; i < d->n_facilities; i++) {
            if (facility >= 0 ? i != facility : !circles_def_serves(def, only_type, d->facilities[i].type)) continue;
            const circles_facility_t *f = &d->facilities[i];
            double r = def->radius_m;
            if (box && (f->x + r < box[0] || f->x - r > box[2] || f->y + r < box[1] || f->y - r > box[3])) continue;
            GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(g, d->facilities[i].x, d->facilities[i].y);
            GEOSGeometry *buf = pt ? GEOSBuffer_r(g, pt, def->radius_m, CIRCLES_QUADSEGS) : NULL;
            if (pt) GEOSGeom_destroy_r(g, pt);
            if (buf) parts[n++] = buf;
        }
        if (n == 0) area = GEOSGeom_createEmptyPolygon_r(g);
        else if (n == 1) area = parts[0];
        else {
            GEOSGeometry *coll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
            area = coll ? GEOSUnaryUnion_r(g, coll) : NULL;
            if (coll) GEOSGeom_destroy_r(g, coll);
            n = 0;
        }
        free(parts);
    }
    if (!area) err_set(err, errlen, GP_EGEOM, "circle %s: %s", def->id, geo_last_error(g));
    return area;
}

GEOSGeometry *circles_area(GEOSContextHandle_t g, circles_data_t *d, const circles_def_t *def, int facility,
                           circles_mode_t mode, double buffer_m, int metric, char *err, size_t errlen) {
    GEOSGeometry *area = NULL;
    if (facility >= 0 || !def->match_all || def->n_types < 2) {
        area = circles_area_of(g, d, def, facility, NULL, mode, buffer_m, NULL, err, errlen);
    } else {
        /* Every type must reach: intersect the per-type areas, the type with the fewest sites
         * first, and each further type computed only within the box of what is left. */
        int *order = malloc((size_t)def->n_types * sizeof *order), *count = calloc((size_t)def->n_types, sizeof *count);
        if (!order || !count) { free(order); free(count); return NULL; }
        for (int t = 0; t < def->n_types; t++) {
            order[t] = t;
            for (int i = 0; i < d->n_facilities; i++) count[t] += !strcmp(d->facilities[i].type, def->facility_types[t]);
        }
        for (int a = 1; a < def->n_types; a++)
            for (int b = a; b > 0 && count[order[b]] < count[order[b - 1]]; b--) {
                int tmp = order[b];
                order[b] = order[b - 1];
                order[b - 1] = tmp;
            }
        free(count);
        for (int k = 0; k < def->n_types; k++) {
            double box[4];
            int have_box = area && geo_bounds(g, area, &box[0], &box[1], &box[2], &box[3]) == GP_OK;
            if (area && !have_box) break;   /* empty already: nothing can come back */
            GEOSGeometry *part = circles_area_of(g, d, def, -1, def->facility_types[order[k]], mode, buffer_m,
                                                 have_box ? box : NULL, err, errlen);
            if (!part) { free(order); if (area) GEOSGeom_destroy_r(g, area); return NULL; }
            if (!area) { area = part; continue; }
            GEOSGeometry *both = GEOSIntersection_r(g, area, part);
            GEOSGeom_destroy_r(g, area);
            GEOSGeom_destroy_r(g, part);
            if (!both) { free(order); err_set(err, errlen, GP_EGEOM, "circle %s: %s", def->id, geo_last_error(g)); return NULL; }
            area = both;
        }
        free(order);
    }
    if (!area) return NULL;
    if (metric) return area;
    GEOSGeometry *ll = srs_transform(g, d->to_lonlat, area, err, errlen);
    GEOSGeom_destroy_r(g, area);
    return ll;
}

/* Appends one circle feature: geometry (metric, transformed here) and the common properties. */
static int circles_feature(GEOSContextHandle_t g, circles_data_t *d, const circles_def_t *def, circles_mode_t mode,
                           const GEOSGeometry *metric_geom, int facilities, int64_t *next_id, const char *extra,
                           buf_t *out, char *err, size_t errlen) {
    if (GEOSisEmpty_r(g, metric_geom) == 1) return GP_OK;   /* e.g. an "all" circle missing a type */
    double area_m2 = 0;
    GEOSArea_r(g, metric_geom, &area_m2);
    GEOSGeometry *ll = srs_transform(g, d->to_lonlat, metric_geom, err, errlen);
    if (!ll) return GP_EGEOM;
    GEOSGeometry *multi = geo_as_multipolygon(g, ll);
    int rc = buf_printf(out, "%s{\"type\":\"Feature\",\"id\":%lld,\"geometry\":", *next_id > 1 ? "," : "", (long long)*next_id);
    (*next_id)++;
    if (!rc) rc = geo_to_geojson(g, multi ? multi : ll, 7, out);
    if (!rc) rc = buf_puts(out, ",\"properties\":{\"circle\":");
    if (!rc) rc = buf_json_string(out, def->id);
    if (!rc) rc = buf_puts(out, ",\"label\":");
    if (!rc) rc = buf_json_string(out, def->label);
    if (!rc) rc = buf_printf(out, ",\"mode\":\"%s\",\"%s\":", circles_mode_name(mode),
                             mode == CIRCLES_NETWORK ? "budget_m" : "radius_m");
    if (!rc) rc = buf_double(out, mode == CIRCLES_NETWORK ? circles_def_budget_m(def) : def->radius_m, 1);
    if (!rc) rc = buf_printf(out, ",\"facilities\":%d,\"area_m2\":", facilities);
    if (!rc) rc = buf_double(out, area_m2, 1);
    if (!rc && extra) rc = buf_puts(out, extra);
    if (!rc) rc = buf_puts(out, "}}");
    if (multi) GEOSGeom_destroy_r(g, multi);
    GEOSGeom_destroy_r(g, ll);
    return rc;
}

int circles_geojson(GEOSContextHandle_t g, circles_data_t *d, const circles_defs_t *defs, const char *only_id,
                    circles_mode_t mode, int per, buf_t *out, char *err, size_t errlen) {
    if (only_id && !circles_defs_find(defs, only_id))
        return err_set(err, errlen, GP_ENOTFOUND, "unknown circle '%s'", only_id);
    if (mode == CIRCLES_NETWORK) {
        int rc = circles_data_network(g, d, err, errlen);
        if (rc) return rc;
    }
    int rc = buf_printf(out, "{\"type\":\"FeatureCollection\",\"mode\":\"%s\",\"crs_metric\":\"EPSG:%d\",\"features\":[",
                        circles_mode_name(mode), d->epsg);
    int64_t next_id = 1;
    buf_t extra = {0};
    for (int c = 0; c < defs->n && !rc; c++) {
        const circles_def_t *def = &defs->defs[c];
        if (only_id && strcmp(def->id, only_id)) continue;
        int count = 0;
        for (int i = 0; i < d->n_facilities; i++) count += circles_def_has_type(def, d->facilities[i].type);
        if (per == CIRCLES_PER_FACILITY) {
            for (int i = 0; i < d->n_facilities && !rc; i++) {
                const circles_facility_t *f = &d->facilities[i];
                if (!circles_def_has_type(def, f->type)) continue;
                GEOSGeometry *a = circles_area(g, d, def, i, mode, defs->network_buffer_m, 1, err, errlen);
                if (!a) { rc = GP_EGEOM; break; }
                buf_reset(&extra);
                rc = buf_printf(&extra, ",\"facility_fid\":%lld,\"facility_type\":", (long long)f->fid);
                if (!rc) rc = buf_json_string(&extra, f->type);
                if (!rc) rc = buf_puts(&extra, ",\"facility_name\":");
                if (!rc) rc = buf_json_string(&extra, f->name);
                if (!rc) rc = circles_feature(g, d, def, mode, a, 1, &next_id, extra.data, out, err, errlen);
                GEOSGeom_destroy_r(g, a);
            }
            continue;
        }
        if (count == 0) continue;   /* no site: no circle (the coverage report still lists it at 0%) */
        GEOSGeometry *a = circles_area(g, d, def, -1, mode, defs->network_buffer_m, 1, err, errlen);
        if (!a) { rc = GP_EGEOM; break; }
        if (per == CIRCLES_PER_TYPE) {
            rc = circles_feature(g, d, def, mode, a, count, &next_id, NULL, out, err, errlen);
        } else {
            const GEOSPreparedGeometry *prep = GEOSPrepare_r(g, a);
            for (int k = 0; k < d->n_communities && !rc && prep; k++) {
                const circles_area_t *cm = &d->communities[k];
                if (GEOSPreparedIntersects_r(g, prep, cm->geom) != 1) continue;
                /* Clip the city-wide area to the community's box first: the intersection then
                 * works on a few hundred vertices instead of the whole dissolved circle. */
                GEOSGeometry *near = GEOSClipByRect_r(g, a, cm->minx, cm->miny, cm->maxx, cm->maxy);
                GEOSGeometry *part = near ? GEOSIntersection_r(g, near, cm->geom) : NULL;
                if (near) GEOSGeom_destroy_r(g, near);
                if (!part) { rc = err_set(err, errlen, GP_EGEOM, "community %s: %s", cm->code, geo_last_error(g)); break; }
                double part_area = 0, community_area = 0;
                GEOSArea_r(g, part, &part_area);
                GEOSArea_r(g, cm->geom, &community_area);
                if (part_area > 0) {
                    buf_reset(&extra);
                    rc = buf_puts(&extra, ",\"community_code\":");
                    if (!rc) rc = buf_json_string(&extra, cm->code);
                    if (!rc) rc = buf_puts(&extra, ",\"community_share\":");
                    if (!rc) rc = buf_double(&extra, community_area > 0 ? part_area / community_area : 0, 4);
                    if (!rc) rc = circles_feature(g, d, def, mode, part, count, &next_id, extra.data, out, err, errlen);
                }
                GEOSGeom_destroy_r(g, part);
            }
            if (prep) GEOSPreparedGeom_destroy_r(g, prep);
            else rc = err_set(err, errlen, GP_EGEOM, "circle %s: cannot prepare the area", def->id);
        }
        GEOSGeom_destroy_r(g, a);
    }
    buf_free(&extra);
    if (!rc) rc = buf_puts(out, "]}");
    return rc;
}

const char *circles_osm_type(const char *category) {
    static const char *const map[][2] = {
        {"amenity=school", "school"},           {"shop=supermarket", "supermarket"},
        {"shop=convenience", "supermarket"},    {"amenity=clinic", "clinic"},
        {"amenity=doctors", "clinic"},          {"healthcare=clinic", "clinic"},
        {"amenity=hospital", "clinic"},         {"amenity=pharmacy", "pharmacy"},
        {"amenity=kindergarten", "kindergarten"}, {"amenity=community_centre", "community_service"},
        {"amenity=social_facility", "elder_care"}, {"amenity=fire_station", "fire_station"},
        {"amenity=police", "police"},           {"leisure=fitness_centre", "fitness"},
        {"leisure=sports_centre", "fitness"},   {"amenity=library", "culture"},
        {"amenity=arts_centre", "culture"},     {NULL, NULL}};
    if (!category) return NULL;
    for (int i = 0; map[i][0]; i++)
        if (!strcmp(map[i][0], category)) return map[i][1];
    return NULL;
}

/* ---- Loading from GeoJSON files ----------------------------------------------------------------- */

/* An integer property given as a number or a numeric string; def when absent. */
static int64_t circles_prop_int(const json_t *props, const char *key, int64_t def) {
    const json_t *v = json_object_get(props, key);
    if (json_is_integer(v)) return json_integer_value(v);
    if (json_is_real(v)) return (int64_t)json_real_value(v);
    if (json_is_string(v) && *json_string_value(v)) return strtoll(json_string_value(v), NULL, 10);
    return def;
}

static const char *circles_prop_str(const json_t *props, const char *key) {
    const json_t *v = json_object_get(props, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Feature-at-a-time reading: the file is read whole, but only one feature's JSON tree exists at a
 * time. A whole-file jansson tree of a city's buildings costs ~10× the file in memory and most of
 * the load time in malloc; slicing the "features" array and parsing each element alone does not. */
typedef struct circles_text { char *data; size_t len; } circles_text_t;

static int circles_read_text(const char *path, circles_text_t *t, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, errlen, GP_ENOTFOUND, "%s: cannot open", path);
    buf_t text = {0};
    char chunk[1 << 16];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&text, chunk, got)) { fclose(f); buf_free(&text); return GP_ENOMEM; }
    fclose(f);
    t->data = buf_steal(&text, &t->len);
    if (!t->data) return err_set(err, errlen, GP_EINVAL, "%s: empty file", path);
    return GP_OK;
}

/* Skips a JSON string starting at s[i] == '"'; returns the index after the closing quote. */
static size_t circles_skip_string(const char *s, size_t len, size_t i) {
    for (i++; i < len; i++) {
        if (s[i] == '\\') i++;
        else if (s[i] == '"') return i + 1;
    }
    return len;
}

/* Calls fn(user, feature, index) for each element of the top-level "features" array. Returns 0,
 * fn's non-zero code, or GP_EINVAL (with err) when the text is not a FeatureCollection. */
static int circles_each_feature(const circles_text_t *t, const char *path,
                                int (*fn)(void *user, const json_t *feature, size_t index), void *user, char *err, size_t errlen) {
    const char *s = t->data;
    size_t len = t->len, i = 0, index = 0;
    int depth = 0, rc = GP_OK;
    /* Find "features" as a key of the top-level object, then its '['. */
    while (i < len) {
        char c = s[i];
        if (c == '"') {
            size_t end = circles_skip_string(s, len, i);
            size_t j = end;
            while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) j++;
            if (depth == 1 && end - i == 10 && !memcmp(s + i, "\"features\"", 10) && j < len && s[j] == ':') {
                j++;
                while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) j++;
                if (j < len && s[j] == '[') { i = j + 1; goto found; }
            }
            i = end;
            continue;
        }
        if (c == '{' || c == '[') depth++;
        else if (c == '}' || c == ']') depth--;
        i++;
    }
    return err_set(err, errlen, GP_EINVAL, "%s: not a GeoJSON FeatureCollection (no \"features\" array)", path);
found:
    while (i < len && !rc) {
        while (i < len && s[i] != '{' && s[i] != ']') i++;
        if (i >= len || s[i] == ']') break;
        size_t start = i;
        int d = 0;
        for (; i < len; i++) {
            if (s[i] == '"') { i = circles_skip_string(s, len, i) - 1; continue; }
            if (s[i] == '{' || s[i] == '[') d++;
            else if ((s[i] == '}' || s[i] == ']') && --d == 0) { i++; break; }
        }
        json_error_t je;
        json_t *feature = json_loadb(s + start, i - start, 0, &je);
        if (!feature) return err_set(err, errlen, GP_EINVAL, "%s: feature %zu: %s", path, index, je.text);
        rc = fn(user, feature, index++);
        json_decref(feature);
    }
    return rc;
}

/* Extends bbox by every position under a GeoJSON coordinates array. */
static void circles_bbox_walk(const json_t *c, double bbox[4]) {
    if (!json_is_array(c) || json_array_size(c) == 0) return;
    if (json_is_number(json_array_get(c, 0))) {
        double x = json_number_value(json_array_get(c, 0)), y = json_number_value(json_array_get(c, 1));
        bbox[0] = fmin(bbox[0], x);
        bbox[1] = fmin(bbox[1], y);
        bbox[2] = fmax(bbox[2], x);
        bbox[3] = fmax(bbox[3], y);
        return;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(c, i, v) circles_bbox_walk(v, bbox);
}

static int circles_bbox_visit(void *user, const json_t *feature, size_t index) {
    (void)index;
    circles_bbox_walk(json_object_get(json_object_get(feature, "geometry"), "coordinates"), user);
    return 0;
}

typedef struct circles_geojson_state {
    GEOSContextHandle_t g;
    circles_data_t *d;
    int layer, skipped;
    const char *path;
    char *err;
    size_t errlen;
} circles_geojson_state_t;

static int circles_add_visit(void *user, const json_t *feature, size_t i) {
    circles_geojson_state_t *st = user;
    GEOSContextHandle_t g = st->g;
    circles_data_t *d = st->d;
    const json_t *props = json_object_get(feature, "properties");
    char why[200];
    GEOSGeometry *geom = geo_from_geojson(g, json_object_get(feature, "geometry"), why, sizeof why);
    if (!geom) return err_set(st->err, st->errlen, GP_EINVAL, "%s: feature %zu: %s", st->path, i, why);
    int64_t fid = circles_prop_int(props, "fid", (int64_t)i + 1);
    int rc = GP_OK;
    if (st->layer == CIRCLES_LAYER_FACILITIES) {
        const char *type = circles_prop_str(props, "type");
        if (!type || !*type) type = circles_osm_type(circles_prop_str(props, "category"));
        double lon, lat;
        if (!type || GEOSGeomTypeId_r(g, geom) != GEOS_POINT) {
            st->skipped++;
        } else {
            GEOSGeomGetX_r(g, geom, &lon);
            GEOSGeomGetY_r(g, geom, &lat);
            fid = circles_prop_int(props, "fid", circles_prop_int(props, "osm_id", (int64_t)i + 1));
            rc = circles_data_add_facility(d, fid, type, circles_prop_str(props, "name"), lon, lat);
            if (rc) err_set(st->err, st->errlen, rc, "%s: feature %zu: bad facility", st->path, i);
        }
    } else if (st->layer == CIRCLES_LAYER_BUILDINGS) {
        int64_t counts[5] = {circles_prop_int(props, "households", 1), circles_prop_int(props, "population", 0),
                             circles_prop_int(props, "elderly_alone", 0), circles_prop_int(props, "disabled", 0),
                             circles_prop_int(props, "low_income", 0)};
        rc = circles_data_add_building(g, d, fid, geom, counts, circles_prop_str(props, "community_code"),
                                       circles_prop_str(props, "grid_code"));
        if (rc) err_set(st->err, st->errlen, rc, "%s: feature %zu: bad building geometry", st->path, i);
    } else if (st->layer == CIRCLES_LAYER_ROADS) {
        rc = circles_data_add_road(g, d, geom);
        if (rc) err_set(st->err, st->errlen, rc, "%s: feature %zu: bad road geometry", st->path, i);
    } else {
        const char *code = circles_prop_str(props, "code");
        char fallback[32];
        if (!code) { snprintf(fallback, sizeof fallback, "%zu", i + 1); code = fallback; }
        rc = circles_data_add_area(g, d, st->layer == CIRCLES_LAYER_GRIDS, code, circles_prop_str(props, "name"), geom,
                                   st->err, st->errlen);
    }
    GEOSGeom_destroy_r(g, geom);
    return rc;
}

int circles_data_load_geojson(GEOSContextHandle_t g, const char *const paths[CIRCLES_N_LAYERS], circles_data_t **out,
                              int *skipped, char *err, size_t errlen) {
    circles_text_t text[CIRCLES_N_LAYERS];
    double bbox[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    circles_geojson_state_t st = {.g = g, .err = err, .errlen = errlen};
    int rc = GP_OK;
    *out = NULL;
    memset(text, 0, sizeof text);
    for (int k = 0; k < CIRCLES_N_LAYERS && !rc; k++)
        if (paths[k]) rc = circles_read_text(paths[k], &text[k], err, errlen);
    /* The metric CRS comes from the facilities' extent (small), else the buildings'. */
    for (int k = CIRCLES_LAYER_FACILITIES; k <= CIRCLES_LAYER_BUILDINGS && !rc && !isfinite(bbox[0]); k++)
        if (paths[k]) rc = circles_each_feature(&text[k], paths[k], circles_bbox_visit, bbox, err, errlen);
    if (rc) goto end;
    if (!isfinite(bbox[0])) { rc = err_set(err, errlen, GP_ENOTFOUND, "no facilities and no buildings given"); goto end; }
    if ((rc = circles_data_new((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, &st.d, err, errlen))) goto end;
    for (int k = 0; k < CIRCLES_N_LAYERS && !rc; k++) {
        if (!paths[k]) continue;
        st.layer = k;
        st.path = paths[k];
        rc = circles_each_feature(&text[k], paths[k], circles_add_visit, &st, err, errlen);
        free(text[k].data);
        text[k].data = NULL;
    }
    if (!rc) rc = circles_data_finish(g, st.d, err, errlen);
end:
    for (int k = 0; k < CIRCLES_N_LAYERS; k++) free(text[k].data);
    if (rc) circles_data_free(g, st.d);
    else *out = st.d;
    if (skipped) *skipped = st.skipped;
    return rc;
}

int circles_defs_set(circles_defs_t *defs, const char *overrides, char *err, size_t errlen) {
    char *copy = strdup(overrides), *save = NULL;
    int rc = GP_OK;
    if (!copy) return GP_ENOMEM;
    for (char *item = strtok_r(copy, ",", &save); item && !rc; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '='), *end;
        if (!eq) { rc = err_set(err, errlen, GP_EINVAL, "'%s': expected key=value", item); break; }
        *eq = 0;
        const char *value = eq + 1;
        double num = strtod(value, &end);
        int numeric = end != value && *end == 0;
        if (!strcmp(item, "network_buffer_m")) {
            if (!numeric || !(num > 0) || num > 1000) rc = err_set(err, errlen, GP_EINVAL, "network_buffer_m: expected metres in (0, 1000]");
            else defs->network_buffer_m = num;
            continue;
        }
        char *dot = strchr(item, '.');
        if (!dot) { rc = err_set(err, errlen, GP_EINVAL, "'%s': expected <circle>.<field> or network_buffer_m", item); break; }
        *dot = 0;
        const char *field = dot + 1;
        circles_def_t *def = (circles_def_t *)circles_defs_find(defs, item);
        if (!def) { rc = err_set(err, errlen, GP_ENOTFOUND, "unknown circle '%s'", item); break; }
        if (!strcmp(field, "radius_m") && numeric && num > 0 && num <= 100000) def->radius_m = num;
        else if (!strcmp(field, "minutes") && numeric && num >= 0 && num <= 600) def->minutes = num;
        else if (!strcmp(field, "walk_m_per_min") && numeric && num >= 0 && num <= 2000) def->walk_m_per_min = num;
        else if (!strcmp(field, "required_for_life_circle") && (!strcmp(value, "true") || !strcmp(value, "false")))
            def->required = !strcmp(value, "true");
        else if (!strcmp(field, "match") && (!strcmp(value, "all") || !strcmp(value, "any")))
            def->match_all = !strcmp(value, "all");
        else if (!strcmp(field, "facility_types") && *value) {
            for (int i = 0; i < def->n_types; i++) free(def->facility_types[i]);
            def->n_types = 0;
            char *types = strdup(value), *tsave = NULL;
            if (!types) { rc = GP_ENOMEM; break; }
            for (char *t = strtok_r(types, "|", &tsave); t && !rc; t = strtok_r(NULL, "|", &tsave))
                rc = strlen(t) < 32 ? circles_add_type(def, t) : err_set(err, errlen, GP_EINVAL, "%s.facility_types: '%s' too long", def->id, t);
            free(types);
            if (!rc && def->n_types == 0) rc = err_set(err, errlen, GP_EINVAL, "%s.facility_types: empty", def->id);
        } else
            rc = err_set(err, errlen, GP_EINVAL, "%s.%s=%s: unknown field or value out of range", item, field, value);
    }
    free(copy);
    return rc;
}

int circles_store_stamp(struct store *st, char *out, size_t outlen) {
    char version[32] = "0";
    store_meta_get(st, "data_version", version, sizeof version);
    long long last = (long long)store_last_change_id(st);
    int n = snprintf(out, outlen, "%s:%lld", version, last);
    return n > 0 && (size_t)n < outlen ? GP_OK : GP_EINVAL;
}

int circles_defs_load(const char *profile, circles_defs_t **out, char *source, size_t sourcelen, char *err, size_t errlen) {
    rules_t *rules = NULL;
    char why[512] = "";
    *out = NULL;
    int rc = rules_load(profile, &rules, why, sizeof why);
    if (rc && profile) return err_set(err, errlen, rc, "%s", why);
    const json_t *root = rc ? NULL : rules_json(rules);
    if (root && json_object_get(root, "circles")) {
        rc = circles_defs_parse(root, out, err, errlen);
        if (!rc && source) snprintf(source, sourcelen, "profile %s", rules_name(rules));
        rules_free(rules);
        return rc;
    }
    /* No profile found (run outside the repository) or one without circles: the built-in numbers. */
    if (source) snprintf(source, sourcelen, "built-in GB 50180-2018 defaults");
    rules_free(rules);
    return (*out = circles_defs_default()) ? GP_OK : GP_ENOMEM;
}

int circles_defs_for_store(struct store *st, circles_defs_t **out, char *source, size_t sourcelen, char *err, size_t errlen) {
    char name[256] = "";
    int named = store_meta_get(st, "profile", name, sizeof name) == GP_OK && *name;
    return circles_defs_load(named ? name : NULL, out, source, sourcelen, err, errlen);
}

int circles_layer_wkb(GEOSContextHandle_t g, circles_data_t *d, const circles_defs_t *defs, circles_mode_t mode,
                      circles_layer_t *layer, char *err, size_t errlen) {
    memset(layer, 0, sizeof *layer);
    layer->wkb = calloc((size_t)defs->n + 1, sizeof *layer->wkb);
    layer->wkb_len = calloc((size_t)defs->n + 1, sizeof *layer->wkb_len);
    layer->types = calloc((size_t)defs->n + 1, sizeof *layer->types);
    if (!layer->wkb || !layer->wkb_len || !layer->types) { circles_layer_free(layer); return GP_ENOMEM; }
    for (int c = 0; c < defs->n; c++) {
        GEOSGeometry *a = circles_area(g, d, &defs->defs[c], -1, mode, defs->network_buffer_m, 0, err, errlen);
        if (!a) { circles_layer_free(layer); return GP_EGEOM; }
        if (!GEOSisEmpty_r(g, a)) {
            size_t i = layer->n;
            layer->wkb[i] = geo_to_wkb(g, a, &layer->wkb_len[i]);
            layer->types[i] = defs->defs[c].id;
            if (layer->wkb[i]) layer->n++;
        }
        GEOSGeom_destroy_r(g, a);
    }
    return GP_OK;
}

void circles_layer_free(circles_layer_t *layer) {
    if (!layer) return;
    for (size_t i = 0; layer->wkb && i < layer->n; i++) free(layer->wkb[i]);
    free(layer->wkb);
    free(layer->wkb_len);
    free(layer->types);
    memset(layer, 0, sizeof *layer);
}
