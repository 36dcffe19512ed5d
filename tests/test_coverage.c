/* test_coverage.c — coverage sums, life circle check, network detours, gap filling, real OSM data. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "coverage.h"
#include "err.h"

static GEOSContextHandle_t g;
static void setup(void) { g = geo_ctx_new(); }
static void teardown(void) { geo_ctx_free(g); }
TestSuite(coverage, .init = setup, .fini = teardown);

static circles_defs_t *defs_from(const char *text) {
    json_t *j = json_loads(text, 0, NULL);
    cr_assert_not_null(j, "test JSON");
    circles_defs_t *defs = NULL;
    char err[256] = "";
    cr_assert_eq(circles_defs_parse(j, &defs, err, sizeof err), 0, "%s", err);
    json_decref(j);
    return defs;
}

/* A synthetic city in metres around Beijing: helpers place things at metric offsets from (x0, y0). */
typedef struct city { circles_data_t *d; double x0, y0; } city_t;

static city_t city_new(void) {
    city_t c;
    char err[256] = "";
    cr_assert_eq(circles_data_new(116.40, 39.90, &c.d, err, sizeof err), 0, "%s", err);
    c.x0 = 116.40;
    c.y0 = 39.90;
    cr_assert_eq(srs_xy(c.d->to_metric, &c.x0, &c.y0), 0);
    return c;
}

static void lonlat(const city_t *c, double dx, double dy, double *lon, double *lat) {
    *lon = c->x0 + dx;
    *lat = c->y0 + dy;
    cr_assert_eq(srs_xy(c->d->to_lonlat, lon, lat), 0);
}

static void facility(city_t *c, int64_t fid, const char *type, double dx, double dy) {
    double lon, lat;
    lonlat(c, dx, dy, &lon, &lat);
    cr_assert_eq(circles_data_add_facility(c->d, fid, type, "", lon, lat), 0);
}

static void building(city_t *c, int64_t fid, double dx, double dy, int64_t households, int64_t elderly, const char *community) {
    double lon, lat;
    lonlat(c, dx, dy, &lon, &lat);
    GEOSGeometry *p = GEOSGeom_createPointFromXY_r(g, lon, lat);
    int64_t counts[5] = {households, households * 2 + 1, elderly, fid % 2, 0};
    cr_assert_eq(circles_data_add_building(g, c->d, fid, p, counts, community, NULL), 0);
    GEOSGeom_destroy_r(g, p);
}

/* A square area [x0, x1] × [y0, y1] metres, as lon/lat. */
static void area(city_t *c, int is_grid, const char *code, double x0, double y0, double x1, double y1) {
    double xs[] = {x0, x1, x1, x0, x0}, ys[] = {y0, y0, y1, y1, y0};
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(g, 5, 2);
    for (int i = 0; i < 5; i++) {
        double lon, lat;
        lonlat(c, xs[i], ys[i], &lon, &lat);
        GEOSCoordSeq_setXY_r(g, cs, (unsigned)i, lon, lat);
    }
    GEOSGeometry *poly = GEOSGeom_createPolygon_r(g, GEOSGeom_createLinearRing_r(g, cs), NULL, 0);
    char err[256] = "";
    cr_assert_eq(circles_data_add_area(g, c->d, is_grid, code, code, poly, err, sizeof err), 0, "%s", err);
    GEOSGeom_destroy_r(g, poly);
}

static const char two_circles[] =
    "{\"circles\":{\"health_10min\":{\"facility_types\":[\"clinic\",\"pharmacy\"],\"match\":\"any\",\"radius_m\":500,"
    "\"required_for_life_circle\":true},"
    "\"culture_10min\":{\"facility_types\":[\"culture\"],\"radius_m\":500,\"required_for_life_circle\":true},"
    "\"fire_station\":{\"facility_types\":[\"fire_station\"],\"radius_m\":1000,\"required_for_life_circle\":false}}}";

