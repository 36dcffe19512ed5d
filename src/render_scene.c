/* render_scene.c — loads store layers into Mercator arrays once, indexes them, places labels.
 *
 * Workload: a city has hundreds of communities, thousands of grids and up to ~10^5-10^6
 * buildings; a tile touches a handful of index cells. Geometry is read as WKB through SpatiaLite's
 * AsBinary and parsed here directly into the flat arrays (no GEOS objects kept), projected with the
 * closed Mercator formula at load, never per tile. Only communities and grids go through GEOS, once,
 * for their pole of inaccessibility (label anchor). */
#include "render_scene.h"
#include "render_label.h"
#include "buf.h"
#include "err.h"
#include "geo.h"
#include "log.h"
#include "plan.h"
#include "rules.h"
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- growable layer builder ---- */

typedef struct layer_builder {
    render_layer_t *layer;
    size_t fcap, xycap, rcap;
    buf_t strings;                 /* offsets into it are fixed up at the end */
    size_t *name_off, *code_off, *type_off;
} layer_builder_t;

static int lb_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return GP_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static size_t lb_string(layer_builder_t *b, const char *s) {
    size_t off = b->strings.len;
    buf_append(&b->strings, s ? s : "", strlen(s ? s : "") + 1);
    return off;
}

static int lb_point(layer_builder_t *b, double lon, double lat) {
    render_layer_t *l = b->layer;
    if (lb_grow((void **)&l->xy, &b->xycap, 2 * (l->npoints + 1), sizeof(double))) return GP_ENOMEM;
    double x, y;
    geo_lonlat_to_merc(lon, lat, &x, &y);
    l->xy[2 * l->npoints] = x;
    l->xy[2 * l->npoints + 1] = y;
    l->npoints++;
    l->ring_len[l->nrings - 1]++;
    render_feature_t *f = &l->features[l->n];
    if (x < f->minx) f->minx = x;
    if (x > f->maxx) f->maxx = x;
    if (y < f->miny) f->miny = y;
    if (y > f->maxy) f->maxy = y;
    return 0;
}

static int lb_ring(layer_builder_t *b) {
    render_layer_t *l = b->layer;
    size_t cap = b->rcap;
    if (lb_grow((void **)&l->ring_off, &cap, l->nrings + 1, sizeof(uint32_t))) return GP_ENOMEM;
    cap = b->rcap;
    if (lb_grow((void **)&l->ring_len, &cap, l->nrings + 1, sizeof(uint32_t))) return GP_ENOMEM;
    b->rcap = cap;
    l->ring_off[l->nrings] = (uint32_t)l->npoints;
    l->ring_len[l->nrings] = 0;
    l->nrings++;
    l->features[l->n].nrings++;
    return 0;
}

/* ---- WKB reader (little or big endian, 2D; Z/M dimensions skipped) ---- */

typedef struct wkb_reader {
    const unsigned char *p, *end;
    int swap;
} wkb_reader_t;

static int wkb_u32(wkb_reader_t *r, uint32_t *v) {
    if (r->end - r->p < 4) return -1;
    unsigned char t[4];
    memcpy(t, r->p, 4);
    if (r->swap) { unsigned char c = t[0]; t[0] = t[3]; t[3] = c; c = t[1]; t[1] = t[2]; t[2] = c; }
    memcpy(v, t, 4);
    r->p += 4;
    return 0;
}

static int wkb_f64(wkb_reader_t *r, double *v) {
    if (r->end - r->p < 8) return -1;
    unsigned char t[8];
    memcpy(t, r->p, 8);
    if (r->swap)
        for (int i = 0; i < 4; i++) { unsigned char c = t[i]; t[i] = t[7 - i]; t[7 - i] = c; }
    memcpy(v, t, 8);
    r->p += 8;
    return 0;
}

