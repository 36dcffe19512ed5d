/* plan.h — the planning engine: units, balanced contiguous partitions (split, grids), merges,
 * police allocation and quality figures, as pure functions over in-memory geometry.
 *
 * Geometry is lon/lat (EPSG:4326) throughout, so a community's own vertices are never moved and the
 * parts of a split tile it exactly; lengths, areas and compactness are measured after projecting to
 * the WGS 84 / UTM zone of the feature (srs_utm_epsg). Nothing here touches the database (plan_io.c
 * does), so HTTP handlers and tests call these directly. One plan_ctx_t per thread. */
#ifndef GP_PLAN_H
#define GP_PLAN_H
#include <stddef.h>
#include <stdint.h>
#include "geo.h"
#include "rules.h"
#include "srs.h"

/* Exactness the engine guarantees and verifies on every result: |area(union of parts) Δ original| and
 * |Σ area(parts) − area(original)|, each divided by the original's area, stay below this. */
#define PLAN_EXACT_TOL 1e-9

typedef struct plan_ctx {
    GEOSContextHandle_t g;   /* borrowed from the caller's thread */
    srs_t *metric;           /* lon/lat -> UTM, created on first use for the zone in use */
    int metric_epsg;
    const GEOSGeometry *roads_seen; /* the road layer road_bounds describes (borrowed) */
    double *road_bounds;     /* minx, miny, maxx, maxy per road line, computed once per road layer */
    int nroads;
} plan_ctx_t;

void plan_ctx_init(plan_ctx_t *ctx, GEOSContextHandle_t g);
void plan_ctx_release(plan_ctx_t *ctx);   /* frees the transform, not the GEOS context */
/* Measures (once per road layer) the envelope of every line of roads into ctx; 0 or GP_ENOMEM. */
int plan_ctx_roads(plan_ctx_t *ctx, const GEOSGeometry *roads);
/* A metric (UTM) copy of a lon/lat geometry; caller frees. NULL with err on failure. */
GEOSGeometry *plan_metric(plan_ctx_t *ctx, const GEOSGeometry *lonlat, char *err, size_t errlen);

/* A building: a point (a footprint's point-on-surface) carrying households. */
typedef struct plan_building {
    int64_t fid;
    double x, y;             /* lon/lat */
    long households, population;
    int community;           /* index into plan_city_t.comms, -1 when outside every community */
} plan_building_t;

typedef struct plan_community {
    int64_t fid;
    char code[16], name[128], street_code[16];
    long households, population;
    int locked;
    GEOSGeometry *geom;      /* Polygon or MultiPolygon, lon/lat, owned by the city */
} plan_community_t;

typedef struct plan_city {
    plan_community_t *comms;
    size_t ncomms;
    plan_building_t *blds;
    size_t nblds;
    GEOSGeometry *roads;     /* MultiLineString or NULL */
} plan_city_t;

void plan_city_free(GEOSContextHandle_t g, plan_city_t *city);  /* frees members, not city; NULL ok */

/* ---- Units and their adjacency (plan_units.c) ------------------------------------------------
 * Units tile an area. From buildings: the Voronoi diagram of the (deduplicated) building points,
 * noded together with the area's boundary and polygonised, so every face shares exact vertices with
 * its neighbours and the area's own vertices survive untouched; a face belongs to the building whose
 * cell it lies in (faces cut off by a concave boundary become units with 0 households).
 * Adjacency is by shared edge (a corner is not adjacency), weighted by shared length in metres;
 * with roads, the length lying along a road is kept apart so partitioning can prefer cutting there. */
typedef struct plan_units {
    size_t n;
    GEOSGeometry **cells;    /* owned Polygons, lon/lat */
    long *households, *population;
    double *x, *y;           /* a point inside each cell (lon/lat) */
    int *xadj, *adjncy;      /* CSR: neighbours of unit i are adjncy[xadj[i] .. xadj[i+1]-1] */
    double *adjlen;          /* shared boundary length, metres, per adjncy entry */
    double *adjroad;         /* of which along a road, metres (0 without roads) */
    size_t nbuildings;
    int *building_unit;      /* input building i -> unit */
} plan_units_t;

