/* render.c — Cairo rasterising of one tile: query the scene index, draw styled layers, labels, PNG.
 *
 * Coordinates go Mercator -> logical tile pixels in one multiply-add per axis, points closer than a
 * fraction of a pixel to the previous one are dropped (cheap simplification that keeps low zooms
 * fast), and outlines of a layer are stroked as one path so Cairo rasterises them in one pass. */
#include "render.h"
#include "render_label.h"
#include "render_png.h"
#include "err.h"
#include "tile.h"
#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PNG_LEVEL 6

static const char *const layer_names[RENDER_NLAYERS] = {"communities", "grids",  "buildings", "facilities",
                                                         "circles",     "police", "default"};

int render_layer_id(const char *name) {
    for (int i = 0; name && i < RENDER_NLAYERS; i++)
        if (!strcmp(name, layer_names[i])) return i;
    return -1;
}

const char *render_layer_name(int layer) {
    return layer >= 0 && layer < RENDER_NLAYERS ? layer_names[layer] : NULL;
}

struct render_ctx {
    cairo_surface_t *surface[2];   /* 256 and 512 px */
    cairo_surface_t *last;
    uint32_t *ids;
    size_t ids_cap;
    buf_t empty_png[2];            /* the transparent tile, encoded once */
};

render_ctx_t *render_ctx_new(void) {
    render_ctx_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    for (int i = 0; i < 2; i++) {
        c->surface[i] = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, TILE_SIZE << i, TILE_SIZE << i);
        if (cairo_surface_status(c->surface[i]) != CAIRO_STATUS_SUCCESS) { render_ctx_free(c); return NULL; }
    }
    return c;
}

void render_ctx_free(render_ctx_t *c) {
    if (!c) return;
    for (int i = 0; i < 2; i++) {
        if (c->surface[i]) cairo_surface_destroy(c->surface[i]);
        buf_free(&c->empty_png[i]);
    }
    free(c->ids);
    free(c);
}

const uint32_t *render_ctx_pixels(const render_ctx_t *c, int *w, int *h, int *stride) {
    if (!c->last) return NULL;
    *w = cairo_image_surface_get_width(c->last);
    *h = cairo_image_surface_get_height(c->last);
    *stride = cairo_image_surface_get_stride(c->last);
    return (const uint32_t *)cairo_image_surface_get_data(c->last);
}

/* Where one tile is drawn: Mercator -> logical pixel transform and the query box. */
typedef struct tile_view {
    int z;
    double minx, miny, maxx, maxy, inv_res, res, tol;
    double qminx, qminy, qmaxx, qmaxy;   /* query box: tile plus margin */
} tile_view_t;

static void set_rgba(cairo_t *cr, const render_rgba_t *c) { cairo_set_source_rgba(cr, c->r, c->g, c->b, c->a); }

static long view_query(render_ctx_t *c, const tile_view_t *v, const render_layer_t *l) {
    return render_layer_query(l, v->qminx, v->qminy, v->qmaxx, v->qmaxy, &c->ids, &c->ids_cap);
}

/* A feature smaller than this many pixels is skipped (it would be a speck under its outline). */
static int too_small(const tile_view_t *v, const render_feature_t *f) {
    return (f->maxx - f->minx) * v->inv_res < 0.75 && (f->maxy - f->miny) * v->inv_res < 0.75;
}

static void path_feature(cairo_t *cr, const tile_view_t *v, const render_layer_t *l, const render_feature_t *f,
                         int close) {
    for (uint32_t r = f->ring_first; r < f->ring_first + f->nrings; r++) {
        const double *p = l->xy + 2 * (size_t)l->ring_off[r];
        uint32_t n = l->ring_len[r];
        if (n < 2) continue;
        double lx = (p[0] - v->minx) * v->inv_res, ly = (v->maxy - p[1]) * v->inv_res;
        cairo_move_to(cr, lx, ly);
        for (uint32_t k = 1; k < n; k++) {
            double x = (p[2 * k] - v->minx) * v->inv_res, y = (v->maxy - p[2 * k + 1]) * v->inv_res;
            if (k + 1 < n && fabs(x - lx) < v->tol && fabs(y - ly) < v->tol) continue;
            cairo_line_to(cr, x, y);
            lx = x;
            ly = y;
        }
        if (close) cairo_close_path(cr);
    }
}

