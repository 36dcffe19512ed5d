/* render_label.c — FreeType/cairo-ft font, per-zoom greedy label placement, drawing, diffing. */
#include "render_label.h"
#include "err.h"
#include "geo.h"
#include "tile.h"
#include <cairo-ft.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One FreeType library for the process: cairo-ft locks each face it uses, and faces are only
 * created at scene load. */
static FT_Library label_ft;
static pthread_mutex_t label_ft_lock = PTHREAD_MUTEX_INITIALIZER;
static const cairo_user_data_key_t label_face_key;

static void label_face_done(void *face) {
    pthread_mutex_lock(&label_ft_lock);
    FT_Done_Face((FT_Face)face);
    pthread_mutex_unlock(&label_ft_lock);
}

int render_label_font_open(const char *path, void **font, char *err, size_t errlen) {
    FT_Face face;
    pthread_mutex_lock(&label_ft_lock);
    int ok = (label_ft || FT_Init_FreeType(&label_ft) == 0) && FT_New_Face(label_ft, path, 0, &face) == 0;
    pthread_mutex_unlock(&label_ft_lock);
    if (!ok) return err_set(err, errlen, GP_ENOTFOUND, "%s: cannot open the label font (FreeType)", path);
    cairo_font_face_t *cf = cairo_ft_font_face_create_for_ft_face(face, 0);
    if (cairo_font_face_set_user_data(cf, &label_face_key, face, label_face_done) != CAIRO_STATUS_SUCCESS) {
        cairo_font_face_destroy(cf);
        label_face_done(face);
        return err_set(err, errlen, GP_ENOMEM, "out of memory opening %s", path);
    }
    *font = cf;
    return 0;
}

void *render_label_font_ref(void *font) {
    return font ? cairo_font_face_reference((cairo_font_face_t *)font) : NULL;
}

void render_label_font_close(void *font) {
    if (font) cairo_font_face_destroy((cairo_font_face_t *)font);
}

static const char *label_text(const render_layer_t *l, const render_feature_t *f) {
    return l->src == RENDER_SRC_GRIDS ? f->code : f->name;
}

typedef struct label_candidate {
    uint32_t feature;
    double w, h, ascent;
} label_candidate_t;

static const render_layer_t *sort_layer;

static int by_priority(const void *a, const void *b) {
    const render_feature_t *fa = &sort_layer->features[((const label_candidate_t *)a)->feature];
    const render_feature_t *fb = &sort_layer->features[((const label_candidate_t *)b)->feature];
    if (fa->households != fb->households) return fa->households > fb->households ? -1 : 1;
    return fa->fid < fb->fid ? -1 : fa->fid > fb->fid;
}

static int by_position(const void *a, const void *b) {
    const render_label_t *x = a, *y = b;
    if (x->cx != y->cx) return x->cx < y->cx ? -1 : 1;
    if (x->cy != y->cy) return x->cy < y->cy ? -1 : 1;
    return x->feature < y->feature ? -1 : x->feature > y->feature;
}

static double label_size(const render_layer_t *l, const render_style_t *s) {
    return l->src == RENDER_SRC_GRIDS ? s->grid_code_size : s->label_size;
}

int render_label_place(render_layer_t *l, const render_style_t *s, void *font) {
    static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;
    int minz = l->src == RENDER_SRC_GRIDS ? s->grid_code_min_zoom : s->label_min_zoom;
    label_candidate_t *cand = calloc(l->n ? l->n : 1, sizeof *cand);
    render_label_t *placed = calloc(l->n ? l->n : 1, sizeof *placed);
    if (!cand || !placed) { free(cand); free(placed); return GP_ENOMEM; }
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1);
    cairo_t *cr = cairo_create(surf);
    cairo_set_font_face(cr, (cairo_font_face_t *)font);
    cairo_set_font_size(cr, label_size(l, s));
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    size_t nc = 0;
    for (size_t i = 0; i < l->n; i++) {
        const char *text = label_text(l, &l->features[i]);
        if (!text[0] || l->features[i].geom_kind != RENDER_GEOM_POLYGON) continue;
        cairo_text_extents_t te;
        cairo_text_extents(cr, text, &te);
        cand[nc].feature = (uint32_t)i;
        cand[nc].w = ceil(te.x_advance);
        cand[nc].h = ceil(fe.ascent + fe.descent);
        nc++;
    }
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
    pthread_mutex_lock(&sort_lock);
    sort_layer = l;
    qsort(cand, nc, sizeof *cand, by_priority);
    pthread_mutex_unlock(&sort_lock);

    int rc = 0;
    for (int z = minz < 0 ? 0 : minz; z <= TILE_MAX_ZOOM && rc == 0; z++) {
        double res = tile_resolution(z), pad = s->label_padding;
        size_t np = 0;
        for (size_t k = 0; k < nc; k++) {
            const render_feature_t *f = &l->features[cand[k].feature];
            double radius = f->anchor_radius > 0 ? f->anchor_radius
                                                 : fmin(f->maxx - f->minx, f->maxy - f->miny) / 2;
            /* the name must roughly fit the polygon: it may overhang a narrow shape a little */
            if (cand[k].w > 2.6 * radius / res || cand[k].h > 2.0 * radius / res) continue;
            double cx = round((f->anchor_x + GEO_MERC_HALF) / res);
            double cy = round((GEO_MERC_HALF - f->anchor_y) / res);
            double hw = cand[k].w / 2 + pad, hh = cand[k].h / 2 + pad;
            int clash = 0;
            for (size_t j = 0; j < np && !clash; j++)
                clash = fabs(placed[j].cx - cx) < hw + placed[j].w / 2 + pad &&
                        fabs(placed[j].cy - cy) < hh + placed[j].h / 2 + pad;
            if (clash) continue;
            placed[np++] = (render_label_t){cand[k].feature, cx, cy, cand[k].w, cand[k].h};
        }
        qsort(placed, np, sizeof *placed, by_position);
        l->labels[z] = malloc((np ? np : 1) * sizeof *placed);
        if (!l->labels[z]) { rc = GP_ENOMEM; break; }
        memcpy(l->labels[z], placed, np * sizeof *placed);
        l->nlabels[z] = (uint32_t)np;
    }
    free(cand);
    free(placed);
    return rc;
}

