/* plan_split.c — split an area into k parts of whole units: partition, union, verify, explain.
 *
 * Results are never trusted: after the partition each part's cells are coverage-unioned and the
 * parts are checked (plan_quality_measure) for validity, single-polygon contiguity, exact tiling
 * and household conservation; band misses are explained in `reason`, naming the building whose
 * households alone exceed the band when that is the cause. */
#include "plan.h"
#include "err.h"
#include "log.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int plan_choose_k(long households, const rules_band_t *band) {
    if (households <= 0 || band->max <= 0) return 1;
    long lo = (households + band->max - 1) / band->max;            /* fewest parts under the top */
    long hi = band->min > 0 ? households / band->min : households;  /* most parts over the bottom */
    long target = band->target > 0 ? band->target : (band->min + band->max) / 2;
    if (lo < 1) lo = 1;
    if (hi < lo) return (int)lo;
    long best = lo;
    double best_d = INFINITY;
    for (long k = lo; k <= hi; k++) {
        double d = fabs((double)households / (double)k - (double)target);
        if (d < best_d) { best_d = d; best = k; }
    }
    return (int)best;
}

void plan_split_free(GEOSContextHandle_t g, plan_split_t *s) {
    if (!s) return;
    if (s->parts)
        for (int p = 0; p < s->k; p++) GEOSGeom_destroy_r(g, s->parts[p].geom);
    free(s->parts);
    free(s->building_part);
    free(s->unit_part);
    free(s);
}

/* Appends to s->reason (bounded). */
static void reason_add(plan_split_t *s, const char *text) {
    size_t len = strlen(s->reason);
    snprintf(s->reason + len, sizeof s->reason - len, "%s%s", len ? "; " : "", text);
}

