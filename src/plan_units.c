/* plan_units.c — units for partitioning: Voronoi faces of building points or given polygons, and
 * their adjacency graph weighted by shared boundary length.
 *
 * Exactness comes from building all faces out of ONE noded linework: the Voronoi edges and the
 * area's boundary are unioned (noded) together and polygonised, so neighbouring faces share
 * identical vertices and the area's own vertices survive; a coverage union of any set of faces is
 * then exact. The Voronoi diagram is computed with longitude scaled by cos(latitude) so cells are
 * (locally) true metric Voronoi cells, and mapped back before noding. */
#include "plan.h"
#include "err.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EARTH_R 6371008.8
#define DEG2RAD (M_PI / 180.0)
#define ROAD_NEAR_M 15.0

typedef struct { double kx; } scale_t;


/* Approximate metres between two lon/lat points (equirectangular at their mean latitude):
 * used only for edge weights, where relative lengths matter. */
static double seg_metres(double x1, double y1, double x2, double y2) {
    double k = cos((y1 + y2) * 0.5 * DEG2RAD);
    double dx = (x2 - x1) * k * DEG2RAD * EARTH_R, dy = (y2 - y1) * DEG2RAD * EARTH_R;
    return sqrt(dx * dx + dy * dy);
}

void plan_units_free(GEOSContextHandle_t g, plan_units_t *u) {
    if (!u) return;
    for (size_t i = 0; i < u->n; i++) GEOSGeom_destroy_r(g, u->cells[i]);
    free(u->cells);
    free(u->households);
    free(u->population);
    free(u->x);
    free(u->y);
    free(u->xadj);
    free(u->adjncy);
    free(u->adjlen);
    free(u->adjroad);
    free(u->building_unit);
    free(u);
}

static plan_units_t *units_alloc(size_t n, size_t nb) {
    plan_units_t *u = calloc(1, sizeof *u);
    if (!u) return NULL;
    u->n = 0;
    u->cells = calloc(n ? n : 1, sizeof *u->cells);
    u->households = calloc(n ? n : 1, sizeof *u->households);
    u->population = calloc(n ? n : 1, sizeof *u->population);
    u->x = calloc(n ? n : 1, sizeof *u->x);
    u->y = calloc(n ? n : 1, sizeof *u->y);
    u->nbuildings = nb;
    u->building_unit = calloc(nb ? nb : 1, sizeof *u->building_unit);
    if (!u->cells || !u->households || !u->population || !u->x || !u->y || !u->building_unit) {
        free(u->cells); free(u->households); free(u->population); free(u->x); free(u->y); free(u->building_unit);
        free(u);
        return NULL;
    }
    return u;
}

/* ---- adjacency from exact shared segments ---------------------------------------------------- */
typedef struct { double ax, ay, bx, by; int unit; } seg_t;
typedef struct { int a, b; double len, road; } pair_t;

static int seg_cmp(const void *pa, const void *pb) {
    const seg_t *p = pa, *q = pb;
    if (p->ax != q->ax) return p->ax < q->ax ? -1 : 1;
    if (p->ay != q->ay) return p->ay < q->ay ? -1 : 1;
    if (p->bx != q->bx) return p->bx < q->bx ? -1 : 1;
    if (p->by != q->by) return p->by < q->by ? -1 : 1;
    return p->unit - q->unit;
}
static int pair_cmp(const void *pa, const void *pb) {
    const pair_t *p = pa, *q = pb;
    if (p->a != q->a) return p->a - q->a;
    return p->b - q->b;
}

typedef struct { seg_t *v; size_t n, cap; } segvec_t;
static int segvec_push(segvec_t *s, seg_t x) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        seg_t *v = realloc(s->v, cap * sizeof *v);
        if (!v) return GP_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return 0;
}

static int ring_segments(GEOSContextHandle_t g, const GEOSGeometry *ring, int unit, segvec_t *out) {
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(g, ring);
    unsigned int n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(g, cs, &n)) return GP_EGEOM;
    double px = 0, py = 0;
    for (unsigned int i = 0; i < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(g, cs, i, &x, &y);
        if (i > 0 && (x != px || y != py)) {
            seg_t s = {px, py, x, y, unit};
            if (x < px || (x == px && y < py)) { s.ax = x; s.ay = y; s.bx = px; s.by = py; }
            if (segvec_push(out, s)) return GP_ENOMEM;
        }
        px = x;
        py = y;
    }
    return 0;
}

