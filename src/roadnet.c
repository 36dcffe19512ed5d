/* roadnet.c — road graph from lines, vertex snapping, capped multi-source Dijkstra, reached pieces.
 *
 * Tuned for a city's walkable roads (10^4..10^6 segments): nodes are found by hashing vertices on a
 * grid of the snapping tolerance, edges are kept in flat arrays with a CSR adjacency, and queries
 * touch only what lies within the budget. */
#include "roadnet.h"
#include "err.h"
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Grid index ------------------------------------------------------------------------------ */

#define ROADNET_MAX_CELLS (4 << 20)

static void roadnet_index_cells(const roadnet_index_t *ix, double minx, double miny, double maxx, double maxy,
                                int *x0, int *y0, int *x1, int *y1) {
    *x0 = (int)floor((minx - ix->minx) / ix->cell);
    *y0 = (int)floor((miny - ix->miny) / ix->cell);
    *x1 = (int)floor((maxx - ix->minx) / ix->cell);
    *y1 = (int)floor((maxy - ix->miny) / ix->cell);
    if (*x0 < 0) *x0 = 0;
    if (*y0 < 0) *y0 = 0;
    if (*x1 >= ix->nx) *x1 = ix->nx - 1;
    if (*y1 >= ix->ny) *y1 = ix->ny - 1;
}

int roadnet_index_build(roadnet_index_t *ix, const double *boxes, int n, double cell) {
    memset(ix, 0, sizeof *ix);
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (int i = 0; i < n; i++) {
        const double *b = boxes + 4 * (size_t)i;
        if (b[0] < minx) minx = b[0];
        if (b[1] < miny) miny = b[1];
        if (b[2] > maxx) maxx = b[2];
        if (b[3] > maxy) maxy = b[3];
    }
    if (n == 0) minx = miny = maxx = maxy = 0;
    if (!(cell > 0)) cell = 100;
    /* Grow the cell until the grid is a sane size: a query's cost is cells visited + items seen. */
    for (;;) {
        double nx = floor((maxx - minx) / cell) + 1, ny = floor((maxy - miny) / cell) + 1;
        if (nx * ny <= ROADNET_MAX_CELLS) { ix->nx = (int)nx; ix->ny = (int)ny; break; }
        cell *= 2;
    }
    ix->minx = minx;
    ix->miny = miny;
    ix->cell = cell;
    size_t ncell = (size_t)ix->nx * (size_t)ix->ny;
    ix->start = calloc(ncell + 1, sizeof *ix->start);
    if (!ix->start) return GP_ENOMEM;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        const double *b = boxes + 4 * (size_t)i;
        int x0, y0, x1, y1;
        roadnet_index_cells(ix, b[0], b[1], b[2], b[3], &x0, &y0, &x1, &y1);
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) ix->start[(size_t)y * ix->nx + x + 1]++, total++;
    }
    for (size_t c = 0; c < ncell; c++) ix->start[c + 1] += ix->start[c];
    ix->items = malloc((total ? total : 1) * sizeof *ix->items);
    int *fill = malloc(ncell * sizeof *fill);
    if (!ix->items || !fill) {
        free(fill);
        roadnet_index_free(ix);
        return GP_ENOMEM;
    }
    memcpy(fill, ix->start, ncell * sizeof *fill);
    for (int i = 0; i < n; i++) {
        const double *b = boxes + 4 * (size_t)i;
        int x0, y0, x1, y1;
        roadnet_index_cells(ix, b[0], b[1], b[2], b[3], &x0, &y0, &x1, &y1);
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) ix->items[fill[(size_t)y * ix->nx + x]++] = i;
    }
    free(fill);
    return GP_OK;
}

void roadnet_index_free(roadnet_index_t *ix) {
    if (!ix) return;
    free(ix->start);
    free(ix->items);
    memset(ix, 0, sizeof *ix);
}

int roadnet_index_query(const roadnet_index_t *ix, double minx, double miny, double maxx, double maxy,
                        int (*fn)(void *user, int item), void *user) {
    if (!ix->start || maxx < ix->minx || maxy < ix->miny) return 0;
    int x0, y0, x1, y1;
    roadnet_index_cells(ix, minx, miny, maxx, maxy, &x0, &y0, &x1, &y1);
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            size_t c = (size_t)y * ix->nx + x;
            for (int k = ix->start[c]; k < ix->start[c + 1]; k++) {
                int rc = fn(user, ix->items[k]);
                if (rc) return rc;
            }
        }
    return 0;
}

