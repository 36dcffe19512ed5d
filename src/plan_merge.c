/* plan_merge.c — merge a small community into the neighbour that keeps the result inside the band.
 *
 * Neighbours are communities sharing more than PLAN_MERGE_MIN_SHARED_M of boundary (a corner is not
 * enough). Shared length is measured on the exact common boundary, and when data were digitised
 * without shared vertices, on the boundary lying within 1e-7° (~1 cm) of the other polygon. The
 * merged polygon is the overlay union; it must be one valid polygon whose area is the sum of the two. */
#include "plan.h"
#include "err.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_MERGE_MIN_SHARED_M 1.0

static double shared_length(plan_ctx_t *ctx, const GEOSGeometry *a, const GEOSGeometry *b) {
    GEOSContextHandle_t g = ctx->g;
    GEOSGeometry *ba = GEOSBoundary_r(g, a), *near = GEOSBuffer_r(g, b, 1e-7, 2);
    GEOSGeometry *shared = ba && near ? GEOSIntersection_r(g, ba, near) : NULL;
    double len = 0;
    if (shared && !GEOSisEmpty_r(g, shared)) {
        GEOSGeometry *m = plan_metric(ctx, shared, NULL, 0);
        if (m) GEOSLength_r(g, m, &len);
        GEOSGeom_destroy_r(g, m);
    }
    GEOSGeom_destroy_r(g, ba);
    GEOSGeom_destroy_r(g, near);
    GEOSGeom_destroy_r(g, shared);
    return len;
}

int plan_merge_choose(plan_ctx_t *ctx, const plan_community_t *comms, size_t n, int small, int into,
                      const rules_band_t *band, plan_merge_t *out, char *err, size_t errlen) {
    GEOSContextHandle_t g = ctx->g;
    const plan_community_t *s = &comms[small];
    char why[1024] = "";
    size_t wl = 0;
    int best = -1, best_street = 0, neighbours = 0;
    double best_len = 0;
    memset(out, 0, sizeof *out);
    out->small = small;
    out->into = -1;
    if (s->locked) return err_set(err, errlen, GP_ECONFLICT, "community %s is locked", s->code);
    double minx, miny, maxx, maxy;
    if (geo_bounds(g, s->geom, &minx, &miny, &maxx, &maxy))
        return err_set(err, errlen, GP_EGEOM, "community %s has no geometry", s->code);
    for (size_t j = 0; j < n; j++) {
        if ((int)j == small || (into >= 0 && (int)j != into) || !comms[j].geom) continue;
        double a, b, c, d;
        if (geo_bounds(g, comms[j].geom, &a, &b, &c, &d) || a > maxx + 1e-6 || c < minx - 1e-6 || b > maxy + 1e-6 ||
            d < miny - 1e-6)
            continue;
        double len = shared_length(ctx, s->geom, comms[j].geom);
        if (len <= PLAN_MERGE_MIN_SHARED_M) continue;
        neighbours++;
        long total = s->households + comms[j].households;
        const char *refuse = NULL;
        char tmp[160];
        if (comms[j].locked) refuse = "locked";
        else if (total > band->max) {
            snprintf(tmp, sizeof tmp, "%ld households together, over %ld", total, band->max);
            refuse = tmp;
        }
        if (refuse) {
            wl += (size_t)snprintf(why + wl, wl < sizeof why ? sizeof why - wl : 0, "%s%s (%s)", wl ? ", " : "",
                                   comms[j].code, refuse);
            if (wl >= sizeof why) wl = sizeof why - 1;
            continue;
        }
        int street = !strcmp(comms[j].street_code, s->street_code);
        if (best < 0 || street > best_street || (street == best_street && len > best_len)) {
            best = (int)j;
            best_street = street;
            best_len = len;
        }
    }
    if (best < 0) {
        if (into >= 0 && neighbours == 0)
            return err_set(err, errlen, GP_EINFEASIBLE, "community %s shares no boundary with %s (a corner is not enough)",
                           s->code, comms[into].code);
        if (neighbours == 0)
            return err_set(err, errlen, GP_EINFEASIBLE, "community %s has no neighbour sharing a boundary", s->code);
        return err_set(err, errlen, GP_EINFEASIBLE, "no neighbour of community %s (%ld households) can take it: %s", s->code,
                       s->households, why);
    }
    GEOSGeometry *merged = GEOSUnion_r(g, s->geom, comms[best].geom);
    if (!merged) return err_set(err, errlen, GP_EGEOM, "union of %s and %s: %s", s->code, comms[best].code, geo_last_error(g));
    double a_m = 0, a_s = 0, a_b = 0;
    GEOSArea_r(g, merged, &a_m);
    GEOSArea_r(g, s->geom, &a_s);
    GEOSArea_r(g, comms[best].geom, &a_b);
    int parts_before = GEOSGetNumGeometries_r(g, s->geom) + GEOSGetNumGeometries_r(g, comms[best].geom);
    if (GEOSisValid_r(g, merged) != 1 || GEOSGetNumGeometries_r(g, merged) >= parts_before) {
        GEOSGeom_destroy_r(g, merged);
        return err_set(err, errlen, GP_EGEOM, "merging %s into %s gives an invalid or disconnected polygon", s->code,
                       comms[best].code);
    }
    out->into = best;
    out->shared_m = best_len;
    out->same_street = best_street;
    out->households = s->households + comms[best].households;
    out->population = s->population + comms[best].population;
    out->geom = merged;
    out->area_ratio = a_m > 0 ? fabs(a_m - a_s - a_b) / a_m : 1;
    return 0;
}