/* Builds CSR arrays from (a,b,len,road) pairs (a<b, possibly repeated): symmetric, summed. */
static int build_csr(plan_units_t *u, pair_t *pairs, size_t np) {
    qsort(pairs, np, sizeof *pairs, pair_cmp);
    size_t m = 0;
    for (size_t i = 0; i < np; i++) {
        if (m && pairs[m - 1].a == pairs[i].a && pairs[m - 1].b == pairs[i].b) {
            pairs[m - 1].len += pairs[i].len;
            pairs[m - 1].road += pairs[i].road;
        } else {
            pairs[m++] = pairs[i];
        }
    }
    u->xadj = calloc(u->n + 1, sizeof *u->xadj);
    u->adjncy = malloc((2 * m + 1) * sizeof *u->adjncy);
    u->adjlen = malloc((2 * m + 1) * sizeof *u->adjlen);
    u->adjroad = malloc((2 * m + 1) * sizeof *u->adjroad);
    int *fill = calloc(u->n + 1, sizeof *fill);
    if (!u->xadj || !u->adjncy || !u->adjlen || !u->adjroad || !fill) {
        free(fill);
        return GP_ENOMEM;
    }
    for (size_t i = 0; i < m; i++) {
        u->xadj[pairs[i].a + 1]++;
        u->xadj[pairs[i].b + 1]++;
    }
    for (size_t i = 0; i < u->n; i++) u->xadj[i + 1] += u->xadj[i];
    for (size_t i = 0; i < m; i++) {
        int a = pairs[i].a, b = pairs[i].b;
        int ia = u->xadj[a] + fill[a]++, ib = u->xadj[b] + fill[b]++;
        u->adjncy[ia] = b;
        u->adjncy[ib] = a;
        u->adjlen[ia] = u->adjlen[ib] = pairs[i].len;
        u->adjroad[ia] = u->adjroad[ib] = pairs[i].road;
    }
    free(fill);
    return 0;
}

/* ---- roads near shared edges ----------------------------------------------------------------
 * A uniform grid over the area (cells ROAD_NEAR_M wide) holding the road segments that pass near each
 * cell; a shared edge runs along a road when its midpoint is within ROAD_NEAR_M of a segment. Lengths
 * in the scaled plane (x·cos φ, y) are metric up to a constant, which is all a threshold needs. */
typedef struct {
    double x0, y0, cell, kx;   /* scaled plane */
    int nx, ny;
    int *start, *items;        /* CSR: segments of cell c are items[start[c] .. start[c+1]-1] */
    double *seg;               /* 4 doubles per segment, scaled */
    size_t nseg;
} road_index_t;

static void road_index_free(road_index_t *ri) {
    free(ri->start);
    free(ri->items);
    free(ri->seg);
}

static void road_cells(const road_index_t *ri, const double *s, int *cx0, int *cy0, int *cx1, int *cy1) {
    double lo_x = fmin(s[0], s[2]) - ri->cell, hi_x = fmax(s[0], s[2]) + ri->cell;
    double lo_y = fmin(s[1], s[3]) - ri->cell, hi_y = fmax(s[1], s[3]) + ri->cell;
    *cx0 = (int)fmax(0, floor((lo_x - ri->x0) / ri->cell));
    *cy0 = (int)fmax(0, floor((lo_y - ri->y0) / ri->cell));
    *cx1 = (int)fmin(ri->nx - 1, floor((hi_x - ri->x0) / ri->cell));
    *cy1 = (int)fmin(ri->ny - 1, floor((hi_y - ri->y0) / ri->cell));
}

int plan_ctx_roads(plan_ctx_t *ctx, const GEOSGeometry *roads) {
    if (ctx->roads_seen == roads) return 0;
    /* Every community looks at the same road layer: measure each line's envelope once. */
    GEOSContextHandle_t g = ctx->g;
    int n = GEOSGetNumGeometries_r(g, roads);
    double *b = malloc(((size_t)n + 1) * 4 * sizeof *b);
    if (!b) return GP_ENOMEM;
    for (int l = 0; l < n; l++)
        if (geo_bounds(g, GEOSGetGeometryN_r(g, roads, l), &b[4 * l], &b[4 * l + 1], &b[4 * l + 2], &b[4 * l + 3]))
            b[4 * l] = INFINITY;
    free(ctx->road_bounds);
    ctx->road_bounds = b;
    ctx->nroads = n;
    ctx->roads_seen = roads;
    return 0;
}

/* Builds the index from the road lines inside the padded area envelope. Returns 0 (an empty index when
 * there are no roads) or GP_ENOMEM. */
