/* plan_quality.c — the metric CRS bridge and the checks and figures every partition reports:
 * exactness (union equals the original, areas add up), households conserved, contiguity, validity,
 * band limits, deviation from target and Polsby–Popper compactness. */
#include "plan.h"
#include "err.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void plan_ctx_init(plan_ctx_t *ctx, GEOSContextHandle_t g) {
    memset(ctx, 0, sizeof *ctx);
    ctx->g = g;
}

void plan_ctx_release(plan_ctx_t *ctx) {
    if (!ctx) return;
    srs_free(ctx->metric);
    ctx->metric = NULL;
    ctx->metric_epsg = 0;
    free(ctx->road_bounds);
    ctx->road_bounds = NULL;
    ctx->roads_seen = NULL;
    ctx->nroads = 0;
}

GEOSGeometry *plan_metric(plan_ctx_t *ctx, const GEOSGeometry *lonlat, char *err, size_t errlen) {
    double minx, miny, maxx, maxy;
    if (geo_bounds(ctx->g, lonlat, &minx, &miny, &maxx, &maxy)) {
        err_set(err, errlen, GP_EGEOM, "cannot measure an empty geometry");
        return NULL;
    }
    int epsg = srs_utm_epsg((minx + maxx) / 2, (miny + maxy) / 2);
    if (epsg != ctx->metric_epsg) {
        char to[32];
        snprintf(to, sizeof to, "EPSG:%d", epsg);
        srs_free(ctx->metric);
        ctx->metric = srs_new("EPSG:4326", to, err, errlen);
        ctx->metric_epsg = ctx->metric ? epsg : 0;
        if (!ctx->metric) return NULL;
    }
    return srs_transform(ctx->g, ctx->metric, lonlat, err, errlen);
}

int plan_part_measure(plan_ctx_t *ctx, plan_part_t *pt, char *err, size_t errlen) {
    GEOSContextHandle_t g = ctx->g;
    GEOSGeometry *m = plan_metric(ctx, pt->geom, err, errlen);
    if (!m) return GP_EGEOM;
    GEOSArea_r(g, m, &pt->area_m2);
    GEOSLength_r(g, m, &pt->perimeter_m);
    GEOSGeom_destroy_r(g, m);
    pt->polsby_popper = pt->perimeter_m > 0 ? 4 * M_PI * pt->area_m2 / (pt->perimeter_m * pt->perimeter_m) : 0;
    pt->contiguous = GEOSGeomTypeId_r(g, pt->geom) == GEOS_POLYGON;
    pt->valid = GEOSisValid_r(g, pt->geom) == 1;
    return 0;
}

int plan_quality_measure(plan_ctx_t *ctx, const GEOSGeometry *area, const rules_band_t *band, plan_split_t *s,
                         char *err, size_t errlen) {
    GEOSContextHandle_t g = ctx->g;
    plan_quality_t *q = &s->quality;
    int rc = 0;
    q->parts = s->k;
    q->target = band->target;
    q->band_min = band->min;
    q->band_max = band->max;
    q->contiguous = q->valid = 1;
    q->outside_band = 0;
    q->pp_min = INFINITY;
    q->max_dev = q->mean_dev = q->pp_mean = 0;
    q->households_out = 0;
    GEOSGeometry **clones = malloc((size_t)s->k * sizeof *clones);
    if (!clones) return err_set(err, errlen, GP_ENOMEM, "out of memory");
    double sum_area_deg = 0;
    for (int p = 0; p < s->k; p++) {
        plan_part_t *pt = &s->parts[p];
        if (plan_part_measure(ctx, pt, err, errlen)) {
            for (int j = 0; j < p; j++) GEOSGeom_destroy_r(g, clones[j]);
            free(clones);
            return GP_EGEOM;
        }
        pt->in_band = pt->households >= band->min && pt->households <= band->max;
        double a;
        GEOSArea_r(g, pt->geom, &a);
        sum_area_deg += a;
        q->contiguous &= pt->contiguous;
        q->valid &= pt->valid;
        q->outside_band += !pt->in_band;
        double dev = q->target > 0 ? fabs((double)(pt->households - q->target)) / (double)q->target : 0;
        if (dev > q->max_dev) q->max_dev = dev;
        q->mean_dev += dev / s->k;
        if (pt->polsby_popper < q->pp_min) q->pp_min = pt->polsby_popper;
        q->pp_mean += pt->polsby_popper / s->k;
        q->households_out += pt->households;
        clones[p] = GEOSGeom_clone_r(g, pt->geom);
    }
    /* Parts share exact edges, so their coverage union is exact; then compare with the original.
     * area(union) = Σ area(parts) − overlaps, so union equality plus equal area sums means no overlap. */
    GEOSGeometry *coll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, clones, (unsigned)s->k);
    free(clones);
    GEOSGeometry *uni = coll ? GEOSCoverageUnion_r(g, coll) : NULL;
    if (!uni && coll) uni = GEOSUnaryUnion_r(g, coll);
    GEOSGeom_destroy_r(g, coll);
    GEOSGeometry *diff = uni ? GEOSSymDifference_r(g, uni, area) : NULL;
    double area_deg = 0, diff_area = 0;
    GEOSArea_r(g, area, &area_deg);
    if (!diff) {
        rc = err_set(err, errlen, GP_EGEOM, "checking the union of the parts: %s", geo_last_error(g));
    } else {
        GEOSArea_r(g, diff, &diff_area);
        q->symdiff_ratio = area_deg > 0 ? diff_area / area_deg : 1;
        q->area_ratio = area_deg > 0 ? fabs(sum_area_deg - area_deg) / area_deg : 1;
    }
    GEOSGeom_destroy_r(g, diff);
    GEOSGeom_destroy_r(g, uni);
    s->exact = !rc && q->symdiff_ratio < PLAN_EXACT_TOL && q->area_ratio < PLAN_EXACT_TOL &&
               q->households_in == q->households_out;
    if (!isfinite(q->pp_min)) q->pp_min = 0;
    return rc;
}

void plan_quality_json(const plan_quality_t *q, buf_t *out) {
    buf_printf(out, "{\"parts\":%d,\"target\":%ld,\"band\":[%ld,%ld],\"max_deviation\":", q->parts, q->target, q->band_min,
               q->band_max);
    buf_double(out, q->max_dev, 4);
    buf_puts(out, ",\"mean_deviation\":");
    buf_double(out, q->mean_dev, 4);
    buf_puts(out, ",\"polsby_popper_min\":");
    buf_double(out, q->pp_min, 4);
    buf_puts(out, ",\"polsby_popper_mean\":");
    buf_double(out, q->pp_mean, 4);
    buf_printf(out, ",\"contiguous\":%s,\"valid\":%s,\"outside_band\":%d,\"forced_by_building\":%d,\"symdiff_ratio\":%.3g,"
                    "\"area_ratio\":%.3g,\"households_in\":%ld,\"households_out\":%ld,\"seconds\":",
               q->contiguous ? "true" : "false", q->valid ? "true" : "false", q->outside_band, q->forced_by_building,
               q->symdiff_ratio, q->area_ratio, q->households_in, q->households_out);
    buf_double(out, q->seconds, 4);
    buf_puts(out, "}");
}
