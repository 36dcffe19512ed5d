/* test_circles.c — circle definitions, metric correctness (Beijing and Helsinki), circle geometries. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "circles.h"
#include "coverage.h"
#include "err.h"

static GEOSContextHandle_t g;
static void setup(void) { g = geo_ctx_new(); }
static void teardown(void) { geo_ctx_free(g); }
TestSuite(circles, .init = setup, .fini = teardown);

/* The profile section as the plan helper writes it (numbers bare or with their source). */
static const char profile_json[] =
    "{\"name\":\"test\",\"circles\":{"
    "\"life_15min\":{\"label\":\"15分钟生活圈\",\"facility_types\":[\"community_service\",\"supermarket\"],"
    "\"radius_m\":{\"value\":1000,\"source\":\"GB 50180-2018\"},\"minutes\":15,\"walk_m_per_min\":{\"value\":70,\"source\":\"practice\"},"
    "\"required_for_life_circle\":true},"
    "\"health_10min\":{\"label\":\"10分钟健康服务圈\",\"facility_types\":[\"clinic\"],\"radius_m\":500,\"minutes\":10,"
    "\"walk_m_per_min\":null,\"required_for_life_circle\":true},"
    "\"fire_station\":{\"label\":\"微型消防站\",\"facility_types\":[\"fire_station\"],\"radius_m\":{\"value\":1000},"
    "\"minutes\":3,\"walk_m_per_min\":null,\"required_for_life_circle\":false}},"
    "\"network_buffer_m\":{\"value\":40,\"source\":\"x\"}}";

static circles_defs_t *parse(const char *text, int expect_rc, char *err, size_t errlen) {
    json_t *j = json_loads(text, 0, NULL);
    cr_assert_not_null(j);
    circles_defs_t *defs = NULL;
    int rc = circles_defs_parse(j, &defs, err, errlen);
    json_decref(j);
    cr_assert_eq(rc, expect_rc, "rc %d: %s", rc, err);
    return defs;
}

Test(circles, profile_section_parses_with_sources) {
    char err[256] = "";
    circles_defs_t *defs = parse(profile_json, 0, err, sizeof err);
    cr_assert_eq(defs->n, 3);
    cr_assert_float_eq(defs->network_buffer_m, 40, 1e-12);
    const circles_def_t *life = circles_defs_find(defs, "life_15min");
    cr_assert_not_null(life);
    cr_assert_str_eq(life->label, "15分钟生活圈");
    cr_assert_float_eq(life->radius_m, 1000, 1e-12);
    cr_assert_float_eq(circles_def_budget_m(life), 15 * 70, 1e-12);
    cr_assert(life->required);
    cr_assert(circles_def_has_type(life, "supermarket"));
    cr_assert(!circles_def_has_type(life, "clinic"));
    const circles_def_t *health = circles_defs_find(defs, "health_10min");
    cr_assert_float_eq(circles_def_budget_m(health), 500, 1e-12, "no speed: the budget is the radius");
    cr_assert(!circles_defs_find(defs, "fire_station")->required);
    cr_assert_null(circles_defs_find(defs, "nope"));
    circles_defs_free(defs);
}

Test(circles, bad_definitions_are_named) {
    char err[256];
    cr_assert_null(parse("{\"circles\":{\"x\":{\"facility_types\":[],\"radius_m\":300}}}", GP_EINVAL, err, sizeof err));
    cr_assert(strstr(err, "circles.x.facility_types"), "got: %s", err);
    cr_assert_null(parse("{\"circles\":{\"x\":{\"facility_types\":[\"clinic\"],\"radius_m\":-3}}}", GP_EINVAL, err, sizeof err));
    cr_assert(strstr(err, "circles.x.radius_m"), "got: %s", err);
    cr_assert_null(parse("{\"circles\":{\"x\":{\"facility_types\":[\"clinic\"],\"radius_m\":{\"value\":\"far\"}}}}", GP_EINVAL, err,
                         sizeof err));
    cr_assert(strstr(err, "circles.x.radius_m"), "got: %s", err);
    cr_assert_null(parse("{\"circles\":{\"x\":{\"facility_types\":[\"clinic\"],\"radius_m\":300,\"walk_m_per_min\":\"fast\"}}}",
                         GP_EINVAL, err, sizeof err));
    cr_assert(strstr(err, "walk_m_per_min"), "got: %s", err);
}