double roadnet_point_segment_distance(double px, double py, double ax, double ay, double bx, double by, double *t) {
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy, s = 0;
    if (len2 > 0) {
        s = ((px - ax) * dx + (py - ay) * dy) / len2;
        if (s < 0) s = 0;
        if (s > 1) s = 1;
    }
    if (t) *t = s;
    return hypot(px - (ax + s * dx), py - (ay + s * dy));
}

/* ---- Graph ----------------------------------------------------------------------------------- */

struct roadnet {
    int n_nodes, n_edges;
    double *nx, *ny;       /* node coordinates */
    int *eu, *ev;          /* edge end nodes */
    double *elen;          /* edge length, metres */
    int *adj_start, *adj;  /* CSR: edges touching node i are adj[adj_start[i]..adj_start[i+1]) */
    double length;
    roadnet_index_t index; /* over edge boxes */
};

/* Vertex -> node lookup: a hash on the snapping grid; a vertex joins an existing node found in its
 * cell or the 8 around it within the tolerance, so snapping does not depend on grid alignment. */
typedef struct roadnet_builder {
    double snap;
    int64_t *keys;    /* cell key per slot, INT64_MIN when empty */
    int *head;        /* first node in the slot's cell */
    size_t cap;
    int *next;        /* next node in the same cell */
    double *x, *y;
    int n, ncap;
    int *eu, *ev;
    int ne, ecap;
} roadnet_builder_t;

static uint64_t roadnet_hash(int64_t k) {
    uint64_t h = (uint64_t)k * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}
/* Unique per cell while |cell index| < 2^31, i.e. for any projected coordinate at 0.5 m cells. */
static int64_t roadnet_key(int64_t cx, int64_t cy) {
    return (int64_t)(((uint64_t)(uint32_t)cx << 32) | (uint32_t)cy);
}

static size_t roadnet_slot(roadnet_builder_t *b, int64_t key) {
    size_t i = roadnet_hash(key) & (b->cap - 1);
    while (b->keys[i] != INT64_MIN && b->keys[i] != key) i = (i + 1) & (b->cap - 1);
    return i;
}

static int roadnet_grow_hash(roadnet_builder_t *b) {
    size_t old = b->cap, ncap = old ? old * 2 : 1024;
    int64_t *ok = b->keys;
    int *oh = b->head;
    b->keys = malloc(ncap * sizeof *b->keys);
    b->head = malloc(ncap * sizeof *b->head);
    if (!b->keys || !b->head) { free(ok); free(oh); return GP_ENOMEM; }
    b->cap = ncap;
    for (size_t i = 0; i < ncap; i++) b->keys[i] = INT64_MIN;
    for (size_t i = 0; i < old; i++)
        if (ok[i] != INT64_MIN) {
            size_t s = roadnet_slot(b, ok[i]);
            b->keys[s] = ok[i];
            b->head[s] = oh[i];
        }
    free(ok);
    free(oh);
    return GP_OK;
}

static int roadnet_node_for(roadnet_builder_t *b, double x, double y) {
    int64_t cx = (int64_t)floor(x / b->snap), cy = (int64_t)floor(y / b->snap);
    int best = -1;
    double bestd = b->snap;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            size_t s = roadnet_slot(b, roadnet_key(cx + dx, cy + dy));
            if (b->keys[s] == INT64_MIN) continue;
            for (int k = b->head[s]; k >= 0; k = b->next[k]) {
                double d = hypot(b->x[k] - x, b->y[k] - y);
                if (d <= bestd && (best < 0 || d < bestd || k < best)) { best = k; bestd = d; }
            }
        }
    if (best >= 0) return best;
    if ((size_t)(b->n + 1) * 2 > b->cap && roadnet_grow_hash(b)) return GP_ENOMEM;
    if (b->n == b->ncap) {
        int nc = b->ncap ? b->ncap * 2 : 1024;
        double *nx = realloc(b->x, nc * sizeof *nx);
        if (!nx) return GP_ENOMEM;
        b->x = nx;
        double *ny = realloc(b->y, nc * sizeof *ny);
        if (!ny) return GP_ENOMEM;
        b->y = ny;
        int *nn = realloc(b->next, nc * sizeof *nn);
        if (!nn) return GP_ENOMEM;
        b->next = nn;
        b->ncap = nc;
    }
    int id = b->n++;
    b->x[id] = x;
    b->y[id] = y;
    size_t s = roadnet_slot(b, roadnet_key(cx, cy));
    if (b->keys[s] == INT64_MIN) { b->keys[s] = roadnet_key(cx, cy); b->next[id] = -1; }
    else b->next[id] = b->head[s];
    b->head[s] = id;
    return id;
}

