/* import.h — loading GeoJSON FeatureCollections into the store's feature tables, all or nothing. */
#ifndef GP_IMPORT_H
#define GP_IMPORT_H
#include <stdint.h>
#include <stdio.h>
#include "store.h"

/* What to import and how to read it. Zero-initialise, then set layer (the rest is optional). */
typedef struct import_opts {
    const char *layer;        /* streets, communities, grids, buildings, facilities or roads */
    const char *crs;          /* source CRS ("EPSG:4513"); NULL: the file's "crs" member, else lon/lat */
    const char *map;          /* "column=property,..." for properties not named like the columns */
    const char *id_field;     /* property that names each feature in messages (and buildings' ext_id) */
    double households_from_population; /* > 0: missing households = round(population / this) */
    double estimate_households_m2;     /* > 0: missing households of a footprint =
                                          max(1, round(area_m2 * floors / this)) */
    int reject_invalid;       /* invalid geometry is an error instead of being repaired */
    int replace;              /* empty the layer first (in the same transaction) */
    int max_report;           /* problem lines printed at most (0: 50) */
} import_opts_t;

/* What an import did, for the caller to print. */
typedef struct import_result {
    int64_t features;              /* features in the file */
    int64_t inserted;              /* rows written (== features on success) */
    int64_t repaired;              /* invalid geometries repaired by GEOSMakeValid */
    int64_t problems;              /* errors found (> 0 means nothing was written) */
    int64_t estimated;             /* households derived by --households-from-population / --estimate-households */
    int64_t households, population;/* totals over the imported features */
    int64_t buildings_assigned;    /* buildings given a community_code by point in polygon */
    int64_t buildings_outside;     /* buildings in no community (when communities exist) */
    int64_t communities_changed;   /* communities whose totals were set from their buildings */
    double seconds;
} import_result_t;

/* Imports one GeoJSON file into opts->layer in one transaction: every feature is checked, every
 * problem is written to `report` as one line "FILE: feature 17 (id 'abc'): households is negative
 * (-3)" (the first max_report of them, then "... and N more"), and any problem rolls everything back
 * (GP_EINVAL, err says how many; the database is unchanged). Repairs of invalid geometry are
 * reported on the same stream as notes. After buildings or communities are imported, buildings get
 * their community_code by point in polygon and communities holding buildings get the buildings'
 * household (and, when known, population) totals; meta.data_version is bumped. report may be NULL
 * (silent). res may be NULL. */
int import_geojson(store_t *st, const char *file, const import_opts_t *opts, import_result_t *res, FILE *report,
                   char *err, size_t errlen);

/* Recomputes buildings.community_code (point in polygon through the spatial index; point on surface
 * for footprints) and the household/population totals of communities that contain buildings, inside
 * the caller's transaction. Counts go to res (may be NULL). */
int import_assign_communities(store_t *st, import_result_t *res, char *err, size_t errlen);

/* The same, limited to the buildings whose bounding box meets bbox (minx, miny, maxx, maxy in
 * lon/lat; NULL: every building), for an edit of a boundary: only communities that gained or lost a
 * building get new totals (0 households when they lost the last one). Runs in the caller's
 * transaction, so inside a changeset the change log records every building and community row it
 * updates and undo restores them. Counts in res cover the buildings inside the box. */
int import_assign_communities_in(store_t *st, const double *bbox, import_result_t *res, char *err, size_t errlen);
/* The same for grids: buildings.grid_code by point in grid polygon and the grids' totals, limited
 * to bbox (NULL: every building). res->buildings_assigned counts buildings placed in a grid. */
int import_assign_grids_in(store_t *st, const double *bbox, import_result_t *res, char *err, size_t errlen);

#endif
