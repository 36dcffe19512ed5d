/* plan_fixtures.h — shared helpers for the plan tests: synthetic areas and real GeoJSON loading. */
#ifndef GP_PLAN_FIXTURES_H
#define GP_PLAN_FIXTURES_H
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "err.h"
#include "plan.h"

/* One GEOS context `g` and plan context `ctx` per test, created before and released after it. */
#define FX_PLAN_SUITE(name)                                                                                  \
    static GEOSContextHandle_t g;                                                                            \
    static plan_ctx_t ctx;                                                                                   \
    static void setup(void) {                                                                                \
        g = geo_ctx_new();                                                                                   \
        plan_ctx_init(&ctx, g);                                                                              \
    }                                                                                                        \
    static void teardown(void) {                                                                             \
        plan_ctx_release(&ctx);                                                                              \
        geo_ctx_free(g);                                                                                     \
    }                                                                                                        \
    TestSuite(name, .init = setup, .fini = teardown)

static inline GEOSGeometry *fx_wkt(GEOSContextHandle_t g, const char *wkt) {
    GEOSWKTReader *r = GEOSWKTReader_create_r(g);
    GEOSGeometry *geom = GEOSWKTReader_read_r(g, r, wkt);
    GEOSWKTReader_destroy_r(g, r);
    cr_assert_not_null(geom, "bad WKT in test: %s", wkt);
    return geom;
}

/* Loads a FeatureCollection; returns the features array (caller decrefs the root in *root). */
static inline json_t *fx_features(const char *path, json_t **root) {
    json_error_t je;
    *root = json_load_file(path, 0, &je);
    cr_assert_not_null(*root, "%s: %s", path, je.text);
    return json_object_get(*root, "features");
}

/* Asserts the guarantees every split must keep: exact tiling, households conserved, valid parts;
 * contiguity when the area is one polygon. */
static inline void fx_assert_exact(GEOSContextHandle_t g, const GEOSGeometry *area, const plan_split_t *s, long households) {
    cr_assert(s->quality.symdiff_ratio < PLAN_EXACT_TOL, "union differs from original: %g", s->quality.symdiff_ratio);
    cr_assert(s->quality.area_ratio < PLAN_EXACT_TOL, "areas do not add up (overlap or gap): %g", s->quality.area_ratio);
    cr_assert(s->exact, "exact flag unset: %s", s->reason);
    long sum = 0;
    for (int p = 0; p < s->k; p++) {
        sum += s->parts[p].households;
        cr_assert(s->parts[p].valid, "part %d invalid", p);
    }
    cr_assert_eq(sum, households, "households %ld -> %ld", households, sum);
    if (GEOSGeomTypeId_r(g, area) == GEOS_POLYGON) cr_assert(s->quality.contiguous, "a part is not one polygon: %s", s->reason);
}
#endif