static int roadnet_add_edge(roadnet_builder_t *b, int u, int v) {
    if (u == v) return GP_OK;   /* collapsed by snapping */
    if (b->ne == b->ecap) {
        int nc = b->ecap ? b->ecap * 2 : 1024;
        int *nu = realloc(b->eu, nc * sizeof *nu);
        if (!nu) return GP_ENOMEM;
        b->eu = nu;
        int *nv = realloc(b->ev, nc * sizeof *nv);
        if (!nv) return GP_ENOMEM;
        b->ev = nv;
        b->ecap = nc;
    }
    b->eu[b->ne] = u;
    b->ev[b->ne] = v;
    b->ne++;
    return GP_OK;
}

static int roadnet_add_linestring(GEOSContextHandle_t g, roadnet_builder_t *b, const GEOSGeometry *line) {
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(g, line);
    unsigned int n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(g, cs, &n)) return GP_EGEOM;
    int prev = -1;
    for (unsigned int i = 0; i < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(g, cs, i, &x, &y);
        int node = roadnet_node_for(b, x, y);
        if (node < 0) return node;
        if (prev >= 0) {
            int rc = roadnet_add_edge(b, prev, node);
            if (rc) return rc;
        }
        prev = node;
    }
    return GP_OK;
}

static int roadnet_add_geometry(GEOSContextHandle_t g, roadnet_builder_t *b, const GEOSGeometry *geom) {
    int type = GEOSGeomTypeId_r(g, geom);
    if (type == GEOS_LINESTRING || type == GEOS_LINEARRING) return roadnet_add_linestring(g, b, geom);
    if (type == GEOS_MULTILINESTRING || type == GEOS_GEOMETRYCOLLECTION) {
        int parts = GEOSGetNumGeometries_r(g, geom);
        for (int i = 0; i < parts; i++) {
            int rc = roadnet_add_geometry(g, b, GEOSGetGeometryN_r(g, geom, i));
            if (rc) return rc;
        }
    }
    return GP_OK;
}

static void roadnet_builder_free(roadnet_builder_t *b) {
    free(b->keys);
    free(b->head);
    free(b->next);
    free(b->x);
    free(b->y);
    free(b->eu);
    free(b->ev);
}

int roadnet_build(GEOSContextHandle_t g, const GEOSGeometry *const *lines, int n, double snap_m, int node_crossings,
                  roadnet_t **out, char *err, size_t errlen) {
    roadnet_builder_t b = {.snap = snap_m > 0 ? snap_m : 0.5};
    roadnet_t *net = NULL;
    GEOSGeometry *noded = NULL, *coll = NULL;
    int rc = GP_OK;
    *out = NULL;
    if (roadnet_grow_hash(&b)) { rc = GP_ENOMEM; goto end; }
    if (node_crossings && n > 0) {
        GEOSGeometry **parts = malloc((size_t)n * sizeof *parts);
        if (!parts) { rc = GP_ENOMEM; goto end; }
        for (int i = 0; i < n; i++) parts[i] = GEOSGeom_clone_r(g, lines[i]);
        coll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
        free(parts);
        if (coll) noded = GEOSNode_r(g, coll);
        if (!noded) {
            rc = err_set(err, errlen, GP_EGEOM, "roads: noding the road lines failed: %s", geo_last_error(g));
            goto end;
        }
        rc = roadnet_add_geometry(g, &b, noded);
    } else {
        for (int i = 0; i < n && !rc; i++) rc = roadnet_add_geometry(g, &b, lines[i]);
    }
    if (rc) { err_set(err, errlen, rc, "roads: cannot read the road lines (%s)", err_name(rc)); goto end; }
    if (b.ne == 0) { rc = err_set(err, errlen, GP_EINVAL, "roads: no road segment longer than %.2f m", b.snap); goto end; }

    net = calloc(1, sizeof *net);
    if (!net) { rc = GP_ENOMEM; goto end; }
    net->n_nodes = b.n;
    net->n_edges = b.ne;
    net->nx = b.x; b.x = NULL;
    net->ny = b.y; b.y = NULL;
    net->eu = b.eu; b.eu = NULL;
    net->ev = b.ev; b.ev = NULL;
    net->elen = malloc((size_t)net->n_edges * sizeof *net->elen);
    net->adj_start = calloc((size_t)net->n_nodes + 1, sizeof *net->adj_start);
    net->adj = malloc((size_t)net->n_edges * 2 * sizeof *net->adj);
    double *boxes = malloc((size_t)net->n_edges * 4 * sizeof *boxes);
    if (!net->elen || !net->adj_start || !net->adj || !boxes) { free(boxes); rc = GP_ENOMEM; goto end; }
    for (int e = 0; e < net->n_edges; e++) {
        int u = net->eu[e], v = net->ev[e];
        net->elen[e] = hypot(net->nx[v] - net->nx[u], net->ny[v] - net->ny[u]);
        net->length += net->elen[e];
        net->adj_start[u + 1]++;
        net->adj_start[v + 1]++;
        double *bx = boxes + 4 * (size_t)e;
        bx[0] = fmin(net->nx[u], net->nx[v]);
        bx[1] = fmin(net->ny[u], net->ny[v]);
        bx[2] = fmax(net->nx[u], net->nx[v]);
        bx[3] = fmax(net->ny[u], net->ny[v]);
    }
    for (int i = 0; i < net->n_nodes; i++) net->adj_start[i + 1] += net->adj_start[i];
    int *fill = malloc((size_t)net->n_nodes * sizeof *fill);
    if (!fill) { free(boxes); rc = GP_ENOMEM; goto end; }
    memcpy(fill, net->adj_start, (size_t)net->n_nodes * sizeof *fill);
    for (int e = 0; e < net->n_edges; e++) {
        net->adj[fill[net->eu[e]]++] = e;
        net->adj[fill[net->ev[e]]++] = e;
    }
    free(fill);
    rc = roadnet_index_build(&net->index, boxes, net->n_edges, 50);
    free(boxes);
end:
    if (noded) GEOSGeom_destroy_r(g, noded);
    if (coll) GEOSGeom_destroy_r(g, coll);
    roadnet_builder_free(&b);
    if (rc) roadnet_free(net);
    else *out = net;
    return rc;
}