Test(coverage, sums_match_totals_and_life_circle_check) {
    city_t c = city_new();
    area(&c, 0, "A", 0, 0, 1000, 1000);
    area(&c, 0, "B", 1000, 0, 2000, 1000);
    area(&c, 1, "A001", 0, 0, 500, 1000);
    area(&c, 1, "A002", 500, 0, 1000, 1000);
    facility(&c, 1, "clinic", 500, 500);
    facility(&c, 2, "pharmacy", 1500, 500);
    facility(&c, 3, "culture", 500, 500);     /* only A gets culture */
    facility(&c, 4, "school", 1500, 500);     /* no circle uses schools */
    int64_t fid = 1, households = 0;
    for (int i = 0; i < 20; i++)
        for (int j = 0; j < 10; j++) {
            /* community code given for half; the other half is placed by point-in-polygon */
            double x = 50 + i * 100, y = 50 + j * 100;
            building(&c, fid, x, y, 1 + (i + j) % 7, j % 3, fid % 2 ? (x < 1000 ? "A" : "B") : NULL);
            households += 1 + (i + j) % 7;
            fid++;
        }
    building(&c, fid++, 5000, 5000, 9, 1, NULL);   /* outside every community */
    households += 9;
    char err[256] = "";
    cr_assert_eq(circles_data_finish(g, c.d, err, sizeof err), 0, "%s", err);
    circles_defs_t *defs = defs_from(two_circles);
    coverage_t *cov;
    cr_assert_eq(coverage_compute(g, c.d, defs, CIRCLES_STRAIGHT, 0.5, &cov, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cov->city.total.v[COV_HOUSEHOLDS], households);
    cr_assert_eq(cov->unassigned.total.v[COV_HOUSEHOLDS], 9);
    for (int k = 0; k < COV_N; k++) {
        cr_assert_eq(cov->communities[0].total.v[k] + cov->communities[1].total.v[k] + cov->unassigned.total.v[k],
                     cov->city.total.v[k], "%s", coverage_count_names[k]);
        cr_assert_eq(cov->grids[0].total.v[k] + cov->grids[1].total.v[k], cov->communities[0].total.v[k]);
        for (int def = 0; def < cov->n_defs; def++) {
            cr_assert_eq(cov->communities[0].covered[def].v[k] + cov->communities[1].covered[def].v[k] +
                         cov->unassigned.covered[def].v[k], cov->city.covered[def].v[k]);
            cr_assert_leq(cov->city.covered[def].v[k], cov->city.total.v[k]);
        }
    }
    /* Brute force, independent of the index: count households within 500 m of a culture site. */
    int64_t brute = 0;
    for (int b = 0; b < c.d->n_buildings; b++) {
        const circles_building_t *bd = &c.d->buildings[b];
        if (hypot(bd->x - c.d->facilities[2].x, bd->y - c.d->facilities[2].y) <= 500) brute += bd->households;
    }
    cr_assert_eq(cov->city.covered[1].v[COV_HOUSEHOLDS], brute);
    cr_assert(brute > 0);
    /* A (code sorted first) has health and culture over half its households; B lacks culture. */
    cr_assert_str_eq(c.d->communities[0].code, "A");
    cr_assert_eq(cov->communities[0].life_circle, 1);
    cr_assert_eq(cov->communities[1].life_circle, 0);

    /* JSON: the uncovered list plus the covered count is every building, per circle. */
    buf_t out = {0};
    cr_assert_eq(coverage_json(cov, c.d, COVERAGE_COMMUNITIES | COVERAGE_GRIDS | COVERAGE_UNCOVERED, 1, &out), 0);
    json_t *j = json_loads(out.data, 0, NULL);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "mode")), "straight");
    size_t nun = json_array_size(json_object_get(j, "uncovered"));
    cr_assert_eq((int64_t)nun + cov->city.covered[1].v[COV_BUILDINGS], c.d->n_buildings);
    json_t *b = json_array_get(json_object_get(j, "communities"), 1);
    cr_assert_str_eq(json_string_value(json_object_get(b, "code")), "B");
    cr_assert_eq(json_is_false(json_object_get(b, "life_circle_complete")), 1);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(b, "missing"), 0)), "culture_10min");
    cr_assert_eq(json_array_size(json_object_get(b, "missing")), 1);
    json_t *city_totals = json_object_get(json_object_get(j, "city"), "totals");
    cr_assert_eq(json_integer_value(json_object_get(city_totals, "households")), households);
    json_decref(j);
    buf_reset(&out);
    cr_assert_eq(coverage_csv(cov, c.d, COVERAGE_COMMUNITIES, -1, &out), 0);
    cr_assert(!strncmp(out.data, "\xEF\xBB\xBF" "code,name,buildings,households", 33), "header: %.60s", out.data);
    cr_assert(strstr(out.data, "\r\nTOTAL,,"), "a TOTAL row");
    cr_assert(strstr(out.data, "\r\nUNASSIGNED,,1,9,"), "the outside building is its own row");
    buf_free(&out);
    coverage_free(cov);
    circles_defs_free(defs);
    circles_data_free(g, c.d);
}