typedef const render_rgba_t *(*fill_fn)(const render_style_t *s, const render_feature_t *f);

static const render_rgba_t *fill_by_class(const render_style_t *s, const render_feature_t *f) {
    return &s->class_fill[f->load_class];
}

static const render_rgba_t *fill_by_police(const render_style_t *s, const render_feature_t *f) {
    int i = f->aux_officers - s->police_first;
    if (i < 0) i = 0;
    if (i >= s->police_ncolours) i = s->police_ncolours - 1;
    return &s->police_colours[i];
}

static const render_rgba_t *fill_by_circle_type(const render_style_t *s, const render_feature_t *f) {
    return render_style_type_colour(s->circle_types, s->ncircle_types, &s->circle_default, f->type);
}

/* Fills each polygon with its own colour (fill may be NULL), then strokes every outline in one
 * path; returns how many features were drawn. */
static long draw_polygons(cairo_t *cr, render_ctx_t *c, const tile_view_t *v, const render_layer_t *l,
                          const render_style_t *s, fill_fn fill, const render_rgba_t *outline, double width) {
    long n = view_query(c, v, l), drawn = 0;
    if (n <= 0) return 0;
    if (fill) {
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
        const render_rgba_t *cur = NULL;
        for (long i = 0; i < n; i++) {
            const render_feature_t *f = &l->features[c->ids[i]];
            if (f->geom_kind != RENDER_GEOM_POLYGON || too_small(v, f)) continue;
            const render_rgba_t *col = fill(s, f);
            /* consecutive features of one colour share a fill: fewer rasteriser passes */
            if (cur && col != cur) { set_rgba(cr, cur); cairo_fill(cr); }
            cur = col;
            path_feature(cr, v, l, f, 1);
            if (fill == fill_by_circle_type) { set_rgba(cr, cur); cairo_fill(cr); cur = NULL; }
        }
        if (cur) { set_rgba(cr, cur); cairo_fill(cr); }
    }
    if (outline && width > 0) {
        for (long i = 0; i < n; i++) {
            const render_feature_t *f = &l->features[c->ids[i]];
            if (f->geom_kind == RENDER_GEOM_POINT || too_small(v, f)) continue;
            path_feature(cr, v, l, f, f->geom_kind == RENDER_GEOM_POLYGON);
            drawn++;
        }
        set_rgba(cr, outline);
        cairo_set_line_width(cr, width);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        cairo_stroke(cr);
    }
    return drawn ? drawn : n;
}

static long draw_buildings(cairo_t *cr, render_ctx_t *c, const tile_view_t *v, const render_layer_t *l,
                           const render_style_t *s) {
    long n = view_query(c, v, l), drawn = 0;
    if (n <= 0) return 0;
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
    for (long i = 0; i < n; i++) {
        const render_feature_t *f = &l->features[c->ids[i]];
        if (f->geom_kind == RENDER_GEOM_POLYGON) {
            path_feature(cr, v, l, f, 1);
        } else {
            const double *p = l->xy + 2 * (size_t)l->ring_off[f->ring_first];
            double x = (p[0] - v->minx) * v->inv_res, y = (v->maxy - p[1]) * v->inv_res;
            cairo_new_sub_path(cr);
            cairo_arc(cr, x, y, s->building_point_radius, 0, 2 * M_PI);
            cairo_close_path(cr);
        }
        drawn++;
    }
    set_rgba(cr, &s->building_fill);
    cairo_fill_preserve(cr);
    set_rgba(cr, &s->building_outline);
    cairo_set_line_width(cr, s->building_outline_width);
    cairo_stroke(cr);
    return drawn;
}