/* Reads one geometry; with b NULL only the bbox (lon/lat) is accumulated into box. */
static int wkb_geom(wkb_reader_t *r, layer_builder_t *b, double *box, int *kind) {
    if (r->p >= r->end) return -1;
    int little = *r->p++ == 1;
    uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    r->swap = little != (first == 1);
    uint32_t type;
    if (wkb_u32(r, &type)) return -1;
    int dims = 2;
    if (type & 0x80000000u) dims++;           /* EWKB Z */
    if (type & 0x40000000u) dims++;           /* EWKB M */
    type &= 0x0fffffffu;
    if (type >= 3000) { dims = 4; type -= 3000; }
    else if (type >= 2000) { dims = 3; type -= 2000; }
    else if (type >= 1000) { dims = 3; type -= 1000; }
    uint32_t nrings, npts, nparts;
    switch (type) {
    case 1: case 2: case 3:
        if (type == 1) nrings = 1;
        else if (type == 2) nrings = 1;
        else if (wkb_u32(r, &nrings)) return -1;
        if (*kind < (int)type) *kind = (int)type;
        for (uint32_t i = 0; i < nrings; i++) {
            if (type == 1) npts = 1;
            else if (wkb_u32(r, &npts)) return -1;
            if ((size_t)(r->end - r->p) < (size_t)npts * dims * 8) return -1;
            if (b && lb_ring(b)) return GP_ENOMEM;
            for (uint32_t k = 0; k < npts; k++) {
                double x, y, skip;
                if (wkb_f64(r, &x) || wkb_f64(r, &y)) return -1;
                for (int d = 2; d < dims; d++) wkb_f64(r, &skip);
                if (b && lb_point(b, x, y)) return GP_ENOMEM;
                if (box) {
                    if (x < box[0]) box[0] = x;
                    if (y < box[1]) box[1] = y;
                    if (x > box[2]) box[2] = x;
                    if (y > box[3]) box[3] = y;
                }
            }
        }
        return 0;
    case 4: case 5: case 6: case 7:
        if (wkb_u32(r, &nparts)) return -1;
        for (uint32_t i = 0; i < nparts; i++) {
            int rc = wkb_geom(r, b, box, kind);
            if (rc) return rc;
        }
        return 0;
    default:
        return -1;
    }
}

int render_wkb_merc_bbox(const unsigned char *wkb, size_t len, double *minx, double *miny, double *maxx,
                         double *maxy) {
    wkb_reader_t r = {wkb, wkb + len, 0};
    double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    int kind = 0;
    if (!wkb || wkb_geom(&r, NULL, box, &kind) != 0 || box[0] > box[2]) return -1;
    geo_lonlat_to_merc(box[0], box[1], minx, miny);
    geo_lonlat_to_merc(box[2], box[3], maxx, maxy);
    return 0;
}

/* Adds one feature from WKB; a malformed or empty blob is skipped with a warning (returns 0). */
static int lb_feature(layer_builder_t *b, const unsigned char *wkb, size_t len, int64_t fid, long households,
                      const char *name, const char *code, const char *type) {
    render_layer_t *l = b->layer;
    size_t cap = b->fcap;
    if (lb_grow((void **)&l->features, &cap, l->n + 1, sizeof *l->features)) return GP_ENOMEM;
    cap = b->fcap;
    if (lb_grow((void **)&b->name_off, &cap, l->n + 1, sizeof(size_t))) return GP_ENOMEM;
    cap = b->fcap;
    if (lb_grow((void **)&b->code_off, &cap, l->n + 1, sizeof(size_t))) return GP_ENOMEM;
    cap = b->fcap;
    if (lb_grow((void **)&b->type_off, &cap, l->n + 1, sizeof(size_t))) return GP_ENOMEM;
    b->fcap = cap;
    render_feature_t *f = &l->features[l->n];
    memset(f, 0, sizeof *f);
    f->minx = f->miny = INFINITY;
    f->maxx = f->maxy = -INFINITY;
    f->ring_first = (uint32_t)l->nrings;
    f->fid = fid;
    f->households = households;
    size_t rings0 = l->nrings, points0 = l->npoints;
    wkb_reader_t r = {wkb, wkb + len, 0};
    int kind = 0;
    int rc = wkb ? wkb_geom(&r, b, NULL, &kind) : -1;
    if (rc == GP_ENOMEM) return rc;
    if (rc != 0 || l->npoints == points0) {
        if (rc != 0) log_warn("render: fid %lld: unreadable geometry, not drawn", (long long)fid);
        l->nrings = rings0;
        l->npoints = points0;
        return 0;
    }
    f->geom_kind = kind == 1 ? RENDER_GEOM_POINT : kind == 2 ? RENDER_GEOM_LINE : RENDER_GEOM_POLYGON;
    f->anchor_x = (f->minx + f->maxx) / 2;
    f->anchor_y = (f->miny + f->maxy) / 2;
    b->name_off[l->n] = lb_string(b, name);
    b->code_off[l->n] = lb_string(b, code);
    b->type_off[l->n] = lb_string(b, type);
    l->n++;
    return 0;
}

