/* geo.h — GEOS contexts and the GeoJSON <-> GEOS bridge (RFC 7946 geometry objects). */
#ifndef GP_GEO_H
#define GP_GEO_H
#define GEOS_USE_ONLY_R_API
#include <geos_c.h>
#include <jansson.h>
#include "buf.h"

/* A GEOS context whose notice/error messages are kept (geo_last_error) instead of printed.
 * One per thread; not shareable. Free with geo_ctx_free(), which accepts NULL. */
GEOSContextHandle_t geo_ctx_new(void);
void geo_ctx_free(GEOSContextHandle_t gctx);
/* The last GEOS error message seen on gctx ("" if none). Valid until the next GEOS call. */
const char *geo_last_error(GEOSContextHandle_t gctx);

/* Builds a GEOS geometry from a GeoJSON geometry object (Point, LineString, Polygon, Multi*,
 * GeometryCollection). Returns NULL and fills err on malformed input (missing coordinates,
 * non-numeric values, rings with < 4 points or not closed, ...). Caller frees with GEOSGeom_destroy_r.
 * Coordinates are taken as they are: no axis swap, no reprojection. Z values are dropped. */
GEOSGeometry *geo_from_geojson(GEOSContextHandle_t gctx, const json_t *geometry, char *err, size_t errlen);

/* Appends geom as a GeoJSON geometry object with `decimals` digits (7 for lon/lat ≈ 1 cm). */
int geo_to_geojson(GEOSContextHandle_t gctx, const GEOSGeometry *geom, int decimals, buf_t *out);

/* WKB (ISO, little endian, 2D) in and out. geo_to_wkb returns a malloc'd buffer (free()). */
GEOSGeometry *geo_from_wkb(GEOSContextHandle_t gctx, const unsigned char *wkb, size_t len);
unsigned char *geo_to_wkb(GEOSContextHandle_t gctx, const GEOSGeometry *geom, size_t *len);

/* Envelope of geom. Returns 0, or GP_EGEOM for an empty geometry. */
int geo_bounds(GEOSContextHandle_t gctx, const GEOSGeometry *geom,
               double *minx, double *miny, double *maxx, double *maxy);

/* Wraps a Polygon into a MultiPolygon (clone); clones a MultiPolygon; NULL for other types.
 * Empty parts of a collection are dropped. Caller owns the result. */
GEOSGeometry *geo_as_multipolygon(GEOSContextHandle_t gctx, const GEOSGeometry *geom);

/* Applies fn to every coordinate of a copy of geom (used for reprojection and Mercator).
 * fn returns 0 or a negative code, which aborts the copy (NULL is returned). */
typedef int (*geo_xy_fn)(void *user, double *x, double *y);
GEOSGeometry *geo_map_coords(GEOSContextHandle_t gctx, const GEOSGeometry *geom, geo_xy_fn fn, void *user);

/* Web Mercator (EPSG:3857) from lon/lat by the closed formula: the hot path never calls PROJ.
 * Latitude is clamped to ±85.0511287798. */
void geo_lonlat_to_merc(double lon, double lat, double *x, double *y);
void geo_merc_to_lonlat(double x, double y, double *lon, double *lat);
#define GEO_MERC_HALF 20037508.342789244

#endif