void roadnet_free(roadnet_t *net) {
    if (!net) return;
    free(net->nx);
    free(net->ny);
    free(net->eu);
    free(net->ev);
    free(net->elen);
    free(net->adj_start);
    free(net->adj);
    roadnet_index_free(&net->index);
    free(net);
}

int roadnet_node_count(const roadnet_t *net) { return net->n_nodes; }
int roadnet_edge_count(const roadnet_t *net) { return net->n_edges; }
double roadnet_length(const roadnet_t *net) { return net->length; }

typedef struct roadnet_snap_state {
    const roadnet_t *net;
    double x, y, best;
    int edge;
    double t;
} roadnet_snap_state_t;

static int roadnet_snap_visit(void *user, int e) {
    roadnet_snap_state_t *s = user;
    const roadnet_t *net = s->net;
    double t, d = roadnet_point_segment_distance(s->x, s->y, net->nx[net->eu[e]], net->ny[net->eu[e]],
                                                 net->nx[net->ev[e]], net->ny[net->ev[e]], &t);
    if (d < s->best || (d == s->best && e < s->edge)) { s->best = d; s->edge = e; s->t = t; }
    return 0;
}

int roadnet_snap(const roadnet_t *net, double x, double y, double max_m, roadnet_pos_t *pos) {
    roadnet_snap_state_t s = {.net = net, .x = x, .y = y, .best = INFINITY, .edge = -1};
    /* Widen the search box until the nearest edge found lies inside it: any closer edge would
     * have its box meet the search box, so the answer is then exact. */
    for (double r = net->index.cell; ; r *= 2) {
        if (r > max_m) r = max_m;
        roadnet_index_query(&net->index, x - r, y - r, x + r, y + r, roadnet_snap_visit, &s);
        if (s.edge >= 0 && s.best <= r) break;
        if (r >= max_m) break;
    }
    if (s.edge < 0 || s.best > max_m) return GP_ENOTFOUND;
    pos->edge = s.edge;
    pos->t = s.t;
    pos->offset = s.best;
    return GP_OK;
}

/* ---- Reach ----------------------------------------------------------------------------------- */

struct roadnet_reach {
    const roadnet_t *net;
    double budget;
    double *dist;            /* per node */
    roadnet_pos_t *src;      /* copies of the sources, for same-edge distances */
    int nsrc;
    double *pieces;          /* 4 doubles per piece */
    int npieces, cap;
    double length;
    roadnet_index_t index;   /* over pieces, built on first nearest query */
    int indexed;
};

typedef struct roadnet_heap_item { double d; int node; } roadnet_heap_item_t;
typedef struct roadnet_heap { roadnet_heap_item_t *a; int n, cap; } roadnet_heap_t;

