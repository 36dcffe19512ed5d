/* tile.h — XYZ Web Mercator tile math: tile bounds, pixel transforms, tile ranges for a bbox.
 *
 * Tiles follow the XYZ (Google/OSM) scheme: z 0..TILE_MAX_ZOOM, x grows east, y grows south,
 * 2^z tiles per side, each TILE_SIZE logical pixels. All coordinates are EPSG:3857 metres. */
#ifndef GP_TILE_H
#define GP_TILE_H
#include <stdint.h>

#define TILE_MAX_ZOOM 20
#define TILE_SIZE 256

/* 1 when z is 0..TILE_MAX_ZOOM and x, y are inside 0..2^z-1, else 0. */
int tile_valid(int z, long long x, long long y);

/* Web Mercator bounds of tile z/x/y. */
void tile_bounds(int z, uint32_t x, uint32_t y, double *minx, double *miny, double *maxx, double *maxy);

/* Metres per logical pixel at zoom z. */
double tile_resolution(int z);

/* Tiles of zoom z that intersect the Mercator box (minx..maxx, miny..maxy) widened by margin_px
 * pixels of that zoom on each side, clamped to the world. Returns 0 and fills the inclusive ranges,
 * or -1 when the box is empty or outside the world. */
int tile_range_merc(int z, double minx, double miny, double maxx, double maxy, double margin_px,
                    uint32_t *x0, uint32_t *y0, uint32_t *x1, uint32_t *y1);

/* Same for a lon/lat box (west, south, east, north). */
int tile_range_lonlat(int z, double west, double south, double east, double north, double margin_px,
                      uint32_t *x0, uint32_t *y0, uint32_t *x1, uint32_t *y1);

/* Parses "a-b" or "a" into a zoom range inside 0..TILE_MAX_ZOOM; 0 or -1. */
int tile_parse_zooms(const char *s, int *zmin, int *zmax);

#endif
