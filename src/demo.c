/* demo.c — the demo city generator (see demo.h for what it makes and why it is built this way).
 *
 * Pipeline, all in one GEOS context:
 *   1. seeds: a jittered lattice, warped radially towards a downtown so central blocks are smaller,
 *      kept a few cells beyond an irregular outline (a radius with sine harmonics);
 *   2. blocks: Voronoi cells of the seeds whose centroid lies inside the outline, their vertices
 *      rounded to 1e-7 degree and shared through a vertex table, so neighbouring blocks have
 *      identical edges; the edge table gives block adjacency and the road network;
 *   3. communities: region growing on the block graph from hop-distance farthest-point seeds, the
 *      least-filled region growing first into a random frontier block (interlocking, concave shapes);
 *      streets: the same growth on the community graph;
 *   4. households: per-community targets drawn by quota from the size classes the rules care about
 *      (<1,000, 1,000–3,000, 3,000–4,000, 4,000–7,000, >7,000), split into towers, walk-ups and
 *      low-rise houses whose mix follows distance to downtown; building points sit on a rotated
 *      lattice inside each block shrunk by a setback, so none lies on a road;
 *   5. facilities of every service type, weighted by households; roads are the block edges chained
 *      into polylines, classed by what they separate.
 * Random numbers come from xoshiro256** with one stream per step, so a change in one step does not
 * shift the others. Memory is a few hundred bytes per building; scale 1 takes about two seconds. */
#include "demo.h"
#include "buf.h"
#include "err.h"
#include "geo.h"
#include "log.h"
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEMO_LON0 111.70
#define DEMO_LAT0 40.82
#define DEMO_RADIUS 14000.0       /* metres: the outline's mean radius (about 30 km across) */
#define DEMO_WARP 1.3             /* > 1 pulls seeds towards downtown (smaller blocks there) */
#define DEMO_BLOCKS_PER_COMMUNITY 12
#define DEMO_SETBACK_M 12.0       /* buildings keep this far from block edges (the roads) */
#define DEMO_E7 10000000.0

const char *const demo_facility_types[] = {"community_service", "supermarket", "clinic", "school",
                                           "kindergarten", "culture", "fitness", "elder_care",
                                           "pharmacy", "police", "fire_station", NULL};
const char *const demo_facility_labels[] = {"便民服务站", "超市", "社区卫生服务站", "学校", "幼儿园",
                                            "文化活动中心", "健身广场", "养老服务站", "药店",
                                            "警务室", "微型消防站", NULL};
/* Facilities per type at scale 1 (community_service is one per community instead). */
static const int demo__facility_base[] = {0, 300, 190, 110, 180, 130, 220, 140, 200, 55, 35};

/* ---- random numbers: xoshiro256** seeded by splitmix64 ----------------------------------- */

typedef struct demo__rng {
    uint64_t s[4];
} demo__rng;

static uint64_t demo__splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void demo__rng_seed(demo__rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ULL);
    for (int i = 0; i < 4; i++) r->s[i] = demo__splitmix(&x);
}

static uint64_t demo__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t demo__next(demo__rng *r) {
    uint64_t *s = r->s;
    uint64_t result = demo__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = demo__rotl(s[3], 45);
    return result;
}

static double demo__unit(demo__rng *r) { return (double)(demo__next(r) >> 11) * 0x1.0p-53; }
static double demo__uniform(demo__rng *r, double a, double b) { return a + (b - a) * demo__unit(r); }
/* Integer in [0, n). */
static int demo__below(demo__rng *r, int n) { return (int)(demo__unit(r) * n); }
/* Integer in [a, b]. */
static int demo__between(demo__rng *r, int a, int b) { return a + demo__below(r, b - a + 1); }