/* Dots are batched: one fill per type colour, then every white ring in one stroke (two rasteriser
 * passes per colour instead of two per dot; measured ~2x faster on crowded z13 tiles). */
static long draw_facilities(cairo_t *cr, render_ctx_t *c, const tile_view_t *v, const render_layer_t *l,
                            const render_style_t *s) {
    long n = view_query(c, v, l);
    if (n <= 0) return 0;
    for (int t = -1; t < s->nfacility_types; t++) {
        const render_rgba_t *col = t < 0 ? &s->facility_default : &s->facility_types[t].colour;
        int any = 0;
        for (long i = 0; i < n; i++) {
            const render_feature_t *f = &l->features[c->ids[i]];
            if (render_style_type_colour(s->facility_types, s->nfacility_types, &s->facility_default, f->type) != col)
                continue;
            double x = ((f->minx + f->maxx) / 2 - v->minx) * v->inv_res;
            double y = (v->maxy - (f->miny + f->maxy) / 2) * v->inv_res;
            cairo_new_sub_path(cr);
            cairo_arc(cr, x, y, s->facility_radius, 0, 2 * M_PI);
            any = 1;
        }
        if (!any) continue;
        set_rgba(cr, col);
        cairo_fill(cr);
    }
    for (long i = 0; i < n; i++) {
        const render_feature_t *f = &l->features[c->ids[i]];
        double x = ((f->minx + f->maxx) / 2 - v->minx) * v->inv_res;
        double y = (v->maxy - (f->miny + f->maxy) / 2) * v->inv_res;
        cairo_new_sub_path(cr);
        cairo_arc(cr, x, y, s->facility_radius, 0, 2 * M_PI);
    }
    cairo_set_line_width(cr, s->facility_outline_width);
    set_rgba(cr, &s->facility_outline);
    cairo_stroke(cr);
    return n;
}

static long draw_labels(cairo_t *cr, const tile_view_t *v, const render_layer_t *l, const render_scene_t *sc,
                        uint32_t x, uint32_t y) {
    if (!l || v->z < 0 || !l->nlabels[v->z]) return 0;
    /* glyph outlines keep full-quality antialiasing whatever the geometry uses */
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_GOOD);
    render_label_draw(cr, l, &sc->style, sc->font, v->z, (double)x * TILE_SIZE, (double)y * TILE_SIZE);
    return 1;
}