static int roadnet_heap_push(roadnet_heap_t *h, double d, int node) {
    if (h->n == h->cap) {
        int nc = h->cap ? h->cap * 2 : 256;
        roadnet_heap_item_t *na = realloc(h->a, nc * sizeof *na);
        if (!na) return GP_ENOMEM;
        h->a = na;
        h->cap = nc;
    }
    int i = h->n++;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (h->a[p].d <= d) break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i].d = d;
    h->a[i].node = node;
    return GP_OK;
}

static roadnet_heap_item_t roadnet_heap_pop(roadnet_heap_t *h) {
    roadnet_heap_item_t top = h->a[0], last = h->a[--h->n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && h->a[c + 1].d < h->a[c].d) c++;
        if (last.d <= h->a[c].d) break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n > 0) h->a[i] = last;
    return top;
}

static int roadnet_add_piece(roadnet_reach_t *r, int e, double s0, double s1) {
    const roadnet_t *net = r->net;
    double len = net->elen[e];
    if (s1 - s0 <= 1e-9) return GP_OK;
    if (r->npieces == r->cap) {
        int nc = r->cap ? r->cap * 2 : 256;
        double *np = realloc(r->pieces, (size_t)nc * 4 * sizeof *np);
        if (!np) return GP_ENOMEM;
        r->pieces = np;
        r->cap = nc;
    }
    double ax = net->nx[net->eu[e]], ay = net->ny[net->eu[e]];
    double dx = net->nx[net->ev[e]] - ax, dy = net->ny[net->ev[e]] - ay;
    double *p = r->pieces + 4 * (size_t)r->npieces++;
    /* A piece reaching a node ends exactly on it, so pieces meeting there can be chained. */
    p[0] = s0 <= 0 ? ax : ax + dx * s0 / len;
    p[1] = s0 <= 0 ? ay : ay + dy * s0 / len;
    p[2] = s1 >= len ? net->nx[net->ev[e]] : ax + dx * s1 / len;
    p[3] = s1 >= len ? net->ny[net->ev[e]] : ay + dy * s1 / len;
    r->length += s1 - s0;
    return GP_OK;
}

/* A reached stretch [s0, s1] metres along an edge from its first node. */
typedef struct roadnet_interval { int edge; double s0, s1; } roadnet_interval_t;

static int roadnet_interval_cmp(const void *a, const void *b) {
    const roadnet_interval_t *x = a, *y = b;
    if (x->edge != y->edge) return x->edge < y->edge ? -1 : 1;
    return x->s0 < y->s0 ? -1 : x->s0 > y->s0 ? 1 : 0;
}

