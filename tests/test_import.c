/* test_import.c — GeoJSON import: mapping, derivation, CRS, repair, community assignment, and every
 * kind of bad input rejected with a line naming file and feature while the database stays unchanged. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "err.h"
#include "import.h"
#include "srs.h"
#include "store.h"
#include "store_snapshot.h"

static char dir[64], db[96];
static store_t *st;
static char err[1024];
static char *report;
static size_t report_len;

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/gp_test_import_%d", getpid());
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(db, sizeof db, "%s/t.sqlite", dir);
    cr_assert_eq(store_open(db, STORE_CREATE, &st, err, sizeof err), 0, "%s", err);
}
static void teardown(void) {
    store_close(st);
    free(report);
    report = NULL;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
}
TestSuite(import, .init = setup, .fini = teardown);

static const char *write_file(const char *name, const char *text) {
    static char path[8][160];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 160, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* Runs an import with the problem lines captured in `report`. */
static int run(const char *file, import_opts_t o, import_result_t *r) {
    free(report);
    report = NULL;
    FILE *rep = open_memstream(&report, &report_len);
    int rc = import_geojson(st, file, &o, r, rep, err, sizeof err);
    fclose(rep);
    return rc;
}

static const char communities_fc[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"code\":\"110105003001\",\"name\":\"甲社区\",\"street_code\":\"110105003\",\"households\":10,\"population\":20},"
    " \"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[116.40,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.91],[116.40,39.90]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"code\":\"110105003002\",\"name\":\"乙社区\",\"street_code\":\"110105003\",\"households\":\"7\",\"population\":9},"
    " \"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[116.41,39.90],[116.42,39.90],[116.42,39.91],[116.41,39.91],[116.41,39.90]]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"code\":\"110105003003\",\"name\":\"丙社区\",\"households\":5},"
    " \"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[116.42,39.90],[116.43,39.90],[116.43,39.91],[116.42,39.91],[116.42,39.90]]]}}]}";

static const char buildings_fc[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"id\":\"b1\",\"properties\":{\"households\":30,\"population\":80,\"elderly_alone\":2},"
    " \"geometry\":{\"type\":\"Point\",\"coordinates\":[116.401,39.901]}},"
    "{\"type\":\"Feature\",\"id\":\"b2\",\"properties\":{\"households\":12,\"population\":0},"
    " \"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[116.4050,39.9050],[116.4052,39.9050],[116.4052,39.9052],[116.4050,39.9052],[116.4050,39.9050]]]}},"
    "{\"type\":\"Feature\",\"id\":\"b3\",\"properties\":{\"households\":40,\"population\":100},"
    " \"geometry\":{\"type\":\"Point\",\"coordinates\":[116.415,39.905]}},"
    "{\"type\":\"Feature\",\"id\":\"b4\",\"properties\":{\"households\":1},"
    " \"geometry\":{\"type\":\"Point\",\"coordinates\":[117.0,40.5]}}]}";

static int64_t q_int(const char *sql) {
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(st->db));
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
}
static double q_double(const char *sql) {
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(st->db));
    double v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_double(s, 0) : NAN;
    sqlite3_finalize(s);
    return v;
}

Test(import, communities_then_buildings_assign_codes_and_totals) {
    import_result_t r;
    cr_assert_eq(run(write_file("c.geojson", communities_fc), (import_opts_t){.layer = "communities"}, &r), 0, "%s", err);
    cr_assert_eq(r.inserted, 3);
    cr_assert_eq(r.households, 22);
    cr_assert_eq(q_int("SELECT households FROM communities WHERE code = '110105003002'"), 7, "a numeric string is accepted");
    cr_assert_eq(q_int("SELECT count(*) FROM communities WHERE GeometryType(geom) = 'MULTIPOLYGON'"), 3);
    cr_assert_eq(run(write_file("b.geojson", buildings_fc), (import_opts_t){.layer = "buildings"}, &r), 0, "%s", err);
    cr_assert_eq(r.inserted, 4);
    cr_assert_eq(r.buildings_assigned, 3);
    cr_assert_eq(r.buildings_outside, 1);
    cr_assert_eq(q_int("SELECT count(*) FROM buildings WHERE community_code = '110105003001'"), 2, "point and footprint");
    cr_assert_eq(q_int("SELECT count(*) FROM buildings WHERE community_code IS NULL AND ext_id = 'b4'"), 1);
    cr_assert_eq(q_int("SELECT households FROM communities WHERE code = '110105003001'"), 42);
    cr_assert_eq(q_int("SELECT population FROM communities WHERE code = '110105003001'"), 80);
    cr_assert_eq(q_int("SELECT households FROM communities WHERE code = '110105003002'"), 40);
    cr_assert_eq(q_int("SELECT households FROM communities WHERE code = '110105003003'"), 5, "no buildings: kept");
    cr_assert_eq(r.communities_changed, 2);
    cr_assert_eq(q_int("SELECT elderly_alone FROM buildings WHERE ext_id = 'b1'"), 2);
    cr_assert_eq(q_int("SELECT GeometryType(geom) = 'MULTIPOLYGON' FROM buildings WHERE ext_id = 'b2'"), 1);
    cr_assert_eq(q_int("SELECT value FROM meta WHERE key = 'data_version'"), 2);
    cr_assert_eq(store_count(st, "changes"), 0, "bulk import is not in the change log");
}

