/* test_export.c — GeoJSON and CSV export: every column, fid as id, BOM, quoting, representative
 * points, and GeoJSON that the importer reads back to the same rows. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "err.h"
#include "export.h"
#include "import.h"
#include "store.h"

static char path[64], path2[64];
static store_t *st;
static char err[512];

static void rm_db(const char *p) {
    char side[80];
    unlink(p);
    snprintf(side, sizeof side, "%s-wal", p); unlink(side);
    snprintf(side, sizeof side, "%s-shm", p); unlink(side);
}
static void setup(void) {
    snprintf(path, sizeof path, "/tmp/gp_test_export_%d.sqlite", getpid());
    snprintf(path2, sizeof path2, "/tmp/gp_test_export_%d_b.sqlite", getpid());
    rm_db(path);
    rm_db(path2);
    cr_assert_eq(store_open(path, STORE_CREATE, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_exec(st,
                            "INSERT INTO communities(fid, code, name, street_code, households, population, geom) VALUES"
                            " (4, '110105003001', '甲社区, \"东\"', '110105003', 1200, 3000,"
                            "  GeomFromText('MULTIPOLYGON(((116.40 39.90, 116.41 39.90, 116.41 39.91, 116.40 39.91, 116.40 39.90)))', 4326)),"
                            " (9, '110105003002', '乙社区', '110105003', 800, 1900,"
                            "  GeomFromText('MULTIPOLYGON(((116.41 39.90, 116.42 39.90, 116.42 39.91, 116.41 39.91, 116.41 39.90)))', 4326));"
                            "INSERT INTO facilities(ext_id, type, name, geom) VALUES ('n1', 'school', '第一小学', MakePoint(116.4012345, 39.9054321, 4326));",
                            err, sizeof err), 0, "%s", err);
}
static void teardown(void) {
    store_close(st);
    rm_db(path);
    rm_db(path2);
}
TestSuite(export, .init = setup, .fini = teardown);

static char *export_to_string(const char *layer, int format, int64_t *n) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_eq(export_layer(st, layer, format, f, n, err, sizeof err), 0, "%s", err);
    fclose(f);
    return text;
}

Test(export, geojson_has_fid_ids_and_every_column) {
    int64_t n;
    char *text = export_to_string("communities", EXPORT_GEOJSON, &n);
    cr_assert_eq(n, 2);
    json_error_t je;
    json_t *fc = json_loads(text, 0, &je);
    cr_assert(fc, "invalid JSON at %d:%d: %s", je.line, je.column, je.text);
    cr_assert_str_eq(json_string_value(json_object_get(fc, "type")), "FeatureCollection");
    cr_assert_null(json_object_get(fc, "crs"), "RFC 7946: no crs member");
    json_t *f0 = json_array_get(json_object_get(fc, "features"), 0);
    cr_assert_eq(json_integer_value(json_object_get(f0, "id")), 4);
    json_t *p = json_object_get(f0, "properties");
    cr_assert_eq(json_object_size(p), 7, "fid + 6 columns, no geom");
    cr_assert_eq(json_integer_value(json_object_get(p, "fid")), 4);
    cr_assert_str_eq(json_string_value(json_object_get(p, "code")), "110105003001", "codes stay strings");
    cr_assert_str_eq(json_string_value(json_object_get(p, "name")), "甲社区, \"东\"");
    cr_assert_eq(json_integer_value(json_object_get(p, "households")), 1200);
    json_t *g = json_object_get(f0, "geometry");
    cr_assert_str_eq(json_string_value(json_object_get(g, "type")), "MultiPolygon");
    cr_assert_float_eq(json_real_value(json_array_get(json_array_get(json_array_get(json_array_get(json_object_get(g, "coordinates"), 0), 0), 1), 0)),
                       116.41, 1e-9);
    json_decref(fc);
    free(text);
}

Test(export, csv_has_bom_quoting_and_representative_points) {
    int64_t n;
    char *text = export_to_string("communities", EXPORT_CSV, &n);
    cr_assert_eq(n, 2);
    cr_assert_eq(memcmp(text, "\xEF\xBB\xBF", 3), 0, "UTF-8 BOM first");
    cr_assert(!strncmp(text + 3, "fid,code,name,street_code,households,population,locked,lon,lat\r\n", 63), "%s", text);
    cr_assert(strstr(text, "\r\n4,110105003001,\"甲社区, \"\"东\"\"\",110105003,1200,3000,0,116.4"), "%s", text);
    char *line = strstr(text, "\r\n9,");
    cr_assert(line);
    /* The last two fields are a point on the surface of the square 116.41..116.42 x 39.90..39.91. */
    const char *last = strrchr(line, ',');
    double lat = atof(last + 1);
    const char *p = last - 1;
    while (*p != ',') p--;
    double lon = atof(p + 1);
    cr_assert(lon > 116.41 && lon < 116.42 && lat > 39.90 && lat < 39.91, "%f %f", lon, lat);
    free(text);
    text = export_to_string("facilities", EXPORT_CSV, &n);
    cr_assert(strstr(text, "1,n1,school,第一小学,116.4012345,39.9054321\r\n"), "%s", text);
    free(text);
}

Test(export, geojson_imports_back_to_the_same_rows) {
    char file[80];
    snprintf(file, sizeof file, "/tmp/gp_test_export_%d.geojson", getpid());
    FILE *f = fopen(file, "w");
    int64_t n;
    cr_assert_eq(export_layer(st, "communities", EXPORT_GEOJSON, f, &n, err, sizeof err), 0, "%s", err);
    fclose(f);
    store_t *other;
    cr_assert_eq(store_open(path2, STORE_CREATE, &other, err, sizeof err), 0, "%s", err);
    import_opts_t o = {.layer = "communities"};
    import_result_t r;
    cr_assert_eq(import_geojson(other, file, &o, &r, NULL, err, sizeof err), 0, "%s", err);
    unlink(file);
    const char *sql = "SELECT group_concat(code || '|' || name || '|' || street_code || '|' || households || '|' || population"
                      " || '|' || AsText(geom), ';') FROM (SELECT * FROM communities ORDER BY code)";
    sqlite3_stmt *a, *b;
    sqlite3_prepare_v2(st->db, sql, -1, &a, NULL);
    sqlite3_prepare_v2(other->db, sql, -1, &b, NULL);
    cr_assert_eq(sqlite3_step(a), SQLITE_ROW);
    cr_assert_eq(sqlite3_step(b), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(b, 0), (const char *)sqlite3_column_text(a, 0));
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    store_close(other);
}

Test(export, unknown_layer_and_format) {
    cr_assert_eq(export_layer(st, "tokens", EXPORT_GEOJSON, stdout, NULL, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "unknown layer 'tokens'"), "%s", err);
    cr_assert_eq(export_format("shp"), GP_EINVAL);
    cr_assert_eq(export_format("csv"), EXPORT_CSV);
}
