/* coverage.h — who the service circles reach: households, population and special groups covered per
 * community, per grid and city-wide; uncovered buildings; the "complete life circle" check; and
 * greedy gap filling (new sites that add the most newly covered households).
 *
 * A building is covered by a circle when its point is within radius_m (straight mode) of a facility
 * of any of the circle's types, or (network mode) within network_buffer_m of a road piece reached
 * within the walking budget — exactly "inside the circle's area" in either mode, computed on points
 * and segments, with no polygon operation. Results are plain arrays, recomputed whole: on the demo
 * city this takes well under a second (see `make bench`), so callers recompute when the data change
 * (key: meta data_version + the newest changes.id) instead of patching. */
#ifndef GP_COVERAGE_H
#define GP_COVERAGE_H
#include "circles.h"

enum { COV_BUILDINGS, COV_HOUSEHOLDS, COV_POPULATION, COV_ELDERLY_ALONE, COV_DISABLED, COV_LOW_INCOME, COV_N };
/* "buildings", "households", "population", "elderly_alone", "disabled", "low_income". */
extern const char *const coverage_count_names[COV_N];

typedef struct coverage_counts { int64_t v[COV_N]; } coverage_counts_t;

typedef struct coverage_area {
    coverage_counts_t total;
    coverage_counts_t *covered;   /* n_defs entries */
    int life_circle;              /* 1 passes, 0 fails, -1 not assessed (no buildings) */
} coverage_area_t;

typedef struct coverage {
    circles_mode_t mode;
    double min_share;             /* share of households a required circle must reach */
    const circles_defs_t *defs;   /* borrowed: must outlive the coverage */
    int n_defs, n_buildings;
    unsigned char *covered;       /* n_buildings * n_defs: 1 when building b is inside circle c */
    int *facilities;              /* per def: facilities of its types */
    int *unsnapped;               /* per def: facilities too far from any road (network mode) */
    coverage_area_t city, unassigned;   /* unassigned: buildings outside every community */
    coverage_area_t *communities; int n_communities;
    coverage_area_t *grids; int n_grids;
    double seconds;               /* time taken by coverage_compute */
} coverage_t;

/* Computes coverage of every building for every circle of defs in the given mode. min_share: a
 * community passes the life circle check when every required circle reaches at least this share of
 * its households (1.0 = all of them). Network mode builds the road graph if needed and fails with
 * GP_ENOTFOUND when there are no roads. Returns 0 and *out (free with coverage_free). */
int coverage_compute(GEOSContextHandle_t gctx, circles_data_t *d, const circles_defs_t *defs, circles_mode_t mode,
                     double min_share, coverage_t **out, char *err, size_t errlen);
void coverage_free(coverage_t *cov);   /* accepts NULL */
static inline int coverage_is_covered(const coverage_t *cov, int building, int def) {
    return cov->covered[(size_t)building * cov->n_defs + def];
}
/* Share of households covered (buildings when the area has no households; 0 when empty). */
double coverage_share(const coverage_area_t *a, int def);

enum { COVERAGE_COMMUNITIES = 1, COVERAGE_GRIDS = 2, COVERAGE_UNCOVERED = 4 };
/* JSON report: mode, circles, city totals, and (by what) communities, grids, uncovered buildings.
 * only_def >= 0 limits the uncovered list to that circle. */
int coverage_json(const coverage_t *cov, const circles_data_t *d, int what, int only_def, buf_t *out);
/* CSV (UTF-8 with BOM, CRLF): one row per community (what = COVERAGE_COMMUNITIES) or grid, then a
 * TOTAL row; or, with COVERAGE_UNCOVERED, one row per building missing a circle. */
int coverage_csv(const coverage_t *cov, const circles_data_t *d, int what, int only_def, buf_t *out);

/* ---- Gap filling -------------------------------------------------------------------------------- */
enum { COVERAGE_CAND_BUILDINGS = 1, COVERAGE_CAND_GRIDS = 2 };
typedef struct coverage_gap {
    const char *kind;             /* "building" or "grid" */
    int64_t fid;                  /* building fid, or -1 for a grid centroid */
    char grid_code[32];           /* the grid, for kind "grid" */
    double lon, lat;
    coverage_counts_t added;      /* newly covered by this pick, after the earlier picks */
} coverage_gap_t;

/* Suggests up to k new sites for circle def (index into cov->defs) by greedy maximal covering.
 * What a site brings: *type when not NULL (one of the circle's facility types; "gaining access to
 * that type" is what counts); when *type is NULL, a circle matched "all" with several types uses the
 * type the most households lack (and sets *type to it), a one-type circle that type, and an "any"
 * circle coverage of the circle itself (as computed in cov). New sites reach radius_m in a straight
 * line. Candidates are the buildings without it (sampled evenly down to max_candidates) and/or grid
 * centroids (point on surface); each round picks the candidate adding the most households still
 * without it (ties: buildings before grids, then lower fid/code); stops when nothing more can be
 * added. Returns 0 with *picks (free()), *npicks and *before (the counts that have it now);
 * GP_EINVAL when *type is not one of the circle's types. */
int coverage_gaps(GEOSContextHandle_t gctx, const circles_data_t *d, const coverage_t *cov, int def, const char **type, int k,
                  int candidates, int max_candidates, coverage_counts_t *before, coverage_gap_t **picks, int *npicks,
                  char *err, size_t errlen);
/* Appends {"circle","facility_type","mode","radius_m","total","before","sites":[{rank,kind,fid|grid_code,lon,lat,
 * added}],"after"}. */
int coverage_gaps_json(const coverage_t *cov, int def, const char *type, const coverage_counts_t *before,
                       const coverage_gap_t *picks, int npicks, buf_t *out);

#endif