/* ---- spatial index ---- */

static void cell_range(const render_layer_t *l, double minx, double miny, double maxx, double maxy,
                       uint32_t *cx0, uint32_t *cy0, uint32_t *cx1, uint32_t *cy1) {
    double a = floor((minx - l->gx0) / l->gcell), b = floor((miny - l->gy0) / l->gcell);
    double c = floor((maxx - l->gx0) / l->gcell), d = floor((maxy - l->gy0) / l->gcell);
    *cx0 = a < 0 ? 0 : a >= l->gw ? l->gw - 1 : (uint32_t)a;
    *cy0 = b < 0 ? 0 : b >= l->gh ? l->gh - 1 : (uint32_t)b;
    *cx1 = c < 0 ? 0 : c >= l->gw ? l->gw - 1 : (uint32_t)c;
    *cy1 = d < 0 ? 0 : d >= l->gh ? l->gh - 1 : (uint32_t)d;
}

static int layer_index(render_layer_t *l) {
    l->minx = l->miny = INFINITY;
    l->maxx = l->maxy = -INFINITY;
    for (size_t i = 0; i < l->n; i++) {
        render_feature_t *f = &l->features[i];
        if (f->minx < l->minx) l->minx = f->minx;
        if (f->miny < l->miny) l->miny = f->miny;
        if (f->maxx > l->maxx) l->maxx = f->maxx;
        if (f->maxy > l->maxy) l->maxy = f->maxy;
    }
    double w = l->n ? l->maxx - l->minx : 1, h = l->n ? l->maxy - l->miny : 1;
    double side = sqrt((double)(l->n ? l->n : 1) / 2.0);
    if (side > 1024) side = 1024;
    l->gcell = fmax(w, h) / fmax(side, 1.0) + 1e-6;
    l->gx0 = l->n ? l->minx : 0;
    l->gy0 = l->n ? l->miny : 0;
    l->gw = (uint32_t)(w / l->gcell) + 1;
    l->gh = (uint32_t)(h / l->gcell) + 1;
    size_t ncell = (size_t)l->gw * l->gh;
    l->cell_start = calloc(ncell + 1, sizeof(uint32_t));
    if (!l->cell_start) return GP_ENOMEM;
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < l->n; i++) {
            render_feature_t *f = &l->features[i];
            uint32_t cx0, cy0, cx1, cy1;
            cell_range(l, f->minx, f->miny, f->maxx, f->maxy, &cx0, &cy0, &cx1, &cy1);
            for (uint32_t cy = cy0; cy <= cy1; cy++)
                for (uint32_t cx = cx0; cx <= cx1; cx++) {
                    size_t c = (size_t)cy * l->gw + cx;
                    if (pass == 0) { l->cell_start[c + 1]++; total++; }
                    else l->cell_items[l->cell_start[c]++] = (uint32_t)i;
                }
        }
        if (pass == 0) {
            for (size_t c = 0; c < ncell; c++) l->cell_start[c + 1] += l->cell_start[c];
            l->cell_items = malloc((total ? total : 1) * sizeof(uint32_t));
            if (!l->cell_items) return GP_ENOMEM;
        } else {
            /* the fill pass advanced each start to the next cell's start: shift back */
            memmove(l->cell_start + 1, l->cell_start, ncell * sizeof(uint32_t));
            l->cell_start[0] = 0;
        }
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