static double demo__normal(demo__rng *r) {
    double u = demo__unit(r), v = demo__unit(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

static int demo__poisson(demo__rng *r, double mean) {
    if (mean <= 0) return 0;
    if (mean > 30) {
        double v = mean + sqrt(mean) * demo__normal(r);
        return v < 0 ? 0 : (int)lround(v);
    }
    double limit = exp(-mean), p = 1.0;
    int k = 0;
    do {
        k++;
        p *= demo__unit(r);
    } while (p > limit);
    return k - 1;
}

static void demo__shuffle(demo__rng *r, int *v, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = demo__below(r, i + 1), t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* ---- a uint64 -> uint32 open-addressing map (vertex and edge tables) --------------------- */

typedef struct demo__map {
    uint64_t *keys;   /* 0 = empty slot; callers never use key 0 */
    uint32_t *vals;
    size_t mask;
} demo__map;

static int demo__map_init(demo__map *m, size_t expected) {
    size_t cap = 64;
    while (cap < expected * 2) cap <<= 1;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = calloc(cap, sizeof *m->vals);
    m->mask = cap - 1;
    return m->keys && m->vals ? 0 : GP_ENOMEM;
}

static void demo__map_free(demo__map *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* The slot of key: *found tells whether it was there; if not, the caller stores key and value. */
static size_t demo__map_slot(const demo__map *m, uint64_t key, int *found) {
    assert(key != 0);
    uint64_t h = key;
    size_t i = (size_t)demo__splitmix(&h) & m->mask;
    while (m->keys[i] && m->keys[i] != key) i = (i + 1) & m->mask;
    *found = m->keys[i] == key;
    return i;
}

/* ---- names --------------------------------------------------------------------------------- */

static const char *const demo__name_words[] = {
    "幸福", "锦绣", "和平", "团结", "友谊", "光明", "新华", "阳光", "安康", "祥和", "春华", "秋实",
    "丁香", "青城", "如意", "金桥", "滨河", "兴安", "乌兰", "察哈尔", "呼伦", "巴彦", "腾飞", "嘉园",
    "书香", "桃李", "杏林", "松林", "柳林", "榆林", "枫叶", "凤凰", "麒麟", "金川", "银河", "星光",
    "彩虹", "景苑", "文博", "翠园", "东风", "胜利", "前进", "红旗", "八一", "民族", "五塔", "大召",
    "鼓楼", "兴隆", "永和", "长乐", "富强", "健康", "文化", "公园", "铁路", "电力", "钢铁", "毛纺",
    "糖厂", "海东", "昭乌达", "锡林", "中山", "石羊桥", "南茶坊", "北垣", "赛罕", "玉泉", "新城",
    "回民", "通道", "大学", "如意河", "万达", "恒大", "康居", "宜居", "润宇", "金宇", "蒙苑", "草原",
    "敕勒川", "大青山", "昭君", "北辰", "紫薇", "御苑", "学府", "颐和", "华庭", "朝阳", "晨光", "瑞丰"};
static const char *const demo__name_places[] = {"里", "苑", "园", "巷", "坊", "府", "庄", "营", "湾", "台",
                                                "花园", "家园", "新村", "小区", "新城", "佳苑", "雅园", "名居",
                                                "公寓", "嘉苑"};
static const char *const demo__name_sides[] = {"", "", "", "东", "西", "南", "北", "一", "二", "三", "四", "五"};
static const char *const demo__supermarkets[] = {"维多利", "美特好", "华联", "利客", "家家乐", "惠民",
                                                 "佳乐", "万家福", "金川", "鑫盛"};
static const char *const demo__pharmacies[] = {"康民", "仁和", "济世", "百姓", "惠仁", "同济", "益民", "德仁"};
static const char *const demo__numerals[] = {"", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"};

#define DEMO_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define DEMO_PICK(r, a) ((a)[demo__below((r), DEMO_COUNT(a))])

static uint64_t demo__hash_text(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

/* Draws names until one is new; names is the set of those already given (hashes). */
static void demo__unique_name(demo__rng *r, demo__map *names, const char *suffix, char *out, size_t outlen) {
    for (int attempt = 0;; attempt++) {
        const char *side = attempt < 50 ? DEMO_PICK(r, demo__name_sides) : demo__numerals[1 + demo__below(r, 10)];
        snprintf(out, outlen, "%s%s%s%s", DEMO_PICK(r, demo__name_words), side, DEMO_PICK(r, demo__name_places),
                 suffix);
        int found;
        size_t slot = demo__map_slot(names, demo__hash_text(out), &found);
        if (!found) {
            names->keys[slot] = demo__hash_text(out);
            return;
        }
    }
}

/* ---- the city -------------------------------------------------------------------------------- */

enum { DEMO_TOWER = 0, DEMO_WALKUP = 1, DEMO_LOWRISE = 2 };
enum { DEMO_ROAD_PRIMARY = 0, DEMO_ROAD_SECONDARY = 1, DEMO_ROAD_RESIDENTIAL = 2 };
static const char *const demo__road_classes[] = {"primary", "secondary", "residential"};

typedef struct demo__edge {
    uint32_t a, b;        /* vertex ids, in the order of `left`'s counter-clockwise ring */
    int32_t left, right;  /* blocks on each side; right = -1 on the city boundary */
} demo__edge;

typedef struct demo__community {
    int street;
    int households, population;
    double urbanity;       /* 1 downtown, 0 at the edge: drives the building mix */
    double cx, cy, area;   /* degrees */
    int nblocks, first_block;       /* into city.comm_blocks */
    int first_building, nbuildings; /* into city.buildings, sorted by community */
    GEOSGeometry *geom;
    char code[32];
    char name[64];
} demo__community;

typedef struct demo__street {
    double cx, cy, area, miny, maxy;
    GEOSGeometry *geom;
    char code[32];
    char name[64];
} demo__street;

typedef struct demo__building {
    int64_t x, y;          /* 1e-7 degree */
    int community, seq, type;
    int households, population, floors, elderly_alone, disabled, low_income;
} demo__building;

typedef struct demo__facility {
    int64_t x, y;
    int type, community;
    char name[128];
} demo__facility;

typedef struct demo__city {
    GEOSContextHandle_t g;
    double scale;
    uint64_t seed;
    double phase[5], downtown_x, downtown_y;   /* outline harmonics, downtown (metres) */
    /* vertices (1e-7 degree) */
    int64_t *vx, *vy;
    size_t nv;
    /* blocks: counter-clockwise rings of vertex ids (not closed), CSR */
    int nb;
    uint32_t *ring_off, *ring;
    double *bcx, *bcy, *barea;
    GEOSGeometry **bgeom;
    int *block_comm;
    /* topology */
    demo__edge *edges;
    size_t ne;
    uint32_t *adj_off, *adj;
    /* communities and streets */
    int nc, ns;
    demo__community *comm;
    int *comm_blocks;
    demo__street *street;
    GEOSGeometry *outline;
    /* buildings, facilities, roads */
    demo__building *buildings;
    int nbuildings;
    demo__facility *facilities;
    int nfacilities;
    uint32_t *road_off, *road_vertex;
    int *road_class;
    int nroads;
} demo__city;

static void demo__city_free(demo__city *c) {
    GEOSContextHandle_t g = c->g;
    if (c->bgeom)
        for (int i = 0; i < c->nb; i++) GEOSGeom_destroy_r(g, c->bgeom[i]);
    if (c->comm)
        for (int i = 0; i < c->nc; i++) GEOSGeom_destroy_r(g, c->comm[i].geom);
    if (c->street)
        for (int i = 0; i < c->ns; i++) GEOSGeom_destroy_r(g, c->street[i].geom);
    if (c->outline) GEOSGeom_destroy_r(g, c->outline);
    free(c->vx), free(c->vy), free(c->ring_off), free(c->ring), free(c->bcx), free(c->bcy), free(c->barea);
    free(c->bgeom), free(c->block_comm), free(c->edges), free(c->adj_off), free(c->adj);
    free(c->comm), free(c->comm_blocks), free(c->street), free(c->buildings), free(c->facilities);
    free(c->road_off), free(c->road_vertex), free(c->road_class);
    geo_ctx_free(g);
}

static double demo__mx(void) { return 111320.0 * cos(DEMO_LAT0 * M_PI / 180.0); } /* metres per degree lon */
#define DEMO_MY 110574.0                                                         /* metres per degree lat */

static int64_t demo__lon_e7(double x_m) { return llround((DEMO_LON0 + x_m / demo__mx()) * DEMO_E7); }
static int64_t demo__lat_e7(double y_m) { return llround((DEMO_LAT0 + y_m / DEMO_MY) * DEMO_E7); }

/* Outline radius (metres) in direction theta. */
static double demo__outline_radius(const demo__city *c, double theta) {
    return DEMO_RADIUS * (1.0 + 0.10 * sin(3 * theta + c->phase[0]) + 0.07 * sin(5 * theta + c->phase[1]) +
                          0.04 * sin(8 * theta + c->phase[2]) + 0.03 * sin(13 * theta + c->phase[3]) +
                          0.02 * sin(21 * theta + c->phase[4]));
}

/* Distance (metres) beyond the outline; negative inside. */
static double demo__outside_by(const demo__city *c, double x, double y) {
    return hypot(x, y) - demo__outline_radius(c, atan2(y, x));
}

static void demo__warp(const demo__city *c, double qx, double qy, double *x, double *y) {
    double s = hypot(qx, qy), f = s > 0 ? pow(s / DEMO_RADIUS, DEMO_WARP - 1.0) : 0;
    *x = c->downtown_x + qx * f;
    *y = c->downtown_y + qy * f;
}

/* ---- 1, 2: seeds, Voronoi blocks, shared vertices ------------------------------------------ */

static int demo__count_lattice(const demo__city *c, double step, double half) {
    int count = 0;
    for (double qy = -half; qy <= half; qy += step)
        for (double qx = -half; qx <= half; qx += step) {
            double x, y;
            demo__warp(c, qx, qy, &x, &y);
            if (demo__outside_by(c, x, y) < 0) count++;
        }
    return count;
}

static int demo__make_blocks(demo__city *c, int target_blocks, char *err, size_t errlen) {
    GEOSContextHandle_t g = c->g;
    demo__rng rng;
    demo__rng_seed(&rng, c->seed, 1);
    const double margin = 2500.0;
    double reach = DEMO_RADIUS * 1.26 + hypot(c->downtown_x, c->downtown_y) + margin;
    double half = DEMO_RADIUS * pow(reach / DEMO_RADIUS, 1.0 / DEMO_WARP);
    double step = 2 * half / sqrt(target_blocks * 2.0);
    for (int i = 0; i < 4; i++) step *= sqrt(demo__count_lattice(c, step, half) / (double)target_blocks);

    int rc = GP_EGEOM;
    size_t cap = 1024, n = 0;
    double *sx = malloc(cap * sizeof *sx), *sy = malloc(cap * sizeof *sy);
    GEOSGeometry *points = NULL, *cells = NULL;
    demo__map vertices = {0};
    if (!sx || !sy) return err_set(err, errlen, GP_ENOMEM, "demo city: out of memory for seeds");
    for (double qy = -half; qy <= half; qy += step)
        for (double qx = -half; qx <= half; qx += step) {
            double x, y;
            demo__warp(c, qx + demo__uniform(&rng, -0.35, 0.35) * step, qy + demo__uniform(&rng, -0.35, 0.35) * step,
                       &x, &y);
            if (demo__outside_by(c, x, y) > margin) continue;
            if (n == cap) {
                cap *= 2;
                double *nx = realloc(sx, cap * sizeof *sx), *ny = nx ? realloc(sy, cap * sizeof *sy) : NULL;
                if (nx) sx = nx;
                if (!ny) { rc = err_set(err, errlen, GP_ENOMEM, "demo city: out of memory for seeds"); goto end; }
                sy = ny;
            }
            sx[n] = x, sy[n] = y, n++;
        }
    GEOSCoordSequence *seq = GEOSCoordSeq_create_r(g, (unsigned)n, 2);
    for (size_t i = 0; seq && i < n; i++) GEOSCoordSeq_setXY_r(g, seq, (unsigned)i, sx[i], sy[i]);
    /* Voronoi uses the input's coordinates only, so a LineString carries the seeds cheaply. */
    points = seq ? GEOSGeom_createLineString_r(g, seq) : NULL;
    cells = points ? GEOSVoronoiDiagram_r(g, points, NULL, 0.0, 0) : NULL;
    if (!cells) { err_set(err, errlen, GP_EGEOM, "demo city: Voronoi diagram failed: %s", geo_last_error(g)); goto end; }

    int ncells = GEOSGetNumGeometries_r(g, cells);
    size_t ring_cap = (size_t)ncells * 8 + 16;
    c->ring_off = malloc(((size_t)ncells + 1) * sizeof *c->ring_off);
    c->ring = malloc(ring_cap * sizeof *c->ring);
    c->vx = malloc(ring_cap * sizeof *c->vx);
    c->vy = malloc(ring_cap * sizeof *c->vy);
    if (!c->ring_off || !c->ring || !c->vx || !c->vy || demo__map_init(&vertices, ring_cap)) {
        rc = err_set(err, errlen, GP_ENOMEM, "demo city: out of memory for blocks");
        goto end;
    }
    size_t used = 0;
    c->ring_off[0] = 0;
    for (int i = 0; i < ncells; i++) {
        const GEOSGeometry *cell = GEOSGetGeometryN_r(g, cells, i);
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(g, GEOSGetExteriorRing_r(g, cell));
        unsigned m = 0;
        GEOSCoordSeq_getSize_r(g, cs, &m);
        if (m < 4) continue;
        double mx = 0, my = 0;
        for (unsigned k = 0; k + 1 < m; k++) {
            double x, y;
            GEOSCoordSeq_getXY_r(g, cs, k, &x, &y);
            mx += x, my += y;
        }
        if (demo__outside_by(c, mx / (m - 1), my / (m - 1)) >= 0) continue;
        if (used + m > ring_cap) {
            rc = err_set(err, errlen, GP_EGEOM, "demo city: Voronoi cell %d has too many vertices", i);
            goto end;
        }
        size_t start = used;
        for (unsigned k = 0; k + 1 < m; k++) {
            double x, y;
            GEOSCoordSeq_getXY_r(g, cs, k, &x, &y);
            int64_t ex = demo__lon_e7(x), ey = demo__lat_e7(y);
            int found;
            uint64_t key = ((uint64_t)ex << 32) | (uint64_t)ey;
            size_t slot = demo__map_slot(&vertices, key, &found);
            if (!found) {
                vertices.keys[slot] = key;
                vertices.vals[slot] = (uint32_t)c->nv;
                c->vx[c->nv] = ex, c->vy[c->nv] = ey, c->nv++;
            }
            uint32_t vid = vertices.vals[slot];
            /* Rounding can merge the two ends of a very short edge: drop the repeat. */
            if (used > start && c->ring[used - 1] == vid) continue;
            c->ring[used++] = vid;
        }
        if (used - start > 1 && c->ring[used - 1] == c->ring[start]) used--;
        if (used - start < 3) { used = start; continue; }
        /* Make the ring counter-clockwise (shoelace on offsets from its first vertex). */
        double twice_area = 0;
        int64_t ox = c->vx[c->ring[start]], oy = c->vy[c->ring[start]];
        for (size_t k = start; k < used; k++) {
            size_t k2 = k + 1 < used ? k + 1 : start;
            twice_area += (double)(c->vx[c->ring[k]] - ox) * (double)(c->vy[c->ring[k2]] - oy) -
                          (double)(c->vx[c->ring[k2]] - ox) * (double)(c->vy[c->ring[k]] - oy);
        }
        if (twice_area < 0)
            for (size_t a = start, b = used - 1; a < b; a++, b--) {
                uint32_t t = c->ring[a];
                c->ring[a] = c->ring[b];
                c->ring[b] = t;
            }
        c->ring_off[++c->nb] = (uint32_t)used;
    }
    rc = 0;
end:
    demo__map_free(&vertices);
    if (points) GEOSGeom_destroy_r(g, points);
    if (cells) GEOSGeom_destroy_r(g, cells);
    free(sx);
    free(sy);
    return rc;
}

/* Builds the edge table and the block adjacency (CSR) from the rings. */
static int demo__make_topology(demo__city *c, char *err, size_t errlen) {
    size_t total = c->ring_off[c->nb];
    demo__map map = {0};
    size_t *degree = NULL;
    int rc = GP_ENOMEM;
    free(c->edges), free(c->adj_off), free(c->adj);
    c->edges = malloc((total + 1) * sizeof *c->edges);
    c->adj_off = calloc((size_t)c->nb + 1, sizeof *c->adj_off);
    c->adj = malloc((total + 1) * sizeof *c->adj);
    degree = calloc((size_t)c->nb + 1, sizeof *degree);
    c->ne = 0;
    if (!c->edges || !c->adj_off || !c->adj || !degree || demo__map_init(&map, total)) goto end;
    for (int b = 0; b < c->nb; b++)
        for (uint32_t k = c->ring_off[b]; k < c->ring_off[b + 1]; k++) {
            uint32_t u = c->ring[k], v = c->ring[k + 1 < c->ring_off[b + 1] ? k + 1 : c->ring_off[b]];
            uint64_t key = ((uint64_t)(u < v ? u : v) << 32 | (u < v ? v : u)) + 1;
            int found;
            size_t slot = demo__map_slot(&map, key, &found);
            if (!found) {
                map.keys[slot] = key;
                map.vals[slot] = (uint32_t)c->ne;
                c->edges[c->ne++] = (demo__edge){u, v, b, -1};
            } else {
                demo__edge *e = &c->edges[map.vals[slot]];
                if (e->right != -1 || e->left == b) {
                    rc = err_set(err, errlen, GP_EGEOM, "demo city: edge %u-%u is shared by more than two blocks", u, v);
                    goto end;
                }
                e->right = b;
                degree[e->left]++, degree[b]++;
            }
        }
    for (int b = 0; b < c->nb; b++) c->adj_off[b + 1] = c->adj_off[b] + (uint32_t)degree[b];
    memset(degree, 0, ((size_t)c->nb + 1) * sizeof *degree);
    for (size_t i = 0; i < c->ne; i++) {
        const demo__edge *e = &c->edges[i];
        if (e->right < 0) continue;
        c->adj[c->adj_off[e->left] + degree[e->left]++] = (uint32_t)e->right;
        c->adj[c->adj_off[e->right] + degree[e->right]++] = (uint32_t)e->left;
    }
    rc = 0;
end:
    if (rc == GP_ENOMEM) err_set(err, errlen, rc, "demo city: out of memory for the block topology");
    demo__map_free(&map);
    free(degree);
    return rc;
}

/* Keeps only the largest edge-connected set of blocks (a city of one piece), then rebuilds topology. */
static int demo__keep_largest_component(demo__city *c, char *err, size_t errlen) {
    int *comp = malloc((size_t)c->nb * sizeof *comp), *queue = malloc((size_t)c->nb * sizeof *queue);
    int rc = GP_ENOMEM, best = -1, best_size = 0, ncomp = 0;
    if (!comp || !queue) goto end;
    for (int i = 0; i < c->nb; i++) comp[i] = -1;
    for (int s = 0; s < c->nb; s++) {
        if (comp[s] >= 0) continue;
        int head = 0, tail = 0;
        comp[s] = ncomp, queue[tail++] = s;
        while (head < tail) {
            int b = queue[head++];
            for (uint32_t k = c->adj_off[b]; k < c->adj_off[b + 1]; k++)
                if (comp[c->adj[k]] < 0) comp[c->adj[k]] = ncomp, queue[tail++] = (int)c->adj[k];
        }
        if (tail > best_size) best_size = tail, best = ncomp;
        ncomp++;
    }
    if (ncomp > 1) {
        int nb = 0;
        uint32_t used = 0;
        for (int b = 0; b < c->nb; b++) {
            if (comp[b] != best) continue;
            uint32_t from = c->ring_off[b], to = c->ring_off[b + 1];
            c->ring_off[nb] = used;
            memmove(c->ring + used, c->ring + from, (to - from) * sizeof *c->ring);
            used += to - from;
            nb++;
        }
        c->ring_off[nb] = used;
        c->nb = nb;
        rc = demo__make_topology(c, err, errlen);
    } else {
        rc = 0;
    }
end:
    if (rc == GP_ENOMEM) err_set(err, errlen, rc, "demo city: out of memory for components");
    free(comp);
    free(queue);
    return rc;
}

/* Block polygons (GEOS, degrees), centroids and areas. */
static int demo__block_geometry(demo__city *c, char *err, size_t errlen) {
    GEOSContextHandle_t g = c->g;
    c->bgeom = calloc((size_t)c->nb, sizeof *c->bgeom);
    c->bcx = malloc((size_t)c->nb * sizeof *c->bcx);
    c->bcy = malloc((size_t)c->nb * sizeof *c->bcy);
    c->barea = malloc((size_t)c->nb * sizeof *c->barea);
    if (!c->bgeom || !c->bcx || !c->bcy || !c->barea)
        return err_set(err, errlen, GP_ENOMEM, "demo city: out of memory for block polygons");
    int invalid = 0;
    for (int b = 0; b < c->nb; b++) {
        uint32_t from = c->ring_off[b], m = c->ring_off[b + 1] - from;
        GEOSCoordSequence *cs = GEOSCoordSeq_create_r(g, m + 1, 2);
        double a2 = 0, sx = 0, sy = 0;
        int64_t ox = c->vx[c->ring[from]], oy = c->vy[c->ring[from]];
        for (uint32_t k = 0; k <= m; k++) {
            uint32_t v = c->ring[from + k % m], w = c->ring[from + (k + 1) % m];
            GEOSCoordSeq_setXY_r(g, cs, k, (double)c->vx[v] / DEMO_E7, (double)c->vy[v] / DEMO_E7);
            if (k == m) break;
            double x0 = (double)(c->vx[v] - ox), y0 = (double)(c->vy[v] - oy);
            double x1 = (double)(c->vx[w] - ox), y1 = (double)(c->vy[w] - oy), cross = x0 * y1 - x1 * y0;
            a2 += cross, sx += (x0 + x1) * cross, sy += (y0 + y1) * cross;
        }
        GEOSGeometry *shell = GEOSGeom_createLinearRing_r(g, cs);
        c->bgeom[b] = shell ? GEOSGeom_createPolygon_r(g, shell, NULL, 0) : NULL;
        if (!c->bgeom[b])
            return err_set(err, errlen, GP_EGEOM, "demo city: block %d: %s", b, geo_last_error(g));
        if (GEOSisValid_r(g, c->bgeom[b]) != 1) invalid++;
        c->barea[b] = a2 / 2 / (DEMO_E7 * DEMO_E7);
        c->bcx[b] = ((double)ox + sx / (3 * a2)) / DEMO_E7;
        c->bcy[b] = ((double)oy + sy / (3 * a2)) / DEMO_E7;
    }
    if (invalid) return err_set(err, errlen, GP_EGEOM, "demo city: %d blocks became invalid when rounded", invalid);
    return 0;
}

/* ---- 3: region growing ------------------------------------------------------------------------ */

typedef struct demo__list {
    uint32_t *items;
    size_t n, cap;
} demo__list;

static int demo__push(demo__list *l, uint32_t v) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        uint32_t *items = realloc(l->items, cap * sizeof *items);
        if (!items) return GP_ENOMEM;
        l->items = items, l->cap = cap;
    }
    l->items[l->n++] = v;
    return 0;
}

/* Splits a connected graph (CSR off/adj over n nodes) into k connected regions: seeds are spread by
 * farthest-point sampling in hops, then the region furthest below its (random) quota claims a random
 * block of its frontier, until every node is claimed. label[i] gets the region of node i. */
static int demo__grow(int n, const uint32_t *off, const uint32_t *adj, int k, demo__rng *rng, int *label) {
    assert(k >= 1 && k <= n);
    int rc = GP_ENOMEM;
    uint32_t *dist = malloc((size_t)n * sizeof *dist);
    int *order = malloc((size_t)n * sizeof *order), *queue = malloc((size_t)n * sizeof *queue);
    int *size = calloc((size_t)k, sizeof *size);
    double *quota = malloc((size_t)k * sizeof *quota);
    demo__list *frontier = calloc((size_t)k, sizeof *frontier);
    if (!dist || !order || !queue || !size || !quota || !frontier) goto end;
    for (int i = 0; i < n; i++) dist[i] = UINT32_MAX, order[i] = i, label[i] = -1;
    demo__shuffle(rng, order, n);
    int seed = order[0];
    for (int r = 0; r < k; r++) {
        label[seed] = r, size[r] = 1;
        quota[r] = demo__uniform(rng, 0.65, 1.45);
        for (uint32_t j = off[seed]; j < off[seed + 1]; j++)
            if (demo__push(&frontier[r], adj[j])) goto end;
        int head = 0, tail = 0;
        dist[seed] = 0, queue[tail++] = seed;
        while (head < tail) {
            int v = queue[head++];
            for (uint32_t j = off[v]; j < off[v + 1]; j++)
                if (dist[adj[j]] > dist[v] + 1) dist[adj[j]] = dist[v] + 1, queue[tail++] = (int)adj[j];
        }
        int next = -1;
        for (int i = 0; i < n; i++)
            if (label[order[i]] < 0 && (next < 0 || dist[order[i]] > dist[next])) next = order[i];
        if (next < 0) break;
        seed = next;
    }
    int claimed = k;
    while (claimed < n) {
        int best = -1;
        double best_fill = 0;
        for (int r = 0; r < k; r++) {
            if (!frontier[r].n) continue;
            double fill = size[r] / quota[r];
            if (best < 0 || fill < best_fill) best = r, best_fill = fill;
        }
        if (best < 0) break; /* the graph is connected, so this does not happen */
        demo__list *f = &frontier[best];
        while (f->n) {
            size_t j = (size_t)demo__below(rng, (int)f->n);
            uint32_t v = f->items[j];
            f->items[j] = f->items[--f->n];
            if (label[v] >= 0) continue;
            label[v] = best, size[best]++, claimed++;
            for (uint32_t a = off[v]; a < off[v + 1]; a++)
                if (label[adj[a]] < 0 && demo__push(f, adj[a])) goto end;
            break;
        }
    }
    rc = claimed == n ? 0 : GP_EGEOM;
end:
    if (frontier)
        for (int r = 0; r < k; r++) free(frontier[r].items);
    free(frontier), free(dist), free(order), free(queue), free(size), free(quota);
    return rc;
}

/* Community graph (CSR) from the block edges. */
static int demo__community_graph(const demo__city *c, uint32_t **off_out, uint32_t **adj_out) {
    size_t npairs = 0;
    uint64_t *pairs = malloc((c->ne + 1) * 2 * sizeof *pairs);
    uint32_t *off = calloc((size_t)c->nc + 1, sizeof *off), *adj = NULL;
    if (!pairs || !off) goto fail;
    for (size_t i = 0; i < c->ne; i++) {
        const demo__edge *e = &c->edges[i];
        if (e->right < 0) continue;
        uint64_t a = (uint64_t)c->block_comm[e->left], b = (uint64_t)c->block_comm[e->right];
        if (a == b) continue;
        pairs[npairs++] = a << 32 | b;
        pairs[npairs++] = b << 32 | a;
    }
    /* Sort and de-duplicate: two communities share many edges. */
    for (size_t gap = npairs / 2; gap > 0; gap /= 2)
        for (size_t i = gap; i < npairs; i++)
            for (size_t j = i; j >= gap && pairs[j - gap] > pairs[j]; j -= gap) {
                uint64_t t = pairs[j];
                pairs[j] = pairs[j - gap], pairs[j - gap] = t;
            }
    size_t unique = 0;
    for (size_t i = 0; i < npairs; i++)
        if (!unique || pairs[i] != pairs[unique - 1]) pairs[unique++] = pairs[i];
    adj = malloc((unique + 1) * sizeof *adj);
    if (!adj) goto fail;
    for (size_t i = 0; i < unique; i++) {
        off[(pairs[i] >> 32) + 1]++;
        adj[i] = (uint32_t)(pairs[i] & 0xffffffffu);
    }
    for (int i = 0; i < c->nc; i++) off[i + 1] += off[i];
    free(pairs);
    *off_out = off, *adj_out = adj;
    return 0;
fail:
    free(pairs), free(off), free(adj);
    return GP_ENOMEM;
}

typedef struct demo__sort_key {
    double row, x;
    int index;
} demo__sort_key;

static int demo__cmp_key(const void *a, const void *b) {
    const demo__sort_key *p = a, *q = b;
    if (p->row != q->row) return p->row < q->row ? -1 : 1;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return p->index - q->index;
}

/* Numbers items north to south in bands of `band` degrees, west to east within a band: fills rank. */
static int demo__rank_by_position(int n, const double *cx, const double *cy, double top, double band, int *rank) {
    demo__sort_key *keys = malloc((size_t)n * sizeof *keys);
    if (!keys) return GP_ENOMEM;
    for (int i = 0; i < n; i++) keys[i] = (demo__sort_key){floor((top - cy[i]) / band), cx[i], i};
    qsort(keys, (size_t)n, sizeof *keys, demo__cmp_key);
    for (int i = 0; i < n; i++) rank[keys[i].index] = i;
    free(keys);
    return 0;
}

static GEOSGeometry *demo__coverage_union(GEOSContextHandle_t g, GEOSGeometry **parts, int n) {
    GEOSGeometry **clones = malloc((size_t)n * sizeof *clones);
    if (!clones) return NULL;
    for (int i = 0; i < n; i++) clones[i] = GEOSGeom_clone_r(g, parts[i]);
    GEOSGeometry *coll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, clones, (unsigned)n);
    free(clones);
    if (!coll) return NULL;
    GEOSGeometry *u = GEOSCoverageUnion_r(g, coll);
    GEOSGeom_destroy_r(g, coll);
    return u;
}

static int demo__make_regions(demo__city *c, char *err, size_t errlen) {
    GEOSContextHandle_t g = c->g;
    demo__rng rng;
    demo__rng_seed(&rng, c->seed, 2);
    int rc = GP_ENOMEM, *label = NULL, *rank = NULL, *count = NULL;
    uint32_t *coff = NULL, *cadj = NULL;
    double *cx = NULL, *cy = NULL;
    GEOSGeometry **parts = NULL;
    c->nc = c->nc < c->nb ? c->nc : c->nb;
    c->block_comm = malloc((size_t)c->nb * sizeof *c->block_comm);
    c->comm = calloc((size_t)c->nc, sizeof *c->comm);
    c->comm_blocks = malloc((size_t)c->nb * sizeof *c->comm_blocks);
    label = malloc((size_t)(c->nb > c->nc ? c->nb : c->nc) * sizeof *label);
    rank = malloc((size_t)c->nb * sizeof *rank);
    cx = malloc((size_t)c->nb * sizeof *cx), cy = malloc((size_t)c->nb * sizeof *cy);
    parts = malloc((size_t)c->nb * sizeof *parts);
    if (!c->block_comm || !c->comm || !c->comm_blocks || !label || !rank || !cx || !cy || !parts) goto end;
    if ((rc = demo__grow(c->nb, c->adj_off, c->adj, c->nc, &rng, c->block_comm))) {
        err_set(err, errlen, rc, "demo city: could not grow %d communities from %d blocks", c->nc, c->nb);
        goto end;
    }
    /* Streets: the same growth on the community graph. */
    if ((rc = demo__community_graph(c, &coff, &cadj))) goto end;
    c->ns = c->ns < c->nc ? c->ns : c->nc;
    c->street = calloc((size_t)c->ns, sizeof *c->street);
    count = calloc((size_t)(c->ns > c->nc ? c->ns : c->nc) + 1, sizeof *count);
    if (!c->street || !count) { rc = GP_ENOMEM; goto end; }
    if ((rc = demo__grow(c->nc, coff, cadj, c->ns, &rng, label))) {
        err_set(err, errlen, rc, "demo city: could not grow %d streets from %d communities", c->ns, c->nc);
        goto end;
    }
    for (int i = 0; i < c->nc; i++) c->comm[i].street = label[i];
    /* Centroids and areas, then codes numbered north to south, west to east. */
    for (int b = 0; b < c->nb; b++) {
        demo__community *cm = &c->comm[c->block_comm[b]];
        cm->cx += c->bcx[b] * c->barea[b], cm->cy += c->bcy[b] * c->barea[b], cm->area += c->barea[b];
        cm->nblocks++;
    }
    double top = -1e9, bottom = 1e9;
    for (int i = 0; i < c->nc; i++) {
        demo__community *cm = &c->comm[i];
        demo__street *st = &c->street[cm->street];
        cm->cx /= cm->area, cm->cy /= cm->area;
        st->cx += cm->cx * cm->area, st->cy += cm->cy * cm->area, st->area += cm->area;
        top = cm->cy > top ? cm->cy : top, bottom = cm->cy < bottom ? cm->cy : bottom;
    }
    for (int s = 0; s < c->ns; s++) {
        c->street[s].cx /= c->street[s].area, c->street[s].cy /= c->street[s].area;
        cx[s] = c->street[s].cx, cy[s] = c->street[s].cy;
    }
    if ((rc = demo__rank_by_position(c->ns, cx, cy, top + 0.01, (top - bottom + 0.02) / 6, rank))) goto end;
    /* Renumber streets by rank: permute the street array. */
    demo__street *sorted = calloc((size_t)c->ns, sizeof *sorted);
    if (!sorted) { rc = GP_ENOMEM; goto end; }
    for (int s = 0; s < c->ns; s++) sorted[rank[s]] = c->street[s];
    for (int i = 0; i < c->nc; i++) c->comm[i].street = rank[c->comm[i].street];
    free(c->street);
    c->street = sorted;
    for (int i = 0; i < c->nc; i++) cx[i] = c->comm[i].cx, cy[i] = c->comm[i].cy;
    double band = 0.012 / sqrt(c->scale < 1 ? 1 : c->scale);
    if ((rc = demo__rank_by_position(c->nc, cx, cy, top + 0.01, band, rank))) goto end;
    /* Community numbers run within each street in that order: permute communities by (street, rank). */
    demo__sort_key *keys = malloc((size_t)c->nc * sizeof *keys);
    demo__community *reordered = calloc((size_t)c->nc, sizeof *reordered);
    if (!keys || !reordered) { free(keys), free(reordered); rc = GP_ENOMEM; goto end; }
    for (int i = 0; i < c->nc; i++) keys[i] = (demo__sort_key){c->comm[i].street, rank[i], i};
    qsort(keys, (size_t)c->nc, sizeof *keys, demo__cmp_key);
    for (int i = 0; i < c->nc; i++) reordered[i] = c->comm[keys[i].index], label[keys[i].index] = i;
    for (int b = 0; b < c->nb; b++) c->block_comm[b] = label[c->block_comm[b]];
    free(keys);
    free(c->comm);
    c->comm = reordered;
    /* Blocks of each community (CSR), community and street polygons. */
    for (int b = 0; b < c->nb; b++) count[c->block_comm[b] + 1]++;
    for (int i = 0; i < c->nc; i++) count[i + 1] += count[i];
    for (int i = 0; i < c->nc; i++) c->comm[i].first_block = count[i];
    for (int b = 0; b < c->nb; b++) c->comm_blocks[count[c->block_comm[b]]++] = b;
    demo__map names = {0};
    if (demo__map_init(&names, (size_t)(c->nc + c->ns) * 2)) { rc = GP_ENOMEM; goto end; }
    for (int s = 0; s < c->ns; s++) {
        snprintf(c->street[s].code, sizeof c->street[s].code, "%s%03d", DEMO_COUNTY_CODE, (s + 1) % 1000);
        /* Street names are one word (a second one if the first is taken) and 街道. */
        for (int attempt = 0;; attempt++) {
            snprintf(c->street[s].name, sizeof c->street[s].name, "%s%s街道", DEMO_PICK(&rng, demo__name_words),
                     attempt < 20 ? "" : DEMO_PICK(&rng, demo__name_words));
            int found;
            size_t slot = demo__map_slot(&names, demo__hash_text(c->street[s].name), &found);
            if (!found) { names.keys[slot] = demo__hash_text(c->street[s].name); break; }
        }
    }
    int per_street[1000] = {0};
    for (int i = 0; i < c->nc; i++) {
        demo__community *cm = &c->comm[i];
        int seq = ++per_street[cm->street < 999 ? cm->street : 999];
        snprintf(cm->code, sizeof cm->code, "%.9s%03d", c->street[cm->street].code, seq % 1000);
        demo__unique_name(&rng, &names, "社区", cm->name, sizeof cm->name);
    }
    demo__map_free(&names);
    for (int i = 0; i < c->nc; i++) {
        demo__community *cm = &c->comm[i];
        for (int j = 0; j < cm->nblocks; j++) parts[j] = c->bgeom[c->comm_blocks[cm->first_block + j]];
        cm->geom = demo__coverage_union(g, parts, cm->nblocks);
        if (!cm->geom) {
            rc = err_set(err, errlen, GP_EGEOM, "demo city: union of community %s failed: %s", cm->code, geo_last_error(g));
            goto end;
        }
    }
    for (int s = 0; s < c->ns; s++) {
        int n = 0;
        for (int i = 0; i < c->nc; i++)
            if (c->comm[i].street == s) parts[n++] = c->comm[i].geom;
        c->street[s].geom = demo__coverage_union(g, parts, n);
        if (!c->street[s].geom) {
            rc = err_set(err, errlen, GP_EGEOM, "demo city: union of street %s failed: %s", c->street[s].code, geo_last_error(g));
            goto end;
        }
    }
    for (int s = 0; s < c->ns; s++) parts[s] = c->street[s].geom;
    c->outline = demo__coverage_union(g, parts, c->ns);
    rc = c->outline ? 0 : err_set(err, errlen, GP_EGEOM, "demo city: union of the city failed: %s", geo_last_error(g));
end:
    if (rc == GP_ENOMEM) err_set(err, errlen, rc, "demo city: out of memory while growing communities");
    free(label), free(rank), free(count), free(coff), free(cadj), free(cx), free(cy), free(parts);
    return rc;
}

/* ---- 4: households and buildings ----------------------------------------------------------- */

/* Households per community: exact quotas of each size class, so every class the rules act on is
 * present at any scale; bigger targets go to communities with more blocks (with noise). */
static int demo__household_targets(demo__city *c, demo__rng *rng) {
    int n = c->nc, *target = malloc((size_t)n * sizeof *target);
    demo__sort_key *keys = malloc((size_t)n * sizeof *keys);
    if (!target || !keys) {
        free(target), free(keys);
        return GP_ENOMEM;
    }
    int over_7000 = (int)lround(0.03 * n), over_4000 = (int)lround(0.05 * n);
    int under_1000 = (int)lround(0.10 * n), over_3000 = (int)lround(0.14 * n);
    over_7000 = over_7000 < 1 ? 1 : over_7000, over_4000 = over_4000 < 1 ? 1 : over_4000;
    under_1000 = under_1000 < 1 ? 1 : under_1000;
    for (int i = 0; i < n; i++) {
        if (i < over_7000) target[i] = demo__between(rng, 7100, 9800);
        else if (i < over_7000 + over_4000) target[i] = demo__between(rng, 4100, 6900);
        else if (i < over_7000 + over_4000 + under_1000) target[i] = demo__between(rng, 250, 990);
        else if (i < over_7000 + over_4000 + under_1000 + over_3000) target[i] = demo__between(rng, 3000, 3990);
        else target[i] = 1000 + (int)(2000 * sqrt(demo__unit(rng)));
    }
    double mean_blocks = (double)c->nb / n;
    for (int i = 0; i < n; i++) keys[i] = (demo__sort_key){-(c->comm[i].nblocks / mean_blocks + 0.5 * demo__normal(rng)), 0, i};
    qsort(keys, (size_t)n, sizeof *keys, demo__cmp_key);
    /* target[] is not sorted; sort it descending so the largest go to the first keys. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && target[j - 1] < target[j]; j--) {
            int t = target[j];
            target[j] = target[j - 1], target[j - 1] = t;
        }
    for (int i = 0; i < n; i++) c->comm[keys[i].index].households = target[i];
    free(target), free(keys);
    return 0;
}

/* Share of a community's households in low-rise houses; towers and walk-ups share the rest. */
static double demo__lowrise_share(double lambda, double urbanity) {
    double s = lambda * pow(1.0 - urbanity, 1.5);
    return s > 0.9 ? 0.9 : s;
}
static double demo__tower_share(double lowrise, double urbanity) { return (1.0 - lowrise) * (0.1 + 0.6 * urbanity); }

static const int demo__hh_min[] = {60, 12, 1}, demo__hh_max[] = {200, 40, 4};
static const double demo__footprint_m2[] = {3500, 900, 250};

/* Chooses lambda so the expected number of buildings meets the target (bisection; monotone). */
static double demo__calibrate_mix(const demo__city *c, double target_buildings) {
    double lo = 0, hi = 8;
    for (int it = 0; it < 60; it++) {
        double lambda = (lo + hi) / 2, expected = 0;
        for (int i = 0; i < c->nc; i++) {
            double sl = demo__lowrise_share(lambda, c->comm[i].urbanity), st = demo__tower_share(sl, c->comm[i].urbanity);
            expected += c->comm[i].households * (st / 130.0 + (1 - sl - st) / 26.0 + sl / 2.5);
        }
        if (expected < target_buildings) lo = lambda;
        else hi = lambda;
    }
    return (lo + hi) / 2;
}

static int demo__add_building(demo__city *c, size_t *cap, int comm, int type, int households, demo__rng *rng) {
    if ((size_t)c->nbuildings == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4096;
        demo__building *nb = realloc(c->buildings, ncap * sizeof *nb);
        if (!nb) return GP_ENOMEM;
        c->buildings = nb, *cap = ncap;
    }
    double u = c->comm[comm].urbanity;
    demo__building *b = &c->buildings[c->nbuildings++];
    memset(b, 0, sizeof *b);
    b->community = comm, b->type = type, b->households = households;
    if (type == DEMO_TOWER) {
        int floors = (int)lround(households / demo__uniform(rng, 4, 6));
        b->floors = floors < 12 ? 12 : floors > 33 ? 33 : floors;
    } else if (type == DEMO_WALKUP) {
        b->floors = demo__between(rng, 4, 7);
    } else {
        b->floors = households == 1 ? demo__between(rng, 1, 3) : 1;
    }
    b->population = (int)lround(households * demo__uniform(rng, 2.2, 3.0));
    if (b->population < households) b->population = households;
    b->elderly_alone = demo__poisson(rng, households * (0.025 + 0.03 * (1 - u)));
    b->disabled = demo__poisson(rng, households * 0.015);
    b->low_income = demo__poisson(rng, households * (0.008 + 0.02 * (1 - u)));
    if (b->elderly_alone > households) b->elderly_alone = households;
    if (b->disabled > b->population) b->disabled = b->population;
    if (b->low_income > households) b->low_income = households;
    return 0;
}

/* Inner polygons: each block shrunk by the setback (NULL when nothing is left: use the block). */
typedef struct demo__inner {
    GEOSGeometry **geom;
    const GEOSPreparedGeometry **prepared;
    int n;
} demo__inner;

static void demo__inner_free(GEOSContextHandle_t g, demo__inner *in) {
    for (int i = 0; in->prepared && i < in->n; i++)
        if (in->prepared[i]) GEOSPreparedGeom_destroy_r(g, in->prepared[i]);
    for (int i = 0; in->geom && i < in->n; i++)
        if (in->geom[i]) GEOSGeom_destroy_r(g, in->geom[i]);
    free(in->geom), free(in->prepared);
    memset(in, 0, sizeof *in);
}

static int demo__inner_make(demo__city *c, demo__inner *in) {
    GEOSContextHandle_t g = c->g;
    in->n = c->nb;
    in->geom = calloc((size_t)c->nb, sizeof *in->geom);
    in->prepared = calloc((size_t)c->nb, sizeof *in->prepared);
    if (!in->geom || !in->prepared) return GP_ENOMEM;
    double setback = DEMO_SETBACK_M / DEMO_MY;
    for (int b = 0; b < c->nb; b++) {
        GEOSGeometry *shrunk = GEOSBuffer_r(g, c->bgeom[b], -setback, 2);
        if (shrunk && !GEOSisEmpty_r(g, shrunk)) in->geom[b] = shrunk;
        else if (shrunk) GEOSGeom_destroy_r(g, shrunk);
        in->prepared[b] = GEOSPrepare_r(g, in->geom[b] ? in->geom[b] : c->bgeom[b]);
        if (!in->prepared[b]) return GP_EGEOM;
    }
    return 0;
}

/* Whether the rounded point lies strictly inside the block's inner polygon. */
static int demo__inside(GEOSContextHandle_t g, const demo__inner *in, int block, int64_t x, int64_t y) {
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(g, (double)x / DEMO_E7, (double)y / DEMO_E7);
    int ok = pt && GEOSPreparedContainsProperly_r(g, in->prepared[block], pt) == 1;
    GEOSGeom_destroy_r(g, pt);
    return ok;
}

/* A random point inside a block (rejection in its envelope; the block's interior point if unlucky). */
static void demo__random_point(demo__city *c, const demo__inner *in, int block, demo__rng *rng, int64_t *x, int64_t *y) {
    GEOSContextHandle_t g = c->g;
    const GEOSGeometry *shape = in->geom[block] ? in->geom[block] : c->bgeom[block];
    double minx, miny, maxx, maxy;
    geo_bounds(g, shape, &minx, &miny, &maxx, &maxy);
    for (int attempt = 0; attempt < 200; attempt++) {
        *x = llround(demo__uniform(rng, minx, maxx) * DEMO_E7);
        *y = llround(demo__uniform(rng, miny, maxy) * DEMO_E7);
        if (demo__inside(g, in, block, *x, *y)) return;
    }
    GEOSGeometry *p = GEOSPointOnSurface_r(g, shape);
    double px = c->bcx[block], py = c->bcy[block];
    if (p) GEOSGeomGetX_r(g, p, &px), GEOSGeomGetY_r(g, p, &py), GEOSGeom_destroy_r(g, p);
    *x = llround(px * DEMO_E7), *y = llround(py * DEMO_E7);
}

/* Places buildings[first .. first+k) on a rotated, jittered lattice inside the block's inner polygon,
 * as rows of houses are laid out; falls back to random points if the block is too small. */
static void demo__place_in_block(demo__city *c, const demo__inner *in, int block, int first, int k, demo__rng *rng,
                                 int64_t *cand_x, int64_t *cand_y, size_t cand_cap) {
    if (k <= 0) return;
    GEOSContextHandle_t g = c->g;
    const GEOSGeometry *shape = in->geom[block] ? in->geom[block] : c->bgeom[block];
    double mx = demo__mx(), area_m2 = 0, minx, miny, maxx, maxy;
    GEOSArea_r(g, shape, &area_m2);
    area_m2 *= mx * DEMO_MY;
    geo_bounds(g, shape, &minx, &miny, &maxx, &maxy);
    double half_diag = hypot((maxx - minx) * mx, (maxy - miny) * DEMO_MY) / 2;
    double cxd = (minx + maxx) / 2, cyd = (miny + maxy) / 2, angle = demo__uniform(rng, 0, M_PI / 2);
    double spacing = sqrt(area_m2 / k), ca = cos(angle), sa = sin(angle);
    size_t got = 0;
    for (int attempt = 0; attempt < 6 && spacing > 0.5; attempt++) {
        int reach = (int)(half_diag / spacing) + 1;
        if ((size_t)(2 * reach + 1) * (size_t)(2 * reach + 1) > cand_cap) { spacing *= 1.3; continue; }
        got = 0;
        for (int j = -reach; j <= reach; j++)
            for (int i = -reach; i <= reach; i++) {
                double dx = (i + demo__uniform(rng, -0.12, 0.12)) * spacing, dy = (j + demo__uniform(rng, -0.12, 0.12)) * spacing;
                int64_t x = llround((cxd + (dx * ca - dy * sa) / mx) * DEMO_E7);
                int64_t y = llround((cyd + (dx * sa + dy * ca) / DEMO_MY) * DEMO_E7);
                if (demo__inside(g, in, block, x, y)) cand_x[got] = x, cand_y[got] = y, got++;
            }
        if (got >= (size_t)k) break;
        spacing *= got ? 0.95 * sqrt((double)got / k) : 0.5;
    }
    for (int t = 0; t < k; t++) {
        demo__building *b = &c->buildings[first + t];
        if (got >= (size_t)k) {
            size_t pick = (size_t)((double)t * got / k);
            b->x = cand_x[pick], b->y = cand_y[pick];
        } else {
            demo__random_point(c, in, block, rng, &b->x, &b->y);
        }
    }
}

typedef struct demo__dist_key {
    double d;
    int block;
} demo__dist_key;

static int demo__cmp_dist(const void *a, const void *b) {
    const demo__dist_key *p = a, *q = b;
    if (p->d != q->d) return p->d < q->d ? -1 : 1;
    return p->block - q->block;
}

static int demo__make_buildings(demo__city *c, const demo__inner *in, char *err, size_t errlen) {
    demo__rng rng;
    demo__rng_seed(&rng, c->seed, 3);
    double mx = demo__mx(), dx0 = DEMO_LON0 + c->downtown_x / mx, dy0 = DEMO_LAT0 + c->downtown_y / DEMO_MY;
    for (int i = 0; i < c->nc; i++) {
        demo__community *cm = &c->comm[i];
        double d = hypot((cm->cx - dx0) * mx, (cm->cy - dy0) * DEMO_MY);
        double u = exp(-d / (0.45 * DEMO_RADIUS)) + 0.1 * demo__normal(&rng);
        cm->urbanity = u < 0 ? 0 : u > 1 ? 1 : u;
    }
    if (demo__household_targets(c, &rng)) return err_set(err, errlen, GP_ENOMEM, "demo city: out of memory for households");
    double lambda = demo__calibrate_mix(c, 120000.0 * c->scale);
    size_t cap = 0, cand_cap = 1 << 16;
    int64_t *cand_x = malloc(cand_cap * sizeof *cand_x), *cand_y = malloc(cand_cap * sizeof *cand_y);
    demo__dist_key *order = malloc((size_t)c->nb * sizeof *order);
    int rc = GP_ENOMEM;
    if (!cand_x || !cand_y || !order) goto end;
    progress_t progress;
    progress_start(&progress, "buildings", (uint64_t)c->nc);
    for (int i = 0; i < c->nc; i++) {
        demo__community *cm = &c->comm[i];
        double sl = demo__lowrise_share(lambda, cm->urbanity), st = demo__tower_share(sl, cm->urbanity);
        int budget[3];
        budget[DEMO_TOWER] = (int)lround(cm->households * st);
        budget[DEMO_WALKUP] = (int)lround(cm->households * (1 - sl - st));
        budget[DEMO_LOWRISE] = cm->households - budget[DEMO_TOWER] - budget[DEMO_WALKUP];
        cm->first_building = c->nbuildings;
        for (int type = DEMO_TOWER; type <= DEMO_LOWRISE; type++) {
            /* A remainder too small for one more building of this type moves to the next type. */
            while (budget[type] >= demo__hh_min[type]) {
                int households = demo__between(&rng, demo__hh_min[type], demo__hh_max[type]);
                if (households > budget[type]) households = budget[type];
                if (demo__add_building(c, &cap, i, type, households, &rng)) goto end;
                budget[type] -= households;
            }
            if (type < DEMO_LOWRISE) budget[type + 1] += budget[type];
        }
        cm->nbuildings = c->nbuildings - cm->first_building;
        cm->population = 0;
        for (int k = 0; k < cm->nbuildings; k++) cm->population += c->buildings[cm->first_building + k].population;
        /* Towers go to the blocks nearest downtown; each block takes a share of the building list
         * proportional to its inner area, measured in building footprints. */
        for (int j = 0; j < cm->nblocks; j++) {
            int b = c->comm_blocks[cm->first_block + j];
            order[j] = (demo__dist_key){hypot((c->bcx[b] - dx0) * mx, (c->bcy[b] - dy0) * DEMO_MY), b};
        }
        qsort(order, (size_t)cm->nblocks, sizeof *order, demo__cmp_dist);
        double total_area = 0, total_fp = 0;
        for (int j = 0; j < cm->nblocks; j++) {
            double a = 0;
            GEOSArea_r(c->g, in->geom[order[j].block] ? in->geom[order[j].block] : c->bgeom[order[j].block], &a);
            order[j].d = a, total_area += a;
        }
        for (int k = 0; k < cm->nbuildings; k++) total_fp += demo__footprint_m2[c->buildings[cm->first_building + k].type];
        int next = cm->first_building, end_b = cm->first_building + cm->nbuildings;
        double area_cum = 0, fp_cum = 0;
        for (int j = 0; j < cm->nblocks; j++) {
            area_cum += order[j].d;
            int start = next;
            while (next < end_b) {
                double mid = fp_cum + demo__footprint_m2[c->buildings[next].type] / 2;
                if (j + 1 < cm->nblocks && mid / total_fp > area_cum / total_area) break;
                fp_cum += demo__footprint_m2[c->buildings[next].type];
                next++;
            }
            demo__place_in_block(c, in, order[j].block, start, next - start, &rng, cand_x, cand_y, cand_cap);
        }
        assert(next == end_b);
        for (int k = 0; k < cm->nbuildings; k++) c->buildings[cm->first_building + k].seq = k + 1;
        progress_update(&progress, (uint64_t)i + 1);
    }
    progress_finish(&progress);
    rc = 0;
end:
    if (rc) err_set(err, errlen, rc, "demo city: out of memory for buildings");
    free(cand_x), free(cand_y), free(order);
    return rc;
}

/* ---- 5: facilities and roads ------------------------------------------------------------------- */

static int demo__pick_weighted(const double *cumulative, int n, double u) {
    int lo = 0, hi = n - 1;
    double target = u * cumulative[n - 1];
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cumulative[mid] > target) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

static void demo__facility_name(demo__rng *rng, int type, const char *community, int nth, int serial, char *out, size_t outlen) {
    char shortname[64];
    snprintf(shortname, sizeof shortname, "%s", community);
    char *suffix = strstr(shortname, "社区");
    if (suffix) *suffix = '\0';
    char extra[32] = "";
    if (nth > 1) snprintf(extra, sizeof extra, "(%s部)", demo__numerals[nth <= 10 ? nth : 10]);
    switch (type) {
    case 0: snprintf(out, outlen, "%s便民服务站%s", community, extra); break;
    case 1: snprintf(out, outlen, "%s%s(%s店)%s", DEMO_PICK(rng, demo__supermarkets), demo__unit(rng) < 0.4 ? "便利店" : "超市", shortname, extra); break;
    case 2: snprintf(out, outlen, "%s社区卫生服务站%s", shortname, extra); break;
    case 3: snprintf(out, outlen, "第%d%s", serial, serial % 3 == 0 ? "中学" : "小学"); break;
    case 4: snprintf(out, outlen, "%s幼儿园%s", shortname, extra); break;
    case 5: snprintf(out, outlen, "%s文化活动中心%s", shortname, extra); break;
    case 6: snprintf(out, outlen, "%s健身广场%s", shortname, extra); break;
    case 7: snprintf(out, outlen, "%s%s%s", shortname, serial % 2 ? "日间照料中心" : "养老服务站", extra); break;
    case 8: snprintf(out, outlen, "%s大药房(%s店)%s", DEMO_PICK(rng, demo__pharmacies), shortname, extra); break;
    case 9: snprintf(out, outlen, "%s警务室%s", shortname, extra); break;
    default: snprintf(out, outlen, "%s微型消防站%s", shortname, extra); break;
    }
}

static int demo__make_facilities(demo__city *c, const demo__inner *in) {
    demo__rng rng;
    demo__rng_seed(&rng, c->seed, 4);
    int ntypes = DEMO_COUNT(demo__facility_base), total = c->nc;
    for (int t = 1; t < ntypes; t++) {
        int n = (int)lround(demo__facility_base[t] * c->scale);
        total += n < 1 ? 1 : n;
    }
    double *cum = malloc((size_t)c->nc * sizeof *cum), *bcum = malloc((size_t)c->nb * sizeof *bcum);
    int *seen = calloc((size_t)c->nc * (size_t)ntypes, sizeof *seen);
    c->facilities = calloc((size_t)total, sizeof *c->facilities);
    if (!cum || !bcum || !seen || !c->facilities) {
        free(cum), free(bcum), free(seen);
        return GP_ENOMEM;
    }
    for (int i = 0; i < c->nc; i++) cum[i] = (i ? cum[i - 1] : 0) + c->comm[i].households;
    for (int t = 0; t < ntypes; t++) {
        int n = t == 0 ? c->nc : (int)lround(demo__facility_base[t] * c->scale);
        if (n < 1) n = 1;
        for (int k = 0; k < n; k++) {
            int comm = t == 0 ? k : demo__pick_weighted(cum, c->nc, demo__unit(&rng));
            const demo__community *cm = &c->comm[comm];
            for (int j = 0; j < cm->nblocks; j++) {
                int b = c->comm_blocks[cm->first_block + j];
                bcum[j] = (j ? bcum[j - 1] : 0) + c->barea[b];
            }
            int block = c->comm_blocks[cm->first_block + demo__pick_weighted(bcum, cm->nblocks, demo__unit(&rng))];
            demo__facility *f = &c->facilities[c->nfacilities++];
            f->type = t, f->community = comm;
            demo__random_point(c, in, block, &rng, &f->x, &f->y);
            int nth = ++seen[(size_t)comm * ntypes + t];
            demo__facility_name(&rng, t, cm->name, nth, k + 1, f->name, sizeof f->name);
        }
    }
    free(cum), free(bcum), free(seen);
    return 0;
}

static int demo__road_class(const demo__city *c, const demo__edge *e) {
    int a = c->block_comm[e->left], b = c->block_comm[e->right];
    if (a == b) return DEMO_ROAD_RESIDENTIAL;
    return c->comm[a].street == c->comm[b].street ? DEMO_ROAD_SECONDARY : DEMO_ROAD_PRIMARY;
}

/* Chains the interior block edges of each class into polylines through the vertices where exactly
 * two edges of that class meet. Boundary edges of the city are not roads. */
static int demo__make_roads(demo__city *c) {
    int rc = GP_ENOMEM;
    size_t nv = c->nv, ne = c->ne;
    uint32_t *voff = calloc(nv + 1, sizeof *voff), *vedge = malloc((2 * ne + 1) * sizeof *vedge);
    uint32_t *fill = calloc(nv + 1, sizeof *fill);
    char *done = calloc(ne + 1, 1);
    int *cls = malloc((ne + 1) * sizeof *cls);
    size_t road_cap = ne + 1, vcap = 2 * ne + 2, nvert = 0;
    c->road_off = malloc((road_cap + 1) * sizeof *c->road_off);
    c->road_class = malloc(road_cap * sizeof *c->road_class);
    c->road_vertex = malloc(vcap * sizeof *c->road_vertex);
    if (!voff || !vedge || !fill || !done || !cls || !c->road_off || !c->road_class || !c->road_vertex) goto end;
    for (size_t i = 0; i < ne; i++) {
        cls[i] = c->edges[i].right < 0 ? -1 : demo__road_class(c, &c->edges[i]);
        if (cls[i] < 0) continue;
        voff[c->edges[i].a + 1]++, voff[c->edges[i].b + 1]++;
    }
    for (size_t v = 0; v < nv; v++) voff[v + 1] += voff[v];
    for (size_t i = 0; i < ne; i++) {
        if (cls[i] < 0) continue;
        vedge[voff[c->edges[i].a] + fill[c->edges[i].a]++] = (uint32_t)i;
        vedge[voff[c->edges[i].b] + fill[c->edges[i].b]++] = (uint32_t)i;
    }
    c->road_off[0] = 0;
    for (size_t start = 0; start < ne; start++) {
        if (cls[start] < 0 || done[start]) continue;
        int k = cls[start];
        /* The edge of `class` k at v other than `from`, when v joins exactly two such edges. */
#define DEMO_CONTINUATION(v, from, out)                                                            \
    do {                                                                                           \
        int found_ = 0;                                                                            \
        (out) = UINT32_MAX;                                                                        \
        for (uint32_t j_ = voff[v]; j_ < voff[(v) + 1]; j_++)                                      \
            if (cls[vedge[j_]] == k) {                                                             \
                found_++;                                                                          \
                if (vedge[j_] != (from)) (out) = vedge[j_];                                        \
            }                                                                                      \
        if (found_ != 2) (out) = UINT32_MAX;                                                       \
    } while (0)
        /* Walk backwards to the chain's first edge (or all the way round a loop). */
        uint32_t e = (uint32_t)start, v = c->edges[e].a;
        for (;;) {
            uint32_t prev;
            DEMO_CONTINUATION(v, e, prev);
            if (prev == UINT32_MAX || prev == start) break;
            v = c->edges[prev].a == v ? c->edges[prev].b : c->edges[prev].a;
            e = prev;
        }
        /* v is the chain's first vertex and e its first edge; walk forwards. */
        c->road_vertex[nvert++] = v;
        for (;;) {
            done[e] = 1;
            v = c->edges[e].a == v ? c->edges[e].b : c->edges[e].a;
            c->road_vertex[nvert++] = v;
            uint32_t next;
            DEMO_CONTINUATION(v, e, next);
            if (next == UINT32_MAX || done[next]) break;
            e = next;
        }
#undef DEMO_CONTINUATION
        c->road_class[c->nroads] = k;
        c->road_off[++c->nroads] = (uint32_t)nvert;
    }
    rc = 0;
end:
    free(voff), free(vedge), free(fill), free(done), free(cls);
    return rc;
}

/* ---- writing GeoJSON ------------------------------------------------------------------------ */

/* A coordinate already on the 1e-7 grid, printed exactly, trailing zeros trimmed. */
static void demo__put_e7(buf_t *b, int64_t v) {
    char tmp[40];
    uint64_t a = v < 0 ? (uint64_t)(-v) : (uint64_t)v;
    int n = snprintf(tmp, sizeof tmp, "%s%llu.%07llu", v < 0 ? "-" : "", (unsigned long long)(a / 10000000u),
                     (unsigned long long)(a % 10000000u));
    while (tmp[n - 1] == '0') n--;
    if (tmp[n - 1] == '.') n--;
    buf_append(b, tmp, (size_t)n);
}

static void demo__put_point(buf_t *b, int64_t x, int64_t y) {
    buf_puts(b, "{\"type\":\"Point\",\"coordinates\":[");
    demo__put_e7(b, x);
    buf_append(b, ",", 1);
    demo__put_e7(b, y);
    buf_puts(b, "]}");
}

/* A ring, turned counter-clockwise (ccw = 1) or clockwise as RFC 7946 asks of shells and holes. */
static void demo__put_ring(GEOSContextHandle_t g, buf_t *b, const GEOSGeometry *ring, int ccw) {
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(g, ring);
    unsigned n = 0;
    char is_ccw = 0;
    GEOSCoordSeq_getSize_r(g, cs, &n);
    GEOSCoordSeq_isCCW_r(g, cs, &is_ccw);
    int reverse = (is_ccw != 0) != (ccw != 0);
    buf_append(b, "[", 1);
    for (unsigned i = 0; i < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(g, cs, reverse ? n - 1 - i : i, &x, &y);
        buf_puts(b, i ? ",[" : "[");
        demo__put_e7(b, llround(x * DEMO_E7));
        buf_append(b, ",", 1);
        demo__put_e7(b, llround(y * DEMO_E7));
        buf_append(b, "]", 1);
    }
    buf_append(b, "]", 1);
}

static void demo__put_multipolygon(GEOSContextHandle_t g, buf_t *b, const GEOSGeometry *geom) {
    int multi = GEOSGeomTypeId_r(g, geom) == GEOS_MULTIPOLYGON, n = multi ? GEOSGetNumGeometries_r(g, geom) : 1;
    buf_puts(b, "{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (int i = 0; i < n; i++) {
        const GEOSGeometry *poly = multi ? GEOSGetGeometryN_r(g, geom, i) : geom;
        buf_puts(b, i ? ",[" : "[");
        demo__put_ring(g, b, GEOSGetExteriorRing_r(g, poly), 1);
        for (int h = 0; h < GEOSGetNumInteriorRings_r(g, poly); h++) {
            buf_append(b, ",", 1);
            demo__put_ring(g, b, GEOSGetInteriorRingN_r(g, poly, h), 0);
        }
        buf_append(b, "]", 1);
    }
    buf_puts(b, "]}");
}

typedef struct demo__writer {
    FILE *f;
    buf_t b;
    long long count;
    int failed;
    char path[4096];
} demo__writer;

static int demo__writer_open(demo__writer *w, const char *dir, const char *layer, char *err, size_t errlen) {
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s/%s.geojson", dir, layer);
    w->f = fopen(w->path, "wb");
    if (!w->f) return err_set(err, errlen, GP_EIO, "%s: cannot create: %s", w->path, strerror(errno));
    buf_printf(&w->b, "{\"type\":\"FeatureCollection\",\"name\":\"%s\",\"features\":[\n", layer);
    return 0;
}

static void demo__writer_flush(demo__writer *w) {
    if (w->b.len && fwrite(w->b.data, 1, w->b.len, w->f) != w->b.len) w->failed = 1;
    buf_reset(&w->b);
}

/* Starts a feature; the caller appends the properties' members, then calls demo__feature_geometry. */
static void demo__feature_begin(demo__writer *w) {
    buf_puts(&w->b, w->count++ ? ",\n{\"type\":\"Feature\",\"properties\":{" : "{\"type\":\"Feature\",\"properties\":{");
}

static void demo__feature_geometry(demo__writer *w) { buf_puts(&w->b, "},\"geometry\":"); }

static void demo__feature_end(demo__writer *w) {
    buf_append(&w->b, "}", 1);
    if (w->b.len > (1u << 20)) demo__writer_flush(w);
}

static int demo__writer_close(demo__writer *w, char *err, size_t errlen) {
    buf_puts(&w->b, "\n]}\n");
    demo__writer_flush(w);
    int bad = w->failed | (fclose(w->f) != 0);
    buf_free(&w->b);
    if (bad) return err_set(err, errlen, GP_EIO, "%s: write failed: %s", w->path, strerror(errno));
    return 0;
}

static void demo__prop_string(buf_t *b, const char *key, const char *value, int first) {
    buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
    buf_json_string(b, value);
}

static void demo__prop_int(buf_t *b, const char *key, long long value) { buf_printf(b, ",\"%s\":%lld", key, value); }

static int demo__write(demo__city *c, const char *dir, char *err, size_t errlen) {
    GEOSContextHandle_t g = c->g;
    demo__writer w;
    int rc;
    char text[160];
    if ((rc = demo__writer_open(&w, dir, "streets", err, errlen))) return rc;
    for (int s = 0; s < c->ns; s++) {
        demo__feature_begin(&w);
        demo__prop_string(&w.b, "code", c->street[s].code, 1);
        demo__prop_string(&w.b, "name", c->street[s].name, 0);
        demo__prop_string(&w.b, "county_code", DEMO_COUNTY_CODE, 0);
        demo__feature_geometry(&w);
        demo__put_multipolygon(g, &w.b, c->street[s].geom);
        demo__feature_end(&w);
    }
    if ((rc = demo__writer_close(&w, err, errlen))) return rc;

    if ((rc = demo__writer_open(&w, dir, "communities", err, errlen))) return rc;
    for (int i = 0; i < c->nc; i++) {
        const demo__community *cm = &c->comm[i];
        demo__feature_begin(&w);
        demo__prop_string(&w.b, "code", cm->code, 1);
        demo__prop_string(&w.b, "name", cm->name, 0);
        demo__prop_string(&w.b, "street_code", c->street[cm->street].code, 0);
        demo__prop_int(&w.b, "households", cm->households);
        demo__prop_int(&w.b, "population", cm->population);
        demo__feature_geometry(&w);
        demo__put_multipolygon(g, &w.b, cm->geom);
        demo__feature_end(&w);
    }
    if ((rc = demo__writer_close(&w, err, errlen))) return rc;

    if ((rc = demo__writer_open(&w, dir, "buildings", err, errlen))) return rc;
    progress_t progress;
    progress_start(&progress, "writing", (uint64_t)c->nbuildings);
    for (int i = 0; i < c->nbuildings; i++) {
        const demo__building *b = &c->buildings[i];
        const demo__community *cm = &c->comm[b->community];
        char shortname[64];
        snprintf(shortname, sizeof shortname, "%s", cm->name);
        char *suffix = strstr(shortname, "社区");
        if (suffix) *suffix = '\0';
        demo__feature_begin(&w);
        snprintf(text, sizeof text, "%s-%04d", cm->code, b->seq);
        demo__prop_string(&w.b, "ext_id", text, 1);
        snprintf(text, sizeof text, "%s%d号%s", shortname, b->seq, b->type == DEMO_LOWRISE ? "院" : "楼");
        demo__prop_string(&w.b, "name", text, 0);
        demo__prop_int(&w.b, "households", b->households);
        demo__prop_int(&w.b, "population", b->population);
        demo__prop_int(&w.b, "floors", b->floors);
        demo__prop_int(&w.b, "elderly_alone", b->elderly_alone);
        demo__prop_int(&w.b, "disabled", b->disabled);
        demo__prop_int(&w.b, "low_income", b->low_income);
        demo__prop_string(&w.b, "community_code", cm->code, 0);
        demo__feature_geometry(&w);
        demo__put_point(&w.b, b->x, b->y);
        demo__feature_end(&w);
        if ((i & 4095) == 0) progress_update(&progress, (uint64_t)i);
    }
    progress_finish(&progress);
    if ((rc = demo__writer_close(&w, err, errlen))) return rc;

    if ((rc = demo__writer_open(&w, dir, "facilities", err, errlen))) return rc;
    for (int i = 0; i < c->nfacilities; i++) {
        const demo__facility *f = &c->facilities[i];
        demo__feature_begin(&w);
        snprintf(text, sizeof text, "F%05d", i + 1);
        demo__prop_string(&w.b, "ext_id", text, 1);
        demo__prop_string(&w.b, "type", demo_facility_types[f->type], 0);
        demo__prop_string(&w.b, "name", f->name, 0);
        demo__feature_geometry(&w);
        demo__put_point(&w.b, f->x, f->y);
        demo__feature_end(&w);
    }
    if ((rc = demo__writer_close(&w, err, errlen))) return rc;

    demo__rng rng;
    demo__rng_seed(&rng, c->seed, 5);
    if ((rc = demo__writer_open(&w, dir, "roads", err, errlen))) return rc;
    for (int r = 0; r < c->nroads; r++) {
        int k = c->road_class[r];
        const char *word = DEMO_PICK(&rng, demo__name_words);
        if (k == DEMO_ROAD_PRIMARY) snprintf(text, sizeof text, "%s%s", word, demo__unit(&rng) < 0.4 ? "大道" : "路");
        else if (k == DEMO_ROAD_SECONDARY)
            snprintf(text, sizeof text, "%s%s%s", word, DEMO_PICK(&rng, demo__name_sides), demo__unit(&rng) < 0.5 ? "路" : "街");
        else snprintf(text, sizeof text, "%s%s%s", word, demo__numerals[1 + demo__below(&rng, 10)], demo__unit(&rng) < 0.5 ? "街" : "路");
        demo__feature_begin(&w);
        char id[32];
        snprintf(id, sizeof id, "R%06d", r + 1);
        demo__prop_string(&w.b, "ext_id", id, 1);
        demo__prop_string(&w.b, "class", demo__road_classes[k], 0);
        demo__prop_string(&w.b, "name", text, 0);
        demo__feature_geometry(&w);
        buf_puts(&w.b, "{\"type\":\"LineString\",\"coordinates\":[");
        for (uint32_t j = c->road_off[r]; j < c->road_off[r + 1]; j++) {
            uint32_t v = c->road_vertex[j];
            buf_puts(&w.b, j > c->road_off[r] ? ",[" : "[");
            demo__put_e7(&w.b, c->vx[v]);
            buf_append(&w.b, ",", 1);
            demo__put_e7(&w.b, c->vy[v]);
            buf_append(&w.b, "]", 1);
        }
        buf_puts(&w.b, "]}");
        demo__feature_end(&w);
    }
    return demo__writer_close(&w, err, errlen);
}

/* ---- the public entry point ---------------------------------------------------------------- */

void demo_options_default(demo_options_t *opts) {
    opts->scale = 1.0;
    opts->seed = DEMO_DEFAULT_SEED;
}

static int demo__mkdirs(const char *dir, char *err, size_t errlen) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return err_set(err, errlen, GP_EINVAL, "%s: path too long", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p) continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0777) && errno != EEXIST)
            return err_set(err, errlen, GP_EIO, "%s: cannot create directory: %s", path, strerror(errno));
        *p = saved;
        if (!saved) break;
    }
    struct stat sb;
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) return err_set(err, errlen, GP_EIO, "%s: not a directory", dir);
    return 0;
}