static int road_index_build(plan_ctx_t *ctx, const GEOSGeometry *roads, double kx, double minx, double miny,
                            double maxx, double maxy, road_index_t *ri) {
    GEOSContextHandle_t g = ctx->g;
    memset(ri, 0, sizeof *ri);
    if (plan_ctx_roads(ctx, roads)) return GP_ENOMEM;
    ri->kx = kx;
    ri->cell = ROAD_NEAR_M / (DEG2RAD * EARTH_R);
    ri->x0 = minx * kx - 2 * ri->cell;
    ri->y0 = miny - 2 * ri->cell;
    double w = (maxx - minx) * kx + 4 * ri->cell, h = (maxy - miny) + 4 * ri->cell;
    /* Keep the grid modest for huge areas: cells grow so there are at most ~1M of them. */
    while ((w / ri->cell) * (h / ri->cell) > 1e6) ri->cell *= 2;
    ri->nx = (int)(w / ri->cell) + 1;
    ri->ny = (int)(h / ri->cell) + 1;
    size_t cap = 0;
    for (int l = 0; l < ctx->nroads; l++) {
        const double *rb = &ctx->road_bounds[4 * l];
        if (rb[2] < minx - 1e-3 || rb[0] > maxx + 1e-3 || rb[3] < miny - 1e-3 || rb[1] > maxy + 1e-3) continue;
        const GEOSGeometry *line = GEOSGetGeometryN_r(g, roads, l);
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(g, line);
        unsigned int n = 0;
        if (!cs || !GEOSCoordSeq_getSize_r(g, cs, &n)) continue;
        double px = 0, py = 0;
        for (unsigned int k = 0; k < n; k++) {
            double x, y;
            GEOSCoordSeq_getXY_r(g, cs, k, &x, &y);
            x *= kx;
            if (k > 0) {
                if (ri->nseg == cap) {
                    cap = cap ? cap * 2 : 256;
                    double *m = realloc(ri->seg, cap * 4 * sizeof *m);
                    if (!m) return GP_ENOMEM;
                    ri->seg = m;
                }
                double *s = &ri->seg[4 * ri->nseg++];
                s[0] = px; s[1] = py; s[2] = x; s[3] = y;
            }
            px = x;
            py = y;
        }
    }
    size_t ncell = (size_t)ri->nx * (size_t)ri->ny;
    ri->start = calloc(ncell + 1, sizeof *ri->start);
    if (!ri->start) return GP_ENOMEM;
    for (int pass = 0; pass < 2; pass++) {
        int *fill = pass ? calloc(ncell, sizeof *fill) : NULL;
        if (pass && !fill) return GP_ENOMEM;
        for (size_t i = 0; i < ri->nseg; i++) {
            int cx0, cy0, cx1, cy1;
            road_cells(ri, &ri->seg[4 * i], &cx0, &cy0, &cx1, &cy1);
            for (int cy = cy0; cy <= cy1; cy++)
                for (int cx = cx0; cx <= cx1; cx++) {
                    size_t c = (size_t)cy * (size_t)ri->nx + (size_t)cx;
                    if (pass) ri->items[ri->start[c] + fill[c]++] = (int)i;
                    else ri->start[c + 1]++;
                }
        }
        if (!pass) {
            for (size_t c = 0; c < ncell; c++) ri->start[c + 1] += ri->start[c];
            ri->items = malloc(((size_t)ri->start[ncell] + 1) * sizeof *ri->items);
            if (!ri->items) return GP_ENOMEM;
        }
        free(fill);
    }
    return 0;
}