long render_layer_query(const render_layer_t *l, double minx, double miny, double maxx, double maxy,
                        uint32_t **ids, size_t *cap) {
    if (!l || l->n == 0 || maxx < l->minx || minx > l->maxx || maxy < l->miny || miny > l->maxy) return 0;
    uint32_t cx0, cy0, cx1, cy1;
    cell_range(l, minx, miny, maxx, maxy, &cx0, &cy0, &cx1, &cy1);
    long n = 0;
    for (uint32_t cy = cy0; cy <= cy1; cy++)
        for (uint32_t cx = cx0; cx <= cx1; cx++) {
            size_t c = (size_t)cy * l->gw + cx;
            for (uint32_t k = l->cell_start[c]; k < l->cell_start[c + 1]; k++) {
                uint32_t i = l->cell_items[k];
                const render_feature_t *f = &l->features[i];
                if (f->maxx < minx || f->minx > maxx || f->maxy < miny || f->miny > maxy) continue;
                /* report a feature only from the first cell shared by it and the query */
                uint32_t fx0, fy0, fx1, fy1;
                cell_range(l, f->minx, f->miny, f->maxx, f->maxy, &fx0, &fy0, &fx1, &fy1);
                if (cx != (fx0 > cx0 ? fx0 : cx0) || cy != (fy0 > cy0 ? fy0 : cy0)) continue;
                if ((size_t)n == *cap) {
                    size_t nc = *cap ? *cap * 2 : 256;
                    uint32_t *q = realloc(*ids, nc * sizeof *q);
                    if (!q) return GP_ENOMEM;
                    *ids = q;
                    *cap = nc;
                }
                (*ids)[n++] = i;
            }
        }
    if (n > 1) qsort(*ids, (size_t)n, sizeof **ids, cmp_u32);
    return n;
}

/* ---- anchors ---- */

static int merc_xy(void *user, double *x, double *y) {
    (void)user;
    geo_lonlat_to_merc(*x, *y, x, y);
    return 0;
}

static void feature_anchor(GEOSContextHandle_t g, render_feature_t *f, const unsigned char *wkb, size_t len) {
    GEOSGeometry *ll = geo_from_wkb(g, wkb, len);
    GEOSGeometry *m = ll ? geo_map_coords(g, ll, merc_xy, NULL) : NULL;
    double tol = fmax(f->maxx - f->minx, f->maxy - f->miny) / 200.0;
    GEOSGeometry *mic = m && tol > 0 ? GEOSMaximumInscribedCircle_r(g, m, tol) : NULL;
    if (mic) {
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(g, mic);
        double x0, y0, x1, y1;
        if (cs && GEOSCoordSeq_getXY_r(g, cs, 0, &x0, &y0) && GEOSCoordSeq_getXY_r(g, cs, 1, &x1, &y1)) {
            f->anchor_x = x0;
            f->anchor_y = y0;
            f->anchor_radius = hypot(x1 - x0, y1 - y0);
        }
    }
    if (mic) GEOSGeom_destroy_r(g, mic);
    if (m) GEOSGeom_destroy_r(g, m);
    if (ll) GEOSGeom_destroy_r(g, ll);
}

/* ---- classes from the rule profile ---- */

struct render_rules {
    int refs;                       /* scenes sharing it (atomic) */
    rules_t *rules;                 /* the database's profile: the household band */
    rules_t *police;                /* the style's police_profile, or NULL: rules */
    rules_band_t band;
};