static void road(city_t *c, double x0, double y0, double x1, double y1) {
    double lon0, lat0, lon1, lat1;
    lonlat(c, x0, y0, &lon0, &lat0);
    lonlat(c, x1, y1, &lon1, &lat1);
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(g, 2, 2);
    GEOSCoordSeq_setXY_r(g, cs, 0, lon0, lat0);
    GEOSCoordSeq_setXY_r(g, cs, 1, lon1, lat1);
    GEOSGeometry *l = GEOSGeom_createLineString_r(g, cs);
    cr_assert_eq(circles_data_add_road(g, c->d, l), 0);
    GEOSGeom_destroy_r(g, l);
}

Test(coverage, railway_detour_excludes_a_building_inside_the_straight_circle) {
    city_t c = city_new();
    facility(&c, 1, "clinic", 0, 5);
    road(&c, -2500, 0, 2500, 0);          /* north of the railway */
    road(&c, -2500, -150, 2500, -150);    /* south of it */
    road(&c, 2000, 0, 2000, -150);        /* the only crossing, 2 km east */
    building(&c, 1, 0, -170, 10, 0, NULL);   /* 175 m away in a straight line, across the tracks */
    building(&c, 2, 300, 30, 20, 0, NULL);   /* north side, on the network */
    building(&c, 3, 900, 20, 40, 0, NULL);   /* north side, beyond the budget */
    char err[256] = "";
    cr_assert_eq(circles_data_finish(g, c.d, err, sizeof err), 0);
    circles_defs_t *defs = defs_from("{\"circles\":{\"h\":{\"facility_types\":[\"clinic\"],\"radius_m\":500,\"minutes\":10,"
                                     "\"walk_m_per_min\":70}},\"network_buffer_m\":50}");
    coverage_t *st, *nw;
    cr_assert_eq(coverage_compute(g, c.d, defs, CIRCLES_STRAIGHT, 1, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(coverage_compute(g, c.d, defs, CIRCLES_NETWORK, 1, &nw, err, sizeof err), 0, "%s", err);
    cr_assert_eq(nw->mode, CIRCLES_NETWORK);
    cr_assert_eq(coverage_is_covered(st, 0, 0), 1);
    cr_assert_eq(coverage_is_covered(nw, 0, 0), 0, "the railway forces a 4 km detour");
    cr_assert_eq(coverage_is_covered(st, 1, 0), 1);
    cr_assert_eq(coverage_is_covered(nw, 1, 0), 1);
    cr_assert_eq(coverage_is_covered(st, 2, 0), 0);
    cr_assert_eq(coverage_is_covered(nw, 2, 0), 0, "700 m budget + 50 m buffer stops short of x=900");
    cr_assert_eq(nw->city.covered[0].v[COV_HOUSEHOLDS], 20);
    /* The network circle: reached road (5 + 695 m each way) buffered by 50 m, not the south bank. */
    GEOSGeometry *a = circles_area(g, c.d, &defs->defs[0], -1, CIRCLES_NETWORK, 50, 1, err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    double area;
    GEOSArea_r(g, a, &area);
    double expect = 2 * 695 * 100 + M_PI * 50 * 50;
    cr_assert(fabs(area - expect) / expect < 0.01, "area %.0f vs %.0f", area, expect);
    GEOSGeometry *south = GEOSGeom_createPointFromXY_r(g, c.d->buildings[0].x, c.d->buildings[0].y);
    cr_assert_eq(GEOSIntersects_r(g, a, south), 0);
    GEOSGeom_destroy_r(g, south);
    GEOSGeom_destroy_r(g, a);
    buf_t out = {0};
    cr_assert_eq(circles_geojson(g, c.d, defs, "h", CIRCLES_NETWORK, CIRCLES_PER_FACILITY, &out, err, sizeof err), 0, "%s", err);
    cr_assert(strstr(out.data, "\"mode\":\"network\""));
    cr_assert(strstr(out.data, "\"budget_m\":700"));
    buf_free(&out);
    coverage_free(st);
    coverage_free(nw);
    circles_defs_free(defs);
    circles_data_free(g, c.d);
}

Test(coverage, greedy_gap_filling_known_answer) {
    city_t c = city_new();
    facility(&c, 1, "clinic", 0, 0);
    building(&c, 1, 100, 0, 5, 0, NULL);              /* already covered */
    int64_t fid = 10;
    /* Three uncovered clusters, 3 km apart: 100, 60 and 30 households. */
    for (int i = 0; i < 10; i++) building(&c, fid++, 3000 + i * 20, 0, 10, 1, NULL);
    for (int i = 0; i < 6; i++) building(&c, fid++, 6000, i * 20, 10, 0, NULL);
    for (int i = 0; i < 3; i++) building(&c, fid++, 9000, 9000 + i * 20, 10, 0, NULL);
    area(&c, 1, "G1", 8900, 8900, 9100, 9100);       /* a grid around the third cluster */
    char err[256] = "";
    cr_assert_eq(circles_data_finish(g, c.d, err, sizeof err), 0);
    circles_defs_t *defs = defs_from("{\"circles\":{\"h\":{\"facility_types\":[\"clinic\"],\"radius_m\":500}}}");
    coverage_t *cov;
    cr_assert_eq(coverage_compute(g, c.d, defs, CIRCLES_STRAIGHT, 1, &cov, err, sizeof err), 0);
    coverage_gap_t *picks;
    coverage_counts_t before;
    const char *type = NULL;
    int n;
    cr_assert_eq(coverage_gaps(g, c.d, cov, 0, &type, 2, COVERAGE_CAND_BUILDINGS | COVERAGE_CAND_GRIDS, 0, &before, &picks, &n, err,
                               sizeof err), 0);
    cr_assert_str_eq(type, "clinic");
    cr_assert_eq(before.v[COV_HOUSEHOLDS], 5);
    cr_assert_eq(n, 2);
    cr_assert_eq(picks[0].added.v[COV_HOUSEHOLDS], 100);
    cr_assert_eq(picks[0].added.v[COV_ELDERLY_ALONE], 10);
    cr_assert_eq(picks[1].added.v[COV_HOUSEHOLDS], 60);
    cr_assert_str_eq(picks[0].kind, "building");
    cr_assert_eq(picks[0].fid, 10, "ties go to the lowest fid");
    free(picks);
    cr_assert_eq(coverage_gaps(g, c.d, cov, 0, &type, 5, COVERAGE_CAND_GRIDS, 0, &before, &picks, &n, err, sizeof err), 0);
    cr_assert_eq(n, 1, "one grid candidate covers only the third cluster");
    cr_assert_str_eq(picks[0].grid_code, "G1");
    cr_assert_eq(picks[0].added.v[COV_HOUSEHOLDS], 30);
    buf_t out = {0};
    cr_assert_eq(coverage_gaps_json(cov, 0, type, &before, picks, n, &out), 0);
    json_t *j = json_loads(out.data, 0, NULL);
    cr_assert_not_null(j);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "before"), "households")), 5);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "after"), "households")), 35);
    json_decref(j);
    buf_free(&out);
    free(picks);
    cr_assert_eq(coverage_gaps(g, c.d, cov, 0, &type, 9, COVERAGE_CAND_BUILDINGS, 0, &before, &picks, &n, err, sizeof err), 0);
    cr_assert_eq(n, 3, "stops once everything is covered");
    free(picks);
    coverage_free(cov);
    circles_defs_free(defs);
    circles_data_free(g, c.d);
}

