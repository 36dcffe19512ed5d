/* test_geo.c — GeoJSON <-> GEOS round trips, WKB, Mercator, PROJ transforms. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "err.h"
#include "geo.h"
#include "srs.h"

static GEOSContextHandle_t g;
static void setup(void) { g = geo_ctx_new(); }
static void teardown(void) { geo_ctx_free(g); }
TestSuite(geo, .init = setup, .fini = teardown);

static GEOSGeometry *parse(const char *text, char *err, size_t errlen) {
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    cr_assert_not_null(j, "test JSON must parse: %s", je.text);
    GEOSGeometry *geom = geo_from_geojson(g, j, err, errlen);
    json_decref(j);
    return geom;
}

Test(geo, polygon_with_hole_round_trips) {
    const char *in = "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[10,0],[10,10],[0,10],[0,0]],"
                     "[[2,2],[2,4],[4,4],[4,2],[2,2]]]}";
    char err[256] = "";
    GEOSGeometry *p = parse(in, err, sizeof err);
    cr_assert_not_null(p, "%s", err);
    double area;
    GEOSArea_r(g, p, &area);
    cr_assert_float_eq(area, 96.0, 1e-9);
    buf_t out = {0};
    cr_assert_eq(geo_to_geojson(g, p, 7, &out), 0);
    cr_assert_str_eq(out.data, in);
    buf_free(&out);
    GEOSGeom_destroy_r(g, p);
}

Test(geo, multipolygon_and_wkb) {
    char err[256];
    GEOSGeometry *m = parse("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]],"
                            "[[[5,5],[6,5],[6,6],[5,5]]]]}", err, sizeof err);
    cr_assert_not_null(m, "%s", err);
    cr_assert_eq(GEOSGetNumGeometries_r(g, m), 2);
    size_t len;
    unsigned char *wkb = geo_to_wkb(g, m, &len);
    GEOSGeometry *back = geo_from_wkb(g, wkb, len);
    cr_assert_eq(GEOSEquals_r(g, m, back), 1);
    free(wkb);
    GEOSGeom_destroy_r(g, back);
    GEOSGeom_destroy_r(g, m);
}

Test(geo, malformed_geometries_are_named) {
    char err[256];
    cr_assert_null(parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]}", err, sizeof err));
    cr_assert(strstr(err, "not closed"), "got: %s", err);
    cr_assert_null(parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,0]]]}", err, sizeof err));
    cr_assert(strstr(err, "at least 4"), "got: %s", err);
    cr_assert_null(parse("{\"type\":\"Point\",\"coordinates\":[\"a\",1]}", err, sizeof err));
    cr_assert(strstr(err, "not [x, y] numbers"), "got: %s", err);
    cr_assert_null(parse("{\"type\":\"Circle\",\"coordinates\":[0,0]}", err, sizeof err));
    cr_assert(strstr(err, "unknown geometry type 'Circle'"), "got: %s", err);
}

Test(geo, mercator_known_values) {
    double x, y, lon, lat;
    geo_lonlat_to_merc(180, 0, &x, &y);
    cr_assert_float_eq(x, GEO_MERC_HALF, 1e-6);
    cr_assert_float_eq(y, 0, 1e-6);
    geo_lonlat_to_merc(116.4, 39.9, &x, &y);
    geo_merc_to_lonlat(x, y, &lon, &lat);
    cr_assert_float_eq(lon, 116.4, 1e-9);
    cr_assert_float_eq(lat, 39.9, 1e-9);
    /* EPSG:3857 value of Beijing's latitude (checked against PROJ below). */
    srs_t *s = srs_new("EPSG:4326", "EPSG:3857", NULL, 0);
    double px = 116.4, py = 39.9;
    cr_assert_eq(srs_xy(s, &px, &py), 0);
    cr_assert_float_eq(px, x, 1e-3);
    cr_assert_float_eq(py, y, 1e-3);
    srs_free(s);
}

Test(geo, proj_axis_order_and_gauss_kruger) {
    /* EPSG:4490 officially has lat/lon axis order; normalised transforms take lon/lat. */
    char err[256];
    srs_t *s = srs_new("EPSG:4490", "EPSG:4547", err, sizeof err); /* CGCS2000 / 3-degree GK CM 114E */
    cr_assert_not_null(s, "%s", err);
    double x = 114.0, y = 30.0;
    cr_assert_eq(srs_xy(s, &x, &y), 0);
    cr_assert_float_eq(x, 500000.0, 1e-3);   /* on the central meridian: false easting */
    cr_assert(y > 3.3e6 && y < 3.4e6, "northing %f", y);
    srs_free(s);
    cr_assert_null(srs_new("EPSG:4326", "EPSG:99999", err, sizeof err));
    cr_assert(strstr(err, "unknown CRS 'EPSG:99999'"), "got: %s", err);
    cr_assert_eq(srs_utm_epsg(116.4, 39.9), 32650);
    cr_assert_eq(srs_utm_epsg(-87.6, 41.8), 32616);
    char n[64];
    cr_assert_eq(srs_normalize_name("urn:ogc:def:crs:EPSG::4490", n, sizeof n), 0);
    cr_assert_str_eq(n, "EPSG:4490");
    cr_assert(srs_is_lonlat("urn:ogc:def:crs:OGC:1.3:CRS84"));
}