int demo_generate(const demo_options_t *opts, const char *dir, demo_summary_t *summary, char *err, size_t errlen) {
    demo_options_t defaults;
    demo_options_default(&defaults);
    if (!opts) opts = &defaults;
    if (!(opts->scale >= DEMO_MIN_SCALE && opts->scale <= DEMO_MAX_SCALE))
        return err_set(err, errlen, GP_EINVAL, "demo city: scale %g is outside %g..%g", opts->scale, DEMO_MIN_SCALE,
                       DEMO_MAX_SCALE);
    int rc = demo__mkdirs(dir, err, errlen);
    if (rc) return rc;
    double started = log_now();
    demo__city city = {0};
    demo__inner inner = {0};
    city.g = geo_ctx_new();
    if (!city.g) return err_set(err, errlen, GP_ENOMEM, "demo city: cannot create a GEOS context");
    city.scale = opts->scale;
    city.seed = opts->seed;
    demo__rng rng;
    demo__rng_seed(&rng, city.seed, 0);
    for (int i = 0; i < 5; i++) city.phase[i] = demo__uniform(&rng, 0, 2 * M_PI);
    city.downtown_x = demo__uniform(&rng, 0.05, 0.15) * DEMO_RADIUS;
    city.downtown_y = demo__uniform(&rng, -0.10, 0.05) * DEMO_RADIUS;
    city.nc = (int)lround(450 * city.scale);
    if (city.nc < 4) city.nc = 4;
    city.ns = (int)lround(30 * (city.scale < 1 ? city.scale : 1));
    if (city.ns < 2) city.ns = 2;
    if (city.ns < (city.nc + 899) / 900) city.ns = (city.nc + 899) / 900;

    if ((rc = demo__make_blocks(&city, city.nc * DEMO_BLOCKS_PER_COMMUNITY, err, errlen))) goto end;
    if ((rc = demo__make_topology(&city, err, errlen))) goto end;
    if ((rc = demo__keep_largest_component(&city, err, errlen))) goto end;
    if ((rc = demo__block_geometry(&city, err, errlen))) goto end;
    log_info("demo: %d blocks, %zu vertices (%.1fs)", city.nb, city.nv, log_now() - started);
    if ((rc = demo__make_regions(&city, err, errlen))) goto end;
    log_info("demo: %d communities in %d streets (%.1fs)", city.nc, city.ns, log_now() - started);
    if ((rc = demo__inner_make(&city, &inner))) {
        err_set(err, errlen, rc, "demo city: shrinking blocks failed: %s", geo_last_error(city.g));
        goto end;
    }
    if ((rc = demo__make_buildings(&city, &inner, err, errlen))) goto end;
    if ((rc = demo__make_facilities(&city, &inner))) {
        err_set(err, errlen, rc, "demo city: out of memory for facilities");
        goto end;
    }
    if ((rc = demo__make_roads(&city))) {
        err_set(err, errlen, rc, "demo city: out of memory for roads");
        goto end;
    }
    if ((rc = demo__write(&city, dir, err, errlen))) goto end;
    if (summary) {
        demo_summary_t *s = summary;
        memset(s, 0, sizeof *s);
        s->streets = city.ns, s->communities = city.nc, s->blocks = city.nb;
        s->buildings = city.nbuildings, s->facilities = city.nfacilities, s->roads = city.nroads;
        for (int i = 0; i < city.nc; i++) {
            const demo__community *cm = &city.comm[i];
            s->households += cm->households, s->population += cm->population;
            s->communities_over_4000 += cm->households > 4000;
            s->communities_over_7000 += cm->households > 7000;
            s->communities_under_1000 += cm->households < 1000;
            long long nverts = GEOSGetNumCoordinates_r(city.g, cm->geom);
            s->community_vertices_max = nverts > s->community_vertices_max ? nverts : s->community_vertices_max;
            s->community_vertices_mean += (double)nverts / city.nc;
        }
        geo_bounds(city.g, city.outline, &s->minx, &s->miny, &s->maxx, &s->maxy);
        double area = 0;
        GEOSArea_r(city.g, city.outline, &area);
        s->area_km2 = area * demo__mx() * DEMO_MY / 1e6;
        s->width_km = (s->maxx - s->minx) * demo__mx() / 1000;
        s->height_km = (s->maxy - s->miny) * DEMO_MY / 1000;
        s->seconds = log_now() - started;
    }
end:
    demo__inner_free(city.g, &inner);
    demo__city_free(&city);
    return rc;
}