/* ---- Real data: central Helsinki (OSM, ODbL) -------------------------------------------------- */

static json_t *load(const char *path) {
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    cr_assert_not_null(j, "%s: %s", path, je.text);
    return j;
}

/* Buildings (footprints, one household per 100 m² of footprint per level, at least 1), facilities
 * mapped from OSM categories, and roads. */
static circles_data_t *helsinki(int with_roads) {
    circles_data_t *d;
    char err[256] = "";
    cr_assert_eq(circles_data_new(24.944, 60.171, &d, err, sizeof err), 0, "%s", err);
    json_t *fac = load("tests/data/osm_helsinki_center/facilities_points.geojson");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(fac, "features"), i, f) {
        json_t *props = json_object_get(f, "properties"), *coords = json_object_get(json_object_get(f, "geometry"), "coordinates");
        const char *type = circles_osm_type(json_string_value(json_object_get(props, "category")));
        if (!type) continue;
        cr_assert_eq(circles_data_add_facility(d, json_integer_value(json_object_get(props, "osm_id")), type,
                                               json_string_value(json_object_get(props, "name")),
                                               json_number_value(json_array_get(coords, 0)), json_number_value(json_array_get(coords, 1))), 0);
    }
    json_decref(fac);
    json_t *bld = load("tests/data/osm_helsinki_center/buildings.geojson");
    json_array_foreach(json_object_get(bld, "features"), i, f) {
        GEOSGeometry *geom = geo_from_geojson(g, json_object_get(f, "geometry"), err, sizeof err);
        cr_assert_not_null(geom, "%s", err);
        const char *levels = json_string_value(json_object_get(json_object_get(f, "properties"), "building:levels"));
        double area = 0;
        GEOSGeometry *m = srs_transform(g, d->to_metric, geom, NULL, 0);
        GEOSArea_r(g, m, &area);
        GEOSGeom_destroy_r(g, m);
        int64_t hh = (int64_t)(area * (levels ? atoi(levels) : 1) / 100);
        int64_t counts[5] = {hh > 0 ? hh : 1, 2 * (hh > 0 ? hh : 1), 0, 0, 0};
        cr_assert_eq(circles_data_add_building(g, d, (int64_t)i + 1, geom, counts, NULL, NULL), 0);
        GEOSGeom_destroy_r(g, geom);
    }
    json_decref(bld);
    if (with_roads) {
        json_t *rd = load("tests/data/osm_helsinki_center/roads.geojson");
        json_array_foreach(json_object_get(rd, "features"), i, f) {
            GEOSGeometry *geom = geo_from_geojson(g, json_object_get(f, "geometry"), err, sizeof err);
            cr_assert_not_null(geom, "%s", err);
            cr_assert_eq(circles_data_add_road(g, d, geom), 0);
            GEOSGeom_destroy_r(g, geom);
        }
        json_decref(rd);
    }
    cr_assert_eq(circles_data_finish(g, d, err, sizeof err), 0);
    return d;
}