int roadnet_reach(const roadnet_t *net, const roadnet_pos_t *src, int nsrc, double budget_m, roadnet_reach_t **out) {
    roadnet_reach_t *r = calloc(1, sizeof *r);
    roadnet_heap_t h = {0};
    roadnet_interval_t *seg = NULL, *iv = NULL;
    int rc = GP_ENOMEM, nseg = 0;
    *out = NULL;
    if (!r) return GP_ENOMEM;
    r->net = net;
    r->budget = budget_m;
    r->dist = malloc((size_t)net->n_nodes * sizeof *r->dist);
    r->src = malloc((size_t)(nsrc > 0 ? nsrc : 1) * sizeof *r->src);
    if (!r->dist || !r->src) goto end;
    for (int i = 0; i < net->n_nodes; i++) r->dist[i] = INFINITY;
    r->nsrc = nsrc;
    if (nsrc > 0) memcpy(r->src, src, (size_t)nsrc * sizeof *src);
    seg = malloc((size_t)(nsrc > 0 ? nsrc : 1) * sizeof *seg);
    iv = malloc((size_t)(nsrc + 2) * sizeof *iv);
    if (!seg || !iv) goto end;
    for (int i = 0; i < nsrc; i++) {
        const roadnet_pos_t *p = &src[i];
        assert(p->edge >= 0 && p->edge < net->n_edges);
        double len = net->elen[p->edge], at = p->t * len, left = budget_m - p->offset;
        if (left < 0) continue;
        int u = net->eu[p->edge], v = net->ev[p->edge];
        double du = p->offset + at, dv = p->offset + (len - at);
        if (du < r->dist[u] && du <= budget_m) { r->dist[u] = du; if (roadnet_heap_push(&h, du, u)) goto end; }
        if (dv < r->dist[v] && dv <= budget_m) { r->dist[v] = dv; if (roadnet_heap_push(&h, dv, v)) goto end; }
        /* The stretch of the source's own edge walked from the snapped point both ways. */
        seg[nseg++] = (roadnet_interval_t){.edge = p->edge, .s0 = fmax(0, at - left), .s1 = fmin(len, at + left)};
    }
    qsort(seg, (size_t)nseg, sizeof *seg, roadnet_interval_cmp);
    while (h.n > 0) {
        roadnet_heap_item_t it = roadnet_heap_pop(&h);
        if (it.d > r->dist[it.node]) continue;   /* stale entry */
        for (int k = net->adj_start[it.node]; k < net->adj_start[it.node + 1]; k++) {
            int e = net->adj[k], o = net->eu[e] == it.node ? net->ev[e] : net->eu[e];
            double nd = it.d + net->elen[e];
            if (nd < r->dist[o] && nd <= budget_m) {
                r->dist[o] = nd;
                if (roadnet_heap_push(&h, nd, o)) goto end;
            }
        }
    }
    /* Pieces: from each reached end, the remaining budget along the edge, plus the sources' own
     * stretches; their union is emitted once, so lengths are not counted twice. */
    for (int e = 0, si = 0; e < net->n_edges; e++) {
        double du = r->dist[net->eu[e]], dv = r->dist[net->ev[e]], len = net->elen[e];
        int n = 0;
        if (du <= budget_m) iv[n++] = (roadnet_interval_t){e, 0, fmin(len, budget_m - du)};
        if (dv <= budget_m) iv[n++] = (roadnet_interval_t){e, fmax(0, len - (budget_m - dv)), len};
        while (si < nseg && seg[si].edge < e) si++;
        for (; si < nseg && seg[si].edge == e; si++) {
            if (n == nsrc + 2) break;
            iv[n++] = seg[si];
        }
        if (n == 0) continue;
        qsort(iv, (size_t)n, sizeof *iv, roadnet_interval_cmp);
        double s0 = iv[0].s0, s1 = iv[0].s1;
        for (int k = 1; k <= n; k++) {
            if (k < n && iv[k].s0 <= s1) { s1 = fmax(s1, iv[k].s1); continue; }
            if ((rc = roadnet_add_piece(r, e, s0, s1))) goto end;
            if (k < n) { s0 = iv[k].s0; s1 = iv[k].s1; }
        }
    }
    rc = GP_OK;
end:
    free(h.a);
    free(seg);
    free(iv);
    if (rc) roadnet_reach_free(r);
    else *out = r;
    return rc;
}

void roadnet_reach_free(roadnet_reach_t *r) {
    if (!r) return;
    free(r->dist);
    free(r->src);
    free(r->pieces);
    roadnet_index_free(&r->index);
    free(r);
}

double roadnet_reach_distance_to(const roadnet_reach_t *r, const roadnet_pos_t *pos) {
    const roadnet_t *net = r->net;
    double len = net->elen[pos->edge], at = pos->t * len;
    double best = fmin(r->dist[net->eu[pos->edge]] + at, r->dist[net->ev[pos->edge]] + (len - at));
    for (int i = 0; i < r->nsrc; i++)
        if (r->src[i].edge == pos->edge) best = fmin(best, r->src[i].offset + fabs(r->src[i].t * len - at));
    best += pos->offset;
    return best <= r->budget ? best : INFINITY;
}

const double *roadnet_reach_pieces(const roadnet_reach_t *r, int *n) {
    *n = r->npieces;
    return r->pieces;
}

double roadnet_reach_length(const roadnet_reach_t *r) { return r->length; }

typedef struct roadnet_near_state { const double *pieces; double x, y, best; } roadnet_near_state_t;

static int roadnet_near_visit(void *user, int i) {
    roadnet_near_state_t *s = user;
    const double *p = s->pieces + 4 * (size_t)i;
    double d = roadnet_point_segment_distance(s->x, s->y, p[0], p[1], p[2], p[3], NULL);
    if (d < s->best) s->best = d;
    return 0;
}

double roadnet_reach_nearest(roadnet_reach_t *r, double x, double y, double max_m) {
    if (r->npieces == 0) return INFINITY;
    if (!r->indexed) {
        double *boxes = malloc((size_t)r->npieces * 4 * sizeof *boxes);
        if (!boxes) return INFINITY;
        for (int i = 0; i < r->npieces; i++) {
            const double *p = r->pieces + 4 * (size_t)i;
            boxes[4 * i] = fmin(p[0], p[2]);
            boxes[4 * i + 1] = fmin(p[1], p[3]);
            boxes[4 * i + 2] = fmax(p[0], p[2]);
            boxes[4 * i + 3] = fmax(p[1], p[3]);
        }
        int rc = roadnet_index_build(&r->index, boxes, r->npieces, fmax(max_m, 25));
        free(boxes);
        if (rc) return INFINITY;
        r->indexed = 1;
    }
    roadnet_near_state_t s = {.pieces = r->pieces, .x = x, .y = y, .best = INFINITY};
    roadnet_index_query(&r->index, x - max_m, y - max_m, x + max_m, y + max_m, roadnet_near_visit, &s);
    return s.best <= max_m ? s.best : INFINITY;
}