static struct render_rules *scene_rules_load(store_t *st, const render_style_t *style) {
    char profile[256] = "", err[512];
    rules_t *r = NULL, *police = NULL;
    int have = store_meta_get(st, "profile", profile, sizeof profile) == 0 && *profile;
    if (rules_load(have ? profile : NULL, &r, err, sizeof err) != 0 ||
        (style->police_profile[0] && rules_load(style->police_profile, &police, err, sizeof err) != 0)) {
        log_warn("tiles: %s; community classes and 辅警 use the style file's numbers", err);
        rules_free(r);
        return NULL;
    }
    struct render_rules *rr = calloc(1, sizeof *rr);
    if (!rr) { rules_free(r); rules_free(police); return NULL; }
    rr->refs = 1;
    rr->rules = r;
    rr->police = police;
    rules_community_band(r, &rr->band);
    return rr;
}

static struct render_rules *scene_rules_ref(struct render_rules *rr) {
    if (rr) __atomic_add_fetch(&rr->refs, 1, __ATOMIC_SEQ_CST);
    return rr;
}

static void scene_rules_unref(struct render_rules *rr) {
    if (!rr || __atomic_sub_fetch(&rr->refs, 1, __ATOMIC_SEQ_CST) > 0) return;
    rules_free(rr->rules);
    rules_free(rr->police);
    free(rr);
}

static void feature_classify(const render_scene_t *scene, render_feature_t *f, long population) {
    if (!scene->rules) {
        f->load_class = render_style_class(&scene->style, f->households);
        f->aux_officers = render_style_aux_officers(&scene->style, f->households);
        return;
    }
    const char *action;
    const char *status = plan_status(&scene->rules->band, f->households, &action);
    f->load_class = !strcmp(status, "under") ? RENDER_CLASS_UNDER : !strcmp(status, "within") ? RENDER_CLASS_WITHIN
                  : !strcmp(status, "over") ? RENDER_CLASS_OVER : RENDER_CLASS_SPLIT;
    plan_police_t police;
    plan_police(scene->rules->police ? scene->rules->police : scene->rules->rules, f->households, population, &police);
    f->aux_officers = (int)police.fujing;
}

/* ---- loading ---- */

static void layer_free(render_layer_t *l) {
    if (!l) return;
    free(l->features);
    free(l->xy);
    free(l->ring_off);
    free(l->ring_len);
    free(l->strings);
    free(l->cell_start);
    free(l->cell_items);
    for (int z = 0; z <= 20; z++) free(l->labels[z]);
    free(l);
}

/* Turns the builder into a finished layer: strings fixed up, index built, labels placed. */
static int lb_finish(layer_builder_t *b, const render_scene_t *scene, render_layer_t **out) {
    render_layer_t *l = b->layer;
    int rc = 0;
    if (b->strings.len == 0) buf_append(&b->strings, "", 1);
    l->strings = buf_steal(&b->strings, NULL);
    for (size_t i = 0; i < l->n; i++) {
        l->features[i].name = l->strings + b->name_off[i];
        l->features[i].code = l->strings + b->code_off[i];
        l->features[i].type = l->strings + b->type_off[i];
    }
    rc = layer_index(l);
    if (rc == 0 && (l->src == RENDER_SRC_COMMUNITIES || l->src == RENDER_SRC_GRIDS))
        rc = render_label_place(l, &scene->style, scene->font);
    free(b->name_off);
    free(b->code_off);
    free(b->type_off);
    if (rc) { layer_free(l); return rc; }
    *out = l;
    return 0;
}

static int lb_start(layer_builder_t *b, int src) {
    memset(b, 0, sizeof *b);
    b->layer = calloc(1, sizeof *b->layer);
    if (!b->layer) return GP_ENOMEM;
    b->layer->refs = 1;
    b->layer->src = src;
    return 0;
}

