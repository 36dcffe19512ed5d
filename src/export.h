/* export.h — writing a feature table out as RFC 7946 GeoJSON or as CSV (UTF-8 with BOM). */
#ifndef GP_EXPORT_H
#define GP_EXPORT_H
#include <stdint.h>
#include <stdio.h>
#include "store.h"

enum { EXPORT_GEOJSON = 0, EXPORT_CSV = 1 };

/* Writes every row of `layer` (one of store_tables) ordered by fid to out.
 * GeoJSON: a FeatureCollection whose features carry "id" = fid and every column but geom as
 * properties (fid included), coordinates in lon/lat with 7 decimals (about 1 cm).
 * CSV: a UTF-8 byte order mark (so Excel reads Chinese names), a header row, every column but geom,
 * then lon and lat of a representative point (the point itself, or a point on the surface of a
 * footprint/polygon, the middle of a line); RFC 4180 quoting and CRLF line ends.
 * Sets *count (may be NULL) to the number of features written. Returns 0, GP_EINVAL for an unknown
 * layer or format, GP_EIO when writing fails, GP_EDB/GP_EGEOM on a database or geometry failure. */
int export_layer(store_t *st, const char *layer, int format, FILE *out, int64_t *count, char *err, size_t errlen);

/* "geojson" -> EXPORT_GEOJSON, "csv" -> EXPORT_CSV, anything else -> GP_EINVAL. */
int export_format(const char *name);

#endif