/* One end of a piece: end 2*i is piece i's start, 2*i + 1 its end. */
typedef struct roadnet_end { double x, y; int end; } roadnet_end_t;

static int roadnet_end_cmp(const void *a, const void *b) {
    const roadnet_end_t *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    if (p->y != q->y) return p->y < q->y ? -1 : 1;
    return p->end - q->end;
}

/* Chains of pieces: state shared by the walk. node[end] names the point an end lies on; inc lists
 * the ends at each point (CSR: inc[first[k] .. first[k + 1]]). */
typedef struct roadnet_chain {
    const double *const *seg;     /* seg[i]: x0 y0 x1 y1 of the i-th chosen piece */
    int *node, *first, *inc;
    unsigned char *used;
    double *xy;                   /* the chain being built, 2 doubles a point */
    int npt;
} roadnet_chain_t;

/* Extends the chain from end `at` (a used piece's far end) through unused pieces, at each point
 * taking the straightest continuation; appends the points reached. */
static void roadnet_chain_walk(roadnet_chain_t *c, int at) {
    for (;;) {
        const double *p = c->seg[at / 2];
        double hx = at % 2 ? p[2] : p[0], hy = at % 2 ? p[3] : p[1];     /* the point we stand on */
        double tx = at % 2 ? p[0] : p[2], ty = at % 2 ? p[1] : p[3];     /* where we came from */
        double ix = hx - tx, iy = hy - ty, best = -2;
        int next = -1, k = c->node[at];
        for (int q = c->first[k]; q < c->first[k + 1]; q++) {
            int e = c->inc[q];
            if (c->used[e / 2]) continue;
            const double *o = c->seg[e / 2];
            double ox = (e % 2 ? o[0] : o[2]) - hx, oy = (e % 2 ? o[1] : o[3]) - hy;
            double cosang = (ix * ox + iy * oy) / (hypot(ix, iy) * hypot(ox, oy) + 1e-300);
            if (cosang > best) { best = cosang; next = e; }
        }
        if (next < 0) return;
        c->used[next / 2] = 1;
        at = next ^ 1;
        const double *o = c->seg[at / 2];
        c->xy[2 * c->npt] = at % 2 ? o[2] : o[0];
        c->xy[2 * c->npt + 1] = at % 2 ? o[3] : o[1];
        c->npt++;
    }
}

/* The pieces meeting box (NULL: all) as lines: pieces sharing an end point are chained into long
 * lines (straightest continuation first), since buffering a few long lines and uniting them costs
 * far less than uniting one buffer per piece, most of whose round caps overlap at the crossings. */