Test(circles, defaults_follow_gb50180) {
    circles_defs_t *defs = circles_defs_default();
    cr_assert_not_null(defs);
    cr_assert_eq(defs->n, 7);
    const char *ids[] = {"life_15min", "daily_10min", "health_10min", "culture_10min", "fitness_10min", "five_min", "fire_station"};
    for (int i = 0; i < 7; i++) cr_assert_not_null(circles_defs_find(defs, ids[i]), "%s", ids[i]);
    cr_assert_float_eq(circles_defs_find(defs, "life_15min")->radius_m, 1000, 1e-12);
    cr_assert_float_eq(circles_defs_find(defs, "daily_10min")->radius_m, 500, 1e-12);
    cr_assert_float_eq(circles_defs_find(defs, "five_min")->radius_m, 300, 1e-12);
    cr_assert_float_eq(circles_defs_find(defs, "fire_station")->minutes, 3, 1e-12);
    cr_assert_float_eq(defs->network_buffer_m, 50, 1e-12);
    circles_defs_free(defs);
}

/* Puts a building dx, dy metres from (x0, y0) in d's metric CRS, converting back to lon/lat first so
 * the test exercises the same path as real data. */
static void add_building_at(circles_data_t *d, int64_t fid, double x0, double y0, double dx, double dy, int64_t households,
                            const char *community) {
    double lon = x0 + dx, lat = y0 + dy;
    cr_assert_eq(srs_xy(d->to_lonlat, &lon, &lat), 0);
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(g, lon, lat);
    int64_t counts[5] = {households, households * 3, households / 10, 0, 1};
    cr_assert_eq(circles_data_add_building(g, d, fid, pt, counts, community, NULL), 0);
    GEOSGeom_destroy_r(g, pt);
}

static circles_defs_t *one_circle(const char *type, double radius) {
    char text[512];
    snprintf(text, sizeof text, "{\"circles\":{\"c\":{\"facility_types\":[\"%s\"],\"radius_m\":%g,\"required_for_life_circle\":true}}}",
             type, radius);
    json_t *j = json_loads(text, 0, NULL);
    circles_defs_t *defs = NULL;
    cr_assert_eq(circles_defs_parse(j, &defs, NULL, 0), 0);
    json_decref(j);
    return defs;
}