/* True when lon/lat point (x, y) lies within ROAD_NEAR_M of an indexed road segment. */
static int road_near(const road_index_t *ri, double x, double y) {
    if (!ri->nseg) return 0;
    x *= ri->kx;
    int cx = (int)floor((x - ri->x0) / ri->cell), cy = (int)floor((y - ri->y0) / ri->cell);
    if (cx < 0 || cy < 0 || cx >= ri->nx || cy >= ri->ny) return 0;
    size_t c = (size_t)cy * (size_t)ri->nx + (size_t)cx;
    double lim = ROAD_NEAR_M / (DEG2RAD * EARTH_R);
    for (int k = ri->start[c]; k < ri->start[c + 1]; k++) {
        const double *s = &ri->seg[4 * ri->items[k]];
        double dx = s[2] - s[0], dy = s[3] - s[1], len2 = dx * dx + dy * dy;
        double t = len2 > 0 ? ((x - s[0]) * dx + (y - s[1]) * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        double ex = s[0] + t * dx - x, ey = s[1] + t * dy - y;
        if (ex * ex + ey * ey <= lim * lim) return 1;
    }
    return 0;
}

/* Adjacency of faces that share identical segments (true for faces of one polygonised linework). */
static int adjacency_exact(plan_ctx_t *ctx, plan_units_t *u, const road_index_t *roads) {
    GEOSContextHandle_t g = ctx->g;
    segvec_t segs = {0};
    int rc = 0;
    for (size_t i = 0; i < u->n && !rc; i++) {
        const GEOSGeometry *cell = u->cells[i];
        rc = ring_segments(g, GEOSGetExteriorRing_r(g, cell), (int)i, &segs);
        int nh = GEOSGetNumInteriorRings_r(g, cell);
        for (int h = 0; h < nh && !rc; h++) rc = ring_segments(g, GEOSGetInteriorRingN_r(g, cell, h), (int)i, &segs);
    }
    if (rc) {
        free(segs.v);
        return rc;
    }
    qsort(segs.v, segs.n, sizeof *segs.v, seg_cmp);
    pair_t *pairs = malloc((segs.n / 2 + 1) * sizeof *pairs);
    size_t np = 0;
    if (!pairs) {
        free(segs.v);
        return GP_ENOMEM;
    }
    for (size_t i = 0; i + 1 < segs.n; i++) {
        seg_t *s = &segs.v[i], *t = &segs.v[i + 1];
        if (s->ax != t->ax || s->ay != t->ay || s->bx != t->bx || s->by != t->by || s->unit == t->unit) continue;
        pair_t p = {s->unit < t->unit ? s->unit : t->unit, s->unit < t->unit ? t->unit : s->unit,
                    seg_metres(s->ax, s->ay, s->bx, s->by), 0};
        if (roads && road_near(roads, (s->ax + s->bx) / 2, (s->ay + s->by) / 2)) p.road = p.len;
        pairs[np++] = p;
        i++;
    }
    free(segs.v);
    rc = build_csr(u, pairs, np);
    free(pairs);
    return rc;
}

static int point_inside(GEOSContextHandle_t g, const GEOSGeometry *cell, double *x, double *y) {
    GEOSGeometry *p = GEOSPointOnSurface_r(g, cell);
    if (!p) return GP_EGEOM;
    int ok = GEOSGeomGetX_r(g, p, x) && GEOSGeomGetY_r(g, p, y);
    GEOSGeom_destroy_r(g, p);
    return ok ? 0 : GP_EGEOM;
}

/* Whether a face of the noded linework belongs to the area (1), not (0), or GEOS failed (-1).
 *
 * A face's point-on-surface decides, except when that point lies within FACE_AMBIGUOUS_DEG of the
 * area's boundary: noding moves the boundary by rounding where Voronoi edges cross it, so a sliver
 * between two nearly coincident boundary edges (a spike of the community outline) can have its
 * interior point on the wrong side. Such a face is inside when most of its area is: a 2.9e-12 deg²
 * sliver outside demo community 150102021068 was kept otherwise, and its grids then differed from
 * it by 1.6e-7 of its area. Only these few faces pay for an intersection; should it fail (a
 * topology exception), the point's answer stands, as before. */
#define FACE_AMBIGUOUS_DEG 1e-7
static int face_inside(GEOSContextHandle_t g, const GEOSGeometry *face, double x, double y, const GEOSGeometry *area,
                       const GEOSPreparedGeometry *parea, const GEOSPreparedGeometry *pboundary) {
    GEOSGeometry *p = GEOSGeom_createPointFromXY_r(g, x, y);
    if (!p) return -1;
    int inside = GEOSPreparedContains_r(g, parea, p);
    int near = inside >= 0 ? GEOSPreparedDistanceWithin_r(g, pboundary, p, FACE_AMBIGUOUS_DEG) : -1;
    GEOSGeom_destroy_r(g, p);
    if (inside < 0 || near < 0) return -1;
    if (!near) return inside;
    GEOSGeometry *common = GEOSIntersection_r(g, face, area);
    double fa = 0, ca = 0;
    int ok = common && GEOSArea_r(g, face, &fa) && GEOSArea_r(g, common, &ca);
    GEOSGeom_destroy_r(g, common);
    return ok ? ca > 0.5 * fa : inside;   /* an overlay failure leaves the point's answer */
}

typedef struct { double x, y; int first; } gen_t;

/* STRtree query callback: the lowest-numbered face the point lies in or on. */
struct hit { GEOSContextHandle_t g; const GEOSGeometry *p; plan_units_t *u; int found; };
static void hit_face(void *item, void *user) {
    struct hit *h = user;
    int f = (int)(intptr_t)item;
    if ((h->found < 0 || f < h->found) && GEOSIntersects_r(h->g, h->u->cells[f], h->p) == 1) h->found = f;
}

static int idx_cmp(const void *pa, const void *pb, void *user) {
    const plan_building_t *blds = user;
    const plan_building_t *a = &blds[*(const int *)pa], *b = &blds[*(const int *)pb];
    if (a->x != b->x) return a->x < b->x ? -1 : 1;
    if (a->y != b->y) return a->y < b->y ? -1 : 1;
    return *(const int *)pa - *(const int *)pb;
}

typedef struct { double minx, miny, maxx, maxy; size_t i; } unit_key_t;
static int unit_key_cmp(const void *pa, const void *pb) {
    const unit_key_t *a = pa, *b = pb;
    if (a->miny != b->miny) return a->miny < b->miny ? -1 : 1;
    if (a->minx != b->minx) return a->minx < b->minx ? -1 : 1;
    if (a->maxy != b->maxy) return a->maxy < b->maxy ? -1 : 1;
    if (a->maxx != b->maxx) return a->maxx < b->maxx ? -1 : 1;
    return 0;
}

/* Reorders cells (and their interior points) by envelope; called before households are attached. */
static int sort_units(GEOSContextHandle_t g, plan_units_t *u) {
    unit_key_t *keys = malloc(u->n * sizeof *keys);
    GEOSGeometry **cells = malloc(u->n * sizeof *cells);
    double *x = malloc(u->n * sizeof *x), *y = malloc(u->n * sizeof *y);
    if (!keys || !cells || !x || !y) { free(keys); free(cells); free(x); free(y); return GP_ENOMEM; }
    for (size_t i = 0; i < u->n; i++) {
        keys[i].i = i;
        geo_bounds(g, u->cells[i], &keys[i].minx, &keys[i].miny, &keys[i].maxx, &keys[i].maxy);
    }
    qsort(keys, u->n, sizeof *keys, unit_key_cmp);
    for (size_t k = 0; k < u->n; k++) {
        cells[k] = u->cells[keys[k].i];
        x[k] = u->x[keys[k].i];
        y[k] = u->y[keys[k].i];
    }
    memcpy(u->cells, cells, u->n * sizeof *cells);
    memcpy(u->x, x, u->n * sizeof *x);
    memcpy(u->y, y, u->n * sizeof *y);
    free(keys); free(cells); free(x); free(y);
    return 0;
}

/* The Voronoi edges of the generators, trimmed to the area and noded with its boundary, as an array of
 * line pieces for GEOSPolygonize (caller frees each and the array).
 *
 * Cells come from GEOS as polygons (GEOS 3.11 builds the edges-only form about 6x slower: 5.9 ms
 * against 1.0 ms for 270 points) computed with longitude scaled by cos(latitude), so they are local
 * metric Voronoi cells; every ring segment is scaled back and deduplicated (neighbouring cells share
 * identical vertices). Segments strictly inside the area already meet at exact Voronoi vertices and
 * are used as they are; only the few that touch the boundary are noded together with it, which is
 * what keeps noding cheap: it was the largest cost when the whole diagram went through it. */
static int voronoi_linework(GEOSContextHandle_t g, const gen_t *gens, size_t ngen, double kx, double minx, double miny,
                            double maxx, double maxy, const GEOSPreparedGeometry *parea, const GEOSGeometry *boundary,
                            GEOSGeometry ***out, size_t *nout, char *err, size_t errlen) {
    int rc = 0;
    segvec_t segs = {0};
    GEOSGeometry **pieces = NULL, **crossing = NULL, *cells = NULL;
    size_t np = 0, nc = 0;
    GEOSGeometry **pts = malloc(ngen * sizeof *pts);
    if (!pts) return err_set(err, errlen, GP_ENOMEM, "out of memory");
    for (size_t i = 0; i < ngen; i++) pts[i] = GEOSGeom_createPointFromXY_r(g, gens[i].x * kx, gens[i].y);
    GEOSGeometry *mp = GEOSGeom_createCollection_r(g, GEOS_MULTIPOINT, pts, (unsigned)ngen);
    free(pts);
    double padx = (maxx - minx) * 0.05 + 1e-6, pady = (maxy - miny) * 0.05 + 1e-6;
    GEOSGeometry *env = GEOSGeom_createRectangle_r(g, (minx - padx) * kx, miny - pady, (maxx + padx) * kx, maxy + pady);
    cells = mp && env ? GEOSVoronoiDiagram_r(g, mp, env, 0.0, 0) : NULL;
    GEOSGeom_destroy_r(g, mp);
    GEOSGeom_destroy_r(g, env);
    if (!cells) return err_set(err, errlen, GP_EGEOM, "Voronoi diagram: %s", geo_last_error(g));
    int ncell = GEOSGetNumGeometries_r(g, cells);
    for (int i = 0; i < ncell && !rc; i++) {
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(g, GEOSGetExteriorRing_r(g, GEOSGetGeometryN_r(g, cells, i)));
        unsigned int n = 0;
        GEOSCoordSeq_getSize_r(g, cs, &n);
        double px = 0, py = 0;
        for (unsigned int k = 0; k < n && !rc; k++) {
            double x, y;
            GEOSCoordSeq_getXY_r(g, cs, k, &x, &y);
            x /= kx;
            if (k > 0 && (x != px || y != py)) {
                seg_t sg = {px, py, x, y, 0};
                if (x < px || (x == px && y < py)) sg = (seg_t){x, y, px, py, 0};
                rc = segvec_push(&segs, sg);
            }
            px = x;
            py = y;
        }
    }
    GEOSGeom_destroy_r(g, cells);
    if (rc) { free(segs.v); return err_set(err, errlen, GP_ENOMEM, "out of memory"); }
    qsort(segs.v, segs.n, sizeof *segs.v, seg_cmp);
    pieces = malloc((segs.n + 2) * sizeof *pieces);
    crossing = malloc((segs.n + 2) * sizeof *crossing);
    if (!pieces || !crossing) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    for (size_t i = 0; i < segs.n; i++) {
        seg_t *sg = &segs.v[i];
        if (i && !seg_cmp(sg, &segs.v[i - 1])) continue;
        if (sg->bx < minx || sg->ax > maxx || (sg->ay < miny && sg->by < miny) || (sg->ay > maxy && sg->by > maxy))
            continue;   /* envelope-disjoint from the area */
        GEOSCoordSequence *cs = GEOSCoordSeq_create_r(g, 2, 2);
        GEOSCoordSeq_setXY_r(g, cs, 0, sg->ax, sg->ay);
        GEOSCoordSeq_setXY_r(g, cs, 1, sg->bx, sg->by);
        GEOSGeometry *line = GEOSGeom_createLineString_r(g, cs);
        if (GEOSPreparedContainsProperly_r(g, parea, line) == 1) pieces[np++] = line;
        else if (GEOSPreparedIntersects_r(g, parea, line) == 1) crossing[nc++] = line;
        else GEOSGeom_destroy_r(g, line);
    }
    crossing[nc++] = GEOSGeom_clone_r(g, boundary);
    GEOSGeometry *coll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, crossing, (unsigned)nc);
    nc = 0;
    GEOSGeometry *noded = coll ? GEOSNode_r(g, coll) : NULL;
    GEOSGeom_destroy_r(g, coll);
    if (!noded) { rc = err_set(err, errlen, GP_EGEOM, "noding the unit edges: %s", geo_last_error(g)); goto end; }
    pieces[np++] = noded;
    *out = pieces;
    *nout = np;
    pieces = NULL;
end:
    if (pieces)
        for (size_t i = 0; i < np; i++) GEOSGeom_destroy_r(g, pieces[i]);
    for (size_t i = 0; i < nc; i++) GEOSGeom_destroy_r(g, crossing[i]);
    free(pieces);
    free(crossing);
    free(segs.v);
    return rc;
}