static GEOSGeometry *roadnet_lines_in(GEOSContextHandle_t g, const roadnet_reach_t *r, const double *box) {
    int n = 0, nlines = 0, ok = 0;
    const double **seg = malloc((size_t)(r->npieces ? r->npieces : 1) * sizeof *seg);
    roadnet_end_t *ends = malloc((size_t)(2 * r->npieces + 1) * sizeof *ends);
    roadnet_chain_t c = {.seg = NULL};
    GEOSGeometry **lines = NULL, *multi = NULL;
    if (!seg || !ends) goto end;
    for (int i = 0; i < r->npieces; i++) {
        const double *p = r->pieces + 4 * (size_t)i;
        if (box && (fmax(p[0], p[2]) < box[0] || fmin(p[0], p[2]) > box[2] || fmax(p[1], p[3]) < box[1] ||
                    fmin(p[1], p[3]) > box[3]))
            continue;
        ends[2 * n] = (roadnet_end_t){p[0], p[1], 2 * n};
        ends[2 * n + 1] = (roadnet_end_t){p[2], p[3], 2 * n + 1};
        seg[n++] = p;
    }
    qsort(ends, (size_t)(2 * n), sizeof *ends, roadnet_end_cmp);
    c.seg = seg;
    c.node = malloc((size_t)(2 * n + 1) * sizeof *c.node);
    c.first = calloc((size_t)(2 * n + 2), sizeof *c.first);
    c.inc = malloc((size_t)(2 * n + 1) * sizeof *c.inc);
    c.used = calloc((size_t)(n + 1), 1);
    c.xy = malloc((size_t)(2 * n + 2) * 2 * sizeof *c.xy);
    lines = malloc((size_t)(n + 1) * sizeof *lines);
    if (!c.node || !c.first || !c.inc || !c.used || !c.xy || !lines) goto end;
    /* Ends sorted by coordinate: equal coordinates are one point, and its ends are contiguous. */
    int npoints = 0;
    for (int q = 0; q < 2 * n; q++) {
        if (q > 0 && (ends[q].x != ends[q - 1].x || ends[q].y != ends[q - 1].y)) npoints++;
        c.node[ends[q].end] = npoints;
        c.inc[q] = ends[q].end;
        c.first[npoints + 1] = q + 1;
    }
    /* Chains start at points where an odd number of pieces meet (a chain must end there anyway),
     * then whatever is left (closed loops). */
    for (int pass = 0; pass < 2; pass++) {
        for (int q = 0; q < 2 * n; q++) {
            int e = c.inc[q], k = c.node[e];
            if (c.used[e / 2] || (pass == 0 && (c.first[k + 1] - c.first[k]) % 2 == 0)) continue;
            c.used[e / 2] = 1;
            const double *p = seg[e / 2];
            c.npt = 2;
            c.xy[0] = e % 2 ? p[2] : p[0];
            c.xy[1] = e % 2 ? p[3] : p[1];
            c.xy[2] = e % 2 ? p[0] : p[2];
            c.xy[3] = e % 2 ? p[1] : p[3];
            roadnet_chain_walk(&c, e ^ 1);
            GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(g, c.xy, (unsigned)c.npt, 0, 0);
            GEOSGeometry *l = cs ? GEOSGeom_createLineString_r(g, cs) : NULL;
            if (!l) goto end;
            lines[nlines++] = l;
        }
    }
    assert(nlines <= n);
    ok = 1;
end:
    if (ok) multi = GEOSGeom_createCollection_r(g, GEOS_MULTILINESTRING, lines, (unsigned)nlines);
    else
        for (int i = 0; i < nlines; i++) GEOSGeom_destroy_r(g, lines[i]);
    free(lines);
    free(c.node);
    free(c.first);
    free(c.inc);
    free(c.used);
    free(c.xy);
    free(ends);
    free(seg);
    return multi;
}

GEOSGeometry *roadnet_reach_lines(GEOSContextHandle_t g, const roadnet_reach_t *r) { return roadnet_lines_in(g, r, NULL); }

GEOSGeometry *roadnet_reach_area(GEOSContextHandle_t g, const roadnet_reach_t *r, double buffer_m) {
    return roadnet_reach_area_in(g, r, buffer_m, NULL);
}

GEOSGeometry *roadnet_reach_area_in(GEOSContextHandle_t g, const roadnet_reach_t *r, double buffer_m, const double *box) {
    double grown[4];
    if (box) {
        grown[0] = box[0] - buffer_m;
        grown[1] = box[1] - buffer_m;
        grown[2] = box[2] + buffer_m;
        grown[3] = box[3] + buffer_m;
    }
    if (r->npieces == 0) return GEOSGeom_createEmptyPolygon_r(g);
    GEOSGeometry *lines = roadnet_lines_in(g, r, box ? grown : NULL);
    if (lines && GEOSisEmpty_r(g, lines) == 1) {
        GEOSGeom_destroy_r(g, lines);
        return GEOSGeom_createEmptyPolygon_r(g);
    }
    if (!lines) return NULL;
    /* Buffering each merged line on its own and then one cascaded union (OverlayNG) is far faster
     * than buffering the whole network at once, whose single noding pass grows with the city. */
    int n = GEOSGetNumGeometries_r(g, lines);
    GEOSGeometry **parts = malloc((size_t)(n > 0 ? n : 1) * sizeof *parts);
    GEOSGeometry *area = NULL;
    int made = 0;
    if (!parts) goto end;
    for (; made < n; made++) {
        parts[made] = GEOSBuffer_r(g, GEOSGetGeometryN_r(g, lines, made), buffer_m, 4);
        if (!parts[made]) break;
    }
    if (made < n) {
        for (int i = 0; i < made; i++) GEOSGeom_destroy_r(g, parts[i]);
        goto end;
    }
    GEOSGeometry *coll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
    if (coll) {
        area = GEOSUnaryUnion_r(g, coll);
        GEOSGeom_destroy_r(g, coll);
    }
end:
    free(parts);
    GEOSGeom_destroy_r(g, lines);
    return area;
}
