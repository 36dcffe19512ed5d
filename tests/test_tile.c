/* test_tile.c — XYZ tile math: bounds, ranges for a bbox, validity, zoom parsing. */
#include <criterion/criterion.h>
#include <math.h>
#include "geo.h"
#include "tile.h"

Test(tile, world_tile_and_resolution) {
    double a, b, c, d;
    tile_bounds(0, 0, 0, &a, &b, &c, &d);
    cr_assert_float_eq(a, -GEO_MERC_HALF, 1e-6);
    cr_assert_float_eq(d, GEO_MERC_HALF, 1e-6);
    cr_assert_float_eq(tile_resolution(0), 156543.03392804097, 1e-6);
    tile_bounds(1, 1, 0, &a, &b, &c, &d);   /* north-east quarter */
    cr_assert_float_eq(a, 0, 1e-6);
    cr_assert_float_eq(b, 0, 1e-6);
}

Test(tile, range_of_a_point_matches_osm_formula) {
    /* OSM slippy-map formula for lon 111.7, lat 40.8 at z15 */
    double lon = 111.7, lat = 40.8;
    int n = 1 << 15;
    uint32_t ex = (uint32_t)floor((lon + 180) / 360 * n);
    uint32_t ey = (uint32_t)floor((1 - log(tan(lat * M_PI / 180) + 1 / cos(lat * M_PI / 180)) / M_PI) / 2 * n);
    uint32_t x0, y0, x1, y1;
    cr_assert_eq(tile_range_lonlat(15, lon, lat, lon, lat, 0, &x0, &y0, &x1, &y1), 0);
    cr_assert_eq(x0, ex);
    cr_assert_eq(y0, ey);
    cr_assert_eq(x1, ex);
    cr_assert_eq(y1, ey);
    /* a 2-pixel margin around a tile's exact bounds reaches its 8 neighbours */
    double a, b, c, d;
    tile_bounds(15, ex, ey, &a, &b, &c, &d);
    cr_assert_eq(tile_range_merc(15, a + 1, b + 1, c - 1, d - 1, 0, &x0, &y0, &x1, &y1), 0);
    cr_assert(x0 == ex && x1 == ex && y0 == ey && y1 == ey);
    cr_assert_eq(tile_range_merc(15, a + 1, b + 1, c - 1, d - 1, 2, &x0, &y0, &x1, &y1), 0);
    cr_assert(x0 == ex - 1 && x1 == ex + 1 && y0 == ey - 1 && y1 == ey + 1);
}

Test(tile, validity_and_world_clamp) {
    cr_assert(tile_valid(0, 0, 0));
    cr_assert(!tile_valid(0, 1, 0));
    cr_assert(!tile_valid(21, 0, 0));
    cr_assert(!tile_valid(-1, 0, 0));
    cr_assert(tile_valid(20, (1 << 20) - 1, (1 << 20) - 1));
    cr_assert(!tile_valid(3, -1, 0));
    uint32_t x0, y0, x1, y1;
    cr_assert_eq(tile_range_lonlat(2, -200, -89, 200, 89, 0, &x0, &y0, &x1, &y1), 0);
    cr_assert(x0 == 0 && y0 == 0 && x1 == 3 && y1 == 3);
    cr_assert_eq(tile_range_merc(2, 5, 5, 1, 1, 0, &x0, &y0, &x1, &y1), -1);
}

Test(tile, zoom_ranges) {
    int a, b;
    cr_assert_eq(tile_parse_zooms("12-15", &a, &b), 0);
    cr_assert(a == 12 && b == 15);
    cr_assert_eq(tile_parse_zooms("7", &a, &b), 0);
    cr_assert(a == 7 && b == 7);
    cr_assert_eq(tile_parse_zooms("15-12", &a, &b), -1);
    cr_assert_eq(tile_parse_zooms("0-21", &a, &b), -1);
    cr_assert_eq(tile_parse_zooms("x", &a, &b), -1);
}
