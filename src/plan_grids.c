/* plan_grids.c — grid division of a community and the grid numbering rule.
 *
 * Numbering (Beijing DB11 style, "west to east, north to south"), made precise:
 *   1. Each grid's reference point is its point-on-surface (always inside the grid).
 *   2. h = the median height of the grids' envelopes.
 *   3. Grids are taken in order of decreasing reference latitude. The first remaining grid opens a
 *      row; each following grid joins the current row while its reference point lies less than h/2
 *      south of the reference point of the grid that opened the row, else it opens the next row.
 *   4. Rows are numbered north to south; within a row grids go west to east (increasing longitude,
 *      ties by latitude, north first). seq runs 1..k over that order; code = community code + %03d. */
#include "plan.h"
#include "err.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int part; double x, y; int row; } gridref_t;

static int by_lat_desc(const void *pa, const void *pb) {
    const gridref_t *a = pa, *b = pb;
    if (a->y != b->y) return a->y > b->y ? -1 : 1;
    return a->x < b->x ? -1 : a->x > b->x;
}
static int by_row_then_lon(const void *pa, const void *pb) {
    const gridref_t *a = pa, *b = pb;
    if (a->row != b->row) return a->row - b->row;
    if (a->x != b->x) return a->x < b->x ? -1 : 1;
    return a->y > b->y ? -1 : a->y < b->y;
}
static int dbl_cmp(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

int plan_grid_number(plan_ctx_t *ctx, plan_split_t *s, const char *community_code, char *err, size_t errlen) {
    GEOSContextHandle_t g = ctx->g;
    if (!community_code || strlen(community_code) != 12 || strspn(community_code, "0123456789") != 12)
        return err_set(err, errlen, GP_EINVAL, "community code '%s' is not 12 digits", community_code ? community_code : "");
    if (s->k > 999) return err_set(err, errlen, GP_EINVAL, "%d grids do not fit a 3-digit grid number", s->k);
    gridref_t *refs = malloc((size_t)s->k * sizeof *refs);
    double *heights = malloc((size_t)s->k * sizeof *heights);
    plan_part_t *sorted = malloc((size_t)s->k * sizeof *sorted);
    int *newpos = malloc((size_t)s->k * sizeof *newpos);
    int rc = 0;
    if (!refs || !heights || !sorted || !newpos) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    for (int p = 0; p < s->k; p++) {
        double minx, miny, maxx, maxy;
        GEOSGeometry *pos = GEOSPointOnSurface_r(g, s->parts[p].geom);
        if (!pos || geo_bounds(g, s->parts[p].geom, &minx, &miny, &maxx, &maxy)) {
            GEOSGeom_destroy_r(g, pos);
            rc = err_set(err, errlen, GP_EGEOM, "grid %d has no interior point", p + 1);
            goto end;
        }
        refs[p].part = p;
        GEOSGeomGetX_r(g, pos, &refs[p].x);
        GEOSGeomGetY_r(g, pos, &refs[p].y);
        GEOSGeom_destroy_r(g, pos);
        heights[p] = maxy - miny;
    }
    qsort(heights, (size_t)s->k, sizeof *heights, dbl_cmp);
    double h = heights[s->k / 2];
    qsort(refs, (size_t)s->k, sizeof *refs, by_lat_desc);
    int row = 0;
    double row_top = s->k ? refs[0].y : 0;
    for (int i = 0; i < s->k; i++) {
        if (row_top - refs[i].y >= h / 2) { row++; row_top = refs[i].y; }
        refs[i].row = row;
    }
    qsort(refs, (size_t)s->k, sizeof *refs, by_row_then_lon);
    for (int i = 0; i < s->k; i++) {
        sorted[i] = s->parts[refs[i].part];
        sorted[i].seq = i + 1;
        snprintf(sorted[i].code, sizeof sorted[i].code, "%s%03d", community_code, i + 1);
        newpos[refs[i].part] = i;
    }
    memcpy(s->parts, sorted, (size_t)s->k * sizeof *sorted);
    for (size_t b = 0; b < s->nbuildings; b++) s->building_part[b] = newpos[s->building_part[b]];
    for (size_t i = 0; i < s->nunits; i++) s->unit_part[i] = newpos[s->unit_part[i]];
end:
    free(refs);
    free(sorted);
    free(newpos);
    free(heights);
    return rc;
}

int plan_grids(plan_ctx_t *ctx, const GEOSGeometry *area, const plan_building_t *blds, size_t nb,
               const rules_band_t *grid_band, const char *community_code, const GEOSGeometry *roads,
               plan_split_t **out, char *err, size_t errlen) {
    int rc = plan_split_buildings(ctx, area, blds, nb, 0, grid_band, roads, out, err, errlen);
    if (rc) return rc;
    rc = plan_grid_number(ctx, *out, community_code, err, errlen);
    if (rc) {
        plan_split_free(ctx->g, *out);
        *out = NULL;
    }
    return rc;
}