static void lb_abort(layer_builder_t *b) {
    buf_free(&b->strings);
    free(b->name_off);
    free(b->code_off);
    free(b->type_off);
    layer_free(b->layer);
}

static const char *const src_sql[RENDER_NSRC] = {
    "SELECT fid, households, name, code, '', AsBinary(geom), population FROM communities WHERE geom IS NOT NULL "
    "ORDER BY fid",
    "SELECT fid, households, '', code, '', AsBinary(geom) FROM grids WHERE geom IS NOT NULL ORDER BY fid",
    "SELECT fid, households, '', '', '', AsBinary(geom) FROM buildings WHERE geom IS NOT NULL ORDER BY fid",
    "SELECT fid, 0, name, '', type, AsBinary(geom) FROM facilities WHERE geom IS NOT NULL ORDER BY fid",
    NULL};

static const char *const src_table[RENDER_NSRC] = {"communities", "grids", "buildings", "facilities", "circles"};

int render_src_for_table(const char *table) {
    for (int i = 0; i < RENDER_NSRC; i++)
        if (table && !strcmp(table, src_table[i])) return i;
    return -1;
}

static int layer_load(store_t *st, const render_scene_t *scene, int src, render_layer_t **out, char *err,
                      size_t errlen) {
    layer_builder_t b;
    sqlite3_stmt *stmt = NULL;
    GEOSContextHandle_t g = NULL;
    int rc = lb_start(&b, src);
    if (rc) return err_set(err, errlen, rc, "out of memory loading %s", src_table[src]);
    if (!src_sql[src]) return lb_finish(&b, scene, out);
    if (sqlite3_prepare_v2(st->db, src_sql[src], -1, &stmt, NULL) != SQLITE_OK) {
        rc = err_set(err, errlen, GP_EDB, "%s: reading %s: %s", st->path, src_table[src], sqlite3_errmsg(st->db));
        goto end;
    }
    int anchors = src == RENDER_SRC_COMMUNITIES || src == RENDER_SRC_GRIDS;
    if (anchors) g = geo_ctx_new();
    int s;
    while ((s = sqlite3_step(stmt)) == SQLITE_ROW) {
        const unsigned char *wkb = sqlite3_column_blob(stmt, 5);
        size_t len = (size_t)sqlite3_column_bytes(stmt, 5);
        size_t before = b.layer->n;
        rc = lb_feature(&b, wkb, len, sqlite3_column_int64(stmt, 0), (long)sqlite3_column_int64(stmt, 1),
                        (const char *)sqlite3_column_text(stmt, 2), (const char *)sqlite3_column_text(stmt, 3),
                        (const char *)sqlite3_column_text(stmt, 4));
        if (rc) { err_set(err, errlen, rc, "out of memory loading %s", src_table[src]); goto end; }
        if (anchors && b.layer->n > before) feature_anchor(g, &b.layer->features[before], wkb, len);
        if (src == RENDER_SRC_COMMUNITIES && b.layer->n > before)
            feature_classify(scene, &b.layer->features[before], (long)sqlite3_column_int64(stmt, 6));
    }
    if (s != SQLITE_DONE) {
        rc = err_set(err, errlen, GP_EDB, "%s: reading %s: %s", st->path, src_table[src], sqlite3_errmsg(st->db));
        goto end;
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    geo_ctx_free(g);
    g = NULL;
    rc = lb_finish(&b, scene, out);
    if (rc) err_set(err, errlen, rc, "placing labels of %s failed", src_table[src]);
    return rc;
end:
    sqlite3_finalize(stmt);
    geo_ctx_free(g);
    lb_abort(&b);
    return rc;
}

static void scene_read_versions(store_t *st, render_scene_t *s) {
    sqlite3_stmt *stmt = NULL;
    s->last_change_id = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT COALESCE(MAX(id), 0) FROM changes", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        s->last_change_id = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    if (store_meta_get(st, "data_version", s->data_version, sizeof s->data_version) != 0)
        s->data_version[0] = '\0';
}

static render_scene_t *scene_new(const render_style_t *style, void *font) {
    render_scene_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->refs = 1;
    s->style = *style;
    s->font = font;
    return s;
}

int render_scene_load(store_t *st, const render_style_t *style, render_scene_t **out, char *err, size_t errlen) {
    void *font = NULL;
    int rc = render_label_font_open(style->font_path, &font, err, errlen);
    if (rc) return rc;
    render_scene_t *s = scene_new(style, font);
    if (!s) { render_label_font_close(font); return err_set(err, errlen, GP_ENOMEM, "out of memory"); }
    s->rules = scene_rules_load(st, style);
    scene_read_versions(st, s);
    for (int i = 0; i < RENDER_NSRC; i++) {
        rc = layer_load(st, s, i, &s->layers[i], err, errlen);
        if (rc) { render_scene_unref(s); return rc; }
    }
    *out = s;
    return 0;
}

int render_scene_reload(const render_scene_t *old, store_t *st, unsigned reload_mask, render_scene_t **out,
                        char *err, size_t errlen) {
    render_scene_t *s = scene_new(&old->style, render_label_font_ref(old->font));
    if (!s) return err_set(err, errlen, GP_ENOMEM, "out of memory");
    s->rules = scene_rules_ref(old->rules);
    scene_read_versions(st, s);
    for (int i = 0; i < RENDER_NSRC; i++) {
        if (reload_mask & (1u << i)) {
            int rc = layer_load(st, s, i, &s->layers[i], err, errlen);
            if (rc) { render_scene_unref(s); return rc; }
        } else {
            s->layers[i] = old->layers[i];
            __atomic_add_fetch(&s->layers[i]->refs, 1, __ATOMIC_SEQ_CST);
        }
    }
    *out = s;
    return 0;
}

int render_scene_with_circles(const render_scene_t *old, size_t n, const unsigned char *const *wkb,
                              const size_t *wkb_len, const char *const *types, render_scene_t **out,
                              char *err, size_t errlen) {
    render_scene_t *s = scene_new(&old->style, render_label_font_ref(old->font));
    layer_builder_t b;
    if (s) s->rules = scene_rules_ref(old->rules);
    if (!s || lb_start(&b, RENDER_SRC_CIRCLES)) {
        render_scene_unref(s);
        return err_set(err, errlen, GP_ENOMEM, "out of memory");
    }
    s->last_change_id = old->last_change_id;
    memcpy(s->data_version, old->data_version, sizeof s->data_version);
    for (size_t i = 0; i < n; i++) {
        int rc = lb_feature(&b, wkb[i], wkb_len[i], (int64_t)i + 1, 0, "", "", types[i]);
        if (rc) { lb_abort(&b); render_scene_unref(s); return err_set(err, errlen, rc, "out of memory"); }
    }
    int rc = lb_finish(&b, s, &s->layers[RENDER_SRC_CIRCLES]);
    if (rc) { render_scene_unref(s); return err_set(err, errlen, rc, "out of memory"); }
    for (int i = 0; i < RENDER_NSRC; i++) {
        if (i == RENDER_SRC_CIRCLES) continue;
        s->layers[i] = old->layers[i];
        __atomic_add_fetch(&s->layers[i]->refs, 1, __ATOMIC_SEQ_CST);
    }
    *out = s;
    return 0;
}

render_scene_t *render_scene_ref(render_scene_t *s) {
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_SEQ_CST);
    return s;
}

void render_scene_unref(render_scene_t *s) {
    if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_SEQ_CST) > 0) return;
    for (int i = 0; i < RENDER_NSRC; i++)
        if (s->layers[i] && __atomic_sub_fetch(&s->layers[i]->refs, 1, __ATOMIC_SEQ_CST) == 0)
            layer_free(s->layers[i]);
    render_label_font_close(s->font);
    scene_rules_unref(s->rules);
    free(s);
}