Test(import, mapping_derivation_and_replace) {
    const char *f = write_file("m.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"NID\":35,\"community\":\"DOUGLAS\",\"POP2010\":18238},"
        " \"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}");
    import_result_t r;
    import_opts_t o = {.layer = "communities", .map = "code=NID,name=community,population=POP2010", .households_from_population = 2.5};
    cr_assert_eq(run(f, o, &r), 0, "%s", err);
    cr_assert_eq(q_int("SELECT households FROM communities WHERE code = '35' AND name = 'DOUGLAS'"), 7295);
    cr_assert_eq(r.estimated, 1);
    cr_assert_neq(run(f, o, &r), 0, "same code again without --replace");
    cr_assert(strstr(report, "code '35' is already in the database"), "%s", report);
    o.replace = 1;
    cr_assert_eq(run(f, o, &r), 0, "%s", err);
    cr_assert_eq(store_count(st, "communities"), 1);
    o.map = "cod=NID";
    cr_assert_eq(run(f, o, &r), GP_EINVAL);
    cr_assert(strstr(err, "no column 'cod'"), "%s", err);
}

Test(import, estimate_households_from_footprint_area_in_utm) {
    /* A 0.001 x 0.001 degree square at 116E 40N is about 85.3 m x 111.0 m = 9470 m2 (UTM 50N). */
    const char *f = write_file("e.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"@id\":1,\"building:levels\":\"3\"},"
        " \"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[116,40],[116.001,40],[116.001,40.001],[116,40.001],[116,40]]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"@id\":2,\"building:levels\":\"2;3\"},"
        " \"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[116,40],[116.00001,40],[116.00001,40.00001],[116,40.00001],[116,40]]]}}]}");
    import_result_t r;
    cr_assert_eq(run(f, (import_opts_t){.layer = "buildings", .estimate_households_m2 = 100}, &r), 0, "%s\n%s", err, report);
    double area = q_double("SELECT ST_Area(Transform(geom, 32650)) FROM buildings WHERE ext_id = '1'");
    int64_t expect = llround(area * 3 / 100);
    cr_assert(expect > 270 && expect < 290, "area %f", area);
    cr_assert_eq(q_int("SELECT households FROM buildings WHERE ext_id = '1'"), expect);
    cr_assert_eq(q_int("SELECT floors FROM buildings WHERE ext_id = '1'"), 3);
    cr_assert_eq(q_int("SELECT households FROM buildings WHERE ext_id = '2'"), 1, "tiny footprint: at least one household");
    cr_assert_eq(q_int("SELECT floors IS NULL FROM buildings WHERE ext_id = '2'"), 1, "OSM '2;3' is unknown, not an error");
}

/* Writes a one-feature file whose coordinates are (lon, lat) projected to crs. */
static void check_projected(const char *crs, int in_file) {
    char why[256];
    srs_t *to = srs_new("EPSG:4326", crs, why, sizeof why);
    cr_assert(to, "%s", why);
    double x = 114.30, y = 30.60;
    cr_assert_eq(srs_xy(to, &x, &y), 0);
    srs_free(to);
    char text[512];
    snprintf(text, sizeof text,
             "{\"type\":\"FeatureCollection\",%s\"features\":[{\"type\":\"Feature\",\"properties\":{\"type\":\"school\"},"
             "\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.4f,%.4f]}}]}",
             in_file ? "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4547\"}}," : "", x, y);
    import_result_t r;
    cr_assert_eq(run(write_file("p.geojson", text), (import_opts_t){.layer = "facilities", .crs = in_file ? NULL : crs, .replace = 1}, &r),
                 0, "%s: %s", crs, err);
    cr_assert_float_eq(q_double("SELECT X(geom) FROM facilities"), 114.30, 1e-6, "%s", crs);
    cr_assert_float_eq(q_double("SELECT Y(geom) FROM facilities"), 30.60, 1e-6, "%s", crs);
}