/* Halo and glyph outlines can reach past the advance box by this much (logical pixels). */
static double label_overhang(const render_style_t *s) {
    return s->label_halo_width + 2;
}

void render_label_draw(cairo_t *cr, const render_layer_t *l, const render_style_t *s, void *font, int z,
                       double ox, double oy) {
    if (!l || z < 0 || z > TILE_MAX_ZOOM || !l->nlabels[z]) return;
    const render_label_t *lab = l->labels[z];
    uint32_t n = l->nlabels[z];
    double over = label_overhang(s), maxw = 0;
    for (uint32_t i = 0; i < n; i++) maxw = fmax(maxw, lab[i].w);
    /* labels are sorted by cx: skip those wholly left of the tile */
    uint32_t lo = 0, hi = n;
    double left = ox - maxw / 2 - over;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (lab[mid].cx < left) lo = mid + 1; else hi = mid;
    }
    int set = 0;
    cairo_font_extents_t fe;
    for (uint32_t i = lo; i < n && lab[i].cx - maxw / 2 - over <= ox + TILE_SIZE; i++) {
        const render_label_t *a = &lab[i];
        if (a->cx + a->w / 2 + over < ox || a->cx - a->w / 2 - over > ox + TILE_SIZE) continue;
        if (a->cy + a->h / 2 + over < oy || a->cy - a->h / 2 - over > oy + TILE_SIZE) continue;
        if (!set) {
            cairo_set_font_face(cr, (cairo_font_face_t *)font);
            cairo_set_font_size(cr, label_size(l, s));
            cairo_font_extents(cr, &fe);
            cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
            set = 1;
        }
        const render_rgba_t *col = l->src == RENDER_SRC_GRIDS ? &s->grid_code_colour : &s->label_colour;
        double x = a->cx - ox - a->w / 2;
        double y = a->cy - oy + round((fe.ascent - fe.descent) / 2);
        cairo_new_path(cr);
        cairo_move_to(cr, x, y);
        cairo_text_path(cr, label_text(l, &l->features[a->feature]));
        cairo_set_source_rgba(cr, s->label_halo.r, s->label_halo.g, s->label_halo.b, s->label_halo.a);
        cairo_set_line_width(cr, 2 * s->label_halo_width);
        cairo_stroke_preserve(cr);
        cairo_set_source_rgba(cr, col->r, col->g, col->b, col->a);
        cairo_fill(cr);
    }
}

void render_label_diff(const render_layer_t *a, const render_layer_t *b, int z,
                       void (*visit)(void *user, int z, double minx, double miny, double maxx, double maxy),
                       void *user) {
    if (!a || z < 0 || z > TILE_MAX_ZOOM) return;
    const render_label_t *bl = b ? b->labels[z] : NULL;
    uint32_t bn = b ? b->nlabels[z] : 0;
    double over = 8;
    for (uint32_t i = 0; i < a->nlabels[z]; i++) {
        const render_label_t *x = &a->labels[z][i];
        const char *tx = label_text(a, &a->features[x->feature]);
        uint32_t lo = 0, hi = bn;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (bl[mid].cx < x->cx || (bl[mid].cx == x->cx && bl[mid].cy < x->cy)) lo = mid + 1; else hi = mid;
        }
        int same = 0;
        for (uint32_t j = lo; j < bn && bl[j].cx == x->cx && bl[j].cy == x->cy && !same; j++)
            same = bl[j].w == x->w && bl[j].h == x->h && !strcmp(tx, label_text(b, &b->features[bl[j].feature]));
        if (!same)
            visit(user, z, x->cx - x->w / 2 - over, x->cy - x->h / 2 - over, x->cx + x->w / 2 + over,
                  x->cy + x->h / 2 + over);
    }
}
