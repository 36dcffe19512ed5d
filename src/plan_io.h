/* plan_io.h — moving a city between the SpatiaLite store and the planning engine: load it, and write
 * planned changes back inside one transaction and one changeset (so each apply can be undone). */
#ifndef GP_PLAN_IO_H
#define GP_PLAN_IO_H
#include "plan.h"
#include "store.h"

/* Loads communities (ordered by code), buildings (footprints as their point-on-surface; community
 * index from community_code, -1 if none) and roads (one MultiLineString, NULL when the table is empty).
 * Free with plan_city_free. */
int plan_io_load(store_t *st, GEOSContextHandle_t g, plan_city_t *city, char *err, size_t errlen);

/* Writes the difference between `before` (as loaded) and `after` (a planned copy): communities
 * deleted, updated (geometry or numbers changed) and inserted, by code; buildings whose community
 * changed. Grids of every changed or deleted community are deleted and their buildings' grid_code
 * cleared, since the grids no longer fit (run grids again). Refuses (GP_ECONFLICT, nothing written)
 * when a locked community would change. One transaction, one changeset (op, summary_json); the new
 * changeset id in *changeset. */
int plan_io_apply_city(store_t *st, GEOSContextHandle_t g, const plan_city_t *before, const plan_city_t *after,
                       const char *user, const char *op, const char *summary_json, int64_t *changeset, char *err,
                       size_t errlen);

/* Replaces the grids of every community the gridset covers and sets buildings.grid_code; one
 * transaction and changeset (op "grids"). */
int plan_io_apply_grids(store_t *st, GEOSContextHandle_t g, const plan_city_t *city, const plan_gridset_t *gs,
                        const char *user, int64_t *changeset, char *err, size_t errlen);

#endif