/* Great-circle distance (haversine on the mean Earth radius), independent of PROJ. */
static double haversine(double lon1, double lat1, double lon2, double lat2) {
    double r = 6371008.8, p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180;
    double dp = p2 - p1, dl = (lon2 - lon1) * M_PI / 180;
    double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2 * r * asin(sqrt(a));
}

Test(coverage, helsinki_straight_matches_geodesic_brute_force) {
    circles_data_t *d = helsinki(0);
    cr_assert_eq(d->n_buildings, 449);
    cr_assert_eq(d->epsg, 32635);
    circles_defs_t *defs = circles_defs_default();
    coverage_t *cov;
    char err[256] = "";
    cr_assert_eq(coverage_compute(g, d, defs, CIRCLES_STRAIGHT, 1, &cov, err, sizeof err), 0, "%s", err);
    int checked = 0;
    for (int c = 0; c < defs->n; c++) {
        const circles_def_t *def = &defs->defs[c];
        int64_t households = 0;
        for (int b = 0; b < d->n_buildings; b++) {
            /* "any": the nearest facility of any type; "all": the farthest of each type's nearest. */
            double best = def->match_all ? -INFINITY : INFINITY;
            for (int t = 0; t < def->n_types; t++) {
                double nearest = INFINITY;
                for (int k = 0; k < d->n_facilities; k++)
                    if (!strcmp(def->facility_types[t], d->facilities[k].type))
                        nearest = fmin(nearest, haversine(d->buildings[b].lon, d->buildings[b].lat, d->facilities[k].lon,
                                                          d->facilities[k].lat));
                best = def->match_all ? fmax(best, nearest) : fmin(best, nearest);
            }
            /* UTM scale error here is < 0.1%: skip the few buildings within 1 m of the edge. */
            if (fabs(best - def->radius_m) < 1) continue;
            cr_assert_eq(coverage_is_covered(cov, b, c), best <= def->radius_m, "%s building %d at %.1f m", def->id, b, best);
            households += best <= def->radius_m ? d->buildings[b].households : 0;
            checked++;
        }
        (void)households;
    }
    cr_assert(checked > 400 * defs->n / 2);
    /* The extract has pharmacies and clinics all over the centre: health reaches most households;
     * no fitness or culture site is tagged, so those circles reach nobody. */
    int health = 2, culture = 3;
    cr_assert_str_eq(defs->defs[health].id, "health_10min");
    cr_assert(coverage_share(&cov->city, health) > 0.5, "health share %.3f", coverage_share(&cov->city, health));
    cr_assert_eq(cov->city.covered[culture].v[COV_HOUSEHOLDS], 0);
    cr_assert_eq(cov->city.life_circle, 0);
    coverage_free(cov);
    circles_defs_free(defs);
    circles_data_free(g, d);
}

