/* srs.h — coordinate reference systems: PROJ transforms and the choice of a metric CRS. */
#ifndef GP_SRS_H
#define GP_SRS_H
#include "geo.h"

/* A transform from one CRS to another, in GIS axis order on both sides (lon/lat, east/north),
 * whatever the CRS definitions say (proj_normalize_for_visualization). Owns its own PROJ context,
 * so one srs_t serves one thread. Free with srs_free(), which accepts NULL. */
typedef struct srs srs_t;

/* from/to: anything PROJ accepts ("EPSG:4490", "EPSG:4513", "+proj=utm +zone=50"). Returns NULL
 * and fills err ("unknown CRS 'EPSG:99999'") when either side is unknown. */
srs_t *srs_new(const char *from, const char *to, char *err, size_t errlen);
void srs_free(srs_t *s);

/* Transforms one coordinate in place. Returns 0 or GP_EGEOM (point outside the CRS's domain). */
int srs_xy(srs_t *s, double *x, double *y);

/* A transformed copy of geom (caller frees with GEOSGeom_destroy_r) or NULL with err filled. */
GEOSGeometry *srs_transform(GEOSContextHandle_t gctx, srs_t *s, const GEOSGeometry *geom, char *err, size_t errlen);

/* The EPSG code of the WGS 84 / UTM zone containing lon/lat (326zz north, 327zz south): the metric
 * CRS gridplan computes areas, buffers and lengths in. */
int srs_utm_epsg(double lon, double lat);

/* True when a CRS string names geographic lon/lat on WGS 84 or CGCS2000 (no transform needed for
 * storage, which is lon/lat). Recognises EPSG:4326, EPSG:4490, OGC:CRS84 and their URN forms. */
int srs_is_lonlat(const char *crs);

/* Normalises GeoJSON "crs" names ("urn:ogc:def:crs:EPSG::4490", "EPSG:4490") into "EPSG:4490" form
 * in out (size outlen). Returns 0 or GP_EINVAL. */
int srs_normalize_name(const char *crs, char *out, size_t outlen);

#endif
