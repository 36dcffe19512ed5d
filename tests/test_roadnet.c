/* test_roadnet.c — road graph building, snapping, capped Dijkstra, partial edges, service areas. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include "err.h"
#include "roadnet.h"

static GEOSContextHandle_t g;
static void setup(void) { g = geo_ctx_new(); }
static void teardown(void) { geo_ctx_free(g); }
TestSuite(roadnet, .init = setup, .fini = teardown);

/* A line through n points given as x0, y0, x1, y1, ... (metres). */
static GEOSGeometry *line(int n, const double *xy) {
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(g, (unsigned)n, 2);
    for (int i = 0; i < n; i++) GEOSCoordSeq_setXY_r(g, cs, (unsigned)i, xy[2 * i], xy[2 * i + 1]);
    return GEOSGeom_createLineString_r(g, cs);
}
#define LINE(...) line((int)(sizeof((double[]){__VA_ARGS__}) / sizeof(double) / 2), (double[]){__VA_ARGS__})

static roadnet_t *build(GEOSGeometry **lines, int n, int node_crossings) {
    roadnet_t *net = NULL;
    char err[256] = "";
    cr_assert_eq(roadnet_build(g, (const GEOSGeometry *const *)lines, n, 0.5, node_crossings, &net, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < n; i++) GEOSGeom_destroy_r(g, lines[i]);
    return net;
}

static roadnet_reach_t *reach_from(const roadnet_t *net, double x, double y, double budget) {
    roadnet_pos_t p;
    cr_assert_eq(roadnet_snap(net, x, y, 500, &p), 0);
    roadnet_reach_t *r = NULL;
    cr_assert_eq(roadnet_reach(net, &p, 1, budget, &r), 0);
    return r;
}

Test(roadnet, straight_road_partial_edge_and_distance) {
    GEOSGeometry *lines[] = {LINE(0, 0, 1000, 0)};
    roadnet_t *net = build(lines, 1, 0);
    cr_assert_eq(roadnet_node_count(net), 2);
    cr_assert_eq(roadnet_edge_count(net), 1);
    cr_assert_float_eq(roadnet_length(net), 1000, 1e-9);
    /* From 3 m beside the road at x=100: 3 m offset, then 297 m each way (clipped at x=0). */
    roadnet_reach_t *r = reach_from(net, 100, 3, 300);
    cr_assert_float_eq(roadnet_reach_length(r), 100 + 297, 1e-6);
    roadnet_pos_t at;
    cr_assert_eq(roadnet_snap(net, 450, -4, 50, &at), 0);
    cr_assert_float_eq(at.t, 0.45, 1e-12);
    cr_assert_float_eq(at.offset, 4, 1e-12);
    cr_assert(isinf(roadnet_reach_distance_to(r, &at)), "3+350+4 m is beyond 300");
    cr_assert_eq(roadnet_snap(net, 300, -2, 50, &at), 0);
    cr_assert_float_eq(roadnet_reach_distance_to(r, &at), 3 + 200 + 2, 1e-9);
    /* Nearest reached piece: x=397 is the last reached point. */
    cr_assert_float_eq(roadnet_reach_nearest(r, 420, 0, 50), 23, 1e-9);
    cr_assert(isinf(roadnet_reach_nearest(r, 460, 0, 50)));
    cr_assert_eq(roadnet_snap(net, 500, 600, 50, &at), GP_ENOTFOUND);
    roadnet_reach_free(r);
    roadnet_free(net);
}

Test(roadnet, dijkstra_takes_the_shortest_of_two_routes) {
    /* A square block 0..400 x 0..300 plus a diagonal short-cut from (0,0) to (400,300) (500 m). */
    GEOSGeometry *lines[] = {LINE(0, 0, 400, 0, 400, 300), LINE(0, 0, 0, 300, 400, 300), LINE(0, 0, 400, 300)};
    roadnet_t *net = build(lines, 3, 0);
    cr_assert_eq(roadnet_node_count(net), 4);
    roadnet_reach_t *r = reach_from(net, 0, 0, 2000);
    roadnet_pos_t corner;
    cr_assert_eq(roadnet_snap(net, 400, 300, 1, &corner), 0);
    cr_assert_float_eq(roadnet_reach_distance_to(r, &corner), 500, 1e-9);
    roadnet_pos_t mid;   /* middle of the top side: via the diagonal 500 + 200 = 700 vs 300 + 200 = 500 */
    cr_assert_eq(roadnet_snap(net, 200, 300, 1, &mid), 0);
    cr_assert_float_eq(roadnet_reach_distance_to(r, &mid), 500, 1e-9);
    roadnet_reach_free(r);
    roadnet_free(net);
}

Test(roadnet, snapping_tolerance_joins_close_ends_only) {
    GEOSGeometry *joined[] = {LINE(0, 0, 100, 0), LINE(100.3, 0.1, 200, 0)};
    roadnet_t *net = build(joined, 2, 0);
    cr_assert_eq(roadnet_node_count(net), 3, "ends 0.32 m apart are one node");
    roadnet_reach_t *r = reach_from(net, 0, 0, 1000);
    cr_assert_float_eq(roadnet_reach_length(r), roadnet_length(net), 1e-6);
    roadnet_reach_free(r);
    roadnet_free(net);
    GEOSGeometry *apart[] = {LINE(0, 0, 100, 0), LINE(102, 0, 200, 0)};
    net = build(apart, 2, 0);
    cr_assert_eq(roadnet_node_count(net), 4);
    r = reach_from(net, 0, 0, 1000);
    cr_assert_float_eq(roadnet_reach_length(r), 100, 1e-6, "a 2 m gap is not crossed");
    roadnet_reach_free(r);
    roadnet_free(net);
}

Test(roadnet, crossings_are_junctions_only_when_noded) {
    /* Two roads crossing at (0,0) without a shared vertex: a bridge (OSM) or a sketch (noded). */
    GEOSGeometry *a[] = {LINE(-100, 0, 100, 0), LINE(0, -100, 0, 100)};
    roadnet_t *bridge = build(a, 2, 0);
    roadnet_reach_t *r = reach_from(bridge, -100, 0, 1000);
    cr_assert_float_eq(roadnet_reach_length(r), 200, 1e-6);
    roadnet_reach_free(r);
    roadnet_free(bridge);
    GEOSGeometry *b[] = {LINE(-100, 0, 100, 0), LINE(0, -100, 0, 100)};
    roadnet_t *noded = build(b, 2, 1);
    cr_assert_eq(roadnet_node_count(noded), 5);
    r = reach_from(noded, -100, 0, 1000);
    cr_assert_float_eq(roadnet_reach_length(r), 400, 1e-6);
    roadnet_reach_free(r);
    roadnet_free(noded);
}

Test(roadnet, river_forces_detour) {
    /* North bank road y=0, south bank road y=-150, one bridge at x=2000. */
    GEOSGeometry *lines[] = {LINE(-2500, 0, 2500, 0), LINE(-2500, -150, 2500, -150), LINE(2000, 0, 2000, -150)};
    roadnet_t *net = build(lines, 3, 1);
    roadnet_reach_t *r = reach_from(net, 0, 5, 700);
    cr_assert_float_eq(roadnet_reach_length(r), 2 * 695, 1e-6);
    cr_assert(isinf(roadnet_reach_nearest(r, 0, -160, 50)), "the house across the river is not reached");
    cr_assert_float_eq(roadnet_reach_nearest(r, 0, -40, 50), 40, 1e-9);
    roadnet_pos_t south;
    cr_assert_eq(roadnet_snap(net, 0, -160, 50, &south), 0);
    cr_assert(isinf(roadnet_reach_distance_to(r, &south)));
    roadnet_reach_free(r);
    r = reach_from(net, 0, 5, 5000);
    cr_assert_float_eq(roadnet_reach_distance_to(r, &south), 5 + 2000 + 150 + 2000 + 10, 1e-6);
    roadnet_reach_free(r);
    roadnet_free(net);
}

Test(roadnet, service_area_is_the_buffered_reached_roads) {
    GEOSGeometry *lines[] = {LINE(0, 0, 1000, 0)};
    roadnet_t *net = build(lines, 1, 0);
    roadnet_reach_t *r = reach_from(net, 500, 0, 300);
    GEOSGeometry *area = roadnet_reach_area(g, r, 50);
    cr_assert_not_null(area);
    double a;
    GEOSArea_r(g, area, &a);
    /* 600 m × 100 m plus two half discs of 50 m (8 segments per quarter: within 1%). */
    double expect = 600 * 100 + M_PI * 50 * 50;
    cr_assert(fabs(a - expect) / expect < 0.01, "area %.1f vs %.1f", a, expect);
    GEOSGeom_destroy_r(g, area);
    roadnet_reach_free(r);
    roadnet_reach_t *none = NULL;
    cr_assert_eq(roadnet_reach(net, NULL, 0, 300, &none), 0);
    GEOSGeometry *empty = roadnet_reach_area(g, none, 50);
    cr_assert_eq(GEOSisEmpty_r(g, empty), 1);
    GEOSGeom_destroy_r(g, empty);
    roadnet_reach_free(none);
    roadnet_free(net);
}

Test(roadnet, reached_pieces_are_chained_into_long_lines_with_the_same_service_area) {
    /* A 3 × 3 block grid, 100 m blocks, every street reached: 24 pieces of 100 m. */
    GEOSGeometry *lines[8];
    for (int i = 0; i < 4; i++) {
        lines[i] = LINE(0, 100.0 * i, 300, 100.0 * i);
        lines[4 + i] = LINE(100.0 * i, 0, 100.0 * i, 300);
    }
    roadnet_t *net = build(lines, 8, 1);
    roadnet_reach_t *r = reach_from(net, 150, 100, 10000);
    int npieces;
    const double *pieces = roadnet_reach_pieces(r, &npieces);
    cr_assert_eq(npieces, 24);
    GEOSGeometry *chained = roadnet_reach_lines(g, r);
    int nlines = GEOSGetNumGeometries_r(g, chained);
    double len = 0;
    GEOSLength_r(g, chained, &len);
    /* 8 points where 3 streets meet: every chain ends at one of them, so at most 4 + a few loops. */
    cr_assert(nlines >= 4 && nlines <= 8, "%d lines", nlines);
    cr_assert_float_eq(len, 2400, 1e-6);
    /* The area is the same as uniting one buffer per piece (the old, slow way). */
    GEOSGeometry **parts = malloc((size_t)npieces * sizeof *parts);
    for (int i = 0; i < npieces; i++) {
        GEOSGeometry *piece = LINE(pieces[4 * i], pieces[4 * i + 1], pieces[4 * i + 2], pieces[4 * i + 3]);
        parts[i] = GEOSBuffer_r(g, piece, 20, 4);
        GEOSGeom_destroy_r(g, piece);
    }
    GEOSGeometry *coll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)npieces);
    GEOSGeometry *ref = GEOSUnaryUnion_r(g, coll), *area = roadnet_reach_area(g, r, 20);
    double a, b;
    GEOSArea_r(g, ref, &a);
    GEOSArea_r(g, area, &b);
    /* Outer square 340² minus nine 60 m holes, less the corner rounding (same polygonisation). */
    cr_assert(a > 340.0 * 340 - 9 * 60 * 60 - 400 && a < 340.0 * 340 - 9 * 60 * 60, "reference %.1f", a);
    cr_assert_float_eq(b, a, 1e-6 * a, "chained %.3f vs per piece %.3f", b, a);
    cr_assert_eq(GEOSGetNumInteriorRings_r(g, GEOSGetNumGeometries_r(g, area) == 1 ? GEOSGetGeometryN_r(g, area, 0) : area), 9);
    free(parts);
    GEOSGeom_destroy_r(g, coll);
    GEOSGeom_destroy_r(g, ref);
    GEOSGeom_destroy_r(g, area);
    GEOSGeom_destroy_r(g, chained);
    roadnet_reach_free(r);
    roadnet_free(net);
}

Test(roadnet, empty_input_is_refused) {
    roadnet_t *net = NULL;
    char err[256] = "";
    cr_assert_eq(roadnet_build(g, NULL, 0, 0.5, 0, &net, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "no road segment"), "got: %s", err);
    cr_assert_null(net);
}

static int count_visit(void *user, int item) {
    ((int *)user)[item]++;
    return 0;
}

Test(roadnet, index_finds_every_box_it_should) {
    double boxes[] = {0, 0, 10, 10, 500, 500, 520, 510, -300, 40, -290, 41};
    roadnet_index_t ix;
    cr_assert_eq(roadnet_index_build(&ix, boxes, 3, 25), 0);
    int seen[3] = {0};
    roadnet_index_query(&ix, 5, 5, 505, 505, count_visit, seen);
    cr_assert(seen[0] > 0 && seen[1] > 0 && seen[2] == 0, "got %d %d %d", seen[0], seen[1], seen[2]);
    int far[3] = {0};
    roadnet_index_query(&ix, 1000, 1000, 2000, 2000, count_visit, far);
    cr_assert(far[0] == 0 && far[1] == 0 && far[2] == 0);
    roadnet_index_free(&ix);
    roadnet_index_free(&ix);
}