Test(coverage, helsinki_network_is_within_straight_budget_plus_buffer) {
    circles_data_t *d = helsinki(1);
    char err[256] = "";
    cr_assert_eq(circles_data_network(g, d, err, sizeof err), 0, "%s", err);
    cr_assert(roadnet_edge_count(d->net) > 5000, "edges %d", roadnet_edge_count(d->net));
    circles_defs_t *defs = defs_from("{\"circles\":{\"h\":{\"facility_types\":[\"clinic\",\"pharmacy\"],\"radius_m\":400},"
                                     "\"s\":{\"facility_types\":[\"supermarket\"],\"radius_m\":300}},\"network_buffer_m\":30}");
    coverage_t *st, *nw;
    cr_assert_eq(coverage_compute(g, d, defs, CIRCLES_STRAIGHT, 1, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(coverage_compute(g, d, defs, CIRCLES_NETWORK, 1, &nw, err, sizeof err), 0, "%s", err);
    for (int c = 0; c < 2; c++) {
        double limit = defs->defs[c].radius_m + defs->network_buffer_m;
        int strictly_fewer = 0;
        for (int b = 0; b < d->n_buildings; b++) {
            double best = INFINITY;
            for (int k = 0; k < d->n_facilities; k++)
                if (circles_def_has_type(&defs->defs[c], d->facilities[k].type))
                    best = fmin(best, hypot(d->buildings[b].x - d->facilities[k].x, d->buildings[b].y - d->facilities[k].y));
            if (coverage_is_covered(nw, b, c)) cr_assert_leq(best, limit + 1e-6, "network reach never beats the crow");
            if (best <= defs->defs[c].radius_m && !coverage_is_covered(nw, b, c)) strictly_fewer++;
        }
        cr_assert_gt(nw->city.covered[c].v[COV_BUILDINGS], 0);
        cr_assert_gt(strictly_fewer, 0, "walking along streets reaches less than the straight circle");
        cr_log_info("%s: straight %lld, network %lld buildings; %d inside the radius but not reached on foot",
                    defs->defs[c].id, (long long)st->city.covered[c].v[COV_BUILDINGS],
                    (long long)nw->city.covered[c].v[COV_BUILDINGS], strictly_fewer);
    }
    coverage_free(st);
    coverage_free(nw);
    circles_defs_free(defs);
    circles_data_free(g, d);
}

/* ---- From the database, and recomputation after edits ------------------------------------------ */
#include "store.h"
#include <unistd.h>

static void exec(store_t *st, const char *sql) {
    char err[512] = "";
    cr_assert_eq(store_exec(st, sql, err, sizeof err), 0, "%s: %s", sql, err);
}

Test(coverage, loads_the_store_and_follows_edits) {
    char path[] = "/tmp/gp_cov_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    unlink(path);
    store_t *st;
    char err[512] = "";
    cr_assert_eq(store_open(path, STORE_CREATE, &st, err, sizeof err), 0, "%s", err);
    exec(st, "INSERT INTO communities(code, name, households, geom) VALUES ('110101001001', '东华门', 30,"
             " CastToMultiPolygon(GeomFromText('POLYGON((116.39 39.89, 116.41 39.89, 116.41 39.91, 116.39 39.91, 116.39 39.89))', 4326)));"
             "INSERT INTO facilities(type, name, geom) VALUES ('clinic', '社区卫生站', MakePoint(116.40, 39.90, 4326));"
             "INSERT INTO buildings(households, population, elderly_alone, community_code, geom) VALUES"
             " (10, 25, 2, '110101001001', MakePoint(116.401, 39.901, 4326)),"   /* ~140 m away */
             " (20, 50, 1, NULL, CastToMultiPolygon(GeomFromText('POLYGON((116.4075 39.9, 116.4085 39.9, 116.4085 39.9008,"
             " 116.4075 39.9008, 116.4075 39.9))', 4326)));"                       /* ~680 m away, placed by point-in-polygon */
             "INSERT INTO meta(key, value) VALUES ('data_version', '1')"
             " ON CONFLICT(key) DO UPDATE SET value = excluded.value;");
    char stamp1[64], stamp2[64];
    cr_assert_eq(circles_store_stamp(st, stamp1, sizeof stamp1), 0);
    cr_assert_str_eq(stamp1, "1:0");
    GEOSContextHandle_t gg = g;
    circles_data_t *d;
    cr_assert_eq(circles_data_load(gg, st, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d->n_buildings, 2);
    cr_assert_eq(d->n_facilities, 1);
    cr_assert_eq(d->buildings[1].community, 0, "the footprint is inside the community");
    circles_defs_t *defs = circles_defs_default();
    int health = 2;
    coverage_t *cov;
    cr_assert_eq(coverage_compute(gg, d, defs, CIRCLES_STRAIGHT, 1, &cov, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cov->communities[0].covered[health].v[COV_HOUSEHOLDS], 10);
    cr_assert_eq(cov->communities[0].total.v[COV_HOUSEHOLDS], 30);
    coverage_free(cov);
    circles_data_free(gg, d);
    /* Move the clinic east: both buildings now lie within 500 m; the stamp changes with the import. */
    exec(st, "UPDATE facilities SET geom = MakePoint(116.405, 39.9003, 4326);"
             "UPDATE meta SET value = '2' WHERE key = 'data_version'");
    cr_assert_eq(circles_store_stamp(st, stamp2, sizeof stamp2), 0);
    cr_assert_str_neq(stamp1, stamp2);
    cr_assert_eq(circles_data_load(gg, st, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(coverage_compute(gg, d, defs, CIRCLES_STRAIGHT, 1, &cov, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cov->communities[0].covered[health].v[COV_HOUSEHOLDS], 30);
    cr_assert_eq(cov->communities[0].covered[health].v[COV_ELDERLY_ALONE], 3);
    coverage_free(cov);
    circles_data_free(gg, d);
    circles_defs_free(defs);
    store_close(st);
    unlink(path);
    char side[64];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

Test(coverage, overrides_change_the_rules) {
    circles_defs_t *defs = circles_defs_default();
    char err[256] = "";
    cr_assert_eq(circles_defs_set(defs, "health_10min.radius_m=800,network_buffer_m=30,five_min.required_for_life_circle=true,"
                                        "culture_10min.facility_types=culture|school", err, sizeof err), 0, "%s", err);
    cr_assert_float_eq(circles_defs_find(defs, "health_10min")->radius_m, 800, 1e-12);
    cr_assert_float_eq(defs->network_buffer_m, 30, 1e-12);
    cr_assert(circles_defs_find(defs, "five_min")->required);
    cr_assert(circles_def_has_type(circles_defs_find(defs, "culture_10min"), "school"));
    cr_assert_eq(circles_defs_set(defs, "nope.radius_m=3", err, sizeof err), GP_ENOTFOUND);
    cr_assert_eq(circles_defs_set(defs, "health_10min.radius_m=-3", err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "health_10min.radius_m"), "got: %s", err);
    circles_defs_free(defs);
}

Test(coverage, match_all_needs_every_type_and_gaps_pick_the_missing_one) {
    city_t c = city_new();
    facility(&c, 1, "supermarket", 0, 0);
    facility(&c, 2, "pharmacy", 400, 0);
    building(&c, 1, 200, 0, 10, 0, NULL);     /* 200 m from both: inside */
    building(&c, 2, -250, 0, 20, 0, NULL);    /* supermarket 250 m, pharmacy 650 m: only one */
    building(&c, 3, -300, 100, 30, 0, NULL);  /* same side, 30 households */
    char err[256] = "";
    cr_assert_eq(circles_data_finish(g, c.d, err, sizeof err), 0);
    circles_defs_t *defs = defs_from("{\"circles\":{\"all\":{\"facility_types\":[\"supermarket\",\"pharmacy\"],\"radius_m\":500},"
                                     "\"any\":{\"facility_types\":[\"supermarket\",\"pharmacy\"],\"radius_m\":500,\"match\":\"any\"}}}");
    cr_assert(defs->defs[0].match_all && !defs->defs[1].match_all);
    coverage_t *cov;
    cr_assert_eq(coverage_compute(g, c.d, defs, CIRCLES_STRAIGHT, 1, &cov, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cov->city.covered[0].v[COV_HOUSEHOLDS], 10, "all: only the building between both");
    cr_assert_eq(cov->city.covered[1].v[COV_HOUSEHOLDS], 60, "any: everyone");
    /* The "all" circle is the lens where the two 500 m discs (400 m apart) overlap. */
    GEOSGeometry *a = circles_area(g, c.d, &defs->defs[0], -1, CIRCLES_STRAIGHT, 50, 1, err, sizeof err);
    double area, r = 500, dist = 400;
    GEOSArea_r(g, a, &area);
    double lens = 2 * r * r * acos(dist / (2 * r)) - dist / 2 * sqrt(4 * r * r - dist * dist);
    cr_assert(fabs(area - lens) / lens < 0.01, "area %.0f vs lens %.0f", area, lens);
    GEOSGeom_destroy_r(g, a);
    /* Gaps: the type most households lack is the pharmacy; one site among the west buildings adds 50. */
    coverage_gap_t *picks;
    coverage_counts_t before;
    const char *type = NULL;
    int n;
    cr_assert_eq(coverage_gaps(g, c.d, cov, 0, &type, 3, COVERAGE_CAND_BUILDINGS, 0, &before, &picks, &n, err, sizeof err), 0);
    cr_assert_str_eq(type, "pharmacy");
    cr_assert_eq(before.v[COV_HOUSEHOLDS], 10);
    cr_assert_eq(n, 1);
    cr_assert_eq(picks[0].added.v[COV_HOUSEHOLDS], 50);
    free(picks);
    type = "school";
    cr_assert_eq(coverage_gaps(g, c.d, cov, 0, &type, 3, COVERAGE_CAND_BUILDINGS, 0, &before, &picks, &n, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "no facility type 'school'"), "got: %s", err);
    coverage_free(cov);
    circles_defs_free(defs);
    circles_data_free(g, c.d);
}