int plan_units_from_buildings(plan_ctx_t *ctx, const GEOSGeometry *area, const plan_building_t *blds, size_t nb,
                              const GEOSGeometry *roads, plan_units_t **out, char *err, size_t errlen);
/* Units from given polygons (blocks, tracts): cloned; adjacency from shared boundaries (within
 * 1e-7 degrees). households/population may be NULL (0). */
int plan_units_from_polygons(plan_ctx_t *ctx, GEOSGeometry *const *polys, const long *households,
                             const long *population, size_t n, plan_units_t **out, char *err, size_t errlen);
void plan_units_free(GEOSContextHandle_t g, plan_units_t *u);  /* accepts NULL */

/* ---- Partition (plan_partition.c) ----------------------------------------------------------
 * Assigns every unit one of k parts (part[i] in 0..k-1): METIS k-way with METIS_OPTION_CONTIG on each
 * connected component (components get parts in proportion to households; a component too small for
 * a part joins the part of its nearest unit), vertex weight 100·households+1, edge weight the shared
 * length (road edges cheaper), then a local search that moves boundary units between neighbouring
 * parts, never breaking a part's connectivity, to pull parts into [band->min, band->max] and toward
 * the target; when that stalls, chains of two moves (the first may push a neighbour out of the band,
 * the second must more than make up for it). Returns 0, or GP_EINVAL (k < 1 or more parts than units), GP_EGEOM if METIS fails. */
int plan_partition(const plan_units_t *u, int k, const rules_band_t *band, int *part, char *err, size_t errlen);

/* ---- Split and grids (plan_split.c, plan_grids.c) ------------------------------------------- */
typedef struct plan_part {
    GEOSGeometry *geom;      /* Polygon (MultiPolygon only when the area itself is in pieces), owned */
    long households, population;
    int nunits, nbuildings;
    double area_m2, perimeter_m, polsby_popper;
    int contiguous, valid, in_band;
    int seq;                 /* grids: 1-based number in code order */
    char code[24];           /* grids: 15-digit code; splits: filled by plan_auto */
} plan_part_t;

typedef struct plan_quality {
    int parts;
    long target, band_min, band_max;
    double max_dev, mean_dev;        /* |households − target| / target over parts */
    double pp_min, pp_mean;          /* Polsby–Popper 4πA/P² over parts */
    int contiguous, valid, outside_band, forced_by_building;
    double symdiff_ratio, area_ratio;/* exactness (see PLAN_EXACT_TOL) */
    long households_in, households_out;
    double seconds;
} plan_quality_t;

typedef struct plan_split {
    int k;
    plan_part_t *parts;
    int *building_part;      /* per input building (nbuildings entries) */
    int *unit_part;          /* per unit (nunits entries) */
    size_t nbuildings, nunits;
    plan_quality_t quality;
    int exact;               /* exactness and conservation verified */
    char reason[512];        /* why a part is outside the band or not one polygon ("" when all fine) */
} plan_split_t;

/* The number of parts for `households` under band: the count whose mean part is nearest the target
 * among counts that fit the band; when none fits, the smallest count whose mean is under the top. */
int plan_choose_k(long households, const rules_band_t *band);

/* Splits area into k parts (k <= 0: plan_choose_k) along whole buildings. Returns 0 and *out (free with
 * plan_split_free) — check quality/reason for band misses — or GP_EINFEASIBLE with err when it cannot
 * be split at all (fewer units than parts, no buildings), or another code on geometry failure. */
int plan_split_buildings(plan_ctx_t *ctx, const GEOSGeometry *area, const plan_building_t *blds, size_t nb, int k,
                         const rules_band_t *band, const GEOSGeometry *roads, plan_split_t **out, char *err,
                         size_t errlen);
/* Same with prepared units (polygons); `area` is the union the parts must equal (NULL: the units' union). */
int plan_split_units(plan_ctx_t *ctx, const GEOSGeometry *area, const plan_units_t *u, int k, const rules_band_t *band,
                     plan_split_t **out, char *err, size_t errlen);
void plan_split_free(GEOSContextHandle_t g, plan_split_t *s);

/* Divides a community into grids under the grid band, then numbers them (plan_grid_number) with
 * codes community_code (12 digits) + 3-digit sequence. */