Test(circles, known_answer_inside_and_outside_the_radius) {
    circles_data_t *d;
    char err[256] = "";
    cr_assert_eq(circles_data_new(116.40, 39.90, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d->epsg, 32650);
    cr_assert_eq(circles_data_add_facility(d, 7, "clinic", "诊所", 116.40, 39.90), 0);
    double x0 = d->facilities[0].x, y0 = d->facilities[0].y;
    add_building_at(d, 1, x0, y0, 499, 0, 10, NULL);    /* inside 500 m */
    add_building_at(d, 2, x0, y0, 0, -499.5, 20, NULL);  /* inside */
    add_building_at(d, 3, x0, y0, 354, 354, 40, NULL);   /* 500.6 m: outside */
    add_building_at(d, 4, x0, y0, -501, 0, 80, NULL);    /* outside */
    cr_assert_eq(circles_data_finish(g, d, err, sizeof err), 0);
    circles_defs_t *defs = one_circle("clinic", 500);
    coverage_t *cov;
    cr_assert_eq(coverage_compute(g, d, defs, CIRCLES_STRAIGHT, 1.0, &cov, err, sizeof err), 0, "%s", err);
    cr_assert_eq(coverage_is_covered(cov, 0, 0), 1);
    cr_assert_eq(coverage_is_covered(cov, 1, 0), 1);
    cr_assert_eq(coverage_is_covered(cov, 2, 0), 0);
    cr_assert_eq(coverage_is_covered(cov, 3, 0), 0);
    cr_assert_eq(cov->city.covered[0].v[COV_HOUSEHOLDS], 30);
    cr_assert_eq(cov->city.total.v[COV_HOUSEHOLDS], 150);
    cr_assert_eq(cov->city.covered[0].v[COV_POPULATION], 90);
    cr_assert_float_eq(coverage_share(&cov->city, 0), 0.2, 1e-12);
    /* The circle itself: 500 m radius, area π r² within the 16-segment polygon's 0.7%. */
    GEOSGeometry *a = circles_area(g, d, &defs->defs[0], 0, CIRCLES_STRAIGHT, 50, 1, err, sizeof err);
    double area;
    GEOSArea_r(g, a, &area);
    cr_assert(fabs(area - M_PI * 500 * 500) / (M_PI * 500 * 500) < 0.007, "area %.0f", area);
    GEOSGeom_destroy_r(g, a);
    coverage_free(cov);
    circles_defs_free(defs);
    circles_data_free(g, d);
}

Test(circles, metres_not_degrees_at_helsinki) {
    /* At 60.17°N one degree of longitude is ~55.6 km, of latitude ~111.4 km. */
    circles_data_t *d;
    char err[256] = "";
    cr_assert_eq(circles_data_new(24.94, 60.17, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d->epsg, 32635);
    cr_assert_eq(circles_data_add_facility(d, 1, "clinic", "", 24.94, 60.17), 0);
    int64_t c[5] = {1, 1, 0, 0, 0};
    /* 0.0085° east ≈ 472 m (inside); 0.0095° ≈ 528 m (outside); 0.0044° north ≈ 490 m (inside). A
     * computation in degrees or Web Mercator would get at least one of these wrong. */
    double pts[][2] = {{24.9485, 60.17}, {24.9495, 60.17}, {24.94, 60.1744}, {24.94, 60.1746}};
    for (int i = 0; i < 4; i++) {
        GEOSGeometry *p = GEOSGeom_createPointFromXY_r(g, pts[i][0], pts[i][1]);
        cr_assert_eq(circles_data_add_building(g, d, i + 1, p, c, NULL, NULL), 0);
        GEOSGeom_destroy_r(g, p);
    }
    cr_assert_eq(circles_data_finish(g, d, err, sizeof err), 0);
    circles_defs_t *defs = one_circle("clinic", 500);
    coverage_t *cov;
    cr_assert_eq(coverage_compute(g, d, defs, CIRCLES_STRAIGHT, 1.0, &cov, err, sizeof err), 0, "%s", err);
    int expect[] = {1, 0, 1, 0};
    for (int i = 0; i < 4; i++) cr_assert_eq(coverage_is_covered(cov, i, 0), expect[i], "building %d", i + 1);
    /* The lon/lat circle is twice as wide in degrees as it is tall: 2×500 m / 55.6 km vs / 111.4 km. */
    GEOSGeometry *a = circles_area(g, d, &defs->defs[0], -1, CIRCLES_STRAIGHT, 50, 0, err, sizeof err);
    double minx, miny, maxx, maxy;
    cr_assert_eq(geo_bounds(g, a, &minx, &miny, &maxx, &maxy), 0);
    cr_assert_float_eq(maxx - minx, 1000.0 / 55600, 0.0002, "width %.5f°", maxx - minx);
    cr_assert_float_eq(maxy - miny, 1000.0 / 111400, 0.0001, "height %.5f°", maxy - miny);
    cr_assert(minx < 24.94 && maxx > 24.94 && miny < 60.17 && maxy > 60.17);
    GEOSGeom_destroy_r(g, a);
    coverage_free(cov);
    circles_defs_free(defs);
    circles_data_free(g, d);
}

Test(circles, dissolved_per_type_and_per_community) {
    circles_data_t *d;
    char err[256] = "";
    cr_assert_eq(circles_data_new(116.40, 39.90, &d, err, sizeof err), 0);
    cr_assert_eq(circles_data_add_facility(d, 1, "culture", "A", 116.40, 39.90), 0);
    cr_assert_eq(circles_data_add_facility(d, 2, "culture", "B", 116.43, 39.90), 0);     /* ~2.56 km east */
    cr_assert_eq(circles_data_add_facility(d, 3, "culture", "C", 116.4035, 39.90), 0);   /* ~300 m from A */
    cr_assert_eq(circles_data_add_facility(d, 4, "clinic", "D", 116.41, 39.91), 0);
    /* A community square of 0.004° around A. */
    json_t *sq = json_loads("{\"type\":\"Polygon\",\"coordinates\":[[[116.398,39.898],[116.402,39.898],[116.402,39.902],"
                            "[116.398,39.902],[116.398,39.898]]]}", 0, NULL);
    GEOSGeometry *geom = geo_from_geojson(g, sq, err, sizeof err);
    json_decref(sq);
    cr_assert_eq(circles_data_add_area(g, d, 0, "110101001001", "东华门", geom, err, sizeof err), 0, "%s", err);
    GEOSGeom_destroy_r(g, geom);
    cr_assert_eq(circles_data_finish(g, d, err, sizeof err), 0);
    circles_defs_t *defs = one_circle("culture", 500);
    GEOSGeometry *a = circles_area(g, d, &defs->defs[0], -1, CIRCLES_STRAIGHT, 50, 1, err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    cr_assert_eq(GEOSGetNumGeometries_r(g, a), 2, "A and C merge, B stays apart");
    double area;
    GEOSArea_r(g, a, &area);
    /* Two discs plus one, minus the lens where A's and C's overlap (centres d ≈ 299 m apart). */
    double dist = hypot(d->facilities[2].x - d->facilities[0].x, d->facilities[2].y - d->facilities[0].y), r = 500;
    double lens = 2 * r * r * acos(dist / (2 * r)) - dist / 2 * sqrt(4 * r * r - dist * dist);
    double expect = 3 * M_PI * r * r - lens;
    cr_assert(fabs(area - expect) / expect < 0.007, "area %.0f vs %.0f", area, expect);
    GEOSGeom_destroy_r(g, a);

    for (int per = 0; per < 3; per++) {
        buf_t out = {0};
        cr_assert_eq(circles_geojson(g, d, defs, NULL, CIRCLES_STRAIGHT, per, &out, err, sizeof err), 0, "%s", err);
        json_t *fc = json_loads(out.data, 0, NULL);
        cr_assert_not_null(fc, "GeoJSON parses: %.200s", out.data);
        cr_assert_str_eq(json_string_value(json_object_get(fc, "mode")), "straight");
        json_t *features = json_object_get(fc, "features");
        size_t expect = per == CIRCLES_PER_FACILITY ? 3 : 1;
        cr_assert_eq(json_array_size(features), expect, "per %d: %zu features", per, json_array_size(features));
        json_t *props = json_object_get(json_array_get(features, 0), "properties");
        cr_assert_str_eq(json_string_value(json_object_get(props, "circle")), "c");
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(features, 0), "geometry"), "type")),
                         "MultiPolygon");
        if (per == CIRCLES_PER_COMMUNITY) {
            cr_assert_str_eq(json_string_value(json_object_get(props, "community_code")), "110101001001");
            /* The community (≈340 m × 444 m) lies wholly inside A's 500 m circle merged with C's. */
            cr_assert_float_eq(json_number_value(json_object_get(props, "community_share")), 1.0, 1e-3);
        }
        json_decref(fc);
        buf_free(&out);
    }
    buf_t out = {0};
    cr_assert_eq(circles_geojson(g, d, defs, "zzz", CIRCLES_STRAIGHT, 0, &out, err, sizeof err), GP_ENOTFOUND);
    cr_assert_eq(circles_geojson(g, d, defs, NULL, CIRCLES_NETWORK, 1, &out, err, sizeof err), GP_ENOTFOUND);
    cr_assert(strstr(err, "no road layer"), "got: %s", err);
    buf_free(&out);
    circles_defs_free(defs);
    circles_data_free(g, d);
}

