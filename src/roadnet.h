/* roadnet.h — walking network over a road layer: graph, capped Dijkstra, reached roads, service areas.
 *
 * Everything here is in a metric CRS (metres): the caller projects the roads first (circles.c does,
 * with the dataset's UTM zone). The graph's nodes are road vertices, its edges are the straight
 * segments between consecutive vertices, so a partly reached edge is cut by plain interpolation.
 * Vertices closer than the snapping tolerance become one node; optionally the lines are first noded
 * at every crossing (GEOSNode), which suits drawn road sketches. OSM-style data, where junctions are
 * shared vertices and bridges cross without one, should be built without that noding so a bridge
 * over a railway does not become a junction on it.
 *
 * A roadnet_t is immutable once built and can be read by several threads; a roadnet_reach_t is the
 * per-query state (node distances and reached pieces) and belongs to one thread. */
#ifndef GP_ROADNET_H
#define GP_ROADNET_H
#include "geo.h"
#include <stddef.h>

/* ---- Uniform grid index over boxes (segments, points) -------------------------------------- */
/* A static index: items are given once as boxes; queries return every item whose box meets the
 * query box (an item spanning several cells may come back more than once). */
typedef struct roadnet_index {
    double minx, miny, cell;
    int nx, ny;
    int *start;   /* nx*ny+1 offsets into items */
    int *items;
} roadnet_index_t;

/* Builds the index over n boxes given as 4 doubles each (minx, miny, maxx, maxy). cell is the cell
 * size in metres (enlarged if the grid would exceed ~4M cells). Returns 0 or GP_ENOMEM. The index
 * owns its arrays; free with roadnet_index_free (accepts NULL and a zeroed index). */
int roadnet_index_build(roadnet_index_t *ix, const double *boxes, int n, double cell);
void roadnet_index_free(roadnet_index_t *ix);
/* Calls fn(user, item) for every item whose cell range meets the box; stops early when fn returns
 * non-zero and returns that value, else 0. */
int roadnet_index_query(const roadnet_index_t *ix, double minx, double miny, double maxx, double maxy,
                        int (*fn)(void *user, int item), void *user);

/* Distance from (px, py) to the segment (ax, ay)-(bx, by); *t receives the position of the nearest
 * point as a fraction 0..1 from a to b (may be NULL). */
double roadnet_point_segment_distance(double px, double py, double ax, double ay, double bx, double by, double *t);

/* ---- The graph --------------------------------------------------------------------------------- */
typedef struct roadnet roadnet_t;

/* Builds the graph from n line geometries (LineString or MultiLineString, metric CRS; other types
 * are skipped). snap_m: vertices closer than this become one node (0.5 m is a good default).
 * node_crossings: non-zero to split lines where they cross (GEOSNode). The geometries stay the
 * caller's. Returns 0 and *out (free with roadnet_free), GP_EINVAL when there is no segment at all,
 * GP_EGEOM when noding fails, GP_ENOMEM. */
int roadnet_build(GEOSContextHandle_t gctx, const GEOSGeometry *const *lines, int n, double snap_m,
                  int node_crossings, roadnet_t **out, char *err, size_t errlen);
void roadnet_free(roadnet_t *net);   /* accepts NULL */
int roadnet_node_count(const roadnet_t *net);
int roadnet_edge_count(const roadnet_t *net);
/* Total length of the edges, metres. */
double roadnet_length(const roadnet_t *net);

/* A point on the network: edge index, fraction t from the edge's first node, and the straight
 * distance from the original point to that spot (walked too). */
typedef struct roadnet_pos {
    int edge;
    double t;
    double offset;
} roadnet_pos_t;

/* Snaps (x, y) to the nearest point of any edge within max_m. Returns 0 and fills *pos, or
 * GP_ENOTFOUND when no edge is that close. Ties go to the lowest edge index (deterministic). */
int roadnet_snap(const roadnet_t *net, double x, double y, double max_m, roadnet_pos_t *pos);

/* ---- Reach: multi-source shortest walking distance capped at a budget ------------------------ */
typedef struct roadnet_reach roadnet_reach_t;

/* Runs Dijkstra (binary heap) from every source at once, stopping at budget_m metres (the
 * source's offset counts). Collects the reached road pieces: whole edges, and partly reached ones
 * cut at the remaining distance. Returns 0 and *out (free with roadnet_reach_free), or GP_ENOMEM.
 * nsrc may be 0 (nothing is reached). The net must outlive the reach. */
int roadnet_reach(const roadnet_t *net, const roadnet_pos_t *src, int nsrc, double budget_m, roadnet_reach_t **out);
void roadnet_reach_free(roadnet_reach_t *r);   /* accepts NULL */

/* Network distance from the nearest source to a point on the network (INFINITY if beyond the
 * budget). Includes pos->offset, the walk from the road to the target. */
double roadnet_reach_distance_to(const roadnet_reach_t *r, const roadnet_pos_t *pos);

/* Reached pieces as segments: *n pieces, (*xy)[4*i..4*i+3] = x0, y0, x1, y1. Borrowed pointer,
 * valid while r lives. */
const double *roadnet_reach_pieces(const roadnet_reach_t *r, int *n);
/* Total reached length, metres. */
double roadnet_reach_length(const roadnet_reach_t *r);

/* Straight distance from (x, y) to the nearest reached piece if it is <= max_m, else INFINITY.
 * Builds an index of the pieces on first use (not thread-safe on one reach). */
double roadnet_reach_nearest(roadnet_reach_t *r, double x, double y, double max_m);

/* The service area: the reached pieces merged into lines and buffered by buffer_m (quadsegs 4).
 * Returns a new (Multi)Polygon in the metric CRS, an empty polygon when nothing was reached, or
 * NULL on a GEOS failure. Caller frees with GEOSGeom_destroy_r. */
GEOSGeometry *roadnet_reach_area(GEOSContextHandle_t gctx, const roadnet_reach_t *r, double buffer_m);
/* The same limited to what lies in box (minx, miny, maxx, maxy): only pieces within buffer_m of the
 * box are buffered, so the result is exact inside the box (it may reach beyond it). */
GEOSGeometry *roadnet_reach_area_in(GEOSContextHandle_t gctx, const roadnet_reach_t *r, double buffer_m, const double *box);
/* The reached pieces as a MultiLineString (merged), caller frees; NULL on failure. */
GEOSGeometry *roadnet_reach_lines(GEOSContextHandle_t gctx, const roadnet_reach_t *r);

#endif