int plan_grids(plan_ctx_t *ctx, const GEOSGeometry *area, const plan_building_t *blds, size_t nb,
               const rules_band_t *grid_band, const char *community_code, const GEOSGeometry *roads,
               plan_split_t **out, char *err, size_t errlen);
/* Orders parts north to south in rows, west to east within a row (the exact rule is at the top of
 * plan_grids.c), renumbers parts and assignments to that order, and writes seq and the 15-digit code. */
int plan_grid_number(plan_ctx_t *ctx, plan_split_t *s, const char *community_code, char *err, size_t errlen);

/* ---- Merge (plan_merge.c) ------------------------------------------------------------------ */
typedef struct plan_merge {
    int small, into;         /* community indexes */
    double shared_m;         /* shared boundary length, metres */
    int same_street;
    long households, population;
    GEOSGeometry *geom;      /* merged polygon, owned (free with GEOSGeom_destroy_r) */
    double area_ratio;       /* |area(merged) − area(a) − area(b)| / area(merged) */
} plan_merge_t;

/* Picks the neighbour of comms[small] (sharing > 1 m of boundary, not locked, not `small`) that keeps the
 * result within band->max, preferring the same street, then the longest shared boundary; `into` >= 0
 * forces that neighbour. Returns 0 with *out filled, or GP_EINFEASIBLE with err saying why each
 * neighbour was refused (or that there is none). */
int plan_merge_choose(plan_ctx_t *ctx, const plan_community_t *comms, size_t n, int small, int into,
                      const rules_band_t *band, plan_merge_t *out, char *err, size_t errlen);

/* ---- Auto-plan and city-wide grids (plan_auto.c) ------------------------------------------- */
typedef struct plan_action {
    char op[8];              /* "split" or "merge" */
    char code[16];           /* the community acted on */
    char into[16];           /* merge: the receiving community */
    char new_codes[256];     /* split: the parts' codes, comma separated (the first keeps the old code) */
    int parts;
    long households;
    int ok;                  /* 0: not done, reason says why */
    char reason[512];
    plan_quality_t quality;
} plan_action_t;

typedef struct plan_auto {
    plan_city_t city;        /* the planned city: owned copies; buildings re-assigned */
    plan_action_t *actions;
    size_t nactions;
    plan_quality_t quality;  /* over every split part */
    double seconds;
} plan_auto_t;

/* City edits on an in-memory city (the building → community assignment follows every change).
 * plan_city_clone deep-copies (free the copy with plan_city_free). plan_city_find: index of the live
 * community with that code, or -1. plan_city_split splits comms[c] (k <= 0: from the band) in place,
 * appending the new parts (first part keeps the code, the others take the next free numbers under
 * the street; codes listed in new_codes) and returns the verified split (*out, caller frees).
 * plan_city_merge merges comms[small] into the chosen neighbour in place; the small one's geom
 * becomes NULL until plan_city_compact drops it; m->geom stays owned by the caller. */
int plan_city_clone(GEOSContextHandle_t g, const plan_city_t *in, plan_city_t *out);
int plan_city_find(const plan_city_t *city, const char *code);
int plan_city_split(plan_ctx_t *ctx, plan_city_t *city, int c, int k, const rules_band_t *band, plan_split_t **out,
                    char *new_codes, size_t codes_len, char *err, size_t errlen);
int plan_city_merge(plan_ctx_t *ctx, plan_city_t *city, int small, int into, const rules_band_t *band, plan_merge_t *m,
                    char *err, size_t errlen);
int plan_city_compact(plan_city_t *city);

/* Splits every unlocked community above the profile's split line and merges every unlocked one below
 * its merge line (smallest first) into a neighbour that fits; locked communities are neither split,
 * merged nor merged into. The input city is not modified. New part codes: the first part keeps the
 * community's code, the others take the next free 3-digit numbers under the street. */
int plan_auto_run(plan_ctx_t *ctx, const plan_city_t *in, const rules_t *r, plan_auto_t **out, char *err, size_t errlen);
void plan_auto_free(GEOSContextHandle_t g, plan_auto_t *a);   /* accepts NULL */