Test(import, reprojects_gauss_kruger_utm_and_mercator_in_gis_axis_order) {
    check_projected("EPSG:4547", 1);   /* CGCS2000 3-degree GK CM 114E, from the file's crs member */
    check_projected("EPSG:4547", 0);
    check_projected("EPSG:4513", 0);   /* zone 25 with zone prefix in the easting */
    check_projected("EPSG:32650", 0);
    check_projected("EPSG:3857", 0);
    /* EPSG:4490 is lat/lon in its definition but GeoJSON is lon/lat: no swap. */
    const char *f = write_file("g.geojson",
        "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4490\"}},\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"type\":\"clinic\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[114.3,30.6]}}]}");
    import_result_t r;
    cr_assert_eq(run(f, (import_opts_t){.layer = "facilities", .replace = 1}, &r), 0, "%s", err);
    cr_assert_float_eq(q_double("SELECT X(geom) FROM facilities"), 114.3, 1e-9);
}

Test(import, self_intersection_is_repaired_with_a_note_or_rejected_by_flag) {
    const char *f = write_file("bow.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"code\":\"X1\",\"households\":3},"
        "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}}]}");
    import_result_t r;
    char *before = store_snapshot(st);
    cr_assert_eq(run(f, (import_opts_t){.layer = "communities", .reject_invalid = 1}, &r), GP_EINVAL);
    cr_assert(strstr(report, "bow.geojson: feature 1 (id 'X1'): invalid geometry: Self-intersection at 1 1"), "%s", report);
    char *after = store_snapshot(st);
    cr_assert_str_eq(before, after);
    cr_assert_eq(run(f, (import_opts_t){.layer = "communities"}, &r), 0, "%s", err);
    cr_assert_eq(r.repaired, 1);
    cr_assert(strstr(report, "feature 1 (id 'X1'): note: repaired invalid geometry (Self-intersection at 1 1)"), "%s", report);
    cr_assert_float_eq(q_double("SELECT ST_Area(geom) FROM communities"), 2.0, 1e-9, "both triangles kept");
    cr_assert_eq(q_int("SELECT ST_NumGeometries(geom) FROM communities"), 2);
    free(before);
    free(after);
}

/* Each bad input: non-zero, a message naming the file (and the feature when there is one), and a
 * database identical to before. */
static void expect_rejected(const char *name, const char *text, import_opts_t o, const char *needle) {
    const char *f = text ? write_file(name, text) : name;
    char *before = store_snapshot(st);
    import_result_t r;
    int rc = run(f, o, &r);
    cr_assert_neq(rc, 0, "%s: accepted", name);
    char all[4096];
    snprintf(all, sizeof all, "%s\n%s", report ? report : "", err);
    cr_assert(strstr(all, needle), "%s: expected '%s' in:\n%s", name, needle, all);
    cr_assert(strstr(all, name), "%s: the file is named in:\n%s", name, all);
    char *after = store_snapshot(st);
    cr_assert_str_eq(before, after, "%s: database changed", name);
    free(before);
    free(after);
}

static const char one_good[] =
    "{\"type\":\"Feature\",\"properties\":{\"code\":\"G1\",\"households\":1},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}";