int render_tile(render_ctx_t *c, const render_scene_t *sc, int layer, int z, uint32_t x, uint32_t y, int scale,
                buf_t *out, int *empty, char *err, size_t errlen) {
    if (layer < 0 || layer >= RENDER_NLAYERS) return err_set(err, errlen, GP_EINVAL, "unknown tile layer %d", layer);
    if (!tile_valid(z, x, y)) return err_set(err, errlen, GP_EINVAL, "tile %d/%u/%u is outside the world", z, x, y);
    if (scale != 1 && scale != 2) return err_set(err, errlen, GP_EINVAL, "tile scale %d is not 1 or 2", scale);
    const render_style_t *s = &sc->style;
    tile_view_t v = {.z = z};
    tile_bounds(z, x, y, &v.minx, &v.miny, &v.maxx, &v.maxy);
    v.res = tile_resolution(z);
    v.inv_res = 1.0 / v.res;
    v.tol = 0.3 / scale;
    double m = RENDER_MARGIN_PX * v.res;
    v.qminx = v.minx - m;
    v.qminy = v.miny - m;
    v.qmaxx = v.maxx + m;
    v.qmaxy = v.maxy + m;

    cairo_surface_t *surf = c->surface[scale - 1];
    c->last = surf;
    cairo_surface_flush(surf);
    memset(cairo_image_surface_get_data(surf), 0,
           (size_t)cairo_image_surface_get_stride(surf) * cairo_image_surface_get_height(surf));
    cairo_surface_mark_dirty(surf);
    cairo_t *cr = cairo_create(surf);
    cairo_scale(cr, scale, scale);
    cairo_set_antialias(cr, s->antialias_fast ? CAIRO_ANTIALIAS_FAST : CAIRO_ANTIALIAS_GOOD);
    render_layer_t *const *L = sc->layers;
    long drawn = 0;
    switch (layer) {
    case RENDER_LAYER_COMMUNITIES:
        drawn += draw_polygons(cr, c, &v, L[RENDER_SRC_COMMUNITIES], s, fill_by_class, &s->community_outline,
                               s->community_outline_width);
        drawn += draw_labels(cr, &v, L[RENDER_SRC_COMMUNITIES], sc, x, y);
        break;
    case RENDER_LAYER_POLICE:
        drawn += draw_polygons(cr, c, &v, L[RENDER_SRC_COMMUNITIES], s, fill_by_police, &s->community_outline,
                               s->community_outline_width);
        drawn += draw_labels(cr, &v, L[RENDER_SRC_COMMUNITIES], sc, x, y);
        break;
    case RENDER_LAYER_GRIDS:
        if (z >= s->grid_min_zoom) {
            drawn += draw_polygons(cr, c, &v, L[RENDER_SRC_GRIDS], s, NULL, &s->grid_outline, s->grid_outline_width);
            drawn += draw_labels(cr, &v, L[RENDER_SRC_GRIDS], sc, x, y);
        }
        break;
    case RENDER_LAYER_BUILDINGS:
        if (z >= s->building_min_zoom) drawn += draw_buildings(cr, c, &v, L[RENDER_SRC_BUILDINGS], s);
        break;
    case RENDER_LAYER_FACILITIES:
        if (z >= s->facility_min_zoom) drawn += draw_facilities(cr, c, &v, L[RENDER_SRC_FACILITIES], s);
        break;
    case RENDER_LAYER_CIRCLES:
        drawn += draw_polygons(cr, c, &v, L[RENDER_SRC_CIRCLES], s, fill_by_circle_type, NULL, 0);
        break;
    case RENDER_LAYER_DEFAULT:
        drawn += draw_polygons(cr, c, &v, L[RENDER_SRC_COMMUNITIES], s, fill_by_class, NULL, 0);
        if (z >= s->grid_composite_min_zoom)
            drawn += draw_polygons(cr, c, &v, L[RENDER_SRC_GRIDS], s, NULL, &s->grid_outline, s->grid_outline_width);
        if (z >= s->building_composite_min_zoom) drawn += draw_buildings(cr, c, &v, L[RENDER_SRC_BUILDINGS], s);
        drawn += draw_polygons(cr, c, &v, L[RENDER_SRC_COMMUNITIES], s, NULL, &s->community_outline,
                               s->community_outline_width);
        if (z >= s->facility_min_zoom) drawn += draw_facilities(cr, c, &v, L[RENDER_SRC_FACILITIES], s);
        drawn += draw_labels(cr, &v, L[RENDER_SRC_COMMUNITIES], sc, x, y);
        break;
    }
    cairo_status_t cst = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(surf);
    if (cst != CAIRO_STATUS_SUCCESS)
        return err_set(err, errlen, GP_ENOMEM, "cairo failed on tile %d/%u/%u: %s", z, x, y,
                       cairo_status_to_string(cst));
    *empty = drawn == 0;
    int size = TILE_SIZE * scale, stride = cairo_image_surface_get_stride(surf);
    const uint32_t *px = (const uint32_t *)cairo_image_surface_get_data(surf);
    if (*empty) {
        buf_t *e = &c->empty_png[scale - 1];
        if (e->len == 0 && render_png_encode(px, size, size, stride, PNG_LEVEL, 0, e) != 0)
            return err_set(err, errlen, GP_ENOMEM, "out of memory encoding a PNG");
        return buf_append(out, e->data, e->len) == 0 ? 0 : err_set(err, errlen, GP_ENOMEM, "out of memory");
    }
    if (render_png_encode(px, size, size, stride, PNG_LEVEL, s->png_quantize, out) != 0)
        return err_set(err, errlen, GP_ENOMEM, "out of memory encoding a PNG");
    return 0;
}