typedef struct plan_gridset {
    plan_part_t *grids;      /* every grid of every community, codes set, owned */
    int *grid_community;     /* community index per grid */
    size_t n;
    int *building_grid;      /* per city building: index into grids, -1 when in no community */
    plan_quality_t quality;  /* over every grid */
    int failed;              /* communities that could not be divided (reason logged) */
    double seconds;
} plan_gridset_t;

/* Divides every community of the city into grids under the grid band. A community with no buildings
 * is one grid. only >= 0 restricts to that community. Runs $GRIDPLAN_THREADS (default: the CPU count)
 * workers, each with its own GEOS context; the result does not depend on the thread count. */
int plan_grids_city(plan_ctx_t *ctx, const plan_city_t *city, const rules_band_t *grid_band, int only,
                    plan_gridset_t **out, char *err, size_t errlen);
void plan_gridset_free(GEOSContextHandle_t g, plan_gridset_t *gs);

/* ---- Police and staffing (plan_police.c) --------------------------------------------------- */
typedef struct plan_police {
    long minjing, fujing;
    long workers;            /* community workers: per-10k rule on population */
    const char *rounding;    /* "ceil", "floor" or "round" (borrowed from the profile) */
} plan_police_t;

void plan_police(const rules_t *r, long households, long population, plan_police_t *out);
/* Status of a community against the band: "under", "within", "over" (above band, under the split
 * line) or "split"; *action "merge", "split" or NULL. */
const char *plan_status(const rules_band_t *band, long households, const char **action);

/* ---- Quality (plan_quality.c) -------------------------------------------------------------- */
/* Fills each part's area, perimeter, Polsby–Popper, contiguity, validity and band flag, and the
 * summary in s->quality, and verifies exactness against `area` (sets s->exact). */
int plan_quality_measure(plan_ctx_t *ctx, const GEOSGeometry *area, const rules_band_t *band, plan_split_t *s,
                         char *err, size_t errlen);
/* Fills one part's area_m2, perimeter_m, polsby_popper and contiguous/valid flags (metric CRS). */
int plan_part_measure(plan_ctx_t *ctx, plan_part_t *part, char *err, size_t errlen);
/* Appends the quality summary as a JSON object, or as a few lines of text. */
void plan_quality_json(const plan_quality_t *q, buf_t *out);
void plan_quality_text(const plan_quality_t *q, buf_t *out);

/* ---- Reports (plan_report.c): JSON, tables and CSV that the CLI and HTTP handlers share ------
 * All append to out. */
/* FeatureCollection of parts (lon/lat, 7 decimals) with code, seq, households, population, area_m2,
 * perimeter_m, polsby_popper, contiguous, in_band as properties. */
int plan_parts_geojson(GEOSContextHandle_t g, const plan_part_t *parts, size_t n, buf_t *out);
/* FeatureCollection of the city's communities with their numbers. */
int plan_city_geojson(GEOSContextHandle_t g, const plan_city_t *city, buf_t *out);
/* /api/check rows: [{code,name,street_code,households,population,status,action,minjing,fujing,workers}]. */
void plan_check_json(const rules_t *r, const plan_city_t *city, buf_t *out);
void plan_check_table(const rules_t *r, const plan_city_t *city, buf_t *out);
/* Police allocation per community plus per-street totals. format: 'j' JSON, 't' table, 'c' CSV
 * (UTF-8 with BOM, one row per community then one per street total). */
void plan_police_report(const rules_t *r, const plan_city_t *city, char format, buf_t *out);
/* Auto-plan result: {"splits":[..],"merges":[..],"quality":{..},"seconds":..}. */
void plan_auto_json(const plan_auto_t *a, buf_t *out);
/* A saved plan: {"communities":[{code,name,street_code,households,population}],
 * "buildings":[[fid,code,households],...]} — what `gridplan diff` compares. */
void plan_assignment_json(const plan_city_t *city, const char *profile, buf_t *out);
/* Compares two saved plans (JSON text): moved buildings and households per (from, to) pair, as a
 * table or JSON. Returns 0 or GP_EINVAL naming the bad file. */
int plan_diff(const char *a_json, const char *a_name, const char *b_json, const char *b_name, int json, buf_t *out,
              char *err, size_t errlen);

#endif