Test(import, bad_inputs_leave_the_database_unchanged) {
    import_result_t r;
    cr_assert_eq(run(write_file("c.geojson", communities_fc), (import_opts_t){.layer = "communities"}, &r), 0, "%s", err);
    import_opts_t c = {.layer = "communities"};
    char text[2048];
    expect_rejected("malformed.geojson", "{\"type\":\"FeatureCollection\",\"features\":[{\"type\" \"Feature\"}]}", c, "line 1, column");
    snprintf(text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s,\n{\"type\":\"Feature\",\"prop", one_good);
    expect_rejected("truncated.geojson", text, c, "line 2, column");
    expect_rejected("empty.geojson", "{\"type\":\"FeatureCollection\",\"features\":[]}", c, "empty FeatureCollection");
    expect_rejected("notfc.geojson", "[1,2,3]", c, "not a GeoJSON FeatureCollection");
    snprintf(text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s,"
             "{\"type\":\"Feature\",\"properties\":{\"code\":\"L1\",\"households\":2},"
             "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}}]}", one_good);
    expect_rejected("wrongtype.geojson", text, c, "feature 2 (id 'L1'): communities needs Polygon or MultiPolygon, got LineString");
    snprintf(text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s,"
             "{\"type\":\"Feature\",\"properties\":{\"code\":\"M1\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}]}",
             one_good);
    expect_rejected("missing.geojson", text, c, "feature 2 (id 'M1'): households is missing");
    snprintf(text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s,"
             "{\"type\":\"Feature\",\"properties\":{\"code\":\"N1\",\"households\":-3},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}]}",
             one_good);
    expect_rejected("negative.geojson", text, c, "feature 2 (id 'N1'): households is negative (-3)");
    snprintf(text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s,"
             "{\"type\":\"Feature\",\"properties\":{\"code\":\"T1\",\"households\":\"many\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}]}",
             one_good);
    expect_rejected("nonnumeric.geojson", text, c, "feature 2 (id 'T1'): households is not a number ('many')");
    snprintf(text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s]}", one_good);
    expect_rejected("unknowncrs.geojson", text, (import_opts_t){.layer = "communities", .crs = "EPSG:99999"}, "unknown CRS 'EPSG:99999'");
    snprintf(text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s,%s]}", one_good, one_good);
    expect_rejected("duplicate.geojson", text, c, "feature 2 (id 'G1'): duplicate code 'G1' (also feature 1)");
    expect_rejected("selfintersect.geojson",
                    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"code\":\"S1\",\"households\":3},"
                    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}}]}",
                    (import_opts_t){.layer = "communities", .reject_invalid = 1}, "feature 1 (id 'S1'): invalid geometry: Self-intersection");
    expect_rejected("projected-as-lonlat.geojson",
                    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"type\":\"school\"},"
                    "\"geometry\":{\"type\":\"Point\",\"coordinates\":[38512345.1,3387654.2]}}]}",
                    (import_opts_t){.layer = "facilities"}, "coordinates are not lon/lat");
    expect_rejected("polygon-facility.geojson",
                    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"type\":\"school\"},"
                    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}]}",
                    (import_opts_t){.layer = "facilities"}, "facilities_points.geojson");
    char missing[160];
    snprintf(missing, sizeof missing, "%s/does-not-exist.geojson", dir);
    expect_rejected(missing, NULL, c, "no such file");
}

Test(import, every_problem_is_listed_up_to_the_limit) {
    char text[16384] = "{\"type\":\"FeatureCollection\",\"features\":[";
    for (int i = 0; i < 60; i++) {
        size_t n = strlen(text);
        snprintf(text + n, sizeof text - n, "%s{\"type\":\"Feature\",\"properties\":{\"code\":\"C%d\",\"households\":-%d},"
                 "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}", i ? "," : "", i, i + 1);
    }
    strcat(text, "]}");
    import_result_t r;
    cr_assert_eq(run(write_file("many.geojson", text), (import_opts_t){.layer = "communities"}, &r), GP_EINVAL);
    cr_assert_eq(r.problems, 60);
    int lines = 0;
    for (char *p = report; (p = strchr(p, '\n')); p++) lines++;
    cr_assert_eq(lines, 51, "50 problems and one summary line:\n%s", report);
    cr_assert(strstr(report, "many.geojson: ... and 10 more"), "%s", report);
    cr_assert(strstr(report, "feature 60 (id 'C59')") == NULL);
    cr_assert(strstr(err, "60 problems in 60 features; nothing imported"), "%s", err);
    cr_assert_eq(store_count(st, "communities"), 0);
}