int plan_units_from_buildings(plan_ctx_t *ctx, const GEOSGeometry *area, const plan_building_t *blds, size_t nb,
                              const GEOSGeometry *roads, plan_units_t **out, char *err, size_t errlen) {
    GEOSContextHandle_t g = ctx->g;
    int rc = 0;
    int *order = NULL, *gen_of = NULL, *face_gen = NULL;
    gen_t *gens = NULL;
    size_t ngen = 0;
    GEOSGeometry *faces = NULL, *boundary = NULL, **pieces = NULL;
    size_t npieces = 0;
    const GEOSPreparedGeometry *parea = NULL, *pboundary = NULL;
    plan_units_t *u = NULL;
    double minx, miny, maxx, maxy;
    *out = NULL;
    if (nb == 0) return err_set(err, errlen, GP_EINFEASIBLE, "the area holds no buildings: nothing to partition");
    if (geo_bounds(g, area, &minx, &miny, &maxx, &maxy))
        return err_set(err, errlen, GP_EGEOM, "the area to partition is empty");
    scale_t sc = {cos((miny + maxy) * 0.5 * DEG2RAD)};

    /* Coincident points would give GEOS a degenerate diagram: one generator per distinct point. */
    order = malloc(nb * sizeof *order);
    gen_of = malloc(nb * sizeof *gen_of);
    gens = malloc(nb * sizeof *gens);
    if (!order || !gen_of || !gens) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    for (size_t i = 0; i < nb; i++) order[i] = (int)i;
    qsort_r(order, nb, sizeof *order, idx_cmp, (void *)blds);
    for (size_t i = 0; i < nb; i++) {
        const plan_building_t *b = &blds[order[i]];
        if (!ngen || gens[ngen - 1].x != b->x || gens[ngen - 1].y != b->y) gens[ngen++] = (gen_t){b->x, b->y, order[i]};
        gen_of[order[i]] = (int)ngen - 1;
    }

    boundary = GEOSBoundary_r(g, area);
    parea = GEOSPrepare_r(g, area);
    pboundary = boundary ? GEOSPrepare_r(g, boundary) : NULL;
    if (!boundary || !parea || !pboundary) { rc = err_set(err, errlen, GP_EGEOM, "area boundary: %s", geo_last_error(g)); goto end; }
    if (ngen >= 2) {
        rc = voronoi_linework(g, gens, ngen, sc.kx, minx, miny, maxx, maxy, parea, boundary, &pieces, &npieces, err, errlen);
        if (rc) goto end;
    } else {
        pieces = malloc(sizeof *pieces);
        if (!pieces) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
        pieces[npieces++] = GEOSGeom_clone_r(g, boundary);
    }
    faces = GEOSPolygonize_r(g, (const GEOSGeometry *const *)pieces, (unsigned)npieces);
    if (!faces) { rc = err_set(err, errlen, GP_EGEOM, "polygonising the unit edges: %s", geo_last_error(g)); goto end; }

    int nf = GEOSGetNumGeometries_r(g, faces);
    u = units_alloc((size_t)nf, nb);
    if (!u) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    for (int i = 0; i < nf; i++) {
        const GEOSGeometry *f = GEOSGetGeometryN_r(g, faces, i);
        double x, y;
        if (point_inside(g, f, &x, &y)) continue;
        int inside = face_inside(g, f, x, y, area, parea, pboundary);
        if (inside < 0) { rc = err_set(err, errlen, GP_EGEOM, "classifying unit face %d: %s", i, geo_last_error(g)); goto end; }
        if (!inside) continue;
        u->cells[u->n] = GEOSGeom_clone_r(g, f);
        GEOSNormalize_r(g, u->cells[u->n]);
        u->x[u->n] = x;
        u->y[u->n] = y;
        u->n++;
    }
    if (u->n == 0) { rc = err_set(err, errlen, GP_EGEOM, "the area produced no faces (degenerate polygon?)"); goto end; }
    /* GEOS returns faces in an order that varies from run to run (it follows memory addresses), and
     * the partition depends on unit order: sort faces by envelope, and normalise their rings, so the
     * same input always gives the same parts, whatever the thread or the run. */
    if (sort_units(g, u)) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }

    /* Each generator goes to the face containing it; a face with no generator belongs to the
     * nearest generator's cell (it is a piece of that cell cut off by the boundary) but stays a
     * unit of its own with 0 households, which is what lets concave areas partition cleanly. */
    face_gen = malloc(u->n * sizeof *face_gen);
    int *gen_face = malloc(ngen * sizeof *gen_face);
    if (!face_gen || !gen_face) { free(gen_face); rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    for (size_t f = 0; f < u->n; f++) face_gen[f] = -1;
    GEOSSTRtree *tree = GEOSSTRtree_create_r(g, 10);
    for (size_t f = 0; f < u->n; f++) GEOSSTRtree_insert_r(g, tree, u->cells[f], (void *)(intptr_t)f);
    for (size_t k = 0; k < ngen; k++) {
        gen_face[k] = -1;
        GEOSGeometry *p = GEOSGeom_createPointFromXY_r(g, gens[k].x, gens[k].y);
        struct hit h = {g, p, u, -1};
        GEOSSTRtree_query_r(g, tree, p, hit_face, &h);
        if (h.found < 0) {
            /* Outside the area (or on a sliver): nearest face by distance. */
            double best = INFINITY;
            for (size_t f = 0; f < u->n; f++) {
                double d;
                if (GEOSDistance_r(g, u->cells[f], p, &d) && d < best) { best = d; h.found = (int)f; }
            }
        }
        GEOSGeom_destroy_r(g, p);
        gen_face[k] = h.found;
        if (h.found >= 0 && face_gen[h.found] < 0) face_gen[h.found] = (int)k;
    }
    GEOSSTRtree_destroy_r(g, tree);
    for (size_t i = 0; i < nb; i++) {
        int f = gen_face[gen_of[i]];
        u->building_unit[i] = f;
        u->households[f] += blds[i].households;
        u->population[f] += blds[i].population;
    }
    free(gen_face);

    road_index_t ri;
    rc = roads ? road_index_build(ctx, roads, sc.kx, minx, miny, maxx, maxy, &ri) : 0;
    if (!rc) rc = adjacency_exact(ctx, u, roads ? &ri : NULL);
    if (roads) road_index_free(&ri);
    if (rc) { rc = err_set(err, errlen, rc, "building the unit adjacency graph failed"); goto end; }
    *out = u;
    u = NULL;
end:
    GEOSPreparedGeom_destroy_r(g, parea);
    GEOSPreparedGeom_destroy_r(g, pboundary);
    for (size_t i = 0; i < npieces; i++) GEOSGeom_destroy_r(g, pieces[i]);
    free(pieces);
    GEOSGeom_destroy_r(g, faces);
    GEOSGeom_destroy_r(g, boundary);
    plan_units_free(g, u);
    free(order);
    free(gen_of);
    free(gens);
    free(face_gen);
    return rc;
}

