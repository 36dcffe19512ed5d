/* tile.c — XYZ tile math in Web Mercator metres (closed formulas, no PROJ). */
#include "tile.h"
#include "geo.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int tile_valid(int z, long long x, long long y) {
    if (z < 0 || z > TILE_MAX_ZOOM) return 0;
    long long n = 1LL << z;
    return x >= 0 && x < n && y >= 0 && y < n;
}

double tile_resolution(int z) {
    return 2.0 * GEO_MERC_HALF / ((double)TILE_SIZE * (double)(1u << z));
}

void tile_bounds(int z, uint32_t x, uint32_t y, double *minx, double *miny, double *maxx, double *maxy) {
    double span = 2.0 * GEO_MERC_HALF / (double)(1u << z);
    *minx = -GEO_MERC_HALF + x * span;
    *maxx = -GEO_MERC_HALF + (x + 1) * span;
    *maxy = GEO_MERC_HALF - y * span;
    *miny = GEO_MERC_HALF - (y + 1) * span;
}

static uint32_t tile_clamp(double v, uint32_t n) {
    if (v < 0) return 0;
    if (v >= n) return n - 1;
    return (uint32_t)v;
}

int tile_range_merc(int z, double minx, double miny, double maxx, double maxy, double margin_px,
                    uint32_t *x0, uint32_t *y0, uint32_t *x1, uint32_t *y1) {
    if (z < 0 || z > TILE_MAX_ZOOM || !(minx <= maxx) || !(miny <= maxy)) return -1;
    double m = margin_px * tile_resolution(z);
    minx -= m; miny -= m; maxx += m; maxy += m;
    if (maxx < -GEO_MERC_HALF || minx > GEO_MERC_HALF || maxy < -GEO_MERC_HALF || miny > GEO_MERC_HALF)
        return -1;
    uint32_t n = 1u << z;
    double span = 2.0 * GEO_MERC_HALF / n;
    *x0 = tile_clamp(floor((minx + GEO_MERC_HALF) / span), n);
    *x1 = tile_clamp(floor((maxx + GEO_MERC_HALF) / span), n);
    *y0 = tile_clamp(floor((GEO_MERC_HALF - maxy) / span), n);
    *y1 = tile_clamp(floor((GEO_MERC_HALF - miny) / span), n);
    return 0;
}

int tile_range_lonlat(int z, double west, double south, double east, double north, double margin_px,
                      uint32_t *x0, uint32_t *y0, uint32_t *x1, uint32_t *y1) {
    double minx, miny, maxx, maxy;
    geo_lonlat_to_merc(west, south, &minx, &miny);
    geo_lonlat_to_merc(east, north, &maxx, &maxy);
    return tile_range_merc(z, minx, miny, maxx, maxy, margin_px, x0, y0, x1, y1);
}

int tile_parse_zooms(const char *s, int *zmin, int *zmax) {
    int a, b, n = 0;
    if (sscanf(s, "%d-%d%n", &a, &b, &n) == 2 && s[n] == '\0') {
    } else if (sscanf(s, "%d%n", &a, &n) == 1 && s[n] == '\0') {
        b = a;
    } else {
        return -1;
    }
    if (a < 0 || b > TILE_MAX_ZOOM || a > b) return -1;
    *zmin = a;
    *zmax = b;
    return 0;
}