Test(import, boxed_reassignment_follows_a_moved_boundary_and_stays_in_its_box) {
    import_result_t r;
    cr_assert_eq(run(write_file("c.geojson", communities_fc), (import_opts_t){.layer = "communities"}, &r), 0, "%s", err);
    cr_assert_eq(run(write_file("b.geojson", buildings_fc), (import_opts_t){.layer = "buildings"}, &r), 0, "%s", err);
    /* 甲 grows east to 116.416 over b3 (116.415); 乙 shrinks to 116.416..116.42; b1 gets a stale code
     * far from the box, which a boxed pass must leave alone. */
    cr_assert_eq(store_exec(st,
                            "UPDATE communities SET geom = CastToMultiPolygon(GeomFromText('POLYGON((116.40 39.90,116.416 39.90,"
                            "116.416 39.91,116.40 39.91,116.40 39.90))', 4326)) WHERE code = '110105003001';"
                            "UPDATE communities SET geom = CastToMultiPolygon(GeomFromText('POLYGON((116.416 39.90,116.42 39.90,"
                            "116.42 39.91,116.416 39.91,116.416 39.90))', 4326)) WHERE code = '110105003002';"
                            "UPDATE buildings SET community_code = '110105003003' WHERE ext_id = 'b1';",
                            err, sizeof err),
                 0, "%s", err);
    const double box[4] = {116.41, 39.90, 116.42, 39.91};
    cr_assert_eq(store_begin(st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(import_assign_communities_in(st, box, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_commit(st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r.buildings_assigned, 1, "only b3 is in the box");
    cr_assert_eq(q_int("SELECT count(*) FROM buildings WHERE ext_id = 'b3' AND community_code = '110105003001'"), 1);
    cr_assert_eq(q_int("SELECT households FROM communities WHERE code = '110105003001'"), 12 + 40,
                 "甲 = b2 + b3 (b1, outside the box, keeps its stale code)");
    cr_assert_eq(q_int("SELECT households FROM communities WHERE code = '110105003002'"), 0, "乙 lost its only building");
    cr_assert_eq(q_int("SELECT population FROM communities WHERE code = '110105003002'"), 0);
    cr_assert_eq(q_int("SELECT households FROM communities WHERE code = '110105003003'"), 5, "丙 untouched: the box missed b1");
    cr_assert_eq(q_int("SELECT community_code = '110105003003' FROM buildings WHERE ext_id = 'b1'"), 1);
    /* The whole-table pass (the same code without a box) repairs b1 and moves its households back. */
    cr_assert_eq(import_assign_communities(st, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(q_int("SELECT community_code = '110105003001' FROM buildings WHERE ext_id = 'b1'"), 1);
    cr_assert_eq(q_int("SELECT households FROM communities WHERE code = '110105003001'"), 82);
    cr_assert_eq(q_int("SELECT households FROM communities WHERE code = '110105003003'"), 0, "丙 lost b1");
}

Test(import, grids_follow_their_boundaries_through_the_same_code) {
    import_result_t r;
    cr_assert_eq(run(write_file("c.geojson", communities_fc), (import_opts_t){.layer = "communities"}, &r), 0, "%s", err);
    cr_assert_eq(run(write_file("b.geojson", buildings_fc), (import_opts_t){.layer = "buildings"}, &r), 0, "%s", err);
    /* Two grids of 甲: west of 116.405 (b1) and east of it (b2's footprint at 116.4050-116.4052). */
    cr_assert_eq(store_exec(st,
                            "INSERT INTO grids(code, community_code, seq, households, geom) VALUES"
                            " ('G1', '110105003001', 1, 0, CastToMultiPolygon(GeomFromText('POLYGON((116.40 39.90,116.405 39.90,116.405 39.91,116.40 39.91,116.40 39.90))', 4326))),"
                            " ('G2', '110105003001', 2, 0, CastToMultiPolygon(GeomFromText('POLYGON((116.405 39.90,116.41 39.90,116.41 39.91,116.405 39.91,116.405 39.90))', 4326)));",
                            err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(import_assign_grids_in(st, NULL, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r.buildings_assigned, 2);
    cr_assert_eq(q_int("SELECT households FROM grids WHERE code = 'G1'"), 30);
    cr_assert_eq(q_int("SELECT households FROM grids WHERE code = 'G2'"), 12);
    cr_assert_eq(q_int("SELECT count(*) FROM buildings WHERE grid_code IS NULL"), 2, "b3, b4 are in no grid");
    /* The line moves east to 116.406: b2 changes grid, G2 is left empty. */
    cr_assert_eq(store_exec(st,
                            "UPDATE grids SET geom = CastToMultiPolygon(GeomFromText('POLYGON((116.40 39.90,116.406 39.90,116.406 39.91,116.40 39.91,116.40 39.90))', 4326)) WHERE code = 'G1';"
                            "UPDATE grids SET geom = CastToMultiPolygon(GeomFromText('POLYGON((116.406 39.90,116.41 39.90,116.41 39.91,116.406 39.91,116.406 39.90))', 4326)) WHERE code = 'G2';",
                            err, sizeof err),
                 0, "%s", err);
    const double box[4] = {116.405, 39.90, 116.41, 39.91};
    cr_assert_eq(import_assign_grids_in(st, box, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(q_int("SELECT grid_code = 'G1' FROM buildings WHERE ext_id = 'b2'"), 1);
    cr_assert_eq(q_int("SELECT households FROM grids WHERE code = 'G1'"), 42);
    cr_assert_eq(q_int("SELECT households FROM grids WHERE code = 'G2'"), 0);
    cr_assert_eq(q_int("SELECT households FROM communities WHERE code = '110105003001'"), 42, "communities untouched");
}