Test(circles, osm_categories_map_to_facility_types) {
    cr_assert_str_eq(circles_osm_type("amenity=school"), "school");
    cr_assert_str_eq(circles_osm_type("shop=convenience"), "supermarket");
    cr_assert_str_eq(circles_osm_type("amenity=doctors"), "clinic");
    cr_assert_str_eq(circles_osm_type("amenity=fire_station"), "fire_station");
    cr_assert_null(circles_osm_type("healthcare=blood_donation"));
    cr_assert_null(circles_osm_type(NULL));
}

Test(circles, geojson_files_are_read_feature_by_feature) {
    /* Braces and brackets inside strings, a nested "features" key before the real one, and the
     * real array last: the slicer must find exactly the two top-level features. */
    const char *fac = "{\"name\":\"x\",\"meta\":{\"features\":[{\"bogus\":1}]},\"type\":\"FeatureCollection\",\"features\":["
                      "{\"type\":\"Feature\",\"properties\":{\"type\":\"clinic\",\"name\":\"a}]\\\"{[\"},"
                      "\"geometry\":{\"type\":\"Point\",\"coordinates\":[116.4,39.9]}},\n"
                      "{\"type\":\"Feature\",\"properties\":{\"category\":\"amenity=school\",\"osm_id\":77},"
                      "\"geometry\":{\"type\":\"Point\",\"coordinates\":[116.41,39.9]}},"
                      "{\"type\":\"Feature\",\"properties\":{\"category\":\"shop=shoes\"},"
                      "\"geometry\":{\"type\":\"Point\",\"coordinates\":[116.42,39.9]}}]}";
    char path[] = "/tmp/gp_circles_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, fac, strlen(fac)), (ssize_t)strlen(fac));
    close(fd);
    const char *paths[CIRCLES_N_LAYERS] = {path, NULL, NULL, NULL, NULL};
    circles_data_t *d = NULL;
    int skipped = -1;
    char err[256] = "";
    cr_assert_eq(circles_data_load_geojson(g, paths, &d, &skipped, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d->n_facilities, 2);
    cr_assert_eq(skipped, 1, "shop=shoes has no facility type");
    cr_assert_str_eq(d->facilities[0].name, "a}]\"{[");
    cr_assert_str_eq(d->facilities[1].type, "school");
    cr_assert_eq(d->facilities[1].fid, 77);
    circles_data_free(g, d);
    FILE *f = fopen(path, "w");
    fputs("{\"type\":\"FeatureCollection\",\"feat\":[]}", f);
    fclose(f);
    cr_assert_eq(circles_data_load_geojson(g, paths, &d, &skipped, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "no \"features\" array"), "got: %s", err);
    unlink(path);
}