int plan_split_units(plan_ctx_t *ctx, const GEOSGeometry *area, const plan_units_t *u, int k, const rules_band_t *band,
                     plan_split_t **out, char *err, size_t errlen) {
    GEOSContextHandle_t g = ctx->g;
    double t0 = log_now();
    long total = 0;
    int rc = 0;
    GEOSGeometry *own_area = NULL;
    *out = NULL;
    for (size_t i = 0; i < u->n; i++) total += u->households[i];
    if (k <= 0) {
        /* Chosen from the band: never more parts than units (the band miss is then reported). */
        k = plan_choose_k(total, band);
        if ((size_t)k > u->n) k = (int)u->n;
    }
    if ((size_t)k > u->n)
        return err_set(err, errlen, GP_EINFEASIBLE, "cannot make %d parts of %zu unit%s (every building stays whole)", k,
                       u->n, u->n == 1 ? "" : "s");
    plan_split_t *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, errlen, GP_ENOMEM, "out of memory");
    s->k = k;
    s->nunits = u->n;
    s->nbuildings = u->nbuildings;
    s->parts = calloc((size_t)k, sizeof *s->parts);
    s->unit_part = malloc(u->n * sizeof *s->unit_part);
    s->building_part = malloc((u->nbuildings ? u->nbuildings : 1) * sizeof *s->building_part);
    if (!s->parts || !s->unit_part || !s->building_part) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    rc = plan_partition(u, k, band, s->unit_part, err, errlen);
    if (rc) goto end;
    for (size_t b = 0; b < u->nbuildings; b++) {
        s->building_part[b] = s->unit_part[u->building_unit[b]];
        s->parts[s->building_part[b]].nbuildings++;
    }
    /* Union each part's cells: one pass collecting clones per part. */
    GEOSGeometry **cells = malloc(u->n * sizeof *cells);
    if (!cells) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    for (int p = 0; p < k && !rc; p++) {
        unsigned nc = 0;
        plan_part_t *pt = &s->parts[p];
        for (size_t i = 0; i < u->n; i++) {
            if (s->unit_part[i] != p) continue;
            cells[nc++] = GEOSGeom_clone_r(g, u->cells[i]);
            pt->households += u->households[i];
            pt->population += u->population[i];
            pt->nunits++;
        }
        GEOSGeometry *coll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, cells, nc);
        GEOSGeometry *uni = coll ? GEOSCoverageUnion_r(g, coll) : NULL;
        if (!uni && coll) uni = GEOSUnaryUnion_r(g, coll);   /* given polygons that don't share vertices */
        GEOSGeom_destroy_r(g, coll);
        if (!uni) { rc = err_set(err, errlen, GP_EGEOM, "union of part %d: %s", p + 1, geo_last_error(g)); break; }
        pt->geom = uni;
    }
    free(cells);
    if (rc) goto end;
    s->quality.households_in = total;
    if (!area) {
        GEOSGeometry **all = malloc(u->n * sizeof *all);
        if (!all) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
        for (size_t i = 0; i < u->n; i++) all[i] = GEOSGeom_clone_r(g, u->cells[i]);
        GEOSGeometry *coll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, all, (unsigned)u->n);
        free(all);
        own_area = coll ? GEOSUnaryUnion_r(g, coll) : NULL;
        GEOSGeom_destroy_r(g, coll);
        area = own_area;
        if (!area) { rc = err_set(err, errlen, GP_EGEOM, "union of the units: %s", geo_last_error(g)); goto end; }
    }
    rc = plan_quality_measure(ctx, area, band, s, err, errlen);
    if (rc) goto end;
    /* Explain what is not as asked. */
    long biggest = 0;
    for (size_t i = 0; i < u->n; i++)
        if (u->households[i] > biggest) biggest = u->households[i];
    char line[256];
    if (biggest > band->max) {
        snprintf(line, sizeof line, "one building (or unit) holds %ld households, more than the band's top %ld", biggest,
                 band->max);
        reason_add(s, line);
        for (int p = 0; p < k; p++) {
            if (s->parts[p].in_band) continue;
            for (size_t i = 0; i < u->n; i++)
                if (s->unit_part[i] == p && u->households[i] > band->max) { s->quality.forced_by_building++; break; }
        }
    }
    if (s->quality.outside_band > s->quality.forced_by_building) {
        snprintf(line, sizeof line, "%d of %d parts outside %ld–%ld households (%ld households in %d parts%s)",
                 s->quality.outside_band, k, band->min, band->max, total, k,
                 (double)total / k < band->min ? ": too few households for this many parts"
                 : (double)total / k > band->max ? ": too many households for this many parts"
                                                 : ": no contiguous arrangement of whole buildings found by moving one unit, or a chain of two, from 5 METIS starts");
        reason_add(s, line);
    }
    if (!s->quality.contiguous) {
        int multi = GEOSGeomTypeId_r(g, area) == GEOS_MULTIPOLYGON && GEOSGetNumGeometries_r(g, area) > 1;
        snprintf(line, sizeof line, multi ? "the area is in %d pieces, so a part holds an exclave"
                                          : "a part is not one polygon (%d pieces in the area)",
                 GEOSGetNumGeometries_r(g, area));
        reason_add(s, line);
    }
    if (!s->exact) {
        snprintf(line, sizeof line, "exactness check failed: symmetric difference %.3g, area sum %.3g, households %ld -> %ld",
                 s->quality.symdiff_ratio, s->quality.area_ratio, s->quality.households_in, s->quality.households_out);
        reason_add(s, line);
    }
    s->quality.seconds = log_now() - t0;
    *out = s;
    s = NULL;
end:
    GEOSGeom_destroy_r(g, own_area);
    plan_split_free(g, s);
    return rc;
}

int plan_split_buildings(plan_ctx_t *ctx, const GEOSGeometry *area, const plan_building_t *blds, size_t nb, int k,
                         const rules_band_t *band, const GEOSGeometry *roads, plan_split_t **out, char *err,
                         size_t errlen) {
    double t0 = log_now();
    plan_units_t *u;
    *out = NULL;
    int rc = plan_units_from_buildings(ctx, area, blds, nb, roads, &u, err, errlen);
    if (rc) return rc;
    rc = plan_split_units(ctx, area, u, k, band, out, err, errlen);
    plan_units_free(ctx->g, u);
    if (!rc) (*out)->quality.seconds = log_now() - t0;
    return rc;
}