int plan_units_from_polygons(plan_ctx_t *ctx, GEOSGeometry *const *polys, const long *households,
                             const long *population, size_t n, plan_units_t **out, char *err, size_t errlen) {
    GEOSContextHandle_t g = ctx->g;
    int rc = 0;
    GEOSGeometry **bufs = NULL;
    pair_t *pairs = NULL;
    size_t np = 0, cap = 0;
    *out = NULL;
    if (n == 0) return err_set(err, errlen, GP_EINFEASIBLE, "no units given");
    plan_units_t *u = units_alloc(n, 0);
    bufs = calloc(n, sizeof *bufs);
    if (!u || !bufs) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    for (size_t i = 0; i < n; i++) {
        int t = GEOSGeomTypeId_r(g, polys[i]);
        if (t != GEOS_POLYGON && t != GEOS_MULTIPOLYGON) {
            rc = err_set(err, errlen, GP_EINVAL, "unit %zu is not a polygon", i);
            goto end;
        }
        u->cells[i] = GEOSGeom_clone_r(g, polys[i]);
        u->n = i + 1;
        u->households[i] = households ? households[i] : 0;
        u->population[i] = population ? population[i] : 0;
        if (point_inside(g, polys[i], &u->x[i], &u->y[i])) {
            rc = err_set(err, errlen, GP_EGEOM, "unit %zu: no interior point (empty polygon?)", i);
            goto end;
        }
        /* A 1e-7° (~1 cm) buffer of the boundary catches shared edges whose vertices don't match. */
        GEOSGeometry *b = GEOSBoundary_r(g, polys[i]);
        bufs[i] = b ? GEOSBuffer_r(g, b, 1e-7, 2) : NULL;
        GEOSGeom_destroy_r(g, b);
        if (!bufs[i]) { rc = err_set(err, errlen, GP_EGEOM, "unit %zu: %s", i, geo_last_error(g)); goto end; }
    }
    for (size_t i = 0; i < n; i++) {
        GEOSGeometry *bi = GEOSBoundary_r(g, polys[i]);
        for (size_t j = i + 1; j < n; j++) {
            if (GEOSIntersects_r(g, bufs[i], bufs[j]) != 1) continue;
            GEOSGeometry *shared = GEOSIntersection_r(g, bi, bufs[j]);
            double len = 0;
            if (shared) {
                /* Sum metric lengths segment by segment over the shared lines. */
                int ng = GEOSGetNumGeometries_r(g, shared);
                for (int k = 0; k < ng; k++) {
                    const GEOSGeometry *part = GEOSGetGeometryN_r(g, shared, k);
                    if (GEOSGeomTypeId_r(g, part) != GEOS_LINESTRING) continue;
                    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(g, part);
                    unsigned int m = 0;
                    GEOSCoordSeq_getSize_r(g, cs, &m);
                    for (unsigned int q = 1; q < m; q++) {
                        double x1, y1, x2, y2;
                        GEOSCoordSeq_getXY_r(g, cs, q - 1, &x1, &y1);
                        GEOSCoordSeq_getXY_r(g, cs, q, &x2, &y2);
                        len += seg_metres(x1, y1, x2, y2);
                    }
                }
                GEOSGeom_destroy_r(g, shared);
            }
            if (len < 0.5) continue;   /* a corner or a sliver of touching, not a shared boundary */
            if (np == cap) {
                cap = cap ? cap * 2 : 64;
                pair_t *p = realloc(pairs, cap * sizeof *p);
                if (!p) { GEOSGeom_destroy_r(g, bi); rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
                pairs = p;
            }
            pairs[np++] = (pair_t){(int)i, (int)j, len, 0};
        }
        GEOSGeom_destroy_r(g, bi);
    }
    if (build_csr(u, pairs ? pairs : &(pair_t){0, 0, 0, 0}, np)) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    *out = u;
    u = NULL;
end:
    if (bufs)
        for (size_t i = 0; i < n; i++) GEOSGeom_destroy_r(g, bufs[i]);
    free(bufs);
    free(pairs);
    plan_units_free(g, u);
    return rc;
}
